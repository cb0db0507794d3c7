/*
 * runner.h - running many (trace, policy) replays: each in a forked child
 * that hands its row back through shared memory, so a policy that crashes
 * or corrupts memory costs its own row and nothing else.
 */
#ifndef HEAPLAB_RUNNER_H
#define HEAPLAB_RUNNER_H

#include <stddef.h>

#include "replay.h"

struct hl_mm;
struct hl_baseline;

/* What a row replays the trace on. */
enum hl_job_kind {
    HL_JOB_POLICY, /* a heaplab heap under a policy spec */
    HL_JOB_MM,     /* a malloc-lab solution (malloclab.h) */
    HL_JOB_BASELINE, /* a production allocator, in a child that preloads it (baseline.h) */
};

struct hl_job {
    const struct hl_trace *trace;
    enum hl_job_kind kind;
    const struct hl_policy_spec *spec; /* HL_JOB_POLICY */
    const char *label;                 /* the row's policy column */
    const struct hl_mm *mm;            /* HL_JOB_MM */
    const struct hl_baseline *baseline; /* HL_JOB_BASELINE */
};

struct hl_run_opts {
    unsigned jobs; /* children at once for the checked passes (timed passes: one) */
    int fork;      /* 0: everything in this process (debugging) */
    int progress;  /* a progress line on stderr */
};

/* Run every job: the checked passes (up to opts->jobs at once), then the
 * timed passes one at a time for the rows still ok.  rows[i] gets job i's
 * results.  Returns 0 when every row is ok, 1 otherwise. */
int hl_run(const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
           const struct hl_run_opts *opts, struct hl_result *rows);

#endif
