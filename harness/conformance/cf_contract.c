/*
 * cf_contract.c - the malloc contract: malloc(0) and free(NULL), realloc's
 * edge cases and what it keeps, calloc's zeroes, requests near SIZE_MAX,
 * alignment, memalign and posix_memalign, the usable size (C11 7.22.3,
 * POSIX posix_memalign, glibc's realloc(p, 0) and malloc_usable_size).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cf.h"

/* ---- malloc(0), free(NULL), realloc edge cases ------------------------------- */

void cf_malloc_zero_is_unique_and_free_null_is_noop(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);

    struct hl_stats before = cf_stats(h);
    hl_free(h, NULL);
    struct hl_stats after = cf_stats(h);
    CF_STATS_EQ(before, after);

    enum { N = 64 };
    char *z[N];
    for (int i = 0; i < N; i++) {
        z[i] = hl_malloc(h, 0);
        CF_NONNULL(z[i]);
        for (int j = 0; j < i; j++)
            CF_PTR_NE(z[i], z[j]);
    }
    CF_UINT_EQ(cf_stats(h).live_blocks, N);
    /* their usable bytes do not overlap: fill all, then verify all */
    for (int i = 0; i < N; i++)
        pat_fill(z[i], hl_usable_size(h, z[i]), (uint64_t)i);
    for (int i = 0; i < N; i++)
        CF_ASSERT_PATTERN(z[i], hl_usable_size(h, z[i]), (uint64_t)i);
    CF_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, z[i]);
    CF_UINT_EQ(cf_stats(h).live_blocks, 0);
    CF_UINT_EQ(cf_stats(h).live_bytes, 0);

    before = cf_stats(h);
    hl_free(h, NULL);
    after = cf_stats(h);
    CF_STATS_EQ(before, after);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

void cf_realloc_null_mallocs_and_realloc_zero_frees(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);

    char *p = hl_realloc(h, NULL, 100);
    CF_NONNULL(p);
    CF_UINT_GE(hl_usable_size(h, p), 100);
    pat_fill(p, 100, 1);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 1);

    char *big = hl_realloc(h, NULL, 1 * MiB); /* above the threshold: mapped */
    CF_NONNULL(big);
    pat_fill(big, 1 * MiB, 2);
    st = cf_stats(h);
    CF_UINT_EQ(st.mapped_blocks, 1);

    void *z = hl_realloc(h, NULL, 0); /* = malloc(0) */
    CF_NONNULL(z);
    CF_UINT_EQ(cf_stats(h).live_blocks, 2);

    CF_ASSERT_PATTERN(p, 100, 1);
    CF_NULL(hl_realloc(h, p, 0));
    st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 1);

    CF_ASSERT_PATTERN(big, 1 * MiB, 2);
    uint64_t unmaps = st.munmap_calls;
    CF_NULL(hl_realloc(h, big, 0));
    st = cf_stats(h);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_UINT_EQ(st.mapped_bytes, 0);
    CF_UINT_EQ(st.munmap_calls, unmaps + 1);

    CF_NULL(hl_realloc(h, z, 0));
    st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);
    CF_UINT_EQ(st.live_bytes, 0);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

/*
 * Every pair of sizes, small and large, across the mmap threshold both ways,
 * in three surroundings: the block at the top of the heap (it can grow in
 * place), boxed in by a block in use (it must move), and followed by a free
 * block (it can absorb it).  Its neighbours must not be touched.
 */
void cf_realloc_keeps_content(const struct hl_policy_spec *spec)
{
    static const size_t sizes[] = {1,         8,         24,        100,       1000,      4000, 65536,
                                   THRESHOLD - 1, THRESHOLD, THRESHOLD + 4096, 1 * MiB};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    struct hl_config cfgs[2] = {cf_fixed_threshold(spec, THRESHOLD), cf_fixed_threshold(spec, 0)};
    for (int c = 0; c < 2; c++) {
        hl_heap *h = cf_heap(&cfgs[c]);
        uint64_t id = 1000;
        for (int layout = 0; layout < 3; layout++)
            for (int i = 0; i < NS; i++)
                for (int j = 0; j < NS; j++) {
                    if (i == j)
                        continue;
                    size_t from = sizes[i], to = sizes[j];
                    char *before = hl_malloc(h, 64);
                    char *p = hl_malloc(h, from);
                    CF_NONNULL(before);
                    CF_NONNULL(p);
                    char *guard = NULL, *gap = NULL;
                    if (layout >= 1) {
                        if (layout == 2)
                            gap = hl_malloc(h, 2000);
                        guard = hl_malloc(h, 64);
                        CF_NONNULL(guard);
                        pat_fill(guard, 64, id + 2);
                        hl_free(h, gap);
                    }
                    pat_fill(before, 64, id);
                    pat_fill(p, from, id + 1);
                    char *q = hl_realloc(h, p, to);
                    CF_ASSERT_MSG(q != NULL, "realloc %zu -> %zu failed (config %d, layout %d)", from, to, c,
                                  layout);
                    CF_UINT_GE(hl_usable_size(h, q), to);
                    CF_ASSERT_PATTERN(q, cf_min_size(from, to), id + 1);
                    CF_ASSERT_PATTERN(before, 64, id);
                    if (guard)
                        CF_ASSERT_PATTERN(guard, 64, id + 2);
                    pat_fill(q, to, id + 3); /* the whole new size is writable */
                    CF_INT_EQ(hl_check(h, stderr), 0);
                    CF_ASSERT_PATTERN(q, to, id + 3);
                    hl_free(h, q);
                    hl_free(h, guard);
                    hl_free(h, before);
                    id += 4;
                }
        struct hl_stats st = cf_stats(h);
        CF_UINT_EQ(st.live_blocks, 0);
        CF_UINT_EQ(st.mapped_blocks, 0);
        if (c == 0)
            CF_UINT_GT(st.mmap_calls, 0); /* the mapped cases were mapped */
        else if (sizes[NS - 1] <= hl_heap_max_request(h))
            CF_UINT_EQ(st.mmap_calls, 0); /* no mmap path, no block-size cap in the way */
        CF_CHECK(h);
        hl_heap_destroy(h);
    }
}

/*
 * realloc growing a block one alignment unit at a time into the free block
 * after it: each step moves that free block's start up by only 8 or 16
 * bytes, so the free block's new index node overlaps its old one - the
 * hard case of a policy's replace.  The free block has free neighbours on
 * both sides in address order, so its links in both directions matter.
 */
void cf_realloc_creeps_into_a_free_neighbour(const struct hl_policy_spec *spec)
{
    for (int c = 0; c < 2; c++) {
        struct hl_config cfg = cf_fixed_threshold(spec, 0);
        cfg.align = c ? 8 : 16;
        hl_heap *h = cf_heap(&cfg);
        char *lo = hl_malloc(h, 500), *a = hl_malloc(h, 100), *f = hl_malloc(h, 600);
        char *g = hl_malloc(h, 100), *hi = hl_malloc(h, 300), *g2 = hl_malloc(h, 100);
        CF_NONNULL(g);
        CF_NONNULL(g2);
        hl_free(h, lo);
        hl_free(h, f);
        hl_free(h, hi);
        CF_CHECK(h);
        size_t n = 100;
        pat_fill(a, n, 1);
        while (n < 800) {
            size_t m = hl_usable_size(h, a) + 1; /* one more alignment unit */
            char *q = hl_realloc(h, a, m);
            CF_NONNULL(q);
            CF_ASSERT_PATTERN(q, n, 1);
            pat_fill(q, m, 1);
            a = q;
            n = m;
            int v = hl_check(h, stderr);
            CF_ASSERT_MSG(v == 0, "align %zu: %d violations after realloc to %zu", cfg.align, v, m);
        }
        hl_free(h, a);
        hl_free(h, g);
        hl_free(h, g2);
        CF_UINT_EQ(cf_stats(h).live_blocks, 0);
        CF_CHECK(h);
        hl_heap_destroy(h);
    }
}

/* ---- calloc ------------------------------------------------------------------ */

void cf_calloc_zeroes_memory_used_before(const struct hl_policy_spec *spec)
{
    static const size_t sizes[] = {1, 16, 24, 100, 1000, 5000, 65536, 200000};
    struct hl_config cfgs[2] = {cf_config_of(spec), cf_fixed_threshold(spec, 0)};
    for (int c = 0; c < 2; c++) {
        hl_heap *h = cf_heap(&cfgs[c]);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            for (int form = 0; form < 3; form++) {
                char *p = hl_malloc(h, n);
                CF_NONNULL(p);
                memset(p, 0xa5, hl_usable_size(h, p));
                char *guard = hl_malloc(h, 16); /* keeps p off the top: no trim */
                hl_free(h, p);
                char *q = form == 0   ? hl_calloc(h, n, 1)
                          : form == 1 ? hl_calloc(h, 1, n)
                                      : hl_calloc(h, n / 8 ? n / 8 : 1, 8);
                size_t len = form == 2 ? (n / 8 ? n / 8 : 1) * 8 : n;
                CF_NONNULL(q);
                long nz = pat_first_nonzero(q, len);
                CF_ASSERT_MSG(nz < 0, "calloc(%zu) (form %d): byte %ld is not zero", n, form, nz);
                hl_free(h, q);
                hl_free(h, guard);
            }
        }

        /* many blocks dirtied and freed in a scrambled order, then calloc'ed again */
        enum { N = 300 };
        char *v[N];
        size_t len[N];
        struct pat_rng r = {7};
        for (int i = 0; i < N; i++) {
            len[i] = 1 + pat_below(&r, 3000);
            v[i] = hl_malloc(h, len[i]);
            CF_NONNULL(v[i]);
            memset(v[i], 0xff, hl_usable_size(h, v[i]));
        }
        for (int i = 0; i < N; i++) {
            int k = (int)((i * 7919u) % N);
            hl_free(h, v[k]);
        }
        for (int i = 0; i < N; i++) {
            v[i] = hl_calloc(h, len[i], 1);
            CF_NONNULL(v[i]);
            long nz = pat_first_nonzero(v[i], len[i]);
            CF_ASSERT_MSG(nz < 0, "calloc(%zu): byte %ld is not zero", len[i], nz);
        }
        CF_CHECK(h);
        for (int i = 0; i < N; i++)
            hl_free(h, v[i]);

        /* calloc of nothing is still a unique, freeable pointer */
        void *a = hl_calloc(h, 0, 10), *b = hl_calloc(h, 10, 0);
        CF_NONNULL(a);
        CF_NONNULL(b);
        CF_PTR_NE(a, b);
        hl_free(h, a);
        hl_free(h, b);
        CF_UINT_EQ(cf_stats(h).live_blocks, 0);
        CF_CHECK(h);
        hl_heap_destroy(h);
    }
}

/* ---- sizes near SIZE_MAX --------------------------------------------------------- */

static const size_t huge_sizes[] = {
    SIZE_MAX,         SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2, (size_t)PTRDIFF_MAX + 1,
    (size_t)PTRDIFF_MAX, (size_t)1 << 48,
};

void cf_huge_requests_fail_with_enomem(const struct hl_policy_spec *spec)
{
    struct hl_config cfgs[3] = {cf_config_of(spec), cf_fixed_threshold(spec, 0), cf_config_of(spec)};
    cfgs[2].align = 8;
    for (int c = 0; c < 3; c++) {
        hl_heap *h = cf_heap(&cfgs[c]);
        char *small = hl_malloc(h, 100), *big = hl_malloc(h, 300 * KiB);
        CF_NONNULL(small);
        CF_NONNULL(big);
        pat_fill(small, 100, 1);
        pat_fill(big, 300 * KiB, 2);
        size_t us = hl_usable_size(h, small), ub = hl_usable_size(h, big);
        struct hl_stats before = cf_stats(h);
        for (size_t i = 0; i < sizeof huge_sizes / sizeof huge_sizes[0]; i++) {
            size_t n = huge_sizes[i];
            CF_EXPECT_ENOMEM(hl_malloc(h, n), n);
            CF_EXPECT_ENOMEM(hl_calloc(h, n, 1), n);
            CF_EXPECT_ENOMEM(hl_calloc(h, 1, n), n);
            CF_EXPECT_ENOMEM(hl_realloc(h, NULL, n), n);
            CF_EXPECT_ENOMEM(hl_realloc(h, small, n), n);
            CF_EXPECT_ENOMEM(hl_realloc(h, big, n), n);
            CF_EXPECT_ENOMEM(hl_memalign(h, 16, n), n);
            CF_EXPECT_ENOMEM(hl_memalign(h, 64, n), n);
            CF_EXPECT_ENOMEM(hl_memalign(h, 4096, n), n);
            CF_EXPECT_ENOMEM(hl_memalign(h, 65536, n), n);
            void *out = &before;
            CF_INT_EQ(hl_posix_memalign(h, &out, 64, n), ENOMEM);
            CF_PTR_EQ(out, &before);
            CF_INT_EQ(hl_posix_memalign(h, &out, 8192, n), ENOMEM);
            CF_PTR_EQ(out, &before);
        }
        /* nmemb * size wraps around: never a small block */
        CF_EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX / 2 + 1, 2), SIZE_MAX);
        CF_EXPECT_ENOMEM(hl_calloc(h, 2, SIZE_MAX / 2 + 1), SIZE_MAX);
        CF_EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX / 16 + 2, 16), SIZE_MAX); /* wraps to 16 */
        CF_EXPECT_ENOMEM(hl_calloc(h, (size_t)1 << 32, (size_t)1 << 32), SIZE_MAX);
        CF_EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX, SIZE_MAX), SIZE_MAX);
        /* an alignment no heap can give */
        CF_EXPECT_ENOMEM(hl_memalign(h, (size_t)1 << 63, 1), 1);
        CF_EXPECT_ENOMEM(hl_memalign(h, (size_t)1 << 40, 1), 1);
        void *out = &before;
        CF_INT_EQ(hl_posix_memalign(h, &out, (size_t)1 << 63, 1), ENOMEM);
        CF_PTR_EQ(out, &before);

        struct hl_stats after = cf_stats(h);
        CF_STATS_EQ(before, after); /* nothing was allocated, nothing moved */
        CF_UINT_EQ(hl_usable_size(h, small), us);
        CF_UINT_EQ(hl_usable_size(h, big), ub);
        CF_ASSERT_PATTERN(small, 100, 1);
        CF_ASSERT_PATTERN(big, 300 * KiB, 2);
        CF_CHECK(h);
        hl_free(h, small);
        hl_free(h, big);
        CF_CHECK(h);
        hl_heap_destroy(h);
    }
}

/* ---- alignment ----------------------------------------------------------------- */

static void check_aligned(hl_heap *h, size_t align)
{
    enum { N = 400 };
    char *v[N];
    int odd16 = 0;
    for (int i = 0; i < N; i++) {
        size_t n = i < 300 ? (size_t)i : (size_t)(i - 299) * 997;
        if (i >= 390)
            n = THRESHOLD + (size_t)(i - 390) * 4099; /* mapped */
        switch (i % 4) {
        case 0: v[i] = hl_malloc(h, n); break;
        case 1: v[i] = hl_calloc(h, 1, n); break;
        case 2: v[i] = hl_memalign(h, 8, n); break;
        default: v[i] = hl_realloc(h, hl_malloc(h, n / 2 + 1), n); break;
        }
        CF_NONNULL(v[i]);
        CF_ASSERT_MSG((uintptr_t)v[i] % align == 0, "%p (n = %zu) is not %zu-aligned", (void *)v[i], n, align);
        odd16 += ((uintptr_t)v[i] & 15) != 0;
        pat_fill(v[i], n, (uint64_t)i);
    }
    if (align == 8 && cf_core_mechanism(hl_heap_policy(h)))
        CF_ASSERT_MSG(odd16 > 0, "an align=8 heap never returned an 8-but-not-16-aligned block");
    CF_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, v[i]);
    CF_CHECK(h);
}

void cf_results_are_aligned(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_config_of(spec);
    hl_heap *h = cf_heap(&cfg);
    check_aligned(h, 16);
    hl_heap_destroy(h);
    cfg.align = 8;
    h = cf_heap(&cfg);
    check_aligned(h, 8);
    hl_heap_destroy(h);
}

/* ---- memalign / posix_memalign --------------------------------------------------- */

void cf_posix_memalign_rejects_bad_alignments(const struct hl_policy_spec *spec)
{
    static const size_t bad[] = {0, 1, 2, 3, sizeof(void *) / 2, 5, 6, 7, 12, 24, 48, 96, 100, 4095, 4097,
                                 SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 2 + 2};
    hl_heap *h = cf_default_heap(spec);
    struct hl_stats before = cf_stats(h);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *out = &before;
        CF_ASSERT_MSG(hl_posix_memalign(h, &out, bad[i], 100) == EINVAL, "posix_memalign(%zu) is not EINVAL",
                      bad[i]);
        CF_PTR_EQ(out, &before);
        CF_INT_EQ(hl_posix_memalign(h, &out, bad[i], 0), EINVAL);
        if (bad[i] == 0 || (bad[i] & (bad[i] - 1))) { /* memalign only needs a power of two */
            errno = 0;
            CF_NULL(hl_memalign(h, bad[i], 100));
            CF_INT_EQ(errno, EINVAL);
        }
    }
    struct hl_stats after = cf_stats(h);
    CF_STATS_EQ(before, after);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

static void memalign_all(hl_heap *h)
{
    static const size_t sizes[] = {0, 1, 24, 100, 1000, 5000, 100000, 200000};
    enum { NS = sizeof sizes / sizeof sizes[0], NA = 15 };
    static char *v[NA + 1][NS];
    uint64_t id = 0;
    for (int a = 0; a <= NA; a++) {
        size_t align = a < NA ? (size_t)8 << a : (size_t)1 << 20; /* 8 .. 128 KiB, and 1 MiB */
        for (int s = 0; s < NS; s++, id++) {
            size_t n = sizes[s];
            if (a == NA && n > 5000)
                n = 5000;
            void *p = NULL;
            if (s % 2) {
                CF_INT_EQ(hl_posix_memalign(h, &p, align, n), 0);
            } else {
                p = hl_memalign(h, align, n);
            }
            CF_ASSERT_MSG(p != NULL, "memalign(%zu, %zu) failed", align, n);
            CF_ASSERT_MSG((uintptr_t)p % align == 0, "memalign(%zu, %zu) = %p", align, n, p);
            CF_UINT_GE(hl_usable_size(h, p), n);
            pat_fill(p, hl_usable_size(h, p), id);
            v[a][s] = p;
        }
    }
    CF_CHECK(h);
    /* free in a scrambled order: every other one first, so neighbours coalesce later */
    for (int pass = 0; pass < 2; pass++) {
        id = 0;
        for (int a = 0; a <= NA; a++)
            for (int s = 0; s < NS; s++, id++) {
                if ((int)(id % 2) != pass)
                    continue;
                CF_ASSERT_PATTERN(v[a][s], hl_usable_size(h, v[a][s]), id);
                hl_free(h, v[a][s]);
            }
        CF_CHECK(h);
    }
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
}

void cf_memalign_every_power_of_two(const struct hl_policy_spec *spec)
{
    struct hl_config cfgs[3] = {cf_config_of(spec), cf_fixed_threshold(spec, 0), cf_config_of(spec)};
    cfgs[2].align = 8;
    for (int c = 0; c < 3; c++) {
        hl_heap *h = cf_heap(&cfgs[c]);
        memalign_all(h);
        hl_heap_destroy(h);
    }
}

/* ---- usable size ------------------------------------------------------------------ */

void cf_usable_size_covers_the_request(const struct hl_policy_spec *spec)
{
    static const size_t large[] = {4095, 4096, 10000, 65535, THRESHOLD - 1, THRESHOLD, 500000};
    enum { NSMALL = 2049, NL = sizeof large / sizeof large[0] };
    static char *v[NSMALL + NL];
    struct hl_config cfg = cf_config_of(spec);
    for (int c = 0; c < 2; c++) {
        cfg.align = c ? 8 : 16;
        hl_heap *h = cf_heap(&cfg);
        for (size_t i = 0; i < NSMALL + NL; i++) {
            size_t n = i < NSMALL ? i : large[i - NSMALL];
            v[i] = hl_malloc(h, n);
            CF_NONNULL(v[i]);
            size_t u = hl_usable_size(h, v[i]);
            CF_ASSERT_MSG(u >= n, "usable_size %zu < request %zu", u, n);
            pat_fill(v[i], u, i); /* every usable byte */
        }
        CF_CHECK(h);
        for (size_t i = 0; i < NSMALL + NL; i++) {
            CF_ASSERT_PATTERN(v[i], hl_usable_size(h, v[i]), i);
            hl_free(h, v[i]);
        }
        CF_CHECK(h);
        CF_UINT_EQ(hl_usable_size(h, NULL), 0);
        hl_heap_destroy(h);
    }
}
