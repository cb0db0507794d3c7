/*
 * policy-template.c - a placement policy to copy and make your own.
 *
 * This is an *explicit free list* (CS:APP, 3rd ed., 9.9.13): the free
 * blocks are linked through their own payloads, newest first (LIFO), and a
 * request takes the first block on the list that is big enough - or, with
 * `fit=best`, the smallest one.  It is short and correct, not fast: find is
 * O(free blocks).
 *
 * heaplab's core does the mechanism - headers, splitting a block that is
 * too big, coalescing a freed block with its free neighbours, growing and
 * trimming the heap.  A policy only keeps an *index* of the free blocks and
 * answers "which free block should serve this request?".  Core tells it
 * when a block becomes free (insert), stops being free (remove), and asks
 * for a block (find).  include/heaplab/policy.h has the whole contract.
 *
 * Build, test, measure (from heaplab's top directory):
 *
 *   cp examples/policy-template.c my_policy.c      # and edit it
 *   cc -std=c11 -O2 -Wall -shared -fPIC -I include my_policy.c -o my_policy.so
 *   build/heaplab selftest -p ./my_policy.so
 *   build/heaplab replay -p ./my_policy.so -p first-fit traces/handmade-basic.rep
 *   build/heaplab replay -p ./my_policy.so:fit=best traces/handmade-basic.rep
 *
 * Rules of the game:
 *   - no global variables: everything lives in `struct tpl`, which core
 *     allocates (zeroed) for each heap and passes back as `st`;
 *   - a free block's node space is HL_NODE_BYTES (24) bytes at
 *     hl_block_node(b): room for three pointers, no more;
 *   - everything is static except hl_policy_entry.
 */
#include "heaplab/policy.h"

/* The links, stored in a free block's node space (the payload of a block
 * nobody uses). */
struct node {
    struct node *next, *prev;
};

/* The policy's whole state, one per heap. */
struct tpl {
    struct node *head; /* most recently freed block */
    size_t count;      /* blocks on the list (check uses it) */
    int best;          /* parameter fit: 0 first fit, 1 best fit */
};

static struct node *node_of(hl_block *b) { return hl_block_node(b); }
static hl_block *block_of(struct node *n) { return hl_node_block(n); }

/* Called once per heap, after core zeroed the state; params[] holds the
 * values of the parameters declared in `params` below, in order. */
static int tpl_init(hl_heap *h, void *st, const long *params)
{
    (void)h;
    struct tpl *t = st;
    t->best = params[0] == 1;
    return 0; /* or -1 with errno set: the heap is not created */
}

/* Block b has just become free (freed, split off, or the result of
 * coalescing); its header is written.  File it: push it on the list. */
static void tpl_insert(void *st, hl_block *b)
{
    struct tpl *t = st;
    struct node *n = node_of(b);
    n->prev = NULL;
    n->next = t->head;
    if (t->head)
        t->head->prev = n;
    t->head = n;
    t->count++;
}

/* Block b stops being free (core is about to use it, or to merge it into
 * a neighbour).  Its links are still as insert left them.  Unlink it. */
static void tpl_remove(void *st, hl_block *b)
{
    struct tpl *t = st;
    struct node *n = node_of(b);
    if (n->prev)
        n->prev->next = n->next;
    else
        t->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    t->count--;
}

/* A filed block of at least `size` bytes (header included: core already
 * added the header and rounded up), or NULL - core then grows the heap.
 * Do not unlink it here: core calls remove next, and splits off what it
 * does not need (which comes back through insert). */
static hl_block *tpl_find(void *st, size_t size)
{
    struct tpl *t = st;
    hl_block *fit = NULL;
    for (struct node *n = t->head; n; n = n->next) {
        hl_block *b = block_of(n);
        size_t bs = hl_block_size(b);
        if (bs < size)
            continue;
        if (!t->best || bs == size)
            return b; /* first fit; or a best fit that cannot be beaten */
        if (!fit || bs < hl_block_size(fit))
            fit = b;
    }
    return fit;
}

/* For check: count the heap's free blocks. */
static int count_free(const struct hl_block_info *bi, void *arg)
{
    if (bi->state == HL_BLOCK_FREE)
        ++*(size_t *)arg;
    return 0; /* keep walking */
}

/* Find what is wrong with the list, count it, keep going where that is
 * safe.  Core checks its own invariants (headers, sizes, coalescing) and
 * then calls this; `heaplab replay --check-every N` and `heaplab selftest`
 * run it.  Return the number of violations. */
static int tpl_check(hl_heap *h, void *st, struct hl_check *c)
{
    struct tpl *t = st;
    hl_word cookie = hl_heap_cookie(h);
    size_t n = 0;
    struct node *prev = NULL;
    for (struct node *x = t->head; x; prev = x, x = x->next) {
        hl_block *b = block_of(x);
        /* a write into a freed block (use after free) may have left any
         * value in its links: read nothing the heap does not hold */
        if (!hl_heap_holds(h, b, HL_HDR_BYTES + sizeof *x)) {
            hl_check_fail(c, "template: link %p leads out of the heap", (void *)x);
            return c->violations;
        }
        if (!hl_hdr_tag_ok(b, hl_hdr(b), cookie)) {
            hl_check_fail(c, "template: %p on the list is not a block", (void *)b);
            return c->violations; /* its links lead nowhere we can trust */
        }
        HL_CHECK(c, !hl_block_used(b), "template: block %p on the list is in use", (void *)b);
        HL_CHECK(c, x->prev == prev, "template: block %p has a wrong prev link", (void *)b);
        if (++n > t->count) {
            hl_check_fail(c, "template: more blocks linked than the count %zu (a cycle?)", t->count);
            return c->violations;
        }
    }
    HL_CHECK(c, n == t->count, "template: %zu blocks linked, count says %zu", n, t->count);
    size_t free_blocks = 0;
    hl_walk_held(h, count_free, &free_blocks);
    HL_CHECK(c, free_blocks == n, "template: %zu blocks linked, the heap has %zu free", n, free_blocks);
    return c->violations;
}

/* Parameters: `-p ./my_policy.so:fit=best`.  Values 0..n-1 of a parameter
 * with choices are named by them. */
static const char *const fit_names[] = {"first", "best", NULL};
static const struct hl_param tpl_params[] = {
    {"fit", 0, 0, 1, fit_names, "which block of the list serves a request"},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct hl_policy template_policy = {
    .abi = HL_POLICY_ABI, /* heaplab refuses a plugin built against another policy.h */
    .name = "template",
    .summary = "explicit LIFO free list, first or best fit (examples/policy-template.c)",
    .params = tpl_params,
    .state_size = sizeof(struct tpl),
    .init = tpl_init,
    .insert = tpl_insert,
    .remove = tpl_remove,
    /* .replace is optional: without it core calls remove(old), then
     * insert(new) - two list operations where one would do */
    .find = tpl_find,
    .check = tpl_check,
};

/* The one symbol heaplab looks for when it loads the plugin. */
const struct hl_policy *hl_policy_entry(void) { return &template_policy; }
