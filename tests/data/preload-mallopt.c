/*
 * preload-mallopt.c - mallopt under heaplab's drop-in malloc: before the
 * first allocation the thresholds take (the heap is made anew), after it
 * mallopt says 0 (tests/check_preload.c).  No constructor: nothing may
 * allocate before main.  Exit status 0, or 1 with the failed check.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL preload-mallopt.c:%d: %s\n", __LINE__, #cond);                            \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    CHECK(mallopt(M_MMAP_THRESHOLD, 64 * 1024) == 1);
    CHECK(mallopt(M_TOP_PAD, 0) == 1);
    CHECK(mallopt(M_TRIM_THRESHOLD, 256 * 1024) == 1);
    sink = malloc(100000); /* under the default 128 KiB, over the 64 KiB asked for */
    struct mallinfo2 mi = mallinfo2();
    CHECK(mi.hblks == 1 && mi.hblkhd >= 100000);
    free(sink);
    CHECK(mallopt(M_MMAP_THRESHOLD, 32 * 1024) == 0); /* the program has allocated */
    printf("ok\n");
    return 0;
}
