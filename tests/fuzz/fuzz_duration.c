/* libFuzzer target: duration parsing, and format/parse round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], out[32];
	uint64_t v, w;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (duration_parse(s, &v) == 0) {
		if (v > DURATION_MAX)
			abort();
		duration_format(v, out, sizeof(out));
		if (duration_parse(out, &w) != 0 || w != v)
			abort();
	}
	return 0;
}
