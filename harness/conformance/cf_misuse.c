/*
 * cf_misuse.c - misuse that must abort: double frees, pointers heaplab
 * never handed out and overwritten headers, each of which heaplab must
 * diagnose and abort on (cf_expect_abort, cf.c).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cf.h"
#include "heaplab/policy.h"

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

/* ---- pointers outside the extent: nothing at them is read -------------------------------- */

/* The heap of the last freed_mapped_block. */
static hl_heap *cf_misuse_heap;

/* A mapped block (1 MiB, or exactly the threshold), freed: its mapping is
 * gone, so its header cannot be read; the heap's record of its mappings
 * tells. */
static char *freed_mapped_block(const struct hl_policy_spec *spec, size_t n)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, n), *guard = hl_malloc(h, 100);
    CF_NONNULL(p);
    CF_NONNULL(guard);
    CF_UINT_EQ(cf_stats(h).mapped_blocks, 1);
    hl_free(h, p);
    CF_UINT_EQ(cf_stats(h).mapped_blocks, 0);
    CF_CHECK(h);
    cf_misuse_heap = h;
    return p;
}


void cf_double_free_of_a_mapped_block_aborts(const struct hl_policy_spec *spec)
{
    char *p = freed_mapped_block(spec, 1 * MiB);
    cf_expect_abort("heaplab: free(): double free at 0x");
    hl_free(cf_misuse_heap, p);
    CF_FAIL("double free of a mapped block was not detected");
}

void cf_double_free_at_the_mmap_threshold_aborts(const struct hl_policy_spec *spec)
{
    char *p = freed_mapped_block(spec, HL_DEFAULT_MMAP_THRESHOLD);
    cf_expect_abort("heaplab: free(): double free at 0x");
    hl_free(cf_misuse_heap, p);
    CF_FAIL("double free of a block of exactly the mmap threshold was not detected");
}

void cf_realloc_of_a_freed_mapped_block_aborts(const struct hl_policy_spec *spec)
{
    char *p = freed_mapped_block(spec, 1 * MiB);
    cf_expect_abort("heaplab: realloc(): pointer already freed at 0x");
    void *q = hl_realloc(cf_misuse_heap, p, 2 * MiB);
    CF_FAIL("realloc of a freed mapped block was not detected (returned %p)", q);
}

void cf_usable_size_of_a_freed_mapped_block_aborts(const struct hl_policy_spec *spec)
{
    char *p = freed_mapped_block(spec, HL_DEFAULT_MMAP_THRESHOLD);
    cf_expect_abort("heaplab: malloc_usable_size(): pointer already freed at 0x");
    size_t n = hl_usable_size(cf_misuse_heap, p);
    CF_FAIL("malloc_usable_size of a freed mapped block was not detected (returned %zu)", n);
}

void cf_free_inside_a_mapped_block_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = hl_malloc(h, 1 * MiB);
    CF_NONNULL(p);
    cf_expect_abort("heaplab: free(): invalid pointer at 0x");
    hl_free(h, p + 64 * KiB);
    CF_FAIL("free of a pointer into a mapped block was not detected");
}

void cf_free_of_a_small_address_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    CF_NONNULL(hl_malloc(h, 100));
    cf_expect_abort("heaplab: free(): invalid pointer at 0x10\n");
    hl_free(h, (void *)16);
    CF_FAIL("free((void *)16) was not detected");
}

/* The start of a page whose previous page is not mapped: the header slot
 * in front of the pointer is on that page. */
static char *after_a_hole(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CF_ASSERT(m != MAP_FAILED);
    CF_INT_EQ(munmap(m, page), 0);
    return m + page;
}

void cf_free_after_an_unmapped_page_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    CF_NONNULL(hl_malloc(h, 100));
    char *p = after_a_hole();
    cf_expect_abort("heaplab: free(): invalid pointer at 0x");
    hl_free(h, p);
    CF_FAIL("free of a pointer after an unmapped page was not detected");
}

void cf_realloc_after_an_unmapped_page_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    CF_NONNULL(hl_malloc(h, 100));
    char *p = after_a_hole();
    cf_expect_abort("heaplab: realloc(): invalid pointer at 0x");
    void *q = hl_realloc(h, p, 100);
    CF_FAIL("realloc of a pointer after an unmapped page was not detected (returned %p)", q);
}

/* A pointer into memory of the process's that is no heap's, laid out as a
 * block in use of this heap would be - headers with the heap's own tags,
 * the block's and the next one's: only where it lies gives it away. */
void cf_free_outside_every_segment_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    CF_NONNULL(hl_malloc(h, 100));
    static _Alignas(64) char elsewhere[256];
    char *q = elsewhere + 64;
    hl_word cookie = hl_heap_cookie(h);
    *(hl_word *)(void *)(q - 8) = hl_hdr_make(q - 8, 64, HL_F_USED, HL_KIND_CORE, cookie);
    *(hl_word *)(void *)(q + 56) = hl_hdr_make(q + 56, 64, HL_F_USED, HL_KIND_CORE, cookie);
    cf_expect_abort("heaplab: free(): invalid pointer at 0x");
    hl_free(h, q);
    CF_FAIL("free of a pointer outside every segment was not detected");
}

/* A block in the extent whose header was rewritten to say "mapped", with
 * the heap's own tag: free and realloc take the mmap path, which looks
 * the block up in the heap's table of mappings before it reads the
 * offset word and the mapping's links. */
static char *forged_mapped_header(hl_heap *h)
{
    char *p = hl_malloc(h, 100), *guard = hl_malloc(h, 100);
    CF_NONNULL(p);
    CF_NONNULL(guard);
    memset(p - 8 - 8, 0x7b, 8); /* the offset word the mmap path would read */
    hl_word forged = hl_hdr_make(p - 8, 1 * MiB, HL_F_USED | HL_F_MAPPED, HL_KIND_CORE, hl_heap_cookie(h));
    *(hl_word *)(void *)(p - 8) = forged;
    return p;
}

void cf_free_of_a_forged_mapped_header_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = forged_mapped_header(h);
    cf_expect_abort("heaplab: free(): invalid pointer at 0x");
    hl_free(h, p);
    CF_FAIL("free of a block with a forged mapped header was not detected");
}

void cf_realloc_of_a_forged_mapped_header_aborts(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *p = forged_mapped_header(h);
    cf_expect_abort("heaplab: realloc(): invalid pointer at 0x");
    void *q = hl_realloc(h, p, 2 * MiB);
    CF_FAIL("realloc of a block with a forged mapped header was not detected (returned %p)", q);
}

/* ---- a write into a freed block ------------------------------------------------------------ */

/* A freed block's links (a list's, a tree's, the front cache's) are
 * overwritten, as a use after free would: the checker says so instead of
 * following them out of the heap. */
void cf_write_into_a_freed_block_is_reported(const struct hl_policy_spec *spec)
{
    hl_heap *h = cf_default_heap(spec);
    char *v[8];
    for (int i = 0; i < 8; i++)
        CF_NONNULL(v[i] = hl_malloc(h, 200));
    hl_free(h, v[2]);
    hl_free(h, v[5]);
    CF_CHECK(h);
    char *hole = after_a_hole() - sysconf(_SC_PAGESIZE) + 256; /* unmapped */
    char *wild[3] = {hole, hole, hole};
    memcpy(v[5], wild, sizeof wild);
    memcpy(v[2], wild, sizeof wild);
    FILE *report = tmpfile();
    CF_NONNULL(report);
    int bad = hl_check(h, report);
    CF_INT_GT(bad, 0);
    fclose(report);
}
