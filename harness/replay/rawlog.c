/*
 * rawlog.c - the recorder's raw logs read back (rawlog.h).
 *
 * A log is read in chunks of records and each record handed to the trace
 * builder, which owns every decision about pointers and ids (unknown frees,
 * reuse, balancing): this file only knows the format of heaplab/record.h
 * and which builder event each allocation function is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heaplab/record.h"
#include "rawlog.h"

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, const char *path, const char *fmt,
                                                      ...)
{
    int n = snprintf(err, errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The command line's NUL-separated arguments as one line, cut to fit. */
static void cmdline_text(char *out, size_t cap, const char *raw, size_t len)
{
    size_t n = 0;
    while (len > 0 && raw[len - 1] == 0)
        len--;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)raw[i];
        out[n++] = c == 0 ? ' ' : (c < 32 || c == 127) ? '?' : (char)c;
    }
    out[n] = 0;
    if (n + 1 >= cap && len > n && cap > 4)
        memcpy(out + cap - 4, "...", 4);
}

/* The header of an open log; leaves f at the first record.  The data's
 * size in *data_bytes. */
static int read_header(FILE *f, const char *path, struct hl_rawlog_info *info, uint64_t *data_bytes, char *err,
                       size_t errlen)
{
    struct hl_raw_header h;
    struct stat st;
    memset(info, 0, sizeof *info);
    if (fstat(fileno(f), &st) != 0)
        return fail(err, errlen, path, "%s", strerror(errno));
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, HL_RAW_MAGIC, sizeof h.magic) != 0)
        return fail(err, errlen, path, "not a raw log of heaplab's recorder (no HLRAW01 header)");
    if (h.record_size != sizeof(struct hl_raw_record))
        return fail(err, errlen, path, "records of %" PRIu32 " bytes; this heaplab reads %zu-byte records",
                    h.record_size, sizeof(struct hl_raw_record));
    if (h.cmdline_len > HL_RAW_MAX_CMDLINE)
        return fail(err, errlen, path, "command line of %" PRIu32 " bytes in the header (at most %d)", h.cmdline_len,
                    HL_RAW_MAX_CMDLINE);
    uint64_t head = sizeof h + ((h.cmdline_len + 7u) & ~7u);
    if ((uint64_t)st.st_size < head)
        return fail(err, errlen, path, "cut short in its header");
    char cmd[HL_RAW_MAX_CMDLINE + 8];
    if (h.cmdline_len && fread(cmd, (h.cmdline_len + 7u) & ~7u, 1, f) != 1)
        return fail(err, errlen, path, "cut short in its header");
    if (!h.cmdline_len && fseek(f, (long)head, SEEK_SET) != 0)
        return fail(err, errlen, path, "%s", strerror(errno));
    info->pid = h.pid;
    info->ppid = h.ppid;
    info->flags = h.flags;
    info->start_ns = h.start_ns;
    info->lost = h.lost;
    cmdline_text(info->cmdline, sizeof info->cmdline, cmd, h.cmdline_len);
    *data_bytes = (uint64_t)st.st_size - head;
    info->records = *data_bytes / sizeof(struct hl_raw_record);
    info->damaged = *data_bytes % sizeof(struct hl_raw_record) != 0;
    return 0;
}

int hl_rawlog_info(const char *path, struct hl_rawlog_info *info, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, "%s", strerror(errno));
    uint64_t bytes;
    int rc = read_header(f, path, info, &bytes, err, errlen);
    fclose(f);
    return rc;
}

/* Distinct thread ids, counted in a small open-addressing set (up to
 * TID_CAP; beyond, the count stops). */
enum { TID_CAP = 4096 };
struct tidset {
    uint32_t slot[2 * TID_CAP];
    uint32_t n;
};

static void tid_add(struct tidset *s, uint32_t tid)
{
    if (tid == 0 || s->n >= TID_CAP)
        return;
    for (uint32_t i = (tid * 2654435761u) % (2 * TID_CAP);; i = (i + 1) % (2 * TID_CAP)) {
        if (s->slot[i] == tid)
            return;
        if (s->slot[i] == 0) {
            s->slot[i] = tid;
            s->n++;
            return;
        }
    }
}

/* One record to the builder: 0, 1 for a record to skip (zeroed), -1 on ENOMEM. */
static int event(struct hl_tracebuild *b, const struct hl_raw_record *r, uint64_t page)
{
    switch (r->kind) {
    case HL_RAW_MALLOC:
        return hl_tb_malloc(b, r->a, r->r);
    case HL_RAW_CALLOC:
        return hl_tb_calloc(b, r->a, r->b, r->r);
    case HL_RAW_REALLOC:
    case HL_RAW_REALLOCARRAY:
        return hl_tb_realloc(b, r->a, r->b, r->r);
    case HL_RAW_FREE:
        return hl_tb_free(b, r->a);
    case HL_RAW_POSIX_MEMALIGN:
    case HL_RAW_ALIGNED_ALLOC:
    case HL_RAW_MEMALIGN:
    case HL_RAW_VALLOC:
        return hl_tb_memalign(b, r->a, r->b, r->r);
    case HL_RAW_PVALLOC: {
        /* the block is whole pages (one for 0 bytes) */
        uint64_t pg = r->a ? r->a : page;
        uint64_t n = r->b ? r->b : 1;
        if (n > UINT64_MAX - (pg - 1))
            return hl_tb_memalign(b, pg, n, 0);
        return hl_tb_memalign(b, pg, (n + pg - 1) / pg * pg, r->r);
    }
    default:
        return 1;
    }
}

int hl_rawlog_convert(const char *path, const struct hl_tb_opts *opts, const char *name, struct hl_trace *out,
                      struct hl_tb_stats *stats, struct hl_rawlog_info *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    memset(stats, 0, sizeof *stats);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, "%s", strerror(errno));
    uint64_t bytes;
    if (read_header(f, path, info, &bytes, err, errlen) != 0) {
        fclose(f);
        return -1;
    }
    struct hl_tracebuild *b = hl_tb_new(opts);
    enum { CHUNK = 4096 };
    struct hl_raw_record *buf = malloc(CHUNK * sizeof *buf);
    struct tidset *tids = calloc(1, sizeof *tids);
    int rc = -1;
    if (!b || !buf || !tids) {
        fail(err, errlen, path, "%s", strerror(ENOMEM));
        goto done;
    }
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), done_records = 0;
    while (done_records < info->records) {
        uint64_t want = info->records - done_records < CHUNK ? info->records - done_records : CHUNK;
        size_t got = fread(buf, sizeof *buf, (size_t)want, f);
        if (got != want) {
            fail(err, errlen, path, "%s", ferror(f) ? strerror(errno) : "shorter than when it was opened");
            goto done;
        }
        for (size_t i = 0; i < got; i++) {
            const struct hl_raw_record *r = &buf[i];
            if (r->kind == 0) { /* the filler of a write cut short */
                info->damaged++;
                continue;
            }
            if (r->kind > HL_RAW_PVALLOC) {
                fail(err, errlen, path, "record %" PRIu64 ": unknown call kind %u", done_records + i + 1,
                     (unsigned)r->kind);
                goto done;
            }
            tid_add(tids, r->tid);
            if (event(b, r, page) < 0) {
                fail(err, errlen, path, "%s", strerror(errno));
                goto done;
            }
        }
        done_records += got;
    }
    info->threads = tids->n;
    if (hl_tb_finish(b, name, out) != 0) {
        fail(err, errlen, path, "%s", strerror(errno));
        goto done;
    }
    *stats = *hl_tb_stats(b);
    rc = 0;
done:
    if (b)
        hl_tb_destroy(b);
    free(buf);
    free(tids);
    fclose(f);
    return rc;
}
