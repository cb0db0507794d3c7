/*
 * metrics.c - fragmentation at the peak, the timeline and the heap map.
 *
 * Internal fragmentation is the part of the blocks in use that the program
 * did not ask for (headers, alignment, rounding, a pool's slot classes, a
 * mapping's page rounding); external fragmentation is how far the free
 * memory is from being one block (1 - largest free / total free: 0 when
 * all of it is one block, near 1 when it is dust).  Both come from
 * one walk of the heap (hl_walk) at the operation they describe: the peak
 * of the live bytes for the result columns, sampled operations for the
 * timeline.  The peak operation is known from the trace before the replay
 * (hl_trace_peak_op), so the checked pass walks the heap there once, and
 * nowhere else unless samples were asked for.
 *
 * The heap map lists every block the walk reports: offset from the heap's
 * base, size, bookkeeping bytes, state.  Core's and a policy's bookkeeping
 * (segment headers, epilogues, run headers) is "used" with header_bytes =
 * size.  Mapped blocks live outside the extent at addresses of their own;
 * the map lays them out after the end of the extent, in address order, one
 * after the other, so a chart can draw one line of memory.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "out.h"
#include "output.h"

int hl_trace_peak_op(const struct hl_trace *t, uint64_t *peak_op, uint64_t *peak_live)
{
    uint64_t *size = calloc(t->num_ids ? t->num_ids : 1, sizeof *size);
    if (!size) {
        errno = ENOMEM;
        return -1;
    }
    uint64_t live = 0, peak = 0, at = 0;
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        if (op->id >= t->num_ids) /* f -1 */
            continue;
        live -= size[op->id]; /* realloc replaces; a fresh or freed id's is 0 */
        size[op->id] = op->type == HL_OP_FREE ? 0 : op->size;
        live += size[op->id];
        if (live > peak) {
            peak = live;
            at = i + 1;
        }
    }
    free(size);
    *peak_op = at;
    *peak_live = peak;
    return 0;
}

double hl_internal_frag(uint64_t block_bytes, uint64_t requested)
{
    if (block_bytes == 0)
        return HL_NA_F;
    return ((double)block_bytes - (double)requested) / (double)block_bytes; /* < 0 only for a lying walk */
}

double hl_external_frag(uint64_t free_bytes, uint64_t largest_free)
{
    if (free_bytes == 0)
        return 0;
    return 1 - (double)largest_free / (double)free_bytes;
}

/* ---- the walk -------------------------------------------------------------------- */

/* What one walk of the heap adds up. */
struct view {
    uint64_t block_bytes;  /* blocks in use, headers included; mapped blocks at their mapping's size */
    uint64_t free_bytes;   /* free blocks inside the extent (a free top block included) */
    uint64_t largest_free; /* the largest of them */
    uint64_t heap_bytes;   /* extent + mapped bytes (hl_stats) */
};

struct mapped {
    uintptr_t addr;
    size_t size, header_bytes;
};

struct look {
    struct view v;
    const struct hl_sampler *s; /* heap-map rows: NULL for none */
    uint64_t done;
    const char *base;
    uint64_t extent_end;    /* highest offset + size of a block in the extent */
    struct mapped *map;     /* mapped blocks, laid out after the walk */
    size_t nmap, capmap;
    int nomem;
};

static const char *const state_name[] = {"used", "free", "mapped", "used"};

static void map_row(const struct look *lk, long long offset, size_t size, size_t header_bytes,
                    enum hl_block_state st)
{
    hl_heapmap_row(lk->s->heapmap, lk->s->trace, lk->s->policy, lk->done, offset, size, header_bytes,
                   state_name[st]);
}

static int look_at(const struct hl_block_info *bi, void *arg)
{
    struct look *lk = arg;
    switch (bi->state) {
    case HL_BLOCK_USED:
        lk->v.block_bytes += bi->size;
        break;
    case HL_BLOCK_FREE:
        lk->v.free_bytes += bi->size;
        if (bi->size > lk->v.largest_free)
            lk->v.largest_free = bi->size;
        break;
    case HL_BLOCK_MAPPED:
        lk->v.block_bytes += bi->size;
        break;
    case HL_BLOCK_META:
        break;
    }
    if (!lk->s || !lk->s->heapmap)
        return 0;
    if (bi->state == HL_BLOCK_MAPPED) {
        if (lk->nmap == lk->capmap) {
            size_t cap = lk->capmap ? 2 * lk->capmap : 64;
            struct mapped *m = realloc(lk->map, cap * sizeof *m);
            if (!m) {
                lk->nomem = 1;
                return 1;
            }
            lk->map = m;
            lk->capmap = cap;
        }
        lk->map[lk->nmap++] = (struct mapped){(uintptr_t)bi->addr, bi->size, bi->header_bytes};
        return 0;
    }
    long long off = (long long)((const char *)bi->addr - lk->base);
    if (off >= 0 && (uint64_t)off + bi->size > lk->extent_end)
        lk->extent_end = (uint64_t)off + bi->size;
    size_t hdr = bi->state == HL_BLOCK_META ? bi->size : bi->header_bytes;
    map_row(lk, off, bi->size, hdr, bi->state);
    return 0;
}

/* ---- samples ------------------------------------------------------------------------ */

void hl_timeline_header(FILE *out)
{
    fputs("trace,policy,op,live_bytes,heap_bytes,free_bytes,largest_free,internal_frag,external_frag\n", out);
}

void hl_heapmap_header(FILE *out) { fputs("trace,policy,op,offset,size,header_bytes,state\n", out); }

void hl_sampler_init(struct hl_sampler *s, hl_heap *h, const struct hl_trace *t, const char *policy,
                     uint64_t every, uint64_t peak_op, FILE *timeline, FILE *heapmap, struct hl_result *r)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->trace = t->path;
    s->policy = policy;
    s->every = every ? every : (t->nops + 99) / 100;
    if (s->every == 0)
        s->every = 1;
    s->nops = t->nops;
    s->peak_op = peak_op;
    s->timeline = timeline;
    s->heapmap = heapmap;
    s->r = r;
}

int hl_sample_due(const struct hl_sampler *s, uint64_t done)
{
    if (!s->timeline && !s->heapmap)
        return done == s->peak_op;
    return done % s->every == 0 || done == s->nops || done == s->peak_op;
}

static int cmp_mapped(const void *a, const void *b)
{
    uintptr_t x = ((const struct mapped *)a)->addr, y = ((const struct mapped *)b)->addr;
    return (x > y) - (x < y);
}

static void frag_cell(double v, FILE *out)
{
    if (!isnan(v))
        fprintf(out, "%.9g", v);
}

static void count_cell(uint64_t v, FILE *out)
{
    if (v != HL_NA_U)
        fprintf(out, "%llu", (unsigned long long)v);
}

void hl_timeline_row(FILE *out, const char *trace, const char *policy, uint64_t op, uint64_t live, uint64_t heap,
                     uint64_t free_bytes, uint64_t largest_free, double internal_frag, double external_frag)
{
    hl_output_csv_string(trace, out);
    fputc(',', out);
    hl_output_csv_string(policy, out);
    fprintf(out, ",%llu,%llu,%llu,", (unsigned long long)op, (unsigned long long)live, (unsigned long long)heap);
    count_cell(free_bytes, out);
    fputc(',', out);
    count_cell(largest_free, out);
    fputc(',', out);
    frag_cell(internal_frag, out);
    fputc(',', out);
    frag_cell(external_frag, out);
    fputc('\n', out);
}

void hl_heapmap_row(FILE *out, const char *trace, const char *policy, uint64_t op, long long offset, uint64_t size,
                    uint64_t header_bytes, const char *state)
{
    hl_output_csv_string(trace, out);
    fputc(',', out);
    hl_output_csv_string(policy, out);
    fprintf(out, ",%llu,%lld,%llu,%llu,%s\n", (unsigned long long)op, offset, (unsigned long long)size,
            (unsigned long long)header_bytes, state);
}

int hl_sample(struct hl_sampler *s, uint64_t done, uint64_t live)
{
    struct look lk;
    memset(&lk, 0, sizeof lk);
    lk.s = s;
    lk.done = done;
    lk.base = hl_heap_base(s->h);
    hl_walk(s->h, look_at, &lk);
    if (lk.nomem) {
        free(lk.map);
        errno = ENOMEM;
        return -1;
    }
    struct hl_stats st;
    hl_stats(s->h, &st);
    lk.v.heap_bytes = st.heap_bytes;
    double in = hl_internal_frag(lk.v.block_bytes, live);
    double ex = hl_external_frag(lk.v.free_bytes, lk.v.largest_free);
    if (done == s->peak_op && s->r) {
        s->r->internal_frag = in;
        s->r->external_frag = ex;
    }
    int rc = 0;
    if (s->heapmap) {
        if (lk.nmap > 1)
            qsort(lk.map, lk.nmap, sizeof *lk.map, cmp_mapped);
        uint64_t at = lk.extent_end;
        for (size_t i = 0; i < lk.nmap; i++) {
            map_row(&lk, (long long)at, lk.map[i].size, lk.map[i].header_bytes, HL_BLOCK_MAPPED);
            at += lk.map[i].size;
        }
        if (hl_out_flush(s->heapmap) != 0)
            rc = -1;
    }
    free(lk.map);
    if (s->timeline) {
        FILE *out = s->timeline;
        hl_timeline_row(out, s->trace, s->policy, done, live, lk.v.heap_bytes, lk.v.free_bytes, lk.v.largest_free,
                        in, ex);
        if (hl_out_flush(out) != 0)
            rc = -1;
    }
    return rc;
}
