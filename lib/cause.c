/* cause: see cause.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cause.h"

static void
cause_vset(char **cause, const char *fmt, va_list ap)
{
	if (cause != NULL && vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
}

void
cause_set(char **cause, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	errno = saved;
}

int
cause_fail(char **cause, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	errno = error;
	return -1;
}
