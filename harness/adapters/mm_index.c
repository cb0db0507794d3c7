/*
 * mm_index.c - the malloc lab's performance index over a run's rows
 * (heaplab replay --perf-index; malloclab.h).
 *
 * As the lab's driver computes it: 100 * (0.6 U + 0.4 min(1, T / T_libc)),
 * U the mean util over a solution's traces, T its total ops over its total
 * seconds.  The lab's T_libc is a constant from 2001; here it is glibc's
 * malloc measured in the same run, from the baseline:glibc rows when there
 * are any, else from timed passes of its own in a child (hl_mm_libc_time).
 */
#include <math.h>
#include <string.h>

#include "child.h"
#include "malloclab.h"
#include "output.h"

struct libc_child {
    const struct hl_trace *t;
    const struct hl_replay_config *cfg;
    double *rate; /* shared */
};

static int libc_child(void *arg)
{
    const struct libc_child *c = arg;
    struct hl_alloc a;
    struct hl_result r;
    hl_result_init(&r);
    hl_alloc_system(&a);
    if (hl_replay_time_alloc(c->t, &a, c->cfg, &r) == 0)
        *c->rate = r.ops_per_sec;
    return 0;
}

int hl_mm_libc_time(const struct hl_trace *traces, size_t n, const struct hl_replay_config *cfg, double *ops,
                    double *secs)
{
    size_t len = (n ? n : 1) * sizeof(double);
    double *rate = hl_shared_alloc(len);
    if (!rate)
        return -1;
    *ops = *secs = 0;
    for (size_t i = 0; i < n; i++) {
        rate[i] = NAN;
        struct libc_child c = {&traces[i], cfg, &rate[i]};
        int status;
        if (hl_child_run(libc_child, &c, &status) != 0)
            continue;
        if (!isnan(rate[i]) && rate[i] > 0) {
            *ops += (double)traces[i].nops;
            *secs += (double)traces[i].nops / rate[i];
        }
    }
    hl_shared_free(rate, len);
    return 0;
}

static int is_glibc(const struct hl_result *r)
{
    return strcmp(r->policy, "baseline:glibc") == 0 && r->ok && !isnan(r->ops_per_sec) && r->ops_per_sec > 0;
}

int hl_mm_have_libc_rows(const struct hl_result *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_glibc(&rows[i]))
            return 1;
    return 0;
}

/* The totals of the rows of policy column `policy`: traces, failed rows,
 * the sum of util, ops and seconds of the ok ones. */
struct group {
    unsigned traces, failed;
    double util, ops, secs;
};

static struct group group_of(const struct hl_result *rows, size_t n, const char *policy)
{
    struct group g = {0, 0, 0, 0, 0};
    for (size_t j = 0; j < n; j++) {
        const struct hl_result *r = &rows[j];
        if (strcmp(r->policy, policy) != 0)
            continue;
        g.traces++;
        if (!r->ok || isnan(r->util) || isnan(r->ops_per_sec) || r->ops_per_sec <= 0) {
            g.failed++;
            continue;
        }
        g.util += r->util;
        g.ops += (double)r->ops;
        g.secs += (double)r->ops / r->ops_per_sec;
    }
    return g;
}

double hl_mm_perf_index(struct hl_result *rows, size_t n, double libc_ops, double libc_secs)
{
    if (hl_mm_have_libc_rows(rows, n)) {
        libc_ops = libc_secs = 0;
        for (size_t i = 0; i < n; i++)
            if (is_glibc(&rows[i])) {
                libc_ops += (double)rows[i].ops;
                libc_secs += (double)rows[i].ops / rows[i].ops_per_sec;
            }
    }
    double tlibc = libc_secs > 0 ? libc_ops / libc_secs : NAN;
    for (size_t i = 0; i < n; i++) {
        rows[i].perf_index = HL_NA_F;
        if (strncmp(rows[i].policy, "baseline:", 9) == 0)
            continue;
        struct group g = group_of(rows, n, rows[i].policy);
        if (g.failed || !g.traces || g.secs <= 0)
            continue;
        double q = g.ops / g.secs / tlibc;
        if (!isnan(q))
            rows[i].perf_index = 100 * (0.6 * g.util / g.traces + 0.4 * (q < 1 ? q : 1));
    }
    return tlibc;
}

void hl_mm_perf_index_print(const struct hl_result *rows, size_t n, double tlibc, FILE *out)
{
    int w = 6;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(rows[i].policy) > w)
            w = (int)strlen(rows[i].policy);
    fprintf(out, "\nperf index, as the malloc lab computes it: 100 * (0.6 * U + 0.4 * min(1, T / T_libc))\n");
    fprintf(out, "%-*s  %6s  %7s  %9s  %10s  %5s\n", w, "policy", "traces", "U", "T ops/s", "T/T_libc", "index");
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < i; j++)
            if (strcmp(rows[j].policy, rows[i].policy) == 0)
                break;
        if (j < i || strncmp(rows[i].policy, "baseline:", 9) == 0)
            continue;
        struct group g = group_of(rows, n, rows[i].policy);
        char t[24], ratio[24], idx[48];
        if (g.failed) {
            /* the lab's driver gives no index to a solution that fails a trace */
            fprintf(out, "%-*s  %6u  %7s  %9s  %10s  %5s  (%u failed)\n", w, rows[i].policy, g.traces, "-", "-", "-",
                    "-", g.failed);
            continue;
        }
        double tp = g.secs > 0 ? g.ops / g.secs : NAN, q = tp / tlibc;
        hl_output_rate(tp, t, sizeof t);
        snprintf(ratio, sizeof ratio, isnan(q) ? "-" : "%.3f", q);
        snprintf(idx, sizeof idx, isnan(rows[i].perf_index) ? "-" : "%.1f", rows[i].perf_index);
        fprintf(out, "%-*s  %6u  %6.1f%%  %9s  %10s  %5s\n", w, rows[i].policy, g.traces, 100 * g.util / g.traces, t,
                ratio, idx);
    }
    char tl[24];
    hl_output_rate(tlibc, tl, sizeof tl);
    if (isnan(tlibc))
        fprintf(out, "T_libc could not be measured: no index.\n");
    else
        fprintf(out,
                "T_libc = %s ops/s: glibc's malloc on the same traces, measured in this run (%s), "
                "not the lab's constant from 2001 (600K ops/s).\n",
                tl, hl_mm_have_libc_rows(rows, n) ? "the baseline:glibc rows" : "timed passes as every row's, in a child, of this process's malloc: glibc's unless a "
                                                   "sanitizer build replaced it");
}
