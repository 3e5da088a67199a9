/*
 * A transfer's timer: the round trip estimated (RFC 6298, Karn), the
 * timeout it gives, its backoff, and what a timeout or a repeated
 * request sends again, or gives up.
 */
#include "config.h"

#include <stdint.h>

#include "stats.h"
#include "timer.h"
#include "xfer-int.h"
#include "xfer.h"

#define XFER_RTO_BACKOFF_CAP	8	/* backoff stops at 8x the base */
#define XFER_MC_PROMOTE_TRIES	2	/* OACK resends to a new master client */

void
xfer_arm(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	timer_set(ctx->timers, &x->timer, now + x->rto_us);
}

/* The client negotiated timeout or utimeout (and it governs: unicast). */
static int
client_rto(const struct xfer *x)
{
	return x->opts.timeout_us != 0 && x->mc.session == NULL;
}

/*
 * The client's timeout, else ours.  A multicast client's own timeout
 * would also hold up every other client of its session (a silent one
 * asking for 255 s could stall it for an hour): there ours governs.
 */
uint64_t
xfer_base_rto(const struct xfer_ctx *ctx, const struct xfer *x)
{
	if (client_rto(x))
		return x->opts.timeout_us;
	return (uint64_t)ctx->conf->timeout_ms * 1000;
}

/* Something that expects an answer left just now, for the first time. */
void
xfer_mark_sent(struct xfer *x, uint64_t now)
{
	x->sent_at_us = now;
	x->rtt_ok = 1;
}

/*
 * The answer came: fold the round trip into the RFC 6298 estimator.
 * Only packets sent once give a sample (Karn), so a retransmission
 * never teaches us a wrong RTT.  Nor does an answer that came after our
 * timeout was due (its timer had not run yet): it is most likely the
 * client's own retransmission after a lost answer, and one such sample
 * of a whole client timer would inflate the timeout for many round trips.
 */
static void
rtt_sample(struct xfer *x, uint64_t now)
{
	uint64_t	 r, diff;

	if (!x->rtt_ok || now < x->sent_at_us)
		return;
	x->rtt_ok = 0;
	r = now - x->sent_at_us;
	if (r >= x->rto_us)
		return;
	if (x->srtt_us == 0) {
		x->srtt_us = r > 0 ? r : 1;
		x->rttvar_us = r / 2;
		return;
	}
	diff = x->srtt_us > r ? x->srtt_us - r : r - x->srtt_us;
	x->rttvar_us = (3 * x->rttvar_us + diff) / 4;
	x->srtt_us = (7 * x->srtt_us + r) / 8;
	if (x->srtt_us == 0)
		x->srtt_us = 1;
}

/*
 * The timeout after progress.  A timeout the client negotiated is the
 * one it asked for (RFC 2349): never less, whatever the round trip.
 * Otherwise ours until a round trip has been measured, then SRTT + 4
 * RTTVAR within [rto_min, 8 x timeout_ms]: a lossy link then recovers in
 * a few round trips instead of whole seconds.
 */
uint64_t
xfer_adapted_rto(const struct xfer_ctx *ctx, const struct xfer *x)
{
	uint64_t	 base = xfer_base_rto(ctx, x), lo, hi, rto;

	if (x->srtt_us == 0 || client_rto(x))
		return base;
	lo = (uint64_t)ctx->conf->rto_min_ms * 1000;
	hi = base * XFER_RTO_BACKOFF_CAP;
	rto = x->srtt_us + 4 * x->rttvar_us;
	if (rto < lo)
		rto = lo;
	if (rto > hi)
		rto = hi;
	return rto;
}

/*
 * Progress: fold in a sample if there is one, and go back from any
 * backoff to the adapted timeout (why not keep the backoff: design.md).
 */
void
xfer_rtt_progress(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	rtt_sample(x, now);
	x->rto_us = xfer_adapted_rto(ctx, x);
}

enum xfer_result
xfer_timeout(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uint64_t	 cap;

	if (x->state == XFER_S_DALLY)
		return xfer_finish(x, XFER_END_OK);
	if (x->state == XFER_S_FETCHING)
		return xfer_origin_timeout(ctx, x);
	/*
	 * Give up after retries timeouts, but never sooner than the client
	 * would have had without adaptation: a fast-adapted timeout must
	 * not turn a busy client's pause into a failed transfer.
	 */
	if (++x->tries > ctx->conf->retries && now - x->progress_at >=
	    xfer_base_rto(ctx, x) * (ctx->conf->retries + 1))
		return xfer_fail(ctx, x, TFTP_E_UNDEF, "timed out",
		    XFER_END_TIMEOUT);
	/*
	 * RFC 2090: a client made master must answer "in a timely manner"
	 * or the next one is asked; a forged joiner (nothing tells it from
	 * a silent real one) must not hold the session up for long.
	 */
	if (x->state == XFER_S_OACK_SENT && x->mc_promoted &&
	    x->tries > XFER_MC_PROMOTE_TRIES && now - x->progress_at >=
	    xfer_base_rto(ctx, x) * (XFER_MC_PROMOTE_TRIES + 1))
		return xfer_fail(ctx, x, TFTP_E_UNDEF, "no answer as master client",
		    XFER_END_TIMEOUT);
	cap = xfer_base_rto(ctx, x) * XFER_RTO_BACKOFF_CAP;
	x->rto_us = x->rto_us * 2 > cap ? cap : x->rto_us * 2;
	x->rtt_ok = 0;
	x->repeat_at_us = now;	/* a repeated request right after: no more */

	switch (x->state) {
	case XFER_S_OACK_SENT:
		xfer_send_oack(ctx, x);
		x->retrans++;
		ctx->stats->retrans++;
		break;
	case XFER_S_SENDING:
		x->retrans += x->sent - x->acked;
		ctx->stats->retrans += x->sent - x->acked;
		if (xfer_send_window(ctx, x, now) != XFER_LIVE)
			return XFER_FINISHED;
		x->rtt_ok = 0;	/* Karn: no sample from a resent window */
		return XFER_LIVE;
	case XFER_S_RECEIVING:
		xfer_send_ack(ctx, x, x->expect - 1);
		x->inwindow = 0;
		x->retrans++;
		ctx->stats->retrans++;
		break;
	default:
		return XFER_LIVE;
	}
	xfer_arm(ctx, x, now);
	return XFER_LIVE;
}

void
xfer_repeat(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uint64_t	 last = x->repeat_at_us > x->progress_at ?
			    x->repeat_at_us : x->progress_at;

	/* A waiting multicast client lost its OACK: nothing else would
	 * tell it the group. */
	if (x->state == XFER_S_MC_WAIT) {
		xfer_send_oack(ctx, x);
		return;
	}
	/*
	 * The client asked again before anything was acknowledged: our
	 * first answer was lost, or its timer is shorter than ours.  Say it
	 * again now rather than after our (doubling) timer: some clients
	 * give up after a few of their own timeouts.  A burst of copies of
	 * the request gets one answer; later ones at most one per rto_min.
	 */
	if (now - last < (uint64_t)ctx->conf->rto_min_ms * 1000)
		return;
	switch (x->state) {
	case XFER_S_OACK_SENT:
		xfer_send_oack(ctx, x);
		break;
	case XFER_S_SENDING:
		if (x->acked != 0 || x->oack || x->mc.session != NULL ||
		    xfer_send_run(ctx, x, 1, 1) == -1)
			return;
		xfer_count_dup(ctx, x, 1);
		break;
	case XFER_S_RECEIVING:
		if (x->expect != 1 || x->oack)
			return;
		xfer_send_ack(ctx, x, 0);
		break;
	default:
		return;
	}
	x->repeat_at_us = now;
	x->rtt_ok = 0;		/* Karn: which copy is answered is unknown */
	x->retrans++;
	ctx->stats->retrans++;
}
