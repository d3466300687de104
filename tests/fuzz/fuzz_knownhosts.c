/* libFuzzer target: one known_hosts line (a user's file may hold anything),
 * parsed and matched against fixed names and the names it lists; and the
 * input as an --allow-dest pattern, checked and globbed against them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
name_cb(const char *name, void *arg)
{
	const struct knownhosts_entry *e = arg;

	/* A plain name the line lists must match the line, unless negated
	 * elsewhere on it. */
	if (strlen(name) == 0)
		abort();
	(void)knownhosts_match(e, name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct knownhosts_entry e;
	int rc;

	char pat[KNOWNHOSTS_PATTERN_MAX + 2];
	const char *why = NULL;

	if (size > 65536)
		return 0;
	if (size < sizeof(pat)) {
		memcpy(pat, data, size);
		pat[size] = '\0';
		if (!knownhosts_pattern_ok(pat, &why) && why == NULL)
			abort();
		/* A pattern always matches itself when it has no glob. */
		if (strpbrk(pat, "*?") == NULL &&
		    !knownhosts_glob(pat, strlen(pat), pat))
			abort();
		(void)knownhosts_glob(pat, strlen(pat), "gate.example");
	}
	rc = knownhosts_parse_line((const char *)data, size, &e);
	if (rc < -1 || rc > 1)
		abort();
	if (rc != 1)
		return 0;
	if (e.hosts < (const char *)data ||
	    e.hosts + e.hostslen > (const char *)data + size ||
	    strncmp(e.fingerprint, "SHA256:", 7) != 0)
		abort();
	(void)knownhosts_match(&e, "gate.example");
	(void)knownhosts_match(&e, "[gate.example]:2222");
	knownhosts_names(&e, name_cb, &e);
	return 0;
}
