/*
 * rb.h - an intrusive red-black tree (after the design of Linux's
 * include/linux/rbtree.h: the node lives inside the user's object, the user
 * does the ordered descent and links the node, the tree only rebalances).
 *
 * A node is three words - parent pointer with the colour in its low bit,
 * left, right - so it fits in the node space of a minimum free block
 * (HL_NODE_BYTES).  The properties the rebalancing keeps (CLRS, 13.1):
 *
 *   1. every node is red or black;
 *   2. the root is black;
 *   3. (NULL leaves are black;)
 *   4. a red node has no red child;
 *   5. every path from a node down to a leaf has the same number of black
 *      nodes (its black height).
 *
 * Hence the height is at most 2 log2(n + 1).
 */
#ifndef HEAPLAB_RB_H
#define HEAPLAB_RB_H

#include <stddef.h>
#include <stdint.h>

#include "heaplab/policy.h"

struct hl_rb_node {
    uintptr_t parent_color; /* parent | colour (bit 0: 1 = black) */
    struct hl_rb_node *left, *right;
};

struct hl_rb_root {
    struct hl_rb_node *node;
};

static inline struct hl_rb_node *hl_rb_parent(const struct hl_rb_node *n)
{
    return (struct hl_rb_node *)(n->parent_color & ~(uintptr_t)1);
}

/* Put a new node at *link (a NULL child slot of parent, found by descent). */
static inline void hl_rb_link(struct hl_rb_node *node, struct hl_rb_node *parent, struct hl_rb_node **link)
{
    node->parent_color = (uintptr_t)parent; /* red */
    node->left = node->right = NULL;
    *link = node;
}

/* Make node the whole of an empty tree: black, no children. */
static inline void hl_rb_link_root(struct hl_rb_node *node, struct hl_rb_root *root)
{
    node->parent_color = 1; /* no parent, black (property 2) */
    node->left = node->right = NULL;
    root->node = node;
}

/* Restore the properties after hl_rb_link. */
void hl_rb_insert_color(struct hl_rb_node *node, struct hl_rb_root *root);
/* Take a node out of the tree. */
void hl_rb_erase(struct hl_rb_node *node, struct hl_rb_root *root);
/* Put `repl` where `old` is, with old's colour and links; the caller
 * guarantees repl sorts where old did. */
void hl_rb_replace(struct hl_rb_node *old, struct hl_rb_node *repl, struct hl_rb_root *root);

struct hl_rb_node *hl_rb_first(const struct hl_rb_root *root);
struct hl_rb_node *hl_rb_last(const struct hl_rb_root *root);
struct hl_rb_node *hl_rb_next(const struct hl_rb_node *node);
struct hl_rb_node *hl_rb_prev(const struct hl_rb_node *node);

/* Check properties 2, 4 and 5, the parent links, and that an in-order
 * walk is strictly increasing under cmp.  Counts violations into c; stores
 * the number of nodes in *count (if not NULL). */
void hl_rb_check(const struct hl_rb_root *root,
                 int (*cmp)(const struct hl_rb_node *a, const struct hl_rb_node *b), struct hl_check *c,
                 size_t *count);

#endif
