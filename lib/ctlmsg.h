/* ctlmsg: framing of the control protocol (docs/PROTOCOL.md): a 4-byte
 * big-endian length, then that many bytes of one JSON object. Lengths above
 * the cap are refused before anything is buffered: CTLMSG_MAX for requests
 * (what the daemon reads), CTLMSG_REPLY_MAX for replies (a status of many
 * sessions). */
#ifndef AGENTD_CTLMSG_H
#define AGENTD_CTLMSG_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define CTLMSG_MAX		(64 * 1024)
#define CTLMSG_REPLY_MAX	(16 * 1024 * 1024)
#define CTLMSG_MAX_FDS		3	/* SCM_RIGHTS fds a message may carry */

/* Incremental reader for a non-blocking socket. */
struct ctlmsg_in {
	unsigned char	 hdr[4];
	size_t		 hdrlen;
	char		*body;		/* NUL-terminated once complete */
	uint32_t	 bodylen;
	size_t		 have;
	uint32_t	 max;		/* 0: CTLMSG_MAX */
	int		 fds[CTLMSG_MAX_FDS];	/* received with the message */
	int		 nfds;		/* a taker sets it to 0 */
};

/*
 * Reads what is available from the socket fd (descriptors passed with
 * SCM_RIGHTS land in in->fds, close-on-exec; extra ones are closed). Returns
 * 1 when a whole message is in
 * (in->body, in->bodylen), 0 when more is needed (EAGAIN), -1 on error with
 * errno: EMSGSIZE for a length over in->max (CTLMSG_MAX if 0) or zero, ECONNRESET at EOF
 * (before or inside a message), or the read error.
 */
int	ctlmsg_read(int fd, struct ctlmsg_in *in);
/* Frees the body, closes received fds not taken, and resets the reader. */
void	ctlmsg_in_reset(struct ctlmsg_in *in);

/* Parses the message into a JSON object (NULL: not a JSON object). */
cJSON	*ctlmsg_parse(const struct ctlmsg_in *in);

/*
 * Blocking helpers for clients: sends one message (json of len bytes, at most
 * CTLMSG_REPLY_MAX), or receives one of at most CTLMSG_REPLY_MAX bytes into a
 * malloc'ed NUL-terminated string (caller frees).
 * timeout_ms < 0 waits forever. Return 0 / -1 with errno (ETIMEDOUT).
 */
int	ctlmsg_send(int fd, const char *json, size_t len);
/* The same, passing nfds (≤ CTLMSG_MAX_FDS) descriptors with SCM_RIGHTS. */
int	ctlmsg_send_fds(int fd, const char *json, size_t len, const int *fds,
	    int nfds);
int	ctlmsg_recv(int fd, char **out, size_t *outlen, int timeout_ms);

/* Typed access to request fields; each returns -1 when the field is missing
 * or of the wrong type (an integer must be integral and within [min, max]). */
int	ctlmsg_get_uint(const cJSON *obj, const char *key, uint64_t min,
	    uint64_t max, uint64_t *out);
const char *ctlmsg_get_str(const cJSON *obj, const char *key);

#endif
