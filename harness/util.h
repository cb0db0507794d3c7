/*
 * util.h - small string and file helpers the harness's parts share.
 */
#ifndef HEAPLAB_UTIL_H
#define HEAPLAB_UTIL_H

#include <stddef.h>

/* Whether s ends with suffix. */
int hl_ends_with(const char *s, const char *suffix);

/* The program `prog` as exec would find it: as given when it has a slash,
 * else the first executable regular file of that name in PATH (an empty
 * element is the current folder; no PATH, or an empty one, is
 * /usr/local/bin:/usr/bin:/bin), into buf.  0, or -1 when there is none. */
int hl_path_search(const char *prog, char *buf, size_t len);

#endif
