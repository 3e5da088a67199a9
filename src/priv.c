/* Dropping root in a worker: optional chroot, then group and user. */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "priv.h"
#include "xmalloc.h"

int
priv_drop(const struct conf *conf, int *rootfd, char **cause)
{
	struct passwd	*pw;
	struct group	*gr;
	uid_t		 uid;
	gid_t		 gid;

	if (geteuid() != 0)
		return 0;	/* nothing to drop */
	if ((pw = getpwnam(conf->user)) == NULL) {
		xasprintf(cause, "user: %s: no such user", conf->user);
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (conf->group != NULL) {
		if ((gr = getgrnam(conf->group)) == NULL) {
			xasprintf(cause, "group: %s: no such group",
			    conf->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (conf->chroot) {
		int	 fd;

		if (chroot(conf->root) == -1 || chdir("/") == -1) {
			xasprintf(cause, "chroot: %s: %s", conf->root,
			    strerror(errno));
			return -1;
		}
		if ((fd = fs_root_open("/")) == -1) {
			xasprintf(cause, "chroot: %s: cannot open root: %s",
			    conf->root, strerror(errno));
			return -1;
		}
		(void)close(*rootfd);
		*rootfd = fd;
	}
	if (uid == 0) {
		log_debug("user %s is root: keeping privileges", conf->user);
		return 0;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		xasprintf(cause, "user: cannot drop privileges to %s: %s",
		    conf->user, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		xasprintf(cause, "user: privileges could be regained after dropping");
		return -1;
	}
	return 0;
}
