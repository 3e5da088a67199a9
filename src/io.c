/*
 * Batched datagram I/O.  Everything is allocated in io_new(); the hot
 * path only fills preallocated arrays.  Sends are staged and leave with
 * one sendmmsg() per run of datagrams for the same socket, or, with a
 * ring attached (io_set_ring()), all of them in one io_uring_enter().
 * Either way the errors are handled here, once.
 */
#include "config.h"

#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "io-int.h"
#include "io-uring.h"
#include "log.h"
#include "sock.h"

#define IO_NOGSO_MAX	16	/* interfaces remembered as too small */

struct io {
	struct stats		*stats;
	struct io_ring		*ring;		/* sends go there; NULL: mmsg */

	/* receive */
	uint8_t			*rbuf;		/* IO_BATCH_MAX * IO_RECV_BUFSZ */
	struct mmsghdr		 rmsg[IO_BATCH_MAX];
	struct iovec		 riov[IO_BATCH_MAX];
	union {
		struct cmsghdr	 align;
		char		 buf[IO_CMSG_SPACE];
	}			 rcmsg[IO_BATCH_MAX];
	struct io_dgram		 dg[IO_BATCH_MAX];
	io_refused_fn		*refused;
	void			*refused_arg;

	/* send */
	uint8_t			*arena;		/* IO_ARENA_SIZE */
	size_t			 used;
	size_t			 nsend;		/* staged */
	size_t			 first;		/* first not yet sent */
	int			 blocked_fd;	/* EAGAIN on it, -1 if none */
	int			 gso;		/* UDP_SEGMENT works here */
	struct mmsghdr		 smsg[IO_SEND_MAX];
	struct iovec		 siov[IO_SEND_MAX];
	struct sockaddr_storage	 speer[IO_SEND_MAX];
	union {
		struct cmsghdr	 align;
		char		 buf[IO_CMSG_SPACE];
	}			 scmsg[IO_SEND_MAX];
	int			 sfd[IO_SEND_MAX];
	uint16_t		 gsosz[IO_SEND_MAX];	/* 0: plain datagram */
	const void		*sowner[IO_SEND_MAX];
	int			 sifx[IO_SEND_MAX];	/* local interface */

	/* A GSO run refused, sent one datagram per segment. */
	struct mmsghdr		 xmsg[IO_RUN_MAX];
	struct iovec		 xiov[IO_RUN_MAX];
	int			 xfd[IO_RUN_MAX];

	/*
	 * Interfaces where a GSO send failed with EMSGSIZE (its segments
	 * are larger than the MTU, and GSO does not fragment): from that
	 * segment size up, runs to them leave one datagram per segment.
	 */
	struct {
		int		 ifindex;
		int		 family;
		uint16_t	 seg;
	}			 nogso[IO_NOGSO_MAX];
	size_t			 nnogso;
};

struct io *
io_new(struct stats *stats)
{
	struct io	*io;

	if ((io = calloc(1, sizeof *io)) == NULL)
		return NULL;
	io->stats = stats;
	io->blocked_fd = -1;
	io->gso = 1;	/* until a send says otherwise */
	io->rbuf = malloc((size_t)IO_BATCH_MAX * IO_RECV_BUFSZ);
	io->arena = malloc(IO_ARENA_SIZE);
	if (io->rbuf == NULL || io->arena == NULL) {
		io_free(io);
		return NULL;
	}
	return io;
}

void
io_set_refused(struct io *io, io_refused_fn *fn, void *arg)
{
	io->refused = fn;
	io->refused_arg = arg;
}

void
io_set_ring(struct io *io, struct io_ring *ring)
{
	io->ring = ring;
}

void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	free(io->rbuf);
	free(io->arena);
	free(io);
}

void
io_parse_local(struct msghdr *mh, struct io_local *local)
{
	struct cmsghdr	*c;

	memset(local, 0, sizeof *local);
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	 pi;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			local->family = AF_INET;
			local->ifindex = pi.ipi_ifindex;
			/* spec_dst is our address even for a broadcast. */
			local->addr.v4 = pi.ipi_spec_dst;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	 pi6;

			memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
			local->family = AF_INET6;
			local->ifindex = (int)pi6.ipi6_ifindex;
			local->addr.v6 = pi6.ipi6_addr;
		}
	}
}

int
io_recv_batch(struct io *io, int fd, struct io_dgram **out)
{
	int	 i, n;

	for (i = 0; i < IO_BATCH_MAX; i++) {
		struct msghdr	*mh = &io->rmsg[i].msg_hdr;

		io->riov[i].iov_base = io->rbuf + (size_t)i * IO_RECV_BUFSZ;
		io->riov[i].iov_len = IO_RECV_BUFSZ;
		mh->msg_name = &io->dg[i].peer;
		mh->msg_namelen = sizeof io->dg[i].peer;
		mh->msg_iov = &io->riov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = io->rcmsg[i].buf;
		mh->msg_controllen = sizeof io->rcmsg[i].buf;
		mh->msg_flags = 0;
	}
	do
		n = recvmmsg(fd, io->rmsg, IO_BATCH_MAX, MSG_DONTWAIT, NULL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
	io->stats->recvmmsg_calls++;
	io->stats->recv_dgrams += (uint64_t)n;
	for (i = 0; i < n; i++) {
		struct msghdr	*mh = &io->rmsg[i].msg_hdr;
		struct io_dgram	*d = &io->dg[i];

		d->buf = io->riov[i].iov_base;
		d->len = io->rmsg[i].msg_len;
		d->truncated = (mh->msg_flags & MSG_TRUNC) != 0 ||
		    d->len >= IO_RECV_BUFSZ;
		d->peerlen = mh->msg_namelen;
		io_parse_local(mh, &d->local);
	}
	*out = io->dg;
	return n;
}

uint8_t *
io_stage(struct io *io, size_t cap)
{
	if (cap > IO_ARENA_SIZE)
		return NULL;
	/* Room for the worst case: a run split into IO_RUN_MAX datagrams. */
	if (io->nsend + IO_RUN_MAX > IO_SEND_MAX ||
	    io->used + cap > IO_ARENA_SIZE) {
		if (io_flush(io) == -1) {
			io->stats->send_dropped++;
			return NULL;
		}
	}
	return io->arena + io->used;
}

/*
 * Control data: the source address (packet info) and a GSO size.  To an
 * IPv4 group the interface is named too: a group has no route to pick
 * one, and the DATA must leave where the clients asked.
 */
static void
set_control(struct msghdr *mh, void *cbuf, const struct io_local *local,
    uint16_t gso_size, int to_group)
{
	struct cmsghdr	*c;
	size_t		 space = 0;

	if ((local == NULL || local->family == 0) && gso_size == 0) {
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		return;
	}
	memset(cbuf, 0, IO_CMSG_SPACE);
	mh->msg_control = cbuf;
	mh->msg_controllen = IO_CMSG_SPACE;
	c = CMSG_FIRSTHDR(mh);
	if (local != NULL && local->family == AF_INET) {
		struct in_pktinfo	 pi;

		memset(&pi, 0, sizeof pi);
		pi.ipi_spec_dst = local->addr.v4;
		if (to_group)
			pi.ipi_ifindex = local->ifindex;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
		space += CMSG_SPACE(sizeof pi);
		c = CMSG_NXTHDR(mh, c);
	} else if (local != NULL && local->family == AF_INET6) {
		struct in6_pktinfo	 pi6;

		memset(&pi6, 0, sizeof pi6);
		pi6.ipi6_addr = local->addr.v6;
		pi6.ipi6_ifindex = (unsigned)local->ifindex;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi6);
		memcpy(CMSG_DATA(c), &pi6, sizeof pi6);
		space += CMSG_SPACE(sizeof pi6);
		c = CMSG_NXTHDR(mh, c);
	}
	if (gso_size != 0 && c != NULL) {
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof gso_size);
		memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
		space += CMSG_SPACE(sizeof gso_size);
	}
	mh->msg_controllen = space;
}

/* Queue one datagram (or one GSO run) of len bytes at the arena's end. */
static void
queue(struct io *io, int fd, size_t off, size_t len, uint16_t gso_size,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct io_local *local, int to_group, const void *owner)
{
	size_t		 i = io->nsend;
	struct msghdr	*mh = &io->smsg[i].msg_hdr;

	io->siov[i].iov_base = io->arena + off;
	io->siov[i].iov_len = len;
	memcpy(&io->speer[i], peer, peerlen);
	mh->msg_name = &io->speer[i];
	mh->msg_namelen = peerlen;
	mh->msg_iov = &io->siov[i];
	mh->msg_iovlen = 1;
	mh->msg_flags = 0;
	set_control(mh, io->scmsg[i].buf, local, gso_size, to_group);
	io->sfd[i] = fd;
	io->gsosz[i] = gso_size;
	io->sowner[i] = owner;
	io->sifx[i] = local != NULL ? local->ifindex : 0;
	io->nsend++;
}

/* Did segments of this size to this interface fail with EMSGSIZE? */
static int
too_big(const struct io *io, int ifindex, int family, size_t segsize)
{
	size_t	 i;

	for (i = 0; i < io->nnogso; i++)
		if (io->nogso[i].ifindex == ifindex &&
		    io->nogso[i].family == family &&
		    segsize >= io->nogso[i].seg)
			return 1;
	return 0;
}

static void
commit(struct io *io, int fd, size_t len, size_t segsize,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct io_local *local, int to_group, const void *owner)
{
	size_t	 off = io->used, nseg;

	if (io->nsend + IO_RUN_MAX > IO_SEND_MAX ||
	    io->used + len > IO_ARENA_SIZE || peerlen > sizeof io->speer[0])
		return;		/* io_stage() was not called first */
	io->used += len;
	if (segsize == 0 || len <= segsize) {
		queue(io, fd, off, len, 0, peer, peerlen, local, to_group,
		    owner);
		return;
	}
	nseg = (len + segsize - 1) / segsize;
	if (io->gso && nseg <= IO_RUN_MAX && segsize <= UINT16_MAX &&
	    !too_big(io, local != NULL ? local->ifindex : 0, peer->sa_family,
	    segsize)) {
		queue(io, fd, off, len, (uint16_t)segsize, peer, peerlen,
		    local, to_group, owner);
		io->stats->gso_sends++;
		io->stats->gso_segments += nseg;
		return;
	}
	/* No GSO here: the same bytes, one datagram per segment. */
	for (; len > 0; off += segsize, len -= segsize < len ? segsize : len)
		queue(io, fd, off, segsize < len ? segsize : len, 0, peer,
		    peerlen, local, to_group, owner);
}

void
io_commit(struct io *io, int fd, size_t len, size_t segsize,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct io_local *local, const void *owner)
{
	commit(io, fd, len, segsize, peer, peerlen, local, 0, owner);
}

void
io_commit_group(struct io *io, int fd, size_t len, size_t segsize,
    const struct sockaddr *group, socklen_t grouplen,
    const struct io_local *local, const void *owner)
{
	commit(io, fd, len, segsize, group, grouplen, local, 1, owner);
}

/* n datagrams of queued entry i cannot go: count them, tell the owner. */
static void
refused(struct io *io, size_t i, size_t n, int err)
{
	io->stats->send_failed += n;
	if (io->refused != NULL)
		io->refused(io->refused_arg, io->sowner[i],
		    io->smsg[i].msg_hdr.msg_name, n, err);
}

/*
 * GSO run i failed with EMSGSIZE: its segments do not fit the MTU of the
 * way out.  Remember it for its interface (and family), so later runs of
 * such segments there leave as plain datagrams at once, and say so the
 * first time: blksize_max above the MTU means IP fragments.
 */
static void
note_too_big(struct io *io, size_t i)
{
	const struct sockaddr	*to = io->smsg[i].msg_hdr.msg_name;
	char			 name[IF_NAMESIZE];
	size_t			 j;
	int			 ifindex = io->sifx[i];

	for (j = 0; j < io->nnogso; j++) {
		if (io->nogso[j].ifindex == ifindex &&
		    io->nogso[j].family == to->sa_family) {
			if (io->gsosz[i] < io->nogso[j].seg)
				io->nogso[j].seg = io->gsosz[i];
			return;
		}
	}
	j = io->nnogso < IO_NOGSO_MAX ? io->nnogso++ :
	    (size_t)ifindex % IO_NOGSO_MAX;
	io->nogso[j].ifindex = ifindex;
	io->nogso[j].family = to->sa_family;
	io->nogso[j].seg = io->gsosz[i];
	if (ifindex <= 0 || sock_ifname(io->sfd[i], ifindex, name,
	    sizeof name) == NULL)
		(void)snprintf(name, sizeof name, "#%d", ifindex);
	log_warnx("interface %s: DATA of %u bytes exceed its MTU, which UDP "
	    "GSO cannot send: windows of such blocks leave one datagram per "
	    "block, as IP fragments (blksize_max = 0 fits blocks to the MTU)",
	    name, (unsigned)io->gsosz[i] - PKT_HDR_LEN);
}

/*
 * The length of msg_control without the UDP_SEGMENT message (set_control()
 * puts it last).
 */
static size_t
control_without_gso(struct msghdr *mh)
{
	struct cmsghdr	*c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT)
			return (size_t)((char *)c - (char *)mh->msg_control);
	return mh->msg_controllen;
}

/*
 * Send n datagrams, the way sendmmsg() does: the count sent from the
 * first, or -1 and errno if the first failed.  Through sendmmsg() all go
 * to fds[0]; through the ring each to its own.
 */
static int
send_some(struct io *io, struct mmsghdr *m, const int *fds, size_t n)
{
	int	 r;

	if (io->ring != NULL)
		return io_ring_send(io->ring, m, fds, n);
	do
		r = sendmmsg(fds[0], m, (unsigned)n, 0);
	while (r == -1 && errno == EINTR);
	io->stats->sendmmsg_calls++;
	return r;
}

/*
 * The kernel refused GSO run i: send it one datagram per segment, which
 * it fragments if they exceed the MTU (what other servers' plain sends
 * get).  0 when every segment left or was refused; -1 on EAGAIN, with
 * the run cut to the segments still to go, to be sent when the socket
 * drains.
 */
static int
send_split(struct io *io, size_t i)
{
	struct msghdr	*mh = &io->smsg[i].msg_hdr;
	uint8_t		*p = io->siov[i].iov_base;
	size_t		 left = io->siov[i].iov_len, seg = io->gsosz[i];
	size_t		 clen = control_without_gso(mh), n, j;
	int		 fd = io->sfd[i], r;

	for (n = 0; left > 0 && n < IO_RUN_MAX; n++) {
		struct msghdr	*xh = &io->xmsg[n].msg_hdr;

		io->xiov[n].iov_base = p;
		io->xiov[n].iov_len = left < seg ? left : seg;
		p += io->xiov[n].iov_len;
		left -= io->xiov[n].iov_len;
		xh->msg_name = mh->msg_name;
		xh->msg_namelen = mh->msg_namelen;
		xh->msg_iov = &io->xiov[n];
		xh->msg_iovlen = 1;
		xh->msg_control = clen > 0 ? mh->msg_control : NULL;
		xh->msg_controllen = clen;
		xh->msg_flags = 0;
		io->xfd[n] = fd;
	}
	for (j = 0; j < n; ) {
		r = send_some(io, &io->xmsg[j], &io->xfd[j], n - j);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			io->siov[i].iov_base = io->xiov[j].iov_base;
			io->siov[i].iov_len -= j * seg;
			io->blocked_fd = fd;
			return -1;
		}
		if (r == -1) {
			refused(io, i, 1, errno);
			j++;
			continue;
		}
		io->stats->send_dgrams += (uint64_t)r;
		j += (size_t)r;
	}
	return 0;
}

int
io_flush(struct io *io)
{
	while (io->first < io->nsend) {
		size_t	 run = 1;
		int	 fd = io->sfd[io->first], n;

		if (io->ring != NULL)
			run = io->nsend - io->first;	/* each names its fd */
		else
			while (io->first + run < io->nsend &&
			    io->sfd[io->first + run] == fd)
				run++;
		n = send_some(io, &io->smsg[io->first], &io->sfd[io->first],
		    run);
		if (n == -1) {
			int	 err = errno;

			if (err == EAGAIN || err == EWOULDBLOCK) {
				io->blocked_fd = fd;
				return -1;
			}
			if (io->gsosz[io->first] != 0 && (err == EMSGSIZE ||
			    err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
				/*
				 * Segments above the MTU (EMSGSIZE): not to
				 * that interface any more.  The path cannot
				 * segment at all: stop asking.  Either way
				 * this run leaves now, a datagram a block.
				 */
				if (err == EMSGSIZE)
					note_too_big(io, io->first);
				else
					io->gso = 0;
				io->stats->gso_fallback++;
				if (send_split(io, io->first) == -1)
					return -1;
				io->first++;
				continue;
			}
			/* This datagram cannot go (unreachable, too big):
			 * drop it; the transfer's timer decides its fate. */
			refused(io, io->first, io->gsosz[io->first] == 0 ? 1 :
			    (io->siov[io->first].iov_len +
			    io->gsosz[io->first] - 1) / io->gsosz[io->first],
			    err);
			io->first++;
			continue;
		}
		io->stats->send_dgrams += (uint64_t)n;	/* GSO run = one */
		io->first += (size_t)n;
	}
	io->first = io->nsend = io->used = 0;
	io->blocked_fd = -1;
	return 0;
}

int
io_blocked_fd(const struct io *io)
{
	return io->blocked_fd;
}
