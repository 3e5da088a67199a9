/*
 * Forking a worker process with nothing of the master's but what it
 * needs, telling how one ended, and reaping the dead.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "compat.h"
#include "log.h"
#include "logev.h"
#include "proc.h"
#include "worker.h"
#include "xmalloc.h"

#define PROC_KEEP_MAX	64	/* descriptors a child keeps, at most */

/* A master event: worker_start, worker_exit. */
static void
worker_event(const char *event, int slot, pid_t pid, uint32_t generation,
    int status)
{
	struct logev	 e;

	logev_begin(&e, event, LOG_INFO);
	logev_i64(&e, "slot", slot);
	logev_i64(&e, "pid", pid);
	logev_u64(&e, "generation", generation);
	if (status != -1 && WIFEXITED(status))
		logev_i64(&e, "exit_code", WEXITSTATUS(status));
	else if (status != -1 && WIFSIGNALED(status))
		logev_i64(&e, "signal", WTERMSIG(status));
	logev_emit(&e);
}

/*
 * Close descriptors first..last: close_range(2) where the C library has
 * it (glibc 2.34), else close(2) each one below the descriptor limit.
 */
static void
close_fds(unsigned first, unsigned last)
{
#ifdef HAVE_CLOSE_RANGE
	(void)close_range(first, last, 0);
#else
	long		 limit = sysconf(_SC_OPEN_MAX);
	unsigned	 fd;

	if (limit < 0)
		limit = 1024;	/* unknown: the usual soft limit */
	for (fd = first; fd <= last && fd < (unsigned long)limit; fd++)
		(void)close((int)fd);
#endif
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * In the child: keep only chanfd, keep[] and the log files.  Every other
 * descriptor goes, including control connections that happen to be
 * open (a client waits for their EOF) and the other slots' sockets.
 */
static void
child_cleanup(struct event_base *base, const int *keepfds, size_t nkeep,
    int chanfd)
{
	int	 keep[PROC_KEEP_MAX + 3], n = 0, i, from = 3;
	size_t	 a;

	/*
	 * Re-initialise before freeing: freeing directly would delete the
	 * master's events from the epoll set parent and child share.
	 */
	(void)event_reinit(base);
	event_base_free(base);
	keep[n++] = chanfd;
	for (a = 0; a < nkeep && a < PROC_KEEP_MAX; a++)
		keep[n++] = keepfds[a];
	if (log_file_fd() != -1)
		keep[n++] = log_file_fd();
	if (audit_fd() != -1)
		keep[n++] = audit_fd();
	qsort(keep, (size_t)n, sizeof keep[0], cmp_int);
	closelog();	/* its socket would be closed under it */
	for (i = 0; i < n; i++) {
		if (keep[i] > from)
			close_fds((unsigned)from, (unsigned)keep[i] - 1);
		from = keep[i] + 1;
	}
	close_fds((unsigned)from, ~0U);
	log_reopen_syslog();
}

pid_t
proc_spawn(struct event_base *base, int slot, uint32_t generation,
    const int *keep, size_t nkeep, proc_main_fn main, void *arg,
    int *chanfd)
{
	sigset_t	 all, old;
	int		 sv[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		log_warn("socketpair");
		return -1;
	}
	/* No signal may reach the child before it has its own handlers. */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		child_cleanup(base, keep, nkeep, sv[1]);
		_exit(main(arg, sv[1]));
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(sv[1]);
	*chanfd = sv[0];
	log_debug("worker[%d] started, pid %ld, generation %u", slot,
	    (long)pid, generation);
	worker_event("worker_start", slot, pid, generation, -1);
	return pid;
}

void
proc_ended(int slot, pid_t pid, uint32_t generation, int status,
    int expected)
{
	int	 clean = WIFEXITED(status) &&
		    WEXITSTATUS(status) == WORKER_EXIT_OK;

	worker_event("worker_exit", slot, pid, generation, status);
	if (clean && expected)
		log_debug("worker[%d] pid %ld exited", slot, (long)pid);
	else if (WIFEXITED(status))
		log_warnx("worker[%d] pid %ld exited with code %d", slot,
		    (long)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker[%d] pid %ld killed by signal %d", slot,
		    (long)pid, WTERMSIG(status));
}

char *
proc_exit_reason(int slot, const char *failed, int status)
{
	char	*why;

	if (failed != NULL)
		why = xstrdup(failed);
	else if (WIFSIGNALED(status))
		xasprintf(&why, "worker[%d] was killed by signal %d before it "
		    "was ready", slot, WTERMSIG(status));
	else
		xasprintf(&why, "worker[%d] exited with code %d before it was "
		    "ready", slot, WIFEXITED(status) ? WEXITSTATUS(status) :
		    -1);
	return why;
}

int
proc_reap(int block, void (*ended)(pid_t, int, void *), void *arg)
{
	pid_t	 pid;
	int	 status, n = 0;

	while ((pid = waitpid(-1, &status, block && n == 0 ? 0 : WNOHANG)) >
	    0) {
		ended(pid, status, arg);
		n++;
	}
	return n == 0 && pid == -1 ? -1 : n;
}
