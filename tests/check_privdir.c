/* Unit tests for lib/privdir.c: each test works in its own mkdtemp folder. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <check.h>

#include "privdir.h"
#include "checkrun.h"

#define NOBODY	65534

static char	rundir[32];	/* made by main, removed by main */
static char	base[64];	/* short: every path built from it fits */
static int	basefd = -1;
static char	*cause;


static void
setup(void)
{
	snprintf(base, sizeof(base), "%s/t.XXXXXX", rundir);
	ck_assert_ptr_nonnull(mkdtemp(base));
	basefd = open(base, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
	ck_assert_int_ge(basefd, 0);
	cause = NULL;
}

/* Check skips this after a failed test; main removes rundir anyway. */
static void
teardown(void)
{
	free(cause);
	cause = NULL;
	if (basefd != -1)
		close(basefd);
	basefd = -1;
	if (base[0] != '\0')
		check_rmtree(base);
	base[0] = '\0';
}

/* base/rel in one of a few rotating buffers, so several can be in use. */
static const char *
at(const char *rel)
{
	static char	buf[8][PATH_MAX];
	static int	n;
	char		*p = buf[n++ % 8];

	ck_assert_int_lt(snprintf(p, PATH_MAX, "%s/%s", base, rel), PATH_MAX);
	return p;
}

#define assert_cause(what) do {						\
	ck_assert_ptr_nonnull(cause);					\
	ck_assert_msg(strstr(cause, (what)) != NULL,			\
	    "cause \"%s\" lacks \"%s\"", cause, (what));		\
	ck_assert_ptr_null(strchr(cause, '\n'));			\
} while (0)

static void
reset_cause(void)
{
	free(cause);
	cause = NULL;
}

static mode_t
mode_of(const char *path)
{
	struct stat	st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode;
}

static void
make_dir(const char *rel, mode_t mode)
{
	ck_assert_int_eq(mkdir(at(rel), 0700), 0);
	ck_assert_int_eq(chmod(at(rel), mode), 0);
}

static void
make_file(const char *rel, const char *text)
{
	FILE	*f;

	f = fopen(at(rel), "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Leaves a bound (closed, hence stale) socket file at rel. */
static void
make_socket(const char *rel)
{
	struct sockaddr_un	addr;
	int			fd;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlcpy(addr.sun_path, at(rel),
	    sizeof(addr.sun_path)), sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un	addr;
	int			fd;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0,
	    "connect %s: %s", path, strerror(errno));
	return fd;
}

static void
assert_private_fd(int fd)
{
	struct stat	st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

static int
skip_unless_root(const char *test)
{
	if (geteuid() == 0)
		return 0;
	printf("%s: skipped, needs root to chown to uid %d\n", test, NOBODY);
	return 1;
}

/* privdir_at */

START_TEST(test_at_create_mode)
{
	int	fd;

	umask(0);
	fd = privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	assert_private_fd(fd);
	ck_assert_uint_eq(mode_of(at("run")) & 07777, 0700);
	ck_assert_uint_eq(umask(022), 0);	/* restored */
	close(fd);
}
END_TEST

START_TEST(test_at_existing_ok)
{
	int	fd;

	make_dir("run", 0700);
	fd = privdir_at(basefd, "run", at("run"), 0, &cause);
	assert_private_fd(fd);
	close(fd);
	fd = privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE, &cause);
	assert_private_fd(fd);
	close(fd);
}
END_TEST

START_TEST(test_at_missing)
{
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), 0, &cause), -1);
	ck_assert_int_eq(errno, ENOENT);
	assert_cause(at("run"));
	ck_assert_int_eq(access(at("run"), F_OK), -1);
}
END_TEST

static const mode_t bad_modes[] = { 0755, 0711, 0770, 0707, 0750, 0701, 01700,
    0600 };

START_TEST(test_at_bad_mode)
{
	mode_t	mode = bad_modes[_i];
	char	want[32];

	make_dir("run", mode);
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE,
	    &cause), -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause(at("run"));
	snprintf(want, sizeof(want), "mode %04o", (unsigned)mode);
	assert_cause(want);
	assert_cause("expected exactly 0700");
	ck_assert_uint_eq(mode_of(at("run")) & 07777, mode);	/* untouched */
}
END_TEST

START_TEST(test_at_symlink)
{
	make_dir("target", 0700);
	ck_assert_int_eq(symlink("target", at("run")), 0);
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE,
	    &cause), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause(at("run"));
	assert_cause("symbolic link");
	ck_assert(S_ISLNK(mode_of(at("run"))));
	ck_assert_uint_eq(mode_of(at("target")), S_IFDIR|0700);

	/* A dangling symlink must not make us create its target. */
	reset_cause();
	ck_assert_int_eq(symlink("nowhere", at("dangling")), 0);
	ck_assert_int_eq(privdir_at(basefd, "dangling", at("dangling"),
	    PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause(at("dangling"));
	assert_cause("symbolic link");
	ck_assert_int_eq(access(at("nowhere"), F_OK), -1);
}
END_TEST

START_TEST(test_at_regular_file)
{
	make_file("run", "x\n");
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE,
	    &cause), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	assert_cause(at("run"));
	assert_cause("not a directory");
	ck_assert(S_ISREG(mode_of(at("run"))));
}
END_TEST

START_TEST(test_at_socket)
{
	make_socket("run");
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE,
	    &cause), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	assert_cause(at("run"));
	assert_cause("socket, not a directory");
	ck_assert(S_ISSOCK(mode_of(at("run"))));
}
END_TEST

START_TEST(test_at_excl)
{
	int	fd;

	umask(0);
	fd = privdir_at(basefd, "s1", at("s1"), PRIVDIR_CREATE|PRIVDIR_EXCL,
	    &cause);
	assert_private_fd(fd);
	close(fd);
	ck_assert_uint_eq(umask(022), 0);

	/* Even a perfect existing directory is a clash. */
	ck_assert_int_eq(privdir_at(basefd, "s1", at("s1"),
	    PRIVDIR_CREATE|PRIVDIR_EXCL, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause(at("s1"));
	assert_cause("already exists");

	reset_cause();
	ck_assert_int_eq(symlink("nowhere", at("s2")), 0);
	ck_assert_int_eq(privdir_at(basefd, "s2", at("s2"),
	    PRIVDIR_CREATE|PRIVDIR_EXCL, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause(at("s2"));
	ck_assert_int_eq(access(at("nowhere"), F_OK), -1);

	reset_cause();
	make_file("s3", "");
	ck_assert_int_eq(privdir_at(basefd, "s3", at("s3"),
	    PRIVDIR_CREATE|PRIVDIR_EXCL, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause("already exists");
}
END_TEST

START_TEST(test_at_wrong_owner)
{
	struct stat	st;

	if (skip_unless_root("test_at_wrong_owner"))
		return;
	make_dir("run", 0700);
	ck_assert_int_eq(chown(at("run"), NOBODY, NOBODY), 0);
	ck_assert_int_eq(privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE,
	    &cause), -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause(at("run"));
	assert_cause("owned by uid 65534");
	ck_assert_int_eq(lstat(at("run"), &st), 0);
	ck_assert_uint_eq(st.st_uid, NOBODY);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
}
END_TEST

START_TEST(test_at_bad_name)
{
	static const char *names[] = { "", ".", "..", "a/b", "/abs" };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		reset_cause();
		ck_assert_int_eq(privdir_at(basefd, names[i], at(names[i]),
		    PRIVDIR_CREATE, &cause), -1);
		ck_assert_int_eq(errno, EINVAL);
		assert_cause(at(names[i]));
	}
	ck_assert_int_eq(access(at("a"), F_OK), -1);
}
END_TEST

/* privdir_path */

START_TEST(test_path_nested)
{
	char	messy[PATH_MAX];
	int	fd;

	umask(0);
	fd = privdir_path(at("a/b/c"), PRIVDIR_CREATE, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	assert_private_fd(fd);
	close(fd);
	ck_assert_uint_eq(umask(022), 0);
	ck_assert_uint_eq(mode_of(at("a")), S_IFDIR|0700);
	ck_assert_uint_eq(mode_of(at("a/b")), S_IFDIR|0700);
	ck_assert_uint_eq(mode_of(at("a/b/c")), S_IFDIR|0700);

	/* Repeated and trailing slashes collapse; existing is accepted. */
	snprintf(messy, sizeof(messy), "/%s//a///b/c/", base);
	fd = privdir_path(messy, 0, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	close(fd);

	/* The tree up from here (mkdtemp dirs 0700, /tmp 1777, /) is fine too. */
	fd = privdir_path(base, 0, &cause);
	assert_private_fd(fd);
	close(fd);
}
END_TEST

START_TEST(test_path_missing)
{
	ck_assert_int_eq(privdir_path(at("a/b"), 0, &cause), -1);
	ck_assert_int_eq(errno, ENOENT);
	assert_cause(at("a"));
	ck_assert_int_eq(access(at("a"), F_OK), -1);
}
END_TEST

START_TEST(test_path_final_rules)
{
	make_dir("a", 0700);
	make_dir("a/b", 0755);
	ck_assert_int_eq(privdir_path(at("a/b"), PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause(at("a/b"));
	assert_cause("mode 0755");
	ck_assert_uint_eq(mode_of(at("a/b")), S_IFDIR|0755);

	reset_cause();
	ck_assert_int_eq(privdir_path(at("a"), PRIVDIR_CREATE|PRIVDIR_EXCL,
	    &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause(at("a"));
}
END_TEST

START_TEST(test_path_existing_ancestor_rules)
{
	int	fd;

	/* An existing ancestor only needs to be safe, not private. */
	make_dir("pub", 0755);
	fd = privdir_path(at("pub/x"), PRIVDIR_CREATE, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	assert_private_fd(fd);
	close(fd);
	ck_assert_uint_eq(mode_of(at("pub")), S_IFDIR|0755);
}
END_TEST

START_TEST(test_path_writable_ancestor)
{
	static const mode_t modes[] = { 0775, 0757, 0770 };
	char	rel[32], want[32];
	size_t	i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		reset_cause();
		snprintf(rel, sizeof(rel), "w%zu", i);
		make_dir(rel, modes[i]);
		snprintf(rel, sizeof(rel), "w%zu/x", i);
		ck_assert_int_eq(privdir_path(at(rel), PRIVDIR_CREATE, &cause),
		    -1);
		ck_assert_int_eq(errno, EPERM);
		snprintf(rel, sizeof(rel), "w%zu:", i);
		assert_cause(at(rel));
		snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
		assert_cause(want);
		assert_cause("not sticky");
		snprintf(rel, sizeof(rel), "w%zu/x", i);
		ck_assert_int_eq(access(at(rel), F_OK), -1);
	}
}
END_TEST

START_TEST(test_path_sticky_ancestor)
{
	int	fd;

	make_dir("tmp", 01777);
	fd = privdir_path(at("tmp/x"), PRIVDIR_CREATE, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	assert_private_fd(fd);
	close(fd);
	ck_assert_uint_eq(mode_of(at("tmp/x")), S_IFDIR|0700);
	ck_assert_uint_eq(mode_of(at("tmp")), S_IFDIR|01777);
}
END_TEST

START_TEST(test_path_symlink_ancestor)
{
	make_dir("real", 0700);
	ck_assert_int_eq(symlink("real", at("link")), 0);
	ck_assert_int_eq(privdir_path(at("link/x"), PRIVDIR_CREATE, &cause),
	    -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause(at("link:"));
	assert_cause("symbolic link");
	ck_assert_int_eq(access(at("real/x"), F_OK), -1);
}
END_TEST

START_TEST(test_path_file_ancestor)
{
	make_file("f", "");
	ck_assert_int_eq(privdir_path(at("f/x"), PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	assert_cause(at("f:"));
	assert_cause("not a directory");
}
END_TEST

START_TEST(test_path_foreign_ancestor)
{
	if (skip_unless_root("test_path_foreign_ancestor"))
		return;
	make_dir("other", 0755);
	ck_assert_int_eq(chown(at("other"), NOBODY, NOBODY), 0);
	ck_assert_int_eq(privdir_path(at("other/x"), PRIVDIR_CREATE, &cause),
	    -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause(at("other:"));
	assert_cause("owned by uid 65534");
	ck_assert_int_eq(access(at("other/x"), F_OK), -1);
}
END_TEST

START_TEST(test_path_invalid)
{
	char	p[PATH_MAX];

	ck_assert_int_eq(privdir_path("tmp/x", PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_cause("tmp/x");

	reset_cause();
	ck_assert_int_eq(privdir_path("/", PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);

	reset_cause();
	snprintf(p, sizeof(p), "%s/a/../b", base);
	ck_assert_int_eq(privdir_path(p, PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_cause(p);

	reset_cause();
	snprintf(p, sizeof(p), "%s/./b", base);
	ck_assert_int_eq(privdir_path(p, PRIVDIR_CREATE, &cause), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* Nothing was created before the ".." was seen. */
	ck_assert_int_eq(access(at("a"), F_OK), -1);
	ck_assert_int_eq(access(at("b"), F_OK), -1);

	/* cause may be NULL. */
	ck_assert_int_eq(privdir_path("rel", 0, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* privdir_listen */

static int
run_dir(void)
{
	int	fd;

	fd = privdir_at(basefd, "run", at("run"), PRIVDIR_CREATE, &cause);
	ck_assert_msg(fd >= 0, "%s", cause);
	return fd;
}

START_TEST(test_listen)
{
	struct stat	st;
	int		dfd, lfd, cfd, afd;

	dfd = run_dir();
	umask(0);
	lfd = privdir_listen(dfd, "agent.sock", at("run/agent.sock"), 0,
	    &cause);
	ck_assert_msg(lfd >= 0, "%s", cause);
	ck_assert_uint_eq(umask(022), 0);	/* restored */

	ck_assert_int_eq(lstat(at("run/agent.sock"), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_int_ne(fcntl(lfd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(lfd, F_GETFD) & FD_CLOEXEC, 0);

	cfd = connect_to(at("run/agent.sock"));
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_msg(afd >= 0, "accept: %s", strerror(errno));
	ck_assert_int_eq(write(cfd, "x", 1), 1);
	close(afd);
	close(cfd);
	close(lfd);
	close(dfd);
}
END_TEST

START_TEST(test_listen_stale)
{
	int	dfd, lfd, cfd;

	dfd = run_dir();
	make_socket("run/agent.sock");

	ck_assert_int_eq(privdir_listen(dfd, "agent.sock", at("run/agent.sock"),
	    0, &cause), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	assert_cause(at("run/agent.sock"));
	assert_cause("already exists");

	reset_cause();
	lfd = privdir_listen(dfd, "agent.sock", at("run/agent.sock"), 1,
	    &cause);
	ck_assert_msg(lfd >= 0, "%s", cause);
	ck_assert_uint_eq(mode_of(at("run/agent.sock")), S_IFSOCK|0600);
	cfd = connect_to(at("run/agent.sock"));
	close(cfd);
	close(lfd);
	close(dfd);
}
END_TEST

START_TEST(test_listen_replace_refuses)
{
	char	buf[16];
	FILE	*f;
	int	dfd;

	dfd = run_dir();
	make_file("run/agent.sock", "keep\n");
	ck_assert_int_eq(privdir_listen(dfd, "agent.sock", at("run/agent.sock"),
	    1, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause(at("run/agent.sock"));
	assert_cause("not a socket");
	f = fopen(at("run/agent.sock"), "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "keep\n");

	/* A symlink, even one to a socket, is not a socket. */
	reset_cause();
	make_socket("elsewhere.sock");
	ck_assert_int_eq(symlink(at("elsewhere.sock"), at("run/link.sock")), 0);
	ck_assert_int_eq(privdir_listen(dfd, "link.sock", at("run/link.sock"),
	    1, &cause), -1);
	ck_assert_int_eq(errno, EEXIST);
	assert_cause("symbolic link");
	ck_assert(S_ISLNK(mode_of(at("run/link.sock"))));
	ck_assert(S_ISSOCK(mode_of(at("elsewhere.sock"))));
	close(dfd);
}
END_TEST

START_TEST(test_listen_too_long)
{
	char	name[120];
	int	dfd;

	dfd = run_dir();
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(privdir_listen(dfd, name, at(name), 0, &cause), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	assert_cause(at(name));
	ck_assert_int_eq(faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(dfd);
}
END_TEST

/* privdir_remove */

START_TEST(test_remove_tree)
{
	make_dir("outside", 0700);
	make_file("outside/keep", "keep\n");
	make_dir("sess", 0700);
	make_socket("sess/agent.sock");
	make_dir("sess/upstream", 0700);
	make_socket("sess/upstream/agent.sock");
	make_file("sess/upstream/notes", "x\n");
	ck_assert_int_eq(symlink(at("outside"), at("sess/dirlink")), 0);
	ck_assert_int_eq(symlink(at("outside/keep"), at("sess/filelink")), 0);
	make_dir("sess/empty", 0500);

	ck_assert_msg(privdir_remove(basefd, "sess", &cause) == 0, "%s", cause);
	ck_assert_int_eq(access(at("sess"), F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(mode_of(at("outside")), S_IFDIR|0700);
	ck_assert(S_ISREG(mode_of(at("outside/keep"))));

	/* Gone already is success. */
	ck_assert_int_eq(privdir_remove(basefd, "sess", &cause), 0);
}
END_TEST

START_TEST(test_remove_too_deep)
{
	make_dir("d", 0700);
	make_dir("d/1", 0700);
	make_dir("d/1/2", 0700);
	make_dir("d/1/2/3", 0700);
	make_dir("d/1/2/3/4", 0700);
	make_file("d/1/2/3/4/f", "");
	ck_assert_int_eq(privdir_remove(basefd, "d", &cause), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause(at("d/1/2/3/4"));
	ck_assert(S_ISREG(mode_of(at("d/1/2/3/4/f"))));

	/* Four levels are fine. */
	reset_cause();
	ck_assert_int_eq(unlink(at("d/1/2/3/4/f")), 0);
	ck_assert_int_eq(rmdir(at("d/1/2/3/4")), 0);
	make_file("d/1/2/3/f", "");
	ck_assert_msg(privdir_remove(basefd, "d", &cause) == 0, "%s", cause);
	ck_assert_int_eq(access(at("d"), F_OK), -1);
}
END_TEST

START_TEST(test_remove_refuses_non_dir)
{
	make_dir("outside", 0700);
	make_file("outside/keep", "");
	ck_assert_int_eq(symlink(at("outside"), at("sess")), 0);
	ck_assert_int_eq(privdir_remove(basefd, "sess", &cause), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause(at("sess"));
	assert_cause("symbolic link");
	ck_assert(S_ISLNK(mode_of(at("sess"))));
	ck_assert(S_ISREG(mode_of(at("outside/keep"))));

	reset_cause();
	make_file("file", "");
	ck_assert_int_eq(privdir_remove(basefd, "file", &cause), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	assert_cause(at("file"));
	ck_assert(S_ISREG(mode_of(at("file"))));

	reset_cause();
	ck_assert_int_eq(privdir_remove(basefd, "..", &cause), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_append_create_and_reuse)
{
	int	fd;

	fd = privdir_append_file(basefd, "log", at("log"), &cause);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(mode_of(at("log")) & 07777, 0600);
	ck_assert(S_ISREG(mode_of(at("log"))));
	/* Blocking again, appending. */
	ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_NONBLOCK|O_APPEND|O_ACCMODE),
	    O_APPEND|O_WRONLY);
	ck_assert_int_eq(write(fd, "a", 1), 1);
	close(fd);
	/* An existing file of ours, even group-readable, is taken. */
	ck_assert_int_eq(chmod(at("log"), 0640), 0);
	fd = privdir_append_file(basefd, "log", at("log"), &cause);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "b", 1), 1);
	close(fd);
}
END_TEST

/* A FIFO, with or without a reader, is refused at once (never waited on). */
START_TEST(test_append_fifo)
{
	int	rfd;

	ck_assert_int_eq(mkfifo(at("log"), 0600), 0);
	ck_assert_int_eq(privdir_append_file(basefd, "log", at("log"), &cause),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_cause(at("log"));
	assert_cause("is a fifo, not a regular file");
	reset_cause();
	rfd = open(at("log"), O_RDONLY|O_NONBLOCK);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(privdir_append_file(basefd, "log", at("log"), &cause),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_cause("is a fifo, not a regular file");
	close(rfd);
}
END_TEST

START_TEST(test_append_refusals)
{
	ck_assert_int_eq(symlink("target", at("link")), 0);
	ck_assert_int_eq(privdir_append_file(basefd, "link", at("link"),
	    &cause), -1);
	ck_assert_int_eq(errno, ELOOP);
	assert_cause("is a symbolic link");
	ck_assert_int_eq(access(at("target"), F_OK), -1);	/* not created */
	reset_cause();

	make_dir("dir", 0700);
	ck_assert_int_eq(privdir_append_file(basefd, "dir", at("dir"), &cause),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_cause("is a directory, not a regular file");
	reset_cause();

	ck_assert_int_eq(close(open(at("gw"), O_WRONLY|O_CREAT, 0600)), 0);
	ck_assert_int_eq(chmod(at("gw"), 0620), 0);
	ck_assert_int_eq(privdir_append_file(basefd, "gw", at("gw"), &cause),
	    -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause("mode 0620, writable by group or others");
	reset_cause();
	ck_assert_int_eq(chmod(at("gw"), 0602), 0);
	ck_assert_int_eq(privdir_append_file(basefd, "gw", at("gw"), &cause),
	    -1);
	ck_assert_int_eq(errno, EPERM);
	reset_cause();

	ck_assert_int_eq(privdir_append_file(basefd, "a/b", at("a/b"), &cause),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_append_wrong_owner)
{
	if (skip_unless_root("test_append_wrong_owner"))
		return;
	ck_assert_int_eq(close(open(at("log"), O_WRONLY|O_CREAT, 0600)), 0);
	ck_assert_int_eq(chown(at("log"), NOBODY, NOBODY), 0);
	ck_assert_int_eq(privdir_append_file(basefd, "log", at("log"), &cause),
	    -1);
	ck_assert_int_eq(errno, EPERM);
	assert_cause("owned by uid 65534");
}
END_TEST

static Suite *
privdir_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("privdir");

	tc = tcase_create("at");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_at_create_mode);
	tcase_add_test(tc, test_at_existing_ok);
	tcase_add_test(tc, test_at_missing);
	tcase_add_loop_test(tc, test_at_bad_mode, 0,
	    sizeof(bad_modes) / sizeof(bad_modes[0]));
	tcase_add_test(tc, test_at_symlink);
	tcase_add_test(tc, test_at_regular_file);
	tcase_add_test(tc, test_at_socket);
	tcase_add_test(tc, test_at_excl);
	tcase_add_test(tc, test_at_wrong_owner);
	tcase_add_test(tc, test_at_bad_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_nested);
	tcase_add_test(tc, test_path_missing);
	tcase_add_test(tc, test_path_final_rules);
	tcase_add_test(tc, test_path_existing_ancestor_rules);
	tcase_add_test(tc, test_path_writable_ancestor);
	tcase_add_test(tc, test_path_sticky_ancestor);
	tcase_add_test(tc, test_path_symlink_ancestor);
	tcase_add_test(tc, test_path_file_ancestor);
	tcase_add_test(tc, test_path_foreign_ancestor);
	tcase_add_test(tc, test_path_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_listen);
	tcase_add_test(tc, test_listen_stale);
	tcase_add_test(tc, test_listen_replace_refuses);
	tcase_add_test(tc, test_listen_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("remove");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_remove_tree);
	tcase_add_test(tc, test_remove_too_deep);
	tcase_add_test(tc, test_remove_refuses_non_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("append_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_create_and_reuse);
	tcase_add_test(tc, test_append_fifo);
	tcase_add_test(tc, test_append_refusals);
	tcase_add_test(tc, test_append_wrong_owner);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	int	rc;

	strlcpy(rundir, "/tmp/check_privdir.XXXXXX", sizeof(rundir));
	if (mkdtemp(rundir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	rc = check_run(privdir_suite());
	check_rmtree(rundir);
	return rc;
}
