/* timefmt: RFC 3339 UTC timestamps with microseconds, as the audit log writes them. */
#ifndef AGENTD_TIMEFMT_H
#define AGENTD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMEFMT_LEN	sizeof("2026-11-23T11:06:33.123456Z")

/* Formats ts as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into out[TIMEFMT_LEN]. */
void	timefmt_rfc3339(const struct timespec *ts, char out[TIMEFMT_LEN]);
/* Formats whole seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void	timefmt_rfc3339_s(time_t t, char out[TIMEFMT_LEN]);
/* Parses either form (Z only, microseconds optional). Returns 0 or -1. */
int	timefmt_parse(const char *s, struct timespec *out);

#endif
