/*
 * gate: the per-session SSH egress gate (DESIGN §10). For each
 * --ssh-egress NAME=HOST[:PORT] entry the daemon listens on 127.0.0.1 (an
 * ephemeral port) and forwards every accepted connection, bytes unchanged,
 * to HOST:PORT, resolved when the connection comes (getaddrinfo_a: the
 * lookup runs on glibc's helper thread, which only pokes an eventfd; the
 * loop picks the answer up). Forwarding copies through one bounded buffer
 * per direction. Shells started with --net gate run in a network namespace
 * of their own whose only listeners are the gate's (made inside it by the
 * forked child, handed back over SCM_RIGHTS); the daemon keeps connecting
 * out from its own namespace. Events: egress_opened / egress_closed.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "gate.h"
#include "server.h"
#include "auditlog.h"
#include "ctlmsg.h"
#include "egress.h"
#include "jsonw.h"

#define GATE_BUF	(64 * 1024)	/* per direction, per connection */
#define GATE_PIPE	(256 * 1024)	/* the same, splicing */
#define GATE_MAX_CONNS	256		/* per session */
#define GATE_BACKLOG	128
#define GATE_PUMP_ROUNDS 16		/* reads per callback: others get a turn */
#define GATE_CONNECT_TIMEOUT_S 10	/* per address tried */

struct gate_conn;

/* One getaddrinfo_a request; outlives its connection if that goes first
 * (a running lookup cannot be cancelled). */
struct gate_lookup {
	TAILQ_ENTRY(gate_lookup) entry;
	struct gaicb		 cb;
	struct addrinfo		 hints;
	char			 host[EGRESS_HOST_MAX];
	char			 port[8];
	struct gate_conn	*conn;		/* NULL: orphaned */
};

struct gate_dir {
	int		 pipe[2];	/* splice through it; -1: copy through buf */
	size_t		 inpipe;	/* bytes in the pipe */
	char		*buf;
	size_t		 len, off;
	bool		 eof;		/* the source said EOF */
	bool		 shut;		/* the EOF went on (SHUT_WR) */
	uint64_t	 bytes;		/* written to the destination */
};

enum gate_conn_state { GC_RESOLVING, GC_CONNECTING, GC_OPEN };

struct gate_conn {
	TAILQ_ENTRY(gate_conn)	 entry;
	struct gate		*g;
	struct gate_entry	*ge;
	uint64_t		 n;		/* conn: 1, 2, … within the session */
	enum gate_conn_state	 state;
	int			 cfd, ufd;
	struct evh		 cev, uev;
	struct gate_lookup	*lookup;
	struct addrinfo		*ai, *cur;	/* answers, the one being tried */
	char			 address[INET6_ADDRSTRLEN + 8];
	int			 last_err;
	struct gate_dir		 up, down;	/* client→upstream, back */
	uint64_t		 start_ns;
	uint64_t		 connect_ns;	/* this address's deadline, 0: none */
	bool			 logged;	/* egress_opened is durable */
};

struct gate_listener {
	TAILQ_ENTRY(gate_listener) entry;
	struct gate		*g;
	struct gate_entry	*ge;
	struct shell		*sh;		/* NULL: the daemon's namespace */
	int			 fd;
	struct evh		 ev;
};

struct gate_entry {
	struct egress_entry	 e;
	uint16_t		 listen_port;	/* same inside every namespace */
};

struct gate {
	struct session		*se;
	struct gate_entry	 entries[EGRESS_MAX];
	size_t			 nentries;
	bool			 isolate_net;
	char			 config_path[PATH_MAX];
	TAILQ_HEAD(, gate_listener) listeners;
	TAILQ_HEAD(, gate_conn)	 conns;
	size_t			 nconns;
	uint64_t		 next_conn;
	bool			 closed;
};

/* A shell's namespace handing its listeners back (gate_shell_attach). */
struct gate_handoff {
	struct gate		*g;
	struct shell		*sh;
	int			 fd;
	struct evh		 ev;
};

static int		 lookup_efd = -1;
static struct evh	 lookup_ev;
static TAILQ_HEAD(, gate_lookup) lookups = TAILQ_HEAD_INITIALIZER(lookups);

static void	gate_conn_close(struct gate_conn *, const char *error);
static void	gate_conn_pump(struct gate_conn *, uint32_t cev, uint32_t uev);
static void	gate_connect_next(struct gate_conn *);

/* --- set-up --------------------------------------------------------------- */

int
gate_new(struct gate **gp, const cJSON *req, char **cause)
{
	const cJSON *list, *it;
	struct gate *g;
	const char *why;
	size_t i;

	list = cJSON_GetObjectItemCaseSensitive(req, "egress");
	it = cJSON_GetObjectItemCaseSensitive(req, "isolate_net");
	*gp = NULL;
	if (list == NULL && !cJSON_IsTrue(it))
		return 0;
	if (list != NULL && !cJSON_IsArray(list)) {
		*cause = strdup("egress: must be an array of NAME=HOST[:PORT]");
		return -1;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	g->isolate_net = cJSON_IsTrue(it);
	TAILQ_INIT(&g->listeners);
	TAILQ_INIT(&g->conns);
	cJSON_ArrayForEach(it, list) {
		if (g->nentries == EGRESS_MAX) {
			if (asprintf(cause, "at most %d --ssh-egress entries",
			    EGRESS_MAX) == -1)
				*cause = NULL;
			goto fail;
		}
		if (!cJSON_IsString(it) || egress_parse(it->valuestring,
		    &g->entries[g->nentries].e, &why) == -1) {
			if (asprintf(cause, "--ssh-egress: %s", cJSON_IsString(it) ?
			    why : "not a string") == -1)
				*cause = NULL;
			goto fail;
		}
		for (i = 0; i < g->nentries; i++) {
			if (strcmp(g->entries[i].e.name,
			    g->entries[g->nentries].e.name) == 0) {
				if (asprintf(cause, "--ssh-egress: %s named "
				    "twice", g->entries[i].e.name) == -1)
					*cause = NULL;
				goto fail;
			}
		}
		g->nentries++;
	}
	*gp = g;
	return 0;
fail:
	free(g);
	return -1;
}

static int
listen_loopback(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, GATE_BACKLOG) == -1 ||
	    (bound != NULL && getsockname(fd, (struct sockaddr *)&sin,
	    &len) == -1)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (bound != NULL)
		*bound = ntohs(sin.sin_port);
	return fd;
}

static void	gate_accept_cb(struct evh *, uint32_t);

static int
gate_listener_add(struct gate *g, struct gate_entry *ge, struct shell *sh,
    int fd)
{
	struct gate_listener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->g = g;
	l->ge = ge;
	l->sh = sh;
	l->fd = fd;
	l->ev.cb = gate_accept_cb;
	TAILQ_INSERT_TAIL(&g->listeners, l, entry);
	ev_add(fd, EPOLLIN, &l->ev);
	return 0;
}

static void
gate_listener_free(struct gate_listener *l)
{
	TAILQ_REMOVE(&l->g->listeners, l, entry);
	ev_del(l->fd);
	close(l->fd);
	ev_free_later(l);
}

/* Writes the session's ssh_config (0600, created new) into dirfd. */
static int
gate_write_config(struct gate *g, int dirfd, char **cause)
{
	char alias[EGRESS_HOST_MAX + 16];
	struct gate_entry *ge;
	FILE *f;
	size_t i;
	int fd;

	if ((fd = openat(dirfd, "ssh_config", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (asprintf(cause, "%s: %s", g->config_path,
		    strerror(errno)) == -1)
			*cause = NULL;
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "# agentd session %s: its SSH egress gate (agentd(1)).\n"
	    "# Each Host goes to the gate, which forwards to the real server;\n"
	    "# HostKeyAlias keeps host keys checked under the real name.\n",
	    g->se->id);
	for (i = 0; i < g->nentries; i++) {
		ge = &g->entries[i];
		fprintf(f, "\nHost %s\n"
		    "\tHostName 127.0.0.1\n"
		    "\tPort %u\n"
		    "\tHostKeyAlias %s\n"
		    "\tStrictHostKeyChecking yes\n"
		    "\tCheckHostIP no\n"
		    "\tIdentityAgent \"%s\"\n"
		    "\tControlMaster no\n"
		    "\tControlPath none\n",
		    ge->e.name, (unsigned)ge->listen_port,
		    egress_hostkey_alias(&ge->e, alias, sizeof(alias)),
		    g->se->sock_path);
	}
	if (fflush(f) == EOF || fsync(fd) == -1 || fclose(f) == EOF) {
		if (asprintf(cause, "%s: %s", g->config_path,
		    strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

int
gate_open(struct session *se, int dirfd, char **cause)
{
	struct gate *g = se->gate;
	struct gate_entry *ge;
	char *slash;
	size_t i;
	int fd;

	if (g == NULL)
		return 0;
	g->se = se;
	/* The public socket's directory holds the config too. */
	strlcpy(g->config_path, se->sock_path, sizeof(g->config_path));
	if ((slash = strrchr(g->config_path, '/')) != NULL)
		slash[1] = '\0';
	strlcat(g->config_path, "ssh_config", sizeof(g->config_path));
	if (strchr(se->sock_path, '"') != NULL) {
		*cause = strdup("the session's socket path holds a '\"': "
		    "ssh_config cannot name it");
		return -1;
	}
	for (i = 0; i < g->nentries; i++) {
		ge = &g->entries[i];
		if ((fd = listen_loopback(0, &ge->listen_port)) == -1 ||
		    gate_listener_add(g, ge, NULL, fd) == -1) {
			if (asprintf(cause, "--ssh-egress %s: cannot listen on "
			    "127.0.0.1: %s", ge->e.name, strerror(errno)) == -1)
				*cause = NULL;
			if (fd != -1)
				close(fd);
			gate_close(se);	/* no connection before `created` */
			return -1;
		}
	}
	if (g->nentries > 0 && gate_write_config(g, dirfd, cause) == -1) {
		gate_close(se);
		return -1;
	}
	return 0;
}

void
gate_close(struct session *se)
{
	struct gate *g = se->gate;
	struct gate_listener *l;
	struct gate_conn *c;

	if (g == NULL || g->closed)
		return;
	g->closed = true;
	while ((l = TAILQ_FIRST(&g->listeners)) != NULL)
		gate_listener_free(l);
	while ((c = TAILQ_FIRST(&g->conns)) != NULL)
		gate_conn_close(c, "session_end");
}

void
gate_discard(struct gate *g)
{
	free(g);
}

void
gate_free(struct session *se)
{
	if (se->gate == NULL)
		return;
	gate_close(se);
	ev_free_later(se->gate);
	se->gate = NULL;
}

bool
gate_isolate_default(const struct session *se)
{
	return se->gate != NULL && se->gate->isolate_net;
}

const char *
gate_config_path(const struct session *se)
{
	if (se->gate == NULL || se->gate->nentries == 0)
		return NULL;
	return se->gate->config_path;
}

/* --- connections ---------------------------------------------------------- */

static void
gate_conn_free(struct gate_conn *c)
{
	struct gate *g = c->g;
	struct gate_dir *d;
	int i;

	if (c->lookup != NULL) {
		/* A running lookup cannot be stopped: it finishes orphaned. */
		if (gai_cancel(&c->lookup->cb) == EAI_CANCELED) {
			TAILQ_REMOVE(&lookups, c->lookup, entry);
			free(c->lookup);
		} else
			c->lookup->conn = NULL;
		c->lookup = NULL;
	}
	if (c->ai != NULL)
		freeaddrinfo(c->ai);
	if (c->cfd != -1) {
		ev_del(c->cfd);
		close(c->cfd);
	}
	if (c->ufd != -1) {
		ev_del(c->ufd);
		close(c->ufd);
	}
	for (i = 0; i < 2; i++) {
		d = i == 0 ? &c->up : &c->down;
		if (d->pipe[0] != -1) {
			close(d->pipe[0]);
			close(d->pipe[1]);
		}
		free(d->buf);
	}
	TAILQ_REMOVE(&g->conns, c, entry);
	g->nconns--;
	ev_free_later(c);
	server_fd_freed();
}

static int
gate_log_opened(struct gate_conn *c, char **cause)
{
	char up[EGRESS_HOST_MAX + 16];
	struct jsonw *w;

	w = auditlog_begin(server->log, "egress_opened", c->g->se->id);
	jsonw_uint(w, "conn", c->n);
	jsonw_str(w, "name", c->ge->e.name);
	jsonw_str(w, "upstream", egress_upstream(&c->ge->e, up, sizeof(up)));
	if (c->address[0] != '\0')
		jsonw_str(w, "address", c->address);
	else
		jsonw_null(w, "address");
	if (auditlog_commit(server->log, cause) == -1)
		return -1;
	c->logged = true;
	return 0;
}

/* Ends c with error (NULL: a clean end), writing egress_closed. A failure
 * before egress_opened was written still gets both events, so that every
 * refused connection is in the log. */
static void
gate_conn_close(struct gate_conn *c, const char *error)
{
	struct jsonw *w;
	char *cause = NULL;

	if (!c->logged && error != NULL && gate_log_opened(c, &cause) == -1) {
		log_warn("session %s: egress_opened not written: %s",
		    c->g->se->id, cause ? cause : "write failed");
		free(cause);
		cause = NULL;
	}
	if (c->logged) {
		w = auditlog_begin(server->log, "egress_closed", c->g->se->id);
		jsonw_uint(w, "conn", c->n);
		jsonw_str(w, "name", c->ge->e.name);
		jsonw_uint(w, "bytes_up", c->up.bytes);
		jsonw_uint(w, "bytes_down", c->down.bytes);
		jsonw_uint(w, "duration_s", (now_boot_ns() - c->start_ns) / NS);
		if (error != NULL)
			jsonw_str(w, "error", error);
		else
			jsonw_null(w, "error");
		if (auditlog_commit(server->log, &cause) == -1) {
			log_warn("session %s: egress_closed not written: %s",
			    c->g->se->id, cause ? cause : "write failed");
			free(cause);
		}
	}
	gate_conn_free(c);
}

static void
gate_conn_fail(struct gate_conn *c, const char *side, int err)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: %s", side, strerror(err));
	gate_conn_close(c, msg);
}

static void
gate_cio_cb(struct evh *h, uint32_t events)
{
	gate_conn_pump(CONTAINER_OF(h, struct gate_conn, cev), events, 0);
}

static void
gate_uio_cb(struct evh *h, uint32_t events)
{
	struct gate_conn *c = CONTAINER_OF(h, struct gate_conn, uev);
	socklen_t len;
	int err = 0;

	if (c->state != GC_CONNECTING) {
		gate_conn_pump(c, 0, events);
		return;
	}
	len = sizeof(err);
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		c->last_err = err;
		ev_del(c->ufd);
		close(c->ufd);
		c->ufd = -1;
		c->cur = c->cur->ai_next;
	}
	gate_connect_next(c);	/* open, or the next address */
}

/*
 * The splice path: src -> pipe -> dst, zero copy. The pipe is filled only
 * when empty: a pipe full of small segments would answer EAGAIN like an
 * empty socket, and the loop would spin on a readable source.
 */
static int
gate_dir_splice(struct gate_dir *d, int src, int dst, const char *sname,
    const char *dname, const char **side)
{
	ssize_t n;
	int rounds, progress = 0;

	for (rounds = 0; rounds < GATE_PUMP_ROUNDS; rounds++) {
		if (d->inpipe == 0 && !d->eof) {
			n = splice(src, NULL, d->pipe[1], NULL, GATE_PIPE,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe = (size_t)n;
				progress = 1;
			} else if (n == 0) {
				d->eof = true;
				progress = 1;
			} else if (errno == EAGAIN || errno == EINTR)
				break;
			else {
				*side = sname;
				return -1;
			}
		}
		if (d->inpipe > 0) {
			n = splice(d->pipe[0], NULL, dst, NULL, d->inpipe,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe -= (size_t)n;
				d->bytes += (uint64_t)n;
				progress = 1;
			} else if (n == -1 && (errno == EAGAIN ||
			    errno == EINTR))
				break;
			else {
				if (n == 0)
					errno = EPIPE;
				*side = dname;
				return -1;
			}
			if (d->inpipe > 0)
				break;
		}
		if (d->eof) {
			if (!d->shut) {
				(void)shutdown(dst, SHUT_WR);
				d->shut = true;
				progress = 1;
			}
			break;
		}
	}
	return progress;
}

/* Moves what it can from src to dst through d. Returns 1 on progress, 0
 * on none, -1 with errno and *side on an error. */
static int
gate_dir_pump(struct gate_dir *d, int src, int dst, const char *sname,
    const char *dname, const char **side)
{
	ssize_t n;
	int rounds, progress = 0;

	if (d->pipe[0] != -1)
		return gate_dir_splice(d, src, dst, sname, dname, side);
	for (rounds = 0; rounds < GATE_PUMP_ROUNDS; rounds++) {
		if (d->len == d->off && !d->eof) {
			d->len = d->off = 0;
			n = read(src, d->buf, GATE_BUF);
			if (n > 0) {
				d->len = (size_t)n;
				progress = 1;
			} else if (n == 0) {
				d->eof = true;
				progress = 1;
			} else if (errno == EAGAIN || errno == EINTR)
				break;
			else {
				*side = sname;
				return -1;
			}
		}
		if (d->off < d->len) {
			n = send(dst, d->buf + d->off, d->len - d->off,
			    MSG_NOSIGNAL);
			if (n > 0) {
				d->off += (size_t)n;
				d->bytes += (uint64_t)n;
				progress = 1;
			} else if (n == -1 && (errno == EAGAIN ||
			    errno == EINTR))
				break;
			else {
				*side = dname;
				return -1;
			}
			if (d->off < d->len)
				break;
		}
		if (d->eof) {
			if (!d->shut) {
				(void)shutdown(dst, SHUT_WR);
				d->shut = true;
				progress = 1;
			}
			break;
		}
	}
	return progress;
}

static bool
gate_dir_empty(const struct gate_dir *d)
{
	return d->pipe[0] != -1 ? d->inpipe == 0 : d->off == d->len;
}

static void
gate_conn_pump(struct gate_conn *c, uint32_t cev, uint32_t uev)
{
	const char *side = NULL;
	uint32_t ci, ui;
	int p1, p2;

	if ((p1 = gate_dir_pump(&c->up, c->cfd, c->ufd, "client", "upstream",
	    &side)) == -1 || (p2 = gate_dir_pump(&c->down, c->ufd, c->cfd,
	    "upstream", "client", &side)) == -1) {
		gate_conn_fail(c, side, errno);
		return;
	}
	if (c->up.shut && c->down.shut) {
		gate_conn_close(c, NULL);
		return;
	}
	/* A hang-up or error that moved nothing: the peer is gone for good. */
	if (!p1 && !p2 && ((cev | uev) & (EPOLLHUP | EPOLLERR))) {
		int err = 0;
		socklen_t len = sizeof(err);
		int fd = (cev & (EPOLLHUP | EPOLLERR)) ? c->cfd : c->ufd;

		(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		gate_conn_fail(c, fd == c->cfd ? "client" : "upstream",
		    err != 0 ? err : EPIPE);
		return;
	}
	ci = (gate_dir_empty(&c->up) && !c->up.eof ? EPOLLIN : 0) |
	    (gate_dir_empty(&c->down) ? 0 : EPOLLOUT);
	ui = (gate_dir_empty(&c->down) && !c->down.eof ? EPOLLIN : 0) |
	    (gate_dir_empty(&c->up) ? 0 : EPOLLOUT);
	ev_mod(c->cfd, ci, &c->cev);
	ev_mod(c->ufd, ui, &c->uev);
}

/* A pipe to splice through, or (no pipe to be had: the per-user pipe
 * limit, descriptors) a buffer to copy through. */
static int
gate_dir_init(struct gate_dir *d)
{
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) == 0) {
		(void)fcntl(d->pipe[0], F_SETPIPE_SZ, GATE_PIPE);
		return 0;
	}
	d->pipe[0] = d->pipe[1] = -1;
	return (d->buf = malloc(GATE_BUF)) == NULL ? -1 : 0;
}

/* Connected, or the next address to try, or the end of the list. */
static void
gate_connect_next(struct gate_conn *c)
{
	char host[INET6_ADDRSTRLEN];
	char *cause = NULL;
	int one = 1;
	uint16_t port;

	if (c->state == GC_CONNECTING && c->ufd != -1) {
		/* Connected. */
		c->state = GC_OPEN;
		c->connect_ns = 0;
		if (gate_log_opened(c, &cause) == -1) {
			log_warn("session %s: egress_opened not written, "
			    "connection refused: %s", c->g->se->id,
			    cause ? cause : "write failed");
			free(cause);
			gate_conn_free(c);
			return;
		}
		(void)setsockopt(c->ufd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (gate_dir_init(&c->up) == -1 ||
		    gate_dir_init(&c->down) == -1) {
			gate_conn_close(c, "out of memory");
			return;
		}
		ev_add(c->cfd, EPOLLIN, &c->cev);
		gate_conn_pump(c, 0, 0);
		return;
	}
	c->state = GC_CONNECTING;
	for (; c->cur != NULL; c->cur = c->cur->ai_next) {
		if (c->cur->ai_family == AF_INET) {
			struct sockaddr_in *s = (void *)c->cur->ai_addr;
			inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
			port = ntohs(s->sin_port);
			snprintf(c->address, sizeof(c->address), "%s:%u", host,
			    (unsigned)port);
		} else if (c->cur->ai_family == AF_INET6) {
			struct sockaddr_in6 *s = (void *)c->cur->ai_addr;
			inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
			port = ntohs(s->sin6_port);
			snprintf(c->address, sizeof(c->address), "[%s]:%u",
			    host, (unsigned)port);
		} else
			continue;
		if ((c->ufd = socket(c->cur->ai_family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
			c->last_err = errno;
			continue;
		}
		if (connect(c->ufd, c->cur->ai_addr, c->cur->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			c->uev.cb = gate_uio_cb;
			ev_add(c->ufd, EPOLLOUT, &c->uev);
			c->connect_ns = now_boot_ns() + GATE_CONNECT_TIMEOUT_S * NS;
			server_timer_at(c->connect_ns);
			return;
		}
		c->last_err = errno;
		close(c->ufd);
		c->ufd = -1;
	}
	gate_conn_fail(c, "upstream", c->last_err ? c->last_err :
	    EHOSTUNREACH);
}

static void
gate_resolved(struct gate_conn *c, int r, struct addrinfo *ai)
{
	char msg[300];

	c->lookup = NULL;
	if (r != 0) {
		snprintf(msg, sizeof(msg), "upstream: %s: %s", c->ge->e.host,
		    gai_strerror(r));
		gate_conn_close(c, msg);
		return;
	}
	c->ai = c->cur = ai;
	gate_connect_next(c);
}

static void
gate_lookup_notify(union sigval sv)
{
	uint64_t one = 1;

	(void)sv;
	(void)write(lookup_efd, &one, sizeof(one));
}

static void
gate_lookup_cb(struct evh *h, uint32_t events)
{
	struct gate_lookup *lk, *tmp;
	uint64_t v;
	int r;

	(void)h;
	(void)events;
	(void)read(lookup_efd, &v, sizeof(v));
	TAILQ_FOREACH_SAFE(lk, &lookups, entry, tmp) {
		if ((r = gai_error(&lk->cb)) == EAI_INPROGRESS)
			continue;
		TAILQ_REMOVE(&lookups, lk, entry);
		if (lk->conn != NULL)
			gate_resolved(lk->conn, r, r == 0 ? lk->cb.ar_result :
			    NULL);
		else if (r == 0 && lk->cb.ar_result != NULL)
			freeaddrinfo(lk->cb.ar_result);
		free(lk);
	}
}

static int
gate_resolve(struct gate_conn *c)
{
	struct addrinfo hints, *ai;
	struct gate_lookup *lk;
	struct gaicb *list[1];
	struct sigevent sev;
	char port[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", (unsigned)c->ge->e.port);
	/* A literal address needs no lookup. */
	if (getaddrinfo(c->ge->e.host, port, &hints, &ai) == 0) {
		gate_resolved(c, 0, ai);
		return 0;
	}
	if (lookup_efd == -1) {
		if ((lookup_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			return -1;
		lookup_ev.cb = gate_lookup_cb;
		ev_add(lookup_efd, EPOLLIN, &lookup_ev);
	}
	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return -1;
	strlcpy(lk->host, c->ge->e.host, sizeof(lk->host));
	strlcpy(lk->port, port, sizeof(lk->port));
	lk->hints.ai_socktype = SOCK_STREAM;
	lk->hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	lk->cb.ar_name = lk->host;
	lk->cb.ar_service = lk->port;
	lk->cb.ar_request = &lk->hints;
	lk->conn = c;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = gate_lookup_notify;
	list[0] = &lk->cb;
	TAILQ_INSERT_TAIL(&lookups, lk, entry);
	if ((r = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		TAILQ_REMOVE(&lookups, lk, entry);
		free(lk);
		errno = r == EAI_SYSTEM ? errno : EAGAIN;
		return -1;
	}
	c->lookup = lk;
	return 0;
}

static void
gate_accept_cb(struct evh *h, uint32_t events)
{
	struct gate_listener *l = CONTAINER_OF(h, struct gate_listener, ev);
	struct gate *g = l->g;
	struct gate_conn *c;
	int cfd, i, one = 1;

	(void)events;
	for (i = 0; i < 16; i++) {
		cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (server_fd_error(errno))
				(void)server_fd_shortage(errno);
			return;
		}
		if (g->nconns >= GATE_MAX_CONNS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("session %s: egress %s: connection refused "
			    "(%d open)", g->se->id, l->ge->e.name,
			    GATE_MAX_CONNS);
			close(cfd);
			continue;
		}
		(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c->g = g;
		c->ge = l->ge;
		c->n = ++g->next_conn;
		c->cfd = cfd;
		c->ufd = -1;
		c->up.pipe[0] = c->up.pipe[1] = -1;
		c->down.pipe[0] = c->down.pipe[1] = -1;
		c->cev.cb = gate_cio_cb;
		c->uev.cb = gate_uio_cb;
		c->start_ns = now_boot_ns();
		c->state = GC_RESOLVING;
		TAILQ_INSERT_TAIL(&g->conns, c, entry);
		g->nconns++;
		if (gate_resolve(c) == -1)
			gate_conn_fail(c, "upstream", errno);
	}
}

uint64_t
gate_deadlines(struct session *se, uint64_t now)
{
	struct gate_conn *c, *tmp;
	uint64_t next = 0;

	if (se->gate == NULL)
		return 0;
	TAILQ_FOREACH_SAFE(c, &se->gate->conns, entry, tmp) {
		if (c->state != GC_CONNECTING || c->connect_ns == 0)
			continue;
		if (c->connect_ns <= now) {
			/* This address does not answer: the next one, or fail. */
			c->connect_ns = 0;
			c->last_err = ETIMEDOUT;
			ev_del(c->ufd);
			close(c->ufd);
			c->ufd = -1;
			c->cur = c->cur->ai_next;
			gate_connect_next(c);
			continue;
		}
		if (next == 0 || c->connect_ns < next)
			next = c->connect_ns;
	}
	return next;
}

/* --- network namespaces for --net gate ------------------------------------ */

static int
write_proc(const char *path, const char *text)
{
	int fd;
	ssize_t n;
	size_t len = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int
gate_netns_possible(char **cause)
{
	FILE *f;
	long v = 1;

	if (geteuid() == 0)
		return 0;
	/* Debian's switch, then the generic limit (egress.md §3.4). */
	if ((f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re"))) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
		if (v == 0)
			goto no;
	}
	if ((f = fopen("/proc/sys/user/max_user_namespaces", "re"))) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
		if (v == 0)
			goto no;
	}
	return 0;
no:
	*cause = strdup("--net gate: this kernel does not let an unprivileged "
	    "daemon make a user namespace (run agentd as root, or enable "
	    "user namespaces)");
	return -1;
}

int
gate_child_netns(const struct session *se, int sock)
{
	struct gate *g = se->gate;
	int fds[EGRESS_MAX];
	union {
		char		buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr	align;
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	struct ifreq ifr;
	char map[64], tag = 'g';
	uid_t uid = geteuid();
	gid_t gid = getegid();
	size_t i, n = g != NULL ? g->nentries : 0;
	int s;

	if (uid == 0) {
		if (unshare(CLONE_NEWNET) == -1)
			return -1;
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1)
			return -1;
		if (write_proc("/proc/self/setgroups", "deny") == -1)
			return -1;
		snprintf(map, sizeof(map), "%lu %lu 1", (unsigned long)uid,
		    (unsigned long)uid);
		if (write_proc("/proc/self/uid_map", map) == -1)
			return -1;
		snprintf(map, sizeof(map), "%lu %lu 1", (unsigned long)gid,
		    (unsigned long)gid);
		if (write_proc("/proc/self/gid_map", map) == -1)
			return -1;
	}
	/* Only loopback, and up (a new namespace has it down). */
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		close(s);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
		close(s);
		return -1;
	}
	close(s);
	for (i = 0; i < n; i++) {
		if ((fds[i] = listen_loopback(g->entries[i].listen_port,
		    NULL)) == -1)
			return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &tag;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		return -1;
	for (i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

static void
gate_handoff_cb(struct evh *h, uint32_t events)
{
	struct gate_handoff *ho = CONTAINER_OF(h, struct gate_handoff, ev);
	int fds[EGRESS_MAX];
	union {
		char		buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr	align;
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char tag;
	size_t i, n = 0;
	ssize_t r;

	(void)events;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &tag;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	r = recvmsg(ho->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 1 && !(msg.msg_flags & MSG_CTRUNC)) {
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		}
		for (i = 0; i < n; i++) {
			(void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
			if (ho->g->closed || i >= ho->g->nentries ||
			    gate_listener_add(ho->g, &ho->g->entries[i], ho->sh,
			    fds[i]) == -1)
				close(fds[i]);
		}
	}
	/* Done either way: a child that failed said so on its stderr. */
	ev_del(ho->fd);
	close(ho->fd);
	ho->sh->gate_handoff = NULL;
	ev_free_later(ho);
}

int
gate_shell_attach(struct shell *sh, int fd)
{
	struct gate_handoff *ho;

	if ((ho = calloc(1, sizeof(*ho))) == NULL)
		return -1;
	ho->g = sh->se->gate;
	ho->sh = sh;
	ho->fd = fd;
	ho->ev.cb = gate_handoff_cb;
	sh->gate_handoff = ho;
	ev_add(fd, EPOLLIN, &ho->ev);
	return 0;
}

void
gate_shell_gone(struct shell *sh)
{
	struct gate_listener *l, *tmp;
	struct gate_handoff *ho = sh->gate_handoff;
	struct gate *g = sh->se->gate;

	if (ho != NULL) {
		ev_del(ho->fd);
		close(ho->fd);
		ev_free_later(ho);
		sh->gate_handoff = NULL;
	}
	if (g == NULL)
		return;
	TAILQ_FOREACH_SAFE(l, &g->listeners, entry, tmp) {
		if (l->sh == sh)
			gate_listener_free(l);
	}
}

void
gate_created_fields(struct jsonw *w, const struct session *se)
{
	char buf[EGRESS_HOST_MAX + 16];
	struct gate *g = se->gate;
	size_t i;

	if (g == NULL)
		return;
	jsonw_array_begin(w, "egress");
	for (i = 0; i < g->nentries; i++) {
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "name", g->entries[i].e.name);
		jsonw_str(w, "upstream", egress_upstream(&g->entries[i].e, buf,
		    sizeof(buf)));
		snprintf(buf, sizeof(buf), "127.0.0.1:%u",
		    (unsigned)g->entries[i].listen_port);
		jsonw_str(w, "listen", buf);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_bool(w, "isolate_net", g->isolate_net);
}

/* --- status and recovery -------------------------------------------------- */

void
gate_status_fields(struct jsonw *w, const struct session *se)
{
	char up[EGRESS_HOST_MAX + 16];
	struct gate *g = se->gate;
	struct gate_listener *l;
	struct gate_conn *c;
	uint64_t now = now_boot_ns();
	size_t i, nns;

	if (g == NULL)
		return;
	jsonw_bool(w, "isolate_net", g->isolate_net);
	if (g->nentries > 0)
		jsonw_str(w, "ssh_config", g->config_path);
	jsonw_array_begin(w, "egress");
	for (i = 0; i < g->nentries; i++) {
		nns = 0;
		TAILQ_FOREACH(l, &g->listeners, entry) {
			if (l->ge == &g->entries[i] && l->sh != NULL)
				nns++;
		}
		jsonw_object_begin(w, NULL);
		jsonw_str(w, "name", g->entries[i].e.name);
		jsonw_str(w, "upstream", egress_upstream(&g->entries[i].e, up,
		    sizeof(up)));
		snprintf(up, sizeof(up), "127.0.0.1:%u",
		    (unsigned)g->entries[i].listen_port);
		jsonw_str(w, "listen", up);
		jsonw_uint(w, "namespaces", nns);
		jsonw_array_begin(w, "connections");
		TAILQ_FOREACH(c, &g->conns, entry) {
			if (c->ge != &g->entries[i])
				continue;
			jsonw_object_begin(w, NULL);
			jsonw_uint(w, "conn", c->n);
			jsonw_str(w, "state", c->state == GC_OPEN ? "open" :
			    c->state == GC_CONNECTING ? "connecting" :
			    "resolving");
			if (c->address[0] != '\0')
				jsonw_str(w, "address", c->address);
			jsonw_uint(w, "bytes_up", c->up.bytes);
			jsonw_uint(w, "bytes_down", c->down.bytes);
			jsonw_uint(w, "age_s", (now - c->start_ns) / NS);
			jsonw_object_end(w);
		}
		jsonw_array_end(w);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

struct lost_egress {
	char		id[IDS_LEN + 1];
	uint64_t	conn;
	char		name[EGRESS_NAME_MAX];
};

static struct lost_egress	*lost;
static size_t			 nlost, caplost;

void
gate_recover_note(const cJSON *ev, const char *id, bool opened)
{
	struct lost_egress *nv;
	const char *name = ctlmsg_get_str(ev, "name");
	uint64_t conn;
	size_t i;

	if (ctlmsg_get_uint(ev, "conn", 1, UINT64_MAX, &conn) == -1)
		return;
	for (i = 0; i < nlost; i++) {
		if (lost[i].conn == conn && strcmp(lost[i].id, id) == 0)
			break;
	}
	if (!opened) {
		if (i < nlost)
			lost[i] = lost[--nlost];
		return;
	}
	if (i < nlost || name == NULL)
		return;
	if (nlost == caplost) {
		caplost = caplost ? caplost * 2 : 16;
		if ((nv = reallocarray(lost, caplost, sizeof(*lost))) == NULL)
			return;
		lost = nv;
	}
	strlcpy(lost[nlost].id, id, sizeof(lost[nlost].id));
	strlcpy(lost[nlost].name, name, sizeof(lost[nlost].name));
	lost[nlost].conn = conn;
	nlost++;
}

int
gate_recover_close(const char *id, char **cause)
{
	struct jsonw *w;
	size_t i;

	for (i = 0; i < nlost; i++) {
		if (strcmp(lost[i].id, id) != 0)
			continue;
		w = auditlog_begin(server->log, "egress_closed", id);
		jsonw_uint(w, "conn", lost[i].conn);
		jsonw_str(w, "name", lost[i].name);
		jsonw_null(w, "bytes_up");
		jsonw_null(w, "bytes_down");
		jsonw_null(w, "duration_s");
		jsonw_str(w, "error", "supervisor_lost");
		if (auditlog_commit(server->log, cause) == -1)
			return -1;
	}
	return 0;
}

void
gate_recover_done(void)
{
	free(lost);
	lost = NULL;
	nlost = caplost = 0;
}
