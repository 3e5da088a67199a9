/*
 * Worker processes as processes: fork one that keeps nothing of the
 * master but its channel and sockets, say how one ended, reap the dead.
 * Which generation a worker serves and what its end means for the
 * service is the master's business.
 */
#ifndef OWL_PROC_H
#define OWL_PROC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/* What a worker process runs; its return value is its exit code. */
typedef int (*proc_main_fn)(void *arg, int chanfd);

/*
 * Fork worker[slot] of generation: the child keeps only its end of a
 * new SOCK_SEQPACKET channel, the descriptors keep[] and the log files,
 * frees base (the parent's events stay armed) and exits with
 * main(arg, its channel end).  Signals are blocked across the fork, so
 * none reaches the child before it has its own handlers.  Logged and
 * audited (worker_start).  The pid and *chanfd, the master's end
 * (non-blocking, close-on-exec), or -1 (logged).
 */
pid_t	 proc_spawn(struct event_base *base, int slot, uint32_t generation,
	    const int *keep, size_t nkeep, proc_main_fn main, void *arg,
	    int *chanfd);

/*
 * worker[slot] pid ended with status: log it (a clean exit the master
 * expected only at debug level) and audit worker_exit.
 */
void	 proc_ended(int slot, pid_t pid, uint32_t generation, int status,
	    int expected);
/*
 * Why a worker of a generation being started ended, for messages: its
 * own word (failed, from its FAILED message) if it said one.  Allocated.
 */
char	*proc_exit_reason(int slot, const char *failed, int status);

/*
 * Call ended(pid, status, arg) for every child that has exited, after
 * waiting for one if block.  The number reaped, or -1 if there is no
 * child left (or waiting failed).
 */
int	 proc_reap(int block, void (*ended)(pid_t, int status, void *),
	    void *arg);

#endif
