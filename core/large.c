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
 */
#define _GNU_SOURCE 1 /* mremap */
#include <errno.h>
#include <sys/mman.h>

#include "core.h"

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
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
    h->mmap_calls++;
    h->mapped_blocks++;
    h->mapped_bytes += len;
    hl_note_heap_peak(h);
    uint64_t live = h->live_bytes + h->mapped_bytes;
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
    return pay;
}

void hl_large_free(hl_heap *h, hl_block *b)
{
    struct hl_mapped *m = hl_large_map_of(b);
    size_t len = m->len;
    if (((uintptr_t)m & (h->src.pagesize - 1)) || m->next->prev != m || m->prev->next != m)
        hl_corrupt("free(): corrupted mapped block", hl_block_payload(b));
    m->prev->next = m->next;
    m->next->prev = m->prev;
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
    struct hl_mapped *m = hl_large_map_of(b);
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
    struct hl_mapped *nm = mremap(m, old, len, MREMAP_MAYMOVE);
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
    h->mapped_bytes = h->mapped_bytes - old + len;
    hl_note_heap_peak(h);
    uint64_t live = h->live_bytes + h->mapped_bytes;
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
    return pay;
}

size_t hl_large_usable(const hl_block *b) { return hl_block_size(b) - HL_HDR_BYTES; }

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
}
