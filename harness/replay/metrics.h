/*
 * metrics.h - the figures that need a look inside the heap: fragmentation
 * at the peak, the timeline and the heap map.
 *
 * docs/metrics.md defines every figure; the definitions live here once, in
 * hl_internal_frag and hl_external_frag, for the result columns and the
 * timeline alike.
 */
#ifndef HEAPLAB_METRICS_H
#define HEAPLAB_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "heaplab/heap.h"
#include "result.h"
#include "trace.h"

/* The peak of the requested bytes of live blocks, counted as the checked
 * pass counts them (alloc, calloc and memalign add their size, realloc
 * replaces the block's size, free subtracts it), and the first operation
 * count - operations replayed, 1 for the first - at which it is reached;
 * 0 when it stays 0.  Known from the trace alone, so the checked pass can
 * look at the heap at the peak without a second replay.  -1 (errno =
 * ENOMEM) when its id table cannot be allocated. */
int hl_trace_peak_op(const struct hl_trace *t, uint64_t *peak_op, uint64_t *peak_live);

/* (block bytes - requested) / block bytes; NaN (not available) when no
 * block is in use. */
double hl_internal_frag(uint64_t block_bytes, uint64_t requested);
/* 1 - largest free block / free bytes; 0 when nothing is free. */
double hl_external_frag(uint64_t free_bytes, uint64_t largest_free);

/* ---- samples: the timeline and the heap map ---------------------------------- */

/* The CSV header lines (with newline). */
void hl_timeline_header(FILE *out);
void hl_heapmap_header(FILE *out);
/* One row of each (with newline), in the headers' columns; a NaN
 * fragmentation, or free_bytes or largest_free HL_NA_U, leaves its cell
 * empty (not available).  Whoever samples a heap writes through these, so
 * the two files have one format. */
void hl_timeline_row(FILE *out, const char *trace, const char *policy, uint64_t op, uint64_t live, uint64_t heap,
                     uint64_t free_bytes, uint64_t largest_free, double internal_frag, double external_frag);
void hl_heapmap_row(FILE *out, const char *trace, const char *policy, uint64_t op, long long offset, uint64_t size,
                    uint64_t header_bytes, const char *state);

/* When the checked pass looks at the heap, and where it writes what it
 * sees.  hl_sampler_init fills it; the checked pass calls
 * hl_sample after every operation count hl_sample_due accepts. */
struct hl_sampler {
    hl_heap *h;
    const char *trace, *policy; /* the rows' first two columns */
    uint64_t every;             /* a sample every `every` operations ... */
    uint64_t nops;              /* ... and after 0 and after the last one ... */
    uint64_t peak_op;           /* ... and at the peak (hl_trace_peak_op) */
    FILE *timeline, *heapmap;   /* where rows go; NULL for none */
    struct hl_result *r;        /* gets internal_frag and external_frag at the peak */
    struct hl_stats last;       /* the checked pass's: after the trace, before its clean-up */
};

/* every = 0: about 100 samples over the trace (every ceil(nops / 100)). */
void hl_sampler_init(struct hl_sampler *s, hl_heap *h, const struct hl_trace *t, const char *policy,
                     uint64_t every, uint64_t peak_op, FILE *timeline, FILE *heapmap, struct hl_result *r);
/* Whether to look after `done` operations; with no file to write, only at
 * the peak. */
int hl_sample_due(const struct hl_sampler *s, uint64_t done);
/* Look at the heap after `done` operations with `live` requested bytes
 * live: one timeline row, the heap-map rows, and at the peak the at-peak
 * columns of s->r.  The rows are flushed, so a replay that crashes later
 * keeps them.  0, or -1 with errno when a row could not be written. */
int hl_sample(struct hl_sampler *s, uint64_t done, uint64_t live);

#endif
