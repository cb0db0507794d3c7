/*
 * check_plugin.c - policies from shared objects.
 *
 * The template plugin (examples/policy-template.c, built by `make test`)
 * loads by path, passes every conformance check through the same runner
 * as the built-in policies, passes `heaplab selftest` and replays the
 * bundled traces.  Broken plugins, compiled here with the system cc into a
 * temporary folder, each get the right answer: one line and exit status 2
 * when they cannot be loaded (no entry symbol, another ABI, not a shared
 * object, an undefined symbol), a failed row and failed checks when they
 * load but misbehave (a block too small, overlapping blocks, misaligned
 * blocks, a crash) - without taking the rest of the run down.
 *
 * The command-line tests exec $HEAPLAB_BIN (set by `make test`).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"
#include "testutil.h"

/* ---- paths ----------------------------------------------------------------------- */

/* $HEAPLAB_BIN, or NULL with a SKIPPED line naming the test. */
static const char *heaplab_bin(const char *test)
{
    const char *bin = getenv("HEAPLAB_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "plugin: %s: SKIPPED: HEAPLAB_BIN is not set (make test sets it)\n", test);
        return NULL;
    }
    return bin;
}

/* The template plugin, beside the binary: <build>/examples/policy-template.so. */
static const char *template_path(void)
{
    static char path[1024];
    const char *bin = getenv("HEAPLAB_BIN");
    if (bin && *bin) {
        const char *slash = strrchr(bin, '/');
        int dir = slash ? (int)(slash - bin) : 1;
        snprintf(path, sizeof path, "%.*s/examples/policy-template.so", dir, slash ? bin : ".");
    } else {
        const char *src = getenv("HEAPLAB_SRCDIR");
        snprintf(path, sizeof path, "%s/build/examples/policy-template.so", src && *src ? src : ".");
    }
    ck_assert_msg(access(path, R_OK) == 0, "%s: %s (make examples builds it)", path, strerror(errno));
    return path;
}

static const char *srcdir(void)
{
    const char *src = getenv("HEAPLAB_SRCDIR");
    return src && *src ? src : ".";
}

/* ---- running heaplab -------------------------------------------------------------- */

struct run {
    int status; /* exit status, or 128 + signal */
    char *out, *err;
};

static char *slurp(FILE *f)
{
    fflush(f);
    long n = lseek(fileno(f), 0, SEEK_END);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(pread(fileno(f), s, (size_t)n, 0), n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Run argv (argv[0] a path) with stdout and stderr captured.  With
 * `plain_signals` the sanitizers leave SIGSEGV alone, so a crash shows as
 * the signal whatever the build. */
static struct run run_argv(char *const argv[], int plain_signals)
{
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        if (plain_signals) {
            static const char *const vars[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"};
            for (size_t i = 0; i < 3; i++) {
                const char *old = getenv(vars[i]);
                char v[1024];
                snprintf(v, sizeof v, "%s%shandle_segv=0", old ? old : "", old && *old ? ":" : "");
                setenv(vars[i], v, 1);
            }
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    struct run r = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), slurp(err)};
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The command failed to load a plugin: exit 2, nothing on stdout, one line
 * on stderr that starts "heaplab: " and contains `what`. */
static void assert_load_error(const struct run *r, const char *what)
{
    ck_assert_msg(r->status == 2, "exit status %d, not 2; stderr: %s", r->status, r->err);
    ck_assert_msg(r->out[0] == 0, "stdout is not empty: %s", r->out);
    ck_assert_msg(count_lines(r->err) == 1, "stderr is not one line: %s", r->err);
    ck_assert_msg(strncmp(r->err, "heaplab: ", 9) == 0, "stderr: %s", r->err);
    ck_assert_msg(strstr(r->err, what) != NULL, "stderr lacks '%s': %s", what, r->err);
}

/* ---- CSV rows ------------------------------------------------------------------------ */

/* Field `col` of a CSV line (quotes as output.c writes them) into buf. */
static void csv_field(const char *line, int col, char *buf, size_t n)
{
    int c = 0;
    size_t k = 0;
    int quoted = 0;
    buf[0] = 0;
    for (const char *s = line; *s && *s != '\n'; s++) {
        if (quoted) {
            if (*s == '"' && s[1] == '"')
                s++;
            else if (*s == '"') {
                quoted = 0;
                continue;
            }
        } else if (*s == '"') {
            quoted = 1;
            continue;
        } else if (*s == ',') {
            c++;
            continue;
        }
        if (c == col && k + 1 < n) {
            buf[k++] = *s;
            buf[k] = 0;
        }
    }
}

/* The index of column `name` in a CSV header line. */
static int csv_column(const char *header, const char *name)
{
    char f[64];
    for (int i = 0; i < 64; i++) {
        csv_field(header, i, f, sizeof f);
        if (strcmp(f, name) == 0)
            return i;
    }
    ck_abort_msg("no column '%s' in %s", name, header);
    return -1;
}

/* The status of every row of `heaplab replay -f csv` output, in order;
 * returns the number of rows. */
static size_t csv_statuses(const char *csv, char status[][256], size_t max)
{
    const char *nl = strchr(csv, '\n');
    ck_assert_ptr_nonnull(nl);
    int col = csv_column(csv, "status");
    size_t n = 0;
    for (const char *line = nl + 1; *line; line = strchr(line, '\n') + 1) {
        ck_assert_uint_lt(n, max);
        csv_field(line, col, status[n++], 256);
        if (!strchr(line, '\n'))
            break;
    }
    return n;
}

/* ---- selftest output ----------------------------------------------------------------- */

/* The output of `heaplab selftest -p LABEL` over every check: a first line
 * naming the policy, a line per check in the table's order ("ok   NAME" or
 * "FAIL NAME: why"), a summary.  Returns the number of FAIL lines. */
static size_t assert_selftest_lines(const char *out, const char *label)
{
    char want[512];
    snprintf(want, sizeof want, "selftest %s", label);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "first line: %s", out);
    const char *line = strchr(out, '\n');
    ck_assert_ptr_nonnull(line);
    line++;
    size_t failed = 0;
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        const char *name = hl_conformance_at(i)->name;
        char ok[128], fail[128];
        snprintf(ok, sizeof ok, "ok   %s\n", name);
        snprintf(fail, sizeof fail, "FAIL %s: ", name);
        if (strncmp(line, fail, strlen(fail)) == 0) {
            failed++;
        } else {
            ck_assert_msg(strncmp(line, ok, strlen(ok)) == 0, "expected the line for %s, got: %.200s", name,
                          line);
        }
        line = strchr(line, '\n');
        ck_assert_ptr_nonnull(line);
        line++;
    }
    if (failed)
        snprintf(want, sizeof want, "%s: %zu of %zu checks failed\n", label, failed, hl_conformance_count());
    else
        snprintf(want, sizeof want, "%s: all %zu checks passed\n", label, hl_conformance_count());
    ck_assert_msg(strcmp(line, want) == 0, "summary: '%s', expected '%s'", line, want);
    return failed;
}

/* The FAIL line of check `name`, or NULL. */
static const char *fail_line(const char *out, const char *name)
{
    char fail[128];
    snprintf(fail, sizeof fail, "\nFAIL %s: ", name);
    const char *p = strstr(out, fail);
    return p ? p + 1 : NULL;
}

/* ---- loading ------------------------------------------------------------------------- */

START_TEST(template_loads_by_path)
{
    const char *path = template_path();
    struct hl_policy_spec spec;
    char err[512] = "", text[1100];
    ck_assert_msg(hl_policy_parse(path, &spec, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(spec.policy->name, "template");
    ck_assert_int_eq(spec.policy->abi, HL_POLICY_ABI);
    ck_assert_str_eq(spec.label, path);
    ck_assert_int_eq(spec.params[0], 0); /* fit=first */
    ck_assert_ptr_null(hl_policy_lookup("template")); /* a plugin does not join the registry */

    /* parameters after the path, as for a built-in policy */
    snprintf(text, sizeof text, "%s:fit=best", path);
    struct hl_policy_spec best;
    ck_assert_msg(hl_policy_parse(text, &best, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_eq(best.policy, spec.policy); /* loaded once */
    ck_assert_int_eq(best.params[0], 1);
    ck_assert_str_eq(best.label, text);
    snprintf(text, sizeof text, "%s:fit=worst", path);
    ck_assert_int_eq(hl_policy_parse(text, &best, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "fit must be one of first|best") != NULL, "%s", err);
    snprintf(text, sizeof text, "%s:size=3", path);
    ck_assert_int_eq(hl_policy_parse(text, &best, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "has no parameter 'size'") != NULL, "%s", err);

    /* heaps under it, the parameter applied: a hole of 1000 bytes filed
     * after one of 300, then a request that fits both */
    for (int v = 0; v < 2; v++) {
        snprintf(text, sizeof text, "%s%s", path, v ? ":fit=best" : "");
        ck_assert_int_eq(hl_policy_parse(text, &best, err, sizeof err), 0);
        struct hl_config cfg;
        hl_config_default(&cfg, best.policy);
        cfg.policy_params = best.params;
        hl_heap *h = tl_heap(&cfg);
        char *a = hl_malloc(h, 1000), *g1 = hl_malloc(h, 16), *b = hl_malloc(h, 300), *g2 = hl_malloc(h, 16);
        ck_assert_ptr_nonnull(g1);
        ck_assert_ptr_nonnull(g2);
        hl_free(h, b);
        hl_free(h, a); /* the list: a, b */
        char *c = hl_malloc(h, 200);
        ck_assert_ptr_eq(c, v ? b : a); /* first fit: the first on the list; best fit: the smaller */
        TL_CHECK(h);
        hl_heap_destroy(h);
    }
}
END_TEST

START_TEST(plugin_names_and_paths)
{
    ck_assert(!hl_policy_is_path("first-fit", 9));
    ck_assert(!hl_policy_is_path("so", 2));
    ck_assert(hl_policy_is_path("my.so", 5));
    ck_assert(hl_policy_is_path("./x", 3));
    ck_assert(hl_policy_is_path("dir/x.c", 7));
    ck_assert(!hl_policy_is_path("my.so:fit=best", 2)); /* only the first len bytes count */

    struct hl_policy_spec spec;
    char err[512];
    /* a built-in name with parameters is never a path, whatever follows */
    ck_assert_int_eq(hl_policy_parse("first-fit:x=1/2", &spec, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "first-fit has no parameter 'x'") != NULL, "%s", err);
    /* a prefix that is not a path is a policy name, whatever follows (so
     * forms like KIND:FILE stay free for other kinds of rows) */
    ck_assert_int_eq(hl_policy_parse("nosuch:./solution.c", &spec, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "unknown policy 'nosuch'") != NULL, "%s", err);
    /* a missing file: dlopen's reason, naming the file */
    ck_assert_int_eq(hl_policy_parse("./no-such-plugin.so", &spec, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "./no-such-plugin.so") && strstr(err, "No such file"), "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    /* a bare file name is a file in the current directory, not a library search */
    ck_assert_int_eq(hl_policy_parse("libc.so.6.so", &spec, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "./libc.so.6.so"), "%s", err);
}
END_TEST

static char tmpdir[256];

static void make_tmpdir(void) { tl_make_tmpdir(tmpdir, sizeof tmpdir, "plugin"); }

static void remove_tmpdir(void) { tl_remove_tree(tmpdir); }

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_int_ge(fputs(data, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

START_TEST(a_folder_may_have_a_colon_in_its_name)
{
    make_tmpdir();
    char dir[512], so[600], text[700], err[512];
    snprintf(dir, sizeof dir, "%s/a:b", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(so, sizeof so, "%s/t.so", dir);
    copy_file(template_path(), so);
    snprintf(text, sizeof text, "%s:fit=best", so);
    struct hl_policy_spec spec;
    int rc = hl_policy_parse(text, &spec, err, sizeof err);
    remove_tmpdir();
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(spec.policy->name, "template");
    ck_assert_int_eq(spec.params[0], 1);
}
END_TEST

/* ---- the template: conformance, selftest, replay --------------------------------------- */

START_TEST(template_passes_every_conformance_check)
{
    const struct hl_conformance_check *c = hl_conformance_at((size_t)_i);
    ck_assert_ptr_nonnull(c);
    static const char *const variants[] = {"", ":fit=best"};
    for (int v = 0; v < 2; v++) {
        char text[1100], err[512];
        snprintf(text, sizeof text, "%s%s", template_path(), variants[v]);
        struct hl_policy_spec spec;
        ck_assert_msg(hl_policy_parse(text, &spec, err, sizeof err) == 0, "%s", err);
        static struct hl_conformance_result r;
        if (hl_conformance_run(c, &spec, 0, &r) != 0) {
            fprintf(stderr, "plugin: %s on %s failed; its stderr:\n%s", c->name, text, r.output);
            ck_abort_msg("%s on %s: %s", c->name, text, r.message);
        }
    }
}
END_TEST

START_TEST(selftest_passes_the_template)
{
    const char *bin = heaplab_bin("selftest_passes_the_template");
    if (!bin)
        return;
    const char *path = template_path();
    char *argv[] = {(char *)bin, "selftest", "-p", (char *)path, NULL};
    struct run r = run_argv(argv, 0);
    ck_assert_msg(r.status == 0, "exit status %d; stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    ck_assert_msg(r.err[0] == 0, "stderr: %s", r.err);
    ck_assert_uint_eq(assert_selftest_lines(r.out, path), 0);
    run_free(&r);

    /* one check by name, a group by name, an unknown name */
    char *one[] = {(char *)bin, "selftest", "-p", (char *)path, "results_are_aligned", "misuse", NULL};
    r = run_argv(one, 0);
    ck_assert_int_eq(r.status, 0);
    size_t misuse = 0; /* the group's checks, as many as the table lists */
    for (size_t i = 0; i < hl_conformance_count(); i++)
        misuse += strcmp(hl_conformance_at(i)->group, "misuse") == 0;
    ck_assert_uint_ge(misuse, 7);
    ck_assert_uint_eq(count_lines(r.out), 1 + 1 + misuse + 1);
    ck_assert_ptr_nonnull(strstr(r.out, "\nok   results_are_aligned\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\nok   double_free_aborts\n"));
    run_free(&r);
    char *bad[] = {(char *)bin, "selftest", "-p", (char *)path, "no_such_check", NULL};
    r = run_argv(bad, 0);
    assert_load_error(&r, "no check or group 'no_such_check'");
    run_free(&r);
}
END_TEST

/* `heaplab replay` under the template on the project's traces and, when
 * they are there, the CS:APP ones: every row ok, the heap checked after
 * every operation. */
static void replay_all_ok(const char *bin, const char *pattern, const char *extra_policy)
{
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_gt(g.gl_pathc, 0);
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "replay";
    argv[n++] = "-p";
    argv[n++] = (char *)template_path();
    if (extra_policy) {
        argv[n++] = "-p";
        argv[n++] = (char *)extra_policy;
    }
    char *opts[] = {"--check-every", "1", "--repeat", "1", "-f", "csv"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        argv[n++] = opts[i];
    size_t ntraces = g.gl_pathc < 40 ? g.gl_pathc : 40;
    for (size_t i = 0; i < ntraces; i++)
        argv[n++] = g.gl_pathv[i];
    argv[n] = NULL;
    struct run r = run_argv(argv, 0);
    ck_assert_msg(r.status == 0, "exit status %d; stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    static char status[200][256];
    size_t rows = csv_statuses(r.out, status, 200);
    ck_assert_uint_eq(rows, ntraces * (extra_policy ? 2 : 1));
    for (size_t i = 0; i < rows; i++)
        ck_assert_msg(strcmp(status[i], "ok") == 0, "row %zu: %s", i, status[i]);
    run_free(&r);
    globfree(&g);
}

START_TEST(replay_under_the_template)
{
    const char *bin = heaplab_bin("replay_under_the_template");
    if (!bin)
        return;
    char pattern[1200], best[1100];
    snprintf(pattern, sizeof pattern, "%s/traces/*.rep", srcdir());
    snprintf(best, sizeof best, "%s:fit=best", template_path());
    replay_all_ok(bin, pattern, best);
    const char *ml = tl_malloclab_dir("plugin", "replay_under_the_template");
    if (ml) {
        snprintf(pattern, sizeof pattern, "%s/*.rep", ml);
        replay_all_ok(bin, pattern, NULL);
    }
}
END_TEST

/* ---- broken plugins ------------------------------------------------------------------ */

/*
 * The broken plugins share a small LIFO free list (the template's, without
 * the comments) and differ in one function each.  TABLE's first argument
 * is the ABI the table claims.
 */
static const char broken_base[] =
    "#include \"heaplab/policy.h\"\n"
    "struct node { struct node *next, *prev; };\n"
    "struct st { struct node *head; hl_block *last; unsigned long calls; };\n"
    "static void ins(void *s, hl_block *b)\n"
    "{\n"
    "    struct st *t = s;\n"
    "    struct node *n = hl_block_node(b);\n"
    "    n->prev = 0;\n"
    "    n->next = t->head;\n"
    "    if (t->head)\n"
    "        t->head->prev = n;\n"
    "    t->head = n;\n"
    "}\n"
    "static void rem(void *s, hl_block *b)\n"
    "{\n"
    "    struct st *t = s;\n"
    "    struct node *n = hl_block_node(b);\n"
    "    if (n->prev)\n"
    "        n->prev->next = n->next;\n"
    "    else\n"
    "        t->head = n->next;\n"
    "    if (n->next)\n"
    "        n->next->prev = n->prev;\n"
    "}\n"
    "/* first fit, taking a block up to `slack` bytes too small */\n"
    "static hl_block *fit(struct st *t, size_t size, size_t slack)\n"
    "{\n"
    "    for (struct node *n = t->head; n; n = n->next)\n"
    "        if (hl_block_size(hl_node_block(n)) + slack >= size)\n"
    "            return hl_node_block(n);\n"
    "    return 0;\n"
    "}\n"
    "static hl_block *find_ok(void *s, size_t size) { return fit(s, size, 0); }\n"
    "#define TABLE(abi_, ...) \\\n"
    "    static const struct hl_policy table = {.abi = abi_, .name = \"broken\", \\\n"
    "        .state_size = sizeof(struct st), .insert = ins, .remove = rem, __VA_ARGS__}; \\\n"
    "    const struct hl_policy *hl_policy_entry(void) { return &table; }\n";

/* find takes a free block 16 bytes too small (a bound off by a header) */
static const char src_too_small[] = "static hl_block *find(void *s, size_t size) { return fit(s, size, 16); }\n"
                                    "TABLE(HL_POLICY_ABI, .find = find)\n";

/* every second allocation hands the previous block out again */
static const char src_overlap[] = "static hl_block *alloc(hl_heap *h, void *s, size_t size)\n"
                                  "{\n"
                                  "    struct st *t = s;\n"
                                  "    if (t->calls++ % 2 && t->last && hl_block_size(t->last) >= size)\n"
                                  "        return t->last;\n"
                                  "    return t->last = hl_block_alloc(h, size);\n"
                                  "}\n"
                                  "static void release(hl_heap *h, void *s, hl_block *b)\n"
                                  "{\n"
                                  "    struct st *t = s;\n"
                                  "    if (b == t->last)\n"
                                  "        t->last = 0;\n"
                                  "    hl_block_free(h, b);\n"
                                  "}\n"
                                  "TABLE(HL_POLICY_ABI, .find = find_ok, .alloc = alloc, .release = release)\n";

/* the block starts 8 bytes into the one core made: payloads 8 mod 16 */
static const char src_misaligned[] =
    "static hl_block *alloc(hl_heap *h, void *s, size_t size)\n"
    "{\n"
    "    (void)s;\n"
    "    hl_block *b = hl_block_alloc(h, size + 16);\n"
    "    if (!b)\n"
    "        return 0;\n"
    "    hl_block *nb = (hl_block *)((char *)b + 8);\n"
    "    *(hl_word *)nb = hl_hdr_make(nb, hl_block_size(b) - 8, HL_F_USED, HL_KIND_CORE, hl_heap_cookie(h));\n"
    "    return nb;\n"
    "}\n"
    "static void release(hl_heap *h, void *s, hl_block *b)\n"
    "{\n"
    "    (void)s;\n"
    "    hl_block_free(h, (hl_block *)((char *)b - 8));\n"
    "}\n"
    "TABLE(HL_POLICY_ABI, .find = find_ok, .alloc = alloc, .release = release)\n";

/* for requests of 100000 bytes and more, find walks off the end of the list */
static const char src_crash[] = "static hl_block *find(void *s, size_t size)\n"
                                "{\n"
                                "    struct st *t = s;\n"
                                "    if (size < 100000)\n"
                                "        return fit(t, size, 0);\n"
                                "    struct node *n = t->head;\n"
                                "    while (hl_block_size(hl_node_block(n)) < size)\n"
                                "        n = n->next;\n"
                                "    return hl_node_block(n);\n"
                                "}\n"
                                "TABLE(HL_POLICY_ABI, .find = find)\n";

static const char src_old_abi[] = "TABLE(0, .find = find_ok)\n";

/* a sound plugin (the shared list, first fit) that switches on one of
 * core's placement options: blocks of fewer than 128 bytes from the high
 * end of a free block */
static const char src_placement[] = "static int init(hl_heap *h, void *s, const long *params)\n"
                                    "{\n"
                                    "    (void)s;\n"
                                    "    (void)params;\n"
                                    "    struct hl_placement pl = {.high_below = 128};\n"
                                    "    hl_heap_set_placement(h, &pl);\n"
                                    "    return 0;\n"
                                    "}\n"
                                    "TABLE(HL_POLICY_ABI, .find = find_ok, .init = init)\n";

static const char src_undefined[] = "void hl_no_such_function(void);\n"
                                    "static hl_block *find(void *s, size_t size)\n"
                                    "{\n"
                                    "    hl_no_such_function();\n"
                                    "    return fit(s, size, 0);\n"
                                    "}\n"
                                    "TABLE(HL_POLICY_ABI, .find = find)\n";

/* two live blocks, then a request that reuses neither: ids 0 and 1 are
 * adjacent, so a second block on top of the first overlaps */
static const char trace_two[] = "3\n2\n2\n1\na 0 100\na 1 100\n";
/* a hole of 208 bytes (id 0) between blocks in use, a request that needs
 * 224, and a request of 110000 bytes served from the heap */
static const char trace_mix[] = "0\n5\n9\n1\n"
                                "a 0 200\na 1 100\na 2 200\nf 0\na 3 208\nf 1\nf 2\nf 3\na 4 110000\n";

static int have_cc;

static void broken_setup(void)
{
    make_tmpdir();
    char *argv[] = {"/bin/sh", "-c", "cc --version >/dev/null 2>&1", NULL};
    struct run r = run_argv(argv, 0);
    have_cc = r.status == 0;
    run_free(&r);
    char path[512];
    snprintf(path, sizeof path, "%s/two.rep", tmpdir);
    write_file(path, trace_two);
    snprintf(path, sizeof path, "%s/mix.rep", tmpdir);
    write_file(path, trace_mix);
}

static void broken_teardown(void) { remove_tmpdir(); }

/* Compile a plugin from `body` (after broken_base unless `alone`) into
 * tmpdir/NAME.so; its path in `so`.  0 when there is no cc (SKIPPED). */
static int compile(const char *test, const char *name, const char *body, int alone, char *so, size_t n)
{
    if (!have_cc) {
        fprintf(stderr, "plugin: %s: SKIPPED: no cc to compile a plugin with\n", test);
        return 0;
    }
    char src[512], inc[1024];
    snprintf(src, sizeof src, "%s/%s.c", tmpdir, name);
    snprintf(so, n, "%s/%s.so", tmpdir, name);
    snprintf(inc, sizeof inc, "-I%s/include", srcdir());
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    if (!alone)
        fputs(broken_base, f);
    fputs(body, f);
    ck_assert_int_eq(fclose(f), 0);
    char *argv[] = {"/bin/sh", "-c", "exec cc -std=c11 -shared -fPIC \"$1\" -o \"$2\" \"$3\"",
                    "cc",      inc,  so,
                    src,       NULL};
    struct run r = run_argv(argv, 0);
    ck_assert_msg(r.status == 0, "cc %s failed:\n%s", name, r.err);
    run_free(&r);
    return 1;
}

/* `heaplab replay -p SO -f csv TRACE` (tmpdir/TRACE): the single row's status. */
static struct run replay_one(const char *so, const char *trace, char *status, size_t n)
{
    char tr[512];
    snprintf(tr, sizeof tr, "%s/%s", tmpdir, trace);
    char *argv[] = {(char *)getenv("HEAPLAB_BIN"), "replay", "-p", (char *)so, "--repeat", "1", "-f", "csv", tr, NULL};
    struct run r = run_argv(argv, 1);
    static char st[4][256];
    if (r.status == 0 || r.status == 1) {
        ck_assert_uint_eq(csv_statuses(r.out, st, 4), 1);
        snprintf(status, n, "%s", st[0]);
    } else {
        status[0] = 0;
    }
    return r;
}

static struct run selftest(const char *so)
{
    char *argv[] = {(char *)getenv("HEAPLAB_BIN"), "selftest", "-p", (char *)so, "--timeout", "120", NULL};
    return run_argv(argv, 1);
}

START_TEST(plugin_without_entry_symbol)
{
    char so[600];
    if (!heaplab_bin("plugin_without_entry_symbol") ||
        !compile("plugin_without_entry_symbol", "nosym", "int not_a_policy(void) { return 0; }\n", 1, so, sizeof so))
        return;
    char status[256], want[700];
    snprintf(want, sizeof want, "heaplab: replay: %s: no hl_policy_entry symbol", so);
    struct run r = replay_one(so, "two.rep", status, sizeof status);
    assert_load_error(&r, want);
    run_free(&r);
    snprintf(want, sizeof want, "heaplab: selftest: %s: no hl_policy_entry symbol", so);
    r = selftest(so);
    assert_load_error(&r, want);
    run_free(&r);
}
END_TEST

START_TEST(plugin_built_for_another_abi)
{
    char so[600];
    if (!heaplab_bin("plugin_built_for_another_abi") ||
        !compile("plugin_built_for_another_abi", "oldabi", src_old_abi, 0, so, sizeof so))
        return;
    char status[256], want[800];
    snprintf(want, sizeof want, "heaplab: replay: %s: built for policy ABI 0, heaplab has %d", so, HL_POLICY_ABI);
    struct run r = replay_one(so, "two.rep", status, sizeof status);
    assert_load_error(&r, want);
    run_free(&r);
    snprintf(want, sizeof want, "heaplab: selftest: %s: built for policy ABI 0, heaplab has %d", so, HL_POLICY_ABI);
    r = selftest(so);
    assert_load_error(&r, want);
    run_free(&r);
    /* in process: the same line, and nothing is left half loaded */
    struct hl_policy_spec spec;
    char err[512];
    ck_assert_int_eq(hl_policy_parse(so, &spec, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "built for policy ABI 0") != NULL, "%s", err);
}
END_TEST

START_TEST(plugin_that_cannot_be_loaded)
{
    char so[600];
    if (!heaplab_bin("plugin_that_cannot_be_loaded"))
        return;
    /* not a shared object at all */
    char notes[512];
    snprintf(notes, sizeof notes, "%s/notes.so", tmpdir);
    write_file(notes, "these are notes, not a shared object\n");
    char status[256];
    struct run r = replay_one(notes, "two.rep", status, sizeof status);
    assert_load_error(&r, notes);
    run_free(&r);
    r = selftest(notes);
    assert_load_error(&r, notes);
    run_free(&r);
    /* a path to a trace: the same, even without the .so */
    snprintf(notes, sizeof notes, "%s/two.rep", tmpdir);
    r = replay_one(notes, "two.rep", status, sizeof status);
    assert_load_error(&r, notes);
    run_free(&r);
    /* an entry that returns NULL; a symbol heaplab does not have */
    if (!compile("plugin_that_cannot_be_loaded", "null",
                 "#include \"heaplab/policy.h\"\nconst struct hl_policy *hl_policy_entry(void) { return 0; }\n", 1, so,
                 sizeof so))
        return;
    r = replay_one(so, "two.rep", status, sizeof status);
    assert_load_error(&r, "hl_policy_entry returned NULL");
    run_free(&r);
    ck_assert(compile("plugin_that_cannot_be_loaded", "undefined", src_undefined, 0, so, sizeof so));
    r = replay_one(so, "two.rep", status, sizeof status);
    assert_load_error(&r, "undefined symbol: hl_no_such_function");
    run_free(&r);
}
END_TEST

START_TEST(plugin_switches_on_a_placement_option)
{
    char so[600];
    if (!compile("plugin_switches_on_a_placement_option", "placement", src_placement, 0, so, sizeof so))
        return;
    struct hl_policy_spec spec;
    char err[512] = "";
    ck_assert_msg(hl_policy_parse(so, &spec, err, sizeof err) == 0, "%s", err);
    struct hl_config cfg;
    hl_config_default(&cfg, spec.policy);
    cfg.mmap_threshold = 0;
    cfg.trim_threshold = HL_NO_TRIM;
    cfg.align = 16;
    hl_heap *h = tl_heap(&cfg);
    /* a 1024-byte hole between blocks in use */
    char *g0 = hl_malloc(h, 200), *hole = hl_malloc(h, 1016), *g1 = hl_malloc(h, 200);
    ck_assert_ptr_nonnull(g0);
    ck_assert_ptr_eq(g1, hole + 1024);
    hl_free(h, hole);
    ck_assert_ptr_eq(hl_malloc(h, 40), hole + 1024 - 48); /* small: the high end */
    ck_assert_ptr_eq(hl_malloc(h, 200), hole);            /* large: the low end */
    TL_CHECK(h);
    hl_heap_destroy(h);
}
END_TEST

START_TEST(plugin_whose_find_returns_a_block_too_small)
{
    char so[600];
    if (!heaplab_bin("plugin_whose_find_returns_a_block_too_small") ||
        !compile("plugin_whose_find_returns_a_block_too_small", "small", src_too_small, 0, so, sizeof so))
        return;
    char status[256];
    struct run r = replay_one(so, "mix.rep", status, sizeof status);
    ck_assert_msg(r.status == 1, "exit status %d; stderr: %s", r.status, r.err);
    ck_assert_msg(strncmp(status, "integrity error: ", 17) == 0, "status: %s", status);
    run_free(&r);
    r = selftest(so);
    ck_assert_msg(r.status == 1, "exit status %d; stderr: %s", r.status, r.err);
    ck_assert_uint_gt(assert_selftest_lines(r.out, so), 0);
    ck_assert_ptr_nonnull(fail_line(r.out, "random_operations_keep_the_heap_consistent"));
    run_free(&r);
}
END_TEST

START_TEST(plugin_that_hands_out_overlapping_blocks)
{
    char so[600];
    if (!heaplab_bin("plugin_that_hands_out_overlapping_blocks") ||
        !compile("plugin_that_hands_out_overlapping_blocks", "overlap", src_overlap, 0, so, sizeof so))
        return;
    char status[256];
    struct run r = replay_one(so, "two.rep", status, sizeof status);
    ck_assert_msg(r.status == 1, "exit status %d; stderr: %s", r.status, r.err);
    ck_assert_str_eq(status, "integrity error: id 1 overlaps id 0 at op 2");
    run_free(&r);
    r = selftest(so);
    ck_assert_int_eq(r.status, 1);
    ck_assert_uint_gt(assert_selftest_lines(r.out, so), 0);
    /* a failed assertion names the check's file and line */
    const char *f = fail_line(r.out, "malloc_zero_is_unique_and_free_null_is_noop");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f, ": cf_contract.c:") && strstr(f, "failed"), "%.200s", f);
    run_free(&r);
}
END_TEST

START_TEST(plugin_that_misaligns_its_blocks)
{
    char so[600];
    if (!heaplab_bin("plugin_that_misaligns_its_blocks") ||
        !compile("plugin_that_misaligns_its_blocks", "misaligned", src_misaligned, 0, so, sizeof so))
        return;
    char status[256];
    struct run r = replay_one(so, "two.rep", status, sizeof status);
    ck_assert_msg(r.status == 1, "exit status %d; stderr: %s", r.status, r.err);
    ck_assert_msg(strncmp(status, "integrity error: id 0 at 0x", 27) == 0 && strstr(status, " not 16-aligned at op 1"),
                  "status: %s", status);
    run_free(&r);
    r = selftest(so);
    ck_assert_int_eq(r.status, 1);
    ck_assert_uint_gt(assert_selftest_lines(r.out, so), 0);
    const char *f = fail_line(r.out, "results_are_aligned");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f, "is not 16-aligned"), "%.200s", f);
    run_free(&r);
}
END_TEST

START_TEST(plugin_that_crashes)
{
    char so[600];
    if (!heaplab_bin("plugin_that_crashes") || !compile("plugin_that_crashes", "crash", src_crash, 0, so, sizeof so))
        return;
    char status[256];
    struct run r = replay_one(so, "mix.rep", status, sizeof status);
    ck_assert_msg(r.status == 1, "exit status %d; stderr: %s", r.status, r.err);
    ck_assert_str_eq(status, "crashed by signal 11 (Segmentation fault) at op 9 in the checked pass");
    run_free(&r);
    /* op 9 is the request for 110000 bytes; the trace that never asks for
     * 100000 bytes is fine, in the same run */
    char two[512], mix[512];
    snprintf(two, sizeof two, "%s/two.rep", tmpdir);
    snprintf(mix, sizeof mix, "%s/mix.rep", tmpdir);
    char *both[] = {(char *)getenv("HEAPLAB_BIN"), "replay", "-p", so, "--repeat", "1", "-f", "csv", mix, two, NULL};
    r = run_argv(both, 1);
    ck_assert_int_eq(r.status, 1);
    static char st[4][256];
    ck_assert_uint_eq(csv_statuses(r.out, st, 4), 2);
    ck_assert_str_eq(st[0], "crashed by signal 11 (Segmentation fault) at op 9 in the checked pass");
    ck_assert_str_eq(st[1], "ok");
    run_free(&r);

    /* selftest: the checks that reach the bug fail, the others pass, the
     * run goes to its summary */
    r = selftest(so);
    ck_assert_int_eq(r.status, 1);
    size_t failed = assert_selftest_lines(r.out, so);
    ck_assert_uint_gt(failed, 0);
    ck_assert_uint_lt(failed, hl_conformance_count());
    const char *f = fail_line(r.out, "realloc_keeps_content");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f, ": crashed by signal 11 (Segmentation fault)") != NULL, "%.200s", f);
    ck_assert_ptr_nonnull(strstr(r.out, "\nok   malloc_zero_is_unique_and_free_null_is_noop\n"));
    run_free(&r);

    /* in this process, through the runner: the check fails, we go on */
    struct hl_policy_spec spec;
    char err[512];
    ck_assert_msg(hl_policy_parse(so, &spec, err, sizeof err) == 0, "%s", err);
    static struct hl_conformance_result res;
    ck_assert_int_eq(hl_conformance_run(hl_conformance_lookup("realloc_keeps_content"), &spec, 60, &res), 1);
    /* a sanitizer in this build reports the SEGV itself and exits */
    ck_assert_msg(strstr(res.message, "crashed by signal 11") || strstr(res.output, "SEGV"), "%s\n%s", res.message,
                  res.output);
    ck_assert_int_eq(hl_conformance_run(hl_conformance_lookup("malloc_zero_is_unique_and_free_null_is_noop"), &spec,
                                        60, &res),
                     0);
}
END_TEST

/* A check that hangs is ended by its timeout and fails alone. */
static void hang(const struct hl_policy_spec *spec)
{
    (void)spec;
    for (;;)
        pause();
}

START_TEST(runner_times_a_check_out)
{
    struct hl_conformance_check c = {"hangs", "test", hang, 0, 60};
    struct hl_policy_spec spec;
    hl_policy_spec_default(hl_policy_at(0), &spec);
    static struct hl_conformance_result r;
    ck_assert_int_eq(hl_conformance_run(&c, &spec, 1, &r), 1);
    ck_assert_str_eq(r.message, "timed out after 1 s");
}
END_TEST

Suite *make_plugin_suite(void)
{
    Suite *s = suite_create("plugin");

    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, template_loads_by_path);
    tcase_add_test(tc, plugin_names_and_paths);
    tcase_add_test(tc, a_folder_may_have_a_colon_in_its_name);
    tcase_add_test(tc, runner_times_a_check_out);
    suite_add_tcase(s, tc);

    tc = tcase_create("template");
    tcase_set_timeout(tc, 1260); /* a check of up to 600 s, twice */
    tcase_add_loop_test(tc, template_passes_every_conformance_check, 0, (int)hl_conformance_count());
    tcase_add_test(tc, selftest_passes_the_template);
    tcase_add_test(tc, replay_under_the_template);
    suite_add_tcase(s, tc);

    tc = tcase_create("broken");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, broken_setup, broken_teardown);
    tcase_add_test(tc, plugin_without_entry_symbol);
    tcase_add_test(tc, plugin_built_for_another_abi);
    tcase_add_test(tc, plugin_that_cannot_be_loaded);
    tcase_add_test(tc, plugin_switches_on_a_placement_option);
    tcase_add_test(tc, plugin_whose_find_returns_a_block_too_small);
    tcase_add_test(tc, plugin_that_hands_out_overlapping_blocks);
    tcase_add_test(tc, plugin_that_misaligns_its_blocks);
    tcase_add_test(tc, plugin_that_crashes);
    suite_add_tcase(s, tc);
    return s;
}
