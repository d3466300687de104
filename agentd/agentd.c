/* agentd: entry point and verb table. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "agentd.h"
#include "duration.h"
#include "escape.h"
#include "version.h"

const char	*dir_opt;

static const struct cmd_entry cmds[] = {
	{ "serve", "serve [--foreground] [--journal] [--max-ttl D] [--no-spare] [--recorder IP:PORT]...\n"
	    "      [--on-recording-failure continue|reject|terminate]\n"
	    "      [--recording-failure-message TEXT]\n"
	    "      [--signing-key FILE] [--checkpoint-interval D]\n"
	    "      [--approval-timeout D] [--approval-delegate URL]\n"
	    "      [--approval-command CMD]", cmd_serve },
	{ "start", "start [--ttl D] [--key-ttl D] [--label L] [-s|-c|--json]\n"
	    "      [--ssh-egress NAME=HOST[:PORT]]... [--isolate-net] [--dry-run]\n"
	    "      [--approve sign] [--allow-dest PATTERN]... [--deny-forwarded]",
	    cmd_start },
	{ "add", "add [--session ID] [--lifetime D] [--confirm] KEYFILE...",
	    cmd_add },
	{ "shell", "shell [--session ID] [-q] [-t|-T] [--net gate] [-- CMD ARGS...]",
	    cmd_shell },
	{ "stop", "stop [--session ID | --all] [-s|-c]", cmd_stop },
	{ "kill", "kill [-s|-c]", cmd_kill },
	{ "status", "status [--json]", cmd_status },
	{ "approvals", "approvals [--json] [--wait]", cmd_approvals },
	{ "approve", "approve [--for D] ID", cmd_approve },
	{ "deny", "deny ID", cmd_deny },
	{ "version", "version", cmd_version },
	{ "tether", NULL, cmd_tether },
};

static void
usage_all(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: agentd [--dir D] VERB [OPTIONS]\n");
	fprintf(fp, "       agentd -k [-s|-c]\n");
	fprintf(fp, "       agentd --version\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].usage != NULL)
			fprintf(fp, "       agentd %s\n", cmds[i].usage);
	}
}

void
usage_for(const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, verb) == 0 && cmds[i].usage != NULL) {
			fprintf(stderr, "usage: agentd %s\n", cmds[i].usage);
			return;
		}
	}
	usage_all(stderr);
}

void
die_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	/* It may echo an argument: escaped like every message (lib/escape). */
	fprintf(stderr, "agentd %s: %s\n", verb,
	    msg ? escape_term_str(msg) : "usage error");
	free(msg);
	usage_for(verb);
	exit(EXIT_USAGE);
}

void
die_getopt(const char *verb, int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	/* opterr = 0 (main): getopt's own messages lack "agentd VERB". A long
	 * option is named as written; a short one by its letter. */
	if (ch == ':') {
		if (strncmp(arg, "--", 2) == 0)
			die_usage(verb, "option '%.*s' requires an argument",
			    (int)strcspn(arg, "="), arg);
		die_usage(verb, "option requires an argument -- '%c'", optopt);
	}
	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		die_usage(verb, "invalid option -- '%c'", optopt);
	if (optopt != 0 && strchr(arg, '=') != NULL)
		die_usage(verb, "option '%.*s' doesn't allow an argument",
		    (int)strcspn(arg, "="), arg);
	die_usage(verb, "unrecognized option '%s'", arg);
}

int
cmd_version(int argc, char **argv)
{
	if (argc > 1)
		die_usage("version", "unexpected argument '%s'", argv[1]);
	printf("agentd %s\n", AGENTD_VERSION);
	return 0;
}

enum eval_format
eval_format_default(void)
{
	const char *shell = getenv("SHELL");
	size_t n = shell != NULL ? strlen(shell) : 0;

	/* Like ssh-agent: csh syntax when $SHELL ends in "csh". */
	return n >= 3 && strcmp(shell + n - 3, "csh") == 0 ? EVAL_CSH : EVAL_SH;
}

int
eval_format_set(const char *verb, enum eval_format *fmt, int *set,
    enum eval_format want)
{
	if (*set && *fmt != want)
		die_usage(verb, "-s, -c and --json exclude each other");
	*fmt = want;
	*set = 1;
	return 0;
}

void
eval_print_unset(enum eval_format fmt)
{
	if (fmt == EVAL_CSH)
		printf("unsetenv SSH_AUTH_SOCK;\nunsetenv AGENTD_SESSION;\n");
	else
		printf("unset SSH_AUTH_SOCK;\nunset AGENTD_SESSION;\n");
}

int
parse_duration_opt(const char *verb, const char *opt, const char *val,
    uint64_t *out)
{
	if (duration_parse(val, out) == -1)
		die_usage(verb, "%s: invalid duration '%s' (examples: 90, 90s, "
		    "15m, 2h, 1h30m, 7d, 1w)", opt, val);
	if (*out == 0)
		die_usage(verb, "%s: duration must be positive", opt);
	return 0;
}

/* Joins a and b into out; -1 when it does not fit. */
static int
join(char *out, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(out, len, "%s%s", a, b) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
roots_resolve(struct roots *r, char **cause)
{
	const char *dir = dir_opt, *v;
	struct passwd *pw;
	char buf[PATH_MAX];

	if (dir == NULL && (v = getenv("AGENTD_DIR")) != NULL && *v != '\0')
		dir = v;
	if (dir != NULL) {
		if (dir[0] != '/') {
			if (getcwd(buf, sizeof(buf)) == NULL ||
			    strlcat(buf, "/", sizeof(buf)) >= sizeof(buf) ||
			    strlcat(buf, dir, sizeof(buf)) >= sizeof(buf))
				goto toolong;
			dir = buf;
		}
		if (join(r->state, sizeof(r->state), dir, "") == -1 ||
		    join(r->run, sizeof(r->run), dir, "/run") == -1)
			goto toolong;
		return 0;
	}
	if ((v = getenv("XDG_RUNTIME_DIR")) != NULL && v[0] == '/') {
		if (join(r->run, sizeof(r->run), v, "/agentd") == -1)
			goto toolong;
	} else
		snprintf(r->run, sizeof(r->run), "/tmp/agentd-%lu",
		    (unsigned long)geteuid());
	if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] == '/') {
		if (join(r->state, sizeof(r->state), v, "/agentd") == -1)
			goto toolong;
		return 0;
	}
	if ((v = getenv("HOME")) == NULL || v[0] != '/') {
		if ((pw = getpwuid(geteuid())) == NULL) {
			if (asprintf(cause, "cannot find the home directory of "
			    "uid %lu", (unsigned long)geteuid()) == -1)
				*cause = NULL;
			return -1;
		}
		v = pw->pw_dir;
	}
	if (join(r->state, sizeof(r->state), v, "/.local/state/agentd") == -1)
		goto toolong;
	return 0;
toolong:
	if (asprintf(cause, "agentd directory path is too long") == -1)
		*cause = NULL;
	return -1;
}

int
main(int argc, char **argv)
{
	size_t i;
	int argi = 1;

	/* A daemon that drops us is an error to report, not a silent death
	 * (exit 141); children that exec reset SIGPIPE to the default. */
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;	/* every verb prints its own "agentd VERB: ..." */
	/* --dir may stand before the verb too: agentd --dir D start. */
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "--dir") == 0 && argi + 1 < argc) {
			dir_opt = argv[argi + 1];
			argi += 2;
		} else if (strncmp(argv[argi], "--dir=", 6) == 0) {
			dir_opt = argv[argi] + 6;
			argi++;
		} else if (strcmp(argv[argi], "-k") == 0) {
			/* ssh-agent -k: the kill verb, with what follows. */
			return cmd_kill(argc - argi, argv + argi);
		} else if (strcmp(argv[argi], "--version") == 0 ||
		    strcmp(argv[argi], "-V") == 0) {
			printf("agentd %s\n", AGENTD_VERSION);
			return 0;
		} else if (strcmp(argv[argi], "-h") == 0 ||
		    strcmp(argv[argi], "--help") == 0) {
			usage_all(stdout);
			return 0;
		} else {
			fprintf(stderr, "agentd: unknown option '%s'\n",
			    escape_term_str(argv[argi]));
			usage_all(stderr);
			return EXIT_USAGE;
		}
	}
	if (argi >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, argv[argi]) == 0)
			return cmds[i].exec(argc - argi, argv + argi);
	}
	fprintf(stderr, "agentd: unknown verb '%s'\n",
	    escape_term_str(argv[argi]));
	usage_all(stderr);
	return EXIT_USAGE;
}
