/*
 * cf_mmap.c - the mmap path: the default threshold's boundary, a fixed
 * threshold, glibc's dynamic threshold, and threshold 0 (no mmap path).
 */
#include <stdint.h>

#include "cf.h"

void cf_mmap_threshold_boundary(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.mmap_threshold, THRESHOLD);

    char *below = hl_malloc(h, THRESHOLD - 1);
    CF_NONNULL(below);
    st = cf_stats(h);
    CF_UINT_EQ(st.mmap_calls, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_UINT_EQ(st.live_blocks, 1);

    char *at = hl_malloc(h, THRESHOLD);
    CF_NONNULL(at);
    st = cf_stats(h);
    CF_UINT_EQ(st.mmap_calls, 1);
    CF_UINT_EQ(st.mapped_blocks, 1);
    CF_UINT_GE(st.mapped_bytes, THRESHOLD);
    CF_UINT_EQ(st.live_blocks, 1);
    CF_UINT_EQ(st.heap_bytes, st.extent_bytes + st.mapped_bytes);
    pat_fill(at, THRESHOLD, 1);
    CF_NONNULL(cf_holder(cf_walk_all(h), at, THRESHOLD, HL_BLOCK_MAPPED));
    CF_NONNULL(cf_holder(cf_walk_all(h), below, THRESHOLD - 1, HL_BLOCK_USED));
    CF_CHECK(h);

    hl_free(h, at);
    st = cf_stats(h);
    CF_UINT_EQ(st.munmap_calls, 1);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_UINT_EQ(st.mapped_bytes, 0);
    hl_free(h, below);
    st = cf_stats(h);
    CF_UINT_EQ(st.munmap_calls, 1);
    CF_UINT_EQ(st.mmap_calls, 1);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

void cf_explicit_threshold_stays_fixed(const struct hl_policy_spec *spec)
{
    const size_t t = 64 * KiB;
    struct hl_config cfg = cf_fixed_threshold(spec, t);
    hl_heap *h = cf_heap(&cfg);
    for (int round = 0; round < 3; round++) {
        struct hl_stats st0 = cf_stats(h);
        CF_UINT_EQ(st0.mmap_threshold, t);
        char *a = hl_malloc(h, t - 1), *b = hl_malloc(h, t), *c = hl_malloc(h, 4 * MiB);
        CF_NONNULL(a);
        CF_NONNULL(b);
        CF_NONNULL(c);
        struct hl_stats st = cf_stats(h);
        CF_UINT_EQ(st.mmap_calls, st0.mmap_calls + 2);
        CF_UINT_EQ(st.mapped_blocks, 2);
        hl_free(h, c); /* a mapped block far bigger than the threshold */
        hl_free(h, b);
        hl_free(h, a);
        st = cf_stats(h);
        CF_UINT_EQ(st.munmap_calls, st0.munmap_calls + 2);
        CF_UINT_EQ(st.mmap_threshold, t);
    }
    CF_CHECK(h);
    hl_heap_destroy(h);
}

void cf_dynamic_threshold_rises_like_glibc(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *small_mapped = hl_malloc(h, 150 * KiB), *big = hl_malloc(h, 200 * KiB);
    CF_NONNULL(small_mapped);
    CF_NONNULL(big);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.mapped_blocks, 2);
    CF_UINT_EQ(st.mmap_threshold, THRESHOLD);

    hl_free(h, big);
    st = cf_stats(h);
    uint64_t raised = st.mmap_threshold;
    CF_UINT_GE(raised, 200 * KiB);
    CF_UINT_LE(raised, 200 * KiB + 64 * KiB); /* the freed block's size, give or take a page */

    /* a mapped block smaller than the new threshold does not move it */
    hl_free(h, small_mapped);
    CF_UINT_EQ(cf_stats(h).mmap_threshold, raised);

    /* the size that was mapped before is now served from the heap */
    uint64_t maps = cf_stats(h).mmap_calls;
    char *again = hl_malloc(h, 200 * KiB);
    CF_NONNULL(again);
    st = cf_stats(h);
    CF_UINT_EQ(st.mmap_calls, maps);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_UINT_EQ(st.live_blocks, 1);
    CF_NONNULL(cf_holder(cf_walk_all(h), again, 200 * KiB, HL_BLOCK_USED));

    /* at or above the new threshold: mapped */
    char *over = hl_malloc(h, (size_t)raised);
    CF_NONNULL(over);
    CF_UINT_EQ(cf_stats(h).mmap_calls, maps + 1);
    hl_free(h, over);

    /* glibc's ceiling: freeing a block above 32 MiB does not raise it */
    raised = cf_stats(h).mmap_threshold;
    char *huge = hl_malloc(h, HL_MAX_DYN_MMAP_THRESHOLD + 4 * MiB);
    CF_NONNULL(huge);
    hl_free(h, huge);
    CF_UINT_EQ(cf_stats(h).mmap_threshold, raised);
    hl_free(h, again);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

void cf_threshold_zero_means_no_mmap(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_config_of(spec);
    cfg.mmap_threshold = 0;
    hl_heap *h = cf_heap(&cfg);
    CF_UINT_EQ(cf_stats(h).mmap_threshold, 0);
    size_t cap = hl_heap_max_request(h);
    if (cap < 16 * MiB) {
        /* a policy with a block-size cap: up to the cap stays in the heap
         * (well above the default threshold), past it is mapped */
        CF_UINT_GT(cap, THRESHOLD);
        char *in = hl_malloc(h, cap), *out = hl_malloc(h, cap + 1);
        CF_NONNULL(in);
        CF_NONNULL(out);
        struct hl_stats st = cf_stats(h);
        CF_UINT_EQ(st.mmap_calls, 1);
        CF_UINT_EQ(st.mapped_blocks, 1);
        CF_NONNULL(cf_holder(cf_walk_all(h), in, cap, HL_BLOCK_USED));
        hl_free(h, in);
        hl_free(h, out);
        CF_CHECK(h);
        hl_heap_destroy(h);
        return;
    }
    char *p = hl_malloc(h, 4 * MiB);
    char *q = hl_memalign(h, 4096, 1 * MiB);
    char *r = hl_calloc(h, 1, 2 * MiB);
    CF_NONNULL(p);
    CF_NONNULL(q);
    CF_NONNULL(r);
    pat_fill(p, 4 * MiB, 1);
    pat_fill(q, 1 * MiB, 2);
    p = hl_realloc(h, p, 16 * MiB);
    CF_NONNULL(p);
    CF_ASSERT_PATTERN(p, 4 * MiB, 1);
    CF_ASSERT_PATTERN(q, 1 * MiB, 2);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.mmap_calls, 0);
    CF_UINT_EQ(st.mremap_calls, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_UINT_GE(st.live_bytes, 19 * MiB);
    char *base = hl_heap_base(h);
    CF_ASSERT(p >= base && p + 16 * MiB <= base + st.extent_bytes);
    CF_CHECK(h);
    hl_free(h, p);
    hl_free(h, q);
    hl_free(h, r);
    /* freeing heap blocks never raises a threshold that is off */
    CF_UINT_EQ(cf_stats(h).mmap_threshold, 0);
    CF_CHECK(h);
    hl_heap_destroy(h);
}
