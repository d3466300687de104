/* ackscan: V2 recorder ack stream frames. See ackscan.h. */
#include <string.h>

#include <bsd/string.h>
#include <cJSON.h>

#include "ackscan.h"

int
ackscan_feed(struct ackscan *s, const char *buf, size_t n, size_t *used)
{
	size_t i;
	char ch;

	*used = 0;
	if (s->err != 0)
		return s->err;
	if (s->depth == 0)
		s->len = 0;	/* the frame handed out last time */
	for (i = 0; i < n; i++) {
		ch = buf[i];
		if (s->depth == 0) {
			if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
				continue;
			if (ch != '{') {
				*used = i;
				return s->err = ACKSCAN_EMALFORMED;
			}
		}
		if (s->len >= sizeof(s->frame)) {
			*used = i;
			return s->err = ACKSCAN_ETOOBIG;
		}
		s->frame[s->len++] = ch;
		if (s->instr) {
			if (s->esc)
				s->esc = false;
			else if (ch == '\\')
				s->esc = true;
			else if (ch == '"')
				s->instr = false;
		} else if (ch == '"')
			s->instr = true;
		else if (ch == '{')
			s->depth++;
		else if (ch == '}' && --s->depth == 0) {
			*used = i + 1;
			return ACKSCAN_FRAME;
		}
	}
	*used = n;
	return ACKSCAN_MORE;
}

int
ackscan_decode(const char *frame, size_t len, struct ackframe *f)
{
	const cJSON *ack, *err;
	cJSON *o;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if ((o = cJSON_ParseWithLength(frame, len)) == NULL)
		return ACKSCAN_EJSON;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ACKSCAN_EJSON;
	}
	ack = cJSON_GetObjectItemCaseSensitive(o, "ack");
	err = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (cJSON_IsString(err)) {
		f->kind = ACKFRAME_ERROR;
		strlcpy(f->error, err->valuestring, sizeof(f->error));
	} else if (ack != NULL) {
		/* Not NaN, in range before the cast, whole. */
		if (!cJSON_IsNumber(ack) || !(ack->valuedouble >= 0) ||
		    ack->valuedouble >= 18446744073709551616.0 ||
		    ack->valuedouble != (double)(uint64_t)ack->valuedouble)
			rc = ACKSCAN_EACK;
		else {
			f->kind = ACKFRAME_ACK;
			f->ack = (uint64_t)ack->valuedouble;
		}
	} else
		f->kind = ACKFRAME_NONE;
	cJSON_Delete(o);
	return rc;
}
