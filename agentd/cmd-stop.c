/* agentd stop: end one session, or all; returns once they are logged. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "escape.h"

int
cmd_stop(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 'S' },
		{ "all", no_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *session = NULL, *current = getenv("AGENTD_SESSION");
	enum eval_format fmt = eval_format_default();
	const cJSON *item;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL, *note;
	int ch, all = 0, fmt_set = 0;

	while ((ch = getopt_long(argc, argv, "+:hsc", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			session = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 's':
			eval_format_set("stop", &fmt, &fmt_set, EVAL_SH);
			break;
		case 'c':
			eval_format_set("stop", &fmt, &fmt_set, EVAL_CSH);
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("stop");
			return 0;
		default:
			die_getopt("stop", ch, argv);
		}
	}
	if (optind != argc)
		die_usage("stop", "unexpected argument '%s'", argv[optind]);
	if (all && session != NULL)
		die_usage("stop", "--session and --all exclude each other");
	if (!all && session == NULL)
		session = current;
	if (!all && (session == NULL || *session == '\0'))
		die_usage("stop", "no session: use --session ID, --all, or set "
		    "AGENTD_SESSION");
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd stop: %s\n", escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "stop");
	if (all)
		cJSON_AddTrueToObject(req, "all");
	else
		cJSON_AddStringToObject(req, "session", session);
	if (asprintf(&note, "agentd stop: waiting for %s%s to end (SIGTERM "
	    "to %s, SIGHUP to linked shells, SIGKILL after %d s)",
	    all ? "every session" : "session ", all ? "" :
	    escape_term_str(session), all ? "their agents" : "its agent",
	    STOP_GRACE_S) == -1)
		note = NULL;
	client_wait_note = note;
	reply = client_call(&roots, req, CLIENT_WAIT_STOP, &cause);
	client_wait_note = NULL;
	free(note);
	if (reply == NULL) {
		fprintf(stderr, "agentd stop: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(reply,
	    "stopped")) {
		if (!cJSON_IsString(item))
			continue;
		/* Our own session (one named, not --all): its variables
		 * are stale now; print their unsets for eval (ssh-agent -k). */
		if (!all && current != NULL &&
		    strcmp(item->valuestring, current) == 0) {
			eval_print_unset(fmt);
			fputs("echo agentd session ", stdout);
			eval_print_quoted(fmt, item->valuestring);
			fputs(" stopped;\n", stdout);
		} else
			printf("stopped %s\n",
			    escape_term_str(item->valuestring));
	}
	cJSON_Delete(reply);
	return 0;
}
