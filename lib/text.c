/*
 * text.c - numbers and messages without allocation or stdio (text.h).
 */
#include <string.h>

#include "text.h"

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

void hl_msg_put_hex(char *buf, size_t cap, size_t *n, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char d[19]; /* 0x and 16 digits */
    size_t i = sizeof d - 1;
    d[i] = 0;
    do
        d[--i] = digits[v & 15];
    while (v >>= 4);
    d[--i] = 'x';
    d[--i] = '0';
    hl_msg_put(buf, cap, n, d + i);
}
