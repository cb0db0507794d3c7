/*
 * cf_stress.c - the stress test.
 */
#include <stdint.h>
#include <string.h>

#include "cf.h"

/*
 * A stress test, not a benchmark: nothing here is timed.  A fixed-seed
 * random sequence of malloc/calloc/memalign/realloc/free over a heap with a
 * fixed mmap threshold; every block carries its own byte pattern, verified
 * when it is reallocated or freed and every few thousand operations; the
 * checker runs every STRESS_CHECK_EVERY operations and at the end.
 */
enum { STRESS_OPS = 100000, STRESS_SLOTS = 1024, STRESS_CHECK_EVERY = 1000, STRESS_VERIFY_EVERY = 5000 };

/* Heavy tail: half tiny, a few percent at tens of KiB, under 1% at or above
 * the mmap threshold (up to 1 MiB). */
static size_t stress_size(struct pat_rng *r)
{
    size_t k = pat_below(r, 1000);
    if (k < 500)
        return pat_below(r, 65);
    if (k < 800)
        return 64 + pat_below(r, 960);
    if (k < 950)
        return 1024 + pat_below(r, 15 * KiB);
    if (k < 992)
        return 16 * KiB + pat_below(r, 112 * KiB);
    return THRESHOLD + pat_below(r, 896 * KiB);
}

static void stress_checkpoint(hl_heap *h, const struct cf_slot *s, size_t live, int verify, long op)
{
    int v = hl_check(h, stderr);
    CF_ASSERT_MSG(v == 0, "%s: hl_check found %d violations after %ld operations", hl_heap_policy(h)->name, v, op);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks + st.mapped_blocks, live);
    if (verify)
        for (int i = 0; i < STRESS_SLOTS; i++)
            if (s[i].p)
                CF_ASSERT_PATTERN(s[i].p, s[i].n, s[i].id);
}

void cf_random_operations_keep_the_heap_consistent(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_fixed_threshold(spec, THRESHOLD);
    hl_heap *h = cf_heap(&cfg);
    static struct cf_slot s[STRESS_SLOTS];
    memset(s, 0, sizeof s);
    struct pat_rng r = {20240601};
    uint64_t next_id = 1;
    size_t live = 0;
    for (long op = 1; op <= STRESS_OPS; op++) {
        struct cf_slot *x = &s[pat_below(&r, STRESS_SLOTS)];
        size_t k = pat_below(&r, 100);
        if (!x->p) {
            size_t n = stress_size(&r);
            if (k < 60) {
                x->p = hl_malloc(h, n);
            } else if (k < 80) {
                x->p = hl_calloc(h, 1, n);
                CF_NONNULL(x->p);
                CF_ASSERT_MSG(pat_first_nonzero(x->p, n) < 0, "calloc(%zu) not zeroed", n);
            } else {
                size_t align = (size_t)8 << pat_below(&r, 10); /* 8 .. 4096 */
                x->p = hl_memalign(h, align, n);
                CF_NONNULL(x->p);
                CF_ASSERT_MSG((uintptr_t)x->p % align == 0, "memalign(%zu) gave %p", align, (void *)x->p);
            }
            CF_ASSERT_MSG(x->p != NULL, "allocation of %zu bytes failed at op %ld", n, op);
            CF_UINT_GE(hl_usable_size(h, x->p), n);
            x->n = n;
            x->id = next_id++;
            pat_fill(x->p, n, x->id);
            live++;
        } else if (k < 55) {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            hl_free(h, x->p);
            x->p = NULL;
            live--;
        } else {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            size_t n = pat_below(&r, 100) < 3 ? 0 : stress_size(&r);
            char *q = hl_realloc(h, x->p, n);
            if (n == 0) {
                CF_NULL(q);
                x->p = NULL;
                live--;
            } else {
                CF_ASSERT_MSG(q != NULL, "realloc to %zu bytes failed at op %ld", n, op);
                CF_ASSERT_PATTERN(q, cf_min_size(x->n, n), x->id);
                x->p = q;
                x->n = n;
                x->id = next_id++;
                pat_fill(q, n, x->id);
            }
        }
        if (op % STRESS_CHECK_EVERY == 0)
            stress_checkpoint(h, s, live, op % STRESS_VERIFY_EVERY == 0, op);
    }
    stress_checkpoint(h, s, live, 1, STRESS_OPS);
    struct hl_stats st = cf_stats(h);
    CF_UINT_GT(st.mmap_calls, 0); /* the tail did reach the mmap path */
    for (int i = 0; i < STRESS_SLOTS; i++)
        hl_free(h, s[i].p);
    st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_CHECK(h);
    hl_heap_destroy(h);
}
