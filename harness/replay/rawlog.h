/*
 * rawlog.h - the recorder's raw logs (heaplab/record.h) read back, and
 * turned into traces through the trace builder (tracebuild.h).
 */
#ifndef HEAPLAB_RAWLOG_H
#define HEAPLAB_RAWLOG_H

#include <stdint.h>

#include "trace.h"
#include "tracebuild.h"

/* What a raw log's header and size say. */
struct hl_rawlog_info {
    uint32_t pid, ppid;
    uint32_t flags;      /* HL_RAW_UNRECORDED: a child the recording left alone */
    uint64_t start_ns;   /* when the image started logging (CLOCK_REALTIME) */
    uint64_t records;    /* whole records in the file */
    uint64_t lost;       /* records the library could not write (the header's count) */
    uint64_t damaged;    /* records cut short (the process was killed while writing) or zeroed */
    uint32_t threads;    /* distinct thread ids among the records (hl_rawlog_convert) */
    char cmdline[256];   /* the arguments separated by spaces, cut with "..." */
};

/* The header of the raw log at path into *info (threads 0, damaged: a cut
 * last record only).  0, or -1 with "path: what is wrong" in err. */
int hl_rawlog_info(const char *path, struct hl_rawlog_info *info, char *err, size_t errlen);

/* The raw log at path as a trace: each record given to a trace builder
 * with opts, in the log's order, finished under the name `name`.  *out is
 * a trace as hl_trace_load gives (hl_trace_free it), *stats what the
 * builder dropped or changed, *info as hl_rawlog_info and the threads.
 * A memalign-kind call is a memalign of its alignment (valloc: the page
 * size; pvalloc: the page size and the size rounded up to pages, the block
 * it returns).  0, or -1 with "path: what is wrong" or
 * "path: record N: what is wrong" in err (*out zeroed). */
int hl_rawlog_convert(const char *path, const struct hl_tb_opts *opts, const char *name, struct hl_trace *out,
                      struct hl_tb_stats *stats, struct hl_rawlog_info *info, char *err, size_t errlen);

#endif
