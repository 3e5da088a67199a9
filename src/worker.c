/*
 * A worker: one libevent loop that owns its slot's listen sockets, its
 * transfer sockets, its transfers and their timers.  Each readable
 * socket is drained one recvmmsg() batch per callback (so a busy socket
 * cannot starve the others), and whatever the batch produced leaves in
 * one flush at its end.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "admit.h"
#include "audit.h"
#include "chan.h"
#include "clients.h"
#include "compat.h"
#include "fcache.h"
#include "fs.h"
#include "io.h"
#include "log.h"
#include "mcast.h"
#include "pkt.h"
#include "priv.h"
#include "sock.h"
#include "stats.h"
#include "timer.h"
#include "worker.h"
#include "xfer.h"
#include "xfertab.h"

#define WORKER_MTU_CACHE	16		/* interfaces remembered */
#define WORKER_FCACHE_FILES	256		/* hot files kept open */
#define WORKER_MTU_TTL_US	(10 * 1000000ULL)	/* then asked again */

#define xfer_of_timer(e) \
	((struct xfer *)((char *)(e) - offsetof(struct xfer, timer)))

struct worker {
	const struct conf	*conf;
	int			 slot;
	struct event_base	*base;
	struct io		*io;
	struct stats		 stats;
	struct xfertab		 tab;
	struct timer_heap	 timers;
	struct xfer_ctx		 ctx;
	struct admit_policy	 admit;
	struct clients		*clients;	/* per-address limits */
	struct fcache		*fcache;	/* hot files kept open */
	struct mcast		*mcast;		/* RFC 2090 sessions, or NULL */
	int			 mcast_ifindex;	/* 0: the request's interface */
	int			 rootfd;
	uint32_t		 generation;
	struct chan		 chan;
	int			 chan_up;
	int			 draining;
	int			 exiting;	/* leave the loop: no more work */

	int			 listenfd[CONF_LISTEN_MAX];
	struct event		*listen_ev[CONF_LISTEN_MAX];
	size_t			 nlisten;
	int			 xfd4, xfd6;	/* transfer sockets */
	struct event		*xev4, *xev6;

	struct event		*timer_ev;
	uint64_t		 timer_at;	/* TIMER_NONE if idle */
	struct event		*write_ev;
	int			 write_fd;
	struct mtu_entry {
		int		 ifindex;
		int		 mtu;
		uint64_t	 at;
	}			 mtu[WORKER_MTU_CACHE];
	struct event		*stats_ev;
	struct event		*drain_ev;
	struct event		*sig_ev[4];
};

static uint8_t *
sink_stage(void *arg, size_t cap)
{
	struct worker	*w = arg;

	return io_stage(w->io, cap);
}

static void
sink_commit(void *arg, const struct xfer *x, size_t len, size_t segsize)
{
	struct worker	*w = arg;

	io_commit(w->io, x->sockfd, len, segsize,
	    (const struct sockaddr *)&x->peer, x->peerlen, &x->local, x);
}

static void
sink_commit_to(void *arg, const struct xfer *x, const struct sockaddr *to,
    socklen_t tolen, size_t len, size_t segsize)
{
	struct worker	*w = arg;
	struct io_local	 local;

	mcast_out_local(&x->local, w->mcast_ifindex, &local);
	io_commit_group(w->io, x->sockfd, len, segsize, to, tolen, &local, x);
}

/*
 * The kernel refused datagrams of a transfer: they count in its log line
 * while it lives.  The queue leaves at the end of the batch, so the
 * transfer may have ended since (its line is out: only the worker's
 * counter has them), or its slot may serve a new peer already.
 */
static void
sink_refused(void *arg, const void *owner, const struct sockaddr *to,
    size_t n, int err)
{
	struct worker	*w = arg;
	struct xfer	*x;

	if ((x = xfertab_owner(&w->tab, owner)) != NULL)
		xfer_send_failed(x, to, n);
}

static void
end_xfer(struct worker *w, struct xfer *x, uint64_t now)
{
	xfer_end(&w->ctx, x, now);
	xfertab_release(&w->tab, x);
}

static void	 write_cb(evutil_socket_t, short, void *);

/*
 * Transfers still moving data.  A finished upload dallying for a repeated
 * last DATA does not hold up a drain: it is already on disk and reported.
 * Only asked while draining, so the walk over the pool is rare.
 */
static size_t
unfinished(const struct worker *w)
{
	size_t	 i, n = 0;

	if (w->tab.active == 0)
		return 0;
	for (i = 0; i < w->tab.cap; i++) {
		enum xfer_state	 st = w->tab.pool[i].state;

		if (st != XFER_S_IDLE && st != XFER_S_DONE &&
		    st != XFER_S_DALLY)
			n++;
	}
	return n;
}

/* After every batch: send, re-arm the timer, maybe finish draining. */
static void
after_batch(struct worker *w)
{
	uint64_t	 next;

	if (io_flush(w->io) == -1) {
		int	 fd = io_blocked_fd(w->io);

		if (w->write_ev == NULL || w->write_fd != fd) {
			if (w->write_ev != NULL)
				event_free(w->write_ev);
			w->write_ev = event_new(w->base, fd, EV_WRITE,
			    write_cb, w);
			w->write_fd = fd;
		}
		if (w->write_ev != NULL)
			(void)event_add(w->write_ev, NULL);
	}
	next = timer_next(&w->timers);
	if (next != w->timer_at) {
		w->timer_at = next;
		if (next == TIMER_NONE)
			(void)event_del(w->timer_ev);
		else {
			uint64_t	 now = timer_now_us();
			uint64_t	 d = next > now ? next - now : 0;
			struct timeval	 tv;

			tv.tv_sec = (time_t)(d / 1000000);
			tv.tv_usec = (suseconds_t)(d % 1000000);
			(void)event_add(w->timer_ev, &tv);
		}
	}
	if (w->draining && !w->exiting && unfinished(w) == 0) {
		w->exiting = 1;
		(void)event_base_loopbreak(w->base);
	}
}

static void
write_cb(evutil_socket_t fd, short ev, void *arg)
{
	after_batch(arg);
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker		*w = arg;
	struct timer_entry	*e;
	uint64_t		 now = timer_now_us();

	w->timer_at = TIMER_NONE;
	while ((e = timer_pop_expired(&w->timers, now)) != NULL) {
		struct xfer	*x = xfer_of_timer(e);

		if (xfer_timeout(&w->ctx, x, now) == XFER_FINISHED)
			end_xfer(w, x, now);
	}
	after_batch(w);
}

static int
transfer_fd(const struct worker *w, int family)
{
	return family == AF_INET6 ? w->xfd6 : w->xfd4;
}


/*
 * The largest blksize for a request that came in on local: the
 * configured one, or what fits the interface's MTU without IP
 * fragmentation (MTU - 20/40 IP - 8 UDP - 4 TFTP), since many PXE ROMs
 * cannot reassemble fragments.
 */
static unsigned
blksize_limit(struct worker *w, const struct io_local *local, int fd,
    uint64_t now)
{
	struct mtu_entry	*e;
	int			 mtu, blk;

	if (w->conf->blksize_max != 0)
		return w->conf->blksize_max;
	if (local->ifindex <= 0 || fd == -1)
		return OPT_BLKSIZE_MAX;
	e = &w->mtu[(unsigned)local->ifindex % WORKER_MTU_CACHE];
	if (e->ifindex != local->ifindex || now - e->at > WORKER_MTU_TTL_US) {
		if ((mtu = sock_ifmtu(fd, local->ifindex)) == -1)
			return OPT_BLKSIZE_MAX;
		e->ifindex = local->ifindex;
		e->mtu = mtu;
		e->at = now;
	}
	blk = e->mtu - (local->family == AF_INET6 ? 52 : 32);
	if (blk > OPT_BLKSIZE_MAX)
		return OPT_BLKSIZE_MAX;
	return blk < OPT_BLKSIZE_MIN ? OPT_BLKSIZE_MIN : (unsigned)blk;
}

/*
 * RFC 2090: a request for multicast belongs to the worker that owns its
 * file, so that all of the file's clients share one session and one
 * group.  Another worker's is passed on through the master; the owner
 * answers from its own transfer socket, where the client's ACKs then go.
 * Not with single_port: the client's ACKs would come back here.
 */
static int
hand_off(struct worker *w, const struct io_dgram *d, const struct pkt *p)
{
	struct chan_request	 rq;
	unsigned		 owner;
	size_t			 i;

	if (w->mcast == NULL || w->conf->single_port || w->conf->workers < 2 ||
	    !w->chan_up || p->op != TFTP_OP_RRQ || d->len > sizeof rq.dgram)
		return 0;
	for (i = 0; i < p->u.req.nopts; i++)
		if (strcasecmp(p->u.req.opts[i].name, "multicast") == 0)
			break;
	if (i == p->u.req.nopts)
		return 0;
	owner = mcast_owner(p->u.req.file, p->u.req.filelen,
	    (unsigned)w->conf->workers);
	if (owner == (unsigned)w->slot)
		return 0;
	/* A repeat of a request served here (one the master handed back)
	 * stays here: the owner would start a second transfer. */
	if (xfertab_lookup(&w->tab, (const struct sockaddr *)&d->peer) != NULL)
		return 0;
	memset(&rq, 0, sizeof rq);
	rq.slot = owner;
	rq.len = (uint32_t)d->len;
	rq.peerlen = d->peerlen;
	rq.peer = d->peer;
	rq.local = d->local;
	memcpy(rq.dgram, d->buf, d->len);
	/* A full channel: serve it here (a session of its own) rather than
	 * make the client wait for its retry. */
	if (chan_send(&w->chan, CHAN_T_HANDOFF, &rq, sizeof rq, 1) != 0)
		return 0;
	w->stats.mcast_handoffs++;
	return 1;
}

/*
 * A request: admission decides (admit.h); here it is carried out.  What
 * the verdict ends goes first: a superseded transfer, a reclaimed slot.
 */
static void
handle_request(struct worker *w, const struct io_dgram *d,
    const struct pkt *p, int listenfd, uint64_t now)
{
	const struct sockaddr	*peer = (const struct sockaddr *)&d->peer;
	struct admission	 a;
	struct xfer		*x;
	int			 fd = w->conf->single_port ? listenfd :
				    transfer_fd(w, peer->sa_family);

	if (fd == -1)
		return;
	admit_request(&w->admit, p, peer, blksize_limit(w, &d->local, fd, now),
	    now, &a);
	if (a.supersede != NULL) {
		xfer_supersede(a.supersede);
		end_xfer(w, a.supersede, now);
	}
	if (a.reclaim != NULL)
		end_xfer(w, a.reclaim, now);
	if (a.verdict == ADMIT_REPEAT || a.verdict == ADMIT_BURST) {
		w->stats.dup_request++;
		if (a.verdict == ADMIT_REPEAT)
			xfer_repeat(&w->ctx, a.live, now);
	} else if (!a.asked)
		xfer_turn_away(&w->ctx, d, fd, &a, now);
	else if ((x = xfertab_alloc(&w->tab, peer, d->peerlen)) != NULL &&
	    xfer_request(&w->ctx, x, p, &a, &d->local, fd, now) ==
	    XFER_FINISHED)
		end_xfer(w, x, now);
}

/*
 * One batch from a socket.  Listen sockets take requests; transfer
 * sockets take the rest of every transfer, found by the peer's address
 * and port.  With single_port the listen socket does both.
 */
static void
dgram_batch(struct worker *w, int fd, int is_listen)
{
	struct io_dgram	*d;
	struct xfer	*x, *failed[XFER_WQ_MAX];
	struct pkt	 p;
	uint64_t	 now;
	int		 i, n, request;

	if ((n = io_recv_batch(w->io, fd, &d)) == -1) {
		log_warn("recvmmsg");
		return;
	}
	now = timer_now_us();
	for (i = 0; i < n; i++) {
		if (d[i].truncated ||
		    pkt_decode(d[i].buf, d[i].len, &p) != PKT_OK) {
			w->stats.bad_packet++;
			continue;
		}
		request = p.op == TFTP_OP_RRQ || p.op == TFTP_OP_WRQ;
		if (is_listen && request) {
			if (!hand_off(w, &d[i], &p))
				handle_request(w, &d[i], &p, fd, now);
			continue;
		}
		if (is_listen && !w->conf->single_port) {
			w->stats.bad_packet++;
			continue;
		}
		x = xfertab_lookup(&w->tab, (struct sockaddr *)&d[i].peer);
		if (x == NULL) {
			w->stats.unknown_tid++;
			/* Never answer an ERROR with an ERROR. */
			if (p.op != TFTP_OP_ERROR)
				xfer_send_error(&w->ctx, &d[i], fd,
				    TFTP_E_BADID, "unknown transfer ID");
			continue;
		}
		if (xfer_input(&w->ctx, x, &p, now) == XFER_FINISHED)
			end_xfer(w, x, now);
	}
	/* The uploads' blocks, before the receive buffers are reused. */
	n = (int)xfer_flush_writes(&w->ctx, failed);
	for (i = 0; i < n; i++)
		end_xfer(w, failed[i], now);
	after_batch(w);
}

static void
listen_cb(evutil_socket_t fd, short ev, void *arg)
{
	dgram_batch(arg, fd, 1);
}

static void
transfer_cb(evutil_socket_t fd, short ev, void *arg)
{
	dgram_batch(arg, fd, 0);
}

static void	 abort_all(struct worker *, const char *);
static int	 listen_enable(struct worker *);

static void
drain_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;

	log_warnx("drain timeout: ending %zu transfers", w->tab.active);
	abort_all(w, "server shutting down");
	after_batch(w);
}

/*
 * Stop taking requests and leave once the live transfers are done, or
 * when drain_timeout says so.  With serve_queued, requests already
 * waiting in the listen sockets are served first: nobody else will read
 * those sockets.
 */
static void
start_drain(struct worker *w, int serve_queued)
{
	struct timeval	 tv;
	size_t		 i;

	if (w->draining)
		return;
	for (i = 0; i < w->nlisten; i++) {
		if (serve_queued && w->listen_ev[i] != NULL)
			listen_cb(w->listenfd[i], EV_READ, w);
		if (w->listen_ev[i] != NULL)
			event_free(w->listen_ev[i]);
		w->listen_ev[i] = NULL;
		(void)close(w->listenfd[i]);
	}
	w->nlisten = 0;
	w->draining = 1;
	log_debug("draining %zu transfers", w->tab.active);
	tv.tv_sec = w->conf->drain_timeout;
	tv.tv_usec = 0;
	if ((w->drain_ev = evtimer_new(w->base, drain_timeout_cb, w)) != NULL)
		(void)evtimer_add(w->drain_ev, &tv);
	after_batch(w);
}

static void
abort_all(struct worker *w, const char *why)
{
	uint64_t	 now = timer_now_us();
	size_t		 i;

	/* All stopped before any ends: no multicast client is made
	 * master on its way out. */
	for (i = 0; i < w->tab.cap; i++)
		if (w->tab.pool[i].state != XFER_S_IDLE)
			xfer_abort(&w->ctx, &w->tab.pool[i], TFTP_E_UNDEF, why);
	for (i = 0; i < w->tab.cap; i++)
		if (w->tab.pool[i].state != XFER_S_IDLE)
			end_xfer(w, &w->tab.pool[i], now);
	(void)io_flush(w->io);
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct worker	*w = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		abort_all(w, "server shutting down");
		(void)event_base_loopbreak(w->base);
		break;
	case SIGQUIT:
		start_drain(w, 1);
		break;
	default:
		break;
	}
}

static void
send_stats(struct worker *w, int droppable)
{
	struct chan_stats	 cs;

	if (!w->chan_up)
		return;
	memset(&cs, 0, sizeof cs);
	w->stats.fcache_hits = fcache_hits(w->fcache);
	w->stats.fcache_misses = fcache_misses(w->fcache);
	w->stats.fcache_evicted = fcache_evicted(w->fcache);
	cs.stats = w->stats;
	cs.active = w->tab.active;
	cs.draining = (uint32_t)w->draining;
	(void)chan_send(&w->chan, CHAN_T_STATS, &cs, sizeof cs, droppable);
}

static void
stats_cb(evutil_socket_t fd, short ev, void *arg)
{
	send_stats(arg, 1);
}

static void
on_quit(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	const struct chan_quit	*q = body;

	start_drain(arg, q->close_listen != 0);
}

static void
on_terminate(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct worker	*w = arg;

	abort_all(w, "server shutting down");
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
	send_stats(arg, 0);
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
	handle_request(w, &d, &p, -1, timer_now_us());
	after_batch(w);
}

/* Our generation is committed: start reading requests. */
static void
on_serve(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct worker	*w = arg;

	if (!w->draining && listen_enable(w) == -1) {
		log_warnx("cannot watch the listen sockets");
		start_drain(w, 0);
	}
}

static const struct chan_handler worker_handlers[] = {
	{ CHAN_T_QUIT, sizeof(struct chan_quit), on_quit },
	{ CHAN_T_TERMINATE, 0, on_terminate },
	{ CHAN_T_REOPEN, 0, on_reopen },
	{ CHAN_T_STATS_REQ, 0, on_stats_req },
	{ CHAN_T_XFERS_REQ, sizeof(struct chan_xfers_req), on_xfers_req },
	{ CHAN_T_REQUEST, sizeof(struct chan_request), on_request },
	{ CHAN_T_SERVE, 0, on_serve },
	{ 0, 0, NULL }
};

/* The master is gone: finish what we have, then go. */
static void
on_master_gone(struct chan *c, void *arg)
{
	struct worker	*w = arg;

	log_warnx("master went away, draining");
	w->chan_up = 0;
	start_drain(w, 0);
}

/* Start reading the listen sockets (once; later calls do nothing). */
static int
listen_enable(struct worker *w)
{
	size_t	 i;

	for (i = 0; i < w->nlisten; i++) {
		if (w->listen_ev[i] != NULL)
			continue;
		w->listen_ev[i] = event_new(w->base, w->listenfd[i],
		    EV_READ | EV_PERSIST, listen_cb, w);
		if (w->listen_ev[i] == NULL ||
		    event_add(w->listen_ev[i], NULL) == -1)
			return -1;
	}
	return 0;
}

/*
 * A gated worker (a new generation, or the first) reads no request until
 * the master says SERVE: a reload that fails leaves no transfer behind.
 */
static int
setup_events(struct worker *w, int gated)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
	struct timeval		 tv;
	size_t			 i;

	if (!gated && listen_enable(w) == -1)
		return -1;
	if (w->xfd4 != -1 && ((w->xev4 = event_new(w->base, w->xfd4,
	    EV_READ | EV_PERSIST, transfer_cb, w)) == NULL ||
	    event_add(w->xev4, NULL) == -1))
		return -1;
	if (w->xfd6 != -1 && ((w->xev6 = event_new(w->base, w->xfd6,
	    EV_READ | EV_PERSIST, transfer_cb, w)) == NULL ||
	    event_add(w->xev6, NULL) == -1))
		return -1;
	if ((w->timer_ev = evtimer_new(w->base, timer_cb, w)) == NULL)
		return -1;
	tv.tv_sec = w->conf->stats_interval_ms / 1000;
	tv.tv_usec = (w->conf->stats_interval_ms % 1000) * 1000;
	if ((w->stats_ev = event_new(w->base, -1, EV_PERSIST, stats_cb,
	    w)) == NULL || event_add(w->stats_ev, &tv) == -1)
		return -1;
	/* SIGHUP belongs to the master; a worker just must not die of it. */
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((w->sig_ev[i] = evsignal_new(w->base, sigs[i], signal_cb,
		    w)) == NULL || evsignal_add(w->sig_ev[i], NULL) == -1)
			return -1;
	return 0;
}

static void
teardown(struct worker *w)
{
	size_t	 i;

	for (i = 0; i < w->nlisten; i++) {
		if (w->listen_ev[i] != NULL)
			event_free(w->listen_ev[i]);
		(void)close(w->listenfd[i]);
	}
	for (i = 0; i < sizeof w->sig_ev / sizeof w->sig_ev[0]; i++)
		if (w->sig_ev[i] != NULL)
			event_free(w->sig_ev[i]);
	if (w->xev4 != NULL)
		event_free(w->xev4);
	if (w->xev6 != NULL)
		event_free(w->xev6);
	if (w->timer_ev != NULL)
		event_free(w->timer_ev);
	if (w->write_ev != NULL)
		event_free(w->write_ev);
	if (w->stats_ev != NULL)
		event_free(w->stats_ev);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	if (w->chan_up || w->chan.rev != NULL)
		chan_close(&w->chan);
	if (w->xfd4 != -1)
		(void)close(w->xfd4);
	if (w->xfd6 != -1)
		(void)close(w->xfd6);
	if (w->rootfd != -1)
		(void)close(w->rootfd);
	xfertab_clear(&w->tab);
	clients_free(w->clients);
	mcast_free(w->mcast);
	fcache_free(w->fcache);
	timer_heap_clear(&w->timers);
	xfer_ctx_clear(&w->ctx);
	io_free(w->io);
	if (w->base != NULL)
		event_base_free(w->base);
}

/*
 * RFC 2090: this worker's share of the group pool, and the TTL on every
 * IPv4 socket DATA may leave by (the listen sockets with single_port).
 */
static int
setup_multicast(struct worker *w)
{
	const struct conf	*conf = w->conf;
	struct mcast_pool_conf	 pc;
	unsigned char		 ttl = (unsigned char)conf->mcast_ttl;
	int			 hops = conf->mcast_ttl;
	size_t			 i;

	if (conf->mcast_interface[0] != '\0' &&
	    (w->mcast_ifindex = (int)if_nametoindex(conf->mcast_interface)) ==
	    0)
		log_warnx("multicast.interface %s: no such interface; DATA "
		    "leaves by the requests' interfaces", conf->mcast_interface);
	for (i = 0; i < w->nlisten; i++) {
		int	 fd4 = conf->single_port ? w->listenfd[i] : w->xfd4;
		int	 fd6 = conf->single_port ? w->listenfd[i] : w->xfd6;

		/* A socket of the other family refuses the option. */
		if (fd4 != -1 && setsockopt(fd4, IPPROTO_IP, IP_MULTICAST_TTL,
		    &ttl, sizeof ttl) == -1 && errno != ENOPROTOOPT &&
		    errno != EINVAL) {
			log_warn("multicast: IP_MULTICAST_TTL");
			return -1;
		}
		if (fd6 != -1 && setsockopt(fd6, IPPROTO_IPV6,
		    IPV6_MULTICAST_HOPS, &hops, sizeof hops) == -1 &&
		    errno != ENOPROTOOPT && errno != EINVAL) {
			log_warn("multicast: IPV6_MULTICAST_HOPS");
			return -1;
		}
	}
	memset(&pc, 0, sizeof pc);
	pc.first = conf->mcast_range.first;
	pc.last = conf->mcast_range.last;
	pc.first6 = conf->mcast_range6.first;
	pc.count6 = conf->mcast_range6.count;
	pc.port = (uint16_t)conf->mcast_port;
	pc.slot = (unsigned)w->slot;
	pc.nslots = (unsigned)conf->workers;
	pc.generation = w->generation;
	w->mcast = mcast_new(&pc);
	return 0;
}

static int
open_transfer_sockets(struct worker *w)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	size_t			 i;

	for (i = 0; i < w->nlisten; i++) {
		int	*fdp;

		len = sizeof ss;
		if (getsockname(w->listenfd[i], (struct sockaddr *)&ss,
		    &len) == -1)
			return -1;
		fdp = ss.ss_family == AF_INET6 ? &w->xfd6 : &w->xfd4;
		if (*fdp != -1)
			continue;
		*fdp = sock_transfer(ss.ss_family, w->conf->so_rcvbuf,
		    w->conf->so_sndbuf, w->conf->port_range.lo, w->conf->port_range.hi,
		    (unsigned)w->slot * 7919u + (unsigned)getpid());
		if (*fdp == -1)
			return -1;
	}
	return 0;
}

/*
 * Startup failed: log it and tell the master why, so a reload or a start
 * that cannot serve reports the reason instead of only "exited".  The
 * reason names the configuration key first ("root: /srv: ...").
 */
static void __attribute__((format(printf, 3, 4)))
startup_failed(int chanfd, int slot, const char *fmt, ...)
{
	struct chan_failed	 f;
	va_list			 ap;

	memset(&f, 0, sizeof f);
	va_start(ap, fmt);
	(void)vsnprintf(f.reason, sizeof f.reason, fmt, ap);
	va_end(ap);
	log_warnx("%s", f.reason);
	if (chanfd != -1)
		(void)chan_send_fd(chanfd, (uint32_t)slot, CHAN_T_FAILED, &f,
		    sizeof f);
}

int
worker_main(const struct conf *conf, int slot, const int *listenfds,
    size_t nlisten, int chanfd, uint32_t generation, int gated)
{
	struct worker	 w;
	struct chan_hello hello;
	size_t		 share = conf->worker_share;
	sigset_t	 all;
	struct rlimit	 rl;
	char		*cause = NULL;
	size_t		 i, cached;
	int		 rc = WORKER_EXIT_ERROR;

	log_set_role("worker[%d]", slot);
	audit_set_worker(slot);
	memset(&w, 0, sizeof w);
	w.conf = conf;
	w.slot = slot;
	w.generation = generation;
	w.xfd4 = w.xfd6 = w.rootfd = -1;
	w.write_fd = -1;
	w.timer_at = TIMER_NONE;
	w.nlisten = nlisten;
	for (i = 0; i < nlisten; i++)
		w.listenfd[i] = listenfds[i];

	(void)signal(SIGPIPE, SIG_IGN);
	/* Past RLIMIT_FSIZE a write must fail (EFBIG: ERROR 3 to the
	 * client, temporary file removed), not kill the worker. */
	(void)signal(SIGXFSZ, SIG_IGN);

	if ((w.rootfd = fs_root_open(conf->root)) == -1) {
		startup_failed(chanfd, slot, "root: %s: %s", conf->root,
		    strerror(errno));
		rc = WORKER_EXIT_FATAL;
		goto out;
	}
	if (!conf->single_port && open_transfer_sockets(&w) == -1) {
		if (errno == EADDRINUSE && conf->port_range.lo != 0) {
			/* Respawning cannot free a port: do not loop. */
			startup_failed(chanfd, slot, "port_range: %s: no free "
			    "port for a transfer socket", conf->port_range.text);
			rc = WORKER_EXIT_FATAL;
		} else
			startup_failed(chanfd, slot, "transfer socket: %s",
			    strerror(errno));
		goto out;
	}
	if (priv_drop(conf, &w.rootfd, &cause) == -1) {
		startup_failed(chanfd, slot, "%s", cause);
		free(cause);
		rc = WORKER_EXIT_FATAL;
		goto out;
	}
	/* The cache must leave most descriptors to transfers (fcache.h). */
	cached = WORKER_FCACHE_FILES;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cached = fcache_size(rl.rlim_cur, WORKER_FCACHE_FILES);
	if (xfer_ctx_init(&w.ctx) == -1 ||
	    (w.base = event_base_new()) == NULL ||
	    (w.io = io_new(&w.stats)) == NULL ||
	    xfertab_init(&w.tab, share) == -1 ||
	    timer_heap_init(&w.timers, share) == -1 ||
	    (w.clients = clients_new(share * 2 + 1024, conf->request_rate,
	    conf->request_burst)) == NULL ||
	    (w.fcache = fcache_new(cached)) == NULL) {
		startup_failed(chanfd, slot, "out of memory at start");
		goto out;
	}
	io_set_refused(w.io, sink_refused, &w);
	w.ctx.sink.stage = sink_stage;
	w.ctx.sink.commit = sink_commit;
	w.ctx.sink.commit_to = sink_commit_to;
	w.ctx.sink.arg = &w;
	w.ctx.timers = &w.timers;
	w.ctx.stats = &w.stats;
	w.ctx.rootfd = w.rootfd;
	w.ctx.uploads = conf->uploads;
	w.ctx.perm_check = conf->permission_check;
	fcache_set_world(w.fcache, conf->permission_check);
	w.ctx.upload_fsync = conf->upload_fsync;
	w.ctx.umask = conf->umask;
	w.ctx.limits.blksize_max = conf->blksize_max;
	w.ctx.limits.windowsize_max = conf->windowsize_max;
	w.ctx.limits.max_upload_size = conf->max_upload_size;
	w.ctx.timeout_ms = conf->timeout_ms;
	w.ctx.rto_min_ms = conf->rto_min_ms;
	w.ctx.unique_root = conf->unique_root;
	w.ctx.read_acl = conf->read_acl;
	w.ctx.write_acl = conf->write_acl;
	w.ctx.remap = conf->remap;
	w.ctx.fcache = w.fcache;
	w.ctx.clients = w.clients;
	w.admit.xfer = &w.ctx;
	w.admit.tab = &w.tab;
	w.admit.max_per_client = conf->max_transfers_per_client;
	w.ctx.retries = conf->retries;
	if (conf->mcast_enable && setup_multicast(&w) == -1) {
		startup_failed(chanfd, slot, "multicast: cannot set the TTL "
		    "of the sockets");
		goto out;
	}
	w.ctx.mcast = w.mcast;
	if (setup_events(&w, gated) == -1 ||
	    chan_open(&w.chan, w.base, chanfd, (uint32_t)slot,
	    worker_handlers, on_master_gone, &w) == -1) {
		startup_failed(chanfd, slot, "cannot set up events");
		goto out;
	}
	chanfd = -1;
	w.chan_up = 1;
	hello.pid = (uint32_t)getpid();
	hello.generation = generation;
	(void)chan_send(&w.chan, CHAN_T_HELLO, &hello, sizeof hello, 0);
	/* Signals were blocked across fork(); our handlers are in place. */
	(void)sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	log_debug("started, pid %ld, open-file cache of %zu", (long)getpid(),
	    cached);
	if (event_base_dispatch(w.base) == -1)
		log_warnx("event loop failed");
	abort_all(&w, "server shutting down");
	/* Last words: final counters, so the master's totals are exact. */
	send_stats(&w, 0);
	if (w.chan_up) {
		(void)chan_send(&w.chan, CHAN_T_DRAINED, NULL, 0, 0);
		chan_flush_wait(&w.chan, 1000);
	}
	rc = WORKER_EXIT_OK;
out:
	/*
	 * Leaving: freeing the signal events restores the default actions,
	 * and the SIGTERM that follows the master's TERMINATE may still be
	 * on its way.  Blocked, it is never delivered and we exit by
	 * ourselves (SIGKILL, the master's safety net, cannot be blocked).
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	if (chanfd != -1)
		(void)close(chanfd);
	teardown(&w);
	return rc;
}
