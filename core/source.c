/*
 * source.c - memory sources: where a heap's extent comes from.
 *
 * region: reserve `capacity` bytes of address space with
 *   mmap(PROT_NONE, MAP_NORESERVE) and move an emulated break inside it.
 *   Pages become read-write as the break approaches them (mprotect, in
 *   64 KiB steps, so an exact growth of a few bytes does not cost a system
 *   call) and stay read-write from then on.  The break moves by exactly
 *   what the heap asks for, like the malloc lab's mem_sbrk, so the
 *   footprint measured is the heap's own.
 *
 *   When the break moves well back (a trim), the pages above it are given
 *   back with madvise(MADV_FREE): lazy decommit.  The kernel takes them
 *   when it needs memory and not before; until then they stay mapped and
 *   resident, and a heap that grows into them again pays neither a system
 *   call nor a page fault.  The alternatives cost far more on a heap that
 *   breathes: dropping the pages (MADV_DONTNEED, or a PROT_NONE mapping
 *   over them, as this file did before) makes every page the heap grows
 *   back into a zero-fill fault: some 16,500 faults a timed pass of
 *   tlsf, rbtree and first fit over the classic traces, most of its time
 *   (docs/metrics.md).  What lazy decommit keeps is visible:
 *   hl_resident_bytes counts it, and heaplab replay prints it as the RSS
 *   after the run.  Kernels without MADV_FREE (before 4.5) get
 *   MADV_DONTNEED.
 *
 *   Even lazy, giving pages back costs: MADV_FREE moves each page to the
 *   kernel's lazy-free list, and a heap that trims 3 MiB and grows it back
 *   on every swing spends its time there.  So the slack a trim leaves above
 *   the break adapts, as glibc's trim threshold does when mapped blocks are
 *   freed: it starts at one 64 KiB step (or an eighth of what stays, if
 *   more), and each time the heap grows back into pages a trim gave back
 *   it grows by what that trim gave back (at least doubling), up to
 *   64 MiB, glibc's largest dynamic trim threshold; and a trim tells the
 *   kernel only once it gives back at least that slack, so a heap that
 *   shrinks in small steps is not one system call a step.  The heap's
 *   extent - its footprint, util and trim figures - moves exactly as
 *   before; only what the kernel is told, and when, changes.
 *
 *   hl_source_rewind moves the break back to the start and keeps every
 *   page.  Several region heaps live side by side in one process.
 *
 *   Under an address space limit (ulimit -v) that refuses the default
 *   1 GiB reservation, the region is smaller (region_reserve), and when it
 *   fills the source goes on in a new one (area_grow), the full one kept
 *   with its blocks: up to the default capacity in all, so a heap fails
 *   only when it truly reaches the limit.
 *
 * sbrk: the process's real program break.  Other code (glibc's malloc in
 *   the same process) may move it too; the heap notices growth that is not
 *   contiguous with its last segment and starts a new segment, and it only
 *   gives memory back while the break is still where heaplab left it.
 *
 *   The break is one per process, not one per heap, so every look at it
 *   that a move depends on, and the move, happen together under one
 *   process-wide lock: "is the break still at my segment's end?" and the
 *   sbrk(+n) that grows the segment in place (hl_source_extend), "does it
 *   still end at my top?" and the sbrk(-n) of a trim (hl_source_shrink),
 *   and the sbrk(0) a new segment's page-aligned end is computed from
 *   (hl_source_grow).  Without it two sbrk heaps in two threads corrupt
 *   each other: one trims between the other's look and its growth and
 *   gives back the memory the other has just taken, or both grow at once
 *   and get the same memory (glibc's sbrk reads its cached break, then
 *   calls brk: not atomic either).  The lock is taken only when the break
 *   moves, never on an allocation that does not move it; under a heap's
 *   own lock, never the other way round, and nothing else is taken while
 *   it is held.
 *
 *   When the break cannot move - a mapping placed right above it, the
 *   data limit - sbrk fails, and the source goes on in a region of its
 *   own (reserved then, as the region source's; its segments are cut
 *   from it from then on, grown in place and trimmed there), as glibc's
 *   malloc goes on with mmap when sbrk fails.  The segments already on
 *   the break stay where they are.
 *
 *   Code outside heaplab that moves the break takes no lock of ours.  In
 *   the same thread, or serialised with heaplab by other means, it is
 *   seen as above (a new segment; no trim of memory above it).  glibc's
 *   malloc in another thread is not serialised with heaplab, as it is not
 *   with any other sbrk caller: the process should leave the break to one
 *   allocator, or to heaplab's heaps.
 *
 *   fork: the break must not be moving while the process forks.  A fork
 *   while another thread is inside sbrk leaves the child a break it may
 *   not be able to move: beside a thread doing sbrk(+n), sbrk(-n) in a
 *   loop, three in ten of 2,000 children (Linux 6.18) found sbrk(+n)
 *   failing with ENOMEM, or the memory it gave faulting.  So
 *   pthread_atfork handlers take the lock before the fork, waiting for a
 *   move under way to end, and release it after, in the parent and in the
 *   child.  They are registered when the program starts (a constructor of
 *   the first priority) or, if that comes first, when the first sbrk heap
 *   is made.  Handlers registered later run before this prepare handler
 *   and after its parent and child handlers, so a program that locks its
 *   sbrk heaps around fork (hl_heap_lock in its prepare handler, as
 *   preload/malloc.c does, after making its heap) takes the heaps' locks
 *   before the break's, the order every heap operation takes them in.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

/* commit and decommit granularity of the region source */
#define COMMIT_STEP ((size_t)64 * 1024)
/* the most slack a trim learns to keep: glibc's largest dynamic trim
 * threshold (twice its 32 MiB largest dynamic mmap threshold) */
#define SLACK_MAX ((size_t)64 * 1024 * 1024)
/* the smallest reservation the region source falls back to under an
 * address space limit */
#define RESERVE_MIN ((size_t)1024 * 1024)

/*
 * Both sources say where their blocks lie (lo, hi, core.h), so that core
 * can range-check a pointer handed back to free before it reads the
 * header in front of it: the region, its read-write pages; sbrk, from its
 * lowest segment on the break to its highest one's end, plus the fallback
 * region.
 */

/* ---- the sbrk source's break lock ---------------------------------------- */

static pthread_mutex_t break_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t break_once = PTHREAD_ONCE_INIT;
static int break_atfork_rc;

void hl_source_break_lock(void) { pthread_mutex_lock(&break_mu); }
void hl_source_break_unlock(void) { pthread_mutex_unlock(&break_mu); }

/* In the child, the thread that holds the lock is the one that forked, the
 * child's only thread, which releases it. */
static void break_register_atfork(void)
{
    break_atfork_rc = pthread_atfork(hl_source_break_lock, hl_source_break_unlock, hl_source_break_unlock);
}

/* Before main, and before the constructors of the same object that have
 * no priority; or, when something allocates earlier (a preload library's
 * malloc called from another library's constructor), at the first sbrk
 * heap: see "fork" above. */
__attribute__((constructor(101))) static void break_register_early(void)
{
    pthread_once(&break_once, break_register_atfork);
}

/*
 * Reserve the region [base, limit): s->capacity bytes, exactly.  The
 * default (capacity 0, 1 GiB) is only a guess at what a heap may need, so
 * when the address space limit (ulimit -v, RLIMIT_AS) refuses it, a
 * smaller reservation does: halve until one fits, then keep half of what
 * fits, so that what the process maps next (large blocks, the caller's
 * own memory) still has room beside it.  A heap then fails only when what
 * it holds truly reaches the limit.  -1 with errno = ENOMEM when not even
 * the smallest fits.
 */
static int region_reserve(struct hl_source *s, size_t need, size_t budget)
{
    size_t want = align_up(s->capacity ? s->capacity : budget, s->pagesize);
    need = align_up(need, COMMIT_STEP);
    if (want < need)
        want = need;
    size_t least = want < RESERVE_MIN ? want : RESERVE_MIN;
    if (least < need)
        least = need;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void *p = mmap(NULL, want, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED && s->capacity) {
        errno = ENOMEM;
        return -1;
    }
    if (p == MAP_FAILED) {
        size_t len = want;
        do {
            len = align_up(len / 2, s->pagesize);
            if (len < least)
                len = least;
            p = mmap(NULL, len, PROT_NONE, flags, -1, 0);
        } while (p == MAP_FAILED && len > least);
        if (p == MAP_FAILED) {
            errno = ENOMEM;
            return -1;
        }
        if (len / 2 >= least) {
            munmap(p, len);
            want = align_up(len / 2, s->pagesize);
            p = mmap(NULL, want, PROT_NONE, flags, -1, 0);
            if (p == MAP_FAILED) {
                errno = ENOMEM;
                return -1;
            }
        } else {
            want = len;
        }
    }
    s->base = s->brk = s->committed = s->kept = p;
    s->slack = COMMIT_STEP;
    s->limit = s->base + want;
    return 0;
}

int hl_source_open(struct hl_source *s, enum hl_source_kind kind, size_t capacity)
{
    s->kind = kind;
    s->pagesize = (size_t)sysconf(_SC_PAGESIZE);
    s->base = s->brk = s->committed = s->kept = s->limit = NULL;
    s->lo = s->hi = NULL;
    s->fallback = 0;
    s->nold = 0;
    s->requests = 0;
    if (kind == HL_SOURCE_SBRK) {
        pthread_once(&break_once, break_register_atfork);
        if (break_atfork_rc != 0) { /* a fork could leave the break locked */
            errno = ENOMEM;
            return -1;
        }
        s->capacity = capacity;
        return 0;
    }
    if (kind != HL_SOURCE_REGION) {
        errno = EINVAL;
        return -1;
    }
    s->capacity = capacity;
    if (region_reserve(s, 0, HL_DEFAULT_REGION_CAPACITY) != 0)
        return -1;
    s->lo = s->hi = s->base;
    return 0;
}

void hl_source_close(struct hl_source *s)
{
    for (unsigned i = 0; i < s->nold; i++)
        munmap(s->old[i].base, (size_t)(s->old[i].limit - s->old[i].base));
    s->nold = 0;
    if (s->base)
        munmap(s->base, (size_t)(s->limit - s->base));
    s->base = s->brk = s->committed = s->kept = s->limit = NULL;
    s->lo = s->hi = NULL;
    s->fallback = 0;
}

/* The region's break moves up by n bytes (n within the reservation). */
static void *region_grow(struct hl_source *s, size_t n)
{
    if (n > (size_t)(s->limit - s->brk)) {
        errno = ENOMEM;
        return NULL;
    }
    char *old = s->brk;
    if (old + n > s->kept && s->kept < s->committed) {
        /* growing back into pages a trim gave back: it gave them back too
         * soon, so later trims keep those too */
        size_t learn = s->slack + (s->given > s->slack ? s->given : s->slack);
        s->slack = learn < SLACK_MAX ? learn : SLACK_MAX;
    }
    char *want = (char *)(uintptr_t)align_up((uintptr_t)(old + n), s->pagesize);
    if (want > s->committed) {
        want = s->base + align_up((size_t)(want - s->base), COMMIT_STEP);
        if (want > s->limit)
            want = s->limit;
        if (mprotect(s->committed, (size_t)(want - s->committed), PROT_READ | PROT_WRITE) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        s->committed = want;
        if (s->kind == HL_SOURCE_REGION)
            s->hi = want;
    }
    s->brk = old + n;
    if (s->brk > s->kept)
        s->kept = s->committed;
    return old;
}

/* Bytes of the default capacity the regions reserved so far leave. */
static size_t region_budget(const struct hl_source *s)
{
    size_t used = (size_t)(s->limit - s->base);
    for (unsigned i = 0; i < s->nold; i++)
        used += (size_t)(s->old[i].limit - s->old[i].base);
    return used < HL_DEFAULT_REGION_CAPACITY ? HL_DEFAULT_REGION_CAPACITY - used : 0;
}

/* Whether the region is full for n more bytes and the source may go on in
 * a new one: only with the default capacity (an explicit one is exact),
 * and within it - the regions together reserve at most what the first
 * would have, had the limit let it. */
static int region_may_move(const struct hl_source *s, size_t n)
{
    return n > (size_t)(s->limit - s->brk) && !s->capacity && s->nold < HL_OLD_AREAS &&
           n <= region_budget(s);
}

/* region_grow, or - the region full - the same in a new region reserved
 * for it, the full one kept (its blocks stay where they are): under an
 * address space limit the first reservation was cut to what the limit
 * allowed, and a heap must fail only when it truly reaches the limit (or
 * the default capacity). */
static void *area_grow(struct hl_source *s, size_t n)
{
    if (!region_may_move(s, n))
        return region_grow(s, n);
    struct hl_area full = {s->base, s->committed, s->kept, s->limit};
    if (region_reserve(s, n, region_budget(s)) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    s->old[s->nold++] = full;
    if (s->kind == HL_SOURCE_REGION)
        s->lo = s->hi = s->base;
    return region_grow(s, n);
}

int hl_source_holds_far(const struct hl_source *s, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (s->fallback && a - (uintptr_t)s->base < (uintptr_t)s->committed - (uintptr_t)s->base)
        return 1;
    for (unsigned i = 0; i < s->nold; i++)
        if (a - (uintptr_t)s->old[i].base < (uintptr_t)s->old[i].committed - (uintptr_t)s->old[i].base)
            return 1;
    return 0;
}

/* The process's break moves up by n bytes; the caller holds the break lock. */
static void *break_grow(struct hl_source *s, size_t n)
{
    if (n > (size_t)INTPTR_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = sbrk((intptr_t)n);
    if (p == (void *)-1) {
        errno = ENOMEM;
        return NULL;
    }
    if (!s->lo || (char *)p < s->lo)
        s->lo = p;
    if ((char *)p + n > s->hi)
        s->hi = (char *)p + n;
    return p;
}

/* The sbrk source's fallback: the break cannot move (a mapping right above
 * it, or the data limit), so the heap goes on in a region of its own, as
 * glibc's malloc goes on with mmap when sbrk fails.  New segments are cut
 * from it from then on; the segments on the break stay where they are. */
static int fall_back(struct hl_source *s)
{
    if (s->fallback)
        return 0;
    if (region_reserve(s, 0, HL_DEFAULT_REGION_CAPACITY) != 0)
        return -1;
    s->fallback = 1;
    return 0;
}

/* Whether `end` is the end of a segment in the sbrk source's fallback region. */
static int in_fallback(const struct hl_source *s, const char *end)
{
    return s->fallback && end > s->base && end <= s->limit;
}

/* How far the break must move from `brk` to grow by at least n bytes and
 * end on a multiple of end_align; 0 when that overflows. */
static size_t aligned_amount(const char *brk, size_t n, size_t end_align)
{
    uintptr_t b = (uintptr_t)brk;
    if (n > UINTPTR_MAX - b - end_align)
        return 0;
    return (size_t)(align_up(b + n, end_align) - b);
}

void *hl_source_grow(struct hl_source *s, size_t *n, size_t end_align)
{
    if (hl_source_fault(s)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t amount = 0;
    void *p = NULL;
    if (s->kind == HL_SOURCE_REGION) {
        amount = aligned_amount(s->brk, *n, end_align);
        p = amount ? area_grow(s, amount) : NULL;
    } else {
        hl_source_break_lock();
        if (!s->fallback) {
            amount = aligned_amount((char *)sbrk(0), *n, end_align);
            p = amount ? break_grow(s, amount) : NULL;
        }
        if (!p && fall_back(s) == 0) {
            amount = aligned_amount(s->brk, *n, end_align);
            p = amount ? area_grow(s, amount) : NULL;
        }
        hl_source_break_unlock();
    }
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    *n = amount;
    return p;
}

int hl_source_extend_slow(struct hl_source *s, char *end, size_t n)
{
    if (hl_source_fault(s)) {
        errno = ENOMEM;
        return -1;
    }
    if (s->kind == HL_SOURCE_REGION || in_fallback(s, end)) {
        if (end != s->brk || region_may_move(s, n))
            return 1; /* a new segment, in a new region if need be */
        return region_grow(s, n) ? 0 : -1;
    }
    hl_source_break_lock();
    int rc = 1;
    /* a break that cannot move is as good as one that moved elsewhere:
     * the caller starts a new segment, which hl_source_grow takes from
     * the fallback region */
    if (!s->fallback && sbrk(0) == end && break_grow(s, n))
        rc = 0;
    hl_source_break_unlock();
    return rc;
}

int hl_source_rewind(struct hl_source *s)
{
    if (s->kind != HL_SOURCE_REGION) {
        errno = EINVAL;
        return -1;
    }
    /* what is committed stays committed: a heap reused for another run
     * keeps the pages its own trimming left it, no more and no less; a
     * heap that went on in new regions goes back to its first */
    if (s->nold) {
        munmap(s->base, (size_t)(s->limit - s->base));
        for (unsigned i = 1; i < s->nold; i++)
            munmap(s->old[i].base, (size_t)(s->old[i].limit - s->old[i].base));
        s->base = s->old[0].base;
        s->committed = s->old[0].committed;
        s->kept = s->old[0].kept;
        s->limit = s->old[0].limit;
        s->nold = 0;
        s->lo = s->base;
        s->hi = s->committed;
    }
    s->brk = s->base;
    return 0;
}

int hl_source_shrink(struct hl_source *s, char *end, size_t n)
{
    if (s->kind == HL_SOURCE_SBRK && !in_fallback(s, end)) {
        if (n > (size_t)INTPTR_MAX)
            return -1;
        /* the look and the move together: between them another heap's
         * growth would start at `end`, and sbrk(-n) would give it back */
        hl_source_break_lock();
        int rc = sbrk(0) == end && sbrk(-(intptr_t)n) != (void *)-1 ? 0 : -1;
        if (rc == 0 && end == s->hi) {
            /* our highest segment, below which all of ours lie */
            s->hi = end - n;
            if (s->hi <= s->lo)
                s->lo = s->hi = NULL;
        }
        hl_source_break_unlock();
        return rc;
    }
    if (end != s->brk || n > (size_t)(s->brk - s->base))
        return -1;
    s->brk -= n;
    /* keep slack above the break: what the heap has learned to keep, or
     * an eighth of what stays, whichever is more */
    size_t used = align_up((size_t)(s->brk - s->base), COMMIT_STEP);
    size_t slack = used / 8 > s->slack ? align_up(used / 8, COMMIT_STEP) : s->slack;
    char *keep = s->base + used + slack;
    if (keep < s->kept && (size_t)(s->kept - keep) >= slack) { /* worth a system call */
        size_t len = (size_t)(s->kept - keep);
        if (madvise(keep, len, MADV_FREE) == 0 || madvise(keep, len, MADV_DONTNEED) == 0) {
            s->kept = keep;
            s->given = len;
            s->decommits++;
        }
    }
    return 0;
}

size_t hl_resident_range(const void *addr, size_t len, size_t page)
{
    unsigned char vec[1024];
    uintptr_t lo = (uintptr_t)addr & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)addr + len + page - 1) & ~(uintptr_t)(page - 1);
    size_t bytes = 0;
    while (lo < hi) {
        size_t pages = (hi - lo) / page;
        if (pages > sizeof vec)
            pages = sizeof vec;
        if (mincore((void *)lo, pages * page, vec) == 0)
            for (size_t i = 0; i < pages; i++)
                bytes += (vec[i] & 1) ? page : 0;
        lo += pages * page;
    }
    return bytes;
}
