/*
 * pool.c - simple segregated storage: the textbook "memory pool".
 *
 * Every request up to the largest size class is rounded up to a class, and
 * each class has its own free list of equal slots.  A slot is never split,
 * never coalesced and never handed to another class; an empty class list
 * is refilled with a new *run* of slots carved from the heap (Wilson et al.,
 * "Dynamic Storage Allocation: A Survey and Critical Review", 1995, section
 * 3.6, "simple segregated storage").  Allocation and free are a table
 * lookup and a push or pop on a LIFO list: O(1), with no search at all.
 *
 * The price is fragmentation of both kinds, and the metrics show both:
 * internal - a slot is live in full, so rounding 33 bytes up to a 64-byte
 * slot counts 64 live bytes (Randell, CACM 1969, found rounding up costs
 * more than it saves); external - free slots of one class are free bytes
 * that no request of another class can use.  Johnstone and Wilson ("The
 * Memory Fragmentation Problem: Solved?", ISMM 1998) measured simple
 * segregated storage, with both class sets offered here, among the worst
 * policies for fragmentation on real programs.
 *
 * SIZE CLASSES (slot bytes, the 8-byte header included; all multiples of 16,
 * so every payload is 16-aligned):
 *   classes=pow2      32, 64, 128, 256, ...                 waste < 1/2
 *   classes=pow2x1.5  32, 48, 64, 96, 128, 192, 256, ...    waste < 1/3
 * up to the largest class not above `max`.  A class is found with one load
 * from a table indexed by size / 16.
 *
 * A RUN is one block of core's general path (hl_block_alloc), re-kinded:
 *
 *   | hdr: RUN, USED | struct run (24 B) | slot | slot | ... | slot | tail |
 *   '---------- 32 bytes: META --------'  <---- nslots x class size ---->
 *
 * Each slot starts with a core header word of kind SLOT (size = class size,
 * USED or not, tagged with the heap cookie), so core validates every pointer
 * and a second free of a slot aborts.  A free slot's next link is in its
 * node space.  The tail is what core handed out beyond the request (it does
 * not split off less than a minimum block): 0 to 24 bytes, starting with a
 * tagged sentinel word.  So every slot is followed by a tagged word - the
 * next slot, the sentinel, or the next block - and free checks it, the way
 * core does when it coalesces: an overrun into the next header aborts on
 * the free of the block that overran.  The 32 bytes of run header and the
 * tail are accounted as overhead and walked as META; slots are walked as
 * USED or FREE, so free_bytes is exactly the free slots plus the general
 * path's free blocks.
 *
 * A run holds `run_pages` pages' worth of slots, and never fewer than
 * MIN_RUN_SLOTS: a large class gets a longer run, so the general-path
 * search that fetches a run is paid at most once per 8 slots.  Runs are
 * never given back (classic simple segregated storage): memory once used
 * for a class stays with it.
 *
 * THE GENERAL PATH.  Requests above the largest class are core's blocks
 * (kind 0) on its boundary-tag path, with their free blocks in an
 * address-ordered first-fit list (freelist.h); runs come from there too.
 * release and resize tell the two paths apart by the header's kind.
 *
 * Defaults: pow2 classes (the textbook set) up to 4096 bytes, runs of one
 * page.  Why 4096 and not the 1 KiB where small-object allocators often
 * stop: in the four real-program traces of the CS:APP malloc lab (amptjp,
 * cccp, cp-decl, expr) about three requests in four are between 1 and
 * 4 KiB.  With max=1024 they all take the first-fit general path, whose
 * search is O(free blocks); with max=4096 they are slots, and replays of
 * those traces on a heap whose memory is already committed run over ten
 * times faster, for at most two points of peak utilization.  The price is
 * a 32 KiB first run for each of the 1, 2 and 4 KiB classes a program
 * touches.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "freelist.h"

enum { KIND_RUN = HL_KIND_POLICY, KIND_SLOT = HL_KIND_POLICY + 1 };

#define MAX_SLOT 65536u      /* largest class the `max` parameter allows */
#define MAX_CLASSES 24       /* pow2x1.5 from 32 to 65536 makes 23 */
#define MIN_RUN_SLOTS 8u     /* slots in a run, at least */
#define RUN_META 32u         /* run block header word + struct run */

/* Inside a run block, after its header word. */
struct run {
    struct run *next; /* the previous run of the same class */
    uint32_t cls;     /* class index */
    uint32_t nslots;  /* slots in this run */
    hl_word seal;     /* run_seal(): a stray write over the run header shows */
};

_Static_assert(sizeof(struct run) + HL_HDR_BYTES == RUN_META, "slots must start 32 bytes into a run");

struct pool_class {
    hl_block *free;     /* free slots, LIFO, linked through their node space */
    size_t size;        /* slot bytes, header included */
    size_t nslots;      /* slots per new run */
    struct run *runs;   /* every run of this class, newest first */
};

struct pool {
    hl_word cookie;
    size_t max_slot; /* size of the largest class */
    unsigned nclasses;
    struct pool_class cls[MAX_CLASSES];
    struct hl_freelist fl;     /* free blocks of the general path */
    const char *lo, *hi;       /* lowest run, end of the highest run: for check */
    uint8_t class_of[MAX_SLOT / 16 + 1]; /* (size + 15) / 16 -> class index */
};

static const char *const class_sets[] = {"pow2", "pow2x1.5", NULL};

static const struct hl_param pool_params[] = {
    {"classes", 0, 0, 1, class_sets, "slot sizes: powers of two, or also their 1.5 multiples"},
    {"max", 4096, 32, MAX_SLOT, NULL, "largest slot in bytes (header included); larger requests take the general path"},
    {"run_pages", 1, 1, 64, NULL, "pages of slots per run (a run holds at least 8 slots)"},
    {NULL, 0, 0, 0, NULL, NULL},
};

static inline hl_block **slot_link(hl_block *s) { return hl_block_node(s); }
static inline struct run *run_of(const hl_block *b) { return hl_block_payload(b); }
static inline hl_block *run_slot(const hl_block *b, size_t i, size_t size)
{
    return (hl_block *)(void *)((char *)(uintptr_t)b + RUN_META + i * size);
}
static inline hl_word *word(hl_block *b) { return (hl_word *)(void *)b; }

static hl_word run_seal(const struct run *r, hl_word cookie)
{
    hl_word x = (hl_word)(uintptr_t)r ^ ((hl_word)r->cls << 32 | r->nslots) ^ cookie;
    return x * (hl_word)0x9e3779b97f4a7c15u;
}

/* ---- set-up -------------------------------------------------------------- */

static int pool_init(hl_heap *h, void *st, const long *params)
{
    struct pool *p = st;
    long set = params[0], max = params[1], pages = params[2];
    if (set < 0 || set > 1 || max < 32 || max > (long)MAX_SLOT || pages < 1 || pages > 64) {
        errno = EINVAL;
        return -1;
    }
    size_t run_bytes = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
    p->cookie = hl_heap_cookie(h);
    /* 32, 64, 128, ... or 32, 48, 64, 96, ...: the next class is 2x, or
     * alternately 1.5x and 4/3x */
    size_t size = 32;
    unsigned n = 0;
    while (size <= (size_t)max && n < MAX_CLASSES) {
        struct pool_class *k = &p->cls[n++];
        k->size = size;
        k->nslots = run_bytes / size < MIN_RUN_SLOTS ? MIN_RUN_SLOTS : run_bytes / size;
        if (set == 0)
            size *= 2;
        else
            size = (size & (size - 1)) ? size / 3 * 4 : size / 2 * 3;
    }
    p->nclasses = n;
    p->max_slot = p->cls[n - 1].size;
    unsigned c = 0;
    for (size_t i = 0; i <= p->max_slot / 16; i++) {
        while (p->cls[c].size < i * 16)
            c++;
        p->class_of[i] = (uint8_t)c;
    }
    return 0;
}

/* ---- the general path's index ---------------------------------------------- */

static void pool_insert(void *st, hl_block *b) { hl_fl_insert(&((struct pool *)st)->fl, b); }
static void pool_remove(void *st, hl_block *b) { hl_fl_remove(&((struct pool *)st)->fl, b); }
static void pool_replace(void *st, hl_block *old, hl_block *b, size_t size)
{
    (void)size; /* an address-ordered list: the key does not change */
    hl_fl_replace(&((struct pool *)st)->fl, old, b);
}

static hl_block *pool_find(void *st, size_t size) { return hl_fl_first_fit(&((struct pool *)st)->fl, size); }

/* ---- slots ------------------------------------------------------------------- */

/* A new run for class k: its first slot (header not yet written), the
 * others on k's free list in address order.  NULL with errno = ENOMEM.
 * Kept out of line: inlined, it made pool_alloc save six registers on
 * every call. */
__attribute__((noinline, cold)) static hl_block *new_run(hl_heap *h, struct pool *p, struct pool_class *k)
{
    size_t n = k->nslots, size = k->size;
    hl_block *b = hl_block_alloc(h, RUN_META + n * size);
    if (!b)
        return NULL;
    size_t bs = hl_block_size(b);
    hl_block_set(b, bs, HL_F_USED, KIND_RUN, p->cookie);
    struct run *r = run_of(b);
    r->next = k->runs;
    r->cls = (uint32_t)(k - p->cls);
    r->nslots = (uint32_t)n;
    r->seal = run_seal(r, p->cookie);
    k->runs = r;
    hl_account_overhead(h, (long)(bs - n * size));
    if (bs > RUN_META + n * size) {
        hl_block *tail = run_slot(b, n, size);
        *word(tail) = hl_hdr_make(tail, bs - RUN_META - n * size, HL_F_USED, KIND_RUN, p->cookie);
    }
    if (!p->lo || (const char *)b < p->lo)
        p->lo = (const char *)b;
    if ((const char *)b + bs > p->hi)
        p->hi = (const char *)b + bs;
    hl_block *next = k->free; /* NULL: the list was empty */
    for (size_t i = n - 1; i > 0; i--) {
        hl_block *s = run_slot(b, i, size);
        *word(s) = hl_hdr_make(s, size, 0, KIND_SLOT, p->cookie);
        *slot_link(s) = next;
        next = s;
    }
    k->free = next;
    return run_slot(b, 0, size);
}

static hl_block *pool_alloc(hl_heap *h, void *st, size_t size)
{
    struct pool *p = st;
    if (__builtin_expect(size > p->max_slot, 0))
        return hl_block_alloc(h, size);
    struct pool_class *k = &p->cls[p->class_of[(size + 15) >> 4]];
    hl_block *s = k->free;
    if (__builtin_expect(s != NULL, 1))
        k->free = *slot_link(s);
    else if (!(s = new_run(h, p, k)))
        return NULL;
    *word(s) = hl_hdr_make(s, k->size, HL_F_USED, KIND_SLOT, p->cookie);
    return s;
}

/* The class of slot header w, or NULL when w is no slot of ours: the tag
 * only proves the header was written for this address by this heap, and a
 * wild pointer passes it once in 4096 tries. */
static inline struct pool_class *slot_class(struct pool *p, hl_word w)
{
    size_t size = (size_t)(w & HL_SIZE_MASK);
    if (size > p->max_slot)
        return NULL;
    struct pool_class *k = &p->cls[p->class_of[size >> 4]];
    return k->size == size ? k : NULL;
}

static void pool_release(hl_heap *h, void *st, hl_block *b)
{
    struct pool *p = st;
    hl_word w = hl_hdr(b);
    unsigned kind = hl_hdr_kind(w);
    if (__builtin_expect(kind == KIND_SLOT, 1)) {
        struct pool_class *k = slot_class(p, w);
        if (!k)
            hl_corrupt("free(): invalid pointer", hl_block_payload(b));
        hl_block *n = (hl_block *)(void *)((char *)b + k->size);
        if (!hl_hdr_tag_ok(n, hl_hdr(n), p->cookie))
            hl_corrupt("heap corruption: bad header after the block", hl_block_payload(b));
        *word(b) = hl_hdr_make(b, k->size, 0, KIND_SLOT, p->cookie);
        *slot_link(b) = k->free;
        k->free = b;
    } else if (kind == HL_KIND_CORE) {
        hl_block_free(h, b);
    } else {
        hl_corrupt("free(): invalid pointer", hl_block_payload(b));
    }
}

static hl_block *pool_resize(hl_heap *h, void *st, hl_block *b, size_t size)
{
    (void)st;
    unsigned kind = hl_block_kind(b);
    if (kind == KIND_SLOT)
        return size <= hl_block_size(b) ? b : NULL;
    if (kind != HL_KIND_CORE)
        hl_corrupt("realloc(): invalid pointer", hl_block_payload(b));
    return hl_block_resize(h, b, size);
}

/* ---- walk and check ------------------------------------------------------------ */

/* 1 when b carries a sound run header of this pool, so its layout can be
 * trusted; 0 otherwise (then nothing inside it can be told apart). */
static int run_ok(const struct pool *p, const hl_block *b)
{
    hl_word w = hl_hdr(b);
    const struct run *r = run_of(b);
    if (!hl_hdr_tag_ok(b, w, p->cookie) || hl_block_kind(b) != KIND_RUN || !(w & HL_F_USED) ||
        r->seal != run_seal(r, p->cookie) || r->cls >= p->nclasses)
        return 0;
    size_t bs = hl_block_size(b), used = RUN_META + (size_t)r->nslots * p->cls[r->cls].size;
    return r->nslots > 0 && used <= bs && bs - used < HL_MIN_BLOCK;
}

static int pool_walk(hl_heap *h, void *st, const hl_block *b, hl_walk_fn fn, void *arg)
{
    (void)h;
    struct pool *p = st;
    struct hl_block_info bi = {(void *)(uintptr_t)b, hl_block_size(b), 0, HL_BLOCK_META};
    if (!run_ok(p, b)) { /* let the sums show it: no slot can be told apart */
        bi.header_bytes = bi.size;
        return fn(&bi, arg);
    }
    const struct run *r = run_of(b);
    size_t size = p->cls[r->cls].size, end = RUN_META + r->nslots * size;
    int rc;
    bi.size = bi.header_bytes = RUN_META;
    if ((rc = fn(&bi, arg)))
        return rc;
    bi.size = size;
    bi.header_bytes = HL_HDR_BYTES;
    for (size_t i = 0; i < r->nslots; i++) {
        bi.addr = run_slot(b, i, size);
        bi.state = hl_block_used(bi.addr) ? HL_BLOCK_USED : HL_BLOCK_FREE;
        if ((rc = fn(&bi, arg)))
            return rc;
    }
    if (end < hl_block_size(b)) {
        bi.addr = (char *)(uintptr_t)b + end;
        bi.size = bi.header_bytes = hl_block_size(b) - end;
        bi.state = HL_BLOCK_META;
        return fn(&bi, arg);
    }
    return 0;
}

struct census {
    const struct pool *p;
    size_t slots[MAX_CLASSES], free[MAX_CLASSES];
};

/* Slots as the heap walk reports them, by class. */
static int count_slots(const struct hl_block_info *bi, void *arg)
{
    struct census *cs = arg;
    if (bi->state != HL_BLOCK_USED && bi->state != HL_BLOCK_FREE)
        return 0;
    hl_word w = hl_hdr(bi->addr);
    size_t size = (size_t)(w & HL_SIZE_MASK);
    if (hl_block_kind(bi->addr) != KIND_SLOT || size > cs->p->max_slot)
        return 0;
    unsigned c = cs->p->class_of[size >> 4];
    cs->slots[c]++;
    cs->free[c] += bi->state == HL_BLOCK_FREE;
    return 0;
}

/* The runs of class c and their slots; returns the free slots found. */
static size_t check_runs(const struct pool *p, unsigned c, size_t *slots, struct hl_check *ck)
{
    const struct pool_class *k = &p->cls[c];
    size_t nfree = 0;
    *slots = 0;
    for (const struct run *r = k->runs; r; r = r->next) {
        const hl_block *b = hl_payload_block(r);
        if ((const char *)b < p->lo || (const char *)b + RUN_META > p->hi || ((uintptr_t)b & 7)) {
            hl_check_fail(ck, "pool class %zu: run link %p leads out of the heap", k->size, (void *)b);
            return nfree;
        }
        if (!run_ok(p, b)) {
            hl_check_fail(ck, "pool class %zu: run %p has a bad header", k->size, (void *)b);
            return nfree;
        }
        if (HL_CHECK(ck, r->cls == c, "run %p: class %u on the list of class %u", (void *)b, r->cls, c))
            continue;
        HL_CHECK(ck, r->nslots == k->nslots, "run %p: %u slots, class makes %zu", (void *)b, r->nslots,
                 k->nslots);
        for (size_t i = 0; i < r->nslots; i++) {
            hl_block *s = run_slot(b, i, k->size);
            hl_word w = hl_hdr(s);
            if (!hl_hdr_tag_ok(s, w, p->cookie) || hl_block_kind(s) != KIND_SLOT || hl_block_size(s) != k->size ||
                (w & (HL_F_PREV_FREE | HL_F_PREV_MIN | HL_F_MAPPED))) {
                hl_check_fail(ck, "run %p: slot %p has a bad header (word %#llx)", (void *)b, (void *)s,
                              (unsigned long long)w);
                continue;
            }
            nfree += !(w & HL_F_USED);
        }
        const hl_block *tail = run_slot(b, r->nslots, k->size);
        if ((const char *)tail < (const char *)hl_block_next(b))
            HL_CHECK(ck, hl_hdr_tag_ok(tail, hl_hdr(tail), p->cookie),
                     "run %p: the sentinel after the last slot is overwritten", (void *)b);
        *slots += r->nslots;
        if (*slots > (size_t)(p->hi - p->lo) / HL_MIN_BLOCK) {
            hl_check_fail(ck, "pool class %zu: the run list loops", k->size);
            return nfree;
        }
    }
    return nfree;
}

/* Class c's free list: free slots of c only, no slot twice (a repeated
 * node makes a singly linked list loop), as many as the runs hold. */
static void check_free_list(const struct pool *p, unsigned c, size_t nfree, struct hl_check *ck)
{
    const struct pool_class *k = &p->cls[c];
    size_t n = 0;
    for (hl_block *s = k->free; s; s = *slot_link(s)) {
        /* a bad link must not be followed: it is read only inside the runs */
        if ((const char *)s < p->lo || (const char *)s + k->size > p->hi || ((uintptr_t)s & 7)) {
            hl_check_fail(ck, "pool class %zu: free list link %p leads out of the runs", k->size, (void *)s);
            return;
        }
        hl_word w = hl_hdr(s);
        if (!hl_hdr_tag_ok(s, w, p->cookie) || hl_block_kind(s) != KIND_SLOT || hl_block_size(s) != k->size) {
            hl_check_fail(ck, "pool class %zu: free list holds %p, not a slot of the class", k->size, (void *)s);
            return;
        }
        HL_CHECK(ck, !(w & HL_F_USED), "pool class %zu: slot %p is in use and on the free list", k->size,
                 (void *)s);
        if (++n > nfree) {
            hl_check_fail(ck, "pool class %zu: free list longer than the %zu free slots (a slot twice?)",
                          k->size, nfree);
            return;
        }
    }
    HL_CHECK(ck, n == nfree, "pool class %zu: %zu slots on the free list, %zu free slots in its runs", k->size,
             n, nfree);
}

static int pool_check(hl_heap *h, void *st, struct hl_check *ck)
{
    struct pool *p = st;
    struct census cs = {.p = p};
    hl_walk_held(h, count_slots, &cs);
    for (unsigned c = 0; c < p->nclasses; c++) {
        size_t slots, nfree = check_runs(p, c, &slots, ck);
        HL_CHECK(ck, slots == cs.slots[c] && nfree == cs.free[c],
                 "pool class %zu: runs hold %zu slots (%zu free), the heap walk finds %zu (%zu free)",
                 p->cls[c].size, slots, nfree, cs.slots[c], cs.free[c]);
        check_free_list(p, c, nfree, ck);
    }
    hl_fl_check(h, &p->fl, ck);
    return ck->violations;
}

static const struct hl_policy pool = {
    .abi = HL_POLICY_ABI,
    .name = "pool",
    .summary = "simple segregated storage: one LIFO list of equal slots per size class; large: first fit",
    .params = pool_params,
    .state_size = sizeof(struct pool),
    .init = pool_init,
    .insert = pool_insert,
    .remove = pool_remove,
    .replace = pool_replace,
    .find = pool_find,
    .alloc = pool_alloc,
    .release = pool_release,
    .resize = pool_resize,
    .walk = pool_walk,
    .check = pool_check,
};

const struct hl_policy *hl_policy_pool(void) { return &pool; }
