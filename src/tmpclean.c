/*
 * Temporary upload files of dead workers.  A worker that exits removes
 * its own; one killed outright (SIGKILL, the OOM killer) cannot, so the
 * master removes them once it has reaped the worker, and at startup
 * removes those a crash of the whole server left.
 *
 * Deleting is safe because of the name alone: no client can create a
 * name with the reserved prefix (fs.c), so a regular file whose name
 * fs_tmp_match() accepts was made by owltftpd, and the pid in it says
 * which process.  Files of a live pid are left, so a second server on
 * the same root loses nothing.
 *
 * The master runs as root over a tree that the workers, and perhaps
 * others, can write, so the walk trusts no path: each directory is
 * opened relative to its parent's descriptor with O_NOFOLLOW, so a
 * symlink never leads out of the root; only regular files are unlinked
 * (a symlink named like a temporary file is left alone, and unlinking
 * one would remove the link, never its target); the depth is bounded.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "tmpclean.h"

#define TMPCLEAN_SLOW_MS	1000	/* a longer walk is logged */

struct sweep {
	const char	*root;
	pid_t		 pid;		/* 0: every pid that is not alive */
	size_t		 removed;
	size_t		 failed;
	size_t		 dirs;
	int		 too_deep;
	char		 path[PATH_MAX];	/* relative, for the log */
};

static int	 is_dead(pid_t);
static void	 walk(struct sweep *, int, size_t, int);
static void	 consider(struct sweep *, int, const char *, pid_t, size_t);
static uint64_t	 now_ms(void);

/*
 * No such process, or a zombie: one killed with its parent stays a
 * zombie until a slow init reaps it, and can write nothing more.  When
 * kill says EPERM, or /proc cannot tell, the process counts as alive.
 */
static int
is_dead(pid_t pid)
{
	char	 path[32], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	if (kill(pid, 0) == -1)
		return (errno == ESRCH);
	(void)snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	/* "pid (comm) S ...", and comm may hold ") ". */
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	return (p[1] == ' ' && p[2] == 'Z');
}

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * name, a temporary name of pid, in the directory dfd whose path is
 * s->path[0..plen): unlink it if it is a regular file of a pid we sweep
 * for.
 */
static void
consider(struct sweep *s, int dfd, const char *name, pid_t pid, size_t plen)
{
	char		 rel[PATH_MAX], esc[PATH_MAX];
	struct stat	 st;
	int		 failed;

	if (s->pid > 0 ? pid != s->pid : !is_dead(pid))
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return;
	failed = unlinkat(dfd, name, 0) == -1;
	if (failed && errno == ENOENT)
		return;		/* gone meanwhile */
	(void)snprintf(rel, sizeof rel, "%.*s%s%s", (int)plen, s->path,
	    plen > 0 ? "/" : "", name);
	(void)log_escape(rel, strlen(rel), esc, sizeof esc);
	if (failed) {
		if (s->failed++ < TMPCLEAN_LOG_MAX)
			log_warn("cannot remove stale temporary file %s/%s",
			    s->root, esc);
		return;
	}
	if (s->removed++ < TMPCLEAN_LOG_MAX)
		log_info("removed stale temporary file %s/%s (%lld bytes, "
		    "pid %ld)", s->root, esc, (long long)st.st_size,
		    (long)pid);
}

/*
 * Walk the directory fd (taken over, closed on return) whose path is
 * s->path[0..plen), depth levels below the root.
 */
static void
walk(struct sweep *s, int fd, size_t plen, int depth)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 nlen;
	pid_t		 pid;
	int		 sub;

	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return;
	}
	s->dirs++;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fs_tmp_match(de->d_name, &pid)) {
			consider(s, dirfd(d), de->d_name, pid, plen);
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		nlen = strlen(de->d_name);
		if (depth + 1 > TMPCLEAN_DEPTH_MAX ||
		    plen + 1 + nlen >= sizeof s->path) {
			s->too_deep = 1;
			continue;
		}
		/* O_NOFOLLOW: a symlink (also one raced in) fails, ELOOP. */
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (sub == -1)
			continue;
		if (plen > 0)
			s->path[plen] = '/';
		memcpy(s->path + plen + (plen > 0), de->d_name, nlen + 1);
		walk(s, sub, plen + (plen > 0) + nlen, depth + 1);
		s->path[plen] = '\0';
	}
	(void)closedir(d);
}

size_t
tmpclean_sweep(const char *root, pid_t pid)
{
	struct sweep	 s;
	uint64_t	 t0, ms;
	int		 fd;

	if (pid < 0)
		return (0);
	/* Reaped, so dead, unless the pid was given out again already. */
	if (pid > 0 && !is_dead(pid))
		return (0);
	memset(&s, 0, sizeof s);
	s.root = root;
	s.pid = pid;
	t0 = now_ms();
	/* The root itself may be reached through a symlink, as workers do. */
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			log_debug("temporary files: no root %s", root);
		else
			log_warn("temporary files: root %s", root);
		return (0);
	}
	walk(&s, fd, 0, 0);
	ms = now_ms() - t0;
	if (s.removed > TMPCLEAN_LOG_MAX)
		log_info("removed %zu stale temporary files under %s (%zu not "
		    "listed)", s.removed, root, s.removed - TMPCLEAN_LOG_MAX);
	if (s.failed > TMPCLEAN_LOG_MAX)
		log_warnx("could not remove %zu stale temporary files under %s",
		    s.failed, root);
	if (s.too_deep)
		log_warnx("temporary files more than %d directories below %s "
		    "are not looked for", TMPCLEAN_DEPTH_MAX, root);
	if (ms >= TMPCLEAN_SLOW_MS)
		log_info("looking for stale temporary files under %s took %llu "
		    "ms (%zu directories)", root, (unsigned long long)ms,
		    s.dirs);
	else
		log_debug("looked for stale temporary files of %s under %s: "
		    "%zu directories, %zu removed, %llu ms", pid > 0 ?
		    "one worker" : "dead processes", root, s.dirs, s.removed,
		    (unsigned long long)ms);
	return (s.removed);
}
