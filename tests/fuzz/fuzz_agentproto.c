/* libFuzzer target: one agent frame body (type byte first) from a hostile
 * client or agent, through every parser the relay uses on it. The corpus
 * (tests/fuzz/agent-corpus.sh) is real ssh-add and ssh traffic. A key blob
 * the parser names must be canonical: its type name in another case or an
 * alias OpenSSH reads loosely, or any public field with one more leading zero
 * byte, must be refused. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The blob with its type name replaced by name (len n). */
static void
refused_as(const uint8_t *blob, size_t len, size_t tlen, const char *name,
    size_t n)
{
	struct agentproto_key key;
	uint8_t *m;
	size_t mlen = len - tlen + n;

	if ((m = malloc(mlen)) == NULL)
		return;
	wr32(m, (uint32_t)n);
	memcpy(m + 4, name, n);
	memcpy(m + 4 + n, blob + 4 + tlen, len - 4 - tlen);
	if (agentproto_blob_key(m, mlen, &key) == 0)
		abort();
	free(m);
}

/* A blob agentproto_blob_key named: none of its loose forms may be named. */
static void
check_canonical(const uint8_t *blob, size_t len)
{
	static const char *alias[] = { "ED25519", "ed25519", "RSA", "rsa",
	    "ECDSA", "ecdsa", "DSA", "dsa", "ED25519-SK", "ECDSA-SK",
	    "rsa-sha2-256", "rsa-sha2-512", "rsa-sha2-256-cert-v01@openssh.com",
	    "rsa-sha2-512-cert-v01@openssh.com" };
	struct agentproto_key key;
	char name[AGENTPROTO_TYPE_MAX];
	uint8_t *m;
	size_t tlen, i, pos, flen;

	if (agentproto_blob_key(blob, len, &key) != 0)
		return;
	tlen = rd32(blob);
	if (tlen >= sizeof(name))
		abort();
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		refused_as(blob, len, tlen, alias[i], strlen(alias[i]));
	for (i = 0; i < tlen; i++)
		name[i] = (char)toupper(blob[4 + i]);
	refused_as(blob, len, tlen, name, tlen);
	name[0] = (char)tolower((unsigned char)name[0]);	/* "sSH-..." */
	refused_as(blob, len, tlen, name, tlen);
	if (memmem(blob + 4, tlen, "-cert-", 6) != NULL)
		return;
	/* Each public field of a plain key with one more leading zero. */
	if ((m = malloc(len + 1)) == NULL)
		return;
	for (pos = 4 + tlen; len - pos >= 4; pos += 4 + flen) {
		flen = rd32(blob + pos);
		if (flen > len - pos - 4)
			abort();
		memcpy(m, blob, pos);
		wr32(m + pos, (uint32_t)flen + 1);
		m[pos + 4] = 0;
		memcpy(m + pos + 5, blob + pos + 4, len - pos - 4);
		if (agentproto_blob_key(m, len + 1, &key) == 0)
			abort();
	}
	free(m);
}

/* Whatever the allowlist accepts must be what its own parts accept, and an
 * accepted add must survive the lifetime rewrite unchanged otherwise. */
static void
check_request(const uint8_t *data, size_t size)
{
	struct agentproto_req req, again;
	unsigned char *frame;
	const char *why;
	size_t flen;
	int type;

	if (agentproto_parse_request(data, size, &req, &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	if (req.name == NULL)
		abort();
	if (req.kind == AGENTPROTO_REQ_ADD || req.kind == AGENTPROTO_REQ_ADD_CARD) {
		type = req.kind == AGENTPROTO_REQ_ADD ?
		    AGENTPROTO_ADD_ID_CONSTRAINED :
		    AGENTPROTO_ADD_SMARTCARD_CONSTRAINED;
		if (agentproto_with_lifetime(type, data + 1, size - 1,
		    req.add.constraints_off, 60, &frame, &flen) == 0) {
			/* The rewrite must parse, with the new lifetime. */
			if (agentproto_parse_request(frame + 4, flen - 4, &again,
			    &why) != 0 || !again.add.has_lifetime ||
			    again.add.lifetime != 60 ||
			    again.add.confirm != 0 ||	/* the relay enforces it */
			    strcmp(again.add.key.fingerprint,
			    req.add.key.fingerprint) != 0)
				abort();
			agentproto_req_free(&again);
			sodium_memzero(frame, flen);
			free(frame);
		}
	}
	agentproto_req_free(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentproto_key *keys = NULL, key;
	char fp[AGENTPROTO_FP_LEN + 1];
	size_t n;
	int fwd;

	if (size < 1 || size > AGENTPROTO_MAX_FRAME)
		return 0;
	check_request(data, size);
	check_canonical(data + 1, size - 1);
	if (data[0] == AGENTPROTO_SIGN_REQUEST ||
	    data[0] == AGENTPROTO_REMOVE_IDENTITY) {
		/* The blob inside a sign or remove request. */
		if (size >= 5 && rd32(data + 1) <= size - 5)
			check_canonical(data + 5, rd32(data + 1));
	}
	switch (data[0]) {
	case AGENTPROTO_SIGN_REQUEST:
		(void)agentproto_parse_sign(data + 1, size - 1, &key);
		break;
	case AGENTPROTO_REMOVE_IDENTITY:
		(void)agentproto_parse_remove(data + 1, size - 1, &key);
		break;
	case AGENTPROTO_EXTENSION:
		(void)agentproto_parse_session_bind(data + 1, size - 1, fp, &fwd);
		break;
	case AGENTPROTO_IDENTITIES_ANSWER:
		if (agentproto_parse_identities(data + 1, size - 1, &keys, &n) == 0)
			free(keys);
		break;
	default:
		(void)agentproto_blob_key(data + 1, size - 1, &key);
		break;
	}
	return 0;
}
