/*
 * rbtree.c - best fit in O(log n): free blocks in a red-black tree keyed by
 * (size, address).
 *
 * An indexed fit (Wilson et al., "Dynamic Storage Allocation: A Survey and
 * Critical Review", 1995, section 3, "indexed fits"): the policy is best
 * fit, the index is a balanced search tree instead of a list.  Each free
 * block is one node; the node lives in the block's own node space (the
 * intrusive tree of rb.h, balanced as in Cormen et al., "Introduction to
 * Algorithms", 3rd ed., chapter 13), so the index costs no memory.  The key
 * is the block's size, read from its header, then its address: keys are
 * distinct, and
 *
 *   find(size)  the least key >= (size, 0): the smallest block that fits,
 *               the lowest-addressed among blocks of that size;
 *
 * exactly the block best_fit.c takes after searching its whole list, so the
 * two place every block at the same address.  insert, remove and find cost
 * O(log n) for n free blocks: the search the list policy pays on every
 * allocation shrinks to the tree's height (at most 2 log2(n + 1)).
 *
 * Every replace core makes changes the key (a split remainder is smaller,
 * a coalesced block larger, a trimmed top smaller), and replace is called
 * before the new header - hence the new key - is written.  So the policy has
 * no replace: core removes the old block and inserts the new one.  A lazy
 * replace (move the node to b in O(1), re-sort it on the next call when
 * its new key left its place) was measured against this on the 64
 * malloc-lab traces: 20% faster where splits carve the largest block,
 * 15% slower on the random traces, even overall (geometric mean 0.99) -
 * not worth leaving the tree out of order between operations.
 *
 * Related designs (ideas only, no code taken): glibc's malloc keeps each
 * large bin sorted by size with a skip list over the distinct sizes
 * (fd_nextsize) for the same best-fit search; Linux's rbtree (lib/rbtree.c)
 * is the intrusive, parent-linked red-black tree this index follows.
 */
#include <stdint.h>

#include "rb.h"

struct rbtree {
    struct hl_rb_root root;
    size_t count; /* blocks in the tree */
};

static inline struct hl_rb_node *node_of(hl_block *b) { return hl_block_node(b); }
static inline hl_block *block_of(const struct hl_rb_node *n) { return hl_node_block(n); }

/* (size, address) order of blocks a and b. */
static inline int before(const hl_block *a, size_t as, const hl_block *b)
{
    size_t bs = hl_block_size(b);
    return as < bs || (as == bs && (uintptr_t)a < (uintptr_t)b);
}

static int key_cmp(const struct hl_rb_node *x, const struct hl_rb_node *y)
{
    const hl_block *a = block_of(x), *b = block_of(y);
    if (before(a, hl_block_size(a), b))
        return -1;
    return a != b;
}

/* File b (header written): descend by key, link, rebalance. */
static void link_block(struct rbtree *t, hl_block *b)
{
    size_t size = hl_block_size(b);
    struct hl_rb_node **link = &t->root.node, *parent = NULL;
    while (*link) {
        parent = *link;
        link = before(b, size, block_of(parent)) ? &parent->left : &parent->right;
    }
    struct hl_rb_node *n = node_of(b);
    hl_rb_link(n, parent, link);
    hl_rb_insert_color(n, &t->root);
}

static void rt_insert(void *st, hl_block *b)
{
    struct rbtree *t = st;
    link_block(t, b);
    t->count++;
}

static void rt_remove(void *st, hl_block *b)
{
    struct rbtree *t = st;
    hl_rb_erase(node_of(b), &t->root);
    t->count--;
}

static hl_block *rt_find(void *st, size_t size)
{
    struct rbtree *t = st;
    struct hl_rb_node *n = t->root.node, *best = NULL;
    while (n) {
        if (hl_block_size(block_of(n)) >= size) {
            best = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best ? block_of(best) : NULL;
}

/* ---- check ------------------------------------------------------------------ */

/* Deeper than any red-black tree in memory can be (2 log2(n + 1) < 128). */
#define MAX_DEPTH 128

/*
 * First pass, before anything walks the tree in order: every node is in a
 * free core block (valid tag, USED clear).  `sound` stays 1 while the tree
 * can be walked in order by its parent links and compared by key (as
 * hl_rb_check does); it turns 0 on a wrong parent link (hl_rb_check reports
 * it, its in-order walk could loop) or a node that is not in a free block,
 * and -1 on a cycle: more nodes reachable than filed, or too deep.
 */
struct pass {
    hl_heap *h;
    struct hl_check *c;
    size_t nodes, filed;
    int sound;
};

static void visit(struct pass *ps, const struct hl_rb_node *n, const struct hl_rb_node *parent, int depth)
{
    if (!n || ps->sound < 0)
        return;
    if (depth >= MAX_DEPTH || ++ps->nodes > ps->filed) {
        hl_check_fail(ps->c, "rbtree: more nodes reachable than the %zu filed, or too deep (a cycle?)",
                      ps->filed);
        ps->sound = -1;
        return;
    }
    if (hl_rb_parent(n) != parent)
        ps->sound = 0;
    const hl_block *b = block_of(n);
    hl_word w = hl_hdr(b);
    if (!hl_hdr_tag_ok(b, w, hl_heap_cookie(ps->h))) {
        hl_check_fail(ps->c, "rbtree: node %p is not in a block (header tag does not match)", (const void *)n);
        ps->sound = 0;
    } else {
        if (HL_CHECK(ps->c, !(w & HL_F_USED), "rbtree: block %p is in use", (const void *)b))
            ps->sound = 0;
        HL_CHECK(ps->c, hl_block_kind(b) == HL_KIND_CORE, "rbtree: block %p has kind %u", (const void *)b,
                 hl_block_kind(b));
    }
    visit(ps, n->left, n, depth + 1);
    visit(ps, n->right, n, depth + 1);
}

struct census {
    const struct rbtree *t;
    struct hl_check *c;
    size_t free_blocks;
};

/* Each free block the heap walk finds must be reached by a search for its
 * key: its node is in the tree, and where its header size says. */
static int find_walked(const struct hl_block_info *bi, void *arg)
{
    struct census *cs = arg;
    if (bi->state != HL_BLOCK_FREE)
        return 0;
    cs->free_blocks++;
    const hl_block *b = bi->addr;
    const struct hl_rb_node *n = cs->t->root.node;
    for (int depth = 0; n && block_of(n) != b && depth < MAX_DEPTH; depth++)
        n = before(b, bi->size, block_of(n)) ? n->left : n->right;
    HL_CHECK(cs->c, n && block_of(n) == b, "rbtree: free block %p (%zu bytes) is not in the tree under its key",
             bi->addr, bi->size);
    return 0;
}

static int rt_check(hl_heap *h, void *st, struct hl_check *c)
{
    struct rbtree *t = st;
    struct pass ps = {h, c, 0, t->count, 1};
    visit(&ps, t->root.node, NULL, 0);
    if (ps.sound < 0)
        return c->violations;
    /* properties 2, 4, 5 and the parent links; the (size, address) order
     * too when the links and headers can be trusted */
    size_t linked = 0;
    hl_rb_check(&t->root, ps.sound ? key_cmp : NULL, c, &linked);
    HL_CHECK(c, linked == t->count, "rbtree: %zu nodes linked, count says %zu", linked, t->count);
    if (!ps.sound)
        return c->violations;
    /* the tree holds exactly the heap's free blocks: as many nodes as free
     * blocks, and each free block found under its key */
    struct census cs = {t, c, 0};
    hl_walk_held(h, find_walked, &cs);
    HL_CHECK(c, cs.free_blocks == linked, "rbtree: %zu nodes, heap has %zu free blocks", linked,
             cs.free_blocks);
    return c->violations;
}

static const struct hl_policy rbtree = {
    .abi = HL_POLICY_ABI,
    .name = "rbtree",
    .summary = "best fit in O(log n): red-black tree of free blocks keyed by (size, address)",
    .state_size = sizeof(struct rbtree),
    .insert = rt_insert,
    .remove = rt_remove,
    .find = rt_find,
    .check = rt_check,
};

const struct hl_policy *hl_policy_rbtree(void) { return &rbtree; }
