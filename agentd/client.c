/* client: how the verbs reach the daemon, starting it when needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "privdir.h"

#define CLIENT_REPLY_TIMEOUT_MS	60000	/* a stop waits up to 2 x 5 s */

static int
try_connect(const char *run)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/control.sock", run) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Runs `agentd serve`, which returns once its daemon listens (or failed). */
static int
spawn_server(char **cause)
{
	char a0[] = "agentd", adir[] = "--dir", aserve[] = "serve";
	char dir[PATH_MAX], *argv[6], msg[1024], *p;
	size_t have = 0;
	ssize_t n;
	int argc = 0, status, pfd[2];
	pid_t pid;

	argv[argc++] = a0;
	if (dir_opt != NULL) {
		strlcpy(dir, dir_opt, sizeof(dir));
		argv[argc++] = adir;
		argv[argc++] = dir;
	}
	argv[argc++] = aserve;
	argv[argc] = NULL;
	/* serve's stderr comes back to us: its reason becomes our one line. */
	if (pipe2(pfd, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		if (asprintf(cause, "cannot start the daemon: %s",
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(pfd[1], STDERR_FILENO);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "agentd: cannot run the daemon: %s\n",
		    strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while (have < sizeof(msg) - 1 &&
	    (n = read(pfd[0], msg + have, sizeof(msg) - 1 - have)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		have += (size_t)n;
	}
	msg[have] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			break;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		p = msg;
		if (strncmp(p, "agentd serve: ", 14) == 0)
			p += 14;
		p[strcspn(p, "\n")] = '\0';
		if (asprintf(cause, "%s", *p ? p :
		    "could not start the agentd daemon") == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

int
client_connect(const struct roots *r, int autostart, char **cause)
{
	int fd, dirfd, lockfd;

	if ((fd = try_connect(r->run)) != -1)
		return fd;
	if (!autostart || (errno != ENOENT && errno != ECONNREFUSED)) {
		if (asprintf(cause, "no agentd is running for %s (%s)", r->run,
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	/* The state root first: R may lie inside it (AGENTD_DIR), and an
	 * unsafe one must be refused untouched, not after we made R in it. */
	if ((dirfd = privdir_path(r->state, PRIVDIR_CREATE, cause)) == -1)
		return -1;
	close(dirfd);
	if ((dirfd = privdir_path(r->run, PRIVDIR_CREATE, cause)) == -1)
		return -1;
	/* Concurrent starters queue here, so exactly one of them spawns. */
	lockfd = openat(dirfd, "start.lock", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	close(dirfd);
	if (lockfd == -1 || flock(lockfd, LOCK_EX) == -1) {
		if (asprintf(cause, "%s/start.lock: %s", r->run,
		    strerror(errno)) == -1)
			*cause = NULL;
		if (lockfd != -1)
			close(lockfd);
		return -1;
	}
	if ((fd = try_connect(r->run)) == -1 && spawn_server(cause) == 0 &&
	    (fd = try_connect(r->run)) == -1) {
		if (asprintf(cause, "agentd started but %s/control.sock does "
		    "not answer: %s", r->run, strerror(errno)) == -1)
			*cause = NULL;
	}
	close(lockfd);
	return fd;
}

cJSON *
client_call(const struct roots *r, cJSON *req, int autostart, char **cause)
{
	cJSON *reply = NULL;
	const char *err;
	char *text, *body = NULL;
	size_t bodylen;
	int fd;

	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (text == NULL) {
		*cause = strdup("out of memory");
		return NULL;
	}
	if ((fd = client_connect(r, autostart, cause)) == -1) {
		free(text);
		errno = ENOTCONN;
		return NULL;
	}
	if (ctlmsg_send(fd, text, strlen(text)) == -1 ||
	    ctlmsg_recv(fd, &body, &bodylen, CLIENT_REPLY_TIMEOUT_MS) == -1) {
		if (asprintf(cause, "%s/control.sock: %s", r->run,
		    errno == ECONNRESET ? "daemon closed the connection" :
		    strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	reply = cJSON_ParseWithLength(body, bodylen);
	if (reply == NULL || !cJSON_IsObject(reply)) {
		*cause = strdup("malformed reply from the daemon");
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
