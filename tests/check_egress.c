/* Unit tests for lib/egress: the --ssh-egress entry parser. */
#include <errno.h>
#include <string.h>

#include <check.h>

#include "egress.h"
#include "checkrun.h"

START_TEST(test_good)
{
	struct egress_entry e;
	const char *cause = NULL;
	char buf[EGRESS_HOST_MAX + 16];

	ck_assert_int_eq(egress_parse("git=github.com", &e, &cause), 0);
	ck_assert_str_eq(e.name, "git");
	ck_assert_str_eq(e.host, "github.com");
	ck_assert_uint_eq(e.port, 22);
	ck_assert_str_eq(egress_hostkey_alias(&e, buf, sizeof(buf)), "github.com");
	ck_assert_str_eq(egress_upstream(&e, buf, sizeof(buf)), "github.com:22");

	ck_assert_int_eq(egress_parse("gl_2.x=127.0.0.1:2222", &e, &cause), 0);
	ck_assert_str_eq(e.name, "gl_2.x");
	ck_assert_str_eq(e.host, "127.0.0.1");
	ck_assert_uint_eq(e.port, 2222);
	ck_assert_str_eq(egress_hostkey_alias(&e, buf, sizeof(buf)),
	    "[127.0.0.1]:2222");

	ck_assert_int_eq(egress_parse("v6=[::1]:65535", &e, &cause), 0);
	ck_assert_str_eq(e.host, "::1");
	ck_assert_uint_eq(e.port, 65535);
	ck_assert_str_eq(egress_upstream(&e, buf, sizeof(buf)), "[::1]:65535");
	ck_assert_int_eq(egress_parse("v6=[fe80::1]", &e, &cause), 0);
	ck_assert_uint_eq(e.port, 22);
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bad[] = {
		"", "git", "=host", "git=", "git=:22", "git=host:", "git=host:0",
		"git=host:65536", "git=host:22x", "git=host:-1", "git=host: 22",
		"g it=host", "g*=host", "-o=host", ".x=host", "git=-host",
		"git=ho st", "git=host..com", "git=.host", "git=host.",
		"git=ho\"st", "git=host\n", "git=ho*st", "git=::1", "git=[::1",
		"git=[]:22", "git=[nothex]:22", "git=[::1]x", "git=[::1]:",
		"git=h\\st", "x=a:b:c", "git=host#",
	};
	struct egress_entry e;
	const char *cause;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cause = NULL;
		errno = 0;
		ck_assert_msg(egress_parse(bad[i], &e, &cause) == -1,
		    "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(cause);
		ck_assert_int_eq(errno, EINVAL);
	}
}
END_TEST

START_TEST(test_limits)
{
	struct egress_entry e;
	const char *cause;
	char s[600];

	memset(s, 'n', 63);
	strcpy(s + 63, "=h");
	ck_assert_int_eq(egress_parse(s, &e, &cause), 0);
	memset(s, 'n', 64);
	strcpy(s + 64, "=h");
	ck_assert_int_eq(egress_parse(s, &e, &cause), -1);
	/* A label of 64 bytes is too long; 63 is fine. */
	strcpy(s, "n=");
	memset(s + 2, 'a', 63);
	s[65] = '\0';
	ck_assert_int_eq(egress_parse(s, &e, &cause), 0);
	memset(s + 2, 'a', 64);
	s[66] = '\0';
	ck_assert_int_eq(egress_parse(s, &e, &cause), -1);
}
END_TEST

static Suite *
egress_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("egress");
	tc = tcase_create("egress");
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(egress_suite());
}
