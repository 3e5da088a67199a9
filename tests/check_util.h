/*
 * Helpers shared by the check suites, beside check_run() (suite_main.h):
 * a table's length, and a socket address from its numeric text.
 */
#ifndef OWL_CHECK_UTIL_H
#define OWL_CHECK_UTIL_H

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include <check.h>

/* The number of rows of a case table, for tcase_add_loop_test(). */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* A peer from its numeric text; IPv4 text gives AF_INET, else AF_INET6. */
static inline const struct sockaddr *
peer(struct sockaddr_storage *ss, const char *text, in_port_t port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	}
	return (const struct sockaddr *)ss;
}

#endif
