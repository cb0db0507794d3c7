/*
 * import-prog.c - a known allocation sequence for the importer tests
 * (tests/check_import.c): run under mtrace, ltrace or heaptrack, its log
 * must import to the ops the suite expects.  Sizes 1001..5004 mark its
 * blocks among the C library's own.  Built -O0: no call is optimized out.
 *
 *   import-prog          the sequence, between mtrace() and muntrace()
 *   import-prog threads  then 3 threads, each 20 x malloc, realloc, free
 *   import-prog plain    the sequence, no mtrace() call of its own
 */
#include <malloc.h>
#include <mcheck.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;
static void *volatile null; /* free(NULL) the compiler cannot drop */

static void *worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    for (int i = 0; i < 20; i++) {
        void *p = malloc(2000 + t);
        sink = p;
        p = realloc(p, 3000 + t);
        sink = p;
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    /* too large to succeed, and unknown to the compiler */
    size_t huge = SIZE_MAX >> (argc > 5 ? 1 : 2);
    int plain = argc > 1 && strcmp(argv[1], "plain") == 0;
    if (!plain)
        mtrace();
    void *a = malloc(1001);
    void *b = calloc(7, 143);
    void *c = memalign(64, 1003);
    void *d = aligned_alloc(256, 1024);
    a = realloc(a, 5004);
    free(b);
    void *e = realloc(NULL, 1005);
    sink = e;
    sink = realloc(e, 0); /* glibc: frees e, NULL */
    sink = malloc(huge);  /* fails */
    void *c2 = realloc(c, huge); /* fails: c stays */
    free(null);
    free(c2 ? c2 : c);
    free(d);
    free(a);
    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        pthread_t th[3];
        for (int i = 0; i < 3; i++)
            pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
        for (int i = 0; i < 3; i++)
            pthread_join(th[i], NULL);
    }
    if (!plain)
        muntrace();
    return 0;
}
