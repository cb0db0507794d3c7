/*
 * out.h - output streams whose write errors are never lost.
 *
 * stdio keeps a write error only as a flag: once a flush fails, the
 * buffered bytes are dropped and errno is soon overwritten, so a full disk
 * found by a flush nobody checks (the fflush(NULL) before a fork) would
 * end as a clean exit with the data gone.  A stream opened or tracked here
 * remembers the first error of every flush made through these functions,
 * children are forked after hl_out_flush_all, and hl_out_close reports
 * "heaplab: NAME: No space left on device" once.  Standard output is
 * tracked from the start, as "standard output"; main closes it last.
 */
#ifndef HEAPLAB_OUT_H
#define HEAPLAB_OUT_H

#include <stdio.h>

/* fopen(path, "w"), tracked under the name path.  NULL with errno. */
FILE *hl_out_open(const char *path);

/* Track a stream opened elsewhere (name is kept, not copied). */
void hl_out_track(FILE *f, const char *name);

/* fflush, the error remembered (when the flush itself has nothing left to
 * write but the stream's error flag is set, errno as the caller left it:
 * call it right after a write that failed).  0, or -1 when this or an
 * earlier write failed. */
int hl_out_flush(FILE *f);

/* hl_out_flush of every tracked stream, then fflush(NULL) for the rest:
 * what a fork or a spawn needs first. */
void hl_out_flush_all(void);

/* The stream's error so far (errno value), 0 when none.  A stream that is
 * not tracked: EIO when its error flag is set. */
int hl_out_error(FILE *f);

/* Flush and close (standard output too), and stop tracking.  0, or -1
 * after one line on stderr: "heaplab: NAME: what went wrong". */
int hl_out_close(FILE *f);

#endif
