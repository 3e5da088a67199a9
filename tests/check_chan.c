/*
 * The master <-> worker channel: messages arrive whole and in order
 * through the send queue, a droppable message is refused (1) rather than
 * queued behind a full socket, and a closed channel says so (-1).
 */
#include "config.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "chan.h"
#include "suite_main.h"

static struct event_base	*base;
static struct chan		 tx, rx;
static unsigned			 got;
static uint32_t			 last_value;
static int			 in_order;

static void
on_quit(struct chan *c, const struct chan_hdr *h, const void *body,
    void *arg)
{
	const struct chan_quit	*q = body;

	(void)c;
	(void)h;
	(void)arg;
	if (got > 0 && q->close_listen != last_value + 1)
		in_order = 0;
	last_value = q->close_listen;
	got++;
}

static const struct chan_handler handlers[] = {
	{ CHAN_T_QUIT, sizeof(struct chan_quit), on_quit },
	{ 0, 0, NULL }
};

static void
setup(void)
{
	int	 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(chan_open(&tx, base, sv[0], 0, handlers, NULL, NULL),
	    0);
	ck_assert_int_eq(chan_open(&rx, base, sv[1], 0, handlers, NULL, NULL),
	    0);
	got = 0;
	last_value = 0;
	in_order = 1;
}

static void
teardown(void)
{
	chan_close(&tx);
	chan_close(&rx);
	event_base_free(base);
}

static int
send_quit(uint32_t v, int droppable)
{
	struct chan_quit	 q;

	memset(&q, 0, sizeof q);
	q.close_listen = v;
	return chan_send(&tx, CHAN_T_QUIT, &q, sizeof q, droppable);
}

/* Fill the socket (nobody reads): the first send that has to queue. */
static uint32_t
fill(void)
{
	uint32_t	 v = 0;

	while (tx.head == NULL) {
		ck_assert_int_eq(send_quit(v, 0), 0);
		v++;
		ck_assert_uint_lt(v, 1000000);
	}
	return v;
}

START_TEST(droppable_is_refused_behind_a_full_socket)
{
	uint32_t	 sent = fill();

	/* Not queued, and the caller is told. */
	ck_assert_int_eq(send_quit(999999, 1), 1);
	/* A command is never dropped: queued behind. */
	ck_assert_int_eq(send_quit(sent, 0), 0);
	/* The reader drains the socket, the writer its queue. */
	while (got < sent + 1) {
		ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	}
	ck_assert_uint_eq(got, sent + 1);
	ck_assert(in_order);
	ck_assert_uint_eq(last_value, sent);
	/* Queue empty again: a droppable message goes. */
	ck_assert_ptr_null(tx.head);
	ck_assert_int_eq(send_quit(sent + 1, 1), 0);
	chan_drain(&rx);
	ck_assert_uint_eq(got, sent + 2);
	ck_assert(in_order);
}
END_TEST

START_TEST(droppable_goes_when_nothing_waits)
{
	ck_assert_int_eq(send_quit(0, 1), 0);
	ck_assert_int_eq(send_quit(1, 1), 0);
	chan_drain(&rx);
	ck_assert_uint_eq(got, 2);
	ck_assert(in_order);
}
END_TEST

START_TEST(closed_channel_refuses)
{
	chan_close(&tx);
	ck_assert_int_eq(send_quit(0, 0), -1);
	ck_assert_int_eq(send_quit(0, 1), -1);
}
END_TEST

static Suite *
chan_suite(void)
{
	Suite	*s = suite_create("chan");
	TCase	*tc = tcase_create("send");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, droppable_is_refused_behind_a_full_socket);
	tcase_add_test(tc, droppable_goes_when_nothing_waits);
	tcase_add_test(tc, closed_channel_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(chan_suite());
}
