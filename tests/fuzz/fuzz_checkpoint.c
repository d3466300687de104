/* libFuzzer target: checkpoint lines, public keys, and the verifier's
 * line-by-line checker (lib/checkpoint). Nothing may crash or read out of
 * bounds; what parses must verify consistently. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checkpoint cp;
	struct checkpoint_pub pub, again;
	struct checkpoint_check cc;
	char text[CHECKPOINT_PUB_TEXT];
	const char *why;
	const char *s = (const char *)data;

	if (checkpoint_parse(s, size, &cp, &why) == 0) {
		if (cp.hostlen == 0 || cp.hostlen > CHECKPOINT_HOST_MAX ||
		    strlen(cp.host) != cp.hostlen || cp.seq == 0)
			abort();
		(void)checkpoint_verify(&cp, NULL, &why);
		memset(&pub, 0, sizeof(pub));
		checkpoint_key_id(pub.pk, pub.key_id);
		/* A signature by no one's key never verifies. */
		if (checkpoint_verify(&cp, &pub, &why) == 0)
			abort();
	} else if (why == NULL)
		abort();
	if (checkpoint_pub_parse(s, size, &pub, &why) == 0) {
		/* Its text form parses back to the same key. */
		checkpoint_pub_format(&pub, text);
		if (checkpoint_pub_parse(text, strlen(text), &again, &why) != 0 ||
		    memcmp(pub.pk, again.pk, 32) != 0)
			abort();
	}
	checkpoint_check_init(&cc, NULL);
	if (checkpoint_check_raw(&cc, s, size) == 0)
		(void)checkpoint_check_line(&cc, true, &why);
	(void)checkpoint_check_end(&cc, &why);
	checkpoint_check_free(&cc);
	return 0;
}
