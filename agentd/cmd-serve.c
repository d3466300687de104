/* agentd serve: run the supervisor (in the background unless --foreground). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd.h"
#include "escape.h"
#include "privdir.h"
#include "recorder.h"

/*
 * Returns in the parent once the daemon listens (0) or has failed (1). The
 * parent waits client_timeout_ms() for the daemon's word; a daemon that
 * stays silent longer is killed (its whole process group: it is the only
 * member left after the first child's exit), so a failed start leaves no
 * daemon behind.
 */
static int
daemonize(int *readyfd)
{
	struct pollfd pfd1;
	char buf[1024];
	ssize_t n;
	size_t have = 0;
	int pfd[2], null, r, ms;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "agentd serve: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(pfd[1]);
		ms = client_timeout_ms();
		pfd1.fd = pfd[0];
		pfd1.events = POLLIN;
		while (have < sizeof(buf) - 1) {
			/* The daemon writes its one line, then closes. */
			if ((r = poll(&pfd1, 1, ms)) == -1 && errno == EINTR)
				continue;
			if (r == 0) {
				(void)kill(-pid, SIGKILL);
				(void)waitpid(pid, NULL, 0);
				fprintf(stderr, "agentd serve: the daemon did not "
				    "become ready within %d s (stopped it)\n",
				    ms / 1000);
				exit(1);
			}
			n = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
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

/*
 * Background daemons keep their warnings in S/agentd.log: a regular file of
 * ours, not writable by group or others, opened without following a symlink
 * or blocking on a FIFO (privdir_append_file). Anything else is refused with
 * one line, like audit.jsonl, and the daemon does not start.
 */
static int
redirect_stderr(const struct roots *r, char **cause)
{
	char shown[PATH_MAX + 16];
	int dirfd, fd;

	/* Only inside a verified state root: an unsafe one stays untouched
	 * (server_init then refuses it and says why on the ready pipe). */
	if ((dirfd = privdir_path(r->state, PRIVDIR_CREATE, NULL)) != -1) {
		snprintf(shown, sizeof(shown), "%s/agentd.log", r->state);
		fd = privdir_append_file(dirfd, "agentd.log", shown, cause);
		close(dirfd);
		if (fd == -1)
			return -1;
	} else if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return 0;
	dup2(fd, STDERR_FILENO);
	close(fd);
	return 0;
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
		{ "signing-key", required_argument, NULL, 'k' },
		{ "checkpoint-interval", required_argument, NULL, 'i' },
		{ "approval-timeout", required_argument, NULL, 'A' },
		{ "approval-delegate", required_argument, NULL, 'U' },
		{ "approval-command", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts opts = { .max_ttl = DEFAULT_MAX_TTL };
	struct roots roots;
	char *cause = NULL;
	int ch, readyfd = -1;

	while ((ch = getopt_long(argc, argv, "+:fh", longopts, NULL)) != -1) {
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
		case 'k':
			/* The daemon chdirs to /: a relative path would move. */
			if (optarg[0] != '/' || optarg[strlen(optarg) - 1] == '/')
				die_usage("serve", "--signing-key: want an absolute "
				    "file path");
			opts.signing_key = optarg;
			break;
		case 'i':
			parse_duration_opt("serve", "--checkpoint-interval",
			    optarg, &opts.checkpoint_interval);
			break;
		case 'A':
			parse_duration_opt("serve", "--approval-timeout",
			    optarg, &opts.approval_timeout);
			break;
		case 'U':
			if (strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "https://", 8) != 0)
				die_usage("serve", "--approval-delegate: an "
				    "http:// or https:// URL");
			opts.approval_delegate = optarg;
			break;
		case 'C':
			if (*optarg == '\0')
				die_usage("serve", "--approval-command: empty");
			opts.approval_command = optarg;
			break;
		case 'h':
			usage_for("serve");
			return 0;
		default:
			die_getopt("serve", ch, argv);
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
		if (redirect_stderr(&roots, &cause) == -1) {
			dprintf(readyfd, "%s\n", cause ? cause : "out of memory");
			free(cause);
			return 1;
		}
	}
	return server_run(&roots, &opts, readyfd);
}
