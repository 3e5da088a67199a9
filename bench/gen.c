/*
 * owlbench generator: N concurrent simulated clients, one non-blocking UDP
 * socket each, driven by one epoll loop.  Each client runs RRQ (download)
 * or WRQ (upload) transfers back to back with the requested blksize,
 * windowsize and tsize options, verifies every DATA block it receives
 * against the file it holds in memory, and retransmits on its own timeout.
 * The run stops after a fixed count of transfers or a fixed duration
 * (whichever comes first) and always within --max-time.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

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

/* The settings, copied from gen_run's caller. */
static struct gen_conf cf;

/* The run: its clients and what it counted. */
static struct {
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
} run;

static void client_start(struct client *c, int send_now);

static void
c_send(struct client *c, const void *p, size_t len)
{
	ssize_t r;

	if (c->connected)
		r = send(c->fd, p, len, 0);
	else
		r = sendto(c->fd, p, len, 0, (struct sockaddr *)&cf.srv, cf.srvlen);
	if (r < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		snprintf(run.lasterr, sizeof run.lasterr, "send: %s", strerror(errno));
	c->t_last = run.now;
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
		snprintf(run.lasterr, sizeof run.lasterr, "sendmmsg: %s", strerror(errno));
	if (b - 1 > c->sent_upto)
		c->sent_upto = b - 1;
	c->t_last = run.now;
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
	if (cf.count && run.started >= cf.count)
		return 0;
	if (run.now >= run.t_stop)
		return 0;
	return 1;
}

static void
record_time(double t)
{
	if (run.ntimes == run.captimes) {
		run.captimes = run.captimes ? run.captimes * 2 : 4096;
		run.times = realloc(run.times, run.captimes * sizeof *run.times);
		if (run.times == NULL)
			die("out of memory");
	}
	run.times[run.ntimes++] = t;
}

/* End of a transfer, good or bad; the slot starts the next one if due. */
static void
client_end(struct client *c, int ok, unsigned long *reason)
{
	if (ok) {
		run.ok++;
		record_time(run.now - c->t_start);
	} else {
		run.failed++;
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

static void
client_start(struct client *c, int send_now)
{
	struct epoll_event ev;
	struct file *f;
	char num[32];
	size_t off;
	int fd;

	f = &files[run.started % nfiles];
	run.started++;
	memset(&ev, 0, sizeof ev);
	fd = socket(cf.srv.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(run.lasterr, sizeof run.lasterr, "socket: %s", strerror(errno));
		run.failed++;
		run.f_sock++;
		return;
	}
	if (cf.window > 1) {
		int sz = 1 << 21;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	port_bind(fd, &cf.srv, cf.srvlen);
	c->fd = fd;
	c->state = C_REQ;
	c->connected = 0;
	c->upload = cf.upload;
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
	c->t_start = run.now;
	c->rto = cf.timeout;
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)c->slot << 32 | c->gen;
	if (epoll_ctl(run.ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));

	put16(c->req, c->upload ? OP_WRQ : OP_RRQ);
	off = 2;
	if (c->upload) {
		char name[256];

		snprintf(name, sizeof name, "%s.%u", cf.upname, c->slot);
		off = put_str(c->req, off, sizeof c->req, name);
	} else
		off = put_str(c->req, off, sizeof c->req, f->name);
	off = put_str(c->req, off, sizeof c->req, "octet");
	if (cf.blksize) {
		off = put_str(c->req, off, sizeof c->req, "blksize");
		snprintf(num, sizeof num, "%zu", cf.blksize);
		off = put_str(c->req, off, sizeof c->req, num);
	}
	if (cf.window > 1) {
		off = put_str(c->req, off, sizeof c->req, "windowsize");
		snprintf(num, sizeof num, "%u", cf.window);
		off = put_str(c->req, off, sizeof c->req, num);
	}
	if (cf.tsize) {
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

		run.oack_seen++;
		parse_opts(p + 2, len - 2, &o);
		if (o.blksize) {
			if (o.blksize < 8 || o.blksize > BLK_MAX ||
			    (cf.blksize && o.blksize > cf.blksize))
				return -1;
			c->blksize = o.blksize;
		} else {
			if (cf.blksize)
				run.opt_noblk++;
		}
		if (o.window) {
			if (o.window > WIN_MAX || o.window > cf.window)
				return -1;
			c->window = o.window;
		} else if (cf.window > 1)
			run.opt_nowin++;
		if (cf.tsize && !c->upload) {
			if (o.tsize < 0)
				run.opt_notsize++;
			else if ((size_t)o.tsize != c->f->size) {
				snprintf(run.lasterr, sizeof run.lasterr,
				    "tsize %lld in OACK for %s, file has %zu (OACK %zu bytes: blksize %zu windowsize %u)",
				    o.tsize, c->f->name, c->f->size, len, o.blksize, o.window);
				client_end(c, 0, &run.f_tsize);
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
	if (cf.blksize && cf.blksize != 512)
		run.opt_noblk++;
	if (cf.window > 1)
		run.opt_nowin++;
	c->state = C_XFER;
	if (c->upload) {
		if (op != OP_ACK || get16(p + 2) != 0)
			return -1;
		c_send_window(c);
		return 1;
	}
	return 0;		/* DATA 1: handle as data */
}

/* A first reply client_first refused: say what it was, end the transfer. */
static void
client_bad_first(struct client *c, const uint8_t *p, size_t len)
{
	unsigned op = get16(p);
	char opts[96];
	size_t i, n = len - 2 < sizeof opts - 1 ? len - 2 : sizeof opts - 1;

	/* show the options as name=value pairs */
	for (i = 0; i < n; i++)
		opts[i] = p[2 + i] ? (char)p[2 + i] : ' ';
	opts[n] = 0;
	snprintf(run.lasterr, sizeof run.lasterr, "bad first reply op %u block %u len %zu: %s",
	    op, get16(p + 2), len, op == OP_OACK ? opts : "");
	client_end(c, 0, &run.f_error);
}

/* WRQ: an ACK for block blk.  Returns 1 when the client ended. */
static int
client_ack(struct client *c, unsigned blk)
{
	uint64_t cand, was, is;

	cand = c->acked + (uint16_t)(blk - (unsigned)(c->acked & 0xffff));
	if (cand <= c->acked || cand > c->sent_upto)
		return 0;
	was = c->acked * c->blksize;
	is = cand * c->blksize;
	if (is > c->f->size)
		is = c->f->size;
	if (was > c->f->size)
		was = c->f->size;
	run.bytes += is - was;
	c->bytes = is;
	c->acked = cand;
	c->tries = 0;
	c->rto = cf.timeout;
	if (c->acked == c->nblocks) {
		client_end(c, 1, NULL);
		return 1;
	}
	if (c->acked == c->sent_upto || cand < c->sent_upto)
		c_send_window(c);
	return 0;
}

/* RRQ: a DATA packet, verified against the file.  Returns 1 when ended. */
static int
client_data(struct client *c, const uint8_t *p, size_t len)
{
	unsigned blk = get16(p + 2);
	uint16_t d = (uint16_t)(blk - (unsigned)(c->expected & 0xffff));
	size_t dl = len - 4;

	if (d == 0) {
		size_t off = (size_t)(c->expected - 1) * c->blksize;

		if (dl > c->blksize || off + dl > c->f->size ||
		    (dl < c->blksize && off + dl != c->f->size) ||
		    memcmp(p + 4, c->f->data + off, dl) != 0) {
			snprintf(run.lasterr, sizeof run.lasterr,
			    "verify: block %llu len %zu", (unsigned long long)c->expected, dl);
			client_end(c, 0, &run.f_verify);
			return 1;
		}
		run.bytes += dl;
		c->bytes += dl;
		c->expected++;
		c->tries = 0;
		c->rto = cf.timeout;
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
			c->t_last = run.now;
	} else if (d < 0x8000) {
		/* a gap: ask for the window again from the hole */
		if (!c->gap_acked) {
			c->gap_acked = 1;
			run.gap_acks++;
			c->acked = c->expected - 1;
			c_send_ack(c, c->acked);
		}
	} else if (blk == (unsigned)(c->acked & 0xffff) && !c->dup_acked) {
		/* our ACK was lost and the server resent the window */
		c->dup_acked = 1;
		run.dup_acks++;
		c_send_ack(c, c->acked);
	}
	return 0;
}

/* Returns 1 when the client ended (stop reading its socket). */
static int
client_packet(struct client *c, const uint8_t *p, size_t len)
{
	unsigned op;
	int r;

	if (len < 4)
		return 0;
	op = get16(p);
	if (op == OP_ERROR) {
		snprintf(run.lasterr, sizeof run.lasterr, "server ERROR %u: %.*s",
		    get16(p + 2), (int)(len > 4 ? strnlen((const char *)p + 4, len - 4) : 0),
		    (const char *)p + 4);
		c->state = C_REQ;	/* no ERROR back */
		client_end(c, 0, &run.f_error);
		return 1;
	}
	if (c->state == C_REQ) {
		r = client_first(c, p, len);
		if (r < 0) {
			client_bad_first(c, p, len);
			return 1;
		}
		if (r > 0)
			return c->state == C_IDLE;
	}
	if (c->upload)
		return op == OP_ACK ? client_ack(c, get16(p + 2)) : 0;
	return op == OP_DATA ? client_data(c, p, len) : 0;
}

/* The first answer: from the server's host, and OACK, ERROR, DATA 1 or ACK 0. */
static int
plausible_first(const struct client *c, const uint8_t *p, size_t len,
    const struct sockaddr_storage *from)
{
	unsigned op;

	if (from->ss_family != cf.srv.ss_family || len < 4)
		return 0;
	if (from->ss_family == AF_INET) {
		if (((const struct sockaddr_in *)from)->sin_addr.s_addr !=
		    ((const struct sockaddr_in *)&cf.srv)->sin_addr.s_addr)
			return 0;
	} else if (memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
	    &((const struct sockaddr_in6 *)&cf.srv)->sin6_addr, 16) != 0)
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
			run.strays++;
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
	if (run.now - c->t_last < c->rto)
		return;
	if (++c->tries > cf.retries) {
		snprintf(run.lasterr, sizeof run.lasterr, "timeout in state %d after %llu bytes",
		    c->state, (unsigned long long)c->bytes);
		client_end(c, 0, &run.f_timeout);
		return;
	}
	c->rto = c->rto * 2 > 4.0 ? 4.0 : c->rto * 2;
	if (c->state == C_REQ) {
		run.req_retrans++;
		c_send(c, c->req, c->reqlen);
	} else if (c->upload) {
		run.retrans++;
		c_send_window(c);
	} else {
		run.retrans++;
		c->acked = c->expected - 1;
		c->gap_acked = 0;
		c_send_ack(c, c->acked);
	}
}

static void
verify_uploads(void)
{
	unsigned i;

	for (i = 0; i < cf.clients; i++) {
		char path[4096];
		FILE *fp;
		uint8_t *b;
		size_t n;

		snprintf(path, sizeof path, "%s/%s.%u", cf.root, cf.upname, i);
		if ((fp = fopen(path, "rb")) == NULL) {
			run.upver_bad++;
			continue;
		}
		b = malloc(files[0].size + 1);
		if (b == NULL)
			die("out of memory");
		n = fread(b, 1, files[0].size + 1, fp);
		fclose(fp);
		if (n == files[0].size && memcmp(b, files[0].data, n) == 0)
			run.upver_ok++;
		else
			run.upver_bad++;
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

/* Open every slot's first transfer, then send the requests. */
static void
gen_start(void)
{
	unsigned i;

	run.now = run.t_begin = now_mono();
	run.t_stop = cf.duration > 0 ? run.t_begin + cf.duration : 1e300;
	run.t_hard = run.t_begin + cf.max_time;
	for (i = 0; i < cf.clients; i++) {
		run.cl[i].slot = i;
		run.cl[i].fd = -1;
		if (more_to_start())
			client_start(&run.cl[i], 0);
	}
	/* the first requests go out back to back: a real burst */
	run.now = run.t_begin = now_mono();
	for (i = 0; i < cf.clients; i++)
		if (run.cl[i].state == C_REQ) {
			run.cl[i].t_start = run.now;
			c_send(&run.cl[i], run.cl[i].req, run.cl[i].reqlen);
		}
	run.t_stop = cf.duration > 0 ? run.t_begin + cf.duration : 1e300;
	run.t_hard = run.t_begin + cf.max_time;
}

/* Stop: cut what is still running. */
static void
gen_cut(void)
{
	unsigned i;

	for (i = 0; i < cf.clients; i++) {
		struct client *c = &run.cl[i];

		if (c->state == C_IDLE)
			continue;
		if (run.now >= run.t_hard && cf.duration <= 0) {
			run.f_timeout++;
			run.failed++;
		} else
			run.aborted++;
		if (c->connected && c->state == C_XFER) {
			static const uint8_t e[] = { 0, OP_ERROR, 0, 0,
			    's', 't', 'o', 'p', 0 };
			c_send(c, e, sizeof e);
		}
		c_close(c);
	}
}

/* Until every transfer is done, or the duration or --max-time is up. */
static void
gen_loop(void)
{
	struct epoll_event evs[512];
	double last_scan = run.now;
	unsigned i;

	for (;;) {
		int n, k, active = 0;

		n = epoll_wait(run.ep, evs, 512, 10);
		run.now = now_mono();
		for (k = 0; k < n; k++) {
			uint32_t slot = (uint32_t)(evs[k].data.u64 >> 32);
			uint32_t gen = (uint32_t)evs[k].data.u64;
			struct client *c = &run.cl[slot];

			if (c->gen != gen || c->state == C_IDLE)
				continue;	/* a stale event of an ended transfer */
			client_readable(c);
		}
		if (run.now - last_scan >= 0.01 || n == 0) {
			last_scan = run.now;
			for (i = 0; i < cf.clients; i++) {
				struct client *c = &run.cl[i];

				if (c->state != C_IDLE)
					client_timer(c);
				if (c->state != C_IDLE)
					active++;
			}
			if (active == 0 && !more_to_start())
				break;
		}
		if (run.now >= run.t_stop || run.now >= run.t_hard) {
			gen_cut();
			break;
		}
	}
}

/* What the report derives from the counters. */
struct summary {
	double	 elapsed;
	double	 mbps;
	double	 tps;
	double	 gb;
	double	 scpu;		/* server CPU seconds, -1: unknown */
	double	 own;		/* owlbench's own CPU seconds */
};

static void
report_text(const struct summary *s)
{
	printf("owlbench %s: %s clients=%u blksize=%zu windowsize=%u tsize=%s\n",
	    cf.label ? cf.label : "", cf.upload ? "WRQ" : "RRQ", cf.clients,
	    cf.blksize, cf.window, cf.tsize ? "on" : "off");
	printf("  elapsed        %.3f s\n", s->elapsed);
	printf("  transfers      %lu ok, %lu failed, %lu cut at the deadline (of %lu started)\n",
	    run.ok, run.failed, run.aborted, run.started);
	if (run.failed)
		printf("  failures       timeout %lu, server error %lu, verify %lu, tsize %lu, socket %lu; last: %s\n",
		    run.f_timeout, run.f_error, run.f_verify, run.f_tsize, run.f_sock, run.lasterr);
	printf("  bytes          %llu (verified block by block)\n",
	    (unsigned long long)run.bytes);
	printf("  throughput     %.1f MB/s, %.1f transfers/s\n", s->mbps, s->tps);
	printf("  transfer time  p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	    times_pct(run.times, run.ntimes, 0.5) * 1e3,
	    times_pct(run.times, run.ntimes, 0.99) * 1e3,
	    run.ntimes ? run.times[run.ntimes - 1] * 1e3 : 0.0);
	printf("  retransmits    %lu timer (data/ack), %lu requests, %lu dup-acks, %lu gap-acks\n",
	    run.retrans, run.req_retrans, run.dup_acks, run.gap_acks);
	if (run.strays)
		printf("  strays         %lu packets ignored before a transfer had its server TID\n",
		    run.strays);
	printf("  options        %lu OACKs; not granted: blksize %lu, windowsize %lu, tsize %lu\n",
	    run.oack_seen, run.opt_noblk, run.opt_nowin, run.opt_notsize);
	if (s->scpu >= 0)
		printf("  server CPU     %.3f s, %.2f CPU-s/GB\n", s->scpu,
		    s->gb > 0 ? s->scpu / s->gb : 0.0);
	printf("  owlbench CPU   %.3f s (%.0f%% of one core), %.2f CPU-s/GB\n",
	    s->own, s->own / s->elapsed * 100, s->gb > 0 ? s->own / s->gb : 0.0);
	if (cf.upload && cf.verify_upload && cf.root)
		printf("  uploads        %lu files verified, %lu bad\n",
		    run.upver_ok, run.upver_bad);
}

/* One line; bench/compare.sh and bench/summarize.py read these keys. */
static void
report_json(const struct summary *s)
{
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
	    cf.label ? cf.label : "", cf.upload ? "WRQ" : "RRQ", cf.clients,
	    cf.blksize, cf.window, cf.tsize, s->elapsed, run.started, run.ok,
	    run.failed, run.aborted, (unsigned long long)run.bytes, s->mbps, s->tps,
	    times_pct(run.times, run.ntimes, 0.5) * 1e3,
	    times_pct(run.times, run.ntimes, 0.99) * 1e3,
	    run.ntimes ? run.times[run.ntimes - 1] * 1e3 : 0.0, run.retrans,
	    run.req_retrans, run.dup_acks, run.gap_acks, run.oack_seen,
	    run.opt_noblk, run.opt_nowin, run.opt_notsize, run.f_timeout,
	    run.f_error, run.f_verify, run.f_tsize, s->scpu,
	    s->scpu >= 0 && s->gb > 0 ? s->scpu / s->gb : -1.0, s->own,
	    s->gb > 0 ? s->own / s->gb : -1.0, run.upver_bad, run.strays,
	    json_safe(run.lasterr));
}

int
gen_run(const struct gen_conf *conf)
{
	struct summary s;
	double cpu0, scpu0, cpu1, scpu1;

	cf = *conf;
	raise_nofile();
	rx_setup();
	signal(SIGPIPE, SIG_IGN);
	if ((run.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	run.cl = xcalloc(cf.clients, sizeof *run.cl);
	port_load();
	scpu0 = server_cpu(cf.cgroup, cf.pids, cf.npids);
	cpu0 = cpu_self();
	gen_start();
	gen_loop();
	s.elapsed = run.now - run.t_begin;
	port_save();
	cpu1 = cpu_self();
	scpu1 = server_cpu(cf.cgroup, cf.pids, cf.npids);
	if (cf.upload && cf.verify_upload && cf.root)
		verify_uploads();
	times_sort(run.times, run.ntimes);

	s.mbps = (double)run.bytes / s.elapsed / 1e6;
	s.tps = (double)run.ok / s.elapsed;
	s.gb = (double)run.bytes / 1e9;
	s.scpu = scpu0 >= 0 && scpu1 >= 0 ? scpu1 - scpu0 : -1;
	s.own = cpu1 - cpu0;
	if (!cf.quiet)
		report_text(&s);
	if (cf.json)
		report_json(&s);
	fflush(stdout);
	return run.failed || run.upver_bad ? 1 : 0;
}
