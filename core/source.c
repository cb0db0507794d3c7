/*
 * source.c - memory sources: where a heap's extent comes from.
 *
 * region: reserve `capacity` bytes of address space with
 *   mmap(PROT_NONE, MAP_NORESERVE) and move an emulated break inside it.
 *   Pages become read-write as the break approaches them and are
 *   decommitted (dropped and made PROT_NONE again) when it moves well back
 *   below them.  The break moves by exactly what the heap asks for, like
 *   the malloc lab's mem_sbrk, so the footprint measured is the heap's own;
 *   only the commit is coarser - 64 KiB steps, and decommit once a step of
 *   slack is exceeded - so an exact growth of a few bytes does not cost an
 *   mprotect, and a break swinging across a page boundary does not thrash.
 *   hl_source_rewind moves the break back to the start and keeps the pages
 *   that are still committed.
 *   Several region heaps live side by side in one process.
 *
 * sbrk: the process's real program break.  Other code (glibc's malloc in
 *   the same process) may move it too; the heap notices growth that is not
 *   contiguous with its last segment and starts a new segment, and it only
 *   gives memory back while the break is still where heaplab left it.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

/* commit and decommit granularity of the region source */
#define COMMIT_STEP ((size_t)64 * 1024)

static size_t page_up(size_t n, size_t page) { return (n + page - 1) & ~(page - 1); }

int hl_source_open(struct hl_source *s, enum hl_source_kind kind, size_t capacity)
{
    s->kind = kind;
    s->pagesize = (size_t)sysconf(_SC_PAGESIZE);
    s->base = s->brk = s->committed = s->limit = NULL;
    if (kind == HL_SOURCE_SBRK)
        return 0;
    if (kind != HL_SOURCE_REGION) {
        errno = EINVAL;
        return -1;
    }
    capacity = page_up(capacity ? capacity : HL_DEFAULT_REGION_CAPACITY, s->pagesize);
    void *p = mmap(NULL, capacity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return -1;
    }
    s->base = s->brk = s->committed = p;
    s->limit = s->base + capacity;
    return 0;
}

void hl_source_close(struct hl_source *s)
{
    if (s->kind == HL_SOURCE_REGION && s->base)
        munmap(s->base, (size_t)(s->limit - s->base));
    s->base = s->brk = s->committed = s->limit = NULL;
}

char *hl_source_end(struct hl_source *s)
{
    if (s->kind == HL_SOURCE_REGION)
        return s->brk;
    return sbrk(0);
}

void *hl_source_grow(struct hl_source *s, size_t n)
{
    if (s->kind == HL_SOURCE_SBRK) {
        if (n > (size_t)INTPTR_MAX) {
            errno = ENOMEM;
            return NULL;
        }
        void *p = sbrk((intptr_t)n);
        if (p == (void *)-1) {
            errno = ENOMEM;
            return NULL;
        }
        s->brk = (char *)p + n;
        return p;
    }
    if (n > (size_t)(s->limit - s->brk)) {
        errno = ENOMEM;
        return NULL;
    }
    char *old = s->brk;
    char *want = (char *)(uintptr_t)page_up((uintptr_t)(old + n), s->pagesize);
    if (want > s->committed) {
        want = s->base + page_up((size_t)(want - s->base), COMMIT_STEP);
        if (want > s->limit)
            want = s->limit;
        if (mprotect(s->committed, (size_t)(want - s->committed), PROT_READ | PROT_WRITE) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        s->committed = want;
    }
    s->brk = old + n;
    return old;
}

int hl_source_rewind(struct hl_source *s)
{
    if (s->kind != HL_SOURCE_REGION) {
        errno = EINVAL;
        return -1;
    }
    /* what is committed stays committed: a heap reused for another run
     * keeps the pages its own trimming left it, no more and no less */
    s->brk = s->base;
    return 0;
}

int hl_source_shrink(struct hl_source *s, char *end, size_t n)
{
    if (s->kind == HL_SOURCE_SBRK) {
        if (sbrk(0) != end || n > (size_t)INTPTR_MAX)
            return -1;
        if (sbrk(-(intptr_t)n) == (void *)-1)
            return -1;
        s->brk = end - n;
        return 0;
    }
    if (end != s->brk || n > (size_t)(s->brk - s->base))
        return -1;
    s->brk -= n;
    /* keep committed slack above the break: a step, or an eighth of what
     * stays, whichever is more */
    size_t used = page_up((size_t)(s->brk - s->base), COMMIT_STEP);
    size_t slack = used / 8 > COMMIT_STEP ? page_up(used / 8, COMMIT_STEP) : COMMIT_STEP;
    char *keep = s->base + used + slack;
    if (keep < s->committed) {
        /* a fixed PROT_NONE mapping drops the pages and their access in one call */
        void *p = mmap(keep, (size_t)(s->committed - keep), PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (p != MAP_FAILED)
            s->committed = keep;
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
