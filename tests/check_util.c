/*
 * check_util.c - the harness's shared helpers (harness/util/util.c) and lib's numbers and
 * messages (lib/text.c).
 */
#include <check.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "testutil.h"
#include "util.h"

START_TEST(ends_with)
{
    ck_assert(hl_ends_with("trace.rep.gz", ".gz"));
    ck_assert(hl_ends_with(".so", ".so"));
    ck_assert(!hl_ends_with("so", ".so"));
    ck_assert(!hl_ends_with("a.so.1", ".so"));
    ck_assert(hl_ends_with("anything", ""));
}
END_TEST

/* PATH search as exec does it: the first executable regular file, an
 * empty element meaning the current folder, a name with a slash as given. */
START_TEST(path_search)
{
    char buf[PATH_MAX], dir[] = "/tmp/heaplab-util.XXXXXX", cwd[PATH_MAX];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    char tool[PATH_MAX], sub[PATH_MAX];
    snprintf(tool, sizeof tool, "%s/hl-tool", dir);
    snprintf(sub, sizeof sub, "%s/hl-dir", dir);
    FILE *f = fopen(tool, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\n", f);
    fclose(f);
    ck_assert_int_eq(chmod(tool, 0755), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);

    const char *saved = getenv("PATH");
    char *old = saved ? strdup(saved) : NULL;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "/nonexistent:%s", dir);
    setenv("PATH", path, 1);
    ck_assert_int_eq(hl_path_search("hl-tool", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, tool);
    ck_assert_int_eq(hl_path_search("hl-dir", buf, sizeof buf), -1); /* a folder is not a program */
    ck_assert_int_eq(hl_path_search("hl-missing", buf, sizeof buf), -1);
    ck_assert_int_eq(hl_path_search(tool, buf, sizeof buf), 0); /* a slash: as given */
    ck_assert_int_eq(hl_path_search(sub, buf, sizeof buf), -1);

    setenv("PATH", "/nonexistent::", 1); /* an empty element: the current folder */
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(hl_path_search("hl-tool", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "./hl-tool");
    ck_assert_int_eq(chdir(cwd), 0);

    setenv("PATH", "", 1); /* empty: the system's folders */
    ck_assert_int_eq(hl_path_search("sh", buf, sizeof buf), 0);
    ck_assert(hl_ends_with(buf, "/sh"));

    if (old) {
        setenv("PATH", old, 1);
        free(old);
    } else {
        unsetenv("PATH");
    }
    unlink(tool);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

/* Digits only: no sign, blank or suffix; max is allowed, max + 1 is not. */
START_TEST(parse_u64)
{
    uint64_t v = 7;
    ck_assert_int_eq(hl_parse_u64("0", 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(hl_parse_u64("010", 10, &v), 0); /* decimal, not octal */
    ck_assert_uint_eq(v, 10);
    ck_assert_int_eq(hl_parse_u64("86400", 86400, &v), 0);
    ck_assert_uint_eq(v, 86400);
    ck_assert_int_eq(hl_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = 7;
    ck_assert_int_eq(hl_parse_u64("86401", 86400, &v), -1);
    ck_assert_int_eq(hl_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_u64("99999999999999999999", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_u64("1", 0, &v), -1);
    static const char *const bad[] = {"", "-1", "-0", "+1", " 1", "1 ", "12x", "0x10", "1k", "1.5", "\t", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(hl_parse_u64(bad[i], UINT64_MAX, &v) == -1, "'%s' accepted", bad[i]);
    ck_assert_uint_eq(v, 7); /* left alone on failure */
}
END_TEST

/* A C literal: 0x hex, 0 octal, else decimal. */
START_TEST(parse_u64_prefixed)
{
    uint64_t v = 7;
    ck_assert_int_eq(hl_parse_u64_prefixed("16", 16, &v), 0);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(hl_parse_u64_prefixed("0x10", 16, &v), 0);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(hl_parse_u64_prefixed("0XfF", 255, &v), 0);
    ck_assert_uint_eq(v, 255);
    ck_assert_int_eq(hl_parse_u64_prefixed("010", 16, &v), 0);
    ck_assert_uint_eq(v, 8);
    ck_assert_int_eq(hl_parse_u64_prefixed("0", 16, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(hl_parse_u64_prefixed("0xffffffffffffffff", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    v = 7;
    ck_assert_int_eq(hl_parse_u64_prefixed("0x11", 16, &v), -1);
    ck_assert_int_eq(hl_parse_u64_prefixed("0x10000000000000000", UINT64_MAX, &v), -1);
    static const char *const bad[] = {"", "-1", "+1", " 1", "12x", "0x", "0x-1", "08", "0b1", "ff", "1k"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(hl_parse_u64_prefixed(bad[i], UINT64_MAX, &v) == -1, "'%s' accepted", bad[i]);
    ck_assert_uint_eq(v, 7);
}
END_TEST

/* Appends up to cap - 1 bytes in all, always NUL-terminated. */
START_TEST(msg_put)
{
    char buf[8];
    size_t n = 0;
    memset(buf, 'x', sizeof buf);
    hl_msg_put(buf, sizeof buf, &n, "");
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(buf, "");
    hl_msg_put(buf, sizeof buf, &n, "ab");
    hl_msg_put_u64(buf, sizeof buf, &n, 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(buf, "ab0");
    hl_msg_put(buf, sizeof buf, &n, "cdefgh"); /* cut at the cap */
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(buf, "ab0cdef");
    hl_msg_put(buf, sizeof buf, &n, "z"); /* full: nothing more */
    hl_msg_put_u64(buf, sizeof buf, &n, 9);
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(buf, "ab0cdef");

    char one[1] = {'x'};
    n = 0;
    hl_msg_put(one, sizeof one, &n, "abc");
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(one[0], 0);

    char big[32];
    n = 0;
    hl_msg_put_u64(big, sizeof big, &n, UINT64_MAX);
    hl_msg_put(big, sizeof big, &n, " ");
    hl_msg_put_u64(big, sizeof big, &n, 1234);
    ck_assert_str_eq(big, "18446744073709551615 1234");
    ck_assert_uint_eq(n, strlen(big));
    char small[6];
    n = 0;
    hl_msg_put_u64(small, sizeof small, &n, 1234567); /* digits cut like text */
    ck_assert_str_eq(small, "12345");
}
END_TEST

/* Sizes with a binary suffix, as every size option takes them. */
START_TEST(parse_size)
{
    uint64_t v = 7;
    ck_assert_int_eq(hl_parse_size("4096", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(hl_parse_size("64k", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 65536);
    ck_assert_int_eq(hl_parse_size("20M", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 20u << 20);
    ck_assert_int_eq(hl_parse_size("1g", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 1u << 30);
    ck_assert_int_eq(hl_parse_size("0x10k", UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 16u << 10);
    v = 7;
    ck_assert_int_eq(hl_parse_size("k", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_size("", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_size("12kb", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_size("-1k", UINT64_MAX, &v), -1);
    ck_assert_int_eq(hl_parse_size("2g", (uint64_t)1 << 30, &v), -1); /* over max */
    ck_assert_int_eq(hl_parse_size("17179869184g", UINT64_MAX, &v), -1); /* 2^64: overflows */
    ck_assert_uint_eq(v, 7);
}
END_TEST

/* "did you mean": near words, unambiguous beginnings, nothing when far. */
START_TEST(suggest)
{
    static const char *const words[] = {"first-fit", "next-fit", "best-fit", "worst-fit", "rbtree", "tlsf", NULL,
                                        "buddy", "pool"};
    size_t n = sizeof words / sizeof words[0];
    ck_assert_str_eq(hl_suggest("bestfit", words, n), "best-fit");
    ck_assert_str_eq(hl_suggest("frist-fit", words, n), "first-fit"); /* a swap counts one */
    ck_assert_str_eq(hl_suggest("tlfs", words, n), "tlsf");
    ck_assert_str_eq(hl_suggest("budd", words, n), "buddy");
    ck_assert_str_eq(hl_suggest("rbt", words, n), "rbtree"); /* the only one that starts so */
    ck_assert_ptr_null(hl_suggest("fit", words, n));         /* four candidates end so, none starts so */
    ck_assert_ptr_null(hl_suggest("jemalloc", words, n));
    ck_assert_ptr_null(hl_suggest("x", words, n));
}
END_TEST

static int child_writes(void *arg)
{
    int *shared = arg;
    *shared = 42;
    return 3;
}

static int child_crashes(void *arg)
{
    (void)arg;
    signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would report and exit instead */
    raise(SIGSEGV);
    return 0;
}

/* A forked child hands back through shared memory; its exit status and a
 * crash read the same wherever the harness reports them. */
START_TEST(child_run)
{
    int *shared = hl_shared_alloc(sizeof *shared);
    ck_assert_ptr_nonnull(shared);
    int status;
    char how[96];
    ck_assert_int_eq(hl_child_run(child_writes, shared, &status), 0);
    ck_assert_int_eq(*shared, 42);
    ck_assert_str_eq(hl_child_status(status, how, sizeof how), "exited with status 3");
    ck_assert_int_eq(hl_child_run(child_crashes, NULL, &status), 0);
    ck_assert_str_eq(hl_child_status(status, how, sizeof how), "crashed by signal 11 (Segmentation fault)");
    char tiny[12];
    ck_assert_str_eq(hl_child_status(status, tiny, sizeof tiny), "crashed by ");
    hl_shared_free(shared, sizeof *shared);
}
END_TEST

/* The signal handler's words are hl_child_status's. */
START_TEST(msg_put_signal)
{
    char buf[96];
    size_t n = 0;
    hl_msg_put(buf, sizeof buf, &n, "mm_free: ");
    hl_msg_put_signal(buf, sizeof buf, &n, SIGBUS);
    ck_assert_str_eq(buf, "mm_free: crashed by signal 7 (Bus error)");
}
END_TEST

/* A program started by path: its exit status comes back, and one that
 * does not exist is an error, not a child that exits 127. */
START_TEST(child_spawn)
{
    char *argv[] = {"sh", "-c", "echo quiet; exit 5", NULL};
    int status;
    pid_t pid = hl_child_spawn("/bin/sh", argv, NULL, 1);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(hl_child_wait(pid, &status), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 5);
    char *none[] = {"heaplab-no-such-program", NULL};
    ck_assert_int_eq(hl_child_spawn("/nonexistent/heaplab-no-such-program", none, NULL, 1), -1);
}
END_TEST

Suite *make_util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, ends_with);
    tcase_add_test(tc, path_search);
    tcase_add_test(tc, parse_u64);
    tcase_add_test(tc, parse_u64_prefixed);
    tcase_add_test(tc, msg_put);
    tcase_add_test(tc, parse_size);
    tcase_add_test(tc, suggest);
    tcase_add_test(tc, child_run);
    tcase_add_test(tc, msg_put_signal);
    tcase_add_test(tc, child_spawn);
    suite_add_tcase(s, tc);
    return s;
}
