/*
 * check_buddy.c - the binary buddy policy: a fixed-seed random stress with
 * the heap checker run along the way (a correctness test, not a benchmark),
 * splitting and merging back to whole arenas, in-place realloc, the mmap
 * path above the largest order, the run table on the sbrk source,
 * corruption the checker and free must catch, and parameter parsing.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"
#include "testutil.h"
#include "heaplab/policy.h"

#define DEF_MIN 5
#define DEF_MAX 18

static const struct hl_policy *buddy(void)
{
    const struct hl_policy *p = hl_policy_lookup("buddy");
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A buddy heap with orders min..max; mmap_threshold 0 = only the max block
 * limit sends requests to mmap. */
static hl_heap *make(enum hl_source_kind src, long min, long max, size_t mmap_threshold)
{
    struct hl_config cfg;
    long params[HL_MAX_PARAMS] = {min, max};
    hl_config_default(&cfg, buddy());
    cfg.source = src;
    cfg.policy_params = params;
    cfg.mmap_threshold = mmap_threshold;
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    return h;
}

static unsigned long long lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static unsigned char pattern(unsigned seed, size_t i) { return (unsigned char)(seed * 7u + i + (i >> 8)); }

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = pattern(seed, i);
}

static int intact(const void *p, size_t n, unsigned seed)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != pattern(seed, i))
            return 0;
    return 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ---- walking ------------------------------------------------------------- */

struct census {
    size_t count[4], bytes[4];
    size_t free_whole;  /* free blocks of exactly `whole` bytes */
    size_t whole;       /* 2^max */
    size_t bad_headers; /* buddy blocks whose header_bytes is not 8 */
};

static int count_block(const struct hl_block_info *bi, void *arg)
{
    struct census *c = arg;
    c->count[bi->state]++;
    c->bytes[bi->state] += bi->size;
    if (bi->state == HL_BLOCK_FREE && bi->size == c->whole)
        c->free_whole++;
    if ((bi->state == HL_BLOCK_FREE || bi->state == HL_BLOCK_USED) && bi->header_bytes != HL_HDR_BYTES)
        c->bad_headers++;
    return 0;
}

static struct census census(hl_heap *h, unsigned max)
{
    struct census c;
    memset(&c, 0, sizeof c);
    c.whole = (size_t)1 << max;
    hl_walk(h, count_block, &c);
    return c;
}

/* Everything freed: the heap is whole free arenas again (and segment headers). */
static void assert_whole_arenas(hl_heap *h, unsigned max)
{
    struct census c = census(h, max);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(c.count[HL_BLOCK_USED], 0);
    ck_assert_uint_eq(c.count[HL_BLOCK_MAPPED], 0);
    ck_assert_uint_gt(c.count[HL_BLOCK_FREE], 0);
    ck_assert_uint_eq(c.free_whole, c.count[HL_BLOCK_FREE]);
    ck_assert_uint_eq(c.bytes[HL_BLOCK_FREE], st.free_bytes);
    ck_assert_uint_eq(st.live_bytes, 0);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_int_eq(hl_check(h, stderr), 0);
}

/* ---- stress ---------------------------------------------------------------- */

/* Check's ck_assert reports every check that passes to the runner (a
 * message per call in fork mode): far too slow for a loop of 10^5 steps. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                                  \
    } while (0)

struct slot {
    unsigned char *p;
    size_t n;
    unsigned seed;
};

static size_t random_size(unsigned long long *s)
{
    unsigned r = (unsigned)(lcg(s) % 1000);
    if (r < 600)
        return 1 + lcg(s) % 128;
    if (r < 850)
        return 129 + lcg(s) % 3968;
    if (r < 990)
        return 4097 + lcg(s) % 61440;
    return 65537 + lcg(s) % 300000; /* some above 2^max: mmap */
}

struct stress_case {
    enum hl_source_kind src;
    long max;
    int foreign_sbrk; /* move the break behind the heap's back now and then */
};

static const struct stress_case stress_cases[] = {
    {HL_SOURCE_REGION, DEF_MAX, 0},
    {HL_SOURCE_SBRK, DEF_MAX, 0},
    {HL_SOURCE_SBRK, 16, 1},
};

START_TEST(random_stress_checked)
{
    enum { SLOTS = 1500, OPS = 100000, CHECK_EVERY = 1000 };
    const struct stress_case *sc = &stress_cases[_i];
    hl_heap *h = make(sc->src, DEF_MIN, sc->max, HL_DEFAULT_MMAP_THRESHOLD);
    static struct slot slots[SLOTS];
    memset(slots, 0, sizeof slots);
    unsigned long long seed = 20240601ull + (unsigned)_i;
    unsigned gen = 0;
    size_t reallocs = 0, memaligns = 0, callocs = 0;
    for (int op = 1; op <= OPS; op++) {
        struct slot *s = &slots[lcg(&seed) % SLOTS];
        unsigned r = (unsigned)(lcg(&seed) % 100);
        if (!s->p) {
            size_t n = random_size(&seed);
            if (r < 10) {
                size_t align = (size_t)32 << (lcg(&seed) % 8); /* 32 .. 4096 */
                s->p = hl_memalign(h, align, n);
                REQUIRE(s->p != NULL);
                REQUIRE(((uintptr_t)s->p & (align - 1)) == 0);
                memaligns++;
            } else if (r < 20) {
                s->p = hl_calloc(h, 1, n);
                REQUIRE(s->p != NULL);
                REQUIRE(all_zero(s->p, n));
                callocs++;
            } else {
                s->p = hl_malloc(h, n);
                REQUIRE(s->p != NULL);
            }
            REQUIRE(((uintptr_t)s->p & 15) == 0);
            REQUIRE(hl_usable_size(h, s->p) >= n);
            s->n = n;
            s->seed = ++gen;
            fill(s->p, n, s->seed);
        } else if (r < 50) {
            REQUIRE(intact(s->p, s->n, s->seed));
            hl_free(h, s->p);
            s->p = NULL;
        } else {
            REQUIRE(intact(s->p, s->n, s->seed));
            size_t n = r < 52 ? 0 : random_size(&seed);
            unsigned char *q = hl_realloc(h, s->p, n);
            reallocs++;
            if (n == 0) {
                REQUIRE(q == NULL);
                s->p = NULL;
                continue;
            }
            REQUIRE(q != NULL);
            REQUIRE(hl_usable_size(h, q) >= n);
            REQUIRE(intact(q, n < s->n ? n : s->n, s->seed));
            s->p = q;
            s->n = n;
            s->seed = ++gen;
            fill(q, n, s->seed);
        }
        if (sc->foreign_sbrk && op % 5000 == 0)
            REQUIRE(sbrk(40) != (void *)-1); /* 8 mod 16: the next segment needs slack */
        if (op % CHECK_EVERY == 0)
            REQUIRE(hl_check(h, stderr) == 0);
    }
    REQUIRE(reallocs > 10000);
    REQUIRE(memaligns > 1000);
    REQUIRE(callocs > 1000);
    struct hl_stats st;
    hl_stats(h, &st);
    REQUIRE(st.mmap_calls > 0);
    if (sc->foreign_sbrk)
        REQUIRE(st.segments > 1);
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].p) {
            REQUIRE(intact(slots[i].p, slots[i].n, slots[i].seed));
            hl_free(h, slots[i].p);
        }
    }
    assert_whole_arenas(h, (unsigned)sc->max);
    hl_heap_destroy(h);
}
END_TEST

/* ---- split and merge --------------------------------------------------------- */

/* Algorithm R on a fresh heap: the block at the arena's start is used and
 * every upper half on the way down is free, one of each order. */
START_TEST(first_alloc_splits_one_of_each_order)
{
    enum { MAX = 16 };
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, MAX, 0);
    void *p = hl_malloc(h, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(hl_usable_size(h, p), 32 - HL_HDR_BYTES);
    struct census c = census(h, MAX);
    ck_assert_uint_eq(c.count[HL_BLOCK_USED], 1);
    ck_assert_uint_eq(c.bytes[HL_BLOCK_USED], 32);
    ck_assert_uint_eq(c.count[HL_BLOCK_FREE], MAX - DEF_MIN);
    ck_assert_uint_eq(c.bytes[HL_BLOCK_FREE], ((size_t)1 << MAX) - 32);
    ck_assert_uint_eq(c.bad_headers, 0);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, p);
    assert_whole_arenas(h, MAX);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(blocks_of_every_order_merge_back_to_whole_arenas)
{
    enum { MAX = 16, N = 400 };
    static const size_t sizes[] = {1, 24, 25, 56, 57, 100, 248, 1000, 4088, 5000, 30000, 65528};
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, MAX, 0);
    static void *p[N];
    static size_t order[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = sizes[i % nsizes];
        p[i] = hl_malloc(h, n);
        ck_assert_ptr_nonnull(p[i]);
        /* the block is the least power of two holding the header too */
        size_t block = 32;
        while (block < n + HL_HDR_BYTES)
            block *= 2;
        ck_assert_uint_eq(hl_usable_size(h, p[i]), block - HL_HDR_BYTES);
        memset(p[i], (int)i, n);
        order[i] = i;
    }
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_gt(st.extent_bytes, (size_t)4 << MAX); /* several arenas */
    ck_assert_int_eq(hl_check(h, stderr), 0);
    unsigned long long seed = 7;
    for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = lcg(&seed) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < N; i++) {
        hl_free(h, p[order[i]]);
        if (i % 16 == 0)
            ck_assert_int_eq(hl_check(h, stderr), 0);
    }
    assert_whole_arenas(h, MAX);
    struct census c = census(h, MAX);
    hl_stats(h, &st);
    ck_assert_uint_eq((uint64_t)c.free_whole << MAX, st.free_bytes);
    hl_heap_destroy(h);
}
END_TEST

/* ---- in-place realloc ---------------------------------------------------------- */

START_TEST(realloc_grows_into_free_buddies_and_moves_when_the_buddy_is_used)
{
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    unsigned char *p = hl_malloc(h, 24); /* 32 bytes at the arena's start */
    fill(p, 24, 1);
    ck_assert_ptr_eq(hl_realloc(h, p, 40), p); /* absorbs the free 32-byte buddy */
    ck_assert_uint_eq(hl_usable_size(h, p), 56);
    ck_assert_ptr_eq(hl_realloc(h, p, 1000), p); /* 64 -> 1024: four more buddies */
    ck_assert_uint_eq(hl_usable_size(h, p), 1016);
    ck_assert(intact(p, 24, 1));
    fill(p, 1000, 2);
    ck_assert_int_eq(hl_check(h, stderr), 0);

    void *x = hl_malloc(h, 1000); /* the 1024-byte buddy */
    ck_assert_ptr_eq(x, p + 1024);
    unsigned char *q = hl_realloc(h, p, 1500);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_ne(q, p);
    ck_assert(intact(q, 1000, 2));
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* an upper buddy never grows in place, even with its lower buddy free */
    unsigned char *a = hl_malloc(h, 24), *b = hl_malloc(h, 24);
    ck_assert_ptr_eq(b, a + 32);
    hl_free(h, a);
    fill(b, 24, 3);
    unsigned char *b2 = hl_realloc(h, b, 50);
    ck_assert_ptr_ne(b2, b);
    ck_assert(intact(b2, 24, 3));
    ck_assert_int_eq(hl_check(h, stderr), 0);

    hl_free(h, x);
    hl_free(h, q);
    hl_free(h, b2);
    assert_whole_arenas(h, 16);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_shrinks_in_place_and_frees_the_upper_halves)
{
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    unsigned char *p = hl_malloc(h, 5000); /* 8192 bytes */
    fill(p, 5000, 4);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, 8192);
    ck_assert_ptr_eq(hl_realloc(h, p, 100), p);
    ck_assert_uint_eq(hl_usable_size(h, p), 120);
    ck_assert(intact(p, 100, 4));
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, 128);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    /* the upper 4096 bytes of the old block are a free block of their own */
    void *q = hl_malloc(h, 4000);
    ck_assert_ptr_eq(q, p + 4096);
    hl_free(h, q);
    hl_free(h, p);
    assert_whole_arenas(h, 16);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the mmap path --------------------------------------------------------------- */

START_TEST(blocks_above_the_max_order_are_mmapped)
{
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0); /* no threshold: only the order limit */
    struct hl_stats st;
    void *a = hl_malloc(h, 65528); /* 65536 with the header: the largest heap block */
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.live_bytes, 65536);
    void *b = hl_malloc(h, 65529);
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 1);
    ck_assert_uint_eq(st.mmap_calls, 1);
    ck_assert_uint_eq(st.live_bytes, 65536);
    void *c = hl_memalign(h, 4096, 62000); /* fits 2^16 only without the alignment slack */
    ck_assert_uint_eq((uintptr_t)c & 4095, 0);
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 2);
    /* realloc beyond the largest order moves the block to a mapping */
    unsigned char *d = hl_malloc(h, 1000);
    fill(d, 1000, 5);
    d = hl_realloc(h, d, 100000);
    ck_assert(intact(d, 1000, 5));
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 3);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, a);
    hl_free(h, b);
    hl_free(h, c);
    hl_free(h, d);
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    assert_whole_arenas(h, 16);
    hl_heap_destroy(h);
}
END_TEST

/* With the defaults every request below the 128 KiB threshold stays in the
 * heap, and live bytes count the whole power-of-two block. */
START_TEST(default_max_order_holds_every_request_below_the_threshold)
{
    struct hl_config cfg;
    hl_config_default(&cfg, buddy());
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    void *p = hl_malloc(h, HL_DEFAULT_MMAP_THRESHOLD - 1);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    ck_assert_uint_eq(st.live_bytes, (uint64_t)1 << DEF_MAX);
    ck_assert_uint_eq(st.extent_bytes - st.overhead_bytes, (uint64_t)1 << DEF_MAX);
    void *q = hl_malloc(h, 4096); /* a power of two plus the header: 8 KiB */
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, ((uint64_t)1 << DEF_MAX) + 8192);
    hl_free(h, p);
    hl_free(h, q);
    assert_whole_arenas(h, DEF_MAX);
    hl_heap_destroy(h);
}
END_TEST

/* ---- runs on the sbrk source --------------------------------------------------------- */

START_TEST(sbrk_arenas_extend_one_segment)
{
    enum { MAX = 12, N = 40 };
    hl_heap *h = make(HL_SOURCE_SBRK, DEF_MIN, MAX, 0);
    void *p[N];
    int got = 0;
    /* one arena each; no ck_assert in the loop: it may malloc, and glibc's
     * malloc may move the break between two growths */
    for (int i = 0; i < N; i++)
        got += (p[i] = hl_malloc(h, 4000)) != NULL;
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_int_eq(got, N);
    ck_assert_uint_eq(st.segments, 1);
    ck_assert_uint_eq(st.extent_bytes - st.overhead_bytes, (uint64_t)N << MAX);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    for (int i = 0; i < N; i++)
        hl_free(h, p[i]);
    assert_whole_arenas(h, MAX);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(sbrk_foreign_break_moves_make_runs_until_the_table_is_full)
{
    enum { MAX = 12, N = 520 };
    hl_heap *h = make(HL_SOURCE_SBRK, DEF_MIN, MAX, 0);
    static void *p[N];
    int got = 0, failed = 0;
    for (int i = 0; i < N; i++) {
        errno = 0;
        p[i] = hl_malloc(h, 2000); /* half an arena: two per arena */
        if (p[i])
            got++;
        else {
            ck_assert_int_eq(errno, ENOMEM);
            failed++;
        }
        if (i % 2 == 1)
            ck_assert_ptr_ne(sbrk(40), (void *)-1);
        if (i % 25 == 0)
            ck_assert_int_eq(hl_check(h, stderr), 0);
    }
    /* 256 runs of one arena each, then every piece is retired */
    ck_assert_int_eq(got, 2 * 256);
    ck_assert_int_gt(failed, 0);
    struct census c = census(h, MAX);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_gt(st.segments, 256);
    ck_assert_uint_ge(c.count[HL_BLOCK_META], st.segments + (uint64_t)failed);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    for (int i = N - 1; i >= 0; i--)
        if (p[i])
            hl_free(h, p[i]);
    assert_whole_arenas(h, MAX);
    c = census(h, MAX);
    ck_assert_uint_eq(c.free_whole, 256);
    hl_heap_destroy(h);
}
END_TEST

/* ---- corruption ------------------------------------------------------------------------ */

struct find_free {
    size_t size;
    void *addr;
};

static int find_free_of(const struct hl_block_info *bi, void *arg)
{
    struct find_free *f = arg;
    if (bi->state == HL_BLOCK_FREE && bi->size == f->size) {
        f->addr = bi->addr;
        return 1;
    }
    return 0;
}

static hl_word *free_block_of(hl_heap *h, size_t size)
{
    struct find_free f = {size, NULL};
    hl_walk(h, find_free_of, &f);
    ck_assert_ptr_nonnull(f.addr);
    return f.addr;
}

START_TEST(checker_catches_a_broken_free_list_link)
{
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    void *p = hl_malloc(h, 1); /* one free block of each order 5..15 */
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(hl_check(h, NULL), 0);
    hl_word *b = free_block_of(h, 256);
    void **node = (void **)(b + 1);
    void *saved = node[0];
    node[0] = (char *)p + 4096 + 512; /* next: into the middle of a free block */
    ck_assert_int_gt(hl_check(h, NULL), 0);
    node[0] = NULL;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    node[0] = (void *)(uintptr_t)0x1234567;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    node[0] = saved;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    void *saved_prev = node[1];
    node[1] = node; /* prev: itself */
    ck_assert_int_gt(hl_check(h, NULL), 0);
    node[1] = saved_prev;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(checker_catches_a_wrong_header_order)
{
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    hl_word cookie = hl_heap_cookie(h);
    void *p = hl_malloc(h, 100); /* 128 bytes */
    ck_assert_ptr_nonnull(p);
    /* a free block that says half its order, with a valid tag */
    hl_word *b = free_block_of(h, 1024);
    hl_word saved = *b;
    *b = hl_hdr_make(b, 512, 0, HL_KIND_POLICY, cookie);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *b = hl_hdr_make(b, 2048, 0, HL_KIND_POLICY, cookie); /* twice: overlaps its buddy */
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *b = saved ^ ((hl_word)1 << 10); /* a flipped size bit: the tag no longer matches */
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *b = saved;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    /* the block in use grown to a whole order over its free buddy */
    hl_word *u = (hl_word *)p - 1;
    saved = *u;
    *u = hl_hdr_make(u, 256, HL_F_USED, HL_KIND_POLICY, cookie);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *u = saved;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(double_free_aborts)
{
    tl_expect_abort("heaplab: free(): double free at 0x");
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    void *p = hl_malloc(h, 100);
    hl_free(h, p);
    hl_free(h, p);
}
END_TEST

START_TEST(double_free_of_a_merged_upper_half_aborts)
{
    tl_expect_abort("heaplab: free(): double free at 0x");
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    void *a = hl_malloc(h, 24), *b = hl_malloc(h, 24);
    ck_assert_ptr_eq(b, (char *)a + 32);
    hl_free(h, b);
    hl_free(h, a); /* merges with b: b's header is now inside a free block */
    hl_free(h, b);
}
END_TEST

START_TEST(overrun_into_the_buddy_header_aborts_on_free)
{
    tl_expect_abort("heaplab: free(): buddy: heap corruption next to the block at 0x");
    hl_heap *h = make(HL_SOURCE_REGION, DEF_MIN, 16, 0);
    char *a = hl_malloc(h, 24), *b = hl_malloc(h, 24);
    ck_assert_ptr_eq(b, a + 32);
    memset(a, 0xab, 32); /* 8 bytes too many: b's header */
    hl_free(h, a);
}
END_TEST

/* ---- parameters -------------------------------------------------------------------------- */

START_TEST(parameters_parse_and_apply)
{
    struct hl_policy_spec spec;
    char err[160];
    ck_assert_int_eq(hl_policy_parse("buddy", &spec, err, sizeof err), 0);
    ck_assert_int_eq(spec.params[0], DEF_MIN);
    ck_assert_int_eq(spec.params[1], DEF_MAX);
    ck_assert_int_eq(hl_policy_parse("buddy:min=6,max=18", &spec, err, sizeof err), 0);
    ck_assert_ptr_eq(spec.policy, buddy());
    ck_assert_int_eq(spec.params[0], 6);
    ck_assert_int_eq(spec.params[1], 18);

    struct hl_config cfg;
    hl_config_default(&cfg, spec.policy);
    cfg.policy_params = spec.params;
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    void *p = hl_malloc(h, 1);
    ck_assert_uint_eq(hl_usable_size(h, p), 64 - HL_HDR_BYTES);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, p);
    hl_heap_destroy(h);

    static const char *const bad[] = {"buddy:min=4", "buddy:max=33", "buddy:min=33", "buddy:max=4",
                                      "buddy:max=-1", "buddy:min=x", "buddy:order=7", "buddy:min"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ck_assert_msg(hl_policy_parse(bad[i], &spec, err, sizeof err) != 0, "%s accepted", bad[i]);
        ck_assert(err[0] != 0);
    }
    /* each value in range, but min > max: the heap refuses it */
    ck_assert_int_eq(hl_policy_parse("buddy:min=12,max=10", &spec, err, sizeof err), 0);
    cfg.policy_params = spec.params;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&cfg));
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(parameters_are_described)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    hl_policy_describe(buddy(), f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "min=5..32 (default 5)"));
    ck_assert_ptr_nonnull(strstr(text, "max=5..32 (default 18)"));
    free(text);
}
END_TEST

Suite *make_buddy_suite(void)
{
    Suite *s = suite_create("buddy");

    TCase *tc = tcase_create("stress");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, random_stress_checked, 0, (int)(sizeof stress_cases / sizeof stress_cases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("split-merge");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, first_alloc_splits_one_of_each_order);
    tcase_add_test(tc, blocks_of_every_order_merge_back_to_whole_arenas);
    suite_add_tcase(s, tc);

    tc = tcase_create("realloc");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, realloc_grows_into_free_buddies_and_moves_when_the_buddy_is_used);
    tcase_add_test(tc, realloc_shrinks_in_place_and_frees_the_upper_halves);
    suite_add_tcase(s, tc);

    tc = tcase_create("mmap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, blocks_above_the_max_order_are_mmapped);
    tcase_add_test(tc, default_max_order_holds_every_request_below_the_threshold);
    suite_add_tcase(s, tc);

    tc = tcase_create("sbrk-runs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sbrk_arenas_extend_one_segment);
    tcase_add_test(tc, sbrk_foreign_break_moves_make_runs_until_the_table_is_full);
    suite_add_tcase(s, tc);

    tc = tcase_create("corruption");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, checker_catches_a_broken_free_list_link);
    tcase_add_test(tc, checker_catches_a_wrong_header_order);
    tcase_add_test_raise_signal(tc, double_free_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, double_free_of_a_merged_upper_half_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, overrun_into_the_buddy_header_aborts_on_free, SIGABRT);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parameters_parse_and_apply);
    tcase_add_test(tc, parameters_are_described);
    suite_add_tcase(s, tc);
    return s;
}
