/*
 * check_conformance.c - every conformance check on every built-in policy.
 *
 * The checks themselves live in harness/conformance.c, where `heaplab
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

/* Loop index = check * (policies) + policy. */
START_TEST(conformance)
{
    size_t np = hl_policy_count();
    const struct hl_conformance_check *c = hl_conformance_at((size_t)_i / np);
    ck_assert_ptr_nonnull(c);
    const struct hl_policy *pol = tl_policy_at((int)((size_t)_i % np));
    if (!pol)
        return;
    struct hl_policy_spec spec;
    hl_policy_spec_default(pol, &spec);
    static struct hl_conformance_result r;
    if (hl_conformance_run(c, &spec, 0, &r) != 0) {
        fprintf(stderr, "conformance: %s on %s failed; its stderr:\n%s", c->name, pol->name, r.output);
        ck_abort_msg("%s on %s: %s", c->name, pol->name, r.message);
    }
}
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
    }
    return s;
}
