/* libFuzzer target: the audit log line parser and the session fold over
 * arbitrary bytes, both in list mode (rows kept) and drop-ended mode, plus the
 * percentile table they feed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auditevent.h"
#include "auditfold.h"
#include "audithist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_end(const struct auditfold *f, const struct auditfold_row *r, void *arg)
{
	size_t len;

	(void)auditfold_str(f, r->exit_reason, &len);
	(void)audithist_add(arg, r->duration_s);
}

static void
fold_bytes(const uint8_t *data, size_t size, int drop)
{
	const struct auditfold_row *r;
	struct audithist *h = audithist_new();
	struct auditfold *f;
	size_t i, len;
	int sv[2];

	if (h == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		audithist_free(h);
		return;
	}
	if (size > 0)
		(void)!write(sv[1], data, size);
	close(sv[1]);
	if ((f = auditfold_new(drop ? on_end : NULL, h)) != NULL) {
		(void)auditfold_read_fd(f, sv[0], NULL, NULL);
		for (i = 0; i < auditfold_nrows(f); i++) {
			r = auditfold_row(f, i);
			if (r->state != AUDITFOLD_FREE) {
				(void)auditfold_str(f, r->label, &len);
				(void)auditfold_find(f, r->id, r->idlen);
			}
		}
		auditfold_free(f);
	}
	close(sv[0]);
	if (audithist_finish(h) == 0) {
		(void)audithist_quantile(h, 990);
		(void)audithist_count_range(h, 1, 100);
	}
	audithist_free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auditevent ev;
	const char *why;
	char *line;

	if (size > 100000)
		return 0;
	/* One line exactly as given (no NUL terminator after it). */
	if ((line = malloc(size ? size : 1)) != NULL) {
		memcpy(line, data, size);
		(void)auditevent_parse(line, size, &ev, &why);
		free(line);
	}
	fold_bytes(data, size, 0);
	fold_bytes(data, size, 1);
	return 0;
}
