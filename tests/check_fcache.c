/* Unit tests for the open-file cache. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_main.h"
#include "fcache.h"
#include "fs.h"

#define S	1000000ULL

static char	 dir[] = "/tmp/check_fcache.XXXXXX";
static int	 rootfd = -1;

static void
put(const char *name, const char *text)
{
	char	 path[256], tmp[256];
	FILE	*fp;

	/* Replace by rename, as an upload does: a new inode. */
	(void)snprintf(path, sizeof path, "%s/%s", dir, name);
	(void)snprintf(tmp, sizeof tmp, "%s/.tmp", dir);
	ck_assert_ptr_nonnull(fp = fopen(tmp, "w"));
	ck_assert_int_ge(fputs(text, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void
read_all(int fd, uint64_t size, char *buf)
{
	ck_assert_int_eq(pread(fd, buf, size, 0), (ssize_t)size);
	buf[size] = '\0';
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ne(rootfd = fs_root_open(dir), -1);
}

static void
teardown(void)
{
	char	 cmd[128];

	(void)close(rootfd);
	(void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

START_TEST(second_open_is_a_hit_on_the_same_fd)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*e1, *e2;
	uint64_t		 size;
	int			 fd1, fd2;

	put("k", "kernel");
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 0, &fd1, &size, &e1),
	    TFTP_E_NONE);
	ck_assert_uint_eq(size, 6);
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 10, &fd2, &size, &e2),
	    TFTP_E_NONE);
	ck_assert_int_eq(fd1, fd2);
	ck_assert_ptr_eq(e1, e2);
	ck_assert_uint_eq(fcache_hits(c), 1);
	ck_assert_uint_eq(fcache_misses(c), 1);
	fcache_release(c, e1);
	fcache_release(c, e2);
	fcache_free(c);
}
END_TEST

START_TEST(a_replaced_file_is_seen_after_the_ttl)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*e1, *e2, *e3;
	char			 buf[64];
	uint64_t		 size;
	int			 fd1, fd2, fd3;

	put("k", "old");
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 0, &fd1, &size, &e1),
	    TFTP_E_NONE);
	put("k", "newer");
	/* Within the TTL the cached file is trusted. */
	ck_assert_int_eq(fcache_open(c, rootfd, "k", S / 2, &fd2, &size,
	    &e2), TFTP_E_NONE);
	read_all(fd2, size, buf);
	ck_assert_str_eq(buf, "old");
	/* After it, the path names another inode: a fresh open. */
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 2 * S, &fd3, &size,
	    &e3), TFTP_E_NONE);
	read_all(fd3, size, buf);
	ck_assert_str_eq(buf, "newer");
	ck_assert_ptr_ne(e3, e1);
	/* The old entry is still readable by the transfers holding it. */
	read_all(fd1, 3, buf);
	ck_assert_str_eq(buf, "old");
	fcache_release(c, e1);
	fcache_release(c, e2);
	fcache_release(c, e3);
	ck_assert_uint_eq(fcache_misses(c), 2);
	fcache_free(c);
}
END_TEST

START_TEST(an_unchanged_file_is_rechecked_and_kept)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*e1, *e2;
	uint64_t		 size;
	int			 fd1, fd2;

	put("k", "same");
	(void)fcache_open(c, rootfd, "k", 0, &fd1, &size, &e1);
	fcache_release(c, e1);
	(void)fcache_open(c, rootfd, "k", 5 * S, &fd2, &size, &e2);
	ck_assert_int_eq(fd1, fd2);
	ck_assert_uint_eq(fcache_hits(c), 1);
	fcache_release(c, e2);
	fcache_free(c);
}
END_TEST

START_TEST(busy_cache_opens_uncached)
{
	struct fcache		*c = fcache_new(1);
	struct fcache_entry	*e1, *e2;
	uint64_t		 size;
	int			 fd1, fd2;

	put("a", "a");
	put("b", "bb");
	(void)fcache_open(c, rootfd, "a", 0, &fd1, &size, &e1);
	ck_assert_ptr_nonnull(e1);
	ck_assert_int_eq(fcache_open(c, rootfd, "b", 0, &fd2, &size, &e2),
	    TFTP_E_NONE);
	ck_assert_ptr_null(e2);		/* the caller owns fd2 */
	ck_assert_uint_eq(size, 2);
	ck_assert_int_eq(close(fd2), 0);
	fcache_release(c, e1);
	/* Idle now: the next miss reuses (and closes) it. */
	(void)fcache_open(c, rootfd, "b", 0, &fd2, &size, &e2);
	ck_assert_ptr_eq(e2, e1);
	ck_assert_int_eq(fcntl(fd1, F_GETFD) == -1 || fd1 == fd2, 1);
	fcache_release(c, e2);
	fcache_free(c);
}
END_TEST

START_TEST(errors_are_not_cached)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*e;
	uint64_t		 size;
	int			 fd;

	ck_assert_int_eq(fcache_open(c, rootfd, "missing", 0, &fd, &size, &e),
	    TFTP_E_NOTFOUND);
	ck_assert_ptr_null(e);
	put("missing", "now here");
	ck_assert_int_eq(fcache_open(c, rootfd, "missing", 1, &fd, &size, &e),
	    TFTP_E_NONE);
	ck_assert_uint_eq(size, 8);
	fcache_release(c, e);
	fcache_free(c);
}
END_TEST

static Suite *
fcache_suite(void)
{
	Suite	*s = suite_create("fcache");
	TCase	*tc = tcase_create("cache serves hot files and notices changes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_open_is_a_hit_on_the_same_fd);
	tcase_add_test(tc, a_replaced_file_is_seen_after_the_ttl);
	tcase_add_test(tc, an_unchanged_file_is_rechecked_and_kept);
	tcase_add_test(tc, busy_cache_opens_uncached);
	tcase_add_test(tc, errors_are_not_cached);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(fcache_suite());
}
