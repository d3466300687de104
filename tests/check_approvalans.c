/* Unit tests for lib/approvalans: a delegate's answers, good and bad. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "approvalans.h"
#include "checkrun.h"

static int
parse(const char *s, bool *ap, uint64_t *f)
{
	const char *why = NULL;
	int rc = approvalans_parse(s, strlen(s), ap, f, &why);

	ck_assert(rc == 0 || why != NULL);
	return rc;
}

START_TEST(test_good)
{
	bool ap;
	uint64_t f;

	ck_assert_int_eq(parse("{\"decision\":\"approve\"}", &ap, &f), 0);
	ck_assert(ap && f == 0);
	ck_assert_int_eq(parse(" {\"decision\": \"approve\", \"for_s\": 600, \"note\": 1}\n", &ap, &f), 0);
	ck_assert(ap && f == 600);
	ck_assert_int_eq(parse("{\"decision\":\"deny\"}", &ap, &f), 0);
	ck_assert(!ap && f == 0);
	ck_assert_int_eq(parse("{\"decision\":\"deny\",\"for_s\":0}", &ap, &f), 0);
	ck_assert(!ap);
	ck_assert_int_eq(parse("{\"decision\":\"approve\",\"for_s\":null}", &ap, &f), 0);
	ck_assert(ap && f == 0);
}
END_TEST

START_TEST(test_bad)
{
	static const char *bad[] = {
		"", "null", "[]", "\"approve\"", "{}", "{\"decision\":\"yes\"}",
		"{\"decision\":\"Approve\"}", "{\"decision\":true}",
		"{\"decision\":\"approve\",\"for_s\":-1}",
		"{\"decision\":\"approve\",\"for_s\":1.5}",
		"{\"decision\":\"approve\",\"for_s\":\"60\"}",
		"{\"decision\":\"approve\",\"for_s\":1e300}",
		"{\"decision\":\"deny\",\"for_s\":60}",
		"{\"decision\":\"approve\"", "{\"decision\":\"approve\"} x",
	};
	bool ap;
	uint64_t f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &ap, &f) == -1, "%s", bad[i]);
		ck_assert(!ap);
	}
	/* A NUL inside is not text. */
	ck_assert_int_eq(approvalans_parse("{\"decision\":\"approve\"}\0",
	    24, &ap, &f, &(const char *){ NULL }), -1);
}
END_TEST

static Suite *
approvalans_suite(void)
{
	Suite *s = suite_create("approvalans");
	TCase *tc = tcase_create("approvalans");

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(approvalans_suite());
}
