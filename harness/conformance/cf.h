/*
 * cf.h - what the conformance checks share, inside harness/conformance:
 * the assertions, the page a check's child hands back to its parent, the
 * heaps and walks the checks build on, and the misuse checks' capture of
 * heaplab's diagnosis.  The public side is conformance.h.
 *
 * The files: cf.c (the helpers below), cf_<group>.c (the checks of
 * one group: contract, mmap, exhaustion, stress, misuse, sbrk, heaps,
 * threads), checks.c (the table that names them, in the order they run)
 * and run.c (the runner, hl_conformance_run).
 *
 * Inside a check the CF_ assertions stand in for Check's ck_assert family:
 * the first one that fails writes "file:line: what" to the page the child
 * shares with its parent and ends the child.
 */
#ifndef HEAPLAB_CF_H
#define HEAPLAB_CF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "pattern.h"

/* ---- assertions ------------------------------------------------------------- */

/* What a check's child hands back to its parent. */
struct cf_shared {
    int diagnosed;      /* a misuse check: heaplab printed the expected diagnosis, then aborted */
    char message[512];  /* why the check failed, "file:line: what" */
};

extern struct cf_shared *cf_out; /* the child's shared page; NULL outside a check */

/* Fail the check: "file:line: what" to cf_out (outside a check, to
 * stderr), then _exit(1). */
_Noreturn void cf_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define CF_FAIL(...) cf_fail(__FILE__, __LINE__, __VA_ARGS__)
#define CF_ASSERT_MSG(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            CF_FAIL(__VA_ARGS__);                                                                  \
    } while (0)
#define CF_ASSERT(cond) CF_ASSERT_MSG(cond, "assertion '%s' failed", #cond)

#define CF_CMP(type, fmt, a, op, b)                                                                \
    do {                                                                                           \
        type cf_a_ = (type)(a), cf_b_ = (type)(b);                                                 \
        if (!(cf_a_ op cf_b_))                                                                     \
            CF_FAIL("assertion '%s %s %s' failed: %s == " fmt ", %s == " fmt, #a, #op, #b, #a, cf_a_, #b, \
                    cf_b_);                                                                        \
    } while (0)
#define CF_UINT_EQ(a, b) CF_CMP(uintmax_t, "%ju", a, ==, b)
#define CF_UINT_GE(a, b) CF_CMP(uintmax_t, "%ju", a, >=, b)
#define CF_UINT_GT(a, b) CF_CMP(uintmax_t, "%ju", a, >, b)
#define CF_UINT_LE(a, b) CF_CMP(uintmax_t, "%ju", a, <=, b)
#define CF_INT_EQ(a, b) CF_CMP(intmax_t, "%jd", a, ==, b)
#define CF_INT_GE(a, b) CF_CMP(intmax_t, "%jd", a, >=, b)
#define CF_INT_GT(a, b) CF_CMP(intmax_t, "%jd", a, >, b)
#define CF_INT_LT(a, b) CF_CMP(intmax_t, "%jd", a, <, b)
typedef const void *cf_ptr;
#define CF_PTR_EQ(a, b) CF_CMP(cf_ptr, "%p", a, ==, b)
#define CF_PTR_NE(a, b) CF_CMP(cf_ptr, "%p", a, !=, b)
#define CF_NONNULL(p) CF_ASSERT_MSG((p) != NULL, "'%s' is NULL", #p)
#define CF_NULL(p)                                                                                 \
    do {                                                                                           \
        const void *cf_p_ = (p);                                                                   \
        CF_ASSERT_MSG(cf_p_ == NULL, "'%s' is %p, not NULL", #p, cf_p_);                           \
    } while (0)

/* expr (an allocation of about n bytes) fails with ENOMEM */
#define CF_EXPECT_ENOMEM(expr, n)                                                                  \
    do {                                                                                           \
        errno = 0;                                                                                 \
        void *r_ = (expr);                                                                         \
        CF_ASSERT_MSG(r_ == NULL, "%s (n = %#zx) returned %p", #expr, (size_t)(n), r_);            \
        CF_ASSERT_MSG(errno == ENOMEM, "%s (n = %#zx): errno %d, not ENOMEM", #expr, (size_t)(n),  \
                      errno);                                                                      \
    } while (0)

/* ---- per-block patterns (pattern.h) ---------------------------------------------- */

#define CF_ASSERT_PATTERN(p, n, id)                                                                \
    do {                                                                                           \
        long cf_bad_ = pat_verify((p), (n), (id));                                                 \
        CF_ASSERT_MSG(cf_bad_ < 0, "block %p (id %llu, %zu bytes): pattern broken at byte %ld",    \
                      (void *)(p), (unsigned long long)(id), (size_t)(n), cf_bad_);                \
    } while (0)

/* A block a check keeps track of: where, how long, whose pattern. */
struct cf_slot {
    char *p;
    size_t n;
    uint64_t id;
};

/* ---- heaps ------------------------------------------------------------------------ */

/* Whether the policy lays its blocks out with core's boundary-tag mechanism,
 * and so coalesces with both neighbours, packs to the heap's alignment and
 * trims the top as core does.  A policy with its own alloc hook (a buddy
 * system, a pool) keeps the contract but not those properties: the checks
 * of those properties apply to the others only. */
static inline int cf_core_mechanism(const struct hl_policy *p) { return p->alloc == NULL; }

/* A heap of configuration cfg; the check fails when there is none. */
hl_heap *cf_heap(const struct hl_config *cfg);

/* The default configuration under the spec's policy and parameters, for
 * checks to adjust. */
struct hl_config cf_config_of(const struct hl_policy_spec *spec);

/* A heap whose mmap threshold is fixed at `threshold` (0: no mmap path). */
struct hl_config cf_fixed_threshold(const struct hl_policy_spec *spec, size_t threshold);

/* A heap with the default configuration (region source). */
hl_heap *cf_default_heap(const struct hl_policy_spec *spec);

/* The checker, describing every violation on stderr. */
#define CF_CHECK(h)                                                                                \
    do {                                                                                           \
        int cf_v_ = hl_check((h), stderr);                                                         \
        CF_ASSERT_MSG(cf_v_ == 0, "hl_check (%s): %d violations", hl_heap_policy(h)->name, cf_v_); \
    } while (0)

static inline struct hl_stats cf_stats(hl_heap *h)
{
    struct hl_stats st;
    hl_stats(h, &st);
    return st;
}

/* Two stats snapshots are identical (nothing was allocated or freed). */
#define CF_STATS_EQ(a, b) CF_ASSERT_MSG(memcmp(&(a), &(b), sizeof(a)) == 0, "heap stats changed")

#define KiB ((size_t)1024)
#define MiB ((size_t)1024 * 1024)
#define THRESHOLD ((size_t)HL_DEFAULT_MMAP_THRESHOLD)

static inline size_t cf_min_size(size_t a, size_t b) { return a < b ? a : b; }

/* An address range [lo, hi). */
struct cf_range {
    char *lo, *hi;
};

static inline int cf_overlaps(struct cf_range a, struct cf_range b) { return a.lo < b.hi && b.lo < a.hi; }

/* ---- walk helpers ------------------------------------------------------------ */

enum { CF_MAX_BLOCKS = 8192 };

struct cf_blocks {
    size_t n;
    struct hl_block_info b[CF_MAX_BLOCKS];
};

/* Every block of h, in the walk's order, into one static cf_blocks: the
 * next call overwrites it. */
struct cf_blocks *cf_walk_all(hl_heap *h);

/* The walked block of state `st` that holds [p, p+n), or NULL. */
const struct hl_block_info *cf_holder(const struct cf_blocks *bl, const void *p, size_t n, enum hl_block_state st);

/* ---- misuse that must abort ------------------------------------------------------------- */

/*
 * From here on, heaplab must abort with `diagnosis` in what it writes on
 * stderr.  Only in the runner's child.  See cf.c.
 */
void cf_expect_abort(const char *diagnosis);

/* ---- the checks ---------------------------------------------------------------------------- */

/* Each returns only when it passed; checks.c lists them in the order they run. */

/* cf_contract.c */
void cf_malloc_zero_is_unique_and_free_null_is_noop(const struct hl_policy_spec *spec);
void cf_realloc_null_mallocs_and_realloc_zero_frees(const struct hl_policy_spec *spec);
void cf_realloc_keeps_content(const struct hl_policy_spec *spec);
void cf_realloc_creeps_into_a_free_neighbour(const struct hl_policy_spec *spec);
void cf_calloc_zeroes_memory_used_before(const struct hl_policy_spec *spec);
void cf_huge_requests_fail_with_enomem(const struct hl_policy_spec *spec);
void cf_results_are_aligned(const struct hl_policy_spec *spec);
void cf_posix_memalign_rejects_bad_alignments(const struct hl_policy_spec *spec);
void cf_memalign_every_power_of_two(const struct hl_policy_spec *spec);
void cf_usable_size_covers_the_request(const struct hl_policy_spec *spec);

/* cf_mmap.c */
void cf_mmap_threshold_boundary(const struct hl_policy_spec *spec);
void cf_explicit_threshold_stays_fixed(const struct hl_policy_spec *spec);
void cf_dynamic_threshold_rises_like_glibc(const struct hl_policy_spec *spec);
void cf_threshold_zero_means_no_mmap(const struct hl_policy_spec *spec);

/* cf_exhaustion.c */
void cf_small_region_runs_out_and_recovers(const struct hl_policy_spec *spec);
void cf_every_failed_request_fails_cleanly(const struct hl_policy_spec *spec);

/* cf_stress.c */
void cf_random_operations_keep_the_heap_consistent(const struct hl_policy_spec *spec);

/* cf_misuse.c */
void cf_double_free_aborts(const struct hl_policy_spec *spec);
void cf_free_of_interior_pointer_aborts(const struct hl_policy_spec *spec);
void cf_free_after_header_overrun_aborts(const struct hl_policy_spec *spec);
void cf_free_of_the_overrunning_block_aborts(const struct hl_policy_spec *spec);
void cf_double_free_after_coalescing_aborts(const struct hl_policy_spec *spec);
void cf_double_free_after_forward_coalescing_aborts(const struct hl_policy_spec *spec);
void cf_realloc_of_freed_pointer_aborts(const struct hl_policy_spec *spec);
void cf_double_free_of_a_mapped_block_aborts(const struct hl_policy_spec *spec);
void cf_double_free_at_the_mmap_threshold_aborts(const struct hl_policy_spec *spec);
void cf_realloc_of_a_freed_mapped_block_aborts(const struct hl_policy_spec *spec);
void cf_usable_size_of_a_freed_mapped_block_aborts(const struct hl_policy_spec *spec);
void cf_free_inside_a_mapped_block_aborts(const struct hl_policy_spec *spec);
void cf_free_of_a_small_address_aborts(const struct hl_policy_spec *spec);
void cf_free_after_an_unmapped_page_aborts(const struct hl_policy_spec *spec);
void cf_realloc_after_an_unmapped_page_aborts(const struct hl_policy_spec *spec);
void cf_free_outside_every_segment_aborts(const struct hl_policy_spec *spec);
void cf_free_of_a_forged_mapped_header_aborts(const struct hl_policy_spec *spec);
void cf_realloc_of_a_forged_mapped_header_aborts(const struct hl_policy_spec *spec);
void cf_write_into_a_freed_block_is_reported(const struct hl_policy_spec *spec);

/* cf_sbrk.c */
void cf_sbrk_heap_beside_libc_malloc(const struct hl_policy_spec *spec);

/* cf_heaps.c */
void cf_heaps_side_by_side_share_nothing(const struct hl_policy_spec *spec);
void cf_walk_visits_every_block(const struct hl_policy_spec *spec);

/* cf_threads.c */
void cf_locking_heap_survives_four_threads(const struct hl_policy_spec *spec);

#endif
