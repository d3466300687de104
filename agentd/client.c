/* client: how the verbs reach the daemon, starting it when needed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agentd.h"
#include "cause.h"
#include "ctlmsg.h"
#include "duration.h"
#include "privdir.h"

#define CLIENT_SPAWN_SLACK_S	5	/* past serve's own readiness timeout */

/*
 * What the client trusts (DESIGN §7, docs/DESIGN-NOTES.md "Clients check whom
 * they talk to"): R must pass the daemon's own privdir rules (ours, exactly
 * 0700, no symlink, safe ancestors) before anything is connected to, the
 * socket is reached through the verified directory's fd (no path is resolved
 * twice), and the peer on control.sock must run as our uid or root.
 */

/* errno for a refusal of whom we would talk to: never "not running". */
#define CLIENT_EUNTRUSTED	EPERM

int
client_timeout_ms(void)
{
	const char *v = getenv("AGENTD_CLIENT_TIMEOUT");
	uint64_t secs;

	if (v != NULL && *v != '\0' && duration_parse(v, &secs) == 0 &&
	    secs > 0 && secs <= 24 * 3600)
		return (int)secs * 1000;
	return CLIENT_TIMEOUT_S * 1000;
}

/*
 * Connects to control.sock inside the verified run directory dirfd and checks
 * the peer. Returns the fd, or -1 with errno: ENOENT / ECONNREFUSED (nothing
 * listens), EAGAIN (the backlog stayed full for the timeout: a hung or
 * overloaded daemon), CLIENT_EUNTRUSTED (a peer of another uid) or another
 * connect error; *cause is set for every failure.
 */
static int
try_connect(const char *run, int dirfd, char **cause)
{
	struct sockaddr_un sun;
	struct timeval tv;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, error, ms = client_timeout_ms();

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Through the fd: the checked directory is the one we connect in. */
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "/proc/self/fd/%d/control.sock", dirfd) >= sizeof(sun.sun_path))
		return cause_fail(cause, ENAMETOOLONG, "%s/control.sock: %s",
		    run, strerror(ENAMETOOLONG));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return cause_fail(cause, errno, "socket: %s", strerror(errno));
	/* A full listen backlog blocks connect(2) for SO_SNDTIMEO at most. */
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		error = errno;
		close(fd);
		if (error == EAGAIN)
			return cause_fail(cause, EAGAIN, "%s/control.sock: the "
			    "daemon accepts no connection (waited %d s)", run,
			    ms / 1000);
		if (error == ENOENT || error == ECONNREFUSED)
			return cause_fail(cause, error, "no agentd is running "
			    "for %s (%s/control.sock: %s)", run, run,
			    strerror(error));
		return cause_fail(cause, error, "%s/control.sock: connect: %s",
		    run, strerror(error));
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		error = errno;
		close(fd);
		return cause_fail(cause, CLIENT_EUNTRUSTED, "%s/control.sock: "
		    "cannot check who listens (SO_PEERCRED: %s)", run,
		    strerror(error));
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		close(fd);
		return cause_fail(cause, CLIENT_EUNTRUSTED, "%s/control.sock: "
		    "the daemon runs as uid %lu, not %lu%s (refusing to talk to "
		    "it)", run, (unsigned long)cred.uid,
		    (unsigned long)geteuid(), geteuid() != 0 ? " or root" : "");
	}
	return fd;
}

/*
 * Opens R as the daemon would accept it. -1 with ENOENT when it (or an
 * ancestor) does not exist, CLIENT_EUNTRUSTED when it exists and is unsafe.
 */
static int
open_run(const char *run, int flags, char **cause)
{
	char *why = NULL;
	int dirfd, error;

	if ((dirfd = privdir_path(run, flags, &why)) != -1)
		return dirfd;
	error = errno;
	if (error == ENOENT && !(flags & PRIVDIR_CREATE))
		cause_fail(cause, ENOENT, "no agentd is running for %s (%s)",
		    run, why ? why : strerror(ENOENT));
	else if (error == ELOOP || error == ENOTDIR || error == EPERM ||
	    error == EINVAL)
		cause_fail(cause, CLIENT_EUNTRUSTED, "untrusted runtime "
		    "directory: %s", why ? why : strerror(error));
	else
		cause_fail(cause, error, "%s", why ? why : strerror(error));
	free(why);
	return -1;
}

static long long
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what fd gives until EOF, for at most ms; *timedout says which. */
static void
read_until_eof(int fd, char *buf, size_t len, int ms, int *timedout)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long deadline = client_now_ms() + ms, left;
	size_t have = 0;
	ssize_t n;
	int r;

	*timedout = 0;
	while (have < len - 1) {
		if ((left = deadline - client_now_ms()) <= 0) {
			*timedout = 1;
			break;
		}
		if ((r = poll(&pfd, 1, (int)left)) <= 0)
			continue;	/* EINTR, or the deadline: checked above */
		if ((n = read(fd, buf + have, len - 1 - have)) == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
}

/*
 * Runs `agentd serve`, which returns once its daemon listens, or has failed
 * and gone (serve itself bounds the wait: see cmd-serve.c). Its stderr comes
 * back to us: its reason becomes our one line.
 */
static int
spawn_server(char **cause)
{
	char a0[] = "agentd", adir[] = "--dir", aserve[] = "serve";
	char dir[PATH_MAX], *argv[6], msg[1024], *p;
	int argc = 0, status, pfd[2], timedout, secs;
	pid_t pid;

	argv[argc++] = a0;
	if (dir_opt != NULL) {
		strlcpy(dir, dir_opt, sizeof(dir));
		argv[argc++] = adir;
		argv[argc++] = dir;
	}
	argv[argc++] = aserve;
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return cause_fail(cause, errno, "cannot start the daemon: %s",
		    strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(pfd[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "agentd: cannot run the daemon: %s\n",
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	/* serve gives up after client_timeout_ms(); we allow a little more,
	 * then end it ourselves. */
	secs = client_timeout_ms() / 1000 + CLIENT_SPAWN_SLACK_S;
	read_until_eof(pfd[0], msg, sizeof(msg), secs * 1000, &timedout);
	close(pfd[0]);
	if (timedout)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	if (timedout)
		return cause_fail(cause, ETIMEDOUT, "the daemon did not start "
		    "within %d s", secs);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		p = msg;
		if (strncmp(p, "agentd serve: ", 14) == 0)
			p += 14;
		p[strcspn(p, "\n")] = '\0';
		return cause_fail(cause, EIO, "%s", *p ? p :
		    "could not start the agentd daemon");
	}
	return 0;
}

int
client_connect(const struct roots *r, int flags, char **cause)
{
	int fd, dirfd, lockfd, error;

	*cause = NULL;
	if ((dirfd = open_run(r->run, 0, cause)) != -1) {
		fd = try_connect(r->run, dirfd, cause);
		error = errno;
		close(dirfd);
		if (fd != -1)
			return fd;
		errno = error;
	}
	/* Only "nothing is there" may start a daemon or read as not running;
	 * an unsafe directory or a stranger on the socket is refused. */
	if (errno != ENOENT && errno != ECONNREFUSED)
		return -1;
	if (!(flags & CLIENT_AUTOSTART)) {
		errno = ENOTCONN;
		return -1;
	}
	free(*cause);
	*cause = NULL;
	/* The state root first: R may lie inside it (AGENTD_DIR), and an
	 * unsafe one must be refused untouched, not after we made R in it. */
	if ((dirfd = privdir_path(r->state, PRIVDIR_CREATE, cause)) == -1)
		return -1;
	close(dirfd);
	if ((dirfd = open_run(r->run, PRIVDIR_CREATE, cause)) == -1)
		return -1;
	/* Concurrent starters queue here, so exactly one of them spawns. */
	lockfd = openat(dirfd, "start.lock", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (lockfd == -1 || flock(lockfd, LOCK_EX) == -1) {
		error = errno;
		if (lockfd != -1)
			close(lockfd);
		close(dirfd);
		return cause_fail(cause, error, "%s/start.lock: %s", r->run,
		    strerror(error));
	}
	fd = try_connect(r->run, dirfd, cause);
	if (fd == -1 && (errno == ENOENT || errno == ECONNREFUSED)) {
		free(*cause);
		*cause = NULL;
		if (spawn_server(cause) == 0 &&
		    (fd = try_connect(r->run, dirfd, cause)) == -1 &&
		    (errno == ENOENT || errno == ECONNREFUSED)) {
			free(*cause);
			cause_fail(cause, EIO, "agentd started but %s/control.sock "
			    "does not answer", r->run);
		}
	}
	error = errno;
	close(lockfd);
	close(dirfd);
	errno = error;
	return fd;
}

const char	*client_wait_note;

cJSON *
client_call(const struct roots *r, cJSON *req, int flags, char **cause)
{
	struct pollfd pfd;
	cJSON *reply = NULL;
	const char *err;
	char *text, *body = NULL;
	size_t bodylen;
	int fd, ms, rc;

	*cause = NULL;
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (text == NULL) {
		*cause = strdup("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if ((fd = client_connect(r, flags, cause)) == -1) {
		free(text);
		return NULL;	/* errno: ENOTCONN when no daemon runs */
	}
	ms = client_timeout_ms();
	if (flags & CLIENT_WAIT_STOP)
		ms += 2 * STOP_GRACE_S * 1000;
	/* A wait that lasts: say what we wait for (a poll reads nothing). */
	pfd.fd = fd;
	pfd.events = POLLIN;
	if ((rc = ctlmsg_send(fd, text, strlen(text))) == 0 &&
	    (flags & CLIENT_WAIT_STOP) && client_wait_note != NULL &&
	    poll(&pfd, 1, CLIENT_NOTE_AFTER_MS) == 0)
		fprintf(stderr, "%s\n", client_wait_note);
	if (rc == -1 || ctlmsg_recv(fd, &body, &bodylen, ms) == -1) {
		if (errno == ETIMEDOUT)
			cause_fail(cause, EPROTO, "%s/control.sock: no answer "
			    "from the daemon within %d s", r->run, ms / 1000);
		else if (errno == ECONNRESET || errno == EPIPE)
			cause_fail(cause, EPROTO, "%s/control.sock: the daemon "
			    "closed the connection", r->run);
		else if (errno == EMSGSIZE)
			cause_fail(cause, EPROTO, "%s/control.sock: malformed "
			    "reply from the daemon (bad length)", r->run);
		else
			cause_fail(cause, EPROTO, "%s/control.sock: %s", r->run,
			    strerror(errno));
		goto out;
	}
	reply = cJSON_ParseWithLength(body, bodylen);
	if (reply == NULL || !cJSON_IsObject(reply)) {
		cause_fail(cause, EPROTO, "%s/control.sock: malformed reply "
		    "from the daemon", r->run);
		cJSON_Delete(reply);
		reply = NULL;
		goto out;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		err = ctlmsg_get_str(reply, "error");
		*cause = strdup(err != NULL ? err : "request failed");
		cJSON_Delete(reply);
		reply = NULL;
	}
out:
	free(text);
	free(body);
	close(fd);
	if (reply == NULL)
		errno = EPROTO;
	return reply;
}
