/*
 * Becoming a daemon, the steps of a start that can fail after the fork:
 * the starting process waits on a pipe for the daemon's word, so even
 * these failures reach the terminal and its exit status.
 */
#ifndef OWL_DAEMON_H
#define OWL_DAEMON_H

#include "conf.h"

/*
 * Leave the terminal like daemon(3), but let the starting process wait
 * for our word (daemon_detach_done): it exits 0 on success, or prints
 * the reason and exits 1, also when we die before saying anything.
 * Init scripts and systemd's forking units thus see a start that cannot
 * serve fail, with the reason.  In the daemon: 0 and *notify, the pipe;
 * -1 with errno.
 */
int	 daemon_detach(int *notify);
/* Past every check that reports on the terminal: stdio to /dev/null. */
void	 daemon_detach_stdio(void);
/*
 * Tell the starting process the outcome (error NULL is success) and
 * close *notify; nothing once it is -1, so only the first word counts.
 */
void	 daemon_detach_done(int *notify, const char *error);

/*
 * Take the pid file's lock: a live server holds it, a dead one's file
 * is just a file.  The locked descriptor, or -1 with *cause.
 */
int	 daemon_pidfile_lock(const char *path, char **cause);
/* Write our pid into the locked file: 0, or -1 with errno. */
int	 daemon_pidfile_write(int fd);

/*
 * Open log_file (if set) and audit_file, writable by the workers' user
 * too: 0, or -1 with *cause.
 */
int	 daemon_open_logs(const struct conf *, char **cause);

#endif
