/* libFuzzer target: one agent frame body (type byte first) from a hostile
 * client or agent, through every parser the relay uses on it. The corpus
 * (tests/fuzz/agent-corpus.sh) is real ssh-add and ssh traffic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
