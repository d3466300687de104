/*
 * agentd add: load keys into a session with ssh-add through the session's
 * public socket. The relay writes key_loaded for each key as the agent
 * accepts it; this verb only asks the daemon which socket and lifetime to use
 * (never longer than the session's remaining time) and runs ssh-add there,
 * with the caller's terminal for passphrase prompts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agentd.h"
#include "ctlmsg.h"
#include "escape.h"

static int
run_ssh_add(const char *socket, uint64_t lifetime, int confirm, char **files,
    int nfiles)
{
	char a0[] = "ssh-add", a1[] = "-t", ac[] = "-c", life[24], **argv;
	int i, n, status;
	pid_t pid;

	if ((argv = calloc((size_t)nfiles + 5, sizeof(*argv))) == NULL)
		return -1;
	snprintf(life, sizeof(life), "%llu", (unsigned long long)lifetime);
	argv[0] = a0;
	argv[1] = a1;
	argv[2] = life;
	n = 3;
	/* Each use then waits for an approval (DESIGN §8): the relay takes
	 * the constraint out and asks itself. */
	if (confirm)
		argv[n++] = ac;
	for (i = 0; i < nfiles; i++)
		argv[n + i] = files[i];
	if ((pid = fork()) == -1) {
		free(argv);
		return -1;
	}
	if (pid == 0) {
		/* The terminal stays ours: ssh-add may ask for a passphrase. */
		signal(SIGPIPE, SIG_DFL);
		setenv("SSH_AUTH_SOCK", socket, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "agentd add: cannot run ssh-add: %s\n",
		    strerror(errno));
		_exit(127);
	}
	free(argv);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
cmd_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 'S' },
		{ "lifetime", required_argument, NULL, 't' },
		{ "confirm", no_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *session = getenv("AGENTD_SESSION"), *socket;
	uint64_t lifetime = 0, granted = 0;
	struct roots roots;
	cJSON *req, *reply;
	char *cause = NULL;
	int ch, rc, confirm = 0;

	while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			session = optarg;
			break;
		case 't':
			parse_duration_opt("add", "--lifetime", optarg,
			    &lifetime);
			break;
		case 'c':
			confirm = 1;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("add");
			return 0;
		default:
			die_getopt("add", ch, argv);
		}
	}
	if (optind == argc)
		die_usage("add", "no key file given");
	if (session == NULL || *session == '\0')
		die_usage("add", "no session: use --session ID or set "
		    "AGENTD_SESSION (agentd start prints it)");
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd add: %s\n", escape_term_str(cause));
		return 1;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "add");
	cJSON_AddStringToObject(req, "session", session);
	if (lifetime != 0)
		cJSON_AddNumberToObject(req, "lifetime_s", (double)lifetime);
	if ((reply = client_call(&roots, req, 0, &cause)) == NULL)
		goto fail;
	socket = ctlmsg_get_str(reply, "socket");
	if (socket == NULL || ctlmsg_get_uint(reply, "lifetime_s", 1,
	    UINT32_MAX, &granted) == -1) {
		cJSON_Delete(reply);
		cause = strdup("malformed reply from the daemon");
		goto fail;
	}
	if (lifetime != 0 && granted < lifetime)
		fprintf(stderr, "agentd add: lifetime capped to %llus: the "
		    "session ends then\n", (unsigned long long)granted);

	rc = run_ssh_add(socket, granted, confirm, argv + optind,
	    argc - optind);
	cJSON_Delete(reply);
	if (rc != 0) {
		fprintf(stderr, "agentd add: ssh-add failed (exit %d)\n", rc);
		return 1;
	}
	return 0;
fail:
	fprintf(stderr, "agentd add: %s\n", cause ?
		    escape_term_str(cause) : "failed");
	free(cause);
	return 1;
}
