/*
 * cf.c - the assertions' failure path, the heaps and walks the checks
 * build on, and the capture of heaplab's diagnosis for the misuse
 * checks (cf.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cf.h"
#include "util.h"

/* ---- assertions ------------------------------------------------------------- */

struct cf_shared *cf_out;

static const char *cf_base(const char *file)
{
    const char *s = strrchr(file, '/');
    return s ? s + 1 : file;
}

_Noreturn void cf_fail(const char *file, int line, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (cf_out)
        snprintf(cf_out->message, sizeof cf_out->message, "%s:%d: %s", cf_base(file), line, what);
    else
        fprintf(stderr, "%s:%d: %s\n", cf_base(file), line, what);
    _exit(1);
}

/* ---- heaps ------------------------------------------------------------------------ */

hl_heap *cf_heap(const struct hl_config *cfg)
{
    hl_heap *h = hl_heap_create(cfg);
    CF_ASSERT_MSG(h != NULL, "hl_heap_create(%s): %s", cfg->policy->name, strerror(errno));
    return h;
}

struct hl_config cf_config_of(const struct hl_policy_spec *spec)
{
    struct hl_config c;
    hl_config_default(&c, spec->policy);
    c.policy_params = spec->params;
    c.cache = spec->cache;
    return c;
}

struct hl_config cf_fixed_threshold(const struct hl_policy_spec *spec, size_t threshold)
{
    struct hl_config c = cf_config_of(spec);
    c.mmap_threshold = threshold;
    c.mmap_dynamic = 0;
    return c;
}

hl_heap *cf_default_heap(const struct hl_policy_spec *spec)
{
    struct hl_config cfg = cf_config_of(spec);
    return cf_heap(&cfg);
}

/* ---- walk helpers ------------------------------------------------------------ */

static int record_block(const struct hl_block_info *bi, void *arg)
{
    struct cf_blocks *bl = arg;
    CF_ASSERT_MSG(bl->n < CF_MAX_BLOCKS, "more than %d blocks in the walk", CF_MAX_BLOCKS);
    bl->b[bl->n++] = *bi;
    return 0;
}

/* static: 256 KiB is more than a test's stack should carry */
static struct cf_blocks walked;

struct cf_blocks *cf_walk_all(hl_heap *h)
{
    walked.n = 0;
    CF_INT_EQ(hl_walk(h, record_block, &walked), 0);
    return &walked;
}

const struct hl_block_info *cf_holder(const struct cf_blocks *bl, const void *p, size_t n, enum hl_block_state st)
{
    const char *c = p;
    for (size_t i = 0; i < bl->n; i++) {
        const char *a = bl->b[i].addr;
        if (bl->b[i].state == st && a < c && c + n <= a + bl->b[i].size)
            return &bl->b[i];
    }
    return NULL;
}

/* ---- misuse that must abort: the diagnosis ------------------------------------------------ */

/*
 * heaplab's diagnosis goes to stderr, which these checks send to a
 * temporary file; a SIGABRT handler checks it names the misuse expected,
 * says so on the shared page and lets the abort proceed (else it exits 3
 * with what heaplab said instead).  The runner passes such a check only
 * when the child died of SIGABRT after the handler saw the diagnosis: so
 * only when heaplab itself caught the misuse.
 */
static int diag_fd = -1;
static const char *diag_expect;

static void check_diagnosis(int sig)
{
    (void)sig;
    char buf[256];
    ssize_t n = pread(diag_fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    if (n > 0 && strstr(buf, diag_expect)) {
        cf_out->diagnosed = 1;
        return; /* abort() goes on and kills the process with SIGABRT */
    }
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    size_t k = 0;
    char *m = cf_out->message;
    hl_msg_put(m, sizeof cf_out->message, &k, "aborted without the diagnosis '");
    hl_msg_put(m, sizeof cf_out->message, &k, diag_expect);
    hl_msg_put(m, sizeof cf_out->message, &k, n > 0 ? "': heaplab said '" : "': heaplab said nothing");
    if (n > 0) {
        hl_msg_put(m, sizeof cf_out->message, &k, buf);
        hl_msg_put(m, sizeof cf_out->message, &k, "'");
    }
    _exit(3);
}

void cf_expect_abort(const char *diagnosis)
{
    CF_NONNULL(cf_out); /* only in the runner's child */
    FILE *f = tmpfile();
    CF_NONNULL(f);
    diag_fd = dup(fileno(f));
    CF_INT_GE(diag_fd, 0);
    diag_expect = diagnosis;
    fflush(stderr);
    CF_INT_EQ(dup2(diag_fd, 2), 2);
    signal(SIGABRT, check_diagnosis);
}
