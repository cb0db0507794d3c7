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

/* One row of results: plain data, so a forked child can hand it back
 * through shared memory. */
struct hl_result {
    char trace[256];
    char policy[128];
    uint64_t ops;
    uint64_t peak_live_bytes; /* max over time of requested bytes of live blocks */
    uint64_t peak_heap_bytes; /* max over time of extent + mapped bytes */
    double util;              /* peak_live / peak_heap */
    uint64_t sbrk_calls;      /* memory-source calls (grow + shrink) */
    uint64_t mmap_calls;
    uint64_t munmap_calls;
    double ops_per_sec;       /* best timed pass */
    double seconds;           /* time of that pass */
    int ok;                   /* 1 when status is "ok" */
    char status[192];
};

/* Replay t under the policy: checked pass, then cfg->repeat timed passes.
 * Fills *r; returns 0 when the row is ok, 1 when the replay failed (the
 * status says how). */
int hl_replay(const struct hl_trace *t, const struct hl_policy_spec *spec, const struct hl_replay_config *cfg,
              struct hl_result *r);

#endif
