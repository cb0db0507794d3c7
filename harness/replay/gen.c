/*
 * gen.c - synthetic allocation traces.
 *
 * Each pattern is a small program that emits operations into a budget of
 * exactly n.  The shapes come from the literature and from the CS:APP
 * malloc lab's own synthetic traces:
 *
 *   random             a random walk of malloc/free/realloc over a pool of
 *                      ids (the lab's random-bal is one).
 *   binary             the lab's binary-bal: small and large blocks
 *                      alternate, the large ones are freed, then requests a
 *                      little larger than the holes arrive - a placement
 *                      policy cannot help, only the heap grows.
 *   coalescing         the lab's coalescing-bal generalised: a group of
 *                      neighbours is freed in random order, then one block
 *                      the size of the whole group is asked for.
 *   realloc            the lab's realloc-bal generalised: buffers grow in
 *                      steps while small blocks land behind them.
 *   ramp-peak-plateau  Wilson, Johnstone, Neely & Boles, "Dynamic Storage
 *                      Allocation: A Survey and Critical Review" (1995), on
 *                      real programs: they ramp (accumulate), peak (build a
 *                      big structure, use it, drop it) and plateau (churn at
 *                      a steady level).
 *   steady             N blocks live, churned one at a time: the workload of
 *                      a scaling sweep, where only N changes.
 *
 * Determinism: the PRNG is xoshiro256** (Blackman & Vigna 2018) seeded
 * through splitmix64; bounded numbers come from rejection sampling, the
 * exponential from von Neumann's comparison method (Knuth, TAOCP vol. 2,
 * 3.4.1; Devroye 1986, IV.2), which needs no logarithm.  No floating
 * point anywhere, so the bytes cannot depend on a libm or on FMA
 * contraction.
 *
 * The budget: a pattern may only emit an operation when what stays live
 * afterwards can still be freed in the operations left (room()).  When its
 * shape is done, finish() spends the rest: filler pairs, then a drain that
 * frees every live block in random order.  Mallocs and frees alone balance
 * only in an even count; with an odd one the drain keeps one block.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* ---- PRNG ------------------------------------------------------------------ */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed); /* never all zero: splitmix64 is a bijection of distinct inputs */
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), n > 0, without modulo bias: values below 2^64 mod n
 * are redrawn. */
static uint64_t below(struct rng *r, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}

/* True with probability num/den. */
static int chance(struct rng *r, uint64_t num, uint64_t den) { return below(r, den) < num; }

/* The high 64 bits of a * b, in 32-bit pieces: the same on every target. */
static uint64_t mulhi(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* An exponential variate of mean 1, as k + frac / 2^64.  Von Neumann: draw
 * x = U1, then U2, U3, ... while they keep decreasing; the run U1 > ... >
 * UN has odd length N with probability e^-x, so x is accepted then, and on
 * rejection the integer part goes up by one (geometric, ratio 1/e). */
static void exp1(struct rng *r, uint64_t *k, uint64_t *frac)
{
    for (uint64_t K = 0;; K++) {
        uint64_t x = rng_next(r), u = x;
        unsigned n = 1;
        for (;;) {
            uint64_t v = rng_next(r);
            if (v >= u)
                break;
            u = v;
            n++;
        }
        if (n & 1) {
            *k = K;
            *frac = x;
            return;
        }
    }
}

/* ---- the generator's state ---------------------------------------------------- */

struct hl_gen {
    struct hl_gen_params p; /* resolved */
    struct rng rng;
    struct hl_op *ops;
    uint64_t n, nops;
    /* Ids: perm[0, live) are the live ids, perm[live, nid) the dead ones,
     * the most recently freed at perm[live]; pos[id] is id's index in perm.
     * Allocation takes perm[live], so ids are reused newest-freed first. */
    uint32_t *perm, *pos;
    uint64_t *size; /* of each live id */
    uint32_t nid, idcap, live;
    uint64_t filler;  /* size of finish()'s filler blocks */
    uint32_t *scratch; /* n / 2 + 1 ids for a pattern's own lists */
};

static void internal_error(const char *what)
{
    fprintf(stderr, "heaplab: gen: internal error: %s\n", what);
    abort();
}

static void emit(struct hl_gen *g, int type, uint32_t id, uint64_t size)
{
    if (g->nops >= g->n)
        internal_error("a pattern overran its operation budget");
    g->ops[g->nops++] = (struct hl_op){.size = size, .id = id, .type = (uint8_t)type};
}

/* Whether `cost` more operations, leaving `live_after` blocks live, still
 * leave room to free those blocks. */
static int room(const struct hl_gen *g, uint64_t cost, uint64_t live_after)
{
    return g->nops + cost + live_after <= g->n;
}

static uint32_t op_alloc(struct hl_gen *g, uint64_t size)
{
    uint32_t id;
    if (g->live < g->nid) {
        id = g->perm[g->live];
    } else {
        if (g->nid == g->idcap)
            internal_error("more live blocks than the budget allows");
        id = g->nid++;
        g->perm[id] = id;
        g->pos[id] = id;
    }
    g->live++;
    g->size[id] = size;
    emit(g, HL_OP_ALLOC, id, size);
    return id;
}

static void op_free(struct hl_gen *g, uint32_t id)
{
    uint32_t i = g->pos[id], last = g->live - 1, other = g->perm[last];
    if (i >= g->live)
        internal_error("free of a dead id");
    g->perm[i] = other;
    g->pos[other] = i;
    g->perm[last] = id;
    g->pos[id] = last;
    g->live--;
    emit(g, HL_OP_FREE, id, 0);
}

static void op_realloc(struct hl_gen *g, uint32_t id, uint64_t size)
{
    if (g->pos[id] >= g->live)
        internal_error("realloc of a dead id");
    g->size[id] = size;
    emit(g, HL_OP_REALLOC, id, size);
}

static uint32_t random_live(struct hl_gen *g) { return g->perm[below(&g->rng, g->live)]; }

/* A size from the distribution. */
static uint64_t draw(struct hl_gen *g)
{
    const struct hl_gen_params *p = &g->p;
    if (p->sizes == HL_GEN_UNIFORM)
        return p->min + below(&g->rng, p->max - p->min + 1);
    uint64_t lambda = p->mean - p->min, span = p->max - p->min;
    if (lambda == 0)
        return p->min;
    for (;;) { /* cut at max by redrawing: acceptance >= 1 - 1/e as mean <= max */
        uint64_t k, frac;
        exp1(&g->rng, &k, &frac);
        if (k > span / lambda)
            continue;
        uint64_t v = k * lambda + mulhi(frac, lambda);
        if (v <= span)
            return p->min + v;
    }
}

/* Fisher-Yates. */
static void shuffle(struct hl_gen *g, uint32_t *v, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = below(&g->rng, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* The default filler: a block allocated and freed at once. */
static void filler_pair(struct hl_gen *g) { op_free(g, op_alloc(g, g->filler)); }

/* Spend the rest of the budget: pairs, then free every live block in random
 * order.  With an odd spare count one block stays live. */
static void finish(struct hl_gen *g, void (*pair)(struct hl_gen *))
{
    uint64_t rem = g->n - g->nops;
    if (rem < g->live)
        internal_error("more live blocks than operations left");
    uint64_t spare = rem - g->live, keep = 0;
    if (spare & 1) {
        if (g->live == 0) {
            op_alloc(g, g->filler);
            spare--;
        } else {
            spare++;
        }
        keep = 1;
    }
    for (; spare; spare -= 2)
        pair(g);
    while (g->live > keep)
        op_free(g, random_live(g));
    if (g->nops != g->n)
        internal_error("the operation count came out wrong");
}

/* ---- patterns ------------------------------------------------------------------- */

/* A random live block to a fresh size.  The block is drawn first: the two
 * draws are two statements, since the order in which a call's arguments
 * are evaluated is unspecified (gcc and clang differ), and with it the
 * bytes. */
static void realloc_random(struct hl_gen *g)
{
    uint32_t id = random_live(g);
    op_realloc(g, id, draw(g));
}

/* random: malloc 50%, free 30%, realloc to a fresh size 20%; with every id
 * live, free 60% and realloc 40%; nothing live: malloc. */
static void gen_random(struct hl_gen *g)
{
    uint64_t cap = g->p.ids;
    while (g->n - g->nops >= (uint64_t)g->live + 2) {
        uint64_t x = below(&g->rng, 100);
        if (g->live == 0 || (g->live < cap && x < 50))
            op_alloc(g, draw(g));
        else if (g->live < cap ? x < 80 : x < 60)
            op_free(g, random_live(g));
        else
            realloc_random(g);
    }
    if (g->n - g->nops == (uint64_t)g->live + 1 && g->live)
        realloc_random(g);
    finish(g, filler_pair);
}

/* binary: k (small, large) pairs, the k large freed in random order, then
 * k3 blocks of small + large bytes, which no hole can hold; the drain frees
 * the rest.  4k + 2k3 = n (n - 1 when n is odd). */
static void gen_binary(struct hl_gen *g)
{
    uint64_t k = g->n / 6, k3 = (g->n - 4 * k) / 2;
    uint64_t small = g->p.small, large = g->p.large;
    uint32_t *big = g->scratch;
    for (uint64_t i = 0; i < k; i++) {
        op_alloc(g, small);
        big[i] = op_alloc(g, large);
    }
    shuffle(g, big, k);
    for (uint64_t i = 0; i < k; i++)
        op_free(g, big[i]);
    for (uint64_t i = 0; i < k3; i++)
        op_alloc(g, small + large);
    g->filler = small;
    finish(g, filler_pair);
}

/* coalescing: rounds of m = 2..8 neighbours, a fence block behind them,
 * the neighbours freed in random order, one block of their summed sizes
 * allocated and freed, the previous round's fence freed. */
static void gen_coalescing(struct hl_gen *g)
{
    uint32_t group[8], fence = HL_ID_NULL;
    for (;;) {
        uint64_t m = 2 + below(&g->rng, 7), fixed = 3 + (fence != HL_ID_NULL);
        while (m >= 2 && !room(g, 2 * m + fixed, 1))
            m--;
        if (m < 2)
            break;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < m; i++) {
            uint64_t s = draw(g);
            sum += s;
            group[i] = op_alloc(g, s);
        }
        uint32_t next = op_alloc(g, 16 + below(&g->rng, 49));
        shuffle(g, group, m);
        for (uint64_t i = 0; i < m; i++)
            op_free(g, group[i]);
        op_free(g, op_alloc(g, sum));
        if (fence != HL_ID_NULL)
            op_free(g, fence);
        fence = next;
    }
    g->filler = g->p.min;
    finish(g, filler_pair);
}

/* realloc: B buffers start at min and grow by `step` (one at random per
 * step) until they would pass max, when they are freed and started again;
 * after half the steps a small block (16..128 bytes) is allocated, and the
 * oldest small block is freed once 2B are live. */
static void gen_realloc(struct hl_gen *g)
{
    uint64_t nb = g->p.buffers, step = g->p.step, nbuf = 0;
    uint64_t qcap = 2 * nb + 1, qhead = 0, qlen = 0;
    uint32_t buf[1024], q[2 * 1024 + 1]; /* buffers <= 1024 */
    while (nbuf < nb && room(g, 1, (uint64_t)g->live + 1))
        buf[nbuf++] = op_alloc(g, g->p.min);
    while (nbuf == nb) {
        uint64_t b = below(&g->rng, nb);
        uint64_t want = g->size[buf[b]] + step;
        if (want > g->p.max) {
            if (!room(g, 2, g->live))
                break;
            op_free(g, buf[b]);
            buf[b] = op_alloc(g, g->p.min);
        } else {
            if (!room(g, 1, g->live))
                break;
            op_realloc(g, buf[b], want);
        }
        if (chance(&g->rng, 1, 2)) {
            if (!room(g, 1, (uint64_t)g->live + 1))
                break;
            q[(qhead + qlen++) % qcap] = op_alloc(g, 16 + below(&g->rng, 113));
            if (qlen > 2 * nb) {
                if (!room(g, 1, (uint64_t)g->live - 1))
                    break;
                op_free(g, q[qhead]);
                qhead = (qhead + 1) % qcap;
                qlen--;
            }
        }
    }
    /* an odd count: one more step of growth balances it */
    if ((g->n - g->nops - g->live) % 2 == 1)
        for (uint64_t i = 0, b = nbuf ? below(&g->rng, nbuf) : 0; i < nbuf; i++, b = (b + 1) % nbuf)
            if (g->size[buf[b]] + step <= g->p.max) {
                op_realloc(g, buf[b], g->size[buf[b]] + step);
                break;
            }
    g->filler = 16;
    finish(g, filler_pair);
}

/* Phase boundaries of ramp-peak-plateau, as operation indexes: the ramp
 * ends at n/4; then peak i and plateau i alternate, the peaks sharing 20%
 * of n and the plateaus the rest of [n/4, 7n/10); the ramp down is the
 * last 30%. */
static uint64_t rpp_end(uint64_t n, uint64_t peaks, uint64_t phase)
{
    uint64_t ramp = n / 4, down = n * 7 / 10;
    if (phase == 0)
        return ramp;
    if (peaks == 0)
        return down;
    uint64_t pk = n / 5 / peaks, pl = (down - ramp - pk * peaks) / peaks;
    uint64_t i = (phase - 1) / 2;
    uint64_t end = ramp + i * (pk + pl) + pk + ((phase - 1) % 2 ? pl : 0);
    return phase == 2 * peaks ? down : end;
}

static void gen_ramp_peak_plateau(struct hl_gen *g)
{
    uint64_t n = g->n, peaks = g->p.peaks;
    /* ramp: allocate, one operation in eight a free */
    uint64_t end = rpp_end(n, peaks, 0);
    while (g->nops < end) {
        if (g->live && chance(&g->rng, 1, 8))
            op_free(g, random_live(g));
        else if (room(g, 1, (uint64_t)g->live + 1))
            op_alloc(g, draw(g));
        else
            break;
    }
    uint32_t *tmp = g->scratch;
    for (uint64_t i = 0; i < peaks; i++) {
        /* peak: blocks four times the usual size, one in sixteen of them
         * surviving into the plateau; the rest freed in random order */
        end = rpp_end(n, peaks, 2 * i + 1);
        uint64_t k = g->nops < end ? (end - g->nops) / 2 : 0, nt = 0;
        for (uint64_t j = 0; j < k && room(g, 1, (uint64_t)g->live + 1); j++) {
            if (chance(&g->rng, 1, 16))
                op_alloc(g, draw(g));
            else
                tmp[nt++] = op_alloc(g, 4 * draw(g));
        }
        shuffle(g, tmp, nt);
        for (uint64_t j = 0; j < nt; j++)
            op_free(g, tmp[j]);
        /* plateau: free one, allocate one */
        end = rpp_end(n, peaks, 2 * i + 2);
        while (g->nops + 2 <= end && room(g, 2, g->live)) {
            if (g->live)
                op_free(g, random_live(g));
            op_alloc(g, draw(g));
        }
    }
    if (peaks == 0) {
        end = rpp_end(n, 0, 1);
        while (g->nops + 2 <= end && room(g, 2, g->live)) {
            if (g->live)
                op_free(g, random_live(g));
            op_alloc(g, draw(g));
        }
    }
    /* ramp down: frees, with just enough allocations mixed in (each needs
     * a free too) that the last block goes at the last operation */
    while (g->n - g->nops >= (uint64_t)g->live + 2) {
        uint64_t rem = g->n - g->nops, spare = rem - g->live;
        if (g->live == 0 || chance(&g->rng, spare / 2, rem))
            op_alloc(g, draw(g));
        else
            op_free(g, random_live(g));
    }
    g->filler = g->p.min;
    finish(g, filler_pair);
}

/* steady: the churn step, free a random live block and allocate one. */
static void steady_pair(struct hl_gen *g)
{
    op_free(g, random_live(g));
    op_alloc(g, draw(g));
}

static void gen_steady(struct hl_gen *g)
{
    for (uint64_t i = 0; i < g->p.live; i++)
        op_alloc(g, draw(g));
    while (g->n - g->nops >= (uint64_t)g->live + 2)
        steady_pair(g);
    finish(g, steady_pair);
}

/* ---- the table --------------------------------------------------------------------- */

#define SIZES(lo, hi) .sizes = HL_GEN_UNIFORM, .min = (lo), .max = (hi)

static const struct hl_gen_pattern patterns[] = {
    {"random", "malloc/free/realloc at random over a pool of ids", HL_GEN_USES_SIZES | HL_GEN_USES_IDS,
     {.ops = 4000, .seed = 1, SIZES(16, 4096), .ids = 256}, gen_random},
    {"binary", "small, large alternate; large freed; then larger requests",
     HL_GEN_USES_BINARY, {.ops = 6000, .seed = 1, .small = 64, .large = 448}, gen_binary},
    {"coalescing", "neighbours freed, then one request as large as all of them", HL_GEN_USES_SIZES,
     {.ops = 4000, .seed = 1, SIZES(16, 4096)}, gen_coalescing},
    {"realloc", "buffers grown by realloc, small blocks landing behind",
     HL_GEN_USES_BOUNDS | HL_GEN_USES_REALLOC,
     {.ops = 4000, .seed = 1, SIZES(512, 32768), .buffers = 4, .step = 128}, gen_realloc},
    {"ramp-peak-plateau", "Wilson's phases: ramp up, peaks, plateau, ramp down",
     HL_GEN_USES_SIZES | HL_GEN_USES_PEAKS,
     {.ops = 6000, .seed = 1, .sizes = HL_GEN_EXP, .min = 16, .max = 4096, .peaks = 2}, gen_ramp_peak_plateau},
    {"steady", "N blocks live, churned one at a time (scaling sweeps)", HL_GEN_USES_SIZES | HL_GEN_USES_LIVE,
     {.ops = 0, .seed = 1, SIZES(16, 256), .live = 1000}, gen_steady},
};

#define NPATTERNS (sizeof patterns / sizeof patterns[0])

size_t hl_gen_count(void) { return NPATTERNS; }

const struct hl_gen_pattern *hl_gen_at(size_t i) { return i < NPATTERNS ? &patterns[i] : NULL; }

const struct hl_gen_pattern *hl_gen_lookup(const char *name)
{
    for (size_t i = 0; i < NPATTERNS; i++)
        if (strcmp(patterns[i].name, name) == 0)
            return &patterns[i];
    return NULL;
}

const char *hl_gen_names(void)
{
    static char names[256];
    if (!names[0]) {
        size_t len = 0;
        for (size_t i = 0; i < NPATTERNS; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", patterns[i].name);
    }
    return names;
}

void hl_gen_defaults(const struct hl_gen_pattern *pat, struct hl_gen_params *p) { *p = pat->defaults; }

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t mean_auto(const struct hl_gen_params *p) { return p->min + (p->max - p->min) / 16; }

int hl_gen_resolve(const struct hl_gen_pattern *pat, struct hl_gen_params *p, char *err, size_t errlen)
{
    unsigned u = pat->uses;
    if (errlen)
        err[0] = '\0';
    if (u & HL_GEN_USES_LIVE) {
        if (p->live < 1 || p->live > HL_GEN_MAX_OPS / 2)
            return bad(err, errlen, "--live: %" PRIu64 " is out of range 1..%" PRIu64, p->live, HL_GEN_MAX_OPS / 2);
        if (p->ops == 0)
            p->ops = 4 * p->live < HL_GEN_MAX_OPS ? 4 * p->live : HL_GEN_MAX_OPS;
        if (p->ops < 2 * p->live)
            return bad(err, errlen,
                       "-n %" PRIu64 " is too small for --live %" PRIu64
                       ": steady needs at least 2 x live operations (allocate them, free them)",
                       p->ops, p->live);
    }
    if (p->ops == 0)
        p->ops = pat->defaults.ops;
    if (p->ops < 1 || p->ops > HL_GEN_MAX_OPS)
        return bad(err, errlen, "-n: %" PRIu64 " is out of range 1..%" PRIu64, p->ops, HL_GEN_MAX_OPS);
    if (u & (HL_GEN_USES_SIZES | HL_GEN_USES_BOUNDS)) {
        if (p->min < 1 || p->min > HL_GEN_MAX_SIZE)
            return bad(err, errlen, "--min: %" PRIu64 " is out of range 1..2^40", p->min);
        if (p->max > HL_GEN_MAX_SIZE)
            return bad(err, errlen, "--max: %" PRIu64 " is out of range 1..2^40", p->max);
        if (p->max < p->min)
            return bad(err, errlen, "--max %" PRIu64 " is below --min %" PRIu64, p->max, p->min);
    }
    if (u & HL_GEN_USES_SIZES) {
        if (p->sizes != HL_GEN_UNIFORM && p->sizes != HL_GEN_EXP)
            return bad(err, errlen, "--sizes: unknown distribution %d", (int)p->sizes);
        if (p->sizes == HL_GEN_UNIFORM && p->mean)
            return bad(err, errlen, "--mean applies to --sizes exp only");
        if (p->sizes == HL_GEN_EXP) {
            if (p->mean == 0)
                p->mean = mean_auto(p);
            if (p->mean < p->min || p->mean > p->max)
                return bad(err, errlen, "--mean: %" PRIu64 " is not between --min %" PRIu64 " and --max %" PRIu64,
                           p->mean, p->min, p->max);
        }
    }
    if ((u & HL_GEN_USES_IDS) && (p->ids < 1 || p->ids > (UINT64_C(1) << 31)))
        return bad(err, errlen, "--ids: %" PRIu64 " is out of range 1..2^31", p->ids);
    if ((u & HL_GEN_USES_PEAKS) && p->peaks > 64)
        return bad(err, errlen, "--peaks: %" PRIu64 " is out of range 0..64", p->peaks);
    if (u & HL_GEN_USES_BINARY) {
        if (p->small < 1 || p->small > HL_GEN_MAX_SIZE)
            return bad(err, errlen, "--small: %" PRIu64 " is out of range 1..2^40", p->small);
        if (p->large < 1 || p->large > HL_GEN_MAX_SIZE)
            return bad(err, errlen, "--large: %" PRIu64 " is out of range 1..2^40", p->large);
    }
    if (u & HL_GEN_USES_REALLOC) {
        if (p->buffers < 1 || p->buffers > 1024)
            return bad(err, errlen, "--buffers: %" PRIu64 " is out of range 1..1024", p->buffers);
        if (p->step < 1 || p->step > HL_GEN_MAX_SIZE)
            return bad(err, errlen, "--step: %" PRIu64 " is out of range 1..2^40", p->step);
    }
    return 0;
}

/* "gen:NAME:n=N,seed=S" and every parameter the pattern reads that is not
 * its default. */
static char *make_label(const struct hl_gen_pattern *pat, const struct hl_gen_params *p)
{
    char buf[512];
    const struct hl_gen_params *d = &pat->defaults;
    unsigned u = pat->uses;
    size_t len = (size_t)snprintf(buf, sizeof buf, "gen:%s:n=%" PRIu64 ",seed=%" PRIu64, pat->name, p->ops, p->seed);
#define LABEL_FIELD(bit, field)                                                                                        \
    if ((u & (bit)) && p->field != d->field)                                                                           \
        len += (size_t)snprintf(buf + len, sizeof buf - len, "," #field "=%" PRIu64, p->field);
    if ((u & HL_GEN_USES_SIZES) && p->sizes != d->sizes)
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",sizes=%s", p->sizes == HL_GEN_EXP ? "exp" : "uniform");
    LABEL_FIELD(HL_GEN_USES_SIZES | HL_GEN_USES_BOUNDS, min)
    LABEL_FIELD(HL_GEN_USES_SIZES | HL_GEN_USES_BOUNDS, max)
    if ((u & HL_GEN_USES_SIZES) && p->sizes == HL_GEN_EXP && p->mean != mean_auto(p))
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",mean=%" PRIu64, p->mean);
    LABEL_FIELD(HL_GEN_USES_IDS, ids)
    LABEL_FIELD(HL_GEN_USES_LIVE, live)
    LABEL_FIELD(HL_GEN_USES_PEAKS, peaks)
    LABEL_FIELD(HL_GEN_USES_BINARY, small)
    LABEL_FIELD(HL_GEN_USES_BINARY, large)
    LABEL_FIELD(HL_GEN_USES_REALLOC, buffers)
    LABEL_FIELD(HL_GEN_USES_REALLOC, step)
#undef LABEL_FIELD
    (void)len;
    return strdup(buf);
}

int hl_gen(const struct hl_gen_pattern *pat, const struct hl_gen_params *params, struct hl_trace *out, char *err,
           size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct hl_gen g;
    memset(&g, 0, sizeof g);
    g.p = *params;
    if (hl_gen_resolve(pat, &g.p, err, errlen) != 0)
        return -1;
    g.n = g.p.ops;
    rng_seed(&g.rng, g.p.seed);
    /* At most (n + 1) / 2 blocks are ever live at once: each must be
     * allocated and, all but one, freed within the n operations. */
    g.idcap = (uint32_t)(g.n / 2 + 1);
    if ((pat->uses & HL_GEN_USES_IDS) && g.p.ids < g.idcap)
        g.idcap = (uint32_t)g.p.ids;
    if ((pat->uses & HL_GEN_USES_LIVE) && g.p.live + 1 < g.idcap)
        g.idcap = (uint32_t)g.p.live + 1;
    g.ops = malloc(g.n * sizeof *g.ops);
    g.perm = malloc(g.idcap * sizeof *g.perm);
    g.pos = malloc(g.idcap * sizeof *g.pos);
    g.size = malloc(g.idcap * sizeof *g.size);
    g.scratch = malloc((g.n / 2 + 1) * sizeof *g.scratch);
    char *label = make_label(pat, &g.p);
    if (!g.ops || !g.perm || !g.pos || !g.size || !g.scratch || !label) {
        free(g.ops);
        free(g.perm);
        free(g.pos);
        free(g.size);
        free(g.scratch);
        free(label);
        return bad(err, errlen, "out of memory for %" PRIu64 " operations", g.n);
    }
    g.filler = 16;
    pat->generate(&g);
    free(g.perm);
    free(g.pos);
    free(g.size);
    free(g.scratch);

    out->path = label;
    out->dialect = HL_DIALECT_CLASSIC;
    out->weight = 1;
    out->num_ids = g.nid;
    out->num_ops = g.n;
    out->ops = g.ops;
    out->nops = g.n;
    out->sugg_heapsize = hl_trace_peak_live(out);
    return 0;
}
