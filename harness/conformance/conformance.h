/*
 * conformance.h - what every policy must do, as a table of named checks
 * that run against any policy spec, plugins included.
 *
 * tests/check_conformance.c runs every check on every built-in policy
 * (Check), and `heaplab selftest -p POLICY` runs them on one policy: the
 * same checks through the same runner, so a policy of one's own is held to
 * exactly what the built-in ones pass.
 */
#ifndef HEAPLAB_CONFORMANCE_H
#define HEAPLAB_CONFORMANCE_H

#include <stddef.h>

#include "heaplab/policies.h"

struct hl_conformance_check {
    const char *name;                             /* e.g. "realloc_keeps_content" */
    const char *group;                            /* contract, mmap, exhaustion, stress, misuse, sbrk, heaps, threads */
    void (*run)(const struct hl_policy_spec *spec); /* the check; returns only when it passed */
    int must_abort;   /* a misuse check: passes only when heaplab diagnoses it and aborts */
    unsigned timeout; /* seconds the check may take (sanitizer builds included) */
};

/* The checks, in the order they run. */
size_t hl_conformance_count(void);
const struct hl_conformance_check *hl_conformance_at(size_t i);
/* A check by name, or NULL. */
const struct hl_conformance_check *hl_conformance_lookup(const char *name);

struct hl_conformance_result {
    int ok;
    char message[640]; /* why it failed: "cf_contract.c:123: what", "crashed by signal 11 (...)", ... */
    char output[4096]; /* the start of what the check wrote on stderr (heap check reports, ...) */
};

/*
 * Run check c on spec's policy in a forked child: a check that fails an
 * assertion, crashes, or runs past `timeout` seconds (0: c->timeout) fails
 * that check and nothing else.  The child's stderr is captured into
 * r->output.  0 when the check passed, 1 when it failed (r->message says
 * why).
 */
int hl_conformance_run(const struct hl_conformance_check *c, const struct hl_policy_spec *spec, unsigned timeout,
                       struct hl_conformance_result *r);

#endif
