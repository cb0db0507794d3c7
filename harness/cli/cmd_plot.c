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
#include "plot.h"
#include "heaplab/policies.h"
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

/* ---- heapmap: snapshots binned into a raster --------------------------------------- */

enum cell { CELL_EMPTY, CELL_USED, CELL_HEADER, CELL_FREE, CELL_MAPPED, NCELL };

struct panel {
    struct hl_plot_name *pol; /* its policy (ops: the snapshots) */
    uint64_t *sel;    /* the ops of the rows drawn, ascending */
    size_t rows;
    float *acc; /* rows x cols x NCELL bytes */
};

static int add_op(struct hl_plot_name *pol, uint64_t op)
{
    if (pol->nops && pol->ops[pol->nops - 1] == op)
        return 0;
    if (pol->nops == pol->opscap) {
        size_t cap = pol->opscap ? pol->opscap * 2 : 64;
        uint64_t *v = realloc(pol->ops, cap * sizeof *v);
        if (!v)
            return -1;
        pol->ops = v;
        pol->opscap = cap;
    }
    pol->ops[pol->nops++] = op;
    return 0;
}

/* Spread [a, b) of kind `cell` over the columns of width bpc. */
static void bin_range(float *row, uint64_t bpc, size_t cols, uint64_t a, uint64_t b, enum cell cell)
{
    if (b <= a)
        return;
    uint64_t c0 = a / bpc, c1 = (b - 1) / bpc;
    if (c1 >= cols)
        c1 = cols - 1;
    if (c0 > c1)
        return;
    if (c0 == c1) {
        row[c0 * NCELL + cell] += (float)(b - a);
        return;
    }
    row[c0 * NCELL + cell] += (float)((c0 + 1) * bpc - a);
    for (uint64_t c = c0 + 1; c < c1; c++)
        row[c * NCELL + cell] += (float)bpc;
    row[c1 * NCELL + cell] += (float)(b - c1 * bpc);
}

/* The state holding most of the column's bytes; on a tie the rarer state
 * wins (free, header, mapped before used and empty). */
static enum cell majority(const float *v, uint64_t bpc)
{
    static const enum cell order[] = {CELL_FREE, CELL_HEADER, CELL_MAPPED, CELL_USED, CELL_EMPTY};
    float covered = v[CELL_USED] + v[CELL_HEADER] + v[CELL_FREE] + v[CELL_MAPPED];
    float empty = (float)bpc - covered;
    enum cell best = CELL_EMPTY;
    float bestv = -1;
    for (size_t i = 0; i < NCELL; i++) {
        float x = order[i] == CELL_EMPTY ? empty : v[order[i]];
        if (x > bestv) {
            bestv = x;
            best = order[i];
        }
    }
    return best;
}

static size_t clampz(size_t v, size_t lo, size_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The layout both scripts use: up to 4 panels in a row, else two rows. */
static size_t panel_columns(size_t n) { return n <= 4 ? n : (n + 1) / 2; }

static int heapmap_pass(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in, long tr,
                        struct panel *panels, size_t cols, uint64_t bpc)
{
    for (int f = 0; f < nfiles; f++) {
        struct hl_plot_table tb;
        struct hl_plot_record rec;
        int rc = hl_plot_table_open(&tb, k, files[f]);
        while (!rc && hl_plot_table_next(&tb, k, &rec, &rc)) {
            uint64_t op = rec.count[2], off = rec.count[3], size = rec.count[4], hdr = rec.count[5];
            if (!panels) { /* the first pass: what is there */
                if (hdr > size) {
                    rc = hl_plot_bad_input(tb.c.path, tb.c.line, "header_bytes %llu is more than size %llu",
                                           (unsigned long long)hdr, (unsigned long long)size);
                    break;
                }
                if (off > UINT64_MAX - size) {
                    rc = hl_plot_bad_input(tb.c.path, tb.c.line, "offset + size overflows 64 bits");
                    break;
                }
                long t = hl_plot_names_add(&in->traces, rec.vals[0], 0);
                long p = t < 0 ? -1 : hl_plot_names_add(&in->policies, rec.vals[1], (size_t)t);
                if (p < 0 || add_op(&in->policies.v[p], op)) {
                    rc = hl_plot_fail("%s", strerror(ENOMEM));
                    break;
                }
                in->traces.v[t].rows++;
                if (off + size > in->traces.v[t].max_end)
                    in->traces.v[t].max_end = off + size;
                continue;
            }
            if (strcmp(rec.vals[0], in->traces.v[tr].s) != 0)
                continue;
            long p = hl_plot_names_add(&in->policies, rec.vals[1], (size_t)tr);
            if (p < 0) {
                rc = hl_plot_fail("%s", strerror(ENOMEM));
                break;
            }
            struct panel *pn = NULL;
            for (size_t i = 0; !pn; i++)
                if (panels[i].pol == &in->policies.v[p])
                    pn = &panels[i];
            /* the row of this snapshot, if it is drawn */
            size_t lo = 0, hi = pn->rows;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pn->sel[mid] < op)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == pn->rows || pn->sel[lo] != op)
                continue;
            float *row = pn->acc + lo * cols * NCELL;
            if (rec.state == HL_PLOT_MAPPED) {
                bin_range(row, bpc, cols, off, off + size, CELL_MAPPED);
            } else {
                bin_range(row, bpc, cols, off, off + hdr, CELL_HEADER);
                bin_range(row, bpc, cols, off + hdr, off + size, rec.state == HL_PLOT_FREE ? CELL_FREE : CELL_USED);
            }
        }
        if ((rc = hl_plot_table_close(&tb, rc)) != 0)
            return rc;
    }
    return 0;
}

/* Write panels.tsv and raster.txt into dir. */
static int write_raster(const char *dir, struct panel *panels, size_t np, size_t cols, uint64_t bpc,
                        uint64_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/panels.tsv", dir);
    FILE *pf = fopen(path, "w");
    if (!pf)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    fputs("policy\top_first\top_last\trows\tcols\tbytes\tbytes_per_col\n", pf);
    for (size_t i = 0; i < np; i++)
        fprintf(pf, "%s\t%llu\t%llu\t%zu\t%zu\t%llu\t%llu\n", panels[i].pol->s,
                (unsigned long long)panels[i].sel[0], (unsigned long long)panels[i].sel[panels[i].rows - 1],
                panels[i].rows, cols, (unsigned long long)bytes, (unsigned long long)bpc);
    int bad = fclose(pf) != 0;
    snprintf(path, sizeof path, "%s/raster.txt", dir);
    FILE *rf = fopen(path, "w");
    if (!rf)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    char *line = malloc(cols * 2 + 2);
    if (!line) {
        fclose(rf);
        return hl_plot_fail("%s", strerror(ENOMEM));
    }
    for (size_t i = 0; i < np; i++) {
        if (i)
            fputs("\n\n", rf);
        fprintf(rf, "# %s\n", panels[i].pol->s);
        for (size_t r = 0; r < panels[i].rows; r++) {
            const float *row = panels[i].acc + r * cols * NCELL;
            for (size_t c = 0; c < cols; c++) {
                uint64_t width = c == cols - 1 && bytes % bpc ? bytes % bpc : bpc;
                line[2 * c] = (char)('0' + majority(row + c * NCELL, width));
                line[2 * c + 1] = ' ';
            }
            line[2 * cols - 1] = '\n';
            line[2 * cols] = '\0';
            fputs(line, rf);
        }
    }
    free(line);
    bad |= fclose(rf) != 0;
    return bad ? hl_plot_fail("%s: %s", dir, strerror(errno)) : 0;
}

static int read_heapmap(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                        const char *want, const char *dir, int width, int height, const char **trace_out)
{
    int rc = heapmap_pass(k, files, nfiles, in, -1, NULL, 0, 0);
    if (rc)
        return rc;
    long tr = hl_plot_pick_trace(&in->traces, want, files[0]);
    if (tr < 0)
        return 2;
    *trace_out = in->traces.v[tr].s;
    uint64_t bytes = in->traces.v[tr].max_end;
    if (bytes == 0)
        return hl_plot_bad_input(files[0], 0, "the heap map of %s holds no bytes", in->traces.v[tr].s);
    size_t np = 0;
    for (size_t i = 0; i < in->policies.n; i++)
        np += in->policies.v[i].trace == (size_t)tr;
    struct panel *panels = calloc(np, sizeof *panels);
    if (!panels)
        return hl_plot_fail("%s", strerror(ENOMEM));
    /* about one raster cell per pixel of the panel, within bounds that keep
     * the raster small */
    size_t pcols = panel_columns(np), prows = (np + pcols - 1) / pcols;
    size_t cols = clampz((size_t)width * 3 / 4 / pcols, 48, 480);
    size_t rows_max = clampz((size_t)height * 2 / 3 / prows, 48, 480);
    if (bytes < cols)
        cols = (size_t)bytes;
    uint64_t bpc = (bytes + cols - 1) / cols;
    cols = (size_t)((bytes + bpc - 1) / bpc);
    size_t j = 0;
    for (size_t i = 0; i < in->policies.n && !rc; i++) {
        struct hl_plot_name *pol = &in->policies.v[i];
        if (pol->trace != (size_t)tr)
            continue;
        struct panel *pn = &panels[j++];
        pn->pol = pol;
        qsort(pol->ops, pol->nops, sizeof *pol->ops, hl_plot_cmp_u64);
        size_t s = 0;
        for (size_t q = 0; q < pol->nops; q++)
            if (!s || pol->ops[q] != pol->ops[s - 1])
                pol->ops[s++] = pol->ops[q];
        pol->nops = s;
        pn->rows = s < rows_max ? s : rows_max;
        pn->sel = malloc(pn->rows * sizeof *pn->sel);
        pn->acc = calloc(pn->rows * cols * NCELL, sizeof *pn->acc);
        if (!pn->sel || !pn->acc) {
            rc = hl_plot_fail("%s", strerror(ENOMEM));
            break;
        }
        /* evenly spread, the first and the last snapshot included */
        for (size_t r = 0; r < pn->rows; r++)
            pn->sel[r] = pol->ops[pn->rows > 1 ? (size_t)((double)r * (double)(s - 1) / (double)(pn->rows - 1) + 0.5)
                                               : s - 1];
    }
    if (!rc)
        rc = heapmap_pass(k, files, nfiles, in, tr, panels, cols, bpc);
    if (!rc)
        rc = write_raster(dir, panels, np, cols, bpc, bytes);
    for (size_t i = 0; i < np; i++) {
        free(panels[i].sel);
        free(panels[i].acc);
    }
    free(panels);
    return rc;
}

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
        rc = read_heapmap(k, files, nfiles, &in, want_trace, dir, width, height, &trace);
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
