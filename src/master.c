/*
 * The master: binds every listen socket while it can, forks one worker
 * per slot, then only supervises.  Slot i of a generation owns socket i
 * of every listen address, so a respawned worker gets the same sockets
 * back and a reload that keeps the addresses hands the very same sockets
 * to the new workers: no request falls between two generations.
 *
 * Here: the worker processes and the slots they run in (spawn, respawn
 * with a crash-loop backoff, exits), and the channel handlers.  The
 * master's state and what its files share are in master-int.h; the
 * generations and reload are master-gen.c's, the view and the control
 * requests master-view.c's, startup, stop and exit master-run.c's.  The
 * sockets are listenset.c's, forking and reaping proc.c's, the
 * counters' arithmetic tally.c's.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "chan.h"
#include "conf.h"
#include "listenset.h"
#include "log.h"
#include "compat.h"
#include "loadboard.h"
#include "master-int.h"
#include "oserve.h"
#include "pkt.h"
#include "proc.h"
#include "tally.h"
#include "timer.h"
#include "tmpclean.h"
#include "worker.h"
#include "xmalloc.h"

#define MASTER_RESPAWN_MIN_MS	100
#define MASTER_RESPAWN_MAX_MS	30000
#define MASTER_GRACE_S		5	/* a worker dead younger is crash-looping */

/* Worker processes ---------------------------------------------------- */

size_t
master_alive(const struct master *m)
{
	const struct wproc	*p;
	size_t			 n = 0;

	for (p = m->procs; p != NULL; p = p->next)
		n++;
	return n;
}

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
	/* A passed request (balance) is queued behind whatever the worker
	 * has waiting: dropped, its client would wait for its own timer. */
	if (q != NULL && chan_send(&q->chan, CHAN_T_REQUEST, rq, sizeof *rq,
	    !rq->balanced) == 0)
		return;
	/* Not delivered where it was counted as coming. */
	if (rq->balanced)
		loadboard_arrived(master_board(m, p->generation), rq->slot);
	if (q != p && !p->retiring && chan_send(&p->chan, CHAN_T_REQUEST, rq,
	    sizeof *rq, !rq->balanced) == 0)
		return;
	log_debug("request for worker[%u] dropped: no worker can take it",
	    rq->slot);
}

/* An answer of the origin service for the worker of pid, if alive. */
static void
origin_reply(void *arg, pid_t pid, const struct chan_origin_done *d)
{
	struct master	*m = arg;
	struct wproc	*p;

	for (p = m->procs; p != NULL; p = p->next)
		if (p->pid == pid && !p->chan.closed) {
			(void)chan_send(&p->chan, CHAN_T_ORIGIN_DONE, d,
			    sizeof *d, 0);
			return;
		}
}

/* A worker asks for a file under an origin. */
static void
on_origin(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc			*p = arg;
	const struct chan_origin	*m = body;
	struct chan_origin		 copy;
	struct chan_origin_done		 d;

	(void)c;
	(void)h;
	if (p->m->oserve == NULL) {
		memset(&d, 0, sizeof d);
		d.id = m->id;
		d.peer = m->peer;
		d.code = TFTP_E_UNDEF;
		(void)strlcpy(d.msg, "origin: not available", sizeof d.msg);
		origin_reply(p->m, p->pid, &d);
		return;
	}
	/* Strings from a worker are its own: terminate them here. */
	copy = *m;
	copy.rule.prefix[sizeof copy.rule.prefix - 1] = '\0';
	copy.rule.url[sizeof copy.rule.url - 1] = '\0';
	copy.rule.ca_file[sizeof copy.rule.ca_file - 1] = '\0';
	copy.rest[sizeof copy.rest - 1] = '\0';
	copy.file[sizeof copy.file - 1] = '\0';
	copy.client[sizeof copy.client - 1] = '\0';
	oserve_ask(p->m->oserve, p->pid, &copy);
}

int
master_origins(struct master *m, const struct conf *conf, char **cause)
{
	if (m->oserve != NULL) {
		if (conf->xfer.origins.n == 0)
			return 0;
		return oserve_check(m->oserve, conf, cause);
	}
	if (conf->xfer.origins.n == 0)
		return 0;
	if ((m->oserve = oserve_new(m->base, conf, origin_reply, m,
	    cause)) == NULL)
		return -1;
	log_info("origins: %zu, cached in %s", conf->xfer.origins.n,
	    conf->cache_dir);
	return 0;
}

static const struct chan_handler master_handlers[] = {
	{ CHAN_T_HELLO, sizeof(struct chan_hello), on_hello },
	{ CHAN_T_STATS, sizeof(struct chan_stats), on_stats },
	{ CHAN_T_DRAINED, 0, on_drained },
	{ CHAN_T_XFERS, sizeof(struct chan_xfers), on_xfers },
	{ CHAN_T_HANDOFF, sizeof(struct chan_request), on_handoff },
	{ CHAN_T_FAILED, sizeof(struct chan_failed), on_failed },
	{ CHAN_T_ORIGIN, sizeof(struct chan_origin), on_origin },
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
	struct loadboard	*board;
	int			 slot;
	uint32_t		 generation;
	int			 gated;
};

static int
run_worker(void *arg, int chanfd)
{
	const struct worker_args	*a = arg;

	return worker_main(a->conf, a->board, a->slot,
	    listenset_slot_fds(a->ls, a->slot), listenset_count(a->ls), chanfd,
	    a->generation, a->gated);
}

struct loadboard *
master_board(struct master *m, uint32_t generation)
{
	if (m->next != NULL && m->next->generation == generation)
		return m->next->board;
	return generation == m->generation ? m->board : NULL;
}

int
wproc_spawn(struct master *m, struct listenset *ls, const struct conf *conf,
    struct loadboard *board, int slot, uint32_t generation, int gated)
{
	struct worker_args	 args = { conf, ls, board, slot, generation,
				    gated };
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
		tv = timer_ms_tv(MASTER_RESPAWN_MAX_MS);
		(void)evtimer_add(sl->respawn_ev, &tv);
		return;
	}
	(void)wproc_spawn(m, m->ls, m->conf, m->board, sl->id, m->generation,
	    0);
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
	tv = timer_ms_tv(delay);
	if (sl->respawn_ev == NULL)
		sl->respawn_ev = evtimer_new(m->base, respawn_cb, sl);
	if (sl->respawn_ev != NULL)
		(void)evtimer_add(sl->respawn_ev, &tv);
}

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
	/* No more requests handed to its slot until the next one joins. */
	if (current)
		loadboard_leave(m->board, (unsigned)p->slot);
	tally_retire(&m->tally, p->slot, &p->last.stats);
	proc_ended(p->slot, p->pid, p->generation, status, !current ||
	    m->stopping);
	/* Its temporary upload files, unless it cannot have made any
	 * (gated workers of a new generation never read a request). */
	if (!clean && !p->pending && (m->conf->xfer.uploads != FS_UPLOAD_OFF ||
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

void
wproc_free(struct wproc *p)
{
	chan_close(&p->chan);
	free(p->failed);
	free(p);
}

/* Fold an exited worker into the totals and forget it. */
void
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
	wproc_free(p);
}

void
master_reap(struct master *m)
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

void
wproc_tell(struct wproc *p, int type, int close_listen)
{
	struct chan_quit	 q;

	if (type == CHAN_T_QUIT) {
		q.close_listen = (uint32_t)close_listen;
		(void)chan_send(&p->chan, CHAN_T_QUIT, &q, sizeof q, 0);
	} else
		(void)chan_send(&p->chan, (uint16_t)type, NULL, 0, 0);
}

/* Slots of the current generation ------------------------------------- */

void
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

void
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
