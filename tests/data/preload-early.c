/*
 * preload-early.c - a shared library preload-api links with.  The dynamic
 * loader runs a program's libraries' constructors before those of a
 * preloaded library, so this malloc is the process's first: it must start
 * heaplab's heap from inside the call (tests/check_preload.c, bootstrap).
 */
#include <stdlib.h>
#include <string.h>

void *early_block;

__attribute__((constructor)) static void early(void)
{
    early_block = malloc(100);
    if (early_block)
        memset(early_block, 0xe7, 100);
}
