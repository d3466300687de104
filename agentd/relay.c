/*
 * relay: the public agent socket R/sessions/<id>/agent.sock. Each accepted
 * client (peer uid checked) gets its own connection to the real agent, since
 * session-bind@openssh.com binds a connection; bytes are relayed both ways
 * through bounded buffers that are wiped as soon as they are forwarded
 * (they carry private keys on an add).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>
#include <sodium.h>

#include "server.h"

#define CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))
#define RELAY_BUF	(64 * 1024)

struct relay_dir {
	unsigned char	buf[RELAY_BUF];
	size_t		off;
	size_t		len;
	bool		eof;		/* the reading side closed */
};

struct relay_end {
	struct evh	 ev;
	int		 fd;
	struct relay	*r;
};

struct relay {
	TAILQ_ENTRY(relay)	 entry;
	struct session		*se;
	pid_t			 client_pid;
	struct relay_end	 client;
	struct relay_end	 agent;
	struct relay_dir	 up;	/* client -> agent */
	struct relay_dir	 down;	/* agent -> client */
};

static void	relay_io_cb(struct evh *, uint32_t);

static void
relay_free(struct relay *r)
{
	struct session *se = r->se;

	ev_del(r->client.fd);
	ev_del(r->agent.fd);
	close(r->client.fd);
	close(r->agent.fd);
	TAILQ_REMOVE(&se->relays, r, entry);
	se->nrelays--;
	sodium_memzero(r, sizeof(*r));
	free(r);
}

void
relay_close_all(struct session *se)
{
	struct relay *r;

	while ((r = TAILQ_FIRST(&se->relays)) != NULL)
		relay_free(r);
}

static void
relay_update(struct relay *r)
{
	uint32_t cev = 0, aev = 0;

	if (!r->up.eof && r->up.len < RELAY_BUF)
		cev |= EPOLLIN;
	if (r->down.len > 0)
		cev |= EPOLLOUT;
	if (!r->down.eof && r->down.len < RELAY_BUF)
		aev |= EPOLLIN;
	if (r->up.len > 0)
		aev |= EPOLLOUT;
	ev_mod(r->client.fd, cev, &r->client.ev);
	ev_mod(r->agent.fd, aev, &r->agent.ev);
}

/* Moves bytes from fd into d; -1 on error. */
static int
relay_fill(int fd, struct relay_dir *d)
{
	ssize_t n;

	if (d->off > 0 && d->len > 0)
		memmove(d->buf, d->buf + d->off, d->len);
	if (d->off > 0)
		sodium_memzero(d->buf + d->len, d->off);
	d->off = 0;
	while (d->len < RELAY_BUF) {
		n = read(fd, d->buf + d->len, RELAY_BUF - d->len);
		if (n == 0) {
			d->eof = true;
			return 0;
		}
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		d->len += (size_t)n;
	}
	return 0;
}

/* Moves bytes from d to fd, wiping what was sent; -1 on error. */
static int
relay_drain(int fd, struct relay_dir *d)
{
	ssize_t n;

	while (d->len > 0) {
		n = send(fd, d->buf + d->off, d->len, MSG_NOSIGNAL);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		sodium_memzero(d->buf + d->off, (size_t)n);
		d->off += (size_t)n;
		d->len -= (size_t)n;
	}
	d->off = 0;
	return 0;
}

static void
relay_io_cb(struct evh *h, uint32_t events)
{
	struct relay_end *e = CONTAINER_OF(h, struct relay_end, ev);
	struct relay *r = e->r;
	int err = 0;

	(void)events;
	if (relay_fill(r->client.fd, &r->up) == -1 ||
	    relay_fill(r->agent.fd, &r->down) == -1 ||
	    relay_drain(r->agent.fd, &r->up) == -1 ||
	    relay_drain(r->client.fd, &r->down) == -1)
		err = 1;
	/* Either side gone and nothing left to deliver: close both. */
	if (err || (r->up.eof && r->up.len == 0) ||
	    (r->down.eof && r->down.len == 0)) {
		relay_free(r);
		return;
	}
	relay_update(r);
}

static int
relay_connect_agent(const struct session *se)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, se->up_path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	/* A unix connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
relay_accept_cb(struct evh *h, uint32_t events)
{
	struct session *se = CONTAINER_OF(h, struct session, listen_ev);
	struct ucred cred;
	socklen_t len;
	struct relay *r;
	int cfd, afd;

	(void)events;
	while ((cfd = accept4(se->listen_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		len = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
		    cred.uid != geteuid()) {
			log_warn("session %s: refused a client of uid %ld",
			    se->id, (long)cred.uid);
			close(cfd);
			continue;
		}
		if (se->nrelays >= MAX_RELAYS ||
		    (afd = relay_connect_agent(se)) == -1) {
			close(cfd);
			continue;
		}
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			close(cfd);
			close(afd);
			continue;
		}
		r->se = se;
		r->client_pid = cred.pid;
		r->client.fd = cfd;
		r->client.r = r;
		r->client.ev.cb = relay_io_cb;
		r->agent.fd = afd;
		r->agent.r = r;
		r->agent.ev.cb = relay_io_cb;
		TAILQ_INSERT_TAIL(&se->relays, r, entry);
		se->nrelays++;
		ev_add(cfd, EPOLLIN, &r->client.ev);
		ev_add(afd, EPOLLIN, &r->agent.ev);
	}
}

void
relay_accept(struct session *se)
{
	se->listen_ev.cb = relay_accept_cb;
	ev_add(se->listen_fd, EPOLLIN, &se->listen_ev);
}
