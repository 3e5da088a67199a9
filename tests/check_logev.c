/*
 * Unit tests for events (logev.c): each event the server reports today,
 * rendered as its text line and as JSON, compared with the exact lines
 * today's code writes (taken from integ/audit.sh and integ/refusals.sh
 * runs and from docs/logging.md); the template language; where
 * logev_emit() sends an event; the file sink; debug tokens.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "suite_main.h"
#include "audit.h"
#include "log.h"
#include "logev.h"
#include "logfile.h"

/* What xfer_report() in xfer-report.c knows about a finished transfer. */
struct fake_opt {
	const char	*name;
	const char	*text;		/* NULL: a number */
	uint64_t	 num;
};

struct fake_xfer {
	const char		*peer;
	const char		*file;
	const char		*path;		/* NULL: not remapped */
	const char		*op;
	const char		*mode;
	struct fake_opt		 opts[4];	/* up to a NULL name */
	uint64_t		 bytes, ms, retrans, dup, send_failed;
	const char		*result;
	unsigned		 code;
	const char		*error;		/* NULL: none */
	const char		*reason;	/* NULL: not refused */
	const char		*detail;
	int			 quiet;
};

/* The transfer event as xfer_report() in xfer-report.c builds it. */
static void
transfer(struct logev *e, const struct fake_xfer *x)
{
	const struct fake_opt	*o;

	logev_begin(e, strcmp(x->result, "refused") == 0 ? "refused" :
	    "transfer", x->quiet ? LOG_DEBUG : LOG_INFO);
	logev_text(e, LOGEV_TEXT_TRANSFER);
	logev_str(e, "peer", x->peer);
	logev_client(e, "file", x->file);
	if (x->path != NULL)
		logev_client(e, "path", x->path);
	logev_str(e, "op", x->op);
	logev_str(e, "mode", x->mode);
	logev_obj_begin(e, "options");
	for (o = x->opts; o->name != NULL; o++) {
		if (o->text != NULL)
			logev_str(e, o->name, o->text);
		else
			logev_u64(e, o->name, o->num);
	}
	logev_obj_end(e);
	logev_u64(e, "bytes", x->bytes);
	logev_u64(e, "duration_ms", x->ms);
	logev_u64(e, "retransmits", x->retrans);
	logev_u64(e, "dup", x->dup);
	logev_u64(e, "send_failed", x->send_failed);
	logev_str(e, "result", x->result);
	logev_u64(e, "error_code", x->code);
	if (x->error != NULL)
		logev_client(e, "error", x->error);
	if (x->reason != NULL)
		logev_str(e, "reason", x->reason);
	if (x->detail != NULL)
		logev_str(e, "detail", x->detail);
}

/* A request refused before it was a transfer, as xfer-report.c renders it. */
static void
refusal(struct logev *e, const char *peer, const char *why, int code,
    const char *reason)
{
	logev_begin(e, "refused", LOG_INFO);
	logev_text(e, LOGEV_TEXT_REFUSED);
	logev_str(e, "peer", peer);
	logev_str(e, "result", code == -1 ? "dropped" : "refused");
	if (code != -1)
		logev_u64(e, "error_code", (uint64_t)code);
	logev_str(e, "error", why);
	logev_str(e, "reason", reason);
}

/* master.c's reload event. */
static void
reload(struct logev *e, uint32_t generation, const char *error)
{
	logev_begin(e, "reload", LOG_INFO);
	logev_u64(e, "generation", generation);
	logev_str(e, "result", error == NULL ? "ok" : "error");
	if (error != NULL)
		logev_str(e, "error", error);
}

/* master.c's worker_start (status -1) and worker_exit. */
static void
worker(struct logev *e, const char *event, int slot, long pid,
    uint32_t generation, int exit_code, int signo)
{
	logev_begin(e, event, LOG_INFO);
	logev_i64(e, "slot", slot);
	logev_i64(e, "pid", pid);
	logev_u64(e, "generation", generation);
	if (exit_code != -1)
		logev_i64(e, "exit_code", exit_code);
	else if (signo != -1)
		logev_i64(e, "signal", signo);
}

/*
 * The JSON line after its time stamp, which is checked for shape:
 * {"ts":"2026-12-07T05:54:19.269Z","event":...
 */
static const char *
json_after_ts(const struct logev *e, struct audit_buf *b)
{
	const char	*line = logev_render_json(e, b);

	ck_assert_int_eq(strncmp(line, "{\"ts\":\"", 7), 0);
	ck_assert_uint_gt(strlen(line), 7 + 24 + 2);
	ck_assert_int_eq(line[7 + 4], '-');
	ck_assert_int_eq(line[7 + 10], 'T');
	ck_assert_int_eq(line[7 + 23], 'Z');
	ck_assert_int_eq(strncmp(line + 7 + 24, "\",", 2), 0);
	return line + 7 + 24 + 2;
}

static const char *
text(const struct logev *e)
{
	static char	 out[LOG_MSG_MAX];

	return logev_render_text(e, out, sizeof out);
}

/* Today's events, both ways ------------------------------------------------ */

/*
 * Transfers and requests refused once they were transfers: the "xfer
 * end" line and the JSON object after its time stamp.
 */
static const struct transfer_case {
	int			 worker;
	struct fake_xfer	 x;
	const char		*text;
	const char		*json;
} transfer_cases[] = {
	{ 0, { "127.0.0.1:52342", "hello.txt", NULL, "rrq", "octet",
	    { { NULL } }, 12, 0, 0, 0, 0, "ok", 0, NULL, NULL, NULL, 0 },
	  "xfer end peer=127.0.0.1:52342 op=rrq file=hello.txt mode=octet "
	  "opts=\"\" bytes=12 ms=0 retrans=0 dup=0 send_failed=0 result=ok "
	  "code=0",
	  "\"event\":\"transfer\",\"worker\":0,\"peer\":\"127.0.0.1:52342\","
	  "\"file\":\"hello.txt\",\"op\":\"rrq\",\"mode\":\"octet\","
	  "\"options\":{},\"bytes\":12,\"duration_ms\":0,\"retransmits\":0,"
	  "\"dup\":0,\"send_failed\":0,\"result\":\"ok\",\"error_code\":0}" },
	/* docs/logging.md */
	{ 1, { "192.0.2.7:2070", "pxelinux.0", NULL, "rrq", "octet",
	    { { "blksize", NULL, 1468 }, { "tsize", NULL, 42 }, { NULL } },
	    42, 3, 0, 0, 0, "ok", 0, NULL, NULL, NULL, 0 },
	  "xfer end peer=192.0.2.7:2070 op=rrq file=pxelinux.0 mode=octet "
	  "opts=\"blksize=1468 tsize=42\" bytes=42 ms=3 retrans=0 dup=0 "
	  "send_failed=0 result=ok code=0",
	  "\"event\":\"transfer\",\"worker\":1,\"peer\":\"192.0.2.7:2070\","
	  "\"file\":\"pxelinux.0\",\"op\":\"rrq\",\"mode\":\"octet\","
	  "\"options\":{\"blksize\":1468,\"tsize\":42},\"bytes\":42,"
	  "\"duration_ms\":3,\"retransmits\":0,\"dup\":0,\"send_failed\":0,"
	  "\"result\":\"ok\",\"error_code\":0}" },
	{ 1, { "192.0.2.7:2071", "a.bin", NULL, "rrq", "octet",
	    { { "blksize", NULL, 1428 },
	    { "multicast", "239.255.0.1,1758,1", 0 }, { NULL } },
	    1428, 12, 1, 2, 0, "ok", 0, NULL, NULL, NULL, 0 },
	  "xfer end peer=192.0.2.7:2071 op=rrq file=a.bin mode=octet "
	  "opts=\"blksize=1428 multicast=239.255.0.1,1758,1\" bytes=1428 "
	  "ms=12 retrans=1 dup=2 send_failed=0 result=ok code=0",
	  "\"event\":\"transfer\",\"worker\":1,\"peer\":\"192.0.2.7:2071\","
	  "\"file\":\"a.bin\",\"op\":\"rrq\",\"mode\":\"octet\","
	  "\"options\":{\"blksize\":1428,"
	  "\"multicast\":\"239.255.0.1,1758,1\"},\"bytes\":1428,"
	  "\"duration_ms\":12,\"retransmits\":1,\"dup\":2,\"send_failed\":0,"
	  "\"result\":\"ok\",\"error_code\":0}" },
	{ 0, { "127.0.0.1:45938", "alias/hello.txt", "hello.txt", "rrq",
	    "octet", { { NULL } }, 12, 0, 0, 0, 0, "ok", 0, NULL, NULL, NULL,
	    0 },
	  "xfer end peer=127.0.0.1:45938 op=rrq file=alias/hello.txt "
	  "path=hello.txt mode=octet opts=\"\" bytes=12 ms=0 retrans=0 dup=0 "
	  "send_failed=0 result=ok code=0",
	  "\"event\":\"transfer\",\"worker\":0,\"peer\":\"127.0.0.1:45938\","
	  "\"file\":\"alias/hello.txt\",\"path\":\"hello.txt\","
	  "\"op\":\"rrq\",\"mode\":\"octet\",\"options\":{},\"bytes\":12,"
	  "\"duration_ms\":0,\"retransmits\":0,\"dup\":0,\"send_failed\":0,"
	  "\"result\":\"ok\",\"error_code\":0}" },
	/* A tsize probe ended by the client: the line leaves out error. */
	{ 0, { "127.0.0.31:47531", "big.bin", NULL, "rrq", "octet",
	    { { "tsize", NULL, 5000 }, { NULL } }, 0, 0, 0, 0, 0,
	    "peer_error", 0, "bye \"now\"", NULL, NULL, 1 },
	  "xfer end peer=127.0.0.31:47531 op=rrq file=big.bin mode=octet "
	  "opts=\"tsize=5000\" bytes=0 ms=0 retrans=0 dup=0 send_failed=0 "
	  "result=peer_error code=0",
	  "\"event\":\"transfer\",\"worker\":0,\"peer\":\"127.0.0.31:47531\","
	  "\"file\":\"big.bin\",\"op\":\"rrq\",\"mode\":\"octet\","
	  "\"options\":{\"tsize\":5000},\"bytes\":0,\"duration_ms\":0,"
	  "\"retransmits\":0,\"dup\":0,\"send_failed\":0,"
	  "\"result\":\"peer_error\",\"error_code\":0,"
	  "\"error\":\"bye \\\"now\\\"\"}" },
	{ 0, { "127.0.0.14:46560", "private.bin", NULL, "rrq", "octet",
	    { { NULL } }, 0, 0, 0, 0, 0, "refused", 2, "Access violation",
	    "permission", "not world-readable", 0 },
	  "xfer end peer=127.0.0.14:46560 op=rrq file=private.bin "
	  "mode=octet opts=\"\" bytes=0 ms=0 retrans=0 dup=0 send_failed=0 "
	  "result=refused code=2 reason=permission "
	  "detail=\"not world-readable\"",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.14:46560\","
	  "\"file\":\"private.bin\",\"op\":\"rrq\",\"mode\":\"octet\","
	  "\"options\":{},\"bytes\":0,\"duration_ms\":0,\"retransmits\":0,"
	  "\"dup\":0,\"send_failed\":0,\"result\":\"refused\","
	  "\"error_code\":2,\"error\":\"Access violation\","
	  "\"reason\":\"permission\",\"detail\":\"not world-readable\"}" },
	/* Client strings: \xHH in the line, JSON escapes in the object. */
	{ 0, { "127.0.0.1:53824", "q\"uo\\te", "q\"uo/te", "wrq",
	    "netascii", { { NULL } }, 0, 0, 0, 0, 0, "refused", 1,
	    "File not found", "not_found", NULL, 0 },
	  "xfer end peer=127.0.0.1:53824 op=wrq file=q\\x22uo\\x5cte "
	  "path=q\\x22uo/te mode=netascii opts=\"\" bytes=0 ms=0 retrans=0 "
	  "dup=0 send_failed=0 result=refused code=1 reason=not_found",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.1:53824\","
	  "\"file\":\"q\\\"uo\\\\te\",\"path\":\"q\\\"uo/te\",\"op\":\"wrq\","
	  "\"mode\":\"netascii\",\"options\":{},\"bytes\":0,"
	  "\"duration_ms\":0,\"retransmits\":0,\"dup\":0,\"send_failed\":0,"
	  "\"result\":\"refused\",\"error_code\":1,"
	  "\"error\":\"File not found\",\"reason\":\"not_found\"}" },
	{ 0, { "127.0.0.1:53824", "bad\xff\xfe\xc3 x", NULL, "rrq", "octet",
	    { { NULL } }, 0, 0, 0, 0, 0, "refused", 1, "File not found",
	    "not_found", NULL, 0 },
	  "xfer end peer=127.0.0.1:53824 op=rrq file=bad\\xff\\xfe\\xc3\\x20x "
	  "mode=octet opts=\"\" bytes=0 ms=0 retrans=0 dup=0 send_failed=0 "
	  "result=refused code=1 reason=not_found",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.1:53824\","
	  "\"file\":\"bad\\u00ff\\u00fe\\u00c3 x\",\"op\":\"rrq\","
	  "\"mode\":\"octet\",\"options\":{},\"bytes\":0,\"duration_ms\":0,"
	  "\"retransmits\":0,\"dup\":0,\"send_failed\":0,"
	  "\"result\":\"refused\",\"error_code\":1,"
	  "\"error\":\"File not found\",\"reason\":\"not_found\"}" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

START_TEST(transfer_renders_as_today)
{
	const struct transfer_case	*c = &transfer_cases[_i];
	struct logev			 e;
	struct audit_buf		 b;

	audit_set_worker(c->worker);
	transfer(&e, &c->x);
	ck_assert_int_eq(e.level, c->x.quiet ? LOG_DEBUG : LOG_INFO);
	ck_assert_str_eq(text(&e), c->text);
	ck_assert_str_eq(json_after_ts(&e, &b), c->json);
	audit_set_worker(-1);
}
END_TEST

/* Requests refused before they were transfers (xfer-report.c). */
static const struct refusal_case {
	const char	*peer;
	const char	*why;
	int		 code;		/* -1: dropped */
	const char	*reason;
	const char	*text;
	const char	*json;
} refusal_cases[] = {
	{ "127.0.0.31:33211", "too many transfers from your address", 0,
	  "client_limit",
	  "request from 127.0.0.31:33211 refused: too many transfers from "
	  "your address reason=client_limit",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.31:33211\","
	  "\"result\":\"refused\",\"error_code\":0,\"error\":\"too many "
	  "transfers from your address\",\"reason\":\"client_limit\"}" },
	{ "127.0.0.34:45490", "server busy", 0, "busy",
	  "request from 127.0.0.34:45490 refused: server busy reason=busy",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.34:45490\","
	  "\"result\":\"refused\",\"error_code\":0,\"error\":\"server busy\","
	  "\"reason\":\"busy\"}" },
	{ "127.0.0.41:53252", "over request_rate", -1, "rate",
	  "request from 127.0.0.41:53252 refused: over request_rate "
	  "reason=rate",
	  "\"event\":\"refused\",\"worker\":0,\"peer\":\"127.0.0.41:53252\","
	  "\"result\":\"dropped\",\"error\":\"over request_rate\","
	  "\"reason\":\"rate\"}" },
};

START_TEST(refusal_renders_as_today)
{
	const struct refusal_case	*c = &refusal_cases[_i];
	struct logev			 e;
	struct audit_buf		 b;

	audit_set_worker(0);
	refusal(&e, c->peer, c->why, c->code, c->reason);
	ck_assert_str_eq(text(&e), c->text);
	ck_assert_str_eq(json_after_ts(&e, &b), c->json);
	audit_set_worker(-1);
}
END_TEST

START_TEST(reload_events)
{
	struct logev		 e;
	struct audit_buf	 b;

	audit_set_worker(-1);
	reload(&e, 2, NULL);
	ck_assert_str_eq(text(&e), "");		/* JSON only */
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"reload\","
	    "\"worker\":-1,\"generation\":2,\"result\":\"ok\"}");
	reload(&e, 2, "/tmp/owltftpd-audit.sDM0fB/owltftpd.conf:16: "
	    "no_such_key: unknown key");
	ck_assert_str_eq(text(&e), "");
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"reload\","
	    "\"worker\":-1,\"generation\":2,\"result\":\"error\",\"error\":"
	    "\"/tmp/owltftpd-audit.sDM0fB/owltftpd.conf:16: no_such_key: "
	    "unknown key\"}");
}
END_TEST

START_TEST(worker_events)
{
	struct logev		 e;
	struct audit_buf	 b;

	audit_set_worker(-1);
	worker(&e, "worker_start", 0, 10454, 1, -1, -1);
	ck_assert_str_eq(text(&e), "");
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"worker_start\","
	    "\"worker\":-1,\"slot\":0,\"pid\":10454,\"generation\":1}");
	worker(&e, "worker_exit", 0, 10454, 1, 0, -1);
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"worker_exit\","
	    "\"worker\":-1,\"slot\":0,\"pid\":10454,\"generation\":1,"
	    "\"exit_code\":0}");
	worker(&e, "worker_exit", 0, 11073, 2, -1, 9);
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"worker_exit\","
	    "\"worker\":-1,\"slot\":0,\"pid\":11073,\"generation\":2,"
	    "\"signal\":9}");

	logev_begin(&e, "server_start", LOG_INFO);
	logev_str(&e, "version", "0.1.0");
	logev_i64(&e, "pid", 10391);
	logev_u64(&e, "generation", 1);
	ck_assert_str_eq(json_after_ts(&e, &b), "\"event\":\"server_start\","
	    "\"worker\":-1,\"version\":\"0.1.0\",\"pid\":10391,"
	    "\"generation\":1}");
}
END_TEST

/* The template language --------------------------------------------------- */

START_TEST(template_parts)
{
	struct logev	 e;

	logev_begin(&e, "x", LOG_INFO);
	logev_text(&e, "a={a}[ b={b}[ c={c}]] d={d}[ e={e}] {obj}! {x");
	logev_u64(&e, "a", 1);
	logev_i64(&e, "c", -3);		/* but no b: the part goes */
	logev_obj_begin(&e, "obj");
	logev_str(&e, "k", "v");
	logev_obj_begin(&e, "inner");
	logev_u64(&e, "a", 9);		/* not the top-level a */
	logev_obj_end(&e);
	logev_u64(&e, "n", 2);
	logev_obj_end(&e);
	logev_str(&e, "e", "yes");
	ck_assert_str_eq(text(&e), "a=1 d= e=yes k=v n=2! {x");

	logev_text(&e, "[{a}[{c}]]|[{zz}x]");
	ck_assert_str_eq(text(&e), "1-3|");
	logev_text(&e, NULL);
	ck_assert_str_eq(text(&e), "");
}
END_TEST

START_TEST(text_is_cut_not_overrun)
{
	struct logev	 e;
	char		 out[16];

	logev_begin(&e, "x", LOG_INFO);
	logev_text(&e, "name={n} and more text {n}");
	logev_client(&e, "n", "\x01\x02\x03\x04\x05\x06");
	/* Never half an escape. */
	ck_assert_str_eq(logev_render_text(&e, out, sizeof out),
	    "name=\\x01\\x02 a");
	ck_assert_uint_eq(strlen(out), sizeof out - 1);
	ck_assert_str_eq(logev_render_text(&e, out, 1), "");
}
END_TEST

START_TEST(too_many_fields_stay_balanced)
{
	struct logev		 e;
	struct audit_buf	 b;
	const char		*line;
	int			 i;

	logev_begin(&e, "x", LOG_INFO);
	for (i = 0; i < LOGEV_FIELDS_MAX - 2; i++)
		logev_u64(&e, "n", (uint64_t)i);
	logev_obj_begin(&e, "fits");		/* its end has a place */
	logev_u64(&e, "lost", 1);		/* no room beside the end */
	logev_obj_begin(&e, "left_out");
	logev_u64(&e, "lost", 2);
	logev_obj_end(&e);
	logev_obj_end(&e);
	logev_u64(&e, "lost", 3);
	ck_assert_uint_eq(e.n, LOGEV_FIELDS_MAX);
	line = json_after_ts(&e, &b);
	ck_assert_ptr_nonnull(strstr(line, ",\"n\":29,\"fits\":{}}"));
	ck_assert_ptr_null(strstr(line, "lost"));
	ck_assert_ptr_null(strstr(line, "left_out"));
}
END_TEST

/* Where logev_emit() writes ------------------------------------------------ */

#define DIR_TEMPLATE	"/tmp/check_logev.XXXXXX"
static char	 dir[sizeof DIR_TEMPLATE];

static void
make_dir(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof dir);	/* also with CK_FORK=no */
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static char *
path_in(const char *name)
{
	static char	 p[2][256];
	static int	 which;

	which = !which;
	(void)snprintf(p[which], sizeof p[which], "%s/%s", dir, name);
	return p[which];
}

/* A whole small file, NUL-terminated. */
static const char *
slurp(const char *name)
{
	static char	 buf[8192];
	ssize_t		 n;
	int		 fd;

	buf[0] = '\0';
	if ((fd = open(path_in(name), O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t	 a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

static void
clean_dir(void)
{
	(void)unlink(path_in("log"));
	(void)unlink(path_in("audit"));
	(void)unlink(path_in("log.1"));
	(void)rmdir(dir);
}

START_TEST(text_log_and_audit_file)
{
	const struct transfer_case	*c = &transfer_cases[0];
	struct fake_xfer		 x = c->x;
	struct logev			 e;
	const char			*s;
	char				 want[LOG_MSG_MAX];

	make_dir();
	log_init(LOG_DEST_STDERR, LOG_INFO, "owltftpd");
	log_set_role("worker[0]");
	ck_assert_int_eq(log_open_file(path_in("log"), (uid_t)-1), 0);
	ck_assert_int_eq(audit_init(path_in("audit"), AUDIT_TEXT, (uid_t)-1),
	    0);
	audit_set_worker(0);

	transfer(&e, &x);
	ck_assert(logev_wanted(&e));
	logev_emit(&e);
	s = slurp("log");
	(void)snprintf(want, sizeof want, "]: worker[0]: %s\n", c->text);
	ck_assert_msg(ends_with(s, want), "log: %s", s);
	ck_assert_ptr_null(strchr(s, '{'));
	s = slurp("audit");
	(void)snprintf(want, sizeof want, "\",%s\n", c->json);
	ck_assert_msg(ends_with(s, want), "audit: %s", s);

	/* A quiet transfer below log_level: the audit file only. */
	x.quiet = 1;
	x.file = "probe.bin";
	transfer(&e, &x);
	logev_emit(&e);
	ck_assert_ptr_null(strstr(slurp("log"), "probe.bin"));
	ck_assert_ptr_nonnull(strstr(slurp("audit"), "probe.bin"));

	/* An event without a text line: the audit file only. */
	reload(&e, 3, NULL);
	logev_emit(&e);
	ck_assert_ptr_null(strstr(slurp("log"), "reload"));
	ck_assert(ends_with(slurp("audit"), "\"event\":\"reload\","
	    "\"worker\":0,\"generation\":3,\"result\":\"ok\"}\n"));
	clean_dir();
}
END_TEST

START_TEST(json_log_without_audit_file)
{
	struct fake_xfer	 x = transfer_cases[0].x;
	struct logev		 e;
	const char		*s;

	x.quiet = 1;
	make_dir();
	log_init(LOG_DEST_STDERR, LOG_INFO, "owltftpd");
	ck_assert_int_eq(log_open_file(path_in("log"), (uid_t)-1), 0);
	ck_assert_int_eq(audit_init("", AUDIT_JSON, (uid_t)-1), 0);
	audit_set_worker(0);

	/* At debug level as text, but JSON events go in at info. */
	transfer(&e, &x);
	logev_emit(&e);
	reload(&e, 4, NULL);
	logev_emit(&e);
	s = slurp("log");
	ck_assert_msg(strncmp(s, "{\"ts\":\"", 7) == 0, "log: %s", s);
	ck_assert_ptr_nonnull(strstr(s, "\"error_code\":0}\n{\"ts\":\""));
	ck_assert(ends_with(s, "\"event\":\"reload\",\"worker\":0,"
	    "\"generation\":4,\"result\":\"ok\"}\n"));
	ck_assert_ptr_null(strstr(s, "xfer end"));

	/* Nothing wanted: nothing written. */
	log_set_level(LOG_WARNING);
	audit_set_format(AUDIT_TEXT);
	transfer(&e, &x);
	ck_assert(!logev_wanted(&e));
	logev_emit(&e);
	ck_assert_str_eq(slurp("log"), s);
	clean_dir();
}
END_TEST

/* The file sink ----------------------------------------------------------- */

START_TEST(logfile_reopens_after_rotation)
{
	struct logfile	 lf = LOGFILE_INITIALIZER;
	struct stat	 st;
	int		 fd;

	make_dir();
	(void)umask(022);
	ck_assert_int_eq(logfile_reopen(&lf), 0);	/* not open: no-op */
	logfile_write(&lf, "lost\n", 5);
	ck_assert_int_eq(logfile_open(&lf, path_in("log"), (uid_t)-1), 0);
	ck_assert_int_eq(fstat(lf.fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	ck_assert(fcntl(lf.fd, F_GETFD) & FD_CLOEXEC);
	logfile_write(&lf, "one\n", 4);
	ck_assert_int_eq(rename(path_in("log"), path_in("log.1")), 0);
	logfile_write(&lf, "two\n", 4);
	ck_assert_int_eq(logfile_reopen(&lf), 0);
	logfile_write(&lf, "three\n", 6);
	ck_assert_str_eq(slurp("log.1"), "one\ntwo\n");
	ck_assert_str_eq(slurp("log"), "three\n");

	/* A failed open leaves the file that was open. */
	fd = lf.fd;
	ck_assert_int_eq(logfile_open(&lf, path_in("no/such/dir"),
	    (uid_t)-1), -1);
	ck_assert_int_eq(lf.fd, fd);
	ck_assert_str_eq(lf.path, path_in("log"));
	ck_assert_int_eq(rmdir(dir), -1);	/* still has files */
	ck_assert_int_eq(unlink(path_in("log")), 0);
	ck_assert_int_eq(logfile_reopen(&lf), 0);	/* created again */
	logfile_close(&lf);
	ck_assert_int_eq(lf.fd, -1);
	ck_assert_str_eq(slurp("log"), "");
	clean_dir();
}
END_TEST

/* Debug tokens ------------------------------------------------------------- */

START_TEST(debug_tokens_filter)
{
	log_init(LOG_DEST_STDERR, LOG_DEBUG, "owltftpd");
	log_set_debug_tokens(NULL);
	ck_assert(log_debug_wanted("xfer"));
	ck_assert(log_debug_wanted("anything"));
	log_set_debug_tokens(" xfer, chan,,io ");
	ck_assert(log_debug_wanted("xfer"));
	ck_assert(log_debug_wanted("chan"));
	ck_assert(log_debug_wanted("io"));
	ck_assert(!log_debug_wanted("xf"));
	ck_assert(!log_debug_wanted("xferx"));
	ck_assert(!log_debug_wanted("libevent"));
	log_set_level(LOG_INFO);
	ck_assert(!log_debug_wanted("xfer"));	/* not a level */

	ck_assert_int_eq(setenv("OWLTFTPD_DEBUG", "libevent", 1), 0);
	log_init(LOG_DEST_STDERR, LOG_DEBUG, "owltftpd");
	ck_assert(log_debug_wanted("libevent"));
	ck_assert(!log_debug_wanted("xfer"));
	ck_assert_int_eq(unsetenv("OWLTFTPD_DEBUG"), 0);
	log_init(LOG_DEST_STDERR, LOG_DEBUG, "owltftpd");
	ck_assert(log_debug_wanted("xfer"));
}
END_TEST

START_TEST(debug_tokens_only_filter_tokened_messages)
{
	const char	*s;

	make_dir();
	log_init(LOG_DEST_STDERR, LOG_DEBUG, "owltftpd");
	ck_assert_int_eq(log_open_file(path_in("log"), (uid_t)-1), 0);
	log_set_debug_tokens("chan");
	log_debug_tok("xfer", "hidden %d", 1);
	log_debug_tok("chan", "shown %d", 2);
	log_debug("untokened %d", 3);
	s = slurp("log");
	ck_assert_ptr_null(strstr(s, "hidden"));
	ck_assert_ptr_nonnull(strstr(s, ": shown 2\n"));
	ck_assert_ptr_nonnull(strstr(s, ": untokened 3\n"));
	clean_dir();
}
END_TEST

static Suite *
logev_suite(void)
{
	Suite	*s = suite_create("logev");
	TCase	*tc;

	tc = tcase_create("today's events render as today, both ways");
	tcase_add_loop_test(tc, transfer_renders_as_today, 0,
	    (int)NELEM(transfer_cases));
	tcase_add_loop_test(tc, refusal_renders_as_today, 0,
	    (int)NELEM(refusal_cases));
	tcase_add_test(tc, reload_events);
	tcase_add_test(tc, worker_events);
	suite_add_tcase(s, tc);

	tc = tcase_create("templates");
	tcase_add_test(tc, template_parts);
	tcase_add_test(tc, text_is_cut_not_overrun);
	tcase_add_test(tc, too_many_fields_stay_balanced);
	suite_add_tcase(s, tc);

	/* These change the process's log and audit settings: run last. */
	tc = tcase_create("emit writes where it is wanted");
	tcase_add_test(tc, json_log_without_audit_file);	/* no file yet */
	tcase_add_test(tc, text_log_and_audit_file);
	tcase_add_test(tc, logfile_reopens_after_rotation);
	tcase_add_test(tc, debug_tokens_filter);
	tcase_add_test(tc, debug_tokens_only_filter_tokened_messages);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(logev_suite());
}
