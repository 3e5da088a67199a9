/*
 * The transfer state machine.  Block numbers are kept absolute (64 bits)
 * and mapped to the 16-bit wire number only at the edge, so rollover
 * past 65535 needs no special case.  The only ways out are the sink
 * (datagrams), the timer heap and fs.  This file starts a transfer,
 * dispatches its packets by state and ends it; the read side, the write
 * side, the timer and the report are its other files (xfer-int.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "chan.h"
#include "clients.h"
#include "compat.h"
#include "fcache.h"
#include "log.h"
#include "pkt.h"
#include "sock.h"
#include "stats.h"
#include "xfer-int.h"
#include "xfer.h"

#define XFER_ERRMSG_MAX		128
#define XFER_RECLAIM_DALLY_TIMEOUTS 2	/* see xfer_reclaimable() */

#define xfer_of_member(c) \
	((struct xfer *)((char *)(c) - offsetof(struct xfer, mc)))

static const char *const state_names[] = {
#define XFER_X_NAME(name, text)	text,
	XFER_STATES(XFER_X_NAME)
#undef XFER_X_NAME
};

int
xfer_ctx_init(struct xfer_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	TAILQ_INIT(&ctx->dally);
	if ((ctx->logs = calloc(1, sizeof *ctx->logs)) == NULL)
		return -1;
	readahead_pool_init(&ctx->ra, READAHEAD_BUDGET);
	return 0;
}

void
xfer_ctx_clear(struct xfer_ctx *ctx)
{
	readahead_pool_clear(&ctx->ra);
	free(ctx->logs);
	ctx->logs = NULL;
}

const char *
xfer_state_str(enum xfer_state s)
{
	return (unsigned)s < XFER_S_MAX ? state_names[s] : "?";
}

void
xfer_set_state(struct xfer *x, enum xfer_state s)
{
	assert((unsigned)s < XFER_S_MAX);
	if (log_enabled(LOG_DEBUG)) {
		char	 peer[SOCK_ADDRSTR_MAX];

		log_debug("xfer %s: %s -> %s", sock_ntop((struct sockaddr *)
		    &x->peer, peer, sizeof peer), state_names[x->state],
		    state_names[s]);
	}
	x->state = s;
}

enum xfer_result
xfer_finish(struct xfer *x, enum xfer_end_result r)
{
	x->result = r;
	if (x->mc.session != NULL)
		mcast_finished(&x->mc);
	xfer_set_state(x, XFER_S_DONE);
	return XFER_FINISHED;
}

static void
send_error_to(struct xfer_ctx *ctx, const struct xfer *x, uint16_t code,
    const char *msg)
{
	uint8_t	*buf;
	size_t	 len, cap = PKT_HDR_LEN + XFER_ERRMSG_MAX + 1;

	if (msg == NULL)
		msg = pkt_err_str(code);
	if ((buf = ctx->sink.stage(ctx->sink.arg, cap)) == NULL)
		return;
	len = pkt_encode_error(buf, cap, code, msg);
	ctx->sink.commit(ctx->sink.arg, x, len, 0);
	stats_error_sent(ctx->stats, code);
}

/* A stand-in transfer for the sender of d, which has none: answers to
 * it leave from fd. */
static void
stand_in(struct xfer *tmpl, const struct io_dgram *d, int fd)
{
	memset(tmpl, 0, sizeof *tmpl);
	memcpy(&tmpl->peer, &d->peer, d->peerlen);
	tmpl->peerlen = d->peerlen;
	tmpl->local = d->local;
	tmpl->sockfd = fd;
}

void
xfer_send_error(struct xfer_ctx *ctx, const struct io_dgram *d, int fd,
    uint16_t code, const char *msg)
{
	struct xfer	 tmpl;

	stand_in(&tmpl, d, fd);
	send_error_to(ctx, &tmpl, code, msg);
}

/* A transfer for the client's address began: it counts against its
 * max_transfers_per_client. */
static void
count_client(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	if (ctx->clients == NULL)
		return;
	clients_xfer_start(ctx->clients, (struct sockaddr *)&x->peer, now);
	x->client_counted = 1;
}

static void
uncount_client(struct xfer_ctx *ctx, struct xfer *x)
{
	if (x->client_counted)
		clients_xfer_end(ctx->clients, (struct sockaddr *)&x->peer);
	x->client_counted = 0;
}

/*
 * An upload that is done (on disk, reported) only stays to re-ACK a
 * repeated last DATA.  It no longer counts against its client's
 * max_transfers_per_client (a client sending files one after another
 * would be refused for 8 s), and its slot goes to a new request when
 * the pool is full (xfer_reclaimable()), oldest first.
 */
void
xfer_dally_begin(struct xfer_ctx *ctx, struct xfer *x)
{
	uncount_client(ctx, x);
	TAILQ_INSERT_TAIL(&ctx->dally, x, dally_entry);
	x->dally_listed = 1;
}

struct xfer *
xfer_reclaimable(const struct xfer_ctx *ctx, uint64_t now)
{
	struct xfer	*x = TAILQ_FIRST(&ctx->dally);

	if (x == NULL || now - x->progress_at < XFER_RECLAIM_DALLY_TIMEOUTS *
	    (uint64_t)ctx->conf->timeout_ms * 1000)
		return NULL;
	return x;
}

/*
 * Answer with ERROR and end the transfer with result r.  TFTP_E_NOFD (no
 * descriptor left, even after closing cached files) is ERROR 0 "server
 * busy": the client may well succeed a moment later.
 */
enum xfer_result
xfer_fail(struct xfer_ctx *ctx, struct xfer *x, uint16_t code, const char *msg,
    enum xfer_end_result r)
{
	if (code == TFTP_E_NOFD) {
		ctx->stats->fd_refused++;
		x->nofd = 1;
		code = TFTP_E_UNDEF;
		msg = "server busy";
	}
	if ((x->detail = fs_perm_reason(code)) != NULL) {
		ctx->stats->perm_denied++;
		code = TFTP_E_ACCESS;
	}
	send_error_to(ctx, x, code, msg);
	x->errcode = code;
	x->errmsg = msg != NULL ? msg : pkt_err_str(code);
	return xfer_finish(x, r);
}

enum stats_refusal
xfer_refusal(enum xfer_at at, enum tftp_err code, const struct xfer_ctx *ctx)
{
	/* Wherever they come from, these say the same. */
	switch (code) {
	case TFTP_E_PERM_READ:
	case TFTP_E_PERM_WRITE:
		return STATS_R_PERMISSION;
	case TFTP_E_NOFD:
		return STATS_R_BUSY;
	default:
		break;
	}
	switch (at) {
	case XFER_AT_MODE:
		return STATS_R_BAD_MODE;
	case XFER_AT_ACL:
		return STATS_R_ACL;
	case XFER_AT_REMAP:
		return STATS_R_REMAP_DENY;
	case XFER_AT_NAME:
		return STATS_R_TRAVERSAL;
	case XFER_AT_OPTIONS:
		if (code == TFTP_E_DISKFULL)
			return STATS_R_TOO_LARGE;
		return code == TFTP_E_OPTNEG ? STATS_R_BAD_OPTION :
		    STATS_R_OTHER;
	case XFER_AT_UPLOAD:
		/* fs_upload_begin() refuses every name with uploads off. */
		if (ctx->conf->uploads == FS_UPLOAD_OFF)
			return STATS_R_UPLOADS_OFF;
		if (code == TFTP_E_EXISTS)
			return STATS_R_EXISTS;
		/* FALLTHROUGH */
	case XFER_AT_OPEN:
		/* The name was valid: an ACCESS is about what it names
		 * (EACCES, a link out of the root, not a regular file). */
		if (code == TFTP_E_NOTFOUND)
			return STATS_R_NOT_FOUND;
		return code == TFTP_E_ACCESS ? STATS_R_ACCESS : STATS_R_OTHER;
	case XFER_AT_UPLOAD_SIZE:
		return STATS_R_TOO_LARGE;
	}
	return STATS_R_OTHER;
}

/* Refuse the request at a point, with the reason that follows. */
enum xfer_result
xfer_refuse(struct xfer_ctx *ctx, struct xfer *x, enum xfer_at at,
    uint16_t code, const char *msg)
{
	x->refusal = xfer_refusal(at, code, ctx);
	return xfer_fail(ctx, x, code, msg, XFER_END_REFUSED);
}

void
xfer_send_oack(struct xfer_ctx *ctx, struct xfer *x)
{
	uint8_t			*buf;
	size_t			 len, cap = 512;

	/*
	 * A new master client's OACK repeats every option granted, not just
	 * multicast: if its first OACK was lost, this one is all it knows
	 * of the transfer (its blksize above all).
	 */
	if ((buf = ctx->sink.stage(ctx->sink.arg, cap)) == NULL)
		return;
	if ((len = opt_encode_oack(&x->opts, buf, cap)) == 0)
		return;
	ctx->sink.commit(ctx->sink.arg, x, len, 0);
}

void
xfer_send_ack(struct xfer_ctx *ctx, struct xfer *x, uint64_t k)
{
	uint8_t	*buf;
	size_t	 len;

	if ((buf = ctx->sink.stage(ctx->sink.arg, PKT_HDR_LEN)) == NULL)
		return;
	len = pkt_encode_ack(buf, PKT_HDR_LEN, wire_block(x, k));
	ctx->sink.commit(ctx->sink.arg, x, len, 0);
}

/*
 * An open failed for want of a descriptor: close idle cached files to
 * make room.  Whether trying again may help.
 */
int
xfer_make_room(struct xfer_ctx *ctx)
{
	return ctx->fcache != NULL &&
	    fcache_shrink(ctx->fcache, FS_FDS_MAX) > 0;
}

static void
count_options(struct xfer_ctx *ctx, const struct opt_set *o)
{
	if (o->accepted & OPT_F_BLKSIZE)
		ctx->stats->opt_blksize++;
	if (o->accepted & OPT_F_WINDOWSIZE)
		ctx->stats->opt_windowsize++;
	if (o->accepted & OPT_F_TSIZE)
		ctx->stats->opt_tsize++;
	if (o->accepted & (OPT_F_TIMEOUT | OPT_F_UTIMEOUT))
		ctx->stats->opt_timeout++;
}

/*
 * A transfer for the request: who, what, since when, with the mode and
 * options admission settled (or got as far as).
 */
static void
begin(struct xfer_ctx *ctx, struct xfer *x, const struct pkt *p,
    const struct admission *a, const struct io_local *local, int sockfd,
    uint64_t now)
{
	x->local = *local;
	x->sockfd = sockfd;
	x->op = p->op;
	x->netascii = a->netascii;
	x->opts = a->opts;
	x->fd = -1;
	x->fce = NULL;
	x->fc = NULL;
	x->origin_id = 0;
	x->origin_dynamic = 0;
	x->reported = 0;
	x->nofd = 0;
	x->refusal = STATS_R_NONE;
	x->detail = NULL;
	(void)strlcpy(x->path, a->remapped, sizeof x->path);
	x->start_us = now;
	x->progress_at = now;
	fs_upload_init(&x->up);
	timer_entry_init(&x->timer);
	(void)snprintf(x->name, sizeof x->name, "%.*s",
	    (int)(p->u.req.filelen < sizeof x->name ? p->u.req.filelen :
	    sizeof x->name - 1), p->u.req.file);
	if (x->op == TFTP_OP_RRQ)
		ctx->stats->rrq++;
	else
		ctx->stats->wrq++;
}

/* The first answer: OACK, ACK 0 or the first window; the timer. */
static enum xfer_result
first_send(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	count_options(ctx, &x->opts);
	x->oack = x->opts.accepted != 0;
	x->rto_us = xfer_base_rto(ctx, x);
	if (x->mc.session != NULL) {
		ctx->stats->mcast_clients++;
		if (x->mc.master)
			ctx->stats->mcast_sessions++;
	}
	if (x->oack) {
		xfer_send_oack(ctx, x);
		if (x->mc.session != NULL && !x->mc.master) {
			/* It listens to the group; an OACK gives it its turn. */
			xfer_set_state(x, XFER_S_MC_WAIT);
			return XFER_LIVE;
		}
		xfer_set_state(x, XFER_S_OACK_SENT);
		xfer_mark_sent(x, now);
		xfer_arm(ctx, x, now);
		return XFER_LIVE;
	}
	if (x->op == TFTP_OP_WRQ) {
		xfer_send_ack(ctx, x, 0);
		xfer_set_state(x, XFER_S_RECEIVING);
		xfer_mark_sent(x, now);
		xfer_arm(ctx, x, now);
		return XFER_LIVE;
	}
	xfer_set_state(x, XFER_S_SENDING);
	return xfer_send_window(ctx, x, now);
}

enum xfer_result
xfer_request(struct xfer_ctx *ctx, struct xfer *x, const struct pkt *p,
    const struct admission *a, const struct io_local *local, int sockfd,
    uint64_t now)
{
	enum xfer_result	 r;

	assert(a->asked);
	begin(ctx, x, p, a, local, sockfd, now);
	if (a->verdict == ADMIT_REFUSE) {
		if (a->reason == STATS_R_ACL)
			ctx->stats->acl_denied++;
		else if (a->reason == STATS_R_REMAP_DENY)
			ctx->stats->remap_denied++;
		x->refusal = a->reason;
		return xfer_fail(ctx, x, a->code, a->msg, XFER_END_REFUSED);
	}
	r = x->op == TFTP_OP_RRQ ? xfer_open_read(ctx, x, a, now) :
	    xfer_open_upload(ctx, x, a);
	if (r != XFER_LIVE)
		return r;
	if (x->state == XFER_S_FETCHING) {
		count_client(ctx, x, now);	/* it waits as a transfer */
		return r;
	}
	return xfer_start(ctx, x, now);
}

enum xfer_result
xfer_start(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	enum xfer_result	 r;

	if ((r = first_send(ctx, x, now)) == XFER_LIVE && !x->client_counted)
		count_client(ctx, x, now);
	return r;
}

void
xfer_turn_away(struct xfer_ctx *ctx, const struct io_dgram *d, int fd,
    const struct admission *a, uint64_t now)
{
	struct xfer	 tmpl;

	stand_in(&tmpl, d, fd);
	tmpl.start_us = now;
	tmpl.refusal = a->reason;
	tmpl.errmsg = a->msg;
	switch (a->reason) {
	case STATS_R_RATE:
		ctx->stats->rate_limited++;
		break;
	case STATS_R_CLIENT_LIMIT:
		ctx->stats->client_limited++;
		break;
	case STATS_R_BUSY:
		ctx->stats->server_busy++;
		break;
	default:
		break;
	}
	if (a->answered) {
		send_error_to(ctx, &tmpl, a->code, a->msg);
		tmpl.errcode = a->code;
		tmpl.result = XFER_END_REFUSED;
	} else
		tmpl.result = XFER_END_DROPPED;
	xfer_report(ctx, &tmpl, now);
}

enum xfer_result
xfer_input(struct xfer_ctx *ctx, struct xfer *x, const struct pkt *p,
    uint64_t now)
{
	if (p->op == TFTP_OP_ERROR) {
		x->errcode = p->u.error.code;
		(void)strlcpy(x->peer_msg, p->u.error.msg != NULL ?
		    p->u.error.msg : "", sizeof x->peer_msg);
		if (x->state == XFER_S_DALLY)
			return xfer_finish(x, XFER_END_OK);
		return xfer_finish(x, XFER_END_PEER_ERROR);
	}
	switch (x->state) {
	case XFER_S_OACK_SENT:
		if (x->mc.session != NULL && p->op == TFTP_OP_ACK)
			return xfer_mc_ack(ctx, x, p->u.ack.block, now);
		if (x->op == TFTP_OP_RRQ) {
			if (p->op != TFTP_OP_ACK || p->u.ack.block != 0) {
				ctx->stats->dup_ack++;
				return XFER_LIVE;
			}
			x->tries = 0;
			x->progress_at = now;
			xfer_rtt_progress(ctx, x, now);
			xfer_set_state(x, XFER_S_SENDING);
			return xfer_send_window(ctx, x, now);
		}
		if (p->op == TFTP_OP_DATA)
			return xfer_wrq_data(ctx, x, p, now);
		break;
	case XFER_S_SENDING:
		if (p->op == TFTP_OP_ACK && x->mc.session != NULL)
			return xfer_mc_ack(ctx, x, p->u.ack.block, now);
		if (p->op == TFTP_OP_ACK)
			return xfer_rrq_ack(ctx, x, p->u.ack.block, now);
		break;
	case XFER_S_MC_WAIT:
		/* Any client may end by ACKing the last block (RFC 2090). */
		if (p->op == TFTP_OP_ACK && p->u.ack.block == x->nblocks) {
			x->bytes = x->size;
			return xfer_finish(x, XFER_END_OK);
		}
		if (p->op == TFTP_OP_ACK) {
			ctx->stats->dup_ack++;
			return XFER_LIVE;
		}
		break;
	case XFER_S_RECEIVING:
		if (p->op == TFTP_OP_DATA)
			return xfer_wrq_data(ctx, x, p, now);
		break;
	case XFER_S_DALLY:
		/* The peer missed our final ACK and sent its last DATA again. */
		if (p->op == TFTP_OP_DATA &&
		    p->u.data.block == wire_block(x, x->expect - 1))
			xfer_send_ack(ctx, x, x->expect - 1);
		return XFER_LIVE;
	default:
		break;
	}
	ctx->stats->bad_packet++;
	return XFER_LIVE;
}

void
xfer_supersede(struct xfer *x)
{
	/* No ERROR: it would reach the new transfer's client. */
	x->errmsg = "superseded by a new request from the same port";
	(void)xfer_finish(x, XFER_END_ABORTED);
}

void
xfer_abort(struct xfer_ctx *ctx, struct xfer *x, uint16_t code,
    const char *msg)
{
	if (x->state == XFER_S_DALLY) {
		(void)xfer_finish(x, XFER_END_OK);
		return;
	}
	(void)xfer_fail(ctx, x, code, msg, XFER_END_ABORTED);
}

void
xfer_end(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uncount_client(ctx, x);
	if (x->dally_listed) {
		TAILQ_REMOVE(&ctx->dally, x, dally_entry);
		x->dally_listed = 0;
	}
	timer_cancel(ctx->timers, &x->timer);
	xfer_wq_drop(ctx, x);
	readahead_release(&ctx->ra, &x->ra);
	if (x->fce != NULL) {
		fcache_release(x->fc, x->fce);	/* the cache's fd */
		x->fce = NULL;
		x->fc = NULL;
	} else if (x->fd != -1)
		(void)close(x->fd);
	x->fd = -1;
	fs_upload_abort(&x->up);
	xfer_report(ctx, x, now);
	x->state = XFER_S_DONE;
	if (x->mc.session != NULL) {
		struct mcast_member	*next = mcast_leave(ctx->mcast, &x->mc);

		if (next != NULL)
			xfer_mc_promote(ctx, xfer_of_member(next), x, now);
	}
}

int
xfer_live(const struct xfer *x)
{
	return x->state != XFER_S_IDLE && x->state != XFER_S_DONE;
}

void
xfer_send_failed(struct xfer *x, const struct sockaddr *to, size_t n)
{
	if (!xfer_live(x))
		return;
	if (x->mc.session == NULL && memcmp(to, &x->peer, x->peerlen) != 0)
		return;
	x->send_failed += n;
}

void
xfer_describe(const struct xfer *x, struct chan_xfer_rec *r, uint64_t now)
{
	memset(r, 0, sizeof *r);
	(void)sock_ntop((const struct sockaddr *)&x->peer, r->peer,
	    sizeof r->peer);
	(void)log_escape(x->name, strlen(x->name), r->file, sizeof r->file);
	(void)strlcpy(r->op, x->op == TFTP_OP_RRQ ? "rrq" : "wrq",
	    sizeof r->op);
	(void)strlcpy(r->state, xfer_state_str(x->state), sizeof r->state);
	r->bytes = x->bytes;
	if (x->op == TFTP_OP_RRQ)
		r->total = x->size;
	else if (x->opts.accepted & OPT_F_TSIZE)
		r->total = x->opts.tsize;
	r->age_ms = (now - x->start_us) / 1000;
	r->blksize = x->opts.blksize;
	r->windowsize = x->opts.windowsize;
}
