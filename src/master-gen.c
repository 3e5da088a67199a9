/*
 * Generations: a new one starts gated next to the running one, and is
 * committed once every new worker is ready, or abandoned without
 * touching the running one.  master_reload builds one from the
 * configuration re-read and records its outcome.  Shares with the other
 * master files, through master-int.h, next_start (the first generation
 * too), next_check and next_abort.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "chan.h"
#include "conf.h"
#include "listenset.h"
#include "log.h"
#include "logev.h"
#include "loadboard.h"
#include "master-int.h"
#include "oserve.h"
#include "preflight.h"
#include "rlimits.h"
#include "xmalloc.h"

#define MASTER_READY_TIMEOUT_S	8	/* new workers must be ready by then
					   (under owlctl's and ctl's 10 s) */

/* The next generation: start, commit, abandon ---------------------------- */

static void
reload_event(const struct master *m, uint32_t generation, const char *error)
{
	struct logev	 e;

	logev_begin(&e, "reload", LOG_INFO);
	logev_u64(&e, "generation", generation);
	logev_str(&e, "result", error == NULL ? "ok" : "error");
	if (error != NULL)
		logev_str(&e, "error", error);
	logev_emit(&e);
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
			wproc_tell(p, CHAN_T_TERMINATE, 0);
			(void)kill(p->pid, SIGTERM);
		}
}

static void
next_free(struct master *m)
{
	struct master_next	*n = m->next;

	if (n->timeout_ev != NULL)
		event_free(n->timeout_ev);
	loadboard_free(n->board);	/* our mapping: workers keep theirs */
	free(n);
	m->next = NULL;
}

/*
 * Abandon the generation being started: its workers (gated, so they hold
 * no transfer) are ended, its new sockets and configuration dropped, and
 * the running generation goes on as if nothing had happened.
 */
void
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
			wproc_tell(p, CHAN_T_QUIT, !n->same);
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
		if (m->oserve != NULL)
			oserve_configure(m->oserve, m->conf);
	}
	m->generation = n->generation;
	loadboard_free(m->board);
	m->board = n->board;
	n->board = NULL;
	slots_free(m);
	slots_new(m, (size_t)m->conf->workers);
	for (p = m->procs; p != NULL; p = p->next)
		if (p->pending) {
			p->pending = 0;
			wproc_tell(p, CHAN_T_SERVE, 0);
		}
	done = n->done;
	arg = n->arg;
	next_free(m);
	done(m, NULL, arg);
}

void
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
int
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
	/* Without one (no memory), the kernel's pick stands. */
	n->board = loadboard_new((unsigned)c->workers);
	m->next = n;
	for (i = 0; i < c->workers; i++)
		if (wproc_spawn(m, ls, c, n->board, i, n->generation, 1) ==
		    -1) {
			/* The caller keeps conf and ls and frees them. */
			next_end_workers(m);
			next_free(m);
			xasprintf(cause, "cannot fork worker[%d]", i);
			return -1;
		}
	return 0;
}

/* Reload ----------------------------------------------------------------- */

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
	reload_event(m, m->generation, error);
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
	if (preflight_check(conf, PREFLIGHT_WORKERS, cause) == -1 ||
	    master_origins(m, conf, cause) == -1) {
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
	    strcmp(conf->metrics_listen.text,
	    m->conf->metrics_listen.text) != 0 ||
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
	reload_event(m, m->generation, *cause);
	return -1;
}
