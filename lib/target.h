/* target: which session a user's word names (DESIGN §7: "--session defaults
 * to $AGENTD_SESSION and takes a unique id prefix or a label naming one
 * active session"). One rule for every program that takes a session target.
 *
 * The rule, in order:
 *   1. sessions whose id equals the word (several only across hosts);
 *   2. else the sessions whose id starts with the word, together with the
 *      active sessions whose label equals the word.
 * Exactly one match names it; none is "not found"; more is ambiguous and is
 * never resolved by guessing (the caller lists the candidates).
 * Never prints, never exits.
 */
#ifndef AGENTD_TARGET_H
#define AGENTD_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct target_cand {
	const char	*id;
	size_t		 idlen;
	const char	*label;		/* NULL: none */
	size_t		 labellen;
	bool		 active;	/* may be named by its label */
};

/*
 * Applies the rule to word[0..wordlen) over the n candidates. Returns the
 * number of matches; the indexes of the first max of them, in candidate
 * order, go to idx (idx may be NULL when max is 0). An empty word matches
 * nothing.
 */
size_t	 target_match(const char *word, size_t wordlen,
	    const struct target_cand *c, size_t n, size_t *idx, size_t max);

#endif
