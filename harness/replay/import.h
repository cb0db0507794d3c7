/*
 * import.h - traces from what other tools recorded: glibc's mtrace log,
 * ltrace's output, heaptrack's raw data.  Each importer reads the log line
 * by line, turns its records into pointer events and hands them to the
 * trace builder (tracebuild.h), which writes the ops and counts what
 * cannot be carried over.
 *
 *   mtrace     MALLOC_TRACE=LOG with libc_malloc_debug.so (glibc >= 2.34)
 *              and a call to mtrace().  "+ P SIZE" malloc, calloc and every
 *              aligned kind alike; "- P" free and realloc(P, 0); "< OLD"
 *              then "> NEW SIZE" realloc; "! OLD SIZE" a failed realloc;
 *              each optionally after "@ CALLER ".  The log says nothing of
 *              calloc or alignment: every allocation is written as malloc.
 *   ltrace     ltrace [-f] -e malloc+free+calloc+realloc PROG, optionally
 *              with more of the family (reallocarray, memalign,
 *              aligned_alloc, valloc, pvalloc; posix_memalign's pointer is
 *              not in the output, so it is dropped; valloc and pvalloc
 *              take this machine's page size).  "[pid N]" prefixes,
 *              timestamps, "<unfinished ...>" / "<... F resumed>" pairs
 *              across threads; a free counts at its call, an allocation at
 *              its return, so interleaved threads stay in order.  All pids
 *              make one trace (threads share a heap) unless pids are given.
 *              (ltrace 0.7 is unreliable with threads: "<no return ...>"
 *              calls that resume after all, "unexpected breakpoint"
 *              lines, crashed programs.  Those lines are taken as they
 *              come; a single thread is traced faithfully.)
 *   heaptrack  heaptrack --raw: the file before heaptrack_interpret ("+
 *              SIZE TRACE PTR", "- PTR", hex; the other records skipped).
 *              heaptrack logs realloc as a free then a malloc, and calloc
 *              and aligned allocations as malloc.
 *
 * Input: plain text, gzip (zlib), or zstd (through the zstd command, as
 * heaptrack's own scripts do), told apart by their first bytes; "-" is
 * standard input (plain or gzip).
 */
#ifndef HEAPLAB_IMPORT_H
#define HEAPLAB_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"
#include "tracebuild.h"

enum hl_import_format { HL_IMPORT_MTRACE, HL_IMPORT_LTRACE, HL_IMPORT_HEAPTRACK };

/* "mtrace", "ltrace", "heaptrack"; -1 for anything else. */
int hl_import_format_parse(const char *name, enum hl_import_format *out);
const char *hl_import_format_name(enum hl_import_format f);

/* What an importer left out on top of the builder's counts.  X(name, doc). */
#define HL_IMPORT_NOTES(X)                                                                                             \
    X(unresumed, "calls never resumed (their thread ended first) dropped")                                             \
    X(posix_memalign, "posix_memalign calls dropped (ltrace does not show the pointer)")                               \
    X(other_calls, "calls of other functions ignored")                                                                 \
    X(other_pids, "lines of other pids ignored")                                                                   \
    X(ltrace_messages, "ltrace's own messages ('unexpected breakpoint') skipped")

struct hl_import_stats {
    uint64_t lines;  /* lines read */
    uint64_t events; /* allocator calls found */
#define HL_IMPORT_NOTE_MEMBER(name, doc) uint64_t name;
    HL_IMPORT_NOTES(HL_IMPORT_NOTE_MEMBER)
#undef HL_IMPORT_NOTE_MEMBER
    struct hl_tb_stats tb; /* the builder's */
};

#define HL_IMPORT_MAX_PIDS 64

struct hl_import_opts {
    struct hl_tb_opts tb;              /* balancing, free(NULL) */
    unsigned npids;                    /* ltrace: keep only these pids (0: all) */
    uint64_t pids[HL_IMPORT_MAX_PIDS];
};

/* Read the log at `path` in format f into *out (a trace as hl_tb_finish
 * gives it, its path = `path`) and *stats.  0; or -1 with "file:line: what
 * is wrong" in err for a line that cannot be read, "file: what is wrong"
 * when the file cannot be (*out zeroed then; *stats holds what was counted
 * up to there). */
int hl_import(enum hl_import_format f, const char *path, const struct hl_import_opts *opts, struct hl_trace *out,
              struct hl_import_stats *stats, char *err, size_t errlen);

/* What the format never records, in one sentence ("" for none). */
const char *hl_import_format_loss(enum hl_import_format f);

/* One line per nonzero count (the importer's, then the builder's):
 * "PREFIX: N DOC\n".  The number of lines. */
int hl_import_print_stats(const struct hl_import_stats *s, const char *prefix, FILE *out);

#endif
