/*
 * The tests' reference for lib/escape (check_escape and fuzz_escape),
 * written from the rule in escape.h rather than from lib/: the inverse of the
 * terminal form (so a round trip proves the escaping unambiguous) and the
 * checks every escaped output must pass.
 */
#ifndef AGENTD_REFESCAPE_H
#define AGENTD_REFESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "refutf8.h"

static inline int
ref_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads n lowercase hex digits at s; -1 when they are not. */
static inline int64_t
ref_hex(const unsigned char *s, size_t avail, size_t n)
{
	int64_t v = 0;
	size_t i;

	if (avail < n)
		return -1;
	for (i = 0; i < n; i++) {
		if (ref_hexval(s[i]) < 0)
			return -1;
		v = v * 16 + ref_hexval(s[i]);
	}
	return v;
}

/*
 * Decodes the terminal form in s (n bytes) into out (room for n bytes: no
 * escape is shorter than what it stands for). Returns the length, or -1 when
 * s is not a possible output: a lone or unknown backslash, a raw control, a
 * \xNN standing for a printable ASCII byte, a \u for a character the rule
 * keeps as it is.
 */
static inline long
ref_unescape_term(const unsigned char *s, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;
	int64_t v;

	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return -1;
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		if (i + 1 >= n)
			return -1;
		switch (s[i + 1]) {
		case '\\': out[o++] = '\\'; i += 2; continue;
		case 't': out[o++] = '\t'; i += 2; continue;
		case 'n': out[o++] = '\n'; i += 2; continue;
		case 'r': out[o++] = '\r'; i += 2; continue;
		case 'x':
			if ((v = ref_hex(s + i + 2, n - i - 2, 2)) < 0 ||
			    (v >= 0x20 && v < 0x7f) || v == '\t' ||
			    v == '\n' || v == '\r')
				return -1;
			out[o++] = (unsigned char)v;
			i += 4;
			continue;
		case 'u':
		case 'U':
			if ((v = ref_hex(s + i + 2, n - i - 2,
			    s[i + 1] == 'u' ? 4 : 8)) < 0x80 ||
			    (s[i + 1] == 'U') != (v > 0xffff) ||
			    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
				return -1;
			i += s[i + 1] == 'u' ? 6 : 10;
			if (v < 0x800) {
				out[o++] = (unsigned char)(0xc0 | (v >> 6));
			} else if (v < 0x10000) {
				out[o++] = (unsigned char)(0xe0 | (v >> 12));
				out[o++] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
			} else {
				out[o++] = (unsigned char)(0xf0 | (v >> 18));
				out[o++] = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
				out[o++] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
			}
			out[o++] = (unsigned char)(0x80 | (v & 0x3f));
			continue;
		default:
			return -1;
		}
	}
	return (long)o;
}

/* Whether s holds no C0 control, DEL or C1 control and is valid UTF-8; tmp
 * has room for 3 * n bytes. */
static inline int
ref_display_safe(const unsigned char *s, size_t n, unsigned char *tmp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9f)
			return 0;
	}
	return ref_is_utf8(s, n, tmp);
}

/* Markdown: every special character is preceded by a backslash that is not
 * itself escaped; the text with those backslashes dropped is the terminal
 * form. Returns that text's length in out (room for n), or -1. */
static inline long
ref_unescape_md(const unsigned char *s, size_t n, unsigned char *out)
{
	static const char special[] = "\\`*_[]<>!&|~:@$^";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= n || (strchr(special, s[i + 1]) == NULL &&
			    s[i + 1] != '.') || s[i + 1] == '\0')
				return -1;
			out[o++] = s[++i];
			continue;
		}
		if (strchr(special, s[i]) != NULL && s[i] != '\0')
			return -1;
		out[o++] = s[i];
	}
	return (long)o;
}

/* HTML: no < > " ' at all, & only as one of the five entities. Returns the
 * decoded (terminal form) length in out (room for n), or -1. */
static inline long
ref_unescape_html(const unsigned char *s, size_t n, unsigned char *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' },
	};
	size_t i = 0, o = 0, k, l;

	while (i < n) {
		if (s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\'')
			return -1;
		if (s[i] != '&') {
			out[o++] = s[i++];
			continue;
		}
		for (k = 0; k < 5; k++) {
			l = strlen(ents[k].ent);
			if (n - i >= l && memcmp(s + i, ents[k].ent, l) == 0)
				break;
		}
		if (k == 5)
			return -1;
		out[o++] = (unsigned char)ents[k].c;
		i += strlen(ents[k].ent);
	}
	return (long)o;
}

#endif
