/*
 * run.c - the runner: one conformance check on one policy in a forked
 * child of its own, on heaps of its own, so a policy that crashes fails
 * that check and nothing else.  The child's assertions and the misuse
 * checks' diagnosis reach the parent on a shared page (struct cf_shared,
 * cf.h); its stderr through a temporary file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cf.h"
#include "child.h"
#include "conformance.h"

/* The last non-empty line of what the child wrote on stderr (the line a
 * crash leaves, such as heaplab's corruption diagnosis), or "". */
static void last_line(int fd, char *out, size_t cap)
{
    char buf[512];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t n = end > 0 ? pread(fd, buf, sizeof buf - 1, from) : 0;
    *out = 0;
    if (n <= 0)
        return;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = 0;
    char *start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    size_t len = strlen(start) < cap - 1 ? strlen(start) : cap - 1;
    memcpy(out, start, len);
    out[len] = 0;
}

static void describe(struct hl_conformance_result *r, const char *what, const char *tail)
{
    snprintf(r->message, sizeof r->message, "%s%s%s", what, *tail ? ": " : "", tail);
}

struct cf_child {
    const struct hl_conformance_check *c;
    const struct hl_policy_spec *spec;
    unsigned timeout;
    struct cf_shared *sh;
    FILE *err;
};

static int cf_child_main(void *arg)
{
    const struct cf_child *ch = arg;
    cf_out = ch->sh;
    if (ch->err)
        dup2(fileno(ch->err), 2);
    signal(SIGALRM, SIG_DFL);
    alarm(ch->timeout);
    ch->c->run(ch->spec);
    exit(0); /* exit, not _exit: a leak checker in the build gets its say */
}

int hl_conformance_run(const struct hl_conformance_check *c, const struct hl_policy_spec *spec, unsigned timeout,
                       struct hl_conformance_result *r)
{
    memset(r, 0, sizeof *r);
    if (!timeout)
        timeout = c->timeout;
    struct cf_shared *sh = hl_shared_alloc(sizeof *sh);
    if (!sh) {
        snprintf(r->message, sizeof r->message, "cannot map the result page: %s", strerror(errno));
        return 1;
    }
    FILE *err = tmpfile(); /* the child's stderr */
    struct cf_child child = {c, spec, timeout, sh, err};
    int status;
    if (hl_child_run(cf_child_main, &child, &status) != 0) {
        snprintf(r->message, sizeof r->message, "cannot run the check: %s", strerror(errno));
        status = -1;
    }
    char tail[256] = "";
    if (err) {
        ssize_t n = pread(fileno(err), r->output, sizeof r->output - 1, 0);
        r->output[n > 0 ? n : 0] = 0;
        last_line(fileno(err), tail, sizeof tail);
        fclose(err);
    }
    char what[160];
    int sig = status != -1 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (status == -1) {
        /* the message is set */
    } else if (c->must_abort ? sig == SIGABRT && sh->diagnosed : code == 0) {
        r->ok = 1;
    } else if (sig == SIGALRM) {
        snprintf(what, sizeof what, "timed out after %u s", timeout);
        describe(r, what, "");
    } else if (sig == SIGABRT && c->must_abort) {
        describe(r, "aborted before the misuse the check makes", tail);
    } else if (!sig && sh->message[0]) {
        snprintf(r->message, sizeof r->message, "%s", sh->message);
    } else {
        describe(r, hl_child_status(status, what, sizeof what), tail);
    }
    hl_shared_free(sh, sizeof *sh);
    return r->ok ? 0 : 1;
}
