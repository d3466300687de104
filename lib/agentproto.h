/* agentproto: the ssh-agent protocol (RFC 9987, OpenSSH PROTOCOL.agent):
 * the relay's allowlist of requests, each parsed exactly; enough to name keys
 * the way ssh-keygen -l does; and asking an agent which keys it holds. */
#ifndef AGENTD_AGENTPROTO_H
#define AGENTD_AGENTPROTO_H

#include <stddef.h>
#include <stdint.h>

#define AGENTPROTO_MAX_FRAME		(256 * 1024)	/* as OpenSSH's agent */

/* Message numbers (PROTOCOL.agent; RFC 9987). */
#define AGENTPROTO_FAILURE		5
#define AGENTPROTO_SUCCESS		6
#define AGENTPROTO_REMOVE_ALL_RSA	9	/* legacy; ssh-add -D still sends it */
#define AGENTPROTO_REQUEST_IDENTITIES	11
#define AGENTPROTO_IDENTITIES_ANSWER	12
#define AGENTPROTO_SIGN_REQUEST		13
#define AGENTPROTO_SIGN_RESPONSE	14
#define AGENTPROTO_ADD_IDENTITY		17
#define AGENTPROTO_REMOVE_IDENTITY	18
#define AGENTPROTO_REMOVE_ALL		19
#define AGENTPROTO_ADD_SMARTCARD	20
#define AGENTPROTO_REMOVE_SMARTCARD	21
#define AGENTPROTO_LOCK			22
#define AGENTPROTO_UNLOCK		23
#define AGENTPROTO_ADD_ID_CONSTRAINED	25
#define AGENTPROTO_ADD_SMARTCARD_CONSTRAINED 26
#define AGENTPROTO_EXTENSION		27

/* Key constraints (after the comment of an ADD). */
#define AGENTPROTO_CONSTRAIN_LIFETIME	1
#define AGENTPROTO_CONSTRAIN_CONFIRM	2
#define AGENTPROTO_CONSTRAIN_MAXSIGN	3
#define AGENTPROTO_CONSTRAIN_EXTENSION	255
#define AGENTPROTO_FP_LEN		(7 + 43)	/* "SHA256:" + unpadded base64 */
#define AGENTPROTO_TYPE_MAX		64
#define AGENTPROTO_MAX_HOPS		16	/* binds per connection, as
						   OpenSSH's AGENT_MAX_SESSION_IDS */
#define AGENTPROTO_MAX_SID		128	/* AGENT_MAX_SID_LEN */

struct agentproto_key {
	char	fingerprint[AGENTPROTO_FP_LEN + 1];
	char	type[AGENTPROTO_TYPE_MAX];	/* "ssh-ed25519", … */
};

/* SHA256:<base64 without padding> of exactly these bytes. Use
 * agentproto_blob_key for a key blob: a certificate's fingerprint is that of
 * its plain key, as ssh-keygen -l prints it. */
void	agentproto_fingerprint(const unsigned char *blob, size_t len,
	    char out[AGENTPROTO_FP_LEN + 1]);

/* The key type: the blob's first string. -1 if the blob is malformed. */
int	agentproto_key_type(const unsigned char *blob, size_t len,
	    char out[AGENTPROTO_TYPE_MAX]);

/*
 * Names the public key blob: its type (a certificate keeps its cert type) and
 * the fingerprint ssh-keygen -l prints (for a certificate, of the plain key
 * inside it). Only a canonical blob is named, the bytes the agent itself
 * would write for the key: the exact type name of a known type (no short or
 * signature names, case counts), each public field in its one form (ed25519:
 * 32 bytes; ecdsa: the type's curve, an uncompressed point of its length;
 * rsa/dsa: minimal non-negative mpints; sk-: a NUL-free application), a
 * certificate walked whole with a canonical CA key, nothing left over.
 * -1 with errno EBADMSG for anything else (malformed, loose or unknown).
 */
int	agentproto_blob_key(const unsigned char *blob, size_t len,
	    struct agentproto_key *out);

/* What an ADD_IDENTITY / ADD_ID_CONSTRAINED body holds, without its secrets. */
struct agentproto_add {
	struct agentproto_key	key;
	unsigned char		*blob;	/* the identity's public blob (the
					   certificate for a cert), malloc'ed */
	size_t			bloblen;
	size_t			constraints_off; /* where constraints start */
	int			has_lifetime;
	uint32_t		lifetime;
	int			confirm;
};

/*
 * Walks an ADD body (after the type byte) through the private key encoding of
 * each known key type (ed25519, ecdsa, rsa, dsa, their certificates, and the
 * FIDO sk- types) to the public key, then the comment and the constraints.
 * Keeps no private bytes; out->blob is the public key blob the agent will
 * know the identity by (free it with agentproto_add_free). Returns 0, or -1
 * with *why: "malformed" for a frame
 * that is out of bounds or whose public key fields (or certificate) are not
 * canonical (see agentproto_blob_key), or a reason to refuse (unknown key type, unknown
 * constraint or extension, duplicate constraint) — fail closed.
 */
int	agentproto_parse_add(const unsigned char *body, size_t len,
	    struct agentproto_add *out, const char **why);
void	agentproto_add_free(struct agentproto_add *);

/*
 * Builds a whole frame of type `type` (ADD_ID_CONSTRAINED or
 * ADD_SMARTCARD_CONSTRAINED; length prefix included) from a parsed add body:
 * the bytes before constraints_off, a lifetime constraint of `lifetime`, and
 * the body's other constraints except confirm (dropped: the relay enforces
 * it itself, DESIGN §8). *frame is malloc'ed and holds secrets (private
 * key bytes, a PIN): the caller wipes (sodium_memzero) and frees it. 0 or -1
 * (ENOMEM, EMSGSIZE, EBADMSG).
 */
int	agentproto_with_lifetime(int type, const unsigned char *body,
	    size_t len, size_t constraints_off, uint32_t lifetime,
	    unsigned char **frame, size_t *framelen);

/*
 * The relay's allowlist: the only requests it forwards to ssh-agent (one
 * table in agentproto.c; docs/PROTOCOL.md lists it). Each is parsed exactly:
 * every length checked, no byte left over.
 */
enum agentproto_req_kind {
	AGENTPROTO_REQ_LIST,		/* 11 */
	AGENTPROTO_REQ_SIGN,		/* 13 */
	AGENTPROTO_REQ_ADD,		/* 17, 25 */
	AGENTPROTO_REQ_REMOVE,		/* 18 */
	AGENTPROTO_REQ_REMOVE_ALL,	/* 19, and legacy 9 (ssh-add -D) */
	AGENTPROTO_REQ_ADD_CARD,	/* 20, 26 */
	AGENTPROTO_REQ_REMOVE_CARD,	/* 21 */
	AGENTPROTO_REQ_LOCK,		/* 22 */
	AGENTPROTO_REQ_UNLOCK,		/* 23 */
	AGENTPROTO_REQ_SESSION_BIND,	/* 27 session-bind@openssh.com */
	AGENTPROTO_REQ_QUERY,		/* 27 query */
};

struct agentproto_req {
	enum agentproto_req_kind kind;
	const char		*name;		/* the table's name for it */
	struct agentproto_key	 key;		/* SIGN, REMOVE; SESSION_BIND:
						   the host key */
	int			 forwarding;	/* SESSION_BIND */
	struct agentproto_add	 add;		/* ADD (owns add.blob); ADD_CARD:
						   constraints only */
	const unsigned char	*provider;	/* ADD_CARD, REMOVE_CARD: points
						   into the body, no NUL */
	size_t			 providerlen;
};

/*
 * Parses a request frame's body (type byte first) against the allowlist.
 * Returns 0 with *out filled (free with agentproto_req_free), or -1 with *why
 * ("unknown message type", "unknown extension", "malformed", or a reason the
 * agent would refuse it): the relay answers FAILURE and forwards nothing.
 */
int	agentproto_parse_request(const unsigned char *body, size_t len,
	    struct agentproto_req *out, const char **why);
void	agentproto_req_free(struct agentproto_req *);

/* The allowlist as text, one "type[ name]" per entry, for docs and tests:
 * entry i, or NULL past the end. */
const char *agentproto_allowlist_entry(size_t i);

/* A session-bind the agent accepted, as key_used reports it. */
struct agentproto_hop {
	char	hostkey[AGENTPROTO_FP_LEN + 1];
	int	forwarding;
};

/* SIGN_REQUEST (key blob, data, flags) and REMOVE_IDENTITY (key blob) bodies:
 * the key they name. 0 or -1 (EBADMSG). */
int	agentproto_parse_sign(const unsigned char *body, size_t len,
	    struct agentproto_key *out);
int	agentproto_parse_remove(const unsigned char *body, size_t len,
	    struct agentproto_key *out);

/*
 * An EXTENSION body: returns 1 for session-bind@openssh.com with the bound
 * host key's fingerprint and is_forwarding filled in, 0 for any other
 * extension, -1 for a malformed body.
 */
int	agentproto_parse_session_bind(const unsigned char *body, size_t len,
	    char hostkey_fp[AGENTPROTO_FP_LEN + 1], int *forwarding);

/*
 * Parses an IDENTITIES_ANSWER body (after the type byte) into a malloc'ed
 * array (caller frees). Each blob of a known type must be canonical (see
 * agentproto_blob_key); one of a type we do not know is hashed as it is.
 * -1 with errno EBADMSG if anything is out of bounds or not canonical.
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
