/* Unit tests for the retransmit timer heap. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "suite_main.h"
#include "timer.h"

#define N	64

static struct timer_heap	 heap;
static struct timer_entry	 ent[N];

static void
setup(void)
{
	size_t	 i;

	ck_assert_int_eq(timer_heap_init(&heap, N), 0);
	for (i = 0; i < N; i++)
		timer_entry_init(&ent[i]);
}

static void
teardown(void)
{
	timer_heap_clear(&heap);
}

START_TEST(pops_in_deadline_order)
{
	uint64_t		 last = 0;
	struct timer_entry	*e;
	size_t			 i, n = 0;

	for (i = 0; i < N; i++)
		timer_set(&heap, &ent[i], (uint64_t)((i * 37) % N) + 1);
	ck_assert_uint_eq(timer_next(&heap), 1);
	while ((e = timer_pop_expired(&heap, UINT64_MAX - 1)) != NULL) {
		ck_assert_uint_ge(e->deadline, last);
		ck_assert(!timer_armed(e));
		last = e->deadline;
		n++;
	}
	ck_assert_uint_eq(n, N);
	ck_assert_uint_eq(timer_next(&heap), TIMER_NONE);
}
END_TEST

START_TEST(nothing_expires_early)
{
	timer_set(&heap, &ent[0], 100);
	ck_assert_ptr_null(timer_pop_expired(&heap, 99));
	ck_assert_ptr_eq(timer_pop_expired(&heap, 100), &ent[0]);
}
END_TEST

START_TEST(later_deadline_is_refiled_not_fired)
{
	timer_set(&heap, &ent[0], 100);
	timer_set(&heap, &ent[0], 500);		/* lazy: key stays 100 */
	ck_assert_uint_eq(timer_next(&heap), 100);
	ck_assert_ptr_null(timer_pop_expired(&heap, 200));
	ck_assert_uint_eq(timer_next(&heap), 500);
	ck_assert(timer_armed(&ent[0]));
	ck_assert_ptr_eq(timer_pop_expired(&heap, 500), &ent[0]);
}
END_TEST

START_TEST(earlier_deadline_moves_up)
{
	timer_set(&heap, &ent[0], 100);
	timer_set(&heap, &ent[1], 200);
	timer_set(&heap, &ent[1], 50);
	ck_assert_uint_eq(timer_next(&heap), 50);
	ck_assert_ptr_eq(timer_pop_expired(&heap, 60), &ent[1]);
}
END_TEST

START_TEST(cancel_removes_from_anywhere)
{
	size_t			 i;
	struct timer_entry	*e;

	for (i = 0; i < 10; i++)
		timer_set(&heap, &ent[i], 10 + i);
	timer_cancel(&heap, &ent[0]);
	timer_cancel(&heap, &ent[5]);
	timer_cancel(&heap, &ent[5]);	/* twice is harmless */
	ck_assert(!timer_armed(&ent[5]));
	for (i = 0; (e = timer_pop_expired(&heap, 1000)) != NULL; i++) {
		ck_assert_ptr_ne(e, &ent[0]);
		ck_assert_ptr_ne(e, &ent[5]);
	}
	ck_assert_uint_eq(i, 8);
}
END_TEST

static Suite *
timer_suite(void)
{
	Suite	*s = suite_create("timer");
	TCase	*tc = tcase_create("heap orders deadlines");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pops_in_deadline_order);
	tcase_add_test(tc, nothing_expires_early);
	tcase_add_test(tc, later_deadline_is_refiled_not_fired);
	tcase_add_test(tc, earlier_deadline_moves_up);
	tcase_add_test(tc, cancel_removes_from_anywhere);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(timer_suite());
}
