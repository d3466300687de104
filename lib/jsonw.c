/* jsonw: ordered JSON object writer with exact integers. See jsonw.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jsonw.h"

void
jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void
jsonw_free(struct jsonw *w)
{
	if (w->buf != NULL)
		sodium_memzero(w->buf, w->cap);
	free(w->buf);
	jsonw_init(w);
}

void
jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->failed = false;
	w->need_comma = false;
}

bool
jsonw_ok(const struct jsonw *w)
{
	return !w->failed;
}

static int
jsonw_reserve(struct jsonw *w, size_t more)
{
	size_t	 want, ncap;
	char	*nbuf;

	if (w->failed)
		return -1;
	if (more > SIZE_MAX / 2 - w->len - 1) {
		w->failed = true;
		return -1;
	}
	want = w->len + more + 1;
	if (want <= w->cap)
		return 0;
	ncap = w->cap ? w->cap : 256;
	while (ncap < want)
		ncap *= 2;
	/* Not realloc: the old buffer may hold secrets in a relay, wipe it. */
	if ((nbuf = malloc(ncap)) == NULL) {
		w->failed = true;
		return -1;
	}
	if (w->buf != NULL) {
		memcpy(nbuf, w->buf, w->len);
		sodium_memzero(w->buf, w->cap);
		free(w->buf);
	}
	w->buf = nbuf;
	w->cap = ncap;
	return 0;
}

void
jsonw_raw(struct jsonw *w, const char *bytes, size_t len)
{
	if (jsonw_reserve(w, len) == -1)
		return;
	memcpy(w->buf + w->len, bytes, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

static void
jsonw_putc(struct jsonw *w, char c)
{
	jsonw_raw(w, &c, 1);
}

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0
 * with *bad set to the length of the maximal ill-formed subpart, which
 * becomes one U+FFFD: the Unicode recommendation, and what Python's (so
 * asciinema's) decoder does.
 */
static size_t
utf8_scan(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

void
jsonw_quote(struct jsonw *w, const char *val, size_t len)
{
	jsonw_putc(w, '"');
	jsonw_escape(w, val, len);
	jsonw_putc(w, '"');
}

/*
 * Whether all eight bytes of v go out as they are (printable ASCII, not '"'
 * or '\\'), with the bit tricks of "Bit Twiddling Hacks" (hasless,
 * hasmore, haszero): no byte < 0x20, none > 0x7e, none equal to 0x22 or 0x5c.
 */
static int
plain8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = v ^ (ones * 0x22), b = v ^ (ones * 0x5c);

	return (((v - ones * 0x20) & ~v) |		/* a byte < 0x20 */
	    ((v + ones * (127 - 0x7e)) | v) |		/* a byte > 0x7e */
	    ((q - ones) & ~q) | ((b - ones) & ~b)) &	/* '"' or '\\' */
	    high ? 0 : 1;
}

/*
 * Copies the bytes at the start of s (n) that go out as they are to o and
 * returns how many. o must have room for n bytes, and for 16 when n >= 16:
 * a block of 16 is stored whole before its first special byte is known.
 */
static size_t
plain_prefix(const unsigned char *s, size_t n, char *o)
{
	size_t i = 0;
	uint64_t v;

#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
	const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	__m128i b, m;
	unsigned bits;

	while (n - i >= 16) {
		b = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* Signed compare: bytes >= 0x80 are negative, so < 0x20 too. */
		m = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(b, sp),
		    _mm_cmpeq_epi8(b, del)), _mm_or_si128(_mm_cmpeq_epi8(b, dq),
		    _mm_cmpeq_epi8(b, bs)));
		_mm_storeu_si128((__m128i *)(void *)(o + i), b);
		if ((bits = (unsigned)_mm_movemask_epi8(m)) != 0)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#endif
	while (n - i >= 8) {
		memcpy(&v, s + i, 8);
		if (!plain8(v))
			break;
		memcpy(o + i, &v, 8);
		i += 8;
	}
	return i;
}

void
jsonw_escape(struct jsonw *w, const char *val, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)val;
	size_t i = 0, n, bad;
	char *o;

	/*
	 * Every input byte takes at most 6 output bytes (\u00XX; U+FFFD is 3
	 * for at least 1): reserve once, then write without further checks.
	 * Recordings pass megabytes through here.
	 */
	if (len > (SIZE_MAX / 2 - w->len) / 6 || jsonw_reserve(w, len * 6) == -1) {
		w->failed = true;
		return;
	}
	o = w->buf + w->len;
	while (i < len) {
		/* Plain runs in blocks: terminal output is mostly text. */
		n = plain_prefix(s + i, len - i, o);
		o += n;
		i += n;
		if (i == len)
			break;
		/* Printable ASCII but '"' and '\\' goes out as it is. */
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
			*o++ = (char)s[i++];
			continue;
		}
		switch (s[i]) {
		case '"':
		case '\\':
			*o++ = '\\';
			*o++ = (char)s[i++];
			continue;
		/* JSON's short escapes: terminal output is full of \r\n. */
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			i++;
			continue;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			i++;
			continue;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			i++;
			continue;
		case '\b':
			*o++ = '\\';
			*o++ = 'b';
			i++;
			continue;
		case '\f':
			*o++ = '\\';
			*o++ = 'f';
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[s[i] >> 4];
			o[5] = hex[s[i] & 0xf];
			o += 6;
			i++;
		} else if ((n = utf8_scan(s + i, len - i, &bad)) > 0) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i += bad;
		}
	}
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

static void
jsonw_key(struct jsonw *w, const char *key)
{
	if (w->need_comma)
		jsonw_putc(w, ',');
	w->need_comma = true;
	if (key != NULL) {
		jsonw_quote(w, key, strlen(key));
		jsonw_putc(w, ':');
	}
}

void
jsonw_begin(struct jsonw *w)
{
	jsonw_object_begin(w, NULL);
}

void
jsonw_end(struct jsonw *w)
{
	jsonw_object_end(w);
}

void
jsonw_object_begin(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_putc(w, '{');
	w->need_comma = false;
}

void
jsonw_object_end(struct jsonw *w)
{
	jsonw_putc(w, '}');
	w->need_comma = true;
}

void
jsonw_array_begin(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_putc(w, '[');
	w->need_comma = false;
}

void
jsonw_array_end(struct jsonw *w)
{
	jsonw_putc(w, ']');
	w->need_comma = true;
}

void
jsonw_strn(struct jsonw *w, const char *key, const char *val, size_t len)
{
	jsonw_key(w, key);
	jsonw_quote(w, val, len);
}

void
jsonw_str(struct jsonw *w, const char *key, const char *val)
{
	if (val == NULL) {
		jsonw_null(w, key);
		return;
	}
	jsonw_strn(w, key, val, strlen(val));
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t val)
{
	char num[24];
	int n;

	jsonw_key(w, key);
	n = snprintf(num, sizeof(num), "%" PRId64, val);
	jsonw_raw(w, num, (size_t)n);
}

void
jsonw_uint(struct jsonw *w, const char *key, uint64_t val)
{
	char num[24];
	int n;

	jsonw_key(w, key);
	n = snprintf(num, sizeof(num), "%" PRIu64, val);
	jsonw_raw(w, num, (size_t)n);
}

void
jsonw_bool(struct jsonw *w, const char *key, bool val)
{
	jsonw_key(w, key);
	if (val)
		jsonw_raw(w, "true", 4);
	else
		jsonw_raw(w, "false", 5);
}

void
jsonw_null(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_raw(w, "null", 4);
}
