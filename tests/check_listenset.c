/*
 * Unit tests for listenset.c on loopback with port 0: one port for every
 * slot, a reload keeps its ports, a slot leaves the group and comes back,
 * a port someone else holds is refused.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "listenset.h"
#include "log.h"
#include "sock.h"
#include "suite_main.h"

static struct conf	 conf;

/* One listen entry from its text, as the configuration stores it. */
static void
listen_at(struct conf_listen *l, const char *text)
{
	const char	*why = NULL;

	memset(l, 0, sizeof *l);
	ck_assert_msg(sock_parse_addr(text, &l->addr, &l->addrlen,
	    &l->hasport, &why) == 0, "%s: %s", text, why);
	(void)snprintf(l->text, sizeof l->text, "%s", text);
}

/* A configuration of workers slots on the given addresses. */
static void
conf_with(int workers, const char *a, const char *b)
{
	memset(&conf, 0, sizeof conf);
	conf.workers = workers;
	listen_at(&conf.listen[0], a);
	conf.nlisten = 1;
	if (b != NULL) {
		listen_at(&conf.listen[1], b);
		conf.nlisten = 2;
	}
}

static int
bound_port(const struct listenset *ls, size_t i)
{
	return sock_port_of((const struct sockaddr *)
	    &listenset_bound(ls, i)->addr);
}

/* Every socket of every slot is open and on address i's bound port. */
static void
assert_all_on_port(const struct listenset *ls, int slots)
{
	size_t	 i;
	int	 s;

	for (s = 0; s < slots; s++) {
		ck_assert(listenset_slot_open(ls, s));
		for (i = 0; i < listenset_count(ls); i++) {
			int	 fd = listenset_slot_fds(ls, s)[i];

			ck_assert_int_ne(fd, -1);
			ck_assert_int_eq(sock_port(fd), bound_port(ls, i));
		}
	}
}

START_TEST(port_zero_gives_every_slot_one_port)
{
	struct listenset	*ls;
	char			*cause = NULL;

	conf_with(3, "127.0.0.1:0", NULL);
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_msg(ls != NULL, "%s", cause);
	ck_assert_uint_eq(listenset_count(ls), 1);
	ck_assert_int_gt(bound_port(ls, 0), 0);
	assert_all_on_port(ls, 3);
	listenset_free(ls);
}
END_TEST

START_TEST(second_address_takes_the_first_ones_port)
{
	struct listenset	*ls;
	char			*cause = NULL;

	/* ::1 may be missing: then it is skipped, not an error. */
	conf_with(2, "127.0.0.1:0", "[::1]:0");
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_msg(ls != NULL, "%s", cause);
	ck_assert_uint_ge(listenset_count(ls), 1);
	if (listenset_count(ls) == 2)
		ck_assert_int_eq(bound_port(ls, 1), bound_port(ls, 0));
	assert_all_on_port(ls, 2);
	listenset_free(ls);
}
END_TEST

START_TEST(matches_only_the_same_addresses_and_slots)
{
	struct listenset	*ls;
	char			*cause = NULL;

	conf_with(2, "127.0.0.1:0", NULL);
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_msg(ls != NULL, "%s", cause);
	ck_assert(listenset_matches(ls, &conf));
	ck_assert(!listenset_matches(NULL, &conf));
	conf.workers = 3;
	ck_assert(!listenset_matches(ls, &conf));
	conf_with(2, "127.0.0.2:0", NULL);
	ck_assert(!listenset_matches(ls, &conf));
	conf_with(2, "127.0.0.1:0", NULL);
	listenset_close_slot(ls, 1);
	ck_assert(!listenset_matches(ls, &conf));
	listenset_free(ls);
}
END_TEST

START_TEST(new_set_keeps_the_old_sets_port)
{
	struct listenset	*old, *ls;
	char			*cause = NULL;

	conf_with(2, "127.0.0.1:0", NULL);
	old = listenset_bind(&conf, NULL, &cause);
	ck_assert_msg(old != NULL, "%s", cause);
	conf.workers = 4;		/* a reload to more workers */
	ls = listenset_bind(&conf, old, &cause);
	ck_assert_msg(ls != NULL, "%s", cause);
	ck_assert_int_eq(bound_port(ls, 0), bound_port(old, 0));
	assert_all_on_port(ls, 4);
	listenset_free(old);
	listenset_free(ls);
}
END_TEST

START_TEST(closed_slot_comes_back_on_the_same_port)
{
	struct listenset	*ls;
	char			*cause = NULL;
	int			 port;

	conf_with(2, "127.0.0.1:0", NULL);
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_msg(ls != NULL, "%s", cause);
	port = bound_port(ls, 0);
	listenset_close_slot(ls, 0);
	ck_assert(!listenset_slot_open(ls, 0));
	ck_assert_int_eq(listenset_slot_fds(ls, 0)[0], -1);
	ck_assert(listenset_slot_open(ls, 1));
	ck_assert_int_eq(listenset_rebind_slot(ls, 0, 0), 0);
	ck_assert_int_eq(bound_port(ls, 0), port);
	assert_all_on_port(ls, 2);
	listenset_free(ls);
}
END_TEST

START_TEST(port_held_by_another_process_is_refused)
{
	struct sockaddr_in	 sin;
	struct listenset	*ls;
	socklen_t		 len = sizeof sin;
	char			*cause = NULL, addr[64];
	int			 fd;

	/* A plain socket, as another server would hold the port. */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sin.sin_port));
	conf_with(2, addr, NULL);
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_ptr_null(ls);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "already in use") != NULL, "%s", cause);
	free(cause);
	(void)close(fd);
}
END_TEST

START_TEST(no_address_bound_is_an_error)
{
	struct listenset	*ls;
	char			*cause = NULL;

	/* TEST-NET-1 is on no interface here: skipped, then nothing left. */
	conf_with(1, "192.0.2.1:0", NULL);
	ls = listenset_bind(&conf, NULL, &cause);
	ck_assert_ptr_null(ls);
	ck_assert_str_eq(cause, "no listen address could be bound");
	free(cause);
}
END_TEST

static Suite *
listenset_suite(void)
{
	Suite	*s = suite_create("listenset");
	TCase	*tc;

	tc = tcase_create("binding a set");
	tcase_add_test(tc, port_zero_gives_every_slot_one_port);
	tcase_add_test(tc, second_address_takes_the_first_ones_port);
	tcase_add_test(tc, port_held_by_another_process_is_refused);
	tcase_add_test(tc, no_address_bound_is_an_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("reloads and slots");
	tcase_add_test(tc, matches_only_the_same_addresses_and_slots);
	tcase_add_test(tc, new_set_keeps_the_old_sets_port);
	tcase_add_test(tc, closed_slot_comes_back_on_the_same_port);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init(LOG_DEST_STDERR, LOG_WARNING, "check_listenset");
	return check_run(listenset_suite());
}
