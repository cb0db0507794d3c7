/*
 * check_gen.c - the trace generators (harness/replay/gen.h) and `heaplab gen`:
 * determinism, the exact operation count, valid and balanced output, each
 * pattern's defining shape, a clean replay of every pattern under every
 * policy, the committed traces/ set against traces/gen.list, the command's
 * errors, and a steady trace with a million blocks live.
 *
 * The shape checks walk a trace's id lifetimes themselves (walk()), so
 * they do not trust the generator's own bookkeeping.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "gen.h"
#include "replay.h"
#include "testutil.h"
#include "trace.h"

/* For loops too hot for ck_assert (Check reports every passing one). */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            ck_abort_msg("%s", #cond);                                                             \
        }                                                                                          \
    } while (0)

#define DEAD UINT64_MAX

/* ---- helpers ----------------------------------------------------------------- */

static const struct hl_gen_pattern *pattern(const char *name)
{
    const struct hl_gen_pattern *pat = hl_gen_lookup(name);
    ck_assert_msg(pat != NULL, "pattern %s is not in the table", name);
    return pat;
}

static void gen_ok(const struct hl_gen_pattern *pat, const struct hl_gen_params *p, struct hl_trace *t)
{
    char err[256];
    int r = hl_gen(pat, p, t, err, sizeof err);
    ck_assert_msg(r == 0, "gen %s: %s", pat->name, err);
}

static struct hl_gen_params defaults(const struct hl_gen_pattern *pat)
{
    struct hl_gen_params p;
    hl_gen_defaults(pat, &p);
    return p;
}

/* The trace as hl_trace_write writes it. */
static char *written(const struct hl_trace *t, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hl_trace_write(t, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

static char *gen_text(const struct hl_gen_pattern *pat, const struct hl_gen_params *p, size_t *len)
{
    struct hl_trace t;
    gen_ok(pat, p, &t);
    char *text = written(&t, len);
    hl_trace_free(&t);
    return text;
}

/* Follow every id through the trace, as the parser does, and fail at the
 * first illegal operation.  blocks[i] and bytes[i] (when not NULL) get the
 * live blocks and requested live bytes after operation i.  Returns the
 * blocks live at the end. */
static uint64_t walk(const struct hl_trace *t, uint64_t *blocks, uint64_t *bytes)
{
    uint64_t *size = malloc((t->num_ids ? t->num_ids : 1) * sizeof *size);
    ck_assert_ptr_nonnull(size);
    for (uint32_t i = 0; i < t->num_ids; i++)
        size[i] = DEAD;
    uint64_t live = 0, lbytes = 0;
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        REQUIRE(op->id < t->num_ids, "op %" PRIu64 ": id %" PRIu32 " not below num_ids %" PRIu32, i, op->id,
                t->num_ids);
        uint64_t *s = &size[op->id];
        switch (op->type) {
        case HL_OP_ALLOC:
            REQUIRE(*s == DEAD, "op %" PRIu64 ": alloc of live id %" PRIu32, i, op->id);
            REQUIRE(op->size >= 1, "op %" PRIu64 ": alloc of 0 bytes", i);
            *s = op->size;
            live++;
            lbytes += op->size;
            break;
        case HL_OP_FREE:
            REQUIRE(*s != DEAD, "op %" PRIu64 ": free of dead id %" PRIu32, i, op->id);
            lbytes -= *s;
            *s = DEAD;
            live--;
            break;
        case HL_OP_REALLOC:
            REQUIRE(*s != DEAD, "op %" PRIu64 ": realloc of dead id %" PRIu32, i, op->id);
            REQUIRE(op->size >= 1, "op %" PRIu64 ": realloc to 0 bytes", i);
            lbytes = lbytes - *s + op->size;
            *s = op->size;
            break;
        default:
            REQUIRE(0, "op %" PRIu64 ": unexpected type '%c'", i, op->type);
        }
        if (blocks)
            blocks[i] = live;
        if (bytes)
            bytes[i] = lbytes;
    }
    free(size);
    return live;
}

/* A trace with its per-op live counts. */
struct curve {
    struct hl_trace t;
    uint64_t *blocks, *bytes;
    uint64_t end_live;
};

static void curve_gen(const struct hl_gen_pattern *pat, const struct hl_gen_params *p, struct curve *c)
{
    gen_ok(pat, p, &c->t);
    c->blocks = malloc(c->t.nops * sizeof *c->blocks);
    c->bytes = malloc(c->t.nops * sizeof *c->bytes);
    ck_assert(c->blocks && c->bytes);
    c->end_live = walk(&c->t, c->blocks, c->bytes);
}

static void curve_free(struct curve *c)
{
    hl_trace_free(&c->t);
    free(c->blocks);
    free(c->bytes);
}

static uint64_t max_bytes(const struct curve *c, uint64_t from, uint64_t to)
{
    uint64_t m = 0;
    for (uint64_t i = from; i < to; i++)
        if (c->bytes[i] > m)
            m = c->bytes[i];
    return m;
}

static const char *srcdir(void)
{
    const char *s = getenv("HEAPLAB_SRCDIR");
    return s && *s ? s : ".";
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *text = NULL;
    FILE *m = open_memstream(&text, len);
    ck_assert_ptr_nonnull(m);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, m), n);
    fclose(f);
    ck_assert_int_eq(fclose(m), 0);
    return text;
}

static char tmpdir[256];

static void make_tmpdir(void) { tl_make_tmpdir(tmpdir, sizeof tmpdir, "gen"); }

static void remove_tmpdir(void) { tl_remove_tree(tmpdir); }

/* ---- determinism, count, validity ------------------------------------------------ */

START_TEST(same_arguments_same_bytes_other_seed_other_bytes)
{
    const struct hl_gen_pattern *pat = hl_gen_at((size_t)_i);
    struct hl_gen_params p = defaults(pat);
    size_t la, lb, lc;
    char *a = gen_text(pat, &p, &la);
    char *b = gen_text(pat, &p, &lb);
    ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s: two runs with the same arguments differ", pat->name);
    p.seed = 2;
    char *c = gen_text(pat, &p, &lc);
    ck_assert_msg(la != lc || memcmp(a, c, la) != 0, "%s: seeds 1 and 2 give the same trace", pat->name);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* Every count from 1 up, odd and even: exactly n operations, valid, and
 * balanced (an odd count may leave one block). */
START_TEST(exact_count_valid_and_balanced)
{
    static const uint64_t counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 64, 99, 100, 101, 1000, 1001, 2047};
    const struct hl_gen_pattern *pat = hl_gen_at((size_t)_i);
    int has_realloc = strcmp(pat->name, "random") == 0 || strcmp(pat->name, "realloc") == 0;
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        struct hl_gen_params p = defaults(pat);
        p.ops = counts[k];
        if (pat->uses & HL_GEN_USES_LIVE) {
            if (p.ops < 2)
                continue;
            p.live = p.ops / 4 ? p.ops / 4 : 1;
        }
        struct hl_trace t;
        gen_ok(pat, &p, &t);
        ck_assert_uint_eq(t.nops, counts[k]);
        ck_assert_uint_eq(t.num_ops, counts[k]);
        uint64_t left = walk(&t, NULL, NULL);
        if (counts[k] % 2 == 0 || (has_realloc && counts[k] > 1))
            ck_assert_msg(left == 0, "%s -n %" PRIu64 ": %" PRIu64 " blocks left live", pat->name, counts[k], left);
        else
            ck_assert_msg(left <= 1, "%s -n %" PRIu64 ": %" PRIu64 " blocks left live", pat->name, counts[k], left);
        hl_trace_free(&t);
    }
}
END_TEST

/* Written and read back: the same operations, no quirks, the header right. */
START_TEST(written_trace_parses_back_identical)
{
    const struct hl_gen_pattern *pat = hl_gen_at((size_t)_i);
    struct hl_gen_params p = defaults(pat);
    struct hl_trace t, back;
    gen_ok(pat, &p, &t);
    size_t len;
    char *text = written(&t, &len);
    char err[256];
    int r = hl_trace_parse("gen.rep", text, len, NULL, &back, err, sizeof err);
    ck_assert_msg(r == 0, "%s: %s", pat->name, err);
    ck_assert_int_eq(back.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(back.num_ids, t.num_ids);
    ck_assert_uint_eq(back.nops, t.nops);
    ck_assert_uint_eq(back.sugg_heapsize, hl_trace_peak_live(&t));
    ck_assert_uint_eq(t.sugg_heapsize, back.sugg_heapsize);
    ck_assert_uint_eq(back.weight, 1);
    ck_assert(memcmp(back.ops, t.ops, t.nops * sizeof *t.ops) == 0);
    struct hl_trace_quirks none;
    memset(&none, 0, sizeof none);
    ck_assert_msg(memcmp(&back.quirks, &none, sizeof none) == 0, "%s: the trace needs upstream quirks", pat->name);
    ck_assert_msg(strncmp(t.path, "gen:", 4) == 0 && strstr(t.path, pat->name), "label %s", t.path);
    free(text);
    hl_trace_free(&t);
    hl_trace_free(&back);
}
END_TEST

START_TEST(label_names_what_differs_from_the_defaults)
{
    const struct hl_gen_pattern *pat = pattern("steady");
    struct hl_gen_params p = defaults(pat);
    struct hl_trace t;
    gen_ok(pat, &p, &t);
    ck_assert_str_eq(t.path, "gen:steady:n=4000,seed=1");
    hl_trace_free(&t);
    p.live = 10;
    p.ops = 100;
    p.sizes = HL_GEN_EXP;
    p.seed = 7;
    gen_ok(pat, &p, &t);
    ck_assert_str_eq(t.path, "gen:steady:n=100,seed=7,sizes=exp,live=10");
    hl_trace_free(&t);
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
    static const struct {
        const char *pattern;
        const char *field;
        uint64_t value;
        const char *frag;
    } cases[] = {
        {"random", "min", 0, "--min"},
        {"random", "max", 8, "--max 8 is below --min 16"},
        {"random", "max", (UINT64_C(1) << 40) + 1, "--max"},
        {"random", "mean", 100, "--mean applies to --sizes exp only"},
        {"random", "ids", 0, "--ids"},
        {"random", "ops", HL_GEN_MAX_OPS + 1, "-n"},
        {"steady", "live", 0, "--live"},
        {"steady", "ops", 10, "too small for --live"},
        {"ramp-peak-plateau", "peaks", 65, "--peaks"},
        {"ramp-peak-plateau", "mean", 5000, "--mean"},
        {"binary", "small", 0, "--small"},
        {"binary", "large", 0, "--large"},
        {"realloc", "buffers", 1025, "--buffers"},
        {"realloc", "step", 0, "--step"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct hl_gen_pattern *pat = pattern(cases[i].pattern);
        struct hl_gen_params p = defaults(pat);
        const char *f = cases[i].field;
        uint64_t v = cases[i].value;
        if (!strcmp(f, "min"))
            p.min = v;
        else if (!strcmp(f, "max"))
            p.max = v;
        else if (!strcmp(f, "mean"))
            p.mean = v;
        else if (!strcmp(f, "ids"))
            p.ids = v;
        else if (!strcmp(f, "ops"))
            p.ops = v;
        else if (!strcmp(f, "live"))
            p.live = v;
        else if (!strcmp(f, "peaks"))
            p.peaks = v;
        else if (!strcmp(f, "small"))
            p.small = v;
        else if (!strcmp(f, "large"))
            p.large = v;
        else if (!strcmp(f, "buffers"))
            p.buffers = v;
        else if (!strcmp(f, "step"))
            p.step = v;
        struct hl_trace t;
        char err[256];
        ck_assert_msg(hl_gen(pat, &p, &t, err, sizeof err) == -1, "%s %s=%" PRIu64 " accepted", cases[i].pattern, f,
                      v);
        ck_assert_msg(strstr(err, cases[i].frag) != NULL, "%s %s: message '%s' lacks '%s'", cases[i].pattern, f, err,
                      cases[i].frag);
        ck_assert_ptr_null(t.ops);
        ck_assert_ptr_null(t.path);
    }
}
END_TEST

/* ---- shapes --------------------------------------------------------------------------- */

/* steady: N allocations, then churn with exactly N live after every
 * free-allocate pair, then only frees. */
START_TEST(steady_keeps_exactly_n_live)
{
    const struct hl_gen_pattern *pat = pattern("steady");
    for (uint64_t n = 3000; n <= 3001; n++) {
        struct hl_gen_params p = defaults(pat);
        p.live = 500;
        p.ops = n;
        struct curve c;
        curve_gen(pat, &p, &c);
        const struct hl_op *ops = c.t.ops;
        ck_assert_uint_eq(c.t.num_ids, 500); /* ids reused */
        for (uint64_t i = 0; i < 500; i++)
            REQUIRE(ops[i].type == HL_OP_ALLOC, "warm-up op %" PRIu64 " is not an alloc", i);
        uint64_t drain = n - 500 + (n % 2); /* an odd count keeps one block */
        for (uint64_t i = 500; i + 1 < drain; i += 2) {
            REQUIRE(ops[i].type == HL_OP_FREE && ops[i + 1].type == HL_OP_ALLOC, "op %" PRIu64 ": not a churn pair",
                    i);
            REQUIRE(c.blocks[i + 1] == 500, "op %" PRIu64 ": %" PRIu64 " live, not 500", i + 1, c.blocks[i + 1]);
            REQUIRE(ops[i + 1].size >= 16 && ops[i + 1].size <= 256, "size %" PRIu64, ops[i + 1].size);
        }
        for (uint64_t i = drain; i < n; i++)
            REQUIRE(ops[i].type == HL_OP_FREE, "drain op %" PRIu64 " is not a free", i);
        ck_assert_uint_eq(c.end_live, n % 2);
        curve_free(&c);
    }
}
END_TEST

/* binary: small and large alternate, exactly the large ones are freed,
 * then every request is small + large bytes: more than any hole holds. */
START_TEST(binary_alternates_frees_the_large_then_asks_for_more)
{
    const struct hl_gen_pattern *pat = pattern("binary");
    struct hl_gen_params p = defaults(pat);
    struct hl_trace t;
    gen_ok(pat, &p, &t);
    uint64_t n = t.nops, k = n / 6, k3 = (n - 4 * k) / 2;
    const struct hl_op *ops = t.ops;
    unsigned char *large = calloc(t.num_ids, 1);
    ck_assert_ptr_nonnull(large);
    for (uint64_t i = 0; i < 2 * k; i++) {
        REQUIRE(ops[i].type == HL_OP_ALLOC && ops[i].size == (i % 2 ? p.large : p.small), "op %" PRIu64, i);
        large[ops[i].id] = i % 2;
    }
    uint64_t freed = 0;
    for (uint64_t i = 2 * k; i < 3 * k; i++) {
        REQUIRE(ops[i].type == HL_OP_FREE && large[ops[i].id] == 1, "op %" PRIu64 ": not a free of a large block", i);
        large[ops[i].id] = 2;
        freed++;
    }
    ck_assert_uint_eq(freed, k);
    for (uint64_t i = 3 * k; i < 3 * k + k3; i++)
        REQUIRE(ops[i].type == HL_OP_ALLOC && ops[i].size == p.small + p.large, "op %" PRIu64, i);
    for (uint64_t i = 3 * k + k3; i < n; i++)
        REQUIRE(ops[i].type == HL_OP_FREE, "op %" PRIu64 ": the drain is only frees", i);
    ck_assert_uint_eq(walk(&t, NULL, NULL), 0);
    /* the seed only orders the frees */
    p.seed = 9;
    struct hl_trace u;
    gen_ok(pat, &p, &u);
    for (uint64_t i = 0; i < n; i++)
        REQUIRE(u.ops[i].type == ops[i].type && u.ops[i].size == ops[i].size, "op %" PRIu64, i);
    free(large);
    hl_trace_free(&t);
    hl_trace_free(&u);
}
END_TEST

/* coalescing: the trace is rounds of  a^m a(fence) f^m a(sum) f(sum)
 * [f(previous fence)]  with m = 2..8, the m frees exactly the group and the
 * big request the sum of its sizes; then a short finish. */
START_TEST(coalescing_asks_for_the_sum_of_the_freed_neighbours)
{
    const struct hl_gen_pattern *pat = pattern("coalescing");
    struct hl_gen_params p = defaults(pat);
    struct hl_trace t;
    gen_ok(pat, &p, &t);
    const struct hl_op *ops = t.ops;
    uint64_t i = 0, rounds = 0, n = t.nops;
    uint32_t prev_fence = HL_ID_NULL;
    for (;;) {
        uint64_t a = 0;
        while (i + a < n && ops[i + a].type == HL_OP_ALLOC)
            a++;
        uint64_t m = a - 1, at = i + a;
        if (a < 3 || a > 9 || at + m + 2 > n)
            break;
        const struct hl_op *group = &ops[i], *fence = &ops[i + m], *frees = &ops[at], *big = &ops[at + m];
        uint64_t sum = 0;
        int ok = fence->size >= 16 && fence->size <= 64;
        for (uint64_t j = 0; j < m && ok; j++) {
            int found = 0;
            for (uint64_t f = 0; f < m; f++)
                found |= frees[f].type == HL_OP_FREE && frees[f].id == group[j].id;
            ok = found;
            sum += group[j].size;
        }
        if (!ok || big[0].type != HL_OP_ALLOC || big[1].type != HL_OP_FREE || big[1].id != big[0].id)
            break;
        REQUIRE(big[0].size == sum, "op %" PRIu64 ": asks %" PRIu64 ", the group held %" PRIu64, at + m, big[0].size,
                sum);
        i = at + m + 2;
        if (prev_fence != HL_ID_NULL) {
            REQUIRE(ops[i].type == HL_OP_FREE && ops[i].id == prev_fence, "op %" PRIu64 ": not the old fence", i);
            i++;
        }
        prev_fence = fence->id;
        rounds++;
    }
    ck_assert_uint_gt(rounds, n / 20);
    ck_assert_msg(n - i < 24, "%" PRIu64 " operations after the last round", n - i);
    ck_assert_uint_eq(walk(&t, NULL, NULL), 0);
    hl_trace_free(&t);
}
END_TEST

/* realloc: every realloc grows its buffer by exactly --step, never past
 * --max; small blocks come between; a buffer that would pass max starts
 * again at min. */
START_TEST(realloc_grows_buffers)
{
    const struct hl_gen_pattern *pat = pattern("realloc");
    struct hl_gen_params p = defaults(pat);
    struct hl_trace t;
    gen_ok(pat, &p, &t);
    uint64_t *size = calloc(t.num_ids, sizeof *size);
    ck_assert_ptr_nonnull(size);
    uint64_t reallocs = 0, smalls = 0, restarts = 0;
    for (uint64_t i = 0; i < t.nops; i++) {
        const struct hl_op *op = &t.ops[i];
        if (op->type == HL_OP_REALLOC) {
            REQUIRE(op->size == size[op->id] + p.step && op->size <= p.max,
                    "op %" PRIu64 ": realloc from %" PRIu64 " to %" PRIu64, i, size[op->id], op->size);
            reallocs++;
        } else if (op->type == HL_OP_ALLOC) {
            REQUIRE(op->size == p.min || (op->size >= 16 && op->size <= 128), "op %" PRIu64 ": alloc %" PRIu64, i,
                    op->size);
            smalls += op->size != p.min;
            restarts += op->size == p.min && i > p.buffers;
        }
        size[op->id] = op->type == HL_OP_FREE ? 0 : op->size;
    }
    ck_assert_uint_gt(reallocs, t.nops / 3);
    ck_assert_uint_gt(smalls, t.nops / 8);
    ck_assert_uint_gt(restarts, 0);
    ck_assert_uint_eq(walk(&t, NULL, NULL), 0);
    free(size);
    hl_trace_free(&t);
}
END_TEST

/* ramp-peak-plateau with its documented phase boundaries (n = 6000, two
 * peaks): ramp [0, 1500), peak [1500, 2100), plateau [2100, 2850), peak
 * [2850, 3450), plateau [3450, 4200), ramp down [4200, 6000). */
START_TEST(ramp_peak_plateau_rises_peaks_plateaus_falls)
{
    const struct hl_gen_pattern *pat = pattern("ramp-peak-plateau");
    struct hl_gen_params p = defaults(pat);
    ck_assert_uint_eq(p.ops, 6000);
    ck_assert_uint_eq(p.peaks, 2);
    struct curve c;
    curve_gen(pat, &p, &c);
    /* ramp: live bytes rise from one tenth to the next */
    for (uint64_t i = 150; i < 1500; i += 150)
        ck_assert_uint_gt(c.bytes[i + 149], c.bytes[i - 1]);
    uint64_t base = c.bytes[1499];
    ck_assert_uint_gt(base, 8 * c.bytes[149]);
    static const uint64_t peak[2][2] = {{1500, 2100}, {2850, 3450}};
    static const uint64_t plateau[2][2] = {{2100, 2850}, {3450, 4200}};
    for (int k = 0; k < 2; k++) {
        uint64_t before = c.bytes[peak[k][0] - 1];
        ck_assert_uint_gt(max_bytes(&c, peak[k][0], peak[k][1]), before + before / 2);
        /* plateau: the same number of blocks live after every pair, and
         * bytes within a tenth of where it began */
        uint64_t from = plateau[k][0], to = plateau[k][1] - 2; /* the pairs may start and end one op off */
        uint64_t b0 = c.blocks[from] > c.blocks[from + 1] ? c.blocks[from] : c.blocks[from + 1];
        uint64_t y0 = c.bytes[from];
        for (uint64_t i = from; i < to; i++) {
            REQUIRE(c.blocks[i] == b0 || c.blocks[i] + 1 == b0, "op %" PRIu64 ": %" PRIu64 " live, plateau at %" PRIu64,
                    i, c.blocks[i], b0);
            REQUIRE(c.bytes[i] < y0 + y0 / 10 && c.bytes[i] > y0 - y0 / 10, "op %" PRIu64 ": %" PRIu64 " bytes", i,
                    c.bytes[i]);
        }
        /* the plateau stays near the ramp's level (survivors of the peak
         * add a little) */
        ck_assert_uint_ge(b0, c.blocks[1499]);
        ck_assert_uint_lt(b0, c.blocks[1499] + c.blocks[1499] / 5);
    }
    /* ramp down: every tenth has fewer live bytes than the one before, to
     * nothing */
    for (uint64_t i = 4200; i + 180 <= 6000; i += 180)
        ck_assert_uint_lt(c.bytes[i + 179], c.bytes[i - 1]);
    ck_assert_uint_eq(c.bytes[5999], 0);
    ck_assert_uint_eq(c.end_live, 0);
    curve_free(&c);
}
END_TEST

/* random: live blocks never exceed --ids and reach it; all three kinds of
 * request; sizes inside the bounds, with the mean each distribution should
 * have. */
START_TEST(random_mixes_requests_within_the_pool_and_the_bounds)
{
    const struct hl_gen_pattern *pat = pattern("random");
    struct hl_gen_params p = defaults(pat);
    p.ids = 32;
    p.ops = 20000;
    struct curve c;
    curve_gen(pat, &p, &c);
    uint64_t count[256] = {0}, sum = 0, nsizes = 0, top = 0;
    for (uint64_t i = 0; i < c.t.nops; i++) {
        const struct hl_op *op = &c.t.ops[i];
        count[op->type]++;
        REQUIRE(c.blocks[i] <= 32, "op %" PRIu64 ": %" PRIu64 " live", i, c.blocks[i]);
        top = c.blocks[i] > top ? c.blocks[i] : top;
        if (op->type != HL_OP_FREE) {
            REQUIRE(op->size >= 16 && op->size <= 4096, "op %" PRIu64 ": size %" PRIu64, i, op->size);
            sum += op->size;
            nsizes++;
        }
    }
    ck_assert_uint_le(c.t.num_ids, 32);
    ck_assert_uint_eq(top, 32);
    ck_assert_uint_gt(count[HL_OP_ALLOC], c.t.nops / 5);
    ck_assert_uint_gt(count[HL_OP_FREE], c.t.nops / 5);
    ck_assert_uint_gt(count[HL_OP_REALLOC], c.t.nops / 10);
    uint64_t mean = sum / nsizes; /* uniform 16..4096: 2056 */
    ck_assert_uint_gt(mean, 2056 - 100);
    ck_assert_uint_lt(mean, 2056 + 100);
    curve_free(&c);

    /* exp, mean 271 before cutting at 4096: the floor makes it 270.5 */
    p.sizes = HL_GEN_EXP;
    curve_gen(pat, &p, &c);
    sum = nsizes = 0;
    uint64_t at_min = 0, above_4x = 0;
    for (uint64_t i = 0; i < c.t.nops; i++) {
        const struct hl_op *op = &c.t.ops[i];
        if (op->type == HL_OP_FREE)
            continue;
        REQUIRE(op->size >= 16 && op->size <= 4096, "op %" PRIu64 ": size %" PRIu64, i, op->size);
        sum += op->size;
        nsizes++;
        at_min += op->size == 16;
        above_4x += op->size > 16 + 4 * 255;
    }
    mean = sum / nsizes;
    ck_assert_uint_gt(mean, 255);
    ck_assert_uint_lt(mean, 286);
    /* P(size = min) = 1 - e^(-1/255), about 0.4%; P(E > 4 means) = e^-4, 1.8% */
    ck_assert_uint_gt(at_min, nsizes / 500);
    ck_assert_uint_gt(above_4x, nsizes / 100);
    ck_assert_uint_lt(above_4x, nsizes / 30);
    curve_free(&c);
}
END_TEST

/* ---- replay under every policy --------------------------------------------------------- */

static hl_heap *preset_heap(const struct hl_policy *pol, const struct hl_replay_config *cfg)
{
    struct hl_config c;
    hl_config_default(&c, pol);
    c.source = cfg->source;
    c.mmap_threshold = cfg->mmap_threshold;
    c.mmap_dynamic = cfg->mmap_dynamic;
    c.align = cfg->align;
    c.trim_threshold = cfg->trim_threshold;
    c.lock = 0;
    return tl_heap(&c);
}

START_TEST(every_pattern_replays_clean_under_the_policy)
{
    TL_POLICY(pol);
    static const char *const presets[] = {"linux", "malloclab"};
    for (size_t k = 0; k < hl_gen_count(); k++) {
        const struct hl_gen_pattern *pat = hl_gen_at(k);
        struct hl_gen_params p = defaults(pat);
        struct hl_trace t;
        gen_ok(pat, &p, &t);
        for (size_t s = 0; s < 2; s++) {
            struct hl_replay_config cfg;
            ck_assert_int_eq(hl_replay_preset(&cfg, presets[s]), 0);
            cfg.check_every = 97;
            hl_heap *h = preset_heap(pol, &cfg);
            struct hl_alloc a;
            hl_alloc_heap(&a, h, cfg.align);
            struct hl_result r;
            hl_result_init(&r);
            int rc = hl_replay_checked(&t, &a, &cfg, &r);
            ck_assert_msg(rc == 0, "%s under %s (%s): %s", t.path, pol->name, presets[s], r.status);
            ck_assert_uint_eq(r.peak_live_bytes, hl_trace_peak_live(&t));
            struct hl_stats st = tl_stats(h);
            ck_assert_uint_eq(st.live_blocks, 0);
            /* binary: no hole of a large block holds a later request, so a
             * boundary-tag heap (large holes never adjacent) must grow by
             * all of them - unless its policy carves small blocks from the
             * high end, which is how pack makes them adjacent */
            struct hl_placement pl;
            hl_heap_placement(h, &pl);
            if (strcmp(pat->name, "binary") == 0 && tl_core_mechanism(pol) && pl.high_below == 0) {
                uint64_t k6 = t.nops / 6, k3 = (t.nops - 4 * k6) / 2;
                ck_assert_uint_ge(st.peak_heap_bytes, (k6 + k3) * (p.small + p.large));
            }
            hl_heap_destroy(h);
        }
        hl_trace_free(&t);
    }
}
END_TEST

/* ---- the committed traces --------------------------------------------------------------- */

/* traces/gen.list, split: file names and argument vectors. */
struct listed {
    char file[128];
    char *argv[32];
    int argc;
    char line[512];
};

static size_t read_list(struct listed *out, size_t max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/traces/gen.list", srcdir());
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        struct listed *l = &out[n];
        memcpy(l->line, line, sizeof line);
        l->argc = 0;
        l->argv[l->argc++] = "gen";
        char *save = NULL, *file = strtok_r(l->line, " \t\r\n", &save);
        if (!file)
            continue;
        ck_assert_uint_lt(n, max);
        snprintf(l->file, sizeof l->file, "%s", file);
        for (char *a; (a = strtok_r(NULL, " \t\r\n", &save));) {
            ck_assert_int_lt(l->argc, 28);
            l->argv[l->argc++] = a;
        }
        n++;
    }
    fclose(f);
    return n;
}

START_TEST(committed_traces_are_what_make_traces_makes)
{
    struct listed list[32];
    size_t n = read_list(list, 32);
    ck_assert_uint_ge(n, 6);
    make_tmpdir();
    for (size_t i = 0; i < n; i++) {
        struct listed *l = &list[i];
        char out[512], committed[1024];
        ck_assert_int_lt(snprintf(out, sizeof out, "%s/%s", tmpdir, l->file), (int)sizeof out);
        ck_assert_int_lt(snprintf(committed, sizeof committed, "%s/traces/%s", srcdir(), l->file),
                         (int)sizeof committed);
        l->argv[l->argc] = "-o";
        l->argv[l->argc + 1] = out;
        l->argv[l->argc + 2] = NULL;
        ck_assert_msg(hl_cmd_gen(l->argc + 2, l->argv) == 0, "heaplab gen for %s failed", l->file);
        size_t la, lb;
        char *a = read_file(out, &la), *b = read_file(committed, &lb);
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0,
                      "traces/%s differs from what traces/gen.list makes: run 'make traces'", l->file);
        /* and it is a trace, every block freed */
        struct hl_trace t;
        char err[256];
        ck_assert_msg(hl_trace_parse(committed, b, lb, NULL, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(walk(&t, NULL, NULL), 0);
        ck_assert_uint_le(t.nops, 10000);
        hl_trace_free(&t);
        free(a);
        free(b);
    }
    remove_tmpdir();

    /* no generated trace that the list does not make */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/traces", srcdir());
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "gen-", 4) != 0)
            continue;
        int listed = 0;
        for (size_t i = 0; i < n; i++)
            listed |= strcmp(list[i].file, e->d_name) == 0;
        ck_assert_msg(listed, "traces/%s is not in traces/gen.list", e->d_name);
    }
    closedir(d);
}
END_TEST

/* ---- the command --------------------------------------------------------------------------- */

/* Run build/heaplab with args; its exit status, standard output and error
 * (malloc'd, NUL-terminated). */
static int run_cli_limited(const char *const *args, long fsize, char **out, char **err);

static int run_cli(const char *const *args, char **out, char **err) { return run_cli_limited(args, 0, out, err); }

/* With fsize > 0: no file the command writes may grow past fsize bytes
 * (RLIMIT_FSIZE; writes past it fail with EFBIG). */
static int run_cli_limited(const char *const *args, long fsize, char **out, char **err)
{
    const char *bin = getenv("HEAPLAB_BIN");
    ck_assert_msg(bin && *bin, "HEAPLAB_BIN is not set (make test sets it)");
    make_tmpdir();
    char po[512], pe[512];
    snprintf(po, sizeof po, "%s/out", tmpdir);
    snprintf(pe, sizeof pe, "%s/err", tmpdir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        if (fsize > 0) {
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            signal(SIGXFSZ, SIG_IGN);
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(127);
        }
        const char *argv[40] = {bin};
        int n = 1;
        for (; args[n - 1] && n < 39; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    size_t lo, le;
    *out = read_file(po, &lo);
    *err = read_file(pe, &le);
    remove_tmpdir();
    ck_assert_msg(WIFEXITED(st), "heaplab died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

START_TEST(cli_errors_exit_2_with_one_line)
{
    static const struct {
        const char *args[8];
        const char *frag;
    } cases[] = {
        {{"gen", NULL}, "missing PATTERN (patterns: random, binary"},
        {{"gen", "nosuch", NULL}, "unknown pattern 'nosuch' (patterns: random, binary, coalescing, realloc, "
                                  "ramp-peak-plateau, steady)"},
        {{"gen", "random", "--live", "5", NULL}, "--live does not apply to pattern 'random'"},
        {{"gen", "binary", "--sizes", "exp", NULL}, "--sizes does not apply to pattern 'binary'"},
        {{"gen", "random", "-n", "0", NULL}, "-n: expected a positive count"},
        {{"gen", "random", "-n", "12x", NULL}, "-n: expected a number, got '12x'"},
        {{"gen", "random", "--seed", "-1", NULL}, "--seed: expected a number"},
        {{"gen", "random", "-n", NULL}, "option '-n' needs a value"},
        {{"gen", "random", "--frobnicate", NULL}, "unknown option '--frobnicate'"},
        {{"gen", "random", "steady", NULL}, "unexpected argument 'steady'"},
        {{"gen", "random", "--sizes", "normal", NULL}, "--sizes: expected uniform or exp"},
        {{"gen", "steady", "--live", "100", "-n", "150", NULL}, "-n 150 is too small for --live 100"},
        {{"gen", "random", "--min", "100", "--max", "50", NULL}, "--max 50 is below --min 100"},
        {{"gen", "random", "-o", "/nonexistent-dir/x.rep", NULL}, "/nonexistent-dir/x.rep: No such file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *err;
        int rc = run_cli(cases[i].args, &out, &err);
        ck_assert_msg(rc == 2, "case %zu: exit %d, stderr: %s", i, rc, err);
        ck_assert_msg(strncmp(err, "heaplab: gen: ", 14) == 0, "case %zu: stderr '%s'", i, err);
        ck_assert_msg(strstr(err, cases[i].frag) != NULL, "case %zu: stderr '%s' lacks '%s'", i, err, cases[i].frag);
        ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "case %zu: not one line: '%s'", i, err);
        ck_assert_str_eq(out, "");
        free(out);
        free(err);
    }
}
END_TEST

START_TEST(cli_writes_what_the_api_makes_and_documents_every_pattern)
{
    static const char *const args[] = {"gen", "ramp-peak-plateau", "-n", "999", "--seed", "5", "--sizes", "uniform",
                                       "--peaks", "3", "-o", "-", NULL};
    char *out, *err;
    ck_assert_int_eq(run_cli(args, &out, &err), 0);
    ck_assert_str_eq(err, "");
    const struct hl_gen_pattern *pat = pattern("ramp-peak-plateau");
    struct hl_gen_params p = defaults(pat);
    p.ops = 999;
    p.seed = 5;
    p.sizes = HL_GEN_UNIFORM;
    p.peaks = 3;
    size_t len;
    char *want = gen_text(pat, &p, &len);
    ck_assert_uint_eq(strlen(out), len);
    ck_assert(memcmp(out, want, len) == 0);
    free(want);
    free(out);
    free(err);

    static const char *const help[] = {"gen", "--help", NULL};
    ck_assert_int_eq(run_cli(help, &out, &err), 0);
    for (size_t i = 0; i < hl_gen_count(); i++)
        ck_assert_msg(strstr(out, hl_gen_at(i)->name) != NULL, "--help does not name %s", hl_gen_at(i)->name);
    static const char *const opts[] = {"-n", "--seed", "-o", "--sizes", "--min", "--max", "--mean", "--ids",
                                       "--live", "--peaks", "--small", "--large", "--buffers", "--step"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        ck_assert_msg(strstr(out, opts[i]) != NULL, "--help does not name %s", opts[i]);
    free(out);
    free(err);
}
END_TEST

/* A write that fails halfway leaves no half-written trace behind. */
START_TEST(cli_removes_a_half_written_file)
{
    char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/heaplab-gen-half-%ld.rep", base && *base ? base : "/tmp", (long)getpid());
    const char *const args[] = {"gen", "steady", "--live", "10000", "-o", path, NULL};
    char *out, *err;
    int rc = run_cli_limited(args, 4096, &out, &err);
    ck_assert_msg(rc == 2, "exit %d, stderr: %s", rc, err);
    /* a write error reads as every command's: "heaplab: FILE: ..." */
    char want[600];
    snprintf(want, sizeof want, "heaplab: %s: File too large\n", path);
    ck_assert_msg(strcmp(err, want) == 0, "stderr: %s", err);
    struct stat st;
    ck_assert_msg(stat(path, &st) != 0, "%s was left behind", path);
    free(out);
    free(err);
}
END_TEST

/* ---- a million live blocks ---------------------------------------------------------------- */

/* The scaling sweeps' largest size.  Counts only: no timing. */
START_TEST(steady_with_a_million_live_blocks)
{
    const uint64_t N = 1000000, n = 2 * N + 2000;
    const struct hl_gen_pattern *pat = pattern("steady");
    struct hl_gen_params p = defaults(pat);
    p.live = N;
    p.ops = n;
    struct hl_trace t;
    gen_ok(pat, &p, &t);
    ck_assert_uint_eq(t.nops, n);
    ck_assert_uint_eq(t.num_ids, N);
    uint64_t live = 0, max_live = 0;
    unsigned char *state = calloc(N, 1);
    ck_assert_ptr_nonnull(state);
    for (uint64_t i = 0; i < n; i++) {
        const struct hl_op *op = &t.ops[i];
        REQUIRE(op->id < N, "op %" PRIu64 ": id %" PRIu32, i, op->id);
        if (op->type == HL_OP_ALLOC) {
            REQUIRE(!state[op->id], "op %" PRIu64 ": alloc of a live id", i);
            state[op->id] = 1;
            live++;
        } else {
            REQUIRE(op->type == HL_OP_FREE && state[op->id], "op %" PRIu64 ": bad free", i);
            state[op->id] = 0;
            live--;
        }
        max_live = live > max_live ? live : max_live;
        if (i >= N && i < n - N && (i - N) % 2 == 1)
            REQUIRE(live == N, "op %" PRIu64 ": %" PRIu64 " live", i, live);
    }
    ck_assert_uint_eq(max_live, N);
    ck_assert_uint_eq(live, 0);
    free(state);
    hl_trace_free(&t);
}
END_TEST

Suite *make_gen_suite(void)
{
    Suite *s = suite_create("gen");
    int npat = (int)hl_gen_count();
    TCase *tc = tcase_create("determinism");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, same_arguments_same_bytes_other_seed_other_bytes, 0, npat);
    tcase_add_loop_test(tc, exact_count_valid_and_balanced, 0, npat);
    tcase_add_loop_test(tc, written_trace_parses_back_identical, 0, npat);
    tcase_add_test(tc, label_names_what_differs_from_the_defaults);
    tcase_add_test(tc, bad_parameters_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("shapes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, steady_keeps_exactly_n_live);
    tcase_add_test(tc, binary_alternates_frees_the_large_then_asks_for_more);
    tcase_add_test(tc, coalescing_asks_for_the_sum_of_the_freed_neighbours);
    tcase_add_test(tc, realloc_grows_buffers);
    tcase_add_test(tc, ramp_peak_plateau_rises_peaks_plateaus_falls);
    tcase_add_test(tc, random_mixes_requests_within_the_pool_and_the_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, every_pattern_replays_clean_under_the_policy, 0, (int)hl_policy_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("committed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, committed_traces_are_what_make_traces_makes);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cli_errors_exit_2_with_one_line);
    tcase_add_test(tc, cli_writes_what_the_api_makes_and_documents_every_pattern);
    tcase_add_test(tc, cli_removes_a_half_written_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("large");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, steady_with_a_million_live_blocks);
    suite_add_tcase(s, tc);
    return s;
}
