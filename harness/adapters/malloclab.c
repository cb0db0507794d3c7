/*
 * malloclab.c - CS:APP malloc-lab solutions as heaplab rows (-p mm:FILE).
 *
 * Loading.  An mm.c is compiled once per content into the cache
 * ($XDG_CACHE_HOME/heaplab, else ~/.cache/heaplab, else a folder of ours
 * under $TMPDIR) as mm-<key>.so, the key a hash of the source bytes, the
 * compiler (its path, size and date) and the command line, our headers
 * included.  The compiler gets a copy of the source in the cache that
 * starts with a #line naming the original, so its messages name the
 * student's file while `#include "mm.h"` finds heaplab's headers and not a
 * handout's mm.h that may sit beside the student's file (the student's
 * folder is still searched for other headers, after ours).  Handouts
 * declare mm_init and mm_checkheap differently (int mm_init or bool
 * mm_init; void, int or bool mm_checkheap(int)), so the source is read for
 * how it defines them: the compile line passes the matching declarations
 * to mm.h, and heaplab calls each function with the type it really has.
 *
 * Running.  A row's passes run in a forked child (one solution per
 * process: the memory system's state is the process's), on a fresh
 * memory system and after mm_init, like the lab's driver.  The checked
 * pass is replay.c's, through wrappers that add the driver's checks: a
 * payload must lie inside [mem_heap_lo, mem_heap_hi].  malloc(0) may
 * return NULL (the lab's starter code does): the wrapper hands the checked
 * pass a stand-in address instead, in a reservation of its own, and gives
 * the solution NULL back where the driver would.  A crash or an exit
 * inside the solution is caught in the child and written to the row:
 * which signal, in which function, at which operation.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "malloclab.h"
#include "malloclab/memlib.h"
#include "metrics.h"
#include "util.h"

#ifndef HEAPLAB_MALLOCLAB_INCLUDE
#define HEAPLAB_MALLOCLAB_INCLUDE ""
#endif


const char *const hl_mm_cflags[] = {"-std=gnu11", "-O2", "-g", "-shared", "-fPIC", "-DDRIVER", NULL};

/* ---- reading the source for the declarations ---------------------------------------- */

/* A token of C, as far as declarations go: an identifier or number, or one
 * punctuation character.  Comments, string and character literals and
 * preprocessor lines are skipped. */
struct tok {
    const char *s;
    size_t n;
};

struct lexer {
    const char *s;
    size_t len, i;
    int line_start; /* only blanks since the last newline */
};

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int next_tok(struct lexer *lx, struct tok *t)
{
    const char *s = lx->s;
    size_t n = lx->len;
    while (lx->i < n) {
        char c = s[lx->i];
        if (c == '\n') {
            lx->line_start = 1;
            lx->i++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->i++;
        } else if (c == '\\' && lx->i + 1 < n && s[lx->i + 1] == '\n') {
            lx->i += 2;
        } else if (c == '#' && lx->line_start) { /* a directive, with its continuation lines */
            while (lx->i < n && s[lx->i] != '\n') {
                if (s[lx->i] == '\\' && lx->i + 1 < n && s[lx->i + 1] == '\n')
                    lx->i++;
                else if (s[lx->i] == '/' && lx->i + 1 < n && s[lx->i + 1] == '*') {
                    lx->i += 2;
                    while (lx->i + 1 < n && !(s[lx->i] == '*' && s[lx->i + 1] == '/'))
                        lx->i++;
                    lx->i++;
                }
                lx->i++;
            }
        } else if (c == '/' && lx->i + 1 < n && s[lx->i + 1] == '/') {
            while (lx->i < n && s[lx->i] != '\n')
                lx->i++;
        } else if (c == '/' && lx->i + 1 < n && s[lx->i + 1] == '*') {
            lx->i += 2;
            while (lx->i + 1 < n && !(s[lx->i] == '*' && s[lx->i + 1] == '/'))
                lx->i++;
            lx->i += 2;
        } else if (c == '"' || c == '\'') {
            lx->line_start = 0;
            t->s = s + lx->i;
            t->n = 1;
            for (lx->i++; lx->i < n && s[lx->i] != c && s[lx->i] != '\n'; lx->i++)
                if (s[lx->i] == '\\')
                    lx->i++;
            lx->i++;
            return 1;
        } else {
            lx->line_start = 0;
            t->s = s + lx->i;
            t->n = 1;
            if (is_word(c))
                while (lx->i + t->n < n && is_word(s[lx->i + t->n]))
                    t->n++;
            lx->i += t->n;
            return 1;
        }
    }
    return 0;
}

static int tok_is(const struct tok *t, const char *w) { return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0; }

struct decl {
    int found;
    int is_static;
    enum hl_mm_ret ret;
    int bool_word; /* the return type is spelled `bool` */
    int arg;       /* 0: (void) or (); 1: one integer parameter; -1: anything else */
};

/* The first file-scope declaration or definition of `name`: the word
 * before it is its return type, the parentheses after it its parameters. */
static struct decl find_decl(const char *src, size_t len, const char *name)
{
    struct decl d = {0, 0, HL_MM_RET_UNKNOWN, 0, 0};
    struct lexer lx = {src, len, 0, 1};
    struct tok t, prev = {"", 0};
    int depth = 0, is_static = 0;
    while (next_tok(&lx, &t)) {
        if (tok_is(&t, "{"))
            depth++;
        else if (tok_is(&t, "}"))
            depth = depth > 0 ? depth - 1 : 0;
        if (tok_is(&t, ";") || tok_is(&t, "{") || tok_is(&t, "}"))
            is_static = 0;
        else if (tok_is(&t, "static"))
            is_static = 1;
        if (depth == 0 && tok_is(&t, name) &&
            (tok_is(&prev, "int") || tok_is(&prev, "bool") || tok_is(&prev, "_Bool") || tok_is(&prev, "void"))) {
            struct tok p;
            if (!next_tok(&lx, &p) || !tok_is(&p, "("))
                continue;
            d.found = 1;
            d.is_static = is_static;
            d.bool_word = tok_is(&prev, "bool");
            d.ret = tok_is(&prev, "int") ? HL_MM_RET_INT : tok_is(&prev, "void") ? HL_MM_RET_VOID : HL_MM_RET_BOOL;
            /* parameters: none, or one of an integer type */
            int ntok = 0, commas = 0, star = 0, integer = 0, voidp = 0, nest = 1;
            while (nest > 0 && next_tok(&lx, &p)) {
                if (tok_is(&p, "("))
                    nest++;
                else if (tok_is(&p, ")") && --nest == 0)
                    break;
                ntok++;
                commas += tok_is(&p, ",");
                star += tok_is(&p, "*") || tok_is(&p, "[");
                if (ntok == 1)
                    voidp = tok_is(&p, "void");
                integer |= tok_is(&p, "int") || tok_is(&p, "long") || tok_is(&p, "short") || tok_is(&p, "unsigned") ||
                           tok_is(&p, "signed") || tok_is(&p, "int32_t") || tok_is(&p, "int64_t");
            }
            if (ntok == 0 || (ntok == 1 && voidp))
                d.arg = 0;
            else
                d.arg = !commas && !star && integer ? 1 : -1;
            return d;
        }
        prev = t;
    }
    return d;
}

static const char *ret_word(enum hl_mm_ret r)
{
    return r == HL_MM_RET_INT ? "int" : r == HL_MM_RET_BOOL ? "_Bool" : "void";
}

/* ---- the compile cache ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return (h ^ 0xff) * 0x100000001b3u; /* a separator: ("ab","c") differs from ("a","bc") */
}

static uint64_t fnv_file(uint64_t h, const char *path)
{
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fnv(h, path, strlen(path));
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        h = fnv(h, buf, (size_t)k);
    close(fd);
    return h;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                *p = '/';
                return -1;
            }
            *p = '/';
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    return access(path, W_OK | X_OK);
}

/* $XDG_CACHE_HOME/heaplab, ~/.cache/heaplab, or $TMPDIR/heaplab-cache-UID
 * (a folder this user owns, not a link someone planted). */
static int cache_dir(char *out, size_t len)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && x[0] == '/' && (size_t)snprintf(out, len, "%s/heaplab", x) < len && mkdirs(out) == 0)
        return 0;
    if (home && home[0] == '/' && (size_t)snprintf(out, len, "%s/.cache/heaplab", home) < len && mkdirs(out) == 0)
        return 0;
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(out, len, "%s/heaplab-cache-%u", tmp && tmp[0] == '/' ? tmp : "/tmp", (unsigned)getuid()) >=
        len)
        return -1;
    struct stat st;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return -1;
    if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

/* heaplab's include/malloclab: $HEAPLAB_MM_INCLUDE, the project's as the
 * build knew it, or beside the executable (../include/malloclab). */
static int include_dir(char *out, size_t len)
{
    char mm[PATH_MAX + 8];
    const char *env = getenv("HEAPLAB_MM_INCLUDE");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        snprintf(mm, sizeof mm, "%s/mm.h", out);
        return access(mm, R_OK);
    }
    snprintf(out, len, "%s", HEAPLAB_MALLOCLAB_INCLUDE);
    snprintf(mm, sizeof mm, "%s/mm.h", out);
    if (out[0] && access(mm, R_OK) == 0)
        return 0;
    char exe[PATH_MAX - 32];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0)
        return -1;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(out, len, "%s/../include/malloclab", exe);
    snprintf(mm, sizeof mm, "%s/mm.h", out);
    return access(mm, R_OK);
}

static int read_all(const char *path, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)64 << 20) {
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        return -1;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len + 1);
    size_t got = 0;
    while (*buf && got < *len) {
        ssize_t k = read(fd, *buf + got, *len - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!*buf || got != *len) {
        free(*buf);
        *buf = NULL;
        errno = errno ? errno : EIO;
        return -1;
    }
    (*buf)[*len] = 0;
    return 0;
}

static int write_all(const char *path, const char *a, size_t alen, const char *b, size_t blen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *part[2] = {a, b};
    size_t plen[2] = {alen, blen};
    for (int i = 0; i < 2; i++)
        for (size_t done = 0; done < plen[i];) {
            ssize_t k = write(fd, part[i] + done, plen[i] - done);
            if (k <= 0) {
                close(fd);
                return -1;
            }
            done += (size_t)k;
        }
    return close(fd);
}

#define MAX_ARGS 32

/* Run argv (the compiler), its output on our stderr; its exit status, or -1. */
static int run_compiler(char *const argv[])
{
    int status;
    pid_t pid = hl_child_spawn(argv[0], argv, NULL, 0);
    if (pid < 0 || hl_child_wait(pid, &status) < 0)
        return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Compile file (its bytes in src) into the cache unless it is there:
 * the .so's path in so. */
static int compile(const char *file, const char *src, size_t len, struct hl_mm *m, char *err, size_t errlen)
{
    char cc[PATH_MAX], inc[PATH_MAX], dir[PATH_MAX], cache[PATH_MAX - 64];
    const char *ccname = getenv("HEAPLAB_MM_CC");
    if (!ccname || !*ccname)
        ccname = "cc";
    if (hl_path_search(ccname, cc, sizeof cc) != 0) {
        snprintf(err, errlen, "mm:%s: no C compiler '%s' (set HEAPLAB_MM_CC)", file, ccname);
        return -1;
    }
    if (include_dir(inc, sizeof inc) != 0) {
        snprintf(err, errlen, "mm:%s: cannot find heaplab's include/malloclab headers (set HEAPLAB_MM_INCLUDE)", file);
        return -1;
    }
    if (cache_dir(cache, sizeof cache) != 0) {
        snprintf(err, errlen, "mm:%s: no folder to cache the compiled solution in: %s", file, strerror(errno));
        return -1;
    }
    /* the student's folder, for headers of its own (after ours) */
    char given[PATH_MAX];
    snprintf(given, sizeof given, "%s", file);
    char *slash = strrchr(given, '/');
    if (slash)
        *(slash == given ? slash + 1 : slash) = 0;
    else
        snprintf(given, sizeof given, ".");
    if (!realpath(given, dir))
        snprintf(dir, sizeof dir, "%s", given);

    /* how the solution declares mm_init and its checker */
    struct decl init = find_decl(src, len, "mm_init");
    struct decl chk = find_decl(src, len, "mm_checkheap");
    m->init_ret = init.found ? init.ret : HL_MM_RET_UNKNOWN;
    m->check_name = NULL;
    if (chk.found && !chk.is_static && chk.arg >= 0) {
        m->check_name = "mm_checkheap";
    } else {
        struct decl alt = find_decl(src, len, "mm_check");
        if (alt.found && !alt.is_static && alt.arg >= 0) {
            chk = alt;
            m->check_name = "mm_check";
        } /* else none, or one whose parameters we cannot pass: never called */
    }
    m->check_ret = m->check_name ? chk.ret : HL_MM_RET_UNKNOWN;
    m->check_arg = chk.arg > 0;

    char def_init[64] = "", def_ret[64] = "", def_args[64] = "";
    char *argv[MAX_ARGS];
    int k = 0;
    argv[k++] = cc;
    for (int i = 0; hl_mm_cflags[i]; i++)
        argv[k++] = (char *)hl_mm_cflags[i];
    if (init.found) {
        snprintf(def_init, sizeof def_init, "-DHEAPLAB_MM_INIT_RET=%s", ret_word(init.ret));
        argv[k++] = def_init;
    }
    if (m->check_name && strcmp(m->check_name, "mm_checkheap") == 0) {
        snprintf(def_ret, sizeof def_ret, "-DHEAPLAB_MM_CHECKHEAP_RET=%s", ret_word(chk.ret));
        snprintf(def_args, sizeof def_args, "-DHEAPLAB_MM_CHECKHEAP_ARGS=%s", chk.arg ? "int" : "void");
        argv[k++] = def_ret;
        argv[k++] = def_args;
    }
    if (init.bool_word || (chk.found && chk.bool_word))
        argv[k++] = "-DHEAPLAB_MM_STDBOOL";
    argv[k++] = "-I";
    argv[k++] = inc;
    argv[k++] = "-I";
    argv[k++] = dir;
    int nflags = k;

    /* the key: the source, the compiler, the command line, our headers */
    struct stat st;
    uint64_t h = 0xcbf29ce484222325u;
    h = fnv(h, "heaplab-mm-1", 12);
    h = fnv(h, src, len);
    if (stat(cc, &st) == 0) {
        h = fnv(h, &st.st_size, sizeof st.st_size);
        h = fnv(h, &st.st_mtime, sizeof st.st_mtime);
    }
    for (int i = 0; i < nflags; i++)
        h = fnv(h, argv[i], strlen(argv[i]));
    static const char *const headers[] = {"mm.h", "memlib.h", "config.h"};
    for (size_t i = 0; i < 3; i++) {
        char hp[PATH_MAX + 16];
        snprintf(hp, sizeof hp, "%s/%s", inc, headers[i]);
        h = fnv_file(h, hp);
    }
    char c_path[PATH_MAX + 64], tmp_c[PATH_MAX + 96], tmp_so[PATH_MAX + 96];
    snprintf(m->so, sizeof m->so, "%s/mm-%016llx.so", cache, (unsigned long long)h);
    if (access(m->so, R_OK) == 0) {
        m->compiled = 0;
        return 0;
    }

    /* the copy the compiler reads: a #line naming the original first */
    snprintf(c_path, sizeof c_path, "%s/mm-%016llx.c", cache, (unsigned long long)h);
    snprintf(tmp_c, sizeof tmp_c, "%s.%ld.tmp", c_path, (long)getpid());
    snprintf(tmp_so, sizeof tmp_so, "%s.%ld.tmp", m->so, (long)getpid());
    char line[PATH_MAX * 2 + 32];
    size_t ll = (size_t)snprintf(line, sizeof line, "#line 1 \"");
    for (const char *p = file; *p && ll + 4 < sizeof line; p++) {
        if (*p == '"' || *p == '\\')
            line[ll++] = '\\';
        line[ll++] = *p;
    }
    ll += (size_t)snprintf(line + ll, sizeof line - ll, "\"\n");
    if (write_all(tmp_c, line, ll, src, len) != 0 || rename(tmp_c, c_path) != 0) {
        snprintf(err, errlen, "mm:%s: cannot write %s: %s", file, c_path, strerror(errno));
        unlink(tmp_c);
        return -1;
    }
    argv[k++] = "-o";
    argv[k++] = tmp_so;
    argv[k++] = c_path;
    argv[k] = NULL;
    fprintf(stderr, "heaplab: compiling %s -> %s\n", file, m->so);
    int rc = run_compiler(argv);
    if (rc != 0) {
        unlink(tmp_so);
        if (rc < 0)
            snprintf(err, errlen, "mm:%s: cannot run %s: %s", file, cc, strerror(errno));
        else
            snprintf(err, errlen, "mm:%s: compilation failed (%s exited with status %d)", file, cc, rc);
        return -1;
    }
    if (rename(tmp_so, m->so) != 0) {
        snprintf(err, errlen, "mm:%s: cannot write %s: %s", file, m->so, strerror(errno));
        unlink(tmp_so);
        return -1;
    }
    m->compiled = 1;
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static pid_t loader_pid; /* the process that loaded the solutions: the others are row children */

static hl_mm_fn sym(void *handle, const char *name)
{
    hl_mm_fn f;
    void *p = dlsym(handle, name);
    memcpy(&f, &p, sizeof f);
    return f;
}

int hl_mm_load(const char *file, size_t max_heap, struct hl_mm *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    loader_pid = getpid();
    snprintf(m->path, sizeof m->path, "%s", file);
    const char *base = strrchr(file, '/');
    snprintf(m->label, sizeof m->label, "mm:%s", base ? base + 1 : file);
    m->max_heap = max_heap ? max_heap : HL_MM_DEFAULT_MAX_HEAP;
    m->timeout = HL_MM_DEFAULT_TIMEOUT;
    if (!*file) {
        snprintf(err, errlen, "mm:: expected mm:FILE (an mm.c or a built .so)");
        return -1;
    }
    int is_so = hl_ends_with(file, ".so") || strstr(file, ".so.") != NULL;
    if (is_so) {
        if (access(file, R_OK) != 0) {
            snprintf(err, errlen, "mm:%s: %s", file, strerror(errno));
            return -1;
        }
        /* dlopen searches the library path for a name without a slash */
        snprintf(m->so, sizeof m->so, "%s%s", strchr(file, '/') ? "" : "./", file);
        m->init_ret = HL_MM_RET_UNKNOWN;
        m->check_ret = HL_MM_RET_UNKNOWN;
    } else {
        char *src = NULL;
        size_t len = 0;
        if (read_all(file, &src, &len) != 0) {
            snprintf(err, errlen, "mm:%s: cannot read it: %s", file, strerror(errno));
            return -1;
        }
        int rc = compile(file, src, len, m, err, errlen);
        free(src);
        if (rc != 0)
            return -1;
    }
    m->handle = dlopen(m->so, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        const char *why = dlerror();
        const char *undef = why ? strstr(why, "undefined symbol: mm_") : NULL;
        if (undef)
            snprintf(err, errlen, "mm:%s: the solution calls %s but does not define it", file,
                     undef + strlen("undefined symbol: "));
        else
            snprintf(err, errlen, "mm:%s: cannot load %s: %s", file, m->so, why ? why : "unknown error");
        return -1;
    }
    static const char *const required[] = {"mm_init", "mm_malloc", "mm_free", "mm_realloc"};
    hl_mm_fn *slot[] = {&m->init, &m->malloc, &m->free, &m->realloc};
    for (size_t i = 0; i < 4; i++) {
        *slot[i] = sym(m->handle, required[i]);
        if (!*slot[i]) {
            Dl_info info;
            void *libc_name = dlsym(m->handle, required[i] + 3);
            int renamed = libc_name && dladdr(libc_name, &info) && info.dli_fname && hl_ends_with(info.dli_fname, m->so);
            snprintf(err, errlen, "mm:%s: the solution does not define %s%s", file, required[i],
                     renamed ? " (it defines the libc name: a CMU solution renames it under #ifdef DRIVER)" : "");
            hl_mm_unload(m);
            return -1;
        }
    }
    m->calloc = sym(m->handle, "mm_calloc");
    if (is_so) { /* the checker by its usual name, called as void (int): its result is not read */
        m->check_name = sym(m->handle, "mm_checkheap") ? "mm_checkheap" : NULL;
        m->check_arg = 1;
        m->check_ret = HL_MM_RET_UNKNOWN;
    }
    m->check = m->check_name ? sym(m->handle, m->check_name) : NULL;
    return 0;
}

void hl_mm_unload(struct hl_mm *m)
{
    if (m->handle)
        dlclose(m->handle);
    m->handle = NULL;
}

/* ---- calling the solution ------------------------------------------------------------------ */

#define MM_MALLOC(m, n) ((void *(*)(size_t))(m)->malloc)(n)
#define MM_FREE(m, p) ((void (*)(void *))(m)->free)(p)
#define MM_REALLOC(m, p, n) ((void *(*)(void *, size_t))(m)->realloc)(p, n)
#define MM_CALLOC(m, k, n) ((void *(*)(size_t, size_t))(m)->calloc)(k, n)

/* The row being replayed in this process: what the wrappers and the crash
 * handlers need (one row at a time per process). */
static struct mm_run {
    const struct hl_mm *m;
    const struct hl_trace *t;
    struct hl_result *r;
    const char *volatile in; /* the solution's function running, or NULL */
    volatile uint64_t op;    /* checked pass: calls so far = the operation under way; timed: calls */
    uint64_t tick_op;        /* the watchdog: op at its last tick ... */
    unsigned stalled;        /* ... and the ticks since op last moved */
    int timed;               /* in the timed passes */
    char error[200];         /* the first broken contract the wrappers saw ... */
    uint64_t error_op;       /* ... at this operation */
    uint64_t check_op;       /* the solution's checker reported a problem after this operation (0: not) */
    /* stand-ins for size-0 blocks the solution returned NULL for */
    char *zero_base;
    uint32_t *zero_free;
    size_t zero_cap, zero_top, zero_next;
    /* samples (--timeline, --heapmap): the live payloads, by address */
    struct hl_sampler smp;            /* when to sample, where the rows go; no heap: payloads are sampled */
    uint64_t sampled;                 /* ops done at the last sample, +1 (0: none yet) */
    uintptr_t *live_at;               /* open addressing, linear probing; 0 = empty */
    uint64_t *live_size;
    size_t live_cap, live_n;
    uint64_t live_bytes;
    int sample_error;
} run;

/* mm_init, called as the solution declares it: 0, or -1 with why in buf. */
static int call_init(const struct hl_mm *m, char *why, size_t len)
{
    run.in = "mm_init";
    int ok = 1, v = 0;
    switch (m->init_ret) {
    case HL_MM_RET_BOOL:
        ok = ((_Bool(*)(void))m->init)();
        snprintf(why, len, "mm_init returned false");
        break;
    case HL_MM_RET_VOID:
        ((void (*)(void))m->init)();
        break;
    case HL_MM_RET_INT:
    case HL_MM_RET_UNKNOWN:
        v = ((int (*)(void))m->init)();
        ok = v >= 0; /* the classic driver: mm_init() < 0 is a failure */
        snprintf(why, len, "mm_init failed (returned %d)", v);
        break;
    }
    run.in = NULL;
    return ok ? 0 : -1;
}

/* The checker, called as the solution declares it: 1 when it reports a
 * problem (false or 0), else 0. */
static int call_check(const struct hl_mm *m, uint64_t op)
{
    int arg = m->check_ret == HL_MM_RET_BOOL ? (int)(op > INT_MAX ? INT_MAX : op) : 0; /* lineno, or verbose = 0 */
    int bad = 0;
    run.in = m->check_name;
    switch (m->check_ret) {
    case HL_MM_RET_BOOL:
        bad = m->check_arg ? !((_Bool(*)(int))m->check)(arg) : !((_Bool(*)(void))m->check)();
        break;
    case HL_MM_RET_INT:
        bad = m->check_arg ? ((int (*)(int))m->check)(arg) == 0 : ((int (*)(void))m->check)() == 0;
        break;
    case HL_MM_RET_VOID:
    case HL_MM_RET_UNKNOWN:
        if (m->check_arg)
            ((void (*)(int))m->check)(arg);
        else
            ((void (*)(void))m->check)();
        break;
    }
    run.in = NULL;
    return bad;
}

/* ---- crashes and exits inside the solution ----------------------------------------------------- */

/* " in mm_free at op 17", " in mm_init before op 1", " in the timed pass" */
static void put_where(char *b, size_t len, size_t *k)
{
    const char *in = run.in;
    if (in) {
        hl_msg_put(b, len, k, " in ");
        hl_msg_put(b, len, k, in);
    }
    if (run.timed) {
        hl_msg_put(b, len, k, " in the timed pass");
        return;
    }
    uint64_t nops = run.t ? run.t->nops : 0;
    if (run.op == 0) {
        hl_msg_put(b, len, k, " before op 1");
    } else if (run.op > nops) {
        hl_msg_put(b, len, k, " while freeing what the trace left live");
    } else {
        hl_msg_put(b, len, k, in && in == run.m->check_name ? " after op " : " at op ");
        hl_msg_put_u64(b, len, k, run.op);
    }
}

/* Report on the row (a forked child, which then exits) or on stderr
 * (--no-fork: the run ends here, as a crash does). */
static void report_fatal(const char *what, const char *note)
{
    if (getpid() != loader_pid && run.r) {
        /* a failure the replay already reported stays the row's status */
        if (run.r->ok || strcmp(run.r->status, "not run") == 0) {
            size_t k = 0;
            hl_msg_put(run.r->status, sizeof run.r->status, &k, what);
            put_where(run.r->status, sizeof run.r->status, &k);
            hl_msg_put(run.r->status, sizeof run.r->status, &k, note);
        }
        run.r->ok = 0;
        _exit(1);
    }
    char line[512];
    size_t k = 0;
    hl_msg_put(line, sizeof line, &k, "heaplab: ");
    hl_msg_put(line, sizeof line, &k, run.r ? run.r->trace : "");
    hl_msg_put(line, sizeof line, &k, ": ");
    hl_msg_put(line, sizeof line, &k, run.m->label);
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
    if (!run.in && !run.timed)
        return; /* not the solution's: the runner reports it */
    char what[96];
    size_t k = 0;
    hl_msg_put_signal(what, sizeof what, &k, sig);
    report_fatal(what, "");
}

static void on_exit_call(int status, void *arg)
{
    (void)arg;
    if (!run.in || !run.m)
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
    if (run.op != run.tick_op || (!run.in && !run.timed)) {
        run.tick_op = run.op;
        run.stalled = 0;
        return;
    }
    if (!run.m || ++run.stalled < run.m->timeout)
        return;
    char what[64];
    size_t k = 0;
    hl_msg_put(what, sizeof what, &k, "no answer for ");
    hl_msg_put_u64(what, sizeof what, &k, run.stalled);
    hl_msg_put(what, sizeof what, &k, " s");
    report_fatal(what, " (an endless loop? --mm-timeout)");
}

static struct sigaction saved_alrm;

static void run_begin(const struct hl_mm *m, const struct hl_trace *t, struct hl_result *r, int timed)
{
    static int exit_hooked;
    memset(&run, 0, sizeof run);
    run.m = m;
    run.t = t;
    run.r = r;
    run.timed = timed;
    if (!exit_hooked) {
        on_exit(on_exit_call, NULL);
        exit_hooked = 1;
    }
    /* in a row's child, what the solution prints goes to stderr: the
     * results on stdout (a table, CSV, JSON) stay whole */
    if (getpid() != loader_pid) {
        fflush(stdout);
        dup2(2, 1);
        setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time: a crash keeps what came before */
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
    if (m->timeout && getpid() != loader_pid) { /* a row's child; --no-fork is for debuggers */
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

static void run_end(void)
{
    fflush(stdout);
    if (run.m && run.m->timeout && getpid() != loader_pid) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        sigaction(SIGALRM, &saved_alrm, NULL);
    }
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal_signals[i], &saved[i], NULL);
    sigaltstack(&saved_stack, NULL);
    if (run.zero_base)
        munmap(run.zero_base, run.zero_cap * 16);
    free(run.zero_free);
    run.m = NULL;
    run.r = NULL;
    run.in = NULL;
    run.zero_base = NULL;
    run.zero_free = NULL;
}

/* ---- samples: the timeline and the heap map ---------------------------------------------------- */

/*
 * The solution's block layout is its own, so a heap map shows what the
 * harness knows: each live payload (offset from mem_heap_lo, the bytes
 * asked for) as used, and every other byte of [mem_heap_lo, mem_heap_hi]
 * - the solution's headers, padding and free blocks alike - as free.  The
 * timeline's free_bytes, largest_free and external_frag come from the
 * same picture (an upper bound on what is really free); its
 * internal_frag, like the result columns at the peak, is not available.
 */

static size_t live_slot_home(uintptr_t key)
{
    return (size_t)((key >> 3) * 0x9e3779b97f4a7c15u) & (run.live_cap - 1);
}

static size_t live_slot(uintptr_t key)
{
    size_t i = live_slot_home(key);
    while (run.live_at[i] && run.live_at[i] != key)
        i = (i + 1) & (run.live_cap - 1);
    return i;
}

static void live_add(void *p, uint64_t n)
{
    if (!run.live_at || !p || n == 0)
        return;
    size_t i = live_slot((uintptr_t)p);
    if (!run.live_at[i] && run.live_n + 1 < run.live_cap) {
        run.live_at[i] = (uintptr_t)p;
        run.live_size[i] = n;
        run.live_n++;
        run.live_bytes += n;
    }
}

static void live_del(void *p)
{
    if (!run.live_at || !p)
        return;
    size_t i = live_slot((uintptr_t)p);
    if (!run.live_at[i])
        return;
    run.live_bytes -= run.live_size[i];
    run.live_n--;
    /* backward-shift deletion keeps every probe run unbroken */
    size_t j = i;
    for (;;) {
        run.live_at[i] = 0;
        for (;;) {
            j = (j + 1) & (run.live_cap - 1);
            if (!run.live_at[j])
                return;
            size_t home = live_slot_home(run.live_at[j]);
            if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        run.live_at[i] = run.live_at[j];
        run.live_size[i] = run.live_size[j];
        i = j;
    }
}

struct span {
    uintptr_t at;
    uint64_t size;
};

static int cmp_span(const void *a, const void *b)
{
    uintptr_t x = ((const struct span *)a)->at, y = ((const struct span *)b)->at;
    return (x > y) - (x < y);
}

static void map_row(uint64_t done, uint64_t off, uint64_t size, const char *state)
{
    hl_heapmap_row(run.smp.heapmap, run.r->trace, run.r->policy, done, (long long)off, size, 0, state);
}

/* One sample after `done` operations. */
static void sample(uint64_t done)
{
    run.sampled = done + 1;
    struct span *sp = malloc((run.live_n ? run.live_n : 1) * sizeof *sp);
    if (!sp) {
        run.sample_error = ENOMEM;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < run.live_cap; i++)
        if (run.live_at[i])
            sp[k++] = (struct span){run.live_at[i], run.live_size[i]};
    qsort(sp, k, sizeof *sp, cmp_span);
    uintptr_t lo = (uintptr_t)mem_heap_lo();
    uint64_t heap = mem_heapsize(), at = 0, free_bytes = 0, largest = 0;
    for (size_t i = 0; i <= k; i++) {
        uint64_t off = i < k ? sp[i].at - lo : heap;
        if (off > at) { /* the gap before this payload (or the heap's end) */
            free_bytes += off - at;
            largest = off - at > largest ? off - at : largest;
            if (run.smp.heapmap)
                map_row(done, at, off - at, "free");
        }
        if (i < k) {
            if (run.smp.heapmap)
                map_row(done, off, sp[i].size, "used");
            at = off + sp[i].size;
        }
    }
    free(sp);
    /* the payloads are all that is known of the blocks: no internal fragmentation */
    if (run.smp.timeline)
        hl_timeline_row(run.smp.timeline, run.r->trace, run.r->policy, done, run.live_bytes, heap, free_bytes, largest,
                        HL_NA_F, hl_external_frag(free_bytes, largest));
    /* flushed: a crash later keeps the rows so far */
    if ((run.smp.timeline && fflush(run.smp.timeline) != 0) || (run.smp.heapmap && fflush(run.smp.heapmap) != 0))
        run.sample_error = errno ? errno : EIO;
}

/* At the start of each operation: the sample after the ones before it. */
static void maybe_sample(void)
{
    if (run.live_at && run.sampled != run.op + 1 && run.op <= run.t->nops && hl_sample_due(&run.smp, run.op))
        sample(run.op);
}

static int samples_begin(const struct hl_replay_config *cfg)
{
    if (!cfg->timeline && !cfg->heapmap)
        return 0;
    const struct hl_trace *t = run.t;
    /* the peak of the live bytes, as the replay counts them */
    uint64_t peak_op, peak_live;
    if (hl_trace_peak_op(t, &peak_op, &peak_live) != 0)
        return -1;
    hl_sampler_init(&run.smp, NULL, t, run.r->policy, cfg->sample_every, peak_op, cfg->timeline, cfg->heapmap, NULL);
    run.live_cap = 16;
    while (run.live_cap < 2 * (size_t)t->num_ids + 2)
        run.live_cap *= 2;
    run.live_at = calloc(run.live_cap, sizeof *run.live_at);
    run.live_size = calloc(run.live_cap, sizeof *run.live_size);
    if (!run.live_at || !run.live_size)
        return -1;
    return 0;
}

static void samples_end(void)
{
    free(run.live_at);
    free(run.live_size);
    run.live_at = NULL;
    run.live_size = NULL;
}

/* ---- the checked pass's wrappers ------------------------------------------------------------- */

static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void broken(const char *fmt, ...)
{
    if (run.error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run.error, sizeof run.error, fmt, ap);
    va_end(ap);
    run.error_op = run.op;
}

/* Nothing more goes to the solution once a check failed: its heap may be
 * anything, and the first failure is the one to report. */
static int failed(void) { return run.error[0] || strcmp(run.r->status, "not run") != 0; }

/* The start of an operation: the sample due after the ones before it; 1
 * when the solution may be called. */
static int begin_op(void)
{
    if (failed()) {
        run.op++;
        return 0;
    }
    maybe_sample();
    run.op++;
    return 1;
}

/* A stand-in address for a size-0 block the solution returned NULL for:
 * distinct, aligned, never touched (the replay writes no pattern into 0
 * bytes). */
static void *zero_take(void)
{
    if (!run.zero_base) {
        run.zero_cap = run.t->num_ids ? run.t->num_ids : 1;
        void *p = mmap(NULL, run.zero_cap * 16, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        run.zero_free = malloc(run.zero_cap * sizeof *run.zero_free);
        if (p == MAP_FAILED || !run.zero_free) {
            if (p != MAP_FAILED)
                munmap(p, run.zero_cap * 16);
            free(run.zero_free);
            run.zero_free = NULL;
            return NULL;
        }
        run.zero_base = p;
    }
    size_t slot;
    if (run.zero_top > 0)
        slot = run.zero_free[--run.zero_top];
    else if (run.zero_next < run.zero_cap)
        slot = run.zero_next++;
    else
        return NULL;
    return run.zero_base + slot * 16;
}

/* NULL for a stand-in (given back), else p. */
static void *zero_give(void *p)
{
    char *c = p;
    if (!run.zero_base || c < run.zero_base || c >= run.zero_base + run.zero_cap * 16)
        return p;
    run.zero_free[run.zero_top++] = (uint32_t)((size_t)(c - run.zero_base) / 16);
    return NULL;
}

/* The lab driver's check: the payload lies inside the heap. */
static void *accept(const char *fn, void *p, size_t n)
{
    if (!p)
        return n == 0 ? zero_take() : NULL;
    char *lo = mem_heap_lo(), *end = (char *)mem_heap_hi() + 1, *c = p;
    if (c < lo || c > end || (size_t)(end - c) < n) {
        if (end == lo)
            broken("%s(%zu) returned %p, but the heap is empty", fn, n, p);
        else
            broken("%s(%zu) returned %p, outside the heap [%p, %p]", fn, n, p, (void *)lo, (void *)(end - 1));
        return NULL;
    }
    live_add(p, n);
    return p;
}

static void *ck_malloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    run.in = "mm_malloc";
    void *p = MM_MALLOC(m, n);
    run.in = NULL;
    return accept("mm_malloc", p, n);
}

static void ck_free(void *ctx, void *p)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return;
    p = zero_give(p);
    live_del(p);
    run.in = "mm_free";
    MM_FREE(m, p);
    run.in = NULL;
}

static void *ck_realloc(void *ctx, void *p, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    void *given = p;
    p = zero_give(p);
    live_del(p);
    run.in = "mm_realloc";
    void *q = MM_REALLOC(m, p, n);
    run.in = NULL;
    if (!q && given && n == 0)
        return NULL; /* realloc(p, 0) freed p */
    return accept("mm_realloc", q, n);
}

static void *ck_calloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    if (!begin_op())
        return NULL;
    void *p;
    if (m->calloc) {
        run.in = "mm_calloc";
        p = MM_CALLOC(m, 1, n);
        run.in = NULL;
        return accept("mm_calloc", p, n);
    }
    run.in = "mm_malloc";
    p = MM_MALLOC(m, n);
    run.in = NULL;
    p = accept("mm_malloc", p, n);
    if (p && n)
        memset(p, 0, n);
    return p;
}

static void *ck_memalign(void *ctx, size_t align, size_t n)
{
    (void)ctx;
    (void)align;
    (void)n;
    run.op++;
    if (!failed())
        broken("the solution has no memalign");
    return NULL;
}

static int ck_check(void *ctx, FILE *report)
{
    (void)report;
    if (failed())
        return 0;
    int bad = call_check(ctx, run.op);
    if (bad && !run.check_op)
        run.check_op = run.op;
    return bad;
}

static void fill_footprint(struct hl_result *r)
{
    struct hl_memlib_stats st;
    hl_memlib_stats(&st);
    uint64_t live = r->peak_live_bytes;
    r->peak_heap_bytes = st.peak_heap;
    r->util = st.peak_heap ? (double)live / (double)st.peak_heap : HL_NA_F;
    r->frag = live && st.peak_heap ? (double)st.peak_heap / (double)live - 1 : HL_NA_F;
    r->sbrk_calls = st.sbrk_calls;
    r->mmap_calls = 0;
    r->munmap_calls = 0;
}

/* What the replay said, with what the solution's side knows added. */
static void explain(const struct hl_replay_config *cfg, struct hl_result *r)
{
    size_t k = strlen(r->status);
    struct hl_memlib_stats st;
    hl_memlib_stats(&st);
    if (strncmp(r->status, "out of memory", 13) == 0 && st.refused)
        snprintf(r->status + k, sizeof r->status - k,
                 "; mem_sbrk(%lld) refused with %llu bytes in the heap (limit %llu: --mm-max-heap)",
                 (long long)st.refused_incr, (unsigned long long)st.refused_at, (unsigned long long)st.limit);
    else if (cfg->align == 16 && strstr(r->status, "not 16-aligned"))
        snprintf(r->status + k, sizeof r->status - k, " (the classic lab aligns to 8: --preset malloclab)");
}

int hl_mm_measure(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
                  struct hl_result *r)
{
    int rc = 1;
    char why[128];
    r->mmap_threshold = 0;                            /* the lab's memory system has no mmap path ... */
    snprintf(r->source, sizeof r->source, "region"); /* ... and is a region, whatever --source says, */
    hl_replay_regime(HL_NO_TRIM, 0, 0, r->regime, sizeof r->regime); /* ... that never shrinks */
    run_begin(m, t, r, 0);
    if (hl_memlib_open(m->max_heap) != 0) {
        snprintf(r->status, sizeof r->status, "cannot reserve the heap (%zu bytes): %s", m->max_heap,
                 strerror(errno));
        goto out;
    }
    if (call_init(m, why, sizeof why) != 0) {
        snprintf(r->status, sizeof r->status, "%s before op 1", why);
        fill_footprint(r);
        goto out;
    }
    if (samples_begin(cfg) != 0) {
        snprintf(r->status, sizeof r->status, "out of memory for the samples");
        goto out;
    }
    struct hl_alloc a = {m->label, (void *)(uintptr_t)m, ck_malloc, ck_free, ck_realloc, ck_calloc, ck_memalign,
                         m->check ? ck_check : NULL, cfg->align, NULL, NULL};
    rc = hl_replay_checked(t, &a, cfg, r);
    if (rc == 0 && !run.error[0] && run.op == t->nops)
        maybe_sample(); /* the last one, when nothing was left live to free */
    if (rc == 0 && !run.error[0] && run.sample_error) {
        rc = 1;
        snprintf(r->status, sizeof r->status, "cannot write samples: %s", strerror(run.sample_error));
    }
    if (run.error[0]) {
        rc = 1;
        if (strcmp(run.error, "the solution has no memalign") == 0)
            snprintf(r->status, sizeof r->status, "%s (trace op %llu)", run.error,
                     (unsigned long long)run.error_op);
        else
            snprintf(r->status, sizeof r->status, "%s at op %llu", run.error, (unsigned long long)run.error_op);
    } else if (rc && run.check_op && strncmp(r->status, "heap check found", 16) == 0) {
        snprintf(r->status, sizeof r->status, "%s returned %s after op %llu", m->check_name,
                 m->check_ret == HL_MM_RET_BOOL ? "false" : "0", (unsigned long long)run.check_op);
    } else if (rc) {
        explain(cfg, r);
    }
    fill_footprint(r);
    if (rc == 0) {
        r->ok = 1;
        snprintf(r->status, sizeof r->status, "ok");
    }
out:
    samples_end();
    hl_memlib_close();
    run_end();
    return rc ? 1 : 0;
}

/* ---- the timed passes ------------------------------------------------------------------------ */

/* Straight calls: the timed loop measures the solution, not checks (the
 * count is the watchdog's). */
static void *tm_malloc(void *ctx, size_t n)
{
    run.op++;
    return MM_MALLOC((const struct hl_mm *)ctx, n);
}
static void tm_free(void *ctx, void *p)
{
    run.op++;
    MM_FREE((const struct hl_mm *)ctx, p);
}
static void *tm_realloc(void *ctx, void *p, size_t n)
{
    run.op++;
    return MM_REALLOC((const struct hl_mm *)ctx, p, n);
}
static void *tm_calloc(void *ctx, size_t n)
{
    const struct hl_mm *m = ctx;
    run.op++;
    if (m->calloc)
        return MM_CALLOC(m, 1, n);
    void *p = MM_MALLOC(m, n);
    if (p)
        memset(p, 0, n);
    return p;
}
static void *tm_memalign(void *ctx, size_t align, size_t n)
{
    (void)ctx;
    (void)align;
    (void)n;
    return NULL;
}

/* Before each pass, as the lab's driver does: an empty heap, mm_init. */
static int tm_reset(void *ctx)
{
    char why[128];
    mem_reset_brk();
    int rc = call_init(ctx, why, sizeof why);
    if (rc != 0)
        broken("%s before a timed pass", why);
    return rc;
}

/* The memory system's pages resident now: the solution's whole footprint. */
static uint64_t tm_resident(void *ctx)
{
    (void)ctx;
    return hl_memlib_resident();
}

int hl_mm_time(const struct hl_trace *t, const struct hl_mm *m, const struct hl_replay_config *cfg,
               struct hl_result *r)
{
    int rc = 1;
    run_begin(m, t, r, 1);
    if (hl_memlib_open(m->max_heap) != 0) {
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "cannot reserve the heap (%zu bytes): %s", m->max_heap,
                 strerror(errno));
        goto out;
    }
    struct hl_alloc a = {m->label, (void *)(uintptr_t)m, tm_malloc, tm_free, tm_realloc, tm_calloc, tm_memalign,
                         NULL, cfg->align, tm_reset, tm_resident};
    rc = hl_replay_time_alloc(t, &a, cfg, r);
    if (run.error[0]) {
        rc = 1;
        r->ok = 0;
        snprintf(r->status, sizeof r->status, "%s", run.error);
    }
out:
    hl_memlib_close();
    run_end();
    return rc ? 1 : 0;
}

static int job_measure(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_mm_measure(j->trace, j->target, cfg, r);
}

static int job_time(const struct hl_job *j, const struct hl_replay_config *cfg, struct hl_result *r)
{
    return hl_mm_time(j->trace, j->target, cfg, r);
}

const struct hl_job_ops hl_mm_job = {job_measure, job_time};
