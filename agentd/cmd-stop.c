/* agentd stop: end one session, or all; returns once they are logged. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

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
	const char *session = NULL;
	const cJSON *item;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL;
	int ch, all = 0;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			session = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("stop");
			return 0;
		default:
			usage_for("stop");
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_usage("stop", "unexpected argument '%s'", argv[optind]);
	if (all && session != NULL)
		die_usage("stop", "--session and --all exclude each other");
	if (!all && session == NULL)
		session = getenv("AGENTD_SESSION");
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
	if ((reply = client_call(&roots, req, CLIENT_WAIT_STOP, &cause)) == NULL) {
		fprintf(stderr, "agentd stop: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(reply,
	    "stopped")) {
		if (cJSON_IsString(item))
			printf("stopped %s\n",
			    escape_term_str(item->valuestring));
	}
	cJSON_Delete(reply);
	return 0;
}
