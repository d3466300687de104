/* agentd serve: run the supervisor (in the background unless --foreground). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd.h"
#include "escape.h"
#include "privdir.h"
#include "recorder.h"

/* Returns in the parent once the daemon listens (0) or has failed (1). */
static int
daemonize(int *readyfd)
{
	char buf[1024];
	ssize_t n;
	size_t have = 0;
	int pfd[2], null;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "agentd serve: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(pfd[1]);
		while (have < sizeof(buf) - 1 &&
		    (n = read(pfd[0], buf + have, sizeof(buf) - 1 - have)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				break;
			have += (size_t)n;
		}
		buf[have] = '\0';
		if (strcmp(buf, "ok\n") == 0)
			exit(0);
		fprintf(stderr, "agentd serve: %s", have ? buf :
		    "daemon exited during start-up\n");
		exit(1);
	}
	close(pfd[0]);
	/* A new session: no controlling terminal, no signals from the caller's. */
	if (setsid() == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		_exit(1);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	*readyfd = pfd[1];
	return 0;
}

/* Background daemons keep their warnings in S/agentd.log (0600). */
static void
redirect_stderr(const struct roots *r)
{
	int dirfd, fd = -1;

	/* Only inside a verified state root: an unsafe one stays untouched
	 * (server_init then refuses it and says why on the ready pipe). */
	if ((dirfd = privdir_path(r->state, PRIVDIR_CREATE, NULL)) != -1) {
		fd = openat(dirfd, "agentd.log", O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		close(dirfd);
	}
	if (fd == -1)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "journal", no_argument, NULL, 'j' },
		{ "max-ttl", required_argument, NULL, 'm' },
		{ "no-spare", no_argument, NULL, 'n' },
		{ "recorder", required_argument, NULL, 'r' },
		{ "on-recording-failure", required_argument, NULL, 'p' },
		{ "recording-failure-message", required_argument, NULL, 'M' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts opts = { .max_ttl = DEFAULT_MAX_TTL };
	struct roots roots;
	char *cause = NULL;
	int ch, readyfd = -1;

	while ((ch = getopt_long(argc, argv, "+fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			opts.foreground = 1;
			break;
		case 'j':
			opts.journal = 1;
			break;
		case 'm':
			parse_duration_opt("serve", "--max-ttl", optarg,
			    &opts.max_ttl);
			break;
		case 'n':
			opts.no_spare = 1;
			break;
		case 'r':
			if (recorder_addr_check(optarg) == -1)
				die_usage("serve", "--recorder %s: want IPV4:PORT "
				    "or [IPV6]:PORT", optarg);
			if (opts.nrecorders == RECORDERS_MAX)
				die_usage("serve", "at most %d recorders",
				    RECORDERS_MAX);
			opts.recorders[opts.nrecorders++] = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "continue") == 0)
				opts.on_recording_failure = RECORDING_CONTINUE;
			else if (strcmp(optarg, "reject") == 0)
				opts.on_recording_failure = RECORDING_REJECT;
			else if (strcmp(optarg, "terminate") == 0)
				opts.on_recording_failure = RECORDING_TERMINATE;
			else
				die_usage("serve", "--on-recording-failure: want "
				    "continue, reject or terminate");
			break;
		case 'M':
			if (strlen(optarg) > 1024)
				die_usage("serve", "--recording-failure-message: "
				    "at most 1024 bytes");
			opts.recording_message = optarg;
			break;
		case 'D':
			dir_opt = optarg;
			break;
		case 'h':
			usage_for("serve");
			return 0;
		default:
			usage_for("serve");
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_usage("serve", "unexpected argument '%s'", argv[optind]);
	if (roots_resolve(&roots, &cause) == -1) {
		fprintf(stderr, "agentd serve: %s\n", escape_term_str(cause));
		return 1;
	}
	/* Only the daemon needs libsodium initialised (ids, hashes): it costs
	 * milliseconds, which every client verb would pay for nothing. */
	if (sodium_init() < 0) {
		fprintf(stderr, "agentd serve: cannot initialise libsodium\n");
		return 1;
	}
	umask(077);
	/* Autostarted through /proc/self/exe, ps would call us "exe". */
	(void)prctl(PR_SET_NAME, "agentd");
	if (!opts.foreground) {
		daemonize(&readyfd);
		redirect_stderr(&roots);
	}
	return server_run(&roots, &opts, readyfd);
}
