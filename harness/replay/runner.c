/*
 * runner.c - replays in forked children.
 *
 * The rows live in one anonymous shared mapping (hl_shared_alloc, child.h):
 * a child writes its row there and exits; the parent reads it after
 * waitpid.  A child killed by a signal leaves its row as far as it got; the
 * parent writes the status ("crashed by signal 11 (Segmentation fault) in
 * the checked pass").  Children inherit the parsed traces copy-on-write,
 * and an sbrk-source heap moves only the child's break.
 *
 * The checked passes are deterministic, so up to `jobs` run at once.  Timed
 * passes run one at a time, with no other replay competing for the cores.
 *
 * Samples (--timeline, --heapmap): each checked-pass child writes its rows
 * to files of its own in a temporary folder, and the parent appends them to
 * the real files in row order once every checked pass is over, so the
 * files are the same for any number of jobs.  Without fork the rows go
 * straight to the real files.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "out.h"
#include "runner.h"

enum phase { MEASURE, TIME };

static const char *const phase_name[] = {"the checked pass", "the timed pass"};

static int policy_measure(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_replay_measure(j->trace, j->target, cfg, r);
}

static int policy_time(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_replay_time(j->trace, j->target, cfg, r);
}

const struct hl_job_ops hl_policy_job = {policy_measure, policy_time};

static int run_phase(enum phase ph, const struct hl_job *j, const struct hl_replay_config *cfg,
                     struct hl_result *r)
{
    return ph == MEASURE ? j->ops->measure(j, cfg, r) : j->ops->time(j, cfg, r);
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

/* " at op N" when the child died inside the checked pass's loop. */
static void where(const struct hl_result *r, enum phase ph, char *buf, size_t len)
{
    buf[0] = 0;
    if (ph == MEASURE && r->at_op)
        snprintf(buf, len, " at op %llu", (unsigned long long)r->at_op);
}

/* The parent's account of a child that did not finish its row. */
static void reap(struct hl_result *r, enum phase ph, int status)
{
    char op[40], how[96];
    where(r, ph, op, sizeof op);
    hl_child_status(status, how, sizeof how);
    if (WIFSIGNALED(status) || (WEXITSTATUS(status) != 0 && (r->ok || strcmp(r->status, "not run") == 0))) {
        /* a child that exited non-zero without saying why: a sanitizer's
         * report, an exit inside the allocator */
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "%s%s%s in %s", WIFSIGNALED(status) ? "" : "replay ", how, op,
                 phase_name[ph]);
    }
}

/* ---- samples with forked children (--timeline, --heapmap) ---------------------------- */

struct spool {
    char dir[PATH_MAX]; /* "" when no samples are taken */
};

static void spool_path(const struct spool *sp, size_t i, const char *what, char *out, size_t len)
{
    snprintf(out, len, "%s/%zu.%s", sp->dir, i, what);
}

static int spool_open(struct spool *sp, const struct hl_replay_config *cfg)
{
    sp->dir[0] = 0;
    if (!cfg->timeline && !cfg->heapmap)
        return 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(sp->dir, sizeof sp->dir, "%s/heaplab-samples.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sp->dir)) {
        sp->dir[0] = 0;
        return -1;
    }
    return 0;
}

/* In the child of row i: the checked pass with sample files of its own. */
static int spool_child(const struct spool *sp, size_t i, const struct hl_job *j, const struct hl_replay_config *cfg,
                       struct hl_result *r)
{
    struct hl_replay_config mine = *cfg;
    char path[PATH_MAX + 32];
    mine.timeline = mine.heapmap = NULL;
    if (cfg->timeline) {
        spool_path(sp, i, "timeline", path, sizeof path);
        mine.timeline = fopen(path, "w");
    }
    if (cfg->heapmap) {
        spool_path(sp, i, "heapmap", path, sizeof path);
        mine.heapmap = fopen(path, "w");
    }
    if ((cfg->timeline && !mine.timeline) || (cfg->heapmap && !mine.heapmap)) {
        snprintf(r->status, sizeof r->status, "cannot write samples: %.160s: %s", path, strerror(errno));
        return 1;
    }
    int rc = run_phase(MEASURE, j, &mine, r);
    if ((mine.timeline && fclose(mine.timeline) != 0) || (mine.heapmap && fclose(mine.heapmap) != 0)) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "cannot write samples: %s", strerror(errno));
        rc = 1;
    }
    return rc;
}

static void spool_append(const struct spool *sp, size_t i, const char *what, FILE *out)
{
    char path[PATH_MAX + 32], buf[65536];
    spool_path(sp, i, what, path, sizeof path);
    FILE *in = fopen(path, "r");
    if (!in)
        return; /* the child never got that far: no samples */
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, out) != k)
            break;
    fclose(in);
    unlink(path);
    hl_out_flush(out); /* a write error is the caller's to report, at hl_out_close */
}

/* Every checked pass is over: their samples, in row order. */
static void spool_collect(struct spool *sp, size_t n, const struct hl_replay_config *cfg)
{
    if (!sp->dir[0])
        return;
    for (size_t i = 0; i < n; i++) {
        if (cfg->timeline)
            spool_append(sp, i, "timeline", cfg->timeline);
        if (cfg->heapmap)
            spool_append(sp, i, "heapmap", cfg->heapmap);
    }
    rmdir(sp->dir);
    sp->dir[0] = 0;
}

/* ---- children ---------------------------------------------------------------------- */

struct child {
    enum phase ph;
    size_t i;
    const struct hl_job *job;
    const struct hl_replay_config *cfg;
    struct hl_result *row; /* in the shared mapping */
    const struct spool *sp;
};

static int child_main(void *arg)
{
    const struct child *c = arg;
    sigset_t chld; /* the parent waits for SIGCHLD with it blocked; a row's own children need it */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    int rc = c->ph == MEASURE && c->sp && c->sp->dir[0] ? spool_child(c->sp, c->i, c->job, c->cfg, c->row)
                                                         : run_phase(c->ph, c->job, c->cfg, c->row);
    return rc == 0 ? 0 : 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The next child to end, as hl_child_wait(-1) but with SIGCHLD blocked (the
 * caller's doing) and a deadline: a child still running `timeout` seconds
 * after start[i] is killed (SIGKILL) and marked in late[i]. */
static pid_t wait_next(const pid_t *pid, const double *start, char *late, size_t n, unsigned timeout,
                       int *status)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        pid_t p = waitpid(-1, status, WNOHANG);
        if (p != 0 && !(p < 0 && errno == EINTR))
            return p;
        double t = now_s(), next = -1;
        for (size_t i = 0; i < n; i++) {
            if (pid[i] <= 0 || late[i])
                continue;
            double end = start[i] + timeout;
            if (end <= t) {
                kill(pid[i], SIGKILL);
                late[i] = 1;
            } else if (next < 0 || end < next) {
                next = end;
            }
        }
        if (next < 0) /* every child running is killed already: its end is near */
            next = t + 1;
        double left = next - t;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        sigtimedwait(&chld, NULL, &ts); /* a child ended, or a deadline came */
    }
}

static void run_children(enum phase ph, const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
                         const struct hl_run_opts *o, struct hl_result *rows, unsigned width,
                         const struct spool *sp)
{
    pid_t *pid = calloc(n ? n : 1, sizeof *pid);
    double *start = calloc(n ? n : 1, sizeof *start);
    char *late = calloc(n ? n : 1, 1);
    size_t next = 0, done = 0;
    unsigned running = 0;
    sigset_t chld, saved;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (!pid || !start || !late) {
        free(pid);
        free(start);
        free(late);
        for (size_t i = 0; i < n; i++)
            if (rows[i].ok || ph == MEASURE)
                run_phase(ph, &jobs[i], cfg, &rows[i]);
        return;
    }
    if (o->timeout)
        sigprocmask(SIG_BLOCK, &chld, &saved);
    while (next < n || running > 0) {
        while (running < width && next < n) {
            size_t i = next++;
            if (ph == TIME && !rows[i].ok) {
                done++;
                continue;
            }
            struct child c = {ph, i, &jobs[i], cfg, &rows[i], sp};
            start[i] = now_s();
            pid[i] = hl_child_fork(child_main, &c);
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
        pid_t p = o->timeout ? wait_next(pid, start, late, n, o->timeout, &status) : hl_child_wait(-1, &status);
        if (p < 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (pid[i] == p) {
                pid[i] = 0;
                reap(&rows[i], ph, status);
                if (late[i]) {
                    char op[40];
                    where(&rows[i], ph, op, sizeof op);
                    rows[i].ok = 0;
                    snprintf(rows[i].status, sizeof rows[i].status,
                             "no answer for %u s%s in %s (an endless loop? --row-timeout)", o->timeout, op,
                             phase_name[ph]);
                }
                running--;
                progress(o, ph, ++done, n, &jobs[i]);
                break;
            }
    }
    if (o->timeout)
        sigprocmask(SIG_SETMASK, &saved, NULL);
    free(pid);
    free(start);
    free(late);
}

int hl_run(const struct hl_job *jobs, size_t n, const struct hl_replay_config *cfg,
           const struct hl_run_opts *opts, struct hl_result *out)
{
    struct hl_result *rows = out;
    size_t len = (n ? n : 1) * sizeof *rows;
    if (opts->fork) {
        rows = hl_shared_alloc(len);
        if (!rows)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        hl_replay_begin(jobs[i].trace, jobs[i].label, cfg, &rows[i]);
    if (opts->fork) {
        struct spool sp;
        if (spool_open(&sp, cfg) != 0) {
            int e = errno;
            hl_shared_free(rows, len);
            errno = e;
            return -1;
        }
        run_children(MEASURE, jobs, n, cfg, opts, rows, opts->jobs ? opts->jobs : 1, &sp);
        spool_collect(&sp, n, cfg);
        run_children(TIME, jobs, n, cfg, opts, rows, 1, NULL);
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
        hl_shared_free(rows, len);
    }
    return rc;
}
