/*
 * cf_exhaustion.c - running out of memory: a small region fills, fails
 * cleanly with ENOMEM, and serves again once blocks are freed.
 */
#include <errno.h>
#include <stdint.h>

#include "cf.h"

void cf_small_region_runs_out_and_recovers(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_fixed_threshold(spec, 0);
    cfg.region_capacity = 1 * MiB;
    hl_heap *h = cf_heap(&cfg);
    enum { MAXN = 200 };
    char *v[MAXN];
    int n = 0;
    for (;;) {
        CF_INT_LT(n, MAXN);
        errno = 0;
        v[n] = hl_malloc(h, 10000);
        if (!v[n])
            break;
        pat_fill(v[n], 10000, (uint64_t)n);
        n++;
    }
    CF_INT_EQ(errno, ENOMEM);
    struct hl_stats full = cf_stats(h);
    if (cf_core_mechanism(pol))
        CF_INT_GE(n, 90); /* ~1 MiB / 10 KiB: the capacity was used, not a fraction of it */
    else
        CF_UINT_GE(full.extent_bytes, 1 * MiB / 2); /* grows in bigger steps, still used most */
    CF_UINT_LE(full.extent_bytes, 1 * MiB);

    /* still failing cleanly, and nothing changes (past a policy's block-size
     * cap a request would be mapped, so stay at or below it) */
    const size_t m = hl_heap_max_request(h) < 4 * MiB ? hl_heap_max_request(h) / 2 : 2 * MiB;
    CF_EXPECT_ENOMEM(hl_malloc(h, m), m);
    CF_EXPECT_ENOMEM(hl_calloc(h, 1, m), m);
    CF_EXPECT_ENOMEM(hl_memalign(h, 4096, m), m);
    CF_EXPECT_ENOMEM(hl_realloc(h, v[0], m), m);
    struct hl_stats again = cf_stats(h);
    CF_STATS_EQ(full, again);
    CF_CHECK(h);

    /* free every other block: smaller requests fit in the holes */
    for (int i = 0; i < n; i += 2) {
        CF_ASSERT_PATTERN(v[i], 10000, (uint64_t)i);
        hl_free(h, v[i]);
        v[i] = NULL;
    }
    for (int i = 0; i < n; i += 2) {
        v[i] = hl_malloc(h, 5000);
        CF_ASSERT_MSG(v[i] != NULL, "malloc(5000) into a 10000-byte hole failed");
        pat_fill(v[i], 5000, 100000 + (uint64_t)i);
    }
    CF_CHECK(h);
    for (int i = 0; i < n; i++) {
        CF_ASSERT_PATTERN(v[i], i % 2 ? 10000 : 5000, i % 2 ? (uint64_t)i : 100000 + (uint64_t)i);
        hl_free(h, v[i]);
    }
    CF_CHECK(h);
    CF_UINT_EQ(cf_stats(h).live_blocks, 0);
    if (!cf_core_mechanism(pol) || hl_heap_max_request(h) < 900 * KiB) {
        hl_heap_destroy(h);
        return;
    }
    /* everything coalesced: most of the capacity is one block again */
    char *big = hl_malloc(h, 900 * KiB);
    CF_NONNULL(big);
    pat_fill(big, 900 * KiB, 7);
    CF_CHECK(h);
    hl_free(h, big);
    CF_CHECK(h);
    hl_heap_destroy(h);
}

/* ---- fault injection: each request for memory in turn fails ------------------------------ */

enum {
    FI_MALLOC,
    FI_CALLOC,
    FI_REALLOC_GROW,
    FI_MEMALIGN,
    FI_LARGE,
    FI_LARGE_GROW,
    FI_TO_LARGE,
    FI_SMALL,
    FI_REFILL,
    FI_OPS
};
static const char *const fi_names[FI_OPS] = {
    "malloc",   "calloc", "realloc growing in place", "memalign", "a mapped block", "realloc of a mapped block",
    "realloc from the heap to a mapping", "a small malloc", "malloc after frees (with the front cache: its flush)"};

struct fi_run {
    hl_heap *h;
    void *p[FI_OPS];
    size_t n[FI_OPS];
    int failed; /* the op that returned NULL, or -1 */
};

/* One operation of the script: it either succeeds or fails cleanly - NULL
 * and ENOMEM, the block it would have replaced intact, the heap consistent
 * - and then, the failure behind it, succeeds when asked again. */
static void fi_op(struct fi_run *r, int op)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        void *q = NULL;
        size_t n = 0;
        errno = 0;
        switch (op) {
        case FI_MALLOC: q = hl_malloc(r->h, n = 100); break;
        case FI_CALLOC: q = hl_calloc(r->h, 10, 300), n = 3000; break;
        case FI_REALLOC_GROW: q = hl_realloc(r->h, r->p[FI_CALLOC], n = 20000); break;
        case FI_MEMALIGN: q = hl_memalign(r->h, 4096, n = 5000); break;
        case FI_LARGE: q = hl_malloc(r->h, n = 1 * MiB); break;
        case FI_LARGE_GROW: q = hl_realloc(r->h, r->p[FI_LARGE], n = 3 * MiB); break;
        case FI_TO_LARGE: q = hl_realloc(r->h, r->p[FI_MALLOC], n = 2 * MiB); break;
        case FI_SMALL: q = hl_malloc(r->h, n = 120); break;
        case FI_REFILL: q = hl_malloc(r->h, n = 50000); break;
        }
        if (q) {
            if (op == FI_REALLOC_GROW || op == FI_LARGE_GROW || op == FI_TO_LARGE) {
                int from = op == FI_REALLOC_GROW ? FI_CALLOC : op == FI_LARGE_GROW ? FI_LARGE : FI_MALLOC;
                CF_ASSERT_PATTERN(q, r->n[from], (uint64_t)from);
                r->p[from] = NULL;
            }
            pat_fill(q, n, (uint64_t)op);
            r->p[op] = q;
            r->n[op] = n;
            CF_CHECK(r->h);
            return;
        }
        CF_ASSERT_MSG(errno == ENOMEM, "%s failed with errno %d, not ENOMEM", fi_names[op], errno);
        CF_ASSERT_MSG(attempt == 0 && r->failed < 0, "%s failed again: only one request was to fail",
                      fi_names[op]);
        r->failed = op;
        CF_CHECK(r->h);
        for (int i = 0; i < FI_OPS; i++)
            if (r->p[i])
                CF_ASSERT_PATTERN(r->p[i], r->n[i], (uint64_t)i);
    }
}

void cf_every_failed_request_fails_cleanly(const struct hl_policy_spec *spec)
{
    int failed[FI_OPS] = {0};
    uint64_t last = 0;
    /* a request may fail without its operation failing (a realloc that
     * cannot grow in place moves), so no run tells the script is over:
     * walk well past its last request */
    for (uint64_t at = 1; at <= 150; at++) {
        struct hl_config cfg = cf_fixed_threshold(spec, 128 * KiB);
        cfg.fail_at = at;
        struct fi_run r = {cf_heap(&cfg), {0}, {0}, -1};
        for (int op = 0; op < FI_OPS; op++) {
            if (op == FI_REFILL) {
                /* free what is in the heap - the small block into the front
                 * cache, when there is one, which a failed request then
                 * flushes before it tries again - and ask for more */
                hl_free(r.h, r.p[FI_SMALL]);
                r.p[FI_SMALL] = NULL;
                hl_free(r.h, r.p[FI_MEMALIGN]);
                r.p[FI_MEMALIGN] = NULL;
                hl_free(r.h, r.p[FI_REALLOC_GROW]);
                r.p[FI_REALLOC_GROW] = NULL;
            }
            fi_op(&r, op);
        }
        /* nothing leaked: every block freed, the heap holds no block and no mapping */
        for (int i = 0; i < FI_OPS; i++)
            hl_free(r.h, r.p[i]);
        CF_CHECK(r.h);
        struct hl_stats st = cf_stats(r.h);
        CF_UINT_EQ(st.live_blocks, 0);
        CF_UINT_EQ(st.live_bytes, 0);
        CF_UINT_EQ(st.mapped_blocks, 0);
        CF_UINT_EQ(st.mapped_bytes, 0);
        CF_UINT_EQ(st.mmap_calls, st.munmap_calls);
        if (r.failed >= 0) { /* and it serves again, the failure behind it */
            char *again = hl_malloc(r.h, 1000), *big = hl_malloc(r.h, 1 * MiB);
            CF_NONNULL(again);
            CF_NONNULL(big);
            hl_free(r.h, again);
            hl_free(r.h, big);
            CF_CHECK(r.h);
        }
        hl_heap_destroy(r.h);
        if (r.failed >= 0) {
            failed[r.failed]++;
            last = at;
        }
    }
    CF_ASSERT_MSG(last > 0 && last < 100, "the last failure came at request %ju of 150",
                  (uintmax_t)last);
    /* the paths that always ask the system, whatever the policy */
    CF_ASSERT_MSG(failed[FI_MALLOC], "no injected failure reached the first malloc");
    CF_ASSERT_MSG(failed[FI_LARGE], "no injected failure reached the mmap of a large block");
    CF_ASSERT_MSG(failed[FI_TO_LARGE], "no injected failure reached a realloc to a mapping");
    /* a realloc that cannot grow in place - its mremap, or the growth of
     * the heap's top, failed - moves the block, and the move's own request
     * succeeds: one failed request never fails it (small_region_runs_out_
     * and_recovers sees it fail when the memory is truly gone) */
    CF_ASSERT_MSG(!failed[FI_LARGE_GROW], "the realloc of a large block failed for one failed request");
    if (cf_core_mechanism(spec->policy))
        CF_ASSERT_MSG(!failed[FI_REALLOC_GROW], "a realloc growing in place failed for one failed request");
    if (cf_core_mechanism(spec->policy) && !spec->cache)
        for (int i = 0; i < FI_OPS; i++) /* exact growth: every other step asks for memory (the small
                                             block may fit what memalign left free) */
            CF_ASSERT_MSG(failed[i] || i == FI_LARGE_GROW || i == FI_REALLOC_GROW || i == FI_SMALL,
                          "no injected failure reached %s", fi_names[i]);
}
