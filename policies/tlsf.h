/*
 * tlsf.h - the TLSF policy's state and size-class mapping (see tlsf.c).
 *
 * Internal: included by tlsf.c and by its white-box test, so that the test
 * exercises the very mapping the policy uses, and by rbtree.c, which keeps
 * a tree per TLSF class.
 */
#ifndef HEAPLAB_TLSF_H
#define HEAPLAB_TLSF_H

#include <stddef.h>
#include <stdint.h>

#include "heaplab/policy.h"

#define TLSF_GRAN_LOG2 3     /* block sizes are multiples of 8 */
#define TLSF_SIZE_BITS 48    /* the header's size field: sizes below 2^48 */
#define TLSF_SL_LOG2_MIN 2   /* sl = 4 */
#define TLSF_SL_LOG2_MAX 5   /* sl = 32: one second-level word is 32 bits */

/* First levels for 2^s second-level classes: level 0 holds the small sizes
 * [0, 2^(s+3)), level k >= 1 the sizes [2^(s+2+k), 2^(s+3+k)), the last one
 * ending at 2^48. */
#define TLSF_FL_COUNT(s) (TLSF_SIZE_BITS - TLSF_GRAN_LOG2 - (s) + 1)
/* Lists for the largest sl (the count grows with s). */
#define TLSF_LISTS_MAX (TLSF_FL_COUNT(TLSF_SL_LOG2_MAX) << TLSF_SL_LOG2_MAX)

/* In a free block's node space: 16 of its 24 bytes.  pprev points at the
 * link that points here - the list head or the previous node's next - so
 * unlinking needs no branch on "first in its list". */
struct tlsf_node {
    struct tlsf_node *next;
    struct tlsf_node **pprev;
};

struct tlsf {
    unsigned sl_log2;                              /* s: 2^s second-level classes */
    unsigned fl_count;                             /* TLSF_FL_COUNT(s) */
    uint64_t fl_map;                               /* bit f: sl_map[f] != 0 */
    uint32_t sl_map[TLSF_FL_COUNT(TLSF_SL_LOG2_MIN)]; /* bit i of word f: list (f, i) non-empty */
    struct tlsf_node *heads[TLSF_LISTS_MAX];       /* list of class c = (f << s) | i */
};

/* Index of the highest set bit; x != 0. */
static inline unsigned tlsf_fls(size_t x) { return 63u - (unsigned)__builtin_clzll((unsigned long long)x); }

/*
 * The class a block of `size` bytes is filed in, as (first level << s) |
 * second level.  With f = floor(log2(size)) and size >= 2^(s+3), the second
 * level is the s bits after the leading one: (size >> (f - s)) - 2^s.
 * Smaller sizes have 8-byte linear classes, size >> 3, in level 0.  Or-ing
 * in 2^(s+3) before taking the logarithm makes one formula serve both: the
 * small classes and those of the first power of two above them are the
 * same 8 bytes wide and follow each other.
 */
static inline unsigned tlsf_class(size_t size, unsigned s)
{
    unsigned f = tlsf_fls(size | (size_t)1 << (s + TLSF_GRAN_LOG2));
    return ((f - s - TLSF_GRAN_LOG2) << s) + (unsigned)(size >> (f - s));
}

/* The first class whose every block has at least `size` bytes: round the
 * size up to the next class boundary, then map it.  For small sizes the
 * rounding adds 7, which leaves size >> 3 alone when size is a multiple of
 * 8 (a class of one size fits exactly). */
static inline unsigned tlsf_search_class(size_t size, unsigned s)
{
    unsigned f = tlsf_fls(size | (size_t)1 << (s + TLSF_GRAN_LOG2));
    return tlsf_class(size + ((size_t)1 << (f - s)) - 1, s);
}

/* The class a search takes: the first set bit of sm (the second-level
 * bits of first level fl still worth looking at), else the first class of
 * the next non-empty first level above fl.  (fl << s) + i, or -1 when no
 * class is left. */
static inline int tlsf_first_class(uint64_t fl_map, const uint32_t *sl_map, unsigned fl, uint32_t sm, unsigned s)
{
    if (!sm) {
        uint64_t fm = fl_map & (~(uint64_t)0 << (fl + 1));
        if (!fm)
            return -1;
        fl = (unsigned)__builtin_ctzll(fm);
        sm = sl_map[fl];
    }
    return (int)((fl << s) + (unsigned)__builtin_ctz(sm));
}

/* Smallest size in class c. */
static inline size_t tlsf_class_min(unsigned c, unsigned s)
{
    unsigned fl = c >> s;
    size_t sl = c & ((1u << s) - 1);
    if (fl == 0)
        return sl << TLSF_GRAN_LOG2;
    return ((size_t)1 << (fl + s + TLSF_GRAN_LOG2 - 1)) + (sl << (fl + TLSF_GRAN_LOG2 - 1));
}

#endif
