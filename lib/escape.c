/* escape: user strings made safe for terminals, Markdown and HTML. See
 * escape.h for the rule. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

enum target { TERM, MD, HTML };

struct ebuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
};

static void
eb_put(struct ebuf *b, const char *p, size_t n)
{
	size_t ncap;
	char *nb;

	if (b->failed)
		return;
	if (n >= SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(b->buf, ncap)) == NULL) {
			b->failed = true;
			return;
		}
		b->buf = nb;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

/* Ranges of code points shown as escapes: controls and the invisible
 * format characters that can reorder, hide or forge what a reader sees. */
static const struct {
	uint32_t	lo, hi;
} hidden[] = {
	{ 0x0000, 0x001f },	/* C0 */
	{ 0x007f, 0x009f },	/* DEL, C1 */
	{ 0x00ad, 0x00ad },	/* soft hyphen */
	{ 0x034f, 0x034f },	/* combining grapheme joiner */
	{ 0x061c, 0x061c },	/* Arabic letter mark (bidi) */
	{ 0x115f, 0x1160 },	/* Hangul fillers (blank) */
	{ 0x17b4, 0x17b5 },	/* Khmer inherent vowels (invisible) */
	{ 0x180b, 0x180f },	/* Mongolian selectors, vowel separator */
	{ 0x200b, 0x200f },	/* zero width space/joiners, LRM, RLM */
	{ 0x2028, 0x202e },	/* line/paragraph separators, bidi embeddings */
	{ 0x2060, 0x206f },	/* word joiner, invisible operators, isolates */
	{ 0x3164, 0x3164 },	/* Hangul filler */
	{ 0xfeff, 0xfeff },	/* zero width no-break space (BOM) */
	{ 0xffa0, 0xffa0 },	/* halfwidth Hangul filler */
	{ 0xfff9, 0xfffb },	/* interlinear annotation */
	{ 0xfffe, 0xffff },	/* noncharacters */
	{ 0x1bca0, 0x1bca3 },	/* shorthand format controls */
	{ 0x1d173, 0x1d17a },	/* musical format controls */
	{ 0xe0000, 0xe007f },	/* tags (invisible text) */
};

int
escape_hidden(uint32_t cp)
{
	size_t i;

	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (cp < hidden[i].lo)
			return 0;
		if (cp <= hidden[i].hi)
			return 1;
	}
	return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7) with its
 * code point in *cp, or 0 when s[0] does not start one (the caller escapes
 * that one byte and goes on with the next).
 */
static size_t
utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	for (i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need;
}

/* Appends visible ASCII text (an escape or a printable ASCII run) encoded
 * for the target. */
static void
put_visible(struct ebuf *b, enum target t, const char *p, size_t n)
{
	static const char md_special[] = "\\`*_[]<>!&|~:@$^";
	const char *ent;
	char e[2];
	size_t i, run = 0;

	if (t == TERM) {
		eb_put(b, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		ent = NULL;
		if (t == MD && strchr(md_special, p[i]) != NULL && p[i] != '\0') {
			e[0] = '\\';
			e[1] = p[i];
		} else if (t == HTML) {
			switch (p[i]) {
			case '&': ent = "&amp;"; break;
			case '<': ent = "&lt;"; break;
			case '>': ent = "&gt;"; break;
			case '"': ent = "&quot;"; break;
			case '\'': ent = "&#39;"; break;
			default: continue;
			}
		} else
			continue;
		eb_put(b, p + run, i - run);
		if (ent != NULL)
			eb_put(b, ent, strlen(ent));
		else
			eb_put(b, e, 2);
		run = i + 1;
	}
	eb_put(b, p + run, n - run);
}

/* GFM turns "www." into a link: the dot after "www" (any case) is escaped. */
static bool
md_www_dot(const unsigned char *s, size_t i)
{
	return s[i] == '.' && i >= 3 &&
	    (s[i - 1] | 0x20) == 'w' && (s[i - 2] | 0x20) == 'w' &&
	    (s[i - 3] | 0x20) == 'w';
}

static char *
escape_to(enum target t, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	struct ebuf b = { NULL, 0, 0, false };
	char e[12];
	size_t i = 0, k, clen, start;
	uint32_t cp;

	eb_put(&b, "", 0);	/* an empty string is "", not NULL */
	while (i < len && !b.failed) {
		/* A run of printable ASCII other than the backslash. */
		for (start = i; i < len && s[i] >= 0x20 && s[i] < 0x7f &&
		    s[i] != '\\' && !(t == MD && md_www_dot(s, i)); i++)
			;
		if (i > start)
			put_visible(&b, t, str + start, i - start);
		if (i >= len)
			break;
		if (s[i] == '\\') {
			put_visible(&b, t, "\\\\", 2);
			i++;
			continue;
		}
		if (t == MD && md_www_dot(s, i)) {
			eb_put(&b, "\\.", 2);
			i++;
			continue;
		}
		if ((clen = utf8_char(s + i, len - i, &cp)) == 0) {
			/* Not UTF-8: this byte alone, as \xNN. */
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[s[i] >> 4];
			e[3] = hex[s[i] & 0xf];
			put_visible(&b, t, e, 4);
			i++;
			continue;
		}
		if (!escape_hidden(cp)) {
			eb_put(&b, str + i, clen);	/* printable UTF-8 */
			i += clen;
			continue;
		}
		if (cp == '\t' || cp == '\n' || cp == '\r') {
			e[0] = '\\';
			e[1] = cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r';
			put_visible(&b, t, e, 2);
		} else if (cp < 0x80) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[cp >> 4];
			e[3] = hex[cp & 0xf];
			put_visible(&b, t, e, 4);
		} else if (cp <= 0xffff) {
			e[0] = '\\';
			e[1] = 'u';
			e[2] = hex[(cp >> 12) & 0xf];
			e[3] = hex[(cp >> 8) & 0xf];
			e[4] = hex[(cp >> 4) & 0xf];
			e[5] = hex[cp & 0xf];
			put_visible(&b, t, e, 6);
		} else {
			e[0] = '\\';
			e[1] = 'U';
			for (k = 0; k < 8; k++)
				e[2 + k] = hex[(cp >> (28 - 4 * k)) & 0xf];
			put_visible(&b, t, e, 10);
		}
		i += clen;
	}
	if (b.failed) {
		free(b.buf);
		errno = ENOMEM;
		return NULL;
	}
	return b.buf;
}

char *
escape_term(const char *s, size_t len)
{
	return escape_to(TERM, s, len);
}

char *
escape_md(const char *s, size_t len)
{
	return escape_to(MD, s, len);
}

char *
escape_html(const char *s, size_t len)
{
	return escape_to(HTML, s, len);
}

static void
json_u(struct ebuf *b, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', hex[(cp >> 12) & 0xf], hex[(cp >> 8) & 0xf],
	    hex[(cp >> 4) & 0xf], hex[cp & 0xf] };

	eb_put(b, e, 6);
}

char *
escape_json(const char *json, size_t len)
{
	const unsigned char *s = (const unsigned char *)json;
	struct ebuf b = { NULL, 0, 0, false };
	size_t i = 0, start, clen;
	bool in_str = false;
	uint32_t cp;

	eb_put(&b, "", 0);
	while (i < len && !b.failed) {
		/* Bytes that stay as they are: printable ASCII, and JSON's
		 * whitespace between tokens (an escape's two bytes are copied
		 * together). What is left is not valid JSON, or is in a string. */
		for (start = i; i < len; i++) {
			if (s[i] >= 0x7f || (s[i] < 0x20 && (in_str ||
			    (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
			    s[i] != '\r'))))
				break;
			if (s[i] == '"')
				in_str = !in_str;
			else if (in_str && s[i] == '\\' && i + 1 < len &&
			    s[i + 1] >= 0x20 && s[i + 1] < 0x7f)
				i++;
		}
		eb_put(&b, json + start, i - start);
		if (i >= len)
			break;
		if ((clen = utf8_char(s + i, len - i, &cp)) == 0) {
			json_u(&b, 0xfffd);		/* not UTF-8 */
			i++;
		} else if (!escape_hidden(cp)) {
			eb_put(&b, json + i, clen);
			i += clen;
		} else {
			if (cp > 0xffff) {
				json_u(&b, 0xd800 + ((cp - 0x10000) >> 10));
				json_u(&b, 0xdc00 + ((cp - 0x10000) & 0x3ff));
			} else
				json_u(&b, cp);
			i += clen;
		}
	}
	if (b.failed) {
		free(b.buf);
		errno = ENOMEM;
		return NULL;
	}
	return b.buf;
}

const char *
escape_term_str(const char *s)
{
	static char *ring[ESCAPE_RING];
	static size_t next;
	char *e;

	if (s == NULL)
		return "(null)";
	if ((e = escape_term(s, strlen(s))) == NULL)
		return "(unprintable)";
	free(ring[next]);
	ring[next] = e;
	next = (next + 1) % ESCAPE_RING;
	return e;
}
