/* journal: audit lines to the systemd journal, sd_notify. See journal.h. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/pidfd.h>

#include <cJSON.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "auditread.h"
#include "journal.h"
#include "server.h"

/* What may wait between the daemon and the forwarder: a stuck journal costs
 * at most this much memory before lines are dropped (and counted). */
#define JOURNAL_QUEUE_BYTES	(1024 * 1024)
/* At exit the forwarder gets this long to hand over what it holds. */
#define JOURNAL_DRAIN_MS	2000
#define DROP_TAG		"\0dropped="	/* a record no audit line is */
#define DROP_TAG_LEN		(sizeof(DROP_TAG) - 1)

static int	 journal_fd = -1;	/* our end of the pair, non-blocking */
static pid_t	 journal_pid = -1;
static uint64_t	 journal_dropped;	/* lines not handed over, unreported */
static uint64_t	 journal_dropped_total;

/* --- the forwarder ------------------------------------------------------ */

static char *
journal_field(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value) == -1)
		return NULL;
	return s;
}

/* One audit line (buf holds "MESSAGE=" then the line) to the journal. */
static int
journal_send_line(char *buf, size_t len)
{
	static char ident[] = "SYSLOG_IDENTIFIER=agentd", prio[] = "PRIORITY=6";
	struct iovec iov[6];
	cJSON *o, *v;
	char *ev = NULL, *se = NULL, *sq = NULL, seq[32];
	int n = 0, r;

	iov[n++] = (struct iovec){ buf, len };
	iov[n++] = (struct iovec){ ident, sizeof(ident) - 1 };
	iov[n++] = (struct iovec){ prio, sizeof(prio) - 1 };
	if ((o = cJSON_ParseWithLength(buf + 8, len - 8)) != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(o, "event");
		if (cJSON_IsString(v) && (ev = journal_field("AGENTD_EVENT",
		    v->valuestring)) != NULL)
			iov[n++] = (struct iovec){ ev, strlen(ev) };
		v = cJSON_GetObjectItemCaseSensitive(o, "session");
		if (cJSON_IsString(v) && (se = journal_field("AGENTD_SESSION",
		    v->valuestring)) != NULL)
			iov[n++] = (struct iovec){ se, strlen(se) };
		v = cJSON_GetObjectItemCaseSensitive(o, "seq");
		if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
			snprintf(seq, sizeof(seq), "%.0f", v->valuedouble);
			if ((sq = journal_field("AGENTD_SEQ", seq)) != NULL)
				iov[n++] = (struct iovec){ sq, strlen(sq) };
		}
		cJSON_Delete(o);
	}
	r = sd_journal_sendv(iov, n);
	free(ev);
	free(se);
	free(sq);
	return r;
}

static int
journal_send_dropped(const char *count)
{
	char msg[160], field[64];

	snprintf(msg, sizeof(msg), "MESSAGE=agentd: %s audit lines were not "
	    "sent to the journal (it did not keep up); audit.jsonl has them",
	    count);
	snprintf(field, sizeof(field), "AGENTD_DROPPED=%s", count);
	return sd_journal_send("%s", msg, "SYSLOG_IDENTIFIER=agentd",
	    "PRIORITY=4", "%s", field, NULL);
}

/* Reads records until the daemon closes its end; may block in libsystemd. */
static void __attribute__((noreturn))
journal_forward(int fd)
{
	size_t cap = 8 + AUDITREAD_MAX_LINE + 1;
	char *buf;
	ssize_t n;
	int r, warned = 0;

	if ((buf = malloc(cap)) == NULL)
		_exit(1);
	memcpy(buf, "MESSAGE=", 8);
	for (;;) {
		n = recv(fd, buf + 8, cap - 8 - 1, 0);
		if (n == 0)
			_exit(0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		buf[8 + n] = '\0';
		if ((size_t)n > DROP_TAG_LEN &&
		    memcmp(buf + 8, DROP_TAG, DROP_TAG_LEN) == 0)
			r = journal_send_dropped(buf + 8 + DROP_TAG_LEN);
		else
			r = journal_send_line(buf, 8 + (size_t)n);
		/* sd_journal_sendv returns 0 when no journal runs at all. */
		if (r < 0 && !warned) {
			warned = 1;
			fprintf(stderr, "agentd: journal: %s (audit lines may be "
			    "missing from the journal)\n", strerror(-r));
		}
	}
}

int
journal_start(char **cause)
{
	int sv[2], size = JOURNAL_QUEUE_BYTES, fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		goto fail;
	/* FORCE passes net.core.wmem_max when we may; else the kernel caps. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (pid == 0) {
		/* Only the daemon closing its end stops us: a unit's stop
		 * signals every process in it, and the last lines (the
		 * sessions' ends) are still on their way. */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		(void)prctl(PR_SET_NAME, "agentd-journal");
		if ((fd = dup2(sv[1], STDERR_FILENO + 1)) == -1)
			_exit(1);
		closefrom(STDERR_FILENO + 2);
		journal_forward(fd);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		close(sv[0]);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	journal_fd = sv[0];
	journal_pid = pid;
	return 0;
fail:
	if (asprintf(cause, "journal forwarder: %s", strerror(errno)) == -1)
		*cause = NULL;
	return -1;
}

/* --- the daemon's side -------------------------------------------------- */

static int
journal_hand_over(const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(journal_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (errno == EPIPE || errno == ECONNRESET) {
		log_warn("journal: the forwarder is gone; audit lines no "
		    "longer go to the journal");
		close(journal_fd);
		journal_fd = -1;
	}
	return -1;
}

void
journal_line(const char *line, size_t len, void *arg)
{
	char note[DROP_TAG_LEN + 24];
	int n;

	(void)arg;
	if (journal_fd == -1)
		return;
	if (journal_dropped > 0) {
		memcpy(note, DROP_TAG, DROP_TAG_LEN);
		n = snprintf(note + DROP_TAG_LEN, sizeof(note) - DROP_TAG_LEN,
		    "%" PRIu64, journal_dropped);
		if (journal_hand_over(note, DROP_TAG_LEN + (size_t)n) == -1) {
			journal_dropped++;
			journal_dropped_total++;
			return;
		}
		log_warn("journal: %" PRIu64 " audit lines were not sent to the "
		    "journal (it did not keep up)", journal_dropped);
		journal_dropped = 0;
	}
	if (journal_hand_over(line, len) == -1 && journal_fd != -1) {
		if (errno == EMSGSIZE)
			log_warn("journal: a line of %zu bytes is longer than "
			    "the forwarder's socket takes; not sent to the "
			    "journal", len);
		else if (journal_dropped == 0)
			log_warn("journal: not keeping up (%s); dropping lines "
			    "for the journal, audit.jsonl keeps them",
			    strerror(errno));
		journal_dropped++;
		journal_dropped_total++;
	}
}

void
journal_stop(void)
{
	struct pollfd pfd;
	int pidfd;

	if (journal_pid == -1)
		return;
	if (journal_fd != -1)
		close(journal_fd);
	journal_fd = -1;
	if ((pidfd = pidfd_open(journal_pid, 0)) != -1) {
		pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		while (poll(&pfd, 1, JOURNAL_DRAIN_MS) == -1 && errno == EINTR)
			;
		close(pidfd);
	}
	if (waitpid(journal_pid, NULL, WNOHANG) == 0) {
		log_warn("journal: the forwarder did not finish within %d ms "
		    "(a stuck journal?); killed", JOURNAL_DRAIN_MS);
		(void)kill(journal_pid, SIGKILL);
		(void)waitpid(journal_pid, NULL, 0);
	}
	if (journal_dropped_total > 0)
		log_warn("journal: %" PRIu64 " audit lines in all were not sent "
		    "to the journal", journal_dropped_total);
	journal_pid = -1;
}

/* --- sd_notify ---------------------------------------------------------- */

void
notify_ready(void)
{
	/* A Type=notify unit with NotifyAccess=main (the default) takes this
	 * only from its main process: run `serve --foreground` there. */
	(void)sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid());
}

void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}
