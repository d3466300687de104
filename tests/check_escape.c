/* Unit tests for lib/escape: every byte alone and in context, UTF-8 edge
 * cases, each target's specials, and the round trip through the tests' own
 * inverse of the rule (tests/refescape.h), which proves it unambiguous. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cJSON.h>

#include "checkrun.h"
#include "escape.h"
#include "refescape.h"

/* What the terminal rule makes of byte b when it stands alone. */
static void
expect_byte(unsigned b, char *out)
{
	if (b == '\\')
		strcpy(out, "\\\\");
	else if (b == '\t')
		strcpy(out, "\\t");
	else if (b == '\n')
		strcpy(out, "\\n");
	else if (b == '\r')
		strcpy(out, "\\r");
	else if (b < 0x20 || b >= 0x7f)
		snprintf(out, 8, "\\x%02x", b);	/* control, DEL, not UTF-8 */
	else {
		out[0] = (char)b;
		out[1] = '\0';
	}
}

/* Checks every target's output for s against the reference. */
static void
check_all(const char *s, size_t n)
{
	unsigned char *tmp = malloc(3 * (n * 12 + 1)), *dec = malloc(n * 12 + 1);
	unsigned char *dec2 = malloc(n * 12 + 1);
	char *t, *m, *h;
	long l, l2;

	ck_assert_ptr_nonnull(tmp);
	t = escape_term(s, n);
	m = escape_md(s, n);
	h = escape_html(s, n);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(h);
	ck_assert(ref_display_safe((unsigned char *)t, strlen(t), tmp));
	ck_assert(ref_display_safe((unsigned char *)m, strlen(m), tmp));
	ck_assert(ref_display_safe((unsigned char *)h, strlen(h), tmp));
	l = ref_unescape_term((unsigned char *)t, strlen(t), dec);
	ck_assert_int_eq(l, (long)n);
	ck_assert(memcmp(dec, s, n) == 0);
	/* Markdown and HTML encode exactly the terminal form. */
	l2 = ref_unescape_md((unsigned char *)m, strlen(m), dec2);
	ck_assert_int_ge(l2, 0);
	ck_assert_uint_eq((size_t)l2, strlen(t));
	ck_assert(memcmp(dec2, t, strlen(t)) == 0);
	l2 = ref_unescape_html((unsigned char *)h, strlen(h), dec2);
	ck_assert_uint_eq((size_t)l2, strlen(t));
	ck_assert(memcmp(dec2, t, strlen(t)) == 0);
	free(t);
	free(m);
	free(h);
	free(tmp);
	free(dec);
	free(dec2);
}

START_TEST(test_every_byte_alone)
{
	char in[1], want[16], *t;
	unsigned b;

	for (b = 0; b < 256; b++) {
		in[0] = (char)b;
		expect_byte(b, want);
		t = escape_term(in, 1);
		ck_assert_ptr_nonnull(t);
		ck_assert_msg(strcmp(t, want) == 0, "byte 0x%02x: '%s', want '%s'",
		    b, t, want);
		free(t);
		check_all(in, 1);
	}
}
END_TEST

START_TEST(test_every_byte_in_context)
{
	char in[8], want[32], e[16], *t;
	unsigned b;

	for (b = 0; b < 256; b++) {
		/* Between ASCII letters the byte is on its own. */
		in[0] = 'a';
		in[1] = (char)b;
		in[2] = 'z';
		expect_byte(b, e);
		snprintf(want, sizeof(want), "a%sz", e);
		t = escape_term(in, 3);
		ck_assert_msg(strcmp(t, want) == 0, "byte 0x%02x: '%s'", b, t);
		free(t);
		check_all(in, 3);
		/* After a UTF-8 lead byte, and before one. */
		in[0] = (char)0xc3;
		in[1] = (char)b;
		in[2] = (char)0xe2;
		in[3] = (char)b;
		in[4] = (char)0x82;
		check_all(in, 5);
		/* Next to a NUL, an ESC and a backslash. */
		in[0] = '\0';
		in[1] = (char)b;
		in[2] = '\x1b';
		in[3] = (char)b;
		in[4] = '\\';
		in[5] = (char)b;
		check_all(in, 6);
	}
}
END_TEST

START_TEST(test_utf8_edges)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9" },		/* kept */
		{ "\xe2\x82\xac", "\xe2\x82\xac" },		/* euro */
		{ "\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91" },	/* key emoji */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },	/* U+10FFFF */
		{ "\xc2\xa0", "\xc2\xa0" },			/* NBSP: visible gap */
		{ "\xc2\x80", "\\u0080" },			/* C1 first */
		{ "\xc2\x9b" "2J", "\\u009b2J" },		/* C1 CSI */
		{ "\xc2\x9f", "\\u009f" },			/* C1 last */
		{ "\xc0\x80", "\\xc0\\x80" },			/* overlong NUL */
		{ "\xc1\xbf", "\\xc1\\xbf" },
		{ "\xe0\x80\x80", "\\xe0\\x80\\x80" },	/* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },	/* > U+10FFFF */
		{ "\xf5\x80", "\\xf5\\x80" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "\xe2\x82", "\\xe2\\x82" },			/* truncated */
		{ "\xe2\x82" "A", "\\xe2\\x82A" },
		{ "\xf0\x9f\x94", "\\xf0\\x9f\\x94" },
		{ "a\xe2\x80\xae" "cba", "a\\u202ecba" },	/* RLO */
		{ "\xe2\x80\x8b", "\\u200b" },			/* ZWSP */
		{ "\xe2\x81\xa6", "\\u2066" },			/* LRI */
		{ "\xe2\x80\xa8", "\\u2028" },			/* LINE SEPARATOR */
		{ "\xef\xbb\xbf", "\\ufeff" },			/* BOM */
		{ "\xc2\xad", "\\u00ad" },			/* soft hyphen */
		{ "\xd8\x9c", "\\u061c" },			/* ALM */
		{ "\xf3\xa0\x81\x81", "\\U000e0041" },		/* tag A */
		{ "\xef\xbf\xbe", "\\ufffe" },
		{ "\\x1b", "\\\\x1b" },		/* not the escape of ESC */
		{ "\x1b]0;T\x07\x1b[2J\rfake\n",
		    "\\x1b]0;T\\x07\\x1b[2J\\rfake\\n" },
	};
	size_t i;
	char *t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = escape_term(cases[i].in, strlen(cases[i].in));
		ck_assert_msg(strcmp(t, cases[i].want) == 0, "case %zu: '%s'",
		    i, t);
		free(t);
		check_all(cases[i].in, strlen(cases[i].in));
	}
	/* Embedded NUL and the empty string. */
	t = escape_term("a\0b", 3);
	ck_assert_str_eq(t, "a\\x00b");
	free(t);
	t = escape_term(NULL, 0);
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

START_TEST(test_markdown)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "codex-openclaw 1.2", "codex-openclaw 1.2" },
		{ "a|b", "a\\|b" },
		{ "[x](javascript:alert(1))", "\\[x\\](javascript\\:alert(1))" },
		{ "![i](http://h/i.png)", "\\!\\[i\\](http\\://h/i.png)" },
		{ "<img src=x onerror=1>", "\\<img src=x onerror=1\\>" },
		{ "*b* _i_ ~s~ `c`", "\\*b\\* \\_i\\_ \\~s\\~ \\`c\\`" },
		{ "&#124; &amp;", "\\&#124; \\&amp;" },
		{ "see www.example.com", "see www\\.example.com" },
		{ "WWW.X", "WWW\\.X" },
		{ "a@b.c", "a\\@b.c" },
		{ "$x^2$", "\\$x\\^2\\$" },
		{ "\x1b[2J|", "\\\\x1b\\[2J\\|" },
		{ "\\|", "\\\\\\\\\\|" },
	};
	size_t i;
	char *m;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = escape_md(cases[i].in, strlen(cases[i].in));
		ck_assert_msg(strcmp(m, cases[i].want) == 0, "case %zu: '%s'",
		    i, m);
		free(m);
		check_all(cases[i].in, strlen(cases[i].in));
	}
}
END_TEST

START_TEST(test_html)
{
	char *h;

	h = escape_html("<a href=\"x\" title='y'>&amp;</a>", 31);
	ck_assert_str_eq(h, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;"
	    "&amp;amp;&lt;/a&gt;");
	free(h);
	h = escape_html("<\x1b\xe2\x80\xae\\", 6);
	ck_assert_str_eq(h, "&lt;\\x1b\\u202e\\\\");
	free(h);
}
END_TEST

/* Random strings, biased towards the interesting bytes, round trip. */
START_TEST(test_random_round_trip)
{
	static const unsigned char pick[] = { 0x00, 0x07, 0x09, 0x0a, 0x0d,
	    0x1b, 0x5c, 0x7c, 0x7f, 0x80, 0x9b, 0xa0, 0xbf, 0xc2, 0xc3, 0xe0,
	    0xe2, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xff, 'a', 'w', '.', '<', '&' };
	unsigned char s[64];
	unsigned seed = 12345;
	size_t n, i;
	int round;

	for (round = 0; round < 20000; round++) {
		seed = seed * 1103515245 + 12345;
		n = (seed >> 16) % sizeof(s);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			s[i] = (seed >> 20) & 1 ? pick[(seed >> 8) % sizeof(pick)] :
			    (unsigned char)(seed >> 12);
		}
		check_all((char *)s, n);
	}
}
END_TEST

START_TEST(test_ring)
{
	const char *v[ESCAPE_RING];
	char in[24];
	int i;

	for (i = 0; i < ESCAPE_RING; i++) {
		snprintf(in, sizeof(in), "%d\x1b", i);
		v[i] = escape_term_str(in);
	}
	for (i = 0; i < ESCAPE_RING; i++) {
		snprintf(in, sizeof(in), "%d\\x1b", i);
		ck_assert_str_eq(v[i], in);
	}
	ck_assert_str_eq(escape_term_str(NULL), "(null)");
}
END_TEST

START_TEST(test_hidden_table)
{
	uint32_t cp;

	/* The table is sorted and its edges are where the rule says. */
	for (cp = 0; cp < 0x20; cp++)
		ck_assert(escape_hidden(cp));
	for (cp = 0x20; cp < 0x7f; cp++)
		ck_assert(!escape_hidden(cp));
	for (cp = 0x7f; cp <= 0x9f; cp++)
		ck_assert(escape_hidden(cp));
	ck_assert(!escape_hidden(0xa0));
	ck_assert(escape_hidden(0x202a));
	ck_assert(escape_hidden(0x202e));
	ck_assert(!escape_hidden(0x202f));
	ck_assert(escape_hidden(0x2069));
	ck_assert(escape_hidden(0xe0001));
	ck_assert(!escape_hidden(0xe0100));
	ck_assert(!escape_hidden(0x1f511));
}
END_TEST

START_TEST(test_json)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "{\"a\":\"x\\u001by\"}", "{\"a\":\"x\\u001by\"}" },
		{ "{\"a\":\"x\x7fy\xc2\x9bz\xe2\x80\xae\"}",
		    "{\"a\":\"x\\u007fy\\u009bz\\u202e\"}" },
		{ "[1,\n\t2]\r\n", "[1,\n\t2]\r\n" },
		{ "[\"caf\xc3\xa9 \xf0\x9f\x94\x91\"]",
		    "[\"caf\xc3\xa9 \xf0\x9f\x94\x91\"]" },
		{ "[\"\xff\xc0\x80\"]", "[\"\\ufffd\\ufffd\\ufffd\"]" },
		{ "[\"\xf3\xa0\x81\x81\"]", "[\"\\udb40\\udc41\"]" },
		{ "[\"\\\"\x1b\"]", "[\"\\\"\\u001b\"]" },
		{ "{\"k\x1b\":1}", "{\"k\\u001b\":1}" },
	};
	cJSON *a, *b;
	size_t i;
	char *j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = escape_json(cases[i].in, strlen(cases[i].in));
		ck_assert_ptr_nonnull(j);
		ck_assert_msg(strcmp(j, cases[i].want) == 0, "case %zu: '%s'",
		    i, j);
		/* The same JSON value (cJSON decodes \u escapes to UTF-8). */
		a = cJSON_Parse(cases[i].in);
		b = cJSON_Parse(j);
		if (i != 4) {
			ck_assert_ptr_nonnull(a);
			ck_assert_ptr_nonnull(b);
			ck_assert(cJSON_Compare(a, b, 1));
		}
		cJSON_Delete(a);
		cJSON_Delete(b);
		free(j);
	}
}
END_TEST

static Suite *
escape_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("escape");
	tc = tcase_create("escape");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_byte_alone);
	tcase_add_test(tc, test_every_byte_in_context);
	tcase_add_test(tc, test_utf8_edges);
	tcase_add_test(tc, test_markdown);
	tcase_add_test(tc, test_html);
	tcase_add_test(tc, test_random_round_trip);
	tcase_add_test(tc, test_ring);
	tcase_add_test(tc, test_hidden_table);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(escape_suite());
}
