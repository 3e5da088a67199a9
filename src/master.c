/*
 * The master: binds every listen socket while it can, forks one worker
 * per slot, then only supervises.  Slot i of a generation owns socket i
 * of every listen address, so a respawned worker gets the same sockets
 * back and a reload that keeps the addresses hands the very same sockets
 * to the new workers: no request falls between two generations.
 *
 * Here: generations (start gated, commit, abandon), slots and respawn,
 * reload, stop, reopen, the channel handlers, and the view the control
 * commands and /metrics render.  The sockets are listenset.c's, forking
 * and reaping proc.c's, detaching daemon.c's, the counters' arithmetic
 * tally.c's.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "chan.h"
#include "compat.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "listenset.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "preflight.h"
#include "proc.h"
#include "report.h"
#include "rlimits.h"
#include "sock.h"
#include "tally.h"
#include "tmpclean.h"
#include "worker.h"
#include "xmalloc.h"

#define MASTER_KILL_AFTER_S	5	/* fast stop: SIGKILL stragglers */
#define MASTER_RESPAWN_MIN_MS	100
#define MASTER_RESPAWN_MAX_MS	30000
#define MASTER_GRACE_S		5	/* a worker dead younger is crash-looping */
#define MASTER_READY_TIMEOUT_S	8	/* new workers must be ready by then
					   (under owlctl's and ctl's 10 s) */
#define MASTER_ASK_TIMEOUT_MS	500	/* answer control requests by then */

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
};

static void	 reap(struct master *);

/* Worker processes ---------------------------------------------------- */

static size_t
master_alive(const struct master *m)
{
	const struct wproc	*p;
	size_t			 n = 0;

	for (p = m->procs; p != NULL; p = p->next)
		n++;
	return n;
}

static void	 wait_check(struct master *);

static void	 next_check(struct master *);

static void
on_hello(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc		*p = arg;
	const struct chan_hello	*hello = body;

	if (p->hello)
		return;
	p->hello = 1;
	log_debug("worker[%d] pid %u generation %u ready", p->slot,
	    hello->pid, hello->generation);
	if (p->pending && p->m->next != NULL) {
		p->m->next->ready++;
		next_check(p->m);
	}
}

/* A worker that cannot serve says why before it exits. */
static void
on_failed(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc			*p = arg;
	const struct chan_failed	*f = body;

	if (p->failed == NULL)
		(void)xasprintf(&p->failed, "%.*s", (int)sizeof f->reason,
		    f->reason);
}

static void
on_stats(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc	*p = arg;

	memcpy(&p->last, body, sizeof p->last);
	p->stats_fresh = 1;
	wait_check(p->m);
}

static void
on_drained(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc	*p = arg;

	log_debug("worker[%d] pid %ld drained", p->slot, (long)p->pid);
}

/* A record's texts are shown as strings: end each inside its field. */
static void
xfer_rec_terminate(struct chan_xfer_rec *r)
{
	r->peer[sizeof r->peer - 1] = '\0';
	r->op[sizeof r->op - 1] = '\0';
	r->file[sizeof r->file - 1] = '\0';
	r->state[sizeof r->state - 1] = '\0';
}

static void
on_xfers(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc		*p = arg;
	struct master		*m = p->m;
	const struct chan_xfers	*x = body;
	struct master_wait	*w;
	uint32_t		 i;

	for (w = m->waits; w != NULL; w = w->next)
		if (w->question == MASTER_ASK_XFERS && w->req == x->req)
			break;
	if (w == NULL)
		return;		/* answered too late */
	for (i = 0; i < x->count && i < CHAN_XFERS_PER_MSG; i++) {
		if (w->nxfers == w->capxfers) {
			w->capxfers = w->capxfers == 0 ? 64 : w->capxfers * 2;
			w->xfers = xreallocarray(w->xfers, w->capxfers,
			    sizeof *w->xfers);
		}
		w->xfers[w->nxfers].slot = p->slot;
		w->xfers[w->nxfers].pid = p->pid;
		w->xfers[w->nxfers].rec = x->rec[i];
		xfer_rec_terminate(&w->xfers[w->nxfers].rec);
		w->nxfers++;
	}
	if (x->last)
		p->xfers_done = 1;
	wait_check(m);
}

/*
 * A worker passes on a request that belongs to another slot: relay it
 * to that slot's worker of the current generation.  If that one is not
 * serving (respawning, or failed for good) or its channel is full, the
 * sender serves it itself: a second session beats no answer.  Only when
 * neither channel takes it is it dropped, like the datagram it is: the
 * client asks again.
 */
static void
on_handoff(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc			*p = arg, *q;
	struct master			*m = p->m;
	const struct chan_request	*rq = body;

	for (q = m->procs; q != NULL; q = q->next)
		if (q->generation == m->generation && q->slot ==
		    (int)rq->slot && q->hello && !q->retiring)
			break;
	if (q != NULL && chan_send(&q->chan, CHAN_T_REQUEST, rq, sizeof *rq,
	    1) == 0)
		return;
	if (q != p && !p->retiring && chan_send(&p->chan, CHAN_T_REQUEST, rq,
	    sizeof *rq, 1) == 0)
		return;
	log_debug("request for worker[%u] dropped: no worker can take it",
	    rq->slot);
}

static const struct chan_handler master_handlers[] = {
	{ CHAN_T_HELLO, sizeof(struct chan_hello), on_hello },
	{ CHAN_T_STATS, sizeof(struct chan_stats), on_stats },
	{ CHAN_T_DRAINED, 0, on_drained },
	{ CHAN_T_XFERS, sizeof(struct chan_xfers), on_xfers },
	{ CHAN_T_HANDOFF, sizeof(struct chan_request), on_handoff },
	{ CHAN_T_FAILED, sizeof(struct chan_failed), on_failed },
	{ 0, 0, NULL }
};

static void
on_worker_eof(struct chan *c, void *arg)
{
	/* Its exit is handled when it is reaped. */
}

/* What a forked worker runs. */
struct worker_args {
	const struct conf	*conf;
	const struct listenset	*ls;
	int			 slot;
	uint32_t		 generation;
	int			 gated;
};

static int
run_worker(void *arg, int chanfd)
{
	const struct worker_args	*a = arg;

	return worker_main(a->conf, a->slot, listenset_slot_fds(a->ls,
	    a->slot), listenset_count(a->ls), chanfd, a->generation, a->gated);
}

static int
spawn(struct master *m, struct listenset *ls, const struct conf *conf,
    int slot, uint32_t generation, int gated)
{
	struct worker_args	 args = { conf, ls, slot, generation, gated };
	struct wproc		*p;
	int			 chanfd;
	pid_t			 pid;

	pid = proc_spawn(m->base, slot, generation, listenset_slot_fds(ls,
	    slot), listenset_count(ls), run_worker, &args, &chanfd);
	if (pid == -1)
		return -1;
	p = xcalloc(1, sizeof *p);
	p->m = m;
	p->slot = slot;
	p->generation = generation;
	p->pending = gated;
	p->pid = pid;
	p->started = time(NULL);
	if (chan_open(&p->chan, m->base, chanfd, (uint32_t)slot,
	    master_handlers, on_worker_eof, p) == -1) {
		log_warnx("worker[%d]: cannot watch its channel", slot);
		(void)close(chanfd);
		p->chan.fd = -1;
	}
	p->next = m->procs;
	m->procs = p;
	return 0;
}

static void
respawn_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct mslot	*sl = arg;
	struct master	*m = sl->m;
	struct timeval	 tv;

	if (m->stopping || m->ls == NULL)
		return;
	/* Back in the group only when a worker is about to read them. */
	if (!listenset_slot_open(m->ls, sl->id) &&
	    listenset_rebind_slot(m->ls, sl->id, m->conf->so_rcvbuf) == -1) {
		tv.tv_sec = MASTER_RESPAWN_MAX_MS / 1000;
		tv.tv_usec = 0;
		(void)evtimer_add(sl->respawn_ev, &tv);
		return;
	}
	(void)spawn(m, m->ls, m->conf, sl->id, m->generation, 0);
}

/*
 * A current worker died: replace it.  The first death, or one after a
 * worker served for MASTER_GRACE_S, is replaced at once, in the same
 * sockets, so the requests queued in them are still answered.  Deaths
 * in a row of young workers are a crash loop: wait, doubling the wait
 * each time, and meanwhile take the slot's sockets out of the
 * SO_REUSEPORT group, so the kernel sends their share of new requests
 * to the living workers instead of to a queue nobody reads.
 */
static void
respawn_later(struct master *m, struct wproc *p)
{
	struct mslot	*sl = &m->slots[p->slot];
	struct timeval	 tv;
	unsigned	 delay;

	if (time(NULL) - p->started >= MASTER_GRACE_S)
		sl->backoff_ms = 0;
	delay = sl->backoff_ms;
	sl->backoff_ms = delay == 0 ? MASTER_RESPAWN_MIN_MS :
	    delay * 2 > MASTER_RESPAWN_MAX_MS ? MASTER_RESPAWN_MAX_MS :
	    delay * 2;
	if (delay == 0)
		log_info("worker[%d] respawning now", p->slot);
	else {
		log_info("worker[%d] respawning in %u ms (it died %lld s after "
		    "its start); its requests go to the other workers "
		    "meanwhile", p->slot, delay,
		    (long long)(time(NULL) - p->started));
		/* Not while a new generation holds copies of the same set:
		 * the rebind would leave a socket only we hold. */
		if (master_alive(m) > 0 && (m->next == NULL ||
		    m->next->ls != m->ls))
			listenset_close_slot(m->ls, p->slot);
	}
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	if (sl->respawn_ev == NULL)
		sl->respawn_ev = evtimer_new(m->base, respawn_cb, sl);
	if (sl->respawn_ev != NULL)
		(void)evtimer_add(sl->respawn_ev, &tv);
}

static void	 next_abort(struct master *, const char *why, int names_key);

static void
proc_exited(struct master *m, struct wproc *p, int status)
{
	struct mslot	*sl;
	int		 current = p->generation == m->generation &&
			    !p->retiring && !p->pending;
	int		 clean = WIFEXITED(status) &&
			    WEXITSTATUS(status) == WORKER_EXIT_OK;

	/* Its last words (final counters, a failure) may still be queued. */
	if (p->chan.fd != -1)
		chan_drain(&p->chan);
	tally_retire(&m->tally, p->slot, &p->last.stats);
	proc_ended(p->slot, p->pid, p->generation, status, !current ||
	    m->stopping);
	/* Its temporary upload files, unless it cannot have made any
	 * (gated workers of a new generation never read a request). */
	if (!clean && !p->pending && (m->conf->uploads != FS_UPLOAD_OFF ||
	    p->generation != m->generation))
		(void)tmpclean_sweep(m->conf->root, p->pid);
	if (p->pending && m->next != NULL) {
		char	*why = proc_exit_reason(p->slot, p->failed, status);

		p->pending = 0;
		next_abort(m, why, p->failed != NULL);
		free(why);
		return;
	}
	if (!current || m->stopping || (size_t)p->slot >= m->nslots)
		return;
	sl = &m->slots[p->slot];
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("worker[%d] failed fatally: not respawning%s%s",
		    p->slot, p->failed != NULL ? ": " : "",
		    p->failed != NULL ? p->failed : "");
		sl->fatal = 1;
		/* Nobody reads its sockets now: take them out of the
		 * SO_REUSEPORT group, or their share of requests is lost. */
		listenset_close_slot(m->ls, p->slot);
		return;
	}
	respawn_later(m, p);
}

static void
proc_free(struct wproc *p)
{
	chan_close(&p->chan);
	free(p->failed);
	free(p);
}

/* Fold an exited worker into the totals and forget it. */
static void
forget_proc(pid_t pid, int status, void *arg)
{
	struct master	 *m = arg;
	struct wproc	**pp, *p;

	for (pp = &m->procs; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->pid == pid)
			break;
	if ((p = *pp) == NULL)
		return;
	*pp = p->next;
	proc_exited(m, p, status);
	proc_free(p);
}

static void
reap(struct master *m)
{
	size_t	 i, fatal = 0;

	(void)proc_reap(0, forget_proc, m);
	wait_check(m);
	if (m->stopping && m->procs == NULL) {
		(void)event_base_loopbreak(m->base);
		return;
	}
	if (m->stopping || m->procs != NULL || m->next != NULL)
		return;
	for (i = 0; i < m->nslots; i++)
		fatal += m->slots[i].fatal;
	if (fatal == m->nslots) {
		log_warnx("no workers left");
		m->stopping = SIGTERM;
		m->failed = 1;
		(void)event_base_loopbreak(m->base);
	}
}

static void
tell(struct wproc *p, int type, int close_listen)
{
	struct chan_quit	 q;

	if (type == CHAN_T_QUIT) {
		q.close_listen = (uint32_t)close_listen;
		(void)chan_send(&p->chan, CHAN_T_QUIT, &q, sizeof q, 0);
	} else
		(void)chan_send(&p->chan, (uint16_t)type, NULL, 0, 0);
}

/* Slots of the current generation ------------------------------------- */

static void
slots_free(struct master *m)
{
	size_t	 i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].respawn_ev != NULL)
			event_free(m->slots[i].respawn_ev);
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
}

static void
slots_new(struct master *m, size_t n)
{
	size_t	 i;

	m->slots = xcalloc(n, sizeof *m->slots);
	m->nslots = n;
	for (i = 0; i < n; i++) {
		m->slots[i].m = m;
		m->slots[i].id = (int)i;
		m->slots[i].backoff_ms = 0;
	}
}

/* The next generation: start, commit, abandon ---------------------------- */

static void
audit_reload(const struct master *m, uint32_t generation, const char *error)
{
	struct audit_buf	 b;

	if (!audit_wanted())
		return;
	audit_begin(&b, "reload");
	audit_u64(&b, "generation", generation);
	audit_str(&b, "result", error == NULL ? "ok" : "error");
	if (error != NULL)
		audit_str(&b, "error", error);
	audit_emit(&b);
}

/* The gated workers of the next generation hold no transfer: end them. */
static void
next_end_workers(struct master *m)
{
	struct wproc	*p;

	for (p = m->procs; p != NULL; p = p->next)
		if (p->pending) {
			p->pending = 0;
			p->retiring = 1;
			tell(p, CHAN_T_TERMINATE, 0);
			(void)kill(p->pid, SIGTERM);
		}
}

static void
next_free(struct master *m)
{
	struct master_next	*n = m->next;

	if (n->timeout_ev != NULL)
		event_free(n->timeout_ev);
	free(n);
	m->next = NULL;
}

/*
 * Abandon the generation being started: its workers (gated, so they hold
 * no transfer) are ended, its new sockets and configuration dropped, and
 * the running generation goes on as if nothing had happened.
 */
static void
next_abort(struct master *m, const char *why, int names_key)
{
	struct master_next	*n = m->next;
	const char		*path;
	master_done_fn		 done;
	void			*arg;
	char			*error;

	if (n == NULL)
		return;
	path = (n->conf != NULL ? n->conf : m->conf)->path;
	next_end_workers(m);
	if (!n->same)
		listenset_free(n->ls);
	/* A worker's reason names a key: say which file it is from. */
	if (names_key)
		xasprintf(&error, "%s: %s", path != NULL ? path :
		    "command line", why);
	else
		error = xstrdup(why);
	conf_free(n->conf);
	done = n->done;
	arg = n->arg;
	next_free(m);
	done(m, error, arg);
	free(error);
}

/* Every new worker is ready: retire the running generation, serve. */
static void
next_commit(struct master *m)
{
	struct master_next	*n = m->next;
	struct wproc		*p;
	master_done_fn		 done;
	void			*arg;

	for (p = m->procs; p != NULL; p = p->next)
		if (!p->pending && !p->retiring) {
			p->retiring = 1;
			tell(p, CHAN_T_QUIT, !n->same);
		}
	if (!n->same) {
		/*
		 * The old workers serve what is queued in their sockets and
		 * close them; our copies go now, so the kernel stops
		 * routing new requests to sockets nobody will read.
		 */
		listenset_free(m->ls);
		m->ls = n->ls;
	}
	if (n->conf != NULL) {
		conf_free(m->conf);
		m->conf = n->conf;
		log_set_level(m->conf->log_level);
	}
	m->generation = n->generation;
	slots_free(m);
	slots_new(m, (size_t)m->conf->workers);
	for (p = m->procs; p != NULL; p = p->next)
		if (p->pending) {
			p->pending = 0;
			tell(p, CHAN_T_SERVE, 0);
		}
	done = n->done;
	arg = n->arg;
	next_free(m);
	done(m, NULL, arg);
}

static void
next_check(struct master *m)
{
	if (m->next != NULL && m->next->ready == (size_t)(m->next->conf !=
	    NULL ? m->next->conf : m->conf)->workers)
		next_commit(m);
}

static void
next_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	char		*why;

	xasprintf(&why, "%zu of %d new workers reported ready within %d s",
	    m->next->ready, (m->next->conf != NULL ? m->next->conf :
	    m->conf)->workers, MASTER_READY_TIMEOUT_S);
	next_abort(m, why, 0);
	free(why);
}

/*
 * Fork a gated generation with conf (NULL: the running one, at start)
 * on ls.  Its outcome reaches done.  -1 and *cause if not even that.
 */
static int
next_start(struct master *m, struct conf *conf, struct listenset *ls,
    int same, master_done_fn done, void *arg, char **cause)
{
	const struct conf	*c = conf != NULL ? conf : m->conf;
	struct master_next	*n;
	struct timeval		 tv = { MASTER_READY_TIMEOUT_S, 0 };
	int			 i;

	n = xcalloc(1, sizeof *n);
	n->conf = conf;
	n->ls = ls;
	n->same = same;
	/* The start's generation is 1 from the outset (owlctl status). */
	n->generation = conf == NULL ? m->generation : m->generation + 1;
	n->done = done;
	n->arg = arg;
	if ((n->timeout_ev = evtimer_new(m->base, next_timeout_cb, m)) ==
	    NULL || evtimer_add(n->timeout_ev, &tv) == -1) {
		if (n->timeout_ev != NULL)
			event_free(n->timeout_ev);
		free(n);
		xasprintf(cause, "cannot start a timer");
		return -1;
	}
	m->next = n;
	for (i = 0; i < c->workers; i++)
		if (spawn(m, ls, c, i, n->generation, 1) == -1) {
			/* The caller keeps conf and ls and frees them. */
			next_end_workers(m);
			next_free(m);
			xasprintf(cause, "cannot fork worker[%d]", i);
			return -1;
		}
	return 0;
}

/* Reload, stop, reopen -------------------------------------------------- */

/* Whom master_reload tells. */
struct master_done_ctx {
	master_done_fn	 done;
	void		*arg;
};

static void
reload_finished(struct master *m, const char *error, void *arg)
{
	struct master_done_ctx	*d = arg;

	if (error == NULL) {
		m->reloads++;
		free(m->reload_error);
		m->reload_error = NULL;
		log_info("reload: generation %u serving with %d workers",
		    m->generation, m->conf->workers);
	} else {
		log_warnx("reload failed, generation %u keeps serving: %s",
		    m->generation, error);
		free(m->reload_error);
		m->reload_error = xstrdup(error);
	}
	audit_reload(m, m->generation, error);
	if (d->done != NULL)
		d->done(m, error, d->arg);
	free(d);
}

int
master_reload(struct master *m, master_done_fn done, void *arg,
    char **cause)
{
	struct master_done_ctx	*d;
	struct conf		*conf;
	struct listenset	*ls;
	int			 same;

	if (m->stopping) {
		xasprintf(cause, "the server is stopping");
		return -1;
	}
	if (m->next != NULL) {
		xasprintf(cause, "a reload is already in progress");
		return -1;
	}
	if ((conf = conf_build(m->src, cause)) == NULL)
		goto fail;
	if (preflight_check(conf, PREFLIGHT_WORKERS, cause) == -1) {
		conf_free(conf);
		goto fail;
	}
	rlimits_raise_nofile(conf, 0);
	same = listenset_matches(m->ls, conf);
	if (same)
		ls = m->ls;
	else if ((ls = listenset_bind(conf, m->ls, cause)) == NULL) {
		conf_free(conf);
		goto fail;
	}
	if (strcmp(conf->control_socket, m->conf->control_socket) != 0 ||
	    strcmp(conf->control_owner, m->conf->control_owner) != 0 ||
	    strcmp(conf->control_group, m->conf->control_group) != 0 ||
	    conf->control_mode != m->conf->control_mode ||
	    strcmp(conf->pid_file, m->conf->pid_file) != 0 ||
	    strcmp(conf->metrics_listen.text, m->conf->metrics_listen.text) != 0 ||
	    strcmp(conf->log_file, m->conf->log_file) != 0 ||
	    strcmp(conf->audit_file, m->conf->audit_file) != 0 ||
	    conf->log_format != m->conf->log_format)
		log_warnx("reload: the control socket, pid_file, "
		    "metrics_listen, log_file, audit_file and log_format keep "
		    "their running values until a restart");
	d = xcalloc(1, sizeof *d);
	d->done = done;
	d->arg = arg;
	if (next_start(m, conf, ls, same, reload_finished, d, cause) == -1) {
		free(d);
		if (!same)
			listenset_free(ls);
		conf_free(conf);
		goto fail;
	}
	log_info("reload: generation %u starting, generation %u serving "
	    "until it is ready", m->generation + 1, m->generation);
	return 0;
fail:
	log_warnx("reload failed, generation %u keeps serving: %s",
	    m->generation, *cause);
	free(m->reload_error);
	m->reload_error = xstrdup(*cause);
	audit_reload(m, m->generation, *cause);
	return -1;
}

static void
kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;
	struct wproc	*p;

	log_warnx("workers did not stop in time: killing them");
	for (p = m->procs; p != NULL; p = p->next)
		(void)kill(p->pid, SIGKILL);
}

void
master_stop(struct master *m, int graceful)
{
	struct timeval	 tv = { MASTER_KILL_AFTER_S, 0 };
	struct wproc	*p;
	size_t		 i;

	if (m->stopping == SIGTERM)
		return;
	log_info("%s stop", graceful ? "graceful" : "fast");
	m->stopping = graceful ? SIGQUIT : SIGTERM;
	next_abort(m, "the server is stopping", 0);
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].respawn_ev != NULL)
			(void)event_del(m->slots[i].respawn_ev);
	for (p = m->procs; p != NULL; p = p->next) {
		if (graceful)
			tell(p, CHAN_T_QUIT, 1);
		else {
			tell(p, CHAN_T_TERMINATE, 0);
			/* Channel first; the signal in case it is stuck. */
			(void)kill(p->pid, SIGTERM);
		}
		p->retiring = 1;
	}
	if (m->procs == NULL) {
		(void)event_base_loopbreak(m->base);
		return;
	}
	if (graceful)
		tv.tv_sec += m->conf->drain_timeout;
	if (m->kill_ev == NULL)
		m->kill_ev = evtimer_new(m->base, kill_cb, m);
	if (m->kill_ev != NULL)
		(void)evtimer_add(m->kill_ev, &tv);
}

void
master_reopen(struct master *m)
{
	struct wproc	*p;

	if (log_reopen() == -1)
		log_warn("reopen log file");
	if (audit_reopen() == -1)
		log_warn("reopen audit file");
	for (p = m->procs; p != NULL; p = p->next)
		tell(p, CHAN_T_REOPEN, 0);
	log_info("log files reopened");
}

/* Counters and control requests ---------------------------------------- */

/* The live workers' last reports, for the tally: n of them, allocated. */
static struct tally_live *
live_workers(const struct master *m, size_t *n)
{
	const struct wproc	*p;
	struct tally_live	*live;
	size_t			 i = 0;

	*n = master_alive(m);
	live = xcalloc(*n + 1, sizeof *live);
	for (p = m->procs; p != NULL; p = p->next, i++) {
		live[i].slot = p->slot;
		live[i].stats = &p->last.stats;
		live[i].active = p->last.active;
	}
	return live;
}

static const char *
proc_state(const struct wproc *p)
{
	if (p->retiring)
		return "draining";
	if (p->pending)
		return p->hello ? "ready" : "starting";
	return p->hello ? "running" : "starting";
}

static void
view_workers(const struct master *m, struct master_view *v, time_t now)
{
	const struct wproc	*p;
	struct report_worker	*w;

	v->nworkers = master_alive(m);
	v->workers = xcalloc(v->nworkers + 1, sizeof *v->workers);
	for (p = m->procs, w = v->workers; p != NULL; p = p->next, w++) {
		w->slot = p->slot;
		w->pid = p->pid;
		w->generation = p->generation;
		w->uptime = now - p->started;
		w->active = (int64_t)p->last.active;
		w->state = proc_state(p);
		w->stats = p->last.stats;
	}
}

static void
view_listen(const struct master *m, struct master_view *v)
{
	const struct sockaddr	*sa;
	char			 name[80];
	size_t			 i;

	v->nlisten = m->ls != NULL ? listenset_count(m->ls) : 0;
	v->listen = xcalloc(v->nlisten + 1, sizeof *v->listen);
	for (i = 0; i < v->nlisten; i++) {
		sa = (const struct sockaddr *)&listenset_bound(m->ls, i)->addr;
		v->listen[i] = xstrdup(sock_ntop(sa, name, sizeof name));
		if (i == 0)
			v->listen_port = sock_port_of(sa);
	}
}

void
master_view(const struct master *m, struct master_view *v)
{
	struct tally_live	*live;
	time_t			 now = time(NULL);
	uint64_t		 active;
	size_t			 nlive;

	memset(v, 0, sizeof *v);
	v->version = PACKAGE_VERSION;
	v->pid = getpid();
	v->reloads = m->reloads;
	v->config = m->src->path;
	v->workers_configured = m->conf->workers;
	v->stopping = m->stopping != 0;
	v->reload_error = m->reload_error;
	live = live_workers(m, &nlive);
	tally_totals(&m->tally, live, nlive, &v->total, &v->total_since_start,
	    &active);
	v->slots = tally_slots(&m->tally, live, nlive, &v->nslots);
	free(live);
	view_listen(m, v);
	view_workers(m, v, now);
	v->server.uptime = now - m->started;
	v->server.generation = m->generation;
	v->server.workers_alive = (int64_t)v->nworkers;
	v->server.transfers_active = (int64_t)active;
}

void
master_view_free(struct master_view *v)
{
	size_t	 i;

	for (i = 0; i < v->nlisten; i++)
		free(v->listen[i]);
	free(v->listen);
	free(v->workers);
	free(v->slots);
	memset(v, 0, sizeof *v);
}

void
master_stats_reset(struct master *m)
{
	struct tally_live	*live;
	size_t			 nlive;

	live = live_workers(m, &nlive);
	tally_reset(&m->tally, live, nlive);
	free(live);
}

/* Call the waiter with a view of what arrived. */
static void
wait_answer(struct master *m, struct master_wait *w)
{
	struct master_view	 v;
	struct report_xfer	*x;
	size_t			 i;

	master_view(m, &v);
	if (w->question == MASTER_ASK_XFERS) {
		v.nxfers = w->nxfers;
		v.xfers = xcalloc(w->nxfers + 1, sizeof *v.xfers);
		for (i = 0; i < w->nxfers; i++) {
			const struct chan_xfer_rec	*r = &w->xfers[i].rec;

			x = &v.xfers[i];
			x->worker = w->xfers[i].slot;
			x->pid = w->xfers[i].pid;
#define MASTER_X_COPY(name, kind)	x->name = r->name;
			REPORT_XFER_FIELDS(MASTER_X_COPY)
#undef MASTER_X_COPY
		}
	}
	w->done(m, &v, w->arg);
	free(v.xfers);
	master_view_free(&v);
}

static void
wait_finish(struct master *m, struct master_wait *w)
{
	struct master_wait	**pp;

	for (pp = &m->waits; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	wait_answer(m, w);
	if (w->timeout_ev != NULL)
		event_free(w->timeout_ev);
	free(w->xfers);
	free(w);
}

/* Finish every wait whose workers have all answered. */
static void
wait_check(struct master *m)
{
	struct master_wait	*w, *next;
	struct wproc		*p;

	for (w = m->waits; w != NULL; w = next) {
		int	 all = 1;

		next = w->next;
		for (p = m->procs; p != NULL; p = p->next)
			if ((w->question == MASTER_ASK_STATS &&
			    !p->stats_fresh) || (w->question ==
			    MASTER_ASK_XFERS && !p->xfers_done))
				all = 0;
		if (all)
			wait_finish(m, w);
	}
}

/* Some worker did not answer in time: reply with what there is. */
static void
master_wait_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct master_wait	*w = arg;

	wait_finish(w->m, w);
}

void
master_ask(struct master *m, enum master_question question,
    master_answer_fn done, void *arg)
{
	struct master_wait	*w;
	struct wproc		*p;
	struct chan_xfers_req	 rq;
	struct timeval		 tv = { 0, MASTER_ASK_TIMEOUT_MS * 1000 };

	w = xcalloc(1, sizeof *w);
	w->m = m;
	w->question = question;
	w->req = ++m->next_req;
	w->done = done;
	w->arg = arg;
	rq.req = w->req;
	for (p = m->procs; p != NULL; p = p->next) {
		if (question == MASTER_ASK_STATS) {
			p->stats_fresh = 0;
			(void)chan_send(&p->chan, CHAN_T_STATS_REQ, NULL, 0, 0);
		} else {
			p->xfers_done = 0;
			(void)chan_send(&p->chan, CHAN_T_XFERS_REQ, &rq,
			    sizeof rq, 0);
		}
	}
	w->next = m->waits;
	m->waits = w;
	w->timeout_ev = evtimer_new(m->base, master_wait_timeout, w);
	if (w->timeout_ev != NULL)
		(void)evtimer_add(w->timeout_ev, &tv);
	wait_check(m);
}

/* Signals, pid file, startup --------------------------------------------- */

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct master	*m = arg;
	char		*cause = NULL;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		master_stop(m, 0);
		break;
	case SIGQUIT:
		master_stop(m, 1);
		break;
	case SIGCHLD:
		reap(m);
		break;
	case SIGHUP:
		/* Logged either way by master_reload. */
		log_info("SIGHUP: reloading");
		if (master_reload(m, NULL, NULL, &cause) == -1)
			free(cause);
		break;
	case SIGUSR1:
		master_reopen(m);
		break;
	default:
		break;
	}
}

static void
cleanup(struct master *m)
{
	struct wproc	*p;
	size_t		 i;

	while (m->waits != NULL) {
		struct master_wait	*w = m->waits;

		m->waits = w->next;
		if (w->timeout_ev != NULL)
			event_free(w->timeout_ev);
		free(w->xfers);
		free(w);
	}
	ctl_free(m->ctl);
	metrics_free(m->metrics);
	for (i = 0; i < sizeof m->sig_ev / sizeof m->sig_ev[0]; i++)
		if (m->sig_ev[i] != NULL)
			event_free(m->sig_ev[i]);
	if (m->kill_ev != NULL)
		event_free(m->kill_ev);
	while ((p = m->procs) != NULL) {
		m->procs = p->next;
		proc_free(p);
	}
	slots_free(m);
	listenset_free(m->ls);
	if (m->pidfd != -1) {
		(void)unlink(m->conf->pid_file);
		(void)close(m->pidfd);
	}
	if (m->base != NULL)
		event_base_free(m->base);
	free(m->reload_error);
	tally_free(&m->tally);
	conf_free(m->conf);
}

static void
audit_server(const struct master *m, const char *event)
{
	struct audit_buf	 b;

	if (!audit_wanted())
		return;
	audit_begin(&b, event);
	audit_str(&b, "version", PACKAGE_VERSION);
	audit_i64(&b, "pid", getpid());
	audit_u64(&b, "generation", m->generation);
	audit_emit(&b);
}

static int
control_start(struct master *m, char **cause)
{
	struct conf	*conf = m->conf;
	struct passwd	*pw;
	struct group	*gr;
	uid_t		 uid = 0;
	gid_t		 gid = 0;

	if (conf->control_socket[0] == '\0')
		return 0;
	if (geteuid() == 0) {
		if ((pw = getpwnam(conf->control_owner)) == NULL) {
			xasprintf(cause, "control_owner %s: no such user",
			    conf->control_owner);
			return -1;
		}
		if ((gr = getgrnam(conf->control_group)) == NULL) {
			xasprintf(cause, "control_group %s: no such group",
			    conf->control_group);
			return -1;
		}
		uid = pw->pw_uid;
		gid = gr->gr_gid;
	}
	m->ctl = ctl_new(m->base, conf->control_socket, uid, gid,
	    conf->control_mode, m->cmds, m, cause);
	return m->ctl == NULL ? -1 : 0;
}

/* /metrics: the counters since the start, from the workers' last reports. */
static int
render_metrics(FILE *fp, void *arg)
{
	struct master_view	 v;
	int			 rc;

	master_view(arg, &v);
	rc = report_prometheus(&v, fp);
	master_view_free(&v);
	return rc;
}

/* The first generation is ready (error NULL), or could not start. */
static void
start_finished(struct master *m, const char *error, void *arg)
{
	if (error == NULL) {
		log_info("started %d workers", m->conf->workers);
		audit_server(m, "server_start");
		daemon_detach_done(&m->notify, NULL);
		return;
	}
	if (m->stopping) {
		daemon_detach_done(&m->notify, "stopped during startup");
		return;
	}
	log_warnx("cannot start: %s", error);
	daemon_detach_done(&m->notify, error);
	m->failed = 1;
	master_stop(m, 0);
}

/*
 * Startup, in order (docs/design.md): first what can fail on the
 * terminal, then what must happen after the fork, then the workers.
 */

/* Checks before anything is claimed, and the pid file's lock. */
static int
startup_check(struct master *m, char **cause)
{
	const struct conf	*conf = m->conf;

	if (preflight_check(conf, PREFLIGHT_ALL, cause) == -1)
		return -1;
	/* Before binding: with SO_REUSEPORT a second server would share. */
	if (conf->pid_file[0] != '\0' &&
	    (m->pidfd = daemon_pidfile_lock(conf->pid_file, cause)) == -1)
		return -1;
	(void)strlcpy(m->pidpath, conf->pid_file, sizeof m->pidpath);
	return 0;
}

/* The control socket, the listen sockets and the metrics endpoint. */
static int
startup_bind(struct master *m, char **cause)
{
	const struct conf	*conf = m->conf;

	if ((m->base = event_base_new()) == NULL) {
		xasprintf(cause, "event_base_new failed");
		return -1;
	}
	if (control_start(m, cause) == -1)
		return -1;
	rlimits_raise_nofile(conf, 1);
	if ((m->ls = listenset_bind(conf, NULL, cause)) == NULL)
		return -1;
	if (conf->metrics_listen.addrlen == 0)
		return 0;
	if ((m->metrics = metrics_new(m->base, &conf->metrics_listen,
	    render_metrics, m, cause)) == NULL)
		return -1;
	log_info("metrics on %s, port %d", conf->metrics_listen.text,
	    metrics_port(m->metrics));
	return 0;
}

/* Leave the terminal (unless foreground), then what needs the daemon. */
static int
startup_detach(struct master *m, int foreground, char **cause)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGCHLD,
				    SIGHUP, SIGUSR1 };
	const struct conf	*conf = m->conf;
	size_t			 i;

	if (!foreground) {
		if (daemon_detach(&m->notify) == -1) {
			xasprintf(cause, "detach: %s", strerror(errno));
			return -1;
		}
		(void)event_reinit(m->base);
	}
	if (m->pidfd != -1 && daemon_pidfile_write(m->pidfd) == -1) {
		xasprintf(cause, "pid file %s: %s", conf->pid_file,
		    strerror(errno));
		return -1;
	}
	if (daemon_open_logs(conf, cause) == -1)
		return -1;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((m->sig_ev[i] = evsignal_new(m->base, sigs[i], signal_cb,
		    m)) == NULL || evsignal_add(m->sig_ev[i], NULL) == -1) {
			xasprintf(cause, "cannot watch signals");
			return -1;
		}
	if (m->notify != -1) {
		/*
		 * Leave the terminal before forking workers, which would
		 * inherit it; the starting process hears the outcome from
		 * start_finished() through the pipe.
		 */
		daemon_detach_stdio();
		if (conf->log_file[0] == '\0')
			log_init(LOG_DEST_SYSLOG, conf->log_level, "owltftpd");
	}
	return 0;
}

/* Fork the first generation; start_finished() hears how it went. */
static void
startup_workers(struct master *m)
{
	char	*cause = NULL;

	/* Left by a crash of the whole server, whatever uploads is now. */
	(void)tmpclean_sweep(m->conf->root, 0);
	if (next_start(m, NULL, m->ls, 1, start_finished, NULL, &cause) ==
	    -1) {
		log_warnx("cannot start: %s", cause);
		daemon_detach_done(&m->notify, cause);
		free(cause);
		m->failed = 1;
		master_stop(m, 0);
	}
}

/*
 * A served run ends here: no child left behind, the files others look
 * at taken away.  Freeing the rest would only delay the exit that init
 * systems and owlctl stop wait for; the kernel takes it all back.
 */
static void __attribute__((noreturn))
served_exit(struct master *m)
{
	while (m->procs != NULL && proc_reap(1, forget_proc, m) != -1)
		continue;
	daemon_detach_done(&m->notify, "the server stopped during startup");
	log_info("exiting");
	audit_server(m, "server_stop");
	ctl_free(m->ctl);		/* removes the socket it made */
	if (m->pidfd != -1)
		(void)unlink(m->pidpath);	/* the one locked at startup */
	(void)fflush(NULL);
	_exit(m->failed ? 1 : 0);
}

/* Startup failed before any worker: say why, undo, exit code 1. */
static int
startup_failed(struct master *m, char *cause)
{
	if (cause != NULL) {
		log_warnx("%s", cause);
		daemon_detach_done(&m->notify, cause);	/* the starter exits 1 */
		free(cause);
	}
	daemon_detach_done(&m->notify, "startup failed");
	cleanup(m);
	return 1;
}

int
master_run(struct conf *conf, const struct conf_source *src, int foreground,
    const struct ctl_cmd *cmds)
{
	struct master	 m;
	char		*cause = NULL;

	log_set_role("master");
	memset(&m, 0, sizeof m);
	m.conf = conf;
	m.src = src;
	m.cmds = cmds;
	m.pidfd = -1;
	m.notify = -1;
	m.generation = 1;
	m.started = time(NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	if (startup_check(&m, &cause) == -1 ||
	    startup_bind(&m, &cause) == -1 ||
	    startup_detach(&m, foreground, &cause) == -1)
		return startup_failed(&m, cause);
	startup_workers(&m);
	if (m.procs != NULL)
		(void)event_base_dispatch(m.base);
	served_exit(&m);
}
