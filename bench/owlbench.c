/*
 * owlbench: a single-process TFTP load generator and reflector.
 *
 * Generator: N concurrent simulated clients, one non-blocking UDP socket
 * each, driven by one epoll loop.  Each client runs RRQ (download) or WRQ
 * (upload) transfers back to back with the requested blksize, windowsize and
 * tsize options, verifies every DATA block it receives against the file it
 * holds in memory, and retransmits on its own timeout.  The run stops after
 * a fixed count of transfers or a fixed duration (whichever comes first) and
 * always within --max-time.
 *
 * Reflector (--reflector): a TFTP server that answers from memory with no
 * disk, no logging and batched I/O (recvmmsg, sendmmsg, UDP GSO), so the
 * machine's ceiling can be measured with the same generator.
 *
 * Self-contained on purpose: the daemon's code moves, the bench must not.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define OP_RRQ		1
#define OP_WRQ		2
#define OP_DATA		3
#define OP_ACK		4
#define OP_ERROR	5
#define OP_OACK		6

#define BLK_MAX		65464
#define PKT_MAX		(BLK_MAX + 4)
#define VLEN		64		/* datagrams per recvmmsg */
#define WIN_MAX		64		/* windowsize the bench asks for at most */

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
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

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (p == NULL)
		die("out of memory");
	return p;
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* ------------------------------------------------------------------ */
/* files held in memory                                                */

struct file {
	char		*name;
	uint8_t		*data;
	size_t		 size;
};

static struct file *files;
static size_t nfiles;

static void
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

static struct file *
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

struct opts {
	size_t		 blksize;	/* 0: not present */
	unsigned	 window;
	long long	 tsize;		/* -1: not present */
};

static void
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

static size_t
put_str(uint8_t *p, size_t off, size_t cap, const char *s)
{
	size_t l = strlen(s) + 1;

	if (off + l > cap)
		die("request too long");
	memcpy(p + off, s, l);
	return off + l;
}

/* ------------------------------------------------------------------ */
/* generator                                                           */

enum cstate { C_IDLE, C_REQ, C_XFER };

struct client {
	int		 fd;
	uint32_t	 gen;		/* epoll cookie generation */
	enum cstate	 state;
	int		 connected;
	int		 upload;
	unsigned	 slot;
	struct file	*f;
	size_t		 blksize;
	unsigned	 window;
	uint64_t	 expected;	/* RRQ: next block index wanted */
	uint64_t	 acked;		/* RRQ: last ACK sent; WRQ: last ACK got */
	uint64_t	 sent_upto;	/* WRQ: highest block sent */
	uint64_t	 nblocks;	/* WRQ: blocks in the file */
	uint64_t	 bytes;
	double		 t_start;
	double		 t_last;	/* last progress or send */
	double		 rto;
	int		 tries;
	int		 gap_acked;
	int		 dup_acked;
	size_t		 reqlen;
	uint8_t		 req[512];
	uint8_t		 hdrs[WIN_MAX][4];
};

static struct {
	/* config */
	struct sockaddr_storage	 srv;
	socklen_t		 srvlen;
	unsigned		 clients;
	unsigned long		 count;		/* 0: no count limit */
	double			 duration;	/* 0: no duration limit */
	double			 max_time;
	size_t			 blksize;
	unsigned		 window;
	int			 tsize;
	int			 upload;
	int			 verify_upload;
	const char		*root;
	const char		*upname;
	double			 timeout;
	int			 retries;
	int			 json;
	int			 quiet;
	const char		*label;
	const char		*cgroup;
	pid_t			 pids[32];
	int			 npids;
	/* state */
	int			 ep;
	struct client		*cl;
	unsigned long		 started, ok, failed, aborted;
	unsigned long		 f_timeout, f_error, f_verify, f_tsize, f_sock;
	unsigned long		 retrans, req_retrans, dup_acks, gap_acks;
	unsigned long		 opt_noblk, opt_nowin, opt_notsize, oack_seen;
	uint64_t		 bytes;
	double			*times;
	size_t			 ntimes, captimes;
	double			 now;
	double			 t_begin, t_stop, t_hard;
	char			 lasterr[160];
	unsigned long		 upver_ok, upver_bad;
	unsigned long		 strays;
} G;

static uint8_t *rxbuf[VLEN];
static struct mmsghdr rxmsg[VLEN];
static struct iovec rxiov[VLEN];
static struct sockaddr_storage rxaddr[VLEN];

static void client_start(struct client *c, int send_now);

static void
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

static void
c_send(struct client *c, const void *p, size_t len)
{
	ssize_t r;

	if (c->connected)
		r = send(c->fd, p, len, 0);
	else
		r = sendto(c->fd, p, len, 0, (struct sockaddr *)&G.srv, G.srvlen);
	if (r < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		snprintf(G.lasterr, sizeof G.lasterr, "send: %s", strerror(errno));
	c->t_last = G.now;
}

static void
c_send_ack(struct client *c, uint64_t blk)
{
	uint8_t a[4];

	put16(a, OP_ACK);
	put16(a + 2, (unsigned)(blk & 0xffff));
	c_send(c, a, 4);
}

/* WRQ: send the window that starts after the last acked block. */
static void
c_send_window(struct client *c)
{
	struct mmsghdr mm[WIN_MAX];
	struct iovec iov[WIN_MAX][2];
	uint64_t b = c->acked + 1;
	unsigned n = 0;
	int r;

	while (n < c->window && b <= c->nblocks) {
		size_t off = (size_t)(b - 1) * c->blksize;
		size_t len = c->f->size - off < c->blksize ? c->f->size - off : c->blksize;

		put16(c->hdrs[n], OP_DATA);
		put16(c->hdrs[n] + 2, (unsigned)(b & 0xffff));
		iov[n][0].iov_base = c->hdrs[n];
		iov[n][0].iov_len = 4;
		iov[n][1].iov_base = c->f->data + off;
		iov[n][1].iov_len = len;
		memset(&mm[n], 0, sizeof mm[n]);
		mm[n].msg_hdr.msg_iov = iov[n];
		mm[n].msg_hdr.msg_iovlen = 2;
		n++;
		b++;
	}
	if (n == 0)
		return;
	r = sendmmsg(c->fd, mm, n, 0);
	if (r < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		snprintf(G.lasterr, sizeof G.lasterr, "sendmmsg: %s", strerror(errno));
	if (b - 1 > c->sent_upto)
		c->sent_upto = b - 1;
	c->t_last = G.now;
}

static void
c_close(struct client *c)
{
	if (c->fd >= 0) {
		close(c->fd);	/* also leaves the epoll set */
		c->fd = -1;
	}
	c->gen++;
	c->state = C_IDLE;
}


static int
more_to_start(void)
{
	if (G.count && G.started >= G.count)
		return 0;
	if (G.now >= G.t_stop)
		return 0;
	return 1;
}

static void
record_time(double t)
{
	if (G.ntimes == G.captimes) {
		G.captimes = G.captimes ? G.captimes * 2 : 4096;
		G.times = realloc(G.times, G.captimes * sizeof *G.times);
		if (G.times == NULL)
			die("out of memory");
	}
	G.times[G.ntimes++] = t;
}

/* End of a transfer, good or bad; the slot starts the next one if due. */
static void
client_end(struct client *c, int ok, unsigned long *reason)
{
	if (ok) {
		G.ok++;
		record_time(G.now - c->t_start);
	} else {
		G.failed++;
		if (reason)
			(*reason)++;
		/* tell the server, so it frees the transfer at once */
		if (c->fd >= 0 && c->connected && c->state == C_XFER) {
			static const uint8_t e[] = { 0, OP_ERROR, 0, 0,
			    'o', 'w', 'l', 'b', 'e', 'n', 'c', 'h', 0 };
			c_send(c, e, sizeof e);
		}
	}
	c_close(c);
	if (more_to_start())
		client_start(c, 1);
}

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

static void
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

static void
port_save(void)
{
	FILE *fp = fopen(port_file(), "w");

	if (fp) {
		fprintf(fp, "%u\n", port_next);
		fclose(fp);
	}
}

static void
bind_port(int fd)
{
	unsigned next = port_next;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		struct sockaddr_storage a;
		socklen_t al = G.srvlen;

		memcpy(&a, &G.srv, G.srvlen);
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

static void
client_start(struct client *c, int send_now)
{
	struct epoll_event ev;
	struct file *f;
	char num[32];
	size_t off;
	int fd;

	f = &files[G.started % nfiles];
	G.started++;
	memset(&ev, 0, sizeof ev);
	fd = socket(G.srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(G.lasterr, sizeof G.lasterr, "socket: %s", strerror(errno));
		G.failed++;
		G.f_sock++;
		return;
	}
	if (G.window > 1) {
		int sz = 1 << 21;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	bind_port(fd);
	c->fd = fd;
	c->state = C_REQ;
	c->connected = 0;
	c->upload = G.upload;
	c->f = f;
	c->blksize = 512;
	c->window = 1;
	c->expected = 1;
	c->acked = 0;
	c->sent_upto = 0;
	c->nblocks = f->size / 512 + 1;
	c->bytes = 0;
	c->tries = 0;
	c->gap_acked = c->dup_acked = 0;
	c->t_start = G.now;
	c->rto = G.timeout;
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)c->slot << 32 | c->gen;
	if (epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));

	put16(c->req, c->upload ? OP_WRQ : OP_RRQ);
	off = 2;
	if (c->upload) {
		char name[256];

		snprintf(name, sizeof name, "%s.%u", G.upname, c->slot);
		off = put_str(c->req, off, sizeof c->req, name);
	} else
		off = put_str(c->req, off, sizeof c->req, f->name);
	off = put_str(c->req, off, sizeof c->req, "octet");
	if (G.blksize) {
		off = put_str(c->req, off, sizeof c->req, "blksize");
		snprintf(num, sizeof num, "%zu", G.blksize);
		off = put_str(c->req, off, sizeof c->req, num);
	}
	if (G.window > 1) {
		off = put_str(c->req, off, sizeof c->req, "windowsize");
		snprintf(num, sizeof num, "%u", G.window);
		off = put_str(c->req, off, sizeof c->req, num);
	}
	if (G.tsize) {
		off = put_str(c->req, off, sizeof c->req, "tsize");
		snprintf(num, sizeof num, "%zu", c->upload ? f->size : (size_t)0);
		off = put_str(c->req, off, sizeof c->req, num);
	}
	c->reqlen = off;
	if (send_now)
		c_send(c, c->req, c->reqlen);
}

/* First answer to a request: OACK, or DATA/ACK when options are ignored. */
static int
client_first(struct client *c, const uint8_t *p, size_t len)
{
	unsigned op = get16(p);

	if (op == OP_OACK) {
		struct opts o;

		G.oack_seen++;
		parse_opts(p + 2, len - 2, &o);
		if (o.blksize) {
			if (o.blksize < 8 || o.blksize > BLK_MAX ||
			    (G.blksize && o.blksize > G.blksize))
				return -1;
			c->blksize = o.blksize;
		} else {
			if (G.blksize)
				G.opt_noblk++;
		}
		if (o.window) {
			if (o.window > WIN_MAX || o.window > G.window)
				return -1;
			c->window = o.window;
		} else if (G.window > 1)
			G.opt_nowin++;
		if (G.tsize && !c->upload) {
			if (o.tsize < 0)
				G.opt_notsize++;
			else if ((size_t)o.tsize != c->f->size) {
				snprintf(G.lasterr, sizeof G.lasterr,
				    "tsize %lld in OACK for %s, file has %zu (OACK %zu bytes: blksize %zu windowsize %u)",
				    o.tsize, c->f->name, c->f->size, len, o.blksize, o.window);
				client_end(c, 0, &G.f_tsize);
				return 1;
			}
		}
		c->nblocks = c->f->size / c->blksize + 1;
		c->state = C_XFER;
		if (c->upload)
			c_send_window(c);
		else
			c_send_ack(c, 0);
		return 1;
	}
	/* the server ignored every option */
	if (G.blksize && G.blksize != 512)
		G.opt_noblk++;
	if (G.window > 1)
		G.opt_nowin++;
	c->state = C_XFER;
	if (c->upload) {
		if (op != OP_ACK || get16(p + 2) != 0)
			return -1;
		c_send_window(c);
		return 1;
	}
	return 0;		/* DATA 1: handle as data */
}

/* Returns 1 when the client ended (stop reading its socket). */
static int
client_packet(struct client *c, const uint8_t *p, size_t len)
{
	unsigned op, blk;
	int r;

	if (len < 4)
		return 0;
	op = get16(p);
	if (op == OP_ERROR) {
		snprintf(G.lasterr, sizeof G.lasterr, "server ERROR %u: %.*s",
		    get16(p + 2), (int)(len > 4 ? strnlen((const char *)p + 4, len - 4) : 0),
		    (const char *)p + 4);
		c->state = C_REQ;	/* no ERROR back */
		client_end(c, 0, &G.f_error);
		return 1;
	}
	if (c->state == C_REQ) {
		r = client_first(c, p, len);
		if (r < 0) {
			char opts[96];
			size_t i, n = len - 2 < sizeof opts - 1 ? len - 2 : sizeof opts - 1;

			/* show the options as name=value pairs */
			for (i = 0; i < n; i++)
				opts[i] = p[2 + i] ? (char)p[2 + i] : ' ';
			opts[n] = 0;
			snprintf(G.lasterr, sizeof G.lasterr, "bad first reply op %u block %u len %zu: %s",
			    op, get16(p + 2), len, op == OP_OACK ? opts : "");
			client_end(c, 0, &G.f_error);
			return 1;
		}
		if (r > 0)
			return c->state == C_IDLE;
	}
	blk = get16(p + 2);
	if (c->upload) {
		uint64_t cand;

		if (op != OP_ACK)
			return 0;
		cand = c->acked + (uint16_t)(blk - (unsigned)(c->acked & 0xffff));
		if (cand > c->acked && cand <= c->sent_upto) {
			uint64_t was = c->acked * c->blksize, is = cand * c->blksize;

			if (is > c->f->size)
				is = c->f->size;
			if (was > c->f->size)
				was = c->f->size;
			G.bytes += is - was;
			c->bytes = is;
			c->acked = cand;
			c->tries = 0;
			c->rto = G.timeout;
			if (c->acked == c->nblocks) {
				client_end(c, 1, NULL);
				return 1;
			}
			if (c->acked == c->sent_upto || cand < c->sent_upto)
				c_send_window(c);
		}
		return 0;
	}
	if (op != OP_DATA)
		return 0;
	{
		uint16_t d = (uint16_t)(blk - (unsigned)(c->expected & 0xffff));
		size_t dl = len - 4;

		if (d == 0) {
			size_t off = (size_t)(c->expected - 1) * c->blksize;

			if (dl > c->blksize || off + dl > c->f->size ||
			    (dl < c->blksize && off + dl != c->f->size) ||
			    memcmp(p + 4, c->f->data + off, dl) != 0) {
				snprintf(G.lasterr, sizeof G.lasterr,
				    "verify: block %llu len %zu", (unsigned long long)c->expected, dl);
				client_end(c, 0, &G.f_verify);
				return 1;
			}
			G.bytes += dl;
			c->bytes += dl;
			c->expected++;
			c->tries = 0;
			c->rto = G.timeout;
			c->gap_acked = c->dup_acked = 0;
			if (dl < c->blksize) {
				c_send_ack(c, c->expected - 1);
				client_end(c, 1, NULL);
				return 1;
			}
			if (c->expected - 1 >= c->acked + c->window) {
				c->acked = c->expected - 1;
				c_send_ack(c, c->acked);
			} else
				c->t_last = G.now;
		} else if (d < 0x8000) {
			/* a gap: ask for the window again from the hole */
			if (!c->gap_acked) {
				c->gap_acked = 1;
				G.gap_acks++;
				c->acked = c->expected - 1;
				c_send_ack(c, c->acked);
			}
		} else if (blk == (unsigned)(c->acked & 0xffff) && !c->dup_acked) {
			/* our ACK was lost and the server resent the window */
			c->dup_acked = 1;
			G.dup_acks++;
			c_send_ack(c, c->acked);
		}
	}
	return 0;
}

/* The first answer: from the server's host, and OACK, ERROR, DATA 1 or ACK 0. */
static int
plausible_first(const struct client *c, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from)
{
	unsigned op;

	if (from->ss_family != G.srv.ss_family || len < 4)
		return 0;
	if (from->ss_family == AF_INET) {
		if (((const struct sockaddr_in *)from)->sin_addr.s_addr !=
		    ((const struct sockaddr_in *)&G.srv)->sin_addr.s_addr)
			return 0;
	} else if (memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
	    &((const struct sockaddr_in6 *)&G.srv)->sin6_addr, 16) != 0)
		return 0;
	op = get16(p);
	if (op == OP_OACK || op == OP_ERROR)
		return 1;
	if (c->upload)
		return op == OP_ACK && get16(p + 2) == 0;
	return op == OP_DATA && get16(p + 2) == 1;
}

static void
client_readable(struct client *c)
{
	unsigned vlen = c->window >= VLEN ? VLEN : c->window + 1;
	int n, i;

	if (c->state == C_REQ)
		vlen = 2;
	for (i = 0; i < (int)vlen; i++)
		rxmsg[i].msg_hdr.msg_namelen = sizeof rxaddr[i];
	n = recvmmsg(c->fd, rxmsg, vlen, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (c->state == C_REQ && !c->connected &&
		    !plausible_first(c, rxbuf[i], rxmsg[i].msg_len, &rxaddr[i])) {
			G.strays++;
			continue;
		}
		if (c->state == C_REQ && !c->connected) {
			/* the server's transfer ID: lock on to it */
			if (connect(c->fd, (struct sockaddr *)&rxaddr[i],
			    rxmsg[i].msg_hdr.msg_namelen) == 0)
				c->connected = 1;
		}
		if (client_packet(c, rxbuf[i], rxmsg[i].msg_len))
			return;
	}
}

static void
client_timer(struct client *c)
{
	if (G.now - c->t_last < c->rto)
		return;
	if (++c->tries > G.retries) {
		snprintf(G.lasterr, sizeof G.lasterr, "timeout in state %d after %llu bytes",
		    c->state, (unsigned long long)c->bytes);
		client_end(c, 0, &G.f_timeout);
		return;
	}
	c->rto = c->rto * 2 > 4.0 ? 4.0 : c->rto * 2;
	if (c->state == C_REQ) {
		G.req_retrans++;
		c_send(c, c->req, c->reqlen);
	} else if (c->upload) {
		G.retrans++;
		c_send_window(c);
	} else {
		G.retrans++;
		c->acked = c->expected - 1;
		c->gap_acked = 0;
		c_send_ack(c, c->acked);
	}
}

/* ---- server CPU accounting ---- */

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
server_cpu_pids(void)
{
	pid_t set[4096];
	int nset = 0, i, grew = 1;
	double sum = 0;

	for (i = 0; i < G.npids; i++)
		set[nset++] = G.pids[i];
	while (grew) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		grew = 0;
		if (d == NULL)
			break;
		while ((de = readdir(d)) != NULL && nset < 4096) {
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
server_cpu_cgroup(void)
{
	char path[4096], buf[4096];
	FILE *fp;
	double v = -1;

	snprintf(path, sizeof path, "%s/cpuacct.usage", G.cgroup);
	if ((fp = fopen(path, "r")) != NULL) {
		unsigned long long ns;

		if (fscanf(fp, "%llu", &ns) == 1)
			v = (double)ns / 1e9;
		fclose(fp);
		return v;
	}
	snprintf(path, sizeof path, "%s/cpu.stat", G.cgroup);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(buf, sizeof buf, fp))
			if (strncmp(buf, "usage_usec ", 11) == 0)
				v = strtod(buf + 11, NULL) / 1e6;
		fclose(fp);
	}
	return v;
}

static double
server_cpu(void)
{
	if (G.cgroup)
		return server_cpu_cgroup();
	if (G.npids)
		return server_cpu_pids();
	return -1;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (G.ntimes == 0)
		return 0;
	i = (size_t)(p * (double)(G.ntimes - 1) + 0.5);
	return G.times[i];
}

static void
verify_uploads(void)
{
	unsigned i;

	for (i = 0; i < G.clients; i++) {
		char path[4096];
		FILE *fp;
		uint8_t *b;
		size_t n;

		snprintf(path, sizeof path, "%s/%s.%u", G.root, G.upname, i);
		if ((fp = fopen(path, "rb")) == NULL) {
			G.upver_bad++;
			continue;
		}
		b = malloc(files[0].size + 1);
		if (b == NULL)
			die("out of memory");
		n = fread(b, 1, files[0].size + 1, fp);
		fclose(fp);
		if (n == files[0].size && memcmp(b, files[0].data, n) == 0)
			G.upver_ok++;
		else
			G.upver_bad++;
		free(b);
	}
}

/* In place: keep the text printable and free of JSON quoting. */
static const char *
json_safe(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ||
		    (unsigned char)*p > 0x7e)
			*p = '?';
	return s;
}

static int
run_generator(void)
{
	struct epoll_event evs[512];
	double cpu0, scpu0, cpu1, scpu1, elapsed, last_scan;
	unsigned i;

	raise_nofile();
	rx_setup();
	signal(SIGPIPE, SIG_IGN);
	if ((G.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	G.cl = xcalloc(G.clients, sizeof *G.cl);
	port_load();
	scpu0 = server_cpu();
	cpu0 = cpu_self();
	G.now = G.t_begin = now_mono();
	G.t_stop = G.duration > 0 ? G.t_begin + G.duration : 1e300;
	G.t_hard = G.t_begin + G.max_time;
	for (i = 0; i < G.clients; i++) {
		G.cl[i].slot = i;
		G.cl[i].fd = -1;
		if (more_to_start())
			client_start(&G.cl[i], 0);
	}
	/* the first requests go out back to back: a real burst */
	G.now = G.t_begin = now_mono();
	for (i = 0; i < G.clients; i++)
		if (G.cl[i].state == C_REQ) {
			G.cl[i].t_start = G.now;
			c_send(&G.cl[i], G.cl[i].req, G.cl[i].reqlen);
		}
	G.t_stop = G.duration > 0 ? G.t_begin + G.duration : 1e300;
	G.t_hard = G.t_begin + G.max_time;
	last_scan = G.now;
	for (;;) {
		int n, k, active = 0;

		n = epoll_wait(G.ep, evs, 512, 10);
		G.now = now_mono();
		for (k = 0; k < n; k++) {
			uint32_t slot = (uint32_t)(evs[k].data.u64 >> 32);
			uint32_t gen = (uint32_t)evs[k].data.u64;
			struct client *c = &G.cl[slot];

			if (c->gen != gen || c->state == C_IDLE)
				continue;	/* a stale event of an ended transfer */
			client_readable(c);
		}
		if (G.now - last_scan >= 0.01 || n == 0) {
			last_scan = G.now;
			for (i = 0; i < G.clients; i++) {
				struct client *c = &G.cl[i];

				if (c->state != C_IDLE)
					client_timer(c);
				if (c->state != C_IDLE)
					active++;
			}
			if (active == 0 && !more_to_start())
				break;
		}
		if (G.now >= G.t_stop || G.now >= G.t_hard) {
			/* stop: cut what is still running */
			for (i = 0; i < G.clients; i++) {
				struct client *c = &G.cl[i];

				if (c->state == C_IDLE)
					continue;
				if (G.now >= G.t_hard && G.duration <= 0) {
					G.f_timeout++;
					G.failed++;
				} else
					G.aborted++;
				if (c->connected && c->state == C_XFER) {
					static const uint8_t e[] = { 0, OP_ERROR, 0, 0,
					    's', 't', 'o', 'p', 0 };
					c_send(c, e, sizeof e);
				}
				c_close(c);
			}
			break;
		}
	}
	elapsed = G.now - G.t_begin;
	port_save();
	cpu1 = cpu_self();
	scpu1 = server_cpu();
	if (G.upload && G.verify_upload && G.root)
		verify_uploads();
	qsort(G.times, G.ntimes, sizeof *G.times, cmp_dbl);

	{
		double mbps = (double)G.bytes / elapsed / 1e6;
		double tps = (double)G.ok / elapsed;
		double gb = (double)G.bytes / 1e9;
		double scpu = scpu0 >= 0 && scpu1 >= 0 ? scpu1 - scpu0 : -1;
		double own = cpu1 - cpu0;

		if (!G.quiet) {
			printf("owlbench %s: %s clients=%u blksize=%zu windowsize=%u tsize=%s\n",
			    G.label ? G.label : "", G.upload ? "WRQ" : "RRQ", G.clients,
			    G.blksize, G.window, G.tsize ? "on" : "off");
			printf("  elapsed        %.3f s\n", elapsed);
			printf("  transfers      %lu ok, %lu failed, %lu cut at the deadline (of %lu started)\n",
			    G.ok, G.failed, G.aborted, G.started);
			if (G.failed)
				printf("  failures       timeout %lu, server error %lu, verify %lu, tsize %lu, socket %lu; last: %s\n",
				    G.f_timeout, G.f_error, G.f_verify, G.f_tsize, G.f_sock, G.lasterr);
			printf("  bytes          %llu (verified block by block)\n",
			    (unsigned long long)G.bytes);
			printf("  throughput     %.1f MB/s, %.1f transfers/s\n", mbps, tps);
			printf("  transfer time  p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			    pct(0.5) * 1e3, pct(0.99) * 1e3,
			    G.ntimes ? G.times[G.ntimes - 1] * 1e3 : 0.0);
			printf("  retransmits    %lu timer (data/ack), %lu requests, %lu dup-acks, %lu gap-acks\n",
			    G.retrans, G.req_retrans, G.dup_acks, G.gap_acks);
			if (G.strays)
				printf("  strays         %lu packets ignored before a transfer had its server TID\n",
				    G.strays);
			printf("  options        %lu OACKs; not granted: blksize %lu, windowsize %lu, tsize %lu\n",
			    G.oack_seen, G.opt_noblk, G.opt_nowin, G.opt_notsize);
			if (scpu >= 0)
				printf("  server CPU     %.3f s, %.2f CPU-s/GB\n", scpu,
				    gb > 0 ? scpu / gb : 0.0);
			printf("  owlbench CPU   %.3f s (%.0f%% of one core), %.2f CPU-s/GB\n",
			    own, own / elapsed * 100, gb > 0 ? own / gb : 0.0);
			if (G.upload && G.verify_upload && G.root)
				printf("  uploads        %lu files verified, %lu bad\n",
				    G.upver_ok, G.upver_bad);
		}
		if (G.json) {
			printf("{\"label\":\"%s\",\"op\":\"%s\",\"clients\":%u,\"blksize\":%zu,"
			    "\"windowsize\":%u,\"tsize\":%d,\"elapsed\":%.4f,\"started\":%lu,"
			    "\"ok\":%lu,\"failed\":%lu,\"cut\":%lu,\"bytes\":%llu,"
			    "\"mbps\":%.2f,\"tps\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
			    "\"max_ms\":%.3f,\"retrans\":%lu,\"req_retrans\":%lu,"
			    "\"dup_acks\":%lu,\"gap_acks\":%lu,\"oack\":%lu,"
			    "\"no_blksize\":%lu,\"no_windowsize\":%lu,\"no_tsize\":%lu,"
			    "\"f_timeout\":%lu,\"f_error\":%lu,\"f_verify\":%lu,\"f_tsize\":%lu,"
			    "\"server_cpu\":%.4f,\"server_cpu_per_gb\":%.4f,"
			    "\"own_cpu\":%.4f,\"own_cpu_per_gb\":%.4f,\"upload_bad\":%lu,\"strays\":%lu,"
			    "\"last_error\":\"%s\"}\n",
			    G.label ? G.label : "", G.upload ? "WRQ" : "RRQ", G.clients,
			    G.blksize, G.window, G.tsize, elapsed, G.started, G.ok,
			    G.failed, G.aborted, (unsigned long long)G.bytes, mbps, tps,
			    pct(0.5) * 1e3, pct(0.99) * 1e3,
			    G.ntimes ? G.times[G.ntimes - 1] * 1e3 : 0.0, G.retrans,
			    G.req_retrans, G.dup_acks, G.gap_acks, G.oack_seen,
			    G.opt_noblk, G.opt_nowin, G.opt_notsize, G.f_timeout,
			    G.f_error, G.f_verify, G.f_tsize, scpu,
			    scpu >= 0 && gb > 0 ? scpu / gb : -1.0, own,
			    gb > 0 ? own / gb : -1.0, G.upver_bad, G.strays, json_safe(G.lasterr));
		}
	}
	fflush(stdout);
	return G.failed || G.upver_bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* reflector: a perfect server from memory                             */

struct rx {
	struct sockaddr_storage	 peer;
	socklen_t		 plen;
	struct rx		*hnext;		/* hash chain */
	struct rx		*prev, *next;	/* all transfers */
	int			 upload;
	int			 oack_pending;
	struct file		*f;
	size_t			 blksize;
	unsigned		 window;
	uint64_t		 acked, sent_upto, nblocks, expected;
	double			 t_last;
	int			 tries;
	int			 gap_acked;
	size_t			 oacklen;
	uint8_t			 oack[128];
};

#define RX_HASH		16384
#define SQ_MSGS		1024
#define SQ_IOVS		8192
#define SQ_SMALL	4096		/* 4-byte headers and small packets */

static struct {
	int		 lfd, tfd, ep;
	int		 gso;
	unsigned	 win_max;
	struct rx	*hash[RX_HASH];
	struct rx	*all;
	struct rx	*freelist;
	unsigned long	 active;
	/* send queue */
	struct mmsghdr	 sq[SQ_MSGS];
	struct sockaddr_storage sqaddr[SQ_MSGS];
	union {
		char		 buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	 align;
	}		 sqctl[SQ_MSGS];
	struct iovec	 iov[SQ_IOVS];
	uint8_t		 small[SQ_SMALL][4];
	uint8_t		 big[SQ_MSGS][160];
	unsigned	 nsq, niov, nsmall;
	unsigned long	 sendmmsg_calls, datagrams, gso_sends, drops;
	double		 now;
} R;

static volatile sig_atomic_t r_stop;

static void
r_onsig(int sig)
{
	(void)sig;
	r_stop = 1;
}

static uint32_t
r_hash(const struct sockaddr_storage *ss)
{
	const uint8_t *p;
	size_t n, i;
	uint32_t h = 2166136261u;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		p = (const uint8_t *)&s4->sin_addr;
		n = 4;
		h = (h ^ s4->sin_port) * 16777619u;
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		p = (const uint8_t *)&s6->sin6_addr;
		n = 16;
		h = (h ^ s6->sin6_port) * 16777619u;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % RX_HASH;
}

static int
r_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
}

static struct rx *
r_find(const struct sockaddr_storage *peer)
{
	struct rx *x;

	for (x = R.hash[r_hash(peer)]; x; x = x->hnext)
		if (r_same(&x->peer, peer))
			return x;
	return NULL;
}

static void
r_free(struct rx *x)
{
	struct rx **pp = &R.hash[r_hash(&x->peer)];

	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	if (x->prev)
		x->prev->next = x->next;
	else
		R.all = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->hnext = R.freelist;
	R.freelist = x;
	R.active--;
}

static struct rx *
r_new(const struct sockaddr_storage *peer, socklen_t plen)
{
	struct rx *x = R.freelist;
	uint32_t h = r_hash(peer);

	if (x)
		R.freelist = x->hnext;
	else
		x = xcalloc(1, sizeof *x);
	memset(x, 0, sizeof *x);
	memcpy(&x->peer, peer, plen);
	x->plen = plen;
	x->hnext = R.hash[h];
	R.hash[h] = x;
	x->next = R.all;
	if (R.all)
		R.all->prev = x;
	R.all = x;
	R.active++;
	return x;
}

static void
r_flush(void)
{
	unsigned done = 0;

	while (done < R.nsq) {
		int r = sendmmsg(R.tfd, R.sq + done, R.nsq - done, 0);

		R.sendmmsg_calls++;
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			R.drops += R.nsq - done;	/* timers recover */
			break;
		}
		done += (unsigned)r;
	}
	R.nsq = R.niov = R.nsmall = 0;
}

static struct msghdr *
r_msg(const struct rx *x, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct msghdr *m;

	if (R.nsq == SQ_MSGS || R.niov + 2 * WIN_MAX + 2 > SQ_IOVS ||
	    R.nsmall + WIN_MAX + 1 > SQ_SMALL)
		r_flush();
	m = &R.sq[R.nsq].msg_hdr;
	memset(m, 0, sizeof *m);
	if (x) {
		peer = &x->peer;
		plen = x->plen;
	}
	memcpy(&R.sqaddr[R.nsq], peer, plen);
	m->msg_name = &R.sqaddr[R.nsq];
	m->msg_namelen = plen;
	m->msg_iov = &R.iov[R.niov];
	R.nsq++;
	R.datagrams++;
	return m;
}

static void
r_small(const struct rx *x, const struct sockaddr_storage *peer, socklen_t plen,
    const void *p, size_t len)
{
	struct msghdr *m = r_msg(x, peer, plen);
	unsigned i = R.nsq - 1;

	if (len > sizeof R.big[i])
		len = sizeof R.big[i];
	memcpy(R.big[i], p, len);
	R.iov[R.niov].iov_base = R.big[i];
	R.iov[R.niov].iov_len = len;
	R.niov++;
	m->msg_iovlen = 1;
}

static void
r_ack(const struct rx *x, uint64_t blk)
{
	uint8_t a[4];

	put16(a, OP_ACK);
	put16(a + 2, (unsigned)(blk & 0xffff));
	r_small(x, NULL, 0, a, 4);
}

/* RRQ: queue the window after the last acked block, GSO where it pays. */
static void
r_window(struct rx *x)
{
	uint64_t b = x->acked + 1, last = x->acked + x->window;
	size_t seg = x->blksize + 4;
	unsigned per = 1;

	if (last > x->nblocks)
		last = x->nblocks;
	if (R.gso) {
		per = (unsigned)(65000 / seg);
		if (per > 64)
			per = 64;
		if (per < 1)
			per = 1;
	}
	while (b <= last) {
		struct msghdr *m = r_msg(x, NULL, 0);
		unsigned n = 0;

		while (n < per && b <= last) {
			size_t off = (size_t)(b - 1) * x->blksize;
			size_t len = x->f->size - off < x->blksize ? x->f->size - off : x->blksize;
			uint8_t *h = R.small[R.nsmall++];

			put16(h, OP_DATA);
			put16(h + 2, (unsigned)(b & 0xffff));
			R.iov[R.niov].iov_base = h;
			R.iov[R.niov++].iov_len = 4;
			R.iov[R.niov].iov_base = x->f->data + off;
			R.iov[R.niov++].iov_len = len;
			m->msg_iovlen += 2;
			n++;
			b++;
		}
		if (n > 1) {
			struct cmsghdr *cm;
			unsigned i = R.nsq - 1;
			uint16_t gs = (uint16_t)seg;

			m->msg_control = R.sqctl[i].buf;
			m->msg_controllen = sizeof R.sqctl[i].buf;
			cm = CMSG_FIRSTHDR(m);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof gs);
			memcpy(CMSG_DATA(cm), &gs, sizeof gs);
			R.gso_sends++;
			R.datagrams += n - 1;
		}
	}
	if (last > x->sent_upto)
		x->sent_upto = last;
	x->t_last = R.now;
}

static void
r_error(const struct sockaddr_storage *peer, socklen_t plen, unsigned code, const char *msg)
{
	uint8_t e[64];
	size_t l = strlen(msg) + 1;

	put16(e, OP_ERROR);
	put16(e + 2, code);
	memcpy(e + 4, msg, l);
	r_small(NULL, peer, plen, e, 4 + l);
}

static void
r_request(const uint8_t *p, size_t len, const struct sockaddr_storage *peer, socklen_t plen)
{
	const char *name = (const char *)p + 2, *mode, *end = (const char *)p + len;
	size_t nl = strnlen(name, (size_t)(end - name));
	struct opts o;
	struct file *f = NULL;
	struct rx *x;
	int upload = get16(p) == OP_WRQ;
	size_t ol = 2;
	char num[32];

	if (name + nl >= end)
		return;
	mode = name + nl + 1;
	nl = strnlen(mode, (size_t)(end - mode));
	if (mode + nl >= end)
		return;
	parse_opts((const uint8_t *)mode + nl + 1, (size_t)(end - mode - nl - 1), &o);
	if (!upload && (f = find_file(name)) == NULL) {
		r_error(peer, plen, 1, "File not found");
		return;
	}
	if ((x = r_find(peer)) != NULL)
		r_free(x);
	x = r_new(peer, plen);
	x->upload = upload;
	x->f = f;
	x->blksize = 512;
	x->window = 1;
	x->t_last = R.now;
	put16(x->oack, OP_OACK);
	if (o.blksize >= 8) {
		x->blksize = o.blksize > BLK_MAX ? BLK_MAX : o.blksize;
		snprintf(num, sizeof num, "%zu", x->blksize);
		ol = put_str(x->oack, ol, sizeof x->oack, "blksize");
		ol = put_str(x->oack, ol, sizeof x->oack, num);
	}
	if (o.window >= 1 && R.win_max > 1) {
		x->window = o.window > R.win_max ? R.win_max : o.window;
		snprintf(num, sizeof num, "%u", x->window);
		ol = put_str(x->oack, ol, sizeof x->oack, "windowsize");
		ol = put_str(x->oack, ol, sizeof x->oack, num);
	}
	if (o.tsize >= 0) {
		snprintf(num, sizeof num, "%lld", upload ? o.tsize : (long long)f->size);
		ol = put_str(x->oack, ol, sizeof x->oack, "tsize");
		ol = put_str(x->oack, ol, sizeof x->oack, num);
	}
	x->oacklen = ol > 2 ? ol : 0;
	x->expected = 1;
	if (!upload)
		x->nblocks = f->size / x->blksize + 1;
	if (x->oacklen) {
		x->oack_pending = !upload;
		r_small(x, NULL, 0, x->oack, x->oacklen);
	} else if (upload)
		r_ack(x, 0);
	else
		r_window(x);
}

static void
r_transfer_pkt(const uint8_t *p, size_t len, const struct sockaddr_storage *peer)
{
	struct rx *x = r_find(peer);
	unsigned op, blk;

	if (x == NULL || len < 4)
		return;
	op = get16(p);
	blk = get16(p + 2);
	if (op == OP_ERROR) {
		r_free(x);
		return;
	}
	x->tries = 0;
	if (!x->upload && op == OP_ACK) {
		uint64_t cand;

		if (x->oack_pending) {
			if (blk != 0)
				return;
			x->oack_pending = 0;
			r_window(x);
			return;
		}
		cand = x->acked + (uint16_t)(blk - (unsigned)(x->acked & 0xffff));
		if (cand <= x->acked || cand > x->sent_upto)
			return;		/* duplicate or bogus: only timers resend */
		x->acked = cand;
		if (x->acked == x->nblocks) {
			r_free(x);
			return;
		}
		r_window(x);
		return;
	}
	if (x->upload && op == OP_DATA) {
		uint16_t d = (uint16_t)(blk - (unsigned)(x->expected & 0xffff));
		size_t dl = len - 4;

		if (d == 0) {
			x->expected++;
			x->gap_acked = 0;
			x->t_last = R.now;
			if (dl < x->blksize) {
				r_ack(x, x->expected - 1);
				r_free(x);
				return;
			}
			if (x->expected - 1 >= x->acked + x->window) {
				x->acked = x->expected - 1;
				r_ack(x, x->acked);
			}
		} else if (d < 0x8000 && !x->gap_acked) {
			x->gap_acked = 1;
			x->acked = x->expected - 1;
			r_ack(x, x->acked);
		}
	}
}

static void
r_timers(void)
{
	struct rx *x, *nx;

	for (x = R.all; x; x = nx) {
		nx = x->next;
		if (R.now - x->t_last < 1.0)
			continue;
		if (++x->tries > 5) {
			r_free(x);
			continue;
		}
		x->t_last = R.now;
		if (x->upload) {
			if (x->expected == 1 && x->oacklen)
				r_small(x, NULL, 0, x->oack, x->oacklen);
			else
				r_ack(x, x->expected - 1);
		} else if (x->oack_pending)
			r_small(x, NULL, 0, x->oack, x->oacklen);
		else
			r_window(x);
	}
}

static void
r_drain(int fd, int is_listen)
{
	int batches;

	for (batches = 0; batches < 16; batches++) {
		int n, i;

		for (i = 0; i < VLEN; i++)
			rxmsg[i].msg_hdr.msg_namelen = sizeof rxaddr[i];
		n = recvmmsg(fd, rxmsg, VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			const uint8_t *p = rxbuf[i];
			size_t len = rxmsg[i].msg_len;

			if (len < 4)
				continue;
			if (is_listen) {
				unsigned op = get16(p);

				if (op == OP_RRQ || op == OP_WRQ)
					r_request(p, len, &rxaddr[i], rxmsg[i].msg_hdr.msg_namelen);
			} else
				r_transfer_pkt(p, len, &rxaddr[i]);
		}
		if (n < VLEN)
			return;
	}
}

static void
big_buffers(int fd)
{
	int sz = 8 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

static int
r_worker(int lfd, const struct sockaddr_storage *bindaddr, socklen_t blen, double max_time)
{
	struct sockaddr_storage ta;
	struct epoll_event ev, evs[4];
	double t_end, last_scan;

	memcpy(&ta, bindaddr, blen);
	if (ta.ss_family == AF_INET)
		((struct sockaddr_in *)&ta)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ta)->sin6_port = 0;
	R.lfd = lfd;
	R.tfd = socket(ta.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (R.tfd < 0 || bind(R.tfd, (struct sockaddr *)&ta, blen) < 0)
		die("transfer socket: %s", strerror(errno));
	big_buffers(R.tfd);
	if (R.gso) {
		/* probe: keep GSO only if the kernel takes the option */
		int v = 0;

		if (setsockopt(R.tfd, SOL_UDP, UDP_SEGMENT, &v, sizeof v) < 0)
			R.gso = 0;
	}
	rx_setup();
	R.ep = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = R.lfd;
	epoll_ctl(R.ep, EPOLL_CTL_ADD, R.lfd, &ev);
	ev.data.fd = R.tfd;
	epoll_ctl(R.ep, EPOLL_CTL_ADD, R.tfd, &ev);
	R.now = now_mono();
	t_end = R.now + max_time;
	last_scan = R.now;
	while (!r_stop && R.now < t_end) {
		int n = epoll_wait(R.ep, evs, 4, 100), k;

		R.now = now_mono();
		for (k = 0; k < n; k++)
			r_drain(evs[k].data.fd, evs[k].data.fd == R.lfd);
		if (R.now - last_scan >= 0.1) {
			last_scan = R.now;
			r_timers();
		}
		if (R.nsq)
			r_flush();
	}
	fprintf(stderr, "owlbench reflector %d: %lu sendmmsg calls, %lu datagrams, %lu GSO sends, %lu dropped\n",
	    (int)getpid(), R.sendmmsg_calls, R.datagrams, R.gso_sends, R.drops);
	return 0;
}

static int
run_reflector(const struct sockaddr_storage *addr, socklen_t alen, unsigned workers,
    double max_time)
{
	int lfds[64], one = 1;
	pid_t kids[64];
	unsigned i;
	struct sockaddr_storage a;
	socklen_t al = alen;
	char host[INET6_ADDRSTRLEN];
	struct sigaction sa;

	if (workers < 1 || workers > 64)
		die("--workers: 1..64");
	memcpy(&a, addr, alen);
	for (i = 0; i < workers; i++) {
		lfds[i] = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (lfds[i] < 0)
			die("socket: %s", strerror(errno));
		setsockopt(lfds[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		if (bind(lfds[i], (struct sockaddr *)&a, alen) < 0)
			die("bind: %s", strerror(errno));
		big_buffers(lfds[i]);
		if (i == 0) {
			al = sizeof a;
			getsockname(lfds[0], (struct sockaddr *)&a, &al);
		}
	}
	if (a.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, host, sizeof host);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a)->sin6_addr, host, sizeof host);
	printf("reflector listening on %s:%u (%u worker%s, %zu files, GSO %s)\n", host,
	    ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port :
	    ((struct sockaddr_in6 *)&a)->sin6_port), workers, workers > 1 ? "s" : "",
	    nfiles, R.gso ? "on" : "off");
	fflush(stdout);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = r_onsig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 1; i < workers; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork: %s", strerror(errno));
		if (kids[i] == 0) {
			unsigned j;

			for (j = 0; j < workers; j++)
				if (j != i)
					close(lfds[j]);
			exit(r_worker(lfds[i], &a, al, max_time));
		}
	}
	for (i = 1; i < workers; i++)
		close(lfds[i]);
	r_worker(lfds[0], &a, al, max_time);
	for (i = 1; i < workers; i++) {
		kill(kids[i], SIGTERM);
		waitpid(kids[i], NULL, 0);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void
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

static void
resolve(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
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

static void
usage(void)
{
	fputs(
"usage: owlbench [options] -r ROOT -f FILE ...       load generator\n"
"       owlbench --reflector [-l ADDR] [-p PORT] -r ROOT   null server\n"
"generator:\n"
"  -s, --server ADDR      server address (numeric, default 127.0.0.1; ::1 works)\n"
"  -p, --port PORT        server port (default 69)\n"
"  -c, --clients N        concurrent clients, one socket each (default 1)\n"
"  -n, --count N          stop after N transfers started and finished\n"
"  -d, --duration S       stop after S seconds; transfers still running are cut\n"
"                         (their verified bytes count, their times do not)\n"
"  -b, --blksize N        blksize option (default 1468; 0: do not send)\n"
"  -w, --windowsize N     windowsize option (default 1: not sent; max 64)\n"
"      --no-tsize         do not send the tsize option\n"
"  -r, --root DIR         directory holding the files the server serves\n"
"  -f, --file NAME        file to fetch (repeatable; clients take them in turn)\n"
"  -k, --nfiles K         with one -f NAME: fetch NAME.0 .. NAME.K-1\n"
"  -u, --upload           WRQ instead of RRQ: upload the first file as\n"
"      --upload-name N    N.<slot> (default owlbench-up), verified in ROOT at the end\n"
"      --no-verify-upload do not compare the uploaded files (reflector: no files)\n"
"      --timeout MS       own retransmit timeout (default 1000, doubles, max 4 s)\n"
"      --retries N        give a transfer up after N timeouts in a row (default 5)\n"
"      --max-time S       hard limit for the whole run (default 300)\n"
"      --pid PID          server PID (repeatable): CPU of it and its descendants\n"
"      --cgroup DIR       server cgroup (v1 cpuacct or v2): CPU from its counter\n"
"      --label TEXT       put TEXT into the report\n"
"  -j, --json             also print one JSON line\n"
"  -q, --quiet            only the JSON line\n"
"reflector:\n"
"      --reflector        answer RRQ/WRQ from memory (all files in ROOT)\n"
"  -l, --listen ADDR      address (default 127.0.0.1), -p port (default 0: any)\n"
"      --workers N        processes sharing the port with SO_REUSEPORT (default 1)\n"
"      --window-max N     largest windowsize granted (default 64; 1: ignore it)\n"
"      --no-gso           one datagram per DATA block instead of UDP GSO\n"
"      --max-time S       exit after S seconds (default 7200)\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "blksize", required_argument, NULL, 'b' },
		{ "windowsize", required_argument, NULL, 'w' },
		{ "no-tsize", no_argument, NULL, 'T' },
		{ "root", required_argument, NULL, 'r' },
		{ "file", required_argument, NULL, 'f' },
		{ "nfiles", required_argument, NULL, 'k' },
		{ "upload", no_argument, NULL, 'u' },
		{ "upload-name", required_argument, NULL, 'U' },
		{ "no-verify-upload", no_argument, NULL, 'V' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'R' },
		{ "max-time", required_argument, NULL, 'M' },
		{ "pid", required_argument, NULL, 'P' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "label", required_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "reflector", no_argument, NULL, 'X' },
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'W' },
		{ "window-max", required_argument, NULL, 'Y' },
		{ "no-gso", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *server = "127.0.0.1", *port = NULL, *listen = "127.0.0.1";
	const char *fnames[256];
	int nf = 0, reflector = 0, ch;
	unsigned long k = 0, workers = 1;
	double max_time = -1;

	G.clients = 1;
	G.blksize = 1468;
	G.window = 1;
	G.tsize = 1;
	G.timeout = 1.0;
	G.retries = 5;
	G.upname = "owlbench-up";
	G.verify_upload = 1;
	R.gso = 1;
	R.win_max = WIN_MAX;
	while ((ch = getopt_long(argc, argv, "s:p:c:n:d:b:w:r:f:k:ujql:h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': server = optarg; break;
		case 'p': port = optarg; break;
		case 'c': G.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': G.count = strtoul(optarg, NULL, 10); break;
		case 'd': G.duration = strtod(optarg, NULL); break;
		case 'b': G.blksize = strtoul(optarg, NULL, 10); break;
		case 'w': G.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': G.tsize = 0; break;
		case 'r': G.root = optarg; break;
		case 'f':
			if (nf == 256)
				die("too many -f");
			fnames[nf++] = optarg;
			break;
		case 'k': k = strtoul(optarg, NULL, 10); break;
		case 'u': G.upload = 1; break;
		case 'U': G.upname = optarg; break;
		case 'V': G.verify_upload = 0; break;
		case 't': G.timeout = strtod(optarg, NULL) / 1e3; break;
		case 'R': G.retries = atoi(optarg); break;
		case 'M': max_time = strtod(optarg, NULL); break;
		case 'P': {
			char *s = optarg, *e;

			while (*s && G.npids < 32) {
				G.pids[G.npids++] = (pid_t)strtol(s, &e, 10);
				s = *e == ',' ? e + 1 : e;
				if (e == s && *s)
					break;
			}
			break;
		}
		case 'C': G.cgroup = optarg; break;
		case 'L': G.label = optarg; break;
		case 'j': G.json = 1; break;
		case 'q': G.quiet = 1; G.json = 1; break;
		case 'X': reflector = 1; break;
		case 'l': listen = optarg; break;
		case 'W': workers = strtoul(optarg, NULL, 10); break;
		case 'Y': R.win_max = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'G': R.gso = 0; break;
		default: usage();
		}
	}
	if (optind != argc || G.root == NULL)
		usage();
	if (reflector) {
		struct sockaddr_storage a;
		socklen_t al;

		if (nf)
			while (nf > 0)
				load_file(G.root, fnames[--nf]);
		else
			load_dir(G.root);
		if (R.win_max < 1)
			R.win_max = 1;
		resolve(listen, port ? port : "0", &a, &al);
		return run_reflector(&a, al, (unsigned)workers, max_time > 0 ? max_time : 7200);
	}
	if (nf == 0)
		usage();
	if (k > 0) {
		unsigned long i;
		char name[4096];

		if (nf != 1)
			die("--nfiles takes exactly one -f");
		for (i = 0; i < k; i++) {
			snprintf(name, sizeof name, "%s.%lu", fnames[0], i);
			load_file(G.root, name);
		}
	} else {
		int i;

		for (i = 0; i < nf; i++)
			load_file(G.root, fnames[i]);
	}
	if (G.clients < 1 || G.clients > 1000000)
		die("--clients: 1..1000000");
	if (G.window < 1 || G.window > WIN_MAX)
		die("--windowsize: 1..%d", WIN_MAX);
	if (G.blksize != 0 && (G.blksize < 8 || G.blksize > BLK_MAX))
		die("--blksize: 8..%d", BLK_MAX);
	if (G.count == 0 && G.duration <= 0)
		die("give --count or --duration");
	G.max_time = max_time > 0 ? max_time : 300;
	resolve(server, port ? port : "69", &G.srv, &G.srvlen);
	return run_generator();
}
