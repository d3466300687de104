/* agentd start: a new session; prints its environment for eval. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "duration.h"
#include "egress.h"
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

/* --dry-run: what a start would ask for; nothing is created, no daemon is
 * asked (the daemon may still cap the TTL at its --max-ttl). */
static int
start_plan(enum eval_format fmt, uint64_t ttl, uint64_t key_ttl,
    const char *label, const struct egress_entry *eg, size_t neg,
    int isolate)
{
	char up[EGRESS_HOST_MAX + 16], alias[EGRESS_HOST_MAX + 16], d[32];
	cJSON *o, *a, *x;
	char *text;
	size_t i;

	if (ttl == 0)
		ttl = DEFAULT_TTL;
	if (key_ttl == 0 || key_ttl > ttl)
		key_ttl = ttl;
	if (fmt == EVAL_JSON) {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "dry_run", 1);
		cJSON_AddStringToObject(o, "label", label ? label : "");
		cJSON_AddNumberToObject(o, "ttl_s", (double)ttl);
		cJSON_AddNumberToObject(o, "key_ttl_s", (double)key_ttl);
		cJSON_AddBoolToObject(o, "isolate_net", isolate);
		a = cJSON_AddArrayToObject(o, "egress");
		for (i = 0; i < neg; i++) {
			x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "name", eg[i].name);
			cJSON_AddStringToObject(x, "listen", "127.0.0.1:0");
			cJSON_AddStringToObject(x, "upstream",
			    egress_upstream(&eg[i], up, sizeof(up)));
			cJSON_AddStringToObject(x, "host_key_alias",
			    egress_hostkey_alias(&eg[i], alias, sizeof(alias)));
			cJSON_AddItemToArray(a, x);
		}
		a = cJSON_AddArrayToObject(o, "env");
		cJSON_AddItemToArray(a, cJSON_CreateString("SSH_AUTH_SOCK"));
		cJSON_AddItemToArray(a, cJSON_CreateString("AGENTD_SESSION"));
		if (neg > 0) {
			cJSON_AddItemToArray(a,
			    cJSON_CreateString("AGENTD_SSH_CONFIG"));
			cJSON_AddItemToArray(a,
			    cJSON_CreateString("GIT_SSH_COMMAND"));
		}
		cJSON_AddArrayToObject(o, "authorized_keys");
		if ((text = cJSON_PrintUnformatted(o)) != NULL)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else {
		printf("dry run: nothing was created\n");
		printf("%-12s %s\n", "label", escape_term_str(label ? label : ""));
		duration_format(ttl, d, sizeof(d));
		printf("%-12s %s\n", "ttl", d);
		duration_format(key_ttl, d, sizeof(d));
		printf("%-12s %s\n", "key ttl", d);
		printf("%-12s %s\n", "network", isolate ? "isolated "
		    "(shells: --net gate)" : "shared");
		printf("%-12s %s\n", "env", neg > 0 ? "SSH_AUTH_SOCK "
		    "AGENTD_SESSION AGENTD_SSH_CONFIG GIT_SSH_COMMAND" :
		    "SSH_AUTH_SOCK AGENTD_SESSION");
		if (neg > 0)
			printf("\n%-16s %-22s %-30s %s\n", "EGRESS", "LISTEN",
			    "UPSTREAM", "HOSTKEYALIAS");
		for (i = 0; i < neg; i++)
			printf("%-16s %-22s %-30s %s\n", eg[i].name,
			    "127.0.0.1:(at start)",
			    egress_upstream(&eg[i], up, sizeof(up)),
			    egress_hostkey_alias(&eg[i], alias, sizeof(alias)));
	}
	return fflush(stdout) == EOF || ferror(stdout) ? 1 : 0;
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
		{ "approve", required_argument, NULL, 'a' },
		{ "allow-dest", required_argument, NULL, 'A' },
		{ "deny-forwarded", no_argument, NULL, 'F' },
		{ "ssh-egress", required_argument, NULL, 'E' },
		{ "isolate-net", no_argument, NULL, 'I' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum eval_format fmt = eval_format_default();
	const char *label = NULL, *sock, *session;
	const char *expires, *approve = NULL;
	cJSON *allow = NULL;
	int deny_fwd = 0;
	uint64_t ttl = 0, key_ttl = 0;
	struct roots roots;
	cJSON *req, *reply;
	const char *ttl_arg = NULL;
	char *cause = NULL, *text, got[32];
	int ch, fmt_set = 0, isolate = 0, dry = 0;
	uint64_t granted;
	struct egress_entry eg[EGRESS_MAX];
	const char *eg_arg[EGRESS_MAX], *why, *cfg;
	size_t neg = 0, i;

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
		case 'a':
			if (strcmp(optarg, "sign") != 0)
				die_usage("start", "--approve: only 'sign' is "
				    "known");
			approve = optarg;
			break;
		case 'A':
			if (allow == NULL)
				allow = cJSON_CreateArray();
			cJSON_AddItemToArray(allow, cJSON_CreateString(optarg));
			break;
		case 'F':
			deny_fwd = 1;
			break;
		case 'E':
			if (neg == EGRESS_MAX)
				die_usage("start", "--ssh-egress: at most %d "
				    "entries", EGRESS_MAX);
			if (egress_parse(optarg, &eg[neg], &why) == -1)
				die_usage("start", "--ssh-egress %s: %s",
				    escape_term_str(optarg), why);
			for (i = 0; i < neg; i++)
				if (strcmp(eg[i].name, eg[neg].name) == 0)
					die_usage("start", "--ssh-egress: %s "
					    "named twice", eg[i].name);
			eg_arg[neg++] = optarg;
			break;
		case 'I':
			isolate = 1;
			break;
		case 'n':
			dry = 1;
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
	if (dry)
		return start_plan(fmt, ttl, key_ttl, label, eg, neg, isolate);
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
	if (approve != NULL)
		cJSON_AddStringToObject(req, "approve", approve);
	if (allow != NULL)
		cJSON_AddItemToObject(req, "allow_dest", allow);
	if (deny_fwd)
		cJSON_AddTrueToObject(req, "deny_forwarded");
	if (neg > 0) {
		cJSON *a = cJSON_AddArrayToObject(req, "egress");
		for (i = 0; i < neg; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(eg_arg[i]));
	}
	if (isolate)
		cJSON_AddBoolToObject(req, "isolate_net", 1);
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
		if ((cfg = ctlmsg_get_str(reply, "ssh_config")) != NULL &&
		    (fmt != EVAL_CSH || !csh_unsafe(cfg)))
			print_env(fmt, "AGENTD_SSH_CONFIG", cfg);
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
