/*
 * The io_uring datagram backend (io_backend = "uring"): one ring of
 * multishot recvmsg()s, one per watched socket, filling buffers from a
 * provided-buffer ring, and a second ring for the sends io.c stages,
 * so a flush is one io_uring_enter() and send completions never wake
 * the loop.  The receive ring signals an eventfd, the loop's only read
 * event for datagram sockets.  Exported names take io_ring_ (io_uring_
 * is liburing's).  Built without liburing, io_ring_new() always fails
 * and the worker keeps recvmmsg()/sendmmsg().
 */
#ifndef OWL_IO_URING_H
#define OWL_IO_URING_H

#include <sys/socket.h>

#include <stddef.h>

#include "io.h"
#include "stats.h"

#define IO_RING_WATCH_MAX	32	/* sockets a ring reads */

struct io_ring;

/*
 * A ring whose kernel takes everything the backend uses (a refusal at
 * the first datagram would be too late to fall back), or NULL with the
 * reason in why.  The environment variable OWLTFTPD_TEST_URING_REFUSE
 * makes it refuse: a test hook for the fallback.
 */
struct io_ring	*io_ring_new(struct stats *, char *why, size_t whylen);
void		 io_ring_free(struct io_ring *);
/* The eventfd that becomes readable when datagrams are waiting. */
int		 io_ring_eventfd(const struct io_ring *);

/*
 * Received datagrams of one socket, in arrival order; d and its buffers
 * are valid until the function returns.
 */
typedef void	 io_ring_recv_fn(void *arg, int fd, struct io_dgram *d,
		    int n);

/* Read fd from now on (again: nothing); -1 if the ring is full. */
int		 io_ring_watch(struct io_ring *, int fd);
/*
 * Stop reading fd before it is closed (a close() alone leaves the
 * ring's receive running on the socket): cancel it and wait for the
 * cancellation, handing what arrived meanwhile to fn.  1 if fd was
 * watched, 0 if not.
 */
int		 io_ring_unwatch(struct io_ring *, int fd, io_ring_recv_fn *,
		    void *arg);
/*
 * Hand at most budget received datagrams to fn, grouped by socket, and
 * re-arm the receives that stopped.  1 if more are waiting.
 */
int		 io_ring_reap(struct io_ring *, io_ring_recv_fn *, void *arg,
		    size_t budget);

/*
 * Send n messages, msgs[i] to fds[i], in order, in one io_uring_enter()
 * that waits for them all.  As sendmmsg(): the count sent from the first
 * (a failure stops the rest), or -1 and errno if the first failed.
 */
int		 io_ring_send(struct io_ring *, struct mmsghdr *msgs,
		    const int *fds, size_t n);

#endif
