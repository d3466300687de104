/* cast: asciicast v2 recordings (DESIGN §6), written as the output happens.
 *
 * Line 1 is the header; then one [t, "o", data] line per output chunk and
 * [t, "r", "COLSxROWS"] per resize, t in seconds since the start (CLOCK_
 * MONOTONIC, microseconds). Output is decoded as one UTF-8 stream: a
 * character split across chunks is joined (up to 3 bytes are held back for
 * the next chunk), invalid bytes become U+FFFD, control characters are
 * escaped. Each line goes out with one write(2), so a crash loses at most
 * the line being written. Input is never recorded.
 */
#ifndef AGENTD_CAST_H
#define AGENTD_CAST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jsonw.h"

struct cast_header {
	unsigned	 width;
	unsigned	 height;
	time_t		 timestamp;
	const char	*term;		/* env.TERM, may be NULL */
	const char	*shell;		/* env.SHELL, may be NULL */
	const char	*command;	/* may be NULL */
	const char	*session;	/* our own keys */
	const char	*label;
};

struct cast {
	int		fd;
	struct timespec	start;
	unsigned char	pend[4];	/* an incomplete UTF-8 sequence */
	size_t		npend;
	struct jsonw	line;
	uint64_t	bytes;		/* output bytes recorded */
	uint64_t	file_bytes;	/* bytes written to the file */
	uint64_t	kicked;		/* writeback started up to here */
	int		failed;		/* errno of the first failed write */
	/* Called with each line once it is in the file (remote streams). */
	void		(*line_cb)(void *arg, const char *line, size_t len);
	void		*line_arg;
};

/*
 * Creates `name` in the verified directory dirfd (O_EXCL, O_NOFOLLOW, mode
 * 0600) and writes the header. 0, or -1 with errno and *cause.
 */
int	cast_open(struct cast *, int dirfd, const char *name,
	    const struct cast_header *, char **cause);
/* Records an output chunk. 0, or -1 once a write failed (the recording stops;
 * later calls do nothing and return -1). */
int	cast_output(struct cast *, const void *data, size_t len);
/* Records a resize. */
int	cast_resize(struct cast *, unsigned cols, unsigned rows);
/* Also lets a caller build the same event lines elsewhere (remote streams). */
const char *cast_last_line(const struct cast *, size_t *len);
/*
 * Writes what is held back (as U+FFFD), makes the file read-only (0400),
 * fsyncs and closes it. 0 or -1 with errno.
 */
int	cast_close(struct cast *);

#endif
