/*
 * output.h - writing result rows: an aligned table for people, CSV and
 * JSON with the stable column names of result.h for scripts and charts.
 */
#ifndef HEAPLAB_OUTPUT_H
#define HEAPLAB_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "result.h"

enum hl_format { HL_FORMAT_TABLE, HL_FORMAT_CSV, HL_FORMAT_JSON };

/* "table", "csv", "json"; -1 for anything else. */
int hl_format_parse(const char *name, enum hl_format *out);

/* The table ends with one aggregate row per policy over its ok rows:
 * sum of ops over sum of seconds, and the mean util, as mdriver does. */
void hl_output(const struct hl_result *rows, size_t n, enum hl_format fmt, FILE *out);

/* The CSV header line (no newline), for tools that append rows. */
void hl_output_csv_header(FILE *out);
void hl_output_csv_row(const struct hl_result *r, FILE *out);
/* One CSV field, quoted when it holds a comma, quote or line break. */
void hl_output_csv_string(const char *s, FILE *out);
/* A rate as the table prints it: 1.23M, 45.6K, 789, "-" for NaN. */
void hl_output_rate(double v, char *buf, size_t len);

#endif
