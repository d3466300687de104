/* Unit tests for lib/ackscan: cutting a V2 recorder's ack stream into
 * frames (whole, byte by byte, at random cuts), its errors, and reading a
 * frame. Each test runs in its own process (Check fork mode); none needs a
 * directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ackscan.h"
#include "checkrun.h"

/* xorshift64*: the same cuts on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

struct frames {
	char	 buf[65536];	/* the frames, each followed by '|' */
	size_t	 len;
	size_t	 n;
	int	 end;		/* ACKSCAN_MORE or the error */
	size_t	 at;		/* where the error is, in the stream */
};

/* Feeds in[0..n) cut at the given chunk size (0: random cuts). */
static void
scan(const char *in, size_t n, size_t chunk, uint64_t *seed,
    struct frames *fr)
{
	struct ackscan *s;
	size_t off = 0, k, used;
	int r = ACKSCAN_MORE;

	s = calloc(1, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	memset(fr, 0, sizeof(*fr));
	while (off < n) {
		k = chunk != 0 ? chunk : 1 + rnd(seed) % 12;
		if (k > n - off)
			k = n - off;
		/* A chunk may hold several frames: feed until it is taken. */
		while (k > 0) {
			r = ackscan_feed(s, in + off, k, &used);
			ck_assert_uint_le(used, k);
			off += used;
			k -= used;
			if (r < 0) {
				fr->end = r;
				fr->at = off;
				/* Sticky. */
				ck_assert_int_eq(ackscan_feed(s, "{}", 2, &used),
				    r);
				ck_assert_uint_eq(used, 0);
				free(s);
				return;
			}
			if (r == ACKSCAN_FRAME) {
				ck_assert_uint_ge(s->len, 2);
				ck_assert_int_eq(s->frame[0], '{');
				ck_assert_int_eq(s->frame[s->len - 1], '}');
				ck_assert_uint_lt(fr->len + s->len + 1,
				    sizeof(fr->buf));
				memcpy(fr->buf + fr->len, s->frame, s->len);
				fr->len += s->len;
				fr->buf[fr->len++] = '|';
				fr->n++;
			} else
				ck_assert_uint_eq(k, 0);
		}
	}
	fr->end = ACKSCAN_MORE;
	fr->at = n;
	free(s);
}

/* The same frames and the same end however the stream is cut. */
static void
expect_scan(const char *in, size_t n, const char *want, size_t nframes,
    int end)
{
	uint64_t seed = 7;
	struct frames *fr, *fr2;
	size_t chunk;
	int i;

	fr = malloc(sizeof(*fr));
	fr2 = malloc(sizeof(*fr2));
	ck_assert_ptr_nonnull(fr);
	ck_assert_ptr_nonnull(fr2);
	scan(in, n, n == 0 ? 1 : n, &seed, fr);
	ck_assert_int_eq(fr->end, end);
	ck_assert_uint_eq(fr->n, nframes);
	ck_assert_uint_eq(fr->len, strlen(want));
	ck_assert(memcmp(fr->buf, want, fr->len) == 0);
	for (chunk = 0; chunk <= 3; chunk++) {
		for (i = 0; i < (chunk == 0 ? 50 : 1); i++) {
			scan(in, n, chunk, &seed, fr2);
			ck_assert_int_eq(fr2->end, fr->end);
			ck_assert_uint_eq(fr2->at, fr->at);
			ck_assert_uint_eq(fr2->n, fr->n);
			ck_assert_uint_eq(fr2->len, fr->len);
			ck_assert(memcmp(fr2->buf, fr->buf, fr->len) == 0);
		}
	}
	free(fr);
	free(fr2);
}

#define S(lit)	lit, sizeof(lit) - 1

START_TEST(test_ackscan_frames)
{
	expect_scan(S(""), "", 0, ACKSCAN_MORE);
	expect_scan(S(" \r\n\t"), "", 0, ACKSCAN_MORE);
	expect_scan(S("{\"ack\":5}"), "{\"ack\":5}|", 1, ACKSCAN_MORE);
	expect_scan(S("{\"ack\": 1}\n{\"ack\": 22}\n\n{}{}"),
	    "{\"ack\": 1}|{\"ack\": 22}|{}|{}|", 4, ACKSCAN_MORE);
	/* Braces and quotes inside strings do not count. */
	expect_scan(S("{\"error\":\"a}\\\"{b\\\\\"} {\"x}\":\"{{\"}"),
	    "{\"error\":\"a}\\\"{b\\\\\"}|{\"x}\":\"{{\"}|", 2, ACKSCAN_MORE);
	/* Nested objects are one frame. */
	expect_scan(S("{\"ack\":1,\"x\":{\"y\":{}}}\n"),
	    "{\"ack\":1,\"x\":{\"y\":{}}}|", 1, ACKSCAN_MORE);
	/* An unfinished frame waits. */
	expect_scan(S("{\"ack\":1}{\"ack\":"), "{\"ack\":1}|", 1,
	    ACKSCAN_MORE);
	/* Whitespace inside a frame is kept. */
	expect_scan(S("{ \"ack\" :\n3 }"), "{ \"ack\" :\n3 }|", 1,
	    ACKSCAN_MORE);
}
END_TEST

START_TEST(test_ackscan_errors)
{
	struct ackscan s;
	size_t used;

	expect_scan(S("x"), "", 0, ACKSCAN_EMALFORMED);
	expect_scan(S("}"), "", 0, ACKSCAN_EMALFORMED);
	expect_scan(S("[1]"), "", 0, ACKSCAN_EMALFORMED);
	expect_scan(S("{\"ack\":1} ,{}"), "{\"ack\":1}|", 1,
	    ACKSCAN_EMALFORMED);
	expect_scan(S("{}\"{}\""), "{}|", 1, ACKSCAN_EMALFORMED);
	expect_scan(S("\xef\xbb\xbf{}"), "", 0, ACKSCAN_EMALFORMED);
	/* Where: *used stops at the bad byte. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ackscan_feed(&s, "  \n{}", 5, &used), ACKSCAN_FRAME);
	ck_assert_uint_eq(used, 5);
	ck_assert_int_eq(ackscan_feed(&s, " \t;{}", 5, &used),
	    ACKSCAN_EMALFORMED);
	ck_assert_uint_eq(used, 2);
	ck_assert_int_eq(ackscan_feed(&s, "{}", 2, &used), ACKSCAN_EMALFORMED);
	ck_assert_uint_eq(used, 0);
	/* A NUL is a byte like another: inside a string it is kept. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ackscan_feed(&s, "{\"a\0\"}", 6, &used),
	    ACKSCAN_FRAME);
	ck_assert_uint_eq(s.len, 6);
	ck_assert_int_eq(ackscan_feed(&s, "\0", 1, &used), ACKSCAN_EMALFORMED);
}
END_TEST

/* A frame may fill ACKSCAN_FRAME_MAX bytes, not one more. */
START_TEST(test_ackscan_max)
{
	static char in[2 * ACKSCAN_FRAME_MAX + 8];
	struct ackscan s;
	size_t n, used, k;
	struct ackframe f;
	int r;

	/* {"ack":7,"p":"aaa…"} exactly ACKSCAN_FRAME_MAX bytes. */
	n = (size_t)snprintf(in, sizeof(in), "{\"ack\":7,\"p\":\"");
	memset(in + n, 'a', ACKSCAN_FRAME_MAX - n - 2);
	n = ACKSCAN_FRAME_MAX - 2;
	memcpy(in + n, "\"}", 2);
	n += 2;
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ackscan_feed(&s, in, n, &used), ACKSCAN_FRAME);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(s.len, ACKSCAN_FRAME_MAX);
	ck_assert_int_eq(ackscan_decode(s.frame, s.len, &f), 0);
	ck_assert_int_eq(f.kind, ACKFRAME_ACK);
	ck_assert_uint_eq(f.ack, 7);
	/* The next one, again full size, in small pieces. */
	for (k = 0; k < n; k += used) {
		r = ackscan_feed(&s, in + k, n - k < 100 ? n - k : 100, &used);
		ck_assert_int_eq(r, k + used == n ? ACKSCAN_FRAME :
		    ACKSCAN_MORE);
	}
	ck_assert_uint_eq(s.len, ACKSCAN_FRAME_MAX);
	/* One byte more does not fit. */
	memmove(in + 2, in + 1, n - 1);
	in[1] = ' ';
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ackscan_feed(&s, in, n + 1, &used), ACKSCAN_ETOOBIG);
	ck_assert_uint_eq(used, ACKSCAN_FRAME_MAX);
	ck_assert_int_eq(ackscan_feed(&s, "}", 1, &used), ACKSCAN_ETOOBIG);
	/* Nor an endless one, whatever its depth. */
	memset(in, '{', sizeof(in));
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ackscan_feed(&s, in, sizeof(in), &used),
	    ACKSCAN_ETOOBIG);
}
END_TEST

static void
expect_decode(const char *frame, int rc, enum ackframe_kind kind,
    uint64_t ack, const char *error)
{
	struct ackframe f;

	memset(&f, 0x55, sizeof(f));
	ck_assert_msg(ackscan_decode(frame, strlen(frame), &f) == rc,
	    "decode %s", frame);
	if (rc != 0)
		return;
	ck_assert_msg(f.kind == kind, "kind of %s: %d", frame, f.kind);
	ck_assert_msg(f.ack == ack, "ack of %s: %llu", frame,
	    (unsigned long long)f.ack);
	ck_assert_str_eq(f.error, error);
}

START_TEST(test_ackscan_decode)
{
	char big[1200];
	struct ackframe f;
	size_t n;

	expect_decode("{}", 0, ACKFRAME_NONE, 0, "");
	expect_decode("{\"other\":1}", 0, ACKFRAME_NONE, 0, "");
	expect_decode("{\"ack\":0}", 0, ACKFRAME_ACK, 0, "");
	expect_decode("{\"ack\": 123456}", 0, ACKFRAME_ACK, 123456, "");
	expect_decode("{\"ack\":1e3}", 0, ACKFRAME_ACK, 1000, "");
	expect_decode("{\"ack\":9007199254740992}", 0, ACKFRAME_ACK,
	    9007199254740992ULL, "");
	/* The largest double below 2^64; 2^64 itself is out of range. */
	expect_decode("{\"ack\":18446744073709549568}", 0, ACKFRAME_ACK,
	    18446744073709549568ULL, "");
	expect_decode("{\"ack\":18446744073709551616}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":1e300}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":1e999}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":-1}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":-0.5}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":1.5}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":\"5\"}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":null}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"ack\":true}", ACKSCAN_EACK, 0, 0, "");
	expect_decode("{\"Ack\":5}", 0, ACKFRAME_NONE, 0, "");
	/* "error" wins, when it is a string. */
	expect_decode("{\"error\":\"disk full\"}", 0, ACKFRAME_ERROR, 0,
	    "disk full");
	expect_decode("{\"ack\":5,\"error\":\"no\"}", 0, ACKFRAME_ERROR, 0,
	    "no");
	expect_decode("{\"ack\":-5,\"error\":\"no\"}", 0, ACKFRAME_ERROR, 0,
	    "no");
	expect_decode("{\"error\":null,\"ack\":5}", 0, ACKFRAME_ACK, 5, "");
	expect_decode("{\"error\":7}", 0, ACKFRAME_NONE, 0, "");
	expect_decode("{\"error\":\"\"}", 0, ACKFRAME_ERROR, 0, "");
	/* Not JSON objects. */
	expect_decode("{bad}", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("{\"ack\":1", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("{\"ack\":1,}", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("[1]", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("5", ACKSCAN_EJSON, 0, 0, "");
	expect_decode("\"s\"", ACKSCAN_EJSON, 0, 0, "");
	/* Only the given length is read (no NUL after it). */
	ck_assert_int_eq(ackscan_decode("{\"ack\":12}xyz", 10, &f), 0);
	ck_assert_uint_eq(f.ack, 12);
	ck_assert_int_eq(ackscan_decode("{\"ack\":12}", 9, &f), ACKSCAN_EJSON);
	/* A long message is cut to ACKSCAN_ERROR_MAX bytes. */
	n = (size_t)snprintf(big, sizeof(big), "{\"error\":\"");
	memset(big + n, 'e', 1000);
	memcpy(big + n + 1000, "\"}", 3);
	memset(&f, 0x55, sizeof(f));
	ck_assert_int_eq(ackscan_decode(big, strlen(big), &f), 0);
	ck_assert_int_eq(f.kind, ACKFRAME_ERROR);
	ck_assert_uint_eq(strlen(f.error), ACKSCAN_ERROR_MAX);
	ck_assert_int_eq(f.error[0], 'e');
}
END_TEST

/* Frames out of the scanner, read: the stream a recorder sends. */
START_TEST(test_ackscan_stream)
{
	static const char in[] = "{\"ack\":0}\n{}\n{\"ack\": 512}\r\n"
	    "{\"ack\":1024,\"note\":{\"}\":\"{\"}}\n{\"error\":\"disk full\"}\n";
	static const struct {
		enum ackframe_kind	kind;
		uint64_t		ack;
	} want[] = {
		{ ACKFRAME_ACK, 0 }, { ACKFRAME_NONE, 0 }, { ACKFRAME_ACK, 512 },
		{ ACKFRAME_ACK, 1024 }, { ACKFRAME_ERROR, 0 },
	};
	struct ackscan s;
	struct ackframe f;
	size_t off = 0, used, i = 0;
	int r;

	memset(&s, 0, sizeof(s));
	while (off < sizeof(in) - 1) {
		r = ackscan_feed(&s, in + off, sizeof(in) - 1 - off, &used);
		off += used;
		if (r == ACKSCAN_MORE)
			break;
		ck_assert_int_eq(r, ACKSCAN_FRAME);
		ck_assert_uint_lt(i, sizeof(want) / sizeof(want[0]));
		ck_assert_int_eq(ackscan_decode(s.frame, s.len, &f), 0);
		ck_assert_int_eq(f.kind, want[i].kind);
		ck_assert_uint_eq(f.ack, want[i].ack);
		i++;
	}
	ck_assert_uint_eq(i, sizeof(want) / sizeof(want[0]));
	ck_assert_str_eq(f.error, "disk full");
}
END_TEST

static Suite *
ackscan_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ackscan");

	tc = tcase_create("ackscan");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ackscan_frames);
	tcase_add_test(tc, test_ackscan_errors);
	tcase_add_test(tc, test_ackscan_max);
	tcase_add_test(tc, test_ackscan_decode);
	tcase_add_test(tc, test_ackscan_stream);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(ackscan_suite());
}
