/*
 * check_stress.c - eight threads on one locking heap, a million operations
 * each, every block freed by whichever thread finds it: a stress test, not
 * a benchmark (nothing here is timed).
 *
 * The threads share a ring of 1024 slots, each behind a mutex of its own.
 * An operation takes a random slot: an empty one gets a new block (malloc,
 * calloc or memalign); a full one has its block's pattern checked and the
 * block freed, reallocated or replaced.  So most frees and reallocs are of
 * another thread's block, and the live blocks stay under the ring's size:
 * worst fit, whose malloc walks every free block, took 75 s with 4096
 * slots and takes 11 with 1024.  Sizes are 8 to 4096 bytes, spread evenly
 * over their powers of two, and one in 1024 past the mmap threshold, held
 * fixed so that these really take the mmap path (at one in 128, mapping
 * and touching them was more than half the time).  Every block carries a
 * pattern of its own (pattern.h), written when it is made and checked on
 * every free and realloc; the checker runs at the end.
 *
 * The hl_ API directly, no preload, so under `make SANITIZER=thread` the
 * heap's locking is what ThreadSanitizer watches (it replaces malloc, not
 * hl_malloc); a race ends the run with its exit status 66.  There, where
 * each operation costs ten times as much, the threads make 50 000
 * operations each; HEAPLAB_STRESS_OPS sets the count in any build.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"
#include "testutil.h"

enum { THREADS = 8, SLOTS = 1024, LARGE_ONE_IN = 1024, ALIGN = 64 };

#define OPS_PER_THREAD (TL_THREAD_SANITIZER ? 50000L : 1000000L)

struct slot {
    pthread_mutex_t lock;
    unsigned char *p; /* the block, or NULL */
    size_t n;         /* bytes asked for */
    uint64_t id;      /* its pattern */
    int owner;        /* the thread that made it */
};

static struct slot ring[SLOTS];

struct worker {
    hl_heap *h;
    pthread_barrier_t *start;
    int index;
    long ops;
    long cross_frees; /* frees and reallocs of another thread's block */
    long errors;
    char first_error[200];
};

static void report(struct worker *w, const char *what, const void *p, size_t n, uint64_t id)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %d: %s (%p, %zu bytes, id %llu)", w->index,
                 what, p, n, (unsigned long long)id);
}

/* 8 to 4096 bytes, each power of two as likely, or now and then a block
 * past the mmap threshold */
static size_t draw_size(struct pat_rng *r)
{
    if (pat_below(r, LARGE_ONE_IN) == 0)
        return HL_DEFAULT_MMAP_THRESHOLD + pat_below(r, 64 * 1024);
    size_t top = (size_t)8 << pat_below(r, 10);
    return 8 + pat_below(r, top - 7);
}

/* A new block in slot s (empty, locked). */
static void make(struct worker *w, struct pat_rng *r, struct slot *s, uint64_t id)
{
    size_t n = draw_size(r);
    size_t how = pat_below(r, 16);
    unsigned char *p = how < 2 ? hl_calloc(w->h, 1, n) : how < 3 ? hl_memalign(w->h, ALIGN, n) : hl_malloc(w->h, n);
    if (!p) {
        report(w, "allocation failed", NULL, n, id);
        return;
    }
    if (how < 2 && pat_first_nonzero(p, n) >= 0)
        report(w, "calloc's block is not zeroed", p, n, id);
    if (how == 2 && (uintptr_t)p % ALIGN)
        report(w, "memalign's block is misaligned", p, n, id);
    pat_fill(p, n, id);
    s->p = p;
    s->n = n;
    s->id = id;
    s->owner = w->index;
}

/* Slot s (full, locked): the block's pattern checked, then the block freed
 * (half the time), reallocated or replaced. */
static void unmake(struct worker *w, struct pat_rng *r, struct slot *s, uint64_t id)
{
    if (pat_verify(s->p, s->n, s->id) >= 0)
        report(w, "pattern broken", s->p, s->n, s->id);
    w->cross_frees += s->owner != w->index;
    size_t what = pat_below(r, 4);
    if (what == 0) {
        size_t n = draw_size(r);
        unsigned char *q = hl_realloc(w->h, s->p, n);
        if (!q) {
            report(w, "realloc failed", s->p, n, s->id);
            return;
        }
        if (pat_verify(q, n < s->n ? n : s->n, s->id) >= 0)
            report(w, "realloc lost the block's bytes", q, n, s->id);
        pat_fill(q, n, id);
        s->p = q;
        s->n = n;
        s->id = id;
        s->owner = w->index;
        return;
    }
    hl_free(w->h, s->p);
    s->p = NULL;
    if (what == 1)
        make(w, r, s, id);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pat_rng r = {0x5eed0000u + (uint64_t)w->index};
    uint64_t id = (uint64_t)(w->index + 1) << 40; /* ids of one thread never meet another's */
    pthread_barrier_wait(w->start);
    for (long op = 0; op < w->ops; op++) {
        struct slot *s = &ring[pat_below(&r, SLOTS)];
        pthread_mutex_lock(&s->lock);
        if (s->p)
            unmake(w, &r, s, ++id);
        else
            make(w, &r, s, ++id);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* The operations per thread: HEAPLAB_STRESS_OPS, or the build's count. */
static long ops_per_thread(void)
{
    const char *env = getenv("HEAPLAB_STRESS_OPS");
    if (!env || !*env)
        return OPS_PER_THREAD;
    char *end;
    long n = strtol(env, &end, 10);
    ck_assert_msg(*end == 0 && n > 0, "HEAPLAB_STRESS_OPS=%s: expected a positive count", env);
    return n;
}

START_TEST(eight_threads_free_each_others_blocks)
{
    TL_POLICY(pol);
    struct hl_config cfg;
    hl_config_default(&cfg, pol);
    cfg.lock = 1;
    cfg.mmap_threshold = HL_DEFAULT_MMAP_THRESHOLD;
    cfg.mmap_dynamic = 0;
    hl_heap *h = tl_heap(&cfg);
    long ops = ops_per_thread();

    for (int i = 0; i < SLOTS; i++) {
        ck_assert_int_eq(pthread_mutex_init(&ring[i].lock, NULL), 0);
        ring[i].p = NULL;
    }
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.h = h, .start = &start, .index = i, .ops = ops};
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    long cross = 0;
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        cross += w[i].cross_frees;
    }
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(w[i].errors == 0, "%s: %ld errors, the first: %s", pol->name, w[i].errors, w[i].first_error);
    /* with eight threads on random slots, most blocks end in another's hands */
    ck_assert_msg(cross > ops, "%s: %ld of the frees and reallocs crossed threads", pol->name, cross);

    TL_CHECK(h);
    size_t live = 0;
    for (int i = 0; i < SLOTS; i++) {
        if (ring[i].p) {
            TL_ASSERT_PATTERN(ring[i].p, ring[i].n, ring[i].id);
            hl_free(h, ring[i].p);
            live++;
        }
        pthread_mutex_destroy(&ring[i].lock);
    }
    ck_assert_uint_gt(live, 0);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_eq(st.live_blocks, 0);
    ck_assert_uint_eq(st.mapped_blocks, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

Suite *make_stress_suite(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, eight_threads_free_each_others_blocks, 0, (int)hl_policy_count());
    suite_add_tcase(s, tc);
    return s;
}
