/* Unit tests for the per-address table behind the abuse limits. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "suite_main.h"
#include "clients.h"

#define SEC		1000000ULL	/* µs */

/* Shorthands on one table, with a fixed port unless it matters. */
static int
take(struct clients *c, const char *text, uint64_t now)
{
	struct sockaddr_storage	 ss;

	return clients_take(c, peer(&ss, text, 1234), now);
}

static unsigned
active(const struct clients *c, const char *text)
{
	struct sockaddr_storage	 ss;

	return clients_active(c, peer(&ss, text, 4321));
}

static void
start(struct clients *c, const char *text, uint64_t now)
{
	struct sockaddr_storage	 ss;

	clients_xfer_start(c, peer(&ss, text, 2000), now);
}

static void
end(struct clients *c, const char *text)
{
	struct sockaddr_storage	 ss;

	clients_xfer_end(c, peer(&ss, text, 3000));
}

static struct clients *
table(size_t cap, unsigned rate, unsigned burst)
{
	struct clients	*c = clients_new(cap, rate, burst);

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(clients_count(c), 0);
	return c;
}

/*
 * Scripts of requests against one table: each step takes a token for an
 * address at a time and must get want, or checks how many addresses
 * the table holds.
 */
enum step_kind { STEP_END, STEP_TAKE, STEP_COUNT };

struct step {
	enum step_kind	 kind;
	const char	*addr;
	uint64_t	 t;
	int		 want;
};

#define TAKE(a, t, w)	{ STEP_TAKE, (a), (t), (w) }
#define COUNT(n)	{ STEP_COUNT, NULL, 0, (n) }
#define STEPS_MAX	16

struct script {
	const char	*what;
	size_t		 cap;
	unsigned	 rate;
	unsigned	 burst;
	struct step	 steps[STEPS_MAX];
};

static void
run_script(const struct script *sc)
{
	struct clients		*c = table(sc->cap, sc->rate, sc->burst);
	const struct step	*st;
	size_t			 i;

	for (i = 0; i < STEPS_MAX && sc->steps[i].kind != STEP_END; i++) {
		st = &sc->steps[i];
		if (st->kind == STEP_COUNT)
			ck_assert_msg(clients_count(c) == (size_t)st->want,
			    "%s: step %zu: %zu addresses, want %d", sc->what,
			    i, clients_count(c), st->want);
		else
			ck_assert_msg(take(c, st->addr, st->t) == st->want,
			    "%s: step %zu: take %s at %llu us: want %d",
			    sc->what, i, st->addr, (unsigned long long)st->t,
			    st->want);
	}
	clients_free(c);
}

#define A1	"192.0.2.1"
#define A2	"192.0.2.2"
#define A3	"192.0.2.3"
#define A4	"192.0.2.4"
#define A5	"192.0.2.5"
#define V6	"2001:db8::1"

static const struct script bucket_scripts[] = {
	{ "the burst is exact; another address has its own bucket",
	    16, 10, 5, {
		TAKE(A1, 0, 1), TAKE(A1, 0, 1), TAKE(A1, 0, 1),
		TAKE(A1, 0, 1), TAKE(A1, 0, 1), TAKE(A1, 0, 0),
		TAKE(A1, 0, 0),
		TAKE(V6, 0, 1), TAKE(V6, 0, 1), TAKE(V6, 0, 1),
		TAKE(V6, 0, 1), TAKE(V6, 0, 1), TAKE(V6, 0, 0),
		COUNT(2) } },
	{ "an hour's refill stops at the burst", 16, 10, 5, {
		TAKE(A1, 0, 1),
		TAKE(A1, 3600 * SEC, 1), TAKE(A1, 3600 * SEC, 1),
		TAKE(A1, 3600 * SEC, 1), TAKE(A1, 3600 * SEC, 1),
		TAKE(A1, 3600 * SEC, 1), TAKE(A1, 3600 * SEC, 0) } },
	{ "3/s: a token every 333333.33 us, the fraction carried over",
	    16, 3, 3, {
		TAKE(A1, 0, 1), TAKE(A1, 0, 1), TAKE(A1, 0, 1),
		TAKE(A1, 333333, 0), TAKE(A1, 333334, 1),
		TAKE(A1, 666667, 1), TAKE(A1, SEC - 1, 0),
		TAKE(A1, SEC, 1), TAKE(A1, SEC, 0) } },
	{ "a full bucket keeps no surplus", 16, 3, 1, {
		TAKE(A1, 0, 1), TAKE(A1, 333334, 1), TAKE(A1, 666667, 0),
		TAKE(A1, 666668, 1) } },
	{ "burst 0 is 1", 4, 1, 0, {
		TAKE(A1, 0, 1), TAKE(A1, 0, 0), TAKE(A1, SEC, 1) } },
	{ "a clock going back earns nothing", 4, 1, 1, {
		TAKE(A1, 10 * SEC, 1), TAKE(A1, 5 * SEC, 0),
		TAKE(A1, 10 * SEC + SEC / 2, 0), TAKE(A1, 11 * SEC, 1) } },
};

static const struct script eviction_scripts[] = {
	/*
	 * Nobody has refilled: the newcomer is refused.  Then .2-.4 come
	 * back and empty their buckets while .1 stays idle: .5 evicts .1;
	 * .2 was not evicted (its bucket is still empty); .1 is new again,
	 * and the LRU tail (.3) is not idle.
	 */
	{ "eviction takes the oldest idle entry", 4, 1, 1, {
		TAKE(A1, 0, 1), TAKE(A2, 0, 1), TAKE(A3, 0, 1),
		TAKE(A4, 0, 1), TAKE(A5, 0, 0), TAKE(A5, SEC - 1, 0),
		COUNT(4),
		TAKE(A2, SEC, 1), TAKE(A3, SEC, 1), TAKE(A4, SEC, 1),
		TAKE(A5, SEC, 1), TAKE(A2, SEC, 0), TAKE(A1, SEC, 0),
		COUNT(4) } },
	/*
	 * .1 keeps hammering: refused, yet it becomes the most recent, so
	 * the LRU tail is .2, idle again a second later: evicted.  .1 kept
	 * its half-full bucket: 1.5 tokens, not a fresh 2.
	 */
	{ "refused requests keep an entry fresh", 2, 1, 2, {
		TAKE(A1, 0, 1), TAKE(A1, 0, 1), TAKE(A2, 0, 1),
		TAKE(A1, SEC / 2, 0), TAKE(A3, SEC, 1), TAKE(A1, SEC, 1),
		TAKE(A1, SEC, 0) } },
};

START_TEST(bucket_follows_script)
{
	run_script(&bucket_scripts[_i]);
}
END_TEST

START_TEST(eviction_follows_script)
{
	run_script(&eviction_scripts[_i]);
}
END_TEST

START_TEST(refill_is_exact)
{
	struct clients	*c = table(16, 10, 5);
	uint64_t	 t;
	unsigned	 n = 0;
	int		 i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(take(c, "192.0.2.1", 0), 1);
	/* One token per 100 ms, not a microsecond sooner. */
	ck_assert_int_eq(take(c, "192.0.2.1", SEC / 10 - 1), 0);
	ck_assert_int_eq(take(c, "192.0.2.1", SEC / 10), 1);
	ck_assert_int_eq(take(c, "192.0.2.1", SEC / 10), 0);
	/* Hammering for 10 s earns exactly rate * 10 requests. */
	for (t = SEC / 10 + 1000; t <= SEC / 10 + 10 * SEC; t += 1000)
		n += (unsigned)take(c, "192.0.2.1", t);
	ck_assert_uint_eq(n, 100);
	clients_free(c);
}
END_TEST

START_TEST(rate_zero_is_unlimited)
{
	struct clients	*c = table(4, 0, 0);
	char		 a[32];
	unsigned	 i;

	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(take(c, "192.0.2.1", 0), 1);
	for (i = 0; i < 1000; i++) {
		(void)snprintf(a, sizeof a, "10.0.%u.%u", i / 256, i % 256);
		ck_assert_int_eq(take(c, a, i), 1);
	}
	ck_assert_uint_eq(clients_count(c), 0);
	/* Transfers are still counted. */
	start(c, "192.0.2.1", 0);
	ck_assert_uint_eq(active(c, "192.0.2.1"), 1);
	clients_free(c);
}
END_TEST

START_TEST(extreme_values)
{
	struct clients	*c = table(4, UINT_MAX, UINT_MAX);
	uint64_t	 t;
	int		 i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(take(c, "192.0.2.1", 0), 1);
	ck_assert_int_eq(take(c, "192.0.2.1", UINT64_MAX), 1);
	clients_free(c);

	c = table(4, 1, UINT_MAX);
	ck_assert_int_eq(take(c, "192.0.2.1", UINT64_MAX - 1), 1);
	ck_assert_int_eq(take(c, "192.0.2.1", UINT64_MAX), 1);
	clients_free(c);

	c = table(4, UINT_MAX, 1);
	for (t = 0; t < 10; t++) {
		ck_assert_int_eq(take(c, "192.0.2.1", t), 1);
		ck_assert_int_eq(take(c, "192.0.2.1", t), 0);
	}
	clients_free(c);
}
END_TEST

START_TEST(active_counts_per_address)
{
	struct clients		*c = table(16, 10, 5);
	struct sockaddr_storage	 ss;

	clients_xfer_start(c, peer(&ss, "192.0.2.1", 1000), 0);
	clients_xfer_start(c, peer(&ss, "192.0.2.1", 2000), 0);
	clients_xfer_start(c, peer(&ss, "2001:db8::1", 1000), 0);
	ck_assert_uint_eq(clients_active(c, peer(&ss, "192.0.2.1", 3000)), 2);
	ck_assert_uint_eq(clients_active(c, peer(&ss, "192.0.2.1", 0)), 2);
	ck_assert_uint_eq(clients_active(c, peer(&ss, "2001:db8::1", 9)), 1);
	ck_assert_uint_eq(active(c, "192.0.2.2"), 0);
	ck_assert_uint_eq(active(c, "2001:db8::2"), 0);

	clients_xfer_end(c, peer(&ss, "192.0.2.1", 2000));
	ck_assert_uint_eq(active(c, "192.0.2.1"), 1);
	clients_xfer_end(c, peer(&ss, "192.0.2.1", 7777));
	ck_assert_uint_eq(active(c, "192.0.2.1"), 0);
	/* An unbalanced end does not wrap around. */
	end(c, "192.0.2.1");
	ck_assert_uint_eq(active(c, "192.0.2.1"), 0);
	end(c, "198.51.100.1");
	ck_assert_uint_eq(active(c, "198.51.100.1"), 0);
	ck_assert_uint_eq(active(c, "2001:db8::1"), 1);
	clients_free(c);
}
END_TEST

START_TEST(scope_id_ignored)
{
	struct clients		*c = table(16, 1, 1);
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	peer(&ss, "fe80::1", 69);
	s6->sin6_scope_id = 1;
	clients_xfer_start(c, (struct sockaddr *)&ss, 0);
	ck_assert_int_eq(clients_take(c, (struct sockaddr *)&ss, 0), 1);
	s6->sin6_scope_id = 2;
	ck_assert_uint_eq(clients_active(c, (struct sockaddr *)&ss), 1);
	ck_assert_int_eq(clients_take(c, (struct sockaddr *)&ss, 0), 0);
	clients_free(c);
}
END_TEST

START_TEST(mapped_is_ipv4)
{
	struct clients	*c = table(16, 1, 2);

	start(c, "192.0.2.1", 0);
	ck_assert_uint_eq(active(c, "::ffff:192.0.2.1"), 1);
	start(c, "::ffff:192.0.2.1", 0);
	ck_assert_uint_eq(active(c, "192.0.2.1"), 2);
	end(c, "::ffff:192.0.2.1");
	end(c, "192.0.2.1");
	ck_assert_uint_eq(active(c, "192.0.2.1"), 0);

	/* One bucket for both spellings. */
	ck_assert_int_eq(take(c, "192.0.2.1", 0), 1);
	ck_assert_int_eq(take(c, "::ffff:192.0.2.1", 0), 1);
	ck_assert_int_eq(take(c, "192.0.2.1", 0), 0);
	ck_assert_int_eq(take(c, "::ffff:192.0.2.1", 0), 0);
	ck_assert_uint_eq(clients_count(c), 1);

	/* Other embeddings are other addresses. */
	ck_assert_int_eq(take(c, "::192.0.2.1", 0), 1);
	ck_assert_int_eq(take(c, "64:ff9b::192.0.2.1", 0), 1);
	ck_assert_uint_eq(active(c, "::192.0.2.1"), 0);
	ck_assert_uint_eq(clients_count(c), 3);
	clients_free(c);
}
END_TEST

START_TEST(other_families_untracked)
{
	struct clients		*c = table(4, 1, 1);
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(clients_take(c, (struct sockaddr *)&sun, 0), 0);
	clients_xfer_start(c, (struct sockaddr *)&sun, 0);
	ck_assert_uint_eq(clients_active(c, (struct sockaddr *)&sun), 0);
	clients_xfer_end(c, (struct sockaddr *)&sun);
	ck_assert_uint_eq(clients_count(c), 0);
	clients_free(c);
}
END_TEST

START_TEST(eviction_keeps_active_entries)
{
	struct clients	*c = table(4, 1, 1);
	const char	*busy[] = { "192.0.2.1", "192.0.2.2", "2001:db8::3",
	    "192.0.2.4" };
	char		 a[32];
	unsigned	 i;

	for (i = 0; i < 4; i++)
		start(c, busy[i], 0);
	ck_assert_uint_eq(clients_count(c), 4);

	/* Full of live transfers: new addresses are refused, forever. */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(a, sizeof a, "10.0.%u.%u", i / 256, i % 256);
		ck_assert_int_eq(take(c, a, i * SEC), 0);
		start(c, a, i * SEC);
		ck_assert_uint_eq(active(c, a), 0);
	}
	for (i = 0; i < 4; i++) {
		ck_assert_uint_eq(active(c, busy[i]), 1);
		/* Tracked addresses keep their own buckets. */
		ck_assert_int_eq(take(c, busy[i], 2000 * SEC), 1);
	}
	ck_assert_uint_eq(clients_count(c), 4);

	/* A finished transfer frees its entry once its bucket refills. */
	end(c, busy[1]);
	ck_assert_int_eq(take(c, "198.51.100.1", 2000 * SEC), 0);
	ck_assert_int_eq(take(c, "198.51.100.1", 2001 * SEC), 1);
	ck_assert_uint_eq(active(c, busy[0]), 1);
	ck_assert_uint_eq(active(c, busy[1]), 0);
	ck_assert_uint_eq(active(c, busy[2]), 1);
	ck_assert_uint_eq(active(c, busy[3]), 1);
	ck_assert_uint_eq(clients_count(c), 4);
	clients_free(c);
}
END_TEST

START_TEST(start_evicts_when_it_must)
{
	struct clients	*c = table(2, 1, 1);

	ck_assert_int_eq(take(c, "192.0.2.1", 0), 1);
	ck_assert_int_eq(take(c, "192.0.2.2", 0), 1);
	/* Counting the transfer beats keeping .1's empty bucket. */
	start(c, "192.0.2.3", 0);
	ck_assert_uint_eq(active(c, "192.0.2.3"), 1);
	ck_assert_uint_eq(clients_count(c), 2);
	ck_assert_int_eq(take(c, "192.0.2.2", 0), 0);
	start(c, "192.0.2.4", 0);
	ck_assert_uint_eq(active(c, "192.0.2.4"), 1);
	ck_assert_uint_eq(active(c, "192.0.2.3"), 1);
	/* Every entry busy: counted nowhere, and nothing else disturbed. */
	start(c, "192.0.2.5", 0);
	ck_assert_uint_eq(active(c, "192.0.2.5"), 0);
	end(c, "192.0.2.5");
	ck_assert_uint_eq(active(c, "192.0.2.3"), 1);
	ck_assert_uint_eq(active(c, "192.0.2.4"), 1);
	ck_assert_uint_eq(clients_count(c), 2);
	clients_free(c);
}
END_TEST

START_TEST(cap_is_rounded_up)
{
	struct clients	*c = table(5, 0, 1);
	char		 a[32];
	unsigned	 i;

	for (i = 0; i < 9; i++) {
		(void)snprintf(a, sizeof a, "192.0.2.%u", i);
		start(c, a, 0);
		ck_assert_uint_eq(active(c, a), i < 8 ? 1 : 0);
	}
	ck_assert_uint_eq(clients_count(c), 8);
	clients_free(c);
}
END_TEST

START_TEST(bad_cap_refused)
{
	errno = 0;
	ck_assert_ptr_null(clients_new(0, 1, 1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(clients_new((size_t)CLIENTS_CAP_MAX + 1, 1, 1));
	ck_assert_int_eq(errno, EINVAL);
	clients_free(NULL);
}
END_TEST

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random peer: IPv4, IPv6, or IPv4-mapped, from a small or large pool. */
static void
random_peer(struct sockaddr_storage *ss, uint64_t *rng)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	uint64_t		 r = xorshift(rng);
	uint32_t		 v4 = (uint32_t)(r >> 32);

	if (r & 0x100)
		v4 &= 0xff;		/* a small pool that repeats */
	memset(ss, 0, sizeof *ss);
	switch (r % 3) {
	case 0:
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = v4;
		s4->sin_port = (in_port_t)r;
		break;
	case 1:
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &v4, 4);
		s6->sin6_port = (in_port_t)r;
		break;
	default:
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0x20;
		s6->sin6_addr.s6_addr[1] = 0x01;
		memcpy(&s6->sin6_addr.s6_addr[12], &v4, 4);
		break;
	}
}

#define LIVE	24

START_TEST(random_flood_is_bounded)
{
	struct clients		*c = table(64, 2, 3);
	struct sockaddr_storage	 live[LIVE], ss;
	uint64_t		 rng = 0x9e3779b97f4a7c15ULL, now = 0;
	size_t			 nlive = 0, i, allowed = 0;
	struct mallinfo2	 before, after;

	before = mallinfo2();
	for (i = 0; i < 100000; i++) {
		random_peer(&ss, &rng);
		now += xorshift(&rng) % 20000;
		if (!clients_take(c, (struct sockaddr *)&ss, now))
			continue;
		allowed++;
		if (nlive == LIVE) {
			clients_xfer_end(c, (struct sockaddr *)&live[0]);
			memmove(&live[0], &live[1], (LIVE - 1) * sizeof live[0]);
			nlive--;
		}
		clients_xfer_start(c, (struct sockaddr *)&ss, now);
		live[nlive++] = ss;
		if (clients_count(c) > 64)
			ck_abort_msg("%zu entries after %zu", clients_count(c),
			    i);
		if (clients_active(c, (struct sockaddr *)&ss) == 0)
			ck_abort_msg("transfer %zu not counted", i);
	}
	after = mallinfo2();
	ck_assert_uint_eq(after.uordblks, before.uordblks);
	ck_assert_uint_eq(after.hblkhd, before.hblkhd);
	ck_assert_uint_gt(allowed, 1000);
	ck_assert_uint_lt(allowed, 100000);

	for (i = 0; i < nlive; i++)
		ck_assert_uint_ge(clients_active(c,
		    (struct sockaddr *)&live[i]), 1);
	for (i = 0; i < nlive; i++)
		clients_xfer_end(c, (struct sockaddr *)&live[i]);
	for (i = 0; i < nlive; i++)
		ck_assert_uint_eq(clients_active(c,
		    (struct sockaddr *)&live[i]), 0);
	ck_assert_uint_le(clients_count(c), 64);
	clients_free(c);
}
END_TEST

START_TEST(frozen_flood_fills_once)
{
	struct clients		*c = table(64, 1, 1);
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	uint32_t		 i;
	size_t			 allowed = 0;

	/* 100k distinct spoofed sources within one instant. */
	peer(&ss, "2001:db8::", 69);
	for (i = 0; i < 100000; i++) {
		memcpy(&s6->sin6_addr.s6_addr[12], &i, 4);
		allowed += (size_t)clients_take(c, (struct sockaddr *)&ss, 0);
	}
	ck_assert_uint_eq(allowed, 64);
	ck_assert_uint_eq(clients_count(c), 64);
	/*
	 * 64 new sources a second: each batch finds the previous one idle
	 * (rate 1, burst 1) and the table turns over.
	 */
	for (i = 100000; i < 200000; i++) {
		memcpy(&s6->sin6_addr.s6_addr[12], &i, 4);
		allowed += (size_t)clients_take(c, (struct sockaddr *)&ss,
		    SEC * (1 + (i - 100000) / 64));
	}
	ck_assert_uint_eq(allowed, 64 + 100000);
	ck_assert_uint_eq(clients_count(c), 64);
	clients_free(c);
}
END_TEST

static Suite *
clients_suite(void)
{
	Suite	*s = suite_create("clients");
	TCase	*tc;

	tc = tcase_create("clients bucket is exact");
	tcase_add_loop_test(tc, bucket_follows_script, 0,
	    NITEMS(bucket_scripts));
	tcase_add_test(tc, refill_is_exact);
	tcase_add_test(tc, extreme_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients rate 0 is unlimited");
	tcase_add_test(tc, rate_zero_is_unlimited);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients count transfers per address");
	tcase_add_test(tc, active_counts_per_address);
	tcase_add_test(tc, scope_id_ignored);
	tcase_add_test(tc, other_families_untracked);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients ipv4-mapped is ipv4");
	tcase_add_test(tc, mapped_is_ipv4);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients eviction keeps active entries");
	tcase_add_test(tc, eviction_keeps_active_entries);
	tcase_add_loop_test(tc, eviction_follows_script, 0,
	    NITEMS(eviction_scripts));
	tcase_add_test(tc, start_evicts_when_it_must);
	tcase_add_test(tc, cap_is_rounded_up);
	tcase_add_test(tc, bad_cap_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients flood stays bounded");
	tcase_add_test(tc, random_flood_is_bounded);
	tcase_add_test(tc, frozen_flood_fills_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(clients_suite());
}
