/* auditctl: entry point, verb table and what the verbs share. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auditctl.h"
#include "auditevent.h"
#include "duration.h"
#include "escape.h"
#include "logset.h"
#include "timefmt.h"
#include "version.h"

/* Warnings about unusable lines printed before only a count is kept. */
#define WARN_MAX	10

const char	*log_opt;
const char	*now_opt;

static const struct cmd_entry cmds[] = {
	{ "list", "--list",
	    "[--log FILE]… --list [--json] [--active] [--since D] [--label L]",
	    cmd_list },
	{ "show", NULL, "[--log FILE]… show ID [--json]", cmd_show },
	{ "ttl-evidence", NULL, "[--log FILE]… ttl-evidence [--since D] "
	    "[--json | --markdown] [--min-days N] [--min-sessions N]",
	    cmd_ttl_evidence },
	{ "verify", NULL, "[--log FILE]… verify [--pubkey FILE] [FILE…]",
	    cmd_verify },
	{ "report", NULL, "[--log FILE] report [--since D] [--recordings DIR] "
	    "-o FILE.html", cmd_report },
	{ "pubkey", NULL, "[--log FILE] pubkey [--key FILE]", cmd_pubkey },
	{ "version", "--version", "--version", cmd_version },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void
usage_all(FILE *fp)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "%s auditctl %s\n", i == 0 ? "usage:" : "      ",
		    cmds[i].usage);
}

void
usage_for(const char *verb)
{
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].name, verb) == 0) {
			fprintf(stderr, "usage: auditctl %s\n", cmds[i].usage);
			return;
		}
	}
	usage_all(stderr);
}

void
put_message(FILE *fp, const char *verb, const char *fmt, va_list ap)
{
	char *msg, *e;

	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	/* Messages name paths, ids and log text: escaped as a whole (not
	 * through escape_term_str's ring: workers of logset die through here). */
	e = msg != NULL ? escape_term(msg, strlen(msg)) : NULL;
	if (verb != NULL)
		fprintf(fp, "auditctl %s: ", verb);
	fprintf(fp, "%s\n", e != NULL ? e : "(out of memory)");
	free(e);
	free(msg);
}

void
die_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_message(stderr, verb, fmt, ap);
	va_end(ap);
	usage_for(verb);
	exit(EXIT_USAGE);
}

void
die(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_message(stderr, verb, fmt, ap);
	va_end(ap);
	exit(1);
}

void
die_badopt(const char *verb, char **argv)
{
	/* optind is past the option getopt_long refused (opterr is 0). */
	die_usage(verb, "unknown option or missing argument: '%s'",
	    argv[optind - 1]);
}

const char *
log_path(const char *verb)
{
	static char buf[4096];
	const char *v;
	struct passwd *pw;

	if (log_opt != NULL)
		return log_opt;
	if ((v = getenv("AGENTD_DIR")) != NULL && *v != '\0') {
		if ((size_t)snprintf(buf, sizeof(buf), "%s/audit.jsonl", v) >=
		    sizeof(buf))
			die(verb, "AGENTD_DIR is too long");
		return buf;
	}
	if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] == '/') {
		if ((size_t)snprintf(buf, sizeof(buf), "%s/agentd/audit.jsonl",
		    v) >= sizeof(buf))
			die(verb, "XDG_STATE_HOME is too long");
		return buf;
	}
	if ((v = getenv("HOME")) == NULL || v[0] != '/') {
		if ((pw = getpwuid(geteuid())) == NULL)
			die(verb, "cannot find the home directory of uid %lu "
			    "(use --log FILE)", (unsigned long)geteuid());
		v = pw->pw_dir;
	}
	if ((size_t)snprintf(buf, sizeof(buf),
	    "%s/.local/state/agentd/audit.jsonl", v) >= sizeof(buf))
		die(verb, "home directory path is too long");
	return buf;
}

int
log_open(const char *verb, const char *path)
{
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die(verb, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1)
		die(verb, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		die(verb, "%s: is a directory, not an audit log", path);
	if (S_ISREG(st.st_mode))
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

int
log_daemon_holds(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	/* agentd holds LOCK_EX while it runs; our LOCK_SH is let go at once. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}

struct warnctx {
	const char	*verb;
	const char	*path;
	uint64_t	 n;
};

static void
log_warn(void *arg, uint64_t lineno, const char *why)
{
	struct warnctx *w = arg;

	char *p;

	/* Called from logset's workers: no escape_term_str (its ring is not
	 * thread-safe); one fprintf per line. */
	if (++w->n <= WARN_MAX) {
		p = escape_term(w->path, strlen(w->path));
		fprintf(stderr, "auditctl %s: warning: %s line %llu: %s "
		    "(skipped)\n", w->verb, p ? p : "(out of memory)",
		    (unsigned long long)lineno, why);
		free(p);
	}
}

void
log_fold(const char *verb, const char *path, int fd, struct auditfold *f)
{
	struct warnctx w = { verb, path, 0 };
	char *p;

	if (auditfold_read_fd(f, fd, log_warn, &w) == -1)
		die(verb, "%s: %s", path, strerror(errno));
	if (w.n > WARN_MAX) {
		p = escape_term(path, strlen(path));
		fprintf(stderr, "auditctl %s: warning: %s: %llu unusable lines "
		    "in all (auditctl verify shows the first)\n", verb,
		    p ? p : "(out of memory)", (unsigned long long)w.n);
		free(p);
	}
}

int64_t
now_us(const char *verb)
{
	struct timespec ts;
	int64_t us;

	if (now_opt != NULL) {
		if (auditevent_parse_time(now_opt, strlen(now_opt), &us) == -1)
			die_usage(verb, "--now: not an RFC 3339 UTC time "
			    "(2026-11-23T11:06:33Z): '%s'", now_opt);
		return us;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
since_cutoff(const char *verb, const char *val, int64_t now)
{
	uint64_t secs;

	if (duration_parse(val, &secs) == -1)
		die_usage(verb, "--since: invalid duration '%s' (examples: 90s, "
		    "15m, 2h, 7d)", val);
	return now - (int64_t)secs * 1000000;
}

void
fmt_time(int64_t us, char *out)
{
	struct timespec ts;
	int64_t s = us / 1000000, rem = us % 1000000;

	if (rem < 0) {
		rem += 1000000;
		s--;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)rem * 1000;
	timefmt_rfc3339(&ts, out);
}

size_t
put_safe(FILE *fp, const char *s, size_t len)
{
	char *e;
	size_t n;

	if ((e = escape_term(s, len)) == NULL)
		die("output", "out of memory");
	n = strlen(e);
	fwrite(e, 1, n, fp);
	free(e);
	return n;
}

void
put_json(FILE *fp, const char *s, size_t len)
{
	char *e;

	if ((e = escape_json(s, len)) == NULL)
		die("output", "out of memory");
	fputs(e, fp);
	free(e);
}

size_t
put_md(FILE *fp, const char *s, size_t len)
{
	char *e;
	size_t n;

	if ((e = escape_md(s, len)) == NULL)
		die("output", "out of memory");
	n = strlen(e);
	fwrite(e, 1, n, fp);
	free(e);
	return n;
}

uint64_t
elapsed_ceil_s(int64_t a, int64_t b)
{
	if (b <= a)
		return 0;
	return (uint64_t)(b - a + 999999) / 1000000;
}

uint64_t
elapsed_round_s(int64_t a, int64_t b)
{
	if (b <= a)
		return 0;
	return (uint64_t)(b - a + 500000) / 1000000;
}

const char *
row_state(const struct auditfold_row *r, int daemon)
{
	switch (r->state) {
	case AUDITFOLD_STOPPED:
		return "stopped";
	case AUDITFOLD_CRASHED:
		return "crashed";
	default:
		return daemon ? "active" : "orphaned";
	}
}

/* Ended: as logged (CLOCK_BOOTTIME, so a wall-clock step does not change
 * it). Active or orphaned: to now by ts, capped at the TTL (the agent cannot
 * have outlived it, whatever the clock did; the next daemon start logs the
 * same cap for an orphan). */
uint64_t
row_duration(const struct auditfold_row *r, int daemon, int64_t now)
{
	uint64_t d;

	if (r->state != AUDITFOLD_OPEN) {
		if (r->flags & AUDITFOLD_HAS_DURATION)
			return r->duration_s;
		if (r->created_us == AUDITFOLD_NO_TIME)
			return 0;
		return elapsed_round_s(r->created_us, r->ended_us);
	}
	if (r->created_us == AUDITFOLD_NO_TIME)
		return 0;
	d = elapsed_round_s(r->created_us, now);
	(void)daemon;
	if ((r->flags & AUDITFOLD_HAS_TTL) && d > r->ttl_s)
		d = r->ttl_s;
	return d;
}

int
cmd_version(int argc, char **argv)
{
	if (argc > 1)
		die_usage("version", "unexpected argument '%s'", argv[1]);
	printf("auditctl %s\n", AGENTD_VERSION);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;
	int argi = 1;

	/* getopt's own messages would echo arguments raw: ours escape them. */
	opterr = 0;
	if (sodium_init() < 0) {
		fprintf(stderr, "auditctl: cannot initialise libsodium\n");
		return 1;
	}
	/* --log may stand before the verb: auditctl --log F --list. */
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--log") == 0 && argi + 1 < argc) {
			logset_add_opt(argv[argi + 1]);
			argi += 2;
		} else if (strncmp(argv[argi], "--log=", 6) == 0) {
			logset_add_opt(argv[argi] + 6);
			argi++;
		} else if (strcmp(argv[argi], "-h") == 0 ||
		    strcmp(argv[argi], "--help") == 0) {
			usage_all(stdout);
			return 0;
		} else
			break;
	}
	if (argi >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].name, argv[argi]) == 0 ||
		    (cmds[i].alias != NULL &&
		    strcmp(cmds[i].alias, argv[argi]) == 0))
			return cmds[i].exec(argc - argi, argv + argi);
	}
	fprintf(stderr, "auditctl: unknown verb or option '%s'\n",
	    escape_term_str(argv[argi]));
	usage_all(stderr);
	return EXIT_USAGE;
}
