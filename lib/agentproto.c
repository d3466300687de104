/* agentproto: list an agent's identities. See agentproto.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "agentproto.h"

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Takes one SSH string at *pos; -1 when it does not fit in len. */
static int
get_string(const unsigned char *buf, size_t len, size_t *pos,
    const unsigned char **s, size_t *slen)
{
	uint32_t n;

	if (len - *pos < 4)
		return -1;
	n = get_u32(buf + *pos);
	if (n > len - *pos - 4)
		return -1;
	*s = buf + *pos + 4;
	*slen = n;
	*pos += 4 + (size_t)n;
	return 0;
}

void
agentproto_fingerprint(const unsigned char *blob, size_t len,
    char out[AGENTPROTO_FP_LEN + 1])
{
	unsigned char hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, blob, len);
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, AGENTPROTO_FP_LEN + 1 - 7, hash, sizeof(hash),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int
agentproto_key_type(const unsigned char *blob, size_t len,
    char out[AGENTPROTO_TYPE_MAX])
{
	const unsigned char *s;
	size_t pos = 0, slen, i;

	if (get_string(blob, len, &pos, &s, &slen) == -1 || slen == 0 ||
	    slen >= AGENTPROTO_TYPE_MAX)
		return -1;
	for (i = 0; i < slen; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return -1;
	}
	memcpy(out, s, slen);
	out[slen] = '\0';
	return 0;
}

int
agentproto_parse_identities(const unsigned char *body, size_t len,
    struct agentproto_key **keys, size_t *nkeys)
{
	struct agentproto_key *k = NULL;
	const unsigned char *blob, *comment;
	size_t pos = 4, bloblen, commentlen, i;
	uint32_t n;

	if (len < 4)
		goto bad;
	n = get_u32(body);
	/* Each identity takes at least 8 bytes: do not trust n for the allocation. */
	if (n > (len - 4) / 8)
		goto bad;
	if (n > 0 && (k = calloc(n, sizeof(*k))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (get_string(body, len, &pos, &blob, &bloblen) == -1 ||
		    get_string(body, len, &pos, &comment, &commentlen) == -1 ||
		    agentproto_key_type(blob, bloblen, k[i].type) == -1)
			goto bad;
		agentproto_fingerprint(blob, bloblen, k[i].fingerprint);
	}
	if (pos != len)
		goto bad;
	*keys = k;
	*nkeys = n;
	return 0;
bad:
	free(k);
	errno = EBADMSG;
	return -1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; -1 with ETIMEDOUT after it. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

int
agentproto_list(const char *path, int timeout_ms, struct agentproto_key **keys,
    size_t *nkeys, char **cause)
{
	static const unsigned char req[5] = { 0, 0, 0, 1,
	    AGENTPROTO_REQUEST_IDENTITIES };
	struct sockaddr_un sun;
	long long deadline = now_ms() + timeout_ms;
	unsigned char hdr[5], *body = NULL;
	size_t have = 0, want = sizeof(hdr);
	uint32_t flen = 0;
	ssize_t n;
	int fd, saved;
	const char *what = "connect";

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		goto fail_nofd;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail_nofd;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != EAGAIN || wait_fd(fd, POLLOUT, deadline) == -1))
		goto fail;
	what = "write";
	if (wait_fd(fd, POLLOUT, deadline) == -1 ||
	    write(fd, req, sizeof(req)) != (ssize_t)sizeof(req))
		goto fail;
	what = "read";
	while (have < want) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			goto fail;
		if (body == NULL)
			n = read(fd, hdr + have, want - have);
		else
			n = read(fd, body + have - sizeof(hdr), want - have);
		if (n == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto fail;
		}
		have += (size_t)n;
		if (body == NULL && have == sizeof(hdr)) {
			flen = get_u32(hdr);
			if (flen < 1 || flen > AGENTPROTO_MAX_FRAME ||
			    hdr[4] != AGENTPROTO_IDENTITIES_ANSWER) {
				errno = EBADMSG;
				goto fail;
			}
			want = 4 + (size_t)flen;
			if ((body = malloc(flen)) == NULL)
				goto fail;
		}
	}
	close(fd);
	what = "parse";
	if (agentproto_parse_identities(body, flen - 1,
	    keys, nkeys) == -1)
		goto fail_nofd;
	free(body);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
fail_nofd:
	saved = errno;
	free(body);
	if (cause != NULL && asprintf(cause, "%s: agent %s failed: %s", path,
	    what, strerror(saved)) == -1)
		*cause = NULL;
	errno = saved;
	return -1;
}
