/*
 * freelist.h - an address-ordered, doubly linked list of free blocks, the
 * index shared by the textbook policies (first, next, best and worst fit).
 * The links live in the free block's node space.
 *
 * Keeping the list in address order makes insert O(n), but it is what
 * Knuth's and Wilson's first fit mean, it makes ties in best and worst fit
 * go to the lowest address, and replace (split, coalesce) is O(1).
 */
#ifndef HEAPLAB_FREELIST_H
#define HEAPLAB_FREELIST_H

#include "heaplab/policy.h"

struct hl_fl_node {
    struct hl_fl_node *next, *prev;
};

struct hl_freelist {
    struct hl_fl_node *head; /* lowest address */
    size_t count;
};

static inline struct hl_fl_node *hl_fl_node_of(hl_block *b) { return hl_block_node(b); }
static inline hl_block *hl_fl_block(const struct hl_fl_node *n) { return hl_node_block(n); }

void hl_fl_insert(struct hl_freelist *fl, hl_block *b);
void hl_fl_remove(struct hl_freelist *fl, hl_block *b);
void hl_fl_replace(struct hl_freelist *fl, hl_block *old, hl_block *b);
/* First fit: the lowest-addressed block of at least `size` bytes, or NULL. */
hl_block *hl_fl_first_fit(const struct hl_freelist *fl, size_t size);
/* Order, links, count, and that the list holds exactly the heap's free
 * blocks of core's mechanism (kind 0). */
void hl_fl_check(hl_heap *h, const struct hl_freelist *fl, struct hl_check *c);

#endif
