/* libFuzzer target: a control request as the daemon reads it, framed and
 * parsed, with the typed field accessors it uses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlmsg_in in;
	uint64_t v;
	cJSON *obj;
	int sv[2];

	memset(&in, 0, sizeof(in));
	if (size > 70000 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return 0;
	if (size > 0)
		(void)!write(sv[1], data, size);
	close(sv[1]);
	while (ctlmsg_read(sv[0], &in) == 0)
		;
	if (in.body != NULL && in.have == in.bodylen &&
	    (obj = ctlmsg_parse(&in)) != NULL) {
		(void)ctlmsg_get_str(obj, "cmd");
		(void)ctlmsg_get_uint(obj, "ttl_s", 1, UINT32_MAX, &v);
		cJSON_Delete(obj);
	}
	ctlmsg_in_reset(&in);
	close(sv[0]);
	return 0;
}
