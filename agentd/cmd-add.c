/* agentd add: load keys into a session with ssh-add, lifetime capped. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agentd.h"
#include "ctlmsg.h"

/* Runs argv with stdout captured into out (NUL-terminated); returns the exit
 * status or -1. stderr is discarded: ssh-keygen's complaints are not ours. */
static int
run_capture(char *const argv[], char *out, size_t outlen)
{
	size_t have = 0;
	ssize_t n;
	int pfd[2], status, null;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDERR_FILENO);
		}
		dup2(pfd[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (have < outlen - 1 &&
	    (n = read(pfd[0], out + have, outlen - 1 - have)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		have += (size_t)n;
	}
	out[have] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The SHA256 fingerprint of a key file as ssh-keygen -lf prints it, or NULL
 * (an old-format encrypted key without a .pub cannot be read unlocked). */
static char *
key_fingerprint(const char *file)
{
	char a0[] = "ssh-keygen", a1[] = "-lf", path[PATH_MAX];
	char *argv[] = { a0, a1, path, NULL };
	char out[1024], *fp, *end;

	if (strlcpy(path, file, sizeof(path)) >= sizeof(path))
		return NULL;
	if (run_capture(argv, out, sizeof(out)) != 0)
		return NULL;
	if ((fp = strstr(out, " SHA256:")) == NULL)
		return NULL;
	fp++;
	end = fp + strcspn(fp, " \n");
	*end = '\0';
	return strdup(fp);
}

static int
run_ssh_add(const char *socket, uint64_t lifetime, char **files, int nfiles)
{
	char a0[] = "ssh-add", a1[] = "-t", life[24], **argv;
	int i, status;
	pid_t pid;

	if ((argv = calloc((size_t)nfiles + 4, sizeof(*argv))) == NULL)
		return -1;
	snprintf(life, sizeof(life), "%llu", (unsigned long long)lifetime);
	argv[0] = a0;
	argv[1] = a1;
	argv[2] = life;
	for (i = 0; i < nfiles; i++)
		argv[3 + i] = files[i];
	if ((pid = fork()) == -1) {
		free(argv);
		return -1;
	}
	if (pid == 0) {
		/* The terminal stays ours: ssh-add may ask for a passphrase. */
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
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *session = getenv("AGENTD_SESSION"), *socket;
	const cJSON *item;
	uint64_t lifetime = 0, granted = 0;
	struct roots roots;
	cJSON *req, *reply, *fps;
	char *cause = NULL, *fp;
	int ch, i, rc;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			session = optarg;
			break;
		case 't':
			parse_duration_opt("add", "--lifetime", optarg,
			    &lifetime);
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("add");
			return 0;
		default:
			usage_for("add");
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		die_usage("add", "no key file given");
	if (session == NULL || *session == '\0')
		die_usage("add", "no session: use --session ID or set "
		    "AGENTD_SESSION (agentd start prints it)");
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd add: %s\n", cause);
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

	fps = cJSON_CreateArray();
	for (i = optind; i < argc; i++) {
		if ((fp = key_fingerprint(argv[i])) != NULL) {
			cJSON_AddItemToArray(fps, cJSON_CreateString(fp));
			free(fp);
		}
	}
	rc = run_ssh_add(socket, granted, argv + optind, argc - optind);
	cJSON_Delete(reply);

	/* Even after a partial failure: log whatever the agent now holds. */
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "add_done");
	cJSON_AddStringToObject(req, "session", session);
	cJSON_AddNumberToObject(req, "lifetime_s", (double)granted);
	cJSON_AddItemToObject(req, "fingerprints", fps);
	if ((reply = client_call(&roots, req, 0, &cause)) == NULL)
		goto fail;
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(reply,
	    "loaded")) {
		printf("key_loaded %s %s lifetime %llus\n",
		    ctlmsg_get_str(item, "fingerprint"),
		    ctlmsg_get_str(item, "key_type"),
		    (unsigned long long)granted);
	}
	cJSON_Delete(reply);
	if (rc != 0) {
		fprintf(stderr, "agentd add: ssh-add failed (exit %d)\n", rc);
		return 1;
	}
	return 0;
fail:
	fprintf(stderr, "agentd add: %s\n", cause ? cause : "failed");
	free(cause);
	return 1;
}
