/*
 * report.c - the human table.
 */
#include <string.h>

#include "report.h"

static void human_count(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fK", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

/* live and heap < 0: not meaningful (aggregate rows) */
static void row(FILE *out, int tw, int pw, const char *trace, const char *policy, unsigned long long ops,
                long long live, long long heap, double util, double ops_per_sec, const char *status)
{
    char rate[32], lv[24] = "-", hp[24] = "-";
    human_count(ops_per_sec, rate, sizeof rate);
    if (live >= 0)
        snprintf(lv, sizeof lv, "%lld", live);
    if (heap >= 0)
        snprintf(hp, sizeof hp, "%lld", heap);
    fprintf(out, "%-*s  %-*s  %9llu  %12s  %12s  %6.1f%%  %9s  %s\n", tw, trace, pw, policy, ops, lv, hp,
            100.0 * util, rate, status);
}

void hl_report_table(const struct hl_result *rows, size_t n, FILE *out)
{
    int tw = 5, pw = 6;
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(rows[i].trace), m = (int)strlen(rows[i].policy);
        tw = l > tw ? l : tw;
        pw = m > pw ? m : pw;
    }
    fprintf(out, "%-*s  %-*s  %9s  %12s  %12s  %7s  %9s  %s\n", tw, "trace", pw, "policy", "ops", "peak_live",
            "peak_heap", "util", "ops/s", "status");
    for (size_t i = 0; i < n; i++)
        row(out, tw, pw, rows[i].trace, rows[i].policy, (unsigned long long)rows[i].ops,
            (long long)rows[i].peak_live_bytes, (long long)rows[i].peak_heap_bytes, rows[i].util,
            rows[i].ops_per_sec, rows[i].status);
    /* aggregates, policies in order of first appearance */
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < i; j++)
            if (strcmp(rows[j].policy, rows[i].policy) == 0)
                break;
        if (j < i)
            continue;
        unsigned long long ops = 0, traces = 0, failed = 0;
        double secs = 0, util = 0;
        for (j = i; j < n; j++) {
            if (strcmp(rows[j].policy, rows[i].policy) != 0)
                continue;
            traces++;
            if (!rows[j].ok) {
                failed++;
                continue;
            }
            ops += rows[j].ops;
            secs += rows[j].seconds;
            util += rows[j].util;
        }
        if (traces < 2)
            continue;
        if (first) {
            fprintf(out, "\n");
            first = 0;
        }
        char label[64], status[64];
        snprintf(label, sizeof label, "all (%llu traces)", traces);
        snprintf(status, sizeof status, failed ? "%llu failed" : "ok", failed);
        unsigned long long okn = traces - failed;
        row(out, tw, pw, label, rows[i].policy, ops, -1, -1, okn ? util / (double)okn : 0,
            secs > 0 ? (double)ops / secs : 0, status);
    }
}
