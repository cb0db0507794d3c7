/*
 * malloclab.h - CS:APP malloc-lab solutions as rows of a heaplab run
 * (heaplab replay -p mm:FILE).
 *
 * FILE is a student's mm.c, compiled with the system C compiler against
 * heaplab's include/malloclab headers into a cached shared object, or an
 * already built .so.  The solution runs on the lab's memory system
 * (memlib.c) and is driven by the same checked and timed passes as the
 * heaplab policies (replay.h), plus the lab driver's own checks: every
 * payload inside [mem_heap_lo, mem_heap_hi], mm_init's result.  A crash,
 * an exit or a broken contract becomes the row's status, naming the
 * solution's function and the operation.  docs/malloclab.md has the whole
 * story.
 */
#ifndef HEAPLAB_MALLOCLAB_H
#define HEAPLAB_MALLOCLAB_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replay.h"
#include "result.h"
#include "runner.h"
#include "trace.h"

#define HL_MM_DEFAULT_MAX_HEAP ((size_t)20 << 20) /* the lab's MAX_HEAP */
#define HL_MM_DEFAULT_TIMEOUT 60u                 /* seconds without progress inside the solution */

/* How the solution declares a function, as far as calling it goes. */
enum hl_mm_ret {
    HL_MM_RET_UNKNOWN, /* not seen in the source (an .so): called as the classic lab declares it */
    HL_MM_RET_INT,
    HL_MM_RET_BOOL,
    HL_MM_RET_VOID,
};

typedef void (*hl_mm_fn)(void); /* a solution function, cast to its real type to call */

struct hl_mm {
    char path[PATH_MAX]; /* FILE as given */
    char label[256];     /* the row's policy column: "mm:<basename>" */
    char so[PATH_MAX];   /* the shared object loaded */
    int compiled;        /* 1: compiled by this run; 0: from the cache or given as an .so */
    void *handle;        /* dlopen's */
    size_t max_heap;     /* the memory system's limit */
    unsigned timeout;    /* seconds an operation may take in a row's child before it is called endless
                            (hl_mm_load: HL_MM_DEFAULT_TIMEOUT; 0: no limit) */
    enum hl_mm_ret init_ret;
    enum hl_mm_ret check_ret;
    int check_arg; /* 1: the checker takes an int (lineno or verbose) */
    const char *check_name; /* "mm_checkheap", "mm_check", or NULL: none */
    hl_mm_fn init, malloc, free, realloc, calloc, check; /* calloc, check: NULL if absent */
};

/* Compile (or find in the cache) and load the solution in FILE.  Compiler
 * messages go to stderr as the compiler writes them.  0, or -1 with one
 * line in err ("mm:FILE: what is wrong", no newline) and nothing loaded.
 * The environment may name the compiler (HEAPLAB_MM_CC, default cc), the
 * headers' folder (HEAPLAB_MM_INCLUDE) and the cache (XDG_CACHE_HOME). */
int hl_mm_load(const char *file, size_t max_heap, struct hl_mm *out, char *err, size_t errlen);
void hl_mm_unload(struct hl_mm *m);

/* The flags heaplab compiles a solution with (for messages and docs). */
extern const char *const hl_mm_cflags[];

/* The two phases of a row (hl_mm_job below), as hl_replay_measure and
 * hl_replay_time: the checked pass on a fresh heap after mm_init (fills
 * the footprint columns: peak_heap_bytes is the largest mem_heapsize, as
 * the lab's driver measures it), then the timed passes, each after
 * mem_reset_brk and mm_init, as the lab's driver times them.  0 when the
 * row is ok, 1 otherwise (the status says what failed, where). */
int hl_mm_measure(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
                  struct hl_result *r);
int hl_mm_time(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
               struct hl_result *r);

/* A runner row on a solution (target: const struct hl_mm *). */
extern const struct hl_job_ops hl_mm_job;

/* ---- the performance index ------------------------------------------------------ */

/* glibc malloc's throughput on the traces, for T_libc when the run has no
 * baseline:glibc rows: each trace's timed passes (cfg->repeat, the best
 * counts, as every row's) in a forked child with the process's own malloc.
 * Fills the totals of ops and of seconds; 0, or -1 (errno). */
int hl_mm_libc_time(const struct hl_trace *traces, size_t n, const struct hl_replay_config *cfg, double *ops,
                    double *secs);

/* The lab's performance index, 100 * (0.6 U + 0.4 min(1, T / T_libc)),
 * for each group of rows with the same policy column (baselines left out):
 * U the mean util over the group's traces, T its total ops over its total
 * seconds (as the lab's driver computes them).  T_libc is the total over
 * the baseline:glibc rows when there are any, else libc_ops / libc_secs.
 * Sets every row's perf_index column (not available for a baseline, for
 * a group with a failed row - the lab's driver gives no index to a
 * solution that fails a trace - and when T_libc is unknown) and returns
 * T_libc (NAN when unknown). */
double hl_mm_perf_index(struct hl_result *rows, size_t n, double libc_ops, double libc_secs);

/* The index's table, one line per policy and a line saying where T_libc
 * came from, after hl_mm_perf_index set the column. */
void hl_mm_perf_index_print(const struct hl_result *rows, size_t n, double tlibc, FILE *out);

/* 1 when the rows include ok baseline:glibc rows with a throughput. */
int hl_mm_have_libc_rows(const struct hl_result *rows, size_t n);

/* ---- the memory system (memlib.c) ---------------------------------------------- */

struct hl_memlib_stats {
    uint64_t limit;       /* bytes the heap may reach */
    uint64_t peak_heap;   /* largest mem_heapsize since hl_memlib_open */
    uint64_t sbrk_calls;  /* mem_sbrk calls that grew the heap */
    int refused;          /* mem_sbrk has refused a request ... */
    intptr_t refused_incr; /* ... this one (the first) ... */
    uint64_t refused_at;  /* ... when the heap had this many bytes */
};

/* A fresh, empty heap of at most max_heap bytes (0: the lab's 20 MiB),
 * replacing any earlier one.  0, or -1 (errno). */
int hl_memlib_open(size_t max_heap);
void hl_memlib_close(void);
void hl_memlib_stats(struct hl_memlib_stats *out);
/* Bytes of the heap's pages resident in RAM now (mincore over the pages
 * the break has reached): the solution's memory after a run, 0 when none
 * is open. */
uint64_t hl_memlib_resident(void);

#endif
