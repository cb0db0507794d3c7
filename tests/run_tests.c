/*
 * run_tests.c - runs every Check suite in tests/.
 *
 * Each tests/check_<area>.c exports `Suite *make_<area>_suite(void)`; the
 * Makefile generates suites.h, the list of them, from the sources, so a new
 * suite needs no edit here.  CK_RUN_SUITE / CK_RUN_CASE (Check's own) and
 * HEAPLAB_TEST_POLICY=name (the policy loops) narrow a run.
 */
#include <check.h>
#include <stdlib.h>

#include "suites.h"

#define HL_SUITE_DECLARE(area) Suite *make_##area##_suite(void);
HEAPLAB_SUITES(HL_SUITE_DECLARE)

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define HL_SUITE_ADD(area) srunner_add_suite(sr, make_##area##_suite());
    HEAPLAB_SUITES(HL_SUITE_ADD)
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
