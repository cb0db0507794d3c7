/*
 * cmd_replay.c - heaplab replay: replay traces under policies and report.
 *
 * Exit status: 0 when every row is ok, 1 when a replay failed, 2 for bad
 * usage or input (nothing is replayed then).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "heaplab/policies.h"
#include "output.h"
#include "replay.h"
#include "runner.h"
#include "trace.h"

static const char usage_text[] =
    "usage: heaplab replay [-p POLICY|all]... [options] TRACE...\n"
    "\n"
    "options:\n"
    "  -p, --policy SPEC       policy to replay under, NAME[:key=value,...] or 'all'\n"
    "                          (repeatable; default all); a plugin: ./my_policy.so\n"
    "      --preset NAME       linux (default) or malloclab\n"
    "      --align N           payload alignment, 8 or 16\n"
    "      --mmap-threshold B  requests >= B bytes are mmapped (fixed; 0 = never)\n"
    "      --source S          region (default) or sbrk (sbrk needs the forked children)\n"
    "      --check-every N     run the heap checker every N operations\n"
    "      --repeat K          timed passes, the best counts (default 5)\n"
    "  -j, --jobs N            checked passes in parallel (timed passes stay one at a time)\n"
    "      --no-fork           replay in this process (debugging; a crash ends the run)\n"
    "  -f, --format F          table (default), csv or json\n"
    "  -o, --output FILE       write the results to FILE instead of standard output\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("heaplab: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    return 2;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

enum { OPT_PRESET = 256, OPT_ALIGN, OPT_MMAP, OPT_SOURCE, OPT_CHECK_EVERY, OPT_REPEAT, OPT_NO_FORK };

int hl_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"preset", required_argument, NULL, OPT_PRESET},
        {"align", required_argument, NULL, OPT_ALIGN},
        {"mmap-threshold", required_argument, NULL, OPT_MMAP},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"check-every", required_argument, NULL, OPT_CHECK_EVERY},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"jobs", required_argument, NULL, 'j'},
        {"no-fork", no_argument, NULL, OPT_NO_FORK},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct hl_policy_spec *specs = calloc(hl_policy_count() + (size_t)argc, sizeof *specs);
    size_t nspecs = 0;
    const char *preset = "linux";
    long align = -1, source = -1;
    unsigned long long mmap = 0, check_every = 0, repeat = 0;
    int have_mmap = 0, have_repeat = 0;
    char err[256];
    int c, rc = 0;
    if (!specs)
        return usage_error("%s", strerror(errno));
    optind = 1;
    enum hl_format fmt = HL_FORMAT_TABLE;
    const char *outpath = NULL;
    struct hl_run_opts ropts = {1, 1, 0};
    while ((c = getopt_long(argc, argv, "p:j:f:o:h", longopts, NULL)) != -1) {
        unsigned long long v;
        switch (c) {
        case 'p':
            if (strcmp(optarg, "all") == 0) {
                for (size_t i = 0; i < hl_policy_count(); i++)
                    hl_policy_spec_default(hl_policy_at(i), &specs[nspecs++]);
            } else if (hl_policy_parse(optarg, &specs[nspecs], err, sizeof err) == 0) {
                nspecs++;
            } else {
                rc = usage_error("%s", err);
                goto out;
            }
            break;
        case OPT_PRESET:
            preset = optarg;
            break;
        case OPT_ALIGN:
            if (parse_u64(optarg, 16, &v) || (v != 8 && v != 16)) {
                rc = usage_error("--align: expected 8 or 16, got '%s'", optarg);
                goto out;
            }
            align = (long)v;
            break;
        case OPT_MMAP:
            if (parse_u64(optarg, (unsigned long long)1 << 46, &mmap)) {
                rc = usage_error("--mmap-threshold: expected a number of bytes, got '%s'", optarg);
                goto out;
            }
            have_mmap = 1;
            break;
        case OPT_SOURCE:
            if (strcmp(optarg, "region") == 0)
                source = HL_SOURCE_REGION;
            else if (strcmp(optarg, "sbrk") == 0)
                source = HL_SOURCE_SBRK;
            else {
                rc = usage_error("--source: expected region or sbrk, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_CHECK_EVERY:
            if (parse_u64(optarg, (unsigned long long)1 << 62, &check_every) || check_every == 0) {
                rc = usage_error("--check-every: expected a positive count, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_REPEAT:
            if (parse_u64(optarg, 1000, &repeat) || repeat == 0) {
                rc = usage_error("--repeat: expected 1..1000, got '%s'", optarg);
                goto out;
            }
            have_repeat = 1;
            break;
        case 'j':
            if (parse_u64(optarg, 256, &v) || v == 0) {
                rc = usage_error("--jobs: expected 1..256, got '%s'", optarg);
                goto out;
            }
            ropts.jobs = (unsigned)v;
            break;
        case OPT_NO_FORK:
            ropts.fork = 0;
            break;
        case 'f':
            if (hl_format_parse(optarg, &fmt) != 0) {
                rc = usage_error("--format: expected table, csv or json, got '%s'", optarg);
                goto out;
            }
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            goto out;
        default:
            fputs(usage_text, stderr);
            rc = 2;
            goto out;
        }
    }
    struct hl_replay_config cfg;
    if (hl_replay_preset(&cfg, preset) != 0) {
        rc = usage_error("--preset: expected linux or malloclab, got '%s'", preset);
        goto out;
    }
    if (align > 0)
        cfg.align = (size_t)align;
    if (have_mmap) {
        cfg.mmap_threshold = mmap;
        cfg.mmap_dynamic = 0;
    }
    if (source >= 0)
        cfg.source = (enum hl_source_kind)source;
    if (cfg.source == HL_SOURCE_SBRK && !ropts.fork) {
        rc = usage_error("--source sbrk moves the real program break: it runs only in the forked children, "
                         "not with %s", "--no-fork");
        goto out;
    }
    cfg.check_every = check_every;
    if (have_repeat)
        cfg.repeat = (unsigned)repeat;
    if (nspecs == 0)
        for (size_t i = 0; i < hl_policy_count(); i++)
            hl_policy_spec_default(hl_policy_at(i), &specs[nspecs++]);
    int ntraces = argc - optind;
    if (ntraces <= 0) {
        fputs(usage_text, stderr);
        rc = 2;
        goto out;
    }

    /* read every trace before replaying anything: bad input never half-reports */
    struct hl_trace *traces = calloc((size_t)ntraces, sizeof *traces);
    struct hl_result *rows = calloc((size_t)ntraces * nspecs, sizeof *rows);
    int loaded = 0;
    if (!traces || !rows) {
        rc = usage_error("%s", strerror(ENOMEM));
        goto done;
    }
    struct hl_trace_opts topts = {HL_DIALECT_AUTO};
    for (; loaded < ntraces; loaded++) {
        if (hl_trace_load(argv[optind + loaded], &topts, &traces[loaded], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = 2;
            goto done;
        }
        hl_trace_print_quirks(&traces[loaded], stderr);
    }
    size_t nrows = (size_t)ntraces * nspecs;
    struct hl_job *jobs = calloc(nrows, sizeof *jobs);
    if (!jobs) {
        rc = usage_error("%s", strerror(ENOMEM));
        goto done;
    }
    for (int i = 0; i < ntraces; i++)
        for (size_t k = 0; k < nspecs; k++)
            jobs[(size_t)i * nspecs + k] = (struct hl_job){&traces[i], HL_JOB_POLICY, &specs[k], specs[k].label};
    ropts.progress = nrows > 1 && isatty(2);
    if (hl_run(jobs, nrows, &cfg, &ropts, rows) != 0)
        rc = 1;
    free(jobs);
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        fprintf(stderr, "heaplab: %s: %s\n", outpath, strerror(errno));
        rc = 2;
        goto done;
    }
    hl_output(rows, nrows, fmt, out);
    if (outpath && fclose(out) != 0) {
        fprintf(stderr, "heaplab: %s: %s\n", outpath, strerror(errno));
        rc = 2;
    }
done:
    for (int i = 0; i < loaded; i++)
        hl_trace_free(&traces[i]);
    free(traces);
    free(rows);
out:
    free(specs);
    return rc;
}

