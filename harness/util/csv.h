/*
 * csv.h - reading CSV (RFC 4180): quoted fields with commas, quotes and line
 * breaks in them, CRLF or LF line ends, and what is wrong for anything else
 * (binary data, a quote left open, text after a closing quote).  A record
 * may be up to 16 MiB.  The reader says what and where; the caller says it
 * in its own voice (heaplab plot, heaplab merge).
 */
#ifndef HEAPLAB_CSV_H
#define HEAPLAB_CSV_H

#include <stddef.h>
#include <stdio.h>

struct hl_csv {
    const char *path;
    FILE *f;
    unsigned long line;      /* physical line where the current record starts */
    unsigned long next_line; /* physical line of the next character */
    unsigned long err_line;  /* after an error: the line it is on, 0 for the file as a whole */
    char *buf;               /* the record's fields, each NUL-terminated */
    size_t len, cap;
    size_t *starts; /* offsets of the fields in buf */
    size_t nfields, fcap;
};

/* 0, or -1 with errno (EISDIR for a folder). */
int hl_csv_open_file(struct hl_csv *c, const char *path);
void hl_csv_close(struct hl_csv *c);

/* The next record: 1, 0 at the end of the file, -1 with what is wrong in
 * err (no file name; c->err_line says where). */
int hl_csv_read(struct hl_csv *c, char *err, size_t errlen);

/* Field i of the current record (i below c->nfields). */
const char *hl_csv_field(const struct hl_csv *c, size_t i);

/* Whether the record is one empty field: a blank line. */
int hl_csv_blank(const struct hl_csv *c);

#endif
