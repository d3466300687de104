/* checkpoint: the daemon signs its audit chain (DESIGN §11).
 *
 * A `checkpoint` line (lib/checkpoint.h has its form and the signed bytes)
 * is written once CHECKPOINT_EVERY lines are unsigned, the interval (60 s by
 * default) after the first unsigned line, into the old file before a
 * rotation switches files, at start when the log does not end with one (the
 * last daemon died), and at clean shutdown. The key is made at first start in
 * S/signing/key (or read from serve --signing-key F) and never leaves the
 * sodium_malloc'ed memory lib/checkpoint keeps it in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "auditlog.h"
#include "checkpoint.h"
#include "privdir.h"
#include "server.h"

static struct {
	struct checkpoint_key	*key;
	struct checkpoint_pub	 pub;
	char			 host[CHECKPOINT_HOST_MAX + 1];
	uint64_t		 signed_seq;	/* the last checkpoint's seq */
	uint64_t		 interval_ns;
	uint64_t		 due_ns;	/* sign by then; 0: nothing due */
	bool			 writing;	/* our own line is being committed */
} ck;

/* The timer exists once start-up set it up; server_run arms it then. */
static void
checkpoint_arm(void)
{
	if (server->timerfd != -1)
		server_timer_at(ck.due_ns);
}

/* Writes a checkpoint when any line is unsigned; 0, or -1 (warned). */
static int
checkpoint_write(const char *why)
{
	struct jsonw *w;
	char sig[CHECKPOINT_SIG_B64 + 1], *cause = NULL;
	uint64_t seq;
	int r;

	if (ck.key == NULL || server->log == NULL ||
	    auditlog_last_seq(server->log) == ck.signed_seq)
		return 0;
	seq = auditlog_last_seq(server->log) + 1;
	w = auditlog_begin(server->log, "checkpoint", NULL);
	if (checkpoint_sign(ck.key, ck.host, strlen(ck.host), seq,
	    auditlog_head(server->log), sig) == -1) {
		auditlog_abort(server->log);
		log_warn("checkpoint (%s) not signed: %s", why, strerror(errno));
		return -1;
	}
	jsonw_str(w, "host", ck.host);
	jsonw_str(w, "head", auditlog_head(server->log));
	jsonw_str(w, "key_id", ck.pub.key_id);
	jsonw_str(w, "sig", sig);
	ck.writing = true;
	r = auditlog_commit(server->log, &cause);
	ck.writing = false;
	if (r == -1) {
		log_warn("%s/audit.jsonl: checkpoint (%s) not written: %s",
		    server->roots.state, why, cause ? cause : "out of memory");
		free(cause);
		/* Again at the next line, or by the timer. */
		ck.due_ns = now_boot_ns() + ck.interval_ns;
		checkpoint_arm();
		return -1;
	}
	ck.signed_seq = seq;
	ck.due_ns = 0;
	return 0;
}

/* auditlog_on_commit: every durable line but our own. */
static void
checkpoint_logged(void *arg, uint64_t seq)
{
	(void)arg;
	if (ck.writing)
		return;
	if (seq - ck.signed_seq >= CHECKPOINT_EVERY) {
		(void)checkpoint_write("every 1000 events");
		return;
	}
	if (ck.due_ns == 0) {
		ck.due_ns = now_boot_ns() + ck.interval_ns;
		checkpoint_arm();
	}
}

/* Host names are ASCII in practice; anything else would be decoded from the
 * JSON differently from the bytes signed, so it is replaced. */
static void
checkpoint_host(const char *host)
{
	size_t i;

	strlcpy(ck.host, host[0] != '\0' ? host : "localhost",
	    sizeof(ck.host));
	for (i = 0; ck.host[i] != '\0'; i++) {
		if ((unsigned char)ck.host[i] <= 0x20 ||
		    (unsigned char)ck.host[i] >= 0x7f)
			ck.host[i] = '_';
	}
}

/* The key: serve --signing-key F (absolute), else S/signing/key. */
static int
checkpoint_load_key(const struct serve_opts *opts, char **cause)
{
	char shown[PATH_MAX + 32], dir[PATH_MAX], *slash;
	const char *name;
	int dirfd, created = 0;

	if (opts->signing_key != NULL) {
		strlcpy(dir, opts->signing_key, sizeof(dir));
		slash = strrchr(dir, '/');
		name = opts->signing_key + (slash - dir) + 1;
		*slash = '\0';
		if ((dirfd = open(dir[0] != '\0' ? dir : "/", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1) {
			if (asprintf(cause, "%s: %s", dir[0] ? dir : "/",
			    strerror(errno)) == -1)
				*cause = NULL;
			return -1;
		}
		strlcpy(shown, opts->signing_key, sizeof(shown));
	} else {
		snprintf(shown, sizeof(shown), "%s/signing", server->roots.state);
		if ((dirfd = privdir_at(server->statedirfd, "signing", shown,
		    PRIVDIR_CREATE, cause)) == -1)
			return -1;
		snprintf(shown, sizeof(shown), "%s/signing/key",
		    server->roots.state);
		name = "key";
	}
	ck.key = checkpoint_key_load(dirfd, name, shown, 1, &created, cause);
	close(dirfd);
	if (ck.key == NULL)
		return -1;
	checkpoint_key_public(ck.key, &ck.pub);
	if (created)
		log_warn("%s: new signing key %s (auditctl pubkey%s%s prints "
		    "it: keep a copy off this machine)", shown, ck.pub.key_id,
		    opts->signing_key ? " --key " : "",
		    opts->signing_key ? opts->signing_key : "");
	return 0;
}

int
checkpoint_init(const struct serve_opts *opts, const char *last_event,
    char **cause)
{
	memset(&ck, 0, sizeof(ck));
	ck.interval_ns = (opts->checkpoint_interval ?
	    opts->checkpoint_interval : CHECKPOINT_INTERVAL_S) * NS;
	checkpoint_host(server->host);
	if (checkpoint_load_key(opts, cause) == -1)
		return -1;
	/* A log that ends with a checkpoint is signed to its end. */
	if (strcmp(last_event, "checkpoint") == 0)
		ck.signed_seq = auditlog_last_seq(server->log);
	auditlog_on_commit(server->log, checkpoint_logged, NULL);
	/* The last daemon died before signing its tail: sign it now, so that
	 * no more than CHECKPOINT_EVERY lines are ever unsigned. */
	(void)checkpoint_write("start");
	return 0;
}

void
checkpoint_now(const char *why)
{
	(void)checkpoint_write(why);
}

uint64_t
checkpoint_deadline(void)
{
	return ck.due_ns;
}

void
checkpoint_expire(uint64_t now)
{
	if (ck.due_ns != 0 && ck.due_ns <= now) {
		ck.due_ns = 0;
		(void)checkpoint_write("interval");
	}
}

void
checkpoint_cleanup(void)
{
	if (server->log != NULL)
		auditlog_on_commit(server->log, NULL, NULL);
	checkpoint_key_free(ck.key);	/* wiped */
	ck.key = NULL;
}
