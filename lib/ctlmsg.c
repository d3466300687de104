/* ctlmsg: length-prefixed JSON messages. See ctlmsg.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctlmsg.h"

/* read(2) that also collects SCM_RIGHTS descriptors into in->fds. */
static ssize_t
ctlmsg_recv_some(int fd, struct ctlmsg_in *in, void *buf, size_t len)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * CTLMSG_MAX_FDS)];
	} cmsgbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg;
	struct cmsghdr *cm;
	const unsigned char *p;
	ssize_t n;
	size_t i, nfds;
	int rfd;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n == -1 && errno == ENOTSOCK)
		return read(fd, buf, len);
	if (n <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		p = CMSG_DATA(cm);
		for (i = 0; i < nfds; i++) {
			memcpy(&rfd, p + i * sizeof(int), sizeof(int));
			if (in->nfds < CTLMSG_MAX_FDS)
				in->fds[in->nfds++] = rfd;
			else
				close(rfd);
		}
	}
	return n;
}

int
ctlmsg_read(int fd, struct ctlmsg_in *in)
{
	ssize_t n;

	while (in->hdrlen < sizeof(in->hdr)) {
		n = ctlmsg_recv_some(fd, in, in->hdr + in->hdrlen,
		    sizeof(in->hdr) - in->hdrlen);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		in->hdrlen += (size_t)n;
		if (in->hdrlen < sizeof(in->hdr))
			continue;
		in->bodylen = (uint32_t)in->hdr[0] << 24 |
		    (uint32_t)in->hdr[1] << 16 | (uint32_t)in->hdr[2] << 8 |
		    in->hdr[3];
		if (in->bodylen == 0 ||
		    in->bodylen > (in->max ? in->max : CTLMSG_MAX)) {
			errno = EMSGSIZE;
			return -1;
		}
		if ((in->body = malloc(in->bodylen + 1)) == NULL)
			return -1;
		in->have = 0;
	}
	while (in->have < in->bodylen) {
		n = ctlmsg_recv_some(fd, in, in->body + in->have,
		    in->bodylen - in->have);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		in->have += (size_t)n;
	}
	in->body[in->bodylen] = '\0';
	return 1;
}

void
ctlmsg_in_reset(struct ctlmsg_in *in)
{
	int i;

	for (i = 0; i < in->nfds; i++)
		close(in->fds[i]);
	free(in->body);
	memset(in, 0, sizeof(*in));
}

cJSON *
ctlmsg_parse(const struct ctlmsg_in *in)
{
	cJSON *obj;

	/* cJSON stops at a NUL: bytes after one would pass unseen. */
	if (memchr(in->body, '\0', in->bodylen) != NULL)
		return NULL;
	obj = cJSON_ParseWithLengthOpts(in->body, in->bodylen + 1, NULL, 1);
	if (obj != NULL && !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	return obj;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				(void)poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctlmsg_send_fds(int fd, const char *json, size_t len, const int *fds,
    int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * CTLMSG_MAX_FDS)];
	} cmsgbuf;
	unsigned char hdr[4];
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	if (len == 0 || len > CTLMSG_REPLY_MAX || nfds < 1 ||
	    nfds > CTLMSG_MAX_FDS) {
		errno = len == 0 || len > CTLMSG_REPLY_MAX ? EMSGSIZE : EINVAL;
		return -1;
	}
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	/* The descriptors ride on the length header; the body follows. */
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n < (ssize_t)sizeof(hdr) &&
	    write_all(fd, hdr + n, sizeof(hdr) - (size_t)n) == -1)
		return -1;
	return write_all(fd, json, len);
}

int
ctlmsg_send(int fd, const char *json, size_t len)
{
	unsigned char hdr[4];

	if (len == 0 || len > CTLMSG_REPLY_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	if (write_all(fd, hdr, sizeof(hdr)) == -1)
		return -1;
	return write_all(fd, json, len);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
recv_nonblock(int fd, char **out, size_t *outlen, int timeout_ms)
{
	struct ctlmsg_in in;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long deadline = now_ms() + timeout_ms;
	int r, wait;

	memset(&in, 0, sizeof(in));
	in.max = CTLMSG_REPLY_MAX;
	for (;;) {
		wait = -1;
		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				ctlmsg_in_reset(&in);
				errno = ETIMEDOUT;
				return -1;
			}
			wait = (int)left;
		}
		r = poll(&pfd, 1, wait);
		if (r == -1 && errno != EINTR) {
			ctlmsg_in_reset(&in);
			return -1;
		}
		if (r <= 0)
			continue;
		r = ctlmsg_read(fd, &in);
		if (r == -1) {
			int saved = errno;
			ctlmsg_in_reset(&in);
			errno = saved;
			return -1;
		}
		if (r == 1)
			break;
	}
	*out = in.body;
	*outlen = in.bodylen;
	return 0;
}

int
ctlmsg_recv(int fd, char **out, size_t *outlen, int timeout_ms)
{
	int flags, r, saved;

	/* On a blocking fd, a half-sent message would block read() past the timeout. */
	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	r = recv_nonblock(fd, out, outlen, timeout_ms);
	saved = errno;
	if (!(flags & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, flags);
	errno = saved;
	return r;
}

int
ctlmsg_get_uint(const cJSON *obj, const char *key, uint64_t min, uint64_t max,
    uint64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (!cJSON_IsNumber(item))
		return -1;
	d = item->valuedouble;
	/* Doubles are exact below 2^53 (2^53 itself may be a rounded 2^53 + 1). */
	if (!(d >= 0 && d < 9007199254740992.0) || d != (double)(uint64_t)d)
		return -1;
	if ((uint64_t)d < min || (uint64_t)d > max)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

const char *
ctlmsg_get_str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}
