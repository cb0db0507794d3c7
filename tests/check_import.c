/*
 * check_import.c - the importers (mtrace, ltrace, heaptrack), the lenient
 * trace reader behind check-trace, and the two commands.
 *
 * Three kinds of input:
 *   - small logs written by the tests, one per rule and per bad line;
 *   - fixtures in tests/data, real logs of tests/data/import-prog.c (a
 *     known allocation sequence, then 3 threads of malloc/realloc/free):
 *       import-mtrace.log        MALLOC_TRACE=m.log LD_PRELOAD=libc_malloc_debug.so.0 ./import-prog threads
 *       import-ltrace.log        ltrace -f -e malloc+free+calloc+realloc+memalign+aligned_alloc -o LOG
 *                                ./import-prog threads
 *       import-heaptrack.raw.zst heaptrack -r ./import-prog threads, the program's path in its
 *                                'x' record replaced by its name
 *   - live runs of the same program under the real tools: mtrace always
 *     (glibc), ltrace and heaptrack when installed (skipped otherwise, with
 *     a SKIPPED line).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "import.h"
#include "testutil.h"
#include "trace.h"
#include "tracebuild.h"
#include "util.h"

#define ERRLEN 512

static char tmp[512];

static void setup_tmp(void) { tl_make_tmpdir(tmp, sizeof tmp, "import"); }
static void teardown_tmp(void) { tl_remove_tree(tmp); }

/* ---- helpers ------------------------------------------------------------- */

static const char *srcdir(void)
{
    const char *s = getenv("HEAPLAB_SRCDIR");
    return s && *s ? s : ".";
}

/* tmp/name, holding len bytes of text. */
static const char *put(const char *name, const char *text, size_t len)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* The ops of t as the writer prints them (the header left out). */
static char *ops_of(const struct hl_trace *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hl_trace_write(t, f), 0);
    fclose(f);
    char *p = buf;
    for (int i = 0; i < 4; i++)
        p = strchr(p, '\n') + 1;
    memmove(buf, p, strlen(p) + 1);
    return buf;
}

/* The trace as the strict reader sees it after writing: it must load. */
static void assert_loads(const struct hl_trace *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(hl_trace_write(t, f), 0);
    fclose(f);
    struct hl_trace back;
    char err[ERRLEN];
    ck_assert_msg(hl_trace_parse("back", buf, len, NULL, &back, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(back.nops, t->nops);
    hl_trace_free(&back);
    free(buf);
}

/* Import text (written to tmp/t.log) that must be good; its ops. */
static char *import_ok(enum hl_import_format fmt, const char *text, const struct hl_import_opts *o,
                       struct hl_import_stats *st)
{
    const char *path = put("t.log", text, strlen(text));
    struct hl_trace t;
    char err[ERRLEN];
    int r = hl_import(fmt, path, o, &t, st, err, sizeof err);
    ck_assert_msg(r == 0, "import failed: %s", err);
    assert_loads(&t);
    char *ops = ops_of(&t);
    hl_trace_free(&t);
    return ops;
}

/* Import text that must fail with `want` after "DIR/t.log:". */
static void import_bad(enum hl_import_format fmt, const char *text, size_t len, const char *want)
{
    const char *path = put("t.log", text, len);
    struct hl_trace t;
    struct hl_import_stats st;
    char err[ERRLEN];
    ck_assert_int_eq(hl_import(fmt, path, NULL, &t, &st, err, sizeof err), -1);
    ck_assert_ptr_null(t.ops);
    size_t n = strlen(path);
    ck_assert_msg(strncmp(err, path, n) == 0 && err[n] == ':', "no file name first: %s", err);
    ck_assert_msg(strncmp(err + n, want, strlen(want)) == 0, "input:\n%s\nwant '%s...', got '%s'", text, want,
                  err + n);
}

/* How many ops of type ty and size sz in the writer's text. */
static int count_ops(const char *ops, char ty, uint64_t sz)
{
    int n = 0;
    for (const char *l = ops; *l; l = strchr(l, '\n') + 1) {
        unsigned id;
        unsigned long long a, b;
        if (*l == ty && ty == 'c' && sscanf(l + 1, "%u %llu %llu", &id, &a, &b) == 3 && b == sz)
            n++;
        else if (*l == ty && ty != 'c' && sscanf(l + 1, "%u %llu", &id, &a) == 2 && a == sz)
            n++;
    }
    return n;
}

/* Whether the sizes of the 'a' ops in ops hold want[] in that order. */
static int alloc_subsequence(const char *ops, const uint64_t *want, int n)
{
    int k = 0;
    for (const char *l = ops; *l && k < n; l = strchr(l, '\n') + 1) {
        unsigned id;
        unsigned long long sz;
        if (*l == 'a' && sscanf(l + 1, "%u %llu", &id, &sz) == 2 && sz == want[k])
            k++;
    }
    return k == n;
}

/* The known sequence of import-prog (tests/data/import-prog.c) as each
 * tool shows it: mtrace has no calloc or alignment; ltrace has both. */
static const char mtrace_seq[] = "a 0 1001\na 1 1001\na 2 1003\na 3 1024\nr 0 5004\nf 1\na 1 1005\nf 1\nf 2\nf 3\nf 0\n";
static const char ltrace_seq[] =
    "a 0 1001\nc 1 1 1001\nm 2 64 1003\nm 3 256 1024\nr 0 5004\nf 1\na 1 1005\nf 1\nf 2\nf 3\nf 0\n";

/* The threads part: 20 x malloc(2000 + t), realloc(3000 + t), free. */
static void assert_threads(const char *ops, int with_realloc)
{
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(count_ops(ops, 'a', 2000 + (uint64_t)t), 20);
        ck_assert_int_eq(count_ops(ops, with_realloc ? 'r' : 'a', 3000 + (uint64_t)t), 20);
    }
}

/* ---- mtrace -------------------------------------------------------------- */

START_TEST(mtrace_records)
{
    struct hl_import_stats st;
    char *ops = import_ok(HL_IMPORT_MTRACE,
                          "= Start\n"
                          "@ ./prog:[0x11bb] + 0x1000 0x10\n"
                          "@ /odd] dir/lib.so:(sym+4)[0x75] + 0x2000 0x20\n" /* '] ' inside the file name */
                          "+ 0x3000 0\n"                                      /* no caller; malloc(0) */
                          "@ [0x1234] < 0x1000\n"
                          "@ [0x1234] > 0x4000 0x40\n"
                          "+ (nil) 0x4000000000000000\n"
                          "! 0x2000 0x4000000000000000\n"
                          "- 0x3000\n"
                          "- 0x9999\n" /* allocated before mtrace() */
                          "- 0x2000\r\n"
                          "= End\n",
                          NULL, &st);
    ck_assert_str_eq(ops, "a 0 16\na 1 32\na 2 0\nr 0 64\nf 2\nf 1\nf 0\n");
    ck_assert_uint_eq(st.lines, 12);
    ck_assert_uint_eq(st.events, 9);
    ck_assert_uint_eq(st.tb.failed, 2);
    ck_assert_uint_eq(st.tb.unknown_free, 1);
    ck_assert_uint_eq(st.tb.left_live, 1);
    free(ops);
}
END_TEST

START_TEST(mtrace_no_balance)
{
    struct hl_import_stats st;
    struct hl_import_opts o;
    memset(&o, 0, sizeof o);
    o.tb.no_balance = 1;
    char *ops = import_ok(HL_IMPORT_MTRACE, "+ 0x10 0x5\n+ 0x20 0x6\n- 0x10\n", &o, &st);
    ck_assert_str_eq(ops, "a 0 5\na 1 6\nf 0\n");
    ck_assert_uint_eq(st.tb.left_live, 1);
    free(ops);
}
END_TEST

static const struct bad {
    const char *text, *want;
} mtrace_bad[] = {
    {"+ 0x10\n", ":1: expected ' SIZE', found the end of the line"},
    {"+ 0x10 0x5\n> 0x10 0x5\n", ":2: '>' without the '<' line before it"},
    {"< 0x10\n+ 0x20 0x5\n", ":2: the realloc begun at line 1 ('<') is not ended by a '>' record"},
    {"+ 0x10 0x5\n< 0x10\n", ":2: the realloc begun here ('<') is not ended"},
    {"* 0x10\n", ":1: expected a record: '+ PTR SIZE'"},
    {"+ 0x10 0x5 junk\n", ":1: expected the end of the line, found 'junk'"},
    {"@ caller + 0x10 0x5\n", ":1: a caller ('@ ...') without the ']' that ends it"},
    {"\n\n+ zz 0x5\n", ":3: expected a pointer, found 'zz 0x5'"},
    {"@ [0x1] \n", ":1: a caller and no record after it"},
    {"\x01\x02\x03\n", ":1: expected a record: '+ PTR SIZE', '- PTR', '< PTR', '> PTR SIZE' or '! PTR SIZE', found "
                       "'\\x01\\x02\\x03'"},
    {"< (nil)\n", ":1: '< (nil)': a realloc of NULL is logged as '+'"},
};

START_TEST(mtrace_bad_lines)
{
    const struct bad *b = &mtrace_bad[_i];
    import_bad(HL_IMPORT_MTRACE, b->text, strlen(b->text), b->want);
}
END_TEST

/* ---- ltrace -------------------------------------------------------------- */

START_TEST(ltrace_records)
{
    struct hl_import_stats st;
    char *ops = import_ok(HL_IMPORT_LTRACE,
                          "[pid 7] prog->malloc(16) = 0x1000\n"
                          "[pid 7] prog->free(0x1000 <unfinished ...>\n"
                          "[pid 8] prog->malloc(24 <unfinished ...>\n"
                          "[pid 8] <... malloc resumed> ) = 0x1000\n" /* 7's free came first */
                          "[pid 7] <... free resumed> ) = <void>\n"
                          "[pid 7] prog->calloc(3, 8) = 0x2000\n"
                          "[pid 7] prog->realloc(0x2000, 100 <unfinished ...>\n"
                          "[pid 8] --- SIGCHLD (Child exited) ---\n"
                          "[pid 7] <... realloc resumed> ) = 0x3000\n"
                          "[pid 7] libstdc++.so.6->strlen(\"a, b)\") = 5\n" /* another function */
                          "[pid 7] prog->posix_memalign(0x7ffc10, 64, 10) = 0\n"
                          "[pid 7] prog->aligned_alloc(64, 128, 0, 3) = 0x4000\n" /* guessed extra arguments */
                          "[pid 7] prog->free(0) = <void>\n"
                          "7 prog->valloc(10) = 0x5000\n" /* the pid as -o FILE prints it */
                          "12:00:01.123456 prog->reallocarray(0x4000, 4, 64) = 0x4000 <0.000012>\n"
                          "[pid 8] prog->malloc(32 <unfinished ...>\n"
                          "[pid 8] +++ exited (status 0) +++\n" /* never resumed */
                          "[pid 9] prog->malloc(48 <no return ...>\n"
                          "[pid 9] <... malloc resumed> ) = 0x6000\n"
                          "[pid 9] unexpected breakpoint at 0x5619\n"
                          "[pid 9] malloc@libc.so.6(8) = 0x7000\n" /* ltrace -x */
                          "[pid 9] free@libc.so.6(0x7000) = <void>\n"
                          "prog->malloc(4611686018427387903) = nil\n",
                          NULL, &st);
    long page = sysconf(_SC_PAGESIZE);
    char want[512];
    snprintf(want, sizeof want,
             "a 0 16\nf 0\na 0 24\nc 1 1 24\nr 1 100\nm 2 64 128\nm 3 %ld 10\nr 2 256\na 4 48\na 5 8\nf 5\nf 0\nf 1\nf 2\nf 3\nf 4\n",
             page);
    ck_assert_str_eq(ops, want);
    ck_assert_uint_eq(st.unresumed, 1);
    ck_assert_uint_eq(st.posix_memalign, 1);
    ck_assert_uint_eq(st.other_calls, 1);
    ck_assert_uint_eq(st.ltrace_messages, 1);
    ck_assert_uint_eq(st.tb.free_null, 1);
    ck_assert_uint_eq(st.tb.failed, 1);
    ck_assert_uint_eq(st.tb.missed_free + st.tb.unknown_free + st.tb.double_free, 0);
    free(ops);
}
END_TEST

/* A traced call inside another (a signal handler's): the inner one is
 * resumed first. */
START_TEST(ltrace_nested_calls)
{
    struct hl_import_stats st;
    char *ops = import_ok(HL_IMPORT_LTRACE,
                          "prog->malloc(100 <unfinished ...>\n"
                          "--- SIGALRM (Alarm clock) ---\n"
                          "prog->malloc(8 <unfinished ...>\n"
                          "prog->free(0x50) = <void>\n"
                          "<... malloc resumed> ) = 0x20\n"
                          "<... malloc resumed> ) = 0x10\n"
                          "prog->free(0x10) = <void>\n",
                          NULL, &st);
    ck_assert_str_eq(ops, "a 0 8\na 1 100\nf 1\nf 0\n");
    ck_assert_uint_eq(st.tb.unknown_free, 1);
    free(ops);
}
END_TEST

START_TEST(ltrace_pid_filter)
{
    struct hl_import_stats st;
    struct hl_import_opts o;
    memset(&o, 0, sizeof o);
    o.npids = 1;
    o.pids[0] = 8;
    char *ops = import_ok(HL_IMPORT_LTRACE,
                          "[pid 7] prog->malloc(16) = 0x1000\n"
                          "[pid 8] prog->malloc(24) = 0x1000\n"
                          "[pid 7] prog->free(0x1000) = <void>\n"
                          "[pid 8] prog->free(0x1000) = <void>\n",
                          &o, &st);
    ck_assert_str_eq(ops, "a 0 24\nf 0\n");
    ck_assert_uint_eq(st.other_pids, 2);
    free(ops);
}
END_TEST

static const struct bad ltrace_bad[] = {
    {"[pid 7] <... malloc resumed> ) = 0x10\n", ":1: '<... malloc resumed>' with no unfinished malloc call of pid 7"},
    {"prog->malloc(abc) = 0x1\n", ":1: expected a number, found 'abc) = 0x1'"},
    {"[pid x] prog->malloc(1) = 0x1\n", ":1: expected '[pid N]'"},
    {"prog->malloc(1) = \n", ":1: expected a result (a pointer), found the end of the line"},
    {"prog->free(0x10) = 0x5\n", ":1: expected '<void>', found '0x5'"},
    {"prog->malloc(1 <unfinished ...>\n<... free resumed> ) = <void>\n",
     ":2: '<... free resumed>' with no unfinished free call of pid 0 before it"},
    {"prog->calloc(1) = 0x10\n", ":1: calloc with 1 argument (it takes 2)"},
    {"\n\nhello world\n", ":3: expected a call 'NAME(ARGS) = RESULT'"},
    {"prog->malloc(1) 0x10\n", ":1: expected '= RESULT', found '0x10'"},
    {"prog->strlen(\"abc\n", ":1: expected ')' closing the arguments"},
};

START_TEST(ltrace_bad_lines)
{
    const struct bad *b = &ltrace_bad[_i];
    import_bad(HL_IMPORT_LTRACE, b->text, strlen(b->text), b->want);
}
END_TEST

/* ---- heaptrack ----------------------------------------------------------- */

START_TEST(heaptrack_records)
{
    struct hl_import_stats st;
    char *ops = import_ok(HL_IMPORT_HEAPTRACK,
                          "v 10400 3\nx b import-prog\nX ./import-prog threads\nI 1000 5e2944\nm 1 -\n"
                          "m 1 x 55be7d247000 0 888 1000 431\nt 7fcf 0\nt 55be 1\n"
                          "+ 10 1 55be99b371d0\n+ 3e9 2 55be99b37690\n- 55be99b371d0\nc 1a\nR 3ca\n"
                          "- 7f0000000000\nA\n\n+ 0 2 55be99b371d0\n",
                          NULL, &st);
    ck_assert_str_eq(ops, "a 0 16\na 1 1001\nf 0\na 0 0\nf 0\nf 1\n");
    ck_assert_uint_eq(st.events, 5);
    ck_assert_uint_eq(st.tb.unknown_free, 1);
    free(ops);
}
END_TEST

static const struct bad heaptrack_bad[] = {
    {"+ 10 1 1000\n", ":1: a '+' record before the 'v' (version) line: not a heaptrack raw file"},
    {"v 10400 3\n+ 5\n", ":2: '+' with one field: heaptrack_interpret's output, not the raw file"},
    {"v 10400 3\nQ 1\n", ":2: expected a heaptrack record (a letter of + - v x X I S m t c R A), found 'Q 1'"},
    {"v 10400 3\n+ zz 1 1000\n", ":2: expected SIZE (hex), found 'zz 1 1000'"},
    {"v 10400 3\n- 1000 2\n", ":2: expected the end of the line, found ' 2'"},
    {"v 10400 3\n+ 10 1\n", ":2: expected TRACE (hex) and a blank"},
    {"v 10400 3\n-\n", ":2: expected '- PTR', found '-'"},
};

START_TEST(heaptrack_bad_lines)
{
    const struct bad *b = &heaptrack_bad[_i];
    import_bad(HL_IMPORT_HEAPTRACK, b->text, strlen(b->text), b->want);
}
END_TEST

/* ---- inputs -------------------------------------------------------------- */

static const char small_log[] = "+ 0x10 0x5\n+ 0x20 0x6\n- 0x10\n- 0x20\n";

START_TEST(gzip_input)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/t.log.gz", tmp);
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, small_log, sizeof small_log - 1), (int)sizeof small_log - 1);
    ck_assert_int_eq(gzclose(gz), Z_OK);
    struct hl_trace t;
    struct hl_import_stats st;
    char err[ERRLEN];
    ck_assert_msg(hl_import(HL_IMPORT_MTRACE, path, NULL, &t, &st, err, sizeof err) == 0, "%s", err);
    char *ops = ops_of(&t);
    ck_assert_str_eq(ops, "a 0 5\na 1 6\nf 0\nf 1\n");
    free(ops);
    hl_trace_free(&t);

    /* cut short: the stream's end is missing */
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size - 6), 0);
    ck_assert_int_eq(hl_import(HL_IMPORT_MTRACE, path, NULL, &t, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, ": gzip: truncated compressed data"), "%s", err);
}
END_TEST

/* Whether the zstd command is there; a SKIPPED line when not. */
static int have_zstd(const char *test)
{
    char buf[1024];
    if (hl_path_search("zstd", buf, sizeof buf) == 0)
        return 1;
    fprintf(stderr, "import: %s: SKIPPED: no zstd command (scripts/install-deps installs it)\n", test);
    return 0;
}

START_TEST(zstd_input)
{
    if (!have_zstd("zstd_input"))
        return;
    const char *plain = put("t.log", small_log, sizeof small_log - 1);
    char cmd[2200], path[1024];
    snprintf(path, sizeof path, "%s/t.log.zst", tmp);
    snprintf(cmd, sizeof cmd, "zstd -q '%s' -o '%s'", plain, path);
    ck_assert_int_eq(system(cmd), 0);
    struct hl_trace t;
    struct hl_import_stats st;
    char err[ERRLEN];
    ck_assert_msg(hl_import(HL_IMPORT_MTRACE, path, NULL, &t, &st, err, sizeof err) == 0, "%s", err);
    char *ops = ops_of(&t);
    ck_assert_str_eq(ops, "a 0 5\na 1 6\nf 0\nf 1\n");
    free(ops);
    hl_trace_free(&t);

    /* zstd's magic number, then garbage */
    const char bad[] = "\x28\xb5\x2f\xfd garbage, not a frame";
    const char *p = put("bad.zst", bad, sizeof bad - 1);
    ck_assert_int_eq(hl_import(HL_IMPORT_MTRACE, p, NULL, &t, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, ": zstd could not decompress it"), "%s", err);
}
END_TEST

START_TEST(unreadable_files)
{
    struct hl_trace t;
    struct hl_import_stats st;
    char err[ERRLEN], path[1024];
    snprintf(path, sizeof path, "%s/missing.log", tmp);
    ck_assert_int_eq(hl_import(HL_IMPORT_LTRACE, path, NULL, &t, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing.log: cannot open: No such file or directory"), "%s", err);
    ck_assert_int_eq(hl_import(HL_IMPORT_LTRACE, tmp, NULL, &t, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, ": is a directory"), "%s", err);
    /* an empty log is an empty trace */
    const char *p = put("empty.log", "", 0);
    ck_assert_int_eq(hl_import(HL_IMPORT_HEAPTRACK, p, NULL, &t, &st, err, sizeof err), 0);
    ck_assert_uint_eq(t.nops, 0);
    hl_trace_free(&t);
}
END_TEST

START_TEST(format_names)
{
    enum hl_import_format f;
    ck_assert_int_eq(hl_import_format_parse("ltrace", &f), 0);
    ck_assert_int_eq(f, HL_IMPORT_LTRACE);
    ck_assert_str_eq(hl_import_format_name(HL_IMPORT_HEAPTRACK), "heaptrack");
    ck_assert_int_eq(hl_import_format_parse("strace", &f), -1);
    ck_assert_str_eq(hl_import_format_loss(HL_IMPORT_LTRACE), "");
    ck_assert_ptr_nonnull(strstr(hl_import_format_loss(HL_IMPORT_MTRACE), "calloc"));
}
END_TEST

/* ---- the fixtures -------------------------------------------------------- */

static int import_fixture(enum hl_import_format fmt, const char *name, struct hl_import_stats *st, char **ops)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/data/%s", srcdir(), name);
    struct hl_trace t;
    char err[ERRLEN];
    int r = hl_import(fmt, path, NULL, &t, st, err, sizeof err);
    ck_assert_msg(r == 0, "%s", err);
    assert_loads(&t);
    *ops = ops_of(&t);
    hl_trace_free(&t);
    return r;
}

START_TEST(fixture_mtrace)
{
    struct hl_import_stats st;
    char *ops;
    import_fixture(HL_IMPORT_MTRACE, "import-mtrace.log", &st, &ops);
    ck_assert_msg(strncmp(ops, mtrace_seq, strlen(mtrace_seq)) == 0, "%s", ops);
    assert_threads(ops, 1);
    ck_assert_uint_eq(st.tb.failed, 2);
    ck_assert_uint_eq(st.tb.unknown_free + st.tb.double_free + st.tb.missed_free, 0);
    free(ops);
}
END_TEST

START_TEST(fixture_ltrace)
{
    struct hl_import_stats st;
    char *ops;
    import_fixture(HL_IMPORT_LTRACE, "import-ltrace.log", &st, &ops);
    ck_assert_msg(strncmp(ops, ltrace_seq, strlen(ltrace_seq)) == 0, "%s", ops);
    assert_threads(ops, 1);
    ck_assert_uint_eq(st.tb.failed, 2);
    ck_assert_uint_eq(st.tb.free_null, 1);
    ck_assert_uint_eq(st.tb.realloc_zero, 1);
    ck_assert_uint_eq(st.tb.unknown_free + st.tb.double_free + st.tb.missed_free + st.tb.left_live, 0);
    ck_assert_uint_eq(st.unresumed, 0);
    free(ops);
}
END_TEST

/* heaptrack 1.4: no memalign hook (its free is of a block never seen),
 * realloc as free + malloc */
static const uint64_t heaptrack_seq[] = {1001, 1001, 1024, 5004, 1005};

START_TEST(fixture_heaptrack)
{
    if (!have_zstd("fixture_heaptrack"))
        return;
    struct hl_import_stats st;
    char *ops;
    import_fixture(HL_IMPORT_HEAPTRACK, "import-heaptrack.raw.zst", &st, &ops);
    ck_assert_msg(alloc_subsequence(ops, heaptrack_seq, 5), "%s", ops);
    ck_assert_int_eq(count_ops(ops, 'a', 1003), 0);
    assert_threads(ops, 0);
    ck_assert_uint_eq(st.tb.unknown_free, 1);
    ck_assert_uint_eq(st.tb.failed + st.tb.double_free + st.tb.missed_free, 0);
    free(ops);
}
END_TEST

/* ---- the real tools ------------------------------------------------------ */

/* import-prog built in tmp; its path. */
static const char *build_prog(void)
{
    static char prog[1024];
    char cmd[3000];
    snprintf(prog, sizeof prog, "%s/import-prog", tmp);
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O0 -Wall -Werror -pthread '%s/tests/data/import-prog.c' -o '%s'",
             srcdir(), prog);
    ck_assert_msg(system(cmd) == 0, "cannot build: %s", cmd);
    return prog;
}

static void import_path(enum hl_import_format fmt, const char *path, struct hl_import_stats *st, char **ops)
{
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_msg(hl_import(fmt, path, NULL, &t, st, err, sizeof err) == 0, "%s", err);
    assert_loads(&t);
    *ops = ops_of(&t);
    hl_trace_free(&t);
}

START_TEST(live_mtrace)
{
    const char *prog = build_prog();
    char log[1100], env_trace[1200];
    snprintf(log, sizeof log, "%s/m.log", tmp);
    snprintf(env_trace, sizeof env_trace, "MALLOC_TRACE=%s", log);
    /* glibc >= 2.34 keeps mtrace in libc_malloc_debug.so; the loader finds
     * it by name */
    const char *env[] = {env_trace, "LD_PRELOAD=libc_malloc_debug.so.0", NULL};
    const char *argv[] = {prog, "threads", NULL};
    struct tl_run r;
    tl_run(&r, env, argv);
    ck_assert_msg(r.status == 0, "import-prog: status %d: %s", r.status, r.err);
    ck_assert_msg(access(log, R_OK) == 0, "no mtrace log written: %s", r.err);
    struct hl_import_stats st;
    char *ops;
    import_path(HL_IMPORT_MTRACE, log, &st, &ops);
    ck_assert_msg(strncmp(ops, mtrace_seq, strlen(mtrace_seq)) == 0, "%s", ops);
    assert_threads(ops, 1);
    ck_assert_uint_eq(st.tb.failed, 2);
    ck_assert_uint_eq(st.tb.unknown_free + st.tb.double_free + st.tb.missed_free, 0);
    free(ops);
}
END_TEST

/* scripts/mtrace-run: an unmodified program (no mtrace() call) traced */
START_TEST(live_mtrace_run_script)
{
    const char *prog = build_prog();
    char log[1100], script[1200];
    snprintf(log, sizeof log, "%s/m.log", tmp);
    snprintf(script, sizeof script, "%s/scripts/mtrace-run", srcdir());
    const char *argv[] = {script, log, prog, "plain", NULL};
    struct tl_run r;
    tl_run(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "mtrace-run: status %d: %s", r.status, r.err);
    struct hl_import_stats st;
    char *ops;
    import_path(HL_IMPORT_MTRACE, log, &st, &ops);
    ck_assert_msg(strstr(ops, mtrace_seq) != NULL, "%s", ops);
    ck_assert_uint_eq(st.tb.failed, 2);
    free(ops);
}
END_TEST

/* Whether a program is on the PATH; a SKIPPED line when not. */
static int have(const char *name, const char *test)
{
    char buf[1024];
    if (hl_path_search(name, buf, sizeof buf) == 0)
        return 1;
    fprintf(stderr, "import: %s: SKIPPED: %s is not installed (apt-get install %s)\n", test, name, name);
    return 0;
}

START_TEST(live_ltrace)
{
    if (!have("ltrace", "live_ltrace"))
        return;
    const char *prog = build_prog();
    char log[1100];
    snprintf(log, sizeof log, "%s/lt.log", tmp);
    /* one thread: ltrace 0.7 is unreliable with several */
    const char *argv[] = {"ltrace", "-e", "malloc+free+calloc+realloc+memalign+aligned_alloc", "-o", log, prog, NULL};
    struct tl_run r;
    tl_run(&r, NULL, argv);
    struct stat sb;
    if (r.status != 0 || stat(log, &sb) != 0 || sb.st_size == 0) {
        fprintf(stderr, "import: live_ltrace: SKIPPED: ltrace cannot trace here (status %d): %s\n", r.status, r.err);
        return;
    }
    struct hl_import_stats st;
    char *ops;
    import_path(HL_IMPORT_LTRACE, log, &st, &ops);
    ck_assert_str_eq(ops, ltrace_seq); /* only the program's own calls: exactly the sequence */
    ck_assert_uint_eq(st.tb.failed, 2);
    ck_assert_uint_eq(st.tb.free_null, 1);
    free(ops);
}
END_TEST

START_TEST(live_heaptrack)
{
    if (!have("heaptrack", "live_heaptrack") || !have_zstd("live_heaptrack"))
        return;
    const char *prog = build_prog();
    char out[1100], raw[1200];
    snprintf(out, sizeof out, "%s/ht", tmp);
    const char *argv[] = {"heaptrack", "-r", "-o", out, prog, "threads", NULL};
    struct tl_run r;
    tl_run(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "heaptrack: status %d: %s%s", r.status, r.out, r.err);
    snprintf(raw, sizeof raw, "%s.raw.zst", out);
    if (access(raw, R_OK) != 0)
        snprintf(raw, sizeof raw, "%s.raw.gz", out); /* heaptrack before 1.2 */
    ck_assert_msg(access(raw, R_OK) == 0, "no raw file: %s", r.out);
    struct hl_import_stats st;
    char *ops;
    import_path(HL_IMPORT_HEAPTRACK, raw, &st, &ops);
    ck_assert_msg(alloc_subsequence(ops, heaptrack_seq, 5), "%s", ops);
    assert_threads(ops, 0);
    ck_assert_uint_eq(st.tb.double_free + st.tb.missed_free, 0);
    free(ops);
}
END_TEST

/* ---- the lenient reader -------------------------------------------------- */

struct seen {
    int n;
    int kind[8];
    char msg[8][128];
};

static void record(void *arg, enum hl_trace_problem kind, const char *msg)
{
    struct seen *s = arg;
    if (s->n < 8) {
        s->kind[s->n] = (int)kind;
        snprintf(s->msg[s->n], sizeof s->msg[0], "%s", msg);
    }
    s->n++;
}

static const char bad_trace[] = "0\n3\n9\n1\n"
                                "a 0 10\n"  /* line 5 */
                                "f 0\n"     /* 6 */
                                "f 0\n"     /* 7: double free */
                                "f 1\n"     /* 8: never allocated */
                                "a 2 5\n"   /* 9 */
                                "a 2 6\n"   /* 10: still live */
                                "r 0 7\n"   /* 11: freed */
                                "r 1 0\n"   /* 12: never allocated, to 0 */
                                "f 2\n";    /* 13 */

START_TEST(lenient_reports_every_problem)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_int_eq(hl_trace_parse_lenient("x.rep", bad_trace, sizeof bad_trace - 1, NULL, record, &s, &t, err,
                                            sizeof err),
                     0);
    ck_assert_int_eq(s.n, 5);
    ck_assert_int_eq(s.kind[0], HL_PROBLEM_double_free);
    ck_assert_str_eq(s.msg[0], "x.rep:7: free of id 0, which is already freed");
    ck_assert_int_eq(s.kind[1], HL_PROBLEM_free_unknown);
    ck_assert_str_eq(s.msg[1], "x.rep:8: free of id 1, which was never allocated");
    ck_assert_int_eq(s.kind[2], HL_PROBLEM_alloc_live);
    ck_assert_str_eq(s.msg[2], "x.rep:10: allocation of id 2, which is still live");
    ck_assert_int_eq(s.kind[3], HL_PROBLEM_realloc_freed);
    ck_assert_int_eq(s.kind[4], HL_PROBLEM_realloc_zero_unknown);
    /* the 4 legal requests kept, and they are a legal trace */
    ck_assert_uint_eq(t.num_ops, 9);
    ck_assert_uint_eq(t.nops, 4);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 10); /* a 0 10, f 0, a 2 5 */
    hl_trace_free(&t);
    ck_assert_str_eq(hl_trace_problem_doc(HL_PROBLEM_double_free), "frees of ids already freed");

    /* the strict reader (replay) still stops at the first */
    ck_assert_int_eq(hl_trace_parse("x.rep", bad_trace, sizeof bad_trace - 1, NULL, &t, err, sizeof err), -1);
    ck_assert_str_eq(err, "x.rep:7: free of id 0, which is already freed");
    /* and a syntax error still stops the lenient one */
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(hl_trace_parse_lenient("x.rep", "0\n1\n1\n1\nq 0\n", 14, NULL, record, &s, &t, err, sizeof err),
                     -1);
    ck_assert_int_eq(s.n, 0);
    ck_assert_msg(strncmp(err, "x.rep:5: ", 9) == 0, "%s", err);
}
END_TEST

START_TEST(lenient_load_of_a_file)
{
    const char *p = put("x.rep", bad_trace, sizeof bad_trace - 1);
    struct seen s;
    memset(&s, 0, sizeof s);
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_int_eq(hl_trace_load_lenient(p, NULL, record, &s, &t, err, sizeof err), 0);
    ck_assert_int_eq(s.n, 5);
    ck_assert_uint_eq(t.nops, 4);
    hl_trace_free(&t);
}
END_TEST

/* ---- the commands -------------------------------------------------------- */

#define heaplab(...) tl_heaplab("import", __VA_ARGS__)

START_TEST(cli_import)
{
    char in[1024], out[1100];
    const char *log = "+ 0x10 0x5\n+ 0x20 0x6\n- 0x10\n- 0x99\n";
    snprintf(in, sizeof in, "%s", put("m.log", log, strlen(log)));
    snprintf(out, sizeof out, "%s/out.rep", tmp);
    struct tl_run *r = heaplab("import", "--from", "mtrace", in, "-o", out, NULL);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "%s", r->err);
    ck_assert_msg(strstr(r->err, "mtrace log, 4 lines, 4 calls -> 4 ops, 2 ids, peak live 11 bytes\n"), "%s", r->err);
    ck_assert_msg(strstr(r->err, ": 1 frees of pointers never seen (allocated before recording) dropped\n"), "%s",
                  r->err);
    ck_assert_msg(strstr(r->err, ": note: mtrace logs calloc"), "%s", r->err);
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_msg(hl_trace_load(out, NULL, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.nops, 4);
    struct stat sb;
    mode_t mask = umask(0);
    umask(mask);
    ck_assert_int_eq(stat(out, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0666 & ~mask); /* not mkstemp's 0600 */
    hl_trace_free(&t);

    /* -q: nothing but errors; standard output by default */
    r = heaplab("import", "-q", "--from=mtrace", in, NULL);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->err, "");
    ck_assert_str_eq(r->out, "11\n2\n4\n1\na 0 5\na 1 6\nf 0\nf 1\n");
}
END_TEST

START_TEST(cli_import_errors)
{
    char in[1024], out[1100];
    snprintf(in, sizeof in, "%s", put("bad.log", "+ 0x10 0x5\n+ 0x20\n", 18));
    snprintf(out, sizeof out, "%s/out.rep", tmp);
    struct tl_run *r = heaplab("import", "--from", "mtrace", in, "-o", out, NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 2);
    char want[1200];
    snprintf(want, sizeof want, "%s:2: expected ' SIZE', found the end of the line\n", in);
    ck_assert_str_eq(r->err, want);
    ck_assert_int_ne(access(out, F_OK), 0); /* nothing half written */

    r = heaplab("import", in, NULL);
    ck_assert_int_eq(r->status, 2);
    ck_assert_msg(strstr(r->err, "--from FORMAT is required"), "%s", r->err);
    r = heaplab("import", "--from", "ltrac", in, NULL);
    ck_assert_int_eq(r->status, 2);
    ck_assert_msg(strstr(r->err, "unknown format 'ltrac' (did you mean 'ltrace'?)"), "%s", r->err);
    r = heaplab("import", "--from", "mtrace", "--pid", "3", in, NULL);
    ck_assert_int_eq(r->status, 2);
    r = heaplab("import", "--from", "mtrace", NULL);
    ck_assert_int_eq(r->status, 2);
    r = heaplab("import", "--help", NULL);
    ck_assert_int_eq(r->status, 0);
    ck_assert_ptr_nonnull(strstr(r->out, "usage: heaplab import"));
}
END_TEST

START_TEST(cli_check_trace)
{
    const char *good = "0\n3\n5\n1\na 0 10\nc 1 2 8\nf 0\nm 2 64 100\nf 1\n";
    char g[1024], b[1024];
    snprintf(g, sizeof g, "%s", put("good.rep", good, strlen(good)));
    snprintf(b, sizeof b, "%s", put("bad.rep", bad_trace, sizeof bad_trace - 1));
    struct tl_run *r = heaplab("check-trace", g, NULL);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "%s", r->err);
    ck_assert_msg(strstr(r->out, "  ops             5 (a 1, c 1, m 1, r 0, f 2; f -1: 0)\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "  ids             3 declared, 3 used\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "  peak live       116 bytes, 2 blocks\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "  live at the end 1 blocks, 100 bytes\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "  consistent\n"), "%s", r->out);

    r = heaplab("check-trace", g, b, NULL);
    ck_assert_int_eq(r->status, 1);
    char want[3500];
    snprintf(want, sizeof want, "%s:7: free of id 0, which is already freed\n%s:8: free of id 1, which was never "
                                "allocated\n%s:10: allocation of id 2, which is still live\n",
             b, b, b);
    ck_assert_msg(strncmp(r->err, want, strlen(want)) == 0, "%s", r->err);
    ck_assert_msg(strstr(r->out, "  1               frees of ids already freed (left out)\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "  inconsistent: 5 illegal requests (4 of 9 request lines kept)\n"), "%s", r->out);

    r = heaplab("check-trace", "--max-problems", "2", b, NULL);
    ck_assert_int_eq(r->status, 1);
    ck_assert_msg(strstr(r->err, ": 3 more problems not shown"), "%s", r->err);

    char missing[1100];
    snprintf(missing, sizeof missing, "%s/none.rep", tmp);
    r = heaplab("check-trace", b, missing, NULL);
    ck_assert_int_eq(r->status, 2); /* unreadable wins over inconsistent */
    r = heaplab("check-trace", put("syntax.rep", "0\n1\n1\n1\nz\n", 11), NULL);
    ck_assert_int_eq(r->status, 2);
    ck_assert_msg(strstr(r->err, "syntax.rep:5: "), "%s", r->err);
    r = heaplab("check-trace", NULL);
    ck_assert_int_eq(r->status, 2);
}
END_TEST

Suite *make_import_suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, mtrace_records);
    tcase_add_test(tc, mtrace_no_balance);
    tcase_add_loop_test(tc, mtrace_bad_lines, 0, sizeof mtrace_bad / sizeof mtrace_bad[0]);
    tcase_add_test(tc, ltrace_records);
    tcase_add_test(tc, ltrace_nested_calls);
    tcase_add_test(tc, ltrace_pid_filter);
    tcase_add_loop_test(tc, ltrace_bad_lines, 0, sizeof ltrace_bad / sizeof ltrace_bad[0]);
    tcase_add_test(tc, heaptrack_records);
    tcase_add_loop_test(tc, heaptrack_bad_lines, 0, sizeof heaptrack_bad / sizeof heaptrack_bad[0]);
    tcase_add_test(tc, gzip_input);
    tcase_add_test(tc, zstd_input);
    tcase_add_test(tc, unreadable_files);
    tcase_add_test(tc, format_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixtures");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, fixture_mtrace);
    tcase_add_test(tc, fixture_ltrace);
    tcase_add_test(tc, fixture_heaptrack);
    suite_add_tcase(s, tc);

    tc = tcase_create("live");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, live_mtrace);
    tcase_add_test(tc, live_mtrace_run_script);
    tcase_add_test(tc, live_ltrace);
    tcase_add_test(tc, live_heaptrack);
    suite_add_tcase(s, tc);

    tc = tcase_create("check-trace");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lenient_reports_every_problem);
    tcase_add_test(tc, lenient_load_of_a_file);
    tcase_add_test(tc, cli_import);
    tcase_add_test(tc, cli_import_errors);
    tcase_add_test(tc, cli_check_trace);
    suite_add_tcase(s, tc);
    return s;
}
