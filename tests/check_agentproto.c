/* Unit tests for lib/agentproto's allowlist (agentproto_parse_request): every
 * request real clients send is accepted with the right kind and fields;
 * every one of them with a byte added or taken away, every type outside the
 * table and every unknown extension is refused; a smartcard add keeps its
 * provider and constraints and its lifetime can be rewritten. */
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
	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return check_run(agentproto_suite());
}
