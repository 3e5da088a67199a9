/*
 * Files beneath the root: confinement, read opens and atomic uploads.
 * This is the only module that opens paths.
 *
 * Confinement.  Every name is resolved relative to the root directory
 * descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the
 * kernel refuses (EXDEV) absolute paths, ".." that would climb above the
 * root and symlinks whose target lies outside it, while symlinks that
 * stay inside keep working.  On kernels without openat2 (ENOSYS) we fall
 * back to walking the path one component at a time with
 * openat(O_PATH | O_NOFOLLOW).  That walk is deliberately stricter: it
 * refuses every ".." component and every symlink, even one whose target
 * is inside the root, because following links safely in user space is
 * exactly the race openat2 exists to close.
 *
 * Uploads.  Data goes to ".owltftpd.<pid>.XXXXXX" in the target
 * directory and is renamed over the final name only on commit, so a
 * reader sees the old content or the new, never a partial file; an
 * aborted or failed upload leaves no temporary file behind.  The prefix
 * is reserved: a client name with any component beginning with it is
 * refused for reads and uploads alike, so a partial upload is never
 * served, and a file whose name matches the pattern (fs_tmp_match) was
 * made by owltftpd, which is what lets tmpclean.c delete it after a
 * worker died.
 */

#include "config.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "netascii.h"
#include "pkt.h"

#ifndef HAVE_LINUX_OPENAT2_H
/* The kernel ABI (include/uapi/linux/openat2.h), for older headers. */
struct open_how {
	uint64_t	 flags;
	uint64_t	 mode;
	uint64_t	 resolve;
};
#define RESOLVE_NO_MAGICLINKS	0x02
#define RESOLVE_BENEATH		0x08
#endif

#if !defined(SYS_openat2) && defined(__NR_openat2)
#define SYS_openat2	__NR_openat2
#endif

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif

#define FS_RESOLVE	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
#define FS_EAGAIN_MAX	8		/* openat2 retries after a rename race */
#define FS_TMP_DIGITS	10		/* of a pid: INT_MAX has 10 */
#define FS_TMP_TRIES	16		/* names tried before giving up */
#define FS_NA_IN	(64 * 1024)	/* netascii: bytes read per round */

static int		 beneath_open(int, const char *, int);
static int		 walk_open(int, const char *, int);
static int		 is_dotdot(const char *, size_t);
static int		 write_all(int, const void *, size_t);
static int		 writev_all(int, struct iovec *, int);
static int		 netascii_copy(int, int *, uint64_t *);
static int		 tmp_create(int, mode_t, char *, size_t);
static void		 tmp_name(char *, size_t, unsigned);
static enum tftp_err	 err_path(int);
static enum tftp_err	 err_io(int);
static int		 upload_policy_ok(enum fs_upload_policy);

static const char tmp_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const char *
fs_perm_reason(enum tftp_err e)
{
	switch (e) {
	case TFTP_E_PERM_READ:
		return "not world-readable";
	case TFTP_E_PERM_WRITE:
		return "not world-writable";
	default:
		return NULL;
	}
}

int
fs_root_open(const char *path)
{
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Is the component p[0..len) exactly ".."? */
static int
is_dotdot(const char *p, size_t len)
{
	return len == 2 && p[0] == '.' && p[1] == '.';
}

int
fs_names_tmp(const char *path)
{
	const char	*p;

	for (p = path;; p++) {
		if (strncmp(p, FS_TMP_PREFIX, sizeof(FS_TMP_PREFIX) - 1) == 0)
			return 1;
		if ((p = strchr(p, '/')) == NULL)
			return 0;
	}
}

int
fs_tmp_match(const char *name, pid_t *pidp)
{
	const char	*p;
	long long	 pid;
	size_t		 n;

	if (strncmp(name, FS_TMP_PREFIX, sizeof(FS_TMP_PREFIX) - 1) != 0)
		return 0;
	p = name + sizeof(FS_TMP_PREFIX) - 1;
	/* The pid as tmp_name writes it: no sign, no leading zero. */
	if (*p < '1' || *p > '9')
		return 0;
	pid = 0;
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++) {
		if (n == FS_TMP_DIGITS)
			return 0;
		pid = pid * 10 + (p[n] - '0');
	}
	if (pid > INT_MAX || p[n] != '.')
		return 0;
	p += n + 1;
	for (n = 0; n < FS_TMP_RAND; n++)
		if (p[n] == '\0' || strchr(tmp_chars, p[n]) == NULL)
			return 0;
	if (p[FS_TMP_RAND] != '\0')
		return 0;
	if (pidp != NULL)
		*pidp = (pid_t)pid;
	return 1;
}

enum tftp_err
fs_normalize(const char *name, size_t len, char *out, size_t outlen)
{
	enum tftp_err	 e;
	size_t		 i, o, comp;
	char		 c;

	if (outlen == 0)
		return TFTP_E_ACCESS;
	e = TFTP_E_ACCESS;
	if (len == 0) {
		e = TFTP_E_NOTFOUND;
		goto fail;
	}
	if (memchr(name, '\0', len) != NULL || len > FS_PATH_MAX)
		goto fail;
	/* Control bytes name nothing a client should reach (and hide in
	 * logs and terminals): refused for reads and writes alike. */
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			goto fail;

	o = 0;
	comp = 0;		/* where the current component starts in out */
	for (i = 0; i < len; i++) {
		c = name[i] == '\\' ? '/' : name[i];
		if (c == '/') {
			/* Leading and repeated slashes vanish. */
			if (o == 0 || out[o - 1] == '/')
				continue;
			if (is_dotdot(out + comp, o - comp))
				goto fail;
		}
		if (o + 1 >= outlen)
			goto fail;
		out[o++] = c;
		if (c == '/')
			comp = o;
	}
	if (o == 0) {
		e = TFTP_E_NOTFOUND;
		goto fail;
	}
	if (is_dotdot(out + comp, o - comp))
		goto fail;
	out[o] = '\0';
	return TFTP_E_NONE;

fail:
	out[0] = '\0';
	return e;
}

/*
 * Open path (relative) beneath rootfd with flags, never with O_CREAT.
 * Returns the descriptor, or -1 with errno.
 */
static int
beneath_open(int rootfd, const char *path, int flags)
{
	struct open_how	 how;
	long		 r;
	int		 tries;

	memset(&how, 0, sizeof(how));
	/* The raw syscall does not add O_LARGEFILE the way libc does. */
	how.flags = (unsigned int)(flags | O_LARGEFILE);
	how.resolve = FS_RESOLVE;
	r = -1;
	for (tries = 0; tries < FS_EAGAIN_MAX; tries++) {
#ifdef SYS_openat2
		r = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
#else
		errno = ENOSYS;
#endif
		/* EAGAIN: a concurrent rename made ".." unprovable; retry. */
		if (r != -1 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	if (r == -1 && errno == ENOSYS)
		return walk_open(rootfd, path, flags);
	return (int)r;
}

/*
 * The fallback resolver: one component at a time, each opened with
 * O_PATH | O_NOFOLLOW and checked with fstat on the descriptor itself,
 * so what is checked is what is used.  ".." and symlinks anywhere fail
 * with EXDEV and ELOOP, which map to the same errors openat2 gives for an
 * escape.
 */
static int
walk_open(int rootfd, const char *path, int flags)
{
	char		 buf[FS_PATH_MAX + 1];
	struct stat	 st;
	char		*p, *slash;
	size_t		 len;
	int		 cur, owned, nfd, fd, last, mustdir, saved;

	owned = -1;
	fd = -1;
	len = strlen(path);
	if (len > FS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (len == 0) {
		errno = ENOENT;
		return -1;
	}
	if (path[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	memcpy(buf, path, len + 1);
	mustdir = buf[len - 1] == '/';
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';

	cur = rootfd;
	p = buf;
	for (;;) {
		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		last = slash == NULL;
		if (!last)
			*slash = '\0';
		if (strcmp(p, "..") == 0) {
			errno = EXDEV;
			goto fail;
		}
		nfd = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd == -1)
			goto fail;
		if (fstat(nfd, &st) == -1)
			saved = errno;
		else if (S_ISLNK(st.st_mode))
			saved = ELOOP;
		else if ((!last || mustdir) && !S_ISDIR(st.st_mode))
			saved = ENOTDIR;
		else
			saved = 0;
		if (saved != 0) {
			(void)close(nfd);
			errno = saved;
			goto fail;
		}
		if (last) {
			(void)close(nfd);
			/* Swapped for a symlink since? O_NOFOLLOW refuses. */
			fd = openat(cur, p, flags | O_NOFOLLOW |
			    (mustdir ? O_DIRECTORY : 0));
			if (fd == -1)
				goto fail;
			break;
		}
		if (owned != -1)
			(void)close(owned);
		owned = cur = nfd;
		p = slash + 1;
	}
	if (owned != -1)
		(void)close(owned);
	return fd;

fail:
	saved = errno;
	if (owned != -1)
		(void)close(owned);
	errno = saved;
	return -1;
}

/* Map a path resolution / open errno to a TFTP error. */
static enum tftp_err
err_path(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return TFTP_E_NOTFOUND;
	case EACCES:
	case EPERM:
	case EXDEV:
	case ELOOP:
	case ENAMETOOLONG:
	case EROFS:
	case EISDIR:
	case ENXIO:		/* a socket, or a device without a driver */
	case ENODEV:
		return TFTP_E_ACCESS;
	case EMFILE:
	case ENFILE:
		return TFTP_E_NOFD;
	default:
		return TFTP_E_UNDEF;
	}
}

/* Map a write / fsync / create errno to a TFTP error. */
static enum tftp_err
err_io(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return TFTP_E_DISKFULL;
	default:
		return TFTP_E_UNDEF;
	}
}

/* Write all of buf; 0, or -1 with errno. */
static int
write_all(int fd, const void *buf, size_t len)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	return writev_all(fd, &iov, 1);
}

/* Write all of iov[0..cnt) (the array is consumed); 0, or -1 with errno. */
static int
writev_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t	 n;

	for (;;) {
		while (cnt > 0 && iov->iov_len == 0) {
			iov++;
			cnt--;
		}
		if (cnt == 0)
			break;
		n = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

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
		if (write_all(mfd, out, olen) == -1)
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
	fd = beneath_open(rootfd, name,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return err_path(errno);
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

int
fs_stat(int rootfd, const char *name, struct stat *st)
{
	int	 fd, rc, saved;

	if ((fd = beneath_open(rootfd, name, O_PATH | O_CLOEXEC)) == -1)
		return -1;
	rc = fstat(fd, st);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
}

void
fs_upload_init(struct fs_upload *up)
{
	up->dirfd = -1;
	up->fd = -1;
	up->tmp[0] = '\0';
	up->final[0] = '\0';
}

/*
 * Fill buf with FS_TMP_PREFIX, our pid, a dot and FS_TMP_RAND random
 * characters (fs_tmp_match must accept every name made here).  When
 * getrandom cannot help, the clock, the pid and the attempt number still
 * make successive names differ; O_EXCL settles any collision.
 */
static void
tmp_name(char *buf, size_t size, unsigned attempt)
{
	uint8_t		 rnd[FS_TMP_RAND];
	struct timespec	 ts;
	uint64_t	 x;
	size_t		 i, plen;
	int		 n;

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(rnd)) {
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
		    ((uint64_t)getpid() << 17) ^ ((uint64_t)attempt << 7);
		for (i = 0; i < sizeof(rnd); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			rnd[i] = (uint8_t)(x >> 56);
		}
	}
	n = snprintf(buf, size, FS_TMP_PREFIX "%ld.", (long)getpid());
	if (n < 0 || (size_t)n + FS_TMP_RAND + 1 > size) {
		buf[0] = '\0';
		return;
	}
	plen = (size_t)n;
	for (i = 0; i < FS_TMP_RAND; i++)
		buf[plen + i] = tmp_chars[rnd[i] % (sizeof(tmp_chars) - 1)];
	buf[plen + FS_TMP_RAND] = '\0';
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
		tmp_name(buf, size, attempt);
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

/*
 * up need not be initialised and must not hold a running upload; on any
 * failure it is left idle (as after fs_upload_init).  A replaced file
 * gets the new mode, not the old file's mode or owner.
 */
static int
upload_policy_ok(enum fs_upload_policy policy)
{
	return policy == FS_UPLOAD_CREATE || policy == FS_UPLOAD_OVERWRITE ||
	    policy == FS_UPLOAD_EXISTING;
}

enum tftp_err
fs_upload_begin(int rootfd, const char *name, enum fs_upload_policy policy,
    mode_t mask, int world, struct fs_upload *up)
{
	char		 dir[FS_PATH_MAX + 1];
	struct stat	 st;
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
	up->dirfd = beneath_open(rootfd, dir,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (up->dirfd == -1) {
		e = err_path(errno);
		goto fail;
	}

	if (fstatat(up->dirfd, up->final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (policy == FS_UPLOAD_CREATE) {
			e = TFTP_E_EXISTS;
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			e = TFTP_E_ACCESS;
			goto fail;
		}
		if (world && (st.st_mode & S_IWOTH) == 0) {
			e = TFTP_E_PERM_WRITE;
			goto fail;
		}
	} else if (errno != ENOENT) {
		e = err_path(errno);
		goto fail;
	} else if (policy == FS_UPLOAD_EXISTING) {
		e = TFTP_E_NOTFOUND;
		goto fail;
	}
	/*
	 * A new file is created whatever umask leaves it: in.tftpd refuses
	 * a new file that is not world-writable once it has made it, which
	 * with our default umask (022) would refuse every upload.
	 */

	mode = 0666 & ~mask;
	up->fd = tmp_create(up->dirfd, mode, up->tmp, sizeof(up->tmp));
	if (up->fd == -1) {
		e = err_io(errno);
		if (e == TFTP_E_UNDEF)
			e = err_path(errno);
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
	if (writev_all(up->fd, iov, cnt) == -1) {
		e = err_io(errno);
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
		e = err_io(errno);
		goto fail;
	}
	r = close(up->fd);
	up->fd = -1;
	if (r == -1 && errno != EINTR) {
		e = err_io(errno);
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
		e = errno == EEXIST ? TFTP_E_EXISTS : err_path(errno);
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
