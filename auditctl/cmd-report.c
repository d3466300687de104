/* auditctl report: one self-contained HTML file for a reviewer (DESIGN §12).
 *
 * The sessions come from the one fold (lib/auditfold), the chain's result
 * from `verify` and the TTL figures from `ttl-evidence --json`, each run in a
 * forked child through its own handler so the report says exactly what those
 * verbs say. A second pass over the log collects each session's events for
 * its timeline and finds its recordings. Every string from the log reaches
 * the page escaped: lib/escape's HTML form in markup; in the JSON data block
 * escape_json with < > & as \u escapes, so no "</script" or "<!--" can close
 * or bend it; recordings as base64. The player, the page's script and its
 * style are embedded in auditctl (auditctl/report/assets.S) and inlined under
 * a Content-Security-Policy that allows exactly their hashes. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sodium.h>

#include "auditctl.h"
#include "auditevent.h"
#include "audithist.h"
#include "auditread.h"
#include "duration.h"
#include "escape.h"
#include "jsonw.h"

/* auditctl/report/assets.S: each blob is followed by a NUL at its _end. */
extern const char report_player_js[], report_player_js_end[];
extern const char report_player_css[], report_player_css_end[];
extern const char report_app_js[], report_app_js_end[];
extern const char report_app_css[], report_app_css_end[];

#define VERB		"report"
/* A recording larger than this is listed, not embedded. */
#define CAST_MAX	(16 * 1024 * 1024)
/* Recordings embedded in one report, in all. */
#define CASTS_MAX	(256 * 1024 * 1024)
/* Table rows per lazily laid out chunk. */
#define ROWS_PER_CHUNK	100
/* Output kept from verify / ttl-evidence. */
#define CHILD_OUT_MAX	(1024 * 1024)

/* Plot geometry (SVG user units). */
#define PW	520
#define PH	300
#define PL	64	/* left margin: y labels */
#define PB	40	/* bottom margin: x labels */
#define PT	16
#define PR	16

struct tl_event {
	uint32_t	 row;		/* index of the session's row in the fold */
	int64_t		 ts_us;
	char		*event;
	char		*detail;	/* NULL: none */
	int		 cast;		/* index in casts, -1: none */
};

struct cast {
	char		*b64;		/* NULL: not embedded, see note */
	char		*note;		/* why not, or NULL */
	char		*name;		/* "<n>.cast" */
};

struct report {
	struct auditfold *fold;
	int64_t		 cutoff;
	int64_t		 now;
	int		 daemon;
	const char	*recdir;
	unsigned char	*keep;		/* per fold row: in the report */
	size_t		 nkept;
	struct tl_event	*ev;
	size_t		 nev, evcap;
	struct cast	*casts;
	size_t		 ncasts, castcap;
	size_t		 cast_bytes;
};

/* The temporary file while it is written: removed if auditctl dies (only by
 * the process that made it, not by a forked verb). */
static char	*report_tmp;
static pid_t	 report_tmp_pid;

static void
report_tmp_cleanup(void)
{
	if (report_tmp != NULL && getpid() == report_tmp_pid)
		(void)unlink(report_tmp);
}

static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL)
		die(VERB, "out of memory");
	return p;
}

static char *
xstrndup(const char *s, size_t len)
{
	char *p;

	if ((p = strndup(s, len)) == NULL)
		die(VERB, "out of memory");
	return p;
}

/* Writes len bytes of log text as HTML text or attribute value. */
static void
put_html(FILE *fp, const char *s, size_t len)
{
	char *e;

	if ((e = escape_html(s, len)) == NULL)
		die(VERB, "out of memory");
	fputs(e, fp);
	free(e);
}

/* The same, keeping the newlines of a verb's output (a <pre> block). */
static void
put_html_lines(FILE *fp, const char *s, size_t len)
{
	const char *nl;

	while (len > 0) {
		nl = memchr(s, '\n', len);
		put_html(fp, s, nl ? (size_t)(nl - s) : len);
		if (nl == NULL)
			break;
		fputc('\n', fp);
		len -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
}

static void
put_html_str(FILE *fp, const char *s)
{
	put_html(fp, s, s == NULL ? 0 : strlen(s));
}

/*
 * Writes JSON text for a <script type="application/json"> block: first made
 * terminal-safe like every --json output (escape_json), then < > & as \u
 * escapes. Outside strings JSON has none of them, so the value is the same
 * and the block cannot hold "</script" or "<!--".
 */
static void
put_json_block(FILE *fp, const char *json, size_t len)
{
	char *e, *p;

	if ((e = escape_json(json, len)) == NULL)
		die(VERB, "out of memory");
	for (p = e; *p != '\0'; p++) {
		if (*p == '<')
			fputs("\\u003c", fp);
		else if (*p == '>')
			fputs("\\u003e", fp);
		else if (*p == '&')
			fputs("\\u0026", fp);
		else
			fputc(*p, fp);
	}
	free(e);
}

/* 'sha256-…' of an inline element's exact text, for the CSP. */
static void
csp_hash(char *out, size_t outlen, const char *s, const char *end)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)s, (size_t)(end - s));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, outlen, "'sha256-%s'", b64);
}

/*
 * Runs another verb's handler in a child with its stdout (and stderr when
 * with_err) on a pipe, so the report shows what that verb says, computed by
 * that verb. Returns its exit status (-1: killed), the output in *out.
 */
static int
run_verb(int (*fn)(int, char **), char **argv, int with_err, char **out,
    size_t *outlen)
{
	char buf[65536];
	size_t len = 0, cap = 0;
	ssize_t n;
	pid_t pid;
	int p[2], argc, status, rc, devnull;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	if (pipe2(p, O_CLOEXEC) == -1)
		die(VERB, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		die(VERB, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(127);
		if (with_err)
			rc = dup2(p[1], STDERR_FILENO);
		else if ((devnull = open("/dev/null", O_WRONLY)) != -1)
			rc = dup2(devnull, STDERR_FILENO);
		else
			rc = -1;
		if (rc == -1)
			_exit(127);
		optind = 0;	/* a fresh getopt for the verb */
		rc = fn(argc, argv);
		fflush(stdout);
		_exit(rc);
	}
	close(p[1]);
	*out = NULL;
	for (;;) {
		if ((n = read(p[0], buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			die(VERB, "read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		if (len + (size_t)n > CHILD_OUT_MAX)
			continue;	/* drain, keep the first part */
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			*out = xreallocarray(*out, cap, 1);
		}
		memcpy(*out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(p[0]);
	if (*out == NULL)
		*out = xreallocarray(NULL, 1, 1);
	(*out)[len] = '\0';
	*outlen = len;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			die(VERB, "waitpid: %s", strerror(errno));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Session ids name a directory: only letters and digits are looked up. */
static int
safe_id(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > AUDITFOLD_ID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return 1;
}

/* The file name of a logged recording path, when it is "<n>.cast". */
static const char *
cast_name(const char *path)
{
	const char *b = strrchr(path, '/'), *p;

	b = b == NULL ? path : b + 1;
	for (p = b; *p >= '0' && *p <= '9'; p++)
		;
	if (p == b || p - b > 9 || strcmp(p, ".cast") != 0)
		return NULL;
	return b;
}

static char *
fmt_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt_detail(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		die(VERB, "out of memory");
	va_end(ap);
	return s;
}

static int
add_cast(struct report *rp, char *name, char *b64, char *note)
{
	if (rp->ncasts == rp->castcap) {
		rp->castcap = rp->castcap ? rp->castcap * 2 : 16;
		rp->casts = xreallocarray(rp->casts, rp->castcap,
		    sizeof(*rp->casts));
	}
	rp->casts[rp->ncasts].name = name;
	rp->casts[rp->ncasts].b64 = b64;
	rp->casts[rp->ncasts].note = note;
	return (int)rp->ncasts++;
}

/*
 * Finds recording `name` of session id under the recordings directory (never
 * the logged path itself: a forged log must not make the report embed an
 * arbitrary file) and embeds it when it is a regular asciicast v2 file.
 */
static int
load_cast(struct report *rp, const char *id, size_t idlen, const char *name)
{
	char path[PATH_MAX], *buf = NULL, *b64, *nl;
	const char *note;
	struct stat st;
	cJSON *hdr, *ver;
	size_t got = 0, b64len;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%.*s/%s", rp->recdir,
	    (int)idlen, id, name) >= sizeof(path))
		return add_cast(rp, xstrndup(name, strlen(name)), NULL,
		    xstrndup("path too long", 13));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return add_cast(rp, xstrndup(name, strlen(name)), NULL,
		    fmt_detail("not found: %s (%s)", path, strerror(errno)));
	note = NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		note = "not a regular file";
	else if (st.st_size > CAST_MAX)
		note = "too large to embed (play it with asciinema play)";
	else if (rp->cast_bytes + (size_t)st.st_size > CASTS_MAX)
		note = "not embedded: the report's limit for recordings is "
		    "reached (use --since)";
	if (note == NULL) {
		buf = xreallocarray(NULL, (size_t)st.st_size + 1, 1);
		while (got < (size_t)st.st_size && (n = read(fd, buf + got,
		    (size_t)st.st_size - got)) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				note = "read error";
				break;
			}
			got += (size_t)n;
		}
		buf[got] = '\0';
	}
	close(fd);
	if (note == NULL) {
		/* Line 1 must be a v2 header, or the player would fail. */
		nl = memchr(buf, '\n', got);
		hdr = cJSON_ParseWithLength(buf, nl ? (size_t)(nl - buf) : got);
		ver = cJSON_GetObjectItemCaseSensitive(hdr, "version");
		if (!cJSON_IsNumber(ver) || ver->valuedouble != 2)
			note = "not an asciicast v2 file";
		cJSON_Delete(hdr);
	}
	if (note != NULL) {
		free(buf);
		if (asprintf(&b64, "%s: %s", path, note) == -1)
			die(VERB, "out of memory");
		return add_cast(rp, xstrndup(name, strlen(name)), NULL, b64);
	}
	b64len = sodium_base64_ENCODED_LEN(got, sodium_base64_VARIANT_ORIGINAL);
	b64 = xreallocarray(NULL, b64len, 1);
	sodium_bin2base64(b64, b64len, (unsigned char *)buf, got,
	    sodium_base64_VARIANT_ORIGINAL);
	free(buf);
	rp->cast_bytes += got;
	return add_cast(rp, xstrndup(name, strlen(name)), b64, NULL);
}

static void
add_event(struct report *rp, uint32_t row, int64_t ts, const char *event,
    size_t evlen, char *detail, int cast)
{
	struct tl_event *e;

	if (rp->nev == rp->evcap) {
		rp->evcap = rp->evcap ? rp->evcap * 2 : 1024;
		rp->ev = xreallocarray(rp->ev, rp->evcap, sizeof(*rp->ev));
	}
	e = &rp->ev[rp->nev++];
	e->row = row;
	e->ts_us = ts;
	e->event = xstrndup(event, evlen);
	e->detail = detail;
	e->cast = cast;
}

/* A shell event's own fields (the fold does not keep them). */
static char *
shell_detail(struct report *rp, const char *line, size_t len, int started,
    const char *id, size_t idlen, int *cast)
{
	cJSON *j, *cmd, *rec, *st, *bytes;
	const char *name;
	char *d, *c = NULL;

	*cast = -1;
	if ((j = cJSON_ParseWithLength(line, len)) == NULL)
		return NULL;
	cmd = cJSON_GetObjectItemCaseSensitive(j, "command");
	rec = cJSON_GetObjectItemCaseSensitive(j, "recording");
	if (cJSON_IsString(cmd))
		c = cmd->valuestring;
	else if (cJSON_IsArray(cmd))
		c = cJSON_PrintUnformatted(cmd);
	if (started) {
		d = fmt_detail("%s", c ? c : "(login shell)");
		if (cJSON_IsString(rec) && (name = cast_name(rec->valuestring))
		    != NULL && safe_id(id, idlen))
			*cast = load_cast(rp, id, idlen, name);
	} else {
		st = cJSON_GetObjectItemCaseSensitive(j, "exit_status");
		bytes = cJSON_GetObjectItemCaseSensitive(j, "bytes_out");
		d = fmt_detail("exit status %.0f, %.0f bytes out",
		    cJSON_IsNumber(st) ? st->valuedouble : -1,
		    cJSON_IsNumber(bytes) ? bytes->valuedouble : 0);
	}
	if (c != NULL && !cJSON_IsString(cmd))
		free(c);
	cJSON_Delete(j);
	return d;
}

/* The second pass: every kept session's events, in log order. */
static void
collect_events(struct report *rp, const char *path, int fd)
{
	const struct auditfold_row *r, *r0 = auditfold_row(rp->fold, 0);
	struct auditread_line l;
	struct auditread *rd;
	struct auditevent ev;
	const char *why;
	char *copy = NULL, *detail, d1[32];
	size_t copycap = 0;
	int rc, cast, shell;
	uint32_t row;

	if (lseek(fd, 0, SEEK_SET) == -1)
		die(VERB, "%s: cannot read it twice (%s): give a file",
		    path, strerror(errno));
	if ((rd = auditread_open(fd)) == NULL)
		die(VERB, "out of memory");
	while ((rc = auditread_next(rd, &l)) == 1) {
		if (l.toolong || l.torn)
			continue;
		/* Shell events are read again with cJSON for their own
		 * fields: keep a copy before the parser decodes in place. */
		shell = memmem(l.buf, l.len, "\"shell_", 7) != NULL;
		if (shell) {
			if (l.len + 1 > copycap) {
				copycap = l.len + 1;
				copy = xreallocarray(copy, copycap, 1);
			}
			memcpy(copy, l.buf, l.len);
		}
		if (auditevent_parse(l.buf, l.len, &ev, &why) == -1 ||
		    ev.session.p == NULL)
			continue;
		if ((r = auditfold_find(rp->fold, ev.session.p,
		    ev.session.len)) == NULL)
			continue;
		row = (uint32_t)(r - r0);
		if (!rp->keep[row])
			continue;
		detail = NULL;
		cast = -1;
		switch (ev.kind) {
		case AUDITEVENT_CREATED:
			duration_format(ev.ttl_s, d1, sizeof(d1));
			detail = fmt_detail("ttl %s", d1);
			break;
		case AUDITEVENT_KEY_LOADED:
		case AUDITEVENT_KEY_REMOVED:
		case AUDITEVENT_KEY_USED:
			detail = fmt_detail("%.*s%s%.*s%s",
			    (int)ev.fingerprint.len, ev.fingerprint.p ?
			    ev.fingerprint.p : "",
			    ev.kind == AUDITEVENT_KEY_REMOVED &&
			    ev.exit_reason.p ? " (" : "",
			    ev.kind == AUDITEVENT_KEY_REMOVED ?
			    (int)ev.exit_reason.len : 0,
			    ev.exit_reason.p ? ev.exit_reason.p : "",
			    ev.kind == AUDITEVENT_KEY_USED ?
			    (ev.ok ? " (signed)" : " (refused)") :
			    ev.kind == AUDITEVENT_KEY_REMOVED &&
			    ev.exit_reason.p ? ")" : "");
			break;
		case AUDITEVENT_SHELL_STARTED:
		case AUDITEVENT_SHELL_ENDED:
			if (shell)
				detail = shell_detail(rp, copy, l.len,
				    ev.kind == AUDITEVENT_SHELL_STARTED,
				    ev.session.p, ev.session.len, &cast);
			break;
		case AUDITEVENT_STOPPED:
		case AUDITEVENT_CRASHED:
			d1[0] = '\0';
			if (ev.has & AUDITEVENT_DURATION)
				duration_format(ev.duration_s, d1, sizeof(d1));
			detail = fmt_detail("%.*s%s%s",
			    (int)ev.exit_reason.len, ev.exit_reason.p ?
			    ev.exit_reason.p : "", d1[0] ? " after " : "", d1);
			break;
		default:
			break;
		}
		add_event(rp, row, ev.ts_us, ev.event.p, ev.event.len, detail,
		    cast);
	}
	if (rc == -1)
		die(VERB, "%s: %s", path, strerror(errno));
	auditread_free(rd);
	free(copy);
}

static int
cmp_event(const void *a, const void *b)
{
	const struct tl_event *x = a, *y = b;

	/* Stable by construction: ties keep log order through the pointer. */
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Seconds from created to the last key use, never past the logged duration
 * (as ttl-evidence counts it); UINT64_MAX when no key was used. */
static uint64_t
to_last_use(const struct auditfold_row *r, uint64_t d)
{
	uint64_t v;

	if (r->last_use_us == AUDITFOLD_NO_TIME ||
	    r->created_us == AUDITFOLD_NO_TIME)
		return UINT64_MAX;
	v = elapsed_ceil_s(r->created_us, r->last_use_us);
	return (r->flags & AUDITFOLD_HAS_DURATION) && v > d ? d : v;
}

/* Log-scale axis over [lo, hi] seconds onto [0, len] units. */
static double
logpos(double v, double lo, double hi, double len)
{
	if (v < lo)
		v = lo;
	return (log10(v) - log10(lo)) / (log10(hi) - log10(lo)) * len;
}

static double
axis_hi(uint64_t max)
{
	static const double steps[] = { 60, 600, 3600, 4 * 3600, 12 * 3600,
	    86400, 7 * 86400, 30 * 86400, 365 * 86400.0 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((double)max * 1.05 <= steps[i])
			return steps[i];
	}
	return (double)max * 1.1;
}

static const double log_ticks[] = { 1, 10, 60, 600, 3600, 4 * 3600,
    12 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400.0 };

static void
svg_begin(FILE *fp, const char *id, const char *title, const char *desc)
{
	fprintf(fp, "<figure class=\"plot\" id=\"%s\"><figcaption>%s"
	    "</figcaption><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "role=\"img\" aria-label=\"%s\"><desc>%s</desc>"
	    "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"%d\"/>", id, title, PW, PH, PW, PH, title, desc, PL, PT,
	    PW - PL - PR, PH - PT - PB);
}

/* Log ticks on the x axis (and the y axis when yaxis). */
static void
svg_log_axes(FILE *fp, double hi, int yaxis)
{
	char lab[32];
	size_t i;
	double x, y;

	for (i = 0; i < sizeof(log_ticks) / sizeof(log_ticks[0]) &&
	    log_ticks[i] <= hi; i++) {
		duration_format((uint64_t)log_ticks[i], lab, sizeof(lab));
		x = PL + logpos(log_ticks[i], 1, hi, PW - PL - PR);
		fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\"/><text class=\"tick\" x=\"%.1f\" "
		    "y=\"%d\" text-anchor=\"middle\">%s</text>", x, PT, x,
		    PH - PB, x, PH - PB + 14, lab);
		if (!yaxis)
			continue;
		y = PH - PB - logpos(log_ticks[i], 1, hi, PH - PT - PB);
		fprintf(fp, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
		    "x2=\"%d\" y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" "
		    "y=\"%.1f\" text-anchor=\"end\">%s</text>", PL, y, PW - PR,
		    y, PL - 4, y + 4, lab);
	}
}

static void
svg_end(FILE *fp, const char *xlabel, const char *ylabel)
{
	fprintf(fp, "<text class=\"axis\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"middle\">%s</text><text class=\"axis\" "
	    "transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">"
	    "%s</text></svg></figure>\n", (PW + PL) / 2, PH - 6, xlabel,
	    (PH - PB + PT) / 2, ylabel);
}

/* Session duration against TTL, log-log; one mark per pixel. */
static void
plot_duration_ttl(FILE *fp, struct report *rp)
{
	const struct auditfold_row *r;
	unsigned char *seen;
	uint64_t maxv = 60, d;
	size_t i, n = 0;
	double hi, x, y;
	int px, py;

	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		r = auditfold_row(rp->fold, i);
		if (!rp->keep[i] || !(r->flags & AUDITFOLD_HAS_TTL))
			continue;
		d = row_duration(r, rp->daemon, rp->now);
		if (r->ttl_s > maxv)
			maxv = r->ttl_s;
		if (d > maxv)
			maxv = d;
	}
	hi = axis_hi(maxv);
	svg_begin(fp, "plot-duration", "Session duration against TTL",
	    "Each mark is one or more sessions: x its TTL, y how long it ran. "
	    "On the diagonal a session ran into its TTL.");
	svg_log_axes(fp, hi, 1);
	fprintf(fp, "<line class=\"diag\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\"/>", PL, PH - PB, PW - PR, PT);
	seen = calloc(PW * PH, 1);
	if (seen == NULL)
		die(VERB, "out of memory");
	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		r = auditfold_row(rp->fold, i);
		if (!rp->keep[i] || !(r->flags & AUDITFOLD_HAS_TTL))
			continue;
		d = row_duration(r, rp->daemon, rp->now);
		x = PL + logpos((double)r->ttl_s, 1, hi, PW - PL - PR);
		y = PH - PB - logpos((double)d, 1, hi, PH - PT - PB);
		px = (int)x;
		py = (int)y;
		if (px < 0 || px >= PW || py < 0 || py >= PH ||
		    seen[py * PW + px])
			continue;
		seen[py * PW + px] = 1;
		n++;
		fprintf(fp, "<circle class=\"pt%s\" cx=\"%d\" cy=\"%d\" "
		    "r=\"2.5\"/>", r->state == AUDITFOLD_OPEN ? " open" : "",
		    px, py);
	}
	free(seen);
	svg_end(fp, "TTL", "duration");
}

/* Time to the last key use as a share of the TTL: 20 bars of 5 %. */
static void
plot_last_use_share(FILE *fp, struct report *rp)
{
	const struct auditfold_row *r;
	uint64_t bins[20] = { 0 }, most = 0, v, d, none = 0;
	size_t i, b;
	double bw = (double)(PW - PL - PR) / 20, h, x;

	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		r = auditfold_row(rp->fold, i);
		if (!rp->keep[i] || !(r->flags & AUDITFOLD_HAS_TTL) ||
		    r->ttl_s == 0)
			continue;
		d = row_duration(r, rp->daemon, rp->now);
		if ((v = to_last_use(r, d)) == UINT64_MAX) {
			none++;
			continue;
		}
		b = (size_t)(v * 20 / r->ttl_s);
		if (b > 19)
			b = 19;
		if (++bins[b] > most)
			most = bins[b];
	}
	svg_begin(fp, "plot-share", "Time to the last key use, as a share of "
	    "the TTL", "Sessions that used a key, by when they last used it, "
	    "in 5 % steps of their TTL. Bars to the left: the TTL is longer "
	    "than the work needed.");
	for (i = 0; i <= 10; i += 2) {
		x = PL + bw * 2 * (double)i;
		fprintf(fp, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%zu%%</text>", x, PH - PB + 14,
		    i * 10);
	}
	fprintf(fp, "<text class=\"tick\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"end\">%" PRIu64 "</text><text class=\"tick\" "
	    "x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", PL - 4, PT + 8,
	    most, PL - 4, PH - PB);
	for (i = 0; i < 20; i++) {
		if (bins[i] == 0)
			continue;
		h = (double)bins[i] / (double)most * (PH - PT - PB);
		fprintf(fp, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\"><title>%zu-%zu %%: %" PRIu64
		    " sessions</title></rect>", PL + bw * (double)i + 1,
		    PH - PB - h, bw - 2, h, i * 5, i * 5 + 5, bins[i]);
	}
	fprintf(fp, "<text class=\"note\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"end\">%" PRIu64 " sessions used no key</text>",
	    PW - PR - 4, PT + 14, none);
	svg_end(fp, "last key use / TTL", "sessions");
}

/* The share of sessions whose last key use came by time t (log t), with
 * the recommended TTL (ttl-evidence: covering 95 % and 99 %) marked. */
static void
plot_recommended(FILE *fp, struct report *rp, const cJSON *evidence)
{
	const struct auditfold_row *r;
	const cJSON *cov, *p95, *p99, *ttls, *p50;
	struct audithist *h;
	uint64_t v, c, acc = 0, total, maxv = 60;
	size_t i, nd;
	double hi, x, y, lastx = PL, lasty = PH - PB;
	char lab[32];

	if ((h = audithist_new()) == NULL)
		die(VERB, "out of memory");
	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		r = auditfold_row(rp->fold, i);
		if (!rp->keep[i])
			continue;
		v = to_last_use(r, row_duration(r, rp->daemon, rp->now));
		if (v != UINT64_MAX && audithist_add(h, v) == -1)
			die(VERB, "out of memory");
		if (r->flags & AUDITFOLD_HAS_TTL && r->ttl_s > maxv)
			maxv = r->ttl_s;
	}
	if (audithist_finish(h) == -1)
		die(VERB, "out of memory");
	total = audithist_count(h);
	if (total > 0 && audithist_quantile(h, 1000) > maxv)
		maxv = audithist_quantile(h, 1000);
	hi = axis_hi(maxv);
	svg_begin(fp, "plot-recommended", "The recommended TTL",
	    "The share of sessions (that used a key) whose last key use came "
	    "within a time; marked: the TTL that covers 95 % and 99 % of them "
	    "(ttl-evidence) and the TTL most used now.");
	svg_log_axes(fp, hi, 0);
	for (i = 0; i <= 4; i++) {
		y = PH - PB - (double)i / 4 * (PH - PT - PB);
		fprintf(fp, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
		    "x2=\"%d\" y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" "
		    "y=\"%.1f\" text-anchor=\"end\">%zu%%</text>", PL, y, PW - PR,
		    y, PL - 4, y + 4, i * 25);
	}
	nd = audithist_ndistinct(h);
	if (total > 0) {
		fprintf(fp, "<path class=\"cdf\" d=\"M%d %d", PL, PH - PB);
		for (i = 0; i < nd; i++) {
			audithist_distinct(h, i, &v, &c);
			acc += c;
			x = PL + logpos((double)(v ? v : 1), 1, hi,
			    PW - PL - PR);
			y = PH - PB - (double)acc / (double)total *
			    (PH - PT - PB);
			if (x - lastx < 0.5 && i + 1 < nd)
				continue;	/* one step per half unit */
			fprintf(fp, " H%.1f V%.1f", x, y);
			lastx = x;
			lasty = y;
		}
		fprintf(fp, " H%d\"/>", PW - PR);
	}
	(void)lasty;
	cov = cJSON_GetObjectItemCaseSensitive(evidence,
	    "ttl_covering_key_use_s");
	p95 = cJSON_GetObjectItemCaseSensitive(cov, "p95");
	p99 = cJSON_GetObjectItemCaseSensitive(cov, "p99");
	ttls = cJSON_GetObjectItemCaseSensitive(evidence, "ttl_s");
	p50 = cJSON_GetObjectItemCaseSensitive(ttls, "p50");
	if (cJSON_IsNumber(p50) && p50->valuedouble > 0) {
		duration_format((uint64_t)p50->valuedouble, lab, sizeof(lab));
		x = PL + logpos(p50->valuedouble, 1, hi, PW - PL - PR);
		fprintf(fp, "<line class=\"mark now\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\"/><text class=\"note\" x=\"%.1f\" "
		    "y=\"%d\" text-anchor=\"%s\">TTL now (p50) %s</text>", x,
		    PT, x, PH - PB, x > PW / 2 ? x - 4 : x + 4, PT + 40,
		    x > PW / 2 ? "end" : "start", lab);
	}
	if (cJSON_IsNumber(p95)) {
		duration_format((uint64_t)p95->valuedouble, lab, sizeof(lab));
		x = PL + logpos(p95->valuedouble, 1, hi, PW - PL - PR);
		fprintf(fp, "<line class=\"mark p95\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\"/><text class=\"note\" x=\"%.1f\" "
		    "y=\"%d\" text-anchor=\"%s\">95 %%: %s</text>", x, PT, x,
		    PH - PB, x < PL + 80 ? x + 4 : x - 4, PT + 12,
		    x < PL + 80 ? "start" : "end", lab);
	}
	if (cJSON_IsNumber(p99)) {
		duration_format((uint64_t)p99->valuedouble, lab, sizeof(lab));
		x = PL + logpos(p99->valuedouble, 1, hi, PW - PL - PR);
		fprintf(fp, "<line class=\"mark rec\" x1=\"%.1f\" y1=\"%d\" "
		    "x2=\"%.1f\" y2=\"%d\"/><text class=\"note rec\" "
		    "x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">recommended TTL "
		    "(99 %%): %s</text>", x, PT, x, PH - PB, x > PW / 2 ? x - 4 :
		    x + 4, PT + 26, x > PW / 2 ? "end" : "start", lab);
	}
	audithist_free(h);
	svg_end(fp, "time from created to the last key use",
	    "sessions (cumulative)");
}

static void
put_time_cell(FILE *fp, int64_t us)
{
	char t[32];

	if (us == AUDITFOLD_NO_TIME) {
		fputs("<span class=\"td\" data-v=\"\">-</span>", fp);
		return;
	}
	fmt_time(us, t);
	/* The minute is enough in a table; the title has it all. */
	fprintf(fp, "<span class=\"td\" data-v=\"%" PRId64 "\" title=\"%s\">%.10s %.5s</span>",
	    us, t, t, t + 11);
}

static void
put_dur_cell(FILE *fp, uint64_t s, int known)
{
	char d[32];

	if (!known) {
		fputs("<span class=\"td n\" data-v=\"\">-</span>", fp);
		return;
	}
	duration_format(s, d, sizeof(d));
	fprintf(fp, "<span class=\"td n\" data-v=\"%" PRIu64 "\">%s</span>", s, d);
}

static void
write_rows(FILE *fp, struct report *rp)
{
	const struct auditfold_row *r;
	const char *s, *state;
	size_t i, k = 0, len;
	uint64_t d, lu;

	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		if (!rp->keep[i])
			continue;
		r = auditfold_row(rp->fold, i);
		state = row_state(r, rp->daemon);
		d = row_duration(r, rp->daemon, rp->now);
		/* Chunks of rows that the browser lays out only when seen
		 * (content-visibility): 10,000 rows open in a second. */
		if (k % ROWS_PER_CHUNK == 0)
			fprintf(fp, "%s<div class=\"chunk\">", k ? "</div>" : "");
		fprintf(fp, "<div class=\"tr %s\" role=\"row\" data-s=\"%s\" "
		    "data-i=\"%zu\"><span class=\"td\"><button type=\"button\" "
		    "class=\"open\" data-i=\"%zu\">", state, state, k, k);
		put_html(fp, r->id, r->idlen);
		fputs("</button></span><span class=\"td\">", fp);
		if ((s = auditfold_str(rp->fold, r->label, &len)) != NULL)
			put_html(fp, s, len);
		fprintf(fp, "</span><span class=\"td\">%s</span>", state);
		put_time_cell(fp, r->created_us);
		put_dur_cell(fp, d, r->created_us != AUDITFOLD_NO_TIME);
		put_dur_cell(fp, r->ttl_s, r->flags & AUDITFOLD_HAS_TTL);
		fprintf(fp, "<span class=\"td n\">%" PRIu32 "</span><span class=\"td n\">%"
		    PRIu32 "</span>", r->keys_loaded, r->key_uses);
		lu = to_last_use(r, d);
		if (lu == UINT64_MAX || !(r->flags & AUDITFOLD_HAS_TTL) ||
		    r->ttl_s == 0)
			fputs("<span class=\"td n\" data-v=\"\">-</span>", fp);
		else
			fprintf(fp, "<span class=\"td n\" data-v=\"%" PRIu64 "\">%"
			    PRIu64 " %%</span>", lu * 100 / r->ttl_s,
			    lu * 100 / r->ttl_s);
		fputs("<span class=\"td\">", fp);
		if ((s = auditfold_str(rp->fold, r->exit_reason, &len)) != NULL)
			put_html(fp, s, len);
		fputs("</span>", fp);
		fprintf(fp, "<span class=\"td n\">%" PRIu32 "</span></div>\n", r->shells);
		k++;
	}
	if (k > 0)
		fputs("</div>", fp);
}

/* The data block: each kept session's timeline and recordings. */
static void
write_data(FILE *fp, struct report *rp, const char *evidence, size_t evlen)
{
	const struct auditfold_row *r;
	struct jsonw w;
	const char *s;
	size_t i, e = 0, len;
	char t[32];

	jsonw_init(&w);
	jsonw_begin(&w);
	if (evidence != NULL) {
		jsonw_raw(&w, "\"evidence\":", 11);
		jsonw_raw(&w, evidence, evlen);
		w.need_comma = true;
	} else
		jsonw_null(&w, "evidence");
	jsonw_array_begin(&w, "sessions");
	for (i = 0; i < auditfold_nrows(rp->fold); i++) {
		if (!rp->keep[i])
			continue;
		r = auditfold_row(rp->fold, i);
		jsonw_object_begin(&w, NULL);
		jsonw_strn(&w, "id", r->id, r->idlen);
		if ((s = auditfold_str(rp->fold, r->label, &len)) != NULL)
			jsonw_strn(&w, "label", s, len);
		else
			jsonw_null(&w, "label");
		jsonw_str(&w, "state", row_state(r, rp->daemon));
		if (r->created_us != AUDITFOLD_NO_TIME)
			jsonw_int(&w, "t0", r->created_us / 1000);
		else
			jsonw_null(&w, "t0");
		jsonw_uint(&w, "dur", row_duration(r, rp->daemon, rp->now));
		if (r->flags & AUDITFOLD_HAS_TTL)
			jsonw_uint(&w, "ttl", r->ttl_s);
		else
			jsonw_null(&w, "ttl");
		jsonw_array_begin(&w, "ev");
		while (e < rp->nev && rp->ev[e].row < i)
			e++;
		for (; e < rp->nev && rp->ev[e].row == i; e++) {
			jsonw_array_begin(&w, NULL);
			fmt_time(rp->ev[e].ts_us, t);
			jsonw_str(&w, NULL, t);
			jsonw_int(&w, NULL, rp->ev[e].ts_us / 1000);
			jsonw_str(&w, NULL, rp->ev[e].event);
			if (rp->ev[e].detail != NULL)
				jsonw_str(&w, NULL, rp->ev[e].detail);
			else
				jsonw_null(&w, NULL);
			if (rp->ev[e].cast >= 0)
				jsonw_int(&w, NULL, rp->ev[e].cast);
			else
				jsonw_null(&w, NULL);
			jsonw_array_end(&w);
		}
		jsonw_array_end(&w);
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_array_begin(&w, "casts");
	for (i = 0; i < rp->ncasts; i++) {
		jsonw_object_begin(&w, NULL);
		jsonw_str(&w, "name", rp->casts[i].name);
		jsonw_bool(&w, "embedded", rp->casts[i].b64 != NULL);
		if (rp->casts[i].note != NULL)
			jsonw_str(&w, "note", rp->casts[i].note);
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_end(&w);
	if (!jsonw_ok(&w))
		die(VERB, "out of memory");
	fputs("<script type=\"application/json\" id=\"report-data\">", fp);
	put_json_block(fp, w.buf, w.len);
	fputs("</script>\n", fp);
	jsonw_free(&w);
	/* Recordings: base64, whose alphabet cannot end the element. */
	for (i = 0; i < rp->ncasts; i++) {
		if (rp->casts[i].b64 == NULL)
			continue;
		fprintf(fp, "<script type=\"application/octet-stream\" "
		    "id=\"cast-%zu\">%s</script>\n", i, rp->casts[i].b64);
	}
}

static void
write_report(FILE *fp, struct report *rp, const char *logpath,
    const char *since, int vrc, const char *vout, size_t voutlen,
    const char *evidence, size_t evlen, const cJSON *evj)
{
	char h1[64], h2[64], h3[64], h4[64], t[32];
	const struct auditfold_stats *st = auditfold_stats(rp->fold);

	csp_hash(h1, sizeof(h1), report_player_js, report_player_js_end);
	csp_hash(h2, sizeof(h2), report_app_js, report_app_js_end);
	csp_hash(h3, sizeof(h3), report_player_css, report_player_css_end);
	csp_hash(h4, sizeof(h4), report_app_css, report_app_css_end);
	/* Nothing may be fetched; the player compiles its terminal from
	 * WebAssembly bytes inside its own script ('wasm-unsafe-eval'). */
	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-"
	    "Policy\" content=\"default-src 'none'; script-src %s %s "
	    "'wasm-unsafe-eval'; style-src %s %s; "
	    "base-uri 'none'; form-action 'none'\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>agentd review report</title>\n", h1, h2, h3, h4);
	fprintf(fp, "<style>%s</style>\n<style>%s</style>\n</head><body>\n",
	    report_player_css, report_app_css);
	fmt_time(rp->now, t);
	fputs("<header><h1>agentd review report</h1><p class=\"meta\">Log "
	    "<code>", fp);
	put_html_str(fp, logpath);
	fprintf(fp, "</code>, %" PRIu64 " lines; written %s by <code>auditctl "
	    "report</code>", st->lines, t);
	if (since != NULL) {
		fputs(", sessions created in the last ", fp);
		put_html_str(fp, since);
	}
	fprintf(fp, ". <span id=\"count-all\">%zu</span> session%s.</p>"
	    "</header>\n", rp->nkept, rp->nkept == 1 ? "" : "s");

	fprintf(fp, "<section id=\"verify\" class=\"%s\"><h2>Chain "
	    "verification</h2><p class=\"verdict\">%s</p><pre>", vrc == 0 ?
	    "ok" : "bad", vrc == 0 ? "The hash chain verifies." :
	    "The chain does NOT verify: read the problem below before "
	    "anything else in this report.");
	put_html_lines(fp, vout, voutlen);
	fputs("</pre></section>\n", fp);

	fputs("<section id=\"evidence\"><h2>TTL evidence</h2>"
	    "<div class=\"plots\">", fp);
	plot_duration_ttl(fp, rp);
	plot_last_use_share(fp, rp);
	plot_recommended(fp, rp, evj);
	fputs("</div><p id=\"statement\"></p><details><summary>Every figure "
	    "(<code>auditctl ttl-evidence --json</code>)</summary><table "
	    "id=\"evidence-table\" class=\"kv\"></table></details>"
	    "</section>\n", fp);

	fputs("<section id=\"sessions\"><h2>Sessions</h2><p class=\"tools\">"
	    "<label>Filter <input type=\"search\" id=\"filter\" "
	    "placeholder=\"id, label, reason…\"></label> <label>State <select "
	    "id=\"state\"><option value=\"\">any</option><option>active"
	    "</option><option>orphaned</option><option>stopped</option>"
	    "<option>crashed</option></select></label> <span id=\"shown\">"
	    "</span></p>\n<div id=\"sessions-table\" role=\"table\">"
	    "<div class=\"thead\"><div class=\"tr\" role=\"row\">"
	    "<span class=\"th\" data-type=\"text\">session</span>"
	    "<span class=\"th\" data-type=\"text\">label</span>"
	    "<span class=\"th\" data-type=\"text\">state</span>"
	    "<span class=\"th\" data-type=\"num\">created (UTC)</span>"
	    "<span class=\"th n\" data-type=\"num\">duration</span>"
	    "<span class=\"th n\" data-type=\"num\">TTL</span>"
	    "<span class=\"th n\" data-type=\"num\">keys</span>"
	    "<span class=\"th n\" data-type=\"num\">uses</span>"
	    "<span class=\"th n\" data-type=\"num\" title=\"time from created "
	    "to the last key use, as a share of the TTL\">last use</span>"
	    "<span class=\"th\" data-type=\"text\">exit reason</span>"
	    "<span class=\"th n\" data-type=\"num\">shells</span></div></div>"
	    "<div class=\"tbody\">\n", fp);
	write_rows(fp, rp);
	fputs("</div></div></section>\n<section id=\"detail\" hidden>"
	    "</section>\n", fp);
	write_data(fp, rp, evidence, evlen);
	fprintf(fp, "<script>%s</script>\n<script>%s</script>\n</body></html>\n",
	    report_player_js, report_app_js);
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "recordings", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'L' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report rp;
	const struct auditfold_row *r;
	const char *since = NULL, *out = NULL, *path, *slash;
	static char a_verify[] = "verify", a_evidence[] = "ttl-evidence",
	    a_json[] = "--json", a_since[] = "--since";
	char *vargv[] = { a_verify, NULL };
	char *eargv[] = { a_evidence, a_json, NULL, NULL, NULL };
	char *vout, *eout, *tmp = NULL, *recdir = NULL, *owned = NULL;
	size_t voutlen, eoutlen, i;
	cJSON *evj;
	FILE *fp;
	int ch, fd, vrc, erc, tfd;

	while ((ch = getopt_long(argc, argv, "+ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			since = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			recdir = optarg;
			break;
		case 'L':
			log_opt = optarg;
			break;
		case 'N':
			now_opt = optarg;
			break;
		case 'h':
			usage_for(VERB);
			return 0;
		default:
			die_badopt(VERB, argv);
		}
	}
	if (optind != argc)
		die_usage(VERB, "unexpected argument '%s'", argv[optind]);
	if (out == NULL)
		die_usage(VERB, "-o FILE.html is required");
	memset(&rp, 0, sizeof(rp));
	rp.now = now_us(VERB);
	rp.cutoff = since ? since_cutoff(VERB, since, rp.now) :
	    AUDITFOLD_NO_TIME;
	path = log_path(VERB);
	if (strcmp(path, "-") == 0)
		die_usage(VERB, "the log must be a file (it is read more than "
		    "once)");
	/* Recordings: --recordings DIR, else "recordings" beside the log. */
	if (recdir == NULL) {
		slash = strrchr(path, '/');
		if (asprintf(&owned, "%.*srecordings", slash ? (int)(slash -
		    path + 1) : 0, path) == -1)
			die(VERB, "out of memory");
		recdir = owned;
	}
	rp.recdir = recdir;
	fd = log_open(VERB, path);
	/* Whole or not at all: a temporary file renamed over FILE, made
	 * first so that a bad -o fails before any work. */
	if (strcmp(out, "-") == 0)
		fp = stdout;
	else {
		if (asprintf(&tmp, "%s.tmp-XXXXXX", out) == -1)
			die(VERB, "out of memory");
		if ((tfd = mkstemp(tmp)) == -1)
			die(VERB, "%s: %s", out, strerror(errno));
		report_tmp = tmp;
		report_tmp_pid = getpid();
		(void)atexit(report_tmp_cleanup);
		if ((fp = fdopen(tfd, "w")) == NULL)
			die(VERB, "%s: %s", out, strerror(errno));
	}

	if ((rp.fold = auditfold_new(NULL, NULL)) == NULL)
		die(VERB, "out of memory");
	log_fold(VERB, path, fd, rp.fold);
	rp.daemon = log_daemon_holds(fd);
	rp.keep = calloc(auditfold_nrows(rp.fold) + 1, 1);
	if (rp.keep == NULL)
		die(VERB, "out of memory");
	for (i = 0; i < auditfold_nrows(rp.fold); i++) {
		r = auditfold_row(rp.fold, i);
		/* As ttl-evidence: --since keeps sessions created since. */
		if (rp.cutoff != AUDITFOLD_NO_TIME && (r->created_us ==
		    AUDITFOLD_NO_TIME || r->created_us < rp.cutoff))
			continue;
		rp.keep[i] = 1;
		rp.nkept++;
	}
	collect_events(&rp, path, fd);
	close(fd);
	if (rp.nev > 0)
		qsort(rp.ev, rp.nev, sizeof(*rp.ev), cmp_event);

	vrc = run_verb(cmd_verify, vargv, 1, &vout, &voutlen);
	if (since != NULL) {
		eargv[2] = a_since;
		eargv[3] = xstrndup(since, strlen(since));
	}
	erc = run_verb(cmd_ttl_evidence, eargv, 0, &eout, &eoutlen);
	evj = erc == 0 ? cJSON_ParseWithLength(eout, eoutlen) : NULL;

	setvbuf(fp, NULL, _IOFBF, 1 << 20);
	write_report(fp, &rp, path, since, vrc, vout, voutlen,
	    evj != NULL ? eout : NULL, eoutlen, evj);
	if (fflush(fp) == EOF || ferror(fp) ||
	    (fp != stdout && fsync(fileno(fp)) == -1))
		die(VERB, "writing %s failed: %s", out, strerror(errno));
	if (fp != stdout) {
		if (fclose(fp) == EOF || rename(tmp, out) == -1)
			die(VERB, "%s: %s", out, strerror(errno));
		report_tmp = NULL;
		fprintf(stderr, "auditctl report: wrote %s (%zu session%s; "
		    "chain %s)\n", escape_term_str(out), rp.nkept, rp.nkept == 1 ?
		    "" : "s", vrc == 0 ? "ok" : "NOT ok");
	}
	cJSON_Delete(evj);
	free(vout);
	free(eout);
	for (i = 0; i < rp.nev; i++) {
		free(rp.ev[i].event);
		free(rp.ev[i].detail);
	}
	for (i = 0; i < rp.ncasts; i++) {
		free(rp.casts[i].b64);
		free(rp.casts[i].note);
		free(rp.casts[i].name);
	}
	free(rp.ev);
	free(rp.casts);
	free(rp.keep);
	free(tmp);
	free(owned);
	free(eargv[3]);
	auditfold_free(rp.fold);
	/* The report is written either way; a broken chain is a failure. */
	return vrc == 0 ? 0 : 1;
}
