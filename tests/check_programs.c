/*
 * check_programs.c - real programs under the drop-in malloc give what they
 * give under glibc's: python3, perl and sqlite3 on the workloads of
 * tests/programs/, sort of a generated file, gcc -O2 -c of one of the
 * project's C files.  Each runs once under glibc (nothing preloaded) and
 * once through `heaplab run -p POLICY` for every policy in the registry;
 * standard output, the exit status and, for gcc, the object file must be
 * the same byte for byte.  Hash seeds are fixed, so the same input makes
 * the same output under any malloc.
 *
 * The scales are the tests': a few seconds for every policy together, the
 * list policies (a malloc walks every free block) included; the benchmark
 * (make bench-preload) runs the same workloads larger.  A program that is
 * not installed, or that fails under glibc too, is skipped with one line.
 * Needs $HEAPLAB_BIN (make test sets it), like the preload suite.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heaplab/policies.h"
#include "testutil.h"

/* A program and how to run it.  In argv and input, {src} is the source
 * tree, {tmp} the suite's folder and {out} the file the run writes. */
struct program {
    const char *name;     /* what the SKIPPED line names */
    const char *exe;      /* what must be installed */
    const char *env[3];   /* settings for both runs */
    const char *argv[16]; /* the command */
    const char *input;    /* its standard input, or NULL */
    int product;          /* 1: it writes {out}, compared too */
};

enum { PYTHON3, PERL, SQLITE3, SORT, GCC, NPROGRAMS };

static const struct program programs[NPROGRAMS] = {
    /* /usr/bin/python3: the first python3 on PATH may be another
     * interpreter, with a malloc of its own */
    [PYTHON3] = {"python3",
                 "/usr/bin/python3",
                 {"PYTHONHASHSEED=0", "PYTHONMALLOC=malloc"},
                 {"/usr/bin/python3", "{src}/tests/programs/workload.py", "0.03"}},
    [PERL] = {"perl",
              "perl",
              {"PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0"},
              {"perl", "{src}/tests/programs/workload.pl", "0.05"}},
    [SQLITE3] = {"sqlite3",
                 "sqlite3",
                 {NULL},
                 {"sqlite3", ":memory:", "-cmd", ".parameter set @rows 6000"},
                 "{src}/tests/programs/workload.sql"},
    /* GNU sort sorts a file of this size with a thread a core (up to eight) */
    [SORT] = {"sort", "sort", {"LC_ALL=C"}, {"sort", "-k2,2n", "-k1,1", "{tmp}/sort.in"}},
    /* a policy's file, 240 lines: core/heap.c's 1100 take 8 s under worst fit */
    [GCC] = {"gcc",
             "gcc",
             {NULL},
             {"gcc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-I{src}/include", "-I{src}/policies", "-I{src}/lib", "-c",
              "{src}/policies/tlsf.c", "-o", "{out}"},
             .product = 1},
};

/* 200 000 lines of a hash, a small key and a line number (4.8 MB) */
static const char sort_input[] =
    "awk 'BEGIN { for (i = 0; i < 200000; i++) printf \"%08x %d line %d\\n\", "
    "(i * 2654435761) % 4294967296, i % 977, i }'";

static struct {
    int ready;             /* the fixture found heaplab */
    char bin[1024];        /* heaplab */
    char src[1024];        /* the source tree */
    char dir[256];         /* the suite's folder: inputs, outputs */
    int status[NPROGRAMS]; /* the exit status under glibc */
    int skip[NPROGRAMS];   /* not installed, or failed under glibc */
} pr;

/* template with {src}, {tmp} and {out} replaced, into buf */
static const char *expand(char *buf, size_t len, const char *template, const char *out)
{
    const char *const token[3] = {"{src}", "{tmp}", "{out}"};
    const char *const with[3] = {pr.src, pr.dir, out};
    size_t n = 0;
    for (const char *t = template; *t;) {
        int w = 0;
        while (w < 3 && strncmp(t, token[w], 5) != 0)
            w++;
        const char *piece = w < 3 ? with[w] : t;
        size_t len_piece = w < 3 ? strlen(with[w]) : 1;
        ck_assert_msg(n + len_piece < len, "%s: too long", template);
        memcpy(buf + n, piece, len_piece);
        n += len_piece;
        t += w < 3 ? 5 : 1;
    }
    buf[n] = 0;
    return buf;
}

/* Program k under policy (NULL: glibc), its output in {tmp}/NAME-LABEL.out
 * and .err and its product in {tmp}/NAME-LABEL.o: the exit status. */
static int run(int k, const char *policy)
{
    const struct program *p = &programs[k];
    const char *label = policy ? policy : "glibc";
    char base[400], path[3][420], args[16][1400], in[1400];
    snprintf(base, sizeof base, "%s/%s-%s", pr.dir, p->name, label);
    static const char *const ext[3] = {"out", "err", "o"};
    for (int i = 0; i < 3; i++)
        snprintf(path[i], sizeof path[i], "%s.%s", base, ext[i]);

    const char *argv[24];
    int n = 0;
    if (policy) {
        argv[n++] = pr.bin;
        argv[n++] = "run";
        argv[n++] = "-p";
        argv[n++] = policy;
        argv[n++] = "--";
    }
    for (int i = 0; p->argv[i]; i++)
        argv[n++] = expand(args[i], sizeof args[i], p->argv[i], path[2]);
    argv[n] = NULL;

    int fd[3] = {-1, -1, -1};
    if (p->input) {
        fd[0] = open(expand(in, sizeof in, p->input, NULL), O_RDONLY);
        ck_assert_msg(fd[0] >= 0, "%s: cannot open %s", p->name, in);
    }
    for (int i = 1; i < 3; i++) {
        fd[i] = open(path[i - 1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_msg(fd[i] >= 0, "cannot write %s", path[i - 1]);
    }
    int sig, status = tl_spawn(p->env, argv, fd[0], fd[1], fd[2], &sig);
    for (int i = 0; i < 3; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    return status;
}

/* A file's bytes (freed by the caller), their count in *n. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    *n = fread(buf, 1, (size_t)len, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

/* {tmp}/NAME-glibc.EXT and {tmp}/NAME-POLICY.EXT hold the same bytes; the
 * policy's run's stderr in the message when not */
static void assert_same(int k, const char *policy, const char *ext)
{
    char want_path[400], got_path[400], err_path[400];
    snprintf(want_path, sizeof want_path, "%s/%s-glibc.%s", pr.dir, programs[k].name, ext);
    snprintf(got_path, sizeof got_path, "%s/%s-%s.%s", pr.dir, programs[k].name, policy, ext);
    snprintf(err_path, sizeof err_path, "%s/%s-%s.err", pr.dir, programs[k].name, policy);
    size_t nw, ng, ne, at = 0;
    char *want = slurp(want_path, &nw), *got = slurp(got_path, &ng);
    while (at < nw && at < ng && want[at] == got[at])
        at++;
    if (at < nw || at < ng) {
        char *err = slurp(err_path, &ne);
        ck_abort_msg("%s under %s: its .%s differs from glibc's run's at byte %zu (%zu bytes, glibc's %zu); "
                     "stderr: %.2000s",
                     programs[k].name, policy, ext, at, ng, nw, err);
    }
    free(want);
    free(got);
    unlink(got_path);
}

/* ---- the fixture: heaplab, the input, the runs under glibc (once, in the runner) ---- */

static int installed(const char *exe)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", exe);
    return system(cmd) == 0;
}

/* the first line of program k's stderr under glibc */
static void first_error_line(int k, char *line, size_t len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s-glibc.err", pr.dir, programs[k].name);
    size_t n;
    char *err = slurp(path, &n);
    snprintf(line, len, "%.*s", (int)strcspn(err, "\n"), err);
    free(err);
}

static void setup(void)
{
    const char *bin = getenv("HEAPLAB_BIN"), *src = getenv("HEAPLAB_SRCDIR");
    pr.ready = 0;
    if (!bin || !*bin) {
        fprintf(stderr, "programs: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n");
        return;
    }
    snprintf(pr.bin, sizeof pr.bin, "%s", bin);
    snprintf(pr.src, sizeof pr.src, "%s", src && *src ? src : ".");
    char workloads[1100];
    snprintf(workloads, sizeof workloads, "%s/tests/programs", pr.src);
    ck_assert_msg(access(workloads, R_OK) == 0, "%s: not there (HEAPLAB_SRCDIR is the source tree)", workloads);
    tl_make_tmpdir(pr.dir, sizeof pr.dir, "programs");
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s > %s/sort.in", sort_input, pr.dir);
    ck_assert_msg(system(cmd) == 0, "cannot make the input of sort: %s", cmd);
    for (int k = 0; k < NPROGRAMS; k++) {
        char why[300];
        pr.skip[k] = 0;
        if (!installed(programs[k].exe)) {
            snprintf(why, sizeof why, "%s is not installed", programs[k].exe);
            pr.skip[k] = 1;
        } else if ((pr.status[k] = run(k, NULL)) != 0) {
            char line[200];
            first_error_line(k, line, sizeof line);
            snprintf(why, sizeof why, "fails under glibc too (exit status %d: %s)", pr.status[k], line);
            pr.skip[k] = 1;
        }
        if (pr.skip[k])
            fprintf(stderr, "programs: %s: SKIPPED: %s\n", programs[k].name, why);
    }
    pr.ready = 1;
}

static void teardown(void)
{
    if (pr.dir[0])
        tl_remove_tree(pr.dir);
}

/* Program k under the policy at loop index i: what it gives under glibc. */
static void same_as_glibc(int i, int k)
{
    const struct hl_policy *pol = tl_policy_at(i);
    if (!pol || !pr.ready || pr.skip[k])
        return;
    int status = run(k, pol->name);
    ck_assert_msg(status == pr.status[k], "%s under %s: exit status %d, under glibc %d", programs[k].name,
                  pol->name, status, pr.status[k]);
    assert_same(k, pol->name, "out");
    if (programs[k].product)
        assert_same(k, pol->name, "o");
}

START_TEST(python3_as_under_glibc)
{
    same_as_glibc(_i, PYTHON3);
}
END_TEST

START_TEST(perl_as_under_glibc)
{
    same_as_glibc(_i, PERL);
}
END_TEST

START_TEST(sqlite3_as_under_glibc)
{
    same_as_glibc(_i, SQLITE3);
}
END_TEST

START_TEST(sort_as_under_glibc)
{
    same_as_glibc(_i, SORT);
}
END_TEST

START_TEST(gcc_object_file_as_under_glibc)
{
    same_as_glibc(_i, GCC);
}
END_TEST

Suite *make_programs_suite(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("programs");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    int n = (int)hl_policy_count();
    tcase_add_loop_test(tc, python3_as_under_glibc, 0, n);
    tcase_add_loop_test(tc, perl_as_under_glibc, 0, n);
    tcase_add_loop_test(tc, sqlite3_as_under_glibc, 0, n);
    tcase_add_loop_test(tc, sort_as_under_glibc, 0, n);
    tcase_add_loop_test(tc, gcc_object_file_as_under_glibc, 0, n);
    suite_add_tcase(s, tc);
    return s;
}
