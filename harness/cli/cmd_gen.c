/*
 * cmd_gen.c - heaplab gen: write a synthetic trace (gen.h) in the classic
 * malloc-lab format.
 *
 * Exit status: 0, or 2 for bad usage (nothing is written then) and when
 * the output cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "gen.h"
#include "out.h"
#include "trace.h"
#include "util.h"

static void usage(FILE *out)
{
    fputs("usage: heaplab gen PATTERN [-n OPS] [--seed S] [-o OUT.rep] [pattern options]\n"
          "\n"
          "Writes a synthetic trace in the classic malloc-lab format.  The same\n"
          "arguments give the same bytes on any machine.  Every block is freed by\n"
          "the end (with an odd -n and no realloc in the pattern, one stays live).\n"
          "\n"
          "patterns:\n",
          out);
    for (size_t i = 0; i < hl_gen_count(); i++)
        fprintf(out, "  %-18s %s\n", hl_gen_at(i)->name, hl_gen_at(i)->summary);
    fputs("\n"
          "options:\n"
          "  -n, --ops N          total operations, exact (default: random, coalescing,\n"
          "                       realloc 4000; binary, ramp-peak-plateau 6000; steady 4 x live)\n"
          "      --seed S         PRNG seed (default 1)\n"
          "  -o, --output FILE    write to FILE (default, or '-': standard output)\n"
          "\n"
          "request sizes (random, coalescing, ramp-peak-plateau, steady):\n"
          "      --sizes D        uniform: every size in [min, max] alike (default; but\n"
          "                       ramp-peak-plateau: exp); exp: min + exponential of\n"
          "                       mean (mean - min), cut at max\n"
          "      --min B          smallest size (default 16)\n"
          "      --max B          largest size (default 4096; steady 256)\n"
          "      --mean B         exp only (default min + (max - min) / 16)\n"
          "\n"
          "pattern options:\n"
          "      --ids K          random: at most K blocks live (default 256)\n"
          "      --live N         steady: blocks kept live (default 1000)\n"
          "      --peaks P        ramp-peak-plateau: number of peaks, 0..64 (default 2)\n"
          "      --small B        binary: the small blocks (default 64)\n"
          "      --large B        binary: the large blocks, freed (default 448); the later\n"
          "                       requests are small + large bytes\n"
          "      --buffers B      realloc: buffers growing at once, 1..1024 (default 4)\n"
          "      --step B         realloc: bytes added per growth step (default 128)\n"
          "      --min, --max     realloc: start size, and the size a buffer is freed and\n"
          "                       started again before passing (default 512, 32768)\n"
          "\n"
          "traces/README.md, \"Generated traces\", describes each pattern.\n",
          out);
}

static int fail(const char *fmt, const char *arg)
{
    fputs("heaplab: gen: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

enum {
    OPT_SEED = 256,
    OPT_SIZES,
    OPT_MIN,
    OPT_MAX,
    OPT_MEAN,
    OPT_IDS,
    OPT_LIVE,
    OPT_PEAKS,
    OPT_SMALL,
    OPT_LARGE,
    OPT_BUFFERS,
    OPT_STEP,
};

/* The pattern options: where each value goes, and which patterns read it. */
static const struct numopt {
    int code;
    const char *name;
    size_t offset;
    unsigned uses; /* any of these bits */
} numopts[] = {
    {'n', "-n", offsetof(struct hl_gen_params, ops), 0},
    {OPT_SEED, "--seed", offsetof(struct hl_gen_params, seed), 0},
    {OPT_MIN, "--min", offsetof(struct hl_gen_params, min), HL_GEN_USES_SIZES | HL_GEN_USES_BOUNDS},
    {OPT_MAX, "--max", offsetof(struct hl_gen_params, max), HL_GEN_USES_SIZES | HL_GEN_USES_BOUNDS},
    {OPT_MEAN, "--mean", offsetof(struct hl_gen_params, mean), HL_GEN_USES_SIZES},
    {OPT_IDS, "--ids", offsetof(struct hl_gen_params, ids), HL_GEN_USES_IDS},
    {OPT_LIVE, "--live", offsetof(struct hl_gen_params, live), HL_GEN_USES_LIVE},
    {OPT_PEAKS, "--peaks", offsetof(struct hl_gen_params, peaks), HL_GEN_USES_PEAKS},
    {OPT_SMALL, "--small", offsetof(struct hl_gen_params, small), HL_GEN_USES_BINARY},
    {OPT_LARGE, "--large", offsetof(struct hl_gen_params, large), HL_GEN_USES_BINARY},
    {OPT_BUFFERS, "--buffers", offsetof(struct hl_gen_params, buffers), HL_GEN_USES_REALLOC},
    {OPT_STEP, "--step", offsetof(struct hl_gen_params, step), HL_GEN_USES_REALLOC},
};
#define NNUMOPTS (sizeof numopts / sizeof numopts[0])

/* "-n, --seed, --min, ..." : what `pat` reads. */
static void options_of(const struct hl_gen_pattern *pat, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "-n, --seed%s", pat->uses & HL_GEN_USES_SIZES ? ", --sizes" : "");
    for (size_t i = 2; i < NNUMOPTS && n < len; i++)
        if (numopts[i].uses & pat->uses)
            n += (size_t)snprintf(buf + n, len - n, ", %s", numopts[i].name);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ops", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"output", required_argument, NULL, 'o'},
        {"sizes", required_argument, NULL, OPT_SIZES},
        {"min", required_argument, NULL, OPT_MIN},
        {"max", required_argument, NULL, OPT_MAX},
        {"mean", required_argument, NULL, OPT_MEAN},
        {"ids", required_argument, NULL, OPT_IDS},
        {"live", required_argument, NULL, OPT_LIVE},
        {"peaks", required_argument, NULL, OPT_PEAKS},
        {"small", required_argument, NULL, OPT_SMALL},
        {"large", required_argument, NULL, OPT_LARGE},
        {"buffers", required_argument, NULL, OPT_BUFFERS},
        {"step", required_argument, NULL, OPT_STEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t value[NNUMOPTS];
    int given[NNUMOPTS] = {0};
    int sizes = -1;
    const char *outpath = NULL;
    int c;
    optind = 0; /* glibc: a full reset, so the command can run twice in one process */
    while ((c = hl_cli_getopt(argc, argv, "n:o:h", longopts, "gen")) != -1) {
        size_t k;
        for (k = 0; k < NNUMOPTS && numopts[k].code != c; k++)
            ;
        if (k < NNUMOPTS) {
            if (hl_parse_u64(optarg, UINT64_MAX, &value[k]) != 0) {
                char msg[64];
                snprintf(msg, sizeof msg, "%s: expected a number, got '%%s'", numopts[k].name);
                return fail(msg, optarg);
            }
            given[k] = 1;
            continue;
        }
        switch (c) {
        case OPT_SIZES:
            if (strcmp(optarg, "uniform") == 0)
                sizes = HL_GEN_UNIFORM;
            else if (strcmp(optarg, "exp") == 0)
                sizes = HL_GEN_EXP;
            else
                return fail("--sizes: expected uniform or exp, got '%s'", optarg);
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* hl_cli_getopt said what is wrong */
            return 2;
        }
    }
    if (optind >= argc)
        return fail("missing PATTERN (patterns: %s; see 'heaplab gen --help')", hl_gen_names());
    if (argc - optind > 1)
        return fail("unexpected argument '%s' (one pattern at a time)", argv[optind + 1]);
    const char *name = argv[optind];
    const struct hl_gen_pattern *pat = hl_gen_lookup(name);
    if (!pat) {
        char msg[512];
        snprintf(msg, sizeof msg, "unknown pattern '%%s' (patterns: %s)", hl_gen_names());
        return fail(msg, name);
    }

    struct hl_gen_params p;
    hl_gen_defaults(pat, &p);
    char what[256], err[256];
    options_of(pat, what, sizeof what);
    for (size_t k = 0; k < NNUMOPTS; k++) {
        if (!given[k])
            continue;
        if (numopts[k].uses && !(numopts[k].uses & pat->uses)) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s does not apply to pattern '%%s' (it reads %s)", numopts[k].name, what);
            return fail(msg, pat->name);
        }
        memcpy((char *)&p + numopts[k].offset, &value[k], sizeof value[k]);
    }
    if (sizes >= 0) {
        if (!(pat->uses & HL_GEN_USES_SIZES)) {
            char msg[512];
            snprintf(msg, sizeof msg, "--sizes does not apply to pattern '%%s' (it reads %s)", what);
            return fail(msg, pat->name);
        }
        p.sizes = (enum hl_gen_dist)sizes;
    }
    if (given[0] && value[0] == 0)
        return fail("-n: expected a positive count, got '%s'", "0");
    /* the parameters' 0 means "the default": a --mean of 0 given is no
     * mean at all (every size is at least --min, at least 1) */
    for (size_t k = 0; k < NNUMOPTS; k++)
        if (numopts[k].code == OPT_MEAN && given[k] && value[k] == 0)
            return fail(p.sizes == HL_GEN_EXP ? "--mean: expected a size from --min to --max, got '%s'"
                                              : "--mean applies to --sizes exp only (got '%s')",
                        "0");

    struct hl_trace t;
    if (hl_gen(pat, &p, &t, err, sizeof err) != 0)
        return fail("%s", err);
    int to_stdout = !outpath || strcmp(outpath, "-") == 0;
    FILE *out = to_stdout ? stdout : hl_out_open(outpath);
    if (!out) {
        int e = errno;
        hl_trace_free(&t);
        fprintf(stderr, "heaplab: gen: %s: %s\n", outpath, strerror(e));
        return 2;
    }
    /* a half-written regular file is removed; never a device or a pipe */
    struct stat st;
    int regular = !to_stdout && fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
    int bad = hl_trace_write(&t, out) != 0;
    int e = hl_out_flush(out) != 0 ? hl_out_error(out) : errno;
    hl_trace_free(&t);
    if (to_stdout) { /* main reports a write error of standard output */
        if (bad && !hl_out_error(out))
            fprintf(stderr, "heaplab: standard output: %s\n", strerror(e ? e : EIO));
        return bad || hl_out_error(out) ? 2 : 0;
    }
    if (bad && !hl_out_error(out))
        fprintf(stderr, "heaplab: %s: %s\n", outpath, strerror(e ? e : EIO));
    if (hl_out_close(out) != 0 || bad) {
        if (regular)
            unlink(outpath);
        return 2;
    }
    return 0;
}

int hl_cmd_gen(int argc, char **argv)
{
    return run(argc, argv);
}
