/*
 * source.c - memory sources: where a heap's extent comes from.
 *
 * region: reserve `capacity` bytes of address space with
 *   mmap(PROT_NONE, MAP_NORESERVE) and move an emulated break inside it.
 *   Pages become read-write as the break passes them and are decommitted
 *   (dropped and made PROT_NONE again) when it moves back below them.  The
 *   break moves by exactly what the heap asks for, like the malloc lab's
 *   mem_sbrk, so the footprint measured is the heap's own.  Several region
 *   heaps live side by side in one process.
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
        if (mprotect(s->committed, (size_t)(want - s->committed), PROT_READ | PROT_WRITE) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        s->committed = want;
    }
    s->brk = old + n;
    return old;
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
    char *keep = (char *)(uintptr_t)page_up((uintptr_t)s->brk, s->pagesize);
    if (keep < s->committed) {
        /* A fixed PROT_NONE mapping drops the pages and their access in one call. */
        void *p = mmap(keep, (size_t)(s->committed - keep), PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (p != MAP_FAILED)
            s->committed = keep;
    }
    return 0;
}
