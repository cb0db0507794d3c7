/*
 * registry.c - the list of built-in policies and the NAME:key=value parser
 * (which hands a path to plugin.c).
 *
 * Adding a policy: one file in policies/ exporting
 *   const struct hl_policy *hl_policy_<name>(void);
 * and one line in HL_POLICY_LIST below.  Tests, replay rows and charts pick
 * it up from here.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "heaplab/policies.h"

/* X(name, search): the policy, and what finding a free block costs in the
 * number n of free blocks - "O(n)" for the policies that scan a list on
 * every malloc, which scripts/scaling and scripts/bench keep to the smaller
 * traces (heaplab policies --list prints it). */
#define HL_POLICY_LIST(X)                                                                          \
    X(first_fit, "O(n)")                                                                           \
    X(next_fit, "O(n)")                                                                            \
    X(best_fit, "O(n)")                                                                            \
    X(worst_fit, "O(n)")                                                                           \
    X(rbtree, "O(log n)")                                                                          \
    X(tlsf, "O(1)")                                                                                \
    X(buddy, "O(log n)")                                                                           \
    X(pool, "O(1)")                                                                                \
    X(pack, "O(log n)")                                                                            \
    /* one line per policy, above this line */

#define HL_DECLARE(name, search) const struct hl_policy *hl_policy_##name(void);
HL_POLICY_LIST(HL_DECLARE)
#undef HL_DECLARE

static const struct entry {
    const struct hl_policy *(*get)(void);
    const char *search; /* the cost of finding a free block */
} registry[] = {
#define HL_ENTRY(name, search) {hl_policy_##name, search},
    HL_POLICY_LIST(HL_ENTRY)
#undef HL_ENTRY
};

size_t hl_policy_count(void) { return sizeof registry / sizeof registry[0]; }

const struct hl_policy *hl_policy_at(size_t i) { return i < hl_policy_count() ? registry[i].get() : NULL; }

const char *hl_policy_search_at(size_t i) { return i < hl_policy_count() ? registry[i].search : NULL; }

const struct hl_policy *hl_policy_lookup(const char *name)
{
    for (size_t i = 0; i < hl_policy_count(); i++)
        if (strcmp(registry[i].get()->name, name) == 0)
            return registry[i].get();
    return NULL;
}

void hl_policy_spec_default(const struct hl_policy *p, struct hl_policy_spec *out)
{
    memset(out, 0, sizeof *out);
    out->policy = p;
    for (size_t i = 0; i < hl_policy_nparams(p); i++)
        out->params[i] = p->params[i].def;
    snprintf(out->label, sizeof out->label, "%s", p->name);
}

static int parse_value(const struct hl_param *pa, const char *v, size_t vlen, long *out)
{
    if (pa->choices) {
        for (long i = 0; pa->choices[i]; i++)
            if (strlen(pa->choices[i]) == vlen && strncmp(pa->choices[i], v, vlen) == 0) {
                *out = i;
                return 0;
            }
    }
    char buf[32];
    if (vlen == 0 || vlen >= sizeof buf)
        return -1;
    memcpy(buf, v, vlen);
    buf[vlen] = 0;
    char *end;
    errno = 0;
    long x = strtol(buf, &end, 0);
    if (errno || *end || x < pa->min || x > pa->max)
        return -1;
    *out = x;
    return 0;
}

/* cache=N: core's front cache, which every policy takes (core/cache.c) */
static const struct hl_param cache_param = {
    "cache", 0, 0, HL_CACHE_MAX, NULL,
    "front cache: freed blocks of up to 1 KiB kept per size, served before the policy (core; any policy)"};

int hl_policy_parse(const char *text, struct hl_policy_spec *out, char *err, size_t errlen)
{
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    if (colon && hl_policy_is_path(text, nlen)) {
        /* a plugin's parameters start at the first colon after its last
         * '/': a directory may have one in its name */
        const char *slash = strrchr(text, '/');
        if (slash && slash > colon) {
            colon = strchr(slash, ':');
            nlen = colon ? (size_t)(colon - text) : strlen(text);
        }
    }
    char name[4096];
    if (nlen == 0 || nlen >= sizeof name) {
        snprintf(err, errlen, "bad policy name '%s'", text);
        return -1;
    }
    memcpy(name, text, nlen);
    name[nlen] = 0;
    const struct hl_policy *p;
    if (hl_policy_is_path(name, nlen)) {
        if (!(p = hl_policy_load(name, err, errlen)))
            return -1;
    } else if (!(p = hl_policy_lookup(name))) {
        snprintf(err, errlen, "unknown policy '%s' (see 'heaplab policies'; a plugin is named by its "
                              "path, ./my_policy.so)",
                 name);
        return -1;
    }
    hl_policy_spec_default(p, out);
    snprintf(out->label, sizeof out->label, "%s", text);
    if (!colon)
        return 0;
    const char *s = colon + 1;
    size_t np = hl_policy_nparams(p);
    unsigned char seen[HL_MAX_PARAMS + 1] = {0}; /* the last: cache */
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (!eq) {
            snprintf(err, errlen, "%s: expected key=value, got '%.*s'", p->name, (int)len, s);
            return -1;
        }
        size_t klen = (size_t)(eq - s);
        size_t i;
        for (i = 0; i < np; i++)
            if (strlen(p->params[i].name) == klen && strncmp(p->params[i].name, s, klen) == 0)
                break;
        if (i < np || (klen == 5 && strncmp(s, "cache", 5) == 0)) { /* tlsf:sl=16,sl=8: which one? */
            unsigned char *once = &seen[i < np ? i : HL_MAX_PARAMS];
            if (*once) {
                snprintf(err, errlen, "%s: %.*s is given twice", p->name, (int)klen, s);
                return -1;
            }
            *once = 1;
        }
        if (i == np && klen == 5 && strncmp(s, "cache", 5) == 0) {
            long v;
            if (parse_value(&cache_param, eq + 1, len - klen - 1, &v) != 0) {
                snprintf(err, errlen, "%s: cache must be an integer in [0, %u]", p->name, HL_CACHE_MAX);
                return -1;
            }
            out->cache = (unsigned)v;
            s += len + (comma ? 1 : 0);
            continue;
        }
        if (i == np) {
            snprintf(err, errlen, "%s has no parameter '%.*s' (see 'heaplab policies -v')", p->name, (int)klen,
                     s);
            return -1;
        }
        const struct hl_param *pa = &p->params[i];
        if (parse_value(pa, eq + 1, len - klen - 1, &out->params[i]) != 0) {
            if (pa->choices) {
                char names[128] = "";
                for (size_t k = 0; pa->choices[k]; k++)
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "|" : "",
                             pa->choices[k]);
                snprintf(err, errlen, "%s: %s must be one of %s", p->name, pa->name, names);
            } else {
                snprintf(err, errlen, "%s: %s must be an integer in [%ld, %ld]", p->name, pa->name, pa->min,
                         pa->max);
            }
            return -1;
        }
        s += len + (comma ? 1 : 0);
    }
    return 0;
}

static void describe_param(const struct hl_param *pa, FILE *out)
{
    if (pa->choices) {
        fprintf(out, "  %s=", pa->name);
        for (size_t k = 0; pa->choices[k]; k++)
            fprintf(out, "%s%s", k ? "|" : "", pa->choices[k]);
        fprintf(out, " (default %s)  %s\n", pa->choices[pa->def], pa->help ? pa->help : "");
    } else {
        fprintf(out, "  %s=%ld..%ld (default %ld)  %s\n", pa->name, pa->min, pa->max, pa->def,
                pa->help ? pa->help : "");
    }
}

void hl_policy_describe(const struct hl_policy *p, FILE *out)
{
    fprintf(out, "%-12s %s\n", p->name, p->summary ? p->summary : "");
    for (size_t i = 0; i < hl_policy_nparams(p); i++)
        describe_param(&p->params[i], out);
    describe_param(&cache_param, out);
}
