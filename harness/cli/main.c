/*
 * main.c - the heaplab command: one subcommand per file, listed here.
 */
#include <stdio.h>
#include <string.h>

#include "baseline.h"
#include "commands.h"
#include "heaplab/policies.h"

/* heaplab policies [-v | --list]: the registry, in its order.  --list is
 * for scripts: NAME<TAB>SEARCH a line, SEARCH what finding a free block
 * costs ("O(n)" for the list policies; hl_policy_search_at). */
static int cmd_policies(int argc, char **argv)
{
    int verbose = argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--verbose") == 0);
    int list = argc > 1 && strcmp(argv[1], "--list") == 0;
    if (argc > 2 || (argc == 2 && !verbose && !list)) {
        fprintf(stderr, "heaplab: policies: unexpected argument '%s'\n", argv[argc - 1]);
        return 2;
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
    {"policies", cmd_policies, "heaplab policies [-v|--list]        list the policies (-v: parameters, --list: search cost)"},
    {"replay", hl_cmd_replay, "heaplab replay [options] TRACE...   replay traces under policies (replay --help)"},
    {"gen", hl_cmd_gen, "heaplab gen PATTERN [options]       write a synthetic trace (gen --help)"},
    {"layout", hl_cmd_layout, "heaplab layout [--reserve MIB]      where text, data, heap, mappings, stack live"},
    {"__baseline", hl_cmd_baseline, NULL},
    {"plot", hl_cmd_plot, "heaplab plot KIND CSV... -o OUT      draw a chart from heaplab's CSVs (plot --help)"},
    {"selftest", hl_cmd_selftest, "heaplab selftest -p POLICY          run the conformance checks on a policy or plugin"},
};

static void usage(FILE *out)
{
    fputs("usage:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].usage)
            fprintf(out, "  %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "heaplab: unknown command '%s' (see 'heaplab --help')\n", argv[1]);
    return 2;
}
