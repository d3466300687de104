/* libFuzzer target: the streaming log reader over arbitrary bytes, and JSON
 * parsing of each line as the daemon's recovery scan does. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "auditread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auditread_line l;
	struct auditread *r;
	cJSON *obj;
	int sv[2];

	if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	if (size > 0)
		(void)!write(sv[1], data, size);
	close(sv[1]);
	if ((r = auditread_open(sv[0])) != NULL) {
		while (auditread_next(r, &l) == 1) {
			if ((obj = cJSON_ParseWithLength(l.buf, l.len)) != NULL)
				cJSON_Delete(obj);
		}
		auditread_free(r);
	}
	close(sv[0]);
	return 0;
}
