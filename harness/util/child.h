/*
 * child.h - running a piece of work in a child process and saying how it
 * ended.  Every part of the harness that isolates something - a replay
 * row, a conformance check, a malloc-lab solution, a production
 * allocator, a compiler or a plotting stack - starts, waits for and
 * describes its child through these, so "crashed by signal 11
 * (Segmentation fault)" reads the same wherever it comes from.
 */
#ifndef HEAPLAB_CHILD_H
#define HEAPLAB_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* len bytes that a forked child writes and its parent reads afterwards
 * (anonymous, shared, zeroed).  NULL with errno when out of memory. */
void *hl_shared_alloc(size_t len);
void hl_shared_free(void *p, size_t len);

/* Fork after flushing stdio (nothing buffered may be written twice); the
 * child runs fn(arg) and leaves with _exit(fn's return value), so only
 * what fn wrote to shared memory or to files reaches the parent (fn may
 * call exit itself to run atexit handlers, as a leak checker wants).  The
 * child's pid, or -1 with errno. */
pid_t hl_child_fork(int (*fn)(void *arg), void *arg);

/* Start the program path with argv and envp (NULL: ours) through
 * posix_spawn, its standard output sent to our standard error, or both
 * to /dev/null when quiet; other descriptors are inherited as exec does.
 * The child's pid, or -1 with errno. */
pid_t hl_child_spawn(const char *path, char *const argv[], char *const envp[], int quiet);

/* waitpid(pid) across EINTR (pid -1: any child).  The pid that ended, its
 * status in *status; -1 with errno. */
pid_t hl_child_wait(pid_t pid, int *status);

/* hl_child_fork then hl_child_wait.  0 with the status in *status; -1
 * with errno when the child could not be started or waited for. */
int hl_child_run(int (*fn)(void *arg), void *arg, int *status);

/* How a child ended, for a row's status or a message, into buf:
 * "crashed by signal 11 (Segmentation fault)" or "exited with status 3".
 * Returns buf. */
char *hl_child_status(int status, char *buf, size_t len);

/* Append "crashed by signal N (description)" to a message built with
 * hl_msg_put (util.h); async-signal-safe, for a handler that reports its
 * own fatal signal in the words hl_child_status uses. */
void hl_msg_put_signal(char *buf, size_t cap, size_t *n, int sig);

#endif
