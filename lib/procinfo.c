/* procinfo: process identity from /proc. See procinfo.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int
procinfo_stat(pid_t pid, uint64_t *starttime, pid_t *ppid, char *state)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long v;
	long pp = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* comm (field 2) may hold spaces and ')': fields resume after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	p++;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (field == 3) {	/* state is a letter, not a number */
			if (state != NULL)
				*state = *p;
			while (*p != ' ' && *p != '\0')
				p++;
			continue;
		}
		if (end == p || errno != 0) {
			errno = EINVAL;
			return -1;
		}
		if (field == 4)
			pp = (long)v;
		if (field == 22)
			*starttime = v;
		p = end;
	}
	if (ppid != NULL)
		*ppid = (pid_t)pp;
	return 0;
}

int
procinfo_boot_id(char out[PROCINFO_BOOTID_LEN + 1])
{
	char buf[64];

	if (read_small("/proc/sys/kernel/random/boot_id", buf, sizeof(buf)) <
	    PROCINFO_BOOTID_LEN) {
		errno = EIO;
		return -1;
	}
	memcpy(out, buf, PROCINFO_BOOTID_LEN);
	out[PROCINFO_BOOTID_LEN] = '\0';
	return 0;
}

static int
read_comm(pid_t pid, char out[PROCINFO_COMM_LEN + 1])
{
	char path[64], buf[PROCINFO_COMM_LEN + 2];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((n = read_small(path, buf, sizeof(buf))) <= 0)
		return -1;
	if (buf[n - 1] == '\n')
		buf[--n] = '\0';
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

int
procinfo_caller(pid_t pid, struct procinfo_caller *out)
{
	char path[64];
	uint64_t st;
	pid_t p = pid, pp;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if (read_comm(pid, out->comm) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	n = readlink(path, out->exe, sizeof(out->exe) - 1);
	out->exe[n > 0 ? n : 0] = '\0';
	while (out->nancestry < PROCINFO_ANCESTRY) {
		if (procinfo_stat(p, &st, &pp, NULL) == -1 || pp <= 0 ||
		    read_comm(pp, out->ancestry[out->nancestry]) == -1)
			break;
		out->nancestry++;
		p = pp;
	}
	return 0;
}
