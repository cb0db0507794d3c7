/*
 * heaplab/policies.h - the registry of placement policies.
 *
 * Every built-in policy is one file in policies/ and one line in the
 * registry (policies/registry.c).  A policy is named on the command line as
 * NAME or NAME:key=value,... with the keys its table declares; a policy
 * of one's own is a plugin, named by its path (./my_policy.so[:key=value]).
 */
#ifndef HEAPLAB_POLICIES_H
#define HEAPLAB_POLICIES_H

#include <stddef.h>
#include <stdio.h>

#include "heaplab/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Built-in policies in registry order. */
size_t hl_policy_count(void);
const struct hl_policy *hl_policy_at(size_t i);
/* What finding a free block costs the i-th built-in policy, in the number
 * n of free blocks: "O(n)" (it scans a list), "O(log n)" or "O(1)"; NULL
 * past the end. */
const char *hl_policy_search_at(size_t i);
/* A built-in policy by name, or NULL. */
const struct hl_policy *hl_policy_lookup(const char *name);

/* A policy with its parameter values: what NAME:key=value,... names. */
struct hl_policy_spec {
    const struct hl_policy *policy;
    long params[HL_MAX_PARAMS];
    unsigned cache;  /* cache=N, which every policy takes: core's front cache (hl_config.cache) */
    char label[128]; /* the spec as given, for reports: "tlsf:sl=16" */
};

/* Parse "NAME[:key=value,...]".  Values are integers or, for a parameter
 * with choices, one of the choice names.  Unnamed parameters keep their
 * defaults.  Every policy also takes cache=N (0..HL_CACHE_MAX, default 0):
 * core's front cache, unless the policy declares a parameter of that name.  A NAME that contains '/' or ends in ".so" is a plugin's path
 * (hl_policy_load), with the parameters its table declares.  0, or -1 with
 * a one-line reason in err. */
int hl_policy_parse(const char *text, struct hl_policy_spec *out, char *err, size_t errlen);

/* Whether the first len bytes of a policy argument name a plugin: they
 * contain '/' or end in ".so". */
int hl_policy_is_path(const char *name, size_t len);

/* Load the policy plugin at `path` (policy.h says what a plugin is): its
 * table, checked for the ABI and for what core needs, or NULL with a
 * one-line reason in err that names the file.  A name without '/' is a
 * file in the current directory.  The plugin stays loaded until the
 * process exits. */
const struct hl_policy *hl_policy_load(const char *path, char *err, size_t errlen);

/* The spec of a policy with all parameters at their defaults. */
void hl_policy_spec_default(const struct hl_policy *p, struct hl_policy_spec *out);

/* `heaplab policies -v`: name, summary, and each parameter with its range and default. */
void hl_policy_describe(const struct hl_policy *p, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
