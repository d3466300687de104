/* bq: wiped byte queues. See bq.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bq.h"

void
bq_free(struct bq *q)
{
	if (q->buf != NULL)
		sodium_memzero(q->buf, q->cap);
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

int
bq_reserve(struct bq *q, size_t n)
{
	unsigned char *nb;
	size_t ncap;

	/* Sums below cannot wrap, and ncap's doubling ends. */
	if (n > SIZE_MAX / 2 - q->len) {
		errno = ENOMEM;
		return -1;
	}
	if (q->off > 0 && q->len + n > q->cap - q->off) {
		memmove(q->buf, q->buf + q->off, q->len);
		sodium_memzero(q->buf + q->len, q->off);
		q->off = 0;
	}
	if (q->off + q->len + n <= q->cap)
		return 0;
	ncap = q->cap ? q->cap : 4096;
	while (ncap < q->len + n)
		ncap *= 2;
	/* Not realloc: the old buffer must be wiped, not just released. */
	if ((nb = malloc(ncap)) == NULL)
		return -1;
	if (q->buf != NULL) {
		memcpy(nb, q->buf + q->off, q->len);
		sodium_memzero(q->buf, q->cap);
		free(q->buf);
	}
	q->buf = nb;
	q->cap = ncap;
	q->off = 0;
	return 0;
}

int
bq_append(struct bq *q, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (bq_reserve(q, n) == -1)
		return -1;
	memcpy(q->buf + q->off + q->len, data, n);
	q->len += n;
	return 0;
}

void
bq_consume(struct bq *q, size_t n)
{
	if (n == 0)
		return;		/* buf may be NULL: no arithmetic on it */
	sodium_memzero(q->buf + q->off, n);
	q->off += n;
	q->len -= n;
	if (q->len == 0)
		q->off = 0;
}

unsigned char *
bq_data(const struct bq *q)
{
	if (q->buf == NULL)
		return NULL;	/* NULL + 0 is undefined in C */
	return q->buf + q->off;
}

int
bq_read(struct bq *q, int fd, size_t max)
{
	ssize_t n;

	if (bq_reserve(q, max) == -1)
		return -1;
	do
		n = read(fd, q->buf + q->off + q->len, max);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 1;
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	q->len += (size_t)n;
	return 0;
}

int
bq_write(struct bq *q, int fd)
{
	ssize_t n;

	while (q->len > 0) {
		n = send(fd, bq_data(q), q->len, MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(fd, bq_data(q), q->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		bq_consume(q, (size_t)n);
	}
	return 0;
}
