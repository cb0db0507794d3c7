/*
 * options.c - the drop-in malloc's options table, read from the environment
 * once at start-up (after mimalloc's src/options.c: one table, every option
 * with its name, kind, default and help).
 *
 * This runs before the program's main, maybe inside its first malloc: it
 * reads the environment with getenv, parses with lib's text.c, and reports
 * with write(2) - nothing here may allocate or use stdio.  A policy named by
 * a path (a plugin) is refused: loading it means dlopen, which allocates
 * through the very heap that is being set up.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "text.h"

const struct hl_option hl_option_table[HL_OPT_COUNT] = {
#define HL_OPTION_ENTRY(id, kind, def, choices, help) {"HEAPLAB_" #id, kind, def, choices, help},
    HL_PRELOAD_OPTIONS(HL_OPTION_ENTRY)
#undef HL_OPTION_ENTRY
};

/* the largest size an option takes: far past any request core serves */
#define SIZE_MAX_OPTION ((uint64_t)1 << 62)

/* copies of the path options: the environment may change under the program */
static char path_copy[HL_OPT_COUNT][4096];

_Noreturn void hl_options_fail(const char *what)
{
    char line[2048];
    size_t n = 0;
    hl_msg_put(line, sizeof line, &n, "heaplab: ");
    hl_msg_put(line, sizeof line, &n, what);
    if (n + 2 >= sizeof line)
        n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
    _exit(2);
}

/* "NAME=VALUE: what (valid: ...)" and exit. */
static _Noreturn void bad_value(const struct hl_option *opt, const char *value, const char *what,
                                const char *valid)
{
    char msg[1800];
    size_t n = 0;
    hl_msg_put(msg, sizeof msg, &n, opt->name);
    hl_msg_put(msg, sizeof msg, &n, "=");
    hl_msg_put(msg, sizeof msg, &n, value);
    hl_msg_put(msg, sizeof msg, &n, ": ");
    hl_msg_put(msg, sizeof msg, &n, what);
    if (valid) {
        hl_msg_put(msg, sizeof msg, &n, " (valid: ");
        hl_msg_put(msg, sizeof msg, &n, valid);
        hl_msg_put(msg, sizeof msg, &n, ")");
    }
    hl_options_fail(msg);
}

/* The built-in policies, "first-fit, next-fit, ...". */
static const char *policy_names(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < hl_policy_count(); i++) {
        hl_msg_put(buf, cap, &n, i ? ", " : "");
        hl_msg_put(buf, cap, &n, hl_policy_at(i)->name);
    }
    return buf;
}

static void load_policy(const struct hl_option *opt, const char *value, struct hl_policy_spec *out)
{
    char names[512], err[512];
    size_t nlen = strcspn(value, ":");
    if (hl_policy_is_path(value, strlen(value)) || hl_policy_is_path(value, nlen))
        bad_value(opt, value, "a plugin cannot be preloaded (loading it would allocate from the heap being made)",
                  policy_names(names, sizeof names));
    char name[64];
    if (nlen >= sizeof name)
        bad_value(opt, value, "unknown policy", policy_names(names, sizeof names));
    memcpy(name, value, nlen);
    name[nlen] = 0;
    if (!hl_policy_lookup(name))
        bad_value(opt, value, "unknown policy", policy_names(names, sizeof names));
    if (hl_policy_parse(value, out, err, sizeof err) != 0)
        bad_value(opt, value, err, NULL);
}

/* The index of value among the '|'-separated choices, or -1. */
static long choice_index(const char *choices, const char *value)
{
    size_t vlen = strlen(value);
    long i = 0;
    for (const char *c = choices; *c; i++) {
        size_t len = strcspn(c, "|");
        if (len == vlen && strncmp(c, value, len) == 0)
            return i;
        c += len + (c[len] == '|');
    }
    return -1;
}

/* "0, 1, json" from "0|1|json". */
static const char *choice_list(const char *choices, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *c = choices; *c && n + 3 < cap; c++) {
        if (*c == '|') {
            hl_msg_put(buf, cap, &n, ", ");
        } else {
            buf[n++] = *c;
            buf[n] = 0;
        }
    }
    return buf;
}

static void load_one(struct hl_options *o, enum hl_option_id id)
{
    const struct hl_option *opt = &hl_option_table[id];
    struct hl_option_value *v = &o->v[id];
    const char *value = getenv(opt->name);
    v->set = value && *value;
    if (!v->set) {
        value = opt->def;
        if (!value)
            return;
    }
    char buf[256];
    switch (opt->kind) {
    case HL_OPTION_POLICY:
        load_policy(opt, value, &o->policy);
        v->str = o->policy.label;
        break;
    case HL_OPTION_SIZE:
        if (hl_parse_size(value, SIZE_MAX_OPTION, &v->num) != 0)
            bad_value(opt, value, "expected a size in bytes (k, m, g allowed)", NULL);
        break;
    case HL_OPTION_COUNT:
        if (hl_parse_u64(value, UINT64_MAX, &v->num) != 0)
            bad_value(opt, value, "expected a count (0: never)", NULL);
        break;
    case HL_OPTION_ENUM: {
        long i = choice_index(opt->choices, value);
        if (i < 0) {
            buf[0] = 0;
            bad_value(opt, value, "not a valid choice", choice_list(opt->choices, buf, sizeof buf));
        }
        v->num = (uint64_t)i;
        break;
    }
    case HL_OPTION_PATH:
        if (strlen(value) >= sizeof path_copy[id])
            bad_value(opt, "...", "path too long", NULL);
        strcpy(path_copy[id], value);
        v->str = path_copy[id];
        break;
    }
}

void hl_options_load(struct hl_options *o)
{
    memset(o, 0, sizeof *o);
    for (int id = 0; id < HL_OPT_COUNT; id++)
        load_one(o, (enum hl_option_id)id);
}
