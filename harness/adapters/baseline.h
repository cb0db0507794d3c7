/*
 * baseline.h - production allocators measured in the same run as the
 * heaplab policies: the system malloc (glibc) and malloc libraries
 * (jemalloc, mimalloc, tcmalloc, or any PATH.so) preloaded into a child.
 *
 * A baseline row runs in a child that re-executes heaplab itself
 * (/proc/self/exe __baseline) with LD_PRELOAD set to the library (unset for
 * glibc).  The child checks that the preload took effect, replays the
 * operations the parent parsed (handed over in a memfd, not re-read), and
 * writes its row back through a pipe.  A library that fails to load, a
 * preload that did not take, a crash: each becomes the row's status.
 */
#ifndef HEAPLAB_BASELINE_H
#define HEAPLAB_BASELINE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "replay.h"
#include "runner.h"

struct hl_baseline {
    char label[256];    /* the row's policy column: "baseline:NAME" or "baseline:PATH" */
    char lib[PATH_MAX]; /* absolute path of the library to preload; "" = none (glibc) */
};

/* Resolve one name: glibc (no preload), jemalloc, mimalloc, tcmalloc (the
 * Debian libraries libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4,
 * looked up in LD_LIBRARY_PATH's folders, the multiarch folder libc was
 * loaded from and its /usr twin, /usr/local/lib, /usr/lib, /lib), or a
 * PATH.so (contains '/' or ends in ".so"), taken as given.
 * 0 resolved; 1 not available here (not installed, no such file, or this
 * build cannot run baselines), with a one-line reason in why; -1 not a
 * baseline name at all (a usage error), reason in why. */
int hl_baseline_resolve(const char *name, struct hl_baseline *out, char *why, size_t len);

/* Add the baselines of a comma-separated LIST ("all" = glibc, jemalloc,
 * mimalloc, tcmalloc) to *arr (grown with realloc).  A baseline that is not
 * available is skipped with one line on `note`: "heaplab: --baseline NAME:
 * skipped: REASON".  0, or -1 with a usage error in err (an unknown name,
 * an empty element). */
int hl_baseline_add(const char *list, struct hl_baseline **arr, size_t *n, FILE *note, char *err,
                    size_t errlen);

/* NULL when this build can run baselines; otherwise why not (a sanitizer
 * that replaces malloc: a preloaded library would fight it). */
const char *hl_baseline_unsupported(void);

/* Whether malloc, free, realloc, calloc and posix_memalign of this process
 * all come from `lib` (a path; "" or NULL: from the C library).  0 yes;
 * -1 no, with "preload not in effect: ..." in why. */
int hl_baseline_verify(const char *lib, char *why, size_t len);

/* ---- the regime a baseline runs under ----------------------------------------------- */

/* glibc's row runs under the trim and mmap rules of heaplab's rows, told
 * through GLIBC_TUNABLES in its child's environment; a library of its own
 * (jemalloc, mimalloc, tcmalloc, a PATH.so) has no such settings in common
 * and runs at its defaults.  docs/metrics.md has the mapping. */

#define HL_BASELINE_TUNABLES_MAX 256

/* The GLIBC_TUNABLES value that puts glibc's malloc under cfg's trim and
 * mmap rules: "" for the linux preset's (glibc's defaults, dynamic
 * thresholds: setting anything would fix them); otherwise trim_threshold
 * (SIZE_MAX for "never"), mmap_threshold or mmap_max=0 (no mmap path),
 * and top_pad when it trims.  len: at least HL_BASELINE_TUNABLES_MAX. */
void hl_baseline_glibc_tunables(const struct hl_replay_config *cfg, char *buf, size_t len);

/* The row's regime column: for glibc, the rules it was given (the words
 * hl_replay_regime gives heaplab's rows under cfg), followed by
 * " +user tunables" when the environment carries GLIBC_TUNABLES or one of
 * glibc's MALLOC_*_ variables; "defaults" for a library. */
void hl_baseline_regime(const struct hl_baseline *b, const struct hl_replay_config *cfg, char *buf, size_t len);

/* The environment of b's child: this process's, with LD_PRELOAD set to
 * b->lib (removed for glibc) and, for glibc, heaplab's tunables appended
 * to the user's GLIBC_TUNABLES (glibc takes the last setting of a tunable:
 * heaplab's win over the user's for the ones it sets; the user's others
 * stay).  One allocation, for free(); NULL with errno when out of memory. */
char **hl_baseline_env(const struct hl_baseline *b, const struct hl_replay_config *cfg);

enum hl_baseline_phase {
    HL_BASELINE_MEASURE, /* the footprint pass (peak RSS) and the checked pass */
    HL_BASELINE_TIME,    /* the warm-up, timed and latency passes */
};

/* Run one phase of a baseline row in a child; fills *r.  The row's
 * identity columns must have been set (hl_replay_begin).  0 when the row
 * is ok, 1 otherwise (the status says what happened). */
int hl_baseline_run(enum hl_baseline_phase ph, const struct hl_trace *t, const struct hl_baseline *b,
                    const struct hl_replay_config *cfg, struct hl_result *r);

/* A runner row on a production allocator (target: const struct hl_baseline *). */
extern const struct hl_job_ops hl_baseline_job;

/* heaplab __baseline: the child of a baseline row (internal). */
int hl_cmd_baseline(int argc, char **argv);

#endif
