/* auditfold: folds audit log events (DESIGN §4) into one compact row per
 * session, in one streaming pass.
 *
 * Memory is bounded by sessions, never by the log's size: a row is a fixed
 * struct of at most 256 bytes; labels and exit reasons are interned once each
 * in a string table. In "drop ended" mode a row is handed to a callback when
 * its session ends and its slot reused, so memory is bounded by the sessions
 * open at the same time (what ttl-evidence needs). A line that cannot be used
 * is reported through a callback with its line number and skipped; the fold
 * carries on. Never prints, never exits.
 *
 * Usage:
 *	struct auditfold *f = auditfold_new(NULL, NULL, NULL);
 *	if (auditfold_read_fd(f, fd, warn, arg) == -1) read error (errno);
 *	for (i = 0; i < auditfold_nrows(f); i++) row = auditfold_row(f, i);
 *	auditfold_free(f);
 */
#ifndef AGENTD_AUDITFOLD_H
#define AGENTD_AUDITFOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditevent.h"

/* Longest session id kept (DESIGN §3: at most 40 characters). */
#define AUDITFOLD_ID_MAX	40
/* A time that is not known (no such event seen). */
#define AUDITFOLD_NO_TIME	INT64_MIN
/* A string reference that is not set. */
#define AUDITFOLD_NO_STR	UINT32_MAX

enum auditfold_state {
	AUDITFOLD_OPEN = 0,	/* no end event (yet) */
	AUDITFOLD_STOPPED,
	AUDITFOLD_CRASHED,
	AUDITFOLD_FREE,		/* internal: a reusable slot */
};

/* Bits of auditfold_row.flags. */
#define AUDITFOLD_CREATED	0x01	/* the created event was seen */
#define AUDITFOLD_HAS_DURATION	0x02	/* the end event carried duration_s */
#define AUDITFOLD_HAS_EXIT_CODE	0x04
#define AUDITFOLD_HAS_SIGNAL	0x08
#define AUDITFOLD_CORE_DUMPED	0x10
#define AUDITFOLD_HAS_TTL	0x20
#define AUDITFOLD_HAS_KEY_TTL	0x40

struct auditfold_row {
	int64_t		 created_us;	/* AUDITFOLD_NO_TIME: created not seen */
	int64_t		 ended_us;
	int64_t		 first_event_us;
	int64_t		 last_event_us;
	int64_t		 first_key_us;	/* first key_loaded */
	int64_t		 last_use_us;	/* last key_used */
	uint64_t	 ttl_s;
	uint64_t	 key_ttl_s;
	uint64_t	 duration_s;	/* as logged by the end event */
	uint64_t	 created_seq;	/* seq of the session's first event */
	uint32_t	 label;		/* string refs (auditfold_str) */
	uint32_t	 host;		/* created's host: AUDITFOLD_NO_STR if none */
	uint32_t	 exit_reason;
	uint32_t	 keys_loaded;
	uint32_t	 keys_removed;
	uint32_t	 key_uses;	/* key_used events */
	uint32_t	 signatures;	/* key_used with ok: true */
	uint32_t	 shells;	/* shell_started events */
	int32_t		 exit_code;
	int32_t		 signal;
	uint32_t	 next;		/* internal: hash chain */
	uint8_t		 state;		/* enum auditfold_state */
	uint8_t		 flags;
	uint8_t		 idlen;
	char		 id[AUDITFOLD_ID_MAX + 1];
};

struct auditfold;

/* Called with a row when its session ends (drop-ended mode); the row is
 * reused after the call returns. */
typedef void	(*auditfold_end_cb)(const struct auditfold *,
		    const struct auditfold_row *, void *arg);
/* Called for a line the fold cannot use: lineno, and why (static text). */
typedef void	(*auditfold_warn_cb)(void *arg, uint64_t lineno,
		    const char *why);

struct auditfold_stats {
	uint64_t	 lines;		/* lines read */
	uint64_t	 events;	/* lines parsed and folded */
	uint64_t	 bad_lines;	/* torn, too long, malformed, unusable */
	uint64_t	 bytes;
	int64_t		 first_us;	/* earliest / latest ts seen */
	int64_t		 last_us;
	uint64_t	 open_peak;	/* most rows held at once */
};

/*
 * Makes an empty fold. With on_end NULL every row is kept (list mode); with
 * on_end set, ended rows go to on_end(f, row, arg) and are dropped.
 * Returns NULL with errno ENOMEM.
 */
struct auditfold	*auditfold_new(auditfold_end_cb on_end, void *arg);
void			 auditfold_free(struct auditfold *);

/*
 * Folds one parsed event. Returns 0, or -1 with *why (static text) when the
 * event cannot be used (a session id longer than AUDITFOLD_ID_MAX, a second
 * created or end for one session) — the fold is unchanged then — or -1 with
 * *why NULL and errno ENOMEM.
 */
int	 auditfold_event(struct auditfold *, const struct auditevent *,
	    const char **why);

/*
 * Reads the log from fd to its end, parsing and folding every line; torn,
 * over-long, malformed and unusable lines go to warn (may be NULL) and are
 * skipped. Returns 0, or -1 with errno on a read error or ENOMEM.
 */
int	 auditfold_read_fd(struct auditfold *, int fd, auditfold_warn_cb warn,
	    void *arg);

/*
 * Lines with a seq at or below seq are read and counted but not folded: a
 * copy of a chain that overlaps what another file already gave (DESIGN §11,
 * a collector's copy and the local rotated set). 0 (the default) folds all.
 */
void	 auditfold_skip_through(struct auditfold *, uint64_t seq);

/* Rows held, in the order their sessions first appeared. In drop-ended mode
 * free slots show up with state AUDITFOLD_FREE: skip them. */
size_t				 auditfold_nrows(const struct auditfold *);
const struct auditfold_row	*auditfold_row(const struct auditfold *, size_t i);
/* The row of session id, or NULL. */
const struct auditfold_row	*auditfold_find(const struct auditfold *,
				    const char *id, size_t len);
/* The bytes of an interned string; NULL for AUDITFOLD_NO_STR. */
const char	*auditfold_str(const struct auditfold *, uint32_t ref,
		    size_t *len);
const struct auditfold_stats	*auditfold_stats(const struct auditfold *);

#endif
