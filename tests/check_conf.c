/*
 * Unit tests for the configuration (src/conf*.c): defaults, every key
 * from a file and from the command line, exact "file:line: problem"
 * messages, listen forms, typed values, conf_finish, conf_dump, the
 * access lists and remap rules (parsed, refused with the group's line,
 * dumped re-readably and working on a peer address or a file name) and
 * the sample conf/owltftpd.conf.
 *
 * Under valgrind: CK_FORK=no valgrind --leak-check=full ./check_conf
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "suite_main.h"
#include "acl.h"
#include "conf.h"
#include "origin.h"
#include "fs.h"
#include "remap.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

/* Every key, in schema order: the authoritative list from the design. */
static const char *const keys[] = {
	"root", "listen", "port", "workers", "user", "group", "chroot",
	"uploads", "permission_check", "upload_fsync", "umask",
	"max_upload_size", "blksize_max", "windowsize_max", "timeout_ms",
	"rto_min_ms", "retries", "max_transfers", "max_transfers_per_client",
	"request_rate", "request_burst", "unique_root", "port_range",
	"single_port", "balance", "io_backend", "so_rcvbuf", "so_sndbuf", "read_acl", "write_acl",
	"remap", "remap_strip_nonprint", "remap_backslash", "remap_lowercase",
	"remap_file", "pid_file", "control_socket", "control_owner",
	"control_group", "control_mode", "drain_timeout", "stats_interval_ms",
	"metrics_listen", "log_format", "audit_file", "log_level", "log_file",
	"origins", "cache_dir", "cache_max_bytes", "cache_ttl",
	"origin_timeout_ms", "multicast",
};

static const char default_dump[] =
	"root = \"/srv/tftp\";\n"
	"listen = [ \"0.0.0.0\", \"::\" ];\n"
	"port = 69;\n"
	"workers = 0;\n"
	"user = \"" OWL_DEFAULT_USER "\";\n"
	"# group is not set\n"
	"chroot = false;\n"
	"uploads = \"off\";\n"
	"permission_check = true;\n"
	"upload_fsync = true;\n"
	"umask = \"022\";\n"
	"max_upload_size = 0;\n"
	"blksize_max = 0;\n"
	"windowsize_max = 64;\n"
	"timeout_ms = 1000;\n"
	"rto_min_ms = 200;\n"
	"retries = 5;\n"
	"max_transfers = 16384;\n"
	"max_transfers_per_client = 0;\n"
	"request_rate = 0;\n"
	"request_burst = 20;\n"
	"unique_root = \"off\";\n"
	"port_range = \"\";\n"
	"single_port = false;\n"
	"balance = true;\n"
	"io_backend = \"mmsg\";\n"
	"so_rcvbuf = 4194304;\n"
	"so_sndbuf = 4194304;\n"
	"read_acl = [ ];\n"
	"write_acl = [ ];\n"
	"remap = ( );\n"
	"remap_strip_nonprint = false;\n"
	"remap_backslash = true;\n"
	"remap_lowercase = false;\n"
	"remap_file = \"\";\n"
	"pid_file = \"" OWL_DEFAULT_PID_FILE "\";\n"
	"control_socket = \"" OWL_DEFAULT_CONTROL_SOCKET "\";\n"
	"control_owner = \"root\";\n"
	"control_group = \"root\";\n"
	"control_mode = \"660\";\n"
	"drain_timeout = 300;\n"
	"stats_interval_ms = 1000;\n"
	"metrics_listen = \"\";\n"
	"log_format = \"text\";\n"
	"audit_file = \"\";\n"
	"log_level = \"info\";\n"
	"log_file = \"\";\n"
	"origins = ( );\n"
	"cache_dir = \"/var/cache/owltftpd\";\n"
	"cache_max_bytes = 1073741824;\n"
	"cache_ttl = 300;\n"
	"origin_timeout_ms = 10000;\n"
	"multicast = {\n"
	"\tenable = false;\n"
	"\taddress_range = \"239.255.0.1-239.255.0.254\";\n"
	"\taddress_range6 = \"\";\n"
	"\tport = 1758;\n"
	"\tttl = 1;\n"
	"\tinterface = \"\";\n"
	"};\n";


static struct conf	*conf;
static char		*cause;
static char		 tmpdir[PATH_MAX];

static void
setup(void)
{
	conf = conf_new();
	cause = NULL;
}

static void
teardown(void)
{
	conf_free(conf);
	conf = NULL;
	free(cause);
	cause = NULL;
}

static void
tmp_setup(void)
{
	const char	*base = getenv("TMPDIR");

	setup();
	(void)snprintf(tmpdir, sizeof tmpdir, "%s/check_conf.XXXXXX",
	    base != NULL ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	teardown();
	(void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
tmp_file(const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static char *
dump(const struct conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	conf_dump(c, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void
read_ok(const char *text)
{
	if (conf_read_string(conf, text, &cause) != 0)
		ck_abort_msg("unexpected error: %s", cause);
}

static void
read_fails(const char *text, const char *want)
{
	ck_assert_msg(conf_read_string(conf, text, &cause) == -1,
	    "accepted: %s", text);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
	cause = NULL;
}

/*
 * A bad row from a table, on line 3 after a valid setting of another key:
 * the message must be exact and the valid setting must not be applied.
 */
static void
bad_row(const char *row, const char *message)
{
	char	*text, *want;
	int	 is_retries = strncmp(row, "retries", 7) == 0;

	xasprintf(&text, "# owltftpd\n%s\n%s\n", is_retries ?
	    "windowsize_max = 7;" : "retries = 7;", row);
	xasprintf(&want, "<string>:3: %s", message);
	read_fails(text, want);
	ck_assert_uint_eq(conf->xfer.retries, 5);
	ck_assert_uint_eq(conf->xfer.limits.windowsize_max, 64);
	free(text);
	free(want);
}

static void
set_ok(const char *key, const char *value)
{
	if (conf_set(conf, key, value, &cause) != 0)
		ck_abort_msg("conf_set %s %s: %s", key, value, cause);
}

static void
set_fails(const char *key, const char *value, const char *want)
{
	ck_assert_msg(conf_set(conf, key, value, &cause) == -1,
	    "accepted: --%s %s", key, value);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
	cause = NULL;
}

/* Check one listen entry: family, address text, port and as-written. */
static void
check_listen(size_t i, int family, const char *addr, int port,
    const char *text)
{
	const struct conf_listen	*l = &conf->listen[i];
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 buf[INET6_ADDRSTRLEN];

	ck_assert_uint_lt(i, conf->nlisten);
	ck_assert_int_eq(l->addr.ss_family, family);
	ck_assert_str_eq(l->text, text);
	if (family == AF_INET) {
		sin = (const struct sockaddr_in *)&l->addr;
		ck_assert_uint_eq(l->addrlen, sizeof *sin);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &sin->sin_addr, buf,
		    sizeof buf));
		ck_assert_int_eq(ntohs(sin->sin_port), port);
	} else {
		sin6 = (const struct sockaddr_in6 *)&l->addr;
		ck_assert_uint_eq(l->addrlen, sizeof *sin6);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &sin6->sin6_addr,
		    buf, sizeof buf));
		ck_assert_int_eq(ntohs(sin6->sin6_port), port);
	}
	ck_assert_str_eq(buf, addr);
}

/* A file of the source tree, rel from its top (caller frees). */
static char *
source_path(const char *rel)
{
	const char	*srcdir = getenv("TESTS_SRCDIR");
	char		*file, *path;

	if (srcdir != NULL) {
		xasprintf(&path, "%s/../%s", srcdir, rel);
		return path;
	}
	file = xstrdup(__FILE__);
	xasprintf(&path, "%s/../%s", dirname(file), rel);
	free(file);
	return path;
}

static char *
sample_path(void)
{
	return source_path("conf/owltftpd.conf");
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 len;

	if ((f = fopen(path, "r")) == NULL)
		ck_abort_msg("%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(len = ftell(f), 0);
	rewind(f);
	buf = xmalloc((size_t)len + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	(void)fclose(f);
	return buf;
}

/* defaults */

START_TEST(test_defaults)
{
	ck_assert_ptr_null(conf->path);
	ck_assert_str_eq(conf->root, "/srv/tftp");
	ck_assert_uint_eq(conf->nlisten, 0);
	ck_assert_int_eq(conf->port, 69);
	ck_assert_int_eq(conf->workers, 0);
	ck_assert_str_eq(conf->user, OWL_DEFAULT_USER);
	ck_assert_ptr_null(conf->group);
	ck_assert_int_eq(conf->chroot, 0);
	ck_assert_int_eq(conf->xfer.uploads, FS_UPLOAD_OFF);
	ck_assert_int_eq(conf->xfer.upload_fsync, 1);
	ck_assert_uint_eq(conf->xfer.umask, 022);
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 0);
	ck_assert_uint_eq(conf->xfer.limits.blksize_max, 0);
	ck_assert_uint_eq(conf->xfer.limits.windowsize_max, 64);
	ck_assert_uint_eq(conf->xfer.timeout_ms, 1000);
	ck_assert_uint_eq(conf->xfer.retries, 5);
	ck_assert_uint_eq(conf->max_transfers, 16384);
	ck_assert_int_eq(conf->so_rcvbuf, 4194304);
	ck_assert_int_eq(conf->so_sndbuf, 4194304);
	ck_assert_int_eq(conf->log_level, LOG_INFO);
}
END_TEST

START_TEST(test_default_dump)
{
	char	*text = dump(conf);

	ck_assert_str_eq(text, default_dump);
	free(text);
}
END_TEST

START_TEST(test_empty_string)
{
	char	*text;

	read_ok("");
	read_ok("\n# only a comment\n// and another\n/* and a block */\n");
	text = dump(conf);
	ck_assert_str_eq(text, default_dump);
	free(text);
	ck_assert_ptr_null(conf->path);
}
END_TEST

START_TEST(test_uploads_str)
{
	ck_assert_str_eq(conf_uploads_str(FS_UPLOAD_OFF), "off");
	ck_assert_str_eq(conf_uploads_str(FS_UPLOAD_CREATE), "create");
	ck_assert_str_eq(conf_uploads_str(FS_UPLOAD_OVERWRITE), "overwrite");
	ck_assert_str_eq(conf_uploads_str((enum fs_upload_policy)42),
	    "unknown");
}
END_TEST

/* every key from a file */

START_TEST(test_every_key)
{
	read_ok(
	    "root = \"/var/tftp\";\n"
	    "listen = [ \"192.0.2.1:6969\", \"[2001:db8::1]\" ];\n"
	    "port = 1069;\n"
	    "workers = 3;\n"
	    "user = \"_tftpd\";\n"
	    "group = \"tftp\";\n"
	    "chroot = true;\n"
	    "uploads = \"create\";\n"
	    "upload_fsync = false;\n"
	    "umask = \"027\";\n"
	    "max_upload_size = 1048576;\n"
	    "blksize_max = 1428;\n"
	    "windowsize_max = 16;\n"
	    "timeout_ms = 250;\n"
	    "retries = 9;\n"
	    "max_transfers = 100;\n"
	    "so_rcvbuf = 0;\n"
	    "so_sndbuf = 65536;\n"
	    "log_level = \"debug\";\n");
	ck_assert_str_eq(conf->root, "/var/tftp");
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(0, AF_INET, "192.0.2.1", 6969, "192.0.2.1:6969");
	check_listen(1, AF_INET6, "2001:db8::1", 0, "[2001:db8::1]");
	ck_assert_int_eq(conf->port, 1069);
	ck_assert_int_eq(conf->workers, 3);
	ck_assert_str_eq(conf->user, "_tftpd");
	ck_assert_str_eq(conf->group, "tftp");
	ck_assert_int_eq(conf->chroot, 1);
	ck_assert_int_eq(conf->xfer.uploads, FS_UPLOAD_CREATE);
	ck_assert_int_eq(conf->xfer.upload_fsync, 0);
	ck_assert_uint_eq(conf->xfer.umask, 027);
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 1048576);
	ck_assert_uint_eq(conf->xfer.limits.blksize_max, 1428);
	ck_assert_uint_eq(conf->xfer.limits.windowsize_max, 16);
	ck_assert_uint_eq(conf->xfer.timeout_ms, 250);
	ck_assert_uint_eq(conf->xfer.retries, 9);
	ck_assert_uint_eq(conf->max_transfers, 100);
	ck_assert_int_eq(conf->so_rcvbuf, 0);
	ck_assert_int_eq(conf->so_sndbuf, 65536);
	ck_assert_int_eq(conf->log_level, LOG_DEBUG);

	/* conf_finish gives the port-less entry the port key's value. */
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	check_listen(0, AF_INET, "192.0.2.1", 6969, "192.0.2.1:6969");
	check_listen(1, AF_INET6, "2001:db8::1", 1069, "[2001:db8::1]");
	ck_assert_int_eq(conf->workers, 3);
}
END_TEST

START_TEST(test_choices)
{
	static const struct {
		const char	*text;
		int		 uploads;
		int		 level;
	} rows[] = {
		{ "uploads = \"off\"; log_level = \"error\";",
		    FS_UPLOAD_OFF, LOG_ERR },
		{ "uploads = \"create\"; log_level = \"warning\";",
		    FS_UPLOAD_CREATE, LOG_WARNING },
		{ "uploads = \"overwrite\"; log_level = \"notice\";",
		    FS_UPLOAD_OVERWRITE, LOG_NOTICE },
		{ "uploads = \"off\"; log_level = \"info\";",
		    FS_UPLOAD_OFF, LOG_INFO },
		{ "uploads = \"create\"; log_level = \"debug\";",
		    FS_UPLOAD_CREATE, LOG_DEBUG },
	};
	size_t	 i;

	for (i = 0; i < nitems(rows); i++) {
		read_ok(rows[i].text);
		ck_assert_int_eq(conf->xfer.uploads, rows[i].uploads);
		ck_assert_int_eq(conf->log_level, rows[i].level);
	}
}
END_TEST

START_TEST(test_int64_values)
{
	read_ok("max_upload_size = 8589934592L;");
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 8589934592ULL);
	read_ok("max_upload_size = 9223372036854775807L;");
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size,
	    9223372036854775807ULL);
	read_ok("max_upload_size = 1048576;");
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 1048576);
	/* An int64 literal is fine for a small key too. */
	read_ok("port = 1069L;");
	ck_assert_int_eq(conf->port, 1069);
	read_ok("port = 0x45;");
	ck_assert_int_eq(conf->port, 69);
}
END_TEST

START_TEST(test_wide_int_without_l)
{
	/* libconfig 1.5 would silently turn these into 0 and 69. */
	read_fails("port = 70;\n\nmax_upload_size = 8589934592;\n",
	    "<string>:3: 8589934592 does not fit in 32 bits: write it as "
	    "8589934592L");
	read_fails("port = 4294967365;",
	    "<string>:1: 4294967365 does not fit in 32 bits: write it as "
	    "4294967365L");
	read_fails("so_rcvbuf = 0x100000000;",
	    "<string>:1: 0x100000000 does not fit in 32 bits: write it as "
	    "0x100000000L");
	read_fails("max_upload_size = -2147483649;",
	    "<string>:1: -2147483649 does not fit in 32 bits: write it as "
	    "-2147483649L");
	ck_assert_int_eq(conf->port, 69);
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 0);

	/* Not in strings, comments or names; the edges of int are fine. */
	read_ok("# 8589934592\n/* 8589934592\n */ root = \"/x/8589934592\";\n"
	    "// 99999999999\nport = 0x0000ffff;\n");
	ck_assert_str_eq(conf->root, "/x/8589934592");
	ck_assert_int_eq(conf->port, 65535);
	read_ok("max_upload_size = 2147483647;");
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 2147483647);
	read_fails("max_upload_size = -2147483648;",
	    "<string>:1: max_upload_size: -2147483648 is below the minimum 0");
}
END_TEST

START_TEST(test_failed_read_changes_nothing)
{
	char	*before = dump(conf), *after;

	read_fails("port = 70;\nroot = \"/x\";\nlisten = \"::1\";\n"
	    "retries = 0;\n",
	    "<string>:4: retries: 0 is below the minimum 1");
	after = dump(conf);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

/* ranges */

static const struct {
	const char	*text;
	const char	*message;
} bad_values[] = {
	{ "port = -1;", "port: -1 is below the minimum 0" },
	{ "port = 65536;", "port: 65536 is above the maximum 65535" },
	{ "workers = -1;", "workers: -1 is below the minimum 0" },
	{ "workers = 65;", "workers: 65 is above the maximum 64" },
	{ "umask = \"1000\";", "umask: 1000 is above the maximum 0777" },
	{ "umask = \"77777777777777777777777\";",
	    "umask: 77777777777777777777777 is above the maximum 0777" },
	{ "max_upload_size = -1;",
	    "max_upload_size: -1 is below the minimum 0" },
	{ "max_upload_size = -1L;",
	    "max_upload_size: -1 is below the minimum 0" },
	{ "blksize_max = -1;", "blksize_max: -1 is below the minimum 0" },
	{ "blksize_max = 65465;",
	    "blksize_max: 65465 is above the maximum 65464" },
	{ "windowsize_max = 0;", "windowsize_max: 0 is below the minimum 1" },
	{ "windowsize_max = 65536;",
	    "windowsize_max: 65536 is above the maximum 65535" },
	{ "timeout_ms = 9;", "timeout_ms: 9 is below the minimum 10" },
	{ "timeout_ms = 255001;",
	    "timeout_ms: 255001 is above the maximum 255000" },
	{ "retries = 0;", "retries: 0 is below the minimum 1" },
	{ "retries = 101;", "retries: 101 is above the maximum 100" },
	{ "max_transfers = 0;", "max_transfers: 0 is below the minimum 1" },
	{ "max_transfers = 1048577;",
	    "max_transfers: 1048577 is above the maximum 1048576" },
	{ "so_rcvbuf = -1;", "so_rcvbuf: -1 is below the minimum 0" },
	{ "so_rcvbuf = 1073741825;",
	    "so_rcvbuf: 1073741825 is above the maximum 1073741824" },
	{ "so_sndbuf = -1;", "so_sndbuf: -1 is below the minimum 0" },
	{ "so_sndbuf = 1073741825;",
	    "so_sndbuf: 1073741825 is above the maximum 1073741824" },
	{ "root = \"\";", "root: must not be empty" },
	{ "user = \"\";", "user: must not be empty" },
	{ "group = \"\";", "group: must not be empty" },
	{ "port = 69000000000L;",
	    "port: 69000000000 is above the maximum 65535" },
};

START_TEST(test_bad_value)
{
	bad_row(bad_values[_i].text, bad_values[_i].message);
}
END_TEST

/*
 * Read one numeric field back as long long, for the edge-value table:
 * get_NAME reads member m (a path such as xfer.umask).
 */
#define GETTER_AT(name, m)						\
static long long							\
get_##name(const struct conf *c)					\
{									\
	return (long long)c->m;						\
}
#define GETTER(f)	GETTER_AT(f, f)

GETTER(port)
GETTER(workers)
GETTER_AT(umask, xfer.umask)
GETTER_AT(max_upload_size, xfer.limits.max_upload_size)
GETTER_AT(blksize_max, xfer.limits.blksize_max)
GETTER_AT(windowsize_max, xfer.limits.windowsize_max)
GETTER_AT(timeout_ms, xfer.timeout_ms)
GETTER_AT(retries, xfer.retries)
GETTER(max_transfers)
GETTER(so_rcvbuf)
GETTER(so_sndbuf)
GETTER(io_backend)

static const struct {
	const char	*text;
	long long	 (*get)(const struct conf *);
	long long	 want;
} edge_values[] = {
	{ "port = 0;", get_port, 0 },
	{ "port = 65535;", get_port, 65535 },
	{ "workers = 0;", get_workers, 0 },
	{ "workers = 64;", get_workers, 64 },
	{ "umask = \"0\";", get_umask, 0 },
	{ "umask = \"777\";", get_umask, 0777 },
	{ "umask = \"0777\";", get_umask, 0777 },
	{ "umask = \"002\";", get_umask, 02 },
	{ "max_upload_size = 0;", get_max_upload_size, 0 },
	{ "max_upload_size = 9223372036854775807L;", get_max_upload_size,
	    INT64_MAX },
	{ "blksize_max = 8;", get_blksize_max, 8 },
	{ "blksize_max = 65464;", get_blksize_max, 65464 },
	{ "windowsize_max = 1;", get_windowsize_max, 1 },
	{ "windowsize_max = 65535;", get_windowsize_max, 65535 },
	{ "timeout_ms = 10;", get_timeout_ms, 10 },
	{ "timeout_ms = 255000;", get_timeout_ms, 255000 },
	{ "retries = 1;", get_retries, 1 },
	{ "retries = 100;", get_retries, 100 },
	{ "max_transfers = 1;", get_max_transfers, 1 },
	{ "max_transfers = 1048576;", get_max_transfers, 1048576 },
	{ "so_rcvbuf = 0;", get_so_rcvbuf, 0 },
	{ "so_rcvbuf = 1073741824;", get_so_rcvbuf, 1073741824 },
	{ "so_sndbuf = 0;", get_so_sndbuf, 0 },
	{ "so_sndbuf = 1073741824;", get_so_sndbuf, 1073741824 },
	{ "io_backend = \"mmsg\";", get_io_backend, CONF_IO_MMSG },
	{ "io_backend = \"uring\";", get_io_backend, CONF_IO_URING },
};

START_TEST(test_edge_value)
{
	read_ok(edge_values[_i].text);
	ck_assert_int_eq(edge_values[_i].get(conf), edge_values[_i].want);
}
END_TEST

START_TEST(test_long_root)
{
	char	 path[PATH_MAX + 1], *text;

	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[PATH_MAX] = '\0';
	xasprintf(&text, "root = \"%s\";", path);
	read_fails(text,
	    "<string>:1: root: is longer than 4095 characters");
	path[PATH_MAX - 1] = '\0';
	free(text);
	xasprintf(&text, "root = \"%s\";", path);
	read_ok(text);
	ck_assert_uint_eq(strlen(conf->root), PATH_MAX - 1);
	free(text);
}
END_TEST

/* types */

static const struct {
	const char	*text;
	const char	*message;
} bad_types[] = {
	{ "port = \"69\";", "port: expected an integer, got a string" },
	{ "port = 69.0;", "port: expected an integer, got a float" },
	{ "port = true;", "port: expected an integer, got a boolean" },
	{ "max_upload_size = [ 1 ];",
	    "max_upload_size: expected an integer, got an array" },
	{ "root = 5;", "root: expected a string, got an integer" },
	{ "root = ( \"/a\" );", "root: expected a string, got a list" },
	{ "group = { name = \"x\"; };",
	    "group: expected a string, got a group" },
	{ "chroot = \"yes\";",
	    "chroot: expected a boolean (true or false), got a string" },
	{ "upload_fsync = 1;",
	    "upload_fsync: expected a boolean (true or false), got an "
	    "integer" },
	{ "uploads = true;", "uploads: expected a string, got a boolean" },
	{ "uploads = \"yes\";",
	    "uploads: \"yes\" is not one of off, create, overwrite, "
	    "existing" },
	{ "uploads = \"Off\";",
	    "uploads: \"Off\" is not one of off, create, overwrite, "
	    "existing" },
	{ "log_level = \"verbose\";",
	    "log_level: \"verbose\" is not one of error, warning, notice, "
	    "info, debug" },
	{ "log_level = 7;", "log_level: expected a string, got an integer" },
	{ "io_backend = \"epoll\";",
	    "io_backend: \"epoll\" is not one of mmsg, uring" },
	{ "io_backend = 1;", "io_backend: expected a string, got an integer" },
	{ "umask = 022;",
	    "umask: expected a string of octal digits, got an integer" },
	{ "umask = \"\";", "umask: \"\" is not an octal number" },
	{ "umask = \"0o22\";", "umask: \"0o22\" is not an octal number" },
	{ "umask = \"018\";", "umask: \"018\" is not an octal number" },
	{ "umask = \"-1\";", "umask: \"-1\" is not an octal number" },
	{ "listen = 5;",
	    "listen: expected a string or a list of strings, got an integer" },
	{ "listen = [ 1 ];", "listen: element 1: expected a string, got an "
	    "integer" },
	{ "listen = ( \"::1\", 2 );", "listen: element 2: expected a string, "
	    "got an integer" },
	{ "listen = ( \"::1\", ( \"::2\" ) );", "listen: element 2: expected "
	    "a string, got a list" },
};

START_TEST(test_bad_type)
{
	bad_row(bad_types[_i].text, bad_types[_i].message);
}
END_TEST

/* unknown keys and syntax */

START_TEST(test_unknown_key)
{
	read_fails("port = 70;\nblksize = 512;\n",
	    "<string>:2: blksize: unknown key");
	read_fails("\n\n\ntftp = { root = \"/x\"; };\n",
	    "<string>:4: tftp: unknown key");
	read_fails("Port = 70;\n", "<string>:1: Port: unknown key");
	ck_assert_int_eq(conf->port, 69);
}
END_TEST

START_TEST(test_syntax_error)
{
	read_fails("port = 70;\nroot = ;\n", "<string>:2: syntax error");
	read_fails("# one\n# two\n\nport = = 70;\n",
	    "<string>:4: syntax error");
	read_fails("port = 70;\nport = 71;\n",
	    "<string>:2: duplicate setting name");
	/* An unclosed string is noticed where the text ends. */
	read_fails("root = \"/x;\n", "<string>:2: syntax error");
	ck_assert_int_eq(conf->port, 69);
	ck_assert_str_eq(conf->root, "/srv/tftp");
}
END_TEST

/* listen */

START_TEST(test_listen_forms)
{
	read_ok("listen = ( \"192.0.2.7\", \"192.0.2.8:6969\", "
	    "\"[2001:db8::5]:8069\", \"[::1]\", \"fe80::1\", \"::\" );");
	ck_assert_uint_eq(conf->nlisten, 6);
	check_listen(0, AF_INET, "192.0.2.7", 0, "192.0.2.7");
	check_listen(1, AF_INET, "192.0.2.8", 6969, "192.0.2.8:6969");
	check_listen(2, AF_INET6, "2001:db8::5", 8069, "[2001:db8::5]:8069");
	check_listen(3, AF_INET6, "::1", 0, "[::1]");
	check_listen(4, AF_INET6, "fe80::1", 0, "fe80::1");
	check_listen(5, AF_INET6, "::", 0, "::");

	read_ok("port = 7000;\n");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	check_listen(0, AF_INET, "192.0.2.7", 7000, "192.0.2.7");
	check_listen(1, AF_INET, "192.0.2.8", 6969, "192.0.2.8:6969");
	check_listen(2, AF_INET6, "2001:db8::5", 8069, "[2001:db8::5]:8069");
	check_listen(3, AF_INET6, "::1", 7000, "[::1]");
	check_listen(4, AF_INET6, "fe80::1", 7000, "fe80::1");
	check_listen(5, AF_INET6, "::", 7000, "::");
}
END_TEST

START_TEST(test_listen_single_string)
{
	read_ok("listen = \"127.0.0.1:0\";");
	ck_assert_uint_eq(conf->nlisten, 1);
	check_listen(0, AF_INET, "127.0.0.1", 0, "127.0.0.1:0");
	read_ok("listen = [ \"10.0.0.1\", \"10.0.0.2\" ];");
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(1, AF_INET, "10.0.0.2", 0, "10.0.0.2");
	/* A later file value replaces the list. */
	read_ok("listen = \"::1\";");
	ck_assert_uint_eq(conf->nlisten, 1);
	check_listen(0, AF_INET6, "::1", 0, "::1");
}
END_TEST

static const struct {
	const char	*value;
	const char	*problem;
} bad_listens[] = {
	{ "1.2.3", "is not a numeric IPv4 or IPv6 address" },
	{ "localhost", "is not a numeric IPv4 or IPv6 address" },
	{ "1.2.3.4.5", "is not a numeric IPv4 or IPv6 address" },
	{ "256.1.1.1", "is not a numeric IPv4 or IPv6 address" },
	{ "", "is not a numeric IPv4 or IPv6 address" },
	{ ":69", "is not a numeric IPv4 or IPv6 address" },
	{ "[]:69", "is not a numeric IPv4 or IPv6 address" },
	{ "[1.2.3.4]", "is not a numeric IPv4 or IPv6 address" },
	{ "[fe80::1%eth0]", "is not a numeric IPv4 or IPv6 address" },
	{ "1.2.3.4:70000", "has a port that is not a number from 0 to 65535" },
	{ "1.2.3.4:", "has a port that is not a number from 0 to 65535" },
	{ "1.2.3.4:-1", "has a port that is not a number from 0 to 65535" },
	{ "1.2.3.4:tftp", "has a port that is not a number from 0 to 65535" },
	{ "[::1]:x", "has a port that is not a number from 0 to 65535" },
	{ "[::1", "has no closing ']'" },
	{ "[::1]69", "has something other than ':PORT' after ']'" },
	{ "1111111111222222222233333333334444444444"
	  "5555555555666666666677777777778888888888", "is too long" },
};

START_TEST(test_listen_bad)
{
	char	*text, *want;

	xasprintf(&text, "listen = [ \"::1\", \"%s\" ];",
	    bad_listens[_i].value);
	xasprintf(&want, "listen: \"%s\" %s", bad_listens[_i].value,
	    bad_listens[_i].problem);
	bad_row(text, want);
	free(text);
	free(want);
	ck_assert_uint_eq(conf->nlisten, 0);

	xasprintf(&want, "command line: --listen: \"%s\" %s",
	    bad_listens[_i].value, bad_listens[_i].problem);
	set_fails("listen", bad_listens[_i].value, want);
	ck_assert_uint_eq(conf->nlisten, 0);
	free(want);
}
END_TEST

START_TEST(test_listen_element_line)
{
	/*
	 * The message names the line of the bad element, not the key's.
	 * (libconfig dates an element by the token after it, so the comma
	 * must be on the same line for the line to be exact.)
	 */
	read_fails("listen = [\n  \"::1\",\n  \"nope\",\n  \"::2\"\n];\n",
	    "<string>:3: listen: \"nope\" is not a numeric IPv4 or IPv6 "
	    "address");
}
END_TEST


START_TEST(test_listen_limits)
{
	char	 text[2048];
	size_t	 off;
	int	 i;

	/* Exactly CONF_LISTEN_MAX entries, one per line, is fine. */
	off = (size_t)snprintf(text, sizeof text, "listen = (\n");
	for (i = 1; i <= CONF_LISTEN_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
		    "  \"10.0.0.%d\"%s\n", i, i < CONF_LISTEN_MAX ? "," : "");
	(void)snprintf(text + off, sizeof text - off, ");\n");
	read_ok(text);
	ck_assert_uint_eq(conf->nlisten, CONF_LISTEN_MAX);
	check_listen(15, AF_INET, "10.0.0.16", 0, "10.0.0.16");

	/* More are refused on the line of the 17th. */
	off = (size_t)snprintf(text, sizeof text, "listen = (\n");
	for (i = 1; i <= CONF_LISTEN_MAX + 2; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
		    "  \"10.1.0.%d\"%s\n", i,
		    i < CONF_LISTEN_MAX + 2 ? "," : "");
	(void)snprintf(text + off, sizeof text - off, ");\n");
	read_fails(text, "<string>:18: listen: more than 16 addresses");
	ck_assert_uint_eq(conf->nlisten, CONF_LISTEN_MAX);
	check_listen(0, AF_INET, "10.0.0.1", 0, "10.0.0.1");
}
END_TEST

START_TEST(test_listen_duplicates)
{
	read_fails("listen = [ \"::1\", \"0:0::1\" ];",
	    "<string>:1: listen: \"0:0::1\" is given twice");
	read_fails("listen = [ \"1.2.3.4:69\", \"1.2.3.4:69\" ];",
	    "<string>:1: listen: \"1.2.3.4:69\" is given twice");
	read_fails("listen = [ ];", "<string>:1: listen: the list is empty");
	read_fails("listen = ( );", "<string>:1: listen: the list is empty");
	/* Same address, different or absent ports: distinct entries. */
	read_ok("listen = [ \"1.2.3.4\", \"1.2.3.4:69\", \"1.2.3.4:70\", "
	    "\"[::1]:69\", \"[::1]\" ];");
	ck_assert_uint_eq(conf->nlisten, 5);
}
END_TEST

/* conf_finish */

START_TEST(test_finish_defaults)
{
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(0, AF_INET, "0.0.0.0", 69, "0.0.0.0");
	check_listen(1, AF_INET6, "::", 69, "::");

	/* Calling it again changes nothing. */
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(1, AF_INET6, "::", 69, "::");
}
END_TEST

START_TEST(test_finish_port_zero)
{
	read_ok("port = 0;");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	check_listen(0, AF_INET, "0.0.0.0", 0, "0.0.0.0");
	check_listen(1, AF_INET6, "::", 0, "::");
}
END_TEST

START_TEST(test_finish_workers)
{
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int	 want;

	want = ncpu < 1 ? 1 : ncpu > CONF_WORKERS_MAX ? CONF_WORKERS_MAX :
	    (int)ncpu;
	ck_assert_int_eq(conf->workers, 0);
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_int_ge(conf->workers, 1);
	ck_assert_int_le(conf->workers, CONF_WORKERS_MAX);
	ck_assert_int_eq(conf->workers, want);
}
END_TEST

START_TEST(test_finish_workers_explicit)
{
	read_ok("workers = 7;");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_int_eq(conf->workers, 7);
}
END_TEST

/* Each worker's share of max_transfers is rounded up, computed once. */
START_TEST(test_finish_worker_share)
{
	read_ok("workers = 7; max_transfers = 100;");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(conf->worker_share, 15);
	read_ok("workers = 4; max_transfers = 100;");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(conf->worker_share, 25);
}
END_TEST

/* port_range and metrics_listen are parsed once, where they are set. */
START_TEST(test_typed_values)
{
	char	 host[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *sin6;

	read_ok("port_range = \"4000:4099\";\n"
	    "metrics_listen = \"[::1]:9102\";\n");
	ck_assert_int_eq(conf->port_range.lo, 4000);
	ck_assert_int_eq(conf->port_range.hi, 4099);
	ck_assert_str_eq(conf->port_range.text, "4000:4099");
	sin6 = (const struct sockaddr_in6 *)&conf->metrics_listen.addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_int_eq(ntohs(sin6->sin6_port), 9102);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &sin6->sin6_addr, host,
	    sizeof host));
	ck_assert_str_eq(host, "::1");
	ck_assert_str_eq(conf->metrics_listen.text, "[::1]:9102");

	read_fails("\nport_range = \"9:8\";", "<string>:2: port_range: "
	    "\"9:8\" is not LO:HI with 1 <= LO <= HI <= 65535");
	read_fails("port_range = \"0:8\";", "<string>:1: port_range: "
	    "\"0:8\" is not LO:HI with 1 <= LO <= HI <= 65535");
	read_fails("port_range = \"4000\";", "<string>:1: port_range: "
	    "\"4000\" is not LO:HI with 1 <= LO <= HI <= 65535");
	read_fails("port_range = \"100000:100001\";", "<string>:1: "
	    "port_range: is longer than 11 characters");
	read_fails("\n\nmetrics_listen = \"127.0.0.1\";", "<string>:3: "
	    "metrics_listen: \"127.0.0.1\" needs a port (ADDR:PORT or "
	    "[ADDR]:PORT)");
	read_fails("metrics_listen = \"localhost:80\";", "<string>:1: "
	    "metrics_listen: \"localhost:80\" is not a numeric IPv4 or IPv6 "
	    "address");
	/* A refused file changed nothing. */
	ck_assert_int_eq(conf->port_range.lo, 4000);
	ck_assert_str_eq(conf->metrics_listen.text, "[::1]:9102");

	/* "" is any port and no endpoint. */
	read_ok("port_range = \"\"; metrics_listen = \"\";");
	ck_assert_int_eq(conf->port_range.lo, 0);
	ck_assert_int_eq(conf->port_range.hi, 0);
	ck_assert_uint_eq(conf->metrics_listen.addrlen, 0);
}
END_TEST

/* command line */

START_TEST(test_set_every_key)
{
	set_ok("root", "/srv/other");
	ck_assert_str_eq(conf->root, "/srv/other");
	set_ok("port", "1069");
	ck_assert_int_eq(conf->port, 1069);
	set_ok("workers", "2");
	ck_assert_int_eq(conf->workers, 2);
	set_ok("user", "_owl");
	ck_assert_str_eq(conf->user, "_owl");
	set_ok("group", "owls");
	ck_assert_str_eq(conf->group, "owls");
	set_ok("group", "tftp");
	ck_assert_str_eq(conf->group, "tftp");
	set_ok("chroot", "yes");
	ck_assert_int_eq(conf->chroot, 1);
	set_ok("uploads", "overwrite");
	ck_assert_int_eq(conf->xfer.uploads, FS_UPLOAD_OVERWRITE);
	set_ok("upload_fsync", "off");
	ck_assert_int_eq(conf->xfer.upload_fsync, 0);
	set_ok("umask", "077");
	ck_assert_uint_eq(conf->xfer.umask, 077);
	set_ok("max_upload_size", "8589934592");
	ck_assert_uint_eq(conf->xfer.limits.max_upload_size, 8589934592ULL);
	set_ok("blksize_max", "512");
	ck_assert_uint_eq(conf->xfer.limits.blksize_max, 512);
	set_ok("windowsize_max", "4");
	ck_assert_uint_eq(conf->xfer.limits.windowsize_max, 4);
	set_ok("timeout_ms", "300");
	ck_assert_uint_eq(conf->xfer.timeout_ms, 300);
	set_ok("retries", "3");
	ck_assert_uint_eq(conf->xfer.retries, 3);
	set_ok("max_transfers", "10");
	ck_assert_uint_eq(conf->max_transfers, 10);
	set_ok("so_rcvbuf", "1024");
	ck_assert_int_eq(conf->so_rcvbuf, 1024);
	set_ok("so_sndbuf", "0");
	ck_assert_int_eq(conf->so_sndbuf, 0);
	set_ok("log_level", "warning");
	ck_assert_int_eq(conf->log_level, LOG_WARNING);
	set_ok("listen", "[::1]:6969");
	ck_assert_uint_eq(conf->nlisten, 1);
	check_listen(0, AF_INET6, "::1", 6969, "[::1]:6969");
}
END_TEST

START_TEST(test_set_bools)
{
	static const struct {
		const char	*word;
		int		 value;
	} rows[] = {
		{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
		{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 },
	};
	size_t	 i;

	for (i = 0; i < nitems(rows); i++) {
		set_ok("chroot", rows[i].word);
		ck_assert_int_eq(conf->chroot, rows[i].value);
		set_ok("upload_fsync", rows[i].word);
		ck_assert_int_eq(conf->xfer.upload_fsync, rows[i].value);
	}
	set_fails("chroot", "maybe", "command line: --chroot: \"maybe\" is not "
	    "one of true, false, yes, no, on, off, 1, 0");
	set_fails("chroot", "", "command line: --chroot: \"\" is not one of "
	    "true, false, yes, no, on, off, 1, 0");
	ck_assert_int_eq(conf->chroot, 0);
}
END_TEST

START_TEST(test_set_errors)
{
	set_fails("nope", "1", "command line: --nope: unknown key");
	set_fails("port", NULL, "command line: --port: missing value");
	set_fails("port", "70000",
	    "command line: --port: 70000 is above the maximum 65535");
	set_fails("port", "-1",
	    "command line: --port: -1 is below the minimum 0");
	set_fails("port", "69x", "command line: --port: \"69x\" is not an "
	    "integer");
	set_fails("port", "", "command line: --port: \"\" is not an integer");
	set_fails("port", "0x45", "command line: --port: \"0x45\" is not an "
	    "integer");
	set_fails("blksize_max", "65465",
	    "command line: --blksize_max: 65465 is above the maximum 65464");
	set_fails("windowsize_max", "65536",
	    "command line: --windowsize_max: 65536 is above the maximum 65535");
	set_fails("workers", "65",
	    "command line: --workers: 65 is above the maximum 64");
	set_fails("max_upload_size", "99999999999999999999",
	    "command line: --max_upload_size: 99999999999999999999 is above "
	    "the maximum 9223372036854775807");
	set_fails("max_upload_size", "-99999999999999999999",
	    "command line: --max_upload_size: -99999999999999999999 is below "
	    "the minimum 0");
	set_fails("root", "", "command line: --root: must not be empty");
	set_fails("user", "", "command line: --user: must not be empty");
	set_fails("group", "", "command line: --group: must not be empty");
	set_fails("uploads", "on", "command line: --uploads: \"on\" is not one "
	    "of off, create, overwrite, existing");
	set_fails("log_level", "err", "command line: --log_level: \"err\" is "
	    "not one of error, warning, notice, info, debug");
	set_fails("umask", "8", "command line: --umask: \"8\" is not an octal "
	    "number");
	set_fails("umask", "1000",
	    "command line: --umask: 1000 is above the maximum 0777");

	/* A refused value leaves the old one. */
	ck_assert_int_eq(conf->port, 69);
	ck_assert_uint_eq(conf->xfer.limits.blksize_max, 0);
	ck_assert_str_eq(conf->root, "/srv/tftp");
	ck_assert_ptr_null(conf->group);
	ck_assert_uint_eq(conf->xfer.umask, 022);
	ck_assert_int_eq(conf->log_level, LOG_INFO);
}
END_TEST

START_TEST(test_set_listen_replaces_then_appends)
{
	read_ok("listen = [ \"192.0.2.1\", \"192.0.2.2\" ];");
	ck_assert_uint_eq(conf->nlisten, 2);

	/* A bad first value does not throw the file's list away. */
	set_fails("listen", "bogus", "command line: --listen: \"bogus\" is "
	    "not a numeric IPv4 or IPv6 address");
	ck_assert_uint_eq(conf->nlisten, 2);

	set_ok("listen", "198.51.100.1:6969");
	ck_assert_uint_eq(conf->nlisten, 1);
	check_listen(0, AF_INET, "198.51.100.1", 6969, "198.51.100.1:6969");

	set_ok("listen", "2001:db8::9");
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(0, AF_INET, "198.51.100.1", 6969, "198.51.100.1:6969");
	check_listen(1, AF_INET6, "2001:db8::9", 0, "2001:db8::9");

	set_fails("listen", "2001:db8::9",
	    "command line: --listen: \"2001:db8::9\" is given twice");
	ck_assert_uint_eq(conf->nlisten, 2);

	set_ok("port", "5000");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	check_listen(0, AF_INET, "198.51.100.1", 6969, "198.51.100.1:6969");
	check_listen(1, AF_INET6, "2001:db8::9", 5000, "2001:db8::9");
}
END_TEST

START_TEST(test_set_listen_limit)
{
	char	 addr[32], want[96];
	int	 i;

	for (i = 1; i <= CONF_LISTEN_MAX; i++) {
		(void)snprintf(addr, sizeof addr, "10.0.0.%d", i);
		set_ok("listen", addr);
	}
	ck_assert_uint_eq(conf->nlisten, CONF_LISTEN_MAX);
	(void)snprintf(want, sizeof want,
	    "command line: --listen: more than %d addresses", CONF_LISTEN_MAX);
	set_fails("listen", "10.0.1.1", want);
	ck_assert_uint_eq(conf->nlisten, CONF_LISTEN_MAX);
}
END_TEST

START_TEST(test_set_listen_without_file)
{
	set_ok("listen", "127.0.0.1");
	set_ok("listen", "::1");
	ck_assert_uint_eq(conf->nlisten, 2);
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(conf->nlisten, 2);
	check_listen(0, AF_INET, "127.0.0.1", 69, "127.0.0.1");
	check_listen(1, AF_INET6, "::1", 69, "::1");
}
END_TEST

/* files */

START_TEST(test_file_read)
{
	char	*path = tmp_file("a.conf", "# test\nport = 1069;\n"
	    "root = \"/srv/x\";\n");

	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), 0);
	ck_assert_int_eq(conf->port, 1069);
	ck_assert_str_eq(conf->root, "/srv/x");
	ck_assert_str_eq(conf->path, path);
	free(path);

	path = tmp_file("b.conf", "retries = 2;\n");
	ck_assert_int_eq(conf_read_file(conf, path, 0, &cause), 0);
	ck_assert_uint_eq(conf->xfer.retries, 2);
	ck_assert_int_eq(conf->port, 1069);
	ck_assert_str_eq(conf->path, path);
	free(path);
}
END_TEST

START_TEST(test_file_empty)
{
	char	*path = tmp_file("empty.conf", ""), *text;

	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), 0);
	ck_assert_str_eq(conf->path, path);
	text = dump(conf);
	ck_assert_str_eq(text, default_dump);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_file_missing)
{
	char	*path, *want;

	xasprintf(&path, "%s/missing.conf", tmpdir);
	ck_assert_int_eq(conf_read_file(conf, path, 0, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_ptr_null(conf->path);
	ck_assert_int_eq(conf->port, 69);

	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), -1);
	xasprintf(&want, "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(cause, want);
	ck_assert_ptr_null(conf->path);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_file_directory)
{
	char	*want;

	/* Not missing, so an error even when the file is optional. */
	ck_assert_int_eq(conf_read_file(conf, tmpdir, 0, &cause), -1);
	xasprintf(&want, "%s: cannot open: Is a directory", tmpdir);
	ck_assert_str_eq(cause, want);
	free(want);
}
END_TEST

START_TEST(test_file_errors_name_the_file)
{
	char	*path, *want;

	path = tmp_file("bad.conf", "port = 70;\n\nblksize_max = 65465;\n");
	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), -1);
	xasprintf(&want, "%s:3: blksize_max: 65465 is above the maximum 65464", path);
	ck_assert_str_eq(cause, want);
	ck_assert_int_eq(conf->port, 69);
	ck_assert_ptr_null(conf->path);
	free(want);
	free(path);
	free(cause);
	cause = NULL;

	path = tmp_file("syntax.conf", "port = 70;\nroot = \"/x\"\n!\n");
	ck_assert_int_eq(conf_read_file(conf, path, 0, &cause), -1);
	xasprintf(&want, "%s:3: syntax error", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(path);
	free(cause);
	cause = NULL;

	path = tmp_file("wide.conf", "\nmax_upload_size = 8589934592;\n");
	ck_assert_int_eq(conf_read_file(conf, path, 0, &cause), -1);
	xasprintf(&want, "%s:2: 8589934592 does not fit in 32 bits: write it "
	    "as 8589934592L", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_file_include)
{
	char	*inc, *text, *want;

	inc = tmp_file("inc.conf", "retries = 8;\n\nport = 70000;\n");
	xasprintf(&text, "timeout_ms = 70;\n@include \"%s\"\n", inc);
	xasprintf(&want, "%s:3: port: 70000 is above the maximum 65535", inc);
	read_fails(text, want);
	ck_assert_uint_eq(conf->xfer.retries, 5);
	ck_assert_uint_eq(conf->xfer.timeout_ms, 1000);
	free(text);
	free(want);
	free(inc);

	inc = tmp_file("inc2.conf", "retries = 8;\n");
	xasprintf(&text, "port = 70;\n@include \"%s\"\n", inc);
	read_ok(text);
	ck_assert_uint_eq(conf->xfer.retries, 8);
	ck_assert_int_eq(conf->port, 70);
	free(text);
	free(inc);
}
END_TEST

/* conf_dump */

START_TEST(test_dump_names_every_key)
{
	char	*text, *line, *save = NULL, name[64];
	size_t	 i, n = 0;

	set_ok("group", "tftp");
	read_ok("remap = ( { match = \"a\"; replace = \"b\"; },\n"
	    "{ match = \"c\"; action = \"deny\"; } );");
	text = dump(conf);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* remap's groups and closing parenthesis; group members. */
		if (line[0] == ' ' || line[0] == '\t' ||
		    strcmp(line, ");") == 0 || strcmp(line, "};") == 0)
			continue;
		ck_assert_int_eq(sscanf(line, "%63[a-z_] = ", name), 1);
		ck_assert_uint_lt(n, nitems(keys));
		ck_assert_str_eq(name, keys[n]);
		n++;
	}
	ck_assert_uint_eq(n, nitems(keys));
	for (i = 0; i < nitems(keys); i++)
		ck_assert_ptr_nonnull(strstr(default_dump, keys[i]));
	free(text);
}
END_TEST

START_TEST(test_dump_round_trip)
{
	struct conf	*again;
	char		*first, *second;

	read_ok("root = \"/srv/odd \\\"name\\\" \\\\ \\t here\";\n"
	    "listen = [ \"192.0.2.1:6969\", \"[2001:db8::1]\", \"::2\" ];\n"
	    "port = 0; workers = 5; user = \"u\"; group = \"g\";\n"
	    "chroot = true; uploads = \"overwrite\"; upload_fsync = false;\n"
	    "umask = \"7\"; max_upload_size = 8589934592L;\n"
	    "blksize_max = 8; windowsize_max = 65535; timeout_ms = 10;\n"
	    "retries = 100; max_transfers = 1; so_rcvbuf = 0;\n"
	    "so_sndbuf = 1073741824; log_level = \"error\";\n");
	ck_assert_str_eq(conf->root, "/srv/odd \"name\" \\ \t here");
	first = dump(conf);
	ck_assert_ptr_nonnull(strstr(first,
	    "root = \"/srv/odd \\\"name\\\" \\\\ \\x09 here\";\n"));
	ck_assert_ptr_nonnull(strstr(first,
	    "max_upload_size = 8589934592L;\n"));
	ck_assert_ptr_nonnull(strstr(first, "umask = \"007\";\n"));
	ck_assert_ptr_nonnull(strstr(first, "listen = [ \"192.0.2.1:6969\", "
	    "\"[2001:db8::1]\", \"::2\" ];\n"));

	again = conf_new();
	if (conf_read_string(again, first, &cause) != 0)
		ck_abort_msg("dump does not parse: %s", cause);
	second = dump(again);
	ck_assert_str_eq(second, first);
	ck_assert_str_eq(again->root, conf->root);
	conf_free(again);
	free(first);
	free(second);
}
END_TEST

/* access lists */

/* acl_allows() on a numeric IPv4 or IPv6 address. */
static int
allows(const struct acl *acl, const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(1024);
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(1024);
		ck_assert_int_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	}
	return acl_allows(acl, (struct sockaddr *)&ss);
}

START_TEST(test_acl_defaults)
{
	ck_assert_ptr_nonnull(conf->xfer.read_acl);
	ck_assert_ptr_nonnull(conf->xfer.write_acl);
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 0);
	/* Empty: everyone. */
	ck_assert_int_eq(allows(conf->xfer.read_acl, "192.0.2.1"), 1);
	ck_assert_int_eq(allows(conf->xfer.write_acl, "2001:db8::1"), 1);
}
END_TEST

START_TEST(test_acl_list)
{
	read_ok("read_acl = [ \"allow 10.0.0.0/8\", \"deny 10.1.0.0/16\",\n"
	    "    \"allow 2001:db8::/32\" ];\n"
	    "write_acl = ( \"deny 192.0.2.7\", \"ALLOW\tall\" );\n");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 3);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 2);

	/* First match wins; a non-empty list denies what nothing matches. */
	ck_assert_int_eq(allows(conf->xfer.read_acl, "10.1.2.3"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "10.255.0.1"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "192.0.2.1"), 0);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "2001:db8:5::1"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "2001:db9::1"), 0);
	/* A mapped IPv4 peer is matched by the IPv4 rules. */
	ck_assert_int_eq(allows(conf->xfer.read_acl, "::ffff:10.9.9.9"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "::ffff:192.0.2.1"), 0);

	ck_assert_int_eq(allows(conf->xfer.write_acl, "192.0.2.7"), 0);
	ck_assert_int_eq(allows(conf->xfer.write_acl, "::ffff:192.0.2.7"), 0);
	ck_assert_int_eq(allows(conf->xfer.write_acl, "192.0.2.8"), 1);
	ck_assert_int_eq(allows(conf->xfer.write_acl, "::1"), 1);
}
END_TEST

START_TEST(test_acl_string_and_replace)
{
	read_ok("read_acl = \"deny all\";");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "192.0.2.1"), 0);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "::1"), 0);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 0);

	/* Absent from a later file: kept.  Given: replaced, not appended. */
	read_ok("port = 70;");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 1);
	read_ok("read_acl = [ \"allow 192.0.2.0/24\", \"allow ::1\" ];");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 2);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "192.0.2.1"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "198.51.100.1"), 0);
	/* An empty list empties it: everyone again. */
	read_ok("read_acl = [ ];");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "198.51.100.1"), 1);
	read_ok("read_acl = ( );");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
}
END_TEST

static const struct {
	const char	*text;
	const char	*message;
} bad_acls[] = {
	{ "read_acl = \"allow 10.0.0.1/8\";",
	    "read_acl: \"allow 10.0.0.1/8\": host bits set" },
	{ "write_acl = [ \"allow all\", \"deny 10.0.0.1/8\" ];",
	    "write_acl: \"deny 10.0.0.1/8\": host bits set" },
	{ "read_acl = \"permit all\";",
	    "read_acl: \"permit all\": unknown action" },
	{ "read_acl = \"allow\";", "read_acl: \"allow\": missing address" },
	{ "read_acl = \"\";", "read_acl: \"\": empty rule" },
	{ "read_acl = \"allow localhost\";",
	    "read_acl: \"allow localhost\": bad address" },
	{ "read_acl = \"allow 10.0.0.0/33\";",
	    "read_acl: \"allow 10.0.0.0/33\": bad prefix" },
	{ "read_acl = \"allow fe80::1%eth0\";",
	    "read_acl: \"allow fe80::1%eth0\": bad address" },
	{ "read_acl = \"allow all now\";",
	    "read_acl: \"allow all now\": trailing garbage" },
	{ "read_acl = 5;",
	    "read_acl: expected a string or a list of strings, got an "
	    "integer" },
	{ "read_acl = true;",
	    "read_acl: expected a string or a list of strings, got a "
	    "boolean" },
	{ "write_acl = { allow = \"all\"; };",
	    "write_acl: expected a string or a list of strings, got a group" },
	{ "read_acl = ( \"allow all\", 1 );",
	    "read_acl: element 2: expected a string, got an integer" },
	{ "read_acl = ( \"allow all\", ( \"deny all\" ) );",
	    "read_acl: element 2: expected a string, got a list" },
};

START_TEST(test_acl_bad)
{
	bad_row(bad_acls[_i].text, bad_acls[_i].message);
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 0);
}
END_TEST

START_TEST(test_acl_bad_keeps_old)
{
	read_ok("read_acl = \"allow 192.0.2.0/24\";");
	/*
	 * The bad rule's own line (libconfig dates an element by the token
	 * after it, so this holds when a comma follows it), and nothing of
	 * the file is applied.
	 */
	read_fails("write_acl = \"deny all\";\nread_acl = [\n"
	    "  \"allow 10.0.0.0/8\",\n  \"allow 10.0.0.1/8\",\n"
	    "  \"deny all\"\n];\n",
	    "<string>:4: read_acl: \"allow 10.0.0.1/8\": host bits set");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "192.0.2.9"), 1);
	ck_assert_int_eq(allows(conf->xfer.read_acl, "10.0.0.1"), 0);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 0);
}
END_TEST

START_TEST(test_acl_file_error)
{
	char	*path, *want;

	path = tmp_file("acl.conf", "# access\n\nread_acl = [ \"allow all\","
	    " \"allow 10.0.0.1/8\" ];\n");
	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), -1);
	xasprintf(&want, "%s:3: read_acl: \"allow 10.0.0.1/8\": host bits set",
	    path);
	ck_assert_str_eq(cause, want);
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_policy_not_on_command_line)
{
	set_fails("read_acl", "allow all", "command line: --read_acl: can "
	    "only be set in the configuration file");
	set_fails("write_acl", "deny all", "command line: --write_acl: can "
	    "only be set in the configuration file");
	set_fails("remap", "x", "command line: --remap: can only be set in "
	    "the configuration file");
	ck_assert_uint_eq(acl_count(conf->xfer.read_acl), 0);
	ck_assert_uint_eq(acl_count(conf->xfer.write_acl), 0);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 0);
}
END_TEST

/* remap */

static char	 mapped_buf[REMAP_NAME_MAX];

/* conf->xfer.remap applied to in: the result, or "DENIED" or "TOOLONG". */
static const char *
mapped(unsigned op, const char *in, const char *client)
{
	switch (remap_apply(conf->xfer.remap, op, in, client, mapped_buf,
	    sizeof mapped_buf)) {
	case REMAP_OK:
		return mapped_buf;
	case REMAP_DENIED:
		return "DENIED";
	case REMAP_TOOLONG:
		return "TOOLONG";
	}
	return "?";
}

/* remap_file: a tftp-hpa file, its rules before those of remap */
START_TEST(test_remap_file)
{
	char	*map, *text;

	map = tmp_file("tftp.remap", "# tftp-hpa\n"
	    "rg \\\\ /\n"
	    "r ^a$ b\n"
	    "ri ^(pxe)$ \\U\\1\n");
	xasprintf(&text, "remap_file = \"%s\";\n"
	    "remap_backslash = false;\n"
	    "remap = ( { match = \"^b$\"; replace = \"c\"; } );\n", map);
	ck_assert_int_eq(conf_read_string(conf, text, &cause), 0);
	/* not before conf_finish() */
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 1);
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 4);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "a", NULL), "c");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "x\\y\\z", NULL), "x/y/z");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "Pxe", NULL), "PXE");
	free(text);
	free(map);
}
END_TEST

START_TEST(test_remap_file_errors)
{
	char	*map, *text, *want;

	map = tmp_file("bad.remap", "r ^a$ b\nrx ^b$ c\n");
	xasprintf(&text, "remap_file = \"%s\";\n", map);
	ck_assert_int_eq(conf_read_string(conf, text, &cause), 0);
	ck_assert_int_eq(conf_finish(conf, &cause), -1);
	xasprintf(&want, "command line: remap_file: %s:2: unknown operation "
	    "'x' (expected some of r g e s a i ~ G P 4 6)", map);
	ck_assert_str_eq(cause, want);
	free(cause);
	cause = NULL;
	free(want);
	free(text);
	free(map);

	xasprintf(&map, "%s/missing.remap", tmpdir);
	ck_assert_int_eq(conf_set(conf, "remap_file", map, &cause), 0);
	ck_assert_int_eq(conf_finish(conf, &cause), -1);
	xasprintf(&want, "command line: remap_file: %s: cannot open: No such "
	    "file or directory", map);
	ck_assert_str_eq(cause, want);
	free(want);
	free(map);
}
END_TEST

static const char pxe_rules[] =
	"remap = (\n"
	"  { match = \"^/?pxelinux\\\\.cfg/(.*)\"; replace = \"pxe/cfg/\\\\1\";\n"
	"    op = \"read\"; },\n"
	"  { match = \"\\\\.\\\\.\"; action = \"deny\"; },\n"
	"  { match = \"^(.*)$\"; replace = \"clients/\\\\i/\\\\1\";\n"
	"    op = \"write\"; last = true; },\n"
	"  { match = \"Q\"; replace = \"k\"; icase = true; global = true;\n"
	"    op = \"both\"; action = \"rewrite\"; last = false; }\n"
	");\n";

START_TEST(test_remap_defaults)
{
	ck_assert_ptr_nonnull(conf->xfer.remap);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 0);
	ck_assert_int_eq(conf->remap_strip_nonprint, 0);
	ck_assert_int_eq(conf->remap_backslash, 1);
	ck_assert_int_eq(conf->remap_lowercase, 0);
	/* Only backslashes are on by default: trailing bytes stay, so
	 * they reach the file lookup (and fail there) unless asked. */
	ck_assert_str_eq(mapped(REMAP_OP_READ, "Boot\\X.EFI\r\n\x7f", NULL),
	    "Boot/X.EFI\r\n\x7f");
	ck_assert_str_eq(mapped(REMAP_OP_WRITE, "a/../b", "192.0.2.1"),
	    "a/../b");
}
END_TEST

START_TEST(test_remap_list)
{
	read_ok(pxe_rules);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 4);

	ck_assert_str_eq(mapped(REMAP_OP_READ, "/pxelinux.cfg/default",
	    "192.0.2.7"), "pxe/cfg/default");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "pxelinux.cfg/01-aa", NULL),
	    "pxe/cfg/01-aa");
	/* op = "read": not applied to writes; the write rule is last. */
	ck_assert_str_eq(mapped(REMAP_OP_WRITE, "pxelinux.cfg/x",
	    "192.0.2.7"), "clients/192.0.2.7/pxelinux.cfg/x");
	ck_assert_str_eq(mapped(REMAP_OP_WRITE, "log.txt", "2001:db8::1"),
	    "clients/2001:db8::1/log.txt");
	/* deny for both. */
	ck_assert_str_eq(mapped(REMAP_OP_READ, "a/../etc", NULL), "DENIED");
	ck_assert_str_eq(mapped(REMAP_OP_WRITE, "..", "192.0.2.7"), "DENIED");
	/* icase + global, reads only get this far. */
	ck_assert_str_eq(mapped(REMAP_OP_READ, "qQaq", NULL), "kkak");
	/* The built-ins run first. */
	ck_assert_str_eq(mapped(REMAP_OP_READ, "pxelinux.cfg\\default",
	    NULL), "pxe/cfg/default");
}
END_TEST

START_TEST(test_remap_replace_and_keep)
{
	read_ok(pxe_rules);
	read_ok("retries = 3;");
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 4);
	read_ok("remap = ( { match = \"^a\"; replace = \"b\"; } );");
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 1);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "a/pxelinux.cfg/x", NULL),
	    "b/pxelinux.cfg/x");
	read_ok("remap = ( );");
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 0);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "a", NULL), "a");
}
END_TEST

/* Each error on the second rule, whose group opens on line 4. */
static const struct {
	const char	*group;
	const char	*message;
} bad_remaps[] = {
	{ "{ match = \"a\"; replace = \"b\"; foo = 1; }",
	    "remap[2]: unknown member \"foo\" (expected match, replace, op, "
	    "action, icase, last or global)" },
	{ "{ match = \"a\"; Match = \"b\"; }",
	    "remap[2]: unknown member \"Match\" (expected match, replace, op, "
	    "action, icase, last or global)" },
	{ "{ match = 5; replace = \"b\"; }",
	    "remap[2]: match: expected a string, got an integer" },
	{ "{ match = \"a\"; replace = [ \"b\" ]; }",
	    "remap[2]: replace: expected a string, got an array" },
	{ "{ match = \"a\"; replace = \"b\"; op = 1; }",
	    "remap[2]: op: expected a string, got an integer" },
	{ "{ match = \"a\"; replace = \"b\"; op = \"get\"; }",
	    "remap[2]: op: \"get\" is not one of read, write, both" },
	{ "{ match = \"a\"; action = true; }",
	    "remap[2]: action: expected a string, got a boolean" },
	{ "{ match = \"a\"; action = \"drop\"; }",
	    "remap[2]: action: \"drop\" is not one of rewrite, deny" },
	{ "{ match = \"a\"; replace = \"b\"; icase = \"yes\"; }",
	    "remap[2]: icase: expected a boolean (true or false), got a "
	    "string" },
	{ "{ match = \"a\"; replace = \"b\"; last = 1; }",
	    "remap[2]: last: expected a boolean (true or false), got an "
	    "integer" },
	{ "{ match = \"a\"; replace = \"b\"; global = { }; }",
	    "remap[2]: global: expected a boolean (true or false), got a "
	    "group" },
	{ "{ match = \"a\"; }",
	    "remap[2]: replace is missing (action \"rewrite\" needs it)" },
	{ "{ match = \"a\"; action = \"rewrite\"; op = \"write\"; }",
	    "remap[2]: replace is missing (action \"rewrite\" needs it)" },
	{ "{ replace = \"b\"; }", "remap[2]: match is missing" },
	{ "{ }", "remap[2]: match is missing" },
	{ "{ match = \"a\"; replace = \"b\"; action = \"deny\"; }",
	    "remap[2]: replace is given but action is \"deny\"" },
	{ "{ match = \"(a)\"; replace = \"\\\\2\"; }",
	    "remap[2]: replacement \\2: the regex has 1 group(s)" },
	{ "{ match = \"a\"; replace = \"\\\\q\"; }",
	    "remap[2]: replacement has unknown escape \\q" },
	{ "{ match = \"a\"; replace = \"b\\\\\"; }",
	    "remap[2]: replacement ends in a lone backslash" },
	{ "\"a\"", "remap[2]: expected a group, got a string" },
	{ "( \"a\" )", "remap[2]: expected a group, got a list" },
};

/* What regcomp() says about a bad regex. */
static char *
regex_error(const char *pattern)
{
	regex_t	 re;
	char	 buf[256], *msg;
	int	 error;

	error = regcomp(&re, pattern, REG_EXTENDED);
	ck_assert_int_ne(error, 0);
	(void)regerror(error, &re, buf, sizeof buf);
	msg = xstrdup(buf);
	return msg;
}

/* The same, with "remap[2]: " and what regerror() says about regex. */
static const struct {
	const char	*group;
	const char	*regex;
} bad_regexes[] = {
	{ "{ match = \"(a\"; replace = \"b\"; }", "(a" },
	{ "{ match = \"a{2,1}\"; action = \"deny\"; }", "a{2,1}" },
	{ "{ match = \"[[:nope:]]\"; action = \"deny\"; icase = true; }",
	    "[[:nope:]]" },
	{ "{ match = \"+x\"; replace = \"x\"; op = \"write\"; }", "+x" },
};

/* A file whose second remap rule is group, on line 4, after port = 70. */
static char *
remap_text(const char *group)
{
	char	*text;

	xasprintf(&text, "port = 70;\nremap = (\n"
	    "  { match = \"a\"; replace = \"b\"; },\n"
	    "  %s,\n"
	    "  { match = \"c\"; action = \"deny\"; }\n"
	    ");\n", group);
	return text;
}

/* Nothing of the file is applied; the old rules stay. */
static void
remap_unchanged(void)
{
	ck_assert_int_eq(conf->port, 69);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 1);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "old/a", NULL), "new/a");
}

START_TEST(test_remap_bad)
{
	char	*text, *want;

	read_ok("remap = ( { match = \"^old\"; replace = \"new\"; } );");
	text = remap_text(bad_remaps[_i].group);
	xasprintf(&want, "<string>:4: %s", bad_remaps[_i].message);
	read_fails(text, want);
	remap_unchanged();
	free(text);
	free(want);
}
END_TEST

START_TEST(test_remap_bad_regex)
{
	char	*text, *want, *rx;

	read_ok("remap = ( { match = \"^old\"; replace = \"new\"; } );");
	text = remap_text(bad_regexes[_i].group);
	rx = regex_error(bad_regexes[_i].regex);
	xasprintf(&want, "<string>:4: remap[2]: %s", rx);
	read_fails(text, want);
	remap_unchanged();
	free(rx);
	free(text);
	free(want);
}
END_TEST

START_TEST(test_remap_bad_shape)
{
	char	*rx, *want;

	read_fails("remap = \"a\";",
	    "<string>:1: remap: expected a list of groups, got a string");
	read_fails("\nremap = [ \"a\" ];",
	    "<string>:2: remap: expected a list of groups, got an array");
	read_fails("remap = { match = \"a\"; replace = \"b\"; };",
	    "<string>:1: remap: expected a list of groups, got a group");
	read_fails("remap = true;",
	    "<string>:1: remap: expected a list of groups, got a boolean");
	/* The group's line even when the member is further down. */
	read_fails("remap = (\n{\n  match = \"a\";\n\n  replace = 7;\n} );",
	    "<string>:2: remap[1]: replace: expected a string, got an "
	    "integer");
	rx = regex_error("[");
	xasprintf(&want, "<string>:2: remap[3]: %s", rx);
	read_fails("remap = ( { match = \"a\"; replace = \"b\"; },\n"
	    "{ match = \"b\"; replace = \"c\"; }, { match = \"[\"; "
	    "action = \"deny\"; } );", want);
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 0);
	free(rx);
	free(want);
}
END_TEST

START_TEST(test_remap_file_error)
{
	char	*path, *inc, *want, *text;

	path = tmp_file("remap.conf", "# rules\nremap = (\n"
	    "  { match = \"a\"; replace = \"b\"; },\n\n"
	    "  { match = \"a\"; op = \"read\"; }\n);\n");
	ck_assert_int_eq(conf_read_file(conf, path, 1, &cause), -1);
	xasprintf(&want, "%s:5: remap[2]: replace is missing (action "
	    "\"rewrite\" needs it)", path);
	ck_assert_str_eq(cause, want);
	ck_assert_ptr_null(conf->path);
	free(want);
	free(path);
	free(cause);
	cause = NULL;

	/* A rule in an @include'd file is reported there. */
	inc = tmp_file("inc.conf", "remap = (\n\n  { match = \")\"; "
	    "action = \"deny\"; foo = \"x\"; }\n);\n");
	xasprintf(&text, "retries = 3;\n@include \"%s\"\n", inc);
	xasprintf(&want, "%s:3: remap[1]: unknown member \"foo\" (expected "
	    "match, replace, op, action, icase, last or global)", inc);
	read_fails(text, want);
	ck_assert_uint_eq(conf->xfer.retries, 5);
	free(text);
	free(want);
	free(inc);
}
END_TEST

START_TEST(test_remap_builtins)
{
	read_ok("remap_lowercase = true; remap_strip_nonprint = true;");
	ck_assert_int_eq(conf->remap_lowercase, 1);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "BOOT\\X64.EFI\x01", NULL),
	    "boot/x64.efi");

	read_ok("remap_backslash = false; remap_strip_nonprint = false;");
	ck_assert_int_eq(conf->remap_backslash, 0);
	ck_assert_int_eq(conf->remap_strip_nonprint, 0);
	ck_assert_int_eq(conf->remap_lowercase, 1);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "BOOT\\X64.EFI\x01", NULL),
	    "boot\\x64.efi\x01");

	/* New rules get the switches, wherever they are in the file. */
	read_ok("remap_lowercase = false;\n"
	    "remap = ( { match = \"^b\"; replace = \"c\"; } );\n"
	    "remap_backslash = true;\n");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "b\\B\r", NULL), "c/B\r");

	/* From the command line too. */
	set_ok("remap_lowercase", "yes");
	set_ok("remap_strip_nonprint", "on");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "b\\B\r", NULL), "c/b");
	set_ok("remap_backslash", "0");
	ck_assert_str_eq(mapped(REMAP_OP_READ, "b\\B\r", NULL), "c\\b");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_str_eq(mapped(REMAP_OP_READ, "b\\B\r", NULL), "c\\b");
	ck_assert_uint_eq(remap_count(conf->xfer.remap), 1);

	read_fails("remap_lowercase = \"yes\";", "<string>:1: remap_lowercase: "
	    "expected a boolean (true or false), got a string");
	set_fails("remap_backslash", "maybe", "command line: "
	    "--remap_backslash: \"maybe\" is not one of true, false, yes, no, "
	    "on, off, 1, 0");
	ck_assert_int_eq(conf->remap_lowercase, 1);
	ck_assert_int_eq(conf->remap_backslash, 0);
}
END_TEST

/* Every rule file-loaded, dumped, re-read: the same dump, the same rules. */
START_TEST(test_policy_round_trip)
{
	static const char *const names[] = {
		"pxelinux.cfg/default", "/pxelinux.cfg/01-aa", "a/../b",
		"xXx", "Q\"q", "tab\there", "back\\slash", "UPPER",
		"end\r\n",
	};
	struct conf	*again, *saved;
	char		*first, *second, want[REMAP_NAME_MAX];
	size_t		 i;
	unsigned	 op;

	read_ok("read_acl = [ \"allow 10.0.0.0/8\", \"deny  ::/0\", "
	    "\"Allow ALL\" ];\n"
	    "write_acl = \"deny all\";\n"
	    "remap_lowercase = true; remap_backslash = false;\n");
	read_ok(pxe_rules);
	read_ok("remap = (\n"
	    "  { match = \"^/?pxelinux\\\\.cfg/(.*)\"; "
	    "replace = \"pxe/cfg/\\\\1\"; op = \"read\"; },\n"
	    "  { match = \"\\\\.\\\\.\"; action = \"deny\"; op = \"write\"; },\n"
	    "  { match = \"\\\"|\\t\"; replace = \"_\\\\\\\\\\\"\\\\0\"; "
	    "global = true; },\n"
	    "  { match = \"^(.*)$\"; replace = \"clients/\\\\i/\\\\1\"; "
	    "op = \"write\"; last = true; icase = true; }\n"
	    ");\n");
	first = dump(conf);
	ck_assert_ptr_nonnull(strstr(first, "read_acl = [ \"allow 10.0.0.0/8\", "
	    "\"deny  ::/0\", \"Allow ALL\" ];\n"));
	ck_assert_ptr_nonnull(strstr(first, "write_acl = [ \"deny all\" ];\n"));
	ck_assert_ptr_nonnull(strstr(first, "remap = (\n"
	    "  { match = \"^/?pxelinux\\\\.cfg/(.*)\"; replace = "
	    "\"pxe/cfg/\\\\1\"; op = \"read\"; action = \"rewrite\"; "
	    "icase = false; last = false; global = false; },\n"
	    "  { match = \"\\\\.\\\\.\"; op = \"write\"; action = \"deny\"; "
	    "icase = false; last = false; global = false; },\n"
	    "  { match = \"\\\"|\\x09\"; replace = \"_\\\\\\\\\\\"\\\\0\"; "
	    "op = \"both\"; action = \"rewrite\"; icase = false; "
	    "last = false; global = true; },\n"
	    "  { match = \"^(.*)$\"; replace = \"clients/\\\\i/\\\\1\"; "
	    "op = \"write\"; action = \"rewrite\"; icase = true; last = true; "
	    "global = false; }\n"
	    ");\n"));
	ck_assert_ptr_nonnull(strstr(first, "remap_backslash = false;\n"
	    "remap_lowercase = true;\n"));

	again = conf_new();
	if (conf_read_string(again, first, &cause) != 0)
		ck_abort_msg("dump does not parse: %s", cause);
	second = dump(again);
	ck_assert_str_eq(second, first);

	/* The re-read lists and rules behave the same. */
	ck_assert_uint_eq(acl_count(again->xfer.read_acl), 3);
	ck_assert_uint_eq(acl_count(again->xfer.write_acl), 1);
	ck_assert_uint_eq(remap_count(again->xfer.remap), 4);
	ck_assert_int_eq(allows(again->xfer.read_acl, "10.2.3.4"), 1);
	ck_assert_int_eq(allows(again->xfer.read_acl, "2001:db8::1"), 0);
	ck_assert_int_eq(allows(again->xfer.read_acl, "192.0.2.1"), 1);
	ck_assert_int_eq(allows(again->xfer.write_acl, "10.2.3.4"), 0);
	for (op = REMAP_OP_READ; op <= REMAP_OP_WRITE; op <<= 1) {
		for (i = 0; i < nitems(names); i++) {
			(void)snprintf(want, sizeof want, "%s",
			    mapped(op, names[i], "192.0.2.7"));
			saved = conf;
			conf = again;
			ck_assert_str_eq(mapped(op, names[i], "192.0.2.7"),
			    want);
			conf = saved;
		}
	}
	ck_assert_str_eq(mapped(REMAP_OP_READ, "A\"B\tc", NULL),
	    "a_\\\"\"b_\\\"\tc");
	ck_assert_str_eq(mapped(REMAP_OP_WRITE, "Log.TXT", "192.0.2.7"),
	    "clients/192.0.2.7/log.txt");
	conf_free(again);
	free(first);
	free(second);
}
END_TEST

/* the multicast = { } group */

START_TEST(test_multicast_group)
{
	char	addr[INET6_ADDRSTRLEN];

	read_ok("workers = 2;\nmulticast = { enable = true; address_range = "
	    "\"239.1.2.3-239.1.2.10\";\n  address_range6 = "
	    "\"ff15::9:1-ff15::9:20\"; port = 1759; ttl = 4;\n"
	    "  interface = \"br0\"; };\n");
	ck_assert_int_eq(conf->mcast_enable, 1);
	ck_assert_int_eq(conf->mcast_port, 1759);
	ck_assert_int_eq(conf->mcast_ttl, 4);
	ck_assert_str_eq(conf->mcast_interface, "br0");
	ck_assert_int_eq(conf_finish(conf, &cause), 0);
	ck_assert_uint_eq(conf->mcast_range.first, 0xef010203u);
	ck_assert_uint_eq(conf->mcast_range.last, 0xef01020au);
	ck_assert_uint_eq(conf->mcast_range6.count, 32);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &conf->mcast_range6.first,
	    addr, sizeof addr));
	ck_assert_str_eq(addr, "ff15::9:1");

	read_fails("multicast = 1;", "<string>:1: multicast: expected a "
	    "group { ... }");
	read_fails("\nmulticast = { enabled = true; };",
	    "<string>:2: multicast.enabled: unknown key");
	read_fails("multicast = { address_range = \"10.0.0.1\"; };",
	    "<string>:1: multicast.address_range: \"10.0.0.1\" not a "
	    "multicast address (224.0.0.0/4)");
	read_fails("multicast = { address_range = \"224.0.0.5\"; };",
	    "<string>:1: multicast.address_range: \"224.0.0.5\" is in "
	    "224.0.0.0/24, kept for local network control");
	read_fails("multicast = { address_range = \"239.0.0.9-239.0.0.1\"; };",
	    "<string>:1: multicast.address_range: \"239.0.0.9-239.0.0.1\" "
	    "the first address is above the last");
	read_fails("multicast = { address_range6 = \"ff15::1-ff16::1\"; };",
	    "<string>:1: multicast.address_range6: \"ff15::1-ff16::1\" "
	    "the addresses differ beyond their last 32 bits");
	read_fails("multicast = { address_range6 = \"ff15::1-ff15::1:1\"; };",
	    "<string>:1: multicast.address_range6: \"ff15::1-ff15::1:1\" "
	    "is more than 65536 addresses");
	/* A failed file changed nothing. */
	ck_assert_int_eq(conf->mcast_port, 1759);

	/* Every worker needs a group of each configured family. */
	read_ok("workers = 4;\nmulticast = { address_range = "
	    "\"239.1.2.3-239.1.2.5\"; address_range6 = \"\"; };");
	ck_assert_int_eq(conf_finish(conf, &cause), -1);
	ck_assert_str_eq(cause, "command line: multicast.address_range: 3 "
	    "addresses for 4 workers (each worker needs one)");
	free(cause);
	cause = NULL;
}
END_TEST

/* the command line */

/*
 * owltftpd's --FLAG options are the schema's flag column: each sets the
 * key of its name (dashes for underscores), has an argument and help,
 * and owltftpd(8) lists it in its synopsis.
 */
START_TEST(test_options_from_schema)
{
	static const char *const flags[] = {
		"root", "listen", "port", "workers", "user", "group",
		"uploads", "blksize-max", "windowsize-max",
	};
	struct conf_option	 opts[nitems(flags) + 1];
	char			*path, *man, *want, key[64], *p;
	size_t			 i, n;

	n = conf_options(opts, nitems(opts));
	ck_assert_uint_eq(n, nitems(flags));
	ck_assert_uint_eq(conf_options(NULL, 0), n);
	path = source_path("man/owltftpd.8.in");
	man = slurp(path);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(opts[i].flag, flags[i]);
		(void)snprintf(key, sizeof key, "%s", opts[i].flag);
		for (p = key; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		ck_assert_str_eq(opts[i].key, key);
		ck_assert_ptr_nonnull(opts[i].arg);
		ck_assert_ptr_nonnull(opts[i].help);
		set_ok(opts[i].key, strcmp(opts[i].key, "uploads") == 0 ?
		    "create" : strcmp(opts[i].key, "listen") == 0 ?
		    "127.0.0.1" : "7");
		xasprintf(&want, "\n.Op Fl \\-%s ", opts[i].flag);
		ck_assert_msg(strstr(man, want) != NULL, "%s has no %s", path,
		    want + 1);
		free(want);
	}
	free(man);
	free(path);
}
END_TEST


/* origins */

START_TEST(test_origins_read)
{
	const struct origin_rule	*r;
	const char			*rest;
	char				*text;

	read_ok("origins = (\n"
	    "  { prefix = \"/\"; url = \"http://127.0.0.1:8080/tftp\"; },\n"
	    "  { prefix = \"/pxelinux.cfg/\"; url = \"http://o/cfg/\";\n"
	    "    dynamic = true; ttl = 0; }\n"
	    ");\ncache_ttl = 5;\norigin_timeout_ms = 1500;");
	ck_assert_uint_eq(conf->xfer.origins.n, 2);
	ck_assert_str_eq(conf->xfer.origins.r[0].prefix, "");
	ck_assert_str_eq(conf->xfer.origins.r[0].url,
	    "http://127.0.0.1:8080/tftp/");
	ck_assert_int_eq(conf->xfer.origins.r[0].ttl, ORIGIN_TTL_DEFAULT);
	ck_assert_uint_eq(conf->xfer.origins.r[0].max_bytes, 0);
	ck_assert_str_eq(conf->xfer.origins.r[1].prefix, "pxelinux.cfg");
	ck_assert_int_eq(conf->xfer.origins.r[1].dynamic, 1);
	ck_assert_uint_eq(conf->xfer.origins.r[1].max_bytes,
	    ORIGIN_DYNAMIC_MAX_BYTES);
	ck_assert_int_eq(conf->cache_ttl, 5);
	ck_assert_uint_eq(conf->xfer.origin_timeout_ms, 1500);
	/* The longest prefix, on whole components. */
	r = origin_match(&conf->xfer.origins, "pxelinux.cfg/01-aa", &rest);
	ck_assert_ptr_eq(r, &conf->xfer.origins.r[1]);
	ck_assert_str_eq(rest, "01-aa");
	r = origin_match(&conf->xfer.origins, "pxelinux.cfgx", &rest);
	ck_assert_ptr_eq(r, &conf->xfer.origins.r[0]);
	ck_assert_str_eq(rest, "pxelinux.cfgx");
	ck_assert_str_eq(conf->xfer.origins.r[1].ca_file, "");
	ck_assert_int_eq(conf->xfer.origins.r[1].tls_verify, 1);
	text = dump(conf);
	ck_assert_ptr_nonnull(strstr(text, "  { prefix = \"pxelinux.cfg\"; "
	    "url = \"http://o/cfg/\"; dynamic = true; ttl = 0; "
	    "max_bytes = 1048576; ca_file = \"\"; tls_verify = true; }\n"));
	free(text);
	/* Per client: fetched every time unless a ttl says otherwise. */
	read_ok("origins = ( { prefix = \"d\"; url = \"http://o/\"; "
	    "dynamic = true; } );");
	ck_assert_int_eq(conf->xfer.origins.r[0].ttl, 0);
}
END_TEST

#ifdef HAVE_TLS
START_TEST(test_origins_https)
{
	char	*text;

	read_ok("origins = (\n"
	    "  { prefix = \"/\"; url = \"https://boot.example/tftp\";\n"
	    "    ca_file = \"/etc/owltftpd/ca.pem\"; },\n"
	    "  { prefix = \"lab\"; url = \"https://127.0.0.1:8443/\";\n"
	    "    tls_verify = false; }\n"
	    ");");
	ck_assert_uint_eq(conf->xfer.origins.n, 2);
	ck_assert_str_eq(conf->xfer.origins.r[0].url,
	    "https://boot.example/tftp/");
	ck_assert_str_eq(conf->xfer.origins.r[0].ca_file,
	    "/etc/owltftpd/ca.pem");
	ck_assert_int_eq(conf->xfer.origins.r[0].tls_verify, 1);
	ck_assert_str_eq(conf->xfer.origins.r[1].ca_file, "");
	ck_assert_int_eq(conf->xfer.origins.r[1].tls_verify, 0);
	text = dump(conf);
	ck_assert_ptr_nonnull(strstr(text, "  { prefix = \"\"; "
	    "url = \"https://boot.example/tftp/\"; dynamic = false; "
	    "ttl = -1; max_bytes = 0; ca_file = \"/etc/owltftpd/ca.pem\"; "
	    "tls_verify = true; },\n"));
	ck_assert_ptr_nonnull(strstr(text, "  { prefix = \"lab\"; "
	    "url = \"https://127.0.0.1:8443/\"; dynamic = false; "
	    "ttl = -1; max_bytes = 0; ca_file = \"\"; "
	    "tls_verify = false; }\n"));
	free(text);
}
END_TEST
#endif

START_TEST(test_origins_refused)
{
	read_fails("origins = \"x\";",
	    "<string>:1: origins: expected a list of groups, got a string");
	read_fails("origins = (\n{ url = \"http://a/\"; } );",
	    "<string>:2: origins[1]: prefix is missing");
	read_fails("origins = ( { prefix = \"/\"; } );",
	    "<string>:1: origins[1]: url is missing");
	read_fails("origins = ( { prefix = \"a/../b\"; url = \"http://a/\"; "
	    "} );", "<string>:1: origins[1]: prefix: \"a/../b\" has an "
	    "empty, \".\" or \"..\" component");
#ifdef HAVE_TLS
	read_fails("origins = ( { prefix = \"/\"; url = \"ftp://a/\"; } );",
	    "<string>:1: origins[1]: url: \"ftp://a/\" is not an http:// or "
	    "https:// URL");
	read_fails("origins = ( { prefix = \"/\"; url = \"https:///x\"; } );",
	    "<string>:1: origins[1]: url: \"https:///x\" has no host");
#else
	read_fails("origins = ( { prefix = \"/\"; url = \"ftp://a/\"; } );",
	    "<string>:1: origins[1]: url: \"ftp://a/\" is not an http:// "
	    "URL");
	read_fails("origins = ( { prefix = \"/\"; url = \"https://a/\"; } );",
	    "<string>:1: origins[1]: url: \"https://a/\" https origins are "
	    "not supported by this build (use http://, or a local "
	    "TLS-terminating proxy)");
#endif
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\";\n"
	    "ca_file = \"ca.pem\"; } );", "<string>:1: origins[1]: ca_file: "
	    "\"ca.pem\" is not an absolute path");
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\"; "
	    "ca_file = 1; } );", "<string>:1: origins[1]: ca_file: expected "
	    "a string, got an integer");
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\"; "
	    "tls_verify = \"no\"; } );", "<string>:1: origins[1]: "
	    "tls_verify: expected a boolean (true or false), got a string");
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\"; }, "
	    "{ prefix = \"\"; url = \"http://b/\"; } );",
	    "<string>:1: origins[2]: prefix \"\" is already origins[1]'s");
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\"; "
	    "ttl = -2; } );", "<string>:1: origins[1]: ttl: -2 is outside "
	    "-1 (cache_ttl) to 31536000 s");
	read_fails("origins = ( { prefix = \"/\"; url = \"http://a/\"; "
	    "colour = 1; } );", "<string>:1: origins[1]: unknown member "
	    "\"colour\" (expected prefix, url, dynamic, ttl, max_bytes, "
	    "ca_file or tls_verify)");
	ck_assert_uint_eq(conf->xfer.origins.n, 0);
	ck_assert_int_eq(origin_path_ok("a/b.c"), 0);
	ck_assert_int_eq(origin_path_ok("a//b"), -1);
	ck_assert_int_eq(origin_path_ok("a/../b"), -1);
	ck_assert_int_eq(origin_path_ok(""), -1);
	ck_assert_int_eq(origin_path_ok("a\nurl\tx"), -1);
}
END_TEST

/* the sample file */

START_TEST(test_sample_parses)
{
	char	*path = sample_path(), *text;

	if (conf_read_file(conf, path, 1, &cause) != 0)
		ck_abort_msg("%s", cause);
	ck_assert_str_eq(conf->path, path);
	/* Everything in it is commented out: the defaults stand. */
	text = dump(conf);
	ck_assert_str_eq(text, default_dump);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_sample_mentions_every_key)
{
	char	*path = sample_path(), *text, *want;
	size_t	 i;

	text = slurp(path);
	for (i = 0; i < nitems(keys); i++) {
		xasprintf(&want, "\n#%s = ", keys[i]);
		if (strstr(text, want) == NULL)
			ck_abort_msg("%s has no line \"#%s = ...\"", path,
			    keys[i]);
		free(want);
	}
	free(text);
	free(path);
}
END_TEST

/*
 * The sample documents the upstream defaults; make install writes the
 * ones this build was configured with (--with-user, --with-rundir) in
 * their place, and so does this for the lines it uncomments.
 */
static const char *
sample_configured(const char *line)
{
	static const char *const edits[][2] = {
		{ "user = \"nobody\";", "user = \"" OWL_DEFAULT_USER "\";" },
		{ "pid_file = \"/run/owltftpd.pid\";",
		  "pid_file = \"" OWL_DEFAULT_PID_FILE "\";" },
		{ "control_socket = \"/run/owltftpd.sock\";",
		  "control_socket = \"" OWL_DEFAULT_CONTROL_SOCKET "\";" },
	};
	size_t	 i;

	for (i = 0; i < nitems(edits); i++)
		if (strcmp(line, edits[i][0]) == 0)
			return edits[i][1];
	return line;
}

/*
 * Uncomment every "#key = value" line but group's (documented unset):
 * the result must parse and equal the defaults.
 */
START_TEST(test_sample_defaults_are_true)
{
	char	*path = sample_path(), *text, *out, *line, *save = NULL;
	char	*dumped, *want;
	size_t	 i, len, off = 0, n = 0;

	text = slurp(path);
	len = strlen(text);
	out = xmalloc(len + 2 + 1024);	/* room for sample_configured() */
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < nitems(keys); i++) {
			xasprintf(&want, "#%s = ", keys[i]);
			if (strncmp(line, want, strlen(want)) == 0 &&
			    strcmp(keys[i], "group") != 0) {
				line++;
				n++;
			}
			free(want);
		}
		off += (size_t)snprintf(out + off, len + 2 + 1024 - off,
		    "%s\n", sample_configured(line));
	}
	ck_assert_uint_eq(n, nitems(keys) - 1);
	if (conf_read_string(conf, out, &cause) != 0)
		ck_abort_msg("uncommented sample: %s", cause);
	dumped = dump(conf);
	ck_assert_str_eq(dumped, default_dump);
	free(dumped);
	free(out);
	free(text);
	free(path);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("defaults are the documented ones");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_default_dump);
	tcase_add_test(tc, test_empty_string);
	tcase_add_test(tc, test_uploads_str);
	suite_add_tcase(s, tc);

	tc = tcase_create("file sets every key");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_choices);
	tcase_add_test(tc, test_int64_values);
	tcase_add_test(tc, test_wide_int_without_l);
	tcase_add_test(tc, test_failed_read_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges are enforced at both ends");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_value, 0, (int)nitems(bad_values));
	tcase_add_loop_test(tc, test_edge_value, 0, (int)nitems(edge_values));
	tcase_add_test(tc, test_long_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("wrong types are refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_type, 0, (int)nitems(bad_types));
	suite_add_tcase(s, tc);

	tc = tcase_create("unknown keys and syntax errors name the line");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_syntax_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen accepts numeric addresses only");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_listen_forms);
	tcase_add_test(tc, test_listen_single_string);
	tcase_add_loop_test(tc, test_listen_bad, 0, (int)nitems(bad_listens));
	tcase_add_test(tc, test_listen_element_line);
	tcase_add_test(tc, test_listen_limits);
	tcase_add_test(tc, test_listen_duplicates);
	suite_add_tcase(s, tc);

	tc = tcase_create("finish resolves listen, port and workers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_finish_defaults);
	tcase_add_test(tc, test_finish_port_zero);
	tcase_add_test(tc, test_finish_workers);
	tcase_add_test(tc, test_finish_workers_explicit);
	tcase_add_test(tc, test_finish_worker_share);
	tcase_add_test(tc, test_typed_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("command line overrides validate like the file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_every_key);
	tcase_add_test(tc, test_set_bools);
	tcase_add_test(tc, test_set_errors);
	tcase_add_test(tc, test_set_listen_replaces_then_appends);
	tcase_add_test(tc, test_set_listen_limit);
	tcase_add_test(tc, test_set_listen_without_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("files are read, optional or required");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_file_read);
	tcase_add_test(tc, test_file_empty);
	tcase_add_test(tc, test_file_missing);
	tcase_add_test(tc, test_file_directory);
	tcase_add_test(tc, test_file_errors_name_the_file);
	tcase_add_test(tc, test_file_include);
	tcase_add_test(tc, test_remap_file);
	tcase_add_test(tc, test_remap_file_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("dump prints every key re-readably");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dump_names_every_key);
	tcase_add_test(tc, test_dump_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("access lists are read, checked and work");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_acl_defaults);
	tcase_add_test(tc, test_acl_list);
	tcase_add_test(tc, test_acl_string_and_replace);
	tcase_add_loop_test(tc, test_acl_bad, 0, (int)nitems(bad_acls));
	tcase_add_test(tc, test_acl_bad_keeps_old);
	tcase_add_test(tc, test_acl_file_error);
	tcase_add_test(tc, test_policy_not_on_command_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("remap rules are read, checked and work");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_remap_defaults);
	tcase_add_test(tc, test_remap_list);
	tcase_add_test(tc, test_remap_replace_and_keep);
	tcase_add_loop_test(tc, test_remap_bad, 0, (int)nitems(bad_remaps));
	tcase_add_loop_test(tc, test_remap_bad_regex, 0,
	    (int)nitems(bad_regexes));
	tcase_add_test(tc, test_remap_bad_shape);
	tcase_add_test(tc, test_remap_file_error);
	tcase_add_test(tc, test_remap_builtins);
	tcase_add_test(tc, test_policy_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("the multicast group");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_multicast_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("origins are read, checked and matched");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_origins_read);
	tcase_add_test(tc, test_origins_refused);
#ifdef HAVE_TLS
	tcase_add_test(tc, test_origins_https);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("command-line options come from the schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_options_from_schema);
	suite_add_tcase(s, tc);

	tc = tcase_create("sample file documents every key at its default");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sample_parses);
	tcase_add_test(tc, test_sample_mentions_every_key);
	tcase_add_test(tc, test_sample_defaults_are_true);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(conf_suite());
}
