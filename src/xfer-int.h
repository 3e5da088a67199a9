/*
 * The transfer module's private parts, shared by its own files only
 * (never include this outside src/xfer.c and src/xfer-*.c: the rest of
 * the daemon sees transfers through include/xfer.h, and only these
 * files write a struct xfer):
 *   xfer.c         the start (admission's verdict, the first answer), the
 *                  packets dispatched by state, the end, and the answers
 *                  every side sends (OACK, ACK, ERROR);
 *   xfer-rrq.c     the read side: the file opened, DATA windows, ACKs,
 *                  multicast master clients;
 *   xfer-wrq.c     the write side: the upload opened, DATA taken in, the
 *                  batch's write queue, the last block and the dally;
 *   xfer-timer.c   round trips, timeouts and retransmissions;
 *   xfer-report.c  the outcome: counters, the summary line, the audit event.
 * The functions below were statics of xfer.c; shared now, they carry
 * the module's prefix (xfer_), and none leaves the module.
 */
#ifndef OWL_XFER_INT_H
#define OWL_XFER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "pkt.h"
#include "xfer.h"

struct admission;

/* Lines a flood could multiply, logged sparingly. */
struct xfer_logs {
	/* requests refused for want of a descriptor */
	struct log_limit	 nofd;
	uint64_t		 nofd_warned_us;
	/* requests turned away before they were transfers */
	struct log_limit	 refusals;
};

/* The wire number of absolute block k. */
static inline uint16_t
wire_block(const struct xfer *x, uint64_t k)
{
	if (x->opts.rollover == 1 && k > 0)
		return (uint16_t)((k - 1) % 65535 + 1);
	return (uint16_t)(k & 0xffff);
}

/* xfer.c: states and ends */
void	 xfer_set_state(struct xfer *x, enum xfer_state s);
enum xfer_result xfer_finish(struct xfer *x, enum xfer_end_result r);
/* Answer with ERROR and end with result r (TFTP_E_NOFD: "server busy"). */
enum xfer_result xfer_fail(struct xfer_ctx *ctx, struct xfer *x,
	    uint16_t code, const char *msg, enum xfer_end_result r);
/* Refuse the request at a point, with the reason that follows. */
enum xfer_result xfer_refuse(struct xfer_ctx *ctx, struct xfer *x,
	    enum xfer_at at, uint16_t code, const char *msg);
/* A finished upload stays to re-ACK its last DATA, uncounted. */
void	 xfer_dally_begin(struct xfer_ctx *ctx, struct xfer *x);
/* Close idle cached files after an open found no descriptor: retry? */
int	 xfer_make_room(struct xfer_ctx *ctx);

/* The first answer (OACK, ACK 0 or the first window) and the count of
 * its client's transfers: the request is a transfer now. */
enum xfer_result xfer_start(struct xfer_ctx *ctx, struct xfer *x, uint64_t now);

/* xfer.c: answers */
void	 xfer_send_oack(struct xfer_ctx *ctx, struct xfer *x);
void	 xfer_send_ack(struct xfer_ctx *ctx, struct xfer *x, uint64_t k);

/* xfer-rrq.c: the read side */
enum xfer_result xfer_open_read(struct xfer_ctx *ctx, struct xfer *x,
	    const struct admission *a, uint64_t now);
/* The file is open: blocks, tsize, multicast session. */
void	 xfer_read_opened(struct xfer_ctx *ctx, struct xfer *x);
/* Send blocks from..from+count-1 as one run; -1: the file failed. */
int	 xfer_send_run(struct xfer_ctx *ctx, struct xfer *x, uint64_t from,
	    size_t count);
/* n DATA packets of blocks sent before left again. */
void	 xfer_count_dup(struct xfer_ctx *ctx, struct xfer *x, uint64_t n);
/* Send the window that starts after the last ACKed block; the timer. */
enum xfer_result xfer_send_window(struct xfer_ctx *ctx, struct xfer *x,
	    uint64_t now);
enum xfer_result xfer_rrq_ack(struct xfer_ctx *ctx, struct xfer *x,
	    uint16_t w, uint64_t now);
enum xfer_result xfer_mc_ack(struct xfer_ctx *ctx, struct xfer *x,
	    uint16_t w, uint64_t now);
/* x takes over from prev (leaving) as its session's master client. */
void	 xfer_mc_promote(struct xfer_ctx *ctx, struct xfer *x,
	    const struct xfer *prev, uint64_t now);

/* xfer-wrq.c: the write side */
enum xfer_result xfer_open_upload(struct xfer_ctx *ctx, struct xfer *x,
	    const struct admission *a);
enum xfer_result xfer_wrq_data(struct xfer_ctx *ctx, struct xfer *x,
	    const struct pkt *p, uint64_t now);
/* Forget x's queued blocks: it is ending. */
void	 xfer_wq_drop(struct xfer_ctx *ctx, const struct xfer *x);

/* xfer-origin.c: a read under an HTTP origin waits for the master */
enum xfer_result xfer_origin_ask(struct xfer_ctx *ctx, struct xfer *x,
	    const struct origin_rule *rule, const char *rest, const char *path,
	    uint64_t now);
/* The master gave no answer in time. */
enum xfer_result xfer_origin_timeout(struct xfer_ctx *ctx, struct xfer *x);

/* xfer-timer.c: round trips and the timer */
void	 xfer_arm(struct xfer_ctx *ctx, struct xfer *x, uint64_t now);
/* The client's timeout, else ours (always ours for multicast). */
uint64_t xfer_base_rto(const struct xfer_ctx *ctx, const struct xfer *x);
/* Something that expects an answer left just now, for the first time. */
void	 xfer_mark_sent(struct xfer *x, uint64_t now);
/* The timeout after progress: the client's, else from the round trip. */
uint64_t xfer_adapted_rto(const struct xfer_ctx *ctx, const struct xfer *x);
/* Progress: a round trip sample if any, and no more backoff. */
void	 xfer_rtt_progress(struct xfer_ctx *ctx, struct xfer *x, uint64_t now);

/* xfer-report.c: count the outcome, log and audit it, once. */
void	 xfer_report(struct xfer_ctx *ctx, struct xfer *x, uint64_t now);

#endif /* OWL_XFER_INT_H */
