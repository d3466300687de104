/*
 * Appends with signed checkpoints against appends without, in one run
 * (issue 15: with >= 0.95 x without). Each line goes through lib/auditlog
 * exactly as the daemon writes it (one write(2), fsync) and looks like a
 * key_used event; "with" adds the daemon's rule: a checkpoint line
 * (lib/checkpoint, Ed25519) once CHECKPOINT_EVERY lines are unsigned.
 * The two logs take one line each in turn, so that a disk or a neighbour
 * slowing down hits both alike. Prints lines/s of each round, the medians and
 * their ratio. Usage: checkpoint-append DIR [LINES_PER_ROUND [ROUNDS]]
 * (defaults 5000 and 5).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auditlog.h"
#include "checkpoint.h"

struct signer {
	struct auditlog		*log;
	struct checkpoint_key	*key;
	struct checkpoint_pub	 pub;
	uint64_t		 signed_seq;
	int			 writing;
	uint64_t		 checkpoints;
};

/* The daemon's hook (agentd/checkpoint.c), without the timer. */
static void
signer_logged(void *arg, uint64_t seq)
{
	struct signer *sg = arg;
	struct jsonw *w;
	char sig[CHECKPOINT_SIG_B64 + 1], *cause = NULL;
	uint64_t cs;

	if (sg->writing || seq - sg->signed_seq < CHECKPOINT_EVERY)
		return;
	cs = auditlog_last_seq(sg->log) + 1;
	w = auditlog_begin(sg->log, "checkpoint", NULL);
	if (checkpoint_sign(sg->key, "bench", 5, cs, auditlog_head(sg->log),
	    sig) == -1) {
		fprintf(stderr, "sign failed\n");
		exit(1);
	}
	jsonw_str(w, "host", "bench");
	jsonw_str(w, "head", auditlog_head(sg->log));
	jsonw_str(w, "key_id", sg->pub.key_id);
	jsonw_str(w, "sig", sig);
	sg->writing = 1;
	if (auditlog_commit(sg->log, &cause) == -1) {
		fprintf(stderr, "checkpoint: %s\n", cause ? cause : "?");
		exit(1);
	}
	sg->writing = 0;
	sg->signed_seq = cs;
	sg->checkpoints++;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct auditlog *
open_fresh(int dirfd, const char *name)
{
	struct auditlog *log;
	char *cause = NULL;

	(void)unlinkat(dirfd, name, 0);
	if ((log = auditlog_open(dirfd, name, NULL, &cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", name, cause ? cause : "?");
		exit(1);
	}
	return log;
}

/* Appends one key_used-like line; returns the seconds it took. */
static double
append_one(struct auditlog *log)
{
	struct jsonw *w;
	char *cause = NULL;
	double t0 = now_s();

	w = auditlog_begin(log, "key_used", "qjggk7fj42vhokayc4zqhkmlku");
	jsonw_str(w, "fingerprint", "SHA256:Vt6yV0qhmoXTwK7ahl1yMIO9rQ1s4kbq"
	    "NxldjMl8nIc");
	jsonw_bool(w, "ok", 1);
	jsonw_null(w, "dest_hostkey");
	jsonw_bool(w, "forwarded", 0);
	jsonw_int(w, "client_pid", 4242);
	if (auditlog_commit(log, &cause) == -1) {
		fprintf(stderr, "append: %s\n", cause ? cause : "?");
		exit(1);
	}
	return now_s() - t0;
}

/*
 * One round: n lines to each of two fresh logs, one line to each in turn
 * (the order swapped every line), so that whatever the disk or the
 * neighbours do hits both alike. Each log's rate counts only the time of
 * its own appends (a checkpoint is part of the append that triggered it).
 */
static void
round_run(int dirfd, int n, struct signer *sg, double *without, double *with)
{
	struct auditlog *a, *b;
	double ta = 0, tb = 0;
	int i;

	a = open_fresh(dirfd, "without.jsonl");
	b = open_fresh(dirfd, "with.jsonl");
	sg->log = b;
	sg->signed_seq = 0;
	auditlog_on_commit(b, signer_logged, sg);
	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			ta += append_one(a);
			tb += append_one(b);
		} else {
			tb += append_one(b);
			ta += append_one(a);
		}
	}
	auditlog_close(a);
	auditlog_close(b);
	(void)unlinkat(dirfd, "without.jsonl", 0);
	(void)unlinkat(dirfd, "with.jsonl", 0);
	*without = n / ta;
	*with = n / tb;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct signer sg;
	double with[64], without[64], ratio[64], mw, mo;
	char *cause = NULL;
	int dirfd, n, rounds, r, created;

	if (argc < 2) {
		fprintf(stderr, "usage: checkpoint-append DIR [LINES [ROUNDS]]\n");
		return 2;
	}
	n = argc > 2 ? atoi(argv[2]) : 5000;
	rounds = argc > 3 ? atoi(argv[3]) : 5;
	if (n < 1 || rounds < 1 || rounds > 64)
		return 2;
	if (sodium_init() < 0 ||
	    (dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&sg, 0, sizeof(sg));
	if ((sg.key = checkpoint_key_load(dirfd, "bench.key", "bench.key", 1,
	    &created, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause ? cause : "?");
		return 1;
	}
	checkpoint_key_public(sg.key, &sg.pub);
	for (r = 0; r < rounds; r++) {
		round_run(dirfd, n, &sg, &without[r], &with[r]);
		ratio[r] = with[r] / without[r];
		printf("round %d: without %.0f lines/s, with %.0f lines/s, "
		    "ratio %.3f\n", r + 1, without[r], with[r], ratio[r]);
		fflush(stdout);
	}
	checkpoint_key_free(sg.key);
	(void)unlinkat(dirfd, "bench.key", 0);
	qsort(with, (size_t)rounds, sizeof(double), cmp_double);
	qsort(without, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
	mw = with[rounds / 2];
	mo = without[rounds / 2];
	printf("median: without %.0f lines/s, with %.0f lines/s (%llu "
	    "checkpoints in all): ratio of medians %.3f, median of the "
	    "rounds' ratios %.3f (target >= 0.95)\n", mo, mw,
	    (unsigned long long)sg.checkpoints, mw / mo, ratio[rounds / 2]);
	return 0;
}
