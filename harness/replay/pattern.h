/*
 * pattern.h - a fixed-seed PRNG and per-block byte patterns, for the
 * conformance checks (harness/conformance/) and the Check suites (testutil.h).
 * Header-only: both include it and neither links the other.
 */
#ifndef HEAPLAB_PATTERN_H
#define HEAPLAB_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- fixed-seed PRNG (splitmix64: tiny, and every seed is a good one) --- */

struct pat_rng {
    uint64_t s;
};

static inline uint64_t pat_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static inline uint64_t pat_next(struct pat_rng *r)
{
    r->s += 0x9e3779b97f4a7c15u;
    return pat_mix(r->s);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static inline size_t pat_below(struct pat_rng *r, size_t n) { return (size_t)(pat_next(r) % n); }

/* ---- per-block patterns --------------------------------------------------- */


/* Byte k of the pattern for block `id`: depends on id and on k, so a block
 * copied to the wrong offset, another block's bytes, or a stale free-list
 * link never pass for it.  A prefix of a pattern is the same pattern. */
static inline unsigned char pat_byte(uint64_t id, size_t k)
{
    uint64_t w = pat_mix(id ^ ((uint64_t)(k >> 3) << 32));
    unsigned char bytes[8];
    memcpy(bytes, &w, 8); /* the byte order pat_fill's whole words have */
    return bytes[k & 7];
}

static inline void pat_fill(void *p, size_t n, uint64_t id)
{
    unsigned char *b = p;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w = pat_mix(id ^ ((uint64_t)(k >> 3) << 32));
        memcpy(b + k, &w, 8);
    }
    for (; k < n; k++)
        b[k] = pat_byte(id, k);
}

/* The offset of the first byte that differs from the pattern, or -1. */
static inline long pat_verify(const void *p, size_t n, uint64_t id)
{
    const unsigned char *b = p;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w = pat_mix(id ^ ((uint64_t)(k >> 3) << 32));
        if (memcmp(b + k, &w, 8) != 0)
            break;
    }
    for (; k < n; k++)
        if (b[k] != pat_byte(id, k))
            return (long)k;
    return -1;
}

/* The offset of the first byte that is not zero, or -1 (calloc's promise). */
static inline long pat_first_nonzero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        if (b[k])
            return (long)k;
    return -1;
}

#endif
