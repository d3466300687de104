/* cast: asciicast v2 writer. See cast.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cast.h"

#define CAST_KICK	(4 * 1024 * 1024)

static int
cast_write_line(struct cast *c)
{
	const char *p = c->line.buf;
	size_t left = c->line.len;
	ssize_t n;

	if (c->failed)
		return -1;
	if (!jsonw_ok(&c->line)) {
		c->failed = ENOMEM;
		return -1;
	}
	while (left > 0) {
		n = write(c->fd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->failed = n == -1 ? errno : EIO;
			return -1;
		}
		p += n;
		left -= (size_t)n;
		c->file_bytes += (uint64_t)n;
	}
	/*
	 * Start writeback of every CAST_KICK bytes as they come, so that the
	 * fsync in cast_close (before the shell's end is acknowledged) finds
	 * little left to do: a big recording no longer makes the client wait.
	 */
	if (c->file_bytes - c->kicked >= CAST_KICK) {
		(void)sync_file_range(c->fd, (off_t)c->kicked,
		    (off_t)(c->file_bytes - c->kicked), SYNC_FILE_RANGE_WRITE);
		c->kicked = c->file_bytes;
	}
	if (c->line_cb != NULL)
		c->line_cb(c->line_arg, c->line.buf, c->line.len);
	return 0;
}

/* Starts an event line: [t, "code", */
static void
cast_begin(struct cast *c, const char *code)
{
	struct timespec now;
	long long us;
	char buf[64];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (long long)(now.tv_sec - c->start.tv_sec) * 1000000 +
	    (now.tv_nsec - c->start.tv_nsec) / 1000;
	if (us < 0)
		us = 0;
	n = snprintf(buf, sizeof(buf), "[%lld.%06lld, \"%s\", ",
	    us / 1000000, us % 1000000, code);
	jsonw_reset(&c->line);
	jsonw_raw(&c->line, buf, (size_t)n);
}

int
cast_open(struct cast *c, int dirfd, const char *name,
    const struct cast_header *h, char **cause)
{
	struct jsonw *w = &c->line;
	int saved;

	memset(c, 0, sizeof(*c));
	jsonw_init(&c->line);
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC | O_APPEND, 0600);
	if (c->fd == -1) {
		saved = errno;
		if (cause != NULL && asprintf(cause, "%s: %s", name,
		    strerror(saved)) == -1)
			*cause = NULL;
		errno = saved;
		return -1;
	}
	jsonw_begin(w);
	jsonw_int(w, "version", 2);
	jsonw_uint(w, "width", h->width);
	jsonw_uint(w, "height", h->height);
	jsonw_int(w, "timestamp", (int64_t)h->timestamp);
	jsonw_object_begin(w, "env");
	if (h->term != NULL)
		jsonw_str(w, "TERM", h->term);
	if (h->shell != NULL)
		jsonw_str(w, "SHELL", h->shell);
	jsonw_object_end(w);
	if (h->command != NULL)
		jsonw_str(w, "command", h->command);
	if (h->session != NULL)
		jsonw_str(w, "session", h->session);
	if (h->label != NULL)
		jsonw_str(w, "label", h->label);
	jsonw_end(w);
	jsonw_raw(w, "\n", 1);
	if (cast_write_line(c) == -1) {
		saved = c->failed;
		if (cause != NULL && asprintf(cause, "%s: %s", name,
		    strerror(saved)) == -1)
			*cause = NULL;
		close(c->fd);
		(void)unlinkat(dirfd, name, 0);
		jsonw_free(&c->line);
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * How many bytes at the end of s (len) form the start of a UTF-8 sequence
 * that the next chunk may complete: those are held back.
 */
static size_t
utf8_incomplete_tail(const unsigned char *s, size_t len)
{
	size_t i, back, need;

	for (back = 1; back <= 3 && back <= len; back++) {
		i = len - back;
		if ((s[i] & 0xc0) == 0x80)
			continue;		/* a continuation byte: look further */
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 2;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			need = 3;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 4;
		else
			return 0;		/* ASCII or invalid: nothing to wait for */
		return back < need ? back : 0;
	}
	return 0;
}

static size_t
utf8_seqlen(unsigned char lead)
{
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 1;
}

int
cast_output(struct cast *c, const void *data, size_t len)
{
	const unsigned char *d = data;
	unsigned char joined[8];
	size_t need, k, hold;

	if (c->failed)
		return -1;
	c->bytes += len;
	cast_begin(c, "o");
	jsonw_raw(&c->line, "\"", 1);
	if (c->npend > 0) {
		/* The held-back character continues in this chunk, or was bad. */
		need = utf8_seqlen(c->pend[0]);
		for (k = 0; c->npend + k < need && k < len &&
		    (d[k] & 0xc0) == 0x80; k++)
			;
		if (c->npend + k < need && k == len) {
			memcpy(c->pend + c->npend, d, k);
			c->npend += k;
			return 0;	/* still incomplete: nothing to write yet */
		}
		memcpy(joined, c->pend, c->npend);
		memcpy(joined + c->npend, d, k);
		jsonw_escape(&c->line, (const char *)joined, c->npend + k);
		c->npend = 0;
		d += k;
		len -= k;
	}
	hold = utf8_incomplete_tail(d, len);
	jsonw_escape(&c->line, (const char *)d, len - hold);
	memcpy(c->pend, d + len - hold, hold);
	c->npend = hold;
	jsonw_raw(&c->line, "\"]\n", 3);
	return cast_write_line(c);
}

int
cast_resize(struct cast *c, unsigned cols, unsigned rows)
{
	char buf[48];
	int n;

	if (c->failed)
		return -1;
	cast_begin(c, "r");
	n = snprintf(buf, sizeof(buf), "\"%ux%u\"]\n", cols, rows);
	jsonw_raw(&c->line, buf, (size_t)n);
	return cast_write_line(c);
}

const char *
cast_last_line(const struct cast *c, size_t *len)
{
	*len = c->line.len;
	return c->line.buf;
}

int
cast_close(struct cast *c)
{
	int rc = 0, saved = 0;

	if (c->npend > 0 && !c->failed) {
		/* A character the stream never finished: U+FFFD per byte. */
		cast_begin(c, "o");
		jsonw_quote(&c->line, (const char *)c->pend, c->npend);
		jsonw_raw(&c->line, "]\n", 2);
		c->npend = 0;
		(void)cast_write_line(c);
	}
	if (fchmod(c->fd, 0400) == -1 || fsync(c->fd) == -1) {
		saved = errno;
		rc = -1;
	}
	if (close(c->fd) == -1 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	c->fd = -1;
	jsonw_free(&c->line);
	if (rc == -1)
		errno = saved;
	return rc;
}
