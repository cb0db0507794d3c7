/*
 * csv.c - the plot layer's messages, and reading CSV (RFC 4180): quoted
 * fields with commas, quotes and line breaks in them, CRLF or LF line ends,
 * and "file:line: what is wrong" for anything else (binary data, a quote
 * left open, text after a closing quote).  A record may be up to 16 MiB.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ---- CSV (RFC 4180) reading ------------------------------------------------------- */

int hl_csv_open(struct hl_csv *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->next_line = 1;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return hl_plot_bad_input(path, 0, "cannot open: Is a directory");
    c->f = fopen(path, "r");
    if (!c->f)
        return hl_plot_bad_input(path, 0, "cannot open: %s", strerror(errno));
    return 0;
}

void hl_csv_close(struct hl_csv *c)
{
    if (c->f)
        fclose(c->f);
    free(c->buf);
    free(c->starts);
    memset(c, 0, sizeof *c);
}

static int csv_put(struct hl_csv *c, char ch)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        if (cap > ((size_t)1 << 24))
            return -1;
        char *b = realloc(c->buf, cap);
        if (!b)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    c->buf[c->len++] = ch;
    return 0;
}

static int csv_field_start(struct hl_csv *c)
{
    if (c->nfields == c->fcap) {
        size_t cap = c->fcap ? c->fcap * 2 : 16;
        size_t *s = realloc(c->starts, cap * sizeof *s);
        if (!s)
            return -1;
        c->starts = s;
        c->fcap = cap;
    }
    c->starts[c->nfields++] = c->len;
    return 0;
}

const char *hl_csv_field(const struct hl_csv *c, size_t i) { return c->buf + c->starts[i]; }

int hl_csv_next(struct hl_csv *c)
{
    enum { START, PLAIN, QUOTED, QUOTE_IN_QUOTED } st = START;
    int ch;
    c->len = 0;
    c->nfields = 0;
    c->line = c->next_line;
    if ((ch = getc_unlocked(c->f)) == EOF) {
        if (ferror(c->f))
            return hl_plot_bad_input(c->path, 0, "read error: %s", strerror(errno)), -1;
        return 0;
    }
    if (csv_field_start(c))
        goto nomem;
    for (;; ch = getc_unlocked(c->f)) {
        if (ch == EOF) {
            if (ferror(c->f))
                return hl_plot_bad_input(c->path, 0, "read error: %s", strerror(errno)), -1;
            if (st == QUOTED)
                return hl_plot_bad_input(c->path, c->line, "a quoted field is not closed"), -1;
            break;
        }
        if (ch == '\0' || (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t'))
            return hl_plot_bad_input(c->path, c->next_line, "binary data (byte 0x%02x): not a CSV file", ch), -1;
        if (ch == '\n')
            c->next_line++;
        if (st == QUOTED) {
            if (ch == '"')
                st = QUOTE_IN_QUOTED;
            else if (csv_put(c, (char)ch))
                goto nomem;
            continue;
        }
        if (st == QUOTE_IN_QUOTED && ch == '"') { /* "" inside quotes */
            if (csv_put(c, '"'))
                goto nomem;
            st = QUOTED;
            continue;
        }
        if (ch == '\r') {
            int next = getc_unlocked(c->f);
            if (next == '\n') {
                c->next_line++;
                break;
            }
            return hl_plot_bad_input(c->path, c->next_line, "a carriage return not followed by a newline"), -1;
        }
        if (ch == '\n')
            break;
        if (ch == ',') {
            if (csv_put(c, '\0') || csv_field_start(c))
                goto nomem;
            st = START;
            continue;
        }
        if (st == QUOTE_IN_QUOTED)
            return hl_plot_bad_input(c->path, c->next_line,
                                     "text after a closing quote (expected ',' or the line's end)"),
                   -1;
        if (ch == '"') {
            if (st != START)
                return hl_plot_bad_input(c->path, c->next_line, "a quote inside an unquoted field"), -1;
            st = QUOTED;
            continue;
        }
        st = PLAIN;
        if (csv_put(c, (char)ch))
            goto nomem;
    }
    if (csv_put(c, '\0'))
        goto nomem;
    return 1;
nomem:
    return hl_plot_bad_input(c->path, c->line, "a record too long to read (16 MiB or more)"), -1;
}

int hl_csv_blank(const struct hl_csv *c) { return c->nfields == 1 && !hl_csv_field(c, 0)[0]; }
