/*
 * table.c - the chart kinds, and reading their tables: the columns each
 * kind reads, a replay CSV (-f csv, --save, --timeline, --heapmap) checked
 * against them (the header names every column, each record has the
 * header's fields, every value the chart reads is of its column's type),
 * and the raw rows series.c makes the script's data from: the kind's
 * columns and where each row came from (its preset, file and line, and
 * whether its status column says "ok").
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "plot.h"
#include "util.h"

/* ---- the kinds ------------------------------------------------------------------ */

enum coltype {
    C_STR,   /* a string: trace, policy */
    C_NUM,   /* a finite number, not negative, or empty (not available) */
    C_FRAC,  /* a fraction: a number from 0 to 1, or empty */
    C_RATE,  /* operations per second, drawn on a log scale: up to RATE_MAX, or empty (so is 0) */
    C_COUNT, /* a non-negative integer, never empty */
    C_STATE, /* used, free, mapped or unknown */
};

struct hl_plot_column {
    const char *name;
    enum coltype type;
};

#define COLS(...)                                                                                  \
    (const struct hl_plot_column[]){__VA_ARGS__},                                                  \
        sizeof((const struct hl_plot_column[]){__VA_ARGS__}) / sizeof(struct hl_plot_column)

static const struct hl_plot_kind kinds[] = {
    {"timeline",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"live_bytes", C_NUM}, {"heap_bytes", C_NUM}),
     "heap_bytes", 1, NULL},
    {"frag",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"internal_frag", C_FRAC},
          {"external_frag", C_FRAC}),
     "external_frag", 1, "internal_frag"},
    {"util", COLS({"trace", C_STR}, {"policy", C_STR}, {"util", C_FRAC}), "util", 0, NULL},
    {"throughput",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"ops_per_sec", C_RATE}, {"ops_per_sec_min", C_RATE}),
     "ops_per_sec", 0, NULL},
    {"heapmap",
     COLS({"trace", C_STR}, {"policy", C_STR}, {"op", C_COUNT}, {"offset", C_COUNT}, {"size", C_COUNT},
          {"header_bytes", C_COUNT}, {"state", C_STATE}),
     "size", 1, NULL},
    {"sizes", COLS({"trace", C_STR}, {"size", C_COUNT}, {"count", C_COUNT}), "count", 0, NULL},
    {"scaling",
     COLS({"live_blocks", C_COUNT}, {"policy", C_STR}, {"ops_per_sec", C_RATE}, {"ops_per_sec_min", C_RATE}),
     "ops_per_sec", 0, NULL},
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

/* No machine replays 10^12 operations a second: a larger figure is not a
 * measurement (and would overflow a chart's scale). */
#define RATE_MAX 1e12

const struct hl_plot_kind *hl_plot_kind_lookup(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

static int column_index(const struct hl_plot_kind *k, const char *name)
{
    for (size_t i = 0; name && i < k->ncols; i++)
        if (strcmp(k->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

int hl_plot_column(const struct hl_plot_kind *k, const char *name) { return column_index(k, name); }

const char *hl_plot_column_name(const struct hl_plot_kind *k, size_t i) { return k->cols[i].name; }

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

static int parse_state(const char *s, enum hl_plot_state *out)
{
    static const char *const names[] = {"used", "free", "mapped", "unknown"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum hl_plot_state)i;
            return 0;
        }
    return -1;
}

/* ---- a small string set (traces and policies: tens, not millions) ----------------- */

int hl_plot_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

long hl_plot_names_add(struct hl_plot_names *ns, const char *s, size_t trace)
{
    if (ns->last < ns->n && ns->v[ns->last].trace == trace && strcmp(ns->v[ns->last].s, s) == 0)
        return (long)ns->last;
    for (size_t i = 0; i < ns->n; i++)
        if (ns->v[i].trace == trace && strcmp(ns->v[i].s, s) == 0)
            return (long)(ns->last = i);
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        struct hl_plot_name *v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return -1;
        ns->v = v;
        ns->cap = cap;
    }
    struct hl_plot_name *nm = &ns->v[ns->n];
    memset(nm, 0, sizeof *nm);
    nm->trace = trace;
    if (!(nm->s = strdup(s)))
        return -1;
    return (long)(ns->last = ns->n++);
}

void hl_plot_names_free(struct hl_plot_names *ns)
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

long hl_plot_pick_trace(const struct hl_plot_names *traces, const char *want, const char *what)
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

/* Map the header onto the kind's columns: idx[i] = the file's column for
 * k->cols[i]; *status = the file's status column or -1. */
static int read_header(struct hl_csv *c, const struct hl_plot_kind *k, int idx[HL_PLOT_MAXCOLS], long *status)
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

static int check_record(struct hl_csv *c, const struct hl_plot_kind *k, const int idx[HL_PLOT_MAXCOLS], size_t nheader,
                        struct hl_plot_record *rec)
{
    if (c->nfields != nheader)
        return hl_plot_bad_input(c->path, c->line, "%zu fields, the header has %zu", c->nfields, nheader);
    for (size_t i = 0; i < k->ncols; i++) {
        const char *v = hl_csv_field(c, (size_t)idx[i]);
        rec->vals[i] = v;
        rec->num[i] = NAN;
        switch (k->cols[i].type) {
        case C_STR: {
            if (!*v)
                return hl_plot_bad_input(c->path, c->line, "%s is empty", k->cols[i].name);
            if (strpbrk(v, "\t\r\n"))
                return hl_plot_bad_input(c->path, c->line, "%s holds a tab or a line break", k->cols[i].name);
            /* what a chart writes in a legend, a title or under a bar: a
             * trace by its file name (a path may be as long as PATH_MAX) */
            const char *shown = strrchr(v, '/') && strcmp(k->cols[i].name, "trace") == 0 ? strrchr(v, '/') + 1 : v;
            if (strlen(v) >= HL_PLOT_MAXPATH || strlen(shown) > HL_PLOT_MAXNAME)
                return hl_plot_bad_input(c->path, c->line, "%s of %zu characters: a chart draws names of at most %d",
                                         k->cols[i].name, strlen(shown), HL_PLOT_MAXNAME);
            break;
        }
        case C_NUM:
        case C_FRAC:
        case C_RATE:
            if (*v && parse_num(v, &rec->num[i]))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not a number", k->cols[i].name, v);
            if (*v && rec->num[i] < 0)
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is negative", k->cols[i].name, v);
            if (*v && k->cols[i].type == C_FRAC && rec->num[i] > 1)
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is more than 1 (a fraction: 0 to 1)",
                                         k->cols[i].name, v);
            if (*v && k->cols[i].type == C_RATE && rec->num[i] > RATE_MAX)
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is more than 10^12 operations per second",
                                         k->cols[i].name, v);
            if (*v && k->cols[i].type == C_RATE && rec->num[i] == 0) { /* a trace of no operations: no bar */
                rec->vals[i] = "";
                rec->num[i] = NAN;
            }
            break;
        case C_COUNT:
            if (hl_parse_u64(v, UINT64_MAX, &rec->count[i]))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not a non-negative integer", k->cols[i].name,
                                         v);
            rec->num[i] = (double)rec->count[i];
            break;
        case C_STATE:
            if (parse_state(v, &rec->state))
                return hl_plot_bad_input(c->path, c->line, "%s: '%s' is not used, free, mapped or unknown",
                                         k->cols[i].name, v);
            break;
        }
    }
    return 0;
}

void hl_plot_write_header(const struct hl_plot_kind *k, FILE *out)
{
    for (size_t i = 0; i < k->ncols; i++)
        fprintf(out, "%s\t", k->cols[i].name);
    fputs("preset\tsrc\tline\tok\n", out);
}

void hl_plot_write_raw(const struct hl_plot_kind *k, const char *const *vals, const char *preset, int src,
                       unsigned long line, int ok, FILE *out)
{
    for (size_t i = 0; i < k->ncols; i++)
        fprintf(out, "%s\t", vals[i]);
    fprintf(out, "%s\t%d\t%lu\t%d\n", preset, src, line, ok);
}

int hl_plot_table_open(struct hl_plot_table *tb, const struct hl_plot_kind *k, const char *path)
{
    tb->rows = 0;
    int rc = hl_csv_open(&tb->c, path);
    if (!rc)
        rc = read_header(&tb->c, k, tb->idx, &tb->status);
    tb->nheader = tb->c.nfields;
    return rc;
}

int hl_plot_table_next(struct hl_plot_table *tb, const struct hl_plot_kind *k, struct hl_plot_record *rec, int *rc)
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

int hl_plot_table_close(struct hl_plot_table *tb, int rc)
{
    if (!rc && tb->rows == 0)
        rc = hl_plot_bad_input(tb->c.path, 0, "no rows after the header");
    hl_csv_close(&tb->c);
    return rc;
}

/* The file's preset column, or -1. */
static long preset_column(const struct hl_csv *c)
{
    for (size_t f = 0; f < c->nfields; f++)
        if (strcmp(hl_csv_field(c, f), "preset") == 0)
            return (long)f;
    return -1;
}

int hl_plot_read_table(const struct hl_plot_kind *k, const char *path, int src, struct hl_plot_input *in, FILE *out)
{
    struct hl_plot_table tb;
    struct hl_plot_record rec;
    int rc = hl_plot_table_open(&tb, k, path);
    long preset = rc ? -1 : preset_column(&tb.c);
    while (!rc && hl_plot_table_next(&tb, k, &rec, &rc)) {
        int ok = tb.status < 0 || strcmp(hl_csv_field(&tb.c, (size_t)tb.status), "ok") == 0;
        const char *pr = preset >= 0 ? hl_csv_field(&tb.c, (size_t)preset) : "";
        if (strpbrk(pr, "\t\r\n")) {
            rc = hl_plot_bad_input(tb.c.path, tb.c.line, "preset holds a tab or a line break");
            break;
        }
        in->skipped += !ok;
        hl_plot_write_raw(k, rec.vals, pr, src, tb.c.line, ok, out);
    }
    return hl_plot_table_close(&tb, rc);
}

int hl_plot_read_tables(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in, FILE *out)
{
    for (int f = 0; f < nfiles; f++) {
        int rc = hl_plot_read_table(k, files[f], f, in, out);
        if (rc)
            return rc;
    }
    return 0;
}
