/* Unit tests for auditlog and auditread (DESIGN §4). Each test runs in its own
 * process (Check fork mode) with its own mkdtemp directory under /tmp. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cJSON.h>
#include <sodium.h>

#include "auditlog.h"
#include "auditread.h"
#include "jsonw.h"
#include "checkrun.h"

#define LOGNAME		"audit.jsonl"
#define ZEROS \
	"0000000000000000000000000000000000000000000000000000000000000000"

static char	 tmpdir[64];
static int	 tdir = -1;

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/check_auditlog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	tdir = open(tmpdir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
	ck_assert_int_ge(tdir, 0);
}

static void
teardown(void)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = fdopendir(tdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				unlinkat(tdir, de->d_name, 0);
		}
		closedir(d);
	}
	tdir = -1;
	rmdir(tmpdir);
}

/* BLAKE2b-256 hex, computed here without auditlog_hash_line. */
static void
test_hash(const char *s, size_t len, char out[AUDITLOG_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 h[32];
	size_t		 i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)s, len, NULL, 0);
	for (i = 0; i < sizeof(h); i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 0xf];
	}
	out[AUDITLOG_HASH_HEX] = '\0';
}

static void
write_file(const char *name, const char *data, size_t len, mode_t mode)
{
	int	 fd;

	fd = openat(tdir, name, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
append_file(const char *name, const char *data, size_t len)
{
	int	 fd;

	fd = openat(tdir, name, O_WRONLY|O_APPEND|O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The whole file, NUL-terminated; small files only. */
static char *
read_file(const char *name, size_t *len)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	fd = openat(tdir, name, O_RDONLY|O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static off_t
file_size(const char *name)
{
	struct stat	 st;

	ck_assert_int_eq(fstatat(tdir, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_size;
}

static struct auditlog *
open_log(struct auditlog_openinfo *info)
{
	struct auditlog	*log;
	char		*cause = NULL;

	log = auditlog_open(tdir, LOGNAME, info, &cause);
	ck_assert_msg(log != NULL, "auditlog_open: %s", cause);
	ck_assert_ptr_null(cause);
	return log;
}

static int
add_event(struct auditlog *log, const char *event, const char *session,
    char **cause)
{
	struct jsonw	*w;

	w = auditlog_begin(log, event, session);
	ck_assert_ptr_nonnull(w);
	jsonw_str(w, "label", "x");
	jsonw_int(w, "n", -1);
	return auditlog_commit(log, cause);
}

static void
must_add(struct auditlog *log)
{
	char	*cause = NULL;

	ck_assert_msg(add_event(log, "key_used", "s1", &cause) == 0,
	    "commit: %s", cause);
	ck_assert_ptr_null(cause);
}

/* The hash of the last complete line of the log. */
static void
last_line_hash(char out[AUDITLOG_HASH_HEX + 1])
{
	char	*buf, *p;
	size_t	 len;

	buf = read_file(LOGNAME, &len);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(buf[len - 1], '\n');
	buf[len - 1] = '\0';
	p = strrchr(buf, '\n');
	p = p == NULL ? buf : p + 1;
	test_hash(p, (size_t)(buf + len - 1 - p), out);
	free(buf);
}

/*
 * Reads the log back with auditread, checking every line: a JSON object,
 * seq equal to the line number, prev the hash of the line before and the last
 * field. Returns the number of lines.
 */
static uint64_t
verify_log(void)
{
	struct auditread	*r;
	struct auditread_line	 l;
	char			 prev[AUDITLOG_HASH_HEX + 1] = ZEROS;
	const cJSON		*seq, *p;
	cJSON			*o;
	uint64_t		 n = 0;
	int			 fd, rc;

	fd = openat(tdir, LOGNAME, O_RDONLY|O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(r = auditread_open(fd));
	while ((rc = auditread_next(r, &l)) == 1) {
		ck_assert_int_eq(l.torn, 0);
		ck_assert_int_eq(l.toolong, 0);
		ck_assert_uint_eq(l.lineno, n + 1);
		ck_assert_uint_gt(l.len, 75);
		ck_assert_msg(memcmp(l.buf + l.len - 75, ",\"prev\":\"", 9) == 0,
		    "prev is not the last field: %s", l.buf);
		o = cJSON_ParseWithLength(l.buf, l.len);
		ck_assert_ptr_nonnull(o);
		seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		ck_assert(cJSON_IsNumber(seq));
		ck_assert_uint_eq((uint64_t)seq->valuedouble, l.lineno);
		p = cJSON_GetObjectItemCaseSensitive(o, "prev");
		ck_assert(cJSON_IsString(p));
		ck_assert_str_eq(p->valuestring, prev);
		cJSON_Delete(o);
		test_hash(l.buf, l.len, prev);
		n++;
	}
	ck_assert_int_eq(rc, 0);
	auditread_free(r);
	close(fd);
	return n;
}

START_TEST(test_first_lines)
{
	struct auditlog			*log;
	struct auditlog_openinfo	 info;
	struct jsonw			*w;
	char				*buf, *cause = NULL, *nl, *rest;
	char				 ts[32], want[512], h1[AUDITLOG_HASH_HEX + 1];
	const char			*p;
	size_t				 len;
	regex_t				 re;

	log = open_log(&info);
	ck_assert_uint_eq(info.last_seq, 0);
	ck_assert_int_eq(info.torn, 0);
	ck_assert_uint_eq(auditlog_last_seq(log), 0);
	ck_assert_int_eq(file_size(LOGNAME), 0);

	w = auditlog_begin(log, "created", "abc");
	jsonw_str(w, "label", "x");
	jsonw_uint(w, "big", 18446744073709551615ULL);
	ck_assert_int_eq(auditlog_commit(log, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(auditlog_last_seq(log), 1);

	w = auditlog_begin(log, "stopped", NULL);
	jsonw_int(w, "duration_s", -5);
	ck_assert_int_eq(auditlog_commit(log, &cause), 0);
	ck_assert_uint_eq(auditlog_last_seq(log), 2);

	buf = read_file(LOGNAME, &len);
	ck_assert_int_eq(buf[len - 1], '\n');

	/* Line 1: exact bytes around the timestamp. */
	p = "{\"v\":1,\"seq\":1,\"ts\":\"";
	ck_assert_int_eq(strncmp(buf, p, strlen(p)), 0);
	memcpy(ts, buf + strlen(p), 27);
	ts[27] = '\0';
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED|REG_NOSUB),
	    0);
	ck_assert_msg(regexec(&re, ts, 0, NULL, 0) == 0, "bad ts %s", ts);
	regfree(&re);
	nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	rest = buf + strlen(p) + 27;
	snprintf(want, sizeof(want), "\",\"event\":\"created\","
	    "\"session\":\"abc\",\"label\":\"x\",\"big\":18446744073709551615,"
	    "\"prev\":\"%s\"}\n", ZEROS);
	ck_assert_int_eq(strncmp(rest, want, strlen(want)), 0);
	ck_assert_ptr_eq(rest + strlen(want), nl + 1);
	test_hash(buf, (size_t)(nl - buf), h1);

	/* Line 2: session null, prev chains to line 1. */
	p = "{\"v\":1,\"seq\":2,\"ts\":\"";
	ck_assert_int_eq(strncmp(nl + 1, p, strlen(p)), 0);
	rest = nl + 1 + strlen(p) + 27;
	snprintf(want, sizeof(want), "\",\"event\":\"stopped\","
	    "\"session\":null,\"duration_s\":-5,\"prev\":\"%s\"}\n", h1);
	ck_assert_str_eq(rest, want);

	ck_assert_uint_eq(verify_log(), 2);
	free(buf);
	auditlog_close(log);
}
END_TEST

START_TEST(test_hash_line)
{
	char	 a[AUDITLOG_HASH_HEX + 1], b[AUDITLOG_HASH_HEX + 1];

	auditlog_hash_line("abc", 3, a);
	test_hash("abc", 3, b);
	ck_assert_str_eq(a, b);
	/* BLAKE2b-256 of the empty string. */
	auditlog_hash_line("", 0, a);
	ck_assert_str_eq(a, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787"
	    "faab45cdf12fe3a8");
}
END_TEST

START_TEST(test_reopen)
{
	struct auditlog			*log;
	struct auditlog_openinfo	 info;
	char				 h[AUDITLOG_HASH_HEX + 1];
	int				 i;

	log = open_log(NULL);
	for (i = 0; i < 3; i++)
		must_add(log);
	auditlog_close(log);

	last_line_hash(h);
	log = open_log(&info);
	ck_assert_uint_eq(info.last_seq, 3);
	ck_assert_int_eq(info.torn, 0);
	ck_assert_uint_eq(auditlog_last_seq(log), 3);
	must_add(log);
	ck_assert_uint_eq(auditlog_last_seq(log), 4);
	auditlog_close(log);

	ck_assert_uint_eq(verify_log(), 4);
}
END_TEST

START_TEST(test_torn_tail)
{
	static const char		 partial[] = "{\"v\":1,\"seq\":4,\"ts\":\"20";
	struct auditlog			*log;
	struct auditlog_openinfo	 info, info2;
	char				 h[AUDITLOG_HASH_HEX + 1], *buf;
	off_t				 good;
	size_t				 len;
	int				 i;

	log = open_log(NULL);
	for (i = 0; i < 3; i++)
		must_add(log);
	auditlog_close(log);
	good = file_size(LOGNAME);
	last_line_hash(h);
	append_file(LOGNAME, partial, strlen(partial));

	log = open_log(&info);
	ck_assert_int_eq(info.torn, 1);
	ck_assert_int_eq(info.torn_bytes, (off_t)strlen(partial));
	ck_assert_uint_eq(info.last_seq, 3);
	ck_assert_int_eq(strncmp(info.torn_name, LOGNAME ".torn-",
	    strlen(LOGNAME ".torn-")), 0);
	ck_assert_int_eq(file_size(LOGNAME), good);
	buf = read_file(info.torn_name, &len);
	ck_assert_uint_eq(len, strlen(partial));
	ck_assert_int_eq(memcmp(buf, partial, len), 0);
	free(buf);
	buf = read_file(LOGNAME, &len);
	ck_assert_int_eq(buf[len - 1], '\n');
	free(buf);

	must_add(log);
	ck_assert_uint_eq(auditlog_last_seq(log), 4);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 4);

	/* A second torn tail never overwrites the first torn file. */
	append_file(LOGNAME, "x", 1);
	log = open_log(&info2);
	ck_assert_int_eq(info2.torn, 1);
	ck_assert_str_ne(info.torn_name, info2.torn_name);
	ck_assert_int_eq(file_size(info.torn_name), (off_t)strlen(partial));
	ck_assert_int_eq(file_size(info2.torn_name), 1);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 4);
}
END_TEST

START_TEST(test_torn_whole)
{
	struct auditlog			*log;
	struct auditlog_openinfo	 info;
	char				*buf;
	size_t				 len;

	write_file(LOGNAME, "no newline", 10, 0600);
	log = open_log(&info);
	ck_assert_int_eq(info.torn, 1);
	ck_assert_int_eq(info.torn_bytes, 10);
	ck_assert_uint_eq(info.last_seq, 0);
	ck_assert_int_eq(file_size(LOGNAME), 0);
	buf = read_file(info.torn_name, &len);
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(memcmp(buf, "no newline", 10), 0);
	free(buf);
	must_add(log);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 1);
}
END_TEST

START_TEST(test_locked)
{
	struct auditlog	*log;
	pid_t		 pid;
	int		 status;

	log = open_log(NULL);
	must_add(log);
	if ((pid = fork()) == 0) {
		struct auditlog	*log2;
		char		*cause = NULL;

		log2 = auditlog_open(tdir, LOGNAME, NULL, &cause);
		if (log2 != NULL)
			_exit(1);
		if (errno != EWOULDBLOCK)
			_exit(2);
		if (cause == NULL || strstr(cause, "locked") == NULL ||
		    strstr(cause, LOGNAME) == NULL)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	auditlog_close(log);

	/* Closing drops the lock. */
	log = open_log(NULL);
	must_add(log);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 2);
}
END_TEST

/* Runs in a forked child: the file size limit must not leak into others. */
static void
commit_fail_child(void)
{
	struct auditlog	*log;
	struct rlimit	 orig, rl;
	struct stat	 st;
	char		*cause = NULL;

	log = open_log(NULL);
	must_add(log);
	must_add(log);
	ck_assert_int_eq(fstat(auditlog_fd(log), &st), 0);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &orig), 0);

	/* Just above the size: the kernel writes a few bytes and stops. */
	rl = orig;
	rl.rlim_cur = (rlim_t)st.st_size + 10;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(add_event(log, "key_used", "s1", &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, LOGNAME ": write failed: ") != NULL,
	    "cause: %s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(file_size(LOGNAME), st.st_size);
	ck_assert_uint_eq(auditlog_last_seq(log), 2);

	/* Exactly at the size: the write fails with EFBIG. */
	rl.rlim_cur = (rlim_t)st.st_size;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	errno = 0;
	ck_assert_int_eq(add_event(log, "key_used", "s1", &cause), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "write failed") != NULL, "cause: %s",
	    cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(file_size(LOGNAME), st.st_size);

	/* Space is back: no gap in seq, the chain holds. */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &orig), 0);
	must_add(log);
	ck_assert_uint_eq(auditlog_last_seq(log), 3);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 3);
}

START_TEST(test_commit_fail)
{
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == 0) {
		commit_fail_child();
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child failed (status %d)", status);
	ck_assert_uint_eq(verify_log(), 3);
}
END_TEST

START_TEST(test_commit_toolong)
{
	struct auditlog	*log;
	struct jsonw	*w;
	char		*big, *cause = NULL;
	off_t		 size;

	log = open_log(NULL);
	must_add(log);
	size = file_size(LOGNAME);
	big = malloc(AUDITREAD_MAX_LINE);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', AUDITREAD_MAX_LINE);
	w = auditlog_begin(log, "key_used", "s1");
	jsonw_strn(w, "big", big, AUDITREAD_MAX_LINE);
	ck_assert_int_eq(auditlog_commit(log, &cause), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	free(big);
	ck_assert_int_eq(file_size(LOGNAME), size);

	/* An aborted event leaves no trace either. */
	w = auditlog_begin(log, "key_used", "s1");
	jsonw_str(w, "dropped", "yes");
	auditlog_abort(log);
	ck_assert_int_eq(auditlog_commit(log, &cause), -1);
	free(cause);

	must_add(log);
	ck_assert_uint_eq(auditlog_last_seq(log), 2);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 2);
}
END_TEST

/* The tap sees each durable line once, without its newline, and nothing of
 * a refused one; a rotation's first line too. */
static struct jsonw	tapped;
static int		taps;

static void
tap_collect(const char *line, size_t len, void *arg)
{
	ck_assert_ptr_eq(arg, &tapped);
	ck_assert_ptr_null(memchr(line, '\n', len));
	jsonw_raw(&tapped, line, len);
	jsonw_raw(&tapped, "\n", 1);
	taps++;
}

START_TEST(test_tap)
{
	struct auditlog	*log;
	struct jsonw	*w;
	char		*big, *cause = NULL, *oldbuf, *old, *cur;
	size_t		 oldlen, curlen;

	log = open_log(NULL);
	must_add(log);		/* before the tap: not seen */
	jsonw_reset(&tapped);
	taps = 0;
	auditlog_set_tap(log, tap_collect, &tapped);
	must_add(log);
	big = malloc(AUDITREAD_MAX_LINE);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', AUDITREAD_MAX_LINE);
	w = auditlog_begin(log, "key_used", "s1");
	jsonw_strn(w, "big", big, AUDITREAD_MAX_LINE);
	ck_assert_int_eq(auditlog_commit(log, &cause), -1);
	free(cause);
	free(big);
	must_add(log);
	ck_assert_int_eq(taps, 2);

	ck_assert_int_eq(renameat(tdir, LOGNAME, tdir, "old.jsonl"), 0);
	ck_assert_int_eq(auditlog_reopen(log, tdir, "log_rotated", NULL, NULL,
	    &cause), 1);
	must_add(log);
	auditlog_close(log);
	ck_assert_int_eq(taps, 4);

	oldbuf = read_file("old.jsonl", &oldlen);
	cur = read_file(LOGNAME, &curlen);
	/* Lines 2-3 of the old file, then the whole new file. */
	old = memchr(oldbuf, '\n', oldlen);
	ck_assert_ptr_nonnull(old);
	old++;
	ck_assert(jsonw_ok(&tapped));
	ck_assert_uint_eq(tapped.len, strlen(old) + curlen);
	ck_assert_mem_eq(tapped.buf, old, strlen(old));
	ck_assert_mem_eq(tapped.buf + strlen(old), cur, curlen);
	free(oldbuf);
	free(cur);
	jsonw_free(&tapped);
	unlinkat(tdir, "old.jsonl", 0);
}
END_TEST

static void
expect_refused(const char *content, const char *what)
{
	struct auditlog	*log;
	char		*cause = NULL, *buf;
	size_t		 len;

	write_file(LOGNAME, content, strlen(content), 0600);
	log = auditlog_open(tdir, LOGNAME, NULL, &cause);
	ck_assert_msg(log == NULL, "accepted %s", content);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, what) != NULL, "cause: %s", cause);
	ck_assert_msg(strstr(cause, LOGNAME) != NULL, "cause: %s", cause);
	free(cause);
	buf = read_file(LOGNAME, &len);
	ck_assert_str_eq(buf, content);
	free(buf);
}

START_TEST(test_garbage)
{
	const char	*bad = "not an agentd audit event";

	expect_refused("hello\n", bad);
	expect_refused("{\"v\":1,\"seq\":1}\nhello\n", bad);
	expect_refused("\n", bad);
	expect_refused("[1]\n", bad);
	expect_refused("{\"seq\":\"1\"}\n", bad);
	expect_refused("{\"seq\":1.5}\n", bad);
	expect_refused("{\"seq\":0}\n", bad);
	expect_refused("{\"seq\":-3}\n", bad);
	expect_refused("{\"seq\":1e300}\n", bad);
	expect_refused("{\"seq\":1} x\n", bad);
	expect_refused("{\"v\":1}\n", bad);
}
END_TEST

START_TEST(test_foreign_last_line)
{
	struct auditlog			*log;
	struct auditlog_openinfo	 info;
	char				*line;
	const char			*ev = "{\"v\":1,\"seq\":7}\n";

	/* A huge earlier line does not matter, only the last one. */
	line = malloc(2 * AUDITREAD_MAX_LINE + 1);
	ck_assert_ptr_nonnull(line);
	memset(line, 'x', 2 * AUDITREAD_MAX_LINE);
	line[2 * AUDITREAD_MAX_LINE] = '\n';
	write_file(LOGNAME, line, 2 * AUDITREAD_MAX_LINE + 1, 0600);
	append_file(LOGNAME, ev, strlen(ev));
	log = open_log(&info);
	ck_assert_uint_eq(info.last_seq, 7);
	auditlog_close(log);

	/* A last line over the limit is refused. */
	append_file(LOGNAME, line, AUDITREAD_MAX_LINE + 1);
	append_file(LOGNAME, "\n", 1);
	ck_assert_ptr_null(auditlog_open(tdir, LOGNAME, NULL, NULL));
	ck_assert_int_eq(errno, EFBIG);
	free(line);
}
END_TEST

START_TEST(test_refuse_file)
{
	char	*cause = NULL;

	write_file(LOGNAME, "", 0, 0640);
	ck_assert_ptr_null(auditlog_open(tdir, LOGNAME, NULL, &cause));
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(cause, LOGNAME));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(unlinkat(tdir, LOGNAME, 0), 0);

	write_file("target", "", 0, 0600);
	ck_assert_int_eq(symlinkat("target", tdir, LOGNAME), 0);
	ck_assert_ptr_null(auditlog_open(tdir, LOGNAME, NULL, &cause));
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_ptr_nonnull(strstr(cause, LOGNAME));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(unlinkat(tdir, LOGNAME, 0), 0);

	ck_assert_int_eq(mkdirat(tdir, LOGNAME, 0700), 0);
	ck_assert_ptr_null(auditlog_open(tdir, LOGNAME, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, LOGNAME));
	free(cause);
	ck_assert_int_eq(unlinkat(tdir, LOGNAME, AT_REMOVEDIR), 0);
}
END_TEST

START_TEST(test_thousand)
{
	struct auditlog	*log;
	int		 i;

	log = open_log(NULL);
	for (i = 0; i < 1000; i++)
		must_add(log);
	ck_assert_uint_eq(auditlog_last_seq(log), 1000);
	auditlog_close(log);
	ck_assert_uint_eq(verify_log(), 1000);
}
END_TEST

/* auditread */

static struct auditread *
reader_for(const char *data, size_t len, int *fd)
{
	struct auditread	*r;

	write_file("in", data, len, 0600);
	*fd = openat(tdir, "in", O_RDONLY|O_CLOEXEC);
	ck_assert_int_ge(*fd, 0);
	ck_assert_ptr_nonnull(r = auditread_open(*fd));
	return r;
}

static void
expect_line(struct auditread *r, const char *want, uint64_t lineno,
    off_t offset, int torn)
{
	struct auditread_line	 l;

	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_uint_eq(l.len, strlen(want));
	ck_assert_str_eq(l.buf, want);
	ck_assert_uint_eq(l.lineno, lineno);
	ck_assert_int_eq(l.offset, offset);
	ck_assert_int_eq(l.torn, torn);
	ck_assert_int_eq(l.toolong, 0);
}

START_TEST(test_read_lines)
{
	struct auditread	*r;
	struct auditread_line	 l;
	int			 fd;

	r = reader_for("a\nbb\n\nccc", 9, &fd);
	expect_line(r, "a", 1, 0, 0);
	expect_line(r, "bb", 2, 2, 0);
	expect_line(r, "", 3, 5, 0);
	expect_line(r, "ccc", 4, 6, 1);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);

	r = reader_for("", 0, &fd);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);

	r = reader_for("one\n", 4, &fd);
	expect_line(r, "one", 1, 0, 0);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);

	auditread_free(NULL);
}
END_TEST

START_TEST(test_read_toolong)
{
	struct auditread	*r;
	struct auditread_line	 l;
	size_t			 big = 2 * 1024 * 1024;
	char			*data;
	int			 fd;

	data = malloc(big + 32);
	ck_assert_ptr_nonnull(data);
	memset(data, 'x', big);
	memcpy(data + big, "\nafter\nlast\n", 12);
	r = reader_for(data, big + 12, &fd);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.toolong, 1);
	ck_assert_int_eq(l.torn, 0);
	ck_assert_uint_eq(l.len, 0);
	ck_assert_str_eq(l.buf, "");
	ck_assert_uint_eq(l.lineno, 1);
	ck_assert_int_eq(l.offset, 0);
	expect_line(r, "after", 2, (off_t)big + 1, 0);
	expect_line(r, "last", 3, (off_t)big + 7, 0);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);

	/* Too long and torn. */
	memcpy(data, "ok\n", 3);
	r = reader_for(data, big, &fd);
	expect_line(r, "ok", 1, 0, 0);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.toolong, 1);
	ck_assert_int_eq(l.torn, 1);
	ck_assert_uint_eq(l.lineno, 2);
	ck_assert_int_eq(l.offset, 3);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);

	/* Exactly the maximum is a line; one byte more is not. */
	memset(data, 'y', big + 2);
	data[AUDITREAD_MAX_LINE] = '\n';
	data[2 * AUDITREAD_MAX_LINE] = '\n';
	r = reader_for(data, 2 * AUDITREAD_MAX_LINE + 2, &fd);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.toolong, 0);
	ck_assert_uint_eq(l.len, AUDITREAD_MAX_LINE);
	ck_assert_uint_eq(strlen(l.buf), AUDITREAD_MAX_LINE);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.toolong, 0);
	ck_assert_uint_eq(l.len, AUDITREAD_MAX_LINE - 1);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.torn, 1);
	ck_assert_uint_eq(l.len, 1);
	auditread_free(r);
	close(fd);

	data[AUDITREAD_MAX_LINE] = 'y';
	data[AUDITREAD_MAX_LINE + 1] = '\n';
	r = reader_for(data, AUDITREAD_MAX_LINE + 2, &fd);
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_int_eq(l.toolong, 1);
	ck_assert_int_eq(l.torn, 0);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);
	free(data);
}
END_TEST

/* Line i: its number, then a run of letters of varying length. */
static size_t
make_line(char *buf, uint64_t i)
{
	size_t	 n, k;

	n = (size_t)snprintf(buf, 32, "%llu:", (unsigned long long)i);
	k = (size_t)((i * 7919) % 3001);
	memset(buf + n, 'a' + (int)(i % 26), k);
	return n + k;
}

START_TEST(test_read_boundaries)
{
	struct auditread	*r;
	struct auditread_line	 l;
	char			*data, want[4096];
	size_t			 len = 0, cap = 8 * 1024 * 1024, n;
	off_t			 off = 0;
	uint64_t		 i, lines = 0;
	int			 fd;

	data = malloc(cap);
	ck_assert_ptr_nonnull(data);
	/* Several MiB: lines straddle every 256 KiB buffer boundary. */
	while (len + 4096 + AUDITREAD_BUFSIZE + 32 < cap) {
		len += make_line(data + len, ++lines);
		data[len++] = '\n';
	}
	/* One line spanning more than a whole read buffer. */
	memset(data + len, 'z', AUDITREAD_BUFSIZE + 17);
	len += AUDITREAD_BUFSIZE + 17;
	data[len++] = '\n';
	memcpy(data + len, "end", 3);
	len += 3;
	r = reader_for(data, len, &fd);
	for (i = 1; i <= lines; i++) {
		n = make_line(want, i);
		ck_assert_int_eq(auditread_next(r, &l), 1);
		ck_assert_uint_eq(l.lineno, i);
		ck_assert_uint_eq(l.len, n);
		ck_assert_int_eq(l.offset, off);
		ck_assert_int_eq(l.torn, 0);
		ck_assert(memcmp(l.buf, want, n) == 0);
		ck_assert_int_eq(l.buf[n], '\0');
		off += (off_t)n + 1;
	}
	ck_assert_int_eq(auditread_next(r, &l), 1);
	ck_assert_uint_eq(l.len, AUDITREAD_BUFSIZE + 17);
	ck_assert_int_eq(l.toolong, 0);
	ck_assert_int_eq(l.offset, off);
	expect_line(r, "end", lines + 2, off + AUDITREAD_BUFSIZE + 18, 1);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(fd);
	free(data);
}
END_TEST

/* A pipe delivers lines in arbitrary pieces. */
START_TEST(test_read_pipe)
{
	static const char	*pieces[] = { "ab", "c\nd", "e\n\n", "f" };
	struct auditread	*r;
	struct auditread_line	 l;
	pid_t			 pid;
	size_t			 i;
	int			 p[2], status;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
			if (write(p[1], pieces[i], strlen(pieces[i])) == -1)
				_exit(1);
			usleep(10000);
		}
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	close(p[1]);
	ck_assert_ptr_nonnull(r = auditread_open(p[0]));
	expect_line(r, "abc", 1, 0, 0);
	expect_line(r, "de", 2, 4, 0);
	expect_line(r, "", 3, 7, 0);
	expect_line(r, "f", 4, 8, 1);
	ck_assert_int_eq(auditread_next(r, &l), 0);
	auditread_free(r);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

static Suite *
auditlog_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("auditlog");

	tc = tcase_create("auditlog");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_first_lines);
	tcase_add_test(tc, test_hash_line);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_torn_whole);
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_commit_fail);
	tcase_add_test(tc, test_commit_toolong);
	tcase_add_test(tc, test_tap);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_foreign_last_line);
	tcase_add_test(tc, test_refuse_file);
	tcase_add_test(tc, test_thousand);
	suite_add_tcase(s, tc);

	tc = tcase_create("auditread");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_read_lines);
	tcase_add_test(tc, test_read_toolong);
	tcase_add_test(tc, test_read_boundaries);
	tcase_add_test(tc, test_read_pipe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return check_run(auditlog_suite());
}
