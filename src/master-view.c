/*
 * The master as the control commands and /metrics see it: a snapshot
 * (struct master_view, rendered by report.c), the stats reset, and the
 * control requests that wait for the workers' answers (master_ask).
 * Shares wait_check with the channel handlers through master-int.h.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "chan.h"
#include "conf.h"
#include "listenset.h"
#include "master-int.h"
#include "oserve.h"
#include "report.h"
#include "sock.h"
#include "tally.h"
#include "xmalloc.h"

#define MASTER_ASK_TIMEOUT_MS	500	/* answer control requests by then */

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
	char			 name[SOCK_ADDRSTR_MAX];
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
	if (m->oserve != NULL) {
		v->origins = 1;
		oserve_counters(m->oserve, &v->origin);
	}
}

struct oserve *
master_oserve(struct master *m)
{
	return m->oserve;
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
void
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
