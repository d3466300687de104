/* jsonw: a small JSON object writer with exact 64-bit integers and fields in
 * the order they are added (the audit log's field order is part of its
 * contract). Strings are escaped for JSON and made valid UTF-8 (each maximal
 * ill-formed subpart becomes one U+FFFD, as Python's decoder does), so any byte
 * string a user supplies is safe to write.
 *
 * The buffer grows as needed; a failed allocation sets `failed` and later
 * calls do nothing, so callers check once, at the end (jsonw_ok). */
#ifndef AGENTD_JSONW_H
#define AGENTD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
	bool	 need_comma;
};

void	jsonw_init(struct jsonw *);
/* Wipes and frees the buffer. */
void	jsonw_free(struct jsonw *);
/* Empties the buffer, keeping its memory. */
void	jsonw_reset(struct jsonw *);
bool	jsonw_ok(const struct jsonw *);

void	jsonw_begin(struct jsonw *);		/* "{" */
void	jsonw_end(struct jsonw *);		/* "}" */
void	jsonw_array_begin(struct jsonw *, const char *key);	/* key may be NULL */
void	jsonw_array_end(struct jsonw *);
void	jsonw_object_begin(struct jsonw *, const char *key);	/* key may be NULL */
void	jsonw_object_end(struct jsonw *);

void	jsonw_str(struct jsonw *, const char *key, const char *val);
void	jsonw_strn(struct jsonw *, const char *key, const char *val, size_t len);
void	jsonw_int(struct jsonw *, const char *key, int64_t val);
void	jsonw_uint(struct jsonw *, const char *key, uint64_t val);
void	jsonw_bool(struct jsonw *, const char *key, bool val);
void	jsonw_null(struct jsonw *, const char *key);
/* Appends raw bytes as they are (no comma handling, no escaping). */
void	jsonw_raw(struct jsonw *, const char *bytes, size_t len);

/* Appends the JSON string form of val (quotes included) to the buffer. */
void	jsonw_quote(struct jsonw *, const char *val, size_t len);
/* The same without the quotes: for a string built from several pieces.
 * Each piece must hold whole UTF-8 characters (a split one becomes U+FFFD). */
void	jsonw_escape(struct jsonw *, const char *val, size_t len);

#endif
