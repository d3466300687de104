/*
 * escape: the one rule for showing a user's or the log's strings to a human
 * (labels, commands, paths, messages), one function per target.
 *
 * The terminal form defines what a reader sees; the other targets encode
 * that same visible text for their syntax, so a label reads the same in a
 * table, in Markdown and in HTML:
 *
 * - terminal: valid printable UTF-8 is kept as it is. A backslash becomes
 *   "\\" (so the escaping is unambiguous); tab, newline and carriage return
 *   become "\t", "\n", "\r"; every other C0 control and DEL become "\xNN";
 *   a byte that is not part of valid UTF-8 becomes "\xNN" (NN >= 80, which
 *   nothing else produces); a C1 control (U+0080-U+009F) and the invisible
 *   format characters that can reorder or hide text (bidi controls, zero
 *   width characters, tags, line/paragraph separators, see escape_hidden)
 *   become "\uXXXX" (or "\UXXXXXXXX" above U+FFFF).
 * - Markdown table cell: the terminal form with every character that
 *   Markdown (CommonMark + GFM) gives a meaning inside a cell backslash-
 *   escaped: \ ` * _ [ ] < > ! & | ~ : @ $ ^, and the dot of "www." (GFM
 *   autolinks). No cell split, emphasis, link, image, HTML, entity or
 *   autolink can come out of a string.
 * - HTML (text and double- or single-quoted attribute values): the terminal
 *   form with & < > " ' as entities.
 *
 * - JSON text (escape_json): stays the same JSON value; inside its strings
 *   every C0 control, DEL, C1 control and hidden format character becomes a
 *   \uXXXX escape (a surrogate pair above U+FFFF) and a byte that is not
 *   valid UTF-8 becomes \ufffd, so --json output shown on a terminal cannot
 *   drive it either.
 *
 * The output never holds a byte below 0x20 (but JSON's whitespace between
 * tokens), DEL or a C1 control, and is valid UTF-8. lib/ does not print:
 * callers write the result.
 */
#ifndef AGENTD_ESCAPE_H
#define AGENTD_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Each returns a malloc'd NUL-terminated string that the caller frees, or
 * NULL with errno ENOMEM. s may hold any bytes, NULs included; s may be NULL
 * when len is 0. */
char	*escape_term(const char *s, size_t len);
char	*escape_md(const char *s, size_t len);
char	*escape_html(const char *s, size_t len);
/* json: len bytes of JSON text (as a JSON writer made it; anything else is
 * passed through with only its strings' bytes changed as above). */
char	*escape_json(const char *json, size_t len);

/*
 * For messages and table cells: escape_term of the NUL-terminated s, kept in
 * a small ring owned by this module, so a printf can take several. Valid
 * until ESCAPE_RING further calls (not thread-safe: for the CLIs' output).
 * s NULL gives "(null)"; when memory runs out, "(unprintable)".
 */
#define ESCAPE_RING	8
const char *escape_term_str(const char *s);

/* 1 when code point cp is shown as an escape by the terminal rule (C0, DEL,
 * C1, and the hidden format characters), else 0. */
int	 escape_hidden(uint32_t cp);

#endif
