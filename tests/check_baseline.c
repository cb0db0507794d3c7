/*
 * check_baseline.c - baselines: production allocators as rows of a heaplab
 * run (heaplab replay --baseline), through the command itself
 * ($HEAPLAB_BIN, set by `make test`).
 *
 * The rows: glibc's is ok, timed, with latency percentiles and a peak RSS
 * that follows the trace's peak live bytes; each installed library's is ok
 * (skipped with a message when the library is not installed); the preload
 * check tells libraries apart; a PATH.so built here is really the one that
 * ran (it counts its calls); a library that aborts costs its own row; a
 * library that is not there is one line and no row; bad names are usage
 * errors.  In a sanitizer build, baselines are one "skipped" line each.
 *
 * The regime: the GLIBC_TUNABLES each configuration maps to; a probe
 * program started with the environment a glibc child gets shows that
 * glibc's malloc really follows them (mapping, trimming, the dynamic
 * threshold), the user's GLIBC_TUNABLES kept and overridden as documented;
 * through the command, the glibc row keeps its heap resident after the run
 * when heaplab's rows do not trim, and the regime column says what every
 * row ran under.
 *
 * The test libraries and the probe are compiled with cc into a temporary
 * folder.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "testutil.h"

#define SUITE "baseline"

/* ---- a scratch folder --------------------------------------------------------- */

static char dir[256];

/* The user's malloc settings would change what the glibc rows run under
 * (and their regime): the tests run without them. */
static void clean_malloc_env(void)
{
    static const char *const vars[] = {"GLIBC_TUNABLES", "MALLOC_CHECK_", "MALLOC_TOP_PAD_", "MALLOC_PERTURB_",
                                       "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_",
                                       "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static void setup(void)
{
    clean_malloc_env();
    snprintf(dir, sizeof dir, "/tmp/heaplab-baseline-XXXXXX");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: cannot remove %s\n", SUITE, dir);
}

static const char *in_dir(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static const char *heaplab(const char *test)
{
    const char *bin = getenv("HEAPLAB_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "%s: %s: SKIPPED: HEAPLAB_BIN not set (run through make test)\n", SUITE, test);
        return NULL;
    }
    return bin;
}

/* In a sanitizer build heaplab cannot run baselines (another test checks
 * that it says so). */
static int unsupported(const char *test)
{
    const char *why = hl_baseline_unsupported();
    if (why)
        fprintf(stderr, "%s: %s: SKIPPED: %s\n", SUITE, test, why);
    return why != NULL;
}

/* ---- traces --------------------------------------------------------------------- */

/* n blocks of `size` bytes allocated, then freed in reverse: peak live n * size. */
static const char *write_stack_trace(const char *name, unsigned n, unsigned size)
{
    const char *path = in_dir(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%u\n%u\n%u\n1\n", n * size, n, 2 * n);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "a %u %u\n", i, size);
    for (unsigned i = n; i-- > 0;)
        fprintf(f, "f %u\n", i);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* A mixed trace: every kind of request, realloc growing and shrinking. */
static const char *write_mixed_trace(const char *name)
{
    const char *path = in_dir(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    struct pat_rng rng = {42};
    enum { IDS = 300, ROUNDS = 3 };
    fprintf(f, "0\n%d\n%d\n1\n", IDS, ROUNDS * IDS * 3);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < IDS; i++) {
            size_t sz = 1 + pat_below(&rng, i % 17 == 0 ? 200000 : 700);
            if (i % 5 == 0)
                fprintf(f, "c %d 1 %zu\n", i, sz);
            else
                fprintf(f, "a %d %zu\n", i, sz);
        }
        for (int i = 0; i < IDS; i++)
            fprintf(f, "r %d %zu\n", i, 1 + pat_below(&rng, 3000));
        for (int i = 0; i < IDS; i++)
            fprintf(f, "f %d\n", (i * 7) % IDS);
    }
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* ---- running heaplab -------------------------------------------------------------- */

struct run {
    int status;   /* exit status; -1: killed by a signal */
    char *err;    /* what it wrote on stderr */
    size_t lines; /* of err */
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        buf[len++] = (char)c;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    ck_assert_ptr_nonnull(buf);
    buf[len] = '\0';
    return buf;
}

/* Run heaplab with argv (NULL-terminated, argv[0] ignored), standard output
 * and error into files in the scratch folder; `env` (NAME=value or NULL) is
 * added to the environment. */
static struct run run_heaplab(const char *bin, const char *env, char **argv)
{
    const char *out = in_dir("stdout"), *errp = in_dir("stderr");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        if (env)
            putenv((char *)env);
        argv[0] = (char *)bin;
        execv(bin, argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    struct run r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(errp), 0};
    for (const char *p = r.err; *p; p++)
        r.lines += *p == '\n';
    return r;
}

/* ---- the CSV it writes -------------------------------------------------------------- */

#define MAXCOL 64
#define MAXROW 64

struct csv {
    char *text;
    size_t ncol, nrow;
    char *head[MAXCOL];
    char *cell[MAXROW][MAXCOL];
};

/* Split one RFC 4180 line in place; returns the start of the next line. */
static char *split_line(char *p, char **cells, size_t *n)
{
    *n = 0;
    for (;;) {
        char *w = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    ck_assert_msg(*p != '\0', "unterminated quoted CSV field");
                    *w++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n')
                *w++ = *p++;
        }
        char end = *p;
        *w = '\0';
        ck_assert_uint_lt(*n, MAXCOL);
        cells[(*n)++] = start;
        if (end == ',') {
            p++;
            continue;
        }
        return end == '\n' ? p + 1 : p;
    }
}

static void csv_read(struct csv *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->text = slurp(path);
    char *p = split_line(c->text, c->head, &c->ncol);
    while (*p) {
        size_t n;
        ck_assert_uint_lt(c->nrow, MAXROW);
        p = split_line(p, c->cell[c->nrow], &n);
        ck_assert_uint_eq(n, c->ncol);
        c->nrow++;
    }
}

static const char *get(const struct csv *c, size_t row, const char *col)
{
    ck_assert_uint_lt(row, c->nrow);
    for (size_t i = 0; i < c->ncol; i++)
        if (strcmp(c->head[i], col) == 0)
            return c->cell[row][i];
    ck_abort_msg("no column %s", col);
    return NULL;
}

static double num(const struct csv *c, size_t row, const char *col)
{
    const char *s = get(c, row, col);
    ck_assert_msg(*s, "row %zu (%s): %s is empty", row, get(c, row, "policy"), col);
    return strtod(s, NULL);
}

static void csv_free(struct csv *c) { free(c->text); }

/* The row of `policy` for the trace whose path ends in `trace`, or -1. */
static long find_row(const struct csv *c, const char *trace, const char *policy)
{
    for (size_t i = 0; i < c->nrow; i++) {
        const char *t = get(c, i, "trace");
        size_t lt = strlen(t), lw = strlen(trace);
        if (strcmp(get(c, i, "policy"), policy) == 0 && lt >= lw && strcmp(t + lt - lw, trace) == 0)
            return (long)i;
    }
    return -1;
}

/* A row that must be ok and carry every baseline column. */
static void assert_baseline_ok(const struct csv *c, long i, const char *label)
{
    ck_assert_msg(i >= 0, "no row for %s", label);
    ck_assert_msg(strcmp(get(c, (size_t)i, "status"), "ok") == 0, "%s: status '%s'", label,
                  get(c, (size_t)i, "status"));
    ck_assert_msg(num(c, (size_t)i, "ops_per_sec") > 0, "%s: no throughput", label);
    ck_assert(num(c, (size_t)i, "ops_per_sec_min") > 0);
    ck_assert(num(c, (size_t)i, "ops_per_sec_min") <= num(c, (size_t)i, "ops_per_sec"));
    double p50 = num(c, (size_t)i, "p50_ns"), p99 = num(c, (size_t)i, "p99_ns");
    ck_assert_msg(p50 >= 0 && p99 >= p50, "%s: p50 %g p99 %g", label, p50, p99);
    ck_assert_msg(*get(c, (size_t)i, "peak_rss_bytes"), "%s: no peak RSS", label);
    ck_assert_msg(*get(c, (size_t)i, "rss_after_bytes"), "%s: no RSS after the run", label);
    ck_assert_msg(*get(c, (size_t)i, "regime"), "%s: no regime", label);
    /* heaplab's configuration and heap-only columns do not apply */
    static const char *const empty[] = {"preset", "source", "mmap_threshold", "peak_heap_bytes", "util",
                                        "frag", "internal_frag", "external_frag", "sbrk_calls", "mmap_calls",
                                        "munmap_calls"};
    for (size_t k = 0; k < sizeof empty / sizeof empty[0]; k++)
        ck_assert_msg(*get(c, (size_t)i, empty[k]) == '\0', "%s: %s = '%s', expected empty", label, empty[k],
                      get(c, (size_t)i, empty[k]));
    ck_assert_str_eq(get(c, (size_t)i, "align"), "16");
}

/* ---- building test libraries ------------------------------------------------------- */

/* Compile C source into dir/name.so; extra: more cc arguments (or ""). */
static const char *build_so(const char *name, const char *source, const char *extra)
{
    char src[512], so[512], cmd[2048];
    snprintf(src, sizeof src, "%s/%s.c", dir, name);
    snprintf(so, sizeof so, "%s/%s.so", dir, name);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(source, f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -O1 -o '%s' '%s' %s", so, src, extra);
    ck_assert_msg(system(cmd) == 0, "cannot build a test library: %s", cmd);
    return in_dir(strrchr(so, '/') + 1);
}

/* A malloc that forwards to the next definition (libc's) and counts its
 * calls; at exit it appends "CALLS" to $WRAP_COUNT_FILE.  dlsym may
 * allocate while the real functions are being looked up: a static arena
 * serves those. */
static const char wrapper_source[] =
    "#define _GNU_SOURCE\n"
    "#include <dlfcn.h>\n"
    "#include <fcntl.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <unistd.h>\n"
    "static void *(*m)(size_t); static void (*f)(void *); static void *(*r)(void *, size_t);\n"
    "static void *(*c)(size_t, size_t); static int (*pm)(void **, size_t, size_t);\n"
    "static unsigned long calls; static int busy;\n"
    "static char arena[65536] __attribute__((aligned(16))); static size_t used;\n"
    "static int mine(void *p) { return (char *)p >= arena && (char *)p < arena + sizeof arena; }\n"
    "static void *early(size_t n) { void *p = arena + used; used += (n + 15) & ~(size_t)15;\n"
    "    return used <= sizeof arena ? p : NULL; }\n"
    "static int init(void) { if (m) return 1; if (busy) return 0; busy = 1;\n"
    "    r = dlsym(RTLD_NEXT, \"realloc\"); c = dlsym(RTLD_NEXT, \"calloc\");\n"
    "    f = dlsym(RTLD_NEXT, \"free\"); pm = dlsym(RTLD_NEXT, \"posix_memalign\");\n"
    "    m = dlsym(RTLD_NEXT, \"malloc\"); busy = 0; return m != NULL; }\n"
    "void *malloc(size_t n) { if (!init()) return early(n); calls++; return m(n); }\n"
    "void free(void *p) { if (mine(p)) return; if (!init()) return; calls++; f(p); }\n"
    "void *calloc(size_t a, size_t b) { if (!init()) return early(a * b); calls++; return c(a, b); }\n"
    "void *realloc(void *p, size_t n) { if (!init()) return NULL; calls++;\n"
    "    if (mine(p)) { void *q = m(n); if (q) memcpy(q, p, n); return q; } return r(p, n); }\n"
    "int posix_memalign(void **p, size_t a, size_t n) { if (!init()) return 12; calls++; return pm(p, a, n); }\n"
    "__attribute__((destructor)) static void report(void) {\n"
    "    const char *path = getenv(\"WRAP_COUNT_FILE\"); if (!path) return;\n"
    "    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644); if (fd < 0) return;\n"
    "    char line[32]; int k = snprintf(line, sizeof line, \"%lu\\n\", calls);\n"
    "    if (write(fd, line, (size_t)k) != k) { } close(fd); }\n";

/* The same, but malloc aborts after CRASH_AFTER calls. */
static const char crash_source[] =
    "#define _GNU_SOURCE\n"
    "#include <stdlib.h>\n"
    "void *__libc_malloc(size_t); void __libc_free(void *); void *__libc_realloc(void *, size_t);\n"
    "void *__libc_calloc(size_t, size_t); void *__libc_memalign(size_t, size_t);\n"
    "static unsigned long n;\n"
    "void *malloc(size_t s) { if (++n > CRASH_AFTER) abort(); return __libc_malloc(s); }\n"
    "void free(void *p) { __libc_free(p); }\n"
    "void *realloc(void *p, size_t s) { return __libc_realloc(p, s); }\n"
    "void *calloc(size_t a, size_t b) { return __libc_calloc(a, b); }\n"
    "int posix_memalign(void **p, size_t a, size_t s) { *p = __libc_memalign(a, s); return *p ? 0 : 12; }\n";

/* ---- glibc --------------------------------------------------------------------------- */

START_TEST(glibc_row)
{
    const char *bin = heaplab("glibc_row");
    if (!bin || unsupported("glibc_row"))
        return;
    /* 2000 blocks of 4000 bytes: 8 MB live at the peak; the tiny trace: 3 KB */
    const char *big = write_stack_trace("big.rep", 2000, 4000);
    const char *tiny = write_stack_trace("tiny.rep", 3, 1000);
    const char *mixed = write_mixed_trace("mixed.rep");
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "--baseline", "glibc", "--repeat", "2", "-f", "csv", "-o", (char *)csvp,
                    (char *)big, (char *)tiny, (char *)mixed, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 3); /* --baseline alone: no policy rows */
    long b = find_row(&c, "big.rep", "baseline:glibc"), t = find_row(&c, "tiny.rep", "baseline:glibc");
    long m = find_row(&c, "mixed.rep", "baseline:glibc");
    assert_baseline_ok(&c, b, "big");
    assert_baseline_ok(&c, t, "tiny");
    assert_baseline_ok(&c, m, "mixed");
    ck_assert_str_eq(get(&c, (size_t)b, "ops"), "4000");
    ck_assert_str_eq(get(&c, (size_t)b, "peak_live_bytes"), "8000000");
    ck_assert_str_eq(get(&c, (size_t)t, "peak_live_bytes"), "3000");
    /* the child's own growth: most of the 8 MB, and the tiny trace adds
     * next to nothing (the parent, holding all three traces, is not counted) */
    double rss = num(&c, (size_t)b, "peak_rss_bytes");
    ck_assert_msg(rss >= 0.75 * 8000000 && rss <= 4.0 * 8000000, "big: peak_rss_bytes %.0f for 8 MB live", rss);
    double tiny_rss = num(&c, (size_t)t, "peak_rss_bytes");
    ck_assert_msg(tiny_rss < 1024 * 1024, "tiny: peak_rss_bytes %.0f for 3 KB live", tiny_rss);
    csv_free(&c);
    free(r.err);
}
END_TEST

/* Rows per trace: the policies in order, then the baselines in order. */
START_TEST(row_order)
{
    const char *bin = heaplab("row_order");
    if (!bin || unsupported("row_order"))
        return;
    const char *t1 = write_stack_trace("one.rep", 10, 100);
    const char *t2 = write_stack_trace("two.rep", 20, 50);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL,         "replay", "-p",          "first-fit", "--baseline", "glibc", "-p", "best-fit",
                    "--repeat",   "1",      "--baseline",  "glibc",     "-f",         "csv",   "-o", (char *)csvp,
                    (char *)t1,   (char *)t2, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    static const char *const want[] = {"first-fit", "best-fit", "baseline:glibc", "baseline:glibc"};
    ck_assert_uint_eq(c.nrow, 8);
    for (size_t i = 0; i < 8; i++) {
        ck_assert_str_eq(get(&c, i, "policy"), want[i % 4]);
        ck_assert_str_eq(get(&c, i, "trace"), i < 4 ? t1 : t2);
        ck_assert_str_eq(get(&c, i, "status"), "ok");
    }
    csv_free(&c);
    free(r.err);
}
END_TEST

/* ---- the libraries ---------------------------------------------------------------- */

static const char *const libraries[] = {"jemalloc", "mimalloc", "tcmalloc"};

START_TEST(library_row)
{
    const char *name = libraries[_i];
    char test[64];
    snprintf(test, sizeof test, "library_row(%s)", name);
    const char *bin = heaplab(test);
    if (!bin || unsupported(test))
        return;
    struct hl_baseline b;
    char why[512];
    int k = hl_baseline_resolve(name, &b, why, sizeof why);
    ck_assert_int_ge(k, 0);
    if (k > 0) {
        fprintf(stderr, "%s: %s: SKIPPED: %s\n", SUITE, test, why);
        return;
    }
    ck_assert_msg(b.lib[0] == '/', "%s resolved to '%s'", name, b.lib);
    /* this process runs libc's malloc: the check says so, naming both */
    ck_assert_int_eq(hl_baseline_verify(NULL, why, sizeof why), 0);
    ck_assert_int_eq(hl_baseline_verify(b.lib, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "preload not in effect: malloc is libc.so") && strstr(why, strrchr(b.lib, '/') + 1),
                  "%s", why);

    const char *mixed = write_mixed_trace("mixed.rep");
    const char *big = write_stack_trace("big.rep", 2000, 4000);
    const char *csvp = in_dir("out.csv");
    char list[64];
    snprintf(list, sizeof list, "%s,glibc", name);
    char *argv[] = {NULL,     "replay", "--baseline", list, "--repeat", "2", "-f", "csv", "-o", (char *)csvp,
                    (char *)mixed, (char *)big, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 4);
    char label[64];
    snprintf(label, sizeof label, "baseline:%s", name);
    assert_baseline_ok(&c, find_row(&c, "mixed.rep", label), label);
    long i = find_row(&c, "big.rep", label);
    assert_baseline_ok(&c, i, label);
    double rss = num(&c, (size_t)i, "peak_rss_bytes");
    ck_assert_msg(rss >= 0.75 * 8000000 && rss <= 4.0 * 8000000, "%s: peak_rss_bytes %.0f for 8 MB live", name, rss);
    /* a library has no settings in common with heaplab's rules: its
     * defaults; glibc, beside it, the linux preset's rules */
    ck_assert_str_eq(get(&c, (size_t)i, "regime"), "defaults");
    ck_assert_str_eq(get(&c, (size_t)find_row(&c, "big.rep", "baseline:glibc"), "regime"), "trim=128K mmap=128K dyn");
    csv_free(&c);
    free(r.err);
}
END_TEST

/* The check tells libraries apart, not only libc from the rest: heaplab's
 * own check (__baseline verify LIB) under every preload, against every
 * expectation, says ok exactly on the diagonal and names both otherwise. */
START_TEST(verify_tells_libraries_apart)
{
    const char *bin = heaplab("verify_tells_libraries_apart");
    if (!bin || unsupported("verify_tells_libraries_apart"))
        return;
    enum { N = 1 + sizeof libraries / sizeof libraries[0] };
    char lib[N][PATH_MAX], why[512];
    lib[0][0] = '\0'; /* glibc */
    size_t n = 1;
    for (size_t i = 0; i + 1 < N; i++) {
        struct hl_baseline b;
        if (hl_baseline_resolve(libraries[i], &b, why, sizeof why) == 0)
            snprintf(lib[n++], PATH_MAX, "%s", b.lib);
        else
            fprintf(stderr, "%s: verify_tells_libraries_apart: %s left out: %s\n", SUITE, libraries[i], why);
    }
    if (n < 2) {
        fprintf(stderr, "%s: verify_tells_libraries_apart: SKIPPED: no malloc library installed\n", SUITE);
        return;
    }
    for (size_t pre = 0; pre < n; pre++)
        for (size_t want = 0; want < n; want++) {
            char env[PATH_MAX + 16];
            snprintf(env, sizeof env, "LD_PRELOAD=%s", lib[pre]);
            char *argv[] = {NULL, "__baseline", "verify", lib[want], NULL};
            struct run r = run_heaplab(bin, env, argv);
            char *out = slurp(in_dir("stdout"));
            const char *got_name = pre ? strrchr(lib[pre], '/') + 1 : "libc.so.6";
            const char *want_name = want ? strrchr(lib[want], '/') + 1 : "libc.so.6";
            if (pre == want) {
                ck_assert_msg(r.status == 0 && strcmp(out, "ok\n") == 0, "%s as %s: %s", got_name, want_name, out);
            } else {
                char msg[1024];
                snprintf(msg, sizeof msg, "preload not in effect: malloc is %s's, not %s's\n", got_name, want_name);
                ck_assert_int_eq(r.status, 1);
                ck_assert_str_eq(out, msg);
            }
            free(out);
            free(r.err);
        }
}
END_TEST

/* ---- PATH.so --------------------------------------------------------------------------- */

START_TEST(path_library_is_used)
{
    const char *bin = heaplab("path_library_is_used");
    if (!bin || unsupported("path_library_is_used"))
        return;
    const char *so = build_so("wrap", wrapper_source, "");
    const char *t = write_stack_trace("one.rep", 500, 100); /* 1000 operations */
    const char *csvp = in_dir("out.csv");
    char env[600];
    snprintf(env, sizeof env, "WRAP_COUNT_FILE=%s", in_dir("counts"));
    char *argv[] = {NULL, "replay", "--baseline", (char *)so, "--repeat", "3", "-f", "csv", "-o", (char *)csvp,
                    (char *)t, NULL};
    struct run r = run_heaplab(bin, env, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 1);
    char label[600];
    snprintf(label, sizeof label, "baseline:%s", so);
    assert_baseline_ok(&c, find_row(&c, "one.rep", label), label);
    ck_assert_str_eq(get(&c, (size_t)find_row(&c, "one.rep", label), "regime"), "defaults");
    csv_free(&c);
    /* two children, each counted: the measure one (footprint and checked
     * pass: 2 x 1000 calls at least), the time one (warm-up, 3 timed, latency:
     * 5 x 1000) */
    char *counts = slurp(in_dir("counts"));
    unsigned long a = 0, b = 0;
    ck_assert_msg(sscanf(counts, "%lu\n%lu\n", &a, &b) == 2, "counts: '%s'", counts);
    ck_assert_msg(a >= 2000 && b >= 5000, "wrapper calls: %lu and %lu", a, b);
    free(counts);
    free(r.err);
}
END_TEST

/* A library whose malloc aborts in the checked pass costs its own row. */
static void crash_case(int fork_mode)
{
    const char *bin = heaplab("crash");
    if (!bin || unsupported("crash"))
        return;
    /* 1000 mallocs: the footprint pass makes 1001 (its pointer table and
     * the trace's), the checked pass meets the abort halfway */
    const char *so = build_so("crash", crash_source, "-DCRASH_AFTER=1500");
    const char *t = write_stack_trace("one.rep", 1000, 64);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "-p", "first-fit", "--baseline", (char *)so, "--baseline", "glibc", "--repeat",
                    "1",  "-f",     "csv", "-o", (char *)csvp, fork_mode ? (char *)t : "--no-fork", (char *)t, NULL};
    if (fork_mode)
        argv[15] = NULL;
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 3);
    ck_assert_str_eq(get(&c, 0, "status"), "ok");
    ck_assert_str_eq(get(&c, 2, "status"), "ok");
    const char *st = get(&c, 1, "status");
    ck_assert_msg(strcmp(st, "crashed by signal 6 (Aborted) in the checked pass") == 0, "status: %s", st);
    csv_free(&c);
    free(r.err);
}

START_TEST(crash_costs_its_row) { crash_case(1); }
END_TEST

START_TEST(crash_costs_its_row_without_fork) { crash_case(0); }
END_TEST

/* ---- the regime: glibc under heaplab's rules ------------------------------------ */

/* A configuration as `heaplab replay` makes it from a preset and the
 * flags (cmd_replay.c): an explicit threshold is fixed, and an explicit
 * trim threshold fixes the mmap threshold too; trim 0 is never. */
static struct hl_replay_config config(const char *preset, long trim, long mmap)
{
    struct hl_replay_config cfg;
    ck_assert_int_eq(hl_replay_preset(&cfg, preset), 0);
    if (mmap >= 0) {
        cfg.mmap_threshold = (size_t)mmap;
        cfg.mmap_dynamic = 0;
    }
    if (trim >= 0) {
        cfg.trim_threshold = trim ? (size_t)trim : HL_NO_TRIM;
        cfg.mmap_dynamic = 0;
    }
    return cfg;
}

static const struct tunables_case {
    const char *preset;
    long trim, mmap; /* -1: the flag not given */
    const char *tunables, *regime;
} tunables_cases[] = {
    {"linux", -1, -1, "", "trim=128K mmap=128K dyn"},
    {"linux", 0, -1, "glibc.malloc.trim_threshold=18446744073709551615:glibc.malloc.mmap_threshold=131072",
     "trim=off mmap=128K"},
    {"linux", 1048576, -1,
     "glibc.malloc.trim_threshold=1048576:glibc.malloc.mmap_threshold=131072:glibc.malloc.top_pad=131072",
     "trim=1M mmap=128K"},
    {"linux", -1, 300000,
     "glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=300000:glibc.malloc.top_pad=131072",
     "trim=128K mmap=300000"},
    {"linux", -1, 0, "glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_max=0:glibc.malloc.top_pad=131072",
     "trim=128K mmap=off"},
    {"linux", 0, 0, "glibc.malloc.trim_threshold=18446744073709551615:glibc.malloc.mmap_max=0",
     "trim=off mmap=off"},
    {"malloclab", -1, -1, "glibc.malloc.trim_threshold=18446744073709551615:glibc.malloc.mmap_max=0",
     "trim=off mmap=off"},
    {"malloclab", 65536, 262144,
     "glibc.malloc.trim_threshold=65536:glibc.malloc.mmap_threshold=262144:glibc.malloc.top_pad=131072",
     "trim=64K mmap=256K"},
};

/* The tunables each configuration maps to, and the regime both rows say. */
START_TEST(glibc_tunables_match_the_configuration)
{
    const struct tunables_case *tc = &tunables_cases[_i];
    struct hl_replay_config cfg = config(tc->preset, tc->trim, tc->mmap);
    char tun[HL_BASELINE_TUNABLES_MAX], regime[256], rows[256];
    hl_baseline_glibc_tunables(&cfg, tun, sizeof tun);
    ck_assert_str_eq(tun, tc->tunables);
    struct hl_baseline glibc = {"baseline:glibc", ""}, lib = {"baseline:x", "/x.so"};
    hl_baseline_regime(&glibc, &cfg, regime, sizeof regime);
    ck_assert_str_eq(regime, tc->regime);
    hl_replay_regime(cfg.trim_threshold, cfg.mmap_threshold, cfg.mmap_dynamic, rows, sizeof rows);
    ck_assert_str_eq(rows, tc->regime); /* the words of heaplab's rows */
    hl_baseline_regime(&lib, &cfg, regime, sizeof regime);
    ck_assert_str_eq(regime, "defaults");
}
END_TEST

/* What glibc's malloc does, seen from inside a process: COUNT blocks of
 * SIZE bytes, how many got a mapping of their own (mallinfo2's hblks);
 * freed in reverse, the main arena's size left (trimmed or not); then one
 * more block of SIZE, mapped or not (the dynamic threshold rose or not). */
static const char probe_source[] =
    "#include <malloc.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "int main(int argc, char **argv) {\n"
    "    if (argc != 3) return 2;\n"
    "    size_t size = strtoul(argv[1], 0, 10), n = strtoul(argv[2], 0, 10);\n"
    "    static void *p[1024]; if (n > 1024) return 2;\n"
    "    size_t h0 = mallinfo2().hblks;\n"
    "    for (size_t i = 0; i < n; i++) if (!(p[i] = malloc(size))) return 3;\n"
    "    size_t mapped = mallinfo2().hblks - h0;\n"
    "    for (size_t i = n; i-- > 0;) free(p[i]);\n"
    "    size_t arena = mallinfo2().arena, h1 = mallinfo2().hblks;\n"
    "    void *q = malloc(size); if (!q) return 3;\n"
    "    printf(\"mapped %zu arena %zu again %zu\\n\", mapped, arena, mallinfo2().hblks - h1);\n"
    "    free(q); return 0; }\n";

struct probe {
    unsigned long mapped, arena, again;
};

/* Run the probe with the environment of a glibc baseline's child under cfg. */
static struct probe run_probe(const char *exe, const struct hl_replay_config *cfg, size_t size, size_t count)
{
    struct hl_baseline glibc = {"baseline:glibc", ""};
    char **env = hl_baseline_env(&glibc, cfg);
    ck_assert_ptr_nonnull(env);
    char s[32], n[32];
    snprintf(s, sizeof s, "%zu", size);
    snprintf(n, sizeof n, "%zu", count);
    const char *out = in_dir("probe.out");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || dup2(o, 1) < 0)
            _exit(126);
        char *argv[] = {(char *)exe, s, n, NULL};
        execve(exe, argv, env);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    free(env);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe %zu %zu: status %d", size, count, st);
    char *text = slurp(out);
    struct probe p;
    ck_assert_msg(sscanf(text, "mapped %lu arena %lu again %lu", &p.mapped, &p.arena, &p.again) == 3, "probe: '%s'",
                  text);
    free(text);
    return p;
}

/* Into exe (512 bytes): in_dir's paths do not last. */
static void build_probe(char *exe)
{
    char src[512], cmd[2048];
    snprintf(src, sizeof src, "%s/probe.c", dir);
    snprintf(exe, 512, "%s/probe", dir);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(probe_source, f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "cc -O1 -o '%s' '%s'", exe, src);
    ck_assert_msg(system(cmd) == 0, "cannot build the probe: %s", cmd);
}

#define KB 1024ul
#define MB (1024ul * 1024)

/* glibc, started with the environment its baseline child gets, behaves as
 * heaplab's rows under the same configuration: maps from the same
 * threshold (a request the top of the heap cannot serve: 250000 and
 * 400000 bytes; glibc's top holds about 128 KiB), trims or not (64 blocks
 * of 16 KiB freed: 1 MiB at the top), and keeps its threshold dynamic
 * only under the linux preset. */
START_TEST(glibc_child_runs_under_the_tunables)
{
    char exe[512];
    build_probe(exe);
    struct hl_replay_config cfg = config("linux", -1, -1);
    struct probe p = run_probe(exe, &cfg, 250000, 1);
    ck_assert_msg(p.mapped == 1 && p.again == 0, "linux: mapped %lu again %lu (dynamic: the free raises it)",
                  p.mapped, p.again);
    p = run_probe(exe, &cfg, 16 * KB, 64);
    ck_assert_msg(p.arena < 512 * KB, "linux: arena %lu after freeing 1 MiB at the top (trims)", p.arena);

    cfg = config("linux", 0, -1); /* --trim-threshold 0 */
    p = run_probe(exe, &cfg, 250000, 1);
    ck_assert_msg(p.mapped == 1 && p.again == 1, "trim off: mapped %lu again %lu (fixed at 128K)", p.mapped,
                  p.again);
    p = run_probe(exe, &cfg, 16 * KB, 64);
    ck_assert_msg(p.arena >= 1 * MB, "trim off: arena %lu after freeing 1 MiB (never trims)", p.arena);

    /* --trim-threshold 1M: 512 KiB free at the top stays; 1.5 MiB freed
     * trims once the top reaches 1 MiB (the last 0.5 MiB freed stays) */
    cfg = config("linux", 1048576, -1);
    p = run_probe(exe, &cfg, 16 * KB, 32);
    ck_assert_msg(p.arena >= 512 * KB, "trim 1M: arena %lu after freeing 512 KiB", p.arena);
    p = run_probe(exe, &cfg, 16 * KB, 96);
    ck_assert_msg(p.arena < 1 * MB, "trim 1M: arena %lu after freeing 1.5 MiB", p.arena);

    cfg = config("linux", -1, 300000); /* --mmap-threshold 300000 */
    p = run_probe(exe, &cfg, 250000, 1);
    ck_assert_msg(p.mapped == 0, "mmap 300000: 250000 bytes mapped");
    p = run_probe(exe, &cfg, 400000, 1);
    ck_assert_msg(p.mapped == 1 && p.again == 1, "mmap 300000: 400000 bytes: mapped %lu again %lu", p.mapped,
                  p.again);

    cfg = config("linux", -1, 0); /* --mmap-threshold 0 */
    p = run_probe(exe, &cfg, 4 * MB, 2);
    ck_assert_msg(p.mapped == 0 && p.again == 0, "mmap off: 4 MiB mapped %lu again %lu", p.mapped, p.again);
    ck_assert_msg(p.arena < 512 * KB, "mmap off, trim 128K: arena %lu after freeing 8 MiB", p.arena);

    cfg = config("malloclab", -1, -1);
    p = run_probe(exe, &cfg, 250000, 8);
    ck_assert_msg(p.mapped == 0 && p.again == 0, "malloclab: mapped %lu again %lu", p.mapped, p.again);
    ck_assert_msg(p.arena >= 2 * MB, "malloclab: arena %lu after freeing 2 MB (never trims)", p.arena);
}
END_TEST

/* The user's GLIBC_TUNABLES stay, before heaplab's: heaplab's win for what
 * it sets, the user's others stay in effect, and the regime says so. */
START_TEST(user_tunables_are_kept_and_overridden)
{
    char exe[512];
    build_probe(exe);
    /* the user always trims and never maps; --trim-threshold 0 says never
     * trim (heaplab's setting wins) and sets the mmap threshold, not
     * mmap_max (the user's stays) */
    setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0:glibc.malloc.mmap_max=0", 1);
    struct hl_replay_config cfg = config("linux", 0, -1); /* trim off, mmap 128K: sets trim and mmap_threshold */
    struct probe p = run_probe(exe, &cfg, 16 * KB, 64);
    ck_assert_msg(p.arena >= 1 * MB, "the user's trim_threshold=0 won: arena %lu", p.arena);
    p = run_probe(exe, &cfg, 250000, 1);
    ck_assert_msg(p.mapped == 0, "the user's mmap_max=0 was dropped"); /* heaplab does not set mmap_max here */
    struct hl_baseline glibc = {"baseline:glibc", ""}, lib = {"baseline:x", "/x.so"};
    char regime[256];
    hl_baseline_regime(&glibc, &cfg, regime, sizeof regime);
    ck_assert_str_eq(regime, "trim=off mmap=128K +user tunables");
    hl_baseline_regime(&lib, &cfg, regime, sizeof regime);
    ck_assert_str_eq(regime, "defaults");
    /* under the linux preset heaplab sets nothing: the user's string alone */
    cfg = config("linux", -1, -1);
    p = run_probe(exe, &cfg, 250000, 1);
    ck_assert_msg(p.mapped == 0, "linux + the user's mmap_max=0: mapped");
    /* the environment itself: the user's string first, heaplab's after it */
    cfg = config("malloclab", -1, -1);
    char **env = hl_baseline_env(&glibc, &cfg);
    ck_assert_ptr_nonnull(env);
    size_t found = 0;
    for (char **e = env; *e; e++)
        if (strncmp(*e, "GLIBC_TUNABLES=", 15) == 0) {
            found++;
            ck_assert_str_eq(*e, "GLIBC_TUNABLES=glibc.malloc.trim_threshold=0:glibc.malloc.mmap_max=0:"
                                 "glibc.malloc.trim_threshold=18446744073709551615:glibc.malloc.mmap_max=0");
        }
    ck_assert_uint_eq(found, 1);
    free(env);
    unsetenv("GLIBC_TUNABLES");
}
END_TEST

static const struct regime_case {
    const char *flag, *value; /* NULL: no flag */
    const char *regime;
    int trims; /* heaplab's rows and glibc's give the 8 MB back at the end */
} regime_cases[] = {
    {NULL, NULL, "trim=128K mmap=128K dyn", 1},
    {"--trim-threshold", "0", "trim=off mmap=128K", 0},
    {"--preset", "malloclab", "trim=off mmap=off", 0},
    {"--mmap-threshold", "65536", "trim=128K mmap=64K", 1},
};

/* Through the command: the regime of every row, and what the heaps keep
 * resident after the run.  The trace allocates 8 MB in 4000-byte blocks
 * (under any mmap threshold here, above glibc's per-thread cache) and
 * frees them all from the top down: glibc, trimming, ends with little
 * resident; a heap that does not trim keeps the 8 MB. */
START_TEST(regime_and_rss_after_through_the_command)
{
    const struct regime_case *rc = &regime_cases[_i];
    const char *bin = heaplab("regime_and_rss_after_through_the_command");
    if (!bin || unsupported("regime_and_rss_after_through_the_command"))
        return;
    const char *big = write_stack_trace("big.rep", 2000, 4000);
    const char *csvp = in_dir("out.csv");
    char *argv[20] = {NULL, "replay", "-p", "first-fit", "--baseline", "glibc", "--repeat", "1", "-f", "csv", "-o",
                      (char *)csvp};
    int k = 12;
    if (rc->flag) {
        argv[k++] = (char *)rc->flag;
        argv[k++] = (char *)rc->value;
    }
    struct hl_baseline lib;
    char why[512];
    int have_lib = hl_baseline_resolve("jemalloc", &lib, why, sizeof why) == 0;
    if (have_lib) {
        argv[k++] = "--baseline";
        argv[k++] = "jemalloc";
    }
    argv[k++] = (char *)big;
    argv[k] = NULL;
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, have_lib ? 3 : 2);
    long f = find_row(&c, "big.rep", "first-fit"), g = find_row(&c, "big.rep", "baseline:glibc");
    ck_assert(f >= 0 && g >= 0);
    ck_assert_str_eq(get(&c, (size_t)f, "regime"), rc->regime);
    ck_assert_str_eq(get(&c, (size_t)g, "regime"), rc->regime);
    if (have_lib)
        ck_assert_str_eq(get(&c, (size_t)find_row(&c, "big.rep", "baseline:jemalloc"), "regime"), "defaults");
    /* heaplab's trim may give pages back lazily (they stay resident until
     * the kernel reclaims them): only a heap that never trims is sure to
     * keep them */
    double heap = num(&c, (size_t)f, "peak_heap_bytes");
    double fr = num(&c, (size_t)f, "rss_after_bytes"), gr = num(&c, (size_t)g, "rss_after_bytes");
    ck_assert_msg(fr <= heap + 4096, "first-fit: rss_after %.0f above its peak heap %.0f (in pages)", fr, heap);
    if (rc->trims) {
        ck_assert_msg(gr < 2.0 * MB, "glibc trims: rss_after %.0f", gr);
    } else {
        ck_assert_msg(fr >= 0.9 * 8000000, "first-fit keeps its heap: rss_after %.0f", fr);
        ck_assert_msg(gr >= 0.75 * 8000000 && gr <= 4.0 * 8000000, "glibc keeps its heap: rss_after %.0f", gr);
    }
    csv_free(&c);
    free(r.err);
}
END_TEST

/* ---- names, in this process ---------------------------------------------------------- */

/* hl_baseline_add: lists, "all", paths, repeated names; what it notes. */
START_TEST(lists_resolve)
{
    struct hl_baseline *b = NULL;
    size_t n = 0;
    char err[512], *notes = NULL;
    size_t notes_len = 0;
    FILE *note = open_memstream(&notes, &notes_len);
    ck_assert_ptr_nonnull(note);
    const char *so = write_stack_trace("not-a-library.so", 1, 1); /* exists: resolved as a path */
    char list[600];
    snprintf(list, sizeof list, "glibc,%s,/nonexistent/x.so", so);
    ck_assert_int_eq(hl_baseline_add(list, &b, &n, note, err, sizeof err), 0);
    ck_assert_int_eq(hl_baseline_add("all", &b, &n, note, err, sizeof err), 0);
    ck_assert_int_eq(hl_baseline_add("jemalloc,tcmalloc:x", &b, &n, note, err, sizeof err), -1);
    ck_assert_str_eq(err, "--baseline: unknown allocator 'tcmalloc:x' (expected glibc, jemalloc, mimalloc, "
                          "tcmalloc, all or a PATH.so)");
    ck_assert_int_eq(fclose(note), 0);
    const char *why = hl_baseline_unsupported();
    if (why) { /* every one skipped, with its line */
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_nonnull(strstr(notes, "heaplab: --baseline glibc: skipped: this heaplab is built with"));
    } else {
        ck_assert_uint_ge(n, 3); /* glibc, the path, glibc again, and the installed libraries */
        ck_assert_str_eq(b[0].label, "baseline:glibc");
        ck_assert_str_eq(b[0].lib, "");
        char label[700];
        snprintf(label, sizeof label, "baseline:%s", so);
        ck_assert_str_eq(b[1].label, label);
        ck_assert_str_eq(b[1].lib, so); /* absolute already: realpath keeps it (no links in it) */
        ck_assert_str_eq(b[2].label, "baseline:glibc");
        for (size_t i = 3; i < n; i++)
            ck_assert_msg(b[i].lib[0] == '/', "%s: '%s'", b[i].label, b[i].lib);
        ck_assert_ptr_nonnull(strstr(notes, "heaplab: --baseline /nonexistent/x.so: skipped: No such file or directory\n"));
        /* each name a row or a line, never both */
        size_t lines = 0;
        for (const char *p = notes; *p; p++)
            lines += *p == '\n';
        ck_assert_uint_eq(lines + n, 3 + 4); /* the three names of the list, the four of "all" */
    }
    free(notes);
    free(b);
}
END_TEST

/* ---- not there, bad names ---------------------------------------------------------- */

START_TEST(missing_library_is_skipped)
{
    const char *bin = heaplab("missing_library_is_skipped");
    if (!bin || unsupported("missing_library_is_skipped"))
        return;
    const char *t = write_stack_trace("one.rep", 10, 100);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "--baseline", "/nonexistent/heaplab-test.so,glibc", "--repeat", "1", "-f", "csv",
                    "-o", (char *)csvp, (char *)t, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_uint_eq(r.lines, 1);
    ck_assert_str_eq(r.err,
                     "heaplab: --baseline /nonexistent/heaplab-test.so: skipped: No such file or directory\n");
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 1);
    ck_assert_str_eq(get(&c, 0, "policy"), "baseline:glibc");
    ck_assert_str_eq(get(&c, 0, "status"), "ok");
    csv_free(&c);
    free(r.err);
}
END_TEST

/* A library that is there but is no malloc: the preload check fails the row. */
START_TEST(library_without_malloc)
{
    const char *bin = heaplab("library_without_malloc");
    if (!bin || unsupported("library_without_malloc"))
        return;
    const char *so = build_so("nomalloc", "int heaplab_test_symbol(void) { return 1; }\n", "");
    const char *t = write_stack_trace("one.rep", 10, 100);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "--baseline", (char *)so, "-f", "csv", "-o", (char *)csvp, (char *)t, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 1);
    ck_assert_str_eq(get(&c, 0, "status"), "preload not in effect: malloc is libc.so.6's, not nomalloc.so's");
    csv_free(&c);
    free(r.err);
}
END_TEST

/* A library that cannot be loaded (not an ELF file: the loader says so
 * and goes on without it), and one whose constructor crashes. */
START_TEST(library_that_fails_to_load)
{
    const char *bin = heaplab("library_that_fails_to_load");
    if (!bin || unsupported("library_that_fails_to_load"))
        return;
    const char *junk = write_stack_trace("junk.so", 1, 1);
    const char *boom = build_so("boom", "#include <signal.h>\n"
                                        "__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }\n",
                                "");
    const char *t = write_stack_trace("one.rep", 10, 100);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "--baseline", (char *)junk, "--baseline", (char *)boom, "--baseline", "glibc",
                    "--repeat", "1", "-f", "csv", "-o", (char *)csvp, (char *)t, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.err);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 3);
    ck_assert_str_eq(get(&c, 0, "status"), "preload not in effect: malloc is libc.so.6's, not junk.so's");
    ck_assert_str_eq(get(&c, 1, "status"), "crashed by signal 11 (Segmentation fault) while starting (loading the "
                                           "library)");
    ck_assert_str_eq(get(&c, 2, "status"), "ok");
    csv_free(&c);
    free(r.err);
}
END_TEST

static const struct usage_case {
    const char *arg;
    const char *message;
} usage_cases[] = {
    {"jemaloc", "heaplab: --baseline: unknown allocator 'jemaloc' (expected glibc, jemalloc, mimalloc, tcmalloc, "
                "all or a PATH.so)\n"},
    {"glibc,,jemalloc", "heaplab: --baseline: empty name in 'glibc,,jemalloc'\n"},
    {"glibc,", "heaplab: --baseline: empty name in 'glibc,'\n"},
    {"", "heaplab: --baseline: empty name in ''\n"},
};

START_TEST(bad_names_are_usage_errors)
{
    const char *bin = heaplab("bad_names_are_usage_errors");
    if (!bin)
        return;
    const struct usage_case *u = &usage_cases[_i];
    const char *t = write_stack_trace("one.rep", 10, 100);
    char *argv[] = {NULL, "replay", "--baseline", (char *)u->arg, (char *)t, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, u->message);
    free(r.err);
}
END_TEST

/* The child's subcommand is not for people: not listed, and it refuses
 * arguments that do not come from a parent. */
START_TEST(internal_subcommand)
{
    const char *bin = heaplab("internal_subcommand");
    if (!bin)
        return;
    char *help[] = {NULL, "--help", NULL};
    struct run r = run_heaplab(bin, NULL, help);
    ck_assert_int_eq(r.status, 0);
    char *out = slurp(in_dir("stdout"));
    ck_assert_ptr_null(strstr(out, "__baseline"));
    free(out);
    free(r.err);
    const char *t = write_stack_trace("one.rep", 10, 100);
    char *direct[] = {NULL, "__baseline", "0", "1", NULL};
    char *file[] = {NULL, "__baseline", (char *)t, NULL};
    char **cases[] = {direct, file};
    for (size_t i = 0; i < 2; i++) {
        r = run_heaplab(bin, NULL, cases[i]);
        ck_assert_int_eq(r.status, 2);
        ck_assert_str_eq(r.err, "heaplab: __baseline is internal to 'heaplab replay --baseline'\n");
        free(r.err);
    }
}
END_TEST

/* In a sanitizer build every baseline is skipped with one line. */
START_TEST(sanitizer_build_skips)
{
    const char *bin = heaplab("sanitizer_build_skips");
    if (!bin)
        return;
    const char *why = hl_baseline_unsupported();
    if (!why) {
        fprintf(stderr, "%s: sanitizer_build_skips: SKIPPED: not a sanitizer build\n", SUITE);
        return;
    }
    const char *t = write_stack_trace("one.rep", 10, 100);
    const char *csvp = in_dir("out.csv");
    char *argv[] = {NULL, "replay", "-p", "first-fit", "--baseline", "glibc", "--repeat", "1", "-f", "csv", "-o",
                    (char *)csvp, (char *)t, NULL};
    struct run r = run_heaplab(bin, NULL, argv);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    char want[512];
    snprintf(want, sizeof want, "heaplab: --baseline glibc: skipped: %s\n", why);
    ck_assert_str_eq(r.err, want);
    struct csv c;
    csv_read(&c, csvp);
    ck_assert_uint_eq(c.nrow, 1);
    ck_assert_str_eq(get(&c, 0, "policy"), "first-fit");
    csv_free(&c);
    free(r.err);
}
END_TEST

Suite *make_baseline_suite(void)
{
    Suite *s = suite_create(SUITE);
    TCase *tc = tcase_create("rows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, glibc_row);
    tcase_add_test(tc, row_order);
    tcase_add_loop_test(tc, library_row, 0, (int)(sizeof libraries / sizeof libraries[0]));
    tcase_add_test(tc, verify_tells_libraries_apart);
    tcase_add_test(tc, path_library_is_used);
    suite_add_tcase(s, tc);

    tc = tcase_create("regime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, glibc_tunables_match_the_configuration, 0,
                        (int)(sizeof tunables_cases / sizeof tunables_cases[0]));
    tcase_add_test(tc, glibc_child_runs_under_the_tunables);
    tcase_add_test(tc, user_tunables_are_kept_and_overridden);
    tcase_add_loop_test(tc, regime_and_rss_after_through_the_command, 0,
                        (int)(sizeof regime_cases / sizeof regime_cases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crash_costs_its_row);
    tcase_add_test(tc, crash_costs_its_row_without_fork);
    tcase_add_test(tc, missing_library_is_skipped);
    tcase_add_test(tc, library_without_malloc);
    tcase_add_test(tc, library_that_fails_to_load);
    tcase_add_loop_test(tc, bad_names_are_usage_errors, 0, (int)(sizeof usage_cases / sizeof usage_cases[0]));
    tcase_add_test(tc, internal_subcommand);
    tcase_add_test(tc, lists_resolve);
    tcase_add_test(tc, sanitizer_build_skips);
    suite_add_tcase(s, tc);
    return s;
}
