/*
 * approval: a signature that waits for a person (DESIGN §8).
 *
 * The relay asks approval_request() before it sends a SIGN_REQUEST on when
 * the session was started with --approve sign or the key was added with
 * confirm. The request is then held here: it is listed by `agentd
 * approvals`, decided by `agentd approve|deny` (the session's owner or root
 * only), or denied once `serve --approval-timeout` passes. Each request gets
 * one approval_requested and exactly one approval_decided, both durable
 * before the relay acts on the decision (relay_decided). `approve --for D`
 * remembers (session, key, destination, caller exe) until D or the session's
 * end: such requests are decided "remembered" at once.
 *
 * Everything runs on the daemon's one loop: a held request costs a list
 * entry and a deadline, never a blocked descriptor.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "auditlog.h"
#include "knownhosts.h"
#include "duration.h"
#include "server.h"

#define APPROVAL_ID_BYTES	6
#define REMEMBER_MAX		1024
#define ALLOW_DEST_MAX		64
#define PATTERN_MAX		255	/* a host name is at most 253 */
#define DEST_NAMES_MAX		8
#define KNOWN_HOSTS_MAX		(4 * 1024 * 1024)	/* bytes read at most */

struct approval {
	TAILQ_ENTRY(approval)	 entry;
	char			 id[APPROVAL_ID_BYTES * 2 + 1];
	struct session		*se;
	struct relay		*r;
	struct agentproto_key	 key;
	struct agentproto_hop	 hops[AGENTPROTO_MAX_HOPS];
	size_t			 nhops;
	struct procinfo_caller	 caller;
	char			 dest_names[DEST_NAMES_MAX][PATTERN_MAX + 1];
	size_t			 ndest_names;
	uint64_t		 since_ns;	/* CLOCK_BOOTTIME */
	uint64_t		 deadline_ns;
};

struct remembered {
	TAILQ_ENTRY(remembered)	 entry;
	char			 session[IDS_LEN + 1];
	char			 fingerprint[AGENTPROTO_FP_LEN + 1];
	char			 dest[AGENTPROTO_FP_LEN + 1];	/* "" local */
	char			 exe[PROCINFO_EXE_LEN];
	uint64_t		 until_ns;
};

struct list_waiter {
	TAILQ_ENTRY(list_waiter) entry;
	struct ctlconn		*c;
	bool			 json;
};

static TAILQ_HEAD(, approval) held = TAILQ_HEAD_INITIALIZER(held);
static TAILQ_HEAD(, remembered) memory = TAILQ_HEAD_INITIALIZER(memory);
static TAILQ_HEAD(, list_waiter) waiters = TAILQ_HEAD_INITIALIZER(waiters);
static size_t		nmemory;
static uint64_t		timeout_s = APPROVAL_TIMEOUT_DEFAULT_S;

void
approval_init(const struct serve_opts *o)
{
	if (o->approval_timeout != 0)
		timeout_s = o->approval_timeout;
}

bool
approval_needed(struct session *se, const struct agentproto_key *key)
{
	return se->approve_sign || keys_confirm(se, key);
}

static const char *
dest_of(const struct agentproto_hop *hops, size_t nhops)
{
	return nhops > 0 ? hops[nhops - 1].hostkey : "";
}

static int
log_requested(const struct approval *a, char **cause)
{
	struct jsonw *w;
	const char *dest = dest_of(a->hops, a->nhops);

	w = auditlog_begin(server->log, "approval_requested", a->se->id);
	jsonw_str(w, "request", a->id);
	jsonw_str(w, "kind", "sign");
	jsonw_str(w, "fingerprint", a->key.fingerprint);
	jsonw_str(w, "dest_hostkey", *dest != '\0' ? dest : NULL);
	keys_hops_json(w, a->hops, a->nhops);
	keys_caller_json(w, &a->caller);
	return auditlog_commit(server->log, cause);
}

static int
log_decided(const struct approval *a, const char *decision, const char *by,
    uint64_t for_s, char **cause)
{
	struct jsonw *w;

	w = auditlog_begin(server->log, "approval_decided", a->se->id);
	jsonw_str(w, "request", a->id);
	jsonw_str(w, "decision", decision);
	jsonw_str(w, "by", by);
	jsonw_uint(w, "for_s", for_s);
	return auditlog_commit(server->log, cause);
}

static struct remembered *
remembered_find(const struct approval *a, uint64_t now)
{
	struct remembered *m, *tmp;

	TAILQ_FOREACH_SAFE(m, &memory, entry, tmp) {
		if (m->until_ns <= now) {
			TAILQ_REMOVE(&memory, m, entry);
			nmemory--;
			free(m);
			continue;
		}
		if (strcmp(m->session, a->se->id) == 0 &&
		    strcmp(m->fingerprint, a->key.fingerprint) == 0 &&
		    strcmp(m->dest, dest_of(a->hops, a->nhops)) == 0 &&
		    a->caller.exe[0] != '\0' &&
		    strcmp(m->exe, a->caller.exe) == 0)
			return m;
	}
	return NULL;
}

static void
remember(const struct approval *a, uint64_t for_s)
{
	struct remembered *m;
	uint64_t left = session_remaining_s(a->se);

	/* Never past the session's end; an unknown exe is never matched. */
	if (for_s > left)
		for_s = left;
	if (for_s == 0 || a->caller.exe[0] == '\0' || nmemory >= REMEMBER_MAX ||
	    (m = calloc(1, sizeof(*m))) == NULL)
		return;
	strlcpy(m->session, a->se->id, sizeof(m->session));
	strlcpy(m->fingerprint, a->key.fingerprint, sizeof(m->fingerprint));
	strlcpy(m->dest, dest_of(a->hops, a->nhops), sizeof(m->dest));
	strlcpy(m->exe, a->caller.exe, sizeof(m->exe));
	m->until_ns = now_boot_ns() + for_s * NS;
	TAILQ_INSERT_TAIL(&memory, m, entry);
	nmemory++;
}

static void	list_reply_waiters(void);

/* --- known_hosts and the destination policy ------------------------------ */

/*
 * The session owner's ~/.ssh/known_hosts: the daemon runs as that owner;
 * $HOME when it is set and absolute (as for the daemon's other files), else
 * the passwd entry's home. Calls fn for each line that names a host key
 * with fingerprint fp. Malformed lines are skipped; a missing file is
 * empty. Read on each use (a few KiB, local): an edit counts at once.
 */
static void
known_hosts_each(const char *fp,
    void (*fn)(const struct knownhosts_entry *, void *), void *arg)
{
	struct knownhosts_entry e;
	const char *home = getenv("HOME");
	struct passwd *pw;
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	FILE *f;

	if ((home == NULL || home[0] != '/') &&
	    ((pw = getpwuid(geteuid())) == NULL || (home = pw->pw_dir) == NULL))
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/.ssh/known_hosts",
	    home) >= sizeof(path) || (f = fopen(path, "re")) == NULL)
		return;
	while (total < KNOWN_HOSTS_MAX && (n = getline(&line, &cap, f)) > 0) {
		total += (size_t)n;
		if (line[n - 1] == '\n')
			n--;
		if (knownhosts_parse_line(line, (size_t)n, &e) == 1 &&
		    strcmp(e.fingerprint, fp) == 0)
			fn(&e, arg);
	}
	free(line);
	fclose(f);
}

static bool
has_glob(const char *p)
{
	return strpbrk(p, "*?") != NULL;
}

struct dest_check {
	const char	*pattern;
	bool		 ok;
};

static void
dest_name_cb(const char *name, void *arg)
{
	struct dest_check *dc = arg;

	if (knownhosts_glob(dc->pattern, strlen(dc->pattern), name))
		dc->ok = true;
}

/* Does this known_hosts entry name the destination by pattern? A plain
 * pattern is looked up (hashed entries too); a glob only against the plain
 * names the entry lists (a hashed name cannot be globbed). */
static void
dest_entry_cb(const struct knownhosts_entry *e, void *arg)
{
	struct dest_check *dc = arg;

	if (!has_glob(dc->pattern)) {
		if (knownhosts_match(e, dc->pattern))
			dc->ok = true;
	} else
		knownhosts_names(e, dest_name_cb, dc);
}

const char *
approval_policy(struct session *se, const struct agentproto_hop *hops,
    size_t nhops)
{
	struct dest_check dc;
	size_t i;

	if (se->deny_forwarded) {
		for (i = 0; i < nhops; i++) {
			if (hops[i].forwarding)
				return "forwarded";
		}
	}
	if (se->nallow_dest == 0)
		return NULL;
	if (nhops == 0)
		return "dest";	/* no session-bind: no destination to check */
	for (i = 0; i < se->nallow_dest; i++) {
		dc.pattern = se->allow_dest[i];
		dc.ok = false;
		if (strncmp(dc.pattern, "SHA256:", 7) == 0)
			dc.ok = strcmp(dc.pattern, hops[nhops - 1].hostkey) == 0;
		else
			known_hosts_each(hops[nhops - 1].hostkey, dest_entry_cb,
			    &dc);
		if (dc.ok)
			return NULL;
	}
	return "dest";
}

static void
dest_names_add(struct approval *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->ndest_names; i++) {
		if (strcasecmp(a->dest_names[i], name) == 0)
			return;
	}
	if (a->ndest_names < DEST_NAMES_MAX && strlen(name) <= PATTERN_MAX)
		strlcpy(a->dest_names[a->ndest_names++], name,
		    sizeof(a->dest_names[0]));
}

static void
names_name_cb(const char *name, void *arg)
{
	dest_names_add(arg, name);
}

/* The names known_hosts gives the destination: each plain name of a line
 * with its key; hashed lines cannot be read back, so the session's plain
 * --allow-dest names are tried against them. */
static void
names_entry_cb(const struct knownhosts_entry *e, void *arg)
{
	struct approval *a = arg;
	size_t i;

	knownhosts_names(e, names_name_cb, a);
	for (i = 0; i < a->se->nallow_dest; i++) {
		if (!has_glob(a->se->allow_dest[i]) &&
		    strncmp(a->se->allow_dest[i], "SHA256:", 7) != 0 &&
		    knownhosts_match(e, a->se->allow_dest[i]))
			dest_names_add(a, a->se->allow_dest[i]);
	}
}

int
approval_parse_opts(struct ctlconn *c, const cJSON *req, char ***allow,
    size_t *nallow, bool *deny_forwarded)
{
	const cJSON *list, *it;
	const char *p;
	char **v;
	size_t n = 0;

	*allow = NULL;
	*nallow = 0;
	*deny_forwarded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req,
	    "deny_forwarded"));
	if ((list = cJSON_GetObjectItemCaseSensitive(req, "allow_dest")) == NULL)
		return 0;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
	    cJSON_GetArraySize(list) > ALLOW_DEST_MAX) {
		ctl_reply_error(c, "allow_dest: 1 to %d patterns", ALLOW_DEST_MAX);
		return -1;
	}
	if ((v = calloc((size_t)cJSON_GetArraySize(list), sizeof(*v))) == NULL) {
		ctl_reply_error(c, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(it, list) {
		p = cJSON_IsString(it) ? it->valuestring : NULL;
		if (p == NULL || *p == '\0' || strlen(p) > PATTERN_MAX ||
		    strpbrk(p, " \t\r\n,") != NULL || (v[n] = strdup(p)) == NULL) {
			ctl_reply_error(c, "allow_dest: a host name, glob or "
			    "SHA256: fingerprint of at most %d bytes, without "
			    "spaces or commas", PATTERN_MAX);
			while (n > 0)
				free(v[--n]);
			free(v);
			return -1;
		}
		n++;
	}
	*allow = v;
	*nallow = n;
	return 0;
}

int
approval_request(struct relay *r, struct session *se,
    const struct agentproto_key *key, const struct agentproto_hop *hops,
    size_t nhops, const struct procinfo_caller *caller,
    struct approval **out)
{
	unsigned char raw[APPROVAL_ID_BYTES];
	struct approval *a;
	char *cause = NULL;
	uint64_t now = now_boot_ns();

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(a->id, sizeof(a->id), raw, sizeof(raw));
	a->se = se;
	a->r = r;
	a->key = *key;
	if (nhops > AGENTPROTO_MAX_HOPS)
		nhops = AGENTPROTO_MAX_HOPS;
	memcpy(a->hops, hops, nhops * sizeof(*hops));
	a->nhops = nhops;
	a->caller = *caller;
	a->since_ns = now;
	a->deadline_ns = now + timeout_s * NS;
	if (nhops > 0)
		known_hosts_each(hops[nhops - 1].hostkey, names_entry_cb, a);
	if (log_requested(a, &cause) == -1) {
		log_warn("session %s: approval_requested not written: %s",
		    se->id, cause ? cause : "?");
		free(cause);
		free(a);
		return -1;
	}
	if (remembered_find(a, now) != NULL) {
		if (log_decided(a, "approved", "remembered", 0, &cause) == -1) {
			log_warn("session %s: approval_decided not written: %s",
			    se->id, cause ? cause : "?");
			free(cause);
			free(a);
			return -1;
		}
		free(a);
		return 1;
	}
	TAILQ_INSERT_TAIL(&held, a, entry);
	*out = a;
	server_timer_at(a->deadline_ns);
	list_reply_waiters();
	return 0;
}

/*
 * Logs the decision and tells the relay. approved only counts when the
 * approval_decided line is durable: otherwise the request is refused.
 */
static void
decide(struct approval *a, const char *decision, const char *by,
    uint64_t for_s)
{
	struct relay *r = a->r;
	char *cause = NULL;
	bool ok = strcmp(decision, "approved") == 0;

	TAILQ_REMOVE(&held, a, entry);
	if (log_decided(a, decision, by, for_s, &cause) == -1) {
		log_warn("session %s: approval_decided not written: %s",
		    a->se->id, cause ? cause : "?");
		free(cause);
		ok = false;
	} else if (ok && for_s > 0)
		remember(a, for_s);
	sodium_memzero(a, sizeof(*a));
	free(a);
	if (r != NULL)
		relay_decided(r, ok);
}

void
approval_cancel(struct approval *a, const char *by)
{
	a->r = NULL;	/* the relay is going away: nobody to tell */
	decide(a, "expired", by, 0);
}

uint64_t
approval_deadlines(uint64_t now)
{
	struct approval *a, *tmp;
	uint64_t next = 0;

	TAILQ_FOREACH_SAFE(a, &held, entry, tmp) {
		if (a->deadline_ns <= now)
			decide(a, "expired", "timeout", 0);
		else if (next == 0 || a->deadline_ns < next)
			next = a->deadline_ns;
	}
	return next;
}

/* --- control verbs -------------------------------------------------------- */

static void
list_fields(struct jsonw *w, void *arg)
{
	const struct approval *a;
	uint64_t now = now_boot_ns();
	const char *dest;
	size_t i;

	(void)arg;
	jsonw_array_begin(w, "approvals");
	TAILQ_FOREACH(a, &held, entry) {
		dest = dest_of(a->hops, a->nhops);
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "id", a->id);
		jsonw_str(w, "session", a->se->id);
		jsonw_str(w, "label", a->se->label);
		jsonw_str(w, "kind", "sign");
		jsonw_str(w, "fingerprint", a->key.fingerprint);
		jsonw_str(w, "dest_hostkey", *dest != '\0' ? dest : NULL);
		jsonw_array_begin(w, "dest_names");
		for (i = 0; i < a->ndest_names; i++)
			jsonw_str(w, NULL, a->dest_names[i]);
		jsonw_array_end(w);
		keys_hops_json(w, a->hops, a->nhops);
		keys_caller_json(w, &a->caller);
		jsonw_uint(w, "waiting_s", (now - a->since_ns) / NS);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void
list_reply_waiters(void)
{
	struct list_waiter *lw;

	while ((lw = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, lw, entry);
		ctl_reply_ok(lw->c, list_fields, NULL);
		ctl_unref(lw->c);
		free(lw);
	}
}

void
approval_list(struct ctlconn *c, const cJSON *req)
{
	struct list_waiter *lw;

	/* --wait: the reply waits until something is held. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "wait")) &&
	    TAILQ_EMPTY(&held)) {
		if ((lw = calloc(1, sizeof(*lw))) == NULL) {
			ctl_reply_error(c, "out of memory");
			return;
		}
		lw->c = c;
		c->refs++;
		TAILQ_INSERT_TAIL(&waiters, lw, entry);
		return;
	}
	ctl_reply_ok(c, list_fields, NULL);
}

static char d_approved[] = "approved", d_denied[] = "denied";

static void
decided_fields(struct jsonw *w, void *arg)
{
	jsonw_str(w, "decision", arg);
}

void
approval_decide(struct ctlconn *c, const cJSON *req)
{
	const char *id = ctlmsg_get_str(req, "id");
	const char *what = ctlmsg_get_str(req, "decision");
	struct approval *a;
	struct passwd *pw;
	uint64_t for_s = 0;
	char by[96];
	bool approve;

	if (what == NULL || (strcmp(what, "approve") != 0 &&
	    strcmp(what, "deny") != 0)) {
		ctl_reply_error(c, "decision: must be \"approve\" or \"deny\"");
		return;
	}
	approve = strcmp(what, "approve") == 0;
	if (cJSON_GetObjectItemCaseSensitive(req, "for_s") != NULL &&
	    (!approve || ctlmsg_get_uint(req, "for_s", 1, DURATION_MAX,
	    &for_s) == -1)) {
		ctl_reply_error(c, "for_s: a positive integer, with approve only");
		return;
	}
	if (id == NULL) {
		ctl_reply_error(c, "id: missing");
		return;
	}
	TAILQ_FOREACH(a, &held, entry) {
		if (strcmp(a->id, id) == 0)
			break;
	}
	if (a == NULL) {
		ctl_reply_error(c, "no request %.32s is waiting (decided, "
		    "expired, or never held)", id);
		return;
	}
	/* The session's owner is the daemon's user; root may decide too. */
	if (c->peer_uid != geteuid() && c->peer_uid != 0) {
		ctl_reply_error(c, "only the session's owner or root may decide");
		return;
	}
	if ((pw = getpwuid(c->peer_uid)) != NULL)
		snprintf(by, sizeof(by), "user:%s", pw->pw_name);
	else
		snprintf(by, sizeof(by), "user:%ld", (long)c->peer_uid);
	decide(a, approve ? "approved" : "denied", by, for_s);
	ctl_reply_ok(c, decided_fields, approve ? d_approved : d_denied);
}

void
approval_cleanup(void)
{
	struct remembered *m;
	struct approval *a;

	while ((a = TAILQ_FIRST(&held)) != NULL)
		approval_cancel(a, "supervisor_shutdown");
	while ((m = TAILQ_FIRST(&memory)) != NULL) {
		TAILQ_REMOVE(&memory, m, entry);
		free(m);
	}
	nmemory = 0;
}
