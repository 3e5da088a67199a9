/*
 * Unit tests for report.c: every rendering of one fixed master_view,
 * pinned as exact text (the counters' own lines come from stats.c, whose
 * renderings check_stats pins), and docs/stats.md naming every gauge.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "stats.h"
#include "suite_main.h"

#define CAPTURE(out, call) do {						\
	size_t	 capture_len;						\
	FILE	*fp = open_memstream(&(out), &capture_len);		\
									\
	ck_assert_ptr_nonnull(fp);					\
	call;								\
	ck_assert_int_eq(fclose(fp), 0);				\
} while (0)

static char			 addr0[] = "0.0.0.0:6969";
static char			 addr1[] = "[::]:6969";
static char			*listen_addrs[] = { addr0, addr1 };
static struct report_worker	 workers[2];
static struct stats		 slots[2];
static struct report_xfer	 xfers[1];
static struct master_view	 view;

/* Two workers (one draining after a reload), two slots, one transfer. */
static void
setup(void)
{
	memset(workers, 0, sizeof workers);
	memset(slots, 0, sizeof slots);
	memset(&view, 0, sizeof view);
	view.version = "9.8.7";
	view.pid = 4242;
	view.server.uptime = 42;
	view.server.generation = 3;
	view.server.workers_alive = 2;
	view.server.transfers_active = 1;
	view.reloads = 2;
	view.config = "/etc/owltftpd.conf";
	view.listen = listen_addrs;
	view.nlisten = 2;
	view.listen_port = 6969;
	view.workers_configured = 1;
	view.total.rrq = 12;
	view.total_since_start.rrq = 20;
	workers[0] = (struct report_worker){ .slot = 0, .pid = 101,
	    .generation = 3, .uptime = 5, .active = 1, .state = "running" };
	workers[0].stats.rrq = 7;
	workers[1] = (struct report_worker){ .slot = 0, .pid = 100,
	    .generation = 2, .uptime = 40, .active = 0,
	    .state = "draining" };
	view.workers = workers;
	view.nworkers = 2;
	slots[0].rrq = 19;
	slots[1].rrq = 1;
	view.slots = slots;
	view.nslots = 2;
	xfers[0] = (struct report_xfer){ .worker = 0, .pid = 101,
	    .peer = "127.0.0.1:40000", .op = "rrq", .file = "pxe/boot.img",
	    .state = "sending", .bytes = 1024, .total = 65536,
	    .blksize = 1428, .windowsize = 4, .age_ms = 250 };
	view.xfers = xfers;
	view.nxfers = 1;
}

/* What stats.c renders for s, as text to splice into an expectation. */
static char *
counters(const struct stats *s, const char *prefix)
{
	char	*out;

	CAPTURE(out, prefix != NULL ? stats_render(s, prefix, fp) :
	    stats_render_json(s, fp));
	return out;
}

/* Concatenate the NULL-terminated parts. */
static char *
join(const char *first, ...)
{
	va_list		 ap;
	const char	*p;
	char		*out;
	size_t		 len = 0;
	FILE		*fp = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(fp);
	va_start(ap, first);
	for (p = first; p != NULL; p = va_arg(ap, const char *))
		(void)fputs(p, fp);
	va_end(ap);
	ck_assert_int_eq(fclose(fp), 0);
	return out;
}

/* ---------------------------------------------------------- key=value */

START_TEST(status_is_exact)
{
	char	*out;

	view.reload_error = "/etc/owltftpd.conf: workers: not a number";
	CAPTURE(out, report_status(&view, fp));
	ck_assert_str_eq(out,
	    "version=9.8.7\n"
	    "pid=4242\n"
	    "uptime=42\n"
	    "generation=3\n"
	    "reloads=2\n"
	    "config=/etc/owltftpd.conf\n"
	    "listen.0=0.0.0.0:6969\n"
	    "listen.1=[::]:6969\n"
	    "listen.port=6969\n"
	    "workers.configured=1\n"
	    "workers.alive=2\n"
	    "transfers.active=1\n"
	    "stopping=no\n"
	    "reload.error=/etc/owltftpd.conf: workers: not a number\n");
	free(out);
}
END_TEST

START_TEST(status_without_listen_or_error)
{
	char	*out;

	view.nlisten = 0;
	view.stopping = 1;
	CAPTURE(out, report_status(&view, fp));
	ck_assert_ptr_null(strstr(out, "listen"));
	ck_assert_ptr_null(strstr(out, "reload.error"));
	ck_assert_ptr_nonnull(strstr(out, "\nstopping=yes\n"));
	free(out);
}
END_TEST

START_TEST(workers_is_exact)
{
	char	*out;

	CAPTURE(out, report_workers(&view, fp));
	ck_assert_str_eq(out,
	    "workers=2\n"
	    "worker.0.slot=0\n"
	    "worker.0.pid=101\n"
	    "worker.0.generation=3\n"
	    "worker.0.uptime=5\n"
	    "worker.0.active=1\n"
	    "worker.0.state=running\n"
	    "worker.1.slot=0\n"
	    "worker.1.pid=100\n"
	    "worker.1.generation=2\n"
	    "worker.1.uptime=40\n"
	    "worker.1.active=0\n"
	    "worker.1.state=draining\n");
	free(out);
}
END_TEST

START_TEST(transfers_is_exact)
{
	char	*out;

	CAPTURE(out, report_transfers(&view, fp));
	ck_assert_str_eq(out,
	    "transfers=1\n"
	    "transfer.0.worker=0\n"
	    "transfer.0.pid=101\n"
	    "transfer.0.peer=127.0.0.1:40000\n"
	    "transfer.0.op=rrq\n"
	    "transfer.0.file=pxe/boot.img\n"
	    "transfer.0.state=sending\n"
	    "transfer.0.bytes=1024\n"
	    "transfer.0.total=65536\n"
	    "transfer.0.blksize=1428\n"
	    "transfer.0.windowsize=4\n"
	    "transfer.0.age_ms=250\n");
	free(out);
	view.nxfers = 0;
	CAPTURE(out, report_transfers(&view, fp));
	ck_assert_str_eq(out, "transfers=0\n");
	free(out);
}
END_TEST

START_TEST(stats_kv_is_exact)
{
	char	*out, *want, *tot, *w0, *w1;

	tot = counters(&view.total, "total");
	w0 = counters(&workers[0].stats, "worker.0");
	w1 = counters(&workers[1].stats, "worker.1");
	want = join("uptime=42\ngeneration=3\nworkers.alive=2\n"
	    "transfers.active=1\n", tot,
	    "worker.0.slot=0\nworker.0.pid=101\nworker.0.generation=3\n"
	    "worker.0.active=1\n", w0,
	    "worker.1.slot=0\nworker.1.pid=100\nworker.1.generation=2\n"
	    "worker.1.active=0\n", w1, NULL);
	CAPTURE(out, report_stats_kv(&view, fp));
	ck_assert_str_eq(out, want);
	ck_assert_ptr_nonnull(strstr(out, "\ntotal.rrq=12\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nworker.0.rrq=7\n"));
	free(out);
	free(want);
	free(tot);
	free(w0);
	free(w1);
}
END_TEST

/* -------------------------------------------------------------- JSON */

START_TEST(stats_json_is_exact)
{
	char	*out, *want, *tot, *w0, *w1;

	tot = counters(&view.total, NULL);
	w0 = counters(&workers[0].stats, NULL);
	w1 = counters(&workers[1].stats, NULL);
	want = join("{\"uptime\":42,\"generation\":3,\"workers_alive\":2,"
	    "\"transfers_active\":1,\"total\":", tot, ",\"workers\":["
	    "{\"slot\":0,\"pid\":101,\"generation\":3,\"active\":1,"
	    "\"state\":\"running\",\"stats\":", w0, "},"
	    "{\"slot\":0,\"pid\":100,\"generation\":2,\"active\":0,"
	    "\"state\":\"draining\",\"stats\":", w1, "}]}\n", NULL);
	CAPTURE(out, report_stats_json(&view, fp));
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
	free(tot);
	free(w0);
	free(w1);
}
END_TEST

START_TEST(stats_json_without_workers)
{
	char	*out, *want, *tot;

	view.nworkers = 0;
	tot = counters(&view.total, NULL);
	want = join("{\"uptime\":42,\"generation\":3,\"workers_alive\":2,"
	    "\"transfers_active\":1,\"total\":", tot, ",\"workers\":[]}\n",
	    NULL);
	CAPTURE(out, report_stats_json(&view, fp));
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
	free(tot);
}
END_TEST

/* -------------------------------------------------------- Prometheus */

START_TEST(prometheus_is_exact)
{
	const struct stats	*tot = &view.total_since_start;
	const struct stats	*sets[] = { &slots[0], &slots[1] };
	const char		*none = "";
	const char		*labels[] = { "slot=\"0\"", "slot=\"1\"" };
	char			*out, *want, *total, *per_slot;
	int			 rc = -1;

	CAPTURE(total, stats_render_prometheus("owltftpd", &tot, &none, 1,
	    fp));
	CAPTURE(per_slot, stats_render_prometheus("owltftpd_worker", sets,
	    labels, 2, fp));
	want = join(
	    "# HELP owltftpd_uptime_seconds Seconds since the server "
	    "started.\n"
	    "# TYPE owltftpd_uptime_seconds gauge\n"
	    "owltftpd_uptime_seconds 42\n"
	    "# HELP owltftpd_generation Configuration generation (1 + "
	    "reloads).\n"
	    "# TYPE owltftpd_generation gauge\n"
	    "owltftpd_generation 3\n"
	    "# HELP owltftpd_workers_alive Worker processes running.\n"
	    "# TYPE owltftpd_workers_alive gauge\n"
	    "owltftpd_workers_alive 2\n"
	    "# HELP owltftpd_transfers_active Transfers in progress.\n"
	    "# TYPE owltftpd_transfers_active gauge\n"
	    "owltftpd_transfers_active 1\n", total, per_slot, NULL);
	CAPTURE(out, rc = report_prometheus(&view, fp));
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, want);
	/* Since the start, whatever stats reset did to view.total. */
	ck_assert_ptr_nonnull(strstr(out, "\nowltftpd_rrq_total 20\n"));
	ck_assert_ptr_nonnull(strstr(out,
	    "\nowltftpd_worker_rrq_total{slot=\"0\"} 19\n"));
	free(out);
	free(want);
	free(total);
	free(per_slot);
}
END_TEST

/* -------------------------------------------------------------- docs */

static char *
slurp_stats_md(void)
{
	const char	*dir = getenv("TESTS_SRCDIR");
	char		 path[4096], *doc;
	FILE		*fp;
	long		 len;

	(void)snprintf(path, sizeof path, "%s/../docs/stats.md",
	    dir != NULL ? dir : ".");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	ck_assert_int_ge(len, 0);
	rewind(fp);
	doc = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(fread(doc, 1, (size_t)len, fp), (size_t)len);
	doc[len] = '\0';
	(void)fclose(fp);
	return doc;
}

START_TEST(docs_list_every_gauge_in_every_format)
{
	char	*doc = slurp_stats_md(), row[256];
	size_t	 i;

	for (i = 0; i < report_server_count(); i++) {
		(void)snprintf(row, sizeof row, "| `%s` | `%s` | "
		    "`owltftpd_%s` |", report_server_kv(i),
		    report_server_json(i), report_server_prom(i));
		ck_assert_msg(strstr(doc, row) != NULL,
		    "docs/stats.md has no gauge row \"%s\"", row);
	}
	ck_assert_ptr_null(report_server_kv(i));
	free(doc);
}
END_TEST

START_TEST(docs_name_every_worker_column)
{
	char	*doc = slurp_stats_md(), name[128];

#define CHECK_X_DOC(col, kind, where)					\
	if ((where) & (REPORT_IN_STATS | REPORT_IN_LIST)) {		\
		(void)snprintf(name, sizeof name, "worker.N.%s", #col);	\
		ck_assert_msg(strstr(doc, name) != NULL,		\
		    "docs/stats.md does not name %s", name);		\
	}								\
	if ((where) & REPORT_IN_JSON) {					\
		(void)snprintf(name, sizeof name, "workers[].%s", #col);	\
		ck_assert_msg(strstr(doc, name) != NULL,		\
		    "docs/stats.md does not name %s", name);		\
	}
	REPORT_WORKER_FIELDS(CHECK_X_DOC)
#undef CHECK_X_DOC
	free(doc);
}
END_TEST


/* ------------------------------------------------------ origin cache */

START_TEST(origin_counters_in_every_format)
{
	char	*out;

	view.origins = 1;
	view.origin.origin_fetches = 3;
	view.origin.cache_hits = 97;
	view.origin.cache_bytes = 4096;
	CAPTURE(out, report_stats_kv(&view, fp));
	ck_assert_ptr_nonnull(strstr(out, "\ntransfers.active=1\n"
	    "origin_fetches=3\norigin_bytes=0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ncache_hits=97\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ncache_files=0\ntotal.rrq=12\n"));
	free(out);
	CAPTURE(out, report_stats_json(&view, fp));
	ck_assert_ptr_nonnull(strstr(out, "\"transfers_active\":1,\"origin\":"
	    "{\"origin_fetches\":3,\"origin_bytes\":0,"));
	ck_assert_ptr_nonnull(strstr(out, "\"cache_files\":0},\"total\":{"));
	free(out);
	CAPTURE(out, (void)report_prometheus(&view, fp));
	ck_assert_ptr_nonnull(strstr(out, "# TYPE owltftpd_origin_fetches_total "
	    "counter\nowltftpd_origin_fetches_total 3\n"));
	ck_assert_ptr_nonnull(strstr(out, "# TYPE owltftpd_cache_bytes gauge\n"
	    "owltftpd_cache_bytes 4096\n"));
	ck_assert_ptr_nonnull(strstr(out, "owltftpd_cache_hits_total 97\n"));
	free(out);
	/* Without origins, none of it. */
	view.origins = 0;
	CAPTURE(out, (void)report_prometheus(&view, fp));
	ck_assert_ptr_null(strstr(out, "owltftpd_cache_hits"));
	free(out);
}
END_TEST

START_TEST(docs_name_every_origin_counter)
{
	char	*doc = slurp_stats_md();

#define CHECK_X_ORIGIN(name, help)					\
	ck_assert_msg(strstr(doc, "`" #name "`") != NULL,		\
	    "docs/stats.md does not name %s", #name);
	OSERVE_COUNTERS(CHECK_X_ORIGIN)
#undef CHECK_X_ORIGIN
	free(doc);
}
END_TEST

static Suite *
report_suite(void)
{
	Suite	*s = suite_create("report");
	TCase	*tc;

	tc = tcase_create("key=value replies are exact");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, status_is_exact);
	tcase_add_test(tc, status_without_listen_or_error);
	tcase_add_test(tc, workers_is_exact);
	tcase_add_test(tc, transfers_is_exact);
	tcase_add_test(tc, stats_kv_is_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("JSON is exact");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, stats_json_is_exact);
	tcase_add_test(tc, stats_json_without_workers);
	suite_add_tcase(s, tc);

	tc = tcase_create("Prometheus counts from the start, per slot");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, prometheus_is_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("the origin cache's counters");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, origin_counters_in_every_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("docs name every gauge and worker column");
	tcase_add_test(tc, docs_list_every_gauge_in_every_format);
	tcase_add_test(tc, docs_name_every_origin_counter);
	tcase_add_test(tc, docs_name_every_worker_column);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(report_suite());
}
