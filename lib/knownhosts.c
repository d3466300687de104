/* knownhosts: known_hosts lines. See knownhosts.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "knownhosts.h"

#define NAME_MAX_LEN	1024
#define BLOB_MAX	16384	/* an RSA-16384 key blob is ~2 KiB */

/* --- SHA-1 and HMAC-SHA1 (FIPS 180-4, RFC 2104) --------------------------- */

struct sha1 {
	uint32_t	h[5];
	uint64_t	len;		/* bytes hashed */
	unsigned char	buf[64];
	size_t		n;
};

#define ROL(x, k)	(((x) << (k)) | ((x) >> (32 - (k))))

static void
sha1_block(struct sha1 *s, const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d; d = c; c = ROL(b, 30); b = a; a = t;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

static void
sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
	    0x10325476, 0xc3d2e1f0 };

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

static void
sha1_update(struct sha1 *s, const unsigned char *p, size_t len)
{
	size_t take;

	s->len += len;
	while (len > 0) {
		take = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n == 64) {
			sha1_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void
sha1_final(struct sha1 *s, unsigned char out[20])
{
	unsigned char pad[72];
	uint64_t bits = s->len * 8;
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;
	int i;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, padlen + 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void
knownhosts_hmac_sha1(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t msglen, unsigned char out[20])
{
	unsigned char k[64], pad[64], inner[20];
	struct sha1 s;
	size_t i;

	memset(k, 0, sizeof(k));
	if (keylen > 64) {
		sha1_init(&s);
		sha1_update(&s, key, keylen);
		sha1_final(&s, k);
	} else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	sha1_update(&s, msg, msglen);
	sha1_final(&s, inner);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	sha1_update(&s, inner, 20);
	sha1_final(&s, out);
}

/* --- lines ---------------------------------------------------------------- */

/* The next whitespace-separated field of [*p, end): 0 when none is left. */
static size_t
field(const char **p, const char *end, const char **start)
{
	const char *q;

	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	*start = *p;
	for (q = *p; q < end && *q != ' ' && *q != '\t'; q++)
		;
	*p = q;
	return (size_t)(q - *start);
}

int
knownhosts_parse_line(const char *line, size_t len,
    struct knownhosts_entry *e)
{
	const char *p = line, *end = line + len, *f, *type, *b64;
	char tbuf[AGENTPROTO_TYPE_MAX], btype[AGENTPROTO_TYPE_MAX];
	unsigned char *blob;
	size_t n, tlen, b64len, bloblen;

	memset(e, 0, sizeof(*e));
	if (memchr(line, '\0', len) != NULL)
		return -1;	/* not text */
	if (len > 0 && line[len - 1] == '\r')
		end--;
	if ((n = field(&p, end, &f)) == 0 || f[0] == '#')
		return 0;
	if (f[0] == '@')
		return 0;	/* @cert-authority, @revoked: not a host's key */
	e->hosts = f;
	e->hostslen = n;
	if ((tlen = field(&p, end, &type)) == 0 ||
	    (b64len = field(&p, end, &b64)) == 0)
		return -1;
	if (tlen >= sizeof(tbuf) || b64len > BLOB_MAX * 4 / 3 + 4)
		return -1;
	memcpy(tbuf, type, tlen);
	tbuf[tlen] = '\0';
	if ((blob = malloc(b64len)) == NULL)
		return -1;
	if (sodium_base642bin(blob, b64len, b64, b64len, NULL, &bloblen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    agentproto_key_type(blob, bloblen, btype) == -1 ||
	    strcmp(btype, tbuf) != 0) {
		free(blob);
		return -1;
	}
	agentproto_fingerprint(blob, bloblen, e->fingerprint);
	free(blob);
	return 1;
}

/* OpenSSH's host patterns: `*` and `?` only (no bracket classes, so
 * `[host]:port` is literal), ASCII case ignored. Iterative: O(len^2) at
 * worst, never exponential. */
bool
knownhosts_glob(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, i = 0, star = (size_t)-1, mark = 0, slen = strlen(s);

	while (i < slen) {
		if (p < plen && (pat[p] == '?' || (pat[p] != '*' &&
		    tolower((unsigned char)pat[p]) ==
		    tolower((unsigned char)s[i])))) {
			p++;
			i++;
		} else if (p < plen && pat[p] == '*') {
			star = p++;
			mark = i;
		} else if (star != (size_t)-1) {
			p = star + 1;
			i = ++mark;
		} else
			return false;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/* A hashed pattern "|1|salt|hash" of plen bytes against name. */
static bool
hashed_match(const char *pat, size_t plen, const char *name)
{
	unsigned char salt[64], want[32], got[20];
	const char *bar;
	size_t slen, hlen;

	if (plen < 3 || memcmp(pat, "|1|", 3) != 0)
		return false;
	pat += 3;
	plen -= 3;
	if ((bar = memchr(pat, '|', plen)) == NULL)
		return false;
	if (sodium_base642bin(salt, sizeof(salt), pat, (size_t)(bar - pat),
	    NULL, &slen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sodium_base642bin(want, sizeof(want), bar + 1,
	    plen - (size_t)(bar - pat) - 1, NULL, &hlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || hlen != 20)
		return false;
	knownhosts_hmac_sha1(salt, slen, (const unsigned char *)name,
	    strlen(name), got);
	return sodium_memcmp(got, want, 20) == 0;
}

bool
knownhosts_match(const struct knownhosts_entry *e, const char *name)
{
	const char *p = e->hosts, *end = e->hosts + e->hostslen, *comma, *q;
	size_t plen, qlen;
	bool hit = false, neg;

	if (strlen(name) > NAME_MAX_LEN)
		return false;
	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		plen = (size_t)((comma != NULL ? comma : end) - p);
		neg = plen > 0 && p[0] == '!';
		q = p + neg;
		qlen = plen - neg;
		if (qlen > 0 && q[0] == '|') {
			if (hashed_match(q, qlen, name)) {
				if (neg)
					return false;
				hit = true;
			}
		} else if (qlen > 0) {
			if (knownhosts_glob(q, qlen, name)) {
				if (neg)
					return false;
				hit = true;
			}
		}
		p += plen + 1;
	}
	return hit;
}

void
knownhosts_names(const struct knownhosts_entry *e,
    void (*fn)(const char *name, void *arg), void *arg)
{
	char name[NAME_MAX_LEN + 1];
	const char *p = e->hosts, *end = e->hosts + e->hostslen, *comma;
	size_t plen;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		plen = (size_t)((comma != NULL ? comma : end) - p);
		if (plen > 0 && plen <= NAME_MAX_LEN && p[0] != '|' &&
		    p[0] != '!' && memchr(p, '*', plen) == NULL &&
		    memchr(p, '?', plen) == NULL) {
			memcpy(name, p, plen);
			name[plen] = '\0';
			fn(name, arg);
		}
		p += plen + 1;
	}
}

bool
knownhosts_pattern_ok(const char *p, const char **why)
{
	size_t n = strlen(p), i;

	if (n == 0 || n > KNOWNHOSTS_PATTERN_MAX) {
		*why = "empty or longer than 255 bytes";
		return false;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f || p[i] == ',') {
			*why = "holds a space, comma or control character";
			return false;
		}
	}
	if (strncmp(p, "SHA256:", 7) == 0) {
		if (n != 7 + 43 || strspn(p + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/") != 43) {
			*why = "a SHA256: fingerprint has 43 base64 characters";
			return false;
		}
	}
	return true;
}
