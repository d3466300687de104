/* libFuzzer target: a V2 recorder's ack stream as the daemon reads it, cut
 * into frames and each frame read. The stream is fed whole and again in
 * chunks (byte 0: the chunk length); both must give the same frames and the
 * same end. abort() on any difference. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ackscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	uint64_t	 hash;		/* of the frames and what they say */
	size_t		 nframes;
	size_t		 at;		/* bytes taken */
	int		 end;
};

static void
mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		*h = (*h ^ s[i]) * 1099511628211ULL;
}

static void
run(const char *in, size_t n, size_t chunk, struct run *r)
{
	static struct ackscan s;
	struct ackframe f;
	size_t off = 0, k, used;
	int rc = ACKSCAN_MORE, d;

	memset(&s, 0, sizeof(s));
	memset(r, 0, sizeof(*r));
	r->hash = 14695981039346656037ULL;
	while (off < n) {
		k = n - off < chunk ? n - off : chunk;
		rc = ackscan_feed(&s, in + off, k, &used);
		if (used > k)
			abort();
		off += used;
		if (rc < 0)
			break;
		if (rc == ACKSCAN_MORE) {
			if (used != k)
				abort();
			continue;
		}
		if (rc != ACKSCAN_FRAME || used == 0 || s.len < 2 ||
		    s.len > ACKSCAN_FRAME_MAX || s.frame[0] != '{' ||
		    s.frame[s.len - 1] != '}')
			abort();
		r->nframes++;
		mix(&r->hash, s.frame, s.len);
		d = ackscan_decode(s.frame, s.len, &f);
		mix(&r->hash, &d, sizeof(d));
		if (d == 0) {
			if (memchr(f.error, '\0', sizeof(f.error)) == NULL ||
			    (f.kind != ACKFRAME_ERROR && f.error[0] != '\0') ||
			    (f.kind != ACKFRAME_ACK && f.ack != 0))
				abort();
			mix(&r->hash, &f.kind, sizeof(f.kind));
			mix(&r->hash, &f.ack, sizeof(f.ack));
			mix(&r->hash, f.error, strlen(f.error));
		} else if (d != ACKSCAN_EJSON && d != ACKSCAN_EACK)
			abort();
	}
	if (rc < 0) {
		if (rc != ACKSCAN_EMALFORMED && rc != ACKSCAN_ETOOBIG)
			abort();
		/* Sticky, takes nothing. */
		if (ackscan_feed(&s, "{}", 2, &used) != rc || used != 0)
			abort();
	}
	r->at = off;
	r->end = rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, cut;
	size_t chunk;

	if (size == 0 || size > 65536)
		return 0;
	chunk = 1 + data[0] % 64;
	data++;
	size--;
	run((const char *)data, size, size == 0 ? 1 : size, &whole);
	run((const char *)data, size, chunk, &cut);
	if (whole.hash != cut.hash || whole.nframes != cut.nframes ||
	    whole.at != cut.at || whole.end != cut.end)
		abort();
	return 0;
}
