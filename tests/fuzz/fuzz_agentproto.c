/* libFuzzer target: an ssh-agent IDENTITIES_ANSWER body from a hostile agent. */
#include <stdint.h>
#include <stdlib.h>

#include "agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentproto_key *keys = NULL;
	char type[AGENTPROTO_TYPE_MAX];
	size_t n;

	if (agentproto_parse_identities(data, size, &keys, &n) == 0)
		free(keys);
	(void)agentproto_key_type(data, size, type);
	return 0;
}
