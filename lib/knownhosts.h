/*
 * knownhosts: reading OpenSSH known_hosts lines, to name a host key
 * (DESIGN §8 dest_names, --allow-dest). Format (sshd(8) "SSH_KNOWN_HOSTS
 * FILE FORMAT"): [marker] patterns keytype base64-key [comment], patterns
 * comma-separated, `[host]:port` for a port other than 22, hashed entries
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. Pure functions: no I/O.
 */
#ifndef AGENTD_KNOWNHOSTS_H
#define AGENTD_KNOWNHOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "agentproto.h"

struct knownhosts_entry {
	const char	*hosts;		/* the patterns field (not terminated) */
	size_t		 hostslen;
	char		 fingerprint[AGENTPROTO_FP_LEN + 1];	/* of the key */
};

/*
 * Parses one line (without its newline; len bytes, NUL not needed). Returns
 * 1 with *e filled (e->hosts points into line), 0 for a line that names no
 * plain host key (blank, comment, @cert-authority, @revoked, any other
 * marker), -1 when it is malformed (a NUL byte, too few fields, bad base64, a key blob
 * whose type differs from the keytype field).
 */
int	knownhosts_parse_line(const char *line, size_t len,
	    struct knownhosts_entry *e);

/*
 * Whether e's patterns match name (as ssh looks it up: a lower-case host or
 * address, or `[host]:port`): a hashed pattern by its HMAC-SHA1, a plain one
 * by OpenSSH's glob (`*`, `?`, ASCII case ignored), and a negated one (`!pattern`) that matches excludes
 * the line. name longer than 1024 bytes never matches.
 */
bool	knownhosts_match(const struct knownhosts_entry *e, const char *name);
/* That glob alone: pattern (plen bytes) against the string s. */
bool	knownhosts_glob(const char *pattern, size_t plen, const char *s);

/*
 * Calls fn for each plain (not hashed, not negated, no wildcard) name in
 * e's patterns, NUL-terminated in a buffer valid during the call.
 */
void	knownhosts_names(const struct knownhosts_entry *e,
	    void (*fn)(const char *name, void *arg), void *arg);

/*
 * Whether p is a valid destination pattern (start --allow-dest, DESIGN §8):
 * 1..KNOWNHOSTS_PATTERN_MAX bytes, no white space, comma, control byte or
 * DEL; a `SHA256:` fingerprint must be followed by 43 base64 characters.
 * Returns true, or false with *why (a static string).
 */
#define KNOWNHOSTS_PATTERN_MAX	255
bool	knownhosts_pattern_ok(const char *p, const char **why);

/* HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1), for hashed entries only. */
void	knownhosts_hmac_sha1(const unsigned char *key, size_t keylen,
	    const unsigned char *msg, size_t msglen, unsigned char out[20]);

#endif
