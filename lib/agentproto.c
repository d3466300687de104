/* agentproto: list an agent's identities. See agentproto.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "agentproto.h"

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Takes one SSH string at *pos; -1 when it does not fit in len. */
static int
get_string(const unsigned char *buf, size_t len, size_t *pos,
    const unsigned char **s, size_t *slen)
{
	uint32_t n;

	if (len - *pos < 4)
		return -1;
	n = get_u32(buf + *pos);
	if (n > len - *pos - 4)
		return -1;
	*s = buf + *pos + 4;
	*slen = n;
	*pos += 4 + (size_t)n;
	return 0;
}

void
agentproto_fingerprint(const unsigned char *blob, size_t len,
    char out[AGENTPROTO_FP_LEN + 1])
{
	unsigned char hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, blob, len);
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, AGENTPROTO_FP_LEN + 1 - 7, hash, sizeof(hash),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int
agentproto_key_type(const unsigned char *blob, size_t len,
    char out[AGENTPROTO_TYPE_MAX])
{
	const unsigned char *s;
	size_t pos = 0, slen, i;

	if (get_string(blob, len, &pos, &s, &slen) == -1 || slen == 0 ||
	    slen >= AGENTPROTO_TYPE_MAX)
		return -1;
	for (i = 0; i < slen; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return -1;
	}
	memcpy(out, s, slen);
	out[slen] = '\0';
	return 0;
}

/* --- key blobs and ADD bodies --------------------------------------------- */

/*
 * The relay forwards a key blob only in its canonical encoding, the one the
 * agent itself would write: OpenSSH 9.2 reads blobs loosely (short type names
 * in any case, signature names, mpints with extra leading zeros, compressed
 * EC points), and a loose blob names the agent's key under another hash. So
 * every public field is checked for the one form it may have, and nothing
 * may be left over. Such a blob re-encodes to the same bytes, and its hash
 * is the fingerprint the agent's key has.
 */
enum keyfam { FAM_ED25519, FAM_ECDSA, FAM_RSA, FAM_DSA, FAM_SK_ED25519,
    FAM_SK_ECDSA };

static const struct keytype {
	const char	*name;
	const char	*plain;		/* the key a certificate certifies */
	enum keyfam	 fam;
	int		 cert;
	const char	*curve;		/* ecdsa: the curve the name names */
	size_t		 qlen;		/* ecdsa: the uncompressed point's length */
} keytypes[] = {
	{ "ssh-ed25519", NULL, FAM_ED25519, 0, NULL, 0 },
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", FAM_ED25519, 1,
	    NULL, 0 },
	{ "ecdsa-sha2-nistp256", NULL, FAM_ECDSA, 0, "nistp256", 65 },
	{ "ecdsa-sha2-nistp384", NULL, FAM_ECDSA, 0, "nistp384", 97 },
	{ "ecdsa-sha2-nistp521", NULL, FAM_ECDSA, 0, "nistp521", 133 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256",
	    FAM_ECDSA, 1, "nistp256", 65 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384",
	    FAM_ECDSA, 1, "nistp384", 97 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521",
	    FAM_ECDSA, 1, "nistp521", 133 },
	{ "ssh-rsa", NULL, FAM_RSA, 0, NULL, 0 },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa", FAM_RSA, 1, NULL, 0 },
	{ "ssh-dss", NULL, FAM_DSA, 0, NULL, 0 },
	{ "ssh-dss-cert-v01@openssh.com", "ssh-dss", FAM_DSA, 1, NULL, 0 },
	{ "sk-ssh-ed25519@openssh.com", NULL, FAM_SK_ED25519, 0, NULL, 0 },
	{ "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com",
	    FAM_SK_ED25519, 1, NULL, 0 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", NULL, FAM_SK_ECDSA, 0,
	    "nistp256", 65 },
	{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "sk-ecdsa-sha2-nistp256@openssh.com", FAM_SK_ECDSA, 1,
	    "nistp256", 65 },
};

/* The public fields of each family, in public-blob order. */
enum field { F_NONE, F_ED25519, F_CURVE, F_POINT, F_MPINT, F_APP };
static const enum field pubfields[][4] = {
	[FAM_ED25519] = { F_ED25519 },
	[FAM_ECDSA] = { F_CURVE, F_POINT },
	[FAM_RSA] = { F_MPINT, F_MPINT },		/* e, n */
	[FAM_DSA] = { F_MPINT, F_MPINT, F_MPINT, F_MPINT }, /* p, q, g, y */
	[FAM_SK_ED25519] = { F_ED25519, F_APP },
	[FAM_SK_ECDSA] = { F_CURVE, F_POINT, F_APP },
};

#define ED25519_PK_LEN	32
#define MPINT_MAX	(16384 / 8 + 1)	/* OpenSSH's SSHBUF_MAX_BIGNUM + 1 */
#define CERT_USER	1
#define CERT_HOST	2

static const struct keytype *
keytype_find(const unsigned char *name, size_t len)
{
	size_t i;

	/* Exactly, case and all: OpenSSH's short names are not key types. */
	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		if (strlen(keytypes[i].name) == len &&
		    memcmp(keytypes[i].name, name, len) == 0)
			return &keytypes[i];
	}
	return NULL;
}

/* An mpint as sshbuf_put_bignum2 writes it: not negative, no zero byte
 * before a byte without its high bit, zero as the empty string. */
static int
mpint_canonical(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (n > MPINT_MAX || (s[0] & 0x80))
		return -1;
	if (s[0] == 0 && (n == 1 || (s[1] & 0x80) == 0))
		return -1;
	return 0;
}

/* Takes one public field at *pos; -1 unless it is in its canonical form. */
static int
take_field(const struct keytype *kt, enum field f, const unsigned char *buf,
    size_t len, size_t *pos, const unsigned char **s, size_t *n)
{
	if (get_string(buf, len, pos, s, n) == -1)
		return -1;
	switch (f) {
	case F_ED25519:
		return *n == ED25519_PK_LEN ? 0 : -1;
	case F_CURVE:
		return strlen(kt->curve) == *n &&
		    memcmp(kt->curve, *s, *n) == 0 ? 0 : -1;
	case F_POINT:
		return *n == kt->qlen && (*s)[0] == 0x04 ? 0 : -1;
	case F_MPINT:
		return mpint_canonical(*s, *n);
	case F_APP:
		return memchr(*s, '\0', *n) == NULL ? 0 : -1;
	case F_NONE:
		break;
	}
	return -1;
}

/* A public blob under construction: at most the size of what it came from. */
struct blob {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
};

static void
blob_put_string(struct blob *b, const unsigned char *s, size_t n)
{
	b->buf[b->len++] = (unsigned char)(n >> 24);
	b->buf[b->len++] = (unsigned char)(n >> 16);
	b->buf[b->len++] = (unsigned char)(n >> 8);
	b->buf[b->len++] = (unsigned char)n;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static int
blob_init(struct blob *b, size_t cap)
{
	b->len = 0;
	b->cap = cap + 64;
	return (b->buf = malloc(b->cap)) == NULL ? -1 : 0;
}

/*
 * Checks the public fields of kt at *pos and, when b is not NULL, appends
 * them to b (which holds the type name). The private RSA encoding holds n
 * before e (swap_rsa); the public blob e, n.
 */
static int
take_fields(struct blob *b, const struct keytype *kt,
    const unsigned char *buf, size_t len, size_t *pos, int swap_rsa)
{
	const enum field *fields = pubfields[kt->fam];
	const unsigned char *f[4];
	size_t flen[4];
	int i, n;

	for (n = 0; n < 4 && fields[n] != F_NONE; n++) {
		if (take_field(kt, fields[n], buf, len, pos, &f[n],
		    &flen[n]) == -1)
			return -1;
	}
	if (b == NULL)
		return 0;
	if (swap_rsa && kt->fam == FAM_RSA) {
		blob_put_string(b, f[1], flen[1]);
		blob_put_string(b, f[0], flen[0]);
		return 0;
	}
	for (i = 0; i < n; i++)
		blob_put_string(b, f[i], flen[i]);
	return 0;
}

static int
take_u(size_t len, size_t *pos, size_t n)
{
	if (len - *pos < n)
		return -1;
	*pos += n;
	return 0;
}

/* A plain key blob in its canonical encoding, or -1. */
static const struct keytype *
plain_canonical(const unsigned char *blob, size_t len)
{
	const struct keytype *kt;
	const unsigned char *s;
	size_t pos = 0, n;

	if (get_string(blob, len, &pos, &s, &n) == -1 ||
	    (kt = keytype_find(s, n)) == NULL || kt->cert ||
	    take_fields(NULL, kt, blob, len, &pos, 0) == -1 || pos != len)
		return NULL;
	return kt;
}

/* A list of NUL-free strings (a certificate's principals). */
static int
walk_cstrings(const unsigned char *buf, size_t len)
{
	const unsigned char *s;
	size_t pos = 0, n;

	while (pos < len) {
		if (get_string(buf, len, &pos, &s, &n) == -1 ||
		    memchr(s, '\0', n) != NULL)
			return -1;
	}
	return 0;
}

/* Critical options or extensions: (NUL-free name, data) pairs. */
static int
walk_options(const unsigned char *buf, size_t len)
{
	const unsigned char *s;
	size_t pos = 0, n;

	while (pos < len) {
		if (get_string(buf, len, &pos, &s, &n) == -1 ||
		    memchr(s, '\0', n) != NULL ||
		    get_string(buf, len, &pos, &s, &n) == -1)
			return -1;
	}
	return 0;
}

/*
 * A certificate blob of type kt, walked whole: each field in its place, the
 * certified key and the CA key canonical, nothing left over. Its plain key's
 * fingerprint goes to out.
 */
static int
cert_key(const struct keytype *kt, const unsigned char *cert, size_t len,
    struct agentproto_key *out)
{
	const unsigned char *s;
	size_t pos = 0, n;
	struct blob b;

	if (get_string(cert, len, &pos, &s, &n) == -1 ||	/* cert type */
	    keytype_find(s, n) != kt ||
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* nonce */
	    blob_init(&b, len) == -1)
		return -1;
	blob_put_string(&b, (const unsigned char *)kt->plain, strlen(kt->plain));
	if (take_fields(&b, kt, cert, len, &pos, 0) == -1 ||
	    take_u(len, &pos, 8) == -1 ||			/* serial */
	    len - pos < 4 || (get_u32(cert + pos) != CERT_USER &&
	    get_u32(cert + pos) != CERT_HOST) ||
	    take_u(len, &pos, 4) == -1 ||			/* type */
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* key id */
	    memchr(s, '\0', n) != NULL ||
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* principals */
	    walk_cstrings(s, n) == -1 ||
	    take_u(len, &pos, 16) == -1 ||			/* valid after, before */
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* critical options */
	    walk_options(s, n) == -1 ||
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* extensions */
	    walk_options(s, n) == -1 ||
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* reserved */
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* CA key */
	    plain_canonical(s, n) == NULL ||
	    get_string(cert, len, &pos, &s, &n) == -1 ||	/* signature */
	    n == 0 || pos != len) {
		free(b.buf);
		return -1;
	}
	agentproto_fingerprint(b.buf, b.len, out->fingerprint);
	strlcpy(out->type, kt->name, sizeof(out->type));
	free(b.buf);
	return 0;
}

/* unknown_ok: a type we do not know is hashed as it is (the agent's own
 * answers, never a request). */
static int
blob_key(const unsigned char *blob, size_t len, struct agentproto_key *out,
    int unknown_ok)
{
	const struct keytype *kt;
	const unsigned char *s;
	size_t pos = 0, n;

	if (agentproto_key_type(blob, len, out->type) == -1)
		goto bad;
	(void)get_string(blob, len, &pos, &s, &n);
	if ((kt = keytype_find(s, n)) == NULL) {
		if (!unknown_ok)
			goto bad;
		agentproto_fingerprint(blob, len, out->fingerprint);
		return 0;
	}
	if (kt->cert)
		return cert_key(kt, blob, len, out) == -1 ? (errno = EBADMSG, -1) : 0;
	if (plain_canonical(blob, len) == NULL)
		goto bad;
	agentproto_fingerprint(blob, len, out->fingerprint);
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int
agentproto_blob_key(const unsigned char *blob, size_t len,
    struct agentproto_key *out)
{
	return blob_key(blob, len, out, 0);
}

/* Skips n SSH strings (or mpints) at *pos. */
static int
skip_strings(const unsigned char *buf, size_t len, size_t *pos, int n)
{
	const unsigned char *s;
	size_t slen;

	while (n-- > 0) {
		if (get_string(buf, len, pos, &s, &slen) == -1)
			return -1;
	}
	return 0;
}

static int
skip_u8(size_t len, size_t *pos)
{
	if (len - *pos < 1)
		return -1;
	(*pos)++;
	return 0;
}

/*
 * Walks the private key encoding at *pos, leaving the public key in out.
 * Returns 0, -1 (malformed) or -2 (a key type we do not know).
 */
static int
walk_private_key(const unsigned char *body, size_t len, size_t *pos,
    struct agentproto_key *out, unsigned char **pub, size_t *publen)
{
	const struct keytype *kt;
	const unsigned char *s, *cert;
	size_t n, certlen;
	struct blob b;

	if (get_string(body, len, pos, &s, &n) == -1)
		return -1;
	if ((kt = keytype_find(s, n)) == NULL)
		return -2;
	if (kt->cert) {
		if (get_string(body, len, pos, &cert, &certlen) == -1 ||
		    cert_key(kt, cert, certlen, out) == -1 ||
		    (*pub = malloc(certlen)) == NULL)
			return -1;
		/* The agent knows a certificate identity by the cert blob. */
		memcpy(*pub, cert, certlen);
		*publen = certlen;
		switch (kt->fam) {
		case FAM_ED25519:
			return skip_strings(body, len, pos, 2);	/* pk, sk */
		case FAM_ECDSA:
			return skip_strings(body, len, pos, 1);	/* d */
		case FAM_RSA:
			return skip_strings(body, len, pos, 4);	/* d iqmp p q */
		case FAM_DSA:
			return skip_strings(body, len, pos, 1);	/* x */
		case FAM_SK_ED25519:
		case FAM_SK_ECDSA:	/* flags, key handle, reserved */
			return skip_u8(len, pos) == -1 ? -1 :
			    skip_strings(body, len, pos, 2);
		}
		return -1;
	}
	if (blob_init(&b, len) == -1)
		return -1;
	blob_put_string(&b, s, n);
	if (take_fields(&b, kt, body, len, pos, 1) == -1)
		goto bad;
	switch (kt->fam) {
	case FAM_ED25519:
	case FAM_ECDSA:
		if (skip_strings(body, len, pos, 1) == -1)	/* sk | d */
			goto bad;
		break;
	case FAM_RSA:
		if (skip_strings(body, len, pos, 4) == -1)	/* d iqmp p q */
			goto bad;
		break;
	case FAM_DSA:
		if (skip_strings(body, len, pos, 1) == -1)	/* x */
			goto bad;
		break;
	case FAM_SK_ED25519:
	case FAM_SK_ECDSA:
		if (skip_u8(len, pos) == -1 ||
		    skip_strings(body, len, pos, 2) == -1)
			goto bad;
		break;
	}
	agentproto_fingerprint(b.buf, b.len, out->fingerprint);
	strlcpy(out->type, kt->name, sizeof(out->type));
	*pub = b.buf;
	*publen = b.len;
	return 0;
bad:
	free(b.buf);
	return -1;
}

/* Constraint extensions, each with the one body shape it may have. */
enum ext_body { EXT_STRING, EXT_BOOL_STRING };
static const struct constraint_ext {
	const char	*name;
	enum ext_body	 body;
	int		 card;	/* also valid on a smartcard add */
} constraint_exts[] = {
	{ "restrict-destination-v00@openssh.com", EXT_STRING, 1 },
	{ "sk-provider@openssh.com", EXT_STRING, 0 },
	{ "associated-certs-v00@openssh.com", EXT_BOOL_STRING, 1 },
};

/*
 * Steps over one constraint at *pos. Returns its type byte, or -1 (malformed)
 * or -2 (unknown: the constraint or extension cannot be skipped safely, or
 * is not valid on this kind of add).
 */
static int
next_constraint(const unsigned char *body, size_t len, size_t *pos, int card)
{
	const unsigned char *name;
	size_t n, i;
	int c;

	if (len - *pos < 1)
		return -1;
	c = body[(*pos)++];
	switch (c) {
	case AGENTPROTO_CONSTRAIN_LIFETIME:
	case AGENTPROTO_CONSTRAIN_MAXSIGN:
		if (len - *pos < 4)
			return -1;
		*pos += 4;
		return c;
	case AGENTPROTO_CONSTRAIN_CONFIRM:
		return c;
	case AGENTPROTO_CONSTRAIN_EXTENSION:
		if (get_string(body, len, pos, &name, &n) == -1)
			return -1;
		for (i = 0; i < sizeof(constraint_exts) /
		    sizeof(constraint_exts[0]); i++) {
			if (strlen(constraint_exts[i].name) == n &&
			    memcmp(constraint_exts[i].name, name, n) == 0)
				break;
		}
		if (i == sizeof(constraint_exts) / sizeof(constraint_exts[0]) ||
		    (card && !constraint_exts[i].card))
			return -2;
		if (constraint_exts[i].body == EXT_STRING)
			return skip_strings(body, len, pos, 1) == -1 ? -1 : c;
		return skip_u8(len, pos) == -1 ||
		    skip_strings(body, len, pos, 1) == -1 ? -1 : c;
	default:
		return -2;
	}
}

/* The constraints from *pos to the end, into out. 0 or -1 with *why. */
static int
parse_constraints(const unsigned char *body, size_t len, size_t pos,
    int card, struct agentproto_add *out, const char **why)
{
	size_t start;
	int c;

	out->constraints_off = pos;
	while (pos < len) {
		start = pos;
		if ((c = next_constraint(body, len, &pos, card)) < 0) {
			*why = c == -2 ? "unknown constraint or extension" :
			    "malformed";
			return -1;
		}
		if (c == AGENTPROTO_CONSTRAIN_LIFETIME) {
			if (out->has_lifetime) {
				*why = "duplicate lifetime constraint";
				return -1;
			}
			out->has_lifetime = 1;
			out->lifetime = get_u32(body + start + 1);
		} else if (c == AGENTPROTO_CONSTRAIN_CONFIRM) {
			if (out->confirm) {
				*why = "duplicate confirm constraint";
				return -1;
			}
			out->confirm = 1;
		} else if (c == AGENTPROTO_CONSTRAIN_MAXSIGN && card) {
			*why = "unknown constraint or extension";
			return -1;
		}
	}
	return 0;
}

int
agentproto_parse_add(const unsigned char *body, size_t len,
    struct agentproto_add *out, const char **why)
{
	const unsigned char *comment;
	size_t pos = 0, n;
	int r;

	memset(out, 0, sizeof(*out));
	*why = "malformed";
	if ((r = walk_private_key(body, len, &pos, &out->key, &out->blob,
	    &out->bloblen)) != 0) {
		if (r == -2)
			*why = "unknown key type";
		goto fail;
	}
	if (get_string(body, len, &pos, &comment, &n) == -1 ||
	    parse_constraints(body, len, pos, 0, out, why) == -1)
		goto fail;
	*why = NULL;
	return 0;
fail:
	agentproto_add_free(out);
	errno = EBADMSG;
	return -1;
}

void
agentproto_add_free(struct agentproto_add *add)
{
	free(add->blob);
	add->blob = NULL;
	add->bloblen = 0;
}

int
agentproto_with_lifetime(int type, const unsigned char *body, size_t len,
    size_t constraints_off, uint32_t lifetime, unsigned char **frame,
    size_t *framelen)
{
	unsigned char *f;
	size_t pos, start, o, flen;
	int c, card = type == AGENTPROTO_ADD_SMARTCARD_CONSTRAINED;

	/* The new lifetime replaces the old (5 bytes each): at most 5 more. */
	if (len > AGENTPROTO_MAX_FRAME - 6 || constraints_off > len ||
	    (f = malloc(len + 4 + 1 + 5)) == NULL) {
		errno = len > AGENTPROTO_MAX_FRAME - 6 ? EMSGSIZE :
		    constraints_off > len ? EBADMSG : ENOMEM;
		return -1;
	}
	o = 4;
	f[o++] = (unsigned char)type;
	memcpy(f + o, body, constraints_off);
	o += constraints_off;
	f[o++] = AGENTPROTO_CONSTRAIN_LIFETIME;
	f[o++] = (unsigned char)(lifetime >> 24);
	f[o++] = (unsigned char)(lifetime >> 16);
	f[o++] = (unsigned char)(lifetime >> 8);
	f[o++] = (unsigned char)lifetime;
	for (pos = constraints_off; pos < len;) {
		start = pos;
		if ((c = next_constraint(body, len, &pos, card)) < 0) {
			sodium_memzero(f, len + 10);
			free(f);
			errno = EBADMSG;
			return -1;
		}
		/* confirm is the relay's to enforce (DESIGN §8): ssh-agent
		 * under agentd has no askpass and would refuse every use. */
		if (c != AGENTPROTO_CONSTRAIN_LIFETIME &&
		    c != AGENTPROTO_CONSTRAIN_CONFIRM) {
			memcpy(f + o, body + start, pos - start);
			o += pos - start;
		}
	}
	flen = o - 4;
	f[0] = (unsigned char)(flen >> 24);
	f[1] = (unsigned char)(flen >> 16);
	f[2] = (unsigned char)(flen >> 8);
	f[3] = (unsigned char)flen;
	*frame = f;
	*framelen = o;
	return 0;
}

int
agentproto_parse_sign(const unsigned char *body, size_t len,
    struct agentproto_key *out)
{
	const unsigned char *blob;
	size_t pos = 0, n;

	if (get_string(body, len, &pos, &blob, &n) == -1 ||
	    skip_strings(body, len, &pos, 1) == -1 || len - pos != 4) {
		errno = EBADMSG;
		return -1;
	}
	return agentproto_blob_key(blob, n, out);
}

int
agentproto_parse_remove(const unsigned char *body, size_t len,
    struct agentproto_key *out)
{
	const unsigned char *blob;
	size_t pos = 0, n;

	if (get_string(body, len, &pos, &blob, &n) == -1 || pos != len) {
		errno = EBADMSG;
		return -1;
	}
	return agentproto_blob_key(blob, n, out);
}

int
agentproto_parse_session_bind(const unsigned char *body, size_t len,
    char hostkey_fp[AGENTPROTO_FP_LEN + 1], int *forwarding)
{
	static const char name[] = "session-bind@openssh.com";
	const unsigned char *s, *hostkey;
	struct agentproto_key k;
	size_t pos = 0, n, hklen;

	if (get_string(body, len, &pos, &s, &n) == -1)
		goto bad;
	if (n != sizeof(name) - 1 || memcmp(s, name, n) != 0)
		return 0;
	if (get_string(body, len, &pos, &hostkey, &hklen) == -1 ||
	    get_string(body, len, &pos, &s, &n) == -1 ||	/* session id */
	    n > AGENTPROTO_MAX_SID ||
	    skip_strings(body, len, &pos, 1) == -1 ||	/* signature */
	    len - pos != 1 || body[pos] > 1 ||		/* bool */
	    agentproto_blob_key(hostkey, hklen, &k) == -1)
		goto bad;
	memcpy(hostkey_fp, k.fingerprint, AGENTPROTO_FP_LEN + 1);
	*forwarding = body[pos] != 0;
	return 1;
bad:
	errno = EBADMSG;
	return -1;
}

/* --- the relay's allowlist ---------------------------------------------- */

/* A string without NUL bytes, as OpenSSH's sshbuf_get_cstring wants it. */
static int
get_cstring(const unsigned char *buf, size_t len, size_t *pos,
    const unsigned char **s, size_t *slen)
{
	return get_string(buf, len, pos, s, slen) == -1 ||
	    memchr(*s, '\0', *slen) != NULL ? -1 : 0;
}

/* Each parser gets the body after the type byte. */
static int
req_empty(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	(void)why;
	(void)body;
	(void)out;
	return len == 0 ? 0 : -1;
}

static int
req_sign(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	(void)why;
	return agentproto_parse_sign(body, len, &out->key);
}

static int
req_remove(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	(void)why;
	return agentproto_parse_remove(body, len, &out->key);
}

static int
req_add(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	return agentproto_parse_add(body, len, &out->add, why);
}

/* 20/26: string provider, string PIN, constraints (OpenSSH parses them on
 * both); 21: string provider, string PIN. */
static int
req_card(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why, int add)
{
	const unsigned char *pin;
	size_t pos = 0, pinlen;

	if (get_cstring(body, len, &pos, &out->provider,
	    &out->providerlen) == -1 || out->providerlen == 0 ||
	    get_cstring(body, len, &pos, &pin, &pinlen) == -1)
		return -1;
	if (!add)
		return pos == len ? 0 : -1;
	return parse_constraints(body, len, pos, 1, &out->add, why);
}

static int
req_card_add(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	return req_card(body, len, out, why, 1);
}

static int
req_card_remove(const unsigned char *body, size_t len,
    struct agentproto_req *out,
    const char **why)
{
	return req_card(body, len, out, why, 0);
}

/* (Un)lock: exactly one NUL-free string, the password (OpenSSH 9.2's agent
 * dies on anything else). */
static int
req_lock(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	const unsigned char *pw;
	size_t pos = 0, n;

	(void)why;
	(void)out;
	return get_cstring(body, len, &pos, &pw, &n) == -1 || pos != len ?
	    -1 : 0;
}

static int
req_bind(const unsigned char *body, size_t len, struct agentproto_req *out,
    const char **why)
{
	(void)why;
	return agentproto_parse_session_bind(body, len, out->key.fingerprint,
	    &out->forwarding) == 1 ? 0 : -1;
}

/* An extension with no body: the name and nothing after it. */
static int
req_ext_empty(const unsigned char *body, size_t len,
    struct agentproto_req *out,
    const char **why)
{
	const unsigned char *name;
	size_t pos = 0, n;

	(void)why;
	(void)out;
	return get_string(body, len, &pos, &name, &n) == -1 || pos != len ?
	    -1 : 0;
}

/* The one table: what the relay forwards. Anything else gets FAILURE. */
static const struct allowed {
	unsigned char		 type;
	const char		*ext;	/* for type 27: the extension name */
	enum agentproto_req_kind kind;
	const char		*name;
	int			(*parse)(const unsigned char *, size_t,
				    struct agentproto_req *, const char **);
} allowlist[] = {
	{ AGENTPROTO_REQUEST_IDENTITIES, NULL, AGENTPROTO_REQ_LIST,
	    "request_identities", req_empty },
	{ AGENTPROTO_SIGN_REQUEST, NULL, AGENTPROTO_REQ_SIGN,
	    "sign_request", req_sign },
	{ AGENTPROTO_ADD_IDENTITY, NULL, AGENTPROTO_REQ_ADD,
	    "add_identity", req_add },
	{ AGENTPROTO_ADD_ID_CONSTRAINED, NULL, AGENTPROTO_REQ_ADD,
	    "add_id_constrained", req_add },
	{ AGENTPROTO_REMOVE_IDENTITY, NULL, AGENTPROTO_REQ_REMOVE,
	    "remove_identity", req_remove },
	{ AGENTPROTO_REMOVE_ALL, NULL, AGENTPROTO_REQ_REMOVE_ALL,
	    "remove_all_identities", req_empty },
	{ AGENTPROTO_REMOVE_ALL_RSA, NULL, AGENTPROTO_REQ_REMOVE_ALL,
	    "remove_all_rsa_identities", req_empty },
	{ AGENTPROTO_ADD_SMARTCARD, NULL, AGENTPROTO_REQ_ADD_CARD,
	    "add_smartcard_key", req_card_add },
	{ AGENTPROTO_ADD_SMARTCARD_CONSTRAINED, NULL, AGENTPROTO_REQ_ADD_CARD,
	    "add_smartcard_key_constrained", req_card_add },
	{ AGENTPROTO_REMOVE_SMARTCARD, NULL, AGENTPROTO_REQ_REMOVE_CARD,
	    "remove_smartcard_key", req_card_remove },
	{ AGENTPROTO_LOCK, NULL, AGENTPROTO_REQ_LOCK, "lock", req_lock },
	{ AGENTPROTO_UNLOCK, NULL, AGENTPROTO_REQ_UNLOCK, "unlock", req_lock },
	{ AGENTPROTO_EXTENSION, "session-bind@openssh.com",
	    AGENTPROTO_REQ_SESSION_BIND, "session-bind@openssh.com", req_bind },
	{ AGENTPROTO_EXTENSION, "query", AGENTPROTO_REQ_QUERY, "query",
	    req_ext_empty },
};
#define NALLOWED	(sizeof(allowlist) / sizeof(allowlist[0]))

const char *
agentproto_allowlist_entry(size_t i)
{
	static char buf[64];

	if (i >= NALLOWED)
		return NULL;
	snprintf(buf, sizeof(buf), "%u%s%s", allowlist[i].type,
	    allowlist[i].ext != NULL ? " " : "",
	    allowlist[i].ext != NULL ? allowlist[i].ext : "");
	return buf;
}

int
agentproto_parse_request(const unsigned char *body, size_t len,
    struct agentproto_req *out, const char **why)
{
	const unsigned char *name = NULL;
	size_t i, pos = 0, n = 0;
	int seen = 0;

	memset(out, 0, sizeof(*out));
	*why = "empty frame";
	if (len < 1)
		goto fail;
	if (body[0] == AGENTPROTO_EXTENSION &&
	    get_string(body + 1, len - 1, &pos, &name, &n) == -1) {
		*why = "malformed";
		goto fail;
	}
	for (i = 0; i < NALLOWED; i++) {
		if (allowlist[i].type != body[0])
			continue;
		seen = 1;
		if (allowlist[i].ext == NULL ||
		    (strlen(allowlist[i].ext) == n &&
		    memcmp(allowlist[i].ext, name, n) == 0))
			break;
	}
	if (i == NALLOWED) {
		*why = seen ? "unknown extension" : "unknown message type";
		goto fail;
	}
	out->kind = allowlist[i].kind;
	out->name = allowlist[i].name;
	*why = "malformed";
	if (allowlist[i].parse(body + 1, len - 1, out, why) == -1) {
		agentproto_req_free(out);
		goto fail;
	}
	*why = NULL;
	return 0;
fail:
	errno = EBADMSG;
	return -1;
}

void
agentproto_req_free(struct agentproto_req *req)
{
	agentproto_add_free(&req->add);
}

int
agentproto_parse_identities(const unsigned char *body, size_t len,
    struct agentproto_key **keys, size_t *nkeys)
{
	struct agentproto_key *k = NULL;
	const unsigned char *blob, *comment;
	size_t pos = 4, bloblen, commentlen, i;
	uint32_t n;

	if (len < 4)
		goto bad;
	n = get_u32(body);
	/* Each identity takes at least 8 bytes: do not trust n for the allocation. */
	if (n > (len - 4) / 8)
		goto bad;
	if (n > 0 && (k = calloc(n, sizeof(*k))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (get_string(body, len, &pos, &blob, &bloblen) == -1 ||
		    get_string(body, len, &pos, &comment, &commentlen) == -1 ||
		    blob_key(blob, bloblen, &k[i], 1) == -1)
			goto bad;
	}
	if (pos != len)
		goto bad;
	*keys = k;
	*nkeys = n;
	return 0;
bad:
	free(k);
	errno = EBADMSG;
	return -1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; -1 with ETIMEDOUT after it. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

int
agentproto_list(const char *path, int timeout_ms, struct agentproto_key **keys,
    size_t *nkeys, char **cause)
{
	static const unsigned char req[5] = { 0, 0, 0, 1,
	    AGENTPROTO_REQUEST_IDENTITIES };
	struct sockaddr_un sun;
	long long deadline = now_ms() + timeout_ms;
	unsigned char hdr[5], *body = NULL;
	size_t have = 0, want = sizeof(hdr);
	uint32_t flen = 0;
	ssize_t n;
	int fd, saved;
	const char *what = "connect";

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		goto fail_nofd;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail_nofd;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != EAGAIN || wait_fd(fd, POLLOUT, deadline) == -1))
		goto fail;
	what = "write";
	if (wait_fd(fd, POLLOUT, deadline) == -1 ||
	    write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
		goto fail;
	what = "read";
	while (have < want) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			goto fail;
		if (body == NULL)
			n = read(fd, hdr + have, want - have);
		else
			n = read(fd, body + have - sizeof(hdr), want - have);
		if (n == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto fail;
		}
		have += (size_t)n;
		if (body == NULL && have == sizeof(hdr)) {
			flen = get_u32(hdr);
			if (flen < 1 || flen > AGENTPROTO_MAX_FRAME ||
			    hdr[4] != AGENTPROTO_IDENTITIES_ANSWER) {
				errno = EBADMSG;
				goto fail;
			}
			want = 4 + (size_t)flen;
			if ((body = malloc(flen)) == NULL)
				goto fail;
		}
	}
	close(fd);
	what = "parse";
	if (agentproto_parse_identities(body, flen - 1,
	    keys, nkeys) == -1)
		goto fail_nofd;
	free(body);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
fail_nofd:
	saved = errno;
	free(body);
	if (cause != NULL && asprintf(cause, "%s: agent %s failed: %s", path,
	    what, strerror(saved)) == -1)
		*cause = NULL;
	errno = saved;
	return -1;
}
