/*
 * tether: the command that ssh-agent runs in command mode (`ssh-agent -a SOCK
 * -t T -- agentd tether PID`). ssh-agent forks: the agent becomes our child
 * and polls getppid() every 10 s, exiting when we are gone; we exec'ed from
 * the agent's parent process, so we are agentd's own child.
 *
 * Debian's ssh-agent is setgid, so a PR_SET_PDEATHSIG set by agentd is cleared
 * when it is exec'd. We are not setgid: we set it again here, so that agentd's
 * death (even SIGKILL) reaches us at once, and we end the agent right away.
 * If we are killed too, the agent still sees its parent change within 10 s.
 *
 * Protocol on stdout (a pipe to agentd): "ready <agent pid>\n" once, then
 * "exit <wait status>\n" when the agent ends; then we exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentd.h"

static pid_t
parse_pid(const char *s)
{
	char *end;
	long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 1 || v > INT_MAX)
		return -1;
	return (pid_t)v;
}

int
cmd_tether(int argc, char **argv)
{
	sigset_t set;
	siginfo_t si;
	pid_t parent, agent;
	int status;

	if (argc != 2 || (parent = parse_pid(argv[1])) == -1 ||
	    (agent = parse_pid(getenv("SSH_AGENT_PID"))) == -1) {
		fprintf(stderr, "agentd tether: internal verb, run by agentd "
		    "through ssh-agent\n");
		return EXIT_USAGE;
	}
	/* A dead daemon must not kill us on a report before we end the agent. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Set, then check: the parent may have died before the prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		kill(agent, SIGTERM);
	printf("ready %ld\n", (long)agent);
	fflush(stdout);
	for (;;) {
		/* The agent may have ended before SIGCHLD was blocked. */
		if (waitpid(agent, &status, WNOHANG) == agent)
			break;
		if (sigwaitinfo(&set, &si) == -1)
			continue;
		if (si.si_signo != SIGCHLD)
			kill(agent, SIGTERM);	/* agentd died or asks us */
	}
	printf("exit %d\n", status);
	fflush(stdout);
	return 0;
}
