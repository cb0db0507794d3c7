/*
 * truncate-on-read.c - an LD_PRELOAD shim for the input suite: cuts the
 * file $TRUNCATE_PATH down to $TRUNCATE_TO bytes right after the program
 * first reads from it or maps it, so a reader meets a file that shrinks
 * under it at a known point, every time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int done;

/* Whether fd is the file to cut. */
static int is_target(int fd)
{
    const char *path = getenv("TRUNCATE_PATH");
    struct stat a, b;
    return !done && fd >= 0 && path && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static void cut(void)
{
    const char *to = getenv("TRUNCATE_TO");
    done = 1;
    if (truncate(getenv("TRUNCATE_PATH"), to ? atol(to) : 0) != 0)
        abort();
}

ssize_t read(int fd, void *buf, size_t len)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    int target = is_target(fd);
    ssize_t n = real(fd, buf, len);
    if (target && n > 0)
        cut();
    return n;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    static void *(*real)(void *, size_t, int, int, int, off_t);
    if (!real)
        real = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    void *p = real(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && is_target(fd))
        cut();
    return p;
}
