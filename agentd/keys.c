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

int
keys_loaded(struct session *se, const struct agentproto_key *key,
    uint32_t lifetime, int confirm, char **cause)
{
	struct session_key *k, *nk;
	struct jsonw *w;

	w = auditlog_begin(server->log, "key_loaded", se->id);
	jsonw_str(w, "fingerprint", key->fingerprint);
	jsonw_str(w, "key_type", key->type);
	jsonw_uint(w, "lifetime_s", lifetime);
	jsonw_bool(w, "confirm", confirm != 0);
	if (auditlog_commit(server->log, cause) == -1)
		return -1;
	/* A re-add replaces the old lifetime, as in the agent. */
	if ((k = keys_find(se, key)) == NULL) {
		if ((nk = reallocarray(se->keys, se->nkeys + 1,
		    sizeof(*nk))) == NULL)
			return 0;	/* logged; only expiry tracking is lost */
		se->keys = nk;
		k = &se->keys[se->nkeys++];
		k->key = *key;
	}
	k->expires_ns = now_boot_ns() + (uint64_t)lifetime * NS;
	server_rearm_timer();
	return 0;
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

int
keys_used(struct session *se, const struct agentproto_key *key, int ok,
    const char *dest_fp, int forwarded, pid_t client_pid, char **cause)
{
	struct jsonw *w;

	w = auditlog_begin(server->log, "key_used", se->id);
	jsonw_str(w, "fingerprint", key->fingerprint);
	jsonw_bool(w, "ok", ok != 0);
	jsonw_str(w, "dest_hostkey", dest_fp);	/* null without session-bind */
	if (dest_fp != NULL)
		jsonw_bool(w, "forwarded", forwarded != 0);
	else
		jsonw_null(w, "forwarded");
	jsonw_int(w, "client_pid", client_pid);
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
