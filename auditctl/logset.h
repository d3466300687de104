/* logset: the logs auditctl reads (DESIGN §7, §11): every --log (repeated,
 * globs expanded here with glob(3)), grouped by host into chains, each
 * chain's files ordered by seq (a rotated set is one chain, whatever order
 * the names came in), and folded one chain per thread. */
#ifndef AUDITCTL_LOGSET_H
#define AUDITCTL_LOGSET_H

#include <sys/types.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "auditfold.h"

struct logfile {
	char		*path;
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 first_seq;	/* 0: no line with a seq */
	uint64_t	 last_seq;	/* of the last whole line */
	int		 first_rotated;	/* its first line is log_rotated */
	char		 first_prev[65];	/* its first line's prev ("" unknown) */
	char		 last_hash[65];	/* hash of its last whole line */
	char		*host;
	int		 host_from_log;	/* else the directory's name */
	int		 daemon;	/* an agentd holds its lock */
	int		 copy;		/* wholly within files before: not folded */
	uint64_t	 skip_through;	/* lines up to this seq are folded already */
};

struct logchain {
	const char	 *host;		/* the chain's (its first file's) host */
	struct logfile	**files;	/* by first seq, the longest copy first */
	size_t		  nfiles;
	int		  daemon;	/* an agentd holds one of its files */
	struct auditfold *fold;		/* after logset_run with keep */
	char		 *out;		/* what the worker wrote */
	size_t		  outlen;
	int		  done;
};

struct logset {
	struct logfile	*files;
	size_t		 nfiles;
	struct logchain	*chains;
	size_t		 nchains;
	int		 fresh;		/* no --log and no log yet: empty */
	int		 drop_lead;	/* logset_run drops the first byte written
					   (a separator before the first item) */
};

/* Adds a --log argument (a path or a glob pattern). */
void	 logset_add_opt(const char *arg);
/* The number of --log arguments given. */
size_t	 logset_nopts(void);

/*
 * Opens every log: the --log arguments, then more[0..nmore) (verify's
 * FILE…), or the default log when none is given. With allow_fresh, a
 * default log that does not exist yet is an empty set (ls->fresh). Dies
 * with a one-line error on any file that cannot be read or a pattern that
 * matches nothing.
 */
void	 logset_open(struct logset *, const char *verb, char **more,
	    int nmore, int allow_fresh);
void	 logset_free(struct logset *);

/* Called in a worker thread with a chain folded (c->fold); writes to out. */
typedef void	(*logset_emit)(struct logchain *c, FILE *out, void *arg);

/*
 * Folds every chain, one chain per thread (up to the CPUs; $AUDITCTL_JOBS
 * caps it; serial when on_end is set, as its callback shares state), calls
 * emit for each (may be NULL) and writes what it wrote to stdout in chain
 * order. With keep, each chain's fold stays in c->fold (logset_free frees
 * it); else it is freed once emitted.
 */
void	 logset_run(struct logset *, const char *verb, auditfold_end_cb on_end,
	    void *arg, logset_emit emit, void *emit_arg, int keep);

/* The host of a row: its created event's, else its chain's. */
const char	*logset_row_host(const struct logchain *, const struct auditfold *,
		    const struct auditfold_row *, size_t *len);

#endif
