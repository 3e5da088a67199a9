/*
 * Unit tests for tmpclean.c: the sweep removes the temporary upload
 * files of dead workers and nothing else.
 *
 * Every test gets a fresh tree from the fixture (D and E are pids of
 * children that have exited and been reaped, L is our own, alive):
 *
 *	base/outside/.owltftpd.D.Outsd1		outside the root
 *	base/root/				the root:
 *	    .owltftpd.D.AAAAAA			removed for D and at startup
 *	    sub/deeper/.owltftpd.D.BBBBBB	removed for D and at startup
 *	    .owltftpd.E.DDDDDD			removed at startup only
 *	    .owltftpd.L.CCCCCC			never: L is alive
 *	    .owltftpd-notmine, x.owltftpd.D.EEEEEE, .owltftpd.abc123,
 *	    .owltftpd.D.short, sub/.owltftpd.D.AAAAAA~
 *						never: not the pattern
 *	    .owltftpd.D.LINK01 -> ../outside/.owltftpd.D.Outsd1
 *	    .owltftpd.D.ABS001 -> <base>/outside/.owltftpd.D.Outsd1
 *						never: symlinks
 *	    dirlink -> ../outside		never followed
 *	    .owltftpd.D.DIR000/			never: a directory
 *	    .owltftpd.D.FIFO00			never: a FIFO
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_main.h"
#include "fs.h"
#include "tmpclean.h"

static char	 base[PATH_MAX];
static char	 rootdir[PATH_MAX];
static pid_t	 dead1, dead2;

/* base/fmt... into buf. */
static void
mkpath(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
mkpath(char *buf, size_t size, const char *fmt, ...)
{
	char	 rel[PATH_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof rel);
	n = snprintf(buf, size, "%s/%s", base, rel);
	ck_assert(n > 0 && (size_t)n < size);
}

#define PATHF(buf, ...)	mkpath(buf, sizeof(buf), __VA_ARGS__)

static void
put_file(const char *path)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, "partial", 7), 7);
	ck_assert_int_eq(close(fd), 0);
}

static int
exists(const char *path)
{
	struct stat	 st;

	return (lstat(path, &st) == 0);
}

/* A pid that was ours and is gone: a reaped child's. */
static pid_t
dead_pid(void)
{
	pid_t	 pid;
	int	 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(kill(pid, 0) == -1 && errno == ESRCH);
	return (pid);
}

static int
next_fd(void)
{
	int	 fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(close(fd), 0);
	return (fd);
}

static void
setup(void)
{
	const char	*tmpdir;
	char		 p[PATH_MAX], t[PATH_MAX];
	pid_t		 d, l;

	tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	ck_assert_int_lt(snprintf(base, sizeof base, "%s/check_tmpclean."
	    "XXXXXX", tmpdir), (int)sizeof base);
	ck_assert_ptr_nonnull(mkdtemp(base));
	PATHF(rootdir, "root");
	dead1 = d = dead_pid();
	do
		dead2 = dead_pid();
	while (dead2 == dead1);
	l = getpid();

	PATHF(p, "outside");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	PATHF(p, "outside/.owltftpd.%ld.Outsd1", (long)d);
	put_file(p);
	ck_assert_int_eq(mkdir(rootdir, 0755), 0);
	PATHF(p, "root/sub");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	PATHF(p, "root/sub/deeper");
	ck_assert_int_eq(mkdir(p, 0755), 0);

	PATHF(p, "root/.owltftpd.%ld.AAAAAA", (long)d);
	put_file(p);
	PATHF(p, "root/sub/deeper/.owltftpd.%ld.BBBBBB", (long)d);
	put_file(p);
	PATHF(p, "root/.owltftpd.%ld.DDDDDD", (long)dead2);
	put_file(p);
	PATHF(p, "root/.owltftpd.%ld.CCCCCC", (long)l);
	put_file(p);
	PATHF(p, "root/.owltftpd-notmine");
	put_file(p);
	PATHF(p, "root/x.owltftpd.%ld.EEEEEE", (long)d);
	put_file(p);
	PATHF(p, "root/.owltftpd.abc123");
	put_file(p);
	PATHF(p, "root/.owltftpd.%ld.short", (long)d);
	put_file(p);
	PATHF(p, "root/sub/.owltftpd.%ld.AAAAAA~", (long)d);
	put_file(p);
	PATHF(p, "root/.owltftpd.%ld.LINK01", (long)d);
	(void)snprintf(t, sizeof t, "../outside/.owltftpd.%ld.Outsd1",
	    (long)d);
	ck_assert_int_eq(symlink(t, p), 0);
	PATHF(p, "root/.owltftpd.%ld.ABS001", (long)d);
	PATHF(t, "outside/.owltftpd.%ld.Outsd1", (long)d);
	ck_assert_int_eq(symlink(t, p), 0);
	PATHF(p, "root/dirlink");
	ck_assert_int_eq(symlink("../outside", p), 0);
	PATHF(p, "root/.owltftpd.%ld.DIR000", (long)d);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	PATHF(p, "root/.owltftpd.%ld.FIFO00", (long)d);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static void
teardown(void)
{
	if (base[0] != '\0')
		(void)nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	base[0] = '\0';
}

/* What no sweep may touch. */
static void
expect_untouched(void)
{
	char	 p[PATH_MAX];
	pid_t	 d = dead1;

	PATHF(p, "outside/.owltftpd.%ld.Outsd1", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.CCCCCC", (long)getpid());
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd-notmine");
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/x.owltftpd.%ld.EEEEEE", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.abc123");
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.short", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/sub/.owltftpd.%ld.AAAAAA~", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.LINK01", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.ABS001", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/dirlink");
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.DIR000", (long)d);
	ck_assert_msg(exists(p), "%s", p);
	PATHF(p, "root/.owltftpd.%ld.FIFO00", (long)d);
	ck_assert_msg(exists(p), "%s", p);
}

START_TEST(t_dead_worker)
{
	char	 p[PATH_MAX];
	int	 before;

	before = next_fd();
	ck_assert_uint_eq(tmpclean_sweep(rootdir, dead1), 2);
	PATHF(p, "root/.owltftpd.%ld.AAAAAA", (long)dead1);
	ck_assert(!exists(p));
	PATHF(p, "root/sub/deeper/.owltftpd.%ld.BBBBBB", (long)dead1);
	ck_assert(!exists(p));
	/* Another dead pid's file waits for its own sweep. */
	PATHF(p, "root/.owltftpd.%ld.DDDDDD", (long)dead2);
	ck_assert(exists(p));
	expect_untouched();
	ck_assert_int_eq(next_fd(), before);
	/* Nothing left to do the second time. */
	ck_assert_uint_eq(tmpclean_sweep(rootdir, dead1), 0);
	expect_untouched();
}
END_TEST

START_TEST(t_startup)
{
	char	 p[PATH_MAX];
	int	 before;

	before = next_fd();
	ck_assert_uint_eq(tmpclean_sweep(rootdir, 0), 3);
	PATHF(p, "root/.owltftpd.%ld.AAAAAA", (long)dead1);
	ck_assert(!exists(p));
	PATHF(p, "root/sub/deeper/.owltftpd.%ld.BBBBBB", (long)dead1);
	ck_assert(!exists(p));
	PATHF(p, "root/.owltftpd.%ld.DDDDDD", (long)dead2);
	ck_assert(!exists(p));
	expect_untouched();
	ck_assert_int_eq(next_fd(), before);
}
END_TEST

/* A live pid is never swept, even when asked: it was given out again. */
START_TEST(t_live_pid)
{
	char	 p[PATH_MAX];

	ck_assert_uint_eq(tmpclean_sweep(rootdir, getpid()), 0);
	ck_assert_uint_eq(tmpclean_sweep(rootdir, -1), 0);
	PATHF(p, "root/.owltftpd.%ld.AAAAAA", (long)dead1);
	ck_assert(exists(p));
	expect_untouched();
}
END_TEST

/* A zombie (killed with its parent, not yet reaped by init) is dead. */
START_TEST(t_zombie)
{
	char	 p[PATH_MAX];
	pid_t	 z;
	int	 status;

	z = fork();
	ck_assert_int_ne(z, -1);
	if (z == 0)
		_exit(0);
	PATHF(p, "root/sub/.owltftpd.%ld.Zombie", (long)z);
	put_file(p);
	/* Not reaped: wait until it is a zombie, without reaping it. */
	ck_assert_int_eq(waitid(P_PID, (id_t)z, NULL, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(kill(z, 0), 0);
	ck_assert_uint_eq(tmpclean_sweep(rootdir, 0), 4);
	ck_assert(!exists(p));
	expect_untouched();
	ck_assert_int_eq(waitpid(z, &status, 0), z);
}
END_TEST

/* The root may itself be a symlink (as for the workers). */
START_TEST(t_root_link)
{
	char	 p[PATH_MAX];

	PATHF(p, "rootlink");
	ck_assert_int_eq(symlink("root", p), 0);
	ck_assert_uint_eq(tmpclean_sweep(p, dead1), 2);
	expect_untouched();
}
END_TEST

START_TEST(t_no_root)
{
	char	 p[PATH_MAX];

	PATHF(p, "nope");
	ck_assert_uint_eq(tmpclean_sweep(p, dead1), 0);
	PATHF(p, "root/.owltftpd-notmine");	/* not a directory */
	ck_assert_uint_eq(tmpclean_sweep(p, 0), 0);
	expect_untouched();
}
END_TEST

/* Many at once: all removed, however few are logged one by one. */
START_TEST(t_many)
{
	char	 p[PATH_MAX];
	int	 i;

	for (i = 0; i < 3 * TMPCLEAN_LOG_MAX; i++) {
		PATHF(p, "root/sub/.owltftpd.%ld.M%05d", (long)dead1, i);
		put_file(p);
	}
	ck_assert_uint_eq(tmpclean_sweep(rootdir, dead1),
	    3 * TMPCLEAN_LOG_MAX + 2);
	expect_untouched();
}
END_TEST

/* Directories TMPCLEAN_DEPTH_MAX levels below the root are searched. */
START_TEST(t_depth)
{
	char	 p[PATH_MAX], rel[PATH_MAX];
	size_t	 len;
	int	 i;

	len = (size_t)snprintf(rel, sizeof rel, "root");
	for (i = 1; i <= TMPCLEAN_DEPTH_MAX + 1; i++) {
		len += (size_t)snprintf(rel + len, sizeof rel - len, "/d");
		PATHF(p, "%s", rel);
		ck_assert_int_eq(mkdir(p, 0755), 0);
		if (i == TMPCLEAN_DEPTH_MAX || i == TMPCLEAN_DEPTH_MAX + 1) {
			PATHF(p, "%s/.owltftpd.%ld.DEPTH%c", rel, (long)dead1,
			    i == TMPCLEAN_DEPTH_MAX ? 'A' : 'B');
			put_file(p);
		}
	}
	ck_assert_uint_eq(tmpclean_sweep(rootdir, dead1), 3);
	PATHF(p, "%s/.owltftpd.%ld.DEPTHB", rel, (long)dead1);
	ck_assert(exists(p));
	rel[len - 2] = '\0';
	PATHF(p, "%s/.owltftpd.%ld.DEPTHA", rel, (long)dead1);
	ck_assert(!exists(p));
}
END_TEST

static Suite *
tmpclean_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("tmpclean");

	tc = tcase_create("sweep removes dead workers' temporary files only");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_dead_worker);
	tcase_add_test(tc, t_startup);
	tcase_add_test(tc, t_live_pid);
	tcase_add_test(tc, t_zombie);
	tcase_add_test(tc, t_root_link);
	tcase_add_test(tc, t_no_root);
	tcase_add_test(tc, t_many);
	tcase_add_test(tc, t_depth);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return check_run(tmpclean_suite());
}
