/*
 * cmd_import.c - heaplab import: a trace from an mtrace, ltrace or
 * heaptrack log (import.h), and what could not be carried over.
 *
 * The trace is written to a temporary file beside OUT and renamed, so a
 * failed import leaves no half trace behind.  Exit status: 0, or 2 for bad
 * usage, a log that cannot be read (file:line: what is wrong) and an
 * output that cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "import.h"
#include "text.h"
#include "trace.h"
#include "util.h"

static void usage(FILE *out)
{
    fputs("usage: heaplab import --from FORMAT [options] LOG -o OUT.rep\n"
          "\n"
          "Turns what another tool recorded into a heaplab trace: pointers become ids,\n"
          "frees of blocks allocated before recording began and failed calls are\n"
          "dropped, blocks still live at the end are freed at the end.  What could not\n"
          "be carried over is counted on standard error.\n"
          "\n"
          "formats (plain, gzip or zstd files; '-' for standard input):\n"
          "  mtrace     glibc's MALLOC_TRACE log (libc_malloc_debug.so, glibc >= 2.34);\n"
          "             calloc and aligned allocations come out as malloc\n"
          "  ltrace     ltrace [-f] -e malloc+free+calloc+realloc output (also\n"
          "             reallocarray, memalign, aligned_alloc, valloc, pvalloc)\n"
          "  heaptrack  heaptrack --raw output (the .raw.zst file, before\n"
          "             heaptrack_interpret); reallocs come out as free + malloc\n"
          "\n"
          "options:\n"
          "  -f, --from FORMAT     the log's format (required)\n"
          "  -o, --output OUT.rep  the trace (default, or '-': standard output)\n"
          "      --no-balance      leave blocks live at the end live\n"
          "      --keep-free-null  write free(NULL) as 'f -1' (default: dropped)\n"
          "      --pid PID         ltrace: keep only this pid's lines (repeatable; default:\n"
          "                        all, as one heap: right for threads, not for forks)\n"
          "  -q, --quiet           no summary, only errors\n"
          "  -h, --help            this help\n",
          out);
}

/* Write t to path ("-": stdout) through a temporary file renamed into
 * place.  0, or 2 after a message. */
static int write_trace(const struct hl_trace *t, const char *path)
{
    if (strcmp(path, "-") == 0) {
        if (hl_trace_write(t, stdout) != 0) {
            hl_cli_error("import", "standard output: %s", strerror(errno));
            return 2;
        }
        return 0;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        hl_cli_error("import", "out of memory");
        return 2;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd >= 0) { /* mkstemp's 0600: make it what a plain create would */
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        hl_cli_error("import", "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return 2;
    }
    int bad = hl_trace_write(t, f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && hl_replace_file(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        hl_cli_error("import", "%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    return bad ? 2 : 0;
}

int hl_cmd_import(int argc, char **argv)
{
    enum { OPT_NO_BALANCE = 256, OPT_KEEP_NULL, OPT_PID };
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"no-balance", no_argument, NULL, OPT_NO_BALANCE},
        {"keep-free-null", no_argument, NULL, OPT_KEEP_NULL},
        {"pid", required_argument, NULL, OPT_PID},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct hl_import_opts opts;
    memset(&opts, 0, sizeof opts);
    const char *from = NULL, *outpath = "-";
    int quiet = 0, c;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "f:o:qh", longopts, "import")) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case OPT_NO_BALANCE:
            opts.tb.no_balance = 1;
            break;
        case OPT_KEEP_NULL:
            opts.tb.keep_free_null = 1;
            break;
        case OPT_PID:
            if (opts.npids == HL_IMPORT_MAX_PIDS) {
                hl_cli_error("import", "--pid: at most %d pids", HL_IMPORT_MAX_PIDS);
                return 2;
            }
            if (hl_parse_u64(optarg, UINT32_MAX, &opts.pids[opts.npids]) != 0) {
                hl_cli_error("import", "--pid: '%s' is not a pid", optarg);
                return 2;
            }
            opts.npids++;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    enum hl_import_format fmt;
    if (!from) {
        hl_cli_error("import", "--from FORMAT is required: mtrace, ltrace or heaptrack (see 'heaplab import --help')");
        return 2;
    }
    if (hl_import_format_parse(from, &fmt) != 0) {
        static const char *const names[] = {"mtrace", "ltrace", "heaptrack"};
        const char *near = hl_suggest(from, names, 3);
        hl_cli_error("import", "--from: unknown format '%s'%s%s%s (mtrace, ltrace or heaptrack)", from,
                     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return 2;
    }
    if (opts.npids && fmt != HL_IMPORT_LTRACE) {
        hl_cli_error("import", "--pid is for ltrace logs (an %s log holds one process)", from);
        return 2;
    }
    if (optind + 1 != argc) {
        hl_cli_error("import", optind == argc ? "no log given (see 'heaplab import --help')"
                                              : "one log at a time (see 'heaplab import --help')");
        return 2;
    }
    const char *in = argv[optind];

    struct hl_trace t;
    struct hl_import_stats st;
    char err[512];
    if (hl_import(fmt, in, &opts, &t, &st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int r = write_trace(&t, outpath);
    if (r == 0 && !quiet) {
        char prefix[600];
        snprintf(prefix, sizeof prefix, "heaplab: import: %s", in);
        fprintf(stderr,
                "%s: %s log, %" PRIu64 " lines, %" PRIu64 " calls -> %" PRIu64 " ops, %" PRIu32
                " ids, peak live %" PRIu64 " bytes\n",
                prefix, from, st.lines, st.events, t.nops, t.num_ids, t.sugg_heapsize);
        hl_import_print_stats(&st, prefix, stderr);
        const char *loss = hl_import_format_loss(fmt);
        if (*loss)
            fprintf(stderr, "%s: note: %s\n", prefix, loss);
    }
    hl_trace_free(&t);
    return r;
}
