/* auditlog: the tamper-evident audit log writer. See auditlog.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <cJSON.h>
#include <sodium.h>

#include "cause.h"
#include "auditlog.h"
#include "auditread.h"
#include "jsonw.h"
#include "timefmt.h"

/* Backwards scans and copies of the tail read this much at a time. */
#define AUDITLOG_CHUNK		(64 * 1024)
/* The last line must fit this, and so must every line we write: a line the
 * reader would skip could not be chained onto at the next open. */
#define AUDITLOG_MAX_LINE	AUDITREAD_MAX_LINE
/* Integers up to 2^53 survive cJSON's doubles exactly. */
#define AUDITLOG_MAX_SEQ	(1ULL << 53)
/* Attempts at a free "<name>.torn-<ts>-N" before giving up. */
#define AUDITLOG_TORN_TRIES	100

struct auditlog {
	int		 fd;
	char		*name;
	struct jsonw	 line;		/* reused between events */
	int		 inevent;	/* auditlog_begin called, not yet committed */
	int		 dirty;		/* a failed line may still be in the file */
	off_t		 good;		/* file size after the last durable line */
	uint64_t	 seq;		/* seq of the next event */
	char		 prev[AUDITLOG_HASH_HEX + 1];
	void		(*tap)(const char *, size_t, void *);	/* set_tap */
	void		*tap_arg;
	void		(*hook)(void *, uint64_t);	/* auditlog_on_commit */
	void		*hook_arg;
	int		 inhook;
};

void
auditlog_hash_line(const char *line, size_t len,
    char out[AUDITLOG_HASH_HEX + 1])
{
	unsigned char	 hash[32];

	crypto_generichash(hash, sizeof(hash), (const unsigned char *)line,
	    len, NULL, 0);
	sodium_bin2hex(out, AUDITLOG_HASH_HEX + 1, hash, sizeof(hash));
}

/* pread that retries EINTR and reads exactly len bytes (EIO on early EOF). */
static int
auditlog_pread(int fd, char *buf, size_t len, off_t off)
{
	ssize_t	 n;

	while (len > 0) {
		n = pread(fd, buf, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;	/* the file shrank under our lock */
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int
auditlog_writeall(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Finds the last '\n' in [lo, end) of fd, reading backwards in chunks so a
 * long file is never read whole. Sets *pos to its offset, or -1 when there is
 * none.
 */
static int
auditlog_lastnl(int fd, off_t lo, off_t end, off_t *pos)
{
	char	 buf[AUDITLOG_CHUNK];
	char	*nl;
	size_t	 n;

	while (end > lo) {
		n = end - lo > AUDITLOG_CHUNK ? AUDITLOG_CHUNK : (size_t)(end - lo);
		if (auditlog_pread(fd, buf, n, end - (off_t)n) == -1)
			return -1;
		if ((nl = memrchr(buf, '\n', n)) != NULL) {
			*pos = end - (off_t)n + (nl - buf);
			return 0;
		}
		end -= (off_t)n;
	}
	*pos = -1;
	return 0;
}

/* Creates "<name>.torn-<ts>[-N]" exclusively in dirfd; its name in *torn. */
static int
auditlog_torn_create(int dirfd, const char *name, char **torn, char **cause)
{
	char	 ts[sizeof("20261123T110633Z")];
	time_t	 now;
	struct tm tm;
	int	 fd, i;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < AUDITLOG_TORN_TRIES; i++) {
		if (i == 0 && asprintf(torn, "%s.torn-%s", name, ts) == -1)
			goto nomem;
		if (i > 0 && asprintf(torn, "%s.torn-%s-%d", name, ts, i) == -1)
			goto nomem;
		fd = openat(dirfd, *torn, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC|
		    O_NOFOLLOW, 0600);
		if (fd != -1)
			return fd;
		if (errno != EEXIST) {
			cause_set(cause, "%s: %s", *torn, strerror(errno));
			free(*torn);
			*torn = NULL;
			return -1;
		}
		free(*torn);
		*torn = NULL;
	}
	errno = EEXIST;
	cause_set(cause, "%s.torn-%s: no free name for the torn tail",
	    name, ts);
	return -1;
nomem:
	*torn = NULL;
	errno = ENOMEM;
	cause_set(cause, "%s: out of memory", name);
	return -1;
}

/*
 * Moves the bytes [from, size) aside into a new torn file and cuts the log
 * back to end at `from`. The copy is durable before the cut, so a crash in
 * between leaves the bytes twice, never nowhere.
 */
static int
auditlog_torn_repair(struct auditlog *log, int dirfd, off_t from, off_t size,
    struct auditlog_openinfo *info, char **cause)
{
	char	 buf[AUDITLOG_CHUNK];
	char	*torn = NULL;
	off_t	 off;
	size_t	 n;
	int	 tfd;

	if ((tfd = auditlog_torn_create(dirfd, log->name, &torn, cause)) == -1)
		return -1;
	for (off = from; off < size; off += (off_t)n) {
		n = size - off > AUDITLOG_CHUNK ? AUDITLOG_CHUNK :
		    (size_t)(size - off);
		if (auditlog_pread(log->fd, buf, n, off) == -1) {
			cause_set(cause, "%s: read failed: %s", log->name,
			    strerror(errno));
			goto fail;
		}
		if (auditlog_writeall(tfd, buf, n) == -1) {
			cause_set(cause, "%s: write failed: %s", torn,
			    strerror(errno));
			goto fail;
		}
	}
	if (fsync(tfd) == -1 || fsync(dirfd) == -1) {
		cause_set(cause, "%s: fsync failed: %s", torn,
		    strerror(errno));
		goto fail;
	}
	close(tfd);
	tfd = -1;
	if (ftruncate(log->fd, from) == -1 || fsync(log->fd) == -1) {
		cause_set(cause, "%s: cutting the torn tail failed: %s",
		    log->name, strerror(errno));
		goto fail;
	}
	if (info != NULL) {
		info->torn = 1;
		strlcpy(info->torn_name, torn, sizeof(info->torn_name));
		info->torn_bytes = size - from;
	}
	free(torn);
	return 0;
fail:
	if (tfd != -1) {
		int saved = errno;

		close(tfd);
		errno = saved;
	}
	free(torn);
	return -1;
}

/* Takes next seq and prev from the last line, [start, nl) of the file. */
static int
auditlog_resume(struct auditlog *log, off_t start, off_t nl,
    struct auditlog_openinfo *info, char **cause)
{
	char		*line;
	size_t		 len = (size_t)(nl - start);
	cJSON		*obj;
	const cJSON	*seq;
	double		 d;
	int		 ok;

	if ((line = malloc(len + 1)) == NULL) {
		cause_set(cause, "%s: out of memory", log->name);
		return -1;
	}
	if (auditlog_pread(log->fd, line, len, start) == -1) {
		cause_set(cause, "%s: read failed: %s", log->name,
		    strerror(errno));
		free(line);
		return -1;
	}
	line[len] = '\0';
	/* The whole line must be the object: nothing may follow it. */
	if (memchr(line, '\0', len) == NULL)
		obj = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
	else
		obj = NULL;
	seq = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	ok = cJSON_IsObject(obj) && cJSON_IsNumber(seq);
	if (ok) {
		d = seq->valuedouble;
		ok = d >= 1 && d <= (double)AUDITLOG_MAX_SEQ &&
		    d == (double)(uint64_t)d;
	}
	if (ok) {
		log->seq = (uint64_t)d + 1;
		auditlog_hash_line(line, len, log->prev);
		if (info != NULL && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		    obj, "event")))
			strlcpy(info->last_event, cJSON_GetObjectItemCaseSensitive(
			    obj, "event")->valuestring, sizeof(info->last_event));
	}
	cJSON_Delete(obj);
	free(line);
	if (!ok) {
		errno = EINVAL;
		cause_set(cause, "%s: last line is not an agentd audit "
		    "event; refusing to append", log->name);
		return -1;
	}
	return 0;
}

/*
 * Opens name, creating it exclusively when missing so that we know whether
 * its directory entry is new and must be made durable.
 */
static int
auditlog_openfile(int dirfd, const char *name, int *created)
{
	int	 fd, i;

	for (i = 0; i < 2; i++) {
		fd = openat(dirfd, name, O_RDWR|O_APPEND|O_CREAT|O_EXCL|
		    O_CLOEXEC|O_NOFOLLOW, 0600);
		if (fd != -1) {
			*created = 1;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, O_RDWR|O_APPEND|O_CLOEXEC|O_NOFOLLOW);
		if (fd != -1 || errno != ENOENT)
			break;
		/* Removed between the two opens: try creating it again. */
	}
	*created = 0;
	return fd;
}

/*
 * Takes the writer's exclusive lock on the log. A reader may hold a shared
 * lock for an instant (auditctl asks whether a daemon holds the log with
 * LOCK_SH|LOCK_NB and lets go at once): such a lock is waited out, for up to
 * 200 ms; a daemon holds its lock for its whole life and is not. 0, or -1
 * with errno (EWOULDBLOCK: another writer).
 */
static int
auditlog_lock(int fd)
{
	const struct timespec step = { 0, 5 * 1000000L };
	int i;

	for (i = 0; flock(fd, LOCK_EX|LOCK_NB) == -1; i++) {
		if (errno != EWOULDBLOCK || i == 40)
			return -1;
		(void)nanosleep(&step, NULL);
	}
	return 0;
}

struct auditlog *
auditlog_open(int dirfd, const char *name, struct auditlog_openinfo *info,
    char **cause)
{
	struct auditlog	*log;
	struct stat	 st;
	off_t		 nl, prevnl, lo;
	int		 created;

	if (cause != NULL)
		*cause = NULL;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (sodium_init() < 0) {
		errno = EINVAL;
		cause_set(cause, "%s: libsodium failed to initialise",
		    name);
		return NULL;
	}
	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (log->name = strdup(name)) == NULL) {
		free(log);
		errno = ENOMEM;
		cause_set(cause, "%s: out of memory", name);
		return NULL;
	}
	log->fd = -1;
	jsonw_init(&log->line);

	if ((log->fd = auditlog_openfile(dirfd, name, &created)) == -1) {
		if (errno == ELOOP)
			cause_set(cause, "%s: is a symbolic link", name);
		else
			cause_set(cause, "%s: %s", name, strerror(errno));
		goto fail;
	}
	if (fstat(log->fd, &st) == -1) {
		cause_set(cause, "%s: fstat: %s", name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		cause_set(cause, "%s: not a regular file", name);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		cause_set(cause, "%s: owned by uid %lu, not %lu", name,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG|S_IRWXO)) != 0) {
		errno = EPERM;
		cause_set(cause, "%s: mode %04o is accessible by group or "
		    "others (want 0600)", name, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (auditlog_lock(log->fd) == -1) {
		if (errno == EWOULDBLOCK)
			cause_set(cause, "%s: locked by another agentd",
			    name);
		else
			cause_set(cause, "%s: flock: %s", name,
			    strerror(errno));
		goto fail;
	}
	if (created && fsync(dirfd) == -1) {
		cause_set(cause, "%s: fsync of its directory failed: %s",
		    name, strerror(errno));
		goto fail;
	}

	/* Size again: another writer may have appended before we locked. */
	if (fstat(log->fd, &st) == -1) {
		cause_set(cause, "%s: fstat: %s", name, strerror(errno));
		goto fail;
	}
	if (auditlog_lastnl(log->fd, 0, st.st_size, &nl) == -1) {
		cause_set(cause, "%s: read failed: %s", name,
		    strerror(errno));
		goto fail;
	}
	if (nl + 1 < st.st_size &&
	    auditlog_torn_repair(log, dirfd, nl + 1, st.st_size, info,
	    cause) == -1)
		goto fail;
	log->good = nl + 1;

	if (nl == -1) {
		log->seq = 1;
		memset(log->prev, '0', AUDITLOG_HASH_HEX);
		log->prev[AUDITLOG_HASH_HEX] = '\0';
	} else {
		/* One byte more than the longest line, to see its '\n'. */
		lo = nl > AUDITLOG_MAX_LINE + 1 ? nl - AUDITLOG_MAX_LINE - 1 : 0;
		if (auditlog_lastnl(log->fd, lo, nl, &prevnl) == -1) {
			cause_set(cause, "%s: read failed: %s", name,
			    strerror(errno));
			goto fail;
		}
		if (nl - prevnl - 1 > AUDITLOG_MAX_LINE) {
			errno = EFBIG;
			cause_set(cause, "%s: last line is longer than %d "
			    "bytes; refusing to append", name,
			    AUDITLOG_MAX_LINE);
			goto fail;
		}
		if (auditlog_resume(log, prevnl + 1, nl, info, cause) == -1)
			goto fail;
	}
	if (info != NULL)
		info->last_seq = log->seq - 1;
	return log;

fail:
	auditlog_close(log);
	return NULL;
}

void
auditlog_close(struct auditlog *log)
{
	int	 saved = errno;

	if (log == NULL)
		return;
	if (log->fd != -1)
		close(log->fd);	/* drops the flock */
	jsonw_free(&log->line);
	free(log->name);
	free(log);
	errno = saved;
}

struct jsonw *
auditlog_begin(struct auditlog *log, const char *event, const char *session)
{
	struct timespec	 now;
	char		 ts[TIMEFMT_LEN];

	clock_gettime(CLOCK_REALTIME, &now);
	timefmt_rfc3339(&now, ts);

	/* A second begin drops the event that was open. */
	jsonw_reset(&log->line);
	log->inevent = 1;
	jsonw_begin(&log->line);
	jsonw_int(&log->line, "v", 1);
	jsonw_uint(&log->line, "seq", log->seq);
	jsonw_str(&log->line, "ts", ts);
	jsonw_str(&log->line, "event", event);
	if (session == NULL)
		jsonw_null(&log->line, "session");
	else
		jsonw_str(&log->line, "session", session);
	return &log->line;
}

void
auditlog_abort(struct auditlog *log)
{
	jsonw_reset(&log->line);
	log->inevent = 0;
}

/* Cuts the file back to the last durable line after a failed commit. */
static void
auditlog_cutback(struct auditlog *log)
{
	int	 saved = errno;

	/* If this fails too, the next commit tries again before writing. */
	if (ftruncate(log->fd, log->good) == -1)
		log->dirty = 1;
	else
		log->dirty = 0;
	errno = saved;
}

int
auditlog_commit(struct auditlog *log, char **cause)
{
	struct jsonw	*w = &log->line;
	char		 hash[AUDITLOG_HASH_HEX + 1];
	struct stat	 st;
	size_t		 len;
	ssize_t		 n;

	if (cause != NULL)
		*cause = NULL;
	if (!log->inevent) {
		errno = EINVAL;
		cause_set(cause, "%s: commit without an event", log->name);
		return -1;
	}
	log->inevent = 0;

	jsonw_str(w, "prev", log->prev);
	jsonw_end(w);
	if (!jsonw_ok(w)) {
		errno = ENOMEM;
		cause_set(cause, "%s: out of memory", log->name);
		return -1;
	}
	len = w->len;
	if (len > AUDITLOG_MAX_LINE) {
		errno = EMSGSIZE;
		cause_set(cause, "%s: event of %zu bytes is longer than "
		    "%d bytes", log->name, len, AUDITLOG_MAX_LINE);
		return -1;
	}
	auditlog_hash_line(w->buf, len, hash);
	jsonw_raw(w, "\n", 1);
	if (!jsonw_ok(w)) {
		errno = ENOMEM;
		cause_set(cause, "%s: out of memory", log->name);
		return -1;
	}

	if (log->dirty) {
		if (ftruncate(log->fd, log->good) == -1) {
			cause_set(cause, "%s: cutting a failed line "
			    "failed: %s", log->name, strerror(errno));
			return -1;
		}
		log->dirty = 0;
	}
	/* What is there now is what we cut back to if this line fails. */
	if (fstat(log->fd, &st) == -1) {
		cause_set(cause, "%s: fstat: %s", log->name,
		    strerror(errno));
		return -1;
	}
	log->good = st.st_size;

	/* One write(2): a reader or a crash sees the whole line or a torn
	 * tail, never a line assembled from pieces. EINTR means nothing was
	 * written, so retrying keeps that. */
	do {
		n = write(log->fd, w->buf, w->len);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		auditlog_cutback(log);
		cause_set(cause, "%s: write failed: %s", log->name,
		    strerror(errno));
		return -1;
	}
	if ((size_t)n != w->len) {
		auditlog_cutback(log);
		/* Linux stops short only when out of space or over a limit. */
		errno = ENOSPC;
		cause_set(cause, "%s: write failed: %s (%zd of %zu bytes "
		    "written)", log->name, strerror(errno), n, w->len);
		return -1;
	}
	if (fsync(log->fd) == -1) {
		auditlog_cutback(log);
		cause_set(cause, "%s: fsync failed: %s", log->name,
		    strerror(errno));
		return -1;
	}

	log->good += (off_t)w->len;
	log->seq++;
	memcpy(log->prev, hash, sizeof(log->prev));
	/* The tap sees this line before the hook may write another one
	 * (checkpoints); the hook's lines come through here and are tapped
	 * too, in file order. */
	if (log->tap != NULL)
		log->tap(w->buf, w->len - 1, log->tap_arg);
	/* Last of all: a line the hook writes reuses w's buffer, so anything
	 * else that looks at this line must have run before. */
	if (log->hook != NULL && !log->inhook) {
		log->inhook = 1;
		log->hook(log->hook_arg, log->seq - 1);
		log->inhook = 0;
	}
	return 0;
}

int
auditlog_reopen(struct auditlog *log, int dirfd, const char *event,
    void (*fill)(struct jsonw *, void *), void *arg, char **cause)
{
	struct stat	 cur, st;
	struct jsonw	*w;
	off_t		 oldgood = log->good;
	int		 fd, oldfd = log->fd, olddirty = log->dirty, created = 0;

	if (cause != NULL)
		*cause = NULL;
	if (fstat(log->fd, &cur) == -1) {
		cause_set(cause, "%s: fstat: %s", log->name,
		    strerror(errno));
		return -1;
	}
	if (fstatat(dirfd, log->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == cur.st_dev && st.st_ino == cur.st_ino)
		return 0;	/* not moved: nothing to rotate */
	if ((fd = auditlog_openfile(dirfd, log->name, &created)) == -1) {
		cause_set(cause, "%s: %s", log->name, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & (S_IRWXG|S_IRWXO)) != 0 ||
	    st.st_size != 0) {
		close(fd);
		errno = EINVAL;
		cause_set(cause, "%s: the new file in its place is not an "
		    "empty regular file of ours with mode 0600; still writing "
		    "to the moved file", log->name);
		return -1;
	}
	if (auditlog_lock(fd) == -1) {
		cause_set(cause, "%s: flock: %s", log->name,
		    errno == EWOULDBLOCK ? "locked by another agentd" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (created && fsync(dirfd) == -1) {
		cause_set(cause, "%s: fsync of its directory failed: %s",
		    log->name, strerror(errno));
		goto undo;
	}
	/* The first line goes through the ordinary commit on the new fd. */
	log->fd = fd;
	log->good = 0;
	log->dirty = 0;
	w = auditlog_begin(log, event, NULL);
	if (fill != NULL)
		fill(w, arg);
	if (auditlog_commit(log, cause) == -1) {
		log->fd = oldfd;
		log->good = oldgood;
		log->dirty = olddirty;
		goto undo;
	}
	close(oldfd);	/* drops the old file's flock */
	return 1;
undo:
	{
		int saved = errno;

		/* Remove only the very file we made, never a stranger. */
		if (created && fstatat(dirfd, log->name, &cur,
		    AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &st) == 0 &&
		    cur.st_dev == st.st_dev && cur.st_ino == st.st_ino)
			(void)unlinkat(dirfd, log->name, 0);
		close(fd);
		errno = saved;
	}
	return -1;
}

void
auditlog_set_tap(struct auditlog *log,
    void (*fn)(const char *, size_t, void *), void *arg)
{
	log->tap = fn;
	log->tap_arg = arg;
}

uint64_t
auditlog_last_seq(const struct auditlog *log)
{
	return log->seq - 1;
}

const char *
auditlog_head(const struct auditlog *log)
{
	return log->prev;
}

int
auditlog_moved(const struct auditlog *log, int dirfd)
{
	struct stat	 cur, st;

	if (fstat(log->fd, &cur) == -1)
		return 0;
	return !(fstatat(dirfd, log->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == cur.st_dev && st.st_ino == cur.st_ino);
}

void
auditlog_on_commit(struct auditlog *log, void (*fn)(void *, uint64_t),
    void *arg)
{
	log->hook = fn;
	log->hook_arg = arg;
}

int
auditlog_fd(const struct auditlog *log)
{
	return log->fd;
}
