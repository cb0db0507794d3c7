/*
 * record-prog.c - allocation sequences known in advance, for the record
 * suite (tests/check_record.c) to record with `heaplab record` and compare
 * op for op.
 *
 *     record-prog MODE
 *
 * Each sequence sits between two markers, malloc(MARK_BEGIN) and
 * malloc(MARK_END) (each freed at once), so the suite finds it among the
 * allocations of the loader and libc.  Modes:
 *   seq       every function of the API once or more, in one thread
 *   threads   three threads take turns (semaphores: a fixed order), the
 *             main thread frees their blocks
 *   pingpong  one thread allocates, another frees what it hands over, at
 *             the same time, both spinning so that a malloc runs while the
 *             other thread is inside the free of the block it gets back:
 *             prints "reused N", the allocations that got back an address
 *             the other thread had freed
 *   fork      a child runs a sequence of its own (freeing a block its
 *             parent allocated before fork), then the parent; prints
 *             "child PID"
 *   exec      a sequence, then exec of itself with mode "none"
 *   term      a sequence, then SIGTERM to itself
 *   abort     a sequence, then abort()
 *   _exit     a sequence, then _exit(7)
 *   stdio     fopen, fprintf, fclose and printf inside the markers
 *   closefds  9000 mallocs (the recorder's buffer is written: its log is
 *             open), every descriptor from 3 up closed, 9000 frees
 *   none      nothing
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define MARK_BEGIN 1000001
#define MARK_END 1000002

/* The compiler drops a malloc/free pair whose block is never read: every
 * block goes through use(), into a volatile. */
static void *volatile sink;

static void *use(void *p)
{
    sink = p;
    return sink;
}

static void mark(size_t n) { free(use(malloc(n))); }

static void seq(void)
{
    mark(MARK_BEGIN);
    void *a = use(malloc(100));
    void *b = use(calloc(10, 20));
    a = use(realloc(a, 3000));
    void *c = NULL;
    if (posix_memalign(&c, 64, 500) != 0)
        abort();
    use(c);
    void *d = use(aligned_alloc(128, 256));
    void *e = use(memalign(32, 40));
    void *f = use(valloc(1000));
    void *g = use(pvalloc(5000));
    b = use(reallocarray(b, 30, 10));
    free(use(NULL));
    void *h = use(realloc(NULL, 50));
    free(a);
    h = use(realloc(h, 0));
    free(c);
    free(d);
    free(e);
    free(f);
    free(g);
    free(b);
    sink = h;
    void *i = use(malloc(0));
    free(i);
    mark(MARK_END);
}

/* ---- threads ------------------------------------------------------------------ */

static sem_t turn[4], ready;
static void *kept[3];

static void *worker(void *arg)
{
    int k = (int)(intptr_t)arg;
    mark(10); /* the thread's first allocation: glibc's per-thread state */
    sem_post(&ready);
    sem_wait(&turn[k]);
    void *p = use(malloc(1000 + (size_t)k));
    void *q = use(calloc(2, 100 + (size_t)k));
    p = use(realloc(p, 2000 + (size_t)k));
    free(q);
    kept[k] = p;
    sem_post(&turn[k + 1]);
    return NULL;
}

static void threads(void)
{
    pthread_t t[3];
    for (int k = 0; k < 4; k++)
        sem_init(&turn[k], 0, 0);
    sem_init(&ready, 0, 0);
    for (int k = 0; k < 3; k++)
        pthread_create(&t[k], NULL, worker, (void *)(intptr_t)k);
    for (int k = 0; k < 3; k++)
        sem_wait(&ready);
    mark(MARK_BEGIN);
    sem_post(&turn[0]);
    sem_wait(&turn[3]);
    for (int k = 0; k < 3; k++)
        free(kept[k]);
    mark(MARK_END);
    for (int k = 0; k < 3; k++)
        pthread_join(t[k], NULL);
}

/* ---- pingpong: a free in one thread, the malloc that gets it back in another --- */

#define PP_N 100000
#define RING 1 /* one slot: the malloc runs the moment the other thread takes the block to free it */
static void *_Atomic ring[RING];
static atomic_int done_producing;

static void *consumer(void *arg)
{
    (void)arg;
    unsigned head = 0, spin = 0;
    for (;;) {
        void *p = atomic_exchange(&ring[head % RING], NULL);
        if (p) {
            free(p);
            head++;
        } else if (atomic_load(&done_producing) && head == PP_N) {
            return NULL;
        } else if (++spin % 1024 == 0) {
            sched_yield();
        }
    }
}

static int seen(uintptr_t *set, size_t cap, uintptr_t p)
{
    for (size_t i = (p >> 4) * 2654435761u % cap;; i = (i + 1) % cap) {
        if (set[i] == p)
            return 1;
        if (set[i] == 0) {
            set[i] = p;
            return 0;
        }
    }
}

static void pingpong(void)
{
    size_t cap = 4 * PP_N;
    uintptr_t *set = use(calloc(cap, sizeof *set));
    pthread_t t;
    pthread_create(&t, NULL, consumer, NULL);
    mark(MARK_BEGIN);
    long reused = 0;
    for (unsigned i = 0; i < PP_N; i++) {
        void *p = use(malloc(48));
        reused += seen(set, cap, (uintptr_t)p);
        for (int spin = 0; atomic_load(&ring[i % RING]) != NULL;)
            if (++spin % 1024 == 0)
                sched_yield();
        atomic_store(&ring[i % RING], p);
    }
    atomic_store(&done_producing, 1);
    pthread_join(t, NULL);
    mark(MARK_END);
    free(set);
    printf("reused %ld\n", reused);
}

/* ---- processes ---------------------------------------------------------------- */

static void forked(void)
{
    void *keep = use(malloc(777));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        mark(MARK_BEGIN);
        void *a = use(malloc(4321));
        free(keep); /* allocated before this process's recording began */
        free(a);
        mark(MARK_END);
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    mark(MARK_BEGIN);
    void *b = use(malloc(1234));
    free(b);
    mark(MARK_END);
    free(keep);
    printf("child %ld\n", (long)pid);
}

/* 200 blocks of 10..209 bytes, then their frees: the ends of the processes'
 * modes */
static void many(void)
{
    void *p[200];
    mark(MARK_BEGIN);
    for (int i = 0; i < 200; i++)
        p[i] = use(malloc(10 + (size_t)i));
    for (int i = 0; i < 200; i++)
        free(p[i]);
    mark(MARK_END);
}

/* a program that closes what it did not open, as daemons do */
static void closefds(void)
{
    enum { N = 9000 };
    static void *p[N];
    mark(MARK_BEGIN);
    for (int i = 0; i < N; i++)
        p[i] = use(malloc(16 + (size_t)(i % 100)));
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    for (int i = 0; i < N; i++)
        free(p[i]);
    mark(MARK_END);
}

static void with_stdio(const char *path)
{
    mark(MARK_BEGIN);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f, "%d %s\n", 42, "forty-two");
    fclose(f);
    printf("stdio %d\n", 1);
    fflush(stdout);
    mark(MARK_END);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "seq") == 0)
        seq();
    else if (strcmp(mode, "threads") == 0)
        threads();
    else if (strcmp(mode, "pingpong") == 0)
        pingpong();
    else if (strcmp(mode, "fork") == 0)
        forked();
    else if (strcmp(mode, "exec") == 0) {
        many();
        execl(argv[0], argv[0], "none", (char *)NULL);
        return 1;
    } else if (strcmp(mode, "term") == 0) {
        many();
        kill(getpid(), SIGTERM);
    } else if (strcmp(mode, "abort") == 0) {
        many();
        abort();
    } else if (strcmp(mode, "_exit") == 0) {
        many();
        _exit(7);
    } else if (strcmp(mode, "closefds") == 0)
        closefds();
    else if (strcmp(mode, "stdio") == 0 && argc > 2)
        with_stdio(argv[2]);
    else if (strcmp(mode, "none") != 0) {
        fprintf(stderr, "usage: record-prog seq|threads|pingpong|fork|exec|term|abort|_exit|closefds|stdio FILE|none\n");
        return 2;
    }
    return 0;
}
