/*
 * cf_sbrk.c - the sbrk source beside glibc's malloc and the program's own
 * sbrk calls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cf.h"

/*
 * Runs in its own process (Check's fork mode), so the break games stay
 * here.  glibc's malloc below its mmap threshold moves the break too; the
 * test also moves it itself now and then (by an amount that is not a
 * multiple of 16, as a program calling sbrk may).  heaplab must start a new
 * segment exactly when someone else moved the break since its own last
 * growth, never otherwise, never hand out memory it does not own, and never
 * give back memory above or below its own when it trims.
 */
void cf_sbrk_heap_beside_libc_malloc(const struct hl_policy_spec *spec)
{
    const struct hl_policy *pol = spec->policy;
    struct hl_config cfg = cf_config_of(spec);
    cfg.source = HL_SOURCE_SBRK;
    cfg.mmap_threshold = 0; /* everything from the break */
    hl_heap *h = cf_heap(&cfg);

    enum { N = 48, GN = 60 * 1024, FN = 4100 };
    char *hp[N], *gp[N], *fp[N];
    size_t hn[N];
    struct cf_range foreign[2 * N];
    int nforeign = 0, moved_by_others = 0;
    char *heaplab_end = NULL; /* where heaplab's last growth left the break */
    uint64_t segs = 0;
    char *start_brk = sbrk(0);

    for (int i = 0; i < N; i++) {
        hn[i] = 16000 + 997 * (size_t)i;
        char *b0 = sbrk(0);
        hp[i] = hl_malloc(h, hn[i]);
        char *b1 = sbrk(0);
        CF_NONNULL(hp[i]);
        pat_fill(hp[i], hn[i], (uint64_t)i);
        struct hl_stats st = cf_stats(h);
        if (b1 != b0) {
            /* heaplab grew: a new segment iff the break was not where it left it */
            int foreign_move = heaplab_end != NULL && b0 != heaplab_end;
            moved_by_others += foreign_move;
            CF_ASSERT_MSG(st.segments == segs + (uint64_t)(foreign_move || heaplab_end == NULL),
                          "op %d: %llu segments, was %llu; break moved by others: %d", i,
                          (unsigned long long)st.segments, (unsigned long long)segs, foreign_move);
            heaplab_end = b1;
        } else {
            CF_UINT_EQ(st.segments, segs);
        }
        segs = st.segments;

        gp[i] = malloc(GN); /* below glibc's mmap threshold: from the break */
        CF_NONNULL(gp[i]);
        pat_fill(gp[i], GN, 1000 + (uint64_t)i);
        foreign[nforeign++] = (struct cf_range){gp[i], gp[i] + GN};
        fp[i] = NULL;
        if (i % 6 == 5) {
            fp[i] = sbrk(FN);
            CF_PTR_NE(fp[i], (void *)-1);
            pat_fill(fp[i], FN, 2000 + (uint64_t)i);
            foreign[nforeign++] = (struct cf_range){fp[i], fp[i] + FN};
        }
    }
    CF_INT_GT(moved_by_others, 0);
    CF_UINT_GT(segs, 1);

    /* nothing heaplab handed out overlaps anything it does not own */
    for (int i = 0; i < N; i++) {
        struct cf_range r = {hp[i], hp[i] + hn[i]};
        for (int k = 0; k < nforeign; k++)
            CF_ASSERT_MSG(!cf_overlaps(r, foreign[k]), "heaplab block %p overlaps foreign memory %p", (void *)hp[i],
                          (void *)foreign[k].lo);
    }
    struct cf_blocks *bl = cf_walk_all(h);
    for (int i = 0; i < N; i++)
        CF_NONNULL(cf_holder(bl, hp[i], hn[i], HL_BLOCK_USED));
    CF_CHECK(h);

    /* a last heaplab block at the very top, so there is something to trim */
    char *top = hl_malloc(h, 512 * KiB);
    CF_NONNULL(top);
    /* the end of the highest foreign memory taken from the break (under
     * a sanitizer glibc's malloc is replaced by one that maps its memory
     * elsewhere: only the test's own sbrk calls count then) */
    char *foreign_top = NULL;
    for (int k = 0; k < nforeign; k++)
        if (foreign[k].lo >= start_brk && foreign[k].hi <= (char *)sbrk(0) && foreign[k].hi > foreign_top)
            foreign_top = foreign[k].hi;
    CF_NONNULL(foreign_top);
    CF_ASSERT(top >= foreign_top);

    uint64_t shrinks = cf_stats(h).shrink_calls;
    hl_free(h, top);
    if (cf_core_mechanism(pol))
        CF_UINT_GT(cf_stats(h).shrink_calls, shrinks);
    for (int i = 0; i < N; i++) {
        CF_ASSERT_PATTERN(hp[i], hn[i], (uint64_t)i);
        hl_free(h, hp[i]);
        CF_ASSERT_MSG((char *)sbrk(0) >= foreign_top, "trim gave back memory above a foreign block");
    }
    CF_ASSERT((char *)sbrk(0) >= foreign_top);
    CF_CHECK(h);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);

    /* the foreign memory is intact and still ours to use */
    for (int i = 0; i < N; i++) {
        CF_ASSERT_PATTERN(gp[i], GN, 1000 + (uint64_t)i);
        if (fp[i])
            CF_ASSERT_PATTERN(fp[i], FN, 2000 + (uint64_t)i);
    }
    for (int i = 0; i < N; i++)
        free(gp[i]);
    hl_heap_destroy(h);
}
