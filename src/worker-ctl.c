/*
 * A worker's control: the master's channel (quit, terminate, reopen,
 * stats and transfer lists asked for, requests handed over from another
 * worker, the SERVE that opens a gated generation) and the signals.  The
 * periodic stats go to the master from here too.  What the handlers
 * start (a drain, an abort) is worker-loop.c's.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "audit.h"
#include "chan.h"
#include "fcache.h"
#include "io.h"
#include "loadboard.h"
#include "log.h"
#include "pkt.h"
#include "timer.h"
#include "worker-int.h"
#include "xfer.h"

static void	 on_quit(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_terminate(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_reopen(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_stats_req(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_xfers_req(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_request(struct chan *, const struct chan_hdr *,
		    const void *, void *);
static void	 on_serve(struct chan *, const struct chan_hdr *,
		    const void *, void *);

void
worker_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct worker	*w = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		worker_abort_all(w, "server shutting down");
		(void)event_base_loopbreak(w->base);
		break;
	case SIGQUIT:
		worker_start_drain(w, 1);
		break;
	default:
		break;
	}
}

void
worker_send_stats(struct worker *w, int droppable)
{
	struct chan_stats	 cs;

	if (!w->chan_up)
		return;
	memset(&cs, 0, sizeof cs);
	w->stats.fcache_hits = fcache_hits(w->fcache);
	w->stats.fcache_misses = fcache_misses(w->fcache);
	w->stats.fcache_evicted = fcache_evicted(w->fcache);
	w->stats.readahead_fills = w->ctx.ra.fills;
	w->stats.readahead_refused = w->ctx.ra.refused;
	cs.stats = w->stats;
	cs.active = w->tab.active;
	cs.draining = (uint32_t)w->draining;
	(void)chan_send(&w->chan, CHAN_T_STATS, &cs, sizeof cs, droppable);
}

void
worker_stats_cb(evutil_socket_t fd, short ev, void *arg)
{
	worker_send_stats(arg, 1);
}

static void
on_quit(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	const struct chan_quit	*q = body;

	worker_start_drain(arg, q->close_listen != 0);
}

static void
on_terminate(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct worker	*w = arg;

	worker_abort_all(w, "server shutting down");
	w->exiting = 1;
	(void)event_base_loopbreak(w->base);
}

static void
on_reopen(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	if (log_reopen() == -1)
		log_warn("reopen log file");
	if (audit_reopen() == -1)
		log_warn("reopen audit file");
}

static void
on_stats_req(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	worker_send_stats(arg, 0);
}

static void
on_xfers_req(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	const struct chan_xfers_req	*rq = body;
	struct worker			*w = arg;
	struct chan_xfers		*m;
	uint64_t			 now = timer_now_us();
	size_t				 i;

	if ((m = calloc(1, sizeof *m)) == NULL)
		return;
	m->req = rq->req;
	for (i = 0; i < w->tab.cap; i++) {
		const struct xfer	*x = &w->tab.pool[i];

		if (!xfer_live(x))
			continue;
		xfer_describe(x, &m->rec[m->count++], now);
		if (m->count == CHAN_XFERS_PER_MSG) {
			(void)chan_send(c, CHAN_T_XFERS, m, sizeof *m, 0);
			m->count = 0;
		}
	}
	m->last = 1;
	(void)chan_send(c, CHAN_T_XFERS, m, sizeof *m, 0);
	free(m);
}

/* A request another worker received for a file whose session is ours. */
static void
on_request(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct worker			*w = arg;
	const struct chan_request	*rq = body;
	uint8_t				 buf[CHAN_REQUEST_MAX];
	struct io_dgram			 d;
	struct pkt			 p;

	/* Counted as coming here when it was passed (balance): here now. */
	if (rq->balanced && rq->slot == (uint32_t)w->slot)
		loadboard_arrived(w->board, (unsigned)w->slot);
	if (w->draining || rq->len > sizeof buf ||
	    rq->peerlen > sizeof d.peer)
		return;
	memcpy(buf, rq->dgram, rq->len);
	memset(&d, 0, sizeof d);
	d.buf = buf;
	d.len = rq->len;
	d.peer = rq->peer;
	d.peerlen = rq->peerlen;
	d.local = rq->local;
	if (pkt_decode(d.buf, d.len, &p) != PKT_OK || p.op != TFTP_OP_RRQ) {
		w->stats.bad_packet++;
		return;
	}
	worker_handle_request(w, &d, &p, -1, timer_now_us());
	worker_after_batch(w);
}

/* The master has an origin's file in the cache, or cannot have it. */
static void
on_origin_done(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	worker_origin_done(arg, body);
}

/* A transfer's ask for an origin's file (xfer_ctx.origin_ask). */
int
worker_origin_ask(void *arg, const struct chan_origin *m)
{
	struct worker	*w = arg;

	if (!w->chan_up)
		return -1;
	return chan_send(&w->chan, CHAN_T_ORIGIN, m, sizeof *m, 0) == 0 ? 0 :
	    -1;
}

/* Our generation is committed: start reading requests. */
static void
on_serve(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct worker	*w = arg;

	if (!w->draining && worker_listen_enable(w) == -1) {
		log_warnx("cannot watch the listen sockets");
		worker_start_drain(w, 0);
	}
}

const struct chan_handler worker_handlers[] = {
	{ CHAN_T_QUIT, sizeof(struct chan_quit), on_quit },
	{ CHAN_T_TERMINATE, 0, on_terminate },
	{ CHAN_T_REOPEN, 0, on_reopen },
	{ CHAN_T_STATS_REQ, 0, on_stats_req },
	{ CHAN_T_XFERS_REQ, sizeof(struct chan_xfers_req), on_xfers_req },
	{ CHAN_T_REQUEST, sizeof(struct chan_request), on_request },
	{ CHAN_T_SERVE, 0, on_serve },
	{ CHAN_T_ORIGIN_DONE, sizeof(struct chan_origin_done),
	  on_origin_done },
	{ 0, 0, NULL }
};

/* The master is gone: finish what we have, then go. */
void
worker_master_gone(struct chan *c, void *arg)
{
	struct worker	*w = arg;

	log_warnx("master went away, draining");
	w->chan_up = 0;
	worker_start_drain(w, 0);
}
