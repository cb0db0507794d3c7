/*
 * csv.c - reading CSV (RFC 4180); see csv.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"

int hl_csv_open_file(struct hl_csv *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->next_line = 1;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    c->f = fopen(path, "r");
    return c->f ? 0 : -1;
}

void hl_csv_close(struct hl_csv *c)
{
    if (c->f)
        fclose(c->f);
    free(c->buf);
    free(c->starts);
    memset(c, 0, sizeof *c);
}

static int put(struct hl_csv *c, char ch)
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

static int field_start(struct hl_csv *c)
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

__attribute__((format(printf, 5, 6))) static int fail(struct hl_csv *c, unsigned long line, char *err,
                                                      size_t errlen, const char *fmt, ...)
{
    va_list ap;
    c->err_line = line;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *hl_csv_field(const struct hl_csv *c, size_t i) { return c->buf + c->starts[i]; }

int hl_csv_read(struct hl_csv *c, char *err, size_t errlen)
{
    enum { START, PLAIN, QUOTED, QUOTE_IN_QUOTED } st = START;
    int ch;
    c->len = 0;
    c->nfields = 0;
    c->line = c->next_line;
    if ((ch = getc_unlocked(c->f)) == EOF)
        return ferror(c->f) ? fail(c, 0, err, errlen, "read error: %s", strerror(errno)) : 0;
    if (field_start(c))
        goto nomem;
    for (;; ch = getc_unlocked(c->f)) {
        if (ch == EOF) {
            if (ferror(c->f))
                return fail(c, 0, err, errlen, "read error: %s", strerror(errno));
            if (st == QUOTED)
                return fail(c, c->line, err, errlen, "a quoted field is not closed");
            break;
        }
        if (ch == '\0' || (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t'))
            return fail(c, c->next_line, err, errlen, "binary data (byte 0x%02x): not a CSV file", ch);
        if (ch == '\n')
            c->next_line++;
        if (st == QUOTED) {
            if (ch == '"')
                st = QUOTE_IN_QUOTED;
            else if (put(c, (char)ch))
                goto nomem;
            continue;
        }
        if (st == QUOTE_IN_QUOTED && ch == '"') { /* "" inside quotes */
            if (put(c, '"'))
                goto nomem;
            st = QUOTED;
            continue;
        }
        if (ch == '\r') {
            if (getc_unlocked(c->f) == '\n') {
                c->next_line++;
                break;
            }
            return fail(c, c->next_line, err, errlen, "a carriage return not followed by a newline");
        }
        if (ch == '\n')
            break;
        if (ch == ',') {
            if (put(c, '\0') || field_start(c))
                goto nomem;
            st = START;
            continue;
        }
        if (st == QUOTE_IN_QUOTED)
            return fail(c, c->next_line, err, errlen, "text after a closing quote (expected ',' or the line's end)");
        if (ch == '"') {
            if (st != START)
                return fail(c, c->next_line, err, errlen, "a quote inside an unquoted field");
            st = QUOTED;
            continue;
        }
        st = PLAIN;
        if (put(c, (char)ch))
            goto nomem;
    }
    if (put(c, '\0'))
        goto nomem;
    return 1;
nomem:
    return fail(c, c->line, err, errlen, "a record too long to read (16 MiB or more)");
}

int hl_csv_blank(const struct hl_csv *c) { return c->nfields == 1 && !hl_csv_field(c, 0)[0]; }
