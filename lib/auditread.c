/* auditread: streaming line reader. See auditread.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditread.h"

/* A line of AUDITREAD_MAX_LINE bytes plus its '\n' always fits, with room for
 * a large read after it. */
#define AUDITREAD_MAXCAP	(2 * AUDITREAD_MAX_LINE)
/* Below this much free space the partial line is moved to the front first. */
#define AUDITREAD_MINREAD	(AUDITREAD_BUFSIZE / 4)

struct auditread {
	int		 fd;
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first byte of the current line */
	size_t		 scan;		/* [start, scan) is known to hold no '\n' */
	size_t		 end;		/* end of the bytes read */
	off_t		 offset;	/* stream offset of buf[0] */
	uint64_t	 lineno;
	int		 eof;
	int		 skipping;	/* inside a line longer than the maximum */
	off_t		 skip_offset;	/* where that line began */
	char		 empty[1];	/* what a skipped line points to */
};

struct auditread *
auditread_open(int fd)
{
	struct auditread	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cap = AUDITREAD_BUFSIZE;
	if ((r->buf = malloc(r->cap)) == NULL) {
		free(r);
		return NULL;
	}
	r->fd = fd;
	return r;
}

void
auditread_free(struct auditread *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

/* Forgets every byte read so far (they are consumed or skipped). */
static void
auditread_discard(struct auditread *r)
{
	r->offset += (off_t)r->end;
	r->start = r->scan = r->end = 0;
}

/*
 * Makes room for a read of at least AUDITREAD_MINREAD bytes, keeping the
 * partial line. Moving it to the front costs at most one line per buffer
 * fill, which is cheaper than reading in small pieces.
 */
static int
auditread_room(struct auditread *r)
{
	size_t	 pending, ncap;
	char	*nbuf;

	if (r->start == r->end)
		auditread_discard(r);
	if (r->cap - 1 - r->end >= AUDITREAD_MINREAD)
		return 0;
	if (r->start > 0) {
		pending = r->end - r->start;
		memmove(r->buf, r->buf + r->start, pending);
		r->offset += (off_t)r->start;
		r->scan -= r->start;
		r->end = pending;
		r->start = 0;
	}
	if (r->cap - 1 - r->end >= AUDITREAD_MINREAD || r->cap >= AUDITREAD_MAXCAP)
		return 0;
	ncap = r->cap * 2;
	if (ncap > AUDITREAD_MAXCAP)
		ncap = AUDITREAD_MAXCAP;
	if ((nbuf = realloc(r->buf, ncap)) == NULL)
		return -1;
	r->buf = nbuf;
	r->cap = ncap;
	return 0;
}

/* The current line is too long: from now on only look for its end. */
static void
auditread_skip(struct auditread *r)
{
	if (r->skipping)
		return;
	r->skipping = 1;
	r->skip_offset = r->offset + (off_t)r->start;
}

static int
auditread_toolong(struct auditread *r, struct auditread_line *l, int torn)
{
	r->skipping = 0;
	r->empty[0] = '\0';
	l->buf = r->empty;
	l->len = 0;
	l->lineno = ++r->lineno;
	l->offset = r->skip_offset;
	l->torn = torn;
	l->toolong = 1;
	return 1;
}

static int
auditread_line(struct auditread *r, struct auditread_line *l, size_t pos,
    int torn)
{
	r->buf[pos] = '\0';
	l->buf = r->buf + r->start;
	l->len = pos - r->start;
	l->lineno = ++r->lineno;
	l->offset = r->offset + (off_t)r->start;
	l->torn = torn;
	l->toolong = 0;
	r->start = r->scan = torn ? pos : pos + 1;
	return 1;
}

int
auditread_next(struct auditread *r, struct auditread_line *l)
{
	char	*nl;
	size_t	 pos;
	ssize_t	 n;

	for (;;) {
		if (r->scan < r->end && (nl = memchr(r->buf + r->scan, '\n',
		    r->end - r->scan)) != NULL) {
			pos = (size_t)(nl - r->buf);
			if (pos - r->start > AUDITREAD_MAX_LINE)
				auditread_skip(r);
			if (r->skipping) {
				r->start = r->scan = pos + 1;
				return auditread_toolong(r, l, 0);
			}
			return auditread_line(r, l, pos, 0);
		}
		r->scan = r->end;

		/* Once a line is too long only its end matters. */
		if (r->end - r->start > AUDITREAD_MAX_LINE)
			auditread_skip(r);
		if (r->skipping)
			auditread_discard(r);

		if (r->eof) {
			if (r->skipping)
				return auditread_toolong(r, l, 1);
			if (r->end > r->start)
				return auditread_line(r, l, r->end, 1);
			return 0;
		}

		if (auditread_room(r) == -1)
			return -1;
		n = read(r->fd, r->buf + r->end, r->cap - 1 - r->end);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
}
