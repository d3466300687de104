/* auditctl: the read-only audit log CLI (DESIGN §7). */
#ifndef AUDITCTL_AUDITCTL_H
#define AUDITCTL_AUDITCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auditfold.h"

#define EXIT_USAGE	2

struct cmd_entry {
	const char	*name;
	const char	*alias;		/* another spelling, or NULL */
	const char	*usage;
	int		(*exec)(int argc, char **argv);
};

/* auditctl.c */
extern const char	*log_opt;	/* the last --log (logset.h holds them all) */
extern const char	*now_opt;	/* --now: a fixed "now" for reproducible output */
void	 usage_for(const char *verb);
void	 die_usage(const char *verb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	 die(const char *verb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* The log to read: --log, $AGENTD_DIR/audit.jsonl, $XDG_STATE_HOME/agentd/...,
 * ~/.local/state/agentd/audit.jsonl. Dies on failure. */
const char	*log_path(const char *verb);
/* For getopt_long's '?': names the refused argument (escaped), prints the
 * usage and exits 2. */
void	 die_badopt(const char *verb, char **argv)
	    __attribute__((noreturn));
/* Opens the log read-only ("-" is stdin); dies with a clear message. */
int	 log_open(const char *verb, const char *path);
/* 1 when a process (a running agentd) holds the flock on the log, 0 when
 * none does (unended sessions are then orphaned). */
int	 log_daemon_holds(int fd);
/* Reads the whole log into f; warnings go to stderr, at most a few lines plus
 * a count. Dies on a read error. */
void	 log_fold(const char *verb, const char *path, int fd, struct auditfold *f);
/* Now in microseconds (or --now). */
int64_t	 now_us(const char *verb);
/* --since D: the cutoff (now - D) in microseconds. */
int64_t	 since_cutoff(const char *verb, const char *val, int64_t now);
/* RFC 3339 with microseconds of t into out[32]. */
void	 fmt_time(int64_t us, char *out);
/* Write len bytes of a user's or the log's string to fp escaped for a
 * terminal / a Markdown table cell (lib/escape: controls made visible, so a
 * label cannot drive the reader's terminal or forge a row). Return the
 * number of bytes written. Die when memory runs out. */
size_t	 put_safe(FILE *fp, const char *s, size_t len);
size_t	 put_md(FILE *fp, const char *s, size_t len);
/* Writes JSON text with DEL, C1 and hidden characters in its strings as
 * \u escapes (lib/escape): the same JSON, safe on a terminal. */
void	 put_json(FILE *fp, const char *s, size_t len);
/* Writes "auditctl VERB: " (no prefix when verb is NULL) and the formatted
 * message, escaped as a whole (lib/escape), and a newline. */
void	 put_message(FILE *fp, const char *verb, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));
/* Elapsed seconds a->b rounded up / to nearest; 0 if b < a. */
uint64_t elapsed_ceil_s(int64_t a, int64_t b);
uint64_t elapsed_round_s(int64_t a, int64_t b);

/* Row helpers shared by list and show. */
const char	*row_state(const struct auditfold_row *, int daemon);
uint64_t	 row_duration(const struct auditfold_row *, int daemon, int64_t now);

/* cmd-list.c: one row as the JSON object --list --json prints. */
struct logchain;
void	 list_print_json(FILE *, const struct logchain *,
	    const struct auditfold *, const struct auditfold_row *, int daemon,
	    int64_t now);

int	 cmd_list(int, char **);
int	 cmd_show(int, char **);
int	 cmd_ttl_evidence(int, char **);
int	 cmd_verify(int, char **);
int	 cmd_version(int, char **);
int	 cmd_report(int, char **);
int	 cmd_pubkey(int, char **);

#endif
