/*
 * The one way owltftpd writes its log and audit files: see logfile.h.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "logfile.h"

static int
open_append(const char *path, uid_t owner)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd != -1 && owner != (uid_t)-1 && geteuid() == 0)
		(void)fchown(fd, owner, (gid_t)-1);
	return fd;
}

int
logfile_open(struct logfile *lf, const char *path, uid_t owner)
{
	int	 fd;

	if (strlen(path) >= sizeof lf->path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open_append(path, owner)) == -1)
		return -1;
	if (lf->fd != -1)
		(void)close(lf->fd);
	lf->fd = fd;
	lf->owner = owner;
	(void)strlcpy(lf->path, path, sizeof lf->path);
	return 0;
}

int
logfile_reopen(struct logfile *lf)
{
	int	 fd;

	if (lf->fd == -1)
		return 0;
	if ((fd = open_append(lf->path, lf->owner)) == -1)
		return -1;
	(void)close(lf->fd);
	lf->fd = fd;
	return 0;
}

void
logfile_write(const struct logfile *lf, const char *buf, size_t len)
{
	if (lf->fd != -1)
		(void)write(lf->fd, buf, len);
}

void
logfile_close(struct logfile *lf)
{
	if (lf->fd != -1)
		(void)close(lf->fd);
	lf->fd = -1;
}
