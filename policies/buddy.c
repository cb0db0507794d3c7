/*
 * buddy.c - the binary buddy system.
 *
 * Every block is 2^k bytes, header included, for min <= k <= max, and lies
 * at an offset that is a multiple of 2^k inside an *arena* of 2^max bytes.
 * Its buddy is the other half of the 2^(k+1) block the two were cut from:
 *
 *     buddy(b) = arena + ((b - arena) XOR 2^k)
 *
 * Allocation (Knuth, TAOCP vol. 1, 2.5, Algorithm R) rounds the block size
 * up to 2^k, takes the first block on the free list of the least order
 * j >= k that is not empty, and halves it j - k times, filing each upper
 * half on the list of its order.  Freeing (Algorithm S) merges the block
 * with its buddy for as long as the buddy is free and whole - its header
 * says free and 2^k - and files the result.  The method is Knowlton's
 * ("A fast storage allocator", CACM 8(10), 1965).  Both operations take
 * O(max - min) steps; a bitmap of the non-empty lists finds j in one.
 *
 * The price is internal fragmentation: a block is up to twice what was
 * asked for, and with the 8-byte header a request of exactly 2^k bytes
 * takes a 2^(k+1) block.  Core counts whole blocks as live, so the metrics
 * show the waste.  A block merges only with its buddy, never with its other
 * neighbour, so free space can also sit in adjacent free blocks that are
 * not buddies.  (SQLite's mem5.c quotes Robson's worst-case bound, JACM
 * 21(3), 1974, for its one fixed pool; no such bound is claimed here: this
 * heap does not fail when an arena is full, it grows by another.)
 *
 * LAYOUT.  The heap grows one arena at a time from hl_morecore.  Arenas that
 * follow each other in memory form a *run*; a table of runs sorted by
 * address finds a block's arena by binary search, O(log runs).  The region
 * source gives one run; the sbrk source starts another only when something
 * else moved the break between two growths.  A run starts at 8 mod 16, so
 * every payload is 16-byte aligned.  Every block carries core's header word
 * (kind BUDDY, size 2^k, USED when in use), so core validates every pointer
 * handed back and walks the heap; a free block's node space holds its list
 * links.  Headers of halves that were merged away stay where they were:
 * such a header is never consulted again (the header at a buddy's address
 * is always that of a real block of order <= k), and freeing the old
 * pointer a second time finds it free and aborts as a double free.
 *
 * PARAMETERS.  min = 5 (32 bytes: core's minimum block, a header and the
 * free-list links).  max = 18 (256 KiB): the least order whose block holds
 * every request below core's default mmap threshold of 128 KiB (131071
 * bytes + header round up to 2^18).  So by default the buddy serves exactly
 * the requests the other policies serve from their heaps, and a comparison
 * measures the policy, not the mmap path.  The cost is the growth step: the
 * footprint moves in whole arenas, at least 256 KiB for the smallest heap.
 * A smaller max shrinks that step and sends the larger requests to mmap,
 * where page rounding wastes less than power-of-two rounding (but each
 * costs a system call); a larger max makes both worse.  Blocks above 2^max
 * always take core's mmap path (hl_heap_limit_block).
 *
 * LIMITS.  The run table holds MAX_RUNS runs; once full, an arena that
 * cannot extend the newest run is retired (one RETIRED block, counted as
 * overhead, walked as bookkeeping) and the request fails with ENOMEM.
 * Free arenas are never given back: core has no way to shrink a raw
 * segment.
 */
#include <errno.h>
#include <stdint.h>

#include "heaplab/policy.h"

#define MIN_ORDER 5 /* 2^5 = HL_MIN_BLOCK */
#define MAX_ORDER 32
#define MAX_RUNS 256

enum { KIND_BUDDY = HL_KIND_POLICY, KIND_RETIRED = HL_KIND_POLICY + 1 };

struct link {
    struct link *next, *prev;
};

/* Arenas that follow each other in memory. */
struct run {
    char *start;   /* the first arena */
    size_t arenas; /* how many */
};

struct buddy {
    hl_word cookie;
    unsigned min, max;               /* block orders */
    uint64_t avail;                  /* bit k: list[k] is not empty */
    struct link list[MAX_ORDER + 1]; /* circular; the head is a sentinel */
    size_t count[MAX_ORDER + 1];     /* blocks on each list */
    size_t nruns, last;              /* last: the run that took the newest arena */
    struct run runs[MAX_RUNS];       /* sorted by address */
};

static inline size_t pow2(unsigned k) { return (size_t)1 << k; }
static inline unsigned log2_of(size_t pow) { return (unsigned)__builtin_ctzll((unsigned long long)pow); }
static inline hl_block *at(const void *p, size_t off) { return (hl_block *)(uintptr_t)((uintptr_t)p + off); }
static inline struct link *link_of(hl_block *b) { return hl_block_node(b); }
static inline hl_block *block_of(const struct link *n) { return (hl_block *)(uintptr_t)((uintptr_t)n - HL_HDR_BYTES); }

/* The order of the least block of at least `size` bytes. */
static unsigned order_for(const struct buddy *bd, size_t size)
{
    if (size <= pow2(bd->min))
        return bd->min;
    return 64u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
}

static inline void put_hdr(const struct buddy *bd, hl_block *b, unsigned k, hl_word flags, unsigned kind)
{
    *(hl_word *)(void *)b = hl_hdr_make(b, pow2(k), flags, kind, bd->cookie);
}

/* b's header says: a free buddy block of order k (tag, flags, kind, size). */
static inline int is_free_of(const struct buddy *bd, const hl_block *b, unsigned k)
{
    return hl_hdr(b) == hl_hdr_make(b, pow2(k), 0, KIND_BUDDY, bd->cookie);
}

/* The run holding address p, or NULL. */
static const struct run *run_of(const struct buddy *bd, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    size_t lo = 0, hi = bd->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a < (uintptr_t)bd->runs[mid].start)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo == 0)
        return NULL;
    const struct run *r = &bd->runs[lo - 1];
    return a - (uintptr_t)r->start < (r->arenas << bd->max) ? r : NULL;
}

/* ---- free lists ---------------------------------------------------------- */

static void file(struct buddy *bd, hl_block *b, unsigned k)
{
    struct link *n = link_of(b), *head = &bd->list[k];
    put_hdr(bd, b, k, 0, KIND_BUDDY);
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
    bd->count[k]++;
    bd->avail |= (uint64_t)1 << k;
}

static void unfile(struct buddy *bd, hl_block *b, unsigned k)
{
    struct link *n = link_of(b);
    if (n->next->prev != n || n->prev->next != n)
        hl_corrupt("buddy: corrupted free list", n);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    bd->count[k]--;
    if (bd->list[k].next == &bd->list[k])
        bd->avail &= ~((uint64_t)1 << k);
}

/* ---- growth --------------------------------------------------------------- */

/*
 * One more arena from the source, not filed.  It extends the run that took
 * the previous arena when it follows it, else starts a run; with the table
 * full, a free could not find its run again, so it is retired (see LIMITS).
 */
static hl_block *grow(hl_heap *h, struct buddy *bd)
{
    size_t m = pow2(bd->max);
    int contiguous;
    char *p = hl_morecore(h, m, &contiguous);
    if (!p)
        return NULL;
    struct run *r = bd->nruns ? &bd->runs[bd->last] : NULL;
    if (contiguous && r && p == r->start + (r->arenas << bd->max)) {
        r->arenas++;
    } else if (bd->nruns == MAX_RUNS) {
        put_hdr(bd, (hl_block *)(void *)p, bd->max, HL_F_USED, KIND_RETIRED);
        hl_account_overhead(h, (long)m);
        errno = ENOMEM;
        return NULL;
    } else {
        size_t i = bd->nruns;
        while (i > 0 && (uintptr_t)bd->runs[i - 1].start > (uintptr_t)p) {
            bd->runs[i] = bd->runs[i - 1];
            i--;
        }
        bd->runs[i].start = p;
        bd->runs[i].arenas = 1;
        bd->nruns++;
        bd->last = i;
    }
    return (hl_block *)(void *)p;
}

/* ---- the hooks ------------------------------------------------------------ */

static hl_block *bd_alloc(hl_heap *h, void *st, size_t size)
{
    struct buddy *bd = st;
    unsigned k = order_for(bd, size), j;
    if (k > bd->max) {
        errno = ENOMEM;
        return NULL;
    }
    hl_block *b;
    uint64_t fit = bd->avail >> k;
    if (fit) {
        j = k + (unsigned)__builtin_ctzll(fit);
        b = block_of(bd->list[j].next);
        if (!is_free_of(bd, b, j))
            hl_corrupt("malloc(): buddy: corrupted free list", hl_block_payload(b));
        unfile(bd, b, j);
    } else {
        if (!(b = grow(h, bd)))
            return NULL;
        j = bd->max;
    }
    while (j > k) {
        j--;
        file(bd, at(b, pow2(j)), j);
    }
    put_hdr(bd, b, k, HL_F_USED, KIND_BUDDY);
    return b;
}

/* The run of a block core handed back (tag and USED already checked). */
static const struct run *owner(const struct buddy *bd, const hl_block *b, const char *bad)
{
    size_t size = hl_block_size(b);
    const struct run *r = run_of(bd, b);
    if (!r || hl_block_kind(b) != KIND_BUDDY || (size & (size - 1)) || size < pow2(bd->min) ||
        size > pow2(bd->max) || (((uintptr_t)b - (uintptr_t)r->start) & (size - 1)))
        hl_corrupt(bad, hl_block_payload(b));
    return r;
}

static void bd_release(hl_heap *h, void *st, hl_block *b)
{
    struct buddy *bd = st;
    (void)h;
    const struct run *r = owner(bd, b, "free(): invalid pointer");
    unsigned k = log2_of(hl_block_size(b));
    size_t off = (size_t)((uintptr_t)b - (uintptr_t)r->start);
    for (; k < bd->max; k++) {
        hl_block *y = at(r->start, off ^ pow2(k));
        hl_word w = hl_hdr(y);
        /* the buddy's address always holds the header of a block of order <= k */
        if (!hl_hdr_tag_ok(y, w, bd->cookie) || hl_hdr_kind(w) != KIND_BUDDY ||
            (w & HL_SIZE_MASK) > pow2(k))
            hl_corrupt("free(): buddy: heap corruption next to the block", hl_block_payload(b));
        if (!is_free_of(bd, y, k))
            break;
        unfile(bd, y, k);
        /* the upper half's header is gone: a second free of it is a double free */
        hl_block *upper = at(r->start, off | pow2(k));
        *(hl_word *)(void *)upper = hl_hdr_dead(upper, bd->cookie);
        off &= ~pow2(k);
    }
    file(bd, at(r->start, off), k);
}

/*
 * realloc in place.  Shrinking splits off upper halves (their buddies are
 * the part kept, in use, so nothing merges).  Growing from order k to n
 * works while the block is the lower buddy at every order k..n-1 and each
 * of those buddies is free and whole; otherwise NULL and core moves it.
 */
static hl_block *bd_resize(hl_heap *h, void *st, hl_block *b, size_t size)
{
    struct buddy *bd = st;
    (void)h;
    const struct run *r = owner(bd, b, "realloc(): invalid pointer");
    unsigned k = log2_of(hl_block_size(b)), n = order_for(bd, size);
    if (n > bd->max)
        return NULL;
    if (n <= k) {
        while (k > n) {
            k--;
            file(bd, at(b, pow2(k)), k);
        }
        put_hdr(bd, b, n, HL_F_USED, KIND_BUDDY);
        return b;
    }
    size_t off = (size_t)((uintptr_t)b - (uintptr_t)r->start);
    if (off & (pow2(n) - 1))
        return NULL;
    for (unsigned o = k; o < n; o++)
        if (!is_free_of(bd, at(b, pow2(o)), o))
            return NULL;
    for (unsigned o = k; o < n; o++)
        unfile(bd, at(b, pow2(o)), o);
    put_hdr(bd, b, n, HL_F_USED, KIND_BUDDY);
    return b;
}

static int bd_walk(hl_heap *h, void *st, const hl_block *b, hl_walk_fn fn, void *arg)
{
    (void)h;
    (void)st;
    struct hl_block_info bi = {(void *)(uintptr_t)b, hl_block_size(b), HL_HDR_BYTES,
                               hl_block_used(b) ? HL_BLOCK_USED : HL_BLOCK_FREE};
    if (hl_block_kind(b) == KIND_RETIRED) {
        bi.header_bytes = bi.size;
        bi.state = HL_BLOCK_META;
    }
    return fn(&bi, arg);
}

static int bd_init(hl_heap *h, void *st, const long *params)
{
    struct buddy *bd = st;
    long min = params[0], max = params[1];
    if (min < MIN_ORDER || max > MAX_ORDER || min > max) {
        errno = EINVAL;
        return -1;
    }
    bd->cookie = hl_heap_cookie(h);
    bd->min = (unsigned)min;
    bd->max = (unsigned)max;
    for (unsigned k = 0; k <= MAX_ORDER; k++)
        bd->list[k].next = bd->list[k].prev = &bd->list[k];
    hl_heap_limit_block(h, pow2(bd->max));
    return 0;
}

/* ---- checking --------------------------------------------------------------- */

/* Walk one arena block by block; count its free blocks of each order. */
static void check_arena(const struct buddy *bd, struct hl_check *c, char *arena, size_t *nfree)
{
    size_t m = pow2(bd->max), off = 0;
    while (off < m) {
        hl_block *b = at(arena, off);
        hl_word w = hl_hdr(b);
        size_t size = (size_t)(w & HL_SIZE_MASK);
        if (!hl_hdr_tag_ok(b, w, bd->cookie)) {
            hl_check_fail(c, "buddy: block %p: header tag does not match (word %#llx)", (void *)b,
                          (unsigned long long)w);
            return;
        }
        if ((size & (size - 1)) || size < pow2(bd->min) || size > m - off) {
            hl_check_fail(c, "buddy: block %p: size %zu is not a power of two from 2^%u that fits its arena %p",
                          (void *)b, size, bd->min, (void *)arena);
            return;
        }
        unsigned kind = hl_hdr_kind(w);
        HL_CHECK(c, kind == KIND_BUDDY, "buddy: block %p has kind %u", (void *)b, kind);
        HL_CHECK(c, !(w & (HL_F_MAPPED | HL_F_PREV_FREE | HL_F_PREV_MIN)), "buddy: block %p: stray flag bits",
                 (void *)b);
        HL_CHECK(c, (off & (size - 1)) == 0, "buddy: block %p (%zu bytes) is not aligned to its size in arena %p",
                 (void *)b, size, (void *)arena);
        if (!(w & HL_F_USED)) {
            unsigned k = log2_of(size);
            nfree[k]++;
            if (k < bd->max && !(off & size))
                HL_CHECK(c, !is_free_of(bd, at(b, size), k), "buddy: free block %p and its buddy are both free",
                         (void *)b);
        }
        off += size;
    }
}

static void check_list(const struct buddy *bd, struct hl_check *c, unsigned k, size_t nfree)
{
    const struct link *head = &bd->list[k], *prev = head;
    size_t n = 0;
    for (const struct link *x = head->next; x != head; prev = x, x = x->next) {
        hl_block *b = block_of(x);
        const struct run *r = run_of(bd, b);
        if (!r || (((uintptr_t)b - (uintptr_t)r->start) & (pow2(k) - 1))) {
            hl_check_fail(c, "buddy: list %u: %p is not a block of that order in an arena", k, (void *)b);
            return;
        }
        if (!is_free_of(bd, b, k)) {
            hl_check_fail(c, "buddy: list %u: %p is not a free block of order %u", k, (void *)b, k);
            return;
        }
        HL_CHECK(c, x->prev == prev, "buddy: list %u: %p has a wrong prev link", k, (void *)b);
        if (++n > nfree) {
            hl_check_fail(c, "buddy: list %u: more members than free blocks of order %u (a cycle?)", k, k);
            return;
        }
    }
    HL_CHECK(c, head->prev == prev, "buddy: list %u: head's prev link is not the last member", k);
    HL_CHECK(c, n == bd->count[k], "buddy: list %u: %zu blocks linked, count says %zu", k, n, bd->count[k]);
    HL_CHECK(c, n == nfree, "buddy: list %u: %zu blocks linked, the arenas hold %zu free blocks of order %u", k, n,
             nfree, k);
    HL_CHECK(c, !!((bd->avail >> k) & 1) == (n > 0), "buddy: bitmap bit %u wrong", k);
}

static int bd_check(hl_heap *h, void *st, struct hl_check *c)
{
    struct buddy *bd = st;
    (void)h;
    size_t nfree[MAX_ORDER + 1] = {0};
    HL_CHECK(c, bd->nruns <= MAX_RUNS && (bd->nruns == 0 || bd->last < bd->nruns), "buddy: run table broken");
    for (size_t i = 0; i < bd->nruns && i < MAX_RUNS; i++) {
        const struct run *r = &bd->runs[i];
        HL_CHECK(c, ((uintptr_t)r->start & 15) == 8, "buddy: run %p: payloads would not be 16-byte aligned",
                 (void *)r->start);
        HL_CHECK(c, r->arenas > 0, "buddy: run %p is empty", (void *)r->start);
        if (i > 0 && (uintptr_t)bd->runs[i - 1].start + (bd->runs[i - 1].arenas << bd->max) >
                         (uintptr_t)r->start) {
            hl_check_fail(c, "buddy: runs %p and %p overlap or are out of order", (void *)bd->runs[i - 1].start,
                          (void *)r->start);
            continue;
        }
        for (size_t a = 0; a < r->arenas; a++)
            check_arena(bd, c, r->start + (a << bd->max), nfree);
    }
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        if (k >= bd->min && k <= bd->max) {
            check_list(bd, c, k, nfree[k]);
        } else {
            HL_CHECK(c, bd->list[k].next == &bd->list[k] && bd->count[k] == 0 && !((bd->avail >> k) & 1),
                     "buddy: list %u is outside the orders %u..%u but not empty", k, bd->min, bd->max);
        }
    }
    return c->violations;
}

/* ---- the table -------------------------------------------------------------- */

static const struct hl_param params[] = {
    {"min", 5, MIN_ORDER, MAX_ORDER, NULL, "least block order: 2^min bytes, header included"},
    {"max", 18, MIN_ORDER, MAX_ORDER, NULL, "largest block order = arena size 2^max; larger blocks are mmapped"},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const struct hl_policy buddy = {
    .abi = HL_POLICY_ABI,
    .name = "buddy",
    .summary = "binary buddy system: power-of-two blocks, split on alloc, merge with the buddy on free",
    .params = params,
    .state_size = sizeof(struct buddy),
    .init = bd_init,
    .alloc = bd_alloc,
    .release = bd_release,
    .resize = bd_resize,
    .walk = bd_walk,
    .check = bd_check,
};

const struct hl_policy *hl_policy_buddy(void) { return &buddy; }
