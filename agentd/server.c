/* server: the daemon's start-up, event loop and control socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <sodium.h>

#include "auditlog.h"
#include "escape.h"
#include "journal.h"
#include "privdir.h"
#include "recorder.h"
#include "server.h"


struct server	*server;

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	/* agentd.log is read by people: one escaped line (lib/escape). */
	fprintf(stderr, "agentd[%ld]: %s\n", (long)getpid(),
	    msg ? escape_term_str(msg) : "(out of memory)");
	free(msg);
}

/*
 * One epoll_wait batch may hold several events of one object, and the first
 * callback may end it. So: ev_del marks the fd's handler dead (found through
 * an fd-indexed table), dead handlers are skipped, and objects that own
 * handlers are freed with ev_free_later, after the batch.
 */
static struct evh	**ev_by_fd;
static size_t		  ev_nfd;
static void		**graveyard;
static size_t		  ngrave, capgrave;

int
ev_try_add(int fd, uint32_t events, struct evh *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };
	struct evh **nmap;
	size_t n;

	if (fd < 0)
		return -1;
	if ((size_t)fd >= ev_nfd) {
		n = ev_nfd ? ev_nfd : 64;
		while (n <= (size_t)fd)
			n *= 2;
		if ((nmap = reallocarray(ev_by_fd, n, sizeof(*nmap))) == NULL)
			return -1;
		memset(nmap + ev_nfd, 0, (n - ev_nfd) * sizeof(*nmap));
		ev_by_fd = nmap;
		ev_nfd = n;
	}
	if (epoll_ctl(server->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	ev_by_fd[fd] = h;
	h->events = events;
	h->live = true;
	return 0;
}

void
ev_add(int fd, uint32_t events, struct evh *h)
{
	if (ev_try_add(fd, events, h) == -1)
		log_warn("epoll add fd %d: %s", fd, strerror(errno));
}

void
ev_mod(int fd, uint32_t events, struct evh *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	/* Relays recompute their interest after every read: most are no-ops. */
	if (events == h->events)
		return;
	if (epoll_ctl(server->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		log_warn("epoll mod fd %d: %s", fd, strerror(errno));
	h->events = events;
}

void
ev_del(int fd)
{
	if (fd >= 0 && (size_t)fd < ev_nfd && ev_by_fd[fd] != NULL) {
		ev_by_fd[fd]->live = false;
		ev_by_fd[fd] = NULL;
	}
	(void)epoll_ctl(server->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void
ev_free_later(void *p)
{
	void **ng;
	size_t n;

	if (ngrave == capgrave) {
		n = capgrave ? capgrave * 2 : 64;
		if ((ng = reallocarray(graveyard, n, sizeof(*ng))) == NULL) {
			/* Leaking beats a use after free; this is out of memory. */
			log_warn("out of memory: an object is not freed");
			return;
		}
		graveyard = ng;
		capgrave = n;
	}
	graveyard[ngrave++] = p;
}

static void
ev_free_graveyard(void)
{
	while (ngrave > 0)
		free(graveyard[--ngrave]);
}

pid_t
server_fork(void)
{
	sigset_t all, old;
	pid_t pid;
	int sig, saved;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				(void)signal(sig, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		return 0;
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

uint64_t
now_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Deadlines of control connections and agent clients sit in queues ordered
 * by deadline (each kind has one timeout, so appending keeps the order):
 * the timer looks at their heads only. They are expired from timer_cb
 * alone, never from a callback that may hold the very connection.
 */
struct ctlconn;
static uint64_t	ctl_next_deadline(void);
static void	ctl_expire(uint64_t);
static void	ctl_close(struct ctlconn *);
static void	accept_resume(void);

/* Control connections that owe us their request or have not taken their
 * reply, by deadline. */
static TAILQ_HEAD(, ctlconn) ctl_waitq = TAILQ_HEAD_INITIALIZER(ctl_waitq);

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

static void
timer_arm(uint64_t next)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (next != 0) {
		its.it_value.tv_sec = (time_t)(next / 1000000000u);
		its.it_value.tv_nsec = (long)(next % 1000000000u);
	}
	if (timerfd_settime(server->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		log_warn("timerfd_settime: %s", strerror(errno));
	server->timer_ns = next;
}

static bool	rearm_running, rearm_again;

void
server_rearm_timer(void)
{
	uint64_t next;

	/* Deadlines end sessions, and ending one rearms: no re-entry (the
	 * outer walk over the sessions must not see the list change under it),
	 * walk again instead. */
	if (rearm_running) {
		rearm_again = true;
		return;
	}
	rearm_running = true;
	do {
		rearm_again = false;
		next = session_deadlines(now_boot_ns());
		next = earliest(next, ctl_next_deadline());
		next = earliest(next, relay_next_deadline());
		next = earliest(next, checkpoint_deadline());
		next = earliest(next, approval_deadlines(now_boot_ns()));
		if (server->accept_paused)
			next = earliest(next, server->accept_retry_ns);
	} while (rearm_again);
	rearm_running = false;
	timer_arm(next);
}

void
server_timer_at(uint64_t when)
{
	if (rearm_running)
		rearm_again = true;	/* the walk picks it up */
	else if (server->timer_ns == 0 || when < server->timer_ns)
		timer_arm(when);
}

/* --- descriptors -------------------------------------------------------- */

/*
 * At the descriptor limit (DESIGN §5: slow down, never spin, lose nothing):
 * a few descriptors are kept open on /dev/null for the clean-up that must not
 * fail (removing an ended session's directory takes 2 per level); an accept
 * that fails with EMFILE closes the connection that does nothing the longest
 * and tries again; when no connection can go, the listeners are not polled
 * until one closes or ACCEPT_RETRY_NS passes (a level-triggered listener
 * that cannot be accepted from would wake us at once, for ever).
 */
#define RESERVE_FDS	4
#define ACCEPT_RETRY_NS	(1 * NS)
#define FD_EPISODE_NS	(60 * NS)	/* one warning per episode */

static int	reserve_fd[RESERVE_FDS];
static int	nreserve;

void
server_fd_reserve_restore(void)
{
	int fd;

	while (nreserve < RESERVE_FDS &&
	    (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1)
		reserve_fd[nreserve++] = fd;
}

void
server_fd_reserve_release(void)
{
	while (nreserve > 0)
		close(reserve_fd[--nreserve]);
}

bool
server_fd_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

uint32_t
server_listen_events(void)
{
	return server->accept_paused ? 0 : EPOLLIN;
}

static void
listeners_set(uint32_t events)
{
	struct session *se;

	if (server->ctlfd != -1 && server->ctl_ev.live)
		ev_mod(server->ctlfd, events, &server->ctl_ev);
	TAILQ_FOREACH(se, &server->sessions, entry) {
		if (se->listen_fd != -1 && se->listen_ev.live)
			ev_mod(se->listen_fd, events, &se->listen_ev);
	}
}

static void
accept_pause(void)
{
	if (server->accept_paused)
		return;
	server->accept_paused = true;
	listeners_set(0);
	server->accept_retry_ns = now_boot_ns() + ACCEPT_RETRY_NS;
	server_timer_at(server->accept_retry_ns);
}

static void
accept_resume(void)
{
	if (!server->accept_paused)
		return;
	server->accept_paused = false;
	server->accept_retry_ns = 0;
	listeners_set(EPOLLIN);
}

int
server_fd_shortage(int err)
{
	struct ctlconn *c;
	struct rlimit rl;
	bool fds = err == EMFILE || err == ENFILE;
	uint64_t now;

	now = now_boot_ns();
	if (server->fd_short_ns == 0 || now - server->fd_short_ns >=
	    FD_EPISODE_NS) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = 0;
		log_warn("%s (descriptor limit %llu): closing connections that "
		    "do nothing, new ones wait while none can go", strerror(err),
		    (unsigned long long)rl.rlim_cur);
	}
	server->fd_short_ns = now;
	/* A control connection gets CTL_GRACE_NS to send its request before
	 * it may go for a relay client: one accepted in this very wake-up has
	 * not been read yet, and closing it would turn every `status` away
	 * at the limit. Quiet relay clients go before young control ones. */
	if (fds && (c = TAILQ_FIRST(&ctl_waitq)) != NULL &&
	    c->waiting_ns + CTL_GRACE_NS <= now) {
		ctl_close(c);
		return 0;
	}
	if (fds && relay_evict(NULL) == 0)
		return 0;
	accept_pause();
	return -1;
}

void
server_fd_freed(void)
{
	server_fd_reserve_restore();	/* the reserve first */
	accept_resume();
}

/* --- control connections ------------------------------------------------ */

static void	ctl_conn_cb(struct evh *, uint32_t);

/* The client has CTL_REQUEST_TIMEOUT_S from now to do its part. */
static void
ctl_wait(struct ctlconn *c)
{
	if (c->deadline_ns != 0)
		return;
	c->waiting_ns = now_boot_ns();
	c->deadline_ns = c->waiting_ns + CTL_REQUEST_TIMEOUT_S * NS;
	TAILQ_INSERT_TAIL(&ctl_waitq, c, wait_entry);
	server_timer_at(c->deadline_ns);
}

static void
ctl_unwait(struct ctlconn *c)
{
	if (c->deadline_ns == 0)
		return;
	TAILQ_REMOVE(&ctl_waitq, c, wait_entry);
	c->deadline_ns = 0;
}

static uint64_t
ctl_next_deadline(void)
{
	struct ctlconn *c = TAILQ_FIRST(&ctl_waitq);

	return c != NULL ? c->deadline_ns : 0;
}

/* Closed without a reply, like sshd past its LoginGraceTime. */
static void
ctl_expire(uint64_t now)
{
	struct ctlconn *c;

	while ((c = TAILQ_FIRST(&ctl_waitq)) != NULL && c->deadline_ns <= now)
		ctl_close(c);
}

static void
ctl_close(struct ctlconn *c)
{
	ctl_unwait(c);
	if (!c->closed) {
		ev_del(c->fd);
		close(c->fd);
		c->closed = true;
		server_fd_freed();
	}
	if (c->refs > 0)
		return;
	TAILQ_REMOVE(&server->conns, c, entry);
	server->nconns--;
	ctlmsg_in_reset(&c->in);
	jsonw_free(&c->out);
	jsonw_free(&c->stopped);
	ev_free_later(c);
}

int
ctl_take_over(struct ctlconn *c)
{
	int fd = c->fd;

	ctl_unwait(c);
	ev_del(fd);
	c->closed = true;	/* its fd lives on elsewhere */
	c->replied = true;
	if (c->refs == 0)
		ctl_close(c);
	return fd;
}

void
ctl_unref(struct ctlconn *c)
{
	if (--c->refs == 0 && c->closed)
		ctl_close(c);
}

static void
ctl_flush(struct ctlconn *c)
{
	ssize_t n;

	while (c->outoff < c->out.len) {
		n = send(c->fd, c->out.buf + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_mod(c->fd, EPOLLOUT, &c->ev);
			ctl_wait(c);	/* a client that does not read */
			return;
		}
		if (n <= 0) {
			ctl_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	ctl_close(c);	/* one request, one reply */
}

/* Frames the reply in c->out: the length is patched in once it is known. */
static void
ctl_send(struct ctlconn *c)
{
	size_t len = c->out.len - 4;

	if (c->closed)
		return;		/* the client left; ctl_unref frees */
	if (!jsonw_ok(&c->out) || len > CTLMSG_REPLY_MAX) {
		jsonw_reset(&c->out);
		jsonw_raw(&c->out, "\0\0\0\0", 4);
		jsonw_begin(&c->out);
		jsonw_bool(&c->out, "ok", false);
		jsonw_str(&c->out, "error", "reply too large or out of memory");
		jsonw_end(&c->out);
		len = c->out.len - 4;
	}
	c->out.buf[0] = (char)(len >> 24);
	c->out.buf[1] = (char)(len >> 16);
	c->out.buf[2] = (char)(len >> 8);
	c->out.buf[3] = (char)len;
	c->outoff = 0;
	c->replied = true;
	ctl_flush(c);
}

void
ctl_reply_ok(struct ctlconn *c, void (*fields)(struct jsonw *, void *),
    void *arg)
{
	if (c->replied)
		return;
	jsonw_reset(&c->out);
	jsonw_raw(&c->out, "\0\0\0\0", 4);
	jsonw_begin(&c->out);
	jsonw_bool(&c->out, "ok", true);
	if (fields != NULL)
		fields(&c->out, arg);
	jsonw_end(&c->out);
	ctl_send(c);
}

void
ctl_reply_error(struct ctlconn *c, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (c->replied)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	jsonw_reset(&c->out);
	jsonw_raw(&c->out, "\0\0\0\0", 4);
	jsonw_begin(&c->out);
	jsonw_bool(&c->out, "ok", false);
	jsonw_str(&c->out, "error", msg != NULL ? msg : "out of memory");
	jsonw_end(&c->out);
	free(msg);
	ctl_send(c);
}

static void	begin_shutdown(void);

/* agentd kill: every session ends (supervisor_shutdown), then the daemon;
 * the reply waits until both are done (server_run). */
static void
ctl_kill(struct ctlconn *c, const cJSON *req)
{
	(void)req;
	if (server->killer != NULL) {
		ctl_reply_error(c, "agentd is shutting down");
		return;
	}
	session_kill_request(c);
	server->killer = c;
	begin_shutdown();
}

static void
ctl_dispatch(struct ctlconn *c)
{
	static const struct {
		const char	*name;
		void		(*handler)(struct ctlconn *, const cJSON *);
	} verbs[] = {
		{ "start", session_start },
		{ "stop", session_stop_request },
		{ "add", session_add },
		{ "shell", shell_start },
		{ "kill", ctl_kill },
		{ "approvals", approval_list },
		{ "decide", approval_decide },
	};
	const char *cmd;
	cJSON *req;
	size_t i;

	if ((req = ctlmsg_parse(&c->in)) == NULL) {
		ctl_reply_error(c, "malformed request: not a JSON object");
		return;
	}
	if ((cmd = ctlmsg_get_str(req, "cmd")) == NULL)
		ctl_reply_error(c, "malformed request: no \"cmd\" string");
	else if (strcmp(cmd, "status") == 0)
		session_status(c);
	else if (server->shutting_down)
		ctl_reply_error(c, "agentd is shutting down");
	else {
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			if (strcmp(cmd, verbs[i].name) == 0) {
				verbs[i].handler(c, req);
				break;
			}
		}
		if (i == sizeof(verbs) / sizeof(verbs[0]))
			ctl_reply_error(c, "unknown command \"%.64s\"", cmd);
	}
	cJSON_Delete(req);
}

static void
ctl_conn_cb(struct evh *h, uint32_t events)
{
	struct ctlconn *c = CONTAINER_OF(h, struct ctlconn, ev);
	int r;

	if (c->replied) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			ctl_flush(c);
		return;
	}
	if (c->dispatched) {
		/* Waiting for a session to answer and the client hung up. */
		if (events & (EPOLLERR | EPOLLHUP))
			ctl_close(c);
		return;
	}
	if ((r = ctlmsg_read(c->fd, &c->in)) == 0)
		return;
	if (r == -1) {
		if (errno == EMSGSIZE)
			ctl_reply_error(c, "request too large (limit %d bytes)",
			    CTLMSG_MAX);
		else
			ctl_close(c);
		return;
	}
	/* One request per connection: stop reading, keep the fd for the reply. */
	ev_mod(c->fd, 0, &c->ev);
	ctl_unwait(c);
	c->dispatched = true;
	ctl_dispatch(c);
}

int
server_accept_own(int lfd, const char *what, struct ucred *cred)
{
	socklen_t len;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (server_fd_error(errno) &&
			    server_fd_shortage(errno) == 0)
				continue;
			return -1;
		}
		len = sizeof(*cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == 0 &&
		    cred->uid == geteuid())
			return fd;
		log_warn("%s: refused a peer of uid %ld", what,
		    (long)cred->uid);
		close(fd);
	}
}

static void
ctl_accept_cb(struct evh *h, uint32_t events)
{
	struct ucred cred;
	struct ctlconn *c;
	int fd;

	(void)h;
	(void)events;
	/* The socket is 0600 in a 0700 dir; the uid check is defence in
	 * depth. */
	while ((fd = server_accept_own(server->ctlfd, "control",
	    &cred)) != -1) {
		/* Full: the oldest connection that has not sent its request (or
		 * taken its reply) makes room, so a new client is always heard;
		 * when every one waits for a session, the new one is refused. */
		if (server->nconns >= MAX_CTLCONNS) {
			if ((c = TAILQ_FIRST(&ctl_waitq)) == NULL) {
				close(fd);
				continue;
			}
			ctl_close(c);
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer_pid = cred.pid;
		c->peer_uid = cred.uid;
		c->ev.cb = ctl_conn_cb;
		jsonw_init(&c->out);
		jsonw_init(&c->stopped);
		TAILQ_INSERT_TAIL(&server->conns, c, entry);
		server->nconns++;
		ev_add(fd, EPOLLIN, &c->ev);
		ctl_wait(c);
	}
}

/* --- signals and timers ------------------------------------------------- */

static void
begin_shutdown(void)
{
	if (server->shutting_down)
		return;
	server->shutting_down = true;
	ev_del(server->ctlfd);
	close(server->ctlfd);
	server->ctlfd = -1;
	(void)unlinkat(server->rundirfd, "control.sock", 0);
	notify_stopping();
	session_shutdown_all();
}

/* SIGHUP after `mv audit.jsonl …`: continue the chain in a new file. */
static void
rotate_log(void)
{
	char *cause = NULL;
	int r;

	if (auditlog_moved(server->log, server->statedirfd))
		checkpoint_now("rotation");	/* the old file ends signed */
	r = auditlog_reopen(server->log, server->statedirfd, "log_rotated",
	    session_rotated_fields, NULL, &cause);
	if (r == 1)
		log_warn("%s/audit.jsonl: rotated, new file starts at seq %llu",
		    server->roots.state,
		    (unsigned long long)auditlog_last_seq(server->log));
	else if (r == -1)
		log_warn("%s/audit.jsonl: not rotated: %s", server->roots.state,
		    cause ? cause : "out of memory");
	free(cause);
}

static void
signal_cb(struct evh *h, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)h;
	(void)events;
	while (read(server->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			begin_shutdown();
			break;
		case SIGHUP:
			rotate_log();
			break;
		default:
			break;
		}
	}
}

static void
timer_cb(struct evh *h, uint32_t events)
{
	uint64_t expirations, now;

	(void)h;
	(void)events;
	(void)!read(server->timerfd, &expirations, sizeof(expirations));
	now = now_boot_ns();
	ctl_expire(now);
	relay_expire(now);
	checkpoint_expire(now);
	if (server->accept_paused && server->accept_retry_ns <= now)
		accept_resume();
	server_rearm_timer();
}

/* --- start-up ----------------------------------------------------------- */

static int
find_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	int n;

	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *end ? end + 1 : end) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		n = snprintf(out, len, "%.*s/%s", (int)(end - p), p, name);
		if (n > 0 && (size_t)n < len && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * The static agentd-tether next to us (build tree) or in ../libexec/agentd
 * (installed) starts faster than our own binary as `agentd tether`, which
 * stays the fallback.
 */
static void
find_tether(void)
{
	static const char *const rel[] = { "agentd-tether",
	    "../libexec/agentd/agentd-tether" };
	char dir[PATH_MAX], *slash;
	size_t i;
	int n;

	server->tether[0] = '\0';
	strlcpy(dir, server->exe, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		n = snprintf(server->tether, sizeof(server->tether), "%s/%s",
		    dir, rel[i]);
		if (n > 0 && (size_t)n < sizeof(server->tether) &&
		    access(server->tether, X_OK) == 0)
			return;
	}
	server->tether[0] = '\0';
}

static int
lock_pidfile(char **cause)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = openat(server->rundirfd, "agentd.pid", O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (asprintf(cause, "%s/agentd.pid: %s", server->roots.run,
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (asprintf(cause, "agentd already runs for %s (pid %s)",
		    server->roots.run, buf[0] ? buf : "?") == -1)
			*cause = NULL;
		close(fd);
		errno = EEXIST;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("%s/agentd.pid: %s", server->roots.run, strerror(errno));
	server->pidfilefd = fd;
	return 0;
}

static int
server_init(const struct roots *roots, const struct serve_opts *opts,
    char **cause)
{
	struct auditlog_openinfo info;
	struct passwd *pw;
	struct rlimit rl;
	sigset_t set;
	ssize_t n;
	const char *v;
	char shown[PATH_MAX + 32];

	server->roots = *roots;
	server->max_ttl = opts->max_ttl;
	server->spare_enabled = !opts->no_spare;
	server->ctlfd = server->sigfd = server->timerfd = -1;
	TAILQ_INIT(&server->sessions);
	TAILQ_INIT(&server->conns);

	/* Each session holds a few fds; 500 sessions exceed the default 1024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* a full log is an error to report, not death */
	if ((n = readlink("/proc/self/exe", server->exe,
	    sizeof(server->exe) - 1)) == -1) {
		if (asprintf(cause, "/proc/self/exe: %s", strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	server->exe[n] = '\0';
	find_tether();
	if ((v = getenv("AGENTD_SSH_AGENT")) != NULL && *v != '\0')
		strlcpy(server->ssh_agent, v, sizeof(server->ssh_agent));
	else if (find_in_path("ssh-agent", server->ssh_agent,
	    sizeof(server->ssh_agent)) == -1) {
		*cause = strdup("ssh-agent not found in PATH (install "
		    "openssh-client)");
		return -1;
	}
	if (procinfo_boot_id(server->boot_id) == -1) {
		if (asprintf(cause, "cannot read the boot id: %s",
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	if ((pw = getpwuid(geteuid())) != NULL)
		strlcpy(server->user, pw->pw_name, sizeof(server->user));
	else
		snprintf(server->user, sizeof(server->user), "%lu",
		    (unsigned long)geteuid());
	if (gethostname(server->host, sizeof(server->host)) == -1)
		strlcpy(server->host, "localhost", sizeof(server->host));

	/* The longest socket path a session needs: refused here, so that a
	 * daemon that could start no session does not start at all. */
	if (strlen(roots->run) + sizeof("/sessions/") - 1 + IDS_LEN +
	    sizeof("/upstream/agent.sock") - 1 >= SUN_PATH_MAX) {
		if (asprintf(cause, "%s: runtime directory path too long for "
		    "a unix socket (%d bytes max)", escape_term_str(roots->run),
		    SUN_PATH_MAX - 1) == -1)
			*cause = NULL;
		return -1;
	}
	if ((server->statedirfd = privdir_path(roots->state, PRIVDIR_CREATE,
	    cause)) == -1)
		return -1;
	if ((server->rundirfd = privdir_path(roots->run, PRIVDIR_CREATE,
	    cause)) == -1)
		return -1;
	if (lock_pidfile(cause) == -1)
		return -1;
	snprintf(shown, sizeof(shown), "%s/sessions", roots->run);
	if ((server->sessdirfd = privdir_at(server->rundirfd, "sessions",
	    shown, PRIVDIR_CREATE, cause)) == -1)
		return -1;
	if ((server->log = auditlog_open(server->statedirfd, "audit.jsonl",
	    &info, cause)) == NULL)
		return -1;
	if (opts->journal)
		auditlog_set_tap(server->log, journal_line, NULL);
	if (info.torn)
		log_warn("%s/audit.jsonl: a torn last line (%lld bytes) was "
		    "moved to %s", roots->state, (long long)info.torn_bytes,
		    info.torn_name);
	if (checkpoint_init(opts, info.last_event, cause) == -1)
		return -1;

	if ((server->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto sysfail;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (server->sigfd = signalfd(-1, &set, SFD_NONBLOCK |
	    SFD_CLOEXEC)) == -1 ||
	    (server->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1)
		goto sysfail;
	server->sig_ev.cb = signal_cb;
	ev_add(server->sigfd, EPOLLIN, &server->sig_ev);
	server->timer_ev.cb = timer_cb;
	ev_add(server->timerfd, EPOLLIN, &server->timer_ev);
	if (recorder_init(opts, cause) == -1)
		return -1;
	if (approval_init(opts, cause) == -1)
		return -1;
	server_fd_reserve_restore();

	if (session_recover(cause) == -1)
		return -1;

	snprintf(shown, sizeof(shown), "%s/control.sock", roots->run);
	if ((server->ctlfd = privdir_listen(server->rundirfd, "control.sock",
	    shown, 1, cause)) == -1)
		return -1;
	server->ctl_ev.cb = ctl_accept_cb;
	ev_add(server->ctlfd, EPOLLIN, &server->ctl_ev);
	return 0;
sysfail:
	if (asprintf(cause, "event loop set-up: %s", strerror(errno)) == -1)
		*cause = NULL;
	return -1;
}

static void
server_finish(void)
{
	recorder_cleanup();
	approval_cleanup();
	checkpoint_cleanup();
	if (server->ctlfd != -1)
		(void)unlinkat(server->rundirfd, "control.sock", 0);
	if (server->log != NULL)
		auditlog_close(server->log);
	journal_stop();
	if (server->pidfilefd != -1) {
		(void)unlinkat(server->rundirfd, "agentd.pid", 0);
		close(server->pidfilefd);
	}
}

int
server_run(const struct roots *roots, const struct serve_opts *opts,
    int readyfd)
{
	static struct server the_server;
	struct epoll_event evs[64];
	struct evh *h;
	char *cause = NULL;
	int i, n;

	server = &the_server;
	server->pidfilefd = -1;
	/* Forked first, the forwarder holds nothing of ours but its socket. */
	if ((opts->journal && journal_start(&cause) == -1) ||
	    server_init(roots, opts, &cause) == -1) {
		if (readyfd != -1) {
			dprintf(readyfd, "%s\n", cause ? cause : "out of memory");
			close(readyfd);
		} else
			fprintf(stderr, "agentd serve: %s\n",
			    cause ? cause : "out of memory");
		free(cause);
		server_finish();
		return 1;
	}
	if (readyfd != -1) {
		(void)!write(readyfd, "ok\n", 3);
		close(readyfd);
	}
	notify_ready();
	server_rearm_timer();
	while (!server->shutting_down || server->nsessions > 0) {
		n = epoll_wait(server->epfd, evs, 64, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			h = evs[i].data.ptr;
			if (h->live)
				h->cb(h, evs[i].events);
		}
		ev_free_graveyard();
	}
	if (server->shutting_down)
		checkpoint_now("shutdown");
	server_finish();
	if (server->killer != NULL)
		session_kill_reply(server->killer);	/* all is logged */
	return 0;
}
