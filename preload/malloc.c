/*
 * malloc.c - the drop-in malloc: glibc's allocation API over one heaplab
 * heap, for LD_PRELOAD (build/libheaplab-malloc.so, `heaplab run`).
 *
 * One heap over the real program break (HL_SOURCE_SBRK), requests past the
 * mmap threshold through core's mmap path, the policy that HEAPLAB_POLICY
 * names (options.c).  Every call takes the heap's one lock - but while the
 * process has one thread (glibc's __libc_single_threaded), as glibc's own
 * malloc takes none then: an uncontended lock and unlock were 58% of a
 * malloc/free pair's time.  There is no per-thread cache, so every block is
 * placed by the policy - or, with cache=N, by core's front cache first, as
 * in every heaplab heap with cache=N - and the figures at exit (stats.c)
 * are the heap's own.
 *
 * The traps of a malloc replacement, and what this file does about each:
 *  - Start-up must not allocate through itself.  The heap is made by the
 *    library's constructor or by the first call, whichever comes first, and
 *    nothing on that path calls malloc: getenv, the registry, one mmap for
 *    the heap's state; no dlsym, no dlopen (options.c refuses plugins).
 *    Should something on it allocate after all, the call finds the thread's
 *    guard set and is served from the bootstrap arena, a static array,
 *    instead of deadlocking on a heap that does not exist yet.
 *  - The guard is thread-local with the initial-exec TLS model: the default
 *    model of a shared object may call __tls_get_addr, which may allocate.
 *  - gcc turns malloc + memset into calloc (and may reason about malloc's
 *    result): the library is built with -fno-builtin-malloc and friends,
 *    and nothing in it calls malloc - only core.
 *  - An error inside malloc is one line written with write(2), then abort
 *    (core's hl_corrupt, and the checker's report below); an option error
 *    is one line and _exit(2), before main.  No stdio on either path, but
 *    for formatting the checker's description (see check_failed).
 *  - A failed allocation returns NULL with errno ENOMEM (core); free keeps
 *    errno.
 *  - fork: pthread_atfork takes the heap's lock before fork and releases it
 *    in the parent; the child, whose one thread is the one that forked,
 *    reinitialises it, so the child of a multi-threaded parent can allocate.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "heaplab/heap.h"
#include "options.h"
#include "stats.h"
#include "text.h"

#define EXPORT __attribute__((visibility("default")))
#define unlikely(x) __builtin_expect(!!(x), 0)

/* what the bootstrap arena holds: start-up and a failed check's report
 * need a few hundred bytes at the most */
#define BOOT_BYTES ((size_t)64 * 1024)

enum { NOT_STARTED, STARTING, READY };

static struct {
    hl_heap *_Atomic heap;     /* NULL until started */
    atomic_int state;          /* NOT_STARTED, STARTING, READY */
    struct hl_options opts;    /* the environment, read once */
    struct hl_config cfg;      /* the heap's configuration (mallopt may make it anew) */
    uint64_t check_every;      /* HEAPLAB_CHECK */
    atomic_uint_fast64_t ops;  /* operations so far, counted while the checker runs */
    struct hl_calls calls;     /* under the heap's lock */
    hl_heap *forking;          /* the heap locked across fork */
    atomic_size_t boot_used;   /* bytes of boot handed out */
    _Alignas(64) char boot[BOOT_BYTES]; /* the bootstrap arena */
} g;

/* Set while this thread makes the heap or reports a failed check: its
 * allocations then come from the bootstrap arena. */
static __thread int inside __attribute__((tls_model("initial-exec")));

/* ---- the bootstrap arena ---------------------------------------------------- */

/* Blocks handed out once and never reused, so they are zero; each has its
 * size in the word before it.  A bump pointer moved by compare-and-swap:
 * several threads may be in here at once. */
static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    if (n > BOOT_BYTES || align > BOOT_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    size_t used = atomic_load(&g.boot_used), start, end;
    do {
        start = (used + sizeof(size_t) + align - 1) & ~(align - 1);
        end = start + ((n + 15) & ~(size_t)15);
        if (end > BOOT_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!atomic_compare_exchange_weak(&g.boot_used, &used, end));
    char *p = g.boot + start;
    ((size_t *)(void *)p)[-1] = n;
    return p;
}

static inline int is_boot(const void *p)
{
    return (const char *)p >= g.boot && (const char *)p < g.boot + BOOT_BYTES;
}

static size_t boot_size(const void *p) { return ((const size_t *)p)[-1]; }

/* ---- start-up -------------------------------------------------------------- */

static void fork_prepare(void)
{
    g.forking = atomic_load(&g.heap);
    if (g.forking)
        hl_heap_lock(g.forking);
}

static void fork_parent(void)
{
    if (g.forking)
        hl_heap_unlock(g.forking);
}

static void fork_child(void)
{
    if (g.forking)
        hl_heap_after_fork_child(g.forking);
}

/* The heap's configuration from the options: the sbrk source; thresholds
 * given explicitly stay fixed, as in heaplab replay. */
static void configure(struct hl_config *cfg, const struct hl_options *o)
{
    const struct hl_option_value *v = o->v;
    hl_config_default(cfg, o->policy.policy);
    cfg->policy_params = o->policy.params;
    cfg->cache = o->policy.cache;
    cfg->source = HL_SOURCE_SBRK;
    cfg->lock = 1;
    if (v[HL_OPT_MMAP_THRESHOLD].set) {
        cfg->mmap_threshold = (size_t)v[HL_OPT_MMAP_THRESHOLD].num;
        cfg->mmap_dynamic = 0;
    }
    if (v[HL_OPT_TRIM_THRESHOLD].set) {
        cfg->trim_threshold = v[HL_OPT_TRIM_THRESHOLD].num ? (size_t)v[HL_OPT_TRIM_THRESHOLD].num : HL_NO_TRIM;
        cfg->mmap_dynamic = 0;
    }
    cfg->top_pad = (size_t)v[HL_OPT_TOP_PAD].num;
}

static void setup(void)
{
    hl_options_load(&g.opts);
    configure(&g.cfg, &g.opts);
    g.check_every = g.opts.v[HL_OPT_CHECK].num;
    hl_heap *h = hl_heap_create(&g.cfg);
    if (!h) {
        char msg[256];
        size_t n = 0;
        if (errno == ENOMEM) {
            hl_msg_put(msg, sizeof msg, &n, "cannot make the heap: out of memory");
        } else {
            hl_msg_put(msg, sizeof msg, &n, "HEAPLAB_POLICY=");
            hl_msg_put(msg, sizeof msg, &n, g.opts.policy.label);
            hl_msg_put(msg, sizeof msg, &n, ": ");
            hl_msg_put(msg, sizeof msg, &n, g.opts.policy.policy->name);
            hl_msg_put(msg, sizeof msg, &n, " refuses this configuration (see 'heaplab policies -v')");
        }
        hl_options_fail(msg);
    }
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    hl_stats_open((enum hl_stats_format)g.opts.v[HL_OPT_STATS].num, g.opts.v[HL_OPT_STATS_FILE].str);
    atomic_store_explicit(&g.heap, h, memory_order_release);
}

/* The first call in the process, or one that came while another thread
 * was making the heap, or one from inside the heap's own start-up: the
 * heap, or NULL for the bootstrap arena. */
static __attribute__((noinline, cold)) hl_heap *start(void)
{
    if (inside)
        return NULL;
    int expected = NOT_STARTED;
    if (atomic_compare_exchange_strong(&g.state, &expected, STARTING)) {
        inside = 1;
        setup();
        inside = 0;
        atomic_store(&g.state, READY);
    } else {
        while (atomic_load(&g.state) != READY)
            sched_yield();
    }
    return atomic_load_explicit(&g.heap, memory_order_acquire);
}

static inline hl_heap *heap_get(void)
{
    hl_heap *h = atomic_load_explicit(&g.heap, memory_order_acquire);
    if (__builtin_expect(h != NULL && !inside, 1))
        return h;
    return start();
}

/* Before main (and before the program's own constructors): option errors
 * stop the program before it runs. */
__attribute__((constructor)) static void preload_init(void) { heap_get(); }

__attribute__((destructor)) static void preload_fini(void)
{
    hl_heap *h = atomic_load(&g.heap);
    if (!h || g.opts.v[HL_OPT_STATS].num == HL_STATS_OFF)
        return;
    hl_heap_lock(h);
    struct hl_calls calls = g.calls;
    hl_heap_unlock(h);
    hl_stats_report(h, &calls, g.opts.policy.label);
}

/* ---- HEAPLAB_CHECK ----------------------------------------------------------- */

/* The checker found something before operation k: describe the first
 * violation in one line and abort.  Core's checker describes on a FILE, so
 * this is the one place with stdio: a FILE over a static buffer, with the
 * thread's guard set so that whatever stdio allocates comes from the
 * bootstrap arena, not from the heap whose lock the checker holds. */
static _Noreturn __attribute__((noinline, cold)) void check_failed(hl_heap *h, const char *op, const void *p,
                                                                    uint64_t k, int violations)
{
    static char desc[1024];
    inside = 1;
    FILE *f = fmemopen(desc, sizeof desc, "w");
    if (f) {
        hl_check(h, f);
        fclose(f);
    }
    const char *first = strncmp(desc, "check: ", 7) == 0 ? desc + 7 : desc;
    desc[strcspn(desc, "\n")] = 0;
    char line[1400];
    size_t n = 0;
    hl_msg_put(line, sizeof line, &n, "heaplab: heap check failed before ");
    hl_msg_put(line, sizeof line, &n, op);
    hl_msg_put(line, sizeof line, &n, "(");
    if (p)
        hl_msg_put_hex(line, sizeof line, &n, (uintptr_t)p);
    hl_msg_put(line, sizeof line, &n, "), operation ");
    hl_msg_put_u64(line, sizeof line, &n, k);
    hl_msg_put(line, sizeof line, &n, ": ");
    hl_msg_put(line, sizeof line, &n, *first ? first : "(no description)");
    if (violations > 1) {
        hl_msg_put(line, sizeof line, &n, " (and ");
        hl_msg_put_u64(line, sizeof line, &n, (uint64_t)violations - 1);
        hl_msg_put(line, sizeof line, &n, " more)");
    }
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
    abort();
}

static __attribute__((noinline, cold)) void check_now(hl_heap *h, const char *op, const void *p)
{
    uint64_t k = atomic_fetch_add_explicit(&g.ops, 1, memory_order_relaxed) + 1;
    if (k % g.check_every)
        return;
    int violations = hl_check(h, NULL);
    if (violations)
        check_failed(h, op, p, k, violations);
}

/* Before every operation: the checker every HEAPLAB_CHECK operations. */
static inline void maybe_check(hl_heap *h, const char *op, const void *p)
{
    if (unlikely(g.check_every))
        check_now(h, op, p);
}

/* ---- the API ------------------------------------------------------------------- */

/* The heap's lock, unless the process has one thread: then no other thread
 * can exist before this call returns (__libc_single_threaded turns false
 * in pthread_create, before the new thread runs, and stays false).
 * Whether it was taken. */
static inline int lock(hl_heap *h)
{
    if (__libc_single_threaded)
        return 0;
    hl_heap_lock(h);
    return 1;
}

static inline void unlock(hl_heap *h, int locked)
{
    if (locked)
        hl_heap_unlock(h);
}

static void *do_malloc(size_t n)
{
    hl_heap *h = heap_get();
    if (unlikely(!h))
        return boot_alloc(n, 16);
    maybe_check(h, "malloc", NULL);
    int locked = lock(h);
    g.calls.malloc++;
    void *p = hl_malloc_unlocked(h, n);
    unlock(h, locked);
    return p;
}

static void do_free(void *p)
{
    if (!p || is_boot(p))
        return;
    hl_heap *h = heap_get();
    if (unlikely(!h))
        return; /* a failed check's report: the process is about to abort */
    int saved = errno;
    maybe_check(h, "free", p);
    int locked = lock(h);
    g.calls.free++;
    hl_free_unlocked(h, p);
    unlock(h, locked);
    errno = saved;
}

static void *do_realloc(void *p, size_t n)
{
    if (unlikely(p && is_boot(p))) {
        /* a bootstrap block moves to the heap (or stays in the arena) */
        if (n == 0)
            return NULL;
        void *q = do_malloc(n);
        if (q)
            memcpy(q, p, boot_size(p) < n ? boot_size(p) : n);
        return q;
    }
    hl_heap *h = heap_get();
    if (unlikely(!h)) {
        if (p) { /* a heap block during a failed check's report */
            errno = ENOMEM;
            return NULL;
        }
        return boot_alloc(n, 16);
    }
    maybe_check(h, "realloc", p);
    int locked = lock(h);
    g.calls.realloc++;
    void *q = hl_realloc_unlocked(h, p, n);
    unlock(h, locked);
    return q;
}

/* align: a power of two */
static void *do_memalign(size_t align, size_t n)
{
    hl_heap *h = heap_get();
    if (unlikely(!h))
        return boot_alloc(n, align);
    maybe_check(h, "memalign", NULL);
    int locked = lock(h);
    g.calls.memalign++;
    void *p = hl_memalign_unlocked(h, align, n);
    unlock(h, locked);
    return p;
}

EXPORT void *malloc(size_t n) { return do_malloc(n); }

EXPORT void free(void *p) { do_free(p); }

EXPORT void *calloc(size_t nmemb, size_t size)
{
    hl_heap *h = heap_get();
    if (unlikely(!h)) {
        size_t n;
        if (__builtin_mul_overflow(nmemb, size, &n)) {
            errno = ENOMEM;
            return NULL;
        }
        return boot_alloc(n, 16); /* the arena's blocks are zero */
    }
    maybe_check(h, "calloc", NULL);
    int locked = lock(h);
    g.calls.calloc++;
    void *p = hl_calloc_unlocked(h, nmemb, size);
    unlock(h, locked);
    return p;
}

EXPORT void *realloc(void *p, size_t n) { return do_realloc(p, n); }

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = do_memalign(align, n);
    if (!p) {
        int e = errno;
        errno = saved;
        return e;
    }
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return do_memalign(align, n);
}

/* glibc's memalign: an alignment that is not a power of two is rounded up
 * to one (0 is malloc); one too large to round is EINVAL. */
EXPORT void *memalign(size_t align, size_t n)
{
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (align == 0)
        align = 1;
    else if (align & (align - 1))
        align = (size_t)1 << (64 - __builtin_clzll((unsigned long long)align));
    return do_memalign(align, n);
}

EXPORT void *valloc(size_t n) { return do_memalign((size_t)sysconf(_SC_PAGESIZE), n); }

/* a page-aligned block of whole pages */
EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (n > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return do_memalign(page, (n + page - 1) & ~(page - 1));
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (is_boot(p))
        return boot_size(p);
    hl_heap *h = heap_get();
    return h ? hl_usable_size(h, p) : 0;
}

/* Giving the top of the heap back on request needs core (the hl_ API trims
 * only on free, past the trim threshold): 0, "nothing released", which
 * glibc also returns when it had nothing to give back. */
EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    heap_get();
    return 0;
}

/* ---- mallinfo2, malloc_stats, mallopt -------------------------------------------- */

struct free_walk {
    size_t blocks;     /* free blocks inside the extent */
    char *free_end;    /* where the last free block seen ends */
    size_t free_size;  /* its size */
    size_t top;        /* a free block right before an epilogue: what a trim could give back */
};

static int count_free(const struct hl_block_info *bi, void *arg)
{
    struct free_walk *w = arg;
    if (bi->state == HL_BLOCK_FREE) {
        w->blocks++;
        w->free_end = (char *)bi->addr + bi->size;
        w->free_size = bi->size;
    } else if (bi->state == HL_BLOCK_META && (char *)bi->addr == w->free_end) {
        w->top = w->free_size;
    }
    return 0;
}

/* What heaplab knows, in glibc's fields: arena the extent (the break's
 * heap), uordblks the bytes of its blocks in use, fordblks its free bytes
 * (the front cache's blocks included), ordblks its free blocks, keepcost
 * the free block at the top, hblks/hblkhd the mmapped blocks and their
 * bytes.  The heap's bookkeeping (arena - uordblks - fordblks) is in
 * neither; glibc's fastbin fields stay 0. */
EXPORT struct mallinfo2 mallinfo2(void)
{
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    hl_heap *h = heap_get();
    if (!h)
        return mi;
    struct hl_stats st;
    struct free_walk w = {0, NULL, 0, 0};
    hl_walk(h, count_free, &w);
    hl_stats(h, &st);
    mi.arena = st.extent_bytes;
    mi.ordblks = w.blocks;
    mi.hblks = st.mapped_blocks;
    mi.hblkhd = st.mapped_bytes;
    mi.uordblks = st.live_bytes;
    mi.fordblks = st.free_bytes;
    mi.keepcost = w.top;
    return mi;
}

/* "name =   value" with the value right-aligned in 10 columns, as glibc */
static void stats_line(char *buf, size_t cap, size_t *n, const char *name, uint64_t v)
{
    char num[24];
    size_t k = 0;
    hl_msg_put_u64(num, sizeof num, &k, v);
    hl_msg_put(buf, cap, n, name);
    hl_msg_put(buf, cap, n, " = ");
    while (k++ < 10)
        hl_msg_put(buf, cap, n, " ");
    hl_msg_put(buf, cap, n, num);
    hl_msg_put(buf, cap, n, "\n");
}

/* glibc's layout on stderr, with heaplab's figures; "mmap regions" is the
 * number mapped now (heaplab keeps no peak of it). */
EXPORT void malloc_stats(void)
{
    hl_heap *h = heap_get();
    if (!h)
        return;
    struct hl_stats st;
    hl_stats(h, &st);
    char buf[512];
    size_t n = 0;
    hl_msg_put(buf, sizeof buf, &n, "Arena 0:\n");
    stats_line(buf, sizeof buf, &n, "system bytes    ", st.extent_bytes);
    stats_line(buf, sizeof buf, &n, "in use bytes    ", st.live_bytes);
    hl_msg_put(buf, sizeof buf, &n, "Total (incl. mmap):\n");
    stats_line(buf, sizeof buf, &n, "system bytes    ", st.heap_bytes);
    stats_line(buf, sizeof buf, &n, "in use bytes    ", st.live_bytes + st.mapped_bytes);
    stats_line(buf, sizeof buf, &n, "mmap regions    ", st.mapped_blocks);
    stats_line(buf, sizeof buf, &n, "max mmap bytes  ", st.peak_mapped_bytes);
    ssize_t w = write(2, buf, n);
    (void)w;
}

/*
 * mallopt(M_MMAP_THRESHOLD | M_TRIM_THRESHOLD | M_TOP_PAD, value), with
 * glibc's meanings (0: every request mmapped, trim at any free top; a
 * negative trim threshold: never; each fixes the mmap threshold).  Core
 * takes thresholds only when a heap is made, so the heap is made anew with
 * them - which is possible only while the program has not allocated yet:
 * 1 then, 0 (glibc's "failed") after.  Other parameters: 0.
 */
EXPORT int mallopt(int param, int value)
{
    hl_heap *h = heap_get();
    if (!h)
        return 0;
    struct hl_config cfg = g.cfg;
    switch (param) {
    case M_MMAP_THRESHOLD:
        if (value < 0 || (size_t)value > HL_MAX_DYN_MMAP_THRESHOLD)
            return 0;
        cfg.mmap_threshold = value ? (size_t)value : 1;
        break;
    case M_TRIM_THRESHOLD:
        cfg.trim_threshold = value < 0 ? HL_NO_TRIM : value ? (size_t)value : 1;
        break;
    case M_TOP_PAD:
        if (value < 0)
            return 0;
        cfg.top_pad = (size_t)value;
        break;
    default:
        return 0;
    }
    cfg.mmap_dynamic = 0;
    hl_heap_lock(h);
    uint64_t calls = 0;
#define HL_CALL_SUM(name) calls += g.calls.name;
    HL_CALL_KINDS(HL_CALL_SUM)
#undef HL_CALL_SUM
    hl_heap *fresh = calls ? NULL : hl_heap_create(&cfg);
    if (fresh) {
        g.cfg = cfg;
        atomic_store_explicit(&g.heap, fresh, memory_order_release);
    }
    hl_heap_unlock(h);
    if (!fresh)
        return 0;
    hl_heap_destroy(h);
    return 1;
}
