/*
 * series.c - from the rows the readers copied to what a chart draws
 * (plot.h, hl_plot_finish): which rows make one series, what the legend
 * calls it, which rows are drawn, and the notes a chart carries so that it
 * is true without heaplab's stderr.
 *
 * A series is a (policy, preset) pair - for the sizes chart, a trace file.
 * Its rows on one trace (a "cell") must come from one input file and, in a
 * result CSV, be one row; a timeline's, one row per op.  Anything else is
 * the same series twice (the same file given twice, two runs in one file,
 * two files of one preset), which no chart can tell apart: drawing it would
 * make one zig-zag line or one bar of two, so it is refused.
 *
 * The readers write raw rows: the kind's columns, then the row's preset,
 * input index, line and whether its status was ok (hl_plot_write_raw).
 * hl_plot_finish reads them twice - once to learn the series and cells,
 * once to write what the script draws - so the rows are never all in
 * memory, except when a CSV interleaves a series' rows with another's and
 * they must be sorted.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "output.h"
#include "plot.h"
#include "util.h"

#define NRAW 4 /* the raw columns after the kind's: preset, src, line, ok */
#define MAXF (HL_PLOT_MAXCOLS + NRAW)

struct series {
    char *policy, *preset; /* as in the CSV; sizes: the trace file, "" */
    char *label;           /* the legend's text */
    char *style;           /* the name the script styles it by */
    int selected;          /* --only (all without it) */
    int drawn;             /* has a row drawn in this chart */
    int renamed;           /* --label gave its label */
};

struct cell { /* one series on one trace */
    size_t key, series;
    int src;              /* the input its rows come from */
    unsigned long line;   /* its first row's line */
    uint64_t rows;        /* rows whose status is ok */
    uint64_t drawable;    /* ... with a value the chart draws */
    uint64_t failed;      /* rows whose status is not ok */
    unsigned has;         /* bit 0: a value in k->value, bit 1: in k->value2 */
    double last_op;       /* op kinds: the op of its last row */
    int closed;           /* another cell's rows followed its own */
    int dup;              /* 1: a row of another input or a second row, 2: an op again */
    int dup_src;          /* where the first such row is */
    unsigned long dup_line;
    double dup_op;
};

struct token {
    char *s;
    size_t arg; /* the argument it came from */
    int used;   /* a name matched it */
};

struct list { /* --only or --trace: comma-separated names, a name may hold commas */
    struct token *t;
    size_t n, cap;
};

struct finish {
    const struct hl_plot_kind *k;
    const struct hl_plot_opts *o;
    char **files;
    int nfiles;
    struct hl_plot_names *keys; /* the traces (scaling: live_blocks values) */
    int xi, pi, oi, vi, v2i;    /* the kind's columns: key, policy (-1: sizes), op (-1: none), values */
    struct series *s;
    size_t ns, caps, lasts;
    struct cell *c;
    size_t nc, capc, lastc;
    int *chosen, *in_mean; /* per key */
    int scattered; /* rows must be sorted: a line's rows are not one run in x order */
    char mean_label[64];
    char **notes;
    size_t nnotes, capn;
    int nomem;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int hl_plot_is_mm(const char *policy) { return strncmp(policy, "mm:", 3) == 0; }

/* Room in *v (an array of *cap elements of `size` bytes) for element n:
 * the array doubled when full.  0, or -1 out of memory (*v unchanged). */
static int reserve(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*(void **)v, c * size);
    if (!p)
        return -1;
    *(void **)v = p;
    *cap = c;
    return 0;
}

static char *xstrdup(struct finish *F, const char *s)
{
    char *d = strdup(s);
    F->nomem |= !d;
    return d;
}

/* A formatted string, or NULL (and F->nomem) out of memory. */
__attribute__((format(printf, 2, 0))) static char *xvprintf(struct finish *F, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    F->nomem |= !s;
    return s;
}

__attribute__((format(printf, 2, 3))) static char *xprintf(struct finish *F, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(F, fmt, ap);
    va_end(ap);
    return s;
}

/* A note for the chart: one line, no tab. */
__attribute__((format(printf, 2, 3))) static void note(struct finish *F, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(F, fmt, ap);
    va_end(ap);
    if (!s)
        return;
    if (reserve(&F->notes, &F->capn, F->nnotes, sizeof *F->notes) != 0) {
        free(s);
        F->nomem = 1;
        return;
    }
    for (char *p = s; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
    F->notes[F->nnotes++] = s;
}

/* Split a raw line (its newline cut off) at tabs, in place: the number
 * of fields (only the first MAXF are kept). */
static size_t split(char *line, char *f[MAXF])
{
    size_t n = 0;
    for (;;) {
        if (n < MAXF)
            f[n] = line;
        n++;
        char *p = strchr(line, '\t');
        if (!p)
            return n;
        *p = '\0';
        line = p + 1;
    }
}

/* "policy best-fit, preset malloclab": a series as messages name it. */
static const char *describe(const struct series *s, char *buf, size_t len)
{
    snprintf(buf, len, "policy %s%s%s", s->policy, *s->preset ? ", preset " : "", s->preset);
    return buf;
}

/* "a, b, c": the series' policies (each once) or, with labels, their
 * labels - what a message about a name that matches none lists. */
static const char *series_names(const struct finish *F, int labels, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < F->ns; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !labels; j++)
            dup |= strcmp(F->s[j].policy, F->s[i].policy) == 0;
        if (dup)
            continue;
        hl_msg_put(buf, len, &n, n ? ", " : "");
        hl_msg_put(buf, len, &n, labels ? F->s[i].label : F->s[i].policy);
    }
    return buf;
}

/* ---- lists of names (--only, --trace) ----------------------------------------------------- */

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->t[i].s);
    free(l->t);
    memset(l, 0, sizeof *l);
}

static int list_make(struct list *l, const char **args, size_t nargs)
{
    memset(l, 0, sizeof *l);
    for (size_t a = 0; a < nargs; a++)
        for (const char *p = args[a];; p++) {
            size_t len = strcspn(p, ",");
            if (reserve(&l->t, &l->cap, l->n, sizeof *l->t) != 0 || !(l->t[l->n].s = strndup(p, len)))
                return -1;
            l->t[l->n].arg = a;
            l->t[l->n++].used = 0;
            p += len;
            if (!*p)
                break;
        }
    return 0;
}

/* Whether some tokens i..j of one argument, joined by commas, satisfy
 * eq(joined, a, b) (a name may hold commas: tlsf:sl=4,cache=7); marks
 * them used.  -1 out of memory. */
static int list_match(struct list *l, int (*eq)(const char *, const void *, const void *), const void *a,
                      const void *b)
{
    int hit = 0;
    for (size_t i = 0; i < l->n; i++) {
        char *joined = NULL;
        size_t len = 0;
        for (size_t j = i; j < l->n && l->t[j].arg == l->t[i].arg; j++) {
            size_t tl = strlen(l->t[j].s);
            char *g = realloc(joined, len + tl + 2);
            if (!g) {
                free(joined);
                return -1;
            }
            joined = g;
            if (j > i)
                joined[len++] = ',';
            memcpy(joined + len, l->t[j].s, tl + 1);
            len += tl;
            if (eq(joined, a, b)) {
                for (size_t m = i; m <= j; m++)
                    l->t[m].used = 1;
                hit = 1;
                break;
            }
        }
        free(joined);
    }
    return hit;
}

/* The first token no name matched, or NULL. */
static const char *list_unused(const struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->t[i].used)
            return l->t[i].s;
    return NULL;
}

/* A series by its policy, or by "policy [preset]". */
static int series_eq(const char *name, const void *a, const void *b)
{
    const char *policy = a, *preset = b;
    if (strcmp(name, policy) == 0)
        return 1;
    size_t pl = strlen(policy);
    return preset && *preset && strncmp(name, policy, pl) == 0 && name[pl] == ' ' && name[pl + 1] == '[' &&
           strncmp(name + pl + 2, preset, strlen(preset)) == 0 && strcmp(name + pl + 2 + strlen(preset), "]") == 0;
}

/* A trace by its path as in the CSV, or its file name. */
static int trace_eq(const char *name, const void *a, const void *b)
{
    (void)b;
    return strcmp(name, a) == 0 || strcmp(name, base_name(a)) == 0;
}

/* ---- the first pass: series and cells --------------------------------------------------- */

static long series_add(struct finish *F, const char *policy, const char *preset)
{
    if (F->lasts < F->ns && strcmp(F->s[F->lasts].policy, policy) == 0 &&
        strcmp(F->s[F->lasts].preset, preset) == 0)
        return (long)F->lasts;
    for (size_t i = 0; i < F->ns; i++)
        if (strcmp(F->s[i].policy, policy) == 0 && strcmp(F->s[i].preset, preset) == 0)
            return (long)(F->lasts = i);
    if (reserve(&F->s, &F->caps, F->ns, sizeof *F->s) != 0)
        return -1;
    struct series *s = &F->s[F->ns];
    memset(s, 0, sizeof *s);
    s->policy = strdup(policy);
    s->preset = strdup(preset);
    if (!s->policy || !s->preset) {
        free(s->policy);
        free(s->preset);
        return -1;
    }
    return (long)(F->lasts = F->ns++);
}

/* The cell of (key, series); *fresh says whether it is new. */
static long cell_add(struct finish *F, size_t key, size_t series, int *fresh)
{
    *fresh = 0;
    if (F->lastc < F->nc && F->c[F->lastc].key == key && F->c[F->lastc].series == series)
        return (long)F->lastc;
    for (size_t i = 0; i < F->nc; i++)
        if (F->c[i].key == key && F->c[i].series == series)
            return (long)i;
    if (reserve(&F->c, &F->capc, F->nc, sizeof *F->c) != 0)
        return -1;
    memset(&F->c[F->nc], 0, sizeof F->c[F->nc]);
    F->c[F->nc].key = key;
    F->c[F->nc].series = series;
    *fresh = 1;
    return (long)F->nc++;
}

/* The policy a row belongs to: its policy column, or (sizes) its trace. */
static const char *row_policy(const struct finish *F, char *const *f)
{
    return F->pi >= 0 ? f[F->pi] : f[F->xi];
}

/* Whether an ok row has a value the chart draws; an mm: row's
 * fragmentation is never drawn (heaplab does not know the solution's
 * layout), whatever an older timeline says. */
static unsigned row_values(const struct finish *F, char *const *f)
{
    if (F->k->value2 && hl_plot_is_mm(row_policy(F, f)))
        return 0;
    unsigned has = 0;
    if (F->vi >= 0 && *f[F->vi])
        has |= 1;
    if (F->v2i >= 0 && *f[F->v2i])
        has |= 2;
    return has;
}

static int drawable_values(const struct finish *F, unsigned has)
{
    return F->vi < 0 ? 1 : has != 0;
}

/* The same series twice on one key, found by the first pass: refused
 * when the chart would draw it (--only can leave it out). */
static int refuse_twice(struct finish *F, const struct cell *c)
{
    char d[600];
    const struct series *s = &F->s[c->series];
    const char *key = F->keys->v[c->key].s, *what = hl_plot_column_name(F->k, (size_t)F->xi);
    const char *file = F->files[c->dup_src];
    if (F->pi < 0) /* sizes: a trace file */
        return hl_plot_bad_input(file, 0, "given twice (as %s): its requests would count twice", F->files[c->src]);
    describe(s, d, sizeof d);
    const char *why = F->oi >= 0 ? "a timeline does not record the preset: draw one run at a time"
                                 : "same trace, policy and preset";
    if (c->dup == 2)
        return hl_plot_bad_input(file, c->dup_line, "trace %s, %s: a second row for op %.0f: two runs of one series "
                                                    "cannot be told apart (%s)", key, d, c->dup_op, why);
    if (c->src != c->dup_src) {
        int same = strcmp(F->files[c->src], file) == 0;
        return hl_plot_bad_input(file, c->dup_line, "%s %s, %s is also in %s%s: the two cannot be told apart (%s)",
                                 what, key, d, F->files[c->src], same ? " (the same file given twice)" : "", why);
    }
    return hl_plot_bad_input(file, c->dup_line,
                             "%s %s, %s again (first at line %lu): two rows of one series cannot be told apart (%s)",
                             what, key, d, c->line, why);
}

static int first_pass(struct finish *F, FILE *raw)
{
    char *buf = NULL, *f[MAXF];
    size_t blen = 0;
    ssize_t len;
    long prev = -1;
    int rc = 0, header = 1;
    size_t nk = F->k->ncols;
    while (!rc && (len = getline(&buf, &blen, raw)) > 0) {
        if (buf[len - 1] == '\n')
            buf[len - 1] = '\0';
        if (header) {
            header = 0;
            continue;
        }
        if (split(buf, f) != nk + NRAW) {
            rc = hl_plot_fail("the data file is damaged");
            break;
        }
        const char *keyname = F->pi >= 0 ? f[F->xi] : "";
        int src = atoi(f[nk + 1]), ok = strcmp(f[nk + 3], "1") == 0, fresh;
        unsigned long line = strtoul(f[nk + 2], NULL, 10);
        long t = hl_plot_names_add(F->keys, keyname, 0);
        long s = t < 0 ? -1 : series_add(F, row_policy(F, f), f[nk]);
        long ci = s < 0 ? -1 : cell_add(F, (size_t)t, (size_t)s, &fresh);
        if (ci < 0) {
            rc = hl_plot_fail("%s", strerror(ENOMEM));
            break;
        }
        struct cell *c = &F->c[ci];
        double op = F->oi >= 0 ? strtod(f[F->oi], NULL) : 0;
        int again = F->oi >= 0 && ci == prev && op == c->last_op;
        if (fresh) {
            c->src = src;
            c->line = line;
        } else if (c->src != src || (F->oi < 0 && F->pi >= 0) || again) {
            if (!c->dup) { /* the first: refused later if the chart would draw it */
                c->dup = again ? 2 : 1;
                c->dup_src = src;
                c->dup_line = line;
                c->dup_op = op;
            }
            continue;
        }
        if (!ok) {
            c->failed++;
            continue;
        }
        if (F->oi >= 0) {
            if (ci != prev) {
                if (prev >= 0)
                    F->c[prev].closed = 1;
                F->scattered |= c->closed;
                prev = ci;
            } else if (op < c->last_op) {
                F->scattered = 1;
            }
            c->last_op = op;
        }
        unsigned has = row_values(F, f);
        c->rows++;
        c->has |= has;
        c->drawable += drawable_values(F, has);
    }
    free(buf);
    if (!rc && ferror(raw))
        rc = hl_plot_fail("the data file: %s", strerror(errno));
    return rc;
}

/* ---- choosing what is drawn --------------------------------------------------------------- */

/* --only: which series are selected.  0, or 2 after a message. */
static int select_series(struct finish *F)
{
    if (!F->o->nonly) {
        for (size_t i = 0; i < F->ns; i++)
            F->s[i].selected = 1;
        return 0;
    }
    if (F->pi < 0)
        return hl_plot_fail("--only: the sizes chart's series are the trace files it is given: give only those");
    struct list l;
    int rc = 0;
    if (list_make(&l, F->o->only, F->o->nonly) != 0) {
        list_free(&l);
        return hl_plot_fail("%s", strerror(ENOMEM));
    }
    for (size_t i = 0; i < F->ns && !rc; i++) {
        int m = list_match(&l, series_eq, F->s[i].policy, F->s[i].preset);
        if (m < 0)
            rc = hl_plot_fail("%s", strerror(ENOMEM));
        F->s[i].selected = m > 0;
    }
    const char *miss = rc ? NULL : list_unused(&l);
    if (miss) {
        char have[512];
        rc = hl_plot_fail("--only %s: no such series in the inputs (they have %s)", miss,
                          series_names(F, 0, have, sizeof have));
    }
    list_free(&l);
    return rc;
}

/* The rows of selected series each key has to draw, into keys->v[].rows. */
static void count_key_rows(struct finish *F)
{
    for (size_t t = 0; t < F->keys->n; t++)
        F->keys->v[t].rows = 0;
    for (size_t i = 0; i < F->nc; i++)
        if (F->s[F->c[i].series].selected)
            F->keys->v[F->c[i].key].rows += F->c[i].drawable;
}

/* --trace: the trace a one-trace chart draws, or the traces a util or
 * throughput chart draws (all without it).  0, or 2 after a message. */
static int choose_keys(struct finish *F, const char **trace_out)
{
    const struct hl_plot_opts *o = F->o;
    const char *what = F->nfiles == 1 ? F->files[0] : "the inputs";
    if (F->k->one_trace) {
        if (o->ntraces > 1)
            return hl_plot_fail("--trace: a %s chart draws one trace (given %zu)", F->k->name, o->ntraces);
        /* frag of malloc-lab solutions alone: nothing heaplab can know */
        int drawable = 0, mm = 0;
        for (size_t i = 0; i < F->nc; i++)
            if (F->s[F->c[i].series].selected) {
                drawable |= F->c[i].drawable > 0;
                mm |= F->k->value2 && hl_plot_is_mm(F->s[F->c[i].series].policy) && F->c[i].rows;
            }
        if (!drawable && mm)
            return hl_plot_fail("%s: no fragmentation to draw: heaplab does not know a malloc-lab solution's block "
                                "layout (mm:FILE rows have none)", what);
        long t = hl_plot_pick_trace(F->keys, o->ntraces ? o->traces[0] : NULL, what);
        if (t < 0)
            return 2;
        if (!F->keys->v[t].rows)
            return hl_plot_fail("%s: no row of trace %s has a %s value%s", F->files[0], F->keys->v[t].s, F->k->value,
                                o->nonly ? " among the series --only names" : "");
        F->chosen[t] = 1;
        *trace_out = F->keys->v[t].s;
        return 0;
    }
    if (!o->ntraces) {
        for (size_t t = 0; t < F->keys->n; t++)
            F->chosen[t] = 1;
        return 0;
    }
    struct list l;
    int rc = 0;
    if (list_make(&l, o->traces, o->ntraces) != 0) {
        list_free(&l);
        return hl_plot_fail("%s", strerror(ENOMEM));
    }
    for (size_t t = 0; t < F->keys->n && !rc; t++) {
        int m = list_match(&l, trace_eq, F->keys->v[t].s, NULL);
        if (m < 0)
            rc = hl_plot_fail("%s", strerror(ENOMEM));
        F->chosen[t] = m > 0;
    }
    const char *miss = rc ? NULL : list_unused(&l);
    if (miss) {
        char have[512] = "";
        size_t n = 0;
        for (size_t t = 0; t < F->keys->n; t++) {
            hl_msg_put(have, sizeof have, &n, t ? ", " : "");
            hl_msg_put(have, sizeof have, &n, base_name(F->keys->v[t].s));
        }
        rc = hl_plot_fail("--trace %s: not in %s (it has %s)", miss, what, have);
    }
    /* a file name that names two traces is ambiguous */
    for (size_t i = 0; i < l.n && !rc; i++) {
        size_t hits = 0, first = 0;
        const char *tok = l.t[i].s;
        for (size_t t = 0; t < F->keys->n; t++)
            if (strcmp(tok, F->keys->v[t].s) == 0) {
                hits = 1;
                break;
            } else if (strcmp(tok, base_name(F->keys->v[t].s)) == 0 && hits++ == 0) {
                first = t;
            } else if (strcmp(tok, base_name(F->keys->v[t].s)) == 0) {
                rc = hl_plot_fail("--trace %s: ambiguous (%s and %s): give the path as in the CSV", tok,
                                  F->keys->v[first].s, F->keys->v[t].s);
                break;
            }
    }
    list_free(&l);
    return rc;
}

/* Which selected series have a row to draw on a chosen key. */
static void mark_drawn(struct finish *F)
{
    for (size_t i = 0; i < F->nc; i++) {
        struct cell *c = &F->c[i];
        if (F->chosen[c->key] && F->s[c->series].selected && c->drawable)
            F->s[c->series].drawn = 1;
    }
}

/* ---- labels and styles ------------------------------------------------------------------------ */

/* The legend's text: the policy, with its preset when the drawn series
 * hold more than one (a baseline row has none: it keeps its name); sizes:
 * the trace's file name (its path when two share one). */
static int auto_labels(struct finish *F)
{
    const char *preset = NULL;
    int presets = 0;
    for (size_t i = 0; i < F->ns; i++)
        if (F->s[i].drawn && F->pi >= 0 && *F->s[i].preset) { /* baselines have none */
            if (!preset)
                preset = F->s[i].preset;
            else if (strcmp(preset, F->s[i].preset) != 0)
                presets = 1;
        }
    for (size_t i = 0; i < F->ns; i++) {
        struct series *s = &F->s[i];
        if (F->pi < 0) {
            int clash = 0;
            for (size_t j = 0; j < F->ns; j++)
                clash |= j != i && F->s[j].drawn && strcmp(base_name(F->s[j].policy), base_name(s->policy)) == 0;
            s->label = xstrdup(F, clash ? s->policy : base_name(s->policy));
        } else if (presets && *s->preset) {
            s->label = xprintf(F, "%s [%s]", s->policy, s->preset);
        } else {
            s->label = xstrdup(F, s->policy);
        }
        if (!s->label)
            return -1;
    }
    return 0;
}

/* --label OLD=NEW: OLD is a series' policy (its label keeps its preset)
 * or its whole label; a policy may hold '=' (tlsf:sl=4), so each '=' is
 * tried, the longest OLD that names a series winning.  0, or 2 after a
 * message. */
static int apply_labels(struct finish *F)
{
    for (size_t a = 0; a < F->o->nlabels; a++) {
        const char *arg = F->o->labels[a];
        const char *eq = strchr(arg, '='), *best = NULL;
        if (!eq)
            return hl_plot_fail("--label %s: expected OLD=NEW (e.g. --label mm:mm.c=\"my allocator\")", arg);
        for (const char *p = eq; p; p = strchr(p + 1, '=')) {
            size_t ol = (size_t)(p - arg);
            for (size_t i = 0; i < F->ns; i++) {
                const struct series *s = &F->s[i];
                if ((strlen(s->policy) == ol && strncmp(s->policy, arg, ol) == 0) ||
                    (strlen(s->label) == ol && strncmp(s->label, arg, ol) == 0))
                    best = p;
            }
        }
        if (!best) {
            char have[512];
            return hl_plot_fail("--label %.*s: no such series in the inputs (they have %s)", (int)(eq - arg), arg,
                                series_names(F, 1, have, sizeof have));
        }
        const char *neu = best + 1;
        size_t ol = (size_t)(best - arg);
        if (!*neu || strpbrk(neu, "\t\r\n"))
            return hl_plot_fail("--label %s: the new label is empty or holds a tab or a line break", arg);
        for (size_t i = 0; i < F->ns; i++) {
            struct series *s = &F->s[i];
            if (s->renamed)
                continue;
            char *old = s->label;
            int whole = strlen(old) == ol && strncmp(old, arg, ol) == 0;
            int policy = strlen(s->policy) == ol && strncmp(s->policy, arg, ol) == 0;
            if (!whole && !policy)
                continue;
            /* a policy's new name keeps the preset the label showed */
            const char *suffix = !whole && strncmp(old, s->policy, strlen(s->policy)) == 0 ? old + strlen(s->policy)
                                                                                            : "";
            s->label = xprintf(F, "%s%s", neu, suffix);
            s->renamed = 1;
            free(old);
            if (!s->label)
                return hl_plot_fail("%s", strerror(ENOMEM));
        }
    }
    for (size_t i = 0; i < F->ns; i++)
        for (size_t j = 0; j < i; j++)
            if (F->s[i].drawn && F->s[j].drawn && strcmp(F->s[i].label, F->s[j].label) == 0)
                return hl_plot_fail("--label: two series would both be called '%s' (%s and %s)", F->s[i].label,
                                    F->s[j].policy, F->s[i].policy);
    return 0;
}

/* A series' style: its policy's, or for a further series of the same
 * policy (another preset) a variant of it. */
static int styles(struct finish *F)
{
    for (size_t i = 0; i < F->ns; i++) {
        struct series *s = &F->s[i];
        int before = 0;
        for (size_t j = 0; j < i; j++)
            before |= F->s[j].drawn && strcmp(F->s[j].policy, s->policy) == 0;
        s->style = before ? xprintf(F, "%s:preset=%s", s->policy, s->preset) : xstrdup(F, s->policy);
        if (!s->style)
            return -1;
    }
    return 0;
}

/* ---- what the chart must say -------------------------------------------------------------- */

/* "a-bal.rep, b-bal.rep and 3 more": the chosen keys whose cell of series
 * s passes want(). */
static void key_list(struct finish *F, size_t s, int (*want)(const struct cell *), char *buf, size_t len)
{
    size_t n = 0, k = 0, count = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < F->nc; i++)
        count += F->c[i].series == s && F->chosen[F->c[i].key] && want(&F->c[i]);
    for (size_t i = 0; i < F->nc; i++) {
        const struct cell *c = &F->c[i];
        if (c->series != s || !F->chosen[c->key] || !want(c))
            continue;
        if (k == 3 && count > 4) {
            char more[48];
            snprintf(more, sizeof more, " and %zu more", count - 3);
            hl_msg_put(buf, len, &n, more);
            break;
        }
        hl_msg_put(buf, len, &n, k ? (k + 1 == count ? " and " : ", ") : "");
        if (F->xi >= 0 && strcmp(hl_plot_column_name(F->k, (size_t)F->xi), "live_blocks") == 0) {
            hl_msg_put(buf, len, &n, F->keys->v[c->key].s);
            hl_msg_put(buf, len, &n, " live blocks");
        } else {
            hl_msg_put(buf, len, &n, base_name(F->keys->v[c->key].s));
        }
        k++;
    }
}

static int cell_failed(const struct cell *c) { return c->failed > 0; }

/* util: a chosen trace is in the mean when every drawn series has a value
 * there; the mean's label says how many traces that is when not all. */
static void mean(struct finish *F)
{
    size_t chosen = 0, in = 0;
    for (size_t t = 0; t < F->keys->n; t++) {
        if (!F->chosen[t])
            continue;
        chosen++;
        int all = 1;
        for (size_t s = 0; s < F->ns && all; s++) {
            if (!F->s[s].drawn)
                continue;
            int has = 0;
            for (size_t i = 0; i < F->nc && !has; i++)
                has = F->c[i].key == t && F->c[i].series == s && F->c[i].drawable;
            all = has;
        }
        F->in_mean[t] = all;
        in += (size_t)all;
    }
    if (chosen < 2)
        return;
    if (in == chosen)
        snprintf(F->mean_label, sizeof F->mean_label, "mean");
    else if (in)
        snprintf(F->mean_label, sizeof F->mean_label, "mean (%zu of %zu traces)", in, chosen);
    if (in && in < chosen)
        note(F, "mean: over the %zu traces on which every series has a value", in);
    else if (!in)
        note(F, "no mean: no trace has a value for every series");
}

static void notes(struct finish *F)
{
    char list[512];
    const char *value = F->k->value;
    for (size_t i = 0; i < F->ns; i++) {
        const struct series *s = &F->s[i];
        if (!s->selected)
            continue;
        /* what the chosen keys hold of this series */
        uint64_t rows = 0, drawable = 0, failed = 0;
        unsigned has = 0;
        for (size_t j = 0; j < F->nc; j++) {
            const struct cell *c = &F->c[j];
            if (c->series != i || !F->chosen[c->key])
                continue;
            rows += c->rows;
            drawable += c->drawable;
            failed += c->failed;
            has |= c->has;
        }
        if (F->k->value2 && hl_plot_is_mm(s->policy) && rows) {
            note(F, "%s: block layout unknown to heaplab, fragmentation not drawn", s->label);
            continue;
        }
        if (failed) {
            key_list(F, i, cell_failed, list, sizeof list);
            note(F, "%s: failed on %s (status not ok), not drawn there", s->label, list);
        }
        if (rows && !drawable && !strncmp(s->policy, "baseline:", 9) && strcmp(value, "util") == 0)
            continue; /* a baseline has no heap to measure: no util, as expected */
        if (rows && !drawable)
            note(F, "%s: no %s value, not drawn", s->label, value);
        else if (F->k->value2 && drawable && has != 3)
            note(F, "%s: no %s value, not drawn in that panel", s->label,
                 has & 1 ? F->k->value2 : F->k->value);
        else if (F->o->nonly && !rows && !failed)
            note(F, "%s: no rows in this chart's trace%s", s->label, F->k->one_trace ? "" : "s");
    }
}

/* ---- the second pass: the data the script draws ------------------------------------------- */

/* A row to sort: a line's rows together (op kinds: a cell's, on the one
 * trace drawn; scaling: a series', across the live_blocks values), in x
 * order, rows of equal x in the order they came. */
struct line {
    size_t group;
    double x;
    size_t seq;
    size_t cell;
    int src;
    unsigned long line;
    char *text;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *p = a, *q = b;
    if (p->group != q->group)
        return p->group < q->group ? -1 : 1;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->seq > q->seq) - (p->seq < q->seq);
}

static void write_out_header(const struct finish *F, FILE *out)
{
    for (size_t i = 0; i < F->k->ncols; i++)
        fprintf(out, "%s\t", hl_plot_column_name(F->k, i));
    fputs(strcmp(F->k->name, "util") == 0 ? "series\tstyle\tin_mean\n" : "series\tstyle\n", out);
}

/* The row as the script gets it, or NULL when it is not drawn. */
static char *out_row(struct finish *F, char **f, size_t *cell_out)
{
    size_t nk = F->k->ncols;
    const char *keyname = F->pi >= 0 ? f[F->xi] : "";
    if (strcmp(f[nk + 3], "1") != 0)
        return NULL;
    long t = hl_plot_names_add(F->keys, keyname, 0);
    long s = t < 0 ? -1 : series_add(F, row_policy(F, f), f[nk]);
    int fresh;
    long ci = s < 0 ? -1 : cell_add(F, (size_t)t, (size_t)s, &fresh);
    if (ci < 0) {
        F->nomem = 1;
        return NULL;
    }
    unsigned has = row_values(F, f);
    if (!F->chosen[t] || !F->s[s].drawn || !drawable_values(F, has))
        return NULL;
    *cell_out = (size_t)ci;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        F->nomem = 1;
        return NULL;
    }
    for (size_t i = 0; i < nk; i++) {
        int blank = (i == (size_t)F->vi && !(has & 1)) || (i == (size_t)F->v2i && !(has & 2));
        fprintf(m, "%s\t", blank ? "" : f[i]);
    }
    fprintf(m, "%s\t%s", F->s[s].label, F->s[s].style);
    if (strcmp(F->k->name, "util") == 0)
        fprintf(m, "\t%d", F->in_mean[t]);
    fputc('\n', m);
    if (fclose(m) != 0) {
        free(text);
        F->nomem = 1;
        return NULL;
    }
    return text;
}

static int second_pass(struct finish *F, FILE *raw, FILE *out)
{
    char *buf = NULL, *f[MAXF];
    size_t blen = 0, n = 0, cap = 0;
    struct line *lines = NULL;
    ssize_t len;
    int rc = 0, header = 1;
    write_out_header(F, out);
    while ((len = getline(&buf, &blen, raw)) > 0 && !F->nomem) {
        if (buf[len - 1] == '\n')
            buf[len - 1] = '\0';
        if (header) {
            header = 0;
            continue;
        }
        split(buf, f);
        size_t nk = F->k->ncols, cell;
        double x = strtod(f[F->oi >= 0 ? F->oi : F->xi], NULL);
        int src = atoi(f[nk + 1]);
        unsigned long line = strtoul(f[nk + 2], NULL, 10);
        char *text = out_row(F, f, &cell);
        if (!text)
            continue;
        if (!F->scattered) {
            fputs(text, out);
            free(text);
            continue;
        }
        if (reserve(&lines, &cap, n, sizeof *lines) != 0) {
            free(text);
            F->nomem = 1;
            break;
        }
        lines[n] = (struct line){F->oi >= 0 ? cell : F->c[cell].series, x, n, cell, src, line, text};
        n++;
    }
    free(buf);
    if (F->scattered && !F->nomem) {
        qsort(lines, n, sizeof *lines, cmp_line);
        for (size_t i = 0; i < n && !rc; i++) {
            if (F->oi >= 0 && i && lines[i].group == lines[i - 1].group && lines[i].x == lines[i - 1].x) {
                struct cell *c = &F->c[lines[i].cell]; /* an op again, rows apart */
                c->dup = 2;
                c->dup_src = lines[i].src;
                c->dup_line = lines[i].line;
                c->dup_op = lines[i].x;
                rc = refuse_twice(F, c);
                break;
            }
            fputs(lines[i].text, out);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i].text);
    free(lines);
    if (!rc && F->nomem)
        rc = hl_plot_fail("%s", strerror(ENOMEM));
    return rc;
}

/* ---- chart.tsv ------------------------------------------------------------------------------- */

static void put_value(const char *key, const char *v, FILE *out)
{
    fprintf(out, "%s\t", key);
    for (; *v; v++)
        fputc(*v == '\t' || *v == '\n' || *v == '\r' ? ' ' : *v, out);
    fputc('\n', out);
}

static int write_chart(const char *dir, const char *kind, const struct hl_plot_opts *o, char **notes_v,
                       size_t nnotes, const char *mean_label)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/chart.tsv", dir);
    FILE *out = fopen(path, "w");
    if (!out)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    fputs("key\tvalue\n", out);
    put_value("kind", kind, out);
    if (o->title)
        put_value("title", o->title, out);
    for (size_t i = 0; i < nnotes; i++)
        put_value("note", notes_v[i], out);
    if (mean_label && *mean_label)
        put_value("mean_label", mean_label, out);
    if (fclose(out) != 0)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    return 0;
}

/* ---- hl_plot_finish ---------------------------------------------------------------------------- */

/* Nothing to draw, or (throughput) glibc on some traces only: the
 * messages heaplab gave before it drew.  0, or 2 after a message. */
static int check_drawn(struct finish *F)
{
    const char *what = F->nfiles == 1 ? F->files[0] : "the inputs";
    int any = 0;
    for (size_t i = 0; i < F->ns; i++)
        any |= F->s[i].drawn;
    if (!any)
        return hl_plot_fail("%s: no row has a %s value%s%s", what, F->k->value,
                            strcmp(F->k->value, "util") == 0 ? " (baseline rows have none)" : "",
                            F->o->nonly ? " among the series --only names" : "");
    if (strcmp(F->k->name, "throughput") != 0)
        return 0;
    /* relative to glibc when every trace has a glibc bar, absolute ops/s
     * when none has; a mix would mislead */
    size_t chosen = 0, glibc = 0, missing = 0;
    for (size_t t = 0; t < F->keys->n; t++) {
        if (!F->chosen[t])
            continue;
        int has = 0;
        for (size_t i = 0; i < F->nc; i++)
            has |= F->c[i].key == t && F->c[i].drawable && F->s[F->c[i].series].drawn &&
                   strcmp(F->s[F->c[i].series].policy, "baseline:glibc") == 0;
        int any_row = 0;
        for (size_t i = 0; i < F->nc; i++)
            any_row |= F->c[i].key == t && F->c[i].drawable && F->s[F->c[i].series].drawn;
        if (!any_row)
            continue;
        chosen++;
        glibc += (size_t)has;
        if (!has && !missing)
            missing = t + 1;
    }
    if (glibc && glibc < chosen)
        return hl_plot_fail("%s: trace %s has no ok baseline:glibc row to normalise to (replay it with --baseline "
                            "glibc, or leave glibc out everywhere for absolute ops/s)",
                            what, F->keys->v[missing - 1].s);
    return 0;
}

static void finish_free(struct finish *F)
{
    for (size_t i = 0; i < F->ns; i++) {
        free(F->s[i].policy);
        free(F->s[i].preset);
        free(F->s[i].label);
        free(F->s[i].style);
    }
    free(F->s);
    free(F->c);
    free(F->chosen);
    free(F->in_mean);
    for (size_t i = 0; i < F->nnotes; i++)
        free(F->notes[i]);
    free(F->notes);
}

int hl_plot_finish(const struct hl_plot_kind *k, const struct hl_plot_opts *o, char **files, int nfiles,
                   const char *dir, const char **trace_out, struct hl_plot_input *in)
{
    struct finish F;
    memset(&F, 0, sizeof F);
    F.k = k;
    F.o = o;
    F.files = files;
    F.nfiles = nfiles;
    F.keys = &in->traces;
    F.pi = hl_plot_column(k, "policy");
    F.xi = hl_plot_column(k, "trace") >= 0 ? hl_plot_column(k, "trace") : hl_plot_column(k, "live_blocks");
    F.oi = hl_plot_column(k, "op");
    F.vi = hl_plot_column(k, k->value);
    F.v2i = hl_plot_column(k, k->value2);
    F.scattered = strcmp(k->name, "scaling") == 0; /* a line per series across the live_blocks values */
    *trace_out = NULL;

    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/data.tsv", dir);
    snprintf(tmp, sizeof tmp, "%s/data.tsv.new", dir);
    FILE *raw = fopen(path, "r");
    if (!raw)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    int rc = first_pass(&F, raw);
    if (!rc && F.nomem)
        rc = hl_plot_fail("%s", strerror(ENOMEM));
    if (!rc) {
        F.chosen = calloc(F.keys->n + 1, sizeof *F.chosen);
        F.in_mean = calloc(F.keys->n + 1, sizeof *F.in_mean);
        if (!F.chosen || !F.in_mean)
            rc = hl_plot_fail("%s", strerror(ENOMEM));
    }
    if (!rc)
        rc = select_series(&F);
    if (!rc) {
        count_key_rows(&F);
        rc = choose_keys(&F, trace_out);
    }
    for (size_t i = 0; i < F.nc && !rc; i++)
        if (F.c[i].dup && F.chosen[F.c[i].key] && F.s[F.c[i].series].selected)
            rc = refuse_twice(&F, &F.c[i]);
    if (!rc) {
        mark_drawn(&F);
        rc = check_drawn(&F);
    }
    if (!rc && (auto_labels(&F) != 0 || styles(&F) != 0))
        rc = hl_plot_fail("%s", strerror(ENOMEM));
    if (!rc)
        rc = apply_labels(&F);
    if (!rc) {
        if (strcmp(k->name, "util") == 0)
            mean(&F);
        notes(&F);
        if (F.nomem)
            rc = hl_plot_fail("%s", strerror(ENOMEM));
    }
    if (!rc) {
        FILE *out = fopen(tmp, "w");
        if (!out) {
            rc = hl_plot_fail("%s: %s", tmp, strerror(errno));
        } else {
            rewind(raw);
            rc = second_pass(&F, raw, out);
            if (fclose(out) != 0 && !rc)
                rc = hl_plot_fail("%s: %s", tmp, strerror(errno));
            if (!rc && rename(tmp, path) != 0)
                rc = hl_plot_fail("%s: %s", path, strerror(errno));
            if (rc)
                unlink(tmp);
        }
    }
    fclose(raw);
    if (!rc)
        rc = write_chart(dir, k->name, o, F.notes, F.nnotes, F.mean_label);
    finish_free(&F);
    return rc;
}

/* ---- the heap map: its labels, --only ------------------------------------------------------ */

int hl_plot_finish_heapmap(const struct hl_plot_opts *o, const char *dir)
{
    char path[4200], lpath[4200];
    snprintf(path, sizeof path, "%s/panels.tsv", dir);
    snprintf(lpath, sizeof lpath, "%s/labels.tsv", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    /* the panels' policies: a finish of their own, one series each */
    struct finish F;
    memset(&F, 0, sizeof F);
    F.o = o;
    char *buf = NULL, *f[MAXF];
    size_t blen = 0;
    ssize_t len;
    int rc = 0, pcol = -1;
    while (!rc && (len = getline(&buf, &blen, in)) > 0) {
        if (buf[len - 1] == '\n')
            buf[len - 1] = '\0';
        size_t nf = split(buf, f);
        if (pcol < 0) { /* the header */
            for (size_t i = 0; i < nf && i < MAXF; i++)
                if (strcmp(f[i], "policy") == 0)
                    pcol = (int)i;
            if (pcol < 0)
                rc = hl_plot_fail("%s: no policy column", path);
        } else if ((size_t)pcol >= nf || series_add(&F, f[pcol], "") < 0) {
            rc = hl_plot_fail("%s: %s", path, (size_t)pcol >= nf ? "a row without a policy" : strerror(ENOMEM));
        }
    }
    free(buf);
    fclose(in);
    for (size_t i = 0; i < F.ns && !rc; i++) {
        F.s[i].drawn = 1;
        if (!(F.s[i].label = strdup(F.s[i].policy)))
            rc = hl_plot_fail("%s", strerror(ENOMEM));
    }
    if (!rc)
        rc = apply_labels(&F);
    /* like the frag chart's: what a solution's panel cannot show */
    for (size_t i = 0; i < F.ns && !rc; i++)
        if (hl_plot_is_mm(F.s[i].policy))
            note(&F, "%s: block layout unknown to heaplab: gaps drawn as unknown", F.s[i].label);
    if (!rc && F.nomem)
        rc = hl_plot_fail("%s", strerror(ENOMEM));
    FILE *out = rc ? NULL : fopen(lpath, "w");
    if (!rc && !out)
        rc = hl_plot_fail("%s: %s", lpath, strerror(errno));
    if (out) {
        fputs("policy\tlabel\n", out);
        for (size_t i = 0; i < F.ns; i++)
            fprintf(out, "%s\t%s\n", F.s[i].policy, F.s[i].label);
        if (fclose(out) != 0)
            rc = hl_plot_fail("%s: %s", lpath, strerror(errno));
    }
    if (!rc)
        rc = write_chart(dir, "heapmap", o, F.notes, F.nnotes, NULL);
    finish_free(&F);
    return rc;
}

int hl_plot_only_copy(const struct hl_plot_kind *k, const struct hl_plot_opts *o, char **files, int nfiles,
                      const char *dir, const char **copy)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/only.csv", dir);
    *copy = path;
    FILE *out = fopen(path, "w");
    if (!out)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    struct list l;
    if (list_make(&l, o->only, o->nonly) != 0) {
        list_free(&l);
        fclose(out);
        return hl_plot_fail("%s", strerror(ENOMEM));
    }
    for (size_t i = 0; i < k->ncols; i++)
        fprintf(out, "%s%s", i ? "," : "", hl_plot_column_name(k, i));
    fputc('\n', out);
    int pi = hl_plot_column(k, "policy"), rc = 0;
    struct finish F; /* the policies seen, for the message */
    memset(&F, 0, sizeof F);
    for (int f = 0; f < nfiles && !rc; f++) {
        struct hl_plot_table tb;
        struct hl_plot_record rec;
        rc = hl_plot_table_open(&tb, k, files[f]);
        while (!rc && hl_plot_table_next(&tb, k, &rec, &rc)) {
            int m = list_match(&l, series_eq, rec.vals[pi], "");
            if (m < 0 || series_add(&F, rec.vals[pi], "") < 0) {
                rc = hl_plot_fail("%s", strerror(ENOMEM));
                break;
            }
            if (!m)
                continue;
            for (size_t i = 0; i < k->ncols; i++) {
                if (i)
                    fputc(',', out);
                hl_output_csv_string(rec.vals[i], out);
            }
            fputc('\n', out);
        }
        rc = hl_plot_table_close(&tb, rc);
    }
    const char *miss = rc ? NULL : list_unused(&l);
    if (miss) {
        char have[512];
        rc = hl_plot_fail("--only %s: no such series in the inputs (they have %s)", miss,
                          series_names(&F, 0, have, sizeof have));
    }
    list_free(&l);
    finish_free(&F);
    if (fclose(out) != 0 && !rc)
        rc = hl_plot_fail("%s: %s", path, strerror(errno));
    return rc;
}
