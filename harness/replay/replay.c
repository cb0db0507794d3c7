/*
 * replay.c - replay a trace on a fresh heap.
 *
 * The checked pass does what the malloc lab's driver does, and a little
 * more: every block gets a pattern derived from its id, verified when the
 * block is realloc'ed (the part that survives) and freed; every result is
 * checked for alignment and for overlap with the other live blocks (an
 * address-ordered red-black tree of live ranges); calloc'ed memory must
 * read zero.  The pattern touches a bounded number of bytes per block -
 * the first and last 16 and 32 spread between - so a huge block costs no
 * more than its page faults.  The footprint figures come from this pass,
 * and so do the fragmentation figures at the peak: the peak operation is
 * known from the trace beforehand (hl_trace_peak_op), and the pass walks
 * its heap once right after it - what a second replay up to the peak
 * would find, without replaying twice.  With --timeline or --heapmap it
 * also walks the heap at the sampled operations (metrics.c).
 *
 * The timed passes replay the same operations with nothing else in the
 * loop, on one heap emptied by hl_heap_reset before each, its pages still
 * resident (first-touch faults are the footprint's cost, measured apart);
 * an untimed warm-up pass comes first.  The best pass counts (the others
 * are noise from the machine, not the allocator); the median and the
 * slowest are reported beside it.  docs/metrics.md says exactly how.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "rb.h"
#include "replay.h"

int hl_replay_preset(struct hl_replay_config *cfg, const char *name)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->source = HL_SOURCE_REGION;
    cfg->repeat = 5;
    if (strcmp(name, "linux") == 0) {
        cfg->align = 16;
        cfg->mmap_threshold = HL_DEFAULT_MMAP_THRESHOLD;
        cfg->mmap_dynamic = 1;
        cfg->trim_threshold = HL_DEFAULT_TRIM_THRESHOLD;
    } else if (strcmp(name, "malloclab") == 0) {
        cfg->align = 8;
        cfg->mmap_threshold = 0;
        cfg->mmap_dynamic = 0;
        cfg->trim_threshold = HL_NO_TRIM;
    } else {
        return -1;
    }
    snprintf(cfg->preset, sizeof cfg->preset, "%s", name);
    return 0;
}

/* "off", or v in the largest binary unit that divides it exactly. */
static void size_word(size_t v, int off, char *buf, size_t len)
{
    if (off)
        snprintf(buf, len, "off");
    else if (v && v % ((size_t)1 << 20) == 0)
        snprintf(buf, len, "%zuM", v >> 20);
    else if (v && v % 1024 == 0)
        snprintf(buf, len, "%zuK", v >> 10);
    else
        snprintf(buf, len, "%zu", v);
}

void hl_replay_regime(size_t trim_threshold, size_t mmap_threshold, int dynamic, char *buf, size_t len)
{
    char trim[32], mmap[32];
    size_word(trim_threshold, trim_threshold == HL_NO_TRIM, trim, sizeof trim);
    size_word(mmap_threshold, mmap_threshold == 0, mmap, sizeof mmap);
    snprintf(buf, len, "trim=%s mmap=%s%s", trim, mmap, dynamic && mmap_threshold ? " dyn" : "");
}

static hl_heap *make_heap(const struct hl_policy_spec *spec, const struct hl_replay_config *cfg)
{
    struct hl_config c;
    hl_config_default(&c, spec->policy);
    c.policy_params = spec->params;
    c.cache = spec->cache;
    c.source = cfg->source;
    c.region_capacity = cfg->region_capacity;
    c.mmap_threshold = cfg->mmap_threshold;
    c.mmap_dynamic = cfg->mmap_dynamic;
    c.align = cfg->align;
    c.trim_threshold = cfg->trim_threshold;
    c.lock = 0;
    return hl_heap_create(&c);
}

/* ---- payload patterns ------------------------------------------------------- */

#define EDGE 16u
#define SPREAD 32u
#define MAX_PROBES (2 * EDGE + SPREAD + 1)

/* The offsets of an n-byte block that carry the pattern, ascending. */
static size_t probe_set(uint64_t n, uint64_t *out)
{
    size_t k = 0;
    if (n <= 2 * EDGE + SPREAD) {
        for (uint64_t i = 0; i < n; i++)
            out[k++] = i;
        return k;
    }
    for (uint64_t i = 0; i < EDGE; i++)
        out[k++] = i;
    uint64_t step = (n - 2 * EDGE) / (SPREAD + 1);
    for (uint64_t j = 1; j <= SPREAD; j++)
        out[k++] = EDGE + j * step;
    for (uint64_t i = n - EDGE; i < n; i++)
        out[k++] = i;
    return k;
}

static inline unsigned char pattern(uint32_t seed, uint64_t i)
{
    return (unsigned char)(seed + (uint32_t)i * 0x9du + (uint32_t)(i >> 8) * 0x3bu);
}

static void fill(unsigned char *p, uint64_t n, uint32_t seed)
{
    uint64_t at[MAX_PROBES];
    size_t k = probe_set(n, at);
    for (size_t j = 0; j < k; j++)
        p[at[j]] = pattern(seed, at[j]);
}

/* First probe offset below `limit` that lost its pattern, or -1. */
static int64_t verify(const unsigned char *p, uint64_t n, uint32_t seed, uint64_t limit)
{
    uint64_t at[MAX_PROBES];
    size_t k = probe_set(n, at);
    for (size_t j = 0; j < k && at[j] < limit; j++)
        if (p[at[j]] != pattern(seed, at[j]))
            return (int64_t)at[j];
    return -1;
}

static int64_t verify_zero(const unsigned char *p, uint64_t n)
{
    uint64_t at[MAX_PROBES];
    size_t k = probe_set(n, at);
    for (size_t j = 0; j < k; j++)
        if (p[at[j]] != 0)
            return (int64_t)at[j];
    return -1;
}

/* ---- live blocks -------------------------------------------------------------- */

struct live {
    struct hl_rb_node rb; /* in the address-ordered tree of live ranges */
    unsigned char *p;
    uint64_t size;
    uint32_t seed;
};

struct checked {
    const struct hl_trace *t;
    const struct hl_replay_config *cfg;
    const struct hl_alloc *a;
    struct live *blk; /* by id */
    struct hl_rb_root live;
    uint64_t live_bytes, peak_live;
    uint64_t op; /* index of the operation being replayed */
    struct hl_result *r;
    struct hl_sampler *smp; /* looks at the heap at the peak and at sample points, or NULL */
};

static int fail(struct checked *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct checked *c, const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->r->status, sizeof c->r->status, "%s at op %llu", what, (unsigned long long)c->op + 1);
    return -1;
}

static uint64_t span(uint64_t size) { return size ? size : 1; }

/* Add a new block to the live set: alignment and overlap checks. */
static int admit(struct checked *c, uint32_t id, unsigned char *p, uint64_t size, size_t align)
{
    if ((uintptr_t)p % align)
        return fail(c, "integrity error: id %u at %p not %zu-aligned", id, (void *)p, align);
    struct live *b = &c->blk[id];
    b->p = p;
    b->size = size;
    struct hl_rb_node **link = &c->live.node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = p < ((struct live *)(void *)parent)->p ? &parent->left : &parent->right;
    }
    hl_rb_link(&b->rb, parent, link);
    hl_rb_insert_color(&b->rb, &c->live);
    struct live *prev = (struct live *)(void *)hl_rb_prev(&b->rb);
    struct live *next = (struct live *)(void *)hl_rb_next(&b->rb);
    if (prev && prev->p + span(prev->size) > p)
        return fail(c, "integrity error: id %u overlaps id %u", id, (unsigned)(prev - c->blk));
    if (next && p + span(size) > next->p)
        return fail(c, "integrity error: id %u overlaps id %u", id, (unsigned)(next - c->blk));
    c->live_bytes += size;
    if (c->live_bytes > c->peak_live)
        c->peak_live = c->live_bytes;
    return 0;
}

static void retire(struct checked *c, uint32_t id)
{
    struct live *b = &c->blk[id];
    hl_rb_erase(&b->rb, &c->live);
    c->live_bytes -= b->size;
    b->p = NULL;
}

static uint32_t seed_for(uint32_t id, uint64_t op)
{
    uint64_t x = ((uint64_t)id << 32 ^ op) * 0x9e3779b97f4a7c15u;
    return (uint32_t)(x >> 32);
}

static int checked_op(struct checked *c, const struct hl_op *op)
{
    uint32_t id = op->id;
    struct live *b = id == HL_ID_NULL ? NULL : &c->blk[id];
    unsigned char *p;
    int64_t bad;
    switch (op->type) {
    case HL_OP_ALLOC:
    case HL_OP_CALLOC:
    case HL_OP_MEMALIGN: {
        size_t align = c->a->align;
        if (op->type == HL_OP_ALLOC) {
            p = c->a->malloc(c->a->ctx, op->size);
        } else if (op->type == HL_OP_CALLOC) {
            p = c->a->calloc(c->a->ctx, op->size);
        } else {
            size_t a = (size_t)1 << op->align_log2;
            p = c->a->memalign(c->a->ctx, a, op->size);
            if (a > align)
                align = a;
        }
        if (!p)
            return fail(c, "out of memory (%llu bytes)", (unsigned long long)op->size);
        if (op->type == HL_OP_CALLOC && (bad = verify_zero(p, op->size)) >= 0)
            return fail(c, "integrity error: calloc id %u not zero at offset %lld", id, (long long)bad);
        if (admit(c, id, p, op->size, align))
            return -1;
        b->seed = seed_for(id, c->op);
        fill(p, op->size, b->seed);
        return 0;
    }
    case HL_OP_FREE:
        if (!b) {
            c->a->free(c->a->ctx, NULL);
            return 0;
        }
        if ((bad = verify(b->p, b->size, b->seed, b->size)) >= 0)
            return fail(c, "integrity error: id %u corrupted at offset %lld", id, (long long)bad);
        p = b->p;
        retire(c, id);
        c->a->free(c->a->ctx, p);
        return 0;
    case HL_OP_REALLOC: {
        uint64_t old = 0;
        unsigned char *from = NULL;
        if (b->p) {
            if ((bad = verify(b->p, b->size, b->seed, b->size)) >= 0)
                return fail(c, "integrity error: id %u corrupted at offset %lld", id, (long long)bad);
            old = b->size;
            from = b->p;
            retire(c, id);
        } else {
            b->seed = seed_for(id, c->op);
        }
        p = c->a->realloc(c->a->ctx, from, op->size);
        if (op->size == 0 && from)
            return 0; /* realloc(p, 0) freed it */
        if (!p)
            return fail(c, "out of memory (%llu bytes)", (unsigned long long)op->size);
        uint64_t kept = old < op->size ? old : op->size;
        if (from && (bad = verify(p, old, b->seed, kept)) >= 0)
            return fail(c, "integrity error: realloc of id %u lost offset %lld", id, (long long)bad);
        if (admit(c, id, p, op->size, c->a->align))
            return -1;
        fill(p, op->size, b->seed);
        return 0;
    }
    }
    return fail(c, "unknown operation '%c'", op->type);
}

static int checked_run(const struct hl_trace *t, const struct hl_alloc *a, const struct hl_replay_config *cfg,
                       struct hl_sampler *smp, struct hl_result *r)
{
    struct checked c = {.t = t, .cfg = cfg, .a = a, .r = r, .smp = smp};
    c.blk = calloc(t->num_ids ? t->num_ids : 1, sizeof *c.blk);
    if (!c.blk) {
        snprintf(r->status, sizeof r->status, "out of memory for %u ids", t->num_ids);
        return 1;
    }
    int rc = 0;
    if (smp && hl_sample_due(smp, 0) && hl_sample(smp, 0, 0) != 0) {
        snprintf(r->status, sizeof r->status, "cannot write samples: %s at op 0", strerror(errno));
        rc = -1;
    }
    for (c.op = 0; c.op < t->nops && rc == 0; c.op++) {
        r->at_op = c.op + 1; /* shared with the parent: names the op if this one crashes */
        rc = checked_op(&c, &t->ops[c.op]);
        if (rc == 0 && a->check && cfg->check_every && (c.op + 1) % cfg->check_every == 0) {
            int v = a->check(a->ctx, stderr);
            if (v)
                rc = fail(&c, "heap check found %d violations", v);
        }
        /* after the op and its check: a failing op has no sample */
        if (rc == 0 && smp && hl_sample_due(smp, c.op + 1) && hl_sample(smp, c.op + 1, c.live_bytes) != 0)
            rc = fail(&c, "cannot write samples: %s", strerror(errno));
    }
    r->at_op = 0;
    if (rc == 0 && a->check) {
        c.op = t->nops ? t->nops - 1 : 0;
        int v = a->check(a->ctx, stderr);
        if (v)
            rc = fail(&c, "heap check found %d violations", v);
    }
    /* the counters describe the trace's operations, not the clean-up below */
    if (smp)
        hl_stats(smp->h, &smp->last);
    /* what the trace left live goes back, so the allocator ends empty -
     * unless the pass failed: an allocator caught handing out bad blocks
     * may crash when they come back, and the row keeps the first failure */
    for (uint32_t id = 0; id < t->num_ids && rc == 0; id++)
        if (c.blk[id].p)
            a->free(a->ctx, c.blk[id].p);
    r->peak_live_bytes = c.peak_live;
    free(c.blk);
    return rc ? 1 : 0;
}

int hl_replay_checked(const struct hl_trace *t, const struct hl_alloc *a, const struct hl_replay_config *cfg,
                      struct hl_result *r)
{
    return checked_run(t, a, cfg, NULL, r);
}

/* ---- allocators ------------------------------------------------------------------ */

static void *heap_malloc(void *ctx, size_t n) { return hl_malloc(ctx, n); }
static void heap_free(void *ctx, void *p) { hl_free(ctx, p); }
static void *heap_realloc(void *ctx, void *p, size_t n) { return hl_realloc(ctx, p, n); }
static void *heap_calloc(void *ctx, size_t n) { return hl_calloc(ctx, 1, n); }
static void *heap_memalign(void *ctx, size_t al, size_t n) { return hl_memalign(ctx, al, n); }
static int heap_check(void *ctx, FILE *out) { return hl_check(ctx, out); }
static uint64_t heap_resident(void *ctx) { return hl_resident_bytes(ctx); }

void hl_alloc_heap(struct hl_alloc *a, hl_heap *h, size_t align)
{
    *a = (struct hl_alloc){"heaplab",   h,          heap_malloc, heap_free, heap_realloc,
                           heap_calloc, heap_memalign, heap_check, align, NULL, heap_resident};
}

static void *sys_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}
static void sys_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static void *sys_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n);
}
static void *sys_calloc(void *ctx, size_t n)
{
    (void)ctx;
    return calloc(1, n);
}
static void *sys_memalign(void *ctx, size_t al, size_t n)
{
    (void)ctx;
    void *p = NULL;
    return posix_memalign(&p, al < sizeof(void *) ? sizeof(void *) : al, n) == 0 ? p : NULL;
}

/* The process's resident set (VmRSS), from /proc/self/statm without
 * allocating: the allocator being measured is this process's malloc. */
static uint64_t sys_resident(void *ctx)
{
    (void)ctx;
    char buf[256];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strchr(buf, ' '); /* size, then resident, in pages */
    return p ? strtoull(p + 1, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void hl_alloc_system(struct hl_alloc *a)
{
    *a = (struct hl_alloc){"system", NULL, sys_malloc, sys_free, sys_realloc, sys_calloc, sys_memalign, NULL, 16, NULL,
                           sys_resident};
}

static int checked_pass(const struct hl_trace *t, const struct hl_policy_spec *spec,
                        const struct hl_replay_config *cfg, struct hl_result *r)
{
    hl_heap *h = make_heap(spec, cfg);
    if (!h) {
        snprintf(r->status, sizeof r->status, "cannot create the heap: %s", strerror(errno));
        return -1;
    }
    /* the peak is known from the trace: the heap is walked there once, in
     * this pass, for the at-peak figures */
    uint64_t peak_op, peak_live;
    if (hl_trace_peak_op(t, &peak_op, &peak_live) != 0) {
        snprintf(r->status, sizeof r->status, "out of memory for %u ids", t->num_ids);
        hl_heap_destroy(h);
        return -1;
    }
    struct hl_sampler smp;
    hl_sampler_init(&smp, h, t, r->policy, cfg->sample_every, peak_op, cfg->timeline, cfg->heapmap, r);
    struct hl_alloc a;
    hl_alloc_heap(&a, h, cfg->align);
    int rc = checked_run(t, &a, cfg, &smp, r);
    const struct hl_stats st = smp.last;
    uint64_t live = r->peak_live_bytes;
    r->peak_heap_bytes = st.peak_heap_bytes;
    r->util = st.peak_heap_bytes ? (double)live / (double)st.peak_heap_bytes : HL_NA_F;
    r->frag = live ? (double)st.peak_heap_bytes / (double)live - 1 : HL_NA_F;
    r->sbrk_calls = st.grow_calls + st.shrink_calls;
    r->mmap_calls = st.mmap_calls;
    r->munmap_calls = st.munmap_calls;
    hl_heap_destroy(h);
    return rc ? -1 : 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The replay loop, written once and expanded for each kind of allocator so
 * that the calls in it are direct: M(n), F(p), R(p, n), C(n), A(align, n)
 * are the allocator's operations (`ctx` in scope), BEFORE and AFTER run
 * around each operation (nothing for throughput, clock reads for latency).
 * A free sets the slot to NULL, so ops after it see the id dead.
 */
#define HL_REPLAY_LOOP(t, ptr, M, F, R, C, A, BEFORE, AFTER)                                       \
    do {                                                                                           \
        const struct hl_op *op_ = (t)->ops, *end_ = (t)->ops + (t)->nops;                          \
        for (; op_ < end_; op_++) {                                                                \
            BEFORE;                                                                                \
            switch (op_->type) {                                                                   \
            case HL_OP_ALLOC:                                                                      \
                (ptr)[op_->id] = M(op_->size);                                                     \
                break;                                                                             \
            case HL_OP_FREE:                                                                       \
                if (op_->id != HL_ID_NULL) {                                                       \
                    F((ptr)[op_->id]);                                                             \
                    (ptr)[op_->id] = NULL;                                                         \
                }                                                                                  \
                break;                                                                             \
            case HL_OP_REALLOC:                                                                    \
                (ptr)[op_->id] = R((ptr)[op_->id], op_->size);                                     \
                break;                                                                             \
            case HL_OP_CALLOC:                                                                     \
                (ptr)[op_->id] = C(op_->size);                                                     \
                break;                                                                             \
            case HL_OP_MEMALIGN:                                                                   \
                (ptr)[op_->id] = A((size_t)1 << op_->align_log2, op_->size);                      \
                break;                                                                             \
            }                                                                                      \
            AFTER;                                                                                 \
        }                                                                                          \
    } while (0)

#define HEAP_M(n) hl_malloc_unlocked(ctx, n)
#define HEAP_F(p) hl_free_unlocked(ctx, p)
#define HEAP_R(p, n) hl_realloc_unlocked(ctx, p, n)
#define HEAP_C(n) hl_calloc_unlocked(ctx, 1, n)
#define HEAP_A(al, n) hl_memalign_unlocked(ctx, al, n)
#define SYS_M(n) malloc(n)
#define SYS_F(p) free(p)
#define SYS_R(p, n) realloc(p, n)
#define SYS_C(n) calloc(1, n)
#define SYS_A(al, n) sys_memalign(NULL, al, n)
#define IND_M(n) ctx->malloc(ctx->ctx, n)
#define IND_F(p) ctx->free(ctx->ctx, p)
#define IND_R(p, n) ctx->realloc(ctx->ctx, p, n)
#define IND_C(n) ctx->calloc(ctx->ctx, n)
#define IND_A(al, n) ctx->memalign(ctx->ctx, al, n)

#define LAT_BEFORE uint64_t t0_ = now_ns()
#define LAT_AFTER *lat++ = (float)(now_ns() - t0_)

/* The timed passes stay functions of their own (noinline, noclone), so that a
 * profiler can count one pass by name: make bench runs callgrind with
 * --toggle-collect=pass_* for the instructions per operation. */
#ifdef __clang__ /* clang never clones (make fuzz builds with it) */
#define TIMED_PASS __attribute__((noinline))
#else
#define TIMED_PASS __attribute__((noinline, noclone))
#endif

TIMED_PASS static double pass_heap(const struct hl_trace *t, hl_heap *ctx, void **ptr)
{
    double start = now();
    HL_REPLAY_LOOP(t, ptr, HEAP_M, HEAP_F, HEAP_R, HEAP_C, HEAP_A, (void)0, (void)0);
    return now() - start;
}

TIMED_PASS static double pass_system(const struct hl_trace *t, void **ptr)
{
    double start = now();
    HL_REPLAY_LOOP(t, ptr, SYS_M, SYS_F, SYS_R, SYS_C, SYS_A, (void)0, (void)0);
    return now() - start;
}

TIMED_PASS static double pass_alloc(const struct hl_trace *t, const struct hl_alloc *ctx, void **ptr)
{
    double start = now();
    HL_REPLAY_LOOP(t, ptr, IND_M, IND_F, IND_R, IND_C, IND_A, (void)0, (void)0);
    return now() - start;
}

static void latency_heap(const struct hl_trace *t, hl_heap *ctx, void **ptr, float *lat)
{
    HL_REPLAY_LOOP(t, ptr, HEAP_M, HEAP_F, HEAP_R, HEAP_C, HEAP_A, LAT_BEFORE, LAT_AFTER);
}

static void latency_system(const struct hl_trace *t, void **ptr, float *lat)
{
    HL_REPLAY_LOOP(t, ptr, SYS_M, SYS_F, SYS_R, SYS_C, SYS_A, LAT_BEFORE, LAT_AFTER);
}

static void latency_alloc(const struct hl_trace *t, const struct hl_alloc *ctx, void **ptr, float *lat)
{
    HL_REPLAY_LOOP(t, ptr, IND_M, IND_F, IND_R, IND_C, IND_A, LAT_BEFORE, LAT_AFTER);
}

/* What reading the clock twice costs, subtracted from every latency: the
 * median of many empty measurements. */
static double clock_overhead_ns(void)
{
    enum { N = 2001 };
    static float d[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = now_ns();
        d[i] = (float)(now_ns() - t0);
    }
    size_t k = N / 2;
    /* selection by partial sort: N is small */
    for (size_t i = 0; i <= k; i++)
        for (size_t j = i + 1; j < N; j++)
            if (d[j] < d[i]) {
                float x = d[i];
                d[i] = d[j];
                d[j] = x;
            }
    return d[k];
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void percentiles(float *lat, uint64_t n, double overhead, struct hl_result *r)
{
    if (n == 0)
        return;
    qsort(lat, n, sizeof *lat, cmp_float);
    double p50 = lat[(n - 1) / 2] - overhead, p99 = lat[(uint64_t)((double)(n - 1) * 0.99)] - overhead;
    r->p50_ns = p50 > 0 ? p50 : 0;
    r->p99_ns = p99 > 0 ? p99 : 0;
}

/* Free what a pass left live (untimed), so every pass starts alike. */
static void drain(const struct hl_trace *t, const struct hl_alloc *a, void **ptr)
{
    for (uint32_t id = 0; id < t->num_ids; id++)
        if (ptr[id]) {
            a->free(a->ctx, ptr[id]);
            ptr[id] = NULL;
        }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hl_replay_begin(const struct hl_trace *t, const char *label, const struct hl_replay_config *cfg,
                     struct hl_result *r)
{
    hl_result_init(r);
    snprintf(r->trace, sizeof r->trace, "%s", t->path);
    snprintf(r->policy, sizeof r->policy, "%s", label);
    snprintf(r->preset, sizeof r->preset, "%s", cfg->preset);
    snprintf(r->source, sizeof r->source, "%s", cfg->source == HL_SOURCE_SBRK ? "sbrk" : "region");
    r->align = cfg->align;
    r->mmap_threshold = cfg->mmap_threshold;
    hl_replay_regime(cfg->trim_threshold, cfg->mmap_threshold, cfg->mmap_dynamic, r->regime, sizeof r->regime);
    r->ops = t->nops;
    snprintf(r->status, sizeof r->status, "not run");
}

int hl_replay_measure(const struct hl_trace *t, const struct hl_policy_spec *spec,
                      const struct hl_replay_config *cfg, struct hl_result *r)
{
    if (checked_pass(t, spec, cfg, r) != 0)
        return 1;
    r->ok = 1;
    snprintf(r->status, sizeof r->status, "ok");
    return 0;
}

static void throughput(const struct hl_trace *t, double *secs, unsigned repeat, struct hl_result *r)
{
    qsort(secs, repeat, sizeof *secs, cmp_double);
    double ops = (double)t->nops;
    r->ops_per_sec = secs[0] > 0 ? ops / secs[0] : HL_NA_F;
    r->ops_per_sec_median = secs[repeat / 2] > 0 ? ops / secs[repeat / 2] : HL_NA_F;
    r->ops_per_sec_min = secs[repeat - 1] > 0 ? ops / secs[repeat - 1] : HL_NA_F;
}

static int time_fail(struct hl_result *r, const char *what)
{
    r->ok = 0;
    snprintf(r->status, sizeof r->status, "%s: %s", what, strerror(errno));
    return 1;
}

int hl_replay_time(const struct hl_trace *t, const struct hl_policy_spec *spec,
                   const struct hl_replay_config *cfg, struct hl_result *r)
{
    size_t nid = t->num_ids ? t->num_ids : 1;
    unsigned repeat = cfg->repeat ? cfg->repeat : 1;
    void **ptr = calloc(nid, sizeof *ptr);
    double *secs = calloc(repeat, sizeof *secs);
    float *lat = malloc((t->nops ? t->nops : 1) * sizeof *lat);
    hl_heap *h = NULL;
    int rc = 0;
    if (!ptr || !secs || !lat) {
        rc = time_fail(r, "out of memory for the timed passes");
        goto out;
    }
    /* one heap, warmed by an untimed pass and reset before each pass (its
     * committed pages kept, as the malloc lab's driver resets its break):
     * like the process's own malloc in a baseline row, each pass starts
     * with what the allocator's own trimming kept from the pass before */
    if (!(h = make_heap(spec, cfg))) {
        rc = time_fail(r, "cannot create the heap");
        goto out;
    }
    for (unsigned k = 0; k <= repeat + 1; k++) {
        if (hl_heap_reset(h) != 0) {
            rc = time_fail(r, "cannot reset the heap");
            goto out;
        }
        memset(ptr, 0, nid * sizeof *ptr);
        if (k <= repeat) {
            double s = pass_heap(t, h, ptr);
            if (k > 0)
                secs[k - 1] = s;
        } else {
            latency_heap(t, h, ptr, lat); /* its own pass: clock reads slow it down */
        }
    }
    /* what the heap keeps resident at the end of the run (the latency
     * pass's state, what the trace left live still in it) */
    r->rss_after_bytes = hl_resident_bytes(h);
    throughput(t, secs, repeat, r);
    percentiles(lat, t->nops, clock_overhead_ns(), r);
out:
    if (h)
        hl_heap_destroy(h);
    free(ptr);
    free(secs);
    free(lat);
    return rc;
}

int hl_replay_time_alloc(const struct hl_trace *t, const struct hl_alloc *a, const struct hl_replay_config *cfg,
                         struct hl_result *r)
{
    size_t nid = t->num_ids ? t->num_ids : 1;
    unsigned repeat = cfg->repeat ? cfg->repeat : 1;
    void **ptr = calloc(nid, sizeof *ptr);
    double *secs = calloc(repeat, sizeof *secs);
    float *lat = malloc((t->nops ? t->nops : 1) * sizeof *lat);
    if (!ptr || !secs || !lat) {
        free(ptr);
        free(secs);
        free(lat);
        return time_fail(r, "out of memory for the timed passes");
    }
    int sys = a->malloc == sys_malloc;
    uint64_t resident_before = 0;
    if (a->resident) {
        /* the harness's own arrays resident first, so that only the
         * allocator's growth counts */
        memset(ptr, 0, nid * sizeof *ptr);
        memset(lat, 0, (t->nops ? t->nops : 1) * sizeof *lat);
        resident_before = a->resident(a->ctx);
    }
    /* the allocator keeps what the warm-up pass faulted in, as glibc would */
    for (unsigned k = 0; k <= repeat + 1; k++) {
        if (a->reset && a->reset(a->ctx) != 0) { /* untimed, like drain */
            free(ptr);
            free(secs);
            free(lat);
            r->ok = 0;
            snprintf(r->status, sizeof r->status, "cannot reset the allocator before a timed pass");
            return 1;
        }
        if (k <= repeat) {
            double s = sys ? pass_system(t, ptr) : pass_alloc(t, a, ptr);
            if (k > 0)
                secs[k - 1] = s;
        } else if (sys) {
            latency_system(t, ptr, lat);
        } else {
            latency_alloc(t, a, ptr, lat);
        }
        if (k == repeat + 1 && a->resident) {
            uint64_t now_resident = a->resident(a->ctx);
            r->rss_after_bytes = now_resident > resident_before ? now_resident - resident_before : 0;
        }
        if (a->reset)
            memset(ptr, 0, nid * sizeof *ptr); /* the next reset empties the allocator */
        else
            drain(t, a, ptr);
    }
    throughput(t, secs, repeat, r);
    percentiles(lat, t->nops, clock_overhead_ns(), r);
    free(ptr);
    free(secs);
    free(lat);
    return 0;
}
