/*
 * rb.c - red-black tree rebalancing (CLRS, 3rd ed., chapter 13; the
 * intrusive shape follows Linux's lib/rbtree.c, no code taken).
 *
 * NULL children are the black leaves, so the erase fix-up carries the
 * parent of the (possibly NULL) node it is repairing.
 */
#include "rb.h"

enum { RED = 0, BLACK = 1 };

static inline int is_red(const struct hl_rb_node *n) { return n && !(n->parent_color & 1); }
static inline int color(const struct hl_rb_node *n) { return n ? (int)(n->parent_color & 1) : BLACK; }
static inline void set_parent(struct hl_rb_node *n, struct hl_rb_node *p)
{
    n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}
static inline void set_color(struct hl_rb_node *n, int c) { n->parent_color = (n->parent_color & ~(uintptr_t)1) | (uintptr_t)c; }

/* Put v where u hangs from u's parent. */
static void change_child(struct hl_rb_root *root, struct hl_rb_node *u, struct hl_rb_node *v)
{
    struct hl_rb_node *p = hl_rb_parent(u);
    if (!p)
        root->node = v;
    else if (p->left == u)
        p->left = v;
    else
        p->right = v;
    if (v)
        set_parent(v, p);
}

static void rotate_left(struct hl_rb_root *root, struct hl_rb_node *x)
{
    struct hl_rb_node *y = x->right;
    x->right = y->left;
    if (y->left)
        set_parent(y->left, x);
    change_child(root, x, y);
    y->left = x;
    set_parent(x, y);
}

static void rotate_right(struct hl_rb_root *root, struct hl_rb_node *x)
{
    struct hl_rb_node *y = x->left;
    x->left = y->right;
    if (y->right)
        set_parent(y->right, x);
    change_child(root, x, y);
    y->right = x;
    set_parent(x, y);
}

void hl_rb_insert_color(struct hl_rb_node *node, struct hl_rb_root *root)
{
    struct hl_rb_node *p;
    /* A new node is red: only property 4 (between node and its parent) or
     * property 2 (node is the root) can be broken. */
    while ((p = hl_rb_parent(node)) && is_red(p)) {
        struct hl_rb_node *g = hl_rb_parent(p); /* p is red, so not the root */
        if (p == g->left) {
            struct hl_rb_node *u = g->right;
            if (is_red(u)) {
                /* case 1: recolour; property 4 may now break at g */
                set_color(p, BLACK);
                set_color(u, BLACK);
                set_color(g, RED);
                node = g;
                continue;
            }
            if (node == p->right) {
                /* case 2: turn into case 3 */
                rotate_left(root, p);
                node = p;
                p = hl_rb_parent(node);
            }
            /* case 3: rotate; restores 4 without changing black heights (5) */
            set_color(p, BLACK);
            set_color(g, RED);
            rotate_right(root, g);
        } else {
            struct hl_rb_node *u = g->left;
            if (is_red(u)) {
                set_color(p, BLACK);
                set_color(u, BLACK);
                set_color(g, RED);
                node = g;
                continue;
            }
            if (node == p->left) {
                rotate_right(root, p);
                node = p;
                p = hl_rb_parent(node);
            }
            set_color(p, BLACK);
            set_color(g, RED);
            rotate_left(root, g);
        }
    }
    set_color(root->node, BLACK); /* property 2 */
}

/* x (maybe NULL) under parent xp carries an extra black: push it up or
 * absorb it by rotation (restores property 5). */
static void erase_fixup(struct hl_rb_node *x, struct hl_rb_node *xp, struct hl_rb_root *root)
{
    while (x != root->node && !is_red(x)) {
        if (x == xp->left) {
            struct hl_rb_node *w = xp->right; /* non-NULL by property 5 */
            if (is_red(w)) {
                /* case 1: make the sibling black */
                set_color(w, BLACK);
                set_color(xp, RED);
                rotate_left(root, xp);
                w = xp->right;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                /* case 2: move the extra black up */
                set_color(w, RED);
                x = xp;
                xp = hl_rb_parent(x);
            } else {
                if (!is_red(w->right)) {
                    /* case 3: make the far nephew red */
                    set_color(w->left, BLACK);
                    set_color(w, RED);
                    rotate_right(root, w);
                    w = xp->right;
                }
                /* case 4: rotate the extra black away */
                set_color(w, color(xp));
                set_color(xp, BLACK);
                set_color(w->right, BLACK);
                rotate_left(root, xp);
                x = root->node;
                break;
            }
        } else {
            struct hl_rb_node *w = xp->left;
            if (is_red(w)) {
                set_color(w, BLACK);
                set_color(xp, RED);
                rotate_right(root, xp);
                w = xp->left;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                set_color(w, RED);
                x = xp;
                xp = hl_rb_parent(x);
            } else {
                if (!is_red(w->left)) {
                    set_color(w->right, BLACK);
                    set_color(w, RED);
                    rotate_left(root, w);
                    w = xp->left;
                }
                set_color(w, color(xp));
                set_color(xp, BLACK);
                set_color(w->left, BLACK);
                rotate_right(root, xp);
                x = root->node;
                break;
            }
        }
    }
    if (x)
        set_color(x, BLACK);
}

void hl_rb_erase(struct hl_rb_node *z, struct hl_rb_root *root)
{
    struct hl_rb_node *x, *xp;
    int removed_color = color(z);
    if (!z->left) {
        x = z->right;
        xp = hl_rb_parent(z);
        change_child(root, z, x);
    } else if (!z->right) {
        x = z->left;
        xp = hl_rb_parent(z);
        change_child(root, z, x);
    } else {
        /* y, z's successor, leaves its place and takes z's */
        struct hl_rb_node *y = z->right;
        while (y->left)
            y = y->left;
        removed_color = color(y);
        x = y->right;
        if (hl_rb_parent(y) == z) {
            xp = y;
        } else {
            xp = hl_rb_parent(y);
            change_child(root, y, x);
            y->right = z->right;
            set_parent(y->right, y);
        }
        change_child(root, z, y);
        y->left = z->left;
        set_parent(y->left, y);
        set_color(y, color(z));
    }
    if (removed_color == BLACK)
        erase_fixup(x, xp, root);
}

void hl_rb_replace(struct hl_rb_node *old, struct hl_rb_node *repl, struct hl_rb_root *root)
{
    /* repl may overlap old (a node in a block that starts inside old's
     * block): read old whole before writing anything */
    struct hl_rb_node o = *old;
    *repl = o;
    if (o.left)
        set_parent(o.left, repl);
    if (o.right)
        set_parent(o.right, repl);
    struct hl_rb_node *p = hl_rb_parent(&o);
    if (!p)
        root->node = repl;
    else if (p->left == old)
        p->left = repl;
    else
        p->right = repl;
}

struct hl_rb_node *hl_rb_first(const struct hl_rb_root *root)
{
    struct hl_rb_node *n = root->node;
    while (n && n->left)
        n = n->left;
    return n;
}

struct hl_rb_node *hl_rb_last(const struct hl_rb_root *root)
{
    struct hl_rb_node *n = root->node;
    while (n && n->right)
        n = n->right;
    return n;
}

struct hl_rb_node *hl_rb_next(const struct hl_rb_node *n)
{
    if (n->right) {
        n = n->right;
        while (n->left)
            n = n->left;
        return (struct hl_rb_node *)n;
    }
    struct hl_rb_node *p;
    while ((p = hl_rb_parent(n)) && n == p->right)
        n = p;
    return p;
}

struct hl_rb_node *hl_rb_prev(const struct hl_rb_node *n)
{
    if (n->left) {
        n = n->left;
        while (n->right)
            n = n->right;
        return (struct hl_rb_node *)n;
    }
    struct hl_rb_node *p;
    while ((p = hl_rb_parent(n)) && n == p->left)
        n = p;
    return p;
}

/* Black height of the subtree at n, checking properties 4 and 5 and the
 * parent links on the way; -1 after a violation that makes heights moot. */
static int black_height(const struct hl_rb_node *n, const struct hl_rb_node *parent, struct hl_check *c,
                        size_t *count, size_t depth)
{
    if (!n)
        return 1;
    if (depth > 200) {
        hl_check_fail(c, "rb: deeper than any balanced tree (a cycle?)");
        return -1;
    }
    (*count)++;
    HL_CHECK(c, hl_rb_parent(n) == parent, "rb: node %p has a wrong parent link", (const void *)n);
    if (is_red(n))
        HL_CHECK(c, !is_red(n->left) && !is_red(n->right), "rb: red node %p has a red child", (const void *)n);
    int l = black_height(n->left, n, c, count, depth + 1);
    int r = black_height(n->right, n, c, count, depth + 1);
    if (l < 0 || r < 0)
        return -1;
    HL_CHECK(c, l == r, "rb: node %p: black heights %d and %d differ", (const void *)n, l, r);
    return l + (is_red(n) ? 0 : 1);
}

void hl_rb_check(const struct hl_rb_root *root,
                 int (*cmp)(const struct hl_rb_node *a, const struct hl_rb_node *b), struct hl_check *c,
                 size_t *count)
{
    size_t n = 0;
    HL_CHECK(c, !is_red(root->node), "rb: the root is red");
    if (black_height(root->node, NULL, c, &n, 0) >= 0 && cmp) {
        const struct hl_rb_node *prev = NULL;
        for (const struct hl_rb_node *x = hl_rb_first(root); x; x = hl_rb_next(x)) {
            if (prev && cmp(prev, x) >= 0) {
                hl_check_fail(c, "rb: %p and %p out of order", (const void *)prev, (const void *)x);
                break;
            }
            prev = x;
        }
    }
    if (count)
        *count = n;
}
