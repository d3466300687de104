/* auditctl ttl-evidence: what an operator needs before changing a TTL. */
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <wchar.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditctl.h"
#include "logset.h"
#include "audithist.h"
#include "duration.h"
#include "escape.h"
#include "jsonw.h"
#include "logset.h"

#define DEFAULT_MIN_DAYS	7
#define DEFAULT_MIN_SESSIONS	30
#define MAX_REASONS		64

/* Everything is accumulated from ended sessions, as they end: memory is
 * bounded by the sessions open at once plus distinct values. */
struct evidence {
	int64_t		 cutoff;	/* sessions created before are left out */
	uint64_t	 ended;
	uint64_t	 ran_into_ttl;
	uint64_t	 no_created;	/* ended, created not in the log */
	struct {
		char		*str;	/* NULL: no exit_reason (hosts' folds
					   intern apart: kept by content) */
		size_t		 len;
		uint64_t	 n;
	}		 reasons[MAX_REASONS];
	size_t		 nreasons;
	uint64_t	 other_reasons;
	struct audithist *duration;	/* duration_s as logged */
	struct audithist *ttl;		/* ttl_s used */
	struct audithist *ttl_expired;	/* ttl_s of sessions that hit it */
	struct audithist *pct_of_ttl;	/* duration * 100 / ttl, rounded down */
	struct audithist *to_first_key;	/* created -> first key_loaded, ceil s */
	struct audithist *to_last_use;	/* created -> last key_used, ceil s */
	int		 oom;
	/* Per host (logset chain): ended, ran into the TTL. */
	struct logset	*ls;
	size_t		 chain;		/* the chain of the last fold seen */
	uint64_t	*host_ended;
	uint64_t	*host_ttl;
};

/* The chain whose fold ended this session (chains are folded one after
 * another: the last one seen, else a search). */
static size_t
ev_chain(struct evidence *e, const struct auditfold *f)
{
	size_t i;

	if (e->chain < e->ls->nchains && e->ls->chains[e->chain].fold == f)
		return e->chain;
	for (i = 0; i < e->ls->nchains; i++) {
		if (e->ls->chains[i].fold == f)
			return e->chain = i;
	}
	return e->chain = 0;
}

static void
ev_add(struct evidence *e, struct audithist *h, uint64_t v)
{
	if (audithist_add(h, v) == -1)
		e->oom = 1;
}

static uint64_t
cap_at(uint64_t v, const struct auditfold_row *r, uint64_t d)
{
	return (r->flags & AUDITFOLD_HAS_DURATION) && v > d ? d : v;
}

static void
evidence_end(const struct auditfold *f, const struct auditfold_row *r,
    void *arg)
{
	struct evidence *e = arg;
	const char *reason;
	size_t i, len;
	uint64_t d;

	if (r->created_us == AUDITFOLD_NO_TIME) {
		e->no_created++;
		return;
	}
	if (e->cutoff != AUDITFOLD_NO_TIME && r->created_us < e->cutoff)
		return;
	e->ended++;
	e->host_ended[ev_chain(e, f)]++;
	reason = auditfold_str(f, r->exit_reason, &len);
	for (i = 0; i < e->nreasons; i++) {
		if (reason == NULL ? e->reasons[i].str == NULL :
		    (e->reasons[i].str != NULL && e->reasons[i].len == len &&
		    memcmp(e->reasons[i].str, reason, len) == 0))
			break;
	}
	if (i < e->nreasons)
		e->reasons[i].n++;
	else if (i < MAX_REASONS) {
		e->reasons[i].str = NULL;
		e->reasons[i].len = len;
		if (reason != NULL && (e->reasons[i].str = malloc(len + 1)) ==
		    NULL) {
			e->oom = 1;
			return;
		}
		if (reason != NULL)
			memcpy(e->reasons[i].str, reason, len);
		e->reasons[i].n = 1;
		e->nreasons++;
	} else
		e->other_reasons++;
	d = row_duration(r, 0, 0);
	ev_add(e, e->duration, d);
	if (r->flags & AUDITFOLD_HAS_TTL) {
		ev_add(e, e->ttl, r->ttl_s);
		if (r->ttl_s > 0)
			ev_add(e, e->pct_of_ttl, d * 100 / r->ttl_s);
	}
	if (reason != NULL && len == 11 && memcmp(reason, "ttl_expired", 11) == 0) {
		e->ran_into_ttl++;
		e->host_ttl[ev_chain(e, f)]++;
		ev_add(e, e->ttl_expired, r->ttl_s);
	}
	/* These come from ts, which a stepped clock moves: never past the
	 * logged duration (CLOCK_BOOTTIME), as no use comes after the end. */
	if (r->first_key_us != AUDITFOLD_NO_TIME)
		ev_add(e, e->to_first_key, cap_at(elapsed_ceil_s(r->created_us,
		    r->first_key_us), r, d));
	if (r->last_use_us != AUDITFOLD_NO_TIME)
		ev_add(e, e->to_last_use, cap_at(elapsed_ceil_s(r->created_us,
		    r->last_use_us), r, d));
}

/* An object key of len bytes (any bytes) and its ':'. */
static void
json_key(struct jsonw *w, const char *key, size_t len)
{
	if (w->need_comma)
		jsonw_raw(w, ",", 1);
	jsonw_quote(w, key, len);
	jsonw_raw(w, ":", 1);
	w->need_comma = true;
}

/* key: a number already formatted (a decimal fraction). */
static void
json_number(struct jsonw *w, const char *key, const char *num)
{
	json_key(w, key, strlen(key));
	jsonw_raw(w, num, strlen(num));
}

static void
json_pcts(struct jsonw *w, const char *key, const struct audithist *h)
{
	jsonw_object_begin(w, key);
	jsonw_uint(w, "sessions", audithist_count(h));
	if (audithist_count(h) == 0) {
		jsonw_null(w, "p50");
		jsonw_null(w, "p90");
		jsonw_null(w, "p99");
		jsonw_null(w, "max");
	} else {
		jsonw_uint(w, "p50", audithist_quantile(h, 500));
		jsonw_uint(w, "p90", audithist_quantile(h, 900));
		jsonw_uint(w, "p99", audithist_quantile(h, 990));
		jsonw_uint(w, "max", audithist_quantile(h, 1000));
	}
	jsonw_object_end(w);
}

/* A fraction n/d with 4 decimals, exact decimal rounding of integers. */
static void
fmt_share(char *out, size_t len, uint64_t n, uint64_t d)
{
	uint64_t x;

	if (d == 0) {
		snprintf(out, len, "0");
		return;
	}
	x = (uint64_t)(((unsigned __int128)n * 20000 + d) / (2 * d));
	snprintf(out, len, "%" PRIu64 ".%04" PRIu64, x / 10000, x % 10000);
}

static void
dur_or_dash(char *out, size_t len, const struct audithist *h, unsigned pm)
{
	if (audithist_count(h) == 0)
		snprintf(out, len, "-");
	else
		duration_format(audithist_quantile(h, pm), out, len);
}

/* The text and Markdown rows: key and value, printed once every key's
 * width is known (escaped log text measured with wcwidth). */
struct trow {
	char	*key;		/* already escaped for the target */
	char	*val;
};
struct trows {
	struct trow	*v;
	size_t		 n;
};

static void
rows_put(struct trows *t, char *key, char *val)
{
	struct trow *n;

	if (key == NULL || val == NULL ||
	    (n = reallocarray(t->v, t->n + 1, sizeof(*n))) == NULL)
		die("ttl-evidence", "out of memory");
	t->v = n;
	t->v[t->n].key = key;
	t->v[t->n].val = val;
	t->n++;
}

static void rows_add(struct trows *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
rows_add(struct trows *t, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *val;

	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) == -1)
		val = NULL;
	va_end(ap);
	rows_put(t, strdup(key), val);
}

/* An exit reason (log text) and its count and share of the ended. */
static void fmt_pct(char *, size_t, uint64_t, uint64_t);

static void
rows_reason(struct trows *t, const char *s, size_t len, uint64_t n,
    uint64_t ended, int markdown)
{
	char *esc, *key, pct[32];

	if (s == NULL)
		esc = strdup("(none)");
	else
		esc = markdown ? escape_md(s, len) : escape_term(s, len);
	if (esc == NULL || asprintf(&key, "exit_reason %s", esc) == -1)
		die("ttl-evidence", "out of memory");
	free(esc);
	fmt_pct(pct, sizeof(pct), n, ended);
	rows_add(t, "", "%" PRIu64 " (%s)", n, pct);
	free(t->v[t->n - 1].key);
	t->v[t->n - 1].key = key;
}

/* A host (log text) with its ended sessions and the share that ran into
 * the TTL. */
static void
rows_host(struct trows *t, const char *host, uint64_t ended, uint64_t ttl,
    int markdown)
{
	char *esc, *key, pct[32];

	esc = markdown ? escape_md(host, strlen(host)) :
	    escape_term(host, strlen(host));
	if (esc == NULL || asprintf(&key, "host %s", esc) == -1)
		die("ttl-evidence", "out of memory");
	free(esc);
	fmt_pct(pct, sizeof(pct), ttl, ended);
	rows_add(t, "", "%" PRIu64 " ended (%s ran into the TTL)", ended, pct);
	free(t->v[t->n - 1].key);
	t->v[t->n - 1].key = key;
}

/* Columns on a terminal: escaped text is printable, but UTF-8 letters may
 * take 0, 1 or 2 columns. */
static size_t
text_width(const char *s)
{
	mbstate_t st;
	size_t w = 0, n;
	wchar_t wc;
	int cw;

	memset(&st, 0, sizeof(st));
	while (*s != '\0') {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			s++;
			w++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw < 0 ? 1 : (size_t)cw;
		s += n;
	}
	return w;
}

static void
rows_print(struct trows *t, int markdown)
{
	size_t i, w = 0, kw;

	for (i = 0; i < t->n; i++) {
		if ((kw = text_width(t->v[i].key)) > w)
			w = kw;
	}
	for (i = 0; i < t->n; i++) {
		if (markdown)
			printf("| %s | %s |\n", t->v[i].key, t->v[i].val);
		else
			printf("%s%*s  %s\n", t->v[i].key,
			    (int)(w - text_width(t->v[i].key)), "",
			    t->v[i].val);
		free(t->v[i].key);
		free(t->v[i].val);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* n/d as a whole percentage ("92 %"); "-" when d is 0. */
static void
fmt_pct(char *out, size_t len, uint64_t n, uint64_t d)
{
	if (d == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%" PRIu64 " %%",
		    (uint64_t)(((unsigned __int128)n * 200 + d) / (2 * d)));
}

static void
pct_or_dash(char *out, size_t len, const struct audithist *h, unsigned pm)
{
	if (audithist_count(h) == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%" PRIu64 " %%", audithist_quantile(h, pm));
}

int
cmd_ttl_evidence(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "min-days", required_argument, NULL, 'd' },
		{ "min-sessions", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'L' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char	*label;
		uint64_t	 lo, hi;
	} buckets[] = {
		{ "< 1m", 0, 60 }, { "1m-5m", 60, 300 }, { "5m-15m", 300, 900 },
		{ "15m-30m", 900, 1800 }, { "30m-1h", 1800, 3600 },
		{ "1h-2h", 3600, 7200 }, { "2h-4h", 7200, 14400 },
		{ "4h-8h", 14400, 28800 }, { "8h-12h", 28800, 43200 },
		{ ">= 12h", 43200, UINT64_MAX },
	};
	struct evidence e;
	struct audithist **hs[] = { &e.duration, &e.ttl, &e.ttl_expired,
	    &e.pct_of_ttl, &e.to_first_key, &e.to_last_use };
	const struct auditfold_stats *st;
	const struct auditfold_row *r;
	struct auditfold *f;
	struct jsonw w;
	const char *since = NULL, *s;
	char *end, t1[32], t2[32], share[32], pct[32], days[32], statement[256];
	struct logset ls;
	struct trows tr = { NULL, 0 };
	size_t k;
	char a[32], b[32], c[32], dmax[32];
	uint64_t min_days = DEFAULT_MIN_DAYS, min_sessions = DEFAULT_MIN_SESSIONS;
	uint64_t open = 0, window_s = 0, v, cnt, most = 0, x;
	int64_t now, first, last;
	int ch, json = 0, markdown = 0, daemon, sufficient;
	size_t i, j, len;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			since = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'm':
			markdown = 1;
			break;
		case 'd':
		case 'n':
			x = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    x > 1000000000)
				die_usage("ttl-evidence", "--%s: not a whole number: "
				    "'%s'", ch == 'd' ? "min-days" : "min-sessions",
				    optarg);
			if (ch == 'd')
				min_days = x;
			else
				min_sessions = x;
			break;
		case 'L':
			logset_add_opt(optarg);
			break;
		case 'N':
			now_opt = optarg;
			break;
		case 'h':
			usage_for("ttl-evidence");
			return 0;
		default:
			die_badopt("ttl-evidence", argv);
		}
	}
	if (optind != argc)
		die_usage("ttl-evidence", "unexpected argument '%s'", argv[optind]);
	if (json && markdown)
		die_usage("ttl-evidence", "--json and --markdown exclude each other");
	/* wcwidth of escaped log text (valid UTF-8) needs a UTF-8 LC_CTYPE;
	 * the bytes written do not depend on it. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		(void)setlocale(LC_CTYPE, "");
	memset(&e, 0, sizeof(e));
	now = now_us("ttl-evidence");
	e.cutoff = since ? since_cutoff("ttl-evidence", since, now) :
	    AUDITFOLD_NO_TIME;
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		if ((*hs[i] = audithist_new()) == NULL)
			die("ttl-evidence", "out of memory");
	}
	/* Hosts one after another: the evidence is one accumulator. */
	logset_open(&ls, "ttl-evidence", NULL, 0, 1);
	e.ls = &ls;
	if ((e.host_ended = calloc(ls.nchains + 1, sizeof(uint64_t))) == NULL ||
	    (e.host_ttl = calloc(ls.nchains + 1, sizeof(uint64_t))) == NULL)
		die("ttl-evidence", "out of memory");
	logset_run(&ls, "ttl-evidence", evidence_end, &e, NULL, NULL, 1);
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		if (audithist_finish(*hs[i]) == -1)
			e.oom = 1;
	}
	if (e.oom)
		die("ttl-evidence", "out of memory");
	first = last = AUDITFOLD_NO_TIME;
	daemon = 0;
	for (k = 0; k < ls.nchains; k++) {
		f = ls.chains[k].fold;
		daemon |= ls.chains[k].daemon;
		for (i = 0; i < auditfold_nrows(f); i++) {
			r = auditfold_row(f, i);
			if (r->state == AUDITFOLD_OPEN && r->created_us !=
			    AUDITFOLD_NO_TIME && (e.cutoff == AUDITFOLD_NO_TIME ||
			    r->created_us >= e.cutoff))
				open++;
		}
		/* The window: events seen, from the cutoff on. */
		st = auditfold_stats(f);
		if (st->first_us != AUDITFOLD_NO_TIME &&
		    (first == AUDITFOLD_NO_TIME || st->first_us < first))
			first = st->first_us;
		if (st->last_us != AUDITFOLD_NO_TIME &&
		    (last == AUDITFOLD_NO_TIME || st->last_us > last))
			last = st->last_us;
	}
	if (first != AUDITFOLD_NO_TIME && e.cutoff != AUDITFOLD_NO_TIME &&
	    first < e.cutoff)
		first = e.cutoff < last ? e.cutoff : last;
	if (first != AUDITFOLD_NO_TIME)
		window_s = (uint64_t)(last - first) / 1000000;
	snprintf(days, sizeof(days), "%" PRIu64 ".%02" PRIu64,
	    window_s / 86400, (window_s % 86400) * 100 / 86400);
	sufficient = window_s >= min_days * 86400 && e.ended >= min_sessions;
	if (sufficient)
		snprintf(statement, sizeof(statement), "sufficient: %s days and "
		    "%" PRIu64 " ended sessions (at least %" PRIu64 " days and %"
		    PRIu64 " sessions needed)", days, e.ended, min_days,
		    min_sessions);
	else
		snprintf(statement, sizeof(statement), "not sufficient: %s days "
		    "and %" PRIu64 " ended sessions; at least %" PRIu64 " days "
		    "and %" PRIu64 " sessions are needed", days, e.ended,
		    min_days, min_sessions);
	fmt_share(share, sizeof(share), e.ran_into_ttl, e.ended);
	fmt_pct(pct, sizeof(pct), e.ran_into_ttl, e.ended);

	if (json) {
		jsonw_init(&w);
		jsonw_begin(&w);
		jsonw_object_begin(&w, "window");
		if (first == AUDITFOLD_NO_TIME) {
			jsonw_null(&w, "first_event_at");
			jsonw_null(&w, "last_event_at");
		} else {
			fmt_time(first, t1);
			fmt_time(last, t2);
			jsonw_str(&w, "first_event_at", t1);
			jsonw_str(&w, "last_event_at", t2);
		}
		jsonw_uint(&w, "seconds", window_s);
		json_number(&w, "days", days);
		if (e.cutoff == AUDITFOLD_NO_TIME)
			jsonw_null(&w, "since");
		else {
			fmt_time(e.cutoff, t1);
			jsonw_str(&w, "since", t1);
		}
		jsonw_object_end(&w);
		jsonw_array_begin(&w, "hosts");
		for (k = 0; k < ls.nchains; k++) {
			jsonw_object_begin(&w, NULL);
			jsonw_str(&w, "host", ls.chains[k].host);
			jsonw_uint(&w, "ended", e.host_ended[k]);
			jsonw_uint(&w, "ran_into_ttl", e.host_ttl[k]);
			jsonw_object_end(&w);
		}
		jsonw_array_end(&w);
		jsonw_object_begin(&w, "sessions");
		jsonw_uint(&w, "ended", e.ended);
		jsonw_uint(&w, "open", open);
		jsonw_str(&w, "open_state", daemon ? "active" : "orphaned");
		jsonw_uint(&w, "ended_without_created", e.no_created);
		jsonw_object_end(&w);
		jsonw_object_begin(&w, "exit_reasons");
		for (i = 0; i < e.nreasons; i++) {
			s = e.reasons[i].str;
			len = e.reasons[i].len;
			if (s == NULL)
				jsonw_uint(&w, "(none)", e.reasons[i].n);
			else {
				/* Keys may hold any bytes: jsonw quotes them. */
				json_key(&w, s, len);
				snprintf(t1, sizeof(t1), "%" PRIu64,
				    e.reasons[i].n);
				jsonw_raw(&w, t1, strlen(t1));
			}
		}
		if (e.other_reasons > 0)
			jsonw_uint(&w, "(other)", e.other_reasons);
		jsonw_object_end(&w);
		json_pcts(&w, "duration_s", e.duration);
		json_pcts(&w, "ttl_s", e.ttl);
		json_pcts(&w, "duration_pct_of_ttl", e.pct_of_ttl);
		jsonw_array_begin(&w, "ttls");
		for (i = 0; i < audithist_ndistinct(e.ttl); i++) {
			audithist_distinct(e.ttl, i, &v, &cnt);
			jsonw_object_begin(&w, NULL);
			jsonw_uint(&w, "ttl_s", v);
			jsonw_uint(&w, "sessions", cnt);
			jsonw_uint(&w, "ttl_expired",
			    audithist_count_range(e.ttl_expired, v, v + 1));
			jsonw_object_end(&w);
		}
		jsonw_array_end(&w);
		jsonw_object_begin(&w, "ran_into_ttl");
		jsonw_uint(&w, "sessions", e.ran_into_ttl);
		json_number(&w, "share", share);
		jsonw_object_end(&w);
		json_pcts(&w, "created_to_first_key_s", e.to_first_key);
		json_pcts(&w, "created_to_last_key_use_s", e.to_last_use);
		jsonw_object_begin(&w, "ttl_covering_key_use_s");
		if (audithist_count(e.to_last_use) == 0) {
			jsonw_null(&w, "p95");
			jsonw_null(&w, "p99");
		} else {
			jsonw_uint(&w, "p95", audithist_quantile(e.to_last_use, 950));
			jsonw_uint(&w, "p99", audithist_quantile(e.to_last_use, 990));
		}
		jsonw_object_end(&w);
		jsonw_object_begin(&w, "evidence");
		jsonw_bool(&w, "sufficient", sufficient);
		jsonw_uint(&w, "min_days", min_days);
		jsonw_uint(&w, "min_sessions", min_sessions);
		jsonw_str(&w, "statement", statement);
		jsonw_object_end(&w);
		jsonw_end(&w);
		if (!jsonw_ok(&w))
			die("ttl-evidence", "out of memory");
		put_json(stdout, w.buf, w.len);
		fputc('\n', stdout);
		jsonw_free(&w);
	} else {
		if (first != AUDITFOLD_NO_TIME) {
			fmt_time(first, t1);
			fmt_time(last, t2);
		} else
			strcpy(t1, "-"), strcpy(t2, "-");
		if (markdown)
			printf("### TTL evidence (auditctl ttl-evidence)\n\n"
			    "| | |\n|---|---|\n");
		rows_add(&tr, "window", "%s .. %s (%s days)", t1, t2, days);
		rows_add(&tr, "hosts", "%zu", ls.nchains);
		rows_add(&tr, "sessions ended", "%" PRIu64 " (%" PRIu64
		    " still open, %s)", e.ended, open, daemon ? "active" :
		    "orphaned");
		dur_or_dash(a, sizeof(a), e.duration, 500);
		dur_or_dash(b, sizeof(b), e.duration, 900);
		dur_or_dash(c, sizeof(c), e.duration, 990);
		dur_or_dash(dmax, sizeof(dmax), e.duration, 1000);
		rows_add(&tr, "duration p50/p90/p99/max", "%s / %s / %s / %s",
		    a, b, c, dmax);
		pct_or_dash(a, sizeof(a), e.pct_of_ttl, 500);
		pct_or_dash(b, sizeof(b), e.pct_of_ttl, 900);
		pct_or_dash(c, sizeof(c), e.pct_of_ttl, 990);
		pct_or_dash(dmax, sizeof(dmax), e.pct_of_ttl, 1000);
		rows_add(&tr, "duration as % of TTL p50/p90/p99/max",
		    "%s / %s / %s / %s", a, b, c, dmax);
		dur_or_dash(a, sizeof(a), e.ttl, 500);
		dur_or_dash(dmax, sizeof(dmax), e.ttl, 1000);
		rows_add(&tr, "TTL used p50/max", "%s / %s", a, dmax);
		rows_add(&tr, "ran into the TTL", "%" PRIu64 " sessions (%s of "
		    "the ended)", e.ran_into_ttl, pct);
		dur_or_dash(a, sizeof(a), e.to_first_key, 500);
		dur_or_dash(b, sizeof(b), e.to_first_key, 900);
		dur_or_dash(dmax, sizeof(dmax), e.to_first_key, 1000);
		rows_add(&tr, "created -> first key p50/p90/max", "%s / %s / %s",
		    a, b, dmax);
		dur_or_dash(a, sizeof(a), e.to_last_use, 500);
		dur_or_dash(b, sizeof(b), e.to_last_use, 900);
		dur_or_dash(dmax, sizeof(dmax), e.to_last_use, 1000);
		rows_add(&tr, "created -> last key use p50/p90/max",
		    "%s / %s / %s", a, b, dmax);
		dur_or_dash(a, sizeof(a), e.to_last_use, 950);
		dur_or_dash(b, sizeof(b), e.to_last_use, 990);
		rows_add(&tr, "TTL covering 95% / 99% of key use", "%s / %s",
		    a, b);
		for (k = 0; ls.nchains > 1 && k < ls.nchains; k++)
			rows_host(&tr, ls.chains[k].host, e.host_ended[k],
			    e.host_ttl[k], markdown);
		for (i = 0; i < e.nreasons; i++) {
			s = e.reasons[i].str;
			len = e.reasons[i].len;
			rows_reason(&tr, s, len, e.reasons[i].n, e.ended,
			    markdown);
		}
		rows_print(&tr, markdown);
		printf(markdown ? "\n**%s**\n\n" : "\n%s\n\n", statement);
		/* The duration histogram, to the last non-empty bucket. */
		for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
			cnt = audithist_count_range(e.duration, buckets[i].lo,
			    buckets[i].hi);
			if (cnt > most)
				most = cnt;
		}
		if (most > 0) {
			if (markdown)
				printf("Session durations:\n\n```\n");
			for (j = sizeof(buckets) / sizeof(buckets[0]); j > 0 &&
			    audithist_count_range(e.duration, buckets[j - 1].lo,
			    buckets[j - 1].hi) == 0; j--)
				;
			for (i = 0; i < j; i++) {
				cnt = audithist_count_range(e.duration,
				    buckets[i].lo, buckets[i].hi);
				printf("%-8s %8" PRIu64 " ", buckets[i].label, cnt);
				for (x = 0; x < (cnt * 40 + most - 1) / most; x++)
					fputs("#", stdout);
				putchar('\n');
			}
			if (markdown)
				printf("```\n");
		}
	}
	for (i = 0; i < e.nreasons; i++)
		free(e.reasons[i].str);
	free(e.host_ended);
	free(e.host_ttl);
	logset_free(&ls);
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		audithist_free(*hs[i]);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("ttl-evidence", "writing output failed");
	return 0;
}
