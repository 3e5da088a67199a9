/*
 * Files beneath the root: confinement, the names a client may use, and
 * the names reserved for temporary files.  The fs files (fs.c, fs-read.c,
 * fs-upload.c) are the only ones that open paths; here is the resolver
 * they all go through, and what they share through fs-int.h: the errno
 * maps and whole writes.  Read opens are fs-read.c's, uploads
 * fs-upload.c's.
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
 * Temporary names.  fs_tmp_name() makes an upload's temporary name, and
 * its prefix is reserved: a client name with any component beginning
 * with it is refused for reads and uploads alike, so a partial upload is
 * never served, and a file whose name matches the pattern (fs_tmp_match)
 * was made by owltftpd, which is what lets tmpclean.c delete it after a
 * worker died.
 */

#include "config.h"

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
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs-int.h"
#include "fs.h"
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

#define FS_RESOLVE	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
#define FS_EAGAIN_MAX	8		/* openat2 retries after a rename race */
#define FS_TMP_DIGITS	10		/* of a pid: INT_MAX has 10 */

static int		 walk_open(int, const char *, int);
static int		 walk_check(int, int);
static int		 is_dotdot(const char *, size_t);

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
	/* The pid as fs_tmp_name writes it: no sign, no leading zero. */
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

/*
 * Fill buf with FS_TMP_PREFIX, our pid, a dot and FS_TMP_RAND random
 * characters (fs_tmp_match must accept every name made here).  When
 * getrandom cannot help, the clock, the pid and the attempt number still
 * make successive names differ; O_EXCL settles any collision.
 */
void
fs_tmp_name(char *buf, size_t size, unsigned attempt)
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
int
fs_beneath_open(int rootfd, const char *path, int flags)
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
 * What the walk found at one component, opened O_PATH as nfd: 0 if it
 * may go on (a directory when dir), else the errno to fail with.
 */
static int
walk_check(int nfd, int dir)
{
	struct stat	 st;

	if (fstat(nfd, &st) == -1)
		return errno;
	if (S_ISLNK(st.st_mode))
		return ELOOP;
	if (dir && !S_ISDIR(st.st_mode))
		return ENOTDIR;
	return 0;
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
		if ((saved = walk_check(nfd, !last || mustdir)) != 0) {
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
enum tftp_err
fs_err_path(int e)
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
enum tftp_err
fs_err_io(int e)
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
int
fs_write_all(int fd, const void *buf, size_t len)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	return fs_writev_all(fd, &iov, 1);
}

/* Write all of iov[0..cnt) (the array is consumed); 0, or -1 with errno. */
int
fs_writev_all(int fd, struct iovec *iov, int cnt)
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

int
fs_stat(int rootfd, const char *name, struct stat *st)
{
	int	 fd, rc, saved;

	if ((fd = fs_beneath_open(rootfd, name, O_PATH | O_CLOEXEC)) == -1)
		return -1;
	rc = fstat(fd, st);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
}
