/*
 * agentd shell: run a command (default: the login shell) linked to a
 * session, recorded by the daemon. Like ssh, on a PTY that the daemon owns
 * when our stdin is a terminal (-t forces one, -T forbids it; the last of
 * them wins, as with ssh), on pipes otherwise. This process hands its stdin
 * and stdout (and stderr, on pipes) to the daemon; with a PTY it puts a
 * terminal in raw mode (so ^C, ^Z, ^D reach the command) and forwards
 * window-size changes. It exits with the command's status. Raw mode and the
 * descriptors' flags are restored on every way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "escape.h"

static struct termios	saved_tio;
static int		tio_saved;
static int		saved_fl[3] = { -1, -1, -1 };

static void
restore_terminal(void)
{
	if (tio_saved) {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		tio_saved = 0;
	}
	if (saved_fl[0] != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, saved_fl[0]);
	if (saved_fl[1] != -1)
		(void)fcntl(STDOUT_FILENO, F_SETFL, saved_fl[1]);
	if (saved_fl[2] != -1)
		(void)fcntl(STDERR_FILENO, F_SETFL, saved_fl[2]);
}

static void
window_size(unsigned *cols, unsigned *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if ((ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) &&
	    ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* The daemon polls what it is given: a stdin that cannot be polled (a
 * regular file, /dev/null) goes through a pipe and a copier child. Such a
 * stdout is given as it is: the daemon writes to it without polling. */
static int
pollable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode) || isatty(fd));
}

static pid_t
copier(int from, int to, int other)
{
	char buf[65536];
	ssize_t n, w, off;
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	close(other);	/* the pipe's other end: EOF must be able to come */
	signal(SIGPIPE, SIG_DFL);
	while ((n = read(from, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w) {
			if ((w = write(to, buf + off, (size_t)(n - off))) <= 0)
				_exit(1);
		}
	}
	_exit(n == 0 ? 0 : 1);
}

int
cmd_shell(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 'S' },
		{ "net", required_argument, NULL, 'N' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const pass_env[] = { "TERM", "PATH", "LANG",
	    "LC_ALL", "LC_CTYPE", "COLORTERM" };
	const char *session = getenv("AGENTD_SESSION"), *v, *err;
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	struct roots roots;
	struct termios raw;
	unsigned cols, rows;
	cJSON *req, *env, *args, *msg;
	char *cause = NULL, *text, *body, cwd[PATH_MAX];
	size_t i, bodylen;
	sigset_t set;
	pid_t stdin_copier = -1;
	int ch, fd, fds[3], nfds, p[2], sfd, rc = 1, status, tty = -1;
	int quiet = 0;
	const char *net = NULL;
	char *sid = NULL, *end_reason = NULL;

	while ((ch = getopt_long(argc, argv, "+:hqtT", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			quiet = 1;
			break;
		case 't':
			tty = 1;
			break;
		case 'T':
			tty = 0;
			break;
		case 'S':
			session = optarg;
			break;
		case 'N':
			if (strcmp(optarg, "gate") != 0)
				die_usage("shell", "--net: only 'gate' is known");
			net = optarg;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("shell");
			return 0;
		default:
			die_getopt("shell", ch, argv);
		}
	}
	if (session == NULL || *session == '\0')
		die_usage("shell", "no session: use --session ID or set "
		    "AGENTD_SESSION (agentd start prints it)");
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd shell: %s\n", escape_term_str(cause));
		return 1;
	}

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "shell");
	cJSON_AddStringToObject(req, "session", session);
	if (net != NULL)
		cJSON_AddStringToObject(req, "net", net);
	if (optind < argc) {
		args = cJSON_AddArrayToObject(req, "argv");
		for (ch = optind; ch < argc; ch++)
			cJSON_AddItemToArray(args, cJSON_CreateString(argv[ch]));
	}
	if (tty == -1)
		tty = isatty(STDIN_FILENO);
	cJSON_AddBoolToObject(req, "tty", tty);
	window_size(&cols, &rows);
	cJSON_AddNumberToObject(req, "cols", cols);
	cJSON_AddNumberToObject(req, "rows", rows);
	if (getcwd(cwd, sizeof(cwd)) != NULL)
		cJSON_AddStringToObject(req, "cwd", cwd);
	env = cJSON_AddObjectToObject(req, "env");
	for (i = 0; i < sizeof(pass_env) / sizeof(pass_env[0]); i++) {
		if ((v = getenv(pass_env[i])) != NULL)
			cJSON_AddStringToObject(env, pass_env[i], v);
	}
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);

	fds[0] = STDIN_FILENO;
	fds[1] = STDOUT_FILENO;
	fds[2] = STDERR_FILENO;
	nfds = tty ? 2 : 3;
	/* On pipes the command reads our stdin itself, whatever it is. */
	if (tty && !pollable(STDIN_FILENO)) {
		if (pipe(p) == -1) {
			perror("agentd shell: pipe");
			return 1;
		}
		stdin_copier = copier(STDIN_FILENO, p[1], p[0]);
		fds[0] = p[0];
		close(p[1]);
	}
	if ((fd = client_connect(&roots, 0, &cause)) == -1) {
		fprintf(stderr, "agentd shell: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		goto out;
	}
	saved_fl[0] = fcntl(STDIN_FILENO, F_GETFL);
	saved_fl[1] = fcntl(STDOUT_FILENO, F_GETFL);
	saved_fl[2] = fcntl(STDERR_FILENO, F_GETFL);
	atexit(restore_terminal);
	if (text == NULL || ctlmsg_send_fds(fd, text, strlen(text), fds, nfds) == -1 ||
	    ctlmsg_recv(fd, &body, &bodylen, 60000) == -1) {
		fprintf(stderr, "agentd shell: control socket: %s\n",
		    strerror(errno));
		goto out;
	}
	/* The pipe's read end is the daemon's now. */
	if (fds[0] != STDIN_FILENO)
		close(fds[0]);
	msg = cJSON_ParseWithLength(body, bodylen);
	free(body);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
		uint64_t code;
		err = ctlmsg_get_str(msg, "error");
		/* A policy's own words (recording required): shown as they are. */
		if ((v = ctlmsg_get_str(msg, "message")) != NULL)
			fprintf(stderr, "%s\n", escape_term_str(v));
		else
			fprintf(stderr, "agentd shell: %s\n",
			    err ? escape_term_str(err) : "refused");
		if (ctlmsg_get_uint(msg, "exit_status", 1, 255, &code) == 0)
			rc = (int)code;
		cJSON_Delete(msg);
		goto out;
	}
	/*
	 * Like script(1) and asciinema rec, say where the recording goes, once;
	 * on a terminal only (and not with -q): a linked command in a pipe
	 * keeps its stderr its own, as with ssh host cmd.
	 */
	if ((v = ctlmsg_get_str(msg, "session")) != NULL)
		sid = strdup(v);
	if (!quiet && isatty(STDERR_FILENO) &&
	    (v = ctlmsg_get_str(msg, "recording")) != NULL)
		fprintf(stderr, "agentd shell: recording to %s\n",
		    escape_term_str(v));
	cJSON_Delete(msg);

	if (tty && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		tio_saved = 1;
		raw = saved_tio;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		goto out;
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo != SIGWINCH)
				break;	/* we are told to go: the daemon hangs up */
			if (!tty)
				continue;	/* no terminal to resize */
			window_size(&cols, &rows);
			req = cJSON_CreateObject();
			cJSON_AddStringToObject(req, "cmd", "resize");
			cJSON_AddNumberToObject(req, "cols", cols);
			cJSON_AddNumberToObject(req, "rows", rows);
			free(text);
			text = cJSON_PrintUnformatted(req);
			cJSON_Delete(req);
			if (text != NULL)
				(void)ctlmsg_send(fd, text, strlen(text));
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (ctlmsg_recv(fd, &body, &bodylen, 10000) == -1) {
				restore_terminal();
				fprintf(stderr, "agentd shell: the daemon went "
				    "away\n");
				break;
			}
			msg = cJSON_ParseWithLength(body, bodylen);
			free(body);
			v = ctlmsg_get_str(msg, "event");
			if (v != NULL && strcmp(v, "message") == 0 &&
			    (err = ctlmsg_get_str(msg, "text")) != NULL)
				fprintf(stderr, tty ? "\r\n%s\r\n" : "%s\n",
				    escape_term_str(err));
			if (v != NULL && strcmp(v, "exit") == 0) {
				uint64_t code;
				if (ctlmsg_get_uint(msg, "exit_status", 0, 255,
				    &code) == 0)
					rc = (int)code;
				else if (ctlmsg_get_uint(msg, "signal", 1, 64,
				    &code) == 0)
					rc = 128 + (int)code;
				if ((v = ctlmsg_get_str(msg, "session_end")) !=
				    NULL)
					end_reason = strdup(v);
				cJSON_Delete(msg);
				break;
			}
			cJSON_Delete(msg);
		}
	}
out:
	restore_terminal();
	/* The session ended under the shell: one line, like ssh's
	 * "Connection to HOST closed.", on a terminal unless -q. */
	if (end_reason != NULL && !quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "agentd shell: session %s %s\n",
		    sid ? escape_term_str(sid) : "?",
		    strcmp(end_reason, "ttl_expired") == 0 ? "expired" :
		    strcmp(end_reason, "requested") == 0 ? "stopped" :
		    strcmp(end_reason, "supervisor_shutdown") == 0 ?
		    "ended: agentd shut down" : "ended");
	free(end_reason);
	free(sid);
	free(text);
	free(cause);
	if (stdin_copier > 0) {
		kill(stdin_copier, SIGTERM);
		while (waitpid(stdin_copier, &status, 0) == -1 && errno == EINTR)
			;
	}
	return rc;
}
