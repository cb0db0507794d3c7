/*
 * fuzz_replay.c - libFuzzer target: a trace the parser accepts replays
 * under every policy, the heap checker after every operation (make fuzz).
 *
 * Any row that fails for another reason than running out of memory is a
 * finding: an integrity error (overlap, lost bytes, a misaligned block), a
 * checker violation, or a sanitizer's report from inside a policy.  Traces
 * are kept small (requests of at most 1 MiB, 4096 operations) so that the
 * fuzzer spends its time on shapes, not on filling large blocks.  The
 * input's length picks the preset (linux: mmap path and trimming;
 * malloclab: 8-byte alignment, no mmap path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/policies.h"
#include "replay.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hl_trace t;
    char err[256];
    if (hl_trace_parse("fuzz", (const char *)data, size, NULL, &t, err, sizeof err) != 0)
        return 0;
    int small = t.nops <= 4096;
    for (uint64_t i = 0; small && i < t.nops; i++)
        small = t.ops[i].size <= (1u << 20);
    if (!small) {
        hl_trace_free(&t);
        return -1; /* not worth keeping in the corpus */
    }
    struct hl_replay_config cfg;
    hl_replay_preset(&cfg, size & 1 ? "malloclab" : "linux");
    cfg.check_every = 1;
    for (size_t i = 0; i < hl_policy_count(); i++) {
        struct hl_policy_spec spec;
        hl_policy_spec_default(hl_policy_at(i), &spec);
        struct hl_result r;
        hl_replay_begin(&t, spec.label, &cfg, &r);
        if (hl_replay_measure(&t, &spec, &cfg, &r) != 0 && strncmp(r.status, "out of memory", 13) != 0) {
            fprintf(stderr, "fuzz_replay: %s: %s\n", spec.label, r.status);
            abort();
        }
    }
    hl_trace_free(&t);
    return 0;
}
