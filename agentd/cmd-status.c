/* agentd status: the daemon's sessions, as a table or a JSON array. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "duration.h"
#include "escape.h"

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const cJSON *sessions, *s;
	struct roots roots;
	cJSON *req, *reply;
	uint64_t left, keys;
	char *cause = NULL, *text, *safe = NULL, rem[32];
	int ch, json = 0;

	while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("status");
			return 0;
		default:
			die_getopt("status", ch, argv);
		}
	}
	if (optind != argc)
		die_usage("status", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd status: %s\n", escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "status");
	if ((reply = client_call(&roots, req, 0, &cause)) == NULL &&
	    errno != ENOTCONN) {
		fprintf(stderr, "agentd status: %s\n",
		    cause ? escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	if (reply == NULL) {
		/* No daemon is a state, not a failure: it has no sessions. */
		if (json)
			printf("[]\n");
		else
			printf("agentd is not running (%s)\n",
			    escape_term_str(cause));
		free(cause);
		return 0;
	}
	sessions = cJSON_GetObjectItemCaseSensitive(reply, "sessions");
	if (json) {
		/* cJSON leaves DEL and C1 raw in strings: escaped too. */
		if ((text = cJSON_PrintUnformatted(sessions)) != NULL &&
		    (safe = escape_json(text, strlen(text))) != NULL)
			printf("%s\n", safe);
		free(safe);
		free(text);
	} else {
		printf("%-26s  %-8s  %-9s  %4s  %-20s  %s\n", "SESSION", "STATE",
		    "REMAINING", "KEYS", "EXPIRES", "LABEL");
		cJSON_ArrayForEach(s, sessions) {
			if (ctlmsg_get_uint(s, "remaining_s", 0, UINT64_MAX,
			    &left) == -1)
				left = 0;
			duration_format(left, rem, sizeof(rem));
			if (ctlmsg_get_uint(s, "keys_held", 0, INT32_MAX,
			    &keys) == -1)
				keys = 0;
			/* Every string is the daemon's or a user's: escaped
			 * (lib/escape), so a label cannot forge a row. */
			printf("%-26s  %-8s  %-9s  %4d  %-20s  %s\n",
			    escape_term_str(ctlmsg_get_str(s, "session")),
			    escape_term_str(ctlmsg_get_str(s, "state")), rem,
			    (int)keys,
			    escape_term_str(ctlmsg_get_str(s, "expires_at")),
			    escape_term_str(ctlmsg_get_str(s, "label")));
		}
	}
	cJSON_Delete(reply);
	return 0;
}
