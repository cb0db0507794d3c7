/*
 * sizes.c - the sizes chart's data: request sizes read from trace files
 * through the trace parser, or a trace,size,count CSV (what heaplab hands
 * the scripts, kept with --keep-data).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "trace.h"
#include "util.h"

/* One trace file: a row per distinct request size (malloc, calloc,
 * memalign, realloc to a nonzero size) with how often it occurs. */
static int sizes_of_trace(const struct hl_plot_kind *k, const char *path, int src, FILE *out)
{
    struct hl_trace t;
    struct hl_trace_opts topts = {HL_DIALECT_AUTO};
    char err[512];
    if (strpbrk(path, "\t\r\n"))
        return hl_plot_bad_input(path, 0, "a trace name with a tab or a line break cannot be drawn");
    if (hl_trace_load(path, &topts, &t, err, sizeof err) != 0) {
        return hl_plot_fail("%s", err);
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
    qsort(sizes, n, sizeof *sizes, hl_plot_cmp_u64);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && sizes[j] == sizes[i])
            j++;
        char size[24], count[24];
        snprintf(size, sizeof size, "%llu", (unsigned long long)sizes[i]);
        snprintf(count, sizeof count, "%zu", j - i);
        hl_plot_write_raw(k, (const char *const[]){path, size, count}, "", src, 0, 1, out);
        i = j;
    }
    free(sizes);
    return 0;
}

int hl_plot_read_sizes(const struct hl_plot_kind *k, char **files, int nfiles, struct hl_plot_input *in, FILE *out)
{
    for (int f = 0; f < nfiles; f++) {
        if (!hl_ends_with(files[f], ".csv")) {
            int rc = sizes_of_trace(k, files[f], f, out);
            if (rc)
                return rc;
            continue;
        }
        /* a trace,size,count CSV (what heaplab hands the scripts, kept) */
        int rc = hl_plot_read_table(k, files[f], f, in, out);
        if (rc)
            return rc;
    }
    return 0;
}
