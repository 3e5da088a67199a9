/*
 * Unit tests for fs*.c: name normalization, confinement beneath the root,
 * read opens (octet and netascii), atomic uploads and the reserved
 * temporary names.
 *
 * Every test gets a fresh tree from the fixture:
 *
 *	base/sentinel		must never be readable through the root
 *	base/outside/secret	a directory outside the root
 *	base/root/		the served root:
 *	    hello.txt, text.txt, sub/inner.txt, emptydir/, fifo,
 *	    link_in -> hello.txt, dirlink -> sub, sub/link_up -> ../hello.txt
 *	    link_passwd -> /etc/passwd, link_abs -> <base>/sentinel,
 *	    link_out -> ../sentinel, sub/link_out2 -> ../../sentinel,
 *	    link_outdir -> ../outside
 *
 * The tests run as root, so nothing here relies on permission bits.
 * Symlinks that stay inside the root work with openat2 but are refused by
 * the stricter fallback walk; valgrind 3.19 does not know openat2 and
 * answers ENOSYS, so the expectations depend on which path is live, and
 * one case forces the fallback with a seccomp filter.
 *
 * To run without forking, under valgrind:
 *	CK_FORK=no valgrind --leak-check=full --track-fds=yes ./check_fs
 */

#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_main.h"
#include "fs.h"
#include "pkt.h"

#define HELLO		"hello, world\n"
#define INNER		"inner\n"
#define SENTINEL	"SENTINEL\n"
#define TEXT		"a\nb\rc\r\n"
#define TEXT_NA		"a\r\nb\r\0c\r\0\r\n"

static char	 base[PATH_MAX];
static char	 rootdir[PATH_MAX];
static int	 rootfd = -1;
static int	 have_openat2;

/* What a symlink that stays inside the root gives on this kernel. */
#define INSIDE_LINK	(have_openat2 ? TFTP_E_NONE : TFTP_E_ACCESS)

/* dir/rel into buf, which must be big enough. */
static void
mkpath(char *buf, size_t size, const char *dir, const char *rel)
{
	int	 n;

	n = snprintf(buf, size, "%s/%s", dir, rel);
	ck_assert(n > 0 && (size_t)n < size);
}

static void
put_file(const char *rel, const void *data, size_t len)
{
	char	 path[PATH_MAX];
	int	 fd;

	mkpath(path, sizeof(path), base, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static void
put_link(const char *target, const char *rel)
{
	char	 path[PATH_MAX];

	mkpath(path, sizeof(path), base, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

static void
put_dir(const char *rel)
{
	char	 path[PATH_MAX];

	mkpath(path, sizeof(path), base, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* Read a whole file below base into buf; its length, or -1. */
static ssize_t
get_file(const char *rel, char *buf, size_t cap)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	mkpath(path, sizeof(path), base, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return (-1);
	n = read(fd, buf, cap);
	(void)close(fd);
	return (n);
}

static int
exists(const char *rel)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	mkpath(path, sizeof(path), base, rel);
	return (lstat(path, &st) == 0);
}

/* Read from fd until EOF. */
static size_t
drain(int fd, uint8_t *buf, size_t cap)
{
	size_t	 got;
	ssize_t	 n;

	got = 0;
	for (;;) {
		n = read(fd, buf + got, cap - got);
		ck_assert_int_ne(n, -1);
		if (n == 0)
			break;
		got += (size_t)n;
		ck_assert_uint_lt(got, cap);	/* room left: EOF is seen */
	}
	return (got);
}

/* Count ".owltftpd.*" entries in a directory below base. */
static int
count_tmp(const char *rel)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 n;

	mkpath(path, sizeof(path), base, rel);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	n = 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".owltftpd.", 10) == 0)
			n++;
	(void)closedir(d);
	return (n);
}

static int
tmp_everywhere(void)
{
	return (count_tmp("root") + count_tmp("root/sub") +
	    count_tmp("outside") + count_tmp("."));
}

/* The lowest free descriptor: a leak moves it up. */
static int
next_fd(void)
{
	int	 fd;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(close(fd), 0);
	return (fd);
}

static int
probe_openat2(int dirfd)
{
	uint64_t	 how[3] = { O_PATH | O_CLOEXEC, 0, 0 };
	long		 r;

	r = syscall(SYS_openat2, dirfd, ".", how, sizeof(how));
	if (r == -1)
		return (errno != ENOSYS);
	(void)close((int)r);
	return (1);
}

static void
setup(void)
{
	const char	*tmpdir;

	tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	mkpath(base, sizeof(base), tmpdir, "check_fs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	mkpath(rootdir, sizeof(rootdir), base, "root");

	put_file("sentinel", SENTINEL, strlen(SENTINEL));
	put_dir("outside");
	put_file("outside/secret", SENTINEL, strlen(SENTINEL));
	put_dir("root");
	put_file("root/hello.txt", HELLO, strlen(HELLO));
	put_file("root/text.txt", TEXT, strlen(TEXT));
	put_dir("root/sub");
	put_file("root/sub/inner.txt", INNER, strlen(INNER));
	put_dir("root/emptydir");
	put_link("hello.txt", "root/link_in");
	put_link("sub", "root/dirlink");
	put_link("../hello.txt", "root/sub/link_up");
	put_link("/etc/passwd", "root/link_passwd");
	put_link("../sentinel", "root/link_out");
	put_link("../../sentinel", "root/sub/link_out2");
	put_link("../outside", "root/link_outdir");
	{
		char	 path[PATH_MAX];

		mkpath(path, sizeof(path), base, "sentinel");
		put_link(path, "root/link_abs");
		mkpath(path, sizeof(path), rootdir, "fifo");
		ck_assert_int_eq(mkfifo(path, 0666), 0);
	}

	rootfd = fs_root_open(rootdir);
	ck_assert_int_ne(rootfd, -1);
	have_openat2 = probe_openat2(rootfd);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static void
teardown(void)
{
	if (rootfd != -1)
		(void)close(rootfd);
	rootfd = -1;
	if (base[0] != '\0')
		(void)nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	base[0] = '\0';
}

/*
 * Normalization.
 */

struct norm_case {
	const char	*in;
	size_t		 len;		/* SIZE_MAX: strlen(in) */
	enum tftp_err	 want;
	const char	*out;		/* when want is TFTP_E_NONE */
};

static const struct norm_case norm_ok[] = {
	{ "pxelinux.0", SIZE_MAX, TFTP_E_NONE, "pxelinux.0" },
	{ "a\\b\\c", SIZE_MAX, TFTP_E_NONE, "a/b/c" },
	{ "dir\\sub/file", SIZE_MAX, TFTP_E_NONE, "dir/sub/file" },
	{ "/pxelinux.0", SIZE_MAX, TFTP_E_NONE, "pxelinux.0" },
	{ "///boot//x86_64///grub.cfg", SIZE_MAX, TFTP_E_NONE,
	    "boot/x86_64/grub.cfg" },
	{ "\\\\server\\file", SIZE_MAX, TFTP_E_NONE, "server/file" },
	{ "/\\/a", SIZE_MAX, TFTP_E_NONE, "a" },
	{ "dir/", SIZE_MAX, TFTP_E_NONE, "dir/" },
	{ "dir//", SIZE_MAX, TFTP_E_NONE, "dir/" },
	{ "..a", SIZE_MAX, TFTP_E_NONE, "..a" },
	{ "a..", SIZE_MAX, TFTP_E_NONE, "a.." },
	{ "...", SIZE_MAX, TFTP_E_NONE, "..." },
	{ ".../x", SIZE_MAX, TFTP_E_NONE, ".../x" },
	{ "a/..b", SIZE_MAX, TFTP_E_NONE, "a/..b" },
	{ "a/b..", SIZE_MAX, TFTP_E_NONE, "a/b.." },
	{ "./a", SIZE_MAX, TFTP_E_NONE, "./a" },
	{ "a/./b", SIZE_MAX, TFTP_E_NONE, "a/./b" },
	{ "a\0b", 1, TFTP_E_NONE, "a" },	/* only len bytes count */
};

static const struct norm_case norm_bad[] = {
	{ "", 0, TFTP_E_NOTFOUND, NULL },
	{ "x", 0, TFTP_E_NOTFOUND, NULL },
	{ "/", SIZE_MAX, TFTP_E_NOTFOUND, NULL },
	{ "//", SIZE_MAX, TFTP_E_NOTFOUND, NULL },
	{ "\\", SIZE_MAX, TFTP_E_NOTFOUND, NULL },
	{ "/\\//", SIZE_MAX, TFTP_E_NOTFOUND, NULL },
	{ "a\0b", 3, TFTP_E_ACCESS, NULL },
	{ "\0", 1, TFTP_E_ACCESS, NULL },
	{ "abc\0", 4, TFTP_E_ACCESS, NULL },
	{ "\0abc", 4, TFTP_E_ACCESS, NULL },
	{ "..", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "../x", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a/../../x", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "..\\x", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "/..", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "/../etc/passwd", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a/..", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a/../", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a/../b", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "\\..\\..\\etc\\passwd", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a//..//b", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "./../x", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a\\..", SIZE_MAX, TFTP_E_ACCESS, NULL },
	{ "a/b/c/../../../..", SIZE_MAX, TFTP_E_ACCESS, NULL },
};

static void
norm_check(const struct norm_case *c)
{
	char		 out[FS_PATH_MAX + 1];
	size_t		 len;
	enum tftp_err	 e;

	len = c->len == SIZE_MAX ? strlen(c->in) : c->len;
	memset(out, 'Z', sizeof(out));
	e = fs_normalize(c->in, len, out, sizeof(out));
	ck_assert_msg(e == c->want, "\"%s\" (len %zu): got %d, want %d",
	    c->in, len, (int)e, (int)c->want);
	if (c->want == TFTP_E_NONE)
		ck_assert_str_eq(out, c->out);
	else
		ck_assert_int_eq(out[0], '\0');
}

START_TEST(t_norm_ok)
{
	norm_check(&norm_ok[_i]);
}
END_TEST

START_TEST(t_norm_bad)
{
	norm_check(&norm_bad[_i]);
}
END_TEST

START_TEST(t_norm_length)
{
	char	 in[FS_PATH_MAX + 2];
	char	 out[FS_PATH_MAX + 1];

	memset(in, 'a', sizeof(in));

	/* Exactly FS_PATH_MAX bytes: accepted unchanged. */
	ck_assert_int_eq(fs_normalize(in, FS_PATH_MAX, out, sizeof(out)),
	    TFTP_E_NONE);
	ck_assert_uint_eq(strlen(out), FS_PATH_MAX);
	ck_assert_mem_eq(out, in, FS_PATH_MAX);

	/* One more: refused, even though stripping would shorten it. */
	ck_assert_int_eq(fs_normalize(in, FS_PATH_MAX + 1, out, sizeof(out)),
	    TFTP_E_ACCESS);
	in[0] = '/';
	ck_assert_int_eq(fs_normalize(in, FS_PATH_MAX + 1, out, sizeof(out)),
	    TFTP_E_ACCESS);
	ck_assert_int_eq(out[0], '\0');

	/* The client's length counts, slashes included. */
	ck_assert_int_eq(fs_normalize(in, FS_PATH_MAX, out, sizeof(out)),
	    TFTP_E_NONE);
	ck_assert_uint_eq(strlen(out), FS_PATH_MAX - 1);
}
END_TEST

START_TEST(t_norm_small_out)
{
	char	 out[8];

	ck_assert_int_eq(fs_normalize("abcdefg", 7, out, sizeof(out)),
	    TFTP_E_NONE);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_int_eq(fs_normalize("abcdefgh", 8, out, sizeof(out)),
	    TFTP_E_ACCESS);
	ck_assert_int_eq(out[0], '\0');
	/* Stripped slashes do not count against the buffer. */
	ck_assert_int_eq(fs_normalize("///abcdefg", 10, out, sizeof(out)),
	    TFTP_E_NONE);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_int_eq(fs_normalize("a", 1, out, 0), TFTP_E_ACCESS);
}
END_TEST

/*
 * Root.
 */

START_TEST(t_root_open)
{
	char	 path[PATH_MAX];
	int	 fd, fl;

	fd = fs_root_open(rootdir);
	ck_assert_int_ge(fd, 0);
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_ne(fl, -1);
	ck_assert_int_eq(fl & O_PATH, O_PATH);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	ck_assert_int_eq(close(fd), 0);

	mkpath(path, sizeof(path), rootdir, "hello.txt");
	errno = 0;
	ck_assert_int_eq(fs_root_open(path), -1);
	ck_assert_int_eq(errno, ENOTDIR);

	mkpath(path, sizeof(path), rootdir, "missing");
	errno = 0;
	ck_assert_int_eq(fs_root_open(path), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/*
 * Reads.
 */

/* Open name and expect content; the descriptor is closed again. */
static void
read_expect(const char *name, const char *content, size_t len)
{
	uint8_t		 buf[256];
	uint64_t	 size;
	int		 fd, fl;

	size = 12345;
	ck_assert_int_eq(fs_open_read(rootfd, name, 0, 0, &fd, &size, NULL),
	    TFTP_E_NONE);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(size, len);
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	ck_assert_uint_eq(drain(fd, buf, sizeof(buf)), len);
	ck_assert_mem_eq(buf, content, len);
	ck_assert_int_eq(close(fd), 0);
}

/* Open name and expect err, with nothing returned or leaked. */
static void
read_refused(const char *name, int netascii, enum tftp_err want)
{
	uint64_t	 size;
	enum tftp_err	 e;
	int		 fd, before;

	before = next_fd();
	fd = 42;
	size = 42;
	e = fs_open_read(rootfd, name, netascii, 0, &fd, &size, NULL);
	ck_assert_msg(e == want, "%s (netascii %d): got %d, want %d",
	    name, netascii, (int)e, (int)want);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(next_fd(), before);
}

START_TEST(t_read_plain)
{
	read_expect("hello.txt", HELLO, strlen(HELLO));
	read_expect("sub/inner.txt", INNER, strlen(INNER));
	read_expect("./hello.txt", HELLO, strlen(HELLO));
}
END_TEST

START_TEST(t_read_inside_links)
{
	const char	*names[] = { "link_in", "dirlink/inner.txt",
	    "sub/link_up", "sub/../hello.txt" };
	size_t		 i;

	if (have_openat2) {
		read_expect("link_in", HELLO, strlen(HELLO));
		read_expect("dirlink/inner.txt", INNER, strlen(INNER));
		read_expect("sub/link_up", HELLO, strlen(HELLO));
		read_expect("sub/../hello.txt", HELLO, strlen(HELLO));
	} else
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			read_refused(names[i], 0, TFTP_E_ACCESS);
}
END_TEST

START_TEST(t_read_missing)
{
	read_refused("nope", 0, TFTP_E_NOTFOUND);
	read_refused("sub/nope", 0, TFTP_E_NOTFOUND);
	read_refused("nodir/x", 0, TFTP_E_NOTFOUND);
	read_refused("hello.txt/x", 0, TFTP_E_NOTFOUND);
	read_refused("hello.txt/", 0, TFTP_E_NOTFOUND);
	read_refused("", 0, TFTP_E_NOTFOUND);
	read_refused("nope", 1, TFTP_E_NOTFOUND);
}
END_TEST

/* Names that lead out of the root, raw (fs_open_read's own defence). */
static const char *const escapes[] = {
	"link_out",
	"link_abs",
	"link_passwd",
	"sub/link_out2",
	"link_outdir/secret",
	"../sentinel",
	"../outside/secret",
	"sub/../../sentinel",
	"dirlink/../../sentinel",
	"/etc/passwd",
	"../../../../../../../../etc/passwd",
};

START_TEST(t_read_escape)
{
	read_refused(escapes[_i], 0, TFTP_E_ACCESS);
	read_refused(escapes[_i], 1, TFTP_E_ACCESS);
}
END_TEST

START_TEST(t_read_escape_abs)
{
	char	 path[PATH_MAX];

	mkpath(path, sizeof(path), base, "sentinel");
	read_refused(path, 0, TFTP_E_ACCESS);
	mkpath(path, sizeof(path), rootdir, "hello.txt");
	read_refused(path, 0, TFTP_E_ACCESS);
}
END_TEST

START_TEST(t_read_nonregular)
{
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX];
	int			 s;

	read_refused("emptydir", 0, TFTP_E_ACCESS);
	read_refused("sub", 0, TFTP_E_ACCESS);
	read_refused("sub/", 0, TFTP_E_ACCESS);
	read_refused(".", 0, TFTP_E_ACCESS);
	read_refused("sub", 1, TFTP_E_ACCESS);
	/* No writer: a blocking open would hang here until the timeout. */
	read_refused("fifo", 0, TFTP_E_ACCESS);
	read_refused("fifo", 1, TFTP_E_ACCESS);

	/* A device node; creating one needs CAP_MKNOD. */
	mkpath(path, sizeof(path), rootdir, "null");
	if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0)
		read_refused("null", 0, TFTP_E_ACCESS);
	else
		ck_assert_int_eq(errno, EPERM);

	/* A socket cannot be opened at all (ENXIO). */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	mkpath(sun.sun_path, sizeof(sun.sun_path), rootdir, "sock");
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(s, -1);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	read_refused("sock", 0, TFTP_E_ACCESS);
	read_refused("sock", 1, TFTP_E_ACCESS);
	ck_assert_int_eq(close(s), 0);
}
END_TEST

/*
 * Netascii reads.
 */

START_TEST(t_netascii_small)
{
	char		 link[64], target[PATH_MAX];
	uint8_t		 buf[64];
	uint64_t	 size;
	ssize_t		 n;
	int		 fd;

	ck_assert_int_eq(fs_open_read(rootfd, "text.txt", 1, 0, &fd, &size,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(size, sizeof(TEXT_NA) - 1);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_msg(strncmp(target, "/memfd:owltftpd-netascii", 24) == 0,
	    "fd is %s", target);
	ck_assert_uint_eq(drain(fd, buf, sizeof(buf)), sizeof(TEXT_NA) - 1);
	ck_assert_mem_eq(buf, TEXT_NA, sizeof(TEXT_NA) - 1);
	ck_assert_int_eq(close(fd), 0);

	/* The octet view of the same file is untouched. */
	read_expect("text.txt", TEXT, strlen(TEXT));
}
END_TEST

START_TEST(t_netascii_empty)
{
	uint8_t		 buf[16];
	uint64_t	 size;
	int		 fd;

	put_file("root/empty", "", 0);
	size = 99;
	ck_assert_int_eq(fs_open_read(rootfd, "empty", 1, 0, &fd, &size, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(size, 0);
	ck_assert_uint_eq(drain(fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

/* Several read chunks, line ends straddling their edges. */
START_TEST(t_netascii_large)
{
	const size_t	 len = 200003;
	uint8_t		*src, *want, *got;
	uint64_t	 size;
	size_t		 i, wlen;
	int		 fd, before;

	src = malloc(len);
	want = malloc(2 * len);
	got = malloc(2 * len + 1);
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	wlen = 0;
	for (i = 0; i < len; i++) {
		if (i % 7 == 6 || i == 65535)
			src[i] = '\n';
		else if (i % 13 == 12 || i == 65536 + 65535)
			src[i] = '\r';
		else
			src[i] = (uint8_t)('A' + i % 26);
		want[wlen++] = src[i] == '\n' || src[i] == '\r' ? '\r' : src[i];
		if (src[i] == '\n')
			want[wlen++] = '\n';
		else if (src[i] == '\r')
			want[wlen++] = '\0';
	}
	put_file("root/big.txt", src, len);

	before = next_fd();
	ck_assert_int_eq(fs_open_read(rootfd, "big.txt", 1, 0, &fd, &size,
	    NULL), TFTP_E_NONE);
	/* The original file was opened first and closed again. */
	ck_assert_int_eq(next_fd(), before);
	ck_assert_int_ne(fd, before);
	ck_assert_uint_eq(size, wlen);
	ck_assert_uint_gt(wlen, len);
	ck_assert_uint_eq(drain(fd, got, 2 * len + 1), wlen);
	ck_assert_int_eq(memcmp(got, want, wlen), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(next_fd(), before);
	free(src);
	free(want);
	free(got);
}
END_TEST

/*
 * Uploads.
 */

static void
up_write(struct fs_upload *up, const char *s)
{
	ck_assert_int_eq(fs_upload_write(up, s, strlen(s)), TFTP_E_NONE);
}

static void
expect_content(const char *rel, const char *want)
{
	char	 buf[256];
	ssize_t	 n;

	n = get_file(rel, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_mem_eq(buf, want, (size_t)n);
}

static void
expect_content_n(const char *rel, const void *want, size_t len)
{
	char	 buf[1024];
	ssize_t	 n;

	n = get_file(rel, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_mem_eq(buf, want, len);
}

static void
expect_idle(const struct fs_upload *up)
{
	ck_assert_int_eq(up->dirfd, -1);
	ck_assert_int_eq(up->fd, -1);
	ck_assert_str_eq(up->tmp, "");
}

/*
 * The permission policy (world, permission_check): tftpd-hpa without
 * --permissive.  Modes are set with chmod so the test's umask does not
 * matter.
 */
static void
chmod_rel(const char *rel, mode_t mode)
{
	char	 path[PATH_MAX];

	mkpath(path, sizeof(path), base, rel);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
read_world(const char *name, enum tftp_err want)
{
	uint64_t	 size;
	enum tftp_err	 e;
	int		 fd = 42, before = next_fd();

	e = fs_open_read(rootfd, name, 0, 1, &fd, &size, NULL);
	ck_assert_msg(e == want, "%s: got %d, want %d", name, (int)e,
	    (int)want);
	if (e == TFTP_E_NONE) {
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(close(fd), 0);
	} else
		ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(next_fd(), before);
}

START_TEST(t_perm_read)
{
	chmod_rel("root/hello.txt", 0644);
	read_world("hello.txt", TFTP_E_NONE);
	chmod_rel("root/hello.txt", 0604);
	read_world("hello.txt", TFTP_E_NONE);
	chmod_rel("root/hello.txt", 0640);
	read_world("hello.txt", TFTP_E_PERM_READ);
	chmod_rel("root/hello.txt", 0600);
	read_world("hello.txt", TFTP_E_PERM_READ);
	/* netascii is checked too, before the copy is made */
	ck_assert_int_eq(fs_open_read(rootfd, "hello.txt", 1, 1,
	    &(int){ 0 }, &(uint64_t){ 0 }, NULL), TFTP_E_PERM_READ);
	/* without the policy the process's own rights decide */
	read_expect("hello.txt", HELLO, strlen(HELLO));
	/* a missing file is still "not found", not a permission matter */
	read_world("nosuch", TFTP_E_NOTFOUND);
	/* the mode of what a link leads to counts */
	read_world("link_in", TFTP_E_PERM_READ);
	ck_assert_str_eq(fs_perm_reason(TFTP_E_PERM_READ),
	    "not world-readable");
	ck_assert_ptr_null(fs_perm_reason(TFTP_E_ACCESS));
}
END_TEST

START_TEST(t_perm_overwrite)
{
	struct fs_upload	 up;
	enum fs_upload_policy	 pol[] = { FS_UPLOAD_OVERWRITE,
				    FS_UPLOAD_EXISTING };
	size_t			 i;

	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		chmod_rel("root/hello.txt", 0644);
		ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt", pol[i],
		    0, 1, &up), TFTP_E_PERM_WRITE);
		expect_idle(&up);
		ck_assert_int_eq(tmp_everywhere(), 0);
		/* o+w is what counts, not the owner's or group's bits */
		chmod_rel("root/hello.txt", 0602);
		ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt", pol[i],
		    0, 1, &up), TFTP_E_NONE);
		up_write(&up, "replaced\n");
		ck_assert_int_eq(fs_upload_commit(&up, 0, pol[i]),
		    TFTP_E_NONE);
		expect_content("root/hello.txt", "replaced\n");
		/* mask 0: the new file is world-writable again, as in
		 * tftpd-hpa, so the next upload may replace it */
		ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt", pol[i],
		    0, 1, &up), TFTP_E_NONE);
		fs_upload_abort(&up);
	}
	ck_assert_str_eq(fs_perm_reason(TFTP_E_PERM_WRITE),
	    "not world-writable");
}
END_TEST

/*
 * New files are created whatever umask leaves them, policy or not: the
 * policy is about files that exist (in.tftpd's check of the file it has
 * just made would refuse every upload under our default umask 022).
 */
START_TEST(t_perm_create)
{
	struct fs_upload	 up;

	ck_assert_int_eq(fs_upload_begin(rootfd, "new.txt", FS_UPLOAD_CREATE,
	    022, 1, &up), TFTP_E_NONE);
	up_write(&up, "new\n");
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	expect_content("root/new.txt", "new\n");
	/* without the policy any mask will do */
	ck_assert_int_eq(fs_upload_begin(rootfd, "other.txt",
	    FS_UPLOAD_CREATE, 077, 0, &up), TFTP_E_NONE);
	fs_upload_abort(&up);
	ck_assert_ptr_null(fs_perm_reason(TFTP_E_NONE));
}
END_TEST

/* "existing": tftpd-hpa without --create replaces but never creates. */
START_TEST(t_up_existing)
{
	struct fs_upload	 up;

	ck_assert_int_eq(fs_upload_begin(rootfd, "new.txt",
	    FS_UPLOAD_EXISTING, 022, 0, &up), TFTP_E_NOTFOUND);
	expect_idle(&up);
	ck_assert_int_eq(exists("root/new.txt"), 0);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_EXISTING, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "again\n");
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_EXISTING),
	    TFTP_E_NONE);
	expect_content("root/hello.txt", "again\n");
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

/*
 * Temporary names.  fs_tmp_match must accept exactly what the upload
 * code makes, since tmpclean deletes what it accepts.
 */

START_TEST(t_tmp_match_made)
{
	struct fs_upload	 up;
	pid_t			 pid;
	char			 name[32];
	int			 i;

	for (i = 0; i < 200; i++) {
		(void)snprintf(name, sizeof(name), "sub/f%d", i);
		ck_assert_int_eq(fs_upload_begin(rootfd, name,
		    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NONE);
		pid = 0;
		ck_assert_msg(fs_tmp_match(up.tmp, &pid), "%s", up.tmp);
		ck_assert_int_eq(pid, getpid());
		ck_assert_msg(fs_tmp_match(up.tmp, NULL), "%s", up.tmp);
		fs_upload_abort(&up);
	}
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

struct tmp_case {
	const char	*name;
	pid_t		 pid;		/* 0: must not match */
};

static const struct tmp_case tmp_cases[] = {
	{ ".owltftpd.1.abcdef", 1 },
	{ ".owltftpd.4194304.ABC123", 4194304 },
	{ ".owltftpd.2147483647.zZ09aA", 2147483647 },
	{ ".owltftpd.10.000000", 10 },
	/* Near misses. */
	{ "", 0 },
	{ ".owltftpd.", 0 },
	{ ".owltftpd.1", 0 },
	{ ".owltftpd.1.", 0 },
	{ ".owltftpd.1.abcde", 0 },		/* 5 random */
	{ ".owltftpd.1.abcdefg", 0 },		/* 7 random */
	{ ".owltftpd.abcdef", 0 },		/* the old, pid-less form */
	{ ".owltftpd.abc123", 0 },
	{ ".owltftpd.0.abcdef", 0 },
	{ ".owltftpd.01.abcdef", 0 },
	{ ".owltftpd.-1.abcdef", 0 },
	{ ".owltftpd.+1.abcdef", 0 },
	{ ".owltftpd. 1.abcdef", 0 },
	{ ".owltftpd.1 .abcdef", 0 },
	{ ".owltftpd.2147483648.abcdef", 0 },	/* above INT_MAX */
	{ ".owltftpd.9999999999.abcdef", 0 },
	{ ".owltftpd.12345678901.abcdef", 0 },	/* 11 digits */
	{ ".owltftpd.1..abcdef", 0 },
	{ ".owltftpd.1.abc-ef", 0 },
	{ ".owltftpd.1.abc.ef", 0 },
	{ ".owltftpd.1.abc_ef", 0 },
	{ ".owltftpd.1.abc/ef", 0 },
	{ ".owltftpd.1.abcde\xe9", 0 },
	{ ".owltftpd.1.abcdef.", 0 },
	{ ".owltftpd.1.abcdef/", 0 },
	{ ".owltftpd.1.abcdef~", 0 },
	{ ".owltftpd.1.abcdef ", 0 },
	{ ".owltftpd.1.abcdef\n", 0 },
	{ ".owltftpd.1_abcdef", 0 },
	{ ".owltftpd.1abcdef", 0 },
	{ ".owltftpd-1.abcdef", 0 },
	{ ".owltftpd-notmine", 0 },
	{ ".OWLTFTPD.1.abcdef", 0 },
	{ "owltftpd.1.abcdef", 0 },
	{ "..owltftpd.1.abcdef", 0 },
	{ "x.owltftpd.1.abcdef", 0 },
	{ " .owltftpd.1.abcdef", 0 },
	{ "sub/.owltftpd.1.abcdef", 0 },	/* a component, not a path */
};

START_TEST(t_tmp_match_cases)
{
	const struct tmp_case	*c = &tmp_cases[_i];
	pid_t			 pid = -7;

	if (c->pid == 0) {
		ck_assert_msg(!fs_tmp_match(c->name, &pid), "\"%s\" matched",
		    c->name);
		ck_assert_int_eq(pid, -7);
	} else {
		ck_assert_msg(fs_tmp_match(c->name, &pid), "\"%s\" refused",
		    c->name);
		ck_assert_int_eq(pid, c->pid);
	}
}
END_TEST

/* A partial upload is never served, whatever its name looks like. */
START_TEST(t_tmp_never_read)
{
	put_file("root/.owltftpd.1.abcdef", HELLO, strlen(HELLO));
	put_file("root/sub/.owltftpd.1.abcdef", HELLO, strlen(HELLO));
	put_file("root/.owltftpd.abc123", HELLO, strlen(HELLO));
	put_dir("root/.owltftpd.d");
	put_file("root/.owltftpd.d/x", HELLO, strlen(HELLO));
	read_refused(".owltftpd.1.abcdef", 0, TFTP_E_ACCESS);
	read_refused(".owltftpd.1.abcdef", 1, TFTP_E_ACCESS);
	read_refused("sub/.owltftpd.1.abcdef", 0, TFTP_E_ACCESS);
	read_refused("./.owltftpd.1.abcdef", 0, TFTP_E_ACCESS);
	read_refused(".owltftpd.abc123", 0, TFTP_E_ACCESS);
	read_refused(".owltftpd.d/x", 0, TFTP_E_ACCESS);
	read_refused(".owltftpd.nothere", 0, TFTP_E_ACCESS);
	/* Names that only look alike are ordinary files. */
	put_file("root/.owltftpd-notmine", HELLO, strlen(HELLO));
	put_file("root/x.owltftpd.1.abcdef", HELLO, strlen(HELLO));
	read_expect(".owltftpd-notmine", HELLO, strlen(HELLO));
	read_expect("x.owltftpd.1.abcdef", HELLO, strlen(HELLO));
}
END_TEST

START_TEST(t_up_init)
{
	struct fs_upload	 up;

	memset(&up, 0x55, sizeof(up));
	fs_upload_init(&up);
	expect_idle(&up);
	ck_assert_str_eq(up.final, "");
	fs_upload_abort(&up);
	fs_upload_abort(&up);
	expect_idle(&up);
	ck_assert_int_eq(fs_upload_write(&up, "x", 1), TFTP_E_UNDEF);
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_OVERWRITE),
	    TFTP_E_UNDEF);
}
END_TEST

START_TEST(t_up_create_new)
{
	struct fs_upload	 up;
	pid_t			 pid;
	int			 before;

	before = next_fd();
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "new.txt", FS_UPLOAD_CREATE,
	    022, 0, &up), TFTP_E_NONE);
	ck_assert_int_ge(up.fd, 0);
	ck_assert_int_ge(up.dirfd, 0);
	ck_assert_str_eq(up.final, "new.txt");
	ck_assert_msg(fs_tmp_match(up.tmp, &pid), "%s", up.tmp);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(count_tmp("root"), 1);

	up_write(&up, "pay");
	up_write(&up, "load");
	ck_assert_int_eq(fs_upload_write(&up, "", 0), TFTP_E_NONE);
	ck_assert(!exists("root/new.txt"));

	ck_assert_int_eq(fs_upload_commit(&up, 1, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	expect_idle(&up);
	expect_content("root/new.txt", "payload");
	ck_assert_int_eq(tmp_everywhere(), 0);
	ck_assert_int_eq(next_fd(), before);

	/* Abort after commit must not touch the committed file. */
	fs_upload_abort(&up);
	expect_content("root/new.txt", "payload");
}
END_TEST

/*
 * writev() through the linker's --wrap (see Makefile.am): with
 * short_writev set it writes at most that many bytes a call, across
 * iovec boundaries, as a file system may.
 */
ssize_t		 __real_writev(int, const struct iovec *, int);
ssize_t		 __wrap_writev(int, const struct iovec *, int);
static size_t	 short_writev;
static unsigned	 writev_calls;

ssize_t
__wrap_writev(int fd, const struct iovec *iov, int cnt)
{
	struct iovec	 part[16];
	size_t		 left = short_writev;
	int		 i;

	writev_calls++;
	if (short_writev == 0)
		return __real_writev(fd, iov, cnt);
	for (i = 0; i < cnt && i < 16 && left > 0; i++) {
		part[i] = iov[i];
		if (part[i].iov_len > left)
			part[i].iov_len = left;
		left -= part[i].iov_len;
	}
	return __real_writev(fd, part, i);
}

/* Short writes resume where they stopped, within and across pieces. */
START_TEST(t_up_writev_short_writes)
{
	struct fs_upload	 up;
	struct iovec		 iov[4];
	char			 a[150], c[37], d[300], want[487];

	memset(a, 'a', sizeof a);
	memset(c, 'c', sizeof c);
	memset(d, 'd', sizeof d);
	d[sizeof d - 1] = 'z';
	memcpy(want, a, sizeof a);
	memcpy(want + sizeof a, c, sizeof c);
	memcpy(want + sizeof a + sizeof c, d, sizeof d);
	iov[0].iov_base = a;
	iov[0].iov_len = sizeof a;
	iov[1].iov_base = a;
	iov[1].iov_len = 0;		/* an empty block */
	iov[2].iov_base = c;
	iov[2].iov_len = sizeof c;
	iov[3].iov_base = d;
	iov[3].iov_len = sizeof d;
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "pieces.bin",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NONE);
	short_writev = 100;
	writev_calls = 0;
	ck_assert_int_eq(fs_upload_writev(&up, iov, 4), TFTP_E_NONE);
	ck_assert_uint_eq(writev_calls, 5);	/* 487 bytes, 100 a call */
	short_writev = 0;
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	expect_content_n("root/pieces.bin", want, sizeof want);
}
END_TEST

START_TEST(t_up_create_exists)
{
	struct fs_upload	 up;
	int			 before;

	before = next_fd();
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_EXISTS);
	expect_idle(&up);
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);
	ck_assert_int_eq(next_fd(), before);
}
END_TEST

/* Someone else creates the name while a CREATE upload is running. */
START_TEST(t_up_create_race)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "race.txt", FS_UPLOAD_CREATE,
	    022, 0, &up), TFTP_E_NONE);
	up_write(&up, "mine");
	put_file("root/race.txt", "theirs", 6);
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_EXISTS);
	expect_idle(&up);
	expect_content("root/race.txt", "theirs");
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_overwrite_atomic)
{
	struct fs_upload	 up;
	char			 buf[64], path[PATH_MAX];
	ssize_t			 n;
	int			 oldfd;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "new content\n");
	/* Before commit the old content is what readers get. */
	expect_content("root/hello.txt", HELLO);
	read_expect("hello.txt", HELLO, strlen(HELLO));
	mkpath(path, sizeof(path), rootdir, "hello.txt");
	oldfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ne(oldfd, -1);

	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_OVERWRITE),
	    TFTP_E_NONE);
	expect_idle(&up);
	expect_content("root/hello.txt", "new content\n");
	read_expect("hello.txt", "new content\n", 12);
	/* A reader that opened before still sees the whole old file. */
	n = read(oldfd, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(HELLO));
	ck_assert_mem_eq(buf, HELLO, (size_t)n);
	ck_assert_int_eq(close(oldfd), 0);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

/* A CREATE-policy commit never replaces, whatever begin saw. */
START_TEST(t_up_commit_policy)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "other");
	ck_assert_int_eq(fs_upload_commit(&up, 1, FS_UPLOAD_CREATE),
	    TFTP_E_EXISTS);
	expect_idle(&up);
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);

	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "other");
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_OFF),
	    TFTP_E_ACCESS);
	expect_idle(&up);
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_off)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "new.txt", FS_UPLOAD_OFF,
	    022, 0, &up), TFTP_E_ACCESS);
	expect_idle(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt", FS_UPLOAD_OFF,
	    022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "new.txt",
	    (enum fs_upload_policy)42, 022, 0, &up), TFTP_E_ACCESS);
	expect_idle(&up);
	ck_assert(!exists("root/new.txt"));
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_two_writers)
{
	struct fs_upload	 a, b;

	fs_upload_init(&a);
	fs_upload_init(&b);
	ck_assert_int_eq(fs_upload_begin(rootfd, "same.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &a), TFTP_E_NONE);
	ck_assert_int_eq(fs_upload_begin(rootfd, "same.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &b), TFTP_E_NONE);
	ck_assert_str_ne(a.tmp, b.tmp);
	ck_assert_int_eq(count_tmp("root"), 2);
	up_write(&a, "first");
	up_write(&b, "second");
	ck_assert_int_eq(fs_upload_commit(&a, 0, FS_UPLOAD_OVERWRITE),
	    TFTP_E_NONE);
	expect_content("root/same.txt", "first");
	ck_assert_int_eq(fs_upload_commit(&b, 0, FS_UPLOAD_OVERWRITE),
	    TFTP_E_NONE);
	expect_content("root/same.txt", "second");
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_subdir)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/new.txt",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NONE);
	ck_assert_int_eq(count_tmp("root/sub"), 1);
	ck_assert_int_eq(count_tmp("root"), 0);
	up_write(&up, "deep");
	ck_assert_int_eq(fs_upload_commit(&up, 1, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	expect_content("root/sub/new.txt", "deep");

	/* Through a symlinked directory that stays inside the root. */
	ck_assert_int_eq(fs_upload_begin(rootfd, "dirlink/viadir.txt",
	    FS_UPLOAD_CREATE, 022, 0, &up), INSIDE_LINK);
	if (have_openat2) {
		up_write(&up, "via");
		ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
		    TFTP_E_NONE);
		expect_content("root/sub/viadir.txt", "via");
	} else
		expect_idle(&up);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_abort_new)
{
	struct fs_upload	 up;
	int			 before;

	before = next_fd();
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/new.txt",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "partial");
	fs_upload_abort(&up);
	expect_idle(&up);
	ck_assert(!exists("root/sub/new.txt"));
	ck_assert_int_eq(tmp_everywhere(), 0);
	ck_assert_int_eq(next_fd(), before);
	fs_upload_abort(&up);
	expect_idle(&up);
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_UNDEF);
	ck_assert(!exists("root/sub/new.txt"));
}
END_TEST

START_TEST(t_abort_overwrite)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "this must never be seen");
	fs_upload_abort(&up);
	expect_idle(&up);
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

/* Begin, then the final name turns into a directory: commit fails clean. */
START_TEST(t_abort_commit_fails)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "victim",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "data");
	put_dir("root/victim");
	put_file("root/victim/keep", "keep", 4);
	ck_assert_int_eq(fs_upload_commit(&up, 1, FS_UPLOAD_OVERWRITE),
	    TFTP_E_ACCESS);
	expect_idle(&up);
	expect_content("root/victim/keep", "keep");
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_missing_parent)
{
	struct fs_upload	 up;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "nodir/x",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NOTFOUND);
	expect_idle(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "nodir/deeper/x",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NOTFOUND);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt/x",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NOTFOUND);
	expect_idle(&up);
	ck_assert(!exists("root/nodir"));
	expect_content("root/hello.txt", HELLO);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_escape)
{
	struct fs_upload	 up;
	char			 path[PATH_MAX];

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "../escape.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/../../escape.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "link_outdir/escape.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "../sentinel",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	mkpath(path, sizeof(path), base, "escape.txt");
	ck_assert_int_eq(fs_upload_begin(rootfd, path,
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	expect_idle(&up);
	ck_assert(!exists("escape.txt"));
	ck_assert(!exists("outside/escape.txt"));
	expect_content("sentinel", SENTINEL);
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

START_TEST(t_up_bad_final)
{
	struct fs_upload	 up;
	char			 name[NAME_MAX + 2];
	char			 rel[NAME_MAX + 8];

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, ".",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "..",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/.",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/..",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, ".owltftpd.AbC123",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, ".owltftpd.1.AbC123",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/.owltftpd.1.AbC123",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	/* A directory with the reserved prefix is no way in either. */
	put_dir("root/.owltftpd.d");
	ck_assert_int_eq(fs_upload_begin(rootfd, ".owltftpd.d/x",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/.owltftpd./x",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert(!exists("root/.owltftpd.d/x"));
	mkpath(rel, sizeof(rel), rootdir, ".owltftpd.d");
	ck_assert_int_eq(rmdir(rel), 0);
	ck_assert_int_eq(fs_upload_begin(rootfd, "",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NOTFOUND);
	memset(name, 'x', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	ck_assert_int_eq(fs_upload_begin(rootfd, name,
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	expect_idle(&up);
	ck_assert_int_eq(tmp_everywhere(), 0);

	/* NAME_MAX itself is a legal name. */
	name[NAME_MAX] = '\0';
	ck_assert_int_eq(fs_upload_begin(rootfd, name,
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_NONE);
	up_write(&up, "long");
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	(void)snprintf(rel, sizeof(rel), "root/%s", name);
	ck_assert(exists(rel));
}
END_TEST

START_TEST(t_up_not_regular)
{
	struct fs_upload	 up;
	char			 path[PATH_MAX], target[PATH_MAX];
	struct stat		 st;
	ssize_t			 n;

	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "link_in",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "link_in",
	    FS_UPLOAD_CREATE, 022, 0, &up), TFTP_E_EXISTS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "link_passwd",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "link_out",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "emptydir",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	ck_assert_int_eq(fs_upload_begin(rootfd, "fifo",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_ACCESS);
	expect_idle(&up);
	ck_assert_int_eq(tmp_everywhere(), 0);

	/* All still what they were. */
	mkpath(path, sizeof(path), rootdir, "link_passwd");
	n = readlink(path, target, sizeof(target) - 1);
	ck_assert_int_eq(n, 11);
	target[n] = '\0';
	ck_assert_str_eq(target, "/etc/passwd");
	mkpath(path, sizeof(path), rootdir, "emptydir");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	mkpath(path, sizeof(path), rootdir, "fifo");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	expect_content("sentinel", SENTINEL);
}
END_TEST

static const struct {
	mode_t	 mask;
	mode_t	 umask;		/* the process's, which must not matter */
	mode_t	 want;
} mode_cases[] = {
	{ 027, 022, 0640 },
	{ 022, 077, 0644 },
	{ 0, 077, 0666 },
	{ 077, 0, 0600 },
	{ 0777, 0, 0 },
	{ 002, 0777, 0664 },
};

START_TEST(t_up_mode)
{
	struct fs_upload	 up;
	struct stat		 st;
	char			 path[PATH_MAX];
	mode_t			 old;

	old = umask(mode_cases[_i].umask);
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "sub/mode.bin",
	    FS_UPLOAD_CREATE, mode_cases[_i].mask, 0, &up), TFTP_E_NONE);
	(void)umask(old);
	ck_assert_int_eq(fstat(up.fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, mode_cases[_i].want);
	up_write(&up, "m");
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_CREATE),
	    TFTP_E_NONE);
	mkpath(path, sizeof(path), rootdir, "sub/mode.bin");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, mode_cases[_i].want);
}
END_TEST

/* RLIMIT_FSIZE makes write fail with EFBIG, standing in for a full disk. */
START_TEST(t_up_diskfull)
{
	struct fs_upload	 up;
	struct rlimit		 old, rl;
	char			 buf[8192];
	void			 (*oldsig)(int);
	enum tftp_err		 e;

	memset(buf, 'd', sizeof(buf));
	fs_upload_init(&up);
	ck_assert_int_eq(fs_upload_begin(rootfd, "hello.txt",
	    FS_UPLOAD_OVERWRITE, 022, 0, &up), TFTP_E_NONE);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = 4096;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	ck_assert(oldsig != SIG_ERR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	e = fs_upload_write(&up, buf, sizeof(buf));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, oldsig);

	ck_assert_int_eq(e, TFTP_E_DISKFULL);
	/* A failed write has already thrown the upload away. */
	expect_idle(&up);
	ck_assert_int_eq(tmp_everywhere(), 0);
	expect_content("root/hello.txt", HELLO);
	fs_upload_abort(&up);
	ck_assert_int_eq(fs_upload_commit(&up, 0, FS_UPLOAD_OVERWRITE),
	    TFTP_E_UNDEF);
	expect_content("root/hello.txt", HELLO);
}
END_TEST

/*
 * The fallback walk, forced by making openat2 answer ENOSYS.  A seccomp
 * filter cannot be removed, so it runs in a child that reports results
 * through a pipe; the assertions are made here.
 */

static const struct {
	const char	*name;
	enum tftp_err	 want;
} walk_cases[] = {
	{ "hello.txt", TFTP_E_NONE },
	{ "sub/inner.txt", TFTP_E_NONE },
	{ "./sub/./inner.txt", TFTP_E_NONE },
	{ "sub//inner.txt", TFTP_E_NONE },
	{ "nope", TFTP_E_NOTFOUND },
	{ "sub/nope", TFTP_E_NOTFOUND },
	{ "hello.txt/x", TFTP_E_NOTFOUND },
	{ "hello.txt/", TFTP_E_NOTFOUND },
	{ "", TFTP_E_NOTFOUND },
	{ "sub", TFTP_E_ACCESS },
	{ "sub/", TFTP_E_ACCESS },
	{ "fifo", TFTP_E_ACCESS },
	{ "link_in", TFTP_E_ACCESS },		/* stricter than openat2 */
	{ "dirlink/inner.txt", TFTP_E_ACCESS },	/* stricter than openat2 */
	{ "sub/link_up", TFTP_E_ACCESS },	/* stricter than openat2 */
	{ "sub/../hello.txt", TFTP_E_ACCESS },	/* stricter than openat2 */
	{ "link_out", TFTP_E_ACCESS },
	{ "link_abs", TFTP_E_ACCESS },
	{ "link_passwd", TFTP_E_ACCESS },
	{ "sub/link_out2", TFTP_E_ACCESS },
	{ "link_outdir/secret", TFTP_E_ACCESS },
	{ "../sentinel", TFTP_E_ACCESS },
	{ "/etc/passwd", TFTP_E_ACCESS },
};

#define WALK_EXTRA	4	/* probe + three upload results */

static int
block_openat2(void)
{
	struct sock_filter	 filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	 prog;

	prog.len = sizeof(filter) / sizeof(filter[0]);
	prog.filter = filter;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return (-1);
	return (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
}

static void
walk_child(int wfd)
{
	int			 res[sizeof(walk_cases) / sizeof(walk_cases[0]) +
				    WALK_EXTRA];
	struct fs_upload	 up;
	enum tftp_err		 e;
	uint64_t		 size;
	size_t			 i, n;
	int			 fd;

	n = 0;
	if (block_openat2() == -1)
		_exit(2);
	res[n++] = probe_openat2(rootfd);
	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++) {
		e = fs_open_read(rootfd, walk_cases[i].name, 0, 0, &fd, &size,
		    NULL);
		res[n++] = (int)e;
		if (fd != -1)
			(void)close(fd);
	}
	fs_upload_init(&up);
	e = fs_upload_begin(rootfd, "sub/walk.txt", FS_UPLOAD_CREATE, 022, 0,
	    &up);
	if (e == TFTP_E_NONE)
		e = fs_upload_write(&up, "walk", 4);
	if (e == TFTP_E_NONE)
		e = fs_upload_commit(&up, 0, FS_UPLOAD_CREATE);
	res[n++] = (int)e;
	e = fs_upload_begin(rootfd, "nodir/x", FS_UPLOAD_CREATE, 022, 0, &up);
	res[n++] = (int)e;
	e = fs_upload_begin(rootfd, "link_outdir/x", FS_UPLOAD_CREATE, 022, 0,
	    &up);
	res[n++] = (int)e;
	if (write(wfd, res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(3);
	/* Inherited descriptors would only be noise under --track-fds. */
	(void)close_range(3, ~0U, 0);
	_exit(0);
}

START_TEST(t_walk_fallback)
{
	int	 res[sizeof(walk_cases) / sizeof(walk_cases[0]) + WALK_EXTRA];
	size_t	 i, n;
	pid_t	 pid;
	int	 pfd[2], status;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		(void)close(pfd[0]);
		walk_child(pfd[1]);
	}
	(void)close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], res, sizeof(res)), (ssize_t)sizeof(res));
	(void)close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	n = 0;
	ck_assert_msg(res[n++] == 0, "openat2 was not blocked");
	for (i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++, n++)
		ck_assert_msg(res[n] == (int)walk_cases[i].want,
		    "%s: got %d, want %d", walk_cases[i].name, res[n],
		    (int)walk_cases[i].want);
	ck_assert_int_eq(res[n++], TFTP_E_NONE);
	ck_assert_int_eq(res[n++], TFTP_E_NOTFOUND);
	ck_assert_int_eq(res[n++], TFTP_E_ACCESS);
	expect_content("root/sub/walk.txt", "walk");
	ck_assert_int_eq(tmp_everywhere(), 0);
}
END_TEST

static Suite *
fs_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("fs");

	tc = tcase_create("normalize rewrites client names");
	tcase_add_loop_test(tc, t_norm_ok, 0,
	    sizeof(norm_ok) / sizeof(norm_ok[0]));
	tcase_add_test(tc, t_norm_small_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalize refuses bad names");
	tcase_add_loop_test(tc, t_norm_bad, 0,
	    sizeof(norm_bad) / sizeof(norm_bad[0]));
	tcase_add_test(tc, t_norm_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("root opens as an O_PATH directory");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_root_open);
	suite_add_tcase(s, tc);

	tc = tcase_create("read serves regular files inside the root");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_read_plain);
	tcase_add_test(tc, t_read_inside_links);
	tcase_add_test(tc, t_read_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("read never leaves the root");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, t_read_escape, 0,
	    sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, t_read_escape_abs);
	suite_add_tcase(s, tc);

	tc = tcase_create("read refuses non-regular files without blocking");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_read_nonregular);
	suite_add_tcase(s, tc);

	tc = tcase_create("netascii read translates into a memory file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_netascii_small);
	tcase_add_test(tc, t_netascii_empty);
	tcase_add_test(tc, t_netascii_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("temporary names are exact and never served");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_tmp_match_made);
	tcase_add_loop_test(tc, t_tmp_match_cases, 0,
	    sizeof(tmp_cases) / sizeof(tmp_cases[0]));
	tcase_add_test(tc, t_tmp_never_read);
	suite_add_tcase(s, tc);

	tc = tcase_create("upload commits atomically under its policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_up_init);
	tcase_add_test(tc, t_up_create_new);
	tcase_add_test(tc, t_up_writev_short_writes);
	tcase_add_test(tc, t_up_create_exists);
	tcase_add_test(tc, t_up_create_race);
	tcase_add_test(tc, t_up_overwrite_atomic);
	tcase_add_test(tc, t_up_commit_policy);
	tcase_add_test(tc, t_up_off);
	tcase_add_test(tc, t_up_two_writers);
	tcase_add_test(tc, t_up_subdir);
	suite_add_tcase(s, tc);

	tc = tcase_create("permission_check: world bits decide, as tftpd-hpa");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_perm_read);
	tcase_add_test(tc, t_perm_overwrite);
	tcase_add_test(tc, t_perm_create);
	tcase_add_test(tc, t_up_existing);
	suite_add_tcase(s, tc);

	tc = tcase_create("upload abort leaves no trace");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_abort_new);
	tcase_add_test(tc, t_abort_overwrite);
	tcase_add_test(tc, t_abort_commit_fails);
	tcase_add_test(tc, t_up_diskfull);
	suite_add_tcase(s, tc);

	tc = tcase_create("upload refuses bad targets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_up_missing_parent);
	tcase_add_test(tc, t_up_escape);
	tcase_add_test(tc, t_up_bad_final);
	tcase_add_test(tc, t_up_not_regular);
	suite_add_tcase(s, tc);

	tc = tcase_create("upload mode follows the mask, not the umask");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, t_up_mode, 0,
	    sizeof(mode_cases) / sizeof(mode_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("fallback walk without openat2 is stricter");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_walk_fallback);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	return check_run(fs_suite());
}
