/*
 * Unit tests for io-uring.c on real sockets: multishot receives hand
 * over every datagram with its peer, local address and truncation;
 * after io_ring_unwatch() a socket's datagrams stay in the socket; the
 * linked sends behave as sendmmsg(): a failure stops the rest, and a
 * full peer gives EAGAIN back instead of waiting.  Where the kernel (or
 * the build) refuses a ring, the cases pass after saying so.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io-uring.h"
#include "io.h"
#include "stats.h"
#include "suite_main.h"

#define BIG	65500		/* more than IO_RECV_BUFSZ - 1 */

static struct stats	 st;
static struct io_ring	*ring;
static int		 rx = -1, tx = -1;
static struct sockaddr_in rx_addr;

/* What io_ring_reap() handed over. */
static struct got {
	int		 fd;
	size_t		 len;
	int		 truncated;
	int		 family;
	uint8_t		 first;
	struct sockaddr_in peer;
	struct in_addr	 local;
}			 got[16];
static int		 ngot;

static void
on_recv(void *arg, int fd, struct io_dgram *d, int n)
{
	int	 i;

	for (i = 0; i < n && ngot < 16; i++, ngot++) {
		got[ngot].fd = fd;
		got[ngot].len = d[i].len;
		got[ngot].truncated = d[i].truncated;
		got[ngot].family = d[i].local.family;
		got[ngot].first = d[i].len > 0 ? d[i].buf[0] : 0;
		memcpy(&got[ngot].peer, &d[i].peer, sizeof got[ngot].peer);
		got[ngot].local = d[i].local.addr.v4;
	}
}

/* Reap until n datagrams came or a second passed. */
static void
reap_until(int n)
{
	int	 tries;

	for (tries = 0; tries < 100 && ngot < n; tries++) {
		(void)io_ring_reap(ring, on_recv, NULL, 1000);
		if (ngot < n)
			(void)usleep(10000);
	}
}

static int
udp_socket(struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof *sin;
	int		 fd, on = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on,
	    sizeof on), 0);
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof *sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void
setup(void)
{
	char			 why[160];
	struct sockaddr_in	 tx_addr;

	memset(&st, 0, sizeof st);
	ngot = 0;
	if ((ring = io_ring_new(&st, why, sizeof why)) == NULL)
		fprintf(stderr, "io_uring refused (%s): cases pass "
		    "untested\n", why);
	rx = udp_socket(&rx_addr);
	tx = udp_socket(&tx_addr);
}

static void
teardown(void)
{
	io_ring_free(ring);
	ring = NULL;
	(void)close(rx);
	(void)close(tx);
}

static void
send_to_rx(uint8_t first, size_t len)
{
	static uint8_t	 buf[BIG];

	memset(buf, 'x', len);
	buf[0] = first;
	ck_assert_int_eq(sendto(tx, buf, len, 0,
	    (struct sockaddr *)&rx_addr, sizeof rx_addr), (ssize_t)len);
}

START_TEST(receives_every_datagram_with_its_addresses)
{
	struct sockaddr_in	 tx_addr;
	socklen_t		 len = sizeof tx_addr;

	if (ring == NULL)
		return;
	ck_assert_int_eq(io_ring_watch(ring, rx), 0);
	ck_assert_int_eq(io_ring_watch(ring, rx), 0);	/* once only */
	send_to_rx('a', 4);
	send_to_rx('b', 516);
	send_to_rx('c', BIG);
	reap_until(3);
	ck_assert_int_eq(ngot, 3);
	ck_assert_int_eq(getsockname(tx, (struct sockaddr *)&tx_addr, &len),
	    0);
	ck_assert_int_eq(got[0].fd, rx);
	ck_assert_uint_eq(got[0].len, 4);
	ck_assert_int_eq(got[0].first, 'a');
	ck_assert_int_eq(got[0].truncated, 0);
	ck_assert_int_eq(got[0].peer.sin_port, tx_addr.sin_port);
	ck_assert_int_eq(got[0].family, AF_INET);
	ck_assert_uint_eq(got[0].local.s_addr, htonl(INADDR_LOOPBACK));
	ck_assert_uint_eq(got[1].len, 516);
	ck_assert_int_eq(got[1].first, 'b');
	ck_assert_int_eq(got[2].first, 'c');
	ck_assert_int_eq(got[2].truncated, 1);
	ck_assert_uint_eq(st.recv_dgrams, 3);
	ck_assert_uint_ge(st.uring_cqes, 3);
}
END_TEST

START_TEST(unwatched_socket_keeps_its_datagrams)
{
	char	 buf[16];

	if (ring == NULL)
		return;
	ck_assert_int_eq(io_ring_watch(ring, rx), 0);
	send_to_rx('a', 4);
	reap_until(1);
	ck_assert_int_eq(ngot, 1);
	ck_assert_int_eq(io_ring_unwatch(ring, rx, on_recv, NULL), 1);
	ck_assert_int_eq(io_ring_unwatch(ring, rx, on_recv, NULL), 0);
	send_to_rx('z', 4);
	(void)usleep(50000);
	(void)io_ring_reap(ring, on_recv, NULL, 1000);
	ck_assert_int_eq(ngot, 1);
	/* Still in the socket, for whoever reads it next. */
	ck_assert_int_eq(recv(rx, buf, sizeof buf, 0), 4);
	ck_assert_int_eq(buf[0], 'z');
}
END_TEST

/* Three datagrams to rx, the second to an address of another family. */
START_TEST(a_failed_send_stops_the_rest)
{
	struct mmsghdr		 m[3];
	struct iovec		 iov[3];
	struct sockaddr_in6	 bad;
	char			 data[3] = { 'a', 'b', 'c' };
	int			 fds[3] = { tx, tx, tx }, i;

	if (ring == NULL)
		return;
	memset(m, 0, sizeof m);
	memset(&bad, 0, sizeof bad);
	bad.sin6_family = AF_INET6;
	bad.sin6_port = rx_addr.sin_port;
	bad.sin6_addr = in6addr_loopback;
	for (i = 0; i < 3; i++) {
		iov[i].iov_base = &data[i];
		iov[i].iov_len = 1;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &rx_addr;
		m[i].msg_hdr.msg_namelen = sizeof rx_addr;
	}
	m[1].msg_hdr.msg_name = &bad;
	m[1].msg_hdr.msg_namelen = sizeof bad;
	ck_assert_int_eq(io_ring_send(ring, m, fds, 3), 1);
	errno = 0;
	ck_assert_int_eq(io_ring_send(ring, &m[1], &fds[1], 2), -1);
	ck_assert_int_ne(errno, 0);
	ck_assert_int_ne(errno, ECANCELED);
	ck_assert_int_eq(io_ring_send(ring, &m[2], &fds[2], 1), 1);
	ck_assert_uint_ge(st.uring_enters, 3);
	ck_assert_int_eq(io_ring_watch(ring, rx), 0);
	reap_until(2);
	ck_assert_int_eq(ngot, 2);
	ck_assert_int_eq(got[0].first, 'a');
	ck_assert_int_eq(got[1].first, 'c');
}
END_TEST

/*
 * A Unix datagram peer that reads nothing holds what was sent against
 * the sender's smallest SO_SNDBUF: the sends that do not fit come back
 * as EAGAIN, as from sendmmsg() on a non-blocking socket, never as a
 * wait in the kernel.
 */
START_TEST(a_full_peer_gives_eagain)
{
	struct mmsghdr	 m[64];
	struct iovec	 iov;
	int		 sv[2], fds[64], n, i, one = 1;
	char		 c = 'x';

	if (ring == NULL)
		return;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one,
	    sizeof one), 0);
	memset(m, 0, sizeof m);
	iov.iov_base = &c;
	iov.iov_len = 1;
	for (i = 0; i < 64; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
		fds[i] = sv[0];
	}
	n = io_ring_send(ring, m, fds, 64);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 64);
	errno = 0;
	ck_assert_int_eq(io_ring_send(ring, &m[n], &fds[n], (size_t)(64 - n)),
	    -1);
	ck_assert_int_eq(errno, EAGAIN);
	(void)close(sv[0]);
	(void)close(sv[1]);
}
END_TEST

START_TEST(the_test_hook_refuses)
{
	char		 why[160];
	struct io_ring	*r;

	ck_assert_int_eq(setenv("OWLTFTPD_TEST_URING_REFUSE", "1", 1), 0);
	r = io_ring_new(&st, why, sizeof why);
	(void)unsetenv("OWLTFTPD_TEST_URING_REFUSE");
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(why, "OWLTFTPD_TEST_URING_REFUSE") != NULL ||
	    strcmp(why, "built without liburing") == 0, "why: %s", why);
}
END_TEST

static Suite *
io_uring_suite(void)
{
	Suite	*s = suite_create("io_uring");
	TCase	*tc = tcase_create("receives and sends through the ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, receives_every_datagram_with_its_addresses);
	tcase_add_test(tc, unwatched_socket_keeps_its_datagrams);
	tcase_add_test(tc, a_failed_send_stops_the_rest);
	tcase_add_test(tc, a_full_peer_gives_eagain);
	tcase_add_test(tc, the_test_hook_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(io_uring_suite());
}
