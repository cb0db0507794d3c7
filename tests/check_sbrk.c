/*
 * check_sbrk.c - the sbrk source under real load: heaps in two threads on
 * the one program break, a fork while another thread moves the break, and
 * the break moved behind the heap's back by the test itself.
 *
 * The sbrk source moves the process's real break: every test here runs in
 * a process of its own (Check's fork mode), and the fork tests fork again
 * and read their children's exit status.  The stress test is not a
 * benchmark: it counts nothing by the clock.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "testutil.h"

#define KiB ((size_t)1024)

/* Addresses compared (Check has ck_assert_ptr_eq and _ne only). */
#define ASSERT_ADDR(a, op, b)                                                                      \
    ck_assert_msg((uintptr_t)(a) op (uintptr_t)(b), "%s (%p) " #op " %s (%p)", #a, (void *)(a), #b,  \
                  (void *)(b))

/* Issue 13's load: blocks of 20 to 200 KB, all from the break (no mmap
 * path), a trim whenever 4 KiB are free at the top and no top pad, so
 * nearly every free at the top moves the break down and nearly every
 * malloc that does not fit moves it up. */
static struct hl_config sbrk_config(const struct hl_policy *pol)
{
    struct hl_config c;
    hl_config_default(&c, pol);
    c.source = HL_SOURCE_SBRK;
    c.mmap_threshold = 0;
    c.trim_threshold = 4 * KiB;
    c.top_pad = 0;
    return c;
}

/* ---- a thread's load on its own heap -------------------------------------------- */

enum { SLOTS = 6 };

struct load {
    hl_heap *h;
    uint64_t seed;
    long ops;               /* mallocs and frees to do; < 0: until `stop` */
    atomic_int *stop;
    pthread_barrier_t *go;  /* both loads start together, or NULL */
    char *p[SLOTS];
    size_t n[SLOTS];
    uint64_t id[SLOTS];
    long done;
    atomic_long progress; /* done, for another thread to watch */
    atomic_int failed;
    char why[200]; /* what went wrong, empty if nothing (no ck_assert off the main thread) */
};

static int load_step(struct load *l, struct pat_rng *r)
{
    size_t k = pat_below(r, SLOTS);
    if (l->p[k]) {
        long bad = pat_verify(l->p[k], l->n[k], l->id[k]);
        if (bad >= 0) {
            snprintf(l->why, sizeof l->why, "op %ld: block %p (%zu bytes) broken at byte %ld", l->done,
                     (void *)l->p[k], l->n[k], bad);
            return -1;
        }
        hl_free(l->h, l->p[k]);
        l->p[k] = NULL;
    } else {
        l->n[k] = 20 * KiB + pat_below(r, 180 * KiB + 1);
        l->p[k] = hl_malloc(l->h, l->n[k]);
        if (!l->p[k]) {
            snprintf(l->why, sizeof l->why, "op %ld: hl_malloc(%zu): %s", l->done, l->n[k], strerror(errno));
            return -1;
        }
        l->id[k] = l->seed + (uint64_t)l->done;
        pat_fill(l->p[k], l->n[k], l->id[k]);
    }
    l->done++;
    atomic_store_explicit(&l->progress, l->done, memory_order_relaxed);
    return 0;
}

static void *load_run(void *arg)
{
    struct load *l = arg;
    struct pat_rng r = {l->seed};
    if (l->go)
        pthread_barrier_wait(l->go);
    while (l->ops < 0 ? !atomic_load(l->stop) : l->done < l->ops) {
        if (load_step(l, &r) != 0) {
            atomic_store(&l->failed, 1);
            return NULL;
        }
    }
    return NULL;
}

/* The blocks a load still holds are intact; free them.  On the main thread. */
static void load_finish(struct load *l)
{
    ck_assert_msg(l->why[0] == 0, "%s: %s", hl_heap_policy(l->h)->name, l->why);
    for (int k = 0; k < SLOTS; k++) {
        if (!l->p[k])
            continue;
        TL_ASSERT_PATTERN(l->p[k], l->n[k], l->id[k]);
        hl_free(l->h, l->p[k]);
        l->p[k] = NULL;
    }
}

/* ---- two heaps, two threads, one break ------------------------------------------- */

/*
 * Issue 13: two heaps on the sbrk source, each used by its own thread.
 * Before the break lock, one heap's trim (sbrk(0) == its end, then
 * sbrk(-n)) gave back memory the other had just taken with sbrk(+n) between
 * the two, and two growths at once could get the same memory: a crash, or
 * a block whose pattern the other heap overwrote.  Every block's pattern is
 * checked when it is freed, both heaps are checked at the end.
 *
 * The race is likeliest while both heaps are young and their tops both at
 * the break; once their segments interleave, the lower one rarely trims
 * again.  So the test runs many short rounds, each with two new heaps,
 * rather than one long one: on the code before the lock, most policies'
 * tests crashed in nearly every run.
 */
enum { ROUNDS = 20, ROUND_OPS = 400 };

START_TEST(two_heaps_in_two_threads_share_the_break)
{
    TL_POLICY(pol);
    struct hl_config cfg = sbrk_config(pol);
    uint64_t grows = 0, shrinks = 0;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t go;
        ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
        struct load l[2];
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            memset(&l[i], 0, sizeof l[i]);
            atomic_init(&l[i].progress, 0);
            atomic_init(&l[i].failed, 0);
            l[i].h = tl_heap(&cfg);
            l[i].seed = ((uint64_t)_i << 40) + ((uint64_t)round << 20) + (uint64_t)i * 0x9e37;
            l[i].ops = ROUND_OPS;
            l[i].go = &go;
        }
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_create(&t[i], NULL, load_run, &l[i]), 0);
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&go);

        for (int i = 0; i < 2; i++) {
            TL_CHECK(l[i].h);
            load_finish(&l[i]);
            TL_CHECK(l[i].h);
            struct hl_stats st = tl_stats(l[i].h);
            ck_assert_uint_eq(st.live_blocks, 0);
            grows += st.grow_calls;
            shrinks += st.shrink_calls;
        }
        for (int i = 1; i >= 0; i--) /* the newer segments first: more of the break goes back */
            hl_heap_destroy(l[i].h);
    }
    ck_assert_uint_gt(grows, 0);
    if (tl_core_mechanism(pol))
        ck_assert_uint_gt(shrinks, 0); /* the load did move the break down */
}
END_TEST

/* ---- fork ---------------------------------------------------------------------- */

/* In a forked child: grow heap h by more than it holds, three times, and
 * give it back; exit 0 when all went well.  alarm: a child stuck on a
 * break lock the fork left held dies of SIGALRM instead of hanging (by
 * default: the handler inherited from Check's runner would kill the whole
 * test). */
static _Noreturn void child_grows(hl_heap *h)
{
    signal(SIGALRM, SIG_DFL);
    alarm(10);
    char *p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = hl_malloc(h, 300 * KiB);
        if (!p[i])
            _exit(1);
        pat_fill(p[i], 300 * KiB, 77 + (uint64_t)i);
    }
    for (int i = 2; i >= 0; i--) {
        if (pat_verify(p[i], 300 * KiB, 77 + (uint64_t)i) >= 0)
            _exit(2);
        hl_free(h, p[i]);
    }
    _exit(hl_check(h, stderr) == 0 ? 0 : 3);
}

static void assert_child_ok(pid_t pid, const char *what)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
                  "%s: the child could not move the break (killed by its alarm)", what);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child status %#x", what, status);
}

/* The test's own prepare handler, registered after core's, runs before
 * it: it tells the thread holding the break lock that a fork has begun. */
static sem_t *fork_began;
static void post_fork_began(void)
{
    if (fork_began)
        sem_post(fork_began);
}
static pthread_once_t fork_began_once = PTHREAD_ONCE_INIT;
static void register_fork_began(void) { ck_assert_int_eq(pthread_atfork(post_fork_began, NULL, NULL), 0); }

struct holder {
    sem_t held, forking, forked;
};

/* Holds the break lock until the other thread is in fork, and lives on
 * until the fork is over: the child's copy of it is a thread that was
 * running, not one that ended unjoined (which the thread sanitizer reports
 * when the child exits). */
static void *hold_the_break_lock(void *arg)
{
    struct holder *w = arg;
    hl_source_break_lock();
    sem_post(&w->held);
    while (sem_wait(&w->forking) != 0)
        ;
    hl_source_break_unlock();
    while (sem_wait(&w->forked) != 0)
        ;
    return NULL;
}

/*
 * The worst moment for a fork, made certain: another thread holds the
 * break lock when the process forks.  Core's prepare handler waits for the
 * holder to let it go (the holder does, once the fork has begun), so the
 * child starts with the lock free, and grows its heap.  A fork that did
 * not wait would give the child a lock held by a thread it does not have.
 */
START_TEST(fork_while_another_thread_holds_the_break_lock)
{
    pthread_once(&fork_began_once, register_fork_began);
    struct hl_config cfg = sbrk_config(hl_policy_lookup("first-fit"));
    hl_heap *h = tl_heap(&cfg);
    struct holder w;
    ck_assert_int_eq(sem_init(&w.held, 0, 0), 0);
    ck_assert_int_eq(sem_init(&w.forking, 0, 0), 0);
    ck_assert_int_eq(sem_init(&w.forked, 0, 0), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, hold_the_break_lock, &w), 0);
    while (sem_wait(&w.held) != 0)
        ck_assert_int_eq(errno, EINTR);

    fork_began = &w.forking;
    pid_t pid = fork();
    fork_began = NULL;
    ck_assert_int_ne(pid, -1);
    if (pid == 0)
        child_grows(h);
    sem_post(&w.forked);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    assert_child_ok(pid, "fork while the break lock was held");

    /* and the parent's heap grows as before */
    void *p = hl_malloc(h, 300 * KiB);
    ck_assert_ptr_nonnull(p);
    hl_free(h, p);
    TL_CHECK(h);
    sem_destroy(&w.held);
    sem_destroy(&w.forking);
    sem_destroy(&w.forked);
    hl_heap_destroy(h);
}
END_TEST

/* The same at whatever moment it comes: a thread moves the break up and
 * down on its own heap without pause while the main thread forks again
 * and again, and every child grows the main thread's heap.  A fork during
 * the other thread's sbrk gives a child whose sbrk fails or whose memory
 * faults (source.c, "fork"): with only a fresh lock in the child and no
 * prepare handler, this test failed in 17 of 20 runs, and in 13 of 20 on
 * the code before the lock. */
START_TEST(fork_while_another_thread_moves_the_break)
{
    enum { FORKS = 400 };
    struct hl_config cfg = sbrk_config(hl_policy_lookup("first-fit"));
    hl_heap *mine = tl_heap(&cfg);
    atomic_int stop;
    atomic_init(&stop, 0);
    struct load l;
    memset(&l, 0, sizeof l);
    atomic_init(&l.progress, 0);
    atomic_init(&l.failed, 0);
    l.h = tl_heap(&cfg);
    l.seed = 0xf0f0u;
    l.ops = -1;
    l.stop = &stop;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, load_run, &l), 0);

    for (long f = 0, seen = 0; f < FORKS; f++) {
        /* each fork after the other thread has gone on by a few steps */
        while (!atomic_load(&l.failed) && atomic_load(&l.progress) < seen + 8)
            sched_yield();
        seen = atomic_load(&l.progress);
        pid_t pid = fork();
        ck_assert_int_ne(pid, -1);
        if (pid == 0)
            child_grows(mine);
        assert_child_ok(pid, "fork while another thread moves the break");
    }
    atomic_store(&stop, 1);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    load_finish(&l);
    TL_CHECK(l.h);
    TL_CHECK(mine);
    hl_heap_destroy(l.h);
    hl_heap_destroy(mine);
}
END_TEST

/* ---- a break that cannot move ------------------------------------------------------ */

/*
 * A mapping placed right above the break (MAP_FIXED_NOREPLACE at the
 * page the break is on): sbrk fails from then on.  The heap goes on in a
 * region of its own (as glibc's malloc goes on with mmap; its
 * tst-malloc-alternate-path tests the same): every request is served,
 * the contents hold, the checker finds nothing, a free there is validated
 * like any other, and the break never moves past the mapping.
 */
START_TEST(blocked_break_falls_back_to_a_new_segment)
{
    TL_POLICY(pol);
    struct hl_config cfg = sbrk_config(pol);
    hl_heap *h = tl_heap(&cfg);
    char *first = hl_malloc(h, 50 * KiB);
    ck_assert_ptr_nonnull(first);
    pat_fill(first, 50 * KiB, 999);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *wall_at = (char *)align_up((uintptr_t)sbrk(0), page);
    void *wall = mmap(wall_at, 16 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ck_assert_ptr_eq(wall, wall_at);
    ck_assert_ptr_eq(sbrk((intptr_t)(64 * page)), (void *)-1);
    enum { N = 40 };
    char *p[N];
    for (int i = 0; i < N; i++) {
        size_t n = 20 * KiB + (size_t)i * 3000;
        p[i] = hl_malloc(h, n);
        ck_assert_msg(p[i] != NULL, "malloc(%zu) #%d failed with the break blocked", n, i);
        pat_fill(p[i], n, (uint64_t)i);
    }
    TL_CHECK(h);
    struct hl_stats st = tl_stats(h);
    ck_assert_uint_ge(st.segments, 2);
    for (int i = 0; i < N; i += 2)
        hl_free(h, p[i]);
    TL_CHECK(h);
    for (int i = 0; i < N; i += 2) {
        p[i] = hl_realloc(h, p[i + 1], 300 * KiB);
        ck_assert_ptr_nonnull(p[i]);
        TL_ASSERT_PATTERN(p[i], 20 * KiB + (size_t)(i + 1) * 3000, (uint64_t)(i + 1));
        p[i + 1] = NULL;
    }
    TL_CHECK(h);
    TL_ASSERT_PATTERN(first, 50 * KiB, 999);
    for (int i = 0; i < N; i++)
        hl_free(h, p[i]);
    hl_free(h, first);
    TL_CHECK(h);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
    ASSERT_ADDR(sbrk(0), <=, wall_at);
    hl_heap_destroy(h);
    munmap(wall, 16 * page);
}
END_TEST

/* ---- the break moved behind the heap's back -------------------------------------- */

enum { FN = 4100 }; /* a foreign sbrk: not a multiple of 16, as a program's may be */

/*
 * The test moves the break itself between two growths of the heap, and
 * between a trim and the free that would trim again.  The heap starts a
 * new segment above the foreign memory, never trims while the break is not
 * where it left it, and trims again once the break is back at its own top,
 * down to its own memory only.  From the first foreign move to the last
 * nothing but the heap and sbrk runs (the values are asserted after): a
 * ck_assert may call malloc, which may move the break too.
 */
START_TEST(foreign_break_moves_between_growths_and_trims)
{
    struct hl_config cfg = sbrk_config(hl_policy_lookup("first-fit"));
    hl_heap *h = tl_heap(&cfg);
    enum { A = 100 * KiB, B = 100 * KiB, C = 40 * KiB, D = 60 * KiB };

    char *a = hl_malloc(h, A);
    if (a)
        pat_fill(a, A, 1);
    char *f1 = sbrk(FN);
    if (f1 != (void *)-1)
        pat_fill(f1, FN, 101);
    char *b = hl_malloc(h, B); /* does not fit in a's segment: a new one */
    char *brk_b = sbrk(0);
    struct hl_stats st_b = tl_stats(h);
    char *c = hl_malloc(h, C); /* grows b's segment in place */
    char *brk_c = sbrk(0);
    hl_free(h, c); /* a trim of the heap's own top */
    char *brk_c_freed = sbrk(0);
    struct hl_stats st_c = tl_stats(h);
    char *f2 = sbrk(FN);
    hl_free(h, b); /* a big free top, but the break is not where the heap left it */
    char *brk_b_freed = sbrk(0);
    struct hl_stats st_b_freed = tl_stats(h);
    int violations = hl_check(h, stderr);
    char *d = hl_malloc(h, D); /* fits the free top (a's segment is full) */
    struct hl_stats st_d = tl_stats(h);
    /* the foreign code gives its memory back */
    char *gave = f2 != (void *)-1 ? sbrk(-(intptr_t)FN) : NULL;
    char *brk_back = sbrk(0);
    hl_free(h, d); /* the break is at the heap's top again: a trim */
    char *brk_d_freed = sbrk(0);
    struct hl_stats st_d_freed = tl_stats(h);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_ne(f1, (void *)-1);
    ck_assert_ptr_nonnull(b);
    ASSERT_ADDR(b, >=, f1 + FN); /* above the foreign memory */
    ASSERT_ADDR(brk_b, >, f1 + FN);
    ck_assert_uint_eq(st_b.segments, 2);

    ck_assert_ptr_nonnull(c);
    ASSERT_ADDR(brk_c, >, brk_b);
    ASSERT_ADDR(brk_c_freed, <, brk_c);
    ck_assert_uint_eq(st_c.segments, 2);
    ck_assert_uint_eq(st_c.shrink_calls, 1);

    ck_assert_ptr_eq(f2, brk_c_freed);
    ck_assert_ptr_eq(brk_b_freed, f2 + FN); /* no trim */
    ck_assert_uint_eq(st_b_freed.shrink_calls, 1);
    ck_assert_int_eq(violations, 0);

    ck_assert_ptr_nonnull(d);
    ASSERT_ADDR(d, >=, f1 + FN);
    ASSERT_ADDR(d + D, <=, f2);
    ck_assert_uint_eq(st_d.grow_calls, st_b_freed.grow_calls);
    ck_assert_uint_eq(st_d.segments, 2);

    ck_assert_ptr_eq(gave, f2 + FN);
    ck_assert_ptr_eq(brk_back, f2);
    ck_assert_uint_eq(st_d_freed.shrink_calls, 2);
    ASSERT_ADDR(brk_d_freed, <, f2);
    ASSERT_ADDR(brk_d_freed, >=, f1 + FN); /* down to its own memory only */

    TL_ASSERT_PATTERN(f1, FN, 101);
    TL_ASSERT_PATTERN(a, A, 1);
    hl_free(h, a); /* not at the top: nothing to trim */
    ck_assert_uint_eq(tl_stats(h).shrink_calls, 2);
    ck_assert_uint_eq(tl_stats(h).live_blocks, 0);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

/*
 * The narrowest window: the break moves after the heap has looked (its top
 * block is at the break) and before it moves the break down.  A wrapper of
 * first fit moves it from inside the policy's remove, which a trim calls
 * for a top block that goes entirely just before it gives the block back.
 * The trim must not happen, and the block must stay filed and whole.
 */
static const struct hl_policy *wrapped;
static const hl_block *move_break_on_remove;
static char *moved_at;

static void remove_and_move(void *st, hl_block *b)
{
    if (b == move_break_on_remove) {
        move_break_on_remove = NULL;
        moved_at = sbrk(FN);
    }
    wrapped->remove(st, b);
}

START_TEST(foreign_break_move_between_the_look_and_the_trim)
{
    wrapped = hl_policy_lookup("first-fit");
    struct hl_policy pol = *wrapped;
    pol.name = "first-fit, moving the break on remove";
    pol.remove = remove_and_move;
    struct hl_config cfg = sbrk_config(&pol);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* a page-aligned break: the segment starts on a page, so a block that
     * ends HL_EPILOGUE bytes before a page leaves a top of whole pages,
     * which a trim without top pad gives back entirely */
    char *brk = sbrk(0);
    ck_assert_ptr_ne(sbrk((intptr_t)(align_up((uintptr_t)brk, page) - (uintptr_t)brk)), (void *)-1);
    hl_heap *h = tl_heap(&cfg);
    size_t first = page - HL_SEG_HDR - HL_EPILOGUE; /* [seg + 24, seg + page - 8) */
    char *x = hl_malloc(h, first - HL_HDR_BYTES);
    char *y = hl_malloc(h, 8 * KiB);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_eq(x + first, y);
    ck_assert_uint_eq(((uintptr_t)y - HL_HDR_BYTES + HL_EPILOGUE) % page, 0);
    struct hl_stats st = tl_stats(h);
    char *end = sbrk(0);

    move_break_on_remove = (const hl_block *)(const void *)(y - HL_HDR_BYTES);
    moved_at = NULL;
    hl_free(h, y); /* y and the free top after it: whole pages, at the break */
    char *brk_after = sbrk(0);
    ck_assert_ptr_eq(moved_at, end); /* the wrapper did move the break */
    ck_assert_ptr_eq(brk_after, end + FN);
    ck_assert_uint_eq(tl_stats(h).shrink_calls, st.shrink_calls);
    TL_CHECK(h);
    /* the whole free top is still the heap's: a malloc of all of it fits */
    char *z = hl_malloc(h, (size_t)(end - y) - HL_EPILOGUE);
    ck_assert_ptr_eq(z, y);
    ck_assert_uint_eq(tl_stats(h).grow_calls, st.grow_calls);
    hl_free(h, z);
    hl_free(h, x);
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

Suite *make_sbrk_suite(void)
{
    Suite *s = suite_create("sbrk");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, two_heaps_in_two_threads_share_the_break, 0, (int)hl_policy_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("fork");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fork_while_another_thread_holds_the_break_lock);
    tcase_add_test(tc, fork_while_another_thread_moves_the_break);
    suite_add_tcase(s, tc);

    tc = tcase_create("blocked");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, blocked_break_falls_back_to_a_new_segment, 0, (int)hl_policy_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("foreign");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, foreign_break_moves_between_growths_and_trims);
    tcase_add_test(tc, foreign_break_move_between_the_look_and_the_trim);
    suite_add_tcase(s, tc);
    return s;
}
