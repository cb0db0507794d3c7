/*
 * mm_crash.c - crashes, exits and endless loops inside a malloc-lab
 * solution, caught and reported on its row (mm_internal.h).
 *
 * A signal that kills (SIGSEGV, SIGBUS, SIGABRT, ...) is handled on an
 * alternate stack, so that a solution that recurses without end is still
 * reported; a call of exit is seen by an on_exit hook; in a row's child an
 * interval timer ticks once a second, and an operation that has not
 * returned for --mm-timeout seconds is taken for an endless loop.  Each
 * becomes the row's status, naming the signal or the exit status, the
 * solution's function running (mm_run.in) and the operation, and the child
 * exits; with --no-fork the line goes to stderr and the run ends, as a
 * crash does.  A signal while the harness itself runs is left to the
 * runner.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "child.h"
#include "mm_internal.h"
#include "util.h"

/* " in mm_free at op 17", " in mm_init before op 1", " in the timed pass" */
static void put_where(char *b, size_t len, size_t *k)
{
    const char *in = mm_run.in;
    if (in) {
        hl_msg_put(b, len, k, " in ");
        hl_msg_put(b, len, k, in);
    }
    if (mm_run.timed) {
        hl_msg_put(b, len, k, " in the timed pass");
        return;
    }
    uint64_t nops = mm_run.t ? mm_run.t->nops : 0;
    if (mm_run.op == 0) {
        hl_msg_put(b, len, k, " before op 1");
    } else if (mm_run.op > nops) {
        hl_msg_put(b, len, k, " while freeing what the trace left live");
    } else {
        hl_msg_put(b, len, k, in && in == mm_run.m->check_name ? " after op " : " at op ");
        hl_msg_put_u64(b, len, k, mm_run.op);
    }
}

/* Report on the row (a forked child, which then exits) or on stderr
 * (--no-fork: the run ends here, as a crash does). */
static void report_fatal(const char *what, const char *note)
{
    if (getpid() != mm_loader_pid && mm_run.r) {
        /* a failure the replay already reported stays the row's status */
        if (mm_run.r->ok || strcmp(mm_run.r->status, "not run") == 0) {
            size_t k = 0;
            hl_msg_put(mm_run.r->status, sizeof mm_run.r->status, &k, what);
            put_where(mm_run.r->status, sizeof mm_run.r->status, &k);
            hl_msg_put(mm_run.r->status, sizeof mm_run.r->status, &k, note);
        }
        mm_run.r->ok = 0;
        _exit(1);
    }
    char line[512];
    size_t k = 0;
    hl_msg_put(line, sizeof line, &k, "heaplab: ");
    hl_msg_put(line, sizeof line, &k, mm_run.r ? mm_run.r->trace : "");
    hl_msg_put(line, sizeof line, &k, ": ");
    hl_msg_put(line, sizeof line, &k, mm_run.m->label);
    hl_msg_put(line, sizeof line, &k, ": ");
    hl_msg_put(line, sizeof line, &k, what);
    put_where(line, sizeof line, &k);
    hl_msg_put(line, sizeof line, &k, note);
    hl_msg_put(line, sizeof line, &k, "\n");
    ssize_t w = write(2, line, k);
    (void)w;
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction saved[NFATAL];
static stack_t saved_stack;
static char alt_stack[64 * 1024]; /* a solution that recurses without end still gets reported */

static void on_fatal(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL); /* returning re-raises it, now fatal */
    if (!mm_run.in && !mm_run.timed)
        return; /* not the solution's: the runner reports it */
    char what[96];
    size_t k = 0;
    hl_msg_put_signal(what, sizeof what, &k, sig);
    report_fatal(what, "");
}

static void on_exit_call(int status, void *arg)
{
    (void)arg;
    if (!mm_run.in || !mm_run.m)
        return;
    char what[64];
    size_t k = 0;
    hl_msg_put(what, sizeof what, &k, "the solution called exit(");
    hl_msg_put_u64(what, sizeof what, &k, (uint64_t)(unsigned)status);
    hl_msg_put(what, sizeof what, &k, ")");
    report_fatal(what, "");
}

/* Once a second in a row's child: an operation that has not returned for
 * m->timeout seconds is taken for an endless loop (a cycle in a free
 * list), and the row ends there instead of the whole run hanging. */
static void on_tick(int sig)
{
    (void)sig;
    if (mm_run.op != mm_run.tick_op || (!mm_run.in && !mm_run.timed)) {
        mm_run.tick_op = mm_run.op;
        mm_run.stalled = 0;
        return;
    }
    if (!mm_run.m || ++mm_run.stalled < mm_run.m->timeout)
        return;
    char what[64];
    size_t k = 0;
    hl_msg_put(what, sizeof what, &k, "no answer for ");
    hl_msg_put_u64(what, sizeof what, &k, mm_run.stalled);
    hl_msg_put(what, sizeof what, &k, " s");
    report_fatal(what, " (an endless loop? --mm-timeout)");
}

static struct sigaction saved_alrm;

void mm_crash_catch(void)
{
    static int exit_hooked;
    if (!exit_hooked) {
        on_exit(on_exit_call, NULL);
        exit_hooked = 1;
    }
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
    sigaltstack(&ss, &saved_stack);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal_signals[i], &sa, &saved[i]);
    if (mm_run.m->timeout && getpid() != mm_loader_pid) { /* a row's child; --no-fork is for debuggers */
        struct sigaction tick;
        memset(&tick, 0, sizeof tick);
        tick.sa_handler = on_tick;
        tick.sa_flags = SA_RESTART | SA_ONSTACK;
        sigemptyset(&tick.sa_mask);
        sigaction(SIGALRM, &tick, &saved_alrm);
        struct itimerval every = {{1, 0}, {1, 0}};
        setitimer(ITIMER_REAL, &every, NULL);
    }
}

void mm_crash_release(void)
{
    if (mm_run.m && mm_run.m->timeout && getpid() != mm_loader_pid) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        sigaction(SIGALRM, &saved_alrm, NULL);
    }
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal_signals[i], &saved[i], NULL);
    sigaltstack(&saved_stack, NULL);
}
