/*
 * Files beneath the root: confinement, read opens, atomic uploads.  The
 * only module that opens paths.  Names are resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so "..", absolute
 * symlinks and symlinks leading out of the root cannot escape it.
 */
#ifndef OWL_FS_H
#define OWL_FS_H

#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include "pkt.h"

#define FS_PATH_MAX	1024	/* longest accepted client file name */
#define FS_FDS_MAX	2	/* descriptors one call may need at once */

/*
 * An upload is written to FS_TMP_PREFIX "<pid>.<rand>" beside its final
 * name: the writing worker's pid in decimal, a dot, then FS_TMP_RAND
 * letters and digits.  The prefix is reserved: no client may read or
 * write a name with any component beginning with it, so a file whose
 * name matches the pattern was made by owltftpd, and names its maker.
 */
#define FS_TMP_PREFIX	".owltftpd."
#define FS_TMP_RAND	6

enum fs_upload_policy {
	FS_UPLOAD_OFF,
	FS_UPLOAD_CREATE,	/* new files only */
	FS_UPLOAD_OVERWRITE,	/* new files and replacing existing ones */
	FS_UPLOAD_EXISTING,	/* replacing existing files only (tftpd-hpa
				   without --create) */
};

/*
 * Is name (one path component) exactly a temporary upload name, as
 * made above?  Then 1 and, if pidp is not NULL, the pid it names; else 0.
 */
int		 fs_tmp_match(const char *name, pid_t *pidp);

/* Does any component of path (normalized) begin with FS_TMP_PREFIX? */
int		 fs_names_tmp(const char *path);

/* Open the root directory; -1 with errno on failure. */
int		 fs_root_open(const char *path);

/*
 * Turn a client file name (len bytes, may contain anything) into a
 * relative path: backslashes become slashes, leading slashes are
 * stripped.  Refuses empty names, embedded NULs and names longer than
 * FS_PATH_MAX with TFTP_E_ACCESS / TFTP_E_NOTFOUND.  out holds
 * FS_PATH_MAX + 1 bytes.
 */
enum tftp_err	 fs_normalize(const char *name, size_t len, char *out,
		    size_t outlen);

/*
 * The permission policy of tftpd-hpa without --permissive (the world
 * argument below): a file is served only if others may read it
 * (S_IROTH), and replaced only if others may write it (S_IWOTH); a new
 * file is created whatever the mask leaves it.  A refusal is
 * TFTP_E_PERM_READ or _WRITE; fs_perm_reason() says which bit was
 * missing ("not world-readable") for the log, and NULL for any other
 * code.
 */
const char	*fs_perm_reason(enum tftp_err);

/*
 * Open name (normalized) for reading.  Only regular files are served,
 * and no name with a component beginning with FS_TMP_PREFIX; with
 * world, only files others may read.
 * With netascii, *fdp is a memory file holding the translated content
 * and *sizep its size (the tsize a netascii client is told).  stp, if
 * not NULL, gets the file's stat (the original's, with netascii).
 * Here and in fs_upload_begin(), TFTP_E_NOFD means the process is out of
 * descriptors: closing some and trying again may help.
 */
enum tftp_err	 fs_open_read(int rootfd, const char *name, int netascii,
		    int world, int *fdp, uint64_t *sizep, struct stat *stp);

/*
 * fstat() what name (normalized) resolves to beneath the root, without
 * opening it for reading (O_PATH): to see whether a cached open file
 * still is what the name means.  -1 with errno.
 */
int		 fs_stat(int rootfd, const char *name, struct stat *st);

/* An upload in progress: a temporary file beside its final name. */
struct iovec;

struct fs_upload {
	int	 dirfd;			/* directory of the final name */
	int	 fd;			/* temporary file, -1 when none */
	char	 tmp[32];
	char	 final[NAME_MAX + 1];
};

void		 fs_upload_init(struct fs_upload *);
/*
 * Start an upload of name (normalized) under policy; the file is
 * created with mode 0666 & ~mask.  The parent directory must exist.
 * A name with a component beginning with FS_TMP_PREFIX is refused, and
 * with world what the permission policy above refuses.
 */
enum tftp_err	 fs_upload_begin(int rootfd, const char *name,
		    enum fs_upload_policy policy, mode_t mask, int world,
		    struct fs_upload *up);
/* Append len bytes; TFTP_E_DISKFULL on ENOSPC/EDQUOT/EFBIG. */
enum tftp_err	 fs_upload_write(struct fs_upload *up, const void *buf,
		    size_t len);
/* The same for several pieces in order (iov is consumed). */
enum tftp_err	 fs_upload_writev(struct fs_upload *up, struct iovec *iov,
		    int cnt);
/*
 * Make the upload visible under its final name (fsync first when asked;
 * never replacing an existing file when policy is create).
 */
enum tftp_err	 fs_upload_commit(struct fs_upload *up, int do_fsync,
		    enum fs_upload_policy policy);
/* Throw the temporary file away; safe on an idle or committed upload. */
void		 fs_upload_abort(struct fs_upload *up);

#endif
