/*
 * The worker's private state, shared by its own files only (never
 * include this outside src/worker*.c: the master sees a worker through
 * include/worker.h and the channel):
 *   worker.c       startup (root, sockets, privileges, the transfer
 *                  context, events), worker_main and teardown;
 *   worker-loop.c  the loop: receiving and dispatching datagrams, the
 *                  timers, the flush after every batch, draining;
 *   worker-ctl.c   the master's channel (its requests and our stats)
 *                  and the signals.
 */
#ifndef OWL_WORKER_INT_H
#define OWL_WORKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "admit.h"
#include "chan.h"
#include "conf.h"
#include "io.h"
#include "io-uring.h"
#include "pkt.h"
#include "stats.h"
#include "timer.h"
#include "xfer.h"
#include "xfertab.h"

#define WORKER_MTU_CACHE	16		/* interfaces remembered */
#define WORKER_FCACHE_FILES	256		/* hot files kept open */
#define WORKER_MTU_TTL_US	(10 * 1000000ULL)	/* then asked again */
#define WORKER_STICKY		4096		/* passed clients remembered */
#define WORKER_STICKY_PROBES	8		/* entries a client may take */
#define WORKER_STICKY_US	(10 * 1000000ULL)	/* a client's repeats
						   follow its first request */
#define WORKER_RING_BUDGET	(4 * IO_BATCH_MAX)	/* datagrams per
						   wakeup, as 4 sockets' */

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
	int			 cachefd;	/* cache_dir; -1: no origins */
	struct fcache		*ofcache;	/* its files kept open */
	uint32_t		 generation;
	struct chan		 chan;
	int			 chan_up;
	struct loadboard	*board;		/* balance: NULL if off */
	struct sticky {				/* where recent clients were
						   passed (balance) */
		struct sockaddr_storage	 peer;
		uint64_t		 at;
		unsigned		 slot;
	}			*sticky;	/* WORKER_STICKY of them */
	int			 draining;
	int			 exiting;	/* leave the loop: no more work */

	int			 listenfd[CONF_LISTEN_MAX];
	struct event		*listen_ev[CONF_LISTEN_MAX];
	size_t			 nlisten;
	int			 xfd4, xfd6;	/* transfer sockets */
	struct event		*xev4, *xev6;	/* NULL under a ring */
	struct io_ring		*ring;		/* io_backend = "uring" */
	struct event		*ring_ev;	/* its eventfd: every socket */
	int			 ring_et;	/* edge-triggered: no read() */

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

/* worker-loop.c */
void	 worker_set_sinks(struct worker *);
void	 worker_after_batch(struct worker *);
void	 worker_handle_request(struct worker *, const struct io_dgram *,
	    const struct pkt *, int, uint64_t);
void	 worker_timer_cb(evutil_socket_t, short, void *);
void	 worker_transfer_cb(evutil_socket_t, short, void *);
void	 worker_ring_cb(evutil_socket_t, short, void *);
int	 worker_listen_enable(struct worker *);
void	 worker_start_drain(struct worker *, int);
void	 worker_abort_all(struct worker *, const char *);
void	 worker_origin_done(struct worker *, const struct chan_origin_done *);

/* worker-ctl.c */
extern const struct chan_handler worker_handlers[];
void	 worker_signal_cb(evutil_socket_t, short, void *);
void	 worker_stats_cb(evutil_socket_t, short, void *);
void	 worker_send_stats(struct worker *, int);
void	 worker_master_gone(struct chan *, void *);
int	 worker_origin_ask(void *, const struct chan_origin *);

#endif
