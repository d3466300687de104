/* approvalans: a delegate's answer. See approvalans.h. */
#include <math.h>	/* isfinite */
#include <string.h>

#include <cJSON.h>

#include "approvalans.h"

int
approvalans_parse(const char *buf, size_t len, bool *approve,
    uint64_t *for_s, const char **why)
{
	const cJSON *d, *f;
	const char *end = NULL;
	cJSON *root;
	int rc = -1;

	*approve = false;
	*for_s = 0;
	if (len > APPROVALANS_MAX || memchr(buf, '\0', len) != NULL) {
		*why = "answer too long or not text";
		return -1;
	}
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	/* Only white space may follow the object. */
	while (root != NULL && end != NULL && end < buf + len &&
	    strchr(" \t\r\n", *end) != NULL)
		end++;
	if (root == NULL || !cJSON_IsObject(root) || end != buf + len) {
		*why = "answer is not a JSON object";
		goto out;
	}
	d = cJSON_GetObjectItemCaseSensitive(root, "decision");
	if (!cJSON_IsString(d) || (strcmp(d->valuestring, "approve") != 0 &&
	    strcmp(d->valuestring, "deny") != 0)) {
		*why = "answer has no \"decision\": \"approve\" or \"deny\"";
		goto out;
	}
	if ((f = cJSON_GetObjectItemCaseSensitive(root, "for_s")) != NULL &&
	    !cJSON_IsNull(f)) {
		if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) ||
		    f->valuedouble < 0 ||
		    f->valuedouble > (double)APPROVALANS_FOR_MAX ||
		    f->valuedouble != (double)(uint64_t)f->valuedouble) {
			*why = "answer's \"for_s\" is not a whole number of "
			    "seconds in range";
			goto out;
		}
		*for_s = (uint64_t)f->valuedouble;
	}
	*approve = strcmp(d->valuestring, "approve") == 0;
	if (!*approve && *for_s != 0) {
		*approve = false;
		*for_s = 0;
		*why = "answer denies with a \"for_s\"";
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}
