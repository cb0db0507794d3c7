/*
 * mm_internal.h - what the malloc-lab adapter's files share, for them only
 * (the interface is malloclab.h):
 *
 *   mm_build.c    reading the source for the declarations, the compile cache, loading
 *   mm_run.c      a row: calling the solution, the checked pass's wrappers, the timed passes
 *   mm_crash.c    crashes, exits and endless loops inside the solution
 *   mm_samples.c  the timeline and the heap map of a row
 *   mm_index.c    the performance index
 *   memlib.c      the memory system
 */
#ifndef HEAPLAB_MM_INTERNAL_H
#define HEAPLAB_MM_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "malloclab.h"
#include "metrics.h"

/* The executables export their symbols to the solutions they load (for
 * memlib), and a student's mm.c has mm_ names of its own: these stay out
 * of the export table, so that none of them takes the place of one of the
 * solution's. */
#pragma GCC visibility push(hidden)

/* The process that loaded the solutions (hl_mm_load): the others are row children. */
extern pid_t mm_loader_pid;

/* The row being replayed in this process: what the wrappers and the crash
 * handlers need (one row at a time per process). */
struct mm_run {
    const struct hl_mm *m;
    const struct hl_trace *t;
    struct hl_result *r;
    const char *volatile in; /* the solution's function running, or NULL */
    volatile uint64_t op;    /* checked pass: calls so far = the operation under way; timed: calls */
    uint64_t tick_op;        /* the watchdog: op at its last tick ... */
    unsigned stalled;        /* ... and the ticks since op last moved */
    int timed;               /* in the timed passes */
    char error[200];         /* the first broken contract the wrappers saw ... */
    uint64_t error_op;       /* ... at this operation */
    uint64_t check_op;       /* the solution's checker reported a problem after this operation (0: not) */
    /* stand-ins for size-0 blocks the solution returned NULL for */
    char *zero_base;
    uint32_t *zero_free;
    size_t zero_cap, zero_top, zero_next;
    /* samples (--timeline, --heapmap): the live payloads, by address */
    struct hl_sampler smp;            /* when to sample, where the rows go; no heap: payloads are sampled */
    uint64_t sampled;                 /* ops done at the last sample, +1 (0: none yet) */
    uintptr_t *live_at;               /* open addressing, linear probing; 0 = empty */
    uint64_t *live_size;
    size_t live_cap, live_n;
    uint64_t live_bytes;
    int sample_error;
};
extern struct mm_run mm_run;

/* mm_crash.c: catch a crash, an exit or an endless loop inside the
 * solution and report it on the row (mm_run must name the row), or let go
 * of the handlers again. */
void mm_crash_catch(void);
void mm_crash_release(void);

/* mm_samples.c: the live payloads and the samples of the checked pass.
 * mm_samples_begin: 0, or -1 (out of memory); nothing is sampled unless
 * cfg asks for a timeline or a heap map. */
int mm_samples_begin(const struct hl_replay_config *cfg);
void mm_samples_end(void);
/* At the start of each operation: the sample after the ones before it. */
void mm_maybe_sample(void);
void mm_live_add(void *p, uint64_t n);
void mm_live_del(void *p);

#pragma GCC visibility pop

#endif
