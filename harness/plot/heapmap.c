/*
 * heapmap.c - the heapmap chart's data.  A heap-map CSV (replay --heapmap:
 * every block of the heap at the sampled operations) can hold millions of
 * rows, so the scripts get a raster instead: at most a few hundred
 * snapshots per policy, evenly spread, the first and the last included,
 * each binned into at most a few hundred address columns.  A cell that
 * holds bytes of a block in use and bytes of a free block (a header counts
 * with its block) is "mixed": a majority vote would hide the small blocks
 * between free ones that make a heap fragmented.  A malloc-lab solution's
 * bytes between payloads are "unknown" (its headers, footers, padding or
 * free blocks: heaplab cannot tell which), also when an older CSV calls
 * them free; they never make a cell mixed, so the chart claims no free
 * byte heaplab does not know of.  A cell with bytes in use and unknown
 * bytes is "payload + unknown", the mixed cell of a solution.  Any other
 * cell shows the state that holds most of its bytes.  --addr and --ops
 * zoom: they restrict the raster before binning, so a narrow range shows
 * single blocks.  Two passes over the input: the first checks it and finds
 * the snapshots and the heap's extent, the second bins the snapshots
 * drawn.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util.h"

/* What a cell shows: the digit raster.txt holds for it. */
enum cell { CELL_EMPTY, CELL_USED, CELL_HEADER, CELL_FREE, CELL_MAPPED, CELL_MIXED, CELL_UNKNOWN, CELL_USED_UNKNOWN };

/* What a cell's bytes are counted as.  The headers of free blocks are
 * counted apart from those of blocks in use: both are drawn as headers,
 * but a cell is mixed by the blocks its bytes belong to. */
enum slot { S_PAYLOAD, S_HEADER, S_FREE, S_FREE_HEADER, S_MAPPED, S_UNKNOWN, NSLOT };

struct panel {
    struct hl_plot_name *pol; /* its policy (ops: the snapshots) */
    uint64_t *sel;    /* the ops of the rows drawn, ascending */
    size_t rows;
    float *acc;           /* rows x cols x NSLOT bytes */
    size_t nmixed;        /* its mixed cells */
    size_t nunknown;      /* its unknown cells */
    size_t nused_unknown; /* its payload + unknown cells */
};

/* The raster's columns: bytes [lo, lo + bytes) of the heap, bpc a column. */
struct span {
    uint64_t lo, bytes, bpc;
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

/* Spread the heap's bytes [a, b), as far as the raster shows them, over
 * its columns as `slot`. */
static void bin_range(float *row, const struct span *sp, uint64_t a, uint64_t b, enum slot slot)
{
    uint64_t end = sp->lo + sp->bytes;
    if (b <= a || b <= sp->lo || a >= end)
        return;
    a = a > sp->lo ? a - sp->lo : 0;
    b = b < end ? b - sp->lo : sp->bytes;
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
 * else payload + unknown when it holds a byte in use and an unknown byte,
 * else the state holding most of its bytes; on a tie the rarer state wins
 * (free, header, mapped, unknown before used and empty). */
static enum cell cell_state(const float *v, uint64_t width)
{
    int in_use = v[S_PAYLOAD] + v[S_HEADER] > 0;
    if (in_use && v[S_FREE] + v[S_FREE_HEADER] > 0)
        return CELL_MIXED;
    if (in_use && v[S_UNKNOWN] > 0)
        return CELL_USED_UNKNOWN;
    float by[] = {
        [CELL_EMPTY] = (float)width -
                       (v[S_PAYLOAD] + v[S_HEADER] + v[S_FREE] + v[S_FREE_HEADER] + v[S_MAPPED] + v[S_UNKNOWN]),
        [CELL_USED] = v[S_PAYLOAD],
        [CELL_HEADER] = v[S_HEADER] + v[S_FREE_HEADER],
        [CELL_FREE] = v[S_FREE],
        [CELL_MAPPED] = v[S_MAPPED],
        [CELL_UNKNOWN] = v[S_UNKNOWN],
    };
    static const enum cell order[] = {CELL_FREE, CELL_HEADER, CELL_MAPPED, CELL_UNKNOWN, CELL_USED, CELL_EMPTY};
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

/* ---- --addr and --ops ------------------------------------------------------------ */

/* One side of LO:HI: empty (keep *out), or a number as parse reads it. */
static int range_side(const char *s, size_t len, int sizes, uint64_t *out)
{
    char buf[64];
    if (len == 0)
        return 0;
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return sizes ? hl_parse_size(buf, UINT64_MAX, out) : hl_parse_u64(buf, UINT64_MAX, out);
}

/* --NAME LO:HI into [*lo, *last]: HI is left out, an empty LO is 0 and an
 * empty HI no bound.  0, or 2 after a message. */
static int parse_range(const char *name, const char *text, int sizes, uint64_t *lo, uint64_t *last)
{
    const char *what = sizes ? "byte offsets, k, m or g allowed" : "operation numbers";
    const char *colon = strchr(text, ':');
    uint64_t hi = UINT64_MAX;
    *lo = 0;
    if (!colon || strchr(colon + 1, ':'))
        return hl_plot_fail("--%s: expected LO:HI (%s; either side may be empty), got '%s'", name, what, text);
    if (range_side(text, (size_t)(colon - text), sizes, lo) || range_side(colon + 1, strlen(colon + 1), sizes, &hi))
        return hl_plot_fail("--%s: '%s' is not a range of numbers (LO:HI, %s)", name, text, what);
    if (*lo >= hi)
        return hl_plot_fail("--%s: %s is empty: LO must be below HI (the range is LO to HI, HI left out)", name,
                            text);
    *last = colon[1] ? hi - 1 : UINT64_MAX;
    return 0;
}

int hl_plot_zoom_parse(struct hl_plot_zoom *z, const struct hl_plot_kind *k, const char *addr, const char *ops)
{
    memset(z, 0, sizeof *z);
    if ((addr || ops) && strcmp(k->name, "heapmap") != 0)
        return hl_plot_fail("--%s: a %s chart does not zoom (--addr and --ops are for heapmap)",
                            addr ? "addr" : "ops", k->name);
    z->addr = addr;
    z->ops = ops;
    if (parse_range("addr", addr ? addr : ":", 1, &z->addr_lo, &z->addr_last))
        return 2;
    return parse_range("ops", ops ? ops : ":", 0, &z->op_lo, &z->op_last);
}

/* ---- the two passes -------------------------------------------------------------- */

static int heapmap_pass(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                        const struct hl_plot_zoom *z, long tr, struct panel *panels, const struct span *sp)
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
                struct hl_plot_name *tn = &in->traces.v[t];
                tn->rows++;
                if (op < z->op_lo || op > z->op_last)
                    continue;
                if (off + size > tn->max_end)
                    tn->max_end = off + size;
                tn->zoomed += size && off <= z->addr_last && off + size > z->addr_lo;
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
            for (size_t i = 0; panels[i].pol && !pn; i++)
                if (panels[i].pol == &in->policies.v[p])
                    pn = &panels[i];
            /* the row of this snapshot, if it is drawn */
            size_t r = pn ? lower_bound(pn->sel, pn->rows, op) : 0;
            if (!pn || r == pn->rows || pn->sel[r] != op)
                continue;
            float *row = pn->acc + r * sp->cols * NSLOT;
            if (rec.state == HL_PLOT_MAPPED) {
                bin_range(row, sp, off, off + size, S_MAPPED);
            } else if (rec.state == HL_PLOT_UNKNOWN || (rec.state == HL_PLOT_FREE && hl_plot_is_mm(rec.vals[1]))) {
                /* a solution's gap: an older CSV calls it free */
                bin_range(row, sp, off, off + size, S_UNKNOWN);
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

/* Write raster.txt and then panels.tsv (with each panel's mixed, unknown
 * and payload + unknown cells) into dir. */
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
                panels[i].nunknown += cell == CELL_UNKNOWN;
                panels[i].nused_unknown += cell == CELL_USED_UNKNOWN;
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
    fputs("policy\top_first\top_last\trows\tcols\toffset_first\toffset_last\tbytes\tbytes_per_col\tmixed_cells\t"
          "unknown_cells\tpayload_unknown_cells\n",
          pf);
    for (size_t i = 0; i < np; i++)
        fprintf(pf, "%s\t%llu\t%llu\t%zu\t%zu\t%llu\t%llu\t%llu\t%llu\t%zu\t%zu\t%zu\n", panels[i].pol->s,
                (unsigned long long)panels[i].sel[0], (unsigned long long)panels[i].sel[panels[i].rows - 1],
                panels[i].rows, cols, (unsigned long long)sp->lo, (unsigned long long)(sp->lo + sp->bytes - 1),
                (unsigned long long)sp->bytes, (unsigned long long)sp->bpc, panels[i].nmixed, panels[i].nunknown,
                panels[i].nused_unknown);
    bad |= fclose(pf) != 0;
    return bad ? hl_plot_fail("%s: %s", dir, strerror(errno)) : 0;
}

/* Sort and deduplicate pol's snapshots. */
static void sort_ops(struct hl_plot_name *pol)
{
    qsort(pol->ops, pol->nops, sizeof *pol->ops, hl_plot_cmp_u64);
    size_t s = 0;
    for (size_t q = 0; q < pol->nops; q++)
        if (!s || pol->ops[q] != pol->ops[s - 1])
            pol->ops[s++] = pol->ops[q];
    pol->nops = s;
}

/* [*first, *end): pol's sorted snapshots that --ops keeps. */
static void ops_in_zoom(const struct hl_plot_name *pol, const struct hl_plot_zoom *z, size_t *first, size_t *end)
{
    size_t e = *first = lower_bound(pol->ops, pol->nops, z->op_lo);
    while (e < pol->nops && pol->ops[e] <= z->op_last)
        e++;
    *end = e;
}

int hl_plot_read_heapmap(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in,
                         const struct hl_plot_zoom *z, const char *want, const char *dir, int width, int height,
                         const char **trace_out)
{
    int rc = heapmap_pass(k, files, nfiles, in, z, -1, NULL, NULL);
    if (rc)
        return rc;
    long tr = hl_plot_pick_trace(&in->traces, want, files[0]);
    if (tr < 0)
        return 2;
    const struct hl_plot_name *tn = &in->traces.v[tr];
    *trace_out = tn->s;

    /* a panel per policy with a snapshot in --ops */
    size_t np = 0;
    uint64_t op_min = UINT64_MAX, op_max = 0;
    for (size_t i = 0; i < in->policies.n; i++) {
        struct hl_plot_name *pol = &in->policies.v[i];
        if (pol->trace != (size_t)tr)
            continue;
        size_t first, end;
        sort_ops(pol);
        ops_in_zoom(pol, z, &first, &end);
        np += first < end;
        op_min = pol->ops[0] < op_min ? pol->ops[0] : op_min;
        op_max = pol->ops[pol->nops - 1] > op_max ? pol->ops[pol->nops - 1] : op_max;
    }
    if (!np)
        return hl_plot_fail("--ops: no snapshot of trace %s is in %s (its snapshots run from op %llu to op %llu)",
                            tn->s, z->ops, (unsigned long long)op_min, (unsigned long long)op_max);
    if (!tn->zoomed && z->addr)
        return hl_plot_fail("--addr: no block of trace %s lies in %s%s (its heap ends at offset %llu)", tn->s,
                            z->addr, z->ops ? " at the ops drawn" : "", (unsigned long long)tn->max_end);
    if (!tn->zoomed)
        return hl_plot_bad_input(files[0], 0, "the heap map of %s holds no bytes", tn->s);

    struct span sp = {.lo = z->addr_lo};
    sp.bytes = (tn->max_end - 1 < z->addr_last ? tn->max_end - 1 : z->addr_last) - sp.lo + 1;
    /* a zero entry after the last panel ends the second pass's lookup */
    struct panel *panels = calloc(np + 1, sizeof *panels);
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
        size_t first, end;
        if (pol->trace != (size_t)tr)
            continue;
        ops_in_zoom(pol, z, &first, &end);
        if (first == end)
            continue;
        struct panel *pn = &panels[j++];
        size_t s = end - first;
        pn->pol = pol;
        pn->rows = s < rows_max ? s : rows_max;
        pn->sel = malloc(pn->rows * sizeof *pn->sel);
        pn->acc = calloc(pn->rows * sp.cols * NSLOT, sizeof *pn->acc);
        if (!pn->sel || !pn->acc) {
            rc = hl_plot_fail("%s", strerror(ENOMEM));
            break;
        }
        /* evenly spread, the first and the last snapshot included */
        const uint64_t *ops = pol->ops + first;
        for (size_t r = 0; r < pn->rows; r++)
            pn->sel[r] = ops[pn->rows > 1 ? (size_t)((double)r * (double)(s - 1) / (double)(pn->rows - 1) + 0.5)
                                          : s - 1];
    }
    if (!rc)
        rc = heapmap_pass(k, files, nfiles, in, z, tr, panels, &sp);
    if (!rc)
        rc = write_raster(dir, panels, np, &sp);
    for (size_t i = 0; i < np; i++) {
        free(panels[i].sel);
        free(panels[i].acc);
    }
    free(panels);
    return rc;
}
