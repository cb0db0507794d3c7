/*
 * util.h - small string, PATH, suggestion and file helpers the harness's parts share (numbers
 * and signal-safe messages are lib's text.h, which this header brings in).
 */
#ifndef HEAPLAB_UTIL_H
#define HEAPLAB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "text.h" /* lib: sizes, numbers, signal-safe messages */

/* Whether s ends with suffix. */
int hl_ends_with(const char *s, const char *suffix);

/* The program `prog` as exec would find it: as given when it has a slash,
 * else the first executable regular file of that name in PATH (an empty
 * element is the current folder; no PATH, or an empty one, is
 * /usr/local/bin:/usr/bin:/bin), into buf.  0, or -1 when there is none. */
int hl_path_search(const char *prog, char *buf, size_t len);

/* The candidate nearest to word, for "did you mean": within an edit
 * distance that grows with the word (1 below 4 letters, 2 below 9, else
 * 3; a swap of neighbours counts one), or else the only candidate that
 * starts with word (3 letters at least).  NULL when none is near. NULL
 * entries of cands are skipped. */
const char *hl_suggest(const char *word, const char *const *cands, size_t n);

/* Put the finished file tmp in place of path: rename(2) when path is a
 * regular file or does not exist, so a reader never sees half a file;
 * otherwise (a device, a FIFO, a terminal: /dev/stdout, /dev/full) its
 * bytes are written into path and tmp removed, for renaming a file over
 * /dev/null would replace the device.  0, or -1 with errno (tmp is left
 * for the caller to remove). */
int hl_replace_file(const char *tmp, const char *path);

#endif
