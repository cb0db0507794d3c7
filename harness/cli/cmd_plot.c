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
 *            bins each into a few hundred address columns (within --addr
 *            and --ops), each showing "mixed" when it holds bytes of a
 *            block in use and of a free block, else the state that holds
 *            most of its bytes; the scripts draw that raster (panels.tsv
 *            and raster.txt in the data folder).
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
 * This file is the command: its options, the data folder, which checks a
 * kind's rows must pass.  The pieces are in harness/plot/ (plot.h): the CSV
 * reader (csv.c), the kinds and their tables (table.c), the sizes and
 * heapmap data (sizes.c, heapmap.c) and the script's run (backend.c).
 *
 * Exit status: 0 drawn; 1 the script failed; 2 bad usage or input, or no
 * plotting stack (the message names the Debian package).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "plot.h"

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
    "              one trace (replay --heapmap CSV); a cell holding a byte of a block in\n"
    "              use and a byte of a free block is mixed, any other shows the state\n"
    "              with most of its bytes\n"
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
    "      --addr LO:HI      heapmap: only byte offsets LO to HI, HI left out (k/m/g\n"
    "                        allowed, either side may be empty: --addr :64k)\n"
    "      --ops LO:HI       heapmap: only the snapshots at operations LO to HI, HI\n"
    "                        left out\n"
    "\n"
    "environment: HEAPLAB_PLOTS (the plots/ folder), HEAPLAB_PYTHON (an interpreter\n"
    "that imports matplotlib), HEAPLAB_GNUPLOT (the gnuplot program).  The scripts\n"
    "get the registry's policy names in HEAPLAB_POLICIES (a series' style is its\n"
    "policy's registry position).\n";

#define DEFAULT_W 1200
#define DEFAULT_H 800
#define MIN_PX 160
#define MAX_PX 16384

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

enum { OPT_KEEP = 256, OPT_ADDR, OPT_OPS };

int hl_cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"backend", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},   {"trace", required_argument, NULL, 't'},
        {"keep-data", required_argument, NULL, OPT_KEEP}, {"help", no_argument, NULL, 'h'},
        {"addr", required_argument, NULL, OPT_ADDR},      {"ops", required_argument, NULL, OPT_OPS},
        {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL, *backend = "matplotlib", *want_trace = NULL, *keep = NULL;
    const char *addr = NULL, *ops = NULL; /* the heapmap's zoom */
    int width = DEFAULT_W, height = DEFAULT_H, c;
    optind = 1;
    /* options may follow the inputs ("heaplab plot util r.csv -o u.png") */
    while ((c = hl_cli_getopt(argc, argv, "o:b:s:t:h", longopts, "plot")) != -1) {
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
        case OPT_ADDR:
            addr = optarg;
            break;
        case OPT_OPS:
            ops = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default: /* hl_cli_getopt said what is wrong */
            return 2;
        }
    }
    if (optind >= argc)
        return hl_plot_fail("which chart? (heaplab plot KIND INPUT... -o OUT; see 'heaplab plot --help')");
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
    struct hl_plot_zoom zoom;
    if (hl_plot_zoom_parse(&zoom, k, addr, ops))
        return 2;
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
    char data[4200];
    int rc = 0;
    if (strcmp(k->name, "heapmap") == 0) {
        snprintf(data, sizeof data, "%s", dir);
        rc = hl_plot_read_heapmap(k, files, nfiles, &in, &zoom, want_trace, dir, width, height, &trace);
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
    if (!rc)
        rc = hl_plot_draw(k->name, gnuplot, data, outpath, width, height, trace);
done:
    if (!keep)
        remove_dir(dir);
    hl_plot_names_free(&in.traces);
    hl_plot_names_free(&in.policies);
    return rc;
}
