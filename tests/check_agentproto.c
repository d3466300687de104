/* Unit tests for lib/agentproto's allowlist (agentproto_parse_request): every
 * request real clients send is accepted with the right kind and fields;
 * every one of them with a byte added or taken away, every type outside the
 * table and every unknown extension is refused; a smartcard add keeps its
 * provider and constraints and its lifetime can be rewritten; a key blob is
 * named only in its canonical encoding (exact type name, exact fields,
 * minimal mpints, a whole certificate), every loose form refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "agentproto.h"
#include "checkrun.h"

struct buf {
	unsigned char	b[4096];
	size_t		n;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put_u8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put(b, &c, 1);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, c, 4);
}

static void
put_str(struct buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	put(b, p, n);
}

static void
put_cstr(struct buf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

/* An ed25519 public key blob. */
static void
ed_blob(struct buf *b)
{
	unsigned char pk[32];

	memset(pk, 0x42, sizeof(pk));
	b->n = 0;
	put_cstr(b, "ssh-ed25519");
	put_str(b, pk, sizeof(pk));
}

/* The requests OpenSSH 9.2's ssh and ssh-add send, one per kind. */
static size_t
valid_requests(struct buf *out, enum agentproto_req_kind *kind)
{
	struct buf blob, sig;
	unsigned char sk[64], sid[32];
	size_t n = 0;

	ed_blob(&blob);
	memset(sk, 0x11, sizeof(sk));
	memset(sid, 0x22, sizeof(sid));
	memset(out, 0, 13 * sizeof(*out));

	put_u8(&out[n], 11); kind[n++] = AGENTPROTO_REQ_LIST;
	put_u8(&out[n], 13); put_str(&out[n], blob.b, blob.n);
	put_cstr(&out[n], "data"); put_u32(&out[n], 0); kind[n++] = AGENTPROTO_REQ_SIGN;
	put_u8(&out[n], 25); put_cstr(&out[n], "ssh-ed25519");
	put_str(&out[n], blob.b + 15, 32); put_str(&out[n], sk, 64);
	put_cstr(&out[n], "comment"); put_u8(&out[n], 1); put_u32(&out[n], 60);
	put_u8(&out[n], 2); kind[n++] = AGENTPROTO_REQ_ADD;
	put_u8(&out[n], 18); put_str(&out[n], blob.b, blob.n); kind[n++] = AGENTPROTO_REQ_REMOVE;
	put_u8(&out[n], 19); kind[n++] = AGENTPROTO_REQ_REMOVE_ALL;
	put_u8(&out[n], 9); kind[n++] = AGENTPROTO_REQ_REMOVE_ALL;
	put_u8(&out[n], 26); put_cstr(&out[n], "/usr/lib/p11.so");
	put_cstr(&out[n], "1234"); put_u8(&out[n], 1); put_u32(&out[n], 30);
	kind[n++] = AGENTPROTO_REQ_ADD_CARD;
	put_u8(&out[n], 20); put_cstr(&out[n], "/usr/lib/p11.so");
	put_cstr(&out[n], "1234"); kind[n++] = AGENTPROTO_REQ_ADD_CARD;
	put_u8(&out[n], 21); put_cstr(&out[n], "/usr/lib/p11.so");
	put_cstr(&out[n], ""); kind[n++] = AGENTPROTO_REQ_REMOVE_CARD;
	put_u8(&out[n], 22); put_cstr(&out[n], "pw"); kind[n++] = AGENTPROTO_REQ_LOCK;
	put_u8(&out[n], 23); put_cstr(&out[n], "pw"); kind[n++] = AGENTPROTO_REQ_UNLOCK;
	sig.n = 0;
	put_cstr(&sig, "ssh-ed25519");
	put_str(&sig, sk, 64);
	put_u8(&out[n], 27); put_cstr(&out[n], "session-bind@openssh.com");
	put_str(&out[n], blob.b, blob.n); put_str(&out[n], sid, sizeof(sid));
	put_str(&out[n], sig.b, sig.n); put_u8(&out[n], 1);
	kind[n++] = AGENTPROTO_REQ_SESSION_BIND;
	put_u8(&out[n], 27); put_cstr(&out[n], "query"); kind[n++] = AGENTPROTO_REQ_QUERY;
	return n;
}

START_TEST(test_valid)
{
	struct buf f[13];
	enum agentproto_req_kind kind[13];
	struct agentproto_req req;
	const char *why;
	size_t i, n = valid_requests(f, kind);

	for (i = 0; i < n; i++) {
		ck_assert_msg(agentproto_parse_request(f[i].b, f[i].n, &req,
		    &why) == 0, "request %zu (type %u): %s", i, f[i].b[0], why);
		ck_assert_int_eq(req.kind, kind[i]);
		ck_assert_ptr_nonnull(req.name);
		if (req.kind == AGENTPROTO_REQ_SESSION_BIND)
			ck_assert_int_eq(req.forwarding, 1);
		if (req.kind == AGENTPROTO_REQ_ADD) {
			ck_assert_str_eq(req.add.key.type, "ssh-ed25519");
			ck_assert(req.add.has_lifetime && req.add.lifetime == 60);
			ck_assert(req.add.confirm);
		}
		if (req.kind == AGENTPROTO_REQ_ADD_CARD ||
		    req.kind == AGENTPROTO_REQ_REMOVE_CARD) {
			ck_assert_uint_eq(req.providerlen, 15);
			ck_assert(memcmp(req.provider, "/usr/lib/p11.so", 15) == 0);
		}
		if (f[i].b[0] == 26)
			ck_assert(req.add.has_lifetime && req.add.lifetime == 30);
		agentproto_req_free(&req);
	}
}
END_TEST

/* One byte more or one less: never a request the agent could read loosely. */
START_TEST(test_exact)
{
	struct buf f[13], g;
	enum agentproto_req_kind kind[13];
	struct agentproto_req req;
	const char *why;
	static const unsigned extras[] = { 0, 1, 2, 3, 0x55, 0xff };
	size_t i, j, n = valid_requests(f, kind);
	unsigned extra;

	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(extras) / sizeof(extras[0]); j++) {
			extra = extras[j];
			g = f[i];
			put_u8(&g, extra);
			/* A trailing 2 (confirm) or 1+u32 would be a constraint: only
			 * adds may grow, and then only by a whole constraint. */
			if (agentproto_parse_request(g.b, g.n, &req, &why) == 0) {
				ck_assert_msg((f[i].b[0] == 25 || f[i].b[0] == 20 ||
				    f[i].b[0] == 26) && extra == 2 && f[i].b[0] != 25,
				    "type %u with one more byte %u accepted",
				    f[i].b[0], extra);
				agentproto_req_free(&req);
			}
		}
		if (f[i].n > 1) {
			g = f[i];
			/* The add ends in a whole confirm constraint: cut into the
			 * lifetime before it instead. */
			g.n -= f[i].b[0] == 25 ? 2 : 1;
			ck_assert_msg(agentproto_parse_request(g.b, g.n, &req,
			    &why) == -1, "type %u one byte short accepted",
			    f[i].b[0]);
		}
	}
}
END_TEST

START_TEST(test_unknown)
{
	struct agentproto_req req;
	struct buf b = { .n = 0 };
	const char *why;
	unsigned t;
	int allowed;

	for (t = 0; t < 256; t++) {
		unsigned char one = (unsigned char)t;

		allowed = t == 11 || t == 19 || t == 9;
		ck_assert_int_eq(agentproto_parse_request(&one, 1, &req, &why),
		    allowed ? 0 : -1);
		if (!allowed && t != 13 && t != 17 && t != 18 && t != 20 &&
		    t != 21 && t != 22 && t != 23 && t != 25 && t != 26 &&
		    t != 27)
			ck_assert_str_eq(why, "unknown message type");
	}
	put_u8(&b, 27);
	put_cstr(&b, "session-bind@openssh.co");
	ck_assert_int_eq(agentproto_parse_request(b.b, b.n, &req, &why), -1);
	ck_assert_str_eq(why, "unknown extension");
	ck_assert_int_eq(agentproto_parse_request(b.b, 0, &req, &why), -1);
	ck_assert_ptr_null(agentproto_allowlist_entry(64));
	ck_assert_str_eq(agentproto_allowlist_entry(0), "11");
}
END_TEST

START_TEST(test_card_lifetime)
{
	struct buf f[13];
	enum agentproto_req_kind kind[13];
	struct agentproto_req req, again;
	unsigned char *nf;
	size_t nflen, i;
	const char *why;

	(void)valid_requests(f, kind);
	for (i = 6; i <= 7; i++) {	/* 26 with a lifetime, 20 without */
		ck_assert_int_eq(agentproto_parse_request(f[i].b, f[i].n, &req,
		    &why), 0);
		ck_assert_int_eq(agentproto_with_lifetime(
		    AGENTPROTO_ADD_SMARTCARD_CONSTRAINED, f[i].b + 1, f[i].n - 1,
		    req.add.constraints_off, 7, &nf, &nflen), 0);
		ck_assert_int_eq(agentproto_parse_request(nf + 4, nflen - 4,
		    &again, &why), 0);
		ck_assert_int_eq(nf[4], 26);
		ck_assert(again.add.has_lifetime && again.add.lifetime == 7);
		ck_assert(memmem(nf, nflen, "1234", 4) != NULL);
		sodium_memzero(nf, nflen);
		free(nf);
		agentproto_req_free(&req);
	}
}
END_TEST

/* --- canonical key blobs ------------------------------------------------- */

/* Key blobs: the canonical one of each family first, then loose forms of it
 * that OpenSSH 9.2 reads as the same key (or refuses), each to be refused. */
static void
rsa_blob(struct buf *b, const char *type, size_t epad, size_t npad)
{
	unsigned char e[3] = { 1, 0, 1 }, n[129], zero[4] = { 0 };

	memset(n, 0xc5, sizeof(n));
	n[0] = 0;		/* the high bit of n[1] needs one zero */
	b->n = 0;
	put_cstr(b, type);
	put_u32(b, (uint32_t)(sizeof(e) + epad));
	put(b, zero, epad);
	put(b, e, sizeof(e));
	put_u32(b, (uint32_t)(sizeof(n) + npad));
	put(b, zero, npad);
	put(b, n, sizeof(n));
}

static void
ecdsa_blob(struct buf *b, const char *type, const char *curve, size_t qlen,
    unsigned form)
{
	unsigned char q[133];

	memset(q, 0x33, sizeof(q));
	q[0] = (unsigned char)form;
	b->n = 0;
	put_cstr(b, type);
	put_cstr(b, curve);
	put_str(b, q, qlen);
}

static void
ed_blob_as(struct buf *b, const char *type, size_t pklen)
{
	unsigned char pk[33];

	memset(pk, 0x42, sizeof(pk));
	pk[0] = 0;
	b->n = 0;
	put_cstr(b, type);
	put_str(b, pk, pklen);
}

/* A certificate for the ed25519 key of ed_blob, signed (in form only) by a
 * CA key blob ca; certtype 1 (user) or 2 (host). */
static void
cert_blob(struct buf *b, const struct buf *ca, uint32_t certtype,
    const char *principal, size_t plen)
{
	unsigned char nonce[32], pk[32], sig[64];
	struct buf p = { .n = 0 }, opt = { .n = 0 }, s = { .n = 0 };

	memset(nonce, 0x01, sizeof(nonce));
	memset(pk, 0x42, sizeof(pk));
	memset(sig, 0x07, sizeof(sig));
	put_str(&p, principal, plen);
	put_cstr(&opt, "permit-pty");
	put_str(&opt, "", 0);
	put_cstr(&s, "ssh-ed25519");
	put_str(&s, sig, sizeof(sig));
	b->n = 0;
	put_cstr(b, "ssh-ed25519-cert-v01@openssh.com");
	put_str(b, nonce, sizeof(nonce));
	put_str(b, pk, sizeof(pk));
	put_u32(b, 0); put_u32(b, 7);		/* serial */
	put_u32(b, certtype);
	put_cstr(b, "key id");
	put_str(b, p.b, p.n);
	put_u32(b, 0); put_u32(b, 0);		/* valid after */
	put_u32(b, 0xffffffff); put_u32(b, 0xffffffff);
	put_str(b, "", 0);			/* critical options */
	put_str(b, opt.b, opt.n);		/* extensions */
	put_str(b, "", 0);			/* reserved */
	put_str(b, ca->b, ca->n);
	put_str(b, s.b, s.n);
}

/* The blob is refused alone and in each request that carries a key. */
static void
assert_refused(const struct buf *blob, const char *what)
{
	struct agentproto_key k;
	struct agentproto_req req;
	struct buf f;
	unsigned char sid[32];
	const char *why;

	ck_assert_msg(agentproto_blob_key(blob->b, blob->n, &k) == -1,
	    "%s: blob named %s", what, k.fingerprint);
	f.n = 0;
	put_u8(&f, 13); put_str(&f, blob->b, blob->n);
	put_cstr(&f, "data"); put_u32(&f, 0);
	ck_assert_msg(agentproto_parse_request(f.b, f.n, &req, &why) == -1,
	    "%s: sign accepted", what);
	f.n = 0;
	put_u8(&f, 18); put_str(&f, blob->b, blob->n);
	ck_assert_msg(agentproto_parse_request(f.b, f.n, &req, &why) == -1,
	    "%s: remove accepted", what);
	memset(sid, 0x22, sizeof(sid));
	f.n = 0;
	put_u8(&f, 27); put_cstr(&f, "session-bind@openssh.com");
	put_str(&f, blob->b, blob->n); put_str(&f, sid, sizeof(sid));
	put_str(&f, "sig", 3); put_u8(&f, 0);
	ck_assert_msg(agentproto_parse_request(f.b, f.n, &req, &why) == -1,
	    "%s: session-bind accepted", what);
}

static void
assert_named(const struct buf *blob, const char *what)
{
	struct agentproto_key k;
	char fp[AGENTPROTO_FP_LEN + 1];

	ck_assert_msg(agentproto_blob_key(blob->b, blob->n, &k) == 0,
	    "%s: canonical blob refused", what);
	agentproto_fingerprint(blob->b, blob->n, fp);
	ck_assert_str_eq(k.fingerprint, fp);
}

START_TEST(test_canon_names)
{
	static const char *ed_alias[] = { "ED25519", "ed25519", "Ed25519",
	    "SSH-ED25519", "Ssh-ed25519", "ssh-ed25519 ", "ED25519-SK",
	    "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com" };
	static const char *rsa_alias[] = { "RSA", "rsa", "Rsa", "SSH-RSA",
	    "rsa-sha2-256", "rsa-sha2-512", "RSA-SHA2-512", "ssh-rsa-cert-v01@openssh.com",
	    "rsa-sha2-256-cert-v01@openssh.com", "ssh-dss", "DSA" };
	static const char *ec_alias[] = { "ECDSA", "ecdsa", "ECDSA-SK",
	    "ecdsa-sha2-nistp384", "ECDSA-SHA2-NISTP256",
	    "sk-ecdsa-sha2-nistp256@openssh.com" };
	struct buf b;
	size_t i;

	ed_blob_as(&b, "ssh-ed25519", 32);
	assert_named(&b, "ssh-ed25519");
	for (i = 0; i < sizeof(ed_alias) / sizeof(ed_alias[0]); i++) {
		ed_blob_as(&b, ed_alias[i], 32);
		assert_refused(&b, ed_alias[i]);
	}
	rsa_blob(&b, "ssh-rsa", 0, 0);
	assert_named(&b, "ssh-rsa");
	for (i = 0; i < sizeof(rsa_alias) / sizeof(rsa_alias[0]); i++) {
		rsa_blob(&b, rsa_alias[i], 0, 0);
		assert_refused(&b, rsa_alias[i]);
	}
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "nistp256", 65, 4);
	assert_named(&b, "ecdsa-sha2-nistp256");
	for (i = 0; i < sizeof(ec_alias) / sizeof(ec_alias[0]); i++) {
		ecdsa_blob(&b, ec_alias[i], "nistp256", 65, 4);
		assert_refused(&b, ec_alias[i]);
	}
}
END_TEST

START_TEST(test_canon_fields)
{
	struct buf b, c;
	size_t i;

	/* Numbers: one zero before a high bit, never more, never negative. */
	for (i = 1; i <= 3; i++) {
		rsa_blob(&b, "ssh-rsa", i, 0);
		assert_refused(&b, "rsa e padded");
		rsa_blob(&b, "ssh-rsa", 0, i);
		assert_refused(&b, "rsa n padded");
	}
	rsa_blob(&b, "ssh-rsa", 0, 0);
	b.b[b.n - 129] = 0x01;	/* the zero before n's high bit, now n's own */
	b.b[b.n - 128] = 0xc5;
	assert_named(&b, "rsa n without the zero, 0x01 first");
	b.b[b.n - 129] = 0x80;	/* negative */
	assert_refused(&b, "rsa n negative");
	b.b[b.n - 129] = 0x00;
	b.b[b.n - 128] = 0x45;	/* a zero before a byte without its high bit */
	assert_refused(&b, "rsa n with a redundant zero");
	/* ed25519: exactly 32 bytes. */
	ed_blob_as(&b, "ssh-ed25519", 33);
	assert_refused(&b, "ed25519 pk padded");
	ed_blob_as(&b, "ssh-ed25519", 31);
	assert_refused(&b, "ed25519 pk short");
	/* ecdsa: the type's curve, an uncompressed point of its length. */
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "nistp384", 65, 4);
	assert_refused(&b, "ecdsa curve mismatch");
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "NISTP256", 65, 4);
	assert_refused(&b, "ecdsa curve in capitals");
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "nistp256", 33, 2);
	assert_refused(&b, "ecdsa compressed point");
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "nistp256", 65, 6);
	assert_refused(&b, "ecdsa hybrid point");
	ecdsa_blob(&b, "ecdsa-sha2-nistp256", "nistp256", 66, 4);
	assert_refused(&b, "ecdsa point too long");
	ecdsa_blob(&b, "ecdsa-sha2-nistp521", "nistp521", 133, 4);
	assert_named(&b, "ecdsa-sha2-nistp521");
	/* Nothing left over. */
	ed_blob_as(&b, "ssh-ed25519", 32);
	put_u8(&b, 0);
	assert_refused(&b, "ed25519 with a trailing byte");
	/* sk-: the application, without NUL. */
	ed_blob_as(&b, "sk-ssh-ed25519@openssh.com", 32);
	put_cstr(&b, "ssh:");
	assert_named(&b, "sk-ssh-ed25519");
	ed_blob_as(&b, "sk-ssh-ed25519@openssh.com", 32);
	put_str(&b, "ssh:\0x", 6);
	assert_refused(&b, "sk application with NUL");
	ed_blob_as(&b, "sk-ssh-ed25519@openssh.com", 32);
	assert_refused(&b, "sk without application");
	/* The public parts of an ADD: n padded is refused too. */
	c.n = 0;
	put_u8(&c, 17); put_cstr(&c, "ssh-rsa");
	put_str(&c, "\0\0\x80\x01", 4);	/* n */
	put_str(&c, "\x01\0\x01", 3);	/* e */
	for (i = 0; i < 4; i++)
		put_str(&c, "\x01", 1);	/* d iqmp p q */
	put_cstr(&c, "comment");
	{
		struct agentproto_req req;
		const char *why;

		ck_assert_int_eq(agentproto_parse_request(c.b, c.n, &req,
		    &why), -1);
		c.n = 0;
		put_u8(&c, 17); put_cstr(&c, "ssh-rsa");
		put_str(&c, "\0\x80\x01", 3);
		put_str(&c, "\x01\0\x01", 3);
		for (i = 0; i < 4; i++)
			put_str(&c, "\x01", 1);
		put_cstr(&c, "comment");
		ck_assert_int_eq(agentproto_parse_request(c.b, c.n, &req,
		    &why), 0);
		agentproto_req_free(&req);
		c.n = 0;
		put_u8(&c, 17); put_cstr(&c, "ecdsa-sha2-nistp256");
		put_cstr(&c, "nistp256"); put_str(&c, "\x02\x33\x33", 3);
		put_str(&c, "\x01", 1); put_cstr(&c, "comment");
		ck_assert_int_eq(agentproto_parse_request(c.b, c.n, &req,
		    &why), -1);
	}
}
END_TEST

START_TEST(test_canon_cert)
{
	struct buf ca, b, loose, plain;
	struct agentproto_key k;
	char fp[AGENTPROTO_FP_LEN + 1];

	ed_blob_as(&ca, "ssh-ed25519", 32);
	ca.b[ca.n - 1] = 0x99;
	cert_blob(&b, &ca, 1, "alice", 5);
	ck_assert_int_eq(agentproto_blob_key(b.b, b.n, &k), 0);
	ed_blob(&plain);
	agentproto_fingerprint(plain.b, plain.n, fp);
	ck_assert_str_eq(k.fingerprint, fp);
	ck_assert_str_eq(k.type, "ssh-ed25519-cert-v01@openssh.com");
	cert_blob(&b, &ca, 2, "host.example", 12);
	ck_assert_int_eq(agentproto_blob_key(b.b, b.n, &k), 0);
	cert_blob(&b, &ca, 3, "alice", 5);
	assert_refused(&b, "cert type 3");
	cert_blob(&b, &ca, 1, "alice", 5);
	put_u8(&b, 0);
	assert_refused(&b, "cert with a trailing byte");
	ed_blob_as(&loose, "ED25519", 32);
	cert_blob(&b, &loose, 1, "alice", 5);
	assert_refused(&b, "cert with a CA key named ED25519");
	rsa_blob(&loose, "ssh-rsa", 1, 0);
	cert_blob(&b, &loose, 1, "alice", 5);
	assert_refused(&b, "cert with a padded CA key");
	loose = b;
	cert_blob(&b, &loose, 1, "alice", 5);
	assert_refused(&b, "cert as a CA key");
	cert_blob(&b, &ca, 1, "al\0ce", 5);
	assert_refused(&b, "principal with NUL");
}
END_TEST

/* The agent's own answers: blobs of types we do not know are named as they
 * are; a loose blob of a known type is refused (the agent never writes one). */
START_TEST(test_canon_identities)
{
	struct buf body = { .n = 0 }, b;
	struct agentproto_key *keys;
	size_t n;

	put_u32(&body, 2);
	ed_blob(&b);
	put_str(&body, b.b, b.n); put_cstr(&body, "c");
	b.n = 0;
	put_cstr(&b, "ssh-xmss@openssh.com"); put_str(&b, "x", 1);
	put_str(&body, b.b, b.n); put_cstr(&body, "c");
	ck_assert_int_eq(agentproto_parse_identities(body.b, body.n, &keys,
	    &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(keys[1].type, "ssh-xmss@openssh.com");
	free(keys);
	body.n = 0;
	put_u32(&body, 1);
	rsa_blob(&b, "ssh-rsa", 1, 0);
	put_str(&body, b.b, b.n); put_cstr(&body, "c");
	ck_assert_int_eq(agentproto_parse_identities(body.b, body.n, &keys,
	    &n), -1);
}
END_TEST

/* confirm is taken out of a rewritten add: the relay enforces it (DESIGN §8). */
START_TEST(test_with_lifetime_drops_confirm)
{
	struct buf f[13];
	enum agentproto_req_kind kind[13];
	struct agentproto_req req, again;
	unsigned char body[4096], *nf;
	size_t i, nflen, n;
	const char *why;
	bool done = false;

	(void)valid_requests(f, kind);
	for (i = 0; i < 13 && !done; i++) {
		if (kind[i] != AGENTPROTO_REQ_ADD || f[i].n + 1 > sizeof(body))
			continue;
		/* The test add (type 25) carries a lifetime and confirm. */
		memcpy(body, f[i].b, f[i].n);
		n = f[i].n;
		if (agentproto_parse_request(body, n, &req, &why) != 0)
			continue;
		ck_assert(req.add.confirm);
		ck_assert_int_eq(agentproto_with_lifetime(
		    AGENTPROTO_ADD_ID_CONSTRAINED, body + 1, n - 1,
		    req.add.constraints_off, 9, &nf, &nflen), 0);
		ck_assert_int_eq(agentproto_parse_request(nf + 4, nflen - 4,
		    &again, &why), 0);
		ck_assert(!again.add.confirm);
		ck_assert(again.add.has_lifetime && again.add.lifetime == 9);
		ck_assert_str_eq(again.add.key.fingerprint,
		    req.add.key.fingerprint);
		agentproto_req_free(&again);
		agentproto_req_free(&req);
		sodium_memzero(nf, nflen);
		free(nf);
		done = true;
	}
	ck_assert(done);
}
END_TEST

static Suite *
agentproto_suite(void)
{
	Suite	*s = suite_create("agentproto");
	TCase	*tc = tcase_create("allowlist");

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_card_lifetime);
	tcase_add_test(tc, test_with_lifetime_drops_confirm);
	suite_add_tcase(s, tc);
	tc = tcase_create("canonical");
	tcase_add_test(tc, test_canon_names);
	tcase_add_test(tc, test_canon_fields);
	tcase_add_test(tc, test_canon_cert);
	tcase_add_test(tc, test_canon_identities);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(agentproto_suite());
}
