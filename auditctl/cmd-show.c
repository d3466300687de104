/* auditctl show ID: one session's events in order. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "auditctl.h"
#include "logset.h"
#include "auditevent.h"
#include "auditread.h"
#include "duration.h"
#include "escape.h"
#include "target.h"

/* Prints one event as "ts  event  key=value ...", leaving out the common
 * fields; cJSON is fine here, only the session's own lines get this far. */
static void
show_line(const char *line, size_t len, const struct auditevent *ev)
{
	const cJSON *item;
	cJSON *obj;
	char *text;

	size_t n;

	/* Everything here comes from the log: escaped (lib/escape). */
	put_safe(stdout, ev->ts.p, ev->ts.len);
	fputs("  ", stdout);
	n = put_safe(stdout, ev->event.p, ev->event.len);
	printf("%*s", n < 14 ? (int)(14 - n) : 0, "");
	if ((obj = cJSON_ParseWithLength(line, len)) == NULL) {
		putchar('\n');
		return;
	}
	cJSON_ArrayForEach(item, obj) {
		if (strcmp(item->string, "v") == 0 ||
		    strcmp(item->string, "ts") == 0 ||
		    strcmp(item->string, "event") == 0 ||
		    strcmp(item->string, "session") == 0 ||
		    strcmp(item->string, "prev") == 0)
			continue;
		putchar(' ');
		put_safe(stdout, item->string, strlen(item->string));
		putchar('=');
		if (cJSON_IsString(item))
			put_safe(stdout, item->valuestring,
			    strlen(item->valuestring));
		else if ((text = cJSON_PrintUnformatted(item)) != NULL) {
			put_safe(stdout, text, strlen(text));
			free(text);
		}
	}
	putchar('\n');
	cJSON_Delete(obj);
}

/* A session's recordings, from its shell_started / shell_ended events. */
struct recording {
	int64_t	 shell;
	char	*path;
	int	 ended;
	char	 status[32];
};

static void
note_recording(struct recording **v, size_t *n, const char *line, size_t len,
    const struct auditevent *ev)
{
	const cJSON *shell, *path, *st, *sig;
	struct recording *nv;
	cJSON *obj;
	size_t i;
	int started = ev->event.len == 13 &&
	    memcmp(ev->event.p, "shell_started", 13) == 0;

	if (!started && !(ev->event.len == 11 &&
	    memcmp(ev->event.p, "shell_ended", 11) == 0))
		return;
	if ((obj = cJSON_ParseWithLength(line, len)) == NULL)
		return;
	shell = cJSON_GetObjectItemCaseSensitive(obj, "shell");
	path = cJSON_GetObjectItemCaseSensitive(obj, "recording");
	if (!cJSON_IsNumber(shell) || !cJSON_IsString(path))
		goto out;
	for (i = 0; i < *n; i++) {
		if ((*v)[i].shell == (int64_t)shell->valuedouble)
			break;
	}
	if (i == *n) {
		if ((nv = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
			goto out;
		*v = nv;
		memset(&nv[i], 0, sizeof(nv[i]));
		nv[i].shell = (int64_t)shell->valuedouble;
		nv[i].path = strdup(path->valuestring);
		(*n)++;
	}
	if (!started) {
		st = cJSON_GetObjectItemCaseSensitive(obj, "exit_status");
		sig = cJSON_GetObjectItemCaseSensitive(obj, "signal");
		(*v)[i].ended = 1;
		if (cJSON_IsNumber(st))
			snprintf((*v)[i].status, sizeof((*v)[i].status),
			    "exit %d", st->valueint);
		else if (cJSON_IsNumber(sig))
			snprintf((*v)[i].status, sizeof((*v)[i].status),
			    "signal %d", sig->valueint);
	}
out:
	cJSON_Delete(obj);
}

/* A session candidate for the target rule, and where its row lives. */
struct show_cand {
	struct logchain			*chain;
	const struct auditfold_row	*row;
};

/* The word names no session, or several: a one-line error listing them. */
static void __attribute__((noreturn))
show_unresolved(const char *word, const struct target_cand *tc,
    const struct show_cand *sc, const size_t *idx, size_t found, size_t shown)
{
	char *msg = NULL;
	size_t i, len;
	FILE *m;

	if (found == 0)
		die("show", "no session matches '%s' (a full id, a unique id "
		    "prefix, or the label of one active session)", word);
	if ((m = open_memstream(&msg, &len)) == NULL)
		die("show", "out of memory");
	for (i = 0; i < shown; i++) {
		fprintf(m, "%s%.*s (host %s", i ? ", " : "",
		    (int)tc[idx[i]].idlen, tc[idx[i]].id, sc[idx[i]].chain->host);
		if (tc[idx[i]].label != NULL)
			fprintf(m, ", label %.*s", (int)tc[idx[i]].labellen,
			    tc[idx[i]].label);
		fputc(')', m);
	}
	if (found > shown)
		fprintf(m, " and %zu more", found - shown);
	if (fclose(m) == EOF)
		die("show", "out of memory");
	/* die escapes the whole line (lib/escape): ids and labels are log
	 * text; one line whatever they hold. */
	die("show", "'%s' is ambiguous: %zu sessions match: %s", word, found,
	    msg);
}

/* Resolves word over every chain's rows (DESIGN §7, lib/target). */
static void
show_resolve(struct logset *ls, const char *word, struct logchain **chain,
    const struct auditfold_row **row)
{
	struct target_cand *tc = NULL;
	struct show_cand *sc = NULL;
	const struct auditfold_row *r;
	struct auditfold *f;
	size_t i, j, n = 0, cap = 0, found, idx[8];
	size_t len;

	for (i = 0; i < ls->nchains; i++) {
		f = ls->chains[i].fold;
		for (j = 0; j < auditfold_nrows(f); j++) {
			r = auditfold_row(f, j);
			if (r->state == AUDITFOLD_FREE)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((tc = reallocarray(tc, cap, sizeof(*tc))) ==
				    NULL || (sc = reallocarray(sc, cap,
				    sizeof(*sc))) == NULL)
					die("show", "out of memory");
			}
			tc[n].id = r->id;
			tc[n].idlen = r->idlen;
			tc[n].label = auditfold_str(f, r->label, &len);
			tc[n].labellen = len;
			tc[n].active = r->state == AUDITFOLD_OPEN &&
			    ls->chains[i].daemon;
			sc[n].chain = &ls->chains[i];
			sc[n].row = r;
			n++;
		}
	}
	found = target_match(word, strlen(word), tc, n, idx, 8);
	if (found != 1)
		show_unresolved(word, tc, sc, idx, found, found < 8 ? found : 8);
	*chain = sc[idx[0]].chain;
	*row = sc[idx[0]].row;
	free(tc);
	free(sc);
}

int
cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct auditfold_row *r;
	struct auditread_line l;
	struct auditread *rd;
	struct auditevent ev;
	struct logchain *c;
	struct logfile *lf;
	struct logset ls;
	const char *word, *why, *host;
	char *copy = NULL, *e, dur[32], id[AUDITFOLD_ID_MAX + 1];
	size_t idlen, cap = 0, k;
	uint64_t n = 0;
	int64_t now;
	int ch, rc, json = 0, plain;
	struct recording *recs = NULL;
	size_t nrecs = 0, i;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'L':
			logset_add_opt(optarg);
			break;
		case 'N':
			now_opt = optarg;
			break;
		case 'h':
			usage_for("show");
			return 0;
		default:
			die_badopt("show", argv);
		}
	}
	if (optind + 1 != argc)
		die_usage("show", optind == argc ? "missing session ID" :
		    "more than one session ID");
	word = argv[optind];
	if (word[0] == '\0')
		die_usage("show", "an empty session ID");
	now = now_us("show");
	logset_open(&ls, "show", NULL, 0, 0);
	logset_run(&ls, "show", NULL, NULL, NULL, NULL, 1);
	show_resolve(&ls, word, &c, &r);
	idlen = r->idlen;
	memcpy(id, r->id, idlen + 1);
	/* An id a log may escape (not printable ASCII, quotes) is not found
	 * as it is in the raw line: no cheap filter for it. */
	for (i = 0; i < idlen && id[i] >= 0x20 && id[i] < 0x7f &&
	    id[i] != '"' && id[i] != '\\'; i++)
		;
	plain = i == idlen;
	if (json)
		fputc('[', stdout);
	for (k = 0; k < c->nfiles; k++) {
		lf = c->files[k];
		if (lf->copy)
			continue;
		if ((rd = auditread_open(lf->fd)) == NULL)
			die("show", "out of memory");
		if (lseek(lf->fd, 0, SEEK_SET) == -1)
			die("show", "%s: %s", lf->path, strerror(errno));
		while ((rc = auditread_next(rd, &l)) == 1) {
			/* Cheap filter first; the copy keeps the line intact. */
			if (l.toolong || l.torn || (plain && memmem(l.buf, l.len,
			    id, idlen) == NULL))
				continue;
			if (l.len + 1 > cap) {
				cap = l.len + 1;
				if ((copy = realloc(copy, cap)) == NULL)
					die("show", "out of memory");
			}
			memcpy(copy, l.buf, l.len + 1);
			if (auditevent_parse(copy, l.len, &ev, &why) == -1 ||
			    ev.seq <= lf->skip_through ||
			    ev.session.p == NULL || ev.session.len != idlen ||
			    memcmp(ev.session.p, id, idlen) != 0)
				continue;
			if (json) {
				if (n > 0)
					fputc(',', stdout);
				put_json(stdout, l.buf, l.len);
			} else {
				show_line(l.buf, l.len, &ev);
				note_recording(&recs, &nrecs, l.buf, l.len, &ev);
			}
			n++;
		}
		if (rc == -1)
			die("show", "%s: %s", lf->path, strerror(errno));
		auditread_free(rd);
	}
	free(copy);
	if (json)
		fputs("]\n", stdout);
	if (!json) {
		duration_format(row_duration(r, c->daemon, now), dur, sizeof(dur));
		host = logset_row_host(c, c->fold, r, &k);
		if ((e = escape_term(host, k)) == NULL)
			die("show", "out of memory");
		printf("-- %s: host %s, %s, %s, %u keys loaded, %u signatures\n",
		    escape_term_str(id), e,
		    row_state(r, c->daemon), dur, r->keys_loaded, r->signatures);
		free(e);
	}
	if (!json && nrecs > 0) {
		printf("-- recordings:\n");
		for (i = 0; i < nrecs; i++) {
			printf("   %3lld  ", (long long)recs[i].shell);
			put_safe(stdout, recs[i].path ? recs[i].path : "?",
			    recs[i].path ? strlen(recs[i].path) : 1);
			printf("  (%s)\n", recs[i].ended ? recs[i].status :
			    "not ended");
		}
	}
	for (i = 0; i < nrecs; i++)
		free(recs[i].path);
	free(recs);
	logset_free(&ls);
	return 0;
}
