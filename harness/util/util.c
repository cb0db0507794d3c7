/*
 * util.c - small string, PATH, suggestion and file helpers the harness's parts share.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Damerau-Levenshtein distance (adjacent swaps count one), capped: the
 * candidates are short words. */
static size_t distance(const char *a, const char *b)
{
    enum { MAXW = 48 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXW || lb >= MAXW)
        return (size_t)-1;
    size_t d[MAXW][MAXW];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *hl_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t d = distance(word, cands[i]);
        /* a word typed with its separator left out or doubled counts as near */
        size_t limit = wl < 4 ? 1 : wl < 9 ? 2 : 3;
        if (d <= limit && d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    if (best)
        return best;
    /* an unambiguous beginning: "first" for first-fit */
    for (size_t i = 0; i < n; i++)
        if (cands[i] && wl >= 3 && strncmp(cands[i], word, wl) == 0) {
            if (best)
                return NULL;
            best = cands[i];
        }
    return best;
}

int hl_replace_file(const char *tmp, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return rename(tmp, path);
    int in = open(tmp, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno != EINTR)
                rc = -1;
            continue;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                if (w == 0)
                    errno = EIO;
                rc = -1;
                break;
            }
            done += w;
        }
    }
    int e = errno;
    close(in);
    if (close(out) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0)
        unlink(tmp);
    errno = e;
    return rc;
}
