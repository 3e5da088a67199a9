/*
 * What a configuration needs from this machine, checked before anything
 * is bound or forked: the accounts resolve, the root opens the way a
 * worker opens it, and the files the master creates have a directory it
 * can write.  owltftpd -t, the start and every reload run it, so an
 * operator hears about a typo before it can cost service.
 */
#ifndef OWL_PREFLIGHT_H
#define OWL_PREFLIGHT_H

#include "conf.h"

/* What to check: a reload keeps the master's files (log, pid, socket). */
#define PREFLIGHT_WORKERS	0x1	/* user, group, chroot, root */
#define PREFLIGHT_FILES		0x2	/* log/audit/pid/control directories */
#define PREFLIGHT_ALL		(PREFLIGHT_WORKERS | PREFLIGHT_FILES)

/*
 * 0, or -1 with *cause as "FILE: key: problem".  Problems that do not
 * stop service (a root the worker user can search but not list) are
 * logged as warnings.  Forks once to open the root as a worker would.
 */
int	 preflight_check(const struct conf *, int what, char **cause);

#endif
