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
 *            block in use and of a free block, "payload + unknown" when it
 *            holds bytes in use and bytes a malloc-lab solution keeps
 *            between its payloads (unknown: headers or free blocks, heaplab
 *            cannot tell), else the state that holds most of its bytes;
 *            the scripts draw that raster (panels.tsv and raster.txt in the
 *            data folder).
 *   sizes    reads trace files through the trace parser and hands over how
 *            often each request size occurs (trace, size, count).
 *
 * What a chart draws is decided here, not in the scripts (series.c): which
 * rows make a series and what its legend calls it (the preset when two
 * differ, --label), which rows are drawn (--trace, --only; rows whose
 * status is not ok, and an mm:FILE row's fragmentation, are not), over
 * which traces a mean is taken, and the notes the chart must carry so that
 * it is true without this command's stderr (chart.tsv beside the data).
 * The same series twice on a trace cannot be told apart and is refused.
 *
 * The scripts style a series by its policy's position in the registry:
 * heaplab hands them the registry's names, in order, in $HEAPLAB_POLICIES
 * (hlplot.py and heaplab.gp say how a position becomes a style).  The
 * scripts also run on their own (each has a usage line); --keep-data DIR
 * keeps what heaplab handed them.
 *
 * This file is the command: its options, the data folder, which checks a
 * kind's rows must pass.  The pieces are in harness/plot/ (plot.h): the CSV
 * reader (csv.c), the kinds and their tables (table.c), the series and
 * notes (series.c), the sizes and heapmap data (sizes.c, heapmap.c) and
 * the script's run (backend.c).
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
    "usage: heaplab plot KIND INPUT... -o OUT.png|OUT.svg|OUT.pdf [options]\n"
    "\n"
    "kinds (INPUT):\n"
    "  timeline    heap and live bytes over operations, a line per policy, one trace\n"
    "              (replay --timeline CSV)\n"
    "  frag        internal and external fragmentation over operations, one trace\n"
    "              (replay --timeline CSV); mm:FILE rows are not drawn - heaplab does\n"
    "              not know a solution's block layout - and the chart says so\n"
    "  util        utilization per trace per policy, grouped bars, and their mean\n"
    "              (replay -f csv); the mean is over the traces on which every policy\n"
    "              drawn has a value, and is labelled \"mean (9 of 11 traces)\" when a\n"
    "              row failed somewhere (failed rows are left out, and noted)\n"
    "  throughput  ops/s per trace per policy relative to baseline:glibc, log scale,\n"
    "              whiskers from the slowest to the best pass (replay -f csv)\n"
    "  heapmap     address against time, used/free/header/mapped, a panel per policy,\n"
    "              one trace (replay --heapmap CSV); a cell holding a byte of a block\n"
    "              in use and a byte of a free block is mixed, any other shows the\n"
    "              state with most of its bytes; mm:FILE panels draw the bytes\n"
    "              between payloads as unknown, never free (heaplab does not know\n"
    "              a solution's block layout), a cell with payload and unknown\n"
    "              bytes as payload + unknown, and the chart says so\n"
    "  sizes       request-size histogram and CDF (trace files, or a\n"
    "              trace,size,count CSV)\n"
    "  scaling     ops/s against live blocks (make scaling's CSV)\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     the chart: .png, .svg or .pdf (required)\n"
    "  -b, --backend NAME    matplotlib (default) or gnuplot\n"
    "  -s, --size WxH        pixels (default 1200x800; a PDF: the same figure,\n"
    "                        7 inches wide)\n"
    "  -t, --trace NAME      the trace to draw: its path as in the CSV, or its\n"
    "                        file name; timeline, frag, heapmap: one (default the\n"
    "                        first in the CSV); util, throughput: only these\n"
    "                        (NAME,NAME... or repeated)\n"
    "      --only NAME,...   only these series: policies as in the CSV\n"
    "                        (baseline:glibc, mm:mm.c, ./plugin.so), or\n"
    "                        \"policy [preset]\"; repeatable\n"
    "      --label OLD=NEW   call series OLD (a policy, or its label) NEW in the\n"
    "                        legend, e.g. --label mm:mm.c='my allocator';\n"
    "                        repeatable\n"
    "      --title TEXT      the chart's title instead of its own\n"
    "      --keep-data DIR   keep the data handed to the script in DIR\n"
    "      --addr LO:HI      heapmap: only byte offsets LO to HI, HI left out (k/m/g\n"
    "                        allowed, either side may be empty: --addr :64k)\n"
    "      --ops LO:HI       heapmap: only the snapshots at operations LO to HI, HI\n"
    "                        left out\n"
    "  -h, --help            this help\n"
    "\n"
    "Rows whose status is not ok are left out, and the chart notes them.  The same\n"
    "policy under two presets (the preset column) is two series, labelled\n"
    "\"policy [preset]\"; the same series twice on a trace (a file given twice, two\n"
    "runs in one timeline) cannot be told apart and is refused.  heaplab prints\n"
    "\"wrote FILE\" for each file it writes.\n"
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

static const char *const data_files[] = {"data.tsv", "chart.tsv", "panels.tsv", "raster.txt", "labels.tsv",
                                         "only.csv"};
#define NDATA (sizeof data_files / sizeof data_files[0])

static void remove_dir(const char *dir)
{
    static const char *const scratch[] = {"data.tsv.new"};
    char path[4096];
    for (size_t i = 0; i < NDATA + 1; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, i < NDATA ? data_files[i] : scratch[i - NDATA]);
        unlink(path);
    }
    rmdir(dir);
}

/* "wrote FILE" for each data file kept in dir. */
static void print_kept(const char *dir)
{
    char path[4096];
    for (size_t i = 0; i < NDATA; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, data_files[i]);
        if (access(path, F_OK) == 0)
            printf("wrote %s\n", path);
    }
}

enum { OPT_KEEP = 256, OPT_TITLE, OPT_LABEL, OPT_ONLY, OPT_ADDR, OPT_OPS };

/* The table kinds' data: the raw rows (hl_plot_write_raw) into dir/data.tsv,
 * then what the script draws (hl_plot_finish). */
static int table_data(const struct hl_plot_kind *k, const struct hl_plot_opts *opts, char **files, int nfiles,
                      const char *dir, struct hl_plot_input *in, const char **trace)
{
    char data[4200];
    snprintf(data, sizeof data, "%s/data.tsv", dir);
    FILE *out = fopen(data, "w");
    if (!out)
        return hl_plot_fail("%s: %s", data, strerror(errno));
    hl_plot_write_header(k, out);
    int rc = strcmp(k->name, "sizes") == 0 ? hl_plot_read_sizes(k, files, nfiles, in, out)
                                           : hl_plot_read_tables(k, files, nfiles, in, out);
    if (fclose(out) != 0 && !rc)
        rc = hl_plot_fail("%s: %s", data, strerror(errno));
    if (rc)
        return rc;
    if (in->skipped)
        fprintf(stderr, "heaplab: plot: left out %llu row%s whose status is not ok (the chart notes them)\n",
                (unsigned long long)in->skipped, in->skipped == 1 ? "" : "s");
    return hl_plot_finish(k, opts, files, nfiles, dir, trace, in);
}

/* The chart, once the options are read: check the rest of the command
 * line, make the data folder, write the data, draw. */
static int plot(int argc, char **argv, const struct hl_plot_opts *opts, const char *outpath, const char *backend,
                const char *keep, int width, int height)
{
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
        return hl_plot_fail("no output file: -o OUT.png, -o OUT.svg or -o OUT.pdf");
    const char *ext = strrchr(outpath, '.');
    if (!ext || (strcmp(ext, ".png") != 0 && strcmp(ext, ".svg") != 0 && strcmp(ext, ".pdf") != 0))
        return hl_plot_fail("-o %s: the chart is written as .png, .svg or .pdf", outpath);
    int sizes = strcmp(k->name, "sizes") == 0, scaling = strcmp(k->name, "scaling") == 0;
    if (opts->ntraces && (sizes || scaling))
        return hl_plot_fail("--trace: %s (--trace is for timeline, frag, heapmap, util and throughput)",
                            sizes ? "a sizes chart draws the trace files it is given"
                                  : "a scaling chart has no traces: its x axis is live blocks");
    if (opts->ntraces > 1 && k->one_trace)
        return hl_plot_fail("--trace: a %s chart draws one trace (given %zu)", k->name, opts->ntraces);
    if (opts->nonly && sizes)
        return hl_plot_fail("--only: a sizes chart's series are the trace files it is given: give only those");
    struct hl_plot_zoom zoom;
    if (hl_plot_zoom_parse(&zoom, k, opts->addr, opts->ops))
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
    int rc;
    if (strcmp(k->name, "heapmap") == 0) {
        snprintf(data, sizeof data, "%s", dir);
        const char *copy = NULL;
        rc = opts->nonly ? hl_plot_only_copy(k, opts, files, nfiles, dir, &copy) : 0;
        if (copy) { /* the rows of the series --only names */
            files = (char **)&copy;
            nfiles = 1;
        }
        if (!rc)
            rc = hl_plot_read_heapmap(k, files, nfiles, &in, &zoom, opts->ntraces ? opts->traces[0] : NULL, dir,
                                      width, height, &trace);
        if (!rc)
            rc = hl_plot_finish_heapmap(opts, dir);
    } else {
        snprintf(data, sizeof data, "%s/data.tsv", dir);
        rc = table_data(k, opts, files, nfiles, dir, &in, &trace);
    }
    if (!rc)
        rc = hl_plot_draw(k->name, gnuplot, data, outpath, width, height, trace);
    if (!rc)
        printf("wrote %s\n", outpath);
    if (keep)
        print_kept(dir);
    else
        remove_dir(dir);
    hl_plot_names_free(&in.traces);
    hl_plot_names_free(&in.policies);
    return rc;
}

int hl_cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"backend", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},   {"trace", required_argument, NULL, 't'},
        {"keep-data", required_argument, NULL, OPT_KEEP}, {"title", required_argument, NULL, OPT_TITLE},
        {"label", required_argument, NULL, OPT_LABEL},    {"only", required_argument, NULL, OPT_ONLY},
        {"addr", required_argument, NULL, OPT_ADDR},      {"ops", required_argument, NULL, OPT_OPS},
        {"help", no_argument, NULL, 'h'},                 {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL, *backend = "matplotlib", *keep = NULL;
    int width = DEFAULT_W, height = DEFAULT_H, c;
    struct hl_plot_opts opts = {0};
    /* the repeatable options' values: at most one per argument */
    const char **lists = calloc(3 * (size_t)argc + 3, sizeof *lists);
    if (!lists)
        return hl_plot_fail("%s", strerror(ENOMEM));
    opts.labels = lists;
    opts.only = lists + argc + 1;
    opts.traces = lists + 2 * argc + 2;
    int rc = 0;
    optind = 1;
    /* options may follow the inputs ("heaplab plot util r.csv -o u.png") */
    while (!rc && (c = hl_cli_getopt(argc, argv, "o:b:s:t:h", longopts, "plot")) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case 'b':
            backend = optarg;
            break;
        case 's':
            if (parse_size(optarg, &width, &height))
                rc = hl_plot_fail("--size: expected WIDTHxHEIGHT in pixels, each %d to %d, got '%s'", MIN_PX, MAX_PX,
                                  optarg);
            break;
        case 't':
            opts.traces[opts.ntraces++] = optarg;
            break;
        case OPT_KEEP:
            keep = optarg;
            break;
        case OPT_TITLE:
            opts.title = optarg;
            break;
        case OPT_LABEL:
            if (!strchr(optarg, '=') || strchr(optarg, '=') == optarg)
                rc = hl_plot_fail("--label %s: expected OLD=NEW (e.g. --label mm:mm.c='my allocator')", optarg);
            opts.labels[opts.nlabels++] = optarg;
            break;
        case OPT_ONLY:
            opts.only[opts.nonly++] = optarg;
            break;
        case OPT_ADDR:
            opts.addr = optarg;
            break;
        case OPT_OPS:
            opts.ops = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            free(lists);
            return 0;
        default: /* hl_cli_getopt said what is wrong */
            rc = 2;
        }
    }
    if (!rc)
        rc = plot(argc, argv, &opts, outpath, backend, keep, width, height);
    free(lists);
    return rc;
}
