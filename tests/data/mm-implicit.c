/*
 * mm-implicit.c - a textbook malloc-lab solution, written for heaplab's
 * tests of the malloc-lab adapter (heaplab replay -p mm:FILE): an implicit
 * free list in the style of CS:APP section 9.9, so that its figures can be
 * checked by hand.
 *
 * Every block has a 4-byte header and a 4-byte footer (boundary tags)
 * holding its size and an allocated bit; blocks are multiples of 8 bytes,
 * 16 at least, and payloads are 8-byte aligned.  The heap starts with a
 * pad word and an allocated 8-byte prologue block, and ends with an
 * allocated 0-size epilogue header, so coalescing never needs an edge
 * case:
 *
 *     | pad | prologue hdr | prologue ftr | block ... | block | epilogue hdr |
 *
 * malloc: first fit from the start of the heap; the rest of the block
 * splits off when it is 16 bytes or more; no fit grows the heap by the
 * larger of the block and CHUNK bytes.  free: coalesce with free
 * neighbours at once.  realloc: a new block, a copy, a free.
 */
#include <stdio.h>
#include <string.h>

#include "memlib.h"
#include "mm.h"

team_t team = {"heaplab", "heaplab tests", "", "", ""};

#define WORD 4u          /* header and footer */
#define ALIGN 8u         /* payload alignment and block granularity */
#define MIN_BLOCK 16u    /* header + 8 payload bytes + footer */
#define CHUNK 4096u      /* least growth of the heap */

typedef unsigned int tag_t;

static char *first; /* the prologue's payload: the walk starts here */

static tag_t pack(size_t size, int used) { return (tag_t)size | (tag_t)(used ? 1 : 0); }
static tag_t get(const char *p) { return *(const tag_t *)(const void *)p; }
static void set(char *p, tag_t v) { *(tag_t *)(void *)p = v; }

/* bp is a payload address */
static char *header(char *bp) { return bp - WORD; }
static size_t size_of(char *bp) { return get(header(bp)) & ~(tag_t)(ALIGN - 1); }
static int used(char *bp) { return (int)(get(header(bp)) & 1); }
static char *footer(char *bp) { return bp + size_of(bp) - 2 * WORD; }
static char *next_block(char *bp) { return bp + size_of(bp); }
static char *prev_block(char *bp) { return bp - (get(bp - 2 * WORD) & ~(tag_t)(ALIGN - 1)); }

static void mark(char *bp, size_t size, int in_use)
{
    set(header(bp), pack(size, in_use));
    set(bp + size - 2 * WORD, pack(size, in_use));
}

static char *merge(char *bp)
{
    size_t size = size_of(bp);
    int prev_used = (int)(get(bp - 2 * WORD) & 1), next_used = used(next_block(bp));
    if (!next_used)
        size += size_of(next_block(bp));
    if (!prev_used) {
        bp = prev_block(bp);
        size += size_of(bp);
    }
    mark(bp, size, 0);
    return bp;
}

/* Grow the heap by `bytes` (a multiple of ALIGN): the old epilogue becomes
 * the new free block's header, a new epilogue follows it. */
static char *grow(size_t bytes)
{
    char *bp = mem_sbrk((intptr_t)bytes);
    if (bp == (char *)-1)
        return NULL;
    mark(bp, bytes, 0);
    set(header(next_block(bp)), pack(0, 1));
    return merge(bp);
}

int mm_init(void)
{
    char *p = mem_sbrk(4 * WORD);
    if (p == (char *)-1)
        return -1;
    set(p, 0);                             /* pad: payloads land on 8 */
    set(p + WORD, pack(2 * WORD, 1));      /* prologue header */
    set(p + 2 * WORD, pack(2 * WORD, 1));  /* prologue footer */
    set(p + 3 * WORD, pack(0, 1));         /* epilogue */
    first = p + 2 * WORD;
    return grow(CHUNK) ? 0 : -1;
}

static size_t block_for(size_t n)
{
    size_t b = (n + 2 * WORD + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    return b < MIN_BLOCK ? MIN_BLOCK : b;
}

static void place(char *bp, size_t need)
{
    size_t have = size_of(bp);
    if (have - need >= MIN_BLOCK) {
        mark(bp, need, 1);
        mark(next_block(bp), have - need, 0);
    } else {
        mark(bp, have, 1);
    }
}

void *mm_malloc(size_t n)
{
    if (n == 0)
        return NULL;
    size_t need = block_for(n);
    for (char *bp = first; size_of(bp) > 0; bp = next_block(bp))
        if (!used(bp) && size_of(bp) >= need) {
            place(bp, need);
            return bp;
        }
    char *bp = grow(need > CHUNK ? need : CHUNK);
    if (!bp)
        return NULL;
    place(bp, need);
    return bp;
}

void mm_free(void *ptr)
{
    if (!ptr)
        return;
    char *bp = ptr;
    mark(bp, size_of(bp), 0);
    merge(bp);
}

void *mm_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return mm_malloc(n);
    if (n == 0) {
        mm_free(ptr);
        return NULL;
    }
    char *to = mm_malloc(n);
    if (!to)
        return NULL;
    size_t keep = size_of(ptr) - 2 * WORD;
    memcpy(to, ptr, keep < n ? keep : n);
    mm_free(ptr);
    return to;
}

/* Nonzero when the heap is consistent (the CS:APP writeup's convention):
 * every header matches its footer, payloads are aligned, no two free
 * blocks touch, the walk ends at the heap's end. */
int mm_checkheap(int verbose)
{
    int ok = 1;
    char *bp;
    for (bp = first; size_of(bp) > 0; bp = next_block(bp)) {
        if ((size_t)bp % ALIGN || get(header(bp)) != get(footer(bp))) {
            if (verbose)
                fprintf(stderr, "mm_checkheap: bad block at %p\n", (void *)bp);
            ok = 0;
        }
        if (!used(bp) && !used(next_block(bp)) && size_of(next_block(bp)) > 0)
            ok = 0;
    }
    if (bp != (char *)mem_heap_hi() + 1)
        ok = 0;
    return ok;
}
