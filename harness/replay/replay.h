/*
 * replay.h - replaying a trace on a fresh heap: a checked pass that
 * measures footprint and verifies every block, and timed passes that
 * measure throughput with nothing else in the loop.
 */
#ifndef HEAPLAB_REPLAY_H
#define HEAPLAB_REPLAY_H

#include <stdint.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"
#include "result.h"
#include "trace.h"

struct hl_replay_config {
    char preset[16];             /* "linux" or "malloclab" */
    size_t align;                /* 8 or 16 */
    size_t mmap_threshold;       /* 0 = no mmap path */
    int mmap_dynamic;            /* threshold moves like glibc's */
    size_t trim_threshold;       /* HL_NO_TRIM = never */
    enum hl_source_kind source;  /* region, or sbrk */
    size_t region_capacity;      /* 0 = core's default */
    uint64_t check_every;        /* run hl_check every N ops (0 = only at the end) */
    unsigned repeat;             /* timed passes; the best one counts */
    /* samples the checked pass of a heaplab heap takes (--timeline, --heapmap, --every) */
    uint64_t sample_every;       /* a sample every N ops (0: about 100 over the trace) */
    FILE *timeline;              /* timeline CSV rows go here, or NULL */
    FILE *heapmap;               /* heap-map CSV rows go here, or NULL */
};

/* The "linux" preset: 16-byte alignment, dynamic 128 KiB mmap threshold,
 * region source growing exactly as needed, trim on.  "malloclab": 8-byte
 * alignment, no mmap path, exact growth, no trim.  -1 for an unknown name. */
int hl_replay_preset(struct hl_replay_config *cfg, const char *name);

/* What a row's trimming and mmap path run under, as the regime column says
 * it: "trim=T mmap=M" with T and M a size (128K, 4M: whole KiB or MiB;
 * otherwise bytes) or "off" (trim_threshold HL_NO_TRIM, mmap_threshold 0),
 * followed by " dyn" when the thresholds move as glibc's dynamic ones do. */
void hl_replay_regime(size_t trim_threshold, size_t mmap_threshold, int dynamic, char *buf, size_t len);

/* An allocator as the replay drives it: a heaplab heap, the process's own
 * malloc (a baseline, in a child that preloaded it), a malloc-lab solution. */
struct hl_alloc {
    const char *name;
    void *ctx;
    void *(*malloc)(void *ctx, size_t n);
    void (*free)(void *ctx, void *p);
    void *(*realloc)(void *ctx, void *p, size_t n);
    void *(*calloc)(void *ctx, size_t n);                  /* zeroed n bytes */
    void *(*memalign)(void *ctx, size_t align, size_t n);
    int (*check)(void *ctx, FILE *report);                 /* violations; NULL: no checker */
    size_t align;                                          /* every result is aligned to this */
    /* optional (NULL: what a timed pass leaves live is freed instead):
     * empty the allocator before each timed pass, e.g. a malloc-lab
     * solution's mem_reset_brk + mm_init; 0, or -1 to fail the row */
    int (*reset)(void *ctx);
    /* optional (NULL: not known): bytes of the allocator's memory resident
     * now; the timed passes report its growth from before the first pass
     * to after the last one (rss_after_bytes) */
    uint64_t (*resident)(void *ctx);
};

void hl_alloc_heap(struct hl_alloc *a, hl_heap *h, size_t align);
/* malloc, free, realloc, calloc and posix_memalign of this process. */
void hl_alloc_system(struct hl_alloc *a);

/* The checked pass over any allocator: patterns, alignment, overlap,
 * calloc zeroes; the allocator's checker every cfg->check_every operations
 * and at the end.  Fills r->peak_live_bytes, and r->status on failure;
 * frees whatever the trace leaves live.  0 ok, 1 failed. */
int hl_replay_checked(const struct hl_trace *t, const struct hl_alloc *a, const struct hl_replay_config *cfg,
                      struct hl_result *r);

/* Timed passes (cfg->repeat after an untimed warm-up) and a latency pass
 * over any allocator, what a pass leaves live freed in between (or the
 * allocator reset before each pass, when it has a reset hook): fills the
 * ops_per_sec columns and p50_ns, p99_ns, and rss_after_bytes when the
 * allocator has a resident hook (read after the latency pass, before what
 * it left live is freed).  The process's own malloc gets a
 * loop with direct calls, as heaplab heaps do. */
int hl_replay_time_alloc(const struct hl_trace *t, const struct hl_alloc *a, const struct hl_replay_config *cfg,
                         struct hl_result *r);

/* A replay is two phases, so that a runner can do the deterministic one
 * for many rows in parallel and the timed one a row at a time.  Both fill
 * *r and return 0 when the row is ok, 1 when the replay failed (the status
 * says how). */

/* The row's identity and configuration columns; status "not run". */
void hl_replay_begin(const struct hl_trace *t, const char *label, const struct hl_replay_config *cfg,
                     struct hl_result *r);
/* The checked pass: integrity checks, footprint and fragmentation; the
 * at-peak figures from one walk of the heap at the peak operation, and the
 * samples cfg asks for (metrics.h). */
int hl_replay_measure(const struct hl_trace *t, const struct hl_policy_spec *spec,
                      const struct hl_replay_config *cfg, struct hl_result *r);
/* The timed passes: throughput (best, median, slowest of cfg->repeat) on
 * a warm heap, then a latency pass timing each operation; rss_after_bytes
 * is the heap's resident bytes after that last pass (hl_resident_bytes). */
int hl_replay_time(const struct hl_trace *t, const struct hl_policy_spec *spec,
                   const struct hl_replay_config *cfg, struct hl_result *r);

#endif
