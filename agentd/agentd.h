/* agentd: the supervisor daemon and its client verbs. */
#ifndef AGENTD_AGENTD_H
#define AGENTD_AGENTD_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <cJSON.h>

#define EXIT_USAGE	2
#define LABEL_MAX	256
#define DEFAULT_TTL	3600
#define DEFAULT_MAX_TTL	(12 * 3600)
#define STOP_GRACE_S	5	/* SIGTERM, then SIGKILL after this */
#define STOP_GRACE_STR	"5"	/* the same, for messages */

/* The two roots of DESIGN §2, resolved once at start. */
struct roots {
	char	run[PATH_MAX];		/* R: control.sock, agentd.pid, sessions/ */
	char	state[PATH_MAX];	/* S: audit.jsonl */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* NULL: hidden (internal) verb */
	int		(*exec)(int argc, char **argv);
};

/* agentd.c */
extern const char	*dir_opt;	/* --dir, before or after the verb */
int	 roots_resolve(struct roots *, char **cause);
void	 usage_for(const char *verb);
void	 die_usage(const char *verb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* Prints "agentd VERB: <getopt's complaint>" and the usage; exits 2. ch is
 * what getopt_long returned ('?' or ':'; optstring starts "+:"). */
void	 die_getopt(const char *verb, int ch, char **argv)
	    __attribute__((noreturn));
/* Output for eval: sh or csh (-s/-c; else by $SHELL like ssh-agent), JSON. */
enum eval_format { EVAL_SH, EVAL_CSH, EVAL_JSON };
enum eval_format eval_format_default(void);
/* Sets *fmt to want; a different format already set (*set) is a usage
 * error (exit 2): -s, -c and --json exclude each other. */
int	 eval_format_set(const char *verb, enum eval_format *fmt, int *set,
	    enum eval_format want);
/* "unset SSH_AUTH_SOCK; unset AGENTD_SESSION;" for sh, unsetenv for csh. */
void	 eval_print_unset(enum eval_format);
/* Prints s single-quoted for sh or csh (cmd-start.c: how, and why). */
void	 eval_print_quoted(enum eval_format, const char *s);
int	 parse_duration_opt(const char *verb, const char *opt, const char *val,
	    uint64_t *out);

/* client.c: talking to the daemon (DESIGN §7; docs/DESIGN-NOTES.md). */
#define CLIENT_AUTOSTART	0x1	/* start `agentd serve` when none runs */
#define CLIENT_WAIT_STOP	0x2	/* the reply waits for sessions to end */
#define CLIENT_TIMEOUT_S	30	/* a reply, a connect, a daemon's start-up */
/* The client's bound on any wait for the daemon, in ms: CLIENT_TIMEOUT_S or
 * $AGENTD_CLIENT_TIMEOUT (a duration, at most 24h). */
int	 client_timeout_ms(void);
/*
 * Connects to R/control.sock; with CLIENT_AUTOSTART, starts `agentd serve`
 * first when no daemon answers. R must pass the privdir rules and the peer
 * must run as our uid or root. Returns the fd, or -1 with *cause (one line,
 * naming the path and what is wrong) and errno ENOTCONN when no daemon runs
 * (nothing was refused), EPERM when the directory or the peer is not trusted,
 * or another error.
 */
int	 client_connect(const struct roots *, int flags, char **cause);
/* Sends req (a JSON object, consumed) and returns the reply object when it has
 * "ok": true; otherwise NULL with *cause (the daemon's error text, or what
 * went wrong) and errno as client_connect when the daemon could not be
 * reached, EPROTO when one answered no, answered garbage, closed the
 * connection, or gave no answer within client_timeout_ms() (plus
 * 2 x STOP_GRACE_S with CLIENT_WAIT_STOP). */
cJSON	*client_call(const struct roots *, cJSON *req, int flags,
	    char **cause);
/* With CLIENT_WAIT_STOP: printed on stderr (one line, already escaped) when
 * no reply came within CLIENT_NOTE_AFTER_MS; NULL: nothing. */
extern const char	*client_wait_note;
#define CLIENT_NOTE_AFTER_MS	1000

/* server.c */
#define RECORDERS_MAX	16
enum recording_policy {
	RECORDING_CONTINUE,	/* fail open: local recording only */
	RECORDING_REJECT,	/* no recorder at start: the shell never runs */
	RECORDING_TERMINATE,	/* upload fails mid-session: hang the shell up */
};
struct serve_opts {
	uint64_t	max_ttl;
	int		foreground;
	int		journal;	/* --journal: lines to the journal too */
	int		no_spare;	/* --no-spare: start no agent ahead */
	const char	*recorders[RECORDERS_MAX];	/* HOST:PORT, in order */
	size_t		nrecorders;
	enum recording_policy on_recording_failure;
	const char	*recording_message;	/* shown to the client */
	const char	*signing_key;	/* --signing-key F (absolute), or NULL */
	uint64_t	 checkpoint_interval;	/* seconds, 0: the default */
	uint64_t	 approval_timeout;	/* seconds, 0: the default */
	const char	*approval_delegate;	/* URL, or NULL */
	const char	*approval_command;	/* sh -c CMD, or NULL */
};
#define APPROVAL_TIMEOUT_DEFAULT_S	60
/* Runs the daemon until SIGTERM/SIGINT. readyfd (-1 if none) gets "ok\n" once
 * the control socket listens, or the error text if start-up fails. */
int	 server_run(const struct roots *, const struct serve_opts *, int readyfd);

/* Verbs. */
int	 cmd_serve(int, char **);
int	 cmd_start(int, char **);
int	 cmd_add(int, char **);
int	 cmd_stop(int, char **);
int	 cmd_kill(int, char **);
int	 cmd_version(int, char **);
int	 cmd_status(int, char **);
int	 cmd_shell(int, char **);
int	 cmd_tether(int, char **);
int	 cmd_approvals(int, char **);
int	 cmd_approve(int, char **);
int	 cmd_deny(int, char **);

#endif
