/*
 * heaplab/heap.h - the heap manager (core layer).
 *
 * A heap takes memory from a memory source (the real program break, or an
 * emulated break inside an mmap-reserved region), cuts it into blocks, and
 * hands blocks to the program.  Which free block serves a request is decided
 * by a policy (heaplab/policy.h); everything else - the block header, split,
 * coalesce, growth, trim, in-place realloc, the large mmap path, locking,
 * stats and the checker - lives here.
 *
 * Requests at or above the mmap threshold get a mapping of their own and are
 * unmapped on free.  The default threshold (128 KiB) moves up the way glibc's
 * does when a mapped block is freed; a threshold set explicitly stays fixed.
 *
 * Errors: allocation failure returns NULL with errno = ENOMEM.  A pointer
 * that fails the checks on free/realloc/usable_size (double free, invalid
 * pointer, corrupted header) prints one line on stderr and aborts; these
 * checks stay on in release builds.  Nothing at a pointer is read before
 * it is known to lie in the heap's extent or to be a mapped block the heap
 * holds (it keeps a table of them), so a pointer into unmapped memory, or
 * a mapped block freed twice, is diagnosed like any other misuse.
 */
#ifndef HEAPLAB_HEAP_H
#define HEAPLAB_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hl_heap hl_heap;
struct hl_policy;

enum hl_source_kind {
    HL_SOURCE_REGION, /* emulated break inside an mmap(PROT_NONE) reservation */
    HL_SOURCE_SBRK    /* the process's real program break */
};

#define HL_DEFAULT_MMAP_THRESHOLD (128u * 1024)
#define HL_MAX_DYN_MMAP_THRESHOLD ((size_t)32 * 1024 * 1024) /* glibc, 64-bit */
#define HL_DEFAULT_TRIM_THRESHOLD (128u * 1024)
#define HL_DEFAULT_TOP_PAD (128u * 1024)
#define HL_DEFAULT_REGION_CAPACITY ((size_t)1 << 30)
#define HL_SBRK_MIN_GROWTH (64u * 1024)
#define HL_NO_TRIM SIZE_MAX

struct hl_config {
    const struct hl_policy *policy; /* required: the placement policy */
    const long *policy_params;      /* values for policy->params, NULL = defaults */
    enum hl_source_kind source;     /* where the heap's memory comes from */
    size_t region_capacity;         /* region source: bytes reserved (0 = default: 1 GiB, in
                                       smaller pieces when the address space limit refuses that) */
    size_t mmap_threshold;          /* requests >= this are mmapped; 0 = never */
    int mmap_dynamic;               /* 1: raise the threshold like glibc on free */
    size_t align;                   /* payload alignment: 8 or 16 */
    size_t grow_min;                /* least bytes per source growth, rounded up to align (0 = source's own) */
    size_t trim_threshold;          /* trim the top when this much is free; HL_NO_TRIM */
    size_t top_pad;                 /* free bytes a trim leaves at the top (glibc's M_TOP_PAD) */
    int lock;                       /* 1: every operation takes the heap's mutex */
    unsigned cache;                 /* front cache: freed blocks kept per small size (0 = off, up to
                                       HL_CACHE_MAX); see core/cache.c */
    uint64_t fail_at;               /* fault injection: the heap's fail_at-th request for memory from
                                       the system (source growth, a large block's mmap or mremap)
                                       fails with ENOMEM; 0 = none.  hl_config_default takes it from
                                       HEAPLAB_FAIL_AT */
};

#define HL_CACHE_MAX 64u

/* Fill *cfg with the defaults (glibc-like: 16-byte alignment, dynamic
 * 128 KiB mmap threshold, trim at 128 KiB keeping a 128 KiB top pad,
 * region source, locking on; fail_at from the environment variable
 * HEAPLAB_FAIL_AT, a decimal count, else 0).  The pad keeps a heap whose
 * live size swings around the threshold from giving memory back and
 * taking it again on every swing. */
void hl_config_default(struct hl_config *cfg, const struct hl_policy *policy);

/* Create a heap.  Returns NULL with errno set on failure (EINVAL for a bad
 * configuration, ENOMEM when the source cannot be set up, or the policy's
 * init error).  The heap's own state is mmapped, never malloc'ed, so a heap
 * can serve as the process's malloc. */
hl_heap *hl_heap_create(const struct hl_config *cfg);

/* Release everything the heap holds: mapped blocks, the region reservation;
 * an sbrk heap gives back what it can (only memory still at the break). */
void hl_heap_destroy(hl_heap *h);

/* Empty the heap as if just created - every block, mapped ones too, is
 * gone, counters start again - keeping the region's pages, as the malloc
 * lab's mem_reset_brk keeps its heap, and the mmap and trim thresholds the
 * heap has learned, as glibc keeps its own: a replay repeated on the same
 * heap starts where a long-running program's allocator would.  On the
 * sbrk source the break goes back as far as heaplab owns it.  0, or -1
 * with errno (the policy's init failed: the heap must be destroyed). */
int hl_heap_reset(hl_heap *h);

void *hl_malloc(hl_heap *h, size_t n);
void hl_free(hl_heap *h, void *p);
void *hl_calloc(hl_heap *h, size_t nmemb, size_t size);

/* The same operations without the heap's lock, for a caller that holds it
 * (hl_heap_lock) or owns a heap created with lock = 0: a single-threaded
 * replay calls these, as glibc's malloc takes no lock while its process
 * has one thread. */
void *hl_malloc_unlocked(hl_heap *h, size_t n);
void hl_free_unlocked(hl_heap *h, void *p);
void *hl_calloc_unlocked(hl_heap *h, size_t nmemb, size_t size);
void *hl_realloc_unlocked(hl_heap *h, void *p, size_t n);
void *hl_memalign_unlocked(hl_heap *h, size_t align, size_t n);
/* realloc(NULL, n) = malloc(n); realloc(p, 0) frees p and returns NULL
 * (glibc's and the malloc lab's behaviour).  On failure p is untouched. */
void *hl_realloc(hl_heap *h, void *p, size_t n);
/* align must be a power of two; others give NULL/EINVAL. */
void *hl_memalign(hl_heap *h, size_t align, size_t n);
/* 0, EINVAL (align not a power-of-two multiple of sizeof(void *)) or ENOMEM. */
int hl_posix_memalign(hl_heap *h, void **out, size_t align, size_t n);
/* Bytes the caller may use at p (>= the size asked for).  0 for NULL. */
size_t hl_usable_size(hl_heap *h, const void *p);

/* Lock/unlock a locking heap from outside, e.g. around fork(). */
void hl_heap_lock(hl_heap *h);
void hl_heap_unlock(hl_heap *h);
/* After fork() in the child: reinitialise the mutex (held by the parent's
 * thread that forked, whose copy is the child's only thread). */
void hl_heap_after_fork_child(hl_heap *h);

/*
 * Threads and the sbrk source.  The program break is one per process, not
 * one per heap: heaps on the sbrk source serialise their moves of it with
 * one process-wide lock (core/source.c), so any number of them can be used
 * from as many threads (each heap by one thread at a time, or locking).
 * That lock is held only while an operation moves the break, inside the
 * heap's own lock; a caller never takes it.
 *
 * fork needs nothing for it: pthread_atfork handlers that core registers
 * when the program starts (or when the first sbrk heap is made, if that
 * is earlier) take it before the fork, waiting for a break move under way
 * in another thread to end, and release it after, in the parent and the
 * child, so the child can move the break.  Handlers registered later run
 * before that prepare handler, so a program that locks its sbrk heaps
 * around fork (hl_heap_lock in its prepare handler, hl_heap_unlock in the
 * parent's, hl_heap_after_fork_child in the child's), registering them
 * once main has started or its first sbrk heap is made, takes the heaps'
 * locks first, as every operation does.
 *
 * Code outside heaplab that moves the break takes no lock of heaplab's.
 * Between two heap operations in the same thread it is noticed (a new
 * segment, no trim of memory above it); glibc's malloc or the program's
 * sbrk in another thread races with an sbrk heap as with any sbrk caller.
 */

/* ---- stats ------------------------------------------------------------ */

/* Each field defined once: the struct, the text dump and the CSV header are
 * generated from this list and cannot drift apart. */
#define HL_STATS_FIELDS(X)                                                                         \
    X(live_bytes, "bytes of heap blocks in use, headers included")                                 \
    X(live_blocks, "heap blocks in use")                                                           \
    X(mapped_bytes, "bytes of mappings serving large blocks (whole pages)")                        \
    X(mapped_blocks, "large blocks served by mmap")                                                \
    X(extent_bytes, "bytes taken from the memory source and not given back")                      \
    X(heap_bytes, "footprint: extent_bytes + mapped_bytes")                                        \
    X(overhead_bytes, "bytes of the extent used by core and policy bookkeeping, not blocks")       \
    X(free_bytes, "bytes of the extent neither in use nor overhead")                               \
    X(cached_bytes, "bytes of freed blocks held by the front cache (part of free_bytes)")         \
    X(peak_live_bytes, "maximum of live_bytes + mapped_bytes")                                     \
    X(peak_heap_bytes, "maximum of heap_bytes")                                                    \
    X(peak_extent_bytes, "maximum of extent_bytes")                                                \
    X(peak_mapped_bytes, "maximum of mapped_bytes")                                                \
    X(grow_calls, "memory source calls that moved the break up")                                   \
    X(shrink_calls, "memory source calls that moved the break down (trim)")                        \
    X(decommit_calls, "region source: madvise calls that gave trimmed pages back to the kernel")  \
    X(segments, "discontiguous pieces of the extent")                                              \
    X(mmap_calls, "mmap calls for large blocks")                                                   \
    X(munmap_calls, "munmap calls for large blocks")                                               \
    X(mremap_calls, "mremap calls for realloc of large blocks")                                    \
    X(mmap_threshold, "current mmap threshold in bytes (0: no mmap path)")                         \
    X(meta_bytes, "bytes mapped for the heap's own state, outside heap_bytes")

struct hl_stats {
#define HL_STATS_MEMBER(name, doc) uint64_t name;
    HL_STATS_FIELDS(HL_STATS_MEMBER)
#undef HL_STATS_MEMBER
};

void hl_stats(hl_heap *h, struct hl_stats *out);
/* Bytes of the heap's memory resident in RAM now, by mincore(2): the pages
 * the memory source still holds for the extent (a trimmed region keeps its
 * pages until the kernel reclaims them; see source.c) and the mapped
 * blocks.  A system call per mapping: for after a run, not per operation. */
uint64_t hl_resident_bytes(hl_heap *h);
/* "name value\n" per field. */
void hl_stats_print(const struct hl_stats *st, FILE *out);

/* ---- walk and check --------------------------------------------------- */

enum hl_block_state {
    HL_BLOCK_USED,   /* in use by the program */
    HL_BLOCK_FREE,   /* free, inside the extent */
    HL_BLOCK_MAPPED, /* in use, a large block with its own mapping */
    HL_BLOCK_META    /* bookkeeping inside the extent (segment header, epilogue, ...) */
};

struct hl_block_info {
    void *addr;          /* first byte of the block (its header) */
    size_t size;         /* bytes, headers included */
    size_t header_bytes; /* bytes of bookkeeping inside the block */
    enum hl_block_state state;
};

/* Return nonzero to stop the walk. */
typedef int (*hl_walk_fn)(const struct hl_block_info *blk, void *arg);

/* Visit every block in address order within each segment, segments in the
 * order they were created, then the mapped blocks.  A block in the front
 * cache is reported free: the program freed it.  Returns what the callback
 * returned to stop it, or 0. */
int hl_walk(hl_heap *h, hl_walk_fn fn, void *arg);

/* Walk every block and the policy's structures; count violated invariants.
 * Each violation is described on `report` when it is not NULL. */
int hl_check(hl_heap *h, FILE *report);

/* The policy this heap was created with. */
const struct hl_policy *hl_heap_policy(const hl_heap *h);
/* The largest request served from the extent.  A policy may cap its block
 * size (a buddy system's largest order): larger requests then take the
 * mmap path even when the threshold is 0. */
size_t hl_heap_max_request(const hl_heap *h);
/* Lowest address of the extent (region base, first sbrk segment), for
 * address offsets in heap maps. */
void *hl_heap_base(const hl_heap *h);

#ifdef __cplusplus
}
#endif
#endif
