/*
 * recorder: remote session recorders (see recorder.h), Tailscale's
 * sessionrecording protocol on libcurl's multi interface.
 *
 * Per recorder, in order: HEAD /v2/record over h2c (prior knowledge); 200
 * over HTTP/2 means V2 (POST /v2/record, h2c, the recorder streams {"ack":N}
 * back), anything else V1 (POST /record, HTTP/1.1, Expect: 100-continue,
 * chunked). A stream counts as connected on V2's 200 or V1's 100 Continue:
 * nothing of the cast is handed to curl before, so a failed attempt loses
 * nothing and the next recorder gets the whole stream.
 *
 * curl's sockets join the daemon's epoll set (CURLMOPT_SOCKETFUNCTION); its
 * timer and our own deadlines (dial, list budget, acks, drain) share one
 * timerfd of this module. curl's callbacks only change a stream's state;
 * owners hear of it from recorder_run(), at the top of the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/sys/queue.h>

#include "ackscan.h"
#include "auditlog.h"
#include "bq.h"
#include "curlfn.h"
#include "recorder.h"
#include "server.h"

#define MS		1000000ull
#define FLUSH_NS	(2 * MS)	/* small writes wait this long to batch */
#define FLUSH_BYTES	(64 * 1024)	/* ... unless this much is queued */

enum phase { PH_PROBE, PH_V2, PH_V1 };
enum state { ST_CONNECTING, ST_STREAMING, ST_FAILED, ST_DONE };

struct attempt {
	char	*recorder;
	char	*error;
};

struct recstream {
	TAILQ_ENTRY(recstream)	 entry;
	recorder_cb		*cb;		/* NULL once closed */
	void			*arg;
	enum state		 state;
	enum phase		 phase;
	size_t			 addr;		/* index in the list */
	CURL			*easy;
	struct curl_slist	*hdrs;
	long			 status;	/* last HTTP status line seen */
	char			*fail;		/* why, set from a callback */
	bool			 paused;	/* the read callback said PAUSE */
	bool			 take_all;	/* unpaused: send what is queued */
	bool			 eof;		/* no more writes */
	bool			 notify_connected;
	bool			 notify_end;	/* UNREACHABLE or FAILED owed */
	bool			 dead;		/* free at the next run */
	bool			 cancelled;	/* no further attempt */
	struct bq		 buf;		/* queued, not yet given to curl */
	uint64_t		 queued, sent, acked;
	uint64_t		 dial_ns;	/* connect by then */
	uint64_t		 budget_ns;	/* the whole list by then */
	uint64_t		 ack_ns;	/* V2: next ack by then */
	uint64_t		 flush_ns;	/* unpause by then */
	uint64_t		 since_ns;	/* buf not empty since */
	uint64_t		 drain_ns;	/* closed: done by then */
	struct ackscan		 scan;		/* V2: the ack stream */
	struct attempt		*attempts;
	size_t			 nattempts;
	char			*failed_at;	/* the recorder that failed */
};

struct recsock {
	struct evh	ev;
	curl_socket_t	fd;
};

static struct {
	char			*addrs[RECORDERS_MAX];
	size_t			 naddrs;
	enum recording_policy	 policy;
	char			*message;
	uint64_t		 ack_ns;
	CURLM			*multi;
	int			 timerfd;
	struct evh		 timer_ev;
	uint64_t		 curl_ns;	/* curl's timer, 0 none */
	bool			 running;
	TAILQ_HEAD(, recstream)	 streams;
} rec = { .timerfd = -1 };

static void	stream_try(struct recstream *);
static void	stream_fail(struct recstream *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
static void	rearm(void);

bool
recorder_enabled(void)
{
	return rec.naddrs > 0;
}

enum recording_policy
recorder_policy(void)
{
	return rec.policy;
}

const char *
recorder_message(void)
{
	return rec.message;
}

int
recorder_addr_check(const char *s)
{
	unsigned char a[16];
	char host[64], *end;
	const char *colon;
	size_t hl;
	long port;

	if ((colon = strrchr(s, ':')) == NULL || colon == s)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return -1;
	} else {
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, a) != 1)
			return -1;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return -1;
	return 0;
}

/* --- the loop's side: sockets and the timer ------------------------------- */

static uint64_t
min_ns(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void
rearm(void)
{
	struct recstream *rs;
	struct itimerspec its;
	uint64_t next = rec.curl_ns;

	if (rec.timerfd == -1)
		return;
	TAILQ_FOREACH(rs, &rec.streams, entry) {
		if (rs->dead || (rs->cb != NULL &&
		    (rs->notify_connected || rs->notify_end)))
			next = min_ns(next, 1);	/* owed now */
		if (rs->state == ST_CONNECTING) {
			next = min_ns(next, rs->dial_ns);
			next = min_ns(next, rs->budget_ns);
		} else if (rs->state == ST_STREAMING) {
			next = min_ns(next, rs->ack_ns);
			next = min_ns(next, rs->flush_ns);
			next = min_ns(next, rs->drain_ns);
		}
	}
	memset(&its, 0, sizeof(its));
	if (next != 0) {
		its.it_value.tv_sec = (time_t)(next / 1000000000u);
		its.it_value.tv_nsec = (long)(next % 1000000000u);
	}
	if (timerfd_settime(rec.timerfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		log_warn("recorder timer: %s", strerror(errno));
}

static void
stream_free(struct recstream *rs)
{
	size_t i;

	if (rs->easy != NULL) {
		curl_multi_remove_handle(rec.multi, rs->easy);
		curl_easy_cleanup(rs->easy);
	}
	curl_slist_free_all(rs->hdrs);
	bq_free(&rs->buf);
	for (i = 0; i < rs->nattempts; i++) {
		free(rs->attempts[i].recorder);
		free(rs->attempts[i].error);
	}
	free(rs->attempts);
	free(rs->fail);
	free(rs->failed_at);
	TAILQ_REMOVE(&rec.streams, rs, entry);
	free(rs);
}

/* A small batch goes to curl FLUSH_NS after its first byte came. */
static void
flush_later(struct recstream *rs)
{
	if (rs->flush_ns == 0) {
		rs->flush_ns = rs->since_ns + FLUSH_NS;
		rearm();
	}
}

static void
stream_unpause(struct recstream *rs)
{
	rs->flush_ns = 0;
	rs->take_all = true;
	if (rs->paused && rs->easy != NULL && rs->state == ST_STREAMING) {
		rs->paused = false;
		curl_easy_pause(rs->easy, CURLPAUSE_CONT);
	}
}

/* A transfer is over: the probe decides the version, a POST ends. */
static void
stream_done(struct recstream *rs, CURLcode result)
{
	long code = 0, ver = 0;
	const char *addr = rec.addrs[rs->addr];

	curl_easy_getinfo(rs->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(rs->easy, CURLINFO_HTTP_VERSION, &ver);
	curl_multi_remove_handle(rec.multi, rs->easy);
	curl_easy_cleanup(rs->easy);
	rs->easy = NULL;
	curl_slist_free_all(rs->hdrs);
	rs->hdrs = NULL;
	if (rs->phase == PH_PROBE) {
		if (result == CURLE_COULDNT_CONNECT ||
		    (result == CURLE_OPERATION_TIMEDOUT && code == 0)) {
			/* Nothing listens: V1 would dial the same port again. */
			stream_fail(rs, "%s", curl_easy_strerror(result));
			return;
		}
		rs->phase = result == CURLE_OK && code == 200 &&
		    ver >= CURL_HTTP_VERSION_2_0 ? PH_V2 : PH_V1;
		stream_try(rs);
		return;
	}
	if (rs->fail != NULL)
		stream_fail(rs, "%s", rs->fail);
	else if (result != CURLE_OK)
		stream_fail(rs, "%s", curl_easy_strerror(result));
	else if (code != 200)
		stream_fail(rs, "%s answered HTTP %ld", rs->phase == PH_V2 ?
		    "POST /v2/record" : "POST /record", code);
	else if (rs->state != ST_STREAMING || !rs->eof || rs->buf.len > 0)
		stream_fail(rs, "the recorder ended the upload early");
	else {
		if (rs->phase == PH_V2 && rs->acked != rs->sent)
			log_warn("recorder %s: %llu of %llu bytes acknowledged",
			    addr, (unsigned long long)rs->acked,
			    (unsigned long long)rs->sent);
		rs->state = ST_DONE;
		rs->dead = rs->cb == NULL;
	}
}

static void
check_deadlines(uint64_t now)
{
	struct recstream *rs;

	TAILQ_FOREACH(rs, &rec.streams, entry) {
		if (rs->state == ST_CONNECTING) {
			if (rs->budget_ns != 0 && rs->budget_ns <= now)
				stream_fail(rs, "no recorder within %d s",
				    RECORDER_BUDGET_MS / 1000);
			else if (rs->dial_ns != 0 && rs->dial_ns <= now)
				stream_fail(rs, "no answer within %d s",
				    RECORDER_DIAL_MS / 1000);
		} else if (rs->state == ST_STREAMING) {
			if (rs->ack_ns != 0 && rs->ack_ns <= now)
				stream_fail(rs, "no ack from the recorder in "
				    "%llu ms", (unsigned long long)(rec.ack_ns / MS));
			else if (rs->drain_ns != 0 && rs->drain_ns <= now)
				stream_fail(rs, "the upload did not end in time");
			else if (rs->flush_ns != 0 && rs->flush_ns <= now)
				stream_unpause(rs);
		}
	}
}

/*
 * Everything that reaches an owner goes through here, at the top of the
 * loop: curl's finished transfers, deadlines, then the owed callbacks.
 */
static void
recorder_run(void)
{
	struct recstream *rs, *tmp;
	CURLMsg *m;
	void *p;
	int left;
	bool again;

	if (rec.running)
		return;
	rec.running = true;
	do {
		again = false;
		while ((m = curl_multi_info_read(rec.multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			p = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
			if (p != NULL)
				stream_done(p, m->data.result);
		}
		check_deadlines(now_boot_ns());
		TAILQ_FOREACH_SAFE(rs, &rec.streams, entry, tmp) {
			if (rs->cb != NULL && rs->notify_connected) {
				rs->notify_connected = false;
				rs->cb(rs->arg, RECORDER_CONNECTED);
				again = true;
				break;	/* the owner may have changed the list */
			}
			if (rs->cb != NULL && rs->notify_end) {
				rs->notify_end = false;
				rs->cb(rs->arg, rs->nattempts > 0 &&
				    rs->failed_at == NULL ?
				    RECORDER_UNREACHABLE : RECORDER_FAILED);
				again = true;
				break;
			}
			if (rs->dead)
				stream_free(rs);
		}
	} while (again);
	rec.running = false;
	rearm();
}

static void
sock_ev_cb(struct evh *h, uint32_t events)
{
	struct recsock *s = CONTAINER_OF(h, struct recsock, ev);
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(rec.multi, s->fd, flags, &running);
	recorder_run();
}

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct recsock *s = socketp;
	uint32_t events = 0;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_del(fd);
			curl_multi_assign(rec.multi, fd, NULL);
			ev_free_later(s);	/* its event may be in this batch */
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		s->ev.cb = sock_ev_cb;
		curl_multi_assign(rec.multi, fd, s);
		ev_add(fd, events, &s->ev);
	} else
		ev_mod(fd, events, &s->ev);
	return 0;
}

static int
curl_timer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	rec.curl_ns = ms < 0 ? 0 : now_boot_ns() + (uint64_t)ms * MS;
	if (rec.curl_ns == 0 && ms >= 0)
		rec.curl_ns = 1;
	if (!rec.running)
		rearm();
	return 0;
}

static void
timer_ev_cb(struct evh *h, uint32_t events)
{
	uint64_t exp;
	int running;

	(void)h;
	(void)events;
	(void)!read(rec.timerfd, &exp, sizeof(exp));
	if (rec.curl_ns != 0 && rec.curl_ns <= now_boot_ns()) {
		rec.curl_ns = 0;
		curl_multi_socket_action(rec.multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	recorder_run();
}

/* --- curl's callbacks: state changes only --------------------------------- */

static size_t
read_cb(char *out, size_t size, size_t nitems, void *ud)
{
	struct recstream *rs = ud;
	size_t n = size * nitems;

	if (rs->state != ST_STREAMING || (rs->buf.len == 0 && !rs->eof)) {
		rs->paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (rs->buf.len == 0)
		return 0;	/* the end of the cast */
	/*
	 * curl asks again as soon as the socket takes more, which on a fast
	 * link is after every cast line: hand it batches (FLUSH_BYTES, or
	 * what waited FLUSH_NS), not one DATA frame per PTY read.
	 */
	if (!rs->take_all && !rs->eof && rs->buf.len < FLUSH_BYTES &&
	    now_boot_ns() < rs->since_ns + FLUSH_NS) {
		rs->paused = true;
		flush_later(rs);
		return CURL_READFUNC_PAUSE;
	}
	if (n > rs->buf.len)
		n = rs->buf.len;
	memcpy(out, bq_data(&rs->buf), n);
	bq_consume(&rs->buf, n);
	rs->sent += n;
	if (rs->buf.len == 0)
		rs->take_all = false;
	return n;
}

static void
set_fail(struct recstream *rs, const char *msg)
{
	if (rs->fail == NULL)
		rs->fail = strdup(msg);
}

static void
connected(struct recstream *rs)
{
	if (rs->state != ST_CONNECTING)
		return;
	rs->state = ST_STREAMING;
	rs->dial_ns = rs->budget_ns = 0;
	if (rs->phase == PH_V2)
		rs->ack_ns = now_boot_ns() + rec.ack_ns;
	rs->notify_connected = true;
	rs->flush_ns = 1;	/* unpause from the loop: the header is queued */
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct recstream *rs = ud;
	size_t n = size * nitems;
	const char *sp;

	if (n > 5 && memcmp(buf, "HTTP/", 5) == 0 &&
	    (sp = memchr(buf, ' ', n)) != NULL && sp + 4 <= buf + n)
		rs->status = strtol(sp + 1, NULL, 10);
	else if ((n == 2 && buf[0] == '\r') || (n == 1 && buf[0] == '\n')) {
		/* The end of one response's headers. */
		if ((rs->phase == PH_V1 && rs->status == 100) ||
		    (rs->phase == PH_V2 && rs->status == 200))
			connected(rs);
		else if (rs->phase != PH_PROBE && rs->state == ST_CONNECTING &&
		    rs->status >= 200) {
			/* Refused. Ends the transfer now: curl would wait for a
			 * paused upload. */
			char msg[64];
			snprintf(msg, sizeof(msg), "%s answered HTTP %ld",
			    rs->phase == PH_V2 ? "POST /v2/record" :
			    "POST /record", rs->status);
			set_fail(rs, msg);
			return 0;
		}
	}
	return n;
}

/* One frame of the V2 ack stream: {"ack": N} or {"error": "…"}. */
static int
ack_frame(struct recstream *rs)
{
	struct ackframe f;
	char msg[512];

	switch (ackscan_decode(rs->scan.frame, rs->scan.len, &f)) {
	case 0:
		break;
	case ACKSCAN_EACK:
		set_fail(rs, "ack beyond the bytes sent");
		return -1;
	default:
		set_fail(rs, "malformed ack frame");
		return -1;
	}
	if (f.kind == ACKFRAME_ERROR) {
		snprintf(msg, sizeof(msg), "recorder error: %s", f.error);
		set_fail(rs, msg);
		return -1;
	}
	if (f.kind == ACKFRAME_ACK) {
		if (f.ack > rs->sent) {
			set_fail(rs, "ack beyond the bytes sent");
			return -1;
		}
		rs->acked = f.ack;
	}
	rs->ack_ns = now_boot_ns() + rec.ack_ns;
	return 0;
}

static size_t
write_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct recstream *rs = ud;
	size_t n = size * nitems, off, used;
	int r;

	if (rs->phase != PH_V2 || rs->state != ST_STREAMING)
		return n;	/* probe and V1 bodies say nothing we need */
	for (off = 0; off < n; off += used) {
		r = ackscan_feed(&rs->scan, buf + off, n - off, &used);
		if (r == ACKSCAN_EMALFORMED || r == ACKSCAN_ETOOBIG) {
			set_fail(rs, r == ACKSCAN_ETOOBIG ?
			    "ack frame too large" : "malformed ack stream");
			return 0;
		}
		if (r == ACKSCAN_FRAME && ack_frame(rs) == -1)
			return 0;
	}
	return n;
}

/* --- streams -------------------------------------------------------------- */

static void
stream_fail(struct recstream *rs, const char *fmt, ...)
{
	struct attempt *a;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (rs->easy != NULL) {
		curl_multi_remove_handle(rec.multi, rs->easy);
		curl_easy_cleanup(rs->easy);
		rs->easy = NULL;
	}
	curl_slist_free_all(rs->hdrs);
	rs->hdrs = NULL;
	free(rs->fail);
	rs->fail = NULL;
	if ((a = reallocarray(rs->attempts, rs->nattempts + 1,
	    sizeof(*a))) != NULL) {
		rs->attempts = a;
		a[rs->nattempts].recorder = strdup(rec.addrs[rs->addr]);
		a[rs->nattempts].error = msg != NULL ? msg : strdup("?");
		rs->nattempts++;
	} else
		free(msg);
	if (rs->state == ST_STREAMING) {
		/* Mid-upload: no retry, the stream is incomplete elsewhere. */
		free(rs->failed_at);
		rs->failed_at = strdup(rec.addrs[rs->addr]);
		rs->state = ST_FAILED;
		rs->notify_end = true;
		bq_free(&rs->buf);
		if (rs->cb == NULL) {
			log_warn("recorder %s: %s", rec.addrs[rs->addr],
			    rs->nattempts ? rs->attempts[rs->nattempts - 1].error
			    : "failed");
			rs->dead = true;
		}
		return;
	}
	if (rs->state != ST_CONNECTING)
		return;
	rs->addr++;
	rs->phase = PH_PROBE;
	stream_try(rs);
}

static void
opt_common(struct recstream *rs, CURL *e, const char *path, uint64_t now)
{
	char url[128];
	uint64_t left = rs->budget_ns > now ? (rs->budget_ns - now) / MS : 1;

	snprintf(url, sizeof(url), "http://%s%s", rec.addrs[rs->addr], path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, rs);
	/* Only the address given: no proxy from the environment, no redirect. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* One connection per transfer: bookworm's curl 7.88.1 breaks a reused
	 * h2c prior-knowledge connection (curl#10634, fixed in 8.0). */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (getenv("AGENTD_RECORDER_DEBUG") != NULL)
		curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(left < RECORDER_DIAL_MS ? left : RECORDER_DIAL_MS));
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rs);
}

/* Starts the next step with the current recorder, or gives up. */
static void
stream_try(struct recstream *rs)
{
	uint64_t now = now_boot_ns();
	struct curl_slist *h = NULL;
	CURL *e;

	if (rs->addr >= rec.naddrs || rs->cancelled ||
	    (rs->budget_ns != 0 && rs->budget_ns <= now)) {
		rs->state = ST_FAILED;
		rs->notify_end = true;
		rs->dead = rs->cb == NULL;
		return;
	}
	if ((e = curl_easy_init()) == NULL) {
		stream_fail(rs, "out of memory");
		return;
	}
	rs->status = 0;
	opt_common(rs, e, rs->phase == PH_V1 ? "/record" : "/v2/record", now);
	if (rs->phase == PH_PROBE) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)RECORDER_DIAL_MS);
	} else {
		/* An upload of unknown length, sent as POST (curl's own way). */
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, rs);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
		h = curl_slist_append(h, "Content-Type:");
		if (rs->phase == PH_V2) {
			curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			    (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
			h = curl_slist_append(h, "Expect:");
		} else {
			curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			    (long)CURL_HTTP_VERSION_1_1);
			curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS,
			    (long)RECORDER_BUDGET_MS);
			h = curl_slist_append(h, "Transfer-Encoding: chunked");
			h = curl_slist_append(h, "Expect: 100-continue");
		}
		rs->hdrs = h;
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	}
	rs->easy = e;
	rs->dial_ns = now + RECORDER_DIAL_MS * MS;
	if (h == NULL && rs->phase != PH_PROBE) {
		stream_fail(rs, "out of memory");
		return;
	}
	if (curl_multi_add_handle(rec.multi, e) != CURLM_OK) {
		stream_fail(rs, "curl_multi_add_handle failed");
		return;
	}
}

struct recstream *
recorder_open(const char *hdr, size_t len, recorder_cb *cb, void *arg)
{
	struct recstream *rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if (bq_append(&rs->buf, hdr, len) == -1) {
		free(rs);
		return NULL;
	}
	rs->queued = len;
	rs->cb = cb;
	rs->arg = arg;
	rs->state = ST_CONNECTING;
	rs->phase = PH_PROBE;
	rs->budget_ns = now_boot_ns() + RECORDER_BUDGET_MS * MS;
	TAILQ_INSERT_TAIL(&rec.streams, rs, entry);
	stream_try(rs);
	rearm();	/* stream_try may have ended it already: report soon */
	return rs;
}

void
recorder_write(struct recstream *rs, const void *data, size_t len)
{
	if (rs->state != ST_STREAMING || rs->eof)
		return;
	if (rs->buf.len == 0)
		rs->since_ns = now_boot_ns();
	if (rs->buf.len + len > RECORDER_BUFFER_MAX ||
	    bq_append(&rs->buf, data, len) == -1) {
		stream_fail(rs, "the recorder is too slow: %u MiB buffer full",
		    RECORDER_BUFFER_MAX >> 20);
		rearm();
		return;
	}
	rs->queued += len;
	if (!rs->paused)
		return;
	if (rs->buf.len >= FLUSH_BYTES)
		stream_unpause(rs);
	else
		flush_later(rs);
}

void
recorder_close(struct recstream *rs)
{
	rs->cb = NULL;
	rs->eof = true;
	if (rs->state == ST_STREAMING) {
		rs->drain_ns = now_boot_ns() + rec.ack_ns;
		rs->flush_ns = 1;	/* let curl read the end from the loop */
	} else
		rs->dead = true;
	rearm();
}

void
recorder_cancel(struct recstream *rs, const char *why)
{
	if (rs->state != ST_CONNECTING)
		return;
	rs->cancelled = true;
	stream_fail(rs, "%s", why);
	rearm();
}

int
recorder_log_failure(struct recstream *rs, const char *session, int shell,
    const char *action, char **cause)
{
	struct jsonw *w;
	size_t i;

	w = auditlog_begin(server->log, "recording_failed", session);
	jsonw_int(w, "shell", shell);
	if (rs->failed_at != NULL)
		jsonw_str(w, "recorder", rs->failed_at);
	else if (rs->nattempts > 0)
		jsonw_str(w, "recorder", rs->attempts[rs->nattempts - 1].recorder);
	else
		jsonw_null(w, "recorder");
	jsonw_array_begin(w, "attempts");
	for (i = 0; i < rs->nattempts; i++) {
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "recorder", rs->attempts[i].recorder);
		jsonw_str(w, "error", rs->attempts[i].error);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_str(w, "action", action);
	return auditlog_commit(server->log, cause);
}

/* --- set-up --------------------------------------------------------------- */

int
recorder_init(const struct serve_opts *opts, char **cause)
{
	const char *v;
	char *end;
	unsigned long long ms;
	size_t i;

	TAILQ_INIT(&rec.streams);
	rec.policy = opts->on_recording_failure;
	rec.ack_ns = RECORDER_ACK_MS * MS;
	/* A test knob: stalled acks are found in 30 s by protocol. */
	if ((v = getenv("AGENTD_RECORDER_ACK_TIMEOUT_MS")) != NULL && *v != '\0') {
		errno = 0;
		ms = strtoull(v, &end, 10);
		if (*end == '\0' && errno == 0 && ms >= 1 && ms <= 3600000)
			rec.ack_ns = ms * MS;
	}
	if (opts->nrecorders == 0)
		return 0;
	for (i = 0; i < opts->nrecorders && i < RECORDERS_MAX; i++) {
		if ((rec.addrs[i] = strdup(opts->recorders[i])) == NULL)
			goto nomem;
		rec.naddrs++;
	}
	if (opts->recording_message != NULL &&
	    (rec.message = strdup(opts->recording_message)) == NULL)
		goto nomem;
	if (curlfn_load(cause) == -1)
		return -1;
	if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK ||
	    (rec.multi = curl_multi_init()) == NULL) {
		*cause = strdup("libcurl initialisation failed");
		return -1;
	}
	curl_multi_setopt(rec.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(rec.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(rec.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	if ((rec.timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1) {
		if (asprintf(cause, "recorder timer: %s", strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	rec.timer_ev.cb = timer_ev_cb;
	ev_add(rec.timerfd, EPOLLIN, &rec.timer_ev);
	return 0;
nomem:
	*cause = strdup("out of memory");
	return -1;
}

void
recorder_cleanup(void)
{
	size_t i;

	while (!TAILQ_EMPTY(&rec.streams))
		stream_free(TAILQ_FIRST(&rec.streams));
	if (rec.multi != NULL) {
		curl_multi_cleanup(rec.multi);
		rec.multi = NULL;
		curl_global_cleanup();
	}
	if (rec.timerfd != -1) {
		ev_del(rec.timerfd);
		close(rec.timerfd);
		rec.timerfd = -1;
	}
	for (i = 0; i < rec.naddrs; i++)
		free(rec.addrs[i]);
	rec.naddrs = 0;
	free(rec.message);
	rec.message = NULL;
}
