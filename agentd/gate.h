/* gate: the per-session SSH egress gate (DESIGN §10; gate.c). */
#ifndef AGENTD_GATE_H
#define AGENTD_GATE_H

#include <stdbool.h>

#include <cJSON.h>

#include "jsonw.h"

struct session;
struct shell;
struct gate;
struct gate_handoff;

/* Reads "egress" (NAME=HOST[:PORT] strings) and "isolate_net" from a start
 * request into *gp (NULL when neither is there), for se->gate. 0, or -1
 * with *cause (malloc'ed, may be NULL: out of memory). Nothing listens yet;
 * gate_discard frees one no session took. */
int	 gate_new(struct gate **gp, const cJSON *req, char **cause);
void	 gate_discard(struct gate *);
/* Opens the listeners (127.0.0.1, ephemeral ports) and writes ssh_config
 * (0600, new) into dirfd, the session's directory. 0, or -1 with *cause;
 * what was opened is closed by gate_free. No-op without a gate. */
int	 gate_open(struct session *, int dirfd, char **cause);
/* Closes the listeners and every connection (egress_closed, error
 * "session_end"). Idempotent. */
void	 gate_close(struct session *);
/* gate_close, then frees se->gate. */
void	 gate_free(struct session *);
/* Ends connect attempts past their timeout (from the timer only); returns
 * the nearest such deadline (0: none). */
uint64_t gate_deadlines(struct session *, uint64_t now);
/* Whether the session's shells run under --net gate by default. */
bool	 gate_isolate_default(const struct session *);
/* R/sessions/<id>/ssh_config, or NULL when the session has no entry. */
const char *gate_config_path(const struct session *);
/* Whether this daemon can make a network namespace for a shell: 0, or -1
 * with *cause (one line). */
int	 gate_netns_possible(char **cause);
/* In a shell's child, after fork, before exec: enters a new network
 * namespace (and user namespace when not root) with only loopback up, makes
 * a listener per entry on the gate's port, and sends them over sock. 0, or
 * -1 with errno. */
int	 gate_child_netns(const struct session *, int sock);
/* In the daemon: takes the child's listeners from fd (consumed) when they
 * come; they close with the shell (gate_shell_gone). 0, or -1. */
int	 gate_shell_attach(struct shell *, int fd);
void	 gate_shell_gone(struct shell *);
/* The gate's fields of `created` (egress, isolate_net); none without. */
void	 gate_created_fields(struct jsonw *, const struct session *);
/* `status --json`: isolate_net, ssh_config and the egress array. */
void	 gate_status_fields(struct jsonw *, const struct session *);
/* Recovery (session_recover): notes egress_opened (opened) and
 * egress_closed lines, then writes egress_closed/supervisor_lost for each
 * connection of a lost session left open. */
void	 gate_recover_note(const cJSON *ev, const char *id, bool opened);
int	 gate_recover_close(const char *id, char **cause);
void	 gate_recover_done(void);

#endif
