/* Unit tests for lib/bq, the wiped byte queue of the relays: contents
 * against a plain model under random operations, wiping (what can be seen
 * of it from outside: consumed bytes are zero and never come back),
 * bq_read/bq_write over socketpairs and pipes with EAGAIN and EOF, and
 * 8 MiB through a nonblocking socketpair. Each test runs in its own process
 * (Check fork mode); none needs a directory. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "bq.h"
#include "checkrun.h"

/* Never on the heap outside a queue: finding it means a queue kept it. */
static const unsigned char secret[] = "S3CRET-0123456789-abcdefghijklmnop";
#define SECRET_LEN	(sizeof(secret) - 1)

/* xorshift64*: the same operations on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* The queue holds exactly want[0..n). */
static void
expect_content(const struct bq *q, const unsigned char *want, size_t n)
{
	ck_assert_uint_eq(q->len, n);
	ck_assert_uint_le(q->off + q->len, q->cap);
	if (n > 0)
		ck_assert(memcmp(bq_data(q), want, n) == 0);
}

/* Nothing in the whole buffer, used or not, holds the secret. */
static int
holds_secret(const struct bq *q)
{
	if (q->buf == NULL)
		return 0;
	return memmem(q->buf, q->cap, secret, SECRET_LEN) != NULL;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	ck_assert_int_ne(fl, -1);
	ck_assert_int_ne(fcntl(fd, F_SETFL, fl | O_NONBLOCK), -1);
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_bq_model)
{
	enum { MODEL = 1 << 20 };
	struct bq q = { 0 };
	unsigned char *model, chunk[20000];
	uint64_t seed = 0xb0b0cafeULL;
	size_t n = 0, k, i, iter, off, cap;

	model = malloc(MODEL);
	ck_assert_ptr_nonnull(model);
	for (iter = 0; iter < 20000; iter++) {
		switch (rnd(&seed) % 4) {
		case 0:
		case 1:		/* append, often small, sometimes large */
			k = rnd(&seed) % (rnd(&seed) % 8 == 0 ?
			    sizeof(chunk) : 200);
			if (n + k > MODEL)
				break;
			for (i = 0; i < k; i++)
				chunk[i] = (unsigned char)rnd(&seed);
			ck_assert_int_eq(bq_append(&q, chunk, k), 0);
			memcpy(model + n, chunk, k);
			n += k;
			break;
		case 2:		/* consume some or all */
			k = n == 0 ? 0 : rnd(&seed) % (n + 1);
			off = q.off;
			bq_consume(&q, k);
			memmove(model, model + k, n - k);
			n -= k;
			/* The dropped bytes are zero (unless the queue went
			 * empty and reset its offset). */
			if (n > 0)
				ck_assert(all_zero(q.buf + off, k));
			else
				ck_assert_uint_eq(q.off, 0);
			break;
		case 3:		/* reserve: room after, content unchanged */
			k = rnd(&seed) % 30000;
			cap = q.cap;
			ck_assert_int_eq(bq_reserve(&q, k), 0);
			ck_assert_uint_ge(q.cap - q.off - q.len, k);
			if (k <= cap - n && cap > 0)
				ck_assert_uint_eq(q.cap, cap);	/* no growth */
			break;
		}
		expect_content(&q, model, n);
	}
	bq_free(&q);
	free(model);
}
END_TEST

/* bq_consume wipes; moving the content to the front (bq_reserve) wipes
 * what is left behind; growing wipes nothing that stays visible. */
START_TEST(test_bq_wipe)
{
	struct bq q = { 0 };
	unsigned char filler[4096];
	size_t i;

	memset(filler, 'x', sizeof(filler));
	ck_assert_int_eq(bq_append(&q, secret, SECRET_LEN), 0);
	ck_assert_int_eq(bq_append(&q, filler, 100), 0);
	ck_assert(holds_secret(&q));
	bq_consume(&q, SECRET_LEN);
	ck_assert(!holds_secret(&q));
	ck_assert(all_zero(q.buf, SECRET_LEN));
	ck_assert_uint_eq(q.off, SECRET_LEN);

	/* The secret in the middle, then moved to the front by a reserve
	 * that does not fit behind it: its old place is wiped. */
	bq_free(&q);
	ck_assert_int_eq(bq_append(&q, filler, 1000), 0);
	ck_assert_int_eq(bq_append(&q, secret, SECRET_LEN), 0);
	bq_consume(&q, 1000);
	ck_assert_int_eq(bq_reserve(&q, q.cap - q.len - 10), 0);
	ck_assert_uint_eq(q.off, 0);
	ck_assert(memcmp(bq_data(&q), secret, SECRET_LEN) == 0);
	ck_assert(all_zero(q.buf + SECRET_LEN, 1000));
	bq_consume(&q, SECRET_LEN);
	ck_assert(!holds_secret(&q));

	/* Overlapping move: the tail of the old copy is wiped too. */
	bq_free(&q);
	ck_assert_int_eq(bq_append(&q, filler, 10), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(bq_append(&q, secret, SECRET_LEN), 0);
	bq_consume(&q, 10);
	ck_assert_int_eq(bq_reserve(&q, q.cap - q.len - 5), 0);
	ck_assert_uint_eq(q.off, 0);
	bq_consume(&q, q.len);
	ck_assert(!holds_secret(&q));

	/* Growth copies into a new buffer: only the live bytes come along. */
	bq_free(&q);
	ck_assert_int_eq(bq_append(&q, secret, SECRET_LEN), 0);
	ck_assert_int_eq(bq_append(&q, filler, 8), 0);
	bq_consume(&q, SECRET_LEN);
	ck_assert_int_eq(bq_reserve(&q, 1 << 20), 0);
	ck_assert(!holds_secret(&q));
	ck_assert(memcmp(bq_data(&q), filler, 8) == 0);

	/* Consumed bytes never reappear after appends. */
	bq_consume(&q, q.len);
	ck_assert_int_eq(bq_append(&q, "new", 3), 0);
	ck_assert_uint_eq(q.len, 3);
	ck_assert(memcmp(bq_data(&q), "new", 3) == 0);
	ck_assert(!holds_secret(&q));
	bq_free(&q);
}
END_TEST

START_TEST(test_bq_free)
{
	struct bq q = { 0 };
	int round;

	bq_free(&q);		/* an empty queue: nothing to do */
	ck_assert_ptr_null(q.buf);
	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(bq_append(&q, secret, SECRET_LEN), 0);
		ck_assert_int_eq(bq_append(&q, "tail", 4), 0);
		bq_consume(&q, 3);
		bq_free(&q);
		ck_assert_ptr_null(q.buf);
		ck_assert_uint_eq(q.len, 0);
		ck_assert_uint_eq(q.off, 0);
		ck_assert_uint_eq(q.cap, 0);
		/* Reusable: new content only. */
		ck_assert_int_eq(bq_append(&q, "abc", 3), 0);
		ck_assert_uint_eq(q.len, 3);
		ck_assert(memcmp(bq_data(&q), "abc", 3) == 0);
		ck_assert(!holds_secret(&q));
		bq_free(&q);
	}
	ck_assert_int_eq(bq_append(&q, NULL, 0), 0);	/* no-op */
	ck_assert_ptr_null(q.buf);
}
END_TEST

/* Sizes that cannot be: -1 (ENOMEM), the queue as it was. An empty queue
 * (NULL buffer) takes bq_data and bq_consume(0) without pointer arithmetic
 * on NULL (clang's UBSan reports it). */
START_TEST(test_bq_limits)
{
	struct bq q = { 0 };
	unsigned char b[8];

	ck_assert_ptr_null(bq_data(&q));
	bq_consume(&q, 0);
	ck_assert_uint_eq(q.len, 0);
	errno = 0;
	ck_assert_int_eq(bq_reserve(&q, SIZE_MAX), -1);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_ptr_null(q.buf);
	ck_assert_int_eq(bq_append(&q, "abcdef", 6), 0);
	bq_consume(&q, 2);
	ck_assert_int_eq(bq_reserve(&q, SIZE_MAX - 3), -1);
	ck_assert_int_eq(bq_reserve(&q, SIZE_MAX / 2), -1);
	/* Would pass a wrapped size check, then copy far too much. */
	ck_assert_int_eq(bq_append(&q, b, SIZE_MAX - 1), -1);
	ck_assert_uint_eq(q.len, 4);
	ck_assert_uint_eq(q.off, 2);
	ck_assert(memcmp(bq_data(&q), "cdef", 4) == 0);
	bq_consume(&q, 0);
	ck_assert_uint_eq(q.len, 4);
	bq_free(&q);
	ck_assert_ptr_null(bq_data(&q));
}
END_TEST

/* read/write over one kind of descriptor pair: a → b. */
static void
check_pair(int a, int b, int is_socket)
{
	struct bq in = { 0 }, out = { 0 };
	unsigned char fill[65536];
	size_t total = 0, got = 0;
	int r;

	nonblock(a);
	nonblock(b);
	/* Nothing to read yet: EAGAIN is 0, and nothing is added. */
	ck_assert_int_eq(bq_read(&in, b, 100), 0);
	ck_assert_uint_eq(in.len, 0);
	/* An empty queue writes nothing. */
	ck_assert_int_eq(bq_write(&out, a), 0);

	ck_assert_int_eq(bq_append(&out, "hello, world", 12), 0);
	ck_assert_int_eq(bq_write(&out, a), 0);
	ck_assert_uint_eq(out.len, 0);
	/* max is honoured. */
	ck_assert_int_eq(bq_read(&in, b, 5), 0);
	ck_assert_uint_eq(in.len, 5);
	ck_assert_int_eq(bq_read(&in, b, BQ_READ_CHUNK), 0);
	ck_assert_uint_eq(in.len, 12);
	ck_assert(memcmp(bq_data(&in), "hello, world", 12) == 0);
	bq_consume(&in, 12);

	/* Fill a until it takes no more: bq_write keeps the rest, 0. */
	memset(fill, 'z', sizeof(fill));
	for (;;) {
		ck_assert_int_eq(bq_append(&out, fill, sizeof(fill)), 0);
		total += sizeof(fill);
		ck_assert_int_eq(bq_write(&out, a), 0);
		if (out.len > 0)
			break;
		ck_assert_uint_lt(total, 64u << 20);
	}
	/* Drain b until EAGAIN: exactly what a took. */
	do {
		got = in.len;
		ck_assert_int_eq(bq_read(&in, b, BQ_READ_CHUNK), 0);
	} while (in.len > got);
	ck_assert_uint_eq(in.len, total - out.len);
	/* Now the rest goes, then EOF. */
	while (out.len > 0) {
		ck_assert_int_eq(bq_write(&out, a), 0);
		ck_assert_int_eq(bq_read(&in, b, BQ_READ_CHUNK), 0);
	}
	if (is_socket)
		ck_assert_int_eq(shutdown(a, SHUT_WR), 0);
	else
		ck_assert_int_eq(close(a), 0);
	while ((r = bq_read(&in, b, BQ_READ_CHUNK)) == 0)
		;
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(in.len, total);
	for (got = 0; got < total && bq_data(&in)[got] == 'z'; got++)
		;
	ck_assert_uint_eq(got, total);
	ck_assert_int_eq(bq_read(&in, b, BQ_READ_CHUNK), 1);	/* stays */
	bq_free(&in);
	bq_free(&out);
}

START_TEST(test_bq_socketpair)
{
	struct bq q = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	check_pair(sv[0], sv[1], 1);
	close(sv[0]);
	/* The peer gone: EPIPE, and no SIGPIPE (this process would die). */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	close(sv[1]);
	ck_assert_int_eq(bq_append(&q, "x", 1), 0);
	errno = 0;
	ck_assert_int_eq(bq_write(&q, sv[0]), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_uint_eq(q.len, 1);		/* kept */
	/* Errors other than EAGAIN are -1. */
	ck_assert_int_eq(bq_read(&q, sv[0], 10), 1);	/* EOF first */
	close(sv[0]);
	errno = 0;
	ck_assert_int_eq(bq_read(&q, sv[0], 10), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(bq_write(&q, sv[0]), -1);
	ck_assert_int_eq(errno, EBADF);
	bq_free(&q);
}
END_TEST

START_TEST(test_bq_pipe)
{
	struct bq q = { 0 };
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	check_pair(p[1], p[0], 0);
	close(p[0]);
	/* A pipe is written with write(2): a reader gone is SIGPIPE unless
	 * ignored (the daemon ignores it), then EPIPE. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	ck_assert_ptr_ne(signal(SIGPIPE, SIG_IGN), SIG_ERR);
	ck_assert_int_eq(bq_append(&q, "x", 1), 0);
	errno = 0;
	ck_assert_int_eq(bq_write(&q, p[1]), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_uint_eq(q.len, 1);
	close(p[1]);
	bq_free(&q);
}
END_TEST

/* 8 MiB of a known pattern through a nonblocking socketpair, writer and
 * reader interleaved by poll, in odd-sized appends and reads. */
START_TEST(test_bq_large)
{
	enum { TOTAL = 8 << 20 };
	struct bq out = { 0 }, in = { 0 };
	unsigned char chunk[70001];
	uint64_t seed = 42;
	size_t produced = 0, checked = 0, k, i, max;
	struct pollfd pfd[2];
	int sv[2], r, eof = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	while (!eof) {
		/* Keep the writer's queue fed up to ~1 MiB. */
		while (produced < TOTAL && out.len < (1u << 20)) {
			k = 1 + rnd(&seed) % sizeof(chunk);
			if (k > TOTAL - produced)
				k = TOTAL - produced;
			for (i = 0; i < k; i++)
				chunk[i] = (unsigned char)((produced + i) * 7 +
				    ((produced + i) >> 13));
			ck_assert_int_eq(bq_append(&out, chunk, k), 0);
			produced += k;
		}
		if (produced == TOTAL && out.len == 0 && sv[0] != -1) {
			ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
			close(sv[0]);
			sv[0] = -1;
		}
		pfd[0].fd = sv[0];
		pfd[0].events = out.len > 0 ? POLLOUT : 0;
		pfd[1].fd = sv[1];
		pfd[1].events = POLLIN;
		ck_assert_int_gt(poll(pfd, 2, 5000), 0);
		if (sv[0] != -1 && (pfd[0].revents & POLLOUT))
			ck_assert_int_eq(bq_write(&out, sv[0]), 0);
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			max = 1 + rnd(&seed) % BQ_READ_CHUNK;
			r = bq_read(&in, sv[1], max);
			ck_assert_int_ge(r, 0);
			eof = r == 1;
		}
		/* Check and drop a random part of what came. */
		k = in.len == 0 ? 0 : rnd(&seed) % (in.len + 1);
		if (eof)
			k = in.len;
		/* (One assertion per batch: each passing one costs Check a
		 * write.) */
		for (i = 0; i < k && bq_data(&in)[i] == (unsigned char)
		    ((checked + i) * 7 + ((checked + i) >> 13)); i++)
			;
		ck_assert_msg(i == k, "byte %zu differs", checked + i);
		bq_consume(&in, k);
		checked += k;
	}
	ck_assert_uint_eq(checked, TOTAL);
	ck_assert_uint_eq(in.len, 0);
	close(sv[1]);
	bq_free(&in);
	bq_free(&out);
}
END_TEST

static Suite *
bq_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("bq");

	tc = tcase_create("bq");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bq_model);
	tcase_add_test(tc, test_bq_wipe);
	tcase_add_test(tc, test_bq_free);
	tcase_add_test(tc, test_bq_limits);
	tcase_add_test(tc, test_bq_socketpair);
	tcase_add_test(tc, test_bq_pipe);
	tcase_add_test(tc, test_bq_large);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(bq_suite());
}
