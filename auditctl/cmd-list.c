/* auditctl --list: one row per session, folded from the log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditctl.h"
#include "logset.h"
#include "duration.h"
#include "escape.h"
#include "jsonw.h"

struct list_opts {
	int		 json;
	int		 active;
	int64_t		 cutoff;	/* AUDITFOLD_NO_TIME: no --since */
	const char	*label;
	int64_t		 now;
	size_t		 hostw;		/* the HOST column's width */
};

static int
list_wanted(const struct auditfold *f, const struct auditfold_row *r,
    const struct list_opts *o, int daemon)
{
	const char *label;
	size_t len;

	if (r->state == AUDITFOLD_FREE)
		return 0;
	if (o->active && (r->state != AUDITFOLD_OPEN || !daemon))
		return 0;
	/* --since: sessions that were open at some point in the window. */
	if (o->cutoff != AUDITFOLD_NO_TIME && r->state != AUDITFOLD_OPEN &&
	    r->ended_us < o->cutoff)
		return 0;
	if (o->label != NULL) {
		label = auditfold_str(f, r->label, &len);
		if (label == NULL || len != strlen(o->label) ||
		    memcmp(label, o->label, len) != 0)
			return 0;
	}
	return 1;
}

static void
json_time(struct jsonw *w, const char *key, int64_t us)
{
	char t[32];

	if (us == AUDITFOLD_NO_TIME) {
		jsonw_null(w, key);
		return;
	}
	fmt_time(us, t);
	jsonw_str(w, key, t);
}

static void
json_ref(struct jsonw *w, const struct auditfold *f, const char *key,
    uint32_t ref)
{
	const char *s;
	size_t len;

	if ((s = auditfold_str(f, ref, &len)) == NULL)
		jsonw_null(w, key);
	else
		jsonw_strn(w, key, s, len);
}

/* One row as a JSON object (shared with show --json). */
static void
list_json_row(struct jsonw *w, const struct logchain *c,
    const struct auditfold *f, const struct auditfold_row *r, int daemon,
    int64_t now)
{
	const char *host;
	size_t hostlen;

	jsonw_object_begin(w, NULL);
	jsonw_strn(w, "session", r->id, r->idlen);
	host = logset_row_host(c, f, r, &hostlen);
	jsonw_strn(w, "host", host, hostlen);
	json_ref(w, f, "label", r->label);
	jsonw_str(w, "state", row_state(r, daemon));
	json_time(w, "created_at", r->created_us);
	json_time(w, "ended_at", r->ended_us);
	jsonw_uint(w, "duration_s", row_duration(r, daemon, now));
	if (r->flags & AUDITFOLD_HAS_TTL)
		jsonw_uint(w, "ttl_s", r->ttl_s);
	else
		jsonw_null(w, "ttl_s");
	if (r->flags & AUDITFOLD_HAS_KEY_TTL)
		jsonw_uint(w, "key_ttl_s", r->key_ttl_s);
	else
		jsonw_null(w, "key_ttl_s");
	json_ref(w, f, "exit_reason", r->exit_reason);
	if (r->flags & AUDITFOLD_HAS_EXIT_CODE)
		jsonw_int(w, "exit_code", r->exit_code);
	else
		jsonw_null(w, "exit_code");
	if (r->flags & AUDITFOLD_HAS_SIGNAL)
		jsonw_int(w, "signal", r->signal);
	else
		jsonw_null(w, "signal");
	jsonw_uint(w, "keys_loaded", r->keys_loaded);
	jsonw_uint(w, "signatures", r->signatures);
	jsonw_uint(w, "key_uses", r->key_uses);
	json_time(w, "last_key_use_at", r->last_use_us);
	jsonw_uint(w, "shells", r->shells);
	jsonw_object_end(w);
}

void
list_print_json(FILE *fp, const struct logchain *c, const struct auditfold *f,
    const struct auditfold_row *r, int daemon, int64_t now)
{
	struct jsonw w;

	jsonw_init(&w);
	list_json_row(&w, c, f, r, daemon, now);
	if (!jsonw_ok(&w))
		die("show", "out of memory");
	put_json(fp, w.buf, w.len);
	jsonw_free(&w);
}

static void
list_table_row(FILE *out, const struct logchain *c, const struct auditfold *f,
    const struct auditfold_row *r, const struct list_opts *o)
{
	char created[32] = "-", dur[32], ttl[32] = "-";
	const char *s;
	size_t len;

	if (r->created_us != AUDITFOLD_NO_TIME) {
		fmt_time(r->created_us, created);
		created[19] = 'Z';	/* seconds are enough on a terminal */
		created[20] = '\0';
	}
	duration_format(row_duration(r, c->daemon, o->now), dur, sizeof(dur));
	if (r->flags & AUDITFOLD_HAS_TTL)
		duration_format(r->ttl_s, ttl, sizeof(ttl));
	/* Every string from the log is escaped (lib/escape): a log line
	 * cannot drive the terminal or forge a row. */
	len = put_safe(out, r->id, r->idlen);
	fprintf(out, "%*s  %-8s  %-20s  %-9s  %-7s  ",
	    len < 26 ? (int)(26 - len) : 0, "", row_state(r, c->daemon),
	    created, dur, ttl);
	s = auditfold_str(f, r->exit_reason, &len);
	if (s == NULL)
		fprintf(out, "%-19s", "-");
	else {
		len = put_safe(out, s, len);
		fprintf(out, "%*s", len < 19 ? (int)(19 - len) : 0, "");
	}
	fprintf(out, "  %4u  %4u  ", r->keys_loaded, r->signatures);
	s = logset_row_host(c, f, r, &len);
	len = put_safe(out, s, len);
	fprintf(out, "%*s  ", len < o->hostw ? (int)(o->hostw - len) : 0, "");
	if ((s = auditfold_str(f, r->label, &len)) != NULL)
		put_safe(out, s, len);
	fputc('\n', out);
}

/* One chain's rows (a worker thread): JSON objects each after a comma
 * (logset drops the very first), or table rows. */
static void
list_emit(struct logchain *c, FILE *out, void *arg)
{
	const struct list_opts *o = arg;
	const struct auditfold_row *r;
	struct auditfold *f = c->fold;
	struct jsonw w;
	size_t i, n = auditfold_nrows(f);

	if (!o->json) {
		for (i = 0; i < n; i++) {
			r = auditfold_row(f, i);
			if (list_wanted(f, r, o, c->daemon))
				list_table_row(out, c, f, r, o);
		}
		return;
	}
	jsonw_init(&w);
	for (i = 0; i < n; i++) {
		r = auditfold_row(f, i);
		if (!list_wanted(f, r, o, c->daemon))
			continue;
		jsonw_reset(&w);
		jsonw_raw(&w, ",", 1);
		list_json_row(&w, c, f, r, c->daemon, o->now);
		if (!jsonw_ok(&w))
			die("list", "out of memory");
		put_json(out, w.buf, w.len);
	}
	jsonw_free(&w);
}

int
cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "active", no_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'L' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_opts o = { 0, 0, AUDITFOLD_NO_TIME, NULL, 0, 4 };
	const char *since = NULL;
	struct logset ls;
	size_t i, len;
	int ch;
	char *e;
	static char obuf[1 << 16];

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o.json = 1;
			break;
		case 'a':
			o.active = 1;
			break;
		case 's':
			since = optarg;
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'L':
			logset_add_opt(optarg);
			break;
		case 'N':
			now_opt = optarg;
			break;
		case 'h':
			usage_for("list");
			return 0;
		default:
			die_badopt("list", argv);
		}
	}
	if (optind != argc)
		die_usage("list", "unexpected argument '%s'", argv[optind]);
	o.now = now_us("list");
	if (since != NULL)
		o.cutoff = since_cutoff("list", since, o.now);

	/* A fresh install (no log yet) lists nothing: an empty list. */
	logset_open(&ls, "list", NULL, 0, 1);
	for (i = 0; i < ls.nchains; i++) {
		if ((e = escape_term(ls.chains[i].host,
		    strlen(ls.chains[i].host))) == NULL)
			die("list", "out of memory");
		if ((len = strlen(e)) > o.hostw)
			o.hostw = len > 24 ? 24 : len;
		free(e);
	}

	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (o.json) {
		fputc('[', stdout);
		ls.drop_lead = 1;	/* rows come as ",{...}" */
		logset_run(&ls, "list", NULL, NULL, list_emit, &o, 0);
		fputs("]\n", stdout);
	} else {
		printf("%-26s  %-8s  %-20s  %-9s  %-7s  %-19s  %4s  %4s  %-*s  %s\n",
		    "SESSION", "STATE", "CREATED", "DURATION", "TTL",
		    "EXIT_REASON", "KEYS", "SIGS", (int)o.hostw, "HOST", "LABEL");
		logset_run(&ls, "list", NULL, NULL, list_emit, &o, 0);
	}
	logset_free(&ls);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("list", "writing output failed");
	return 0;
}
