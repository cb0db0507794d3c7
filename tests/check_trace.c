/*
 * check_trace.c - the trace reader and writer: bad input (one test per
 * case, from a table), the upstream quirks, both header dialects, heaplab's
 * extension ops, the writer's round trip, peak live bytes, every kind of
 * input (mapped file, .gz, pipe on stdin, FIFO), and every shared malloc-lab
 * trace when the folder is there.
 *
 * In-memory inputs are copied into a buffer of exactly their length, so a
 * read past the end is caught by the address sanitizer.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"
#include "trace.h"

#define ERRLEN 512

/* ---- helpers ------------------------------------------------------------- */

static int parse_n(const char *text, size_t len, enum hl_dialect d, struct hl_trace *t, char *err)
{
    char *buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, text, len);
    struct hl_trace_opts o = {d};
    int r = hl_trace_parse("t.rep", buf, len, &o, t, err, ERRLEN);
    free(buf);
    return r;
}

/* Parse text that must be good. */
static void parse_ok(const char *text, enum hl_dialect d, struct hl_trace *t)
{
    char err[ERRLEN];
    int r = parse_n(text, strlen(text), d, t, err);
    ck_assert_msg(r == 0, "unexpected error: %s", err);
    ck_assert_uint_eq(t->nops, t->num_ops);
}

static void assert_zeroed(const struct hl_trace *t)
{
    ck_assert_ptr_null(t->ops);
    ck_assert_ptr_null(t->path);
    ck_assert_uint_eq(t->nops, 0);
    ck_assert_uint_eq(t->num_ids, 0);
}

static void assert_op(const struct hl_op *op, int type, uint32_t id, uint64_t size)
{
    ck_assert_int_eq(op->type, type);
    ck_assert_uint_eq(op->id, id);
    ck_assert_uint_eq(op->size, size);
}

static char tmpdir[256];

static void make_tmpdir(void) { tl_make_tmpdir(tmpdir, sizeof tmpdir, "trace"); }

static void remove_tmpdir(void) { tl_remove_tree(tmpdir); }

static const char *tmp_path(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- bad input ----------------------------------------------------------- */

/* classic header: 4 ids, 8 ops; requests start on line 5 */
#define C4 "20000\n4\n8\n1\n"

struct bad {
    const char *name;
    const char *text;
    size_t len;
    enum hl_dialect dialect;
    unsigned line;
    const char *frag;
};

#define BAD(name, text, line, frag) {name, text, sizeof(text) - 1, HL_DIALECT_AUTO, line, frag}
#define BAD_D(name, d, text, line, frag) {name, text, sizeof(text) - 1, d, line, frag}

static const struct bad bad_inputs[] = {
    BAD("empty file", "", 1, "empty file"),
    BAD("only comments and blanks", "# a trace\n\n   \t# nothing\n", 3, "no header"),
    BAD("missing header fields", "20000\n4\n", 2, "missing header fields: found 2 of 4"),
    BAD("word in the header", "20000\nfour\n8\n1\n", 2, "expected num_ids (a number), found 'four'"),
    BAD("request before the header ends", "20000\n4\na 0 1\n", 3, "expected num_ops"),
    BAD("negative first header field", "-1\n4\n8\n1\n", 1, "negative sugg_heapsize/weight"),
    BAD("negative num_ids", "20000\n-4\n8\n1\n", 2, "negative num_ids"),
    BAD("negative num_ops", "20000\n4\n-8\n1\n", 3, "negative num_ops"),
    BAD("junk inside a header number", "20000\n4x\n8\n1\n", 2, "found '4x'"),
    BAD("header number overflows", "20000\n4\n99999999999999999999\n1\n", 3, "num_ops: number too large"),
    BAD("trailing junk after the header", "20000\n4\n8\n1 7\n", 4, "trailing junk after the 4 header numbers: '7'"),
    BAD("num_ids beyond the id type", "0\n1000000000000\n1\n0\na 0 1\n", 2, "exceeds the limit 4294967295"),
    BAD("num_ids the file cannot use", "0\n100000000\n1\n0\na 0 1\n", 2, "more than this file can use"),
    BAD("num_ops beyond the file", "0\n1\n1000000000000\n0\na 0 1\n", 5, "fewer request lines than num_ops: found 1"),
    BAD("fewer request lines than num_ops", C4 "a 0 1\nf 0\n\n# end\n", 8, "found 2, the header says 8"),
    BAD("unknown op letter", C4 "x 0 1\n", 5, "unknown request (not a, f, r, c or m): 'x'"),
    BAD("op is a word", C4 "alloc 0 1\n", 5, "unknown request: 'alloc'"),
    BAD("free without an id", C4 "f\n", 5, "'f' request: missing id"),
    BAD("realloc without a size", C4 "a 0 1\nr 0\n", 6, "'r' request: missing size"),
    BAD("first alloc without a size", C4 "a 0\n", 5, "missing size (and no previous request"),
    BAD("trailing junk on alloc", C4 "a 0 1 2\n", 5, "trailing junk: '2'"),
    BAD("trailing junk on free", C4 "a 0 1\nf 0 x\n", 6, "trailing junk: 'x'"),
    BAD("non-numeric id", C4 "a x 1\n", 5, "bad id: expected a number, found 'x'"),
    BAD("non-numeric size", C4 "a 0 12k\n", 5, "bad size: expected a number, found '12k'"),
    BAD("size overflows 64 bits", C4 "a 0 99999999999999999999\n", 5, "size 99999999999999999999: number too large"),
    BAD("size beyond PTRDIFF_MAX", C4 "a 0 9223372036854775808\n", 5, "size 9223372036854775808 exceeds PTRDIFF_MAX"),
    BAD("negative size", C4 "a 0 -1\n", 5, "negative size"),
    BAD("id equal to num_ids", C4 "a 4 1\n", 5, "id 4 out of range: num_ids is 4"),
    BAD("id overflows", C4 "a 99999999999999999999 1\n", 5, "out of range"),
    BAD("negative id on alloc", C4 "a -1 1\n", 5, "negative id -1"),
    BAD("free of id -2", C4 "f -2\n", 5, "negative id (only f -1 is allowed): -2"),
    BAD("lone minus as id", C4 "f -\n", 5, "bad id"),
    BAD("alloc of a live id", C4 "a 0 1\na 0 2\n", 6, "allocation of id 0, which is still live"),
    BAD("calloc of a live id", C4 "a 0 1\nc 0 2 2\n", 6, "which is still live"),
    BAD("free of an id never allocated", C4 "a 0 1\nf 1\n", 6, "free of id 1, which was never allocated"),
    BAD("free of an id already freed", C4 "a 0 1\nf 0\nf 0\n", 7, "free of id 0, which is already freed"),
    BAD("realloc of an id already freed", C4 "a 0 1\nf 0\nr 0 5\n", 7, "realloc of id 0, which is already freed"),
    BAD("realloc after realloc to 0", C4 "a 0 1\nr 0 0\nr 0 5\n", 7, "realloc of id 0, which is already freed"),
    BAD("free after realloc to 0", C4 "a 0 1\nr 0 0\nf 0\n", 7, "already freed"),
    BAD("realloc of a never-allocated id to 0", C4 "r 0 0\n", 5, "neither a malloc nor a free"),
    BAD("calloc overflows 64 bits", C4 "c 0 4294967296 4294967296\n", 5, "calloc(4294967296, 4294967296) overflows"),
    BAD("calloc beyond PTRDIFF_MAX", C4 "c 0 2 4611686018427387904\n", 5, "overflows: more than PTRDIFF_MAX"),
    BAD("calloc without a size", C4 "c 0 16\n", 5, "'c' request: missing size"),
    BAD("memalign not a power of two", C4 "m 0 24 1\n", 5, "alignment 24 is not a power of two"),
    BAD("memalign below 8", C4 "m 0 4 1\n", 5, "alignment 4 is not a power of two from 8"),
    BAD("memalign of 0", C4 "m 0 0 1\n", 5, "alignment 0 is not"),
    BAD("memalign beyond 2^62", C4 "m 0 9223372036854775808 1\n", 5, "is not a power of two from 8 to 2^62"),
    BAD("memalign without a size", C4 "m 0 16\n", 5, "'m' request: missing size"),
    BAD("NUL bytes in a request", C4 "a 0 1\n\0\0\0\0\n", 6, "NUL byte: binary data"),
    BAD("NUL byte after a number", C4 "a 0 1\0\n", 5, "NUL byte"),
    BAD("NUL byte in a comment", C4 "# x\0y\n", 5, "NUL byte"),
    BAD("NUL byte in the header", "200\0" "00\n4\n8\n1\n", 1, "NUL byte"),
    BAD("ELF header", "\x7f" "ELF\x02\x01\x01\0\0\0", 1, "unexpected byte 0x7f: binary data"),
    BAD("high bytes as op", C4 "\xff\xfe 0 1\n", 5, "unknown request: '\\xff\\xfe'"),
    BAD("CRLF lines still count", "20000\r\n4\r\n8\r\n1\r\n# c\r\n\r\nq 0 1\r\n", 7, "unknown request"),
    BAD("num_ids 0 uses no id", "0\n0\n1\n0\na 0 1\n", 5, "id 0 out of range: num_ids is 0"),
    BAD_D("forced CMU, ignore_ranges 5", HL_DIALECT_CMU, "1\n4\n8\n5\n", 4, "ignore_ranges is 5, must be 0 or 1"),
    BAD_D("forced CMU, weight 20000", HL_DIALECT_CMU, C4, 1, "CMU header: weight is 20000"),
    BAD_D("forced CMU names the fields", HL_DIALECT_CMU, "-1\n4\n8\n1\n", 1, "negative weight"),
    BAD_D("invalid dialect", (enum hl_dialect)7, C4, 1, "invalid dialect"),
};

#define NBAD (int)(sizeof bad_inputs / sizeof bad_inputs[0])

START_TEST(bad_input_is_rejected_with_file_and_line)
{
    const struct bad *b = &bad_inputs[_i];
    struct hl_trace t;
    char err[ERRLEN], want[64];
    memset(&t, 0xa5, sizeof t);
    int r = parse_n(b->text, b->len, b->dialect, &t, err);
    ck_assert_msg(r == -1, "%s: accepted", b->name);
    snprintf(want, sizeof want, "t.rep:%u: ", b->line);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: want line %u, got \"%s\"", b->name, b->line, err);
    ck_assert_msg(strstr(err, b->frag) != NULL, "%s: want \"%s\" in \"%s\"", b->name, b->frag, err);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s: newline in \"%s\"", b->name, err);
    assert_zeroed(&t);
    hl_trace_free(&t); /* a zeroed trace frees */
}
END_TEST

START_TEST(error_message_fits_a_small_buffer)
{
    struct hl_trace t;
    char err[12];
    memset(err, 'x', sizeof err);
    ck_assert_int_eq(hl_trace_parse("a-long-file-name.rep", C4 "x\n", sizeof C4 + 1, NULL, &t, err, sizeof err), -1);
    ck_assert_ptr_nonnull(memchr(err, '\0', sizeof err));
    ck_assert_int_eq(hl_trace_parse("t.rep", "", 0, NULL, &t, NULL, 0), -1); /* no buffer at all */
}
END_TEST

/* Random damage to a good trace: the parser answers 0 or a clean error,
 * never crashes, and what it accepts keeps the header's promise (every id
 * valid, every operation legal at its point).  Fixed seed. */
START_TEST(damaged_traces_never_half_parse)
{
    static const char good[] = "20000\n5\n12\n1\na 0 16\na 1 32\nr 0 64\nf 1\nc 2 3 8\nm 3 64 10\nf -1\n"
                               "r 4 7\nf 0\na 1\nr 2 0\nf 3\n";
    unsigned long long seed = 12345;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = sizeof good - 1;
        memcpy(buf, good, len);
        int edits = 1 + (int)(seed % 4);
        for (int k = 0; k < edits; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned x = (unsigned)(seed >> 33);
            size_t at = x % (len + 1);
            static const char alphabet[] = "0123456789 -\n\r\t#afrcmx\0\xff";
            char c = alphabet[(x >> 8) % (sizeof alphabet - 1)];
            switch ((x >> 16) % 4) {
            case 0: /* replace */
                if (at < len)
                    buf[at] = c;
                break;
            case 1: /* insert */
                if (len < sizeof buf - 1) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            case 2: /* delete */
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            default: /* truncate */
                len = at;
                break;
            }
        }
        struct hl_trace t;
        char err[ERRLEN];
        if (parse_n(buf, len, HL_DIALECT_AUTO, &t, err) != 0) {
            ck_assert_msg(strncmp(err, "t.rep:", 6) == 0 && err[6] >= '1' && err[6] <= '9', "bad message %s", err);
            assert_zeroed(&t);
            continue;
        }
        ck_assert_uint_eq(t.nops, t.num_ops);
        enum { NEVER, LIVE, DEAD };
        unsigned char *st = calloc(t.num_ids + 1, 1);
        ck_assert_ptr_nonnull(st);
        for (uint64_t i = 0; i < t.nops; i++) {
            const struct hl_op *op = &t.ops[i];
            if (op->type == HL_OP_FREE && op->id == HL_ID_NULL)
                continue;
            ck_assert_uint_lt(op->id, t.num_ids);
            unsigned char *s = &st[op->id];
            if (op->type == HL_OP_FREE) {
                ck_assert(*s == LIVE);
                *s = DEAD;
            } else if (op->type == HL_OP_REALLOC) {
                ck_assert(*s == LIVE || (*s == NEVER && op->size > 0));
                *s = op->size > 0 ? LIVE : DEAD;
            } else {
                ck_assert(*s != LIVE);
                *s = LIVE;
            }
        }
        free(st);
        hl_trace_free(&t);
    }
}
END_TEST

/* ---- files --------------------------------------------------------------- */

static void setup_tmp(void) { make_tmpdir(); }
static void teardown_tmp(void) { remove_tmpdir(); }

static void load_fails(const char *path, const char *frag)
{
    struct hl_trace t;
    char err[ERRLEN];
    memset(&t, 0xa5, sizeof t);
    ck_assert_int_eq(hl_trace_load(path, NULL, &t, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':', "no path in \"%s\"", err);
    ck_assert_msg(strstr(err, frag) != NULL, "want \"%s\" in \"%s\"", frag, err);
    assert_zeroed(&t);
}

START_TEST(load_directory)
{
    load_fails(tmpdir, "is a directory");
}
END_TEST

START_TEST(load_missing_file)
{
    char p[512];
    load_fails(tmp_path("no-such.rep", p, sizeof p), "cannot open: No such file or directory");
}
END_TEST

START_TEST(load_unreadable_paths)
{
    char p[512], q[600], link[512];
    /* a dangling symlink */
    tmp_path("dangling.rep", link, sizeof link);
    ck_assert_int_eq(symlink(tmp_path("gone.rep", p, sizeof p), link), 0);
    load_fails(link, "cannot open");
    /* a path through a regular file: unreadable even for root */
    tmp_path("plain.rep", p, sizeof p);
    write_file(p, C4, sizeof C4 - 1);
    snprintf(q, sizeof q, "%s/x.rep", p);
    load_fails(q, "Not a directory");
    /* no read permission: root reads anyway, so only checked for others */
    ck_assert_int_eq(chmod(p, 0), 0);
    if (geteuid() == 0)
        fprintf(stderr, "trace: load_unreadable_paths: chmod 000 case SKIPPED: running as root\n");
    else
        load_fails(p, "Permission denied");
}
END_TEST

START_TEST(load_empty_file)
{
    char p[512];
    tmp_path("empty.rep", p, sizeof p);
    write_file(p, "", 0);
    load_fails(p, ":1: empty file");
}
END_TEST

START_TEST(load_bad_file_names_path_and_line)
{
    char p[512];
    tmp_path("bad.rep", p, sizeof p);
    static const char text[] = "# made by hand\n20000\n4\n8\n1\na 0 1\nf 2\n";
    write_file(p, text, sizeof text - 1);
    load_fails(p, ":7: free of id 2, which was never allocated");
}
END_TEST

/* A file of exactly one page with no final newline: a read past the end of
 * the mapping would fault. */
START_TEST(load_maps_without_reading_past_the_end)
{
    long page = sysconf(_SC_PAGESIZE);
    char *text = malloc((size_t)page);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, (size_t)page, "0\n1\n%d\n0\n", 2);
    memset(text + n, ' ', (size_t)page - (size_t)n);
    memcpy(text + n, "a 0 7\n", 6);
    memcpy(text + page - 6, "r 0 77", 6); /* ends on a digit, no newline */
    char p[512];
    tmp_path("page.rep", p, sizeof p);
    write_file(p, text, (size_t)page);
    free(text);
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_msg(hl_trace_load(p, NULL, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.nops, 2);
    assert_op(&t.ops[1], HL_OP_REALLOC, 0, 77);
    ck_assert_str_eq(t.path, p);
    hl_trace_free(&t);
}
END_TEST

static const char small_trace[] = "0\n3\n5\n0\na 0 10\nc 1 2 5\nf 0\nm 2 16 3\nr 1 40\n";

static void check_small(const struct hl_trace *t)
{
    ck_assert_int_eq(t->dialect, HL_DIALECT_CMU);
    ck_assert_uint_eq(t->nops, 5);
    assert_op(&t->ops[0], HL_OP_ALLOC, 0, 10);
    assert_op(&t->ops[1], HL_OP_CALLOC, 1, 10);
    assert_op(&t->ops[2], HL_OP_FREE, 0, 0);
    assert_op(&t->ops[3], HL_OP_MEMALIGN, 2, 3);
    assert_op(&t->ops[4], HL_OP_REALLOC, 1, 40);
}

static void write_gz(const char *path, const char *data, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

START_TEST(load_gzip)
{
    char p[512];
    tmp_path("small.rep.gz", p, sizeof p);
    write_gz(p, small_trace, sizeof small_trace - 1);
    struct hl_trace t;
    char err[ERRLEN];
    ck_assert_msg(hl_trace_load(p, NULL, &t, err, sizeof err) == 0, "%s", err);
    check_small(&t);
    ck_assert_str_eq(t.path, p);
    hl_trace_free(&t);
}
END_TEST

START_TEST(load_gzip_errors)
{
    /* compressed data cut short */
    char p[512], big[8192];
    tmp_path("cut.rep.gz", p, sizeof p);
    int n = snprintf(big, sizeof big, "0\n400\n400\n0\n");
    for (int i = 0; i < 400; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "a %d %d\n", i, i * 7919 % 1000);
    write_gz(p, big, (size_t)n);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(truncate(p, st.st_size / 2), 0);
    load_fails(p, "gzip");
    /* a good stream holding a bad trace: file and line as usual */
    tmp_path("bad.rep.gz", p, sizeof p);
    write_gz(p, C4 "a 0 1\nz\n", sizeof C4 + 7);
    load_fails(p, ":6: unknown request");
    /* an empty .gz file */
    tmp_path("empty.rep.gz", p, sizeof p);
    write_file(p, "", 0);
    load_fails(p, ":1: empty file");
}
END_TEST

/* A trace big enough to make the read buffer grow several times. */
static size_t big_trace(char **out, unsigned nids)
{
    size_t cap = (size_t)nids * 40 + 64, len = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    len += (size_t)snprintf(s, cap, "1\n%u\n%u\n0\n", nids, 2 * nids);
    for (unsigned i = 0; i < nids; i++)
        len += (size_t)snprintf(s + len, cap - len, "a %u %u\n", i, 1 + i % 4093);
    for (unsigned i = 0; i < nids; i++)
        len += (size_t)snprintf(s + len, cap - len, "f %u\n", nids - 1 - i);
    *out = s;
    return len;
}

static pid_t spawn_writer(int fd_or_neg, const char *fifo, const char *data, size_t len)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fd = fifo ? open(fifo, O_WRONLY) : fd_or_neg;
        if (fd < 0)
            _exit(2);
        while (len > 0) {
            ssize_t w = write(fd, data, len);
            if (w <= 0)
                _exit(3);
            data += w;
            len -= (size_t)w;
        }
        _exit(0);
    }
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(load_stdin_pipe)
{
    char *text;
    size_t len = big_trace(&text, 60000);
    ck_assert_uint_gt(len, 4 * 65536);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = spawn_writer(fds[1], NULL, text, len);
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    struct hl_trace t;
    char err[ERRLEN];
    int r = hl_trace_load("-", NULL, &t, err, sizeof err);
    dup2(saved, STDIN_FILENO);
    close(saved);
    reap(pid);
    free(text);
    ck_assert_msg(r == 0, "%s", err);
    ck_assert_str_eq(t.path, "-");
    ck_assert_uint_eq(t.nops, 120000);
    assert_op(&t.ops[119999], HL_OP_FREE, 0, 0);
    hl_trace_free(&t);
}
END_TEST

START_TEST(load_stdin_errors_name_stdin)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = spawn_writer(fds[1], NULL, C4 "f 0\n", sizeof C4 + 3);
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    struct hl_trace t;
    char err[ERRLEN];
    int r = hl_trace_load("-", NULL, &t, err, sizeof err);
    dup2(saved, STDIN_FILENO);
    close(saved);
    reap(pid);
    ck_assert_int_eq(r, -1);
    ck_assert_msg(strncmp(err, "<stdin>:5: free of id 0", 23) == 0, "%s", err);
}
END_TEST

START_TEST(load_fifo)
{
    char p[512];
    tmp_path("trace.fifo", p, sizeof p);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    pid_t pid = spawn_writer(-1, p, small_trace, sizeof small_trace - 1);
    struct hl_trace t;
    char err[ERRLEN];
    int r = hl_trace_load(p, NULL, &t, err, sizeof err);
    reap(pid);
    ck_assert_msg(r == 0, "%s", err);
    check_small(&t);
    hl_trace_free(&t);
}
END_TEST

START_TEST(load_char_device)
{
    load_fails("/dev/null", ":1: empty file");
}
END_TEST

/* ---- quirks -------------------------------------------------------------- */

START_TEST(quirk_extra_lines_are_counted_not_parsed)
{
    /* the third request would be an error if it were parsed */
    struct hl_trace t;
    parse_ok("1\n2\n2\n0\na 0 1\na 1 2\na 0 3\n\n   # comment\nnot even a request\n\n", HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(t.nops, 2);
    ck_assert_uint_eq(t.quirks.extra_lines, 2);
    hl_trace_free(&t);
}
END_TEST

START_TEST(quirk_alloc_without_size_reuses_the_previous_size)
{
    struct hl_trace t;
    parse_ok("1\n4\n6\n0\na 0 16\na 1\nr 1 40\na 2 \t\nf 2\na 2 # a comment is no size\n", HL_DIALECT_AUTO, &t);
    assert_op(&t.ops[1], HL_OP_ALLOC, 1, 16);
    assert_op(&t.ops[3], HL_OP_ALLOC, 2, 40);
    assert_op(&t.ops[5], HL_OP_ALLOC, 2, 40);
    ck_assert_uint_eq(t.quirks.alloc_without_size, 3);
    hl_trace_free(&t);
}
END_TEST

START_TEST(quirk_free_null)
{
    struct hl_trace t;
    parse_ok("1\n1\n3\n0\nf -1\na 0 1\nf -1\n", HL_DIALECT_AUTO, &t);
    assert_op(&t.ops[0], HL_OP_FREE, HL_ID_NULL, 0);
    assert_op(&t.ops[2], HL_OP_FREE, HL_ID_NULL, 0);
    ck_assert_uint_eq(t.quirks.free_null, 2);
    hl_trace_free(&t);
}
END_TEST

START_TEST(quirk_realloc_of_unallocated_id_is_malloc)
{
    struct hl_trace t;
    parse_ok("1\n2\n4\n0\nr 0 16\nr 0 32\nf 0\nr 1 8\n", HL_DIALECT_AUTO, &t);
    assert_op(&t.ops[0], HL_OP_REALLOC, 0, 16);
    assert_op(&t.ops[3], HL_OP_REALLOC, 1, 8);
    ck_assert_uint_eq(t.quirks.realloc_unallocated, 2);
    hl_trace_free(&t);
}
END_TEST

START_TEST(quirk_realloc_to_zero_frees)
{
    struct hl_trace t;
    parse_ok("1\n1\n4\n0\na 0 5\nr 0 0\na 0 7\nr 0 0\n", HL_DIALECT_AUTO, &t);
    assert_op(&t.ops[1], HL_OP_REALLOC, 0, 0);
    ck_assert_uint_eq(t.quirks.realloc_zero, 2);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 7);
    hl_trace_free(&t);
}
END_TEST

START_TEST(quirks_are_printed_one_line_each)
{
    struct hl_trace t;
    parse_ok("1\n2\n4\n0\nr 0 16\nf -1\nf -1\nr 0 0\nextra\n", HL_DIALECT_AUTO, &t);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    hl_trace_print_quirks(&t, f);
    fclose(f);
    ck_assert_str_eq(text, "heaplab: warning: t.rep: 1 request lines beyond num_ops (ignored)\n"
                           "heaplab: warning: t.rep: 2 'f -1' (free(NULL))\n"
                           "heaplab: warning: t.rep: 1 'r' on an id never allocated (malloc)\n"
                           "heaplab: warning: t.rep: 1 'r id 0' (realloc to 0 frees the block)\n");
    free(text);
    hl_trace_free(&t);
}
END_TEST

/* ---- syntax, dialects, extensions ---------------------------------------- */

START_TEST(crlf_tabs_blanks_and_comments)
{
    static const char clean[] = "20000\n3\n6\n1\na 0 10\na 1 20\nr 0 30\nf 1\nc 2 4 5\nm 1 32 7\n";
    static const char messy[] = "# a hand-written trace\r\n"
                                "\r\n"
                                "  20000\t# sugg_heapsize\r\n"
                                "# between header fields\r\n"
                                "3\r\n"
                                "\t6 \r\n"
                                "1\r\n"
                                "\r\n"
                                "a\t0   10\r\n"
                                "  # inside the requests\n"
                                "a 1\t\t20 # trailing comment\r\n"
                                "\n"
                                "r  0  30\r\n"
                                "f 1#no space\r\n"
                                "c 2 4 5\r\n"
                                "m\t1\t32\t7"; /* no final newline */
    struct hl_trace a, b;
    parse_ok(clean, HL_DIALECT_AUTO, &a);
    parse_ok(messy, HL_DIALECT_AUTO, &b);
    ck_assert_uint_eq(a.nops, b.nops);
    ck_assert_int_eq(memcmp(a.ops, b.ops, a.nops * sizeof *a.ops), 0);
    ck_assert_uint_eq(b.sugg_heapsize, 20000);
    hl_trace_free(&a);
    hl_trace_free(&b);
}
END_TEST

START_TEST(header_numbers_may_share_a_line)
{
    struct hl_trace t;
    parse_ok("20000 2 2 1\na 0 1\na 1 2\n", HL_DIALECT_AUTO, &t);
    ck_assert_int_eq(t.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(t.num_ids, 2);
    hl_trace_free(&t);
}
END_TEST

START_TEST(dialect_classic_detected)
{
    struct hl_trace t;
    parse_ok("100\n1\n1\n1\na 0 8\n", HL_DIALECT_AUTO, &t); /* realloc-bal.rep's small heap */
    ck_assert_int_eq(t.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(t.sugg_heapsize, 100);
    ck_assert_uint_eq(t.weight, 1);
    ck_assert_uint_eq(t.ignore_ranges, 0);
    hl_trace_free(&t);
    parse_ok("4\n1\n1\n0\na 0 8\n", HL_DIALECT_AUTO, &t); /* weight 4 is no CMU weight */
    ck_assert_int_eq(t.dialect, HL_DIALECT_CLASSIC);
    hl_trace_free(&t);
    parse_ok("1\n1\n1\n2\na 0 8\n", HL_DIALECT_AUTO, &t); /* nor ignore_ranges 2 */
    ck_assert_int_eq(t.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(t.sugg_heapsize, 1);
    ck_assert_uint_eq(t.weight, 2);
    hl_trace_free(&t);
}
END_TEST

START_TEST(dialect_cmu_detected)
{
    struct hl_trace t;
    parse_ok("1\n1\n1\n0\na 0 8\n", HL_DIALECT_AUTO, &t);
    ck_assert_int_eq(t.dialect, HL_DIALECT_CMU);
    ck_assert_uint_eq(t.weight, 1);
    ck_assert_uint_eq(t.ignore_ranges, 0);
    ck_assert_uint_eq(t.sugg_heapsize, 0);
    hl_trace_free(&t);
    parse_ok("3\n1\n1\n1\na 0 8\n", HL_DIALECT_AUTO, &t); /* Autolab weights go to 3 */
    ck_assert_int_eq(t.dialect, HL_DIALECT_CMU);
    ck_assert_uint_eq(t.weight, 3);
    ck_assert_uint_eq(t.ignore_ranges, 1);
    hl_trace_free(&t);
}
END_TEST

START_TEST(dialect_forced)
{
    struct hl_trace t;
    /* a classic header that suggests a 1-byte heap reads as CMU unless forced */
    parse_ok("1\n1\n1\n0\na 0 8\n", HL_DIALECT_CLASSIC, &t);
    ck_assert_int_eq(t.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(t.sugg_heapsize, 1);
    ck_assert_uint_eq(t.weight, 0);
    hl_trace_free(&t);
    parse_ok("0\n1\n1\n1\na 0 8\n", HL_DIALECT_CMU, &t);
    ck_assert_int_eq(t.dialect, HL_DIALECT_CMU);
    ck_assert_uint_eq(t.ignore_ranges, 1);
    hl_trace_free(&t);
    /* NULL options mean AUTO */
    ck_assert_int_eq(hl_trace_parse("t.rep", "0\n0\n0\n0\n", 8, NULL, &t, NULL, 0), 0);
    ck_assert_int_eq(t.dialect, HL_DIALECT_CMU);
    ck_assert_uint_eq(t.nops, 0);
    hl_trace_free(&t);
}
END_TEST

START_TEST(extension_ops)
{
    struct hl_trace t;
    parse_ok("0\n4\n9\n0\nc 0 3 8\nm 1 64 100\nc 2 0 5\nm 3 8 0\nr 1 200\nf 0\nf 1\nc 0 1 9223372036854775807\n"
             "m 1 4611686018427387904 1\n",
             HL_DIALECT_AUTO, &t);
    assert_op(&t.ops[0], HL_OP_CALLOC, 0, 24);
    assert_op(&t.ops[1], HL_OP_MEMALIGN, 1, 100);
    ck_assert_uint_eq(t.ops[1].align_log2, 6);
    assert_op(&t.ops[2], HL_OP_CALLOC, 2, 0);
    ck_assert_uint_eq(t.ops[3].align_log2, 3);
    assert_op(&t.ops[4], HL_OP_REALLOC, 1, 200);
    assert_op(&t.ops[7], HL_OP_CALLOC, 0, (uint64_t)PTRDIFF_MAX);
    ck_assert_uint_eq(t.ops[8].align_log2, 62);
    for (uint64_t i = 0; i < t.nops; i++)
        ck_assert_uint_eq(t.ops[i].reserved, 0);
    ck_assert_uint_eq(sizeof(struct hl_op), 16);
    hl_trace_free(&t);
}
END_TEST

/* ---- writer and peak ------------------------------------------------------ */

static void round_trip(const struct hl_trace *a)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hl_trace_write(a, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    unsigned long long first = strtoull(text, NULL, 10);
    ck_assert_uint_eq(first, hl_trace_peak_live(a));
    struct hl_trace b;
    char err[ERRLEN];
    int r = parse_n(text, len, HL_DIALECT_CLASSIC, &b, err);
    ck_assert_msg(r == 0, "re-parse: %s", err);
    free(text);
    ck_assert_int_eq(b.dialect, HL_DIALECT_CLASSIC);
    ck_assert_uint_eq(b.weight, 1);
    ck_assert_uint_eq(b.num_ids, a->num_ids);
    ck_assert_uint_eq(b.nops, a->nops);
    ck_assert_int_eq(memcmp(a->ops, b.ops, a->nops * sizeof *a->ops), 0);
    ck_assert_uint_eq(b.quirks.free_null, a->quirks.free_null);
    ck_assert_uint_eq(b.quirks.realloc_unallocated, a->quirks.realloc_unallocated);
    ck_assert_uint_eq(b.quirks.realloc_zero, a->quirks.realloc_zero);
    ck_assert_uint_eq(b.quirks.alloc_without_size, 0); /* written with its size */
    ck_assert_uint_eq(b.quirks.extra_lines, 0);
    hl_trace_free(&b);
}

START_TEST(writer_round_trip)
{
    struct hl_trace t;
    parse_ok("1\n6\n14\n0\na 0 10\na 1\nr 2 30\nf -1\nc 3 7 9\nm 4 4096 5000\nr 0 0\nf 1\nr 2 1\nf 3\n"
             "a 5 9223372036854775807\nf 5\nm 5 8 0\nc 1 0 3\njunk beyond num_ops\n",
             HL_DIALECT_AUTO, &t);
    round_trip(&t);
    hl_trace_free(&t);
    parse_ok("0\n0\n0\n0\n", HL_DIALECT_AUTO, &t); /* no ops at all */
    round_trip(&t);
    hl_trace_free(&t);
}
END_TEST

START_TEST(writer_exact_text)
{
    struct hl_trace t;
    parse_ok("1\n3\n6\n1\na 0 10\nf -1\nc 1 2 3\nm 2 16 4\nr 0 20\nf 1\n", HL_DIALECT_AUTO, &t);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(hl_trace_write(&t, f), 0);
    fclose(f);
    ck_assert_str_eq(text, "30\n3\n6\n1\na 0 10\nf -1\nc 1 1 6\nm 2 16 4\nr 0 20\nf 1\n");
    free(text);
    hl_trace_free(&t);
}
END_TEST

START_TEST(writer_reports_write_errors)
{
    struct hl_trace t;
    parse_ok("1\n1\n1\n1\na 0 10\n", HL_DIALECT_AUTO, &t);
    FILE *f = fopen("/dev/null", "r"); /* a stream that cannot be written */
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hl_trace_write(&t, f), -1);
    fclose(f);
    hl_trace_free(&t);
}
END_TEST

START_TEST(peak_live_by_hand)
{
    struct hl_trace t;
    /* live after each op: 10 30 20 50 62 62 12 112 100 */
    parse_ok("0\n4\n9\n0\na 0 10\na 1 20\nf 0\nr 1 50\nc 2 3 4\nf -1\nr 1 0\nm 3 16 100\nf 2\n", HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 112);
    hl_trace_free(&t);
    /* realloc of a never-allocated id counts its size; shrinking lowers it:
     * 100 30 80 30 90 */
    parse_ok("0\n2\n5\n0\nr 0 100\nr 0 30\na 1 50\nf 1\na 1 60\n", HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 100);
    hl_trace_free(&t);
    /* 'a id' without a size counts the reused size: 8 16 8 24 */
    parse_ok("0\n3\n4\n0\na 0 8\na 1\nf 0\na 2 16\n", HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 24);
    hl_trace_free(&t);
    parse_ok("0\n0\n0\n0\n", HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(hl_trace_peak_live(&t), 0);
    hl_trace_free(&t);
}
END_TEST

START_TEST(peak_live_saturates)
{
    struct hl_trace t;
    parse_ok("0\n3\n4\n0\na 0 9223372036854775807\na 1 9223372036854775807\na 2 9223372036854775807\nf 0\n",
             HL_DIALECT_AUTO, &t);
    ck_assert_uint_eq(hl_trace_peak_live(&t), UINT64_MAX);
    hl_trace_free(&t);
    /* a hand-built trace with ids out of range is not a crash */
    struct hl_op ops[2] = {{.size = 5, .id = 0, .type = HL_OP_ALLOC}, {.size = 7, .id = 9, .type = HL_OP_ALLOC}};
    struct hl_trace h = {.num_ids = 1, .ops = ops, .nops = 2, .num_ops = 2};
    ck_assert_uint_eq(hl_trace_peak_live(&h), 5);
}
END_TEST

/* ---- the shared malloc-lab traces ----------------------------------------- */

/* Quirk counts and peaks of some shared traces.  The peaks come from a
 * separate model of the CMU mdriver's eval_mm_util run over the same
 * files while this parser was written, not from this code. */
static const struct known {
    const char *file;
    uint64_t extra, nosize, free_null, realloc_unalloc, realloc_zero, peak;
} known[] = {
    {"amptjp-bal.rep", 0, 0, 0, 0, 0, 2012279},
    {"realloc-bal.rep", 0, 0, 0, 0, 0, 615040},
    {"binary2-bal.rep", 0, 0, 0, 0, 0, 576000},
    {"cmu-15213/alaska.rep", 1, 29923, 0, 0, 0, 31664},
    {"cmu-15213/corners.rep", 0, 0, 1, 1, 1, 100470},
    {"cmu-15213/freeciv.rep", 0, 0, 582, 4, 0, 5074109},
    {"cmu-15213/boat.rep", 0, 0, 0, 0, 0, 528524},
    {"cmu-15213/login.rep", 0, 0, 4, 53, 0, 917146},
    {"cmu-15213/lrucd.rep", 1, 0, 0, 0, 0, 5144},
    {"cmu-15213/nlydf.rep", 1, 0, 0, 0, 0, 21824},
    {"cmu-15213/qyqyc.rep", 1, 0, 0, 0, 0, 7018},
    {"cmu-15213/rulsr.rep", 1, 0, 0, 0, 0, 8320},
};

/* num_ops as the header says, read independently with stdio */
static uint64_t header_num_ops(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    unsigned long long h[3];
    ck_assert_int_eq(fscanf(f, "%llu %llu %llu", &h[0], &h[1], &h[2]), 3);
    fclose(f);
    return h[2];
}

static int load_folder(const char *dir, const char *sub, enum hl_dialect want)
{
    char path[1536];
    snprintf(path, sizeof path, "%s%s%s", dir, *sub ? "/" : "", sub);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "trace: SKIPPED: no folder %s\n", path);
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".rep") != 0)
            continue;
        char file[2048];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        struct hl_trace t;
        char err[ERRLEN];
        ck_assert_msg(hl_trace_load(file, NULL, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(t.dialect == want, "%s: dialect %d", file, (int)t.dialect);
        ck_assert_uint_eq(t.num_ops, header_num_ops(file));
        ck_assert_uint_eq(t.nops, t.num_ops);
        ck_assert_uint_gt(t.nops, 0);
        char rel[512];
        snprintf(rel, sizeof rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
            if (strcmp(known[k].file, rel) != 0)
                continue;
            ck_assert_uint_eq(t.quirks.extra_lines, known[k].extra);
            ck_assert_uint_eq(t.quirks.alloc_without_size, known[k].nosize);
            ck_assert_uint_eq(t.quirks.free_null, known[k].free_null);
            ck_assert_uint_eq(t.quirks.realloc_unallocated, known[k].realloc_unalloc);
            ck_assert_uint_eq(t.quirks.realloc_zero, known[k].realloc_zero);
            ck_assert_uint_eq(hl_trace_peak_live(&t), known[k].peak);
        }
        round_trip(&t);
        hl_trace_free(&t);
        n++;
    }
    closedir(d);
    ck_assert_msg(n > 0, "no .rep files in %s", path);
    return n;
}

START_TEST(shared_classic_traces_load)
{
    const char *dir = tl_malloclab_dir("trace", "shared_classic_traces_load");
    if (dir)
        load_folder(dir, "", HL_DIALECT_CLASSIC);
}
END_TEST

START_TEST(shared_cmu_traces_load)
{
    const char *dir = tl_malloclab_dir("trace", "shared_cmu_traces_load");
    if (dir)
        load_folder(dir, "cmu-15213", HL_DIALECT_CMU);
}
END_TEST

START_TEST(shared_trace_through_gzip)
{
    const char *dir = tl_malloclab_dir("trace", "shared_trace_through_gzip");
    if (!dir)
        return;
    char src[1536];
    snprintf(src, sizeof src, "%s/cmu-15213/alaska.rep", dir);
    struct hl_trace a, b;
    char err[ERRLEN];
    ck_assert_msg(hl_trace_load(src, NULL, &a, err, sizeof err) == 0, "%s", err);
    /* the same bytes, compressed */
    FILE *f = fopen(src, "rb");
    ck_assert_ptr_nonnull(f);
    static char data[1 << 20];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    ck_assert_uint_lt(len, sizeof data);
    char gz[512];
    tmp_path("alaska.rep.gz", gz, sizeof gz);
    write_gz(gz, data, len);
    ck_assert_msg(hl_trace_load(gz, NULL, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(a.nops, b.nops);
    ck_assert_int_eq(memcmp(a.ops, b.ops, a.nops * sizeof *a.ops), 0);
    ck_assert_int_eq(memcmp(&a.quirks, &b.quirks, sizeof a.quirks), 0);
    hl_trace_free(&b);
    hl_trace_free(&a);
}
END_TEST

Suite *make_trace_suite(void)
{
    Suite *s = suite_create("trace");

    TCase *tc = tcase_create("bad input");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bad_input_is_rejected_with_file_and_line, 0, NBAD);
    tcase_add_test(tc, error_message_fits_a_small_buffer);
    tcase_add_test(tc, damaged_traces_never_half_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, load_directory);
    tcase_add_test(tc, load_missing_file);
    tcase_add_test(tc, load_unreadable_paths);
    tcase_add_test(tc, load_empty_file);
    tcase_add_test(tc, load_bad_file_names_path_and_line);
    tcase_add_test(tc, load_maps_without_reading_past_the_end);
    tcase_add_test(tc, load_gzip);
    tcase_add_test(tc, load_gzip_errors);
    tcase_add_test(tc, load_stdin_pipe);
    tcase_add_test(tc, load_stdin_errors_name_stdin);
    tcase_add_test(tc, load_fifo);
    tcase_add_test(tc, load_char_device);
    suite_add_tcase(s, tc);

    tc = tcase_create("quirks");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, quirk_extra_lines_are_counted_not_parsed);
    tcase_add_test(tc, quirk_alloc_without_size_reuses_the_previous_size);
    tcase_add_test(tc, quirk_free_null);
    tcase_add_test(tc, quirk_realloc_of_unallocated_id_is_malloc);
    tcase_add_test(tc, quirk_realloc_to_zero_frees);
    tcase_add_test(tc, quirks_are_printed_one_line_each);
    suite_add_tcase(s, tc);

    tc = tcase_create("format");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, crlf_tabs_blanks_and_comments);
    tcase_add_test(tc, header_numbers_may_share_a_line);
    tcase_add_test(tc, dialect_classic_detected);
    tcase_add_test(tc, dialect_cmu_detected);
    tcase_add_test(tc, dialect_forced);
    tcase_add_test(tc, extension_ops);
    tcase_add_test(tc, writer_round_trip);
    tcase_add_test(tc, writer_exact_text);
    tcase_add_test(tc, writer_reports_write_errors);
    tcase_add_test(tc, peak_live_by_hand);
    tcase_add_test(tc, peak_live_saturates);
    suite_add_tcase(s, tc);

    tc = tcase_create("shared traces");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, shared_classic_traces_load);
    tcase_add_test(tc, shared_cmu_traces_load);
    tcase_add_test(tc, shared_trace_through_gzip);
    suite_add_tcase(s, tc);
    return s;
}
