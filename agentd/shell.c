/*
 * shell: linked shells (DESIGN §6). The daemon owns the PTY: it spawns the
 * command on the slave side with the session's SSH_AUTH_SOCK, relays the
 * master to the client's own stdin/stdout (passed over the control socket,
 * so output goes straight to the caller's terminal with one copy), and
 * records every output chunk as asciicast v2. The control connection stays
 * open for resizes and carries the exit status back at the end; when it
 * closes early (the client died), the shell is hung up.
 *
 * Without a terminal (the client's stdin is not one, or -T), no PTY: the
 * command reads the client's stdin itself, and its stdout and stderr are two
 * pipes of ours, each recorded and passed to the client's stdout or stderr.
 *
 * Flow control is the terminal's own: while the client's stdout does not take
 * more, the master (or pipe) is not read, so the program blocks in write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>

#include "auditlog.h"
#include "bq.h"
#include "escape.h"
#include "privdir.h"
#include "recorder.h"
#include "server.h"

#define DRAIN_NS	(200 * 1000000ull)	/* output after exit, see below */
#define SHELL_MAX_ARGS	256
#define MAX_SHELLS	64			/* per session */
#define SHELL_READ	(16 * 1024)	/* a PTY hands out at most 4 KiB */
#define CTL_BATCH	16		/* control frames per wake-up */
#define RESIZE_GAP_NS	(100 * 1000000ull)	/* at most 10 resizes/s */

static void	shell_update(struct shell *);
static void	shell_finish(struct shell *);
static void	shell_launch(struct shell *, struct ctlconn *, char **argv,
		    char **envp, const char *cwd);
static void	shell_rec_cb(void *, enum recorder_status);

/* --- spawning ------------------------------------------------------------- */

/*
 * The roots of this daemon as the variables that make roots_resolve() find
 * them again (DESIGN §6: agentd and auditctl inside a linked shell reach the
 * same daemon and log): AGENTD_DIR when R is S/run, else XDG_RUNTIME_DIR
 * and XDG_STATE_HOME where they are not the defaults. Returns how many
 * entries it pushed into e, or -1.
 */
static int
shell_env_roots(char **e, const struct passwd *pw)
{
	const struct roots *r = &server->roots;
	size_t slen = strlen(r->state), rlen = strlen(r->run);
	char def[PATH_MAX];
	int n = 0;

	if (rlen == slen + 4 && strncmp(r->run, r->state, slen) == 0 &&
	    strcmp(r->run + slen, "/run") == 0)
		return asprintf(&e[0], "AGENTD_DIR=%s", r->state) == -1 ?
		    -1 : 1;
	if (rlen > 7 && strcmp(r->run + rlen - 7, "/agentd") == 0) {
		if (asprintf(&e[n], "XDG_RUNTIME_DIR=%.*s", (int)(rlen - 7),
		    r->run) == -1)
			return -1;
		n++;
	}
	snprintf(def, sizeof(def), "%s/.local/state/agentd", pw->pw_dir);
	if (strcmp(r->state, def) != 0 && slen > 7 &&
	    strcmp(r->state + slen - 7, "/agentd") == 0) {
		if (asprintf(&e[n], "XDG_STATE_HOME=%.*s", (int)(slen - 7),
		    r->state) == -1) {
			while (n > 0)
				free(e[--n]);
			return -1;
		}
		n++;
	}
	return n;
}

/* The environment a linked command gets: nothing of the daemon's, only what
 * a login would set plus the session and the daemon's roots, and the
 * caller's TERM, PATH, LANG, LC_ALL, LC_CTYPE, COLORTERM (agentd(1)). */
static char **
shell_env(const struct session *se, const cJSON *req, const struct passwd *pw)
{
	static const char *const from_client[] = { "TERM", "PATH", "LANG",
	    "LC_ALL", "LC_CTYPE", "COLORTERM" };
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(req, "env");
	const char *v;
	char **e;
	size_t n = 0, i;
	int nr;

	if ((e = calloc(24, sizeof(*e))) == NULL)
		return NULL;
#define PUSH(...) do { if (asprintf(&e[n], __VA_ARGS__) == -1) goto fail; n++; } while (0)
	PUSH("SSH_AUTH_SOCK=%s", se->sock_path);
	PUSH("AGENTD_SESSION=%s", se->id);
	if ((v = gate_config_path(se)) != NULL) {
		/* The path holds no quote: gate_open refuses one. */
		PUSH("AGENTD_SSH_CONFIG=%s", v);
		PUSH("GIT_SSH_COMMAND=ssh -F '%s'", v);
	}
	PUSH("HOME=%s", pw->pw_dir);
	PUSH("USER=%s", pw->pw_name);
	PUSH("LOGNAME=%s", pw->pw_name);
	PUSH("SHELL=%s", pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
	if ((nr = shell_env_roots(e + n, pw)) == -1)
		goto fail;
	n += (size_t)nr;
	for (i = 0; i < sizeof(from_client) / sizeof(from_client[0]); i++) {
		if ((v = ctlmsg_get_str(env, from_client[i])) != NULL &&
		    strchr(v, '\n') == NULL)
			PUSH("%s=%s", from_client[i], v);
		else if (strcmp(from_client[i], "PATH") == 0)
			PUSH("PATH=/usr/local/bin:/usr/bin:/bin");
		else if (strcmp(from_client[i], "TERM") == 0)
			PUSH("TERM=dumb");
	}
#undef PUSH
	return e;
fail:
	for (i = 0; i < n; i++)
		free(e[i]);
	free(e);
	return NULL;
}

static void
free_strv(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The program to run: argv from the request, or the user's login shell. */
static char **
shell_argv(const cJSON *req, const struct passwd *pw, char **cause)
{
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(req, "argv"), *a;
	char **v;
	int n = 0;

	if (args != NULL && (!cJSON_IsArray(args) ||
	    cJSON_GetArraySize(args) < 1 ||
	    cJSON_GetArraySize(args) > SHELL_MAX_ARGS)) {
		*cause = strdup("argv: must be a non-empty array of strings");
		return NULL;
	}
	if ((v = calloc(args ? (size_t)cJSON_GetArraySize(args) + 1 : 2,
	    sizeof(*v))) == NULL)
		return NULL;
	if (args == NULL) {
		v[0] = strdup(pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
		return v;
	}
	cJSON_ArrayForEach(a, args) {
		if (!cJSON_IsString(a) || (v[n++] = strdup(a->valuestring)) == NULL) {
			free_strv(v);
			*cause = strdup("argv: must be a non-empty array of strings");
			return NULL;
		}
	}
	return v;
}

static char *
join_argv(char **argv)
{
	struct jsonw w;
	char *s;
	size_t i;

	/* A display string only: the exact argv goes to the log as an array. */
	jsonw_init(&w);
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			jsonw_raw(&w, " ", 1);
		jsonw_raw(&w, argv[i], strlen(argv[i]));
	}
	s = jsonw_ok(&w) && w.buf != NULL ? strdup(w.buf) : strdup("");
	jsonw_free(&w);
	return s;
}

/* Opens S/recordings/<session> (0700, made on first use). */
static int
recordings_dir(struct session *se, char **cause)
{
	char shown[PATH_MAX + 64];
	int top;

	if (se->recdirfd != -1)
		return se->recdirfd;
	snprintf(shown, sizeof(shown), "%s/recordings", server->roots.state);
	if ((top = privdir_at(server->statedirfd, "recordings", shown,
	    PRIVDIR_CREATE, cause)) == -1)
		return -1;
	snprintf(shown, sizeof(shown), "%s/recordings/%s", server->roots.state,
	    se->id);
	se->recdirfd = privdir_at(top, se->id, shown, PRIVDIR_CREATE, cause);
	close(top);
	return se->recdirfd;
}

static void	shell_ptm_cb(struct evh *, uint32_t);
static void	shell_in_cb(struct evh *, uint32_t);
static void	shell_out_cb(struct evh *, uint32_t);
static void	shell_src_cb(struct evh *, uint32_t);
static void	shell_ctl_cb(struct evh *, uint32_t);
static void	shell_pid_cb(struct evh *, uint32_t);

/* Registers fd for events, or notes that it cannot be polled (a regular file
 * is always ready): 1 pollable, 0 not, so the caller does plain I/O. */
static int
shell_watch(int fd, uint32_t events, struct evh *h)
{
	if (ev_try_add(fd, events, h) == 0)
		return 1;
	return errno == EPERM ? 0 : -1;
}

static int
shell_spawn(struct shell *sh, char **argv, char **envp, const char *cwd,
    char **cause)
{
	struct winsize ws = { .ws_col = (unsigned short)sh->cols,
	    .ws_row = (unsigned short)sh->rows };
	struct termios t;
	char slave[128], go;
	int sync[2], op[2] = { -1, -1 }, ep[2] = { -1, -1 }, sfd, i, err;
	int gs[2] = { -1, -1 };
	pid_t pid, daemon_pid = getpid();

	if (sh->tty) {
		if ((sh->ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
		    grantpt(sh->ptm) == -1 || unlockpt(sh->ptm) == -1 ||
		    ptsname_r(sh->ptm, slave, sizeof(slave)) != 0 ||
		    ioctl(sh->ptm, TIOCSWINSZ, &ws) == -1)
			goto fail;
		/*
		 * Piped input on a PTY, as under script(1): not echoed (a
		 * passphrase in it stays out of the cast), and the slave held
		 * so that we see when the command has read all of it.
		 */
		if (!sh->in_tty && ((sh->pts = open(slave, O_RDWR | O_NOCTTY |
		    O_CLOEXEC | O_NONBLOCK)) == -1 || tcgetattr(sh->pts, &t) == -1))
			goto fail;
		if (!sh->in_tty) {
			t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			if (tcsetattr(sh->pts, TCSANOW, &t) == -1)
				goto fail;
		}
	} else if (pipe2(op, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1)
		goto fail;
	if (pipe2(sync, O_CLOEXEC) == -1)
		goto fail;
	if (sh->net_gate && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, gs) == -1) {
		close(sync[0]);
		close(sync[1]);
		goto fail;
	}
	if ((pid = server_fork()) == -1) {
		close(sync[0]);
		close(sync[1]);
		if (gs[0] != -1) {
			close(gs[0]);
			close(gs[1]);
		}
		goto fail;
	}
	if (pid == 0) {
		/* Child: its own session, with the slave as controlling tty or
		 * with no terminal at all (pipes, like ssh -T). */
		close(sync[1]);
		if (setsid() == -1)
			_exit(127);
		if (sh->tty && ((sfd = open(slave, O_RDWR)) == -1 ||
		    ioctl(sfd, TIOCSCTTY, 0) == -1 ||
		    dup2(sfd, STDIN_FILENO) == -1 ||
		    dup2(sfd, STDOUT_FILENO) == -1 ||
		    dup2(sfd, STDERR_FILENO) == -1))
			_exit(127);
		/*
		 * On pipes, stdin is the client's own: its EOF is the end. No
		 * terminal hangs the command up if we die, so the death signal
		 * does (set, then check: we may have died already).
		 */
		if (!sh->tty && (prctl(PR_SET_PDEATHSIG, SIGHUP) == -1 ||
		    getppid() != daemon_pid ||
		    dup2(sh->in_fd, STDIN_FILENO) == -1 ||
		    dup2(op[1], STDOUT_FILENO) == -1 ||
		    dup2(ep[1], STDERR_FILENO) == -1))
			_exit(127);
		/* --net gate: its own namespace, the gate's listeners only. */
		if (sh->net_gate && gate_child_netns(sh->se, gs[1]) == -1) {
			err = errno;
			dprintf(STDERR_FILENO, "agentd shell: --net gate: cannot "
			    "isolate the network: %s%s", strerror(err),
			    sh->tty ? "\r\n" : "\n");
			_exit(126);
		}
		/* Wait until shell_started is durable (or the daemon gives up). */
		if (read(sync[0], &go, 1) != 1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		if (cwd == NULL || chdir(cwd) == -1)
			(void)chdir("/");
		execvpe(argv[0], argv, envp);
		err = errno;
		dprintf(STDERR_FILENO, "agentd shell: %s: %s%s",
		    escape_term_str(argv[0]), strerror(err),
		    sh->tty ? "\r\n" : "\n");
		/* As the shells do: 127 not found, 126 found but not run. */
		_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
	}
	close(sync[0]);
	sh->sync_fd = sync[1];
	sh->pid = pid;
	if (gs[0] != -1) {
		close(gs[1]);
		if (gate_shell_attach(sh, gs[0]) == -1)
			close(gs[0]);
	}
	if (sh->tty)
		sh->out[0].src = sh->ptm;
	else {
		close(op[1]);
		close(ep[1]);
		sh->out[0].src = op[0];
		sh->out[1].src = ep[0];
		close(sh->in_fd);	/* the command's now */
		sh->in_fd = -1;
	}
	for (i = 0; i < 2; i++) {
		if (sh->out[i].src != -1)
			(void)fcntl(sh->out[i].src, F_SETFL, O_NONBLOCK);
		else
			sh->out[i].eof = true;
	}
	if ((sh->pidfd = pidfd_open(pid, 0)) == -1) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		if (asprintf(cause, "pidfd_open: %s", strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
fail:
	if (asprintf(cause, "cannot allocate a %s: %s", sh->tty ? "terminal" :
	    "pipe", strerror(errno)) == -1)
		*cause = NULL;
	for (i = 0; i < 2; i++) {
		if (op[i] != -1)
			close(op[i]);
		if (ep[i] != -1)
			close(ep[i]);
	}
	return -1;
}

static void
shell_started_reply(struct jsonw *w, void *arg)
{
	struct shell *sh = arg;

	jsonw_str(w, "session", sh->se->id);
	jsonw_int(w, "shell", sh->n);
	jsonw_int(w, "pid", sh->pid);
	jsonw_str(w, "recording", sh->recording);
}

static void
shell_free(struct shell *sh)
{
	struct session *se = sh->se;
	struct shell_out *o;
	int i;

	for (i = 0; i < 2; i++) {
		o = &sh->out[i];
		if (o->src != -1 && o->src != sh->ptm) {
			ev_del(o->src);
			close(o->src);
		}
		if (o->fd != -1) {
			if (o->polled)
				ev_del(o->fd);
			close(o->fd);
		}
		bq_free(&o->q);
	}
	if (sh->ptm != -1) {
		ev_del(sh->ptm);
		close(sh->ptm);
	}
	if (sh->pts != -1)
		close(sh->pts);
	if (sh->pidfd != -1) {
		ev_del(sh->pidfd);
		close(sh->pidfd);
	}
	if (sh->in_fd != -1) {
		if (sh->in_polled)
			ev_del(sh->in_fd);
		close(sh->in_fd);
	}
	if (sh->ctl_fd != -1) {
		ev_del(sh->ctl_fd);
		close(sh->ctl_fd);
	}
	if (sh->sync_fd != -1)
		close(sh->sync_fd);
	gate_shell_gone(sh);
	if (sh->rec != NULL)
		recorder_close(sh->rec);
	free_strv(sh->start_argv);
	free_strv(sh->start_envp);
	free(sh->start_cwd);
	ctlmsg_in_reset(&sh->ctlin);
	bq_free(&sh->to_pty);
	free(sh->recording);
	TAILQ_REMOVE(&se->shells, sh, entry);
	se->nshells--;
	ev_free_later(sh);
}

/* Removes a shell that never ran (its recording too); se may be gone after. */
static void
shell_abandon(struct shell *sh)
{
	struct session *se = sh->se;
	char name[32];

	if (sh->recording_open) {
		sh->recording_open = false;
		(void)cast_close(&sh->cast);
		snprintf(name, sizeof(name), "%d.cast", sh->n);
		(void)unlinkat(se->recdirfd, name, 0);
	}
	if (sh->pid > 0) {
		kill(sh->pid, SIGKILL);
		(void)waitpid(sh->pid, NULL, 0);
	}
	shell_free(sh);
	session_shell_gone(se);
}

/* Each line of the local cast also goes to the remote recorder. */
static void
shell_cast_line(void *arg, const char *line, size_t len)
{
	struct shell *sh = arg;

	if (sh->rec != NULL)
		recorder_write(sh->rec, line, len);
}

/* Spawns the command, logs shell_started, lets it run, answers c. */
static void
shell_launch(struct shell *sh, struct ctlconn *c, char **argv, char **envp,
    const char *cwd)
{
	struct session *se = sh->se;
	struct shell_out *o;
	struct jsonw *w;
	char *cause = NULL;
	int i;

	if (shell_spawn(sh, argv, envp, cwd, &cause) == -1)
		goto fail;

	/* Fail closed: the command runs only once the log shows it. */
	w = auditlog_begin(server->log, "shell_started", se->id);
	jsonw_int(w, "shell", sh->n);
	jsonw_int(w, "pid", sh->pid);
	jsonw_array_begin(w, "command");
	for (i = 0; argv[i] != NULL; i++)
		jsonw_str(w, NULL, argv[i]);
	jsonw_array_end(w);
	jsonw_bool(w, "tty", sh->tty);
	if (sh->net_gate)
		jsonw_str(w, "net", "gate");
	jsonw_str(w, "recording", sh->recording);
	if (auditlog_commit(server->log, &cause) == -1) {
		kill(sh->pid, SIGKILL);
		(void)waitpid(sh->pid, NULL, 0);
		sh->pid = 0;
		goto fail;
	}
	sh->logged = true;
	if (write(sh->sync_fd, "g", 1) != 1)
		log_warn("shell %d of %s: cannot release the child", sh->n,
		    se->id);
	close(sh->sync_fd);
	sh->sync_fd = -1;

	/* The connection is the shell's from here: resizes in, status out. */
	sh->ctl_fd = ctl_take_over(c);
	sh->ptm_ev.cb = shell_ptm_cb;
	sh->in_ev.cb = shell_in_cb;
	sh->ctl_ev.cb = shell_ctl_cb;
	sh->pid_ev.cb = shell_pid_cb;
	ev_add(sh->pidfd, EPOLLIN, &sh->pid_ev);
	ev_add(sh->ctl_fd, EPOLLIN, &sh->ctl_ev);
	if (sh->ptm != -1)
		ev_add(sh->ptm, EPOLLIN, &sh->ptm_ev);
	if (sh->in_fd != -1) {
		(void)fcntl(sh->in_fd, F_SETFL,
		    fcntl(sh->in_fd, F_GETFL) | O_NONBLOCK);
		sh->in_polled = shell_watch(sh->in_fd, EPOLLIN, &sh->in_ev) == 1;
	}
	for (i = 0; i < 2; i++) {
		o = &sh->out[i];
		o->sh = sh;
		o->src_ev.cb = shell_src_cb;
		o->fd_ev.cb = shell_out_cb;
		if (o->src != -1 && o->src != sh->ptm)
			ev_add(o->src, EPOLLIN, &o->src_ev);
		if (o->fd != -1) {
			(void)fcntl(o->fd, F_SETFL,
			    fcntl(o->fd, F_GETFL) | O_NONBLOCK);
			o->polled = shell_watch(o->fd, 0, &o->fd_ev) == 1;
		}
	}
	{
		/* Answer on the connection we now own. */
		struct jsonw r;
		jsonw_init(&r);
		jsonw_begin(&r);
		jsonw_bool(&r, "ok", true);
		shell_started_reply(&r, sh);
		jsonw_end(&r);
		if (!jsonw_ok(&r) || ctlmsg_send(sh->ctl_fd, r.buf, r.len) == -1)
			sh->client_gone = true;
		jsonw_free(&r);
	}
	if (sh->in_fd != -1 && !sh->in_polled)
		shell_in_cb(&sh->in_ev, EPOLLIN);	/* a file: read it now */
	shell_update(sh);
	return;
fail:
	ctl_reply_error(c, "%s", cause ? cause : "out of memory");
	free(cause);
	shell_abandon(sh);
}

/*
 * `shell` request: {session, argv?, cols, rows, cwd?, env{TERM, PATH, …}}
 * with the client's stdin and stdout attached. The connection becomes the
 * shell's: the reply says it started; later the exit status follows.
 */
void
shell_start(struct ctlconn *c, const cJSON *req)
{
	struct cast_header hdr;
	struct session *se;
	struct shell *sh = NULL;
	struct passwd *pw;
	char **argv = NULL, **envp = NULL, *cause = NULL, *command = NULL;
	char name[32];
	const char *id = ctlmsg_get_str(req, "session"), *cwd, *net;
	const cJSON *tty;
	uint64_t cols = 80, rows = 24;
	int recfd, i;

	if ((se = session_target(c, id, false)) == NULL)
		return;
	/* "tty": absent means a PTY (clients before pipes existed). */
	tty = cJSON_GetObjectItemCaseSensitive(req, "tty");
	if (tty != NULL && !cJSON_IsBool(tty)) {
		ctl_reply_error(c, "tty: must be true or false");
		return;
	}
	if (c->in.nfds != (tty == NULL || cJSON_IsTrue(tty) ? 2 : 3)) {
		ctl_reply_error(c, "shell: the client's stdin and stdout (and "
		    "stderr, without a tty) must come with the request");
		return;
	}
	if (se->nshells >= MAX_SHELLS) {
		ctl_reply_error(c, "session %s has %d shells already", se->id,
		    MAX_SHELLS);
		return;
	}
	if ((cJSON_GetObjectItemCaseSensitive(req, "cols") != NULL &&
	    ctlmsg_get_uint(req, "cols", 1, 10000, &cols) == -1) ||
	    (cJSON_GetObjectItemCaseSensitive(req, "rows") != NULL &&
	    ctlmsg_get_uint(req, "rows", 1, 10000, &rows) == -1)) {
		ctl_reply_error(c, "cols/rows: must be integers from 1 to 10000");
		return;
	}
	if ((net = ctlmsg_get_str(req, "net")) != NULL &&
	    strcmp(net, "gate") != 0) {
		ctl_reply_error(c, "net: must be \"gate\"");
		return;
	}
	if ((net != NULL || gate_isolate_default(se)) &&
	    gate_netns_possible(&cause) == -1) {
		ctl_reply_error(c, "%s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	if ((pw = getpwuid(geteuid())) == NULL) {
		ctl_reply_error(c, "no passwd entry for uid %lu",
		    (unsigned long)geteuid());
		return;
	}
	if ((argv = shell_argv(req, pw, &cause)) == NULL ||
	    (envp = shell_env(se, req, pw)) == NULL ||
	    (command = join_argv(argv)) == NULL ||
	    (sh = calloc(1, sizeof(*sh))) == NULL)
		goto fail;
	sh->se = se;
	sh->net_gate = net != NULL || gate_isolate_default(se);
	sh->ptm = sh->pts = sh->pidfd = sh->ctl_fd = sh->sync_fd = -1;
	sh->tty = tty == NULL || cJSON_IsTrue(tty);
	sh->in_fd = c->in.fds[0];
	sh->in_tty = isatty(sh->in_fd);
	for (i = 0; i < 2; i++) {
		sh->out[i].src = -1;
		sh->out[i].fd = i < c->in.nfds - 1 ? c->in.fds[i + 1] : -1;
	}
	c->in.nfds = 0;		/* the fds are the shell's now */
	sh->cols = sh->want_cols = (unsigned)cols;
	sh->rows = sh->want_rows = (unsigned)rows;
	sh->n = ++se->shells_started;
	TAILQ_INSERT_TAIL(&se->shells, sh, entry);
	se->nshells++;
	cwd = ctlmsg_get_str(req, "cwd");

	snprintf(name, sizeof(name), "%d.cast", sh->n);
	if (asprintf(&sh->recording, "%s/recordings/%s/%s", server->roots.state,
	    se->id, name) == -1) {
		sh->recording = NULL;
		goto fail;
	}
	if ((recfd = recordings_dir(se, &cause)) == -1)
		goto fail;
	memset(&hdr, 0, sizeof(hdr));
	hdr.width = sh->cols;
	hdr.height = sh->rows;
	hdr.timestamp = time(NULL);
	hdr.term = ctlmsg_get_str(cJSON_GetObjectItemCaseSensitive(req, "env"),
	    "TERM");
	hdr.shell = pw->pw_shell;
	hdr.command = command;
	hdr.session = se->id;
	hdr.label = se->label;
	if (cast_open(&sh->cast, recfd, name, &hdr, &cause) == -1)
		goto fail;
	sh->recording_open = true;
	if (recorder_enabled()) {
		/* The remote recorder first: its policy may refuse the shell. */
		const char *hdrline;
		size_t hdrlen;
		if (cwd != NULL && (sh->start_cwd = strdup(cwd)) == NULL)
			goto fail;
		hdrline = cast_last_line(&sh->cast, &hdrlen);
		if ((sh->rec = recorder_open(hdrline, hdrlen, shell_rec_cb,
		    sh)) == NULL)
			goto fail;
		sh->cast.line_cb = shell_cast_line;
		sh->cast.line_arg = sh;
		sh->starter = c;
		c->refs++;
		sh->start_argv = argv;
		sh->start_envp = envp;
		free(command);
		return;
	}
	free(command);
	shell_launch(sh, c, argv, envp, cwd);
	free_strv(argv);
	free_strv(envp);
	return;
fail:
	ctl_reply_error(c, "%s", cause ? cause : "out of memory");
	free(cause);
	free_strv(argv);
	free_strv(envp);
	free(command);
	if (sh != NULL) {
		if (sh->recording_open) {
			(void)cast_close(&sh->cast);
			(void)unlinkat(se->recdirfd, name, 0);
		}
		if (sh->pid > 0) {
			kill(sh->pid, SIGKILL);
			(void)waitpid(sh->pid, NULL, 0);
		}
		shell_free(sh);
	}
}

/* --- the relay ------------------------------------------------------------ */

#define EOF_LOOK_NS	(50 * 1000000ull)	/* see shell_try_eof */

static void
shell_update(struct shell *sh)
{
	struct shell_out *o;
	uint32_t pev = 0;
	int i;

	if (sh->finished)
		return;
	/* Read a source only while the client keeps up with its output. */
	for (i = 0; i < 2; i++) {
		o = &sh->out[i];
		if (o->src != -1 && o->src != sh->ptm)
			ev_mod(o->src, o->q.len == 0 && !o->eof ? EPOLLIN : 0,
			    &o->src_ev);
		if (o->polled && o->fd != -1)
			ev_mod(o->fd, o->q.len > 0 ? EPOLLOUT : 0, &o->fd_ev);
	}
	if (sh->ptm != -1) {
		if (sh->out[0].q.len == 0 && !sh->out[0].eof)
			pev |= EPOLLIN;
		if (sh->to_pty.len > 0)
			pev |= EPOLLOUT;
		ev_mod(sh->ptm, pev, &sh->ptm_ev);
	}
	if (sh->in_polled && sh->in_fd != -1)
		ev_mod(sh->in_fd, !sh->in_eof && sh->to_pty.len < BQ_READ_CHUNK ?
		    EPOLLIN : 0, &sh->in_ev);
	if (sh->ctl_fd != -1)
		ev_mod(sh->ctl_fd, EPOLLIN, &sh->ctl_ev);
}

/*
 * The client's stdout (or stderr) is gone: stop writing to it. On pipes the
 * command's end goes too, so that it gets SIGPIPE as it would writing to
 * the client directly (`agentd shell -- yes | head -1` ends).
 */
static void
shell_drop_output(struct shell_out *o)
{
	struct shell *sh = o->sh;

	if (o->fd != -1) {
		if (o->polled)
			ev_del(o->fd);
		close(o->fd);
		o->fd = -1;
	}
	bq_free(&o->q);
	if (sh != NULL && !sh->tty && o->src != -1) {
		ev_del(o->src);
		close(o->src);
		o->src = -1;
		o->eof = true;
	}
}

static void
shell_flush_out(struct shell_out *o)
{
	if (o->fd == -1 || o->q.len == 0)
		return;
	if (!o->polled) {
		/* A regular file: plain writes never wait. */
		(void)fcntl(o->fd, F_SETFL, fcntl(o->fd, F_GETFL) & ~O_NONBLOCK);
	}
	if (bq_write(&o->q, o->fd) == -1)
		shell_drop_output(o);
}

/* Every output read and passed on once the command is gone: the end. */
static bool
shell_drained(struct shell *sh)
{
	bool eof = sh->out[0].eof && sh->out[1].eof;

	return sh->exited && (eof || sh->drain_ns <= now_boot_ns()) &&
	    sh->out[0].q.len == 0 && sh->out[1].q.len == 0;
}

/*
 * Reads one chunk of the command's output, records it, passes it on.
 *
 * One read per readiness, never a loop until EAGAIN: when the line
 * discipline's buffer is empty, read(2) on a PTY master waits for the
 * kernel worker that fills it (n_tty_read -> flush_work, in D state, even
 * with O_NONBLOCK). A loop that batched reads blocked the whole daemon on
 * that worker once per 4 KiB (docs/PERFORMANCE.md, "Recorded shell").
 */
static void
shell_read_out(struct shell_out *o)
{
	struct shell *sh = o->sh;
	unsigned char buf[SHELL_READ];
	ssize_t n, w;

	if (o->q.len > 0 || o->eof)
		return;
	n = read(o->src, buf, sizeof(buf));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		o->eof = true;	/* EIO on a PTY: every slave fd closed */
		return;
	}
	if (n < 0)
		return;
	sh->bytes_out += (uint64_t)n;
	if (sh->recording_open && cast_output(&sh->cast, buf, (size_t)n) == -1 &&
	    !sh->cast_warned) {
		sh->cast_warned = true;
		log_warn("shell %d of %s: recording stopped: %s", sh->n,
		    sh->se->id, strerror(sh->cast.failed));
	}
	if (o->fd == -1)
		return;
	w = write(o->fd, buf, (size_t)n);
	if (w == -1 && errno != EAGAIN)
		shell_drop_output(o);
	else if (w < n && bq_append(&o->q, buf + (w > 0 ? w : 0),
	    (size_t)(n - (w > 0 ? w : 0))) == -1)
		shell_drop_output(o);
	if (!o->polled)
		shell_flush_out(o);
}

/*
 * Piped input on a PTY ends as under script(1): once the command has read
 * all that came before, the terminal's EOF character is written, as if
 * typed at the start of a line. Written earlier, it is lost: bash's
 * readline, for one, takes it while it edits a line, not as end of input.
 * Nothing tells us when the slave's queue empties, so we look every
 * EOF_LOOK_NS (from the daemon's timer), and only that long after the last
 * write, since the kernel hands written bytes to the line discipline from a
 * worker. Input that does not end with a newline owes a second EOF: the
 * first one only pushes the partial line.
 *
 * One more than script does: an EOF that reaches a terminal in canonical
 * mode is kept as a NUL byte if the mode turns raw before it is read (bash
 * runs `sleep 1` in canonical mode, then readline reads raw). So after an
 * EOF written in canonical mode we keep looking, and when the terminal is
 * raw with nothing queued (a raw reader waits at an empty line) we write one
 * more; then we are done.
 */
static void
shell_try_eof(struct shell *sh, uint64_t now)
{
	struct termios t;
	int queued = 0;
	bool canon;
	char eof;

	if ((sh->eofs_owed == 0 && !sh->eof_watch) || sh->to_pty.len > 0 ||
	    sh->exited || now < sh->eof_ns)
		return;		/* shell_deadlines comes back */
	sh->eof_ns = now + EOF_LOOK_NS;
	if (sh->pts == -1 || tcgetattr(sh->pts, &t) == -1 ||
	    ioctl(sh->pts, FIONREAD, &queued) == -1)
		goto done;
	if (queued > 0)
		return;		/* not all read yet */
	canon = (t.c_lflag & ICANON) != 0;
	if (sh->eofs_owed == 0 && canon)
		return;		/* watching for a raw reader */
	eof = t.c_cc[VEOF] != _POSIX_VDISABLE ? (char)t.c_cc[VEOF] : 4;
	if (write(sh->ptm, &eof, 1) != 1)
		return;
	if (sh->eofs_owed > 0 && --sh->eofs_owed > 0)
		return;
	if (canon && !sh->eof_watch) {
		sh->eof_watch = true;
		return;
	}
done:
	sh->eofs_owed = 0;
	sh->eof_watch = false;
	if (sh->pts != -1) {
		close(sh->pts);		/* EIO on the master needs it closed */
		sh->pts = -1;
	}
}

/* Input was written to the PTY: an owed EOF waits until it is read. */
static void
shell_wrote_input(struct shell *sh)
{
	sh->eof_ns = now_boot_ns() + EOF_LOOK_NS;
}

static void
shell_ptm_cb(struct evh *h, uint32_t events)
{
	struct shell *sh = CONTAINER_OF(h, struct shell, ptm_ev);

	if ((events & EPOLLOUT) && sh->to_pty.len > 0) {
		if (bq_write(&sh->to_pty, sh->ptm) == -1)
			bq_free(&sh->to_pty);
		shell_wrote_input(sh);
		if (sh->to_pty.len == 0 && sh->eofs_owed > 0)
			server_rearm_timer();
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		shell_read_out(&sh->out[0]);
	if (shell_drained(sh)) {
		shell_finish(sh);
		return;
	}
	shell_update(sh);
}

/* The command's stdout or stderr pipe (no PTY). */
static void
shell_src_cb(struct evh *h, uint32_t events)
{
	struct shell_out *o = CONTAINER_OF(h, struct shell_out, src_ev);
	struct shell *sh = o->sh;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		shell_read_out(o);
	if (o->eof) {
		ev_del(o->src);
		close(o->src);
		o->src = -1;
	}
	if (shell_drained(sh)) {
		shell_finish(sh);
		return;
	}
	shell_update(sh);
}

static void
shell_in_cb(struct evh *h, uint32_t events)
{
	struct shell *sh = CONTAINER_OF(h, struct shell, in_ev);
	int r;

	(void)events;
	if (sh->in_fd == -1 || sh->in_eof)
		return;
	for (;;) {
		r = bq_read(&sh->to_pty, sh->in_fd, BQ_READ_CHUNK);
		if (r == 0 && sh->to_pty.len > 0)
			sh->last_in = bq_data(&sh->to_pty)[sh->to_pty.len - 1];
		/* A file cannot be polled: read it while the PTY takes it. */
		if (r != 0 || sh->in_polled ||
		    sh->to_pty.len >= 4 * BQ_READ_CHUNK ||
		    bq_write(&sh->to_pty, sh->ptm) != 0 || sh->to_pty.len != 0)
			break;
	}
	if (r != 0) {
		sh->in_eof = true;
		/* A terminal's EOF is a typed ^D; a pipe's must be made one. */
		if (!sh->in_tty)
			sh->eofs_owed = sh->last_in == '\n' ||
			    sh->last_in == '\0' ? 1 : 2;
		if (sh->in_polled)
			ev_del(sh->in_fd);
		close(sh->in_fd);
		sh->in_fd = -1;
	}
	if (sh->to_pty.len > 0 && bq_write(&sh->to_pty, sh->ptm) == -1)
		bq_free(&sh->to_pty);
	shell_wrote_input(sh);
	if (sh->eofs_owed > 0)
		server_rearm_timer();
	shell_update(sh);
}

static void
shell_out_cb(struct evh *h, uint32_t events)
{
	struct shell_out *o = CONTAINER_OF(h, struct shell_out, fd_ev);
	struct shell *sh = o->sh;

	if (events & (EPOLLERR | EPOLLHUP))
		shell_drop_output(o);
	else
		shell_flush_out(o);
	if (shell_drained(sh)) {
		shell_finish(sh);
		return;
	}
	shell_update(sh);
}

/*
 * Signals the command's process group, or the command alone while its group
 * does not exist yet: right after fork, before the child's setsid(), the
 * group signal fails with ESRCH and would be lost. The child unblocks
 * signals before setsid(), so it dies of the default action even then.
 */
static void
shell_signal(struct shell *sh, int sig)
{
	if (sh->pid <= 0 || sh->exited)
		return;
	if (kill(-sh->pid, sig) == -1 && errno == ESRCH)
		(void)kill(sh->pid, sig);
}

/* Hangs the shell up as a closed terminal would: SIGHUP to its group. */
void
shell_hangup(struct shell *sh)
{
	shell_signal(sh, SIGHUP);
}

/*
 * Applies the last size asked for, if it differs from the one in force: the
 * terminal's (the kernel sends SIGWINCH to the foreground group) and an "r"
 * line. At most one per RESIZE_GAP_NS: a client resizing in a loop gets the
 * sizes in between dropped, never the last one (shell_deadlines applies it).
 */
static void
shell_apply_resize(struct shell *sh, uint64_t now)
{
	struct winsize ws;

	if (sh->want_cols == sh->cols && sh->want_rows == sh->rows)
		return;
	if (!sh->tty) {
		sh->want_cols = sh->cols;	/* no terminal to resize */
		sh->want_rows = sh->rows;
		return;
	}
	if (now < sh->resize_ns)
		return;		/* shell_deadlines comes back for it */
	sh->cols = sh->want_cols;
	sh->rows = sh->want_rows;
	sh->resize_ns = now + RESIZE_GAP_NS;
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)sh->cols;
	ws.ws_row = (unsigned short)sh->rows;
	if (sh->ptm != -1)
		(void)ioctl(sh->ptm, TIOCSWINSZ, &ws);
	if (sh->recording_open)
		(void)cast_resize(&sh->cast, sh->cols, sh->rows);
}

static void
shell_ctl_cb(struct evh *h, uint32_t events)
{
	struct shell *sh = CONTAINER_OF(h, struct shell, ctl_ev);
	const char *cmd;
	uint64_t cols, rows;
	cJSON *msg;
	int r, frames = 0;

	/* A bounded batch: a client sending without pause must not keep the
	 * loop from everyone else (the socket stays readable for the next). */
	while ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    frames++ < CTL_BATCH &&
	    (r = ctlmsg_read(sh->ctl_fd, &sh->ctlin)) != 0) {
		if (r == -1) {
			/* The client died or left: hang up, like a lost ssh link. */
			sh->client_gone = true;
			ev_del(sh->ctl_fd);
			close(sh->ctl_fd);
			sh->ctl_fd = -1;
			shell_drop_output(&sh->out[0]);
			shell_drop_output(&sh->out[1]);
			shell_hangup(sh);
			return;
		}
		msg = ctlmsg_parse(&sh->ctlin);
		cmd = msg ? ctlmsg_get_str(msg, "cmd") : NULL;
		if (cmd != NULL && strcmp(cmd, "resize") == 0 &&
		    ctlmsg_get_uint(msg, "cols", 1, 10000, &cols) == 0 &&
		    ctlmsg_get_uint(msg, "rows", 1, 10000, &rows) == 0) {
			sh->want_cols = (unsigned)cols;
			sh->want_rows = (unsigned)rows;
		}
		cJSON_Delete(msg);
		ctlmsg_in_reset(&sh->ctlin);
	}
	shell_apply_resize(sh, now_boot_ns());
	if (sh->want_cols != sh->cols || sh->want_rows != sh->rows)
		server_rearm_timer();
	shell_update(sh);
}

static void
shell_pid_cb(struct evh *h, uint32_t events)
{
	struct shell *sh = CONTAINER_OF(h, struct shell, pid_ev);
	siginfo_t si;

	(void)events;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)sh->pidfd, &si, WEXITED | WNOHANG) ==
	    -1 || si.si_pid == 0)
		return;
	ev_del(sh->pidfd);
	close(sh->pidfd);
	sh->pidfd = -1;
	sh->exited = true;
	sh->status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 :
	    (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
	/*
	 * Output the command wrote just before it exited may still be on its
	 * way through the line discipline: read the master until every slave
	 * fd is closed (EIO), or for DRAIN_NS when a background job keeps one
	 * open.
	 */
	sh->drain_ns = now_boot_ns() + DRAIN_NS;
	sh->eofs_owed = 0;
	sh->eof_watch = false;
	if (sh->pts != -1) {
		close(sh->pts);
		sh->pts = -1;
	}
	server_rearm_timer();
	if (sh->ptm != -1)
		shell_ptm_cb(&sh->ptm_ev, EPOLLIN);
	else if (shell_drained(sh))
		shell_finish(sh);
}

uint64_t
shell_deadlines(struct session *se, uint64_t now)
{
	struct shell *sh, *tmp;
	uint64_t next = 0;

	TAILQ_FOREACH_SAFE(sh, &se->shells, entry, tmp) {
		if (sh->want_cols != sh->cols || sh->want_rows != sh->rows) {
			shell_apply_resize(sh, now);
			if (sh->want_cols != sh->cols ||
			    sh->want_rows != sh->rows)
				next = next == 0 || sh->resize_ns < next ?
				    sh->resize_ns : next;
		}
		if ((sh->eofs_owed > 0 || sh->eof_watch) && sh->to_pty.len == 0) {
			shell_try_eof(sh, now);
			if (sh->eofs_owed > 0 || sh->eof_watch)
				next = next == 0 || sh->eof_ns < next ?
				    sh->eof_ns : next;
		}
		if (!sh->exited)
			continue;
		if (sh->drain_ns <= now) {
			shell_drop_output(&sh->out[0]);	/* a stuck client */
			shell_drop_output(&sh->out[1]);
			shell_finish(sh);
			continue;
		}
		if (next == 0 || sh->drain_ns < next)
			next = sh->drain_ns;
	}
	return next;
}

/* --- the end -------------------------------------------------------------- */

static void
shell_finish(struct shell *sh)
{
	struct session *se = sh->se;
	struct jsonw *w, r;
	char *cause = NULL;
	int st = sh->status;

	if (sh->finished)
		return;
	sh->finished = true;
	/* The last size asked for is recorded, however soon after the one
	 * before it came. */
	sh->resize_ns = 0;
	shell_apply_resize(sh, now_boot_ns());
	if (sh->recording_open) {
		if (cast_close(&sh->cast) == -1)
			log_warn("shell %d of %s: closing the recording: %s",
			    sh->n, se->id, strerror(errno));
		sh->recording_open = false;
	}
	if (sh->logged) {
		w = auditlog_begin(server->log, "shell_ended", se->id);
		jsonw_int(w, "shell", sh->n);
		jsonw_int(w, "pid", sh->pid);
		if (WIFEXITED(st))
			jsonw_int(w, "exit_status", WEXITSTATUS(st));
		else {
			jsonw_null(w, "exit_status");
			jsonw_int(w, "signal", WTERMSIG(st));
		}
		jsonw_uint(w, "bytes_out", sh->bytes_out);
		jsonw_str(w, "recording", sh->recording);
		if (auditlog_commit(server->log, &cause) == -1) {
			log_warn("shell %d of %s: shell_ended not written: %s",
			    sh->n, se->id, cause ? cause : "?");
			free(cause);
		}
	}
	if (sh->ctl_fd != -1 && !sh->client_gone) {
		/* The exit status, for the client to exit with. */
		(void)fcntl(sh->ctl_fd, F_SETFL,
		    fcntl(sh->ctl_fd, F_GETFL) & ~O_NONBLOCK);
		jsonw_init(&r);
		jsonw_begin(&r);
		jsonw_str(&r, "event", "exit");
		if (WIFEXITED(st))
			jsonw_int(&r, "exit_status", WEXITSTATUS(st));
		else
			jsonw_int(&r, "signal", WTERMSIG(st));
		/* Why the session hung it up, for the client's last line. */
		if (se->state == SESSION_STOPPING && se->exit_reason != NULL)
			jsonw_str(&r, "session_end", se->exit_reason);
		jsonw_end(&r);
		if (jsonw_ok(&r))
			(void)ctlmsg_send(sh->ctl_fd, r.buf, r.len);
		jsonw_free(&r);
	}
	shell_free(sh);
	session_shell_gone(se);
}

void
shell_kill_all(struct session *se, int sig)
{
	struct shell *sh;

	TAILQ_FOREACH(sh, &se->shells, entry) {
		if (sh->starter != NULL)	/* ends from the loop */
			recorder_cancel(sh->rec, "the session ended");
		shell_signal(sh, sig);
	}
}

/* --- remote recorders ----------------------------------------------------- */

/* A line for the client's stderr, before the exit event. */
static void
shell_message(struct shell *sh, const char *text)
{
	struct jsonw r;

	if (sh->ctl_fd == -1 || sh->client_gone)
		return;
	jsonw_init(&r);
	jsonw_begin(&r);
	jsonw_str(&r, "event", "message");
	jsonw_str(&r, "text", text);
	jsonw_end(&r);
	if (jsonw_ok(&r))
		(void)ctlmsg_send(sh->ctl_fd, r.buf, r.len);
	jsonw_free(&r);
}

/* No recorder and the policy says reject: TEXT, exit status 254. */
static void
shell_reject(struct shell *sh, struct ctlconn *c)
{
	const char *text = recorder_message() ? recorder_message() :
	    "session rejected: no recorder could be reached";
	struct jsonw r;
	int fd;

	if (c->closed)
		return;
	fd = ctl_take_over(c);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	jsonw_init(&r);
	jsonw_begin(&r);
	jsonw_bool(&r, "ok", false);
	jsonw_str(&r, "error", text);
	jsonw_str(&r, "message", text);
	jsonw_int(&r, "exit_status", 254);
	jsonw_end(&r);
	if (jsonw_ok(&r))
		(void)ctlmsg_send(fd, r.buf, r.len);
	jsonw_free(&r);
	close(fd);
	(void)sh;
}

/* The recorder connected, could not be reached, or failed mid-upload. */
static void
shell_rec_cb(void *arg, enum recorder_status st)
{
	struct shell *sh = arg;
	struct session *se = sh->se;
	struct ctlconn *c = sh->starter;
	enum recording_policy policy = recorder_policy();
	char **argv, **envp, *cwd, *cause = NULL;
	bool stop;

	if (c == NULL) {
		if (st != RECORDER_FAILED)
			return;
		stop = policy == RECORDING_TERMINATE;
		if (recorder_log_failure(sh->rec, se->id, sh->n,
		    stop ? "terminated" : "continued", &cause) == -1) {
			log_warn("shell %d of %s: recording_failed not written: "
			    "%s", sh->n, se->id, cause ? cause : "?");
			free(cause);
		}
		recorder_close(sh->rec);
		sh->rec = NULL;
		if (stop) {
			shell_message(sh, recorder_message() ? recorder_message() :
			    "session terminated: the recording failed");
			shell_hangup(sh);
		}
		return;
	}
	sh->starter = NULL;
	argv = sh->start_argv;
	envp = sh->start_envp;
	cwd = sh->start_cwd;
	sh->start_argv = sh->start_envp = NULL;
	sh->start_cwd = NULL;
	if (c->closed || se->state != SESSION_ACTIVE) {
		ctl_reply_error(c, "session %s ended", se->id);
		shell_abandon(sh);
		goto out;
	}
	if (st != RECORDER_CONNECTED) {
		stop = policy == RECORDING_REJECT;
		if (recorder_log_failure(sh->rec, se->id, sh->n,
		    stop ? "rejected" : "continued", &cause) == -1) {
			/* Fail closed: what happened must be in the log. */
			ctl_reply_error(c, "recording_failed not written: %s",
			    cause ? cause : "?");
			shell_abandon(sh);
			goto out;
		}
		recorder_close(sh->rec);
		sh->rec = NULL;
		if (stop) {
			shell_reject(sh, c);
			shell_abandon(sh);
			goto out;
		}
	}
	shell_launch(sh, c, argv, envp, cwd);
out:
	free_strv(argv);
	free_strv(envp);
	free(cwd);
	free(cause);
	ctl_unref(c);
}
