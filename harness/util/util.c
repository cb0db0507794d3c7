/*
 * util.c - small string, number, message and file helpers the harness's parts share.
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

/* Digits of base (up to 16) only, at least one, the value no larger than max. */
static int parse_digits(const char *s, unsigned base, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        unsigned c = (unsigned char)*s, d;
        if (c - '0' < 10)
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        if (d >= base || d > max || v > (max - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

int hl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    return parse_digits(s, 10, max, out);
}

int hl_parse_u64_prefixed(const char *s, uint64_t max, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return parse_digits(s + 2, 16, max, out);
    return parse_digits(s, s[0] == '0' ? 8 : 10, max, out);
}

void hl_msg_put(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
    buf[*n] = 0;
}

void hl_msg_put_u64(char *buf, size_t cap, size_t *n, uint64_t v)
{
    char d[21]; /* 20 digits for UINT64_MAX */
    size_t i = sizeof d - 1;
    d[i] = 0;
    do
        d[--i] = (char)('0' + v % 10);
    while (v /= 10);
    hl_msg_put(buf, cap, n, d + i);
}
