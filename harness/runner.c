/*
 * runner.c - replays in forked children.
 *
 * The rows live in one anonymous shared mapping (MAP_SHARED|MAP_ANONYMOUS):
 * a child writes its row there and exits; the parent reads it after
 * waitpid.  A child killed by a signal leaves its row as far as it got; the
 * parent writes the status ("crashed by signal 11 (Segmentation fault) in
 * the checked pass").  Children inherit the parsed traces copy-on-write,
 * and an sbrk-source heap moves only the child's break.
 *
 * The checked passes are deterministic, so up to `jobs` run at once.  Timed
 * passes run one at a time, with no other replay competing for the cores.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "runner.h"

enum phase { MEASURE, TIME };

static const char *const phase_name[] = {"the checked pass", "the timed pass"};

static int run_phase(enum phase ph, const struct hl_job *j, const struct hl_replay_config *cfg,
                     struct hl_result *r)
{
    switch (j->kind) {
    case HL_JOB_POLICY:
        return ph == MEASURE ? hl_replay_measure(j->trace, j->spec, cfg, r)
                             : hl_replay_time(j->trace, j->spec, cfg, r);
    case HL_JOB_BASELINE: /* the measure phase: footprint and checked pass; the time phase: timed passes */
        return hl_baseline_run(ph == MEASURE ? HL_BASELINE_MEASURE : HL_BASELINE_TIME, j->trace, j->baseline, cfg,
                               r);
    }
    return 1;
}

static void progress(const struct hl_run_opts *o, enum phase ph, size_t done, size_t n,
                     const struct hl_job *j)
{
    if (!o->progress)
        return;
    fprintf(stderr, "\r\033[K[%s %zu/%zu] %s %s", ph == MEASURE ? "check" : "time", done, n, j->trace->path,
            j->label);
    fflush(stderr);
}

/* The parent's account of a child that did not finish its row. */
static void reap(struct hl_result *r, enum phase ph, int status)
{
    if (WIFSIGNALED(status)) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "crashed by signal %d (%s) in %s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), phase_name[ph]);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && r->ok) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "replay exited with status %d in %s", WEXITSTATUS(status),
                 phase_name[ph]);
    }
}

static void run_children(enum phase ph, const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
                         const struct hl_run_opts *o, struct hl_result *rows, unsigned width)
{
    pid_t *pid = calloc(n ? n : 1, sizeof *pid);
    size_t next = 0, done = 0;
    unsigned running = 0;
    if (!pid) {
        for (size_t i = 0; i < n; i++)
            if (rows[i].ok || ph == MEASURE)
                run_phase(ph, &jobs[i], cfg, &rows[i]);
        return;
    }
    while (next < n || running > 0) {
        while (running < width && next < n) {
            size_t i = next++;
            if (ph == TIME && !rows[i].ok) {
                done++;
                continue;
            }
            fflush(NULL); /* nothing buffered may be written twice */
            pid[i] = fork();
            if (pid[i] == 0)
                _exit(run_phase(ph, &jobs[i], cfg, &rows[i]) == 0 ? 0 : 1);
            if (pid[i] < 0) {
                rows[i].ok = 0;
                snprintf(rows[i].status, sizeof rows[i].status, "cannot fork: %s", strerror(errno));
                done++;
                continue;
            }
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (pid[i] == p) {
                pid[i] = 0;
                reap(&rows[i], ph, status);
                running--;
                progress(o, ph, ++done, n, &jobs[i]);
                break;
            }
    }
    free(pid);
}

int hl_run(const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
           const struct hl_run_opts *opts, struct hl_result *out)
{
    struct hl_result *rows = out;
    size_t len = (n ? n : 1) * sizeof *rows;
    if (opts->fork) {
        rows = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (rows == MAP_FAILED)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        hl_replay_begin(jobs[i].trace, jobs[i].label, cfg, &rows[i]);
    if (opts->fork) {
        run_children(MEASURE, jobs, n, cfg, opts, rows, opts->jobs ? opts->jobs : 1);
        run_children(TIME, jobs, n, cfg, opts, rows, 1);
    } else {
        for (size_t i = 0; i < n; i++) {
            progress(opts, MEASURE, i + 1, n, &jobs[i]);
            if (run_phase(MEASURE, &jobs[i], cfg, &rows[i]) == 0) {
                progress(opts, TIME, i + 1, n, &jobs[i]);
                run_phase(TIME, &jobs[i], cfg, &rows[i]);
            }
        }
    }
    if (opts->progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].ok)
            rc = 1;
    if (opts->fork) {
        memcpy(out, rows, len);
        munmap(rows, len);
    }
    return rc;
}
