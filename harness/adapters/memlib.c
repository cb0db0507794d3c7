/*
 * memlib.c - the malloc lab's memory system (CS:APP memlib.c's interface,
 * include/malloclab/memlib.h), for solutions heaplab loads (-p mm:FILE).
 *
 * The lab models the heap as one range that only grows: mem_sbrk(incr)
 * moves its end up, and fails with ENOMEM for a negative incr or past
 * MAX_HEAP (20 MiB).  The lab takes that range from malloc; here it is an
 * mmap(PROT_NONE) reservation of the limit whose pages become read-write
 * as the break reaches them, in 64 KiB steps, as heaplab's region source
 * does - so a solution that writes well past the break it asked for faults,
 * and the heap is never in the way of the harness's own malloc.
 * mem_reset_brk keeps the pages: a timed pass starts warm, as with the lab.
 *
 * The state is per process: one solution at a time runs in a process
 * (each row in a forked child, or one after the other with --no-fork).
 * These functions are defined in the heaplab executable, which exports
 * them (linked with -rdynamic) to the solution it dlopens.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "malloclab.h"
#include "malloclab/memlib.h"

#define COMMIT_STEP ((size_t)64 * 1024)

static struct {
    char *start;      /* first byte of the heap; NULL before hl_memlib_open */
    char *brk;        /* one past the last byte */
    char *committed;  /* end of the read-write pages */
    char *limit;      /* start + the limit */
    size_t reserved;  /* bytes mapped at start */
    size_t pagesize;
    struct hl_memlib_stats st;
} mem;

int hl_memlib_open(size_t max_heap)
{
    hl_memlib_close();
    mem.pagesize = (size_t)sysconf(_SC_PAGESIZE);
    if (max_heap == 0)
        max_heap = HL_MM_DEFAULT_MAX_HEAP;
    size_t len = (max_heap + mem.pagesize - 1) & ~(mem.pagesize - 1);
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    mem.start = mem.brk = mem.committed = p;
    mem.limit = mem.start + max_heap;
    mem.reserved = len;
    memset(&mem.st, 0, sizeof mem.st);
    mem.st.limit = max_heap;
    return 0;
}

void hl_memlib_close(void)
{
    if (mem.start)
        munmap(mem.start, mem.reserved);
    mem.start = mem.brk = mem.committed = mem.limit = NULL;
    mem.reserved = 0;
}

void hl_memlib_stats(struct hl_memlib_stats *out) { *out = mem.st; }

uint64_t hl_memlib_resident(void)
{
    enum { CHUNK = 4096 };
    unsigned char vec[CHUNK]; /* one byte a page, a chunk of pages at a time: no allocation */
    uint64_t pages = 0;
    size_t total = mem.start ? (size_t)(mem.committed - mem.start) / mem.pagesize : 0;
    for (size_t at = 0; at < total; at += CHUNK) {
        size_t n = total - at < CHUNK ? total - at : CHUNK;
        if (mincore(mem.start + at * mem.pagesize, n * mem.pagesize, vec) != 0)
            return 0;
        for (size_t i = 0; i < n; i++)
            pages += vec[i] & 1;
    }
    return pages * mem.pagesize;
}

/* ---- the lab's interface ------------------------------------------------------ */

void mem_init(void)
{
    if (!mem.start)
        hl_memlib_open(0);
    mem.brk = mem.start;
}

void mem_deinit(void) {}

void *mem_sbrk(intptr_t incr)
{
    if (!mem.start && hl_memlib_open(0) != 0)
        return (void *)-1;
    if (incr < 0 || (uintptr_t)incr > (uintptr_t)(mem.limit - mem.brk)) {
        if (!mem.st.refused) {
            mem.st.refused = 1;
            mem.st.refused_incr = incr;
            mem.st.refused_at = (uint64_t)(mem.brk - mem.start);
        }
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = mem.brk, *end = old + incr;
    if (end > mem.committed) {
        size_t want = ((size_t)(end - mem.start) + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
        char *to = want < mem.reserved ? mem.start + want : mem.start + mem.reserved;
        if (mprotect(mem.committed, (size_t)(to - mem.committed), PROT_READ | PROT_WRITE) != 0) {
            errno = ENOMEM;
            return (void *)-1;
        }
        mem.committed = to;
    }
    mem.brk = end;
    if (incr > 0)
        mem.st.sbrk_calls++;
    if ((uint64_t)(end - mem.start) > mem.st.peak_heap)
        mem.st.peak_heap = (uint64_t)(end - mem.start);
    return old;
}

void mem_reset_brk(void) { mem.brk = mem.start; }

void *mem_heap_lo(void) { return mem.start; }

void *mem_heap_hi(void) { return mem.start ? mem.brk - 1 : NULL; }

size_t mem_heapsize(void) { return (size_t)(mem.brk - mem.start); }

size_t mem_pagesize(void) { return (size_t)sysconf(_SC_PAGESIZE); }

void *mem_memset(void *dest, int c, size_t n) { return memset(dest, c, n); }

void *mem_memcpy(void *dest, const void *src, size_t n) { return memcpy(dest, src, n); }
