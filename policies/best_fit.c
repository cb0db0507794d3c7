/*
 * best_fit.c - best fit over an address-ordered free list.
 *
 * Take the smallest free block that is large enough; among blocks of that
 * size, the lowest-addressed (Knuth, TAOCP vol. 1, 2.5).  The whole list is
 * searched unless a block fits exactly.  The rbtree policy makes the same
 * choice in O(log n): the two must place every block at the same address.
 */
#include "freelist.h"

struct best_fit {
    struct hl_freelist fl;
};

static void bf_insert(void *st, hl_block *b) { hl_fl_insert(&((struct best_fit *)st)->fl, b); }
static void bf_remove(void *st, hl_block *b) { hl_fl_remove(&((struct best_fit *)st)->fl, b); }
static void bf_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    (void)size; /* an address-ordered list: the key does not change */
    hl_fl_replace(&((struct best_fit *)st)->fl, old, b);
}

static hl_block *bf_find(void *st, size_t size)
{
    hl_block *best = NULL;
    size_t best_size = (size_t)-1;
    for (struct hl_fl_node *n = ((struct best_fit *)st)->fl.head; n; n = n->next) {
        size_t s = hl_block_size(hl_fl_block(n));
        if (s >= size && s < best_size) { /* strict: ties keep the lower address */
            best = hl_fl_block(n);
            best_size = s;
            if (s == size)
                break;
        }
    }
    return best;
}

static int bf_check(hl_heap *h, void *st, struct hl_check *c)
{
    hl_fl_check(h, &((struct best_fit *)st)->fl, c);
    return c->violations;
}

static const struct hl_policy best_fit = {
    .abi = HL_POLICY_ABI,
    .name = "best-fit",
    .summary = "smallest free block that fits, lowest address on ties (address-ordered list)",
    .state_size = sizeof(struct best_fit),
    .insert = bf_insert,
    .remove = bf_remove,
    .replace = bf_replace,
    .find = bf_find,
    .check = bf_check,
};

const struct hl_policy *hl_policy_best_fit(void) { return &best_fit; }
