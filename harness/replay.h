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
};

/* The "linux" preset: 16-byte alignment, dynamic 128 KiB mmap threshold,
 * region source growing exactly as needed, trim on.  "malloclab": 8-byte
 * alignment, no mmap path, exact growth, no trim.  -1 for an unknown name. */
int hl_replay_preset(struct hl_replay_config *cfg, const char *name);

/* A replay is two phases, so that a runner can do the deterministic one
 * for many rows in parallel and the timed one a row at a time.  Both fill
 * *r and return 0 when the row is ok, 1 when the replay failed (the status
 * says how). */

/* The row's identity and configuration columns; status "not run". */
void hl_replay_begin(const struct hl_trace *t, const struct hl_policy_spec *spec,
                     const struct hl_replay_config *cfg, struct hl_result *r);
/* The checked pass: integrity checks, footprint and fragmentation. */
int hl_replay_measure(const struct hl_trace *t, const struct hl_policy_spec *spec,
                      const struct hl_replay_config *cfg, struct hl_result *r);
/* The timed passes: throughput (best, median, slowest of cfg->repeat). */
int hl_replay_time(const struct hl_trace *t, const struct hl_policy_spec *spec,
                   const struct hl_replay_config *cfg, struct hl_result *r);
/* All three, in this process. */
int hl_replay(const struct hl_trace *t, const struct hl_policy_spec *spec, const struct hl_replay_config *cfg,
              struct hl_result *r);

#endif
