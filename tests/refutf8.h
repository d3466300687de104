/*
 * The tests' reference UTF-8 decoder (check_cast and fuzz_cast), written
 * from Unicode table 3-7 rather than from lib/: for each lead byte the
 * length of its sequence and the range allowed for its second byte; each
 * maximal ill-formed subpart becomes one U+FFFD, as Python's decoder does.
 */
#ifndef AGENTD_REFUTF8_H
#define AGENTD_REFUTF8_H

#include <stddef.h>
#include <string.h>

/* Writes the decode of s (n bytes) to out (room for 3 * n); its length. */
static inline size_t
ref_decode(const unsigned char *s, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0, need, k;
	unsigned char c, lo, hi;

	while (i < n) {
		c = s[i];
		lo = 0x80;
		hi = 0xbf;
		if (c <= 0x7f)
			need = 1;
		else if (c >= 0xc2 && c <= 0xdf)
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
		} else
			need = 0;		/* never a lead byte */
		/* k: how many bytes of the sequence are there and fit. */
		for (k = 1; k < need && i + k < n && s[i + k] >= lo &&
		    s[i + k] <= hi; k++) {
			lo = 0x80;
			hi = 0xbf;
		}
		if (need != 0 && k == need) {
			memcpy(out + o, s + i, need);
			o += need;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		i += need == 0 ? 1 : k;
	}
	return o;
}

/* Whether s is well-formed UTF-8; tmp has room for 3 * n bytes. */
static inline int
ref_is_utf8(const unsigned char *s, size_t n, unsigned char *tmp)
{
	return ref_decode(s, n, tmp) == n && memcmp(tmp, s, n) == 0;
}

#endif
