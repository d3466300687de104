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

#endif
