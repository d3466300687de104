/* libFuzzer target: the asciicast writer's UTF-8 stream decoding. The input
 * is cut into chunks (byte 0: how many chunk lengths follow, then the
 * lengths, then the stream) and recorded with cast_output; the file is read
 * back: every line must be one JSON value (cJSON), the "o" lines valid
 * UTF-8 each, and their data, concatenated, the reference decode of the
 * whole stream (each maximal ill-formed subpart one U+FFFD, as Python's
 * decoder does). abort() on any difference. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "cast.h"
#include "../refutf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXIN	16384

static char	dirpath[64];
static int	dfd = -1;

static void
rmdir_at_exit(void)
{
	(void)unlinkat(dfd, "f.cast", 0);
	(void)rmdir(dirpath);
}

/* One directory per process, on tmpfs if there is one: the writer fsyncs. */
static void
make_dir(void)
{
	strcpy(dirpath, "/dev/shm/fuzz_cast.XXXXXX");
	if (mkdtemp(dirpath) == NULL) {
		strcpy(dirpath, "/tmp/fuzz_cast.XXXXXX");
		if (mkdtemp(dirpath) == NULL)
			abort();
	}
	if ((dfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	atexit(rmdir_at_exit);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * The data of an event line as the writer escapes it: [T, "o", "…"]. The
 * writer only ever uses \" \\ \n \r \t \b \f and \u00XX below 0x80.
 * Appends to out; returns its new length, or (size_t)-1.
 */
static size_t
unescape_o(const char *line, size_t len, unsigned char *out, size_t o)
{
	const char *p = line, *end = line + len;
	int h1, h2;

	if (len < 1 || *p != '[')
		return (size_t)-1;
	for (p++; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++)
		;
	if ((size_t)(end - p) < 8 || memcmp(p, ", \"o\", \"", 8) != 0)
		return (size_t)-1;
	for (p += 8; p < end && *p != '"'; p++) {
		if (*p != '\\') {
			out[o++] = (unsigned char)*p;
			continue;
		}
		if (++p == end)
			return (size_t)-1;
		switch (*p) {
		case '"': case '\\': out[o++] = (unsigned char)*p; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'u':
			if (end - p < 5 || p[1] != '0' || p[2] != '0' ||
			    (h1 = hexval(p[3])) < 0 || h1 > 7 ||
			    (h2 = hexval(p[4])) < 0)
				return (size_t)-1;
			out[o++] = (unsigned char)(h1 << 4 | h2);
			p += 4;
			break;
		default:
			return (size_t)-1;
		}
	}
	if (end - p != 2 || memcmp(p, "\"]", 2) != 0)
		return (size_t)-1;
	return o;
}


/* Checks one event line; appends an "o" line's data to got. */
static void
check_line(char *line, size_t len, unsigned char *got, size_t *glen,
    unsigned char *tmp)
{
	const cJSON *code, *val;
	const char *endp;
	size_t o, nul;
	cJSON *v;

	line[len] = '\0';
	if (memchr(line, '\0', len) != NULL)
		abort();
	if ((v = cJSON_ParseWithOpts(line, &endp, 1)) == NULL ||
	    !cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3 ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(v, 0)))
		abort();
	code = cJSON_GetArrayItem(v, 1);
	val = cJSON_GetArrayItem(v, 2);
	if (!cJSON_IsString(code) || strcmp(code->valuestring, "o") != 0 ||
	    !cJSON_IsString(val))
		abort();
	if ((o = unescape_o(line, len, got, *glen)) == (size_t)-1)
		abort();
	/* cJSON agrees (up to a NUL, where its C string ends). */
	for (nul = *glen; nul < o && got[nul] != 0; nul++)
		;
	if (strlen(val->valuestring) != nul - *glen ||
	    memcmp(val->valuestring, got + *glen, nul - *glen) != 0)
		abort();
	/* Each line is valid UTF-8 on its own: no split character. */
	if (!ref_is_utf8(got + *glen, o - *glen, tmp))
		abort();
	*glen = o;
	cJSON_Delete(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char got[4 * MAXIN], want[3 * MAXIN], tmp[4 * MAXIN];
	static char file[48 * MAXIN];	/* 6 per byte, ~30 per line */
	const uint8_t *lens, *s;
	size_t nlens, n, i, from, k, glen = 0, wlen, flen = 0;
	struct cast_header h = { .width = 80, .height = 24 };
	struct cast c;
	char *p, *nl, *cause = NULL;
	ssize_t r;
	int fd;

	if (size == 0 || size > MAXIN)
		return 0;
	if (dfd == -1)
		make_dir();
	nlens = data[0] % 16;
	if (nlens > size - 1)
		nlens = size - 1;
	lens = data + 1;
	s = data + 1 + nlens;
	n = size - 1 - nlens;

	if (cast_open(&c, dfd, "f.cast", &h, &cause) == -1)
		abort();
	/* The lengths, over and over; 0 is an empty chunk. */
	for (from = 0, i = 0; from < n; i++) {
		k = nlens == 0 ? n - from : lens[i % nlens];
		if (k > n - from)
			k = n - from;
		if (cast_output(&c, s + from, k) != 0)
			abort();
		from += k;
		if (nlens == 0 || i > n + 16)
			break;
	}
	if (from < n && cast_output(&c, s + from, n - from) != 0)
		abort();
	if (c.bytes != n || cast_close(&c) != 0)
		abort();

	if ((fd = openat(dfd, "f.cast", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	while ((r = read(fd, file + flen, sizeof(file) - 1 - flen)) > 0)
		flen += (size_t)r;
	if (r == -1 || flen == sizeof(file) - 1)
		abort();
	close(fd);
	if (unlinkat(dfd, "f.cast", 0) == -1)
		abort();

	/* Line 1: the header; then only "o" lines; no raw control byte. */
	for (i = 0; i < flen; i++)
		if (((unsigned char)file[i] < 0x20 && file[i] != '\n') ||
		    file[i] == 0x7f)
			abort();
	if ((nl = memchr(file, '\n', flen)) == NULL)
		abort();
	for (p = nl + 1; p < file + flen; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(file + flen - p))) == NULL)
			abort();	/* every line ends with one */
		check_line(p, (size_t)(nl - p), got, &glen, tmp);
	}
	wlen = ref_decode(s, n, want);
	if (glen != wlen || memcmp(got, want, wlen) != 0)
		abort();
	return 0;
}
