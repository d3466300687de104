/* Unit tests for lib/checkpoint.c: the signed message's bytes, a signature
 * vector made independently (Python cryptography), the key file's checks,
 * the public key's text form, checkpoint lines and the verifier's rules. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "auditevent.h"
#include "auditlog.h"
#include "auditread.h"
#include "checkpoint.h"
#include "checkrun.h"

/* The seed 0x01..0x20, its public key and id, and its signature over
 * (host "host", seq 1001, head 32 × 0xab), from Python's cryptography. */
#define VEC_SECRET	"agentd-ed25519-secret AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"
#define VEC_PUB		"agentd-ed25519 ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ= 4d4dbe917544b079\n"
#define VEC_SIG		"8EQzTazWdW87eUG2JloVZzt0WqiRwMbwYIhTnaLCFHa+QeZkU/8ohYvfPp9Gnqlnkln3wCWkPejvpGlA92TUDg=="
#define HEAD_AB		"abababababababababababababababababababababababababababababababab"

static char	 dir[64];
static int	 dirfd = -1;
static char	*cause;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/check_checkpoint.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dirfd, 0);
	cause = NULL;
}

static void
teardown(void)
{
	free(cause);
	cause = NULL;
	if (dirfd != -1)
		close(dirfd);
	dirfd = -1;
	check_rmtree(dir);
}

static void
put(const char *name, const char *text, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

START_TEST(test_message_bytes)
{
	unsigned char out[CHECKPOINT_MSG_MAX], head[32];
	static const unsigned char want_pre[] = "agentd-checkpoint-v1\x00\x02hx"
	    "\x01\x02\x03\x04\x05\x06\x07\x08";
	char big[CHECKPOINT_HOST_MAX + 2];
	size_t n;

	memset(head, 0xab, sizeof(head));
	n = checkpoint_message(out, "hx", 2, 0x0102030405060708ULL, head);
	ck_assert_uint_eq(n, 20 + 2 + 2 + 8 + 32);
	ck_assert_mem_eq(out, want_pre, sizeof(want_pre) - 1);
	ck_assert_mem_eq(out + n - 32, head, 32);
	/* Host bounds: empty and 256 bytes are refused, 255 taken. */
	ck_assert_uint_eq(checkpoint_message(out, "", 0, 1, head), 0);
	memset(big, 'a', sizeof(big));
	ck_assert_uint_eq(checkpoint_message(out, big, CHECKPOINT_HOST_MAX + 1,
	    1, head), 0);
	ck_assert_uint_eq(checkpoint_message(out, big, CHECKPOINT_HOST_MAX, 1,
	    head), CHECKPOINT_MSG_MAX);
}
END_TEST

START_TEST(test_vector)
{
	struct checkpoint_key *key;
	struct checkpoint_pub pub, want;
	char sig[CHECKPOINT_SIG_B64 + 1], text[CHECKPOINT_PUB_TEXT];
	const char *why;

	put("key", VEC_SECRET, 0600);
	key = checkpoint_key_load(dirfd, "key", "key", 0, NULL, &cause);
	ck_assert_msg(key != NULL, "%s", cause ? cause : "?");
	checkpoint_key_public(key, &pub);
	checkpoint_pub_format(&pub, text);
	ck_assert_str_eq(text, VEC_PUB);
	ck_assert_int_eq(checkpoint_pub_parse(VEC_PUB, strlen(VEC_PUB), &want,
	    &why), 0);
	ck_assert_mem_eq(want.pk, pub.pk, 32);
	ck_assert_str_eq(want.key_id, "4d4dbe917544b079");
	ck_assert_int_eq(checkpoint_sign(key, "host", 4, 1001, HEAD_AB, sig), 0);
	ck_assert_str_eq(sig, VEC_SIG);
	/* A head that is not 64 lowercase hex digits is refused. */
	ck_assert_int_eq(checkpoint_sign(key, "host", 4, 1001, "ABAB", sig), -1);
	checkpoint_key_free(key);
}
END_TEST

static char line[1024];

static const char *
mkline(const char *host, uint64_t seq, const char *head, const char *kid,
    const char *sig, const char *prev)
{
	snprintf(line, sizeof(line), "{\"v\":1,\"seq\":%llu,\"ts\":"
	    "\"2026-11-23T11:06:33.123456Z\",\"event\":\"checkpoint\","
	    "\"session\":null,\"host\":\"%s\",\"head\":\"%s\",\"key_id\":\"%s\","
	    "\"sig\":\"%s\",\"prev\":\"%s\"}", (unsigned long long)seq, host,
	    head, kid, sig, prev);
	return line;
}

START_TEST(test_parse_verify)
{
	struct checkpoint cp;
	struct checkpoint_pub pub;
	const char *why, *l;

	ck_assert_int_eq(checkpoint_pub_parse(VEC_PUB, strlen(VEC_PUB), &pub,
	    &why), 0);
	l = mkline("host", 1001, HEAD_AB, "4d4dbe917544b079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), 0);
	ck_assert_uint_eq(cp.seq, 1001);
	ck_assert_str_eq(cp.host, "host");
	ck_assert_int_eq(checkpoint_verify(&cp, &pub, &why), 0);
	ck_assert_int_eq(checkpoint_verify(&cp, NULL, &why), 0);

	/* Each signed field changed: the signature fails. */
	l = mkline("hosT", 1001, HEAD_AB, "4d4dbe917544b079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), 0);
	ck_assert_int_eq(checkpoint_verify(&cp, &pub, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "bad signature"));
	l = mkline("host", 1002, HEAD_AB, "4d4dbe917544b079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), 0);
	ck_assert_int_eq(checkpoint_verify(&cp, &pub, &why), -1);
	l = mkline("host", 1001, HEAD_AB "x", "4d4dbe917544b079", VEC_SIG,
	    HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), -1);
	/* head and prev disagree: refused without a key too. */
	l = mkline("host", 1001, HEAD_AB, "4d4dbe917544b079", VEC_SIG,
	    "cdababababababababababababababababababababababababababababababab");
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), 0);
	ck_assert_int_eq(checkpoint_verify(&cp, NULL, &why), -1);
	/* Another key id. */
	l = mkline("host", 1001, HEAD_AB, "0000000000000000", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), 0);
	ck_assert_int_eq(checkpoint_verify(&cp, &pub, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "another key"));
	/* Malformed fields. */
	l = mkline("host", 1001, HEAD_AB, "4D4DBE917544B079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), -1);
	l = mkline("", 1001, HEAD_AB, "4d4dbe917544b079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), -1);
	l = mkline("host", 1001, HEAD_AB, "4d4dbe917544b079", "AAAA", HEAD_AB);
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), -1);
	l = "{\"v\":1,\"seq\":3,\"event\":\"checkpoint\",\"session\":\"x\"}";
	ck_assert_int_eq(checkpoint_parse(l, strlen(l), &cp, &why), -1);
	ck_assert_int_eq(checkpoint_parse("{", 1, &cp, &why), -1);
}
END_TEST

START_TEST(test_pub_parse)
{
	struct checkpoint_pub pub;
	const char *why;
	char s[256];

	/* Without the key id, and without the newline. */
	snprintf(s, sizeof(s), "%.*s", 59, VEC_PUB);
	ck_assert_int_eq(checkpoint_pub_parse(s, strlen(s), &pub, &why), 0);
	ck_assert_str_eq(pub.key_id, "4d4dbe917544b079");
	/* A key id that is not the key's own. */
	snprintf(s, sizeof(s), "%.*s 4d4dbe917544b07a\n", 59, VEC_PUB);
	ck_assert_int_eq(checkpoint_pub_parse(s, strlen(s), &pub, &why), -1);
	ck_assert_int_eq(checkpoint_pub_parse("ssh-ed25519 AAAA", 16, &pub,
	    &why), -1);
	ck_assert_int_eq(checkpoint_pub_parse(VEC_SECRET, strlen(VEC_SECRET),
	    &pub, &why), -1);
	snprintf(s, sizeof(s), "%s trailing", VEC_PUB);
	ck_assert_int_eq(checkpoint_pub_parse(s, strlen(s), &pub, &why), -1);
}
END_TEST

START_TEST(test_key_file)
{
	struct checkpoint_key *a, *b;
	struct checkpoint_pub pa, pb;
	struct stat st;
	int created;

	/* Made once, 0600, then loaded as is; no temporary file left. */
	a = checkpoint_key_load(dirfd, "k", "k", 1, &created, &cause);
	ck_assert_msg(a != NULL, "%s", cause ? cause : "?");
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(fstatat(dirfd, "k", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	b = checkpoint_key_load(dirfd, "k", "k", 1, &created, &cause);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(created, 0);
	checkpoint_key_public(a, &pa);
	checkpoint_key_public(b, &pb);
	ck_assert_mem_eq(pa.pk, pb.pk, 32);
	checkpoint_key_free(a);
	checkpoint_key_free(b);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
		ck_assert_int_eq(system(cmd), 0);
	}

	/* Missing without create. */
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "none", "none", 0, NULL,
	    &cause));
	ck_assert_int_eq(errno, ENOENT);
	free(cause);
	cause = NULL;
	/* Group-readable: refused, left as it is. */
	put("g", VEC_SECRET, 0640);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "g", "g", 1, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "mode 0640"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(fstatat(dirfd, "g", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	/* A symlink to a good key: refused, never followed. */
	put("good", VEC_SECRET, 0600);
	ck_assert_int_eq(symlinkat("good", dirfd, "link"), 0);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "link", "link", 1, NULL,
	    &cause));
	ck_assert_ptr_nonnull(strstr(cause, "symbolic link"));
	free(cause);
	cause = NULL;
	/* Not a key: a public key, a short seed, extra text; a directory. */
	put("pub", VEC_PUB, 0600);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "pub", "pub", 0, NULL,
	    &cause));
	ck_assert_ptr_nonnull(strstr(cause, "not an agentd signing key"));
	ck_assert_ptr_null(strstr(cause, "AQID"));	/* no key bytes */
	free(cause);
	cause = NULL;
	put("short", "agentd-ed25519-secret AQID\n", 0600);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "short", "short", 0, NULL,
	    NULL));
	put("extra", VEC_SECRET "x", 0600);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "extra", "extra", 0, NULL,
	    NULL));
	ck_assert_int_eq(mkdirat(dirfd, "d", 0700), 0);
	ck_assert_ptr_null(checkpoint_key_load(dirfd, "d", "d", 0, NULL, NULL));
}
END_TEST

/* Feeds n plain lines to the checker. */
static void
plain(struct checkpoint_check *cc, int n)
{
	const char *why;
	const char *l = "{\"v\":1,\"event\":\"created\"}";

	while (n-- > 0) {
		ck_assert_int_eq(checkpoint_check_raw(cc, l, strlen(l)), 0);
		ck_assert_int_eq(checkpoint_check_line(cc, false, &why), 0);
	}
}

START_TEST(test_check_rules)
{
	struct checkpoint_check cc;
	struct checkpoint_pub pub;
	const char *why = NULL, *l;

	ck_assert_int_eq(checkpoint_pub_parse(VEC_PUB, strlen(VEC_PUB), &pub,
	    &why), 0);
	/* With a key, nothing signed is a failure; without one it is not. */
	checkpoint_check_init(&cc, &pub);
	plain(&cc, 3);
	ck_assert_int_eq(checkpoint_check_end(&cc, &why), -1);
	checkpoint_check_free(&cc);
	checkpoint_check_init(&cc, NULL);
	plain(&cc, 3);
	ck_assert_int_eq(checkpoint_check_end(&cc, &why), 0);
	checkpoint_check_free(&cc);

	/* A checkpoint, then at most 1000 unsigned lines: fine; 1001: not. */
	checkpoint_check_init(&cc, &pub);
	plain(&cc, 1000);
	l = mkline("host", 1001, HEAD_AB, "4d4dbe917544b079", VEC_SIG, HEAD_AB);
	ck_assert_int_eq(checkpoint_check_raw(&cc, l, strlen(l)), 0);
	ck_assert_int_eq(checkpoint_check_line(&cc, true, &why), 0);
	ck_assert_uint_eq(cc.last_seq, 1001);
	plain(&cc, CHECKPOINT_EVERY);
	ck_assert_int_eq(checkpoint_check_end(&cc, &why), 0);
	ck_assert_uint_eq(cc.tail, CHECKPOINT_EVERY);
	plain(&cc, 1);
	ck_assert_int_eq(checkpoint_check_end(&cc, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "checkpoints were removed"));

	/* An event name hidden in escapes is not the writer's checkpoint. */
	l = "{\"v\":1,\"event\":\"check\\u0070oint\"}";
	ck_assert_int_eq(checkpoint_check_raw(&cc, l, strlen(l)), 0);
	ck_assert_int_eq(checkpoint_check_line(&cc, true, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "writer's form"));
	checkpoint_check_free(&cc);
}
END_TEST

/* The daemon's rule on lib/auditlog's hook: a checkpoint after every 1000
 * lines, written from inside the hook (which is not re-entered for it). */
struct hooked {
	struct auditlog		*log;
	struct checkpoint_key	*key;
	struct checkpoint_pub	 pub;
	uint64_t		 signed_seq, calls;
};

static void
hooked_logged(void *arg, uint64_t seq)
{
	struct hooked *hk = arg;
	struct jsonw *w;
	char sig[CHECKPOINT_SIG_B64 + 1];
	uint64_t cs;

	hk->calls++;
	ck_assert_uint_eq(seq, auditlog_last_seq(hk->log));
	if (seq - hk->signed_seq < CHECKPOINT_EVERY)
		return;
	cs = seq + 1;
	w = auditlog_begin(hk->log, "checkpoint", NULL);
	ck_assert_int_eq(checkpoint_sign(hk->key, "h", 1, cs,
	    auditlog_head(hk->log), sig), 0);
	jsonw_str(w, "host", "h");
	jsonw_str(w, "head", auditlog_head(hk->log));
	jsonw_str(w, "key_id", hk->pub.key_id);
	jsonw_str(w, "sig", sig);
	ck_assert_int_eq(auditlog_commit(hk->log, NULL), 0);
	hk->signed_seq = cs;
}

START_TEST(test_auditlog_hook)
{
	struct hooked hk;
	struct auditlog_openinfo info;
	struct checkpoint_check cc;
	struct auditread *rd;
	struct auditread_line l;
	struct auditevent ev;
	const char *why;
	int i, fd, rc;

	memset(&hk, 0, sizeof(hk));
	put("key", VEC_SECRET, 0600);
	hk.key = checkpoint_key_load(dirfd, "key", "key", 0, NULL, NULL);
	ck_assert_ptr_nonnull(hk.key);
	checkpoint_key_public(hk.key, &hk.pub);
	hk.log = auditlog_open(dirfd, "a.jsonl", &info, &cause);
	ck_assert_ptr_nonnull(hk.log);
	ck_assert_str_eq(info.last_event, "");
	ck_assert_str_eq(auditlog_head(hk.log), "0000000000000000000000000000"
	    "000000000000000000000000000000000000");
	auditlog_on_commit(hk.log, hooked_logged, &hk);
	for (i = 0; i < 1200; i++) {
		auditlog_begin(hk.log, "created", "s");
		ck_assert_int_eq(auditlog_commit(hk.log, NULL), 0);
	}
	/* Called once per line of ours, never for the checkpoints. */
	ck_assert_uint_eq(hk.calls, 1200);
	ck_assert_uint_eq(auditlog_last_seq(hk.log), 1201);
	ck_assert_int_eq(auditlog_moved(hk.log, dirfd), 0);
	ck_assert_int_eq(renameat(dirfd, "a.jsonl", dirfd, "a.1.jsonl"), 0);
	ck_assert_int_eq(auditlog_moved(hk.log, dirfd), 1);
	ck_assert_int_eq(renameat(dirfd, "a.1.jsonl", dirfd, "a.jsonl"), 0);
	auditlog_close(hk.log);

	/* A checkpoint at 1001, valid; a tail of 200. */
	fd = openat(dirfd, "a.jsonl", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	rd = auditread_open(fd);
	checkpoint_check_init(&cc, &hk.pub);
	while ((rc = auditread_next(rd, &l)) == 1) {
		ck_assert_int_eq(checkpoint_check_raw(&cc, l.buf, l.len), 0);
		ck_assert_int_eq(auditevent_parse(l.buf, l.len, &ev, &why), 0);
		ck_assert_int_eq(checkpoint_check_line(&cc, ev.event.len == 10 &&
		    memcmp(ev.event.p, "checkpoint", 10) == 0, &why), 0);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(cc.checkpoints, 1);
	ck_assert_uint_eq(cc.last_seq, 1001);
	ck_assert_uint_eq(cc.tail, 200);
	ck_assert_int_eq(checkpoint_check_end(&cc, &why), 0);
	checkpoint_check_free(&cc);
	auditread_free(rd);
	close(fd);

	/* Reopened: the last line's event is known. */
	hk.log = auditlog_open(dirfd, "a.jsonl", &info, NULL);
	ck_assert_str_eq(info.last_event, "created");
	auditlog_close(hk.log);
	checkpoint_key_free(hk.key);
}
END_TEST

static Suite *
checkpoint_suite(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_message_bytes);
	tcase_add_test(tc, test_vector);
	tcase_add_test(tc, test_parse_verify);
	tcase_add_test(tc, test_pub_parse);
	tcase_add_test(tc, test_key_file);
	tcase_add_test(tc, test_check_rules);
	suite_add_tcase(s, tc);
	/* 1200 fsync'ed lines: slow on a busy disk. */
	tc = tcase_create("hook");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_auditlog_hook);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(checkpoint_suite());
}
