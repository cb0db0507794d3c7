/*
 * check_cli.c - the heaplab command as a user meets it: listing policies,
 * the layout demonstration, usage errors and their exit status.
 * Runs $HEAPLAB_BIN (set by `make test`); skips when it is not set.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heaplab/policies.h"
#include "testutil.h"

#define heaplab(...) tl_heaplab("cli", __VA_ARGS__)

START_TEST(policies_lists_every_registered_policy)
{
    struct tl_run *r = heaplab("policies", NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 0);
    const char *line = r->out;
    for (size_t i = 0; i < hl_policy_count(); i++) {
        size_t len = strlen(hl_policy_at(i)->name);
        ck_assert_msg(strncmp(line, hl_policy_at(i)->name, len) == 0 && line[len] == '\n',
                      "line %zu is not '%s'", i + 1, hl_policy_at(i)->name);
        line += len + 1;
    }
    ck_assert_str_eq(line, "");
}
END_TEST

START_TEST(policies_list_gives_name_and_search_cost)
{
    struct tl_run *r = heaplab("policies", "--list", NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 0);
    const char *line = r->out;
    for (size_t i = 0; i < hl_policy_count(); i++) {
        const char *search = hl_policy_search_at(i);
        ck_assert_msg(search && (strcmp(search, "O(n)") == 0 || strcmp(search, "O(log n)") == 0 ||
                                 strcmp(search, "O(1)") == 0),
                      "%s: search cost '%s'", hl_policy_at(i)->name, search ? search : "(null)");
        char want[256];
        snprintf(want, sizeof want, "%s\t%s\n", hl_policy_at(i)->name, search);
        ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "line %zu is not '%s'", i + 1, want);
        line += strlen(want);
    }
    ck_assert_str_eq(line, "");
    ck_assert_ptr_null(hl_policy_search_at(hl_policy_count()));
}
END_TEST

START_TEST(policies_verbose_shows_parameters_and_defaults)
{
    struct tl_run *r = heaplab("policies", "-v", NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 0);
    for (size_t i = 0; i < hl_policy_count(); i++) {
        const struct hl_policy *p = hl_policy_at(i);
        ck_assert_ptr_nonnull(strstr(r->out, p->name));
        for (size_t k = 0; p->params && p->params[k].name; k++) {
            char want[96];
            snprintf(want, sizeof want, "  %s=", p->params[k].name);
            ck_assert_msg(strstr(r->out, want), "%s: parameter %s not listed", p->name, p->params[k].name);
        }
    }
    ck_assert_ptr_nonnull(strstr(r->out, "(default 32)")); /* tlsf's sl */
}
END_TEST

START_TEST(layout_shows_the_segments_and_overcommit)
{
    struct tl_run *r = heaplab("layout", "--reserve", "64", NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 0);
    static const char *const want[] = {"text:", "data:", "bss:", "[heap]", "[stack]", "program break",
                                       "own mapping", "region-source", "Overcommit: mapping 64 MiB"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(r->out, want[i]), "layout output lacks '%s'", want[i]);
    /* the reservation grows the virtual size by the reservation, not the RSS */
    const char *v = strstr(r->out, "after the mmap:");
    ck_assert_ptr_nonnull(v);
    long size = 0, rss = -1;
    ck_assert_int_eq(sscanf(v, "after the mmap: VmSize %ld KiB VmRSS %ld KiB", &size, &rss), 2);
    ck_assert_int_ge(size, 64 * 1024);
    ck_assert_int_lt(rss, 1024);
}
END_TEST

/* "20.0 TiB", "12.5 GiB", "+4.0 MiB", "-68 KiB" at s, in bytes, into *out. 0, or -1 when s holds none. */
static int size_at(const char *s, double *out)
{
    static const struct {
        const char *unit;
        double bytes;
    } units[] = {{"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024},
                 {"TiB", 1024.0 * 1024 * 1024 * 1024}};
    double v;
    char unit[4];
    if (!s || sscanf(s, "%lf %3s", &v, unit) != 2)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].unit) == 0) {
            *out = v * units[i].bytes;
            return 0;
        }
    return -1;
}

/* heaplab layout --overcommit on whatever overcommit mode this machine is
 * in: glibc's malloc (looked up in libc.so.6, so a sanitizer's allocator
 * does not stand in for it) asked for sizes from the machine's own figures.
 * Nothing large is touched, so any mode is safe to run it in. */
START_TEST(layout_overcommit_asks_malloc_and_says_why)
{
    struct tl_run *r = heaplab("layout", "--overcommit", NULL);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    ck_assert_msg(strstr(r->out, "Overcommit: what glibc's malloc (libc.so.6) does"), "%s", r->out);
    const char *m = strstr(r->out, "\n  overcommit_memory  ");
    ck_assert_msg(m, "no mode line: %s", r->out);
    long mode = -1;
    ck_assert_int_eq(sscanf(m, "\n  overcommit_memory  %ld", &mode), 1);
    ck_assert_msg(mode >= 0 && mode <= 2, "mode %ld", mode);
    static const char *const name[] = {"(heuristic)", "(always)", "(never)"};
    ck_assert_msg(strncmp(m + strlen("\n  overcommit_memory  0 "), name[mode], strlen(name[mode])) == 0, "%.60s", m);
    for (const char *f = "MemTotal\0SwapTotal\0MemAvailable\0CommitLimit\0Committed_AS\0"; *f; f += strlen(f) + 1)
        ck_assert_msg(strstr(r->out, f), "no %s: %s", f, r->out);

    /* every request: granted or NULL, then the rule of the mode read, and
     * the rule agrees with what malloc did */
    char want[32];
    snprintf(want, sizeof want, "    mode %ld ", mode);
    int requests = 0, granted_untouched_checked = 0;
    for (const char *q = strstr(r->out, "\n  malloc("); q; q = strstr(q + 1, "\n  malloc(")) {
        requests++;
        const char *l2 = strchr(q + 1, '\n'), *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
        ck_assert_msg(l2 && l3, "a request without its lines: %s", q);
        int granted = strncmp(l2 + 1, "    granted: ", 13) == 0;
        ck_assert_msg(granted || strncmp(l2 + 1, "    NULL (errno ENOMEM)", 23) == 0, "%.120s", l2 + 1);
        ck_assert_msg(strncmp(l3 + 1, want, strlen(want)) == 0, "not mode %ld's rule: %.120s", mode, l3 + 1);
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(l3 + 1, "\n"), l3 + 1);
        ck_assert_msg(!strstr(line, "yet malloc"), "the rule and malloc disagree: %s", line);
        /* more than RAM + swap: mode 0's heuristic and mode 2 refuse it, mode 1 grants it */
        if (strncmp(strchr(q, ')'), ")  more than RAM + swap", 23) == 0)
            ck_assert_msg(granted == (mode == 1), "mode %ld, more than RAM + swap: %.60s", mode, l2 + 1);
        if (granted && !granted_untouched_checked) {
            /* "    granted: VmSize A (+dA), VmRSS B (+dB)": an untouched grant grows VmSize by the
             * request and VmRSS hardly (glibc's chunk header; a transparent huge page at most);
             * then the few MiB touched become resident */
            const char *vs = strstr(l2, "VmSize "), *vr = strstr(l2, "VmRSS ");
            vs = vs ? strchr(vs, '(') : NULL;
            vr = vr ? strchr(vr, '(') : NULL;
            double bytes, dsize, drss, touched, grew;
            ck_assert_msg(size_at(q + strlen("\n  malloc("), &bytes) == 0, "%.60s", q + 1);
            ck_assert_msg(vs && vr && size_at(vs + 1, &dsize) == 0 && size_at(vr + 1, &drss) == 0, "%.120s", l2 + 1);
            ck_assert_msg(dsize >= bytes * 0.9, "VmSize did not grow by the request: %.120s", l2 + 1);
            ck_assert_msg(drss < 16.0 * 1024 * 1024, "an untouched grant is resident: %.120s", l2 + 1);
            const char *t = strchr(l3 + 1, '\n');
            ck_assert_msg(t && strncmp(t + 1, "    touched ", 12) == 0, "nothing touched: %.120s", t ? t + 1 : "");
            ck_assert_msg(size_at(t + 1 + 12, &touched) == 0 && size_at(strchr(t + 1, '(') + 1, &grew) == 0,
                          "%.120s", t + 1);
            ck_assert_msg(touched > 0 && touched <= 4.0 * 1024 * 1024, "touched %.0f bytes", touched);
            ck_assert_msg(grew >= touched / 2, "touching %.0f bytes grew VmRSS by %.0f", touched, grew);
            granted_untouched_checked = 1;
        }
    }
    ck_assert_int_eq(requests, 4);
    ck_assert_msg(strstr(r->out, "\nAll freed: "), "%s", r->out);
    ck_assert_str_eq(r->err, "");

    r = heaplab("layout", "--help", NULL);
    ck_assert_msg(strstr(r->out, "--overcommit"), "%s", r->out);
}
END_TEST

/* Every usage error: exit 2, one line on stderr that starts with
 * "heaplab:" and says what is wrong (with the nearest valid word when one
 * is near), nothing on stdout. */
START_TEST(usage_errors_exit_2_with_one_line)
{
    static const struct {
        const char *args[5];
        const char *says;
    } bad[] = {
        {{"no-such-command"}, "heaplab: unknown command 'no-such-command' (see 'heaplab --help')"},
        {{"replya"}, "heaplab: unknown command 'replya' (did you mean 'replay'? see 'heaplab --help')"},
        {{"--verison"}, "heaplab: unknown option '--verison' (see 'heaplab --help')"},
        {{"replay"}, "heaplab: replay: which traces?"},
        {{"replay", "-p", "no-such-policy", "traces/handmade-basic.rep"}, "heaplab: replay: unknown policy 'no-such-policy'"},
        {{"replay", "-p", "bestfit", "traces/handmade-basic.rep"},
         "heaplab: replay: unknown policy 'bestfit' (did you mean 'best-fit'? see 'heaplab policies')"},
        {{"replay", "-p", "tlsf:sl=7", "traces/handmade-basic.rep"},
         "heaplab: replay: tlsf:sl=7: tlsf refuses this configuration (Invalid argument); sl: second-level classes "
         "per power of two: 4, 8, 16 or 32"},
        {{"replay", "-p", "mm", "traces/handmade-basic.rep"}, "a malloc-lab solution is named -p mm:FILE"},
        {{"replay", "--polcy", "tlsf", "traces/handmade-basic.rep"},
         "heaplab: replay: unknown option '--polcy' (did you mean '--policy'? see 'heaplab replay --help')"},
        {{"replay", "-x", "traces/handmade-basic.rep"}, "heaplab: replay: unknown option '-x'"},
        {{"replay", "--no-fork=1", "traces/handmade-basic.rep"}, "heaplab: replay: option '--no-fork' takes no value"},
        {{"replay", "traces/handmade-basic.rep", "--repeat"}, "heaplab: replay: option '--repeat' needs a value"},
        {{"replay", "--align", "4", "traces/handmade-basic.rep"}, "heaplab: --align: expected 8 or 16, got '4'"},
        {{"replay", "--repeat", "0", "traces/handmade-basic.rep"}, "heaplab: --repeat: expected 1..1000"},
        {{"replay", "-f", "xml", "traces/handmade-basic.rep"}, "heaplab: --format: expected table, csv or json"},
        {{"replay", "--mm-max-heap", "20q", "traces/handmade-basic.rep"}, "(k, m, g allowed), got '20q'"},
        {{"replay", "--source", "sbrk", "--no-fork"}, "heaplab: --source sbrk moves the real program break"},
        {{"layout", "--reserve", "0"}, "heaplab: layout: --reserve: expected MiB between 1 and"},
        {{"layout", "extra"}, "heaplab: layout: unexpected argument 'extra'"},
        {{"layout", "--overcommit", "--reserve", "64"}, "heaplab: layout: --reserve belongs to the layout"},
        {{"layout", "--overcomit"}, "heaplab: layout: unknown option '--overcomit' (did you mean '--overcommit'?"},
        {{"policies", "--help=1"}, "heaplab: policies: option '--help' takes no value"},
        {{"policies", "-v", "first_fit"}, "heaplab: policies: unknown policy 'first_fit' (did you mean 'first-fit'?"},
        {{"selftest", "-p", "mm:mm.c"}, "selftest takes policies, not lab solutions"},
        {{"selftest", "-p", "tlsf:sl=7"}, "heaplab: selftest: tlsf:sl=7: tlsf refuses this configuration"},
        {{"gen", "random", "--sede", "1"}, "heaplab: gen: unknown option '--sede' (did you mean '--seed'?"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const *a = bad[i].args;
        struct tl_run *r = heaplab(a[0], a[1], a[2], a[3], a[4], NULL);
        if (!r)
            return;
        ck_assert_msg(r->status == 2, "case %zu (%s %s): exit %d", i, a[0], a[1] ? a[1] : "", r->status);
        ck_assert_msg(strncmp(r->err, "heaplab: ", 9) == 0, "case %zu: %s", i, r->err);
        ck_assert_msg(strstr(r->err, bad[i].says), "case %zu: stderr '%s' lacks '%s'", i, r->err, bad[i].says);
        ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "case %zu: not one line: %s", i, r->err);
        ck_assert_str_eq(r->out, "");
    }
}
END_TEST

/* --help on every command: its usage on stdout, exit 0; --version. */
START_TEST(help_on_every_command_and_version)
{
    static const char *const cmds[] = {"policies", "replay", "gen", "layout", "plot", "selftest"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct tl_run *r = heaplab(cmds[i], "--help", NULL);
        if (!r)
            return;
        ck_assert_msg(r->status == 0, "%s --help: exit %d: %s", cmds[i], r->status, r->err);
        char want[64];
        snprintf(want, sizeof want, "usage: heaplab %s", cmds[i]);
        ck_assert_msg(strncmp(r->out, want, strlen(want)) == 0, "%s --help: %s", cmds[i], r->out);
        ck_assert_str_eq(r->err, "");
    }
    struct tl_run *r = heaplab("--version", NULL);
    ck_assert_int_eq(r->status, 0);
    ck_assert_msg(strncmp(r->out, "heaplab ", 8) == 0 && r->out[8] >= '0' && r->out[8] <= '9', "%s", r->out);
    ck_assert_ptr_eq(strchr(r->out, '\n'), r->out + strlen(r->out) - 1);
}
END_TEST

/* policies with names: only those, a plugin by its path. */
START_TEST(policies_named_and_plugin_parameters)
{
    struct tl_run *r = heaplab("policies", "--list", "tlsf", "first-fit", NULL);
    if (!r)
        return;
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->out, "tlsf\tO(1)\nfirst-fit\tO(n)\n");
    /* HEAPLAB_BIN is BUILD/heaplab; make examples builds BUILD/examples/ */
    const char *bin = getenv("HEAPLAB_BIN");
    const char *slash = strrchr(bin, '/');
    char so[4096];
    snprintf(so, sizeof so, "%.*s/examples/policy-template.so", slash ? (int)(slash - bin) : 1,
             slash ? bin : ".");
    if (access(so, R_OK) != 0) {
        fprintf(stderr, "cli: policies_named_and_plugin_parameters: SKIPPED: no %s (make examples)\n", so);
        return;
    }
    r = heaplab("policies", "-v", so, NULL);
    ck_assert_msg(r->status == 0, "%s", r->err);
    ck_assert_msg(strncmp(r->out, "template ", 9) == 0, "%s", r->out);
    ck_assert_msg(strstr(r->out, "\n  fit=first|best (default first)"), "%s", r->out);
}
END_TEST

START_TEST(a_bad_trace_stops_the_run_before_any_row)
{
    char dir[] = "/tmp/heaplab-cli-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char good[256], badf[256];
    snprintf(good, sizeof good, "%s/good.rep", dir);
    snprintf(badf, sizeof badf, "%s/bad.rep", dir);
    FILE *f = fopen(good, "w");
    fputs("0\n1\n2\n1\na 0 10\nf 0\n", f);
    fclose(f);
    f = fopen(badf, "w");
    fputs("0\n1\n2\n1\na 0 10\nx 0\n", f);
    fclose(f);
    struct tl_run *r = heaplab("replay", "-p", "first-fit", good, badf, NULL);
    if (r) {
        ck_assert_int_eq(r->status, 2);
        ck_assert_str_eq(r->out, ""); /* never half-reports */
        char want[300];
        snprintf(want, sizeof want, "heaplab: %s:6: ", badf);
        ck_assert_msg(strncmp(r->err, want, strlen(want)) == 0, "stderr: %s", r->err);
        ck_assert_ptr_eq(strchr(r->err, '\n'), r->err + strlen(r->err) - 1); /* one line */
    }
    unlink(good);
    unlink(badf);
    rmdir(dir);
}
END_TEST

START_TEST(replay_all_on_the_bundled_traces_is_ok)
{
    struct tl_run *r = heaplab("replay", "-p", "all", "--repeat", "1", "-f", "csv", "traces/handmade-basic.rep", NULL);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    size_t rows = 0;
    for (const char *p = strchr(r->out, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
        rows++;
    ck_assert_uint_eq(rows, hl_policy_count());
    ck_assert_ptr_null(strstr(r->out, ",crashed"));
}
END_TEST

/* The table: the RSS after the run in binary units, and below the rows
 * which regime every row ran under. */
START_TEST(table_shows_rss_after_and_the_regimes)
{
    struct tl_run *r = heaplab("replay", "-p", "first-fit", "--preset", "malloclab", "--repeat", "1",
                            "traces/handmade-basic.rep", NULL);
    if (!r)
        return;
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    ck_assert_msg(strncmp(r->out, "trace", 5) == 0 && strstr(r->out, "  rss_after  ") &&
                      strstr(r->out, "  rss_after  ") < strchr(r->out, '\n'),
                  "%s", r->out);
    ck_assert_msg(strstr(r->out, "\n\nregime trim=off mmap=off: every row\n"), "%s", r->out);
    /* a line of the table: the cell under rss_after is a size in K or M */
    const char *row = strstr(r->out, "first-fit");
    ck_assert_ptr_nonnull(row);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(row, "\n"), row);
    ck_assert_msg(strstr(line, "K  ") || strstr(line, "M  "), "%s", line);
}
END_TEST

Suite *make_cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, policies_lists_every_registered_policy);
    tcase_add_test(tc, policies_list_gives_name_and_search_cost);
    tcase_add_test(tc, policies_verbose_shows_parameters_and_defaults);
    tcase_add_test(tc, layout_shows_the_segments_and_overcommit);
    tcase_add_test(tc, layout_overcommit_asks_malloc_and_says_why);
    tcase_add_test(tc, usage_errors_exit_2_with_one_line);
    tcase_add_test(tc, help_on_every_command_and_version);
    tcase_add_test(tc, policies_named_and_plugin_parameters);
    tcase_add_test(tc, a_bad_trace_stops_the_run_before_any_row);
    tcase_add_test(tc, replay_all_on_the_bundled_traces_is_ok);
    tcase_add_test(tc, table_shows_rss_after_and_the_regimes);
    suite_add_tcase(s, tc);
    return s;
}
