/*
 * heap.c - heap instances and the boundary-tag block mechanism.
 *
 * Blocks carry the one-word header documented in heaplab/policy.h.  Free
 * blocks end in a footer (their size) unless they are of the minimum size,
 * which the next block's PREV_MIN bit says instead; blocks in use have no
 * footer (Knuth's boundary tags with the optimisation described by Wilson et
 * al., "Dynamic Storage Allocation: A Survey and Critical Review", 1995,
 * section 3.2).  Coalescing is immediate, so two free blocks are never
 * adjacent and the block before a free block is always in use.
 *
 * Which free block serves a request is the policy's business (find); this
 * file splits it (remainder after the allocated part, if at least the
 * minimum block), coalesces on free, grows the heap at the top (exactly what
 * is missing on the region source, at least 64 KiB a call on sbrk), trims
 * the top past the trim threshold, and reallocs in place when the block can
 * shrink, or grow into a free next block or the top of the heap.
 *
 * Every free/realloc/usable_size validates the header's tag first (see
 * policy.h): these checks are the release-build misuse detection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

/* Largest request served: leaves room for header, alignment and memalign
 * slack inside the 48-bit size field, and is far below PTRDIFF_MAX. */
#define MAX_REQUEST ((size_t)1 << 46)

/* The hot path (malloc, free and what they call) is flattened into the
 * entry points: without it each step pays a call and its register saves,
 * a fifth of a free's instructions (callgrind, tlsf on cp-decl-bal). */
#define HOT static inline __attribute__((always_inline))

static inline hl_block *at(const void *p, ptrdiff_t off)
{
    return (hl_block *)(void *)((char *)(uintptr_t)p + off);
}
static inline hl_word *wp(hl_block *b) { return (hl_word *)(void *)b; }
/* The footer of the free block that ends where b starts: its size. */
static inline size_t footer_before(const hl_block *b)
{
    return *(const size_t *)(const void *)((const char *)b - HL_FOOTER_BYTES);
}

static inline hl_word dead_word(const hl_heap *h, const void *where) { return hl_hdr_dead(where, h->cookie); }

static inline hl_word epilogue_word(const hl_heap *h, const void *where)
{
    return hl_hdr_make(where, 0, HL_F_USED, HL_KIND_CORE, h->cookie);
}

/* ---- write helpers --------------------------------------------------------- */

/* Make [b, b+size) a free block (header, footer or the next block's PREV_MIN).
 * The block before a free block is in use, so its prev bits are clear. */
static inline void put_free(hl_heap *h, hl_block *b, size_t size)
{
    hl_block *n = at(b, (ptrdiff_t)size);
    *wp(b) = hl_hdr_make(b, size, 0, HL_KIND_CORE, h->cookie);
    if (size == HL_MIN_BLOCK) {
        *wp(n) |= HL_F_PREV_FREE | HL_F_PREV_MIN;
    } else {
        *hl_footer_of(b, size) = size;
        *wp(n) = (*wp(n) & ~HL_F_PREV_MIN) | HL_F_PREV_FREE;
    }
}

static inline void put_used(hl_heap *h, hl_block *b, size_t size)
{
    hl_block_set(b, size, HL_F_USED, HL_KIND_CORE, h->cookie);
}

static inline void next_now_used(hl_block *n) { *wp(n) &= ~(HL_F_PREV_FREE | HL_F_PREV_MIN); }

/* ---- coalesce and file ----------------------------------------------------- */

/*
 * Refiling a block follows the index protocol (policy.h) in two halves
 * around the header writes.  old is the filed block that b, of `size`
 * bytes, takes the place of, or NULL when b takes no filed block's place.
 */

/* Before b's header is written: unfile old, or let replace put b in its
 * place while old's header and node are still intact. */
static inline void unfile_for(hl_heap *h, hl_block *old, hl_block *b, size_t size)
{
    if (!old)
        return;
    if (h->replace)
        h->replace(h->st, old, b, size);
    else
        h->remove(h->st, old);
}

/* After b's header (and footer) are written: file b, unless replace
 * already did. */
static inline void file_after(hl_heap *h, const hl_block *old, hl_block *b)
{
    if (!old || !h->replace)
        h->insert(h->st, b);
}

/*
 * [b, b+size) has just stopped being in use (its header has the right prev
 * bits).  Merge it with a free neighbour on either side, file the result
 * with the policy and return it.  Neighbour headers are verified on the way:
 * an overrun into the next header, or a footer that lies, aborts here.
 */
HOT hl_block *coalesce_file(hl_heap *h, hl_block *b, size_t size)
{
    hl_word w = *wp(b);
    hl_block *n = at(b, (ptrdiff_t)size);
    hl_word nw = *wp(n);
    if (!hl_hdr_tag_ok(n, nw, h->cookie) || (nw & HL_F_PREV_FREE))
        hl_corrupt("heap corruption: bad header after the block", hl_block_payload(b));

    hl_block *start = b, *old = NULL;
    size_t total = size;
    int merge_next = !(nw & HL_F_USED);
    if (w & HL_F_PREV_FREE) {
        size_t ps = (w & HL_F_PREV_MIN) ? HL_MIN_BLOCK : footer_before(b);
        hl_block *p = at(b, -(ptrdiff_t)ps);
        /* the footer is not tagged: where it leads is checked before it is read */
        if (ps < HL_MIN_BLOCK || !hl_source_holds(&h->src, p))
            hl_corrupt("heap corruption: bad free block before the block", hl_block_payload(b));
        hl_word pw = *wp(p);
        if (!hl_hdr_tag_ok(p, pw, h->cookie) || (pw & HL_F_USED) || (pw & HL_SIZE_MASK) != ps)
            hl_corrupt("heap corruption: bad free block before the block", hl_block_payload(b));
        start = p;
        total += ps;
        old = p;
    }
    if (merge_next) {
        total += (size_t)(nw & HL_SIZE_MASK);
        if (old)
            h->remove(h->st, n);
        else
            old = n;
    }
    unfile_for(h, old, start, total);
    if (start != b)
        *wp(b) = dead_word(h, b);
    if (merge_next)
        *wp(n) = dead_word(h, n);
    put_free(h, start, total);
    file_after(h, old, start);
    return start;
}

/* ---- segments and growth ------------------------------------------------------ */

static void note_extent(hl_heap *h, size_t grown)
{
    h->extent_bytes += grown;
    h->grow_calls++;
    hl_note_heap_peak(h);
}

static size_t growth_amount(hl_heap *h, size_t need)
{
    if (need < h->grow_min)
        need = h->grow_min;
    if (h->src.kind == HL_SOURCE_SBRK)
        need = align_up(need, h->src.pagesize);
    return need;
}

/*
 * Take a new segment from the source with at least `bytes` bytes for blocks
 * after its header (plus the epilogue unless raw).  The segment header is
 * aligned so that payloads are: a raw segment's first byte is 8 mod 16, a
 * tagged segment's first header is 8 below the heap's alignment.  Bytes
 * lost to alignment count as overhead.  NULL with errno = ENOMEM.
 */
static struct hl_seg *add_segment(hl_heap *h, size_t bytes, int raw)
{
    size_t a = raw ? 16 : h->align;
    /* the region's break is known exactly; sbrk's may move under us */
    size_t slack = h->src.kind == HL_SOURCE_SBRK
                       ? 16
                       : align_up((uintptr_t)h->src.brk, a) - (uintptr_t)h->src.brk;
    if (bytes > MAX_REQUEST * 2) {
        errno = ENOMEM;
        return NULL;
    }
    size_t amount = slack + HL_SEG_HDR + bytes + (raw ? 0 : HL_EPILOGUE);
    if (!raw)
        amount = growth_amount(h, amount);
    /* sbrk: someone else may have left the break anywhere: end on a page so
     * the epilogue ends exactly at the break and the segment can grow in
     * place and be trimmed later */
    size_t end_align = !raw && h->src.kind == HL_SOURCE_SBRK ? h->src.pagesize : 1;
    char *p = hl_source_grow(&h->src, &amount, end_align);
    if (!p)
        return NULL;
    char *s = (char *)(uintptr_t)align_up((uintptr_t)p, a);
    if (raw && s + HL_SEG_HDR + bytes < p + amount) {
        /* give back the slack alignment did not use, so that the segment
         * ends at the break and the next hl_morecore can extend it */
        size_t tail = (size_t)(p + amount - (s + HL_SEG_HDR + bytes));
        if (hl_source_shrink(&h->src, p + amount, tail) == 0)
            amount -= tail;
    }
    note_extent(h, amount);
    struct hl_seg *seg = (struct hl_seg *)(void *)s;
    char *first = s + HL_SEG_HDR;
    size_t room = (size_t)(p + amount - first) - (raw ? 0 : HL_EPILOGUE);
    room = raw ? bytes : room & ~(h->align - 1);
    seg->next = NULL;
    seg->end = first + room + (raw ? 0 : HL_EPILOGUE);
    seg->raw = (size_t)raw;
    if (h->last_seg)
        h->last_seg->next = seg;
    else
        h->segs = seg;
    h->last_seg = seg;
    h->nsegs++;
    h->overhead_bytes += amount - room;
    if (!raw) {
        /* one used block over the whole room, about to be freed into the index */
        hl_block *b = hl_seg_first(seg), *e = at(b, (ptrdiff_t)room);
        *wp(e) = epilogue_word(h, e);
        *wp(b) = hl_hdr_make(b, room, HL_F_USED, HL_KIND_CORE, h->cookie);
    }
    return seg;
}

/* The top block of a tagged segment that can grow in place: the epilogue's
 * address, or NULL when the source's break is not at the segment's end.
 * On the sbrk source a look: the growth or trim that follows checks again
 * as it moves the break (hl_source_extend, hl_source_shrink). */
HOT hl_block *extensible_epilogue(hl_heap *h)
{
    struct hl_seg *s = h->last_seg;
    if (!s || s->raw || hl_source_end(&h->src) != s->end)
        return NULL;
    return at(s->end, -(ptrdiff_t)HL_EPILOGUE);
}

/* Grow the top segment in place by exactly `amount` bytes from the source.
 * The new space merges with a free top block; the resulting free block is
 * filed and returned.  NULL on ENOMEM, or when someone moved the break
 * since the caller looked (nothing moved: the caller moves the block). */
static hl_block *extend_top(hl_heap *h, hl_block *epi, size_t amount)
{
    struct hl_seg *s = h->last_seg;
    if (hl_source_extend(&h->src, s->end, amount) != 0)
        return NULL;
    s->end += amount;
    note_extent(h, amount);
    hl_block *ne = at(s->end, -(ptrdiff_t)HL_EPILOGUE);
    *wp(ne) = epilogue_word(h, ne);
    put_used(h, epi, amount); /* the old epilogue is the new block's header */
    return coalesce_file(h, epi, amount);
}

HOT hl_block *take(hl_heap *h, hl_block *b, size_t size);

/*
 * No filed block fits: grow the heap and allocate `size` bytes at its top.
 * The block starts where the free top block starts (or at the epilogue);
 * what the growth leaves beyond it is filed.  This places the block where
 * extending the top, coalescing, filing and then taking it would, and
 * calls the policy once (a replace, or a remove and an insert) instead of
 * three times: exact growth on the region source grows on every request
 * that does not fit, half of binary2's operations.
 */
static hl_block *grow_and_take(hl_heap *h, size_t size)
{
    hl_block *epi = extensible_epilogue(h);
    if (epi) {
        hl_word ew = *wp(epi);
        size_t topfree = 0;
        if (ew & HL_F_PREV_FREE)
            topfree = (ew & HL_F_PREV_MIN) ? HL_MIN_BLOCK : footer_before(epi);
        hl_block *top = at(epi, -(ptrdiff_t)topfree);
        if (topfree >= size) /* the policy passed over the top block (good fit) */
            return take(h, top, size);
        size_t amount = growth_amount(h, size - topfree);
        int high = size < h->high_below;
        /* a quarter of the heap at most: a small heap does not pay a whole
         * chunk, and a block that realloc grows above a small one meets
         * it early, while moving it is cheap (realloc2) */
        size_t chunk = h->place.grow_chunk;
        if (chunk > h->extent_bytes / 4)
            chunk = align_up(h->extent_bytes / 4, h->align);
        if (high && topfree + amount < chunk)
            amount = growth_amount(h, chunk - topfree); /* an area for the requests to come */
        struct hl_seg *s = h->last_seg;
        int moved = hl_source_extend(&h->src, s->end, amount);
        if (moved < 0)
            return NULL;
        if (moved == 0) {
            note_extent(h, amount);
            s->end += amount;
            hl_block *ne = at(s->end, -(ptrdiff_t)HL_EPILOGUE);
            *wp(ne) = epilogue_word(h, ne);
            size_t total = topfree + amount, rest = total - size;
            if (high && rest >= HL_MIN_BLOCK) {
                /* the block at the top end, the rest free below it */
                hl_block *u = at(top, (ptrdiff_t)rest), *old = topfree ? top : NULL;
                unfile_for(h, old, top, rest);
                *wp(u) = hl_hdr_make(u, size, HL_F_USED, HL_KIND_CORE, h->cookie);
                put_free(h, top, rest);
                file_after(h, old, top);
                return u;
            }
            if (rest >= HL_MIN_BLOCK) {
                hl_block *r = at(top, (ptrdiff_t)size), *old = topfree ? top : NULL;
                unfile_for(h, old, r, rest);
                put_used(h, top, size);
                put_free(h, r, rest);
                file_after(h, old, r);
            } else {
                if (topfree)
                    h->remove(h->st, top);
                put_used(h, top, total);
            }
            return top;
        }
        /* someone moved the break since our look: start a new segment */
    }
    struct hl_seg *seg = add_segment(h, size, 0);
    if (!seg)
        return NULL;
    hl_block *b = hl_seg_first(seg);
    return take(h, coalesce_file(h, b, hl_block_size(b)), size);
}

/* b (free, filed) has just been formed; give the top of the heap back to the
 * source when b is the top block and at least the trim threshold. */
static void maybe_trim(hl_heap *h, hl_block *b)
{
    size_t bs = hl_block_size(b);
    if (bs < h->trim_threshold)
        return;
    hl_block *epi = extensible_epilogue(h);
    if (!epi || at(b, (ptrdiff_t)bs) != epi)
        return;
    if (bs <= h->top_pad)
        return;
    size_t rel = bs - h->top_pad;
    if (rel < bs && bs - rel < HL_MIN_BLOCK)
        rel = bs - HL_MIN_BLOCK; /* what stays must be a block */
    if (h->src.kind == HL_SOURCE_SBRK) {
        size_t page = h->src.pagesize;
        rel &= ~(page - 1);
        if (bs - rel != 0 && bs - rel < HL_MIN_BLOCK)
            rel = rel >= page ? rel - page : 0;
    }
    struct hl_seg *s = h->last_seg;
    size_t keep = bs - rel;
    if (rel == 0)
        return;
    /* unfile a block that goes entirely while its node space is still
     * there: giving it back may unmap the page the node starts on */
    if (keep == 0)
        h->remove(h->st, b);
    if (hl_source_shrink(&h->src, s->end, rel) != 0) {
        if (keep == 0)
            h->insert(h->st, b);
        return;
    }
    s->end -= rel;
    h->extent_bytes -= rel;
    h->shrink_calls++;
    hl_block *ne = at(b, (ptrdiff_t)keep);
    if (keep == 0) {
        *wp(ne) = epilogue_word(h, ne) | (*wp(b) & (HL_F_PREV_FREE | HL_F_PREV_MIN));
        return;
    }
    unfile_for(h, b, b, keep);
    *wp(ne) = epilogue_word(h, ne);
    put_free(h, b, keep);
    file_after(h, b, b);
}

/* ---- the general (boundary-tag) path ---------------------------------------- */

/* Allocate `size` bytes from the high end of filed free block b of bs bytes
 * (bs - size at least a minimum block): the remainder keeps b's start and
 * takes its place in the index (placement option high_below). */
static hl_block *take_high(hl_heap *h, hl_block *b, size_t bs, size_t size)
{
    size_t rest = bs - size;
    hl_block *u = at(b, (ptrdiff_t)rest);
    unfile_for(h, b, b, rest);
    next_now_used(at(b, (ptrdiff_t)bs));
    *wp(u) = hl_hdr_make(u, size, HL_F_USED, HL_KIND_CORE, h->cookie);
    put_free(h, b, rest); /* sets u's PREV_FREE (and PREV_MIN) */
    file_after(h, b, b);
    return u;
}

/* Allocate from filed free block b: split off the remainder when it is at
 * least a minimum block. */
HOT hl_block *take(hl_heap *h, hl_block *b, size_t size)
{
    size_t bs = hl_block_size(b);
    size_t rest = bs - size;
    if (rest >= HL_MIN_BLOCK && size < h->high_below && (uintptr_t)b >= (uintptr_t)h->grown)
        return take_high(h, b, bs, size);
    if (rest >= HL_MIN_BLOCK) {
        hl_block *r = at(b, (ptrdiff_t)size);
        unfile_for(h, b, r, rest);
        put_used(h, b, size);
        put_free(h, r, rest);
        file_after(h, b, r);
    } else {
        h->remove(h->st, b);
        put_used(h, b, bs);
        next_now_used(at(b, (ptrdiff_t)bs));
    }
    return b;
}

HOT hl_block *core_alloc(hl_heap *h, size_t size)
{
    hl_block *b = h->find(h->st, size);
    if (b)
        return take(h, b, size);
    b = grow_and_take(h, size);
    if (!b)
        errno = ENOMEM;
    return b;
}

HOT void core_free(hl_heap *h, hl_block *b)
{
    hl_block *f = coalesce_file(h, b, hl_block_size(b));
    if (hl_block_size(f) >= h->trim_threshold)
        maybe_trim(h, f);
}

/* Give the tail of used block b beyond `size` back as a free block. */
static void shrink_to(hl_heap *h, hl_block *b, size_t size)
{
    size_t bs = hl_block_size(b);
    if (bs - size < HL_MIN_BLOCK)
        return;
    put_used(h, b, size);
    hl_block *r = at(b, (ptrdiff_t)size);
    *wp(r) = hl_hdr_make(r, bs - size, HL_F_USED, HL_KIND_CORE, h->cookie);
    core_free(h, r);
}

static inline hl_block *core_resize(hl_heap *h, hl_block *b, size_t size)
{
    size_t bs = hl_block_size(b);
    if (size <= bs) {
        shrink_to(h, b, size);
        return b;
    }
    hl_block *n = at(b, (ptrdiff_t)bs);
    hl_word nw = *wp(n);
    if (!hl_hdr_tag_ok(n, nw, h->cookie))
        hl_corrupt("realloc(): heap corruption: bad header after the block", hl_block_payload(b));
    size_t avail = bs + ((nw & HL_F_USED) ? 0 : (size_t)(nw & HL_SIZE_MASK));
    if (avail < size) {
        /* grow at the top: the block, or the block and a free top, end the heap */
        hl_block *epi = extensible_epilogue(h);
        if (!epi)
            return NULL;
        if (n == epi) {
            /* the block itself is the top: move the epilogue up behind it
             * (what is added may be less than a minimum block) */
            size_t amount = growth_amount(h, size - bs);
            if (hl_source_extend(&h->src, h->last_seg->end, amount) != 0)
                return NULL; /* no memory, or the break moved since our look */
            h->last_seg->end += amount;
            note_extent(h, amount);
            hl_block *ne = at(h->last_seg->end, -(ptrdiff_t)HL_EPILOGUE);
            *wp(ne) = epilogue_word(h, ne);
            put_used(h, b, bs + amount);
            shrink_to(h, b, size);
            return b;
        }
        if ((nw & HL_F_USED) || at(n, (ptrdiff_t)(nw & HL_SIZE_MASK)) != epi)
            return NULL;
        if (!extend_top(h, epi, growth_amount(h, size - avail)))
            return NULL;
        n = at(b, (ptrdiff_t)bs);
        nw = *wp(n);
        avail = bs + (size_t)(nw & HL_SIZE_MASK);
    }
    if (nw & HL_F_USED)
        return NULL;
    /* n is free and big enough: absorb it */
    size_t total = avail;
    size_t rest = total - size;
    if (rest >= HL_MIN_BLOCK) {
        hl_block *r = at(b, (ptrdiff_t)size);
        unfile_for(h, n, r, rest);
        *wp(n) = dead_word(h, n);
        put_used(h, b, size);
        put_free(h, r, rest);
        file_after(h, n, r);
    } else {
        h->remove(h->st, n);
        *wp(n) = dead_word(h, n);
        put_used(h, b, total);
        next_now_used(at(b, (ptrdiff_t)total));
    }
    return b;
}

/* ---- realloc with the placement options ------------------------------------------ */

/* The slack a realloc growth to `size` bytes adds (placement realloc_slack). */
static inline size_t slack_of(const hl_heap *h, size_t size)
{
    return align_up(size / 16 * h->place.realloc_slack, h->align);
}

/*
 * Grow used block b (bs bytes; its successor n is free with succ bytes, or
 * succ = 0) by sliding it down into the free block before it: the payload
 * moves with memmove, predecessor, b and successor become one block of at
 * least `size` bytes (`want` when there is room), what is left over is
 * freed.  The new block, or NULL when b has no free predecessor or the
 * three are too small.
 */
static hl_block *slide_down(hl_heap *h, hl_block *b, size_t bs, hl_block *n, size_t succ, size_t size,
                            size_t want)
{
    hl_word w = *wp(b);
    if (!(w & HL_F_PREV_FREE))
        return NULL;
    size_t ps = (w & HL_F_PREV_MIN) ? HL_MIN_BLOCK : footer_before(b);
    hl_block *p = at(b, -(ptrdiff_t)ps);
    hl_word pw = ps >= HL_MIN_BLOCK ? *wp(p) : 0;
    if (ps < HL_MIN_BLOCK || !hl_hdr_tag_ok(p, pw, h->cookie) || (pw & HL_F_USED) || (pw & HL_SIZE_MASK) != ps)
        hl_corrupt("realloc(): heap corruption: bad free block before the block", hl_block_payload(b));
    /* a hole of less than a quarter of the block is not worth its memmove;
     * the slide leaves a minimum block free at the bottom of the hole, where
     * a small block that lives beside the growing one (realloc2) fits
     * exactly instead of in the free space above it */
    size_t gap = HL_MIN_BLOCK;
    size_t total = ps - gap + bs + succ;
    if (ps < gap + HL_MIN_BLOCK || ps < bs / 4 || total < size)
        return NULL;
    size_t keep = total >= want ? want : size;
    h->remove(h->st, p);
    if (succ)
        h->remove(h->st, n);
    hl_block *g = p;
    p = at(g, (ptrdiff_t)gap);
    *wp(p) = 0; /* no prev bits: put_free(g) sets them */
    memmove(hl_block_payload(p), hl_block_payload(b), bs - HL_HDR_BYTES);
    /* the old headers, where the moved payload did not cover them: a
     * second free of the old pointer is then reported as such */
    if (ps - gap >= bs)
        *wp(b) = dead_word(h, b);
    if (succ)
        *wp(n) = dead_word(h, n);
    next_now_used(at(p, (ptrdiff_t)total));
    size_t rest = total - keep;
    if (rest >= HL_MIN_BLOCK) {
        put_used(h, p, keep);
        hl_block *r = at(p, (ptrdiff_t)keep);
        *wp(r) = hl_hdr_make(r, rest, HL_F_USED, HL_KIND_CORE, h->cookie);
        core_free(h, r);
    } else {
        put_used(h, p, total);
    }
    put_free(h, g, gap);
    h->insert(h->st, g);
    return p;
}

/*
 * core_resize under the placement options realloc_slack and realloc_prev:
 * a shrink within the slack keeps the block; a growth takes the slack when
 * it can, grows into a free successor, else slides down into a free
 * predecessor, else grows at the top of the heap.  *sizep becomes what a
 * move must allocate.  The block (possibly moved down), or NULL: move it.
 */
static hl_block *resize_placed(hl_heap *h, hl_block *b, size_t *sizep)
{
    size_t size = *sizep, bs = hl_block_size(b);
    if (size <= bs) {
        if (h->place.realloc_slack && bs - size <= slack_of(h, size))
            return b;
        return core_resize(h, b, size);
    }
    size_t want = size + slack_of(h, size);
    *sizep = want;
    hl_block *n = at(b, (ptrdiff_t)bs);
    hl_word nw = *wp(n);
    if (!hl_hdr_tag_ok(n, nw, h->cookie))
        hl_corrupt("realloc(): heap corruption: bad header after the block", hl_block_payload(b));
    size_t succ = (nw & HL_F_USED) ? 0 : (size_t)(nw & HL_SIZE_MASK);
    /* the slack where it costs no growth: all of a successor too small for it */
    if (bs + succ >= size)
        return core_resize(h, b, bs + succ >= want ? want : bs + succ);
    if (h->place.realloc_prev) {
        hl_block *nb = slide_down(h, b, bs, n, succ, size, want);
        if (nb)
            return nb;
    }
    return core_resize(h, b, size); /* at the top: the heap grows by what is missing only */
}

/* ---- validation --------------------------------------------------------------- */

/* The header at b, read: tag and USED. */
static inline hl_block *checked_header(hl_heap *h, hl_block *b, const void *p, const char *bad,
                                       const char *twice)
{
    hl_word w = *wp(b);
    if (!hl_hdr_tag_ok(b, w, h->cookie))
        hl_corrupt(w == dead_word(h, b) ? twice : bad, p);
    if (!(w & HL_F_USED))
        hl_corrupt(twice, p);
    return b;
}

/* A pointer outside the source's main range: a mapped block the heap
 * holds, a block in a region the source filled and left or in the sbrk
 * source's fallback region, or an abort before anything at it is read. */
static __attribute__((noinline)) hl_block *checked_far(hl_heap *h, const void *p, const char *bad,
                                                       const char *twice)
{
    hl_block *b = hl_payload_block(p);
    if (!hl_source_holds(&h->src, b)) {
        int held = hl_large_lookup(h, p);
        if (held <= 0)
            hl_corrupt(held < 0 ? twice : bad, p);
    }
    return checked_header(h, b, p, bad, twice);
}

/* The header of a pointer the program hands back: alignment, where it
 * lies (a range check, before the header is read), tag, USED. */
HOT hl_block *checked(hl_heap *h, const void *p, const char *bad, const char *twice)
{
    if ((uintptr_t)p & (h->align - 1))
        hl_corrupt(bad, p);
    hl_block *b = hl_payload_block(p);
    uintptr_t lo = (uintptr_t)h->src.lo;
    if (__builtin_expect((uintptr_t)b - lo >= (uintptr_t)h->src.hi - lo, 0))
        return checked_far(h, p, bad, twice);
    return checked_header(h, b, p, bad, twice);
}

/* An offset header (memalign) leads to the real block. */
static hl_block *real_block(hl_heap *h, hl_block *b, const char *bad)
{
    void *pay = (char *)hl_block_payload(b) - hl_block_size(b);
    hl_block *r = hl_payload_block(pay);
    hl_word w = *wp(r);
    if (!hl_hdr_tag_ok(r, w, h->cookie) || !(w & HL_F_USED) || (w & HL_F_MAPPED) ||
        hl_hdr_kind(w) == HL_KIND_OFFSET)
        hl_corrupt(bad, hl_block_payload(b));
    return r;
}

/* ---- public operations -------------------------------------------------------- */

size_t hl_request_size(const hl_heap *h, size_t n)
{
    if (n > MAX_REQUEST)
        return 0;
    size_t s = (n + HL_HDR_BYTES + h->align - 1) & ~(h->align - 1);
    return s < HL_MIN_BLOCK ? HL_MIN_BLOCK : s;
}

static inline void account_alloc(hl_heap *h, hl_block *b)
{
    h->live_bytes += hl_block_size(b);
    h->live_blocks++;
    uint64_t live = h->live_bytes + h->mapped_bytes;
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
}

/* malloc past the front cache: the mmap path, the policy or core's
 * mechanism; with the cache on, a flush of it before giving up. */
HOT void *malloc_uncached(hl_heap *h, size_t n)
{
    if (n >= h->mmap_threshold)
        return hl_large_alloc(h, n, h->align);
    size_t size = hl_request_size(h, n);
    if (!size) {
        errno = ENOMEM;
        return NULL;
    }
    if (size > h->max_block)
        return hl_large_alloc(h, n, h->align);
    hl_block *b = h->alloc ? h->alloc(h, h->st, size) : core_alloc(h, size);
    if (!b && h->cache_max && hl_cache_bytes(h, NULL)) {
        /* what the cache holds may coalesce into what is missing */
        hl_cache_flush(h);
        b = h->alloc ? h->alloc(h, h->st, size) : core_alloc(h, size);
    }
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    account_alloc(h, b);
    return hl_block_payload(b);
}

/* A front-cache hit for an n-byte request, counted live, or NULL. */
HOT void *malloc_from_cache(hl_heap *h, size_t n)
{
    if (n >= h->mmap_threshold)
        return NULL;
    size_t size = hl_request_size(h, n);
    hl_block *b = size ? hl_cache_get(h, size) : NULL;
    if (!b)
        return NULL;
    account_alloc(h, b);
    return hl_block_payload(b);
}

/* A request the front cache did not serve.  Its bin's first block, if
 * hl_cache_get doubted it: written into since it was cached (reported),
 * or sound with a link into another region (served). */
static __attribute__((noinline)) void *malloc_cache_miss(hl_heap *h, size_t n)
{
    size_t size = n < h->mmap_threshold ? hl_request_size(h, n) : 0;
    size_t i = size ? hl_cache_bin_of(size) : HL_CACHE_CLASSES;
    hl_block *b = i < HL_CACHE_CLASSES ? h->bins[i].head : NULL;
    if (b && !hl_cache_looks_intact(h, b)) {
        if (hl_cache_clobbered(h, b))
            hl_corrupt("malloc(): corrupted front cache block", hl_block_payload(b));
        b = hl_cache_take(&h->bins[i]);
        account_alloc(h, b);
        return hl_block_payload(b);
    }
    return malloc_uncached(h, n);
}

HOT void *malloc_locked(hl_heap *h, size_t n)
{
    void *p;
    if (!h->cache_max)
        return malloc_uncached(h, n);
    if ((p = malloc_from_cache(h, n)) != NULL)
        return p;
    return malloc_cache_miss(h, n);
}

/* Heap block b (validated, counted live) leaves the program's hands. */
HOT void account_free(hl_heap *h, hl_block *b)
{
    h->live_bytes -= hl_block_size(b);
    h->live_blocks--;
}

/* A freed heap block goes to the policy, or to core's mechanism. */
HOT void give_back(hl_heap *h, hl_block *b)
{
    if (h->release)
        h->release(h, h->st, b);
    else
        core_free(h, b);
}

/* The same, out of line: the front cache's misses and its flush, which
 * the small functions of its hits must not inline. */
static __attribute__((noinline)) void give_back_full(hl_heap *h, hl_block *b) { give_back(h, b); }

void hl_cache_release(hl_heap *h, hl_block *b) { give_back_full(h, b); }

/* free of heap block b (validated, counted live) with the front cache on:
 * its double-free check, then the cache, or the policy when its bin is
 * full. */
HOT void free_to_cache(hl_heap *h, hl_block *b, const void *p)
{
    if (hl_cache_holds(h, b))
        hl_corrupt("free(): double free", p);
    account_free(h, b);
    if (!hl_cache_put(h, b))
        give_back_full(h, b);
}

HOT void free_locked(hl_heap *h, void *p)
{
    hl_block *b = checked(h, p, "free(): invalid pointer", "free(): double free");
    hl_word w = *wp(b);
    if (w & HL_F_MAPPED) {
        hl_large_free(h, b);
        return;
    }
    if (hl_hdr_kind(w) == HL_KIND_OFFSET) {
        hl_block *o = b;
        b = real_block(h, o, "free(): invalid pointer"); /* reads the offset: kill it after */
        *wp(o) = dead_word(h, o);
    }
    if (h->cache_max) {
        free_to_cache(h, b, p);
        return;
    }
    account_free(h, b);
    give_back(h, b);
}

/*
 * The unlocked entry points.  With the front cache on, a hit stays in a
 * small function that saves no registers; everything else is a tail call
 * to the full path, which is one function of its own (inlined into the
 * entry, the full path would make every hit save and restore the
 * registers it needs: a third of a hit's instructions).
 */
static __attribute__((noinline)) void *malloc_full(hl_heap *h, size_t n) { return malloc_uncached(h, n); }
static __attribute__((noinline)) void free_full(hl_heap *h, void *p) { free_locked(h, p); }

static __attribute__((noinline)) void *malloc_cached(hl_heap *h, size_t n)
{
    void *p = malloc_from_cache(h, n);
    return p ? p : malloc_cache_miss(h, n);
}

static __attribute__((noinline)) void free_cached(hl_heap *h, void *p)
{
    hl_block *b = checked(h, p, "free(): invalid pointer", "free(): double free");
    hl_word w = *wp(b);
    if (!(w & (HL_F_MAPPED | HL_KIND_MASK)) || hl_hdr_kind(w) >= HL_KIND_POLICY)
        free_to_cache(h, b, p); /* a heap block: not mapped, not behind an offset header */
    else
        free_full(h, p);
}

/* Each a test and a tail call: neither path pays for the other's frame. */
void *hl_malloc_unlocked(hl_heap *h, size_t n) { return h->cache_max ? malloc_cached(h, n) : malloc_full(h, n); }

void hl_free_unlocked(hl_heap *h, void *p)
{
    if (!p)
        return;
    if (h->cache_max)
        free_cached(h, p);
    else
        free_full(h, p);
}

void *hl_malloc(hl_heap *h, size_t n)
{
    LOCK(h);
    void *p = malloc_locked(h, n);
    UNLOCK(h);
    return p;
}

void hl_free(hl_heap *h, void *p)
{
    if (!p)
        return;
    LOCK(h);
    free_locked(h, p);
    UNLOCK(h);
}

void *hl_calloc_unlocked(hl_heap *h, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc_locked(h, n);
    /* a fresh mapping is already zero */
    if (p && !(*wp(hl_payload_block(p)) & HL_F_MAPPED))
        memset(p, 0, n);
    return p;
}

void *hl_calloc(hl_heap *h, size_t nmemb, size_t size)
{
    LOCK(h);
    void *p = hl_calloc_unlocked(h, nmemb, size);
    UNLOCK(h);
    return p;
}

static size_t usable_locked(hl_heap *h, hl_block *b, const void *p)
{
    hl_word w = *wp(b);
    if (w & HL_F_MAPPED)
        return hl_large_usable(h, b);
    if (hl_hdr_kind(w) == HL_KIND_OFFSET) {
        hl_block *r = real_block(h, b, "malloc_usable_size(): invalid pointer");
        return (size_t)((char *)r + hl_block_size(r) - (const char *)p);
    }
    return hl_block_size(b) - HL_HDR_BYTES;
}

size_t hl_usable_size(hl_heap *h, const void *p)
{
    if (!p)
        return 0;
    LOCK(h);
    hl_block *b = checked(h, p, "malloc_usable_size(): invalid pointer",
                          "malloc_usable_size(): pointer already freed");
    if (h->cache_max && hl_cache_holds(h, b))
        hl_corrupt("malloc_usable_size(): pointer already freed", p);
    size_t n = usable_locked(h, b, p);
    UNLOCK(h);
    return n;
}

void *hl_realloc_unlocked(hl_heap *h, void *p, size_t n)
{
    if (!p)
        return malloc_locked(h, n);
    if (n == 0) {
        free_locked(h, p);
        return NULL;
    }
    hl_block *b = checked(h, p, "realloc(): invalid pointer", "realloc(): pointer already freed");
    if (h->cache_max && hl_cache_holds(h, b))
        hl_corrupt("realloc(): pointer already freed", p);
    hl_word w = *wp(b);
    void *q = NULL;
    size_t ask = n; /* what a move allocates */
    if (w & HL_F_MAPPED) {
        q = hl_large_realloc(h, b, n);
        if (q || errno != EAGAIN) /* EAGAIN: mremap failed, move it below (core.h) */
            goto out;
    } else if (hl_hdr_kind(w) != HL_KIND_OFFSET) {
        size_t size = hl_request_size(h, n);
        if (!size) {
            errno = ENOMEM;
            goto out;
        }
        size_t old = hl_block_size(b);
        hl_block *nb;
        if (h->resize)
            nb = h->resize(h, h->st, b, size);
        else if (h->place.realloc_prev || h->place.realloc_slack)
            nb = resize_placed(h, b, &size); /* may move the payload down */
        else
            nb = core_resize(h, b, size);
        if (h->place.realloc_slack && size - HL_HDR_BYTES > n)
            ask = size - HL_HDR_BYTES; /* slack: a move takes it too */
        if (nb && size > old && h->high_below)
            h->grown = nb;
        if (nb) {
            h->live_bytes = h->live_bytes - old + hl_block_size(nb);
            uint64_t live = h->live_bytes + h->mapped_bytes;
            if (live > h->peak_live_bytes)
                h->peak_live_bytes = live;
            q = hl_block_payload(nb);
            goto out;
        }
    }
    /* move: new block, copy, free the old one */
    size_t have = usable_locked(h, b, p);
    q = malloc_locked(h, ask);
    if (q && h->high_below)
        h->grown = hl_payload_block(q);
    if (q) {
        memcpy(q, p, have < n ? have : n);
        free_locked(h, p);
    }
out:
    return q;
}

void *hl_realloc(hl_heap *h, void *p, size_t n)
{
    LOCK(h);
    void *q = hl_realloc_unlocked(h, p, n);
    UNLOCK(h);
    return q;
}

static void *memalign_locked(hl_heap *h, size_t align, size_t n)
{
    if (align <= h->align)
        return malloc_locked(h, n);
    size_t size = hl_request_size(h, n);
    if (!size || align > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    if (n >= h->mmap_threshold || size + align > h->max_block)
        return hl_large_alloc(h, n, align);
    hl_block *b;
    void *q;
    if (h->alloc) {
        /* a policy's own blocks cannot be split at the front: put an offset
         * header in front of the aligned payload */
        b = h->alloc(h, h->st, size + align);
        if (!b) {
            errno = ENOMEM;
            return NULL;
        }
        char *pay = hl_block_payload(b);
        q = (void *)align_up((uintptr_t)pay, align);
        if (q != pay) {
            hl_block *o = hl_payload_block(q);
            *wp(o) = hl_hdr_make(o, (size_t)((char *)q - pay), HL_F_USED, HL_KIND_OFFSET, h->cookie);
        }
    } else {
        b = core_alloc(h, size + align + HL_MIN_BLOCK);
        if (!b)
            return NULL;
        char *pay = hl_block_payload(b);
        char *al = (char *)align_up((uintptr_t)pay, align);
        if (al != pay) {
            while ((size_t)(al - pay) < HL_MIN_BLOCK)
                al += align;
            size_t gap = (size_t)(al - pay), bs = hl_block_size(b);
            hl_block *nb = at(b, (ptrdiff_t)gap);
            *wp(nb) = hl_hdr_make(nb, bs - gap, HL_F_USED, HL_KIND_CORE, h->cookie);
            put_used(h, b, gap);
            core_free(h, b);
            b = nb;
        }
        shrink_to(h, b, size);
        q = hl_block_payload(b);
    }
    account_alloc(h, b);
    return q;
}

void *hl_memalign_unlocked(hl_heap *h, size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return memalign_locked(h, align, n);
}

void *hl_memalign(hl_heap *h, size_t align, size_t n)
{
    LOCK(h);
    void *p = hl_memalign_unlocked(h, align, n);
    UNLOCK(h);
    return p;
}

int hl_posix_memalign(hl_heap *h, void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = hl_memalign(h, align, n);
    if (!p) {
        int e = errno;
        errno = saved;
        return e;
    }
    *out = p;
    return 0;
}

/* ---- mechanisms for policies --------------------------------------------------- */

hl_word hl_heap_cookie(const hl_heap *h) { return h->cookie; }
size_t hl_heap_align(const hl_heap *h) { return h->align; }
const struct hl_policy *hl_heap_policy(const hl_heap *h) { return h->pol; }

void *hl_heap_base(const hl_heap *h)
{
    if (h->src.kind == HL_SOURCE_REGION)
        return h->src.nold ? h->src.old[0].base : h->src.base;
    return h->segs;
}

hl_block *hl_block_alloc(hl_heap *h, size_t size)
{
    if (!h->find) {
        errno = ENOSYS;
        return NULL;
    }
    return core_alloc(h, size);
}

void hl_block_free(hl_heap *h, hl_block *b) { core_free(h, b); }

hl_block *hl_block_resize(hl_heap *h, hl_block *b, size_t size) { return core_resize(h, b, size); }

void *hl_morecore(hl_heap *h, size_t bytes, int *contiguous)
{
    struct hl_seg *s = h->last_seg;
    *contiguous = 0;
    if (s && s->raw && hl_source_end(&h->src) == s->end) {
        int moved = hl_source_extend(&h->src, s->end, bytes);
        if (moved < 0)
            return NULL;
        if (moved == 0) {
            char *p = s->end;
            note_extent(h, bytes);
            s->end += bytes;
            *contiguous = 1;
            return p;
        }
        /* someone moved the break since our look: a new segment */
    }
    struct hl_seg *seg = add_segment(h, bytes, 1);
    return seg ? (void *)hl_seg_first(seg) : NULL;
}

void hl_heap_limit_block(hl_heap *h, size_t max_block) { h->max_block = max_block; }

void hl_heap_set_placement(hl_heap *h, const struct hl_placement *p)
{
    h->place = *p;
    h->place.grow_chunk = p->grow_chunk < MAX_REQUEST ? align_up(p->grow_chunk, h->align) : MAX_REQUEST;
    h->high_below = p->high_below;
}

void hl_heap_placement(const hl_heap *h, struct hl_placement *out) { *out = h->place; }

size_t hl_heap_max_request(const hl_heap *h)
{
    return h->max_block == HL_MAX_BLOCK ? MAX_REQUEST : h->max_block - HL_HDR_BYTES;
}

void hl_account_overhead(hl_heap *h, long delta) { h->overhead_bytes += (uint64_t)delta; }

static void put_hex(char *out, uintptr_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[2 * sizeof v];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    *out++ = '0';
    *out++ = 'x';
    while (n)
        *out++ = tmp[--n];
    *out = 0;
}

_Noreturn void hl_corrupt(const char *what, const void *addr)
{
    /* no stdio: this may run inside malloc */
    char hex[2 + 2 * sizeof(uintptr_t) + 1];
    put_hex(hex, (uintptr_t)addr);
    const char *parts[] = {"heaplab: ", what, " at ", hex, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        ssize_t r = write(2, parts[i], strlen(parts[i]));
        (void)r;
    }
    abort();
}

/* ---- creation ------------------------------------------------------------------ */

void hl_config_default(struct hl_config *cfg, const struct hl_policy *policy)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->policy = policy;
    cfg->source = HL_SOURCE_REGION;
    cfg->mmap_threshold = HL_DEFAULT_MMAP_THRESHOLD;
    cfg->mmap_dynamic = 1;
    cfg->align = 16;
    cfg->trim_threshold = HL_DEFAULT_TRIM_THRESHOLD;
    cfg->top_pad = HL_DEFAULT_TOP_PAD;
    cfg->lock = 1;
    /* digits only, by hand: this may run inside malloc (preload/) */
    const char *fail = getenv("HEAPLAB_FAIL_AT");
    for (uint64_t n = 0; fail && *fail; fail++) {
        if (*fail < '0' || *fail > '9' || n > (UINT64_MAX - 9) / 10)
            break;
        n = n * 10 + (uint64_t)(*fail - '0');
        if (!fail[1])
            cfg->fail_at = n;
    }
}

static hl_word mix64(hl_word x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

hl_heap *hl_heap_create(const struct hl_config *cfg)
{
    const struct hl_policy *pol = cfg ? cfg->policy : NULL;
    if (!pol || pol->abi != HL_POLICY_ABI || (cfg->align != 8 && cfg->align != 16) || cfg->cache > HL_CACHE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    int fit = pol->insert && pol->remove && pol->find;
    if (!fit && !(pol->alloc && pol->release)) {
        errno = EINVAL;
        return NULL;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t head = align_up(sizeof(struct hl_heap), 64);
    size_t len = align_up(head + pol->state_size, page);
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    hl_heap *h = mem; /* mmap gives zeroed memory */
    h->meta_len = len;
    h->st = (char *)mem + head;
    h->pol = pol;
    h->cookie = mix64((uintptr_t)h ^ ((hl_word)(uintptr_t)&len << 17));
    h->insert = pol->insert;
    h->remove = pol->remove;
    h->replace = pol->replace;
    h->find = pol->find;
    h->alloc = pol->alloc;
    h->release = pol->release;
    h->resize = pol->resize;
    h->align = cfg->align;
    h->mmap_threshold = cfg->mmap_threshold ? cfg->mmap_threshold : SIZE_MAX;
    h->mmap_dynamic = cfg->mmap_dynamic && cfg->mmap_threshold;
    h->trim_threshold = cfg->trim_threshold ? cfg->trim_threshold : HL_NO_TRIM;
    h->top_pad = cfg->top_pad < MAX_REQUEST ? align_up(cfg->top_pad, cfg->align) : MAX_REQUEST;
    /* a growth that is not a multiple of the alignment would leave a
     * segment end or a new top block misaligned */
    h->grow_min = cfg->grow_min < MAX_REQUEST ? align_up(cfg->grow_min, cfg->align) : cfg->grow_min;
    h->max_block = HL_MAX_BLOCK;
    if (cfg->source == HL_SOURCE_SBRK && h->grow_min < HL_SBRK_MIN_GROWTH)
        h->grow_min = HL_SBRK_MIN_GROWTH;
    h->lock = cfg->lock;
    h->cache_max = cfg->cache;
    h->cache_key = mix64(h->cookie ^ 0x7463616368656b79u) | 1;
    h->maps.next = h->maps.prev = &h->maps;
    h->src.fail_at = cfg->fail_at;
    if (hl_source_open(&h->src, cfg->source, cfg->region_capacity) != 0) {
        int e = errno;
        munmap(mem, len);
        errno = e;
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);

    h->cfg = *cfg;
    for (size_t i = 0; i < hl_policy_nparams(pol); i++)
        h->params[i] = cfg->policy_params ? cfg->policy_params[i] : pol->params[i].def;
    h->cfg.policy_params = NULL;
    if (pol->init && pol->init(h, h->st, h->params) != 0) {
        int e = errno;
        hl_source_close(&h->src);
        pthread_mutex_destroy(&h->mu);
        munmap(mem, len);
        errno = e ? e : EINVAL;
        return NULL;
    }
    return h;
}

int hl_heap_reset(hl_heap *h)
{
    LOCK(h);
    if (h->pol->fini)
        h->pol->fini(h, h->st);
    hl_large_release_all(h);
    if (h->src.kind == HL_SOURCE_REGION) {
        hl_source_rewind(&h->src); /* the pages still committed stay */
    } else {
        /* give back the newest segments while the break is still theirs;
         * older ones, below someone else's memory, stay with the process */
        while (h->segs) {
            struct hl_seg *s = h->segs, *prev = NULL;
            while (s->next) {
                prev = s;
                s = s->next;
            }
            if (hl_source_end(&h->src) != s->end ||
                hl_source_shrink(&h->src, s->end, (size_t)(s->end - (char *)s)) != 0)
                break;
            if (prev)
                prev->next = NULL;
            else
                h->segs = NULL;
        }
    }
    size_t head = (size_t)((char *)h->st - (char *)h);
    memset(h->st, 0, h->meta_len - head);
    h->live_bytes = h->live_blocks = h->mapped_bytes = h->mapped_blocks = 0;
    h->extent_bytes = h->overhead_bytes = 0;
    h->peak_live_bytes = h->peak_heap_bytes = h->peak_extent_bytes = h->peak_mapped_bytes = 0;
    h->grow_calls = h->shrink_calls = h->nsegs = 0;
    memset(h->bins, 0, sizeof h->bins);
    h->src.decommits = 0;
    h->mmap_calls = h->munmap_calls = h->mremap_calls = 0;
    h->segs = h->last_seg = NULL;
    /* the mmap and trim thresholds keep what the heap learned (large.c):
     * glibc's are process state that no pass resets either */
    h->max_block = HL_MAX_BLOCK;
    memset(&h->place, 0, sizeof h->place); /* init sets them again */
    h->high_below = 0;
    h->grown = NULL;
    int rc = 0;
    if (h->pol->init && h->pol->init(h, h->st, h->params) != 0)
        rc = -1;
    UNLOCK(h);
    return rc;
}

void hl_heap_destroy(hl_heap *h)
{
    if (!h)
        return;
    if (h->pol->fini)
        h->pol->fini(h, h->st);
    hl_large_fini(h);
    if (h->src.kind == HL_SOURCE_SBRK && h->last_seg) {
        /* give back the newest segment if nothing was put after it */
        struct hl_seg *s = h->last_seg;
        char *start = (char *)s;
        if (hl_source_end(&h->src) == s->end)
            hl_source_shrink(&h->src, s->end, (size_t)(s->end - start));
    }
    hl_source_close(&h->src);
    pthread_mutex_destroy(&h->mu);
    munmap(h, h->meta_len);
}

void hl_heap_lock(hl_heap *h) { LOCK(h); }
void hl_heap_unlock(hl_heap *h) { UNLOCK(h); }
void hl_heap_after_fork_child(hl_heap *h)
{
    if (h->lock)
        pthread_mutex_init(&h->mu, NULL);
}
