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
 * A stopped helper must not keep the agent alive either (DESIGN §3). agentd
 * makes us the leader of our own process group in its session, so its death
 * orphans the group, and the kernel sends SIGHUP and SIGCONT to an orphaned
 * group that has a stopped member: a SIGSTOPped tether wakes up and finds
 * SIGTERM (the death signal) or SIGHUP pending. The agent (its own session:
 * ssh-agent calls setsid) may be stopped too: we follow SIGTERM with SIGCONT
 * and, if it still runs after KILL_AFTER_S, SIGKILL.
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
#include <time.h>
#include <unistd.h>

#include "agentd.h"

#define KILL_AFTER_S	5	/* SIGTERM to SIGKILL, as agentd's own stop */

/* Ends the agent even if it is stopped: SIGTERM lets it remove its socket. */
static void
end_agent(pid_t agent)
{
	(void)kill(agent, SIGTERM);
	(void)kill(agent, SIGCONT);
}

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
	struct timespec grace = { .tv_sec = KILL_AFTER_S, .tv_nsec = 0 };
	sigset_t set;
	siginfo_t si;
	pid_t parent, agent;
	int status, ending = 0, r;

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
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent) {
		end_agent(agent);
		ending = 1;
	}
	printf("ready %ld\n", (long)agent);
	fflush(stdout);
	for (;;) {
		/* The agent may have ended before SIGCHLD was blocked. */
		if (waitpid(agent, &status, WNOHANG) == agent)
			break;
		r = ending ? sigtimedwait(&set, &si, &grace) :
		    sigwaitinfo(&set, &si);
		if (r == -1 && errno == EAGAIN) {
			(void)kill(agent, SIGKILL);	/* it did not end */
			ending = 0;
			continue;
		}
		if (r == -1 || si.si_signo == SIGCHLD)
			continue;
		end_agent(agent);	/* agentd died or asks us */
		ending = 1;
	}
	printf("exit %d\n", status);
	fflush(stdout);
	return 0;
}
