/*
 * rbtree.h - rbtree's index (rbtree.c), for policies that choose as best
 * fit does and add placement rules of their own (pack.c): its state and
 * its index functions, which such a policy's table points at directly.
 */
#ifndef HEAPLAB_RBTREE_H
#define HEAPLAB_RBTREE_H

#include <stdint.h>

#include "rb.h"
#include "tlsf.h"

#define SL_LOG2 TLSF_SL_LOG2_MAX /* 32 classes per power of two */
#define FL_COUNT TLSF_FL_COUNT(SL_LOG2)
#define CLASSES (FL_COUNT << SL_LOG2)

struct rb_class {
    struct hl_rb_root tree;    /* the class's sorted free blocks by (size, address) */
    struct hl_rb_node *first;  /* the tree's least key, NULL when empty */
    struct hl_rb_node *last;   /* its greatest key, NULL when empty */
    struct pend_node *pending; /* blocks not sorted yet, in no order */
};

/* A block on a class's pending list, in the node space where a tree node
 * would be.  Its first word is the back link with PENDING set: a tree
 * node's first word is a parent address (8-aligned) with the colour in
 * bit 0, so bit 1 tells the two apart. */
struct pend_node {
    uintptr_t pprev;        /* address of the link that points here | PENDING */
    struct pend_node *next; /* NULL at the end */
};
#define PENDING ((uintptr_t)2)

struct rbtree {
    uint64_t fl_map;            /* bit f: sl_map[f] != 0 */
    uint32_t sl_map[FL_COUNT];  /* bit i of word f: class (f << SL_LOG2) | i not empty */
    size_t count;               /* blocks filed (sorted and pending) */
    struct rb_class cls[CLASSES];
};

void hl_rbtree_insert(void *st, hl_block *b);
void hl_rbtree_remove(void *st, hl_block *b);
void hl_rbtree_replace(void *st, hl_block *old, hl_block *b, size_t size);
hl_block *hl_rbtree_find(void *st, size_t size);
int hl_rbtree_check(hl_heap *h, void *st, struct hl_check *c);

#endif
