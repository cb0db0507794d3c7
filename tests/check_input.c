/*
 * check_input.c - input that must not take the harness down, and output
 * that must not be lost: a trace file cut short while it is read, endless
 * and binary streams, gzip data broken or on standard input, write errors
 * on every output stream, a policy row that never returns, plot input at
 * the edges, option values that cannot work.  Runs $HEAPLAB_BIN (set by
 * `make test`) as a user does; skips when it is not set.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "trace.h"

static char tmp[256];

static void setup(void) { tl_make_tmpdir(tmp, sizeof tmp, "input"); }
static void teardown(void) { tl_remove_tree(tmp); }

static const char *in_tmp(const char *name)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static const char *bin(void)
{
    const char *b = getenv("HEAPLAB_BIN");
    if (!b || !*b) {
        fprintf(stderr, "input: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n");
        return NULL;
    }
    return b;
}

/* heaplab with argv[1...] (NULL-terminated), the settings of env (or NULL),
 * standard input from fd `in` and standard output to fd `outfd` (-1: ours,
 * and a file read into r->out). */
static struct tl_run *run_v(const char *const *env, int in, int outfd, const char **args)
{
    static struct tl_run r;
    const char *argv[40] = {bin()};
    if (!argv[0])
        return NULL;
    for (int i = 1; i < 39 && (argv[i] = args[i - 1]) != NULL; i++)
        ;
    argv[39] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert(out && err);
    r.status = tl_spawn(env, argv, in, outfd >= 0 ? outfd : fileno(out), fileno(err), &r.sig);
    tl_slurp(out, r.out, sizeof r.out);
    tl_slurp(err, r.err, sizeof r.err);
    fclose(out);
    fclose(err);
    return &r;
}

static struct tl_run *run_in(const char *const *env, int in, const char *arg0, ...)
{
    const char *args[40] = {arg0};
    va_list ap;
    va_start(ap, arg0);
    for (int i = 1; i < 39 && (args[i] = va_arg(ap, const char *)) != NULL; i++)
        ;
    va_end(ap);
    args[39] = NULL;
    return run_v(env, in, -1, args);
}

#define HEAPLAB(...) run_in(NULL, -1, __VA_ARGS__, NULL)

#define TRACE_ARG "traces/handmade-basic.rep" /* make test runs in the source folder */

/* Exit status 2 and exactly one line on stderr that starts with `want`. */
static void assert_one_line(const struct tl_run *r, const char *want)
{
    ck_assert_msg(r->status == 2, "exit %d (signal %d), stderr: %s", r->status, r->sig, r->err);
    ck_assert_msg(strncmp(r->err, want, strlen(want)) == 0, "want '%s...', stderr: %s", want, r->err);
    ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "more than one line: %s", r->err);
}

/* A child writing `head` once, then `body` for ever (until the reader goes
 * away) into a pipe; the read end in *rd. */
static pid_t endless_writer(const char *head, const char *body, int *rd)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGPIPE, SIG_DFL);
        size_t hl = strlen(head), bl = strlen(body);
        if (write(fds[1], head, hl) != (ssize_t)hl)
            _exit(0);
        for (;;)
            if (write(fds[1], body, bl) <= 0)
                _exit(0);
    }
    close(fds[1]);
    *rd = fds[0];
    return pid;
}

static void stop_writer(pid_t pid, int rd)
{
    close(rd); /* the writer's next write fails: it ends */
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}

/* ---- a file cut short while it is read ----------------------------------- */

/* The shim tests/data/truncate-on-read.c, built with cc; NULL (skipped,
 * saying so) without cc. */
static const char *truncate_shim(void)
{
    static char so[600];
    const char *src = getenv("HEAPLAB_SRCDIR");
    snprintf(so, sizeof so, "%s/truncate-on-read.so", tmp);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O2 -Wall -Werror -shared -fPIC %s/tests/data/truncate-on-read.c -o %s -ldl",
             src && *src ? src : ".", so);
    if (system("command -v cc >/dev/null 2>&1") != 0) {
        fprintf(stderr, "input: SKIPPED: no cc to build the truncating shim\n");
        return NULL;
    }
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    return so;
}

/* A trace of n allocations and their frees, in a file. */
static void big_trace(const char *path, unsigned n)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "0\n%u\n%u\n1\n", n, 2 * n);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "a %u %u\n", i, 16 + i % 1000);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "f %u\n", i);
    ck_assert_int_eq(fclose(f), 0);
}

/* Before: the file was mapped, and a page past the new end killed heaplab
 * with SIGBUS. */
START_TEST(a_file_cut_short_while_read_is_an_error)
{
    const char *so = truncate_shim();
    if (!so || !bin())
        return;
    const char *p = in_tmp("big.rep");
    big_trace(p, 200000); /* about 2.4 MB: several reads */
    char pre[700], path[600];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", so);
    snprintf(path, sizeof path, "TRUNCATE_PATH=%s", p);
    /* ASan wants to be first; the shim only wraps read and mmap */
    const char *env[] = {pre, path, "TRUNCATE_TO=100000", "ASAN_OPTIONS=verify_asan_link_order=0", NULL};
    struct tl_run *r = run_in(env, -1, "replay", "-p", "first-fit", "--repeat", "1", p, NULL);
    char want[700];
    snprintf(want, sizeof want, "heaplab: %s: changed while being read\n", p);
    ck_assert_msg(r->status == 2 && strcmp(r->err, want) == 0, "exit %d (signal %d): %s", r->status, r->sig, r->err);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_size, 100000); /* the shim did cut it */
}
END_TEST

/* ---- endless and binary streams ------------------------------------------ */

/* Before: each of these was read whole before parsing, growing to
 * gigabytes (or for ever). */
START_TEST(dev_zero_stops_at_the_first_line)
{
    struct tl_run *r = HEAPLAB("replay", "-p", "first-fit", "/dev/zero");
    if (r)
        assert_one_line(r, "heaplab: /dev/zero:1: NUL byte: binary data, not a trace");
}
END_TEST

START_TEST(dev_urandom_stops_at_a_bad_line)
{
    struct tl_run *r = HEAPLAB("replay", "-p", "first-fit", "/dev/urandom");
    if (r)
        assert_one_line(r, "heaplab: /dev/urandom:");
}
END_TEST

START_TEST(yes_on_stdin_stops_at_the_first_line)
{
    if (!bin())
        return;
    int rd;
    pid_t w = endless_writer("", "y\n", &rd);
    struct tl_run *r = run_in(NULL, rd, "replay", "-p", "first-fit", "-", NULL);
    stop_writer(w, rd);
    assert_one_line(r, "heaplab: <stdin>:1: header: expected sugg_heapsize/weight (a number), found 'y'");
}
END_TEST

START_TEST(a_bad_request_in_an_endless_stream_is_named_by_line)
{
    if (!bin())
        return;
    int rd;
    pid_t w = endless_writer("0\n1000\n1000000\n1\na 0 8\nf 0\n", "a 0 8\nf 0\na 0 8\nz\n", &rd);
    struct tl_run *r = run_in(NULL, rd, "replay", "-p", "first-fit", "-", NULL);
    stop_writer(w, rd);
    assert_one_line(r, "heaplab: <stdin>:10: unknown request");
}
END_TEST

/* A valid header and then comment lines for ever: stopped at the bound. */
START_TEST(an_endless_stream_stops_at_the_stream_bound)
{
    if (!bin())
        return;
    static char line[65537];
    memset(line, 'x', sizeof line - 2);
    line[0] = '#';
    line[sizeof line - 2] = '\n';
    int rd;
    pid_t w = endless_writer("0\n1\n2\n1\n", line, &rd);
    struct tl_run *r = run_in(NULL, rd, "replay", "-p", "first-fit", "-", NULL);
    stop_writer(w, rd);
    char want[128];
    snprintf(want, sizeof want, "heaplab: <stdin>:%llu: more than 256 MiB: a stream",
             (unsigned long long)(HL_TRACE_STREAM_MAX - 8) / 65536 + 5);
    assert_one_line(r, want);
}
END_TEST

/* A line longer than HL_TRACE_MAX_LINE, in a file and in a stream. */
START_TEST(an_endless_line_stops_at_the_line_bound)
{
    if (!bin())
        return;
    int rd;
    pid_t w = endless_writer("0\n1\n2\n1\n# ", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &rd);
    struct tl_run *r = run_in(NULL, rd, "replay", "-p", "first-fit", "-", NULL);
    stop_writer(w, rd);
    assert_one_line(r, "heaplab: <stdin>:5: line longer than 1048576 bytes: not a trace");
}
END_TEST

/* A valid trace much larger than the reader's window, through a pipe, reads
 * as the same file does. */
START_TEST(a_large_trace_through_a_pipe_is_whole)
{
    const char *p = in_tmp("large.rep");
    big_trace(p, 300000); /* about 3.7 MB */
    struct hl_trace a, b;
    char err[512];
    ck_assert_msg(hl_trace_load(p, NULL, &a, err, sizeof err) == 0, "%s", err);
    int fd = open(p, O_RDONLY), fds[2];
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (write(fds[1], buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    close(fd);
    int saved = dup(STDIN_FILENO);
    ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    int rc = hl_trace_load("-", NULL, &b, err, sizeof err);
    dup2(saved, STDIN_FILENO);
    close(saved);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(a.nops, 600000);
    ck_assert_uint_eq(b.nops, a.nops);
    ck_assert_int_eq(memcmp(a.ops, b.ops, a.nops * sizeof *a.ops), 0);
    hl_trace_free(&a);
    hl_trace_free(&b);
}
END_TEST

/* ---- what make fuzz found -------------------------------------------------- */

/* fuzz_trace: an empty input reached the parser as (NULL, 0), and NULL + 0
 * is undefined behaviour (clang's UBSan says so). */
START_TEST(fuzz_empty_input_without_a_buffer)
{
    struct hl_trace t;
    char err[256];
    ck_assert_int_eq(hl_trace_parse("t.rep", NULL, 0, NULL, &t, err, sizeof err), -1);
    ck_assert_str_eq(err, "t.rep:1: empty file");
}
END_TEST

/* fuzz_trace: a stream whose num_ids it cannot use said "fewer request
 * lines" where the same bytes in a file say what is wrong with num_ids. */
START_TEST(fuzz_stream_num_ids_as_for_a_file)
{
    static const char text[] = "0\n92541\n2\n0\n";
    const char *p = in_tmp("ids.rep");
    write_file(p, text, sizeof text - 1);
    struct tl_run *r = HEAPLAB("replay", "-p", "first-fit", p);
    if (!r)
        return;
    char want[600];
    snprintf(want, sizeof want, "heaplab: %s:2: num_ids 92541 is more than this file can use", p);
    assert_one_line(r, want);
    int fd = open(p, O_RDONLY), fds[2];
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], text, sizeof text - 1), (ssize_t)sizeof text - 1);
    close(fds[1]);
    r = run_in(NULL, fds[0], "replay", "-p", "first-fit", "-", NULL);
    close(fds[0]);
    close(fd);
    assert_one_line(r, "heaplab: <stdin>:2: num_ids 92541 is more than this file can use");
}
END_TEST

/* ---- gzip ----------------------------------------------------------------- */

static const char small[] = "0\n2\n4\n1\na 0 10\na 1 20\nf 0\nf 1\n";

static void write_gz(const char *path, const char *data, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

/* Before: the trailing bytes were ignored. */
START_TEST(gzip_with_trailing_garbage_is_an_error)
{
    const char *p = in_tmp("trail.rep.gz");
    write_gz(p, small, sizeof small - 1);
    FILE *f = fopen(p, "ab");
    fputs("garbage\n", f);
    fclose(f);
    struct tl_run *r = HEAPLAB("replay", "-p", "first-fit", p);
    if (!r)
        return;
    char want[600];
    snprintf(want, sizeof want, "heaplab: %s: gzip: trailing garbage after the compressed data", p);
    assert_one_line(r, want);
    /* two members one after the other are one stream, as gzip reads them */
    const char *two = in_tmp("two.rep.gz");
    write_gz(two, small, 20);
    write_gz(in_tmp("second.gz"), small + 20, sizeof small - 21);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cat %s >> %s", in_tmp("second.gz"), two);
    ck_assert_int_eq(system(cmd), 0);
    r = HEAPLAB("replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", two);
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
}
END_TEST

/* Before: "<stdin>:1: unexpected byte 0x1f: binary data". */
START_TEST(gzip_on_stdin_is_decompressed)
{
    const char *p = in_tmp("small.rep.gz");
    write_gz(p, small, sizeof small - 1);
    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct tl_run *r = run_in(NULL, fd, "replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", "-", NULL);
    close(fd);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    ck_assert_ptr_nonnull(strstr(r->out, "\n-,first-fit,"));
}
END_TEST

/* Before: "gzip: <fd:3>: invalid code lengths set". */
START_TEST(gzip_errors_name_the_file_not_a_descriptor)
{
    const char *p = in_tmp("bad.rep.gz");
    char big[4096];
    int n = snprintf(big, sizeof big, "0\n100\n100\n1\n");
    for (int i = 0; i < 100; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "a %d %d\n", i, i * 7919 % 1000);
    write_gz(p, big, (size_t)n);
    int fd = open(p, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "\xff\xff\xff", 3, 20), 3); /* inside the deflate data */
    close(fd);
    struct tl_run *r = HEAPLAB("replay", "-p", "first-fit", p);
    if (!r)
        return;
    char want[600];
    snprintf(want, sizeof want, "heaplab: %s: gzip: ", p);
    assert_one_line(r, want);
    ck_assert_msg(!strstr(r->err, "<fd:"), "%s", r->err);
    /* cut short */
    write_gz(p, big, (size_t)n);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(truncate(p, st.st_size - 12), 0);
    r = HEAPLAB("replay", "-p", "first-fit", p);
    snprintf(want, sizeof want, "heaplab: %s: gzip: truncated compressed data", p);
    assert_one_line(r, want);
}
END_TEST

/* ---- a row that never returns -------------------------------------------- */

/* tests/data/NAME.c built into a plugin in the temporary folder; NULL
 * (skipped, saying so) without cc. */
static const char *plugin(const char *name)
{
    static char so[600];
    const char *src = getenv("HEAPLAB_SRCDIR");
    if (system("command -v cc >/dev/null 2>&1") != 0) {
        fprintf(stderr, "input: SKIPPED: no cc to build %s\n", name);
        return NULL;
    }
    snprintf(so, sizeof so, "%s/%s.so", tmp, name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O2 -Wall -Werror -I%s/include -shared -fPIC %s/tests/data/%s.c -o %s",
             src && *src ? src : ".", src && *src ? src : ".", name, so);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    return so;
}

/* Before: the replay waited for the row for ever. */
START_TEST(a_policy_that_loops_fails_its_row_after_the_timeout)
{
    const char *so = plugin("policy-loops");
    if (!so || !bin())
        return;
    struct tl_run *r = HEAPLAB("replay", "-p", so, "-p", "first-fit", "-j", "2", "--row-timeout", "1", "--repeat", "1",
                               "-f", "csv", TRACE_ARG);
    ck_assert_msg(r->status == 1, "exit %d: %s", r->status, r->err);
    ck_assert_msg(strstr(r->out, ",no answer for 1 s at op 1 in the checked pass (an endless loop? --row-timeout)"),
                  "%s", r->out);
    ck_assert_msg(strstr(r->out, ",first-fit,") && strstr(r->out, ",ok\n"), "%s", r->out);
    r = HEAPLAB("replay", "-p", "first-fit", "--row-timeout", "soon", TRACE_ARG);
    assert_one_line(r, "heaplab: --row-timeout: expected seconds");
}
END_TEST

/* ---- plot input at the edges --------------------------------------------- */

/* heaplab plot KIND on a CSV of `text`: the result. */
static struct tl_run *plot(const char *kind, const char *text, const char *csv)
{
    const char *p = in_tmp(csv);
    write_file(p, text, strlen(text));
    return HEAPLAB("plot", kind, p, "-o", in_tmp("chart.png"));
}

/* Before: a 131072-character policy (or a 4000-character trace name)
 * passed heaplab's checks and ended in a Python traceback; out-of-range
 * figures were drawn. */
START_TEST(plot_refuses_what_no_chart_can_draw)
{
    static const struct {
        const char *kind, *head, *row, *why;
    } cases[] = {
        {"util", "trace,policy,util", "t.rep,first-fit,-0.5", "util: '-0.5' is negative"},
        {"util", "trace,policy,util", "t.rep,first-fit,1.5", "util: '1.5' is more than 1 (a fraction: 0 to 1)"},
        {"frag", "trace,policy,op,internal_frag,external_frag", "t.rep,first-fit,0,0.5,1.01",
         "external_frag: '1.01' is more than 1"},
        {"frag", "trace,policy,op,internal_frag,external_frag", "t.rep,first-fit,0,-1e-9,0.5",
         "internal_frag: '-1e-9' is negative"},
        {"timeline", "trace,policy,op,live_bytes,heap_bytes", "t.rep,first-fit,0,-5,10",
         "live_bytes: '-5' is negative"},
        {"throughput", "trace,policy,ops_per_sec,ops_per_sec_min", "t.rep,first-fit,1e308,1e308",
         "ops_per_sec: '1e308' is more than 10^12 operations per second"},
        {"throughput", "trace,policy,ops_per_sec,ops_per_sec_min", "t.rep,first-fit,5,-1",
         "ops_per_sec_min: '-1' is negative"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], want[700];
        snprintf(text, sizeof text, "%s\n%s\n", cases[i].head, cases[i].row);
        struct tl_run *r = plot(cases[i].kind, text, "in.csv");
        if (!r)
            return;
        snprintf(want, sizeof want, "heaplab: plot: %s:2: %s", in_tmp("in.csv"), cases[i].why);
        assert_one_line(r, want);
    }
    /* names too long to lay out: the user's file and line, never a
     * temporary file */
    static char text[140000], want[700];
    int n = snprintf(text, sizeof text, "trace,policy,util\nt.rep,");
    memset(text + n, 'p', 131072);
    snprintf(text + n + 131072, sizeof text - (size_t)n - 131072, ",0.5\n");
    struct tl_run *r = plot("util", text, "long.csv");
    snprintf(want, sizeof want, "heaplab: plot: %s:2: policy of 131072 characters: a chart draws names of at most 255",
             in_tmp("long.csv"));
    assert_one_line(r, want);
    n = snprintf(text, sizeof text, "trace,policy,util\n");
    memset(text + n, 't', 4000);
    snprintf(text + n + 4000, sizeof text - (size_t)n - 4000, ",first-fit,0.5\n");
    r = plot("util", text, "long.csv");
    snprintf(want, sizeof want, "heaplab: plot: %s:2: trace of 4000 characters", in_tmp("long.csv"));
    assert_one_line(r, want);
}
END_TEST

/* ---- option values that cannot work --------------------------------------- */

/* Before: buddy:max=30 was accepted and every row failed "out of memory";
 * tlsf:sl=16,sl=8 took the last; "a -0" was id 0; gen --mean 0 meant the
 * default mean while any other value outside --min..--max was an error. */
START_TEST(values_that_cannot_work_are_refused_up_front)
{
    struct tl_run *r = HEAPLAB("replay", "-p", "buddy:max=30", TRACE_ARG);
    if (!r)
        return;
    assert_one_line(r, "heaplab: replay: buddy:max=30: buddy cannot serve a request in this configuration");
    ck_assert_str_eq(r->out, "");
    r = HEAPLAB("replay", "-p", "buddy:max=29", "--repeat", "1", "-f", "csv", TRACE_ARG);
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    r = HEAPLAB("selftest", "-p", "buddy:max=30");
    assert_one_line(r, "heaplab: selftest: buddy:max=30: buddy cannot serve a request");
    r = HEAPLAB("replay", "-p", "tlsf:sl=16,sl=8", TRACE_ARG);
    assert_one_line(r, "heaplab: replay: tlsf: sl is given twice\n");
    r = HEAPLAB("replay", "-p", "first-fit:cache=2,cache=2", TRACE_ARG);
    assert_one_line(r, "heaplab: replay: first-fit: cache is given twice\n");
    static const char *const minus0[][2] = {
        {"0\n1\n2\n1\na -0 5\nf 0\n", ":5: negative id -0"},
        {"0\n1\n2\n1\na 0 -0\nf 0\n", ":5: negative size"},
        {"0\n-0\n2\n1\na 0 5\nf 0\n", ":2: negative num_ids"},
        {"0\n1\n2\n1\na 0 5\nf -0\n", ":6: negative id (only f -1 is allowed): -0"},
    };
    for (size_t i = 0; i < sizeof minus0 / sizeof minus0[0]; i++) {
        const char *p = in_tmp("minus0.rep");
        write_file(p, minus0[i][0], strlen(minus0[i][0]));
        r = HEAPLAB("replay", "-p", "first-fit", p);
        char want[600];
        snprintf(want, sizeof want, "heaplab: %s%s\n", p, minus0[i][1]);
        assert_one_line(r, want);
    }
    r = HEAPLAB("gen", "random", "--sizes", "exp", "--mean", "0");
    assert_one_line(r, "heaplab: gen: --mean: expected a size from --min to --max, got '0'\n");
    r = HEAPLAB("gen", "random", "--mean", "0");
    assert_one_line(r, "heaplab: gen: --mean applies to --sizes exp only");
}
END_TEST

/* ---- write errors -------------------------------------------------------- */

/* Before: --timeline and --heapmap on a full device exited 0, the samples
 * lost (the failed flush was the one before a fork, never checked). */
START_TEST(every_output_file_reports_a_full_device)
{
    static const char *const cases[][12] = {
        {"replay", "-p", "first-fit", "--repeat", "1", "--timeline", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "--heapmap", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "--no-fork", "--timeline", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "-o", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", "-o", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "-f", "json", "-o", "/dev/full", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "--save", "/dev/full", TRACE_ARG},
        {"gen", "random", "-n", "100", "-o", "/dev/full"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[13] = {0};
        memcpy(args, cases[i], sizeof cases[i]);
        struct tl_run *r = run_v(NULL, -1, -1, args);
        if (!r)
            return;
        ck_assert_msg(r->status == 2 && strcmp(r->err, "heaplab: /dev/full: No space left on device\n") == 0,
                      "%s %s ... %s: exit %d, stderr: %s", args[0], args[1], args[6], r->status, r->err);
    }
}
END_TEST

/* A file written whole and renamed into place (import -o, merge -o, the
 * plot's chart) on a path that is a device: before, the rename replaced
 * /dev/full itself with a regular file (as root) and the command exited 0. */
START_TEST(a_renamed_output_on_a_device_is_written_into_it)
{
    const char *b = bin();
    if (!b)
        return;
    const char *csv = in_tmp("rows.csv"), *plan = in_tmp("dev.plan"), *res = in_tmp("results");
    const char *link = in_tmp("full.png");
    unlink(link);
    ck_assert_int_eq(symlink("/dev/full", link), 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s replay -p first-fit --repeat 1 -f csv -o %s " TRACE_ARG
             " && %s sweep plan -p first-fit --baseline none -o %s " TRACE_ARG
             " && %s sweep run %s --index 0-0 --results %s",
             b, csv, b, plan, b, plan, res);
    const char *sh[] = {"sh", "-c", cmd, NULL};
    struct tl_run r;
    tl_run(&r, NULL, sh);
    ck_assert_msg(r.status == 0, "replay, sweep: exit %d, %s", r.status, r.err);
    static const char *const cases[][10] = {
        {"import", "-q", "--from", "mtrace", "tests/data/import-mtrace.log", "-o", "/dev/full"},
        {"merge", "RESULTS", "-o", "/dev/full"},
        {"plot", "util", "CSV", "-o", "LINK"}, /* a chart's name ends in .png: a link to the device */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[11] = {0};
        memcpy(args, cases[i], sizeof cases[i]);
        for (size_t k = 0; args[k]; k++)
            args[k] = strcmp(args[k], "CSV") == 0       ? csv
                      : strcmp(args[k], "RESULTS") == 0 ? res
                      : strcmp(args[k], "LINK") == 0    ? link
                                                        : args[k];
        struct tl_run *rr = run_v(NULL, -1, -1, args);
        if (!rr)
            return;
        struct stat st;
        ck_assert_msg(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode), "%s replaced /dev/full", args[0]);
        ck_assert_msg(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "%s replaced the link", args[0]);
        ck_assert_msg(rr->status == 2 && strstr(rr->err, "No space left on device"),
                          "%s: exit %d, stderr: %s", args[0], rr->status, rr->err);
    }
}
END_TEST

/* Before: replay, policies, selftest, layout and --help exited 0 with
 * their standard output lost. */
START_TEST(every_command_reports_a_full_standard_output)
{
    static const char *const cases[][10] = {
        {"replay", "-p", "first-fit", "--repeat", "1", TRACE_ARG},
        {"replay", "-p", "first-fit", "--repeat", "1", "-f", "csv", TRACE_ARG},
        {"gen", "random", "-n", "100"},
        {"policies", "-v"},
        {"selftest", "-p", "first-fit", "malloc_zero_is_unique_and_free_null_is_noop"},
        {"layout"},
        {"--help"},
        {"replay", "--help"},
        {"plot", "--help"},
    };
    int full = open("/dev/full", O_WRONLY);
    ck_assert_int_ge(full, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[11] = {0};
        memcpy(args, cases[i], sizeof cases[i]);
        struct tl_run *r = run_v(NULL, -1, full, args);
        if (!r)
            break;
        ck_assert_msg(r->status == 2 && strcmp(r->err, "heaplab: standard output: No space left on device\n") == 0,
                      "%s %s: exit %d, stderr: %s", args[0], args[1] ? args[1] : "", r->status, r->err);
    }
    close(full);
}
END_TEST

/* A sample file that fills up in the middle of the run (a file-size limit
 * stands in for a full disk): the samples the children spooled are
 * appended after the header, and that write fails. */
START_TEST(a_sample_file_that_fills_mid_run_is_reported)
{
    const char *b = bin();
    if (!b)
        return;
    const char *p = in_tmp("timeline.csv");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "trap '' XFSZ; ulimit -f 2 && exec %s replay -p first-fit --repeat 1 -o /dev/null --timeline %s "
             "traces/gen-random.rep",
             b, p);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    struct tl_run r;
    tl_run(&r, NULL, argv);
    char want[600];
    snprintf(want, sizeof want, "heaplab: %s: File too large\n", p);
    ck_assert_msg(r.status == 2 && strcmp(r.err, want) == 0, "exit %d, stderr: %s", r.status, r.err);
}
END_TEST

Suite *make_input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = tcase_create("traces");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_file_cut_short_while_read_is_an_error);
    tcase_add_test(tc, dev_zero_stops_at_the_first_line);
    tcase_add_test(tc, dev_urandom_stops_at_a_bad_line);
    tcase_add_test(tc, yes_on_stdin_stops_at_the_first_line);
    tcase_add_test(tc, a_bad_request_in_an_endless_stream_is_named_by_line);
    tcase_add_test(tc, an_endless_stream_stops_at_the_stream_bound);
    tcase_add_test(tc, an_endless_line_stops_at_the_line_bound);
    tcase_add_test(tc, a_large_trace_through_a_pipe_is_whole);
    tcase_add_test(tc, fuzz_empty_input_without_a_buffer);
    tcase_add_test(tc, fuzz_stream_num_ids_as_for_a_file);
    tcase_add_test(tc, gzip_with_trailing_garbage_is_an_error);
    tcase_add_test(tc, gzip_on_stdin_is_decompressed);
    tcase_add_test(tc, gzip_errors_name_the_file_not_a_descriptor);
    suite_add_tcase(s, tc);

    tc = tcase_create("rows");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_policy_that_loops_fails_its_row_after_the_timeout);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, values_that_cannot_work_are_refused_up_front);
    suite_add_tcase(s, tc);

    tc = tcase_create("plot");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plot_refuses_what_no_chart_can_draw);
    suite_add_tcase(s, tc);

    tc = tcase_create("outputs");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_output_file_reports_a_full_device);
    tcase_add_test(tc, every_command_reports_a_full_standard_output);
    tcase_add_test(tc, a_renamed_output_on_a_device_is_written_into_it);
    tcase_add_test(tc, a_sample_file_that_fills_mid_run_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
