/* Unit tests for the open-file cache. */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
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

/* Descriptors this process has open. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/*
 * Leave the process no free descriptor: the soft limit becomes the
 * lowest free number, so the next open fails with EMFILE.  The old
 * limit goes to *saved for full().  Assert only after full(): check
 * itself may need a descriptor to report.
 */
static void
full(struct rlimit *saved)
{
	struct rlimit	 rl;
	int		 fd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, saved), 0);
	ck_assert_int_ne(fd = open("/dev/null", O_RDONLY), -1);
	ck_assert_int_eq(close(fd), 0);
	rl = *saved;
	rl.rlim_cur = (rlim_t)fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void
unfull(const struct rlimit *saved)
{
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, saved), 0);
}

/* Open and release name at now: an idle entry. */
static void
cache_idle(struct fcache *c, const char *name, uint64_t now)
{
	struct fcache_entry	*e;
	uint64_t		 size;
	int			 fd;

	ck_assert_int_eq(fcache_open(c, rootfd, name, now, &fd, &size, &e),
	    TFTP_E_NONE);
	ck_assert_ptr_nonnull(e);
	fcache_release(c, e);
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

START_TEST(a_chmod_is_seen_after_the_ttl_with_permission_check)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*e;
	char			 path[256];
	uint64_t		 size;
	int			 fd;

	fcache_set_world(c, 1);
	put("k", "kernel");
	(void)snprintf(path, sizeof path, "%s/k", dir);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 0, &fd, &size, &e),
	    TFTP_E_NONE);
	fcache_release(c, e);
	/* Same inode, size and mtime: only the mode says it changed. */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 2 * S, &fd, &size, &e),
	    TFTP_E_PERM_READ);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(fcache_open(c, rootfd, "k", 3 * S, &fd, &size, &e),
	    TFTP_E_NONE);
	fcache_release(c, e);
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

START_TEST(size_is_a_quarter_of_the_limit_and_at_most_max)
{
	ck_assert_uint_eq(fcache_size(1048576, 256), 256);
	ck_assert_uint_eq(fcache_size(1024, 256), 256);
	ck_assert_uint_eq(fcache_size(1000, 256), 250);
	ck_assert_uint_eq(fcache_size(128, 256), 32);
	ck_assert_uint_eq(fcache_size(3, 256), 1);
	ck_assert_uint_eq(fcache_size(0, 256), 1);
	ck_assert_uint_eq(fcache_size(UINT64_MAX, 256), 256);	/* infinity */
}
END_TEST

START_TEST(never_more_files_open_than_its_size)
{
	struct fcache	*c = fcache_new(4);
	char		 name[16];
	int		 i, before = count_fds();

	for (i = 0; i < 20; i++) {
		(void)snprintf(name, sizeof name, "f%d", i);
		put(name, name);
		cache_idle(c, name, 0);
		ck_assert_int_le(count_fds(), before + 4);
	}
	ck_assert_int_eq(count_fds(), before + 4);
	fcache_free(c);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(out_of_descriptors_closes_idle_entries_and_retries)
{
	struct fcache		*c = fcache_new(8);
	struct fcache_entry	*e;
	struct rlimit		 saved;
	enum tftp_err		 err;
	char			 buf[16];
	uint64_t		 size;
	int			 fd;

	put("a0", "a0");
	put("a1", "a1");
	put("a2", "a2");
	put("b", "bee");
	cache_idle(c, "a0", 0);
	cache_idle(c, "a1", 0);
	cache_idle(c, "a2", 0);
	full(&saved);
	err = fcache_open(c, rootfd, "b", 0, &fd, &size, &e);
	unfull(&saved);
	ck_assert_int_eq(err, TFTP_E_NONE);
	ck_assert_ptr_nonnull(e);
	read_all(fd, size, buf);
	ck_assert_str_eq(buf, "bee");
	/* The two least recently used went, the newest stayed. */
	ck_assert_uint_eq(fcache_evicted(c), FS_FDS_MAX);
	cache_idle(c, "a2", 0);
	ck_assert_uint_eq(fcache_hits(c), 1);
	cache_idle(c, "a0", 0);
	ck_assert_uint_eq(fcache_hits(c), 1);
	fcache_release(c, e);
	fcache_free(c);
}
END_TEST

START_TEST(busy_entries_are_not_closed_for_room)
{
	struct fcache		*c = fcache_new(2);
	struct fcache_entry	*ea, *eb, *e;
	struct rlimit		 saved;
	enum tftp_err		 err;
	char			 buf[16];
	uint64_t		 size, sa, sb;
	int			 fa, fb, fd;

	put("a", "a");
	put("b", "bb");
	put("c", "ccc");
	(void)fcache_open(c, rootfd, "a", 0, &fa, &sa, &ea);
	(void)fcache_open(c, rootfd, "b", 0, &fb, &sb, &eb);
	full(&saved);
	err = fcache_open(c, rootfd, "c", 0, &fd, &size, &e);
	unfull(&saved);
	ck_assert_int_eq(err, TFTP_E_NOFD);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(fcache_evicted(c), 0);
	read_all(fa, sa, buf);
	ck_assert_str_eq(buf, "a");
	read_all(fb, sb, buf);
	ck_assert_str_eq(buf, "bb");
	fcache_release(c, ea);
	fcache_release(c, eb);
	/* With a descriptor free again, it is served. */
	cache_idle(c, "c", 0);
	fcache_free(c);
}
END_TEST

START_TEST(a_recheck_out_of_descriptors_keeps_its_entry)
{
	struct fcache		*c = fcache_new(4);
	struct fcache_entry	*ek, *e;
	struct rlimit		 saved;
	enum tftp_err		 err;
	uint64_t		 size;
	int			 fk, fd;

	put("k", "kernel");
	put("x", "x");
	(void)fcache_open(c, rootfd, "k", 0, &fk, &size, &ek);
	fcache_release(c, ek);
	cache_idle(c, "x", 0);
	/* Past the TTL the recheck needs a descriptor: k, the least
	 * recently used, must not be the one closed to get it. */
	full(&saved);
	err = fcache_open(c, rootfd, "k", 2 * S, &fd, &size, &e);
	unfull(&saved);
	ck_assert_int_eq(err, TFTP_E_NONE);
	ck_assert_ptr_eq(e, ek);
	ck_assert_int_eq(fd, fk);
	ck_assert_uint_eq(fcache_hits(c), 1);
	ck_assert_uint_eq(fcache_evicted(c), 1);
	fcache_release(c, e);
	fcache_free(c);
}
END_TEST

static Suite *
fcache_suite(void)
{
	Suite	*s = suite_create("fcache");
	TCase	*tc = tcase_create("cache serves hot files and notices changes");
	TCase	*tb = tcase_create("cache is bounded and gives way when out "
		    "of descriptors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_open_is_a_hit_on_the_same_fd);
	tcase_add_test(tc, a_replaced_file_is_seen_after_the_ttl);
	tcase_add_test(tc, an_unchanged_file_is_rechecked_and_kept);
	tcase_add_test(tc, a_chmod_is_seen_after_the_ttl_with_permission_check);
	tcase_add_test(tc, busy_cache_opens_uncached);
	tcase_add_test(tc, errors_are_not_cached);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tb, setup, teardown);
	tcase_add_test(tb, size_is_a_quarter_of_the_limit_and_at_most_max);
	tcase_add_test(tb, never_more_files_open_than_its_size);
	tcase_add_test(tb, out_of_descriptors_closes_idle_entries_and_retries);
	tcase_add_test(tb, busy_entries_are_not_closed_for_room);
	tcase_add_test(tb, a_recheck_out_of_descriptors_keeps_its_entry);
	suite_add_tcase(s, tb);
	return s;
}

int
main(void)
{
	return check_run(fcache_suite());
}
