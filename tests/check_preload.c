/*
 * check_preload.c - the drop-in malloc (libheaplab-malloc.so) under real
 * programs: the small programs of tests/data/preload-*, built here with cc
 * at -O2 as any program is, and the standard tools, run through `heaplab
 * run -p POLICY` for every policy in the registry, or with LD_PRELOAD set
 * by hand.  Needs $HEAPLAB_BIN (make test sets it) with the library beside
 * it, and cc; skips, saying so, without them.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heaplab/policies.h"
#include "heaplab/preload.h"
#include "testutil.h"

#ifndef HEAPLAB_SANFLAGS
#define HEAPLAB_SANFLAGS "" /* the Makefile says */
#endif

static struct {
    int ready;         /* the fixture built the programs */
    int have_cxx;      /* g++ is there: preload-new was built */
    char dir[256];     /* where the programs are */
    char bin[1024];    /* heaplab */
    char lib[1100];    /* the library, beside it */
    char api[300];     /* preload-api */
} pl;

/* Run argv (NULL-terminated) with the "NAME=VALUE" settings of env
 * (NULL-terminated, or NULL) added to the environment. */
static struct tl_run *run_env(const char *const *env, const char *const *argv)
{
    static struct tl_run r;
    tl_run(&r, env, argv);
    return &r;
}

/* heaplab run -p POLICY [env settings] -- ARGS...: the arguments after
 * policy up to NULL. */
static struct tl_run *under(const char *policy, const char *const *env, const char *arg0, ...)
{
    const char *argv[24] = {pl.bin, "run", "-p", policy, "--", arg0};
    int n = 6;
    va_list ap;
    va_start(ap, arg0);
    while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    return run_env(env, argv);
}

/* Whether the fixture built the programs; a SKIPPED line when not. */
static int ready(void)
{
    if (!pl.ready)
        fprintf(stderr, "preload: SKIPPED: HEAPLAB_BIN is not set (run through make test)\n");
    return pl.ready;
}

#define SKIP_UNLESS_READY()                                                                        \
    do {                                                                                           \
        if (!ready())                                                                              \
            return;                                                                                \
    } while (0)

#define ASSERT_OK(r, what)                                                                         \
    ck_assert_msg((r)->status == 0 && strstr((r)->out, "ok\n"), "%s: status %d\n%s%s", (what),     \
                  (r)->status, (r)->out, (r)->err)

/* preload-api MODE [ARG] under the policy at loop index i, with the
 * settings of env: its checks all hold.  The run, or NULL for a skipped
 * index. */
static struct tl_run *api_ok(int i, const char *const *env, const char *mode, const char *arg)
{
    const struct hl_policy *pol = tl_policy_at(i);
    if (!pol || !ready())
        return NULL;
    struct tl_run *r = under(pol->name, env, pl.api, mode, arg, NULL);
    ASSERT_OK(r, pol->name);
    return r;
}

/* ---- building the programs (once, in the runner) ----------------------------------- */

static void build(const char *what, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "building %s failed: %s", what, cmd);
}

static void setup(void)
{
    const char *bin = getenv("HEAPLAB_BIN");
    const char *src = getenv("HEAPLAB_SRCDIR");
    pl.ready = 0;
    if (!bin || !*bin)
        return;
    if (!src || !*src)
        src = ".";
    snprintf(pl.bin, sizeof pl.bin, "%s", bin);
    snprintf(pl.lib, sizeof pl.lib, "%s", bin);
    char *slash = strrchr(pl.lib, '/');
    snprintf(slash ? slash + 1 : pl.lib, sizeof pl.lib - (size_t)(slash ? slash + 1 - pl.lib : 0), "%s",
             "libheaplab-malloc.so");
    ck_assert_msg(access(pl.lib, R_OK) == 0, "%s: not built (make builds it)", pl.lib);
    tl_make_tmpdir(pl.dir, sizeof pl.dir, "preload");
    char d[1200];
    snprintf(d, sizeof d, "%s/tests/data", src);
    build("preload-early.so", "cc -std=c11 -O2 -Wall -Werror -shared -fPIC %s/preload-early.c -o %s/libpreload-early.so",
          d, pl.dir);
    build("preload-api",
          "cc -std=c11 -O2 -Wall -Werror -pthread %s/preload-api.c -L%s -lpreload-early -Wl,-rpath,%s -o %s/preload-api",
          d, pl.dir, pl.dir, pl.dir);
    build("preload-mallopt", "cc -std=c11 -O2 -Wall -Werror %s/preload-mallopt.c -o %s/preload-mallopt", d, pl.dir);
    char lib_a[1100];
    snprintf(lib_a, sizeof lib_a, "%s", pl.lib);
    strcpy(strrchr(lib_a, '/') ? strrchr(lib_a, '/') + 1 : lib_a, "libheaplab.a");
    /* in a sanitizer build libheaplab.a is instrumented, and the sanitizer's
     * runtime is what defines malloc then */
    build("preload-static",
          "cc -std=c11 -O2 -Wall -Werror %s %s -I%s/include %s/preload-static.c %s -pthread -o %s/preload-static",
          HEAPLAB_SANFLAGS, HEAPLAB_SANFLAGS[0] ? "-DSANITIZED" : "", src, d, lib_a, pl.dir);
    pl.have_cxx = system("command -v g++ >/dev/null 2>&1") == 0;
    if (pl.have_cxx)
        build("preload-new", "g++ -std=c++17 -O2 -Wall -Werror %s/preload-new.cc -o %s/preload-new", d, pl.dir);
    snprintf(pl.api, sizeof pl.api, "%s/preload-api", pl.dir);
    pl.ready = 1;
}

static void teardown(void)
{
    if (pl.dir[0])
        tl_remove_tree(pl.dir);
}

/* ---- the library ------------------------------------------------------------------ */

/* Whether `nm -D OPTS` lists the symbol name (any version of it). */
static int nm_has(const char *opts, const char *name)
{
    char cmd[1400], line[512];
    snprintf(cmd, sizeof cmd, "nm -D %s %s", opts, pl.lib);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *sym = strrchr(line, ' ');
        sym = sym ? sym + 1 : line;
        if (strncmp(sym, name, strlen(name)) == 0 && (sym[strlen(name)] == 0 || sym[strlen(name)] == '@'))
            found = 1;
    }
    ck_assert_int_eq(pclose(f), 0);
    return found;
}

static const char *const api[] = {"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
                                  "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
                                  "malloc_trim", "mallinfo2", "malloc_stats", "mallopt"};
#define NAPI (sizeof api / sizeof api[0])

/* The library exports exactly the malloc API, and calls no malloc of
 * anyone's: the calloc gcc would make of a malloc + memset inside it
 * would be its own (it is built with -fno-builtin-malloc and friends). */
START_TEST(library_exports_the_malloc_api_and_calls_no_malloc)
{
    SKIP_UNLESS_READY();
    char cmd[1400], line[512];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only %s", pl.lib);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *sym = strrchr(line, ' ');
        sym = sym ? sym + 1 : line;
        int known = 0;
        for (size_t i = 0; i < NAPI; i++)
            known |= strcmp(sym, api[i]) == 0;
        ck_assert_msg(known, "the library exports '%s', which is not part of the malloc API", sym);
        n++;
    }
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_uint_eq(n, NAPI);
    for (size_t i = 0; i < NAPI; i++)
        ck_assert_msg(!nm_has("--undefined-only", api[i]), "the library calls another library's %s", api[i]);
    /* nor calls its own exported entry points (through the PLT or not) */
    snprintf(cmd, sizeof cmd,
             "objdump -d --no-show-raw-insn %s | grep -Eq '(call|jmp) .*<(malloc|calloc|realloc|free)(@plt)?>'",
             pl.lib);
    ck_assert_msg(system(cmd) != 0, "the library calls its own malloc, calloc, realloc or free");
}
END_TEST

START_TEST(every_export_works)
{
    struct tl_run *r = api_ok(_i, NULL, "exports", NULL);
    if (r) /* malloc_stats writes glibc's layout */
        ck_assert_msg(strstr(r->err, "Arena 0:\nsystem bytes     = "), "malloc_stats wrote: %s", r->err);
}
END_TEST

START_TEST(failed_allocation_is_null_with_enomem)
{
    api_ok(_i, NULL, "enomem", NULL);
}
END_TEST

/* a mapping right above the program break: the heap goes on in memory
 * of its own (the sbrk source's fallback) */
START_TEST(blocked_break_falls_back_to_a_region)
{
    api_ok(_i, NULL, "blocked-break", NULL);
}
END_TEST

/* preload-early.so's constructor allocates before the library's own has
 * run, and the program's constructor before main */
START_TEST(allocation_before_main_starts_the_heap)
{
    api_ok(_i, NULL, "ctor", NULL);
}
END_TEST

/* preload-api MODE under the policy at loop index i, with the settings of
 * env, ends in SIGABRT after one line on stderr that starts with `line`:
 * that line, or NULL for a skipped index. */
static const char *api_aborts(int i, const char *const *env, const char *mode, const char *line)
{
    const struct hl_policy *pol = tl_policy_at(i);
    if (!pol || !ready())
        return NULL;
    struct tl_run *r = under(pol->name, env, pl.api, mode, NULL);
    ck_assert_msg(r->sig == SIGABRT, "%s: status %d, stderr: %s", pol->name, r->status, r->err);
    ck_assert_msg(strncmp(r->err, line, strlen(line)) == 0, "%s: %s", pol->name, r->err);
    ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "%s: not one line: %s", pol->name, r->err);
    ck_assert_str_eq(r->out, "");
    return r->err;
}

/* the message comes from inside free: write(2) and abort, no stdio */
START_TEST(double_free_is_one_line_and_abort)
{
    const char *want = "heaplab: free(): double free at 0x";
    const char *err = api_aborts(_i, NULL, "double-free", want);
    if (err) {
        const char *hex = err + strlen(want);
        size_t digits = strspn(hex, "0123456789abcdef");
        ck_assert_msg(digits > 0 && strcmp(hex + digits, "\n") == 0, "%s", err);
    }
}
END_TEST

START_TEST(checker_catches_an_overrun_before_free)
{
    const char *env[] = {"HEAPLAB_CHECK=1", NULL};
    api_aborts(_i, env, "overrun", "heaplab: heap check failed before free(0x");
}
END_TEST

/* a write into a freed block: the checker before the next malloc reports
 * the links it led out of the heap, and does not follow them */
START_TEST(checker_catches_a_write_into_a_freed_block)
{
    const char *env[] = {"HEAPLAB_CHECK=1", NULL};
    api_aborts(_i, env, "write-after-free", "heaplab: heap check failed before malloc(), operation ");
}
END_TEST

START_TEST(checker_every_operation_passes_a_sound_program)
{
    const char *env[] = {"HEAPLAB_CHECK=1", NULL};
    api_ok(_i, env, "exports", NULL);
    api_ok(_i, env, "threads", "2000");
}
END_TEST

START_TEST(threads_share_the_heap)
{
    api_ok(_i, NULL, "threads", NULL);
}
END_TEST

/* the parent has threads allocating while it forks; the child allocates
 * (a lock held across fork would hang it: the program's alarm ends that) */
START_TEST(child_of_a_threaded_parent_allocates)
{
    api_ok(_i, NULL, "fork", NULL);
}
END_TEST

START_TEST(cxx_new_and_delete_reach_the_library)
{
    TL_POLICY(pol);
    SKIP_UNLESS_READY();
    if (!pl.have_cxx) {
        if (_i == 0)
            fprintf(stderr, "preload: cxx_new_and_delete_reach_the_library: SKIPPED: no g++\n");
        return;
    }
    char prog[300];
    snprintf(prog, sizeof prog, "%s/preload-new", pl.dir);
    struct tl_run *r = under(pol->name, NULL, prog, NULL);
    ASSERT_OK(r, pol->name);
}
END_TEST

START_TEST(standard_tools_run)
{
    TL_POLICY(pol);
    SKIP_UNLESS_READY();
    struct tl_run *r = under(pol->name, NULL, "sh", "-c", "ls -la / | sort | wc -l", NULL);
    ck_assert_msg(r->status == 0 && atoi(r->out) > 3, "%s: status %d: %s%s", pol->name, r->status, r->out,
                  r->err);
    ck_assert_str_eq(r->err, "");
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        if (_i == 0)
            fprintf(stderr, "preload: standard_tools_run: python3: SKIPPED: not installed\n");
        return;
    }
    r = under(pol->name, NULL, "python3", "-c", "print(sum(range(10**6)))", NULL);
    ck_assert_msg(r->status == 0 && strcmp(r->out, "499999500000\n") == 0, "%s: status %d: %s%s", pol->name,
                  r->status, r->out, r->err);
}
END_TEST

/* ---- settings ------------------------------------------------------------------ */

static char preload_env[1200];

static const char *ld_preload(void)
{
    snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", pl.lib);
    return preload_env;
}

/* an unknown policy: one line naming every valid one, exit status 2, and
 * the program never ran */
START_TEST(bad_settings_stop_the_program_before_main)
{
    SKIP_UNLESS_READY();
    char want[1024] = "heaplab: HEAPLAB_POLICY=bogus: unknown policy (valid: ";
    for (size_t i = 0; i < hl_policy_count(); i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? ", " : "", hl_policy_at(i)->name);
    strcat(want, ")\n");
    const char *argv[] = {pl.api, "main", NULL};
    const char *bogus[] = {ld_preload(), "HEAPLAB_POLICY=bogus", NULL};
    struct tl_run *r = run_env(bogus, argv);
    ck_assert_int_eq(r->status, 2);
    ck_assert_str_eq(r->out, "");
    ck_assert_str_eq(r->err, want);

    static const struct {
        const char *setting, *line;
    } bad[] = {
        {"HEAPLAB_MMAP_THRESHOLD=12q", "heaplab: HEAPLAB_MMAP_THRESHOLD=12q: expected a size in bytes (k, m, g allowed)\n"},
        {"HEAPLAB_CHECK=-1", "heaplab: HEAPLAB_CHECK=-1: expected a count (0: never)\n"},
        {"HEAPLAB_STATS=yes", "heaplab: HEAPLAB_STATS=yes: not a valid choice (valid: 0, 1, json)\n"},
        {"HEAPLAB_POLICY=tlsf:sl=3", "heaplab: HEAPLAB_POLICY=tlsf:sl=3: tlsf: sl must be an integer in [4, 32]\n"},
        {"HEAPLAB_POLICY=tlsf:sl=5",
         "heaplab: HEAPLAB_POLICY=tlsf:sl=5: tlsf refuses this configuration (see 'heaplab policies -v')\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *env[] = {ld_preload(), bad[i].setting, NULL};
        r = run_env(env, argv);
        ck_assert_msg(r->status == 2 && r->out[0] == 0, "%s: status %d, out %s", bad[i].setting, r->status, r->out);
        ck_assert_str_eq(r->err, bad[i].line);
    }
    /* a plugin would be dlopen'ed from inside the heap being made */
    const char *plugin[] = {ld_preload(), "HEAPLAB_POLICY=./my_policy.so", NULL};
    r = run_env(plugin, argv);
    ck_assert_int_eq(r->status, 2);
    ck_assert_msg(strstr(r->err, "a plugin cannot be preloaded") && strchr(r->err, '\n') == r->err + strlen(r->err) - 1,
                  "%s", r->err);
    /* the valid ones run the program */
    const char *good[] = {ld_preload(), "HEAPLAB_POLICY=best-fit:cache=4", "HEAPLAB_MMAP_THRESHOLD=64k",
                          "HEAPLAB_TRIM_THRESHOLD=0", "HEAPLAB_TOP_PAD=1m", "HEAPLAB_STATS=", NULL};
    r = run_env(good, argv);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->out, "main ran\n");
}
END_TEST

START_TEST(stats_at_exit_as_text_and_json_with_the_pid)
{
    TL_POLICY(pol);
    SKIP_UNLESS_READY();
    const char *argv[] = {pl.bin, "run", "-p", pol->name, "--stats", "--", pl.api, "stats", NULL};
    struct tl_run *r = run_env(NULL, argv);
    ck_assert_int_eq(r->status, 0);
    long pid = atol(r->out);
    char head[128];
    snprintf(head, sizeof head, "heaplab: pid %ld: %s: peak footprint ", pid, pol->name);
    ck_assert_msg(strncmp(r->err, head, strlen(head)) == 0, "%s", r->err);
    snprintf(head, sizeof head, "\nheaplab: pid %ld: calls malloc ", pid);
    ck_assert_msg(strstr(r->err, head) != NULL, "%s", r->err);
    snprintf(head, sizeof head, "\nheaplab: pid %ld: sbrk ", pid);
    ck_assert_msg(strstr(r->err, head) != NULL, "%s", r->err);

    char setting[400], file[400];
    snprintf(setting, sizeof setting, "HEAPLAB_STATS_FILE=%s/stats-%%p.json", pl.dir);
    const char *env[] = {"HEAPLAB_STATS=json", setting, NULL};
    r = under(pol->name, env, pl.api, "stats", NULL);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->err, "");
    pid = atol(r->out);
    snprintf(file, sizeof file, "%s/stats-%ld.json", pl.dir, pid);
    FILE *f = fopen(file, "r");
    ck_assert_msg(f != NULL, "%s: not written", file);
    char json[4096] = "";
    size_t n = fread(json, 1, sizeof json - 1, f);
    json[n] = 0;
    fclose(f);
    char want[200];
    snprintf(want, sizeof want, "{\"pid\":%ld,\"policy\":\"%s\",\"source\":\"sbrk\",\"util\":0.", pid, pol->name);
    ck_assert_msg(strncmp(json, want, strlen(want)) == 0, "%s", json);
    ck_assert_msg(strstr(json, "\"calls\":{\"malloc\":") && strstr(json, "\"mmap_calls\":1,") &&
                      strstr(json, "\"peak_heap_bytes\":") && strcmp(json + n - 3, "}}\n") == 0,
                  "%s", json);
}
END_TEST

START_TEST(mallopt_before_the_first_allocation)
{
    SKIP_UNLESS_READY();
    if (strstr(HEAPLAB_SANFLAGS, "undefined")) {
        fprintf(stderr, "preload: mallopt_before_the_first_allocation: SKIPPED: the library carries UBSan's "
                        "runtime, which allocates before main\n");
        return;
    }
    char prog[300];
    snprintf(prog, sizeof prog, "%s/preload-mallopt", pl.dir);
    struct tl_run *r = under(HL_PRELOAD_DEFAULT_POLICY, NULL, prog, NULL);
    ASSERT_OK(r, "mallopt");
}
END_TEST

/* ---- heaplab run ----------------------------------------------------------------- */

START_TEST(run_passes_the_exit_status_through)
{
    SKIP_UNLESS_READY();
    struct tl_run *r = under("tlsf", NULL, pl.api, "exit", "7", NULL);
    ck_assert_int_eq(r->status, 7);
    r = under("tlsf", NULL, "sh", "-c", "kill -TERM $$", NULL);
    ck_assert_int_eq(r->sig, SIGTERM);
    r = under("tlsf", NULL, "no-such-command-here", NULL);
    ck_assert_int_eq(r->status, 127);
    ck_assert_str_eq(r->err, "heaplab: run: no-such-command-here: command not found\n");
    const char *none[] = {pl.bin, "run", NULL};
    r = run_env(NULL, none);
    ck_assert_int_eq(r->status, 2);
    const char *bad[] = {pl.bin, "run", "-p", "bestfit", "--", "true", NULL};
    r = run_env(NULL, bad);
    ck_assert_int_eq(r->status, 2);
    ck_assert_str_eq(r->err, "heaplab: run: unknown policy 'bestfit' (did you mean 'best-fit'? see 'heaplab policies')\n");
}
END_TEST

/* LD_PRELOAD holds the absolute path, so a child that changes directory
 * keeps the library */
START_TEST(run_preloads_by_absolute_path)
{
    SKIP_UNLESS_READY();
    char script[600];
    snprintf(script, sizeof script, "cd / && echo \"$LD_PRELOAD\" && exec %s exports", pl.api);
    struct tl_run *r = under("rbtree", NULL, "sh", "-c", script, NULL);
    ck_assert_msg(r->status == 0, "status %d: %s%s", r->status, r->out, r->err);
    ck_assert_msg(r->out[0] == '/' && strstr(r->out, "libheaplab-malloc.so\n"), "%s", r->out);
    ck_assert_msg(strstr(r->out, "\nok\n") != NULL, "%s", r->out);
}
END_TEST

/* libheaplab.a is the hl_ API: linking it replaces nobody's malloc */
START_TEST(static_library_leaves_malloc_alone)
{
    SKIP_UNLESS_READY();
    char prog[300];
    snprintf(prog, sizeof prog, "%s/preload-static", pl.dir);
    const char *argv[] = {prog, NULL};
    struct tl_run *r = run_env(NULL, argv);
    ASSERT_OK(r, "preload-static");
}
END_TEST

Suite *make_preload_suite(void)
{
    Suite *s = suite_create("preload");
    TCase *tc = tcase_create("preload");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    int n = (int)hl_policy_count();
    tcase_add_test(tc, library_exports_the_malloc_api_and_calls_no_malloc);
    tcase_add_loop_test(tc, every_export_works, 0, n);
    tcase_add_loop_test(tc, failed_allocation_is_null_with_enomem, 0, n);
    tcase_add_loop_test(tc, blocked_break_falls_back_to_a_region, 0, n);
    tcase_add_loop_test(tc, allocation_before_main_starts_the_heap, 0, n);
    tcase_add_loop_test(tc, double_free_is_one_line_and_abort, 0, n);
    tcase_add_loop_test(tc, checker_catches_an_overrun_before_free, 0, n);
    tcase_add_loop_test(tc, checker_catches_a_write_into_a_freed_block, 0, n);
    tcase_add_loop_test(tc, checker_every_operation_passes_a_sound_program, 0, n);
    tcase_add_loop_test(tc, threads_share_the_heap, 0, n);
    tcase_add_loop_test(tc, child_of_a_threaded_parent_allocates, 0, n);
    tcase_add_loop_test(tc, cxx_new_and_delete_reach_the_library, 0, n);
    tcase_add_loop_test(tc, standard_tools_run, 0, n);
    tcase_add_test(tc, bad_settings_stop_the_program_before_main);
    tcase_add_loop_test(tc, stats_at_exit_as_text_and_json_with_the_pid, 0, n);
    tcase_add_test(tc, mallopt_before_the_first_allocation);
    tcase_add_test(tc, run_passes_the_exit_status_through);
    tcase_add_test(tc, run_preloads_by_absolute_path);
    tcase_add_test(tc, static_library_leaves_malloc_alone);
    suite_add_tcase(s, tc);
    return s;
}
