/* auditctl verify: walks the hash chain of the log (DESIGN §4). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditctl.h"
#include "auditevent.h"
#include "auditlog.h"
#include "auditread.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

static int
verify_problem(const char *path, uint64_t lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
verify_problem(const char *path, uint64_t lineno, const char *fmt, ...)
{
	va_list ap;

	printf("%s line %" PRIu64 ": ", path, lineno);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 1;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char prev[AUDITLOG_HASH_HEX + 1] = ZERO_HASH;
	char hash[AUDITLOG_HASH_HEX + 1];
	struct auditread_line l;
	struct auditread *rd;
	struct auditevent ev;
	const char *path, *why;
	int64_t last_ts = INT64_MIN;
	uint64_t seq = 0, lines = 0;
	int ch, fd, rc, bad = 0;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'L':
			log_opt = optarg;
			break;
		case 'h':
			usage_for("verify");
			return 0;
		default:
			usage_for("verify");
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_usage("verify", "unexpected argument '%s'", argv[optind]);
	path = log_path("verify");
	fd = log_open("verify", path);
	if ((rd = auditread_open(fd)) == NULL)
		die("verify", "out of memory");
	while (!bad && (rc = auditread_next(rd, &l)) == 1) {
		lines++;
		if (l.toolong) {
			bad = verify_problem(path, l.lineno, "line longer than "
			    "%d bytes", AUDITREAD_MAX_LINE);
			break;
		}
		if (l.torn) {
			bad = verify_problem(path, l.lineno, "torn last line "
			    "(no newline at the end; %zu bytes)", l.len);
			break;
		}
		/* Hash first: parsing decodes strings in place. */
		auditlog_hash_line(l.buf, l.len, hash);
		if (auditevent_parse(l.buf, l.len, &ev, &why) == -1)
			bad = verify_problem(path, l.lineno, "malformed: %s", why);
		else if (ev.v != 1)
			bad = verify_problem(path, l.lineno, "unknown format "
			    "version v=%" PRIu64, ev.v);
		else if (!ev.order_ok)
			bad = verify_problem(path, l.lineno, "fields out of order "
			    "(v, seq, ts, event, session first, prev last)");
		else if (ev.seq != seq + 1)
			bad = verify_problem(path, l.lineno, "seq %" PRIu64
			    ", expected %" PRIu64 " (%s)", ev.seq, seq + 1,
			    ev.seq > seq + 1 ? "lines missing" :
			    "lines repeated or out of order");
		else if (ev.prev.len != AUDITLOG_HASH_HEX ||
		    memcmp(ev.prev.p, prev, AUDITLOG_HASH_HEX) != 0)
			bad = verify_problem(path, l.lineno, "prev does not match "
			    "the hash of %s (chain broken: a line was "
			    "changed, removed or inserted)", l.lineno == 1 ?
			    "nothing (first line)" : "the line before");
		else if (!ev.ts_exact)
			bad = verify_problem(path, l.lineno, "ts '%.*s' is not in "
			    "the writer's form YYYY-MM-DDTHH:MM:SS.uuuuuuZ",
			    (int)ev.ts.len, ev.ts.p);
		else if (ev.ts_us < last_ts)
			bad = verify_problem(path, l.lineno, "time goes "
			    "backwards (ts %.*s is before the line before)",
			    (int)ev.ts.len, ev.ts.p);
		seq = ev.seq;
		last_ts = ev.ts_us;
		memcpy(prev, hash, sizeof(prev));
	}
	if (!bad && rc == -1)
		die("verify", "%s: %s", path, strerror(errno));
	auditread_free(rd);
	if (fd != STDIN_FILENO)
		close(fd);
	if (bad)
		return 1;
	printf("ok: %" PRIu64 " lines, chain intact, seq 1..%" PRIu64 "\n",
	    lines, seq);
	return 0;
}
