/*
 * What the files of fs.h share, and nothing else may include (never
 * outside src/fs*.c):
 *   fs.c         confinement (the resolver every open goes through),
 *                client names and the reserved temporary names, the
 *                errno maps and whole writes;
 *   fs-read.c    read opens, netascii translated into a memory file;
 *   fs-upload.c  uploads: temporary file, writes, commit or abort.
 */
#ifndef OWL_FS_INT_H
#define OWL_FS_INT_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>

#include "fs.h"
#include "pkt.h"

/*
 * Fill buf with FS_TMP_PREFIX, our pid, a dot and FS_TMP_RAND random
 * characters: a name fs_tmp_match() accepts, attempt the try it is for.
 * buf is "" if size is too small.
 */
void		 fs_tmp_name(char *, size_t, unsigned);

/*
 * Open path (relative) beneath rootfd with flags, never with O_CREAT.
 * Returns the descriptor, or -1 with errno.
 */
int		 fs_beneath_open(int, const char *, int);
/* Map a path resolution / open errno to a TFTP error. */
enum tftp_err	 fs_err_path(int);
/* Map a write / fsync / create errno to a TFTP error. */
enum tftp_err	 fs_err_io(int);
/* Write all of buf; 0, or -1 with errno. */
int		 fs_write_all(int, const void *, size_t);
/* Write all of iov[0..cnt) (the array is consumed); 0, or -1 with errno. */
int		 fs_writev_all(int, struct iovec *, int);

#endif
