/* Unit tests for auditevent (line parser), auditfold (per-session rows) and
 * audithist (exact percentiles). Check fork mode: each test is isolated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "auditevent.h"
#include "auditfold.h"
#include "audithist.h"
#include "checkrun.h"

_Static_assert(sizeof(struct auditfold_row) <= 256, "a row is compact");

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"

static int
parse(const char *line, struct auditevent *ev, const char **why)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", line);
	*why = NULL;
	return auditevent_parse(buf, strlen(buf), ev, why);
}

static void
bad(const char *line, const char *want)
{
	struct auditevent ev;
	const char *why;

	ck_assert_msg(parse(line, &ev, &why) == -1, "accepted: %s", line);
	ck_assert_ptr_nonnull(why);
	if (want != NULL)
		ck_assert_msg(strstr(why, want) != NULL, "%s: why '%s'", line, why);
}

START_TEST(test_parse_daemon_line)
{
	struct auditevent ev;
	const char *why;

	ck_assert_int_eq(parse("{\"v\":1,\"seq\":9007199254740993,\"ts\":"
	    "\"2026-11-23T11:06:33.123456Z\",\"event\":\"created\",\"session\":"
	    "\"abc\",\"label\":\"a\\\"b\\u00e9\\ud83d\\ude00\",\"uid\":0,"
	    "\"ttl_s\":3600,\"key_ttl_s\":60,\"extra\":{\"x\":[1,2,{\"y\":null}]},"
	    "\"prev\":\"" Z64 "\"}", &ev, &why), 0);
	ck_assert_uint_eq(ev.v, 1);
	ck_assert_uint_eq(ev.seq, 9007199254740993ULL);	/* not a double */
	ck_assert_int_eq(ev.kind, AUDITEVENT_CREATED);
	ck_assert_int_eq(ev.ts_us, 1795431993123456LL);
	ck_assert(ev.ts_exact);
	ck_assert(ev.order_ok);
	ck_assert_uint_eq(ev.session.len, 3);
	ck_assert_uint_eq(ev.label.len, 9);
	ck_assert(memcmp(ev.label.p, "a\"b\xc3\xa9\xf0\x9f\x98\x80", 9) == 0);
	ck_assert_uint_eq(ev.ttl_s, 3600);
	ck_assert_uint_eq(ev.key_ttl_s, 60);
	ck_assert(ev.has & AUDITEVENT_TTL);
	ck_assert_uint_eq(ev.prev.len, 64);
}
END_TEST

START_TEST(test_parse_null_session_and_order)
{
	struct auditevent ev;
	const char *why;

	ck_assert_int_eq(parse("{\"seq\":1,\"v\":1,\"ts\":\"2026-01-01T00:00:00Z\","
	    "\"event\":\"new_thing\",\"session\":null,\"prev\":\"x\",\"z\":1}",
	    &ev, &why), 0);
	ck_assert_ptr_null(ev.session.p);
	ck_assert_int_eq(ev.kind, AUDITEVENT_OTHER);
	ck_assert(!ev.order_ok);
	ck_assert(!ev.ts_exact);
}
END_TEST

START_TEST(test_parse_rejects)
{
	const char *h = "{\"v\":1,\"seq\":1,\"ts\":\"2026-01-01T00:00:00.000000Z\","
	    "\"event\":\"e\",\"session\":\"s\"";
	char line[512];

	bad("", "not a JSON object");
	bad("[1]", "not a JSON object");
	bad("{\"v\":1}", "missing field seq");
	snprintf(line, sizeof(line), "%s}", h);
	bad(line, "missing field prev");
	snprintf(line, sizeof(line), "%s,\"prev\":\"p\",}", h);
	bad(line, "expected a key");
	snprintf(line, sizeof(line), "%s,\"prev\":\"p\"} x", h);
	bad(line, "bytes after");
	snprintf(line, sizeof(line), "%s,\"prev\":\"p\",\"seq\":2}", h);
	bad(line, "duplicate");
	snprintf(line, sizeof(line), "%s,\"ttl_s\":1.5,\"prev\":\"p\"}", h);
	bad(line, "seconds field");
	snprintf(line, sizeof(line), "%s,\"ttl_s\":-1,\"prev\":\"p\"}", h);
	bad(line, "seconds field");
	snprintf(line, sizeof(line), "%s,\"ok\":1,\"prev\":\"p\"}", h);
	bad(line, "boolean");
	snprintf(line, sizeof(line), "%s,\"label\":\"\xff\",\"prev\":\"p\"}", h);
	bad(line, "UTF-8");
	snprintf(line, sizeof(line), "%s,\"label\":\"\\ud800\",\"prev\":\"p\"}", h);
	bad(line, "surrogate");
	snprintf(line, sizeof(line), "%s,\"label\":\"a\tb\",\"prev\":\"p\"}", h);
	bad(line, "control");
	snprintf(line, sizeof(line), "%s,\"x\":[1,,2],\"prev\":\"p\"}", h);
	bad(line, NULL);
	snprintf(line, sizeof(line), "%s,\"x\":01,\"prev\":\"p\"}", h);
	bad(line, NULL);
	snprintf(line, sizeof(line), "%s,\"x\":tru,\"prev\":\"p\"}", h);
	bad(line, "literal");
	bad("{\"v\":1,\"seq\":99999999999999999999,\"ts\":\"2026-01-01T00:00:00Z\","
	    "\"event\":\"e\",\"session\":null,\"prev\":\"p\"}", "seq");
	bad("{\"v\":1,\"seq\":1,\"ts\":\"2026-02-30T00:00:00Z\","
	    "\"event\":\"e\",\"session\":null,\"prev\":\"p\"}", "ts");
	bad("{\"v\":1,\"seq\":1,\"ts\":\"2026-01-01T00:00:00+01:00\","
	    "\"event\":\"e\",\"session\":null,\"prev\":\"p\"}", "ts");
}
END_TEST

START_TEST(test_parse_time)
{
	int64_t us;

	ck_assert_int_eq(auditevent_parse_time("1970-01-01T00:00:00Z", 20, &us), 0);
	ck_assert_int_eq(us, 0);
	ck_assert_int_eq(auditevent_parse_time("2024-02-29T23:59:59.5Z", 22, &us), 0);
	ck_assert_int_eq(us, 1709251199500000LL);
	ck_assert_int_eq(auditevent_parse_time("2023-02-29T00:00:00Z", 20, &us), -1);
	ck_assert_int_eq(auditevent_parse_time("2026-01-01T00:00:00.Z", 21, &us), -1);
	ck_assert_int_eq(auditevent_parse_time("2026-01-01T24:00:00Z", 20, &us), -1);
}
END_TEST

/* Folds text (lines of JSON) from a pipe; returns the fold. */
static uint64_t	warned[16];
static size_t	nwarned;

static void
warn(void *arg, uint64_t lineno, const char *why)
{
	(void)arg;
	(void)why;
	if (nwarned < 16)
		warned[nwarned++] = lineno;
}

static struct auditfold *
fold_text(const char *text, auditfold_end_cb cb, void *arg)
{
	struct auditfold *f;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	ck_assert_ptr_nonnull(f = auditfold_new(cb, arg));
	nwarned = 0;
	ck_assert_int_eq(auditfold_read_fd(f, p[0], warn, NULL), 0);
	close(p[0]);
	return f;
}

#define L(seq, t, ev, sess, rest) "{\"v\":1,\"seq\":" #seq ",\"ts\":\"2026-01-01T00:" \
	t "Z\",\"event\":\"" ev "\",\"session\":\"" sess "\"" rest ",\"prev\":\"p\"}\n"

static const char *session_log =
	L(1, "00:00.000000", "created", "s1", ",\"label\":\"web\",\"ttl_s\":60,\"key_ttl_s\":30")
	L(2, "00:01.000000", "created", "s2", ",\"label\":\"db\",\"ttl_s\":10")
	L(3, "00:02.500000", "key_loaded", "s1", ",\"fingerprint\":\"SHA256:x\"")
	L(4, "00:03.000000", "key_used", "s1", ",\"ok\":true")
	L(5, "00:04.000000", "key_used", "s1", ",\"ok\":false")
	L(6, "00:05.000000", "key_used", "s1", ",\"ok\":true,\"future\":[1]")
	"not json\n"
	L(8, "00:11.000000", "stopped", "s2", ",\"exit_reason\":\"ttl_expired\",\"duration_s\":10")
	L(9, "00:20.000000", "crashed", "s1", ",\"exit_reason\":\"agent_killed\","
	    "\"duration_s\":20,\"exit_code\":null,\"signal\":9,\"core_dumped\":false")
	L(10, "00:21.000000", "key_used", "s1", ",\"ok\":true")
	L(11, "00:22.000000", "created", "s2", "")
	L(12, "00:23.000000", "created", "s3", ",\"label\":\"web\",\"ttl_s\":60")
	"{\"v\":1,\"torn";

START_TEST(test_fold_rows)
{
	const struct auditfold_row *r;
	struct auditfold *f = fold_text(session_log, NULL, NULL);
	const char *s;
	size_t len;

	ck_assert_uint_eq(auditfold_nrows(f), 3);
	/* Warned: the bad line, an event after the end, a second created, torn. */
	ck_assert_uint_eq(nwarned, 4);
	ck_assert_uint_eq(warned[0], 7);
	ck_assert_uint_eq(warned[1], 10);
	ck_assert_uint_eq(warned[2], 11);
	ck_assert_uint_eq(warned[3], 13);
	r = auditfold_find(f, "s1", 2);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->state, AUDITFOLD_CRASHED);
	ck_assert_uint_eq(r->ttl_s, 60);
	ck_assert_uint_eq(r->key_ttl_s, 30);
	ck_assert_uint_eq(r->keys_loaded, 1);
	ck_assert_uint_eq(r->key_uses, 3);
	ck_assert_uint_eq(r->signatures, 2);
	ck_assert_uint_eq(r->duration_s, 20);
	ck_assert_int_eq(r->signal, 9);
	ck_assert(r->flags & AUDITFOLD_HAS_SIGNAL);
	ck_assert(!(r->flags & AUDITFOLD_HAS_EXIT_CODE));
	ck_assert_int_eq(r->first_key_us - r->created_us, 2500000);
	ck_assert_int_eq(r->last_use_us - r->created_us, 5000000);
	s = auditfold_str(f, r->exit_reason, &len);
	ck_assert(len == 12 && memcmp(s, "agent_killed", 12) == 0);
	/* Labels are interned: s1 and s3 share one. */
	ck_assert_uint_eq(r->label, auditfold_find(f, "s3", 2)->label);
	r = auditfold_row(f, 1);
	ck_assert(r->idlen == 2 && memcmp(r->id, "s2", 2) == 0);
	ck_assert_int_eq(r->state, AUDITFOLD_STOPPED);
	r = auditfold_row(f, 2);
	ck_assert_int_eq(r->state, AUDITFOLD_OPEN);
	ck_assert_ptr_null(auditfold_find(f, "s4", 2));
	ck_assert_uint_eq(auditfold_stats(f)->lines, 13);
	ck_assert_uint_eq(auditfold_stats(f)->bad_lines, 4);
	auditfold_free(f);
}
END_TEST

static void
count_end(const struct auditfold *f, const struct auditfold_row *r, void *arg)
{
	(void)f;
	(void)r;
	(*(int *)arg)++;
}

/* Drop-ended mode: memory follows the sessions open at once. */
START_TEST(test_fold_drop_ended)
{
	struct auditfold *f;
	char *text, *p;
	size_t i, n = 20000;
	int ended = 0;

	ck_assert_ptr_nonnull(text = malloc(n * 2 * 200));
	p = text;
	for (i = 0; i < n; i++) {
		p += sprintf(p, "{\"v\":1,\"seq\":%zu,\"ts\":\"2026-01-01T00:00:00Z\","
		    "\"event\":\"created\",\"session\":\"s%zu\",\"ttl_s\":5,"
		    "\"prev\":\"p\"}\n", 2 * i + 1, i);
		if (i >= 3)
			p += sprintf(p, "{\"v\":1,\"seq\":%zu,\"ts\":"
			    "\"2026-01-01T00:00:01Z\",\"event\":\"stopped\","
			    "\"session\":\"s%zu\",\"exit_reason\":\"requested\","
			    "\"prev\":\"p\"}\n", 2 * i + 2, i - 3);
	}
	/* A pipe holds 64 KiB: feed it from a child. */
	{
		int pp[2];
		pid_t pid;

		ck_assert_int_eq(pipe(pp), 0);
		if ((pid = fork()) == 0) {
			close(pp[0]);
			(void)!write(pp[1], text, (size_t)(p - text));
			_exit(0);
		}
		close(pp[1]);
		ck_assert_ptr_nonnull(f = auditfold_new(count_end, &ended));
		ck_assert_int_eq(auditfold_read_fd(f, pp[0], NULL, NULL), 0);
		close(pp[0]);
	}
	ck_assert_int_eq(ended, (int)n - 3);
	ck_assert_uint_le(auditfold_stats(f)->open_peak, 4);
	ck_assert_uint_le(auditfold_nrows(f), 4);
	auditfold_free(f);
	free(text);
}
END_TEST

START_TEST(test_fold_long_id)
{
	struct auditfold *f = fold_text(
	    L(1, "00:00.000000", "created", "0123456789012345678901234567890123456789X", ""),
	    NULL, NULL);

	ck_assert_uint_eq(nwarned, 1);
	ck_assert_uint_eq(auditfold_nrows(f), 0);
	auditfold_free(f);
}
END_TEST

/* host comes from created (a string only); skip_through leaves out what an
 * earlier file of the chain gave. */
START_TEST(test_fold_host_skip)
{
	static const char log[] =
	    L(1, "00:00.000000", "created", "a", ",\"host\":\"m1\",\"label\":\"x\"")
	    L(2, "00:01.000000", "created", "b", ",\"host\":7")
	    L(3, "00:02.000000", "egress_opened", "b", ",\"host\":\"github.com\"")
	    L(4, "00:03.000000", "created", "c", ",\"host\":\"m1\"");
	const struct auditfold_row *r;
	struct auditfold *f;
	struct auditevent ev;
	const char *s, *why;
	size_t len;
	int p[2];

	f = fold_text(log, NULL, NULL);
	ck_assert_uint_eq(auditfold_nrows(f), 3);
	r = auditfold_find(f, "a", 1);
	ck_assert_ptr_nonnull(s = auditfold_str(f, r->host, &len));
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(s, "m1", 2), 0);
	/* A host that is not a string is no host (and no parse error). */
	r = auditfold_find(f, "b", 1);
	ck_assert_uint_eq(r->host, AUDITFOLD_NO_STR);
	/* Another event's host is not the session's. */
	ck_assert_uint_eq(auditfold_find(f, "b", 1)->host, AUDITFOLD_NO_STR);
	ck_assert_uint_eq(auditfold_find(f, "c", 1)->host,
	    auditfold_find(f, "a", 1)->host);
	auditfold_free(f);
	ck_assert_int_eq(parse(L(3, "00:02.000000", "egress_opened", "b",
	    ",\"host\":\"github.com\""), &ev, &why), 0);
	ck_assert(ev.has & AUDITEVENT_HOST);

	/* Lines up to seq 2 were given by a file before. */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], log, strlen(log)), (ssize_t)strlen(log));
	close(p[1]);
	ck_assert_ptr_nonnull(f = auditfold_new(NULL, NULL));
	auditfold_skip_through(f, 2);
	ck_assert_int_eq(auditfold_read_fd(f, p[0], NULL, NULL), 0);
	close(p[0]);
	ck_assert_uint_eq(auditfold_nrows(f), 2);
	ck_assert_ptr_null(auditfold_find(f, "a", 1));
	ck_assert_ptr_nonnull(auditfold_find(f, "b", 1));
	ck_assert_ptr_nonnull(auditfold_find(f, "c", 1));
	ck_assert_uint_eq(auditfold_stats(f)->lines, 4);
	auditfold_free(f);
}
END_TEST

START_TEST(test_hist)
{
	struct audithist *h;
	uint64_t i, v, c;

	ck_assert_ptr_nonnull(h = audithist_new());
	for (i = 1; i <= 100; i++)
		ck_assert_int_eq(audithist_add(h, 101 - i), 0);
	ck_assert_int_eq(audithist_addn(h, 1000, 0), 0);
	ck_assert_int_eq(audithist_finish(h), 0);
	ck_assert_uint_eq(audithist_count(h), 100);
	ck_assert_uint_eq(audithist_quantile(h, 500), 50);
	ck_assert_uint_eq(audithist_quantile(h, 900), 90);
	ck_assert_uint_eq(audithist_quantile(h, 990), 99);
	ck_assert_uint_eq(audithist_quantile(h, 1000), 100);
	ck_assert_uint_eq(audithist_quantile(h, 0), 1);
	ck_assert_uint_eq(audithist_count_range(h, 10, 20), 10);
	ck_assert_uint_eq(audithist_ndistinct(h), 100);
	audithist_distinct(h, 0, &v, &c);
	ck_assert(v == 1 && c == 1);
	audithist_free(h);

	/* Nearest rank with repeats: 3 x 7 and 1 x 1000. */
	ck_assert_ptr_nonnull(h = audithist_new());
	ck_assert_int_eq(audithist_addn(h, 7, 3), 0);
	ck_assert_int_eq(audithist_add(h, 1000), 0);
	audithist_finish(h);
	ck_assert_uint_eq(audithist_quantile(h, 750), 7);
	ck_assert_uint_eq(audithist_quantile(h, 751), 1000);
	audithist_free(h);
}
END_TEST

static Suite *
auditfold_suite(void)
{
	Suite *s = suite_create("auditfold");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_daemon_line);
	tcase_add_test(tc, test_parse_null_session_and_order);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_parse_time);
	tcase_add_test(tc, test_fold_rows);
	tcase_add_test(tc, test_fold_drop_ended);
	tcase_add_test(tc, test_fold_long_id);
	tcase_add_test(tc, test_fold_host_skip);
	tcase_add_test(tc, test_hist);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(auditfold_suite());
}
