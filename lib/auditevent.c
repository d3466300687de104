/* auditevent: strict flat-object parser for audit log lines. See auditevent.h. */
#include <string.h>

#include "auditevent.h"

/* Nested objects/arrays deeper than this are refused (bounded recursion). */
#define AUDITEVENT_MAX_DEPTH	32

/* Bits for required fields and duplicate detection. */
#define SEEN_V		0x001u
#define SEEN_SEQ	0x002u
#define SEEN_TS		0x004u
#define SEEN_EVENT	0x008u
#define SEEN_SESSION	0x010u
#define SEEN_PREV	0x020u
#define SEEN_REQUIRED	0x03fu

struct scan {
	char		*p;
	char		*end;
	const char	*why;
};

enum vtype { V_STR, V_INT, V_NUM, V_TRUE, V_FALSE, V_NULL, V_NEST };

struct val {
	enum vtype	 type;
	struct auditstr	 s;
	uint64_t	 mag;		/* V_INT: magnitude */
	bool		 neg;
};

static int
fail(struct scan *sc, const char *why)
{
	if (sc->why == NULL)
		sc->why = why;
	return -1;
}

static void
skip_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
	    *sc->p == '\r' || *sc->p == '\n'))
		sc->p++;
}

static int
hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (uint32_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (uint32_t)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= (uint32_t)(s[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (2..4 bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, const unsigned char *end)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if ((size_t)(end - s) < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

static char *
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80)
		*o++ = (char)cp;
	else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/*
 * Scans a string starting after its opening quote; decodes escapes in place
 * (the decoded form is never longer). On return sc->p is after the closing
 * quote.
 */
static int
scan_string(struct scan *sc, struct auditstr *out)
{
	unsigned char *s = (unsigned char *)sc->p;
	unsigned char *end = (unsigned char *)sc->end, *o;
	uint32_t cp, lo;
	size_t n;

	/* Fast path: plain ASCII up to the closing quote. */
	while (s < end && *s != '"' && *s != '\\' && *s >= 0x20 && *s < 0x80)
		s++;
	if (s < end && *s == '"') {
		out->p = sc->p;
		out->len = (size_t)((char *)s - sc->p);
		sc->p = (char *)s + 1;
		return 0;
	}
	o = s;
	while (s < end && *s != '"') {
		if (*s < 0x20)
			return fail(sc, "control character in a string");
		if (*s < 0x80) {
			if (*s != '\\') {
				*o++ = *s++;
				continue;
			}
			if (end - s < 2)
				break;
			s++;
			switch (*s) {
			case '"': case '\\': case '/':
				*o++ = *s++;
				continue;
			case 'b': *o++ = '\b'; s++; continue;
			case 'f': *o++ = '\f'; s++; continue;
			case 'n': *o++ = '\n'; s++; continue;
			case 'r': *o++ = '\r'; s++; continue;
			case 't': *o++ = '\t'; s++; continue;
			case 'u':
				break;
			default:
				return fail(sc, "invalid escape in a string");
			}
			if (end - s < 5 || hex4((char *)s + 1, &cp) == -1)
				return fail(sc, "invalid \\u escape in a string");
			s += 5;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(sc, "lone surrogate in a string");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
				    hex4((char *)s + 2, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return fail(sc, "lone surrogate in a string");
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			o = (unsigned char *)put_utf8((char *)o, cp);
			continue;
		}
		if ((n = utf8_len(s, end)) == 0)
			return fail(sc, "invalid UTF-8 in a string");
		memmove(o, s, n);
		o += n;
		s += n;
	}
	if (s >= end)
		return fail(sc, "unterminated string");
	out->p = sc->p;
	out->len = (size_t)((char *)o - sc->p);
	sc->p = (char *)s + 1;
	return 0;
}

static int
scan_number(struct scan *sc, struct val *v)
{
	char *p = sc->p;
	uint64_t mag = 0;
	bool big = false;

	v->neg = false;
	if (p < sc->end && *p == '-') {
		v->neg = true;
		p++;
	}
	if (p >= sc->end || *p < '0' || *p > '9')
		return fail(sc, "invalid number");
	if (*p == '0') {
		p++;
	} else {
		for (; p < sc->end && *p >= '0' && *p <= '9'; p++) {
			if (mag > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
				big = true;
			else
				mag = mag * 10 + (uint64_t)(*p - '0');
		}
	}
	v->type = big ? V_NUM : V_INT;
	if (p < sc->end && *p == '.') {
		p++;
		if (p >= sc->end || *p < '0' || *p > '9')
			return fail(sc, "invalid number");
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
		v->type = V_NUM;
	}
	if (p < sc->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < sc->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= sc->end || *p < '0' || *p > '9')
			return fail(sc, "invalid number");
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
		v->type = V_NUM;
	}
	v->mag = mag;
	sc->p = p;
	return 0;
}

static int
scan_word(struct scan *sc, const char *word, size_t len)
{
	if ((size_t)(sc->end - sc->p) < len || memcmp(sc->p, word, len) != 0)
		return fail(sc, "invalid literal");
	sc->p += len;
	return 0;
}

static int scan_value(struct scan *, struct val *, int depth);

/* Checks and skips an object or array whose opening bracket was consumed. */
static int
scan_nested(struct scan *sc, char close, int depth)
{
	struct auditstr key;
	struct val v;

	if (depth > AUDITEVENT_MAX_DEPTH)
		return fail(sc, "nested too deeply");
	skip_ws(sc);
	if (sc->p < sc->end && *sc->p == close) {
		sc->p++;
		return 0;
	}
	for (;;) {
		skip_ws(sc);
		if (close == '}') {
			if (sc->p >= sc->end || *sc->p != '"')
				return fail(sc, "expected a key");
			sc->p++;
			if (scan_string(sc, &key) == -1)
				return -1;
			skip_ws(sc);
			if (sc->p >= sc->end || *sc->p != ':')
				return fail(sc, "expected ':' after a key");
			sc->p++;
		}
		if (scan_value(sc, &v, depth + 1) == -1)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->end)
			return fail(sc, "unterminated object or array");
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p == close) {
			sc->p++;
			return 0;
		}
		return fail(sc, "expected ',' or a closing bracket");
	}
}

static int
scan_value(struct scan *sc, struct val *v, int depth)
{
	skip_ws(sc);
	if (sc->p >= sc->end)
		return fail(sc, "missing value");
	switch (*sc->p) {
	case '"':
		sc->p++;
		v->type = V_STR;
		return scan_string(sc, &v->s);
	case '{':
		sc->p++;
		v->type = V_NEST;
		return scan_nested(sc, '}', depth);
	case '[':
		sc->p++;
		v->type = V_NEST;
		return scan_nested(sc, ']', depth);
	case 't':
		v->type = V_TRUE;
		return scan_word(sc, "true", 4);
	case 'f':
		v->type = V_FALSE;
		return scan_word(sc, "false", 5);
	case 'n':
		v->type = V_NULL;
		return scan_word(sc, "null", 4);
	default:
		return scan_number(sc, v);
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
num2(const char *s, unsigned *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	return 0;
}

int
auditevent_parse_time(const char *s, size_t len, int64_t *us)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	unsigned y1, y2, mo, d, h, mi, sec, frac = 0;
	size_t i, nd = 0;
	int64_t y;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (num2(s, &y1) || num2(s + 2, &y2) || num2(s + 5, &mo) ||
	    num2(s + 8, &d) || num2(s + 11, &h) || num2(s + 14, &mi) ||
	    num2(s + 17, &sec))
		return -1;
	y = (int64_t)(y1 * 100 + y2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	i = 19;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
			if (nd < 6)
				frac = frac * 10 + (unsigned)(s[i] - '0');
		}
		if (nd == 0)
			return -1;
		for (; nd < 6; nd++)
			frac *= 10;
	}
	if (i + 1 != len || s[i] != 'Z')
		return -1;
	*us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
	    1000000) + frac;
	return 0;
}

static enum auditevent_kind
event_kind(const struct auditstr *e)
{
	static const struct {
		const char		*name;
		enum auditevent_kind	 kind;
	} kinds[] = {
		{ "created", AUDITEVENT_CREATED },
		{ "key_loaded", AUDITEVENT_KEY_LOADED },
		{ "key_removed", AUDITEVENT_KEY_REMOVED },
		{ "key_used", AUDITEVENT_KEY_USED },
		{ "shell_started", AUDITEVENT_SHELL_STARTED },
		{ "shell_ended", AUDITEVENT_SHELL_ENDED },
		{ "stopped", AUDITEVENT_STOPPED },
		{ "crashed", AUDITEVENT_CRASHED },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].name) == e->len &&
		    memcmp(kinds[i].name, e->p, e->len) == 0)
			return kinds[i].kind;
	}
	return AUDITEVENT_OTHER;
}

#define KEY(k)	(klen == sizeof(k) - 1 && memcmp(key.p, k, sizeof(k) - 1) == 0)

/* Stores a field the readers know; ignores every other one. */
static int
take_field(struct scan *sc, struct auditevent *ev, const struct auditstr key,
    const struct val *v, unsigned *seen, unsigned nfield)
{
	size_t klen = key.len;
	unsigned bit = 0, slot = 0;

	/* Common fields. */
	if (KEY("v"))
		slot = SEEN_V;
	else if (KEY("seq"))
		slot = SEEN_SEQ;
	else if (KEY("ts"))
		slot = SEEN_TS;
	else if (KEY("event"))
		slot = SEEN_EVENT;
	else if (KEY("session"))
		slot = SEEN_SESSION;
	else if (KEY("prev"))
		slot = SEEN_PREV;
	if (slot != 0) {
		if (*seen & slot)
			return fail(sc, "duplicate field");
		*seen |= slot;
		/* The writer's order: v, seq, ts, event, session first. */
		if ((slot == SEEN_V && nfield != 0) ||
		    (slot == SEEN_SEQ && nfield != 1) ||
		    (slot == SEEN_TS && nfield != 2) ||
		    (slot == SEEN_EVENT && nfield != 3) ||
		    (slot == SEEN_SESSION && nfield != 4))
			ev->order_ok = false;
		switch (slot) {
		case SEEN_V:
			if (v->type != V_INT || v->neg)
				return fail(sc, "v is not an unsigned integer");
			ev->v = v->mag;
			return 0;
		case SEEN_SEQ:
			if (v->type != V_INT || v->neg)
				return fail(sc, "seq is not an unsigned integer");
			ev->seq = v->mag;
			return 0;
		case SEEN_TS:
			if (v->type != V_STR || auditevent_parse_time(v->s.p,
			    v->s.len, &ev->ts_us) == -1)
				return fail(sc, "ts is not an RFC 3339 UTC time");
			ev->ts = v->s;
			ev->ts_exact = v->s.len == 27 && v->s.p[19] == '.';
			return 0;
		case SEEN_EVENT:
			if (v->type != V_STR)
				return fail(sc, "event is not a string");
			ev->event = v->s;
			ev->kind = event_kind(&v->s);
			return 0;
		case SEEN_SESSION:
			if (v->type == V_NULL)
				return 0;
			if (v->type != V_STR)
				return fail(sc, "session is not a string or null");
			ev->session = v->s;
			return 0;
		default:
			if (v->type != V_STR)
				return fail(sc, "prev is not a string");
			ev->prev = v->s;
			return 0;
		}
	}

	/* Event fields: typed when present, by name whatever the event. */
	if (KEY("label"))
		bit = AUDITEVENT_LABEL;
	else if (KEY("ttl_s"))
		bit = AUDITEVENT_TTL;
	else if (KEY("key_ttl_s"))
		bit = AUDITEVENT_KEY_TTL;
	else if (KEY("duration_s"))
		bit = AUDITEVENT_DURATION;
	else if (KEY("exit_code"))
		bit = AUDITEVENT_EXIT_CODE;
	else if (KEY("signal"))
		bit = AUDITEVENT_SIGNAL;
	else if (KEY("core_dumped"))
		bit = AUDITEVENT_CORE;
	else if (KEY("ok"))
		bit = AUDITEVENT_OK;
	else if (KEY("exit_reason") || KEY("reason"))
		bit = AUDITEVENT_REASON;
	else if (KEY("fingerprint"))
		bit = AUDITEVENT_FINGERPRINT;
	else if (KEY("host")) {
		/* Other events may name a host in another shape: only a
		 * string is the machine's name. */
		if (v->type != V_STR)
			return 0;
		bit = AUDITEVENT_HOST;
	} else
		return 0;
	if (*seen & (bit << 8))
		return fail(sc, "duplicate field");
	*seen |= bit << 8;
	switch (bit) {
	case AUDITEVENT_HOST:
		ev->host = v->s;
		break;
	case AUDITEVENT_LABEL:
	case AUDITEVENT_REASON:
	case AUDITEVENT_FINGERPRINT:
		if (v->type == V_NULL)
			return 0;
		if (v->type != V_STR)
			return fail(sc, "a text field is not a string");
		if (bit == AUDITEVENT_LABEL)
			ev->label = v->s;
		else if (bit == AUDITEVENT_REASON)
			ev->exit_reason = v->s;
		else
			ev->fingerprint = v->s;
		break;
	case AUDITEVENT_TTL:
	case AUDITEVENT_KEY_TTL:
	case AUDITEVENT_DURATION:
		if (v->type != V_INT || v->neg)
			return fail(sc, "a seconds field is not an unsigned integer");
		if (bit == AUDITEVENT_TTL)
			ev->ttl_s = v->mag;
		else if (bit == AUDITEVENT_KEY_TTL)
			ev->key_ttl_s = v->mag;
		else
			ev->duration_s = v->mag;
		break;
	case AUDITEVENT_EXIT_CODE:
	case AUDITEVENT_SIGNAL:
		if (v->type == V_NULL)
			return 0;
		if (v->type != V_INT || v->mag > INT32_MAX)
			return fail(sc, "exit_code or signal is not an integer");
		if (bit == AUDITEVENT_EXIT_CODE)
			ev->exit_code = v->neg ? -(int64_t)v->mag : (int64_t)v->mag;
		else
			ev->signal = v->neg ? -(int64_t)v->mag : (int64_t)v->mag;
		break;
	default:
		if (v->type != V_TRUE && v->type != V_FALSE)
			return fail(sc, "ok or core_dumped is not a boolean");
		if (bit == AUDITEVENT_OK)
			ev->ok = v->type == V_TRUE;
		else
			ev->core_dumped = v->type == V_TRUE;
		break;
	}
	ev->has |= bit;
	return 0;
}

int
auditevent_parse(char *buf, size_t len, struct auditevent *ev,
    const char **why)
{
	struct scan sc = { buf, buf + len, NULL };
	struct auditstr key;
	struct val v;
	unsigned seen = 0, nfield = 0;
	bool last_prev = false;

	memset(ev, 0, sizeof(*ev));
	ev->order_ok = true;
	skip_ws(&sc);
	if (sc.p >= sc.end || *sc.p != '{') {
		*why = "not a JSON object";
		return -1;
	}
	sc.p++;
	skip_ws(&sc);
	if (sc.p < sc.end && *sc.p == '}') {
		sc.p++;
		goto done;
	}
	for (;;) {
		skip_ws(&sc);
		if (sc.p >= sc.end || *sc.p != '"') {
			fail(&sc, "expected a key");
			goto bad;
		}
		sc.p++;
		if (scan_string(&sc, &key) == -1)
			goto bad;
		skip_ws(&sc);
		if (sc.p >= sc.end || *sc.p != ':') {
			fail(&sc, "expected ':' after a key");
			goto bad;
		}
		sc.p++;
		if (scan_value(&sc, &v, 1) == -1 ||
		    take_field(&sc, ev, key, &v, &seen, nfield) == -1)
			goto bad;
		last_prev = key.len == 4 && memcmp(key.p, "prev", 4) == 0;
		nfield++;
		skip_ws(&sc);
		if (sc.p >= sc.end) {
			fail(&sc, "unterminated object");
			goto bad;
		}
		if (*sc.p == ',') {
			sc.p++;
			continue;
		}
		if (*sc.p == '}') {
			sc.p++;
			break;
		}
		fail(&sc, "expected ',' or '}'");
		goto bad;
	}
done:
	skip_ws(&sc);
	if (sc.p != sc.end) {
		*why = "bytes after the JSON object";
		return -1;
	}
	if ((seen & SEEN_REQUIRED) != SEEN_REQUIRED) {
		if (!(seen & SEEN_V))
			*why = "missing field v";
		else if (!(seen & SEEN_SEQ))
			*why = "missing field seq";
		else if (!(seen & SEEN_TS))
			*why = "missing field ts";
		else if (!(seen & SEEN_EVENT))
			*why = "missing field event";
		else if (!(seen & SEEN_SESSION))
			*why = "missing field session";
		else
			*why = "missing field prev";
		return -1;
	}
	if (!last_prev)
		ev->order_ok = false;
	return 0;
bad:
	*why = sc.why;
	return -1;
}
