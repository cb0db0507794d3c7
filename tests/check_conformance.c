/*
 * check_conformance.c - what every policy must do: the malloc contract
 * (C11 7.22.3, POSIX posix_memalign, glibc's realloc(p, 0) and
 * malloc_usable_size), the mmap path, running out of memory, misuse that
 * must abort, the sbrk source beside glibc's malloc, several heaps in one
 * process, the heap walk and the lock.
 *
 * Every test body is a policy loop (testutil.h): it runs once per policy in
 * the registry, each time on heaps of its own.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define KiB ((size_t)1024)
#define MiB ((size_t)1024 * 1024)
#define THRESHOLD ((size_t)HL_DEFAULT_MMAP_THRESHOLD)

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* The default configuration of this loop's policy, for tests to adjust. */
static struct hl_config config_of(const struct hl_policy *p)
{
    struct hl_config c;
    hl_config_default(&c, p);
    return c;
}

/* A heap whose mmap threshold is fixed at `threshold` (0: no mmap path). */
static struct hl_config fixed_threshold(const struct hl_policy *p, size_t threshold)
{
    struct hl_config c = config_of(p);
    c.mmap_threshold = threshold;
    c.mmap_dynamic = 0;
    return c;
}

/* ---- walk helpers ------------------------------------------------------------ */

enum { MAX_BLOCKS = 8192 };

struct blocks {
    size_t n;
    struct hl_block_info b[MAX_BLOCKS];
};

static int record_block(const struct hl_block_info *bi, void *arg)
{
    struct blocks *bl = arg;
    ck_assert_msg(bl->n < MAX_BLOCKS, "more than %d blocks in the walk", MAX_BLOCKS);
    bl->b[bl->n++] = *bi;
    return 0;
}

/* static: 256 KiB is more than a test's stack should carry */
static struct blocks walked;

static struct blocks *walk_all(hl_heap *h)
{
    walked.n = 0;
    ck_assert_int_eq(hl_walk(h, record_block, &walked), 0);
    return &walked;
}

/* The walked block of state `st` that holds [p, p+n), or NULL. */
static const struct hl_block_info *holder(const struct blocks *bl, const void *p, size_t n,
                                          enum hl_block_state st)
{
    const char *c = p;
    for (size_t i = 0; i < bl->n; i++) {
        const char *a = bl->b[i].addr;
        if (bl->b[i].state == st && a < c && c + n <= a + bl->b[i].size)
            return &bl->b[i];
    }
    return NULL;
}

/* ---- malloc(0), free(NULL), realloc edge cases ------------------------------- */

START_TEST(malloc_zero_is_unique_and_free_null_is_noop)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);

    struct hl_stats before = tl_stats(h);
    hl_free(h, NULL);
    struct hl_stats after = tl_stats(h);
    TL_STATS_EQ(before, after);

    enum { N = 64 };
    char *z[N];
    for (int i = 0; i < N; i++) {
        z[i] = hl_malloc(h, 0);
        ck_assert_ptr_nonnull(z[i]);
        for (int j = 0; j < i; j++)
            ck_assert_ptr_ne(z[i], z[j]);
    }
    ck_assert_uint_eq(tl_stats(h).live_blocks, N);
    /* their usable bytes do not overlap: fill all, then verify all */
    for (int i = 0; i < N; i++)
        tl_fill(z[i], hl_usable_size(h, z[i]), (uint64_t)i);
    for (int i = 0; i < N; i++)
        TL_ASSERT_PATTERN(z[i], hl_usable_size(h, z[i]), (uint64_t)i);
    TL_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, z[i]);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
    ck_assert_uint_eq(tl_stats(h).live_bytes, 0);

    before = tl_stats(h);
    hl_free(h, NULL);
    after = tl_stats(h);
    TL_STATS_EQ(before, after);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_null_mallocs_and_realloc_zero_frees)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);

    char *p = hl_realloc(h, NULL, 100);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(hl_usable_size(h, p), 100);
    tl_fill(p, 100, 1);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 1);

    char *big = hl_realloc(h, NULL, 1 * MiB); /* above the threshold: mapped */
    ck_assert_ptr_nonnull(big);
    tl_fill(big, 1 * MiB, 2);
    st = tl_stats(h);
    ck_assert_uint_eq(st.mapped_blocks, 1);

    void *z = hl_realloc(h, NULL, 0); /* = malloc(0) */
    ck_assert_ptr_nonnull(z);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 2);

    TL_ASSERT_PATTERN(p, 100, 1);
    ck_assert_ptr_null(hl_realloc(h, p, 0));
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 1);

    TL_ASSERT_PATTERN(big, 1 * MiB, 2);
    uint64_t unmaps = st.munmap_calls;
    ck_assert_ptr_null(hl_realloc(h, big, 0));
    st = tl_stats(h);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.mapped_bytes, 0);
    ck_assert_uint_eq(st.munmap_calls, unmaps + 1);

    ck_assert_ptr_null(hl_realloc(h, z, 0));
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.live_bytes, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/*
 * Every pair of sizes, small and large, across the mmap threshold both ways,
 * in three surroundings: the block at the top of the heap (it can grow in
 * place), boxed in by a block in use (it must move), and followed by a free
 * block (it can absorb it).  Its neighbours must not be touched.
 */
START_TEST(realloc_keeps_content)
{
    TL_POLICY(pol);
    static const size_t sizes[] = {1,         8,         24,        100,       1000,      4000, 65536,
                                   THRESHOLD - 1, THRESHOLD, THRESHOLD + 4096, 1 * MiB};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    struct hl_config cfgs[2] = {fixed_threshold(pol, THRESHOLD), fixed_threshold(pol, 0)};
    for (int c = 0; c < 2; c++) {
        hl_heap *h = tl_heap(&cfgs[c]);
        uint64_t id = 1000;
        for (int layout = 0; layout < 3; layout++)
            for (int i = 0; i < NS; i++)
                for (int j = 0; j < NS; j++) {
                    if (i == j)
                        continue;
                    size_t from = sizes[i], to = sizes[j];
                    char *before = hl_malloc(h, 64);
                    char *p = hl_malloc(h, from);
                    ck_assert_ptr_nonnull(before);
                    ck_assert_ptr_nonnull(p);
                    char *guard = NULL, *gap = NULL;
                    if (layout >= 1) {
                        if (layout == 2)
                            gap = hl_malloc(h, 2000);
                        guard = hl_malloc(h, 64);
                        ck_assert_ptr_nonnull(guard);
                        tl_fill(guard, 64, id + 2);
                        hl_free(h, gap);
                    }
                    tl_fill(before, 64, id);
                    tl_fill(p, from, id + 1);
                    char *q = hl_realloc(h, p, to);
                    ck_assert_msg(q != NULL, "realloc %zu -> %zu failed (config %d, layout %d)", from, to, c,
                                  layout);
                    ck_assert_uint_ge(hl_usable_size(h, q), to);
                    TL_ASSERT_PATTERN(q, min_size(from, to), id + 1);
                    TL_ASSERT_PATTERN(before, 64, id);
                    if (guard)
                        TL_ASSERT_PATTERN(guard, 64, id + 2);
                    tl_fill(q, to, id + 3); /* the whole new size is writable */
                    ck_assert_int_eq(hl_check(h, stderr), 0);
                    TL_ASSERT_PATTERN(q, to, id + 3);
                    hl_free(h, q);
                    hl_free(h, guard);
                    hl_free(h, before);
                    id += 4;
                }
        struct hl_stats st = tl_stats(h);
        ck_assert_uint_eq(st.live_blocks, 0);
        ck_assert_uint_eq(st.mapped_blocks, 0);
        if (c == 0)
            ck_assert_uint_gt(st.mmap_calls, 0); /* the mapped cases were mapped */
        else if (sizes[NS - 1] <= hl_heap_max_request(h))
            ck_assert_uint_eq(st.mmap_calls, 0); /* no mmap path, no block-size cap in the way */
        TL_CHECK(h);
        hl_heap_destroy(h);
    }
}
END_TEST

/*
 * realloc growing a block one alignment unit at a time into the free block
 * after it: each step moves that free block's start up by only 8 or 16
 * bytes, so the free block's new index node overlaps its old one - the
 * hard case of a policy's replace.  The free block has free neighbours on
 * both sides in address order, so its links in both directions matter.
 */
START_TEST(realloc_creeps_into_a_free_neighbour)
{
    TL_POLICY(pol);
    for (int c = 0; c < 2; c++) {
        struct hl_config cfg = fixed_threshold(pol, 0);
        cfg.align = c ? 8 : 16;
        hl_heap *h = tl_heap(&cfg);
        char *lo = hl_malloc(h, 500), *a = hl_malloc(h, 100), *f = hl_malloc(h, 600);
        char *g = hl_malloc(h, 100), *hi = hl_malloc(h, 300), *g2 = hl_malloc(h, 100);
        ck_assert_ptr_nonnull(g);
        ck_assert_ptr_nonnull(g2);
        hl_free(h, lo);
        hl_free(h, f);
        hl_free(h, hi);
        TL_CHECK(h);
        size_t n = 100;
        tl_fill(a, n, 1);
        while (n < 800) {
            size_t m = hl_usable_size(h, a) + 1; /* one more alignment unit */
            char *q = hl_realloc(h, a, m);
            ck_assert_ptr_nonnull(q);
            TL_ASSERT_PATTERN(q, n, 1);
            tl_fill(q, m, 1);
            a = q;
            n = m;
            int v = hl_check(h, stderr);
            ck_assert_msg(v == 0, "align %zu: %d violations after realloc to %zu", cfg.align, v, m);
        }
        hl_free(h, a);
        hl_free(h, g);
        hl_free(h, g2);
        ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
        TL_CHECK(h);
        hl_heap_destroy(h);
    }
}
END_TEST

/* ---- calloc ------------------------------------------------------------------ */

START_TEST(calloc_zeroes_memory_used_before)
{
    TL_POLICY(pol);
    static const size_t sizes[] = {1, 16, 24, 100, 1000, 5000, 65536, 200000};
    struct hl_config cfgs[2] = {config_of(pol), fixed_threshold(pol, 0)};
    for (int c = 0; c < 2; c++) {
        hl_heap *h = tl_heap(&cfgs[c]);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            for (int form = 0; form < 3; form++) {
                char *p = hl_malloc(h, n);
                ck_assert_ptr_nonnull(p);
                memset(p, 0xa5, hl_usable_size(h, p));
                char *guard = hl_malloc(h, 16); /* keeps p off the top: no trim */
                hl_free(h, p);
                char *q = form == 0   ? hl_calloc(h, n, 1)
                          : form == 1 ? hl_calloc(h, 1, n)
                                      : hl_calloc(h, n / 8 ? n / 8 : 1, 8);
                size_t len = form == 2 ? (n / 8 ? n / 8 : 1) * 8 : n;
                ck_assert_ptr_nonnull(q);
                long nz = tl_first_nonzero(q, len);
                ck_assert_msg(nz < 0, "calloc(%zu) (form %d): byte %ld is not zero", n, form, nz);
                hl_free(h, q);
                hl_free(h, guard);
            }
        }

        /* many blocks dirtied and freed in a scrambled order, then calloc'ed again */
        enum { N = 300 };
        char *v[N];
        size_t len[N];
        struct tl_rng r = {7};
        for (int i = 0; i < N; i++) {
            len[i] = 1 + tl_below(&r, 3000);
            v[i] = hl_malloc(h, len[i]);
            ck_assert_ptr_nonnull(v[i]);
            memset(v[i], 0xff, hl_usable_size(h, v[i]));
        }
        for (int i = 0; i < N; i++) {
            int k = (int)((i * 7919u) % N);
            hl_free(h, v[k]);
        }
        for (int i = 0; i < N; i++) {
            v[i] = hl_calloc(h, len[i], 1);
            ck_assert_ptr_nonnull(v[i]);
            long nz = tl_first_nonzero(v[i], len[i]);
            ck_assert_msg(nz < 0, "calloc(%zu): byte %ld is not zero", len[i], nz);
        }
        TL_CHECK(h);
        for (int i = 0; i < N; i++)
            hl_free(h, v[i]);

        /* calloc of nothing is still a unique, freeable pointer */
        void *a = hl_calloc(h, 0, 10), *b = hl_calloc(h, 10, 0);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_ptr_ne(a, b);
        hl_free(h, a);
        hl_free(h, b);
        ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
        TL_CHECK(h);
        hl_heap_destroy(h);
    }
}
END_TEST

/* ---- sizes near SIZE_MAX --------------------------------------------------------- */

static const size_t huge_sizes[] = {
    SIZE_MAX,         SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2, (size_t)PTRDIFF_MAX + 1,
    (size_t)PTRDIFF_MAX, (size_t)1 << 48,
};

/* expr (an allocation of about n bytes) fails with ENOMEM */
#define EXPECT_ENOMEM(expr, n)                                                                     \
    do {                                                                                           \
        errno = 0;                                                                                 \
        void *r_ = (expr);                                                                         \
        ck_assert_msg(r_ == NULL, "%s (n = %#zx) returned %p", #expr, (size_t)(n), r_);            \
        ck_assert_msg(errno == ENOMEM, "%s (n = %#zx): errno %d, not ENOMEM", #expr, (size_t)(n),  \
                      errno);                                                                      \
    } while (0)

START_TEST(huge_requests_fail_with_enomem)
{
    TL_POLICY(pol);
    struct hl_config cfgs[3] = {config_of(pol), fixed_threshold(pol, 0), config_of(pol)};
    cfgs[2].align = 8;
    for (int c = 0; c < 3; c++) {
        hl_heap *h = tl_heap(&cfgs[c]);
        char *small = hl_malloc(h, 100), *big = hl_malloc(h, 300 * KiB);
        ck_assert_ptr_nonnull(small);
        ck_assert_ptr_nonnull(big);
        tl_fill(small, 100, 1);
        tl_fill(big, 300 * KiB, 2);
        size_t us = hl_usable_size(h, small), ub = hl_usable_size(h, big);
        struct hl_stats before = tl_stats(h);
        for (size_t i = 0; i < sizeof huge_sizes / sizeof huge_sizes[0]; i++) {
            size_t n = huge_sizes[i];
            EXPECT_ENOMEM(hl_malloc(h, n), n);
            EXPECT_ENOMEM(hl_calloc(h, n, 1), n);
            EXPECT_ENOMEM(hl_calloc(h, 1, n), n);
            EXPECT_ENOMEM(hl_realloc(h, NULL, n), n);
            EXPECT_ENOMEM(hl_realloc(h, small, n), n);
            EXPECT_ENOMEM(hl_realloc(h, big, n), n);
            EXPECT_ENOMEM(hl_memalign(h, 16, n), n);
            EXPECT_ENOMEM(hl_memalign(h, 64, n), n);
            EXPECT_ENOMEM(hl_memalign(h, 4096, n), n);
            EXPECT_ENOMEM(hl_memalign(h, 65536, n), n);
            void *out = &before;
            ck_assert_int_eq(hl_posix_memalign(h, &out, 64, n), ENOMEM);
            ck_assert_ptr_eq(out, &before);
            ck_assert_int_eq(hl_posix_memalign(h, &out, 8192, n), ENOMEM);
            ck_assert_ptr_eq(out, &before);
        }
        /* nmemb * size wraps around: never a small block */
        EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX / 2 + 1, 2), SIZE_MAX);
        EXPECT_ENOMEM(hl_calloc(h, 2, SIZE_MAX / 2 + 1), SIZE_MAX);
        EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX / 16 + 2, 16), SIZE_MAX); /* wraps to 16 */
        EXPECT_ENOMEM(hl_calloc(h, (size_t)1 << 32, (size_t)1 << 32), SIZE_MAX);
        EXPECT_ENOMEM(hl_calloc(h, SIZE_MAX, SIZE_MAX), SIZE_MAX);
        /* an alignment no heap can give */
        EXPECT_ENOMEM(hl_memalign(h, (size_t)1 << 63, 1), 1);
        EXPECT_ENOMEM(hl_memalign(h, (size_t)1 << 40, 1), 1);
        void *out = &before;
        ck_assert_int_eq(hl_posix_memalign(h, &out, (size_t)1 << 63, 1), ENOMEM);
        ck_assert_ptr_eq(out, &before);

        struct hl_stats after = tl_stats(h);
        TL_STATS_EQ(before, after); /* nothing was allocated, nothing moved */
        ck_assert_uint_eq(hl_usable_size(h, small), us);
        ck_assert_uint_eq(hl_usable_size(h, big), ub);
        TL_ASSERT_PATTERN(small, 100, 1);
        TL_ASSERT_PATTERN(big, 300 * KiB, 2);
        TL_CHECK(h);
        hl_free(h, small);
        hl_free(h, big);
        TL_CHECK(h);
        hl_heap_destroy(h);
    }
}
END_TEST

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
        ck_assert_ptr_nonnull(v[i]);
        ck_assert_msg((uintptr_t)v[i] % align == 0, "%p (n = %zu) is not %zu-aligned", (void *)v[i], n, align);
        odd16 += ((uintptr_t)v[i] & 15) != 0;
        tl_fill(v[i], n, (uint64_t)i);
    }
    if (align == 8 && tl_core_mechanism(hl_heap_policy(h)))
        ck_assert_msg(odd16 > 0, "an align=8 heap never returned an 8-but-not-16-aligned block");
    TL_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, v[i]);
    TL_CHECK(h);
}

START_TEST(results_are_aligned)
{
    TL_POLICY(pol);
    struct hl_config cfg = config_of(pol);
    hl_heap *h = tl_heap(&cfg);
    check_aligned(h, 16);
    hl_heap_destroy(h);
    cfg.align = 8;
    h = tl_heap(&cfg);
    check_aligned(h, 8);
    hl_heap_destroy(h);
}
END_TEST

/* ---- memalign / posix_memalign --------------------------------------------------- */

START_TEST(posix_memalign_rejects_bad_alignments)
{
    TL_POLICY(pol);
    static const size_t bad[] = {0, 1, 2, 3, sizeof(void *) / 2, 5, 6, 7, 12, 24, 48, 96, 100, 4095, 4097,
                                 SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 2 + 2};
    hl_heap *h = tl_default_heap(pol);
    struct hl_stats before = tl_stats(h);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *out = &before;
        ck_assert_msg(hl_posix_memalign(h, &out, bad[i], 100) == EINVAL, "posix_memalign(%zu) is not EINVAL",
                      bad[i]);
        ck_assert_ptr_eq(out, &before);
        ck_assert_int_eq(hl_posix_memalign(h, &out, bad[i], 0), EINVAL);
        if (bad[i] == 0 || (bad[i] & (bad[i] - 1))) { /* memalign only needs a power of two */
            errno = 0;
            ck_assert_ptr_null(hl_memalign(h, bad[i], 100));
            ck_assert_int_eq(errno, EINVAL);
        }
    }
    struct hl_stats after = tl_stats(h);
    TL_STATS_EQ(before, after);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

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
                ck_assert_int_eq(hl_posix_memalign(h, &p, align, n), 0);
            } else {
                p = hl_memalign(h, align, n);
            }
            ck_assert_msg(p != NULL, "memalign(%zu, %zu) failed", align, n);
            ck_assert_msg((uintptr_t)p % align == 0, "memalign(%zu, %zu) = %p", align, n, p);
            ck_assert_uint_ge(hl_usable_size(h, p), n);
            tl_fill(p, hl_usable_size(h, p), id);
            v[a][s] = p;
        }
    }
    TL_CHECK(h);
    /* free in a scrambled order: every other one first, so neighbours coalesce later */
    for (int pass = 0; pass < 2; pass++) {
        id = 0;
        for (int a = 0; a <= NA; a++)
            for (int s = 0; s < NS; s++, id++) {
                if ((int)(id % 2) != pass)
                    continue;
                TL_ASSERT_PATTERN(v[a][s], hl_usable_size(h, v[a][s]), id);
                hl_free(h, v[a][s]);
            }
        TL_CHECK(h);
    }
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
}

START_TEST(memalign_every_power_of_two)
{
    TL_POLICY(pol);
    struct hl_config cfgs[3] = {config_of(pol), fixed_threshold(pol, 0), config_of(pol)};
    cfgs[2].align = 8;
    for (int c = 0; c < 3; c++) {
        hl_heap *h = tl_heap(&cfgs[c]);
        memalign_all(h);
        hl_heap_destroy(h);
    }
}
END_TEST

/* ---- usable size ------------------------------------------------------------------ */

START_TEST(usable_size_covers_the_request)
{
    TL_POLICY(pol);
    static const size_t large[] = {4095, 4096, 10000, 65535, THRESHOLD - 1, THRESHOLD, 500000};
    enum { NSMALL = 2049, NL = sizeof large / sizeof large[0] };
    static char *v[NSMALL + NL];
    struct hl_config cfg = config_of(pol);
    for (int c = 0; c < 2; c++) {
        cfg.align = c ? 8 : 16;
        hl_heap *h = tl_heap(&cfg);
        for (size_t i = 0; i < NSMALL + NL; i++) {
            size_t n = i < NSMALL ? i : large[i - NSMALL];
            v[i] = hl_malloc(h, n);
            ck_assert_ptr_nonnull(v[i]);
            size_t u = hl_usable_size(h, v[i]);
            ck_assert_msg(u >= n, "usable_size %zu < request %zu", u, n);
            tl_fill(v[i], u, i); /* every usable byte */
        }
        TL_CHECK(h);
        for (size_t i = 0; i < NSMALL + NL; i++) {
            TL_ASSERT_PATTERN(v[i], hl_usable_size(h, v[i]), i);
            hl_free(h, v[i]);
        }
        TL_CHECK(h);
        ck_assert_uint_eq(hl_usable_size(h, NULL), 0);
        hl_heap_destroy(h);
    }
}
END_TEST

/* ---- the mmap path ------------------------------------------------------------------ */

START_TEST(mmap_threshold_boundary)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_threshold, THRESHOLD);

    char *below = hl_malloc(h, THRESHOLD - 1);
    ck_assert_ptr_nonnull(below);
    st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_calls, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.live_blocks, 1);

    char *at = hl_malloc(h, THRESHOLD);
    ck_assert_ptr_nonnull(at);
    st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_calls, 1);
    ck_assert_uint_eq(st.mapped_blocks, 1);
    ck_assert_uint_ge(st.mapped_bytes, THRESHOLD);
    ck_assert_uint_eq(st.live_blocks, 1);
    ck_assert_uint_eq(st.heap_bytes, st.extent_bytes + st.mapped_bytes);
    tl_fill(at, THRESHOLD, 1);
    ck_assert_ptr_nonnull(holder(walk_all(h), at, THRESHOLD, HL_BLOCK_MAPPED));
    ck_assert_ptr_nonnull(holder(walk_all(h), below, THRESHOLD - 1, HL_BLOCK_USED));
    TL_CHECK(h);

    hl_free(h, at);
    st = tl_stats(h);
    ck_assert_uint_eq(st.munmap_calls, 1);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.mapped_bytes, 0);
    hl_free(h, below);
    st = tl_stats(h);
    ck_assert_uint_eq(st.munmap_calls, 1);
    ck_assert_uint_eq(st.mmap_calls, 1);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(explicit_threshold_stays_fixed)
{
    TL_POLICY(pol);
    const size_t t = 64 * KiB;
    struct hl_config cfg = fixed_threshold(pol, t);
    hl_heap *h = tl_heap(&cfg);
    for (int round = 0; round < 3; round++) {
        struct hl_stats st0 = tl_stats(h);
        ck_assert_uint_eq(st0.mmap_threshold, t);
        char *a = hl_malloc(h, t - 1), *b = hl_malloc(h, t), *c = hl_malloc(h, 4 * MiB);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_ptr_nonnull(c);
        struct hl_stats st = tl_stats(h);
        ck_assert_uint_eq(st.mmap_calls, st0.mmap_calls + 2);
        ck_assert_uint_eq(st.mapped_blocks, 2);
        hl_free(h, c); /* a mapped block far bigger than the threshold */
        hl_free(h, b);
        hl_free(h, a);
        st = tl_stats(h);
        ck_assert_uint_eq(st.munmap_calls, st0.munmap_calls + 2);
        ck_assert_uint_eq(st.mmap_threshold, t);
    }
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(dynamic_threshold_rises_like_glibc)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *small_mapped = hl_malloc(h, 150 * KiB), *big = hl_malloc(h, 200 * KiB);
    ck_assert_ptr_nonnull(small_mapped);
    ck_assert_ptr_nonnull(big);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.mapped_blocks, 2);
    ck_assert_uint_eq(st.mmap_threshold, THRESHOLD);

    hl_free(h, big);
    st = tl_stats(h);
    uint64_t raised = st.mmap_threshold;
    ck_assert_uint_ge(raised, 200 * KiB);
    ck_assert_uint_le(raised, 200 * KiB + 64 * KiB); /* the freed block's size, give or take a page */

    /* a mapped block smaller than the new threshold does not move it */
    hl_free(h, small_mapped);
    ck_assert_uint_eq(tl_stats(h).mmap_threshold, raised);

    /* the size that was mapped before is now served from the heap */
    uint64_t maps = tl_stats(h).mmap_calls;
    char *again = hl_malloc(h, 200 * KiB);
    ck_assert_ptr_nonnull(again);
    st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_calls, maps);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.live_blocks, 1);
    ck_assert_ptr_nonnull(holder(walk_all(h), again, 200 * KiB, HL_BLOCK_USED));

    /* at or above the new threshold: mapped */
    char *over = hl_malloc(h, (size_t)raised);
    ck_assert_ptr_nonnull(over);
    ck_assert_uint_eq(tl_stats(h).mmap_calls, maps + 1);
    hl_free(h, over);

    /* glibc's ceiling: freeing a block above 32 MiB does not raise it */
    raised = tl_stats(h).mmap_threshold;
    char *huge = hl_malloc(h, HL_MAX_DYN_MMAP_THRESHOLD + 4 * MiB);
    ck_assert_ptr_nonnull(huge);
    hl_free(h, huge);
    ck_assert_uint_eq(tl_stats(h).mmap_threshold, raised);
    hl_free(h, again);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(threshold_zero_means_no_mmap)
{
    TL_POLICY(pol);
    struct hl_config cfg = config_of(pol);
    cfg.mmap_threshold = 0;
    hl_heap *h = tl_heap(&cfg);
    ck_assert_uint_eq(tl_stats(h).mmap_threshold, 0);
    size_t cap = hl_heap_max_request(h);
    if (cap < 16 * MiB) {
        /* a policy with a block-size cap: up to the cap stays in the heap
         * (well above the default threshold), past it is mapped */
        ck_assert_uint_gt(cap, THRESHOLD);
        char *in = hl_malloc(h, cap), *out = hl_malloc(h, cap + 1);
        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_nonnull(out);
        struct hl_stats st = tl_stats(h);
        ck_assert_uint_eq(st.mmap_calls, 1);
        ck_assert_uint_eq(st.mapped_blocks, 1);
        ck_assert_ptr_nonnull(holder(walk_all(h), in, cap, HL_BLOCK_USED));
        hl_free(h, in);
        hl_free(h, out);
        TL_CHECK(h);
        hl_heap_destroy(h);
        return;
    }
    char *p = hl_malloc(h, 4 * MiB);
    char *q = hl_memalign(h, 4096, 1 * MiB);
    char *r = hl_calloc(h, 1, 2 * MiB);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(r);
    tl_fill(p, 4 * MiB, 1);
    tl_fill(q, 1 * MiB, 2);
    p = hl_realloc(h, p, 16 * MiB);
    ck_assert_ptr_nonnull(p);
    TL_ASSERT_PATTERN(p, 4 * MiB, 1);
    TL_ASSERT_PATTERN(q, 1 * MiB, 2);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.mmap_calls, 0);
    ck_assert_uint_eq(st.mremap_calls, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_ge(st.live_bytes, 19 * MiB);
    char *base = hl_heap_base(h);
    ck_assert(p >= base && p + 16 * MiB <= base + st.extent_bytes);
    TL_CHECK(h);
    hl_free(h, p);
    hl_free(h, q);
    hl_free(h, r);
    /* freeing heap blocks never raises a threshold that is off */
    ck_assert_uint_eq(tl_stats(h).mmap_threshold, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- running out -------------------------------------------------------------------- */

START_TEST(small_region_runs_out_and_recovers)
{
    TL_POLICY(pol);
    struct hl_config cfg = fixed_threshold(pol, 0);
    cfg.region_capacity = 1 * MiB;
    hl_heap *h = tl_heap(&cfg);
    enum { MAXN = 200 };
    char *v[MAXN];
    int n = 0;
    for (;;) {
        ck_assert_int_lt(n, MAXN);
        errno = 0;
        v[n] = hl_malloc(h, 10000);
        if (!v[n])
            break;
        tl_fill(v[n], 10000, (uint64_t)n);
        n++;
    }
    ck_assert_int_eq(errno, ENOMEM);
    struct hl_stats full = tl_stats(h);
    if (tl_core_mechanism(pol))
        ck_assert_int_ge(n, 90); /* ~1 MiB / 10 KiB: the capacity was used, not a fraction of it */
    else
        ck_assert_uint_ge(full.extent_bytes, 1 * MiB / 2); /* grows in bigger steps, still used most */
    ck_assert_uint_le(full.extent_bytes, 1 * MiB);

    /* still failing cleanly, and nothing changes (past a policy's block-size
     * cap a request would be mapped, so stay at or below it) */
    const size_t m = hl_heap_max_request(h) < 4 * MiB ? hl_heap_max_request(h) / 2 : 2 * MiB;
    EXPECT_ENOMEM(hl_malloc(h, m), m);
    EXPECT_ENOMEM(hl_calloc(h, 1, m), m);
    EXPECT_ENOMEM(hl_memalign(h, 4096, m), m);
    EXPECT_ENOMEM(hl_realloc(h, v[0], m), m);
    struct hl_stats again = tl_stats(h);
    TL_STATS_EQ(full, again);
    TL_CHECK(h);

    /* free every other block: smaller requests fit in the holes */
    for (int i = 0; i < n; i += 2) {
        TL_ASSERT_PATTERN(v[i], 10000, (uint64_t)i);
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    for (int i = 0; i < n; i += 2) {
        v[i] = hl_malloc(h, 5000);
        ck_assert_msg(v[i] != NULL, "malloc(5000) into a 10000-byte hole failed");
        tl_fill(v[i], 5000, 100000 + (uint64_t)i);
    }
    TL_CHECK(h);
    for (int i = 0; i < n; i++) {
        TL_ASSERT_PATTERN(v[i], i % 2 ? 10000 : 5000, i % 2 ? (uint64_t)i : 100000 + (uint64_t)i);
        hl_free(h, v[i]);
    }
    TL_CHECK(h);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
    if (!tl_core_mechanism(pol) || hl_heap_max_request(h) < 900 * KiB) {
        hl_heap_destroy(h);
        return;
    }
    /* everything coalesced: most of the capacity is one block again */
    char *big = hl_malloc(h, 900 * KiB);
    ck_assert_ptr_nonnull(big);
    tl_fill(big, 900 * KiB, 7);
    TL_CHECK(h);
    hl_free(h, big);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the stress test ------------------------------------------------------------------ */

/*
 * A stress test, not a benchmark: nothing here is timed.  A fixed-seed
 * random sequence of malloc/calloc/memalign/realloc/free over a heap with a
 * fixed mmap threshold; every block carries its own byte pattern, verified
 * when it is reallocated or freed and every few thousand operations; the
 * checker runs every STRESS_CHECK_EVERY operations and at the end.
 */
enum { STRESS_OPS = 100000, STRESS_SLOTS = 1024, STRESS_CHECK_EVERY = 1000, STRESS_VERIFY_EVERY = 5000 };

struct slot {
    char *p;
    size_t n;
    uint64_t id;
};

/* Heavy tail: half tiny, a few percent at tens of KiB, under 1% at or above
 * the mmap threshold (up to 1 MiB). */
static size_t stress_size(struct tl_rng *r)
{
    size_t k = tl_below(r, 1000);
    if (k < 500)
        return tl_below(r, 65);
    if (k < 800)
        return 64 + tl_below(r, 960);
    if (k < 950)
        return 1024 + tl_below(r, 15 * KiB);
    if (k < 992)
        return 16 * KiB + tl_below(r, 112 * KiB);
    return THRESHOLD + tl_below(r, 896 * KiB);
}

static void stress_checkpoint(hl_heap *h, const struct slot *s, size_t live, int verify, long op)
{
    int v = hl_check(h, stderr);
    ck_assert_msg(v == 0, "%s: hl_check found %d violations after %ld operations", hl_heap_policy(h)->name, v, op);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks + st.mapped_blocks, live);
    if (verify)
        for (int i = 0; i < STRESS_SLOTS; i++)
            if (s[i].p)
                TL_ASSERT_PATTERN(s[i].p, s[i].n, s[i].id);
}

START_TEST(random_operations_keep_the_heap_consistent)
{
    TL_POLICY(pol);
    struct hl_config cfg = fixed_threshold(pol, THRESHOLD);
    hl_heap *h = tl_heap(&cfg);
    static struct slot s[STRESS_SLOTS];
    memset(s, 0, sizeof s);
    struct tl_rng r = {20240601};
    uint64_t next_id = 1;
    size_t live = 0;
    for (long op = 1; op <= STRESS_OPS; op++) {
        struct slot *x = &s[tl_below(&r, STRESS_SLOTS)];
        size_t k = tl_below(&r, 100);
        if (!x->p) {
            size_t n = stress_size(&r);
            if (k < 60) {
                x->p = hl_malloc(h, n);
            } else if (k < 80) {
                x->p = hl_calloc(h, 1, n);
                ck_assert_ptr_nonnull(x->p);
                ck_assert_msg(tl_first_nonzero(x->p, n) < 0, "calloc(%zu) not zeroed", n);
            } else {
                size_t align = (size_t)8 << tl_below(&r, 10); /* 8 .. 4096 */
                x->p = hl_memalign(h, align, n);
                ck_assert_ptr_nonnull(x->p);
                ck_assert_msg((uintptr_t)x->p % align == 0, "memalign(%zu) gave %p", align, (void *)x->p);
            }
            ck_assert_msg(x->p != NULL, "allocation of %zu bytes failed at op %ld", n, op);
            ck_assert_uint_ge(hl_usable_size(h, x->p), n);
            x->n = n;
            x->id = next_id++;
            tl_fill(x->p, n, x->id);
            live++;
        } else if (k < 55) {
            TL_ASSERT_PATTERN(x->p, x->n, x->id);
            hl_free(h, x->p);
            x->p = NULL;
            live--;
        } else {
            TL_ASSERT_PATTERN(x->p, x->n, x->id);
            size_t n = tl_below(&r, 100) < 3 ? 0 : stress_size(&r);
            char *q = hl_realloc(h, x->p, n);
            if (n == 0) {
                ck_assert_ptr_null(q);
                x->p = NULL;
                live--;
            } else {
                ck_assert_msg(q != NULL, "realloc to %zu bytes failed at op %ld", n, op);
                TL_ASSERT_PATTERN(q, min_size(x->n, n), x->id);
                x->p = q;
                x->n = n;
                x->id = next_id++;
                tl_fill(q, n, x->id);
            }
        }
        if (op % STRESS_CHECK_EVERY == 0)
            stress_checkpoint(h, s, live, op % STRESS_VERIFY_EVERY == 0, op);
    }
    stress_checkpoint(h, s, live, 1, STRESS_OPS);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_gt(st.mmap_calls, 0); /* the tail did reach the mmap path */
    for (int i = 0; i < STRESS_SLOTS; i++)
        hl_free(h, s[i].p);
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- misuse that must abort ------------------------------------------------------------- */

/*
 * heaplab's diagnosis goes to stderr, which these tests send to a
 * temporary file; a SIGABRT handler checks it names the misuse expected
 * and lets the abort proceed (else it exits 3: no signal, the test fails).
 * So the test passes only when heaplab itself caught the misuse.
 */
static int diag_fd = -1;
static const char *diag_expect;

static void check_diagnosis(int sig)
{
    (void)sig;
    char buf[512];
    ssize_t n = pread(diag_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        _exit(3);
    buf[n] = 0;
    if (!strstr(buf, diag_expect))
        _exit(3);
    /* returning lets abort() go on and kill the process with SIGABRT */
}

static void expect_abort(const char *diagnosis)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    diag_fd = dup(fileno(f));
    ck_assert_int_ge(diag_fd, 0);
    diag_expect = diagnosis;
    fflush(stderr);
    ck_assert_int_eq(dup2(diag_fd, 2), 2);
    signal(SIGABRT, check_diagnosis);
}

START_TEST(double_free_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    hl_free(h, p);
    expect_abort("free(): double free");
    hl_free(h, p);
    ck_abort_msg("double free was not detected");
}
END_TEST

START_TEST(free_of_interior_pointer_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *p = hl_malloc(h, 256), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    /* zeros in front of the pointer: whatever the tag says, the USED bit is clear */
    memset(p, 0, 256);
    expect_abort("heaplab: free(): ");
    hl_free(h, p + 32);
    ck_abort_msg("free of a pointer into a block was not detected");
}
END_TEST

START_TEST(free_after_header_overrun_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    ck_assert_ptr_eq(b, a + hl_usable_size(h, a) + 8); /* b's header follows a's payload */
    /* a's owner writes 8 bytes too many: b's header becomes 0x62... (USED clear) */
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    expect_abort("heaplab: free(): ");
    hl_free(h, b);
    ck_abort_msg("free of a block with an overwritten header was not detected");
}
END_TEST

START_TEST(free_of_the_overrunning_block_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    ck_assert_ptr_eq(b, a + hl_usable_size(h, a) + 8);
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    /* freeing a looks at the header after it to coalesce (a buddy system
     * at its buddy's, which is the next block here) */
    expect_abort("heap corruption");
    hl_free(h, a);
    ck_abort_msg("an overrun into the next header was not detected on free");
}
END_TEST

START_TEST(double_free_after_coalescing_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    hl_free(h, a);
    hl_free(h, b); /* b merges into a: b's header is gone */
    ck_assert_uint_eq(tl_stats(h).live_blocks, 1);
    TL_CHECK(h);
    expect_abort("free(): double free");
    hl_free(h, b);
    ck_abort_msg("double free of a coalesced block was not detected");
}
END_TEST

START_TEST(double_free_after_forward_coalescing_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    hl_free(h, b);
    hl_free(h, a); /* a absorbs b */
    TL_CHECK(h);
    expect_abort("free(): double free");
    hl_free(h, b);
    ck_abort_msg("double free of an absorbed block was not detected");
}
END_TEST

START_TEST(realloc_of_freed_pointer_aborts)
{
    TL_POLICY(pol);
    hl_heap *h = tl_default_heap(pol);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    ck_assert_ptr_nonnull(guard);
    hl_free(h, p);
    expect_abort("realloc(): pointer already freed");
    void *q = hl_realloc(h, p, 200);
    ck_abort_msg("realloc of a freed pointer was not detected (returned %p)", q);
}
END_TEST

/* ---- the sbrk source next to glibc's malloc --------------------------------------------------- */

struct range {
    char *lo, *hi;
};

static int overlaps(struct range a, struct range b) { return a.lo < b.hi && b.lo < a.hi; }

/*
 * Runs in its own process (Check's fork mode), so the break games stay
 * here.  glibc's malloc below its mmap threshold moves the break too; the
 * test also moves it itself now and then (by an amount that is not a
 * multiple of 16, as a program calling sbrk may).  heaplab must start a new
 * segment exactly when someone else moved the break since its own last
 * growth, never otherwise, never hand out memory it does not own, and never
 * give back memory above or below its own when it trims.
 */
START_TEST(sbrk_heap_beside_libc_malloc)
{
    TL_POLICY(pol);
    struct hl_config cfg = config_of(pol);
    cfg.source = HL_SOURCE_SBRK;
    cfg.mmap_threshold = 0; /* everything from the break */
    hl_heap *h = tl_heap(&cfg);

    enum { N = 48, GN = 60 * 1024, FN = 4100 };
    char *hp[N], *gp[N], *fp[N];
    size_t hn[N];
    struct range foreign[2 * N];
    int nforeign = 0, moved_by_others = 0;
    char *heaplab_end = NULL; /* where heaplab's last growth left the break */
    uint64_t segs = 0;
    char *start_brk = sbrk(0);

    for (int i = 0; i < N; i++) {
        hn[i] = 16000 + 997 * (size_t)i;
        char *b0 = sbrk(0);
        hp[i] = hl_malloc(h, hn[i]);
        char *b1 = sbrk(0);
        ck_assert_ptr_nonnull(hp[i]);
        tl_fill(hp[i], hn[i], (uint64_t)i);
        struct hl_stats st = tl_stats(h);
        if (b1 != b0) {
            /* heaplab grew: a new segment iff the break was not where it left it */
            int foreign_move = heaplab_end != NULL && b0 != heaplab_end;
            moved_by_others += foreign_move;
            ck_assert_msg(st.segments == segs + (uint64_t)(foreign_move || heaplab_end == NULL),
                          "op %d: %llu segments, was %llu; break moved by others: %d", i,
                          (unsigned long long)st.segments, (unsigned long long)segs, foreign_move);
            heaplab_end = b1;
        } else {
            ck_assert_uint_eq(st.segments, segs);
        }
        segs = st.segments;

        gp[i] = malloc(GN); /* below glibc's mmap threshold: from the break */
        ck_assert_ptr_nonnull(gp[i]);
        tl_fill(gp[i], GN, 1000 + (uint64_t)i);
        foreign[nforeign++] = (struct range){gp[i], gp[i] + GN};
        fp[i] = NULL;
        if (i % 6 == 5) {
            fp[i] = sbrk(FN);
            ck_assert_ptr_ne(fp[i], (void *)-1);
            tl_fill(fp[i], FN, 2000 + (uint64_t)i);
            foreign[nforeign++] = (struct range){fp[i], fp[i] + FN};
        }
    }
    ck_assert_int_gt(moved_by_others, 0);
    ck_assert_uint_gt(segs, 1);

    /* nothing heaplab handed out overlaps anything it does not own */
    for (int i = 0; i < N; i++) {
        struct range r = {hp[i], hp[i] + hn[i]};
        for (int k = 0; k < nforeign; k++)
            ck_assert_msg(!overlaps(r, foreign[k]), "heaplab block %p overlaps foreign memory %p", (void *)hp[i],
                          (void *)foreign[k].lo);
    }
    struct blocks *bl = walk_all(h);
    for (int i = 0; i < N; i++)
        ck_assert_ptr_nonnull(holder(bl, hp[i], hn[i], HL_BLOCK_USED));
    TL_CHECK(h);

    /* a last heaplab block at the very top, so there is something to trim */
    char *top = hl_malloc(h, 512 * KiB);
    ck_assert_ptr_nonnull(top);
    /* the end of the highest foreign memory taken from the break (under
     * a sanitizer glibc's malloc is replaced by one that maps its memory
     * elsewhere: only the test's own sbrk calls count then) */
    char *foreign_top = NULL;
    for (int k = 0; k < nforeign; k++)
        if (foreign[k].lo >= start_brk && foreign[k].hi <= (char *)sbrk(0) && foreign[k].hi > foreign_top)
            foreign_top = foreign[k].hi;
    ck_assert_ptr_nonnull(foreign_top);
    ck_assert(top >= foreign_top);

    uint64_t shrinks = tl_stats(h).shrink_calls;
    hl_free(h, top);
    if (tl_core_mechanism(pol))
        ck_assert_uint_gt(tl_stats(h).shrink_calls, shrinks);
    for (int i = 0; i < N; i++) {
        TL_ASSERT_PATTERN(hp[i], hn[i], (uint64_t)i);
        hl_free(h, hp[i]);
        ck_assert_msg((char *)sbrk(0) >= foreign_top, "trim gave back memory above a foreign block");
    }
    ck_assert((char *)sbrk(0) >= foreign_top);
    TL_CHECK(h);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);

    /* the foreign memory is intact and still ours to use */
    for (int i = 0; i < N; i++) {
        TL_ASSERT_PATTERN(gp[i], GN, 1000 + (uint64_t)i);
        if (fp[i])
            TL_ASSERT_PATTERN(fp[i], FN, 2000 + (uint64_t)i);
    }
    for (int i = 0; i < N; i++)
        free(gp[i]);
    hl_heap_destroy(h);
}
END_TEST

/* ---- several heaps in one process ------------------------------------------------------------ */

enum { SIDE_HEAPS = 3, SIDE_SLOTS = 300, SIDE_OPS = 30000 };

static struct slot side[SIDE_HEAPS][SIDE_SLOTS];

static void side_ownership(hl_heap *const *hs)
{
    struct range extent[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++) {
        char *base = hl_heap_base(hs[k]);
        extent[k] = (struct range){base, base + tl_stats(hs[k]).extent_bytes};
        for (int j = 0; j < k; j++)
            ck_assert(!overlaps(extent[j], extent[k]));
    }
    for (int k = 0; k < SIDE_HEAPS; k++) {
        TL_CHECK(hs[k]);
        struct blocks *bl = walk_all(hs[k]);
        size_t used = 0, mapped = 0;
        for (size_t i = 0; i < bl->n; i++) {
            used += bl->b[i].state == HL_BLOCK_USED;
            mapped += bl->b[i].state == HL_BLOCK_MAPPED;
        }
        size_t live = 0;
        for (int s = 0; s < SIDE_SLOTS; s++) {
            struct slot *x = &side[k][s];
            if (!x->p)
                continue;
            live++;
            TL_ASSERT_PATTERN(x->p, x->n, x->id);
            if (holder(bl, x->p, x->n, HL_BLOCK_MAPPED))
                continue;
            ck_assert_msg(holder(bl, x->p, x->n, HL_BLOCK_USED) != NULL, "heap %d does not hold its block %p", k,
                          (void *)x->p);
            struct range r = {x->p, x->p + x->n};
            ck_assert(x->p >= extent[k].lo && r.hi <= extent[k].hi);
            for (int j = 0; j < SIDE_HEAPS; j++)
                ck_assert(j == k || !overlaps(r, extent[j]));
        }
        ck_assert_uint_eq(used + mapped, live);
    }
}

START_TEST(heaps_side_by_side_share_nothing)
{
    TL_POLICY(pol);
    size_t np = hl_policy_count();
    struct hl_config cfg[SIDE_HEAPS];
    cfg[0] = config_of(pol);
    cfg[1] = fixed_threshold(hl_policy_at(((size_t)_i + 1) % np), 64 * KiB);
    cfg[1].align = 8;
    cfg[2] = fixed_threshold(hl_policy_at(((size_t)_i + 2) % np), 0);
    cfg[2].lock = 0;
    hl_heap *hs[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++)
        hs[k] = tl_heap(&cfg[k]);
    memset(side, 0, sizeof side);
    struct tl_rng r = {99};
    uint64_t id = 1;
    for (int op = 1; op <= SIDE_OPS; op++) {
        int k = (int)tl_below(&r, SIDE_HEAPS);
        hl_heap *h = hs[k];
        struct slot *x = &side[k][tl_below(&r, SIDE_SLOTS)];
        size_t n = tl_below(&r, 50) == 0 ? 60 * KiB + tl_below(&r, 100 * KiB) : tl_below(&r, 3000);
        if (!x->p) {
            x->p = tl_below(&r, 4) ? hl_malloc(h, n) : hl_memalign(h, 64, n);
            ck_assert_ptr_nonnull(x->p);
            x->n = n;
            x->id = id++;
            tl_fill(x->p, n, x->id);
        } else if (tl_below(&r, 2)) {
            TL_ASSERT_PATTERN(x->p, x->n, x->id);
            hl_free(h, x->p);
            x->p = NULL;
        } else {
            TL_ASSERT_PATTERN(x->p, x->n, x->id);
            n += 1;
            char *q = hl_realloc(h, x->p, n);
            ck_assert_ptr_nonnull(q);
            TL_ASSERT_PATTERN(q, min_size(n, x->n), x->id);
            x->p = q;
            x->n = n;
            x->id = id++;
            tl_fill(q, n, x->id);
        }
        if (op % 3000 == 0)
            side_ownership(hs);
    }
    side_ownership(hs);
    for (int k = 0; k < SIDE_HEAPS; k++) {
        for (int s = 0; s < SIDE_SLOTS; s++)
            hl_free(hs[k], side[k][s].p);
        ck_assert_uint_eq(tl_stats(hs[k]).live_blocks, 0);
        TL_CHECK(hs[k]);
        hl_heap_destroy(hs[k]);
    }
}
END_TEST

/* ---- the walk --------------------------------------------------------------------------------- */

static int stop_after_five(const struct hl_block_info *bi, void *arg)
{
    (void)bi;
    return ++*(int *)arg == 5 ? 7 : 0;
}

START_TEST(walk_visits_every_block)
{
    TL_POLICY(pol);
    struct hl_config cfg = fixed_threshold(pol, 64 * KiB);
    hl_heap *h = tl_heap(&cfg);
    enum { N = 300 };
    char *v[N];
    size_t len[N];
    struct tl_rng r = {5};
    for (int i = 0; i < N; i++) {
        len[i] = i % 50 == 49 ? 100 * KiB : 1 + tl_below(&r, 5000);
        v[i] = i % 7 == 3 ? hl_memalign(h, 256, len[i]) : hl_malloc(h, len[i]);
        ck_assert_ptr_nonnull(v[i]);
    }
    for (int i = 0; i < N; i += 3) {
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    struct hl_stats st = tl_stats(h);
    struct blocks *bl = walk_all(h);
    ck_assert_uint_gt(bl->n, 0);

    uint64_t bytes[4] = {0}, count[4] = {0};
    const struct hl_block_info *prev = NULL;
    int seen_mapped = 0;
    for (size_t i = 0; i < bl->n; i++) {
        const struct hl_block_info *b = &bl->b[i];
        ck_assert_uint_le(b->header_bytes, b->size);
        bytes[b->state] += b->size;
        count[b->state]++;
        if (b->state == HL_BLOCK_MAPPED) {
            seen_mapped = 1;
            continue;
        }
        ck_assert_msg(!seen_mapped, "heap block %p reported after the mapped blocks", b->addr);
        if (i == 0)
            ck_assert_ptr_eq(b->addr, hl_heap_base(h)); /* region source: no bytes lost to alignment */
        else
            ck_assert_msg((char *)prev->addr + prev->size == (char *)b->addr, "gap or overlap before %p", b->addr);
        if (tl_core_mechanism(pol))
            ck_assert_msg(!(prev && prev->state == HL_BLOCK_FREE && b->state == HL_BLOCK_FREE),
                          "two adjacent free blocks at %p", b->addr);
        prev = b;
    }
    ck_assert_uint_eq(st.segments, 1);
    ck_assert_uint_eq(bytes[HL_BLOCK_USED] + bytes[HL_BLOCK_FREE] + bytes[HL_BLOCK_META], st.extent_bytes);
    ck_assert_uint_eq(bytes[HL_BLOCK_USED], st.live_bytes);
    ck_assert_uint_eq(count[HL_BLOCK_USED], st.live_blocks);
    ck_assert_uint_eq(bytes[HL_BLOCK_FREE], st.free_bytes);
    ck_assert_uint_eq(bytes[HL_BLOCK_MAPPED], st.mapped_bytes);
    ck_assert_uint_eq(count[HL_BLOCK_MAPPED], st.mapped_blocks);
    ck_assert_uint_gt(count[HL_BLOCK_MAPPED], 0);
    ck_assert_uint_gt(count[HL_BLOCK_FREE], 0);

    size_t live = 0;
    for (int i = 0; i < N; i++) {
        if (!v[i])
            continue;
        live++;
        enum hl_block_state want = len[i] >= 64 * KiB ? HL_BLOCK_MAPPED : HL_BLOCK_USED;
        ck_assert_msg(holder(bl, v[i], len[i], want) != NULL, "no %s block holds %p (%zu bytes)",
                      want == HL_BLOCK_MAPPED ? "mapped" : "used", (void *)v[i], len[i]);
    }
    ck_assert_uint_eq(count[HL_BLOCK_USED] + count[HL_BLOCK_MAPPED], live);

    int seen = 0;
    ck_assert_int_eq(hl_walk(h, stop_after_five, &seen), 7);
    ck_assert_int_eq(seen, 5);
    TL_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, v[i]);
    hl_heap_destroy(h);
}
END_TEST

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
    struct slot s[THREAD_SLOTS];
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
    struct tl_rng r = {1000 + w->id};
    uint64_t id = (uint64_t)w->id << 40;
    pthread_barrier_wait(w->start);
    for (int op = 1; op <= THREAD_OPS; op++) {
        struct slot *x = &w->s[tl_below(&r, THREAD_SLOTS)];
        size_t n = tl_below(&r, 100) == 0 ? THRESHOLD + tl_below(&r, 64 * KiB) : tl_below(&r, 2000);
        if (!x->p) {
            size_t k = tl_below(&r, 3);
            x->p = k == 0 ? hl_malloc(w->h, n) : k == 1 ? hl_calloc(w->h, n, 1) : hl_memalign(w->h, 128, n);
            if (!x->p) {
                worker_fail(w, "allocation failed", NULL, n);
                continue;
            }
            if (k == 1 && tl_first_nonzero(x->p, n) >= 0)
                worker_fail(w, "calloc not zeroed", x->p, n);
            if (k == 2 && (uintptr_t)x->p % 128)
                worker_fail(w, "memalign misaligned", x->p, n);
            if (hl_usable_size(w->h, x->p) < n)
                worker_fail(w, "usable size too small", x->p, n);
            x->n = n;
            x->id = ++id;
            tl_fill(x->p, n, x->id);
            w->live++;
        } else {
            if (tl_verify(x->p, x->n, x->id) >= 0)
                worker_fail(w, "pattern broken", x->p, x->n);
            if (tl_below(&r, 2)) {
                hl_free(w->h, x->p);
                x->p = NULL;
                w->live--;
            } else {
                char *q = hl_realloc(w->h, x->p, n + 1);
                if (!q) {
                    worker_fail(w, "realloc failed", x->p, n + 1);
                    continue;
                }
                if (tl_verify(q, min_size(x->n, n + 1), x->id) >= 0)
                    worker_fail(w, "realloc lost content", q, n + 1);
                x->p = q;
                x->n = n + 1;
                x->id = ++id;
                tl_fill(q, x->n, x->id);
            }
        }
        if (op % 3000 == 0 && hl_check(w->h, stderr) != 0)
            worker_fail(w, "hl_check found violations", NULL, 0);
    }
    return NULL;
}

START_TEST(locking_heap_survives_four_threads)
{
    TL_POLICY(pol);
    struct hl_config cfg = config_of(pol);
    ck_assert_int_eq(cfg.lock, 1);
    hl_heap *h = tl_heap(&cfg);
    static struct worker w[THREADS];
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].h = h;
        w[i].start = &start;
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);

    size_t live = 0;
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(w[i].errors == 0, "%ld errors, the first: %s", w[i].errors, w[i].first_error);
        live += w[i].live;
    }
    TL_CHECK(h);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks + st.mapped_blocks, live);
    for (int i = 0; i < THREADS; i++)
        for (int s = 0; s < THREAD_SLOTS; s++)
            if (w[i].s[s].p) {
                TL_ASSERT_PATTERN(w[i].s[s].p, w[i].s[s].n, w[i].s[s].id);
                hl_free(h, w[i].s[s].p);
            }
    st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------------------- */

static TCase *policy_case(Suite *s, const char *name, double timeout)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

Suite *make_conformance_suite(void)
{
    Suite *s = suite_create("conformance");
    
    TCase *tc = policy_case(s, "contract", 120);
    tcase_add_loop_test(tc, malloc_zero_is_unique_and_free_null_is_noop, 0, hl_policy_count());
    tcase_add_loop_test(tc, realloc_null_mallocs_and_realloc_zero_frees, 0, hl_policy_count());
    tcase_add_loop_test(tc, realloc_keeps_content, 0, hl_policy_count());
    tcase_add_loop_test(tc, realloc_creeps_into_a_free_neighbour, 0, hl_policy_count());
    tcase_add_loop_test(tc, calloc_zeroes_memory_used_before, 0, hl_policy_count());
    tcase_add_loop_test(tc, huge_requests_fail_with_enomem, 0, hl_policy_count());
    tcase_add_loop_test(tc, results_are_aligned, 0, hl_policy_count());
    tcase_add_loop_test(tc, posix_memalign_rejects_bad_alignments, 0, hl_policy_count());
    tcase_add_loop_test(tc, memalign_every_power_of_two, 0, hl_policy_count());
    tcase_add_loop_test(tc, usable_size_covers_the_request, 0, hl_policy_count());

    tc = policy_case(s, "mmap", 60);
    tcase_add_loop_test(tc, mmap_threshold_boundary, 0, hl_policy_count());
    tcase_add_loop_test(tc, explicit_threshold_stays_fixed, 0, hl_policy_count());
    tcase_add_loop_test(tc, dynamic_threshold_rises_like_glibc, 0, hl_policy_count());
    tcase_add_loop_test(tc, threshold_zero_means_no_mmap, 0, hl_policy_count());

    tc = policy_case(s, "exhaustion", 60);
    tcase_add_loop_test(tc, small_region_runs_out_and_recovers, 0, hl_policy_count());

    tc = policy_case(s, "stress", 600);
    tcase_add_loop_test(tc, random_operations_keep_the_heap_consistent, 0, hl_policy_count());

    tc = policy_case(s, "misuse", 60);
    tcase_add_loop_test_raise_signal(tc, double_free_aborts, SIGABRT, tl_loop_begin(), tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, free_of_interior_pointer_aborts, SIGABRT, tl_loop_begin(), tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, free_after_header_overrun_aborts, SIGABRT, tl_loop_begin(), tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, free_of_the_overrunning_block_aborts, SIGABRT, tl_loop_begin(),
                                     tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, double_free_after_coalescing_aborts, SIGABRT, tl_loop_begin(),
                                     tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, double_free_after_forward_coalescing_aborts, SIGABRT, tl_loop_begin(),
                                     tl_loop_end());
    tcase_add_loop_test_raise_signal(tc, realloc_of_freed_pointer_aborts, SIGABRT, tl_loop_begin(), tl_loop_end());

    tc = policy_case(s, "sbrk", 120);
    tcase_add_loop_test(tc, sbrk_heap_beside_libc_malloc, 0, hl_policy_count());

    tc = policy_case(s, "heaps", 120);
    tcase_add_loop_test(tc, heaps_side_by_side_share_nothing, 0, hl_policy_count());
    tcase_add_loop_test(tc, walk_visits_every_block, 0, hl_policy_count());

    tc = policy_case(s, "threads", 300);
    tcase_add_loop_test(tc, locking_heap_survives_four_threads, 0, hl_policy_count());
    return s;
}
