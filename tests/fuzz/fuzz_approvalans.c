/* libFuzzer target: a delegate's answer (an HTTP body from anywhere). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "approvalans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	uint64_t for_s;
	bool approve;
	int rc;

	rc = approvalans_parse((const char *)data, size, &approve, &for_s, &why);
	if (rc == -1 && (why == NULL || approve || for_s != 0))
		abort();
	if (rc == 0 && (for_s > APPROVALANS_FOR_MAX || (!approve && for_s)))
		abort();
	return 0;
}
