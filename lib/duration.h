/* duration: "90", "90s", "15m", "2h", "1h30m", "7d", "1w", "1H" -> seconds. */
#ifndef AGENTD_DURATION_H
#define AGENTD_DURATION_H

#include <stdint.h>

#define DURATION_MAX	(UINT32_MAX)	/* ssh-agent lifetimes are uint32 seconds */

/*
 * Parses s as OpenSSH's TIME FORMATS (sshd_config(5)): a sequence of
 * <digits>[unit] with units s, m, h, d, w in either case, in any order, the
 * parts summed ("1h30m", "30m1h", "1h30" = 3630); a number without a unit is
 * seconds. Returns 0 with *out in seconds, or -1 with errno EINVAL (bad form)
 * or ERANGE (more than DURATION_MAX seconds). Zero is valid here; callers
 * that need a positive duration say so themselves.
 */
int	duration_parse(const char *s, uint64_t *out);

/* Formats seconds as "1h30m", "45s", "0s" into out (at least 24 bytes). */
void	duration_format(uint64_t secs, char *out, size_t outlen);

#endif
