/*
 * mm.h - the malloc lab's allocator interface, as heaplab compiles a
 * solution (heaplab replay -p mm:mm.c).
 *
 * Written for heaplab, with declarations that match both handouts' mm.h:
 * the CS:APP one (int mm_init, team_t) and CMU 15-213's (bool mm_init,
 * bool mm_checkheap(int lineno), mm_calloc).  heaplab compiles with DRIVER
 * defined, as CMU's driver does, so a solution that renames malloc to
 * mm_malloc under DRIVER gets the mm_ names here.
 *
 * mm_init and mm_checkheap are declared differently by different handouts
 * (int, bool or void; an int argument or none).  heaplab reads how the
 * solution defines them and passes HEAPLAB_MM_INIT_RET,
 * HEAPLAB_MM_CHECKHEAP_RET and HEAPLAB_MM_CHECKHEAP_ARGS to match, so the
 * declarations below never conflict with the solution's own.  Compiled
 * without them (by hand), mm_init is the classic int mm_init(void) and
 * mm_checkheap is left to the solution.
 */
#ifndef HEAPLAB_MALLOCLAB_MM_H
#define HEAPLAB_MALLOCLAB_MM_H

#include <stddef.h>
#include <stdio.h>
#ifdef HEAPLAB_MM_STDBOOL /* the solution writes bool, as CMU's handout lets it */
#include <stdbool.h>
#include <stdint.h>
#endif

#ifndef HEAPLAB_MM_INIT_RET
#define HEAPLAB_MM_INIT_RET int
#endif

/* 0 (int), true (bool) or nothing (void) on success; -1 or false on failure. */
extern HEAPLAB_MM_INIT_RET mm_init(void);
extern void *mm_malloc(size_t size);
extern void mm_free(void *ptr);
extern void *mm_realloc(void *ptr, size_t size);
extern void *mm_calloc(size_t nmemb, size_t size); /* optional */

#ifdef HEAPLAB_MM_CHECKHEAP_RET
/* optional; heaplab calls it under --check-every N: a bool or int result
 * of false/0 is a violation; lineno is the operation count */
extern HEAPLAB_MM_CHECKHEAP_RET mm_checkheap(HEAPLAB_MM_CHECKHEAP_ARGS);
#endif

/* The classic handout's team record: a solution may define `team`. */
typedef struct {
    char *teamname; /* ID1+ID2 or ID1 */
    char *name1;    /* full name of the first member */
    char *id1;      /* login ID of the first member */
    char *name2;    /* full name of the second member (if any) */
    char *id2;      /* login ID of the second member */
} team_t;

extern team_t team;

#endif
