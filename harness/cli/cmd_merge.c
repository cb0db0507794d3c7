/*
 * cmd_merge.c - heaplab merge: a sweep's results (RESULTS/ID.csv, one a
 * cell) as one CSV with replay's columns and the provenance columns.
 *
 * It refuses results of different heaplab versions or plans (timings and
 * even placements may differ between versions) and a cell present twice,
 * unless --force; with --plan it writes the cells in the plan's order,
 * leaves out results of cells no longer in the plan (a line edited since)
 * and names the cells that have no result yet.  The rows are copied as
 * they are: util and fragmentation are deterministic and merge freely;
 * ops/s is comparable only within one machine, which the machine column
 * keeps (a cell's glibc row ran beside its policies, on its machine).
 *
 * Exit status: 0 merged; 1 merged, but cells of the plan have no result;
 * 2 bad usage or input, or a refusal (nothing is written then).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "csv.h"
#include "output.h"
#include "sweep.h"
#include "util.h"

static const char usage_text[] =
    "usage: heaplab merge [--plan PLAN] [--force] [-o OUT.csv] RESULT.csv|DIR...\n"
    "\n"
    "A sweep's results (heaplab sweep) as one CSV: replay's columns and machine,\n"
    "cpu_model, heaplab_version, plan, cell.  A folder stands for its *.csv files.\n"
    "\n"
    "options:\n"
    "      --plan PLAN     check against the plan: its id, the cells it has no result\n"
    "                      for (exit status 1), results of cells it no longer has (left\n"
    "                      out); the rows in the plan's order\n"
    "      --force         merge results of different heaplab versions or plans, and keep\n"
    "                      the first of a cell present twice\n"
    "      --where COLUMN=VALUE  only the cells with a row whose COLUMN is VALUE\n"
    "                      (preset=linux, mmap_threshold=65536, machine=NAME: one chart's\n"
    "                      worth; repeatable, all must hold)\n"
    "  -o, --output FILE   write to FILE (through a temporary file and a rename) instead\n"
    "                      of standard output\n"
    "\n"
    "ops/s is comparable only between rows of one machine: compare policies as\n"
    "ratios to the glibc row of the same cell.  util and frag merge freely.\n";

struct result { /* one input file */
    char *path;
    char *rows; /* its rows as CSV text, each with its newline */
    size_t len;
    char cell[64], plan[64], version[256], machine[256];
    size_t nrows, failed;
    int has_glibc;
    unsigned matched; /* bit i: a row has --where i's value */
    int dup;  /* a second file of a cell already merged */
    int used; /* written */
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A folder: its *.csv files (not the hidden temporary ones), sorted. */
static int add_dir(const char *dir, struct hl_strs *in)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct hl_strs mine = {0};
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !hl_ends_with(e->d_name, ".csv"))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        rc = hl_strs_add(&mine, p);
    }
    closedir(d);
    qsort(mine.v, mine.n, sizeof *mine.v, cmp_str);
    for (size_t i = 0; i < mine.n && !rc; i++)
        rc = hl_strs_add(in, mine.v[i]);
    hl_strs_free(&mine);
    return rc;
}

/* The columns a result file has: replay's, then the provenance. */
static int expected_header(char ***names, size_t *n)
{
    static const char *const cols[] = {
#define HL_NAME(name, type, doc) #name,
        HL_RESULT_COLUMNS(HL_NAME)
#undef HL_NAME
#define HL_PNAME(name, doc) #name,
            HL_SWEEP_COLUMNS(HL_PNAME)
#undef HL_PNAME
    };
    *names = (char **)(uintptr_t)cols;
    *n = sizeof cols / sizeof cols[0];
    return 0;
}

static int bad(const char *path, unsigned long line, const char *what)
{
    if (line)
        hl_cli_error("merge", "%s:%lu: %s", path, line, what);
    else
        hl_cli_error("merge", "%s: %s", path, what);
    return 2;
}

struct where { /* --where COLUMN=VALUE */
    size_t col;
    const char *value;
};

/* Read one result file.  0, or 2 after a message. */
static int read_result(struct result *r, const struct where *ws, size_t nw)
{
    char **want;
    size_t nwant;
    expected_header(&want, &nwant);
    size_t base = nwant - HL_SWEEP_NCOLUMNS;
    struct hl_csv in;
    char what[512];
    if (hl_csv_open_file(&in, r->path) != 0)
        return bad(r->path, 0, strerror(errno));
    FILE *mem = open_memstream(&r->rows, &r->len);
    if (!mem) {
        hl_csv_close(&in);
        return bad(r->path, 0, strerror(ENOMEM));
    }
    int rc = 0, k;
    size_t policy_col = 1, status_col = base - 1;
    while ((k = hl_csv_read(&in, what, sizeof what)) == 1) {
        if (in.line == 1) {
            int same = in.nfields == nwant;
            for (size_t i = 0; same && i < nwant; i++)
                same = strcmp(hl_csv_field(&in, i), want[i]) == 0;
            if (!same) {
                rc = bad(r->path, 1,
                         in.nfields == base ? "a replay CSV without the sweep's columns (heaplab sweep run writes them)"
                                            : "not a sweep result: its columns are not replay's and machine, "
                                              "cpu_model, heaplab_version, plan, cell");
                break;
            }
            continue;
        }
        if (in.nfields == 1 && !hl_csv_field(&in, 0)[0])
            continue; /* a blank line */
        if (in.nfields != nwant) {
            snprintf(what, sizeof what, "%zu fields, the header has %zu", in.nfields, nwant);
            rc = bad(r->path, in.line, what);
            break;
        }
        const char *cell = hl_csv_field(&in, base + 4), *plan = hl_csv_field(&in, base + 3),
                   *version = hl_csv_field(&in, base + 2), *machine = hl_csv_field(&in, base);
        if (r->nrows == 0) {
            snprintf(r->cell, sizeof r->cell, "%s", cell);
            snprintf(r->plan, sizeof r->plan, "%s", plan);
            snprintf(r->version, sizeof r->version, "%s", version);
            snprintf(r->machine, sizeof r->machine, "%s", machine);
        } else if (strcmp(r->cell, cell) != 0 || strcmp(r->plan, plan) != 0 || strcmp(r->version, version) != 0 ||
                   strcmp(r->machine, machine) != 0) {
            rc = bad(r->path, in.line, "a row of another cell, plan, version or machine than the first row's "
                                       "(a result file is one cell)");
            break;
        }
        if (!cell[0]) {
            rc = bad(r->path, in.line, "no cell id");
            break;
        }
        for (size_t i = 0; i < nw; i++)
            if (strcmp(hl_csv_field(&in, ws[i].col), ws[i].value) == 0)
                r->matched |= 1u << i;
        r->nrows++;
        r->failed += strcmp(hl_csv_field(&in, status_col), "ok") != 0;
        r->has_glibc |= strcmp(hl_csv_field(&in, policy_col), "baseline:glibc") == 0;
        for (size_t i = 0; i < in.nfields; i++) {
            if (i)
                fputc(',', mem);
            hl_output_csv_string(hl_csv_field(&in, i), mem);
        }
        fputc('\n', mem);
    }
    if (k < 0)
        rc = bad(r->path, in.line, what);
    if (!rc && in.line == 0)
        rc = bad(r->path, 0, "empty: not a sweep result");
    if (!rc && r->nrows == 0)
        rc = bad(r->path, 0, "no rows");
    hl_csv_close(&in);
    if (fclose(mem) != 0 && !rc)
        rc = bad(r->path, 0, strerror(ENOMEM));
    return rc;
}

/* The distinct values of a field over the results, for a refusal. */
static size_t distinct(struct result *rs, size_t n, size_t off, char *list, size_t len)
{
    size_t count = 0, k = 0;
    list[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = (const char *)&rs[i] + off;
        size_t j;
        for (j = 0; j < i && strcmp((const char *)&rs[j] + off, v) != 0; j++)
            ;
        if (j < i)
            continue;
        size_t cells = 0;
        for (j = i; j < n; j++)
            cells += strcmp((const char *)&rs[j] + off, v) == 0;
        char one[400];
        snprintf(one, sizeof one, "%s'%s' (%zu cells)", count ? ", " : "", v, cells);
        hl_msg_put(list, len, &k, one);
        count++;
    }
    return count;
}

int hl_cmd_merge(int argc, char **argv)
{
    enum { O_PLAN = 256, O_FORCE, O_WHERE };
    static const struct option longopts[] = {
        {"where", required_argument, NULL, O_WHERE},
        {"plan", required_argument, NULL, O_PLAN},
        {"force", no_argument, NULL, O_FORCE},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *planpath = NULL, *outpath = NULL;
    int force = 0, c, rc = 0;
    struct where ws[16];
    size_t nw = 0;
    char **names;
    size_t nnames;
    expected_header(&names, &nnames);
    optind = 1;
    while ((c = hl_cli_getopt(argc, argv, "o:h", longopts, "merge")) != -1) {
        switch (c) {
        case O_PLAN:
            planpath = optarg;
            break;
        case O_FORCE:
            force = 1;
            break;
        case O_WHERE: {
            const char *eq = strchr(optarg, '=');
            size_t col = nnames;
            for (size_t i = 0; eq && i < nnames; i++)
                if (strlen(names[i]) == (size_t)(eq - optarg) && strncmp(names[i], optarg, (size_t)(eq - optarg)) == 0)
                    col = i;
            if (col == nnames) {
                hl_cli_error("merge", "--where: expected COLUMN=VALUE with COLUMN one of the result's (preset, "
                                      "machine, regime, ...), got '%s'", optarg);
                return 2;
            }
            if (nw == sizeof ws / sizeof ws[0]) {
                hl_cli_error("merge", "--where: at most %zu", sizeof ws / sizeof ws[0]);
                return 2;
            }
            ws[nw++] = (struct where){col, eq + 1};
            break;
        }
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        hl_cli_error("merge", "which results? (heaplab merge [--plan PLAN] -o OUT.csv results/*.csv)");
        return 2;
    }
    struct hl_plan plan = {0};
    if (planpath && (rc = hl_plan_load(planpath, "merge", &plan)) != 0) {
        hl_plan_free(&plan);
        return rc;
    }
    struct hl_strs in = {0};
    for (int i = optind; i < argc && !rc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (add_dir(argv[i], &in) != 0)
                rc = bad(argv[i], 0, strerror(errno));
        } else if (hl_strs_add(&in, argv[i]) != 0) {
            rc = bad(argv[i], 0, strerror(ENOMEM));
        }
    }
    struct result *rs = calloc(in.n + 1, sizeof *rs);
    if (!rs && !rc)
        rc = bad("merge", 0, strerror(ENOMEM));
    size_t nr = 0;
    for (size_t i = 0; i < in.n && !rc; i++) {
        rs[nr].path = in.v[i];
        rc = read_result(&rs[nr], ws, nw);
        nr++;
    }
    char list[2048];
    char msg[4096];
    /* versions and plans: one each, unless --force */
    if (!rc && nr) {
        size_t nv = distinct(rs, nr, offsetof(struct result, version), list, sizeof list);
        if (nv > 1) {
            hl_cli_error("merge", "%s results from %zu heaplab versions: %s%s", force ? "merging" : "refusing:", nv,
                         list, force ? "" : " (--force merges them)");
            rc = force ? 0 : 2;
        }
    }
    if (!rc && nr) {
        size_t np = distinct(rs, nr, offsetof(struct result, plan), list, sizeof list);
        if (np > 1) {
            hl_cli_error("merge", "%s results of %zu plans: %s%s", force ? "merging" : "refusing:", np, list,
                         force ? "" : " (--force merges them)");
            rc = force ? 0 : 2;
        } else if (planpath && strcmp(rs[0].plan, plan.id) != 0) {
            hl_cli_error("merge", "%s results of plan '%s', but %s is plan '%s'%s", force ? "merging" : "refusing:",
                         rs[0].plan, planpath, plan.id, force ? "" : " (--force merges them)");
            rc = force ? 0 : 2;
        }
    }
    /* a cell twice */
    size_t dups = 0;
    for (size_t i = 0; i < nr && !rc; i++)
        for (size_t j = 0; j < i; j++)
            if (!rs[j].dup && strcmp(rs[i].cell, rs[j].cell) == 0) {
                rs[i].dup = 1;
                dups++;
                hl_cli_error("merge", "cell %s twice: %s and %s%s", rs[i].cell, rs[j].path, rs[i].path,
                             force ? " (keeping the first)" : "");
                break;
            }
    if (!rc && dups && !force) {
        hl_cli_error("merge", "refusing: %zu cells twice (--force keeps the first of each)", dups);
        rc = 2;
    }
    /* the order: the plan's, or the inputs' */
    size_t *order = calloc(nr + 1, sizeof *order), no = 0, missing = 0, stale = 0;
    if (!order && !rc)
        rc = bad("merge", 0, strerror(ENOMEM));
    if (!rc && planpath) {
        for (size_t k = 0; k < plan.n; k++) {
            size_t i;
            for (i = 0; i < nr && (rs[i].dup || strcmp(rs[i].cell, plan.cells[k].id) != 0); i++)
                ;
            if (i < nr) {
                rs[i].used = 1;
                if (rs[i].matched == (1u << nw) - 1)
                    order[no++] = i;
            } else {
                if (missing < 20)
                    fprintf(stderr, "heaplab: merge: no result for cell %s (%s:%lu)\n", plan.cells[k].id,
                            plan.path, plan.cells[k].lineno);
                missing++;
            }
        }
        for (size_t i = 0; i < nr; i++)
            if (!rs[i].used && !rs[i].dup) {
                if (stale < 20)
                    fprintf(stderr, "heaplab: merge: %s: cell %s is not in %s (a line edited since?): left out\n",
                            rs[i].path, rs[i].cell, plan.path);
                stale++;
            }
    } else if (!rc) {
        for (size_t i = 0; i < nr; i++)
            if (!rs[i].dup && rs[i].matched == (1u << nw) - 1)
                order[no++] = i;
    }
    if (!rc) {
        char tmp[PATH_MAX + 32];
        FILE *out = stdout;
        if (outpath) {
            snprintf(tmp, sizeof tmp, "%s.%ld.tmp", outpath, (long)getpid());
            if (!(out = fopen(tmp, "w")))
                rc = bad(outpath, 0, strerror(errno));
        }
        if (!rc) {
            for (size_t i = 0; i < nnames; i++)
                fprintf(out, "%s%s", i ? "," : "", names[i]);
            fputc('\n', out);
            for (size_t k = 0; k < no; k++)
                fwrite(rs[order[k]].rows, 1, rs[order[k]].len, out);
            if (outpath) {
                int bad_write = fflush(out) != 0 || fsync(fileno(out)) != 0;
                if (fclose(out) != 0 || bad_write || hl_replace_file(tmp, outpath) != 0) {
                    rc = bad(outpath, 0, strerror(errno));
                    unlink(tmp);
                }
            } else if (fflush(out) != 0) {
                rc = bad("standard output", 0, strerror(errno));
            }
        }
    }
    if (!rc) {
        size_t rows = 0, failed = 0, no_glibc = 0;
        for (size_t k = 0; k < no; k++) {
            rows += rs[order[k]].nrows;
            failed += rs[order[k]].failed;
            no_glibc += !rs[order[k]].has_glibc;
        }
        struct result *written = calloc(no + 1, sizeof *written); /* the machines of the rows written */
        for (size_t k = 0; written && k < no; k++)
            written[k] = rs[order[k]];
        size_t nm = written ? distinct(written, no, offsetof(struct result, machine), list, sizeof list) : 0;
        free(written);
        snprintf(msg, sizeof msg, "%zu cells, %zu rows", no, rows);
        fprintf(stderr, "heaplab: merge: %s%s%s", outpath ? outpath : "", outpath ? ": " : "", msg);
        if (planpath)
            fprintf(stderr, " (%zu of the plan's %zu cells)", no, plan.n);
        fputc('\n', stderr);
        if (failed)
            fprintf(stderr, "heaplab: merge: %zu rows are not ok (their status column says why)\n", failed);
        if (nm > 1) {
            fprintf(stderr, "heaplab: merge: rows from %zu machines: %s; compare ops/s only within a machine, as "
                            "ratios to the glibc row of the same cell (util and frag merge freely)\n",
                    nm, list);
            if (no_glibc)
                fprintf(stderr, "heaplab: merge: %zu cells have no baseline:glibc row: their ops/s are absolute and "
                                "cannot be compared across machines\n",
                        no_glibc);
        }
        if (missing) {
            fprintf(stderr, "heaplab: merge: %zu of %zu cells of %s have no result%s\n", missing, plan.n, plan.path,
                    missing > 20 ? " (the first 20 are above)" : "");
            rc = 1;
        }
    }
    for (size_t i = 0; i < nr; i++)
        free(rs[i].rows);
    hl_strs_free(&in);
    free(rs);
    free(order);
    hl_plan_free(&plan);
    return rc;
}
