/*
 * core.h - core's internal structures, shared by the files in core/ only.
 */
#ifndef HEAPLAB_CORE_H
#define HEAPLAB_CORE_H

#include <pthread.h>
#include <unistd.h>

#include "heaplab/heap.h"
#include "heaplab/policy.h"

/* n rounded up to a multiple of a (a power of two). */
static inline size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

/* The heap's mutex, taken only when the heap was created with cfg.lock. */
#define LOCK(h)                                                                                    \
    do {                                                                                           \
        if ((h)->lock)                                                                             \
            pthread_mutex_lock(&(h)->mu);                                                          \
    } while (0)
#define UNLOCK(h)                                                                                  \
    do {                                                                                           \
        if ((h)->lock)                                                                             \
            pthread_mutex_unlock(&(h)->mu);                                                        \
    } while (0)

/* ---- memory sources ------------------------------------------------------ */

#define HL_OLD_AREAS 16u

struct hl_source {
    enum hl_source_kind kind;
    char *base;      /* region: reservation start */
    char *brk;       /* region: emulated break; sbrk: where our last growth ended */
    char *committed; /* region: end of the read-write pages */
    char *kept;      /* region: [kept, committed) was given back lazily (MADV_FREE) */
    size_t slack;    /* region: least committed bytes a trim leaves above the break */
    size_t given;    /* region: bytes the last decommit gave back */
    uint64_t decommits; /* region: madvise calls that gave pages back */
    char *limit;     /* region: end of the reservation */
    size_t capacity; /* region: the reservation asked for (0: the default) */
    size_t pagesize;
    /* Where pointer validation may read a header without a fault: every
     * block of the extent lies in [lo, hi) or, on the sbrk source after
     * the break could not move, in the fallback region [base, committed).
     * region: [base, committed); sbrk: from its lowest segment on the
     * break to its highest segment's end (what lies between is someone
     * else's, but below the break: mapped). */
    char *lo, *hi;
    int fallback;       /* sbrk: the break could not move; growth goes to a region in [base, limit) */
    /* Regions the source filled and left for a new one (only with the
     * default capacity, under an address space limit): their blocks stay. */
    struct hl_area {
        char *base, *committed, *kept, *limit;
    } old[HL_OLD_AREAS];
    unsigned nold;
    uint64_t fail_at;   /* fault injection: request number fail_at fails (0: none) */
    uint64_t requests;  /* requests for memory so far (counted only with fail_at) */
};

/* Fault injection (hl_config.fail_at): 1 when this request for memory from
 * the system must fail.  Every one counts - the source's growth, in place
 * or not, a large block's mmap and mremap, the mapped-block table's -
 * whether it would have made a system call or not, so that a test can
 * walk the failure over every path. */
static inline int hl_source_fault(struct hl_source *s)
{
    return s->fail_at && ++s->requests == s->fail_at;
}

/* Whether [addr, addr + 8) lies where the source's blocks are (see lo,
 * hi above): a header there can be read. */
int hl_source_holds_far(const struct hl_source *s, const void *addr);
static inline int hl_source_holds(const struct hl_source *s, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (__builtin_expect(a - (uintptr_t)s->lo < (uintptr_t)s->hi - (uintptr_t)s->lo, 1))
        return 1;
    return (s->fallback || s->nold) && hl_source_holds_far(s, addr);
}

/* capacity: the region's reservation (0: the default), at most; less when
 * the address space limit (RLIMIT_AS) leaves less. */
int hl_source_open(struct hl_source *s, enum hl_source_kind kind, size_t capacity);
void hl_source_close(struct hl_source *s);
/* The current break (region: emulated; sbrk: the process's).  On the sbrk
 * source a look only: another thread may move the break next, so
 * hl_source_extend and hl_source_shrink decide again on what they see
 * under the break lock. */
static inline char *hl_source_end(struct hl_source *s)
{
    return s->kind == HL_SOURCE_REGION || s->fallback ? s->brk : (char *)sbrk(0);
}
/* A new segment: move the break up by at least *n bytes, wherever it is,
 * so that it ends on a multiple of end_align (a power of two; 1: by
 * exactly *n); *n becomes the bytes moved.  The old break, or NULL with
 * errno = ENOMEM. */
void *hl_source_grow(struct hl_source *s, size_t *n, size_t end_align);
/* Grow the segment that ends at `end` in place: move the break up by n
 * bytes if it still ends there.  0 (the n bytes start at end), 1 when it
 * ends elsewhere (someone else moved it) or, on the sbrk source, cannot
 * move (the caller starts a new segment, which hl_source_grow takes from
 * the fallback region; nothing moved, errno untouched), or -1 with
 * errno = ENOMEM.  The region's common case - within the pages
 * it holds - is inline. */
int hl_source_extend_slow(struct hl_source *s, char *end, size_t n);
static inline int hl_source_extend(struct hl_source *s, char *end, size_t n)
{
    if (s->kind == HL_SOURCE_REGION && end == s->brk && n <= (size_t)(s->kept - end) && !s->fail_at) {
        s->brk = end + n;
        return 0;
    }
    return hl_source_extend_slow(s, end, n);
}
/* Region: break back to the start, keeping the pages still committed. */
int hl_source_rewind(struct hl_source *s);
/* Move the break down by n bytes if it still ends at `end`; 0 or -1. */
int hl_source_shrink(struct hl_source *s, char *end, size_t n);
/* The sbrk source's process-wide break lock (see source.c): held while the
 * calls above look at the program break and move it. */
void hl_source_break_lock(void);
void hl_source_break_unlock(void);
/* Resident bytes of the pages covering [addr, addr + len), by mincore. */
size_t hl_resident_range(const void *addr, size_t len, size_t page);

/* The same for the first HL_MIN_BLOCK bytes at b: a block's header and
 * node space, or a front cache link (which must not lead to the last word
 * before an unmapped page either). */
static inline int hl_source_holds_block(const struct hl_source *s, const void *b)
{
    uintptr_t a = (uintptr_t)b, lo = (uintptr_t)s->lo, hi = (uintptr_t)s->hi;
    if (__builtin_expect(a - lo < hi - lo && hi - a >= HL_MIN_BLOCK, 1))
        return 1;
    return (s->fallback || s->nold) && hl_source_holds_far(s, b) &&
           hl_source_holds_far(s, (const char *)b + HL_MIN_BLOCK - 8);
}

/* ---- segments ------------------------------------------------------------ */

/*
 * A segment is one contiguous piece of the extent.  The region source gives
 * one; the sbrk source starts another whenever someone else moved the break.
 *
 *   seg header (24 bytes) | blocks ... | epilogue (8 bytes, tagged: size 0, USED)
 *
 * The first block's header sits right after the segment header, so its
 * payload is aligned.  The epilogue stops walks and coalescing; when the
 * segment grows in place it becomes the header of the new space.  A raw
 * segment (hl_morecore) has no epilogue: its policy tiles it with blocks.
 */
struct hl_seg {
    struct hl_seg *next; /* next segment, in creation order */
    char *end;           /* one past the last byte */
    size_t raw;          /* 1: laid out by the policy (hl_morecore) */
};

#define HL_SEG_HDR 24u
#define HL_EPILOGUE 8u

static inline hl_block *hl_seg_first(const struct hl_seg *s)
{
    return (hl_block *)(void *)((char *)(uintptr_t)s + HL_SEG_HDR);
}

/* ---- footers -------------------------------------------------------------- */

/* A free block of more than the minimum size ends in a footer: its last
 * word holds its size, so the block after it can find its start. */
#define HL_FOOTER_BYTES 8u

/* The footer of free block [b, b + size). */
static inline size_t *hl_footer_of(const hl_block *b, size_t size)
{
    return (size_t *)(void *)((char *)(uintptr_t)b + size - HL_FOOTER_BYTES);
}

/* ---- large blocks --------------------------------------------------------- */

/* At the start of every large block's mapping.  The payload follows at an
 * aligned offset; the word before its header holds that offset. */
struct hl_mapped {
    struct hl_mapped *next, *prev; /* all mapped blocks, for walk and destroy */
    size_t len;                    /* mapping length */
    size_t off;                    /* payload - mapping start (also the word before the header) */
};

/* The mapped blocks the heap holds, by payload address (large.c): an
 * open-addressing hash set, so that a pointer outside the extent is
 * looked up before anything at it is read.  And the last few payloads
 * that were unmapped, to tell a double free from an invalid pointer. */
struct hl_maptab {
    struct hl_mapslot {
        uintptr_t pay;       /* the payload; 0: an empty slot */
        struct hl_mapped *map; /* its mapping */
    } *slot;         /* mmapped, cap entries */
    size_t cap;      /* a power of two, or 0 */
    size_t len;
    uintptr_t gone[16]; /* recently unmapped payloads, a ring */
    unsigned gone_at;
};

/* ---- the front cache (cache.c) -------------------------------------------- */

/* One bin per block size from HL_MIN_BLOCK in 8-byte steps: blocks of up to
 * 1048 bytes (requests up to 1040, or 1032 on a 16-aligned heap, as
 * glibc's tcache). */
#define HL_CACHE_CLASSES 128u

/* The bin of blocks of `size` bytes (HL_CACHE_CLASSES or more: none), and
 * the block size of bin i. */
static inline size_t hl_cache_bin_of(size_t size) { return (size - HL_MIN_BLOCK) >> 3; }
static inline size_t hl_cache_bin_size(size_t i) { return HL_MIN_BLOCK + 8 * i; }

/* A cached block keeps its header (in use, as far as the policy and the
 * neighbours' coalescing know); its payload holds the next block of the
 * bin and the heap's cache key, which marks it as cached. */
struct hl_cached {
    hl_block *next;
    hl_word key;
};

struct hl_cache_bin {
    hl_block *head;
    uint32_t count;
};

/* ---- the heap ------------------------------------------------------------- */

struct hl_heap {
    /* hot: read on every operation */
    hl_word cookie;
    void *st; /* policy state, right after this struct */
    void (*insert)(void *, hl_block *);
    void (*remove)(void *, hl_block *);
    void (*replace)(void *, hl_block *, hl_block *, size_t);
    hl_block *(*find)(void *, size_t);
    hl_block *(*alloc)(hl_heap *, void *, size_t);
    void (*release)(hl_heap *, void *, hl_block *);
    hl_block *(*resize)(hl_heap *, void *, hl_block *, size_t);
    size_t align;
    size_t mmap_threshold;
    size_t trim_threshold;
    size_t top_pad;   /* what a trim leaves free at the top */
    size_t max_block; /* larger blocks take the mmap path (policy's limit) */
    size_t high_below; /* placement (hl_heap_set_placement): smaller blocks carved from the high end */
    const hl_block *grown; /* the block realloc last grew (high_below on): small blocks below it go low */
    int lock;
    int mmap_dynamic;
    unsigned cache_max; /* front cache: blocks per bin, 0 = off */
    struct hl_placement place; /* the policy's placement options, all 0 unless it set them */
    hl_word cache_key;

    /* counters (the rest of struct hl_stats is derived) */
    uint64_t live_bytes, live_blocks, mapped_bytes, mapped_blocks;
    uint64_t extent_bytes, overhead_bytes;
    uint64_t peak_live_bytes, peak_heap_bytes, peak_extent_bytes, peak_mapped_bytes;
    uint64_t grow_calls, shrink_calls, nsegs;
    uint64_t mmap_calls, munmap_calls, mremap_calls;

    struct hl_seg *segs, *last_seg; /* creation order; last_seg is the newest */
    struct hl_mapped maps;          /* circular list head of mapped blocks */
    struct hl_maptab maptab;        /* the same blocks, by payload address */
    size_t grow_min;
    struct hl_source src;
    const struct hl_policy *pol;
    long params[HL_MAX_PARAMS];   /* the policy's parameters, for reset */
    struct hl_config cfg;         /* as created, for reset */
    size_t meta_len; /* bytes mapped for this struct and the policy state */
    pthread_mutex_t mu;
    struct hl_cache_bin bins[HL_CACHE_CLASSES];
};

static inline void hl_note_heap_peak(hl_heap *h)
{
    uint64_t heap = h->extent_bytes + h->mapped_bytes;
    if (heap > h->peak_heap_bytes)
        h->peak_heap_bytes = heap;
    if (h->extent_bytes > h->peak_extent_bytes)
        h->peak_extent_bytes = h->extent_bytes;
    if (h->mapped_bytes > h->peak_mapped_bytes)
        h->peak_mapped_bytes = h->mapped_bytes;
}

/* cache.c: the front cache.  get and put are the hot path, inline here. */
static inline struct hl_cached *hl_cached_of(const hl_block *b) { return hl_block_payload(b); }

/* Whether cached block b was written into since it was cached (a use
 * after free): the key gone, or a link that leads out of the heap. */
static inline int hl_cache_clobbered(const hl_heap *h, const hl_block *b)
{
    const struct hl_cached *c = hl_cached_of(b);
    return c->key != h->cache_key || (c->next && !hl_source_holds_block(&h->src, c->next));
}

/* The same, without a call: the key, and a link in the source's main
 * range.  A block it doubts stays for the miss path, which asks
 * hl_cache_clobbered (a link into another region is sound). */
static inline int hl_cache_looks_intact(const hl_heap *h, const hl_block *b)
{
    const struct hl_cached *c = hl_cached_of(b);
    uintptr_t a = (uintptr_t)c->next, lo = (uintptr_t)h->src.lo, hi = (uintptr_t)h->src.hi;
    return c->key == h->cache_key && (!a || (a - lo < hi - lo && hi - a >= HL_MIN_BLOCK));
}

/* The first block of bin, taken out of the cache. */
static inline hl_block *hl_cache_take(struct hl_cache_bin *bin)
{
    hl_block *b = bin->head;
    struct hl_cached *c = hl_cached_of(b);
    bin->head = c->next;
    bin->count--;
    c->key = 0;
    return b;
}

/* A cached block of exactly `size` bytes, taken out of the cache, or NULL:
 * none, or one in doubt, which the miss path (heap.c) reports or takes.
 * No call here: a hit saves no registers. */
static inline hl_block *hl_cache_get(hl_heap *h, size_t size)
{
    size_t i = hl_cache_bin_of(size);
    if (i >= HL_CACHE_CLASSES)
        return NULL;
    struct hl_cache_bin *bin = &h->bins[i];
    hl_block *b = bin->head;
    if (!b || !hl_cache_looks_intact(h, b))
        return NULL;
    return hl_cache_take(bin);
}

/* Keep freed block b (validated; no longer counted live) if its bin has
 * room: 1, or 0 to free it for real. */
static inline int hl_cache_put(hl_heap *h, hl_block *b)
{
    size_t size = hl_block_size(b);
    size_t i = hl_cache_bin_of(size);
    if (i >= HL_CACHE_CLASSES || h->bins[i].count >= h->cache_max)
        return 0;
    /* what coalescing would have looked at: an overrun into the next
     * header is reported now, not when the block leaves the cache (a
     * core block is always followed by a header, a policy's may not be) */
    const hl_block *n = hl_block_next(b);
    if (hl_block_kind(b) == HL_KIND_CORE && !hl_hdr_tag_ok(n, hl_hdr(n), h->cookie))
        hl_corrupt("heap corruption: bad header after the block", hl_block_payload(b));
    struct hl_cache_bin *bin = &h->bins[i];
    struct hl_cached *c = hl_cached_of(b);
    c->next = bin->head;
    c->key = h->cache_key;
    bin->head = b;
    bin->count++;
    return 1;
}

/* Whether in-use block b is in the cache: the key, confirmed by a search of
 * its bin (a program's data may hold the key by chance; glibc's tcache
 * checks the same way). */
int hl_cache_find(const hl_heap *h, const hl_block *b);
static inline int hl_cache_holds(const hl_heap *h, const hl_block *b)
{
    return hl_cached_of(b)->key == h->cache_key && hl_cache_find(h, b);
}
/* Free every cached block for real (coalescing, the policy's index). */
void hl_cache_flush(hl_heap *h);
/* Bytes and blocks the cache holds, counted from its bins (the hot path
 * keeps only each bin's count). */
uint64_t hl_cache_bytes(const hl_heap *h, uint64_t *blocks);
/* heap.c: a flushed block goes to the policy or core's mechanism. */
void hl_cache_release(hl_heap *h, hl_block *b);
/* Count what is wrong with the cache. */
void hl_cache_check(hl_heap *h, struct hl_check *c);

/* large.c */
void *hl_large_alloc(hl_heap *h, size_t n, size_t align);
/* The mapped block whose payload is p: 1 if the heap holds it, -1 if it
 * was unmapped lately (a double free), 0 if the heap knows nothing of it.
 * Reads nothing at p. */
int hl_large_lookup(const hl_heap *h, const void *p);
/* free, realloc, usable_size of mapped block b: each looks b up first and
 * aborts (hl_corrupt) when the heap does not hold it. */
void hl_large_free(hl_heap *h, hl_block *b);
/* Resize mapped block b to serve n bytes with mremap: its payload (moved
 * or not), or NULL with errno = ENOMEM when n is beyond any mapping, or
 * NULL with errno = EAGAIN when mremap failed and b is untouched.  EAGAIN
 * means "move it": hl_realloc then allocates a new block, copies and frees
 * b, as it does for a heap block that cannot be resized in place. */
void *hl_large_realloc(hl_heap *h, hl_block *b, size_t n);
size_t hl_large_usable(const hl_heap *h, const hl_block *b);
void hl_large_release_all(hl_heap *h);
/* Unmap the table too (the heap goes). */
void hl_large_fini(hl_heap *h);
struct hl_mapped *hl_large_map_of(const hl_block *b);

#endif
