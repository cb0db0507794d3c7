/*
 * plot.h - what heaplab plot is made of: the checks on its inputs, the
 * data it hands a chart's script, and the script's run.  The command
 * (harness/cli/cmd_plot.c) parses its options and calls these; each piece
 * says what it does in its own file.
 */
#ifndef HEAPLAB_PLOT_H
#define HEAPLAB_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "csv.h"

/* ---- messages ---------------------------------------------------------------------- */

/* "heaplab: plot: " and the message on stderr.  Returns 2, the exit status. */
__attribute__((format(printf, 1, 2))) int hl_plot_fail(const char *fmt, ...);

/* "heaplab: plot: file:line: what is wrong" on stderr (line 0: "heaplab:
 * plot: file: what is wrong").  Returns 2. */
__attribute__((format(printf, 3, 4))) int hl_plot_bad_input(const char *file, unsigned long line, const char *fmt,
                                                            ...);

/* ---- CSV reading (the reader is harness/util/csv.c): csv.c ------------------------ */

/* 0, or 2 after a message (a folder, a file that cannot be opened). */
int hl_csv_open(struct hl_csv *c, const char *path);

/* The next record: 1, 0 at the end of the file, -1 after printing
 * "file:line: what is wrong". */
int hl_csv_next(struct hl_csv *c);

/* ---- the chart kinds and their input: table.c ---------------------------------------- */

struct hl_plot_column; /* a column a kind reads: its name and what it must hold */

struct hl_plot_kind {
    const char *name;
    const struct hl_plot_column *cols; /* read, and written for the script in this order */
    size_t ncols;
    const char *value;  /* the column a row must have for the chart to draw it */
    int one_trace;      /* draws one trace (--trace) */
    const char *value2; /* a second column that also makes a row drawable, or NULL */
};

#define HL_PLOT_MAXCOLS 8 /* the most columns a kind reads */
/* A name a chart draws (a policy, a series, a trace's file name) has at
 * most HL_PLOT_MAXNAME characters, a trace's path fewer than
 * HL_PLOT_MAXPATH: longer ones are refused as bad input, not handed to a
 * plotting stack that cannot lay them out. */
#define HL_PLOT_MAXNAME 255
#define HL_PLOT_MAXPATH 4096

/* The kind called name (timeline, frag, util, throughput, heapmap, sizes,
 * scaling), or NULL. */
const struct hl_plot_kind *hl_plot_kind_lookup(const char *name);

/* The index of k's column called name (NULL: none), or -1. */
int hl_plot_column(const struct hl_plot_kind *k, const char *name);
/* The name of k's column i (below k->ncols). */
const char *hl_plot_column_name(const struct hl_plot_kind *k, size_t i);

/* For qsort: uint64_t ascending. */
int hl_plot_cmp_u64(const void *a, const void *b);

/* A small string set: the traces, and the policies of each trace (tens,
 * not millions). */
struct hl_plot_name {
    char *s;
    size_t trace;      /* a policy: its trace (policies are per trace) */
    uint64_t rows;     /* a trace: rows the chart can draw */
    uint64_t max_end;  /* a trace, heapmap: the largest offset + size (in --ops) */
    uint64_t zoomed;   /* a trace, heapmap: rows with bytes in --addr and --ops */
    uint64_t *ops;     /* a policy, heapmap: the snapshot ops seen */
    size_t nops, opscap;
};

struct hl_plot_names {
    struct hl_plot_name *v;
    size_t n, cap;
    size_t last; /* the last hit: rows come in runs */
};

/* The index of (s, trace) (added if new), or -1 out of memory. */
long hl_plot_names_add(struct hl_plot_names *ns, const char *s, size_t trace);
void hl_plot_names_free(struct hl_plot_names *ns);

/* The trace --trace names (want: its path as in the CSV, or its file
 * name), or the first one with a row to draw (want NULL); -1 after a
 * message that names `what` as the input. */
long hl_plot_pick_trace(const struct hl_plot_names *traces, const char *want, const char *what);

/* What the inputs of a chart held. */
struct hl_plot_input {
    struct hl_plot_names traces;   /* table kinds: the traces (scaling: the live_blocks values) */
    struct hl_plot_names policies; /* heapmap: the policies, per trace */
    uint64_t skipped;              /* rows whose status is not ok */
};

/* What the command was asked besides the kind and the inputs: the options
 * every chart takes (cmd_plot.c fills it; the arrays point into argv). */
struct hl_plot_opts {
    const char *title;   /* --title: the chart's title instead of its own, or NULL */
    const char **labels; /* --label OLD=NEW, as given */
    size_t nlabels;
    const char **only; /* --only NAME,..., as given: only these series */
    size_t nonly;
    const char **traces; /* --trace NAME[,NAME...], as given */
    size_t ntraces;
    const char *addr, *ops; /* heapmap: --addr, --ops (hl_plot_zoom_parse), or NULL */
};

/* A heap-map row's state; unknown: bytes that are not a payload of a
 * malloc-lab solution (its headers, footers, padding or free blocks). */
enum hl_plot_state { HL_PLOT_USED, HL_PLOT_FREE, HL_PLOT_MAPPED, HL_PLOT_UNKNOWN };

/* One checked record: vals[i] is k->cols[i]'s text, num[i] its number
 * (NaN when empty), count[i] its integer (integer columns), state its
 * state (the state column). */
struct hl_plot_record {
    const char *vals[HL_PLOT_MAXCOLS];
    double num[HL_PLOT_MAXCOLS];
    uint64_t count[HL_PLOT_MAXCOLS];
    enum hl_plot_state state;
};

/* One table file being read: its records, checked against the kind. */
struct hl_plot_table {
    struct hl_csv c;
    int idx[HL_PLOT_MAXCOLS]; /* the file's column of each of the kind's */
    long status;              /* the file's status column, or -1 */
    size_t nheader;           /* fields in the header: every record has as many */
    uint64_t rows;            /* records read */
};

/* Open path and read its header, which must name every column of k.  0,
 * or 2 after a message; either way hl_plot_table_close follows. */
int hl_plot_table_open(struct hl_plot_table *tb, const struct hl_plot_kind *k, const char *path);

/* The next record into rec: 1, or 0 at the end of the file or on bad input
 * (then *rc says which). */
int hl_plot_table_next(struct hl_plot_table *tb, const struct hl_plot_kind *k, struct hl_plot_record *rec, int *rc);

/* Close the file; a file with a header and no records is bad input.
 * Returns rc, or 2 after that message. */
int hl_plot_table_close(struct hl_plot_table *tb, int rc);

/* The raw data file's header: the kind's column names and the raw
 * columns (hl_plot_write_raw), tab-separated, a line. */
void hl_plot_write_header(const struct hl_plot_kind *k, FILE *out);

/* One raw row: vals (the kind's columns, in order), then where it came
 * from - its preset ("" when the file has none), the input's index and
 * line - and whether its status is ok.  hl_plot_finish reads these. */
void hl_plot_write_raw(const struct hl_plot_kind *k, const char *const *vals, const char *preset, int src,
                       unsigned long line, int ok, FILE *out);

/* Read one file of a table kind, input number src, into `out` (raw rows,
 * after hl_plot_write_header), rows whose status is not ok included and
 * marked, and count them into in->skipped.  0, or 2 after a message. */
int hl_plot_read_table(const struct hl_plot_kind *k, const char *path, int src, struct hl_plot_input *in,
                       FILE *out);

/* Read every file of a table kind into `out` (raw rows, after
 * hl_plot_write_header), rows whose status is not ok included and marked,
 * and count them into in->skipped.  0, or 2 after a message. */
int hl_plot_read_tables(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                        FILE *out);

/* ---- series: series.c ------------------------------------------------------------------ */

/* Whether policy names a malloc-lab solution (mm:FILE): heaplab knows its
 * payloads, not its block layout. */
int hl_plot_is_mm(const char *policy);

/* Turn the raw data file dir/data.tsv (every kind but heapmap) into what
 * the script draws, and write dir/chart.tsv beside it.  A series is a
 * (policy, preset) pair - for sizes, a trace file - and:
 *   - the same series twice on a trace (the same file given twice, two
 *     runs in one file, two files of one preset) cannot be told apart:
 *     refused with one line naming the files;
 *   - series of the same policy under different presets are labelled
 *     "policy [preset]" (every series is, once the presets differ);
 *   - --trace picks the trace (or, util and throughput, the traces),
 *     --only the series, --label renames them; a name that matches
 *     nothing in the inputs is refused;
 *   - rows that cannot be drawn (no value, status not ok, an mm: row's
 *     fragmentation, which heaplab cannot know) are left out, and the
 *     chart says so in a note;
 *   - util: a row's in_mean says whether its trace counts in the mean
 *     (every drawn series has a value there), and the mean's label says
 *     over how many traces it is when that is not all of them.
 * data.tsv gets the kind's columns, then series (the legend's text), style
 * (the name the script styles it by: its policy, or for a second series of
 * the same policy that policy with ":preset=NAME", which the scripts style
 * as a variant) and, for util, in_mean; each series' rows together, in op
 * order.  chart.tsv is key<TAB>value lines: kind, title (--title), note
 * (one each), mean_label.  *trace_out: the trace drawn (one-trace kinds) or
 * NULL.  0, or 2 after a message. */
int hl_plot_finish(const struct hl_plot_kind *k, const struct hl_plot_opts *o, char **files, int nfiles,
                   const char *dir, const char **trace_out, struct hl_plot_input *in);

/* The heap map's dir/chart.tsv (the title, and a note per mm:FILE panel:
 * its gaps are drawn as unknown) and dir/labels.tsv (a policy<TAB>label
 * line per panel of panels.tsv: --label); --only is applied by
 * hl_plot_only_copy before the heap map is read.  0, or 2 after a
 * message. */
int hl_plot_finish_heapmap(const struct hl_plot_opts *o, const char *dir);

/* Copy the CSV rows of the series --only names from files into dir/PATH
 * (a CSV with the first file's header), for a kind whose reader does not
 * filter (heapmap).  *copy: its path (static storage).  0, or 2 after a
 * message (a name that matches no series). */
int hl_plot_only_copy(const struct hl_plot_kind *k, const struct hl_plot_opts *o, char **files, int nfiles,
                      const char *dir, const char **copy);

/* ---- sizes: sizes.c ------------------------------------------------------------------- */

/* The sizes chart's raw rows into out (after hl_plot_write_header): for a
 * trace file a row per distinct request size (malloc, calloc, memalign,
 * realloc to a nonzero size) with how often it occurs; a .csv file is read
 * as a trace,size,count table.  0, or 2 after a message. */
int hl_plot_read_sizes(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                       FILE *out);

/* ---- heapmap: heapmap.c --------------------------------------------------------------- */

/* A heap map's zoom: the byte offsets [addr_lo, addr_last] and the
 * operations [op_lo, op_last] drawn (--addr LO:HI and --ops LO:HI, HI
 * left out; without them, everything). */
struct hl_plot_zoom {
    uint64_t addr_lo, addr_last, op_lo, op_last;
    const char *addr, *ops; /* the options as given, NULL when not */
};

/* --addr and --ops (NULL: not given) for a chart of kind k, into z; only
 * the heapmap takes them.  0, or 2 after a message. */
int hl_plot_zoom_parse(struct hl_plot_zoom *z, const struct hl_plot_kind *k, const char *addr, const char *ops);

/* The heapmap chart's data for the trace `want` (as hl_plot_pick_trace
 * takes it; *trace_out: its name in the CSV) within the zoom z, written
 * into the folder dir as panels.tsv (a panel per policy with a snapshot in
 * the zoom: its ops, offsets and mixed cells) and raster.txt (its rows of
 * cells), sized for a chart of width x height pixels.  0, or 2 after a
 * message (a zoom that holds no snapshot or no block says so). */
int hl_plot_read_heapmap(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                         const struct hl_plot_zoom *z, const char *want, const char *dir, int width, int height,
                         const char **trace_out);

/* ---- the backends: backend.c ---------------------------------------------------------- */

/* Draw the chart of `kind` from its data (data.tsv, or the heapmap's
 * folder) into outpath (ending in .png, .svg or .pdf) at width x height
 * pixels (a PDF: the same figure, 7 inches wide):
 * find the kind's script and matplotlib (gnuplot 0) or gnuplot, give the
 * script the registry's policy names in $HEAPLAB_POLICIES, run it with the
 * data, a file beside outpath to write, the size and the trace (when not
 * NULL), and rename what it wrote to outpath.  Called once the input is
 * checked, so bad input gets the same answer wherever heaplab runs.  0
 * drawn; 1 the script failed or wrote nothing; 2 after a message (no
 * script, no plotting stack: the message names the Debian package). */
int hl_plot_draw(const char *kind, int gnuplot, const char *data, const char *outpath, int width, int height,
                 const char *trace);

#endif
