/*
 * The transfer state machine.  Block numbers are kept absolute (64 bits)
 * and mapped to the 16-bit wire number only at the edge, so rollover
 * past 65535 needs no special case.  The only ways out are the sink
 * (datagrams), the timer heap and fs.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <arpa/inet.h>

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "admit.h"
#include "audit.h"
#include "chan.h"
#include "clients.h"
#include "compat.h"
#include "fcache.h"
#include "log.h"
#include "pkt.h"
#include "remap.h"
#include "sock.h"
#include "stats.h"
#include "xfer.h"

#define XFER_RTO_BACKOFF_CAP	8	/* backoff stops at 8x the base */
#define XFER_DALLY_MIN_US	8000000	/* common client timers are 5 s */
#define XFER_DALLY_FACTOR	2	/* dally this many timeouts after the
					   last ACK of an upload */
#define XFER_ERRMSG_MAX		128
#define XFER_MC_PROMOTE_TRIES	2	/* OACK resends to a new master client */
#define XFER_NOFD_LOGS_PER_S	10	/* refusals for want of a descriptor */
#define XFER_NOFD_WARN_US	(60 * 1000000ULL)	/* why, this often */
#define XFER_COPY_FRACTION	4	/* an ACK repeated within 1/4 round
					   trip is a copy, not a gap */
#define XFER_RECLAIM_DALLY_TIMEOUTS 2	/* see xfer_reclaimable() */
#define XFER_REFUSAL_LOGS_PER_S	10	/* requests turned away */

#define xfer_of_member(c) \
	((struct xfer *)((char *)(c) - offsetof(struct xfer, mc)))

/* Lines a flood could multiply, logged sparingly. */
struct xfer_logs {
	/* requests refused for want of a descriptor */
	struct log_limit	 nofd;
	uint64_t		 nofd_warned_us;
	/* requests turned away before they were transfers */
	struct log_limit	 refusals;
};

static const char *const state_names[] = {
#define XFER_X_NAME(name, text)	text,
	XFER_STATES(XFER_X_NAME)
#undef XFER_X_NAME
};

static const char *const result_names[] = {
#define XFER_X_RNAME(name, text)	text,
	XFER_END_RESULTS(XFER_X_RNAME)
#undef XFER_X_RNAME
};

int
xfer_ctx_init(struct xfer_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	TAILQ_INIT(&ctx->dally);
	if ((ctx->logs = calloc(1, sizeof *ctx->logs)) == NULL)
		return -1;
	return 0;
}

void
xfer_ctx_clear(struct xfer_ctx *ctx)
{
	free(ctx->logs);
	ctx->logs = NULL;
}

const char *
xfer_state_str(enum xfer_state s)
{
	return (unsigned)s < XFER_S_MAX ? state_names[s] : "?";
}

static void
set_state(struct xfer *x, enum xfer_state s)
{
	assert((unsigned)s < XFER_S_MAX);
	if (log_enabled(LOG_DEBUG)) {
		char	 peer[64];

		log_debug("xfer %s: %s -> %s", sock_ntop((struct sockaddr *)
		    &x->peer, peer, sizeof peer), state_names[x->state],
		    state_names[s]);
	}
	x->state = s;
}

static enum xfer_result
finish(struct xfer *x, enum xfer_end_result r)
{
	x->result = r;
	if (x->mc.session != NULL)
		mcast_finished(&x->mc);
	set_state(x, XFER_S_DONE);
	return XFER_FINISHED;
}

/* The wire number of absolute block k. */
static uint16_t
wire_block(const struct xfer *x, uint64_t k)
{
	if (x->opts.rollover == 1 && k > 0)
		return (uint16_t)((k - 1) % 65535 + 1);
	return (uint16_t)(k & 0xffff);
}

/*
 * The absolute block in [lo, hi] whose wire number is w, preferring the
 * highest; -1 if none.
 */
static int
abs_block(const struct xfer *x, uint16_t w, uint64_t lo, uint64_t hi,
    uint64_t *k)
{
	uint64_t	 d;
	uint16_t	 top = wire_block(x, hi);

	if (x->opts.rollover == 1 && hi > 0) {
		if (w == 0)
			return -1;
		d = ((uint64_t)top + 65535 - w) % 65535;
	} else
		d = (uint16_t)(top - w);
	if (d > hi - lo)
		return -1;
	*k = hi - d;
	return 0;
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
static void
dally_begin(struct xfer_ctx *ctx, struct xfer *x)
{
	uncount_client(ctx, x);
	TAILQ_INSERT_TAIL(&ctx->dally, x, dally_entry);
	x->dally_listed = 1;
}

struct xfer *
xfer_reclaimable(const struct xfer_ctx *ctx, uint64_t now)
{
	struct xfer	*x = TAILQ_FIRST(&ctx->dally);

	if (x == NULL || now - x->progress_at <
	    XFER_RECLAIM_DALLY_TIMEOUTS * (uint64_t)ctx->timeout_ms * 1000)
		return NULL;
	return x;
}

/*
 * Answer with ERROR and end the transfer with result r.  TFTP_E_NOFD (no
 * descriptor left, even after closing cached files) is ERROR 0 "server
 * busy": the client may well succeed a moment later.
 */
static enum xfer_result
fail(struct xfer_ctx *ctx, struct xfer *x, uint16_t code, const char *msg,
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
	return finish(x, r);
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
		if (ctx->uploads == FS_UPLOAD_OFF)
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
static enum xfer_result
refuse(struct xfer_ctx *ctx, struct xfer *x, enum xfer_at at, uint16_t code,
    const char *msg)
{
	x->refusal = xfer_refusal(at, code, ctx);
	return fail(ctx, x, code, msg, XFER_END_REFUSED);
}

static void
arm(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
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
static uint64_t
base_rto(const struct xfer_ctx *ctx, const struct xfer *x)
{
	if (client_rto(x))
		return x->opts.timeout_us;
	return (uint64_t)ctx->timeout_ms * 1000;
}

/* Something that expects an answer left just now, for the first time. */
static void
mark_sent(struct xfer *x, uint64_t now)
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
static uint64_t
adapted_rto(const struct xfer_ctx *ctx, const struct xfer *x)
{
	uint64_t	 base = base_rto(ctx, x), lo, hi, rto;

	if (x->srtt_us == 0 || client_rto(x))
		return base;
	lo = (uint64_t)ctx->rto_min_ms * 1000;
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
static void
rtt_progress(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	rtt_sample(x, now);
	x->rto_us = adapted_rto(ctx, x);
}

static void
send_oack(struct xfer_ctx *ctx, struct xfer *x)
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

static void
send_ack(struct xfer_ctx *ctx, struct xfer *x, uint64_t k)
{
	uint8_t	*buf;
	size_t	 len;

	if ((buf = ctx->sink.stage(ctx->sink.arg, PKT_HDR_LEN)) == NULL)
		return;
	len = pkt_encode_ack(buf, PKT_HDR_LEN, wire_block(x, k));
	ctx->sink.commit(ctx->sink.arg, x, len, 0);
}

/* Payload bytes of block k (the last one may be short, even empty). */
static size_t
block_len(const struct xfer *x, uint64_t k)
{
	uint64_t	 off = (k - 1) * x->opts.blksize;

	if (off >= x->size)
		return 0;
	return x->size - off < x->opts.blksize ? (size_t)(x->size - off) :
	    x->opts.blksize;
}

/*
 * RRQ: blocks from..from+count-1 as one run of equal segments
 * [hdr|block][hdr|block]..., filled by a single preadv() straight into
 * the send buffer; the sink sends it as one UDP GSO datagram or splits
 * it.  -1 if the file cannot supply the blocks.
 */
static int
send_run(struct xfer_ctx *ctx, struct xfer *x, uint64_t from, size_t count)
{
	struct iovec	 iov[IO_RUN_MAX];
	size_t		 seg = PKT_HDR_LEN + x->opts.blksize, want = 0, i, len;
	ssize_t		 n;
	uint8_t		*buf;

	if ((buf = ctx->sink.stage(ctx->sink.arg, count * seg)) == NULL)
		return 0;	/* queue full: the timer resends them */
	for (i = 0; i < count; i++) {
		(void)pkt_encode_data_hdr(buf + i * seg, PKT_HDR_LEN,
		    wire_block(x, from + i));
		iov[i].iov_base = buf + i * seg + PKT_HDR_LEN;
		iov[i].iov_len = block_len(x, from + i);
		want += iov[i].iov_len;
	}
	if (want > 0) {
		do
			n = preadv(x->fd, iov, (int)count, (off_t)((from - 1) *
			    x->opts.blksize));
		while (n == -1 && errno == EINTR);
		if (n != (ssize_t)want)
			return -1;	/* read error, or the file shrank */
	}
	len = (count - 1) * seg + PKT_HDR_LEN + iov[count - 1].iov_len;
	if (x->mc.session != NULL) {
		const struct sockaddr	*group;
		socklen_t		 grouplen;

		group = mcast_group(&x->mc, &grouplen);
		ctx->sink.commit_to(ctx->sink.arg, x, group, grouplen, len,
		    count > 1 ? seg : 0);
		ctx->stats->mcast_blocks += count;
	} else
		ctx->sink.commit(ctx->sink.arg, x, len, count > 1 ? seg : 0);
	ctx->stats->data_out += count;
	ctx->stats->bytes_out += want;
	return 0;
}

/* n DATA packets of blocks sent before left again, whatever the cause. */
static void
count_dup(struct xfer_ctx *ctx, struct xfer *x, uint64_t n)
{
	x->dup += n;
	ctx->stats->data_dup += n;
}

/*
 * RRQ: send blocks first.. up to the end of the window that starts after
 * the last ACKed block.  first at or below the highest block sent sends
 * blocks again: each copy may draw one more ACK from a client that had
 * the block (an echo, took_echo()).  The timer is the caller's.
 */
static int
send_blocks(struct xfer_ctx *ctx, struct xfer *x, uint64_t first,
    uint64_t now)
{
	uint64_t	 k, again, last = x->acked + x->opts.windowsize;
	size_t		 seg = PKT_HDR_LEN + x->opts.blksize, run;

	if (last > x->nblocks)
		last = x->nblocks;
	if (first > last)
		return 0;	/* nothing new to send */
	/* Runs as long as one GSO send can carry. */
	run = IO_RUN_BYTES / seg;
	if (run > IO_RUN_MAX)
		run = IO_RUN_MAX;
	if (run == 0)
		run = 1;
	for (k = first; k <= last; k += run) {
		size_t	 n = last - k + 1 < run ? (size_t)(last - k + 1) : run;

		if (send_run(ctx, x, k, n) == -1)
			return -1;
	}
	if (first <= x->sent) {
		again = (last < x->sent ? last : x->sent) - first + 1;
		count_dup(ctx, x, again);
		x->echoes += again;
		x->echo_top = last;
	}
	x->sent = last;
	mark_sent(x, now);
	return 0;
}

static enum xfer_result
send_window_from(struct xfer_ctx *ctx, struct xfer *x, uint64_t first,
    uint64_t now)
{
	if (send_blocks(ctx, x, first, now) == -1)
		return fail(ctx, x, TFTP_E_UNDEF, "read error",
		    XFER_END_ERROR);
	arm(ctx, x, now);
	return XFER_LIVE;
}

/* RRQ: the peer has blocks up to k; the round trip taught us something. */
static void
acked_to(struct xfer_ctx *ctx, struct xfer *x, uint64_t k, uint64_t now)
{
	x->acked = k;
	x->bytes = k * x->opts.blksize < x->size ? k * x->opts.blksize :
	    x->size;
	x->tries = 0;
	x->progress_at = now;
	rtt_progress(ctx, x, now);
}

/* RRQ: send the window that starts after the last ACKed block. */
static enum xfer_result
send_window(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	return send_window_from(ctx, x, x->acked + 1, now);
}

/*
 * RFC 2090: the master client's ACK n asks for block n + 1 on, wherever
 * that is: a new master, just sent its OACK, asks for the first block it
 * missed.  After that its ACKs only move forward.  Within the window an
 * ACK slides it and only the blocks not yet sent leave: masters such as
 * atftp ACK every block they get, and resending what is in flight would
 * send each block windowsize times to every client.  The same ACK again,
 * or an older one (reordered, or forged to make us stream), changes
 * nothing and is not progress: only the timer resends (the Sorcerer's
 * Apprentice).  Block numbers do not wrap: a session has at most 65535.
 */
static enum xfer_result
mc_ack(struct xfer_ctx *ctx, struct xfer *x, uint16_t w, uint64_t now)
{
	uint64_t	 k = w, first;

	if (k > x->nblocks) {
		ctx->stats->bad_packet++;
		return XFER_LIVE;
	}
	if (x->state == XFER_S_SENDING && k <= x->acked) {
		ctx->stats->dup_ack++;
		return XFER_LIVE;
	}
	/* sent is 0 until a master's first window: then any k goes. */
	first = (k > x->sent ? k : x->sent) + 1;
	acked_to(ctx, x, k, now);
	if (k == x->nblocks)
		return finish(x, XFER_END_OK);
	set_state(x, XFER_S_SENDING);
	return send_window_from(ctx, x, first, now);
}

/*
 * x takes over from prev as master client: its OACK with mc=1 asks it to
 * ACK.  The clients of a session share a link, so the round trip measured
 * with prev (passed on through masters that never answered) paces the
 * OACK's resends (at least rto_min_ms apart, doubling); x is given up
 * after three base timeouts (3 s), not 1 + 2 + 4 s: a slow client still
 * has as long as a timeout or three to answer, a dead or forged waiter
 * costs its session less than half what it did.
 */
static void
mc_promote(struct xfer_ctx *ctx, struct xfer *x, const struct xfer *prev,
    uint64_t now)
{
	x->mc_promoted = 1;
	mcast_optval(&x->mc, x->opts.multicast, sizeof x->opts.multicast);
	x->acked = x->sent = 0;
	x->tries = 0;
	x->progress_at = now;
	if (x->srtt_us == 0 && prev->srtt_us != 0) {
		x->srtt_us = prev->srtt_us;
		x->rttvar_us = prev->rttvar_us;
	}
	x->rto_us = adapted_rto(ctx, x);
	ctx->stats->mcast_master_changes++;
	send_oack(ctx, x);
	set_state(x, XFER_S_OACK_SENT);
	mark_sent(x, now);
	arm(ctx, x, now);
}

/*
 * May an ACK inside the window be an echo of blocks we sent again?  Each
 * copy may draw one ACK from a client that had the block: EDK2
 * (Mtftp4RrqHandleData) ACKs its last in-order block at once for every
 * block it did not expect, a duplicate too.  The client answers in the
 * order of the blocks that drew the answers, so until it ACKs a block
 * sent after the copies (rrq_ack() ends it there), as many ACKs inside
 * the window as copies sent are taken as echoes: one fewer may come.
 * By count, not by time: a slow client (firmware under emulation, 0.35
 * ms per ACK) spreads its echoes over more than a round trip, and going
 * back on the last of them resent a window it had, whose echoes did the
 * same, one go-back per round trip (issue 11: ~800 duplicates per lost
 * block).  The price: a block lost again before the client has answered
 * the copies waits for the timer.
 */
static int
took_echo(struct xfer *x)
{
	if (x->echoes == 0)
		return 0;
	x->echoes--;
	return 1;
}

/*
 * The same ACK k again, with blocks in flight past it: k + 1 is missing
 * (EDK2 says so for every later block, U-Boot once), so we go back and
 * resend the window from there (RFC 7440), unless it may be an echo.  A
 * repeated ACK within a quarter round trip of the one it repeats is a
 * copy (the network or the client said it twice): a gap in the window
 * that ACK opened cannot be seen that soon.  In lock step a repeated ACK
 * never resends (RFC 1123 4.2.3.1, the Sorcerer's Apprentice).  A
 * go-back is not progress: the timer keeps its deadline, so a client
 * that only repeats itself is still given up on schedule.
 */
static enum xfer_result
rrq_repeated_ack(struct xfer_ctx *ctx, struct xfer *x, uint64_t k,
    uint64_t now)
{
	if (k == x->sent || x->opts.windowsize == 1 || took_echo(x) ||
	    now - x->progress_at < x->srtt_us / XFER_COPY_FRACTION) {
		ctx->stats->dup_ack++;
		return XFER_LIVE;
	}
	if (send_blocks(ctx, x, k + 1, now) == -1)
		return fail(ctx, x, TFTP_E_UNDEF, "read error",
		    XFER_END_ERROR);
	x->rtt_ok = 0;		/* Karn */
	return XFER_LIVE;
}

/*
 * A new ACK slides the window.  One of the window's last block (or past
 * the blocks last sent again: every echo of them is in) sends the blocks
 * never sent.  One inside the window means the client lacks the next
 * block (a gap: firmware keeps no block past one, U-Boot and atftp say
 * so once, not again), and we go back and resend from there (RFC 7440),
 * unless it may be an echo (took_echo()): then it only slides, and the
 * blocks after it, on their way, are not sent twice.
 */
static enum xfer_result
rrq_ack(struct xfer_ctx *ctx, struct xfer *x, uint16_t w, uint64_t now)
{
	enum xfer_result	 r;
	uint64_t		 k;
	int			 back;

	if (abs_block(x, w, x->acked, x->sent, &k) == -1) {
		ctx->stats->dup_ack++;
		return XFER_LIVE;
	}
	if (k > x->echo_top)
		x->echoes = 0;
	if (k == x->acked)
		return rrq_repeated_ack(ctx, x, k, now);
	back = k < x->sent && x->opts.windowsize > 1 && !took_echo(x);
	acked_to(ctx, x, k, now);
	if (x->acked == x->nblocks)
		return finish(x, XFER_END_OK);
	r = send_window_from(ctx, x, back ? k + 1 : x->sent + 1, now);
	if (back)
		x->rtt_ok = 0;		/* Karn */
	return r;
}

/* Write x's queued blocks now, in order, with one writev(). */
static enum tftp_err
wq_write(struct xfer_ctx *ctx, struct xfer *x)
{
	struct iovec	 iov[XFER_WQ_MAX];
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < ctx->wq.n; i++) {
		if (ctx->wq.e[i].x != x)
			continue;
		iov[n].iov_base = (void *)(uintptr_t)ctx->wq.e[i].data;
		iov[n].iov_len = ctx->wq.e[i].len;
		n++;
		ctx->wq.e[i].x = NULL;
	}
	if (n == 0)
		return TFTP_E_NONE;
	return fs_upload_writev(&x->up, iov, n);
}

/* Forget x's queued blocks: it is ending. */
static void
wq_drop(struct xfer_ctx *ctx, const struct xfer *x)
{
	size_t	 i;

	for (i = 0; i < ctx->wq.n; i++)
		if (ctx->wq.e[i].x == x)
			ctx->wq.e[i].x = NULL;
}

size_t
xfer_flush_writes(struct xfer_ctx *ctx, struct xfer **failed)
{
	size_t		 i, nfailed = 0;
	enum tftp_err	 e;

	for (i = 0; i < ctx->wq.n; i++) {
		struct xfer	*x = ctx->wq.e[i].x;

		if (x == NULL)
			continue;
		if ((e = wq_write(ctx, x)) != TFTP_E_NONE &&
		    fail(ctx, x, e, NULL, XFER_END_ERROR) == XFER_FINISHED)
			failed[nfailed++] = x;
	}
	ctx->wq.n = 0;
	return nfailed;
}

/*
 * Octet blocks are queued for xfer_flush_writes() at the end of the
 * batch (the worker's receive buffer holds them until then); netascii
 * ones are translated into a buffer of ours and written at once, after
 * whatever of x is queued.
 */
static enum xfer_result
wrq_store(struct xfer_ctx *ctx, struct xfer *x, const uint8_t *data,
    size_t len)
{
	uint8_t		 conv[PKT_DATA_MAX + 1];
	enum tftp_err	 e;

	if (ctx->limits.max_upload_size != 0 &&
	    x->bytes + len > ctx->limits.max_upload_size) {
		/* Not a refusal (data moved), but the same reason. */
		x->refusal = xfer_refusal(XFER_AT_UPLOAD_SIZE, TFTP_E_DISKFULL,
		    ctx);
		return fail(ctx, x, TFTP_E_DISKFULL, "file too large",
		    XFER_END_ERROR);
	}
	if (!x->netascii && ctx->wq.n < XFER_WQ_MAX) {
		ctx->wq.e[ctx->wq.n].x = x;
		ctx->wq.e[ctx->wq.n].data = data;
		ctx->wq.e[ctx->wq.n].len = len;
		ctx->wq.n++;
		return XFER_LIVE;
	}
	if ((e = wq_write(ctx, x)) != TFTP_E_NONE)
		return fail(ctx, x, e, NULL, XFER_END_ERROR);
	if (x->netascii) {
		len = netascii_decode(&x->nadec, data, len, conv);
		data = conv;
	}
	e = fs_upload_write(&x->up, data, len);
	if (e != TFTP_E_NONE)
		return fail(ctx, x, e, NULL, XFER_END_ERROR);
	return XFER_LIVE;
}

static void	 report(struct xfer_ctx *, struct xfer *, uint64_t);
static void	 audit_asked(struct audit_buf *, const struct xfer *, uint64_t);

static enum xfer_result
wrq_last(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uint8_t		 tail[1];
	size_t		 n;
	uint64_t	 dally;
	enum tftp_err	 e;

	if ((e = wq_write(ctx, x)) != TFTP_E_NONE)
		return fail(ctx, x, e, NULL, XFER_END_ERROR);
	if (x->netascii && (n = netascii_decode_finish(&x->nadec, tail)) > 0 &&
	    (e = fs_upload_write(&x->up, tail, n)) != TFTP_E_NONE)
		return fail(ctx, x, e, NULL, XFER_END_ERROR);
	/* Commit before the final ACK: a client told "done" has a file. */
	e = fs_upload_commit(&x->up, ctx->upload_fsync, ctx->uploads);
	if (e != TFTP_E_NONE)
		return fail(ctx, x, e, NULL, XFER_END_ERROR);
	send_ack(ctx, x, x->expect - 1);
	x->result = XFER_END_OK;
	/* The upload is done: report it now, not when the dally ends. */
	report(ctx, x, now);
	set_state(x, XFER_S_DALLY);
	dally_begin(ctx, x);
	/*
	 * Stay to ACK a repeated last DATA (our final ACK may be lost) for
	 * as long as clients take to resend: their own timers, often 5 s,
	 * not ours.
	 */
	dally = XFER_DALLY_FACTOR * base_rto(ctx, x);
	if (dally < XFER_DALLY_MIN_US)
		dally = XFER_DALLY_MIN_US;
	timer_set(ctx->timers, &x->timer, now + dally);
	return XFER_LIVE;
}

static enum xfer_result
wrq_data(struct xfer_ctx *ctx, struct xfer *x, const struct pkt *p,
    uint64_t now)
{
	enum xfer_result	 r;

	ctx->stats->data_in++;
	if (p->u.data.block != wire_block(x, x->expect)) {
		/* How far past the block we want (16-bit serial numbers). */
		uint16_t	 ahead = (uint16_t)(p->u.data.block -
				    wire_block(x, x->expect));

		if (x->expect > 1 &&
		    p->u.data.block == wire_block(x, x->expect - 1)) {
			/* Our ACK was lost: say it again. */
			send_ack(ctx, x, x->expect - 1);
			x->rtt_ok = 0;	/* Karn: which ACK is answered? */
		} else if (!x->gap_acked || (ahead < 0x8000 &&
		    now - x->gap_ack_at_us >= x->rto_us)) {
			/*
			 * A gap in the window: ask for a resend (RFC 7440),
			 * once for the blocks of one burst.  Later blocks
			 * still coming a timeout later mean that ACK was lost
			 * too (atftp's timer sends the next block, never the
			 * missing one): ask again, as often as our own timer
			 * would.  Stale blocks of a window already restarted
			 * ask nothing more.
			 */
			send_ack(ctx, x, x->expect - 1);
			x->gap_acked = 1;
			x->gap_ack_at_us = now;
			x->inwindow = 0;
			x->rtt_ok = 0;
		}
		return XFER_LIVE;
	}
	if (p->u.data.len > x->opts.blksize)
		return fail(ctx, x, TFTP_E_BADOP, "block larger than blksize",
		    XFER_END_ERROR);
	if ((r = wrq_store(ctx, x, p->u.data.data, p->u.data.len)) !=
	    XFER_LIVE)
		return r;
	ctx->stats->bytes_in += p->u.data.len;
	x->bytes += p->u.data.len;
	x->expect++;
	x->gap_acked = 0;
	x->tries = 0;
	x->progress_at = now;
	rtt_progress(ctx, x, now);
	if (x->state == XFER_S_OACK_SENT)
		set_state(x, XFER_S_RECEIVING);
	if (p->u.data.len < x->opts.blksize)
		return wrq_last(ctx, x, now);
	if (++x->inwindow >= x->opts.windowsize) {
		send_ack(ctx, x, x->expect - 1);
		mark_sent(x, now);
		x->inwindow = 0;
	}
	arm(ctx, x, now);
	return XFER_LIVE;
}

/*
 * An open failed for want of a descriptor: close idle cached files to
 * make room.  Whether trying again may help.
 */
static int
make_room(struct xfer_ctx *ctx)
{
	return ctx->fcache != NULL &&
	    fcache_shrink(ctx->fcache, FS_FDS_MAX) > 0;
}

/*
 * Open a file to send: through the worker's cache of open files for
 * octet reads (it makes room by itself; netascii needs its own
 * translated copy).
 */
static enum tftp_err
open_for_read(struct xfer_ctx *ctx, struct xfer *x, const char *path,
    uint64_t now)
{
	enum tftp_err	 e;

	if (ctx->fcache != NULL && !x->netascii)
		return fcache_open(ctx->fcache, ctx->rootfd, path, now, &x->fd,
		    &x->size, &x->fce);
	e = fs_open_read(ctx->rootfd, path, x->netascii, ctx->perm_check,
	    &x->fd, &x->size, NULL);
	if (e == TFTP_E_NOFD && make_room(ctx))
		e = fs_open_read(ctx->rootfd, path, x->netascii,
		    ctx->perm_check, &x->fd, &x->size, NULL);
	return e;
}

/*
 * RFC 2090: put x, its file open, into the session of its file with the
 * session's blksize.  -1: serve it by unicast.
 */
static int
join_session(struct xfer_ctx *ctx, struct xfer *x)
{
	struct mcast_want	 w;
	struct mcast_grant	 g;
	struct stat		 st;

	if (x->fd == -1 || fstat(x->fd, &st) == -1)
		return -1;
	w.st = &st;
	w.local = &x->local;
	w.family = x->peer.ss_family;
	w.blksize = x->opts.blksize;
	w.blksize_asked = (x->opts.accepted & OPT_F_BLKSIZE) != 0;
	if (x->nblocks > MCAST_BLOCKS_MAX ||
	    mcast_join(ctx->mcast, &x->mc, &w, &g) == -1)
		return -1;
	x->opts.blksize = g.blksize;
	x->nblocks = g.nblocks;
	mcast_optval(&x->mc, x->opts.multicast, sizeof x->opts.multicast);
	return 0;
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

/*
 * Open what a read asks for: with unique_root the client's own copy
 * first (a->client_path), then the shared one unless that would reach
 * another client's directory.  Multicast when it can; unicast, without a
 * word, when not.
 */
static enum xfer_result
open_read(struct xfer_ctx *ctx, struct xfer *x, const struct admission *a,
    uint64_t now)
{
	enum tftp_err	 e = TFTP_E_NOTFOUND;

	if (a->client_path[0] != '\0')
		e = open_for_read(ctx, x, a->client_path, now);
	if (e != TFTP_E_NOTFOUND && e != TFTP_E_NONE)
		return refuse(ctx, x, XFER_AT_OPEN, e, NULL);
	if (x->fd == -1) {
		if (a->no_fallback)
			return refuse(ctx, x, XFER_AT_NAME, TFTP_E_ACCESS,
			    "access denied");
		if ((e = open_for_read(ctx, x, a->path, now)) != TFTP_E_NONE)
			return refuse(ctx, x, XFER_AT_OPEN, e, NULL);
	}
	x->nblocks = x->size / x->opts.blksize + 1;
	x->opts.tsize = x->size;
	if ((x->opts.accepted & OPT_F_MULTICAST) != 0 &&
	    (ctx->mcast == NULL || x->netascii || join_session(ctx, x) == -1))
		x->opts.accepted &= ~OPT_F_MULTICAST;
	return XFER_LIVE;
}

static enum xfer_result
open_upload(struct xfer_ctx *ctx, struct xfer *x, const struct admission *a)
{
	enum tftp_err	 e;

	x->opts.accepted &= ~OPT_F_MULTICAST;
	e = fs_upload_begin(ctx->rootfd, a->path, ctx->uploads, ctx->umask,
	    ctx->perm_check, &x->up);
	if (e == TFTP_E_NOFD && make_room(ctx))
		e = fs_upload_begin(ctx->rootfd, a->path, ctx->uploads,
		    ctx->umask, ctx->perm_check, &x->up);
	if (e != TFTP_E_NONE)
		return refuse(ctx, x, XFER_AT_UPLOAD, e, NULL);
	netascii_dec_init(&x->nadec);
	x->expect = 1;
	return XFER_LIVE;
}

/* The first answer: OACK, ACK 0 or the first window; the timer. */
static enum xfer_result
first_send(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	count_options(ctx, &x->opts);
	x->oack = x->opts.accepted != 0;
	x->rto_us = base_rto(ctx, x);
	if (x->mc.session != NULL) {
		ctx->stats->mcast_clients++;
		if (x->mc.master)
			ctx->stats->mcast_sessions++;
	}
	if (x->oack) {
		send_oack(ctx, x);
		if (x->mc.session != NULL && !x->mc.master) {
			/* It listens to the group; an OACK gives it its turn. */
			set_state(x, XFER_S_MC_WAIT);
			return XFER_LIVE;
		}
		set_state(x, XFER_S_OACK_SENT);
		mark_sent(x, now);
		arm(ctx, x, now);
		return XFER_LIVE;
	}
	if (x->op == TFTP_OP_WRQ) {
		send_ack(ctx, x, 0);
		set_state(x, XFER_S_RECEIVING);
		mark_sent(x, now);
		arm(ctx, x, now);
		return XFER_LIVE;
	}
	set_state(x, XFER_S_SENDING);
	return send_window(ctx, x, now);
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
		return fail(ctx, x, a->code, a->msg, XFER_END_REFUSED);
	}
	r = x->op == TFTP_OP_RRQ ? open_read(ctx, x, a, now) :
	    open_upload(ctx, x, a);
	if (r == XFER_LIVE && (r = first_send(ctx, x, now)) == XFER_LIVE)
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
	report(ctx, &tmpl, now);
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
			return finish(x, XFER_END_OK);
		return finish(x, XFER_END_PEER_ERROR);
	}
	switch (x->state) {
	case XFER_S_OACK_SENT:
		if (x->mc.session != NULL && p->op == TFTP_OP_ACK)
			return mc_ack(ctx, x, p->u.ack.block, now);
		if (x->op == TFTP_OP_RRQ) {
			if (p->op != TFTP_OP_ACK || p->u.ack.block != 0) {
				ctx->stats->dup_ack++;
				return XFER_LIVE;
			}
			x->tries = 0;
			x->progress_at = now;
			rtt_progress(ctx, x, now);
			set_state(x, XFER_S_SENDING);
			return send_window(ctx, x, now);
		}
		if (p->op == TFTP_OP_DATA)
			return wrq_data(ctx, x, p, now);
		break;
	case XFER_S_SENDING:
		if (p->op == TFTP_OP_ACK && x->mc.session != NULL)
			return mc_ack(ctx, x, p->u.ack.block, now);
		if (p->op == TFTP_OP_ACK)
			return rrq_ack(ctx, x, p->u.ack.block, now);
		break;
	case XFER_S_MC_WAIT:
		/* Any client may end by ACKing the last block (RFC 2090). */
		if (p->op == TFTP_OP_ACK && p->u.ack.block == x->nblocks) {
			x->bytes = x->size;
			return finish(x, XFER_END_OK);
		}
		if (p->op == TFTP_OP_ACK) {
			ctx->stats->dup_ack++;
			return XFER_LIVE;
		}
		break;
	case XFER_S_RECEIVING:
		if (p->op == TFTP_OP_DATA)
			return wrq_data(ctx, x, p, now);
		break;
	case XFER_S_DALLY:
		/* The peer missed our final ACK and sent its last DATA again. */
		if (p->op == TFTP_OP_DATA &&
		    p->u.data.block == wire_block(x, x->expect - 1))
			send_ack(ctx, x, x->expect - 1);
		return XFER_LIVE;
	default:
		break;
	}
	ctx->stats->bad_packet++;
	return XFER_LIVE;
}

enum xfer_result
xfer_timeout(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uint64_t	 cap;

	if (x->state == XFER_S_DALLY)
		return finish(x, XFER_END_OK);
	/*
	 * Give up after retries timeouts, but never sooner than the client
	 * would have had without adaptation: a fast-adapted timeout must
	 * not turn a busy client's pause into a failed transfer.
	 */
	if (++x->tries > ctx->retries && now - x->progress_at >=
	    base_rto(ctx, x) * (ctx->retries + 1))
		return fail(ctx, x, TFTP_E_UNDEF, "timed out",
		    XFER_END_TIMEOUT);
	/*
	 * RFC 2090: a client made master must answer "in a timely manner"
	 * or the next one is asked; a forged joiner (nothing tells it from
	 * a silent real one) must not hold the session up for long.
	 */
	if (x->state == XFER_S_OACK_SENT && x->mc_promoted &&
	    x->tries > XFER_MC_PROMOTE_TRIES && now - x->progress_at >=
	    base_rto(ctx, x) * (XFER_MC_PROMOTE_TRIES + 1))
		return fail(ctx, x, TFTP_E_UNDEF, "no answer as master client",
		    XFER_END_TIMEOUT);
	cap = base_rto(ctx, x) * XFER_RTO_BACKOFF_CAP;
	x->rto_us = x->rto_us * 2 > cap ? cap : x->rto_us * 2;
	x->rtt_ok = 0;
	x->repeat_at_us = now;	/* a repeated request right after: no more */

	switch (x->state) {
	case XFER_S_OACK_SENT:
		send_oack(ctx, x);
		x->retrans++;
		ctx->stats->retrans++;
		break;
	case XFER_S_SENDING:
		x->retrans += x->sent - x->acked;
		ctx->stats->retrans += x->sent - x->acked;
		if (send_window(ctx, x, now) != XFER_LIVE)
			return XFER_FINISHED;
		x->rtt_ok = 0;	/* Karn: no sample from a resent window */
		return XFER_LIVE;
	case XFER_S_RECEIVING:
		send_ack(ctx, x, x->expect - 1);
		x->inwindow = 0;
		x->retrans++;
		ctx->stats->retrans++;
		break;
	default:
		return XFER_LIVE;
	}
	arm(ctx, x, now);
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
		send_oack(ctx, x);
		return;
	}
	/*
	 * The client asked again before anything was acknowledged: our
	 * first answer was lost, or its timer is shorter than ours.  Say it
	 * again now rather than after our (doubling) timer: some clients
	 * give up after a few of their own timeouts.  A burst of copies of
	 * the request gets one answer; later ones at most one per rto_min.
	 */
	if (now - last < (uint64_t)ctx->rto_min_ms * 1000)
		return;
	switch (x->state) {
	case XFER_S_OACK_SENT:
		send_oack(ctx, x);
		break;
	case XFER_S_SENDING:
		if (x->acked != 0 || x->oack || x->mc.session != NULL ||
		    send_run(ctx, x, 1, 1) == -1)
			return;
		count_dup(ctx, x, 1);
		break;
	case XFER_S_RECEIVING:
		if (x->expect != 1 || x->oack)
			return;
		send_ack(ctx, x, 0);
		break;
	default:
		return;
	}
	x->repeat_at_us = now;
	x->rtt_ok = 0;		/* Karn: which copy is answered is unknown */
	x->retrans++;
	ctx->stats->retrans++;
}

void
xfer_supersede(struct xfer *x)
{
	/* No ERROR: it would reach the new transfer's client. */
	x->errmsg = "superseded by a new request from the same port";
	(void)finish(x, XFER_END_ABORTED);
}

void
xfer_abort(struct xfer_ctx *ctx, struct xfer *x, uint16_t code,
    const char *msg)
{
	if (x->state == XFER_S_DALLY) {
		(void)finish(x, XFER_END_OK);
		return;
	}
	(void)fail(ctx, x, code, msg, XFER_END_ABORTED);
}

static void
count_end(struct xfer_ctx *ctx, const struct xfer *x)
{
	switch (x->result) {
	case XFER_END_OK:
		ctx->stats->xfer_ok++;
		break;
	case XFER_END_REFUSED:
		ctx->stats->refused++;
		stats_refused(ctx->stats, x->refusal);
		break;
	case XFER_END_DROPPED:
		stats_refused(ctx->stats, x->refusal);
		break;
	case XFER_END_PEER_ERROR:
		ctx->stats->xfer_peer_error++;
		break;
	case XFER_END_TIMEOUT:
		ctx->stats->xfer_timeout++;
		ctx->stats->xfer_failed++;
		break;
	case XFER_END_ABORTED:
		ctx->stats->xfer_aborted++;
		ctx->stats->xfer_failed++;
		break;
	default:
		ctx->stats->xfer_error++;
		ctx->stats->xfer_failed++;
		break;
	}
}

/* One granted option as a member of the event's "options" object. */
static void
audit_option(void *arg, const char *name, const char *text, uint64_t num)
{
	if (text != NULL)
		audit_str(arg, name, text);
	else
		audit_u64(arg, name, num);
}

/*
 * The audit event of a finished transfer ("transfer"), or of a refused
 * request ("refused"): one shape.  What was asked (file to send_failed)
 * is there when the request got as far as the pool (x->op set); a
 * request turned away before has only its peer and the outcome, and no
 * error_code when dropped without an answer.
 */
static void
audit_event(const struct xfer *x, uint64_t now)
{
	struct audit_buf	 b;
	char			 peer[64];

	audit_begin(&b, x->result == XFER_END_REFUSED ||
	    x->result == XFER_END_DROPPED ? "refused" : "transfer");
	audit_str(&b, "peer", sock_ntop((const struct sockaddr *)&x->peer,
	    peer, sizeof peer));
	if (x->op != 0)
		audit_asked(&b, x, now);
	audit_str(&b, "result", result_names[x->result]);
	if (x->result != XFER_END_DROPPED)
		audit_u64(&b, "error_code", x->result == XFER_END_OK ? 0 :
		    x->errcode);
	if (x->result == XFER_END_PEER_ERROR) {
		if (x->peer_msg[0] != '\0')
			audit_str(&b, "error", x->peer_msg);
	} else if (x->errmsg != NULL && x->result != XFER_END_OK)
		audit_str(&b, "error", x->errmsg);
	if (x->refusal != STATS_R_NONE)
		audit_str(&b, "reason", stats_refusal_str(x->refusal));
	if (x->detail != NULL)
		audit_str(&b, "detail", x->detail);
	audit_emit(&b);
}

/* What a request asked for and what came of it, in an audit event. */
static void
audit_asked(struct audit_buf *b, const struct xfer *x, uint64_t now)
{
	audit_str(b, "file", x->name);
	if (x->path[0] != '\0')
		audit_str(b, "path", x->path);
	audit_str(b, "op", x->op == TFTP_OP_RRQ ? "rrq" : "wrq");
	audit_str(b, "mode", x->netascii ? "netascii" : "octet");
	audit_obj_begin(b, "options");
	opt_each(&x->opts, audit_option, b);
	audit_obj_end(b);
	audit_u64(b, "bytes", x->bytes);
	audit_u64(b, "duration_ms", (now - x->start_us) / 1000);
	audit_u64(b, "retransmits", x->retrans);
	audit_u64(b, "dup", x->dup);
	audit_u64(b, "send_failed", x->send_failed);
}

/*
 * A worker out of descriptors may refuse thousands of requests a second:
 * ten of them are logged a second, and once a minute a warning says why.
 */
static int
nofd_log_ok(struct xfer_ctx *ctx, uint64_t now)
{
	struct rlimit	 rl;

	if (ctx->logs->nofd_warned_us == 0 ||
	    now - ctx->logs->nofd_warned_us >= XFER_NOFD_WARN_US) {
		ctx->logs->nofd_warned_us = now;
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = 0;
		log_warnx("out of file descriptors (open files limit %llu): "
		    "requests refused with \"server busy\"",
		    (unsigned long long)rl.rlim_cur);
	}
	return log_limit_ok(&ctx->logs->nofd, now, XFER_NOFD_LOGS_PER_S);
}

/* Count the outcome and write the summary line and audit event, once. */
static void
report(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	char	 peer[64], name[XFER_LOGNAME_MAX * 4 + 1], opts[160];
	char	 path[XFER_LOGNAME_MAX * 4 + 1], why[96];
	int	 quiet;

	if (x->reported)
		return;
	x->reported = 1;
	count_end(ctx, x);
	if (x->nofd && !nofd_log_ok(ctx, now))
		return;
	/* Turned away before it was a transfer: floods happen. */
	if (x->op == 0 && !log_limit_ok(&ctx->logs->refusals, now,
	    XFER_REFUSAL_LOGS_PER_S))
		return;

	/* A peer ERROR right after our OACK is how UEFI firmware ends a
	 * tsize probe: routine, so only at debug level. */
	quiet = x->result == XFER_END_PEER_ERROR && x->oack && x->bytes == 0;
	if (audit_wanted())
		audit_event(x, now);
	if (x->op == 0) {
		if (!audit_json_log())
			log_info("request from %s refused: %s reason=%s",
			    sock_ntop((struct sockaddr *)&x->peer, peer,
			    sizeof peer), x->errmsg,
			    stats_refusal_str(x->refusal));
		return;
	}
	if (!audit_json_log() && log_enabled(quiet ? LOG_DEBUG : LOG_INFO)) {
		opt_format(&x->opts, opts, sizeof opts);
		(void)sock_ntop((struct sockaddr *)&x->peer, peer, sizeof peer);
		(void)log_escape(x->name, strlen(x->name), name, sizeof name);
		path[0] = '\0';
		if (x->path[0] != '\0')
			(void)log_escape(x->path, strlen(x->path), path,
			    sizeof path);
		why[0] = '\0';
		if (x->refusal != STATS_R_NONE)
			(void)snprintf(why, sizeof why, " reason=%s%s%s%s",
			    stats_refusal_str(x->refusal),
			    x->detail != NULL ? " detail=\"" : "",
			    x->detail != NULL ? x->detail : "",
			    x->detail != NULL ? "\"" : "");
		(quiet ? log_debug : log_info)("xfer end peer=%s op=%s file=%s"
		    "%s%s mode=%s opts=\"%s\" bytes=%llu ms=%llu retrans=%llu "
		    "dup=%llu send_failed=%llu result=%s code=%u%s", peer,
		    x->op == TFTP_OP_RRQ ? "rrq" : "wrq", name,
		    path[0] != '\0' ? " path=" : "", path,
		    x->netascii ? "netascii" : "octet", opts,
		    (unsigned long long)x->bytes,
		    (unsigned long long)(now - x->start_us) / 1000,
		    (unsigned long long)x->retrans,
		    (unsigned long long)x->dup,
		    (unsigned long long)x->send_failed,
		    result_names[x->result], x->result == XFER_END_OK ? 0 :
		    x->errcode, why);
	}
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
	wq_drop(ctx, x);
	if (x->fce != NULL) {
		fcache_release(ctx->fcache, x->fce);	/* the cache's fd */
		x->fce = NULL;
	} else if (x->fd != -1)
		(void)close(x->fd);
	x->fd = -1;
	fs_upload_abort(&x->up);
	report(ctx, x, now);
	x->state = XFER_S_DONE;
	if (x->mc.session != NULL) {
		struct mcast_member	*next = mcast_leave(ctx->mcast, &x->mc);

		if (next != NULL)
			mc_promote(ctx, xfer_of_member(next), x, now);
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
