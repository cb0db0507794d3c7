/*
 * cmd_replay.c - heaplab replay: replay traces under policies and report.
 *
 * Exit status: 0 when every row is ok, 1 when a replay failed, 2 for bad
 * usage or input (nothing is replayed then).
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "cli.h"
#include "commands.h"
#include "heaplab/policies.h"
#include "malloclab.h"
#include "metrics.h"
#include "out.h"
#include "output.h"
#include "replay.h"
#include "runner.h"
#include "trace.h"
#include "util.h"

static const char usage_text[] =
    "usage: heaplab replay [-p POLICY|all]... [options] TRACE...\n"
    "\n"
    "options:\n"
    "  -p, --policy SPEC       policy to replay under, NAME[:key=value,...] or 'all'\n"
    "                          (repeatable; default all, unless --baseline is given);\n"
    "                          a policy plugin: ./my_policy.so\n"
    "  -p mm:FILE              a CS:APP malloc-lab solution: FILE is an mm.c (compiled\n"
    "                          into a cache) or a built .so; the row is mm:<basename>\n"
    "      --mm-max-heap B     malloc-lab solutions: the memory system's limit (default 20 MiB)\n"
    "      --mm-timeout S      malloc-lab solutions: seconds one operation may take (default 60;\n"
    "                          0 = no limit)\n"
    "      --perf-index        after the table, the malloc lab's performance index of each\n"
    "                          policy, with T_libc measured in this run\n"
    "      --baseline LIST     also replay under production allocators, each in a child:\n"
    "                          glibc, jemalloc, mimalloc, tcmalloc, all, or a PATH.so\n"
    "                          (comma-separated, repeatable; one not installed is skipped)\n"
    "      --preset NAME       linux (default) or malloclab\n"
    "      --align N           payload alignment, 8 or 16\n"
    "      --mmap-threshold B  requests >= B bytes are mmapped (fixed; 0 = never)\n"
    "      --source S          region (default) or sbrk (sbrk needs the forked children)\n"
    "      --check-every N     run the heap checker every N operations\n"
    "      --trim-threshold B  give the top back when B bytes are free there (0 = never;\n"
    "                          fixes the mmap threshold, as glibc's mallopt does)\n"
    "      --dialect D         trace header: auto (default), classic or cmu\n"
    "      --timeline FILE     heap and live bytes, fragmentation, over the operations (CSV)\n"
    "      --heapmap FILE      every block of the heap at the sampled operations (CSV)\n"
    "      --every N           sample every N operations (default: about 100 per trace)\n"
    "      --repeat K          timed passes, the best counts (default 5)\n"
    "  -j, --jobs N            checked passes in parallel (timed passes stay one at a time)\n"
    "      --no-fork           replay in this process (debugging; a crash ends the run)\n"
    "      --row-timeout S     seconds each pass of a row may take before it fails as an\n"
    "                          endless loop (default 600; 0 = no limit; not with --no-fork)\n"
    "  -f, --format F          table (default), csv or json\n"
    "  -o, --output FILE       write the results to FILE instead of standard output\n"
    "      --save FILE         also write the results as CSV to FILE (for charts)\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("heaplab: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    return 2;
}

/* baselines */
enum { OPT_BASELINE = 1024 };

enum { OPT_PRESET = 256, OPT_ALIGN, OPT_MMAP, OPT_SOURCE, OPT_CHECK_EVERY, OPT_REPEAT, OPT_NO_FORK, OPT_SAVE };
/* metrics: samples, dialect, trim */
enum { OPT_TIMELINE = 512, OPT_HEAPMAP, OPT_EVERY, OPT_DIALECT, OPT_TRIM };

/* --timeline/--heapmap FILE: opened (header written) once the traces are read. */
static int open_samples(const char *path, void (*header)(FILE *), FILE **out)
{
    *out = NULL;
    if (!path)
        return 0;
    if (!(*out = hl_out_open(path))) {
        fprintf(stderr, "heaplab: %s: %s\n", path, strerror(errno));
        return -1;
    }
    header(*out);
    if (hl_out_flush(*out) != 0) { /* a full disk or /dev/full: said before any replay */
        hl_out_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int close_samples(FILE *f)
{
    return f ? hl_out_close(f) : 0;
}

/* A row of each trace, in -p order: specs[i], or mms[i] when mm. */
struct column {
    int mm;
    size_t i;
};

/* --row-timeout */
enum { OPT_ROW_TIMEOUT = 1280 };

/* malloc-lab solutions (-p mm:FILE, --mm-max-heap, --perf-index) */
enum { OPT_MM_MAX_HEAP = 768, OPT_MM_TIMEOUT, OPT_PERF_INDEX };

/* Load every -p mm:FILE (compile when needed).  Labels are mm:<basename>,
 * or mm:FILE when two solutions share a basename.  0, or 2 after one line
 * on stderr. */
static int load_solutions(const char **files, size_t n, size_t max_heap, long timeout, struct hl_mm *mms)
{
    char err[PATH_MAX + 256];
    for (size_t i = 0; i < n; i++) {
        if (hl_mm_load(files[i], max_heap, &mms[i], err, sizeof err) != 0) {
            fprintf(stderr, "heaplab: %s\n", err);
            for (size_t k = 0; k < i; k++)
                hl_mm_unload(&mms[k]);
            return 2;
        }
        if (timeout >= 0)
            mms[i].timeout = (unsigned)timeout;
    }
    for (size_t i = 0; i < n; i++) {
        const char *bi = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
        for (size_t k = 0; k < n; k++) {
            const char *bk = strrchr(files[k], '/') ? strrchr(files[k], '/') + 1 : files[k];
            if (strcmp(bi, bk) == 0 && strcmp(files[i], files[k]) != 0)
                snprintf(mms[i].label, sizeof mms[i].label, "mm:%s", files[i]);
        }
    }
    return 0;
}

int hl_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"preset", required_argument, NULL, OPT_PRESET},
        {"align", required_argument, NULL, OPT_ALIGN},
        {"mmap-threshold", required_argument, NULL, OPT_MMAP},
        {"source", required_argument, NULL, OPT_SOURCE},
        /* metrics */
        {"timeline", required_argument, NULL, OPT_TIMELINE},
        {"heapmap", required_argument, NULL, OPT_HEAPMAP},
        {"every", required_argument, NULL, OPT_EVERY},
        {"dialect", required_argument, NULL, OPT_DIALECT},
        {"trim-threshold", required_argument, NULL, OPT_TRIM},
        {"check-every", required_argument, NULL, OPT_CHECK_EVERY},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"jobs", required_argument, NULL, 'j'},
        {"no-fork", no_argument, NULL, OPT_NO_FORK},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"save", required_argument, NULL, OPT_SAVE},
        {"mm-max-heap", required_argument, NULL, OPT_MM_MAX_HEAP},
        {"mm-timeout", required_argument, NULL, OPT_MM_TIMEOUT},
        {"perf-index", no_argument, NULL, OPT_PERF_INDEX},
        {"row-timeout", required_argument, NULL, OPT_ROW_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct hl_policy_spec *specs = calloc(hl_policy_count() * (size_t)argc + 1, sizeof *specs);
    size_t nspecs = 0;
    const char *preset = "linux";
    long align = -1, source = -1;
    uint64_t mmap = 0, check_every = 0, repeat = 0;
    int have_mmap = 0, have_repeat = 0;
    /* metrics */
    const char *timeline_path = NULL, *heapmap_path = NULL;
    uint64_t every = 0, trim = 0;
    int have_trim = 0;
    struct hl_trace_opts topts = {HL_DIALECT_AUTO};
    char err[256];
    int c, rc = 0;
    /* malloc-lab solutions: rows after the policies of each trace */
    const char **mm_files = calloc((size_t)argc + 1, sizeof *mm_files);
    /* the rows of a trace in -p order, policies and solutions alike */
    struct column *cols = calloc(hl_policy_count() * (size_t)argc + 1, sizeof *cols);
    size_t ncols = 0;
    struct hl_mm *mms = NULL;
    size_t nmm = 0, nmm_loaded = 0;
    uint64_t mm_max_heap = 0;
    long mm_timeout = -1;
    int perf_index = 0;
    /* baselines: rows after the policies and solutions of each trace */
    struct hl_baseline *bases = NULL;
    size_t nbases = 0;
    int have_baseline = 0;
    if (!specs || !mm_files || !cols) {
        free(specs);
        free(mm_files);
        free(cols);
        return usage_error("%s", strerror(ENOMEM));
    }
    optind = 1;
    enum hl_format fmt = HL_FORMAT_TABLE;
    const char *outpath = NULL, *savepath = NULL;
    struct hl_run_opts ropts = {1, 1, 0, HL_ROW_TIMEOUT};
    while ((c = hl_cli_getopt(argc, argv, "p:j:f:o:h", longopts, "replay")) != -1) {
        uint64_t v;
        switch (c) {
        case 'p':
            if (strncmp(optarg, "mm:", 3) == 0 && optarg[3]) { /* a malloc-lab solution */
                cols[ncols++] = (struct column){1, nmm};
                mm_files[nmm++] = optarg + 3;
            } else if (strcmp(optarg, "all") == 0) {
                for (size_t i = 0; i < hl_policy_count(); i++) {
                    cols[ncols++] = (struct column){0, nspecs};
                    hl_policy_spec_default(hl_policy_at(i), &specs[nspecs++]);
                }
            } else if (hl_cli_policy("replay", optarg, &specs[nspecs]) == 0) {
                cols[ncols++] = (struct column){0, nspecs};
                nspecs++;
            } else {
                rc = 2;
                goto out;
            }
            break;
        case OPT_BASELINE: /* baselines */
            have_baseline = 1;
            if (hl_baseline_add(optarg, &bases, &nbases, stderr, err, sizeof err) != 0) {
                rc = usage_error("%s", err);
                goto out;
            }
            break;
        case OPT_PRESET:
            preset = optarg;
            break;
        case OPT_ALIGN:
            if (hl_parse_u64_prefixed(optarg, 16, &v) || (v != 8 && v != 16)) {
                rc = usage_error("--align: expected 8 or 16, got '%s'", optarg);
                goto out;
            }
            align = (long)v;
            break;
        case OPT_MMAP:
            if (hl_parse_size(optarg, (uint64_t)1 << 46, &mmap)) {
                rc = usage_error("--mmap-threshold: expected a size in bytes (k, m, g allowed), got '%s'", optarg);
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
        /* metrics: --timeline, --heapmap, --every, --dialect, --trim-threshold */
        case OPT_TIMELINE:
            timeline_path = optarg;
            break;
        case OPT_HEAPMAP:
            heapmap_path = optarg;
            break;
        case OPT_EVERY:
            if (hl_parse_u64_prefixed(optarg, (uint64_t)1 << 62, &every) || every == 0) {
                rc = usage_error("--every: expected a positive count, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_DIALECT:
            if (strcmp(optarg, "auto") == 0)
                topts.dialect = HL_DIALECT_AUTO;
            else if (strcmp(optarg, "classic") == 0)
                topts.dialect = HL_DIALECT_CLASSIC;
            else if (strcmp(optarg, "cmu") == 0)
                topts.dialect = HL_DIALECT_CMU;
            else {
                rc = usage_error("--dialect: expected auto, classic or cmu, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_TRIM:
            if (hl_parse_size(optarg, (uint64_t)1 << 46, &trim)) {
                rc = usage_error("--trim-threshold: expected a size in bytes (k, m, g allowed), got '%s'", optarg);
                goto out;
            }
            have_trim = 1;
            break;
        case OPT_CHECK_EVERY:
            if (hl_parse_u64_prefixed(optarg, (uint64_t)1 << 62, &check_every) || check_every == 0) {
                rc = usage_error("--check-every: expected a positive count, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_REPEAT:
            if (hl_parse_u64_prefixed(optarg, 1000, &repeat) || repeat == 0) {
                rc = usage_error("--repeat: expected 1..1000, got '%s'", optarg);
                goto out;
            }
            have_repeat = 1;
            break;
        case 'j':
            if (hl_parse_u64_prefixed(optarg, 256, &v) || v == 0) {
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
        case OPT_SAVE:
            savepath = optarg;
            break;
        case OPT_MM_MAX_HEAP:
            if (hl_parse_size(optarg, (uint64_t)1 << 40, &mm_max_heap) || mm_max_heap == 0) {
                rc = usage_error("--mm-max-heap: expected a size in bytes (k, m, g allowed), got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_MM_TIMEOUT:
            if (hl_parse_u64_prefixed(optarg, 86400, &v)) {
                rc = usage_error("--mm-timeout: expected seconds (0 = no limit), got '%s'", optarg);
                goto out;
            }
            mm_timeout = (long)v;
            break;
        case OPT_PERF_INDEX:
            perf_index = 1;
            break;
        case OPT_ROW_TIMEOUT:
            if (hl_parse_u64_prefixed(optarg, 86400, &v)) {
                rc = usage_error("--row-timeout: expected seconds, 0..86400 (0 = no limit), got '%s'", optarg);
                goto out;
            }
            ropts.timeout = (unsigned)v;
            break;
        case 'h':
            fputs(usage_text, stdout);
            goto out;
        default: /* hl_cli_getopt said what is wrong */
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
    /* metrics: an explicit trim threshold stays put (core's 0 = never trim);
     * like glibc's mallopt(M_TRIM_THRESHOLD) it also fixes the mmap
     * threshold, whose dynamic raise would move the trim threshold too */
    if (have_trim) {
        cfg.trim_threshold = trim ? (size_t)trim : HL_NO_TRIM;
        cfg.mmap_dynamic = 0;
    }
    if (every && !timeline_path && !heapmap_path) {
        rc = usage_error("%s", "--every: samples need --timeline or --heapmap");
        goto out;
    }
    cfg.sample_every = every;
    if (have_repeat)
        cfg.repeat = (unsigned)repeat;
    if (perf_index) { /* the lab's T_libc: this run's own baseline:glibc rows */
        int have_glibc = 0;
        for (size_t k = 0; k < nbases; k++)
            have_glibc |= strcmp(bases[k].label, "baseline:glibc") == 0;
        if (!have_glibc && hl_baseline_add("glibc", &bases, &nbases, stderr, err, sizeof err) != 0) {
            rc = usage_error("%s", err);
            goto out;
        }
    }
    if (nspecs == 0 && nmm == 0 && !have_baseline)
        for (size_t i = 0; i < hl_policy_count(); i++) {
            cols[ncols++] = (struct column){0, nspecs};
            hl_policy_spec_default(hl_policy_at(i), &specs[nspecs++]);
        }
    /* a parameter in range can still be one the policy refuses (tlsf:sl=7):
     * find out now, not as a failed row */
    for (size_t k = 0; k < nspecs; k++)
        if ((rc = hl_cli_policy_check("replay", &specs[k], cfg.align)) != 0)
            goto out;
    int ntraces = argc - optind;
    if (ntraces <= 0) {
        hl_cli_error("replay", "which traces? (heaplab replay [-p POLICY]... TRACE...; see 'heaplab replay --help')");
        rc = 2;
        goto out;
    }
    /* malloc-lab solutions: compiled and loaded before anything is replayed */
    mms = calloc(nmm ? nmm : 1, sizeof *mms);
    if (!mms) {
        rc = usage_error("%s", strerror(ENOMEM));
        goto out;
    }
    if ((rc = load_solutions(mm_files, nmm, (size_t)mm_max_heap, mm_timeout, mms)) != 0)
        goto out;
    nmm_loaded = nmm;

    /* read every trace before replaying anything: bad input never half-reports */
    struct hl_trace *traces = calloc((size_t)ntraces, sizeof *traces);
    size_t per_trace = ncols + nbases; /* the policies and malloc-lab solutions in -p order, the baselines */
    struct hl_result *rows = calloc((size_t)ntraces * per_trace + 1, sizeof *rows);
    int loaded = 0;
    if (!traces || !rows) {
        rc = usage_error("%s", strerror(ENOMEM));
        goto done;
    }
    for (; loaded < ntraces; loaded++) {
        if (hl_trace_load(argv[optind + loaded], &topts, &traces[loaded], err, sizeof err) != 0) {
            fprintf(stderr, "heaplab: %s\n", err); /* "FILE:LINE: what is wrong" */
            rc = 2;
            goto done;
        }
        hl_trace_print_quirks(&traces[loaded], stderr);
    }
    size_t nrows = (size_t)ntraces * per_trace;
    struct hl_job *jobs = calloc(nrows + 1, sizeof *jobs);
    if (!jobs) {
        rc = usage_error("%s", strerror(ENOMEM));
        goto done;
    }
    for (int i = 0; i < ntraces; i++) {
        struct hl_job *row = &jobs[(size_t)i * per_trace];
        for (size_t k = 0; k < ncols; k++) /* policies and malloc-lab solutions, in -p order */
            row[k] = cols[k].mm ? (struct hl_job){&traces[i], mms[cols[k].i].label, &hl_mm_job, &mms[cols[k].i]}
                                : (struct hl_job){&traces[i], specs[cols[k].i].label, &hl_policy_job,
                                                  &specs[cols[k].i]};
        for (size_t k = 0; k < nbases; k++) /* baselines */
            row[ncols + k] = (struct hl_job){&traces[i], bases[k].label, &hl_baseline_job, &bases[k]};
    }
    ropts.progress = nrows > 1 && isatty(2);
    /* metrics: the sample files, opened only now that every trace is read */
    if (open_samples(timeline_path, hl_timeline_header, &cfg.timeline) != 0 ||
        open_samples(heapmap_path, hl_heapmap_header, &cfg.heapmap) != 0) {
        close_samples(cfg.timeline);
        free(jobs);
        rc = 2;
        goto done;
    }
    int run = hl_run(jobs, nrows, &cfg, &ropts, rows);
    if (run < 0)
        fprintf(stderr, "heaplab: cannot run the replays: %s\n", strerror(errno));
    int tl_bad = close_samples(cfg.timeline) != 0, hm_bad = close_samples(cfg.heapmap) != 0;
    if (tl_bad || hm_bad || run < 0)
        rc = 2;
    else if (run != 0)
        rc = 1;
    free(jobs);
    if (run < 0)
        goto done;
    FILE *out = outpath ? hl_out_open(outpath) : stdout;
    if (!out) {
        fprintf(stderr, "heaplab: %s: %s\n", outpath, strerror(errno));
        rc = 2;
        goto done;
    }
    double tlibc = NAN;
    if (perf_index) { /* malloc lab: T_libc from this run's baseline:glibc rows, else measured now */
        double libc_ops = 0, libc_secs = 0;
        if (!hl_mm_have_libc_rows(rows, nrows))
            hl_mm_libc_time(traces, (size_t)ntraces, &cfg, &libc_ops, &libc_secs);
        tlibc = hl_mm_perf_index(rows, nrows, libc_ops, libc_secs);
    }
    hl_output(rows, nrows, fmt, out);
    if (savepath) {
        FILE *save = hl_out_open(savepath);
        if (save)
            hl_output(rows, nrows, HL_FORMAT_CSV, save);
        else
            fprintf(stderr, "heaplab: %s: %s\n", savepath, strerror(errno));
        if (!save || hl_out_close(save) != 0)
            rc = 2;
    }
    if (perf_index) /* the table's footnote; CSV and JSON have the perf_index column */
        hl_mm_perf_index_print(rows, nrows, tlibc, fmt == HL_FORMAT_TABLE ? out : outpath ? stdout : stderr);
    if (outpath && hl_out_close(out) != 0)
        rc = 2;
    else if (!outpath && hl_out_flush(stdout) != 0)
        rc = 2; /* main says what went wrong */
done:
    for (int i = 0; i < loaded; i++)
        hl_trace_free(&traces[i]);
    free(traces);
    free(rows);
out:
    for (size_t i = 0; i < nmm_loaded; i++)
        hl_mm_unload(&mms[i]);
    free(mms);
    free(mm_files);
    free(cols);
    free(bases);
    free(specs);
    return rc;
}

