/* auditlog: the single writer of the tamper-evident audit log (DESIGN §4).
 *
 * One JSON object per line, fields in order: v, seq, ts, event, session, the
 * event's own fields, prev. `prev` is the hex BLAKE2b-256 (libsodium
 * crypto_generichash, 32 bytes, no key) of the previous line's bytes without
 * its newline; 64 zeros on the first line. Each line is written with one
 * write(2) on an O_APPEND descriptor (a short write is an error: the partial
 * line is cut off again with ftruncate to the previous size) and fsync'ed
 * before auditlog_commit returns 0, so a caller acknowledges an action only
 * after its event is durable.
 *
 * Usage:
 *	struct jsonw *w = auditlog_begin(log, "created", session_id);
 *	jsonw_str(w, "label", label); ...
 *	if (auditlog_commit(log, &cause) == -1) fail closed;
 */
#ifndef AGENTD_AUDITLOG_H
#define AGENTD_AUDITLOG_H

#include <stdint.h>
#include <sys/types.h>

#include "jsonw.h"

#define AUDITLOG_HASH_HEX	64

struct auditlog;

struct auditlog_openinfo {
	uint64_t	 last_seq;	/* 0 for an empty log */
	int		 torn;		/* 1 when a torn tail was moved aside */
	char		 torn_name[64];	/* its file name, in the log's directory
					   (cut short if longer; "-N" is added to
					   the name when it exists already) */
	off_t		 torn_bytes;
	char		 last_event[32]; /* event of the last line, "" if none
					   (cut short if longer) */
};

/*
 * Opens (creating, mode 0600) the log `name` inside the verified directory
 * `dirfd`, takes an exclusive flock on it (EWOULDBLOCK: another agentd writes
 * this log), and repairs a torn tail: bytes after the last '\n' are copied to
 * "<name>.torn-<UTC yyyymmddThhmmssZ>" (0600), the log is truncated to its
 * last complete line and fsync'ed. The last complete line gives the next seq
 * and prev (a last line that is not a JSON object with an integer seq is an
 * error: the log is not ours to append to; so is a last line longer than
 * AUDITREAD_MAX_LINE). The file must be a regular file (never a symlink)
 * owned by the effective uid with no group/other permission bits; nothing is
 * chmod'ed into compliance. `info` may be NULL.
 * Returns NULL with errno and *cause (malloc'ed one line naming the file,
 * caller frees; cause may be NULL) on failure; free with auditlog_close.
 */
struct auditlog	*auditlog_open(int dirfd, const char *name,
		    struct auditlog_openinfo *info, char **cause);
void		 auditlog_close(struct auditlog *);

/*
 * Starts the next event: writes v, seq, ts (now, UTC, microseconds), event and
 * session (JSON null when session is NULL) into the log's line buffer and
 * returns the writer for the event's own fields. Only one event may be open:
 * a second auditlog_begin drops the first. The writer belongs to the log and
 * is valid until auditlog_commit or auditlog_abort.
 */
struct jsonw	*auditlog_begin(struct auditlog *, const char *event,
		    const char *session);

/*
 * Adds prev, writes the line with one write(2), fsyncs. On success the seq and
 * chain advance and 0 is returned. On failure (-1, errno, *cause) the file is
 * left as it was before the line (truncated back) and seq/prev do not
 * advance, so the next commit may succeed once space returns. A short write
 * is reported as ENOSPC. A line longer than AUDITREAD_MAX_LINE is refused
 * (EMSGSIZE) so that the log can always be reopened. Either way the event is
 * over: a new one starts with auditlog_begin. *cause is malloc'ed (caller
 * frees) and may be NULL.
 */
int		 auditlog_commit(struct auditlog *, char **cause);
/* Drops an event begun with auditlog_begin. */
void		 auditlog_abort(struct auditlog *);

/*
 * Log rotation (SIGHUP after `mv audit.jsonl …`). When `name` in dirfd no
 * longer names the open file, switches to a new file there: created 0600
 * (or an existing one that is empty, regular, ours, no group/other bits),
 * flock'ed, and its first line is the event `event` (session null) with the
 * fields fill(w, arg) adds. seq and prev carry on from the old file, so that
 * first line's prev is the hash of the old file's last line and readers join
 * the files. All or nothing: if the first line cannot be made durable, the
 * new file is removed again (when we created it) and the log stays on the old
 * file. Returns 1 when switched, 0 when the name still is our file (nothing
 * to do), -1 with errno and *cause (malloc'ed, may be NULL) on failure.
 */
int		 auditlog_reopen(struct auditlog *, int dirfd, const char *event,
		    void (*fill)(struct jsonw *, void *), void *arg,
		    char **cause);

/*
 * A tap: fn(line, len, arg) runs after each line is durable (auditlog_commit
 * returned 0, including a rotation's first line), with the line's bytes
 * without its newline; it must not call back into the log. It runs before
 * the auditlog_on_commit hook, and for the lines that hook writes too, so
 * it sees every line in file order. NULL removes it.
 */
void		 auditlog_set_tap(struct auditlog *,
		    void (*fn)(const char *, size_t, void *), void *arg);

uint64_t	 auditlog_last_seq(const struct auditlog *);
/* The chain's head: hex hash of the last durable line (the prev the next
 * line carries); 64 zeros for an empty log. Valid until the next commit. */
const char	*auditlog_head(const struct auditlog *);
/* 1 when `name` in dirfd no longer is the open file (moved away for a
 * rotation), 0 when it still is. */
int		 auditlog_moved(const struct auditlog *, int dirfd);
/* fn(arg, seq) runs after each line is durable (not after a failed one),
 * as the last thing auditlog_commit does; it may write lines itself (it is
 * not called again for those). One hook; NULL removes it. */
void		 auditlog_on_commit(struct auditlog *,
		    void (*fn)(void *, uint64_t), void *arg);
/* The log's fd (for fstat / locks); owned by the log. */
int		 auditlog_fd(const struct auditlog *);

/* Formats `hash` (32 bytes) of line as lowercase hex into out[65]. */
void		 auditlog_hash_line(const char *line, size_t len,
		    char out[AUDITLOG_HASH_HEX + 1]);

#endif
