/*
 * record.c - the recorder, build/libheaplab-record.so: glibc's allocation
 * API forwarded to glibc's own allocator, every call logged to a raw file
 * (heaplab/record.h) that `heaplab record` turns into a trace.
 *
 * The program keeps its usual allocator (glibc exports it as __libc_malloc
 * and friends, so reaching it needs no dlsym); what the recorder adds is a
 * record per call.  Its design follows what a robust tracer must survive
 * (heaptrack's preload library meets the same traps):
 *  - Order.  Every logged call runs the real call and appends its record
 *    under one process-wide lock, so the log's order is the order the calls
 *    took effect: a free(p) in one thread is logged before the malloc that
 *    gets p back in another.  Timestamps would not do that.  While the
 *    process has one thread (__libc_single_threaded) no lock is taken, as
 *    glibc's malloc takes none.
 *  - Recursion.  A thread-local guard (initial-exec TLS: the default model
 *    may allocate) is set around the real call and the append; a call made
 *    from inside - the start-up below, or glibc allocating inside malloc -
 *    goes straight to glibc, unlogged, and cannot deadlock on the lock.
 *  - Start-up.  The first call, or the constructor if it comes first, reads
 *    the environment (from /proc/self/environ if libc has not set environ
 *    up yet) and nothing else; pthread_atfork, the signal handlers and the
 *    exec functions' addresses wait for the constructor, when libc is ready.
 *  - Output.  Records go into a static buffer written with write(2) when it
 *    fills; no stdio, no allocation.  The buffer is written at exit (the
 *    destructor, after which each record is written as it comes), before an
 *    exec (execve and its family are wrapped), at _exit, and on a fatal
 *    signal the program has left at its default action (then the signal is
 *    raised again, so the program dies of it as it would have).
 *  - fork.  The child drops the records it inherited (the parent writes
 *    them) and opens a log of its own, under its own process id, at its
 *    first write; the atfork handlers hold the lock across fork, so the
 *    child never inherits it taken.  With HEAPLAB_RECORD_PID set, a child
 *    logs nothing.  The child of a vfork (posix_spawn, CPython's
 *    subprocess, gcc's driver) shares its parent's memory and leaves the
 *    buffer alone: it survives the child's exec, and the parent writes it.
 *  - Descriptors.  A program may close every descriptor it did not open,
 *    or dup2 over ours: the log's is checked (device and inode) before each
 *    write and the file reopened, for appending, when it is not ours.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "heaplab/record.h"
#include "text.h"

#define EXPORT __attribute__((visibility("default")))
#define unlikely(x) __builtin_expect(!!(x), 0)

/* glibc's allocator under its own names */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

extern char **environ;

enum { UNSTARTED, STARTING, RECORDING, INERT };

#define BUF_RECORDS 8192 /* 256 KiB */

static struct {
    atomic_int state;            /* UNSTARTED, STARTING, RECORDING, INERT */
    int final;                   /* after the destructor: each record written at once */
    pthread_mutex_t lock;        /* the real call and its record */
    pid_t pid;                   /* the process the buffer belongs to */
    pid_t only_pid;              /* HEAPLAB_RECORD_PID, or 0 */
    int fd;                      /* the raw log, or -1 before the first write */
    int failed;                  /* the log could not be opened: records are dropped */
    volatile int flushing;       /* inside flush_locked (a signal then leaves the buffer alone) */
    uint64_t lost;               /* records not written */
    uint64_t start_ns;           /* the header's */
    size_t n;                    /* records in buf */
    char dir[1024];              /* HEAPLAB_RECORD_DIR */
    char name[1100];             /* the log's path, once open */
    dev_t dev;                   /* the log's file, to know its descriptor is still ours */
    ino_t ino;
    struct hl_raw_record buf[BUF_RECORDS];
    /* the exec family, looked up by the constructor */
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* Set while this thread is inside a logged call (or start-up). */
static __thread int inside __attribute__((tls_model("initial-exec")));
/* This thread's id, once asked (0: not yet). */
static __thread pid_t my_tid __attribute__((tls_model("initial-exec")));

static void say(const char *a, const char *b, const char *c)
{
    char msg[1400];
    size_t n = 0;
    hl_msg_put(msg, sizeof msg, &n, "heaplab: record: ");
    hl_msg_put(msg, sizeof msg, &n, a);
    hl_msg_put(msg, sizeof msg, &n, b);
    hl_msg_put(msg, sizeof msg, &n, c);
    hl_msg_put(msg, sizeof msg, &n, "\n");
    ssize_t w = write(2, msg, n);
    (void)w;
}

/* ---- the environment, before libc may have set environ up ------------------- */

static char env_copy[8192];

/* NAME's value into out (cap bytes); 0, or -1 when unset or empty. */
static int env_get(const char *name, char *out, size_t cap)
{
    size_t len = strlen(name);
    if (environ) {
        for (char **e = environ; *e; e++)
            if (strncmp(*e, name, len) == 0 && (*e)[len] == '=' && (*e)[len + 1]) {
                if (strlen(*e + len + 1) >= cap)
                    return -1;
                strcpy(out, *e + len + 1);
                return 0;
            }
        return -1;
    }
    /* the very first call can come from the loader, before libc's own start-up */
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = 0, r;
    while (got < (ssize_t)sizeof env_copy - 1 && (r = read(fd, env_copy + got, sizeof env_copy - 1 - (size_t)got)) > 0)
        got += r;
    close(fd);
    env_copy[got > 0 ? got : 0] = 0;
    for (char *s = env_copy; s < env_copy + got; s += strlen(s) + 1)
        if (strncmp(s, name, len) == 0 && s[len] == '=' && s[len + 1] && strlen(s + len + 1) < cap) {
            strcpy(out, s + len + 1);
            return 0;
        }
    return -1;
}

/* ---- start-up ---------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void setup(void)
{
    g.start_ns = now_ns();
    g.pid = getpid();
    if (env_get(HL_RECORD_ENV_DIR, g.dir, sizeof g.dir) != 0)
        strcpy(g.dir, ".");
    char pid[32];
    uint64_t only;
    if (env_get(HL_RECORD_ENV_PID, pid, sizeof pid) == 0) {
        if (hl_parse_u64(pid, INT32_MAX, &only) != 0) {
            say(HL_RECORD_ENV_PID "=", pid, ": expected a process id; nothing is recorded");
            atomic_store(&g.state, INERT);
            return;
        }
        g.only_pid = (pid_t)only;
        if (g.only_pid != g.pid) {
            atomic_store(&g.state, INERT);
            return;
        }
    }
    atomic_store(&g.state, RECORDING);
}

/* The first call (or the constructor): whether this process records. */
static __attribute__((noinline, cold)) int start(void)
{
    int expected = UNSTARTED;
    if (atomic_compare_exchange_strong(&g.state, &expected, STARTING)) {
        inside = 1;
        setup();
        inside = 0;
    } else {
        while (atomic_load(&g.state) == STARTING)
            sched_yield();
    }
    return atomic_load(&g.state) == RECORDING;
}

/* ---- the log ------------------------------------------------------------------ */

/* The raw log's header and command line, at the start of a new file:
 * DIR/PID.raw, or DIR/PID-K.raw when an earlier image of this process
 * wrote one.  0, or -1 (said once) when it cannot be made. */
static int open_log(uint32_t flags)
{
    for (int k = 1; k < 1000; k++) {
        size_t n = 0;
        hl_msg_put(g.name, sizeof g.name, &n, g.dir);
        hl_msg_put(g.name, sizeof g.name, &n, "/");
        hl_msg_put_u64(g.name, sizeof g.name, &n, (uint64_t)g.pid);
        if (k > 1) {
            hl_msg_put(g.name, sizeof g.name, &n, "-");
            hl_msg_put_u64(g.name, sizeof g.name, &n, (uint64_t)k);
        }
        hl_msg_put(g.name, sizeof g.name, &n, ".raw");
        g.fd = open(g.name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (g.fd >= 0 || errno != EEXIST)
            break;
    }
    if (g.fd < 0) {
        say(g.name, ": ", strerror(errno));
        g.failed = 1;
        return -1;
    }
    static struct {
        struct hl_raw_header h;
        char cmdline[HL_RAW_MAX_CMDLINE + 8];
    } head;
    memset(&head, 0, sizeof head);
    memcpy(head.h.magic, HL_RAW_MAGIC, sizeof head.h.magic);
    head.h.record_size = sizeof(struct hl_raw_record);
    head.h.pid = (uint32_t)g.pid;
    head.h.ppid = (uint32_t)getppid();
    head.h.start_ns = g.start_ns;
    head.h.flags = flags;
    int cf = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    if (cf >= 0) {
        ssize_t r;
        while (len < HL_RAW_MAX_CMDLINE && (r = read(cf, head.cmdline + len, HL_RAW_MAX_CMDLINE - len)) > 0)
            len += (size_t)r;
        close(cf);
    }
    head.h.cmdline_len = (uint32_t)len;
    size_t total = sizeof head.h + ((len + 7) & ~(size_t)7);
    const char *p = (const char *)&head;
    while (total > 0) {
        ssize_t w = write(g.fd, p, total);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            say(g.name, ": ", w < 0 ? strerror(errno) : "short write");
            close(g.fd);
            g.fd = -1;
            g.failed = 1;
            return -1;
        }
        p += w;
        total -= (size_t)w;
    }
    struct stat st;
    if (fstat(g.fd, &st) == 0) {
        g.dev = st.st_dev;
        g.ino = st.st_ino;
    }
    return 0;
}

/* The log's descriptor, still ours: a program may close every descriptor
 * it did not open, or dup2 another file over ours.  Reopened by name when
 * it is gone (the file is opened for appending, so writes through either
 * descriptor land at its end).  0, or -1 when it cannot be. */
static int check_fd(void)
{
    struct stat st;
    if (fstat(g.fd, &st) == 0 && st.st_dev == g.dev && st.st_ino == g.ino)
        return 0;
    g.fd = open(g.name, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (g.fd < 0) {
        say(g.name, ": reopening the log: ", strerror(errno));
        g.failed = 1;
        return -1;
    }
    return 0;
}

/* Write the buffer out; the caller holds the lock (or is alone). */
static void flush_locked(void)
{
    if (g.n == 0)
        return;
    if (g.fd < 0 && !g.failed)
        open_log(0);
    else if (g.fd >= 0)
        check_fd();
    if (g.failed) {
        g.lost += g.n;
        g.n = 0;
        return;
    }
    g.flushing = 1;
    const char *p = (const char *)g.buf;
    size_t left = g.n * sizeof g.buf[0];
    while (left > 0) {
        ssize_t w = write(g.fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    if (left > 0) {
        /* what was cut off is lost; a partial record is completed with
         * zeros, which the reader refuses as a kind, so it says so */
        size_t partial = left % sizeof g.buf[0];
        if (partial) {
            static const char zeros[sizeof g.buf[0]];
            ssize_t w = write(g.fd, zeros, partial);
            (void)w;
        }
        g.lost += left / sizeof g.buf[0];
        uint64_t lost = g.lost;
        /* (pwrite on a descriptor opened for appending appends, on Linux) */
        int hf = open(g.name, O_WRONLY | O_CLOEXEC);
        if (hf >= 0) {
            ssize_t w = pwrite(hf, &lost, sizeof lost, offsetof(struct hl_raw_header, lost));
            (void)w;
            close(hf);
        }
    }
    g.n = 0;
    g.flushing = 0;
}

static inline int lock(void)
{
    if (__libc_single_threaded)
        return 0;
    pthread_mutex_lock(&g.lock);
    return 1;
}

static inline void unlock(int locked)
{
    if (locked)
        pthread_mutex_unlock(&g.lock);
}

/* Whether this call is logged: then the guard is set and the lock taken
 * (*locked says whether), and end() must follow the real call. */
static inline int begin(int *locked)
{
    if (unlikely(inside))
        return 0;
    int s = atomic_load_explicit(&g.state, memory_order_acquire);
    if (unlikely(s != RECORDING) && (s == INERT || !start()))
        return 0;
    inside = 1;
    *locked = lock();
    return 1;
}

static inline void end(int locked, uint8_t kind, uint64_t a, uint64_t b, const void *r)
{
    if (unlikely(!my_tid))
        my_tid = (pid_t)syscall(SYS_gettid);
    struct hl_raw_record *rec = &g.buf[g.n];
    rec->a = a;
    rec->b = b;
    rec->r = (uintptr_t)r;
    rec->tid = (uint32_t)my_tid;
    rec->kind = kind;
    rec->pad[0] = rec->pad[1] = rec->pad[2] = 0;
    if (unlikely(++g.n == BUF_RECORDS || g.final))
        flush_locked();
    unlock(locked);
    inside = 0;
}

/* Write what is buffered before exec or _exit.  Not in the child of a
 * vfork (posix_spawn, subprocess modules, gcc's driver): it shares the
 * parent's memory, buffer included, which outlives the child's exec, and
 * the parent writes its own records. */
static void flush(void)
{
    if (atomic_load(&g.state) != RECORDING || getpid() != g.pid)
        return;
    int saved = errno, was = inside;
    inside = 1;
    int locked = lock();
    flush_locked();
    unlock(locked);
    inside = was;
    errno = saved;
}

/* ---- fork --------------------------------------------------------------------- */

static void fork_prepare(void)
{
    inside = 1;
    pthread_mutex_lock(&g.lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&g.lock);
    inside = 0;
}

static void fork_child(void)
{
    pthread_mutex_init(&g.lock, NULL);
    my_tid = 0;
    g.n = 0; /* the parent's records: the parent writes them */
    if (g.fd >= 0)
        close(g.fd);
    g.fd = -1;
    g.failed = 0;
    g.lost = 0;
    g.pid = getpid();
    g.start_ns = now_ns();
    if (g.only_pid) {
        atomic_store(&g.state, INERT);
        if (open_log(HL_RAW_UNRECORDED) == 0) { /* its header says it ran */
            close(g.fd);
            g.fd = -1;
        }
    }
    inside = 0;
}

/* ---- fatal signals ------------------------------------------------------------ */

/* The signals whose default action ends the process. */
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGTERM, SIGINT,
                                    SIGHUP,  SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ};

/* Write the buffer, then die of the signal as the program would have
 * (SA_RESETHAND put the default action back; SA_NODEFER lets the raise
 * through).  The lock: taken if it can be - a thread stopped inside a
 * logged call by this very signal holds it, and its records are whole
 * (a record is counted once written), so after a while the buffer is
 * written without it. */
static void on_fatal(int sig)
{
    int saved = errno;
    inside = 1;
    int locked = 0;
    for (int i = 0; i < 2000; i++) {
        if (pthread_mutex_trylock(&g.lock) == 0) {
            locked = 1;
            break;
        }
        sched_yield();
    }
    if (!g.flushing)
        flush_locked();
    if (locked)
        pthread_mutex_unlock(&g.lock);
    errno = saved;
    raise(sig);
}

static void install_handlers(void)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue; /* ignored or handled: the program's choice */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_RESTART;
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

/* ---- constructor, destructor ------------------------------------------------- */

__attribute__((constructor)) static void record_init(void)
{
    int s = atomic_load(&g.state);
    if (s == UNSTARTED)
        start();
    inside = 1;
    g.execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    g.execvp = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execvp");
    g.execvpe = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execvpe");
    g.fexecve = (int (*)(int, char *const[], char *const[]))dlsym(RTLD_NEXT, "fexecve");
    g.execveat = (int (*)(int, const char *, char *const[], char *const[], int))dlsym(RTLD_NEXT, "execveat");
    if (atomic_load(&g.state) == RECORDING) {
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        install_handlers();
    } else if (g.only_pid && g.only_pid != g.pid && open_log(HL_RAW_UNRECORDED) == 0) {
        close(g.fd); /* a child left unrecorded: its header says it ran */
        g.fd = -1;
    }
    inside = 0;
}

__attribute__((destructor)) static void record_fini(void)
{
    if (atomic_load(&g.state) != RECORDING)
        return;
    int locked = lock();
    flush_locked();
    g.final = 1; /* what comes after (later destructors) is written as it comes */
    unlock(locked);
}

/* ---- the API ------------------------------------------------------------------ */

EXPORT void *malloc(size_t n)
{
    int locked;
    if (!begin(&locked))
        return __libc_malloc(n);
    void *p = __libc_malloc(n);
    int e = errno;
    end(locked, HL_RAW_MALLOC, n, 0, p);
    errno = e;
    return p;
}

EXPORT void free(void *p)
{
    int locked;
    if (!p || !begin(&locked)) {
        __libc_free(p);
        return;
    }
    int e = errno;
    __libc_free(p);
    end(locked, HL_RAW_FREE, (uintptr_t)p, 0, NULL);
    errno = e;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
    int locked;
    if (!begin(&locked))
        return __libc_calloc(nmemb, size);
    void *p = __libc_calloc(nmemb, size);
    int e = errno;
    end(locked, HL_RAW_CALLOC, nmemb, size, p);
    errno = e;
    return p;
}

EXPORT void *realloc(void *old, size_t n)
{
    int locked;
    if (!begin(&locked))
        return __libc_realloc(old, n);
    void *p = __libc_realloc(old, n);
    int e = errno;
    end(locked, HL_RAW_REALLOC, (uintptr_t)old, n, p);
    errno = e;
    return p;
}

EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    int locked;
    if (!begin(&locked))
        return __libc_realloc(old, n);
    void *p = __libc_realloc(old, n);
    int e = errno;
    end(locked, HL_RAW_REALLOCARRAY, (uintptr_t)old, n, p);
    errno = e;
    return p;
}

/* The memalign family, kind by kind. */
static void *aligned(uint8_t kind, size_t align, size_t n)
{
    int locked;
    void *p;
    if (!begin(&locked))
        return kind == HL_RAW_VALLOC ? __libc_valloc(n) : kind == HL_RAW_PVALLOC ? __libc_pvalloc(n)
                                                                                 : __libc_memalign(align, n);
    p = kind == HL_RAW_VALLOC ? __libc_valloc(n) : kind == HL_RAW_PVALLOC ? __libc_pvalloc(n)
                                                                          : __libc_memalign(align, n);
    int e = errno;
    end(locked, kind, align, n, p);
    errno = e;
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = aligned(HL_RAW_POSIX_MEMALIGN, align, n);
    int e = errno;
    errno = saved;
    if (!p)
        return e;
    *out = p;
    return 0;
}

/* glibc 2.38 and later refuse an alignment that is not a power of two;
 * before, memalign's rounding up applied.  This one refuses, as C17 lets it. */
EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(HL_RAW_ALIGNED_ALLOC, align, n);
}

EXPORT void *memalign(size_t align, size_t n) { return aligned(HL_RAW_MEMALIGN, align, n); }

EXPORT void *valloc(size_t n) { return aligned(HL_RAW_VALLOC, (size_t)getpagesize(), n); }

EXPORT void *pvalloc(size_t n) { return aligned(HL_RAW_PVALLOC, (size_t)getpagesize(), n); }

/* ---- exec and _exit: the buffer is written first ------------------------------ */

/* The real function, looked up now if the constructor has not run yet
 * (an exec from another library's constructor). */
#define RESOLVE(name)                                                                              \
    do {                                                                                           \
        if (!g.name)                                                                               \
            g.name = (__typeof__(g.name))dlsym(RTLD_NEXT, #name);                                  \
    } while (0)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    flush();
    RESOLVE(execve);
    return g.execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
    flush();
    RESOLVE(execve);
    return g.execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    flush();
    RESOLVE(execvp);
    return g.execvp(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    flush();
    RESOLVE(execvpe);
    return g.execvpe(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    flush();
    RESOLVE(fexecve);
    return g.fexecve(fd, argv, envp);
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    flush();
    RESOLVE(execveat);
    return g.execveat(dirfd, path, argv, envp, flags);
}

/* execl, execlp, execle: the arguments (up to the NULL) into an array on
 * the stack; ap is left after the NULL (execle's envp follows it). */
static size_t count_args(const char *arg, va_list ap, int *null_follows)
{
    size_t count = 1;
    va_list cp;
    va_copy(cp, ap);
    *null_follows = arg != NULL; /* arg NULL: the list ends at it */
    if (arg)
        while (va_arg(cp, char *))
            count++;
    va_end(cp);
    return count;
}

#define COLLECT_ARGS(argv, count, arg, ap)                                                         \
    do {                                                                                           \
        argv[0] = (char *)arg;                                                                     \
        for (size_t i = 1; i < count; i++)                                                         \
            argv[i] = va_arg(ap, char *);                                                          \
        argv[count] = NULL;                                                                        \
        if (null_follows)                                                                          \
            (void)va_arg(ap, char *);                                                              \
    } while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int null_follows;
    size_t count = count_args(arg, ap, &null_follows);
    char *argv[count + 1];
    COLLECT_ARGS(argv, count, arg, ap);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int null_follows;
    size_t count = count_args(arg, ap, &null_follows);
    char *argv[count + 1];
    COLLECT_ARGS(argv, count, arg, ap);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int null_follows;
    size_t count = count_args(arg, ap, &null_follows);
    char *argv[count + 1];
    COLLECT_ARGS(argv, count, arg, ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

EXPORT _Noreturn void _exit(int status)
{
    flush();
    for (;;)
        syscall(SYS_exit_group, status);
}

EXPORT _Noreturn void _Exit(int status) { _exit(status); }
