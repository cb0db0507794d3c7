/*
 * cli.c - messages, options and policy specs the subcommands share (cli.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "heaplab/heap.h"
#include "heaplab/policy.h"
#include "util.h"

#include "version.h" /* generated: VERSION and the commit */
const char hl_version[] = HEAPLAB_VERSION;

void hl_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("heaplab: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The long option nearest to text (without its dashes and value). */
static const char *near_option(const char *text, const struct option *longopts)
{
    size_t n = 0;
    while (longopts[n].name)
        n++;
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++)
        names[i] = longopts[i].name;
    const char *near = hl_suggest(text, names, n);
    free(names);
    return near;
}

int hl_cli_getopt(int argc, char *argv[], const char *shortopts, const struct option *longopts, const char *cmd)
{
    char spec[64];
    const char *opts = shortopts[0] == ':' ? shortopts + 1 : shortopts;
    if (opts[0] == '+') /* getopt wants the '+' before the ':' */
        snprintf(spec, sizeof spec, "+:%s", opts + 1);
    else
        snprintf(spec, sizeof spec, ":%s", opts);
    int saved = opterr;
    opterr = 0; /* the messages are ours */
    int prev = optind ? optind : 1;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    opterr = saved;
    if (c != '?' && c != ':')
        return c;
    /* the argument that went wrong: getopt has moved past it */
    const char *arg = optind - 1 >= prev && optind - 1 < argc ? argv[optind - 1] : argv[prev < argc ? prev : argc - 1];
    if (c == ':') {
        if (arg[0] == '-' && arg[1] == '-')
            hl_cli_error(cmd, "option '%s' needs a value (see 'heaplab %s --help')", arg, cmd);
        else
            hl_cli_error(cmd, "option '-%c' needs a value (see 'heaplab %s --help')", optopt, cmd);
        return '?';
    }
    if (optopt && !(arg[0] == '-' && arg[1] == '-')) {
        hl_cli_error(cmd, "unknown option '-%c' (see 'heaplab %s --help')", optopt, cmd);
        return '?';
    }
    /* a long option: unknown, ambiguous, or given a value it does not take */
    char name[64];
    const char *s = arg[0] == '-' && arg[1] == '-' ? arg + 2 : arg;
    size_t len = strcspn(s, "=");
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), s);
    size_t matches = 0;
    const struct option *exact = NULL;
    for (const struct option *o = longopts; o->name; o++) {
        if (strcmp(o->name, name) == 0)
            exact = o;
        else if (strncmp(o->name, name, strlen(name)) == 0)
            matches++;
    }
    const char *near;
    if (exact && s[len] == '=')
        hl_cli_error(cmd, "option '--%s' takes no value (see 'heaplab %s --help')", name, cmd);
    else if (!exact && matches > 1)
        hl_cli_error(cmd, "option '--%s' is ambiguous (see 'heaplab %s --help')", name, cmd);
    else if ((near = near_option(name, longopts)) != NULL)
        hl_cli_error(cmd, "unknown option '--%s' (did you mean '--%s'? see 'heaplab %s --help')", name, near, cmd);
    else
        hl_cli_error(cmd, "unknown option '--%s' (see 'heaplab %s --help')", name, cmd);
    return '?';
}

/* The registry name nearest to name, or NULL. */
static const char *near_policy(const char *name)
{
    size_t n = hl_policy_count();
    const char *names[64];
    if (n > sizeof names / sizeof names[0])
        n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++)
        names[i] = hl_policy_at(i)->name;
    return hl_suggest(name, names, n);
}

/* " sl: second-level classes ...; cache: ..." for the parameters text sets. */
static void param_help(const struct hl_policy *p, const char *params, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; p->params && p->params[i].name; i++) {
        const struct hl_param *pa = &p->params[i];
        size_t nl = strlen(pa->name);
        for (const char *s = params; s && *s; s = strchr(s, ','), s = s ? s + 1 : NULL)
            if (strncmp(s, pa->name, nl) == 0 && s[nl] == '=') {
                hl_msg_put(out, len, &k, k ? "; " : "");
                hl_msg_put(out, len, &k, pa->name);
                hl_msg_put(out, len, &k, ": ");
                hl_msg_put(out, len, &k, pa->help ? pa->help : "see 'heaplab policies -v'");
                break;
            }
    }
}

int hl_cli_policy(const char *cmd, const char *text, struct hl_policy_spec *out)
{
    char err[4352];
    if (strcmp(text, "mm") == 0 || strncmp(text, "mm:", 3) == 0) {
        hl_cli_error(cmd, "'%s': a malloc-lab solution is named -p mm:FILE (an mm.c or a built .so)%s", text,
                     strcmp(cmd, "replay") == 0 ? "" : "; selftest takes policies, not lab solutions");
        return 2;
    }
    if (hl_policy_parse(text, out, err, sizeof err) != 0) {
        size_t nlen = strcspn(text, ":");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(nlen < sizeof name ? nlen : sizeof name - 1), text);
        const char *near = hl_policy_is_path(text, strlen(text)) ? NULL : near_policy(name);
        if (near && !hl_policy_lookup(name))
            hl_cli_error(cmd, "unknown policy '%s' (did you mean '%s'? see 'heaplab policies')", name, near);
        else
            hl_cli_error(cmd, "%s", err);
        return 2;
    }
    return 0;
}

int hl_cli_policy_check(const char *cmd, const struct hl_policy_spec *spec, size_t align)
{
    struct hl_config hc;
    hl_config_default(&hc, spec->policy);
    hc.policy_params = spec->params;
    if (align)
        hc.align = align;
    /* the heap a row gets (the default region), and a first request: a
     * configuration the policy accepts but that cannot serve anything
     * (buddy:max=30, an arena as large as the whole region) would fail
     * every row.  Not a plugin's: its code may never return, and only a
     * row's child has a time limit. */
    hl_heap *probe = hl_heap_create(&hc);
    int builtin = hl_policy_lookup(spec->policy->name) == spec->policy;
    void *p = probe && builtin ? hl_malloc(probe, 1) : probe;
    if (!p) {
        int e = errno;
        const char *text = spec->label;
        const char *slash = strrchr(text, '/');
        const char *colon = strchr(slash ? slash : text, ':');
        char help[512];
        param_help(spec->policy, colon ? colon + 1 : NULL, help, sizeof help);
        if (probe)
            hl_cli_error(cmd, "%s: %s cannot serve a request in this configuration (malloc(1): %s)%s%s", text,
                         spec->policy->name, strerror(e), help[0] ? "; " : "", help);
        else
            hl_cli_error(cmd, "%s: %s refuses this configuration (%s)%s%s", text, spec->policy->name, strerror(e),
                         help[0] ? "; " : "", help);
        if (probe)
            hl_heap_destroy(probe);
        return 2;
    }
    if (builtin)
        hl_free(probe, p);
    hl_heap_destroy(probe);
    return 0;
}

int hl_cli_find_library(const char *cmd, const char *env_name, const char *name, char *buf, size_t len)
{
    const char *env = getenv(env_name);
    char path[PATH_MAX];
    if (env && *env) {
        if (!realpath(env, path) || access(path, R_OK) != 0) {
            hl_cli_error(cmd, "%s=%s: %s", env_name, env, strerror(errno));
            return 2;
        }
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n < 0) {
            hl_cli_error(cmd, "cannot find the heaplab binary (/proc/self/exe: %s); set %s", strerror(errno),
                         env_name);
            return 2;
        }
        path[n] = 0;
        char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) + 1 + strlen(name) + 1 > sizeof path) {
            hl_cli_error(cmd, "%s: path too long; set %s", path, env_name);
            return 2;
        }
        strcpy(slash + 1, name);
        if (access(path, R_OK) != 0) {
            hl_cli_error(cmd, "%s: %s (make builds it; %s names another)", path, strerror(errno), env_name);
            return 2;
        }
    }
    if (strlen(path) >= len || strpbrk(path, ": ")) {
        hl_cli_error(cmd, "%s: LD_PRELOAD cannot carry this path (too long, or a ':' or ' ' in it)", path);
        return 2;
    }
    strcpy(buf, path);
    return 0;
}

int hl_cli_set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old)
        return setenv("LD_PRELOAD", lib, 1);
    size_t len = strlen(lib);
    for (const char *s = old; *s;) {
        size_t n = strcspn(s, ": ");
        if (n == len && strncmp(s, lib, len) == 0)
            return 0; /* a heaplab run inside a heaplab run */
        s += n + (s[n] != 0);
    }
    char *both = malloc(len + 1 + strlen(old) + 1);
    if (!both)
        return -1;
    sprintf(both, "%s:%s", lib, old);
    int rc = setenv("LD_PRELOAD", both, 1);
    free(both);
    return rc;
}
