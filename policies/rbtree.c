/*
 * rbtree.c - best fit in O(log n): free blocks in red-black trees keyed by
 * (size, address), one tree per TLSF size class.
 *
 * An indexed fit (Wilson et al., "Dynamic Storage Allocation: A Survey and
 * Critical Review", 1995, section 3, "indexed fits"): the policy is best
 * fit, the index is balanced search trees instead of a list.  Each free
 * block is one node; the node lives in the block's own node space (the
 * intrusive tree of rb.h, balanced as in Cormen et al., "Introduction to
 * Algorithms", 3rd ed., chapter 13), so the index costs no heap memory.
 * The key is the block's size, read from its header, then its address:
 * keys are distinct, and
 *
 *   find(size)  the least key >= (size, 0): the smallest block that fits,
 *               the lowest-addressed among blocks of that size;
 *
 * exactly the block best_fit.c takes after searching its whole list, so the
 * two place every block at the same address.
 *
 * SEGREGATED TREES.  The sizes are cut into the size classes of TLSF
 * (tlsf.h, sl = 32: one class per 8-byte size below 512 bytes, then 32
 * classes per power of two, each at most 1/32 of its sizes wide), and each
 * class has a tree of its own, with its least and greatest keys (`first`,
 * `last`) kept beside its root and one bit per class saying it is not
 * empty.  The classes are consecutive ranges of sizes, so the least key
 * >= (size, 0) is in size's own class if any block there is large enough,
 * else it is the first block of the next non-empty class above, which two
 * find-first-set steps over the bitmaps name, as in TLSF.
 *
 * PENDING BLOCKS.  A class's order matters only when find searches it.  A
 * block filed beside a non-empty tree therefore waits on the class's
 * pending list (unordered, doubly linked through the node space: O(1) in
 * and out, as a TLSF list), and find sorts a class's pending blocks into
 * its tree before it reads the class's first or descends it.  A block that
 * is coalesced, taken by realloc or trimmed before its class is searched -
 * most blocks, in a heap that drains or churns - never costs a descent.
 * The list is LIFO, so blocks freed in address order, either way, come out
 * of it in an order that links beside the tree's first or last node with
 * no descent.  A bit in the node's first word tells the two kinds of node
 * apart (a tree node's first word is a parent address, 8-aligned, with the
 * colour in bit 0).  So:
 *
 *   find        sort the class's pending blocks in (usually none or one);
 *               then the class's first block when it fits (most requests),
 *               else a descent of that one class's tree, else a bitmap step
 *               to the next class's first block: no node of another class
 *               is read;
 *   insert      the root of an empty class, else a push on its list;
 *   remove      an unlink from the list, or an erase from one class's tree
 *               (first or last moving to the neighbour);
 *   replace     when the new key stays in old's class: a pending node moves
 *               to b as it is; a tree node moves in place, with old's links
 *               and colour (hl_rb_replace), when the key stays between its
 *               in-order neighbours (a split remainder has a smaller key, a
 *               coalesced block a larger one, so only one neighbour needs
 *               looking at).  Otherwise a remove and an insert.
 *
 * Sorting is O(log n) a block for n free blocks, everything else O(1); a
 * block is sorted at most once between being filed and unfiled.
 *
 * MEASUREMENTS (side by side in one run, ratios; the 11 classic CS:APP
 * traces, trimming off for the heap and glibc, aggregate throughput, the
 * median of several runs).  One tree over all free blocks ran at 0.54x
 * TLSF (0.49x glibc): an operation walked 2 log2(n) scattered nodes with
 * an unpredictable branch at each, and every split or coalesce was an
 * erase plus an insert.  A tree per class with in-place replace: 0.72x;
 * with `last`: 0.83x; with pending lists: 0.93x TLSF (0.84x glibc), for
 * 1.1x TLSF's instructions per operation (callgrind: random-bal 343
 * against 284, binary-bal 382 against 355; the single tree needed 434 and
 * 507).  On steady traces (gen steady, -n 2.2 x live) the single tree ran
 * at 0.20-0.36x TLSF, from 1k to 1M live blocks; now at 0.8-0.9x (a noisy
 * machine: single runs spread from 0.5x to 1.0x).  The price is the
 * class table: 32 bytes per class, 41 KiB of policy state,
 * touched only where blocks are.
 *
 * Related designs (ideas only, no code taken): TLSF (Masmano et al., 2004)
 * for the two-level class bitmaps; dlmalloc's tree bins, which keep a
 * search structure per size range behind a bitmap for the same reason;
 * glibc's large bins, sorted by size with a skip list over the distinct
 * sizes (fd_nextsize); Linux's rbtree (lib/rbtree.c), the intrusive,
 * parent-linked red-black tree rb.h follows.
 */
#include "rbtree.h"

static inline struct hl_rb_node *node_of(hl_block *b) { return hl_block_node(b); }
static inline hl_block *block_of(const void *n) { return hl_node_block(n); }
static inline size_t node_size(const void *n) { return hl_block_size(block_of(n)); }
static inline unsigned class_of(size_t size) { return tlsf_class(size, SL_LOG2); }
static inline int is_pending(const void *n) { return (int)(*(const uintptr_t *)n & PENDING); }
static inline struct pend_node **pend_pprev(const struct pend_node *p)
{
    return (struct pend_node **)(p->pprev & ~PENDING);
}

/* (as, a) < (bs, b): the key order. */
static inline int key_less(size_t as, const void *a, size_t bs, const void *b)
{
    return as < bs || (as == bs && (uintptr_t)a < (uintptr_t)b);
}

static int key_cmp(const struct hl_rb_node *x, const struct hl_rb_node *y)
{
    if (key_less(node_size(x), x, node_size(y), y))
        return -1;
    return x != y;
}

static inline void mark(struct rbtree *t, unsigned c)
{
    t->sl_map[c >> SL_LOG2] |= 1u << (c & ((1u << SL_LOG2) - 1));
    t->fl_map |= (uint64_t)1 << (c >> SL_LOG2);
}

static inline void unmark(struct rbtree *t, unsigned c)
{
    if (!(t->sl_map[c >> SL_LOG2] &= ~(1u << (c & ((1u << SL_LOG2) - 1)))))
        t->fl_map &= ~((uint64_t)1 << (c >> SL_LOG2));
}

/* Put node n of key (size, n) into class k's tree, the class not empty. */
static void sort_in(struct rb_class *k, struct hl_rb_node *n, size_t size)
{
    struct hl_rb_node *first = k->first, *last = k->last;
    if (key_less(size, n, node_size(first), first)) {
        hl_rb_link(n, first, &first->left); /* the least node has no left child */
        k->first = n;
    } else if (key_less(node_size(last), last, size, n)) {
        hl_rb_link(n, last, &last->right); /* nor the greatest a right one */
        k->last = n;
    } else {
        struct hl_rb_node **link = &k->tree.node, *parent = NULL;
        while (*link) {
            parent = *link;
            link = key_less(size, n, node_size(parent), parent) ? &parent->left : &parent->right;
        }
        hl_rb_link(n, parent, link);
    }
    hl_rb_insert_color(n, &k->tree);
}

static inline void pend_link(struct rb_class *k, struct pend_node *p)
{
    struct pend_node *head = k->pending;
    p->pprev = (uintptr_t)&k->pending | PENDING;
    p->next = head;
    if (head)
        head->pprev = (uintptr_t)&p->next | PENDING;
    k->pending = p;
}

static inline void pend_unlink(struct pend_node *p)
{
    struct pend_node *next = p->next;
    *pend_pprev(p) = next;
    if (next)
        next->pprev = p->pprev;
}

/* Sort class k's pending blocks into its tree (before a search needs the
 * class in order). */
static void sort_pending(struct rb_class *k)
{
    struct pend_node *p = k->pending;
    k->pending = NULL;
    while (p) {
        struct pend_node *next = p->next;
        struct hl_rb_node *n = (struct hl_rb_node *)(void *)p;
        size_t size = node_size(n);
        if (!k->first) {
            hl_rb_link_root(n, &k->tree);
            k->first = k->last = n;
        } else {
            sort_in(k, n, size);
        }
        p = next;
    }
}

/* File b, of class c (its header may not say so yet):
 * as its class's tree when that is empty, else onto the class's pending
 * list, to be sorted in when a search first needs the class in order - or
 * never, when the block is coalesced, taken by realloc or trimmed first.
 * The list is LIFO, so blocks freed in address order, either way, come
 * out of it in an order the tree takes beside its first or last node. */
static void file(struct rbtree *t, hl_block *b, unsigned c)
{
    struct rb_class *k = &t->cls[c];
    struct hl_rb_node *n = node_of(b);
    t->count++;
    if (!k->first) {
        hl_rb_link_root(n, &k->tree);
        k->first = k->last = n;
        mark(t, c);
    } else {
        pend_link(k, (struct pend_node *)(void *)n);
    }
}

/* Unfile b, of class c. */
static void unfile(struct rbtree *t, hl_block *b, unsigned c)
{
    struct rb_class *k = &t->cls[c];
    struct hl_rb_node *n = node_of(b);
    t->count--;
    if (is_pending(n)) {
        pend_unlink((struct pend_node *)(void *)n);
        return; /* the tree is not empty: a block is pended only beside one */
    }
    if (k->first == n) {
        if (k->last == n) { /* the only block of its tree */
            k->tree.node = k->first = k->last = NULL;
            struct pend_node *p = k->pending;
            if (p) { /* a pending block becomes the tree: none waits beside an empty one */
                pend_unlink(p);
                n = (struct hl_rb_node *)(void *)p;
                hl_rb_link_root(n, &k->tree);
                k->first = k->last = n;
            } else {
                unmark(t, c);
            }
            return;
        }
        k->first = hl_rb_next(n);
    } else if (k->last == n) {
        k->last = hl_rb_prev(n);
    }
    hl_rb_erase(n, &k->tree);
}

static void rt_insert(void *st, hl_block *b) { file(st, b, class_of(hl_block_size(b))); }

static void rt_remove(void *st, hl_block *b) { unfile(st, b, class_of(hl_block_size(b))); }

/* b (size bytes) takes old's place: in place when it stays in old's class
 * and old is pending (the list has no order) or its key stays between
 * old's neighbours in the tree.  b's node may overlap old's, so nothing is
 * written to b's node before old is out of the index or wholly read. */
static void rt_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    struct rbtree *t = st;
    size_t os = hl_block_size(old);
    unsigned c = class_of(os);
    struct hl_rb_node *o = node_of(old), *n = node_of(b);
    unsigned nc = class_of(size);
    if (nc == c) {
        struct rb_class *k = &t->cls[c];
        if (is_pending(o)) {
            struct pend_node q = *(struct pend_node *)(void *)o, *p = (struct pend_node *)(void *)n;
            *p = q;
            *pend_pprev(&q) = p;
            if (q.next)
                q.next->pprev = (uintptr_t)&p->next | PENDING;
            return;
        }
        int fits = 1;
        if (key_less(size, n, os, o)) { /* smaller: the predecessor must stay below */
            struct hl_rb_node *p = k->first == o ? NULL : hl_rb_prev(o);
            fits = !p || key_less(node_size(p), p, size, n);
        }
        if (fits && key_less(os, o, size, n)) { /* larger: the successor must stay above */
            struct hl_rb_node *s = k->last == o ? NULL : hl_rb_next(o);
            fits = !s || key_less(size, n, node_size(s), s);
        }
        if (fits) {
            hl_rb_replace(o, n, &k->tree);
            if (k->first == o)
                k->first = n;
            if (k->last == o)
                k->last = n;
            return;
        }
    }
    unfile(t, old, c);
    file(t, b, nc);
}

static hl_block *rt_find(void *st, size_t size)
{
    struct rbtree *t = st;
    if (size > HL_MAX_BLOCK)
        return NULL;
    unsigned c = class_of(size), fl = c >> SL_LOG2, sl = c & ((1u << SL_LOG2) - 1);
    if (fl >= FL_COUNT)
        return NULL;
    uint32_t sm = t->sl_map[fl];
    if (sm >> sl & 1) {
        struct rb_class *k = &t->cls[c];
        if (k->pending)
            sort_pending(k);
        if (node_size(k->first) >= size)
            return block_of(k->first);
        struct hl_rb_node *n = k->tree.node, *best = NULL;
        while (n) {
            if (node_size(n) >= size) {
                best = n;
                n = n->left;
            } else {
                n = n->right;
            }
        }
        if (best)
            return block_of(best);
    }
    sm &= (~0u << sl) << 1; /* the classes above c in this level */
    int first = tlsf_first_class(t->fl_map, t->sl_map, fl, sm, SL_LOG2);
    if (first < 0)
        return NULL;
    struct rb_class *k = &t->cls[first];
    if (k->pending)
        sort_pending(k);
    return block_of(k->first);
}

/* ---- check ------------------------------------------------------------------ */

/* Deeper than any red-black tree in memory can be (2 log2(n + 1) < 128). */
#define MAX_DEPTH 128

/*
 * First pass, before anything walks a tree in order: every node is in a
 * free core block (valid tag, USED clear) of its tree's class.  `sound`
 * stays 1 while the trees can be walked in order by their parent links
 * and compared by key (as hl_rb_check does); it turns 0 on a wrong parent
 * link (hl_rb_check reports it, its in-order walk could loop) or a node
 * that is not in a free block, and -1 on a cycle: more nodes reachable
 * than filed, or too deep.
 */
struct pass {
    hl_heap *h;
    struct hl_check *c;
    unsigned cls;
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
    if (!hl_heap_holds(ps->h, block_of(n), HL_HDR_BYTES + sizeof *n)) {
        hl_check_fail(ps->c, "rbtree: link %p leads out of the heap", (const void *)n);
        ps->sound = -1; /* nothing may walk the tree now */
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
        HL_CHECK(ps->c, class_of(hl_block_size(b)) == ps->cls,
                 "rbtree: block %p of %zu bytes is in the tree of class %u (from %zu bytes), its class is %u",
                 (const void *)b, hl_block_size(b), ps->cls, tlsf_class_min(ps->cls, SL_LOG2),
                 class_of(hl_block_size(b)));
    }
    visit(ps, n->left, n, depth + 1);
    visit(ps, n->right, n, depth + 1);
}

struct census {
    const struct rbtree *t;
    struct hl_check *c;
    size_t free_blocks, pending;
};

/* Each free block the heap walk finds must be reached by a search for its
 * key - its node is in its class's tree, where its header size says - or
 * say that it is pending (the lists were walked before: as many blocks
 * say so as the lists hold). */
static int find_walked(const struct hl_block_info *bi, void *arg)
{
    struct census *cs = arg;
    if (bi->state != HL_BLOCK_FREE)
        return 0;
    cs->free_blocks++;
    const hl_block *b = bi->addr;
    if (is_pending(hl_block_node(b))) {
        cs->pending++;
        return 0;
    }
    unsigned c = class_of(bi->size);
    const struct hl_rb_node *n = c < CLASSES ? cs->t->cls[c].tree.node : NULL;
    for (int depth = 0; n && block_of(n) != b && depth < MAX_DEPTH; depth++)
        n = key_less(bi->size, b, node_size(n), block_of(n)) ? n->left : n->right;
    HL_CHECK(cs->c, n && block_of(n) == b, "rbtree: free block %p (%zu bytes) is not in the tree under its key",
             bi->addr, bi->size);
    return 0;
}

/* Walk class k's pending list: each node a free block of the class,
 * marked pending, its back link right.  Stops at a node it cannot trust,
 * and once more nodes are reachable than filed (a cycle): -1 then. */
static int check_pending(struct pass *ps, const struct rb_class *rc, unsigned k, size_t *listed)
{
    uintptr_t expect = (uintptr_t)&rc->pending;
    HL_CHECK(ps->c, !rc->pending || rc->tree.node, "rbtree: class %u has pending blocks but an empty tree", k);
    for (const struct pend_node *p = rc->pending; p; p = p->next) {
        const hl_block *b = block_of(p);
        if (++ps->nodes > ps->filed) {
            hl_check_fail(ps->c, "rbtree: more nodes reachable than the %zu filed (a cycle?)", ps->filed);
            return -1;
        }
        if (!hl_heap_holds(ps->h, b, HL_HDR_BYTES + sizeof *p)) {
            hl_check_fail(ps->c, "rbtree: pending list %u: link %p leads out of the heap", k, (const void *)p);
            return -1;
        }
        if (!hl_hdr_tag_ok(b, hl_hdr(b), hl_heap_cookie(ps->h))) {
            hl_check_fail(ps->c, "rbtree: pending list %u holds %p, not a block", k, (const void *)b);
            return 0;
        }
        HL_CHECK(ps->c, !hl_block_used(b), "rbtree: block %p is in use", (const void *)b);
        HL_CHECK(ps->c, hl_block_kind(b) == HL_KIND_CORE, "rbtree: block %p has kind %u", (const void *)b,
                 hl_block_kind(b));
        HL_CHECK(ps->c, class_of(hl_block_size(b)) == k,
                 "rbtree: block %p of %zu bytes is pending in class %u (from %zu bytes), its class is %u",
                 (const void *)b, hl_block_size(b), k, tlsf_class_min(k, SL_LOG2), class_of(hl_block_size(b)));
        if (p->pprev != (expect | PENDING)) {
            hl_check_fail(ps->c, "rbtree: block %p pending in class %u has a wrong back link", (const void *)b, k);
            return 0;
        }
        expect = (uintptr_t)&p->next;
        (*listed)++;
    }
    return 0;
}

/* The bitmaps say which classes are not empty; each first is its tree's least node. */
static void check_maps(const struct rbtree *t, struct hl_check *c)
{
    HL_CHECK(c, (t->fl_map >> FL_COUNT) == 0, "rbtree: first-level bits beyond level %u: %#llx", FL_COUNT - 1,
             (unsigned long long)t->fl_map);
    for (unsigned fl = 0; fl < FL_COUNT; fl++) {
        uint32_t sm = t->sl_map[fl];
        HL_CHECK(c, !!(t->fl_map >> fl & 1) == (sm != 0), "rbtree: first-level bit %u is %d, second-level word %#x",
                 fl, (int)(t->fl_map >> fl & 1), sm);
        for (unsigned sl = 0; sl < 1u << SL_LOG2; sl++) {
            unsigned k = (fl << SL_LOG2) | sl;
            const struct rb_class *rc = &t->cls[k];
            HL_CHECK(c, !!(sm >> sl & 1) == (rc->tree.node != NULL),
                     "rbtree: bit of class %u (from %zu bytes) is %d, its tree is %s", k,
                     tlsf_class_min(k, SL_LOG2), (int)(sm >> sl & 1), rc->tree.node ? "not empty" : "empty");
        }
    }
}

static int rt_check(hl_heap *h, void *st, struct hl_check *c)
{
    struct rbtree *t = st;
    check_maps(t, c);
    struct pass ps = {h, c, 0, 0, t->count, 1};
    size_t pending = 0;
    for (ps.cls = 0; ps.cls < CLASSES && ps.sound >= 0; ps.cls++) {
        visit(&ps, t->cls[ps.cls].tree.node, NULL, 0);
        if (ps.sound >= 0 && check_pending(&ps, &t->cls[ps.cls], ps.cls, &pending) < 0)
            ps.sound = -1;
    }
    if (ps.sound < 0)
        return c->violations;
    /* properties 2, 4, 5 and the parent links; the (size, address) order
     * and each class's first too when the links and headers can be trusted */
    size_t linked = 0;
    for (unsigned k = 0; k < CLASSES; k++) {
        const struct rb_class *rc = &t->cls[k];
        size_t n = 0;
        hl_rb_check(&rc->tree, ps.sound ? key_cmp : NULL, c, &n);
        linked += n;
        if (ps.sound) {
            HL_CHECK(c, rc->first == hl_rb_first(&rc->tree), "rbtree: class %u: first is %p, its least node %p", k,
                     (const void *)rc->first, (const void *)hl_rb_first(&rc->tree));
            HL_CHECK(c, rc->last == hl_rb_last(&rc->tree), "rbtree: class %u: last is %p, its greatest node %p", k,
                     (const void *)rc->last, (const void *)hl_rb_last(&rc->tree));
        }
    }
    HL_CHECK(c, linked + pending == t->count, "rbtree: %zu nodes linked and %zu pending, count says %zu", linked,
             pending, t->count);
    if (!ps.sound)
        return c->violations;
    /* the index holds exactly the heap's free blocks: as many nodes as free
     * blocks, each free block found under its key or pending */
    struct census cs = {t, c, 0, 0};
    hl_walk_held(h, find_walked, &cs);
    HL_CHECK(c, cs.free_blocks == linked + pending, "rbtree: %zu nodes and %zu pending, heap has %zu free blocks",
             linked, pending, cs.free_blocks);
    HL_CHECK(c, cs.pending == pending, "rbtree: %zu free blocks say they are pending, the lists hold %zu",
             cs.pending, pending);
    return c->violations;
}

static const struct hl_policy rbtree = {
    .abi = HL_POLICY_ABI,
    .name = "rbtree",
    .summary = "best fit in O(log n): red-black trees of free blocks keyed by (size, address), one per size class",
    .state_size = sizeof(struct rbtree),
    .insert = rt_insert,
    .remove = rt_remove,
    .replace = rt_replace,
    .find = rt_find,
    .check = rt_check,
};

const struct hl_policy *hl_policy_rbtree(void) { return &rbtree; }

/* The index for other policies (rbtree.h). */
void hl_rbtree_insert(void *st, hl_block *b) { rt_insert(st, b); }
void hl_rbtree_remove(void *st, hl_block *b) { rt_remove(st, b); }
void hl_rbtree_replace(void *st, hl_block *old, hl_block *b, size_t size) { rt_replace(st, old, b, size); }
hl_block *hl_rbtree_find(void *st, size_t size) { return rt_find(st, size); }
int hl_rbtree_check(hl_heap *h, void *st, struct hl_check *c) { return rt_check(h, st, c); }
