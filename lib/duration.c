/* duration: parse and format human durations. See duration.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct {
	char		unit;
	uint64_t	secs;
} units[] = {
	{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

int
duration_parse(const char *s, uint64_t *out)
{
	uint64_t total = 0, n;
	size_t next_unit = 0, u;
	const char *p = s;
	int ndigits;

	if (s == NULL || *s == '\0') {
		errno = EINVAL;
		return -1;
	}
	while (*p != '\0') {
		n = 0;
		for (ndigits = 0; *p >= '0' && *p <= '9'; p++, ndigits++) {
			if (n > (DURATION_MAX - (uint64_t)(*p - '0')) / 10) {
				errno = ERANGE;
				return -1;
			}
			n = n * 10 + (uint64_t)(*p - '0');
		}
		if (ndigits == 0) {
			errno = EINVAL;
			return -1;
		}
		if (*p == '\0') {
			/* A bare number is seconds, but only on its own ("90"). */
			if (p - s != ndigits) {
				errno = EINVAL;
				return -1;
			}
			*out = n;
			return 0;
		}
		for (u = next_unit; u < NUNITS && units[u].unit != *p; u++)
			;
		if (u == NUNITS) {
			errno = EINVAL;
			return -1;
		}
		if (n > DURATION_MAX / units[u].secs ||
		    total > DURATION_MAX - n * units[u].secs) {
			errno = ERANGE;
			return -1;
		}
		total += n * units[u].secs;
		next_unit = u + 1;
		p++;
	}
	*out = total;
	return 0;
}

void
duration_format(uint64_t secs, char *out, size_t outlen)
{
	size_t u, len = 0;
	int n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (secs == 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	for (u = 0; u < NUNITS && len < outlen; u++) {
		if (secs < units[u].secs)
			continue;
		n = snprintf(out + len, outlen - len, "%llu%c",
		    (unsigned long long)(secs / units[u].secs), units[u].unit);
		if (n < 0)
			return;
		len += (size_t)n;
		secs %= units[u].secs;
	}
}
