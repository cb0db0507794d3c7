/*
 * check_pack.c - the pack policy and the placement options of core it
 * switches on (policy.h, struct hl_placement): a small block from the high
 * end of a free block, growth by a chunk for a small block, realloc into a
 * free successor with slack, realloc sliding down into a free predecessor;
 * each rule's parameter; and the utilization targets on the CS:APP traces
 * (deterministic: a placement change shows up as a different figure).
 *
 * The directed tests build a heap for it - region source, no mmap path,
 * no trim, 16-byte alignment - so that every block size is known (a
 * request of n bytes takes an n + 8 rounded up to 16 block) and addresses
 * can be asserted exactly.
 */
#include <check.h>
#include <math.h>

#include "replay.h"
#include "testutil.h"

static hl_heap *pack_heap(const char *spec)
{
    struct hl_policy_spec sp;
    char err[256];
    ck_assert_msg(hl_policy_parse(spec, &sp, err, sizeof err) == 0, "%s", err);
    struct hl_config cfg;
    hl_config_default(&cfg, sp.policy);
    cfg.policy_params = sp.params;
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = HL_NO_TRIM;
    cfg.align = 16;
    cfg.lock = 0;
    return tl_heap(&cfg);
}

/* Blocks in use around the holes: large (not below high=96), so that the
 * heap grows for them exactly, with no chunk. */
#define GUARD 128

/* A request that takes a block of exactly `block` bytes (a multiple of 16). */
static char *take(hl_heap *h, size_t block)
{
    char *p = hl_malloc(h, block - 8);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(hl_usable_size(h, p), block - 8);
    return p;
}

/* guard | hole of `hole` bytes | guard, the hole freed: its payload. */
static char *make_hole(hl_heap *h, size_t hole, char **after)
{
    take(h, GUARD);
    char *p = take(h, hole);
    *after = take(h, GUARD);
    ck_assert_ptr_eq(*after, p + hole);
    hl_free(h, p);
    TL_CHECK(h);
    return p;
}

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(seed + i * 7);
}

static void verify(const char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(p[i] == (char)(seed + i * 7), "byte %zu lost in the move", i);
}

/* ---- high-end carving ---------------------------------------------------------- */

START_TEST(small_block_from_the_high_end)
{
    hl_heap *h = pack_heap("pack");
    char *after;
    char *hole = make_hole(h, 1024, &after);
    /* 48 < high=96: the last 48 bytes of the hole */
    char *s = take(h, 48);
    ck_assert_ptr_eq(s, hole + 1024 - 48);
    /* 160 >= 96: the front of what is left */
    char *l = take(h, 160);
    ck_assert_ptr_eq(l, hole);
    /* the next small one below the first */
    char *s2 = take(h, 32);
    ck_assert_ptr_eq(s2, s - 32);
    TL_CHECK(h);
    /* the free remainder between them coalesces on both sides when they go */
    hl_free(h, l);
    hl_free(h, s2);
    hl_free(h, s);
    TL_CHECK(h);
    ck_assert_ptr_eq(take(h, 1024), hole);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(high_is_the_threshold)
{
    /* high=64: a 64-byte block is not small any more */
    hl_heap *h = pack_heap("pack:high=64");
    char *after;
    char *hole = make_hole(h, 1024, &after);
    ck_assert_ptr_eq(take(h, 64), hole);
    ck_assert_ptr_eq(take(h, 48), hole + 1024 - 48);
    TL_CHECK(h);
    hl_heap_destroy(h);
    /* high=0: every block from the low end, as best fit */
    h = pack_heap("pack:high=0");
    hole = make_hole(h, 1024, &after);
    ck_assert_ptr_eq(take(h, 48), hole);
    ck_assert_ptr_eq(take(h, 32), hole + 48);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* A whole hole, or one that leaves less than a minimum block, is taken whole
 * whichever the end. */
START_TEST(exact_fit_is_the_hole)
{
    hl_heap *h = pack_heap("pack");
    char *after;
    char *hole = make_hole(h, 64, &after);
    ck_assert_ptr_eq(hl_malloc(h, 40), hole); /* 16 would be left: the whole 64 */
    ck_assert_uint_eq(hl_usable_size(h, hole), 64 - 8);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- growth by chunks ------------------------------------------------------------ */

struct blocks {
    size_t n;
    size_t size[16];
    int used[16];
};

/* The blocks, but the segment header and the epilogue. */
static int collect(const struct hl_block_info *bi, void *arg)
{
    struct blocks *bs = arg;
    if (bi->size < HL_MIN_BLOCK)
        return 0;
    if (bs->n < 16) {
        bs->size[bs->n] = bi->size;
        bs->used[bs->n] = bi->state == HL_BLOCK_USED;
    }
    bs->n++;
    return 0;
}

START_TEST(small_block_grows_a_chunk)
{
    hl_heap *h = pack_heap("pack");
    char *big = take(h, 16384); /* a heap of 16 KiB: a quarter is more than the 2 KiB chunk */
    char *s = take(h, 48);
    struct blocks bs = {0};
    hl_walk(h, collect, &bs);
    ck_assert_uint_eq(bs.n, 3);
    ck_assert_uint_eq(bs.size[0], 16384);
    ck_assert(!bs.used[1]);
    ck_assert_uint_eq(bs.size[1], 2048 - 48); /* the area, free below the block */
    ck_assert(bs.used[2]);
    ck_assert_ptr_eq(s, big + 16384 + 2048 - 48);
    /* a large request takes the area's front, the next small one its back */
    ck_assert_ptr_eq(take(h, 464), big + 16384);
    ck_assert_ptr_eq(take(h, 80), s - 80);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(chunk_is_at_most_a_quarter_of_the_heap)
{
    hl_heap *h = pack_heap("pack");
    take(h, 1024);
    struct hl_stats before = tl_stats(h);
    take(h, 48);
    struct hl_stats after = tl_stats(h);
    /* at most a quarter of the extent (and at least the block) */
    ck_assert_uint_le(after.extent_bytes - before.extent_bytes, before.extent_bytes / 4 + 16);
    ck_assert_uint_ge(after.extent_bytes - before.extent_bytes, 48);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(chunk_zero_grows_exactly)
{
    hl_heap *h = pack_heap("pack:chunk=0");
    char *big = take(h, 16384);
    char *s = take(h, 48);
    ck_assert_ptr_eq(s, big + 16384);
    struct blocks bs = {0};
    hl_walk(h, collect, &bs);
    ck_assert_uint_eq(bs.n, 2);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- realloc ---------------------------------------------------------------------- */

START_TEST(realloc_grows_into_the_successor_with_slack)
{
    hl_heap *h = pack_heap("pack");
    char *a = take(h, 1024);
    char *b = take(h, 4096);
    take(h, GUARD);
    hl_free(h, b);
    fill(a, 1016, 1);
    /* 1600 bytes: a block of 1616, plus 1616/16 rounded up to 16 = 112 of slack */
    char *q = hl_realloc(h, a, 1600);
    ck_assert_ptr_eq(q, a);
    ck_assert_uint_eq(hl_usable_size(h, q), 1616 + 112 - 8);
    verify(q, 1016, 1);
    /* a growth inside the slack, and a shrink inside it, leave the block as it is */
    ck_assert_ptr_eq(hl_realloc(h, q, 1700), q);
    ck_assert_uint_eq(hl_usable_size(h, q), 1616 + 112 - 8);
    ck_assert_ptr_eq(hl_realloc(h, q, 1610), q);
    ck_assert_uint_eq(hl_usable_size(h, q), 1616 + 112 - 8);
    /* a shrink beyond it gives the tail back */
    ck_assert_ptr_eq(hl_realloc(h, q, 500), q);
    ck_assert_uint_eq(hl_usable_size(h, q), 512 - 8);
    verify(q, 500, 1);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_without_slack_takes_what_it_needs)
{
    hl_heap *h = pack_heap("pack:slack=0");
    char *a = take(h, 1024);
    char *b = take(h, 4096);
    take(h, GUARD);
    hl_free(h, b);
    char *q = hl_realloc(h, a, 1600);
    ck_assert_ptr_eq(q, a);
    ck_assert_uint_eq(hl_usable_size(h, q), 1616 - 8);
    ck_assert_ptr_eq(hl_realloc(h, q, 1500), q);
    ck_assert_uint_eq(hl_usable_size(h, q), 1520 - 8); /* no slack to keep */
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* A successor too small for the slack is taken whole: no sliver is left
 * for a small block to take between the growing block and its room. */
START_TEST(realloc_takes_a_small_successor_whole)
{
    hl_heap *h = pack_heap("pack");
    char *a = take(h, 1024);
    char *b = take(h, 128);
    take(h, GUARD);
    hl_free(h, b);
    char *q = hl_realloc(h, a, 1080); /* 1088 needed, 1152 there, 80 of slack wanted */
    ck_assert_ptr_eq(q, a);
    ck_assert_uint_eq(hl_usable_size(h, q), 1152 - 8);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_slides_into_the_predecessor)
{
    hl_heap *h = pack_heap("pack:slack=0");
    take(h, GUARD);
    char *p = take(h, 2048);
    char *a = take(h, 1024);
    char *g = take(h, GUARD); /* a's successor is in use */
    hl_free(h, p);
    fill(a, 1016, 3);
    char *q = hl_realloc(h, a, 2000);
    /* down into the hole, a minimum block left free at its bottom */
    ck_assert_ptr_eq(q, p + HL_MIN_BLOCK);
    ck_assert_uint_eq(hl_usable_size(h, q), 2016 - 8);
    verify(q, 1016, 3);
    struct blocks bs = {0};
    hl_walk(h, collect, &bs);
    /* guard, the gap, q, what is left of hole and block, g */
    ck_assert_uint_eq(bs.n, 5);
    ck_assert(!bs.used[1]);
    ck_assert_uint_eq(bs.size[1], HL_MIN_BLOCK);
    ck_assert_uint_eq(bs.size[2], 2016);
    ck_assert(!bs.used[3]);
    ck_assert_uint_eq(bs.size[3], 2048 + 1024 - HL_MIN_BLOCK - 2016);
    ck_assert(bs.used[4]);
    TL_CHECK(h);
    hl_free(h, q);
    hl_free(h, g);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(realloc_prev_off_moves_the_block)
{
    hl_heap *h = pack_heap("pack:prev=0,slack=0");
    take(h, GUARD);
    char *p = take(h, 2048);
    char *a = take(h, 1024);
    char *g = take(h, GUARD);
    hl_free(h, p);
    fill(a, 1016, 5);
    char *q = hl_realloc(h, a, 2000);
    /* best fit: the hole, from its front */
    ck_assert_ptr_eq(q, p);
    verify(q, 1016, 5);
    (void)g;
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(small_predecessor_is_not_worth_a_slide)
{
    hl_heap *h = pack_heap("pack:slack=0");
    take(h, GUARD);
    char *p = take(h, 128); /* less than a quarter of the 1024-byte block */
    char *a = take(h, 1024);
    take(h, GUARD);
    hl_free(h, p);
    char *q = hl_realloc(h, a, 1100);
    ck_assert_ptr_ne(q, p + HL_MIN_BLOCK);
    ck_assert((uintptr_t)q > (uintptr_t)a); /* moved to the top */
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- parameters ------------------------------------------------------------------- */

START_TEST(rules_are_parameters)
{
    static const struct {
        const char *name;
        long def;
    } rules[] = {{"high", 96}, {"chunk", 2048}, {"prev", 1}, {"slack", 1}};
    const struct hl_policy *p = hl_policy_lookup("pack");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(hl_policy_nparams(p), 4);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(p->params[i].name, rules[i].name);
        ck_assert_int_eq(p->params[i].def, rules[i].def);
        ck_assert_int_eq(p->params[i].min, 0); /* every rule can be switched off */
        char spec[64];
        snprintf(spec, sizeof spec, "pack:%s=0", rules[i].name);
        struct hl_policy_spec sp;
        char err[256];
        ck_assert_msg(hl_policy_parse(spec, &sp, err, sizeof err) == 0, "%s", err);
        for (size_t k = 0; k < 4; k++)
            ck_assert_int_eq(sp.params[k], k == i ? 0 : rules[k].def);
    }
    struct hl_policy_spec sp;
    char err[256];
    ck_assert_int_ne(hl_policy_parse("pack:prev=2", &sp, err, sizeof err), 0);
    ck_assert_int_ne(hl_policy_parse("pack:slack=17", &sp, err, sizeof err), 0);
}
END_TEST

/* The placement options reset with the heap: init sets them again. */
START_TEST(options_survive_a_reset)
{
    hl_heap *h = pack_heap("pack");
    char *after;
    make_hole(h, 1024, &after);
    ck_assert_int_eq(hl_heap_reset(h), 0);
    char *hole = make_hole(h, 1024, &after);
    ck_assert_ptr_eq(take(h, 48), hole + 1024 - 48);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/* ---- the CS:APP traces --------------------------------------------------------------- */

static double util_of(const char *path, const char *policy)
{
    struct hl_trace t;
    char err[512];
    ck_assert_msg(hl_trace_load(path, NULL, &t, err, sizeof err) == 0, "%s", err);
    struct hl_replay_config cfg;
    ck_assert_int_eq(hl_replay_preset(&cfg, "linux"), 0);
    cfg.repeat = 1;
    struct hl_policy_spec sp;
    ck_assert_msg(hl_policy_parse(policy, &sp, err, sizeof err) == 0, "%s", err);
    struct hl_result r;
    hl_replay_begin(&t, sp.label, &cfg, &r);
    ck_assert_msg(hl_replay_measure(&t, &sp, &cfg, &r) == 0, "%s under %s: %s", path, policy, r.status);
    hl_trace_free(&t);
    return r.util;
}

static const char *const classic[] = {"amptjp",  "cccp",   "cp-decl", "expr",    "coalescing", "random",
                                      "random2", "binary", "binary2", "realloc", "realloc2"};
#define NCLASSIC (sizeof classic / sizeof classic[0])

/* The targets, default preset: mean >= 0.92 over the 11 classic
 * traces; binary >= 0.85, binary2 >= 0.70, realloc2 >= 0.90; no trace more
 * than a point below best fit (rbtree: the same placement, faster). */
START_TEST(classic_targets)
{
    const char *dir = tl_malloclab_dir("pack", "classic_targets");
    if (!dir)
        return;
    double sum = 0;
    for (size_t i = 0; i < NCLASSIC; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s-bal.rep", dir, classic[i]);
        double u = util_of(path, "pack"), bf = util_of(path, "rbtree");
        ck_assert_msg(u >= bf - 0.01, "%s: pack %.4f, best fit %.4f", classic[i], u, bf);
        if (strcmp(classic[i], "binary") == 0)
            ck_assert_msg(u >= 0.85, "binary-bal: %.4f", u);
        if (strcmp(classic[i], "binary2") == 0)
            ck_assert_msg(u >= 0.70, "binary2-bal: %.4f", u);
        if (strcmp(classic[i], "realloc2") == 0)
            ck_assert_msg(u >= 0.90, "realloc2-bal: %.4f", u);
        sum += u;
    }
    ck_assert_msg(sum / NCLASSIC >= 0.92, "mean %.4f", sum / NCLASSIC);
}
END_TEST

/* Each rule buys what the docs say on the trace it is for: switched off,
 * that trace falls back towards best fit. */
START_TEST(each_rule_pays)
{
    const char *dir = tl_malloclab_dir("pack", "each_rule_pays");
    if (!dir)
        return;
    static const struct {
        const char *trace, *spec;
        double below; /* util with the rule off stays under this */
    } cases[] = {
        {"binary", "pack:high=0", 0.60},     {"binary2", "pack:high=0", 0.50},
        {"binary", "pack:chunk=0", 0.60},    {"binary2", "pack:chunk=0", 0.50},
        {"realloc2", "pack:prev=0", 0.90},   {"realloc", "pack:slack=0", 0.90},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s-bal.rep", dir, cases[i].trace);
        double off = util_of(path, cases[i].spec), on = util_of(path, "pack");
        ck_assert_msg(off < cases[i].below && on > off, "%s under %s: %.4f (pack %.4f)", cases[i].trace,
                      cases[i].spec, off, on);
    }
}
END_TEST

/* All rules off is best fit: the same util on every classic trace. */
START_TEST(all_rules_off_is_best_fit)
{
    const char *dir = tl_malloclab_dir("pack", "all_rules_off_is_best_fit");
    if (!dir)
        return;
    for (size_t i = 0; i < NCLASSIC; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s-bal.rep", dir, classic[i]);
        double off = util_of(path, "pack:high=0,chunk=0,prev=0,slack=0"), bf = util_of(path, "rbtree");
        ck_assert_msg(off == bf, "%s: pack with no rule %.6f, best fit %.6f", classic[i], off, bf);
    }
}
END_TEST

/* The CMU 15-213 set: a mean above best fit's. */
START_TEST(cmu_mean_above_best_fit)
{
    const char *lab = tl_malloclab_dir("pack", "cmu_mean_above_best_fit");
    if (!lab)
        return;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/cmu-15213", lab);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "pack: cmu_mean_above_best_fit: SKIPPED: no CMU 15-213 traces at %s\n", dir);
        return;
    }
    double pack = 0, bf = 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".rep") != 0)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        pack += util_of(path, "pack");
        bf += util_of(path, "rbtree");
        n++;
    }
    closedir(d);
    ck_assert_int_gt(n, 0);
    ck_assert_msg(pack > bf, "mean over %d traces: pack %.4f, best fit %.4f", n, pack / n, bf / n);
}
END_TEST

Suite *make_pack_suite(void)
{
    Suite *s = suite_create("pack");
    TCase *tc = tcase_create("high end");
    tcase_add_test(tc, small_block_from_the_high_end);
    tcase_add_test(tc, high_is_the_threshold);
    tcase_add_test(tc, exact_fit_is_the_hole);
    suite_add_tcase(s, tc);
    tc = tcase_create("chunk");
    tcase_add_test(tc, small_block_grows_a_chunk);
    tcase_add_test(tc, chunk_is_at_most_a_quarter_of_the_heap);
    tcase_add_test(tc, chunk_zero_grows_exactly);
    suite_add_tcase(s, tc);
    tc = tcase_create("realloc");
    tcase_add_test(tc, realloc_grows_into_the_successor_with_slack);
    tcase_add_test(tc, realloc_without_slack_takes_what_it_needs);
    tcase_add_test(tc, realloc_takes_a_small_successor_whole);
    tcase_add_test(tc, realloc_slides_into_the_predecessor);
    tcase_add_test(tc, realloc_prev_off_moves_the_block);
    tcase_add_test(tc, small_predecessor_is_not_worth_a_slide);
    suite_add_tcase(s, tc);
    tc = tcase_create("parameters");
    tcase_add_test(tc, rules_are_parameters);
    tcase_add_test(tc, options_survive_a_reset);
    suite_add_tcase(s, tc);
    tc = tcase_create("traces");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, classic_targets);
    tcase_add_test(tc, each_rule_pays);
    tcase_add_test(tc, all_rules_off_is_best_fit);
    tcase_add_test(tc, cmu_mean_above_best_fit);
    suite_add_tcase(s, tc);
    return s;
}
