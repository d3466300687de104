/* auditread: a streaming line reader for the audit log (DESIGN §4) and other
 * newline-delimited files (asciicast v2 recordings).
 *
 * Memory is bounded by the longest line (at most AUDITREAD_MAX_LINE plus one
 * read buffer), never by the file size: lines are returned in place from a
 * buffer that is filled with large read(2)s and searched with memchr, so a
 * verifier can stream a log of any size at disk speed.
 *
 * Usage:
 *	struct auditread *r = auditread_open(fd);
 *	struct auditread_line l;
 *	while ((rc = auditread_next(r, &l)) == 1) { ... l.buf, l.len ... }
 *	if (rc == -1) read error (errno);
 *	auditread_free(r);
 *	close(fd);
 */
#ifndef AGENTD_AUDITREAD_H
#define AGENTD_AUDITREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest line returned (bytes, without its '\n'); longer lines are skipped. */
#define AUDITREAD_MAX_LINE	(1024 * 1024)
/* Size of each read(2) and of the initial buffer. */
#define AUDITREAD_BUFSIZE	(256 * 1024)

struct auditread;

struct auditread_line {
	/*
	 * The line without its '\n', NUL-terminated (a NUL inside the line is
	 * kept and counted in len). Points into the reader's buffer: valid
	 * until the next auditread_next or auditread_free, never freed by the
	 * caller, and may be modified by the caller up to len.
	 */
	char		*buf;
	size_t		 len;
	uint64_t	 lineno;	/* 1-based, counting every line returned */
	off_t		 offset;	/* of the line's first byte, from where reading began */
	int		 torn;		/* 1: last line of the input, no '\n' after it */
	int		 toolong;	/* 1: longer than AUDITREAD_MAX_LINE, skipped:
					   buf "" and len 0 */
};

/*
 * Starts reading fd from its current offset. The fd is borrowed: the reader
 * only read(2)s it and never closes it; the caller closes it after
 * auditread_free. Any readable fd works (file, pipe, socket). Returns NULL
 * with errno ENOMEM when the buffer cannot be allocated.
 */
struct auditread	*auditread_open(int fd);

/*
 * Reads the next line into *line. Returns 1 with *line filled, 0 at end of
 * input (nothing more to return), or -1 with errno on a read(2) error or when
 * a buffer cannot be grown (ENOMEM); after -1 the reader may be freed or
 * called again (a transient error such as EAGAIN can be retried).
 * EINTR is retried internally.
 */
int			 auditread_next(struct auditread *, struct auditread_line *line);

/* Frees the reader (not the fd). NULL is allowed. */
void			 auditread_free(struct auditread *);

#endif
