/*
 * conformance.c - what every policy must do, as checks that run against
 * any policy spec: the malloc contract (C11 7.22.3, POSIX posix_memalign,
 * glibc's realloc(p, 0) and malloc_usable_size), the mmap path, running
 * out of memory, misuse that must abort, the sbrk source beside glibc's
 * malloc, several heaps in one process, the heap walk and the lock.
 *
 * The Check suite (tests/check_conformance.c) runs every check on every
 * built-in policy; `heaplab selftest -p POLICY` runs them on one policy,
 * a plugin as well as a built-in one.  Both go through hl_conformance_run
 * (run.c): each check in a forked child of its own, on heaps of its own,
 * so a policy that crashes fails that check and nothing else.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf.h"

/* ---- malloc(0), free(NULL), realloc edge cases ------------------------------- */

static void malloc_zero_is_unique_and_free_null_is_noop(const struct hl_policy_spec *spec)
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

static void realloc_null_mallocs_and_realloc_zero_frees(const struct hl_policy_spec *spec)
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
static void realloc_keeps_content(const struct hl_policy_spec *spec)
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
static void realloc_creeps_into_a_free_neighbour(const struct hl_policy_spec *spec)
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

static void calloc_zeroes_memory_used_before(const struct hl_policy_spec *spec)
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

static void huge_requests_fail_with_enomem(const struct hl_policy_spec *spec)
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

static void results_are_aligned(const struct hl_policy_spec *spec)
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

static void posix_memalign_rejects_bad_alignments(const struct hl_policy_spec *spec)
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

static void memalign_every_power_of_two(const struct hl_policy_spec *spec)
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

static void usable_size_covers_the_request(const struct hl_policy_spec *spec)
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

/* ---- the mmap path ------------------------------------------------------------------ */

static void mmap_threshold_boundary(const struct hl_policy_spec *spec)
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

static void explicit_threshold_stays_fixed(const struct hl_policy_spec *spec)
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

static void dynamic_threshold_rises_like_glibc(const struct hl_policy_spec *spec)
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

static void threshold_zero_means_no_mmap(const struct hl_policy_spec *spec)
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

/* ---- running out -------------------------------------------------------------------- */

static void small_region_runs_out_and_recovers(const struct hl_policy_spec *spec)
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

/* ---- the stress test ------------------------------------------------------------------ */

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

static void random_operations_keep_the_heap_consistent(const struct hl_policy_spec *spec)
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

/* ---- misuse that must abort ------------------------------------------------------------- */

static void double_free_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, p);
    cf_expect_abort("free(): double free");
    hl_free(h, p);
    CF_FAIL("double free was not detected");
}

static void free_of_interior_pointer_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 256), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    /* zeros in front of the pointer: whatever the tag says, the USED bit is clear */
    memset(p, 0, 256);
    cf_expect_abort("heaplab: free(): ");
    hl_free(h, p + 32);
    CF_FAIL("free of a pointer into a block was not detected");
}

static void free_after_header_overrun_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    CF_PTR_EQ(b, a + hl_usable_size(h, a) + 8); /* b's header follows a's payload */
    /* a's owner writes 8 bytes too many: b's header becomes 0x62... (USED clear) */
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    cf_expect_abort("heaplab: free(): ");
    hl_free(h, b);
    CF_FAIL("free of a block with an overwritten header was not detected");
}

static void free_of_the_overrunning_block_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    CF_PTR_EQ(b, a + hl_usable_size(h, a) + 8);
    if (spec->cache && !cf_core_mechanism(spec->policy)) {
        /* the front cache takes a policy's block without looking past it
         * (core's blocks it checks): fill the bin, so that the free
         * reaches the policy */
        char *fill[HL_CACHE_MAX];
        for (unsigned i = 0; i < spec->cache; i++)
            CF_NONNULL(fill[i] = hl_malloc(h, 100));
        for (unsigned i = 0; i < spec->cache; i++)
            hl_free(h, fill[i]);
    }
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    /* freeing a looks at the header after it to coalesce (a buddy system
     * at its buddy's, which is the next block here) */
    cf_expect_abort("heap corruption");
    hl_free(h, a);
    CF_FAIL("an overrun into the next header was not detected on free");
}

static void double_free_after_coalescing_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, a);
    hl_free(h, b); /* b merges into a: b's header is gone */
    CF_UINT_EQ(cf_stats(h).live_blocks, 1);
    CF_CHECK(h);
    cf_expect_abort("free(): double free");
    hl_free(h, b);
    CF_FAIL("double free of a coalesced block was not detected");
}

static void double_free_after_forward_coalescing_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, b);
    hl_free(h, a); /* a absorbs b */
    CF_CHECK(h);
    cf_expect_abort("free(): double free");
    hl_free(h, b);
    CF_FAIL("double free of an absorbed block was not detected");
}

static void realloc_of_freed_pointer_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, p);
    cf_expect_abort("realloc(): pointer already freed");
    void *q = hl_realloc(h, p, 200);
    CF_FAIL("realloc of a freed pointer was not detected (returned %p)", q);
}

/* ---- the sbrk source next to glibc's malloc --------------------------------------------------- */

/*
 * Runs in its own process (Check's fork mode), so the break games stay
 * here.  glibc's malloc below its mmap threshold moves the break too; the
 * test also moves it itself now and then (by an amount that is not a
 * multiple of 16, as a program calling sbrk may).  heaplab must start a new
 * segment exactly when someone else moved the break since its own last
 * growth, never otherwise, never hand out memory it does not own, and never
 * give back memory above or below its own when it trims.
 */
static void sbrk_heap_beside_libc_malloc(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_config_of(spec);
    cfg.source = HL_SOURCE_SBRK;
    cfg.mmap_threshold = 0; /* everything from the break */
    hl_heap *h = cf_heap(&cfg);

    enum { N = 48, GN = 60 * 1024, FN = 4100 };
    char *hp[N], *gp[N], *fp[N];
    size_t hn[N];
    struct cf_range foreign[2 * N];
    int nforeign = 0, moved_by_others = 0;
    char *heaplab_end = NULL; /* where heaplab's last growth left the break */
    uint64_t segs = 0;
    char *start_brk = sbrk(0);

    for (int i = 0; i < N; i++) {
        hn[i] = 16000 + 997 * (size_t)i;
        char *b0 = sbrk(0);
        hp[i] = hl_malloc(h, hn[i]);
        char *b1 = sbrk(0);
        CF_NONNULL(hp[i]);
        pat_fill(hp[i], hn[i], (uint64_t)i);
        struct hl_stats st = cf_stats(h);
        if (b1 != b0) {
            /* heaplab grew: a new segment iff the break was not where it left it */
            int foreign_move = heaplab_end != NULL && b0 != heaplab_end;
            moved_by_others += foreign_move;
            CF_ASSERT_MSG(st.segments == segs + (uint64_t)(foreign_move || heaplab_end == NULL),
                          "op %d: %llu segments, was %llu; break moved by others: %d", i,
                          (unsigned long long)st.segments, (unsigned long long)segs, foreign_move);
            heaplab_end = b1;
        } else {
            CF_UINT_EQ(st.segments, segs);
        }
        segs = st.segments;

        gp[i] = malloc(GN); /* below glibc's mmap threshold: from the break */
        CF_NONNULL(gp[i]);
        pat_fill(gp[i], GN, 1000 + (uint64_t)i);
        foreign[nforeign++] = (struct cf_range){gp[i], gp[i] + GN};
        fp[i] = NULL;
        if (i % 6 == 5) {
            fp[i] = sbrk(FN);
            CF_PTR_NE(fp[i], (void *)-1);
            pat_fill(fp[i], FN, 2000 + (uint64_t)i);
            foreign[nforeign++] = (struct cf_range){fp[i], fp[i] + FN};
        }
    }
    CF_INT_GT(moved_by_others, 0);
    CF_UINT_GT(segs, 1);

    /* nothing heaplab handed out overlaps anything it does not own */
    for (int i = 0; i < N; i++) {
        struct cf_range r = {hp[i], hp[i] + hn[i]};
        for (int k = 0; k < nforeign; k++)
            CF_ASSERT_MSG(!cf_overlaps(r, foreign[k]), "heaplab block %p overlaps foreign memory %p", (void *)hp[i],
                          (void *)foreign[k].lo);
    }
    struct cf_blocks *bl = cf_walk_all(h);
    for (int i = 0; i < N; i++)
        CF_NONNULL(cf_holder(bl, hp[i], hn[i], HL_BLOCK_USED));
    CF_CHECK(h);

    /* a last heaplab block at the very top, so there is something to trim */
    char *top = hl_malloc(h, 512 * KiB);
    CF_NONNULL(top);
    /* the end of the highest foreign memory taken from the break (under
     * a sanitizer glibc's malloc is replaced by one that maps its memory
     * elsewhere: only the test's own sbrk calls count then) */
    char *foreign_top = NULL;
    for (int k = 0; k < nforeign; k++)
        if (foreign[k].lo >= start_brk && foreign[k].hi <= (char *)sbrk(0) && foreign[k].hi > foreign_top)
            foreign_top = foreign[k].hi;
    CF_NONNULL(foreign_top);
    CF_ASSERT(top >= foreign_top);

    uint64_t shrinks = cf_stats(h).shrink_calls;
    hl_free(h, top);
    if (cf_core_mechanism(pol))
        CF_UINT_GT(cf_stats(h).shrink_calls, shrinks);
    for (int i = 0; i < N; i++) {
        CF_ASSERT_PATTERN(hp[i], hn[i], (uint64_t)i);
        hl_free(h, hp[i]);
        CF_ASSERT_MSG((char *)sbrk(0) >= foreign_top, "trim gave back memory above a foreign block");
    }
    CF_ASSERT((char *)sbrk(0) >= foreign_top);
    CF_CHECK(h);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);

    /* the foreign memory is intact and still ours to use */
    for (int i = 0; i < N; i++) {
        CF_ASSERT_PATTERN(gp[i], GN, 1000 + (uint64_t)i);
        if (fp[i])
            CF_ASSERT_PATTERN(fp[i], FN, 2000 + (uint64_t)i);
    }
    for (int i = 0; i < N; i++)
        free(gp[i]);
    hl_heap_destroy(h);
}

/* ---- several heaps in one process ------------------------------------------------------------ */

enum { SIDE_HEAPS = 3, SIDE_SLOTS = 300, SIDE_OPS = 30000 };

static struct cf_slot side[SIDE_HEAPS][SIDE_SLOTS];

static void side_ownership(hl_heap *const *hs)
{
    struct cf_range extent[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++) {
        char *base = hl_heap_base(hs[k]);
        extent[k] = (struct cf_range){base, base + cf_stats(hs[k]).extent_bytes};
        for (int j = 0; j < k; j++)
            CF_ASSERT(!cf_overlaps(extent[j], extent[k]));
    }
    for (int k = 0; k < SIDE_HEAPS; k++) {
        CF_CHECK(hs[k]);
        struct cf_blocks *bl = cf_walk_all(hs[k]);
        size_t used = 0, mapped = 0;
        for (size_t i = 0; i < bl->n; i++) {
            used += bl->b[i].state == HL_BLOCK_USED;
            mapped += bl->b[i].state == HL_BLOCK_MAPPED;
        }
        size_t live = 0;
        for (int s = 0; s < SIDE_SLOTS; s++) {
            struct cf_slot *x = &side[k][s];
            if (!x->p)
                continue;
            live++;
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            if (cf_holder(bl, x->p, x->n, HL_BLOCK_MAPPED))
                continue;
            CF_ASSERT_MSG(cf_holder(bl, x->p, x->n, HL_BLOCK_USED) != NULL, "heap %d does not hold its block %p", k,
                          (void *)x->p);
            struct cf_range r = {x->p, x->p + x->n};
            CF_ASSERT(x->p >= extent[k].lo && r.hi <= extent[k].hi);
            for (int j = 0; j < SIDE_HEAPS; j++)
                CF_ASSERT(j == k || !cf_overlaps(r, extent[j]));
        }
        CF_UINT_EQ(used + mapped, live);
    }
}

/* The heaps beside a policy's own: the next two in the registry, or for a
 * policy that is not in it (a plugin), a second heap of its own - which
 * shows state kept outside `st` - and the registry's first. */
static void side_neighbours(const struct hl_policy_spec *spec, struct hl_policy_spec *n1, struct hl_policy_spec *n2)
{
    size_t np = hl_policy_count(), i = 0;
    while (i < np && hl_policy_at(i) != spec->policy)
        i++;
    if (i < np) {
        hl_policy_spec_default(hl_policy_at((i + 1) % np), n1);
        hl_policy_spec_default(hl_policy_at((i + 2) % np), n2);
    } else {
        *n1 = *spec;
        hl_policy_spec_default(hl_policy_at(0), n2);
    }
}

static void heaps_side_by_side_share_nothing(const struct hl_policy_spec *spec)
{
    struct hl_policy_spec n1, n2;
    side_neighbours(spec, &n1, &n2);
    struct hl_config cfg[SIDE_HEAPS];
    cfg[0] = cf_config_of(spec);
    cfg[1] = cf_fixed_threshold(&n1, 64 * KiB);
    cfg[1].align = 8;
    cfg[2] = cf_fixed_threshold(&n2, 0);
    cfg[2].lock = 0;
    hl_heap *hs[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++)
        hs[k] = cf_heap(&cfg[k]);
    memset(side, 0, sizeof side);
    struct pat_rng r = {99};
    uint64_t id = 1;
    for (int op = 1; op <= SIDE_OPS; op++) {
        int k = (int)pat_below(&r, SIDE_HEAPS);
        hl_heap *h = hs[k];
        struct cf_slot *x = &side[k][pat_below(&r, SIDE_SLOTS)];
        size_t n = pat_below(&r, 50) == 0 ? 60 * KiB + pat_below(&r, 100 * KiB) : pat_below(&r, 3000);
        if (!x->p) {
            x->p = pat_below(&r, 4) ? hl_malloc(h, n) : hl_memalign(h, 64, n);
            CF_NONNULL(x->p);
            x->n = n;
            x->id = id++;
            pat_fill(x->p, n, x->id);
        } else if (pat_below(&r, 2)) {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            hl_free(h, x->p);
            x->p = NULL;
        } else {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            n += 1;
            char *q = hl_realloc(h, x->p, n);
            CF_NONNULL(q);
            CF_ASSERT_PATTERN(q, cf_min_size(n, x->n), x->id);
            x->p = q;
            x->n = n;
            x->id = id++;
            pat_fill(q, n, x->id);
        }
        if (op % 3000 == 0)
            side_ownership(hs);
    }
    side_ownership(hs);
    for (int k = 0; k < SIDE_HEAPS; k++) {
        for (int s = 0; s < SIDE_SLOTS; s++)
            hl_free(hs[k], side[k][s].p);
        CF_UINT_EQ(cf_stats(hs[k]).live_blocks, 0);
        CF_CHECK(hs[k]);
        hl_heap_destroy(hs[k]);
    }
}

/* ---- the walk --------------------------------------------------------------------------------- */

static int stop_after_five(const struct hl_block_info *bi, void *arg)
{
    (void)bi;
    return ++*(int *)arg == 5 ? 7 : 0;
}

static void walk_visits_every_block(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_fixed_threshold(spec, 64 * KiB);
    hl_heap *h = cf_heap(&cfg);
    enum { N = 300 };
    char *v[N];
    size_t len[N];
    struct pat_rng r = {5};
    for (int i = 0; i < N; i++) {
        len[i] = i % 50 == 49 ? 100 * KiB : 1 + pat_below(&r, 5000);
        v[i] = i % 7 == 3 ? hl_memalign(h, 256, len[i]) : hl_malloc(h, len[i]);
        CF_NONNULL(v[i]);
    }
    for (int i = 0; i < N; i += 3) {
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    struct hl_stats st = cf_stats(h);
    struct cf_blocks *bl = cf_walk_all(h);
    CF_UINT_GT(bl->n, 0);

    uint64_t bytes[4] = {0}, count[4] = {0};
    const struct hl_block_info *prev = NULL;
    int seen_mapped = 0;
    for (size_t i = 0; i < bl->n; i++) {
        const struct hl_block_info *b = &bl->b[i];
        CF_UINT_LE(b->header_bytes, b->size);
        bytes[b->state] += b->size;
        count[b->state]++;
        if (b->state == HL_BLOCK_MAPPED) {
            seen_mapped = 1;
            continue;
        }
        CF_ASSERT_MSG(!seen_mapped, "heap block %p reported after the mapped blocks", b->addr);
        if (i == 0)
            CF_PTR_EQ(b->addr, hl_heap_base(h)); /* region source: no bytes lost to alignment */
        else
            CF_ASSERT_MSG((char *)prev->addr + prev->size == (char *)b->addr, "gap or overlap before %p", b->addr);
        if (cf_core_mechanism(pol) && !spec->cache) /* the cache defers coalescing */
            CF_ASSERT_MSG(!(prev && prev->state == HL_BLOCK_FREE && b->state == HL_BLOCK_FREE),
                          "two adjacent free blocks at %p", b->addr);
        prev = b;
    }
    CF_UINT_EQ(st.segments, 1);
    CF_UINT_EQ(bytes[HL_BLOCK_USED] + bytes[HL_BLOCK_FREE] + bytes[HL_BLOCK_META], st.extent_bytes);
    CF_UINT_EQ(bytes[HL_BLOCK_USED], st.live_bytes);
    CF_UINT_EQ(count[HL_BLOCK_USED], st.live_blocks);
    CF_UINT_EQ(bytes[HL_BLOCK_FREE], st.free_bytes);
    CF_UINT_EQ(bytes[HL_BLOCK_MAPPED], st.mapped_bytes);
    CF_UINT_EQ(count[HL_BLOCK_MAPPED], st.mapped_blocks);
    CF_UINT_GT(count[HL_BLOCK_MAPPED], 0);
    CF_UINT_GT(count[HL_BLOCK_FREE], 0);

    size_t live = 0;
    for (int i = 0; i < N; i++) {
        if (!v[i])
            continue;
        live++;
        enum hl_block_state want = len[i] >= 64 * KiB ? HL_BLOCK_MAPPED : HL_BLOCK_USED;
        CF_ASSERT_MSG(cf_holder(bl, v[i], len[i], want) != NULL, "no %s block holds %p (%zu bytes)",
                      want == HL_BLOCK_MAPPED ? "mapped" : "used", (void *)v[i], len[i]);
    }
    CF_UINT_EQ(count[HL_BLOCK_USED] + count[HL_BLOCK_MAPPED], live);

    int seen = 0;
    CF_INT_EQ(hl_walk(h, stop_after_five, &seen), 7);
    CF_INT_EQ(seen, 5);
    CF_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, v[i]);
    hl_heap_destroy(h);
}

/* ---- the lock ------------------------------------------------------------------------------------ */

/*
 * Four threads on one locking heap at once, each with its own blocks and
 * patterns, the checker run from the threads too.  The threads start
 * together at a barrier and share every structure of the heap (free index,
 * counters, the mapped list, the dynamic threshold): under SANITIZER=thread
 * a missing or misplaced lock shows as a data race, which fails the test
 * (ThreadSanitizer's exit status 66).
 */
enum { THREADS = 4, THREAD_SLOTS = 200, THREAD_OPS = 12000 };

struct worker {
    hl_heap *h;
    pthread_barrier_t *start;
    unsigned id;
    struct cf_slot s[THREAD_SLOTS];
    size_t live;
    long errors;
    char first_error[160];
};

static void worker_fail(struct worker *w, const char *what, const void *p, size_t n)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %u: %s (%p, %zu bytes)", w->id, what, p, n);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct pat_rng r = {1000 + w->id};
    uint64_t id = (uint64_t)w->id << 40;
    pthread_barrier_wait(w->start);
    for (int op = 1; op <= THREAD_OPS; op++) {
        struct cf_slot *x = &w->s[pat_below(&r, THREAD_SLOTS)];
        size_t n = pat_below(&r, 100) == 0 ? THRESHOLD + pat_below(&r, 64 * KiB) : pat_below(&r, 2000);
        if (!x->p) {
            size_t k = pat_below(&r, 3);
            x->p = k == 0 ? hl_malloc(w->h, n) : k == 1 ? hl_calloc(w->h, n, 1) : hl_memalign(w->h, 128, n);
            if (!x->p) {
                worker_fail(w, "allocation failed", NULL, n);
                continue;
            }
            if (k == 1 && pat_first_nonzero(x->p, n) >= 0)
                worker_fail(w, "calloc not zeroed", x->p, n);
            if (k == 2 && (uintptr_t)x->p % 128)
                worker_fail(w, "memalign misaligned", x->p, n);
            if (hl_usable_size(w->h, x->p) < n)
                worker_fail(w, "usable size too small", x->p, n);
            x->n = n;
            x->id = ++id;
            pat_fill(x->p, n, x->id);
            w->live++;
        } else {
            if (pat_verify(x->p, x->n, x->id) >= 0)
                worker_fail(w, "pattern broken", x->p, x->n);
            if (pat_below(&r, 2)) {
                hl_free(w->h, x->p);
                x->p = NULL;
                w->live--;
            } else {
                char *q = hl_realloc(w->h, x->p, n + 1);
                if (!q) {
                    worker_fail(w, "realloc failed", x->p, n + 1);
                    continue;
                }
                if (pat_verify(q, cf_min_size(x->n, n + 1), x->id) >= 0)
                    worker_fail(w, "realloc lost content", q, n + 1);
                x->p = q;
                x->n = n + 1;
                x->id = ++id;
                pat_fill(q, x->n, x->id);
            }
        }
        if (op % 3000 == 0 && hl_check(w->h, stderr) != 0)
            worker_fail(w, "hl_check found violations", NULL, 0);
    }
    return NULL;
}

static void locking_heap_survives_four_threads(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_config_of(spec);
    CF_INT_EQ(cfg.lock, 1);
    hl_heap *h = cf_heap(&cfg);
    static struct worker w[THREADS];
    pthread_barrier_t start;
    CF_INT_EQ(pthread_barrier_init(&start, NULL, THREADS), 0);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].h = h;
        w[i].start = &start;
        w[i].id = i;
        CF_INT_EQ(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        CF_INT_EQ(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);

    size_t live = 0;
    for (int i = 0; i < THREADS; i++) {
        CF_ASSERT_MSG(w[i].errors == 0, "%ld errors, the first: %s", w[i].errors, w[i].first_error);
        live += w[i].live;
    }
    CF_CHECK(h);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks + st.mapped_blocks, live);
    for (int i = 0; i < THREADS; i++)
        for (int s = 0; s < THREAD_SLOTS; s++)
            if (w[i].s[s].p) {
                CF_ASSERT_PATTERN(w[i].s[s].p, w[i].s[s].n, w[i].s[s].id);
                hl_free(h, w[i].s[s].p);
            }
    st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_CHECK(h);
    hl_heap_destroy(h);
}


/* ---- the table ------------------------------------------------------------------------------------ */

#define CF_ENTRY(group, fn, must_abort, timeout) {#fn, #group, fn, must_abort, timeout},

static const struct hl_conformance_check checks[] = {
    CF_ENTRY(contract, malloc_zero_is_unique_and_free_null_is_noop, 0, 120)
    CF_ENTRY(contract, realloc_null_mallocs_and_realloc_zero_frees, 0, 120)
    CF_ENTRY(contract, realloc_keeps_content, 0, 120)
    CF_ENTRY(contract, realloc_creeps_into_a_free_neighbour, 0, 120)
    CF_ENTRY(contract, calloc_zeroes_memory_used_before, 0, 120)
    CF_ENTRY(contract, huge_requests_fail_with_enomem, 0, 120)
    CF_ENTRY(contract, results_are_aligned, 0, 120)
    CF_ENTRY(contract, posix_memalign_rejects_bad_alignments, 0, 120)
    CF_ENTRY(contract, memalign_every_power_of_two, 0, 120)
    CF_ENTRY(contract, usable_size_covers_the_request, 0, 120)
    CF_ENTRY(mmap, mmap_threshold_boundary, 0, 60)
    CF_ENTRY(mmap, explicit_threshold_stays_fixed, 0, 60)
    CF_ENTRY(mmap, dynamic_threshold_rises_like_glibc, 0, 60)
    CF_ENTRY(mmap, threshold_zero_means_no_mmap, 0, 60)
    CF_ENTRY(exhaustion, small_region_runs_out_and_recovers, 0, 60)
    CF_ENTRY(stress, random_operations_keep_the_heap_consistent, 0, 600)
    CF_ENTRY(misuse, double_free_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_interior_pointer_aborts, 1, 60)
    CF_ENTRY(misuse, free_after_header_overrun_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_the_overrunning_block_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_after_coalescing_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_after_forward_coalescing_aborts, 1, 60)
    CF_ENTRY(misuse, realloc_of_freed_pointer_aborts, 1, 60)
    CF_ENTRY(sbrk, sbrk_heap_beside_libc_malloc, 0, 120)
    CF_ENTRY(heaps, heaps_side_by_side_share_nothing, 0, 120)
    CF_ENTRY(heaps, walk_visits_every_block, 0, 120)
    CF_ENTRY(threads, locking_heap_survives_four_threads, 0, 300)
};

size_t hl_conformance_count(void) { return sizeof checks / sizeof checks[0]; }

const struct hl_conformance_check *hl_conformance_at(size_t i)
{
    return i < hl_conformance_count() ? &checks[i] : NULL;
}

const struct hl_conformance_check *hl_conformance_lookup(const char *name)
{
    for (size_t i = 0; i < hl_conformance_count(); i++)
        if (strcmp(checks[i].name, name) == 0)
            return &checks[i];
    return NULL;
}
