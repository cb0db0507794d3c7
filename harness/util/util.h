/*
 * util.h - small string, number, message and file helpers the harness's parts share.
 */
#ifndef HEAPLAB_UTIL_H
#define HEAPLAB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Whether s ends with suffix. */
int hl_ends_with(const char *s, const char *suffix);

/* The program `prog` as exec would find it: as given when it has a slash,
 * else the first executable regular file of that name in PATH (an empty
 * element is the current folder; no PATH, or an empty one, is
 * /usr/local/bin:/usr/bin:/bin), into buf.  0, or -1 when there is none. */
int hl_path_search(const char *prog, char *buf, size_t len);

/* s as a number no larger than max, into *out: decimal digits only, so no
 * sign, no blanks, nothing after the digits.  0, or -1 (and *out left
 * alone) when s is empty, holds anything else or exceeds max. */
int hl_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* As hl_parse_u64, but written as a C integer literal without suffix:
 * 0x or 0X then hex digits, 0 then octal digits, else decimal. */
int hl_parse_u64_prefixed(const char *s, uint64_t max, uint64_t *out);

/* A size in bytes: a number as hl_parse_u64_prefixed reads it, optionally
 * followed by k, m or g (KiB, MiB, GiB; either case), no larger than max.
 * 0, or -1 (and *out left alone). */
int hl_parse_size(const char *s, uint64_t max, uint64_t *out);

/* The candidate nearest to word, for "did you mean": within an edit
 * distance that grows with the word (1 below 4 letters, 2 below 9, else
 * 3; a swap of neighbours counts one), or else the only candidate that
 * starts with word (3 letters at least).  NULL when none is near. NULL
 * entries of cands are skipped. */
const char *hl_suggest(const char *word, const char *const *cands, size_t n);

/* Append s to buf, whose first *n bytes are in use, and advance *n; what
 * does not fit in cap bytes is dropped and buf stays NUL-terminated (cap
 * must be at least 1 and *n below cap).  Async-signal-safe: it calls
 * nothing, so signal handlers build their messages with it. */
void hl_msg_put(char *buf, size_t cap, size_t *n, const char *s);

/* As hl_msg_put, for v in decimal. */
void hl_msg_put_u64(char *buf, size_t cap, size_t *n, uint64_t v);

#endif
