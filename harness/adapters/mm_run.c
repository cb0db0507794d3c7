/*
 * mm_run.c - a row on a CS:APP malloc-lab solution: its checked pass and
 * its timed passes (hl_mm_measure, hl_mm_time, hl_mm_job; malloclab.h).
 *
 * A row's passes run in a forked child (one solution per process: the
 * memory system's state is the process's), on a fresh memory system and
 * after mm_init, like the lab's driver.  The checked pass is replay.c's,
 * through wrappers that add the driver's checks: a payload must lie inside
 * [mem_heap_lo, mem_heap_hi].  malloc(0) may return NULL (the lab's starter
 * code does): the wrapper hands the checked pass a stand-in address
 * instead, in a reservation of its own, and gives the solution NULL back
 * where the driver would.  A crash or an exit inside the solution is
 * caught in the child and written to the row: which signal, in which
 * function, at which operation (mm_crash.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "malloclab/memlib.h"
#include "mm_internal.h"

struct mm_run mm_run;

/* ---- calling the solution ------------------------------------------------------------------ */

#define MM_MALLOC(m, n) ((void *(*)(size_t))(m)->malloc)(n)
#define MM_FREE(m, p) ((void (*)(void *))(m)->free)(p)
#define MM_REALLOC(m, p, n) ((void *(*)(void *, size_t))(m)->realloc)(p, n)
#define MM_CALLOC(m, k, n) ((void *(*)(size_t, size_t))(m)->calloc)(k, n)

/* mm_init, called as the solution declares it: 0, or -1 with why in buf. */
static int call_init(const struct hl_mm *m, char *why, size_t len)
{
    mm_run.in = "mm_init";
    int ok = 1, v = 0;
    switch (m->init_ret) {
    case HL_MM_RET_BOOL:
        ok = ((_Bool(*)(void))m->init)();
        snprintf(why, len, "mm_init returned false");
        break;
    case HL_MM_RET_VOID:
        ((void (*)(void))m->init)();
        break;
    case HL_MM_RET_INT:
    case HL_MM_RET_UNKNOWN:
        v = ((int (*)(void))m->init)();
        ok = v >= 0; /* the classic driver: mm_init() < 0 is a failure */
        snprintf(why, len, "mm_init failed (returned %d)", v);
        break;
    }
    mm_run.in = NULL;
    return ok ? 0 : -1;
}

/* The checker, called as the solution declares it: 1 when it reports a
 * problem (false or 0), else 0. */
static int call_check(const struct hl_mm *m, uint64_t op)
{
    int arg = m->check_ret == HL_MM_RET_BOOL ? (int)(op > INT_MAX ? INT_MAX : op) : 0; /* lineno, or verbose = 0 */
    int bad = 0;
    mm_run.in = m->check_name;
    switch (m->check_ret) {
    case HL_MM_RET_BOOL:
        bad = m->check_arg ? !((_Bool(*)(int))m->check)(arg) : !((_Bool(*)(void))m->check)();
        break;
    case HL_MM_RET_INT:
        bad = m->check_arg ? ((int (*)(int))m->check)(arg) == 0 : ((int (*)(void))m->check)() == 0;
        break;
    case HL_MM_RET_VOID:
    case HL_MM_RET_UNKNOWN:
        if (m->check_arg)
            ((void (*)(int))m->check)(arg);
        else
            ((void (*)(void))m->check)();
        break;
    }
    mm_run.in = NULL;
    return bad;
}

/* ---- a row's pass: its beginning and its end ---------------------------------------------- */

/* The start of a row's pass in this process: mm_run names it, and the
 * solution's crashes and exits are caught. */
static void run_begin(const struct hl_mm *m, const struct hl_trace *t, struct hl_result *r, int timed)
{
    memset(&mm_run, 0, sizeof mm_run);
    mm_run.m = m;
    mm_run.t = t;
    mm_run.r = r;
    mm_run.timed = timed;
    /* in a row's child, what the solution prints goes to stderr: the
     * results on stdout (a table, CSV, JSON) stay whole */
    if (getpid() != mm_loader_pid) {
        fflush(stdout);
        dup2(2, 1);
        setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time: a crash keeps what came before */
    }
    mm_crash_catch();
}

static void run_end(void)
{
    fflush(stdout);
    mm_crash_release();
    if (mm_run.zero_base)
        munmap(mm_run.zero_base, mm_run.zero_cap * 16);
    free(mm_run.zero_free);
    mm_run.m = NULL;
    mm_run.r = NULL;
    mm_run.in = NULL;
    mm_run.zero_base = NULL;
    mm_run.zero_free = NULL;
}

/* ---- the checked pass's wrappers ------------------------------------------------------------- */

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void broken(const char *fmt, ...)
{
    if (mm_run.error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mm_run.error, sizeof mm_run.error, fmt, ap);
    va_end(ap);
    mm_run.error_op = mm_run.op;
}

/* Nothing more goes to the solution once a check failed: its heap may be
 * anything, and the first failure is the one to report. */
static int failed(void) { return mm_run.error[0] || strcmp(mm_run.r->status, "not run") != 0; }

/* The start of an operation: the sample due after the ones before it; 1
 * when the solution may be called. */
static int begin_op(void)
{
    if (failed()) {
        mm_run.op++;
        return 0;
    }
    mm_maybe_sample();
    mm_run.op++;
    return 1;
}

/* A stand-in address for a size-0 block the solution returned NULL for:
 * distinct, aligned, never touched (the replay writes no pattern into 0
 * bytes). */
static void *zero_take(void)
{
    if (!mm_run.zero_base) {
        mm_run.zero_cap = mm_run.t->num_ids ? mm_run.t->num_ids : 1;
        void *p = mmap(NULL, mm_run.zero_cap * 16, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        mm_run.zero_free = malloc(mm_run.zero_cap * sizeof *mm_run.zero_free);
        if (p == MAP_FAILED || !mm_run.zero_free) {
            if (p != MAP_FAILED)
                munmap(p, mm_run.zero_cap * 16);
            free(mm_run.zero_free);
            mm_run.zero_free = NULL;
            return NULL;
        }
        mm_run.zero_base = p;
    }
    size_t slot;
    if (mm_run.zero_top > 0)
        slot = mm_run.zero_free[--mm_run.zero_top];
    else if (mm_run.zero_next < mm_run.zero_cap)
        slot = mm_run.zero_next++;
    else
        return NULL;
    return mm_run.zero_base + slot * 16;
}

/* NULL for a stand-in (given back), else p. */
static void *zero_give(void *p)
{
    char *c = p;
    if (!mm_run.zero_base || c < mm_run.zero_base || c >= mm_run.zero_base + mm_run.zero_cap * 16)
        return p;
    mm_run.zero_free[mm_run.zero_top++] = (uint32_t)((size_t)(c - mm_run.zero_base) / 16);
    return NULL;
}

/* The lab driver's check: the payload lies inside the heap. */
static void *accept(const char *fn, void *p, size_t n)
{
    if (!p)
        return n == 0 ? zero_take() : NULL;
    char *lo = mem_heap_lo(), *end = (char *)mem_heap_hi() + 1, *c = p;
    if (c < lo || c > end || (size_t)(end - c) < n) {
        if (end == lo)
            broken("%s(%zu) returned %p, but the heap is empty", fn, n, p);
        else
            broken("%s(%zu) returned %p, outside the heap [%p, %p]", fn, n, p, (void *)lo, (void *)(end - 1));
        return NULL;
    }
    mm_live_add(p, n);
    return p;
}

static void *ck_malloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    mm_run.in = "mm_malloc";
    void *p = MM_MALLOC(m, n);
    mm_run.in = NULL;
    return accept("mm_malloc", p, n);
}

static void ck_free(void *ctx, void *p)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return;
    p = zero_give(p);
    mm_live_del(p);
    mm_run.in = "mm_free";
    MM_FREE(m, p);
    mm_run.in = NULL;
}

static void *ck_realloc(void *ctx, void *p, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    void *given = p;
    p = zero_give(p);
    mm_live_del(p);
    mm_run.in = "mm_realloc";
    void *q = MM_REALLOC(m, p, n);
    mm_run.in = NULL;
    if (!q && given && n == 0)
        return NULL; /* realloc(p, 0) freed p */
    return accept("mm_realloc", q, n);
}

static void *ck_calloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    void *p;
    if (m->calloc) {
        mm_run.in = "mm_calloc";
        p = MM_CALLOC(m, 1, n);
        mm_run.in = NULL;
        return accept("mm_calloc", p, n);
    }
    mm_run.in = "mm_malloc";
    p = MM_MALLOC(m, n);
    mm_run.in = NULL;
    p = accept("mm_malloc", p, n);
    if (p && n)
        memset(p, 0, n);
    return p;
}

static void *ck_memalign(void *ctx, size_t align, size_t n)
{
    (void)ctx;
    (void)align;
    (void)n;
    mm_run.op++;
    if (!failed())
        broken("the solution has no memalign");
    return NULL;
}

static int ck_check(void *ctx, FILE *report)
{
    (void)report;
    if (failed())
        return 0;
    int bad = call_check(ctx, mm_run.op);
    if (bad && !mm_run.check_op)
        mm_run.check_op = mm_run.op;
    return bad;
}

static void fill_footprint(struct hl_result *r)
{
    struct hl_memlib_stats st;
    hl_memlib_stats(&st);
    uint64_t live = r->peak_live_bytes;
    r->peak_heap_bytes = st.peak_heap;
    r->util = st.peak_heap ? (double)live / (double)st.peak_heap : HL_NA_F;
    r->frag = live && st.peak_heap ? (double)st.peak_heap / (double)live - 1 : HL_NA_F;
    r->sbrk_calls = st.sbrk_calls;
    r->mmap_calls = 0;
    r->munmap_calls = 0;
}

/* What the replay said, with what the solution's side knows added. */
static void explain(const struct hl_replay_config *cfg, struct hl_result *r)
{
    size_t k = strlen(r->status);
    struct hl_memlib_stats st;
    hl_memlib_stats(&st);
    if (strncmp(r->status, "out of memory", 13) == 0 && st.refused)
        snprintf(r->status + k, sizeof r->status - k,
                 "; mem_sbrk(%lld) refused with %llu bytes in the heap (limit %llu: --mm-max-heap)",
                 (long long)st.refused_incr, (unsigned long long)st.refused_at, (unsigned long long)st.limit);
    else if (cfg->align == 16 && strcmp(cfg->preset, "malloclab") != 0 && strstr(r->status, "not 16-aligned"))
        snprintf(r->status + k, sizeof r->status - k, " (the classic lab aligns to 8: --preset malloclab)");
}

int hl_mm_measure(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
                  struct hl_result *r)
{
    int rc = 1;
    char why[128];
    r->mmap_threshold = 0;                            /* the lab's memory system has no mmap path ... */
    snprintf(r->source, sizeof r->source, "region"); /* ... and is a region, whatever --source says, */
    hl_replay_regime(HL_NO_TRIM, 0, 0, r->regime, sizeof r->regime); /* ... that never shrinks */
    run_begin(m, t, r, 0);
    if (hl_memlib_open(m->max_heap) != 0) {
        snprintf(r->status, sizeof r->status, "cannot reserve the heap (%zu bytes): %s", m->max_heap,
                 strerror(errno));
        goto out;
    }
    if (call_init(m, why, sizeof why) != 0) {
        snprintf(r->status, sizeof r->status, "%s before op 1", why);
        fill_footprint(r);
        goto out;
    }
    if (mm_samples_begin(cfg) != 0) {
        snprintf(r->status, sizeof r->status, "out of memory for the samples");
        goto out;
    }
    struct hl_alloc a = {m->label, (void *)(uintptr_t)m, ck_malloc, ck_free, ck_realloc, ck_calloc, ck_memalign,
                         m->check ? ck_check : NULL, cfg->align, NULL, NULL};
    rc = hl_replay_checked(t, &a, cfg, r);
    if (rc == 0 && !mm_run.error[0] && mm_run.op == t->nops)
        mm_maybe_sample(); /* the last one, when nothing was left live to free */
    if (rc == 0 && !mm_run.error[0] && mm_run.sample_error) {
        rc = 1;
        snprintf(r->status, sizeof r->status, "cannot write samples: %s", strerror(mm_run.sample_error));
    }
    if (mm_run.error[0]) {
        rc = 1;
        if (strcmp(mm_run.error, "the solution has no memalign") == 0)
            snprintf(r->status, sizeof r->status, "%s (trace op %llu)", mm_run.error,
                     (unsigned long long)mm_run.error_op);
        else
            snprintf(r->status, sizeof r->status, "%s at op %llu", mm_run.error, (unsigned long long)mm_run.error_op);
    } else if (rc && mm_run.check_op && strncmp(r->status, "heap check found", 16) == 0) {
        snprintf(r->status, sizeof r->status, "%s returned %s after op %llu", m->check_name,
                 m->check_ret == HL_MM_RET_BOOL ? "false" : "0", (unsigned long long)mm_run.check_op);
    } else if (rc) {
        explain(cfg, r);
    }
    fill_footprint(r);
    if (rc == 0) {
        r->ok = 1;
        snprintf(r->status, sizeof r->status, "ok");
    }
out:
    mm_samples_end();
    hl_memlib_close();
    run_end();
    return rc ? 1 : 0;
}

/* ---- the timed passes ------------------------------------------------------------------------ */

/* Straight calls: the timed loop measures the solution, not checks (the
 * count is the watchdog's). */
static void *tm_malloc(void *ctx, size_t n)
{
    mm_run.op++;
    return MM_MALLOC((const struct hl_mm *)ctx, n);
}
static void tm_free(void *ctx, void *p)
{
    mm_run.op++;
    MM_FREE((const struct hl_mm *)ctx, p);
}
static void *tm_realloc(void *ctx, void *p, size_t n)
{
    mm_run.op++;
    return MM_REALLOC((const struct hl_mm *)ctx, p, n);
}
static void *tm_calloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    mm_run.op++;
    if (m->calloc)
        return MM_CALLOC(m, 1, n);
    void *p = MM_MALLOC(m, n);
    if (p)
        memset(p, 0, n);
    return p;
}
static void *tm_memalign(void *ctx, size_t align, size_t n)
{
    (void)ctx;
    (void)align;
    (void)n;
    return NULL;
}

/* Before each pass, as the lab's driver does: an empty heap, mm_init. */
static int tm_reset(void *ctx)
{
    char why[128];
    mem_reset_brk();
    int rc = call_init(ctx, why, sizeof why);
    if (rc != 0)
        broken("%s before a timed pass", why);
    return rc;
}

/* The memory system's pages resident now: the solution's whole footprint. */
static uint64_t tm_resident(void *ctx)
{
    (void)ctx;
    return hl_memlib_resident();
}

int hl_mm_time(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
               struct hl_result *r)
{
    int rc = 1;
    run_begin(m, t, r, 1);
    if (hl_memlib_open(m->max_heap) != 0) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "cannot reserve the heap (%zu bytes): %s", m->max_heap,
                 strerror(errno));
        goto out;
    }
    struct hl_alloc a = {m->label, (void *)(uintptr_t)m, tm_malloc, tm_free, tm_realloc, tm_calloc, tm_memalign,
                         NULL, cfg->align, tm_reset, tm_resident};
    rc = hl_replay_time_alloc(t, &a, cfg, r);
    if (mm_run.error[0]) {
        rc = 1;
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "%s", mm_run.error);
    }
out:
    hl_memlib_close();
    run_end();
    return rc ? 1 : 0;
}

static int job_measure(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_mm_measure(j->trace, j->target, cfg, r);
}

static int job_time(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_mm_time(j->trace, j->target, cfg, r);
}

const struct hl_job_ops hl_mm_job = {job_measure, job_time};
