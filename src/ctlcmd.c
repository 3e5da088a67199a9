/*
 * The control commands.  Replies are key=value lines with dotted names
 * (total.rrq, worker.0.pid), except "stats json" and "stats prometheus".
 * Commands that need the workers (stats, transfers) ask them and answer
 * when they have, without blocking the master.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "ctl.h"
#include "ctlcmd.h"
#include "master.h"
#include "sock.h"
#include "stats.h"
#include "xmalloc.h"

enum stats_format {
	FMT_KV,
	FMT_JSON,
	FMT_PROMETHEUS,
	FMT_RESET,		/* no output: set the baseline */
};

struct stats_req {
	struct ctl_conn		*conn;
	enum stats_format	 fmt;
};

/* Render with stdio into memory, then hand it to the reply. */
static FILE *
mem_open(char **buf, size_t *len)
{
	FILE	*fp = open_memstream(buf, len);

	if (fp == NULL)
		abort();	/* out of memory on the control path */
	return fp;
}

/* Close the stream (which sets *buf) and append it to the reply. */
static void
mem_flush(struct ctl_conn *c, FILE *fp, char **buf)
{
	(void)fclose(fp);
	ctl_printf(c, "%s", *buf);
	free(*buf);
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

static enum ctl_result
cmd_status(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct master	*m = arg;
	struct stats	 tot;
	uint64_t	 active;
	char		 name[80];
	size_t		 i;

	master_totals(m, &tot, &active);
	ctl_printf(c, "version=%s\npid=%ld\nuptime=%lld\ngeneration=%u\n"
	    "reloads=%" PRIu64 "\nconfig=%s\n", PACKAGE_VERSION,
	    (long)getpid(), (long long)(time(NULL) - m->started),
	    m->generation, m->reloads, m->src->path);
	for (i = 0; m->ls != NULL && i < m->ls->nlisten; i++)
		ctl_printf(c, "listen.%zu=%s\n", i, sock_ntop(
		    (const struct sockaddr *)&m->ls->bound[i].addr, name,
		    sizeof name));
	if (m->ls != NULL && m->ls->nlisten > 0)
		ctl_printf(c, "listen.port=%d\n", sock_port_of(
		    (const struct sockaddr *)&m->ls->bound[0].addr));
	ctl_printf(c, "workers.configured=%d\nworkers.alive=%zu\n"
	    "transfers.active=%" PRIu64 "\nstopping=%s\n", m->conf->workers,
	    master_alive(m), active, m->stopping ? "yes" : "no");
	if (m->reload_error != NULL)
		ctl_printf(c, "reload.error=%s\n", m->reload_error);
	return CTL_DONE;
}

static void
render_kv(struct master *m, FILE *fp)
{
	struct wproc	*p;
	struct stats	 tot;
	uint64_t	 active;
	char		 prefix[32];
	int		 i = 0;

	master_totals(m, &tot, &active);
	(void)fprintf(fp, "uptime=%lld\ngeneration=%u\nworkers.alive=%zu\n"
	    "transfers.active=%" PRIu64 "\n",
	    (long long)(time(NULL) - m->started), m->generation,
	    master_alive(m), active);
	stats_render(&tot, "total", fp);
	for (p = m->procs; p != NULL; p = p->next, i++) {
		(void)fprintf(fp, "worker.%d.slot=%d\nworker.%d.pid=%ld\n"
		    "worker.%d.generation=%u\nworker.%d.active=%" PRIu64 "\n",
		    i, p->slot, i, (long)p->pid, i, p->generation, i,
		    p->last.active);
		(void)snprintf(prefix, sizeof prefix, "worker.%d", i);
		stats_render(&p->last.stats, prefix, fp);
	}
}

static void
render_json(struct master *m, FILE *fp)
{
	struct wproc	*p;
	struct stats	 tot;
	uint64_t	 active;
	const char	*sep = "";

	master_totals(m, &tot, &active);
	(void)fprintf(fp, "{\"uptime\":%lld,\"generation\":%u,"
	    "\"workers_alive\":%zu,\"transfers_active\":%" PRIu64
	    ",\"total\":", (long long)(time(NULL) - m->started),
	    m->generation, master_alive(m), active);
	stats_render_json(&tot, fp);
	(void)fprintf(fp, ",\"workers\":[");
	for (p = m->procs; p != NULL; p = p->next) {
		(void)fprintf(fp, "%s{\"slot\":%d,\"pid\":%ld,\"generation\":%u,"
		    "\"state\":\"%s\",\"active\":%" PRIu64 ",\"stats\":", sep,
		    p->slot, (long)p->pid, p->generation, proc_state(p),
		    p->last.active);
		stats_render_json(&p->last.stats, fp);
		(void)fputc('}', fp);
		sep = ",";
	}
	(void)fprintf(fp, "]}\n");
}

/*
 * Prometheus wants counters that never go back and series that do not
 * come and go: totals since the start (stats reset is a view for owlctl
 * and does not touch them), and one series per worker slot, labelled by
 * the slot alone, that carries every worker that ever ran there.
 */
void
ctlcmd_prometheus(struct master *m, FILE *fp)
{
	const struct stats	**sets;
	const char		**labels;
	struct stats		  tot, *slots;
	uint64_t		  active;
	size_t			  n = master_slots_seen(m), i;
	const char		 *none = "";

	master_totals_since_start(m, &tot, &active);
	(void)fprintf(fp, "# HELP owltftpd_uptime_seconds Seconds since the "
	    "server started.\n# TYPE owltftpd_uptime_seconds gauge\n"
	    "owltftpd_uptime_seconds %lld\n"
	    "# HELP owltftpd_generation Configuration generation (1 + "
	    "reloads).\n# TYPE owltftpd_generation gauge\n"
	    "owltftpd_generation %u\n"
	    "# HELP owltftpd_workers_alive Worker processes running.\n"
	    "# TYPE owltftpd_workers_alive gauge\n"
	    "owltftpd_workers_alive %zu\n"
	    "# HELP owltftpd_transfers_active Transfers in progress.\n"
	    "# TYPE owltftpd_transfers_active gauge\n"
	    "owltftpd_transfers_active %" PRIu64 "\n",
	    (long long)(time(NULL) - m->started), m->generation,
	    master_alive(m), active);
	sets = xreallocarray(NULL, n + 1, sizeof *sets);
	labels = xreallocarray(NULL, n + 1, sizeof *labels);
	slots = xreallocarray(NULL, n + 1, sizeof *slots);
	sets[0] = &tot;
	labels[0] = none;
	stats_render_prometheus("owltftpd", sets, labels, 1, fp);
	for (i = 0; i < n; i++) {
		char	*l;

		master_slot_totals(m, i, &slots[i]);
		sets[i] = &slots[i];
		if (asprintf(&l, "slot=\"%zu\"", i) == -1)
			abort();
		labels[i] = l;
	}
	stats_render_prometheus("owltftpd_worker", sets, labels, n, fp);
	for (i = 0; i < n; i++)
		free((char *)(uintptr_t)labels[i]);
	free(slots);
	free(sets);
	free(labels);
}

static void
stats_answer(struct master *m, struct master_wait *w, void *arg)
{
	struct stats_req	*r = arg;
	char			*buf;
	size_t			 len;
	FILE			*fp;

	if (r->fmt == FMT_RESET) {
		struct stats	 tot;
		uint64_t	 active;

		/* Fresh counters first: the baseline must be now, not as of
		 * the last push.  Worker counters themselves never reset. */
		memset(&m->baseline, 0, sizeof m->baseline);
		master_totals(m, &tot, &active);
		m->baseline = tot;
		if (ctl_alive(r->conn))
			ctl_printf(r->conn, "reset=yes\n");
	} else if (ctl_alive(r->conn)) {
		fp = mem_open(&buf, &len);
		if (r->fmt == FMT_JSON)
			render_json(m, fp);
		else if (r->fmt == FMT_PROMETHEUS)
			ctlcmd_prometheus(m, fp);
		else
			render_kv(m, fp);
		mem_flush(r->conn, fp, &buf);
	}
	ctl_finish(r->conn);
	free(r);
}

static enum ctl_result
cmd_stats(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct master		*m = arg;
	struct stats_req	*r;
	enum stats_format	 fmt = FMT_KV;

	if (argc == 1) {
		if (strcmp(argv[0], "json") == 0)
			fmt = FMT_JSON;
		else if (strcmp(argv[0], "prometheus") == 0)
			fmt = FMT_PROMETHEUS;
		else if (strcmp(argv[0], "reset") == 0)
			fmt = FMT_RESET;
		else {
			ctl_error(c, "usage: stats [json|prometheus|reset]");
			return CTL_DONE;
		}
	}
	r = xcalloc(1, sizeof *r);
	r->conn = c;
	r->fmt = fmt;
	(void)master_ask(m, CHAN_T_STATS_REQ, stats_answer, r);
	return CTL_LATER;
}

static enum ctl_result
cmd_workers(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct master	*m = arg;
	struct wproc	*p;
	time_t		 now = time(NULL);
	int		 i = 0;

	ctl_printf(c, "workers=%zu\n", master_alive(m));
	for (p = m->procs; p != NULL; p = p->next, i++)
		ctl_printf(c, "worker.%d.slot=%d\nworker.%d.pid=%ld\n"
		    "worker.%d.generation=%u\nworker.%d.uptime=%lld\n"
		    "worker.%d.active=%" PRIu64 "\nworker.%d.state=%s\n",
		    i, p->slot, i, (long)p->pid, i, p->generation, i,
		    (long long)(now - p->started), i, p->last.active, i,
		    proc_state(p));
	return CTL_DONE;
}

static void
xfers_answer(struct master *m, struct master_wait *w, void *arg)
{
	struct ctl_conn	*c = arg;
	size_t		 i;

	if (ctl_alive(c)) {
		ctl_printf(c, "transfers=%zu\n", w->nxfers);
		for (i = 0; i < w->nxfers; i++) {
			const struct master_xfer	*x = &w->xfers[i];
			const struct chan_xfer_rec	*r = &x->rec;

			ctl_printf(c, "transfer.%zu.worker=%d\n"
			    "transfer.%zu.pid=%ld\ntransfer.%zu.peer=%.64s\n"
			    "transfer.%zu.op=%.4s\ntransfer.%zu.file=%.160s\n"
			    "transfer.%zu.state=%.12s\n"
			    "transfer.%zu.bytes=%" PRIu64 "\n"
			    "transfer.%zu.total=%" PRIu64 "\n"
			    "transfer.%zu.blksize=%u\n"
			    "transfer.%zu.windowsize=%u\n"
			    "transfer.%zu.age_ms=%" PRIu64 "\n",
			    i, x->slot, i, (long)x->pid, i, r->peer, i, r->op,
			    i, r->file, i, r->state, i, r->bytes, i, r->total,
			    i, r->blksize, i, r->windowsize, i, r->age_ms);
		}
	}
	ctl_finish(c);
}

static enum ctl_result
cmd_transfers(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	(void)master_ask(arg, CHAN_T_XFERS_REQ, xfers_answer, c);
	return CTL_LATER;
}

/* The new generation serves, or was abandoned: answer owlctl reload. */
static void
reload_answer(struct master *m, const char *error, void *arg)
{
	struct ctl_conn	*c = arg;

	if (error != NULL)
		ctl_error(c, "reload failed: %s", error);
	else
		ctl_printf(c, "generation=%u\n", m->generation);
	ctl_finish(c);
}

/* Answered once the new workers are all ready (or one failed). */
static enum ctl_result
cmd_reload(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct master	*m = arg;
	char		*cause = NULL;

	if (master_reload(m, reload_answer, c, &cause) == -1) {
		ctl_error(c, "reload failed: %s", cause);
		free(cause);
		return CTL_DONE;
	}
	return CTL_LATER;
}

static enum ctl_result
cmd_reopen(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	master_reopen(arg);
	return CTL_DONE;
}

static enum ctl_result
cmd_stop(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	int	 graceful = 0;

	if (argc == 1) {
		if (strcmp(argv[0], "graceful") == 0)
			graceful = 1;
		else if (strcmp(argv[0], "now") != 0) {
			ctl_error(c, "usage: stop [graceful|now]");
			return CTL_DONE;
		}
	}
	master_stop(arg, graceful);
	ctl_printf(c, "stopping=%s\n", graceful ? "graceful" : "now");
	return CTL_DONE;
}

static enum ctl_result
cmd_version(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_printf(c, "version=%s\nprotocol=%s\nchannel=%d\n",
	    PACKAGE_VERSION, CTL_MAGIC, CHAN_VERSION);
	return CTL_DONE;
}

static enum ctl_result
cmd_help(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_help(c);
	return CTL_DONE;
}

const struct ctl_cmd ctlcmd_table[] = {
	{ "help", 0, 0, "", "list the commands", cmd_help },
	{ "reload", 0, 0, "", "re-read the configuration and replace the "
	    "workers without dropping transfers", cmd_reload },
	{ "reopen", 0, 0, "", "reopen log files", cmd_reopen },
	{ "stats", 0, 1, "[json|prometheus|reset]", "counters, total and per "
	    "worker", cmd_stats },
	{ "status", 0, 0, "", "what the server is and how it is doing",
	    cmd_status },
	{ "stop", 0, 1, "[graceful|now]", "stop the server (now: cut "
	    "transfers; graceful: let them finish)", cmd_stop },
	{ "transfers", 0, 0, "", "live transfers of every worker",
	    cmd_transfers },
	{ "version", 0, 0, "", "server and protocol versions", cmd_version },
	{ "workers", 0, 0, "", "worker processes", cmd_workers },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
