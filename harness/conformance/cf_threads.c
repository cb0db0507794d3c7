/*
 * cf_threads.c - the lock: four threads on one locking heap.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cf.h"

/*
 * Four threads on one locking heap at once, each with its own blocks and
 * patterns, the checker run from the threads too.  The threads start
 * together at a barrier and share every structure of the heap (free index,
 * counters, the mapped list, the dynamic threshold): under SANITIZER=thread
 * a missing or misplaced lock shows as a data race, which fails the test
 * (ThreadSanitizer's exit status 66).
 */
enum { THREADS = 4, THREAD_SLOTS = 200, THREAD_OPS = 12000 };

struct worker {
    hl_heap *h;
    pthread_barrier_t *start;
    unsigned id;
    struct cf_slot s[THREAD_SLOTS];
    size_t live;
    long errors;
    char first_error[160];
};

static void worker_fail(struct worker *w, const char *what, const void *p, size_t n)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %u: %s (%p, %zu bytes)", w->id, what, p, n);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct pat_rng r = {1000 + w->id};
    uint64_t id = (uint64_t)w->id << 40;
    pthread_barrier_wait(w->start);
    for (int op = 1; op <= THREAD_OPS; op++) {
        struct cf_slot *x = &w->s[pat_below(&r, THREAD_SLOTS)];
        size_t n = pat_below(&r, 100) == 0 ? THRESHOLD + pat_below(&r, 64 * KiB) : pat_below(&r, 2000);
        if (!x->p) {
            size_t k = pat_below(&r, 3);
            x->p = k == 0 ? hl_malloc(w->h, n) : k == 1 ? hl_calloc(w->h, n, 1) : hl_memalign(w->h, 128, n);
            if (!x->p) {
                worker_fail(w, "allocation failed", NULL, n);
                continue;
            }
            if (k == 1 && pat_first_nonzero(x->p, n) >= 0)
                worker_fail(w, "calloc not zeroed", x->p, n);
            if (k == 2 && (uintptr_t)x->p % 128)
                worker_fail(w, "memalign misaligned", x->p, n);
            if (hl_usable_size(w->h, x->p) < n)
                worker_fail(w, "usable size too small", x->p, n);
            x->n = n;
            x->id = ++id;
            pat_fill(x->p, n, x->id);
            w->live++;
        } else {
            if (pat_verify(x->p, x->n, x->id) >= 0)
                worker_fail(w, "pattern broken", x->p, x->n);
            if (pat_below(&r, 2)) {
                hl_free(w->h, x->p);
                x->p = NULL;
                w->live--;
            } else {
                char *q = hl_realloc(w->h, x->p, n + 1);
                if (!q) {
                    worker_fail(w, "realloc failed", x->p, n + 1);
                    continue;
                }
                if (pat_verify(q, cf_min_size(x->n, n + 1), x->id) >= 0)
                    worker_fail(w, "realloc lost content", q, n + 1);
                x->p = q;
                x->n = n + 1;
                x->id = ++id;
                pat_fill(q, x->n, x->id);
            }
        }
        if (op % 3000 == 0 && hl_check(w->h, stderr) != 0)
            worker_fail(w, "hl_check found violations", NULL, 0);
    }
    return NULL;
}

void cf_locking_heap_survives_four_threads(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_config_of(spec);
    CF_INT_EQ(cfg.lock, 1);
    hl_heap *h = cf_heap(&cfg);
    static struct worker w[THREADS];
    pthread_barrier_t start;
    CF_INT_EQ(pthread_barrier_init(&start, NULL, THREADS), 0);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].h = h;
        w[i].start = &start;
        w[i].id = i;
        CF_INT_EQ(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        CF_INT_EQ(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);

    size_t live = 0;
    for (int i = 0; i < THREADS; i++) {
        CF_ASSERT_MSG(w[i].errors == 0, "%ld errors, the first: %s", w[i].errors, w[i].first_error);
        live += w[i].live;
    }
    CF_CHECK(h);
    struct hl_stats st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks + st.mapped_blocks, live);
    for (int i = 0; i < THREADS; i++)
        for (int s = 0; s < THREAD_SLOTS; s++)
            if (w[i].s[s].p) {
                CF_ASSERT_PATTERN(w[i].s[s].p, w[i].s[s].n, w[i].s[s].id);
                hl_free(h, w[i].s[s].p);
            }
    st = cf_stats(h);
    CF_UINT_EQ(st.live_blocks, 0);
    CF_UINT_EQ(st.mapped_blocks, 0);
    CF_CHECK(h);
    hl_heap_destroy(h);
}
