/*
 * heapmap.c - the heapmap chart's data.  A heap-map CSV (replay --heapmap:
 * every block of the heap at the sampled operations) can hold millions of
 * rows, so the scripts get a raster instead: at most a few hundred
 * snapshots per policy, evenly spread, the first and the last included,
 * each binned into at most a few hundred address columns, a column showing
 * the state that holds most of its bytes.  Two passes over the
 * input: the first checks it and finds the snapshots and the heap's extent,
 * the second bins the snapshots drawn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

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

int hl_plot_read_heapmap(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
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
