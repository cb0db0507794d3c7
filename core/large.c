/*
 * large.c - the mmap path: a request at or above the mmap threshold gets a
 * mapping of its own, unmapped on free and resized with mremap.
 *
 *   M: struct hl_mapped (list links, length) ... | offset | header | payload ...
 *
 * The payload P is aligned; the word at P - 16 holds P - M so free can find
 * the mapping, and the header at P - 8 has MAPPED | USED and the bytes from
 * the header to the end of the mapping.
 *
 * Like glibc, freeing a mapped block larger than the current (dynamic)
 * threshold raises the threshold to that block's size, up to 32 MiB, and
 * the trim threshold to twice that: a program that keeps allocating and
 * freeing such blocks is then served from the heap instead of paying an
 * mmap/munmap pair each time.
 *
 * Misuse.  Nothing at a pointer outside the extent is read before the
 * heap's own record says it is a mapped block it holds: a hash set of the
 * payload addresses (open addressing, linear probing, deletion by
 * backward shift; its slots mmapped, as the heap's state is).  A block
 * freed twice has had its mapping unmapped in between, so its header
 * cannot be read: a ring of the last payloads unmapped tells a double
 * free from a pointer heaplab never handed out.
 */
#define _GNU_SOURCE 1 /* mremap */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

/* ---- the set of mapped blocks ------------------------------------------------ */

#define MAPTAB_MIN 512u
#define GONE (sizeof ((struct hl_maptab *)0)->gone / sizeof ((struct hl_maptab *)0)->gone[0])

static inline size_t home(uintptr_t key, size_t cap)
{
    return (size_t)(((uint64_t)(key >> 4) * 0x9e3779b97f4a7c15u) >> 20) & (cap - 1);
}

/* The slot holding key, or cap. */
static size_t tab_find(const struct hl_maptab *t, uintptr_t key)
{
    if (!t->cap)
        return 0;
    for (size_t i = home(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i].pay == key)
            return i;
        if (t->slot[i].pay == 0)
            return t->cap;
    }
}

static void tab_put(struct hl_maptab *t, uintptr_t key, struct hl_mapped *m)
{
    size_t i = home(key, t->cap);
    while (t->slot[i].pay)
        i = (i + 1) & (t->cap - 1);
    t->slot[i].pay = key;
    t->slot[i].map = m;
    t->len++;
}

/* Empty slot i, moving back the entries after it that it kept from home. */
static void tab_erase(struct hl_maptab *t, size_t i)
{
    size_t mask = t->cap - 1;
    for (size_t j = (i + 1) & mask; t->slot[j].pay; j = (j + 1) & mask) {
        size_t k = home(t->slot[j].pay, t->cap);
        /* j's entry may move to i unless its home lies cyclically in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i].pay = 0;
    t->slot[i].map = NULL;
    t->len--;
}

/* Room for one more entry (load at most a half): 0, or -1 with errno = ENOMEM
 * and the table as it was. */
static int tab_reserve(hl_heap *h)
{
    struct hl_maptab *t = &h->maptab;
    if (2 * (t->len + 1) <= t->cap)
        return 0;
    size_t cap = t->cap ? 2 * t->cap : MAPTAB_MIN;
    size_t bytes = cap * sizeof *t->slot;
    void *mem = hl_source_fault(&h->src)
                    ? MAP_FAILED
                    : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        errno = ENOMEM;
        return -1;
    }
    struct hl_maptab old = *t;
    t->slot = mem;
    t->cap = cap;
    t->len = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slot[i].pay)
            tab_put(t, old.slot[i].pay, old.slot[i].map);
    if (old.slot)
        munmap(old.slot, old.cap * sizeof *old.slot);
    return 0;
}

static void note_gone(struct hl_maptab *t, uintptr_t key)
{
    t->gone[t->gone_at] = key;
    t->gone_at = (t->gone_at + 1) % GONE;
}

static void forget_gone(struct hl_maptab *t, uintptr_t key)
{
    for (size_t i = 0; i < GONE; i++)
        if (t->gone[i] == key)
            t->gone[i] = 0;
}

int hl_large_lookup(const hl_heap *h, const void *p)
{
    const struct hl_maptab *t = &h->maptab;
    uintptr_t key = (uintptr_t)p;
    if (key && tab_find(t, key) < t->cap)
        return 1;
    for (size_t i = 0; key && i < GONE; i++)
        if (t->gone[i] == key)
            return -1;
    return 0;
}

/* The slot of mapped block b, or an abort with `bad`. */
static size_t held(hl_heap *h, const hl_block *b, const char *bad)
{
    size_t i = tab_find(&h->maptab, (uintptr_t)hl_block_payload(b));
    if (i >= h->maptab.cap)
        hl_corrupt(bad, hl_block_payload(b));
    return i;
}

/* ---- mapped blocks ------------------------------------------------------------ */

static inline size_t *offset_word(const hl_block *b) { return (size_t *)(uintptr_t)((const char *)b - 8); }

struct hl_mapped *hl_large_map_of(const hl_block *b)
{
    return (struct hl_mapped *)(void *)((char *)hl_block_payload(b) - *offset_word(b));
}

static void set_header(hl_heap *h, struct hl_mapped *m, char *pay)
{
    hl_block *b = hl_payload_block(pay);
    m->off = (size_t)(pay - (char *)m);
    *offset_word(b) = m->off;
    *(hl_word *)(void *)b =
        hl_hdr_make(b, (size_t)((char *)m + m->len - (char *)b), HL_F_USED | HL_F_MAPPED, HL_KIND_CORE, h->cookie);
}

void *hl_large_alloc(hl_heap *h, size_t n, size_t align)
{
    size_t page = h->src.pagesize;
    size_t a = align < h->align ? h->align : align;
    size_t lead = sizeof(struct hl_mapped) + 2 * sizeof(size_t); /* struct, offset, header */
    size_t worst = a <= page ? align_up(lead, a) : lead + a;
    if (n > HL_MAX_BLOCK - worst - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = align_up(worst + n, page);
    if (tab_reserve(h) != 0)
        return NULL;
    void *mem = hl_source_fault(&h->src)
                    ? MAP_FAILED
                    : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    struct hl_mapped *m = mem;
    m->len = len;
    m->next = h->maps.next;
    m->prev = &h->maps;
    h->maps.next->prev = m;
    h->maps.next = m;
    char *pay = (char *)align_up((uintptr_t)mem + lead, a);
    set_header(h, m, pay);
    tab_put(&h->maptab, (uintptr_t)pay, m);
    forget_gone(&h->maptab, (uintptr_t)pay);
    h->mmap_calls++;
    h->mapped_blocks++;
    h->mapped_bytes += len;
    hl_note_heap_peak(h);
    uint64_t live = h->live_bytes + h->mapped_bytes;
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
    return pay;
}

/* The mapping of held block b (in slot i), the offset word and the links
 * checked. */
static struct hl_mapped *mapping_of(hl_heap *h, const hl_block *b, size_t i, const char *corrupted)
{
    struct hl_mapped *m = h->maptab.slot[i].map;
    if (hl_large_map_of(b) != m || m->next->prev != m || m->prev->next != m)
        hl_corrupt(corrupted, hl_block_payload(b));
    return m;
}

void hl_large_free(hl_heap *h, hl_block *b)
{
    size_t i = held(h, b, "free(): invalid pointer");
    struct hl_mapped *m = mapping_of(h, b, i, "free(): corrupted mapped block");
    size_t len = m->len;
    m->prev->next = m->next;
    m->next->prev = m->prev;
    tab_erase(&h->maptab, i);
    note_gone(&h->maptab, (uintptr_t)hl_block_payload(b));
    munmap(m, len);
    h->munmap_calls++;
    h->mapped_blocks--;
    h->mapped_bytes -= len;
    if (h->mmap_dynamic && len > h->mmap_threshold && len <= HL_MAX_DYN_MMAP_THRESHOLD) {
        h->mmap_threshold = len;
        if (h->trim_threshold != HL_NO_TRIM)
            h->trim_threshold = 2 * len;
    }
}

void *hl_large_realloc(hl_heap *h, hl_block *b, size_t n)
{
    size_t i = held(h, b, "realloc(): invalid pointer");
    struct hl_mapped *m = mapping_of(h, b, i, "realloc(): corrupted mapped block");
    size_t off = *offset_word(b);
    size_t page = h->src.pagesize;
    if (n > HL_MAX_BLOCK - off - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = align_up(off + n, page);
    if (len == m->len)
        return hl_block_payload(b);
    size_t old = m->len;
    struct hl_mapped *nm = hl_source_fault(&h->src) ? MAP_FAILED : mremap(m, old, len, MREMAP_MAYMOVE);
    if (nm == MAP_FAILED) {
        errno = EAGAIN; /* let the caller try malloc + copy */
        return NULL;
    }
    h->mremap_calls++;
    nm->len = len;
    nm->next->prev = nm; /* the links moved with the mapping */
    nm->prev->next = nm;
    char *pay = (char *)nm + off;
    set_header(h, nm, pay);
    if (nm != m) {
        tab_erase(&h->maptab, i);
        tab_put(&h->maptab, (uintptr_t)pay, nm);
        forget_gone(&h->maptab, (uintptr_t)pay);
        note_gone(&h->maptab, (uintptr_t)hl_block_payload(b));
    }
    h->mapped_bytes = h->mapped_bytes - old + len;
    hl_note_heap_peak(h);
    uint64_t live = h->live_bytes + h->mapped_bytes;
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
    return pay;
}

size_t hl_large_usable(const hl_heap *h, const hl_block *b)
{
    if (hl_large_lookup(h, hl_block_payload(b)) != 1)
        hl_corrupt("malloc_usable_size(): invalid pointer", hl_block_payload(b));
    return hl_block_size(b) - HL_HDR_BYTES;
}

void hl_large_release_all(hl_heap *h)
{
    struct hl_mapped *m = h->maps.next;
    while (m != &h->maps) {
        struct hl_mapped *next = m->next;
        munmap(m, m->len);
        m = next;
    }
    h->maps.next = h->maps.prev = &h->maps;
    h->mapped_bytes = h->mapped_blocks = 0;
    struct hl_maptab *t = &h->maptab;
    if (t->slot)
        memset(t->slot, 0, t->cap * sizeof *t->slot);
    t->len = 0;
    memset(t->gone, 0, sizeof t->gone);
}

void hl_large_fini(hl_heap *h)
{
    hl_large_release_all(h);
    struct hl_maptab *t = &h->maptab;
    if (t->slot)
        munmap(t->slot, t->cap * sizeof *t->slot);
    t->slot = NULL;
    t->cap = 0;
}
