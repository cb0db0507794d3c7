/*
 * cf_exhaustion.c - running out of memory: a small region fills, fails
 * cleanly with ENOMEM, and serves again once blocks are freed.
 */
#include <errno.h>
#include <stdint.h>

#include "cf.h"

void cf_small_region_runs_out_and_recovers(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_fixed_threshold(spec, 0);
    cfg.region_capacity = 1 * MiB;
    hl_heap *h = cf_heap(&cfg);
    enum { MAXN = 200 };
    char *v[MAXN];
    int n = 0;
    for (;;) {
        CF_INT_LT(n, MAXN);
        errno = 0;
        v[n] = hl_malloc(h, 10000);
        if (!v[n])
            break;
        pat_fill(v[n], 10000, (uint64_t)n);
        n++;
    }
    CF_INT_EQ(errno, ENOMEM);
    struct hl_stats full = cf_stats(h);
    if (cf_core_mechanism(pol))
        CF_INT_GE(n, 90); /* ~1 MiB / 10 KiB: the capacity was used, not a fraction of it */
    else
        CF_UINT_GE(full.extent_bytes, 1 * MiB / 2); /* grows in bigger steps, still used most */
    CF_UINT_LE(full.extent_bytes, 1 * MiB);

    /* still failing cleanly, and nothing changes (past a policy's block-size
     * cap a request would be mapped, so stay at or below it) */
    const size_t m = hl_heap_max_request(h) < 4 * MiB ? hl_heap_max_request(h) / 2 : 2 * MiB;
    CF_EXPECT_ENOMEM(hl_malloc(h, m), m);
    CF_EXPECT_ENOMEM(hl_calloc(h, 1, m), m);
    CF_EXPECT_ENOMEM(hl_memalign(h, 4096, m), m);
    CF_EXPECT_ENOMEM(hl_realloc(h, v[0], m), m);
    struct hl_stats again = cf_stats(h);
    CF_STATS_EQ(full, again);
    CF_CHECK(h);

    /* free every other block: smaller requests fit in the holes */
    for (int i = 0; i < n; i += 2) {
        CF_ASSERT_PATTERN(v[i], 10000, (uint64_t)i);
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    for (int i = 0; i < n; i += 2) {
        v[i] = hl_malloc(h, 5000);
        CF_ASSERT_MSG(v[i] != NULL, "malloc(5000) into a 10000-byte hole failed");
        pat_fill(v[i], 5000, 100000 + (uint64_t)i);
    }
    CF_CHECK(h);
    for (int i = 0; i < n; i++) {
        CF_ASSERT_PATTERN(v[i], i % 2 ? 10000 : 5000, i % 2 ? (uint64_t)i : 100000 + (uint64_t)i);
        hl_free(h, v[i]);
    }
    CF_CHECK(h);
    CF_UINT_EQ(cf_stats(h).live_blocks, 0);
    if (!cf_core_mechanism(pol) || hl_heap_max_request(h) < 900 * KiB) {
        hl_heap_destroy(h);
        return;
    }
    /* everything coalesced: most of the capacity is one block again */
    char *big = hl_malloc(h, 900 * KiB);
    CF_NONNULL(big);
    pat_fill(big, 900 * KiB, 7);
    CF_CHECK(h);
    hl_free(h, big);
    CF_CHECK(h);
    hl_heap_destroy(h);
}
