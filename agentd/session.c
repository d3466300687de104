/*
 * session: one ssh-agent per session, from spawn to its one end event.
 *
 * agentd forks and execs `ssh-agent -a R/sessions/<id>/upstream/agent.sock
 * -t KEY_TTL -- agentd tether <our pid>`: ssh-agent's command mode makes the
 * agent the child of the tether (see tether.c), and the tether is our child,
 * watched through a pidfd and a pipe. The agent itself is signalled through a
 * pidfd opened while its parent (the tether) still holds it unreaped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>

#include "auditlog.h"
#include "auditread.h"
#include "duration.h"
#include "ids.h"
#include "target.h"
#include "privdir.h"
#include "server.h"
#include "timefmt.h"

#define START_TIMEOUT_S	10
#define NS_PER_MS	1000000ull

static void	session_finish(struct session *);
static void	session_activate(struct session *);

struct session *
session_find(const char *id)
{
	struct session *se;

	if (id == NULL)
		return NULL;
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (strcmp(se->id, id) == 0)
			return se;
	}
	return NULL;
}

/* Sessions a target may name: active ones, and stopping ones for a stop. */
static bool
session_targetable(const struct session *se, bool stopping_ok)
{
	return se->state == SESSION_ACTIVE ||
	    (stopping_ok && se->state == SESSION_STOPPING);
}

#define TARGET_CANDIDATES_SHOWN	8

struct session *
session_target(struct ctlconn *c, const char *query, bool stopping_ok)
{
	struct target_cand *cand;
	struct session **ses, *se, *found = NULL;
	size_t idx[TARGET_CANDIDATES_SHOWN], n = 0, nmatch, i, len;
	char list[1024];

	if (query == NULL || *query == '\0') {
		ctl_reply_error(c, "no session named (use --session or "
		    "AGENTD_SESSION)");
		return NULL;
	}
	cand = calloc(server->nsessions + 1, sizeof(*cand));
	ses = calloc(server->nsessions + 1, sizeof(*ses));
	if (cand == NULL || ses == NULL) {
		ctl_reply_error(c, "out of memory");
		goto out;
	}
	/* The rule is lib/target's, as auditctl show applies it. */
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (!session_targetable(se, stopping_ok) ||
		    n == server->nsessions)
			continue;
		cand[n] = (struct target_cand){ .id = se->id,
		    .idlen = strlen(se->id), .label = se->label,
		    .labellen = strlen(se->label), .active = true };
		ses[n++] = se;
	}
	nmatch = target_match(query, strlen(query), cand, n, idx,
	    TARGET_CANDIDATES_SHOWN);
	if (nmatch == 1)
		found = ses[idx[0]];
	else if (nmatch == 0)
		ctl_reply_error(c, "no active session %.64s", query);
	else {
		/* Ambiguous: one line naming the candidates (the client
		 * escapes it). */
		list[0] = '\0';
		for (i = 0; i < nmatch && i < TARGET_CANDIDATES_SHOWN; i++) {
			se = ses[idx[i]];
			len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s%s%.64s%s",
			    i > 0 ? ", " : "", se->id, se->label[0] ? " (" : "",
			    se->label, se->label[0] ? ")" : "");
		}
		ctl_reply_error(c, "session %.64s is ambiguous, %zu match: %s%s",
		    query, nmatch, list,
		    nmatch > TARGET_CANDIDATES_SHOWN ? ", ..." : "");
	}
out:
	free(cand);
	free(ses);
	return found;
}

static const char *
session_state_name(const struct session *se)
{
	switch (se->state) {
	case SESSION_STARTING:
		return "starting";
	case SESSION_SPARE:
		return "spare";
	case SESSION_ACTIVE:
		return "active";
	case SESSION_STOPPING:
		return "stopping";
	}
	return "unknown";
}

/* CLOCK_BOOTTIME when the session was created (its deadline less its TTL). */
static uint64_t
session_boot_start_ns(const struct session *se)
{
	return se->deadline_ns - se->ttl_s * NS;
}

/* How long the session ran, on CLOCK_BOOTTIME: a stepped wall clock changes
 * ts, never a duration (DESIGN §4). Nearest second, at most the TTL (the
 * agent's socket is gone at the deadline; the stop grace is not use). */
static int64_t
session_duration_s(const struct session *se)
{
	uint64_t start = session_boot_start_ns(se), now = now_boot_ns(), s;

	s = now > start ? (now - start + NS / 2) / NS : 0;
	return (int64_t)(s < se->ttl_s ? s : se->ttl_s);
}

static void
session_free(struct session *se)
{
	struct stop_waiter *w;

	relay_close_all(se);
	if (se->listen_fd != -1) {
		ev_del(se->listen_fd);
		close(se->listen_fd);
	}
	if (se->report_fd != -1) {
		ev_del(se->report_fd);
		close(se->report_fd);
	}
	if (se->tether_pidfd != -1) {
		ev_del(se->tether_pidfd);
		close(se->tether_pidfd);
	}
	if (se->agent_pidfd != -1)
		close(se->agent_pidfd);
	gate_free(se);
	if (se->dirfd != -1)
		close(se->dirfd);
	if (se->recdirfd != -1)
		close(se->recdirfd);
	while ((w = TAILQ_FIRST(&se->waiters)) != NULL) {
		TAILQ_REMOVE(&se->waiters, w, entry);
		free(w);
	}
	free(se->keys);
	while (se->nallow_dest > 0)
		free(se->allow_dest[--se->nallow_dest]);
	free(se->allow_dest);
	free(se->abort_msg);
	TAILQ_REMOVE(&server->sessions, se, entry);
	server->nsessions--;
	if (server->spare == se)
		server->spare = NULL;
	ev_free_later(se);
}

/* --- spawning ----------------------------------------------------------- */

static void	report_cb(struct evh *, uint32_t);
static void	tether_cb(struct evh *, uint32_t);

static int
session_spawn(struct session *se, char **cause)
{
	char a0[] = "ssh-agent", aa[] = "-a", at[] = "-t", aend[] = "--";
	char atether[] = "tether", path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char key_ttl[24], parent[24];
	char *argv[10];
	char *envp[] = { path, NULL, NULL };
	char *home = NULL;
	int pfd[2], null, i;
	pid_t pid;

	snprintf(key_ttl, sizeof(key_ttl), "%llu",
	    (unsigned long long)se->key_ttl_s);
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	i = 0;
	argv[i++] = a0;
	argv[i++] = aa;
	argv[i++] = se->up_path;
	argv[i++] = at;
	argv[i++] = key_ttl;
	argv[i++] = aend;
	if (server->tether[0] != '\0')
		argv[i++] = server->tether;
	else {
		argv[i++] = server->exe;
		argv[i++] = atether;
	}
	argv[i++] = parent;
	argv[i] = NULL;

	/* PKCS#11 modules (ssh-add -s) find their configuration under HOME. */
	if (getenv("HOME") != NULL &&
	    asprintf(&home, "HOME=%s", getenv("HOME")) != -1)
		envp[1] = home;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		goto fail;
	if ((pid = server_fork()) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		goto fail;
	}
	if (pid == 0) {
		/* Child: signals are clean already (server_fork); the rest of
		 * the slate before exec (STYLE.md habit 4). */
		/*
		 * The tether leads its own process group in our session: when
		 * we die the group is orphaned, and the kernel sends SIGHUP and
		 * SIGCONT to it if the tether is stopped (see tether.c).
		 */
		if (setpgid(0, 0) == -1 ||
		    (null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, STDIN_FILENO) == -1 ||
		    dup2(pfd[1], STDOUT_FILENO) == -1 ||
		    dup2(pfd[1], STDERR_FILENO) == -1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		execve(server->ssh_agent, argv, envp);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", server->ssh_agent,
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	free(home);
	home = NULL;
	se->tether_pid = pid;
	/* Not reaped until we wait on it, so the pid cannot be reused here. */
	if ((se->tether_pidfd = pidfd_open(pid, 0)) == -1) {
		close(pfd[0]);
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	se->report_fd = pfd[0];
	(void)fcntl(se->report_fd, F_SETFL, O_NONBLOCK);
	se->report_ev.cb = report_cb;
	ev_add(se->report_fd, EPOLLIN, &se->report_ev);
	se->tether_ev.cb = tether_cb;
	ev_add(se->tether_pidfd, EPOLLIN, &se->tether_ev);
	return 0;
fail:
	free(home);
	if (asprintf(cause, "cannot start ssh-agent: %s", strerror(errno)) == -1)
		*cause = NULL;
	return -1;
}

/* --- the created event ---------------------------------------------------- */

static void
start_reply_fields(struct jsonw *w, void *arg)
{
	struct session *se = arg;
	char expires[TIMEFMT_LEN];

	timefmt_rfc3339_s(se->created_rt.tv_sec + (time_t)se->ttl_s, expires);
	jsonw_str(w, "session", se->id);
	jsonw_str(w, "socket", se->sock_path);
	jsonw_int(w, "agent_pid", se->agent_pid);
	jsonw_str(w, "label", se->label);
	jsonw_uint(w, "ttl_s", se->ttl_s);
	jsonw_uint(w, "key_ttl_s", se->key_ttl_s);
	jsonw_str(w, "expires_at", expires);
	if (gate_config_path(se) != NULL)
		jsonw_str(w, "ssh_config", gate_config_path(se));
}

/* Fails the start of se: the agent is ended, no event is written, and the
 * client hears why once nothing of the session is left (session_finish). */
static void
session_abort_start(struct session *se, const char *why)
{
	if (se->abort_msg == NULL)
		se->abort_msg = strdup(why);
	gate_close(se);	/* no egress for a session the log does not show */
	se->state = SESSION_STOPPING;
	se->exit_reason = NULL;
	if (se->agent_pidfd != -1)
		(void)pidfd_send_signal(se->agent_pidfd, SIGTERM, NULL, 0);
	(void)pidfd_send_signal(se->tether_pidfd, SIGTERM, NULL, 0);
	se->kill_ns = now_boot_ns() + STOP_GRACE_S * NS;
	se->kill_step = 0;
	server_rearm_timer();
}

static void
session_ready(struct session *se, pid_t agent)
{
	pid_t ppid;

	/* The tether holds the agent unreaped; check it is its child anyway. */
	if (procinfo_stat(agent, &se->agent_start, &ppid, NULL) == -1 ||
	    ppid != se->tether_pid ||
	    (se->agent_pidfd = pidfd_open(agent, 0)) == -1 ||
	    procinfo_stat(se->tether_pid, &se->tether_start, NULL, NULL) == -1) {
		session_abort_start(se, "ssh-agent ended while starting");
		return;
	}
	se->agent_pid = agent;
	if (se->spare) {
		se->state = SESSION_SPARE;	/* waits for a start to claim it */
		se->kill_ns = 0;
		server_rearm_timer();
		return;
	}
	session_activate(se);
}

/* Publishes a ready agent: its public socket, `created`, the reply. */
static void
session_activate(struct session *se)
{
	struct jsonw *w;
	char expires[TIMEFMT_LEN], shown[PATH_MAX + 64], *cause = NULL;

	snprintf(shown, sizeof(shown), "%s", se->sock_path);
	se->listen_fd = privdir_listen(se->dirfd, "agent.sock", shown, 0, &cause);
	if (se->listen_fd != -1 && gate_open(se, se->dirfd, &cause) == -1) {
		close(se->listen_fd);
		se->listen_fd = -1;
	}
	close(se->dirfd);	/* one fd fewer per session; removal goes by name */
	se->dirfd = -1;
	if (se->listen_fd == -1) {
		session_abort_start(se, cause ? cause : "cannot listen");
		free(cause);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &se->created_rt);
	se->deadline_ns = now_boot_ns() + se->ttl_s * NS;
	timefmt_rfc3339_s(se->created_rt.tv_sec + (time_t)se->ttl_s, expires);

	w = auditlog_begin(server->log, "created", se->id);
	jsonw_str(w, "label", se->label);
	jsonw_uint(w, "uid", geteuid());
	jsonw_str(w, "user", server->user);
	jsonw_str(w, "host", server->host);
	jsonw_int(w, "agent_pid", se->agent_pid);
	jsonw_uint(w, "ttl_s", se->ttl_s);
	jsonw_uint(w, "key_ttl_s", se->key_ttl_s);
	jsonw_str(w, "expires_at", expires);
	jsonw_str(w, "socket", se->sock_path);
	/* What a restarted daemon needs to prove a survivor is ours. */
	jsonw_uint(w, "agent_start", se->agent_start);
	jsonw_int(w, "tether_pid", se->tether_pid);
	jsonw_uint(w, "tether_start", se->tether_start);
	jsonw_str(w, "boot_id", server->boot_id);
	/* With boot_id: a later start measures a lost session on this clock. */
	jsonw_uint(w, "boottime_ms", session_boot_start_ns(se) / NS_PER_MS);
	gate_created_fields(w, se);
	if (auditlog_commit(server->log, &cause) == -1) {
		/* Fail closed: no session exists that the log does not show. */
		char *msg;
		if (asprintf(&msg, "session not started: audit log: %s",
		    cause ? cause : "write failed") == -1)
			msg = NULL;
		log_warn("%s", msg ? msg : "session not started");
		session_abort_start(se, msg ? msg : "session not started");
		free(msg);
		free(cause);
		return;
	}
	se->created_logged = true;
	se->state = SESSION_ACTIVE;
	relay_accept(se);	/* registers the listener */
	if (se->starter != NULL) {
		ctl_reply_ok(se->starter, start_reply_fields, se);
		ctl_unref(se->starter);
		se->starter = NULL;
	}
	server_rearm_timer();
}

static void
report_line(struct session *se, char *line)
{
	char *end;
	long v;

	if (strncmp(line, "ready ", 6) == 0 && se->state == SESSION_STARTING &&
	    se->agent_pid == 0) {
		errno = 0;
		v = strtol(line + 6, &end, 10);
		if (errno == 0 && *end == '\0' && v > 1 && v <= INT_MAX)
			session_ready(se, (pid_t)v);
		else
			session_abort_start(se, "bad report from the tether");
	} else if (strncmp(line, "exit ", 5) == 0) {
		errno = 0;
		v = strtol(line + 5, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && v <= INT_MAX)
			se->agent_status = (int)v;
	}
}

/* Reads the tether's pipe; returns 0 at EOF. Lines that are not ours are
 * ssh-agent's own messages: kept for the error a failed start reports. */
static int
report_read(struct session *se)
{
	char *nl, *line;
	ssize_t n;

	for (;;) {
		n = read(se->report_fd, se->report + se->reportlen,
		    sizeof(se->report) - 1 - se->reportlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN ? 1 : 0;
		if (n == 0)
			return 0;
		se->reportlen += (size_t)n;
		se->report[se->reportlen] = '\0';
		line = se->report;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (strncmp(line, "ready ", 6) == 0 ||
			    strncmp(line, "exit ", 5) == 0) {
				report_line(se, line);
				memmove(line, nl + 1, strlen(nl + 1) + 1);
				se->reportlen = strlen(se->report);
				continue;
			}
			*nl = '\n';
			line = nl + 1;
		}
		if (se->reportlen == sizeof(se->report) - 1)
			se->reportlen = (size_t)(line - se->report);
	}
}

static void
report_cb(struct evh *h, uint32_t events)
{
	struct session *se = CONTAINER_OF(h, struct session, report_ev);

	(void)events;
	if (report_read(se) == 0) {
		ev_del(se->report_fd);
		close(se->report_fd);
		se->report_fd = -1;
	}
}

static void
tether_cb(struct evh *h, uint32_t events)
{
	struct session *se = CONTAINER_OF(h, struct session, tether_ev);
	siginfo_t si;
	char msg[sizeof(se->report) + 64];

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)se->tether_pidfd, &si,
	    WEXITED | WNOHANG) == -1 || si.si_pid == 0)
		return;
	ev_del(se->tether_pidfd);
	if (se->report_fd != -1) {
		(void)report_read(se);	/* it has exited: the rest is there */
		ev_del(se->report_fd);
		close(se->report_fd);
		se->report_fd = -1;
	}
	if (se->state == SESSION_STARTING && se->abort_msg == NULL) {
		se->report[strcspn(se->report, "\n")] = '\0';
		snprintf(msg, sizeof(msg), "ssh-agent failed to start%s%s",
		    se->report[0] ? ": " : "", se->report);
		se->abort_msg = strdup(msg);
	} else if (se->agent_status == -1 && se->agent_pidfd != -1) {
		/* The tether was killed: the agent must not linger on its own. */
		(void)pidfd_send_signal(se->agent_pidfd, SIGKILL, NULL, 0);
		se->agent_status = si.si_code == CLD_EXITED ?
		    (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
	}
	se->tether_done = true;
	if (se->nshells == 0) {
		session_finish(se);
		return;
	}
	/* The agent is gone but shells run: they end with the session. */
	if (se->state == SESSION_ACTIVE) {
		se->state = SESSION_STOPPING;
		relay_close_all(se);
		if (se->listen_fd != -1) {
			ev_del(se->listen_fd);
			close(se->listen_fd);
			se->listen_fd = -1;
		}
		se->kill_ns = now_boot_ns() + STOP_GRACE_S * NS;
		se->kill_step = 0;
	}
	shell_kill_all(se, SIGHUP);
	server_rearm_timer();
}

void
session_shell_gone(struct session *se)
{
	if (se->tether_done && se->nshells == 0)
		session_finish(se);
}

/* --- ending --------------------------------------------------------------- */

/*
 * End events the log could not take (a full disk): kept in order and written
 * before any later end or start, so the log catches up by itself once space
 * returns. If the daemon dies first, the next start writes supervisor_lost
 * for those sessions instead, so each created still gets exactly one end.
 */
struct pending_end {
	TAILQ_ENTRY(pending_end) entry;
	char		 id[IDS_LEN + 1];
	const char	*event;		/* "stopped" or "crashed" (static) */
	const char	*exit_reason;	/* static strings */
	int64_t		 duration_s;
	int		 status;	/* wait status for a crash, or -1 */
};
static TAILQ_HEAD(, pending_end) pending_ends =
    TAILQ_HEAD_INITIALIZER(pending_ends);

static int
end_write(const struct pending_end *p, char **cause)
{
	struct jsonw *w;
	int st = p->status;

	/* events: stopped crashed */
	w = auditlog_begin(server->log, p->event, p->id);
	jsonw_str(w, "exit_reason", p->exit_reason);
	jsonw_int(w, "duration_s", p->duration_s);
	if (strcmp(p->event, "crashed") == 0 && st != -1 && WIFEXITED(st))
		jsonw_int(w, "exit_code", WEXITSTATUS(st));
	else if (strcmp(p->event, "crashed") == 0 && st != -1) {
		jsonw_int(w, "signal", WTERMSIG(st));
		jsonw_bool(w, "core_dumped", WCOREDUMP(st) != 0);
	}
	return auditlog_commit(server->log, cause);
}

/* Writes the end events that are still owed. 0 when none is left. */
static int
session_flush_pending(void)
{
	struct pending_end *p;
	char *cause = NULL;

	while ((p = TAILQ_FIRST(&pending_ends)) != NULL) {
		if (end_write(p, &cause) == -1) {
			free(cause);
			return -1;
		}
		log_warn("session %s: %s event written late, the log accepts "
		    "events again", p->id, p->event);
		TAILQ_REMOVE(&pending_ends, p, entry);
		free(p);
	}
	return 0;
}

static void
stop_reply_fields(struct jsonw *w, void *arg)
{
	struct ctlconn *c = arg;

	jsonw_array_begin(w, "stopped");
	if (c->stopped.len > 0)
		jsonw_raw(w, c->stopped.buf, c->stopped.len);
	jsonw_array_end(w);
}

static void
session_finish(struct session *se)
{
	struct stop_waiter *wt;
	struct ctlconn *c;
	const char *event = "stopped";
	char *cause = NULL;
	int st = se->agent_status;
	bool logged = false;

	relay_close_all(se);
	gate_close(se);
	if (se->created_logged) {
		struct pending_end end, *copy;

		memset(&end, 0, sizeof(end));
		strlcpy(end.id, se->id, sizeof(end.id));
		end.event = se->exit_reason != NULL ? "stopped" : "crashed";
		end.exit_reason = se->exit_reason != NULL ? se->exit_reason :
		    st != -1 && WIFEXITED(st) ? "agent_exited" : "agent_killed";
		end.duration_s = session_duration_s(se);
		end.status = se->exit_reason != NULL ? -1 : st;
		event = end.event;
		(void)session_flush_pending();	/* older ends first */
		keys_removed_all(se, "session_end");
		if (TAILQ_EMPTY(&pending_ends) && end_write(&end, &cause) == 0)
			logged = true;
		else {
			log_warn("session %s: %s event not written yet: %s",
			    se->id, event, cause ? cause : "older ends wait");
			free(cause);
			cause = NULL;
			if ((copy = malloc(sizeof(*copy))) != NULL) {
				*copy = end;
				TAILQ_INSERT_TAIL(&pending_ends, copy, entry);
			}
		}
	}
	server_fd_reserve_release();	/* at the descriptor limit, too */
	if (privdir_remove(server->sessdirfd, se->id, &cause) == -1) {
		log_warn("%s", cause ? cause : "cannot remove session directory");
		free(cause);
	}
	server_fd_reserve_restore();
	if (se->starter != NULL) {
		ctl_reply_error(se->starter, "%s", se->abort_msg != NULL ?
		    se->abort_msg : "session not started");
		ctl_unref(se->starter);
		se->starter = NULL;
	}
	while ((wt = TAILQ_FIRST(&se->waiters)) != NULL) {
		TAILQ_REMOVE(&se->waiters, wt, entry);
		c = wt->c;
		free(wt);
		if (logged)
			jsonw_str(&c->stopped, NULL, se->id);
		else
			c->stop_failed = true;
		if (c->refs == 1) {
			if (c->stop_failed)
				ctl_reply_error(c, "session %s ended but the "
				    "audit log is full: its end is written once "
				    "the log accepts events again", se->id);
			else
				ctl_reply_ok(c, stop_reply_fields, c);
		}
		ctl_unref(c);
	}
	session_free(se);
	server_rearm_timer();
}

void
session_end(struct session *se, const char *reason)
{
	if (se->state == SESSION_STOPPING)
		return;
	if (se->state == SESSION_STARTING || se->state == SESSION_SPARE) {
		session_abort_start(se, "agentd is shutting down");
		return;
	}
	se->state = SESSION_STOPPING;
	se->exit_reason = reason;
	relay_close_all(se);
	gate_close(se);
	if (se->listen_fd != -1) {
		ev_del(se->listen_fd);
		close(se->listen_fd);
		se->listen_fd = -1;
	}
	(void)pidfd_send_signal(se->agent_pidfd, SIGTERM, NULL, 0);
	shell_kill_all(se, SIGHUP);
	se->kill_ns = now_boot_ns() + STOP_GRACE_S * NS;
	se->kill_step = 0;
	server_rearm_timer();
}

void
session_shutdown_all(void)
{
	struct session *se, *tmp;

	TAILQ_FOREACH_SAFE(se, &server->sessions, entry, tmp)
		session_end(se, "supervisor_shutdown");
}

uint64_t
session_deadlines(uint64_t now)
{
	struct session *se, *tmp;
	uint64_t next = 0, t;

	TAILQ_FOREACH_SAFE(se, &server->sessions, entry, tmp) {
		if (se->state == SESSION_ACTIVE && se->nkeys > 0 &&
		    (t = keys_expire(se, now)) != 0 && (next == 0 || t < next))
			next = t;
		if (se->state == SESSION_ACTIVE && se->deadline_ns <= now)
			session_end(se, "ttl_expired");
		else if (se->state != SESSION_ACTIVE && se->kill_ns != 0 &&
		    se->kill_ns <= now) {
			/* SIGTERM was not enough: SIGKILL the agent, then the tether. */
			if (se->kill_step == 0) {
				if (se->agent_pidfd != -1)
					(void)pidfd_send_signal(se->agent_pidfd,
					    SIGKILL, NULL, 0);
				shell_kill_all(se, SIGKILL);
				se->kill_ns = now + STOP_GRACE_S * NS;
			} else {
				(void)pidfd_send_signal(se->tether_pidfd,
				    SIGKILL, NULL, 0);
				se->kill_ns = 0;
			}
			se->kill_step++;
		}
		t = se->state == SESSION_ACTIVE ? se->deadline_ns : se->kill_ns;
		if (t != 0 && (next == 0 || t < next))
			next = t;
		if (se->nshells > 0 &&
		    (t = shell_deadlines(se, now)) != 0 && (next == 0 || t < next))
			next = t;
		if (se->gate != NULL &&
		    (t = gate_deadlines(se, now)) != 0 && (next == 0 || t < next))
			next = t;
	}
	return next;
}

/* --- control requests ----------------------------------------------------- */

/*
 * Makes a session's directories and spawns its agent (SESSION_STARTING).
 * Returns NULL with *cause when that fails; nothing is left then.
 */
static struct session *
session_new(uint64_t ttl, uint64_t key_ttl, const char *label, char **cause)
{
	struct session *se;
	char shown[PATH_MAX + 64];
	int n1, n2;

	if ((se = calloc(1, sizeof(*se))) == NULL)
		return NULL;
	se->dirfd = se->listen_fd = se->report_fd = se->recdirfd = -1;
	TAILQ_INIT(&se->shells);
	se->tether_pidfd = se->agent_pidfd = -1;
	se->agent_status = -1;
	TAILQ_INIT(&se->relays);
	TAILQ_INIT(&se->waiters);
	strlcpy(se->label, label, sizeof(se->label));
	se->ttl_s = ttl;
	se->key_ttl_s = key_ttl;
	ids_new(se->id);
	TAILQ_INSERT_TAIL(&server->sessions, se, entry);
	server->nsessions++;

	n1 = snprintf(se->sock_path, sizeof(se->sock_path),
	    "%s/sessions/%s/agent.sock", server->roots.run, se->id);
	n2 = snprintf(se->up_path, sizeof(se->up_path),
	    "%s/sessions/%s/upstream/agent.sock", server->roots.run, se->id);
	if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof(se->up_path)) {
		if (asprintf(cause, "%s: runtime directory path too long for "
		    "a unix socket (%zu bytes max)", server->roots.run,
		    sizeof(se->up_path) - 1) == -1)
			*cause = NULL;
		session_free(se);
		return NULL;
	}
	snprintf(shown, sizeof(shown), "%s/sessions/%s", server->roots.run,
	    se->id);
	if ((se->dirfd = privdir_at(server->sessdirfd, se->id, shown,
	    PRIVDIR_CREATE | PRIVDIR_EXCL, cause)) == -1)
		goto fail;
	snprintf(shown, sizeof(shown), "%s/sessions/%s/upstream",
	    server->roots.run, se->id);
	if ((n1 = privdir_at(se->dirfd, "upstream", shown,
	    PRIVDIR_CREATE | PRIVDIR_EXCL, cause)) == -1)
		goto fail_dir;
	close(n1);
	if (session_spawn(se, cause) == -1)
		goto fail_dir;
	se->state = SESSION_STARTING;
	se->kill_ns = now_boot_ns() + START_TIMEOUT_S * NS;
	server_rearm_timer();
	return se;
fail_dir:
	(void)privdir_remove(server->sessdirfd, se->id, NULL);
fail:
	session_free(se);
	return NULL;
}

/*
 * The spare: one agent started ahead for the next `start` with the same key
 * TTL (the last one asked for), so that a start does not wait for ssh-agent
 * to exec. It has a directory and an agent but no public socket and no
 * event until it is claimed; if the daemon dies, it goes like any agent, and
 * the next start removes its directory (it has no `created`).
 */
static void
spare_want(uint64_t key_ttl)
{
	struct session *se = server->spare;
	char *cause = NULL;

	if (server->shutting_down || !server->spare_enabled)
		return;
	if (se != NULL && se->key_ttl_s == key_ttl)
		return;
	if (se != NULL) {
		server->spare = NULL;
		session_end(se, NULL);	/* the wrong TTL: replace it */
	}
	if ((se = session_new(key_ttl, key_ttl, "", &cause)) == NULL) {
		log_warn("no spare agent: %s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	se->spare = true;
	server->spare = se;
}

void
session_start(struct ctlconn *c, const cJSON *req)
{
	char **allow = NULL;
	size_t nallow = 0;
	bool deny_fwd = false;
	struct session *se;
	struct gate *gate = NULL;
	const cJSON *item;
	const char *label = "";
	uint64_t ttl = DEFAULT_TTL, key_ttl;
	char *cause = NULL;

	if (cJSON_GetObjectItemCaseSensitive(req, "ttl_s") != NULL &&
	    ctlmsg_get_uint(req, "ttl_s", 1, DURATION_MAX, &ttl) == -1) {
		ctl_reply_error(c, "ttl_s: must be a positive integer");
		return;
	}
	if (ttl > server->max_ttl)
		ttl = server->max_ttl;
	key_ttl = ttl;
	if (cJSON_GetObjectItemCaseSensitive(req, "key_ttl_s") != NULL &&
	    ctlmsg_get_uint(req, "key_ttl_s", 1, DURATION_MAX, &key_ttl) == -1) {
		ctl_reply_error(c, "key_ttl_s: must be a positive integer");
		return;
	}
	if (key_ttl > ttl)
		key_ttl = ttl;	/* no key may outlive its session */
	if ((item = cJSON_GetObjectItemCaseSensitive(req, "label")) != NULL) {
		if (!cJSON_IsString(item) ||
		    strlen(item->valuestring) >= LABEL_MAX) {
			ctl_reply_error(c, "label: must be a string of less "
			    "than %d bytes", LABEL_MAX);
			return;
		}
		label = item->valuestring;
	}
	if ((item = cJSON_GetObjectItemCaseSensitive(req, "approve")) != NULL &&
	    (!cJSON_IsString(item) || strcmp(item->valuestring, "sign") != 0)) {
		ctl_reply_error(c, "approve: must be \"sign\"");
		return;
	}
	if (gate_new(&gate, req, &cause) == -1) {
		ctl_reply_error(c, "%s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	/* Owed end events go first; while they fail, nothing new starts. */
	if (session_flush_pending() == -1) {
		gate_discard(gate);
		ctl_reply_error(c, "session not started: audit log: end events of "
		    "earlier sessions are still waiting for space");
		return;
	}
	if (approval_parse_opts(c, req, &allow, &nallow, &deny_fwd) == -1) {
		gate_discard(gate);
		return;
	}
	se = server->spare;
	if (se != NULL && se->state == SESSION_SPARE && se->key_ttl_s == key_ttl) {
		/* Claim the spare: its agent already answers. */
		server->spare = NULL;
		se->spare = false;
		strlcpy(se->label, label, sizeof(se->label));
		se->ttl_s = ttl;
		se->starter = c;
		se->approve_sign = item != NULL;
		se->allow_dest = allow;
		se->nallow_dest = nallow;
		se->deny_forwarded = deny_fwd;
		c->refs++;
		se->gate = gate;
		session_activate(se);
	} else if ((se = session_new(ttl, key_ttl, label, &cause)) != NULL) {
		se->starter = c;
		se->approve_sign = item != NULL;
		se->allow_dest = allow;
		se->nallow_dest = nallow;
		se->deny_forwarded = deny_fwd;
		c->refs++;
		se->gate = gate;
	} else {
		while (nallow > 0)
			free(allow[--nallow]);
		free(allow);
		gate_discard(gate);
		ctl_reply_error(c, "%s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	spare_want(key_ttl);
}

void
session_stop_request(struct ctlconn *c, const cJSON *req)
{
	struct session *se, *tmp, *target = NULL;
	struct stop_waiter *w;
	const char *id = ctlmsg_get_str(req, "session");
	bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all"));
	int n = 0;

	if (!all && id == NULL) {
		ctl_reply_error(c, "stop: name a session or all");
		return;
	}
	if (!all && (target = session_target(c, id, true)) == NULL)
		return;
	TAILQ_FOREACH_SAFE(se, &server->sessions, entry, tmp) {
		if ((!all && se != target) ||
		    se->state == SESSION_STARTING || se->state == SESSION_SPARE)
			continue;
		if ((w = calloc(1, sizeof(*w))) == NULL)
			continue;
		w->c = c;
		c->refs++;
		TAILQ_INSERT_TAIL(&se->waiters, w, entry);
		n++;
	}
	if (n == 0) {
		ctl_reply_ok(c, stop_reply_fields, c);
		return;
	}
	/* Ending may finish a session at once: end them after queueing all. */
	TAILQ_FOREACH_SAFE(se, &server->sessions, entry, tmp) {
		if (!TAILQ_EMPTY(&se->waiters) && se->state == SESSION_ACTIVE)
			session_end(se, "requested");
	}
}

static void
kill_reply_fields(struct jsonw *w, void *arg)
{
	jsonw_int(w, "pid", getpid());
	stop_reply_fields(w, arg);
}

void
session_kill_request(struct ctlconn *c)
{
	struct session *se;
	struct stop_waiter *w;

	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (!session_targetable(se, true))
			continue;
		if ((w = calloc(1, sizeof(*w))) == NULL)
			continue;
		w->c = c;
		c->refs++;
		TAILQ_INSERT_TAIL(&se->waiters, w, entry);
	}
	c->refs++;	/* held until session_kill_reply: the daemon's end */
}

void
session_kill_reply(struct ctlconn *c)
{
	if (c->stop_failed)
		ctl_reply_error(c, "agentd stopped, but the audit log is full: "
		    "end events were not written");
	else
		ctl_reply_ok(c, kill_reply_fields, c);
	ctl_unref(c);
}

uint64_t
session_remaining_s(const struct session *se)
{
	uint64_t now = now_boot_ns();

	return se->deadline_ns > now ? (se->deadline_ns - now) / NS : 0;
}

struct add_reply {
	struct session	*se;
	uint64_t	 lifetime;
};

static void
add_reply_fields(struct jsonw *w, void *arg)
{
	struct add_reply *r = arg;

	jsonw_str(w, "session", r->se->id);
	jsonw_str(w, "socket", r->se->sock_path);
	jsonw_uint(w, "lifetime_s", r->lifetime);
}

static struct session *
active_session(struct ctlconn *c, const cJSON *req)
{
	return session_target(c, ctlmsg_get_str(req, "session"), false);
}

void
session_add(struct ctlconn *c, const cJSON *req)
{
	struct add_reply r;
	uint64_t want = 0;
	int has;

	if ((r.se = active_session(c, req)) == NULL)
		return;
	has = cJSON_GetObjectItemCaseSensitive(req, "lifetime_s") != NULL;
	if (has && ctlmsg_get_uint(req, "lifetime_s", 1, DURATION_MAX,
	    &want) == -1) {
		ctl_reply_error(c, "lifetime_s: must be a positive integer");
		return;
	}
	/* The same cap the relay puts on the add that follows. */
	if ((r.lifetime = keys_lifetime_cap(r.se, has, (uint32_t)want)) == 0) {
		ctl_reply_error(c, "session %s expires in less than a second",
		    r.se->id);
		return;
	}
	ctl_reply_ok(c, add_reply_fields, &r);
}

static void
status_fields(struct jsonw *w, void *arg)
{
	struct session *se;
	char created[TIMEFMT_LEN], expires[TIMEFMT_LEN];

	(void)arg;
	jsonw_int(w, "pid", getpid());
	jsonw_array_begin(w, "sessions");
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (se->state == SESSION_STARTING || se->state == SESSION_SPARE)
			continue;
		timefmt_rfc3339_s(se->created_rt.tv_sec, created);
		timefmt_rfc3339_s(se->created_rt.tv_sec + (time_t)se->ttl_s,
		    expires);
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "session", se->id);
		jsonw_str(w, "label", se->label);
		jsonw_str(w, "state", session_state_name(se));
		jsonw_int(w, "agent_pid", se->agent_pid);
		jsonw_str(w, "socket", se->sock_path);
		jsonw_str(w, "created_at", created);
		jsonw_str(w, "expires_at", expires);
		jsonw_uint(w, "ttl_s", se->ttl_s);
		jsonw_uint(w, "key_ttl_s", se->key_ttl_s);
		jsonw_uint(w, "remaining_s", session_remaining_s(se));
		jsonw_uint(w, "keys_held", se->nkeys);
		gate_status_fields(w, se);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	/* Agents started ahead (spare_want): not sessions, but processes and
	 * directories of ours, for tools that look for leftovers. */
	jsonw_array_begin(w, "spares");
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (!se->spare)
			continue;
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "session", se->id);
		jsonw_str(w, "state", session_state_name(se));
		jsonw_int(w, "agent_pid", se->agent_pid);
		jsonw_int(w, "tether_pid", se->tether_pid);
		jsonw_uint(w, "key_ttl_s", se->key_ttl_s);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

void
session_status(struct ctlconn *c)
{
	ctl_reply_ok(c, status_fields, NULL);
}

/* --- recovery after a dead daemon ----------------------------------------- */

struct lost {
	char		id[IDS_LEN + 1];
	struct timespec	created;
	uint64_t	ttl_s;
	pid_t		pid[2];		/* agent, tether */
	uint64_t	start[2];
	char		boot_id[PROCINFO_BOOTID_LEN + 1];
	int64_t		boottime_ms;	/* at created; -1 when not logged */
};

static int64_t
json_int(const cJSON *obj, const char *key)
{
	uint64_t v;

	if (ctlmsg_get_uint(obj, key, 0, INT64_MAX, &v) == -1)
		return -1;
	return (int64_t)v;
}

/* Ends pid if it is provably the process we started (same boot, same start
 * time), waiting up to the stop grace for SIGTERM, then SIGKILL. */
static void
kill_if_ours(const struct lost *l, int i)
{
	struct pollfd pfd;
	uint64_t start;
	char state;
	int fd;

	if (l->pid[i] <= 1 || strcmp(l->boot_id, server->boot_id) != 0)
		return;
	if ((fd = pidfd_open(l->pid[i], 0)) == -1)
		return;
	/* Checked after pidfd_open: the fd now pins this very process. A zombie
	 * (not yet reaped by init) holds nothing and is left alone. */
	if (procinfo_stat(l->pid[i], &start, NULL, &state) == 0 &&
	    start == l->start[i] && state != 'Z' && state != 'X') {
		(void)pidfd_send_signal(fd, SIGTERM, NULL, 0);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, STOP_GRACE_S * 1000) == 0)
			(void)pidfd_send_signal(fd, SIGKILL, NULL, 0);
		log_warn("session %s: ended a survivor, pid %ld", l->id,
		    (long)l->pid[i]);
	}
	close(fd);
}

static int
lost_add(struct lost **v, size_t *n, size_t *cap, const cJSON *ev,
    const char *id)
{
	struct lost *l, *nv;
	const char *ts = ctlmsg_get_str(ev, "ts"), *boot;
	int64_t x;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nv = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return -1;
		*v = nv;
	}
	l = &(*v)[(*n)++];
	memset(l, 0, sizeof(*l));
	strlcpy(l->id, id, sizeof(l->id));
	if (ts != NULL)
		(void)timefmt_parse(ts, &l->created);
	l->ttl_s = (x = json_int(ev, "ttl_s")) > 0 ? (uint64_t)x : 0;
	l->pid[0] = (pid_t)json_int(ev, "agent_pid");
	l->pid[1] = (pid_t)json_int(ev, "tether_pid");
	l->start[0] = (uint64_t)json_int(ev, "agent_start");
	l->start[1] = (uint64_t)json_int(ev, "tether_start");
	if ((boot = ctlmsg_get_str(ev, "boot_id")) != NULL)
		strlcpy(l->boot_id, boot, sizeof(l->boot_id));
	l->boottime_ms = json_int(ev, "boottime_ms");
	return 0;
}

/* A rotated log's first line (log_rotated) lists what recovery needs of each
 * open session, so the new file alone pairs every created with its end. */
void
session_rotated_fields(struct jsonw *w, void *arg)
{
	struct session *se;
	char ts[TIMEFMT_LEN];

	(void)arg;
	jsonw_array_begin(w, "open_sessions");
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (!se->created_logged)
			continue;
		timefmt_rfc3339(&se->created_rt, ts);
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "session", se->id);
		jsonw_str(w, "ts", ts);
		jsonw_uint(w, "ttl_s", se->ttl_s);
		jsonw_int(w, "agent_pid", se->agent_pid);
		jsonw_uint(w, "agent_start", se->agent_start);
		jsonw_int(w, "tether_pid", se->tether_pid);
		jsonw_uint(w, "tether_start", se->tether_start);
		jsonw_str(w, "boot_id", server->boot_id);
		jsonw_uint(w, "boottime_ms", session_boot_start_ns(se) / NS_PER_MS);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

/* A shell whose daemon died: shell_started with no shell_ended. */
struct lost_shell {
	char		 id[IDS_LEN + 1];
	int64_t		 shell;
	int64_t		 pid;
	char		*recording;
};

static void
lost_shell_note(struct lost_shell **v, size_t *n, size_t *cap,
    const cJSON *ev, const char *id, int started)
{
	struct lost_shell *nv;
	const char *rec = ctlmsg_get_str(ev, "recording");
	int64_t shell = json_int(ev, "shell");
	size_t i;

	for (i = 0; i < *n; i++) {
		if ((*v)[i].shell == shell && strcmp((*v)[i].id, id) == 0)
			break;
	}
	if (!started) {
		if (i < *n) {
			free((*v)[i].recording);
			(*v)[i] = (*v)[--(*n)];
		}
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nv = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return;
		*v = nv;
	}
	strlcpy((*v)[*n].id, id, sizeof((*v)[*n].id));
	(*v)[*n].shell = shell;
	(*v)[*n].pid = json_int(ev, "pid");
	(*v)[*n].recording = rec != NULL ? strdup(rec) : NULL;
	(*n)++;
}

/* A held signature whose daemon died: approval_requested, no decision. */
struct lost_approval {
	char		 id[IDS_LEN + 1];
	char		 request[32];
};

static void
lost_approval_note(struct lost_approval **v, size_t *n, size_t *cap,
    const cJSON *ev, const char *id, int requested)
{
	struct lost_approval *nv;
	const char *req = ctlmsg_get_str(ev, "request");
	size_t i;

	if (req == NULL || strlen(req) >= sizeof(nv->request))
		return;
	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i].request, req) == 0 &&
		    strcmp((*v)[i].id, id) == 0)
			break;
	}
	if (!requested) {
		if (i < *n)
			(*v)[i] = (*v)[--(*n)];
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nv = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return;
		*v = nv;
	}
	strlcpy((*v)[*n].id, id, sizeof((*v)[*n].id));
	strlcpy((*v)[*n].request, req, sizeof((*v)[*n].request));
	(*n)++;
}

int
session_recover(char **cause)
{
	struct lost_approval *held = NULL;
	size_t nheld = 0, heldcap = 0;
	struct auditread *rd;
	struct auditread_line ln;
	struct lost *lost = NULL, *l;
	struct lost_shell *shells = NULL;
	size_t nlost = 0, cap = 0, i, j, nshells = 0, shcap = 0;
	const char *id, *event;
	struct timespec now;
	struct jsonw *w;
	struct dirent *de;
	cJSON *ev;
	DIR *d;
	int fd, dfd;
	int64_t dur;

	if ((fd = openat(server->statedirfd, "audit.jsonl", O_RDONLY |
	    O_CLOEXEC | O_NOFOLLOW)) == -1 || (rd = auditread_open(fd)) == NULL) {
		if (asprintf(cause, "%s/audit.jsonl: %s", server->roots.state,
		    strerror(errno)) == -1)
			*cause = NULL;
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* One pass over the log: the sessions with a created and no end. */
	while (auditread_next(rd, &ln) == 1) {
		if (memmem(ln.buf, ln.len, "\"event\":\"created\"", 17) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"stopped\"", 17) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"crashed\"", 17) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"log_rotated\"", 21) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"shell_", 15) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"approval_", 18) == NULL &&
		    memmem(ln.buf, ln.len, "\"event\":\"egress_", 16) == NULL)
			continue;
		if ((ev = cJSON_ParseWithLength(ln.buf, ln.len)) == NULL)
			continue;
		event = ctlmsg_get_str(ev, "event");
		id = ctlmsg_get_str(ev, "session");
		if (event != NULL && strcmp(event, "log_rotated") == 0) {
			const cJSON *o;

			/* Sessions opened in the file before this one. */
			cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(ev,
			    "open_sessions")) {
				id = ctlmsg_get_str(o, "session");
				if (id != NULL && ids_valid(id) &&
				    lost_add(&lost, &nlost, &cap, o, id) == -1)
					break;
			}
		} else if (event != NULL && id != NULL && ids_valid(id) &&
		    strncmp(event, "egress_", 7) == 0) {
			gate_recover_note(ev, id,
			    strcmp(event, "egress_opened") == 0);
		} else if (event != NULL && id != NULL && ids_valid(id) &&
		    strncmp(event, "shell_", 6) == 0) {
			lost_shell_note(&shells, &nshells, &shcap, ev, id,
			    strcmp(event, "shell_started") == 0);
		} else if (event != NULL && id != NULL && ids_valid(id) &&
		    strncmp(event, "approval_", 9) == 0) {
			lost_approval_note(&held, &nheld, &heldcap, ev, id,
			    strcmp(event, "approval_requested") == 0);
		} else if (event != NULL && id != NULL && ids_valid(id)) {
			if (strcmp(event, "created") == 0) {
				if (lost_add(&lost, &nlost, &cap, ev, id) == -1) {
					cJSON_Delete(ev);
					break;
				}
			} else {
				for (i = 0; i < nlost; i++) {
					if (strcmp(lost[i].id, id) == 0) {
						lost[i] = lost[--nlost];
						break;
					}
				}
			}
		}
		cJSON_Delete(ev);
	}
	auditread_free(rd);
	close(fd);

	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < nlost; i++) {
		l = &lost[i];
		kill_if_ours(l, 1);
		kill_if_ours(l, 0);
		(void)privdir_remove(server->sessdirfd, l->id, NULL);
		/* The end is unknown: count until now, or the TTL if it passed;
		 * on CLOCK_BOOTTIME when this boot created it, else by ts. */
		if (l->boottime_ms >= 0 && l->boot_id[0] != '\0' &&
		    strcmp(l->boot_id, server->boot_id) == 0)
			dur = ((int64_t)(now_boot_ns() / NS_PER_MS) -
			    l->boottime_ms + 500) / 1000;
		else
			dur = now.tv_sec - l->created.tv_sec;
		if (l->ttl_s > 0 && dur > (int64_t)l->ttl_s)
			dur = (int64_t)l->ttl_s;
		/* Its held signatures were never decided: expired. */
		for (j = 0; j < nheld; j++) {
			if (strcmp(held[j].id, l->id) != 0)
				continue;
			w = auditlog_begin(server->log, "approval_decided",
			    l->id);
			jsonw_str(w, "request", held[j].request);
			jsonw_str(w, "decision", "expired");
			jsonw_str(w, "by", "supervisor_lost");
			jsonw_uint(w, "for_s", 0);
			if (auditlog_commit(server->log, cause) == -1)
				goto fail;
		}
		/* Its shells died with the daemon's terminals: say so first. */
		for (j = 0; j < nshells; j++) {
			if (strcmp(shells[j].id, l->id) != 0)
				continue;
			w = auditlog_begin(server->log, "shell_ended", l->id);
			jsonw_int(w, "shell", shells[j].shell);
			jsonw_int(w, "pid", shells[j].pid);
			jsonw_null(w, "exit_status");
			jsonw_null(w, "bytes_out");
			jsonw_str(w, "recording", shells[j].recording);
			jsonw_str(w, "reason", "supervisor_lost");
			if (auditlog_commit(server->log, cause) == -1)
				goto fail;
		}
		if (gate_recover_close(l->id, cause) == -1)
			goto fail;
		w = auditlog_begin(server->log, "crashed", l->id);
		jsonw_str(w, "exit_reason", "supervisor_lost");
		jsonw_int(w, "duration_s", dur < 0 ? 0 : dur);
		if (auditlog_commit(server->log, cause) == -1)
			goto fail;
	}
	free(lost);
	free(held);
	gate_recover_done();
	for (j = 0; j < nshells; j++)
		free(shells[j].recording);
	free(shells);

	/* Directories of sessions that never got their created event. */
	if ((dfd = dup(server->sessdirfd)) != -1 && (d = fdopendir(dfd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (ids_valid(de->d_name))
				(void)privdir_remove(server->sessdirfd,
				    de->d_name, NULL);
		}
		closedir(d);
	} else if (dfd != -1)
		close(dfd);
	return 0;
fail:
	free(lost);
	free(held);
	gate_recover_done();
	for (j = 0; j < nshells; j++)
		free(shells[j].recording);
	free(shells);
	return -1;
}
