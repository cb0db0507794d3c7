/*
 * freelist.c - the address-ordered free list (see freelist.h).
 */
#include "freelist.h"

void hl_fl_insert(struct hl_freelist *fl, hl_block *b)
{
    struct hl_fl_node *n = hl_fl_node_of(b), *prev = NULL, *cur = fl->head;
    while (cur && cur < n) {
        prev = cur;
        cur = cur->next;
    }
    n->prev = prev;
    n->next = cur;
    if (cur)
        cur->prev = n;
    if (prev)
        prev->next = n;
    else
        fl->head = n;
    fl->count++;
}

void hl_fl_remove(struct hl_freelist *fl, hl_block *b)
{
    struct hl_fl_node *n = hl_fl_node_of(b);
    if (n->prev)
        n->prev->next = n->next;
    else
        fl->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    fl->count--;
}

void hl_fl_replace(struct hl_freelist *fl, hl_block *old, hl_block *b)
{
    struct hl_fl_node *o = hl_fl_node_of(old), *n = hl_fl_node_of(b);
    if (o == n)
        return;
    /* b may start one word into old (realloc taking 8 bytes of a free
     * neighbour on an 8-aligned heap): then n->next is o->prev */
    struct hl_fl_node *next = o->next, *prev = o->prev;
    n->next = next;
    n->prev = prev;
    if (n->prev)
        n->prev->next = n;
    else
        fl->head = n;
    if (n->next)
        n->next->prev = n;
}

hl_block *hl_fl_first_fit(const struct hl_freelist *fl, size_t size)
{
    for (const struct hl_fl_node *n = fl->head; n; n = n->next)
        if (hl_block_size(hl_fl_block(n)) >= size)
            return hl_fl_block(n);
    return NULL;
}

struct free_census {
    size_t count;
};

/* Core's free blocks only: a hook policy's own free blocks (pool slots, kind
 * >= 2) are walked as FREE too, but they are never on this list. */
static int count_free(const struct hl_block_info *bi, void *arg)
{
    struct free_census *fc = arg;
    if (bi->state == HL_BLOCK_FREE && hl_block_kind(bi->addr) == HL_KIND_CORE)
        fc->count++;
    return 0;
}

void hl_fl_check(hl_heap *h, const struct hl_freelist *fl, struct hl_check *c)
{
    hl_word cookie = hl_heap_cookie(h);
    size_t n = 0;
    const struct hl_fl_node *prev = NULL;
    for (const struct hl_fl_node *x = fl->head; x; x = x->next) {
        hl_block *b = hl_fl_block(x);
        if (!hl_heap_holds(h, b, HL_HDR_BYTES + sizeof *x)) {
            hl_check_fail(c, "free list: link %p leads out of the heap", (void *)x);
            return;
        }
        if (!hl_hdr_tag_ok(b, hl_hdr(b), cookie)) {
            hl_check_fail(c, "free list: %p is not a block", (void *)b);
            return;
        }
        HL_CHECK(c, !hl_block_used(b), "free list: block %p is in use", (void *)b);
        HL_CHECK(c, x->prev == prev, "free list: %p has a wrong prev link", (void *)b);
        if (prev && prev >= x) {
            hl_check_fail(c, "free list: %p out of address order", (void *)b);
            return;
        }
        prev = x;
        if (++n > fl->count + 1) {
            hl_check_fail(c, "free list: longer than its count %zu (a cycle?)", fl->count);
            return;
        }
    }
    HL_CHECK(c, n == fl->count, "free list: %zu blocks linked, count says %zu", n, fl->count);
    struct free_census fc = {0};
    hl_walk_held(h, count_free, &fc);
    HL_CHECK(c, fc.count == n, "free list: %zu blocks linked, heap has %zu free blocks", n, fc.count);
}
