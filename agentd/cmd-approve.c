/* agentd approvals / approve / deny: held signatures (DESIGN §8). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "escape.h"

static const char *
str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

/* One line per held request, every user string escaped for the terminal. */
static void
print_approval(const cJSON *a)
{
	const cJSON *caller = cJSON_GetObjectItemCaseSensitive(a, "caller");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(caller, "pid");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(a, "waiting_s");

	printf("%s", escape_term_str(str_of(a, "id")));
	printf(" session %s", escape_term_str(str_of(a, "session")));
	if (*str_of(a, "label") != '\0')
		printf(" (%s)", escape_term_str(str_of(a, "label")));
	printf(" %s", escape_term_str(str_of(a, "kind")));
	printf(" key %s", escape_term_str(str_of(a, "fingerprint")));
	printf(" dest %s", escape_term_str(str_of(a, "dest_hostkey")));
	printf(" caller %s", escape_term_str(str_of(caller, "comm")));
	printf("[%lld]", cJSON_IsNumber(pid) ? (long long)pid->valuedouble :
	    -1LL);
	printf(" %s", escape_term_str(str_of(caller, "exe")));
	printf(" waiting %llds\n", cJSON_IsNumber(w) ?
	    (long long)w->valuedouble : 0LL);
}

int
cmd_approvals(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "wait", no_argument, NULL, 'w' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const cJSON *list, *a;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL, *text;
	int ch, json = 0, wait = 0;

	while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'w':
			wait = 1;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("approvals");
			return 0;
		default:
			die_getopt("approvals", ch, argv);
		}
	}
	if (optind != argc)
		die_usage("approvals", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd approvals: %s\n", escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "approvals");
	if (wait)
		cJSON_AddTrueToObject(req, "wait");
	if ((reply = client_call(&roots, req, 0, &cause)) == NULL) {
		fprintf(stderr, "agentd approvals: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	list = cJSON_GetObjectItemCaseSensitive(reply, "approvals");
	if (json) {
		/* cJSON escapes control characters in strings. */
		if ((text = cJSON_PrintUnformatted(list)) != NULL)
			printf("%s\n", text);
		free(text);
	} else {
		cJSON_ArrayForEach(a, list)
			print_approval(a);
	}
	cJSON_Delete(reply);
	return 0;
}

static int
decide(const char *verb, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool approve = strcmp(verb, "approve") == 0;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL;
	uint64_t for_s = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (!approve)
				die_getopt(verb, '?', argv);
			parse_duration_opt(verb, "--for", optarg, &for_s);
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for(verb);
			return 0;
		default:
			die_getopt(verb, ch, argv);
		}
	}
	if (optind != argc - 1)
		die_usage(verb, optind == argc ? "no request ID" :
		    "one request ID only");
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd %s: %s\n", verb, escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "decide");
	cJSON_AddStringToObject(req, "id", argv[optind]);
	cJSON_AddStringToObject(req, "decision", approve ? "approve" : "deny");
	if (for_s > 0)
		cJSON_AddNumberToObject(req, "for_s", (double)for_s);
	if ((reply = client_call(&roots, req, 0, &cause)) == NULL) {
		fprintf(stderr, "agentd %s: %s\n", verb, cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	printf("%s %s\n", approve ? "approved" : "denied",
	    escape_term_str(argv[optind]));
	cJSON_Delete(reply);
	return 0;
}

int
cmd_approve(int argc, char **argv)
{
	return decide("approve", argc, argv);
}

int
cmd_deny(int argc, char **argv)
{
	return decide("deny", argc, argv);
}
