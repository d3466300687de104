/* ackscan: the ack stream of a V2 session recorder (Tailscale's
 * sessionrecording protocol). The recorder answers the upload with JSON
 * objects one after another, {"ack": N} or {"error": "…"}, whitespace
 * between them. ackscan_feed cuts the bytes into frames (braces counted
 * outside strings, so it needs no JSON parser), ackscan_decode reads one.
 * No I/O, never prints; what a frame means for the stream is the caller's.
 */
#ifndef AGENTD_ACKSCAN_H
#define AGENTD_ACKSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACKSCAN_FRAME_MAX	4096	/* bytes of one frame */
#define ACKSCAN_ERROR_MAX	400	/* bytes of an error message kept */

/* Zeroed, a scanner is at the start of a stream. */
struct ackscan {
	size_t	len;			/* bytes of the current frame */
	int	depth;			/* open braces */
	bool	instr, esc;		/* in a string, after a backslash */
	int	err;			/* the first error, then sticky */
	char	frame[ACKSCAN_FRAME_MAX];
};

enum {
	ACKSCAN_MORE = 0,	/* every byte taken, no frame complete */
	ACKSCAN_FRAME = 1,	/* a frame is in frame[0..len) */
	ACKSCAN_EMALFORMED = -1,/* not whitespace or '{' between frames */
	ACKSCAN_ETOOBIG = -2,	/* a frame longer than ACKSCAN_FRAME_MAX */
	ACKSCAN_EJSON = -3,	/* ackscan_decode: not a JSON object */
	ACKSCAN_EACK = -4,	/* ackscan_decode: "ack" not an integer >= 0 */
};

/*
 * Takes bytes from buf[0..n) up to the end of the next frame; *used says
 * how many. ACKSCAN_FRAME: the frame is in s->frame[0..s->len), valid until
 * the next call; ACKSCAN_MORE: all n bytes taken, the frame (if one has
 * begun) continues in the next call. After an error (ACKSCAN_EMALFORMED,
 * ACKSCAN_ETOOBIG) every call returns it again with *used 0.
 */
int	ackscan_feed(struct ackscan *s, const char *buf, size_t n, size_t *used);

enum ackframe_kind {
	ACKFRAME_NONE,		/* {} : Go omits a zero ack */
	ACKFRAME_ACK,		/* "ack": the bytes received so far */
	ACKFRAME_ERROR,		/* "error": the recorder gave up */
};

struct ackframe {
	enum ackframe_kind	kind;
	uint64_t		ack;
	char			error[ACKSCAN_ERROR_MAX + 1];	/* NUL-ended */
};

/*
 * Reads one frame. A string "error" wins over "ack" (its first
 * ACKSCAN_ERROR_MAX bytes are kept); other members are ignored. 0, or
 * ACKSCAN_EJSON or ACKSCAN_EACK (an "ack" that is not a whole number in
 * [0, 2^64)).
 */
int	ackscan_decode(const char *frame, size_t len, struct ackframe *f);

#endif
