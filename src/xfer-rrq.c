/*
 * The read side of a transfer: the file opened (through the cache of
 * open files, or a multicast session), DATA sent in windows of runs read
 * straight into the send buffer, and the ACKs that slide, repeat or go
 * back in the window, a multicast master client's among them.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "admit.h"
#include "fcache.h"
#include "pkt.h"
#include "stats.h"
#include "xfer-int.h"
#include "xfer.h"

#define XFER_COPY_FRACTION	4	/* an ACK repeated within 1/4 round
					   trip is a copy, not a gap */

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
 * Fill iov (count blocks from the one at iov's file offset, want bytes)
 * from the file.  A few blocks come out of the transfer's read-ahead
 * (readahead.h), a long run is read straight into place: its one
 * preadv() already serves many blocks.
 */
static int
read_blocks(struct xfer_ctx *ctx, struct xfer *x, const struct iovec *iov,
    size_t count, uint64_t off, size_t want)
{
	const uint8_t	*src;
	uint64_t	 fills = ctx->ra.fills;
	ssize_t		 n;
	size_t		 i;
	int		 r = 0;

	if (want <= READAHEAD_BYTES / 2)
		r = readahead_get(&ctx->ra, &x->ra, x->fd, x->size, off, want,
		    &src);
	ctx->stats->file_reads += ctx->ra.fills - fills;
	if (r == 1) {
		for (i = 0; i < count; i++) {
			memcpy(iov[i].iov_base, src, iov[i].iov_len);
			src += iov[i].iov_len;
		}
		return 0;
	}
	if (r == -1)
		return -1;
	do
		n = preadv(x->fd, iov, (int)count, (off_t)off);
	while (n == -1 && errno == EINTR);
	ctx->stats->file_reads++;
	return n == (ssize_t)want ? 0 : -1;
}

/*
 * RRQ: blocks from..from+count-1 as one run of equal segments
 * [hdr|block][hdr|block]..., filled from the file (read_blocks()); the sink sends it as one UDP GSO datagram or splits
 * it.  -1 if the file cannot supply the blocks.
 */
int
xfer_send_run(struct xfer_ctx *ctx, struct xfer *x, uint64_t from, size_t count)
{
	struct iovec	 iov[IO_RUN_MAX];
	size_t		 seg = PKT_HDR_LEN + x->opts.blksize, want = 0, i, len;
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
	if (want > 0 && read_blocks(ctx, x, iov, count,
	    (from - 1) * x->opts.blksize, want) == -1)
		return -1;	/* read error, or the file shrank */
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
void
xfer_count_dup(struct xfer_ctx *ctx, struct xfer *x, uint64_t n)
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

		if (xfer_send_run(ctx, x, k, n) == -1)
			return -1;
	}
	if (first <= x->sent) {
		again = (last < x->sent ? last : x->sent) - first + 1;
		xfer_count_dup(ctx, x, again);
		x->echoes += again;
		x->echo_top = last;
	}
	x->sent = last;
	xfer_mark_sent(x, now);
	return 0;
}

static enum xfer_result
send_window_from(struct xfer_ctx *ctx, struct xfer *x, uint64_t first,
    uint64_t now)
{
	if (send_blocks(ctx, x, first, now) == -1)
		return xfer_fail(ctx, x, TFTP_E_UNDEF, "read error",
		    XFER_END_ERROR);
	xfer_arm(ctx, x, now);
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
	xfer_rtt_progress(ctx, x, now);
}

/* RRQ: send the window that starts after the last ACKed block. */
enum xfer_result
xfer_send_window(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
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
enum xfer_result
xfer_mc_ack(struct xfer_ctx *ctx, struct xfer *x, uint16_t w, uint64_t now)
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
		return xfer_finish(x, XFER_END_OK);
	xfer_set_state(x, XFER_S_SENDING);
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
void
xfer_mc_promote(struct xfer_ctx *ctx, struct xfer *x, const struct xfer *prev,
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
	x->rto_us = xfer_adapted_rto(ctx, x);
	ctx->stats->mcast_master_changes++;
	xfer_send_oack(ctx, x);
	xfer_set_state(x, XFER_S_OACK_SENT);
	xfer_mark_sent(x, now);
	xfer_arm(ctx, x, now);
}

/*
 * May an ACK inside the window be an echo of blocks we sent again?  Each
 * copy may draw one ACK from a client that had the block: EDK2
 * (Mtftp4RrqHandleData) ACKs its last in-order block at once for every
 * block it did not expect, a duplicate too.  The client answers in the
 * order of the blocks that drew the answers, so until it ACKs a block
 * sent after the copies (xfer_rrq_ack() ends it there), as many ACKs inside
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
		return xfer_fail(ctx, x, TFTP_E_UNDEF, "read error",
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
enum xfer_result
xfer_rrq_ack(struct xfer_ctx *ctx, struct xfer *x, uint16_t w, uint64_t now)
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
		return xfer_finish(x, XFER_END_OK);
	r = send_window_from(ctx, x, back ? k + 1 : x->sent + 1, now);
	if (back)
		x->rtt_ok = 0;		/* Karn */
	return r;
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
	int		 world = ctx->conf->permission_check;
	enum tftp_err	 e;

	if (ctx->fcache != NULL && !x->netascii) {
		x->fc = ctx->fcache;
		return fcache_open(ctx->fcache, ctx->rootfd, path, now, &x->fd,
		    &x->size, &x->fce);
	}
	e = fs_open_read(ctx->rootfd, path, x->netascii, world, &x->fd,
	    &x->size, NULL);
	if (e == TFTP_E_NOFD && xfer_make_room(ctx))
		e = fs_open_read(ctx->rootfd, path, x->netascii, world, &x->fd,
		    &x->size, NULL);
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

/*
 * Open what a read asks for: with unique_root the client's own copy
 * first (a->client_path), then the shared one unless that would reach
 * another client's directory.  Multicast when it can; unicast, without a
 * word, when not.
 */
enum xfer_result
xfer_open_read(struct xfer_ctx *ctx, struct xfer *x, const struct admission *a,
    uint64_t now)
{
	const struct origin_rule	*rule;
	const char			*rest;
	enum tftp_err			 e = TFTP_E_NOTFOUND;

	if ((rule = origin_match(&ctx->conf->origins, a->path, &rest)) != NULL)
		return xfer_origin_ask(ctx, x, rule, rest, a->path, now);
	if (a->client_path[0] != '\0')
		e = open_for_read(ctx, x, a->client_path, now);
	if (e != TFTP_E_NOTFOUND && e != TFTP_E_NONE)
		return xfer_refuse(ctx, x, XFER_AT_OPEN, e, NULL);
	if (x->fd == -1) {
		if (a->no_fallback)
			return xfer_refuse(ctx, x, XFER_AT_NAME, TFTP_E_ACCESS,
			    "access denied");
		if ((e = open_for_read(ctx, x, a->path, now)) != TFTP_E_NONE)
			return xfer_refuse(ctx, x, XFER_AT_OPEN, e, NULL);
	}
	xfer_read_opened(ctx, x);
	return XFER_LIVE;
}

/* The file is open: its blocks, its tsize, its multicast session. */
void
xfer_read_opened(struct xfer_ctx *ctx, struct xfer *x)
{
	x->nblocks = x->size / x->opts.blksize + 1;
	x->opts.tsize = x->size;
	if ((x->opts.accepted & OPT_F_MULTICAST) != 0 &&
	    (ctx->mcast == NULL || x->netascii || join_session(ctx, x) == -1))
		x->opts.accepted &= ~OPT_F_MULTICAST;
}
