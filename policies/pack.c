/*
 * pack.c - best fit with placement rules that pack: the reference a class
 * measures its malloc-lab utilization against.
 *
 * The index is rbtree's (best fit in O(log n), lowest address on ties), so
 * the policy chooses exactly the free block best fit chooses; what differs
 * is where core puts the block inside it and what realloc does, through the
 * placement options of policy.h (struct hl_placement).  Each rule is a
 * parameter, so `-p pack:high=0` shows what that rule was worth:
 *
 *   high=N    blocks of fewer than N bytes are carved from the high end of
 *             the free block, larger ones from the low end.  Small and
 *             large blocks then grow towards each other from the two ends
 *             of a free area instead of alternating, and large blocks
 *             freed together coalesce into one hole that later, larger
 *             requests fit in.  This is what the binary traces need: 64-
 *             and 448-byte requests alternate, the 448s are freed, then
 *             512-byte requests come, which no 464-byte hole between two
 *             small blocks can serve.
 *   chunk=N   when the heap must grow for a small block, it grows by at
 *             least N bytes and the block goes to the top end: the rest is
 *             the free area that the next small blocks (from above) and
 *             large blocks (from below) share.  Without it the heap grows
 *             by exactly one block each time and high=N has no free area
 *             to work in.
 *   prev=1    realloc that cannot grow a block into a free successor
 *             slides it down into a free predecessor before growing the
 *             heap: a block that grows step by step, moved once to the top,
 *             comes back into the hole it left (realloc2).
 *   slack=K   a block realloc grows gets K/16 of its size on top, and is
 *             not shrunk while requests stay inside it.
 *
 * The rules are the placement heuristics of the strongest CS:APP malloc-lab
 * solutions (small blocks at the end of a free block, growth by chunks,
 * realloc into neighbours), written here as switches over a best-fit index.
 * docs/packing.md has each rule's contribution per trace.
 */
#include "rbtree.h"

static const struct hl_param pack_params[] = {
    {"high", 96, 0, 1 << 20, NULL, "blocks of fewer bytes are carved from the high end of a free block (0 = off)"},
    {"chunk", 2048, 0, 1 << 24, NULL, "the heap grows by at least this many bytes for a small block (0 = exactly)"},
    {"prev", 1, 0, 1, NULL, "realloc grows into a free predecessor (memmove) before growing the heap"},
    {"slack", 1, 0, 16, NULL, "sixteenths of its size a block gets on top when realloc grows it"},
    {NULL, 0, 0, 0, NULL, NULL},
};

static int pack_init(hl_heap *h, void *st, const long *params)
{
    (void)st;
    struct hl_placement pl = {
        .high_below = (size_t)params[0],
        .grow_chunk = (size_t)params[1],
        .realloc_prev = (unsigned)params[2],
        .realloc_slack = (unsigned)params[3],
    };
    hl_heap_set_placement(h, &pl);
    return 0;
}

static const struct hl_policy pack = {
    .abi = HL_POLICY_ABI,
    .name = "pack",
    .summary = "best fit (rbtree's index) with packing rules: small blocks from the high end, growth by chunks, "
               "realloc into neighbours",
    .params = pack_params,
    .state_size = sizeof(struct rbtree), /* the index: rbtree's */
    .init = pack_init,
    .insert = hl_rbtree_insert,
    .remove = hl_rbtree_remove,
    .replace = hl_rbtree_replace,
    .find = hl_rbtree_find,
    .check = hl_rbtree_check,
};

const struct hl_policy *hl_policy_pack(void) { return &pack; }
