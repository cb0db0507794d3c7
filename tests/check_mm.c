/*
 * check_mm.c - the malloc-lab adapter (heaplab replay -p mm:FILE): the
 * memory system's semantics, a textbook solution's utilization checked by
 * hand, the row status of each kind of broken solution, the checker under
 * --check-every, the compile cache, the performance index, and the classic
 * traces end to end.
 *
 * The CLI tests run $HEAPLAB_BIN (set by `make test`) with a compile cache
 * of their own in a temporary folder; broken solutions are written by the
 * tests themselves, each a small bump allocator with one defect.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "malloclab.h"
#include "malloclab/memlib.h"
#include "testutil.h"

/* ---- the memory system, in this process -------------------------------------------- */

START_TEST(memlib_has_the_labs_semantics)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    ck_assert_int_eq(hl_memlib_open(100000), 0);
    char *lo = mem_heap_lo();
    ck_assert_ptr_nonnull(lo);
    ck_assert_uint_eq(mem_heapsize(), 0);
    ck_assert_ptr_eq(mem_heap_hi(), lo - 1);
    ck_assert_uint_eq(mem_pagesize(), page);

    /* growth returns the old end; the heap is contiguous and writable */
    ck_assert_ptr_eq(mem_sbrk(0), lo);
    ck_assert_ptr_eq(mem_sbrk(24), lo);
    ck_assert_ptr_eq(mem_sbrk(70000), lo + 24);
    memset(lo, 0xab, 70024);
    ck_assert_uint_eq(mem_heapsize(), 70024);
    ck_assert_ptr_eq(mem_heap_hi(), lo + 70023);

    /* no shrinking, and nothing past the limit: (void *)-1, ENOMEM */
    errno = 0;
    ck_assert_ptr_eq(mem_sbrk(-8), (void *)-1);
    ck_assert_int_eq(errno, ENOMEM);
    errno = 0;
    ck_assert_ptr_eq(mem_sbrk(100000 - 70024 + 1), (void *)-1);
    ck_assert_int_eq(errno, ENOMEM);
    ck_assert_uint_eq(mem_heapsize(), 70024);
    ck_assert_ptr_eq(mem_sbrk(100000 - 70024), lo + 70024); /* exactly to the limit */
    ck_assert_uint_eq(mem_heapsize(), 100000);

    struct hl_memlib_stats st;
    hl_memlib_stats(&st);
    ck_assert_uint_eq(st.limit, 100000);
    ck_assert_uint_eq(st.peak_heap, 100000);
    ck_assert_uint_eq(st.sbrk_calls, 3); /* mem_sbrk(0) moves nothing */
    ck_assert_int_eq(st.refused, 1);
    ck_assert_int_eq(st.refused_incr, -8); /* the first refusal is kept */
    ck_assert_uint_eq(st.refused_at, 70024);

    /* mem_reset_brk: empty again, same place, pages kept; the peak stays */
    mem_reset_brk();
    ck_assert_uint_eq(mem_heapsize(), 0);
    ck_assert_ptr_eq(mem_sbrk(16), lo);
    ck_assert_uint_eq((unsigned char)lo[100], 0xab);
    hl_memlib_stats(&st);
    ck_assert_uint_eq(st.peak_heap, 100000);
    mem_init(); /* a solution that calls it gets an empty heap */
    ck_assert_uint_eq(mem_heapsize(), 0);
    ck_assert_ptr_eq(mem_heap_lo(), lo);

    /* a fresh heap forgets everything */
    ck_assert_int_eq(hl_memlib_open(0), 0);
    hl_memlib_stats(&st);
    ck_assert_uint_eq(st.limit, HL_MM_DEFAULT_MAX_HEAP);
    ck_assert_uint_eq(st.peak_heap, 0);
    ck_assert_int_eq(st.refused, 0);
    ck_assert_uint_eq(mem_heapsize(), 0);
    ck_assert_ptr_eq(mem_memset(mem_sbrk(64), 7, 64), mem_heap_lo());
    char buf[64];
    ck_assert_ptr_eq(mem_memcpy(buf, mem_heap_lo(), 64), buf);
    ck_assert_int_eq(buf[63], 7);
    hl_memlib_close();
}
END_TEST

/* ---- running heaplab -------------------------------------------------------------------- */

static char work[256]; /* this test's folder: sources, traces, the compile cache */

static void setup_work(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(work, sizeof work, "%s/heaplab-mm.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(work));
}

static void rm_rf(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", path, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
}

static void teardown_work(void)
{
    if (work[0])
        rm_rf(work);
    work[0] = 0;
}

static const char *bin(void)
{
    const char *b = getenv("HEAPLAB_BIN");
    ck_assert_msg(b && *b, "HEAPLAB_BIN is not set (run the tests with make test)");
    return b;
}

static const char *srcdir(void)
{
    const char *s = getenv("HEAPLAB_SRCDIR");
    return s && *s ? s : ".";
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    size_t k;
    while (s && (k = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len < 2)
            s = realloc(s, cap *= 2);
    }
    ck_assert_ptr_nonnull(s);
    s[len] = 0;
    fclose(f);
    return s;
}

struct out {
    int status; /* exit status; 128 + signal when killed */
    char *out, *err;
};

static void out_free(struct out *o)
{
    free(o->out);
    free(o->err);
}

/* Run heaplab with argv[] (NULL-terminated, without argv[0]), the compile
 * cache in the work folder. */
static struct out heaplab(const char *const *args)
{
    char out_path[300], err_path[300], cache[300];
    snprintf(out_path, sizeof out_path, "%s/stdout", work);
    snprintf(err_path, sizeof err_path, "%s/stderr", work);
    snprintf(cache, sizeof cache, "%s/cache", work);
    const char *argv[64];
    int n = 0;
    argv[n++] = bin();
    for (; *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0)
            _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        setenv("XDG_CACHE_HOME", cache, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    struct out o;
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = slurp(out_path);
    o.err = slurp(err_path);
    return o;
}

/* ---- reading the CSV ------------------------------------------------------------------ */

#define MAX_COLS 64

/* Split one CSV line (RFC 4180 quotes) in place; the number of fields. */
static int csv_split(char *line, char **field)
{
    int n = 0;
    char *w = line, *r = line;
    while (n < MAX_COLS) {
        field[n++] = w;
        if (*r == '"') {
            for (r++; *r; r++) {
                if (*r == '"' && r[1] == '"')
                    *w++ = *r++;
                else if (*r == '"') {
                    r++;
                    break;
                } else
                    *w++ = *r;
            }
        } else {
            while (*r && *r != ',' && *r != '\n')
                *w++ = *r++;
        }
        if (*r != ',') {
            *w = 0;
            break;
        }
        *w++ = 0;
        r++;
    }
    return n;
}

struct csv {
    char *text;
    int ncols;
    char *head[MAX_COLS];
    int nrows;
    char *cell[16][MAX_COLS];
};

static void csv_parse(const char *text, struct csv *c)
{
    c->text = strdup(text);
    char *save, *line = strtok_r(c->text, "\n", &save);
    ck_assert_msg(line != NULL, "no CSV header in: %s", text);
    c->ncols = csv_split(line, c->head);
    c->nrows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) && c->nrows < 16)
        ck_assert_int_eq(csv_split(line, c->cell[c->nrows++]), c->ncols);
}

static const char *col(const struct csv *c, int row, const char *name)
{
    ck_assert_int_lt(row, c->nrows);
    for (int i = 0; i < c->ncols; i++)
        if (strcmp(c->head[i], name) == 0)
            return c->cell[row][i];
    ck_abort_msg("no column %s", name);
    return NULL;
}

/* ---- solutions and traces ---------------------------------------------------------------- */

static void implicit_path(char *out, size_t len) { snprintf(out, len, "%s/tests/data/mm-implicit.c", srcdir()); }

/* A small trace whose figures under mm-implicit.c are worked out below. */
static const char hand_trace[] = "20000\n4\n10\n1\n"
                                 "a 0 3000\n"
                                 "a 1 1000\n"
                                 "a 2 500\n"
                                 "f 0\n"
                                 "a 3 5000\n"
                                 "r 1 2000\n"
                                 "f 2\n"
                                 "f 3\n"
                                 "f 1\n"
                                 "f -1\n";

/* A bump allocator: each request takes the next (n + 7) & ~7 bytes; BODY
 * adds or replaces what a variant needs.  The macros let a variant swap
 * one function for a broken one. */
static const char bump_head[] = "#include <stdlib.h>\n"
                                "#include <string.h>\n"
                                "#include \"mm.h\"\n"
                                "#include \"memlib.h\"\n"
                                "static void *take(size_t n) {\n"
                                "    char *p = mem_sbrk((intptr_t)((n + 7) & ~(size_t)7));\n"
                                "    return p == (char *)-1 ? NULL : p;\n"
                                "}\n";

static const char bump_init[] = "int mm_init(void) { return 0; }\n";
static const char bump_malloc[] = "void *mm_malloc(size_t n) { return take(n); }\n";
static const char bump_free[] = "void mm_free(void *p) { (void)p; }\n";
static const char bump_realloc[] = "void *mm_realloc(void *p, size_t n) {\n"
                                   "    char *q = mm_malloc(n);\n"
                                   "    if (p && q) memmove(q, p, n); /* past the old block: still in the heap */\n"
                                   "    return q;\n"
                                   "}\n";

/* Write a solution from its parts (NULL: the bump allocator's) as NAME.c
 * in the work folder; its path in out. */
static void solution(const char *name, const char *init, const char *mal, const char *fre, const char *rea,
                     const char *extra, char *out, size_t len)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s%s%s%s", bump_head, init ? init : bump_init, mal ? mal : bump_malloc,
             fre ? fre : bump_free, rea ? rea : bump_realloc, extra ? extra : "");
    snprintf(out, len, "%s/%s.c", work, name);
    write_text(out, text);
}

static void trace_file(const char *name, const char *text, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", work, name);
    write_text(out, text);
}

/* Replay `sol` on `trace` (malloclab preset, one timed pass, CSV) with
 * extra options; the single row parsed into c. */
static struct out replay_csv(const char *sol, const char *trace, const char *opt1, const char *opt2, struct csv *c)
{
    char spec[600];
    snprintf(spec, sizeof spec, "mm:%s", sol);
    const char *args[] = {"replay", "-p", spec, "--preset", "malloclab", "--repeat", "1", "-f", "csv",
                          opt1 ? opt1 : trace, opt1 ? (opt2 ? opt2 : trace) : NULL, opt2 ? trace : NULL, NULL};
    struct out o = heaplab(args);
    if (o.status <= 1)
        csv_parse(o.out, c);
    return o;
}

/* The status of the single row, which must have failed (exit 1). */
static void expect_status(const char *sol, const char *trace, const char *opt1, const char *opt2,
                          const char *prefix, const char *suffix)
{
    struct csv c;
    struct out o = replay_csv(sol, trace, opt1, opt2, &c);
    ck_assert_msg(o.status == 1, "exit %d, stderr: %s", o.status, o.err);
    ck_assert_int_eq(c.nrows, 1);
    const char *st = col(&c, 0, "status");
    ck_assert_msg(strncmp(st, prefix, strlen(prefix)) == 0, "status '%s' does not start with '%s'", st, prefix);
    size_t a = strlen(st), b = strlen(suffix);
    ck_assert_msg(a >= b && strcmp(st + a - b, suffix) == 0, "status '%s' does not end with '%s'", st, suffix);
    free(c.text);
    out_free(&o);
}

/* ---- utilization by hand ---------------------------------------------------------------- */

/*
 * hand_trace under mm-implicit.c (4-byte boundary tags, blocks of
 * round8(n + 8) bytes and 16 at least, first fit, immediate coalescing,
 * growth by max(block, 4096)); offsets from mem_heap_lo, bp = payload:
 *
 *   mm_init     sbrk(16): pad, prologue, epilogue; grow 4096: free bp 16
 *               (4096 bytes).                                  heap  4112
 *   a 0 3000    block 3008 at bp 16, split: free bp 3024 (1088)
 *   a 1 1000    block 1008 at bp 3024, split: free bp 4032 (80)
 *   a 2 500     block 512: nothing fits (80); grow 4096 at 4112, merged
 *               with the free 80: bp 4032 (4176); split: 512 at bp 4032,
 *               free bp 4544 (3664).                            heap  8208
 *               live 3000 + 1000 + 500 = 4500
 *   f 0         bp 16 free (3008), neighbours in use.      live 1500
 *   a 3 5000    block 5008: 3008 and 3664 too small; grow 5008 at 8208,
 *               merged with bp 4544: 8672; split: 5008 at bp 4544.
 *                                                               heap 13216
 *               live 6500
 *   r 1 2000    mm_malloc(2000): block 2008 at bp 16 (first fit in the
 *               3008, split); copy; mm_free(bp 3024) merges with the free
 *               1000 before it.                  live 6500 - 1000 + 2000 = 7500
 *   f 2, f 3, f 1, f -1: live falls back to 0.
 *
 * peak live 7500, peak heap 13216 (4 mem_sbrk calls: 16, 4096, 4096,
 * 5008), util = 7500 / 13216 = 0.56749...
 */
START_TEST(implicit_util_matches_the_hand_count)
{
    char sol[300], trace[300];
    implicit_path(sol, sizeof sol);
    trace_file("hand.rep", hand_trace, trace, sizeof trace);
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    ck_assert_int_eq(c.nrows, 1);
    ck_assert_str_eq(col(&c, 0, "policy"), "mm:mm-implicit.c");
    ck_assert_str_eq(col(&c, 0, "status"), "ok");
    ck_assert_str_eq(col(&c, 0, "ops"), "10");
    ck_assert_str_eq(col(&c, 0, "peak_live_bytes"), "7500");
    ck_assert_str_eq(col(&c, 0, "peak_heap_bytes"), "13216");
    ck_assert_str_eq(col(&c, 0, "sbrk_calls"), "4");
    ck_assert_str_eq(col(&c, 0, "align"), "8");
    ck_assert_double_eq_tol(strtod(col(&c, 0, "util"), NULL), 7500.0 / 13216.0, 1e-9);
    ck_assert_double_eq_tol(strtod(col(&c, 0, "frag"), NULL), 13216.0 / 7500.0 - 1, 1e-9);
    ck_assert_double_gt(strtod(col(&c, 0, "ops_per_sec"), NULL), 0);
    /* the memory system's pages after the timed passes: the ones the
     * break reached (the lab's heap never shrinks), no more */
    unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE), rss = strtoul(col(&c, 0, "rss_after_bytes"), NULL, 10);
    ck_assert_msg(rss > 0 && rss <= (13216 + page - 1) / page * page, "rss_after_bytes %lu", rss);
    ck_assert_str_eq(col(&c, 0, "regime"), "trim=off mmap=off");
    free(c.text);
    out_free(&o);
}
END_TEST

/* Its own checker, int mm_checkheap(int) (nonzero: consistent), after every op. */
START_TEST(implicit_passes_its_own_checker_every_op)
{
    char sol[300], trace[300];
    implicit_path(sol, sizeof sol);
    trace_file("hand.rep", hand_trace, trace, sizeof trace);
    struct csv c;
    struct out o = replay_csv(sol, trace, "--check-every", "1", &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    ck_assert_str_eq(col(&c, 0, "status"), "ok");
    free(c.text);
    out_free(&o);
}
END_TEST

/* ---- broken solutions ---------------------------------------------------------------------- */

static const char small_trace[] = "20000\n3\n7\n1\n"
                                  "a 0 100\n"
                                  "a 1 200\n"
                                  "f 0\n"
                                  "a 2 300\n"
                                  "r 1 400\n"
                                  "f 1\n"
                                  "f 2\n";

START_TEST(misaligned_payload)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("misaligned", NULL, "void *mm_malloc(size_t n) { char *p = take(n + 8); return p ? p + 4 : p; }\n", NULL,
             NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "integrity error: id 0 at 0x", " not 8-aligned at op 1");
    /* CMU's lab aligns to 16: an 8-aligned classic solution fails there, with a hint */
    solution("eight", NULL, "void *mm_malloc(size_t n) { char *p = take(n + 8); return p ? p + 8 : p; }\n", NULL,
             NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, "--preset", "linux", "integrity error: id 0 at 0x",
                  " not 16-aligned at op 1 (the classic lab aligns to 8: --preset malloclab)");
    /* the hint only where that preset is not in use already */
    expect_status(sol, trace, "--align", "16", "integrity error: id 0 at 0x", " not 16-aligned at op 1");
    /* the table gives a failed row no util, as it gives it no ops/s */
    char spec[400];
    snprintf(spec, sizeof spec, "mm:%s", sol);
    const char *args[] = {"replay", "-p", spec, "--preset", "malloclab", "--align", "16", "--repeat", "1", trace, NULL};
    struct out o = heaplab(args);
    ck_assert_int_eq(o.status, 1);
    const char *head = o.out, *row = strstr(o.out, "\n");
    ck_assert_ptr_nonnull(row);
    row++;
    size_t at = (size_t)(strstr(head, "  util") - head) + 2; /* the column's right edge: "  util" ends it */
    ck_assert_msg(strncmp(row + at + 3, "-", 1) == 0 && row[at + 2] == ' ', "util cell of a failed row: %s", o.out);
    out_free(&o);
}
END_TEST

START_TEST(overlapping_blocks)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    /* the second block starts 64 bytes into the first (100 bytes) */
    solution("overlap", NULL,
             "void *mm_malloc(size_t n) { char *p = take(n); return p && mem_heapsize() > 112 ? p - 48 : p; }\n",
             NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "integrity error: id 1 overlaps id 0 at op 2", "");
}
END_TEST

START_TEST(corrupted_payload)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    /* a "header" written in the 8 bytes before each new block, over the
     * end of the previous one: id 1's, at 104, overwrites id 0's bytes
     * 96..103, and id 0 (100 bytes) is checked when it is freed */
    solution("corrupt", NULL,
             "void *mm_malloc(size_t n) {\n"
             "    char *p = take(n);\n"
             "    if (p && p > (char *)mem_heap_lo()) memset(p - 8, 0x5a, 8);\n"
             "    return p;\n"
             "}\n",
             NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "integrity error: id 0 corrupted at offset 96 at op 3", "");
}
END_TEST

START_TEST(payload_outside_the_heap)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("outside", NULL,
             "static char arena[1 << 16] __attribute__((aligned(16)));\n"
             "void *mm_malloc(size_t n) { static size_t used; void *p = arena + used; used += (n + 15) & ~(size_t)15; "
             "take(n); return p; }\n",
             NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "mm_malloc(100) returned 0x", "] at op 1");
    /* and the part in between: ", outside the heap [LO, HI]" */
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_ptr_nonnull(strstr(col(&c, 0, "status"), ", outside the heap [0x"));
    free(c.text);
    out_free(&o);
}
END_TEST

START_TEST(crash_names_the_function_and_the_op)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("crash", NULL, NULL, "void mm_free(void *p) { if (p) *(volatile int *)8 = 1; }\n", NULL, NULL, sol,
             sizeof sol);
    expect_status(sol, trace, NULL, NULL, "crashed by signal 11 (Segmentation fault) in mm_free at op 3", "");
    /* an abort (a failed assert) in realloc, op 5 */
    solution("abort", NULL, NULL, NULL, "void *mm_realloc(void *p, size_t n) { (void)p; (void)n; abort(); }\n", NULL,
             sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "crashed by signal 6 (Aborted) in mm_realloc at op 5", "");
    /* exit() inside the solution */
    solution("exit", NULL, "void *mm_malloc(size_t n) { if (n == 300) exit(3); return take(n); }\n", NULL, NULL, NULL,
             sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "the solution called exit(3) in mm_malloc at op 4", "");
    /* an endless loop (a cycle in a free list): the watchdog ends the row.
     * The thread sanitizer runs a signal handler only when the thread next
     * enters its runtime, which a loop in the (uninstrumented) solution
     * never does, so under it the watchdog cannot fire. */
    if (TL_THREAD_SANITIZER) {
        fprintf(stderr, "mm: crash_names_the_function_and_the_op: endless-loop case SKIPPED: "
                        "the thread sanitizer defers the watchdog's signal\n");
        return;
    }
    solution("endless", NULL, NULL, "void mm_free(void *p) { volatile int spin = 1; while (spin && p) {} }\n", NULL,
             NULL, sol, sizeof sol);
    expect_status(sol, trace, "--mm-timeout", "1",
                  "no answer for 1 s in mm_free at op 3 (an endless loop? --mm-timeout)", "");
}
END_TEST

START_TEST(init_failure)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("initfail", "int mm_init(void) { return -1; }\n", NULL, NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "mm_init failed (returned -1) before op 1", "");
    /* CMU's bool mm_init: false is the failure (and 0 is not a success) */
    solution("initfalse", "#include <stdbool.h>\nbool mm_init(void) { return false; }\n", NULL, NULL, NULL, NULL, sol,
             sizeof sol);
    expect_status(sol, trace, NULL, NULL, "mm_init returned false before op 1", "");
    /* the timed passes call mm_init again, after mem_reset_brk: a failure
     * or a crash there is reported too */
    solution("againfail", "int mm_init(void) { static int calls; return ++calls < 2 ? 0 : -1; }\n", NULL, NULL,
             NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "mm_init failed (returned -1) before a timed pass", "");
    solution("againcrash",
             "int mm_init(void) { static int calls; if (++calls > 1) *(volatile int *)8 = 1; return 0; }\n", NULL,
             NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "crashed by signal 11 (Segmentation fault) in mm_init in the timed pass",
                  "");
}
END_TEST

START_TEST(no_memalign)
{
    char sol[300], trace[300];
    trace_file("memalign.rep", "20000\n2\n4\n1\na 0 10\nm 1 64 100\nf 1\nf 0\n", trace, sizeof trace);
    solution("plain", NULL, NULL, NULL, NULL, NULL, sol, sizeof sol);
    expect_status(sol, trace, NULL, NULL, "the solution has no memalign (trace op 2)", "");
}
END_TEST

START_TEST(heap_limit)
{
    char sol[300], trace[300], limit_msg[200];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("plain", NULL, NULL, NULL, NULL, NULL, sol, sizeof sol);
    /* 104 + 200 fit in 400 bytes; op 4 asks for 304 more */
    snprintf(limit_msg, sizeof limit_msg,
             "out of memory (300 bytes) at op 4; mem_sbrk(304) refused with 304 bytes in the heap "
             "(limit 400: --mm-max-heap)");
    expect_status(sol, trace, "--mm-max-heap", "400", limit_msg, "");
}
END_TEST

/* Problems found before anything is replayed: one line, exit 2. */
static void expect_load_error(const char *sol, const char *line_part)
{
    char spec[600], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    snprintf(spec, sizeof spec, "mm:%s", sol);
    const char *args[] = {"replay", "-p", spec, "-p", "first-fit", trace, NULL};
    struct out o = heaplab(args);
    ck_assert_msg(o.status == 2, "exit %d: %s%s", o.status, o.out, o.err);
    ck_assert_msg(strstr(o.err, line_part), "stderr '%s' lacks '%s'", o.err, line_part);
    ck_assert_str_eq(o.out, ""); /* nothing replayed, not even first-fit */
    out_free(&o);
}

START_TEST(missing_symbols_and_bad_files)
{
    char sol[300], line[700];
    solution("nofree", NULL, NULL, "", NULL, NULL, sol, sizeof sol);
    snprintf(line, sizeof line, "heaplab: mm:%s: the solution does not define mm_free\n", sol);
    expect_load_error(sol, line);
    /* calls it without defining it: the loader's message, said plainly */
    solution("callsfree", NULL, NULL, "",
             "void *mm_realloc(void *p, size_t n) { void *q = mm_malloc(n); mm_free(p); return q; }\n", NULL, sol,
             sizeof sol);
    snprintf(line, sizeof line, "heaplab: mm:%s: the solution calls mm_free but does not define it\n", sol);
    expect_load_error(sol, line);
    /* a CMU solution without its DRIVER renames defines malloc, not mm_malloc */
    solution("cmunames", NULL, "void *malloc(size_t n) { return take(n); }\n", NULL,
             "void *mm_realloc(void *p, size_t n) { (void)p; return malloc(n); }\n", NULL, sol, sizeof sol);
    snprintf(line, sizeof line,
             "heaplab: mm:%s: the solution does not define mm_malloc (it defines the libc name: a CMU solution "
             "renames it under #ifdef DRIVER)\n",
             sol);
    expect_load_error(sol, line);
    /* no such file */
    snprintf(sol, sizeof sol, "%s/absent.c", work);
    snprintf(line, sizeof line, "heaplab: mm:%s: cannot read it: No such file or directory\n", sol);
    expect_load_error(sol, line);
    /* a compile error: the compiler's own message, then ours */
    solution("syntax", "int mm_init(void) { return 0 }\n", NULL, NULL, NULL, NULL, sol, sizeof sol);
    snprintf(line, sizeof line, "heaplab: mm:%s: compilation failed (", sol);
    expect_load_error(sol, line);
    expect_load_error(sol, "syntax.c:9:"); /* the line in the student's file, not in the cache's copy */
}
END_TEST

/* ---- declarations: CMU's names and types, handout headers beside the file ---------------- */

START_TEST(cmu_style_solution_runs)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    /* written against CMU's mm.h: bool, malloc renamed under DRIVER, memset
     * through mem_memset, calloc, a bool mm_checkheap(int lineno) */
    snprintf(sol, sizeof sol, "%s/cmu.c", work);
    write_text(sol, "#include <stdint.h>\n"
                    "#include <string.h>\n"
                    "#include \"mm.h\"\n"
                    "#include \"memlib.h\"\n"
                    "#ifdef DRIVER\n"
                    "#define malloc mm_malloc\n"
                    "#define free mm_free\n"
                    "#define realloc mm_realloc\n"
                    "#define calloc mm_calloc\n"
                    "#define memset mem_memset\n"
                    "#define memcpy mem_memcpy\n"
                    "#endif\n"
                    "static bool ready;\n"
                    "bool mm_init(void) { ready = true; return true; }\n"
                    "void *malloc(size_t n) {\n"
                    "    if (!mm_checkheap(__LINE__)) return NULL;\n"
                    "    char *p = mem_sbrk((intptr_t)((n + 15) & ~(size_t)15));\n"
                    "    return p == (char *)-1 ? NULL : p;\n"
                    "}\n"
                    "void free(void *p) { (void)p; }\n"
                    "void *realloc(void *p, size_t n) { void *q = malloc(n); if (p && q) memcpy(q, p, n); return q; }\n"
                    "void *calloc(size_t k, size_t n) { void *p = malloc(k * n); if (p) memset(p, 0, k * n); return p; "
                    "}\n"
                    "bool mm_checkheap(int lineno) { (void)lineno; return ready; }\n");
    /* a handout's mm.h beside the file must not be the one included */
    char handout[300];
    snprintf(handout, sizeof handout, "%s/mm.h", work);
    write_text(handout, "#error the handout's mm.h was included, not heaplab's\n");
    struct csv c;
    struct out o = replay_csv(sol, trace, "--align", "16", &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    ck_assert_str_eq(col(&c, 0, "status"), "ok");
    ck_assert_str_eq(col(&c, 0, "policy"), "mm:cmu.c");
    free(c.text);
    out_free(&o);
}
END_TEST

/* What a solution prints goes to stderr: the rows on stdout stay parseable. */
START_TEST(solution_output_goes_to_stderr)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("chatty", "#include <stdio.h>\nint mm_init(void) { printf(\"hello, driver\\n\"); return 0; }\n", NULL,
             NULL, NULL, NULL, sol, sizeof sol);
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    ck_assert_int_eq(c.nrows, 1);
    ck_assert_ptr_null(strstr(o.out, "hello"));
    ck_assert_ptr_nonnull(strstr(o.err, "hello, driver\n"));
    free(c.text);
    out_free(&o);
}
END_TEST

/* ---- the checker under --check-every ---------------------------------------------------------- */

START_TEST(check_every_calls_the_checker)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    /* bool mm_checkheap(int): false on its second call */
    solution("checker", NULL, NULL, NULL, NULL,
             "#include <stdbool.h>\n"
             "static int calls;\n"
             "bool mm_checkheap(int lineno) { (void)lineno; return ++calls < 2; }\n",
             sol, sizeof sol);
    expect_status(sol, trace, "--check-every", "3", "mm_checkheap returned false after op 6", "");
    expect_status(sol, trace, "--check-every", "2", "mm_checkheap returned false after op 4", "");
    /* without --check-every it runs once, at the end: no second call */
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    free(c.text);
    out_free(&o);
    /* a checker heaplab cannot call (what would it pass?) is left alone */
    solution("oddcheck", NULL, NULL, NULL, NULL,
             "#include <stdbool.h>\nbool mm_checkheap(const char *why) { (void)why; return false; }\n", sol,
             sizeof sol);
    o = replay_csv(sol, trace, "--check-every", "1", &c);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    free(c.text);
    out_free(&o);
    /* the CS:APP writeup's int mm_check(void): 0 is a problem */
    solution("mmcheck", NULL, NULL, NULL, NULL, "int mm_check(void) { return mem_heapsize() < 300; }\n", sol,
             sizeof sol);
    expect_status(sol, trace, "--check-every", "1", "mm_check returned 0 after op 2", "");
}
END_TEST

/* ---- the compile cache --------------------------------------------------------------------------- */

static char *find_so(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s/cache/heaplab/*.so 2>/dev/null", work);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char line[512] = "";
    int n = 0;
    while (fgets(line + 0, sizeof line, p))
        n++;
    pclose(p);
    ck_assert_int_eq(n, 1);
    line[strcspn(line, "\n")] = 0;
    return strdup(line);
}

START_TEST(compile_cache_is_reused)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("cached", NULL, NULL, NULL, NULL, NULL, sol, sizeof sol);
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    ck_assert_ptr_nonnull(strstr(o.err, "heaplab: compiling"));
    free(c.text);
    out_free(&o);
    char *so = find_so();
    struct stat st1, st2;
    ck_assert_int_eq(stat(so, &st1), 0);
    /* an old date: a rewrite, however quick, would change it */
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, so, old, 0), 0);

    o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    ck_assert_ptr_null(strstr(o.err, "compiling"));
    free(c.text);
    out_free(&o);
    ck_assert_int_eq(stat(so, &st2), 0);
    ck_assert_int_eq(st2.st_mtime, 1000000000);
    ck_assert_uint_eq(st2.st_ino, st1.st_ino);

    /* a change to the source is a new key: compiled again, beside the old one */
    solution("cached", "int mm_init(void) { return 0; } /* edited */\n", NULL, NULL, NULL, NULL, sol, sizeof sol);
    o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_ptr_nonnull(strstr(o.err, "heaplab: compiling"));
    free(c.text);
    out_free(&o);
    free(so);
}
END_TEST

/* Two solutions with one basename: the rows name them by path. */
START_TEST(same_basename_rows_keep_apart)
{
    char a[300], b[300], trace[300], spec_a[400], spec_b[400];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    snprintf(a, sizeof a, "%s/a", work);
    snprintf(b, sizeof b, "%s/b", work);
    ck_assert_int_eq(mkdir(a, 0755), 0);
    ck_assert_int_eq(mkdir(b, 0755), 0);
    char text[4096];
    snprintf(text, sizeof text, "%s%s%s%s%s", bump_head, bump_init, bump_malloc, bump_free, bump_realloc);
    snprintf(a, sizeof a, "%s/a/mm.c", work);
    snprintf(b, sizeof b, "%s/b/mm.c", work);
    write_text(a, text);
    write_text(b, text);
    snprintf(spec_a, sizeof spec_a, "mm:%s", a);
    snprintf(spec_b, sizeof spec_b, "mm:%s", b);
    const char *args[] = {"replay", "-p",  spec_a, "-p",  spec_b, "--preset", "malloclab",
                          "--repeat", "1", "-f",   "csv", trace,  NULL};
    struct out o = heaplab(args);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    struct csv c;
    csv_parse(o.out, &c);
    ck_assert_int_eq(c.nrows, 2);
    ck_assert_str_eq(col(&c, 0, "policy"), spec_a);
    ck_assert_str_eq(col(&c, 1, "policy"), spec_b);
    free(c.text);
    out_free(&o);
}
END_TEST

/* Rows keep their -p order, solutions and policies alike (docs/metrics.md). */
START_TEST(rows_keep_the_p_order)
{
    char a[300], trace[300], spec_a[400];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("first", NULL, NULL, NULL, NULL, NULL, a, sizeof a);
    snprintf(spec_a, sizeof spec_a, "mm:%s", a);
    const char *args[] = {"replay", "-p", "best-fit", "-p", spec_a, "-p", "first-fit", "--preset", "malloclab",
                          "--repeat", "1", "-f", "csv", trace, NULL};
    struct out o = heaplab(args);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    struct csv c;
    csv_parse(o.out, &c);
    ck_assert_int_eq(c.nrows, 3);
    ck_assert_str_eq(col(&c, 0, "policy"), "best-fit");
    ck_assert_str_eq(col(&c, 1, "policy"), "mm:first.c");
    ck_assert_str_eq(col(&c, 2, "policy"), "first-fit");
    free(c.text);
    out_free(&o);
}
END_TEST

/* The compiler's warnings reach the user, and HEAPLAB_MM_CFLAGS reaches the
 * compiler (after heaplab's flags, so it can turn a warning into an error). */
START_TEST(compiler_flags_and_warnings)
{
    char sol[300], trace[300];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("warns", NULL, NULL, NULL, NULL, "static int unused_helper(void) { int unused_var; return 0; }\n", sol,
             sizeof sol);
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    ck_assert_msg(strstr(o.err, "warning: unused variable") && strstr(o.err, "unused_var"), "%s", o.err);
    free(c.text);
    out_free(&o);
    setenv("HEAPLAB_MM_CFLAGS", "-Werror=unused-variable -DHEAPLAB_TEST_FLAG", 1);
    o = replay_csv(sol, trace, NULL, NULL, &c);
    unsetenv("HEAPLAB_MM_CFLAGS");
    ck_assert_msg(o.status == 2, "exit %d: %s", o.status, o.err);
    ck_assert_msg(strstr(o.err, "error: unused variable"), "%s", o.err); /* the compiler's own words */
    out_free(&o);
}
END_TEST

/* An already built .so is loaded as it is. */
START_TEST(built_shared_object)
{
    char sol[300], trace[300], so[400];
    trace_file("small.rep", small_trace, trace, sizeof trace);
    solution("plain", NULL, NULL, NULL, NULL, NULL, sol, sizeof sol);
    struct csv c;
    struct out o = replay_csv(sol, trace, NULL, NULL, &c);
    ck_assert_int_eq(o.status, 0);
    free(c.text);
    out_free(&o);
    char *built = find_so();
    snprintf(so, sizeof so, "%s/plain.so", work);
    ck_assert_int_eq(link(built, so), 0);
    o = replay_csv(so, trace, NULL, NULL, &c);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    ck_assert_str_eq(col(&c, 0, "policy"), "mm:plain.so");
    /* blocks of round8(n) bytes, one after the other: 104 + 200 + 304 + 400 */
    ck_assert_str_eq(col(&c, 0, "peak_live_bytes"), "700"); /* ids 1 (now 400) and 2 (300) after op 5 */
    ck_assert_str_eq(col(&c, 0, "peak_heap_bytes"), "1008");
    free(c.text);
    out_free(&o);
    free(built);
}
END_TEST

/* ---- the performance index ------------------------------------------------------------------------ */

START_TEST(perf_index_uses_this_runs_libc)
{
    char sol[300], trace[300], csv_path[300];
    implicit_path(sol, sizeof sol);
    trace_file("hand.rep", hand_trace, trace, sizeof trace);
    snprintf(csv_path, sizeof csv_path, "%s/rows.csv", work);
    char spec[400];
    snprintf(spec, sizeof spec, "mm:%s", sol);
    const char *args[] = {"replay", "-p", spec, "--preset", "malloclab", "--repeat", "1", "--perf-index",
                          "-f", "csv", "-o", csv_path, trace, NULL};
    struct out o = heaplab(args);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    /* the index goes to stdout when the rows go to a file */
    ck_assert_ptr_nonnull(strstr(o.out, "perf index, as the malloc lab computes it: "
                                        "100 * (0.6 * U + 0.4 * min(1, T / T_libc))\n"));
    ck_assert_ptr_nonnull(strstr(o.out, "measured in this run"));
    ck_assert_ptr_nonnull(strstr(o.out, "not the lab's constant from 2001 (600K ops/s)"));
    const char *row = strstr(o.out, "\nmm:mm-implicit.c");
    ck_assert_ptr_nonnull(row);
    unsigned traces;
    double u, ratio, index;
    char t[32];
    ck_assert_int_eq(sscanf(row, " mm:mm-implicit.c %u %lf%% %31s %lf %lf", &traces, &u, t, &ratio, &index), 5);
    ck_assert_uint_eq(traces, 1);
    ck_assert_double_eq_tol(u, 100.0 * 7500 / 13216, 0.051);
    /* the formula, from the printed (rounded) U and ratio */
    double q = ratio < 1 ? ratio : 1;
    ck_assert_double_eq_tol(index, 0.6 * u + 40 * q, 0.2);
    out_free(&o);
    /* the CSV carries the same index in its perf_index column */
    char *text = slurp(csv_path);
    struct csv c;
    csv_parse(text, &c);
    /* the solution's row, and the glibc row that measured T_libc (none in
     * a sanitizer build, which skips the baselines: T_libc then comes from
     * a child of its own) */
    ck_assert_int_ge(c.nrows, 1);
    ck_assert_str_eq(col(&c, 0, "policy"), "mm:mm-implicit.c");
    ck_assert_double_eq_tol(strtod(col(&c, 0, "perf_index"), NULL), index, 0.051);
    if (c.nrows > 1)
        ck_assert_str_eq(col(&c, 1, "perf_index"), ""); /* a baseline has none */
    free(c.text);
    free(text);
    /* JSON: a number, and null where there is none */
    const char *jargs[] = {"replay", "-p", spec, "--preset", "malloclab", "--repeat", "1", "--perf-index",
                           "-f", "json", trace, NULL};
    o = heaplab(jargs);
    ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.err);
    const char *mm = strstr(o.out, "\"policy\": \"mm:mm-implicit.c\"");
    ck_assert_msg(mm, "%s", o.out);
    const char *pi = strstr(mm, "\"perf_index\": ");
    ck_assert_msg(pi && pi[14] >= '0' && pi[14] <= '9', "%s", o.out);
    const char *glibc = strstr(o.out, "\"policy\": \"baseline:glibc\"");
    if (glibc) {
        pi = strstr(glibc, "\"perf_index\": ");
        ck_assert_msg(pi && strncmp(pi + 14, "null", 4) == 0, "%s", o.out);
    }
    out_free(&o);
}
END_TEST

/* ---- samples: the timeline and the heap map, in this process ------------------------------------ */

/* Read a whole stream written by the replay. */
static char *rewind_slurp(FILE *f)
{
    ck_assert_int_eq(fflush(f), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

/*
 * hand_trace again (the layout worked out above), a sample after every
 * operation.  After op 3 (a 2 500) the heap is 8208 bytes with payloads
 * at 16 (3000 bytes), 3024 (1000) and 4032 (500): the map shows them and
 * the gaps 0..16, 3016..3024, 4024..4032 and 4532..8208 as unknown (the
 * solution's tags and its free block alike).  The timeline gives the live
 * bytes and the heap's size and leaves free_bytes, largest_free and both
 * fragmentations empty: heaplab cannot tell the solution's tags from its
 * free blocks, so any figure for them would be made up.
 */
START_TEST(samples_show_the_payloads_in_the_heap)
{
    char sol[300], trace_path[300], cache[300], err[512];
    implicit_path(sol, sizeof sol);
    trace_file("hand.rep", hand_trace, trace_path, sizeof trace_path);
    snprintf(cache, sizeof cache, "%s/cache", work);
    setenv("XDG_CACHE_HOME", cache, 1);
    struct hl_trace t;
    struct hl_trace_opts topts = {HL_DIALECT_AUTO};
    ck_assert_int_eq(hl_trace_load(trace_path, &topts, &t, err, sizeof err), 0);
    struct hl_mm m;
    ck_assert_msg(hl_mm_load(sol, 0, &m, err, sizeof err) == 0, "%s", err);
    struct hl_replay_config cfg;
    ck_assert_int_eq(hl_replay_preset(&cfg, "malloclab"), 0);
    cfg.sample_every = 1;
    cfg.timeline = tmpfile();
    cfg.heapmap = tmpfile();
    ck_assert(cfg.timeline && cfg.heapmap);
    struct hl_result r;
    hl_replay_begin(&t, m.label, &cfg, &r);
    ck_assert_msg(hl_mm_measure(&t, &m, &cfg, &r) == 0, "%s", r.status);
    char *tl = rewind_slurp(cfg.timeline), *hm = rewind_slurp(cfg.heapmap);

    char row[512];
    const char *who = trace_path; /* rows name the trace as it was given */
    /* op 0: after mm_init, a 4112-byte heap, nothing live */
    snprintf(row, sizeof row, "%s,mm:mm-implicit.c,0,0,4112,,,,\n", who);
    ck_assert_msg(strstr(tl, row), "no '%s' in:\n%s", row, tl);
    snprintf(row, sizeof row, "%s,mm:mm-implicit.c,3,4500,8208,,,,\n", who);
    ck_assert_msg(strstr(tl, row), "no '%s' in:\n%s", row, tl);
    /* after the last op nothing is live */
    snprintf(row, sizeof row, "%s,mm:mm-implicit.c,10,0,13216,,,,\n", who);
    ck_assert_msg(strstr(tl, row), "no '%s' in:\n%s", row, tl);
    int lines = 0;
    for (const char *c = tl; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 11); /* ops 0..10 */

    /* the gaps between payloads are the solution's headers, padding and
     * free blocks, which heaplab cannot tell apart: unknown, never free */
    static const char *const map3[] = {"0,16,0,unknown", "16,3000,0,used", "3016,8,0,unknown", "3024,1000,0,used",
                                       "4024,8,0,unknown", "4032,500,0,used", "4532,3676,0,unknown"};
    char all[4096] = "";
    for (size_t i = 0; i < 7; i++) {
        size_t k = strlen(all);
        snprintf(all + k, sizeof all - k, "%s,mm:mm-implicit.c,3,%s\n", who, map3[i]);
    }
    ck_assert_msg(strstr(hm, all), "no\n%sin:\n%s", all, hm);
    ck_assert_msg(!strstr(hm, ",free\n"), "a solution's gap called free:\n%s", hm);
    free(tl);
    free(hm);
    fclose(cfg.timeline);
    fclose(cfg.heapmap);
    hl_mm_unload(&m);
    hl_trace_free(&t);
}
END_TEST

/* ---- the classic traces end to end ------------------------------------------------------------------- */

static const char *const classic[] = {"amptjp-bal.rep", "cccp-bal.rep",   "cp-decl-bal.rep", "expr-bal.rep",
                                      "coalescing-bal.rep", "random-bal.rep", "random2-bal.rep", "binary-bal.rep",
                                      "binary2-bal.rep", "realloc-bal.rep", "realloc2-bal.rep"};

START_TEST(classic_traces_replay_ok)
{
    const char *dir = tl_malloclab_dir("mm", "classic_traces_replay_ok");
    if (!dir)
        return;
    char sol[300], spec[400], paths[11][1200];
    implicit_path(sol, sizeof sol);
    snprintf(spec, sizeof spec, "mm:%s", sol);
    const char *args[24] = {"replay", "-p", spec, "--preset", "malloclab", "--repeat", "1", "-f", "csv"};
    int n = 9;
    for (int i = 0; i < 11; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, classic[i]);
        args[n++] = paths[i];
    }
    args[n] = NULL;
    struct out o = heaplab(args);
    ck_assert_msg(o.status == 0, "exit %d: %s%s", o.status, o.out, o.err);
    struct csv c;
    csv_parse(o.out, &c);
    ck_assert_int_eq(c.nrows, 11);
    for (int i = 0; i < 11; i++) {
        ck_assert_str_eq(col(&c, i, "status"), "ok");
        double u = strtod(col(&c, i, "util"), NULL);
        ck_assert_msg(u > 0.2 && u <= 1, "%s: util %g", classic[i], u);
    }
    /* coalescing-bal: 8190 bytes live at most, in a heap of mm_init's
     * 16 + 4096 and two growths of 4104, each for a 4104-byte block (4095
     * bytes asked) that the free 4096 at the top cannot hold -> 12320 */
    ck_assert_str_eq(col(&c, 4, "peak_live_bytes"), "8190");
    ck_assert_str_eq(col(&c, 4, "peak_heap_bytes"), "12320");
    free(c.text);
    out_free(&o);
}
END_TEST

Suite *make_mm_suite(void)
{
    Suite *s = suite_create("mm");
    TCase *tc = tcase_create("memlib");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, memlib_has_the_labs_semantics);
    suite_add_tcase(s, tc);

    tc = tcase_create("solutions");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_work, teardown_work);
    tcase_add_test(tc, implicit_util_matches_the_hand_count);
    tcase_add_test(tc, implicit_passes_its_own_checker_every_op);
    tcase_add_test(tc, cmu_style_solution_runs);
    tcase_add_test(tc, solution_output_goes_to_stderr);
    tcase_add_test(tc, built_shared_object);
    tcase_add_test(tc, same_basename_rows_keep_apart);
    tcase_add_test(tc, rows_keep_the_p_order);
    tcase_add_test(tc, compiler_flags_and_warnings);
    tcase_add_test(tc, perf_index_uses_this_runs_libc);
    tcase_add_test(tc, samples_show_the_payloads_in_the_heap);
    suite_add_tcase(s, tc);

    tc = tcase_create("broken");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_work, teardown_work);
    tcase_add_test(tc, misaligned_payload);
    tcase_add_test(tc, overlapping_blocks);
    tcase_add_test(tc, corrupted_payload);
    tcase_add_test(tc, payload_outside_the_heap);
    tcase_add_test(tc, crash_names_the_function_and_the_op);
    tcase_add_test(tc, init_failure);
    tcase_add_test(tc, no_memalign);
    tcase_add_test(tc, heap_limit);
    tcase_add_test(tc, missing_symbols_and_bad_files);
    tcase_add_test(tc, check_every_calls_the_checker);
    suite_add_tcase(s, tc);

    tc = tcase_create("cache");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_work, teardown_work);
    tcase_add_test(tc, compile_cache_is_reused);
    suite_add_tcase(s, tc);

    tc = tcase_create("classic");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup_work, teardown_work);
    tcase_add_test(tc, classic_traces_replay_ok);
    suite_add_tcase(s, tc);
    return s;
}
