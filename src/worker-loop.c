/*
 * A worker's loop: each readable socket is drained one recvmmsg() batch
 * per callback (so a busy socket cannot starve the others), or, under
 * io_uring, the ring's completions are reaped up to a budget, socket by
 * socket; each datagram goes to admission or to its transfer, and
 * whatever the batch produced leaves in one flush at its end, when the
 * timer is re-armed.
 * Draining (stop taking requests, leave when the transfers are done)
 * and aborting every transfer are here too.  Startup is worker.c's, the
 * master's channel and the signals worker-ctl.c's.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "admit.h"
#include "chan.h"
#include "io.h"
#include "loadboard.h"
#include "log.h"
#include "mcast.h"
#include "pkt.h"
#include "sock.h"
#include "timer.h"
#include "worker-int.h"
#include "xfer.h"
#include "xfertab.h"

#define xfer_of_timer(e) \
	((struct xfer *)((char *)(e) - offsetof(struct xfer, timer)))

static uint8_t		*sink_stage(void *, size_t);
static void		 sink_commit(void *, const struct xfer *, size_t,
			    size_t);
static void		 sink_commit_to(void *, const struct xfer *,
			    const struct sockaddr *, socklen_t, size_t, size_t);
static void		 sink_refused(void *, const void *,
			    const struct sockaddr *, size_t, int);
static void		 end_xfer(struct worker *, struct xfer *, uint64_t);
static size_t		 unfinished(const struct worker *);
static void		 write_cb(evutil_socket_t, short, void *);
static int		 transfer_fd(const struct worker *, int);
static unsigned		 blksize_limit(struct worker *,
			    const struct io_local *, int, uint64_t);
static int		 asks_multicast(const struct pkt *);
static int		 hand_off(struct worker *, const struct io_dgram *,
			    const struct pkt *);
static void		 dgram_process(struct worker *, int, int,
			    struct io_dgram *, int);
static void		 dgram_batch(struct worker *, int, int);
static int		 is_listen_fd(const struct worker *, int);
static void		 ring_dgrams(void *, int, struct io_dgram *, int);
static void		 listen_cb(evutil_socket_t, short, void *);
static void		 drain_timeout_cb(evutil_socket_t, short, void *);

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

/* The transfers' output goes to this worker's io batch. */
void
worker_set_sinks(struct worker *w)
{
	io_set_refused(w->io, sink_refused, w);
	w->ctx.sink.stage = sink_stage;
	w->ctx.sink.commit = sink_commit;
	w->ctx.sink.commit_to = sink_commit_to;
	w->ctx.sink.arg = w;
}

static void
end_xfer(struct worker *w, struct xfer *x, uint64_t now)
{
	xfer_end(&w->ctx, x, now);
	xfertab_release(&w->tab, x);
}

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
void
worker_after_batch(struct worker *w)
{
	uint64_t	 next;

	/* What the other workers see of us when they balance. */
	loadboard_set_active(w->board, (unsigned)w->slot,
	    (uint32_t)w->tab.active);

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
	worker_after_batch(arg);
}

void
worker_timer_cb(evutil_socket_t fd, short ev, void *arg)
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
	worker_after_batch(w);
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

	if (w->conf->xfer.limits.blksize_max != 0)
		return w->conf->xfer.limits.blksize_max;
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
/* Does the request ask for RFC 2090 multicast? */
static int
asks_multicast(const struct pkt *p)
{
	size_t	 i;

	for (i = 0; i < p->u.req.nopts; i++)
		if (strcasecmp(p->u.req.opts[i].name, "multicast") == 0)
			return 1;
	return 0;
}

static int
hand_off(struct worker *w, const struct io_dgram *d, const struct pkt *p)
{
	struct chan_request	 rq;
	unsigned		 owner;

	if (w->mcast == NULL || w->conf->single_port || w->conf->workers < 2 ||
	    !w->chan_up || p->op != TFTP_OP_RRQ || d->len > sizeof rq.dgram ||
	    !asks_multicast(p))
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
 * How long a passed client's repeats follow it: while it may still be
 * waiting for its first answer (an origin's fetch included).
 */
static uint64_t
sticky_us(const struct worker *w)
{
	return WORKER_STICKY_US + (w->conf->xfer.origins.n > 0 ?
	    (uint64_t)w->conf->xfer.origin_timeout_ms * 1000 : 0);
}

/*
 * Where a passed client's entry is, or a free one for it (*found 0);
 * NULL if every entry it may take holds another live client: then it is
 * not passed, since an entry is never taken from a client its repeats
 * must follow.
 */
static struct sticky *
sticky_of(struct worker *w, const struct io_dgram *d, uint64_t now,
    int *found)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */
	const uint8_t	*b = (const uint8_t *)&d->peer;
	struct sticky	*st, *free_st = NULL;
	socklen_t	 i;
	unsigned	 k;

	for (i = 0; i < d->peerlen; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	*found = 0;
	for (k = 0; k < WORKER_STICKY_PROBES; k++) {
		st = &w->sticky[(h + k) % WORKER_STICKY];
		if (st->at != 0 && now - st->at < sticky_us(w)) {
			if (memcmp(&st->peer, &d->peer, d->peerlen) == 0) {
				*found = 1;
				return st;
			}
		} else if (free_st == NULL)
			free_st = st;
	}
	return free_st;
}

/*
 * Issue 14: the kernel's SO_REUSEPORT pick is a fair random draw per
 * client, so a few clients often land on one worker while another
 * idles.  A new read request that found this worker busier than another
 * that is up goes to the least busy (loadboard.h), through the master as
 * a multicast hand-off does; it answers from its own transfer socket.
 * A client's repeats follow its first request while it may still be
 * waiting for an answer (sticky_us()), so it never gets two transfers
 * from two workers.
 */
static int
balance(struct worker *w, const struct io_dgram *d, const struct pkt *p,
    uint64_t now)
{
	struct chan_request	 rq;
	struct sticky		*st;
	unsigned		 to;
	int			 found;

	if (w->board == NULL || !w->chan_up || w->draining ||
	    p->op != TFTP_OP_RRQ || d->len > sizeof rq.dgram ||
	    asks_multicast(p) ||
	    xfertab_lookup(&w->tab, (const struct sockaddr *)&d->peer) != NULL)
		return 0;
	if ((st = sticky_of(w, d, now, &found)) == NULL)
		return 0;
	if (found) {
		to = st->slot;
		loadboard_incoming(w->board, to);
	} else
		to = loadboard_pick(w->board, (unsigned)w->slot,
		    (uint32_t)w->tab.active);
	if (to == (unsigned)w->slot)
		return 0;
	memset(&rq, 0, sizeof rq);
	rq.slot = to;
	rq.balanced = 1;
	rq.len = (uint32_t)d->len;
	rq.peerlen = d->peerlen;
	rq.peer = d->peer;
	rq.local = d->local;
	memcpy(rq.dgram, d->buf, d->len);
	if (chan_send(&w->chan, CHAN_T_HANDOFF, &rq, sizeof rq, 1) != 0) {
		loadboard_arrived(w->board, to);
		/*
		 * A new client is served here.  A passed one's repeat is
		 * dropped: its transfer is on the other worker, and one
		 * started here would be a second; its next repeat may pass.
		 */
		return found;
	}
	memset(&st->peer, 0, sizeof st->peer);
	memcpy(&st->peer, &d->peer, d->peerlen);
	st->at = now;
	st->slot = to;
	w->stats.balanced++;
	return 1;
}

/*
 * A request: admission decides (admit.h); here it is carried out.  What
 * the verdict ends goes first: a superseded transfer, a reclaimed slot.
 */
void
worker_handle_request(struct worker *w, const struct io_dgram *d,
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
	/* At once, not at the batch's end: others balance on it now. */
	loadboard_set_active(w->board, (unsigned)w->slot,
	    (uint32_t)w->tab.active);
}

/* The master's answer to a transfer waiting for an origin's file. */
void
worker_origin_done(struct worker *w, const struct chan_origin_done *d)
{
	struct xfer	*x;
	uint64_t	 now = timer_now_us();

	x = xfertab_lookup(&w->tab, (const struct sockaddr *)&d->peer);
	if (x == NULL)
		return;		/* it ended meanwhile (the client gave up) */
	if (xfer_origin_done(&w->ctx, x, d, now) == XFER_FINISHED)
		end_xfer(w, x, now);
	worker_after_batch(w);
}

/*
 * n datagrams from a socket.  Listen sockets take requests; transfer
 * sockets take the rest of every transfer, found by the peer's address
 * and port.  With single_port the listen socket does both.  The uploads'
 * blocks are written before returning: d's buffers go back to the
 * kernel then.
 */
static void
dgram_process(struct worker *w, int fd, int is_listen, struct io_dgram *d,
    int n)
{
	struct xfer	*x, *failed[XFER_WQ_MAX];
	struct pkt	 p;
	uint64_t	 now;
	int		 i, request;

	now = timer_now_us();
	for (i = 0; i < n; i++) {
		if (d[i].truncated ||
		    pkt_decode(d[i].buf, d[i].len, &p) != PKT_OK) {
			w->stats.bad_packet++;
			continue;
		}
		request = p.op == TFTP_OP_RRQ || p.op == TFTP_OP_WRQ;
		if (is_listen && request) {
			if (!hand_off(w, &d[i], &p) &&
			    !balance(w, &d[i], &p, now))
				worker_handle_request(w, &d[i], &p, fd, now);
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
}

/* One recvmmsg() batch from a socket, handled, and the flush. */
static void
dgram_batch(struct worker *w, int fd, int is_listen)
{
	struct io_dgram	*d;
	int		 n;

	if ((n = io_recv_batch(w->io, fd, &d)) == -1) {
		log_warn("recvmmsg");
		return;
	}
	dgram_process(w, fd, is_listen, d, n);
	worker_after_batch(w);
}

static int
is_listen_fd(const struct worker *w, int fd)
{
	size_t	 i;

	for (i = 0; i < w->nlisten; i++)
		if (w->listenfd[i] == fd)
			return 1;
	return 0;
}

/* One socket's datagrams from the ring (io_ring_recv_fn). */
static void
ring_dgrams(void *arg, int fd, struct io_dgram *d, int n)
{
	struct worker	*w = arg;

	dgram_process(w, fd, is_listen_fd(w, fd), d, n);
}

/*
 * The ring's eventfd: datagrams are waiting on some socket.  It is
 * edge-triggered where libevent can (epoll): every completion the
 * kernel posts signals the eventfd, which is a new edge even while its
 * count is not zero, so the count is never read.  Past the budget the
 * event is made active again, so timers and the channel get a turn and
 * no completion waits for another signal.
 */
void
worker_ring_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 count;

	if (!w->ring_et)
		(void)read(fd, &count, sizeof count);
	if (io_ring_reap(w->ring, ring_dgrams, w, WORKER_RING_BUDGET) == 1)
		event_active(w->ring_ev, EV_READ, 1);
	worker_after_batch(w);
}

static void
listen_cb(evutil_socket_t fd, short ev, void *arg)
{
	dgram_batch(arg, fd, 1);
}

void
worker_transfer_cb(evutil_socket_t fd, short ev, void *arg)
{
	dgram_batch(arg, fd, 0);
}

static void
drain_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;

	log_warnx("drain timeout: ending %zu transfers", w->tab.active);
	worker_abort_all(w, "server shutting down");
	worker_after_batch(w);
}

/*
 * Stop taking requests and leave once the live transfers are done, or
 * when drain_timeout says so.  With serve_queued, requests already
 * waiting in the listen sockets are served first: nobody else will read
 * those sockets.
 */
void
worker_start_drain(struct worker *w, int serve_queued)
{
	struct timeval	 tv;
	size_t		 i;

	if (w->draining)
		return;
	for (i = 0; i < w->nlisten; i++) {
		int	 read_here = w->listen_ev[i] != NULL;

		/*
		 * A close() would leave the ring's receive on the socket
		 * (it holds the file), taking requests the next generation
		 * should get: cancel it first, serving what it took.
		 */
		if (w->ring != NULL)
			read_here = io_ring_unwatch(w->ring, w->listenfd[i],
			    ring_dgrams, w) == 1;
		if (serve_queued && read_here)
			dgram_batch(w, w->listenfd[i], 1);
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
	worker_after_batch(w);
}

void
worker_abort_all(struct worker *w, const char *why)
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

/* Start reading the listen sockets (once; later calls do nothing). */
int
worker_listen_enable(struct worker *w)
{
	size_t	 i;

	for (i = 0; i < w->nlisten; i++) {
		if (w->ring != NULL) {
			if (io_ring_watch(w->ring, w->listenfd[i]) == -1)
				return -1;
			continue;
		}
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
