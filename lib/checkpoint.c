/* checkpoint: signed checkpoints of the audit chain. See checkpoint.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "cause.h"
#include "checkpoint.h"

#define CONTEXT_LEN	(sizeof(CHECKPOINT_CONTEXT) - 1)
/* "agentd-ed25519-secret " + base64 of 32 bytes + "\n" */
#define SECRET_LINE	(sizeof(CHECKPOINT_SECRET_TYPE) - 1 + 1 + 44 + 1)
#define B64		sodium_base64_VARIANT_ORIGINAL
/* Attempts at a free temporary name when making a key. */
#define TMP_TRIES	16

struct checkpoint_key {
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	struct checkpoint_pub pub;
};

void
checkpoint_key_id(const unsigned char pk[32],
    char out[CHECKPOINT_KEYID_HEX + 1])
{
	unsigned char	 h[32];

	crypto_generichash(h, sizeof(h), pk, 32, NULL, 0);
	sodium_bin2hex(out, CHECKPOINT_KEYID_HEX + 1, h,
	    CHECKPOINT_KEYID_HEX / 2);
}

/* Decodes exactly 2*n lowercase hex digits into n bytes. */
static int
checkpoint_unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t	 i, got;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return -1;
	}
	if (sodium_hex2bin(out, n, s, len, NULL, &got, NULL) != 0 || got != n)
		return -1;
	return 0;
}

/* Decodes padded standard base64 of exactly n bytes (no other characters). */
static int
checkpoint_unb64(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t	 got;
	const char *end;

	if (len != sodium_base64_ENCODED_LEN(n, B64) - 1)
		return -1;
	if (sodium_base642bin(out, n, s, len, NULL, &got, &end, B64) != 0 ||
	    got != n || end != s + len)
		return -1;
	return 0;
}

/* --- the key file ------------------------------------------------------- */

/* Parses one secret key line into key (sk, pub). */
static int
checkpoint_key_parse(const char *buf, size_t len, struct checkpoint_key *key)
{
	unsigned char	 seed[crypto_sign_SEEDBYTES];
	size_t		 tl = sizeof(CHECKPOINT_SECRET_TYPE) - 1;
	int		 r = -1;

	if (len != SECRET_LINE || memcmp(buf, CHECKPOINT_SECRET_TYPE, tl) != 0 ||
	    buf[tl] != ' ' || buf[len - 1] != '\n')
		return -1;
	if (checkpoint_unb64(buf + tl + 1, len - tl - 2, seed,
	    sizeof(seed)) == 0 &&
	    crypto_sign_seed_keypair(key->pub.pk, key->sk, seed) == 0) {
		checkpoint_key_id(key->pub.pk, key->pub.key_id);
		r = 0;
	}
	sodium_memzero(seed, sizeof(seed));
	return r;
}

/* Makes a new key file `name` in dirfd: temporary name, fsync, link. */
static int
checkpoint_key_make(int dirfd, const char *name, const char *shown,
    char **cause)
{
	unsigned char	 seed[crypto_sign_SEEDBYTES];
	char		 line[SECRET_LINE + 1], tmp[NAME_MAX + 1];
	size_t		 tl = sizeof(CHECKPOINT_SECRET_TYPE) - 1;
	ssize_t		 n;
	int		 fd = -1, i, r = -1, linked;

	for (i = 0; i < TMP_TRIES; i++) {
		if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.new-%08x", name,
		    randombytes_random()) >= sizeof(tmp)) {
			errno = ENAMETOOLONG;
			cause_set(cause, "%s: name too long", shown);
			return -1;
		}
		fd = openat(dirfd, tmp, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		cause_set(cause, "%s: cannot create a new key: %s",
		    shown, strerror(errno));
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	memcpy(line, CHECKPOINT_SECRET_TYPE, tl);
	line[tl] = ' ';
	sodium_bin2base64(line + tl + 1, sizeof(line) - tl - 1, seed,
	    sizeof(seed), B64);
	line[SECRET_LINE - 1] = '\n';
	sodium_memzero(seed, sizeof(seed));
	do {
		n = write(fd, line, SECRET_LINE);
	} while (n == -1 && errno == EINTR);
	sodium_memzero(line, sizeof(line));
	if (n != (ssize_t)SECRET_LINE || fsync(fd) == -1) {
		if (n >= 0 && n != (ssize_t)SECRET_LINE)
			errno = ENOSPC;
		cause_set(cause, "%s: writing a new key failed: %s",
		    shown, strerror(errno));
		goto out;
	}
	/* link(2) never replaces: a key another process made stays. */
	linked = linkat(dirfd, tmp, dirfd, name, 0);
	if (linked == -1 && errno != EEXIST) {
		cause_set(cause, "%s: %s", shown, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	{
		int saved = errno;

		(void)unlinkat(dirfd, tmp, 0);
		if (r == 0 && fsync(dirfd) == -1) {
			cause_set(cause, "%s: fsync of its directory "
			    "failed: %s", shown, strerror(errno));
			r = -1;
		} else
			errno = saved;
	}
	return r;
}

struct checkpoint_key *
checkpoint_key_load(int dirfd, const char *name, const char *shown, int create,
    int *created, char **cause)
{
	struct checkpoint_key	*key;
	struct stat		 st;
	char			 buf[SECRET_LINE + 2];
	ssize_t			 n;
	size_t			 have = 0;
	int			 fd, tries;

	if (cause != NULL)
		*cause = NULL;
	if (created != NULL)
		*created = 0;
	if (sodium_init() < 0) {
		errno = EINVAL;
		cause_set(cause, "%s: libsodium failed to initialise",
		    shown);
		return NULL;
	}
	for (tries = 0;; tries++) {
		fd = openat(dirfd, name, O_RDONLY|O_NOFOLLOW|O_CLOEXEC|
		    O_NONBLOCK);
		if (fd != -1 || errno != ENOENT || !create || tries > 0)
			break;
		if (checkpoint_key_make(dirfd, name, shown, cause) == -1)
			return NULL;
		if (created != NULL)
			*created = 1;
	}
	if (fd == -1) {
		cause_set(cause, "%s: %s", shown, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		cause_set(cause, "%s: fstat: %s", shown, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		cause_set(cause, "%s: not a regular file", shown);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		cause_set(cause, "%s: owned by uid %lu, not %lu", shown,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG|S_IRWXO)) != 0) {
		errno = EPERM;
		cause_set(cause, "%s: mode %04o is accessible by group or "
		    "others (want 0600)", shown, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	while (have < sizeof(buf)) {
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: read: %s", shown,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	fd = -1;
	if ((key = sodium_malloc(sizeof(*key))) == NULL) {
		sodium_memzero(buf, sizeof(buf));
		errno = ENOMEM;
		cause_set(cause, "%s: out of memory", shown);
		return NULL;
	}
	if (checkpoint_key_parse(buf, have, key) == -1) {
		sodium_memzero(buf, sizeof(buf));
		sodium_free(key);
		errno = EINVAL;
		cause_set(cause, "%s: not an agentd signing key (one "
		    "line \"%s <base64 seed>\")", shown, CHECKPOINT_SECRET_TYPE);
		return NULL;
	}
	sodium_memzero(buf, sizeof(buf));
	(void)sodium_mprotect_readonly(key);
	return key;
fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

void
checkpoint_key_free(struct checkpoint_key *key)
{
	if (key != NULL)
		sodium_free(key);	/* wipes it */
}

void
checkpoint_key_public(const struct checkpoint_key *key,
    struct checkpoint_pub *pub)
{
	*pub = key->pub;
}

void
checkpoint_pub_format(const struct checkpoint_pub *pub,
    char out[CHECKPOINT_PUB_TEXT])
{
	char	 b64[sodium_base64_ENCODED_LEN(32, B64)];

	sodium_bin2base64(b64, sizeof(b64), pub->pk, sizeof(pub->pk), B64);
	snprintf(out, CHECKPOINT_PUB_TEXT, "%s %s %s\n", CHECKPOINT_PUB_TYPE,
	    b64, pub->key_id);
}

int
checkpoint_pub_parse(const char *s, size_t len, struct checkpoint_pub *pub,
    const char **why)
{
	size_t		 tl = sizeof(CHECKPOINT_PUB_TYPE) - 1, b64len = 44;
	const char	*p;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len < tl + 1 + b64len || memcmp(s, CHECKPOINT_PUB_TYPE, tl) != 0 ||
	    s[tl] != ' ') {
		*why = "not an agentd public key (\"" CHECKPOINT_PUB_TYPE
		    " <base64> <key id>\")";
		return -1;
	}
	p = s + tl + 1;
	if (checkpoint_unb64(p, b64len, pub->pk, sizeof(pub->pk)) == -1) {
		*why = "the public key is not base64 of 32 bytes";
		return -1;
	}
	checkpoint_key_id(pub->pk, pub->key_id);
	p += b64len;
	len -= (size_t)(p - s);
	if (len == 0)
		return 0;
	if (len != 1 + CHECKPOINT_KEYID_HEX || *p != ' ') {
		*why = "unexpected text after the public key";
		return -1;
	}
	if (memcmp(p + 1, pub->key_id, CHECKPOINT_KEYID_HEX) != 0) {
		*why = "the key id does not belong to the public key";
		return -1;
	}
	return 0;
}

/* --- the signed message ------------------------------------------------- */

size_t
checkpoint_message(unsigned char out[CHECKPOINT_MSG_MAX], const char *host,
    size_t hostlen, uint64_t seq, const unsigned char head[32])
{
	size_t	 n = 0;
	int	 i;

	if (hostlen == 0 || hostlen > CHECKPOINT_HOST_MAX)
		return 0;
	memcpy(out, CHECKPOINT_CONTEXT, CONTEXT_LEN);
	n = CONTEXT_LEN;
	out[n++] = (unsigned char)(hostlen >> 8);
	out[n++] = (unsigned char)hostlen;
	memcpy(out + n, host, hostlen);
	n += hostlen;
	for (i = 7; i >= 0; i--)
		out[n++] = (unsigned char)(seq >> (8 * i));
	memcpy(out + n, head, 32);
	return n + 32;
}

int
checkpoint_sign(const struct checkpoint_key *key, const char *host,
    size_t hostlen, uint64_t seq, const char *headhex,
    char sig[CHECKPOINT_SIG_B64 + 1])
{
	unsigned char	 msg[CHECKPOINT_MSG_MAX], head[32];
	unsigned char	 raw[crypto_sign_BYTES];
	size_t		 len;

	if (checkpoint_unhex(headhex, strlen(headhex), head,
	    sizeof(head)) == -1 ||
	    (len = checkpoint_message(msg, host, hostlen, seq, head)) == 0) {
		errno = EINVAL;
		return -1;
	}
	crypto_sign_detached(raw, NULL, msg, len, key->sk);
	sodium_bin2base64(sig, CHECKPOINT_SIG_B64 + 1, raw, sizeof(raw), B64);
	return 0;
}

/* --- reading checkpoint lines ------------------------------------------- */

/* The string field name of obj, or NULL when absent or not a string. */
static const char *
checkpoint_str(const cJSON *obj, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
checkpoint_parse(const char *line, size_t len, struct checkpoint *cp,
    const char **why)
{
	cJSON		*obj = NULL;
	const cJSON	*v;
	const char	*s;
	char		*copy;
	double		 d;

	memset(cp, 0, sizeof(*cp));
	*why = NULL;
	/* cJSON wants a NUL-terminated copy; a NUL inside is not JSON text. */
	if (memchr(line, '\0', len) != NULL) {
		*why = "checkpoint: a NUL byte in the line";
		return -1;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		*why = "checkpoint: out of memory";
		return -1;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	obj = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
	free(copy);
	if (!cJSON_IsObject(obj)) {
		*why = "checkpoint: not a JSON object";
		goto bad;
	}
	if ((s = checkpoint_str(obj, "event")) == NULL ||
	    strcmp(s, "checkpoint") != 0) {
		*why = "checkpoint: event is not \"checkpoint\"";
		goto bad;
	}
	if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "session"))) {
		*why = "checkpoint: session is not null";
		goto bad;
	}
	v = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	if (!cJSON_IsNumber(v) || (d = v->valuedouble) < 1 ||
	    d > 9007199254740992.0 || d != (double)(uint64_t)d) {
		*why = "checkpoint: seq is not a positive integer";
		goto bad;
	}
	cp->seq = (uint64_t)d;
	if ((s = checkpoint_str(obj, "host")) == NULL || (cp->hostlen =
	    strlen(s)) == 0 || cp->hostlen > CHECKPOINT_HOST_MAX) {
		*why = "checkpoint: host is not a string of 1 to 255 bytes";
		goto bad;
	}
	memcpy(cp->host, s, cp->hostlen + 1);
	if ((s = checkpoint_str(obj, "head")) == NULL ||
	    checkpoint_unhex(s, strlen(s), cp->head, 32) == -1) {
		*why = "checkpoint: head is not 64 lowercase hex digits";
		goto bad;
	}
	if ((s = checkpoint_str(obj, "prev")) == NULL ||
	    checkpoint_unhex(s, strlen(s), cp->prev, 32) == -1) {
		*why = "checkpoint: prev is not 64 lowercase hex digits";
		goto bad;
	}
	if ((s = checkpoint_str(obj, "key_id")) == NULL ||
	    strlen(s) != CHECKPOINT_KEYID_HEX ||
	    checkpoint_unhex(s, CHECKPOINT_KEYID_HEX, (unsigned char[8]){ 0 },
	    8) == -1) {
		*why = "checkpoint: key_id is not 16 lowercase hex digits";
		goto bad;
	}
	memcpy(cp->key_id, s, CHECKPOINT_KEYID_HEX + 1);
	if ((s = checkpoint_str(obj, "sig")) == NULL ||
	    checkpoint_unb64(s, strlen(s), cp->sig, sizeof(cp->sig)) == -1) {
		*why = "checkpoint: sig is not base64 of 64 bytes";
		goto bad;
	}
	cJSON_Delete(obj);
	return 0;
bad:
	cJSON_Delete(obj);
	return -1;
}

int
checkpoint_verify(const struct checkpoint *cp, const struct checkpoint_pub *pub,
    const char **why)
{
	unsigned char	 msg[CHECKPOINT_MSG_MAX];
	size_t		 len;

	if (sodium_memcmp(cp->head, cp->prev, 32) != 0) {
		*why = "checkpoint: head is not the prev the line carries "
		    "(the chain was rewritten under it)";
		return -1;
	}
	if (pub == NULL)
		return 0;
	if (strcmp(cp->key_id, pub->key_id) != 0) {
		*why = "checkpoint: signed by another key (its key_id is not "
		    "the public key's)";
		return -1;
	}
	len = checkpoint_message(msg, cp->host, cp->hostlen, cp->seq, cp->head);
	if (len == 0 || crypto_sign_verify_detached(cp->sig, msg, len,
	    pub->pk) != 0) {
		*why = "checkpoint: bad signature (host, seq or head changed, "
		    "or not made with this key)";
		return -1;
	}
	return 0;
}

/* --- the verifier's side ------------------------------------------------ */

void
checkpoint_check_init(struct checkpoint_check *cc,
    const struct checkpoint_pub *pub)
{
	memset(cc, 0, sizeof(*cc));
	cc->pub = pub;
}

int
checkpoint_check_raw(struct checkpoint_check *cc, const char *line,
    size_t len)
{
	char	*p;

	cc->have_raw = false;
	/* The writer spells the event name plainly; a line that hides it in
	 * escapes is refused by checkpoint_check_line. */
	if (memmem(line, len, "\"checkpoint\"", 12) == NULL)
		return 0;
	if (len > cc->rawcap) {
		if ((p = realloc(cc->raw, len)) == NULL)
			return -1;
		cc->raw = p;
		cc->rawcap = len;
	}
	memcpy(cc->raw, line, len);
	cc->rawlen = len;
	cc->have_raw = true;
	return 0;
}

int
checkpoint_check_line(struct checkpoint_check *cc, bool is_checkpoint,
    const char **why)
{
	struct checkpoint cp;

	if (!is_checkpoint) {
		cc->tail++;
		return 0;
	}
	if (!cc->have_raw) {
		*why = "checkpoint: not in the writer's form";
		return -1;
	}
	if (checkpoint_parse(cc->raw, cc->rawlen, &cp, why) == -1 ||
	    checkpoint_verify(&cp, cc->pub, why) == -1)
		return -1;
	if (cc->checkpoints > 0 && strcmp(cc->key_id, cp.key_id) != 0) {
		cc->key_changes++;
		cc->key_change_seq = cp.seq;
	}
	memcpy(cc->key_id, cp.key_id, sizeof(cc->key_id));
	cc->checkpoints++;
	cc->last_seq = cp.seq;
	cc->tail = 0;
	memcpy(cc->host, cp.host, cp.hostlen + 1);
	return 0;
}

int
checkpoint_check_end(const struct checkpoint_check *cc, const char **why)
{
	if (cc->pub == NULL)
		return 0;
	if (cc->checkpoints == 0) {
		*why = "no checkpoint: nothing in the log is signed";
		return -1;
	}
	if (cc->tail > CHECKPOINT_EVERY) {
		*why = "the unsigned tail is longer than the 1000 events agentd "
		    "writes between checkpoints: checkpoints were removed";
		return -1;
	}
	return 0;
}

void
checkpoint_check_free(struct checkpoint_check *cc)
{
	free(cc->raw);
	cc->raw = NULL;
	cc->rawcap = cc->rawlen = 0;
}
