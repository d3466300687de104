/* server: the daemon's internals, shared by server.c, session.c and relay.c.
 * One process, one epoll loop; every fd registers a struct evh whose callback
 * runs when it is ready. Signals come through a signalfd, children through
 * pidfds, deadlines through one timerfd armed at the nearest one. */
#ifndef AGENTD_SERVER_H
#define AGENTD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bsd/sys/queue.h>
#include <sys/types.h>
#include <time.h>

#include <cJSON.h>

#include "agentd.h"
#include "agentproto.h"
#include "bq.h"
#include "cast.h"
#include "ctlmsg.h"
#include "ids.h"
#include "jsonw.h"
#include "procinfo.h"
#include "gate.h"

#define SUN_PATH_MAX	108
#define NS		1000000000ull	/* nanoseconds per second */

/* The object that embeds the struct evh (or other member) p points to. */
#define CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))
#define MAX_CTLCONNS	1024
#define MAX_RELAYS	256	/* client connections per session */
/* No client can starve the daemon (DESIGN-NOTES.md, "Starvation"): a
 * control connection has this long to send its whole request (and later to
 * take its reply); so has an agent client with half a frame sent or replies
 * it does not read. An agent client with nothing in flight may stay idle
 * much longer: an ssh session keeps its agent connection. */
#define CTL_REQUEST_TIMEOUT_S	10
#define RELAY_STALL_TIMEOUT_S	10
#define CTL_GRACE_NS		(2 * NS)	/* before a young control
					   connection may go at the fd limit */
#define RELAY_IDLE_TIMEOUT_S	3600
#define MAX_KEYS	256	/* keys tracked per session */

struct evh {
	void		(*cb)(struct evh *, uint32_t events);
	uint32_t	 events;	/* as registered: ev_mod skips no-ops */
	bool		 live;		/* registered; false after ev_del */
};

struct ctlconn {
	TAILQ_ENTRY(ctlconn)	 entry;
	TAILQ_ENTRY(ctlconn)	 wait_entry;	/* on the timeout queue */
	uint64_t		 deadline_ns;	/* 0: not on it */
	uint64_t		 waiting_ns;	/* when it went on it */
	struct evh		 ev;
	int			 fd;
	pid_t			 peer_pid;
	uid_t			 peer_uid;
	struct ctlmsg_in	 in;
	struct jsonw		 out;		/* reply being written */
	size_t			 outoff;
	int			 refs;		/* sessions that will answer */
	bool			 closed;	/* fd gone; freed when refs == 0 */
	bool			 dispatched;	/* request read, reply pending */
	bool			 replied;
	struct jsonw		 stopped;	/* ids for a pending stop */
	bool			 stop_failed;
};

enum session_state {
	SESSION_STARTING,	/* ssh-agent spawned, not yet ready */
	SESSION_SPARE,		/* ready, waiting for a start to claim it */
	SESSION_ACTIVE,		/* `created` is durable */
	SESSION_STOPPING,	/* agent signalled, waiting for it to end */
};

struct session_key {
	struct agentproto_key	key;
	uint64_t		expires_ns;	/* CLOCK_BOOTTIME */
	bool			card;		/* from a PKCS#11 provider */
	bool			confirm;	/* each use waits for approval */
};

struct stop_waiter {
	TAILQ_ENTRY(stop_waiter)	 entry;
	struct ctlconn			*c;
};

struct relay;
struct session;

/* A linked shell: the daemon's PTY between the client's terminal and a
 * command, recorded (shell.c). */
/* One of a shell's outputs: read from src, recorded, written to the client. */
struct shell_out {
	struct shell		*sh;
	int			 src;		/* PTY master or a pipe of ours */
	struct evh		 src_ev;	/* pipes only: ptm_ev serves the PTY */
	bool			 eof;		/* src gave EOF (EIO: no slave left) */
	int			 fd;		/* the client's stdout or stderr */
	struct evh		 fd_ev;
	bool			 polled;	/* false: a regular file */
	struct bq		 q;		/* what fd did not take yet */
};

struct shell {
	TAILQ_ENTRY(shell)	 entry;
	struct session		*se;
	int			 n;		/* 1, 2, … within the session */
	pid_t			 pid;
	int			 pidfd;
	struct evh		 pid_ev;
	bool			 tty;		/* on a PTY; false: on pipes */
	bool			 in_tty;	/* the client's stdin is a terminal */
	int			 ptm;		/* PTY master, -1 on pipes */
	struct evh		 ptm_ev;
	int			 pts;		/* PTY slave, held while EOF is owed */
	int			 in_fd;		/* the client's stdin (PTY only) */
	struct evh		 in_ev;
	bool			 in_polled;	/* false: a regular file */
	struct shell_out	 out[2];	/* stdout (or the PTY), stderr */
	int			 ctl_fd;	/* the client's control connection */
	struct evh		 ctl_ev;
	struct ctlmsg_in	 ctlin;
	int			 sync_fd;	/* releases the child once logged */
	struct bq		 to_pty;
	struct cast		 cast;
	bool			 recording_open;
	bool			 cast_warned;
	char			*recording;
	unsigned		 cols;		/* applied and recorded */
	unsigned		 rows;
	unsigned		 want_cols;	/* last asked for */
	unsigned		 want_rows;
	uint64_t		 resize_ns;	/* next resize allowed */
	uint64_t		 bytes_out;
	bool			 logged;	/* shell_started is durable */
	bool			 in_eof;
	unsigned char		 last_in;	/* the last byte of input read */
	int			 eofs_owed;	/* VEOFs to write once input is read */
	bool			 eof_watch;	/* an EOF went in canonical mode */
	uint64_t		 eof_ns;	/* next look at the slave's queue */
	bool			 client_gone;
	bool			 exited;
	bool			 finished;
	int			 status;	/* wait status */
	uint64_t		 drain_ns;
	struct recstream	*rec;		/* remote recorder, or NULL */
	struct ctlconn		*starter;	/* waits for the recorder */
	char			**start_argv;	/* kept while it waits */
	char			**start_envp;
	char			*start_cwd;
	bool			 net_gate;	/* in the gate's namespace */
	struct gate_handoff	*gate_handoff;	/* its listeners, on their way */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	char			 id[IDS_LEN + 1];
	char			 label[LABEL_MAX];
	enum session_state	 state;
	const char		*exit_reason;	/* set when stopping */
	bool			 created_logged; /* an end event is owed */
	bool			 spare;		/* started ahead, unclaimed */
	bool			 approve_sign;	/* --approve sign: every sign waits */
	char			**allow_dest;	/* --allow-dest patterns, or NULL */
	size_t			 nallow_dest;
	bool			 deny_forwarded;	/* --deny-forwarded */

	uint64_t		 ttl_s;
	uint64_t		 key_ttl_s;
	struct timespec		 created_rt;
	uint64_t		 deadline_ns;	/* TTL, CLOCK_BOOTTIME */
	uint64_t		 kill_ns;	/* next escalation, 0 = none */
	int			 kill_step;

	int			 dirfd;
	char			 sock_path[SUN_PATH_MAX];
	char			 up_path[SUN_PATH_MAX];

	pid_t			 tether_pid;
	int			 tether_pidfd;
	struct evh		 tether_ev;
	uint64_t		 tether_start;
	int			 report_fd;
	struct evh		 report_ev;
	char			 report[1024];
	size_t			 reportlen;
	int			 agent_status;	/* from "exit N", -1 until then */

	pid_t			 agent_pid;
	int			 agent_pidfd;
	uint64_t		 agent_start;

	int			 listen_fd;
	struct evh		 listen_ev;
	TAILQ_HEAD(, relay)	 relays;
	size_t			 nrelays;
	/* Relays the cap may evict, least recently active first (relay.c). */
	TAILQ_HEAD(, relay)	 relays_stalled;
	TAILQ_HEAD(, relay)	 relays_idle;

	struct session_key	*keys;
	size_t			 nkeys;

	TAILQ_HEAD(, shell)	 shells;
	size_t			 nshells;
	int			 shells_started;
	int			 recdirfd;	/* S/recordings/<id>, or -1 */
	bool			 tether_done;	/* reaped; end waits for shells */

	struct ctlconn		*starter;	/* answered when ready or gone */
	char			*abort_msg;	/* why a start failed */
	TAILQ_HEAD(, stop_waiter) waiters;
	struct gate		*gate;		/* --ssh-egress (gate.c), or NULL */
};

TAILQ_HEAD(sessions, session);

struct server {
	struct roots		 roots;
	uint64_t		 max_ttl;
	int			 epfd;
	int			 sigfd;
	struct evh		 sig_ev;
	int			 timerfd;
	struct evh		 timer_ev;
	int			 ctlfd;
	struct evh		 ctl_ev;
	int			 rundirfd;
	int			 sessdirfd;
	int			 statedirfd;
	int			 pidfilefd;
	struct auditlog		*log;
	char			 exe[PATH_MAX];
	char			 tether[PATH_MAX];	/* "": agentd tether */
	char			 ssh_agent[PATH_MAX];
	char			 boot_id[PROCINFO_BOOTID_LEN + 1];
	char			 user[64];
	char			 host[256];
	struct sessions		 sessions;
	struct session		*spare;		/* see spare_want() */
	bool			 spare_enabled;
	size_t			 nsessions;
	TAILQ_HEAD(, ctlconn)	 conns;
	size_t			 nconns;
	bool			 shutting_down;
	struct ctlconn		*killer;	/* agentd kill, answered at exit */
	uint64_t		 timer_ns;	/* armed for, 0: disarmed */
	uint64_t		 fd_short_ns;	/* last shortage, 0: none yet */
	bool			 accept_paused;	/* listeners not polled */
	uint64_t		 accept_retry_ns;
};

extern struct server	*server;

/* server.c */
void	 ev_add(int fd, uint32_t events, struct evh *);
void	 ev_mod(int fd, uint32_t events, struct evh *);
void	 ev_del(int fd);
/* ev_add that returns -1 with errno (EPERM: a regular file) instead. */
int	 ev_try_add(int fd, uint32_t events, struct evh *);
/* Frees an object that owns handlers once the current event batch is done
 * (its ev_del'ed handlers are skipped until then). */
void	 ev_free_later(void *);
uint64_t now_boot_ns(void);
/*
 * fork(2) for a child that will exec (a tether, a shell): every signal is
 * blocked across the fork, and the child starts with each disposition at its
 * default and an empty mask. A signal sent to the new pid before its exec
 * then acts as it would on the program, never through a handler of ours (or
 * of a sanitizer). Returns as fork(2).
 */
pid_t	 server_fork(void);
/*
 * Accepts the next connection on the unix listener lfd from a peer of our
 * own uid (SO_PEERCRED); a peer of another uid is closed, with a warning
 * naming what ("control", "session ID"); *cred gets the peer's pid, uid
 * and gid. Retries through EINTR,
 * ECONNABORTED and a descriptor shortage server_fd_shortage relieves.
 * Returns a non-blocking, close-on-exec fd, or -1 when nothing more can be
 * taken now (errno as accept4 left it).
 */
struct ucred;
int	 server_accept_own(int lfd, const char *what, struct ucred *cred);
/* Runs every deadline that is due and arms the timer at the nearest. */
void	 server_rearm_timer(void);
/* Makes sure the timer fires no later than when (CLOCK_BOOTTIME ns); a
 * deadline that goes away early costs one spurious wake-up, no more. */
void	 server_timer_at(uint64_t when);
/* errno says a new connection failed for lack of resources (descriptors:
 * EMFILE, ENFILE; kernel memory: ENOBUFS, ENOMEM). */
bool	 server_fd_error(int err);
/* After such an error err: for a lack of descriptors, frees one held by a
 * connection that does nothing (the oldest control connection without its
 * request, else the oldest stalled, else the oldest idle agent client) and
 * returns 0: try again. Otherwise pauses every listener (until a connection
 * closes or a second passes) and returns -1. Warns once per episode (it
 * ends after a minute without a shortage). */
int	 server_fd_shortage(int err);
/* A connection was closed: the reserve refills, paused listeners resume. */
void	 server_fd_freed(void);
/* Epoll interest for a listener (0 while accepts are paused). */
uint32_t server_listen_events(void);
/* The descriptors kept for clean-up at the limit: released around work that
 * must not fail for lack of one (removing a session's directory). */
void	 server_fd_reserve_release(void);
void	 server_fd_reserve_restore(void);
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Replies: ok with the fields the writer callback adds (may be NULL). */
void	 ctl_reply_ok(struct ctlconn *, void (*fields)(struct jsonw *, void *),
	    void *arg);
void	 ctl_reply_error(struct ctlconn *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ctl_unref(struct ctlconn *);
/* Hands the connection's fd to a new owner (a shell): the conn is done. */
int	 ctl_take_over(struct ctlconn *);

/* session.c */
struct session *session_find(const char *id);
/*
 * The session a client's --session names (DESIGN §7): a full id, a unique id
 * prefix, or the label of one active session (the rule: lib/ids). Only
 * active sessions count, and stopping ones when stopping_ok. Returns it, or
 * NULL after replying the error to c (none; several, listed on one line).
 */
struct session *session_target(struct ctlconn *, const char *query,
	    bool stopping_ok);
/* A shell of se ended: the session may finish now. */
void	 session_shell_gone(struct session *);
/* Whole seconds until the session's TTL ends (0 once it has). */
uint64_t session_remaining_s(const struct session *);
void	 session_start(struct ctlconn *, const cJSON *req);
void	 session_stop_request(struct ctlconn *, const cJSON *req);
void	 session_add(struct ctlconn *, const cJSON *req);
/* agentd kill: c waits for the end of every session (and holds a ref);
 * session_kill_reply answers it when the daemon is done, and unrefs. */
void	 session_kill_request(struct ctlconn *);
void	 session_kill_reply(struct ctlconn *);
void	 session_status(struct ctlconn *);
/* Begins ending a session with reason (stopped/...); no-op when stopping. */
void	 session_end(struct session *, const char *reason);
/* Runs deadlines that are due; returns the nearest future one (0: none). */
uint64_t session_deadlines(uint64_t now);
/* At start: ends what a dead daemon left behind (crashed/supervisor_lost). */
int	 session_recover(char **cause);
void	 session_rotated_fields(struct jsonw *, void *);
void	 session_shutdown_all(void);

/* keys.c: the keys a session's agent holds, and the key_* events. Each
 * writer returns 0, or -1 with *cause when the event is not durable. */
uint32_t keys_lifetime_cap(const struct session *, int has_lifetime,
	    uint32_t want);
/* asked: the lifetime the client asked for, -1 when it asked none. */
int	 keys_loaded(struct session *, const struct agentproto_key *,
	    uint32_t lifetime, int64_t asked, int confirm, const char *provider,
	    char **cause);
/* Whether the session's agent holds this identity, as far as we know. */
bool	 keys_held(struct session *, const struct agentproto_key *);
/* After a smartcard removal: key_removed/requested for each card key not in
 * the agent's list any more. */
void	 keys_card_gone(struct session *, const struct agentproto_key *list,
	    size_t n);
/* agent_locked (lock != 0) or agent_unlocked, never the password. */
int	 keys_lock_event(struct session *, int lock, int ok, pid_t client_pid,
	    char **cause);
int	 keys_removed(struct session *, const struct agentproto_key *,
	    const char *reason, char **cause);
void	 keys_removed_all(struct session *, const char *reason);
/* key_used: hops are the connection's session-binds in order; the last one
 * is dest_hostkey; caller as read at connect; refused (NULL: none) says why
 * the relay itself refused it (DESIGN §8: dest, forwarded, denied). */
int	 keys_used(struct session *, const struct agentproto_key *, int ok,
	    const struct agentproto_hop *hops, size_t nhops,
	    const struct procinfo_caller *caller, const char *refused,
	    char **cause);
/* Whether the key was added with confirm (its uses wait for approval). */
bool	 keys_confirm(struct session *, const struct agentproto_key *);
/* The "caller" object and the "hops" array, as key_used writes them. */
void	 keys_caller_json(struct jsonw *, const struct procinfo_caller *);
void	 keys_hops_json(struct jsonw *, const struct agentproto_hop *,
	    size_t nhops);
/* Writes key_removed/expired for keys past their lifetime; returns the
 * nearest future expiry (0: none). */
uint64_t keys_expire(struct session *, uint64_t now);

/* shell.c */
void	 shell_start(struct ctlconn *, const cJSON *req);
void	 shell_hangup(struct shell *);
void	 shell_kill_all(struct session *, int sig);
/* Ends shells whose output drain is over; returns the nearest deadline. */
uint64_t shell_deadlines(struct session *, uint64_t now);

/* checkpoint.c: signed checkpoints of the audit chain (DESIGN §11). */
#define CHECKPOINT_INTERVAL_S	60
/* Loads (or makes) the signing key, hooks into the log, signs an unsigned
 * tail left by a dead daemon. 0, or -1 with *cause: the daemon refuses to
 * start. last_event: the log's last line's event ("" for none). */
int	 checkpoint_init(const struct serve_opts *, const char *last_event,
	    char **cause);
/* Writes a checkpoint now if any line is unsigned (why: for a warning). */
void	 checkpoint_now(const char *why);
/* When the interval's checkpoint is due (0: none), and running it. */
uint64_t checkpoint_deadline(void);
void	 checkpoint_expire(uint64_t now);
/* Unhooks from the log and wipes the key. */
void	 checkpoint_cleanup(void);

/* relay.c: the public agent socket, relayed to ssh-agent. */
void	 relay_accept(struct session *);
void	 relay_close_all(struct session *);
/* Drops agent clients past their stall or idle timeout (from the timer
 * only: never under a relay's own callback). */
void	 relay_expire(uint64_t now);
/* The nearest stall or idle deadline of any agent client (0: none). */
uint64_t relay_next_deadline(void);
/* Closes the agent client (of se, or of any session if NULL) that has done
 * nothing the longest, stalled ones first; 0, or -1 when none is quiet. */
int	 relay_evict(struct session *se);

/* approval.c: held signatures (DESIGN §8). */
struct approval;
/* 0, or -1 with *cause (libcurl missing for --approval-delegate). */
int	 approval_init(const struct serve_opts *, char **cause);
/* Whether a signature with key must wait (--approve sign, a confirm key). */
bool	 approval_needed(struct session *, const struct agentproto_key *);
/*
 * Logs approval_requested for a signature the relay r holds. Returns 1 when
 * a remembered approval (--for) decided it at once (approval_decided is
 * durable), 0 when it is held (*out; relay_decided(r, …) follows later, never
 * from inside this call), -1 when an event could not be written (refuse).
 */
int	 approval_request(struct relay *r, struct session *,
	    const struct agentproto_key *, const struct agentproto_hop *hops,
	    size_t nhops, const struct procinfo_caller *, struct approval **out);
/* The relay is going away (by: client_gone, session_end): logs expired. */
void	 approval_cancel(struct approval *, const char *by);
/* Denies (expired/timeout) what waited too long; the nearest deadline. */
uint64_t approval_deadlines(uint64_t now);
void	 approval_list(struct ctlconn *, const cJSON *req);
void	 approval_decide(struct ctlconn *, const cJSON *req);
void	 approval_cleanup(void);
/* The session's destination policy (DESIGN §8) for a sign over hops: NULL
 * when allowed, else why not ("dest", "forwarded"). */
const char *approval_policy(struct session *,
	    const struct agentproto_hop *hops, size_t nhops);
/* Reads start's allow_dest (a malloc'ed array of malloc'ed patterns, NULL
 * when none) and deny_forwarded; -1 after replying the error to c. */
int	 approval_parse_opts(struct ctlconn *, const cJSON *req,
	    char ***allow, size_t *nallow, bool *deny_forwarded);
/* relay.c: the decision on a held signature (false: refuse it). */
void	 relay_decided(struct relay *, bool approved);

#endif
