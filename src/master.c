/*
 * The master: binds every listen socket while it can, forks one worker
 * per slot, then only supervises.  Slot i of a generation owns socket i
 * of every listen address, so a respawned worker gets the same sockets
 * back and a reload that keeps the addresses hands the very same sockets
 * to the new workers: no request falls between two generations.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
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
#include "compat.h"
#include "conf.h"
#include "ctl.h"
#include "ctlcmd.h"
#include "log.h"
#include "master.h"
#include "preflight.h"
#include "metrics.h"
#include "rlimits.h"
#include "sock.h"
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

static void	 reap(struct master *);

/* Listen sockets ------------------------------------------------------ */

static void
set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

static int
same_listen(const struct conf_listen *a, const struct conf_listen *b)
{
	return a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

static void
listenset_free(struct listenset *ls)
{
	size_t	 i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->nslots * ls->nlisten; i++)
		if (ls->fd[i] != -1)
			(void)close(ls->fd[i]);
	free(ls->fd);
	free(ls);
}

static void
listenset_close_slot(struct listenset *ls, int slot)
{
	size_t	 i;

	for (i = 0; ls != NULL && i < ls->nlisten; i++) {
		int	*fd = &ls->fd[(size_t)slot * ls->nlisten + i];

		if (*fd != -1)
			(void)close(*fd);
		*fd = -1;
	}
}

/* Does conf ask for exactly the sockets ls has (all still open)? */
static int
listenset_matches(const struct listenset *ls, const struct conf *conf)
{
	size_t	 i;

	if (ls == NULL || ls->nslots != (size_t)conf->workers ||
	    ls->nlisten != conf->nlisten)
		return 0;
	for (i = 0; i < ls->nslots * ls->nlisten; i++)
		if (ls->fd[i] == -1)
			return 0;
	for (i = 0; i < conf->nlisten; i++)
		if (!same_listen(&ls->asked[i], &conf->listen[i]))
			return 0;
	return 1;
}

/* Was address a of conf bound by old (so its port is ours already)? */
static const struct conf_listen *
listen_inherited(const struct listenset *old, const struct conf_listen *l)
{
	size_t	 j;

	for (j = 0; old != NULL && j < old->nlisten; j++)
		if (same_listen(&old->asked[j], l))
			return &old->bound[j];
	return NULL;
}

/*
 * With SO_REUSEPORT a second server (or anything of the same user) on
 * the port would quietly share its requests with us: probe every fixed
 * port that is not ours already with a plain bind first, and refuse.
 */
static int
listenset_probe(const struct conf *conf, const struct listenset *old,
    char **cause)
{
	size_t	 a;

	for (a = 0; a < conf->nlisten; a++) {
		const struct conf_listen	*l = &conf->listen[a];

		if (sock_port_of((const struct sockaddr *)&l->addr) == 0 ||
		    listen_inherited(old, l) != NULL)
			continue;
		if (sock_port_free((const struct sockaddr *)&l->addr,
		    l->addrlen) == -1 && errno == EADDRINUSE) {
			xasprintf(cause, "listen %s: the port is already in use "
			    "by another process (another TFTP server?)",
			    l->text);
			return -1;
		}
	}
	return 0;
}

/*
 * Bind nslots sockets for every address of conf.  With port 0 the first
 * socket picks the port and the others bind the same one; an address
 * already bound by old keeps old's port.  NULL and *cause on failure.
 */
static struct listenset *
listenset_bind(const struct conf *conf, const struct listenset *old,
    char **cause)
{
	struct listenset	*ls;
	size_t			 a, s, j, n = 0;
	int			 port = -1;

	if (listenset_probe(conf, old, cause) == -1)
		return NULL;
	ls = xcalloc(1, sizeof *ls);
	ls->nslots = (size_t)conf->workers;
	ls->fd = xreallocarray(NULL, ls->nslots * conf->nlisten, sizeof(int));
	for (j = 0; j < ls->nslots * conf->nlisten; j++)
		ls->fd[j] = -1;
	ls->nlisten = conf->nlisten;

	for (a = 0; a < conf->nlisten; a++) {
		struct conf_listen	 l = conf->listen[a];
		const struct conf_listen *had = listen_inherited(old, &l);
		struct sockaddr		*sa = (struct sockaddr *)&l.addr;
		char			 name[80];
		int			 fds[CONF_WORKERS_MAX];

		if (had != NULL)
			l = *had;
		if (port > 0 && sock_port_of(sa) == 0)
			set_port(sa, port);
		for (s = 0; s < ls->nslots; s++) {
			fds[s] = sock_listen(sa, l.addrlen, conf->so_rcvbuf);
			if (fds[s] == -1)
				break;
			if (s == 0)
				set_port(sa, sock_port(fds[0]));
		}
		if (s < ls->nslots) {
			int	 saved = errno;

			while (s > 0)
				(void)close(fds[--s]);
			errno = saved;
			if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
				log_warn("listen %s skipped", conf->listen[a].text);
				continue;
			}
			xasprintf(cause, "listen %s: %s", conf->listen[a].text,
			    strerror(saved));
			goto fail;
		}
		if (port <= 0)
			port = sock_port_of(sa);
		for (s = 0; s < ls->nslots; s++)
			ls->fd[s * conf->nlisten + n] = fds[s];
		ls->asked[n] = conf->listen[a];
		ls->bound[n] = l;
		log_info("listening on %s", sock_ntop(sa, name, sizeof name));
		n++;
	}
	if (n == 0) {
		xasprintf(cause, "no listen address could be bound");
		goto fail;
	}
	/* Compact: slots index with the count actually bound. */
	if (n != conf->nlisten) {
		for (s = 0; s < ls->nslots; s++)
			for (j = 0; j < n; j++)
				ls->fd[s * n + j] = ls->fd[s * conf->nlisten + j];
	}
	ls->nlisten = n;
	return ls;
fail:
	ls->nlisten = conf->nlisten;
	listenset_free(ls);
	return NULL;
}

/*
 * Put a slot whose sockets were taken out of the group (its worker
 * crash-looped) back in: same addresses, same ports.  0 or -1.
 */
static int
listenset_rebind_slot(struct listenset *ls, int slot, int rcvbuf)
{
	size_t	 i;

	for (i = 0; i < ls->nlisten; i++) {
		int			*fd = &ls->fd[(size_t)slot * ls->nlisten + i];
		const struct conf_listen *l = &ls->bound[i];

		if (*fd != -1)
			continue;
		*fd = sock_listen((const struct sockaddr *)&l->addr,
		    l->addrlen, rcvbuf);
		if (*fd == -1) {
			log_warn("worker[%d]: rebind %s", slot, l->text);
			listenset_close_slot(ls, slot);
			return -1;
		}
	}
	return 0;
}

static int
listenset_slot_open(const struct listenset *ls, int slot)
{
	return ls->nlisten > 0 && ls->fd[(size_t)slot * ls->nlisten] != -1;
}

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
		if (w->kind == CHAN_T_XFERS_REQ && w->req == x->req)
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

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * In the child: keep only what the worker of this slot needs.  Every
 * other descriptor goes, including control connections that happen to
 * be open (a client waits for their EOF) and the other slots' sockets.
 */
static void
child_cleanup(struct master *m, struct listenset *ls, int slot, int keepfd)
{
	int	 keep[CONF_LISTEN_MAX + 5], n = 0, i, from = 3;
	size_t	 a;

	/*
	 * Re-initialise before freeing: freeing directly would delete the
	 * master's events from the epoll set parent and child share.
	 */
	(void)event_reinit(m->base);
	event_base_free(m->base);
	m->base = NULL;
	keep[n++] = keepfd;
	for (a = 0; a < ls->nlisten; a++)
		keep[n++] = ls->fd[(size_t)slot * ls->nlisten + a];
	if (log_file_fd() != -1)
		keep[n++] = log_file_fd();
	if (audit_fd() != -1)
		keep[n++] = audit_fd();
	qsort(keep, (size_t)n, sizeof keep[0], cmp_int);
	closelog();	/* its socket would be closed under it */
	for (i = 0; i < n; i++) {
		if (keep[i] > from)
			(void)close_range((unsigned)from,
			    (unsigned)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	(void)close_range((unsigned)from, ~0U, 0);
	log_reopen_syslog();
}

/* A master event for the audit log: worker_start, worker_exit. */
static void
audit_worker(const char *event, int slot, pid_t pid, uint32_t generation,
    int status)
{
	struct audit_buf	 b;

	if (!audit_wanted())
		return;
	audit_begin(&b, event);
	audit_i64(&b, "slot", slot);
	audit_i64(&b, "pid", pid);
	audit_u64(&b, "generation", generation);
	if (status != -1 && WIFEXITED(status))
		audit_i64(&b, "exit_code", WEXITSTATUS(status));
	else if (status != -1 && WIFSIGNALED(status))
		audit_i64(&b, "signal", WTERMSIG(status));
	audit_emit(&b);
}

static int
spawn(struct master *m, struct listenset *ls, const struct conf *conf,
    int slot, uint32_t generation, int gated)
{
	struct wproc	*p;
	sigset_t	 all, old;
	int		 sv[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		log_warn("socketpair");
		return -1;
	}
	/* No signal may reach the child before it has its own handlers. */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		child_cleanup(m, ls, slot, sv[1]);
		_exit(worker_main(conf, slot, &ls->fd[(size_t)slot *
		    ls->nlisten], ls->nlisten, sv[1], generation, gated));
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(sv[1]);
	p = xcalloc(1, sizeof *p);
	p->m = m;
	p->slot = slot;
	p->generation = generation;
	p->pending = gated;
	p->pid = pid;
	p->started = time(NULL);
	if (chan_open(&p->chan, m->base, sv[0], (uint32_t)slot,
	    master_handlers, on_worker_eof, p) == -1) {
		log_warnx("worker[%d]: cannot watch its channel", slot);
		(void)close(sv[0]);
		p->chan.fd = -1;
	}
	p->next = m->procs;
	m->procs = p;
	log_debug("worker[%d] started, pid %ld, generation %u", slot,
	    (long)pid, generation);
	audit_worker("worker_start", slot, pid, generation, -1);
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

/* Why a worker ended, for messages: its own word if it said one. */
static char *
exit_reason(const struct wproc *p, int status)
{
	char	*why;

	if (p->failed != NULL)
		why = xstrdup(p->failed);
	else if (WIFSIGNALED(status))
		xasprintf(&why, "worker[%d] was killed by signal %d before it "
		    "was ready", p->slot, WTERMSIG(status));
	else
		xasprintf(&why, "worker[%d] exited with code %d before it was "
		    "ready", p->slot, WIFEXITED(status) ? WEXITSTATUS(status) :
		    -1);
	return why;
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
	stats_add(&m->retired, &p->last.stats);
	if ((size_t)p->slot >= m->nslot_retired) {
		m->slot_retired = xreallocarray(m->slot_retired,
		    (size_t)p->slot + 1, sizeof *m->slot_retired);
		memset(m->slot_retired + m->nslot_retired, 0,
		    ((size_t)p->slot + 1 - m->nslot_retired) *
		    sizeof *m->slot_retired);
		m->nslot_retired = (size_t)p->slot + 1;
	}
	stats_add(&m->slot_retired[p->slot], &p->last.stats);
	audit_worker("worker_exit", p->slot, p->pid, p->generation, status);
	if (clean && (!current || m->stopping))
		log_debug("worker[%d] pid %ld exited", p->slot, (long)p->pid);
	else if (WIFEXITED(status))
		log_warnx("worker[%d] pid %ld exited with code %d", p->slot,
		    (long)p->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker[%d] pid %ld killed by signal %d", p->slot,
		    (long)p->pid, WTERMSIG(status));
	/* Its temporary upload files, unless it cannot have made any
	 * (gated workers of a new generation never read a request). */
	if (!clean && !p->pending && (m->conf->uploads != FS_UPLOAD_OFF ||
	    p->generation != m->generation))
		(void)tmpclean_sweep(m->conf->root, p->pid);
	if (p->pending && m->next != NULL) {
		char	*why = exit_reason(p, status);

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
forget_proc(struct master *m, pid_t pid, int status)
{
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
	pid_t	 pid;
	int	 status;
	size_t	 i, fatal = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		forget_proc(m, pid, status);
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

void
master_totals(const struct master *m, struct stats *out, uint64_t *active)
{
	const struct wproc	*p;

	*out = m->retired;
	*active = 0;
	for (p = m->procs; p != NULL; p = p->next) {
		stats_add(out, &p->last.stats);
		*active += p->last.active;
	}
	stats_sub(out, &m->baseline);
}

void
master_totals_since_start(const struct master *m, struct stats *out,
    uint64_t *active)
{
	master_totals(m, out, active);
	stats_add(out, &m->baseline);
}

size_t
master_slots_seen(const struct master *m)
{
	const struct wproc	*p;
	size_t			 n = m->nslot_retired;

	for (p = m->procs; p != NULL; p = p->next)
		if ((size_t)p->slot + 1 > n)
			n = (size_t)p->slot + 1;
	return n;
}

void
master_slot_totals(const struct master *m, size_t slot, struct stats *out)
{
	const struct wproc	*p;

	memset(out, 0, sizeof *out);
	if (slot < m->nslot_retired)
		*out = m->slot_retired[slot];
	for (p = m->procs; p != NULL; p = p->next)
		if ((size_t)p->slot == slot)
			stats_add(out, &p->last.stats);
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
	w->done(m, w, w->arg);
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
			if ((w->kind == CHAN_T_STATS_REQ && !p->stats_fresh) ||
			    (w->kind == CHAN_T_XFERS_REQ && !p->xfers_done))
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

int
master_ask(struct master *m, int kind, master_wait_fn done, void *arg)
{
	struct master_wait	*w;
	struct wproc		*p;
	struct chan_xfers_req	 rq;
	struct timeval		 tv = { 0, MASTER_ASK_TIMEOUT_MS * 1000 };

	w = xcalloc(1, sizeof *w);
	w->m = m;
	w->kind = kind;
	w->req = ++m->next_req;
	w->done = done;
	w->arg = arg;
	rq.req = w->req;
	for (p = m->procs; p != NULL; p = p->next) {
		if (kind == CHAN_T_STATS_REQ) {
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
	return 0;
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

/*
 * Leave the terminal like daemon(3), but let the starting process wait
 * for our word: "0" once every worker is ready, or "1" and the reason,
 * which it prints before it exits 1.  Init scripts and systemd's forking
 * units thus see a start that cannot serve fail, with the reason.
 */
static int
detach(int *notify)
{
	char	 buf[1024];
	size_t	 got = 0;
	ssize_t	 n;
	int	 p[2];
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid != 0) {
		(void)close(p[1]);
		while (got < sizeof buf - 1 && ((n = read(p[0], buf + got,
		    sizeof buf - 1 - got)) > 0 || (n == -1 && errno == EINTR)))
			if (n > 0)
				got += (size_t)n;
		buf[got] = '\0';
		if (got > 0 && buf[0] == '0')
			_exit(0);
		if (got > 1)
			(void)fprintf(stderr, "owltftpd: %s\n", buf + 1);
		else if (got == 0)
			(void)fprintf(stderr, "owltftpd: the server exited "
			    "during startup (see its log)\n");
		_exit(1);
	}
	(void)close(p[0]);
	if (setsid() == -1 || chdir("/") == -1) {
		(void)close(p[1]);
		return -1;
	}
	*notify = p[1];
	return 0;
}

/* Past every check that reports on the terminal: leave it. */
static void
detach_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
}

/* Tell the starting process the outcome: error NULL is success. */
static void
detach_done(int *notify, const char *error)
{
	char	 buf[1024];
	int	 n;

	if (*notify == -1)
		return;
	n = snprintf(buf, sizeof buf, "%s%s", error == NULL ? "0" : "1",
	    error == NULL ? "" : error);
	if (n >= (int)sizeof buf)
		n = (int)sizeof buf - 1;
	(void)write(*notify, buf, (size_t)n);
	(void)close(*notify);
	*notify = -1;
}

/*
 * Take the pid file's lock: a live server holds it, a dead one's file
 * is just a file.  Returns the locked descriptor, or -1 with *cause.
 */
static int
pidfile_lock(const char *path, char **cause)
{
	char	 buf[32];
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		xasprintf(cause, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		xasprintf(cause, "another owltftpd (pid %s) is running with "
		    "pid file %s", buf[0] != '\0' ? buf : "?", path);
		(void)close(fd);
		return -1;
	}
	return fd;
}

static int
pidfile_write(int fd)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
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
	free(m->slot_retired);
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

static uid_t
worker_uid(const struct conf *conf)
{
	struct passwd	*pw;

	if (geteuid() != 0 || (pw = getpwnam(conf->user)) == NULL)
		return (uid_t)-1;
	return pw->pw_uid;
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
	    conf->control_mode, ctlcmd_table, m, cause);
	return m->ctl == NULL ? -1 : 0;
}

/* The first generation is ready (error NULL), or could not start. */
static void
start_finished(struct master *m, const char *error, void *arg)
{
	if (error == NULL) {
		log_info("started %d workers", m->conf->workers);
		audit_server(m, "server_start");
		detach_done(&m->notify, NULL);
		return;
	}
	if (m->stopping) {
		detach_done(&m->notify, "stopped during startup");
		return;
	}
	log_warnx("cannot start: %s", error);
	detach_done(&m->notify, error);
	m->failed = 1;
	master_stop(m, 0);
}

int
master_run(struct conf *conf, const struct conf_source *src, int foreground)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGCHLD,
				    SIGHUP, SIGUSR1 };
	struct master		 m;
	char			*cause = NULL;
	char			 pidpath[PATH_MAX];
	size_t			 i;
	int			 rc = 1;

	log_set_role("master");
	memset(&m, 0, sizeof m);
	m.conf = conf;
	m.src = src;
	m.pidfd = -1;
	m.notify = -1;
	m.generation = 1;
	m.started = time(NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	if (preflight_check(conf, PREFLIGHT_ALL, &cause) == -1)
		goto out;
	/* Before binding: with SO_REUSEPORT a second server would share. */
	if (conf->pid_file[0] != '\0' &&
	    (m.pidfd = pidfile_lock(conf->pid_file, &cause)) == -1)
		goto out;
	(void)strlcpy(pidpath, conf->pid_file, sizeof pidpath);
	if ((m.base = event_base_new()) == NULL) {
		xasprintf(&cause, "event_base_new failed");
		goto out;
	}
	if (control_start(&m, &cause) == -1)
		goto out;
	rlimits_raise_nofile(conf, 1);
	if ((m.ls = listenset_bind(conf, NULL, &cause)) == NULL)
		goto out;
	if (conf->metrics_listen.addrlen != 0) {
		if ((m.metrics = metrics_new(m.base, &conf->metrics_listen, &m,
		    &cause)) == NULL)
			goto out;
		log_info("metrics on %s, port %d", conf->metrics_listen.text,
		    metrics_port(m.metrics));
	}
	if (!foreground) {
		if (detach(&m.notify) == -1) {
			xasprintf(&cause, "detach: %s", strerror(errno));
			goto out;
		}
		(void)event_reinit(m.base);
	}
	if (m.pidfd != -1 && pidfile_write(m.pidfd) == -1) {
		xasprintf(&cause, "pid file %s: %s", conf->pid_file,
		    strerror(errno));
		goto out;
	}
	if (conf->log_file[0] != '\0' &&
	    log_open_file(conf->log_file, worker_uid(conf)) == -1) {
		xasprintf(&cause, "log file %s: %s", conf->log_file,
		    strerror(errno));
		goto out;
	}
	if (audit_init(conf->audit_file, conf->log_format ? AUDIT_JSON :
	    AUDIT_TEXT, worker_uid(conf)) == -1) {
		xasprintf(&cause, "audit file %s: %s", conf->audit_file,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((m.sig_ev[i] = evsignal_new(m.base, sigs[i], signal_cb,
		    &m)) == NULL || evsignal_add(m.sig_ev[i], NULL) == -1) {
			xasprintf(&cause, "cannot watch signals");
			goto out;
		}
	if (m.notify != -1) {
		/*
		 * Leave the terminal before forking workers, which would
		 * inherit it; the starting process hears the outcome from
		 * start_finished() through the pipe.
		 */
		detach_stdio();
		if (conf->log_file[0] == '\0')
			log_init(LOG_DEST_SYSLOG, conf->log_level, "owltftpd");
	}
	/* Left by a crash of the whole server, whatever uploads is now. */
	(void)tmpclean_sweep(conf->root, 0);
	if (next_start(&m, NULL, m.ls, 1, start_finished, NULL, &cause) == -1) {
		log_warnx("cannot start: %s", cause);
		detach_done(&m.notify, cause);
		free(cause);
		cause = NULL;
		m.failed = 1;
		master_stop(&m, 0);
	}
	if (m.procs != NULL)
		(void)event_base_dispatch(m.base);
	/* A stop must not leave children behind. */
	while (m.procs != NULL) {
		int	 status;
		pid_t	 pid = waitpid(-1, &status, 0);

		if (pid == -1)
			break;
		forget_proc(&m, pid, status);
	}
	detach_done(&m.notify, "the server stopped during startup");
	log_info("exiting");
	audit_server(&m, "server_stop");
	rc = m.failed ? 1 : 0;
	/*
	 * A served run ends here: take the files others look at away and
	 * leave.  Freeing the rest would only delay the exit that init
	 * systems and owlctl stop wait for; the kernel takes it all back.
	 */
	ctl_free(m.ctl);		/* removes the socket it made */
	if (m.pidfd != -1)
		(void)unlink(pidpath);	/* the one locked at startup */
	(void)fflush(NULL);
	_exit(rc);
out:
	if (cause != NULL) {
		log_warnx("%s", cause);
		detach_done(&m.notify, cause);	/* the starting process exits 1 */
		free(cause);
	}
	detach_done(&m.notify, "startup failed");
	cleanup(&m);
	return rc;
}
