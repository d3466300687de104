/* duration: parse and format human durations. See duration.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* Units for formatting, largest first (weeks are parsed, not printed). */
static const struct {
	char		unit;
	uint64_t	secs;
} units[] = {
	{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

/* Seconds per unit letter (either case), or 0 when it is not one. */
static uint64_t
unit_secs(char c)
{
	switch (c) {
	case 's': case 'S':
		return 1;
	case 'm': case 'M':
		return 60;
	case 'h': case 'H':
		return 3600;
	case 'd': case 'D':
		return 86400;
	case 'w': case 'W':
		return 7 * 86400;
	}
	return 0;
}

int
duration_parse(const char *s, uint64_t *out)
{
	uint64_t total = 0, n, mult;
	const char *p = s;
	int ndigits;

	if (s == NULL || *s == '\0') {
		errno = EINVAL;
		return -1;
	}
	/* OpenSSH's convtime(): NUMBER[UNIT]..., in any order, summed; a
	 * number without a unit is seconds (only possible last). */
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
		if (*p == '\0')
			mult = 1;
		else if ((mult = unit_secs(*p++)) == 0) {
			errno = EINVAL;
			return -1;
		}
		if (n > DURATION_MAX / mult ||
		    total > DURATION_MAX - n * mult) {
			errno = ERANGE;
			return -1;
		}
		total += n * mult;
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
