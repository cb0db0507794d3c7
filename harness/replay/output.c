/*
 * output.c - table, CSV (RFC 4180) and JSON writers for result rows.
 */
#include <math.h>
#include <string.h>

#include "output.h"

void hl_result_init(struct hl_result *r)
{
    memset(r, 0, sizeof *r);
#define HL_INIT_S(name)
#define HL_INIT_U(name) r->name = HL_NA_U;
#define HL_INIT_F(name) r->name = HL_NA_F;
#define HL_INIT(name, type, doc) HL_INIT_##type(name)
    HL_RESULT_COLUMNS(HL_INIT)
#undef HL_INIT
}

int hl_format_parse(const char *name, enum hl_format *out)
{
    static const char *const names[] = {"table", "csv", "json"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum hl_format)i;
            return 0;
        }
    return -1;
}

/* ---- CSV ----------------------------------------------------------------------- */

static void csv_string(const char *s, FILE *out)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_u(uint64_t v, FILE *out)
{
    if (v != HL_NA_U)
        fprintf(out, "%llu", (unsigned long long)v);
}

static void csv_f(double v, FILE *out)
{
    if (!isnan(v))
        fprintf(out, "%.9g", v);
}

void hl_output_csv_header(FILE *out)
{
    const char *sep = "";
#define HL_HEAD(name, type, doc)                                                                   \
    fprintf(out, "%s%s", sep, #name);                                                              \
    sep = ",";
    HL_RESULT_COLUMNS(HL_HEAD)
#undef HL_HEAD
}

void hl_output_csv_row(const struct hl_result *r, FILE *out)
{
    int first = 1;
#define HL_CSV_S(v) csv_string(v, out)
#define HL_CSV_U(v) csv_u(v, out)
#define HL_CSV_F(v) csv_f(v, out)
#define HL_CELL(name, type, doc)                                                                   \
    if (!first)                                                                                    \
        fputc(',', out);                                                                           \
    first = 0;                                                                                     \
    HL_CSV_##type(r->name);
    HL_RESULT_COLUMNS(HL_CELL)
#undef HL_CELL
    fputc('\n', out);
}

/* ---- JSON ---------------------------------------------------------------------- */

static void json_string(const char *s, FILE *out)
{
    if (!*s) { /* not available, as a missing number */
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_u(uint64_t v, FILE *out)
{
    if (v == HL_NA_U)
        fputs("null", out);
    else
        fprintf(out, "%llu", (unsigned long long)v);
}

static void json_f(double v, FILE *out)
{
    if (isnan(v) || isinf(v))
        fputs("null", out);
    else
        fprintf(out, "%.9g", v);
}

static void json_rows(const struct hl_result *rows, size_t n, FILE *out)
{
    fputs("[", out);
    for (size_t i = 0; i < n; i++) {
        const struct hl_result *r = &rows[i];
        const char *sep = "";
        fputs(i ? ",\n  {" : "\n  {", out);
#define HL_JSON_S(v) json_string(v, out)
#define HL_JSON_U(v) json_u(v, out)
#define HL_JSON_F(v) json_f(v, out)
#define HL_FIELD(name, type, doc)                                                                  \
    fprintf(out, "%s\"%s\": ", sep, #name);                                                        \
    HL_JSON_##type(r->name);                                                                       \
    sep = ", ";
        HL_RESULT_COLUMNS(HL_FIELD)
#undef HL_FIELD
        fputs("}", out);
    }
    fputs(n ? "\n]\n" : "]\n", out);
}

/* ---- table --------------------------------------------------------------------- */

void hl_output_rate(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fK", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

static void cell_u(uint64_t v, char *buf, size_t len)
{
    if (v == HL_NA_U)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* Bytes in binary units, as a reader takes them in: 512, 4.0K, 9.11M, 1.50G. */
static void cell_size(uint64_t v, char *buf, size_t len)
{
    if (v == HL_NA_U)
        snprintf(buf, len, "-");
    else if (v >= (uint64_t)1 << 30)
        snprintf(buf, len, "%.2fG", (double)v / (double)((uint64_t)1 << 30));
    else if (v >= (uint64_t)1 << 20)
        snprintf(buf, len, "%.2fM", (double)v / (double)((uint64_t)1 << 20));
    else if (v >= 1024)
        snprintf(buf, len, "%.1fK", (double)v / 1024.0);
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void cell_pct(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%", 100.0 * v);
}

static void table_row(FILE *out, int tw, int pw, const char *trace, const char *policy, uint64_t ops,
                      uint64_t live, uint64_t heap, double util, uint64_t rss, double rate, const char *status)
{
    char o[24], lv[24], hp[24], ut[16], rs[24], rt[16];
    cell_u(ops, o, sizeof o);
    cell_u(live, lv, sizeof lv);
    cell_u(heap, hp, sizeof hp);
    cell_pct(util, ut, sizeof ut);
    cell_size(rss, rs, sizeof rs);
    hl_output_rate(rate, rt, sizeof rt);
    fprintf(out, "%-*s  %-*s  %9s  %12s  %12s  %6s  %9s  %9s  %s\n", tw, trace, pw, policy, o, lv, hp, ut, rs, rt,
            status);
}

/* Below the table, which rows ran under which trim and mmap rules (the
 * regime column, too wide to repeat on every row): the regime of most
 * rows first, then each other one with the rows' labels. */
static void regimes(const struct hl_result *rows, size_t n, FILE *out)
{
    size_t most = n, most_rows = 0, kinds = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j, count = 0;
        for (j = 0; j < i && strcmp(rows[j].regime, rows[i].regime) != 0; j++)
            ;
        if (j < i || !rows[i].regime[0])
            continue;
        kinds++;
        for (j = i; j < n; j++)
            count += strcmp(rows[j].regime, rows[i].regime) == 0;
        if (count > most_rows) {
            most = i;
            most_rows = count;
        }
    }
    if (most == n)
        return;
    fprintf(out, "\nregime %s: %s\n", rows[most].regime, kinds > 1 ? "every row but the ones below" : "every row");
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < i && strcmp(rows[j].regime, rows[i].regime) != 0; j++)
            ;
        if (j < i || !rows[i].regime[0] || strcmp(rows[i].regime, rows[most].regime) == 0)
            continue;
        fprintf(out, "regime %s:", rows[i].regime);
        const char *sep = " ";
        for (size_t k = i; k < n; k++) { /* each label once */
            size_t m;
            for (m = i; m < k && !(strcmp(rows[m].policy, rows[k].policy) == 0 &&
                                   strcmp(rows[m].regime, rows[k].regime) == 0); m++)
                ;
            if (m == k && strcmp(rows[k].regime, rows[i].regime) == 0) {
                fprintf(out, "%s%s", sep, rows[k].policy);
                sep = ", ";
            }
        }
        fputc('\n', out);
    }
}

static void table(const struct hl_result *rows, size_t n, FILE *out)
{
    int tw = 5, pw = 6;
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(rows[i].trace), m = (int)strlen(rows[i].policy);
        tw = l > tw ? l : tw;
        pw = m > pw ? m : pw;
    }
    fprintf(out, "%-*s  %-*s  %9s  %12s  %12s  %6s  %9s  %9s  %s\n", tw, "trace", pw, "policy", "ops", "peak_live",
            "peak_heap", "util", "rss_after", "ops/s", "status");
    for (size_t i = 0; i < n; i++)
        /* a failed row's util is of a replay cut short: no figure, as for its ops/s */
        table_row(out, tw, pw, rows[i].trace, rows[i].policy, rows[i].ops, rows[i].peak_live_bytes,
                  rows[i].peak_heap_bytes, rows[i].ok ? rows[i].util : HL_NA_F, rows[i].rss_after_bytes,
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
        uint64_t ops = 0, traces = 0, failed = 0, with_util = 0;
        double secs = 0, util = 0;
        for (j = i; j < n; j++) {
            const struct hl_result *r = &rows[j];
            if (strcmp(r->policy, rows[i].policy) != 0)
                continue;
            traces++;
            if (!r->ok) {
                failed++;
                continue;
            }
            if (!isnan(r->ops_per_sec) && r->ops_per_sec > 0) {
                ops += r->ops;
                secs += (double)r->ops / r->ops_per_sec;
            }
            if (!isnan(r->util)) {
                util += r->util;
                with_util++;
            }
        }
        if (traces < 2)
            continue;
        if (first) {
            fputc('\n', out);
            first = 0;
        }
        char label[64], status[64];
        snprintf(label, sizeof label, "all (%llu traces)", (unsigned long long)traces);
        if (failed)
            snprintf(status, sizeof status, "%llu failed", (unsigned long long)failed);
        else
            snprintf(status, sizeof status, "ok");
        table_row(out, tw, pw, label, rows[i].policy, ops, HL_NA_U, HL_NA_U,
                  with_util ? util / (double)with_util : HL_NA_F, HL_NA_U, secs > 0 ? (double)ops / secs : HL_NA_F,
                  status);
    }
    regimes(rows, n, out);
}

void hl_output(const struct hl_result *rows, size_t n, enum hl_format fmt, FILE *out)
{
    switch (fmt) {
    case HL_FORMAT_TABLE:
        table(rows, n, out);
        break;
    case HL_FORMAT_CSV:
        hl_output_csv_header(out);
        fputc('\n', out);
        for (size_t i = 0; i < n; i++)
            hl_output_csv_row(&rows[i], out);
        break;
    case HL_FORMAT_JSON:
        json_rows(rows, n, out);
        break;
    }
}

void hl_output_csv_string(const char *s, FILE *out) { csv_string(s, out); }
