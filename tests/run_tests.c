/*
 * run_tests.c - runs every Check suite in tests/.
 *
 * Each tests/check_<area>.c exports `Suite *make_<area>_suite(void)`; the
 * Makefile generates suites.h, the list of them, from the sources, so a new
 * suite needs no edit here.  CK_RUN_SUITE / CK_RUN_CASE (Check's own) and
 * HEAPLAB_TEST_POLICY=name (the policy loops) narrow a run;
 * HEAPLAB_SKIP_SUITES="area area..." leaves suites out, each named on
 * stderr (CI's sanitizer runs leave out the long whole-program ones).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

#define HL_SUITE_DECLARE(area) Suite *make_##area##_suite(void);
HEAPLAB_SUITES(HL_SUITE_DECLARE)

/* Whether HEAPLAB_SKIP_SUITES names area (a word of it). */
static int skipped(const char *area)
{
    const char *list = getenv("HEAPLAB_SKIP_SUITES");
    size_t n = strlen(area);
    for (const char *s = list; s && *s; s += strspn(s, " ,")) {
        size_t w = strcspn(s, " ,");
        if (w == n && strncmp(s, area, n) == 0) {
            fprintf(stderr, "%s: SKIPPED: the whole suite (HEAPLAB_SKIP_SUITES)\n", area);
            return 1;
        }
        s += w;
    }
    return 0;
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define HL_SUITE_ADD(area)                                                                         \
    if (!skipped(#area))                                                                           \
        srunner_add_suite(sr, make_##area##_suite());
    HEAPLAB_SUITES(HL_SUITE_ADD)
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
