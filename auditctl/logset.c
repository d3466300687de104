/* logset: many logs, one chain per host. See logset.h. */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditctl.h"
#include "auditevent.h"
#include "auditlog.h"
#include "auditread.h"
#include "escape.h"
#include "logset.h"

/* Lines read from a file's head to find its host before falling back. */
#define HEAD_SCAN_LINES	100000
/* The tail read to find the last line's seq (grown up to a whole line). */
#define TAIL_WINDOW	(64 * 1024)
#define MAX_JOBS	16

static char	**opts;
static size_t	  nopts;

void
logset_add_opt(const char *arg)
{
	char **n;

	if ((n = reallocarray(opts, nopts + 1, sizeof(*opts))) == NULL)
		die("log", "out of memory");
	opts = n;
	opts[nopts++] = (char *)(uintptr_t)arg;
	log_opt = arg;	/* the single-log readers (report) take the last */
}

size_t
logset_nopts(void)
{
	return nopts;
}

static char *
xstrdup(const char *s, size_t len)
{
	char *p;

	if ((p = malloc(len + 1)) == NULL)
		die("log", "out of memory");
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* The directory's name: the host when the log does not say (a collector
 * writing one directory per host). */
static char *
dir_host(const char *path)
{
	char buf[PATH_MAX], *d, *b;

	if (strcmp(path, "-") == 0 || realpath(path, buf) == NULL)
		return xstrdup("-", 1);
	d = dirname(buf);
	b = basename(d);
	return xstrdup(b, strlen(b));
}

/* The first line's seq, and the host of the first created or checkpoint
 * event. */
static void
scan_head(const char *verb, struct logfile *lf)
{
	struct auditread_line l;
	struct auditread *rd;
	struct auditevent ev;
	const char *why;
	uint64_t n = 0;
	int rc;

	if ((rd = auditread_open(lf->fd)) == NULL)
		die(verb, "out of memory");
	while (n++ < HEAD_SCAN_LINES && (rc = auditread_next(rd, &l)) == 1) {
		if (l.toolong || l.torn ||
		    auditevent_parse(l.buf, l.len, &ev, &why) == -1)
			continue;
		if (lf->first_seq == 0) {
			lf->first_seq = lf->last_seq = ev.seq;
			if (ev.prev.len == AUDITLOG_HASH_HEX) {
				memcpy(lf->first_prev, ev.prev.p,
				    AUDITLOG_HASH_HEX);
				lf->first_prev[AUDITLOG_HASH_HEX] = '\0';
			}
			lf->first_rotated = l.lineno == 1 && ev.event.len == 11 &&
			    memcmp(ev.event.p, "log_rotated", 11) == 0;
		}
		/* Other events may name a destination host: only these name
		 * the machine that wrote the log. */
		if ((ev.kind == AUDITEVENT_CREATED || (ev.event.len == 10 &&
		    memcmp(ev.event.p, "checkpoint", 10) == 0)) &&
		    (ev.has & AUDITEVENT_HOST) && ev.host.len > 0 &&
		    memchr(ev.host.p, '\0', ev.host.len) == NULL) {
			lf->host = xstrdup(ev.host.p, ev.host.len);
			lf->host_from_log = 1;
			break;
		}
	}
	auditread_free(rd);
	if (lseek(lf->fd, 0, SEEK_SET) == -1)
		die(verb, "%s: %s", lf->path, strerror(errno));
}

/* The last whole line's seq, read from the end of the file. */
static void
scan_tail(const char *verb, struct logfile *lf, off_t size)
{
	struct auditevent ev;
	const char *why;
	size_t win = TAIL_WINDOW, len, s;
	char *buf, *e, hash[AUDITLOG_HASH_HEX + 1];
	ssize_t n;
	off_t off;

	for (;;) {
		if ((off_t)win > size)
			win = (size_t)size;
		if ((buf = malloc(win + 1)) == NULL)
			die(verb, "out of memory");
		off = size - (off_t)win;
		if ((n = pread(lf->fd, buf, win, off)) != (ssize_t)win)
			die(verb, "%s: %s", lf->path, n == -1 ? strerror(errno) :
			    "file shrank while read");
		/* Leave out a torn last line: the end is the last '\n'. */
		for (len = win; len > 0 && buf[len - 1] != '\n'; len--)
			;
		if (len == 0 && off == 0) {
			free(buf);
			return;
		}
		if (len > 0) {
			len--;		/* the '\n' itself */
			for (s = len; s > 0 && buf[s - 1] != '\n'; s--)
				;
			if (s > 0 || off == 0) {
				e = buf + s;
				e[len - s] = '\0';
				/* Hash first: parsing decodes in place. */
				auditlog_hash_line(e, len - s, hash);
				if (auditevent_parse(e, len - s, &ev, &why) == 0 &&
				    ev.seq >= lf->first_seq)
					lf->last_seq = ev.seq;
				if (ev.seq == lf->last_seq)
					memcpy(lf->last_hash, hash,
					    sizeof(lf->last_hash));
				free(buf);
				return;
			}
		}
		free(buf);
		if (win >= 2 * AUDITREAD_MAX_LINE + 2)
			return;		/* no whole line near the end */
		win *= 4;
	}
}

/* Standard input (a pipe) copied into an anonymous file: verify and show
 * read a log more than once, and the host is read from its head first. */
static int
spool(const char *verb, int fd)
{
	char buf[65536], *p;
	ssize_t n, w;
	int mfd;

	if ((mfd = memfd_create("auditctl-stdin", MFD_CLOEXEC)) == -1)
		die(verb, "standard input: cannot keep a copy: %s",
		    strerror(errno));
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die(verb, "standard input: %s", strerror(errno));
		if (n == 0)
			break;
		for (p = buf; n > 0; p += w, n -= w) {
			if ((w = write(mfd, p, (size_t)n)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				die(verb, "standard input: cannot keep a copy: "
				    "%s", strerror(errno));
			}
		}
	}
	if (lseek(mfd, 0, SEEK_SET) == -1)
		die(verb, "standard input: %s", strerror(errno));
	return mfd;
}

static void
add_file(struct logset *ls, const char *verb, const char *path)
{
	struct logfile *lf, *n;
	struct stat st;
	size_t i;
	int fd, nfd, daemon;

	fd = log_open(verb, path);
	if (fstat(fd, &st) == -1)
		die(verb, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode)) {
		/* The flock probe means nothing on a copy: ask the original. */
		daemon = log_daemon_holds(fd);
		nfd = spool(verb, fd);
		if (fd != STDIN_FILENO)
			close(fd);
		fd = nfd;
		if (fstat(fd, &st) == -1)
			die(verb, "%s: %s", path, strerror(errno));
	} else
		daemon = log_daemon_holds(fd);
	for (i = 0; i < ls->nfiles; i++) {
		if (S_ISREG(st.st_mode) && ls->files[i].dev == st.st_dev &&
		    ls->files[i].ino == st.st_ino) {
			if (fd != STDIN_FILENO)
				close(fd);
			return;		/* named twice (a glob and a path) */
		}
	}
	if ((n = reallocarray(ls->files, ls->nfiles + 1, sizeof(*n))) == NULL)
		die(verb, "out of memory");
	ls->files = n;
	lf = &ls->files[ls->nfiles++];
	memset(lf, 0, sizeof(*lf));
	lf->path = xstrdup(path, strlen(path));
	lf->fd = fd;
	lf->dev = st.st_dev;
	lf->ino = st.st_ino;
	lf->daemon = daemon;
	scan_head(verb, lf);
	if (lf->first_seq > 0)
		scan_tail(verb, lf, st.st_size);
	if (lf->host == NULL)
		lf->host = dir_host(path);
}

static int
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void
add_arg(struct logset *ls, const char *verb, const char *arg)
{
	struct stat st;
	glob_t g;
	size_t i;
	int rc;

	/* A name that exists is taken as it is, even with glob characters. */
	if (!has_glob(arg) || strcmp(arg, "-") == 0 || stat(arg, &st) == 0) {
		add_file(ls, verb, arg);
		return;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(arg, GLOB_ERR, NULL, &g);
	if (rc == GLOB_NOMATCH)
		die(verb, "%s: no file matches", arg);
	if (rc != 0)
		die(verb, "%s: %s", arg, rc == GLOB_NOSPACE ? "out of memory" :
		    "cannot read a directory of the pattern");
	for (i = 0; i < g.gl_pathc; i++)
		add_file(ls, verb, g.gl_pathv[i]);
	globfree(&g);
}

static int
file_order(const void *a, const void *b)
{
	const struct logfile *x = *(struct logfile *const *)a;
	const struct logfile *y = *(struct logfile *const *)b;

	if (x->first_seq != y->first_seq)
		return x->first_seq < y->first_seq ? -1 : 1;
	if (x->last_seq != y->last_seq)
		return x->last_seq > y->last_seq ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * A file whose lines name no host (a rotated file whose sessions were all
 * created before the rotation) takes the host of the file it continues: the
 * one whose last line has the seq before its first and the hash its first
 * line's prev names. Repeated so a run of such files follows the first.
 */
static void
link_hosts(struct logset *ls)
{
	struct logfile *a, *b;
	size_t i, j;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (i = 0; i < ls->nfiles; i++) {
			a = &ls->files[i];
			if (a->host_from_log || a->first_seq < 2 ||
			    a->first_prev[0] == '\0')
				continue;
			for (j = 0; j < ls->nfiles; j++) {
				b = &ls->files[j];
				if (j == i || !b->host_from_log ||
				    b->last_seq + 1 != a->first_seq ||
				    strcmp(b->last_hash, a->first_prev) != 0)
					continue;
				free(a->host);
				a->host = xstrdup(b->host, strlen(b->host));
				a->host_from_log = 1;
				changed = 1;
				break;
			}
		}
	}
}

/* Groups the files by host, in the order hosts first appear, and decides
 * what of each file is folded. */
static void
make_chains(struct logset *ls, const char *verb)
{
	struct logchain *c;
	struct logfile **v;
	uint64_t covered;
	size_t i, j;

	if ((ls->chains = calloc(ls->nfiles, sizeof(*ls->chains))) == NULL)
		die(verb, "out of memory");
	for (i = 0; i < ls->nfiles; i++) {
		for (j = 0; j < ls->nchains; j++) {
			if (strcmp(ls->chains[j].host, ls->files[i].host) == 0)
				break;
		}
		c = &ls->chains[j];
		if (j == ls->nchains) {
			ls->nchains++;
			c->host = ls->files[i].host;
		}
		if ((v = reallocarray(c->files, c->nfiles + 1,
		    sizeof(*v))) == NULL)
			die(verb, "out of memory");
		c->files = v;
		c->files[c->nfiles++] = &ls->files[i];
		c->daemon |= ls->files[i].daemon;
	}
	for (j = 0; j < ls->nchains; j++) {
		c = &ls->chains[j];
		qsort(c->files, c->nfiles, sizeof(*c->files), file_order);
		covered = 0;
		for (i = 0; i < c->nfiles; i++) {
			if (c->files[i]->first_seq == 0 ||
			    (c->files[i]->first_seq <= covered &&
			    c->files[i]->last_seq <= covered)) {
				c->files[i]->copy = c->files[i]->first_seq != 0;
				continue;
			}
			if (c->files[i]->first_seq <= covered)
				c->files[i]->skip_through = covered;
			covered = c->files[i]->last_seq;
		}
	}
}

void
logset_open(struct logset *ls, const char *verb, char **more, int nmore,
    int allow_fresh)
{
	const char *path;
	struct stat st;
	size_t i;
	int k;

	memset(ls, 0, sizeof(*ls));
	for (i = 0; i < nopts; i++)
		add_arg(ls, verb, opts[i]);
	for (k = 0; k < nmore; k++)
		add_arg(ls, verb, more[k]);
	if (nopts == 0 && nmore == 0) {
		path = log_path(verb);
		/* A fresh install has no log yet: nothing happened. */
		if (allow_fresh && stat(path, &st) == -1 && errno == ENOENT) {
			ls->fresh = 1;
			return;
		}
		add_arg(ls, verb, path);
	}
	for (i = 0; i < ls->nfiles; i++) {
		if (strcmp(ls->files[i].path, "-") == 0 && ls->nfiles > 1)
			die_usage(verb, "'-' (standard input) is read alone, "
			    "not with other logs");
	}
	link_hosts(ls);
	make_chains(ls, verb);
}

void
logset_free(struct logset *ls)
{
	size_t i;

	for (i = 0; i < ls->nchains; i++) {
		auditfold_free(ls->chains[i].fold);
		free(ls->chains[i].files);
		free(ls->chains[i].out);
	}
	for (i = 0; i < ls->nfiles; i++) {
		close(ls->files[i].fd);
		free(ls->files[i].path);
		free(ls->files[i].host);
	}
	free(ls->chains);
	free(ls->files);
	memset(ls, 0, sizeof(*ls));
}

const char *
logset_row_host(const struct logchain *c, const struct auditfold *f,
    const struct auditfold_row *r, size_t *len)
{
	const char *s;

	if ((s = auditfold_str(f, r->host, len)) != NULL)
		return s;
	*len = strlen(c->host);
	return c->host;
}

struct run {
	struct logset	*ls;
	const char	*verb;
	auditfold_end_cb on_end;
	void		*arg;
	logset_emit	 emit;
	void		*emit_arg;
	int		 keep;
	size_t		 next;		/* the next chain to take */
	size_t		 written;	/* chains written to stdout */
	size_t		 ahead;		/* chains a worker may be ahead */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
};

static void
chain_fold(struct run *run, struct logchain *c)
{
	struct logfile *lf;
	size_t i;

	if ((c->fold = auditfold_new(run->on_end, run->arg)) == NULL)
		die(run->verb, "out of memory");
	for (i = 0; i < c->nfiles; i++) {
		lf = c->files[i];
		if (lf->copy)
			continue;
		auditfold_skip_through(c->fold, lf->skip_through);
		log_fold(run->verb, lf->path, lf->fd, c->fold);
	}
}

static void
chain_work(struct run *run, struct logchain *c)
{
	FILE *out;

	chain_fold(run, c);
	if (run->emit != NULL) {
		if ((out = open_memstream(&c->out, &c->outlen)) == NULL)
			die(run->verb, "out of memory");
		run->emit(c, out, run->emit_arg);
		if (fclose(out) == EOF)
			die(run->verb, "out of memory");
	}
	if (!run->keep) {
		auditfold_free(c->fold);
		c->fold = NULL;
	}
}

static void *
worker(void *p)
{
	struct run *run = p;
	struct logchain *c;

	for (;;) {
		pthread_mutex_lock(&run->mu);
		/* Output waits in memory: stay a few chains ahead at most. */
		while (run->next < run->ls->nchains &&
		    run->next >= run->written + run->ahead)
			pthread_cond_wait(&run->cv, &run->mu);
		if (run->next >= run->ls->nchains) {
			pthread_mutex_unlock(&run->mu);
			return NULL;
		}
		c = &run->ls->chains[run->next++];
		pthread_mutex_unlock(&run->mu);
		chain_work(run, c);
		pthread_mutex_lock(&run->mu);
		c->done = 1;
		pthread_cond_broadcast(&run->cv);
		pthread_mutex_unlock(&run->mu);
	}
}

static void
write_out(struct run *run, struct logchain *c)
{
	size_t skip = 0;

	if (run->ls->drop_lead && c->outlen > 0) {
		skip = 1;
		run->ls->drop_lead = 0;
	}
	if (c->outlen > skip && fwrite(c->out + skip, 1, c->outlen - skip,
	    stdout) != c->outlen - skip)
		die(run->verb, "writing output failed");
	free(c->out);
	c->out = NULL;
	c->outlen = 0;
}

static size_t
jobs(void)
{
	const char *v = getenv("AUDITCTL_JOBS");
	long n;

	if (v != NULL && (n = strtol(v, NULL, 10)) >= 1)
		return n > MAX_JOBS ? MAX_JOBS : (size_t)n;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (size_t)n;
}

void
logset_run(struct logset *ls, const char *verb, auditfold_end_cb on_end,
    void *arg, logset_emit emit, void *emit_arg, int keep)
{
	pthread_t tids[MAX_JOBS];
	struct run run;
	size_t i, n, started = 0;

	memset(&run, 0, sizeof(run));
	run.ls = ls;
	run.verb = verb;
	run.on_end = on_end;
	run.arg = arg;
	run.emit = emit;
	run.emit_arg = emit_arg;
	run.keep = keep;
	n = on_end != NULL ? 1 : jobs();
	if (n > ls->nchains)
		n = ls->nchains;
	if (n <= 1) {
		for (i = 0; i < ls->nchains; i++) {
			chain_work(&run, &ls->chains[i]);
			write_out(&run, &ls->chains[i]);
		}
		return;
	}
	run.ahead = 2 * n;
	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.cv, NULL);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker, &run) != 0)
			break;
		started++;
	}
	if (started == 0)
		die(verb, "cannot start a thread");
	for (i = 0; i < ls->nchains; i++) {
		pthread_mutex_lock(&run.mu);
		while (!ls->chains[i].done)
			pthread_cond_wait(&run.cv, &run.mu);
		pthread_mutex_unlock(&run.mu);
		write_out(&run, &ls->chains[i]);
		pthread_mutex_lock(&run.mu);
		run.written++;
		pthread_cond_broadcast(&run.cv);
		pthread_mutex_unlock(&run.mu);
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&run.mu);
	pthread_cond_destroy(&run.cv);
}
