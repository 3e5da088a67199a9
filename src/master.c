/*
 * The master: binds every listen socket while it can, forks one worker
 * per slot, then only supervises.  Slot i owns socket i of every
 * listen address, so a respawned worker gets the same sockets back and
 * the SO_REUSEPORT group never changes.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "sock.h"
#include "worker.h"
#include "xmalloc.h"

#define MASTER_KILL_AFTER_S	5	/* fast stop: SIGKILL stragglers */
#define MASTER_RESPAWN_MIN_MS	100
#define MASTER_RESPAWN_MAX_MS	30000
#define MASTER_HEALTHY_S	60	/* a worker this old resets backoff */

struct slot {
	int		 id;
	pid_t		 pid;		/* 0 when not running */
	int		 listenfd[CONF_LISTEN_MAX];
	int		 chan[2];	/* [0] master end, [1] worker end */
	int		 respawn;	/* 0 after a "do not respawn" exit */
	unsigned	 backoff_ms;
	time_t		 started;
	struct event	*respawn_ev;
	struct master	*m;
};

struct master {
	struct conf		*conf;
	struct event_base	*base;
	struct slot		*slots;
	size_t			 nslots;
	size_t			 nlisten;	/* addresses actually bound */
	int			 stopping;
	struct event		*sig_ev[6];
	struct event		*kill_ev;
};

static int
bind_all(struct master *m)
{
	struct conf	*conf = m->conf;
	size_t		 a, s, n = 0;
	int		 port = -1;

	for (a = 0; a < conf->nlisten; a++) {
		struct conf_listen	*l = &conf->listen[a];
		struct sockaddr		*sa = (struct sockaddr *)&l->addr;
		char			 name[80];

		/* With port 0 the first socket picks the port and every
		 * other socket binds the same one. */
		if (port > 0 && conf->port == 0) {
			if (sa->sa_family == AF_INET)
				((struct sockaddr_in *)sa)->sin_port =
				    htons((uint16_t)port);
			else
				((struct sockaddr_in6 *)sa)->sin6_port =
				    htons((uint16_t)port);
		}
		for (s = 0; s < m->nslots; s++) {
			int	 fd = sock_listen(sa, l->addrlen,
			    conf->so_rcvbuf);

			if (fd == -1 && s == 0 && errno == EAFNOSUPPORT) {
				log_warn("listen %s skipped", l->text);
				break;
			}
			if (fd == -1) {
				log_warn("listen %s", l->text);
				return -1;
			}
			if (s == 0) {
				int	 p = sock_port(fd);

				if (sa->sa_family == AF_INET)
					((struct sockaddr_in *)sa)->sin_port =
					    htons((uint16_t)p);
				else
					((struct sockaddr_in6 *)sa)->
					    sin6_port = htons((uint16_t)p);
				if (port <= 0)
					port = p;
			}
			m->slots[s].listenfd[n] = fd;
		}
		if (s == 0)
			continue;
		log_info("listening on %s", sock_ntop(sa, name, sizeof name));
		/* Keep the bound addresses first, in order. */
		if (n != a)
			conf->listen[n] = *l;
		n++;
	}
	if (n == 0) {
		log_warnx("no listen address could be bound");
		return -1;
	}
	m->nlisten = n;
	conf->nlisten = n;
	return 0;
}

static int
spawn(struct slot *sl)
{
	struct master	*m = sl->m;
	sigset_t	 all, old;
	pid_t		 pid;
	size_t		 i, a;

	if (sl->chan[0] == -1 && socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sl->chan) == -1) {
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
		return -1;
	}
	if (pid == 0) {
		int	 rc;

		/* Keep only this slot's sockets and channel end. */
		for (i = 0; i < m->nslots; i++) {
			struct slot	*o = &m->slots[i];

			if (o->chan[0] != -1)
				(void)close(o->chan[0]);
			if (o == sl)
				continue;
			if (o->chan[1] != -1)
				(void)close(o->chan[1]);
			for (a = 0; a < m->nlisten; a++)
				(void)close(o->listenfd[a]);
		}
		/*
		 * The worker builds its own base.  Freeing the master's
		 * one here directly would delete the master's events from
		 * the epoll set both processes share: re-initialise it
		 * first so it gets a private one.
		 */
		(void)event_reinit(m->base);
		event_base_free(m->base);
		rc = worker_main(m->conf, sl->id, sl->listenfd, m->nlisten,
		    sl->chan[1]);
		_exit(rc);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	sl->pid = pid;
	sl->started = time(NULL);
	log_debug("worker[%d] started, pid %ld", sl->id, (long)pid);
	return 0;
}

static void
signal_workers(struct master *m, int sig)
{
	size_t	 i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			(void)kill(m->slots[i].pid, sig);
}

static size_t
alive(const struct master *m)
{
	size_t	 i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			n++;
	return n;
}

static void
kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct master	*m = arg;

	log_warnx("workers did not stop in time: killing them");
	signal_workers(m, SIGKILL);
}

static void
stop(struct master *m, int sig)
{
	struct timeval	 tv = { MASTER_KILL_AFTER_S, 0 };

	if (!m->stopping)
		log_info("%s stop", sig == SIGQUIT ? "graceful" : "fast");
	m->stopping = 1;
	signal_workers(m, sig);
	if (alive(m) == 0) {
		(void)event_base_loopbreak(m->base);
		return;
	}
	if (sig != SIGQUIT && m->kill_ev == NULL &&
	    (m->kill_ev = evtimer_new(m->base, kill_cb, m)) != NULL)
		(void)evtimer_add(m->kill_ev, &tv);
}

static void
respawn_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct slot	*sl = arg;

	if (!sl->m->stopping && sl->pid == 0)
		(void)spawn(sl);
}

static void
reaped(struct master *m, struct slot *sl, int status)
{
	struct timeval	 tv;

	sl->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_OK &&
	    m->stopping)
		log_debug("worker[%d] exited", sl->id);
	else if (WIFEXITED(status))
		log_warnx("worker[%d] exited with code %d", sl->id,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker[%d] killed by signal %d", sl->id,
		    WTERMSIG(status));
	if (m->stopping)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("worker[%d] failed fatally: not respawning", sl->id);
		sl->respawn = 0;
		if (alive(m) == 0) {
			log_warnx("no workers left");
			stop(m, SIGTERM);
		}
		return;
	}
	if (time(NULL) - sl->started >= MASTER_HEALTHY_S)
		sl->backoff_ms = MASTER_RESPAWN_MIN_MS;
	tv.tv_sec = sl->backoff_ms / 1000;
	tv.tv_usec = (suseconds_t)(sl->backoff_ms % 1000) * 1000;
	sl->backoff_ms = sl->backoff_ms * 2 > MASTER_RESPAWN_MAX_MS ?
	    MASTER_RESPAWN_MAX_MS : sl->backoff_ms * 2;
	if (sl->respawn_ev == NULL)
		sl->respawn_ev = evtimer_new(m->base, respawn_cb, sl);
	if (sl->respawn_ev != NULL)
		(void)evtimer_add(sl->respawn_ev, &tv);
}

static void
reap(struct master *m)
{
	pid_t	 pid;
	int	 status;
	size_t	 i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->nslots; i++)
			if (m->slots[i].pid == pid) {
				reaped(m, &m->slots[i], status);
				break;
			}
	}
	if (m->stopping && alive(m) == 0)
		(void)event_base_loopbreak(m->base);
}

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct master	*m = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		stop(m, SIGTERM);
		break;
	case SIGQUIT:
		stop(m, SIGQUIT);
		break;
	case SIGCHLD:
		reap(m);
		break;
	case SIGHUP:
		log_warnx("reload is not supported yet; ignoring SIGHUP");
		break;
	default:
		break;
	}
}

static void
cleanup(struct master *m)
{
	size_t	 i, a;

	for (i = 0; i < sizeof m->sig_ev / sizeof m->sig_ev[0]; i++)
		if (m->sig_ev[i] != NULL)
			event_free(m->sig_ev[i]);
	if (m->kill_ev != NULL)
		event_free(m->kill_ev);
	for (i = 0; i < m->nslots; i++) {
		struct slot	*sl = &m->slots[i];

		if (sl->respawn_ev != NULL)
			event_free(sl->respawn_ev);
		for (a = 0; a < m->nlisten; a++)
			(void)close(sl->listenfd[a]);
		if (sl->chan[0] != -1)
			(void)close(sl->chan[0]);
		if (sl->chan[1] != -1)
			(void)close(sl->chan[1]);
	}
	free(m->slots);
	if (m->base != NULL)
		event_base_free(m->base);
}

int
master_run(struct conf *conf, int foreground)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGCHLD,
				    SIGHUP, SIGUSR1 };
	struct master		 m;
	size_t			 i;
	int			 rc = 1;

	log_set_role("master");
	memset(&m, 0, sizeof m);
	m.conf = conf;
	m.nslots = (size_t)conf->workers;
	m.slots = xcalloc(m.nslots, sizeof *m.slots);
	for (i = 0; i < m.nslots; i++) {
		m.slots[i].id = (int)i;
		m.slots[i].m = &m;
		m.slots[i].chan[0] = m.slots[i].chan[1] = -1;
		m.slots[i].respawn = 1;
		m.slots[i].backoff_ms = MASTER_RESPAWN_MIN_MS;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	if (bind_all(&m) == -1)
		goto out;
	if (!foreground && daemon(0, 0) == -1) {
		log_warn("daemon");
		goto out;
	}
	if ((m.base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		goto out;
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if ((m.sig_ev[i] = evsignal_new(m.base, sigs[i], signal_cb,
		    &m)) == NULL || evsignal_add(m.sig_ev[i], NULL) == -1) {
			log_warnx("cannot watch signals");
			goto out;
		}
	for (i = 0; i < m.nslots; i++)
		if (spawn(&m.slots[i]) == -1) {
			stop(&m, SIGTERM);
			break;
		}
	log_info("started %zu workers", alive(&m));
	if (alive(&m) > 0)
		(void)event_base_dispatch(m.base);
	/* A stop must not leave children behind. */
	while (alive(&m) > 0) {
		int	 status;
		pid_t	 pid = waitpid(-1, &status, 0);

		if (pid == -1)
			break;
		for (i = 0; i < m.nslots; i++)
			if (m.slots[i].pid == pid)
				m.slots[i].pid = 0;
	}
	log_info("exiting");
	rc = 0;
out:
	cleanup(&m);
	return rc;
}
