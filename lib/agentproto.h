/* agentproto: the ssh-agent protocol (draft-ietf-sshm-ssh-agent, OpenSSH
 * PROTOCOL.agent): just enough to ask the agent which keys it holds and to
 * name them the way ssh-keygen -l does. */
#ifndef AGENTD_AGENTPROTO_H
#define AGENTD_AGENTPROTO_H

#include <stddef.h>
#include <stdint.h>

#define AGENTPROTO_MAX_FRAME		(256 * 1024)	/* as OpenSSH's agent */
#define AGENTPROTO_REQUEST_IDENTITIES	11
#define AGENTPROTO_IDENTITIES_ANSWER	12
#define AGENTPROTO_FP_LEN		(7 + 43)	/* "SHA256:" + unpadded base64 */
#define AGENTPROTO_TYPE_MAX		64

struct agentproto_key {
	char	fingerprint[AGENTPROTO_FP_LEN + 1];
	char	type[AGENTPROTO_TYPE_MAX];	/* "ssh-ed25519", … */
};

/* "SHA256:<base64 without padding>" of the public key blob, as ssh-keygen -l. */
void	agentproto_fingerprint(const unsigned char *blob, size_t len,
	    char out[AGENTPROTO_FP_LEN + 1]);

/* The key type: the blob's first string. -1 if the blob is malformed. */
int	agentproto_key_type(const unsigned char *blob, size_t len,
	    char out[AGENTPROTO_TYPE_MAX]);

/*
 * Parses an IDENTITIES_ANSWER body (after the type byte) into a malloc'ed
 * array (caller frees). -1 with errno EBADMSG if anything is out of bounds.
 */
int	agentproto_parse_identities(const unsigned char *body, size_t len,
	    struct agentproto_key **keys, size_t *nkeys);

/*
 * Connects to the agent socket at path, asks for its identities and parses the
 * answer, all within timeout_ms. Returns 0 or -1 with errno and *cause.
 */
int	agentproto_list(const char *path, int timeout_ms,
	    struct agentproto_key **keys, size_t *nkeys, char **cause);

#endif
