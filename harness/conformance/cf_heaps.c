/*
 * cf_heaps.c - several heaps in one process share nothing, and the heap
 * walk visits every block.
 */
#include <stdint.h>
#include <string.h>

#include "cf.h"

/* ---- several heaps in one process ------------------------------------------------------------ */

enum { SIDE_HEAPS = 3, SIDE_SLOTS = 300, SIDE_OPS = 30000 };

static struct cf_slot side[SIDE_HEAPS][SIDE_SLOTS];

static void side_ownership(hl_heap *const *hs)
{
    struct cf_range extent[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++) {
        char *base = hl_heap_base(hs[k]);
        extent[k] = (struct cf_range){base, base + cf_stats(hs[k]).extent_bytes};
        for (int j = 0; j < k; j++)
            CF_ASSERT(!cf_overlaps(extent[j], extent[k]));
    }
    for (int k = 0; k < SIDE_HEAPS; k++) {
        CF_CHECK(hs[k]);
        struct cf_blocks *bl = cf_walk_all(hs[k]);
        size_t used = 0, mapped = 0;
        for (size_t i = 0; i < bl->n; i++) {
            used += bl->b[i].state == HL_BLOCK_USED;
            mapped += bl->b[i].state == HL_BLOCK_MAPPED;
        }
        size_t live = 0;
        for (int s = 0; s < SIDE_SLOTS; s++) {
            struct cf_slot *x = &side[k][s];
            if (!x->p)
                continue;
            live++;
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            if (cf_holder(bl, x->p, x->n, HL_BLOCK_MAPPED))
                continue;
            CF_ASSERT_MSG(cf_holder(bl, x->p, x->n, HL_BLOCK_USED) != NULL, "heap %d does not hold its block %p", k,
                          (void *)x->p);
            struct cf_range r = {x->p, x->p + x->n};
            CF_ASSERT(x->p >= extent[k].lo && r.hi <= extent[k].hi);
            for (int j = 0; j < SIDE_HEAPS; j++)
                CF_ASSERT(j == k || !cf_overlaps(r, extent[j]));
        }
        CF_UINT_EQ(used + mapped, live);
    }
}

/* The heaps beside a policy's own: the next two in the registry, or for a
 * policy that is not in it (a plugin), a second heap of its own - which
 * shows state kept outside `st` - and the registry's first. */
static void side_neighbours(const struct hl_policy_spec *spec, struct hl_policy_spec *n1, struct hl_policy_spec *n2)
{
    size_t np = hl_policy_count(), i = 0;
    while (i < np && hl_policy_at(i) != spec->policy)
        i++;
    if (i < np) {
        hl_policy_spec_default(hl_policy_at((i + 1) % np), n1);
        hl_policy_spec_default(hl_policy_at((i + 2) % np), n2);
    } else {
        *n1 = *spec;
        hl_policy_spec_default(hl_policy_at(0), n2);
    }
}

void cf_heaps_side_by_side_share_nothing(const struct hl_policy_spec *spec)
{
    struct hl_policy_spec n1, n2;
    side_neighbours(spec, &n1, &n2);
    struct hl_config cfg[SIDE_HEAPS];
    cfg[0] = cf_config_of(spec);
    cfg[1] = cf_fixed_threshold(&n1, 64 * KiB);
    cfg[1].align = 8;
    cfg[2] = cf_fixed_threshold(&n2, 0);
    cfg[2].lock = 0;
    hl_heap *hs[SIDE_HEAPS];
    for (int k = 0; k < SIDE_HEAPS; k++)
        hs[k] = cf_heap(&cfg[k]);
    memset(side, 0, sizeof side);
    struct pat_rng r = {99};
    uint64_t id = 1;
    for (int op = 1; op <= SIDE_OPS; op++) {
        int k = (int)pat_below(&r, SIDE_HEAPS);
        hl_heap *h = hs[k];
        struct cf_slot *x = &side[k][pat_below(&r, SIDE_SLOTS)];
        size_t n = pat_below(&r, 50) == 0 ? 60 * KiB + pat_below(&r, 100 * KiB) : pat_below(&r, 3000);
        if (!x->p) {
            x->p = pat_below(&r, 4) ? hl_malloc(h, n) : hl_memalign(h, 64, n);
            CF_NONNULL(x->p);
            x->n = n;
            x->id = id++;
            pat_fill(x->p, n, x->id);
        } else if (pat_below(&r, 2)) {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            hl_free(h, x->p);
            x->p = NULL;
        } else {
            CF_ASSERT_PATTERN(x->p, x->n, x->id);
            n += 1;
            char *q = hl_realloc(h, x->p, n);
            CF_NONNULL(q);
            CF_ASSERT_PATTERN(q, cf_min_size(n, x->n), x->id);
            x->p = q;
            x->n = n;
            x->id = id++;
            pat_fill(q, n, x->id);
        }
        if (op % 3000 == 0)
            side_ownership(hs);
    }
    side_ownership(hs);
    for (int k = 0; k < SIDE_HEAPS; k++) {
        for (int s = 0; s < SIDE_SLOTS; s++)
            hl_free(hs[k], side[k][s].p);
        CF_UINT_EQ(cf_stats(hs[k]).live_blocks, 0);
        CF_CHECK(hs[k]);
        hl_heap_destroy(hs[k]);
    }
}

/* ---- the walk --------------------------------------------------------------------------------- */

static int stop_after_five(const struct hl_block_info *bi, void *arg)
{
    (void)bi;
    return ++*(int *)arg == 5 ? 7 : 0;
}

void cf_walk_visits_every_block(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_fixed_threshold(spec, 64 * KiB);
    hl_heap *h = cf_heap(&cfg);
    enum { N = 300 };
    char *v[N];
    size_t len[N];
    struct pat_rng r = {5};
    for (int i = 0; i < N; i++) {
        len[i] = i % 50 == 49 ? 100 * KiB : 1 + pat_below(&r, 5000);
        v[i] = i % 7 == 3 ? hl_memalign(h, 256, len[i]) : hl_malloc(h, len[i]);
        CF_NONNULL(v[i]);
    }
    for (int i = 0; i < N; i += 3) {
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    struct hl_stats st = cf_stats(h);
    struct cf_blocks *bl = cf_walk_all(h);
    CF_UINT_GT(bl->n, 0);

    uint64_t bytes[4] = {0}, count[4] = {0};
    const struct hl_block_info *prev = NULL;
    int seen_mapped = 0;
    for (size_t i = 0; i < bl->n; i++) {
        const struct hl_block_info *b = &bl->b[i];
        CF_UINT_LE(b->header_bytes, b->size);
        bytes[b->state] += b->size;
        count[b->state]++;
        if (b->state == HL_BLOCK_MAPPED) {
            seen_mapped = 1;
            continue;
        }
        CF_ASSERT_MSG(!seen_mapped, "heap block %p reported after the mapped blocks", b->addr);
        if (i == 0)
            CF_PTR_EQ(b->addr, hl_heap_base(h)); /* region source: no bytes lost to alignment */
        else
            CF_ASSERT_MSG((char *)prev->addr + prev->size == (char *)b->addr, "gap or overlap before %p", b->addr);
        if (cf_core_mechanism(pol) && !spec->cache) /* the cache defers coalescing */
            CF_ASSERT_MSG(!(prev && prev->state == HL_BLOCK_FREE && b->state == HL_BLOCK_FREE),
                          "two adjacent free blocks at %p", b->addr);
        prev = b;
    }
    CF_UINT_EQ(st.segments, 1);
    CF_UINT_EQ(bytes[HL_BLOCK_USED] + bytes[HL_BLOCK_FREE] + bytes[HL_BLOCK_META], st.extent_bytes);
    CF_UINT_EQ(bytes[HL_BLOCK_USED], st.live_bytes);
    CF_UINT_EQ(count[HL_BLOCK_USED], st.live_blocks);
    CF_UINT_EQ(bytes[HL_BLOCK_FREE], st.free_bytes);
    CF_UINT_EQ(bytes[HL_BLOCK_MAPPED], st.mapped_bytes);
    CF_UINT_EQ(count[HL_BLOCK_MAPPED], st.mapped_blocks);
    CF_UINT_GT(count[HL_BLOCK_MAPPED], 0);
    CF_UINT_GT(count[HL_BLOCK_FREE], 0);

    size_t live = 0;
    for (int i = 0; i < N; i++) {
        if (!v[i])
            continue;
        live++;
        enum hl_block_state want = len[i] >= 64 * KiB ? HL_BLOCK_MAPPED : HL_BLOCK_USED;
        CF_ASSERT_MSG(cf_holder(bl, v[i], len[i], want) != NULL, "no %s block holds %p (%zu bytes)",
                      want == HL_BLOCK_MAPPED ? "mapped" : "used", (void *)v[i], len[i]);
    }
    CF_UINT_EQ(count[HL_BLOCK_USED] + count[HL_BLOCK_MAPPED], live);

    int seen = 0;
    CF_INT_EQ(hl_walk(h, stop_after_five, &seen), 7);
    CF_INT_EQ(seen, 5);
    CF_CHECK(h);
    for (int i = 0; i < N; i++)
        hl_free(h, v[i]);
    hl_heap_destroy(h);
}
