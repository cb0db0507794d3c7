/*
 * tlsf.c - two-level segregated fit (TLSF).
 *
 * M. Masmano, I. Ripoll, A. Crespo, J. Real, "TLSF: a new dynamic memory
 * allocator for real-time systems", Proc. 16th Euromicro Conference on
 * Real-Time Systems (ECRTS), 2004.  Ideas also from the public
 * implementation by M. Conte (github.com/mattconte/tlsf); no code taken.
 *
 * Free blocks are kept in segregated lists, one per size class, and two
 * levels of bitmaps say which lists are non-empty.
 *
 * THE MAPPING.  With s = log2(sl), a size n >= 2^(s+3) has first level
 * f = floor(log2 n) and second level i = the s bits after n's leading one,
 * so class (f, i) holds the sizes [2^f + i 2^(f-s), 2^f + (i+1) 2^(f-s)):
 * each power-of-two range is cut into sl equal classes and a class is at
 * most 1/sl of its sizes wide.  Below 2^(s+3) the classes would be
 * narrower than 8 bytes, finer than block sizes go, so - as in TLSF - the
 * small sizes get 2^s linear classes of 8 bytes each (one block size per
 * class) in first level 0.  tlsf.h computes both cases with one formula:
 * a count-leading-zeros, two shifts and an add, no division, no branch.
 *
 * SIZES COVERED.  Requests stop at the mmap threshold, but free blocks do
 * not: coalescing can make one as large as the extent, and the threshold
 * may be off.  So the levels run to the header's limit, 2^48: 41 first
 * levels for sl = 32, 1312 list heads, about 10 KiB of state, touched only
 * where blocks are.
 *
 * GOOD FIT.  find rounds the request up to the next class boundary, so
 * that the first block of any list it picks fits: no list is ever
 * searched.  A block in the request's own class that would fit is passed
 * over (core then falls back to the top block or grows the heap); the
 * rounding wastes less than 1/sl of the request.  Among the lists at or
 * above the rounded class it takes the smallest non-empty one: a find-
 * first-set on that first level's second-level word, else one on the
 * first-level word above it and one on the second-level word found.
 *
 * O(1).  insert is the mapping, a list link and, for a list that was
 * empty, two bit operations; remove is an unlink and, for a list it
 * empties, two bit operations (the class comes from the list head the
 * block hung from, no mapping); find is the mapping and at most two
 * find-first-set steps.  None depends on the number of free blocks or the
 * heap's size.  Lists are LIFO (insert at the head), doubly linked through
 * the node space.
 *
 * NO replace.  Core calls replace(old, b) before b's header is written, so
 * the new size - hence the new class, which a split or a coalesce almost
 * always changes - is unknown then.  Core's remove-then-insert is the
 * correct order for a segregated index.
 *
 * Immediate coalescing, splitting and growth are core's (heap.c).
 */
#include <errno.h>

#include "tlsf.h"

static inline struct tlsf_node *node_of(hl_block *b) { return hl_block_node(b); }
static inline hl_block *block_of(const struct tlsf_node *n) { return hl_node_block(n); }

static inline void mark(struct tlsf *t, unsigned c)
{
    unsigned s = t->sl_log2;
    t->sl_map[c >> s] |= 1u << (c & ((1u << s) - 1));
    t->fl_map |= (uint64_t)1 << (c >> s);
}

static inline void unmark(struct tlsf *t, unsigned c)
{
    unsigned s = t->sl_log2;
    if (!(t->sl_map[c >> s] &= ~(1u << (c & ((1u << s) - 1)))))
        t->fl_map &= ~((uint64_t)1 << (c >> s));
}

static void tlsf_insert(void *st, hl_block *b)
{
    struct tlsf *t = st;
    unsigned c = tlsf_class(hl_block_size(b), t->sl_log2);
    struct tlsf_node *n = node_of(b), **head = &t->heads[c], *first = *head;
    n->next = first;
    n->pprev = head;
    *head = n;
    if (first)
        first->pprev = &n->next;
    else
        mark(t, c); /* a non-empty list has its bits already */
}

/* The list is empty now only if b was its one block: no successor, and
 * its back link is a list head (nodes live in the heap, heads here), whose
 * slot says the class without reading b's header. */
static void tlsf_remove(void *st, hl_block *b)
{
    struct tlsf *t = st;
    struct tlsf_node *n = node_of(b);
    *n->pprev = n->next;
    if (n->next) {
        n->next->pprev = n->pprev;
        return;
    }
    uintptr_t off = (uintptr_t)n->pprev - (uintptr_t)t->heads;
    if (off < sizeof t->heads)
        unmark(t, (unsigned)(off / sizeof t->heads[0]));
}

static hl_block *tlsf_find(void *st, size_t size)
{
    struct tlsf *t = st;
    unsigned s = t->sl_log2;
    if (size > HL_MAX_BLOCK) /* keeps the rounding below from wrapping */
        return NULL;
    unsigned c = tlsf_search_class(size, s), fl = c >> s;
    if (fl >= t->fl_count) /* rounded up past 2^48 */
        return NULL;
    uint32_t sm = t->sl_map[fl] & (~0u << (c & ((1u << s) - 1)));
    int first = tlsf_first_class(t->fl_map, t->sl_map, fl, sm, s);
    return first < 0 ? NULL : block_of(t->heads[first]);
}

static int tlsf_init(hl_heap *h, void *st, const long *params)
{
    struct tlsf *t = st;
    long sl = params[0];
    (void)h;
    if (sl < 1 << TLSF_SL_LOG2_MIN || sl > 1 << TLSF_SL_LOG2_MAX || (sl & (sl - 1))) {
        errno = EINVAL;
        return -1;
    }
    t->sl_log2 = (unsigned)__builtin_ctzl((unsigned long)sl);
    t->fl_count = TLSF_FL_COUNT(t->sl_log2);
    return 0;
}

/* ---- check ----------------------------------------------------------------- */

struct census {
    size_t count, bytes;
};

static int count_free(const struct hl_block_info *bi, void *arg)
{
    struct census *cs = arg;
    if (bi->state == HL_BLOCK_FREE) {
        cs->count++;
        cs->bytes += bi->size;
    }
    return 0;
}

/* Walk list c: every node a free block of its class, back links right.
 * Stops at a node it cannot trust, and once more blocks are listed than
 * the heap has free ones (a cycle).  0 to go on, -1 to stop. */
static int check_list(hl_heap *h, const struct tlsf *t, unsigned c, hl_word cookie, const struct census *heap,
                      struct census *listed, struct hl_check *ck)
{
    unsigned s = t->sl_log2;
    struct tlsf_node *const *expect = &t->heads[c];
    for (const struct tlsf_node *n = t->heads[c]; n; n = n->next) {
        hl_block *b = block_of(n);
        if (!hl_heap_holds(h, b, HL_HDR_BYTES + sizeof *n)) {
            hl_check_fail(ck, "tlsf: list %u: link %p leads out of the heap", c, (void *)n);
            return 0;
        }
        if (!hl_hdr_tag_ok(b, hl_hdr(b), cookie)) {
            hl_check_fail(ck, "tlsf: list %u holds %p, not a block", c, (void *)b);
            return 0;
        }
        size_t size = hl_block_size(b);
        HL_CHECK(ck, !hl_block_used(b), "tlsf: block %p in list %u is in use", (void *)b, c);
        HL_CHECK(ck, tlsf_class(size, s) == c,
                 "tlsf: block %p of %zu bytes filed in class %u (from %zu bytes), its class is %u", (void *)b,
                 size, c, tlsf_class_min(c, s), tlsf_class(size, s));
        if (n->pprev != expect) {
            hl_check_fail(ck, "tlsf: block %p in list %u has a wrong back link", (void *)b, c);
            return 0;
        }
        expect = &n->next;
        listed->count++;
        listed->bytes += size;
        if (listed->count > heap->count) {
            hl_check_fail(ck, "tlsf: lists hold more than the heap's %zu free blocks (a cycle?)",
                          heap->count);
            return -1;
        }
    }
    return 0;
}

static int tlsf_check(hl_heap *h, void *st, struct hl_check *ck)
{
    const struct tlsf *t = st;
    unsigned s = t->sl_log2, nsl = 1u << s;
    if (s < TLSF_SL_LOG2_MIN || s > TLSF_SL_LOG2_MAX || t->fl_count != TLSF_FL_COUNT(s)) {
        hl_check_fail(ck, "tlsf: bad geometry (sl_log2 %u, %u first levels)", s, t->fl_count);
        return ck->violations;
    }
    struct census heap = {0, 0}, listed = {0, 0};
    hl_walk_held(h, count_free, &heap);
    hl_word cookie = hl_heap_cookie(h);
    HL_CHECK(ck, (t->fl_map >> t->fl_count) == 0, "tlsf: first-level bits beyond level %u: %#llx",
             t->fl_count - 1, (unsigned long long)t->fl_map);
    for (unsigned fl = 0; fl < sizeof t->sl_map / sizeof t->sl_map[0]; fl++) {
        uint32_t sm = t->sl_map[fl];
        if (fl >= t->fl_count) {
            HL_CHECK(ck, sm == 0, "tlsf: second-level word %u beyond the levels is %#x", fl, sm);
            continue;
        }
        HL_CHECK(ck, !!(t->fl_map >> fl & 1) == (sm != 0),
                 "tlsf: first-level bit %u is %d, second-level word %#x", fl, (int)(t->fl_map >> fl & 1), sm);
        HL_CHECK(ck, nsl == 32 || (sm >> nsl) == 0, "tlsf: second-level word %u has bits beyond %u: %#x", fl,
                 nsl - 1, sm);
        for (unsigned sl = 0; sl < nsl; sl++) {
            unsigned c = (fl << s) | sl;
            HL_CHECK(ck, !!(sm >> sl & 1) == (t->heads[c] != NULL),
                     "tlsf: bit of class %u (from %zu bytes) is %d, its list is %s", c, tlsf_class_min(c, s),
                     (int)(sm >> sl & 1), t->heads[c] ? "not empty" : "empty");
            if (check_list(h, t, c, cookie, &heap, &listed, ck) < 0)
                return ck->violations;
        }
    }
    for (unsigned c = t->fl_count << s; c < TLSF_LISTS_MAX; c++)
        HL_CHECK(ck, t->heads[c] == NULL, "tlsf: list %u beyond the classes of sl = %u is not empty", c, nsl);
    HL_CHECK(ck, listed.count == heap.count && listed.bytes == heap.bytes,
             "tlsf: lists hold %zu blocks (%zu bytes), the heap has %zu free blocks (%zu bytes)",
             listed.count, listed.bytes, heap.count, heap.bytes);
    return ck->violations;
}

static const struct hl_param tlsf_params[] = {
    {"sl", 32, 1 << TLSF_SL_LOG2_MIN, 1 << TLSF_SL_LOG2_MAX, NULL,
     "second-level classes per power of two: 4, 8, 16 or 32"},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct hl_policy tlsf = {
    .abi = HL_POLICY_ABI,
    .name = "tlsf",
    .summary = "two-level segregated fit: O(1) good fit over size classes (Masmano et al. 2004)",
    .params = tlsf_params,
    .state_size = sizeof(struct tlsf),
    .init = tlsf_init,
    .insert = tlsf_insert,
    .remove = tlsf_remove,
    .find = tlsf_find,
    .check = tlsf_check,
};

const struct hl_policy *hl_policy_tlsf(void) { return &tlsf; }
