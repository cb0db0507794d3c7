/*
 * options.h - the drop-in malloc's options: one table (heaplab/preload.h's
 * list), read from the environment once, at start-up.
 */
#ifndef HEAPLAB_PRELOAD_OPTIONS_H
#define HEAPLAB_PRELOAD_OPTIONS_H

#include <stdint.h>

#include "heaplab/policies.h"
#include "heaplab/preload.h"

enum hl_option_id {
#define HL_OPTION_ID(id, kind, def, choices, help) HL_OPT_##id,
    HL_PRELOAD_OPTIONS(HL_OPTION_ID)
#undef HL_OPTION_ID
    HL_OPT_COUNT
};

struct hl_option {
    const char *name;         /* the environment variable */
    enum hl_option_kind kind; /* how its value is read */
    const char *def;          /* the default, as it would be written; NULL: unset */
    const char *choices;      /* an enum's values, '|'-separated; the value is the index */
    const char *help;         /* one line */
};

/* The table, in heaplab/preload.h's order. */
extern const struct hl_option hl_option_table[HL_OPT_COUNT];

struct hl_option_value {
    int set;         /* given in the environment, not a default */
    uint64_t num;    /* a size, a count, an enum's index */
    const char *str; /* a path (a copy), or the policy as written */
};

struct hl_options {
    struct hl_option_value v[HL_OPT_COUNT];
    struct hl_policy_spec policy; /* HEAPLAB_POLICY, parsed */
};

/* Read every option from the environment, defaults for those unset.  A
 * malformed value is one line on stderr - "heaplab: NAME=VALUE: what is
 * wrong (valid: ...)" - written with write(2), then _exit(2): this runs
 * before the program's main, possibly inside its first malloc, so neither
 * stdio nor the allocator may be used.  Call once. */
void hl_options_load(struct hl_options *o);

/* Write "heaplab: what\n" on stderr with write(2), then _exit(2). */
_Noreturn void hl_options_fail(const char *what);

#endif
