/*
 * Becoming a daemon: leave the terminal while the starting process waits
 * for the outcome, hold the pid file, open the log files.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "xmalloc.h"

int
daemon_detach(int *notify)
{
	char	 buf[1024];
	size_t	 got = 0;
	ssize_t	 n;
	int	 p[2];
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid != 0) {
		(void)close(p[1]);
		while (got < sizeof buf - 1 && ((n = read(p[0], buf + got,
		    sizeof buf - 1 - got)) > 0 || (n == -1 && errno == EINTR)))
			if (n > 0)
				got += (size_t)n;
		buf[got] = '\0';
		if (got > 0 && buf[0] == '0')
			_exit(0);
		if (got > 1)
			(void)fprintf(stderr, "owltftpd: %s\n", buf + 1);
		else if (got == 0)
			(void)fprintf(stderr, "owltftpd: the server exited "
			    "during startup (see its log)\n");
		_exit(1);
	}
	(void)close(p[0]);
	if (setsid() == -1 || chdir("/") == -1) {
		(void)close(p[1]);
		return -1;
	}
	*notify = p[1];
	return 0;
}

void
daemon_detach_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
}

void
daemon_detach_done(int *notify, const char *error)
{
	char	 buf[1024];
	int	 n;

	if (*notify == -1)
		return;
	n = snprintf(buf, sizeof buf, "%s%s", error == NULL ? "0" : "1",
	    error == NULL ? "" : error);
	if (n >= (int)sizeof buf)
		n = (int)sizeof buf - 1;
	(void)write(*notify, buf, (size_t)n);
	(void)close(*notify);
	*notify = -1;
}

int
daemon_pidfile_lock(const char *path, char **cause)
{
	char	 buf[32];
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		xasprintf(cause, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		xasprintf(cause, "another owltftpd (pid %s) is running with "
		    "pid file %s", buf[0] != '\0' ? buf : "?", path);
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
daemon_pidfile_write(int fd)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* Who the log files must be writable by: the workers, once they drop root. */
static uid_t
worker_uid(const struct conf *conf)
{
	struct passwd	*pw;

	if (geteuid() != 0 || (pw = getpwnam(conf->user)) == NULL)
		return (uid_t)-1;
	return pw->pw_uid;
}

int
daemon_open_logs(const struct conf *conf, char **cause)
{
	if (conf->log_file[0] != '\0' &&
	    log_open_file(conf->log_file, worker_uid(conf)) == -1) {
		xasprintf(cause, "log file %s: %s", conf->log_file,
		    strerror(errno));
		return -1;
	}
	if (audit_init(conf->audit_file, conf->log_format ? AUDIT_JSON :
	    AUDIT_TEXT, worker_uid(conf)) == -1) {
		xasprintf(cause, "audit file %s: %s", conf->audit_file,
		    strerror(errno));
		return -1;
	}
	return 0;
}
