/*
 * cmd_run.c - heaplab run: a program under heaplab's drop-in malloc.
 *
 * Checks the settings as every heaplab command does (the policy before
 * anything runs), puts them in the environment as the HEAPLAB_* variables
 * the library reads (heaplab/preload.h), puts the library in front of
 * LD_PRELOAD by its absolute path - so a child that changes directory keeps
 * it - and execs the command.  The command's exit status is therefore
 * heaplab's; a command that is not found is 127 and one that cannot be run
 * 126, as in a shell; bad usage is 2 and nothing runs.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "heaplab/policies.h"
#include "heaplab/preload.h"
#include "out.h"
#include "util.h"

/* "  NAME  text", the text wrapped within 80 columns under itself */
static void env_line(FILE *out, const char *name, const char *text)
{
    enum { INDENT = 27, WIDTH = 79 };
    int col = fprintf(out, "  %-24s", name);
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col + 1 + (int)word > WIDTH)
            col = fprintf(out, "\n%*s", INDENT - 1, "") - 1;
        col += fprintf(out, " %.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

static void usage(FILE *out)
{
    fputs("usage: heaplab run [-p POLICY[:params]] [options] [--] COMMAND [ARGS...]\n"
          "\n"
          "Runs COMMAND with heaplab's drop-in malloc (" HL_PRELOAD_LIB ") in place of\n"
          "glibc's: one heap over the program break, placed by POLICY, in COMMAND and\n"
          "in every program it starts.  The exit status is COMMAND's; 127 when it is\n"
          "not found, 126 when it cannot be run, 2 for bad usage (nothing runs).\n"
          "\n"
          "options:\n"
          "  -p, --policy SPEC       the placement policy (default " HL_PRELOAD_DEFAULT_POLICY ")\n"
          "      --stats[=json]      each process's figures at exit (stderr; text or JSON)\n"
          "      --stats-file FILE   the figures into FILE instead (%p: the process id)\n"
          "      --check N           run the heap checker every N operations; a violation\n"
          "                          is one line and abort\n"
          "      --mmap-threshold B  requests of B bytes or more are mmapped (0 = never)\n"
          "      --trim-threshold B  give the top back when B bytes are free (0 = never)\n"
          "      --top-pad B         free bytes a trim leaves at the top\n"
          "  -h, --help              this help\n"
          "\n"
          "The options set these variables for COMMAND, which may also be set directly\n"
          "(the library reads them once, before COMMAND's main; a bad value is one line\n"
          "and exit status 2):\n",
          out);
#define HL_RUN_ENV_HELP(id, kind, def, choices, help) env_line(out, "HEAPLAB_" #id, help);
    HL_PRELOAD_OPTIONS(HL_RUN_ENV_HELP)
#undef HL_RUN_ENV_HELP
    env_line(out, "HEAPLAB_MALLOC_LIB", "the library heaplab run preloads (default: the one beside the heaplab binary)");
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("heaplab: run: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

enum { OPT_STATS = 256, OPT_STATS_FILE, OPT_CHECK, OPT_MMAP, OPT_TRIM, OPT_TOP_PAD };

int hl_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"stats", optional_argument, NULL, OPT_STATS},
        {"stats-file", required_argument, NULL, OPT_STATS_FILE},
        {"check", required_argument, NULL, OPT_CHECK},
        {"mmap-threshold", required_argument, NULL, OPT_MMAP},
        {"trim-threshold", required_argument, NULL, OPT_TRIM},
        {"top-pad", required_argument, NULL, OPT_TOP_PAD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* each option's variable and value, set once everything is checked */
    struct {
        const char *name, *value;
    } env[8];
    int nenv = 0, c;
    uint64_t num;
    optind = 0; /* glibc: a full reset, so that '+' is read */
    while ((c = hl_cli_getopt(argc, argv, "+p:h", longopts, "run")) != -1) {
        switch (c) {
        case 'p': {
            struct hl_policy_spec spec;
            if (hl_policy_is_path(optarg, strcspn(optarg, ":")))
                return usage_error("-p %s: a plugin cannot be preloaded (loading it would allocate from the "
                                   "heap being made); built-in policies only",
                                   optarg);
            if (hl_cli_policy("run", optarg, &spec) != 0 || hl_cli_policy_check("run", &spec, 0) != 0)
                return 2;
            env[nenv].name = "HEAPLAB_POLICY";
            env[nenv++].value = optarg;
            break;
        }
        case OPT_STATS:
            if (optarg && strcmp(optarg, "json") != 0)
                return usage_error("--stats=%s: expected --stats or --stats=json", optarg);
            env[nenv].name = "HEAPLAB_STATS";
            env[nenv++].value = optarg ? "json" : "1";
            break;
        case OPT_STATS_FILE:
            env[nenv].name = "HEAPLAB_STATS_FILE";
            env[nenv++].value = optarg;
            break;
        case OPT_CHECK:
            if (hl_parse_u64(optarg, UINT64_MAX, &num) != 0)
                return usage_error("--check: expected a count of operations, got '%s'", optarg);
            env[nenv].name = "HEAPLAB_CHECK";
            env[nenv++].value = optarg;
            break;
        case OPT_MMAP:
        case OPT_TRIM:
        case OPT_TOP_PAD: {
            const char *opt = c == OPT_MMAP ? "--mmap-threshold" : c == OPT_TRIM ? "--trim-threshold" : "--top-pad";
            if (hl_parse_size(optarg, (uint64_t)1 << 62, &num) != 0) {
                hl_cli_error("run", "%s: expected a size in bytes (k, m, g allowed), got '%s'", opt, optarg);
                return 2;
            }
            env[nenv].name = c == OPT_MMAP ? "HEAPLAB_MMAP_THRESHOLD"
                             : c == OPT_TRIM ? "HEAPLAB_TRIM_THRESHOLD"
                                             : "HEAPLAB_TOP_PAD";
            env[nenv++].value = optarg;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default: /* hl_cli_getopt said what is wrong */
            return 2;
        }
        if (nenv == (int)(sizeof env / sizeof env[0]))
            return usage_error("%s", "too many options");
    }
    if (optind >= argc)
        return usage_error("%s", "which command? (heaplab run [options] -- COMMAND [ARGS...])");
    char lib[PATH_MAX];
    if (hl_cli_find_library("run", "HEAPLAB_MALLOC_LIB", HL_PRELOAD_LIB, lib, sizeof lib) != 0)
        return 2;
    for (int i = 0; i < nenv; i++)
        if (setenv(env[i].name, env[i].value, 1) != 0)
            return usage_error("cannot set the environment: %s", strerror(errno));
    if (hl_cli_set_preload(lib) != 0)
        return usage_error("cannot set the environment: %s", strerror(errno));
    hl_out_flush_all();
    execvp(argv[optind], argv + optind);
    int e = errno;
    if (e == ENOENT)
        hl_cli_error("run", "%s: command not found", argv[optind]);
    else
        hl_cli_error("run", "%s: %s", argv[optind], strerror(e));
    return e == ENOENT ? 127 : 126;
}
