/*
 * report.h - printing replay results.
 */
#ifndef HEAPLAB_REPORT_H
#define HEAPLAB_REPORT_H

#include <stdio.h>

#include "replay.h"

/* An aligned table, one row per result, then one aggregate row per policy
 * (sum of ops over sum of seconds, and the mean util, as mdriver does). */
void hl_report_table(const struct hl_result *rows, size_t n, FILE *out);

#endif
