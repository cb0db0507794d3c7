/*
 * testutil.h - helpers shared by the Check suites: the policy loop, the
 * malloc-lab traces, temporary folders, per-block byte patterns (the PRNG
 * and patterns themselves are harness/replay/pattern.h's), heap construction.
 *
 * The policy loop: a test body registered with
 *     tcase_add_loop_test(tc, fn, 0, hl_policy_count())
 * starts with TL_POLICY(pol) and so runs once per registered policy; a
 * policy added to the registry later is tested with no edit here.  With
 * HEAPLAB_TEST_POLICY=name in the environment every other index returns at
 * once, so one policy can be debugged alone.
 */
#ifndef HEAPLAB_TESTUTIL_H
#define HEAPLAB_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heaplab/heap.h"
#include "heaplab/policies.h"
#include "pattern.h"

/* Whether this build runs under the thread sanitizer (gcc says so with
 * __SANITIZE_THREAD__, clang with __has_feature). */
#if defined(__SANITIZE_THREAD__)
#define TL_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TL_THREAD_SANITIZER 1
#endif
#endif
#ifndef TL_THREAD_SANITIZER
#define TL_THREAD_SANITIZER 0
#endif

/* The policy at loop index i, or NULL when HEAPLAB_TEST_POLICY names
 * another one.  A name that is not in the registry fails the test: a typo
 * must not turn the whole run green by skipping everything. */
static inline const struct hl_policy *tl_policy_at(int i)
{
    const char *only = getenv("HEAPLAB_TEST_POLICY");
    const struct hl_policy *p = hl_policy_at((size_t)i);
    ck_assert_msg(p != NULL, "no policy at registry index %d", i);
    if (!only || !*only)
        return p;
    ck_assert_msg(hl_policy_lookup(only) != NULL, "HEAPLAB_TEST_POLICY=%s: no such policy", only);
    return strcmp(p->name, only) == 0 ? p : NULL;
}

/* First statement of a policy loop body (Check names the index `_i`). */
#define TL_POLICY(var)                                                                             \
    const struct hl_policy *var = tl_policy_at(_i);                                                \
    if (!var)                                                                                      \
        return

/* Loop bounds for tests that must end in a signal: a skipped index cannot
 * just return there (it would fail for not aborting), so HEAPLAB_TEST_POLICY
 * narrows the registered range instead.  An unknown name keeps the whole
 * range, and TL_POLICY in the body then fails loudly. */
static inline int tl_loop_begin(void)
{
    const char *only = getenv("HEAPLAB_TEST_POLICY");
    if (only && *only)
        for (size_t i = 0; i < hl_policy_count(); i++)
            if (strcmp(hl_policy_at(i)->name, only) == 0)
                return (int)i;
    return 0;
}
static inline int tl_loop_end(void)
{
    const char *only = getenv("HEAPLAB_TEST_POLICY");
    if (only && *only)
        for (size_t i = 0; i < hl_policy_count(); i++)
            if (strcmp(hl_policy_at(i)->name, only) == 0)
                return (int)i + 1;
    return (int)hl_policy_count();
}

/* Whether the policy lays its blocks out with core's boundary-tag mechanism,
 * and so coalesces with both neighbours, packs to the heap's alignment and
 * trims the top as core does.  A policy with its own alloc hook (a buddy
 * system, a pool) keeps the contract but not those properties. */
static inline int tl_core_mechanism(const struct hl_policy *p) { return p->alloc == NULL; }

/* Where the shared malloc-lab traces are (they are not ours and never
 * copied in): $HEAPLAB_MALLOCLAB, else ../shared/traces/malloclab beside
 * $HEAPLAB_SRCDIR or the current directory.  NULL, with a SKIPPED line
 * naming the suite and test, when they are absent. */
static inline const char *tl_malloclab_dir(const char *suite, const char *test)
{
    static char dir[1024];
    const char *env = getenv("HEAPLAB_MALLOCLAB");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        const char *src = getenv("HEAPLAB_SRCDIR");
        snprintf(dir, sizeof dir, "%s/../shared/traces/malloclab", src && *src ? src : ".");
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s: SKIPPED: no malloc-lab traces at %s (set HEAPLAB_MALLOCLAB)\n", suite, test, dir);
        return NULL;
    }
    return dir;
}

/* ---- temporary folders ---------------------------------------------------- */

/* A fresh folder $TMPDIR/heaplab-TAG-XXXXXX (TMPDIR defaults to /tmp); its
 * path in dir. */
static inline void tl_make_tmpdir(char *dir, size_t n, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, n, "%s/heaplab-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove a folder and everything below it. */
static inline void tl_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue; /* not one of ours */
        if (unlink(p) != 0)
            tl_remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- per-block patterns (pattern.h) -------------------------------------- */

#define TL_ASSERT_PATTERN(p, n, id)                                                                \
    do {                                                                                           \
        long tl_bad_ = pat_verify((p), (n), (id));                                                 \
        ck_assert_msg(tl_bad_ < 0, "block %p (id %llu, %zu bytes): pattern broken at byte %ld",    \
                      (void *)(p), (unsigned long long)(id), (size_t)(n), tl_bad_);                \
    } while (0)

/* ---- heaps ---------------------------------------------------------------- */

static inline hl_heap *tl_heap(const struct hl_config *cfg)
{
    hl_heap *h = hl_heap_create(cfg);
    ck_assert_msg(h != NULL, "hl_heap_create(%s): %s", cfg->policy->name, strerror(errno));
    return h;
}

/* A heap with the default configuration (region source). */
static inline hl_heap *tl_default_heap(const struct hl_policy *p)
{
    struct hl_config cfg;
    hl_config_default(&cfg, p);
    return tl_heap(&cfg);
}

/* The checker, describing every violation on stderr. */
#define TL_CHECK(h)                                                                                \
    do {                                                                                           \
        int tl_v_ = hl_check((h), stderr);                                                         \
        ck_assert_msg(tl_v_ == 0, "hl_check (%s): %d violations", hl_heap_policy(h)->name, tl_v_);  \
    } while (0)

static inline struct hl_stats tl_stats(hl_heap *h)
{
    struct hl_stats st;
    hl_stats(h, &st);
    return st;
}

/* Two stats snapshots are identical (nothing was allocated or freed). */
#define TL_STATS_EQ(a, b) ck_assert_msg(memcmp(&(a), &(b), sizeof(a)) == 0, "heap stats changed")

/* ---- running a program -------------------------------------------------------------------- */

struct tl_run {
    int status;      /* exit status, or 128 + signal */
    int sig;         /* the signal that ended it, or 0 */
    char out[16384]; /* standard output (what fits) */
    char err[8192];  /* standard error (what fits) */
};

static inline void tl_slurp(FILE *f, char *buf, size_t len)
{
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
}

/* Run argv (NULL-terminated; argv[0] looked up as execvp does) with the
 * "NAME=VALUE" settings of env (NULL-terminated, or NULL) added to its
 * environment and its standard input, output and error on the descriptors
 * in, out and err (-1: this process's own), and wait for it.  Its exit
 * status, or 128 + the signal that ended it (that signal in *sig, else 0). */
static inline int tl_spawn(const char *const *env, const char *const *argv, int in, int out, int err, int *sig)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0)
            dup2(out, 1);
        if (err >= 0)
            dup2(err, 2);
        for (int i = 0; env && env[i]; i++)
            putenv((char *)(uintptr_t)env[i]);
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    *sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + *sig;
}

/* tl_spawn with this process's standard input; what the program wrote goes
 * into r. */
static inline void tl_run(struct tl_run *r, const char *const *env, const char *const *argv)
{
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert(out && err);
    r->status = tl_spawn(env, argv, -1, fileno(out), fileno(err), &r->sig);
    tl_slurp(out, r->out, sizeof r->out);
    tl_slurp(err, r->err, sizeof r->err);
    fclose(out);
    fclose(err);
}

/* Run heaplab ($HEAPLAB_BIN) with the given arguments (NULL-terminated, at
 * most 13), what it wrote in the returned tl_run (one static per call site's
 * file; the next call overwrites it).  NULL when the binary is not known:
 * the test then skips, "AREA: SKIPPED: ..." on stderr. */
static inline struct tl_run *tl_heaplab(const char *area, const char *arg0, ...)
{
    static struct tl_run r;
    const char *bin = getenv("HEAPLAB_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "%s: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n", area);
        return NULL;
    }
    const char *argv[16] = {bin, arg0};
    va_list ap;
    va_start(ap, arg0);
    for (int i = 2; i < 15 && (argv[i] = va_arg(ap, const char *)) != NULL; i++)
        ;
    va_end(ap);
    argv[15] = NULL;
    tl_run(&r, NULL, argv);
    return &r;
}

/* ---- a test that must end in a diagnosed abort ------------------------------------------- */

/* For a test registered with tcase_add_test_raise_signal(..., SIGABRT):
 * call tl_expect_abort("heaplab: free(): double free at ") first.  The
 * test's stderr goes to a file (nothing alarming in make test's output);
 * when the abort comes, its first line must start with `line`, else the
 * test ends with exit status 3 and the line it got, which Check reports as
 * a failure (no SIGABRT). */
static char tl_abort_line[256];
static int tl_abort_log = -1, tl_abort_stderr = -1;

static inline void tl_on_abort(int sig)
{
    char got[512];
    ssize_t n = pread(tl_abort_log, got, sizeof got - 1, 0);
    got[n > 0 ? n : 0] = 0;
    size_t want = strlen(tl_abort_line);
    if (strncmp(got, tl_abort_line, want) == 0 && strchr(got, '\n') == got + strlen(got) - 1) {
        signal(sig, SIG_DFL);
        raise(sig); /* pending until the handler returns, then fatal */
        return;
    }
    static const char head[] = "expected one line starting '";
    ssize_t w = write(tl_abort_stderr, head, sizeof head - 1);
    w = write(tl_abort_stderr, tl_abort_line, want);
    w = write(tl_abort_stderr, "', got: ", 8);
    w = write(tl_abort_stderr, got, strlen(got));
    (void)w;
    _exit(3);
}

static inline void tl_expect_abort(const char *line)
{
    snprintf(tl_abort_line, sizeof tl_abort_line, "%s", line);
    FILE *log = tmpfile();
    ck_assert_ptr_nonnull(log);
    fflush(stderr);
    tl_abort_log = fileno(log);
    tl_abort_stderr = dup(2);
    dup2(tl_abort_log, 2);
    signal(SIGABRT, tl_on_abort);
}

#endif
