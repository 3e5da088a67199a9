/* Renderings of a master_view, generated from the REPORT_*_FIELDS lists. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stats.h"

#define REPORT_LABEL_MAX	32	/* slot="N" */

static const struct {
	const char	*json;
	const char	*kv;
	const char	*prom;
	const char	*help;
} server_fields[] = {
#define REPORT_X_SERVER(name, kv, prom, help)	{ #name, kv, prom, help },
	REPORT_SERVER_FIELDS(REPORT_X_SERVER)
#undef REPORT_X_SERVER
};
#define N_SERVER_FIELDS	(sizeof server_fields / sizeof server_fields[0])

static int64_t
server_value(const struct report_server *s, size_t i)
{
	const int64_t	 values[] = {
#define REPORT_X_SERVER(name, kv, prom, help)	s->name,
		REPORT_SERVER_FIELDS(REPORT_X_SERVER)
#undef REPORT_X_SERVER
	};

	return values[i];
}

size_t
report_server_count(void)
{
	return N_SERVER_FIELDS;
}

const char *
report_server_kv(size_t i)
{
	return i < N_SERVER_FIELDS ? server_fields[i].kv : NULL;
}

const char *
report_server_json(size_t i)
{
	return i < N_SERVER_FIELDS ? server_fields[i].json : NULL;
}

const char *
report_server_prom(size_t i)
{
	return i < N_SERVER_FIELDS ? server_fields[i].prom : NULL;
}

/* One value of either kind; JSON quotes texts (all plain words). */
static void
put_NUM(FILE *fp, int64_t v, int json)
{
	(void)json;
	(void)fprintf(fp, "%" PRId64, v);
}

static void
put_TEXT(FILE *fp, const char *v, int json)
{
	(void)fprintf(fp, json ? "\"%s\"" : "%s", v);
}

/* "prefix.N.name=value" for every worker column shown in where. */
static void
worker_kv(const struct report_worker *w, size_t n, int where, FILE *fp)
{
#define REPORT_X_KV(name, kind, in)					\
	if ((in) & where) {						\
		(void)fprintf(fp, "worker.%zu." #name "=", n);		\
		put_##kind(fp, w->name, 0);				\
		(void)fputc('\n', fp);					\
	}
	REPORT_WORKER_FIELDS(REPORT_X_KV)
#undef REPORT_X_KV
}

static void
worker_json(const struct report_worker *w, FILE *fp)
{
	const char	*sep = "";

#define REPORT_X_JSON(name, kind, in)					\
	if ((in) & REPORT_IN_JSON) {					\
		(void)fprintf(fp, "%s\"" #name "\":", sep);		\
		put_##kind(fp, w->name, 1);				\
		sep = ",";						\
	}
	REPORT_WORKER_FIELDS(REPORT_X_JSON)
#undef REPORT_X_JSON
	(void)fprintf(fp, "%s\"stats\":", sep);
	stats_render_json(&w->stats, fp);
}

void
report_status(const struct master_view *v, FILE *fp)
{
	size_t	 i;

	(void)fprintf(fp, "version=%s\npid=%" PRId64 "\nuptime=%" PRId64 "\n"
	    "generation=%" PRId64 "\nreloads=%" PRIu64 "\nconfig=%s\n",
	    v->version, v->pid, v->server.uptime, v->server.generation,
	    v->reloads, v->config);
	for (i = 0; i < v->nlisten; i++)
		(void)fprintf(fp, "listen.%zu=%s\n", i, v->listen[i]);
	if (v->nlisten > 0)
		(void)fprintf(fp, "listen.port=%d\n", v->listen_port);
	(void)fprintf(fp, "workers.configured=%" PRId64 "\nworkers.alive=%"
	    PRId64 "\ntransfers.active=%" PRId64 "\nstopping=%s\n",
	    v->workers_configured, v->server.workers_alive,
	    v->server.transfers_active, v->stopping ? "yes" : "no");
	if (v->reload_error != NULL)
		(void)fprintf(fp, "reload.error=%s\n", v->reload_error);
}

void
report_stats_kv(const struct master_view *v, FILE *fp)
{
	char	 prefix[32];
	size_t	 i;

	for (i = 0; i < N_SERVER_FIELDS; i++)
		(void)fprintf(fp, "%s=%" PRId64 "\n", server_fields[i].kv,
		    server_value(&v->server, i));
	if (v->origins) {
#define REPORT_X_ORIGIN_KV(name, help)					\
		(void)fprintf(fp, #name "=%" PRIu64 "\n", v->origin.name);
		OSERVE_COUNTERS(REPORT_X_ORIGIN_KV)
#undef REPORT_X_ORIGIN_KV
	}
	stats_render(&v->total, "total", fp);
	for (i = 0; i < v->nworkers; i++) {
		worker_kv(&v->workers[i], i, REPORT_IN_STATS, fp);
		(void)snprintf(prefix, sizeof prefix, "worker.%zu", i);
		stats_render(&v->workers[i].stats, prefix, fp);
	}
}

void
report_stats_json(const struct master_view *v, FILE *fp)
{
	size_t	 i;

	(void)fputc('{', fp);
	for (i = 0; i < N_SERVER_FIELDS; i++)
		(void)fprintf(fp, "\"%s\":%" PRId64 ",", server_fields[i].json,
		    server_value(&v->server, i));
	if (v->origins) {
		(void)fprintf(fp, "\"origin\":{");
#define REPORT_X_ORIGIN_JSON(name, help)				\
		(void)fprintf(fp, "%s\"" #name "\":%" PRIu64,			\
		    strcmp(#name, "origin_fetches") == 0 ? "" : ",",	\
		    v->origin.name);
		OSERVE_COUNTERS(REPORT_X_ORIGIN_JSON)
#undef REPORT_X_ORIGIN_JSON
		(void)fprintf(fp, "},");
	}
	(void)fprintf(fp, "\"total\":");
	stats_render_json(&v->total, fp);
	(void)fprintf(fp, ",\"workers\":[");
	for (i = 0; i < v->nworkers; i++) {
		(void)fprintf(fp, "%s{", i > 0 ? "," : "");
		worker_json(&v->workers[i], fp);
		(void)fputc('}', fp);
	}
	(void)fprintf(fp, "]}\n");
}

/* The origin cache's: counters, but for its two gauges. */
static void
origin_prometheus(const struct oserve_counters *n, FILE *fp)
{
	const char	*suffix;
	int		 gauge;

#define REPORT_X_ORIGIN_PROM(name, help)				\
	gauge = strcmp(#name, "cache_bytes") == 0 ||			\
	    strcmp(#name, "cache_files") == 0;				\
	suffix = gauge ? "" : "_total";					\
	(void)fprintf(fp, "# HELP owltftpd_" #name "%s " help "\n"	\
	    "# TYPE owltftpd_" #name "%s %s\nowltftpd_" #name "%s %"	\
	    PRIu64 "\n", suffix, suffix, gauge ? "gauge" : "counter",	\
	    suffix, n->name);
	OSERVE_COUNTERS(REPORT_X_ORIGIN_PROM)
#undef REPORT_X_ORIGIN_PROM
}

/*
 * Prometheus wants counters that never go back and series that do not
 * come and go: totals since the start, and one series per worker slot,
 * labelled by the slot alone, that carries every worker that ever ran
 * there.
 */
int
report_prometheus(const struct master_view *v, FILE *fp)
{
	const struct stats	**sets;
	const char		**labels;
	char			(*text)[REPORT_LABEL_MAX];
	const struct stats	 *total = &v->total_since_start;
	const char		 *none = "";
	size_t			  i, n = v->nslots;
	int			  rc = -1;

	for (i = 0; i < N_SERVER_FIELDS; i++)
		(void)fprintf(fp, "# HELP owltftpd_%s %s\n"
		    "# TYPE owltftpd_%s gauge\nowltftpd_%s %" PRId64 "\n",
		    server_fields[i].prom, server_fields[i].help,
		    server_fields[i].prom, server_fields[i].prom,
		    server_value(&v->server, i));
	stats_render_prometheus("owltftpd", &total, &none, 1, fp);
	if (v->origins)
		origin_prometheus(&v->origin, fp);
	sets = calloc(n + 1, sizeof *sets);
	labels = calloc(n + 1, sizeof *labels);
	text = calloc(n + 1, sizeof *text);
	if (sets != NULL && labels != NULL && text != NULL) {
		for (i = 0; i < n; i++) {
			(void)snprintf(text[i], sizeof text[i], "slot=\"%zu\"",
			    i);
			sets[i] = &v->slots[i];
			labels[i] = text[i];
		}
		stats_render_prometheus("owltftpd_worker", sets, labels, n, fp);
		rc = 0;
	}
	free(text);
	free(labels);
	free(sets);
	return rc;
}

void
report_workers(const struct master_view *v, FILE *fp)
{
	size_t	 i;

	(void)fprintf(fp, "workers=%zu\n", v->nworkers);
	for (i = 0; i < v->nworkers; i++)
		worker_kv(&v->workers[i], i, REPORT_IN_LIST, fp);
}

void
report_transfers(const struct master_view *v, FILE *fp)
{
	const struct report_xfer	*x;
	size_t				 i;

	(void)fprintf(fp, "transfers=%zu\n", v->nxfers);
	for (i = 0; i < v->nxfers; i++) {
		x = &v->xfers[i];
		(void)fprintf(fp, "transfer.%zu.worker=%" PRId64 "\n"
		    "transfer.%zu.pid=%" PRId64 "\n", i, x->worker, i, x->pid);
#define REPORT_X_KV(name, kind)						\
		(void)fprintf(fp, "transfer.%zu." #name "=", i);	\
		put_##kind(fp, x->name, 0);				\
		(void)fputc('\n', fp);
		REPORT_XFER_FIELDS(REPORT_X_KV)
#undef REPORT_X_KV
	}
}
