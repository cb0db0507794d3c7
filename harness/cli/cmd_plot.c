/*
 * cmd_plot.c - heaplab plot: the harness's CSVs as charts.
 *
 * heaplab checks what it is given itself (the kind, each CSV's header, every
 * value the chart reads), writes the columns the chart reads to a
 * tab-separated file, and runs the chart's script in plots/ under
 * matplotlib or gnuplot (fork and exec, no shell).  Both backends get the
 * same file, so they draw the same numbers.  Two kinds need more than a
 * copy of the columns:
 *
 *   heapmap  a heap-map CSV can hold millions of rows.  heaplab keeps at
 *            most a few hundred snapshots per policy, evenly spread, and
 *            bins each into a few hundred address columns, each showing the
 *            state that holds most of its bytes; the scripts draw that
 *            raster (panels.tsv and raster.txt in the data folder).
 *   sizes    reads trace files through the trace parser and hands over how
 *            often each request size occurs (trace, size, count).
 *
 * The scripts style a series by its policy's position in the registry:
 * heaplab hands them the registry's names, in order, in $HEAPLAB_POLICIES
 * (hlplot.py and heaplab.gp say how a position becomes a style).
 *
 * Rows whose status column says anything but "ok" are left out.  The
 * scripts also run on their own (each has a usage line); --keep-data DIR
 * keeps what heaplab handed them.
 *
 * Exit status: 0 drawn; 1 the script failed; 2 bad usage or input, or no
 * plotting stack (the message names the Debian package).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "commands.h"
#include "heaplab/policies.h"
#include "plot.h"
#include "util.h"

#ifndef HEAPLAB_PLOTS_DIR
#define HEAPLAB_PLOTS_DIR "plots"
#endif

static const char usage_text[] =
    "usage: heaplab plot KIND INPUT... -o OUT.png|OUT.svg [options]\n"
    "\n"
    "kinds (INPUT):\n"
    "  timeline    heap and live bytes over operations, a line per policy, one trace\n"
    "              (replay --timeline CSV)\n"
    "  frag        internal and external fragmentation over operations, one trace\n"
    "              (replay --timeline CSV)\n"
    "  util        utilization per trace per policy, grouped bars (replay -f csv)\n"
    "  throughput  ops/s per trace per policy relative to baseline:glibc, log scale,\n"
    "              whiskers from the slowest to the best pass (replay -f csv)\n"
    "  heapmap     address against time, used/free/header/mapped, a panel per policy,\n"
    "              one trace (replay --heapmap CSV)\n"
    "  sizes       request-size histogram and CDF (trace files, or a trace,size,count CSV)\n"
    "  scaling     ops/s against live blocks (make scaling's CSV)\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     the chart, .png or .svg (required)\n"
    "  -b, --backend NAME    matplotlib (default) or gnuplot\n"
    "  -s, --size WxH        pixels (default 1200x800)\n"
    "  -t, --trace NAME      timeline, frag, heapmap: the trace to draw (its path as in\n"
    "                        the CSV, or its file name; default the first in the CSV)\n"
    "      --keep-data DIR   keep the data handed to the script in DIR\n"
    "\n"
    "environment: HEAPLAB_PLOTS (the plots/ folder), HEAPLAB_PYTHON (an interpreter\n"
    "that imports matplotlib), HEAPLAB_GNUPLOT (the gnuplot program).  The scripts\n"
    "get the registry's policy names in HEAPLAB_POLICIES (a series' style is its\n"
    "policy's registry position).\n";

#define DEFAULT_W 1200
#define DEFAULT_H 800
#define MIN_PX 160
#define MAX_PX 16384

/* ---- the plotting stacks ----------------------------------------------------------- */

/* Run argv[0] with argv (no shell); its output on our stderr (the
 * script's chatter goes with the diagnostics), or to /dev/null when quiet.
 * The exit status, or -1 when it could not run or was killed. */
static int run(const char *const argv[], int quiet)
{
    int st;
    pid_t pid = hl_child_spawn(argv[0], (char *const *)argv, NULL, quiet);
    if (pid < 0 || hl_child_wait(pid, &st) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int imports_matplotlib(const char *python)
{
    const char *argv[] = {python, "-c", "import matplotlib", NULL};
    return executable(python) && run(argv, 1) == 0;
}

/* A Python that imports matplotlib: $HEAPLAB_PYTHON alone when set, else
 * /usr/bin/python3 (Debian's python3-matplotlib), else python3 on PATH. */
static int find_python(char *buf, size_t len)
{
    const char *env = getenv("HEAPLAB_PYTHON");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return imports_matplotlib(buf) ? 0 : -1;
    }
    snprintf(buf, len, "/usr/bin/python3");
    if (imports_matplotlib(buf))
        return 0;
    return hl_path_search("python3", buf, len) == 0 && imports_matplotlib(buf) ? 0 : -1;
}

static int find_gnuplot(char *buf, size_t len)
{
    const char *env = getenv("HEAPLAB_GNUPLOT");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return executable(buf) ? 0 : -1;
    }
    return hl_path_search("gnuplot", buf, len);
}

/* ---- the command ------------------------------------------------------------------- */

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || (*end != 'x' && *end != 'X'))
        return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (errno || end == t || *end || a < MIN_PX || a > MAX_PX || b < MIN_PX || b > MAX_PX)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = {"data.tsv", "panels.tsv", "raster.txt"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* $HEAPLAB_POLICIES for the scripts: the registry's policy names in
 * registry order, space-separated.  0, or -1 out of memory. */
static int export_registry(void)
{
    size_t len = 1;
    for (size_t i = 0; i < hl_policy_count(); i++)
        len += strlen(hl_policy_at(i)->name) + 1;
    char *names = malloc(len), *p = names;
    if (!names)
        return -1;
    *p = '\0';
    for (size_t i = 0; i < hl_policy_count(); i++)
        p += sprintf(p, "%s%s", i ? " " : "", hl_policy_at(i)->name);
    int rc = setenv("HEAPLAB_POLICIES", names, 1);
    free(names);
    return rc;
}

enum { OPT_KEEP = 256 };

int hl_cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"backend", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},   {"trace", required_argument, NULL, 't'},
        {"keep-data", required_argument, NULL, OPT_KEEP}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL, *backend = "matplotlib", *want_trace = NULL, *keep = NULL;
    int width = DEFAULT_W, height = DEFAULT_H, c;
    optind = 1;
    /* options may follow the inputs ("heaplab plot util r.csv -o u.png") */
    while ((c = getopt_long(argc, argv, "o:b:s:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case 'b':
            backend = optarg;
            break;
        case 's':
            if (parse_size(optarg, &width, &height))
                return hl_plot_fail("--size: expected WIDTHxHEIGHT in pixels, each %d to %d, got '%s'", MIN_PX, MAX_PX,
                                    optarg);
            break;
        case 't':
            want_trace = optarg;
            break;
        case OPT_KEEP:
            keep = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    const struct hl_plot_kind *k = hl_plot_kind_lookup(argv[optind]);
    if (!k)
        return hl_plot_fail("unknown chart kind '%s' (timeline, frag, util, throughput, heapmap, sizes, scaling)",
                            argv[optind]);
    char **files = argv + optind + 1;
    int nfiles = argc - optind - 1;
    if (nfiles <= 0)
        return hl_plot_fail("%s: no input (see heaplab plot --help)", k->name);
    if (!outpath)
        return hl_plot_fail("no output file: -o OUT.png or -o OUT.svg");
    const char *ext = strrchr(outpath, '.');
    if (!ext || (strcmp(ext, ".png") != 0 && strcmp(ext, ".svg") != 0))
        return hl_plot_fail("-o %s: the chart is written as .png or .svg", outpath);
    if (want_trace && !k->one_trace)
        return hl_plot_fail("--trace: a %s chart draws every trace (--trace is for timeline, frag and heapmap)",
                            k->name);
    int gnuplot = strcmp(backend, "gnuplot") == 0;
    if (!gnuplot && strcmp(backend, "matplotlib") != 0)
        return hl_plot_fail("--backend: expected matplotlib or gnuplot, got '%s'", backend);

    char dir[1024];
    if ((keep && strlen(keep) > 900) || strlen(getenv("TMPDIR") ? getenv("TMPDIR") : "") > 900)
        return hl_plot_fail("the data folder's path is too long");
    if (keep) {
        if (mkdir(keep, 0777) != 0 && errno != EEXIST)
            return hl_plot_fail("--keep-data %s: %s", keep, strerror(errno));
        snprintf(dir, sizeof dir, "%s", keep);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/heaplab-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
            return hl_plot_fail("cannot make a temporary folder %s: %s", dir, strerror(errno));
    }

    struct hl_plot_input in = {0};
    const char *trace = NULL;
    char partial[4200] = "", size[32];
    char data[4200];
    int rc = 0;
    if (strcmp(k->name, "heapmap") == 0) {
        snprintf(data, sizeof data, "%s", dir);
        rc = hl_plot_read_heapmap(k, files, nfiles, &in, want_trace, dir, width, height, &trace);
    } else {
        snprintf(data, sizeof data, "%s/data.tsv", dir);
        FILE *out = fopen(data, "w");
        if (!out) {
            rc = hl_plot_fail("%s: %s", data, strerror(errno));
            goto done;
        }
        if (strcmp(k->name, "sizes") == 0) {
            rc = hl_plot_read_sizes(k, files, nfiles, &in, out);
        } else {
            hl_plot_write_header(k, out);
            rc = hl_plot_read_tables(k, files, nfiles, &in, out);
        }
        if (fclose(out) != 0 && !rc)
            rc = hl_plot_fail("%s: %s", data, strerror(errno));
        if (rc)
            goto done;
        if (in.skipped)
            fprintf(stderr, "heaplab: plot: left out %llu row%s whose status is not ok\n",
                    (unsigned long long)in.skipped, in.skipped == 1 ? "" : "s");
        if (k->one_trace && in.scattered && (rc = hl_plot_sort_rows(data, k, &in)) != 0)
            goto done;
        if (k->one_trace) {
            long t = hl_plot_pick_trace(&in.traces, want_trace, nfiles == 1 ? files[0] : "the inputs");
            if (t < 0) {
                rc = 2;
                goto done;
            }
            if (!in.traces.v[t].rows) {
                rc = hl_plot_fail("%s: no row of trace %s has a %s value", files[0], in.traces.v[t].s, k->value);
                goto done;
            }
            trace = in.traces.v[t].s;
        } else if (strcmp(k->name, "sizes") != 0) {
            uint64_t rows = 0;
            size_t glibc = 0;
            for (size_t i = 0; i < in.traces.n; i++) {
                rows += in.traces.v[i].rows;
                glibc += in.traces.v[i].has_glibc != 0;
            }
            if (!rows) {
                rc = hl_plot_fail("%s: no row has a %s value%s", nfiles == 1 ? files[0] : "the inputs", k->value,
                                  strcmp(k->value, "util") == 0 ? " (baseline rows have none)" : "");
                goto done;
            }
            /* throughput: relative to glibc when every trace has a glibc row,
             * absolute ops/s when none has; a mix would mislead */
            if (strcmp(k->name, "throughput") == 0 && glibc && glibc < in.traces.n) {
                size_t i = 0;
                while (in.traces.v[i].has_glibc)
                    i++;
                rc = hl_plot_fail("%s: trace %s has no ok baseline:glibc row to normalise to (replay it with "
                                  "--baseline glibc, or leave glibc out everywhere for absolute ops/s)",
                                  nfiles == 1 ? files[0] : "the inputs", in.traces.v[i].s);
                goto done;
            }
        }
    }
    if (rc)
        goto done;

    /* the script writes beside the chart; the chart appears whole or not at all */
    if (snprintf(partial, sizeof partial, "%.*s.partial-%ld%s", (int)(ext - outpath), outpath, (long)getpid(),
                 ext) >= (int)sizeof partial) {
        rc = hl_plot_fail("-o %s: path too long", outpath);
        goto done;
    }
    int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        rc = hl_plot_fail("-o %s: cannot write there: %s", outpath, strerror(errno));
        partial[0] = '\0';
        goto done;
    }
    close(fd);

    /* the script and what runs it: the input is checked first, so bad input
     * gets the same answer wherever heaplab runs */
    const char *plots = getenv("HEAPLAB_PLOTS");
    if (!plots || !*plots)
        plots = HEAPLAB_PLOTS_DIR;
    char script[4096], interp[4096];
    if (snprintf(script, sizeof script, "%s/%s.%s", plots, k->name, gnuplot ? "gp" : "py") >= (int)sizeof script) {
        rc = hl_plot_fail("HEAPLAB_PLOTS: path too long");
        goto done;
    }
    if (access(script, R_OK) != 0) {
        rc = hl_plot_fail("%s: %s (set HEAPLAB_PLOTS to heaplab's plots/ folder)", script, strerror(errno));
        goto done;
    }
    if (gnuplot ? find_gnuplot(interp, sizeof interp) : find_python(interp, sizeof interp)) {
        rc = hl_plot_fail(gnuplot ? "gnuplot is not installed: apt-get install gnuplot-nox"
                                  : "matplotlib is not installed: apt-get install python3-matplotlib");
        goto done;
    }

    if (export_registry() != 0) {
        rc = hl_plot_fail("HEAPLAB_POLICIES: %s", strerror(errno));
        goto done;
    }
    snprintf(size, sizeof size, "%dx%d", width, height);
    const char *args[10];
    int na = 0;
    args[na++] = interp;
    if (gnuplot)
        args[na++] = "-c";
    else
        args[na++] = "-B"; /* no __pycache__ in the source tree */
    args[na++] = script;
    args[na++] = data;
    args[na++] = partial;
    args[na++] = size;
    if (trace)
        args[na++] = trace;
    args[na] = NULL;
    int st = run(args, 0);
    struct stat sb;
    if (st != 0) {
        if (st < 0)
            fprintf(stderr, "heaplab: plot: %s %s could not run or was killed\n", interp, script);
        else
            fprintf(stderr, "heaplab: plot: %s %s failed (exit status %d)\n", interp, script, st);
        rc = 1;
    } else if (stat(partial, &sb) != 0 || sb.st_size == 0) {
        fprintf(stderr, "heaplab: plot: %s wrote no chart\n", script);
        rc = 1;
    } else if (rename(partial, outpath) != 0) {
        rc = hl_plot_fail("%s: %s", outpath, strerror(errno));
    } else {
        partial[0] = '\0';
    }
done:
    if (partial[0])
        unlink(partial);
    if (!keep)
        remove_dir(dir);
    hl_plot_names_free(&in.traces);
    hl_plot_names_free(&in.policies);
    return rc;
}
