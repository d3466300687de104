/* Unit tests for lib/cast: the asciicast v2 writer. Every recording is read
 * back and parsed with cJSON; the "o" data of a file, concatenated, is
 * compared with a reference UTF-8 decoder written here (each maximal
 * ill-formed subpart becomes one U+FFFD, as Python's
 * bytes.decode('utf-8', 'replace') does; a table of Python's own answers
 * checks the reference). Each test runs in its own process (Check fork
 * mode) with its own directory under one mkdtemp directory per test case. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <cJSON.h>
#include <sodium.h>

#include "cast.h"
#include "checkrun.h"
#include "refutf8.h"

#define R	"\xef\xbf\xbd"		/* U+FFFD */

static char	 basedir[64];	/* one per test case, made by the runner */
static char	 tmpdir[96];	/* one per test, inside basedir */
static int	 dirfd_ = -1;


/* A failed assertion ends the test process with _exit: the runner removes
 * the case's directory, with whatever a failed test left, after the case. */
static void
case_setup(void)
{
	strcpy(basedir, "/tmp/check_cast.XXXXXX");
	if (mkdtemp(basedir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
case_teardown(void)
{
	if (basedir[0] != '\0')
		check_rmtree(basedir);
	basedir[0] = '\0';
}

static void
setup(void)
{
	ck_assert_int_ne(basedir[0], '\0');
	snprintf(tmpdir, sizeof(tmpdir), "%s/t.XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd_, 0);
}

static void
teardown(void)
{
	if (dirfd_ != -1)
		close(dirfd_);
	dirfd_ = -1;
	if (tmpdir[0] != '\0')
		check_rmtree(tmpdir);
	tmpdir[0] = '\0';
}

/* xorshift64*: the random splits are the same on every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	unsigned char *tmp;
	int ok;

	tmp = malloc(3 * n + 1);
	ck_assert_ptr_nonnull(tmp);
	ok = ref_is_utf8(s, n, tmp);
	free(tmp);
	return ok;
}

/* ---------------------------------------------------------- reading back */

struct castfile {
	char		*raw;		/* the whole file */
	size_t		 rawlen;
	cJSON		*header;
	unsigned char	*o;		/* all "o" data, concatenated */
	size_t		 olen;
	size_t		 nout;		/* "o" lines */
	size_t		 nresize;
	char		 resizes[512];	/* "80x24;100x30;" */
	size_t		 nlines;	/* all lines, the header included */
};

static char *
read_all(const char *name, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd;

	fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd != -1, "open %s: %s", name, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	*len = off;
	return buf;
}

/* "[SECS.UUUUUU, " with exactly six decimals: t in microseconds, or -1. */
static long long
event_time(const char *line, size_t len)
{
	long long us = 0;
	size_t i = 1, d;

	if (len < 2 || line[0] != '[' || line[1] < '0' || line[1] > '9')
		return -1;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		us = us * 10 + (line[i] - '0');
	if (i >= len || line[i++] != '.')
		return -1;
	for (d = 0; d < 6; d++, i++) {
		if (i >= len || line[i] < '0' || line[i] > '9')
			return -1;
		us = us * 10 + (line[i] - '0');
	}
	if (i + 2 > len || memcmp(line + i, ", ", 2) != 0)
		return -1;
	return us;
}

/*
 * Reads a recording back: every line is one JSON value and nothing else,
 * line 1 an object, the others [t, "o"|"r", string] with t non-decreasing
 * and six decimals; every "o" string is valid UTF-8 on its own.
 */
static void
castfile_read(const char *name, struct castfile *cf)
{
	const char *p, *nl, *end;
	char *line;
	cJSON *v, *t, *code, *data;
	long long us, last = 0;
	size_t len, dlen;

	memset(cf, 0, sizeof(*cf));
	cf->raw = read_all(name, &cf->rawlen);
	cf->o = malloc(cf->rawlen + 1);
	ck_assert_ptr_nonnull(cf->o);
	for (p = cf->raw; p < cf->raw + cf->rawlen; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(cf->raw + cf->rawlen - p));
		ck_assert_msg(nl != NULL, "%s: line %zu has no newline", name,
		    cf->nlines + 1);
		len = (size_t)(nl - p);
		line = strndup(p, len);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(strlen(line) == len, "%s: NUL in line %zu",
		    name, cf->nlines + 1);
		v = cJSON_ParseWithOpts(line, &end, 1);
		ck_assert_msg(v != NULL, "%s: line %zu is not JSON: %s", name,
		    cf->nlines + 1, line);
		if (cf->nlines++ == 0) {
			ck_assert_msg(cJSON_IsObject(v), "header: %s", line);
			cf->header = v;
			free(line);
			continue;
		}
		ck_assert_msg(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 3,
		    "event: %s", line);
		t = cJSON_GetArrayItem(v, 0);
		code = cJSON_GetArrayItem(v, 1);
		data = cJSON_GetArrayItem(v, 2);
		ck_assert(cJSON_IsNumber(t));
		ck_assert(cJSON_IsString(code));
		ck_assert(cJSON_IsString(data));
		us = event_time(line, len);
		ck_assert_msg(us >= 0, "time format: %s", line);
		ck_assert_msg(us >= last, "time went back: %s", line);
		ck_assert_msg((long long)(t->valuedouble * 1e6 + 0.5) == us,
		    "time %f vs text: %s", t->valuedouble, line);
		last = us;
		dlen = strlen(data->valuestring);
		if (strcmp(code->valuestring, "o") == 0) {
			ck_assert_msg(utf8_valid((unsigned char *)
			    data->valuestring, dlen),
			    "not UTF-8 on its own: %s", line);
			memcpy(cf->o + cf->olen, data->valuestring, dlen);
			cf->olen += dlen;
			cf->nout++;
		} else {
			ck_assert_str_eq(code->valuestring, "r");
			ck_assert_uint_lt(strlen(cf->resizes) + dlen + 1,
			    sizeof(cf->resizes));
			strcat(cf->resizes, data->valuestring);
			strcat(cf->resizes, ";");
			cf->nresize++;
		}
		cJSON_Delete(v);
		free(line);
	}
	cf->o[cf->olen] = '\0';
}

static void
castfile_free(struct castfile *cf)
{
	cJSON_Delete(cf->header);
	free(cf->raw);
	free(cf->o);
	memset(cf, 0, sizeof(*cf));
}

static void
open_cast(struct cast *c, const char *name)
{
	struct cast_header h = { .width = 80, .height = 24,
	    .timestamp = 1700000000, .term = "xterm", .shell = "/bin/sh",
	    .session = "s", .label = "l" };
	char *cause = NULL;

	ck_assert_msg(cast_open(c, dirfd_, name, &h, &cause) == 0,
	    "cast_open %s: %s", name, cause ? cause : "?");
}

static void
hexdump(char *out, size_t outlen, const unsigned char *s, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 4 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x ", s[i]);
}

/* Records `in` cut into chunks at cuts[0..ncut) (ascending), closes and
 * checks that the "o" data is the reference decode of the whole input. */
static void
record_split(const char *name, const unsigned char *in, size_t n,
    const size_t *cuts, size_t ncut, struct castfile *cf)
{
	struct cast c;
	unsigned char *want;
	size_t i, from = 0, wlen;
	char hex[512];

	open_cast(&c, name);
	for (i = 0; i <= ncut; i++) {
		size_t to = i < ncut ? cuts[i] : n;
		ck_assert_int_eq(cast_output(&c, in + from, to - from), 0);
		from = to;
	}
	ck_assert_uint_eq(c.bytes, n);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read(name, cf);
	want = malloc(3 * n + 1);
	ck_assert_ptr_nonnull(want);
	wlen = ref_decode(in, n, want);
	hexdump(hex, sizeof(hex), in, n);
	ck_assert_msg(cf->olen == wlen && memcmp(cf->o, want, wlen) == 0,
	    "%s: input %s(%zu cuts) decoded wrongly", name, hex, ncut);
	free(want);
}

/* ------------------------------------------------------------------ tests */

/* The reference decoder against Python's own answers. */
START_TEST(test_cast_reference)
{
	static const struct {
		const char	*in;
		const char	*want;	/* b.decode('utf-8', 'replace') */
	} cases[] = {
		{ "\xe0\x80\x80", R R R },
		{ "\xe0\xa0", R },
		{ "\xed\xa0\x80", R R R },
		{ "\xf4\x90\x80\x80", R R R R },
		{ "\xf0\x80\x80\x80", R R R R },
		{ "\xc0\xaf", R R },
		{ "\xf5\x80", R R },
		{ "\xff\xfe", R R },
		{ "\x80\xbf", R R },
		{ "\xe2\x82" "a", R "a" },
		{ "\xf0\x9f\x98\xf0\x9f\x98\x80", R "\xf0\x9f\x98\x80" },
		{ "\xf0\x9f", R },
		{ "\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xf4\x90",
		  "\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf" R R },
		{ "\xc2\xe0\xa0\x80\xf1\x80\x80\xe1\x80",
		  R "\xe0\xa0\x80" R R },
	};
	unsigned char out[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = ref_decode((const unsigned char *)cases[i].in,
		    strlen(cases[i].in), out);
		ck_assert_msg(n == strlen(cases[i].want) &&
		    memcmp(out, cases[i].want, n) == 0, "case %zu", i);
	}
}
END_TEST

START_TEST(test_cast_header)
{
	static const char want[] = "{\"version\":2,\"width\":132,"
	    "\"height\":43,\"timestamp\":1700000123,\"env\":{\"TERM\":"
	    "\"xterm-256color\",\"SHELL\":\"/bin/bash\"},\"command\":"
	    "\"sh -c 'echo \\\"hi\\\"'\",\"session\":\"s-1\",\"label\":"
	    "\"a\\tb\"}\n";
	struct cast_header h = { .width = 132, .height = 43,
	    .timestamp = 1700000123, .term = "xterm-256color",
	    .shell = "/bin/bash", .command = "sh -c 'echo \"hi\"'",
	    .session = "s-1", .label = "a\tb" };
	struct cast_header bare = { .width = 80, .height = 24,
	    .timestamp = 0 };
	struct castfile cf;
	struct cast c;
	struct stat st;
	const cJSON *env;
	char *cause = NULL;
	const char *line;
	size_t len;

	ck_assert_int_eq(cast_open(&c, dirfd_, "h.cast", &h, &cause), 0);
	/* The header is what the remote streams send first. */
	line = cast_last_line(&c, &len);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(line, want, len) == 0);
	ck_assert_uint_eq(c.file_bytes, strlen(want));
	ck_assert_int_eq(fstat(c.fd, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read("h.cast", &cf);
	ck_assert_str_eq(cf.raw, want);
	ck_assert_uint_eq(cf.nlines, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cf.header, "version")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(cf.header, "width")->valueint, 132);
	ck_assert_int_eq(cJSON_GetObjectItem(cf.header, "height")->valueint, 43);
	ck_assert(cJSON_GetObjectItem(cf.header, "timestamp")->valuedouble ==
	    1700000123.0);
	env = cJSON_GetObjectItem(cf.header, "env");
	ck_assert_str_eq(cJSON_GetObjectItem(env, "TERM")->valuestring,
	    "xterm-256color");
	ck_assert_str_eq(cJSON_GetObjectItem(env, "SHELL")->valuestring,
	    "/bin/bash");
	ck_assert_str_eq(cJSON_GetObjectItem(cf.header, "command")->valuestring,
	    "sh -c 'echo \"hi\"'");
	ck_assert_str_eq(cJSON_GetObjectItem(cf.header, "label")->valuestring,
	    "a\tb");
	castfile_free(&cf);

	/* Optional fields left out, env still an object. */
	ck_assert_int_eq(cast_open(&c, dirfd_, "bare.cast", &bare, &cause), 0);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read("bare.cast", &cf);
	ck_assert_str_eq(cf.raw, "{\"version\":2,\"width\":80,\"height\":24,"
	    "\"timestamp\":0,\"env\":{}}\n");
	castfile_free(&cf);

	/* Never an existing file, never through a symlink. */
	cause = NULL;
	errno = 0;
	ck_assert_int_eq(cast_open(&c, dirfd_, "h.cast", &h, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "h.cast"));
	free(cause);
	ck_assert_int_eq(symlinkat("nowhere.cast", dirfd_, "link.cast"), 0);
	cause = NULL;
	ck_assert_int_eq(cast_open(&c, dirfd_, "link.cast", &h, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	free(cause);
	ck_assert_int_eq(faccessat(dirfd_, "nowhere.cast", F_OK,
	    AT_SYMLINK_NOFOLLOW), -1);
}
END_TEST

START_TEST(test_cast_events)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct castfile cf;
	struct cast c;
	const char *line;
	long long t1, t2;
	size_t len;

	open_cast(&c, "e.cast");
	ck_assert_int_eq(cast_output(&c, "hello\r\n", 7), 0);
	line = cast_last_line(&c, &len);
	ck_assert_int_ge(event_time(line, len), 0);
	ck_assert_ptr_nonnull(strstr(line, ", \"o\", \"hello\\r\\n\"]\n"));
	t1 = event_time(line, len);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(cast_resize(&c, 100, 30), 0);
	line = cast_last_line(&c, &len);
	ck_assert_ptr_nonnull(strstr(line, ", \"r\", \"100x30\"]\n"));
	t2 = event_time(line, len);
	ck_assert_int_ge(t2 - t1, 20000);
	ck_assert_int_eq(cast_output(&c, "\xc3\xa9t\xc3\xa9", 5), 0);
	ck_assert_int_eq(cast_resize(&c, 0, 4294967295u), 0);
	ck_assert_int_eq(cast_output(&c, "x", 1), 0);
	ck_assert_uint_eq(c.bytes, 13);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read("e.cast", &cf);
	ck_assert_uint_eq(cf.nlines, 6);
	ck_assert_uint_eq(cf.nout, 3);
	ck_assert_uint_eq(cf.nresize, 2);
	ck_assert_str_eq(cf.resizes, "100x30;0x4294967295;");
	ck_assert_str_eq((char *)cf.o, "hello\r\n\xc3\xa9t\xc3\xa9x");
	castfile_free(&cf);
}
END_TEST

/* A character split anywhere, even byte by byte, comes out whole, in one
 * line. */
START_TEST(test_cast_split_chars)
{
	static const char *const chars[] = {
		"\xc2\x80", "\xc3\xa9", "\xdf\xbf",			/* 2 */
		"\xe0\xa0\x80", "\xe2\x82\xac", "\xed\x9f\xbf",		/* 3 */
		"\xef\xbf\xbd", "\xee\x80\x80",
		"\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",			/* 4 */
		"\xf3\xbf\xbf\xbf", "\xf4\x8f\xbf\xbf",
	};
	unsigned char in[16];
	struct castfile cf;
	size_t k, i, j, n, cl, cuts[8], hits;
	const char *p;
	char name[64];

	for (k = 0; k < sizeof(chars) / sizeof(chars[0]); k++) {
		cl = strlen(chars[k]);
		n = 0;
		in[n++] = 'x';
		memcpy(in + n, chars[k], cl);
		n += cl;
		in[n++] = 'y';
		in[n] = '\0';
		/* Two cuts at every pair of offsets (i == j: one cut). */
		for (i = 1; i < n; i++) {
			for (j = i; j < n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				snprintf(name, sizeof(name), "s%zu.%zu.%zu", k,
				    i, j);
				record_split(name, in, n, cuts, 2, &cf);
				ck_assert_str_eq((char *)cf.o, (char *)in);
				hits = 0;
				/* Exactly one line holds the character. */
				for (p = cf.raw; (p = strstr(p, chars[k])) !=
				    NULL; p += cl)
					hits++;
				ck_assert_uint_eq(hits, 1);
				castfile_free(&cf);
			}
		}
		/* One byte per call. */
		for (i = 0; i < n - 1; i++)
			cuts[i] = i + 1;
		snprintf(name, sizeof(name), "b%zu", k);
		record_split(name, in, n, cuts, n - 1, &cf);
		ck_assert_str_eq((char *)cf.o, (char *)in);
		castfile_free(&cf);
	}
}
END_TEST

/* Ill-formed input, cut at random points: U+FFFD per maximal ill-formed
 * subpart, as if the stream had been decoded in one piece. */
START_TEST(test_cast_replacement)
{
	static const char *const pieces[] = {
		"a", "\r\n", "\x1b[0m", "\"", "\\", "\x7f", "\x01",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
		"\xe0\x80\x80", "\xe0\xa0", "\xed\xa0\x80", "\xed\x9f",
		"\xf4\x90\x80\x80", "\xf0\x80\x80\x80", "\xf0\x90", "\xf0\x9f\x98",
		"\xc0\xaf", "\xc1", "\xc2", "\xf5\x80", "\xf8", "\xff\xfe",
		"\x80", "\xbf", "\xe2\x82", "\xe1\x80", "\xf1\x80\x80",
		"\xef\xbb\xbf",
	};
	static const unsigned char alphabet[] = {
		'a', '\n', 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
		0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xf0, 0xf1, 0xf4, 0xf5, 0xff,
	};
	const size_t np = sizeof(pieces) / sizeof(pieces[0]);
	unsigned char in[256];
	uint64_t seed = 0x5eedca57ULL;
	struct castfile cf;
	size_t iter, n, k, i, cl, ncut, cuts[16];
	char name[32];

	for (iter = 0; iter < 2000; iter++) {
		n = 0;
		if (iter % 2 == 0) {
			for (k = 1 + rnd(&seed) % 12; k > 0; k--) {
				i = rnd(&seed) % np;
				cl = strlen(pieces[i]);
				memcpy(in + n, pieces[i], cl);
				n += cl;
			}
		} else {
			for (k = 1 + rnd(&seed) % 24; k > 0; k--)
				in[n++] = alphabet[rnd(&seed) %
				    sizeof(alphabet)];
		}
		ncut = rnd(&seed) % 9;
		for (i = 0; i < ncut; i++)
			cuts[i] = rnd(&seed) % (n + 1);
		/* Ascending (equal cuts make empty chunks: allowed). */
		for (i = 1; i < ncut; i++)
			for (k = i; k > 0 && cuts[k - 1] > cuts[k]; k--) {
				size_t tmp = cuts[k];
				cuts[k] = cuts[k - 1];
				cuts[k - 1] = tmp;
			}
		snprintf(name, sizeof(name), "r%zu.cast", iter);
		record_split(name, in, n, cuts, ncut, &cf);
		castfile_free(&cf);
		ck_assert_int_eq(unlinkat(dirfd_, name, 0), 0);
	}
}
END_TEST

/* Every control byte is escaped: one line per event, all valid JSON. */
START_TEST(test_cast_controls)
{
	unsigned char in[160];
	struct castfile cf;
	struct cast c;
	size_t i, n = 0, nl = 0;
	unsigned char ch;

	for (i = 1; i < 0x80; i++)
		in[n++] = (unsigned char)i;
	open_cast(&c, "c.cast");
	ck_assert_int_eq(cast_output(&c, in, n), 0);
	for (i = 1; i < 0x80; i++)
		ck_assert_int_eq(cast_output(&c, in + i - 1, 1), 0);
	/* NUL: escaped, even if cJSON's strings then end there. */
	ck_assert_int_eq(cast_output(&c, "\0", 1), 0);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read("c.cast", &cf);
	ck_assert_uint_eq(cf.nlines, 1 + 1 + 127 + 1);
	for (i = 0; i < cf.rawlen; i++) {
		ch = (unsigned char)cf.raw[i];
		ck_assert_msg(ch == '\n' || (ch >= 0x20 && ch != 0x7f),
		    "raw control byte %#x at %zu", ch, i);
		nl += ch == '\n';
	}
	ck_assert_uint_eq(nl, cf.nlines);
	ck_assert_ptr_nonnull(strstr(cf.raw, "\"\\u0000\"]\n"));
	ck_assert_ptr_nonnull(strstr(cf.raw, "\"\\u001b\"]\n"));
	ck_assert_ptr_nonnull(strstr(cf.raw, "\"\\u007f\"]\n"));
	ck_assert_uint_eq(cf.olen, 2 * 127);
	ck_assert(memcmp(cf.o, in, 127) == 0);
	ck_assert(memcmp(cf.o + 127, in, 127) == 0);
	castfile_free(&cf);
}
END_TEST

/* cast_close: what is held back goes out as U+FFFD, the file is 0400. */
START_TEST(test_cast_close)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "ab\xe2\x82", "ab" R },
		{ "\xf0\x9f\x98", R },
		{ "\xf0", R },
		{ "\xe0\x80", R R },		/* held back, though already bad */
		{ "\xc3", R },
		{ "\xc3\xa9", "\xc3\xa9" },	/* nothing held back */
	};
	struct castfile cf;
	struct cast c;
	struct stat st;
	const char *line;
	size_t i, len, nlines;
	char name[32];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "z%zu.cast", i);
		open_cast(&c, name);
		ck_assert_int_eq(cast_output(&c, cases[i].in,
		    strlen(cases[i].in)), 0);
		ck_assert_int_eq(cast_close(&c), 0);
		ck_assert_int_eq(c.fd, -1);
		ck_assert_int_eq(fstatat(dirfd_, name, &st, 0), 0);
		ck_assert_int_eq(st.st_mode & 07777, 0400);
		castfile_read(name, &cf);
		ck_assert_str_eq((char *)cf.o, cases[i].want);
		ck_assert_uint_eq((size_t)st.st_size, cf.rawlen);
		castfile_free(&cf);
	}
	/* Held back over several calls, then closed. */
	open_cast(&c, "held.cast");
	ck_assert_int_eq(cast_output(&c, "\xf0", 1), 0);
	ck_assert_int_eq(cast_output(&c, "\x9f", 1), 0);
	ck_assert_int_eq(cast_output(&c, "\x98", 1), 0);
	ck_assert_int_eq(cast_close(&c), 0);
	castfile_read("held.cast", &cf);
	ck_assert_str_eq((char *)cf.o, R);
	/* The last line is the flush, with its newline. */
	nlines = cf.nlines;
	line = strrchr(cf.raw, '[');
	ck_assert_ptr_nonnull(line);
	len = strlen(line);
	ck_assert_int_ge(event_time(line, len), 0);
	ck_assert_ptr_nonnull(strstr(line, ", \"o\", \"" R "\"]\n"));
	ck_assert_uint_ge(nlines, 2);
	castfile_free(&cf);
}
END_TEST

struct hook {
	char	*buf;
	size_t	 len;
	size_t	 calls;
	size_t	 lastlen;
};

static void
hook_cb(void *arg, const char *line, size_t len)
{
	struct hook *h = arg;

	h->buf = realloc(h->buf, h->len + len + 1);
	ck_assert_ptr_nonnull(h->buf);
	memcpy(h->buf + h->len, line, len);
	h->len += len;
	h->buf[h->len] = '\0';
	h->calls++;
	h->lastlen = len;
	ck_assert_msg(len > 0 && line[len - 1] == '\n' &&
	    memchr(line, '\n', len) == line + len - 1,
	    "the hook got something else than one line");
}

/* The line hook sees each line once, exactly as it went into the file. */
START_TEST(test_cast_line_hook)
{
	struct hook h = { NULL, 0, 0, 0 };
	struct castfile cf;
	struct cast c;
	const char *line;
	size_t len, hdrlen, calls;

	open_cast(&c, "hook.cast");
	hdrlen = c.file_bytes;
	c.line_cb = hook_cb;
	c.line_arg = &h;
	ck_assert_int_eq(cast_output(&c, "one\n", 4), 0);
	ck_assert_uint_eq(h.calls, 1);
	line = cast_last_line(&c, &len);
	ck_assert_uint_eq(h.lastlen, len);
	ck_assert(memcmp(h.buf, line, len) == 0);
	ck_assert_int_eq(cast_resize(&c, 90, 20), 0);
	ck_assert_uint_eq(h.calls, 2);
	ck_assert_int_eq(cast_output(&c, "\xe2", 1), 0);	/* held back */
	calls = h.calls;
	ck_assert_int_eq(cast_output(&c, "\x82", 1), 0);	/* still held */
	ck_assert_uint_eq(h.calls, calls);			/* no line */
	ck_assert_int_eq(cast_output(&c, "\xac!", 2), 0);
	ck_assert_uint_eq(h.calls, calls + 1);
	ck_assert_int_eq(cast_output(&c, "\"\x1b\xff\xf0\x9f", 5), 0);
	ck_assert_int_eq(cast_close(&c), 0);			/* flushes */
	castfile_read("hook.cast", &cf);
	ck_assert_uint_eq(h.calls, cf.nlines - 1);
	ck_assert_uint_eq(h.len, cf.rawlen - hdrlen);
	ck_assert(memcmp(h.buf, cf.raw + hdrlen, h.len) == 0);
	ck_assert_str_eq((char *)cf.o, "one\n\xe2\x82\xac!\"\x1b" R R);
	castfile_free(&cf);
	free(h.buf);
}
END_TEST

/* A write that fails stops the recording: later calls return -1, write
 * nothing, call no hook. */
static void
expect_stopped(struct cast *c, int err, struct hook *h)
{
	uint64_t fb = c->file_bytes;
	size_t calls = h->calls;

	ck_assert_int_eq(c->failed, err);
	ck_assert_int_eq(cast_output(c, "more", 4), -1);
	ck_assert_int_eq(cast_output(c, "\xe2", 1), -1);
	ck_assert_int_eq(cast_resize(c, 1, 1), -1);
	ck_assert_int_eq(c->failed, err);
	ck_assert_uint_eq(c->file_bytes, fb);
	ck_assert_uint_eq(h->calls, calls);
}

/* What the child of test_cast_write_fail_fsize saw. Check's own messages go
 * through a file too: under the limit, only plain code runs. */
struct fsize_report {
	int		 out_rc, out_failed;
	int		 again[3];	/* output, output of a lead byte, resize */
	int		 still_failed;
	uint64_t	 file_bytes, file_bytes_after, size;
	size_t		 calls, calls_after;
	int		 close_rc, mode;
	int		 open_rc, open_errno, cause_set, left_behind;
};

static void
count_cb(void *arg, const char *line, size_t len)
{
	(void)line;
	(void)len;
	(*(size_t *)arg)++;
}

START_TEST(test_cast_write_fail_fsize)
{
	struct cast_header hdr = { .width = 80, .height = 24 };
	struct fsize_report r;
	struct rlimit lim;
	struct cast c;
	struct stat st;
	char big[300], *cause = NULL;
	size_t calls = 0;
	uint64_t limit;
	pid_t pid;
	int p[2], status;

	open_cast(&c, "f.cast");
	c.line_cb = count_cb;
	c.line_arg = &calls;
	ck_assert_int_eq(cast_output(&c, "ok", 2), 0);
	ck_assert_uint_eq(calls, 1);
	limit = c.file_bytes + 100;
	memset(big, 'a', sizeof(big));
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		memset(&r, 0, sizeof(r));
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &lim);
		lim.rlim_cur = (rlim_t)limit;
		if (setrlimit(RLIMIT_FSIZE, &lim) == -1)
			_exit(2);
		r.out_rc = cast_output(&c, big, sizeof(big));
		r.out_failed = c.failed;
		r.calls = calls;
		r.file_bytes = c.file_bytes;
		r.again[0] = cast_output(&c, "more", 4);
		r.again[1] = cast_output(&c, "\xe2", 1);
		r.again[2] = cast_resize(&c, 1, 1);
		r.still_failed = c.failed;
		r.file_bytes_after = c.file_bytes;
		r.calls_after = calls;
		if (fstat(c.fd, &st) == 0)
			r.size = (uint64_t)st.st_size;
		r.close_rc = cast_close(&c);
		if (fstatat(dirfd_, "f.cast", &st, 0) == 0)
			r.mode = (int)(st.st_mode & 07777);
		/* The header cannot be written: no file is left behind. */
		lim.rlim_cur = 10;
		if (setrlimit(RLIMIT_FSIZE, &lim) == -1)
			_exit(2);
		errno = 0;
		r.open_rc = cast_open(&c, dirfd_, "g.cast", &hdr, &cause);
		r.open_errno = errno;
		r.cause_set = cause != NULL;
		r.left_behind = faccessat(dirfd_, "g.cast", F_OK, 0) == 0 ||
		    errno != ENOENT;
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x", status);
	ck_assert_int_eq(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(p[0]);
	ck_assert_int_eq(r.out_rc, -1);
	ck_assert_int_eq(r.out_failed, EFBIG);
	ck_assert_uint_eq(r.calls, 1);			/* no hook for it */
	ck_assert_int_eq(r.again[0], -1);
	ck_assert_int_eq(r.again[1], -1);
	ck_assert_int_eq(r.again[2], -1);
	ck_assert_int_eq(r.still_failed, EFBIG);
	ck_assert_uint_eq(r.calls_after, 1);
	/* The part of the line that went in counts: it is in the file. */
	ck_assert_uint_eq(r.file_bytes, limit);
	ck_assert_uint_eq(r.file_bytes_after, limit);
	ck_assert_uint_eq(r.size, limit);
	ck_assert_int_eq(r.close_rc, 0);
	ck_assert_int_eq(r.mode, 0400);
	ck_assert_int_eq(r.open_rc, -1);
	ck_assert_int_eq(r.open_errno, EFBIG);
	ck_assert_int_eq(r.cause_set, 1);
	ck_assert_int_eq(r.left_behind, 0);
	ck_assert_int_eq(cast_close(&c), 0);	/* the parent's copy */
}
END_TEST

/* The file's descriptor replaced under the writer: a full nonblocking
 * pipe (EAGAIN), a pipe's read end (EBADF), a closed descriptor (EBADF). */
START_TEST(test_cast_write_fail_fd)
{
	struct hook h = { NULL, 0, 0, 0 };
	char fill[4096], big[100000], name[32];
	struct castfile cf;
	struct cast c;
	struct stat st;
	uint64_t hdrlen;
	int p[2], saved, mode, err = 0;

	memset(fill, 'f', sizeof(fill));
	memset(big, 'b', sizeof(big));
	for (mode = 0; mode < 3; mode++) {
		snprintf(name, sizeof(name), "fd%d.cast", mode);
		memset(&h, 0, sizeof(h));
		open_cast(&c, name);
		hdrlen = c.file_bytes;
		c.line_cb = hook_cb;
		c.line_arg = &h;
		ck_assert_int_eq(cast_output(&c, "before", 6), 0);
		saved = dup(c.fd);
		ck_assert_int_ge(saved, 0);
		ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
		switch (mode) {
		case 0:
			while (write(p[1], fill, sizeof(fill)) > 0)
				;
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_int_eq(dup2(p[1], c.fd), c.fd);
			err = EAGAIN;
			break;
		case 1:
			ck_assert_int_eq(dup2(p[0], c.fd), c.fd);
			err = EBADF;
			break;
		case 2:
			ck_assert_int_eq(close(c.fd), 0);
			err = EBADF;
			break;
		}
		ck_assert_int_eq(cast_output(&c, big, sizeof(big)), -1);
		ck_assert_uint_eq(h.calls, 1);
		expect_stopped(&c, err, &h);
		/* Back to the file, so that cast_close works on it. */
		ck_assert_int_eq(dup2(saved, c.fd), c.fd);
		close(saved);
		close(p[0]);
		close(p[1]);
		ck_assert_int_eq(cast_close(&c), 0);
		ck_assert_int_eq(fstatat(dirfd_, name, &st, 0), 0);
		ck_assert_int_eq(st.st_mode & 07777, 0400);
		castfile_read(name, &cf);
		ck_assert_str_eq((char *)cf.o, "before");
		ck_assert_uint_eq(h.len, cf.rawlen - hdrlen);
		ck_assert(memcmp(h.buf, cf.raw + hdrlen, h.len) == 0);
		castfile_free(&cf);
		free(h.buf);
	}
}
END_TEST

static Suite *
cast_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("cast");

	tc = tcase_create("cast");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cast_reference);
	tcase_add_test(tc, test_cast_header);
	tcase_add_test(tc, test_cast_events);
	tcase_add_test(tc, test_cast_split_chars);
	tcase_add_test(tc, test_cast_replacement);
	tcase_add_test(tc, test_cast_controls);
	tcase_add_test(tc, test_cast_close);
	tcase_add_test(tc, test_cast_line_hook);
	tcase_add_test(tc, test_cast_write_fail_fsize);
	tcase_add_test(tc, test_cast_write_fail_fd);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(cast_suite());
}
