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

/* ---- messages ---------------------------------------------------------------------- */

/* "heaplab: plot: " and the message on stderr.  Returns 2, the exit status. */
__attribute__((format(printf, 1, 2))) int hl_plot_fail(const char *fmt, ...);

/* "file:line: what is wrong" on stderr (line 0: "file: what is wrong").
 * Returns 2. */
__attribute__((format(printf, 3, 4))) int hl_plot_bad_input(const char *file, unsigned long line, const char *fmt,
                                                            ...);

/* ---- CSV (RFC 4180) reading: csv.c -------------------------------------------------- */

struct hl_csv {
    const char *path;
    FILE *f;
    unsigned long line;      /* physical line where the current record starts */
    unsigned long next_line; /* physical line of the next character */
    char *buf;               /* the record's fields, each NUL-terminated */
    size_t len, cap;
    size_t *starts; /* offsets of the fields in buf */
    size_t nfields, fcap;
};

/* 0, or 2 after a message (a folder, a file that cannot be opened). */
int hl_csv_open(struct hl_csv *c, const char *path);
void hl_csv_close(struct hl_csv *c);

/* The next record: 1, 0 at the end of the file, -1 after printing
 * "file:line: what is wrong". */
int hl_csv_next(struct hl_csv *c);

/* Field i of the current record (i below c->nfields). */
const char *hl_csv_field(const struct hl_csv *c, size_t i);

/* Whether the record is one empty field: a blank line. */
int hl_csv_blank(const struct hl_csv *c);

#endif
