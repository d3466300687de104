/*
 * The main of every Check suite: runs it and exits 0 when every test passed.
 * Tests fork as Check does by default; CK_FORK=no runs them in-process, for
 * a debugger.
 */
#ifndef AGENTD_CHECKRUN_H
#define AGENTD_CHECKRUN_H

#include <stdlib.h>

#include <check.h>

static inline int
check_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
