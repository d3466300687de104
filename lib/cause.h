/* cause: the one-line messages lib/ functions hand back through char **cause
 * (STYLE: the library never prints; the program decides what to say). */
#ifndef AGENTD_CAUSE_H
#define AGENTD_CAUSE_H

/*
 * When cause is not NULL, sets *cause to the printf-formatted message
 * (malloc'ed, the caller frees; NULL when memory runs out). errno is kept
 * as it was, so a caller can report the failure it is explaining.
 */
void	cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* cause_set, then errno = error; always returns -1 (for `return
 * cause_fail(cause, EINVAL, "…")`). */
int	cause_fail(char **cause, int error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
