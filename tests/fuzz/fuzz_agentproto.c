/* libFuzzer target: one agent frame body (type byte first) from a hostile
 * client or agent, through every parser the relay uses on it. The corpus
 * (tests/fuzz/agent-corpus.sh) is real ssh-add and ssh traffic. */
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentproto_key *keys = NULL, key;
	struct agentproto_add add;
	char fp[AGENTPROTO_FP_LEN + 1];
	unsigned char *frame;
	const char *why;
	size_t n, flen;
	int fwd;

	if (size < 1 || size > AGENTPROTO_MAX_FRAME)
		return 0;
	switch (data[0]) {
	case AGENTPROTO_ADD_IDENTITY:
	case AGENTPROTO_ADD_ID_CONSTRAINED:
		if (agentproto_parse_add(data + 1, size - 1, &add, &why) == 0) {
			if (agentproto_with_lifetime(
			    AGENTPROTO_ADD_ID_CONSTRAINED, data + 1, size - 1,
			    add.constraints_off, 60, &frame, &flen) == 0) {
				struct agentproto_add again;
				/* The rewrite must parse, with the new lifetime. */
				if (agentproto_parse_add(frame + 5, flen - 5, &again,
				    &why) != 0 || !again.has_lifetime ||
				    again.lifetime != 60)
					abort();
				agentproto_add_free(&again);
				sodium_memzero(frame, flen);
				free(frame);
			}
			agentproto_add_free(&add);
		}
		break;
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
