/* Unit tests for the origin cache on disk (ocache.c). */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_main.h"
#include "ocache.h"

static char		 dir[] = "/tmp/check_ocache.XXXXXX";
static struct ocache	*oc;

static void
setup(void)
{
	char	*cause = NULL;

	(void)strcpy(dir + strlen(dir) - 6, "XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	oc = ocache_open(dir, 250, &cause);
	ck_assert_msg(oc != NULL, "ocache_open: %s", cause);
}

static void
teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	ocache_free(oc);
	oc = NULL;
	(void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int
exists(const char *sub, const char *key)
{
	char	 path[PATH_MAX];

	(void)snprintf(path, sizeof path, "%s/%s/%s", dir, sub, key);
	return access(path, F_OK) == 0;
}

/* A download of n bytes of ch, committed as key. */
static struct ocache_entry *
put(const char *key, size_t n, int ch, const char *etag)
{
	struct ofetch_result	 r;
	struct ocache_entry	*e;
	char			 tmp[PATH_MAX], buf[512], *cause = NULL;
	int			 fd;

	ck_assert_uint_le(n, sizeof buf);
	ck_assert_int_ge(fd = ocache_tmp(oc, tmp), 0);
	memset(buf, ch, n);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
	memset(&r, 0, sizeof r);
	r.bytes = n;
	(void)snprintf(r.etag, sizeof r.etag, "%s", etag);
	e = ocache_commit(oc, tmp, key, key + 17, "http://o/x", &r, &cause);
	ck_assert_msg(e != NULL, "commit %s: %s", key, cause);
	ck_assert_int_eq(access(tmp, F_OK), -1);	/* renamed */
	return e;
}

START_TEST(commit_stores_file_and_meta)
{
	struct ocache_counters	 n;
	struct stat		 st;
	char			 path[PATH_MAX];

	put("0123456789abcdef/boot/vmlinuz", 100, 'a', "\"v1\"");
	(void)snprintf(path, sizeof path, "%s/data/0123456789abcdef/boot/"
	    "vmlinuz", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 100);
	ck_assert_int_eq(st.st_mode & 0777, 0644);	/* workers read it */
	ck_assert(exists("meta", "0123456789abcdef/boot/vmlinuz"));
	ocache_counters(oc, &n);
	ck_assert_uint_eq(n.files, 1);
	ck_assert_uint_eq(n.bytes, 100);
	/* Replacing it keeps one entry of the new size. */
	put("0123456789abcdef/boot/vmlinuz", 120, 'b', "\"v2\"");
	ocache_counters(oc, &n);
	ck_assert_uint_eq(n.files, 1);
	ck_assert_uint_eq(n.bytes, 120);
	ck_assert_str_eq(ocache_get(oc, "0123456789abcdef/boot/vmlinuz")->etag,
	    "\"v2\"");
}
END_TEST

START_TEST(evicts_least_recently_used)
{
	struct ocache_counters	 n;

	put("0123456789abcdef/a", 100, 'a', "");
	put("0123456789abcdef/b", 100, 'b', "");
	ck_assert_ptr_nonnull(ocache_get(oc, "0123456789abcdef/a"));	/* used */
	put("0123456789abcdef/c", 100, 'c', "");	/* 300 > 250 */
	ck_assert(exists("data", "0123456789abcdef/a"));
	ck_assert(!exists("data", "0123456789abcdef/b"));
	ck_assert(!exists("meta", "0123456789abcdef/b"));
	ck_assert(exists("data", "0123456789abcdef/c"));
	ocache_counters(oc, &n);
	ck_assert_uint_eq(n.evictions, 1);
	ck_assert_uint_eq(n.bytes, 200);
}
END_TEST

START_TEST(never_evicts_a_file_in_use)
{
	struct ocache_entry	*e;
	char			 path[PATH_MAX];
	int			 fd;

	put("0123456789abcdef/a", 100, 'a', "");
	put("0123456789abcdef/b", 100, 'b', "");
	/* A transfer reads a, the least recently used: b goes instead. */
	(void)snprintf(path, sizeof path, "%s/data/0123456789abcdef/a", dir);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_eq(flock(fd, LOCK_SH), 0);
	put("0123456789abcdef/c", 100, 'c', "");
	ck_assert(exists("data", "0123456789abcdef/a"));
	ck_assert(!exists("data", "0123456789abcdef/b"));
	/* Every other file busy too: over the size for now, nothing lost. */
	ck_assert_ptr_nonnull(e = ocache_get(oc, "0123456789abcdef/c"));
	e->busy = 1;
	put("0123456789abcdef/d", 100, 'd', "");
	ck_assert(exists("data", "0123456789abcdef/a"));
	ck_assert(exists("data", "0123456789abcdef/c"));
	ck_assert(exists("data", "0123456789abcdef/d"));
	/* Released: the next commit takes it. */
	ck_assert_int_eq(close(fd), 0);
	put("0123456789abcdef/e", 10, 'e', "");
	ck_assert(!exists("data", "0123456789abcdef/a"));
}
END_TEST

START_TEST(index_survives_a_restart)
{
	struct ocache_entry	*e;
	struct ocache_counters	 n;
	char			*cause = NULL, path[PATH_MAX];
	FILE			*fp;

	put("0123456789abcdef/x/kept", 50, 'k', "\"etag-1\"");
	put("0123456789abcdef/lost-meta", 50, 'l', "");
	put("0123456789abcdef/lost-data", 50, 'm', "");
	ocache_free(oc);
	/* What a crash may leave: a download, a file without its meta, a
	 * meta without its file. */
	(void)snprintf(path, sizeof path, "%s/tmp/get.half", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fclose(fp), 0);
	(void)snprintf(path, sizeof path, "%s/meta/0123456789abcdef/lost-meta",
	    dir);
	ck_assert_int_eq(unlink(path), 0);
	(void)snprintf(path, sizeof path, "%s/data/0123456789abcdef/lost-data",
	    dir);
	ck_assert_int_eq(unlink(path), 0);
	oc = ocache_open(dir, 250, &cause);
	ck_assert_msg(oc != NULL, "reopen: %s", cause);
	ck_assert_ptr_nonnull(e = ocache_get(oc, "0123456789abcdef/x/kept"));
	ck_assert_str_eq(e->etag, "\"etag-1\"");
	ck_assert_str_eq(e->name, "x/kept");
	ck_assert_str_eq(e->url, "http://o/x");
	ck_assert_uint_eq(e->size, 50);
	ck_assert_ptr_null(ocache_get(oc, "0123456789abcdef/lost-meta"));
	ck_assert_ptr_null(ocache_get(oc, "0123456789abcdef/lost-data"));
	ck_assert(!exists("data", "0123456789abcdef/lost-meta"));
	ck_assert(!exists("meta", "0123456789abcdef/lost-data"));
	ck_assert(!exists("tmp", "get.half"));
	ocache_counters(oc, &n);
	ck_assert_uint_eq(n.files, 1);
	ck_assert_uint_eq(n.bytes, 50);
}
END_TEST

START_TEST(purge_by_name)
{
	put("0123456789abcdef/p", 10, 'p', "");
	put("fedcba9876543210/p", 10, 'p', "");	/* another origin */
	put("0123456789abcdef/q", 10, 'q', "");
	ck_assert_uint_eq(ocache_purge(oc, "p"), 2);
	ck_assert(!exists("data", "0123456789abcdef/p"));
	ck_assert(!exists("data", "fedcba9876543210/p"));
	ck_assert(exists("data", "0123456789abcdef/q"));
	ck_assert_uint_eq(ocache_purge(oc, "p"), 0);
}
END_TEST

static Suite *
ocache_suite(void)
{
	Suite	*s = suite_create("ocache");
	TCase	*tc = tcase_create("the origin cache on disk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, commit_stores_file_and_meta);
	tcase_add_test(tc, evicts_least_recently_used);
	tcase_add_test(tc, never_evicts_a_file_in_use);
	tcase_add_test(tc, index_survives_a_restart);
	tcase_add_test(tc, purge_by_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(ocache_suite());
}
