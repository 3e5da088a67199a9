/*
 * Atomic uploads beneath the root.  Data goes to
 * ".owltftpd.<pid>.XXXXXX" in the target directory and is renamed over
 * the final name only on commit, so a reader sees the old content or the
 * new, never a partial file; an aborted or failed upload leaves no
 * temporary file behind.  The temporary names are fs.c's to make and
 * reserve (fs_tmp_name, fs_names_tmp, fs_tmp_match); the upload policy
 * (create, overwrite, existing) and the world-writable check are applied
 * here.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <unistd.h>

#include "fs-int.h"
#include "fs.h"
#include "pkt.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif

#define FS_TMP_TRIES	16		/* names tried before giving up */

static int		 tmp_create(int, mode_t, char *, size_t);
static int		 upload_policy_ok(enum fs_upload_policy);
static enum tftp_err	 upload_target_ok(const struct fs_upload *,
			    enum fs_upload_policy, int);

void
fs_upload_init(struct fs_upload *up)
{
	up->dirfd = -1;
	up->fd = -1;
	up->tmp[0] = '\0';
	up->final[0] = '\0';
}

/*
 * Create a fresh temporary file in dirfd with the given mode, whatever
 * the umask.  Its name goes to buf.  The descriptor, or -1 with errno.
 */
static int
tmp_create(int dirfd, mode_t mode, char *buf, size_t size)
{
	unsigned	 attempt;
	int		 fd, saved;

	for (attempt = 0; attempt < FS_TMP_TRIES; attempt++) {
		fs_tmp_name(buf, size, attempt);
		if (buf[0] == '\0') {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(dirfd, buf, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd == -1) {
			if (errno == EEXIST)
				continue;
			buf[0] = '\0';
			return -1;
		}
		if (fchmod(fd, mode) == -1) {
			saved = errno;
			(void)unlinkat(dirfd, buf, 0);
			(void)close(fd);
			buf[0] = '\0';
			errno = saved;
			return -1;
		}
		return fd;
	}
	buf[0] = '\0';
	errno = EEXIST;
	return -1;
}

static int
upload_policy_ok(enum fs_upload_policy policy)
{
	return policy == FS_UPLOAD_CREATE || policy == FS_UPLOAD_OVERWRITE ||
	    policy == FS_UPLOAD_EXISTING;
}

/*
 * What is at the final name now, against the policy (and the
 * world-writable check): TFTP_E_NONE if the upload may go on.
 */
static enum tftp_err
upload_target_ok(const struct fs_upload *up, enum fs_upload_policy policy,
    int world)
{
	struct stat	 st;

	if (fstatat(up->dirfd, up->final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (policy == FS_UPLOAD_CREATE)
			return TFTP_E_EXISTS;
		if (!S_ISREG(st.st_mode))
			return TFTP_E_ACCESS;
		if (world && (st.st_mode & S_IWOTH) == 0)
			return TFTP_E_PERM_WRITE;
	} else if (errno != ENOENT)
		return fs_err_path(errno);
	else if (policy == FS_UPLOAD_EXISTING)
		return TFTP_E_NOTFOUND;
	return TFTP_E_NONE;
}

/*
 * up need not be initialised and must not hold a running upload; on any
 * failure it is left idle (as after fs_upload_init).  A replaced file
 * gets the new mode, not the old file's mode or owner.
 */
enum tftp_err
fs_upload_begin(int rootfd, const char *name, enum fs_upload_policy policy,
    mode_t mask, int world, struct fs_upload *up)
{
	char		 dir[FS_PATH_MAX + 1];
	const char	*final, *slash;
	enum tftp_err	 e;
	size_t		 len, flen;
	mode_t		 mode;

	fs_upload_init(up);
	if (!upload_policy_ok(policy))
		return TFTP_E_ACCESS;
	len = strlen(name);
	if (len == 0)
		return TFTP_E_NOTFOUND;
	if (len > FS_PATH_MAX || fs_names_tmp(name))
		return TFTP_E_ACCESS;

	/* Split into the directory part and the final component. */
	slash = strrchr(name, '/');
	if (slash == NULL) {
		final = name;
		(void)strcpy(dir, ".");
	} else {
		if (slash == name)	/* absolute: not a normalized name */
			return TFTP_E_ACCESS;
		final = slash + 1;
		memcpy(dir, name, (size_t)(slash - name));
		dir[slash - name] = '\0';
	}
	flen = strlen(final);
	if (flen == 0 || flen > NAME_MAX || strcmp(final, ".") == 0 ||
	    strcmp(final, "..") == 0)
		return TFTP_E_ACCESS;
	memcpy(up->final, final, flen + 1);

	/* A real descriptor, not O_PATH: commit may fsync it. */
	up->dirfd = fs_beneath_open(rootfd, dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (up->dirfd == -1) {
		e = fs_err_path(errno);
		goto fail;
	}

	if ((e = upload_target_ok(up, policy, world)) != TFTP_E_NONE)
		goto fail;
	/*
	 * A new file is created whatever umask leaves it: in.tftpd refuses
	 * a new file that is not world-writable once it has made it, which
	 * with our default umask (022) would refuse every upload.
	 */

	mode = 0666 & ~mask;
	up->fd = tmp_create(up->dirfd, mode, up->tmp, sizeof(up->tmp));
	if (up->fd == -1) {
		e = fs_err_io(errno);
		if (e == TFTP_E_UNDEF)
			e = fs_err_path(errno);
		goto fail;
	}
	return TFTP_E_NONE;

fail:
	fs_upload_abort(up);
	return e;
}

/*
 * A failed write throws the upload away at once (fs_upload_abort), so
 * the space is released and no temporary file survives even if the
 * caller forgets; calling fs_upload_abort again is harmless.
 */
enum tftp_err
fs_upload_write(struct fs_upload *up, const void *buf, size_t len)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	return fs_upload_writev(up, &iov, 1);
}

/* The same for blocks gathered from several datagrams: one writev(). */
enum tftp_err
fs_upload_writev(struct fs_upload *up, struct iovec *iov, int cnt)
{
	enum tftp_err	 e;

	if (up->fd == -1)
		return TFTP_E_UNDEF;
	if (fs_writev_all(up->fd, iov, cnt) == -1) {
		e = fs_err_io(errno);
		fs_upload_abort(up);
		return e;
	}
	return TFTP_E_NONE;
}

/*
 * The file is closed (and its close checked: network file systems report
 * delayed write errors there) before the rename.  If RENAME_NOREPLACE is
 * not supported by the file system (EINVAL), link(2) gives the same
 * no-replace guarantee.  Once the rename has happened the new content is
 * in place; a failing directory fsync is still reported, as TFTP_E_UNDEF,
 * because the durability that was asked for is not assured.
 */
enum tftp_err
fs_upload_commit(struct fs_upload *up, int do_fsync,
    enum fs_upload_policy policy)
{
	enum tftp_err	 e;
	unsigned int	 flags;
	int		 r;

	if (up->fd == -1 || up->dirfd == -1 || up->tmp[0] == '\0')
		return TFTP_E_UNDEF;
	if (!upload_policy_ok(policy)) {
		e = TFTP_E_ACCESS;
		goto fail;
	}
	if (do_fsync && fsync(up->fd) == -1) {
		e = fs_err_io(errno);
		goto fail;
	}
	r = close(up->fd);
	up->fd = -1;
	if (r == -1 && errno != EINTR) {
		e = fs_err_io(errno);
		goto fail;
	}

	flags = policy == FS_UPLOAD_CREATE ? RENAME_NOREPLACE : 0;
	r = renameat2(up->dirfd, up->tmp, up->dirfd, up->final, flags);
	if (r == 0)
		up->tmp[0] = '\0';	/* it is the final file now */
	else if (errno == EINVAL && flags != 0)
		/* The temporary name stays; fs_upload_abort unlinks it. */
		r = linkat(up->dirfd, up->tmp, up->dirfd, up->final, 0);
	if (r == -1) {
		e = errno == EEXIST ? TFTP_E_EXISTS : fs_err_path(errno);
		goto fail;
	}

	e = TFTP_E_NONE;
	if (do_fsync && fsync(up->dirfd) == -1)
		e = TFTP_E_UNDEF;
	fs_upload_abort(up);
	return e;

fail:
	fs_upload_abort(up);
	return e;
}

void
fs_upload_abort(struct fs_upload *up)
{
	int	 saved;

	saved = errno;
	if (up->dirfd != -1 && up->tmp[0] != '\0')
		(void)unlinkat(up->dirfd, up->tmp, 0);
	if (up->fd != -1)
		(void)close(up->fd);
	if (up->dirfd != -1)
		(void)close(up->dirfd);
	fs_upload_init(up);
	errno = saved;
}
