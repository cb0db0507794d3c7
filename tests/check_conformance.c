/*
 * check_conformance.c - every conformance check on every built-in policy.
 *
 * The checks themselves live in harness/conformance/, where `heaplab
 * selftest` runs them on any policy, plugins included; this suite runs
 * them through the same runner (each in a forked child) for each policy in
 * the registry, one Check test per (check, policy), in the TCases the
 * checks' groups name.  A policy added to the registry is tested with no
 * edit here; HEAPLAB_TEST_POLICY=name narrows the run to one policy.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "testutil.h"

/* Loop index = check * (policies) + policy; `cache`: the front cache on. */
static void run_check(int i, unsigned cache)
{
    size_t np = hl_policy_count();
    const struct hl_conformance_check *c = hl_conformance_at((size_t)i / np);
    ck_assert_ptr_nonnull(c);
    const struct hl_policy *pol = tl_policy_at((int)((size_t)i % np));
    if (!pol)
        return;
    struct hl_policy_spec spec;
    hl_policy_spec_default(pol, &spec);
    spec.cache = cache;
    static struct hl_conformance_result r;
    if (hl_conformance_run(c, &spec, 0, &r) != 0) {
        fprintf(stderr, "conformance: %s on %s (cache=%u) failed; its stderr:\n%s", c->name, pol->name, cache,
                r.output);
        ck_abort_msg("%s on %s (cache=%u): %s", c->name, pol->name, cache, r.message);
    }
}

START_TEST(conformance) { run_check(_i, 0); }
END_TEST

/* Every check passes with the front cache too (core/cache.c): it keeps a
 * policy's freed blocks aside, so frees, reallocs and misuse take other
 * paths. */
START_TEST(conformance_cached) { run_check(_i, 7); }
END_TEST

Suite *make_conformance_suite(void)
{
    Suite *s = suite_create("conformance");
    int np = (int)hl_policy_count();
    TCase *tc = NULL;
    const char *group = "";
    for (size_t k = 0; k < hl_conformance_count(); k++) {
        const struct hl_conformance_check *c = hl_conformance_at(k);
        if (strcmp(c->group, group) != 0) { /* the table lists each group's checks together */
            group = c->group;
            tc = tcase_create(group);
            suite_add_tcase(s, tc);
        }
        /* the runner's own timeout fires first and names the check */
        tcase_set_timeout(tc, c->timeout + 30);
        tcase_add_loop_test(tc, conformance, (int)k * np, (int)(k + 1) * np);
        tcase_add_loop_test(tc, conformance_cached, (int)k * np, (int)(k + 1) * np);
    }
    return s;
}
