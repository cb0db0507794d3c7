/*
 * result.h - one row of results, its columns defined once.
 *
 * The struct, the CSV header, the JSON keys and docs/metrics.md's column
 * list come from HL_RESULT_COLUMNS, so they cannot drift apart.  Column
 * names are stable: scripts and charts depend on them.
 *
 * Types: S string, U unsigned integer, F floating point.  A value that
 * does not apply to a row (a baseline has no heap extent) is "not
 * available": an empty CSV field, a JSON null, "-" in the table.
 */
#ifndef HEAPLAB_RESULT_H
#define HEAPLAB_RESULT_H

#include <math.h>
#include <stdint.h>

#define HL_RESULT_COLUMNS(X)                                                                       \
    X(trace, S, "the trace file, as given on the command line")                                   \
    X(policy, S, "the policy spec (NAME[:key=value,...]) or baseline:NAME")                       \
    X(preset, S, "configuration preset: linux or malloclab")                                      \
    X(source, S, "memory source: region or sbrk")                                                 \
    X(align, U, "payload alignment in bytes")                                                     \
    X(mmap_threshold, U, "mmap threshold at the start, bytes (0: no mmap path)")                  \
    X(ops, U, "operations replayed")                                                              \
    X(peak_live_bytes, U, "max over time of the requested bytes of live blocks")                  \
    X(peak_heap_bytes, U, "max over time of source extent + mapped bytes")                        \
    X(util, F, "peak_live_bytes / peak_heap_bytes")                                               \
    X(frag, F, "peak_heap_bytes / peak_live_bytes - 1 (Johnstone & Wilson, measure 4)")           \
    X(internal_frag, F, "at peak live: (block bytes - requested bytes) / block bytes")            \
    X(external_frag, F, "at peak live: 1 - largest free block / free bytes (0 if none free)")     \
    X(sbrk_calls, U, "memory-source calls moving the break (grow and trim)")                      \
    X(mmap_calls, U, "mmap calls for large blocks")                                               \
    X(munmap_calls, U, "munmap calls for large blocks")                                           \
    X(ops_per_sec, F, "throughput of the best timed pass")                                        \
    X(ops_per_sec_median, F, "throughput of the median timed pass")                               \
    X(ops_per_sec_min, F, "throughput of the slowest timed pass")                                 \
    X(p50_ns, F, "median latency of one operation, ns (latency pass)")                            \
    X(p99_ns, F, "99th percentile latency of one operation, ns (latency pass)")                   \
    X(peak_rss_bytes, U, "baselines: peak resident set growth during the replay")                 \
    X(rss_after_bytes, U, "resident bytes after the last timed pass (baselines: RSS growth)")     \
    X(regime, S, "trim/mmap rules the row ran under: trim=B|off mmap=B|off[ dyn], or defaults")   \
    X(perf_index, F, "--perf-index: the malloc lab's index of the row's policy over the run's traces") \
    X(status, S, "ok, or what failed and at which operation")

#define HL_COL_S char
#define HL_COL_U uint64_t
#define HL_COL_F double
#define HL_COL_DIM_S [256]
#define HL_COL_DIM_U
#define HL_COL_DIM_F

struct hl_result {
#define HL_RESULT_MEMBER(name, type, doc) HL_COL_##type name HL_COL_DIM_##type;
    HL_RESULT_COLUMNS(HL_RESULT_MEMBER)
#undef HL_RESULT_MEMBER
    int ok; /* 1 when status is "ok" */
    uint64_t at_op; /* the checked pass's operation under way (1-based; 0 outside its loop): a crash's report */
};

#define HL_NA_U UINT64_MAX
#define HL_NA_F NAN

/* All numbers "not available", strings empty. */
void hl_result_init(struct hl_result *r);

#endif
