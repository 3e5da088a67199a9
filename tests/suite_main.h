/*
 * The main() of every check suite: run it (CK_FORK, CK_RUN_CASE and the
 * other CK_ variables apply) and exit non-zero if any test failed.
 */
#ifndef OWL_SUITE_MAIN_H
#define OWL_SUITE_MAIN_H

#include <stdlib.h>

#include <check.h>

static inline int
check_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
