/*
 * heaplab/policy.h - what a placement policy sees of the heap.
 *
 * Wilson et al. separate an allocator's *policy* (which free block serves a
 * request) from its *mechanism* (how blocks are laid out, split, coalesced).
 * heaplab's core owns the mechanism; a policy is a table of functions,
 * `struct hl_policy`, in the shape of SQLite's sqlite3_mem_methods.
 *
 * A *fit* policy (first fit, best fit, a tree, TLSF, ...) only indexes free
 * blocks: core calls insert/remove/replace as blocks become free or stop
 * being free, and find when it needs a block.  Core does the splitting (one
 * minimum block size), the coalescing (boundary tags), growth, trim and
 * in-place realloc.
 *
 * A policy whose blocks core's mechanism cannot manage (a buddy system, a
 * pool of equal slots) sets the alloc/release/resize hooks and manages its
 * blocks itself, calling back into core (hl_block_alloc, hl_morecore, ...)
 * for memory.  Its blocks still carry core's header word, so core can
 * validate every pointer, answer usable_size and walk the heap.
 *
 * A policy keeps all its per-heap state in the `state_size` bytes core hands
 * it (zeroed); it has no file-level mutable variables, so any number of
 * heaps can live in one process.
 *
 * A policy can also live outside heaplab's tree, as a plugin loaded with
 * `-p ./my_policy.so`: see "plugins" at the end of this file.
 *
 * The index protocol, in the order core calls it:
 *   remove(b)        b's header and node are intact;
 *   insert(b)        after b's header (and footer) are written;
 *   replace(old, b, size)
 *                    optional: b, of `size` bytes, takes the place of
 *                    filed block old in address order - b equals old
 *                    (old changes size), lies
 *                    inside it (a split remainder, or what is left when
 *                    realloc takes the front of a free neighbour), or
 *                    starts before it and absorbs it (coalescing).  Called
 *                    before b's header is written, with old's header and
 *                    node intact; `size` is the size b's header will hold,
 *                    so a policy keyed by size knows b's key.  b's node may
 *                    overlap old's (b can start just 8 bytes into old): read
 *                    old's node whole before writing b's.  Without replace
 *                    core calls remove(old) before and insert(b) after.
 *   find(size)       returns a filed block of at least `size` bytes, still
 *                    filed; core then removes or replaces it.
 *
 * THE BLOCK HEADER.  One 64-bit word in front of every payload:
 *
 *   63      52 51  49  48  47                    3   2      1        0
 *   +---------+------+----+-----------------------+------+---------+------+
 *   | tag:12  |kind:3|PMIN| size (multiple of 8)  |MAPPED|PREV_FREE| USED |
 *   +---------+------+----+-----------------------+------+---------+------+
 *
 *   size       block bytes, header included (a block starts at its header).
 *   USED       the block is in use.
 *   PREV_FREE  the block before is free: its last word is a footer holding
 *              its size (free blocks only; blocks in use carry no footer).
 *   PMIN       the block before is free and of the minimum size; it has no
 *              footer - its 24 bytes after the header are all node space.
 *   MAPPED     a large block with a mapping of its own.
 *   kind       0 = a block of core's mechanism; 1 = an offset header left
 *              by memalign in front of an aligned payload; 2..7 = the
 *              policy's own (pool slots, buddy blocks, ...).
 *   tag        a 12-bit hash of the header's address, size, USED, MAPPED
 *              and kind under a per-heap cookie.  free() refuses a pointer
 *              whose tag does not match: an invalid pointer, a header that
 *              was overwritten, or (USED clear) a double free.  PREV_FREE and
 *              PMIN are outside the tag, so a neighbour flips them cheaply.
 *
 * Subtleties:
 *   - the payload is at block + 8 and aligned to the heap's alignment, so
 *     block addresses are 8 mod 16 on a 16-aligned heap;
 *   - the minimum block is 32 bytes: a free block always has 24 bytes of node
 *     space at block + 8 (three pointers: enough for a parent-linked tree);
 *   - a free block's node space ends where its footer starts; a policy must
 *     not write beyond hl_block_node(b) + HL_NODE_BYTES;
 *   - the size field holds up to 2^48 - 8 bytes.
 */
#ifndef HEAPLAB_POLICY_H
#define HEAPLAB_POLICY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "heaplab/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever struct hl_policy or the block layout changes. */
#define HL_POLICY_ABI 2

typedef struct hl_block hl_block; /* opaque: the address of a block's header */
typedef uint64_t hl_word;

#define HL_HDR_BYTES 8u
#define HL_MIN_BLOCK 32u
#define HL_NODE_BYTES 24u

#define HL_F_USED ((hl_word)1)
#define HL_F_PREV_FREE ((hl_word)2)
#define HL_F_MAPPED ((hl_word)4)
#define HL_SIZE_MASK ((hl_word)0x0000fffffffffff8)
#define HL_F_PREV_MIN ((hl_word)1 << 48)
#define HL_KIND_SHIFT 49
#define HL_KIND_MASK ((hl_word)7 << HL_KIND_SHIFT)
#define HL_TAG_MASK ((hl_word)0xfff << 52)
#define HL_TAGGED_BITS (HL_F_USED | HL_F_MAPPED | HL_SIZE_MASK | HL_KIND_MASK)
#define HL_MAX_BLOCK ((size_t)HL_SIZE_MASK)

enum {
    HL_KIND_CORE = 0,   /* a block of core's boundary-tag mechanism */
    HL_KIND_OFFSET = 1, /* memalign: size field = distance back to the real payload */
    HL_KIND_POLICY = 2  /* first kind a policy may use; up to 7 */
};

/* ---- block accessors (no checks; see hl_block_valid) ------------------- */

static inline hl_word hl_hdr(const hl_block *b) { return *(const hl_word *)(const void *)b; }
static inline size_t hl_block_size(const hl_block *b) { return (size_t)(hl_hdr(b) & HL_SIZE_MASK); }
static inline int hl_block_used(const hl_block *b) { return (int)(hl_hdr(b) & HL_F_USED); }
/* The kind field of header word w (HL_KIND_CORE, HL_KIND_OFFSET, a policy's). */
static inline unsigned hl_hdr_kind(hl_word w) { return (unsigned)((w & HL_KIND_MASK) >> HL_KIND_SHIFT); }
static inline unsigned hl_block_kind(const hl_block *b) { return hl_hdr_kind(hl_hdr(b)); }
static inline hl_block *hl_block_next(const hl_block *b)
{
    return (hl_block *)(void *)((char *)(uintptr_t)b + hl_block_size(b));
}
static inline void *hl_block_payload(const hl_block *b) { return (char *)(uintptr_t)b + HL_HDR_BYTES; }
static inline hl_block *hl_payload_block(const void *p)
{
    return (hl_block *)(void *)((char *)(uintptr_t)p - HL_HDR_BYTES);
}
/* Node space of a free block: HL_NODE_BYTES bytes, pointer aligned. */
static inline void *hl_block_node(const hl_block *b) { return hl_block_payload(b); }
static inline hl_block *hl_node_block(const void *node) { return hl_payload_block(node); }

/* The tag: top bits of a multiplicative hash (Knuth's golden-ratio constant). */
static inline hl_word hl_tag(const void *at, hl_word w, hl_word cookie)
{
    hl_word x = ((hl_word)(uintptr_t)at ^ (w & HL_TAGGED_BITS) ^ cookie) * (hl_word)0x9e3779b97f4a7c15u;
    return x & HL_TAG_MASK;
}
/* A header word for a block at `at`: size | flags | kind, tagged. */
static inline hl_word hl_hdr_make(const void *at, size_t size, hl_word flags, unsigned kind,
                                  hl_word cookie)
{
    hl_word w = (hl_word)size | flags | ((hl_word)kind << HL_KIND_SHIFT);
    return w | hl_tag(at, w, cookie);
}
static inline int hl_hdr_tag_ok(const void *at, hl_word w, hl_word cookie)
{
    return (w & HL_TAG_MASK) == hl_tag(at, w, cookie);
}
/* The word left in the header slot of a block that was merged away, so
 * that freeing it again is reported as a double free rather than as an
 * invalid pointer: the pointer checks recognise it, and should its tag
 * happen to match where it lies (one address in 4096), its USED bit is
 * clear, which they report as a double free too.  A constant: writing it
 * costs no hash on the free path. */
#define HL_HDR_DEAD (((hl_word)0xdea << 52) | ((hl_word)HL_KIND_OFFSET << HL_KIND_SHIFT) | HL_F_MAPPED)
static inline hl_word hl_hdr_dead(const void *at, hl_word cookie)
{
    (void)at;
    (void)cookie;
    return HL_HDR_DEAD;
}

/* Write a header, keeping the PREV_FREE/PREV_MIN bits already there. */
static inline void hl_block_set(hl_block *b, size_t size, hl_word flags, unsigned kind,
                                hl_word cookie)
{
    hl_word *w = (hl_word *)(void *)b;
    *w = hl_hdr_make(b, size, flags, kind, cookie) | (*w & (HL_F_PREV_FREE | HL_F_PREV_MIN));
}

/* ---- parameters -------------------------------------------------------- */

#define HL_MAX_PARAMS 8

struct hl_param {
    const char *name;            /* key in "POLICY:key=value,..." */
    long def;                    /* default value */
    long min, max;               /* accepted range (inclusive) */
    const char *const *choices;  /* NULL, or names of the values 0..n-1 (NULL-terminated) */
    const char *help;            /* one line for `heaplab policies -v` */
};

/* ---- the policy table -------------------------------------------------- */

struct hl_check;

struct hl_policy {
    unsigned abi;                  /* HL_POLICY_ABI it was built against */
    const char *name;              /* registry name, e.g. "best-fit" */
    const char *summary;           /* one line: the algorithm */
    const struct hl_param *params; /* parameters, NULL or ended by a {NULL} entry */
    size_t state_size;             /* bytes of per-heap state core allocates, zeroed */
    int (*init)(hl_heap *h, void *st, const long *params); /* 0, or -1 with errno; may be NULL */
    void (*fini)(hl_heap *h, void *st);                    /* before the heap goes; may be NULL */

    /* Free-block index.  Required unless alloc/release/resize cover every block. */
    void (*insert)(void *st, hl_block *b);                 /* file free block b (header written) */
    void (*remove)(void *st, hl_block *b);                 /* unfile b (header still as filed) */
    void (*replace)(void *st, hl_block *old, hl_block *b, size_t size); /* b (size bytes) takes old's place */
    hl_block *(*find)(void *st, size_t size);              /* a filed block of >= size bytes, or NULL */

    /* Whole-block hooks, NULL = core's mechanism for everything. */
    hl_block *(*alloc)(hl_heap *h, void *st, size_t size);   /* a used block of >= size bytes, or NULL */
    void (*release)(hl_heap *h, void *st, hl_block *b);      /* b (used, validated) is freed */
    hl_block *(*resize)(hl_heap *h, void *st, hl_block *b, size_t size); /* in place, or NULL */
    int (*walk)(hl_heap *h, void *st, const hl_block *b, hl_walk_fn fn, void *arg); /* report a kind>=2 block */

    int (*check)(hl_heap *h, void *st, struct hl_check *c); /* count violated invariants */
};

/* The parameters table p declares (its entries before the {NULL} end),
 * counted up to HL_MAX_PARAMS: what core, the registry and the plugin
 * loader use.  A table with more has p->params[HL_MAX_PARAMS].name set. */
static inline size_t hl_policy_nparams(const struct hl_policy *p)
{
    size_t n = 0;
    while (p->params && p->params[n].name && n < HL_MAX_PARAMS)
        n++;
    return n;
}

/* ---- core mechanisms a policy may call ---------------------------------- */

/* The heap's tag cookie; cache it in the policy state at init. */
hl_word hl_heap_cookie(const hl_heap *h);
/* Payload alignment of the heap (8 or 16). */
size_t hl_heap_align(const hl_heap *h);
/* Block size that serves an n-byte request (header, alignment, minimum). */
size_t hl_request_size(const hl_heap *h, size_t n);

/* Core's boundary-tag path, for hook policies that pass some requests on.
 * hl_block_alloc returns a used kind-0 block (not counted as live; the
 * caller may re-kind it), NULL with errno = ENOMEM. */
hl_block *hl_block_alloc(hl_heap *h, size_t size);
void hl_block_free(hl_heap *h, hl_block *b);
hl_block *hl_block_resize(hl_heap *h, hl_block *b, size_t size);

/* Raw memory for a policy that lays out its own blocks (buddy): `bytes` more
 * from the source.  The result is 8 mod 16, and follows the previous raw
 * piece directly when the source could extend it (*contiguous = 1).  The
 * policy must cover it with headers (core walks it block by block).  NULL
 * with errno = ENOMEM. */
void *hl_morecore(hl_heap *h, size_t bytes, int *contiguous);

/* A policy that cannot serve blocks above some size (a buddy system's
 * largest order) says so at init: larger requests then take the mmap path
 * whatever the threshold. */
void hl_heap_limit_block(hl_heap *h, size_t max_block);

/* Policy bookkeeping inside the extent (e.g. a run header): keeps
 * free_bytes honest. */
void hl_account_overhead(hl_heap *h, long delta);

/*
 * Placement options: mechanisms core offers every fit policy, off unless
 * the policy switches them on (from init, which runs again on reset).
 * They change where core puts a block, never what the policy indexes: the
 * index protocol above stays as it is.
 *
 *   high_below   a block of fewer bytes is carved from the HIGH end of the
 *                free block find returned (the remainder keeps the free
 *                block's start: replace(old, old, rest)); larger ones from
 *                the low end, as always.  Small requests from the back keep
 *                small and large blocks apart, so that large blocks freed
 *                together coalesce (the binary traces).  A free block below
 *                the block that realloc grew last is carved from its low end
 *                instead: small blocks keep away from a growing block, whose
 *                way down (realloc_prev) then stays open.
 *   grow_chunk   when no filed block fits a high-end request, the heap
 *                grows by enough to leave at least grow_chunk bytes (but no
 *                more than a quarter of the heap's extent) free at its top,
 *                and the block is carved from the top end of that: the next
 *                requests come from the same area.  0: exactly what is
 *                missing, as always.
 *   realloc_prev realloc that cannot grow a block into a free successor
 *                slides it down into a free predecessor of at least a
 *                quarter of its size (the payload moves with memmove)
 *                before it grows the heap or moves the block elsewhere: a
 *                block moved to the top comes back into the hole it left.
 *                The slide leaves a minimum block free at the bottom of the
 *                hole, for the small block that lives beside the growing
 *                one.
 *   realloc_slack a block that realloc grows gets realloc_slack/16 of its
 *                new size on top (aligned) where that costs no growth of
 *                the heap: from a free successor (all of one too small for
 *                the slack), a slide, or a move; growth at the top of the
 *                heap adds only what is missing.  realloc does not shrink
 *                a block while the request stays within the slack.
 */
struct hl_placement {
    size_t high_below;      /* carve blocks of fewer bytes from the high end; 0 = never */
    size_t grow_chunk;      /* least bytes free at the top after growing for a high-end block; 0 = exact */
    unsigned realloc_prev;  /* 1: realloc grows into a free predecessor (memmove) first */
    unsigned realloc_slack; /* sixteenths of the new size a realloc growth adds; 0 = none */
};
/* Set the heap's placement options (copied).  A hook policy's own blocks
 * are not affected; core's path (hl_block_alloc, ...) is. */
void hl_heap_set_placement(hl_heap *h, const struct hl_placement *p);
/* The heap's placement options, as set (grow_chunk aligned up); all 0
 * unless its policy set them. */
void hl_heap_placement(const hl_heap *h, struct hl_placement *out);

/* Report heap corruption: one line on stderr, then abort(). */
_Noreturn void hl_corrupt(const char *what, const void *addr);

/* ---- checking ----------------------------------------------------------- */

struct hl_check {
    FILE *out;      /* where to describe violations, or NULL */
    int violations; /* count so far */
};

/* Whether the len bytes at addr lie in the heap's extent, where they can
 * be read: a check follows a link only after asking (a write into a free
 * block may have left any value there). */
int hl_heap_holds(const hl_heap *h, const void *addr, size_t len);

/* hl_walk for a policy's check: the caller (hl_check) already holds the
 * heap's lock. */
int hl_walk_held(hl_heap *h, hl_walk_fn fn, void *arg);

/* Count one violation and describe it (printf format) on c->out. */
int hl_check_fail(struct hl_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define HL_CHECK(c, cond, ...) ((cond) ? 0 : hl_check_fail((c), __VA_ARGS__))

/* ---- plugins ----------------------------------------------------------- */

/*
 * A policy of one's own, outside heaplab's tree, is a shared object - a
 * *plugin* - that `-p ./my_policy.so` loads wherever a policy is named
 * (replay, selftest, ...).  examples/policy-template.c is a complete one to
 * copy.  The contract:
 *
 *   - Build it against this header:
 *         cc -std=c11 -O2 -shared -fPIC -I include my_policy.c -o my_policy.so
 *   - Export exactly one function, named HL_POLICY_ENTRY (hl_policy_entry),
 *     of type hl_policy_entry_fn.  It returns a pointer to the plugin's own
 *     table, normally a `static const struct hl_policy`, which must stay
 *     valid while the process runs: heaplab calls the entry once per load
 *     and never unloads a plugin it accepted.  Keep everything else static
 *     and out of the hl_ prefix: heaplab's symbols come first when the
 *     plugin's calls are resolved, so a plugin function named like one of
 *     heaplab's would call heaplab's instead.
 *   - Set .abi = HL_POLICY_ABI.  heaplab refuses a table whose abi differs
 *     from its own ("built for policy ABI 1, heaplab has 2") before it
 *     reads any other field: rebuild the plugin against the new header.
 *   - The table is checked as core checks a built-in one: a name, and
 *     insert/remove/find (a fit policy) or alloc/release (a hook policy);
 *     at most HL_MAX_PARAMS parameters, defaults inside their ranges.
 *     `-p ./my_policy.so:key=value,...` sets the parameters the table
 *     declares; init receives their values.
 *   - All per-heap state lives in the `state_size` bytes core allocates,
 *     zeroed, for each heap (the `st` argument), never in file-scope
 *     variables: a replay, and the conformance checks, run several heaps
 *     of one policy in one process, and the heap lock guards only `st`.
 *   - A plugin may call the static inline helpers above and the functions
 *     this header declares (hl_heap_cookie, hl_block_alloc, hl_morecore,
 *     hl_check_fail, hl_walk_held, hl_heap_holds, hl_corrupt, ...);
 *     heaplab's executables export them to the plugin (they are linked
 *     with -rdynamic).  It must
 *     not call the heap API (hl_malloc, ...) on the heap it serves: core
 *     holds that heap's lock while it calls the policy.
 *   - The index protocol (top of this file) is the whole interface of a fit
 *     policy: core calls insert/remove/replace/find, and does every split,
 *     coalesce, growth and trim itself.  find must return a block that is
 *     filed and at least `size` bytes long; core trusts it.
 *   - `check` counts what is wrong with the policy's structures through
 *     hl_check_fail/HL_CHECK and returns c->violations; `heaplab replay
 *     --check-every N` and `heaplab selftest` run it.
 *
 * `heaplab selftest -p ./my_policy.so` runs the conformance checks that
 * every built-in policy passes.
 */
#define HL_POLICY_ENTRY hl_policy_entry
typedef const struct hl_policy *(*hl_policy_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
