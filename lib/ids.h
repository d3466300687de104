/* ids: random session ids (libsodium randombytes, lowercase base32). */
#ifndef AGENTD_IDS_H
#define AGENTD_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define IDS_LEN		26	/* 16 random bytes in RFC 4648 base32, no padding */

/* Fills out[IDS_LEN + 1] with a new id. sodium_init() must have been called. */
void	ids_new(char out[IDS_LEN + 1]);
/* True when s has the form of an id this module makes (safe as a file name). */
bool	ids_valid(const char *s);

/* How a target query names a session (DESIGN §7), from weakest to best. */
enum ids_match {
	IDS_MATCH_NONE,
	IDS_MATCH_LABEL,	/* query is the session's label, exactly */
	IDS_MATCH_PREFIX,	/* query is a proper prefix of the id */
	IDS_MATCH_EXACT,	/* query is the id */
};
/*
 * How query names the session with this id and label (label may be NULL or
 * "": no label matches then). An empty or NULL query names nothing. The
 * caller resolves: an exact id wins; otherwise the query must match exactly
 * one session (by prefix or label), else it is ambiguous. See ids_resolve.
 */
enum ids_match ids_match(const char *query, const char *id, const char *label);
/*
 * Resolves query over n sessions (ids[i], labels[i]; labels may be NULL).
 * Returns the index of the one named, -1 when none matches, -2 when several
 * do (and no id is the query exactly).
 */
long	ids_resolve(const char *query, const char *const *ids,
	    const char *const *labels, size_t n);

#endif
