/*
 * mm_samples.c - the timeline and the heap map (--timeline, --heapmap) of a
 * malloc-lab solution's checked pass (mm_internal.h).
 *
 * The solution's block layout is its own, so a heap map shows what the
 * harness knows: each live payload (offset from mem_heap_lo, the bytes
 * asked for) as used, and every other byte of [mem_heap_lo, mem_heap_hi]
 * as unknown: the solution's headers, footers, padding and free blocks,
 * which the harness cannot tell apart (calling them free would claim free
 * blocks a solution may not have).  The timeline gives what is known for certain - the live bytes and the heap's
 * size - and leaves free_bytes, largest_free, internal_frag and
 * external_frag empty (not available), like the at-peak result columns:
 * the gaps between payloads are headers, footers and padding as much as
 * free blocks, and a fragmentation figure made from them would call a
 * solution with no free block at all fragmented.
 *
 * The live payloads are kept by address in a table of the harness's own
 * (open addressing, linear probing), filled by the checked pass's wrappers.
 */
#include <errno.h>
#include <stdlib.h>

#include "malloclab/memlib.h"
#include "metrics.h"
#include "mm_internal.h"

static size_t live_slot_home(uintptr_t key)
{
    return (size_t)((key >> 3) * 0x9e3779b97f4a7c15u) & (mm_run.live_cap - 1);
}

static size_t live_slot(uintptr_t key)
{
    size_t i = live_slot_home(key);
    while (mm_run.live_at[i] && mm_run.live_at[i] != key)
        i = (i + 1) & (mm_run.live_cap - 1);
    return i;
}

void mm_live_add(void *p, uint64_t n)
{
    if (!mm_run.live_at || !p || n == 0)
        return;
    size_t i = live_slot((uintptr_t)p);
    if (!mm_run.live_at[i] && mm_run.live_n + 1 < mm_run.live_cap) {
        mm_run.live_at[i] = (uintptr_t)p;
        mm_run.live_size[i] = n;
        mm_run.live_n++;
        mm_run.live_bytes += n;
    }
}

void mm_live_del(void *p)
{
    if (!mm_run.live_at || !p)
        return;
    size_t i = live_slot((uintptr_t)p);
    if (!mm_run.live_at[i])
        return;
    mm_run.live_bytes -= mm_run.live_size[i];
    mm_run.live_n--;
    /* backward-shift deletion keeps every probe run unbroken */
    size_t j = i;
    for (;;) {
        mm_run.live_at[i] = 0;
        for (;;) {
            j = (j + 1) & (mm_run.live_cap - 1);
            if (!mm_run.live_at[j])
                return;
            size_t home = live_slot_home(mm_run.live_at[j]);
            if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        mm_run.live_at[i] = mm_run.live_at[j];
        mm_run.live_size[i] = mm_run.live_size[j];
        i = j;
    }
}

struct span {
    uintptr_t at;
    uint64_t size;
};

static int cmp_span(const void *a, const void *b)
{
    uintptr_t x = ((const struct span *)a)->at, y = ((const struct span *)b)->at;
    return (x > y) - (x < y);
}

static void map_row(uint64_t done, uint64_t off, uint64_t size, const char *state)
{
    hl_heapmap_row(mm_run.smp.heapmap, mm_run.r->trace, mm_run.r->policy, done, (long long)off, size, 0, state);
}

/* The heap-map rows after `done` operations: the payloads, and the gaps
 * between them as unknown. */
static void map_rows(uint64_t done)
{
    struct span *sp = malloc((mm_run.live_n ? mm_run.live_n : 1) * sizeof *sp);
    if (!sp) {
        mm_run.sample_error = ENOMEM;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < mm_run.live_cap; i++)
        if (mm_run.live_at[i])
            sp[k++] = (struct span){mm_run.live_at[i], mm_run.live_size[i]};
    qsort(sp, k, sizeof *sp, cmp_span);
    uintptr_t lo = (uintptr_t)mem_heap_lo();
    uint64_t heap = mem_heapsize(), at = 0;
    for (size_t i = 0; i <= k; i++) {
        uint64_t off = i < k ? sp[i].at - lo : heap;
        if (off > at) /* the gap before this payload (or the heap's end) */
            map_row(done, at, off - at, "unknown");
        if (i < k) {
            map_row(done, off, sp[i].size, "used");
            at = off + sp[i].size;
        }
    }
    free(sp);
}

/* One sample after `done` operations. */
static void sample(uint64_t done)
{
    mm_run.sampled = done + 1;
    if (mm_run.smp.heapmap)
        map_rows(done);
    /* the payloads are all that is known of the blocks: no free or fragmentation figure */
    if (mm_run.smp.timeline)
        hl_timeline_row(mm_run.smp.timeline, mm_run.r->trace, mm_run.r->policy, done, mm_run.live_bytes,
                        mem_heapsize(), HL_NA_U, HL_NA_U, HL_NA_F, HL_NA_F);
    /* flushed: a crash later keeps the rows so far */
    if ((mm_run.smp.timeline && fflush(mm_run.smp.timeline) != 0) ||
        (mm_run.smp.heapmap && fflush(mm_run.smp.heapmap) != 0))
        mm_run.sample_error = errno ? errno : EIO;
}

/* At the start of each operation: the sample after the ones before it. */
void mm_maybe_sample(void)
{
    if (mm_run.live_at && mm_run.sampled != mm_run.op + 1 && mm_run.op <= mm_run.t->nops &&
        hl_sample_due(&mm_run.smp, mm_run.op))
        sample(mm_run.op);
}

int mm_samples_begin(const struct hl_replay_config *cfg)
{
    if (!cfg->timeline && !cfg->heapmap)
        return 0;
    const struct hl_trace *t = mm_run.t;
    /* the peak of the live bytes, as the replay counts them */
    uint64_t peak_op, peak_live;
    if (hl_trace_peak_op(t, &peak_op, &peak_live) != 0)
        return -1;
    hl_sampler_init(&mm_run.smp, NULL, t, mm_run.r->policy, cfg->sample_every, peak_op, cfg->timeline, cfg->heapmap,
                    NULL);
    mm_run.live_cap = 16;
    while (mm_run.live_cap < 2 * (size_t)t->num_ids + 2)
        mm_run.live_cap *= 2;
    mm_run.live_at = calloc(mm_run.live_cap, sizeof *mm_run.live_at);
    mm_run.live_size = calloc(mm_run.live_cap, sizeof *mm_run.live_size);
    if (!mm_run.live_at || !mm_run.live_size)
        return -1;
    return 0;
}

void mm_samples_end(void)
{
    free(mm_run.live_at);
    free(mm_run.live_size);
    mm_run.live_at = NULL;
    mm_run.live_size = NULL;
}
