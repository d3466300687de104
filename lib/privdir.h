/* privdir: the one way agentd makes or accepts a private place (DESIGN §2).
 *
 * A directory is accepted only when it is a real directory (never followed
 * through a symlink), owned by the effective uid, and of mode exactly 0700.
 * Nothing is ever chmod'ed or chown'ed into compliance: a wrong place is
 * refused and left untouched. New directories are made with mkdirat(…, 0700)
 * under umask 077 relative to an already verified parent descriptor, then
 * opened O_DIRECTORY|O_NOFOLLOW and checked again with fstat on that fd.
 *
 * All functions return -1 with errno set on failure and, when cause is not
 * NULL, *cause set to a one-line malloc'ed message naming the path and what is
 * wrong (caller frees). They never print and never exit. */
#ifndef AGENTD_PRIVDIR_H
#define AGENTD_PRIVDIR_H

#include <sys/types.h>

#define PRIVDIR_CREATE	0x1	/* create the directory when it is missing */
#define PRIVDIR_EXCL	0x2	/* it must not exist before (implies CREATE) */

/*
 * Opens the private directory `name` (one path component) below the verified
 * directory fd `dirfd`. `shown` is the full path used in messages. Returns an
 * O_DIRECTORY|O_CLOEXEC fd of the verified directory.
 *
 * Refusals (errno): not a directory or a symlink (ENOTDIR / ELOOP), owned by
 * another uid (EPERM), mode other than 0700 (EPERM), exists in any form with
 * EXCL (EEXIST), missing without CREATE (ENOENT), `name` not a single path
 * component (EINVAL).
 */
int	privdir_at(int dirfd, const char *name, const char *shown, int flags,
	    char **cause);

/*
 * Opens the absolute `path` as a private directory. Every ancestor from "/"
 * is opened with O_DIRECTORY|O_NOFOLLOW relative to the previous one and must
 * be owned by root or the effective uid and not writable by group or others
 * unless it has the sticky bit (like /tmp). With PRIVDIR_CREATE, missing
 * components are created as private directories (like mkdir -p, mode 0700);
 * the final component must pass the privdir_at rules either way. A symlink
 * anywhere on the path, ancestors included, is refused (ELOOP). Repeated
 * slashes are collapsed; a relative path or a "." or ".." component is EINVAL.
 */
int	privdir_path(const char *path, int flags, char **cause);

/*
 * Creates a listening AF_UNIX stream socket named `name` inside the verified
 * directory fd `dirfd`, mode 0600 (bound under umask 0177), bound through
 * /proc/self/fd/<dirfd>/<name> so that no path prefix is resolved again.
 * `shown` is the socket's full path used in messages.
 * With `replace`, an existing *socket* of that name is unlinked first (the
 * caller must hold the lock that proves no one else serves it); any other
 * existing file, a symlink included, is refused (EEXIST). Without `replace`
 * an existing name fails with EADDRINUSE; a name too long for sun_path via
 * /proc/self/fd is ENAMETOOLONG. Returns a listening (backlog 128),
 * non-blocking, close-on-exec fd.
 */
int	privdir_listen(int dirfd, const char *name, const char *shown,
	    int replace, char **cause);

/*
 * Opens (creating it 0600 when missing) the regular file `name` inside the
 * verified directory fd `dirfd` for appending: O_WRONLY|O_APPEND|O_CREAT|
 * O_NOFOLLOW|O_NOCTTY|O_CLOEXEC, and O_NONBLOCK for the open itself so that a FIFO
 * planted there can never block us (cleared again on success). The opened fd
 * must be a regular file owned by the effective uid and not writable by group
 * or others. `shown` is the file's full path used in messages.
 *
 * Refusals (errno): a symlink (ELOOP), a directory, FIFO, socket or device
 * (EINVAL, the message naming the type), owned by another uid or writable by
 * group or others (EPERM), `name` not a single path component (EINVAL).
 * Returns the fd, or -1.
 */
int	privdir_append_file(int dirfd, const char *name, const char *shown,
	    char **cause);

/*
 * Removes the directory `name` below `dirfd` and everything inside it, never
 * following a symlink (symlinks are unlinked, not followed). Meant for session
 * directories, which hold at most two levels: a tree of more than four
 * directory levels (counting `name`) is ELOOP, possibly after part of it was
 * removed. `name` itself must be a real directory (else ELOOP / ENOTDIR).
 * Messages name the path as found through /proc/self/fd/<dirfd>. Returns 0
 * also when `name` does not exist.
 */
int	privdir_remove(int dirfd, const char *name, char **cause);

#endif
