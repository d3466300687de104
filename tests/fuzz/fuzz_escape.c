/* libFuzzer target: lib/escape. For any input, each target's output holds no
 * raw control byte (C0, DEL, C1) and is valid UTF-8; the terminal form
 * decodes back to the input (the escaping is unambiguous); the Markdown and
 * HTML forms decode back to the terminal form (tests/refescape.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "../refescape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t, *m, *h;
	unsigned char *tmp, *dec;
	size_t tl;

	if (size > 4096)
		return 0;
	t = escape_term((const char *)data, size);
	m = escape_md((const char *)data, size);
	h = escape_html((const char *)data, size);
	tmp = malloc(3 * (12 * size + 1));
	dec = malloc(12 * size + 1);
	if (t == NULL || m == NULL || h == NULL || tmp == NULL || dec == NULL)
		abort();
	tl = strlen(t);
	if (!ref_display_safe((unsigned char *)t, tl, tmp) ||
	    !ref_display_safe((unsigned char *)m, strlen(m), tmp) ||
	    !ref_display_safe((unsigned char *)h, strlen(h), tmp))
		abort();
	if (ref_unescape_term((unsigned char *)t, tl, dec) != (long)size ||
	    memcmp(dec, data, size) != 0)
		abort();
	if (ref_unescape_md((unsigned char *)m, strlen(m), dec) != (long)tl ||
	    memcmp(dec, t, tl) != 0)
		abort();
	if (ref_unescape_html((unsigned char *)h, strlen(h), dec) != (long)tl ||
	    memcmp(dec, t, tl) != 0)
		abort();
	free(t);
	free(m);
	free(h);
	free(tmp);
	free(dec);
	return 0;
}
