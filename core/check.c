/*
 * check.c - walking the heap, the heap checker, and stats.
 *
 * The checker counts violations instead of stopping at the first (as TLSF's
 * tlsf_check does) and describes each one, so a broken policy shows all its
 * symptoms at once.  It checks core's invariants - tags, sizes, alignment,
 * boundary tags, no two adjacent free blocks, segment tiling, the mapped
 * list, the counters - and then calls the policy's own check.
 */
#include <stdarg.h>

#include "core.h"

int hl_check_fail(struct hl_check *c, const char *fmt, ...)
{
    c->violations++;
    if (c->out) {
        va_list ap;
        va_start(ap, fmt);
        fputs("check: ", c->out);
        vfprintf(c->out, fmt, ap);
        fputc('\n', c->out);
        va_end(ap);
    }
    return 1;
}

int hl_heap_holds(const hl_heap *h, const void *addr, size_t len)
{
    const char *a = addr;
    return len && (uintptr_t)a <= UINTPTR_MAX - len && hl_source_holds(&h->src, a) &&
           hl_source_holds(&h->src, a + len - 1);
}

static int report(hl_walk_fn fn, void *arg, void *addr, size_t size, size_t hdr, enum hl_block_state st)
{
    struct hl_block_info bi = {addr, size, hdr, st};
    return fn(&bi, arg);
}

/* The program's view of a policy's block: one in the front cache is free.
 * The walk asks the cache's bins, never the block's payload: another
 * thread may be writing to a block it owns while the walk holds the lock. */
struct program_view {
    hl_heap *h;
    hl_walk_fn fn;
    void *arg;
};

static int as_program_sees(const struct hl_block_info *bi, void *arg)
{
    const struct program_view *pv = arg;
    if (bi->state == HL_BLOCK_USED && hl_cache_find(pv->h, bi->addr)) {
        struct hl_block_info f = *bi;
        f.state = HL_BLOCK_FREE;
        return pv->fn(&f, pv->arg);
    }
    return pv->fn(bi, pv->arg);
}

/* Every block; `program`: as the program sees them (cached blocks free),
 * else as the policy does (cached blocks in use). */
static int walk_locked(hl_heap *h, hl_walk_fn fn, void *arg, int program)
{
    int r;
    struct program_view pv = {h, fn, arg};
    uint64_t cached = 0;
    if (program && h->cache_max)
        hl_cache_bytes(h, &cached);
    program = cached != 0;
    for (struct hl_seg *s = h->segs; s; s = s->next) {
        hl_block *b = hl_seg_first(s);
        if ((r = report(fn, arg, s, HL_SEG_HDR, HL_SEG_HDR, HL_BLOCK_META)))
            return r;
        while ((char *)b < s->end) {
            size_t size = hl_block_size(b);
            if (size == 0) {
                if (!s->raw && (r = report(fn, arg, b, HL_EPILOGUE, HL_EPILOGUE, HL_BLOCK_META)))
                    return r;
                break;
            }
            if (hl_block_kind(b) >= HL_KIND_POLICY && h->pol->walk)
                r = program ? h->pol->walk(h, h->st, b, as_program_sees, &pv) : h->pol->walk(h, h->st, b, fn, arg);
            else if (hl_block_used(b))
                r = report(fn, arg, b, size, HL_HDR_BYTES,
                           program && hl_cache_find(h, b) ? HL_BLOCK_FREE : HL_BLOCK_USED);
            else
                r = report(fn, arg, b, size, size > HL_MIN_BLOCK ? 2 * HL_HDR_BYTES : HL_HDR_BYTES,
                           HL_BLOCK_FREE);
            if (r)
                return r;
            b = hl_block_next(b);
        }
    }
    for (struct hl_mapped *m = h->maps.next; m != &h->maps; m = m->next) {
        size_t hdr = m->off;
        if ((r = report(fn, arg, m, m->len, hdr, HL_BLOCK_MAPPED)))
            return r;
    }
    return 0;
}

int hl_walk_held(hl_heap *h, hl_walk_fn fn, void *arg) { return walk_locked(h, fn, arg, 0); }

int hl_walk(hl_heap *h, hl_walk_fn fn, void *arg)
{
    LOCK(h);
    int r = walk_locked(h, fn, arg, 1);
    UNLOCK(h);
    return r;
}

struct sums {
    uint64_t bytes[4];
    uint64_t count[4];
};

static int sum_block(const struct hl_block_info *bi, void *arg)
{
    struct sums *s = arg;
    s->bytes[bi->state] += bi->size;
    s->count[bi->state]++;
    return 0;
}

static void check_tagged(hl_heap *h, struct hl_seg *s, struct hl_check *c)
{
    hl_block *b = hl_seg_first(s);
    int prev_free = 0;
    size_t prev_size = 0;
    for (;;) {
        if ((char *)b + HL_HDR_BYTES > s->end) {
            hl_check_fail(c, "segment %p: blocks run past its end %p", (void *)s, (void *)s->end);
            return;
        }
        hl_word w = hl_hdr(b);
        if (!hl_hdr_tag_ok(b, w, h->cookie)) {
            hl_check_fail(c, "block %p: header tag does not match (word %#llx)", (void *)b,
                          (unsigned long long)w);
            return;
        }
        size_t size = (size_t)(w & HL_SIZE_MASK);
        HL_CHECK(c, !!(w & HL_F_PREV_FREE) == prev_free, "block %p: PREV_FREE says %d, block before is %s",
                 (void *)b, !!(w & HL_F_PREV_FREE), prev_free ? "free" : "in use");
        HL_CHECK(c, !!(w & HL_F_PREV_MIN) == (prev_free && prev_size == HL_MIN_BLOCK),
                 "block %p: PREV_MIN bit wrong", (void *)b);
        if (size == 0) {
            HL_CHECK(c, (char *)b + HL_EPILOGUE == s->end, "segment %p: epilogue %p is not at its end %p",
                     (void *)s, (void *)b, (void *)s->end);
            HL_CHECK(c, (w & HL_F_USED) != 0, "epilogue %p not marked in use", (void *)b);
            return;
        }
        HL_CHECK(c, size >= HL_MIN_BLOCK, "block %p: size %zu below the minimum", (void *)b, size);
        HL_CHECK(c, size % h->align == 0, "block %p: size %zu not a multiple of %zu", (void *)b, size, h->align);
        HL_CHECK(c, ((uintptr_t)hl_block_payload(b) & (h->align - 1)) == 0, "block %p: payload misaligned",
                 (void *)b);
        HL_CHECK(c, !(w & HL_F_MAPPED), "block %p: MAPPED inside the extent", (void *)b);
        if (size < HL_MIN_BLOCK || (char *)b + size + HL_EPILOGUE > s->end) {
            hl_check_fail(c, "block %p: size %zu runs past segment end", (void *)b, size);
            return;
        }
        int used = (w & HL_F_USED) != 0;
        unsigned kind = hl_block_kind(b);
        if (!used) {
            HL_CHECK(c, !prev_free, "block %p: two adjacent free blocks", (void *)b);
            HL_CHECK(c, kind == HL_KIND_CORE, "free block %p has kind %u", (void *)b, kind);
            if (size > HL_MIN_BLOCK)
                HL_CHECK(c, *hl_footer_of(b, size) == size,
                         "free block %p: footer %zu != size %zu", (void *)b,
                         *hl_footer_of(b, size), size);
        }
        HL_CHECK(c, kind != HL_KIND_OFFSET, "block %p: an offset header where a block should be", (void *)b);
        prev_free = !used;
        prev_size = size;
        b = hl_block_next(b);
    }
}

static void check_raw(hl_heap *h, struct hl_seg *s, struct hl_check *c)
{
    hl_block *b = hl_seg_first(s);
    while ((char *)b < s->end) {
        hl_word w = hl_hdr(b);
        size_t size = (size_t)(w & HL_SIZE_MASK);
        if (!hl_hdr_tag_ok(b, w, h->cookie) || size < HL_MIN_BLOCK) {
            hl_check_fail(c, "raw block %p: bad header (word %#llx)", (void *)b, (unsigned long long)w);
            return;
        }
        b = hl_block_next(b);
    }
    HL_CHECK(c, (char *)b == s->end, "raw segment %p: blocks end at %p, not %p", (void *)s, (void *)b,
             (void *)s->end);
}

int hl_check(hl_heap *h, FILE *out)
{
    struct hl_check c = {out, 0};
    LOCK(h);
    uint64_t nsegs = 0;
    for (struct hl_seg *s = h->segs; s; s = s->next) {
        nsegs++;
        if (s->raw)
            check_raw(h, s, &c);
        else
            check_tagged(h, s, &c);
    }
    HL_CHECK(&c, nsegs == h->nsegs, "%llu segments linked, %llu counted", (unsigned long long)nsegs,
             (unsigned long long)h->nsegs);
    uint64_t nmaps = 0, mbytes = 0;
    for (struct hl_mapped *m = h->maps.next; m != &h->maps; m = m->next) {
        nmaps++;
        mbytes += m->len;
        HL_CHECK(&c, m->next->prev == m, "mapped block %p: broken list link", (void *)m);
        HL_CHECK(&c, hl_large_lookup(h, (char *)m + m->off) == 1, "mapped block %p: not in the table of mappings",
                 (void *)m);
        if (m->next->prev != m)
            break;
    }
    HL_CHECK(&c, h->maptab.len == h->mapped_blocks, "%zu mapped blocks in the table, %llu counted", h->maptab.len,
             (unsigned long long)h->mapped_blocks);
    HL_CHECK(&c, nmaps == h->mapped_blocks, "%llu mapped blocks listed, %llu counted",
             (unsigned long long)nmaps, (unsigned long long)h->mapped_blocks);
    HL_CHECK(&c, mbytes == h->mapped_bytes, "%llu mapped bytes listed, %llu counted",
             (unsigned long long)mbytes, (unsigned long long)h->mapped_bytes);
    if (c.violations == 0) {
        struct sums sm = {{0}, {0}};
        walk_locked(h, sum_block, &sm, 1);
        uint64_t free_bytes = h->extent_bytes - h->live_bytes - h->overhead_bytes;
        HL_CHECK(&c, sm.bytes[HL_BLOCK_USED] == h->live_bytes, "walk finds %llu bytes in use, stats say %llu",
                 (unsigned long long)sm.bytes[HL_BLOCK_USED], (unsigned long long)h->live_bytes);
        HL_CHECK(&c, sm.count[HL_BLOCK_USED] == h->live_blocks, "walk finds %llu blocks in use, stats say %llu",
                 (unsigned long long)sm.count[HL_BLOCK_USED], (unsigned long long)h->live_blocks);
        HL_CHECK(&c, sm.bytes[HL_BLOCK_FREE] == free_bytes, "walk finds %llu free bytes, stats say %llu",
                 (unsigned long long)sm.bytes[HL_BLOCK_FREE], (unsigned long long)free_bytes);
    }
    hl_cache_check(h, &c);
    if (h->pol->check)
        h->pol->check(h, h->st, &c);
    UNLOCK(h);
    return c.violations;
}

/*
 * One value per field of HL_STATS_FIELDS (heaplab/heap.h), named
 * stat_<field>: hl_stats fills the struct through the same list, so a
 * field added there without its stat_ function here does not compile.
 */
static inline uint64_t stat_live_bytes(const hl_heap *h) { return h->live_bytes; }
static inline uint64_t stat_live_blocks(const hl_heap *h) { return h->live_blocks; }
static inline uint64_t stat_mapped_bytes(const hl_heap *h) { return h->mapped_bytes; }
static inline uint64_t stat_mapped_blocks(const hl_heap *h) { return h->mapped_blocks; }
static inline uint64_t stat_extent_bytes(const hl_heap *h) { return h->extent_bytes; }
static inline uint64_t stat_heap_bytes(const hl_heap *h) { return h->extent_bytes + h->mapped_bytes; }
static inline uint64_t stat_overhead_bytes(const hl_heap *h) { return h->overhead_bytes; }
static inline uint64_t stat_free_bytes(const hl_heap *h)
{
    return h->extent_bytes - h->live_bytes - h->overhead_bytes;
}
static inline uint64_t stat_cached_bytes(const hl_heap *h) { return hl_cache_bytes(h, NULL); }
static inline uint64_t stat_peak_live_bytes(const hl_heap *h) { return h->peak_live_bytes; }
static inline uint64_t stat_peak_heap_bytes(const hl_heap *h) { return h->peak_heap_bytes; }
static inline uint64_t stat_peak_extent_bytes(const hl_heap *h) { return h->peak_extent_bytes; }
static inline uint64_t stat_peak_mapped_bytes(const hl_heap *h) { return h->peak_mapped_bytes; }
static inline uint64_t stat_grow_calls(const hl_heap *h) { return h->grow_calls; }
static inline uint64_t stat_shrink_calls(const hl_heap *h) { return h->shrink_calls; }
static inline uint64_t stat_decommit_calls(const hl_heap *h) { return h->src.decommits; }
static inline uint64_t stat_segments(const hl_heap *h) { return h->nsegs; }
static inline uint64_t stat_mmap_calls(const hl_heap *h) { return h->mmap_calls; }
static inline uint64_t stat_munmap_calls(const hl_heap *h) { return h->munmap_calls; }
static inline uint64_t stat_mremap_calls(const hl_heap *h) { return h->mremap_calls; }
static inline uint64_t stat_mmap_threshold(const hl_heap *h)
{
    return h->mmap_threshold == SIZE_MAX ? 0 : h->mmap_threshold;
}
static inline uint64_t stat_meta_bytes(const hl_heap *h)
{
    return h->meta_len + h->maptab.cap * sizeof *h->maptab.slot;
}

void hl_stats(hl_heap *h, struct hl_stats *o)
{
    LOCK(h);
#define HL_STATS_FILL(name, doc) o->name = stat_##name(h);
    HL_STATS_FIELDS(HL_STATS_FILL)
#undef HL_STATS_FILL
    UNLOCK(h);
}

uint64_t hl_resident_bytes(hl_heap *h)
{
    LOCK(h);
    size_t page = h->src.pagesize;
    uint64_t bytes = 0;
    if (h->src.kind == HL_SOURCE_REGION) {
        bytes += hl_resident_range(h->src.base, (size_t)(h->src.committed - h->src.base), page);
        for (unsigned i = 0; i < h->src.nold; i++)
            bytes += hl_resident_range(h->src.old[i].base, (size_t)(h->src.old[i].committed - h->src.old[i].base),
                                       page);
    } else {
        for (const struct hl_seg *s = h->segs; s; s = s->next)
            bytes += hl_resident_range(s, (size_t)(s->end - (const char *)s), page);
    }
    for (const struct hl_mapped *m = h->maps.next; m != &h->maps; m = m->next)
        bytes += hl_resident_range(m, m->len, page);
    UNLOCK(h);
    return bytes;
}

void hl_stats_print(const struct hl_stats *st, FILE *out)
{
#define HL_STATS_LINE(name, doc) fprintf(out, "%-18s %llu\n", #name, (unsigned long long)st->name);
    HL_STATS_FIELDS(HL_STATS_LINE)
#undef HL_STATS_LINE
}
