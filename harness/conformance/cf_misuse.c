/*
 * cf_misuse.c - misuse that must abort: double frees, pointers heaplab
 * never handed out and overwritten headers, each of which heaplab must
 * diagnose and abort on (cf_expect_abort, cf.c).
 */
#include <string.h>

#include "cf.h"

void cf_double_free_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, p);
    cf_expect_abort("free(): double free");
    hl_free(h, p);
    CF_FAIL("double free was not detected");
}

void cf_free_of_interior_pointer_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 256), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    /* zeros in front of the pointer: whatever the tag says, the USED bit is clear */
    memset(p, 0, 256);
    cf_expect_abort("heaplab: free(): ");
    hl_free(h, p + 32);
    CF_FAIL("free of a pointer into a block was not detected");
}

void cf_free_after_header_overrun_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    CF_PTR_EQ(b, a + hl_usable_size(h, a) + 8); /* b's header follows a's payload */
    /* a's owner writes 8 bytes too many: b's header becomes 0x62... (USED clear) */
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    cf_expect_abort("heaplab: free(): ");
    hl_free(h, b);
    CF_FAIL("free of a block with an overwritten header was not detected");
}

void cf_free_of_the_overrunning_block_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    CF_PTR_EQ(b, a + hl_usable_size(h, a) + 8);
    if (spec->cache && !cf_core_mechanism(spec->policy)) {
        /* the front cache takes a policy's block without looking past it
         * (core's blocks it checks): fill the bin, so that the free
         * reaches the policy */
        char *fill[HL_CACHE_MAX];
        for (unsigned i = 0; i < spec->cache; i++)
            CF_NONNULL(fill[i] = hl_malloc(h, 100));
        for (unsigned i = 0; i < spec->cache; i++)
            hl_free(h, fill[i]);
    }
    memset(a, 0x62, hl_usable_size(h, a) + 8);
    /* freeing a looks at the header after it to coalesce (a buddy system
     * at its buddy's, which is the next block here) */
    cf_expect_abort("heap corruption");
    hl_free(h, a);
    CF_FAIL("an overrun into the next header was not detected on free");
}

void cf_double_free_after_coalescing_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, a);
    hl_free(h, b); /* b merges into a: b's header is gone */
    CF_UINT_EQ(cf_stats(h).live_blocks, 1);
    CF_CHECK(h);
    cf_expect_abort("free(): double free");
    hl_free(h, b);
    CF_FAIL("double free of a coalesced block was not detected");
}

void cf_double_free_after_forward_coalescing_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *a = hl_malloc(h, 100), *b = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, b);
    hl_free(h, a); /* a absorbs b */
    CF_CHECK(h);
    cf_expect_abort("free(): double free");
    hl_free(h, b);
    CF_FAIL("double free of an absorbed block was not detected");
}

void cf_realloc_of_freed_pointer_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(guard);
    hl_free(h, p);
    cf_expect_abort("realloc(): pointer already freed");
    void *q = hl_realloc(h, p, 200);
    CF_FAIL("realloc of a freed pointer was not detected (returned %p)", q);
}
