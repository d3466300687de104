/* libFuzzer target: --ssh-egress parsing; an accepted entry holds only the
 * bytes an ssh_config line can carry, and its upstream form parses back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egress_entry e, f;
	const char *cause;
	char s[512], up[EGRESS_HOST_MAX + 16], again[600];
	size_t i;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (egress_parse(s, &e, &cause) == -1) {
		if (cause == NULL)
			abort();
		return 0;
	}
	if (e.name[0] == '\0' || e.host[0] == '\0' || e.port == 0)
		abort();
	for (i = 0; e.name[i] != '\0'; i++)
		if (strchr(" \t\r\n\"'*?!,=#", e.name[i]) != NULL)
			abort();
	for (i = 0; e.host[i] != '\0'; i++)
		if ((unsigned char)e.host[i] <= ' ' ||
		    strchr("\"'*?!,=#[]", e.host[i]) != NULL)
			abort();
	snprintf(again, sizeof(again), "%s=%s", e.name,
	    egress_upstream(&e, up, sizeof(up)));
	if (egress_parse(again, &f, &cause) != 0 || memcmp(&e, &f, sizeof(e)))
		abort();
	return 0;
}
