/*
 * check_record.c - the recorder (libheaplab-record.so) and `heaplab record`:
 * tests/data/record-prog.c, built here with cc at -O2, runs allocation
 * sequences known in advance between two marker allocations; each is
 * recorded and the trace between the markers compared op for op with the
 * sequence: every function of the API, threads taking turns, a fork (the
 * child's own trace), a free in one thread racing the malloc that gets
 * the block back in another (the ordering), the buffer written before an
 * exec, at _exit and on fatal signals, stdio allocating inside the hooks'
 * reach.  Then the command's options and errors, and a real program
 * (sqlite3, when installed) recorded and replayed under every policy with
 * the checker on, and its op count against glibc's mtrace log of the same
 * run (heaplab import).  Needs $HEAPLAB_BIN (make test sets it) with the library
 * beside it, and cc; skips, saying so, without them.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heaplab/record.h"
#include "testutil.h"
#include "trace.h"

#define MARK_BEGIN 1000001 /* as record-prog.c */
#define MARK_END 1000002

static struct {
    int ready;      /* the fixture built the program */
    char bin[1024]; /* heaplab */
    char src[1024]; /* the source tree */
    char dir[256];  /* the suite's folder */
    char prog[300]; /* record-prog */
} rc;

static int ready(void)
{
    if (!rc.ready)
        fprintf(stderr, "record: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n");
    return rc.ready;
}

#define SKIP_UNLESS_READY()                                                                        \
    do {                                                                                           \
        if (!ready())                                                                              \
            return;                                                                                \
    } while (0)

static void setup(void)
{
    const char *bin = getenv("HEAPLAB_BIN");
    const char *src = getenv("HEAPLAB_SRCDIR");
    rc.ready = 0;
    if (!bin || !*bin)
        return;
    snprintf(rc.bin, sizeof rc.bin, "%s", bin);
    snprintf(rc.src, sizeof rc.src, "%s", src && *src ? src : ".");
    char lib[1100];
    snprintf(lib, sizeof lib, "%s", bin);
    char *slash = strrchr(lib, '/');
    snprintf(slash ? slash + 1 : lib, sizeof lib - (size_t)(slash ? slash + 1 - lib : 0), "%s", HL_RECORD_LIB);
    ck_assert_msg(access(lib, R_OK) == 0, "%s: not built (make builds it)", lib);
    tl_make_tmpdir(rc.dir, sizeof rc.dir, "record");
    snprintf(rc.prog, sizeof rc.prog, "%s/record-prog", rc.dir);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O2 -Wall -Werror -pthread %s/tests/data/record-prog.c -o %s", rc.src,
             rc.prog);
    ck_assert_msg(system(cmd) == 0, "building record-prog failed: %s", cmd);
    rc.ready = 1;
}

static void teardown(void)
{
    if (rc.dir[0])
        tl_remove_tree(rc.dir);
}

/* A path in the suite's folder. */
static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", rc.dir, name);
    return buf[k];
}

/* heaplab record ARGS... (up to NULL) with the settings of env. */
static struct tl_run *record(const char *const *env, const char *arg0, ...)
{
    static struct tl_run r;
    const char *argv[32] = {rc.bin, "record", arg0};
    int n = 3;
    va_list ap;
    va_start(ap, arg0);
    while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    tl_run(&r, env, argv);
    return &r;
}

/* ---- the trace between the markers, as text ---------------------------------- */

/* The ops of the trace at path between the k-th begin marker's free and
 * the next end marker's allocation, one word each: a block is numbered in
 * the order of its allocation within the segment, "a0:100" (malloc),
 * "c1:200" (calloc), "m2:64:500" (memalign: alignment, size), "r0:3000",
 * "f0"; a block from before the segment is "?".  Fails the test when the
 * trace cannot be read or has no such segment. */
static const char *segment(const char *path, int k, char *out, size_t cap)
{
    struct hl_trace t;
    char err[512];
    ck_assert_msg(hl_trace_load(path, NULL, &t, err, sizeof err) == 0, "%s", err);
    uint64_t i = 0;
    for (int found = -1; i < t.nops; i++)
        if (t.ops[i].type == HL_OP_ALLOC && t.ops[i].size == MARK_BEGIN && ++found == k)
            break;
    ck_assert_msg(i < t.nops, "%s: no begin marker #%d", path, k);
    ck_assert_msg(i + 1 < t.nops && t.ops[i + 1].type == HL_OP_FREE, "%s: the begin marker is not freed at once",
                  path);
    int64_t *block = malloc(((size_t)t.num_ids + 1) * sizeof *block);
    ck_assert_ptr_nonnull(block);
    for (uint32_t id = 0; id < t.num_ids; id++)
        block[id] = -1;
    size_t n = 0;
    int64_t next = 0, ended = 0;
    out[0] = 0;
    for (i += 2; i < t.nops; i++) {
        const struct hl_op *op = &t.ops[i];
        if (op->type == HL_OP_ALLOC && op->size == MARK_END) {
            ended = 1;
            break;
        }
        char word[96], num[24] = "?";
        int64_t b = op->id < t.num_ids ? block[op->id] : -1;
        if (op->type != HL_OP_FREE && op->type != HL_OP_REALLOC)
            b = block[op->id] = next++;
        if (b >= 0)
            snprintf(num, sizeof num, "%lld", (long long)b);
        if (op->type == HL_OP_FREE)
            snprintf(word, sizeof word, "f%s", num);
        else if (op->type == HL_OP_MEMALIGN)
            snprintf(word, sizeof word, "m%s:%llu:%llu", num, 1ull << op->align_log2, (unsigned long long)op->size);
        else
            snprintf(word, sizeof word, "%c%s:%llu", op->type, num, (unsigned long long)op->size);
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", word);
        ck_assert_msg(n < cap, "%s: segment longer than %zu characters", path, cap);
    }
    free(block);
    hl_trace_free(&t);
    ck_assert_msg(ended, "%s: no end marker after begin marker #%d", path, k);
    return out;
}

/* Words of the segment that match: the count of ops of type c with size. */
static int count_ops(const char *seg, char type, const char *suffix)
{
    int n = 0;
    for (const char *w = seg; *w;) {
        size_t len = strcspn(w, " ");
        const char *colon = memchr(w, ':', len);
        if (w[0] == type && (!suffix || (colon && strlen(suffix) == len - (size_t)(colon - w) &&
                                         strncmp(colon, suffix, len - (size_t)(colon - w)) == 0)))
            n++;
        w += len;
        w += *w == ' ';
    }
    return n;
}

#define ASSERT_SEGMENT(path, k, want)                                                              \
    do {                                                                                           \
        static char seg_[1 << 20];                                                                 \
        segment((path), (k), seg_, sizeof seg_);                                                   \
        ck_assert_msg(strcmp(seg_, (want)) == 0, "%s:\n got  %s\n want %s", (path), seg_, (want)); \
    } while (0)

#define ASSERT_RUN(r, st, what)                                                                    \
    ck_assert_msg((r)->status == (st), "%s: status %d, want %d\n%s%s", (what), (r)->status, (st), (r)->out, \
                  (r)->err)

/* The sequence of record-prog's many(): 200 mallocs, then their frees. */
static const char *many_seq(void)
{
    static char s[8192];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, "%sa%d:%d", i ? " " : "", i, 10 + i);
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, " f%d", i);
    return s;
}

/* ---- the API, threads, processes ------------------------------------------------ */

START_TEST(every_call_in_order)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("seq.rep"), "--", rc.prog, "seq", NULL);
    ASSERT_RUN(r, 0, "record-prog seq");
    char want[512];
    long page = sysconf(_SC_PAGESIZE);
    /* realloc(NULL, 50) is a malloc; realloc(h, 0) frees h; free(NULL) is
     * dropped; pvalloc(5000) is whole pages */
    snprintf(want, sizeof want,
             "a0:100 c1:200 r0:3000 m2:64:500 m3:128:256 m4:32:40 m5:%ld:1000 m6:%ld:%ld r1:300 a7:50 f0 f7 f2 f3 "
             "f4 f5 f6 f1 a8:0 f8",
             page, page, (5000 + page - 1) / page * page);
    ASSERT_SEGMENT(tmp("seq.rep"), 0, want);
    ck_assert_msg(strstr(r->err, "0 unknown frees dropped"), "%s", r->err);
}
END_TEST

START_TEST(threads_in_turn)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("threads.rep"), "--", rc.prog, "threads", NULL);
    ASSERT_RUN(r, 0, "record-prog threads");
    ASSERT_SEGMENT(tmp("threads.rep"), 0,
                   "a0:1000 c1:200 r0:2000 f1 a2:1001 c3:202 r2:2001 f3 a4:1002 c5:204 r4:2002 f5 f0 f2 f4");
    ck_assert_msg(strstr(r->err, ", 4 threads"), "the summary should count 4 threads:\n%s", r->err);
}
END_TEST

/* A free in one thread and the malloc that gets the block back in another,
 * at the same time; glibc's per-thread cache off, so that blocks do come
 * back.  Logged out of order, the malloc would return a pointer still live
 * in the log, or the free would free a dead one; the builder counts both. */
START_TEST(cross_thread_reuse_in_order)
{
    SKIP_UNLESS_READY();
    static const char *const env[] = {"GLIBC_TUNABLES=glibc.malloc.tcache_count=0", NULL};
    struct tl_run *r = record(env, "-v", "-o", tmp("pp.rep"), "--", rc.prog, "pingpong", NULL);
    ASSERT_RUN(r, 0, "record-prog pingpong");
    long reused = 0;
    const char *line = strstr(r->out, "reused ");
    ck_assert_msg(line && sscanf(line, "reused %ld", &reused) == 1, "%s", r->out);
    ck_assert_msg(reused > 1000, "only %ld blocks came back to the other thread: the test proves nothing", reused);
    ck_assert_msg(!strstr(r->err, "live pointer") && !strstr(r->err, "already freed") &&
                      !strstr(r->err, "never seen"),
                  "the log is out of order:\n%s", r->err);
    static char seg[1 << 23];
    segment(tmp("pp.rep"), 0, seg, sizeof seg);
    ck_assert_int_eq(count_ops(seg, 'a', ":48"), 100000);
    ck_assert_int_eq(count_ops(seg, 'f', NULL), 100000);
}
END_TEST

START_TEST(fork_child_has_its_own_trace)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "--all-processes", "-o", tmp("fork.rep"), "--", rc.prog, "fork", NULL);
    ASSERT_RUN(r, 0, "record-prog fork");
    long child = 0;
    ck_assert_msg(sscanf(r->out, "child %ld", &child) == 1, "%s", r->out);
    char name[64], path[600], line[128];
    snprintf(name, sizeof name, "fork.%ld.rep", child);
    snprintf(path, sizeof path, "%s", tmp(name));
    ASSERT_SEGMENT(tmp("fork.rep"), 0, "a0:1234 f0");
    /* the child's free of its parent's block: dropped, and counted */
    ASSERT_SEGMENT(path, 0, "a0:4321 f0");
    snprintf(line, sizeof line, "pid %ld (", child);
    const char *l = strstr(r->err, line);
    ck_assert_msg(l && strstr(l, "1 unknown frees dropped") && strstr(l, "1 unknown frees dropped") < strchr(l, '\n'),
                  "%s", r->err);

    /* without --all-processes: the child runs unrecorded, and is named */
    r = record(NULL, "-o", tmp("fork1.rep"), "--", rc.prog, "fork", NULL);
    ASSERT_RUN(r, 0, "record-prog fork");
    ck_assert_msg(sscanf(r->out, "child %ld", &child) == 1, "%s", r->out);
    ASSERT_SEGMENT(tmp("fork1.rep"), 0, "a0:1234 f0");
    snprintf(name, sizeof name, "fork1.%ld.rep", child);
    ck_assert_msg(access(tmp(name), F_OK) != 0, "%s written without --all-processes", name);
    snprintf(line, sizeof line, "not recorded (--all-processes records them): %ld (", child);
    ck_assert_msg(strstr(r->err, line), "%s", r->err);
}
END_TEST

/* ---- the buffer written before the process is gone ------------------------------ */

START_TEST(written_before_exec)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("exec.rep"), "--", rc.prog, "exec", NULL);
    ASSERT_RUN(r, 0, "record-prog exec");
    ASSERT_SEGMENT(tmp("exec.rep"), 0, many_seq());
}
END_TEST

START_TEST(written_at_underscore_exit)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("_exit.rep"), "--", rc.prog, "_exit", NULL);
    ASSERT_RUN(r, 7, "record-prog _exit");
    ASSERT_SEGMENT(tmp("_exit.rep"), 0, many_seq());
}
END_TEST

START_TEST(written_on_fatal_signal)
{
    SKIP_UNLESS_READY();
    static const struct {
        const char *mode;
        int sig;
    } cases[] = {{"term", SIGTERM}, {"abort", SIGABRT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.rep", cases[i].mode);
        struct tl_run *r = record(NULL, "-o", tmp(name), "--", rc.prog, cases[i].mode, NULL);
        /* the program still dies of its signal: heaplab passes it on as a shell does */
        ASSERT_RUN(r, 128 + cases[i].sig, cases[i].mode);
        ASSERT_SEGMENT(tmp(name), 0, many_seq());
    }
}
END_TEST

/* stdio allocates (a FILE, its buffer, stdout's buffer) from inside the
 * program's calls; the recorder itself uses none, so it neither recurses
 * nor loses those calls. */
START_TEST(stdio_allocations_recorded)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("stdio.rep"), "--", rc.prog, "stdio", tmp("stdio.txt"), NULL);
    ASSERT_RUN(r, 0, "record-prog stdio");
    ck_assert_msg(strstr(r->out, "stdio 1\n"), "%s", r->out);
    FILE *f = fopen(tmp("stdio.txt"), "r");
    char text[64] = "";
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
    fclose(f);
    ck_assert_str_eq(text, "42 forty-two\n");
    static char seg[4096];
    segment(tmp("stdio.rep"), 0, seg, sizeof seg);
    /* fopen's FILE and its buffer come and go; stdout's buffer stays */
    int allocs = count_ops(seg, 'a', NULL) + count_ops(seg, 'c', NULL);
    ck_assert_msg(allocs >= 2 && count_ops(seg, 'f', NULL) == allocs - 1 && !strstr(seg, "?"), "%s", seg);
}
END_TEST

/* The program closes the log's descriptor under the recorder: it is
 * reopened, nothing is lost. */
START_TEST(log_survives_closed_descriptors)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "-o", tmp("closefds.rep"), "--", rc.prog, "closefds", NULL);
    ASSERT_RUN(r, 0, "record-prog closefds");
    ck_assert_msg(!strstr(r->err, "LOST"), "%s", r->err);
    static char want[1 << 18], seg[1 << 18];
    size_t n = 0;
    for (int i = 0; i < 9000; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "%sa%d:%d", i ? " " : "", i, 16 + i % 100);
    for (int i = 0; i < 9000; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, " f%d", i);
    segment(tmp("closefds.rep"), 0, seg, sizeof seg);
    ck_assert_msg(strcmp(seg, want) == 0, "the segment differs from 9000 mallocs and their frees");
}
END_TEST

/* CPython's subprocess starts a child with vfork, which shares the
 * parent's memory - the recorder's buffer too - and closes descriptors in
 * the child before the exec: the child must leave the parent's buffer to
 * the parent.  Records lost there would show as frees of blocks never seen. */
START_TEST(vfork_child_leaves_the_buffer)
{
    SKIP_UNLESS_READY();
    if (access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "record: vfork_child_leaves_the_buffer: SKIPPED: no /usr/bin/python3\n");
        return;
    }
    static const char *const env[] = {"PYTHONMALLOC=malloc", NULL};
    struct tl_run *r =
        record(env, "-o", tmp("subprocess.rep"), "--", "/usr/bin/python3", "-c",
               "import subprocess\nfor i in range(5): subprocess.run(['true'], close_fds=True)\nprint('ok')", NULL);
    ASSERT_RUN(r, 0, "python3 subprocess");
    ck_assert_msg(strstr(r->out, "ok\n"), "%s", r->out);
    ck_assert_msg(strstr(r->err, " 0 unknown frees dropped") && !strstr(r->err, "LOST"), "%s", r->err);
    ck_assert_msg(strstr(r->err, "not recorded (--all-processes records them)"), "%s", r->err);
}
END_TEST

/* ---- the command ----------------------------------------------------------------- */

START_TEST(options_and_errors)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = record(NULL, "--", rc.prog, "none", NULL);
    ASSERT_RUN(r, 2, "no -o");
    ck_assert_msg(strstr(r->err, "heaplab: record: where to?"), "%s", r->err);
    r = record(NULL, "-o", tmp("x.rep"), NULL);
    ASSERT_RUN(r, 2, "no command");
    r = record(NULL, "-o", tmp("x.rep"), "--", "heaplab-no-such-command", NULL);
    ASSERT_RUN(r, 127, "missing command");
    ck_assert_msg(strstr(r->err, "heaplab-no-such-command: command not found"), "%s", r->err);
    r = record(NULL, "-o", tmp("no-such-dir/x.rep"), "--", rc.prog, "none", NULL);
    ASSERT_RUN(r, 2, "-o in a missing folder");

    /* --raw keeps the logs, one per image, and refuses a folder holding some */
    r = record(NULL, "--raw", tmp("raw"), "-o", tmp("raw.rep"), "--", rc.prog, "exec", NULL);
    ASSERT_RUN(r, 0, "--raw");
    int logs = 0;
    DIR *d = opendir(tmp("raw"));
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        logs += strstr(e->d_name, ".raw") != NULL;
    closedir(d);
    ck_assert_int_ge(logs, 1);
    r = record(NULL, "--raw", tmp("raw"), "-o", tmp("raw.rep"), "--", rc.prog, "none", NULL);
    ASSERT_RUN(r, 2, "--raw again");
    ck_assert_msg(strstr(r->err, "earlier recording"), "%s", r->err);

    /* --no-balance: the blocks live at exit stay live (the fork parent
     * keeps stdout's buffer; a sanitizer's runtime may keep more) */
    struct hl_trace bal, unbal;
    char err[512];
    r = record(NULL, "-o", tmp("bal.rep.gz"), "--", rc.prog, "fork", NULL);
    ASSERT_RUN(r, 0, "fork, balanced, .gz");
    r = record(NULL, "--no-balance", "-o", tmp("unbal.rep"), "--", rc.prog, "fork", NULL);
    ASSERT_RUN(r, 0, "fork, --no-balance");
    ck_assert_msg(hl_trace_load(tmp("bal.rep.gz"), NULL, &bal, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hl_trace_load(tmp("unbal.rep"), NULL, &unbal, err, sizeof err) == 0, "%s", err);
    const char *at = strstr(r->err, " live at exit (kept live)");
    ck_assert_msg(at, "%s", r->err);
    while (at > r->err && at[-1] >= '0' && at[-1] <= '9')
        at--;
    unsigned long live = strtoul(at, NULL, 10);
    ck_assert_msg(live >= 1, "%s", r->err);
    ck_assert_uint_eq(bal.nops, unbal.nops + live);
    for (unsigned long i = 1; i <= live; i++)
        ck_assert_int_eq(bal.ops[bal.nops - i].type, HL_OP_FREE);
    hl_trace_free(&bal);
    hl_trace_free(&unbal);
}
END_TEST

/* A real program: its trace replays clean under every policy, the heap
 * checker on. */
START_TEST(sqlite3_replays_clean)
{
    SKIP_UNLESS_READY();
    if (system("command -v sqlite3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "record: sqlite3_replays_clean: SKIPPED: sqlite3 is not installed\n");
        return;
    }
    char sql[1200];
    snprintf(sql, sizeof sql, ".read %s/tests/programs/workload.sql", rc.src);
    struct tl_run *r =
        record(NULL, "-o", tmp("sqlite.rep"), "--", "sqlite3", ":memory:", "-cmd", ".parameter set @rows 1500", sql,
               NULL);
    ASSERT_RUN(r, 0, "sqlite3");
    const char *argv[] = {rc.bin, "replay", "-p", "all", "--check-every", "50", tmp("sqlite.rep"), NULL};
    struct tl_run rr;
    tl_run(&rr, NULL, argv);
    ck_assert_msg(rr.status == 0 && !strstr(rr.out, "FAIL") && !strstr(rr.out, "crash"), "status %d\n%s%s",
                  rr.status, rr.out, rr.err);
}
END_TEST

/* The same sqlite3 run recorded, and logged by glibc's mtrace and imported:
 * the op counts agree within 2% (mtrace misses what the loader and libc
 * allocate before the constructors run; the recorder sees them). */
START_TEST(sqlite3_agrees_with_mtrace)
{
    SKIP_UNLESS_READY();
    if (system("command -v sqlite3 >/dev/null 2>&1 && command -v cc >/dev/null 2>&1") != 0) {
        fprintf(stderr, "record: sqlite3_agrees_with_mtrace: SKIPPED: sqlite3 or cc is not installed\n");
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s/scripts/mtrace-run %s sqlite3 :memory: -cmd '.parameter set @rows 1500' <%s/tests/programs/workload.sql "
             ">/dev/null && %s import --from mtrace %s -o %s 2>/dev/null",
             rc.src, tmp("sqlite.mtrace"), rc.src, rc.bin, tmp("sqlite.mtrace"), tmp("mtrace.rep"));
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    char sql[1200];
    snprintf(sql, sizeof sql, "%s/tests/programs/workload.sql", rc.src);
    snprintf(cmd, sizeof cmd, "%s record -o %s -- sqlite3 :memory: -cmd '.parameter set @rows 1500' <%s >/dev/null 2>&1",
             rc.bin, tmp("recorded.rep"), sql);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    struct hl_trace rec, imp;
    char err[512];
    ck_assert_msg(hl_trace_load(tmp("recorded.rep"), NULL, &rec, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hl_trace_load(tmp("mtrace.rep"), NULL, &imp, err, sizeof err) == 0, "%s", err);
    double diff = (double)rec.nops - (double)imp.nops;
    ck_assert_msg(rec.nops > 10000 && (diff < 0 ? -diff : diff) <= 0.02 * (double)rec.nops,
                  "recorded %llu ops, mtrace %llu", (unsigned long long)rec.nops, (unsigned long long)imp.nops);
    hl_trace_free(&rec);
    hl_trace_free(&imp);
}
END_TEST

Suite *make_record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_call_in_order);
    tcase_add_test(tc, threads_in_turn);
    tcase_add_test(tc, cross_thread_reuse_in_order);
    tcase_add_test(tc, fork_child_has_its_own_trace);
    tcase_add_test(tc, written_before_exec);
    tcase_add_test(tc, written_at_underscore_exit);
    tcase_add_test(tc, written_on_fatal_signal);
    tcase_add_test(tc, stdio_allocations_recorded);
    tcase_add_test(tc, log_survives_closed_descriptors);
    tcase_add_test(tc, vfork_child_leaves_the_buffer);
    tcase_add_test(tc, options_and_errors);
    tcase_add_test(tc, sqlite3_replays_clean);
    tcase_add_test(tc, sqlite3_agrees_with_mtrace);
    suite_add_tcase(s, tc);
    return s;
}
