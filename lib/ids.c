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
