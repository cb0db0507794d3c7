/*
 * check_tlsf.c - the TLSF policy: its mapping function, a random stress
 * with the heap checker, the checker's own teeth, and the good-fit rule.
 *
 * White-box: the test reads the policy's state (tlsf.h) through the heap's
 * policy-state pointer (core.h).  The stress test is not a benchmark.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "heaplab/policies.h"
#include "tlsf.h"

/* For loops: Check's ck_assert reports every passed assertion to the
 * runner through a pipe, too slow per byte or per size. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

static unsigned long long rnd(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static const struct hl_policy *tlsf_policy(void)
{
    const struct hl_policy *p = hl_policy_lookup("tlsf");
    ck_assert_ptr_nonnull(p);
    return p;
}

static hl_heap *make_heap(long sl, size_t align, size_t mmap_threshold)
{
    static long params[HL_MAX_PARAMS];
    struct hl_config cfg;
    hl_config_default(&cfg, tlsf_policy());
    params[0] = sl;
    cfg.policy_params = params;
    cfg.align = align;
    if (mmap_threshold != HL_DEFAULT_MMAP_THRESHOLD) {
        cfg.mmap_threshold = mmap_threshold;
        cfg.mmap_dynamic = 0;
    }
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    return h;
}

static struct tlsf *state(hl_heap *h) { return h->st; }

/* ---- the mapping ------------------------------------------------------------ */

/* The class of `size` straight from the definition (a loop and a
 * division, nothing shared with tlsf.h). */
static unsigned oracle_class(size_t size, unsigned s)
{
    if (size < (size_t)1 << (s + 3))
        return (unsigned)(size / 8);
    unsigned f = 0;
    while ((size >> f) > 1)
        f++;
    size_t width = (size_t)1 << (f - s);
    return ((f - s - 2) << s) + (unsigned)((size - ((size_t)1 << f)) / width);
}

static void check_size(size_t size, unsigned s)
{
    unsigned lists = TLSF_FL_COUNT(s) << s;
    unsigned c = tlsf_class(size, s);
    REQUIRE(c == oracle_class(size, s), "sl %u, size %zu: class %u, expected %u", 1u << s, size, c,
            oracle_class(size, s));
    REQUIRE(c < lists, "sl %u, size %zu: class %u beyond %u lists", 1u << s, size, c, lists);
    /* the class's range holds the size (class_min(lists) is 2^48) */
    REQUIRE(tlsf_class_min(c, s) <= size && size < tlsf_class_min(c + 1, s),
            "sl %u, size %zu: class %u is [%zu, %zu)", 1u << s, size, c, tlsf_class_min(c, s),
            tlsf_class_min(c + 1, s));
    /* search: the first class whose every size holds `size`, and no lower */
    size_t req = size ? size : 1;
    if (req <= ((size_t)1 << 47)) {
        unsigned sc = tlsf_search_class(req, s);
        REQUIRE(tlsf_class_min(sc, s) >= req, "sl %u, request %zu: search class %u starts at %zu", 1u << s,
                req, sc, tlsf_class_min(sc, s));
        REQUIRE(sc == 0 || tlsf_class_min(sc - 1, s) < req,
                "sl %u, request %zu: search class %u, but class %u already fits", 1u << s, req, sc, sc - 1);
    }
}

START_TEST(mapping_insert_and_search)
{
    unsigned s = (unsigned)_i; /* sl = 4, 8, 16, 32 */
    unsigned long long seed = 7;
    unsigned prev = 0;
    for (size_t size = 0; size <= 1 << 17; size += 8) {
        check_size(size, s);
        unsigned c = tlsf_class(size, s);
        REQUIRE(c >= prev, "sl %u: class of %zu below that of %zu", 1u << s, size, size - 8); /* monotone */
        prev = c;
    }
    for (size_t req = 1; req <= 4096; req++) /* search takes any size */
        check_size(req, s);
    for (unsigned k = 3; k < 48; k++) {
        size_t p = (size_t)1 << k;
        for (long d = -24; d <= 24; d += 8)
            if ((long)p + d >= 0 && p + (size_t)d < ((size_t)1 << 48))
                check_size(p + (size_t)d, s);
        for (int i = 0; i < 200; i++) {
            size_t r = ((size_t)rnd(&seed) << 31 | (size_t)rnd(&seed)) & (p - 1);
            check_size(p + r, s);
            check_size((p + r) & ~(size_t)7, s);
        }
        check_size((p << 1) - 8, s);
    }
    /* the whole geometry: the last class ends at the size field's limit */
    ck_assert_uint_eq(tlsf_class(((size_t)1 << 48) - 8, s), (TLSF_FL_COUNT(s) << s) - 1);
    ck_assert_uint_eq(tlsf_class_min(TLSF_FL_COUNT(s) << s, s), (size_t)1 << 48);
}
END_TEST

/* ---- parameters ------------------------------------------------------------- */

START_TEST(sl_parameter)
{
    struct hl_policy_spec spec;
    char err[256];
    ck_assert_int_eq(hl_policy_parse("tlsf:sl=16", &spec, err, sizeof err), 0);
    ck_assert_ptr_eq(spec.policy, tlsf_policy());
    ck_assert_int_eq(spec.params[0], 16);
    ck_assert_int_eq(hl_policy_parse("tlsf", &spec, err, sizeof err), 0);
    ck_assert_int_eq(spec.params[0], 32);
    ck_assert_int_ne(hl_policy_parse("tlsf:sl=64", &spec, err, sizeof err), 0);
    ck_assert_int_ne(hl_policy_parse("tlsf:sl=2", &spec, err, sizeof err), 0);

    for (long sl = 4; sl <= 32; sl *= 2) {
        hl_heap *h = make_heap(sl, 16, HL_DEFAULT_MMAP_THRESHOLD);
        ck_assert_uint_eq(1u << state(h)->sl_log2, (unsigned)sl);
        hl_heap_destroy(h);
    }
    /* in range but not a power of two: the heap refuses it */
    struct hl_config cfg;
    long twelve[HL_MAX_PARAMS] = {12};
    hl_config_default(&cfg, tlsf_policy());
    cfg.policy_params = twelve;
    errno = 0;
    ck_assert_ptr_null(hl_heap_create(&cfg));
    ck_assert_int_eq(errno, EINVAL);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hl_policy_describe(tlsf_policy(), f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "sl=4..32 (default 32)"));
    free(text);
}
END_TEST

/* ---- random stress ---------------------------------------------------------- */

struct slot {
    unsigned char *p;
    size_t n;
    unsigned char tag;
};

/* Pattern bytes: all of a small block; head, tail and every 64th byte of a
 * large one. */
static int patterned(size_t k, size_t n) { return n <= 1024 || k < 256 || k >= n - 256 || k % 64 == 0; }

static void fill(struct slot *sl)
{
    for (size_t k = 0; k < sl->n; k++)
        if (patterned(k, sl->n))
            sl->p[k] = (unsigned char)(sl->tag + k * 7);
}

static void verify(const struct slot *sl, size_t upto)
{
    for (size_t k = 0; k < upto; k++)
        if (patterned(k, sl->n) && sl->p[k] != (unsigned char)(sl->tag + k * 7))
            ck_abort_msg("block %p (%zu bytes): byte %zu overwritten", (void *)sl->p, sl->n, k);
}

static size_t random_size(unsigned long long *seed)
{
    unsigned r = (unsigned)(rnd(seed) % 100);
    if (r < 55)
        return 1 + rnd(seed) % 128;
    if (r < 85)
        return 129 + rnd(seed) % 2048;
    if (r < 97)
        return 2048 + rnd(seed) % 30000;
    return 32768 + rnd(seed) % 250000; /* some take the mmap path */
}

static const struct {
    long sl;
    size_t align;
} stress_variants[] = {{32, 16}, {16, 16}, {16, 8}, {4, 16}};

START_TEST(random_stress_checked)
{
    enum { SLOTS = 1500, OPS = 120000, CHECK_EVERY = 1000 };
    static struct slot slots[SLOTS];
    hl_heap *h = make_heap(stress_variants[_i].sl, stress_variants[_i].align, HL_DEFAULT_MMAP_THRESHOLD);
    size_t align = stress_variants[_i].align;
    unsigned long long seed = 20040701 + (unsigned long long)_i;
    unsigned char tag = 0;
    memset(slots, 0, sizeof slots);
    for (int op = 1; op <= OPS; op++) {
        struct slot *sl = &slots[rnd(&seed) % SLOTS];
        unsigned r = (unsigned)(rnd(&seed) % 100);
        if (!sl->p) {
            size_t n = random_size(&seed);
            if (r < 80) {
                sl->p = hl_malloc(h, n);
            } else if (r < 90) {
                sl->p = hl_calloc(h, 1, n);
                REQUIRE(sl->p, "calloc(1, %zu) failed", n);
                for (size_t k = 0; k < n; k++)
                    REQUIRE(sl->p[k] == 0, "calloc(1, %zu): byte %zu not zero", n, k);
            } else {
                size_t a = (size_t)1 << (4 + rnd(&seed) % 9); /* 16 .. 4096 */
                sl->p = hl_memalign(h, a, n);
                REQUIRE(sl->p && ((uintptr_t)sl->p & (a - 1)) == 0, "memalign(%zu, %zu) gave %p", a, n,
                        (void *)sl->p);
            }
            REQUIRE(sl->p && ((uintptr_t)sl->p & (align - 1)) == 0, "allocating %zu bytes gave %p", n,
                    (void *)sl->p);
            REQUIRE(hl_usable_size(h, sl->p) >= n, "%p: usable size below %zu", (void *)sl->p, n);
            sl->n = n;
            sl->tag = ++tag;
            fill(sl);
        } else if (r < 65) {
            verify(sl, sl->n);
            hl_free(h, sl->p);
            sl->p = NULL;
        } else {
            verify(sl, sl->n);
            size_t n = r < 85 ? random_size(&seed) : sl->n + rnd(&seed) % 512; /* some grow in place */
            unsigned char *q = hl_realloc(h, sl->p, n);
            REQUIRE(q && hl_usable_size(h, q) >= n, "realloc to %zu bytes gave %p", n, (void *)q);
            struct slot moved = {q, sl->n, sl->tag};
            if (moved.n > n) /* the pattern of a shrunk block is that of its old length */
                for (size_t k = 0; k < n; k++)
                    REQUIRE(!patterned(k, moved.n) || q[k] == (unsigned char)(moved.tag + k * 7),
                            "realloc %zu -> %zu: byte %zu lost", moved.n, n, k);
            else
                verify(&moved, moved.n);
            sl->p = q;
            sl->n = n;
            sl->tag = ++tag;
            fill(sl);
        }
        if (op % CHECK_EVERY == 0)
            REQUIRE(hl_check(h, stderr) == 0, "heap check failed after op %d", op);
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            verify(&slots[i], slots[i].n);
            hl_free(h, slots[i].p);
            slots[i].p = NULL;
        }
    ck_assert_int_eq(hl_check(h, stderr), 0);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.live_blocks, 0);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the checker ------------------------------------------------------------ */

/* A heap with free blocks in twelve classes, two in each, each between
 * blocks in use (kept until the heap goes). */
static hl_heap *checker_heap(void)
{
    hl_heap *h = make_heap(32, 16, 0);
    void *p[24];
    for (int i = 0; i < 24; i++) {
        p[i] = hl_malloc(h, 40 + (size_t)(i / 2) * 157);
        ck_assert_ptr_nonnull(hl_malloc(h, 16));
    }
    for (int i = 0; i < 24; i++)
        hl_free(h, p[i]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    return h;
}

static uint32_t sl_bit(const struct tlsf *t, unsigned c) { return 1u << (c & ((1u << t->sl_log2) - 1)); }

/* File b in class c whatever its size (what a buggy insert would do). */
static void link_into(struct tlsf *t, hl_block *b, unsigned c)
{
    struct tlsf_node *n = hl_block_node(b), **head = &t->heads[c];
    n->next = *head;
    n->pprev = head;
    if (*head)
        (*head)->pprev = &n->next;
    *head = n;
    t->sl_map[c >> t->sl_log2] |= sl_bit(t, c);
    t->fl_map |= (uint64_t)1 << (c >> t->sl_log2);
}

/* Take b out of list c. */
static void unlink_from(struct tlsf *t, hl_block *b, unsigned c)
{
    struct tlsf_node *n = hl_block_node(b);
    *n->pprev = n->next;
    if (n->next)
        n->next->pprev = n->pprev;
    if (!t->heads[c] && !(t->sl_map[c >> t->sl_log2] &= ~sl_bit(t, c)))
        t->fl_map &= ~((uint64_t)1 << (c >> t->sl_log2));
}

START_TEST(checker_catches_corruption)
{
    hl_heap *h = checker_heap();
    struct tlsf *t = state(h);
    const struct hl_policy *pol = tlsf_policy();
    unsigned s = t->sl_log2, c = 0, e = 0;
    while (!t->heads[c])
        c++;
    while (t->heads[e])
        e++;
    ck_assert_ptr_nonnull(t->heads[c]->next); /* two blocks in each list */
    uint32_t saved = t->sl_map[c >> s], esaved = t->sl_map[e >> s];
    uint64_t fsaved = t->fl_map;

    /* the bit of a non-empty list cleared */
    t->sl_map[c >> s] &= ~sl_bit(t, c);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    t->sl_map[c >> s] = saved;
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* its first-level bit cleared */
    t->fl_map &= ~((uint64_t)1 << (c >> s));
    ck_assert_int_gt(hl_check(h, NULL), 0);
    t->fl_map = fsaved;
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* the bit of an empty list set */
    t->sl_map[e >> s] |= sl_bit(t, e);
    t->fl_map |= (uint64_t)1 << (e >> s);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    t->sl_map[e >> s] = esaved;
    t->fl_map = fsaved;
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* a block misfiled in the class above its own */
    hl_block *b = hl_node_block(t->heads[c]);
    unlink_from(t, b, c);
    link_into(t, b, c + 1);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    unlink_from(t, b, c + 1);
    pol->insert(t, b);
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* a free block missing from the lists */
    pol->remove(t, b);
    ck_assert_int_gt(hl_check(h, NULL), 0);
    pol->insert(t, b);
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* a wrong back link */
    struct tlsf_node *first = t->heads[c], *second = first->next;
    struct tlsf_node **pp = second->pprev, *next = second->next;
    second->pprev = &t->heads[c];
    ck_assert_int_gt(hl_check(h, NULL), 0);
    second->pprev = pp;
    ck_assert_int_eq(hl_check(h, stderr), 0);

    /* a cycle is reported, not followed forever */
    second->next = first;
    ck_assert_int_gt(hl_check(h, NULL), 0);
    second->next = next;
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

/* ---- good fit --------------------------------------------------------------- */

/* Free blocks X (1024 bytes) and Y (1040) share the class [1024, 1056) of
 * sl = 32; Z (2048) is alone in [2048, 2112).  A 1040-byte request rounds
 * up to [1056, 1088): TLSF passes over Y (which would fit) and X (which
 * would not) and takes Z. */
START_TEST(good_fit_passes_over_own_class)
{
    hl_heap *h = make_heap(32, 16, 0);
    const struct hl_policy *pol = tlsf_policy();
    void *x = hl_malloc(h, 1016);
    ck_assert_ptr_nonnull(hl_malloc(h, 16)); /* a block in use between */
    void *y = hl_malloc(h, 1032);
    ck_assert_ptr_nonnull(hl_malloc(h, 16)); /* a block in use between */
    void *z = hl_malloc(h, 2040);
    ck_assert_ptr_nonnull(hl_malloc(h, 16)); /* a block in use between */
    ck_assert_uint_eq(hl_block_size(hl_payload_block(x)), 1024);
    ck_assert_uint_eq(hl_block_size(hl_payload_block(y)), 1040);
    ck_assert_uint_eq(hl_block_size(hl_payload_block(z)), 2048);
    hl_free(h, x);
    hl_free(h, y);
    hl_free(h, z);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    struct tlsf *t = state(h);
    ck_assert_ptr_eq(pol->find(t, 1040), hl_payload_block(z));
    ck_assert_ptr_eq(pol->find(t, 1056), hl_payload_block(z));
    ck_assert_ptr_eq(pol->find(t, 2048), hl_payload_block(z));
    ck_assert_ptr_null(pol->find(t, 2064));
    hl_block *b = pol->find(t, 1024); /* the class of 1024 holds only blocks >= 1024 */
    ck_assert(b == hl_payload_block(x) || b == hl_payload_block(y));
    void *p = hl_malloc(h, 1032);
    ck_assert_ptr_eq(p, z); /* split off the front of Z */
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

struct free_list {
    hl_block *b[4096];
    size_t n;
};

static int collect_free(const struct hl_block_info *bi, void *arg)
{
    struct free_list *fl = arg;
    if (bi->state == HL_BLOCK_FREE && fl->n < sizeof fl->b / sizeof fl->b[0])
        fl->b[fl->n++] = bi->addr;
    return 0;
}

/* After random traffic, find(size) for many sizes returns a block of the
 * smallest non-empty class at or above the rounded class - computed here
 * from the heap's free blocks - and that block holds size bytes. */
START_TEST(good_fit_smallest_class_at_or_above_rounded)
{
    long sl = _i ? 16 : 32;
    hl_heap *h = make_heap(sl, 16, 0);
    const struct hl_policy *pol = tlsf_policy();
    struct tlsf *t = state(h);
    unsigned s = t->sl_log2;
    enum { N = 3000 };
    static void *p[N];
    unsigned long long seed = 99;
    memset(p, 0, sizeof p);
    for (int op = 0; op < 40000; op++) {
        int i = (int)(rnd(&seed) % N);
        if (p[i]) {
            hl_free(h, p[i]);
            p[i] = NULL;
        } else {
            p[i] = hl_malloc(h, random_size(&seed));
            REQUIRE(p[i], "malloc failed");
        }
    }
    ck_assert_int_eq(hl_check(h, stderr), 0);
    static struct free_list fl;
    fl.n = 0;
    hl_walk(h, collect_free, &fl);
    ck_assert_uint_gt(fl.n, 50);
    ck_assert_uint_lt(fl.n, sizeof fl.b / sizeof fl.b[0]);
    for (size_t size = 32; size < 400000; size += size < 4096 ? 16 : 16 * (rnd(&seed) % 64 + 1)) {
        unsigned want = UINT32_MAX, rc = tlsf_search_class(size, s);
        for (size_t k = 0; k < fl.n; k++) {
            unsigned c = tlsf_class(hl_block_size(fl.b[k]), s);
            if (c >= rc && c < want)
                want = c;
        }
        hl_block *b = pol->find(t, size);
        if (want == UINT32_MAX) {
            REQUIRE(!b, "find(%zu): %p, but no class from %u on has blocks", size, (void *)b, rc);
            continue;
        }
        REQUIRE(b, "find(%zu): NULL, but class %u has blocks", size, want);
        REQUIRE(hl_block_size(b) >= size, "find(%zu): a block of %zu bytes", size, hl_block_size(b));
        REQUIRE(tlsf_class(hl_block_size(b), s) == want, "find(%zu): class %u, the smallest fitting is %u",
                size, tlsf_class(hl_block_size(b), s), want);
    }
    for (int i = 0; i < N; i++)
        hl_free(h, p[i]);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

/* ---- trim ------------------------------------------------------------------- */

/* A top block whose header is the last word of a page has its node on the
 * next page; trimming the block must unfile it before that page goes
 * (found by the stress test: remove() then read decommitted memory). */
START_TEST(trim_top_block_with_node_on_next_page)
{
    size_t align = _i ? 16 : 8, page = (size_t)sysconf(_SC_PAGESIZE);
    struct hl_config cfg;
    long params[HL_MAX_PARAMS] = {32};
    hl_config_default(&cfg, tlsf_policy());
    cfg.policy_params = params;
    cfg.align = align;
    cfg.trim_threshold = 64 * 1024;
    cfg.top_pad = 0;
    hl_heap *h = hl_heap_create(&cfg);
    ck_assert_ptr_nonnull(h);
    /* the first block's header follows the 24-byte segment header */
    void *a = hl_malloc(h, page - 24 - 8 - HL_HDR_BYTES);
    void *b = hl_malloc(h, 100000);
    ck_assert_ptr_eq(hl_payload_block(b), (char *)hl_heap_base(h) + page - 8);
    hl_free(h, b);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    struct hl_stats st;
    hl_stats(h, &st);
    ck_assert_uint_eq(st.shrink_calls, 1);
    hl_free(h, a);
    ck_assert_int_eq(hl_check(h, stderr), 0);
    hl_heap_destroy(h);
}
END_TEST

Suite *make_tlsf_suite(void)
{
    Suite *s = suite_create("tlsf");
    TCase *tc = tcase_create("mapping");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, mapping_insert_and_search, TLSF_SL_LOG2_MIN, TLSF_SL_LOG2_MAX + 1);
    tcase_add_test(tc, sl_parameter);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, random_stress_checked, 0,
                        (int)(sizeof stress_variants / sizeof stress_variants[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("checker");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, checker_catches_corruption);
    suite_add_tcase(s, tc);

    tc = tcase_create("good-fit");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, good_fit_passes_over_own_class);
    tcase_add_loop_test(tc, good_fit_smallest_class_at_or_above_rounded, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("trim");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, trim_top_block_with_node_on_next_page, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
