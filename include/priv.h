/* Dropping root in a worker: optional chroot, then group and user. */
#ifndef OWL_PRIV_H
#define OWL_PRIV_H

#include "conf.h"

/*
 * Only acts when running as root.  With chroot, *rootfd is reopened as
 * "/" inside the jail.  -1 and *cause (allocated) on failure.
 */
int	 priv_drop(const struct conf *, int *rootfd, char **cause);

#endif
