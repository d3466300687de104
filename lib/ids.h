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

#endif
