/* journal: `serve --journal` (every audit line also to the systemd journal)
 * and sd_notify readiness for Type=notify units (DESIGN §11).
 *
 * libsystemd's sd_journal_sendv writes one datagram on a blocking socket:
 * when journald does not read, the call blocks once the socket's queue is
 * full (net.unix.max_dgram_qlen datagrams). So the daemon never calls it: a
 * forwarder process, forked before anything is open, does, and the daemon
 * hands it each line on a non-blocking SOCK_SEQPACKET pair. When that pair
 * is full (a stuck journal) lines are dropped and counted, never waited
 * for; the count reaches the journal as its own entry once it moves again.
 * See docs/DESIGN-NOTES.md, "Journal, sd_notify and shipping". */
#ifndef AGENTD_JOURNAL_H
#define AGENTD_JOURNAL_H

#include <stddef.h>

/*
 * Forks the forwarder. Call before opening anything that is not for it (it
 * keeps only its socket). Returns 0, or -1 with *cause (malloc'ed).
 */
int	 journal_start(char **cause);
/* An auditlog tap: queues one line (no newline) for the journal. Never
 * blocks; drops and counts when the forwarder is behind or gone. */
void	 journal_line(const char *line, size_t len, void *arg);
/* Closes the queue: the forwarder sends what it holds and exits. Waits for
 * it at most a second or two, then kills it. */
void	 journal_stop(void);

/* sd_notify: READY=1 with MAINPID once the control socket listens;
 * STOPPING=1 when shutdown begins. No-ops without $NOTIFY_SOCKET. */
void	 notify_ready(void);
void	 notify_stopping(void);

#endif
