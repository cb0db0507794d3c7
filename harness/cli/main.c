/*
 * main.c - the heaplab command: one subcommand per file, listed here.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "cli.h"
#include "commands.h"
#include "heaplab/policies.h"
#include "heaplab/policy.h"
#include "out.h"
#include "util.h"

static const char policies_usage[] =
    "usage: heaplab policies [-v|--list] [POLICY|./plugin.so...]\n"
    "\n"
    "The placement policies, in the registry's order (the order of charts and\n"
    "tables).  With names: only those, and a plugin by its path.\n"
    "\n"
    "options:\n"
    "  -v, --verbose   each policy's summary and parameters (NAME:key=value,...)\n"
    "      --list      NAME<TAB>SEARCH a line, SEARCH what finding a free block costs\n"
    "  -h, --help      this help\n";

/* What finding a free block costs under p ("?" for a plugin). */
static const char *search_of(const struct hl_policy *p)
{
    for (size_t i = 0; i < hl_policy_count(); i++)
        if (hl_policy_at(i) == p)
            return hl_policy_search_at(i);
    return "?";
}

/* heaplab policies [-v | --list] [NAME...]: the registry, in its order.
 * --list is for scripts: NAME<TAB>SEARCH a line, SEARCH what finding a
 * free block costs ("O(n)" for the list policies; hl_policy_search_at). */
static int cmd_policies(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int verbose = 0, list = 0, c;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "vh", longopts, "policies")) != -1) {
        switch (c) {
        case 'v':
            verbose = 1;
            break;
        case 'l':
            list = 1;
            break;
        case 'h':
            fputs(policies_usage, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (verbose && list) {
        hl_cli_error("policies", "-v and --list do not go together");
        return 2;
    }
    if (optind < argc) {
        /* named ones: each must exist before anything is printed */
        struct hl_policy_spec *spec = calloc((size_t)(argc - optind), sizeof *spec);
        if (!spec)
            return 2;
        for (int i = optind; i < argc; i++)
            if (hl_cli_policy("policies", argv[i], &spec[i - optind]) != 0) {
                free(spec);
                return 2;
            }
        for (int i = optind; i < argc; i++) {
            const struct hl_policy *p = spec[i - optind].policy;
            if (verbose)
                hl_policy_describe(p, stdout);
            else if (list)
                printf("%s\t%s\n", p->name, search_of(p));
            else
                puts(p->name);
        }
        free(spec);
        return 0;
    }
    for (size_t i = 0; i < hl_policy_count(); i++) {
        if (verbose)
            hl_policy_describe(hl_policy_at(i), stdout);
        else if (list)
            printf("%s\t%s\n", hl_policy_at(i)->name, hl_policy_search_at(i));
        else
            puts(hl_policy_at(i)->name);
    }
    return 0;
}

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* NULL: not listed (internal) */
} commands[] = {
    {"policies", cmd_policies, "heaplab policies [-v|--list] [NAME]  list the policies (-v: parameters, --list: search cost)"},
    {"replay", hl_cmd_replay, "heaplab replay [options] TRACE...   replay traces under policies (replay --help)"},
    {"gen", hl_cmd_gen, "heaplab gen PATTERN [options]       write a synthetic trace (gen --help)"},
    {"layout", hl_cmd_layout, "heaplab layout [--overcommit]       where things live; what malloc does past RAM"},
    {"__baseline", hl_cmd_baseline, NULL},
    {"plot", hl_cmd_plot, "heaplab plot KIND CSV... -o OUT     draw a chart from heaplab's CSVs (plot --help)"},
    {"selftest", hl_cmd_selftest, "heaplab selftest -p POLICY          run the conformance checks on a policy or plugin"},
    {"run", hl_cmd_run, "heaplab run [-p POLICY] COMMAND     run a program with heaplab's malloc (run --help)"},
    {"record", hl_cmd_record, "heaplab record -o OUT.rep COMMAND   record a program's allocation trace (record --help)"},
    {"import", hl_cmd_import, "heaplab import -f FMT LOG -o OUT    a trace from an mtrace, ltrace or heaptrack log"},
    {"check-trace", hl_cmd_check_trace, "heaplab check-trace TRACE...        ops, ids, peak live bytes; illegal requests"},
    {"sweep", hl_cmd_sweep, "heaplab sweep plan|list|run|local|emit\n                                      a grid of replays in cells, on one or many machines"},
    {"merge", hl_cmd_merge, "heaplab merge RESULTS -o OUT.csv    a sweep's results as one CSV (merge --help)"},
};

static void usage(FILE *out)
{
    fputs("usage: heaplab COMMAND [ARGS]   (heaplab COMMAND --help: its options)\n\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].usage)
            fprintf(out, "  %s\n", commands[i].usage);
    fputs("  heaplab --version                   the version\n", out);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("heaplab %s\n", hl_version);
        return 0;
    }
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
        names[i] = commands[i].usage ? commands[i].name : NULL;
    }
    const char *near = hl_suggest(argv[1], names, sizeof names / sizeof names[0]);
    if (argv[1][0] == '-')
        hl_cli_error(NULL, "unknown option '%s' (see 'heaplab --help')", argv[1]);
    else if (near)
        hl_cli_error(NULL, "unknown command '%s' (did you mean '%s'? see 'heaplab --help')", argv[1], near);
    else
        hl_cli_error(NULL, "unknown command '%s' (see 'heaplab --help')", argv[1]);
    return 2;
}

/* Every command's standard output is checked once it is done: a write
 * that failed is "heaplab: standard output: ...", exit status 2. */
int main(int argc, char **argv)
{
    hl_out_track(stdout, "standard output");
    int rc = dispatch(argc, argv);
    if (hl_out_close(stdout) != 0)
        rc = 2;
    return rc;
}
