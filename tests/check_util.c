/* Unit tests for the small lib modules: duration, ids, jsonw, timefmt,
 * procinfo, ctlmsg and agentproto (the last against a real ssh-agent,
 * ssh-add and ssh-keygen). Each test runs in its own process (Check fork
 * mode) with its own mkdtemp directory under /tmp; every process a test
 * starts is killed by pid and reaped. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <cJSON.h>
#include <sodium.h>

#include "agentproto.h"
#include "ctlmsg.h"
#include "duration.h"
#include "ids.h"
#include "jsonw.h"
#include "procinfo.h"
#include "timefmt.h"
#include "checkrun.h"

static char	 basedir[64];	/* one per test case, made by the runner */
static char	 tmpdir[96];	/* one per test, inside basedir */
static pid_t	 agent_pid = -1;
static int	 agent_out = -1;


static void
cleanup(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
	if (agent_out != -1) {
		close(agent_out);
		agent_out = -1;
	}
	if (tmpdir[0] != '\0') {
		check_rmtree(tmpdir);
		tmpdir[0] = '\0';
	}
}

/*
 * A failed assertion ends the test process with _exit (no teardown, no
 * atexit), so the runner makes a directory per test case and removes it,
 * with whatever a failed test left, after the case. Processes a test starts
 * die with it (PR_SET_PDEATHSIG).
 */
static void
case_setup(void)
{
	strcpy(basedir, "/tmp/check_util.XXXXXX");
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
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_ne(basedir[0], '\0');
	snprintf(tmpdir, sizeof(tmpdir), "%s/t.XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	cleanup();
}

static char *
tmppath(const char *name)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/%s", tmpdir, name), -1);
	return p;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- duration */

static void
expect_duration(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	errno = 0;
	ck_assert_msg(duration_parse(s, &v) == 0, "duration_parse(\"%s\"): %s",
	    s, strerror(errno));
	ck_assert_msg(v == want, "duration_parse(\"%s\") = %" PRIu64
	    ", want %" PRIu64, s, v, want);
}

static void
expect_duration_err(const char *s, int err)
{
	uint64_t v = 12345;
	int r;

	errno = 0;
	r = duration_parse(s, &v);
	ck_assert_msg(r == -1 && errno == err, "duration_parse(\"%s\") = %d "
	    "(%" PRIu64 "), errno %d, want -1 errno %d", s, r, v, errno, err);
}

START_TEST(test_duration_valid)
{
	expect_duration("0", 0);
	expect_duration("90", 90);
	expect_duration("90s", 90);
	expect_duration("15m", 900);
	expect_duration("2h", 7200);
	expect_duration("1h30m", 5400);
	expect_duration("7d", 7 * 86400);
	expect_duration("1d2h3m4s", 86400 + 7200 + 180 + 4);
	expect_duration("0s", 0);
	expect_duration("0d0h0m0s", 0);
	expect_duration("1d4s", 86404);
	expect_duration("007m", 420);
	expect_duration("4294967295", UINT32_MAX);
	expect_duration("4294967295s", UINT32_MAX);
	expect_duration("49710d6h28m15s", UINT32_MAX);
	/* OpenSSH's TIME FORMATS (sshd_config(5)): weeks, either case, any
	 * order, repeats summed, a trailing bare number is seconds. */
	expect_duration("1w", 7 * 86400);
	expect_duration("2W", 14 * 86400);
	expect_duration("1H", 3600);
	expect_duration("30S", 30);
	expect_duration("10M", 600);
	expect_duration("3D", 3 * 86400);
	expect_duration("1w2d", 9 * 86400);
	expect_duration("1m1h", 3660);
	expect_duration("1s1d", 86401);
	expect_duration("1h1h", 7200);
	expect_duration("1s1s", 2);
	expect_duration("1h30", 3630);
	expect_duration("1d2", 86402);
	expect_duration("7101w3d6h28m15s", UINT32_MAX);
}
END_TEST

START_TEST(test_duration_invalid)
{
	static const char *const bad[] = {
		"", "m", "s", "1x", "-5", " 5", "5 ", "1.5h", "+5", "h1",
		"1h 30m", "1h30m ", "5ss", "0x10", "5\n", "1y", "1ms", "1hh",
		"w", "1w-1d", "1\xc2\xb5s",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_duration_err(bad[i], EINVAL);
	expect_duration_err(NULL, EINVAL);
}
END_TEST

START_TEST(test_duration_range)
{
	expect_duration_err("4294967296", ERANGE);
	expect_duration_err("4294967296s", ERANGE);
	expect_duration_err("49710d6h28m16s", ERANGE);
	expect_duration_err("49711d", ERANGE);
	expect_duration_err("71582789m", ERANGE);
	expect_duration_err("1193047h", ERANGE);
	expect_duration_err("99999999999999999999999999", ERANGE);
	expect_duration_err("18446744073709551616s", ERANGE);
	expect_duration_err("49710d99999999999h", ERANGE);
	expect_duration_err("7102w", ERANGE);
	expect_duration_err("4294967295s1", ERANGE);
	expect_duration("71582788m", 71582788ULL * 60);
	expect_duration("1193046h", 1193046ULL * 3600);
}
END_TEST

START_TEST(test_duration_format)
{
	static const struct {
		uint64_t	 secs;
		const char	*want;
	} cases[] = {
		{ 0, "0s" }, { 1, "1s" }, { 45, "45s" }, { 60, "1m" },
		{ 90, "1m30s" }, { 3600, "1h" }, { 5400, "1h30m" },
		{ 86400, "1d" }, { 86401, "1d1s" }, { 90061, "1d1h1m1s" },
		{ 7 * 86400, "7d" }, { UINT32_MAX, "49710d6h28m15s" },
	};
	char buf[24];
	uint64_t v, i, x;
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memset(buf, 'X', sizeof(buf));
		duration_format(cases[k].secs, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[k].want);
	}
	/* Round trips: every small value, then a spread up to DURATION_MAX. */
	for (i = 0; i <= 2 * 86400 + 10; i++) {
		duration_format(i, buf, sizeof(buf));
		ck_assert_msg(duration_parse(buf, &v) == 0 && v == i,
		    "%" PRIu64 " -> \"%s\" did not round-trip", i, buf);
	}
	for (x = 1, i = 0; i < 100000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		duration_format((x >> 32) % ((uint64_t)DURATION_MAX + 1), buf,
		    sizeof(buf));
		ck_assert_msg(duration_parse(buf, &v) == 0 &&
		    v == (x >> 32) % ((uint64_t)DURATION_MAX + 1),
		    "\"%s\" did not round-trip", buf);
	}
	/* A tiny buffer is never overrun. */
	memset(buf, 'X', sizeof(buf));
	duration_format(90061, buf, 4);
	ck_assert_int_lt((int)strlen(buf), 4);
	ck_assert_int_eq(buf[4], 'X');
	duration_format(UINT64_MAX, buf, sizeof(buf));
	ck_assert_int_lt((int)strlen(buf), (int)sizeof(buf));
}
END_TEST

/* --------------------------------------------------------------------- ids */

static int
cmp_ids(const void *a, const void *b)
{
	return memcmp(a, b, IDS_LEN + 1);
}

START_TEST(test_ids_new)
{
	enum { N = 10000 };
	char (*ids)[IDS_LEN + 1];
	size_t i, j;

	ids = calloc(N, sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < N; i++) {
		memset(ids[i], 'X', sizeof(ids[i]));
		ids_new(ids[i]);
		ck_assert_int_eq((int)strlen(ids[i]), IDS_LEN);
		for (j = 0; j < IDS_LEN; j++) {
			ck_assert_msg((ids[i][j] >= 'a' && ids[i][j] <= 'z') ||
			    (ids[i][j] >= '2' && ids[i][j] <= '7'),
			    "bad char in %s", ids[i]);
		}
		ck_assert_msg(ids_valid(ids[i]), "ids_valid(%s)", ids[i]);
	}
	qsort(ids, N, sizeof(*ids), cmp_ids);
	for (i = 1; i < N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	free(ids);
}
END_TEST

START_TEST(test_ids_valid)
{
	char id[IDS_LEN + 1], buf[IDS_LEN + 8];

	ids_new(id);
	ck_assert(ids_valid(id));
	ck_assert(ids_valid("abcdefghijklmnopqrstuvwxyz"));
	ck_assert(ids_valid("22222222222222222222222222"));
	ck_assert(!ids_valid(NULL));
	ck_assert(!ids_valid(""));
	ck_assert(!ids_valid("/"));
	ck_assert(!ids_valid("../x"));
	ck_assert(!ids_valid("."));
	ck_assert(!ids_valid(".."));
	/* One too short, one too long. */
	memcpy(buf, id, IDS_LEN - 1);
	buf[IDS_LEN - 1] = '\0';
	ck_assert(!ids_valid(buf));
	memcpy(buf, id, IDS_LEN);
	buf[IDS_LEN] = 'a';
	buf[IDS_LEN + 1] = '\0';
	ck_assert(!ids_valid(buf));
	/* Right length, one bad character at each place. */
	ck_assert(!ids_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
	ck_assert(!ids_valid("abcdefghijklmnopqrstuvwxyZ"));
	ck_assert(!ids_valid("abcdefghijklmnopqrstuvwxy0"));
	ck_assert(!ids_valid("1bcdefghijklmnopqrstuvwxyz"));
	ck_assert(!ids_valid("abcdefghijklm8opqrstuvwxyz"));
	ck_assert(!ids_valid("abcdefghijklm/opqrstuvwxyz"));
	ck_assert(!ids_valid("../aaaaaaaaaaaaaaaaaaaaaaa"));
	ck_assert(!ids_valid("aaaaaaaaaaaaa aaaaaaaaaaaa"));
	ck_assert(!ids_valid("aaaaaaaaaaaaa\xc3\xa9" "aaaaaaaaaaa"));
}
END_TEST

/* ------------------------------------------------------------------- jsonw */

static void
expect_quote(const char *in, size_t len, const char *want)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_quote(&w, in, len);
	ck_assert(jsonw_ok(&w));
	ck_assert_ptr_nonnull(w.buf);
	ck_assert_uint_eq(w.len, strlen(want));
	ck_assert_msg(memcmp(w.buf, want, w.len) == 0, "quote gave %s, want %s",
	    w.buf, want);
	ck_assert_int_eq(w.buf[w.len], '\0');
	jsonw_free(&w);
}

START_TEST(test_jsonw_order)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_begin(&w);
	jsonw_str(&w, "z", "1");
	jsonw_int(&w, "a", -2);
	jsonw_bool(&w, "t", true);
	jsonw_bool(&w, "f", false);
	jsonw_null(&w, "n");
	jsonw_uint(&w, "u", 3);
	jsonw_str(&w, "s", NULL);
	jsonw_strn(&w, "e", "xyz", 0);
	jsonw_end(&w);
	ck_assert(jsonw_ok(&w));
	ck_assert_str_eq(w.buf, "{\"z\":\"1\",\"a\":-2,\"t\":true,\"f\":false,"
	    "\"n\":null,\"u\":3,\"s\":null,\"e\":\"\"}");
	ck_assert_uint_eq(w.len, strlen(w.buf));

	/* Reset starts over, with no stray comma. */
	jsonw_reset(&w);
	jsonw_begin(&w);
	jsonw_end(&w);
	ck_assert_str_eq(w.buf, "{}");
	jsonw_reset(&w);
	jsonw_begin(&w);
	jsonw_int(&w, "k", 0);
	jsonw_end(&w);
	ck_assert_str_eq(w.buf, "{\"k\":0}");
	jsonw_free(&w);
	ck_assert_ptr_null(w.buf);
	ck_assert_uint_eq(w.len, 0);
}
END_TEST

START_TEST(test_jsonw_ints)
{
	struct jsonw w;
	cJSON *o;

	jsonw_init(&w);
	jsonw_begin(&w);
	jsonw_int(&w, "min", INT64_MIN);
	jsonw_int(&w, "max", INT64_MAX);
	jsonw_uint(&w, "umax", UINT64_MAX);
	jsonw_uint(&w, "zero", 0);
	jsonw_int(&w, "m1", -1);
	jsonw_end(&w);
	ck_assert(jsonw_ok(&w));
	ck_assert_str_eq(w.buf, "{\"min\":-9223372036854775808,"
	    "\"max\":9223372036854775807,\"umax\":18446744073709551615,"
	    "\"zero\":0,\"m1\":-1}");
	o = cJSON_Parse(w.buf);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	jsonw_free(&w);
}
END_TEST

START_TEST(test_jsonw_escape)
{
	expect_quote("", 0, "\"\"");
	expect_quote("plain text", 10, "\"plain text\"");
	expect_quote("a\"b", 3, "\"a\\\"b\"");
	expect_quote("a\\b", 3, "\"a\\\\b\"");
	expect_quote("a\nb", 3, "\"a\\nb\"");
	expect_quote("\t\r\b\f", 4, "\"\\t\\r\\b\\f\"");
	expect_quote("\x01\x1f", 2, "\"\\u0001\\u001f\"");
	expect_quote("a\0b", 3, "\"a\\u0000b\"");
	expect_quote("\x7f", 1, "\"\\u007f\"");
	expect_quote("/", 1, "\"/\"");
	/* Valid UTF-8 passes through as it is. */
	expect_quote("\xc3\xa9", 2, "\"\xc3\xa9\"");
	expect_quote("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
	expect_quote("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
	expect_quote("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf",
	    14, "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
	/* Each maximal ill-formed subpart becomes one U+FFFD (Unicode 3.9). */
#define FFFD "\xef\xbf\xbd"
	expect_quote("\xff", 1, "\"" FFFD "\"");
	expect_quote("\xfe", 1, "\"" FFFD "\"");
	expect_quote("\x80", 1, "\"" FFFD "\"");
	expect_quote("a\x80z", 3, "\"a" FFFD "z\"");
	expect_quote("\xe2\x82", 2, "\"" FFFD "\"");
	expect_quote("\xe2\x82z", 3, "\"" FFFD "z\"");
	expect_quote("\xf0\x9f\x98", 3, "\"" FFFD "\"");
	expect_quote("\xc0\xaf", 2, "\"" FFFD FFFD "\"");
	expect_quote("\xc1\xbf", 2, "\"" FFFD FFFD "\"");
	expect_quote("\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"");
	expect_quote("\xf0\x80\x80\xaf", 4, "\"" FFFD FFFD FFFD FFFD "\"");
	expect_quote("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");
	expect_quote("\xed\xbf\xbf", 3, "\"" FFFD FFFD FFFD "\"");
	expect_quote("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"");
	expect_quote("\xf5\x80\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"");
	/* A sequence cut by the length is not read past it. */
	expect_quote("\xc3\xa9", 1, "\"" FFFD "\"");
	/* Keys are escaped too. */
	{
		struct jsonw w;

		jsonw_init(&w);
		jsonw_begin(&w);
		jsonw_str(&w, "k\"\n\xff", "v");
		jsonw_end(&w);
		ck_assert_str_eq(w.buf, "{\"k\\\"\\n" FFFD "\":\"v\"}");
		jsonw_free(&w);
	}
}
END_TEST

START_TEST(test_jsonw_cjson)
{
	static const char *const strs[] = {
		"plain", "quote\" back\\slash", "nl\nline\ttab\rcr",
		"\x01\x02\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"bad \xff\x80 \xe2\x82 \xc0\xaf \xed\xa0\x80 end", "",
		"</script>",
	};
	static const char *const want[] = {
		"plain", "quote\" back\\slash", "nl\nline\ttab\rcr",
		"\x01\x02\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"bad " FFFD FFFD " " FFFD " " FFFD FFFD " " FFFD FFFD FFFD
		    " end", "", "</script>",
	};
	struct jsonw w;
	cJSON *o, *a, *it;
	char key[16];
	size_t i;

	jsonw_init(&w);
	jsonw_begin(&w);
	jsonw_uint(&w, "v", 1);
	jsonw_array_begin(&w, "strs");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		jsonw_str(&w, NULL, strs[i]);
	jsonw_array_end(&w);
	jsonw_object_begin(&w, "byname");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		snprintf(key, sizeof(key), "s%zu", i);
		jsonw_str(&w, key, strs[i]);
	}
	jsonw_object_end(&w);
	jsonw_int(&w, "big", INT64_MIN);
	jsonw_end(&w);
	ck_assert(jsonw_ok(&w));

	o = cJSON_ParseWithLength(w.buf, w.len);
	ck_assert_msg(o != NULL, "cJSON rejected %s", w.buf);
	ck_assert(cJSON_IsObject(o));
	ck_assert_ptr_eq(o->child, cJSON_GetObjectItemCaseSensitive(o, "v"));
	a = cJSON_GetObjectItemCaseSensitive(o, "strs");
	ck_assert(cJSON_IsArray(a));
	ck_assert_int_eq(cJSON_GetArraySize(a),
	    (int)(sizeof(strs) / sizeof(strs[0])));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		it = cJSON_GetArrayItem(a, (int)i);
		ck_assert(cJSON_IsString(it));
		ck_assert_str_eq(it->valuestring, want[i]);
		snprintf(key, sizeof(key), "s%zu", i);
		it = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(o, "byname"), key);
		ck_assert(cJSON_IsString(it));
		ck_assert_str_eq(it->valuestring, want[i]);
	}
	cJSON_Delete(o);
	jsonw_free(&w);
}
END_TEST

START_TEST(test_jsonw_nested)
{
	struct jsonw w;
	cJSON *o;

	jsonw_init(&w);
	jsonw_begin(&w);
	jsonw_array_begin(&w, "a");
	jsonw_int(&w, NULL, 1);
	jsonw_array_begin(&w, NULL);
	jsonw_int(&w, NULL, 2);
	jsonw_str(&w, NULL, "3");
	jsonw_array_end(&w);
	jsonw_object_begin(&w, NULL);
	jsonw_array_begin(&w, "b");
	jsonw_array_end(&w);
	jsonw_object_end(&w);
	jsonw_object_begin(&w, NULL);
	jsonw_object_end(&w);
	jsonw_null(&w, NULL);
	jsonw_array_end(&w);
	jsonw_object_begin(&w, "o");
	jsonw_object_begin(&w, "p");
	jsonw_bool(&w, "q", true);
	jsonw_object_end(&w);
	jsonw_uint(&w, "r", 4);
	jsonw_object_end(&w);
	jsonw_array_begin(&w, "e");
	jsonw_array_end(&w);
	jsonw_end(&w);
	ck_assert(jsonw_ok(&w));
	ck_assert_str_eq(w.buf, "{\"a\":[1,[2,\"3\"],{\"b\":[]},{},null],"
	    "\"o\":{\"p\":{\"q\":true},\"r\":4},\"e\":[]}");
	o = cJSON_Parse(w.buf);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	jsonw_free(&w);
}
END_TEST

START_TEST(test_jsonw_large)
{
	struct jsonw w;
	char *big, key[32];
	size_t i, biglen = 1536 * 1024;
	cJSON *o, *it;

	big = malloc(biglen + 1);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < biglen; i++)
		big[i] = "ab\"\\\n\x01\xc3\xa9"[i % 8];
	big[biglen] = '\0';
	jsonw_init(&w);
	jsonw_begin(&w);
	jsonw_strn(&w, "big", big, biglen);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		jsonw_uint(&w, key, i);
	}
	jsonw_end(&w);
	ck_assert(jsonw_ok(&w));
	ck_assert_uint_gt(w.len, 2 * 1024 * 1024);
	ck_assert_uint_lt(w.len, w.cap);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	o = cJSON_ParseWithLength(w.buf, w.len);
	ck_assert_ptr_nonnull(o);
	it = cJSON_GetObjectItemCaseSensitive(o, "big");
	ck_assert(cJSON_IsString(it));
	ck_assert_uint_eq(strlen(it->valuestring), biglen);
	ck_assert(memcmp(it->valuestring, big, biglen) == 0);
	it = cJSON_GetObjectItemCaseSensitive(o, "k19999");
	ck_assert(cJSON_IsNumber(it));
	ck_assert_int_eq(it->valueint, 19999);
	ck_assert_int_eq(cJSON_GetArraySize(o), 20001);
	cJSON_Delete(o);
	jsonw_free(&w);
	free(big);
}
END_TEST

/* ----------------------------------------------------------------- timefmt */

START_TEST(test_timefmt_format)
{
	struct timespec ts = { .tv_sec = 1795431993, .tv_nsec = 123456789 };
	struct timespec got;
	char buf[TIMEFMT_LEN];

	ck_assert_uint_eq(TIMEFMT_LEN, 28);
	timefmt_rfc3339(&ts, buf);
	ck_assert_str_eq(buf, "2026-11-23T11:06:33.123456Z");
	ck_assert_int_eq(timefmt_parse(buf, &got), 0);
	ck_assert_int_eq((long long)got.tv_sec, 1795431993);
	ck_assert_int_eq(got.tv_nsec, 123456000);

	timefmt_rfc3339_s(1795431993, buf);
	ck_assert_str_eq(buf, "2026-11-23T11:06:33Z");
	ck_assert_int_eq(timefmt_parse(buf, &got), 0);
	ck_assert_int_eq((long long)got.tv_sec, 1795431993);
	ck_assert_int_eq(got.tv_nsec, 0);

	ts.tv_sec = 0;
	ts.tv_nsec = 999999999;
	timefmt_rfc3339(&ts, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.999999Z");
	ts.tv_sec = 951782400;	/* a leap day */
	ts.tv_nsec = 1000;
	timefmt_rfc3339(&ts, buf);
	ck_assert_str_eq(buf, "2000-02-29T00:00:00.000001Z");
	ck_assert_int_eq(timefmt_parse(buf, &got), 0);
	ck_assert_int_eq((long long)got.tv_sec, 951782400);
	ck_assert_int_eq(got.tv_nsec, 1000);
}
END_TEST

START_TEST(test_timefmt_roundtrip)
{
	struct timespec ts, got;
	char buf[TIMEFMT_LEN];
	uint64_t x = 7;
	int i;

	for (i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		ts.tv_sec = (time_t)((x >> 16) % 4102444800ULL); /* < 2100 */
		ts.tv_nsec = (long)((x >> 8) % 1000000) * 1000;
		timefmt_rfc3339(&ts, buf);
		ck_assert_msg(timefmt_parse(buf, &got) == 0, "parse %s", buf);
		ck_assert_msg(got.tv_sec == ts.tv_sec &&
		    got.tv_nsec == ts.tv_nsec, "%s did not round-trip", buf);
	}
}
END_TEST

START_TEST(test_timefmt_parse)
{
	static const char *const bad[] = {
		"", "2026", "2026-11-23", "2026-11-23 11:06:33Z",
		"2026-11-23T11:06:33", "2026-11-23T11:06:33+01:00",
		"2026-11-23T11:06:33.123456+01:00", "2026-11-23T11:06:33z",
		"2026-13-23T11:06:33Z", "2026-00-23T11:06:33Z",
		"2026-11-00T11:06:33Z", "2026-11-32T11:06:33Z",
		"2026-11-23T24:06:33Z", "2026-11-23T11:60:33Z",
		"2026-11-23T11:06:61Z", "2026-11-23T11:06:33.Z",
		"2026-11-23T11:06:33ZZ", "2026-11-23T11:06:33Z ",
		" 2026-11-23T11:06:33Z", "2026-1-23T11:06:33Z",
		"2026-11-23T11:6:33Z", "2026/11/23T11:06:33Z",
		"2026-11-23T11:06:33.12a456Z", "+026-11-23T11:06:33Z",
		"2026-11-23t11:06:33Z", "2026-1a-23T11:06:33Z",
		/* Days that do not exist must not roll over into the next month. */
		"2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z",
		"2026-04-31T00:00:00Z", "2100-02-29T00:00:00Z",
	};
	struct timespec got;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(timefmt_parse(bad[i], &got) == -1,
		    "timefmt_parse accepted \"%s\"", bad[i]);
	ck_assert_int_eq(timefmt_parse("2024-02-29T23:59:59Z", &got), 0);
	ck_assert_int_eq((long long)got.tv_sec, 1709251199);
	ck_assert_int_eq(timefmt_parse("2000-02-29T00:00:00.5Z", &got), 0);
	ck_assert_int_eq((long long)got.tv_sec, 951782400);
	ck_assert_int_eq(got.tv_nsec, 500000000);
	ck_assert_int_eq(timefmt_parse("2026-12-31T23:59:59.123456789Z", &got),
	    0);
	ck_assert_int_eq(got.tv_nsec, 123456789);
}
END_TEST

/* ---------------------------------------------------------------- procinfo */

START_TEST(test_procinfo_self)
{
	uint64_t st = 0, st2 = 0;
	pid_t ppid = 0;

	char state = '?';

	ck_assert_int_eq(procinfo_stat(getpid(), &st, &ppid, &state), 0);
	ck_assert_int_eq(ppid, getppid());
	ck_assert_uint_gt(st, 0);
	ck_assert_int_eq(state, 'R');
	ck_assert_int_eq(procinfo_stat(getpid(), &st2, NULL, NULL), 0);
	ck_assert_uint_eq(st, st2);
	/* pid 1 exists and has no parent in this namespace. */
	ck_assert_int_eq(procinfo_stat(1, &st2, &ppid, NULL), 0);
	ck_assert_int_eq(ppid, 0);
}
END_TEST

/* The caller identity (DESIGN §8): comm, exe and the parents' comms, as
 * /proc gives them; a gone pid fails with only its pid kept. */
START_TEST(test_procinfo_caller)
{
	struct procinfo_caller c;
	char exe[PROCINFO_EXE_LEN], comm[32];
	ssize_t n;
	FILE *f;

	ck_assert_int_eq(procinfo_caller(getpid(), &c), 0);
	ck_assert_int_eq(c.pid, getpid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_str_eq(c.exe, exe);
	ck_assert_ptr_nonnull(f = fopen("/proc/self/comm", "r"));
	ck_assert_ptr_nonnull(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	ck_assert_str_eq(c.comm, comm);
	/* Check forks each test: the parent is the check runner itself. */
	ck_assert_uint_ge(c.nancestry, 1);
	ck_assert_uint_le(c.nancestry, PROCINFO_ANCESTRY);
	ck_assert_str_eq(c.ancestry[0], comm);
	ck_assert_int_eq(procinfo_caller(0, &c), -1);
	ck_assert_int_eq(procinfo_caller(0x3fffffff, &c), -1);
	ck_assert_int_eq(c.pid, 0x3fffffff);
	ck_assert_str_eq(c.comm, "");
}
END_TEST

/* Forks a child that reports its own view of itself, then waits. */
static pid_t
fork_child(const char *comm, int *release)
{
	int ready[2], go[2];
	uint64_t st;
	pid_t pid, pp;
	char c;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (comm != NULL)
			(void)prctl(PR_SET_NAME, comm, 0, 0, 0);
		if (procinfo_stat(getpid(), &st, &pp, NULL) == -1)
			st = 0;
		(void)!write(ready[1], &st, sizeof(st));
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_int_eq(read(ready[0], &st, sizeof(st)), (ssize_t)sizeof(st));
	close(ready[0]);
	*release = go[1];
	/* Our reading of the child equals the child's reading of itself. */
	ck_assert_uint_gt(st, 0);
	{
		uint64_t mine;
		pid_t ppid;

		ck_assert_int_eq(procinfo_stat(pid, &mine, &ppid, NULL), 0);
		ck_assert_uint_eq(mine, st);
		ck_assert_int_eq(ppid, getpid());
	}
	return pid;
}

START_TEST(test_procinfo_child)
{
	uint64_t self, st, st2;
	pid_t pid, ppid;
	int go, status;
	char state;
	siginfo_t si;

	ck_assert_int_eq(procinfo_stat(getpid(), &self, NULL, NULL), 0);
	pid = fork_child(NULL, &go);
	state = '?';
	ck_assert_int_eq(procinfo_stat(pid, &st, &ppid, &state), 0);
	ck_assert_uint_ge(st, self);
	ck_assert_int_eq(ppid, getpid());
	/* Alive: running towards, or blocked in, its read(). */
	ck_assert_msg(state == 'S' || state == 'R', "state %c", state);
	close(go);
	/* Dead but not reaped: a zombie with the same start time. */
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(procinfo_stat(pid, &st2, &ppid, &state), 0);
	ck_assert_int_eq(state, 'Z');
	ck_assert_uint_eq(st2, st);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	errno = 0;
	ck_assert_int_eq(procinfo_stat(pid, &st, &ppid, &state), -1);
	ck_assert_msg(errno == ENOENT || errno == ESRCH, "errno %d", errno);
}
END_TEST

START_TEST(test_procinfo_comm)
{
	static const char *const names[] = { "a) (b c) 1 2 3", ")", "x y z",
	    "))))))))))))))))" };
	size_t i;
	pid_t pid;
	int go;

	/* fork_child checks starttime and ppid with a hostile comm field. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pid = fork_child(names[i], &go);
		close(go);
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	}
}
END_TEST

START_TEST(test_procinfo_boot_id)
{
	char id[PROCINFO_BOOTID_LEN + 1], file[64];
	FILE *f;
	size_t i;

	memset(id, 'X', sizeof(id));
	ck_assert_int_eq(procinfo_boot_id(id), 0);
	ck_assert_int_eq((int)strlen(id), 36);
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(file, sizeof(file), f));
	fclose(f);
	file[strcspn(file, "\n")] = '\0';
	ck_assert_str_eq(id, file);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_int_eq(id[i], '-');
		else
			ck_assert(strchr("0123456789abcdef", id[i]) != NULL);
	}
}
END_TEST

/* ------------------------------------------------------------------ ctlmsg */

static void
pair(int sv[2], int flags)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags,
	    0, sv), 0);
}

static void
write_hdr(int fd, uint32_t len)
{
	unsigned char h[4] = { (unsigned char)(len >> 24),
	    (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	    (unsigned char)len };

	ck_assert_int_eq(write(fd, h, 4), 4);
}

START_TEST(test_ctlmsg_roundtrip)
{
	static const char msg[] = "{\"cmd\":\"status\",\"n\":1}";
	static const char msg2[] = "{\"x\":2}";
	struct ctlmsg_in in;
	int sv[2];
	cJSON *o;

	pair(sv, SOCK_NONBLOCK);
	memset(&in, 0, sizeof(in));
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 0);
	ck_assert_int_eq(ctlmsg_send(sv[0], msg, strlen(msg)), 0);
	ck_assert_int_eq(ctlmsg_send(sv[0], msg2, strlen(msg2)), 0);
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 1);
	ck_assert_uint_eq(in.bodylen, strlen(msg));
	ck_assert_str_eq(in.body, msg);
	o = ctlmsg_parse(&in);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(ctlmsg_get_str(o, "cmd"), "status");
	ck_assert_ptr_null(ctlmsg_get_str(o, "n"));
	ck_assert_ptr_null(ctlmsg_get_str(o, "missing"));
	cJSON_Delete(o);
	ctlmsg_in_reset(&in);
	/* The second message was not swallowed by the first read. */
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 1);
	ck_assert_str_eq(in.body, msg2);
	ctlmsg_in_reset(&in);
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 0);
	ctlmsg_in_reset(&in);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_ctlmsg_bytewise)
{
	static const char msg[] = "{\"cmd\":\"start\",\"ttl_s\":3600}";
	unsigned char frame[4 + sizeof(msg)];
	size_t len = strlen(msg), i;
	struct ctlmsg_in in;
	int sv[2];

	pair(sv, SOCK_NONBLOCK);
	frame[0] = frame[1] = frame[2] = 0;
	frame[3] = (unsigned char)len;
	memcpy(frame + 4, msg, len);
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 4 + len; i++) {
		ck_assert_int_eq(write(sv[0], frame + i, 1), 1);
		ck_assert_int_eq(ctlmsg_read(sv[1], &in), i + 1 == 4 + len);
		ck_assert_int_eq(ctlmsg_read(sv[1], &in), i + 1 == 4 + len);
	}
	ck_assert_str_eq(in.body, msg);
	ck_assert_uint_eq(in.bodylen, len);
	ctlmsg_in_reset(&in);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_ctlmsg_max)
{
	struct ctlmsg_in in;
	char *body, c;
	int sv[2];
	cJSON *o;
	int r;

	pair(sv, SOCK_NONBLOCK);
	/* Exactly CTLMSG_MAX is accepted. */
	body = malloc(CTLMSG_MAX);
	ck_assert_ptr_nonnull(body);
	memset(body, ' ', CTLMSG_MAX);
	memcpy(body, "{\"a\":1}", 7);
	ck_assert_int_eq(ctlmsg_send(sv[0], body, CTLMSG_MAX), 0);
	memset(&in, 0, sizeof(in));
	do
		r = ctlmsg_read(sv[1], &in);
	while (r == 0);
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(in.bodylen, CTLMSG_MAX);
	o = ctlmsg_parse(&in);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	ctlmsg_in_reset(&in);

	/* The sender refuses what no reader would take. */
	free(body);
	body = malloc(CTLMSG_REPLY_MAX + 1);
	ck_assert_ptr_nonnull(body);
	errno = 0;
	ck_assert_int_eq(ctlmsg_send(sv[0], body, CTLMSG_REPLY_MAX + 1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	errno = 0;
	ck_assert_int_eq(ctlmsg_send(sv[0], body, 0), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	free(body);

	/* A reader's own cap. */
	in.max = 100;
	write_hdr(sv[0], 101);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ctlmsg_in_reset(&in);
	ck_assert_uint_eq(in.max, 0);
	in.max = 8;
	ck_assert_int_eq(ctlmsg_send(sv[0], "{\"a\":1}", 7), 0);
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 1);
	ck_assert_str_eq(in.body, "{\"a\":1}");
	ctlmsg_in_reset(&in);
	ck_assert_int_eq(ctlmsg_send(sv[0], "{\"ab\":12}", 9), 0);
	in.max = 8;
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ctlmsg_in_reset(&in);
	close(sv[0]);
	close(sv[1]);
	pair(sv, SOCK_NONBLOCK);

	/* Too long: refused on the header, the body is left unread. */
	write_hdr(sv[0], CTLMSG_MAX + 1);
	ck_assert_int_eq(write(sv[0], "Q", 1), 1);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_ptr_null(in.body);
	ck_assert_int_eq(read(sv[1], &c, 1), 1);
	ck_assert_int_eq(c, 'Q');
	ctlmsg_in_reset(&in);

	write_hdr(sv[0], UINT32_MAX);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ctlmsg_in_reset(&in);

	write_hdr(sv[0], 0);
	ck_assert_int_eq(write(sv[0], "Z", 1), 1);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(read(sv[1], &c, 1), 1);
	ck_assert_int_eq(c, 'Z');
	ctlmsg_in_reset(&in);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_ctlmsg_eof)
{
	struct ctlmsg_in in;
	int sv[2];

	memset(&in, 0, sizeof(in));
	/* EOF before anything. */
	pair(sv, SOCK_NONBLOCK);
	close(sv[0]);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ctlmsg_in_reset(&in);
	close(sv[1]);

	/* EOF inside the header. */
	pair(sv, SOCK_NONBLOCK);
	ck_assert_int_eq(write(sv[0], "\0\0", 2), 2);
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 0);
	close(sv[0]);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ctlmsg_in_reset(&in);
	close(sv[1]);

	/* EOF inside the body. */
	pair(sv, SOCK_NONBLOCK);
	write_hdr(sv[0], 10);
	ck_assert_int_eq(write(sv[0], "{\"a\"", 4), 4);
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), 0);
	close(sv[0]);
	errno = 0;
	ck_assert_int_eq(ctlmsg_read(sv[1], &in), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ctlmsg_in_reset(&in);
	close(sv[1]);

	/* ctlmsg_recv reports the same. */
	pair(sv, 0);
	write_hdr(sv[0], 10);
	close(sv[0]);
	{
		char *out = NULL;
		size_t outlen;

		errno = 0;
		ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 2000), -1);
		ck_assert_int_eq(errno, ECONNRESET);
		ck_assert_ptr_null(out);
	}
	close(sv[1]);
}
END_TEST

START_TEST(test_ctlmsg_recv)
{
	static const char msg[] = "{\"ok\":true}";
	char *out = NULL;
	size_t outlen = 0;
	long long t0, dt;
	int sv[2];

	/* Blocking socket, as clients use it. */
	pair(sv, 0);
	ck_assert_int_eq(ctlmsg_send(sv[0], msg, strlen(msg)), 0);
	ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 1000), 0);
	ck_assert_uint_eq(outlen, strlen(msg));
	ck_assert_str_eq(out, msg);
	free(out);
	out = NULL;

	/* Nothing arrives. */
	t0 = now_ms();
	errno = 0;
	ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 150), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_int_ge(dt, 140);
	ck_assert_int_lt(dt, 2000);

	/* Part of a message arrives, then nothing: the timeout still holds. */
	write_hdr(sv[0], 20);
	ck_assert_int_eq(write(sv[0], "{\"a\"", 4), 4);
	t0 = now_ms();
	errno = 0;
	ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 150), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_int_lt(dt, 2000);
	/* And the socket's blocking mode is as it was. */
	ck_assert_int_eq(fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
	close(sv[0]);
	close(sv[1]);

	/* A reply may exceed the request cap; one over the reply cap is refused. */
	pair(sv, 0);
	{
		size_t big = CTLMSG_MAX * 4;
		char *body = malloc(big);
		pid_t pid;

		ck_assert_ptr_nonnull(body);
		memset(body, ' ', big);
		memcpy(body, "{\"big\":true}", 12);
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			_exit(ctlmsg_send(sv[0], body, big) == 0 ? 0 : 1);
		}
		ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 5000), 0);
		ck_assert_uint_eq(outlen, big);
		ck_assert(memcmp(out, body, big) == 0);
		ck_assert_int_eq(out[big], '\0');
		free(out);
		out = NULL;
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		free(body);
	}
	write_hdr(sv[0], CTLMSG_REPLY_MAX + 1);
	errno = 0;
	ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 1000), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_ptr_null(out);
	close(sv[0]);
	close(sv[1]);

	/* Half a header only. */
	pair(sv, 0);
	ck_assert_int_eq(write(sv[0], "\0\0", 2), 2);
	errno = 0;
	ck_assert_int_eq(ctlmsg_recv(sv[1], &out, &outlen, 150), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static cJSON *
parse_body(const char *body, size_t len)
{
	struct ctlmsg_in in;
	cJSON *o;

	memset(&in, 0, sizeof(in));
	in.body = malloc(len + 1);
	ck_assert_ptr_nonnull(in.body);
	memcpy(in.body, body, len);
	in.body[len] = '\0';
	in.bodylen = (uint32_t)len;
	in.have = len;
	in.hdrlen = 4;
	o = ctlmsg_parse(&in);
	ctlmsg_in_reset(&in);
	return o;
}

START_TEST(test_ctlmsg_parse)
{
	static const char *const bad[] = {
		"[1]", "1", "\"s\"", "null", "true", "garbage", "{", "}",
		"{\"a\":}", "{}x", "{}{}", "{\"a\":1,}", "[]",
	};
	size_t i;
	cJSON *o;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = parse_body(bad[i], strlen(bad[i]));
		ck_assert_msg(o == NULL, "ctlmsg_parse accepted %s", bad[i]);
	}
	/* A NUL inside the body: the bytes after it are not JSON either. */
	o = parse_body("{}\0junk", 7);
	ck_assert_msg(o == NULL, "ctlmsg_parse accepted {}\\0junk");
	o = parse_body("{\"a\":1}\0", 8);
	ck_assert_ptr_null(o);
	o = parse_body(" {\"a\":{\"b\":[1]}} \n", 18);
	ck_assert_ptr_nonnull(o);
	ck_assert(cJSON_IsObject(o));
	cJSON_Delete(o);
	o = parse_body("{}", 2);
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_ctlmsg_get_uint)
{
	static const char js[] = "{\"s\":\"5\",\"neg\":-1,\"frac\":1.5,"
	    "\"big\":1e20,\"ok\":42,\"zero\":0,\"exp\":4.2e1,"
	    "\"max32\":4294967295,\"over32\":4294967296,\"b\":true,\"n\":null,"
	    "\"arr\":[1],\"obj\":{},\"p53\":9007199254740992,"
	    "\"p53p1\":9007199254740993,\"tiny\":1e-300,\"negz\":-0.5}";
	uint64_t v;
	cJSON *o;

	o = cJSON_Parse(js);
	ck_assert_ptr_nonnull(o);
	v = 7;
	ck_assert_int_eq(ctlmsg_get_uint(o, "ok", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(ctlmsg_get_uint(o, "exp", 0, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(ctlmsg_get_uint(o, "ok", 42, 42, &v), 0);
	ck_assert_int_eq(ctlmsg_get_uint(o, "zero", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(ctlmsg_get_uint(o, "max32", 1, DURATION_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT32_MAX);
	v = 7;
	ck_assert_int_eq(ctlmsg_get_uint(o, "zero", 1, 10, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "ok", 43, 100, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "ok", 0, 41, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "over32", 1, DURATION_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "s", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "neg", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "negz", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "frac", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "tiny", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "big", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "b", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "n", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "arr", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "obj", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "missing", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "OK", 0, UINT64_MAX, &v), -1);
	/* 2^53 + 1 arrives as the double 2^53: it cannot be taken as exact. */
	ck_assert_int_eq(ctlmsg_get_uint(o, "p53p1", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(ctlmsg_get_uint(o, "p53", 0, UINT64_MAX, &v), -1);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(ctlmsg_get_uint(NULL, "ok", 0, UINT64_MAX, &v), -1);
	cJSON_Delete(o);
}
END_TEST

/* -------------------------------------------------------------- agentproto */

/* argv[0] is a path; stdout goes to out (if any), stdin and stderr elsewhere. */
static int
run(const char *const argv[], char *out, size_t outlen)
{
	char *v[16], *env[4], *buf;
	size_t have = 0, i;
	int p[2], status, devnull;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		for (i = 0; argv[i] != NULL && i < 15; i++)
			v[i] = strdup(argv[i]);
		v[i] = NULL;
		env[0] = strdup("PATH=/usr/bin:/bin");
		(void)!asprintf(&env[1], "HOME=%s", tmpdir);
		(void)!asprintf(&env[2], "SSH_AUTH_SOCK=%s/agent.sock", tmpdir);
		env[3] = NULL;
		devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(p[1], 1);
		closefrom(3);
		execve(v[0], v, env);
		_exit(127);
	}
	close(p[1]);
	buf = out;
	for (;;) {
		char junk[256];

		if (buf != NULL && have + 1 < outlen)
			n = read(p[0], buf + have, outlen - 1 - have);
		else
			n = read(p[0], junk, sizeof(junk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf != NULL && have + 1 < outlen)
			have += (size_t)n;
	}
	if (buf != NULL)
		buf[have] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Starts ssh-agent -D on path; returns once it listens (it says so on stdout). */
static void
start_agent(const char *sock)
{
	char buf[512];
	size_t have = 0;
	int p[2], nl = 0, devnull;
	ssize_t n;
	char *env[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	agent_pid = fork();
	ck_assert_int_ne(agent_pid, -1);
	if (agent_pid == 0) {
		char *v[5];

		/* Dies with the test process even if an assertion ends it. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		v[0] = strdup("/usr/bin/ssh-agent");
		v[1] = strdup("-D");
		v[2] = strdup("-a");
		v[3] = strdup(sock);
		v[4] = NULL;
		env[0] = strdup("PATH=/usr/bin:/bin");
		env[1] = NULL;
		devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 2);
		dup2(p[1], 1);
		closefrom(3);
		execve(v[0], v, env);
		_exit(127);
	}
	close(p[1]);
	agent_out = p[0];
	while (nl < 2 && have < sizeof(buf) - 1) {
		n = read(agent_out, buf + have, sizeof(buf) - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "ssh-agent exited early");
		buf[have + (size_t)n] = '\0';
		for (; n > 0; n--)
			nl += buf[have++] == '\n';
	}
	ck_assert_msg(strstr(buf, "SSH_AUTH_SOCK=") != NULL, "ssh-agent: %s",
	    buf);
}

struct testkey {
	const char	*type;
	const char	*bits;
	const char	*name;
	const char	*want_type;
	char		 fp[128];
};

START_TEST(test_agentproto_list)
{
	struct testkey keys[] = {
		{ "ed25519", NULL, "ed25519", "ssh-ed25519", "" },
		{ "ecdsa", "256", "ecdsa256", "ecdsa-sha2-nistp256", "" },
		{ "ecdsa", "384", "ecdsa384", "ecdsa-sha2-nistp384", "" },
		{ "ecdsa", "521", "ecdsa521", "ecdsa-sha2-nistp521", "" },
		{ "rsa", "2048", "rsa2048", "ssh-rsa", "" },
	};
	enum { NK = sizeof(keys) / sizeof(keys[0]) };
	const char *add[NK + 3];
	char *paths[NK], *pub, *sock, out[512], *cause = NULL;
	struct agentproto_key *got = NULL;
	size_t ngot = 99, i, j;
	int seen[NK];

	sock = tmppath("agent.sock");
	for (i = 0; i < NK; i++) {
		const char *argv[14];
		size_t a = 0;

		paths[i] = tmppath(keys[i].name);
		argv[a++] = "/usr/bin/ssh-keygen";
		argv[a++] = "-q";
		argv[a++] = "-t";
		argv[a++] = keys[i].type;
		if (keys[i].bits != NULL) {
			argv[a++] = "-b";
			argv[a++] = keys[i].bits;
		}
		argv[a++] = "-N";
		argv[a++] = "";
		argv[a++] = "-C";
		argv[a++] = keys[i].name;
		argv[a++] = "-f";
		argv[a++] = paths[i];
		argv[a] = NULL;
		ck_assert_int_eq(run(argv, NULL, 0), 0);

		ck_assert_int_ne(asprintf(&pub, "%s.pub", paths[i]), -1);
		argv[0] = "/usr/bin/ssh-keygen";
		argv[1] = "-lf";
		argv[2] = pub;
		argv[3] = NULL;
		ck_assert_int_eq(run(argv, out, sizeof(out)), 0);
		/* "256 SHA256:... comment (ED25519)": the second field. */
		ck_assert_int_eq(sscanf(out, "%*s %127s", keys[i].fp), 1);
		ck_assert_int_eq((int)strlen(keys[i].fp), AGENTPROTO_FP_LEN);
		free(pub);
	}

	start_agent(sock);

	/* An empty agent. */
	ck_assert_msg(agentproto_list(sock, 2000, &got, &ngot, &cause) == 0,
	    "agentproto_list: %s", cause);
	ck_assert_uint_eq(ngot, 0);
	free(got);
	got = NULL;

	add[0] = "/usr/bin/ssh-add";
	add[1] = "-q";
	for (i = 0; i < NK; i++)
		add[2 + i] = paths[i];
	add[2 + NK] = NULL;
	ck_assert_int_eq(run(add, NULL, 0), 0);

	ck_assert_msg(agentproto_list(sock, 2000, &got, &ngot, &cause) == 0,
	    "agentproto_list: %s", cause);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(ngot, NK);
	memset(seen, 0, sizeof(seen));
	for (j = 0; j < ngot; j++) {
		for (i = 0; i < NK; i++) {
			if (strcmp(got[j].fingerprint, keys[i].fp) == 0)
				break;
		}
		ck_assert_msg(i < NK, "unexpected key %s %s", got[j].type,
		    got[j].fingerprint);
		ck_assert_int_eq(seen[i], 0);
		seen[i] = 1;
		ck_assert_str_eq(got[j].type, keys[i].want_type);
	}
	free(got);

	for (i = 0; i < NK; i++)
		free(paths[i]);
	free(sock);
	/* cleanup() kills and reaps the agent and removes the directory. */
}
END_TEST

START_TEST(test_agentproto_nosock)
{
	struct agentproto_key *got = NULL;
	size_t ngot = 0;
	char *cause = NULL, *sock, *longp;

	sock = tmppath("no-such.sock");
	errno = 0;
	ck_assert_int_eq(agentproto_list(sock, 1000, &got, &ngot, &cause), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, sock) != NULL, "cause: %s", cause);
	ck_assert_ptr_null(got);
	free(cause);
	cause = NULL;

	/* Too long for sun_path. */
	longp = malloc(300);
	ck_assert_ptr_nonnull(longp);
	memset(longp, 'a', 299);
	longp[0] = '/';
	longp[299] = '\0';
	ck_assert_int_eq(agentproto_list(longp, 1000, &got, &ngot, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	free(longp);
	free(sock);
}
END_TEST

static int
listen_at(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* A one-shot agent that answers the request with reply. */
static int
fake_agent(const char *sock, const unsigned char *reply, size_t len)
{
	struct agentproto_key *got = NULL;
	size_t ngot = 0;
	char *cause = NULL;
	unsigned char req[5];
	int lfd, c, r, saved, status;
	pid_t pid;

	lfd = listen_at(sock);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if ((c = accept(lfd, NULL, NULL)) == -1 ||
		    read(c, req, 5) != 5 || req[4] != 11)
			_exit(1);
		if (len > 0 && write(c, reply, len) != (ssize_t)len)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(lfd);
	r = agentproto_list(sock, 2000, &got, &ngot, &cause);
	saved = errno;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(sock);
	if (r == 0) {
		ck_assert_ptr_null(cause);
		free(got);
		return (int)ngot;
	}
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, sock) != NULL, "cause: %s", cause);
	free(cause);
	errno = saved;
	return -1;
}

START_TEST(test_agentproto_fake)
{
	static const unsigned char empty[] = { 0, 0, 0, 5, 12, 0, 0, 0, 0 };
	static const unsigned char failure[] = { 0, 0, 0, 1, 5 };
	static const unsigned char huge[] = { 0, 4, 0, 1, 12 };
	static const unsigned char zero[] = { 0, 0, 0, 0, 12 };
	static const unsigned char trailing[] = { 0, 0, 0, 6, 12, 0, 0, 0, 0, 9 };
	static const unsigned char cut[] = { 0, 0, 0, 9, 12, 0, 0, 0 };
	char *sock;

	sock = tmppath("fake.sock");
	ck_assert_int_eq(fake_agent(sock, empty, sizeof(empty)), 0);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, failure, sizeof(failure)), -1);
	ck_assert_int_eq(errno, EBADMSG);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, huge, sizeof(huge)), -1);
	ck_assert_int_eq(errno, EBADMSG);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, zero, sizeof(zero)), -1);
	ck_assert_int_eq(errno, EBADMSG);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, trailing, sizeof(trailing)), -1);
	ck_assert_int_eq(errno, EBADMSG);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, cut, sizeof(cut)), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	errno = 0;
	ck_assert_int_eq(fake_agent(sock, NULL, 0), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	free(sock);
}
END_TEST

START_TEST(test_agentproto_timeout)
{
	struct agentproto_key *got = NULL;
	size_t ngot = 0;
	char *cause = NULL, *sock;
	long long t0, dt;
	int lfd;

	/* Listens but never answers. */
	sock = tmppath("mute.sock");
	lfd = listen_at(sock);
	t0 = now_ms();
	errno = 0;
	ck_assert_int_eq(agentproto_list(sock, 200, &got, &ngot, &cause), -1);
	dt = now_ms() - t0;
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_ge(dt, 190);
	ck_assert_int_lt(dt, 2000);
	ck_assert_ptr_nonnull(cause);
	ck_assert(strstr(cause, sock) != NULL);
	free(cause);
	close(lfd);
	free(sock);
}
END_TEST

/* Appends an SSH string. */
static size_t
put_str(unsigned char *p, const void *s, size_t len)
{
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	memcpy(p + 4, s, len);
	return 4 + len;
}

static size_t
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

/* A two-key IDENTITIES_ANSWER body; returns its length. */
static size_t
make_body(unsigned char *b)
{
	unsigned char blob[160], pk[65];
	size_t n = 0, bl;

	/* Shaped like real public keys: type, then the key's own fields. */
	n += put_u32(b + n, 2);
	bl = put_str(blob, "ssh-ed25519", 11);
	memset(pk, 0xab, 32);
	bl += put_str(blob + bl, pk, 32);
	n += put_str(b + n, blob, bl);
	n += put_str(b + n, "first", 5);
	bl = put_str(blob, "ecdsa-sha2-nistp256", 19);
	bl += put_str(blob + bl, "nistp256", 8);
	pk[0] = 0x04;
	memset(pk + 1, 0xcd, 64);
	bl += put_str(blob + bl, pk, 65);
	n += put_str(b + n, blob, bl);
	n += put_str(b + n, "", 0);
	return n;
}

/* Parses an exact-size heap copy, so that ASan sees any read past the end. */
static int
parse_copy(const unsigned char *body, size_t len, struct agentproto_key **keys,
    size_t *nkeys)
{
	unsigned char *copy;
	int r, saved;

	copy = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, body, len);
	errno = 0;
	r = agentproto_parse_identities(copy, len, keys, nkeys);
	saved = errno;
	free(copy);
	errno = saved;
	return r;
}

static void
expect_bad(const unsigned char *body, size_t len)
{
	struct agentproto_key *keys = NULL;
	size_t n = 77;

	ck_assert_msg(parse_copy(body, len, &keys, &n) == -1,
	    "accepted a bad body of %zu bytes", len);
	ck_assert_int_eq(errno, EBADMSG);
	ck_assert_ptr_null(keys);
	ck_assert_uint_eq(n, 77);
}

START_TEST(test_agentproto_parse)
{
	unsigned char b[512], blob[128], name[AGENTPROTO_TYPE_MAX];
	char fp[AGENTPROTO_FP_LEN + 1];
	struct agentproto_key *keys = NULL;
	size_t len, n = 0, i, bl;

	len = make_body(b);
	ck_assert_int_eq(parse_copy(b, len, &keys, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(keys[0].type, "ssh-ed25519");
	ck_assert_str_eq(keys[1].type, "ecdsa-sha2-nistp256");
	ck_assert_int_eq((int)strlen(keys[0].fingerprint), AGENTPROTO_FP_LEN);
	ck_assert(strncmp(keys[0].fingerprint, "SHA256:", 7) == 0);
	ck_assert_str_ne(keys[0].fingerprint, keys[1].fingerprint);
	free(keys);
	keys = NULL;

	/* The fingerprint of the empty blob is a known SHA-256. */
	agentproto_fingerprint((const unsigned char *)"", 0, fp);
	ck_assert_str_eq(fp, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");

	/* Empty list. */
	ck_assert_int_eq(parse_copy((const unsigned char *)"\0\0\0\0", 4, &keys,
	    &n), 0);
	ck_assert_uint_eq(n, 0);
	free(keys);
	keys = NULL;

	/* Every truncation. */
	for (i = 0; i < len; i++)
		expect_bad(b, i);
	/* Trailing bytes. */
	b[len] = 0;
	expect_bad(b, len + 1);
	memset(b + len, 0, 8);
	expect_bad(b, len + 8);
	/* A count larger than the data, or absurd. */
	put_u32(b, 3);
	expect_bad(b, len);
	put_u32(b, UINT32_MAX);
	expect_bad(b, len);
	put_u32(b, 1);
	expect_bad(b, len);
	put_u32(b, 2);
	/* A string length past the end, at each length field. */
	{
		size_t off[4], k = 0, pos = 4;
		uint32_t sl;
		unsigned char save[4];

		for (i = 0; i < 4; i++) {
			off[k++] = pos;
			sl = (uint32_t)b[pos] << 24 | (uint32_t)b[pos + 1] << 16 |
			    (uint32_t)b[pos + 2] << 8 | b[pos + 3];
			pos += 4 + sl;
		}
		ck_assert_uint_eq(pos, len);
		for (i = 0; i < 4; i++) {
			memcpy(save, b + off[i], 4);
			put_u32(b + off[i], (uint32_t)(len - off[i] - 4 + 1));
			expect_bad(b, len);
			put_u32(b + off[i], UINT32_MAX);
			expect_bad(b, len);
			put_u32(b + off[i], 0x80000000u);
			expect_bad(b, len);
			memcpy(b + off[i], save, 4);
		}
		ck_assert_int_eq(parse_copy(b, len, &keys, &n), 0);
		free(keys);
		keys = NULL;
	}
	/* Blobs whose type is malformed. */
	len = put_u32(b, 1);
	bl = put_str(blob, "", 0);			/* empty type */
	len += put_str(b + len, blob, bl);
	len += put_str(b + len, "c", 1);
	expect_bad(b, len);
	len = put_u32(b, 1);
	len += put_str(b + len, "", 0);			/* empty blob */
	len += put_str(b + len, "c", 1);
	expect_bad(b, len);
	len = put_u32(b, 1);
	bl = put_str(blob, "ssh rsa", 7);		/* space in type */
	len += put_str(b + len, blob, bl);
	len += put_str(b + len, "c", 1);
	expect_bad(b, len);
	len = put_u32(b, 1);
	put_u32(blob, 40);				/* type past the blob */
	memcpy(blob + 4, "ssh-ed25519", 11);
	len += put_str(b + len, blob, 15);
	len += put_str(b + len, "c", 1);
	expect_bad(b, len);
	len = put_u32(b, 1);
	memset(name, 'a', sizeof(name));
	bl = put_str(blob, name, AGENTPROTO_TYPE_MAX);		/* too long */
	len += put_str(b + len, blob, bl);
	len += put_str(b + len, "c", 1);
	expect_bad(b, len);
	expect_bad(b, 0);
	expect_bad(b, 3);
}
END_TEST

/* A test case with its directory (case_setup) and one per test in it. */
static TCase *
util_tcase(const char *name, int timeout)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

static Suite *
util_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("util");

	tc = util_tcase("duration", 30);
	tcase_add_test(tc, test_duration_valid);
	tcase_add_test(tc, test_duration_invalid);
	tcase_add_test(tc, test_duration_range);
	tcase_add_test(tc, test_duration_format);
	suite_add_tcase(s, tc);

	tc = util_tcase("ids", 30);
	tcase_add_test(tc, test_ids_new);
	tcase_add_test(tc, test_ids_valid);
	suite_add_tcase(s, tc);

	tc = util_tcase("jsonw", 30);
	tcase_add_test(tc, test_jsonw_order);
	tcase_add_test(tc, test_jsonw_ints);
	tcase_add_test(tc, test_jsonw_escape);
	tcase_add_test(tc, test_jsonw_cjson);
	tcase_add_test(tc, test_jsonw_nested);
	tcase_add_test(tc, test_jsonw_large);
	suite_add_tcase(s, tc);

	tc = util_tcase("timefmt", 30);
	tcase_add_test(tc, test_timefmt_format);
	tcase_add_test(tc, test_timefmt_roundtrip);
	tcase_add_test(tc, test_timefmt_parse);
	suite_add_tcase(s, tc);

	tc = util_tcase("procinfo", 30);
	tcase_add_test(tc, test_procinfo_self);
	tcase_add_test(tc, test_procinfo_caller);
	tcase_add_test(tc, test_procinfo_child);
	tcase_add_test(tc, test_procinfo_comm);
	tcase_add_test(tc, test_procinfo_boot_id);
	suite_add_tcase(s, tc);

	tc = util_tcase("ctlmsg", 30);
	tcase_add_test(tc, test_ctlmsg_roundtrip);
	tcase_add_test(tc, test_ctlmsg_bytewise);
	tcase_add_test(tc, test_ctlmsg_max);
	tcase_add_test(tc, test_ctlmsg_eof);
	tcase_add_test(tc, test_ctlmsg_recv);
	tcase_add_test(tc, test_ctlmsg_parse);
	tcase_add_test(tc, test_ctlmsg_get_uint);
	suite_add_tcase(s, tc);

	tc = util_tcase("agentproto", 60);
	tcase_add_test(tc, test_agentproto_parse);
	tcase_add_test(tc, test_agentproto_nosock);
	tcase_add_test(tc, test_agentproto_fake);
	tcase_add_test(tc, test_agentproto_timeout);
	tcase_add_test(tc, test_agentproto_list);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(util_suite());
}
