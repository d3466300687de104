/*
 * keys: what each session's agent holds, as the relay saw it, and the key_*
 * events. The agent reports neither expiry nor anything else on its own, so
 * lifetimes are tracked here: every add goes through the relay with a
 * lifetime no longer than the session's remaining time.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "auditlog.h"
#include "server.h"


uint32_t
keys_lifetime_cap(const struct session *se, int has_lifetime, uint32_t want)
{
	uint64_t left = session_remaining_s(se), cap;

	cap = has_lifetime ? want : se->key_ttl_s;
	if (cap > left)
		cap = left;
	return (uint32_t)cap;
}

/* An identity is its key and type: a certificate shares its key's
 * fingerprint but is a separate identity in the agent. */
static struct session_key *
keys_find(struct session *se, const struct agentproto_key *key)
{
	size_t i;

	for (i = 0; i < se->nkeys; i++) {
		if (strcmp(se->keys[i].key.fingerprint, key->fingerprint) == 0 &&
		    strcmp(se->keys[i].key.type, key->type) == 0)
			return &se->keys[i];
	}
	return NULL;
}

static void
keys_forget(struct session *se, struct session_key *k)
{
	*k = se->keys[--se->nkeys];
}

bool
keys_held(struct session *se, const struct agentproto_key *key)
{
	return keys_find(se, key) != NULL;
}

int
keys_loaded(struct session *se, const struct agentproto_key *key,
    uint32_t lifetime, int64_t asked, int confirm, const char *provider,
    char **cause)
{
	struct session_key *k, *nk;
	struct jsonw *w;

	w = auditlog_begin(server->log, "key_loaded", se->id);
	jsonw_str(w, "fingerprint", key->fingerprint);
	jsonw_str(w, "key_type", key->type);
	jsonw_uint(w, "lifetime_s", lifetime);
	/* What the client asked (ssh-add -t), when it asked: ssh-add prints
	 * that value whatever the cap made of it. */
	if (asked >= 0)
		jsonw_uint(w, "lifetime_asked_s", (uint64_t)asked);
	jsonw_bool(w, "confirm", confirm != 0);
	if (provider != NULL)
		jsonw_str(w, "provider", provider);
	if (auditlog_commit(server->log, cause) == -1)
		return -1;
	/* A re-add replaces the old lifetime, as in the agent. */
	if ((k = keys_find(se, key)) == NULL) {
		if ((nk = reallocarray(se->keys, se->nkeys + 1,
		    sizeof(*nk))) == NULL) {
			if (!confirm)
				return 0;	/* only expiry tracking is lost */
			/* Fail closed: a confirm we cannot track would let
			 * the key sign unasked. The relay removes it again. */
			*cause = strdup("out of memory tracking a confirm key");
			return -1;
		}
		se->keys = nk;
		k = &se->keys[se->nkeys++];
		k->key = *key;
	}
	k->expires_ns = now_boot_ns() + (uint64_t)lifetime * NS;
	k->card = provider != NULL;
	k->confirm = confirm != 0;
	server_rearm_timer();
	return 0;
}

bool
keys_confirm(struct session *se, const struct agentproto_key *key)
{
	const struct session_key *k = keys_find(se, key);

	return k != NULL && k->confirm;
}

void
keys_caller_json(struct jsonw *w, const struct procinfo_caller *c)
{
	size_t i;

	jsonw_object_begin(w, "caller");
	jsonw_int(w, "pid", c->pid);
	jsonw_str(w, "comm", c->comm[0] != '\0' ? c->comm : NULL);
	jsonw_str(w, "exe", c->exe[0] != '\0' ? c->exe : NULL);
	jsonw_array_begin(w, "ancestry");
	for (i = 0; i < c->nancestry; i++)
		jsonw_str(w, NULL, c->ancestry[i]);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

void
keys_hops_json(struct jsonw *w, const struct agentproto_hop *hops,
    size_t nhops)
{
	size_t i;

	jsonw_array_begin(w, "hops");
	for (i = 0; i < nhops; i++) {
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "hostkey", hops[i].hostkey);
		jsonw_bool(w, "forwarding", hops[i].forwarding != 0);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

int
keys_removed(struct session *se, const struct agentproto_key *key,
    const char *reason, char **cause)
{
	struct session_key *k;
	struct jsonw *w;

	w = auditlog_begin(server->log, "key_removed", se->id);
	jsonw_str(w, "fingerprint", key->fingerprint);
	jsonw_str(w, "key_type", key->type);
	jsonw_str(w, "reason", reason);
	if ((k = keys_find(se, key)) != NULL)
		keys_forget(se, k);	/* after use: key may point into it */
	return auditlog_commit(server->log, cause);
}

void
keys_removed_all(struct session *se, const char *reason)
{
	struct agentproto_key key;
	char *cause = NULL;

	while (se->nkeys > 0) {
		key = se->keys[se->nkeys - 1].key;
		if (keys_removed(se, &key, reason, &cause) == -1) {
			log_warn("session %s: key_removed not written: %s",
			    se->id, cause ? cause : "?");
			free(cause);
			cause = NULL;
		}
	}
}

void
keys_card_gone(struct session *se, const struct agentproto_key *list,
    size_t n)
{
	struct agentproto_key key;
	char *cause = NULL;
	size_t i = 0, j;

	while (i < se->nkeys) {
		for (j = 0; j < n; j++) {
			if (strcmp(se->keys[i].key.fingerprint,
			    list[j].fingerprint) == 0 &&
			    strcmp(se->keys[i].key.type, list[j].type) == 0)
				break;
		}
		if (!se->keys[i].card || j < n) {
			i++;
			continue;
		}
		key = se->keys[i].key;
		if (keys_removed(se, &key, "requested", &cause) == -1) {
			log_warn("session %s: key_removed not written: %s",
			    se->id, cause ? cause : "?");
			free(cause);
			cause = NULL;
		}
		/* keys_removed dropped entry i: look at what moved there. */
	}
}

int
keys_lock_event(struct session *se, int lock, int ok, pid_t client_pid,
    char **cause)
{
	struct jsonw *w;

	w = auditlog_begin(server->log, lock ? "agent_locked" :
	    "agent_unlocked", se->id);
	jsonw_bool(w, "ok", ok != 0);
	jsonw_int(w, "client_pid", client_pid);
	return auditlog_commit(server->log, cause);
}

int
keys_used(struct session *se, const struct agentproto_key *key, int ok,
    const struct agentproto_hop *hops, size_t nhops,
    const struct procinfo_caller *caller, const char *refused, char **cause)
{
	struct jsonw *w;
	bool forwarded = false;
	size_t i;

	w = auditlog_begin(server->log, "key_used", se->id);
	jsonw_str(w, "fingerprint", key->fingerprint);
	jsonw_bool(w, "ok", ok != 0);
	/* null without session-bind: a local use */
	jsonw_str(w, "dest_hostkey", nhops > 0 ? hops[nhops - 1].hostkey : NULL);
	for (i = 0; i < nhops; i++)
		forwarded = forwarded || hops[i].forwarding;
	if (nhops > 0)
		jsonw_bool(w, "forwarded", forwarded);
	else
		jsonw_null(w, "forwarded");
	keys_hops_json(w, hops, nhops);
	jsonw_int(w, "client_pid", caller->pid);
	keys_caller_json(w, caller);
	if (refused != NULL)
		jsonw_str(w, "refused", refused);
	return auditlog_commit(server->log, cause);
}

uint64_t
keys_expire(struct session *se, uint64_t now)
{
	struct agentproto_key key;
	char *cause = NULL;
	uint64_t next = 0;
	size_t i = 0;

	while (i < se->nkeys) {
		if (se->keys[i].expires_ns > now) {
			if (next == 0 || se->keys[i].expires_ns < next)
				next = se->keys[i].expires_ns;
			i++;
			continue;
		}
		key = se->keys[i].key;
		if (keys_removed(se, &key, "expired", &cause) == -1) {
			log_warn("session %s: key_removed not written: %s",
			    se->id, cause ? cause : "?");
			free(cause);
			cause = NULL;
		}
		/* keys_removed dropped entry i: look at what moved there. */
	}
	return next;
}
