/*
 * cmd_check_trace.c - heaplab check-trace: what a trace holds, and whether
 * every request is legal in its id's life.
 *
 * The trace is read leniently (hl_trace_load_lenient): a free of an id
 * never allocated, a double free, an allocation of a live id, a realloc of
 * a freed id are each reported with their file:line and left out, and the
 * reading goes on, so one run lists them all; the counts and peaks are
 * those of the requests that remain.  replay reads the same files strictly
 * and refuses the first such request.
 *
 * Exit status: 0 when every trace is consistent, 1 when one is not, 2 when
 * one cannot be read (a syntax or header error, a missing file) or on bad
 * usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "trace.h"
#include "text.h"

static void usage(FILE *out)
{
    fputs("usage: heaplab check-trace [--max-problems N] TRACE...\n"
          "\n"
          "For each trace (.rep, .rep.gz, '-' for standard input): the operations by\n"
          "kind, the ids, the peak of live requested bytes and blocks, the blocks left\n"
          "live at the end, and every request that is illegal where it stands (a free\n"
          "of an id never allocated, a double free, an allocation of an id still live,\n"
          "a realloc of a freed id), each as FILE:LINE on standard error.\n"
          "\n"
          "options:\n"
          "      --max-problems N  print at most N problems per trace (default 20; 0: all);\n"
          "                        all are counted\n"
          "  -h, --help            this help\n"
          "\n"
          "exit status: 0 every trace consistent, 1 one is not, 2 one cannot be read.\n",
          out);
}

struct check {
    const char *path;
    uint64_t max_shown;
    uint64_t count[HL_PROBLEM_COUNT];
    uint64_t total;
};

static void on_problem(void *arg, enum hl_trace_problem kind, const char *msg)
{
    struct check *c = arg;
    c->count[kind]++;
    if (c->max_shown == 0 || c->total < c->max_shown)
        fprintf(stderr, "%s\n", msg);
    c->total++;
}

struct summary {
    uint64_t by_kind[5]; /* a c m r f, in that order */
    uint64_t free_null;
    uint64_t ids_used;
    uint64_t live_blocks, live_bytes, peak_blocks, peak_bytes;
};

static int kind_index(uint8_t type)
{
    switch (type) {
    case HL_OP_ALLOC:
        return 0;
    case HL_OP_CALLOC:
        return 1;
    case HL_OP_MEMALIGN:
        return 2;
    case HL_OP_REALLOC:
        return 3;
    default:
        return 4;
    }
}

/* One pass over the (legal) ops: what the report prints.  Live bytes as
 * hl_trace_peak_live counts them. */
static int summarize(const struct hl_trace *t, struct summary *s)
{
    memset(s, 0, sizeof *s);
    uint64_t *size = calloc(t->num_ids ? t->num_ids : 1, sizeof *size);
    unsigned char *state = calloc(t->num_ids ? t->num_ids : 1, 1); /* 0 never, 1 live, 2 dead */
    if (!size || !state) {
        free(size);
        free(state);
        return -1;
    }
    for (uint64_t i = 0; i < t->nops; i++) {
        const struct hl_op *op = &t->ops[i];
        s->by_kind[kind_index(op->type)]++;
        if (op->id == HL_ID_NULL) {
            s->free_null++;
            continue;
        }
        unsigned char *st = &state[op->id];
        if (*st == 0)
            s->ids_used++;
        int frees = op->type == HL_OP_FREE || (op->type == HL_OP_REALLOC && op->size == 0);
        if (*st == 1) {
            s->live_bytes -= size[op->id];
            s->live_blocks--;
        }
        if (frees) {
            *st = 2;
            size[op->id] = 0;
        } else {
            *st = 1;
            size[op->id] = op->size;
            s->live_bytes += op->size;
            s->live_blocks++;
        }
        if (s->live_bytes > s->peak_bytes)
            s->peak_bytes = s->live_bytes;
        if (s->live_blocks > s->peak_blocks)
            s->peak_blocks = s->live_blocks;
    }
    free(size);
    free(state);
    return 0;
}

static int check_one(const char *path, uint64_t max_shown)
{
    struct check c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.max_shown = max_shown;
    struct hl_trace t;
    char err[512];
    if (hl_trace_load_lenient(path, NULL, on_problem, &c, &t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    hl_trace_print_quirks(&t, stderr);
    if (max_shown && c.total > max_shown)
        fprintf(stderr, "heaplab: check-trace: %s: %" PRIu64 " more problems not shown (--max-problems 0: all)\n",
                path, c.total - max_shown);
    struct summary s;
    if (summarize(&t, &s) != 0) {
        hl_cli_error("check-trace", "%s: out of memory for %" PRIu32 " ids", path, t.num_ids);
        hl_trace_free(&t);
        return 2;
    }
    printf("%s\n", path);
    printf("  ops             %" PRIu64 " (a %" PRIu64 ", c %" PRIu64 ", m %" PRIu64 ", r %" PRIu64 ", f %" PRIu64
           "; f -1: %" PRIu64 ")\n",
           t.nops, s.by_kind[0], s.by_kind[1], s.by_kind[2], s.by_kind[3], s.by_kind[4], s.free_null);
    printf("  ids             %" PRIu32 " declared, %" PRIu64 " used\n", t.num_ids, s.ids_used);
    printf("  peak live       %" PRIu64 " bytes, %" PRIu64 " blocks\n", s.peak_bytes, s.peak_blocks);
    printf("  live at the end %" PRIu64 " blocks, %" PRIu64 " bytes\n", s.live_blocks, s.live_bytes);
#define PROBLEM_LINE(name, doc)                                                                                        \
    if (c.count[HL_PROBLEM_##name])                                                                                    \
        printf("  %-15" PRIu64 " %s (left out)\n", c.count[HL_PROBLEM_##name], doc);
    HL_TRACE_PROBLEMS(PROBLEM_LINE)
#undef PROBLEM_LINE
    if (c.total)
        printf("  inconsistent: %" PRIu64 " illegal request%s (%" PRIu64 " of %" PRIu64 " request lines kept)\n",
               c.total, c.total == 1 ? "" : "s", t.nops, t.num_ops);
    else
        printf("  consistent\n");
    hl_trace_free(&t);
    return c.total ? 1 : 0;
}

int hl_cmd_check_trace(int argc, char **argv)
{
    enum { OPT_MAX = 256 };
    static const struct option longopts[] = {
        {"max-problems", required_argument, NULL, OPT_MAX},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t max_shown = 20;
    int c;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "h", longopts, "check-trace")) != -1) {
        switch (c) {
        case OPT_MAX:
            if (hl_parse_u64(optarg, UINT64_MAX, &max_shown) != 0) {
                hl_cli_error("check-trace", "--max-problems: '%s' is not a count", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind == argc) {
        hl_cli_error("check-trace", "no trace given (see 'heaplab check-trace --help')");
        return 2;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        fflush(stdout);
        int r = check_one(argv[i], max_shown);
        if (r > status)
            status = r;
    }
    return status;
}
