/*
 * owlbench reflector (--reflector): a TFTP server that answers from memory
 * with no disk, no logging and batched I/O (recvmmsg, sendmmsg, UDP GSO),
 * so the machine's ceiling can be measured with the same generator.
 * Requests come in on the listening socket (one per worker process, sharing
 * the port with SO_REUSEPORT); every transfer of a worker runs on its one
 * transfer socket, found by the peer's address.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* One transfer the reflector serves. */
struct rxfer {
	struct sockaddr_storage	 peer;
	socklen_t		 plen;
	struct rxfer		*hnext;		/* hash chain */
	struct rxfer		*prev, *next;	/* all transfers */
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
#define REFL_WORKERS_MAX 64		/* --workers */

static struct {
	int		 lfd, tfd, ep;
	int		 gso;
	unsigned	 win_max;
	struct rxfer	*hash[RX_HASH];
	struct rxfer	*all;
	struct rxfer	*freelist;
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
} refl;

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

static struct rxfer *
r_find(const struct sockaddr_storage *peer)
{
	struct rxfer *x;

	for (x = refl.hash[r_hash(peer)]; x; x = x->hnext)
		if (r_same(&x->peer, peer))
			return x;
	return NULL;
}

static void
r_free(struct rxfer *x)
{
	struct rxfer **pp = &refl.hash[r_hash(&x->peer)];

	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	if (x->prev)
		x->prev->next = x->next;
	else
		refl.all = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->hnext = refl.freelist;
	refl.freelist = x;
	refl.active--;
}

static struct rxfer *
r_new(const struct sockaddr_storage *peer, socklen_t plen)
{
	struct rxfer *x = refl.freelist;
	uint32_t h = r_hash(peer);

	if (x)
		refl.freelist = x->hnext;
	else
		x = xcalloc(1, sizeof *x);
	memset(x, 0, sizeof *x);
	memcpy(&x->peer, peer, plen);
	x->plen = plen;
	x->hnext = refl.hash[h];
	refl.hash[h] = x;
	x->next = refl.all;
	if (refl.all)
		refl.all->prev = x;
	refl.all = x;
	refl.active++;
	return x;
}

static void
r_flush(void)
{
	unsigned done = 0;

	while (done < refl.nsq) {
		int r = sendmmsg(refl.tfd, refl.sq + done, refl.nsq - done, 0);

		refl.sendmmsg_calls++;
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			refl.drops += refl.nsq - done;	/* timers recover */
			break;
		}
		done += (unsigned)r;
	}
	refl.nsq = refl.niov = refl.nsmall = 0;
}

static struct msghdr *
r_msg(const struct rxfer *x, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct msghdr *m;

	if (refl.nsq == SQ_MSGS || refl.niov + 2 * WIN_MAX + 2 > SQ_IOVS ||
	    refl.nsmall + WIN_MAX + 1 > SQ_SMALL)
		r_flush();
	m = &refl.sq[refl.nsq].msg_hdr;
	memset(m, 0, sizeof *m);
	if (x) {
		peer = &x->peer;
		plen = x->plen;
	}
	memcpy(&refl.sqaddr[refl.nsq], peer, plen);
	m->msg_name = &refl.sqaddr[refl.nsq];
	m->msg_namelen = plen;
	m->msg_iov = &refl.iov[refl.niov];
	refl.nsq++;
	refl.datagrams++;
	return m;
}

static void
r_small(const struct rxfer *x, const struct sockaddr_storage *peer, socklen_t plen,
    const void *p, size_t len)
{
	struct msghdr *m = r_msg(x, peer, plen);
	unsigned i = refl.nsq - 1;

	if (len > sizeof refl.big[i])
		len = sizeof refl.big[i];
	memcpy(refl.big[i], p, len);
	refl.iov[refl.niov].iov_base = refl.big[i];
	refl.iov[refl.niov].iov_len = len;
	refl.niov++;
	m->msg_iovlen = 1;
}

static void
r_ack(const struct rxfer *x, uint64_t blk)
{
	uint8_t a[4];

	put16(a, OP_ACK);
	put16(a + 2, (unsigned)(blk & 0xffff));
	r_small(x, NULL, 0, a, 4);
}

/* RRQ: queue the window after the last acked block, GSO where it pays. */
static void
r_window(struct rxfer *x)
{
	uint64_t b = x->acked + 1, last = x->acked + x->window;
	size_t seg = x->blksize + 4;
	unsigned per = 1;

	if (last > x->nblocks)
		last = x->nblocks;
	if (refl.gso) {
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
			uint8_t *h = refl.small[refl.nsmall++];

			put16(h, OP_DATA);
			put16(h + 2, (unsigned)(b & 0xffff));
			refl.iov[refl.niov].iov_base = h;
			refl.iov[refl.niov++].iov_len = 4;
			refl.iov[refl.niov].iov_base = x->f->data + off;
			refl.iov[refl.niov++].iov_len = len;
			m->msg_iovlen += 2;
			n++;
			b++;
		}
		if (n > 1) {
			struct cmsghdr *cm;
			unsigned i = refl.nsq - 1;
			uint16_t gs = (uint16_t)seg;

			m->msg_control = refl.sqctl[i].buf;
			m->msg_controllen = sizeof refl.sqctl[i].buf;
			cm = CMSG_FIRSTHDR(m);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof gs);
			memcpy(CMSG_DATA(cm), &gs, sizeof gs);
			refl.gso_sends++;
			refl.datagrams += n - 1;
		}
	}
	if (last > x->sent_upto)
		x->sent_upto = last;
	x->t_last = refl.now;
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
	struct rxfer *x;
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
	x->t_last = refl.now;
	put16(x->oack, OP_OACK);
	if (o.blksize >= 8) {
		x->blksize = o.blksize > BLK_MAX ? BLK_MAX : o.blksize;
		snprintf(num, sizeof num, "%zu", x->blksize);
		ol = put_str(x->oack, ol, sizeof x->oack, "blksize");
		ol = put_str(x->oack, ol, sizeof x->oack, num);
	}
	if (o.window >= 1 && refl.win_max > 1) {
		x->window = o.window > refl.win_max ? refl.win_max : o.window;
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
	struct rxfer *x = r_find(peer);
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
			x->t_last = refl.now;
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
	struct rxfer *x, *nx;

	for (x = refl.all; x; x = nx) {
		nx = x->next;
		if (refl.now - x->t_last < 1.0)
			continue;
		if (++x->tries > 5) {
			r_free(x);
			continue;
		}
		x->t_last = refl.now;
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
	refl.lfd = lfd;
	refl.tfd = socket(ta.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (refl.tfd < 0 || bind(refl.tfd, (struct sockaddr *)&ta, blen) < 0)
		die("transfer socket: %s", strerror(errno));
	big_buffers(refl.tfd);
	if (refl.gso) {
		/* probe: keep GSO only if the kernel takes the option */
		int v = 0;

		if (setsockopt(refl.tfd, SOL_UDP, UDP_SEGMENT, &v, sizeof v) < 0)
			refl.gso = 0;
	}
	rx_setup();
	refl.ep = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = refl.lfd;
	epoll_ctl(refl.ep, EPOLL_CTL_ADD, refl.lfd, &ev);
	ev.data.fd = refl.tfd;
	epoll_ctl(refl.ep, EPOLL_CTL_ADD, refl.tfd, &ev);
	refl.now = now_mono();
	t_end = refl.now + max_time;
	last_scan = refl.now;
	while (!r_stop && refl.now < t_end) {
		int n = epoll_wait(refl.ep, evs, 4, 100), k;

		refl.now = now_mono();
		for (k = 0; k < n; k++)
			r_drain(evs[k].data.fd, evs[k].data.fd == refl.lfd);
		if (refl.now - last_scan >= 0.1) {
			last_scan = refl.now;
			r_timers();
		}
		if (refl.nsq)
			r_flush();
	}
	fprintf(stderr, "owlbench reflector %d: %lu sendmmsg calls, %lu datagrams, %lu GSO sends, %lu dropped\n",
	    (int)getpid(), refl.sendmmsg_calls, refl.datagrams, refl.gso_sends, refl.drops);
	return 0;
}

int
refl_run(const struct refl_conf *conf)
{
	int lfds[REFL_WORKERS_MAX], one = 1;
	pid_t kids[REFL_WORKERS_MAX];
	unsigned i, workers = conf->workers;
	struct sockaddr_storage a;
	socklen_t alen = conf->addrlen, al = alen;
	double max_time = conf->max_time;
	char host[INET6_ADDRSTRLEN];
	struct sigaction sa;

	if (workers < 1 || workers > REFL_WORKERS_MAX)
		die("--workers: 1..%d", REFL_WORKERS_MAX);
	refl.gso = conf->gso;
	refl.win_max = conf->win_max;
	memcpy(&a, &conf->addr, alen);
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
	    nfiles, refl.gso ? "on" : "off");
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
