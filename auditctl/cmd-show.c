/* auditctl show ID: one session's events in order. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "auditctl.h"
#include "auditevent.h"
#include "auditread.h"
#include "duration.h"
#include "escape.h"

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
	struct auditfold *f;
	const char *path, *id, *why;
	char *copy = NULL, dur[32];
	size_t idlen, cap = 0;
	uint64_t n = 0;
	int64_t now;
	int ch, fd, rc, json = 0, daemon, plain;
	struct recording *recs = NULL;
	size_t nrecs = 0, i;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'L':
			log_opt = optarg;
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
	id = argv[optind];
	idlen = strlen(id);
	if (idlen == 0 || idlen > AUDITFOLD_ID_MAX)
		die_usage("show", "'%s' is not a session id", id);
	/* An id a log may escape (not printable ASCII, quotes) is not found
	 * as it is in the raw line: no cheap filter for it. */
	for (i = 0; i < idlen && id[i] >= 0x20 && id[i] < 0x7f &&
	    id[i] != '"' && id[i] != '\\'; i++)
		;
	plain = i == idlen;
	now = now_us("show");
	path = log_path("show");
	fd = log_open("show", path);
	if ((rd = auditread_open(fd)) == NULL ||
	    (f = auditfold_new(NULL, NULL)) == NULL)
		die("show", "out of memory");
	if (json)
		fputc('[', stdout);
	while ((rc = auditread_next(rd, &l)) == 1) {
		/* Cheap filter first; the copy keeps the line's bytes intact. */
		if (l.toolong || l.torn || (plain && memmem(l.buf, l.len, id,
		    idlen) == NULL))
			continue;
		if (l.len + 1 > cap) {
			cap = l.len + 1;
			if ((copy = realloc(copy, cap)) == NULL)
				die("show", "out of memory");
		}
		memcpy(copy, l.buf, l.len + 1);
		if (auditevent_parse(copy, l.len, &ev, &why) == -1 ||
		    ev.session.p == NULL || ev.session.len != idlen ||
		    memcmp(ev.session.p, id, idlen) != 0)
			continue;
		(void)auditfold_event(f, &ev, &why);
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
		die("show", "%s: %s", path, strerror(errno));
	daemon = log_daemon_holds(fd);
	auditread_free(rd);
	free(copy);
	if (fd != STDIN_FILENO)
		close(fd);
	if (json)
		fputs("]\n", stdout);
	if (n == 0) {
		fflush(stdout);
		fprintf(stderr, "auditctl show: no session %s in %s\n",
		    escape_term_str(id), escape_term_str(path));
		auditfold_free(f);
		return 1;
	}
	if (!json && (r = auditfold_find(f, id, idlen)) != NULL) {
		duration_format(row_duration(r, daemon, now), dur, sizeof(dur));
		printf("-- %s: %s, %s, %u keys loaded, %u signatures\n",
		    escape_term_str(id),
		    row_state(r, daemon), dur, r->keys_loaded, r->signatures);
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
	auditfold_free(f);
	return 0;
}
