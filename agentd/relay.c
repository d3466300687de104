/*
 * relay: the public agent socket R/sessions/<id>/agent.sock, an auditing
 * relay in front of the session's ssh-agent.
 *
 * Each accepted client (peer uid checked) gets its own upstream connection,
 * since session-bind@openssh.com binds a connection. Frames are capped at
 * 256 KiB like OpenSSH (a larger length drops that client). Requests are
 * parsed just enough to audit them and matched with their replies in order
 * (the protocol is strictly request/reply per connection). Only what
 * agentproto's allowlist parses exactly is forwarded; anything else is
 * answered FAILURE here and never reaches ssh-agent (DESIGN §5):
 *   ADD            -> key_loaded on SUCCESS, lifetime capped to the session
 *   ADD_SMARTCARD  -> lifetime capped; on SUCCESS the relay lists the agent's
 *                     identities itself and logs key_loaded (provider) for
 *                     each new one before the client sees SUCCESS
 *   REMOVE(_ALL), REMOVE_SMARTCARD -> key_removed/requested on SUCCESS
 *   LOCK, UNLOCK   -> agent_locked / agent_unlocked (ok, client_pid)
 *   session-bind   -> a hop of this connection, kept in order
 *   SIGN_REQUEST   -> key_used (ok, hops, dest_hostkey = the last hop,
 *                     caller); held first when it needs an approval
 *                     (approval.c): later requests of this client wait
 *   REQUEST_IDENTITIES, query -> relayed as they are.
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
#define OUT_TOTAL_HIGH	(8 * 1024 * 1024)	/* the same, for all clients */
#define MAX_PENDING	64

enum pending_kind {
	PEND_OTHER,
	PEND_ADD,
	PEND_REMOVE,
	PEND_REMOVE_ALL,
	PEND_SIGN,
	PEND_BIND,
	PEND_LOCK,
	PEND_UNLOCK,
	PEND_CARD_ADD,
	PEND_CARD_REMOVE,
	PEND_CARD_LIST,	/* our identity list after a smartcard SUCCESS */
	PEND_FAIL,	/* answered by us with FAILURE, in order */
	PEND_SILENT,	/* our own request: its reply is not the client's */
};

struct pending {
	enum pending_kind	 kind;
	struct agentproto_key	 key;
	unsigned char		*blob;		/* PEND_ADD: to undo the add */
	size_t			 bloblen;
	uint32_t		 lifetime;
	int64_t			 asked;		/* asked lifetime, -1: none */
	int			 confirm;
	int			 forwarding;	/* PEND_BIND */
	char			*provider;	/* PEND_CARD_*: module path */
	bool			 card_add;	/* PEND_CARD_LIST: after an add */
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
	struct procinfo_caller	 caller;	/* read once, at connect */
	struct approval		*held;		/* a sign waiting for approval */
	unsigned char		*held_frame;	/* its frame, sent on approval */
	size_t			 held_len;
	struct agentproto_key	 held_key;
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
	bool			 client_gone;	/* closed by us: the agent's
						   owed replies are logged,
						   then dropped */
	size_t			 counted;	/* our part of out_total */
	bool			 barrier;	/* a smartcard request is being
						   audited: later requests wait */
	uint64_t		 refused;	/* requests answered FAILURE */
	struct agentproto_hop	 hops[AGENTPROTO_MAX_HOPS];
	size_t			 nhops;
	size_t			 binds_pending;
};

static const unsigned char failure_frame[5] = { 0, 0, 0, 1,
    AGENTPROTO_FAILURE };
static const unsigned char success_frame[5] = { 0, 0, 0, 1,
    AGENTPROTO_SUCCESS };

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

/* Bytes held toward all clients (cout and ain buffers), bounded near
 * OUT_TOTAL_HIGH: however many clients stop reading, the daemon's memory
 * stays small. */
static size_t	out_total;

static void
relay_free(struct relay *r)
{
	struct session *se = r->se;
	size_t i;

	relay_unquiet(r);
	if (r->held != NULL)
		approval_cancel(r->held, se->state == SESSION_STOPPING ?
		    "session_end" : "client_gone");
	free(r->held_frame);
	if (r->refused > 1)
		log_warn("session %s: refused %llu more requests from pid %ld",
		    se->id, (unsigned long long)(r->refused - 1),
		    (long)r->client_pid);
	if (!r->client_gone) {
		ev_del(r->client.fd);
		close(r->client.fd);
	}
	ev_del(r->agent.fd);
	close(r->agent.fd);
	out_total -= r->counted;
	bq_free(&r->cin);
	bq_free(&r->ain);
	bq_free(&r->cout);
	bq_free(&r->aout);
	for (i = 0; i < MAX_PENDING; i++) {
		free(r->pend[i].blob);
		free(r->pend[i].provider);
	}
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
	free(p->provider);
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

/* ADD_IDENTITY / ADD_ID_CONSTRAINED: owns add (frees it). */
static int
relay_add(struct relay *r, const unsigned char *frame, size_t flen,
    struct agentproto_add *add)
{
	struct pending *p;
	unsigned char *nf;
	size_t nflen;
	uint32_t life;
	int rc;

	life = keys_lifetime_cap(r->se, add->has_lifetime, add->lifetime);
	if (life == 0) {
		agentproto_add_free(add);
		return relay_fail(r);
	}
	/* Rewritten also to take confirm out: the relay asks, not ssh-agent. */
	if (!add->has_lifetime || add->lifetime != life || add->confirm) {
		if (agentproto_with_lifetime(AGENTPROTO_ADD_ID_CONSTRAINED,
		    frame + 5, flen - 5, add->constraints_off, life, &nf,
		    &nflen) == -1) {
			agentproto_add_free(add);
			return relay_fail(r);
		}
		rc = bq_append(&r->aout, nf, nflen);
		sodium_memzero(nf, nflen);
		free(nf);
	} else
		rc = bq_append(&r->aout, frame, flen);
	if (rc == -1) {
		agentproto_add_free(add);
		return -1;
	}
	p = pending_push(r, PEND_ADD);
	p->key = add->key;
	p->blob = add->blob;	/* kept to undo the add if it cannot be logged */
	p->bloblen = add->bloblen;
	p->lifetime = life;
	p->asked = add->has_lifetime ? (int64_t)add->lifetime : -1;
	p->confirm = add->confirm;
	add->blob = NULL;
	return 0;
}

/*
 * ADD_SMARTCARD(_CONSTRAINED): always sent on as 26 with the capped lifetime.
 * The PIN is in frame and in the rewritten copy: the copy is wiped here, the
 * queues wipe what they consume. Later requests of this client wait until the
 * identities the card brought in are logged.
 */
static int
relay_card_add(struct relay *r, const unsigned char *frame, size_t flen,
    const struct agentproto_req *req)
{
	struct pending *p;
	unsigned char *nf;
	size_t nflen;
	uint32_t life;
	char *provider;
	int rc;

	life = keys_lifetime_cap(r->se, req->add.has_lifetime,
	    req->add.lifetime);
	if (life == 0 ||
	    (provider = strndup((const char *)req->provider,
	    req->providerlen)) == NULL)
		return relay_fail(r);
	if (agentproto_with_lifetime(AGENTPROTO_ADD_SMARTCARD_CONSTRAINED,
	    frame + 5, flen - 5, req->add.constraints_off, life, &nf,
	    &nflen) == -1) {
		free(provider);
		return relay_fail(r);
	}
	rc = bq_append(&r->aout, nf, nflen);
	sodium_memzero(nf, nflen);
	free(nf);
	if (rc == -1) {
		free(provider);
		return -1;
	}
	p = pending_push(r, PEND_CARD_ADD);
	p->provider = provider;
	p->lifetime = life;
	p->asked = req->add.has_lifetime ? (int64_t)req->add.lifetime : -1;
	p->confirm = req->add.confirm;
	r->barrier = true;
	return 0;
}

/* Sends a sign on to the agent: its reply gives key_used. */
static int
relay_sign(struct relay *r, const unsigned char *frame, size_t flen,
    const struct agentproto_key *key)
{
	struct pending *p;

	if (bq_append(&r->aout, frame, flen) == -1)
		return -1;
	p = pending_push(r, PEND_SIGN);
	p->key = *key;
	return 0;
}

/* A refused sign: key_used ok:false with why, then FAILURE in order (also
 * when the event cannot be written: nothing was signed). */
static int
relay_refuse_sign(struct relay *r, const struct agentproto_key *key,
    const char *why)
{
	char *cause = NULL;

	if (keys_used(r->se, key, 0, r->hops, r->nhops, &r->caller, why,
	    &cause) == -1) {
		log_warn("session %s: key_used not written: %s", r->se->id,
		    cause ? cause : "?");
		free(cause);
	}
	return relay_fail(r);
}

/*
 * A sign that needs approval: held here (a copy of the frame) until
 * relay_decided; while held, later requests of this client stay unread in
 * cin (relay_frames), other clients go on.
 */
static int
relay_hold(struct relay *r, const unsigned char *frame, size_t flen,
    const struct agentproto_key *key)
{
	struct approval *a;
	int rc;

	rc = approval_request(r, r->se, key, r->hops, r->nhops, &r->caller,
	    &a);
	if (rc == 1)
		return relay_sign(r, frame, flen, key);
	if (rc == -1)
		return relay_fail(r);	/* not logged: not asked, not signed */
	if ((r->held_frame = malloc(flen)) == NULL) {
		approval_cancel(a, "client_gone");
		return relay_fail(r);
	}
	memcpy(r->held_frame, frame, flen);
	r->held_len = flen;
	r->held_key = *key;
	r->held = a;
	return 0;
}

static int
relay_request(struct relay *r, const unsigned char *frame, size_t flen)
{
	enum pending_kind kind = PEND_OTHER;
	struct agentproto_req req;
	struct pending *p;
	const char *why;

	if (agentproto_parse_request(frame + 4, flen - 4, &req, &why) == -1) {
		/* Fail closed: what we cannot read, we do not let through. */
		/* One line per connection: a client cannot flood agentd.log. */
		if (r->refused++ == 0)
			log_warn("session %s: refused a request of type %u from "
			    "pid %ld: %s", r->se->id, frame[4],
			    (long)r->client_pid, why);
		return relay_fail(r);
	}
	switch (req.kind) {
	case AGENTPROTO_REQ_ADD:
		return relay_add(r, frame, flen, &req.add);
	case AGENTPROTO_REQ_ADD_CARD:
		return relay_card_add(r, frame, flen, &req);
	case AGENTPROTO_REQ_LIST:
	case AGENTPROTO_REQ_QUERY:
		break;
	case AGENTPROTO_REQ_SIGN:
		/* The destination policy first: a refusal asks nobody. */
		if ((why = approval_policy(r->se, r->hops, r->nhops)) != NULL)
			return relay_refuse_sign(r, &req.key, why);
		if (approval_needed(r->se, &req.key))
			return relay_hold(r, frame, flen, &req.key);
		kind = PEND_SIGN;
		break;
	case AGENTPROTO_REQ_REMOVE:
		kind = PEND_REMOVE;
		break;
	case AGENTPROTO_REQ_REMOVE_ALL:
		kind = PEND_REMOVE_ALL;
		break;
	case AGENTPROTO_REQ_REMOVE_CARD:
		kind = PEND_CARD_REMOVE;
		break;
	case AGENTPROTO_REQ_LOCK:
		kind = PEND_LOCK;
		break;
	case AGENTPROTO_REQ_UNLOCK:
		kind = PEND_UNLOCK;
		break;
	case AGENTPROTO_REQ_SESSION_BIND:
		/* The agent takes no more either: the hop list stays bounded. */
		if (r->nhops + r->binds_pending >= AGENTPROTO_MAX_HOPS) {
			log_warn("session %s: refused a session-bind from pid "
			    "%ld: over %d binds", r->se->id,
			    (long)r->client_pid, AGENTPROTO_MAX_HOPS);
			return relay_fail(r);
		}
		kind = PEND_BIND;
		r->binds_pending++;
		break;
	}
	if (bq_append(&r->aout, frame, flen) == -1)
		return -1;
	p = pending_push(r, kind);
	p->key = req.key;
	p->forwarding = req.forwarding;
	if (kind == PEND_CARD_REMOVE)
		r->barrier = true;
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

/* Whether any client of se has an add of this key on its way: the card's
 * diff must not claim it. */
static bool
relay_add_pending(const struct session *se, const struct agentproto_key *key)
{
	const struct relay *r;
	const struct pending *p;
	size_t i;

	TAILQ_FOREACH(r, &se->relays, entry) {
		for (i = 0; i < r->pcount; i++) {
			p = &r->pend[(r->phead + i) % MAX_PENDING];
			if (p->kind == PEND_ADD &&
			    strcmp(p->key.fingerprint, key->fingerprint) == 0 &&
			    strcmp(p->key.type, key->type) == 0)
				return true;
		}
	}
	return false;
}

/* After a smartcard add or remove succeeded: asks the agent for its
 * identities on this connection; the reply is ours (PEND_CARD_LIST). */
static int
relay_card_list(struct relay *r, struct pending *done)
{
	static const unsigned char req[5] = { 0, 0, 0, 1,
	    AGENTPROTO_REQUEST_IDENTITIES };
	struct pending *p;

	if (bq_append(&r->aout, req, sizeof(req)) == -1)
		return -1;
	p = pending_push(r, PEND_CARD_LIST);
	p->provider = done->provider;
	done->provider = NULL;
	p->lifetime = done->lifetime;
	p->asked = done->asked;
	p->confirm = done->confirm;
	p->card_add = done->kind == PEND_CARD_ADD;
	return 0;
}

/*
 * The identity list that follows a smartcard SUCCESS: key_loaded for each
 * identity the card brought in, or key_removed for each card key gone.
 * Returns 0 when all is logged; -1 when the client must get FAILURE.
 */
static int
relay_card_audit(struct relay *r, const struct pending *p,
    const unsigned char *frame, size_t flen)
{
	struct session *se = r->se;
	struct agentproto_key *keys = NULL;
	size_t n = 0, i, loaded = 0;
	char *cause = NULL;
	int rc = 0;

	if (frame[4] != AGENTPROTO_IDENTITIES_ANSWER ||
	    agentproto_parse_identities(frame + 5, flen - 5, &keys, &n) == -1) {
		log_warn("session %s: no identity list after a smartcard "
		    "request of pid %ld", se->id, (long)r->client_pid);
		return -1;
	}
	if (!p->card_add) {
		keys_card_gone(se, keys, n);
		free(keys);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (keys_held(se, &keys[i]) || relay_add_pending(se, &keys[i]))
			continue;
		if (keys_loaded(se, &keys[i], p->lifetime, p->asked, p->confirm,
		    p->provider, &cause) == -1) {
			log_warn("session %s: key_loaded not written: %s",
			    se->id, cause ? cause : "?");
			free(cause);
			cause = NULL;
			rc = -1;
		} else
			loaded++;
	}
	free(keys);
	if (rc == 0 && loaded == 0)
		log_warn("session %s: smartcard add of pid %ld brought in no "
		    "identity we did not know", se->id, (long)r->client_pid);
	return rc;
}

/* Asks the agent to unload a provider whose keys could not be logged. */
static int
relay_undo_card(struct relay *r, const char *provider)
{
	size_t plen = strlen(provider);
	uint32_t n = (uint32_t)(1 + 4 + plen + 4);
	unsigned char hdr[9], pin[4] = { 0, 0, 0, 0 };

	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	hdr[4] = AGENTPROTO_REMOVE_SMARTCARD;
	hdr[5] = (unsigned char)(plen >> 24);
	hdr[6] = (unsigned char)(plen >> 16);
	hdr[7] = (unsigned char)(plen >> 8);
	hdr[8] = (unsigned char)plen;
	if (r->pcount >= MAX_PENDING || bq_append(&r->aout, hdr, 9) == -1 ||
	    bq_append(&r->aout, provider, plen) == -1 ||
	    bq_append(&r->aout, pin, sizeof(pin)) == -1)
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
	slot->provider = NULL;
	r->phead = (r->phead + 1) % MAX_PENDING;
	r->pcount--;

	switch (p.kind) {
	case PEND_ADD:
		if (type == AGENTPROTO_SUCCESS &&
		    keys_loaded(r->se, &p.key, p.lifetime, p.asked,
		    p.confirm,
		    NULL, &cause) == -1) {
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
		    r->hops, r->nhops, &r->caller, NULL, &cause) == -1) {
			/* No signature leaves that the log does not show. */
			log_warn("session %s: key_used not written: %s",
			    r->se->id, cause ? cause : "?");
			forward = 0;
		}
		break;
	case PEND_BIND:
		r->binds_pending--;
		if (type == AGENTPROTO_SUCCESS && r->nhops < AGENTPROTO_MAX_HOPS) {
			memcpy(r->hops[r->nhops].hostkey, p.key.fingerprint,
			    sizeof(r->hops[r->nhops].hostkey));
			r->hops[r->nhops++].forwarding = p.forwarding;
		}
		break;
	case PEND_LOCK:
	case PEND_UNLOCK:
		if (keys_lock_event(r->se, p.kind == PEND_LOCK,
		    type == AGENTPROTO_SUCCESS, r->client_pid, &cause) == -1) {
			log_warn("session %s: %s not written: %s", r->se->id,
			    p.kind == PEND_LOCK ? "agent_locked" :
			    "agent_unlocked", cause ? cause : "?");
			forward = 0;
		}
		break;
	case PEND_CARD_ADD:
	case PEND_CARD_REMOVE:
		if (type == AGENTPROTO_SUCCESS) {
			/* SUCCESS waits for the events the list gives. */
			forward = -1;
			if (relay_card_list(r, &p) == -1)
				rc = -1;
		} else
			r->barrier = false;
		break;
	case PEND_CARD_LIST:
		r->barrier = false;
		forward = -1;
		if (relay_card_audit(r, &p, frame, flen) == 0)
			rc = bq_append(&r->cout, success_frame,
			    sizeof(success_frame));
		else {
			rc = bq_append(&r->cout, failure_frame,
			    sizeof(failure_frame));
			if (p.card_add && rc == 0)
				rc = relay_undo_card(r, p.provider);
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
	free(p.provider);
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

/*
 * Closes r's client (timed out, evicted, or failed). What the agent still
 * owes it is read and logged as if the client were there (each reply may
 * carry an event: a key_used, an undo of an add that cannot be logged),
 * then the upstream is closed too. Returns true when r is freed now.
 */
static bool
relay_drop_client(struct relay *r)
{
	if (r->client_gone)
		return false;
	if (r->pcount == 0 && r->aout.len == 0) {
		relay_free(r);
		return true;
	}
	/* Nobody is left to sign for: the held request ends here. */
	if (r->held != NULL) {
		approval_cancel(r->held, "client_gone");
		r->held = NULL;
		free(r->held_frame);
		r->held_frame = NULL;
	}
	ev_del(r->client.fd);
	close(r->client.fd);
	r->client.fd = -1;
	r->client_gone = true;
	r->client_eof = true;
	bq_free(&r->cin);	/* requests not sent on yet: no replies owed */
	bq_free(&r->cout);
	r->barrier = false;
	server_fd_freed();
	return false;
}

/*
 * Whether to read the agent for r. A client that takes all we have for it
 * always gets more. One with replies queued (it is not draining: stalled)
 * gets more only while it has less than OUT_HIGH queued and all clients
 * together less than OUT_TOTAL_HIGH; its EPOLLOUT brings it back here when
 * it reads. So no client waits for others to read, and the memory held for
 * clients that do not read is at most OUT_TOTAL_HIGH plus about a frame
 * each. A client we closed drops what it reads.
 */
static bool
relay_may_read_agent(const struct relay *r)
{
	if (r->client_gone || r->cout.len == 0)
		return true;
	return r->cout.len < OUT_HIGH && out_total < OUT_TOTAL_HIGH;
}

/* Moves what q holds to a buffer its size when it uses a quarter of a
 * large one (or frees it when empty). */
static void
relay_shrink(struct bq *q)
{
	struct bq n;

	if (q->cap <= BQ_READ_CHUNK || q->len > q->cap / 4)
		return;
	memset(&n, 0, sizeof(n));
	if (q->len > 0 && bq_append(&n, bq_data(q), q->len) == -1)
		return;		/* keeps the large one */
	bq_free(q);
	*q = n;
}

static void
relay_update(struct relay *r)
{
	uint32_t cev = 0, aev = EPOLLIN;

	if (!r->client_eof && r->pcount < MAX_PENDING - 1 &&
	    r->aout.len < OUT_HIGH && r->cin.len < FRAME_MAX)
		cev |= EPOLLIN;
	if (r->cout.len > 0)
		cev |= EPOLLOUT;
	/* A queue that held a burst does not keep its memory. */
	relay_shrink(&r->cout);
	relay_shrink(&r->ain);
	out_total = out_total - r->counted + r->cout.cap + r->ain.cap;
	r->counted = r->cout.cap + r->ain.cap;
	if (!relay_may_read_agent(r))
		aev = 0;
	if (r->aout.len > 0)
		aev |= EPOLLOUT;
	if (!r->client_gone)
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
		/* A sign waits for the binds before it to be answered: its
		 * hops (policy, approval, key_used) are those the agent
		 * checks it against. */
		if (q == &r->cin && (r->pcount >= MAX_PENDING - 1 ||
		    r->barrier || r->held != NULL || (r->binds_pending > 0 &&
		    bq_data(q)[4] == AGENTPROTO_SIGN_REQUEST)))
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
	bool cfail;

	(void)events;
	if (!r->client_eof && r->pcount < MAX_PENDING - 1 &&
	    r->aout.len < OUT_HIGH && r->cin.len < FRAME_MAX)
		cr = bq_read(&r->cin, r->client.fd, BQ_READ_CHUNK);
	if (relay_may_read_agent(r))
		ar = bq_read(&r->ain, r->agent.fd, BQ_READ_CHUNK);
	/* A failing client goes, but what the agent owes it is still read
	 * and logged (relay_drop_client); a failing agent ends it all. */
	cfail = cr == -1 || relay_frames(r, &r->cin, relay_request) == -1;
	if (ar == -1 || relay_frames(r, &r->ain, relay_reply) == -1) {
		relay_free(r);
		return;
	}
	/* Replies may have let waiting requests go. */
	if (!cfail && relay_frames(r, &r->cin, relay_request) == -1)
		cfail = true;
	if (bq_write(&r->aout, r->agent.fd) == -1) {
		relay_free(r);
		return;
	}
	if (!cfail && !r->client_gone && bq_write(&r->cout, r->client.fd) == -1)
		cfail = true;
	if (cfail && relay_drop_client(r))
		return;
	if (r->client_gone)
		bq_consume(&r->cout, r->cout.len);	/* logged, nobody to tell */
	if (cr == 1)
		r->client_eof = true;
	/* The agent went away, or the client left and has nothing coming. */
	if (ar == 1 || (r->client_eof && r->pcount == 0 && r->cout.len == 0)) {
		relay_free(r);
		return;
	}
	relay_update(r);
}

void
relay_decided(struct relay *r, bool approved)
{
	unsigned char *frame = r->held_frame;
	size_t flen = r->held_len;
	bool cfail;
	int rc;

	r->held = NULL;
	r->held_frame = NULL;
	if (approved)
		rc = relay_sign(r, frame, flen, &r->held_key);
	else
		rc = relay_refuse_sign(r, &r->held_key, "denied");
	free(frame);
	if (rc == -1) {
		relay_free(r);
		return;
	}
	/* What waited behind it goes now; as in relay_io_cb, a failing
	 * client goes but what the agent owes it is still logged. */
	cfail = relay_frames(r, &r->cin, relay_request) == -1;
	if (bq_write(&r->aout, r->agent.fd) == -1) {
		relay_free(r);
		return;
	}
	if (!cfail && bq_write(&r->cout, r->client.fd) == -1)
		cfail = true;
	if (cfail && relay_drop_client(r))
		return;
	if (r->client_gone)
		bq_consume(&r->cout, r->cout.len);
	if (r->client_eof && r->pcount == 0 && r->cout.len == 0) {
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
 * that does not read its replies (even with more owed), or owes the rest of
 * a frame, is stalled: closed RELAY_STALL_TIMEOUT_S after it stalled. One
 * with nothing in flight is idle: closed after RELAY_IDLE_TIMEOUT_S, since
 * an ssh session may legitimately keep its agent connection open for hours.
 * One the agent still owes a reply, and that takes its replies, is busy:
 * never closed by us. At MAX_RELAYS (or the descriptor limit) the client
 * that has been quiet the longest makes room, stalled ones first. Closing
 * a client keeps its upstream until the owed replies are logged
 * (relay_drop_client). Each kind has one timeout, so the queues below are
 * ordered by deadline.
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

	/* A client that does not take its replies is stalled even with
	 * replies still owed: past OUT_HIGH we stop reading the agent for it,
	 * so they would never come. Dropping it keeps the relay until they
	 * are logged (relay_drop_client). Otherwise a client the agent still
	 * owes replies (a held or confirmed request too) is busy: never
	 * dropped, each reply may carry an event that must be written. */
	if (r->client_gone)
		q = RELAY_BUSY;	/* on no queue: the agent's replies end it */
	else if (r->cout.len > 0)
		q = RELAY_STALLED;
	else if (r->pcount > 0 || r->aout.len > 0 || r->held != NULL)
		q = RELAY_BUSY;
	else if (r->cin.len > 0 && bq_frame(&r->cin) == 0)
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
		if (!relay_drop_client(r))
			relay_update(r);
	while ((r = TAILQ_FIRST(&idle_q)) != NULL &&
	    r->quiet_since + RELAY_IDLE_TIMEOUT_S * NS <= now)
		if (!relay_drop_client(r))
			relay_update(r);
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
	if (!relay_drop_client(r))
		relay_update(r);
	return 0;
}

static void
relay_accept_cb(struct evh *h, uint32_t events)
{
	struct session *se = CONTAINER_OF(h, struct session, listen_ev);
	struct ucred cred;
	struct relay *r;
	char what[16 + IDS_LEN];
	int cfd, afd;

	(void)events;
	snprintf(what, sizeof(what), "session %s", se->id);
	while ((cfd = server_accept_own(se->listen_fd, what, &cred)) != -1) {
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
		/* Once, at connect (DESIGN §8); a process already gone keeps
		 * its pid only. */
		(void)procinfo_caller(cred.pid, &r->caller);
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
