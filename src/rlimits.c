/* Resource limits the master sets for itself and the workers it forks. */
#include "config.h"

#include <sys/resource.h>

#include <unistd.h>

#include "log.h"
#include "rlimits.h"

#define RLIMITS_NOFILE_SPARE	512	/* listen and control sockets, logs,
					   the open-file cache's slack */

/*
 * Each transfer may hold two descriptors (an upload: its directory and
 * its temporary file): make room for twice a worker's share of
 * max_transfers, plus the open-file cache and the sockets (children
 * inherit the limit).
 */
void
rlimits_raise_nofile(const struct conf *conf, int verbose)
{
	struct rlimit	 rl, up;
	rlim_t		 share = conf->worker_share;
	rlim_t		 want = 2 * share + RLIMITS_NOFILE_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur < want && rl.rlim_max < want && geteuid() == 0) {
		/* Without CAP_SYS_RESOURCE (a container) this fails. */
		up.rlim_cur = up.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		up.rlim_max = rl.rlim_max;
		up.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
		else
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)up.rlim_cur);
	}
	if (verbose)
		log_info("open files limit %llu (wanted %llu)",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want);
	if (rl.rlim_cur < want)
		log_warnx("open files limited to %llu: fewer than %llu "
		    "transfers per worker may have files open",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)share);
}
