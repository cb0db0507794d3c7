/*
 * preload-api.c - a program the preload suite (tests/check_preload.c) runs
 * under heaplab's drop-in malloc: `preload-api MODE [ARG]`.  Exit status 0
 * when every check of MODE held, else 1 with one line per failed check on
 * standard output.  Built with -O2 like any program, so gcc's knowledge of
 * malloc is on; pointers pass through `keep` so that gcc cannot prove a
 * block unused and leave its malloc out.
 *
 * It is linked with preload-early.so, whose constructor allocates before
 * the library's own constructor runs (the first call starts the heap), and
 * has a constructor of its own that allocates before main.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL preload-api.c:%d: %s\n", __LINE__, #cond);                                \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void *volatile sink;
static void *keep(void *p)
{
    sink = p;
    return p;
}

/* realloc as gcc cannot see it: the pointer handed to a realloc that
 * fails stays the program's (-Wuse-after-free does not know that) */
static void *(*volatile realloc_of)(void *, size_t) = realloc;
/* memset as gcc cannot see it: a store right before free is dead to gcc */
static void *(*volatile memset_of)(void *, int, size_t) = memset;
static void *(*volatile memcpy_of)(void *, const void *, size_t) = memcpy;

/* sizes gcc cannot see through */
static volatile size_t huge = SIZE_MAX / 2;
static volatile size_t past = 16;

extern void *early_block; /* preload-early.so: 100 bytes of 0xe7 */
static void *before_main; /* 48 bytes of 0x5a */

__attribute__((constructor)) static void program_constructor(void)
{
    before_main = keep(malloc(48));
    if (before_main)
        memset(before_main, 0x5a, 48);
}

static int all(const void *p, int byte, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != byte)
            return 0;
    return 1;
}

static int aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* gcc -O2 makes this a call to calloc: the trap a library built the same
 * way would fall into when its calloc is malloc + memset */
__attribute__((noinline)) static void *zeroed(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

static void mode_exports(void)
{
    Dl_info info;
    CHECK(dladdr((void *)malloc, &info) && info.dli_fname && strstr(info.dli_fname, "libheaplab-malloc.so"));
    CHECK(dladdr(dlsym(RTLD_DEFAULT, "calloc"), &info) && strstr(info.dli_fname, "libheaplab-malloc.so"));

    /* before anything large is freed: that raises the mmap threshold, as in glibc */
    struct mallinfo2 a = mallinfo2();
    char *m = keep(malloc(1000));
    struct mallinfo2 b = mallinfo2();
    CHECK(b.uordblks >= a.uordblks + 1000);
    CHECK(b.uordblks + b.fordblks <= b.arena);
    char *big = keep(malloc(1 << 20));
    struct mallinfo2 d = mallinfo2();
    CHECK(d.hblks >= 1 && d.hblkhd >= (1 << 20));
    free(big);
    free(m);

    void *z = keep(malloc(0));
    CHECK(z != NULL);
    free(z);
    free(NULL);
    static const size_t sizes[] = {1, 24, 100, 1000, 5000, 70000, 200000, 3 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = keep(malloc(sizes[i]));
        CHECK(p && aligned(p, 16));
        CHECK(malloc_usable_size(p) >= sizes[i]);
        memset(p, 0xab, sizes[i]);
        free(p);
    }
    CHECK(malloc_usable_size(NULL) == 0);

    for (size_t a = sizeof(void *); a <= 65536; a *= 2) {
        void *p = NULL;
        CHECK(posix_memalign(&p, a, 100) == 0 && p && aligned(p, a));
        CHECK(malloc_usable_size(p) >= 100);
        free(p);
    }
    void *p = NULL;
    CHECK(posix_memalign(&p, 3, 10) == EINVAL);
    CHECK(posix_memalign(&p, 24, 10) == EINVAL);
    p = keep(aligned_alloc(64, 128));
    CHECK(p && aligned(p, 64));
    free(p);
    errno = 0;
    CHECK(aligned_alloc(24, 48) == NULL && errno == EINVAL);
    p = keep(memalign(4096, 10));
    CHECK(p && aligned(p, 4096));
    free(p);
    p = keep(memalign(48, 10)); /* glibc rounds up to 64 */
    CHECK(p && aligned(p, 64));
    free(p);
    p = keep(memalign(0, 10)); /* glibc: malloc */
    CHECK(p && aligned(p, 16));
    free(p);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    p = keep(valloc(10));
    CHECK(p && aligned(p, page));
    free(p);
    p = keep(pvalloc(10));
    CHECK(p && aligned(p, page) && malloc_usable_size(p) >= page);
    free(p);

    /* calloc zeroes memory that was used before */
    char *dirty = keep(malloc(256));
    memset(dirty, 0xff, 256);
    free(dirty);
    char *c = keep(calloc(16, 16));
    CHECK(c && all(c, 0, 256));
    free(c);
    c = keep(calloc(1, 300000));
    CHECK(c && all(c, 0, 300000));
    free(c);
    errno = 0;
    CHECK(calloc(huge, 4) == NULL && errno == ENOMEM);
    dirty = keep(malloc(1000));
    memset(dirty, 0xff, 1000);
    free(dirty);
    c = keep(zeroed(1000));
    CHECK(c && all(c, 0, 1000));
    free(c);

    errno = 0;
    CHECK(reallocarray(NULL, huge, 4) == NULL && errno == ENOMEM);
    char *r = keep(reallocarray(NULL, 10, 10));
    CHECK(r != NULL);
    free(r);
    r = keep(realloc(NULL, 100));
    CHECK(r != NULL);
    memset(r, 0x42, 100);
    r = keep(realloc(r, 10000));
    CHECK(r && all(r, 0x42, 100));
    r = keep(realloc(r, 50));
    CHECK(r && all(r, 0x42, 50));
    CHECK(realloc(r, 0) == NULL); /* frees, as glibc */


    CHECK(mallopt(12345, 1) == 0);
    CHECK(mallopt(M_ARENA_MAX, 1) == 0);
    CHECK(mallopt(M_MMAP_THRESHOLD, 65536) == 0); /* too late: the program has allocated */
    int t = malloc_trim(0);
    CHECK(t == 0 || t == 1);
    malloc_stats();
}

static void mode_enomem(void)
{
    errno = 0;
    CHECK(malloc(huge) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(huge * 2 + 1) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(calloc(huge, 1) == NULL && errno == ENOMEM);
    char *p = keep(malloc(100));
    memset(p, 7, 100);
    errno = 0;
    CHECK(realloc_of(p, huge) == NULL && errno == ENOMEM);
    CHECK(malloc_usable_size(p) >= 100 && all(p, 7, 100)); /* untouched */
    free(p);
    void *q = NULL;
    CHECK(posix_memalign(&q, 64, huge) == ENOMEM);
    errno = 0;
    CHECK(aligned_alloc(4096, huge) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(valloc(huge) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(pvalloc(SIZE_MAX - 10) == NULL && errno == ENOMEM);
}

static void mode_ctor(void)
{
    CHECK(early_block && malloc_usable_size(early_block) >= 100 && all(early_block, 0xe7, 100));
    CHECK(before_main && malloc_usable_size(before_main) >= 48 && all(before_main, 0x5a, 48));
    free(early_block);
    free(before_main);
}

static void mode_double_free(void)
{
    void *p = keep(malloc(40));
    free(p);
    free(sink);
}

static void mode_overrun(void)
{
    char *a = keep(malloc(40));
    keep(malloc(40));
    memset_of(a, 0x55, malloc_usable_size(a) + past); /* into the next block's header */
    free(a);
}

/* A write into a freed block (use after free): its links - a free list's,
 * a tree's - lead to a page that is not mapped.  The checker, run before
 * the next operation, must say so rather than follow them. */
static void mode_write_after_free(void)
{
    char *a = keep(malloc(200));
    keep(malloc(200));
    char *volatile freed = a; /* what the program kept of it, which gcc cannot see through */
    free(a);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *gone = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(gone != MAP_FAILED && munmap(gone, page) == 0);
    char *wild[3] = {gone + 256, gone + 256, gone + 256};
    memcpy_of(freed, wild, sizeof wild);
    keep(malloc(200));
}

/* ---- threads ------------------------------------------------------------ */

static atomic_int stop;

/* Allocates, fills, checks and frees blocks of its own until told to stop
 * (rounds < 0) or for `rounds` rounds; the number of broken blocks. */
static long churn(unsigned seed, long rounds)
{
    enum { SLOTS = 128 };
    unsigned char *slot[SLOTS] = {0};
    size_t size[SLOTS] = {0};
    long bad = 0;
    for (long i = 0; rounds < 0 ? !atomic_load(&stop) : i < rounds; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) % SLOTS;
        if (slot[k]) {
            if (!all(slot[k], k & 0xff, size[k]))
                bad++;
            free(slot[k]);
        }
        size[k] = (seed >> 16) % 7 == 0 ? 1000 + (seed >> 4) % 40000 : 1 + (seed >> 16) % 300;
        if ((seed >> 20) % 97 == 0)
            size[k] = 140000; /* the mmap path */
        slot[k] = (seed >> 12) % 5 == 0 ? realloc(NULL, size[k]) : malloc(size[k]);
        if (slot[k])
            memset(slot[k], k & 0xff, size[k]);
    }
    for (unsigned k = 0; k < SLOTS; k++)
        free(slot[k]);
    return bad;
}

static void *churn_thread(void *arg) { return (void *)(intptr_t)churn((unsigned)(uintptr_t)arg, -1); }
static long rounds = 20000;
static void *rounds_thread(void *arg) { return (void *)(intptr_t)churn((unsigned)(uintptr_t)arg, rounds); }

/* four threads, `n` rounds each (default 20000) */
static void mode_threads(const char *n)
{
    if (n)
        rounds = atol(n);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, rounds_thread, (void *)(uintptr_t)(i + 1)) == 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL);
    }
}

/* fork 50 times while four threads allocate: each child must be able to
 * allocate (malloc, write, check, free) and exit */
static void mode_fork(void)
{
    alarm(30); /* a deadlock ends in SIGALRM, not in a hung suite */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, churn_thread, (void *)(uintptr_t)(i + 7)) == 0);
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            _exit(churn((unsigned)i, 1000) == 0 ? 0 : 1);
        }
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            break;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* A mapping placed right above the program break: the break cannot move,
 * and the heap goes on in memory of its own (glibc's malloc goes on with
 * mmap; its tst-malloc-alternate-path tests the same).  Blocks below the
 * mmap threshold, 4 MiB of them, every byte checked. */
static void mode_blocked_break(void)
{
    keep(malloc(100)); /* the heap is up, on the break */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t brk = ((uintptr_t)sbrk(0) + page - 1) & ~(uintptr_t)(page - 1);
    void *wall = mmap((void *)brk, 16 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(wall == (void *)brk);
    CHECK(sbrk((intptr_t)(64 * page)) == (void *)-1); /* the break cannot move */
    enum { N = 128, SIZE = 32 * 1024 };
    char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = keep(malloc(SIZE));
        CHECK(p[i] != NULL);
        if (p[i])
            memset(p[i], i, SIZE);
    }
    for (int i = 0; i < N; i++)
        CHECK(!p[i] || all(p[i], (unsigned char)i, SIZE));
    for (int i = 0; i < N; i += 2)
        free(p[i]);
    for (int i = 0; i < N; i += 2) {
        p[i] = keep(malloc(SIZE / 2));
        CHECK(p[i] != NULL);
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    CHECK(sbrk(0) <= wall);
}

static void mode_stats(void)
{
    for (int i = 0; i < 100; i++)
        free(keep(malloc((size_t)i * 10)));
    keep(malloc(200000));
    printf("%ld\n", (long)getpid());
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "exports") == 0)
        mode_exports();
    else if (strcmp(mode, "enomem") == 0)
        mode_enomem();
    else if (strcmp(mode, "ctor") == 0)
        mode_ctor();
    else if (strcmp(mode, "double-free") == 0)
        mode_double_free();
    else if (strcmp(mode, "overrun") == 0)
        mode_overrun();
    else if (strcmp(mode, "threads") == 0)
        mode_threads(argc > 2 ? argv[2] : NULL);
    else if (strcmp(mode, "fork") == 0)
        mode_fork();
    else if (strcmp(mode, "stats") == 0)
        mode_stats();
    else if (strcmp(mode, "write-after-free") == 0)
        mode_write_after_free();
    else if (strcmp(mode, "blocked-break") == 0)
        mode_blocked_break();
    else if (strcmp(mode, "main") == 0)
        return printf("main ran\n") < 0;
    else if (strcmp(mode, "exit") == 0 && argc > 2)
        return atoi(argv[2]);
    else {
        printf("preload-api: unknown mode '%s'\n", mode);
        return 2;
    }
    if (failures == 0)
        printf("ok\n");
    return failures ? 1 : 0;
}
