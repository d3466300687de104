/*
 * approvalans: a delegate's answer to a held request (DESIGN §8):
 * {"decision": "approve"|"deny", "for_s": N}. for_s is optional (0 when
 * absent); other members are ignored. Pure: no I/O.
 */
#ifndef AGENTD_APPROVALANS_H
#define AGENTD_APPROVALANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APPROVALANS_MAX		65536	/* bytes of answer read at most */
#define APPROVALANS_FOR_MAX	(366ULL * 24 * 3600)

/*
 * Parses buf (len bytes, need not be terminated). 0 with *approve and
 * *for_s set, or -1 with *why (a static string) when it is not one JSON
 * object, has no "decision" of the two values, a "for_s" that is not an
 * integer in 0..APPROVALANS_FOR_MAX, or a for_s with "deny". Fail closed:
 * a caller treats -1 as no decision.
 */
int	approvalans_parse(const char *buf, size_t len, bool *approve,
	    uint64_t *for_s, const char **why);

#endif
