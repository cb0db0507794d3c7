/*
 * check_pool.c - the pool policy (simple segregated storage): class
 * mapping, LIFO reuse inside a class and never across classes, what the
 * stats show of both kinds of fragmentation, misuse detection, the checker
 * on a corrupted free list, parameters, and a random stress that is a
 * correctness test, not a benchmark.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/policies.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------- */

/* For loops of many thousands: Check's ck_assert_* records every passing
 * assertion with the parent process (a write each), this only on failure. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

static hl_heap *pool_heap(const char *spec, size_t align)
{
    struct hl_policy_spec ps;
    char err[160];
    ck_assert_msg(hl_policy_parse(spec, &ps, err, sizeof err) == 0, "%s: %s", spec, err);
    struct hl_config cfg;
    hl_config_default(&cfg, ps.policy);
    cfg.policy_params = ps.params; /* read at creation only */
    cfg.align = align;
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    return h;
}

static int is_slot(const void *p) { return hl_block_kind(hl_payload_block(p)) > HL_KIND_POLICY; }
static size_t block_size(const void *p) { return hl_block_size(hl_payload_block(p)); }

/* The class a block of `size` bytes lands in, worked out the slow way:
 * the smallest of 2^k (and 3 * 2^(k-1) for pow2x1.5) that holds it. */
static size_t expected_class(size_t size, int x15)
{
    for (size_t c = 32;; c *= 2) {
        if (x15 && c > 32 && c / 4 * 3 >= size)
            return c / 4 * 3;
        if (c >= size)
            return c;
    }
}

static size_t request_size(size_t n, size_t align)
{
    size_t s = (n + 8 + align - 1) & ~(align - 1);
    return s < 32 ? 32 : s;
}

struct slot_census {
    size_t size;
    size_t free, used;
};

static int census(const struct hl_block_info *bi, void *arg)
{
    struct slot_census *sc = arg;
    if (bi->size != sc->size || bi->header_bytes != HL_HDR_BYTES)
        return 0;
    if (bi->state == HL_BLOCK_FREE && hl_block_kind(bi->addr) > HL_KIND_POLICY)
        sc->free++;
    if (bi->state == HL_BLOCK_USED && hl_block_kind(bi->addr) > HL_KIND_POLICY)
        sc->used++;
    return 0;
}

static struct slot_census slots_of(hl_heap *h, size_t size)
{
    struct slot_census sc = {size, 0, 0};
    hl_walk(h, census, &sc);
    return sc;
}

/* ---- class mapping ------------------------------------------------------- */

static const struct {
    const char *spec;
    size_t align, largest;
    int x15;
} mappings[] = {
    {"pool", 16, 4096, 0},
    {"pool:classes=pow2x1.5", 16, 4096, 1},
    {"pool:classes=pow2,max=1024", 16, 1024, 0},
    {"pool:classes=pow2x1.5,max=1024", 16, 1024, 1},
    {"pool:classes=pow2x1.5,max=1000", 16, 768, 1},
    {"pool:classes=pow2,max=1000", 8, 512, 0},
    {"pool:classes=pow2x1.5,max=65536", 8, 65536, 1},
};

START_TEST(every_size_maps_to_the_smallest_class_that_fits)
{
    hl_heap *h = pool_heap(mappings[_i].spec, mappings[_i].align);
    size_t largest = mappings[_i].largest;
    for (size_t n = 0; n <= largest + 256; n++) {
        size_t need = request_size(n, mappings[_i].align);
        void *p = hl_malloc(h, n);
        REQUIRE(p && (uintptr_t)p % mappings[_i].align == 0, "%s: malloc(%zu) = %p", mappings[_i].spec, n, p);
        if (need <= largest) {
            size_t want = expected_class(need, mappings[_i].x15);
            REQUIRE(is_slot(p) && block_size(p) == want, "%s: %zu bytes: a %s of %zu bytes, not a %zu-byte slot",
                    mappings[_i].spec, n, is_slot(p) ? "slot" : "block", block_size(p), want);
        } else {
            REQUIRE(!is_slot(p) && block_size(p) >= need && block_size(p) < need + HL_MIN_BLOCK,
                    "%s: %zu bytes: a %s of %zu bytes, not a general block", mappings[_i].spec, n,
                    is_slot(p) ? "slot" : "block", block_size(p));
        }
        REQUIRE(hl_usable_size(h, p) == block_size(p) - HL_HDR_BYTES, "%s: usable size of %zu bytes",
                mappings[_i].spec, n);
        hl_free(h, p);
    }
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(class_boundaries)
{
    static const struct {
        size_t n, pow2, x15;
    } b[] = {
        {0, 32, 32},     {24, 32, 32},     {25, 64, 48},     {40, 64, 48},     {41, 64, 64},
        {56, 64, 64},    {57, 128, 96},    {88, 128, 96},    {89, 128, 128},   {120, 128, 128},
        {121, 256, 192}, {184, 256, 192},  {185, 256, 256},  {376, 512, 384},  {377, 512, 512},
        {760, 1024, 768}, {761, 1024, 1024}, {1016, 1024, 1024}, {1017, 2048, 1536},
        {3064, 4096, 3072}, {3065, 4096, 4096}, {4088, 4096, 4096},
    };
    hl_heap *h2 = pool_heap("pool", 16), *h15 = pool_heap("pool:classes=pow2x1.5", 16);
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        void *p = hl_malloc(h2, b[i].n), *q = hl_malloc(h15, b[i].n);
        ck_assert_msg(block_size(p) == b[i].pow2, "pow2: %zu bytes -> %zu", b[i].n, block_size(p));
        ck_assert_msg(block_size(q) == b[i].x15, "pow2x1.5: %zu bytes -> %zu", b[i].n, block_size(q));
        hl_free(h2, p);
        hl_free(h15, q);
    }
    /* one past the largest class (4096 by default): the general path */
    void *p = hl_malloc(h2, 4089);
    ck_assert(!is_slot(p));
    ck_assert_uint_eq(hl_block_kind(hl_payload_block(p)), HL_KIND_CORE);
    hl_free(h2, p);
    hl_heap_destroy(h2);
    hl_heap_destroy(h15);
}
END_TEST

/* ---- reuse and stats ------------------------------------------------------ */

START_TEST(slots_of_a_class_are_reused_lifo)
{
    hl_heap *h = pool_heap("pool", 16);
    char *a = hl_malloc(h, 40), *b = hl_malloc(h, 50), *c = hl_malloc(h, 56); /* all 64-byte slots */
    ck_assert_uint_eq(block_size(a), 64);
    ck_assert_ptr_eq(b, a + 64); /* a fresh run hands out slots in address order */
    ck_assert_ptr_eq(c, b + 64);
    hl_free(h, a);
    hl_free(h, b);
    ck_assert_ptr_eq(hl_malloc(h, 33), b);
    ck_assert_ptr_eq(hl_malloc(h, 64 - 8), a);
    hl_free(h, c);
    /* c's slot serves no other class */
    void *small = hl_malloc(h, 8), *bigger = hl_malloc(h, 100), *large = hl_malloc(h, 5000);
    ck_assert_ptr_ne(small, c);
    ck_assert_ptr_ne(bigger, c);
    ck_assert_ptr_ne(large, c);
    ck_assert_ptr_eq(hl_malloc(h, 48), c);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(stats_show_internal_and_external_fragmentation)
{
    hl_heap *h = pool_heap("pool", 16);
    struct hl_stats s0, s1, s2;
    hl_stats(h, &s0);
    void *p = hl_malloc(h, 33); /* 41 bytes with the header: a 64-byte slot */
    hl_stats(h, &s1);
    /* internal: the whole slot is live */
    ck_assert_uint_eq(s1.live_bytes, 64);
    ck_assert_uint_eq(s1.live_blocks, 1);
    /* the run's 32-byte header (and any tail) is overhead */
    ck_assert_uint_ge(s1.overhead_bytes - s0.overhead_bytes, 32);
    /* the other 63 slots of the one-page run are free bytes, walked as FREE */
    struct slot_census sc = slots_of(h, 64);
    ck_assert_uint_eq(sc.used, 1);
    ck_assert_uint_eq(sc.free, 4096 / 64 - 1);
    ck_assert_uint_ge(s1.free_bytes, sc.free * 64);
    hl_free(h, p);
    hl_stats(h, &s2);
    ck_assert_uint_eq(s2.live_bytes, 0);
    ck_assert_uint_eq(s2.free_bytes, s1.free_bytes + 64);
    ck_assert_uint_eq(s2.extent_bytes, s1.extent_bytes);
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* external: a heap full of free 32-byte slots still grows for 128 bytes */
    enum { N = 1000 };
    static void *q[N];
    for (int i = 0; i < N; i++)
        q[i] = hl_malloc(h, 16);
    for (int i = 0; i < N; i++)
        hl_free(h, q[i]);
    hl_stats(h, &s1);
    ck_assert_uint_ge(s1.free_bytes, (uint64_t)N * 32);
    p = hl_malloc(h, 120);
    hl_stats(h, &s2);
    ck_assert_uint_gt(s2.extent_bytes, s1.extent_bytes);
    struct slot_census s32 = slots_of(h, 32);
    ck_assert_uint_eq(s32.used, 0);
    ck_assert_uint_ge(s32.free, N);
    hl_free(h, p);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_keeps_a_slot_while_the_class_fits)
{
    hl_heap *h = pool_heap("pool", 16);
    char *p = hl_malloc(h, 50); /* 64-byte slot, 56 usable */
    memset(p, 'x', 50);
    ck_assert_ptr_eq(hl_realloc(h, p, 56), p);
    ck_assert_ptr_eq(hl_realloc(h, p, 1), p); /* a smaller class: still the same slot */
    ck_assert_uint_eq(block_size(p), 64);
    char *q = hl_realloc(h, p, 57); /* next class: moved, contents kept */
    ck_assert_ptr_ne(q, p);
    ck_assert_uint_eq(block_size(q), 128);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(q[i], 'x');
    char *g = hl_realloc(h, q, 5000); /* above the largest class (4096): the general path */
    ck_assert(!is_slot(g));
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(g[i], 'x');
    char *g2 = hl_realloc(h, g, 6000); /* the top block grows in place */
    ck_assert_ptr_eq(g2, g);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, block_size(g2));
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, g2);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(memalign_from_slots_and_the_general_path)
{
    hl_heap *h = pool_heap("pool:classes=pow2x1.5", 16);
    void *p[64];
    for (int i = 0; i < 64; i++) {
        size_t align = (size_t)32 << (i % 8), n = (size_t)(i * 37 % 700);
        p[i] = hl_memalign(h, align, n);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq((uintptr_t)p[i] % align, 0);
        ck_assert_uint_ge(hl_usable_size(h, p[i]), n);
        memset(p[i], i, n);
    }
    ck_assert_int_eq(hl_check(h, stderr), 0);
    for (int i = 0; i < 64; i++)
        hl_free(h, p[i]);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, 0);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

/* ---- misuse and corruption -------------------------------------------------- */

START_TEST(double_free_of_a_slot_aborts)
{
    tl_expect_abort("heaplab: free(): double free at 0x");
    hl_heap *h = pool_heap("pool", 16);
    void *p = hl_malloc(h, 20);
    ck_assert(is_slot(p));
    hl_free(h, p);
    hl_free(h, p);
}
END_TEST

START_TEST(double_free_after_reuse_by_a_neighbour_aborts)
{
    tl_expect_abort("heaplab: free(): double free at 0x");
    hl_heap *h = pool_heap("pool:classes=pow2x1.5", 16);
    void *p = hl_malloc(h, 40), *q = hl_malloc(h, 40);
    hl_free(h, q);
    hl_free(h, p);
    hl_free(h, q);
}
END_TEST

START_TEST(freeing_a_run_header_aborts)
{
    tl_expect_abort("heaplab: free(): invalid pointer at 0x");
    hl_heap *h = pool_heap("pool", 16);
    char *p = hl_malloc(h, 20); /* the first slot of a fresh run */
    hl_free(h, p - 32);         /* the run block's payload: its struct run */
}
END_TEST

START_TEST(free_of_a_slot_that_overran_the_next_header_aborts)
{
    tl_expect_abort("heaplab: heap corruption: bad header after the block at 0x");
    hl_heap *h = pool_heap("pool", 16);
    char *a = hl_malloc(h, 50), *b = hl_malloc(h, 50);
    ck_assert_ptr_eq(b, a + 64);
    memset(a, 0x62, hl_usable_size(h, a) + 8); /* 8 bytes too many: b's header */
    hl_free(h, a);
}
END_TEST

START_TEST(free_of_the_last_slot_of_a_run_that_overran_aborts)
{
    tl_expect_abort("heaplab: heap corruption: bad header after the block at 0x");
    hl_heap *h = pool_heap("pool", 16);
    char *s[8];
    for (int i = 0; i < 8; i++) /* the 8 slots of a fresh 4096-byte run */
        s[i] = hl_malloc(h, 4000);
    ck_assert_ptr_eq(s[7], s[0] + 7 * 4096);
    void *after = hl_malloc(h, 10000); /* a general block, perhaps right after the run */
    ck_assert_ptr_nonnull(after);
    memset(s[7], 0x62, hl_usable_size(h, s[7]) + 8); /* the run's tail, or the next block's header */
    hl_free(h, s[7]);
}
END_TEST

/* Three free 64-byte slots: c, b, a on the list. */
static hl_heap *three_free_slots(char **a, char **b, char **c)
{
    hl_heap *h = pool_heap("pool", 16);
    *a = hl_malloc(h, 50);
    *b = hl_malloc(h, 50);
    *c = hl_malloc(h, 50);
    hl_free(h, *a);
    hl_free(h, *b);
    hl_free(h, *c);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    return h;
}

START_TEST(checker_catches_a_corrupted_free_list_link)
{
    char *a, *b, *c;
    hl_heap *h = three_free_slots(&a, &b, &c);
    void **link = (void **)(void *)c; /* c's node space: its next link (to b) */
    void *saved = *link;
    ck_assert_ptr_eq(saved, hl_payload_block(b));
    void *used = hl_malloc(h, 8); /* a 32-byte slot: another class */
    void *in_use = hl_malloc(h, 50), *rest = *link;
    ck_assert_ptr_eq(in_use, c); /* c is in use again; b heads the list */
    hl_free(h, in_use);
    ck_assert_ptr_eq(*link, rest);
    void *bad[] = {
        (void *)hl_payload_block(c),         /* c twice: a loop */
        (void *)hl_payload_block(a),         /* skips b: b free but off the list */
        (char *)(void *)hl_payload_block(b) + 8, /* not a slot header */
        (void *)(uintptr_t)0x10,             /* out of the heap */
        (void *)hl_payload_block(used),      /* a slot of another class, in use */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        *link = bad[i];
        ck_assert_msg(hl_check(h, NULL) > 0, "corrupted link %zu passed the checker", i);
    }
    *link = saved;
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, used);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(checker_catches_a_slot_on_the_list_twice_and_a_bad_run)
{
    char *a, *b, *c;
    hl_heap *h = three_free_slots(&a, &b, &c);
    /* take a (the list's tail) off the list but mark it free: one missing */
    void **blink = (void **)(void *)b;
    void *saved = *blink;
    *blink = NULL;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *blink = saved;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    /* a used slot's header says free (validly tagged): free, but on no list */
    char *u = hl_malloc(h, 50);
    ck_assert_ptr_eq(u, c);
    hl_word *hw = (hl_word *)(void *)hl_payload_block(u), w = *hw;
    *hw = hl_hdr_make(hw, 64, 0, hl_block_kind(hl_payload_block(u)), hl_heap_cookie(h));
    ck_assert_int_gt(hl_check(h, NULL), 0);
    *hw = w;
    ck_assert_int_eq(hl_check(h, NULL), 0);
    /* a's slot is the first of its run: 32 bytes before it are the run's
     * header word, then struct run {next; cls; ...} */
    char *run = a - HL_HDR_BYTES - 32;
    uint32_t *cls = (uint32_t *)(void *)(run + HL_HDR_BYTES + sizeof(void *));
    (*cls)++;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    (*cls)--;
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_free(h, u);
    hl_heap_destroy(h);
}
END_TEST

/* ---- parameters --------------------------------------------------------------- */

START_TEST(parameters_parse)
{
    struct hl_policy_spec s;
    char err[160];
    ck_assert_int_eq(hl_policy_parse("pool", &s, err, sizeof err), 0);
    ck_assert_str_eq(s.policy->name, "pool");
    ck_assert_int_eq(s.params[0], 0);
    ck_assert_int_eq(s.params[1], 4096);
    ck_assert_int_eq(s.params[2], 1);
    ck_assert_int_eq(hl_policy_parse("pool:classes=pow2x1.5", &s, err, sizeof err), 0);
    ck_assert_int_eq(s.params[0], 1);
    ck_assert_int_eq(hl_policy_parse("pool:classes=pow2,max=1024,run_pages=4", &s, err, sizeof err), 0);
    ck_assert_int_eq(s.params[0], 0);
    ck_assert_int_eq(s.params[1], 1024);
    ck_assert_int_eq(s.params[2], 4);
    ck_assert_str_eq(s.label, "pool:classes=pow2,max=1024,run_pages=4");
    ck_assert_int_eq(hl_policy_parse("pool:classes=pow3", &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "pow2|pow2x1.5") != NULL, "%s", err);
    ck_assert_int_eq(hl_policy_parse("pool:max=16", &s, err, sizeof err), -1);
    ck_assert_int_eq(hl_policy_parse("pool:max=65537", &s, err, sizeof err), -1);
    ck_assert_int_eq(hl_policy_parse("pool:run_pages=0", &s, err, sizeof err), -1);
    ck_assert_int_eq(hl_policy_parse("pool:slots=8", &s, err, sizeof err), -1);
}
END_TEST

START_TEST(run_pages_sets_the_slots_per_run)
{
    hl_heap *h = pool_heap("pool:run_pages=2", 16);
    hl_free(h, hl_malloc(h, 1));
    ck_assert_uint_eq(slots_of(h, 32).free, 2 * 4096 / 32);
    hl_free(h, hl_malloc(h, 4000)); /* 4096-byte slots: 8 a run, not 2 */
    ck_assert_uint_eq(slots_of(h, 4096).free, 8);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

/* ---- stress --------------------------------------------------------------------- */

static unsigned long long lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

struct live {
    unsigned char *p;
    size_t n;
    unsigned char seed;
};

static void fill(struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->p[i] = (unsigned char)(l->seed + i * 7);
}

static void verify(const struct live *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l->p[i] != (unsigned char)(l->seed + i * 7))
            ck_abort_msg("block %p byte %zu overwritten", (void *)l->p, i);
}

static const struct {
    const char *spec;
    size_t align;
} stress_heaps[] = {
    {"pool", 16},
    {"pool:classes=pow2x1.5", 16},
    {"pool:classes=pow2x1.5,max=1024,run_pages=2", 8},
    {"pool:classes=pow2,max=512", 16},
};

/* Not a benchmark: random malloc/calloc/realloc/memalign/free over sizes
 * below and above the largest class, every byte verified, the heap checked
 * every 1000 operations. */
START_TEST(random_stress_checked)
{
    enum { SLOTS = 2000, OPS = 120000 };
    static struct live live[SLOTS];
    memset(live, 0, sizeof live);
    hl_heap *h = pool_heap(stress_heaps[_i].spec, stress_heaps[_i].align);
    unsigned long long seed = 20240611ull + (unsigned)_i;
    for (int op = 0; op < OPS; op++) {
        struct live *l = &live[lcg(&seed) % SLOTS];
        unsigned r = (unsigned)(lcg(&seed) % 100);
        size_t n = r < 85 ? lcg(&seed) % 600 : r < 97 ? lcg(&seed) % 5000 : lcg(&seed) % 40000;
        if (l->p && r % 3 == 0) {
            /* realloc: keeps the common prefix */
            verify(l, l->n);
            unsigned char *q = hl_realloc(h, l->p, n + 1);
            REQUIRE(q, "op %d: realloc(%zu) failed", op, n + 1);
            size_t keep = l->n < n + 1 ? l->n : n + 1;
            l->p = q;
            verify(l, keep);
            l->n = n + 1;
        } else if (l->p) {
            verify(l, l->n);
            hl_free(h, l->p);
            l->p = NULL;
            continue;
        } else if (r % 11 == 0) {
            size_t align = (size_t)32 << (lcg(&seed) % 8);
            l->p = hl_memalign(h, align, n);
            REQUIRE(l->p && (uintptr_t)l->p % align == 0, "op %d: memalign(%zu, %zu) = %p", op, align, n,
                    (void *)l->p);
            l->n = n;
        } else if (r % 7 == 0) {
            l->p = hl_calloc(h, 1, n);
            REQUIRE(l->p, "op %d: calloc(%zu) failed", op, n);
            for (size_t i = 0; i < n; i++)
                REQUIRE(l->p[i] == 0, "op %d: calloc(%zu): byte %zu not zero", op, n, i);
            l->n = n;
        } else {
            l->p = hl_malloc(h, n);
            REQUIRE(l->p, "op %d: malloc(%zu) failed", op, n);
            l->n = n;
        }
        REQUIRE((uintptr_t)l->p % stress_heaps[_i].align == 0, "op %d: %p misaligned", op, (void *)l->p);
        REQUIRE(hl_usable_size(h, l->p) >= l->n, "op %d: usable size below %zu", op, l->n);
        l->seed = (unsigned char)lcg(&seed);
        fill(l);
        if (op % 1000 == 999)
            ck_assert_int_eq(hl_check(h, stderr), 0);
    }
    for (int i = 0; i < SLOTS; i++)
        if (live[i].p) {
            verify(&live[i], live[i].n);
            hl_free(h, live[i].p);
        }
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_bytes, 0);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

Suite *make_pool_suite(void)
{
    Suite *s = suite_create("pool");

    TCase *tc = tcase_create("classes");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_size_maps_to_the_smallest_class_that_fits, 0,
                        (int)(sizeof mappings / sizeof mappings[0]));
    tcase_add_test(tc, class_boundaries);
    tcase_add_test(tc, parameters_parse);
    tcase_add_test(tc, run_pages_sets_the_slots_per_run);
    suite_add_tcase(s, tc);

    tc = tcase_create("reuse");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, slots_of_a_class_are_reused_lifo);
    tcase_add_test(tc, stats_show_internal_and_external_fragmentation);
    tcase_add_test(tc, realloc_keeps_a_slot_while_the_class_fits);
    tcase_add_test(tc, memalign_from_slots_and_the_general_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("misuse");
    tcase_set_timeout(tc, 30);
    tcase_add_test_raise_signal(tc, double_free_of_a_slot_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, double_free_after_reuse_by_a_neighbour_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, freeing_a_run_header_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, free_of_a_slot_that_overran_the_next_header_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, free_of_the_last_slot_of_a_run_that_overran_aborts, SIGABRT);
    tcase_add_test(tc, checker_catches_a_corrupted_free_list_link);
    tcase_add_test(tc, checker_catches_a_slot_on_the_list_twice_and_a_bad_run);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, random_stress_checked, 0, (int)(sizeof stress_heaps / sizeof stress_heaps[0]));
    suite_add_tcase(s, tc);
    return s;
}
