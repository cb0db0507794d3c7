/*
 * next_fit.c - next fit: first fit that resumes where the last search
 * ended (Knuth, TAOCP vol. 1, 2.5, exercise 6), over an address-ordered
 * free list used circularly.
 *
 * The rover is the block the last search chose.  When core splits it, the
 * remainder takes its place (replace), so the next search starts just after
 * the last placement; when the whole block is taken (remove), the rover
 * moves to the next free block.  Wilson et al. (1995) note the price: the
 * rover spreads allocations over the whole heap, mixing objects of
 * different lifetimes, and fragmentation is usually worse than first fit's.
 */
#include "freelist.h"

struct next_fit {
    struct hl_freelist fl;
    struct hl_fl_node *rover; /* where the next search starts; NULL = head */
};

static void nf_insert(void *st, hl_block *b) { hl_fl_insert(&((struct next_fit *)st)->fl, b); }

static void nf_remove(void *st, hl_block *b)
{
    struct next_fit *nf = st;
    struct hl_fl_node *n = hl_fl_node_of(b);
    if (nf->rover == n)
        nf->rover = n->next;
    hl_fl_remove(&nf->fl, b);
}

static void nf_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    (void)size; /* an address-ordered list: the key does not change */
    struct next_fit *nf = st;
    if (nf->rover == hl_fl_node_of(old))
        nf->rover = hl_fl_node_of(b);
    hl_fl_replace(&nf->fl, old, b);
}

static hl_block *nf_find(void *st, size_t size)
{
    struct next_fit *nf = st;
    struct hl_fl_node *start = nf->rover ? nf->rover : nf->fl.head;
    for (struct hl_fl_node *n = start; n; n = n->next)
        if (hl_block_size(hl_fl_block(n)) >= size)
            return hl_fl_block(nf->rover = n);
    for (struct hl_fl_node *n = nf->fl.head; n && n != start; n = n->next)
        if (hl_block_size(hl_fl_block(n)) >= size)
            return hl_fl_block(nf->rover = n);
    return NULL;
}

static int nf_check(hl_heap *h, void *st, struct hl_check *c)
{
    struct next_fit *nf = st;
    hl_fl_check(h, &nf->fl, c);
    if (nf->rover) {
        /* the list's links are followed only as far as hl_fl_check could
         * (inside the heap, no more than its count) */
        const struct hl_fl_node *n = nf->fl.head;
        for (size_t k = 0; n && n != nf->rover && k <= nf->fl.count; k++)
            n = hl_heap_holds(h, hl_fl_block(n), HL_HDR_BYTES + sizeof *n) ? n->next : NULL;
        HL_CHECK(c, n == nf->rover, "next fit: rover %p is not on the free list", (void *)nf->rover);
    }
    return c->violations;
}

static const struct hl_policy next_fit = {
    .abi = HL_POLICY_ABI,
    .name = "next-fit",
    .summary = "first fit resuming after the last placement (roving pointer)",
    .state_size = sizeof(struct next_fit),
    .insert = nf_insert,
    .remove = nf_remove,
    .replace = nf_replace,
    .find = nf_find,
    .check = nf_check,
};

const struct hl_policy *hl_policy_next_fit(void) { return &next_fit; }
