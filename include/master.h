/*
 * The master: binds, forks workers, supervises, reloads, and answers the
 * control socket.  Never touches TFTP.  struct master is shared with the
 * control commands (ctlcmd.c) and the metrics endpoint (metrics.c), which
 * only read it or call the functions below.
 */
#ifndef OWL_MASTER_H
#define OWL_MASTER_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "chan.h"
#include "conf.h"
#include "stats.h"

/* Listen sockets for one worker count and set of addresses. */
struct listenset {
	int			 refs;
	size_t			 nslots;
	size_t			 nlisten;
	struct conf_listen	 asked[CONF_LISTEN_MAX];	/* as configured */
	struct conf_listen	 bound[CONF_LISTEN_MAX];	/* real ports */
	int			*fd;		/* [slot * nlisten + i] */
};

/* One worker process, current generation or retiring. */
struct wproc {
	struct wproc		*next;
	struct master		*m;
	int			 slot;
	uint32_t		 generation;
	pid_t			 pid;
	time_t			 started;
	struct chan		 chan;
	int			 hello;		/* said HELLO (ready) */
	int			 pending;	/* of the generation starting */
	int			 retiring;	/* told to QUIT */
	char			*failed;	/* its FAILED reason, or NULL */
	struct chan_stats	 last;		/* latest snapshot */
	int			 stats_fresh;	/* answered the last STATS_REQ */
	int			 xfers_done;	/* answered the last XFERS_REQ */
};

/* Respawn bookkeeping of one slot of the current generation. */
struct mslot {
	struct master		*m;
	int			 id;
	unsigned		 backoff_ms;	/* next delay in a crash loop */
	int			 fatal;		/* exited 2: not respawned */
	struct event		*respawn_ev;
};

/* A live transfer as a worker reported it. */
struct master_xfer {
	int			 slot;
	pid_t			 pid;
	struct chan_xfer_rec	 rec;
};

struct master_wait;
typedef void (*master_wait_fn)(struct master *, struct master_wait *,
    void *);

/* A control request waiting for the workers (stats, transfers). */
struct master_wait {
	struct master_wait	*next;
	struct master		*m;
	int			 kind;		/* CHAN_T_STATS_REQ/XFERS_REQ */
	uint32_t		 req;
	struct event		*timeout_ev;
	master_wait_fn		 done;
	void			*arg;
	struct master_xfer	*xfers;		/* XFERS_REQ: collected */
	size_t			 nxfers;
	size_t			 capxfers;
};

struct ctl;
struct metrics;

/* Called once a reload (or the start) has committed (error NULL) or not. */
typedef void (*master_done_fn)(struct master *, const char *error, void *);

/*
 * A generation being started.  Its workers are gated: they open
 * everything, drop privileges and say HELLO (or FAILED and why), but
 * read no request until every one of them is ready and the master
 * commits: then, and only then, the running generation is retired.
 */
struct master_next {
	struct conf		*conf;		/* NULL: the start, m->conf */
	struct listenset	*ls;
	int			 same;		/* ls is the running set */
	uint32_t		 generation;
	size_t			 ready;		/* workers that said HELLO */
	struct event		*timeout_ev;
	master_done_fn		 done;
	void			*arg;
};

struct master {
	struct conf		*conf;
	const struct conf_source *src;
	struct event_base	*base;
	uint32_t		 generation;
	uint64_t		 reloads;
	char			*reload_error;	/* last failed reload, or NULL */
	struct master_next	*next;		/* generation starting */
	int			 notify;	/* detached: starter's pipe */
	struct listenset	*ls;		/* current generation's */
	struct mslot		*slots;
	size_t			 nslots;
	struct wproc		*procs;
	struct stats		 retired;	/* counters of exited workers */
	struct stats		*slot_retired;	/* the same, per slot */
	size_t			 nslot_retired;
	struct stats		 baseline;	/* subtracted after stats reset */
	time_t			 started;
	int			 stopping;	/* 0, SIGTERM or SIGQUIT */
	int			 failed;	/* no worker could run: exit 1 */
	int			 pidfd;
	struct ctl		*ctl;
	struct metrics		*metrics;
	struct event		*sig_ev[6];
	struct event		*kill_ev;
	struct master_wait	*waits;
	uint32_t		 next_req;
};

/* Run until stopped; returns the process exit code.  Takes conf. */
int	 master_run(struct conf *, const struct conf_source *, int foreground);

/*
 * Re-read the configuration and roll the workers over to it.  -1 and
 * *cause if it fails at once (done is not called); 0 if a new generation
 * is starting: done is called when it is committed or abandoned.
 */
int	 master_reload(struct master *, master_done_fn done, void *arg,
	    char **cause);
void	 master_stop(struct master *, int graceful);
void	 master_reopen(struct master *);

/* Counters: retired + live - baseline, and the live gauge. */
void	 master_totals(const struct master *, struct stats *, uint64_t *active);
/*
 * Counters since the start, untouched by stats reset: in total, and of
 * every worker that ever ran in slot (exited ones included), so a
 * series per slot never goes back across a reload or a respawn.
 * master_slots_seen() is one more than the highest slot ever used.
 */
void	 master_totals_since_start(const struct master *, struct stats *,
	    uint64_t *active);
size_t	 master_slots_seen(const struct master *);
void	 master_slot_totals(const struct master *, size_t slot,
	    struct stats *);
size_t	 master_alive(const struct master *);

/*
 * Ask every live worker for fresh counters (STATS_REQ) or its live
 * transfers (XFERS_REQ) and call done once all have answered or a short
 * timeout passed, with whatever arrived; the wait is freed after done
 * returns.  Never blocks.  -1 if it cannot even start.
 */
int	 master_ask(struct master *, int kind, master_wait_fn done,
	    void *arg);

#endif
