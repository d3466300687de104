/*
 * What every Check suite shares. check_run is the suite's main: it runs it
 * and exits 0 when every test passed. Tests fork as Check does by default;
 * CK_FORK=no runs them in-process, for a debugger.
 */
#ifndef AGENTD_CHECKRUN_H
#define AGENTD_CHECKRUN_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

static inline int
check_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;	/* on with the rest */
}

/* Removes a directory tree, as much of it as it can (a test's leftovers). */
static inline void
check_rmtree(const char *path)
{
	(void)nftw(path, check_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

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
