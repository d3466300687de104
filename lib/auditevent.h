/* auditevent: a strict, allocation-free parser for one audit log line
 * (DESIGN §4), made for reading large logs fast.
 *
 * A line must be one flat JSON object: strings (escapes decoded in place, valid
 * UTF-8 required), integers, other numbers, true/false/null, and nested
 * objects/arrays, which are checked and skipped. Fields a reader needs are
 * extracted with their type checked; every other field is ignored, so new
 * fields and new events never break a reader. Integers are parsed from their
 * digits, exactly (no doubles). A known field given twice is an error.
 */
#ifndef AGENTD_AUDITEVENT_H
#define AGENTD_AUDITEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string field, decoded, pointing into the parsed line (not NUL-terminated;
 * may contain NUL bytes from \u0000). p == NULL: absent or JSON null. */
struct auditstr {
	const char	*p;
	size_t		 len;
};

/* Bits of auditevent.has. */
#define AUDITEVENT_LABEL	0x0001u
#define AUDITEVENT_TTL		0x0002u
#define AUDITEVENT_KEY_TTL	0x0004u
#define AUDITEVENT_DURATION	0x0008u
#define AUDITEVENT_EXIT_CODE	0x0010u	/* an integer, not null */
#define AUDITEVENT_SIGNAL	0x0020u	/* an integer, not null */
#define AUDITEVENT_CORE		0x0040u
#define AUDITEVENT_OK		0x0080u
#define AUDITEVENT_REASON	0x0100u
#define AUDITEVENT_FINGERPRINT	0x0200u
#define AUDITEVENT_HOST		0x0400u	/* a string (not null) */

/* Event kinds a reader acts on; anything else is AUDITEVENT_OTHER. */
enum auditevent_kind {
	AUDITEVENT_OTHER = 0,
	AUDITEVENT_CREATED,
	AUDITEVENT_KEY_LOADED,
	AUDITEVENT_KEY_REMOVED,
	AUDITEVENT_KEY_USED,
	AUDITEVENT_SHELL_STARTED,
	AUDITEVENT_SHELL_ENDED,
	AUDITEVENT_STOPPED,
	AUDITEVENT_CRASHED,
};

struct auditevent {
	/* Common fields: always present after a successful parse. */
	uint64_t		 v;
	uint64_t		 seq;
	int64_t			 ts_us;		/* microseconds since the epoch */
	struct auditstr		 ts;		/* as written */
	struct auditstr		 event;
	enum auditevent_kind	 kind;
	struct auditstr		 session;	/* p NULL: JSON null */
	struct auditstr		 prev;
	/* 1 when the line starts v, seq, ts, event, session and ends with prev
	 * (the writer's order; verify insists, readers do not care). */
	bool			 order_ok;
	/* 1 when ts has exactly the writer's form YYYY-MM-DDTHH:MM:SS.uuuuuuZ. */
	bool			 ts_exact;

	/* Event fields, valid when their AUDITEVENT_* bit is set in has. */
	unsigned		 has;
	struct auditstr		 label;
	struct auditstr		 exit_reason;	/* also key_removed's "reason" */
	struct auditstr		 fingerprint;
	struct auditstr		 host;		/* created, checkpoint */
	uint64_t		 ttl_s;
	uint64_t		 key_ttl_s;
	uint64_t		 duration_s;
	int64_t			 exit_code;
	int64_t			 signal;
	bool			 core_dumped;
	bool			 ok;
};

/*
 * Parses the line buf[0..len) (no '\n') into *ev. buf is modified: escaped
 * strings are decoded in place, and ev's strings point into it, so they are
 * valid as long as buf is. Returns 0, or -1 with *why set to a static one-line
 * description of the first problem ("expected ':' at byte 17", "missing
 * field seq", ...).
 */
int	auditevent_parse(char *buf, size_t len, struct auditevent *ev,
	    const char **why);

/* Parses an RFC 3339 UTC time ("...Z", fraction optional, up to 9 digits,
 * microseconds kept) into microseconds since the epoch. Returns 0 or -1. */
int	auditevent_parse_time(const char *s, size_t len, int64_t *us);

#endif
