/*
 * policy-loops.c - a policy plugin whose find never returns, for the input
 * suite: a row under it must fail after --row-timeout seconds instead of
 * hanging the replay.
 */
#include "heaplab/policy.h"

static void loops_insert(void *st, hl_block *b)
{
    (void)st;
    (void)b;
}

static void loops_remove(void *st, hl_block *b)
{
    (void)st;
    (void)b;
}

static hl_block *loops_find(void *st, size_t size)
{
    (void)st;
    (void)size;
    for (volatile unsigned long spins = 0;; spins++)
        ;
    return NULL;
}

static int loops_check(hl_heap *h, void *st, struct hl_check *c)
{
    (void)h;
    (void)st;
    return c->violations;
}

static const struct hl_policy loops_policy = {
    .abi = HL_POLICY_ABI,
    .name = "loops",
    .summary = "a find that never returns (tests only)",
    .state_size = 8,
    .insert = loops_insert,
    .remove = loops_remove,
    .find = loops_find,
    .check = loops_check,
};

const struct hl_policy *hl_policy_entry(void) { return &loops_policy; }
