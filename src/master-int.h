/*
 * The master's private state, shared by its own files only (never
 * include this outside src/master*.c: ctlcmd.c, metrics.c and main.c see
 * the master through include/master.h and struct master_view):
 *   master.c       worker processes and slots: spawn, respawn, exits,
 *                  the channel handlers;
 *   master-gen.c   generations: start gated, commit, abandon; reload;
 *   master-view.c  the view of the master, and control requests waiting
 *                  for the workers;
 *   master-run.c   startup, signals, stop, reopen and the exit.
 */
#ifndef OWL_MASTER_INT_H
#define OWL_MASTER_INT_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "chan.h"
#include "master.h"
#include "tally.h"

struct conf;
struct listenset;

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

/* A control request waiting for the workers (stats, transfers). */
struct master_wait {
	struct master_wait	*next;
	struct master		*m;
	enum master_question	 question;
	uint32_t		 req;
	struct event		*timeout_ev;
	master_answer_fn	 done;
	void			*arg;
	struct master_xfer	*xfers;		/* MASTER_ASK_XFERS: collected */
	size_t			 nxfers;
	size_t			 capxfers;
};

/*
 * A generation being started.  Its workers are gated: they open
 * everything, drop privileges and say HELLO (or FAILED and why), but
 * read no request until every one of them is ready and the master
 * commits: then, and only then, the running generation is retired.
 */
struct master_next {
	struct conf		*conf;		/* NULL: the start, m->conf */
	struct loadboard	*board;		/* its workers' loads */
	struct listenset	*ls;
	int			 same;		/* ls is the running set */
	uint32_t		 generation;
	size_t			 ready;		/* workers that said HELLO */
	struct event		*timeout_ev;
	master_done_fn		 done;
	void			*arg;
};

/* The master itself: one, on master_run's stack. */
struct master {
	struct conf		*conf;
	const struct conf_source *src;
	const struct ctl_cmd	*cmds;		/* the control commands */
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
	struct tally		 tally;		/* counters across workers */
	time_t			 started;
	int			 stopping;	/* 0, SIGTERM or SIGQUIT */
	int			 failed;	/* no worker could run: exit 1 */
	int			 pidfd;
	char			 pidpath[PATH_MAX];	/* locked at startup */
	struct ctl		*ctl;
	struct metrics		*metrics;
	struct event		*sig_ev[6];
	struct event		*kill_ev;
	struct master_wait	*waits;
	uint32_t		 next_req;
	struct oserve		*oserve;	/* origins' cache; NULL: none
						   configured yet */
	struct loadboard	*board;		/* the generation's loads */
};

/* master.c: worker processes and slots ---------------------------------- */

/*
 * Serve conf's origins: the cache opened (at startup, or by the first
 * reload that configures origins), or checked against the running one.
 * 0, or -1 and *cause.
 */
int	 master_origins(struct master *, const struct conf *, char **cause);

/* Worker processes alive, of any generation. */
size_t	 master_alive(const struct master *);

/*
 * Fork the worker of slot with conf on ls's sockets of that slot and add
 * it to m->procs; gated, it waits for SERVE.  -1 if it cannot fork.
 */
int	 wproc_spawn(struct master *, struct listenset *ls,
	    const struct conf *conf, struct loadboard *board, int slot,
	    uint32_t generation, int gated);
/* The load board of generation's workers; NULL if none. */
struct loadboard *master_board(struct master *, uint32_t generation);

/* Send p a message without a body, or QUIT (closing its sockets or not). */
void	 wproc_tell(struct wproc *p, int type, int close_listen);

/* Release an exited worker's channel and memory. */
void	 wproc_free(struct wproc *p);

/* proc_reap()'s callback: fold worker pid into the totals, forget it. */
void	 forget_proc(pid_t pid, int status, void *arg);

/* SIGCHLD: reap exited workers; stop when there is nothing left to run. */
void	 master_reap(struct master *);

/* The current generation's slots: n fresh ones, or none. */
void	 slots_new(struct master *, size_t n);
void	 slots_free(struct master *);

/* master-gen.c: generations ------------------------------------------- */

/*
 * Fork a gated generation with conf (NULL: the running one, at start)
 * on ls (same: the running set).  Its outcome reaches done.  -1 and
 * *cause if not even that; the caller keeps conf and ls then.
 */
int	 next_start(struct master *, struct conf *conf, struct listenset *ls,
	    int same, master_done_fn done, void *arg, char **cause);

/* A new worker said HELLO: commit once every one of them has. */
void	 next_check(struct master *);

/*
 * Abandon the generation being started, if any, telling its done why
 * (names_key: why names a configuration key, prefixed with the file).
 */
void	 next_abort(struct master *, const char *why, int names_key);

/* master-view.c: control requests ---------------------------------------- */

/* A worker answered (or exited): finish every request now complete. */
void	 wait_check(struct master *);

#endif
