/* egress: the entries of `agentd start --ssh-egress NAME=HOST[:PORT]`. */
#ifndef AGENTD_EGRESS_H
#define AGENTD_EGRESS_H

#include <stddef.h>
#include <stdint.h>

#define EGRESS_NAME_MAX	64	/* bytes of NAME, NUL included */
#define EGRESS_HOST_MAX	256	/* bytes of HOST (brackets dropped), NUL included */
#define EGRESS_MAX	16	/* entries per session */
#define EGRESS_DEFAULT_PORT	22

struct egress_entry {
	char		name[EGRESS_NAME_MAX];
	char		host[EGRESS_HOST_MAX];
	uint16_t	port;
};

/*
 * Parses NAME=HOST[:PORT]. NAME: 1-63 bytes of [A-Za-z0-9._-], not starting
 * with '-' or '.' (it becomes an ssh_config Host pattern, so no wildcard,
 * blank or quote can enter). HOST: a DNS name (labels of [A-Za-z0-9_-],
 * dots between, at most 253 bytes), an IPv4 literal, or an IPv6 literal in
 * brackets ("[::1]:2222"; stored without them). PORT: 1-65535, default 22.
 * Returns 0 with *out filled, or -1 with errno EINVAL and *cause (a static
 * string saying what is wrong; never NULL on failure).
 */
int	egress_parse(const char *spec, struct egress_entry *out,
	    const char **cause);

/*
 * Writes the name ssh looks the host key up under in known_hosts (OpenSSH
 * sshconnect.c): HOST for port 22, else "[HOST]:PORT". out holds at least
 * EGRESS_HOST_MAX + 8 bytes. Returns out.
 */
char	*egress_hostkey_alias(const struct egress_entry *, char *out,
	    size_t outlen);

/* "HOST:PORT", or "[HOST]:PORT" for an IPv6 literal, into out (as above). */
char	*egress_upstream(const struct egress_entry *, char *out, size_t outlen);

#endif
