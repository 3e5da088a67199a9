/*
 * A worker: one libevent loop that owns its slot's listen sockets, its
 * transfer sockets, its transfers and their timers.
 *
 * Here: startup (the root, the transfer sockets, the privileges dropped,
 * the transfer context, the events), worker_main and teardown.  The
 * worker's state is in worker-int.h; the loop is worker-loop.c's, the
 * master's channel and the signals worker-ctl.c's.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "loadboard.h"
#include "log.h"
#include "mcast.h"
#include "pkt.h"
#include "priv.h"
#include "sock.h"
#include "stats.h"
#include "timer.h"
#include "worker-int.h"
#include "worker.h"
#include "xfer.h"
#include "xfertab.h"

#define WORKER_PORT_SEED_STRIDE	7919u	/* a prime: slots start their
					   transfer-port search far apart */
#define WORKER_CLIENTS_SPARE	1024	/* addresses beyond two per transfer:
					   room for idle buckets, so a full
					   table means a flood (clients.h) */
#define WORKER_LAST_WORDS_MS	1000	/* for the final counters to leave */

static int	 setup_events(struct worker *, int);
static int	 setup_ring_events(struct worker *);
static void	 start_ring(struct worker *);
static void	 teardown(struct worker *);
static int	 setup_multicast(struct worker *);
static int	 open_transfer_sockets(struct worker *);
static void	 startup_failed(int, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 worker_init(struct worker *, const struct conf *, int,
		    const int *, size_t, uint32_t);
static int	 take_root(struct worker *, int, int *);
static int	 alloc_state(struct worker *, size_t *);
static void	 wire_ctx(struct worker *);

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

	if (w->ring != NULL) {
		if (setup_ring_events(w) == -1)
			return -1;
	} else {
		if (w->xfd4 != -1 && ((w->xev4 = event_new(w->base, w->xfd4,
		    EV_READ | EV_PERSIST, worker_transfer_cb, w)) == NULL ||
		    event_add(w->xev4, NULL) == -1))
			return -1;
		if (w->xfd6 != -1 && ((w->xev6 = event_new(w->base, w->xfd6,
		    EV_READ | EV_PERSIST, worker_transfer_cb, w)) == NULL ||
		    event_add(w->xev6, NULL) == -1))
			return -1;
	}
	if (!gated && worker_listen_enable(w) == -1)
		return -1;
	if ((w->timer_ev = evtimer_new(w->base, worker_timer_cb, w)) == NULL)
		return -1;
	tv = timer_ms_tv(w->conf->stats_interval_ms);
	if ((w->stats_ev = event_new(w->base, -1, EV_PERSIST, worker_stats_cb,
	    w)) == NULL || event_add(w->stats_ev, &tv) == -1)
		return -1;
	/* SIGHUP belongs to the master; a worker just must not die of it. */
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((w->sig_ev[i] = evsignal_new(w->base, sigs[i],
		    worker_signal_cb, w)) == NULL ||
		    evsignal_add(w->sig_ev[i], NULL) == -1)
			return -1;
	return 0;
}

/*
 * Under io_uring the ring's eventfd is the one read event for every
 * datagram socket; the transfer sockets are read from the start.
 */
static int
setup_ring_events(struct worker *w)
{
	short	 ev = EV_READ | EV_PERSIST;

	w->ring_et = (event_base_get_features(w->base) & EV_FEATURE_ET) != 0;
	if (w->ring_et)
		ev |= EV_ET;
	if ((w->ring_ev = event_new(w->base, io_ring_eventfd(w->ring), ev,
	    worker_ring_cb, w)) == NULL || event_add(w->ring_ev, NULL) == -1)
		return -1;
	if ((w->xfd4 != -1 && io_ring_watch(w->ring, w->xfd4) == -1) ||
	    (w->xfd6 != -1 && io_ring_watch(w->ring, w->xfd6) == -1))
		return -1;
	return 0;
}

/*
 * io_backend = "uring": a ring for the sockets, or, where the kernel (or
 * the build) refuses one, a line that says so and recvmmsg/sendmmsg.
 */
static void
start_ring(struct worker *w)
{
	char	 why[160];

	if ((w->ring = io_ring_new(&w->stats, why, sizeof why)) == NULL) {
		log_warnx("io_uring unavailable (%s): using "
		    "recvmmsg/sendmmsg", why);
		return;
	}
	io_set_ring(w->io, w->ring);
	log_debug("io_uring: multishot recvmsg, linked sendmsg");
}

static void
teardown(struct worker *w)
{
	size_t	 i;

	/* The ring's receives hold the sockets: they end first. */
	if (w->ring_ev != NULL)
		event_free(w->ring_ev);
	if (w->io != NULL)
		io_set_ring(w->io, NULL);
	io_ring_free(w->ring);
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
	if (w->cachefd != -1)
		(void)close(w->cachefd);
	xfertab_clear(&w->tab);
	clients_free(w->clients);
	mcast_free(w->mcast);
	fcache_free(w->fcache);
	fcache_free(w->ofcache);
	free(w->sticky);
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
		    (unsigned)w->slot * WORKER_PORT_SEED_STRIDE + (unsigned)getpid());
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

/* The worker in slot, its listen sockets given, nothing open yet. */
static void
worker_init(struct worker *w, const struct conf *conf, int slot,
    const int *listenfds, size_t nlisten, uint32_t generation)
{
	size_t	 i;

	memset(w, 0, sizeof *w);
	w->conf = conf;
	w->slot = slot;
	w->generation = generation;
	w->xfd4 = w->xfd6 = w->rootfd = w->cachefd = -1;
	w->write_fd = -1;
	w->timer_at = TIMER_NONE;
	w->nlisten = nlisten;
	for (i = 0; i < nlisten; i++)
		w->listenfd[i] = listenfds[i];
}

/*
 * The root, the transfer sockets, then the privileges dropped.  -1 once
 * startup_failed() has said why, *rcp WORKER_EXIT_FATAL when a respawn
 * cannot do better.
 */
static int
take_root(struct worker *w, int chanfd, int *rcp)
{
	const struct conf	*conf = w->conf;
	char			*cause = NULL;
	int			 slot = w->slot;

	if ((w->rootfd = fs_root_open(conf->root)) == -1) {
		startup_failed(chanfd, slot, "root: %s: %s", conf->root,
		    strerror(errno));
		*rcp = WORKER_EXIT_FATAL;
		return -1;
	}
	/* Before a chroot: the master's cache is outside the root. */
	if (conf->xfer.origins.n > 0 && (w->cachefd = open(conf->cache_dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		startup_failed(chanfd, slot, "cache_dir: %s: %s",
		    conf->cache_dir, strerror(errno));
		*rcp = WORKER_EXIT_FATAL;
		return -1;
	}
	if (!conf->single_port && open_transfer_sockets(w) == -1) {
		if (errno == EADDRINUSE && conf->port_range.lo != 0) {
			/* Respawning cannot free a port: do not loop. */
			startup_failed(chanfd, slot, "port_range: %s: no free "
			    "port for a transfer socket", conf->port_range.text);
			*rcp = WORKER_EXIT_FATAL;
		} else
			startup_failed(chanfd, slot, "transfer socket: %s",
			    strerror(errno));
		return -1;
	}
	if (priv_drop(conf, &w->rootfd, &cause) == -1) {
		startup_failed(chanfd, slot, "%s", cause);
		free(cause);
		*rcp = WORKER_EXIT_FATAL;
		return -1;
	}
	return 0;
}

/*
 * The worker's tables, caches and event base; the size of its open-file
 * cache to *cachedp.  -1 when out of memory.
 */
static int
alloc_state(struct worker *w, size_t *cachedp)
{
	const struct conf	*conf = w->conf;
	size_t			 share = conf->worker_share;
	struct rlimit		 rl;
	size_t			 cached;

	/* The cache must leave most descriptors to transfers (fcache.h). */
	cached = WORKER_FCACHE_FILES;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cached = fcache_size(rl.rlim_cur, WORKER_FCACHE_FILES);
	*cachedp = cached;
	if (xfer_ctx_init(&w->ctx) == -1 ||
	    (w->base = event_base_new()) == NULL ||
	    (w->io = io_new(&w->stats)) == NULL ||
	    xfertab_init(&w->tab, share) == -1 ||
	    timer_heap_init(&w->timers, share) == -1 ||
	    (w->clients = clients_new(share * 2 + WORKER_CLIENTS_SPARE, conf->request_rate,
	    conf->request_burst)) == NULL ||
	    (w->fcache = fcache_new(cached)) == NULL)
		return -1;
	if (conf->io_backend == CONF_IO_URING)
		start_ring(w);
	if (conf->xfer.origins.n > 0 &&
	    (w->ofcache = fcache_new(cached / 2 + 1)) == NULL)
		return -1;
	if (w->board != NULL && (w->sticky = calloc(WORKER_STICKY,
	    sizeof *w->sticky)) == NULL)
		return -1;
	return 0;
}

/* The transfers' context: this worker's tables, the conf's settings. */
static void
wire_ctx(struct worker *w)
{
	const struct conf	*conf = w->conf;

	worker_set_sinks(w);
	w->ctx.timers = &w->timers;
	w->ctx.stats = &w->stats;
	w->ctx.rootfd = w->rootfd;
	/* conf is this generation's, kept until worker_main() returns. */
	w->ctx.conf = &conf->xfer;
	fcache_set_world(w->fcache, conf->xfer.permission_check);
	w->ctx.fcache = w->fcache;
	w->ctx.clients = w->clients;
	w->ctx.cachefd = w->cachefd;
	if (w->ofcache != NULL) {
		/* The master evicts only files no transfer holds. */
		fcache_set_lock(w->ofcache, 1);
		w->ctx.ofcache = w->ofcache;
		w->ctx.origin_ask = worker_origin_ask;
		w->ctx.origin_arg = w;
	}
	w->admit.xfer = &w->ctx;
	w->admit.tab = &w->tab;
	w->admit.max_per_client = conf->max_transfers_per_client;
}

int
worker_main(const struct conf *conf, struct loadboard *board, int slot,
    const int *listenfds, size_t nlisten, int chanfd, uint32_t generation,
    int gated)
{
	struct worker	 w;
	struct chan_hello hello;
	sigset_t	 all;
	size_t		 cached;
	int		 rc = WORKER_EXIT_ERROR;

	log_set_role("worker[%d]", slot);
	audit_set_worker(slot);
	worker_init(&w, conf, slot, listenfds, nlisten, generation);
	if (conf->balance && !conf->single_port && conf->workers > 1) {
		w.board = board;
		loadboard_join(board, (unsigned)slot);
	}

	(void)signal(SIGPIPE, SIG_IGN);
	/* Past RLIMIT_FSIZE a write must fail (EFBIG: ERROR 3 to the
	 * client, temporary file removed), not kill the worker. */
	(void)signal(SIGXFSZ, SIG_IGN);

	if (take_root(&w, chanfd, &rc) == -1)
		goto out;
	if (alloc_state(&w, &cached) == -1) {
		startup_failed(chanfd, slot, "out of memory at start");
		goto out;
	}
	wire_ctx(&w);
	if (conf->mcast_enable && setup_multicast(&w) == -1) {
		startup_failed(chanfd, slot, "multicast: cannot set the TTL "
		    "of the sockets");
		goto out;
	}
	w.ctx.mcast = w.mcast;
	if (setup_events(&w, gated) == -1 ||
	    chan_open(&w.chan, w.base, chanfd, (uint32_t)slot,
	    worker_handlers, worker_master_gone, &w) == -1) {
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
	worker_abort_all(&w, "server shutting down");
	/* Last words: final counters, so the master's totals are exact. */
	worker_send_stats(&w, 0);
	if (w.chan_up) {
		(void)chan_send(&w.chan, CHAN_T_DRAINED, NULL, 0, 0);
		chan_flush_wait(&w.chan, WORKER_LAST_WORDS_MS);
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
