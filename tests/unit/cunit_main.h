/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TEST_CUNIT_MAIN_H
#define TT_TEST_CUNIT_MAIN_H

/*
 * One main() for every unit test binary: run the suites, print CUnit's run
 * summary, and fail when any assertion failed (CU_basic_run_tests() itself
 * only reports framework errors).
 */

#include <stdio.h>

#include <CUnit/Basic.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

static inline int
run_suite(const char *suite_name, const struct test_case *tests,
		int (*init)(void), int (*fini)(void))
{
	CU_pSuite suite;
	unsigned int failed;
	const struct test_case *t;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite(suite_name, init, fini);
	if (suite == NULL)
		goto err;
	for (t = tests; t->name != NULL; t++)
		if (CU_add_test(suite, t->name, t->fn) == NULL)
			goto err;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto err;
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
err:
	fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
	CU_cleanup_registry();
	return 2;
}

#endif /* TT_TEST_CUNIT_MAIN_H */
