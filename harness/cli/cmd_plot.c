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
#include "trace.h"
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

/* ---- the kinds ------------------------------------------------------------------ */

enum coltype {
    C_STR,   /* a string: trace, policy */
    C_NUM,   /* a finite number, or empty (not available) */
    C_COUNT, /* a non-negative integer, never empty */
    C_STATE, /* used, free or mapped */
};

struct column {
    const char *name;
    enum coltype type;
};

struct kind {
    const char *name;
    const struct column *cols; /* read, and written for the script in this order */
    size_t ncols;
    const char *value; /* the column a row must have for the chart to draw it */
    int one_trace;     /* draws one trace (--trace) */
};

#define COLS(...)                                                                                  \
    (const struct column[]){__VA_ARGS__}, sizeof((const struct column[]){__VA_ARGS__}) / sizeof(struct column)

static const struct kind kinds[] = {
    {"timeline",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"live_bytes", C_NUM}, {"heap_bytes", C_NUM}),
     "heap_bytes", 1},
    {"frag",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"internal_frag", C_NUM},
          {"external_frag", C_NUM}),
     "external_frag", 1},
    {"util", COLS({"trace", C_STR}, {"policy", C_STR}, {"util", C_NUM}), "util", 0},
    {"throughput",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"ops_per_sec", C_NUM}, {"ops_per_sec_min", C_NUM}),
     "ops_per_sec", 0},
    {"heapmap",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"offset", C_COUNT}, {"size", C_COUNT},
          {"header_bytes", C_COUNT}, {"state", C_STATE}),
     "size", 1},
    {"sizes", COLS({"trace", C_STR}, {"size", C_COUNT}, {"count", C_COUNT}), "count", 0},
    {"scaling",
     COLS({"live_blocks", C_COUNT}, {"policy", C_STR}, {"ops_per_sec", C_NUM}, {"ops_per_sec_min", C_NUM}),
     "ops_per_sec", 0},
};

#define NKINDS (sizeof kinds / sizeof kinds[0])
#define MAXCOLS 8

static const struct kind *kind_lookup(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

static int column_index(const struct kind *k, const char *name)
{
    for (size_t i = 0; i < k->ncols; i++)
        if (strcmp(k->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- values ----------------------------------------------------------------------- */

/* A plain decimal number (no hex, inf or nan, which the scripts would not
 * read alike).  0 ok, -1 not a number. */
static int parse_num(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

enum state { ST_USED, ST_FREE, ST_MAPPED };

static int parse_state(const char *s, enum state *out)
{
    static const char *const names[] = {"used", "free", "mapped"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum state)i;
            return 0;
        }
    return -1;
}

/* ---- a small string set (traces and policies: tens, not millions) ----------------- */

struct name {
    char *s;
    size_t trace;      /* a policy: its trace (policies are per trace) */
    uint64_t rows;     /* a trace: rows the chart can draw */
    int has_glibc;     /* a trace: an ok baseline:glibc row with ops_per_sec */
    uint64_t max_end;  /* a trace, heapmap: the largest offset + size */
    int closed;        /* a policy: another policy's rows followed its own */
    double last_op;    /* a policy: the op of its last row */
    uint64_t *ops;     /* a policy, heapmap: the snapshot ops seen */
    size_t nops, opscap;
};

struct names {
    struct name *v;
    size_t n, cap;
    size_t last; /* the last hit: rows come in runs */
};

/* The index of (s, trace) (added if new), or -1 out of memory. */
static long names_add(struct names *ns, const char *s, size_t trace)
{
    if (ns->last < ns->n && ns->v[ns->last].trace == trace && strcmp(ns->v[ns->last].s, s) == 0)
        return (long)ns->last;
    for (size_t i = 0; i < ns->n; i++)
        if (ns->v[i].trace == trace && strcmp(ns->v[i].s, s) == 0)
            return (long)(ns->last = i);
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        struct name *v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return -1;
        ns->v = v;
        ns->cap = cap;
    }
    struct name *nm = &ns->v[ns->n];
    memset(nm, 0, sizeof *nm);
    nm->trace = trace;
    if (!(nm->s = strdup(s)))
        return -1;
    return (long)(ns->last = ns->n++);
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        free(ns->v[i].s);
        free(ns->v[i].ops);
    }
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The trace --trace names (its path as in the CSV, or its file name), or
 * the first one; -1 after a message. */
static long pick_trace(const struct names *traces, const char *want, const char *what)
{
    if (!want) {
        for (size_t i = 0; i < traces->n; i++)
            if (traces->v[i].rows)
                return (long)i;
        return hl_plot_fail("%s: no row has a value to draw", what), -1;
    }
    long hit = -1;
    for (size_t i = 0; i < traces->n; i++)
        if (strcmp(traces->v[i].s, want) == 0)
            return (long)i;
    for (size_t i = 0; i < traces->n; i++)
        if (strcmp(base_name(traces->v[i].s), want) == 0) {
            if (hit >= 0)
                return hl_plot_fail("--trace %s: ambiguous (%s and %s): give the path as in the CSV", want,
                                    traces->v[hit].s, traces->v[i].s),
                       -1;
            hit = (long)i;
        }
    if (hit < 0) {
        fprintf(stderr, "heaplab: plot: --trace %s: not in %s (it has", want, what);
        for (size_t i = 0; i < traces->n && i < 8; i++)
            fprintf(stderr, " %s", traces->v[i].s);
        fputs(traces->n > 8 ? " ...)\n" : ")\n", stderr);
    }
    return hit;
}

/* ---- reading the inputs of a table kind ------------------------------------------- */

struct input {
    struct names traces;
    struct names policies; /* per trace */
    uint64_t skipped;      /* rows whose status is not ok */
    int scattered;         /* a policy's rows are not one run in op order */
};

/* Map the header onto the kind's columns: idx[i] = the file's column for
 * k->cols[i]; *status = the file's status column or -1. */
static int read_header(struct hl_csv *c, const struct kind *k, int idx[MAXCOLS], long *status)
{
    int r = hl_csv_next(c);
    if (r < 0)
        return 2;
    if (r == 0)
        return hl_plot_bad_input(c->path, 0, "empty: expected a CSV header line");
    *status = -1;
    for (size_t i = 0; i < k->ncols; i++)
        idx[i] = -1;
    for (size_t f = 0; f < c->nfields; f++) {
        const char *h = hl_csv_field(c, f);
        int ki = column_index(k, h);
        if (ki >= 0 && idx[ki] < 0)
            idx[ki] = (int)f;
        if (strcmp(h, "status") == 0 && *status < 0)
            *status = (long)f;
    }
    for (size_t i = 0; i < k->ncols; i++)
        if (idx[i] < 0) {
            char list[256] = "";
            for (size_t j = 0; j < k->ncols; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", k->cols[j].name);
            return hl_plot_bad_input(c->path, 0, "missing column %s (a %s chart reads %s)", k->cols[i].name, k->name,
                                     list);
        }
    return 0;
}

/* One checked record: vals[i] is k->cols[i]'s text, num[i] its number. */
struct record {
    const char *vals[MAXCOLS];
    double num[MAXCOLS];
    uint64_t count[MAXCOLS];
    enum state state;
};

static int check_record(struct hl_csv *c, const struct kind *k, const int idx[MAXCOLS], size_t nheader,
                        struct record *rec)
{
    if (c->nfields != nheader)
        return hl_plot_bad_input(c->path, c->line, "%zu fields, the header has %zu", c->nfields, nheader);
    for (size_t i = 0; i < k->ncols; i++) {
        const char *v = hl_csv_field(c, (size_t)idx[i]);
        rec->vals[i] = v;
        rec->num[i] = NAN;
        switch (k->cols[i].type) {
        case C_STR:
            if (!*v)
                return hl_plot_bad_input(c->path, c->line, "%s is empty", k->cols[i].name);
            if (strpbrk(v, "\t\r\n"))
                return hl_plot_bad_input(c->path, c->line, "%s holds a tab or a line break", k->cols[i].name);
            break;
        case C_NUM:
            if (*v && parse_num(v, &rec->num[i]))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not a number", k->cols[i].name, v);
            break;
        case C_COUNT:
            if (hl_parse_u64(v, UINT64_MAX, &rec->count[i]))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not a non-negative integer", k->cols[i].name,
                                         v);
            rec->num[i] = (double)rec->count[i];
            break;
        case C_STATE:
            if (parse_state(v, &rec->state))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not used, free or mapped", k->cols[i].name, v);
            break;
        }
    }
    return 0;
}

/* Whether the row has the value the chart draws. */
static int drawable(const struct kind *k, const struct record *rec)
{
    int vi = column_index(k, k->value);
    if (!isnan(rec->num[vi]))
        return 1;
    /* frag draws either fragmentation column */
    int ii = column_index(k, "internal_frag");
    return ii >= 0 && !isnan(rec->num[ii]);
}

static void write_header(const struct kind *k, FILE *out)
{
    for (size_t i = 0; i < k->ncols; i++)
        fprintf(out, "%s%s", i ? "\t" : "", k->cols[i].name);
    fputc('\n', out);
}

/* One table file being read: its records, checked against the kind. */
struct table {
    struct hl_csv c;
    int idx[MAXCOLS]; /* the file's column of each of the kind's */
    long status;      /* the file's status column, or -1 */
    size_t nheader;   /* fields in the header: every record has as many */
    uint64_t rows;    /* records read */
};

static int table_open(struct table *tb, const struct kind *k, const char *path)
{
    tb->rows = 0;
    int rc = hl_csv_open(&tb->c, path);
    if (!rc)
        rc = read_header(&tb->c, k, tb->idx, &tb->status);
    tb->nheader = tb->c.nfields;
    return rc;
}

/* The next record into rec: 1, or 0 at the end of the file or on bad input
 * (then *rc says which). */
static int table_next(struct table *tb, const struct kind *k, struct record *rec, int *rc)
{
    int r;
    while ((r = hl_csv_next(&tb->c)) != 0) {
        if (r < 0) {
            *rc = 2;
            return 0;
        }
        if (hl_csv_blank(&tb->c) && tb->nheader > 1)
            continue;
        if ((*rc = check_record(&tb->c, k, tb->idx, tb->nheader, rec)) != 0)
            return 0;
        tb->rows++;
        return 1;
    }
    return 0;
}

/* Close the file; a file with a header and no records is bad input. */
static int table_close(struct table *tb, int rc)
{
    if (!rc && tb->rows == 0)
        rc = hl_plot_bad_input(tb->c.path, 0, "no rows after the header");
    hl_csv_close(&tb->c);
    return rc;
}

/* Read every file of a table kind into `out` (tab-separated, the kind's
 * columns in order, after write_header) and count traces and policies. */
static int read_tables(const struct kind *k, char **files, int nfiles, struct input *in, FILE *out)
{
    int tracei = column_index(k, "trace"), policyi = column_index(k, "policy"), opi = column_index(k, "op");
    long prev = -1;
    for (int f = 0; f < nfiles; f++) {
        struct table tb;
        struct record rec;
        int rc = table_open(&tb, k, files[f]);
        while (!rc && table_next(&tb, k, &rec, &rc)) {
            if (tb.status >= 0 && strcmp(hl_csv_field(&tb.c, (size_t)tb.status), "ok") != 0) {
                in->skipped++;
                continue;
            }
            const char *trace = tracei >= 0 ? rec.vals[tracei] : "";
            const char *policy = policyi >= 0 ? rec.vals[policyi] : "";
            long t = names_add(&in->traces, trace, 0);
            long p = t < 0 ? -1 : names_add(&in->policies, policy, (size_t)t);
            if (p < 0) {
                rc = hl_plot_fail("%s", strerror(ENOMEM));
                break;
            }
            if (drawable(k, &rec)) {
                in->traces.v[t].rows++;
                if (strcmp(policy, "baseline:glibc") == 0)
                    in->traces.v[t].has_glibc = 1;
            }
            struct name *pol = &in->policies.v[p];
            if (p != prev) {
                if (prev >= 0)
                    in->policies.v[prev].closed = 1;
                in->scattered |= pol->closed;
                prev = p;
            } else if (opi >= 0 && rec.num[opi] < pol->last_op) {
                in->scattered = 1;
            }
            if (opi >= 0)
                pol->last_op = rec.num[opi];
            for (size_t i = 0; i < k->ncols; i++)
                fprintf(out, "%s%s", i ? "\t" : "", rec.vals[i]);
            fputc('\n', out);
        }
        if ((rc = table_close(&tb, rc)) != 0)
            return rc;
    }
    return 0;
}

/* ---- lines in order ------------------------------------------------------------- */

struct line {
    size_t group; /* its (trace, policy) */
    double op;
    size_t seq; /* its place in the file: equal ops keep their order */
    char *text;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Where field `i` of a tab-separated line starts (the line has it: heaplab
 * wrote it). */
static char *tsv_field(char *line, int i)
{
    for (; i > 0; i--)
        line = strchr(line, '\t') + 1;
    return line;
}

/* Rewrite the script's data file with each policy's rows together and in
 * op order: the scripts draw a policy's line through consecutive rows.
 * Only needed when the CSV interleaves them. */
static int sort_rows(const char *path, const struct kind *k, struct input *in)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    struct line *lines = NULL;
    size_t n = 0, cap = 0;
    char *header = NULL, *buf = NULL;
    size_t blen = 0;
    ssize_t len;
    int rc = 0;
    int ti = column_index(k, "trace"), pi = column_index(k, "policy"), oi = column_index(k, "op");
    while ((len = getline(&buf, &blen, f)) > 0) {
        if (!header) {
            header = buf;
            buf = NULL;
            blen = 0;
            continue;
        }
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 1024;
            struct line *l2 = realloc(lines, c2 * sizeof *l2);
            if (!l2) {
                rc = hl_plot_fail("%s", strerror(ENOMEM));
                break;
            }
            lines = l2;
            cap = c2;
        }
        char *copy = strdup(buf);
        if (!copy) {
            rc = hl_plot_fail("%s", strerror(ENOMEM));
            break;
        }
        /* the key fields, cut out of the original line */
        char *t = tsv_field(buf, ti), *p = tsv_field(buf, pi), *o = tsv_field(buf, oi);
        for (char *q = buf; *q; q++)
            if (*q == '\t' || *q == '\n')
                *q = '\0';
        long tx = names_add(&in->traces, t, 0);
        long px = tx < 0 ? -1 : names_add(&in->policies, p, (size_t)tx);
        if (px < 0) {
            free(copy);
            rc = hl_plot_fail("%s", strerror(ENOMEM));
            break;
        }
        lines[n] = (struct line){(size_t)px, strtod(o, NULL), n, copy};
        n++;
    }
    fclose(f);
    free(buf);
    if (!rc) {
        qsort(lines, n, sizeof *lines, cmp_line);
        f = fopen(path, "w");
        if (!f) {
            rc = hl_plot_fail("%s: %s", path, strerror(errno));
        } else {
            fputs(header ? header : "", f);
            for (size_t i = 0; i < n; i++)
                fputs(lines[i].text, f);
            if (fclose(f) != 0)
                rc = hl_plot_fail("%s: %s", path, strerror(errno));
        }
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i].text);
    free(lines);
    free(header);
    return rc;
}

/* ---- sizes: request sizes from trace files ---------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* One trace file: a row per distinct request size (malloc, calloc,
 * memalign, realloc to a nonzero size) with how often it occurs. */
static int sizes_of_trace(const char *path, FILE *out)
{
    struct hl_trace t;
    struct hl_trace_opts topts = {HL_DIALECT_AUTO};
    char err[512];
    if (strpbrk(path, "\t\r\n"))
        return hl_plot_bad_input(path, 0, "a trace name with a tab or a line break cannot be drawn");
    if (hl_trace_load(path, &topts, &t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    uint64_t *sizes = malloc((t.nops ? t.nops : 1) * sizeof *sizes);
    if (!sizes) {
        hl_trace_free(&t);
        return hl_plot_fail("%s", strerror(ENOMEM));
    }
    size_t n = 0;
    for (uint64_t i = 0; i < t.nops; i++) {
        const struct hl_op *op = &t.ops[i];
        if (op->type == HL_OP_FREE || (op->type == HL_OP_REALLOC && op->size == 0))
            continue;
        sizes[n++] = op->size;
    }
    hl_trace_free(&t);
    if (n == 0) {
        free(sizes);
        return hl_plot_bad_input(path, 0, "no allocation requests: no sizes to draw");
    }
    qsort(sizes, n, sizeof *sizes, cmp_u64);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && sizes[j] == sizes[i])
            j++;
        fprintf(out, "%s\t%llu\t%zu\n", path, (unsigned long long)sizes[i], j - i);
        i = j;
    }
    free(sizes);
    return 0;
}

static int read_sizes(const struct kind *k, char **files, int nfiles, struct input *in, FILE *out)
{
    write_header(k, out);
    for (int f = 0; f < nfiles; f++) {
        if (!hl_ends_with(files[f], ".csv")) {
            int rc = sizes_of_trace(files[f], out);
            if (rc)
                return rc;
            continue;
        }
        /* a trace,size,count CSV (what heaplab hands the scripts, kept) */
        int rc = read_tables(k, &files[f], 1, in, out);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- heapmap: snapshots binned into a raster --------------------------------------- */

enum cell { CELL_EMPTY, CELL_USED, CELL_HEADER, CELL_FREE, CELL_MAPPED, NCELL };

struct panel {
    struct name *pol; /* its policy (ops: the snapshots) */
    uint64_t *sel;    /* the ops of the rows drawn, ascending */
    size_t rows;
    float *acc; /* rows x cols x NCELL bytes */
};

static int add_op(struct name *pol, uint64_t op)
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

static int heapmap_pass(const struct kind *k, char **files, int nfiles, struct input *in, long tr,
                        struct panel *panels, size_t cols, uint64_t bpc)
{
    for (int f = 0; f < nfiles; f++) {
        struct table tb;
        struct record rec;
        int rc = table_open(&tb, k, files[f]);
        while (!rc && table_next(&tb, k, &rec, &rc)) {
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
                long t = names_add(&in->traces, rec.vals[0], 0);
                long p = t < 0 ? -1 : names_add(&in->policies, rec.vals[1], (size_t)t);
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
            long p = names_add(&in->policies, rec.vals[1], (size_t)tr);
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
            if (rec.state == ST_MAPPED) {
                bin_range(row, bpc, cols, off, off + size, CELL_MAPPED);
            } else {
                bin_range(row, bpc, cols, off, off + hdr, CELL_HEADER);
                bin_range(row, bpc, cols, off + hdr, off + size, rec.state == ST_FREE ? CELL_FREE : CELL_USED);
            }
        }
        if ((rc = table_close(&tb, rc)) != 0)
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

static int read_heapmap(const struct kind *k, char **files, int nfiles, struct input *in, const char *want,
                        const char *dir, int width, int height, const char **trace_out)
{
    int rc = heapmap_pass(k, files, nfiles, in, -1, NULL, 0, 0);
    if (rc)
        return rc;
    long tr = pick_trace(&in->traces, want, files[0]);
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
        struct name *pol = &in->policies.v[i];
        if (pol->trace != (size_t)tr)
            continue;
        struct panel *pn = &panels[j++];
        pn->pol = pol;
        qsort(pol->ops, pol->nops, sizeof *pol->ops, cmp_u64);
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
    const struct kind *k = kind_lookup(argv[optind]);
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

    struct input in = {0};
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
            rc = read_sizes(k, files, nfiles, &in, out);
        } else {
            write_header(k, out);
            rc = read_tables(k, files, nfiles, &in, out);
        }
        if (fclose(out) != 0 && !rc)
            rc = hl_plot_fail("%s: %s", data, strerror(errno));
        if (rc)
            goto done;
        if (in.skipped)
            fprintf(stderr, "heaplab: plot: left out %llu row%s whose status is not ok\n",
                    (unsigned long long)in.skipped, in.skipped == 1 ? "" : "s");
        if (k->one_trace && in.scattered && (rc = sort_rows(data, k, &in)) != 0)
            goto done;
        if (k->one_trace) {
            long t = pick_trace(&in.traces, want_trace, nfiles == 1 ? files[0] : "the inputs");
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
    names_free(&in.traces);
    names_free(&in.policies);
    return rc;
}
