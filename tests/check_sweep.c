/*
 * check_sweep.c - heaplab sweep and heaplab merge, through the binary
 * ($HEAPLAB_BIN): a plan's cell ids stay put when other lines are edited,
 * a bad plan is "file:line: what is wrong" and exit status 2, a cell with a
 * result is not run again, merge refuses mixed versions, mixed plans and a
 * cell twice and names the cells missing, heaplab plot draws the merged
 * file; and the engines (tests/sweep-engines.sh): local, GNU parallel,
 * killed and resumed half-way, the Slurm script by hand, and a single-node
 * Slurm when this machine can start one - each merged result equal to the
 * local one in every deterministic column, no cell missing or twice.
 * Whatever cannot run here (no parallel, no Slurm, not root) says SKIPPED.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[512];
static const char *bin;

static void setup(void) { tl_make_tmpdir(tmpdir, sizeof tmpdir, "sweep-test"); }
static void teardown(void) { tl_remove_tree(tmpdir); }

#define NEED_BIN()                                                                                 \
    do {                                                                                           \
        bin = getenv("HEAPLAB_BIN");                                                               \
        if (!bin || !*bin) {                                                                       \
            fprintf(stderr, "sweep: %s: SKIPPED: HEAPLAB_BIN is not set (run 'make test')\n", __func__); \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Run `sh -c script` in tmpdir with $H the binary and $S the source folder. */
static void sh(struct tl_run *r, const char *script)
{
    char h[1024], s[1024], full[8192];
    const char *src = getenv("HEAPLAB_SRCDIR");
    snprintf(h, sizeof h, "H=%s", bin);
    snprintf(s, sizeof s, "S=%s", src && *src ? src : ".");
    snprintf(full, sizeof full, "cd '%s' && %s", tmpdir, script);
    const char *env[] = {h, s, NULL};
    const char *argv[] = {"sh", "-c", full, NULL};
    tl_run(r, env, argv);
}

static void write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A plan of the bundled traces: 3 traces x 2 presets = 6 cells of 4 rows
 * (no baseline: a sanitizer build has none). */
#define PLAN_OF(baseline)                                                                          \
    "mkdir -p traces && cp \"$S\"/traces/handmade-basic.rep \"$S\"/traces/gen-ramp.rep \"$S\"/traces/gen-random.rep " \
    "traces/ && \"$H\" sweep plan -p best-fit -p tlsf --param tlsf:sl=4,32 --preset linux,malloclab --repeat 1 " \
    "--baseline " baseline " -o plan 'traces/*.rep' 2>/dev/null"
static const char make_plan[] = PLAN_OF("none");

START_TEST(ids_stay_put)
{
    NEED_BIN();
    struct tl_run r;
    sh(&r, make_plan);
    ck_assert_msg(r.status == 0, "%s", r.err);
    sh(&r, "\"$H\" sweep list --ids plan");
    ck_assert_int_eq(r.status, 0);
    char before[sizeof r.out];
    snprintf(before, sizeof before, "%s", r.out);
    ck_assert_uint_eq(strlen(before), 6 * 13);
    /* a line edited (another repeat count), one respaced, one removed, one added */
    sh(&r, "sed -i -e '/^--preset linux.*gen-ramp/s/--repeat 1/--repeat 2/' "
           "-e '/^--preset malloclab.*gen-ramp/s/ -p /    -p /g' -e '/^--preset linux.*handmade/d' plan && "
           "echo \"--preset malloclab -p first-fit 'traces/gen-random.rep'\" >>plan && \"$H\" sweep list plan");
    ck_assert_msg(r.status == 0, "%s", r.err);
    char after[sizeof r.out];
    snprintf(after, sizeof after, "%s", r.out);
    /* the ids of the unchanged (and respaced) lines are there, in order */
    size_t kept = 0;
    for (char *id = strtok(before, "\n"); id; id = strtok(NULL, "\n"))
        kept += strstr(after, id) != NULL;
    ck_assert_uint_eq(kept, 4);
    ck_assert_ptr_nonnull(strstr(after, "-p first-fit 'traces/gen-random.rep'"));
    sh(&r, "\"$H\" sweep list --ids plan | sort -u | wc -l");
    ck_assert_str_eq(r.out, "6\n");
}
END_TEST

START_TEST(bad_plans)
{
    NEED_BIN();
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"trace.rep\n", "plan:1: not a heaplab sweep plan"},
        {"# heaplab sweep plan 1\n# plan: x\n-p tlsf -o out.csv t.rep\n", "plan:3: -o is the sweep's to set"},
        {"# heaplab sweep plan 1\n# plan: x\n\n-p tlsf --timeline=t.csv t.rep\n",
         "plan:4: --timeline is the sweep's to set"},
        {"# heaplab sweep plan 1\n# plan: x\n-p 'tlsf t.rep\n", "plan:3: a single quote is not closed"},
        {"# heaplab sweep plan 1\n# plan: x\n-p tlsf t.rep\n# c\n-p  tlsf   t.rep\n", "plan:5: the same cell as line 3"},
        {"# heaplab sweep plan 1\n-p tlsf t.rep\n", "plan: no '# plan: ID' line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tl_run r;
        write_file("plan", cases[i].text);
        sh(&r, "\"$H\" sweep list plan");
        ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
        ck_assert_msg(strstr(r.err, cases[i].msg) != NULL, "case %zu: %s", i, r.err);
        ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "case %zu: one line: %s", i, r.err);
    }
    struct tl_run r;
    sh(&r, "\"$H\" sweep plan -p tlsf:sl=7 -o plan \"$S\"/traces/handmade-basic.rep");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "tlsf:sl=7"));
    sh(&r, "\"$H\" sweep plan -o plan 'no-such-*.rep'");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no-such-*.rep: no file matches"));
    sh(&r, "\"$H\" sweep plan --param tlsf:sl -o plan \"$S\"/traces/handmade-basic.rep");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "expected NAME:KEY=V1,V2"));
}
END_TEST

START_TEST(grid_expands)
{
    NEED_BIN();
    struct tl_run r;
    sh(&r, "\"$H\" sweep plan --param tlsf:sl=4,8 --param tlsf:cache=0,7 --preset linux,malloclab "
           "--mmap-threshold 64k,1m --baseline none \"$S\"/traces/handmade-basic.rep | grep -v '^#'");
    ck_assert_msg(r.status == 0, "%s", r.err);
    /* 2 presets x 2 thresholds, each with the 4 rows of the product */
    size_t lines = 0;
    for (const char *p = r.out; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_uint_eq(lines, 4);
    ck_assert_ptr_nonnull(strstr(r.out, "--preset malloclab --mmap-threshold 1m -p tlsf:sl=4,cache=0 -p "
                                        "tlsf:sl=4,cache=7 -p tlsf:sl=8,cache=0 -p tlsf:sl=8,cache=7 "));
    ck_assert_ptr_null(strstr(r.out, "--baseline"));
}
END_TEST

START_TEST(run_skips_done)
{
    NEED_BIN();
    struct tl_run r;
    sh(&r, make_plan);
    ck_assert_msg(r.status == 0, "%s", r.err);
    sh(&r, "id=$(\"$H\" sweep list --ids plan | head -1) && \"$H\" sweep run plan --cell $id && "
           "head -1 results/$id.csv && ls -A results");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, ",status,machine,cpu_model,heaplab_version,plan,cell\n"));
    ck_assert_ptr_null(strstr(r.out, ".tmp")); /* no temporary file left */
    ck_assert_ptr_nonnull(strstr(r.err, ": done in "));
    /* a result already there is kept as it is */
    sh(&r, "id=$(\"$H\" sweep list --ids plan | head -1) && echo kept >results/$id.csv && "
           "\"$H\" sweep run plan --index 0-1 && cat results/$id.csv && \"$H\" sweep list --todo --ids plan | wc -l");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "already done"));
    ck_assert_str_eq(r.out, "kept\n4\n");
    sh(&r, "\"$H\" sweep run plan --cell 000000000000");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no cell 000000000000"));
    sh(&r, "\"$H\" sweep run plan --index 6");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--index 6: expected A or A-B with A <= B < 6"));
}
END_TEST

START_TEST(merge_checks)
{
    NEED_BIN();
    struct tl_run r;
    sh(&r, make_plan);
    ck_assert_msg(r.status == 0, "%s", r.err);
    sh(&r, "\"$H\" sweep local plan -j 2 2>/dev/null && \"$H\" merge --plan plan -o all.csv results");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "6 cells, 24 rows (6 of the plan's 6 cells)"));
    /* replay's columns, then the provenance */
    sh(&r, "head -1 all.csv; \"$H\" replay -f csv \"$S\"/traces/handmade-basic.rep -p tlsf | head -1");
    char *nl = strchr(r.out, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_int_eq(strncmp(r.out, nl + 1, strlen(nl + 1) - 1), 0);
    ck_assert_ptr_nonnull(strstr(r.out, ",machine,cpu_model,heaplab_version,plan,cell\n"));

    /* a cell twice */
    sh(&r, "mkdir -p two && cp results/*.csv two/ && cp \"$(ls results/*.csv | head -1)\" two/copy.csv && "
           "\"$H\" merge -o x.csv two");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "twice"));
    ck_assert_int_eq(access("x.csv", F_OK), -1);
    sh(&r, "\"$H\" merge --force -o x.csv two && wc -l <x.csv");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "25\n");

    /* another heaplab version */
    sh(&r, "mkdir -p ver && cp results/*.csv ver/ && f=$(ls ver/*.csv | head -1) && "
           "python3 -c 'import csv,sys; rows=list(csv.reader(open(sys.argv[1]))); i=rows[0].index(\"heaplab_version\")\n"
           "for r in rows[1:]: r[i]=\"0.0.1 (other)\"\n"
           "csv.writer(open(sys.argv[1],\"w\",newline=\"\"),lineterminator=\"\\n\").writerows(rows)' $f && "
           "\"$H\" merge -o x2.csv ver");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "refusing: results from 2 heaplab versions"));
    ck_assert_ptr_nonnull(strstr(r.err, "'0.0.1 (other)' (1 cells)"));
    sh(&r, "\"$H\" merge --force -o x2.csv ver");
    ck_assert_msg(r.status == 0, "%s", r.err);

    /* another plan, and a cell missing, and a cell the plan no longer has */
    sh(&r, "cp plan plan.orig && sed -i 's/^# plan: .*/# plan: other/' plan && \"$H\" merge --plan plan -o x3.csv results");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "but plan is plan 'other'"));
    sh(&r, "cp plan.orig plan && sed -i '/^--preset linux.*gen-ramp/s/ -p tlsf / -p first-fit -p tlsf /' plan && "
           "\"$H\" merge --plan plan -o x4.csv results");
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no result for cell"));
    ck_assert_ptr_nonnull(strstr(r.err, "(a line edited since?): left out"));
    ck_assert_ptr_nonnull(strstr(r.err, "1 of 6 cells of plan have no result"));
    sh(&r, "wc -l <x4.csv");
    ck_assert_str_eq(r.out, "21\n");

    /* a replay CSV is not a result */
    sh(&r, "\"$H\" replay -f csv -o plain.csv \"$S\"/traces/handmade-basic.rep -p tlsf && \"$H\" merge plain.csv");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "plain.csv:1: a replay CSV without the sweep's columns"));
}
END_TEST

/* What heaplab plot draws works on the merged file. */
START_TEST(plot_merged)
{
    NEED_BIN();
    struct tl_run r;
    sh(&r, PLAN_OF("glibc"));
    ck_assert_msg(r.status == 0, "%s", r.err);
    /* a chart is one configuration: the glibc rows of the two presets' cells
     * (a baseline has no preset) would be one series twice */
    sh(&r, "\"$H\" sweep local plan -j 2 2>/dev/null && \"$H\" merge --plan plan -o both.csv results 2>/dev/null && "
           "grep -c baseline:glibc both.csv; \"$H\" plot util both.csv -o both.svg");
    int glibc = strncmp(r.out, "0\n", 2) != 0; /* a sanitizer build runs no baseline */
    if (glibc) {
        ck_assert_int_eq(r.status, 2);
        ck_assert_ptr_nonnull(strstr(r.err, "policy baseline:glibc again"));
    }
    sh(&r, "\"$H\" merge --plan plan --where preset=linux -o all.csv results && wc -l <all.csv");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, glibc ? "16\n" : "13\n"); /* 3 cells of 4 rows and glibc's */
    static const char *const kinds[] = {"util", "throughput"};
    for (size_t b = 0; b < 2; b++)
        for (size_t k = 0; k < 2; k++) {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "\"$H\" plot %s all.csv -b %s -o %s-%zu.svg", kinds[k],
                     b ? "gnuplot" : "matplotlib", kinds[k], b);
            sh(&r, cmd);
            if (r.status == 2 && strstr(r.err, "is not installed")) {
                fprintf(stderr, "sweep: plot_merged: SKIPPED: %s", r.err);
                continue;
            }
            ck_assert_msg(r.status == 0, "%s: %s", cmd, r.err);
            char path[1024];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s-%zu.svg", tmpdir, kinds[k], b);
            ck_assert_int_eq(stat(path, &st), 0);
            ck_assert_int_gt(st.st_size, 1000);
        }
}
END_TEST

static const char *const engine_cases[] = {"local", "parallel", "resume", "slurm-script", "slurm"};

START_TEST(engines)
{
    NEED_BIN();
    const char *src = getenv("HEAPLAB_SRCDIR");
    ck_assert_msg(src && *src, "HEAPLAB_SRCDIR is not set (run 'make test')");
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/sweep-engines.sh", src);
    const char *argv[] = {"sh", script, engine_cases[_i], bin, src, NULL};
    struct tl_run r;
    tl_run(&r, NULL, argv);
    if (r.status == 77) {
        fprintf(stderr, "sweep: engines %s: SKIPPED: %s", engine_cases[_i], r.out);
        return;
    }
    ck_assert_msg(r.status == 0, "sweep-engines.sh %s: status %d\n%s%s", engine_cases[_i], r.status, r.out, r.err);
}
END_TEST

Suite *make_sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ids_stay_put);
    tcase_add_test(tc, bad_plans);
    tcase_add_test(tc, grid_expands);
    tcase_add_test(tc, run_skips_done);
    tcase_add_test(tc, merge_checks);
    tcase_add_test(tc, plot_merged);
    suite_add_tcase(s, tc);
    tc = tcase_create("engines");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, engines, 0, (int)(sizeof engine_cases / sizeof engine_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
