/* checkpoint: signed checkpoints of the audit chain (DESIGN §11), the
 * signing key's file, the public key's text form, and a checker that a
 * verifier feeds line by line. Ed25519 through libsodium.
 *
 * A checkpoint is an ordinary audit line (event "checkpoint", session null):
 *   {"v":1,"seq":S,"ts":…,"event":"checkpoint","session":null,
 *    "host":H,"head":P,"key_id":K,"sig":G,"prev":P}
 * head is the prev the line carries: the hex BLAKE2b-256 of line S-1, the
 * head of the chain of lines 1..S-1. The signed message is, byte for byte:
 *   "agentd-checkpoint-v1"		20 ASCII bytes, no terminator
 *   u16 big-endian len(H) ‖ H		host, 1..255 bytes as decoded from JSON
 *   u64 big-endian S			the checkpoint line's own seq
 *   32 bytes				head, raw (not hex)
 * G is the 64-byte Ed25519 signature (crypto_sign_detached) in standard
 * padded base64 (88 characters). K is the key id: the first 8 bytes of
 * BLAKE2b-256 of the 32-byte public key, lowercase hex (16 characters).
 *
 * The secret key file holds one line "agentd-ed25519-secret <base64 seed>\n"
 * (the 32-byte seed of crypto_sign_seed_keypair). The public key's text form
 * (auditctl pubkey, verify --pubkey) is one line
 * "agentd-ed25519 <base64 public key> <key id>\n".
 */
#ifndef AGENTD_CHECKPOINT_H
#define AGENTD_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_CONTEXT	"agentd-checkpoint-v1"
/* The daemon signs after at most this many events; a verifier given the
 * public key refuses a longer unsigned tail. */
#define CHECKPOINT_EVERY	1000
#define CHECKPOINT_HOST_MAX	255
#define CHECKPOINT_KEYID_HEX	16
#define CHECKPOINT_SIG_B64	88	/* base64 of 64 bytes, padded */
#define CHECKPOINT_MSG_MAX	(20 + 2 + CHECKPOINT_HOST_MAX + 8 + 32)
#define CHECKPOINT_PUB_TYPE	"agentd-ed25519"
#define CHECKPOINT_SECRET_TYPE	"agentd-ed25519-secret"
/* "agentd-ed25519 " + base64 of 32 bytes (44) + " " + 16 + "\n" + NUL */
#define CHECKPOINT_PUB_TEXT	(15 + 44 + 1 + CHECKPOINT_KEYID_HEX + 2)

/* A public key and its id. */
struct checkpoint_pub {
	unsigned char	 pk[32];
	char		 key_id[CHECKPOINT_KEYID_HEX + 1];
};

/* The signing key: lives in sodium_malloc'ed memory (guard pages, mlock
 * tried, read-only once made, wiped when freed). */
struct checkpoint_key;

/*
 * Loads the secret key file `name` in the directory dirfd (shown: its path
 * for messages). The file must be a regular file (never followed through a
 * symlink) owned by the effective uid with no group/other permission bits,
 * holding exactly one secret key line; nothing is chmod'ed into compliance.
 * With `create`, a missing file is made first: written to a new temporary
 * name (O_EXCL, 0600), fsync'ed, then link(2)ed to `name`, which never
 * replaces a file another process made meanwhile (then that one is loaded),
 * so the name holds a whole key or nothing. *created is set to 1 when this
 * call made it (may be NULL). Returns the key (free with checkpoint_key_free)
 * or NULL with errno and *cause (malloc'ed one line naming the file, never
 * any key bytes; caller frees; cause may be NULL).
 */
struct checkpoint_key *checkpoint_key_load(int dirfd, const char *name,
		    const char *shown, int create, int *created, char **cause);
/* Wipes and frees; NULL is allowed. */
void		 checkpoint_key_free(struct checkpoint_key *);
void		 checkpoint_key_public(const struct checkpoint_key *,
		    struct checkpoint_pub *);

/* The key id of a public key into out[17]. */
void		 checkpoint_key_id(const unsigned char pk[32],
		    char out[CHECKPOINT_KEYID_HEX + 1]);
/* The public key's text form, with its '\n', into out[CHECKPOINT_PUB_TEXT]. */
void		 checkpoint_pub_format(const struct checkpoint_pub *,
		    char out[CHECKPOINT_PUB_TEXT]);
/*
 * Parses the public key's text form (the '\n' at the end optional, nothing
 * else around it). The key id, when given, must be the key's own. Returns 0,
 * or -1 with *why (static).
 */
int		 checkpoint_pub_parse(const char *s, size_t len,
		    struct checkpoint_pub *, const char **why);

/*
 * The signed message for (host, seq, head) into out; returns its length, or
 * 0 when host is empty or longer than CHECKPOINT_HOST_MAX.
 */
size_t		 checkpoint_message(unsigned char out[CHECKPOINT_MSG_MAX],
		    const char *host, size_t hostlen, uint64_t seq,
		    const unsigned char head[32]);
/*
 * Signs (host, seq, headhex: 64 lowercase hex) with key: sig gets the base64
 * signature. Returns 0, or -1 (EINVAL) on a bad host or head.
 */
int		 checkpoint_sign(const struct checkpoint_key *, const char *host,
		    size_t hostlen, uint64_t seq, const char *headhex,
		    char sig[CHECKPOINT_SIG_B64 + 1]);

/* A checkpoint line, parsed. */
struct checkpoint {
	uint64_t	 seq;
	char		 host[CHECKPOINT_HOST_MAX + 1];
	size_t		 hostlen;
	unsigned char	 head[32];
	unsigned char	 prev[32];
	char		 key_id[CHECKPOINT_KEYID_HEX + 1];
	unsigned char	 sig[64];
};

/*
 * Parses the raw line line[0..len) (no '\n') as a checkpoint event: a JSON
 * object with event "checkpoint", session null, an integer seq, host (1..255
 * bytes, no NUL), head and prev (64 lowercase hex), key_id (16 lowercase hex)
 * and sig (base64 of 64 bytes). Other fields are ignored. Returns 0, or -1
 * with *why (static).
 */
int		 checkpoint_parse(const char *line, size_t len,
		    struct checkpoint *, const char **why);
/*
 * Checks a parsed checkpoint: head must equal prev; with pub, the key id must
 * be pub's and the signature valid. Returns 0, or -1 with *why (static).
 */
int		 checkpoint_verify(const struct checkpoint *,
		    const struct checkpoint_pub *pub, const char **why);

/*
 * The verifier's side, fed every line of a chain in order:
 *	checkpoint_check_init(&cc, pub or NULL);
 *	for each line: checkpoint_check_raw(&cc, raw, len) before the line is
 *	    parsed in place, then, once the chain accepted it,
 *	    checkpoint_check_line(&cc, its event is "checkpoint", &why);
 *	checkpoint_check_end(&cc, &why); checkpoint_check_free(&cc);
 */
struct checkpoint_check {
	const struct checkpoint_pub *pub;	/* NULL: signatures not checked */
	uint64_t	 checkpoints;	/* checkpoint lines accepted */
	uint64_t	 last_seq;	/* seq of the last one, 0: none yet */
	uint64_t	 tail;		/* lines after it (all lines if none) */
	char		 host[CHECKPOINT_HOST_MAX + 1];	/* of the last one */
	char		 key_id[CHECKPOINT_KEYID_HEX + 1];	/* of the last one */
	uint64_t	 key_changes;	/* times key_id differed from the one before */
	uint64_t	 key_change_seq; /* seq of the last such checkpoint */
	char		*raw;		/* copy of a line that may be one */
	size_t		 rawlen, rawcap;
	bool		 have_raw;
};

void		 checkpoint_check_init(struct checkpoint_check *,
		    const struct checkpoint_pub *pub);
/* Keeps a copy of the raw line when it may be a checkpoint. 0, or -1 ENOMEM. */
int		 checkpoint_check_raw(struct checkpoint_check *,
		    const char *line, size_t len);
/* The line the chain accepted; is_checkpoint: its decoded event is
 * "checkpoint". 0, or -1 with *why (static) for a bad checkpoint. */
int		 checkpoint_check_line(struct checkpoint_check *,
		    bool is_checkpoint, const char **why);
/* With a key: -1 with *why when nothing was signed, or when the unsigned
 * tail is longer than CHECKPOINT_EVERY lines (checkpoints removed). */
int		 checkpoint_check_end(const struct checkpoint_check *,
		    const char **why);
void		 checkpoint_check_free(struct checkpoint_check *);

#endif
