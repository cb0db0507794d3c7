/*
 * baseline.c - production allocators as rows of a heaplab run.
 *
 * The parent writes the operations it parsed into a memfd (a header with
 * the row, the configuration and the library, then the struct hl_op array)
 * and starts /proc/self/exe __baseline MEMFD PIPE with LD_PRELOAD set to
 * the library, or removed for glibc.  The child:
 *
 *   1. checks that malloc, free, realloc, calloc and posix_memalign come
 *      from the library it was meant to run (glibc: from the C library) -
 *      a library that failed to load, or one that does not define them
 *      all, makes the row's status and nothing is measured;
 *   2. maps the operations (MAP_POPULATE: resident before anything is
 *      measured, and never re-parsed, so the child replays exactly what
 *      the heaplab rows replay);
 *   3. measure phase: the footprint pass, then the checked pass of
 *      replay.c (hl_replay_checked over hl_alloc_system: the same integrity
 *      checks as heaplab rows);
 *      time phase: hl_replay_time_alloc over hl_alloc_system - the same
 *      warm-up, timed passes and latency pass, with the same loop and
 *      direct calls, as heaplab rows get;
 *   4. writes its row to the pipe after each stage; the parent keeps the
 *      last one.  A child killed by a signal gets "crashed by signal N
 *      (...) in STAGE", STAGE being the last one it announced.
 *
 * The footprint pass: peak_rss_bytes = VmHWM after the pass - VmRSS before
 * it.  The pass replays the trace once on the fresh allocator, writing one
 * byte in every page of every block when it is allocated or resized (a
 * program uses what it asks for; an untouched page costs no RSS); before
 * it the operations and the pointer table are resident and the peak is
 * reset (/proc/self/clear_refs 5), so what is counted is the allocator's
 * memory for the trace's blocks - its pages and its metadata - and nothing
 * of the parent, which is another process.  The kernel's RSS counters may
 * lag by a per-CPU batch (tens of pages): small traces read coarsely.
 *
 * Alignment: heaplab rows are held to the heap's alignment for every block.
 * A baseline is held to what C asks of malloc: alignof(max_align_t) for a
 * request of at least that many bytes, and for smaller ones the largest
 * power of two not above the size, but at least 8 (jemalloc, mimalloc and
 * tcmalloc return 8-aligned blocks for requests up to 8 bytes).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "child.h"
#include "util.h"

extern char **environ;

#define MAX_ALIGN ((size_t)alignof(max_align_t))
#define MIN_ALIGN ((size_t)8)

/* ---- names ------------------------------------------------------------------- */

static const struct known {
    const char *name;
    const char *files[3]; /* sonames to look for, in order; none: no preload */
    const char *package;  /* the Debian package that ships them */
} known[] = {
    {"glibc", {NULL}, NULL},
    {"jemalloc", {"libjemalloc.so.2", NULL}, "libjemalloc2"},
    {"mimalloc", {"libmimalloc.so.2", "libmimalloc.so.2.0", NULL}, "libmimalloc2.0"},
    {"tcmalloc", {"libtcmalloc_minimal.so.4", NULL}, "libtcmalloc-minimal4"},
};

#define NKNOWN (sizeof known / sizeof known[0])

const char *hl_baseline_unsupported(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return "this heaplab is built with a sanitizer, whose malloc replaces the system's";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
    return "this heaplab is built with a sanitizer, whose malloc replaces the system's";
#else
    return NULL;
#endif
#else
    return NULL;
#endif
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

static int try_dir(const char *dir, size_t dirlen, const char *file, char *out, size_t len)
{
    if (dirlen == 0)
        return 0; /* an empty LD_LIBRARY_PATH entry: the current folder, never meant here */
    int k = snprintf(out, len, "%.*s/%s", (int)dirlen, dir, file);
    return k > 0 && (size_t)k < len && is_file(out);
}

/* The loader's places for a soname, as far as a preload of a Debian
 * package needs them: LD_LIBRARY_PATH, the folder libc came from (the
 * multiarch folder: /lib/x86_64-linux-gnu on amd64) and its /usr twin,
 * then the generic folders. */
static int find_lib(const char *file, char *out, size_t len)
{
    const char *llp = getenv("LD_LIBRARY_PATH");
    while (llp && *llp) {
        size_t n = strcspn(llp, ":;");
        if (try_dir(llp, n, file, out, len))
            return 0;
        llp += n + (llp[n] != '\0');
    }
    Dl_info di;
    void *sym = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
    if (sym && dladdr(sym, &di) && di.dli_fname && strrchr(di.dli_fname, '/')) {
        const char *libc = di.dli_fname;
        size_t n = (size_t)(strrchr(libc, '/') - libc);
        if (try_dir(libc, n, file, out, len))
            return 0;
        char usr[PATH_MAX];
        int k = snprintf(usr, sizeof usr, "/usr%.*s", (int)n, libc);
        if (strncmp(libc, "/usr/", 5) != 0 && k > 0 && (size_t)k < sizeof usr &&
            try_dir(usr, strlen(usr), file, out, len))
            return 0;
    }
    static const char *const generic[] = {"/usr/local/lib", "/usr/lib", "/lib"};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (try_dir(generic[i], strlen(generic[i]), file, out, len))
            return 0;
    return -1;
}

static int is_path(const char *name)
{
    size_t n = strlen(name);
    return strchr(name, '/') || (n > 3 && strcmp(name + n - 3, ".so") == 0);
}

int hl_baseline_resolve(const char *name, struct hl_baseline *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    const struct known *k = NULL;
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(name, known[i].name) == 0)
            k = &known[i];
    if (!k && !is_path(name)) {
        snprintf(why, len, "unknown allocator '%s' (expected glibc, jemalloc, mimalloc, tcmalloc, all or a PATH.so)",
                 name);
        return -1;
    }
    if (strlen(name) + sizeof "baseline:" > sizeof out->label) {
        snprintf(why, len, "the name is too long for the policy column");
        return 1;
    }
    snprintf(out->label, sizeof out->label, "baseline:%s", name);
    const char *no = hl_baseline_unsupported();
    if (no) {
        snprintf(why, len, "%s", no);
        return 1;
    }
    if (k) {
        if (!k->files[0])
            return 0;
        for (size_t i = 0; i < 3 && k->files[i]; i++)
            if (find_lib(k->files[i], out->lib, sizeof out->lib) == 0)
                return 0;
        out->lib[0] = '\0';
        snprintf(why, len, "%s not installed (Debian package %s)", k->files[0], k->package);
        return 1;
    }
    char abs[PATH_MAX];
    if (!realpath(name, abs)) {
        snprintf(why, len, "%s", strerror(errno));
        return 1;
    }
    if (!is_file(abs)) {
        snprintf(why, len, "not a readable regular file");
        return 1;
    }
    if (strpbrk(abs, ": \t")) {
        snprintf(why, len, "its path has a colon or a space, which LD_PRELOAD cannot carry");
        return 1;
    }
    snprintf(out->lib, sizeof out->lib, "%s", abs);
    return 0;
}

static int add_one(const char *name, struct hl_baseline **arr, size_t *n, FILE *note, char *err, size_t errlen)
{
    struct hl_baseline b;
    char why[PATH_MAX + 128];
    int k = hl_baseline_resolve(name, &b, why, sizeof why);
    if (k < 0) {
        snprintf(err, errlen, "--baseline: %s", why);
        return -1;
    }
    if (k > 0) {
        fprintf(note, "heaplab: --baseline %s: skipped: %s\n", name, why);
        return 0;
    }
    struct hl_baseline *grown = realloc(*arr, (*n + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "--baseline: %s", strerror(errno));
        return -1;
    }
    grown[(*n)++] = b;
    *arr = grown;
    return 0;
}

/* Split LIST at commas in place; 0, or -1 (an empty element). */
static int split_list(char *copy, char **names, size_t *n)
{
    *n = 0;
    for (char *tok = copy;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok)
            return -1;
        names[(*n)++] = tok;
        if (!comma)
            return 0;
        tok = comma + 1;
    }
}

int hl_baseline_add(const char *list, struct hl_baseline **arr, size_t *n, FILE *note, char *err, size_t errlen)
{
    size_t len = strlen(list), count = 0;
    char *copy = strdup(list);
    char **names = calloc(len / 2 + 1, sizeof *names); /* a name and a comma each, at least */
    int rc = 0;
    if (!copy || !names) {
        snprintf(err, errlen, "--baseline: %s", strerror(errno));
        rc = -1;
        goto out;
    }
    if (split_list(copy, names, &count) != 0) {
        snprintf(err, errlen, "--baseline: empty name in '%s'", list);
        rc = -1;
        goto out;
    }
    /* every name is checked before any is resolved: a usage error comes alone */
    for (size_t i = 0; i < count; i++) {
        int ok = strcmp(names[i], "all") == 0 || is_path(names[i]);
        for (size_t k = 0; k < NKNOWN && !ok; k++)
            ok = strcmp(names[i], known[k].name) == 0;
        if (!ok) {
            snprintf(err, errlen, "--baseline: unknown allocator '%s' (expected glibc, jemalloc, mimalloc, tcmalloc, "
                     "all or a PATH.so)", names[i]);
            rc = -1;
            goto out;
        }
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (strcmp(names[i], "all") == 0) {
            for (size_t k = 0; k < NKNOWN && rc == 0; k++)
                rc = add_one(known[k].name, arr, n, note, err, errlen);
        } else {
            rc = add_one(names[i], arr, n, note, err, errlen);
        }
    }
out:
    free(names);
    free(copy);
    return rc;
}

/* ---- is the preload in effect? ------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int hl_baseline_verify(const char *lib, char *why, size_t len)
{
    static const char *const fn[] = {"malloc", "free", "realloc", "calloc", "posix_memalign"};
    struct stat want;
    Dl_info libc;
    if (lib && *lib) {
        if (stat(lib, &want) != 0) {
            snprintf(why, len, "preload not in effect: %s: %s", lib, strerror(errno));
            return -1;
        }
    } else {
        void *s = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
        if (!s || !dladdr(s, &libc) || !libc.dli_fname) {
            snprintf(why, len, "preload not in effect: cannot find the C library");
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) {
        void *s = dlsym(RTLD_DEFAULT, fn[i]);
        Dl_info d;
        if (!s || !dladdr(s, &d) || !d.dli_fname) {
            snprintf(why, len, "preload not in effect: cannot tell where %s comes from", fn[i]);
            return -1;
        }
        int same;
        if (lib && *lib) {
            struct stat got;
            same = stat(d.dli_fname, &got) == 0 && got.st_dev == want.st_dev && got.st_ino == want.st_ino;
        } else {
            same = d.dli_fbase == libc.dli_fbase;
        }
        if (!same) {
            const char *from = *d.dli_fname ? base_name(d.dli_fname) : "the program";
            snprintf(why, len, "preload not in effect: %s is %s's, not %s's", fn[i], from,
                     lib && *lib ? base_name(lib) : base_name(libc.dli_fname));
            return -1;
        }
    }
    return 0;
}

/* ---- what parent and child exchange -------------------------------------------- */

#define WIRE_MAGIC "hlbase1"

/* The memfd's header; the operations follow at ops_offset.  Both sides are
 * the same binary (/proc/self/exe), so the layout is shared as is. */
struct wire {
    char magic[8];
    uint64_t wire_size; /* sizeof(struct wire) */
    uint32_t phase;     /* enum hl_baseline_phase */
    uint32_t num_ids;
    uint64_t nops;
    uint64_t ops_offset;
    struct hl_replay_config cfg;
    struct hl_result row;
    char lib[PATH_MAX];
};

enum stage { STAGE_FOOTPRINT, STAGE_CHECKED, STAGE_TIMED, STAGE_DONE };

static const char *const stage_name[] = {"in the footprint pass", "in the checked pass", "in the timed pass",
                                         "at exit"};

/* What the child writes to the pipe: the stage it enters, the row so far. */
struct report {
    uint32_t stage;
    struct hl_result row;
};

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- the parent's side ----------------------------------------------------------- */

static int row_fail(struct hl_result *r, const char *what, const char *detail)
{
    r->ok = 0;
    snprintf(r->status, sizeof r->status, "%s: %s", what, detail);
    return 1;
}

/* ---- the regime: glibc under heaplab's trim and mmap rules ---------------------- */

/* glibc's defaults (malloc.c; man mallopt) are the linux preset's: trim at
 * 128 KiB keeping a 128 KiB top pad, a 128 KiB mmap threshold that rises
 * on free, trim threshold with it.  Setting any of the four tunables below
 * fixes both thresholds (mp_.no_dyn_threshold), so the dynamic regime is
 * the one that sets none. */
static int glibc_defaults(const struct hl_replay_config *cfg)
{
    return cfg->mmap_dynamic && cfg->trim_threshold == HL_DEFAULT_TRIM_THRESHOLD &&
           cfg->mmap_threshold == HL_DEFAULT_MMAP_THRESHOLD;
}

void hl_baseline_glibc_tunables(const struct hl_replay_config *cfg, char *buf, size_t len)
{
    buf[0] = '\0';
    if (glibc_defaults(cfg))
        return;
    size_t k = 0;
#define TUNE(...) k += (size_t)snprintf(buf + k, k < len ? len - k : 0, __VA_ARGS__)
    /* glibc compares the free top chunk with the threshold, as core does its
     * free top block; SIZE_MAX is never reached (mallopt's -1) */
    TUNE("glibc.malloc.trim_threshold=%zu", cfg->trim_threshold == HL_NO_TRIM ? SIZE_MAX : cfg->trim_threshold);
    if (cfg->mmap_threshold == 0)
        TUNE(":glibc.malloc.mmap_max=0"); /* no mapped chunk at all: the threshold is moot */
    else
        TUNE(":glibc.malloc.mmap_threshold=%zu", cfg->mmap_threshold);
    if (cfg->trim_threshold != HL_NO_TRIM) /* what a trim leaves: glibc's default, fixed */
        TUNE(":glibc.malloc.top_pad=%u", HL_DEFAULT_TOP_PAD);
#undef TUNE
    if (k >= len)
        buf[0] = '\0'; /* too small a buffer: HL_BASELINE_TUNABLES_MAX always holds them */
}

/* The user's own glibc malloc settings, in effect in the child too:
 * GLIBC_TUNABLES, or one of the older variables glibc 2.36 still reads as
 * aliases of malloc tunables (elf/dl-tunables.list). */
static int user_tunables(void)
{
    static const char *const alias[] = {"MALLOC_CHECK_", "MALLOC_TOP_PAD_", "MALLOC_PERTURB_",
                                        "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_",
                                        "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST"};
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && *t)
        return 1;
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (getenv(alias[i]))
            return 1;
    return 0;
}

void hl_baseline_regime(const struct hl_baseline *b, const struct hl_replay_config *cfg, char *buf, size_t len)
{
    if (b->lib[0]) { /* a library of its own: no way to tell it heaplab's rules */
        snprintf(buf, len, "defaults");
        return;
    }
    char rules[128];
    hl_replay_regime(cfg->trim_threshold, cfg->mmap_threshold, glibc_defaults(cfg), rules, sizeof rules);
    snprintf(buf, len, "%s%s", rules, user_tunables() ? " +user tunables" : "");
}

char **hl_baseline_env(const struct hl_baseline *b, const struct hl_replay_config *cfg)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    const char *user = getenv("GLIBC_TUNABLES");
    const size_t preload_len = sizeof "LD_PRELOAD=" + sizeof b->lib;
    const size_t tunables_len = sizeof "GLIBC_TUNABLES=:" + (user ? strlen(user) : 0) + HL_BASELINE_TUNABLES_MAX;
    /* one block: the array, then the two strings that are not environ's */
    char **env = calloc(1, (n + 3) * sizeof *env + preload_len + tunables_len);
    if (!env)
        return NULL;
    char *preload = (char *)(env + n + 3), *tunables = preload + preload_len;
    char ours[HL_BASELINE_TUNABLES_MAX];
    ours[0] = '\0';
    if (!b->lib[0])
        hl_baseline_glibc_tunables(cfg, ours, sizeof ours);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0)
            continue;
        if (ours[0] && strncmp(environ[i], "GLIBC_TUNABLES=", 15) == 0)
            continue; /* replaced below, the user's first */
        env[k++] = environ[i];
    }
    if (b->lib[0]) {
        snprintf(preload, preload_len, "LD_PRELOAD=%s", b->lib);
        env[k++] = preload;
    }
    if (ours[0]) {
        /* glibc reads GLIBC_TUNABLES left to right and the last setting of
         * a tunable wins: heaplab's come after the user's */
        snprintf(tunables, tunables_len, "GLIBC_TUNABLES=%s%s%s", user && *user ? user : "", user && *user ? ":" : "",
                 ours);
        env[k++] = tunables;
    }
    env[k] = NULL;
    return env;
}

static int write_trace(int fd, const struct wire *w, const struct hl_trace *t)
{
    static const char zero[64];
    if (write_all(fd, w, sizeof *w) != 0 || write_all(fd, zero, w->ops_offset - sizeof *w) != 0)
        return -1;
    return t->nops ? write_all(fd, t->ops, t->nops * sizeof *t->ops) : 0;
}

int hl_baseline_run(enum hl_baseline_phase ph, const struct hl_trace *t, const struct hl_baseline *b,
                    const struct hl_replay_config *cfg, struct hl_result *r)
{
    if (ph == HL_BASELINE_MEASURE) {
        /* heaplab's configuration does not apply to a library; alignment is
         * what the checked pass holds the library to (see the top) */
        r->preset[0] = '\0';
        r->source[0] = '\0';
        r->align = MAX_ALIGN;
        r->mmap_threshold = HL_NA_U;
        hl_baseline_regime(b, cfg, r->regime, sizeof r->regime);
    }
    struct wire *w = calloc(1, sizeof *w);
    char **env = w ? hl_baseline_env(b, cfg) : NULL;
    int tfd = -1, pfd[2] = {-1, -1}, rc = 1;
    if (!env) {
        row_fail(r, "cannot start the baseline", strerror(errno));
        goto out;
    }
    memcpy(w->magic, WIRE_MAGIC, sizeof w->magic);
    w->wire_size = sizeof *w;
    w->phase = ph;
    w->num_ids = t->num_ids;
    w->nops = t->nops;
    w->ops_offset = (sizeof *w + 63) & ~(uint64_t)63;
    /* the settings a replay reads, and nothing else: whatever else a
     * configuration carries (a pointer, an open file) means nothing after exec */
    memcpy(w->cfg.preset, cfg->preset, sizeof w->cfg.preset);
    w->cfg.align = cfg->align;
    w->cfg.mmap_threshold = cfg->mmap_threshold;
    w->cfg.mmap_dynamic = cfg->mmap_dynamic;
    w->cfg.trim_threshold = cfg->trim_threshold;
    w->cfg.source = cfg->source;
    w->cfg.region_capacity = cfg->region_capacity;
    w->cfg.check_every = cfg->check_every;
    w->cfg.repeat = cfg->repeat;
    w->row = *r;
    snprintf(w->lib, sizeof w->lib, "%s", b->lib);

    tfd = memfd_create("heaplab-baseline-trace", 0); /* inherited by the child */
    if (tfd < 0 || write_trace(tfd, w, t) != 0) {
        row_fail(r, "cannot hand the trace to the baseline", strerror(errno));
        goto out;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0 || fcntl(pfd[1], F_SETFD, 0) != 0) {
        row_fail(r, "cannot start the baseline", strerror(errno));
        goto out;
    }
    char tfd_s[16], pfd_s[16];
    snprintf(tfd_s, sizeof tfd_s, "%d", tfd);
    snprintf(pfd_s, sizeof pfd_s, "%d", pfd[1]);
    char *argv[] = {"heaplab", "__baseline", tfd_s, pfd_s, NULL};
    pid_t pid = hl_child_spawn("/proc/self/exe", argv, env, 0); /* its output on our stderr, not in our results */
    int err = errno;
    close(pfd[1]);
    pfd[1] = -1;
    close(tfd);
    tfd = -1;
    if (pid < 0) {
        row_fail(r, "cannot start the baseline", strerror(err));
        goto out;
    }

    struct report rep;
    size_t have = 0;
    int stage = -1;
    for (;;) {
        ssize_t k = read(pfd[0], (char *)&rep + have, sizeof rep - have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        have += (size_t)k;
        if (have == sizeof rep) {
            *r = rep.row;
            stage = rep.stage <= STAGE_DONE ? (int)rep.stage : -1;
            have = 0;
        }
    }
    int status;
    if (hl_child_wait(pid, &status) < 0) {
        row_fail(r, "cannot wait for the baseline", strerror(errno));
        goto out;
    }
    char how[96];
    hl_child_status(status, how, sizeof how);
    if (WIFSIGNALED(status)) {
        r->ok = 0;
        const char *where = stage >= 0 ? stage_name[stage] : "while starting (loading the library)";
        snprintf(r->status, sizeof r->status, "%s %s", how, where);
    } else if (stage != STAGE_DONE) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "the baseline %s %s", how,
                 stage >= 0 ? stage_name[stage] : "before reporting");
    }
    rc = r->ok ? 0 : 1;
out:
    if (tfd >= 0)
        close(tfd);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    free(env);
    free(w);
    return rc;
}

/* ---- the child's side ------------------------------------------------------------ */

static int report_fd = -1;

static void report(enum stage st, const struct hl_result *row)
{
    struct report rep;
    memset(&rep, 0, sizeof rep);
    rep.stage = st;
    rep.row = *row;
    if (write_all(report_fd, &rep, sizeof rep) != 0)
        _exit(3); /* the parent is gone: nobody to report to */
}

/* A field of /proc/self/status in kB, or -1; no allocation (the allocator
 * is being measured). */
static long status_kb(const char *field)
{
    static char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n, got = 0;
    while ((n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += n;
    close(fd);
    buf[got > 0 ? got : 0] = '\0';
    size_t flen = strlen(field);
    for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, field, flen) == 0 && p[flen] == ':')
            return strtol(p + flen + 1, NULL, 10);
    return -1;
}

/* VmHWM := VmRSS (Linux 4.0+); 0 or -1. */
static int reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = write(fd, "5", 1) == 1 ? 0 : -1;
    close(fd);
    return rc;
}

static void touch(unsigned char *p, uint64_t n, size_t page)
{
    volatile unsigned char *v = p;
    for (uint64_t off = 0; off < n; off += page)
        v[off] = 1;
    if (n)
        v[n - 1] = 1;
}

static int footprint_pass(const struct hl_trace *t, struct hl_result *r)
{
    size_t nid = t->num_ids ? t->num_ids : 1;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void **ptr = malloc(nid * sizeof *ptr);
    if (!ptr)
        return row_fail(r, "footprint pass", "out of memory for the pointer table");
    memset(ptr, 0, nid * sizeof *ptr); /* resident before the measurement */
    reset_peak_rss();
    long before = status_kb("VmRSS");
    int rc = 0;
    for (uint64_t i = 0; i < t->nops && rc == 0; i++) {
        const struct hl_op *op = &t->ops[i];
        void **slot = op->id == HL_ID_NULL ? NULL : &ptr[op->id];
        void *p = NULL;
        switch (op->type) {
        case HL_OP_ALLOC:
            p = malloc(op->size);
            break;
        case HL_OP_CALLOC:
            p = calloc(1, op->size);
            break;
        case HL_OP_MEMALIGN: {
            size_t al = (size_t)1 << op->align_log2;
            if (posix_memalign(&p, al < sizeof(void *) ? sizeof(void *) : al, op->size) != 0)
                p = NULL;
            break;
        }
        case HL_OP_REALLOC:
            p = realloc(*slot, op->size);
            if (op->size == 0 && *slot) { /* realloc(p, 0) freed it, or gave a new minimal block */
                *slot = p;
                continue;
            }
            break;
        case HL_OP_FREE:
            if (slot) {
                free(*slot);
                *slot = NULL;
            }
            continue;
        }
        if (!p && op->size) {
            r->ok = 0;
            snprintf(r->status, sizeof r->status, "out of memory (%llu bytes) at op %llu in the footprint pass",
                     (unsigned long long)op->size, (unsigned long long)i + 1);
            rc = 1;
            break;
        }
        *slot = p;
        touch(p, op->size, page);
    }
    long after = status_kb("VmHWM");
    for (size_t id = 0; id < nid; id++)
        free(ptr[id]);
    free(ptr);
    if (rc == 0 && before >= 0 && after >= 0)
        r->peak_rss_bytes = after > before ? (uint64_t)(after - before) * 1024 : 0;
    return rc;
}

/* The checked pass's view of the system allocator, holding each block to
 * the alignment C asks of malloc for its size (see the top).  Every
 * operation of the checked pass is one call here, so the calls count the
 * operations. */
struct guard {
    uint64_t calls;
    uint64_t bad_op; /* 0: none */
    size_t bad_size, bad_align;
    void *bad_p;
};

static size_t size_align(size_t n)
{
    size_t need = MAX_ALIGN;
    while (need > MIN_ALIGN && need > n)
        need >>= 1;
    return need;
}

static void *guarded(struct guard *g, void *p, size_t n)
{
    size_t need = size_align(n);
    if (p && (uintptr_t)p % need) {
        if (!g->bad_op) {
            g->bad_op = g->calls;
            g->bad_size = n;
            g->bad_align = need;
            g->bad_p = p;
        }
        return NULL; /* stops the checked pass */
    }
    return p;
}

static void *g_malloc(void *ctx, size_t n)
{
    struct guard *g = ctx;
    g->calls++;
    return guarded(g, malloc(n), n);
}
static void g_free(void *ctx, void *p)
{
    struct guard *g = ctx;
    g->calls++;
    free(p);
}
static void *g_realloc(void *ctx, void *p, size_t n)
{
    struct guard *g = ctx;
    g->calls++;
    return guarded(g, realloc(p, n), n);
}
static void *g_calloc(void *ctx, size_t n)
{
    struct guard *g = ctx;
    g->calls++;
    return guarded(g, calloc(1, n), n);
}
static void *g_memalign(void *ctx, size_t al, size_t n)
{
    struct guard *g = ctx;
    g->calls++;
    void *p = NULL;
    return posix_memalign(&p, al < sizeof(void *) ? sizeof(void *) : al, n) == 0 ? p : NULL;
}

static int checked_pass(const struct hl_trace *t, const struct hl_replay_config *cfg, struct hl_result *r)
{
    struct guard g = {0};
    struct hl_alloc a = {"baseline", &g, g_malloc, g_free, g_realloc, g_calloc, g_memalign, NULL, MIN_ALIGN, NULL, NULL};
    int rc = hl_replay_checked(t, &a, cfg, r);
    if (g.bad_op) {
        snprintf(r->status, sizeof r->status, "integrity error: %zu-byte block at %p not %zu-aligned at op %llu",
                 g.bad_size, g.bad_p, g.bad_align, (unsigned long long)g.bad_op);
        rc = 1;
    }
    if (rc) {
        r->ok = 0;
        return 1;
    }
    r->ok = 1;
    snprintf(r->status, sizeof r->status, "ok");
    return 0;
}

static int internal_only(void)
{
    fputs("heaplab: __baseline is internal to 'heaplab replay --baseline'\n", stderr);
    return 2;
}

static int parse_fd(const char *s)
{
    uint64_t v;
    return hl_parse_u64(s, INT_MAX, &v) ? -1 : (int)v;
}

static int job_measure(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_baseline_run(HL_BASELINE_MEASURE, j->trace, j->target, cfg, r);
}

static int job_time(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_baseline_run(HL_BASELINE_TIME, j->trace, j->target, cfg, r);
}

const struct hl_job_ops hl_baseline_job = {job_measure, job_time};

int hl_cmd_baseline(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "verify") == 0) {
        /* __baseline verify LIB ("" = the C library): the preload check
         * alone, for the tests; "ok" or the reason, exit 0 or 1 */
        char why[PATH_MAX + 128];
        int rc = hl_baseline_verify(argv[2], why, sizeof why);
        puts(rc == 0 ? "ok" : why);
        return rc == 0 ? 0 : 1;
    }
    if (argc != 3)
        return internal_only();
    int tfd = parse_fd(argv[1]);
    report_fd = parse_fd(argv[2]);
    struct stat st;
    if (tfd < 0 || report_fd < 0 || fstat(tfd, &st) != 0 || (size_t)st.st_size < sizeof(struct wire))
        return internal_only();
    fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    size_t size = (size_t)st.st_size;
    unsigned char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, tfd, 0);
    close(tfd);
    if (map == MAP_FAILED)
        return internal_only();
    const struct wire *w = (const struct wire *)(void *)map;
    if (memcmp(w->magic, WIRE_MAGIC, sizeof w->magic) != 0 || w->wire_size != sizeof *w ||
        w->ops_offset < sizeof *w || w->ops_offset % alignof(struct hl_op) != 0 ||
        w->nops > (size - w->ops_offset) / sizeof(struct hl_op))
        return internal_only();
    struct hl_result row = w->row;
    struct hl_trace t;
    memset(&t, 0, sizeof t);
    t.path = row.trace;
    t.num_ids = w->num_ids;
    t.nops = w->nops;
    t.ops = (struct hl_op *)(void *)(map + w->ops_offset); /* read only: replays never write it */

    char why[sizeof row.status];
    if (hl_baseline_verify(w->lib, why, sizeof why) != 0) {
        row.ok = 0;
        snprintf(row.status, sizeof row.status, "%s", why);
    } else if (w->phase == HL_BASELINE_MEASURE) {
        report(STAGE_FOOTPRINT, &row);
        if (footprint_pass(&t, &row) == 0) {
            report(STAGE_CHECKED, &row);
            checked_pass(&t, &w->cfg, &row);
        }
    } else {
        report(STAGE_TIMED, &row);
        struct hl_alloc a;
        hl_alloc_system(&a);
        if (hl_replay_time_alloc(&t, &a, &w->cfg, &row) != 0)
            row.ok = 0;
    }
    report(STAGE_DONE, &row);
    munmap(map, size);
    return 0;
}
