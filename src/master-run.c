/*
 * The master's life: master_run's startup steps in the order of
 * docs/design.md (check, bind, detach, workers), the signals, the
 * control socket and the metrics endpoint, stop and reopen, and the
 * exit.  Uses the worker processes, generations and view of the other
 * master files through master-int.h; detaching is daemon.c's.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "logev.h"
#include "master-int.h"
#include "metrics.h"
#include "preflight.h"
#include "proc.h"
#include "report.h"
#include "rlimits.h"
#include "tmpclean.h"
#include "xmalloc.h"

#define MASTER_KILL_AFTER_S	5	/* fast stop: SIGKILL stragglers */

/* Stop, reopen ----------------------------------------------------------- */

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
			wproc_tell(p, CHAN_T_QUIT, 1);
		else {
			wproc_tell(p, CHAN_T_TERMINATE, 0);
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
		wproc_tell(p, CHAN_T_REOPEN, 0);
	log_info("log files reopened");
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
		master_reap(m);
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
		wproc_free(p);
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
server_event(const struct master *m, const char *event)
{
	struct logev	 e;

	logev_begin(&e, event, LOG_INFO);
	logev_str(&e, "version", PACKAGE_VERSION);
	logev_i64(&e, "pid", getpid());
	logev_u64(&e, "generation", m->generation);
	logev_emit(&e);
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
		server_event(m, "server_start");
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
	server_event(m, "server_stop");
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
	    startup_detach(&m, foreground, &cause) == -1 ||
	    master_origins(&m, m.conf, &cause) == -1)
		return startup_failed(&m, cause);
	startup_workers(&m);
	if (m.procs != NULL)
		(void)event_base_dispatch(m.base);
	served_exit(&m);
}
