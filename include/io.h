/*
 * Batched datagram I/O: the only caller of recvmmsg()/sendmmsg().
 * Receives drain up to IO_BATCH_MAX datagrams per call; sends are staged
 * in a preallocated arena and leave in one sendmmsg() per flush, each with
 * IP_PKTINFO/IPV6_PKTINFO so the reply's source is the address the
 * request was sent to.  With io_backend = "uring" an io_ring
 * (io-uring.h) carries both directions; staging stays here.
 */
#ifndef OWL_IO_H
#define OWL_IO_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "stats.h"

#define IO_BATCH_MAX	64		/* datagrams per recvmmsg() */
#define IO_RECV_BUFSZ	(PKT_HDR_LEN + PKT_DATA_MAX + 1) /* +1 detects oversize */
#define IO_SEND_MAX	512		/* staged datagrams per flush */
#define IO_RUN_MAX	64		/* segments in one GSO run (kernel cap) */
#define IO_RUN_BYTES	63000		/* bytes in one GSO run (< 64 KiB) */
#define IO_ARENA_SIZE	(4u << 20)	/* staged bytes per flush */

/* The local end of a datagram: where it arrived, where a reply leaves. */
struct io_local {
	int		 family;	/* 0: unknown, let the kernel choose */
	int		 ifindex;
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}		 addr;
};

struct io_dgram {
	uint8_t			*buf;
	size_t			 len;
	int			 truncated;	/* larger than IO_RECV_BUFSZ - 1 */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct io_local		 local;
};

struct io;
struct io_ring;

struct io	*io_new(struct stats *);
void		 io_free(struct io *);
/* From now on flushes submit to ring (borrowed; NULL: sendmmsg again). */
void		 io_set_ring(struct io *, struct io_ring *);

/*
 * Told of every datagram the kernel refused to send (not EAGAIN, which
 * waits), with the owner io_commit() was given, where it was going, how
 * many datagrams it carried (a GSO run carries several) and errno.
 */
typedef void	 io_refused_fn(void *arg, const void *owner,
		    const struct sockaddr *to, size_t n, int err);
void		 io_set_refused(struct io *, io_refused_fn *, void *arg);

/*
 * Receive up to IO_BATCH_MAX datagrams from fd.  *out points at an
 * array owned by io, valid until the next io_recv_batch().  Returns the
 * count, 0 when nothing is waiting, -1 on error.
 */
int		 io_recv_batch(struct io *, int fd, struct io_dgram **out);

/*
 * Stage one datagram: io_stage returns a buffer of at least cap bytes
 * (flushing first if the arena is full), io_commit queues its first len
 * bytes for peer from local, on behalf of owner (for the refused
 * callback; may be NULL).  With segsize != 0 the bytes are a run of
 * datagrams of segsize bytes (the last may be shorter, at most
 * IO_RUN_MAX of them): one UDP GSO send (UDP_SEGMENT) where the kernel
 * can, else one datagram each.  io_stage returns NULL only when a flush
 * could not drain the queue (EAGAIN); the datagram is then dropped and
 * counted, and the retransmit timer recovers.
 */
uint8_t		*io_stage(struct io *, size_t cap);
void		 io_commit(struct io *, int fd, size_t len, size_t segsize,
		    const struct sockaddr *peer, socklen_t peerlen,
		    const struct io_local *local, const void *owner);

/*
 * The same to a multicast group: the datagrams leave by local->ifindex,
 * since a group has no route to pick an interface.
 */
void		 io_commit_group(struct io *, int fd, size_t len,
		    size_t segsize, const struct sockaddr *group,
		    socklen_t grouplen, const struct io_local *local,
		    const void *owner);

/* Send what is staged.  0 when drained, -1 if some remain (EAGAIN). */
int		 io_flush(struct io *);
/* Descriptor the pending queue is blocked on, for an EV_WRITE wait. */
int		 io_blocked_fd(const struct io *);

#endif
