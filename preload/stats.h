/*
 * stats.h - what the drop-in malloc reports at exit (HEAPLAB_STATS).
 */
#ifndef HEAPLAB_PRELOAD_STATS_H
#define HEAPLAB_PRELOAD_STATS_H

#include <stdint.h>

#include "heaplab/heap.h"

/* The program's calls, by kind, each defined once: the counters, the text
 * line and the JSON object are made from this list.  memalign counts
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc; free counts
 * frees of a pointer, not free(NULL); reallocarray is a realloc. */
#define HL_CALL_KINDS(X) X(malloc) X(calloc) X(realloc) X(free) X(memalign)

struct hl_calls {
#define HL_CALL_MEMBER(name) uint64_t name;
    HL_CALL_KINDS(HL_CALL_MEMBER)
#undef HL_CALL_MEMBER
};

/* HEAPLAB_STATS's choices, in heaplab/preload.h's order */
enum hl_stats_format { HL_STATS_OFF, HL_STATS_TEXT, HL_STATS_JSON };

/* At start-up: where the report goes - `file` (NULL: stderr) with %p
 * replaced by the process id, as text or JSON.  For stderr it keeps a copy
 * of descriptor 2 (close-on-exec, numbered high): some programs close
 * their stderr before they exit (coreutils' close_stdout does). */
void hl_stats_open(enum hl_stats_format format, const char *file);

/* At exit: report heap h, which ran under `policy`, and the calls, as text
 * (three lines, each "heaplab: pid N: ...") or as one line of JSON (every
 * field of struct hl_stats).  write(2) only: no stdio, no allocation. */
void hl_stats_report(hl_heap *h, const struct hl_calls *calls, const char *policy);

#endif
