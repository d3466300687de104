/* auditfold: per-session rows from one pass over the audit log. See auditfold.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auditfold.h"
#include "auditread.h"

#define NIL		UINT32_MAX
#define FOLD_MAX_ROWS	(UINT32_MAX / 2)

struct auditfold {
	struct auditfold_row	*rows;
	size_t			 nrows;		/* slots used (incl. free ones) */
	size_t			 caprows;
	uint32_t		*buckets;	/* heads of the id hash chains */
	size_t			 nbuckets;	/* a power of two */
	size_t			 held;		/* rows not free */
	uint32_t		 freelist;
	auditfold_end_cb	 on_end;
	uint64_t		 skip_through;
	void			*arg;

	/* Interned strings: a 4-byte length then the bytes, at offset ref. */
	char			*strs;
	size_t			 strlen_;
	size_t			 strcap;
	uint32_t		*strset;	/* open addressing, NIL empty */
	size_t			 nstrset;	/* a power of two */
	size_t			 nstrs;

	struct auditfold_stats	 stats;
};

static uint64_t
fold_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct auditfold *
auditfold_new(auditfold_end_cb on_end, void *arg)
{
	struct auditfold *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->on_end = on_end;
	f->arg = arg;
	f->freelist = NIL;
	f->nbuckets = 1024;
	f->nstrset = 256;
	if ((f->buckets = malloc(f->nbuckets * sizeof(*f->buckets))) == NULL ||
	    (f->strset = malloc(f->nstrset * sizeof(*f->strset))) == NULL) {
		auditfold_free(f);
		errno = ENOMEM;
		return NULL;
	}
	memset(f->buckets, 0xff, f->nbuckets * sizeof(*f->buckets));
	memset(f->strset, 0xff, f->nstrset * sizeof(*f->strset));
	f->stats.first_us = f->stats.last_us = AUDITFOLD_NO_TIME;
	return f;
}

void
auditfold_free(struct auditfold *f)
{
	if (f == NULL)
		return;
	free(f->rows);
	free(f->buckets);
	free(f->strs);
	free(f->strset);
	free(f);
}

size_t
auditfold_nrows(const struct auditfold *f)
{
	return f->nrows;
}

const struct auditfold_row *
auditfold_row(const struct auditfold *f, size_t i)
{
	return i < f->nrows ? &f->rows[i] : NULL;
}

const struct auditfold_stats *
auditfold_stats(const struct auditfold *f)
{
	return &f->stats;
}

const char *
auditfold_str(const struct auditfold *f, uint32_t ref, size_t *len)
{
	uint32_t n;

	if (ref == AUDITFOLD_NO_STR) {
		*len = 0;
		return NULL;
	}
	memcpy(&n, f->strs + ref, sizeof(n));
	*len = n;
	return f->strs + ref + sizeof(n);
}

static int
str_rehash(struct auditfold *f)
{
	size_t n = f->nstrset * 2, i, j;
	uint32_t *set, len;

	if ((set = malloc(n * sizeof(*set))) == NULL)
		return -1;
	memset(set, 0xff, n * sizeof(*set));
	for (i = 0; i < f->nstrset; i++) {
		if (f->strset[i] == NIL)
			continue;
		memcpy(&len, f->strs + f->strset[i], sizeof(len));
		j = fold_hash(f->strs + f->strset[i] + 4, len) & (n - 1);
		while (set[j] != NIL)
			j = (j + 1) & (n - 1);
		set[j] = f->strset[i];
	}
	free(f->strset);
	f->strset = set;
	f->nstrset = n;
	return 0;
}

/* Interns s; returns its ref, or AUDITFOLD_NO_STR for NULL, -1 on ENOMEM. */
static int
str_intern(struct auditfold *f, const struct auditstr *s, uint32_t *ref)
{
	size_t j, need, ncap;
	uint32_t len, r;
	char *n;

	if (s->p == NULL) {
		*ref = AUDITFOLD_NO_STR;
		return 0;
	}
	j = fold_hash(s->p, s->len) & (f->nstrset - 1);
	while ((r = f->strset[j]) != NIL) {
		memcpy(&len, f->strs + r, sizeof(len));
		if (len == s->len && memcmp(f->strs + r + 4, s->p, len) == 0) {
			*ref = r;
			return 0;
		}
		j = (j + 1) & (f->nstrset - 1);
	}
	need = f->strlen_ + 4 + s->len;
	if (s->len > UINT32_MAX / 4 || need >= UINT32_MAX - 1) {
		errno = ENOMEM;
		return -1;
	}
	if (need > f->strcap) {
		ncap = f->strcap ? f->strcap : 4096;
		while (ncap < need)
			ncap *= 2;
		if ((n = realloc(f->strs, ncap)) == NULL)
			return -1;
		f->strs = n;
		f->strcap = ncap;
	}
	r = (uint32_t)f->strlen_;
	len = (uint32_t)s->len;
	memcpy(f->strs + r, &len, sizeof(len));
	memcpy(f->strs + r + 4, s->p, s->len);
	f->strlen_ = need;
	f->strset[j] = r;
	if (++f->nstrs * 2 > f->nstrset && str_rehash(f) == -1)
		return -1;
	*ref = r;
	return 0;
}

static int
rows_rehash(struct auditfold *f)
{
	size_t n = f->nbuckets * 2, i, b;
	uint32_t *nb;

	if ((nb = malloc(n * sizeof(*nb))) == NULL)
		return -1;
	memset(nb, 0xff, n * sizeof(*nb));
	for (i = 0; i < f->nrows; i++) {
		if (f->rows[i].state == AUDITFOLD_FREE)
			continue;
		b = fold_hash(f->rows[i].id, f->rows[i].idlen) & (n - 1);
		f->rows[i].next = nb[b];
		nb[b] = (uint32_t)i;
	}
	free(f->buckets);
	f->buckets = nb;
	f->nbuckets = n;
	return 0;
}

static uint32_t
row_lookup(const struct auditfold *f, const char *id, size_t len, size_t b)
{
	uint32_t i;

	for (i = f->buckets[b]; i != NIL; i = f->rows[i].next) {
		if (f->rows[i].idlen == len && memcmp(f->rows[i].id, id, len) == 0)
			return i;
	}
	return NIL;
}

const struct auditfold_row *
auditfold_find(const struct auditfold *f, const char *id, size_t len)
{
	uint32_t i;

	if (len > AUDITFOLD_ID_MAX)
		return NULL;
	i = row_lookup(f, id, len, fold_hash(id, len) & (f->nbuckets - 1));
	return i == NIL ? NULL : &f->rows[i];
}

/* A new row for session id, linked into its bucket. */
static struct auditfold_row *
row_add(struct auditfold *f, const struct auditevent *ev)
{
	struct auditfold_row *r, *nrows;
	size_t ncap, b;
	uint32_t i;

	if (f->freelist != NIL) {
		i = f->freelist;
		f->freelist = f->rows[i].next;
	} else {
		if (f->nrows == f->caprows) {
			ncap = f->caprows ? f->caprows * 2 : 1024;
			if (ncap > FOLD_MAX_ROWS ||
			    (nrows = realloc(f->rows, ncap * sizeof(*nrows))) ==
			    NULL) {
				errno = ENOMEM;
				return NULL;
			}
			f->rows = nrows;
			f->caprows = ncap;
		}
		i = (uint32_t)f->nrows++;
	}
	r = &f->rows[i];
	memset(r, 0, sizeof(*r));
	r->created_us = r->ended_us = r->first_key_us = r->last_use_us =
	    AUDITFOLD_NO_TIME;
	r->first_event_us = ev->ts_us;
	r->created_seq = ev->seq;
	r->label = r->exit_reason = r->host = AUDITFOLD_NO_STR;
	r->idlen = (uint8_t)ev->session.len;
	memcpy(r->id, ev->session.p, ev->session.len);
	r->id[ev->session.len] = '\0';
	r->state = AUDITFOLD_OPEN;
	if (++f->held > f->stats.open_peak)
		f->stats.open_peak = f->held;
	if (f->held > f->nbuckets && rows_rehash(f) == -1)
		return NULL;	/* the row is linked by the rehash or not at all */
	b = fold_hash(r->id, r->idlen) & (f->nbuckets - 1);
	if (row_lookup(f, r->id, r->idlen, b) != i) {
		r->next = f->buckets[b];
		f->buckets[b] = i;
	}
	return r;
}

/* Unlinks row i and puts its slot on the free list (drop-ended mode). */
static void
row_drop(struct auditfold *f, uint32_t i)
{
	struct auditfold_row *r = &f->rows[i];
	size_t b = fold_hash(r->id, r->idlen) & (f->nbuckets - 1);
	uint32_t *pp;

	for (pp = &f->buckets[b]; *pp != NIL; pp = &f->rows[*pp].next) {
		if (*pp == i) {
			*pp = r->next;
			break;
		}
	}
	r->state = AUDITFOLD_FREE;
	r->next = f->freelist;
	f->freelist = i;
	f->held--;
}

int
auditfold_event(struct auditfold *f, const struct auditevent *ev,
    const char **why)
{
	struct auditfold_row *r;
	uint32_t i, ref;
	size_t b;

	*why = NULL;
	if (ev->session.p != NULL && ev->session.len > AUDITFOLD_ID_MAX) {
		*why = "session id longer than 40 characters";
		return -1;
	}
	if (ev->session.p != NULL && memchr(ev->session.p, '\0',
	    ev->session.len) != NULL) {
		*why = "session id contains a NUL byte";
		return -1;
	}
	/* Earliest, not first: a stepped-back clock may come later. */
	if (f->stats.first_us == AUDITFOLD_NO_TIME ||
	    ev->ts_us < f->stats.first_us)
		f->stats.first_us = ev->ts_us;
	if (f->stats.last_us == AUDITFOLD_NO_TIME || ev->ts_us > f->stats.last_us)
		f->stats.last_us = ev->ts_us;
	f->stats.events++;
	if (ev->session.p == NULL)
		return 0;

	b = fold_hash(ev->session.p, ev->session.len) & (f->nbuckets - 1);
	i = row_lookup(f, ev->session.p, ev->session.len, b);
	r = i == NIL ? NULL : &f->rows[i];
	if (r != NULL && r->state != AUDITFOLD_OPEN &&
	    ev->kind != AUDITEVENT_OTHER) {
		*why = "event after the session's end";
		goto unusable;
	}
	if (r != NULL && ev->kind == AUDITEVENT_CREATED &&
	    (r->flags & AUDITFOLD_CREATED)) {
		*why = "second created event for a session";
		goto unusable;
	}
	if (r == NULL && (r = row_add(f, ev)) == NULL)
		return -1;
	r->last_event_us = ev->ts_us;

	switch (ev->kind) {
	case AUDITEVENT_CREATED:
		if (str_intern(f, &ev->label, &ref) == -1)
			return -1;
		r->flags |= AUDITFOLD_CREATED;
		if ((ev->has & AUDITEVENT_HOST) &&
		    str_intern(f, &ev->host, &r->host) == -1)
			return -1;
		r->created_us = ev->ts_us;
		r->created_seq = ev->seq;
		r->label = ref;
		if (ev->has & AUDITEVENT_TTL) {
			r->ttl_s = ev->ttl_s;
			r->flags |= AUDITFOLD_HAS_TTL;
		}
		if (ev->has & AUDITEVENT_KEY_TTL) {
			r->key_ttl_s = ev->key_ttl_s;
			r->flags |= AUDITFOLD_HAS_KEY_TTL;
		}
		break;
	case AUDITEVENT_KEY_LOADED:
		r->keys_loaded++;
		if (r->first_key_us == AUDITFOLD_NO_TIME)
			r->first_key_us = ev->ts_us;
		break;
	case AUDITEVENT_KEY_REMOVED:
		r->keys_removed++;
		break;
	case AUDITEVENT_KEY_USED:
		r->key_uses++;
		if ((ev->has & AUDITEVENT_OK) && ev->ok)
			r->signatures++;
		r->last_use_us = ev->ts_us;
		break;
	case AUDITEVENT_SHELL_STARTED:
		r->shells++;
		break;
	case AUDITEVENT_STOPPED:
	case AUDITEVENT_CRASHED:
		if (str_intern(f, &ev->exit_reason, &ref) == -1)
			return -1;
		r->state = ev->kind == AUDITEVENT_STOPPED ? AUDITFOLD_STOPPED :
		    AUDITFOLD_CRASHED;
		r->ended_us = ev->ts_us;
		r->exit_reason = ref;
		if (ev->has & AUDITEVENT_DURATION) {
			r->duration_s = ev->duration_s;
			r->flags |= AUDITFOLD_HAS_DURATION;
		}
		if (ev->has & AUDITEVENT_EXIT_CODE) {
			r->exit_code = (int32_t)ev->exit_code;
			r->flags |= AUDITFOLD_HAS_EXIT_CODE;
		}
		if (ev->has & AUDITEVENT_SIGNAL) {
			r->signal = (int32_t)ev->signal;
			r->flags |= AUDITFOLD_HAS_SIGNAL;
		}
		if ((ev->has & AUDITEVENT_CORE) && ev->core_dumped)
			r->flags |= AUDITFOLD_CORE_DUMPED;
		if (f->on_end != NULL) {
			f->on_end(f, r, f->arg);
			row_drop(f, (uint32_t)(r - f->rows));
		}
		break;
	default:
		break;
	}
	return 0;
unusable:
	f->stats.events--;
	return -1;
}

void
auditfold_skip_through(struct auditfold *f, uint64_t seq)
{
	f->skip_through = seq;
}

int
auditfold_read_fd(struct auditfold *f, int fd, auditfold_warn_cb warn,
    void *arg)
{
	struct auditread *rd;
	struct auditread_line l;
	struct auditevent ev;
	const char *why;
	int rc;

	if ((rd = auditread_open(fd)) == NULL)
		return -1;
	while ((rc = auditread_next(rd, &l)) == 1) {
		f->stats.lines++;
		f->stats.bytes += l.len + (l.torn ? 0 : 1);
		why = NULL;
		if (l.toolong)
			why = "line longer than 1 MiB";
		else if (l.torn)
			why = "torn last line (no newline at the end)";
		else if (auditevent_parse(l.buf, l.len, &ev, &why) == 0 &&
		    ev.seq > f->skip_through &&
		    auditfold_event(f, &ev, &why) == -1 && why == NULL) {
			auditread_free(rd);
			return -1;
		}
		if (why != NULL) {
			f->stats.bad_lines++;
			if (warn != NULL)
				warn(arg, l.lineno, why);
		}
	}
	auditread_free(rd);
	return rc;
}
