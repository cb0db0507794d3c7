/*
 * first_fit.c - first fit over an address-ordered free list.
 *
 * Take the lowest-addressed free block that is large enough (Knuth, TAOCP
 * vol. 1, 2.5, Algorithm A).  Address order is what makes first fit good:
 * Wilson et al. (1995) found address-ordered first fit among the policies
 * with the least fragmentation on real traces, because it tends to leave
 * big free areas at high addresses and packs small blocks low.  The cost is
 * the search (and the insert), O(free blocks) each.
 */
#include "freelist.h"

struct first_fit {
    struct hl_freelist fl;
};

static void ff_insert(void *st, hl_block *b) { hl_fl_insert(&((struct first_fit *)st)->fl, b); }
static void ff_remove(void *st, hl_block *b) { hl_fl_remove(&((struct first_fit *)st)->fl, b); }
static void ff_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    (void)size; /* an address-ordered list: the key does not change */
    hl_fl_replace(&((struct first_fit *)st)->fl, old, b);
}

static hl_block *ff_find(void *st, size_t size) { return hl_fl_first_fit(&((struct first_fit *)st)->fl, size); }

static int ff_check(hl_heap *h, void *st, struct hl_check *c)
{
    hl_fl_check(h, &((struct first_fit *)st)->fl, c);
    return c->violations;
}

static const struct hl_policy first_fit = {
    .abi = HL_POLICY_ABI,
    .name = "first-fit",
    .summary = "lowest-addressed free block that fits (address-ordered list)",
    .state_size = sizeof(struct first_fit),
    .insert = ff_insert,
    .remove = ff_remove,
    .replace = ff_replace,
    .find = ff_find,
    .check = ff_check,
};

const struct hl_policy *hl_policy_first_fit(void) { return &first_fit; }
