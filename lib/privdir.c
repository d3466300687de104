/* privdir: race-safe private directories and sockets. See privdir.h. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cause.h"
#include "privdir.h"

#define PRIVDIR_OPEN	(O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)
#define PRIVDIR_BACKLOG	128
/* Session directories hold two levels; anything deeper is not ours. */
#define PRIVDIR_REMOVE_DEPTH 4

/* Closes fd without letting close() clobber the errno being reported. */
static void
privdir_close(int fd)
{
	int	saved = errno;

	close(fd);
	errno = saved;
}

static const char *
privdir_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFSOCK:
		return "socket";
	case S_IFIFO:
		return "fifo";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	}
	return "special file";
}

/* One path component: openat must never walk anywhere but below dirfd. */
static int
privdir_name_ok(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The rules for the private directory itself. */
static int
privdir_check_private(const struct stat *st, const char *shown, char **cause)
{
	if (S_ISLNK(st->st_mode))
		return cause_fail(cause, ELOOP,
		    "%s: is a symbolic link (refusing to follow it)", shown);
	if (!S_ISDIR(st->st_mode))
		return cause_fail(cause, ENOTDIR, "%s: is a %s, not a directory",
		    shown, privdir_type(st->st_mode));
	if (st->st_uid != geteuid())
		return cause_fail(cause, EPERM, "%s: owned by uid %lu, not %lu",
		    shown, (unsigned long)st->st_uid, (unsigned long)geteuid());
	if ((st->st_mode & 07777) != 0700)
		return cause_fail(cause, EPERM, "%s: mode %04o, expected exactly "
		    "0700 (refusing to use it; fix or remove it yourself)", shown,
		    (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * The rules for a directory on the way: nobody but root and us may be able to
 * swap what lies below it. The sticky bit makes a shared directory like /tmp
 * safe, because others cannot rename or remove entries they do not own.
 */
static int
privdir_check_ancestor(const struct stat *st, const char *shown, char **cause)
{
	if (S_ISLNK(st->st_mode))
		return cause_fail(cause, ELOOP, "%s: is a symbolic link "
		    "(symlinked ancestors are refused)", shown);
	if (!S_ISDIR(st->st_mode))
		return cause_fail(cause, ENOTDIR, "%s: is a %s, not a directory",
		    shown, privdir_type(st->st_mode));
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return cause_fail(cause, EPERM,
		    "%s: owned by uid %lu, expected root or uid %lu", shown,
		    (unsigned long)st->st_uid, (unsigned long)geteuid());
	if ((st->st_mode & (S_IWGRP|S_IWOTH)) != 0 &&
	    (st->st_mode & S_ISVTX) == 0)
		return cause_fail(cause, EPERM, "%s: mode %04o, writable by "
		    "group or others and not sticky", shown,
		    (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * Explains a failed openat: O_NOFOLLOW|O_DIRECTORY gives ELOOP or ENOTDIR
 * for a symlink and ENOTDIR for other files, and EACCES hides a wrong owner,
 * so look at the name itself (without following it) to say what is wrong.
 */
static int
privdir_open_error(int dirfd, const char *name, const char *shown, int error,
    int ancestor, char **cause)
{
	struct stat	st;
	int		r;

	if (error == ENOENT)
		return cause_fail(cause, ENOENT, "%s: does not exist", shown);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (ancestor)
			r = privdir_check_ancestor(&st, shown, cause);
		else
			r = privdir_check_private(&st, shown, cause);
		if (r == -1)
			return -1;
	}
	return cause_fail(cause, error, "%s: %s", shown, strerror(error));
}

/* umask is process-wide; agentd sets it only from its single thread. */
static int
privdir_mkdir(int dirfd, const char *name)
{
	mode_t	old;
	int	r, saved;

	old = umask(077);
	r = mkdirat(dirfd, name, 0700);
	saved = errno;
	umask(old);
	errno = saved;
	return r;
}

/* Checks the opened fd (not the name, which may have changed since). */
static int
privdir_verify(int fd, const char *shown, int ancestor, char **cause)
{
	struct stat	st;
	int		r;

	if (fstat(fd, &st) == -1)
		r = cause_fail(cause, errno, "%s: fstat: %s", shown,
		    strerror(errno));
	else if (ancestor)
		r = privdir_check_ancestor(&st, shown, cause);
	else
		r = privdir_check_private(&st, shown, cause);
	if (r == -1) {
		privdir_close(fd);
		return -1;
	}
	return fd;
}

int
privdir_at(int dirfd, const char *name, const char *shown, int flags,
    char **cause)
{
	int	fd, error;

	if (!privdir_name_ok(name))
		return cause_fail(cause, EINVAL,
		    "%s: not a single path component", shown);

	if (flags & PRIVDIR_EXCL) {
		/* mkdirat fails with EEXIST for anything there, even a
		 * dangling symlink, so nothing is ever reused. */
		if (privdir_mkdir(dirfd, name) == -1) {
			error = errno;
			if (error == EEXIST)
				return cause_fail(cause, EEXIST,
				    "%s: already exists", shown);
			return cause_fail(cause, error, "%s: mkdir: %s", shown,
			    strerror(error));
		}
		fd = openat(dirfd, name, PRIVDIR_OPEN);
	} else {
		fd = openat(dirfd, name, PRIVDIR_OPEN);
		if (fd == -1 && errno == ENOENT && (flags & PRIVDIR_CREATE)) {
			/* Losing a race to another creator is fine: the
			 * fstat below decides whether it is acceptable. */
			if (privdir_mkdir(dirfd, name) == -1 && errno != EEXIST) {
				error = errno;
				return cause_fail(cause, error,
				    "%s: mkdir: %s", shown, strerror(error));
			}
			fd = openat(dirfd, name, PRIVDIR_OPEN);
		}
	}
	if (fd == -1)
		return privdir_open_error(dirfd, name, shown, errno, 0, cause);
	return privdir_verify(fd, shown, 0, cause);
}

/*
 * Opens one intermediate component. A directory made here must be private;
 * one that was already there only has to be safe to walk through.
 */
static int
privdir_ancestor(int dirfd, const char *name, const char *shown, int create,
    char **cause)
{
	int	fd, error, created = 0;

	fd = openat(dirfd, name, PRIVDIR_OPEN);
	if (fd == -1 && errno == ENOENT && create) {
		if (privdir_mkdir(dirfd, name) == 0)
			created = 1;
		else if (errno != EEXIST) {
			error = errno;
			return cause_fail(cause, error, "%s: mkdir: %s", shown,
			    strerror(error));
		}
		fd = openat(dirfd, name, PRIVDIR_OPEN);
	}
	if (fd == -1)
		return privdir_open_error(dirfd, name, shown, errno, !created,
		    cause);
	return privdir_verify(fd, shown, !created, cause);
}

/* Rejects relative paths and "." or ".." before anything is created. */
static int
privdir_path_check(const char *path, char **cause)
{
	const char	*p;
	size_t		 n, count = 0;

	if (path[0] != '/')
		return cause_fail(cause, EINVAL, "%s: not an absolute path",
		    path);
	if (strlen(path) >= PATH_MAX)
		return cause_fail(cause, ENAMETOOLONG, "%.64s...: path too long",
		    path);
	for (p = path; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return cause_fail(cause, EINVAL,
			    "%s: \".\" and \"..\" are not allowed", path);
		if (n > NAME_MAX)
			return cause_fail(cause, ENAMETOOLONG,
			    "%s: component too long", path);
		count++;
	}
	if (count == 0)
		return cause_fail(cause, EINVAL, "%s: no directory name", path);
	return 0;
}

/*
 * Every component is opened with O_NOFOLLOW relative to the previous one, so
 * a symlink anywhere on the path, even an ancestor like a symlinked /tmp, is
 * refused rather than followed; nothing is resolved twice.
 */
int
privdir_path(const char *path, int flags, char **cause)
{
	char		 shown[PATH_MAX], name[NAME_MAX + 1];
	const char	*p;
	size_t		 n, len = 0;
	int		 fd, nfd;

	if (privdir_path_check(path, cause) == -1)
		return -1;

	fd = open("/", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
	if (fd == -1)
		return cause_fail(cause, errno, "/: %s", strerror(errno));
	if (privdir_verify(fd, "/", 1, cause) == -1)
		return -1;

	/* Collapsing slashes only shortens path, so shown always fits. */
	p = path;
	for (;;) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		shown[len++] = '/';
		memcpy(shown + len, name, n + 1);
		len += n;

		if (p[strspn(p, "/")] == '\0') {
			nfd = privdir_at(fd, name, shown, flags, cause);
			privdir_close(fd);
			return nfd;
		}
		nfd = privdir_ancestor(fd, name, shown,
		    flags & (PRIVDIR_CREATE|PRIVDIR_EXCL), cause);
		privdir_close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
	}
}

int
privdir_listen(int dirfd, const char *name, const char *shown, int replace,
    char **cause)
{
	struct sockaddr_un	addr;
	struct stat		st;
	mode_t			old;
	int			fd, n, r, error;

	if (!privdir_name_ok(name))
		return cause_fail(cause, EINVAL,
		    "%s: not a single path component", shown);

	/* Binding through the directory fd means no path prefix is resolved
	 * again, so nobody can redirect the socket elsewhere. */
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s",
	    dirfd, name);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return cause_fail(cause, ENAMETOOLONG, "%s: socket name too "
		    "long (at most %zu bytes with /proc/self/fd/%d/)", shown,
		    sizeof(addr.sun_path) - 1, dirfd);

	if (replace) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISSOCK(st.st_mode))
				return cause_fail(cause, EEXIST, "%s: is a %s, "
				    "not a socket (refusing to replace it)",
				    shown, privdir_type(st.st_mode));
			/* The caller's lock proves nobody serves it. */
			if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT) {
				error = errno;
				return cause_fail(cause, error,
				    "%s: unlink: %s", shown, strerror(error));
			}
		} else if (errno != ENOENT) {
			error = errno;
			return cause_fail(cause, error, "%s: %s", shown,
			    strerror(error));
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
	if (fd == -1) {
		error = errno;
		return cause_fail(cause, error, "%s: socket: %s", shown,
		    strerror(error));
	}

	/* The socket file is never other than 0600, not even for a moment. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	error = errno;
	umask(old);
	if (r == -1) {
		close(fd);
		if (error == EADDRINUSE)
			return cause_fail(cause, EADDRINUSE,
			    "%s: already exists", shown);
		return cause_fail(cause, error, "%s: bind: %s", shown,
		    strerror(error));
	}

	if (listen(fd, PRIVDIR_BACKLOG) == -1) {
		error = errno;
		cause_fail(cause, error, "%s: listen: %s", shown,
		    strerror(error));
		goto fail;
	}

	/* A default ACL on the directory would override the umask. */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		error = errno;
		cause_fail(cause, error, "%s: %s", shown, strerror(error));
		goto fail;
	}
	if (!S_ISSOCK(st.st_mode)) {
		/* Not what we bound: leave it alone. */
		close(fd);
		return cause_fail(cause, EEXIST, "%s: is a %s, not a socket",
		    shown, privdir_type(st.st_mode));
	}
	if (st.st_uid != geteuid()) {
		cause_fail(cause, EPERM, "%s: owned by uid %lu, not %lu", shown,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if ((st.st_mode & 07777) != 0600) {
		cause_fail(cause, EPERM, "%s: mode %04o, expected exactly 0600",
		    shown, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	return fd;

fail:
	/* The socket file is the one we bound: the directory is private. */
	error = errno;
	unlinkat(dirfd, name, 0);
	close(fd);
	errno = error;
	return -1;
}

int
privdir_append_file(int dirfd, const char *name, const char *shown,
    char **cause)
{
	struct stat	st;
	int		fd, error, fl;

	if (!privdir_name_ok(name))
		return cause_fail(cause, EINVAL,
		    "%s: not a single path component", shown);
	/* O_NOCTTY: a daemon after setsid() would take a planted tty. */
	fd = openat(dirfd, name, O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|
	    O_NONBLOCK|O_NOCTTY|O_CLOEXEC, 0600);
	if (fd == -1) {
		/* ELOOP (symlink), EISDIR, ENXIO (a FIFO nobody reads), ...:
		 * say what is there rather than the open's errno. */
		error = errno;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode))
				return cause_fail(cause, ELOOP, "%s: is a "
				    "symbolic link (refusing to follow it)",
				    shown);
			if (!S_ISREG(st.st_mode))
				return cause_fail(cause, EINVAL, "%s: is a %s, "
				    "not a regular file", shown,
				    privdir_type(st.st_mode));
		}
		return cause_fail(cause, error, "%s: %s", shown,
		    strerror(error));
	}
	if (fstat(fd, &st) == -1) {
		error = errno;
		close(fd);
		return cause_fail(cause, error, "%s: fstat: %s", shown,
		    strerror(error));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return cause_fail(cause, EINVAL, "%s: is a %s, not a regular "
		    "file", shown, privdir_type(st.st_mode));
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return cause_fail(cause, EPERM, "%s: owned by uid %lu, not %lu",
		    shown, (unsigned long)st.st_uid, (unsigned long)geteuid());
	}
	if ((st.st_mode & (S_IWGRP|S_IWOTH)) != 0) {
		close(fd);
		return cause_fail(cause, EPERM, "%s: mode %04o, writable by "
		    "group or others", shown, (unsigned)(st.st_mode & 07777));
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		error = errno;
		close(fd);
		return cause_fail(cause, error, "%s: fcntl: %s", shown,
		    strerror(error));
	}
	return fd;
}

/* The path of dirfd/name for messages only; never used to open anything. */
static void
privdir_fdpath(int dirfd, const char *name, char *buf, size_t len)
{
	char	link[64], dir[PATH_MAX];
	ssize_t	n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	if (dirfd == AT_FDCWD)
		n = -1;
	else
		n = readlink(link, dir, sizeof(dir) - 1);
	if (n == -1) {
		if (snprintf(buf, len, "%s", name) < 0)
			buf[0] = '\0';
		return;
	}
	dir[n] = '\0';
	if (snprintf(buf, len, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
	    name) < 0)
		buf[0] = '\0';
}

static int
privdir_remove_tree(int dirfd, const char *name, const char *shown, int depth,
    char **cause)
{
	char		 child[PATH_MAX];
	struct stat	 st;
	struct dirent	*de;
	DIR		*dir;
	int		 fd, dfd, error;

	fd = openat(dirfd, name, PRIVDIR_OPEN);
	if (fd == -1) {
		error = errno;
		if (error == ENOENT)
			return 0;	/* gone already: that is the goal */
		if ((error == ELOOP || error == ENOTDIR) &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode))
			return cause_fail(cause, S_ISLNK(st.st_mode) ? ELOOP :
			    ENOTDIR, "%s: is a %s, not a directory", shown,
			    privdir_type(st.st_mode));
		return cause_fail(cause, error, "%s: %s", shown,
		    strerror(error));
	}
	if (depth > PRIVDIR_REMOVE_DEPTH) {
		close(fd);
		return cause_fail(cause, ELOOP, "%s: nested more than %d "
		    "levels deep (refusing to go on)", shown,
		    PRIVDIR_REMOVE_DEPTH);
	}

	/* readdir gets its own fd; fd stays the anchor for *at() calls. */
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		error = errno;
		close(fd);
		return cause_fail(cause, error, "%s: dup: %s", shown,
		    strerror(error));
	}
	if ((dir = fdopendir(dfd)) == NULL) {
		error = errno;
		close(dfd);
		close(fd);
		return cause_fail(cause, error, "%s: %s", shown,
		    strerror(error));
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0) {
				error = errno;
				cause_fail(cause, error, "%s: readdir: %s",
				    shown, strerror(error));
				goto fail;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", shown,
		    de->d_name) < 0)
			child[0] = '\0';
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			error = errno;
			cause_fail(cause, error, "%s: %s", child,
			    strerror(error));
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			if (privdir_remove_tree(fd, de->d_name, child,
			    depth + 1, cause) == -1)
				goto fail;
		} else if (unlinkat(fd, de->d_name, 0) == -1 &&
		    errno != ENOENT) {
			error = errno;
			cause_fail(cause, error, "%s: unlink: %s", child,
			    strerror(error));
			goto fail;
		}
	}
	closedir(dir);
	close(fd);

	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT) {
		error = errno;
		return cause_fail(cause, error, "%s: rmdir: %s", shown,
		    strerror(error));
	}
	return 0;

fail:
	error = errno;
	closedir(dir);
	close(fd);
	errno = error;
	return -1;
}

int
privdir_remove(int dirfd, const char *name, char **cause)
{
	char	shown[PATH_MAX];

	privdir_fdpath(dirfd, name, shown, sizeof(shown));
	if (!privdir_name_ok(name))
		return cause_fail(cause, EINVAL,
		    "%s: not a single path component", shown);
	return privdir_remove_tree(dirfd, name, shown, 1, cause);
}
