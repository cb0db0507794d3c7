/*
 * child.c - children: fork, spawn, wait, and how they ended (child.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "out.h"
#include "util.h"

extern char **environ;

void *hl_shared_alloc(size_t len)
{
    void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void hl_shared_free(void *p, size_t len)
{
    if (p)
        munmap(p, len ? len : 1);
}

pid_t hl_child_fork(int (*fn)(void *arg), void *arg)
{
    hl_out_flush_all(); /* a failed write is remembered, not lost in a silent flush */
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

pid_t hl_child_spawn(const char *path, char *const argv[], char *const envp[], int quiet)
{
    posix_spawn_file_actions_t fa;
    if ((errno = posix_spawn_file_actions_init(&fa)) != 0)
        return -1;
    int e = quiet ? posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
                  : posix_spawn_file_actions_adddup2(&fa, 2, 1);
    if (e == 0 && quiet)
        e = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    hl_out_flush_all(); /* a failed write is remembered, not lost in a silent flush */
    if (e == 0)
        e = posix_spawn(&pid, path, &fa, NULL, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return pid;
}

pid_t hl_child_wait(pid_t pid, int *status)
{
    pid_t p;
    while ((p = waitpid(pid, status, 0)) < 0)
        if (errno != EINTR)
            return -1;
    return p;
}

int hl_child_run(int (*fn)(void *arg), void *arg, int *status)
{
    pid_t pid = hl_child_fork(fn, arg);
    if (pid < 0 || hl_child_wait(pid, status) < 0)
        return -1;
    return 0;
}

void hl_msg_put_signal(char *buf, size_t cap, size_t *n, int sig)
{
    hl_msg_put(buf, cap, n, "crashed by signal ");
    hl_msg_put_u64(buf, cap, n, (uint64_t)(unsigned)sig);
    const char *d = sigdescr_np(sig); /* a table lookup: async-signal-safe, unlike strsignal */
    if (d) {
        hl_msg_put(buf, cap, n, " (");
        hl_msg_put(buf, cap, n, d);
        hl_msg_put(buf, cap, n, ")");
    }
}

char *hl_child_status(int status, char *buf, size_t len)
{
    size_t k = 0;
    if (!len)
        return buf;
    buf[0] = 0;
    if (WIFSIGNALED(status)) {
        hl_msg_put_signal(buf, len, &k, WTERMSIG(status));
    } else {
        hl_msg_put(buf, len, &k, "exited with status ");
        hl_msg_put_u64(buf, len, &k, (uint64_t)WEXITSTATUS(status));
    }
    return buf;
}
