/* auditctl pubkey: prints the public half of agentd's signing key (DESIGN
 * §11), to keep off the machine and give to verify --pubkey. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "auditctl.h"
#include "checkpoint.h"
#include "privdir.h"

int
cmd_pubkey(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log", required_argument, NULL, 'L' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct checkpoint_key *key;
	struct checkpoint_pub pub;
	char dir[PATH_MAX], shown[PATH_MAX + 16], text[CHECKPOINT_PUB_TEXT];
	char *slash, *cause = NULL;
	const char *keyfile = NULL, *name;
	int ch, sfd, dirfd;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'L':
			log_opt = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'h':
			usage_for("pubkey");
			return 0;
		default:
			die_badopt("pubkey", argv);
		}
	}
	if (optind != argc)
		die_usage("pubkey", "unexpected argument '%s'", argv[optind]);
	if (keyfile != NULL) {
		/* serve --signing-key F: the file as the daemon reads it. */
		strlcpy(dir, keyfile, sizeof(dir));
		if ((slash = strrchr(dir, '/')) == NULL) {
			strlcpy(dir, ".", sizeof(dir));
			name = keyfile;
		} else {
			name = keyfile + (slash - dir) + 1;
			*slash = '\0';
			if (dir[0] == '\0')
				strlcpy(dir, "/", sizeof(dir));
		}
		if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			die("pubkey", "%s: %s", dir, strerror(errno));
		strlcpy(shown, keyfile, sizeof(shown));
	} else {
		/* S/signing/key next to the log, checked as the daemon does. */
		strlcpy(dir, log_path("pubkey"), sizeof(dir));
		if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
			die("pubkey", "%s: no state directory around the log "
			    "(use --key FILE)", dir);
		*slash = '\0';
		if (dir[0] != '/')
			die("pubkey", "%s: want an absolute path (or --key FILE)",
			    dir);
		if ((sfd = privdir_path(dir, 0, &cause)) == -1)
			die("pubkey", "%s", cause ? cause : strerror(errno));
		snprintf(shown, sizeof(shown), "%s/signing", dir);
		if ((dirfd = privdir_at(sfd, "signing", shown, 0, &cause)) == -1)
			die("pubkey", "%s", cause ? cause : strerror(errno));
		close(sfd);
		snprintf(shown, sizeof(shown), "%s/signing/key", dir);
		name = "key";
	}
	key = checkpoint_key_load(dirfd, name, shown, 0, NULL, &cause);
	close(dirfd);
	if (key == NULL)
		die("pubkey", "%s", cause ? cause : strerror(errno));
	checkpoint_key_public(key, &pub);
	checkpoint_key_free(key);
	checkpoint_pub_format(&pub, text);
	fputs(text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
