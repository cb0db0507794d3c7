/*
 * fuzz_trace.c - libFuzzer target for the trace parser (make fuzz).
 *
 * Whatever the bytes, hl_trace_parse either fails with "fuzz:LINE: ..." or
 * returns a trace whose every operation is legal at its point (ids in
 * range, no free of a dead id): the promise trace.h makes to the replay.
 * A parsed trace is written back and read again, and must come back with
 * the same operations.  The same bytes are also loaded as a file (a memfd)
 * and through a pipe, through the reader's window (make fuzz builds it
 * with lines of at most HL_TRACE_MAX_LINE = 64 bytes, so that the window's
 * edges are crossed), and must give the same trace or the same message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace.h"

#define DIE(...) (fprintf(stderr, "fuzz_trace: " __VA_ARGS__), fputc('\n', stderr), abort())

/* Replays the id lifetimes: the parser's promise. */
static void check_legal(const struct hl_trace *t)
{
    if (t->nops > t->num_ops)
        DIE("%llu operations, the header says %llu", (unsigned long long)t->nops, (unsigned long long)t->num_ops);
    unsigned char *live = calloc(t->num_ids ? t->num_ids : 1, 1);
    if (!live)
        return;
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        if (op->id == HL_ID_NULL) {
            if (op->type != HL_OP_FREE)
                DIE("op %llu: the null id on '%c'", (unsigned long long)i, op->type);
            continue;
        }
        if (op->id >= t->num_ids)
            DIE("op %llu: id %u out of range", (unsigned long long)i, op->id);
        if ((int64_t)op->size < 0)
            DIE("op %llu: size beyond PTRDIFF_MAX", (unsigned long long)i);
        switch (op->type) {
        case HL_OP_FREE:
            if (!live[op->id])
                DIE("op %llu: free of a dead id", (unsigned long long)i);
            live[op->id] = 0;
            break;
        case HL_OP_REALLOC:
            live[op->id] = op->size != 0 || !live[op->id] ? 1 : 0;
            break;
        case HL_OP_ALLOC:
        case HL_OP_CALLOC:
        case HL_OP_MEMALIGN:
            if (live[op->id])
                DIE("op %llu: allocation of a live id", (unsigned long long)i);
            live[op->id] = 1;
            break;
        default:
            DIE("op %llu: unknown type %d", (unsigned long long)i, op->type);
        }
    }
    free(live);
}

static void check_round_trip(const struct hl_trace *t)
{
    /* the rewrite drops comments and extra lines: a file with many spare
     * ids may no longer be allowed them */
    if (t->num_ids > t->nops + HL_TRACE_SPARE_IDS)
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    int w = hl_trace_write(t, f);
    fclose(f);
    if (w != 0) {
        free(buf);
        return;
    }
    struct hl_trace u;
    char err[256];
    if (hl_trace_parse("rewritten", buf, len, NULL, &u, err, sizeof err) != 0)
        DIE("the rewritten trace does not parse: %s", err);
    if (u.num_ids != t->num_ids || u.nops != t->nops)
        DIE("the rewritten trace has other counts");
    for (uint64_t i = 0; i < t->nops; i++)
        if (memcmp(&u.ops[i], &t->ops[i], sizeof u.ops[i]) != 0)
            DIE("the rewritten trace differs at op %llu", (unsigned long long)i);
    hl_trace_free(&u);
    free(buf);
}

/* Whether the reader may judge these bytes otherwise than the in-memory
 * parser: gzip data, or a line longer than the window's limit. */
static int window_may_differ(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        return 1;
    size_t run = 0;
    for (size_t i = 0; i < size; i++) {
        run = data[i] == '\n' ? 0 : run + 1;
        if (run >= HL_TRACE_MAX_LINE)
            return 1;
    }
    return 0;
}

/* hl_trace_load on fd, as "/dev/fd/N". */
static int load_fd(int fd, char *name, size_t namelen, struct hl_trace *t, char *err, size_t errlen)
{
    snprintf(name, namelen, "/dev/fd/%d", fd);
    return hl_trace_load(name, NULL, t, err, errlen);
}

static void same(const char *how, int r1, const struct hl_trace *a, const char *e1, int r2,
                 const struct hl_trace *b, const char *e2, size_t skip1, size_t skip2)
{
    if (r1 != r2)
        DIE("%s: parse says %d (%s), load says %d (%s)", how, r1, r1 ? e1 : "", r2, r2 ? e2 : "");
    if (r1 != 0) {
        if (strcmp(e1 + skip1, e2 + skip2) != 0)
            DIE("%s: parse says '%s', load says '%s'", how, e1, e2);
        return;
    }
    if (a->nops != b->nops || a->num_ids != b->num_ids ||
        memcmp(a->ops, b->ops, a->nops * sizeof *a->ops) != 0 || memcmp(&a->quirks, &b->quirks, sizeof a->quirks))
        DIE("%s: a different trace", how);
}

/* The bytes through the reader's window: as a file and as a pipe, each
 * against the in-memory parser unless the window may judge otherwise
 * (gzip, long lines), and against each other always. */
static void check_window(const uint8_t *data, size_t size)
{
    int differ = window_may_differ(data, size), gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    struct hl_trace a, f, p;
    char e1[512], ef[512], ep[512], nf[64], np[64];
    int r1 = hl_trace_parse("fuzz", (const char *)data, size, NULL, &a, e1, sizeof e1);
    int rf = -2, rp = -2;
    int fd = memfd_create("fuzz", 0);
    if (fd >= 0 && write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0) {
        rf = load_fd(fd, nf, sizeof nf, &f, ef, sizeof ef);
        if (!differ)
            same("file", r1, &a, e1, rf, &f, ef, 4, strlen(nf));
    }
    if (fd >= 0)
        close(fd);
    int pp[2];
    if (size <= 65536 && pipe(pp) == 0) {
        if (write(pp[1], data, size) == (ssize_t)size) {
            close(pp[1]);
            pp[1] = -1;
            rp = load_fd(pp[0], np, sizeof np, &p, ep, sizeof ep);
            /* a stream's num_ids is checked at its end: a bad line before
             * it is named first */
            if (!differ && !(r1 != 0 && rp != 0 && strstr(e1, "is more than this file can use")))
                same("pipe", r1, &a, e1, rp, &p, ep, 4, strlen(np));
            /* gzip data is a stream as a file too */
            if (gz && rf != -2)
                same("gzip file and pipe", rf, &f, ef, rp, &p, ep, strlen(nf), strlen(np));
        }
        close(pp[0]);
        if (pp[1] >= 0)
            close(pp[1]);
    }
    if (r1 == 0)
        hl_trace_free(&a);
    if (rf == 0)
        hl_trace_free(&f);
    if (rp == 0)
        hl_trace_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum hl_dialect dialects[] = {HL_DIALECT_AUTO, HL_DIALECT_CLASSIC, HL_DIALECT_CMU};
    for (size_t d = 0; d < 3; d++) {
        struct hl_trace_opts o = {dialects[d]};
        struct hl_trace t;
        char err[256];
        memset(err, 'x', sizeof err);
        if (hl_trace_parse("fuzz", (const char *)data, size, &o, &t, err, sizeof err) != 0) {
            if (strncmp(err, "fuzz:", 5) != 0 || !memchr(err, '\0', sizeof err))
                DIE("a failure without a 'fuzz:LINE: ' message");
            if (t.ops || t.path || t.nops)
                DIE("a failed parse left a trace behind");
            continue;
        }
        check_legal(&t);
        if (d == 0)
            check_round_trip(&t);
        hl_trace_free(&t);
    }
    check_window(data, size);
    return 0;
}
