/*
 * stats.c - the drop-in malloc's report at exit (HEAPLAB_STATS=1|json).
 *
 * It runs as the library is unloaded at exit, after the program's own
 * destructors, and builds its lines in a buffer with lib's text.c and
 * writes them with write(2): stdio may already be shut down, and nothing
 * here may allocate.  The figures are core's (struct hl_stats, heap.h):
 * "peak live" is the bytes of the blocks in use, headers and rounding
 * included, not the bytes the program asked for - the library cannot know
 * a freed block's request - so util here is an upper bound of the replay's
 * util (docs/metrics.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "text.h"

/* the lowest descriptor the copy of stderr takes: out of the way of a
 * program that counts on its own descriptors starting at 3 */
#define STDERR_COPY_MIN 512

struct out {
    char buf[4096];
    size_t n;
};

static struct {
    enum hl_stats_format format;
    const char *file; /* NULL: stderr */
    int fd;           /* stderr's copy, or 2 when it could not be made */
    struct out o;     /* 4 KiB: too much for the stack of a program's last thread */
} rep;

static void put(struct out *o, const char *s) { hl_msg_put(o->buf, sizeof o->buf, &o->n, s); }
static void put_u64(struct out *o, uint64_t v) { hl_msg_put_u64(o->buf, sizeof o->buf, &o->n, v); }

/* "1589248 bytes (1.5 MiB)" */
static void put_bytes(struct out *o, uint64_t v)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    put_u64(o, v);
    put(o, " bytes");
    if (v < 1024)
        return;
    int u = 0;
    uint64_t scale = 1024;
    while (u < 3 && v / scale >= 1024) {
        scale *= 1024;
        u++;
    }
    uint64_t tenths = (v * 10 + scale / 2) / scale; /* v < 2^50: no overflow */
    put(o, " (");
    put_u64(o, tenths / 10);
    put(o, ".");
    put_u64(o, tenths % 10);
    put(o, " ");
    put(o, units[u]);
    put(o, ")");
}

/* a / b with `digits` decimals, rounded: "0.776" (digits 3), "77.6" of a
 * percentage (a * 100, digits 1) */
static void put_fixed(struct out *o, uint64_t a, uint64_t b, int digits)
{
    uint64_t pow = 1;
    for (int i = 0; i < digits; i++)
        pow *= 10;
    uint64_t q = (a * pow + b / 2) / b;
    put_u64(o, q / pow);
    put(o, ".");
    char frac[8];
    uint64_t r = q % pow;
    for (int i = digits - 1; i >= 0; i--, r /= 10)
        frac[i] = (char)('0' + r % 10);
    frac[digits] = 0;
    put(o, frac);
}

/* a JSON string's content: the policy label, which holds no control characters */
static void put_json_string(struct out *o, const char *s)
{
    put(o, "\"");
    for (; *s; s++) {
        char one[3] = {'\\', *s, 0};
        put(o, *s == '"' || *s == '\\' ? one : one + 1);
    }
    put(o, "\"");
}

/* "name":v, with a comma before all but the first of an object */
static void put_member(struct out *o, int *first, const char *name, uint64_t v)
{
    put(o, *first ? "\"" : ",\"");
    put(o, name);
    put(o, "\":");
    put_u64(o, v);
    *first = 0;
}

static void text_report(struct out *o, const struct hl_stats *st, const struct hl_calls *c, const char *policy,
                        uint64_t pid)
{
    put(o, "heaplab: pid ");
    put_u64(o, pid);
    put(o, ": ");
    put(o, policy);
    put(o, ": peak footprint ");
    put_bytes(o, st->peak_heap_bytes);
    put(o, ", peak live ");
    put_bytes(o, st->peak_live_bytes);
    if (st->peak_heap_bytes) {
        put(o, ", util ");
        put_fixed(o, st->peak_live_bytes * 100, st->peak_heap_bytes, 1);
        put(o, "%");
    }
    put(o, "\nheaplab: pid ");
    put_u64(o, pid);
    put(o, ": calls");
    const char *sep = " ";
#define HL_CALL_TEXT(name)                                                                         \
    put(o, sep);                                                                                   \
    put(o, #name " ");                                                                             \
    put_u64(o, c->name);                                                                           \
    sep = ", ";
    HL_CALL_KINDS(HL_CALL_TEXT)
#undef HL_CALL_TEXT
    put(o, "\nheaplab: pid ");
    put_u64(o, pid);
    put(o, ": sbrk ");
    put_u64(o, st->grow_calls + st->shrink_calls);
    put(o, " (");
    put_u64(o, st->grow_calls);
    put(o, " up, ");
    put_u64(o, st->shrink_calls);
    put(o, " down), mmap ");
    put_u64(o, st->mmap_calls);
    put(o, ", munmap ");
    put_u64(o, st->munmap_calls);
    put(o, ", mremap ");
    put_u64(o, st->mremap_calls);
    put(o, "\n");
}

static void json_report(struct out *o, const struct hl_stats *st, const struct hl_calls *c, const char *policy,
                        uint64_t pid)
{
    put(o, "{\"pid\":");
    put_u64(o, pid);
    put(o, ",\"policy\":");
    put_json_string(o, policy);
    put(o, ",\"source\":\"sbrk\",\"util\":");
    if (st->peak_heap_bytes)
        put_fixed(o, st->peak_live_bytes, st->peak_heap_bytes, 3);
    else
        put(o, "null");
    put(o, ",\"calls\":{");
    int first = 1;
#define HL_CALL_JSON(name) put_member(o, &first, #name, c->name);
    HL_CALL_KINDS(HL_CALL_JSON)
#undef HL_CALL_JSON
    put(o, "},\"stats\":{");
    first = 1;
#define HL_STATS_JSON(name, doc) put_member(o, &first, #name, st->name);
    HL_STATS_FIELDS(HL_STATS_JSON)
#undef HL_STATS_JSON
    put(o, "}}\n");
}

/* file with %p replaced by the pid and %% by %, into path; -1 when too long */
static int expand(const char *file, uint64_t pid, char *path, size_t cap)
{
    size_t n = 0;
    path[0] = 0;
    for (const char *s = file; *s; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            hl_msg_put_u64(path, cap, &n, pid);
            s++;
        } else {
            char one[2] = {s[0], 0};
            if (s[0] == '%' && s[1] == '%')
                s++;
            hl_msg_put(path, cap, &n, one);
        }
        if (n + 1 >= cap)
            return -1;
    }
    return 0;
}

static void write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

void hl_stats_open(enum hl_stats_format format, const char *file)
{
    rep.format = format;
    rep.file = file;
    rep.fd = 2;
    if (format != HL_STATS_OFF && !file) {
        int fd = fcntl(2, F_DUPFD_CLOEXEC, STDERR_COPY_MIN);
        if (fd >= 0)
            rep.fd = fd;
    }
}

void hl_stats_report(hl_heap *h, const struct hl_calls *calls, const char *policy)
{
    struct out *o = &rep.o;
    struct hl_stats st;
    uint64_t pid = (uint64_t)getpid();
    if (rep.format == HL_STATS_OFF)
        return;
    hl_stats(h, &st);
    o->n = 0;
    o->buf[0] = 0;
    if (rep.format == HL_STATS_JSON)
        json_report(o, &st, calls, policy, pid);
    else
        text_report(o, &st, calls, policy, pid);
    if (!rep.file) {
        write_all(rep.fd, o->buf, o->n);
        return;
    }
    char path[4096];
    int fd = -1;
    errno = 0;
    if (expand(rep.file, pid, path, sizeof path) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        const char *why = errno ? strerrordesc_np(errno) : NULL;
        o->n = 0;
        put(o, "heaplab: HEAPLAB_STATS_FILE=");
        put(o, rep.file);
        put(o, ": cannot write the stats: ");
        put(o, why ? why : "name too long");
        put(o, "\n");
        write_all(2, o->buf, o->n);
        return;
    }
    write_all(fd, o->buf, o->n);
    close(fd);
}
