/*
 * agentd kill (agentd -k): stop every session and the daemon, like
 * ssh-agent -k; prints the unsets of the session variables for eval.
 * stop --all ends the sessions only: the daemon and its spare agent stay.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "escape.h"

int
cmd_kill(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum eval_format fmt = eval_format_default();
	struct roots roots;
	cJSON *req, *reply;
	uint64_t pid;
	char *cause = NULL;
	int ch, fmt_set = 0;

	while ((ch = getopt_long(argc, argv, "+:hsc", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			eval_format_set("kill", &fmt, &fmt_set, EVAL_SH);
			break;
		case 'c':
			eval_format_set("kill", &fmt, &fmt_set, EVAL_CSH);
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("kill");
			return 0;
		default:
			die_getopt("kill", ch, argv);
		}
	}
	if (optind != argc)
		die_usage("kill", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd kill: %s\n", escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "kill");
	/* The reply comes once every session's end is logged and the daemon
	 * has removed its socket and pidfile: it exits right after. */
	client_wait_note = "agentd kill: waiting for every session and the "
	    "daemon to end (SIGTERM to the agents, SIGHUP to linked shells, "
	    "SIGKILL after " STOP_GRACE_STR " s)";
	reply = client_call(&roots, req, CLIENT_WAIT_STOP, &cause);
	client_wait_note = NULL;
	if (reply == NULL) {
		fprintf(stderr, "agentd kill: %s\n", cause ?
		    escape_term_str(cause) : "failed");
		free(cause);
		return 1;
	}
	eval_print_unset(fmt);
	if (ctlmsg_get_uint(reply, "pid", 1, INT32_MAX, &pid) == 0)
		printf("echo agentd pid %llu killed;\n",
		    (unsigned long long)pid);
	cJSON_Delete(reply);
	return 0;
}
