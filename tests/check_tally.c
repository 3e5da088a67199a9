/*
 * Unit tests for tally.c: totals that never go back across worker
 * exits, a reset that owlctl sees and Prometheus does not, and one
 * series per slot that carries the slot's exited workers.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "suite_main.h"
#include "tally.h"

static struct stats	 a, b;

static void
setup(void)
{
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.rrq = 5;
	a.bytes_out = 100;
	b.rrq = 7;
}

START_TEST(totals_keep_what_exited_workers_counted)
{
	struct tally		 t = { 0 };
	struct tally_live	 live[] = { { 1, &b, 3 } };
	struct stats		 now, start;
	uint64_t		 active;

	tally_retire(&t, 0, &a);
	tally_totals(&t, live, 1, &now, &start, &active);
	ck_assert_uint_eq(now.rrq, 12);
	ck_assert_uint_eq(now.bytes_out, 100);
	ck_assert_uint_eq(start.rrq, 12);
	ck_assert_uint_eq(active, 3);
	tally_free(&t);
}
END_TEST

START_TEST(reset_counts_from_now_but_not_since_the_start)
{
	struct tally		 t = { 0 };
	struct tally_live	 live[] = { { 0, &b, 0 } };
	struct stats		 now, start;
	uint64_t		 active;

	tally_retire(&t, 1, &a);
	tally_reset(&t, live, 1);
	b.rrq += 2;
	tally_totals(&t, live, 1, &now, &start, &active);
	ck_assert_uint_eq(now.rrq, 2);
	ck_assert_uint_eq(now.bytes_out, 0);
	ck_assert_uint_eq(start.rrq, 14);
	ck_assert_uint_eq(start.bytes_out, 100);
	tally_free(&t);
}
END_TEST

START_TEST(slots_carry_every_worker_that_ran_there)
{
	struct tally		 t = { 0 };
	struct tally_live	 live[] = { { 0, &b, 0 } };
	struct stats		*slots;
	size_t			 n;

	tally_retire(&t, 2, &a);	/* slot 1 never ran */
	tally_retire(&t, 0, &a);
	slots = tally_slots(&t, live, 1, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(slots[0].rrq, 12);
	ck_assert_uint_eq(slots[1].rrq, 0);
	ck_assert_uint_eq(slots[2].rrq, 5);
	free(slots);
	tally_free(&t);
}
END_TEST

START_TEST(no_worker_ever_gives_no_slot)
{
	struct tally	 t = { 0 };
	struct stats	*slots, now;
	size_t		 n = 99;
	uint64_t	 active = 99;

	slots = tally_slots(&t, NULL, 0, &n);
	ck_assert_uint_eq(n, 0);
	free(slots);
	tally_totals(&t, NULL, 0, &now, NULL, &active);
	ck_assert_uint_eq(now.rrq, 0);
	ck_assert_uint_eq(active, 0);
}
END_TEST

static Suite *
tally_suite(void)
{
	Suite	*s = suite_create("tally");
	TCase	*tc = tcase_create("totals across worker lifetimes");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, totals_keep_what_exited_workers_counted);
	tcase_add_test(tc, reset_counts_from_now_but_not_since_the_start);
	tcase_add_test(tc, slots_carry_every_worker_that_ran_there);
	tcase_add_test(tc, no_worker_ever_gives_no_slot);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(tally_suite());
}
