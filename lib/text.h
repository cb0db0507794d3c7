/*
 * text.h - numbers and messages without allocation or stdio: what any layer
 * may need, the drop-in malloc (preload/) above all, where parsing an
 * environment variable or writing a message must not call the allocator.
 */
#ifndef HEAPLAB_TEXT_H
#define HEAPLAB_TEXT_H

#include <stddef.h>
#include <stdint.h>

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

/* Append s to buf, whose first *n bytes are in use, and advance *n; what
 * does not fit in cap bytes is dropped and buf stays NUL-terminated (cap
 * must be at least 1 and *n below cap).  Async-signal-safe: it calls
 * nothing, so signal handlers build their messages with it. */
void hl_msg_put(char *buf, size_t cap, size_t *n, const char *s);

/* As hl_msg_put, for v in decimal. */
void hl_msg_put_u64(char *buf, size_t cap, size_t *n, uint64_t v);

/* As hl_msg_put, for v in hexadecimal with 0x in front (an address). */
void hl_msg_put_hex(char *buf, size_t cap, size_t *n, uint64_t v);

#endif
