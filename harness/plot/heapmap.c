/*
 * heapmap.c - the heapmap chart's data.  A heap-map CSV (replay --heapmap:
 * every block of the heap at the sampled operations) can hold millions of
 * rows, so the scripts get a raster instead: at most a few hundred
 * snapshots per policy, evenly spread, the first and the last included,
 * each binned into at most a few hundred address columns.  A cell that
 * holds bytes of a block in use and bytes of a free block (a header counts
 * with its block) is "mixed": a majority vote would hide the small blocks
 * between free ones that make a heap fragmented.  Any other cell shows the
 * state that holds most of its bytes.  Two passes over the input: the
 * first checks it and finds the snapshots and the heap's extent, the second
 * bins the snapshots drawn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* What a cell shows: the digit raster.txt holds for it. */
enum cell { CELL_EMPTY, CELL_USED, CELL_HEADER, CELL_FREE, CELL_MAPPED, CELL_MIXED };

/* What a cell's bytes are counted as.  The headers of free blocks are
 * counted apart from those of blocks in use: both are drawn as headers,
 * but a cell is mixed by the blocks its bytes belong to. */
enum slot { S_PAYLOAD, S_HEADER, S_FREE, S_FREE_HEADER, S_MAPPED, NSLOT };

struct panel {
    struct hl_plot_name *pol; /* its policy (ops: the snapshots) */
    uint64_t *sel;    /* the ops of the rows drawn, ascending */
    size_t rows;
    float *acc;    /* rows x cols x NSLOT bytes */
    size_t nmixed; /* its mixed cells */
};

/* The raster's columns: the heap's bytes, bpc a column. */
struct span {
    uint64_t bytes, bpc;
    size_t cols;
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

/* The first index of the ascending v[0..n) whose value is not below x. */
static size_t lower_bound(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Spread the heap's bytes [a, b) over the raster's columns as `slot`. */
static void bin_range(float *row, const struct span *sp, uint64_t a, uint64_t b, enum slot slot)
{
    if (b > sp->bytes)
        b = sp->bytes;
    if (b <= a)
        return;
    uint64_t bpc = sp->bpc, c0 = a / bpc, c1 = (b - 1) / bpc;
    if (c0 == c1) {
        row[c0 * NSLOT + slot] += (float)(b - a);
        return;
    }
    row[c0 * NSLOT + slot] += (float)((c0 + 1) * bpc - a);
    for (uint64_t c = c0 + 1; c < c1; c++)
        row[c * NSLOT + slot] += (float)bpc;
    row[c1 * NSLOT + slot] += (float)(b - c1 * bpc);
}

/* What a cell of `width` bytes shows: mixed when it holds a byte of a
 * block in use and a byte of a free block (mapped blocks take no part),
 * else the state holding most of its bytes; on a tie the rarer state wins
 * (free, header, mapped before used and empty). */
static enum cell cell_state(const float *v, uint64_t width)
{
    if (v[S_PAYLOAD] + v[S_HEADER] > 0 && v[S_FREE] + v[S_FREE_HEADER] > 0)
        return CELL_MIXED;
    float by[] = {
        [CELL_EMPTY] = (float)width - (v[S_PAYLOAD] + v[S_HEADER] + v[S_FREE] + v[S_FREE_HEADER] + v[S_MAPPED]),
        [CELL_USED] = v[S_PAYLOAD],
        [CELL_HEADER] = v[S_HEADER] + v[S_FREE_HEADER],
        [CELL_FREE] = v[S_FREE],
        [CELL_MAPPED] = v[S_MAPPED],
    };
    static const enum cell order[] = {CELL_FREE, CELL_HEADER, CELL_MAPPED, CELL_USED, CELL_EMPTY};
    enum cell best = CELL_EMPTY;
    float bestv = -1;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (by[order[i]] > bestv) {
            bestv = by[order[i]];
            best = order[i];
        }
    return best;
}

static size_t clampz(size_t v, size_t lo, size_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The layout both scripts use: up to 4 panels in a row, else two rows. */
static size_t panel_columns(size_t n) { return n <= 4 ? n : (n + 1) / 2; }

/* ---- the two passes -------------------------------------------------------------- */

static int heapmap_pass(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                        long tr, struct panel *panels, const struct span *sp)
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
            size_t r = lower_bound(pn->sel, pn->rows, op);
            if (r == pn->rows || pn->sel[r] != op)
                continue;
            float *row = pn->acc + r * sp->cols * NSLOT;
            if (rec.state == HL_PLOT_MAPPED) {
                bin_range(row, sp, off, off + size, S_MAPPED);
            } else {
                int is_free = rec.state == HL_PLOT_FREE;
                bin_range(row, sp, off, off + hdr, is_free ? S_FREE_HEADER : S_HEADER);
                bin_range(row, sp, off + hdr, off + size, is_free ? S_FREE : S_PAYLOAD);
            }
        }
        if ((rc = hl_plot_table_close(&tb, rc)) != 0)
            return rc;
    }
    return 0;
}

/* Write raster.txt and then panels.tsv (with each panel's mixed cells)
 * into dir. */
static int write_raster(const char *dir, struct panel *panels, size_t np, const struct span *sp)
{
    char path[4096];
    size_t cols = sp->cols;
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
            const float *row = panels[i].acc + r * cols * NSLOT;
            for (size_t c = 0; c < cols; c++) {
                uint64_t width = c == cols - 1 && sp->bytes % sp->bpc ? sp->bytes % sp->bpc : sp->bpc;
                enum cell cell = cell_state(row + c * NSLOT, width);
                panels[i].nmixed += cell == CELL_MIXED;
                line[2 * c] = (char)('0' + cell);
                line[2 * c + 1] = ' ';
            }
            line[2 * cols - 1] = '\n';
            line[2 * cols] = '\0';
            fputs(line, rf);
        }
    }
    free(line);
    int bad = fclose(rf) != 0;
    snprintf(path, sizeof path, "%s/panels.tsv", dir);
    FILE *pf = fopen(path, "w");
    if (!pf)
        return hl_plot_fail("%s: %s", path, strerror(errno));
    fputs("policy\top_first\top_last\trows\tcols\tbytes\tbytes_per_col\tmixed_cells\n", pf);
    for (size_t i = 0; i < np; i++)
        fprintf(pf, "%s\t%llu\t%llu\t%zu\t%zu\t%llu\t%llu\t%zu\n", panels[i].pol->s,
                (unsigned long long)panels[i].sel[0], (unsigned long long)panels[i].sel[panels[i].rows - 1],
                panels[i].rows, cols, (unsigned long long)sp->bytes, (unsigned long long)sp->bpc, panels[i].nmixed);
    bad |= fclose(pf) != 0;
    return bad ? hl_plot_fail("%s: %s", dir, strerror(errno)) : 0;
}

int hl_plot_read_heapmap(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                         const char *want, const char *dir, int width, int height, const char **trace_out)
{
    int rc = heapmap_pass(k, files, nfiles, in, -1, NULL, NULL);
    if (rc)
        return rc;
    long tr = hl_plot_pick_trace(&in->traces, want, files[0]);
    if (tr < 0)
        return 2;
    *trace_out = in->traces.v[tr].s;
    struct span sp = {.bytes = in->traces.v[tr].max_end};
    if (sp.bytes == 0)
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
    sp.cols = clampz((size_t)width * 3 / 4 / pcols, 48, 480);
    size_t rows_max = clampz((size_t)height * 2 / 3 / prows, 48, 480);
    if (sp.bytes < sp.cols)
        sp.cols = (size_t)sp.bytes;
    sp.bpc = (sp.bytes + sp.cols - 1) / sp.cols;
    sp.cols = (size_t)((sp.bytes + sp.bpc - 1) / sp.bpc);
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
        pn->acc = calloc(pn->rows * sp.cols * NSLOT, sizeof *pn->acc);
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
        rc = heapmap_pass(k, files, nfiles, in, tr, panels, &sp);
    if (!rc)
        rc = write_raster(dir, panels, np, &sp);
    for (size_t i = 0; i < np; i++) {
        free(panels[i].sel);
        free(panels[i].acc);
    }
    free(panels);
    return rc;
}
