/* procinfo: proving that a pid is still the process we started (DESIGN §3):
 * pid + start time (clock ticks after boot, /proc/PID/stat field 22) + boot id. */
#ifndef AGENTD_PROCINFO_H
#define AGENTD_PROCINFO_H

#include <stdint.h>
#include <sys/types.h>

#define PROCINFO_BOOTID_LEN	36

/* Reads /proc/<pid>/stat: start time, parent pid and state letter ('R',
 * 'S', 'Z', …); ppid and state may be NULL. 0, or -1 with errno (ENOENT when
 * the process is gone). */
int	procinfo_stat(pid_t pid, uint64_t *starttime, pid_t *ppid, char *state);
/* Reads /proc/sys/kernel/random/boot_id into out[PROCINFO_BOOTID_LEN + 1]. */
int	procinfo_boot_id(char out[PROCINFO_BOOTID_LEN + 1]);

/*
 * Who is calling (DESIGN §8 "caller"): the pid, its comm, the path its exe
 * link names, and up to PROCINFO_ANCESTRY parent comms (nearest first).
 * Never a command line, cwd or environment. Strings are as the kernel gives
 * them (not escaped: a writer must escape them); exe is "" when the link
 * cannot be read (another uid, a kernel thread), ancestry stops at pid 1's
 * parent or at the first parent that cannot be read.
 */
#define PROCINFO_COMM_LEN	16	/* TASK_COMM_LEN, NUL included */
#define PROCINFO_EXE_LEN	4096
#define PROCINFO_ANCESTRY	4
struct procinfo_caller {
	pid_t	pid;
	char	comm[PROCINFO_COMM_LEN + 1];
	char	exe[PROCINFO_EXE_LEN];
	char	ancestry[PROCINFO_ANCESTRY][PROCINFO_COMM_LEN + 1];
	size_t	nancestry;
};
/* Fills out for pid (reads /proc/<pid>/{comm,exe,stat} and each parent's);
 * 0, or -1 with errno (ENOENT: the process is gone) when not even comm can
 * be read; out then holds the pid only. */
int	procinfo_caller(pid_t pid, struct procinfo_caller *out);

#endif
