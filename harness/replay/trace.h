/*
 * trace.h - allocation traces: reading (CS:APP malloc-lab .rep, its CMU
 * 15-213 dialect, heaplab's extensions) and writing.
 *
 * A trace is parsed once into a compact array of operations; replays run
 * from that array.  Every id in the array is valid and every operation is
 * legal at its point (no free of a dead id, no alloc of a live id): the
 * parser has already replayed the trace's id lifetimes, so a replay never
 * meets bad input.
 */
#ifndef HEAPLAB_TRACE_H
#define HEAPLAB_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum hl_op_type {
    HL_OP_ALLOC = 'a',    /* a id size          malloc(size) */
    HL_OP_FREE = 'f',     /* f id               free; id HL_ID_NULL = free(NULL) */
    HL_OP_REALLOC = 'r',  /* r id size          realloc(p, size); never-allocated id: malloc */
    HL_OP_CALLOC = 'c',   /* c id nmemb size    calloc(nmemb, size); size = nmemb * size */
    HL_OP_MEMALIGN = 'm', /* m id align size    memalign(align, size) */
};

#define HL_ID_NULL UINT32_MAX

/* Largest num_ids accepted (ids stay below HL_ID_NULL).  A file must also be
 * able to use its ids: num_ids may exceed the number of request lines that
 * could follow the header by at most HL_TRACE_SPARE_IDS, so the parser's id
 * table (one byte per id) is never much bigger than the file. */
#define HL_TRACE_MAX_IDS UINT32_MAX
#define HL_TRACE_SPARE_IDS 65536u

/* A line of a trace read from a file or stream may be at most this long
 * (the reader's window holds a whole line).  make fuzz builds with a tiny
 * one, so that short inputs cross the window's edges. */
#ifndef HL_TRACE_MAX_LINE
#define HL_TRACE_MAX_LINE (1 << 20)
#endif

/* What a stream - a pipe, a device, standard input, gzip data - may hold:
 * 256 MiB of trace text (after decompression).  Its length is not known
 * before its end, so this is what bounds the parser's memory for it: the
 * operations (16 bytes for a request of at least 4), the id table and the
 * window stay under about 1.3 GiB.  An uncompressed regular file is bounded
 * by its own size instead. */
#define HL_TRACE_STREAM_MAX (UINT64_C(256) << 20)

struct hl_op {
    uint64_t size;     /* bytes asked for (calloc: nmemb * size) */
    uint32_t id;       /* block id, < num_ids, or HL_ID_NULL */
    uint8_t type;      /* enum hl_op_type */
    uint8_t align_log2; /* memalign: log2(alignment) */
    uint16_t reserved;  /* 0 */
};

enum hl_dialect {
    HL_DIALECT_AUTO,    /* decide from the header */
    HL_DIALECT_CLASSIC, /* sugg_heapsize, num_ids, num_ops, weight */
    HL_DIALECT_CMU      /* weight, num_ids, num_ops, ignore_ranges */
};

/* Upstream quirks accepted the way the upstream drivers accept them; each
 * is counted, and reported as a warning. */
#define HL_TRACE_QUIRKS(X)                                                                         \
    X(extra_lines, "request lines beyond num_ops (ignored)")                                      \
    X(alloc_without_size, "'a id' without a size (previous size reused)")                         \
    X(free_null, "'f -1' (free(NULL))")                                                            \
    X(realloc_unallocated, "'r' on an id never allocated (malloc)")                               \
    X(realloc_zero, "'r id 0' (realloc to 0 frees the block)")

struct hl_trace_quirks {
#define HL_QUIRK_MEMBER(name, doc) uint64_t name;
    HL_TRACE_QUIRKS(HL_QUIRK_MEMBER)
#undef HL_QUIRK_MEMBER
};

struct hl_trace {
    char *path;              /* as given on the command line */
    enum hl_dialect dialect; /* as detected or forced */
    uint64_t sugg_heapsize;  /* classic header field (unused by replay) */
    uint64_t weight;
    uint64_t ignore_ranges;  /* CMU header field */
    uint32_t num_ids;
    uint64_t num_ops;        /* from the header */
    struct hl_op *ops;       /* the operations, nops of them */
    uint64_t nops;
    struct hl_trace_quirks quirks;
};

/* A request that is well formed but illegal at its point in its id's life.
 * The strict reader (the default) stops at the first; a lenient one
 * (hl_trace_opts.problem set: heaplab check-trace) reports each and goes
 * on. */
#define HL_TRACE_PROBLEMS(X)                                                                       \
    X(free_unknown, "frees of ids never allocated")                                               \
    X(double_free, "frees of ids already freed")                                                  \
    X(alloc_live, "allocations of ids still live")                                                \
    X(realloc_freed, "reallocs of ids already freed")                                             \
    X(realloc_zero_unknown, "reallocs of ids never allocated to size 0")

enum hl_trace_problem {
#define HL_PROBLEM_ENUM(name, doc) HL_PROBLEM_##name,
    HL_TRACE_PROBLEMS(HL_PROBLEM_ENUM)
#undef HL_PROBLEM_ENUM
    HL_PROBLEM_COUNT
};

/* The counter's text for a problem kind ("frees of ids already freed"). */
const char *hl_trace_problem_doc(enum hl_trace_problem kind);

struct hl_trace_opts {
    enum hl_dialect dialect; /* HL_DIALECT_AUTO unless forced */
};

/* Read a trace from `path` ("-" = standard input, named "<stdin>" in
 * messages), parsing as the bytes arrive: a regular file, a pipe, a FIFO or
 * a device alike, gzip data (told by its magic bytes) decompressed on the
 * way; nothing is mapped.  0, or -1 with "file:line: what is wrong" (no
 * newline) in err, or "file: what is wrong" when the file cannot be read at
 * all (missing, unreadable, a directory, gzip error, a file that shrank
 * while it was read: "changed while being read").  On error *out is left
 * zeroed: nothing to free, nothing half-parsed. */
int hl_trace_load(const char *path, const struct hl_trace_opts *opts, struct hl_trace *out, char *err,
                  size_t errlen);

/* Parse a trace held in memory (not NUL-terminated; never read past len);
 * `name` is used in messages and as t->path.  Errors as hl_trace_load. */
int hl_trace_parse(const char *name, const char *buf, size_t len, const struct hl_trace_opts *opts,
                   struct hl_trace *out, char *err, size_t errlen);

/* hl_trace_load, lenient (heaplab check-trace): a request illegal in its
 * id's life is passed to problem(), `msg` being the strict reader's
 * "file:line: what is wrong", and left out of the ops, the id's state
 * unchanged; the reading goes on.  The ops are then legal but t->nops may
 * be less than t->num_ops: a lenient trace is for looking at, not for
 * replaying.  Errors of form (syntax, header, missing lines) still stop it,
 * as in hl_trace_load. */
int hl_trace_load_lenient(const char *path, const struct hl_trace_opts *opts,
                          void (*problem)(void *arg, enum hl_trace_problem kind, const char *msg), void *arg,
                          struct hl_trace *out, char *err, size_t errlen);
int hl_trace_parse_lenient(const char *name, const char *buf, size_t len, const struct hl_trace_opts *opts,
                           void (*problem)(void *arg, enum hl_trace_problem kind, const char *msg), void *arg,
                           struct hl_trace *out, char *err, size_t errlen);

void hl_trace_free(struct hl_trace *t);

/* Print one line per nonzero quirk count: "warning: FILE: N QUIRK-DOC". */
void hl_trace_print_quirks(const struct hl_trace *t, FILE *out);

/* Write t in the classic format: header sugg_heapsize = peak live bytes,
 * num_ids, num_ops (= t->nops), weight 1; then one line per op.  A calloc
 * is written "c id 1 size" (the parser keeps only the product).  0 or -1
 * (errno). */
int hl_trace_write(const struct hl_trace *t, FILE *out);

/* Peak over time of the requested bytes of live blocks, as the malloc-lab
 * mdriver's eval_mm_util computes it: alloc/calloc/memalign add their size,
 * realloc replaces the block's size, free subtracts it.  Saturates at
 * UINT64_MAX; UINT64_MAX with errno = ENOMEM if its id table cannot be
 * allocated. */
uint64_t hl_trace_peak_live(const struct hl_trace *t);

#endif
