/*
 * cache.c - the front cache: a few freed blocks per small size, kept aside
 * and handed out again before the policy is asked (`cache=N` on any
 * policy; off unless asked for).
 *
 * The idea is glibc's tcache (per-thread bins of up to 7 chunks per size,
 * 64 sizes up to 1032 bytes) and mimalloc's free lists: most programs free
 * and allocate the same small sizes over and over, and an exact-size LIFO
 * list answers those in a dozen instructions where a policy would search,
 * split and coalesce.  Coalescing is deferred: a cached block stays "in
 * use" to the policy and to its neighbours, so it neither merges nor is
 * indexed until the cache gives it back - when its bin is full the freed
 * block goes to the policy at once, and the whole cache is flushed when an
 * allocation would otherwise fail.
 *
 * What this does to the numbers.  A request served from the cache is not
 * placed by the policy: it gets the most recently freed block of exactly
 * its size, wherever it is.  So a policy with the cache is that policy
 * plus LIFO exact fit for small blocks, and its placement, fragmentation
 * and util change (docs/metrics.md shows by how much).  The metrics stay
 * true: a cached block is free memory as far as the program is concerned,
 * so it is not counted live, the heap walk (hl_walk) reports it free, and
 * the stats count it in free_bytes (and cached_bytes).  The policy's own
 * view (hl_walk_held, its check) still sees it in use, as it is to the
 * policy.
 *
 * Misuse.  A cached block carries the heap's cache key in its second
 * payload word.  free of a block with the key searches its bin (at most N
 * blocks) and reports a double free; realloc and malloc_usable_size report
 * use after free the same way.  The checker walks every bin.
 */
#include "core.h"

int hl_cache_find(const hl_heap *h, const hl_block *b)
{
    size_t i = hl_cache_bin_of(hl_block_size(b));
    if (i >= HL_CACHE_CLASSES)
        return 0;
    const hl_block *x = h->bins[i].head;
    for (uint32_t k = 0; x && k < h->bins[i].count; k++, x = hl_cached_of(x)->next) {
        if (x == b)
            return 1;
        if (!hl_source_holds_block(&h->src, x)) /* a bad link: hl_cache_check says so */
            return 0;
    }
    return 0;
}

void hl_cache_flush(hl_heap *h)
{
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) {
        struct hl_cache_bin *bin = &h->bins[i];
        while (bin->head) {
            hl_block *b = bin->head;
            struct hl_cached *c = hl_cached_of(b);
            if (c->key != h->cache_key || (c->next && !hl_source_holds_block(&h->src, c->next)))
                hl_corrupt("malloc(): corrupted front cache block", hl_block_payload(b));
            bin->head = c->next;
            c->key = 0;
            hl_cache_release(h, b);
        }
        bin->count = 0;
    }
}

uint64_t hl_cache_bytes(const hl_heap *h, uint64_t *blocks)
{
    uint64_t bytes = 0, n = 0;
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) {
        bytes += (uint64_t)h->bins[i].count * hl_cache_bin_size(i);
        n += h->bins[i].count;
    }
    if (blocks)
        *blocks = n;
    return bytes;
}

void hl_cache_check(hl_heap *h, struct hl_check *c)
{
    uint64_t bytes = 0, blocks = 0;
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) {
        const struct hl_cache_bin *bin = &h->bins[i];
        size_t size = hl_cache_bin_size(i);
        HL_CHECK(c, bin->count <= h->cache_max, "cache: bin of %zu-byte blocks holds %u, more than %u", size,
                 bin->count, h->cache_max);
        uint32_t n = 0;
        for (const hl_block *b = bin->head; b; b = hl_cached_of(b)->next) {
            if (++n > bin->count) {
                hl_check_fail(c, "cache: bin of %zu-byte blocks has more blocks than its count %u (a cycle?)",
                              size, bin->count);
                break;
            }
            if (!hl_heap_holds(h, b, HL_HDR_BYTES + sizeof(struct hl_cached))) {
                hl_check_fail(c, "cache: link %p in the bin of %zu-byte blocks leads out of the heap",
                              (const void *)b, size);
                break;
            }
            hl_word w = hl_hdr(b);
            if (!hl_hdr_tag_ok(b, w, h->cookie)) {
                hl_check_fail(c, "cache: %p in the bin of %zu-byte blocks is not a block", (const void *)b, size);
                break;
            }
            HL_CHECK(c, (w & HL_F_USED) && !(w & HL_F_MAPPED) && hl_block_kind(b) != HL_KIND_OFFSET,
                     "cache: block %p is not an in-use heap block", (const void *)b);
            HL_CHECK(c, hl_block_size(b) == size, "cache: block %p of %zu bytes in the bin of %zu-byte blocks",
                     (const void *)b, hl_block_size(b), size);
            HL_CHECK(c, hl_cached_of(b)->key == h->cache_key, "cache: block %p lost its cache key",
                     (const void *)b);
            bytes += hl_block_size(b);
            blocks++;
        }
        HL_CHECK(c, n == bin->count, "cache: bin of %zu-byte blocks holds %u blocks, its count says %u", size, n,
                 bin->count);
    }
    uint64_t counted_blocks, counted = hl_cache_bytes(h, &counted_blocks);
    HL_CHECK(c, bytes == counted && blocks == counted_blocks,
             "cache: bins hold %llu blocks (%llu bytes), their counts say %llu (%llu bytes)",
             (unsigned long long)blocks, (unsigned long long)bytes, (unsigned long long)counted_blocks,
             (unsigned long long)counted);
}
