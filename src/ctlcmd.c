/*
 * The control commands.  Replies are key=value lines with dotted names
 * (total.rrq, worker.0.pid), except "stats json" and "stats prometheus",
 * all rendered by report.c from a view of the master.  Commands that
 * need the workers (stats, transfers) ask them and answer when they
 * have, without blocking the master.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "ctl.h"
#include "ctlcmd.h"
#include "master.h"
#include "oserve.h"
#include "report.h"
#include "xmalloc.h"

/* What a reply shows of the master. */
enum reply {
	REPLY_STATUS,
	REPLY_STATS,
	REPLY_STATS_JSON,
	REPLY_PROMETHEUS,
	REPLY_RESET,		/* no output: set the baseline */
	REPLY_WORKERS,
	REPLY_TRANSFERS,
};

struct stats_req {
	struct ctl_conn		*conn;
	enum reply		 what;
};

static int
render(const struct master_view *v, enum reply what, FILE *fp)
{
	switch (what) {
	case REPLY_STATUS:
		report_status(v, fp);
		break;
	case REPLY_STATS:
		report_stats_kv(v, fp);
		break;
	case REPLY_STATS_JSON:
		report_stats_json(v, fp);
		break;
	case REPLY_PROMETHEUS:
		return report_prometheus(v, fp);
	case REPLY_WORKERS:
		report_workers(v, fp);
		break;
	case REPLY_TRANSFERS:
		report_transfers(v, fp);
		break;
	case REPLY_RESET:
		break;
	}
	return 0;
}

/* Render with stdio into memory, then append it to the reply. */
static void
reply_with(struct ctl_conn *c, const struct master_view *v, enum reply what)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;
	int	 rc;

	if ((fp = open_memstream(&buf, &len)) == NULL) {
		ctl_error(c, "out of memory");
		return;
	}
	rc = render(v, what, fp);
	(void)fclose(fp);
	if (rc == -1)
		ctl_error(c, "out of memory");
	else
		ctl_printf(c, "%s", buf);
	free(buf);
}

/* Answer now from a view of the master as it is. */
static void
reply_now(struct ctl_conn *c, struct master *m, enum reply what)
{
	struct master_view	 v;

	master_view(m, &v);
	reply_with(c, &v, what);
	master_view_free(&v);
}

static enum ctl_result
cmd_status(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	reply_now(c, arg, REPLY_STATUS);
	return CTL_DONE;
}

static void
stats_answer(struct master *m, const struct master_view *v, void *arg)
{
	struct stats_req	*r = arg;

	if (r->what == REPLY_RESET) {
		/* Fresh counters first: the baseline must be now, not as of
		 * the last push.  Worker counters themselves never reset. */
		master_stats_reset(m);
		if (ctl_alive(r->conn))
			ctl_printf(r->conn, "reset=yes\n");
	} else if (ctl_alive(r->conn))
		reply_with(r->conn, v, r->what);
	ctl_finish(r->conn);
	free(r);
}

static enum ctl_result
cmd_stats(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct stats_req	*r;
	enum reply		 what = REPLY_STATS;

	if (argc == 1) {
		if (strcmp(argv[0], "json") == 0)
			what = REPLY_STATS_JSON;
		else if (strcmp(argv[0], "prometheus") == 0)
			what = REPLY_PROMETHEUS;
		else if (strcmp(argv[0], "reset") == 0)
			what = REPLY_RESET;
		else {
			ctl_error(c, "usage: stats [json|prometheus|reset]");
			return CTL_DONE;
		}
	}
	r = xcalloc(1, sizeof *r);
	r->conn = c;
	r->what = what;
	master_ask(arg, MASTER_ASK_STATS, stats_answer, r);
	return CTL_LATER;
}

static enum ctl_result
cmd_workers(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	reply_now(c, arg, REPLY_WORKERS);
	return CTL_DONE;
}

static void
xfers_answer(struct master *m, const struct master_view *v, void *arg)
{
	struct ctl_conn	*c = arg;

	if (ctl_alive(c))
		reply_with(c, v, REPLY_TRANSFERS);
	ctl_finish(c);
}

static enum ctl_result
cmd_transfers(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	master_ask(arg, MASTER_ASK_XFERS, xfers_answer, c);
	return CTL_LATER;
}

/* The new generation serves, or was abandoned: answer owlctl reload. */
static void
reload_answer(struct master *m, const char *error, void *arg)
{
	struct ctl_conn	*c = arg;

	if (error != NULL)
		ctl_error(c, "reload failed: %s", error);
	else {
		struct master_view	 v;

		master_view(m, &v);
		ctl_printf(c, "generation=%" PRId64 "\n", v.server.generation);
		master_view_free(&v);
	}
	ctl_finish(c);
}

/* Answered once the new workers are all ready (or one failed). */
static enum ctl_result
cmd_reload(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	char	*cause = NULL;

	if (master_reload(arg, reload_answer, c, &cause) == -1) {
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

struct cache_list {
	struct ctl_conn	*c;
	size_t		 i;
};

static void
cache_file(const struct oserve_file *f, void *arg)
{
	struct cache_list	*l = arg;
	size_t			 i = l->i++;

	ctl_printf(l->c, "file.%zu.name=%s\nfile.%zu.bytes=%" PRIu64 "\n"
	    "file.%zu.age_s=%" PRIu64 "\nfile.%zu.state=%s\n"
	    "file.%zu.url=%s\n", i, f->name, i, f->size, i, f->age_s, i,
	    f->fresh ? "fresh" : "stale", i, f->url);
}

static void
cache_count(const struct oserve_file *f, void *arg)
{
	(void)f;
	(*(size_t *)arg)++;
}

/* owlctl cache list | purge NAME: the origins' cached files. */
static enum ctl_result
cmd_cache(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	struct oserve		*o = master_oserve(arg);
	struct cache_list	 l = { c, 0 };
	size_t			 n = 0;

	if (o == NULL) {
		ctl_error(c, "no origins are configured");
		return CTL_DONE;
	}
	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		oserve_each(o, cache_count, &n);
		ctl_printf(c, "files=%zu\n", n);
		oserve_each(o, cache_file, &l);
	} else if (argc == 2 && strcmp(argv[0], "purge") == 0) {
		/* The name as a client asks for it, or its leading slash. */
		ctl_printf(c, "purged=%zu\n", oserve_purge(o,
		    argv[1][0] == '/' ? argv[1] + 1 : argv[1]));
	} else
		ctl_error(c, "usage: cache list | cache purge PATH");
	return CTL_DONE;
}

static enum ctl_result
cmd_help(struct ctl_conn *c, int argc, char **argv, void *arg)
{
	ctl_help(c);
	return CTL_DONE;
}

const struct ctl_cmd ctlcmd_table[] = {
	{ "cache", 1, 2, "list | purge PATH", "the files of origins in the "
	  "cache; remove one", cmd_cache },
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
