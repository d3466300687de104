/* libFuzzer target: lib/escape. For any input, each target's output holds no
 * raw control byte (C0, DEL, C1) and is valid UTF-8; the terminal form
 * decodes back to the input (the escaping is unambiguous); the Markdown and
 * HTML forms decode back to the terminal form (tests/refescape.h). The JSON
 * form holds no raw control but JSON's whitespace, and of valid UTF-8 JSON
 * it is the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "escape.h"
#include "../refescape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
json_check(const uint8_t *data, size_t size, unsigned char *tmp)
{
	cJSON *a, *b;
	char *j, *pa, *pb;
	size_t i, n;

	if ((j = escape_json((const char *)data, size)) == NULL)
		abort();
	n = strlen(j);
	for (i = 0; i < n; i++) {
		if (((unsigned char)j[i] < 0x20 && j[i] != '\t' && j[i] != '\n' &&
		    j[i] != '\r') || j[i] == 0x7f || ((unsigned char)j[i] ==
		    0xc2 && i + 1 < n && (unsigned char)j[i + 1] < 0xa0))
			abort();
	}
	if (!ref_is_utf8((const unsigned char *)j, n, tmp))
		abort();
	/* Valid UTF-8 JSON, no control but JSON's whitespace (cJSON skips
	 * any control between tokens): the same value after. */
	for (i = 0; i < size; i++) {
		if ((data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' &&
		    data[i] != '\r') || data[i] == 0x7f)
			break;
	}
	if (i == size && ref_is_utf8(data, size, tmp) &&
	    (a = cJSON_ParseWithLength((const char *)data, size)) != NULL) {
		/* Compared as printed: cJSON_Compare calls two infinite
		 * numbers (1e999) unequal. */
		if ((b = cJSON_Parse(j)) == NULL ||
		    (pa = cJSON_PrintUnformatted(a)) == NULL ||
		    (pb = cJSON_PrintUnformatted(b)) == NULL ||
		    strcmp(pa, pb) != 0)
			abort();
		free(pa);
		free(pb);
		cJSON_Delete(b);
		cJSON_Delete(a);
	}
	free(j);
}

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
	json_check(data, size, tmp);
	free(tmp);
	free(dec);
	return 0;
}
