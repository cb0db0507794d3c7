/*
 * gen.h - synthetic allocation traces: `heaplab gen PATTERN`.
 *
 * A generator fills a struct hl_trace in memory (ops, num_ids, num_ops, a
 * path label), so tests and other code can make traces without files;
 * hl_trace_write writes one in the classic format.  Every generator is
 * driven by a fixed PRNG (xoshiro256**, seeded through splitmix64) and
 * integer arithmetic only - no rand(), no libm, no floating point - so the
 * same parameters give the same operations, and the same bytes, on any
 * machine and with any compiler.
 *
 * What a generated trace guarantees:
 *   - exactly params->ops operations;
 *   - it is valid input for hl_trace_parse: ids below num_ids, never a free
 *     or realloc of a dead id, never an alloc of a live id, every size at
 *     least 1 (so no realloc ever frees);
 *   - it is balanced: every block is freed by the end, except that a trace
 *     of mallocs and frees alone can only balance with an even number of
 *     operations, so with an odd count the patterns without realloc leave
 *     exactly one block live;
 *   - ids are reused (the most recently freed first), so num_ids is the
 *     peak number of live blocks, not the number of allocations.
 * The patterns themselves (shape, parameters, intent) are described in
 * traces/README.md, "Generated traces".
 */
#ifndef HEAPLAB_GEN_H
#define HEAPLAB_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

enum hl_gen_dist {
    HL_GEN_UNIFORM, /* every size in [min, max] equally likely */
    HL_GEN_EXP      /* min + an exponential of mean (mean - min), cut at max */
};

struct hl_gen_params {
    uint64_t ops;           /* -n: total operations, exact; 0 = the pattern's default */
    uint64_t seed;          /* --seed */
    enum hl_gen_dist sizes; /* --sizes: the request-size distribution */
    uint64_t min, max;      /* --min/--max: size bounds, bytes (realloc: start and retire sizes) */
    uint64_t mean;          /* --mean: exp only; 0 = min + (max - min) / 16 */
    uint64_t ids;           /* random: --ids, the pool of ids (most blocks live at once) */
    uint64_t live;          /* steady: --live, the blocks kept live */
    uint64_t peaks;         /* ramp-peak-plateau: --peaks */
    uint64_t small, large;  /* binary: --small/--large */
    uint64_t buffers, step; /* realloc: --buffers, --step */
};

/* Which parameters a pattern reads (struct hl_gen_pattern.uses); the
 * command refuses the others. */
enum {
    HL_GEN_USES_SIZES = 1u << 0,   /* sizes, min, max, mean */
    HL_GEN_USES_BOUNDS = 1u << 1,  /* min, max only */
    HL_GEN_USES_IDS = 1u << 2,     /* ids */
    HL_GEN_USES_LIVE = 1u << 3,    /* live */
    HL_GEN_USES_PEAKS = 1u << 4,   /* peaks */
    HL_GEN_USES_BINARY = 1u << 5,  /* small, large */
    HL_GEN_USES_REALLOC = 1u << 6  /* buffers, step */
};

struct hl_gen; /* a generator's working state (gen.c) */

struct hl_gen_pattern {
    const char *name;                  /* on the command line */
    const char *summary;               /* one line, for --help */
    unsigned uses;                     /* HL_GEN_USES_* */
    struct hl_gen_params defaults;     /* ops 0: computed (steady: 4 x live) */
    void (*generate)(struct hl_gen *g); /* emits exactly g's op count */
};

/* The patterns, in --help order. */
size_t hl_gen_count(void);
const struct hl_gen_pattern *hl_gen_at(size_t i);
/* A pattern by name, or NULL. */
const struct hl_gen_pattern *hl_gen_lookup(const char *name);
/* "random, binary, ..." - for messages. */
const char *hl_gen_names(void);

/* The pattern's default parameters, seed included (ops may be 0: see
 * hl_gen_resolve). */
void hl_gen_defaults(const struct hl_gen_pattern *pat, struct hl_gen_params *p);

/* Fill in what is computed from the rest (ops 0, mean 0) and check every
 * parameter the pattern uses.  0, or -1 with a one-line reason in err
 * ("--live: ..."). */
int hl_gen_resolve(const struct hl_gen_pattern *pat, struct hl_gen_params *p, char *err, size_t errlen);

/* Largest -n accepted: ops are 16 bytes each and held in memory. */
#define HL_GEN_MAX_OPS UINT64_C(1000000000)
/* Largest size bound: the sizes stay far from PTRDIFF_MAX and overflow. */
#define HL_GEN_MAX_SIZE (UINT64_C(1) << 40)

/* Generate a trace: hl_gen_resolve, then the pattern.  out->path is a label
 * "gen:PATTERN:n=N,seed=S[,key=value...]" naming every parameter that is
 * not the pattern's default; dialect classic, weight 1, sugg_heapsize the
 * peak live bytes.  0, or -1 with a reason in err (bad parameters, out of
 * memory) and *out zeroed.  Free with hl_trace_free. */
int hl_gen(const struct hl_gen_pattern *pat, const struct hl_gen_params *p, struct hl_trace *out, char *err,
           size_t errlen);

#endif
