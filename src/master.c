/*
 * The master: binds every listen socket while it can, forks one worker
 * per slot, then only supervises.  Slot i of a generation owns socket i
 * of every listen address, so a respawned worker gets the same sockets
 * back and a reload that keeps the addresses hands the very same sockets
 * to the new workers: no request falls between two generations.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/resource.h>
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
#include "metrics.h"
#include "sock.h"
#include "tmpclean.h"
#include "worker.h"
#include "xmalloc.h"

#define MASTER_KILL_AFTER_S	5	/* fast stop: SIGKILL stragglers */
#define MASTER_RESPAWN_MIN_MS	100
#define MASTER_RESPAWN_MAX_MS	30000
#define MASTER_HEALTHY_S	60	/* a worker this old resets backoff */
#define MASTER_ASK_TIMEOUT_MS	500	/* answer control requests by then */

static void	 reap(struct master *);
static void	 raise_nofile(const struct conf *);

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

/*
 * Bind nslots sockets for every address of conf.  With port 0 the first
 * socket picks the port and the others bind the same one; an address
 * already bound by old keeps old's port.
 */
static struct listenset *
listenset_bind(const struct conf *conf, const struct listenset *old)
{
	struct listenset	*ls;
	size_t			 a, s, j, n = 0;
	int			 port = -1;

	ls = xcalloc(1, sizeof *ls);
	ls->nslots = (size_t)conf->workers;
	ls->fd = xreallocarray(NULL, ls->nslots * conf->nlisten, sizeof(int));
	for (j = 0; j < ls->nslots * conf->nlisten; j++)
		ls->fd[j] = -1;
	ls->nlisten = conf->nlisten;

	for (a = 0; a < conf->nlisten; a++) {
		struct conf_listen	 l = conf->listen[a];
		struct sockaddr		*sa = (struct sockaddr *)&l.addr;
		char			 name[80];
		int			 fds[CONF_WORKERS_MAX];

		for (j = 0; old != NULL && j < old->nlisten; j++)
			if (same_listen(&old->asked[j], &conf->listen[a]))
				l = old->bound[j];
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
			log_warn("listen %s", conf->listen[a].text);
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
		log_warnx("no listen address could be bound");
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

static void
on_hello(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	struct wproc		*p = arg;
	const struct chan_hello	*hello = body;

	p->hello = 1;
	log_debug("worker[%d] pid %u generation %u ready", p->slot,
	    hello->pid, hello->generation);
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
spawn(struct master *m, struct listenset *ls, int slot)
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
		_exit(worker_main(m->conf, slot, &ls->fd[(size_t)slot *
		    ls->nlisten], ls->nlisten, sv[1], m->generation));
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(sv[1]);
	p = xcalloc(1, sizeof *p);
	p->m = m;
	p->slot = slot;
	p->generation = m->generation;
	p->pid = pid;
	p->started = time(NULL);
	p->ls = ls;
	if (chan_open(&p->chan, m->base, sv[0], (uint32_t)slot,
	    master_handlers, on_worker_eof, p) == -1) {
		log_warnx("worker[%d]: cannot watch its channel", slot);
		(void)close(sv[0]);
		p->chan.fd = -1;
	}
	p->next = m->procs;
	m->procs = p;
	log_debug("worker[%d] started, pid %ld, generation %u", slot,
	    (long)pid, m->generation);
	audit_worker("worker_start", slot, pid, m->generation, -1);
	return 0;
}

static void
respawn_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct mslot	*sl = arg;
	struct master	*m = sl->m;

	if (!m->stopping && m->ls != NULL)
		(void)spawn(m, m->ls, sl->id);
}

static void
proc_exited(struct master *m, struct wproc *p, int status)
{
	struct mslot	*sl;
	struct timeval	 tv;
	int		 current = p->generation == m->generation && !p->retiring;
	int		 clean = WIFEXITED(status) &&
			    WEXITSTATUS(status) == WORKER_EXIT_OK;

	/* Its last words (final counters) may still be in the channel. */
	if (p->chan.fd != -1)
		chan_drain(&p->chan);
	stats_add(&m->retired, &p->last.stats);
	audit_worker("worker_exit", p->slot, p->pid, p->generation, status);
	if (clean && (!current || m->stopping))
		log_debug("worker[%d] pid %ld exited", p->slot, (long)p->pid);
	else if (WIFEXITED(status))
		log_warnx("worker[%d] pid %ld exited with code %d", p->slot,
		    (long)p->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker[%d] pid %ld killed by signal %d", p->slot,
		    (long)p->pid, WTERMSIG(status));
	/* Its temporary upload files, unless it cannot have made any. */
	if (!clean && (m->conf->uploads != FS_UPLOAD_OFF ||
	    p->generation != m->generation))
		(void)tmpclean_sweep(m->conf->root, p->pid);
	if (!current || m->stopping || (size_t)p->slot >= m->nslots)
		return;
	sl = &m->slots[p->slot];
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("worker[%d] failed fatally: not respawning", p->slot);
		sl->fatal = 1;
		/* Nobody reads its sockets now: take them out of the
		 * SO_REUSEPORT group, or their share of requests is lost. */
		listenset_close_slot(m->ls, p->slot);
		return;
	}
	if (time(NULL) - p->started >= MASTER_HEALTHY_S)
		sl->backoff_ms = MASTER_RESPAWN_MIN_MS;
	tv.tv_sec = sl->backoff_ms / 1000;
	tv.tv_usec = (suseconds_t)(sl->backoff_ms % 1000) * 1000;
	log_info("worker[%d] respawning in %u ms", p->slot, sl->backoff_ms);
	sl->backoff_ms = sl->backoff_ms * 2 > MASTER_RESPAWN_MAX_MS ?
	    MASTER_RESPAWN_MAX_MS : sl->backoff_ms * 2;
	if (sl->respawn_ev == NULL)
		sl->respawn_ev = evtimer_new(m->base, respawn_cb, sl);
	if (sl->respawn_ev != NULL)
		(void)evtimer_add(sl->respawn_ev, &tv);
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
	chan_close(&p->chan);
	free(p);
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
	if (m->stopping || m->procs != NULL)
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
		m->slots[i].backoff_ms = MASTER_RESPAWN_MIN_MS;
	}
}

static size_t
spawn_all(struct master *m)
{
	size_t	 i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (spawn(m, m->ls, (int)i) == 0)
			n++;
	return n;
}

/* Reload, stop, reopen -------------------------------------------------- */

static void
audit_reload(const struct master *m, const char *error)
{
	struct audit_buf	 b;

	if (!audit_wanted())
		return;
	audit_begin(&b, "reload");
	audit_u64(&b, "generation", m->generation);
	audit_str(&b, "result", error == NULL ? "ok" : "error");
	if (error != NULL)
		audit_str(&b, "error", error);
	audit_emit(&b);
}

int
master_reload(struct master *m, char **cause)
{
	struct conf		*conf;
	struct listenset	*ls;
	struct wproc		*p;
	int			 same;

	if (m->stopping) {
		xasprintf(cause, "the server is stopping");
		return -1;
	}
	if ((conf = conf_build(m->src, cause)) == NULL)
		goto fail;
	raise_nofile(conf);
	same = listenset_matches(m->ls, conf);
	if (same)
		ls = m->ls;
	else if ((ls = listenset_bind(conf, m->ls)) == NULL) {
		xasprintf(cause, "cannot bind the new listen addresses");
		conf_free(conf);
		goto fail;
	}
	if (strcmp(conf->control_socket, m->conf->control_socket) != 0 ||
	    strcmp(conf->control_owner, m->conf->control_owner) != 0 ||
	    strcmp(conf->control_group, m->conf->control_group) != 0 ||
	    conf->control_mode != m->conf->control_mode ||
	    strcmp(conf->pid_file, m->conf->pid_file) != 0 ||
	    strcmp(conf->metrics_listen, m->conf->metrics_listen) != 0 ||
	    strcmp(conf->log_file, m->conf->log_file) != 0 ||
	    strcmp(conf->audit_file, m->conf->audit_file) != 0 ||
	    conf->log_format != m->conf->log_format)
		log_warnx("reload: the control socket, pid_file, "
		    "metrics_listen, log_file, audit_file and log_format keep "
		    "their running values until a restart");

	/* Retire the old generation: it finishes its transfers. */
	for (p = m->procs; p != NULL; p = p->next)
		if (!p->retiring) {
			p->retiring = 1;
			tell(p, CHAN_T_QUIT, !same);
		}
	if (!same) {
		/*
		 * The old workers serve what is queued in their sockets and
		 * close them; our copies go now, so the kernel stops
		 * routing new requests to sockets nobody will read.
		 */
		listenset_free(m->ls);
		m->ls = ls;
	}
	conf_free(m->conf);
	m->conf = conf;
	log_set_level(conf->log_level);
	m->generation++;
	m->reloads++;
	free(m->reload_error);
	m->reload_error = NULL;
	slots_free(m);
	slots_new(m, (size_t)conf->workers);
	log_info("reload: generation %u, %zu workers started", m->generation,
	    spawn_all(m));
	audit_reload(m, NULL);
	return 0;
fail:
	log_warnx("reload failed, keeping the running configuration: %s",
	    *cause);
	free(m->reload_error);
	m->reload_error = xstrdup(*cause);
	audit_reload(m, *cause);
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
		log_info("SIGHUP: reloading");
		if (master_reload(m, &cause) == -1)
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
 * for our word: it exits 0 once we are serving, 1 if startup failed
 * after the fork (its error went to the terminal first).
 */
static int
detach(int *notify)
{
	int	 p[2];
	char	 c = '1';	/* no word at all: the child died */
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
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(c == '0' ? 0 : 1);
	}
	(void)close(p[0]);
	if (setsid() == -1 || chdir("/") == -1) {
		(void)close(p[1]);
		return -1;
	}
	*notify = p[1];
	return 0;
}

static void
detach_done(int notify, int failed)
{
	int	 fd;

	if (!failed && (fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
	(void)write(notify, failed ? "1" : "0", 1);
	(void)close(notify);
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
		chan_close(&p->chan);
		free(p);
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
	conf_free(m->conf);
}

/*
 * Each transfer may hold two descriptors (an upload: its directory and
 * its temporary file): make room for twice a worker's share of
 * max_transfers, plus the open-file cache and the sockets (children
 * inherit the limit), raising the hard limit too when we are root.
 */
static void
raise_nofile(const struct conf *conf)
{
	struct rlimit	 rl;
	rlim_t		 share = ((rlim_t)conf->max_transfers +
			    (rlim_t)conf->workers - 1) / (rlim_t)conf->workers;
	rlim_t		 want = 2 * share + 512;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want && geteuid() == 0)
		rl.rlim_max = want;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE %llu",
		    (unsigned long long)want);
	else if (rl.rlim_cur < want)
		log_warnx("open files limited to %llu: fewer than %llu "
		    "transfers per worker may have files open",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)share);
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

int
master_run(struct conf *conf, const struct conf_source *src, int foreground)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGCHLD,
				    SIGHUP, SIGUSR1 };
	struct master		 m;
	char			*cause = NULL;
	char			 pidpath[PATH_MAX];
	size_t			 i;
	int			 rc = 1, notify = -1;

	log_set_role("master");
	memset(&m, 0, sizeof m);
	m.conf = conf;
	m.src = src;
	m.pidfd = -1;
	m.generation = 1;
	m.started = time(NULL);
	(void)signal(SIGPIPE, SIG_IGN);

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
	raise_nofile(conf);
	if ((m.ls = listenset_bind(conf, NULL)) == NULL)
		goto out;
	if (conf->metrics_listen[0] != '\0') {
		if ((m.metrics = metrics_new(m.base, conf->metrics_listen, &m,
		    &cause)) == NULL)
			goto out;
		log_info("metrics on %s, port %d", conf->metrics_listen,
		    metrics_port(m.metrics));
	}
	if (!foreground) {
		if (detach(&notify) == -1) {
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
	audit_server(&m, "server_start");
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((m.sig_ev[i] = evsignal_new(m.base, sigs[i], signal_cb,
		    &m)) == NULL || evsignal_add(m.sig_ev[i], NULL) == -1) {
			xasprintf(&cause, "cannot watch signals");
			goto out;
		}
	if (notify != -1) {
		/*
		 * Everything that can fail at startup is done: tell the
		 * starting process, and leave the terminal before forking
		 * workers, which would inherit it.
		 */
		detach_done(notify, 0);
		notify = -1;
		if (conf->log_file[0] == '\0')
			log_init(LOG_DEST_SYSLOG, conf->log_level, "owltftpd");
	}
	/* Left by a crash of the whole server, whatever uploads is now. */
	(void)tmpclean_sweep(conf->root, 0);
	slots_new(&m, (size_t)conf->workers);
	log_info("started %zu workers", spawn_all(&m));
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
		free(cause);
	}
	if (notify != -1)
		detach_done(notify, 1);	/* the starting process exits 1 */
	cleanup(&m);
	return rc;
}
