/*
 * replay-system.c - the timed passes of `heaplab replay --baseline glibc`,
 * in this process, for profilers.
 *
 * usage: replay-system TRACE [REPEAT]
 *
 * A baseline row runs in a child that heaplab starts by re-executing
 * /proc/self/exe; valgrind cannot follow that exec (it resolves the path to
 * its own tool), so callgrind never sees glibc's timed pass there.  This
 * program loads the trace with heaplab's parser and calls the very function
 * the baseline child calls, hl_replay_time_alloc over hl_alloc_system: the
 * untimed warm-up pass, REPEAT timed passes (default 1) and the latency
 * pass, each timed pass in pass_system (harness/replay/replay.c).  `make bench`
 * runs it under valgrind --tool=callgrind --toggle-collect=pass_system and
 * counts the instructions of one timed pass.  It prints "ops N ops_per_sec X"
 * (the rate means little under valgrind).  Exit status 2 on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "trace.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fputs("usage: replay-system TRACE [REPEAT]\n", stderr);
        return 2;
    }
    unsigned repeat = 1;
    if (argc == 3) {
        char *end;
        unsigned long v = strtoul(argv[2], &end, 10);
        if (*end || end == argv[2] || v < 1 || v > 1000) {
            fprintf(stderr, "replay-system: REPEAT must be 1 to 1000, not '%s'\n", argv[2]);
            return 2;
        }
        repeat = (unsigned)v;
    }
    struct hl_trace_opts topts = {.dialect = HL_DIALECT_AUTO};
    struct hl_trace t;
    char err[512];
    if (hl_trace_load(argv[1], &topts, &t, err, sizeof err) != 0) {
        fprintf(stderr, "replay-system: %s\n", err);
        return 2;
    }
    struct hl_replay_config cfg;
    hl_replay_preset(&cfg, "linux"); /* only repeat matters to the system's malloc */
    cfg.repeat = repeat;
    struct hl_alloc a;
    hl_alloc_system(&a);
    struct hl_result r;
    hl_result_init(&r);
    int rc = hl_replay_time_alloc(&t, &a, &cfg, &r);
    if (rc == 0)
        printf("ops %llu ops_per_sec %.6g\n", (unsigned long long)t.nops, r.ops_per_sec);
    else
        fprintf(stderr, "replay-system: %s: %s\n", argv[1], r.status);
    hl_trace_free(&t);
    return rc ? 1 : 0;
}
