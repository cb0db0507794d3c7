/*
 * util.c - small string and file helpers the harness's parts share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int hl_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int hl_path_search(const char *prog, char *buf, size_t len)
{
    if (strchr(prog, '/')) {
        if ((size_t)snprintf(buf, len, "%s", prog) >= len)
            return -1;
        return executable(buf) ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (;;) {
        size_t n = strcspn(path, ":");
        if ((size_t)snprintf(buf, len, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", prog) < len && executable(buf))
            return 0;
        if (!path[n])
            return -1;
        path += n + 1;
    }
}
