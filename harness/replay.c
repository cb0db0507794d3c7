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
 * more than its page faults.  The footprint figures come from this pass.
 *
 * The timed passes replay the same operations with nothing else in the
 * loop, on a fresh heap each; the best one counts (the others are noise
 * from the machine, not the allocator).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static hl_heap *make_heap(const struct hl_policy_spec *spec, const struct hl_replay_config *cfg)
{
    struct hl_config c;
    hl_config_default(&c, spec->policy);
    c.policy_params = spec->params;
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
    hl_heap *h;
    struct live *blk; /* by id */
    struct hl_rb_root live;
    uint64_t live_bytes, peak_live;
    uint64_t op; /* index of the operation being replayed */
    struct hl_result *r;
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
        size_t align = c->cfg->align;
        if (op->type == HL_OP_ALLOC) {
            p = hl_malloc(c->h, op->size);
        } else if (op->type == HL_OP_CALLOC) {
            p = hl_calloc(c->h, 1, op->size);
        } else {
            size_t a = (size_t)1 << op->align_log2;
            p = hl_memalign(c->h, a, op->size);
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
            hl_free(c->h, NULL);
            return 0;
        }
        if ((bad = verify(b->p, b->size, b->seed, b->size)) >= 0)
            return fail(c, "integrity error: id %u corrupted at offset %lld", id, (long long)bad);
        p = b->p;
        retire(c, id);
        hl_free(c->h, p);
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
        p = hl_realloc(c->h, from, op->size);
        if (op->size == 0 && from)
            return 0; /* realloc(p, 0) freed it */
        if (!p)
            return fail(c, "out of memory (%llu bytes)", (unsigned long long)op->size);
        uint64_t kept = old < op->size ? old : op->size;
        if (from && (bad = verify(p, old, b->seed, kept)) >= 0)
            return fail(c, "integrity error: realloc of id %u lost offset %lld", id, (long long)bad);
        if (admit(c, id, p, op->size, c->cfg->align))
            return -1;
        fill(p, op->size, b->seed);
        return 0;
    }
    }
    return fail(c, "unknown operation '%c'", op->type);
}

static int checked_pass(const struct hl_trace *t, const struct hl_policy_spec *spec,
                        const struct hl_replay_config *cfg, struct hl_result *r)
{
    struct checked c = {.t = t, .cfg = cfg, .r = r};
    c.h = make_heap(spec, cfg);
    if (!c.h) {
        snprintf(r->status, sizeof r->status, "cannot create the heap: %s", strerror(errno));
        return -1;
    }
    c.blk = calloc(t->num_ids ? t->num_ids : 1, sizeof *c.blk);
    if (!c.blk) {
        hl_heap_destroy(c.h);
        snprintf(r->status, sizeof r->status, "out of memory for %u ids", t->num_ids);
        return -1;
    }
    int rc = 0;
    for (c.op = 0; c.op < t->nops && rc == 0; c.op++) {
        rc = checked_op(&c, &t->ops[c.op]);
        if (rc == 0 && cfg->check_every && (c.op + 1) % cfg->check_every == 0) {
            int v = hl_check(c.h, stderr);
            if (v)
                rc = fail(&c, "heap check found %d violations", v);
        }
    }
    if (rc == 0) {
        c.op = t->nops - 1;
        int v = hl_check(c.h, stderr);
        if (v)
            rc = fail(&c, "heap check found %d violations", v);
    }
    struct hl_stats st;
    hl_stats(c.h, &st);
    r->peak_live_bytes = c.peak_live;
    r->peak_heap_bytes = st.peak_heap_bytes;
    r->util = st.peak_heap_bytes ? (double)c.peak_live / (double)st.peak_heap_bytes : HL_NA_F;
    r->frag = c.peak_live ? (double)st.peak_heap_bytes / (double)c.peak_live - 1 : HL_NA_F;
    r->sbrk_calls = st.grow_calls + st.shrink_calls;
    r->mmap_calls = st.mmap_calls;
    r->munmap_calls = st.munmap_calls;
    hl_heap_destroy(c.h);
    free(c.blk);
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Nothing but the allocator calls in the loop. */
static double timed_pass(const struct hl_trace *t, hl_heap *h, void **ptr)
{
    const struct hl_op *op = t->ops, *end = t->ops + t->nops;
    double start = now();
    for (; op < end; op++) {
        switch (op->type) {
        case HL_OP_ALLOC:
            ptr[op->id] = hl_malloc(h, op->size);
            break;
        case HL_OP_FREE:
            if (op->id != HL_ID_NULL) {
                hl_free(h, ptr[op->id]);
                ptr[op->id] = NULL;
            }
            break;
        case HL_OP_REALLOC:
            ptr[op->id] = hl_realloc(h, ptr[op->id], op->size);
            break;
        case HL_OP_CALLOC:
            ptr[op->id] = hl_calloc(h, 1, op->size);
            break;
        case HL_OP_MEMALIGN:
            ptr[op->id] = hl_memalign(h, (size_t)1 << op->align_log2, op->size);
            break;
        }
    }
    return now() - start;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hl_replay_begin(const struct hl_trace *t, const struct hl_policy_spec *spec,
                     const struct hl_replay_config *cfg, struct hl_result *r)
{
    hl_result_init(r);
    snprintf(r->trace, sizeof r->trace, "%s", t->path);
    snprintf(r->policy, sizeof r->policy, "%s", spec->label);
    snprintf(r->preset, sizeof r->preset, "%s", cfg->preset);
    snprintf(r->source, sizeof r->source, "%s", cfg->source == HL_SOURCE_SBRK ? "sbrk" : "region");
    r->align = cfg->align;
    r->mmap_threshold = cfg->mmap_threshold;
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

int hl_replay_time(const struct hl_trace *t, const struct hl_policy_spec *spec,
                   const struct hl_replay_config *cfg, struct hl_result *r)
{
    size_t nid = t->num_ids ? t->num_ids : 1;
    unsigned repeat = cfg->repeat ? cfg->repeat : 1;
    void **ptr = calloc(nid, sizeof *ptr);
    double *secs = calloc(repeat, sizeof *secs);
    if (!ptr || !secs) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "out of memory for %u ids", t->num_ids);
        free(ptr);
        free(secs);
        return 1;
    }
    /* one heap, warmed by an untimed pass and emptied between passes with
     * its pages kept, as the malloc lab's driver resets its break: the
     * first-touch page faults are the footprint's cost, measured apart */
    hl_heap *h = make_heap(spec, cfg);
    if (!h) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "cannot create the heap: %s", strerror(errno));
        free(ptr);
        free(secs);
        return 1;
    }
    for (unsigned k = 0; k <= repeat; k++) {
        if (hl_heap_reset(h) != 0) {
            r->ok = 0;
            snprintf(r->status, sizeof r->status, "cannot reset the heap: %s", strerror(errno));
            hl_heap_destroy(h);
            free(ptr);
            free(secs);
            return 1;
        }
        memset(ptr, 0, nid * sizeof *ptr);
        double s = timed_pass(t, h, ptr);
        if (k > 0)
            secs[k - 1] = s;
    }
    hl_heap_destroy(h);
    qsort(secs, repeat, sizeof *secs, cmp_double);
    double ops = (double)t->nops;
    r->ops_per_sec = secs[0] > 0 ? ops / secs[0] : HL_NA_F;
    r->ops_per_sec_median = secs[repeat / 2] > 0 ? ops / secs[repeat / 2] : HL_NA_F;
    r->ops_per_sec_min = secs[repeat - 1] > 0 ? ops / secs[repeat - 1] : HL_NA_F;
    free(ptr);
    free(secs);
    return 0;
}

int hl_replay(const struct hl_trace *t, const struct hl_policy_spec *spec, const struct hl_replay_config *cfg,
              struct hl_result *r)
{
    hl_replay_begin(t, spec, cfg, r);
    if (hl_replay_measure(t, spec, cfg, r) != 0)
        return 1;
    return hl_replay_time(t, spec, cfg, r);
}
