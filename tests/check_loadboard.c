/* Unit tests for the load board (loadboard.c): where a new read goes. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "suite_main.h"
#include "loadboard.h"

START_TEST(pick_goes_to_the_least_busy_slot_that_is_up)
{
	struct loadboard	*b = loadboard_new(3);

	ck_assert_ptr_nonnull(b);
	loadboard_join(b, 0);
	loadboard_join(b, 1);
	loadboard_join(b, 2);
	loadboard_set_active(b, 1, 5);
	loadboard_set_active(b, 2, 2);
	/* Slot 0 with 4 live: slot 2 carries less. */
	ck_assert_uint_eq(loadboard_pick(b, 0, 4), 2);
	/* Counted as coming to 2: 2 + 1 = 3, not less than 3 live here. */
	ck_assert_uint_eq(loadboard_pick(b, 0, 3), 0);
	loadboard_arrived(b, 2);
	ck_assert_uint_eq(loadboard_pick(b, 0, 3), 2);
	/* A slot whose worker is gone takes nothing, however idle. */
	loadboard_leave(b, 2);
	ck_assert_uint_eq(loadboard_pick(b, 0, 3), 0);
	/* Equal load stays where it arrived. */
	loadboard_set_active(b, 1, 3);
	ck_assert_uint_eq(loadboard_pick(b, 0, 3), 0);
	loadboard_free(b);
}
END_TEST

START_TEST(arrived_never_goes_below_zero_and_join_resets)
{
	struct loadboard	*b = loadboard_new(2);

	ck_assert_ptr_nonnull(b);
	loadboard_join(b, 0);
	loadboard_join(b, 1);
	loadboard_arrived(b, 1);	/* nothing was coming */
	ck_assert_uint_eq(loadboard_pick(b, 0, 1), 1);	/* 0 < 1 */
	loadboard_incoming(b, 1);
	loadboard_incoming(b, 1);
	ck_assert_uint_eq(loadboard_pick(b, 0, 2), 0);	/* 3 coming */
	loadboard_join(b, 1);		/* a respawned worker: fresh */
	ck_assert_uint_eq(loadboard_pick(b, 0, 1), 1);
	/* Out of range or no board: where it arrived. */
	ck_assert_uint_eq(loadboard_pick(b, 7, 9), 7);
	ck_assert_uint_eq(loadboard_pick(NULL, 1, 9), 1);
	loadboard_free(b);
}
END_TEST

static Suite *
loadboard_suite(void)
{
	Suite	*s = suite_create("loadboard");
	TCase	*tc = tcase_create("new reads go to the least busy worker");

	tcase_add_test(tc, pick_goes_to_the_least_busy_slot_that_is_up);
	tcase_add_test(tc, arrived_never_goes_below_zero_and_join_resets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(loadboard_suite());
}
