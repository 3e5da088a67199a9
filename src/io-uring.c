/*
 * The io_uring datagram backend (io-uring.h).  Receives: a multishot
 * recvmsg() per watched socket picks its buffers from a provided-buffer
 * ring; each completion is one datagram laid out as io_uring_recvmsg_out,
 * the peer's address, the control messages and the payload.  Sends: the
 * messages io.c built go as linked sendmsg()s on a ring of their own, so
 * a failure stops the rest as sendmmsg() would and the error handling
 * stays io.c's.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <sys/eventfd.h>

#include <liburing.h>
#endif

#include "io.h"
#include "io-int.h"
#include "io-uring.h"
#include "log.h"
#include "stats.h"

#ifdef HAVE_LIBURING

#define RING_RX_ENTRIES	64		/* arming and cancelling */
#define RING_TX_ENTRIES	IO_SEND_MAX	/* a whole flush at once */
#define RING_NBUF	256		/* receive buffers (a power of 2) */
#define RING_BGID	0		/* their group */
#define RING_NAMELEN	((socklen_t)sizeof(struct sockaddr_storage))
#define RING_BUFSZ	(sizeof(struct io_uring_recvmsg_out) + \
			    RING_NAMELEN + IO_CMSG_SPACE + IO_RECV_BUFSZ)
/* Buffers start 64-byte aligned: the header, name and cmsgs need it. */
#define RING_STRIDE	((RING_BUFSZ + 63) & ~(size_t)63)
#define RING_CANCEL_MS	2000		/* a cancellation is never slower */

/* user_data: what completed (high half) and for which watch (low). */
#define UD_RECV		(1ULL << 32)
#define UD_CANCEL	(2ULL << 32)
#define UD_PROBE	(3ULL << 32)
#define UD_KIND(u)	((u) & ~0xffffffffULL)
#define UD_INDEX(u)	((size_t)((u) & 0xffffffffULL))

struct watch {
	int		 fd;		/* -1: free */
	int		 armed;		/* a multishot receive is pending */
	int		 closing;	/* being cancelled: never re-armed */
};

struct io_ring {
	struct stats		*stats;
	struct io_uring		 rx;
	struct io_uring		 tx;
	int			 rx_up, tx_up;
	int			 efd;
	struct io_uring_buf_ring *br;
	size_t			 brsize;
	uint8_t			*bufs;		/* RING_NBUF * RING_STRIDE */
	struct msghdr		 tmpl;		/* the receives' layout */
	struct watch		 watch[IO_RING_WATCH_MAX];
	int			 rearm;		/* a receive stopped */
	int			 reaping;	/* dg[] and bid[] are in use */
	int			 files;		/* tx has a file table */

	/* one socket's datagrams, handed to the caller */
	struct io_dgram		 dg[IO_BATCH_MAX];
	uint16_t		 bid[IO_BATCH_MAX];

	int			 res[RING_TX_ENTRIES];	/* send results */
};

static int	 setup(struct io_ring *, char *, size_t);
static int	 setup_buffers(struct io_ring *);
static int	 probe_multishot(struct io_ring *);
static struct io_uring_sqe *get_sqe(struct io_ring *, struct io_uring *);
static void	 arm(struct io_ring *, size_t);
static int	 submit(struct io_ring *, struct io_uring *);
static void	 give_back(struct io_ring *, const uint16_t *, int);
static void	 deliver(struct io_ring *, int, int, io_ring_recv_fn *,
		    void *);
static void	 fill(struct io_ring *, int, uint16_t, int);

struct io_ring *
io_ring_new(struct stats *stats, char *why, size_t whylen)
{
	struct io_ring	*r;
	size_t		 i;

	if (getenv("OWLTFTPD_TEST_URING_REFUSE") != NULL) {
		(void)snprintf(why, whylen, "refused by "
		    "OWLTFTPD_TEST_URING_REFUSE, a test hook");
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		(void)snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	r->stats = stats;
	r->efd = -1;
	for (i = 0; i < IO_RING_WATCH_MAX; i++)
		r->watch[i].fd = -1;
	if (setup(r, why, whylen) == -1) {
		io_ring_free(r);
		return NULL;
	}
	return r;
}

/* The rings, the eventfd, the buffers; -1 with the refusal in why. */
static int
setup(struct io_ring *r, char *why, size_t whylen)
{
	struct io_uring_params	 p;
	const char		*what;
	int			 e;

	/*
	 * A completion queue that holds a completion for every buffer:
	 * where one overflows, the kernel ends the multishot receive.
	 * COOP_TASKRUN: a datagram's completion does not interrupt a
	 * running worker (an IPI per datagram), it waits for its next
	 * system call; a sleeping worker is still woken.
	 */
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = 2 * RING_NBUF;
	what = "io_uring_queue_init";
	if ((e = io_uring_queue_init_params(RING_RX_ENTRIES, &r->rx, &p)) < 0)
		goto fail;
	r->rx_up = 1;
	if ((e = io_uring_queue_init(RING_TX_ENTRIES, &r->tx, 0)) < 0)
		goto fail;
	r->tx_up = 1;
	what = "eventfd";
	if ((r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		e = -errno;
		goto fail;
	}
	if ((e = io_uring_register_eventfd(&r->rx, r->efd)) < 0)
		goto fail;
	what = "buffer ring";
	if ((e = setup_buffers(r)) < 0)
		goto fail;
	what = "multishot recvmsg";
	if ((e = probe_multishot(r)) < 0)
		goto fail;
	/* Registered sockets save the sends a file lookup each; optional. */
	r->files = io_uring_register_files_sparse(&r->tx,
	    IO_RING_WATCH_MAX) == 0;
	r->tmpl.msg_namelen = RING_NAMELEN;
	r->tmpl.msg_controllen = IO_CMSG_SPACE;
	return 0;
fail:
	(void)snprintf(why, whylen, "%s: %s", what, strerror(-e));
	return -1;
}

/* The provided-buffer ring, every buffer in it; -errno on failure. */
static int
setup_buffers(struct io_ring *r)
{
	struct io_uring_buf_reg	 reg;
	long			 page = sysconf(_SC_PAGESIZE);
	uint16_t		 all[RING_NBUF];
	int			 e;
	size_t			 i;

	r->brsize = RING_NBUF * sizeof(struct io_uring_buf);
	if (page > 0)
		r->brsize = (r->brsize + (size_t)page - 1) &
		    ~((size_t)page - 1);
	r->br = mmap(NULL, r->brsize, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->br == MAP_FAILED) {
		r->br = NULL;
		return -errno;
	}
	io_uring_buf_ring_init(r->br);
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (uint64_t)(uintptr_t)r->br;
	reg.ring_entries = RING_NBUF;
	reg.bgid = RING_BGID;
	if ((e = io_uring_register_buf_ring(&r->rx, &reg, 0)) < 0) {
		(void)munmap(r->br, r->brsize);
		r->br = NULL;
		return e;
	}
	/*
	 * Mapped, not malloc()ed: pages only where datagrams land, and
	 * memory valgrind knows to be defined (the kernel's writes through
	 * the ring are invisible to it).
	 */
	r->bufs = mmap(NULL, (size_t)RING_NBUF * RING_STRIDE,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->bufs == MAP_FAILED) {
		r->bufs = NULL;
		return -errno;
	}
	for (i = 0; i < RING_NBUF; i++)
		all[i] = (uint16_t)i;
	give_back(r, all, RING_NBUF);
	return 0;
}

/*
 * Multishot recvmsg (Linux 6.0) cannot be asked of a probe: arm one on
 * a socket of our own and cancel it.  A kernel without it fails the
 * receive at once; -errno then.
 */
static int
probe_multishot(struct io_ring *r)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	struct msghdr		 mh;
	int			 fd, e = 0, done = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	memset(&mh, 0, sizeof mh);
	sqe = io_uring_get_sqe(&r->rx);
	io_uring_prep_recvmsg_multishot(sqe, fd, &mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RING_BGID;
	io_uring_sqe_set_data64(sqe, UD_PROBE);
	sqe = io_uring_get_sqe(&r->rx);
	io_uring_prep_cancel64(sqe, UD_PROBE, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	if ((e = io_uring_submit(&r->rx)) < 0)
		goto out;
	e = 0;
	while (done < 2) {
		if ((e = io_uring_wait_cqe(&r->rx, &cqe)) < 0)
			goto out;
		if (cqe->user_data == UD_PROBE && cqe->res != -ECANCELED)
			e = cqe->res < 0 ? cqe->res : -EINVAL;
		io_uring_cqe_seen(&r->rx, cqe);
		done++;
		if (e < 0)
			break;
	}
out:
	(void)close(fd);
	return e;
}

void
io_ring_free(struct io_ring *r)
{
	if (r == NULL)
		return;
	if (r->tx_up)
		io_uring_queue_exit(&r->tx);
	if (r->rx_up)
		io_uring_queue_exit(&r->rx);	/* cancels the receives */
	if (r->br != NULL)
		(void)munmap(r->br, r->brsize);
	if (r->bufs != NULL)
		(void)munmap(r->bufs, (size_t)RING_NBUF * RING_STRIDE);
	if (r->efd != -1)
		(void)close(r->efd);
	free(r);
}

int
io_ring_eventfd(const struct io_ring *r)
{
	return r->efd;
}

/* A free SQE, submitting what is queued first if the ring is full. */
static struct io_uring_sqe *
get_sqe(struct io_ring *r, struct io_uring *ring)
{
	struct io_uring_sqe	*sqe;

	if ((sqe = io_uring_get_sqe(ring)) == NULL) {
		(void)submit(r, ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* Queue watch i's multishot receive (io_ring_reap() submits it). */
static void
arm(struct io_ring *r, size_t i)
{
	struct io_uring_sqe	*sqe;

	if ((sqe = get_sqe(r, &r->rx)) == NULL)
		return;		/* tried again at the next reap */
	io_uring_prep_recvmsg_multishot(sqe, r->watch[i].fd, &r->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RING_BGID;
	io_uring_sqe_set_data64(sqe, UD_RECV | i);
	r->watch[i].armed = 1;
}

static int
submit(struct io_ring *r, struct io_uring *ring)
{
	int	 e;

	if (io_uring_sq_ready(ring) == 0)
		return 0;
	do
		e = io_uring_submit(ring);
	while (e == -EINTR);
	r->stats->uring_enters++;
	return e < 0 ? -1 : 0;
}

int
io_ring_watch(struct io_ring *r, int fd)
{
	size_t	 i, free_i = IO_RING_WATCH_MAX;

	for (i = 0; i < IO_RING_WATCH_MAX; i++) {
		if (r->watch[i].fd == fd)
			return 0;
		if (r->watch[i].fd == -1 && !r->watch[i].closing &&
		    free_i == IO_RING_WATCH_MAX)
			free_i = i;
	}
	if (free_i == IO_RING_WATCH_MAX) {
		errno = ENOSPC;
		return -1;
	}
	r->watch[free_i].fd = fd;
	if (r->files && io_uring_register_files_update(&r->tx,
	    (unsigned)free_i, &fd, 1) != 1)
		r->files = 0;	/* plain descriptors from now on */
	arm(r, free_i);
	return submit(r, &r->rx);
}

int
io_ring_unwatch(struct io_ring *r, int fd, io_ring_recv_fn *fn, void *arg)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	struct __kernel_timespec ts = { 0, 100 * 1000000 };
	struct watch		*w = NULL;
	int			 none = -1, waited = 0;
	size_t			 i;

	for (i = 0; i < IO_RING_WATCH_MAX && w == NULL; i++)
		if (r->watch[i].fd == fd)
			w = &r->watch[i];
	if (w == NULL)
		return 0;
	i--;
	w->closing = 1;
	if (r->files)
		(void)io_uring_register_files_update(&r->tx, (unsigned)i,
		    &none, 1);
	if (w->armed && (sqe = get_sqe(r, &r->rx)) != NULL) {
		io_uring_prep_cancel64(sqe, UD_RECV | i, 0);
		io_uring_sqe_set_data64(sqe, UD_CANCEL | i);
		(void)submit(r, &r->rx);
	}
	/* Until the receive's last completion: what it took is served. */
	while (w->armed && waited < RING_CANCEL_MS) {
		r->stats->uring_enters++;
		if (io_uring_wait_cqe_timeout(&r->rx, &cqe, &ts) == -ETIME)
			waited += 100;
		(void)io_ring_reap(r, fn, arg, SIZE_MAX);
	}
	if (w->armed)
		log_warnx("io_uring: the receive on fd %d outlived its "
		    "cancellation", fd);
	else
		w->closing = 0;
	w->fd = -1;
	return 1;
}

/* Buffers back to the kernel, once their datagrams are handled. */
static void
give_back(struct io_ring *r, const uint16_t *bid, int n)
{
	int	 mask = io_uring_buf_ring_mask(RING_NBUF), k;

	for (k = 0; k < n; k++)
		io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid[k] *
		    RING_STRIDE, RING_BUFSZ, bid[k], mask, k);
	io_uring_buf_ring_advance(r->br, n);
}

/* dg[k] from buffer bid, res bytes of it used. */
static void
fill(struct io_ring *r, int k, uint16_t bid, int res)
{
	struct io_dgram			*d = &r->dg[k];
	struct io_uring_recvmsg_out	*o;
	struct msghdr			 mh;
	uint8_t				*buf;

	buf = r->bufs + (size_t)bid * RING_STRIDE;
	r->bid[k] = bid;
	memset(d, 0, sizeof *d);
	if ((o = io_uring_recvmsg_validate(buf, res, &r->tmpl)) == NULL) {
		d->buf = buf;
		d->truncated = 1;	/* not a datagram we can read */
		return;
	}
	d->buf = io_uring_recvmsg_payload(o, &r->tmpl);
	d->len = io_uring_recvmsg_payload_length(o, res, &r->tmpl);
	d->truncated = (o->flags & MSG_TRUNC) != 0 ||
	    d->len >= IO_RECV_BUFSZ;
	d->peerlen = o->namelen < RING_NAMELEN ? o->namelen : RING_NAMELEN;
	memcpy(&d->peer, io_uring_recvmsg_name(o), d->peerlen);
	/* The control messages sit after the name: read them as io.c does. */
	memset(&mh, 0, sizeof mh);
	mh.msg_control = (uint8_t *)io_uring_recvmsg_name(o) + RING_NAMELEN;
	mh.msg_controllen = o->controllen;
	io_parse_local(&mh, &d->local);
}

static void
deliver(struct io_ring *r, int fd, int n, io_ring_recv_fn *fn, void *arg)
{
	r->stats->recv_dgrams += (uint64_t)n;
	fn(arg, fd, r->dg, n);
	give_back(r, r->bid, n);
}

int
io_ring_reap(struct io_ring *r, io_ring_recv_fn *fn, void *arg,
    size_t budget)
{
	struct io_uring_cqe	*cqe;
	size_t			 seen = 0, i;
	int			 n = 0, fd = -1;

	/* Called back from fn: the outer reap owns dg[]; it goes on. */
	if (r->reaping)
		return 1;
	r->reaping = 1;
	while (seen < budget && io_uring_peek_cqe(&r->rx, &cqe) == 0) {
		uint64_t	 ud = cqe->user_data;
		uint32_t	 flags = cqe->flags;
		int		 res = cqe->res;
		struct watch	*w;
		uint16_t	 bid;

		io_uring_cqe_seen(&r->rx, cqe);	/* the buffer stays ours */
		r->stats->uring_cqes++;
		seen++;
		if (UD_KIND(ud) != UD_RECV ||
		    (i = UD_INDEX(ud)) >= IO_RING_WATCH_MAX)
			continue;	/* a cancellation's own answer */
		w = &r->watch[i];
		if ((flags & IORING_CQE_F_MORE) == 0) {
			w->armed = 0;
			if (!w->closing && w->fd != -1)
				r->rearm = 1;
			/* Out of buffers is routine: the next reap re-arms. */
			if (res < 0 && res != -ENOBUFS && res != -ECANCELED)
				log_warnx("io_uring: recvmsg on fd %d: %s",
				    w->fd, strerror(-res));
		}
		if ((flags & IORING_CQE_F_BUFFER) == 0)
			continue;
		bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		if (res < 0 || w->fd == -1) {
			give_back(r, &bid, 1);
			continue;
		}
		if (n > 0 && (w->fd != fd || n == IO_BATCH_MAX)) {
			deliver(r, fd, n, fn, arg);
			n = 0;
		}
		fd = w->fd;
		fill(r, n++, bid, res);
	}
	if (n > 0)
		deliver(r, fd, n, fn, arg);
	r->reaping = 0;
	if (r->rearm) {
		r->rearm = 0;
		for (i = 0; i < IO_RING_WATCH_MAX; i++)
			if (r->watch[i].fd != -1 && !r->watch[i].armed &&
			    !r->watch[i].closing)
				arm(r, i);
		(void)submit(r, &r->rx);
	}
	return io_uring_cq_ready(&r->rx) > 0;
}

/* The registered-file index of fd, or -1. */
static int
file_index(const struct io_ring *r, int fd)
{
	size_t	 i;

	if (!r->files)
		return -1;
	for (i = 0; i < IO_RING_WATCH_MAX; i++)
		if (r->watch[i].fd == fd && !r->watch[i].closing)
			return (int)i;
	return -1;
}

int
io_ring_send(struct io_ring *r, struct mmsghdr *msgs, const int *fds,
    size_t n)
{
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	size_t			 i, got;
	int			 e, fi;

	if (n > RING_TX_ENTRIES)
		n = RING_TX_ENTRIES;
	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(&r->tx);	/* sized for a flush */
		/* MSG_DONTWAIT: EAGAIN comes back instead of a poll wait. */
		if ((fi = file_index(r, fds[i])) != -1) {
			io_uring_prep_sendmsg(sqe, fi, &msgs[i].msg_hdr,
			    MSG_DONTWAIT);
			sqe->flags |= IOSQE_FIXED_FILE;
		} else
			io_uring_prep_sendmsg(sqe, fds[i], &msgs[i].msg_hdr,
			    MSG_DONTWAIT);
		/* In order, and a failure cancels the rest (sendmmsg()). */
		if (i + 1 < n)
			sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(sqe, i);
		r->res[i] = -ECANCELED;
	}
	do
		e = io_uring_submit_and_wait(&r->tx, (unsigned)n);
	while (e == -EINTR);
	r->stats->uring_enters++;
	if (e < 0) {
		errno = -e;
		return -1;
	}
	for (got = 0; got < n; got++) {
		if (io_uring_peek_cqe(&r->tx, &cqe) != 0) {
			r->stats->uring_enters++;
			if ((e = io_uring_wait_cqe(&r->tx, &cqe)) < 0) {
				if (e == -EINTR) {
					got--;
					continue;
				}
				break;
			}
		}
		if (cqe->user_data < n)
			r->res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&r->tx, cqe);
		r->stats->uring_cqes++;
	}
	for (i = 0; i < n && r->res[i] >= 0; i++)
		msgs[i].msg_len = (unsigned)r->res[i];
	if (i == 0) {
		errno = -r->res[0];
		return -1;
	}
	return (int)i;
}

#else /* !HAVE_LIBURING */

struct io_ring {
	int	 unused;
};

struct io_ring *
io_ring_new(struct stats *stats, char *why, size_t whylen)
{
	(void)snprintf(why, whylen, "built without liburing");
	return NULL;
}

void
io_ring_free(struct io_ring *r)
{
}

int
io_ring_eventfd(const struct io_ring *r)
{
	return -1;
}

int
io_ring_watch(struct io_ring *r, int fd)
{
	errno = ENOSYS;
	return -1;
}

int
io_ring_unwatch(struct io_ring *r, int fd, io_ring_recv_fn *fn, void *arg)
{
	return 0;
}

int
io_ring_reap(struct io_ring *r, io_ring_recv_fn *fn, void *arg,
    size_t budget)
{
	return 0;
}

int
io_ring_send(struct io_ring *r, struct mmsghdr *msgs, const int *fds,
    size_t n)
{
	errno = ENOSYS;
	return -1;
}

#endif /* HAVE_LIBURING */
