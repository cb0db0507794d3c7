/*
 * csv.c - the plot layer's messages, and its CSV input: the reader in
 * harness/util/csv.c, what is wrong said as "heaplab: plot: file:line: ...".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

int hl_plot_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("heaplab: plot: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

int hl_plot_bad_input(const char *file, unsigned long line, const char *fmt, ...)
{
    va_list ap;
    if (line)
        fprintf(stderr, "heaplab: plot: %s:%lu: ", file, line);
    else
        fprintf(stderr, "heaplab: plot: %s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* ---- CSV reading, in the plot's voice --------------------------------------------- */

int hl_csv_open(struct hl_csv *c, const char *path)
{
    if (hl_csv_open_file(c, path) != 0)
        return hl_plot_bad_input(path, 0, "cannot open: %s", strerror(errno));
    return 0;
}

int hl_csv_next(struct hl_csv *c)
{
    char what[256];
    int r = hl_csv_read(c, what, sizeof what);
    if (r < 0)
        hl_plot_bad_input(c->path, c->err_line, "%s", what);
    return r;
}
