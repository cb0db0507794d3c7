/*
 * cmd_selftest.c - heaplab selftest: the conformance checks on one policy.
 *
 * The checks are the ones the Check suite runs on every built-in policy
 * (conformance.h), each in a process of its own: a policy that crashes or
 * hangs fails that check and the run goes on.  Built for a policy of one's
 * own - `heaplab selftest -p ./my_policy.so` - but any policy spec works.
 *
 * Exit status: 0 when every check passed, 1 when one failed, 2 for bad
 * usage or a policy that does not load.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "conformance.h"
#include "heaplab/policies.h"
#include "out.h"
#include "util.h"

static const char usage_text[] =
    "usage: heaplab selftest -p POLICY [options] [CHECK|GROUP...]\n"
    "\n"
    "Run the conformance checks every built-in policy passes on POLICY: a\n"
    "built-in one, NAME[:key=value,...], or a plugin, ./my_policy.so[:key=value,...].\n"
    "Each check runs in a process of its own; one line per check, then a summary.\n"
    "\n"
    "options:\n"
    "  -p, --policy SPEC   the policy (repeatable; 'all' = every built-in one)\n"
    "  -l, --list          list the checks with their groups, and exit\n"
    "  -v, --verbose       show what a failing check wrote on stderr\n"
    "      --timeout SEC   seconds each check may take (default: the check's own, 60..600)\n"
    "  CHECK|GROUP         run only these checks, or the checks of these groups\n";

enum { OPT_TIMEOUT = 256 };

/* Up to `max_lines` lines of a failing check's stderr, indented. */
static void show_output(const char *out, int max_lines)
{
    int lines = 0;
    while (*out && lines < max_lines) {
        const char *nl = strchr(out, '\n');
        int len = nl ? (int)(nl - out) : (int)strlen(out);
        printf("    %.*s\n", len, out);
        lines++;
        out += len + (nl ? 1 : 0);
    }
    if (*out)
        printf("    ...\n");
}

static int selected(const struct hl_conformance_check *c, char **names, int n)
{
    if (n == 0)
        return 1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], c->name) == 0 || strcmp(names[i], c->group) == 0)
            return 1;
    return 0;
}

/* One policy: a line per check, the summary; the number of failures. */
static size_t run_policy(const struct hl_policy_spec *spec, char **names, int nnames, unsigned timeout,
                         int verbose)
{
    const struct hl_policy *p = spec->policy;
    const char *sep = p->summary && *p->summary ? ": " : "", *summary = *sep ? p->summary : "";
    if (strncmp(spec->label, p->name, strlen(p->name)) == 0)
        printf("selftest %s%s%s\n", spec->label, sep, summary);
    else
        printf("selftest %s (%s)%s%s\n", spec->label, p->name, sep, summary);
    hl_out_flush(stdout);
    size_t run = 0, failed = 0;
    struct hl_conformance_result *r = malloc(sizeof *r);
    if (!r) {
        fprintf(stderr, "heaplab: %s\n", strerror(ENOMEM));
        return 1;
    }
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        const struct hl_conformance_check *c = hl_conformance_at(i);
        if (!selected(c, names, nnames))
            continue;
        run++;
        if (hl_conformance_run(c, spec, timeout, r) == 0) {
            printf("ok   %s\n", c->name);
        } else {
            failed++;
            printf("FAIL %s: %s\n", c->name, r->message);
            if (verbose)
                show_output(r->output, 40);
        }
        hl_out_flush(stdout);
    }
    free(r);
    if (failed)
        printf("%s: %zu of %zu checks failed\n", spec->label, failed, run);
    else
        printf("%s: all %zu checks passed\n", spec->label, run);
    return failed;
}

int hl_cmd_selftest(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'}, {"list", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},      {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct hl_policy_spec *specs = calloc(hl_policy_count() + (size_t)argc, sizeof *specs);
    size_t nspecs = 0;
    unsigned timeout = 0;
    int verbose = 0, list = 0, c, rc = 0;
    if (!specs) {
        fprintf(stderr, "heaplab: %s\n", strerror(ENOMEM));
        return 2;
    }
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "p:lvh", longopts, "selftest")) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "all") == 0) {
                for (size_t i = 0; i < hl_policy_count(); i++)
                    hl_policy_spec_default(hl_policy_at(i), &specs[nspecs++]);
            } else if (hl_cli_policy("selftest", optarg, &specs[nspecs]) == 0 &&
                       hl_cli_policy_check("selftest", &specs[nspecs], 0) == 0) {
                nspecs++;
            } else {
                rc = 2;
                goto out;
            }
            break;
        case 'l':
            list = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case OPT_TIMEOUT: {
            uint64_t v;
            if (hl_parse_u64(optarg, 86400, &v) || v == 0) {
                fprintf(stderr, "heaplab: --timeout: expected seconds, 1..86400, got '%s'\n", optarg);
                rc = 2;
                goto out;
            }
            timeout = (unsigned)v;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            goto out;
        default: /* hl_cli_getopt said what is wrong */
            rc = 2;
            goto out;
        }
    }
    char **names = argv + optind;
    int nnames = argc - optind;
    for (int i = 0; i < nnames; i++) {
        int known = 0;
        for (size_t k = 0; k < hl_conformance_count() && !known; k++)
            known = selected(hl_conformance_at(k), &names[i], 1);
        if (!known) {
            fprintf(stderr, "heaplab: selftest: no check or group '%s' (see 'heaplab selftest --list')\n",
                    names[i]);
            rc = 2;
            goto out;
        }
    }
    if (list) {
        for (size_t k = 0; k < hl_conformance_count(); k++) {
            const struct hl_conformance_check *ch = hl_conformance_at(k);
            if (selected(ch, names, nnames))
                printf("%-11s %s\n", ch->group, ch->name);
        }
        goto out;
    }
    if (nspecs == 0) {
        fputs("heaplab: selftest: which policy? (-p NAME or -p ./my_policy.so; see 'heaplab selftest --help')\n",
              stderr);
        rc = 2;
        goto out;
    }
    size_t failed = 0;
    for (size_t i = 0; i < nspecs; i++)
        failed += run_policy(&specs[i], names, nnames, timeout, verbose);
    rc = failed ? 1 : 0;
out:
    free(specs);
    return rc;
}
