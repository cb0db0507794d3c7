/*
 * import.c - mtrace, ltrace and heaptrack logs to traces (import.h).
 *
 * One line source for the three (plain, gzip through zlib, zstd through a
 * `zstd -dc` child, streamed: a log of a long run need not fit in memory),
 * a small scanner over (pointer, end) pairs, and one parser per format that
 * calls the trace builder.  Every line that does not parse stops the
 * import with "file:line: what is wrong".
 *
 * The formats, as their writers print them:
 *   glibc malloc/mtrace-impl.c: "@ FILE:(SYM+OFF)[CALLER] " or "@ [CALLER] "
 *     before each record; "+ %p %#lx", "- %p", "< %p" and "> %p %#lx" for
 *     a realloc (one lock, so adjacent), "! %p %#lx" for a failed one, "=
 *     Start" / "= End"; free(NULL) is not logged, a free is logged before
 *     it happens and an allocation after, so threads stay in order.
 *   ltrace (output.c): "[pid N] " with -f, timestamps with -t/-tt/-ttt/-r,
 *     "CALLER->NAME(ARGS) = RET", or "CALLER->NAME(ARGS <unfinished ...>"
 *     and later, for the same pid, "<... NAME resumed> REST) = RET"; " <T>"
 *     after with -T; "--- SIG... ---" and "+++ exited/killed ... +++".
 *   heaptrack src/track/libheaptrack.cpp: one record a line, the letter
 *     first, hex fields: "+ SIZE TRACE PTR", "- PTR"; v x X I S t m c R A
 *     records hold versions, modules, backtraces, times, RSS (skipped).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "import.h"

extern char **environ;

/* ---- the line source ----------------------------------------------------- */

#define MAX_LINE (16u << 20)

struct src {
    const char *name;
    gzFile gz;
    pid_t child; /* the zstd decompressor, or 0 */
    char *buf;
    size_t cap, beg, end;
    int eof;
    uint64_t line;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int src_fail(struct src *s, const char *fmt, ...)
{
    int n = snprintf(s->err, s->errlen, "%s: ", s->name);
    if (n >= 0 && (size_t)n < s->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

__attribute__((format(printf, 2, 3))) static int line_fail(struct src *s, const char *fmt, ...)
{
    int n = snprintf(s->err, s->errlen, "%s:%" PRIu64 ": ", s->name, s->line ? s->line : 1);
    if (n >= 0 && (size_t)n < s->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* fd's data through `zstd -dc`: the read end of its output, or -1. */
static int zstd_pipe(struct src *s, int fd)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return src_fail(s, "cannot make a pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    /* its complaint about a damaged file is ours to word */
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"zstd", "-dcq", NULL};
    int r = posix_spawnp(&s->child, "zstd", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r != 0) {
        close(pfd[0]);
        s->child = 0;
        if (r == ENOENT)
            return src_fail(s, "zstd-compressed: decompressing it needs the zstd command (Debian: apt-get install zstd)");
        return src_fail(s, "cannot start zstd: %s", strerror(r));
    }
    return pfd[0];
}

static int src_open(struct src *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->err = err;
    s->errlen = errlen;
    int stdin_ = strcmp(path, "-") == 0;
    s->name = stdin_ ? "<stdin>" : path;
    int fd = stdin_ ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return src_fail(s, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return src_fail(s, "is a directory");
    }
    unsigned char magic[4];
    if (pread(fd, magic, 4, 0) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
        int pfd = zstd_pipe(s, fd);
        close(fd);
        if (pfd < 0)
            return -1;
        fd = pfd;
    }
    s->gz = gzdopen(fd, "rb"); /* gzip, or plain text read as it is */
    if (!s->gz) {
        close(fd);
        return src_fail(s, "cannot read through zlib");
    }
    gzbuffer(s->gz, 1u << 17);
    s->cap = 1u << 17;
    s->buf = malloc(s->cap);
    if (!s->buf)
        return src_fail(s, "out of memory");
    return 0;
}

/* The next line, without its newline (nor a CR before it): 1, 0 at the
 * end, -1 on a read error. */
static int src_next(struct src *s, const char **ls, const char **le)
{
    for (;;) {
        char *nl = memchr(s->buf + s->beg, '\n', s->end - s->beg);
        if (nl || (s->eof && s->end > s->beg)) {
            *ls = s->buf + s->beg;
            *le = nl ? nl : s->buf + s->end;
            s->beg = nl ? (size_t)(nl - s->buf) + 1 : s->end;
            if (*le > *ls && (*le)[-1] == '\r')
                (*le)--;
            s->line++;
            return 1;
        }
        if (s->eof)
            return 0;
        if (s->beg > 0) {
            memmove(s->buf, s->buf + s->beg, s->end - s->beg);
            s->end -= s->beg;
            s->beg = 0;
        }
        if (s->end == s->cap) {
            if (s->cap >= MAX_LINE) {
                s->line++;
                return line_fail(s, "a line longer than %u MiB: not a log", MAX_LINE >> 20);
            }
            char *nb = realloc(s->buf, s->cap * 2);
            if (!nb)
                return src_fail(s, "out of memory");
            s->buf = nb;
            s->cap *= 2;
        }
        size_t room = s->cap - s->end;
        int n = gzread(s->gz, s->buf + s->end, (unsigned)(room < (1u << 30) ? room : (1u << 30)));
        if (n < 0) {
            int zerr;
            const char *msg = gzerror(s->gz, &zerr);
            return src_fail(s, "read error: %s", zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (n == 0)
            s->eof = 1;
        s->end += (size_t)n;
    }
}

/* Close; with check, an error for a gzip stream cut short or a zstd that
 * failed.  0 or -1. */
static int src_close(struct src *s, int check)
{
    int r = 0;
    if (s->gz) {
        int zr = gzclose(s->gz);
        if (check && zr != Z_OK)
            r = src_fail(s, "gzip: %s", zr == Z_BUF_ERROR ? "truncated compressed data" : "cannot close the stream");
    }
    if (s->child > 0) {
        int status;
        while (waitpid(s->child, &status, 0) < 0 && errno == EINTR)
            ;
        if (check && r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            r = src_fail(s, "zstd could not decompress it (%s %d)", WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    free(s->buf);
    s->gz = NULL;
    s->buf = NULL;
    s->child = 0;
    return r;
}

/* ---- scanning ------------------------------------------------------------ */

struct cur {
    const char *p, *e;
};

static int at_end(const struct cur *c) { return c->p >= c->e; }

static void blanks(struct cur *c)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* The literal text next (then stepped over): 1, or 0 and c unchanged. */
static int lit(struct cur *c, const char *text)
{
    size_t n = strlen(text);
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, text, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Hex digits (no prefix), at least one, at most 16: 1, or 0. */
static int hex(struct cur *c, uint64_t *v)
{
    const char *p = c->p;
    uint64_t x = 0;
    int d;
    while (p < c->e && (d = hexval(*p)) >= 0) {
        if (x >> 60)
            return 0;
        x = x * 16 + (uint64_t)d;
        p++;
    }
    if (p == c->p)
        return 0;
    *v = x;
    c->p = p;
    return 1;
}

/* A number as the tools print them: 0x-prefixed hex, or decimal (ltrace
 * may print a negative int; it wraps as C would); NULL as "(nil)", "nil"
 * or "NULL".  1, or 0. */
static int num(struct cur *c, uint64_t *v)
{
    if (lit(c, "(nil)") || lit(c, "nil") || lit(c, "NULL")) {
        *v = 0;
        return 1;
    }
    struct cur save = *c;
    if (lit(c, "0x") || lit(c, "0X")) {
        if (hex(c, v))
            return 1;
        *c = save;
        return 0;
    }
    int neg = lit(c, "-");
    const char *p = c->p;
    uint64_t x = 0;
    while (p < c->e && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) {
            *c = save;
            return 0;
        }
        x = x * 10 + d;
        p++;
    }
    if (p == c->p) {
        *c = save;
        return 0;
    }
    c->p = p;
    *v = neg ? (uint64_t)0 - x : x;
    return 1;
}

/* What is at c, quoted for a message: at most 32 bytes, odd bytes escaped. */
static const char *quote(const struct cur *c, char buf[160])
{
    static const char hx[] = "0123456789abcdef";
    char *o = buf;
    *o++ = '\'';
    for (const char *s = c->p; s < c->e; s++) {
        unsigned char ch = (unsigned char)*s;
        if (s - c->p == 32) {
            memcpy(o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch >= 0x7f || ch == '\'' || ch == '\\') {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hx[ch >> 4];
            *o++ = hx[ch & 15];
        } else {
            *o++ = (char)ch;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return buf;
}

/* "expected WHAT, found '...'" at c. */
static int expected(struct src *s, const struct cur *c, const char *what)
{
    char q[160];
    if (at_end(c))
        return line_fail(s, "expected %s, found the end of the line", what);
    return line_fail(s, "expected %s, found %s", what, quote(c, q));
}

static int tb_err(struct src *s) { return src_fail(s, "out of memory (%s)", strerror(errno)); }

/* ---- mtrace -------------------------------------------------------------- */

static int mtrace_line(struct src *s, struct cur c, struct hl_tracebuild *b, struct hl_import_stats *st,
                       uint64_t *pending, uint64_t *pending_line)
{
    if (at_end(&c) || *c.p == '=') /* "= Start", "= End" */
        return 0;
    if (lit(&c, "@ ")) {
        /* the caller: a file name may hold anything; the record after it
         * holds no ']', so the last "] " ends the caller */
        const char *last = NULL;
        for (const char *p = c.p; p + 1 < c.e; p++)
            if (p[0] == ']' && p[1] == ' ')
                last = p;
        if (!last)
            return line_fail(s, "a caller ('@ ...') without the ']' that ends it");
        c.p = last + 2;
    }
    if (at_end(&c))
        return line_fail(s, "a caller and no record after it");
    char op = *c.p;
    if (*pending && op != '>')
        return line_fail(s, "the realloc begun at line %" PRIu64 " ('<') is not ended by a '>' record", *pending_line);
    if (!strchr("+-<>!", op) || c.e - c.p < 2 || c.p[1] != ' ')
        return expected(s, &c, "a record: '+ PTR SIZE', '- PTR', '< PTR', '> PTR SIZE' or '! PTR SIZE'");
    c.p += 2;
    uint64_t ptr, size = 0;
    if (!num(&c, &ptr))
        return expected(s, &c, "a pointer");
    if (op == '+' || op == '>' || op == '!') {
        if (!lit(&c, " ") || !num(&c, &size))
            return expected(s, &c, "' SIZE'");
    }
    blanks(&c);
    if (!at_end(&c))
        return expected(s, &c, "the end of the line");
    if (op != '<')
        st->events++;
    int r = 0;
    switch (op) {
    case '+':
        r = hl_tb_malloc(b, size, ptr);
        break;
    case '-':
        r = hl_tb_free(b, ptr);
        break;
    case '<':
        if (ptr == 0)
            return line_fail(s, "'< (nil)': a realloc of NULL is logged as '+'");
        *pending = ptr;
        *pending_line = s->line;
        break;
    case '>':
        if (!*pending)
            return line_fail(s, "'>' without the '<' line before it");
        r = hl_tb_realloc(b, *pending, size, ptr);
        *pending = 0;
        break;
    case '!':
        r = hl_tb_realloc(b, ptr, size, 0);
        break;
    }
    return r ? tb_err(s) : 0;
}

static int import_mtrace(struct src *s, struct hl_tracebuild *b, struct hl_import_stats *st)
{
    const char *ls, *le;
    uint64_t pending = 0, pending_line = 0;
    int r;
    while ((r = src_next(s, &ls, &le)) > 0)
        if (mtrace_line(s, (struct cur){ls, le}, b, st, &pending, &pending_line))
            return -1;
    if (r < 0)
        return -1;
    if (pending) {
        s->line = pending_line;
        return line_fail(s, "the realloc begun here ('<') is not ended: the log stops before its '>' record");
    }
    return 0;
}

/* ---- heaptrack ----------------------------------------------------------- */

static int heaptrack_line(struct src *s, struct cur c, struct hl_tracebuild *b, struct hl_import_stats *st, int *seen_v)
{
    if (at_end(&c))
        return 0;
    char op = *c.p;
    if (op == 'v')
        *seen_v = 1;
    if (strchr("vxXISmtcRA#", op)) /* versions, the program, modules, backtraces, times, RSS */
        return 0;
    if (op != '+' && op != '-')
        return expected(s, &c, "a heaptrack record (a letter of + - v x X I S m t c R A)");
    if (!*seen_v)
        return line_fail(s, "a '%c' record before the 'v' (version) line: not a heaptrack raw file", op);
    if (c.e - c.p < 2 || c.p[1] != ' ')
        return expected(s, &c, op == '+' ? "'+ SIZE TRACE PTR'" : "'- PTR'");
    c.p += 2;
    uint64_t size = 0, trace, ptr;
    if (op == '+') {
        if (!hex(&c, &size))
            return expected(s, &c, "SIZE (hex)");
        if (!lit(&c, " ")) {
            if (at_end(&c))
                return line_fail(s, "'+' with one field: heaptrack_interpret's output, not the raw file "
                                    "(heaptrack --raw writes that)");
            return expected(s, &c, "' TRACE PTR'");
        }
        if (!hex(&c, &trace) || !lit(&c, " "))
            return expected(s, &c, "TRACE (hex) and a blank");
    }
    if (!hex(&c, &ptr))
        return expected(s, &c, "PTR (hex)");
    if (!at_end(&c))
        return expected(s, &c, "the end of the line");
    st->events++;
    int r = op == '+' ? hl_tb_malloc(b, size, ptr) : hl_tb_free(b, ptr);
    return r ? tb_err(s) : 0;
}

static int import_heaptrack(struct src *s, struct hl_tracebuild *b, struct hl_import_stats *st)
{
    const char *ls, *le;
    int r, seen_v = 0;
    while ((r = src_next(s, &ls, &le)) > 0)
        if (heaptrack_line(s, (struct cur){ls, le}, b, st, &seen_v))
            return -1;
    return r < 0 ? -1 : 0;
}

/* ---- ltrace -------------------------------------------------------------- */

enum fn { FN_OTHER, FN_MALLOC, FN_CALLOC, FN_REALLOC, FN_REALLOCARRAY, FN_FREE, FN_MEMALIGN, FN_ALIGNED_ALLOC,
          FN_VALLOC, FN_PVALLOC, FN_POSIX_MEMALIGN };

static const struct {
    const char *name;
    int nargs;
} fns[] = {
    [FN_OTHER] = {"", -1},          [FN_MALLOC] = {"malloc", 1},      [FN_CALLOC] = {"calloc", 2},
    [FN_REALLOC] = {"realloc", 2},  [FN_REALLOCARRAY] = {"reallocarray", 3}, [FN_FREE] = {"free", 1},
    [FN_MEMALIGN] = {"memalign", 2}, [FN_ALIGNED_ALLOC] = {"aligned_alloc", 2}, [FN_VALLOC] = {"valloc", 1},
    [FN_PVALLOC] = {"pvalloc", 1},  [FN_POSIX_MEMALIGN] = {"posix_memalign", 3},
};

static enum fn fn_of(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n); /* -x prints malloc@libc.so.6 */
    if (at)
        n = (size_t)(at - s);
    for (size_t i = 1; i < sizeof fns / sizeof fns[0]; i++)
        if (strlen(fns[i].name) == n && memcmp(fns[i].name, s, n) == 0)
            return (enum fn)i;
    return FN_OTHER;
}

/* A call begun and not yet returned.  A pid may have several: a traced
 * function called inside another (a signal handler's malloc). */
struct call {
    uint64_t pid;
    uint64_t seq; /* when it began: the latest of a pid's is resumed first */
    enum fn fn;
    int nargs;
    uint64_t arg[3];
    int live; /* 0: a free slot */
};

struct ltrace {
    struct call *calls;
    size_t ncalls, cap;
    uint64_t seq;
    const struct hl_import_opts *opts;
    long page;
};

/* pid's latest unfinished call of fn (FN_OTHER: of any other function),
 * or NULL. */
static struct call *call_of(struct ltrace *lt, uint64_t pid, enum fn fn)
{
    struct call *k = NULL;
    for (size_t i = 0; i < lt->ncalls; i++) {
        struct call *c = &lt->calls[i];
        if (c->live && c->pid == pid && c->fn == fn && (!k || c->seq > k->seq))
            k = c;
    }
    return k;
}

static struct call *call_new(struct ltrace *lt, uint64_t pid)
{
    for (size_t i = 0; i < lt->ncalls; i++)
        if (!lt->calls[i].live) {
            lt->calls[i].pid = pid;
            return &lt->calls[i];
        }
    if (lt->ncalls == lt->cap) {
        size_t ncap = lt->cap ? lt->cap * 2 : 16;
        struct call *nc = realloc(lt->calls, ncap * sizeof *nc);
        if (!nc)
            return NULL;
        lt->calls = nc;
        lt->cap = ncap;
    }
    struct call *c = &lt->calls[lt->ncalls++];
    memset(c, 0, sizeof *c);
    c->pid = pid;
    return c;
}

/* One argument skipped: to the next ',' or ')' at depth 0, strings and
 * all.  0, or -1 at the end of the line. */
static int skip_arg(struct cur *c)
{
    int depth = 0, instr = 0;
    for (; !at_end(c); c->p++) {
        char ch = *c->p;
        if (instr) {
            if (ch == '\\' && c->p + 1 < c->e)
                c->p++;
            else if (ch == '"')
                instr = 0;
        } else if (ch == '"') {
            instr = 1;
        } else if (ch == '(' || ch == '[' || ch == '{') {
            depth++;
        } else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0) {
            depth--;
        } else if (depth == 0 && (ch == ')' || ch == ',' || (ch == '<' && (lit(&(struct cur){c->p, c->e}, "<unfinished ...>") ||
                                                            lit(&(struct cur){c->p, c->e}, "<no return ...>"))))) {
            return 0;
        }
    }
    return -1;
}

/* Arguments up to ')' or " <unfinished ...>", appended to k->arg: numbers
 * for the family; past those (ltrace prints 4 guessed ones for a function
 * it has no prototype of: memalign(64, 1003, 1016, 0x55...)) and for
 * another function, skipped.  1 when the call was left unfinished, 0 when
 * ')' was reached, -1 on an error. */
static int ltrace_args(struct src *s, struct cur *c, struct call *k)
{
    for (;;) {
        blanks(c);
        if (lit(c, "<unfinished ...>") || lit(c, "<no return ...>")) /* the latter may resume all the same */
            return 1;
        if (lit(c, ")"))
            return 0;
        if (k->nargs > 0 && !lit(c, ","))
            return expected(s, c, "',', ')' or '<unfinished ...>'");
        blanks(c);
        if (k->fn == FN_OTHER || k->nargs >= fns[k->fn].nargs) {
            if (skip_arg(c))
                return expected(s, c, "')' closing the arguments");
            k->nargs++;
            continue;
        }
        uint64_t v;
        if (!num(c, &v))
            return expected(s, c, "a number");
        k->arg[k->nargs++] = v;
    }
}

/* " = RET" (and " <TIME>" with -T) to the end of the line. */
static int ltrace_ret(struct src *s, struct cur *c, int isvoid, uint64_t *ret)
{
    blanks(c);
    if (!lit(c, "="))
        return expected(s, c, "'= RESULT'");
    blanks(c);
    *ret = 0;
    if (isvoid) {
        if (!lit(c, "<void>"))
            return expected(s, c, "'<void>'");
    } else if (!num(c, ret)) {
        return expected(s, c, "a result (a pointer)");
    }
    blanks(c);
    if (lit(c, "<")) { /* -T: the time spent */
        while (!at_end(c) && *c->p != '>')
            c->p++;
        if (!lit(c, ">"))
            return expected(s, c, "'>' closing the time spent");
        blanks(c);
    }
    return at_end(c) ? 0 : expected(s, c, "the end of the line");
}

/* The call k, now returned with ret: its events. */
static int ltrace_done(struct src *s, struct ltrace *lt, struct hl_tracebuild *b, struct hl_import_stats *st,
                       const struct call *k, uint64_t ret)
{
    const uint64_t *a = k->arg;
    uint64_t page = (uint64_t)lt->page;
    int r = 0;
    if (k->nargs < fns[k->fn].nargs)
        return line_fail(s, "%s with %d argument%s (it takes %d)", fns[k->fn].name, k->nargs, k->nargs == 1 ? "" : "s",
                         fns[k->fn].nargs);
    switch (k->fn) {
    case FN_MALLOC:
        r = hl_tb_malloc(b, a[0], ret);
        break;
    case FN_CALLOC:
        r = hl_tb_calloc(b, a[0], a[1], ret);
        break;
    case FN_REALLOC:
        r = hl_tb_realloc(b, a[0], a[1], ret);
        break;
    case FN_REALLOCARRAY: /* an overflowing product fails: NULL */
        r = hl_tb_realloc(b, a[0], a[1] && a[2] > UINT64_MAX / a[1] ? UINT64_MAX : a[1] * a[2], ret);
        break;
    case FN_MEMALIGN:
    case FN_ALIGNED_ALLOC:
        r = hl_tb_memalign(b, a[0], a[1], ret);
        break;
    case FN_VALLOC:
        r = hl_tb_memalign(b, page, a[0], ret);
        break;
    case FN_PVALLOC:
        r = hl_tb_memalign(b, page, a[0] ? (a[0] + page - 1) / page * page : page, ret);
        break;
    case FN_POSIX_MEMALIGN:
        st->posix_memalign++;
        return 0;
    case FN_FREE:  /* counted at its call */
    case FN_OTHER:
        return 0;
    }
    st->events++;
    return r ? tb_err(s) : 0;
}

static int ltrace_line(struct src *s, struct cur c, struct ltrace *lt, struct hl_tracebuild *b,
                       struct hl_import_stats *st)
{
    blanks(&c);
    if (at_end(&c))
        return 0;
    /* the pid: "[pid N] " on a terminal, "N " with -o FILE */
    uint64_t pid = 0;
    if (lit(&c, "[pid ")) {
        if (!num(&c, &pid) || !lit(&c, "]"))
            return expected(s, &c, "'[pid N]'");
        blanks(&c);
    } else {
        struct cur t = c;
        if (num(&t, &pid) && lit(&t, " "))
            c = t;
        else
            pid = 0;
    }
    if (lt->opts && lt->opts->npids) {
        unsigned i = 0;
        while (i < lt->opts->npids && lt->opts->pids[i] != pid)
            i++;
        if (i == lt->opts->npids) {
            st->other_pids++;
            return 0;
        }
    }
    /* timestamps (-t, -tt, -ttt, -r): digits, ':' and '.' */
    while (!at_end(&c) && *c.p >= '0' && *c.p <= '9') {
        const char *p = c.p;
        while (p < c.e && ((*p >= '0' && *p <= '9') || *p == ':' || *p == '.'))
            p++;
        if (p < c.e && *p != ' ')
            break;
        c.p = p;
        blanks(&c);
    }
    if (lit(&c, "+++ ")) { /* exited or killed: its pending calls never return */
        for (size_t i = 0; i < lt->ncalls; i++) {
            struct call *k = &lt->calls[i];
            if (k->live && k->pid == pid) {
                if (k->fn != FN_OTHER && k->fn != FN_FREE)
                    st->unresumed++;
                k->live = 0;
            }
        }
        return 0;
    }
    if (lit(&c, "--- ")) /* a signal */
        return 0;
    if (lit(&c, "unexpected breakpoint at ")) { /* ltrace's own trouble, with threads */
        st->ltrace_messages++;
        return 0;
    }
    if (lit(&c, "<... ")) {
        const char *n = c.p;
        while (!at_end(&c) && *c.p != ' ')
            c.p++;
        enum fn f = fn_of(n, (size_t)(c.p - n));
        if (!lit(&c, " resumed>"))
            return expected(s, &c, "' resumed>'");
        struct call *k = call_of(lt, pid, f);
        if (!k) {
            if (f == FN_OTHER) { /* another function's, begun before a --pid filter or the log's start */
                st->other_calls++;
                return 0;
            }
            return line_fail(s, "'<... %s resumed>' with no unfinished %s call of pid %" PRIu64 " before it",
                             fns[f].name, fns[f].name, pid);
        }
        k->live = 0;
        int r = ltrace_args(s, &c, k);
        if (r < 0)
            return -1;
        if (r > 0)
            return line_fail(s, "a resumed call unfinished again");
        uint64_t ret;
        if (f == FN_OTHER)
            return 0;
        if (ltrace_ret(s, &c, f == FN_FREE, &ret))
            return -1;
        return ltrace_done(s, lt, b, st, k, ret);
    }
    /* CALLER->NAME(  or  NAME( */
    const char *n = c.p, *paren = memchr(c.p, '(', (size_t)(c.e - c.p));
    if (!paren || paren == n)
        return expected(s, &c, "a call 'NAME(ARGS) = RESULT', '<... NAME resumed>', '+++' or '---'");
    for (const char *p = n; p + 1 < paren; p++)
        if (p[0] == '-' && p[1] == '>')
            n = p + 2;
    for (const char *p = n; p < paren; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '@' || *p == '.')) {
            c.p = p;
            return expected(s, &c, "a function name");
        }
    enum fn f = fn_of(n, (size_t)(paren - n));
    c.p = paren + 1;
    struct call k = {pid, ++lt->seq, f, 0, {0, 0, 0}, 1};
    int r = ltrace_args(s, &c, &k);
    if (r < 0)
        return -1;
    if (f == FN_OTHER)
        st->other_calls++;
    if (f == FN_FREE && k.nargs >= 1) { /* a free counts at its call: another thread may get the block back */
        st->events++;
        if (hl_tb_free(b, k.arg[0]))
            return tb_err(s);
    }
    if (r > 0) {
        blanks(&c);
        if (!at_end(&c))
            return expected(s, &c, "the end of the line after '<unfinished ...>'");
        struct call *slot = call_new(lt, pid);
        if (!slot)
            return tb_err(s);
        *slot = k;
        return 0;
    }
    uint64_t ret;
    if (f == FN_OTHER) /* its result may be anything */
        return 0;
    if (ltrace_ret(s, &c, f == FN_FREE, &ret))
        return -1;
    return ltrace_done(s, lt, b, st, &k, ret);
}

static int import_ltrace(struct src *s, struct hl_tracebuild *b, struct hl_import_stats *st,
                         const struct hl_import_opts *opts)
{
    struct ltrace lt = {NULL, 0, 0, 0, opts, sysconf(_SC_PAGESIZE)};
    if (lt.page <= 0)
        lt.page = 4096;
    const char *ls, *le;
    int r;
    while ((r = src_next(s, &ls, &le)) > 0)
        if (ltrace_line(s, (struct cur){ls, le}, &lt, b, st)) {
            r = -1;
            break;
        }
    for (size_t i = 0; r == 0 && i < lt.ncalls; i++)
        if (lt.calls[i].live && lt.calls[i].fn != FN_OTHER && lt.calls[i].fn != FN_FREE)
            st->unresumed++;
    free(lt.calls);
    return r < 0 ? -1 : 0;
}

/* ---- the entry points ---------------------------------------------------- */

static const char *const format_names[] = {"mtrace", "ltrace", "heaptrack"};

int hl_import_format_parse(const char *name, enum hl_import_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum hl_import_format)i;
            return 0;
        }
    return -1;
}

const char *hl_import_format_name(enum hl_import_format f)
{
    return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "?";
}

const char *hl_import_format_loss(enum hl_import_format f)
{
    switch (f) {
    case HL_IMPORT_MTRACE:
        return "mtrace logs calloc and aligned allocations as malloc: all are written as 'a'";
    case HL_IMPORT_HEAPTRACK:
        return "heaptrack logs realloc as free + malloc, calloc and aligned allocations as malloc, and neither "
               "failed calls nor memalign/pvalloc: all allocations are written as 'a'";
    case HL_IMPORT_LTRACE:
        return "";
    }
    return "";
}

int hl_import(enum hl_import_format f, const char *path, const struct hl_import_opts *opts, struct hl_trace *out,
              struct hl_import_stats *stats, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    memset(stats, 0, sizeof *stats);
    if (errlen)
        err[0] = '\0';
    struct src s;
    if (src_open(&s, path, err, errlen)) {
        src_close(&s, 0);
        return -1;
    }
    struct hl_tracebuild *b = hl_tb_new(opts ? &opts->tb : NULL);
    if (!b) {
        src_close(&s, 0);
        return src_fail(&s, "out of memory");
    }
    int r;
    switch (f) {
    case HL_IMPORT_MTRACE:
        r = import_mtrace(&s, b, stats);
        break;
    case HL_IMPORT_LTRACE:
        r = import_ltrace(&s, b, stats, opts);
        break;
    case HL_IMPORT_HEAPTRACK:
        r = import_heaptrack(&s, b, stats);
        break;
    default:
        r = src_fail(&s, "unknown log format %d", (int)f);
        break;
    }
    stats->lines = s.line;
    if (src_close(&s, r == 0) != 0)
        r = -1;
    if (r == 0 && hl_tb_finish(b, path, out) != 0)
        r = src_fail(&s, "out of memory");
    stats->tb = *hl_tb_stats(b);
    hl_tb_destroy(b);
    return r;
}

int hl_import_print_stats(const struct hl_import_stats *s, const char *prefix, FILE *out)
{
    int n = 0;
#define HL_IMPORT_NOTE_PRINT(name, doc)                                                                                \
    if (s->name) {                                                                                                     \
        fprintf(out, "%s: %" PRIu64 " %s\n", prefix, s->name, doc);                                                    \
        n++;                                                                                                           \
    }
    HL_IMPORT_NOTES(HL_IMPORT_NOTE_PRINT)
#undef HL_IMPORT_NOTE_PRINT
    return n + hl_tb_print_stats(&s->tb, prefix, out);
}
