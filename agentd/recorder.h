/*
 * recorder: streams of a shell's cast to remote session recorders that speak
 * Tailscale's protocol (DESIGN §6, issue 6), on libcurl's multi interface
 * inside the daemon's epoll loop. A stream is opened with the cast header,
 * connects (the recorders in the order given, first success wins), then
 * carries every cast line, byte for byte as written to the local file.
 *
 * Callbacks into the owner run from the event loop only, never from inside a
 * recorder_* call, so the owner may free or close the stream from them.
 */
#ifndef AGENTD_RECORDER_H
#define AGENTD_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "agentd.h"
#include "jsonw.h"

/* Bytes a stream buffers for a slow recorder; full = a failed upload. */
#define RECORDER_BUFFER_MAX	(4u << 20)
#define RECORDER_DIAL_MS	5000	/* one connection attempt */
#define RECORDER_BUDGET_MS	30000	/* the whole list */
#define RECORDER_ACK_MS		30000	/* V2: no ack for this long = failed */

struct recstream;

enum recorder_status {
	RECORDER_CONNECTED,	/* uploading: recorder_write from now on */
	RECORDER_UNREACHABLE,	/* no recorder took the upload */
	RECORDER_FAILED,	/* the upload failed after it started */
};

typedef void	 recorder_cb(void *arg, enum recorder_status);

/* Takes the serve options (copied); sets up libcurl. 0, or -1 with *cause. */
int		 recorder_init(const struct serve_opts *, char **cause);
void		 recorder_cleanup(void);
bool		 recorder_enabled(void);
enum recording_policy recorder_policy(void);
const char	*recorder_message(void);
/* 0 if s is IPV4:PORT or [IPV6]:PORT (no names: nothing to resolve). */
int		 recorder_addr_check(const char *s);

/* Starts connecting; hdr (the cast header line) is the first thing sent. cb
 * reports CONNECTED or UNREACHABLE once, later FAILED at most once. NULL on
 * out of memory. */
struct recstream *recorder_open(const char *hdr, size_t len, recorder_cb *cb,
		    void *arg);
/* Queues a cast line. Never blocks: a full buffer fails the upload. */
void		 recorder_write(struct recstream *, const void *, size_t);
/* The owner is done: what is queued is still sent, the upload ends, the
 * stream frees itself. No callback after this. */
void		 recorder_close(struct recstream *);
/* Gives up connecting at once: cb reports UNREACHABLE from the loop. */
void		 recorder_cancel(struct recstream *, const char *why);
/* Writes recording_failed (DESIGN §4) for shell n of session: recorder,
 * attempts (in order), action. 0, or -1 with *cause. */
int		 recorder_log_failure(struct recstream *, const char *session,
		    int shell, const char *action, char **cause);

#endif
