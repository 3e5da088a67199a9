/*
 * owlbench: helpers the generator and the reflector share (common.h).
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PIDSET_MAX	4096	/* server processes followed in /proc */

struct file	*files;
size_t		 nfiles;

uint8_t			*rxbuf[VLEN];
struct mmsghdr		 rxmsg[VLEN];
struct sockaddr_storage	 rxaddr[VLEN];
static struct iovec	 rxiov[VLEN];

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "owlbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (p == NULL)
		die("out of memory");
	return p;
}

void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Append the string s and its NUL at p + off; the new offset. */
size_t
put_str(uint8_t *p, size_t off, size_t cap, const char *s)
{
	size_t l = strlen(s) + 1;

	if (off + l > cap)
		die("request too long");
	memcpy(p + off, s, l);
	return off + l;
}

/* A numeric host and port (no DNS: a bench must not wait on it). */
void
resolve(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *ai;
	int e;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("%s:%s: %s", host, port, gai_strerror(e));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* ------------------------------------------------------------------ */
/* client ports                                                        */

/*
 * Client ports come from our own rotation through 10000-32767, below the
 * kernel's ephemeral range the servers use for their transfer sockets, so a
 * port comes back only after ~22,000 transfers: a stale packet a server
 * still sends to an old transfer cannot land on a new one.
 */
static unsigned port_next;

/*
 * The rotation goes on from one owlbench process to the next (a state file,
 * OWLBENCH_PORTFILE, default /tmp/owlbench-ports), so the clients of a run
 * do not take the ports of the previous run's cut transfers, which a server
 * may still be retransmitting to.
 */
static const char *
port_file(void)
{
	const char *p = getenv("OWLBENCH_PORTFILE");

	return p && *p ? p : "/tmp/owlbench-ports";
}

void
port_load(void)
{
	FILE *fp = fopen(port_file(), "r");
	unsigned v = 0;

	if (fp) {
		if (fscanf(fp, "%u", &v) != 1)
			v = 0;
		fclose(fp);
	}
	port_next = v >= 10000 && v <= 32767 ? v :
	    10000 + (unsigned)(getpid() * 7919u % 22768u);
}

void
port_save(void)
{
	FILE *fp = fopen(port_file(), "w");

	if (fp) {
		fprintf(fp, "%u\n", port_next);
		fclose(fp);
	}
}

/* Bind fd to the next free port of the rotation, any address of srv's family. */
void
port_bind(int fd, const struct sockaddr_storage *srv, socklen_t srvlen)
{
	unsigned next = port_next;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		struct sockaddr_storage a;
		socklen_t al = srvlen;

		memcpy(&a, srv, srvlen);
		if (a.ss_family == AF_INET) {
			((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)next);
			((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_ANY);
		} else {
			((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)next);
			((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_any;
		}
		if (++next > 32767)
			next = 10000;
		if (bind(fd, (struct sockaddr *)&a, al) == 0) {
			port_next = next;
			return;
		}
	}
	port_next = next;
	/* all taken: let the kernel choose */
}

/* ------------------------------------------------------------------ */
/* files held in memory                                                */

void
load_file(const char *root, const char *name)
{
	char path[4096];
	struct stat st;
	struct file *f;
	size_t off = 0;
	int fd;

	snprintf(path, sizeof path, "%s/%s", root, name);
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	files = realloc(files, (nfiles + 1) * sizeof *files);
	if (files == NULL)
		die("out of memory");
	f = &files[nfiles++];
	f->name = strdup(name);
	f->size = (size_t)st.st_size;
	f->data = malloc(f->size ? f->size : 1);
	if (f->name == NULL || f->data == NULL)
		die("out of memory");
	while (off < f->size) {
		ssize_t r = read(fd, f->data + off, f->size - off);

		if (r <= 0)
			die("%s: short read", path);
		off += (size_t)r;
	}
	close(fd);
}

/* Every regular file in root whose name does not begin with a dot. */
void
load_dir(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;

	if (d == NULL)
		die("%s: %s", root, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", root, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			load_file(root, de->d_name);
	}
	closedir(d);
}

struct file *
find_file(const char *name)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* option parsing of OACK and requests                                 */

void
parse_opts(const uint8_t *p, size_t len, struct opts *o)
{
	const char *s = (const char *)p, *end = (const char *)p + len;

	o->blksize = 0;
	o->window = 0;
	o->tsize = -1;
	while (s < end) {
		const char *name = s, *val;
		size_t nl = strnlen(s, (size_t)(end - s));

		if (name + nl >= end)
			break;
		val = name + nl + 1;
		nl = strnlen(val, (size_t)(end - val));
		if (val + nl >= end)
			break;
		s = val + nl + 1;
		if (strcasecmp(name, "blksize") == 0)
			o->blksize = (size_t)strtoul(val, NULL, 10);
		else if (strcasecmp(name, "windowsize") == 0)
			o->window = (unsigned)strtoul(val, NULL, 10);
		else if (strcasecmp(name, "tsize") == 0)
			o->tsize = strtoll(val, NULL, 10);
	}
}

/* ------------------------------------------------------------------ */
/* the receive batch                                                   */

void
rx_setup(void)
{
	int i;

	for (i = 0; i < VLEN; i++) {
		rxbuf[i] = malloc(PKT_MAX + 1);
		if (rxbuf[i] == NULL)
			die("out of memory");
		rxiov[i].iov_base = rxbuf[i];
		rxiov[i].iov_len = PKT_MAX + 1;
		rxmsg[i].msg_hdr.msg_iov = &rxiov[i];
		rxmsg[i].msg_hdr.msg_iovlen = 1;
		rxmsg[i].msg_hdr.msg_name = &rxaddr[i];
	}
}

/* ------------------------------------------------------------------ */
/* timing and CPU accounting                                           */

double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of pid and its reaped children; its parent in *ppid. */
static double
proc_cpu(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	long ppid_l;
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* fields after comm: state ppid ... utime(14) stime cutime cstime */
	if (sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
	    &ppid_l, &ut, &st, &cut, &cst) != 5)
		return -1;
	if (ppid)
		*ppid = (pid_t)ppid_l;
	{
		long hz = sysconf(_SC_CLK_TCK);

		return (double)(ut + st + cut + cst) / (double)hz;
	}
}

/* The given PIDs and all their live descendants. */
static double
server_cpu_pids(const pid_t *pids, int npids)
{
	pid_t set[PIDSET_MAX];
	int nset = 0, i, grew = 1;
	double sum = 0;

	for (i = 0; i < npids; i++)
		set[nset++] = pids[i];
	while (grew) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		grew = 0;
		if (d == NULL)
			break;
		while ((de = readdir(d)) != NULL && nset < PIDSET_MAX) {
			pid_t pid = (pid_t)atoi(de->d_name), pp;
			int j, known = 0;

			if (pid <= 0 || proc_cpu(pid, &pp) < 0)
				continue;
			for (j = 0; j < nset; j++)
				if (set[j] == pid)
					known = 1;
			if (known)
				continue;
			for (j = 0; j < nset; j++)
				if (set[j] == pp) {
					set[nset++] = pid;
					grew = 1;
					break;
				}
		}
		closedir(d);
	}
	for (i = 0; i < nset; i++) {
		double c = proc_cpu(set[i], NULL);

		if (c > 0)
			sum += c;
	}
	return sum;
}

static double
server_cpu_cgroup(const char *cgroup)
{
	char path[4096], buf[4096];
	FILE *fp;
	double v = -1;

	snprintf(path, sizeof path, "%s/cpuacct.usage", cgroup);
	if ((fp = fopen(path, "r")) != NULL) {
		unsigned long long ns;

		if (fscanf(fp, "%llu", &ns) == 1)
			v = (double)ns / 1e9;
		fclose(fp);
		return v;
	}
	snprintf(path, sizeof path, "%s/cpu.stat", cgroup);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(buf, sizeof buf, fp))
			if (strncmp(buf, "usage_usec ", 11) == 0)
				v = strtod(buf + 11, NULL) / 1e6;
		fclose(fp);
	}
	return v;
}

/*
 * The server's CPU seconds so far: from its cgroup when one is given,
 * else from its PIDs and their descendants; -1 when neither is known.
 */
double
server_cpu(const char *cgroup, const pid_t *pids, int npids)
{
	if (cgroup)
		return server_cpu_cgroup(cgroup);
	if (npids)
		return server_cpu_pids(pids, npids);
	return -1;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
times_sort(double *t, size_t n)
{
	qsort(t, n, sizeof *t, cmp_dbl);
}

/* The p-quantile (0..1) of n sorted times; 0 when there are none. */
double
times_pct(const double *t, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return t[i];
}
