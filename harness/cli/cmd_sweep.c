/*
 * cmd_sweep.c - heaplab sweep: a grid of replays cut into independent
 * cells, run on the engines people already have.
 *
 *   plan    expand a grid (policies and their parameter lists, presets,
 *           thresholds, traces or globs, baselines) into a plan file
 *   list    the cells and their ids (--ids for an engine's input, --todo
 *           for those without a result)
 *   run     run cells (--cell ID, --index A[-B]): each one `heaplab replay`
 *           in a child, its CSV written to RESULTS/ID.csv through a
 *           temporary file and a rename, a result already there skipped
 *   local   every cell on this machine, N at a time
 *   emit    the command line for GNU parallel (several machines over ssh)
 *           or an sbatch script for Slurm (a job array and a merge job)
 *
 * heaplab schedules nothing across machines itself: parallel and Slurm
 * do, and they need only `heaplab sweep run PLAN --cell ID` to be safe to
 * start twice or after a crash.  heaplab merge (cmd_merge.c) puts the
 * results together.
 *
 * A cell is one trace under one configuration (preset, thresholds) with
 * every row of the grid and the baselines: the glibc row a throughput
 * ratio divides by ran in the same invocation, on the same machine, as the
 * rows it is divided into.
 *
 * Exit status: 0 every cell done or already done; 1 a cell's replay had a
 * failed row (its result is written, the status column says what failed)
 * or a cell could not run; 2 bad usage or input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "child.h"
#include "cli.h"
#include "commands.h"
#include "csv.h"
#include "heaplab/policies.h"
#include "output.h"
#include "replay.h"
#include "sweep.h"
#include "util.h"

static const char usage_text[] =
    "usage: heaplab sweep plan [grid options] -o PLAN TRACE|'GLOB'...\n"
    "       heaplab sweep list PLAN [--ids] [--todo] [--results DIR]\n"
    "       heaplab sweep run PLAN (--cell ID | --index A[-B])... [--results DIR]\n"
    "       heaplab sweep local PLAN [-j N] [--results DIR]\n"
    "       heaplab sweep emit parallel PLAN [--sshloginfile FILE] [-j N] [--return] [options]\n"
    "       heaplab sweep emit slurm PLAN [-o SCRIPT] [--per-task K] [--limit L] [resources]\n"
    "\n"
    "A plan is a text file, one cell a line: the arguments of one `heaplab replay`\n"
    "(one trace under one preset and thresholds, every policy of the grid and the\n"
    "baselines).  A cell's id is a hash of its line; its result is RESULTS/ID.csv\n"
    "(default results/), replay's CSV columns and machine, cpu_model,\n"
    "heaplab_version, plan, cell.  heaplab merge puts the results together.\n"
    "\n"
    "plan (the grid):\n"
    "  -p, --policy SPEC       a row: NAME[:key=value,...], all, a plugin, mm:FILE (FILE may\n"
    "                          be a quoted glob); repeatable (default all)\n"
    "      --param NAME:KEY=V1,V2,...  rows of NAME for each value; several --param of\n"
    "                          one NAME multiply (tlsf:sl=4,8,16,32 and tlsf:cache=0,7: 8 rows)\n"
    "      --preset LIST       linux, malloclab, or both comma-separated (default linux)\n"
    "      --mmap-threshold LIST, --trim-threshold LIST   sizes; a cell for each value\n"
    "      --baseline LIST     baselines in every cell (default glibc; none for none)\n"
    "      --repeat K          timed passes of each row (replay's default: 5)\n"
    "      --source S, --dialect D, --check-every N   passed to every cell\n"
    "  -o, --output PLAN       the plan file (default: standard output)\n"
    "list:\n"
    "      --ids               the ids only (an engine's input)\n"
    "      --todo              only cells without a result in --results\n"
    "run:\n"
    "      --cell ID           the cell with this id (repeatable)\n"
    "      --index A[-B]       the cells at these positions in the plan, from 0 (repeatable)\n"
    "      --results DIR       where results go (default results)\n"
    "local:\n"
    "  -j, --jobs N            cells at once (default 1; timings compete beyond one a core);\n"
    "                          what a cell says on stderr goes to RESULTS/ID.log\n"
    "emit parallel: prints the command (run it with sh -c, or paste it)\n"
    "      --sshloginfile FILE GNU parallel's list of hosts (':' is this one)\n"
    "  -j, --jobs N            jobs per host (default: parallel's, one a core)\n"
    "      --joblog FILE       parallel's job log (default RESULTS/parallel.joblog)\n"
    "      --return            bring each result back from its host (no shared folder)\n"
    "emit slurm: writes an sbatch script (bash SCRIPT submits the array and the merge)\n"
    "  -o, --output SCRIPT     (default: standard output)\n"
    "      --per-task K        cells per array task (default 1)\n"
    "      --limit L           array tasks at once (default 64)\n"
    "      --cpus N, --mem SIZE, --time T, --partition P   each task's resources\n"
    "                          (default 1 CPU, 1G, 01:00:00, the default partition)\n"
    "      --merged FILE       what the merge job writes (default all.csv)\n"
    "both emitters:\n"
    "      --results DIR       as for run\n"
    "      --heaplab PATH      heaplab as the hosts run it (default: this one's path)\n";

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

static int usage_fail(const char *cmd, const char *fmt, const char *arg)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, arg);
    hl_cli_error(cmd, "%s", msg);
    return EXIT_USAGE;
}

/* ---- a growing list of strings (struct hl_strs, sweep.c) ---------------------------------- */

static int strs_has(const struct hl_strs *s, const char *text)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], text) == 0)
            return 1;
    return 0;
}

/* Add each element of a comma-separated list. */
static int strs_add_list(struct hl_strs *s, const char *list)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    for (char *save, *e = strtok_r(copy, ",", &save); e && !rc; e = strtok_r(NULL, ",", &save))
        if (!strs_has(s, e))
            rc = hl_strs_add(s, e);
    free(copy);
    return rc;
}

static int has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* ---- plan ------------------------------------------------------------------------------------- */

struct param { /* --param NAME:KEY=V1,V2: one axis of NAME's rows */
    char name[64];
    char key[64];
    struct hl_strs values;
};

/* The rows of the --param axes of name: their product, in the order given. */
static int expand_params(const struct param *ps, size_t np, const char *name, struct hl_strs *rows)
{
    struct hl_strs cur = {0}, next = {0};
    if (hl_strs_add(&cur, name) != 0)
        return -1;
    int first = 1;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(ps[i].name, name) != 0)
            continue;
        for (size_t a = 0; a < cur.n; a++)
            for (size_t b = 0; b < ps[i].values.n; b++) {
                char buf[512];
                snprintf(buf, sizeof buf, "%s%s%s=%s", cur.v[a], first ? ":" : ",", ps[i].key, ps[i].values.v[b]);
                if (hl_strs_add(&next, buf) != 0)
                    return hl_strs_free(&cur), hl_strs_free(&next), -1;
            }
        hl_strs_free(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
        first = 0;
    }
    for (size_t a = 0; a < cur.n; a++)
        if (!strs_has(rows, cur.v[a]) && hl_strs_add(rows, cur.v[a]) != 0)
            return hl_strs_free(&cur), -1;
    hl_strs_free(&cur);
    return 0;
}

/* A trace argument: a file, or a glob matching files.  0, or 2. */
static int add_traces(const char *cmd, const char *arg, struct hl_strs *traces)
{
    if (!has_glob(arg)) {
        if (access(arg, R_OK) != 0) {
            hl_cli_error(cmd, "%s: %s", arg, strerror(errno));
            return EXIT_USAGE;
        }
        return hl_strs_add(traces, arg) ? usage_fail(cmd, "%s", strerror(ENOMEM)) : 0;
    }
    glob_t g;
    int rc = glob(arg, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        hl_cli_error(cmd, "%s: no file matches", arg);
        return EXIT_USAGE;
    }
    if (rc != 0) {
        hl_cli_error(cmd, "%s: cannot expand (%s)", arg, rc == GLOB_NOSPACE ? strerror(ENOMEM) : "read error");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < g.gl_pathc; i++)
        if (!strs_has(traces, g.gl_pathv[i]) && hl_strs_add(traces, g.gl_pathv[i]) != 0) {
            globfree(&g);
            return usage_fail(cmd, "%s", strerror(ENOMEM));
        }
    globfree(&g);
    return 0;
}

/* One cell line: the configuration, then the rows, then the trace. */
static void write_cell(FILE *out, const char *preset, const char *mmap, const char *trim, const char *const *pass,
                       const struct hl_strs *rows, const struct hl_strs *bases, const char *trace)
{
    fputs("--preset ", out);
    hl_arg_write(preset, out);
    if (mmap) {
        fputs(" --mmap-threshold ", out);
        hl_arg_write(mmap, out);
    }
    if (trim) {
        fputs(" --trim-threshold ", out);
        hl_arg_write(trim, out);
    }
    for (size_t i = 0; pass[i]; i += 2) {
        if (!pass[i + 1])
            continue;
        fprintf(out, " %s ", pass[i]);
        hl_arg_write(pass[i + 1], out);
    }
    for (size_t i = 0; i < rows->n; i++) {
        fputs(" -p ", out);
        hl_arg_write(rows->v[i], out);
    }
    for (size_t i = 0; i < bases->n; i++) {
        fputs(" --baseline ", out);
        hl_arg_write(bases->v[i], out);
    }
    fputc(' ', out);
    hl_arg_write(trace, out);
    fputc('\n', out);
}

static int sweep_plan(int argc, char **argv)
{
    const char *cmd = "sweep plan";
    enum { O_PARAM = 256, O_PRESET, O_BASELINE, O_MMAP, O_TRIM, O_REPEAT, O_SOURCE, O_DIALECT, O_CHECK };
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"param", required_argument, NULL, O_PARAM},
        {"preset", required_argument, NULL, O_PRESET},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"mmap-threshold", required_argument, NULL, O_MMAP},
        {"trim-threshold", required_argument, NULL, O_TRIM},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"source", required_argument, NULL, O_SOURCE},
        {"dialect", required_argument, NULL, O_DIALECT},
        {"check-every", required_argument, NULL, O_CHECK},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct hl_strs rows = {0}, presets = {0}, bases = {0}, mmaps = {0}, trims = {0}, traces = {0}, named = {0};
    struct param *params = calloc((size_t)argc + 1, sizeof *params);
    size_t nparams = 0;
    const char *repeat = NULL, *source = NULL, *dialect = NULL, *check = NULL, *outpath = NULL;
    int have_baseline = 0, rc = 0, c;
    char err[512];
    uint64_t v;
    if (!params)
        return usage_fail(cmd, "%s", strerror(ENOMEM));
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "p:o:h", longopts, cmd)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "all") == 0) {
                for (size_t i = 0; i < hl_policy_count(); i++)
                    if (!strs_has(&rows, hl_policy_at(i)->name) && hl_strs_add(&rows, hl_policy_at(i)->name))
                        goto nomem;
            } else if (strncmp(optarg, "mm:", 3) == 0 && optarg[3] && has_glob(optarg + 3)) {
                glob_t g;
                if (glob(optarg + 3, 0, NULL, &g) != 0) {
                    rc = usage_fail(cmd, "-p %s: no file matches", optarg);
                    goto out;
                }
                for (size_t i = 0; i < g.gl_pathc && !rc; i++) {
                    char buf[PATH_MAX + 4];
                    snprintf(buf, sizeof buf, "mm:%s", g.gl_pathv[i]);
                    if (!strs_has(&rows, buf) && hl_strs_add(&rows, buf))
                        rc = usage_fail(cmd, "%s", strerror(ENOMEM));
                }
                globfree(&g);
                if (rc)
                    goto out;
            } else if (!strs_has(&rows, optarg) && hl_strs_add(&rows, optarg)) {
                goto nomem;
            }
            break;
        case O_PARAM: {
            struct param *p = &params[nparams];
            const char *colon = strchr(optarg, ':'), *eq = colon ? strchr(colon, '=') : NULL;
            if (!colon || !eq || colon == optarg || eq == colon + 1 || !eq[1] ||
                (size_t)(colon - optarg) >= sizeof p->name || (size_t)(eq - colon - 1) >= sizeof p->key) {
                rc = usage_fail(cmd, "--param: expected NAME:KEY=V1,V2,..., got '%s'", optarg);
                goto out;
            }
            snprintf(p->name, sizeof p->name, "%.*s", (int)(colon - optarg), optarg);
            snprintf(p->key, sizeof p->key, "%.*s", (int)(eq - colon - 1), colon + 1);
            if (strs_add_list(&p->values, eq + 1))
                goto nomem;
            if (!strs_has(&named, p->name) && hl_strs_add(&named, p->name))
                goto nomem;
            nparams++;
            break;
        }
        case O_PRESET:
            if (strs_add_list(&presets, optarg))
                goto nomem;
            break;
        case O_BASELINE:
            have_baseline = 1;
            if (strcmp(optarg, "none") != 0 && strs_add_list(&bases, optarg))
                goto nomem;
            break;
        case O_MMAP:
            if (strs_add_list(&mmaps, optarg))
                goto nomem;
            break;
        case O_TRIM:
            if (strs_add_list(&trims, optarg))
                goto nomem;
            break;
        case O_REPEAT:
            if (hl_parse_u64_prefixed(optarg, 1000, &v) || v == 0) {
                rc = usage_fail(cmd, "--repeat: expected 1..1000, got '%s'", optarg);
                goto out;
            }
            repeat = optarg;
            break;
        case O_SOURCE:
            if (strcmp(optarg, "region") != 0 && strcmp(optarg, "sbrk") != 0) {
                rc = usage_fail(cmd, "--source: expected region or sbrk, got '%s'", optarg);
                goto out;
            }
            source = optarg;
            break;
        case O_DIALECT:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "classic") != 0 && strcmp(optarg, "cmu") != 0) {
                rc = usage_fail(cmd, "--dialect: expected auto, classic or cmu, got '%s'", optarg);
                goto out;
            }
            dialect = optarg;
            break;
        case O_CHECK:
            if (hl_parse_u64_prefixed(optarg, (uint64_t)1 << 62, &v) || v == 0) {
                rc = usage_fail(cmd, "--check-every: expected a positive count, got '%s'", optarg);
                goto out;
            }
            check = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            goto out;
        default:
            rc = EXIT_USAGE;
            goto out;
        }
    }
    /* the rows: -p in order, then each --param NAME's product */
    for (size_t i = 0; i < named.n; i++)
        if (expand_params(params, nparams, named.v[i], &rows))
            goto nomem;
    if (rows.n == 0 && !(have_baseline && bases.n))
        for (size_t i = 0; i < hl_policy_count(); i++)
            if (hl_strs_add(&rows, hl_policy_at(i)->name))
                goto nomem;
    /* every row as replay will take it, now rather than as a failed cell */
    for (size_t i = 0; i < rows.n; i++) {
        if (strncmp(rows.v[i], "mm:", 3) == 0) {
            if (access(rows.v[i] + 3, R_OK) != 0) {
                hl_cli_error(cmd, "-p %s: %s", rows.v[i], strerror(errno));
                rc = EXIT_USAGE;
                goto out;
            }
            continue;
        }
        struct hl_policy_spec spec;
        if ((rc = hl_cli_policy(cmd, rows.v[i], &spec)) != 0 || (rc = hl_cli_policy_check(cmd, &spec, 0)) != 0)
            goto out;
    }
    if (!have_baseline && hl_strs_add(&bases, "glibc"))
        goto nomem;
    for (size_t i = 0; i < bases.n; i++) {
        struct hl_baseline b;
        if (hl_baseline_resolve(bases.v[i], &b, err, sizeof err) < 0) {
            rc = usage_fail(cmd, "--baseline: %s", err);
            goto out;
        }
    }
    if (presets.n == 0 && hl_strs_add(&presets, "linux"))
        goto nomem;
    for (size_t i = 0; i < presets.n; i++) {
        struct hl_replay_config cfg;
        if (hl_replay_preset(&cfg, presets.v[i]) != 0) {
            rc = usage_fail(cmd, "--preset: expected linux or malloclab, got '%s'", presets.v[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < mmaps.n + trims.n; i++) {
        const char *s = i < mmaps.n ? mmaps.v[i] : trims.v[i - mmaps.n];
        if (hl_parse_size(s, (uint64_t)1 << 46, &v)) {
            hl_cli_error(cmd, "--%s-threshold: expected sizes in bytes (k, m, g allowed), got '%s'",
                         i < mmaps.n ? "mmap" : "trim", s);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (optind >= argc) {
        hl_cli_error(cmd, "which traces? (heaplab sweep plan [options] -o PLAN TRACE...; see 'heaplab sweep --help')");
        rc = EXIT_USAGE;
        goto out;
    }
    for (int i = optind; i < argc; i++)
        if ((rc = add_traces(cmd, argv[i], &traces)) != 0)
            goto out;

    /* the cells, into memory first: the plan's id is a hash of them */
    char *body = NULL;
    size_t bodylen = 0;
    FILE *mem = open_memstream(&body, &bodylen);
    if (!mem)
        goto nomem;
    const char *pass[] = {"--repeat", repeat, "--source", source, "--dialect", dialect, "--check-every", check, NULL};
    size_t ncells = 0;
    for (size_t t = 0; t < traces.n; t++)
        for (size_t p = 0; p < presets.n; p++)
            for (size_t m = 0; m < (mmaps.n ? mmaps.n : 1); m++)
                for (size_t k = 0; k < (trims.n ? trims.n : 1); k++, ncells++)
                    write_cell(mem, presets.v[p], mmaps.n ? mmaps.v[m] : NULL, trims.n ? trims.v[k] : NULL, pass,
                               &rows, &bases, traces.v[t]);
    if (fclose(mem) != 0) {
        free(body);
        goto nomem;
    }
    char *words[] = {body};
    char plan_id[HL_CELL_ID_LEN + 1];
    hl_cell_id(words, 1, plan_id);
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        hl_cli_error(cmd, "%s: %s", outpath, strerror(errno));
        free(body);
        rc = EXIT_USAGE;
        goto out;
    }
    fprintf(out, "%s\n# plan: %s\n# heaplab: %s\n# made with: heaplab sweep plan", HL_SWEEP_FORMAT, plan_id,
            hl_version);
    for (int i = 1; i < argc; i++) {
        fputc(' ', out);
        hl_arg_write(argv[i], out);
    }
    fprintf(out,
            "\n# %zu cells of %zu rows, a line each: the arguments of one `heaplab replay` (the sweep adds\n"
            "# -f csv -o).  A cell's id is a hash of its words (heaplab sweep list shows them): edit,\n"
            "# add or remove lines freely; a line left alone keeps its id and its result.\n",
            ncells, rows.n + bases.n);
    fwrite(body, 1, bodylen, out);
    free(body);
    if ((outpath ? fclose(out) : fflush(out)) != 0) {
        hl_cli_error(cmd, "%s: %s", outpath ? outpath : "standard output", strerror(errno));
        rc = EXIT_USAGE;
        goto out;
    }
    if (outpath)
        fprintf(stderr, "heaplab: sweep plan: %s: %zu cells of %zu rows (plan %s)\n", outpath, ncells,
                rows.n + bases.n, plan_id);
    goto out;
nomem:
    rc = usage_fail(cmd, "%s", strerror(ENOMEM));
out:
    for (size_t i = 0; i < nparams; i++)
        hl_strs_free(&params[i].values);
    free(params);
    hl_strs_free(&rows);
    hl_strs_free(&presets);
    hl_strs_free(&bases);
    hl_strs_free(&mmaps);
    hl_strs_free(&trims);
    hl_strs_free(&traces);
    hl_strs_free(&named);
    return rc;
}

/* ---- results -------------------------------------------------------------------------------- */

static void result_path(const char *dir, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.csv", dir, id);
}

static int have_result(const char *dir, const char *id)
{
    char path[PATH_MAX];
    result_path(dir, id, path, sizeof path);
    return access(path, F_OK) == 0;
}

/* ---- list ----------------------------------------------------------------------------------- */

static int sweep_list(int argc, char **argv)
{
    const char *cmd = "sweep list";
    enum { O_IDS = 256, O_TODO, O_RESULTS };
    static const struct option longopts[] = {
        {"ids", no_argument, NULL, O_IDS},
        {"todo", no_argument, NULL, O_TODO},
        {"results", required_argument, NULL, O_RESULTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ids = 0, todo = 0, c;
    const char *dir = "results";
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "h", longopts, cmd)) != -1) {
        switch (c) {
        case O_IDS:
            ids = 1;
            break;
        case O_TODO:
            todo = 1;
            break;
        case O_RESULTS:
            dir = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return usage_fail(cmd, "%s", "expected one plan (heaplab sweep list PLAN)");
    struct hl_plan plan;
    int rc = hl_plan_load(argv[optind], cmd, &plan);
    for (size_t i = 0; !rc && i < plan.n; i++) {
        const struct hl_cell *cell = &plan.cells[i];
        if (todo && have_result(dir, cell->id))
            continue;
        if (ids)
            printf("%s\n", cell->id);
        else
            printf("%s  %s\n", cell->id, cell->line);
    }
    hl_plan_free(&plan);
    return rc;
}

/* ---- running a cell ------------------------------------------------------------------------ */

struct prov { /* the provenance columns of this process's rows */
    char machine[256], cpu[256];
};

static void prov_init(struct prov *p)
{
    hl_machine_name(p->machine, sizeof p->machine);
    hl_cpu_model(p->cpu, sizeof p->cpu);
}

struct replay_arg {
    const struct hl_cell *cell;
    const char *out;
};

/* In the child: heaplab replay CELL -f csv -o OUT, its standard output on
 * standard error (a cell's output is its file). */
static int replay_child(void *arg)
{
    const struct replay_arg *a = arg;
    char **av = calloc((size_t)a->cell->argc + 6, sizeof *av);
    if (!av)
        return EXIT_USAGE;
    int n = 0;
    av[n++] = "replay";
    for (int i = 0; i < a->cell->argc; i++)
        av[n++] = a->cell->argv[i];
    av[n++] = "-f";
    av[n++] = "csv";
    av[n++] = "-o";
    av[n++] = (char *)a->out;
    dup2(2, 1);
    return hl_cmd_replay(n, av);
}

/* Replay's CSV at from, with the provenance columns, into to. 0, or -1
 * with what is wrong in err. */
static int add_provenance(const char *from, const char *to, const struct hl_plan *plan, const struct hl_cell *cell,
                          const struct prov *pv, char *err, size_t errlen)
{
    struct hl_csv in;
    if (hl_csv_open_file(&in, from) != 0)
        return snprintf(err, errlen, "%s: %s", from, strerror(errno)), -1;
    FILE *out = fopen(to, "w");
    if (!out) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        hl_csv_close(&in);
        return -1;
    }
    size_t ncols = 0;
    int r, rc = 0;
    char what[256];
    while ((r = hl_csv_read(&in, what, sizeof what)) == 1) {
        if (ncols == 0)
            ncols = in.nfields;
        if (in.nfields != ncols) {
            snprintf(err, errlen, "%s:%lu: %zu fields, the header has %zu", from, in.line, in.nfields, ncols);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < in.nfields; i++) {
            if (i)
                fputc(',', out);
            hl_output_csv_string(hl_csv_field(&in, i), out);
        }
        if (in.line == 1) {
#define HL_PROV_NAME(name, doc) fputs("," #name, out);
            HL_SWEEP_COLUMNS(HL_PROV_NAME)
#undef HL_PROV_NAME
        } else {
            const char *vals[HL_SWEEP_NCOLUMNS] = {pv->machine, pv->cpu, hl_version, plan->id, cell->id};
            for (size_t i = 0; i < HL_SWEEP_NCOLUMNS; i++) {
                fputc(',', out);
                hl_output_csv_string(vals[i], out);
            }
        }
        fputc('\n', out);
    }
    if (r < 0) {
        snprintf(err, errlen, "%.2048s:%lu: %.200s", from, in.line, what);
        rc = -1;
    }
    hl_csv_close(&in);
    if (!rc && (fflush(out) != 0 || fsync(fileno(out)) != 0)) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        rc = -1;
    }
    if (fclose(out) != 0 && !rc) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Run one cell here: replay into a temporary file in dir, the provenance
 * added into another, renamed to dir/ID.csv.  The exit status (0, 1 a row
 * failed but the result is written, 2 no result). */
static int run_cell(const struct hl_plan *plan, const struct hl_cell *cell, const char *dir, const struct prov *pv)
{
    char final[PATH_MAX], raw[PATH_MAX + 64], tmp[PATH_MAX + 64], err[PATH_MAX + 256], how[96];
    result_path(dir, cell->id, final, sizeof final);
    snprintf(raw, sizeof raw, "%s/.%s.%ld.replay.tmp", dir, cell->id, (long)getpid());
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, cell->id, (long)getpid());
    struct replay_arg a = {cell, raw};
    int status;
    if (hl_child_run(replay_child, &a, &status) != 0) {
        hl_cli_error("sweep", "cell %s: cannot run: %s", cell->id, strerror(errno));
        return EXIT_USAGE;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0 && code != 1) {
        unlink(raw);
        hl_cli_error("sweep", "cell %s (%s:%lu): replay %s: no result", cell->id, plan->path, cell->lineno,
                     hl_child_status(status, how, sizeof how));
        return EXIT_USAGE;
    }
    int rc = add_provenance(raw, tmp, plan, cell, pv, err, sizeof err);
    unlink(raw);
    if (rc == 0 && rename(tmp, final) != 0) {
        snprintf(err, sizeof err, "%s: %s", final, strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        hl_cli_error("sweep", "cell %s: %s: no result", cell->id, err);
        return EXIT_USAGE;
    }
    if (code == 1)
        hl_cli_error("sweep", "cell %s (%s:%lu): a row failed (its status column says how); the result is kept",
                     cell->id, plan->path, cell->lineno);
    return code;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           (double)ru->ru_stime.tv_usec / 1e6;
}

static int prepare_results(const char *cmd, const char *dir)
{
    if (hl_mkdirs(dir) != 0) {
        hl_cli_error(cmd, "%s: %s", dir, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

/* --index A[-B] into [*a, *b]. */
static int parse_range(const char *s, size_t n, size_t *a, size_t *b)
{
    char first[32];
    const char *dash = strchr(s, '-');
    uint64_t x, y;
    snprintf(first, sizeof first, "%.*s", dash ? (int)(dash - s) : (int)strlen(s), s);
    if (hl_parse_u64(first, UINT64_MAX - 1, &x) || (dash && hl_parse_u64(dash + 1, UINT64_MAX - 1, &y)))
        return -1;
    if (!dash)
        y = x;
    if (x > y || y >= n)
        return -1;
    *a = (size_t)x;
    *b = (size_t)y;
    return 0;
}

static int sweep_run(int argc, char **argv)
{
    const char *cmd = "sweep run";
    enum { O_CELL = 256, O_INDEX, O_RESULTS };
    static const struct option longopts[] = {
        {"cell", required_argument, NULL, O_CELL},
        {"index", required_argument, NULL, O_INDEX},
        {"results", required_argument, NULL, O_RESULTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **sel = calloc((size_t)argc + 1, sizeof *sel);
    int *is_index = calloc((size_t)argc + 1, sizeof *is_index);
    size_t nsel = 0;
    const char *dir = "results";
    int c, rc = 0;
    if (!sel || !is_index) {
        free(sel);
        free(is_index);
        return usage_fail(cmd, "%s", strerror(ENOMEM));
    }
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "h", longopts, cmd)) != -1) {
        switch (c) {
        case O_CELL:
        case O_INDEX:
            is_index[nsel] = c == O_INDEX;
            sel[nsel++] = optarg;
            break;
        case O_RESULTS:
            dir = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            goto out;
        default:
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (argc - optind != 1) {
        rc = usage_fail(cmd, "%s", "expected one plan (heaplab sweep run PLAN --cell ID)");
        goto out;
    }
    if (nsel == 0) {
        rc = usage_fail(cmd, "%s", "which cells? (--cell ID or --index A[-B]; heaplab sweep local runs them all)");
        goto out;
    }
    struct hl_plan plan;
    if ((rc = hl_plan_load(argv[optind], cmd, &plan)) != 0)
        goto done;
    /* every selection is checked before anything runs */
    size_t *from = calloc(nsel, sizeof *from), *to = calloc(nsel, sizeof *to);
    if (!from || !to) {
        rc = usage_fail(cmd, "%s", strerror(ENOMEM));
        goto sel_done;
    }
    for (size_t i = 0; i < nsel; i++) {
        if (is_index[i]) {
            if (parse_range(sel[i], plan.n, &from[i], &to[i]) != 0) {
                hl_cli_error(cmd, "--index %s: expected A or A-B with A <= B < %zu (the plan's cells)", sel[i],
                             plan.n);
                rc = EXIT_USAGE;
                goto sel_done;
            }
        } else {
            const struct hl_cell *cell = hl_plan_find(&plan, sel[i]);
            if (!cell) {
                hl_cli_error(cmd, "%s: no cell %s (heaplab sweep list %s shows them)", plan.path, sel[i], plan.path);
                rc = EXIT_USAGE;
                goto sel_done;
            }
            from[i] = to[i] = (size_t)(cell - plan.cells);
        }
    }
    if ((rc = prepare_results(cmd, dir)) != 0)
        goto sel_done;
    struct prov pv;
    prov_init(&pv);
    for (size_t i = 0; i < nsel; i++)
        for (size_t k = from[i]; k <= to[i]; k++) {
            const struct hl_cell *cell = &plan.cells[k];
            if (have_result(dir, cell->id)) {
                fprintf(stderr, "heaplab: sweep: cell %s: already done (%s/%s.csv)\n", cell->id, dir, cell->id);
                continue;
            }
            struct rusage before, after;
            getrusage(RUSAGE_CHILDREN, &before);
            double t0 = now_s();
            int r = run_cell(&plan, cell, dir, &pv);
            getrusage(RUSAGE_CHILDREN, &after);
            if (r != EXIT_USAGE)
                fprintf(stderr, "heaplab: sweep: cell %s: done in %.2f s (CPU %.2f s)\n", cell->id, now_s() - t0,
                        cpu_s(&after) - cpu_s(&before));
            rc = r == EXIT_USAGE ? EXIT_FAILED : r > rc ? r : rc;
        }
sel_done:
    free(from);
    free(to);
done:
    hl_plan_free(&plan);
out:
    free(sel);
    free(is_index);
    return rc;
}

/* ---- local: N cells at once ----------------------------------------------------------------------- */

struct local_arg {
    const struct hl_plan *plan;
    const struct hl_cell *cell;
    const char *dir;
    const struct prov *pv;
};

static void log_path(const char *dir, const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.log", dir, id);
}

/* A cell of sweep local: what it says on stderr (the trace's quirks, a
 * failure) goes to DIR/ID.log, removed when empty, so that a thousand
 * cells do not repeat the same warnings on the terminal. */
static int local_child(void *arg)
{
    const struct local_arg *a = arg;
    char log[PATH_MAX];
    log_path(a->dir, a->cell->id, log, sizeof log);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    int rc = run_cell(a->plan, a->cell, a->dir, a->pv);
    struct stat st;
    if (fd >= 0 && fstat(2, &st) == 0 && st.st_size == 0)
        unlink(log);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int sweep_local(int argc, char **argv)
{
    const char *cmd = "sweep local";
    enum { O_RESULTS = 256 };
    static const struct option longopts[] = {
        {"jobs", required_argument, NULL, 'j'},
        {"results", required_argument, NULL, O_RESULTS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = "results";
    uint64_t jobs = 1;
    int c;
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "j:h", longopts, cmd)) != -1) {
        switch (c) {
        case 'j':
            if (hl_parse_u64(optarg, 256, &jobs) || jobs == 0)
                return usage_fail(cmd, "--jobs: expected 1..256, got '%s'", optarg);
            break;
        case O_RESULTS:
            dir = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return usage_fail(cmd, "%s", "expected one plan (heaplab sweep local PLAN -j N)");
    struct hl_plan plan;
    int rc = hl_plan_load(argv[optind], cmd, &plan);
    if (rc || (rc = prepare_results(cmd, dir)) != 0) {
        hl_plan_free(&plan);
        return rc;
    }
    struct prov pv;
    prov_init(&pv);
    pid_t *pid = calloc(plan.n + 1, sizeof *pid);
    double *start = calloc(plan.n + 1, sizeof *start), *cpu = calloc(plan.n + 1, sizeof *cpu);
    if (!pid || !start || !cpu) {
        free(pid);
        free(start);
        free(cpu);
        hl_plan_free(&plan);
        return usage_fail(cmd, "%s", strerror(ENOMEM));
    }
    size_t next = 0, ran = 0, skipped = 0, failed = 0, rowfail = 0, finished = 0;
    unsigned running = 0;
    int progress = isatty(2);
    double t0 = now_s();
    while (next < plan.n || running) {
        while (running < jobs && next < plan.n) {
            size_t i = next++;
            if (have_result(dir, plan.cells[i].id)) {
                skipped++;
                continue;
            }
            struct local_arg a = {&plan, &plan.cells[i], dir, &pv};
            start[i] = now_s();
            if ((pid[i] = hl_child_fork(local_child, &a)) < 0) {
                hl_cli_error(cmd, "cell %s: cannot fork: %s", plan.cells[i].id, strerror(errno));
                failed++;
                continue;
            }
            running++;
        }
        if (!running)
            break;
        int status;
        struct rusage ru;
        pid_t p;
        while ((p = wait4(-1, &status, 0, &ru)) < 0 && errno == EINTR)
            ;
        if (p < 0)
            break;
        for (size_t i = 0; i < plan.n; i++)
            if (pid[i] == p) {
                pid[i] = 0;
                running--;
                cpu[ran++] = cpu_s(&ru);
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                if (code == 1)
                    rowfail++;
                else if (code != 0)
                    failed++;
                if (code != 0) {
                    char log[PATH_MAX], how[96];
                    log_path(dir, plan.cells[i].id, log, sizeof log);
                    hl_cli_error(cmd, "cell %s (%s:%lu): %s (%s)", plan.cells[i].id, plan.path, plan.cells[i].lineno,
                                 code == 1 ? "a row failed, the result is kept" : hl_child_status(status, how, sizeof how),
                                 access(log, F_OK) == 0 ? log : "no log");
                }
                finished++;
                if (progress)
                    fprintf(stderr, "\r\033[K[sweep %zu/%zu] %s %.1f s", finished + skipped, plan.n,
                            plan.cells[i].id, now_s() - start[i]);
                break;
            }
    }
    double wall = now_s() - t0;
    if (progress)
        fputs("\r\033[K", stderr);
    qsort(cpu, ran, sizeof *cpu, cmp_double);
    double total = 0;
    for (size_t i = 0; i < ran; i++)
        total += cpu[i];
    fprintf(stderr, "heaplab: sweep local: %zu cells: %zu run, %zu already done, %zu failed, %zu with a failed row; "
                    "%.1f s wall with -j %llu",
            plan.n, ran, skipped, failed, rowfail, wall, (unsigned long long)jobs);
    if (ran)
        fprintf(stderr, "; CPU per cell: median %.3f s (%.3f-%.3f), total %.1f s", cpu[ran / 2], cpu[0],
                cpu[ran - 1], total);
    fputc('\n', stderr);
    free(pid);
    free(start);
    free(cpu);
    hl_plan_free(&plan);
    return failed ? EXIT_FAILED : rowfail ? EXIT_FAILED : 0;
}

/* ---- emit ------------------------------------------------------------------------------------ */

/* heaplab's own path, for the command lines the emitters write. */
static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        snprintf(buf, len, "heaplab");
    else
        buf[n] = 0;
}

static void abs_path(const char *p, char *buf, size_t len)
{
    char cwd[PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(buf, len, "%s", p);
    else
        snprintf(buf, len, "%s/%s", cwd, p);
}

static int emit_parallel(const struct hl_plan *plan, int argc, char **argv)
{
    const char *cmd = "sweep emit parallel";
    enum { O_SSH = 256, O_JOBLOG, O_RETURN, O_RESULTS, O_HEAPLAB };
    static const struct option longopts[] = {
        {"sshloginfile", required_argument, NULL, O_SSH},
        {"jobs", required_argument, NULL, 'j'},
        {"joblog", required_argument, NULL, O_JOBLOG},
        {"return", no_argument, NULL, O_RETURN},
        {"results", required_argument, NULL, O_RESULTS},
        {"heaplab", required_argument, NULL, O_HEAPLAB},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *ssh = NULL, *jobs = NULL, *joblog = NULL, *dir = "results", *heaplab = NULL;
    int ret = 0, c;
    uint64_t v;
    char self[PATH_MAX], log[PATH_MAX + 32], cwd[PATH_MAX];
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "j:h", longopts, cmd)) != -1) {
        switch (c) {
        case O_SSH:
            ssh = optarg;
            break;
        case 'j':
            if (hl_parse_u64(optarg, 4096, &v) || v == 0)
                return usage_fail(cmd, "--jobs: expected 1..4096, got '%s'", optarg);
            jobs = optarg;
            break;
        case O_JOBLOG:
            joblog = optarg;
            break;
        case O_RETURN:
            ret = 1;
            break;
        case O_RESULTS:
            dir = optarg;
            break;
        case O_HEAPLAB:
            heaplab = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_fail(cmd, "unexpected argument '%s' (one plan)", argv[optind]);
    if (ret && !ssh)
        return usage_fail(cmd, "%s", "--return brings results back from other hosts: it needs --sshloginfile");
    if (ssh && access(ssh, R_OK) != 0) {
        hl_cli_error(cmd, "--sshloginfile %s: %s", ssh, strerror(errno));
        return EXIT_USAGE;
    }
    if (!heaplab) {
        self_path(self, sizeof self);
        heaplab = self;
    }
    if (!joblog) {
        snprintf(log, sizeof log, "%s/parallel.joblog", dir);
        joblog = log;
    }
    if (hl_mkdirs(dir) != 0) /* parallel writes its log there before any cell has */
        return usage_fail(cmd, "--results: %s", strerror(errno));
    if (!getcwd(cwd, sizeof cwd))
        return usage_fail(cmd, "the current folder: %s", strerror(errno));
    /* the cells' ids on standard input; a job is `heaplab sweep run PLAN
     * --cell ID`, which skips a cell already done */
    hl_arg_write(heaplab, stdout);
    fputs(" sweep list --ids ", stdout);
    hl_arg_write(plan->path, stdout);
    fputs(" | parallel --joblog ", stdout);
    hl_arg_write(joblog, stdout);
    fputs(" --resume-failed", stdout);
    if (jobs)
        printf(" -j %s", jobs);
    if (ssh) {
        fputs(" --sshloginfile ", stdout);
        hl_arg_write(ssh, stdout);
        fputs(" --workdir ", stdout);
        hl_arg_write(cwd, stdout);
    }
    if (ret) {
        fputs(" --return ", stdout);
        hl_arg_write(dir, stdout);
        fputs("/{}.csv", stdout);
    }
    fputc(' ', stdout);
    hl_arg_write(heaplab, stdout);
    fputs(" sweep run ", stdout);
    hl_arg_write(plan->path, stdout);
    fputs(" --results ", stdout);
    hl_arg_write(dir, stdout);
    fputs(" --cell {}\n", stdout);
    return fflush(stdout) ? EXIT_FAILED : 0;
}

/* A value written into the script between single quotes. */
static void sh_value(FILE *out, const char *name, const char *value)
{
    fprintf(out, "%s=", name);
    fputc('\'', out);
    for (const char *s = value; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputs("'\n", out);
}

static int emit_slurm(const struct hl_plan *plan, int argc, char **argv)
{
    const char *cmd = "sweep emit slurm";
    enum { O_PER = 256, O_LIMIT, O_CPUS, O_MEM, O_TIME, O_PART, O_MERGED, O_RESULTS, O_HEAPLAB };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"per-task", required_argument, NULL, O_PER},
        {"limit", required_argument, NULL, O_LIMIT},
        {"cpus", required_argument, NULL, O_CPUS},
        {"mem", required_argument, NULL, O_MEM},
        {"time", required_argument, NULL, O_TIME},
        {"partition", required_argument, NULL, O_PART},
        {"merged", required_argument, NULL, O_MERGED},
        {"results", required_argument, NULL, O_RESULTS},
        {"heaplab", required_argument, NULL, O_HEAPLAB},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL, *mem = "1G", *time_limit = "01:00:00", *part = NULL, *merged = "all.csv",
               *dir = "results", *heaplab = NULL;
    uint64_t per = 1, limit = 64, cpus = 1;
    int c;
    char self[PATH_MAX], cwd[PATH_MAX], planabs[PATH_MAX * 2], dirabs[PATH_MAX * 2], mergedabs[PATH_MAX * 2];
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "o:h", longopts, cmd)) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case O_PER:
            if (hl_parse_u64(optarg, 1000000, &per) || per == 0)
                return usage_fail(cmd, "--per-task: expected a positive count, got '%s'", optarg);
            break;
        case O_LIMIT:
            if (hl_parse_u64(optarg, 1000000, &limit) || limit == 0)
                return usage_fail(cmd, "--limit: expected a positive count, got '%s'", optarg);
            break;
        case O_CPUS:
            if (hl_parse_u64(optarg, 4096, &cpus) || cpus == 0)
                return usage_fail(cmd, "--cpus: expected 1..4096, got '%s'", optarg);
            break;
        case O_MEM:
            if (!*optarg || strspn(optarg, "0123456789") == 0 || strspn(optarg, "0123456789KMGTkmgt") != strlen(optarg))
                return usage_fail(cmd, "--mem: expected a Slurm size (4096, 2G), got '%s'", optarg);
            mem = optarg;
            break;
        case O_TIME:
            if (!*optarg || strspn(optarg, "0123456789:-") != strlen(optarg))
                return usage_fail(cmd, "--time: expected a Slurm time ([D-]HH:MM:SS, MM), got '%s'", optarg);
            time_limit = optarg;
            break;
        case O_PART:
            if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,") !=
                                strlen(optarg))
                return usage_fail(cmd, "--partition: expected a partition name, got '%s'", optarg);
            part = optarg;
            break;
        case O_MERGED:
            merged = optarg;
            break;
        case O_RESULTS:
            dir = optarg;
            break;
        case O_HEAPLAB:
            heaplab = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_fail(cmd, "unexpected argument '%s' (one plan)", argv[optind]);
    if (plan->n == 0)
        return usage_fail(cmd, "%s: no cells", plan->path);
    if (!heaplab) {
        self_path(self, sizeof self);
        heaplab = self;
    }
    if (!getcwd(cwd, sizeof cwd))
        return usage_fail(cmd, "the current folder: %s", strerror(errno));
    if (hl_mkdirs(dir) != 0) /* the tasks' logs go there */
        return usage_fail(cmd, "--results: %s", strerror(errno));
    abs_path(plan->path, planabs, sizeof planabs);
    abs_path(dir, dirabs, sizeof dirabs);
    abs_path(merged, mergedabs, sizeof mergedabs);
    size_t tasks = (plan->n + per - 1) / per;
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        hl_cli_error(cmd, "%s: %s", outpath, strerror(errno));
        return EXIT_USAGE;
    }
    fprintf(out,
            "#!/bin/bash\n"
            "# heaplab sweep on Slurm: plan %s, %zu cells, %llu a task: %zu array tasks.\n"
            "#   bash THIS-SCRIPT                      submit the array, and the merge job that waits for it\n"
            "#   sbatch THIS-SCRIPT                    the array alone\n"
            "#   SLURM_ARRAY_TASK_ID=0 bash THIS-SCRIPT   one task here, by hand\n"
            "# A task skips the cells that already have a result: resubmitting runs what is missing.\n"
            "# Tasks find their cells by position in the plan: emit the script again after editing it.\n",
            plan->id, plan->n, (unsigned long long)per, tasks);
    fprintf(out, "#SBATCH --job-name=heaplab-%s\n", plan->id);
    fprintf(out, "#SBATCH --array=0-%zu%%%llu\n", tasks - 1, (unsigned long long)limit);
    fprintf(out, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%llu\n#SBATCH --mem=%s\n#SBATCH --time=%s\n",
            (unsigned long long)cpus, mem, time_limit);
    if (part)
        fprintf(out, "#SBATCH --partition=%s\n", part);
    /* #SBATCH lines take no quoting: paths with blanks are left to the command line */
    if (!strpbrk(cwd, " \t'\"") && !strpbrk(dirabs, " \t'\""))
        fprintf(out, "#SBATCH --chdir=%s\n#SBATCH --output=%s/slurm-%%A_%%a.out\n", cwd, dirabs);
    fputs("set -eu\nself=$(readlink -f \"$0\")\n", out);
    sh_value(out, "heaplab", heaplab);
    sh_value(out, "plan", planabs);
    sh_value(out, "results", dirabs);
    sh_value(out, "merged", mergedabs);
    sh_value(out, "workdir", cwd);
    fprintf(out, "cells=%zu\nper_task=%llu\n", plan->n, (unsigned long long)per);
    fprintf(out,
            "cd \"$workdir\"\n"
            "\n"
            "if [ -n \"${SLURM_ARRAY_TASK_ID:-}\" ]; then\n"
            "    # an array task: its cells, by their position in the plan\n"
            "    first=$((SLURM_ARRAY_TASK_ID * per_task))\n"
            "    last=$((first + per_task - 1))\n"
            "    [ \"$last\" -lt \"$cells\" ] || last=$((cells - 1))\n"
            "    exec \"$heaplab\" sweep run \"$plan\" --results \"$results\" --index \"$first-$last\"\n"
            "fi\n"
            "\n"
            "# submit: the array, then the merge once every task has ended (afterany: a\n"
            "# failed task leaves its cells missing, and the merge names them)\n"
            "array=$(sbatch --parsable \"$self\")\n"
            "array=${array%%%%;*}\n"
            "merge=$(sbatch --parsable --job-name=heaplab-merge-%s --dependency=afterany:\"$array\" \\\n"
            "    --ntasks=1 --time=%s%s%s --chdir=\"$workdir\" --output=\"$results/slurm-merge-%%j.out\" \\\n"
            "    --wrap=\"$(printf '%%q ' \"$heaplab\" merge --plan \"$plan\" -o \"$merged\" \"$results\")\")\n"
            "merge=${merge%%%%;*}\n"
            "echo \"heaplab: sweep: array job $array ($cells cells), merge job $merge -> $merged\"\n",
            plan->id, time_limit, part ? " --partition=" : "", part ? part : "");
    if ((outpath ? fclose(out) : fflush(out)) != 0) {
        hl_cli_error(cmd, "%s: %s", outpath ? outpath : "standard output", strerror(errno));
        return EXIT_USAGE;
    }
    if (outpath) {
        chmod(outpath, 0755);
        fprintf(stderr, "heaplab: sweep emit slurm: %s: %zu array tasks of %llu cells (bash %s submits them)\n",
                outpath, tasks, (unsigned long long)per, outpath);
    }
    return 0;
}

static int sweep_emit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        if (argc >= 2) {
            fputs(usage_text, stdout);
            return 0;
        }
        return usage_fail("sweep emit", "%s", "which engine? (heaplab sweep emit parallel|slurm PLAN)");
    }
    int slurm = strcmp(argv[1], "slurm") == 0;
    if (!slurm && strcmp(argv[1], "parallel") != 0)
        return usage_fail("sweep emit", "unknown engine '%s' (parallel or slurm)", argv[1]);
    /* the plan is the first word that is not an option */
    int pi = 2;
    for (; pi < argc; pi++)
        if (argv[pi][0] != '-')
            break;
        else if (strcmp(argv[pi], "-h") == 0 || strcmp(argv[pi], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (pi >= argc)
        return usage_fail(slurm ? "sweep emit slurm" : "sweep emit parallel", "%s",
                          "which plan? (heaplab sweep emit ENGINE PLAN [options])");
    struct hl_plan plan;
    int rc = hl_plan_load(argv[pi], slurm ? "sweep emit slurm" : "sweep emit parallel", &plan);
    if (rc == 0) {
        /* the options without the plan: argv[1] stands for the command */
        char **rest = calloc((size_t)argc, sizeof *rest);
        int n = 0;
        if (!rest)
            rc = usage_fail("sweep emit", "%s", strerror(ENOMEM));
        else {
            for (int i = 1; i < argc; i++)
                if (i != pi)
                    rest[n++] = argv[i];
            rc = slurm ? emit_slurm(&plan, n, rest) : emit_parallel(&plan, n, rest);
            free(rest);
        }
    }
    hl_plan_free(&plan);
    return rc;
}

int hl_cmd_sweep(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {{"plan", sweep_plan}, {"list", sweep_list}, {"run", sweep_run}, {"local", sweep_local},
                {"emit", sweep_emit}};
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    const char *names[sizeof subs / sizeof subs[0]];
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
        names[i] = subs[i].name;
    }
    const char *near = hl_suggest(argv[1], names, sizeof names / sizeof names[0]);
    if (near)
        hl_cli_error("sweep", "unknown step '%s' (did you mean '%s'? see 'heaplab sweep --help')", argv[1], near);
    else
        hl_cli_error("sweep", "unknown step '%s' (plan, list, run, local or emit; see 'heaplab sweep --help')",
                     argv[1]);
    return EXIT_USAGE;
}
