/*
 * cmd_record.c - heaplab record: a program's allocation trace, recorded.
 *
 * Runs COMMAND with the recorder (libheaplab-record.so, beside the heaplab
 * binary) preloaded, the raw logs going to a folder of their own (--raw,
 * or a temporary one), and waits for it; then turns each process image's
 * log into a trace (rawlog.h, through the trace builder) and writes them:
 * OUT for the image with the most calls, OUT.PID.rep for the others with
 * --all-processes.  Without --all-processes only the command's own process
 * is recorded (the images it execs included); the programs it starts run
 * unrecorded, and are named in one line.  A summary line per trace goes
 * to standard error.
 *
 * The exit status is the command's (128 + N when signal N ended it, as in
 * a shell), once the traces are written; 127 when it is not found, 126
 * when it cannot be run, 2 for bad usage or when no trace can be written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "child.h"
#include "cli.h"
#include "commands.h"
#include "heaplab/record.h"
#include "rawlog.h"
#include "util.h"

static void usage(FILE *out)
{
    fputs("usage: heaplab record -o OUT.rep [options] [--] COMMAND [ARGS...]\n"
          "\n"
          "Runs COMMAND with heaplab's recorder (" HL_RECORD_LIB ") preloaded: every\n"
          "malloc, calloc, realloc, free and memalign-kind call goes to glibc's malloc as\n"
          "usual and is logged, in the order the calls took effect, threads included.\n"
          "Then writes the log as a trace: pointers become ids, frees of blocks allocated\n"
          "before recording began are dropped and counted, blocks live at exit are freed\n"
          "at the end.  One summary line per trace on stderr.  The exit status is\n"
          "COMMAND's (128+N when signal N ended it); 127 when it is not found, 126 when\n"
          "it cannot be run, 2 for bad usage or when no trace can be written.\n"
          "\n"
          "options:\n"
          "  -o, --output OUT       the trace (.rep, or .rep.gz compressed)\n"
          "      --all-processes    record every process COMMAND starts, too: OUT is the\n"
          "                         one with the most calls, OUT.PID.rep the others\n"
          "                         (without it only COMMAND's own process is recorded)\n"
          "      --no-balance       leave blocks live at exit live in the trace\n"
          "      --raw DIR          keep the raw logs in DIR (made if missing; must hold\n"
          "                         none): one PID.raw per process image\n"
          "  -v, --verbose          what each trace left out or changed, a line each\n"
          "  -h, --help             this help\n"
          "\n"
          "Interpreters with allocators of their own record faithfully only with those\n"
          "off: PYTHONMALLOC=malloc for CPython.  HEAPLAB_RECORD_LIB names another\n"
          "library than the one beside the heaplab binary.\n",
          out);
}

enum { OPT_RAW = 256, OPT_ALL, OPT_NO_BALANCE };

/* A raw log of the folder. */
struct log {
    char *path;
    char stem[64]; /* PID or PID-K: what names the trace */
    struct hl_rawlog_info info;
};

static int by_start(const void *a, const void *b)
{
    const struct log *x = a, *y = b;
    if (x->info.start_ns != y->info.start_ns)
        return x->info.start_ns < y->info.start_ns ? -1 : 1;
    return strcmp(x->stem, y->stem);
}

/* ---- writing a trace, compressed when its name ends in .gz ------------------- */

static ssize_t gz_cookie_write(void *cookie, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? 1u << 30 : (unsigned)(n - done);
        int w = gzwrite((gzFile)cookie, buf + done, chunk);
        if (w <= 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)n;
}

static int gz_cookie_close(void *cookie) { return gzclose((gzFile)cookie) == Z_OK ? 0 : -1; }

/* 0, or -1 after one line. */
static int write_trace(const struct hl_trace *t, const char *path)
{
    FILE *f;
    if (hl_ends_with(path, ".gz")) {
        gzFile gz = gzopen(path, "wb6");
        cookie_io_functions_t io = {NULL, gz_cookie_write, NULL, gz_cookie_close};
        f = gz ? fopencookie(gz, "w", io) : NULL;
        if (gz && !f)
            gzclose(gz);
    } else {
        f = fopen(path, "w");
    }
    if (!f) {
        hl_cli_error("record", "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = hl_trace_write(t, f);
    int e = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        e = errno ? errno : EIO;
    }
    if (rc != 0) {
        hl_cli_error("record", "%s: %s", path, strerror(e));
        unlink(path);
    }
    return rc;
}

/* OUT for the log at index `main`, OUT's stem + ".STEM.rep[.gz]" for another. */
static void trace_name(char *buf, size_t len, const char *out, const struct log *lg, int is_main)
{
    if (is_main) {
        snprintf(buf, len, "%s", out);
        return;
    }
    const char *ext = hl_ends_with(out, ".rep.gz") ? ".rep.gz" : hl_ends_with(out, ".rep") ? ".rep"
                                                             : hl_ends_with(out, ".gz")    ? ".gz"
                                                                                           : "";
    size_t stem = strlen(out) - strlen(ext);
    snprintf(buf, len, "%.*s.%s%s", (int)stem, out, lg->stem, *ext ? ext : ".rep");
}

/* ---- the folder of raw logs -------------------------------------------------- */

/* The logs in dir, sorted by start; their number, or -1 after one line. */
static int list_logs(const char *dir, struct log **out)
{
    DIR *d = opendir(dir);
    if (!d) {
        hl_cli_error("record", "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct log *logs = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    char err[PATH_MAX + 256];
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || !hl_ends_with(e->d_name, ".raw") || len - 4 >= sizeof logs[0].stem)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            struct log *grown = realloc(logs, (size_t)cap * sizeof *logs);
            if (!grown)
                goto oom;
            logs = grown;
        }
        struct log *lg = &logs[n];
        memset(lg, 0, sizeof *lg);
        memcpy(lg->stem, e->d_name, len - 4);
        lg->path = malloc(strlen(dir) + 1 + len + 1);
        if (!lg->path)
            goto oom;
        sprintf(lg->path, "%s/%s", dir, e->d_name);
        n++;
        if (hl_rawlog_info(lg->path, &lg->info, err, sizeof err) != 0) {
            hl_cli_error("record", "%s", err);
            goto fail;
        }
    }
    closedir(d);
    if (n)
        qsort(logs, (size_t)n, sizeof *logs, by_start);
    *out = logs;
    return n;
oom:
    hl_cli_error("record", "%s", strerror(ENOMEM));
fail:
    closedir(d);
    for (int i = 0; i < n; i++)
        free(logs[i].path);
    free(logs);
    return -1;
}

static void free_logs(struct log *logs, int n)
{
    for (int i = 0; i < n; i++)
        free(logs[i].path);
    free(logs);
}

/* Remove the temporary folder and the logs in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[PATH_MAX];
        while ((e = readdir(d)))
            if (hl_ends_with(e->d_name, ".raw") && snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
                unlink(p);
        closedir(d);
    }
    rmdir(dir);
}

/* The folder for the logs, absolute, into dir: --raw's (made if missing,
 * refused if it holds logs already), or a new temporary one.  0, or 2
 * after one line. */
static int make_dir(const char *raw, char *dir, size_t len)
{
    if (!raw) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, len, "%s/heaplab-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            hl_cli_error("record", "%s: %s", dir, strerror(errno));
            return 2;
        }
        return 0;
    }
    if (mkdir(raw, 0777) != 0 && errno != EEXIST) {
        hl_cli_error("record", "--raw %s: %s", raw, strerror(errno));
        return 2;
    }
    char path[PATH_MAX];
    if (!realpath(raw, path) || strlen(path) >= len) {
        hl_cli_error("record", "--raw %s: %s", raw, errno ? strerror(errno) : "path too long");
        return 2;
    }
    DIR *d = opendir(path);
    if (!d) {
        hl_cli_error("record", "--raw %s: %s", raw, strerror(errno));
        return 2;
    }
    struct dirent *e;
    int old = 0;
    while ((e = readdir(d)))
        old |= hl_ends_with(e->d_name, ".raw");
    closedir(d);
    if (old) {
        hl_cli_error("record", "--raw %s: holds the raw logs of an earlier recording (give an empty or new folder)",
                     raw);
        return 2;
    }
    strcpy(dir, path);
    return 0;
}

/* ---- running the command ----------------------------------------------------- */

/* Fork and exec argv with the recorder preloaded; wait.  The command's
 * wait status in *status; 0, or 126/127 (said) when it could not be run,
 * 2 when it could not be started. */
static int run_command(char **argv, const char *lib, const char *dir, int all, int *status)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        hl_cli_error("record", "pipe: %s", strerror(errno));
        return 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        hl_cli_error("record", "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return 2;
    }
    if (pid == 0) {
        close(pfd[0]);
        char me[32];
        snprintf(me, sizeof me, "%ld", (long)getpid());
        int e = 0;
        if (setenv(HL_RECORD_ENV_DIR, dir, 1) != 0 ||
            (all ? unsetenv(HL_RECORD_ENV_PID) : setenv(HL_RECORD_ENV_PID, me, 1)) != 0 ||
            hl_cli_set_preload(lib) != 0)
            e = errno ? errno : ENOMEM;
        else {
            execvp(argv[0], argv);
            e = errno;
        }
        ssize_t w = write(pfd[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    /* as a shell waiting for a command: ^C and ^\ are the command's; the
     * trace of what it did so far is still written */
    struct sigaction ign, old_int, old_quit;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int e = 0;
    ssize_t got;
    do
        got = read(pfd[0], &e, sizeof e);
    while (got < 0 && errno == EINTR);
    close(pfd[0]);
    int rc = 0;
    if (hl_child_wait(pid, status) < 0) {
        hl_cli_error("record", "waiting for %s: %s", argv[0], strerror(errno));
        rc = 2;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (rc == 0 && got == (ssize_t)sizeof e) {
        if (e == ENOENT)
            hl_cli_error("record", "%s: command not found", argv[0]);
        else
            hl_cli_error("record", "%s: %s", argv[0], strerror(e));
        rc = e == ENOENT ? 127 : 126;
    }
    return rc;
}

/* ---- the summary --------------------------------------------------------------- */

static void summary(const struct log *lg, const struct hl_trace *t, const struct hl_tb_stats *st, const char *file,
                    int no_balance)
{
    uint64_t peak = hl_trace_peak_live(t);
    fprintf(stderr, "heaplab: record: pid %" PRIu32 " (%s): %" PRIu64 " ops, %" PRIu32 " ids, peak live %" PRIu64
                    " bytes, %" PRIu64 " unknown frees dropped",
            lg->info.pid, lg->info.cmdline, t->nops, t->num_ids, peak, st->unknown_free + st->double_free);
    if (st->left_live)
        fprintf(stderr, ", %" PRIu64 " live at exit%s", st->left_live, no_balance ? " (kept live)" : "");
    if (lg->info.threads > 1)
        fprintf(stderr, ", %" PRIu32 " threads", lg->info.threads);
    if (lg->info.lost || lg->info.damaged)
        fprintf(stderr, ", %" PRIu64 " records LOST", lg->info.lost + lg->info.damaged);
    if (file)
        fprintf(stderr, " -> %s\n", file);
    else
        fputs(" (not written: --all-processes writes every process)\n", stderr);
}

int hl_cmd_record(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"raw", required_argument, NULL, OPT_RAW},
        {"all-processes", no_argument, NULL, OPT_ALL},
        {"no-balance", no_argument, NULL, OPT_NO_BALANCE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *raw = NULL;
    int all = 0, verbose = 0, c;
    struct hl_tb_opts opts = {0};
    optind = 0; /* glibc: a full reset, so that '+' is read */
    while ((c = hl_cli_getopt(argc, argv, "+o:vh", longopts, "record")) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case OPT_RAW:
            raw = optarg;
            break;
        case OPT_ALL:
            all = 1;
            break;
        case OPT_NO_BALANCE:
            opts.no_balance = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (!out) {
        hl_cli_error("record", "where to? (heaplab record -o OUT.rep [options] -- COMMAND [ARGS...])");
        return 2;
    }
    if (optind >= argc) {
        hl_cli_error("record", "which command? (heaplab record -o OUT.rep [options] -- COMMAND [ARGS...])");
        return 2;
    }
    /* the trace's folder must take it: found out now, not after the run */
    char outdir[PATH_MAX];
    snprintf(outdir, sizeof outdir, "%s", out);
    char *slash = strrchr(outdir, '/');
    if (slash)
        slash[slash == outdir] = 0;
    else
        strcpy(outdir, ".");
    if (access(outdir, W_OK) != 0) {
        hl_cli_error("record", "-o %s: %s: %s", out, outdir, strerror(errno));
        return 2;
    }
    char lib[PATH_MAX], dir[PATH_MAX];
    if (hl_cli_find_library("record", "HEAPLAB_RECORD_LIB", HL_RECORD_LIB, lib, sizeof lib) != 0)
        return 2;
    if (make_dir(raw, dir, sizeof dir) != 0)
        return 2;

    int status = 0;
    int rc = run_command(argv + optind, lib, dir, all, &status);
    if (rc != 0) {
        if (!raw)
            remove_dir(dir);
        return rc;
    }
    int result = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 2;
    if (WIFSIGNALED(status)) {
        char how[128];
        hl_cli_error("record", "%s %s; the trace is what it did until then", argv[optind],
                     hl_child_status(status, how, sizeof how));
    }

    struct log *logs = NULL;
    int n = list_logs(dir, &logs);
    int best = -1;
    for (int i = 0; i < n; i++)
        if (!(logs[i].info.flags & HL_RAW_UNRECORDED) &&
            (best < 0 || logs[i].info.records > logs[best].info.records))
            best = i;
    if (n >= 0 && best < 0) {
        hl_cli_error("record", "%s made no allocation call that the recorder saw (a static program, or one that "
                               "clears LD_PRELOAD?); no trace written",
                     argv[optind]);
        result = 2;
    }
    for (int i = 0; best >= 0 && i < n; i++) {
        struct log *lg = &logs[i];
        if (lg->info.flags & HL_RAW_UNRECORDED)
            continue;
        char name[PATH_MAX + 64], err[PATH_MAX + 256];
        trace_name(name, sizeof name, out, lg, i == best);
        struct hl_trace t;
        struct hl_tb_stats st;
        if (hl_rawlog_convert(lg->path, &opts, name, &t, &st, &lg->info, err, sizeof err) != 0) {
            hl_cli_error("record", "%s", err);
            result = 2;
            continue;
        }
        int write_it = i == best || all;
        if (write_it && write_trace(&t, name) != 0)
            result = 2;
        else {
            summary(lg, &t, &st, write_it ? name : NULL, opts.no_balance);
            if (verbose) {
                char prefix[96];
                snprintf(prefix, sizeof prefix, "heaplab: record:   pid %" PRIu32, lg->info.pid);
                hl_tb_print_stats(&st, prefix, stderr);
            }
        }
        hl_trace_free(&t);
    }
    /* the programs that ran unrecorded, in one line */
    int unrecorded = 0;
    for (int i = 0; i < n; i++)
        if (logs[i].info.flags & HL_RAW_UNRECORDED) {
            if (!unrecorded++)
                fputs("heaplab: record: not recorded (--all-processes records them):", stderr);
            if (unrecorded <= 8)
                fprintf(stderr, "%s %" PRIu32 " (%.40s)", unrecorded > 1 ? "," : "", logs[i].info.pid,
                        logs[i].info.cmdline);
        }
    if (unrecorded > 8)
        fprintf(stderr, ", and %d more", unrecorded - 8);
    if (unrecorded)
        fputc('\n', stderr);
    if (n < 0)
        result = 2;
    else
        free_logs(logs, n);
    if (!raw)
        remove_dir(dir);
    return result;
}
