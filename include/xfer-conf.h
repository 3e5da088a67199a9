/*
 * The settings a transfer runs by: the part of the configuration that
 * admission and the transfer state machine read.  struct conf embeds it
 * (conf->xfer, filled by the schema like any other key) and a worker
 * lends its transfers a pointer to it (xfer_ctx.conf), so nothing is
 * copied and a transfer sees exactly its generation's configuration.
 * Tests fill one by hand.
 */
#ifndef OWL_XFER_CONF_H
#define OWL_XFER_CONF_H

#include <sys/types.h>

#include "fs.h"
#include "opt.h"
#include "origin.h"

struct acl;
struct remap;

struct xfer_conf {
	/* uploads */
	enum fs_upload_policy	 uploads;
	int			 permission_check;	/* world bits decide
							   (tftpd-hpa) */
	int			 upload_fsync;
	mode_t			 umask;

	/*
	 * What option negotiation grants: blksize_max (0: from the MTU of
	 * the request's interface, worker-loop.c), windowsize_max and
	 * max_upload_size (0 = no limit; it also cuts an upload short).
	 */
	struct opt_limits	 limits;

	/* protocol */
	unsigned		 timeout_ms;	/* first retransmit timeout,
						   when the client sets none */
	unsigned		 rto_min_ms;	/* floor once it adapts */
	unsigned		 retries;
	int			 unique_root;	/* 1: root/CLIENT/ first */

	/*
	 * policy: built at load, never NULL after conf_new(); a test's
	 * NULL means everyone may read or write, names as sent
	 */
	struct acl		*read_acl;	/* empty: everyone may read */
	struct acl		*write_acl;	/* empty: everyone may write */
	struct remap		*remap;		/* rules + built-in switches */

	/* HTTP origins: their paths are served from the master's cache */
	struct origin_set	 origins;
	unsigned		 origin_timeout_ms;	/* a request waits so
							   long for a fetch */
};

#endif
