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
#include "logset.h"
#include "auditevent.h"
#include "auditlog.h"
#include "auditread.h"
#include "checkpoint.h"
#include "duration.h"
#include "escape.h"

/* Clock-step warnings printed before only a count is kept. */
#define STEP_WARN_MAX	10
/* A session's ts may span more than its duration_s by the stop grace (5 s)
 * and the time to log the end: beyond this, the wall clock moved ahead. */
#define STEP_SLACK_S	30

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

static int
verify_problem(const char *path, uint64_t lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
verify_problem(const char *path, uint64_t lineno, const char *fmt, ...)
{
	va_list ap;

	/* Names a path and quotes log text: escaped (lib/escape). */
	printf("%s line %" PRIu64 ": ", escape_term_str(path), lineno);
	va_start(ap, fmt);
	put_message(stdout, NULL, fmt, ap);
	va_end(ap);
	return 1;
}

/* The chain as walked so far, across files given in order. */
struct verify_state {
	char		 prev[AUDITLOG_HASH_HEX + 1];
	int64_t		 last_ts;
	uint64_t	 seq;		/* last seq seen; 0 before any line */
	uint64_t	 first_seq;
	uint64_t	 lines;
	int		 files;		/* files done before this one */
	uint64_t	 steps;		/* clock steps warned about */
	const char	*path;		/* the file being read */
	uint64_t	 lineno;
	struct auditfold *fold;		/* ended sessions: duration_s vs ts */
	/* Another copy of this host's chain (logset): its first line is
	 * taken on trust silently, the comparison is the host's. */
	int		 copy;
	uint64_t	 copy_first;	/* seq of its first line */
	struct verify_want *want;	/* hashes to keep for the comparison */
	size_t		 nwant;
	struct checkpoint_check ck;	/* signatures (lib/checkpoint) */
};

/* The hash of the line at seq, and whether the line after it is
 * log_rotated (a copy that ends there ends at a rotation, not cut). */
struct verify_want {
	uint64_t	 seq;
	char		 hash[AUDITLOG_HASH_HEX + 1];
	int		 have;
	int		 next_rotated;
};

static void
verify_step_warn(struct verify_state *vs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A wall-clock step is not tampering (DESIGN §4: seq and prev prove the
 * order): a warning on stderr naming it, and verify goes on. */
static void
verify_step_warn(struct verify_state *vs, const char *fmt, ...)
{
	va_list ap;

	if (++vs->steps > STEP_WARN_MAX)
		return;
	fprintf(stderr, "auditctl verify: warning: %s line %" PRIu64 ": ",
	    escape_term_str(vs->path), vs->lineno);
	va_start(ap, fmt);
	put_message(stderr, NULL, fmt, ap);
	va_end(ap);
}

/* Seconds as a duration ("1h0m5s"), or "less than a second". */
static const char *
step_size(uint64_t us, char *buf, size_t len)
{
	if (us < 500000)
		return "less than a second";
	duration_format((us + 500000) / 1000000, buf, len);
	return buf;
}

/* A session's end: its ts span against its duration_s (CLOCK_BOOTTIME). */
static void
verify_session_end(const struct auditfold *f, const struct auditfold_row *r,
    void *arg)
{
	struct verify_state *vs = arg;
	char a[32], b[32], c[32];
	int64_t span;

	(void)f;
	if (!(r->flags & AUDITFOLD_HAS_DURATION) ||
	    r->created_us == AUDITFOLD_NO_TIME || r->ended_us < r->created_us)
		return;
	span = r->ended_us - r->created_us;
	if (span / 1000000 - (int64_t)r->duration_s <= STEP_SLACK_S)
		return;
	verify_step_warn(vs, "clock stepped forward by about %s between seq "
	    "%" PRIu64 " and seq %" PRIu64 " (session %.*s: duration_s %s, "
	    "its ts %s apart; or its end was logged late)",
	    step_size((uint64_t)span - r->duration_s * 1000000, a, sizeof(a)),
	    r->created_seq, vs->seq, (int)r->idlen, r->id,
	    step_size(r->duration_s * 1000000, b, sizeof(b)),
	    step_size((uint64_t)span, c, sizeof(c)));
}

/* Keeps what the comparison of copies needs (logset: one host's files). */
static void
verify_note(struct verify_state *vs, const struct auditevent *ev,
    const char *hash)
{
	size_t i;

	for (i = 0; i < vs->nwant; i++) {
		if (vs->want[i].seq == ev->seq) {
			memcpy(vs->want[i].hash, hash, AUDITLOG_HASH_HEX + 1);
			vs->want[i].have = 1;
		} else if (vs->want[i].seq + 1 == ev->seq)
			vs->want[i].next_rotated = ev->event.len == 11 &&
			    memcmp(ev->event.p, "log_rotated", 11) == 0;
	}
}

/*
 * A rotated log (SIGHUP after a rename) continues in a new file whose first
 * line is `log_rotated`, with seq and prev carrying on from the file before.
 * Such a file is accepted alone (its join is reported, not checkable) and,
 * after the file it continues, joined to it exactly.
 */
static int
verify_file(const struct logfile *lf, struct verify_state *vs)
{
	const char *path = lf->path;
	char hash[AUDITLOG_HASH_HEX + 1];
	struct auditread_line l;
	struct auditread *rd;
	struct auditevent ev;
	const char *why;
	char size[32];
	int rc, bad = 0, first;

	/* logset opened it (standard input copied to a seekable file). */
	if (lseek(lf->fd, 0, SEEK_SET) == -1)
		die("verify", "%s: %s", path, strerror(errno));
	if ((rd = auditread_open(lf->fd)) == NULL)
		die("verify", "out of memory");
	vs->path = path;
	while (!bad && (rc = auditread_next(rd, &l)) == 1) {
		vs->lines++;
		vs->lineno = l.lineno;
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
		if (checkpoint_check_raw(&vs->ck, l.buf, l.len) == -1)
			die("verify", "out of memory");
		if (auditevent_parse(l.buf, l.len, &ev, &why) == -1) {
			bad = verify_problem(path, l.lineno, "malformed: %s", why);
			break;
		}
		first = l.lineno == 1;
		if (first && vs->copy && ev.prev.len == AUDITLOG_HASH_HEX &&
		    ev.seq > 1) {
			vs->seq = ev.seq - 1;
			memcpy(vs->prev, ev.prev.p, AUDITLOG_HASH_HEX);
		}
		if (first && vs->copy)
			vs->copy_first = ev.seq;
		else if (first && ev.event.len == 11 &&
		    memcmp(ev.event.p, "log_rotated", 11) == 0 &&
		    ev.prev.len == AUDITLOG_HASH_HEX) {
			if (vs->files == 0) {
				/* Alone: take the join on trust, say so. */
				printf("%s: continues a rotated log after seq "
				    "%" PRIu64 " (head ", escape_term_str(path),
				    ev.seq - 1);
				put_safe(stdout, ev.prev.p, ev.prev.len);
				printf(")\n");
				vs->seq = ev.seq - 1;
				vs->first_seq = ev.seq;
				memcpy(vs->prev, ev.prev.p, AUDITLOG_HASH_HEX);
			}
		} else if (first && vs->files > 0)
			bad = verify_problem(path, l.lineno, "does not continue "
			    "the file before (its first line is not log_rotated)");
		if (bad)
			break;
		if (ev.v != 1)
			bad = verify_problem(path, l.lineno, "unknown format "
			    "version v=%" PRIu64, ev.v);
		else if (!ev.order_ok)
			bad = verify_problem(path, l.lineno, "fields out of order "
			    "(v, seq, ts, event, session first, prev last)");
		else if (ev.seq != vs->seq + 1)
			bad = verify_problem(path, l.lineno, "seq %" PRIu64
			    ", expected %" PRIu64 " (%s)", ev.seq, vs->seq + 1,
			    ev.seq > vs->seq + 1 ? "lines missing" :
			    "lines repeated or out of order");
		else if (ev.prev.len != AUDITLOG_HASH_HEX ||
		    memcmp(ev.prev.p, vs->prev, AUDITLOG_HASH_HEX) != 0)
			bad = verify_problem(path, l.lineno, "prev does not match "
			    "the hash of %s (chain broken: a line was "
			    "changed, removed or inserted)", !first ?
			    "the line before" : vs->files > 0 ?
			    "the last line of the file before" :
			    "nothing (first line)");
		else if (!ev.ts_exact)
			bad = verify_problem(path, l.lineno, "ts '%.*s' is not in "
			    "the writer's form YYYY-MM-DDTHH:MM:SS.uuuuuuZ",
			    (int)ev.ts.len, ev.ts.p);
		else if (checkpoint_check_line(&vs->ck, ev.event.len == 10 &&
		    memcmp(ev.event.p, "checkpoint", 10) == 0, &why) == -1)
			bad = verify_problem(path, l.lineno, "%s", why);
		if (bad)
			break;
		vs->seq = ev.seq;
		if (ev.ts_us < vs->last_ts)
			verify_step_warn(vs, "clock stepped back by %s at seq "
			    "%" PRIu64 " (ts %.*s is before the line before)",
			    step_size((uint64_t)(vs->last_ts - ev.ts_us), size,
			    sizeof(size)), ev.seq, (int)ev.ts.len, ev.ts.p);
		/* Only a session's start and end matter for its span. */
		if (((ev.event.len == 7 && (memcmp(ev.event.p, "created", 7) ==
		    0 || memcmp(ev.event.p, "stopped", 7) == 0 ||
		    memcmp(ev.event.p, "crashed", 7) == 0))) &&
		    auditfold_event(vs->fold, &ev, &why) == -1 && why == NULL)
			die("verify", "out of memory");
		vs->last_ts = ev.ts_us;
		memcpy(vs->prev, hash, sizeof(vs->prev));
		if (vs->nwant > 0)
			verify_note(vs, &ev, hash);
	}
	if (!bad && rc == -1)
		die("verify", "%s: %s", path, strerror(errno));
	auditread_free(rd);
	vs->files++;
	return bad;
}

/* --pubkey FILE: the text auditctl pubkey printed. */
static void
verify_load_pubkey(const char *file, struct checkpoint_pub *pub)
{
	char buf[CHECKPOINT_PUB_TEXT + 64];
	const char *why;
	ssize_t n;
	size_t have = 0;
	int fd;

	fd = log_open("verify", file);
	while (have < sizeof(buf) && (n = read(fd, buf + have,
	    sizeof(buf) - have)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("verify", "%s: %s", file, strerror(errno));
		have += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (checkpoint_pub_parse(buf, have, pub, &why) == -1)
		die("verify", "%s: %s", file, why);
}

/* After the chain: what the signatures cover (DESIGN §11). */
static void
verify_signatures(struct verify_state *vs, const struct checkpoint_pub *pub,
    const char *pfx)
{
	const struct checkpoint_check *ck = &vs->ck;

	if (pub == NULL) {
		printf("%s", pfx);
		printf("signatures not checked: %" PRIu64 " checkpoint%s",
		    ck->checkpoints, ck->checkpoints == 1 ? "" : "s");
		if (ck->checkpoints > 0)
			printf(", last by key %s", ck->key_id);
		/* Worth a look even unchecked: a replaced key file shows. */
		if (ck->key_changes > 0)
			printf(", the key changed %" PRIu64 " time%s (last at "
			    "seq %" PRIu64 ")", ck->key_changes,
			    ck->key_changes == 1 ? "" : "s", ck->key_change_seq);
		printf(" (give --pubkey FILE to check them)\n");
		return;
	}
	printf("%s", pfx);
	printf("signatures: %" PRIu64 " checkpoint%s valid (key %s, host ",
	    ck->checkpoints, ck->checkpoints == 1 ? "" : "s", pub->key_id);
	put_safe(stdout, ck->host, strlen(ck->host));
	printf("), signed through seq %" PRIu64 "\n", ck->last_seq);
	printf("%s", pfx);
	if (ck->tail > 0)
		printf("unsigned tail: %" PRIu64 " line%s after the last "
		    "checkpoint (seq %" PRIu64 "..%" PRIu64 "): no signature "
		    "covers %s yet\n", ck->tail, ck->tail == 1 ? "" : "s",
		    vs->seq - ck->tail + 1, vs->seq, ck->tail == 1 ? "it" :
		    "them");
	else
		printf("no unsigned tail: the log ends with a checkpoint\n");
}

static void
verify_init(struct verify_state *vs, const struct checkpoint_pub *pub)
{
	memset(vs, 0, sizeof(*vs));
	checkpoint_check_init(&vs->ck, pub);
	if ((vs->fold = auditfold_new(verify_session_end, vs)) == NULL)
		die("verify", "out of memory");
	memcpy(vs->prev, ZERO_HASH, sizeof(vs->prev));
	vs->last_ts = INT64_MIN;
	vs->first_seq = 1;
}

/*
 * Another copy O of a host's chain (a collector's file beside the local
 * rotated set) against the main sequence M, both walked and intact: at the
 * last seq both hold, their lines must be the same (hash equal: then every
 * line before is too, each names its predecessor's hash). The shorter one
 * lacks lines the longer shows: cut off (or not up to date) unless it ends
 * right before a log_rotated line. Returns 1 on a problem, printed.
 */
static int
verify_compare(const char *mpath, uint64_t mlast,
    const char *mhash, const struct verify_want *mw, const char *opath,
    uint64_t olast, const char *ohash, const struct verify_want *ow,
    uint64_t mcheck, uint64_t ocheck, int signed_)
{
	uint64_t check;
	const char *a, *b;
	uint64_t e = olast < mlast ? olast : mlast;

	a = olast <= mlast ? ohash : ow->have ? ow->hash : NULL;
	b = olast <= mlast ? (mw->have ? mw->hash : NULL) : mhash;
	if (a == NULL || b == NULL) {
		printf("%s and %s: cannot compare the copies at seq %"
		    PRIu64 " (a copy does not hold that line)\n",
		    escape_term_str(opath),
		    escape_term_str(mpath), e);
		return 1;
	}
	if (memcmp(a, b, AUDITLOG_HASH_HEX) != 0) {
		printf("%s and %s differ at or before seq %" PRIu64
		    " (the copies fork: one of them was changed)\n",
		    escape_term_str(opath),
		    escape_term_str(mpath), e);
		return 1;
	}
	if (olast == mlast)
		return 0;
	if (olast < mlast ? mw->next_rotated : ow->next_rotated)
		return 0;	/* ends where the log was rotated */
	printf("%s ends at seq %" PRIu64 " but %s, a copy of the same "
	    "chain, goes on to seq %" PRIu64 ": %" PRIu64 " lines missing from "
	    "its end", escape_term_str(olast < mlast ? opath : mpath),
	    e, escape_term_str(olast < mlast ? mpath : opath),
	    olast < mlast ? mlast : olast, (olast < mlast ? mlast : olast) - e);
	/* A checkpoint the shorter copy lacks: the daemon logged (and
	 * signed) past its end, so it was cut, not merely behind. */
	check = olast < mlast ? mcheck : ocheck;
	if (check > e)
		printf(", among them the checkpoint at seq %" PRIu64 " (%s): "
		    "truncated\n", check, signed_ ? "signature valid" :
		    "signature not checked: give --pubkey");
	else
		printf(" (truncated, or a copy not yet up to date)\n");
	return 1;
}

/* One host's files: the main sequence (rotated set) joined, every other
 * copy walked alone and compared. Returns 1 when the chain fails. */
static int
verify_chain(struct logchain *c, int multi, const struct checkpoint_pub *pub)
{
	const char *why;
	char pfx[300];
	struct verify_want *mw = NULL, ow;
	struct verify_state vs, os;
	struct logfile *lf;
	const char *mpath = NULL;
	size_t i, nmain = 0, nw = 0;
	int bad = 0;

	verify_init(&vs, pub);
	for (i = 0; i < c->nfiles; i++) {
		lf = c->files[i];
		if (lf->copy || lf->skip_through > 0)
			nw++;
	}
	if (nw > 0 && (mw = calloc(nw, sizeof(*mw))) == NULL)
		die("verify", "out of memory");
	for (i = 0, nw = 0; i < c->nfiles; i++) {
		lf = c->files[i];
		if (lf->copy || lf->skip_through > 0)
			mw[nw++].seq = lf->last_seq;
	}
	vs.want = mw;
	vs.nwant = nw;
	pfx[0] = '\0';
	if (multi)
		snprintf(pfx, sizeof(pfx), "host %s: ", escape_term_str(c->host));
	printf("%s", pfx);
	for (i = 0; i < c->nfiles && !bad; i++) {
		lf = c->files[i];
		/* An empty file adds nothing (but alone it is the log). */
		if (lf->copy || lf->skip_through > 0 ||
		    (lf->first_seq == 0 && c->nfiles > 1))
			continue;
		bad = verify_file(lf, &vs);
		mpath = lf->path;
		nmain++;
	}
	for (i = 0, nw = 0; i < c->nfiles && !bad; i++) {
		lf = c->files[i];
		if (!lf->copy && lf->skip_through == 0)
			continue;
		verify_init(&os, pub);
		memset(&ow, 0, sizeof(ow));
		ow.seq = vs.seq;
		os.copy = 1;
		os.want = &ow;
		os.nwant = 1;
		if ((bad = verify_file(lf, &os)) == 0)
			bad = verify_compare(mpath, vs.seq, vs.prev,
			    &mw[nw], lf->path, os.seq, os.prev, &ow,
			    vs.ck.last_seq, os.ck.last_seq, pub != NULL);
		vs.lines += os.lines;
		vs.steps += os.steps;
		vs.files++;
		auditfold_free(os.fold);
		checkpoint_check_free(&os.ck);
		nw++;
	}
	free(mw);
	/* With a key, nothing signed (or checkpoints removed) is no "ok". */
	if (!bad && pub != NULL && checkpoint_check_end(&vs.ck, &why) == -1) {
		printf("signatures FAILED: %s (%" PRIu64 " lines, %" PRIu64
		    " unsigned, chain intact otherwise)\n", why, vs.lines,
		    vs.ck.tail);
		bad = 1;
	}
	if (!bad) {
		printf("ok: %" PRIu64 " lines, chain intact, seq %" PRIu64 "..%"
		    PRIu64 "%s", vs.lines, vs.first_seq, vs.seq, vs.files > 1 ?
		    " across the files given" : "");
		if (vs.steps > 0)
			printf(" (%" PRIu64 " wall-clock step%s, see the "
			    "warnings)", vs.steps, vs.steps == 1 ? "" : "s");
		putchar('\n');
		verify_signatures(&vs, pub, pfx);
	}
	auditfold_free(vs.fold);
	checkpoint_check_free(&vs.ck);
	return bad;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, 'L' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct checkpoint_pub pub;
	const char *pubkey = NULL;
	struct logset ls;
	size_t i;
	int ch, failed = 0;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'L':
			logset_add_opt(optarg);
			break;
		case 'k':
			pubkey = optarg;
			break;
		case 'h':
			usage_for("verify");
			return 0;
		default:
			die_badopt("verify", argv);
		}
	}
	/* FILE… and every --log: grouped by host, each host's files joined
	 * by seq into one chain (logset). */
	if (pubkey != NULL)
		verify_load_pubkey(pubkey, &pub);
	logset_open(&ls, "verify", argv + optind, argc - optind, 0);
	for (i = 0; i < ls.nchains; i++) {
		failed += verify_chain(&ls.chains[i], ls.nchains > 1,
		    pubkey != NULL ? &pub : NULL);
		fflush(stdout);
	}
	if (ls.nchains > 1) {
		if (failed)
			printf("FAILED: %d of %zu hosts\n", failed, ls.nchains);
		else
			printf("ok: %zu hosts, every chain intact\n", ls.nchains);
	}
	logset_free(&ls);
	return failed ? 1 : 0;
}
