/* ids: random session ids. See ids.h. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "ids.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void
ids_new(char out[IDS_LEN + 1])
{
	unsigned char raw[16];
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;

	randombytes_buf(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

bool
ids_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != IDS_LEN)
		return false;
	for (i = 0; i < IDS_LEN; i++) {
		if (strchr(b32, s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return true;
}

enum ids_match
ids_match(const char *query, const char *id, const char *label)
{
	size_t qlen;

	if (query == NULL || *query == '\0' || id == NULL)
		return IDS_MATCH_NONE;
	if (strcmp(query, id) == 0)
		return IDS_MATCH_EXACT;
	qlen = strlen(query);
	if (strncmp(query, id, qlen) == 0)
		return IDS_MATCH_PREFIX;
	if (label != NULL && *label != '\0' && strcmp(query, label) == 0)
		return IDS_MATCH_LABEL;
	return IDS_MATCH_NONE;
}

long
ids_resolve(const char *query, const char *const *ids,
    const char *const *labels, size_t n)
{
	long found = -1;
	size_t i, nmatch = 0;
	enum ids_match m;

	for (i = 0; i < n; i++) {
		m = ids_match(query, ids[i], labels != NULL ? labels[i] : NULL);
		if (m == IDS_MATCH_EXACT)
			return (long)i;
		if (m != IDS_MATCH_NONE) {
			nmatch++;
			found = (long)i;
		}
	}
	if (nmatch > 1)
		return -2;
	return found;
}
