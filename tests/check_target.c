/* Unit tests for lib/target.c: which session a word names. */
#include <string.h>

#include <check.h>

#include "target.h"
#include "checkrun.h"

#define C(id, label, active) { id, sizeof(id) - 1, label, \
	sizeof(label) - 1, active }
#define CN(id, active) { id, sizeof(id) - 1, NULL, 0, active }

static const struct target_cand cands[] = {
	C("zaf45kq0000000000000000001", "codex-openclaw", true),
	C("zaf45kq0000000000000000002", "codex-openclaw", false),
	C("zb00000000000000000000000a", "deploy", true),
	C("zb00000000000000000000000b", "deploy", true),
	CN("c1", true),
	C("c10", "c1x", true),
	C("c2", "zaf", true),
};
#define N	(sizeof(cands) / sizeof(cands[0]))

static size_t
match(const char *word, size_t *idx, size_t max)
{
	return target_match(word, strlen(word), cands, N, idx, max);
}

START_TEST(test_exact_and_prefix)
{
	size_t idx[4];

	/* A unique prefix names one session. */
	ck_assert_uint_eq(match("zaf45kq0000000000000000001", idx, 4), 1);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(match("zaf45kq0000000000000000002", idx, 4), 1);
	ck_assert_uint_eq(idx[0], 1);
	/* A shared prefix is ambiguous: both listed, in order. */
	ck_assert_uint_eq(match("zaf45", idx, 4), 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	/* An exact id wins over the longer ids it prefixes. */
	ck_assert_uint_eq(match("c1", idx, 4), 1);
	ck_assert_uint_eq(idx[0], 4);
	ck_assert_uint_eq(match("nothing", idx, 4), 0);
	ck_assert_uint_eq(match("", idx, 4), 0);
}
END_TEST

START_TEST(test_label)
{
	size_t idx[4];

	/* A label names the one active session that carries it. */
	ck_assert_uint_eq(match("codex-openclaw", idx, 4), 1);
	ck_assert_uint_eq(idx[0], 0);
	/* Two active sessions with one label: ambiguous. */
	ck_assert_uint_eq(match("deploy", idx, 4), 2);
	ck_assert_uint_eq(idx[0], 2);
	ck_assert_uint_eq(idx[1], 3);
	/* A word that is both a prefix and a label: every match counts. */
	ck_assert_uint_eq(match("zaf", idx, 4), 3);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	ck_assert_uint_eq(idx[2], 6);
	/* Only max indexes are written; the count is still whole. */
	idx[1] = 99;
	ck_assert_uint_eq(match("zaf", idx, 1), 3);
	ck_assert_uint_eq(idx[1], 99);
	ck_assert_uint_eq(match("zaf", NULL, 0), 3);
}
END_TEST

static Suite *
target_suite(void)
{
	Suite	*s = suite_create("target");
	TCase	*tc = tcase_create("target");

	tcase_add_test(tc, test_exact_and_prefix);
	tcase_add_test(tc, test_label);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(target_suite());
}
