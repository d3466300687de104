/*
 * relay: the public agent socket R/sessions/<id>/agent.sock, an auditing
 * relay in front of the session's ssh-agent.
 *
 * Each accepted client (peer uid checked) gets its own upstream connection,
 * since session-bind@openssh.com binds a connection. Frames are capped at
 * 256 KiB like OpenSSH (a larger length drops that client). Requests are
 * parsed just enough to audit them and matched with their replies in order
 * (the protocol is strictly request/reply per connection):
 *   ADD            -> key_loaded on SUCCESS, lifetime capped to the session
 *   REMOVE(_ALL)   -> key_removed/requested on SUCCESS
 *   SIGN_REQUEST   -> key_used (ok, dest_hostkey from session-bind)
 *   everything else is relayed byte for byte.
 * The event is durable before the reply reaches the client; when it cannot
 * be written, the client gets FAILURE instead (and an added key is removed
 * again). Buffers that carry secrets (adds, lock passwords) are wiped as
 * soon as they are forwarded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "bq.h"
#include "server.h"

#define FRAME_MAX	(4 + AGENTPROTO_MAX_FRAME)
#define OUT_HIGH	(512 * 1024)	/* stop reading while this is queued */
#define MAX_PENDING	64

enum pending_kind {
	PEND_OTHER,
	PEND_ADD,
	PEND_REMOVE,
	PEND_REMOVE_ALL,
	PEND_SIGN,
	PEND_BIND,
	PEND_FAIL,	/* answered by us with FAILURE, in order */
	PEND_SILENT,	/* our own request: its reply is not the client's */
};

struct pending {
	enum pending_kind	 kind;
	struct agentproto_key	 key;
	unsigned char		*blob;		/* PEND_ADD: to undo the add */
	size_t			 bloblen;
	uint32_t		 lifetime;
	int			 confirm;
	int			 forwarding;	/* PEND_BIND */
};

struct relay_end {
	struct evh	 ev;
	int		 fd;
	struct relay	*r;
};

/* Where a client stands, for timeouts and eviction (see relay_classify). */
enum relay_quiet {
	RELAY_BUSY,		/* the agent works for it: no deadline */
	RELAY_STALLED,		/* owes the rest of a frame or takes no reply */
	RELAY_IDLE,		/* nothing in flight */
};

struct relay {
	TAILQ_ENTRY(relay)	 entry;
	TAILQ_ENTRY(relay)	 quiet_entry;	/* se->relays_stalled/_idle */
	TAILQ_ENTRY(relay)	 timeout_entry;	/* stalled_q or idle_q */
	enum relay_quiet	 quiet;
	uint64_t		 quiet_since;	/* CLOCK_BOOTTIME */
	struct session		*se;
	pid_t			 client_pid;
	struct relay_end	 client;
	struct relay_end	 agent;
	struct bq		 cin;	/* partial frames from the client */
	struct bq		 ain;	/* partial frames from the agent */
	struct bq		 cout;	/* to the client */
	struct bq		 aout;	/* to the agent */
	struct pending		 pend[MAX_PENDING];
	size_t			 phead;
	size_t			 pcount;
	bool			 client_eof;
	char			 dest_fp[AGENTPROTO_FP_LEN + 1];
	bool			 bound;
	int			 forwarded;
};

static const unsigned char failure_frame[5] = { 0, 0, 0, 1,
    AGENTPROTO_FAILURE };

/* Length of the whole first frame if it is complete, 0 if not yet, or -1
 * when its announced length breaks the cap. */
static long
bq_frame(const struct bq *q)
{
	const unsigned char *p = bq_data(q);
	uint32_t n;

	if (q->len < 4)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (n == 0 || n > AGENTPROTO_MAX_FRAME)
		return -1;
	return q->len >= 4 + (size_t)n ? (long)(4 + n) : 0;
}

/* --- connections ---------------------------------------------------------- */

static void	relay_unquiet(struct relay *);

static void
relay_free(struct relay *r)
{
	struct session *se = r->se;
	size_t i;

	relay_unquiet(r);
	ev_del(r->client.fd);
	ev_del(r->agent.fd);
	close(r->client.fd);
	close(r->agent.fd);
	bq_free(&r->cin);
	bq_free(&r->ain);
	bq_free(&r->cout);
	bq_free(&r->aout);
	for (i = 0; i < MAX_PENDING; i++)
		free(r->pend[i].blob);
	TAILQ_REMOVE(&se->relays, r, entry);
	se->nrelays--;
	sodium_memzero(r, sizeof(*r));
	ev_free_later(r);
	server_fd_freed();
}

void
relay_close_all(struct session *se)
{
	struct relay *r;

	while ((r = TAILQ_FIRST(&se->relays)) != NULL)
		relay_free(r);
}

static struct pending *
pending_push(struct relay *r, enum pending_kind kind)
{
	struct pending *p = &r->pend[(r->phead + r->pcount++) % MAX_PENDING];

	free(p->blob);
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	return p;
}

/* Answers FAILURE in order: at once if nothing is pending before it. */
static int
relay_fail(struct relay *r)
{
	if (r->pcount == 0)
		return bq_append(&r->cout, failure_frame, sizeof(failure_frame));
	pending_push(r, PEND_FAIL);
	return 0;
}

/* --- requests (client -> agent) ------------------------------------------- */

static int
relay_add(struct relay *r, const unsigned char *frame, size_t flen)
{
	struct agentproto_add add;
	struct pending *p;
	unsigned char *nf;
	size_t nflen;
	const char *why;
	uint32_t life;
	int rc;

	if (agentproto_parse_add(frame + 5, flen - 5, &add, &why) == -1) {
		/* Fail closed: what we cannot read, we do not let through. */
		log_warn("session %s: refused an add from pid %ld: %s",
		    r->se->id, (long)r->client_pid, why);
		return relay_fail(r);
	}
	life = keys_lifetime_cap(r->se, add.has_lifetime, add.lifetime);
	if (life == 0) {
		agentproto_add_free(&add);
		return relay_fail(r);
	}
	if (!add.has_lifetime || add.lifetime != life) {
		if (agentproto_add_with_lifetime(frame + 5, flen - 5, &add, life,
		    &nf, &nflen) == -1) {
			agentproto_add_free(&add);
			return relay_fail(r);
		}
		rc = bq_append(&r->aout, nf, nflen);
		sodium_memzero(nf, nflen);
		free(nf);
	} else
		rc = bq_append(&r->aout, frame, flen);
	if (rc == -1) {
		agentproto_add_free(&add);
		return -1;
	}
	p = pending_push(r, PEND_ADD);
	p->key = add.key;
	p->blob = add.blob;	/* kept to undo the add if it cannot be logged */
	p->bloblen = add.bloblen;
	p->lifetime = life;
	p->confirm = add.confirm;
	return 0;
}

/* A (un)lock body is exactly one string without NUL bytes: the password. */
static int
lock_body_ok(const unsigned char *body, size_t len)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 |
	    (uint32_t)body[2] << 8 | body[3];
	return n == len - 4 && memchr(body + 4, '\0', n) == NULL;
}

static int
relay_request(struct relay *r, const unsigned char *frame, size_t flen)
{
	enum pending_kind kind = PEND_OTHER;
	struct agentproto_key key;
	char fp[AGENTPROTO_FP_LEN + 1];
	struct pending *p;
	int fwd = 0;

	switch (frame[4]) {
	case AGENTPROTO_ADD_IDENTITY:
	case AGENTPROTO_ADD_ID_CONSTRAINED:
		return relay_add(r, frame, flen);
	case AGENTPROTO_REMOVE_IDENTITY:
		if (agentproto_parse_remove(frame + 5, flen - 5, &key) == 0)
			kind = PEND_REMOVE;
		break;
	case AGENTPROTO_REMOVE_ALL:
	case AGENTPROTO_REMOVE_ALL_RSA:
		kind = PEND_REMOVE_ALL;
		break;
	case AGENTPROTO_SIGN_REQUEST:
		if (agentproto_parse_sign(frame + 5, flen - 5, &key) == 0)
			kind = PEND_SIGN;
		break;
	case AGENTPROTO_LOCK:
	case AGENTPROTO_UNLOCK:
		/* OpenSSH 9.2's agent dies (fatal) on a lock body that is not
		 * one NUL-free string: one client must not end the session. */
		if (!lock_body_ok(frame + 5, flen - 5)) {
			log_warn("session %s: refused a malformed (un)lock from "
			    "pid %ld", r->se->id, (long)r->client_pid);
			return relay_fail(r);
		}
		break;
	case AGENTPROTO_EXTENSION:
		if (agentproto_parse_session_bind(frame + 5, flen - 5, fp,
		    &fwd) == 1)
			kind = PEND_BIND;
		break;
	}
	if (bq_append(&r->aout, frame, flen) == -1)
		return -1;
	p = pending_push(r, kind);
	if (kind == PEND_REMOVE || kind == PEND_SIGN)
		p->key = key;
	if (kind == PEND_BIND) {
		strlcpy(p->key.fingerprint, fp, sizeof(p->key.fingerprint));
		p->forwarding = fwd;
	}
	return 0;
}

/* --- replies (agent -> client) -------------------------------------------- */

/* Asks the agent to forget a key we could not log; its reply stays ours. */
static int
relay_undo_add(struct relay *r, const struct pending *p)
{
	unsigned char hdr[9];
	uint32_t n = (uint32_t)p->bloblen + 5;

	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	hdr[4] = AGENTPROTO_REMOVE_IDENTITY;
	hdr[5] = (unsigned char)(p->bloblen >> 24);
	hdr[6] = (unsigned char)(p->bloblen >> 16);
	hdr[7] = (unsigned char)(p->bloblen >> 8);
	hdr[8] = (unsigned char)p->bloblen;
	if (r->pcount >= MAX_PENDING || bq_append(&r->aout, hdr, 9) == -1 ||
	    bq_append(&r->aout, p->blob, p->bloblen) == -1)
		return -1;
	pending_push(r, PEND_SILENT);
	return 0;
}

static int
relay_reply(struct relay *r, const unsigned char *frame, size_t flen)
{
	struct pending p;
	struct pending *slot;
	char *cause = NULL;
	int type = frame[4], forward = 1, rc = 0;

	if (r->pcount == 0)
		return -1;	/* a reply nobody asked for */
	slot = &r->pend[r->phead];
	p = *slot;
	slot->blob = NULL;	/* ownership moves to p */
	r->phead = (r->phead + 1) % MAX_PENDING;
	r->pcount--;

	switch (p.kind) {
	case PEND_ADD:
		if (type == AGENTPROTO_SUCCESS &&
		    keys_loaded(r->se, &p.key, p.lifetime, p.confirm,
		    &cause) == -1) {
			log_warn("session %s: key_loaded not written (%s): "
			    "removing the key again", r->se->id,
			    cause ? cause : "?");
			forward = 0;
			rc = relay_undo_add(r, &p);
		}
		break;
	case PEND_REMOVE:
		if (type == AGENTPROTO_SUCCESS &&
		    keys_removed(r->se, &p.key, "requested", &cause) == -1)
			log_warn("session %s: key_removed not written: %s",
			    r->se->id, cause ? cause : "?");
		break;
	case PEND_REMOVE_ALL:
		if (type == AGENTPROTO_SUCCESS)
			keys_removed_all(r->se, "requested");
		break;
	case PEND_SIGN:
		if (keys_used(r->se, &p.key, type == AGENTPROTO_SIGN_RESPONSE,
		    r->bound ? r->dest_fp : NULL, r->forwarded, r->client_pid,
		    &cause) == -1) {
			/* No signature leaves that the log does not show. */
			log_warn("session %s: key_used not written: %s",
			    r->se->id, cause ? cause : "?");
			forward = 0;
		}
		break;
	case PEND_BIND:
		if (type == AGENTPROTO_SUCCESS) {
			memcpy(r->dest_fp, p.key.fingerprint,
			    sizeof(r->dest_fp));
			r->forwarded = p.forwarding;
			r->bound = true;
		}
		break;
	case PEND_SILENT:
		forward = -1;	/* neither the reply nor a FAILURE */
		break;
	case PEND_OTHER:
	case PEND_FAIL:
		break;
	}
	free(p.blob);
	free(cause);
	if (forward == 1)
		rc |= bq_append(&r->cout, frame, flen);
	else if (forward == 0)
		rc |= bq_append(&r->cout, failure_frame, sizeof(failure_frame));
	/* Our own FAILUREs queued behind this request are due now. */
	while (rc == 0 && r->pcount > 0 && r->pend[r->phead].kind == PEND_FAIL) {
		r->phead = (r->phead + 1) % MAX_PENDING;
		r->pcount--;
		rc = bq_append(&r->cout, failure_frame, sizeof(failure_frame));
	}
	return rc;
}

/* --- the loop ------------------------------------------------------------- */

static void	relay_classify(struct relay *);

static void
relay_update(struct relay *r)
{
	uint32_t cev = 0, aev = EPOLLIN;

	if (!r->client_eof && r->pcount < MAX_PENDING - 1 &&
	    r->aout.len < OUT_HIGH && r->cin.len < FRAME_MAX)
		cev |= EPOLLIN;
	if (r->cout.len > 0)
		cev |= EPOLLOUT;
	if (r->cout.len >= OUT_HIGH)
		aev = 0;
	if (r->aout.len > 0)
		aev |= EPOLLOUT;
	ev_mod(r->client.fd, cev, &r->client.ev);
	ev_mod(r->agent.fd, aev, &r->agent.ev);
	relay_classify(r);
}

/* Handles every whole frame in q; -1 drops the connection. */
static int
relay_frames(struct relay *r, struct bq *q,
    int (*handle)(struct relay *, const unsigned char *, size_t))
{
	long n;

	while ((n = bq_frame(q)) > 0) {
		if (q == &r->cin && r->pcount >= MAX_PENDING - 1)
			return 0;	/* resumes when replies come back */
		if (handle(r, bq_data(q), (size_t)n) == -1)
			return -1;
		bq_consume(q, (size_t)n);
	}
	if (n == -1)
		log_warn("session %s: dropped client pid %ld: frame over %d "
		    "bytes", r->se->id, (long)r->client_pid,
		    AGENTPROTO_MAX_FRAME);
	return n == -1 ? -1 : 0;
}

static void
relay_io_cb(struct evh *h, uint32_t events)
{
	struct relay_end *e = CONTAINER_OF(h, struct relay_end, ev);
	struct relay *r = e->r;
	int cr = 0, ar = 0;

	(void)events;
	if (!r->client_eof && r->pcount < MAX_PENDING - 1 &&
	    r->aout.len < OUT_HIGH && r->cin.len < FRAME_MAX)
		cr = bq_read(&r->cin, r->client.fd, BQ_READ_CHUNK);
	if (r->cout.len < OUT_HIGH)
		ar = bq_read(&r->ain, r->agent.fd, BQ_READ_CHUNK);
	if (cr == -1 || ar == -1 ||
	    relay_frames(r, &r->cin, relay_request) == -1 ||
	    relay_frames(r, &r->ain, relay_reply) == -1 ||
	    bq_write(&r->aout, r->agent.fd) == -1 ||
	    bq_write(&r->cout, r->client.fd) == -1) {
		relay_free(r);
		return;
	}
	if (cr == 1)
		r->client_eof = true;
	/* The agent went away, or the client left and has nothing coming. */
	if (ar == 1 || (r->client_eof && r->pcount == 0 && r->cout.len == 0)) {
		relay_free(r);
		return;
	}
	relay_update(r);
}

static int
relay_connect_agent(const struct session *se)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, se->up_path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	/* A unix connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --- accepting, timeouts and eviction ------------------------------------ */

/*
 * No client can starve the others (DESIGN-NOTES.md, "Starvation"). A client
 * that owes the rest of a frame, or does not read its replies, is stalled:
 * closed RELAY_STALL_TIMEOUT_S after it stalled. One with nothing in flight
 * is idle: closed after RELAY_IDLE_TIMEOUT_S, since an ssh session may
 * legitimately keep its agent connection open for hours. One the agent
 * still owes a reply is busy, never closed by us (the reply's event first). At MAX_RELAYS (or the descriptor limit) the
 * client that has been quiet the longest makes room, stalled ones first.
 * Each kind has one timeout, so the queues below are ordered by deadline.
 */
static TAILQ_HEAD(, relay) stalled_q = TAILQ_HEAD_INITIALIZER(stalled_q);
static TAILQ_HEAD(, relay) idle_q = TAILQ_HEAD_INITIALIZER(idle_q);

static void
relay_unquiet(struct relay *r)
{
	switch (r->quiet) {
	case RELAY_STALLED:
		TAILQ_REMOVE(&r->se->relays_stalled, r, quiet_entry);
		TAILQ_REMOVE(&stalled_q, r, timeout_entry);
		break;
	case RELAY_IDLE:
		TAILQ_REMOVE(&r->se->relays_idle, r, quiet_entry);
		TAILQ_REMOVE(&idle_q, r, timeout_entry);
		break;
	case RELAY_BUSY:
		break;
	}
	r->quiet = RELAY_BUSY;
}

static void
relay_classify(struct relay *r)
{
	enum relay_quiet q;

	/* Never drop a client the agent still owes replies to: each reply
	 * may carry an event (an add, a signature) that must be written. */
	if (r->pcount > 0 || r->aout.len > 0)
		q = RELAY_BUSY;
	else if (r->cout.len > 0 || (r->cin.len > 0 && bq_frame(&r->cin) == 0))
		q = RELAY_STALLED;
	else
		q = RELAY_IDLE;
	if (q == r->quiet)
		return;		/* a stalled client's clock keeps running */
	relay_unquiet(r);
	r->quiet = q;
	r->quiet_since = now_boot_ns();
	if (q == RELAY_STALLED) {
		TAILQ_INSERT_TAIL(&r->se->relays_stalled, r, quiet_entry);
		TAILQ_INSERT_TAIL(&stalled_q, r, timeout_entry);
		server_timer_at(r->quiet_since + RELAY_STALL_TIMEOUT_S * NS);
	} else if (q == RELAY_IDLE) {
		TAILQ_INSERT_TAIL(&r->se->relays_idle, r, quiet_entry);
		TAILQ_INSERT_TAIL(&idle_q, r, timeout_entry);
		server_timer_at(r->quiet_since + RELAY_IDLE_TIMEOUT_S * NS);
	}
}

void
relay_expire(uint64_t now)
{
	struct relay *r;

	while ((r = TAILQ_FIRST(&stalled_q)) != NULL &&
	    r->quiet_since + RELAY_STALL_TIMEOUT_S * NS <= now)
		relay_free(r);
	while ((r = TAILQ_FIRST(&idle_q)) != NULL &&
	    r->quiet_since + RELAY_IDLE_TIMEOUT_S * NS <= now)
		relay_free(r);
}

uint64_t
relay_next_deadline(void)
{
	struct relay *s = TAILQ_FIRST(&stalled_q), *i = TAILQ_FIRST(&idle_q);
	uint64_t ts, ti;

	ts = s != NULL ? s->quiet_since + RELAY_STALL_TIMEOUT_S * NS : 0;
	ti = i != NULL ? i->quiet_since + RELAY_IDLE_TIMEOUT_S * NS : 0;
	return ts == 0 || (ti != 0 && ti < ts) ? ti : ts;
}

int
relay_evict(struct session *se)
{
	struct relay *r;

	if (se != NULL && (r = TAILQ_FIRST(&se->relays_stalled)) == NULL)
		r = TAILQ_FIRST(&se->relays_idle);
	else if (se == NULL && (r = TAILQ_FIRST(&stalled_q)) == NULL)
		r = TAILQ_FIRST(&idle_q);
	if (r == NULL)
		return -1;
	relay_free(r);
	return 0;
}

static void
relay_accept_cb(struct evh *h, uint32_t events)
{
	struct session *se = CONTAINER_OF(h, struct session, listen_ev);
	struct ucred cred;
	socklen_t len;
	struct relay *r;
	int cfd, afd;

	(void)events;
	for (;;) {
		cfd = accept4(se->listen_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (server_fd_error(errno) &&
			    server_fd_shortage(errno) == 0)
				continue;
			break;
		}
		len = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
		    cred.uid != geteuid()) {
			log_warn("session %s: refused a client of uid %ld",
			    se->id, (long)cred.uid);
			close(cfd);
			continue;
		}
		/* Full: the quietest client makes room; if the agent works for
		 * every one of them, the new one is refused. */
		if (se->nrelays >= MAX_RELAYS && relay_evict(se) == -1) {
			close(cfd);
			continue;
		}
		while ((afd = relay_connect_agent(se)) == -1 &&
		    server_fd_error(errno)) {
			if (server_fd_shortage(errno) == -1)
				break;
		}
		if (afd == -1) {
			close(cfd);
			continue;
		}
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			close(cfd);
			close(afd);
			continue;
		}
		r->se = se;
		r->client_pid = cred.pid;
		r->client.fd = cfd;
		r->client.r = r;
		r->client.ev.cb = relay_io_cb;
		r->agent.fd = afd;
		r->agent.r = r;
		r->agent.ev.cb = relay_io_cb;
		TAILQ_INSERT_TAIL(&se->relays, r, entry);
		se->nrelays++;
		ev_add(cfd, EPOLLIN, &r->client.ev);
		ev_add(afd, EPOLLIN, &r->agent.ev);
		relay_classify(r);
	}
}

void
relay_accept(struct session *se)
{
	if (se->nrelays == 0) {
		TAILQ_INIT(&se->relays_stalled);
		TAILQ_INIT(&se->relays_idle);
	}
	se->listen_ev.cb = relay_accept_cb;
	ev_add(se->listen_fd, server_listen_events(), &se->listen_ev);
}
