/* Resource limits the master sets for itself and the workers it forks. */
#ifndef OWL_RLIMITS_H
#define OWL_RLIMITS_H

#include "conf.h"

/*
 * Raise RLIMIT_NOFILE so each transfer of a worker's share of
 * max_transfers can hold two descriptors, with room for the open-file
 * cache and the sockets.  Root raises the hard limit too where it may
 * (CAP_SYS_RESOURCE); otherwise the soft limit goes as far as the hard
 * one.  With verbose, one line says the limit in effect.
 */
void	 rlimits_raise_nofile(const struct conf *, int verbose);

#endif
