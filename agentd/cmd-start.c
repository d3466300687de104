/* agentd start: a new session; prints its environment for eval. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "escape.h"

enum start_format { FMT_SH, FMT_CSH, FMT_JSON };

/* Single-quotes s for sh and csh ('\'' closes, escapes, reopens). */
static void
print_quoted(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static void
print_env(enum start_format fmt, const char *name, const char *value)
{
	if (fmt == FMT_CSH) {
		printf("setenv %s ", name);
		print_quoted(value);
		printf(";\n");
	} else {
		printf("%s=", name);
		print_quoted(value);
		printf("; export %s;\n", name);
	}
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
	enum start_format fmt = FMT_SH;
	const char *shell = getenv("SHELL"), *label = NULL;
	uint64_t ttl = 0, key_ttl = 0;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL, *text;
	int ch;

	if (shell != NULL && strlen(shell) >= 3 &&
	    strcmp(shell + strlen(shell) - 3, "csh") == 0)
		fmt = FMT_CSH;	/* like ssh-agent */
	while ((ch = getopt_long(argc, argv, "+sch", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			parse_duration_opt("start", "--ttl", optarg, &ttl);
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
			fmt = FMT_SH;
			break;
		case 'c':
			fmt = FMT_CSH;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("start");
			return 0;
		default:
			usage_for("start");
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_usage("start", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd start: %s\n", escape_term_str(cause));
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
	if ((reply = client_call(&roots, req, 1, &cause)) == NULL) {
		fprintf(stderr, "agentd start: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
	if (fmt == FMT_JSON) {
		if ((text = cJSON_PrintUnformatted(reply)) != NULL)
			printf("%s\n", text);
		free(text);
	} else {
		print_env(fmt, "SSH_AUTH_SOCK", ctlmsg_get_str(reply, "socket"));
		print_env(fmt, "AGENTD_SESSION",
		    ctlmsg_get_str(reply, "session"));
		printf("echo agentd session %s expires at %s;\n",
		    ctlmsg_get_str(reply, "session"),
		    ctlmsg_get_str(reply, "expires_at"));
	}
	cJSON_Delete(reply);
	return fflush(stdout) == 0 ? 0 : 1;
}
