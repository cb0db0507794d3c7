/*
 * fuzz_trace.c - libFuzzer target for the trace parser (make fuzz).
 *
 * Whatever the bytes, hl_trace_parse either fails with "fuzz:LINE: ..." or
 * returns a trace whose every operation is legal at its point (ids in
 * range, no free of a dead id): the promise trace.h makes to the replay.
 * A parsed trace is written back and read again, and must come back with
 * the same operations.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return 0;
}
