/*
 * The write side of a transfer: the upload opened, DATA taken in order
 * (a gap in the window asks for a resend), octet blocks queued to be
 * written once per batch, the last block committed before its ACK, and
 * the dally that re-ACKs it.
 */
#include "config.h"

#include <sys/uio.h>

#include <stdint.h>

#include "admit.h"
#include "fs.h"
#include "netascii.h"
#include "pkt.h"
#include "stats.h"
#include "xfer-int.h"
#include "xfer.h"

#define XFER_DALLY_MIN_US	8000000	/* common client timers are 5 s */
#define XFER_DALLY_FACTOR	2	/* dally this many timeouts after the
					   last ACK of an upload */

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
void
xfer_wq_drop(struct xfer_ctx *ctx, const struct xfer *x)
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
		    xfer_fail(ctx, x, e, NULL, XFER_END_ERROR) == XFER_FINISHED)
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

	if (ctx->conf->limits.max_upload_size != 0 &&
	    x->bytes + len > ctx->conf->limits.max_upload_size) {
		/* Not a refusal (data moved), but the same reason. */
		x->refusal = xfer_refusal(XFER_AT_UPLOAD_SIZE, TFTP_E_DISKFULL,
		    ctx);
		return xfer_fail(ctx, x, TFTP_E_DISKFULL, "file too large",
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
		return xfer_fail(ctx, x, e, NULL, XFER_END_ERROR);
	if (x->netascii) {
		len = netascii_decode(&x->nadec, data, len, conv);
		data = conv;
	}
	e = fs_upload_write(&x->up, data, len);
	if (e != TFTP_E_NONE)
		return xfer_fail(ctx, x, e, NULL, XFER_END_ERROR);
	return XFER_LIVE;
}

static enum xfer_result
wrq_last(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	uint8_t		 tail[1];
	size_t		 n;
	uint64_t	 dally;
	enum tftp_err	 e;

	if ((e = wq_write(ctx, x)) != TFTP_E_NONE)
		return xfer_fail(ctx, x, e, NULL, XFER_END_ERROR);
	if (x->netascii && (n = netascii_decode_finish(&x->nadec, tail)) > 0 &&
	    (e = fs_upload_write(&x->up, tail, n)) != TFTP_E_NONE)
		return xfer_fail(ctx, x, e, NULL, XFER_END_ERROR);
	/* Commit before the final ACK: a client told "done" has a file. */
	e = fs_upload_commit(&x->up, ctx->conf->upload_fsync,
	    ctx->conf->uploads);
	if (e != TFTP_E_NONE)
		return xfer_fail(ctx, x, e, NULL, XFER_END_ERROR);
	xfer_send_ack(ctx, x, x->expect - 1);
	x->result = XFER_END_OK;
	/* The upload is done: report it now, not when the dally ends. */
	xfer_report(ctx, x, now);
	xfer_set_state(x, XFER_S_DALLY);
	xfer_dally_begin(ctx, x);
	/*
	 * Stay to ACK a repeated last DATA (our final ACK may be lost) for
	 * as long as clients take to resend: their own timers, often 5 s,
	 * not ours.
	 */
	dally = XFER_DALLY_FACTOR * xfer_base_rto(ctx, x);
	if (dally < XFER_DALLY_MIN_US)
		dally = XFER_DALLY_MIN_US;
	timer_set(ctx->timers, &x->timer, now + dally);
	return XFER_LIVE;
}

enum xfer_result
xfer_wrq_data(struct xfer_ctx *ctx, struct xfer *x, const struct pkt *p,
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
			xfer_send_ack(ctx, x, x->expect - 1);
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
			xfer_send_ack(ctx, x, x->expect - 1);
			x->gap_acked = 1;
			x->gap_ack_at_us = now;
			x->inwindow = 0;
			x->rtt_ok = 0;
		}
		return XFER_LIVE;
	}
	if (p->u.data.len > x->opts.blksize)
		return xfer_fail(ctx, x, TFTP_E_BADOP, "block larger than blksize",
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
	xfer_rtt_progress(ctx, x, now);
	if (x->state == XFER_S_OACK_SENT)
		xfer_set_state(x, XFER_S_RECEIVING);
	if (p->u.data.len < x->opts.blksize)
		return wrq_last(ctx, x, now);
	if (++x->inwindow >= x->opts.windowsize) {
		xfer_send_ack(ctx, x, x->expect - 1);
		xfer_mark_sent(x, now);
		x->inwindow = 0;
	}
	xfer_arm(ctx, x, now);
	return XFER_LIVE;
}

enum xfer_result
xfer_open_upload(struct xfer_ctx *ctx, struct xfer *x,
    const struct admission *a)
{
	const struct xfer_conf	*set = ctx->conf;
	enum tftp_err		 e;

	x->opts.accepted &= ~OPT_F_MULTICAST;
	e = fs_upload_begin(ctx->rootfd, a->path, set->uploads, set->umask,
	    set->permission_check, &x->up);
	if (e == TFTP_E_NOFD && xfer_make_room(ctx))
		e = fs_upload_begin(ctx->rootfd, a->path, set->uploads,
		    set->umask, set->permission_check, &x->up);
	if (e != TFTP_E_NONE)
		return xfer_refuse(ctx, x, XFER_AT_UPLOAD, e, NULL);
	netascii_dec_init(&x->nadec);
	x->expect = 1;
	return XFER_LIVE;
}
