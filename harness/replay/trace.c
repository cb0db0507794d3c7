/*
 * trace.c - reading and writing allocation traces.
 *
 * The format is the CS:APP malloc lab's .rep (Bryant & O'Hallaron): four
 * header numbers, then one request per line:
 *
 *   a id size    malloc          f id      free (f -1: free(NULL))
 *   r id size    realloc         c id nmemb size, m id align size: heaplab's
 *
 * The header comes in two dialects with num_ids and num_ops in the same
 * places: classic CS:APP "sugg_heapsize num_ids num_ops weight" and CMU
 * 15-213 "weight num_ids num_ops ignore_ranges".  The CMU driver accepts
 * weight 0..3 and ignore_ranges 0/1, so the rule is: weight <= 3 and
 * ignore_ranges <= 1 means CMU, anything else classic.  Every classic trace
 * suggests a heap of at least 100 bytes, so the rule only misreads a
 * classic header whose sugg_heapsize is 0..3 and whose weight is 0/1 (a
 * heap that holds nothing); that changes the two metadata fields, never an
 * operation.  opts->dialect forces either.  traces/README.md has the rest.
 *
 * Parsing: input is read through a window a line at a time (see "input"
 * below), so the scanner works on (pointer, end) pairs and never looks
 * past the end: no strtol, no NUL terminator.  Lines are found with memchr, fields by a small
 * tokenizer (blanks are space, tab and CR; '#' starts a comment), numbers
 * by a hand-rolled digit loop with an overflow check.  Each request is
 * checked against the id's state (never allocated, live, freed) in a byte
 * table sized by the validated num_ids, so a replay never meets bad input.
 * A lenient read (hl_trace_load_lenient, for heaplab check-trace) reports each
 * illegal request and leaves it out instead of stopping there.
 *
 * The upstream drivers' quirks are accepted the way their read_trace and
 * eval_mm_* accept them, and counted (HL_TRACE_QUIRKS in trace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "trace.h"
#include "util.h"

_Static_assert(sizeof(struct hl_op) == 16, "struct hl_op is 16 bytes");

/* ---- scanning ------------------------------------------------------------ */

enum id_state { ID_NEVER, ID_LIVE, ID_DEAD };

struct tok {
    const char *s, *e;
};

/* A request has at most 4 fields; a 5th is only kept to be named as junk. */
#define MAXTOK 5

struct input;

/* A lenient read's receiver of problems (hl_trace_load_lenient). */
struct lenient {
    void (*problem)(void *arg, enum hl_trace_problem kind, const char *msg);
    void *arg;
};

struct parser {
    const char *name;
    const char *p, *end; /* the unread rest of the input (the window's, when streaming) */
    uint64_t line;       /* number of the line last read */
    char *err;
    size_t errlen;
    struct input *in;    /* NULL: the whole input is in [p, end) */
    const struct lenient *lenient; /* NULL: strict */
};

static int fill_line(struct parser *ps);

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* The next physical line, without its '\n'; 0 at the end of the input. */
static int next_line(struct parser *ps, const char **ls, const char **le)
{
    if (fill_line(ps))
        return -1;
    if (ps->p >= ps->end)
        return 0;
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    *ls = ps->p;
    *le = nl ? nl : ps->end;
    ps->p = nl ? nl + 1 : ps->end;
    ps->line++;
    return 1;
}

/* Byte classes for the tokenizer: what ends a token. */
enum { C_TOKEN, C_BLANK, C_NEWLINE, C_HASH };
static const unsigned char cls[256] = {[' '] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK, ['\n'] = C_NEWLINE,
                                       ['#'] = C_HASH};

/* Split the next physical line into up to MAXTOK tokens, stopping at a '#'
 * comment, and step past it.  The count; -1 when a comment holds a NUL byte
 * (binary data); -2 at the end of the input; -3 when the input could not be
 * read (the message is in ps->err).  One pass over the bytes. */
static int split_line(struct parser *ps, struct tok *tv)
{
    if (fill_line(ps))
        return -3;
    const char *s = ps->p, *e = ps->end;
    if (s >= e)
        return -2;
    ps->line++;
    int n = 0;
    for (;;) {
        while (s < e && cls[(unsigned char)*s] == C_BLANK)
            s++;
        if (s == e)
            break;
        if (*s == '\n') {
            s++;
            break;
        }
        if (*s == '#' || n == MAXTOK) {
            const char *nl = memchr(s, '\n', (size_t)(e - s));
            const char *le = nl ? nl : e;
            ps->p = nl ? nl + 1 : e;
            return *s == '#' && memchr(s, '\0', (size_t)(le - s)) ? -1 : n;
        }
        tv[n].s = s;
        while (s < e && cls[(unsigned char)*s] == C_TOKEN)
            s++;
        tv[n++].e = s;
    }
    ps->p = s;
    return n;
}

enum { NUM_OK, NUM_BAD, NUM_BIG };

/* printf arguments for "%.*s": a number token (digits and '-' only), cut at
 * 24 bytes; tokens are not NUL-terminated. */
#define TOKF(t) (int)((t).e - (t).s > 24 ? 24 : (t).e - (t).s), (t).s

/* A decimal number with an optional '-': the whole token, nothing else. */
static int tok_num(struct tok t, uint64_t *v, int *neg)
{
    const char *s = t.s;
    *neg = s < t.e && *s == '-';
    s += *neg;
    if (s == t.e)
        return NUM_BAD;
    uint64_t x = 0;
    int big = 0;
    for (; s < t.e; s++) {
        unsigned d = (unsigned)(unsigned char)*s - '0';
        if (d > 9)
            return NUM_BAD;
        if (x > (UINT64_MAX - d) / 10)
            big = 1;
        x = x * 10 + d;
    }
    *v = x;
    return big ? NUM_BIG : NUM_OK;
}

/* ---- errors -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, uint64_t line, const char *fmt, ...)
{
    int n = snprintf(ps->err, ps->errlen, "%s:%" PRIu64 ": ", ps->name, line ? line : 1);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The token, quoted for a message: at most 24 bytes, odd bytes escaped. */
static const char *quote(struct tok t, char buf[128])
{
    static const char hex[] = "0123456789abcdef";
    char *o = buf;
    *o++ = '\'';
    for (const char *s = t.s; s < t.e; s++) {
        unsigned char c = (unsigned char)*s;
        if (s - t.s == 24) {
            memcpy(o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return buf;
}

/* A token that is not what was expected: binary bytes are named as such. */
static int bad_tok(struct parser *ps, struct tok t, const char *what)
{
    char q[128];
    for (const char *s = t.s; s < t.e; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == 0)
            return fail(ps, ps->line, "NUL byte: binary data, not a trace");
        if (c < 0x20 || c == 0x7f)
            return fail(ps, ps->line, "unexpected byte 0x%02x: binary data, not a trace", c);
    }
    return fail(ps, ps->line, "%s %s", what, quote(t, q));
}

/* A request illegal in its id's life: an error (-1), or, lenient, passed
 * to the caller's problem() and skipped (1). */
__attribute__((format(printf, 3, 4))) static int problem(struct parser *ps, enum hl_trace_problem kind,
                                                         const char *fmt, ...)
{
    char buf[256];
    char *err = ps->lenient ? buf : ps->err;
    size_t errlen = ps->lenient ? sizeof buf : ps->errlen;
    int n = snprintf(err, errlen, "%s:%" PRIu64 ": ", ps->name, ps->line ? ps->line : 1);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (!ps->lenient)
        return -1;
    ps->lenient->problem(ps->lenient->arg, kind, buf);
    return 1;
}

const char *hl_trace_problem_doc(enum hl_trace_problem kind)
{
    static const char *const doc[] = {
#define HL_PROBLEM_DOC(name, d) d,
        HL_TRACE_PROBLEMS(HL_PROBLEM_DOC)
#undef HL_PROBLEM_DOC
    };
    return (unsigned)kind < HL_PROBLEM_COUNT ? doc[kind] : "?";
}

/* ---- header -------------------------------------------------------------- */

static const char *const field_names[3][4] = {
    [HL_DIALECT_AUTO] = {"sugg_heapsize/weight", "num_ids", "num_ops", "weight/ignore_ranges"},
    [HL_DIALECT_CLASSIC] = {"sugg_heapsize", "num_ids", "num_ops", "weight"},
    [HL_DIALECT_CMU] = {"weight", "num_ids", "num_ops", "ignore_ranges"},
};

/* The four header numbers, one or several to a line, with blank and comment
 * lines anywhere.  hline[i] is the line of h[i]. */
static int read_header(struct parser *ps, enum hl_dialect d, uint64_t h[4], uint64_t hline[4])
{
    const char *const *names = field_names[d];
    int nh = 0, nonblank = 0;
    while (nh < 4) {
        struct tok tv[MAXTOK];
        int n = split_line(ps, tv);
        if (n == -3)
            return -1;
        if (n == -2) {
            if (!nonblank)
                return fail(ps, ps->line, "no header: only blank and comment lines");
            return fail(ps, ps->line, "missing header fields: found %d of 4 numbers (%s, %s, %s, %s)", nh,
                        names[0], names[1], names[2], names[3]);
        }
        if (n == -1)
            return fail(ps, ps->line, "NUL byte: binary data, not a trace");
        if (n > 0)
            nonblank = 1;
        for (int i = 0; i < n; i++) {
            if (nh == 4)
                return bad_tok(ps, tv[i], "trailing junk after the 4 header numbers:");
            int neg;
            int r = tok_num(tv[i], &h[nh], &neg);
            char what[64];
            snprintf(what, sizeof what, "header: expected %s (a number), found", names[nh]);
            if (r == NUM_BAD)
                return bad_tok(ps, tv[i], what);
            if (neg) /* "-0" too: a sign is no part of a count */
                return fail(ps, ps->line, "negative %s", names[nh]);
            if (r == NUM_BIG)
                return fail(ps, ps->line, "%s: number too large", names[nh]);
            hline[nh++] = ps->line;
        }
    }
    return 0;
}

/* ---- requests ------------------------------------------------------------ */

struct body {
    struct hl_trace *t;
    unsigned char *state; /* enum id_state, one per id */
    uint64_t prev_size;   /* the last size given, for 'a id' without one */
    int have_prev;
};

/* Field i of a request: an id. */
static int get_id(struct parser *ps, const struct body *b, const struct tok *tv, int n, int i, int allow_null,
                  uint32_t *id)
{
    if (i >= n)
        return fail(ps, ps->line, "'%c' request: missing id", *tv[0].s);
    uint64_t v;
    int neg;
    int r = tok_num(tv[i], &v, &neg);
    if (r == NUM_BAD)
        return bad_tok(ps, tv[i], "bad id: expected a number, found");
    if (neg && r == NUM_OK && v == 1 && allow_null) {
        *id = HL_ID_NULL;
        return 0;
    }
    if (neg) /* "a -0" is not id 0 */
        return fail(ps, ps->line, "negative id %s%.*s", allow_null ? "(only f -1 is allowed): " : "", TOKF(tv[i]));
    if (r == NUM_BIG || v >= b->t->num_ids)
        return fail(ps, ps->line, "id %.*s out of range: num_ids is %" PRIu32, TOKF(tv[i]), b->t->num_ids);
    *id = (uint32_t)v;
    return 0;
}

/* Field i of a request: a size-like number (size, nmemb, alignment), at most
 * `max`. */
static int get_num(struct parser *ps, const struct tok *tv, int n, int i, const char *what, uint64_t max, uint64_t *v)
{
    if (i >= n)
        return fail(ps, ps->line, "'%c' request: missing %s", *tv[0].s, what);
    int neg;
    int r = tok_num(tv[i], v, &neg);
    if (r == NUM_BAD) {
        char msg[64];
        snprintf(msg, sizeof msg, "bad %s: expected a number, found", what);
        return bad_tok(ps, tv[i], msg);
    }
    if (neg)
        return fail(ps, ps->line, "negative %s", what);
    if (r == NUM_BIG)
        return fail(ps, ps->line, "%s %.*s: number too large", what, TOKF(tv[i]));
    if (*v > max)
        return fail(ps, ps->line, "%s %" PRIu64 " exceeds PTRDIFF_MAX", what, *v);
    return 0;
}

static int no_junk(struct parser *ps, const struct tok *tv, int n, int want)
{
    return n > want ? bad_tok(ps, tv[want], "trailing junk:") : 0;
}

static int request(struct parser *ps, struct body *b, const struct tok *tv, int n, struct hl_op *op)
{
    struct hl_trace *t = b->t;
    const uint64_t max = (uint64_t)PTRDIFF_MAX;
    if (tv[0].e - tv[0].s != 1)
        return bad_tok(ps, tv[0], "unknown request:");
    char c = *tv[0].s;
    uint64_t size = 0, a2 = 0;
    uint32_t id = 0;
    memset(op, 0, sizeof *op);
    op->type = (uint8_t)c;
    switch (c) {
    case HL_OP_ALLOC:
        if (get_id(ps, b, tv, n, 1, 0, &id))
            return -1;
        if (n == 2) {
            /* upstream: fscanf("%u %u") fails on the next line's letter and
             * leaves the previous request's size in its variable */
            if (!b->have_prev)
                return fail(ps, ps->line, "'a' request: missing size (and no previous request to take it from)");
            size = b->prev_size;
            t->quirks.alloc_without_size++;
        } else if (get_num(ps, tv, n, 2, "size", max, &size) || no_junk(ps, tv, n, 3)) {
            return -1;
        }
        break;
    case HL_OP_FREE:
        if (get_id(ps, b, tv, n, 1, 1, &id) || no_junk(ps, tv, n, 2))
            return -1;
        break;
    case HL_OP_REALLOC:
        if (get_id(ps, b, tv, n, 1, 0, &id) || get_num(ps, tv, n, 2, "size", max, &size) || no_junk(ps, tv, n, 3))
            return -1;
        break;
    case HL_OP_CALLOC:
        if (get_id(ps, b, tv, n, 1, 0, &id) || get_num(ps, tv, n, 2, "nmemb", UINT64_MAX, &a2) ||
            get_num(ps, tv, n, 3, "size", UINT64_MAX, &size) || no_junk(ps, tv, n, 4))
            return -1;
        if (a2 != 0 && size > max / a2)
            return fail(ps, ps->line, "calloc(%" PRIu64 ", %" PRIu64 ") overflows: more than PTRDIFF_MAX bytes", a2,
                        size);
        size *= a2;
        break;
    case HL_OP_MEMALIGN:
        if (get_id(ps, b, tv, n, 1, 0, &id) || get_num(ps, tv, n, 2, "alignment", UINT64_MAX, &a2) ||
            get_num(ps, tv, n, 3, "size", max, &size) || no_junk(ps, tv, n, 4))
            return -1;
        if (a2 < 8 || (a2 & (a2 - 1)) != 0 || a2 > max)
            return fail(ps, ps->line, "memalign alignment %" PRIu64 " is not a power of two from 8 to 2^62", a2);
        while ((UINT64_C(1) << op->align_log2) != a2)
            op->align_log2++;
        break;
    default:
        return bad_tok(ps, tv[0], "unknown request (not a, f, r, c or m):");
    }
    op->id = id;
    op->size = size;
    if (c != HL_OP_FREE) {
        b->prev_size = size;
        b->have_prev = 1;
    }

    /* the id's life */
    if (id == HL_ID_NULL) {
        t->quirks.free_null++;
        return 0;
    }
    unsigned char *st = &b->state[id];
    switch (c) {
    case HL_OP_FREE:
        if (*st == ID_NEVER)
            return problem(ps, HL_PROBLEM_free_unknown, "free of id %" PRIu32 ", which was never allocated", id);
        if (*st == ID_DEAD)
            return problem(ps, HL_PROBLEM_double_free, "free of id %" PRIu32 ", which is already freed", id);
        *st = ID_DEAD;
        break;
    case HL_OP_REALLOC:
        if (*st == ID_DEAD)
            return problem(ps, HL_PROBLEM_realloc_freed, "realloc of id %" PRIu32 ", which is already freed", id);
        if (*st == ID_NEVER) {
            /* upstream: blocks[] starts zeroed, so this is realloc(NULL, n) */
            if (size == 0)
                return problem(ps, HL_PROBLEM_realloc_zero_unknown,
                               "realloc of never-allocated id %" PRIu32 " to size 0 (neither a malloc nor a free)",
                               id);
            t->quirks.realloc_unallocated++;
            *st = ID_LIVE;
        } else if (size == 0) {
            t->quirks.realloc_zero++;
            *st = ID_DEAD;
        }
        break;
    default:
        if (*st == ID_LIVE)
            return problem(ps, HL_PROBLEM_alloc_live, "allocation of id %" PRIu32 ", which is still live", id);
        *st = ID_LIVE;
        break;
    }
    return 0;
}

/* ---- input --------------------------------------------------------------- */

/* A file is read, never mapped (a file cut short under a mapping would kill
 * the reader with SIGBUS), through a window that holds the unread rest of
 * the current line and what follows: the parser asks for one whole line at
 * a time (fill_line), so a stream is parsed as its bytes arrive and an
 * endless one of garbage stops at its first bad line.  A line may be at
 * most HL_TRACE_MAX_LINE bytes, a stream's text at most
 * HL_TRACE_STREAM_MAX.  Gzip data (told by its magic bytes, whatever the
 * name) is inflated on the way, member after member, and anything after
 * the last member is an error, as gzip -t says. */

#define WINDOW (2 * HL_TRACE_MAX_LINE)
#define RAWBUF 65536

struct input {
    const char *name;   /* for messages */
    int fd;
    int sized;          /* a regular file: exactly `size` raw bytes are expected */
    uint64_t size;
    uint64_t raw;       /* raw bytes read so far */
    uint64_t total;     /* text bytes delivered to the window so far */
    uint64_t limit;     /* text bytes a stream may hold (not a plain regular file) */
    int eof;            /* no more text */
    char *buf;          /* the window: WINDOW bytes */
    const char *last_nl; /* the window's last '\n', or NULL: a line from before it is whole */
    /* gzip */
    int gz, gz_live;    /* inflating; inflateInit2 done */
    z_stream zs;
    unsigned char *rbuf; /* RAWBUF compressed bytes */
    int raw_eof;
};

__attribute__((format(printf, 4, 5))) static int io_fail(char *err, size_t errlen, const char *name, const char *fmt,
                                                         ...)
{
    int n = snprintf(err, errlen, "%s: ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Up to len raw bytes from the file: 0 at its end, -1 after a message.  A
 * regular file is read up to the size it had when it was opened (what is
 * appended later is not the trace that was asked for), and one that ends
 * before that has been cut short under us. */
static ssize_t raw_read(struct parser *ps, void *dst, size_t len)
{
    struct input *in = ps->in;
    if (in->sized) {
        if (in->raw >= in->size)
            return 0;
        if (len > in->size - in->raw)
            len = (size_t)(in->size - in->raw);
    }
    ssize_t n;
    while ((n = read(in->fd, dst, len)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return io_fail(ps->err, ps->errlen, in->name, "read error: %s", strerror(errno));
    if (n == 0 && in->sized)
        return io_fail(ps->err, ps->errlen, in->name, "changed while being read");
    in->raw += (uint64_t)n;
    return n;
}

static int gz_fail(struct parser *ps, const char *what)
{
    return io_fail(ps->err, ps->errlen, ps->in->name, "gzip: %s", what);
}

/* Compressed bytes at zs.next_in, at least `want` of them unless the file
 * ends first.  0, or -1 after a message. */
static int gz_need(struct parser *ps, unsigned want)
{
    struct input *in = ps->in;
    while (in->zs.avail_in < want && !in->raw_eof) {
        memmove(in->rbuf, in->zs.next_in, in->zs.avail_in);
        in->zs.next_in = in->rbuf;
        ssize_t n = raw_read(ps, in->rbuf + in->zs.avail_in, RAWBUF - in->zs.avail_in);
        if (n < 0)
            return -1;
        if (n == 0)
            in->raw_eof = 1;
        in->zs.avail_in += (unsigned)n;
    }
    return 0;
}

/* Up to len bytes of text, inflated: 0 at the end, -1 after a message. */
static ssize_t gz_read(struct parser *ps, char *dst, size_t len)
{
    struct input *in = ps->in;
    z_stream *zs = &in->zs;
    zs->next_out = (unsigned char *)dst;
    zs->avail_out = (unsigned)(len < (1u << 30) ? len : 1u << 30);
    while (zs->next_out == (unsigned char *)dst) {
        if (gz_need(ps, 1))
            return -1;
        if (!in->gz_live) { /* at a member's start: another one, or the end */
            if (zs->avail_in == 0)
                return 0;
            if (gz_need(ps, 2))
                return -1;
            if (zs->avail_in < 2 || zs->next_in[0] != 0x1f || zs->next_in[1] != 0x8b)
                return gz_fail(ps, "trailing garbage after the compressed data");
            if (inflateReset2(zs, 16 + MAX_WBITS) != Z_OK)
                return gz_fail(ps, "cannot start decompressing");
            in->gz_live = 1;
        }
        if (zs->avail_in == 0)
            return gz_fail(ps, "truncated compressed data");
        int r = inflate(zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            in->gz_live = 0;
        else if (r == Z_MEM_ERROR)
            return gz_fail(ps, strerror(ENOMEM));
        else if (r != Z_OK && r != Z_BUF_ERROR)
            return gz_fail(ps, zs->msg ? zs->msg : "corrupt compressed data");
    }
    return (char *)zs->next_out - dst;
}

/* Read more text into the window, after moving the unread rest to its
 * start.  0 (in->eof set at the end), or -1 after a message. */
static int refill(struct parser *ps)
{
    struct input *in = ps->in;
    size_t keep = (size_t)(ps->end - ps->p);
    memmove(in->buf, ps->p, keep);
    ps->p = in->buf;
    ps->end = in->buf + keep;
    in->last_nl = NULL;
    ssize_t n = in->gz ? gz_read(ps, in->buf + keep, WINDOW - keep) : raw_read(ps, in->buf + keep, WINDOW - keep);
    if (n < 0)
        return -1;
    if (n == 0) {
        in->eof = 1;
        return 0;
    }
    in->total += (uint64_t)n;
    ps->end += n;
    in->last_nl = memrchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    if (in->total > in->limit)
        return fail(ps, ps->line + 1,
                    "more than %" PRIu64 " MiB: a stream (pipe, device, gzip data) may hold at most that much "
                    "trace text; give a larger trace as an uncompressed file",
                    in->limit >> 20);
    return 0;
}

/* The next line is whole in the window, or the input is over.  0, or -1
 * after a message. */
static int fill_line(struct parser *ps)
{
    struct input *in = ps->in;
    if (!in)
        return 0;
    while (!in->eof && !(in->last_nl && ps->p <= in->last_nl)) {
        size_t scanned = (size_t)(ps->end - ps->p); /* a part of a line: no '\n' in it */
        if (scanned >= HL_TRACE_MAX_LINE) {
            if (memchr(ps->p, '\0', scanned))
                return fail(ps, ps->line + 1, "NUL byte: binary data, not a trace");
            return fail(ps, ps->line + 1, "line longer than %d bytes: not a trace", HL_TRACE_MAX_LINE);
        }
        if (refill(ps))
            return -1;
    }
    return 0;
}

/* ---- parse --------------------------------------------------------------- */

/* Bytes of input before ps->p. */
static uint64_t consumed(const struct parser *ps, const char *start)
{
    return ps->in ? ps->in->total - (uint64_t)(ps->end - ps->p) : (uint64_t)(ps->p - start);
}

/* The message for a header whose num_ids the input cannot use. */
static int too_many_ids(struct parser *ps, uint64_t line, uint64_t num_ids, uint64_t maxreq)
{
    return fail(ps, line,
                "num_ids %" PRIu64 " is more than this file can use: at most %" PRIu64
                " request lines follow the header",
                num_ids, maxreq);
}

/* Parse from buf/len, or from `in` when it is not NULL. */
static int parse(const char *name, const char *path, const char *buf, size_t len, struct input *in,
                 const struct lenient *lz, const struct hl_trace_opts *opts, struct hl_trace *out, char *err,
                 size_t errlen)
{
    struct parser ps = {name, buf, buf ? buf + len : buf, 0, err, errlen, in, lz}; /* NULL + 0 is undefined */
    if (in) { /* the window holds what has been read so far */
        ps.p = in->buf;
        ps.end = in->buf + in->total;
    }
    struct hl_trace t;
    memset(&t, 0, sizeof t);
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    enum hl_dialect d = opts ? opts->dialect : HL_DIALECT_AUTO;
    if (d != HL_DIALECT_AUTO && d != HL_DIALECT_CLASSIC && d != HL_DIALECT_CMU)
        return fail(&ps, 1, "invalid dialect %d", (int)d);
    if (fill_line(&ps))
        return -1;
    if (ps.p == ps.end)
        return fail(&ps, 1, "empty file");

    uint64_t h[4], hline[4];
    if (read_header(&ps, d, h, hline))
        return -1;
    if (d == HL_DIALECT_AUTO)
        d = h[0] <= 3 && h[3] <= 1 ? HL_DIALECT_CMU : HL_DIALECT_CLASSIC;
    t.dialect = d;
    if (d == HL_DIALECT_CMU) {
        if (h[0] > 3)
            return fail(&ps, hline[0], "CMU header: weight is %" PRIu64 ", must be 0 to 3", h[0]);
        if (h[3] > 1)
            return fail(&ps, hline[3], "CMU header: ignore_ranges is %" PRIu64 ", must be 0 or 1", h[3]);
        t.weight = h[0];
        t.ignore_ranges = h[3];
    } else {
        t.sugg_heapsize = h[0];
        t.weight = h[3];
    }
    if (h[1] > HL_TRACE_MAX_IDS)
        return fail(&ps, hline[1], "num_ids %" PRIu64 " exceeds the limit %" PRIu32, h[1], HL_TRACE_MAX_IDS);
    /* A request line is at least "f 0" and a newline, the last one maybe
     * without: this bounds both tables by the size of the input.  A stream
     * of unknown length is bounded by what it may hold, and checked again
     * at its end (so a bad request line before that end is reported first,
     * where a file would have its num_ids refused). */
    uint64_t header_end = consumed(&ps, buf);
    int known = !in || (in->sized && !in->gz);
    uint64_t rest = !in ? (uint64_t)(ps.end - ps.p) : known ? in->size - header_end : in->limit - header_end;
    uint64_t maxreq = (rest + 1) / 4;
    if (h[1] > maxreq + HL_TRACE_SPARE_IDS)
        return known ? too_many_ids(&ps, hline[1], h[1], maxreq)
                     : fail(&ps, hline[1],
                            "num_ids %" PRIu64 " is more than a stream can use: it may hold at most %" PRIu64
                            " request lines",
                            h[1], maxreq);
    t.num_ids = (uint32_t)h[1];
    t.num_ops = h[2];

    /* the ops array: allocated once for an input of known length, grown
     * as the requests arrive otherwise */
    size_t capmax = (size_t)(t.num_ops < maxreq ? t.num_ops : maxreq);
    size_t cap = known || capmax < 65536 ? capmax : 65536;
    struct body b = {&t, calloc(t.num_ids ? t.num_ids : 1, 1), 0, 0};
    t.ops = malloc((cap ? cap : 1) * sizeof *t.ops);
    if (!b.state || !t.ops) {
        free(b.state);
        free(t.ops);
        return fail(&ps, hline[2], "out of memory for %" PRIu64 " requests and %" PRIu32 " ids", t.num_ops,
                    t.num_ids);
    }

    const char *ls, *le;
    struct tok tv[MAXTOK];
    uint64_t nreq = 0; /* request lines read: t.nops, and those a lenient read skipped */
    while (nreq < t.num_ops) {
        int n = split_line(&ps, tv);
        if (n == -3)
            goto bad;
        if (n == -2) {
            if (!known && t.num_ids > (in->total - header_end + 1) / 4 + HL_TRACE_SPARE_IDS)
                too_many_ids(&ps, hline[1], t.num_ids, (in->total - header_end + 1) / 4); /* as for a file */
            else
                fail(&ps, ps.line, "fewer request lines than num_ops: found %" PRIu64 ", the header says %" PRIu64,
                     nreq, t.num_ops);
            goto bad;
        }
        if (n == -1) {
            fail(&ps, ps.line, "NUL byte: binary data, not a trace");
            goto bad;
        }
        if (n == 0)
            continue;
        struct hl_op op;
        int r = request(&ps, &b, tv, n, &op);
        if (r < 0)
            goto bad;
        nreq++;
        if (r > 0)
            continue;
        if (t.nops == cap) {
            size_t more = cap > capmax / 2 ? capmax : 2 * cap;
            struct hl_op *ops = more > cap ? realloc(t.ops, more * sizeof *ops) : NULL;
            if (!ops) { /* more == cap cannot happen: a good request is 3 bytes or more */
                fail(&ps, ps.line, more > cap ? "out of memory for the requests"
                                              : "internal error: more requests than the input can hold");
                goto bad;
            }
            t.ops = ops;
            cap = more;
        }
        t.ops[t.nops++] = op;
    }
    /* upstream stops reading at num_ops; count what it leaves unread */
    int more;
    while ((more = next_line(&ps, &ls, &le)) > 0) {
        while (ls < le && is_blank(*ls))
            ls++;
        if (ls < le && *ls != '#')
            t.quirks.extra_lines++;
    }
    if (more < 0)
        goto bad;
    if (!known && t.num_ids > (in->total - header_end + 1) / 4 + HL_TRACE_SPARE_IDS) {
        too_many_ids(&ps, hline[1], t.num_ids, (in->total - header_end + 1) / 4);
        goto bad;
    }
    free(b.state);
    t.path = strdup(path);
    if (!t.path) {
        free(t.ops);
        return fail(&ps, 1, "out of memory");
    }
    *out = t;
    return 0;

bad:
    free(b.state);
    free(t.ops);
    return -1;
}

int hl_trace_parse(const char *name, const char *buf, size_t len, const struct hl_trace_opts *opts,
                   struct hl_trace *out, char *err, size_t errlen)
{
    return parse(name, name, buf, len, NULL, NULL, opts, out, err, errlen);
}

int hl_trace_parse_lenient(const char *name, const char *buf, size_t len, const struct hl_trace_opts *opts,
                           void (*problem)(void *arg, enum hl_trace_problem kind, const char *msg), void *arg,
                           struct hl_trace *out, char *err, size_t errlen)
{
    struct lenient lz = {problem, arg};
    return parse(name, name, buf, len, NULL, &lz, opts, out, err, errlen);
}

/* ---- load ---------------------------------------------------------------- */

/* Parse what fd holds (closed here); `name` in messages. */
static int load_fd(int fd, const char *name, const char *path, const struct stat *st, const struct lenient *lz,
                   const struct hl_trace_opts *opts, struct hl_trace *out, char *err, size_t errlen)
{
    struct input in;
    memset(&in, 0, sizeof in);
    in.name = name;
    in.fd = fd;
    /* a regular file that claims to be empty may be a /proc-like one whose
     * size is not known: read as a stream */
    in.sized = S_ISREG(st->st_mode) && st->st_size > 0;
    in.size = in.sized ? (uint64_t)st->st_size : 0;
    off_t at = in.sized ? lseek(fd, 0, SEEK_CUR) : 0; /* standard input may be a file read in part */
    if (at > 0)
        in.size = (uint64_t)at < in.size ? in.size - (uint64_t)at : 0;
    in.sized = in.sized && in.size > 0;
    in.limit = HL_TRACE_STREAM_MAX;
    struct parser ps = {name, NULL, NULL, 0, err, errlen, &in, lz};
    int rc = -1;
    in.buf = malloc(WINDOW);
    if (!in.buf) {
        io_fail(err, errlen, name, "%s", strerror(ENOMEM));
        goto out;
    }
    /* gzip, by its magic bytes */
    unsigned char *magic = (unsigned char *)in.buf; /* the window's first bytes, unless gzip */
    size_t nmagic = 0;
    while (nmagic < 2) {
        ssize_t n = raw_read(&ps, magic + nmagic, 2 - nmagic);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        nmagic += (size_t)n;
    }
    if (nmagic == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        in.gz = 1;
        in.rbuf = malloc(RAWBUF);
        if (!in.rbuf || inflateInit2(&in.zs, 16 + MAX_WBITS) != Z_OK) {
            io_fail(err, errlen, name, "gzip: %s", strerror(ENOMEM));
            goto out;
        }
        in.gz_live = 1;
        memcpy(in.rbuf, magic, 2);
        in.zs.next_in = in.rbuf;
        in.zs.avail_in = 2;
    } else {
        in.total = nmagic;
        if (nmagic < 2)
            in.eof = 1;
    }
    rc = parse(name, path, NULL, 0, &in, lz, opts, out, err, errlen);
out:
    if (in.gz)
        inflateEnd(&in.zs);
    free(in.rbuf);
    free(in.buf);
    close(fd);
    return rc;
}
static int load(const char *path, const struct lenient *lz, const struct hl_trace_opts *opts, struct hl_trace *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    if (fd < 0)
        return io_fail(err, errlen, name, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return io_fail(err, errlen, name, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return io_fail(err, errlen, name, "is a directory");
    }
    return load_fd(fd, name, path, &st, lz, opts, out, err, errlen);
}

int hl_trace_load(const char *path, const struct hl_trace_opts *opts, struct hl_trace *out, char *err,
                  size_t errlen)
{
    return load(path, NULL, opts, out, err, errlen);
}

int hl_trace_load_lenient(const char *path, const struct hl_trace_opts *opts,
                          void (*problem)(void *arg, enum hl_trace_problem kind, const char *msg), void *arg,
                          struct hl_trace *out, char *err, size_t errlen)
{
    struct lenient lz = {problem, arg};
    return load(path, &lz, opts, out, err, errlen);
}

void hl_trace_free(struct hl_trace *t)
{
    free(t->path);
    free(t->ops);
    memset(t, 0, sizeof *t);
}

/* ---- report and write ---------------------------------------------------- */

void hl_trace_print_quirks(const struct hl_trace *t, FILE *out)
{
#define HL_QUIRK_PRINT(name, doc)                                                                                      \
    if (t->quirks.name)                                                                                                \
        fprintf(out, "heaplab: warning: %s: %" PRIu64 " %s\n", t->path ? t->path : "?", t->quirks.name, doc);
    HL_TRACE_QUIRKS(HL_QUIRK_PRINT)
#undef HL_QUIRK_PRINT
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 wide;
#else
typedef uint64_t wide; /* 32-bit: num_ids * PTRDIFF_MAX fits in 64 bits */
#endif

uint64_t hl_trace_peak_live(const struct hl_trace *t)
{
    uint64_t *size = calloc(t->num_ids ? t->num_ids : 1, sizeof *size);
    if (!size) {
        errno = ENOMEM;
        return UINT64_MAX;
    }
    wide live = 0, peak = 0;
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        if (op->id >= t->num_ids) /* f -1; or a hand-built trace's bad id */
            continue;
        live -= size[op->id]; /* realloc replaces; a fresh block's is 0 */
        size[op->id] = op->type == HL_OP_FREE ? 0 : op->size;
        live += size[op->id];
        if (live > peak)
            peak = live;
    }
    free(size);
    return peak > UINT64_MAX ? UINT64_MAX : (uint64_t)peak;
}

int hl_trace_write(const struct hl_trace *t, FILE *out)
{
    errno = 0;
    uint64_t peak = hl_trace_peak_live(t);
    if (peak == UINT64_MAX && errno == ENOMEM)
        return -1;
    if (fprintf(out, "%" PRIu64 "\n%" PRIu32 "\n%" PRIu64 "\n1\n", peak, t->num_ids, t->nops) < 0)
        return -1;
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        int r;
        switch (op->type) {
        case HL_OP_FREE:
            r = op->id == HL_ID_NULL ? fputs("f -1\n", out) : fprintf(out, "f %" PRIu32 "\n", op->id);
            break;
        case HL_OP_CALLOC:
            r = fprintf(out, "c %" PRIu32 " 1 %" PRIu64 "\n", op->id, op->size);
            break;
        case HL_OP_MEMALIGN:
            r = fprintf(out, "m %" PRIu32 " %" PRIu64 " %" PRIu64 "\n", op->id, UINT64_C(1) << (op->align_log2 & 63),
                        op->size);
            break;
        case HL_OP_ALLOC:
        case HL_OP_REALLOC:
            r = fprintf(out, "%c %" PRIu32 " %" PRIu64 "\n", op->type, op->id, op->size);
            break;
        default:
            errno = EINVAL;
            return -1;
        }
        if (r < 0)
            return -1;
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
