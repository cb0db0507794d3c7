/*
 * worst_fit.c - worst fit over an address-ordered free list.
 *
 * Take the largest free block (lowest address on ties), hoping the
 * remainder stays large enough to be useful.  Wilson et al. (1995) report
 * that it fragments badly in practice: it breaks up exactly the big blocks
 * that large requests need.  heaplab keeps it as the textbook contrast.
 */
#include "freelist.h"

struct worst_fit {
    struct hl_freelist fl;
};

static void wf_insert(void *st, hl_block *b) { hl_fl_insert(&((struct worst_fit *)st)->fl, b); }
static void wf_remove(void *st, hl_block *b) { hl_fl_remove(&((struct worst_fit *)st)->fl, b); }
static void wf_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    (void)size; /* an address-ordered list: the key does not change */
    hl_fl_replace(&((struct worst_fit *)st)->fl, old, b);
}

static hl_block *wf_find(void *st, size_t size)
{
    hl_block *worst = NULL;
    size_t worst_size = 0;
    for (struct hl_fl_node *n = ((struct worst_fit *)st)->fl.head; n; n = n->next) {
        size_t s = hl_block_size(hl_fl_block(n));
        if (s > worst_size) {
            worst = hl_fl_block(n);
            worst_size = s;
        }
    }
    return worst_size >= size ? worst : NULL;
}

static int wf_check(hl_heap *h, void *st, struct hl_check *c)
{
    hl_fl_check(h, &((struct worst_fit *)st)->fl, c);
    return c->violations;
}

static const struct hl_policy worst_fit = {
    .abi = HL_POLICY_ABI,
    .name = "worst-fit",
    .summary = "largest free block, lowest address on ties (address-ordered list)",
    .state_size = sizeof(struct worst_fit),
    .insert = wf_insert,
    .remove = wf_remove,
    .replace = wf_replace,
    .find = wf_find,
    .check = wf_check,
};

const struct hl_policy *hl_policy_worst_fit(void) { return &worst_fit; }
