/*
 * tracebuild.h - a trace from pointer-level events.
 *
 * Recorders and importers see what a program did with pointers:
 * malloc(size) returned p, free(p), realloc(old, size) returned new.  A
 * trace (trace.h) speaks of block ids.  The builder takes the events in
 * program order, one call each, and turns them into the ops of a struct
 * hl_trace that the trace reader accepts and every replay can run:
 *
 *   event                              op(s) written
 *   malloc(size) = p                   a id size
 *   calloc(nmemb, size) = p            c id nmemb*size
 *   memalign-kind(align, size) = p     m id align size   (posix_memalign,
 *                                      aligned_alloc, memalign, valloc,
 *                                      pvalloc: the caller passes the
 *                                      alignment and the size it asked)
 *   realloc(NULL, size) = p            a id size         (it is a malloc)
 *   realloc(old, size) = new           r id size         (new keeps old's id)
 *   realloc(old, 0) = NULL             f id              (glibc: freed)
 *   realloc(old, 0) = p                f id, a id' 0     (freed, and a 0-byte
 *                                      block handed back)
 *   free(p)                            f id
 *   free(NULL)                         nothing; or f -1 with keep_free_null
 *
 * What cannot be carried over is dropped or changed, and counted
 * (HL_TB_STATS below), so that a recorder or an importer can say what it
 * left out:
 *   - a failed call (NULL result; realloc(old, size > 0) = NULL leaves old
 *     live) is dropped;
 *   - a free (or realloc) of a pointer never seen - allocated before
 *     recording began - is dropped (a realloc of one becomes a malloc);
 *   - a free of a pointer already freed (a double free, or events out of
 *     order) is dropped;
 *   - an allocation that returns a pointer still live means its free was
 *     not seen: a free of the old block is written first;
 *   - an alignment under 8 is raised to 8, one that is not a power of two
 *     rounded up to the next (glibc's memalign does so too);
 *   - a size over PTRDIFF_MAX (calloc: the product) cannot have succeeded:
 *     dropped;
 *   - blocks still live at the end are freed at the end, in id order,
 *     unless no_balance.
 *
 * Ids: the id of a freed block is reused by a later allocation (the trace
 * reader allows allocating a dead id), so num_ids stays near the peak live
 * block count rather than the number of allocations.  Pointers are opaque
 * 64-bit keys; 0 is NULL.
 *
 * Memory: a table of every distinct pointer seen (16 bytes each; freed
 * pointers are kept, to tell a double free from a free of a block never
 * seen) and the ops (16 bytes each).
 */
#ifndef HEAPLAB_TRACEBUILD_H
#define HEAPLAB_TRACEBUILD_H

#include <stdint.h>
#include <stdio.h>

#include "trace.h"

/* What the builder dropped or changed, one counter each.  X(name, doc). */
#define HL_TB_STATS(X)                                                                                                 \
    X(failed, "failed calls (NULL result) dropped")                                                                    \
    X(free_null, "free(NULL) dropped")                                                                                 \
    X(unknown_free, "frees of pointers never seen (allocated before recording) dropped")                               \
    X(double_free, "frees of pointers already freed dropped")                                                          \
    X(unknown_realloc, "reallocs of pointers never seen written as malloc")                                            \
    X(freed_realloc, "reallocs of pointers already freed written as malloc")                                           \
    X(realloc_zero, "realloc(p, 0) written as free")                                                                   \
    X(missed_free, "allocations returning a live pointer: a free of the old block written first")                      \
    X(align_changed, "alignments under 8 or not a power of two rounded up")                                            \
    X(too_large, "sizes over PTRDIFF_MAX dropped")                                                                     \
    X(left_live, "blocks live at the end (freed at the end unless no_balance)")

struct hl_tb_stats {
    uint64_t events; /* calls given to the builder */
#define HL_TB_STAT_MEMBER(name, doc) uint64_t name;
    HL_TB_STATS(HL_TB_STAT_MEMBER)
#undef HL_TB_STAT_MEMBER
};

struct hl_tb_opts {
    int no_balance;     /* leave blocks live at the end (--no-balance) */
    int keep_free_null; /* write free(NULL) as 'f -1' rather than drop it */
};

struct hl_tracebuild; /* opaque */

/* A new builder; opts NULL = defaults (all zero).  NULL with errno = ENOMEM. */
struct hl_tracebuild *hl_tb_new(const struct hl_tb_opts *opts);

/* The events, in program order.  p, old, new: pointers as integers, 0 =
 * NULL.  Each returns 0, or -1 with errno = ENOMEM (the builder is then
 * unchanged and may still be finished or destroyed). */
int hl_tb_malloc(struct hl_tracebuild *b, uint64_t size, uint64_t p);
int hl_tb_calloc(struct hl_tracebuild *b, uint64_t nmemb, uint64_t size, uint64_t p);
int hl_tb_memalign(struct hl_tracebuild *b, uint64_t align, uint64_t size, uint64_t p);
int hl_tb_realloc(struct hl_tracebuild *b, uint64_t old, uint64_t size, uint64_t p);
int hl_tb_free(struct hl_tracebuild *b, uint64_t p);

/* Live blocks and their requested bytes, now. */
uint64_t hl_tb_live_blocks(const struct hl_tracebuild *b);
uint64_t hl_tb_live_bytes(const struct hl_tracebuild *b);

/* The counters so far (left_live is set by hl_tb_finish). */
const struct hl_tb_stats *hl_tb_stats(const struct hl_tracebuild *b);

/* End the stream: balance (unless no_balance) and move the ops into *out,
 * a trace as hl_trace_load would give (classic dialect, weight 1,
 * num_ops = nops, sugg_heapsize = peak live bytes, path = a copy of `name`
 * or NULL).  Free it with hl_trace_free.  0, or -1 with errno = ENOMEM (*out
 * zeroed).  The builder is spent either way: only hl_tb_stats and
 * hl_tb_destroy may follow. */
int hl_tb_finish(struct hl_tracebuild *b, const char *name, struct hl_trace *out);

void hl_tb_destroy(struct hl_tracebuild *b);

/* One line per nonzero counter: "PREFIX: N DOC\n".  The number printed. */
int hl_tb_print_stats(const struct hl_tb_stats *s, const char *prefix, FILE *out);

#endif
