/*
 * checks.c - what every policy must do, as one table of named checks that
 * run against any policy spec: the malloc contract (C11 7.22.3, POSIX
 * posix_memalign, glibc's realloc(p, 0) and malloc_usable_size), the mmap
 * path, running out of memory, misuse that must abort, the sbrk source
 * beside glibc's malloc, several heaps in one process, the heap walk and
 * the lock.
 *
 * The Check suite (tests/check_conformance.c) runs every check on every
 * built-in policy; `heaplab selftest -p POLICY` runs them on one policy,
 * a plugin as well as a built-in one.  Both go through hl_conformance_run
 * (run.c): each check in a forked child of its own, on heaps of its own,
 * so a policy that crashes fails that check and nothing else.
 *
 * A check of group G is written in cf_G.c and declared in cf.h; the table
 * below says the order the checks run in, and that order is what
 * `heaplab selftest` prints.
 */
#include <string.h>

#include "cf.h"
#include "conformance.h"

/* the check named fn is the function cf_fn, in cf_group.c */
#define CF_ENTRY(group, fn, must_abort, timeout) {#fn, #group, cf_##fn, must_abort, timeout},

static const struct hl_conformance_check checks[] = {
    CF_ENTRY(contract, malloc_zero_is_unique_and_free_null_is_noop, 0, 120)
    CF_ENTRY(contract, realloc_null_mallocs_and_realloc_zero_frees, 0, 120)
    CF_ENTRY(contract, realloc_keeps_content, 0, 120)
    CF_ENTRY(contract, realloc_creeps_into_a_free_neighbour, 0, 120)
    CF_ENTRY(contract, calloc_zeroes_memory_used_before, 0, 120)
    CF_ENTRY(contract, huge_requests_fail_with_enomem, 0, 120)
    CF_ENTRY(contract, results_are_aligned, 0, 120)
    CF_ENTRY(contract, posix_memalign_rejects_bad_alignments, 0, 120)
    CF_ENTRY(contract, memalign_every_power_of_two, 0, 120)
    CF_ENTRY(contract, usable_size_covers_the_request, 0, 120)
    CF_ENTRY(mmap, mmap_threshold_boundary, 0, 60)
    CF_ENTRY(mmap, explicit_threshold_stays_fixed, 0, 60)
    CF_ENTRY(mmap, dynamic_threshold_rises_like_glibc, 0, 60)
    CF_ENTRY(mmap, threshold_zero_means_no_mmap, 0, 60)
    CF_ENTRY(exhaustion, small_region_runs_out_and_recovers, 0, 60)
    CF_ENTRY(exhaustion, every_failed_request_fails_cleanly, 0, 120)
    CF_ENTRY(stress, random_operations_keep_the_heap_consistent, 0, 600)
    CF_ENTRY(misuse, double_free_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_interior_pointer_aborts, 1, 60)
    CF_ENTRY(misuse, free_after_header_overrun_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_the_overrunning_block_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_after_coalescing_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_after_forward_coalescing_aborts, 1, 60)
    CF_ENTRY(misuse, realloc_of_freed_pointer_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_of_a_mapped_block_aborts, 1, 60)
    CF_ENTRY(misuse, double_free_at_the_mmap_threshold_aborts, 1, 60)
    CF_ENTRY(misuse, realloc_of_a_freed_mapped_block_aborts, 1, 60)
    CF_ENTRY(misuse, usable_size_of_a_freed_mapped_block_aborts, 1, 60)
    CF_ENTRY(misuse, free_inside_a_mapped_block_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_a_small_address_aborts, 1, 60)
    CF_ENTRY(misuse, free_after_an_unmapped_page_aborts, 1, 60)
    CF_ENTRY(misuse, realloc_after_an_unmapped_page_aborts, 1, 60)
    CF_ENTRY(misuse, free_outside_every_segment_aborts, 1, 60)
    CF_ENTRY(misuse, free_of_a_forged_mapped_header_aborts, 1, 60)
    CF_ENTRY(misuse, realloc_of_a_forged_mapped_header_aborts, 1, 60)
    CF_ENTRY(misuse, write_into_a_freed_block_is_reported, 0, 60)
    CF_ENTRY(sbrk, sbrk_heap_beside_libc_malloc, 0, 120)
    CF_ENTRY(heaps, heaps_side_by_side_share_nothing, 0, 120)
    CF_ENTRY(heaps, walk_visits_every_block, 0, 120)
    CF_ENTRY(threads, locking_heap_survives_four_threads, 0, 300)
};

size_t hl_conformance_count(void) { return sizeof checks / sizeof checks[0]; }

const struct hl_conformance_check *hl_conformance_at(size_t i)
{
    return i < hl_conformance_count() ? &checks[i] : NULL;
}

const struct hl_conformance_check *hl_conformance_lookup(const char *name)
{
    for (size_t i = 0; i < hl_conformance_count(); i++)
        if (strcmp(checks[i].name, name) == 0)
            return &checks[i];
    return NULL;
}
