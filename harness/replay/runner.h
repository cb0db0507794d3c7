/*
 * runner.h - running many (trace, policy) replays: each in a forked child
 * that hands its row back through shared memory, so a policy that crashes
 * or corrupts memory costs its own row and nothing else.
 */
#ifndef HEAPLAB_RUNNER_H
#define HEAPLAB_RUNNER_H

#include <stddef.h>

#include "replay.h"

struct hl_job;

/* How a row replays: a method table, one per kind of allocator (a heaplab
 * policy here; a malloc-lab solution, malloclab.h; a production allocator,
 * baseline.h).  measure: the checked pass and footprint; time: the timed
 * passes.  Each returns 0 when the row is still ok. */
struct hl_job_ops {
    int (*measure)(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r);
    int (*time)(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r);
};

struct hl_job {
    const struct hl_trace *trace;
    const char *label;              /* the row's policy column */
    const struct hl_job_ops *ops;
    const void *target;             /* what ops replays on: a struct hl_policy_spec, hl_mm, hl_baseline */
};

/* A heaplab heap under a policy spec (target: const struct hl_policy_spec *). */
extern const struct hl_job_ops hl_policy_job;

struct hl_run_opts {
    unsigned jobs; /* children at once for the checked passes (timed passes: one) */
    int fork;      /* 0: everything in this process (debugging) */
    int progress;  /* a progress line on stderr */
    unsigned timeout; /* seconds each phase of a row may take in its child before it is killed
                         and fails as an endless loop (0: no limit; HL_ROW_TIMEOUT by default) */
};

/* The default of --row-timeout: ten minutes, far beyond any replay of the
 * bundled and malloc-lab traces, so that only a row that never returns
 * (a policy or plugin in an endless loop, a deadlock) meets it. */
#define HL_ROW_TIMEOUT 600u

/* Run every job: the checked passes (up to opts->jobs at once), then the
 * timed passes one at a time for the rows still ok.  rows[i] gets job i's
 * results.  A child that runs past opts->timeout seconds is killed and its
 * row fails: "no answer for N s in the checked pass (an endless loop?
 * --row-timeout)".  Returns 0 when every row is ok, 1 otherwise. */
int hl_run(const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
           const struct hl_run_opts *opts, struct hl_result *rows);

#endif
