/*
 * memlib.h - the malloc lab's memory system, as heaplab provides it to a
 * solution.  Written for heaplab with declarations compatible with both
 * handouts' memlib.h (CS:APP's mem_sbrk(int), CMU 15-213's
 * mem_sbrk(intptr_t), mem_memset and mem_memcpy).
 *
 * The heap is one contiguous range that only grows: mem_sbrk(incr) moves
 * its end up by incr bytes and returns the old end, or (void *)-1 with
 * errno = ENOMEM when incr is negative or the heap would pass its limit
 * (20 MiB, the lab's MAX_HEAP; heaplab replay --mm-max-heap raises it).
 * heaplab calls mem_init and mem_reset_brk itself before each mm_init; a
 * solution that calls them too gets an empty heap.
 */
#ifndef HEAPLAB_MALLOCLAB_MEMLIB_H
#define HEAPLAB_MALLOCLAB_MEMLIB_H

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

void mem_init(void);              /* an empty heap (the first call reserves it) */
void mem_deinit(void);            /* nothing: heaplab releases the heap itself */
void *mem_sbrk(intptr_t incr);    /* grow by incr >= 0 bytes; old end, or (void *)-1 */
void mem_reset_brk(void);         /* back to an empty heap */
void *mem_heap_lo(void);          /* first byte of the heap */
void *mem_heap_hi(void);          /* last byte of the heap (lo - 1 when empty) */
size_t mem_heapsize(void);        /* bytes in the heap */
size_t mem_pagesize(void);        /* the system's page size */
void *mem_memset(void *dest, int c, size_t n);             /* memset (CMU) */
void *mem_memcpy(void *dest, const void *src, size_t n);   /* memcpy (CMU) */

#endif
