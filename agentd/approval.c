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
 * Delegates (serve --approval-delegate URL, --approval-command CMD) are
 * asked at once, alongside any person: the first decision wins, the others'
 * transfer or process is then cancelled. The URL gets the request as JSON in
 * a POST through libcurl's multi interface on the daemon's epoll loop; the
 * command gets it on stdin and is watched through a pidfd.
 *
 * Everything runs on the daemon's one loop: a held request costs a list
 * entry and a deadline, never a blocked descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "approvalans.h"
#include "auditlog.h"
#include "curlfn.h"
#include "knownhosts.h"
#include "duration.h"
#include "server.h"

#define APPROVAL_ID_BYTES	6
#define REMEMBER_MAX		1024
#define ALLOW_DEST_MAX		64
#define PATTERN_MAX		KNOWNHOSTS_PATTERN_MAX
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
	CURL			*easy;		/* the URL delegate's POST */
	char			*body;		/* its JSON, sent */
	char			*answer;	/* what came back */
	size_t			 answerlen;
	struct curl_slist	*headers;
	struct cmdrun		*cmd;		/* the command delegate */
};

/* A command delegate's process; outlives its request when that is decided
 * elsewhere first (killed, reaped when its pidfd says so). */
struct cmdrun {
	TAILQ_ENTRY(cmdrun)	 entry;
	struct approval		*a;		/* NULL once detached */
	pid_t			 pid;
	int			 pidfd;
	struct evh		 ev;
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
static TAILQ_HEAD(, cmdrun) cmdruns = TAILQ_HEAD_INITIALIZER(cmdruns);
static size_t		nmemory;
static uint64_t		timeout_s = APPROVAL_TIMEOUT_DEFAULT_S;
static const char	*delegate_url;		/* from serve_opts */
static const char	*delegate_cmd;

/* libcurl on the loop, for the URL delegate only. */
static struct {
	CURLM		*multi;
	int		 timerfd;
	struct evh	 timer_ev;
	uint64_t	 curl_ns;	/* curl's timeout, 0: none */
	bool		 running;
} dl = { .timerfd = -1 };

struct dlsock {
	int		 fd;
	struct evh	 ev;
};

static void	dl_run(void);
static void	decide(struct approval *, const char *decision, const char *by,
		    uint64_t for_s);

static void
dl_rearm(void)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (dl.curl_ns != 0) {
		its.it_value.tv_sec = (time_t)(dl.curl_ns / NS);
		its.it_value.tv_nsec = (long)(dl.curl_ns % NS);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	(void)timerfd_settime(dl.timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
dl_sock_ev_cb(struct evh *h, uint32_t events)
{
	struct dlsock *s = CONTAINER_OF(h, struct dlsock, ev);
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(dl.multi, s->fd, flags, &running);
	dl_run();
}

static int
dl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct dlsock *s = socketp;
	uint32_t events = 0;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_del(fd);
			curl_multi_assign(dl.multi, fd, NULL);
			ev_free_later(s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		s->ev.cb = dl_sock_ev_cb;
		curl_multi_assign(dl.multi, fd, s);
		ev_add(fd, events, &s->ev);
	} else
		ev_mod(fd, events, &s->ev);
	return 0;
}

static int
dl_timer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	dl.curl_ns = ms < 0 ? 0 : now_boot_ns() + (uint64_t)ms * 1000000ull;
	if (!dl.running)
		dl_rearm();
	return 0;
}

static void
dl_timer_ev_cb(struct evh *h, uint32_t events)
{
	uint64_t exp;
	int running;

	(void)h;
	(void)events;
	(void)!read(dl.timerfd, &exp, sizeof(exp));
	if (dl.curl_ns != 0 && dl.curl_ns <= now_boot_ns()) {
		dl.curl_ns = 0;
		curl_multi_socket_action(dl.multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	dl_run();
}

static size_t
dl_write_cb(char *p, size_t size, size_t n, void *ud)
{
	struct approval *a = ud;
	size_t len = size * n;
	char *nb;

	if (a->answerlen + len > APPROVALANS_MAX ||
	    (nb = realloc(a->answer, a->answerlen + len)) == NULL)
		return 0;	/* too long: the transfer fails */
	memcpy(nb + a->answerlen, p, len);
	a->answer = nb;
	a->answerlen += len;
	return len;
}

static void
dl_stop(struct approval *a)
{
	if (dl.multi == NULL)
		return;		/* no URL delegate: libcurl is not loaded */
	if (a->easy != NULL) {
		curl_multi_remove_handle(dl.multi, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
	}
	curl_slist_free_all(a->headers);
	a->headers = NULL;
	free(a->body);
	a->body = NULL;
	free(a->answer);
	a->answer = NULL;
	a->answerlen = 0;
}

/* A finished POST: its answer decides, or (any failure) nothing does and
 * the request waits for a person or the timeout. */
static void
dl_done(struct approval *a, CURLcode res)
{
	const char *why = NULL;
	uint64_t for_s;
	long code = 0;
	bool approve;

	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK)
		log_warn("session %s: approval %s: delegate: %s", a->se->id,
		    a->id, curl_easy_strerror(res));
	else if (code != 200)
		log_warn("session %s: approval %s: delegate answered HTTP %ld",
		    a->se->id, a->id, code);
	else if (approvalans_parse(a->answer != NULL ? a->answer : "",
	    a->answerlen, &approve, &for_s, &why) == -1)
		log_warn("session %s: approval %s: delegate: %s", a->se->id,
		    a->id, why);
	else {
		dl_stop(a);
		decide(a, approve ? "approved" : "denied", "delegate", for_s);
		return;
	}
	dl_stop(a);
}

static void
dl_run(void)
{
	CURLMsg *m;
	void *p;
	int left;

	if (dl.running)
		return;
	dl.running = true;
	while ((m = curl_multi_info_read(dl.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if (p != NULL)
			dl_done(p, m->data.result);
	}
	dl.running = false;
	dl_rearm();
}

int
approval_init(const struct serve_opts *o, char **cause)
{
	if (o->approval_timeout != 0)
		timeout_s = o->approval_timeout;
	delegate_url = o->approval_delegate;
	delegate_cmd = o->approval_command;
	if (delegate_url == NULL)
		return 0;
	if (curlfn_load(cause) == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK ||
	    (dl.multi = curl_multi_init()) == NULL) {
		*cause = strdup("libcurl initialisation failed");
		return -1;
	}
	curl_multi_setopt(dl.multi, CURLMOPT_SOCKETFUNCTION, dl_sock_cb);
	curl_multi_setopt(dl.multi, CURLMOPT_TIMERFUNCTION, dl_timer_cb);
	if ((dl.timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1) {
		if (asprintf(cause, "approval delegate timer: %s",
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	dl.timer_ev.cb = dl_timer_ev_cb;
	ev_add(dl.timerfd, EPOLLIN, &dl.timer_ev);
	return 0;
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
	const char *p, *why = NULL;
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
		p = cJSON_IsString(it) ? it->valuestring : "";
		if (!knownhosts_pattern_ok(p, &why) || (v[n] = strdup(p)) == NULL) {
			/* The client escapes the message it prints. */
			ctl_reply_error(c, "allow_dest: %.255s: %s", p,
			    why != NULL ? why : "out of memory");
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

/* One request as `agentd approvals --json` and the delegates see it. */
static void
approval_fields(struct jsonw *w, const struct approval *a, uint64_t now)
{
	const char *dest = dest_of(a->hops, a->nhops);
	size_t i;

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
}

static char *
approval_body(const struct approval *a, size_t *len)
{
	struct jsonw w;
	char *body = NULL;

	jsonw_init(&w);
	jsonw_begin(&w);
	approval_fields(&w, a, now_boot_ns());
	jsonw_end(&w);
	if (jsonw_ok(&w) && (body = malloc(w.len + 1)) != NULL) {
		memcpy(body, w.buf, w.len);
		body[w.len] = '\0';
		*len = w.len;
	}
	jsonw_free(&w);
	return body;
}

static void
dl_start(struct approval *a)
{
	size_t len;
	CURL *e;

	if ((a->body = approval_body(a, &len)) == NULL ||
	    (e = curl_easy_init()) == NULL) {
		log_warn("session %s: approval %s: delegate not asked: out of "
		    "memory", a->se->id, a->id);
		dl_stop(a);
		return;
	}
	a->easy = e;
	a->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_URL, delegate_url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, a);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dl_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	/* The delegate may hold the POST until someone decides; never past
	 * the request's own timeout. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	if (curl_multi_add_handle(dl.multi, e) != CURLM_OK) {
		log_warn("session %s: approval %s: delegate not asked",
		    a->se->id, a->id);
		dl_stop(a);
	}
}

static void
cmd_free(struct cmdrun *c)
{
	TAILQ_REMOVE(&cmdruns, c, entry);
	ev_del(c->pidfd);
	close(c->pidfd);
	ev_free_later(c);
}

static void
cmd_pid_cb(struct evh *h, uint32_t events)
{
	struct cmdrun *c = CONTAINER_OF(h, struct cmdrun, ev);
	struct approval *a = c->a;
	siginfo_t si;
	bool ok;

	(void)events;
	memset(&si, 0, sizeof(si));
	/* Not reaped yet: the group id is still ours. Whatever the command
	 * left running goes with it. */
	if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG |
	    WNOWAIT) == -1 || si.si_pid == 0)
		return;
	(void)kill(-c->pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) ==
	    -1 || si.si_pid == 0)
		return;
	ok = si.si_code == CLD_EXITED && si.si_status == 0;
	cmd_free(c);
	if (a == NULL)
		return;		/* decided elsewhere first */
	a->cmd = NULL;
	if (!ok && si.si_code == CLD_EXITED && si.si_status == 127)
		log_warn("session %s: approval %s: the approval command "
		    "could not run (exit 127)", a->se->id, a->id);
	decide(a, ok ? "approved" : "denied", "command", 0);
}

/* Runs the command delegate with the request's JSON on its stdin. */
static void
cmdrun_start(struct approval *a)
{
	struct cmdrun *c;
	size_t len;
	ssize_t n;
	char *body;
	int p[2] = { -1, -1 }, devnull;
	pid_t pid;

	if ((body = approval_body(a, &len)) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		free(body);
		log_warn("session %s: approval %s: command not run: out of "
		    "memory", a->se->id, a->id);
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = server_fork()) == -1) {
		log_warn("session %s: approval %s: command not run: %s",
		    a->se->id, a->id, strerror(errno));
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		free(body);
		free(c);
		return;
	}
	if (pid == 0) {
		/* Its own process group: cancelling kills all it started.
		 * stdout to /dev/null; stderr stays agentd.log's. */
		if (setpgid(0, 0) == -1 || dup2(p[0], STDIN_FILENO) == -1 ||
		    (devnull = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(devnull, STDOUT_FILENO) == -1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		execl("/bin/sh", "sh", "-c", delegate_cmd, (char *)NULL);
		_exit(127);
	}
	/* Both sides set the group, so a kill right away reaches it. */
	(void)setpgid(pid, pid);
	close(p[0]);
	/* A pipe takes 64 KiB at once; the request is far smaller. */
	n = write(p[1], body, len);
	close(p[1]);
	free(body);
	c->a = a;
	c->pid = pid;
	if ((c->pidfd = pidfd_open(pid, 0)) == -1) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		free(c);
		return;
	}
	c->ev.cb = cmd_pid_cb;
	TAILQ_INSERT_TAIL(&cmdruns, c, entry);
	ev_add(c->pidfd, EPOLLIN, &c->ev);
	a->cmd = c;
	if (n != (ssize_t)len)
		(void)pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
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
	/* Never decided from inside this call: a delegate answers later. */
	if (delegate_url != NULL)
		dl_start(a);
	if (delegate_cmd != NULL)
		cmdrun_start(a);
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
	/* The first decision wins: the others are cancelled. */
	dl_stop(a);
	if (a->cmd != NULL) {
		/* The leader is not reaped before cmd_pid_cb: its group id
		 * cannot have been reused. */
		(void)kill(-a->cmd->pid, SIGKILL);
		a->cmd->a = NULL;	/* reaped by cmd_pid_cb */
		a->cmd = NULL;
	}
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

	(void)arg;
	jsonw_array_begin(w, "approvals");
	TAILQ_FOREACH(a, &held, entry) {
		jsonw_object_begin(w, NULL);
		approval_fields(w, a, now);
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
	struct list_waiter *lw;
	struct remembered *m;
	struct approval *a;
	struct cmdrun *c;

	while ((lw = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, lw, entry);
		ctl_reply_error(lw->c, "agentd is shutting down");
		ctl_unref(lw->c);
		free(lw);
	}
	while ((a = TAILQ_FIRST(&held)) != NULL)
		approval_cancel(a, "supervisor_shutdown");
	while ((m = TAILQ_FIRST(&memory)) != NULL) {
		TAILQ_REMOVE(&memory, m, entry);
		free(m);
	}
	nmemory = 0;
	/* Commands still running: killed and reaped (the daemon exits). */
	while ((c = TAILQ_FIRST(&cmdruns)) != NULL) {
		(void)kill(-c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0);
		TAILQ_REMOVE(&cmdruns, c, entry);
		ev_del(c->pidfd);
		close(c->pidfd);
		free(c);
	}
	if (dl.multi != NULL) {
		curl_multi_cleanup(dl.multi);
		dl.multi = NULL;
		curl_global_cleanup();
	}
	if (dl.timerfd != -1) {
		ev_del(dl.timerfd);
		close(dl.timerfd);
		dl.timerfd = -1;
	}
}
