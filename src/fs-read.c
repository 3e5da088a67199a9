/*
 * Read opens beneath the root: a regular file, world-readable when the
 * permission check asks for it, never a partial upload.  A netascii
 * read is translated whole into a memory file first, so its size is
 * known (tsize) and blocks can be read at any offset like any file's.
 */

#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs-int.h"
#include "fs.h"
#include "netascii.h"
#include "pkt.h"

#define FS_NA_IN	(64 * 1024)	/* netascii: bytes read per round */

static int		 netascii_copy(int, int *, uint64_t *);

/*
 * Translate the whole of fd into a new memory file in netascii form.
 * On success *mfdp is the memory file, positioned at 0, and *sizep its
 * size; fd is left open.  -1 with errno on failure, nothing leaked.
 */
static int
netascii_copy(int fd, int *mfdp, uint64_t *sizep)
{
	uint8_t		*in, *out;
	uint64_t	 total;
	ssize_t		 n;
	size_t		 olen;
	int		 mfd, saved;

	mfd = -1;
	total = 0;
	in = malloc(3 * FS_NA_IN);	/* FS_NA_IN in, 2 * FS_NA_IN out */
	if (in == NULL)
		goto fail;
	out = in + FS_NA_IN;
	mfd = memfd_create("owltftpd-netascii", MFD_CLOEXEC);
	if (mfd == -1)
		goto fail;
	for (;;) {
		n = read(fd, in, FS_NA_IN);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		olen = netascii_encode(in, (size_t)n, out);
		if (fs_write_all(mfd, out, olen) == -1)
			goto fail;
		total += olen;
	}
	if (lseek(mfd, 0, SEEK_SET) == -1)
		goto fail;
	free(in);
	*mfdp = mfd;
	*sizep = total;
	return 0;

fail:
	saved = errno;
	if (mfd != -1)
		(void)close(mfd);
	free(in);
	errno = saved;
	return -1;
}

enum tftp_err
fs_open_read(int rootfd, const char *name, int netascii, int world, int *fdp,
    uint64_t *sizep, struct stat *stp)
{
	struct stat	 st;
	enum tftp_err	 e;
	uint64_t	 size;
	int		 fd, mfd;

	*fdp = -1;
	*sizep = 0;
	/* A partial upload is nobody's to read. */
	if (fs_names_tmp(name))
		return TFTP_E_ACCESS;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = fs_beneath_open(rootfd, name,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return fs_err_path(errno);
	if (fstat(fd, &st) == -1) {
		e = TFTP_E_UNDEF;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		e = TFTP_E_ACCESS;
		goto fail;
	}
	if (world && (st.st_mode & S_IROTH) == 0) {
		e = TFTP_E_PERM_READ;
		goto fail;
	}
	size = (uint64_t)st.st_size;
	if (netascii) {
		if (netascii_copy(fd, &mfd, &size) == -1) {
			/* The memory file is a descriptor too. */
			e = errno == EMFILE || errno == ENFILE ? TFTP_E_NOFD :
			    TFTP_E_UNDEF;
			goto fail;
		}
		(void)close(fd);
		fd = mfd;
	}
	*fdp = fd;
	*sizep = size;
	if (stp != NULL)
		*stp = st;
	return TFTP_E_NONE;

fail:
	(void)close(fd);
	return e;
}
