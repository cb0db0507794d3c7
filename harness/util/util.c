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

int hl_parse_size(const char *s, uint64_t max, uint64_t *out)
{
    char digits[32];
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 0) {
        switch (s[n - 1]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: break;
        }
    }
    if (shift)
        n--;
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, s, n);
    digits[n] = 0;
    uint64_t v;
    if (hl_parse_u64_prefixed(digits, max >> shift, &v) != 0)
        return -1;
    *out = v << shift;
    return 0;
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
