/* agentd start: a new session; prints its environment for eval. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "duration.h"
#include "escape.h"


/*
 * Every value printed for eval is quoted for the shell it targets, whatever
 * bytes it holds (DESIGN §7): the daemon is checked before we talk to it, and
 * this is the second line of defence.
 *
 * sh: inside single quotes nothing is special, newlines included; a quote is
 * written '\''.
 * csh: the same, except that history substitution (!) works even inside
 * single quotes, so it is written '\!' (outside them); and csh's backquote
 * substitution turns newlines into blanks, so a value with a control
 * character is refused rather than printed changed.
 */
void
eval_print_quoted(enum eval_format fmt, const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else if (*s == '!' && fmt == EVAL_CSH)
			fputs("'\\!'", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/* A value csh cannot carry unchanged through eval `...`. */
static int
csh_unsafe(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

static void
print_env(enum eval_format fmt, const char *name, const char *value)
{
	if (fmt == EVAL_CSH) {
		printf("setenv %s ", name);
		eval_print_quoted(fmt, value);
		printf(";\n");
	} else {
		printf("%s=", name);
		eval_print_quoted(fmt, value);
		printf("; export %s;\n", name);
	}
}

/* Stops a session whose values we could not print: no one could use it. */
static int
start_undo(const struct roots *r, const char *session)
{
	cJSON *req, *reply;
	char *cause = NULL;

	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "stop");
	cJSON_AddStringToObject(req, "session", session);
	reply = client_call(r, req, CLIENT_WAIT_STOP, &cause);
	free(cause);
	if (reply == NULL)
		return -1;
	cJSON_Delete(reply);
	return 0;
}

int
cmd_start(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "key-ttl", required_argument, NULL, 'k' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum eval_format fmt = eval_format_default();
	const char *label = NULL, *sock, *session;
	const char *expires;
	uint64_t ttl = 0, key_ttl = 0;
	struct roots roots;
	cJSON *req, *reply;
	const char *ttl_arg = NULL;
	char *cause = NULL, *text, got[32];
	int ch, fmt_set = 0;
	uint64_t granted;

	while ((ch = getopt_long(argc, argv, "+:sch", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			parse_duration_opt("start", "--ttl", optarg, &ttl);
			ttl_arg = optarg;
			break;
		case 'k':
			parse_duration_opt("start", "--key-ttl", optarg,
			    &key_ttl);
			break;
		case 'l':
			if (strlen(optarg) >= LABEL_MAX)
				die_usage("start", "--label: longer than %d "
				    "bytes", LABEL_MAX - 1);
			label = optarg;
			break;
		case 's':
			eval_format_set("start", &fmt, &fmt_set, EVAL_SH);
			break;
		case 'c':
			eval_format_set("start", &fmt, &fmt_set, EVAL_CSH);
			break;
		case 'j':
			eval_format_set("start", &fmt, &fmt_set, EVAL_JSON);
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("start");
			return 0;
		default:
			die_getopt("start", ch, argv);
		}
	}
	if (optind != argc)
		die_usage("start", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd start: %s\n", escape_term_str(cause));
		return 1;
	}
	/* The socket lies in R: refuse before a session exists for nothing. */
	if (fmt == EVAL_CSH && csh_unsafe(roots.run)) {
		fprintf(stderr, "agentd start: %s: holds a control character "
		    "that csh cannot take: use -s or --json\n",
		    escape_term_str(roots.run));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "start");
	if (ttl != 0)
		cJSON_AddNumberToObject(req, "ttl_s", (double)ttl);
	if (key_ttl != 0)
		cJSON_AddNumberToObject(req, "key_ttl_s", (double)key_ttl);
	if (label != NULL)
		cJSON_AddStringToObject(req, "label", label);
	if ((reply = client_call(&roots, req, CLIENT_AUTOSTART, &cause)) == NULL) {
		fprintf(stderr, "agentd start: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
	sock = ctlmsg_get_str(reply, "socket");
	session = ctlmsg_get_str(reply, "session");
	expires = ctlmsg_get_str(reply, "expires_at");
	if (sock == NULL || session == NULL || expires == NULL) {
		fprintf(stderr, "agentd start: %s/control.sock: malformed reply "
		    "from the daemon (no socket, session or expires_at)\n",
		    roots.run);
		cJSON_Delete(reply);
		return 1;
	}
	/* The daemon caps --ttl at its --max-ttl: said, not done silently. */
	if (ttl != 0 && ctlmsg_get_uint(reply, "ttl_s", 1, UINT64_MAX,
	    &granted) == 0 && granted < ttl) {
		duration_format(granted, got, sizeof(got));
		fprintf(stderr, "agentd start: --ttl %s capped at the daemon's "
		    "--max-ttl: %s\n", escape_term_str(ttl_arg), got);
	}
	if (fmt == EVAL_CSH && (csh_unsafe(sock) || csh_unsafe(session) ||
	    csh_unsafe(expires))) {
		fprintf(stderr, "agentd start: the reply holds a control "
		    "character that csh cannot take (use -s or --json); %s\n",
		    start_undo(&roots, session) == 0 ? "the session was stopped" :
		    "the session could not be stopped");
		cJSON_Delete(reply);
		return 1;
	}
	if (fmt == EVAL_JSON) {
		if ((text = cJSON_PrintUnformatted(reply)) != NULL)
			printf("%s\n", text);
		free(text);
	} else {
		print_env(fmt, "SSH_AUTH_SOCK", sock);
		print_env(fmt, "AGENTD_SESSION", session);
		fputs("echo agentd session ", stdout);
		eval_print_quoted(fmt, session);
		fputs(" expires at ", stdout);
		eval_print_quoted(fmt, expires);
		fputs(";\n", stdout);
	}
	cJSON_Delete(reply);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "agentd start: standard output: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}
