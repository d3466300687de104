/* bq: a byte queue for relays, wiped as it is consumed and when freed (the
 * bytes may be secrets: keys on their way to an agent, typed passwords). */
#ifndef AGENTD_BQ_H
#define AGENTD_BQ_H

#include <stddef.h>

#define BQ_READ_CHUNK	(64 * 1024)

struct bq {
	unsigned char	*buf;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
};

/* Wipes and frees the buffer; the queue is empty and reusable after. */
void		 bq_free(struct bq *);
/* Makes room for n more bytes at the end. 0 or -1 (ENOMEM). */
int		 bq_reserve(struct bq *, size_t n);
int		 bq_append(struct bq *, const void *data, size_t n);
/* Drops (and wipes) the first n bytes. */
void		 bq_consume(struct bq *, size_t n);
/* The first byte queued (valid until the next call that changes the queue;
 * NULL while the queue has never had a buffer). */
unsigned char	*bq_data(const struct bq *);
/* Reads at most max bytes from fd once: 0 ok (also EAGAIN), 1 EOF, -1 error. */
int		 bq_read(struct bq *, int fd, size_t max);
/* Writes what fd takes: 0 ok (maybe partly, EAGAIN), -1 error (errno). */
int		 bq_write(struct bq *, int fd);

#endif
