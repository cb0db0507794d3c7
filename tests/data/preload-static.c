/*
 * preload-static.c - a program linked with libheaplab.a, the hl_ API, keeps
 * its C library's malloc: the static library defines no malloc
 * (tests/check_preload.c; built with -DSANITIZED in a sanitizer build).  Exit status 0, or 1 with the failed check.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL preload-static.c:%d: %s\n", __LINE__, #cond);                             \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    struct hl_config cfg;
    hl_config_default(&cfg, hl_policy_lookup("tlsf"));
    hl_heap *h = hl_heap_create(&cfg);
    CHECK(h != NULL);
    void *p = hl_malloc(h, 100);
    CHECK(p != NULL && hl_usable_size(h, p) >= 100);
    hl_free(h, p);
    hl_heap_destroy(h);
    /* malloc is the C library's (in a sanitizer build, the sanitizer's
     * runtime's), never the program's own */
    Dl_info info;
#ifdef SANITIZED
    const char *owner = ".so";
#else
    const char *owner = "libc.so";
#endif
    CHECK(dladdr((void *)malloc, &info) && info.dli_fname && strstr(info.dli_fname, owner));
    CHECK(dladdr((void *)free, &info) && info.dli_fname && strstr(info.dli_fname, owner));
    printf("ok\n");
    return 0;
}
