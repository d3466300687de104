/* target: the session a word names. See target.h. */
#include <string.h>

#include "target.h"

static size_t
target_note(size_t found, size_t i, size_t *idx, size_t max)
{
	if (found < max)
		idx[found] = i;
	return found + 1;
}

size_t
target_match(const char *word, size_t wordlen, const struct target_cand *c,
    size_t n, size_t *idx, size_t max)
{
	size_t i, found = 0;

	if (wordlen == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (c[i].idlen == wordlen && memcmp(c[i].id, word, wordlen) == 0)
			found = target_note(found, i, idx, max);
	}
	if (found > 0)
		return found;
	for (i = 0; i < n; i++) {
		if ((c[i].idlen > wordlen &&
		    memcmp(c[i].id, word, wordlen) == 0) ||
		    (c[i].active && c[i].label != NULL &&
		    c[i].labellen == wordlen &&
		    memcmp(c[i].label, word, wordlen) == 0))
			found = target_note(found, i, idx, max);
	}
	return found;
}
