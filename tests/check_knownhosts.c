/* Unit tests for lib/knownhosts: HMAC-SHA1 against RFC 2202, and lines made
 * by ssh-keygen (plain, and hashed by `ssh-keygen -H`, whose output is
 * pasted here) matched by name, address and [host]:port. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "checkrun.h"
#include "knownhosts.h"

#define KEY	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPP6ilMOgcc38sqov/fflFI07U722HrW4uMxI9Zja3d0"
#define FP	"SHA256:9aDcOtl8coQvmmMgInuzMgpxl5wWLCf4Xuu9bVqAyAY"

static void
hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

START_TEST(test_hmac_rfc2202)
{
	unsigned char key[80], out[20];
	char h[41];

	memset(key, 0x0b, 20);
	knownhosts_hmac_sha1(key, 20, (const unsigned char *)"Hi There", 8, out);
	hex(out, 20, h);
	ck_assert_str_eq(h, "b617318655057264e28bc0b6fb378c8ef146be00");
	knownhosts_hmac_sha1((const unsigned char *)"Jefe", 4,
	    (const unsigned char *)"what do ya want for nothing?", 28, out);
	hex(out, 20, h);
	ck_assert_str_eq(h, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	/* A key longer than a block is hashed first. */
	memset(key, 0xaa, 80);
	knownhosts_hmac_sha1(key, 80, (const unsigned char *)
	    "Test Using Larger Than Block-Size Key - Hash Key First", 54, out);
	hex(out, 20, h);
	ck_assert_str_eq(h, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
	/* Messages across the 55/56/64-byte padding edges. */
	memset(key, 0xaa, 20);
	knownhosts_hmac_sha1(key, 20, (const unsigned char *)
	    "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
	    "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
	    "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
	    "\xdd\xdd", 50, out);
	hex(out, 20, h);
	ck_assert_str_eq(h, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
}
END_TEST

static bool
line_match(const char *line, const char *name)
{
	struct knownhosts_entry e;

	ck_assert_int_eq(knownhosts_parse_line(line, strlen(line), &e), 1);
	ck_assert_str_eq(e.fingerprint, FP);
	return knownhosts_match(&e, name);
}

START_TEST(test_plain)
{
	const char *l = "gate.example,10.0.0.7 " KEY " a comment";

	ck_assert(line_match(l, "gate.example"));
	ck_assert(line_match(l, "GATE.example"));
	ck_assert(line_match(l, "10.0.0.7"));
	ck_assert(!line_match(l, "gate"));
	ck_assert(!line_match(l, "[gate.example]:2222"));
	ck_assert(line_match("*.example,!bad.example " KEY, "gate.example"));
	ck_assert(!line_match("*.example,!bad.example " KEY, "bad.example"));
	ck_assert(line_match("[gate.example]:2222 " KEY, "[gate.example]:2222"));
	ck_assert(!line_match("[gate.example]:2222 " KEY, "gate.example"));
}
END_TEST

/* `ssh-keygen -H` of the two lines above: one hashed line per name. */
START_TEST(test_hashed)
{
	const char *a = "|1|HlvOUqIEr7IDa6ttaJWsLiB/PDI=|J3c2bI3LGF9Tr6180xujfeOG9L8= " KEY;
	const char *b = "|1|ZhT67wBcrJIUPDVfQZ72fANnsc8=|BAoAokv6RCMZR6u0l3yhjEjp6a0= " KEY;
	const char *c = "|1|LUntandldSA2kzSVQxp/G13cl6I=|PrGH6aRcy3YeeWtdatvmCIf8wpk= " KEY;

	ck_assert(line_match(a, "gate.example"));
	ck_assert(!line_match(a, "10.0.0.7"));
	ck_assert(line_match(b, "10.0.0.7"));
	ck_assert(line_match(c, "[gate.example]:2222"));
	ck_assert(!line_match(c, "gate.example"));
	ck_assert(!line_match(a, "gate.exampl"));
}
END_TEST

static void
collect(const char *name, void *arg)
{
	strcat(arg, name);
	strcat(arg, ";");
}

START_TEST(test_lines)
{
	struct knownhosts_entry e;
	char names[256] = "";
	const char *l = "a.example,*.b,!c.example,|1|x|y,10.1.1.1 " KEY;

	ck_assert_int_eq(knownhosts_parse_line("", 0, &e), 0);
	ck_assert_int_eq(knownhosts_parse_line("  # x", 5, &e), 0);
	ck_assert_int_eq(knownhosts_parse_line("@revoked h " KEY,
	    strlen("@revoked h " KEY), &e), 0);
	ck_assert_int_eq(knownhosts_parse_line("@cert-authority *.x " KEY,
	    strlen("@cert-authority *.x " KEY), &e), 0);
	ck_assert_int_eq(knownhosts_parse_line("host", 4, &e), -1);
	ck_assert_int_eq(knownhosts_parse_line("a\0b " KEY,
	    strlen("a") + 3 + strlen(KEY) + 1, &e), -1);
	ck_assert_int_eq(knownhosts_parse_line("host ssh-ed25519", 16, &e), -1);
	ck_assert_int_eq(knownhosts_parse_line("host ssh-ed25519 !!!", 20, &e), -1);
	/* The keytype field must name the blob's type. */
	ck_assert_int_eq(knownhosts_parse_line("h ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIPP6ilMOgcc38sqov/fflFI07U722HrW4uMxI9Zja3d0",
	    strlen("h ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIPP6ilMOgcc38sqov/fflFI07U722HrW4uMxI9Zja3d0"), &e), -1);
	ck_assert_int_eq(knownhosts_parse_line(l, strlen(l), &e), 1);
	knownhosts_names(&e, collect, names);
	ck_assert_str_eq(names, "a.example;10.1.1.1;");
	/* A CR before the newline (a file edited elsewhere) is no part of it. */
	ck_assert_int_eq(knownhosts_parse_line("h " KEY "\r",
	    strlen("h " KEY "\r"), &e), 1);
	ck_assert_str_eq(e.fingerprint, FP);
}
END_TEST

START_TEST(test_patterns)
{
	const char *why;
	char longp[300];

	ck_assert(knownhosts_pattern_ok("gate.example", &why));
	ck_assert(knownhosts_pattern_ok("*.example", &why));
	ck_assert(knownhosts_pattern_ok("[gate.example]:2222", &why));
	ck_assert(knownhosts_pattern_ok(FP, &why));
	ck_assert(!knownhosts_pattern_ok("", &why));
	ck_assert(!knownhosts_pattern_ok("a b", &why));
	ck_assert(!knownhosts_pattern_ok("a,b", &why));
	ck_assert(!knownhosts_pattern_ok("a\x1b[2J", &why));
	ck_assert(!knownhosts_pattern_ok("SHA256:abc", &why));
	ck_assert(!knownhosts_pattern_ok(FP "A", &why));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert(!knownhosts_pattern_ok(longp, &why));
	ck_assert(knownhosts_glob("*.EXAMPLE", 9, "gate.example"));
	ck_assert(knownhosts_glob("g?te.*", 6, "gate.example"));
	ck_assert(!knownhosts_glob("*.example", 9, "example"));
	ck_assert(knownhosts_glob("**", 2, ""));
	ck_assert(!knownhosts_glob("[ab]", 4, "a"));
}
END_TEST

static Suite *
knownhosts_suite(void)
{
	Suite *s = suite_create("knownhosts");
	TCase *tc = tcase_create("knownhosts");

	tcase_add_test(tc, test_hmac_rfc2202);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_hashed);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_patterns);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(knownhosts_suite());
}
