/*
 * A log file that logrotate may move: appended to with one write() per
 * line (O_APPEND, so the master's and the workers' lines never mix), and
 * reopened by name on SIGUSR1 or "owlctl reopen".  Both log_file and
 * audit_file are one of these.
 */
#ifndef OWL_LOGFILE_H
#define OWL_LOGFILE_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

struct logfile {
	int	 fd;		/* -1: not open */
	uid_t	 owner;		/* (uid_t)-1: whoever creates it */
	char	 path[PATH_MAX];
};

#define LOGFILE_INITIALIZER	{ -1, (uid_t)-1, "" }

/*
 * Open path for appending, created 0640 and, when we are root, chowned
 * to owner so that workers which dropped privileges can reopen it.  A
 * file already open is closed only once the new one is.  -1 with errno,
 * and lf unchanged.
 */
int	 logfile_open(struct logfile *lf, const char *path, uid_t owner);
/* Open the same path again (it was rotated).  0 when not open. */
int	 logfile_reopen(struct logfile *lf);
/* Append len bytes with one write(); a failure is not reported. */
void	 logfile_write(const struct logfile *lf, const char *buf, size_t len);
void	 logfile_close(struct logfile *lf);

#endif
