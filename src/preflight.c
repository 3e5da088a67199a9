/*
 * Preflight checks of a configuration against the machine.  The root is
 * checked by a child that does exactly what a worker does (open it as
 * root, chroot, drop privileges) and then asks the kernel whether the
 * worker user may search and list it: nothing short of that sees every
 * way it can fail (a parent directory closed to the user is fine, since
 * the worker opens the root before dropping privileges; a root that is
 * closed to it is not).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "fs.h"
#include "log.h"
#include "preflight.h"
#include "priv.h"
#include "xmalloc.h"

#define PREFLIGHT_MSG_MAX	512

static const char *
where(const struct conf *conf)
{
	return conf->path != NULL ? conf->path : "command line";
}

/*
 * In a child: open the root, drop privileges, test access.  The verdict
 * comes back on a pipe: "" fine, "W..." a warning, "E..." an error.
 */
static void
root_probe_child(const struct conf *conf, int out)
{
	char	 msg[PREFLIGHT_MSG_MAX] = "";
	char	*cause = NULL;
	int	 fd;

	if ((fd = fs_root_open(conf->root)) == -1)
		(void)snprintf(msg, sizeof msg, "Eroot: %s: %s", conf->root,
		    strerror(errno));
	else if (priv_drop(conf, &fd, &cause) == -1)
		(void)snprintf(msg, sizeof msg, "E%s", cause);
	else if (faccessat(fd, ".", X_OK, 0) == -1)
		(void)snprintf(msg, sizeof msg, "Eroot: %s: the worker user "
		    "%s cannot search it (%s)", conf->root, conf->user,
		    strerror(errno));
	else if (faccessat(fd, ".", R_OK, 0) == -1)
		(void)snprintf(msg, sizeof msg, "Wroot: %s: the worker user "
		    "%s cannot list it; only files named exactly are served",
		    conf->root, conf->user);
	(void)write(out, msg, strlen(msg));
	_exit(0);
}

static int
root_probe(const struct conf *conf, char *msg, size_t len)
{
	size_t	 got = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], status;

	msg[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1) {
		(void)snprintf(msg, len, "Eroot: cannot check: pipe: %s",
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(msg, len, "Eroot: cannot check: fork: %s",
		    strerror(errno));
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(p[0]);
		root_probe_child(conf, p[1]);
	}
	(void)close(p[1]);
	while (got < len - 1 && ((n = read(p[0], msg + got, len - 1 - got)) >
	    0 || (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	msg[got] = '\0';
	(void)close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (got == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		(void)snprintf(msg, len, "Eroot: cannot check: the check "
		    "process died");
	return msg[0] == 'E' ? -1 : 0;
}

static int
check_workers(const struct conf *conf, char **cause)
{
	char		 msg[PREFLIGHT_MSG_MAX];
	struct passwd	*pw;

	if ((pw = getpwnam(conf->user)) == NULL) {
		xasprintf(cause, "%s: user: %s: no such user", where(conf),
		    conf->user);
		return -1;
	}
	/* Started as another user (a service manager's User=): nothing to
	 * drop, so the workers run as that user, whatever user says. */
	if (geteuid() != 0 && pw->pw_uid != geteuid())
		log_warnx("%s: user: %s: not started as root, so the workers "
		    "run as uid %ld instead", where(conf), conf->user,
		    (long)geteuid());
	if (conf->group != NULL && getgrnam(conf->group) == NULL) {
		xasprintf(cause, "%s: group: %s: no such group", where(conf),
		    conf->group);
		return -1;
	}
	if (conf->chroot && geteuid() != 0) {
		xasprintf(cause, "%s: chroot: needs root (running as uid %ld)",
		    where(conf), (long)geteuid());
		return -1;
	}
	if (root_probe(conf, msg, sizeof msg) == -1) {
		xasprintf(cause, "%s: %s", where(conf), msg + 1);
		return -1;
	}
	if (msg[0] == 'W')
		log_warnx("%s: %s", where(conf), msg + 1);
	return 0;
}

/*
 * The master creates path (or opens it for appending): its directory
 * must exist and be writable, and an existing file writable.
 */
static int
check_file(const struct conf *conf, const char *key, const char *path,
    char **cause)
{
	char		 dir[PATH_MAX];
	char		*slash;
	struct stat	 st;

	if (path[0] == '\0')
		return 0;
	if (strlcpy(dir, path, sizeof dir) >= sizeof dir) {
		xasprintf(cause, "%s: %s: %s: path too long", where(conf),
		    key, path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof dir);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1) {
		xasprintf(cause, "%s: %s: directory %s: %s", where(conf), key,
		    dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: %s: %s is not a directory", where(conf),
		    key, dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		xasprintf(cause, "%s: %s: directory %s is not writable: %s",
		    where(conf), key, dir, strerror(errno));
		return -1;
	}
	if (stat(path, &st) == -1)
		return 0;	/* the master creates it */
	if (S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: %s: %s is a directory", where(conf), key,
		    path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) && access(path, W_OK) == -1) {
		xasprintf(cause, "%s: %s: %s is not writable: %s", where(conf),
		    key, path, strerror(errno));
		return -1;
	}
	return 0;
}

int
preflight_check(const struct conf *conf, int what, char **cause)
{
	if ((what & PREFLIGHT_WORKERS) && check_workers(conf, cause) == -1)
		return -1;
	if ((what & PREFLIGHT_FILES) &&
	    (check_file(conf, "log_file", conf->log_file, cause) == -1 ||
	    check_file(conf, "audit_file", conf->audit_file, cause) == -1 ||
	    check_file(conf, "pid_file", conf->pid_file, cause) == -1 ||
	    check_file(conf, "control_socket", conf->control_socket,
	    cause) == -1))
		return -1;
	return 0;
}
