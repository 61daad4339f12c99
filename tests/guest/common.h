/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one helper layer of the guest checks, on top of the raw ABI in
 * spawn_template_abi.h. A helper exists here once; what only one area
 * needs stays in that area's file.
 *
 * Two kinds of helpers:
 * - st_*() that take @_metadata set up what a check needs and ASSERT
 *   inside: a failure there is a failure of the check's setup.
 * - the others return a value or an errno, so that the check's own
 *   ASSERT reports the check's line.
 *
 * Conventions:
 * - wait status: the raw status of waitpid(); ST_EXITED(code) and
 *   ST_KILLED(sig) build the values to compare with.
 * - helper programs are found next to the running check (st_helper()).
 * - helper_probe prints key=value lines; st_kv() reads them.
 */
#ifndef SPAWN_TEMPLATE_COMMON_H
#define SPAWN_TEMPLATE_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/landlock.h>

#include "kselftest_harness.h"
#include "spawn_template_abi.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE	(1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* A user pointer in an ABI struct. */
#define ST_PTR(p)	((__u64)(uintptr_t)(p))
#define ST_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* MAX_ARG_STRLEN: 32 pages, terminating NUL included. */
#define ST_MAX_ARG_STRLEN	(32 * 4096)
/* The unprivileged user of the credential checks. */
#define ST_NOBODY	65534

/* ---- building and making calls ---- */

static inline struct spawn_template_action st_act(__u32 type, __u32 flags,
						  int fd, int newfd,
						  const void *arg)
{
	struct spawn_template_action a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.flags = flags;
	a.fd = fd;
	a.newfd = newfd;
	a.arg = ST_PTR(arg);
	return a;
}

/* The argument of an OPEN action. */
static inline struct spawn_template_open st_open_arg(const char *path,
						     __u64 flags, __u64 mode,
						     __u64 resolve)
{
	struct spawn_template_open so;

	memset(&so, 0, sizeof(so));
	so.path = ST_PTR(path);
	so.how.flags = flags;
	so.how.mode = mode;
	so.how.resolve = resolve;
	return so;
}

static inline void st_spawn_args(struct spawn_template_spawn_args *a,
				 __u64 flags, char *const *argv,
				 char *const *envp,
				 const struct spawn_template_action *acts,
				 size_t n, int *pidfd)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->pidfd = ST_PTR(pidfd);
	a->argv = ST_PTR(argv);
	a->envp = ST_PTR(envp);
	a->actions = ST_PTR(acts);
	a->actions_len = n;
}

/*
 * The one spawn wrapper: the syscall's own result (pid, or -1 and errno).
 * @pidfd may be NULL (no pidfd asked for).
 */
static inline pid_t st_spawn(int tfd, __u64 flags, char *const *argv,
			     char *const *envp,
			     const struct spawn_template_action *acts,
			     size_t n, int *pidfd)
{
	struct spawn_template_spawn_args a;

	st_spawn_args(&a, flags, argv, envp, acts, n, pidfd);
	return sys_spawn_template_spawn(tfd, &a, sizeof(a));
}

/* ---- wait statuses ---- */

/* Raw wait statuses, as waitpid() gives them. */
#define ST_EXITED(code)	(((code) & 0xff) << 8)
#define ST_KILLED(sig)	((sig) & 0x7f)

/* Reap pid; its raw wait status, or -1. */
static inline int st_wait(pid_t pid)
{
	int st, r;

	do {
		r = waitpid(pid, &st, __WALL);
	} while (r < 0 && errno == EINTR);
	return r == pid ? st : -1;
}

/* The raw wait status a siginfo_t of waitid() stands for, or -1. */
static inline int st_status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return ST_EXITED(si->si_status);
	case CLD_KILLED:
		return ST_KILLED(si->si_status);
	case CLD_DUMPED:
		return ST_KILLED(si->si_status) | 0x80;
	}
	return -1;
}

/* Reap the child behind @pidfd and close it; raw wait status, or -1. */
static inline int st_wait_pidfd(int pidfd)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do {
		r = waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL);
	} while (r < 0 && errno == EINTR);
	close(pidfd);
	return r ? -1 : st_status_of(&si);
}

/* Spawn @argv from @tfd with no actions; its raw wait status, or -1. */
static inline int st_spawn_wait(int tfd, char *const *argv)
{
	static char *const envp[] = { NULL };
	int pidfd = -1;

	if (st_spawn(tfd, 0, argv, envp, NULL, 0, &pidfd) < 0)
		return -1;
	return st_wait_pidfd(pidfd);
}

/* ---- helper programs ---- */

/*
 * The directory of the running check, where the helpers are, as an O_PATH
 * fd opened once: it still reaches them after a mount hides the path.
 */
static inline int st_helper_dirfd(void)
{
	static int dfd = -1;
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dfd >= 0)
		return dfd;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	dfd = open(self, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return dfd;
}

/* Absolute path of helper @name (static buffer), or NULL. */
static inline const char *st_helper(const char *name)
{
	static char path[PATH_MAX];
	char link[64];
	ssize_t n;
	int dfd = st_helper_dirfd();

	if (dfd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n + 1 + strlen(name) >= sizeof(path))
		return NULL;
	path[n] = '\0';
	strcat(path, "/");
	strcat(path, name);
	return path;
}

/* st_helper() into the caller's own buffer, which later calls keep. */
static inline void st_helper_path(struct __test_metadata *_metadata,
				  const char *name, char *path, size_t len)
{
	const char *p = st_helper(name);

	ASSERT_NE(NULL, p) TH_LOG("helper %s not found", name);
	ASSERT_GT(len, (size_t)snprintf(path, len, "%s", p));
}

/*
 * A template of @path with @flags (SPAWN_TEMPLATE_CREATE_*), for a check
 * whose subject is what comes after: it must be created.
 */
static inline int st_template(struct __test_metadata *_metadata,
			      const char *path, __u64 flags)
{
	int tfd = spawn_template_create_path(path, flags);

	ASSERT_LE(0, tfd) TH_LOG("create %s: %m", path);
	return tfd;
}

/*
 * A template of helper_probe (next to the running check) with @flags; its
 * path is left in @path, @len bytes, for a check that needs it too.
 */
static inline int st_probe_template_path(struct __test_metadata *_metadata,
					 char *path, size_t len, __u64 flags)
{
	st_helper_path(_metadata, "helper_probe", path, len);
	return st_template(_metadata, path, flags);
}

/* A close-on-exec template of helper_probe. */
static inline int st_probe_template(struct __test_metadata *_metadata)
{
	char path[PATH_MAX];

	return st_probe_template_path(_metadata, path, sizeof(path),
				      SPAWN_TEMPLATE_CREATE_CLOEXEC);
}

/*
 * The two template origins as variants of fixture @f, each its own check:
 * "path" and "execfd" (spawn_template_create_path() or _fd()), told apart
 * by variant->by_fd.
 */
#define ST_ORIGIN_VARIANTS(f)						\
	FIXTURE_VARIANT(f) {						\
		bool by_fd;						\
	};								\
	FIXTURE_VARIANT_ADD(f, path) {					\
		.by_fd = false,						\
	};								\
	FIXTURE_VARIANT_ADD(f, execfd) {				\
		.by_fd = true,						\
	}

/* ---- reading and capturing ---- */

/* Read @fd to its end into @buf (NUL-terminated); bytes read, or -1. */
static inline ssize_t st_read_all(int fd, char *buf, size_t size)
{
	size_t off = 0;

	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf[off] = '\0';
			return -1;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	return off;
}

/* What a child wrote to its fd 1, and how it ended. */
struct st_out {
	char buf[1 << 20];
	size_t len;
	pid_t pid;	/* what the spawn (or fork) returned */
	int err;	/* errno when pid < 0 */
	int status;	/* raw wait status, -1 if no child */
};

static inline void st_out_reset(struct st_out *o)
{
	o->len = 0;
	o->buf[0] = '\0';
	o->pid = -1;
	o->err = 0;
	o->status = -1;
}

static inline void st_out_collect(struct st_out *o, int rfd)
{
	ssize_t n = st_read_all(rfd, o->buf, sizeof(o->buf));

	o->len = n > 0 ? n : 0;
	close(rfd);
	if (o->pid > 0)
		o->status = st_wait(o->pid);
}

/*
 * Spawn with the child's fd 1 on a pipe, collect what it writes, reap it.
 * The caller's fd 1 is swapped for the duration of the call only, so the
 * actions under test are exactly @acts. Returns the spawn's result, with
 * errno set when it failed; the pidfd, if one was asked for, is closed.
 */
static inline pid_t st_run(int tfd, __u64 flags, char *const *argv,
			   char *const *envp,
			   const struct spawn_template_action *acts, size_t n,
			   struct st_out *o)
{
	int p[2], saved, pidfd = -1;

	st_out_reset(o);
	if (pipe2(p, O_CLOEXEC))
		return -1;
	saved = fcntl(1, F_DUPFD_CLOEXEC, 500);
	if (saved < 0 || dup2(p[1], 1) != 1)
		return -1;
	o->pid = st_spawn(tfd, flags, argv, envp, acts, n, &pidfd);
	o->err = o->pid < 0 ? errno : 0;
	dup2(saved, 1);
	close(saved);
	close(p[1]);
	st_out_collect(o, p[0]);
	if (pidfd >= 0)
		close(pidfd);
	errno = o->err;
	return o->pid;
}

/*
 * The same through fork() and execve(), to compare with what the kernel's
 * own exec path gives. The child has fds 0-2 only, like a default spawn;
 * an execve() that fails exits 127 (ENOENT), 126 (EACCES) or 1.
 */
static inline pid_t st_run_execve(const char *path, char *const *argv,
				  char *const *envp, struct st_out *o)
{
	int p[2];

	st_out_reset(o);
	if (pipe2(p, O_CLOEXEC))
		return -1;
	o->pid = fork();
	if (o->pid == 0) {
		if (dup2(p[1], 1) < 0)
			_exit(1);
		close_range(3, ~0U, 0);
		syscall(SYS_execve, path, argv, envp);
		_exit(errno == ENOENT ? 127 : errno == EACCES ? 126 : 1);
	}
	o->err = o->pid < 0 ? errno : 0;
	close(p[1]);
	st_out_collect(o, p[0]);
	errno = o->err;
	return o->pid;
}

/*
 * The value of "key=" in key=value lines (what helper_probe prints), in a
 * static buffer; NULL when no line has that key.
 */
static inline const char *st_kv(const char *text, const char *key)
{
	static char val[PATH_MAX];
	size_t kl = strlen(key);
	const char *s = text;

	while (s && *s) {
		if (!strncmp(s, key, kl) && s[kl] == '=') {
			size_t n = strcspn(s + kl + 1, "\n");

			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, s + kl + 1, n);
			val[n] = '\0';
			return val;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return NULL;
}

/* st_kv() for ASSERT_STREQ(): "(missing)" rather than NULL. */
static inline const char *st_kv_str(const char *text, const char *key)
{
	const char *v = st_kv(text, key);

	return v ? v : "(missing)";
}

/* st_kv() as a number; @dflt when the key is missing. */
static inline long long st_kv_num(const char *text, const char *key,
				  long long dflt)
{
	const char *v = st_kv(text, key);

	return v ? strtoll(v, NULL, 0) : dflt;
}

/* Is there a line exactly equal to @line? */
static inline int st_has_line(const char *text, const char *line)
{
	size_t l = strlen(line);
	const char *s = text;

	while (s && *s) {
		if (!strncmp(s, line, l) && (s[l] == '\n' || s[l] == '\0'))
			return 1;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return 0;
}

/* Copy the lines of @text that start with one of @pfx (NULL-ended). */
static inline void st_select(const char *text, const char *const *pfx,
			     char *dst, size_t size)
{
	const char *s = text;
	size_t used = 0;

	dst[0] = '\0';
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		const char *const *p;

		for (p = pfx; *p; p++) {
			if (!strncmp(s, *p, strlen(*p)) && used + n + 2 < size) {
				memcpy(dst + used, s, n);
				used += n;
				dst[used++] = '\n';
				dst[used] = '\0';
				break;
			}
		}
		s = s[n] ? s + n + 1 : NULL;
	}
}

/* ---- proof that no child was created ---- */

/*
 * Evidence that a child exists or existed, as bits; 0 means none. How
 * strong the proof is depends on what was watched:
 * - st_child_evidence() alone: no child exists now, zombie or running
 *   (WAITABLE, LISTED).
 * - after st_watch_children(0): none came and went either (SIGCHLD).
 * - after st_watch_children(1): not even one that was never reported, as
 *   the fresh pid namespace's first pid must still be free (PID_USED).
 *   After that the process must not fork until it calls
 *   st_child_evidence(), which uses that pid once; it then cannot fork
 *   again (the namespace died with its pid 1).
 * Call it only where the check has no child of its own.
 */
#define ST_CHILD_WAITABLE	1	/* waitid(P_ALL) sees a child */
#define ST_CHILD_LISTED		2	/* /proc/.../children is not empty */
#define ST_CHILD_SIGCHLD	4	/* a SIGCHLD arrived */
#define ST_CHILD_PID_USED	8	/* the fresh pid namespace used a pid */

static volatile sig_atomic_t st_sigchld_count;
static int st_watching_pidns;

static void st_on_sigchld(int sig)
{
	(void)sig;
	st_sigchld_count++;
}

/* Start watching; 0 or -errno. */
static inline int st_watch_children(int pidns)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = st_on_sigchld;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL))
		return -errno;
	st_sigchld_count = 0;
	if (pidns) {
		if (unshare(CLONE_NEWPID))
			return -errno;
		st_watching_pidns = 1;
	}
	return 0;
}

/* Children of the calling thread, from procfs; -1 on error. */
static inline int st_child_count(void)
{
	char path[64], buf[4096];
	int fd, n = 0;
	ssize_t r;
	char *s;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)syscall(SYS_gettid));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	for (s = strtok(buf, " \n"); s; s = strtok(NULL, " \n"))
		n++;
	return n;
}

static inline int st_child_evidence(void)
{
	siginfo_t si;
	int bits = 0, st;
	pid_t p;

	if (st_child_count() != 0)
		bits |= ST_CHILD_LISTED;
	memset(&si, 0, sizeof(si));
	/* WNOWAIT: a child that is there stays for the failure message. */
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) != -1 ||
	    errno != ECHILD)
		bits |= ST_CHILD_WAITABLE;
	if (st_sigchld_count)
		bits |= ST_CHILD_SIGCHLD;
	if (st_watching_pidns) {
		st_watching_pidns = 0;
		p = fork();
		if (p == 0)
			_exit(getpid() == 1 ? 0 : 1);
		if (p < 0 || waitpid(p, &st, 0) != p || st != 0)
			bits |= ST_CHILD_PID_USED;
	}
	return bits;
}

/* ---- scratch space and files ---- */

/*
 * A private mount namespace with a tmpfs on /tmp, mounted with @mflags.
 * Each check runs in its own process, so the mount dies with it, even
 * after a failed ASSERT. The helper directory is opened first, in case
 * the tmpfs hides it.
 */
#define ST_SCRATCH	"/tmp"

static inline void st_scratch(struct __test_metadata *_metadata,
			      unsigned long mflags)
{
	ASSERT_LE(0, st_helper_dirfd());
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("st", ST_SCRATCH, "tmpfs", mflags,
			   "mode=1777,size=256m"));
}

static int st_rm_one(const char *p, const struct stat *sb, int type,
		     struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove a directory tree; 0 or -1. */
static inline int st_rmtree(const char *dir)
{
	return nftw(dir, st_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Create @path with @len bytes of @data and mode @mode (set last). */
static inline void st_write_file(struct __test_metadata *_metadata,
				 const char *path, const void *data,
				 size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ASSERT_LE(0, fd) TH_LOG("create %s: %m", path);
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
	ASSERT_EQ(0, fchmod(fd, mode));
	ASSERT_EQ(0, close(fd));
}

/*
 * Copy helper @name (or an absolute path) to a new root-owned @dst with
 * @mode, set after the chown (which would clear S_ISUID). The writer is
 * closed before anyone templates the copy (ETXTBSY otherwise).
 */
static inline void st_copy_helper(struct __test_metadata *_metadata,
				  const char *name, const char *dst,
				  mode_t mode)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = openat(st_helper_dirfd(), name, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in) TH_LOG("open helper %s: %m", name);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ASSERT_LE(0, out) TH_LOG("create %s: %m", dst);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ASSERT_EQ(n, write(out, buf, n));
	}
	ASSERT_EQ(0, n);
	ASSERT_EQ(0, fchown(out, 0, 0));
	ASSERT_EQ(0, fchmod(out, mode));
	ASSERT_EQ(0, close(out));
	ASSERT_EQ(0, close(in));
}

/*
 * The usual file to template: a scratch tmpfs (st_scratch(), no mount
 * flags) with a copy of helper_probe at @path, mode 0755.
 */
static inline void st_scratch_probe(struct __test_metadata *_metadata,
				    const char *path)
{
	st_scratch(_metadata, 0);
	st_copy_helper(_metadata, "helper_probe", path, 0755);
}

/* Write @s to an existing file (sysfs, procfs); 0 or -errno. */
static inline int st_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		e = -errno;
	close(fd);
	return e;
}

/* Can the caller open @path for writing right now? 0 or the errno. */
static inline int st_write_errno(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* ---- fds ---- */

/* The lowest free fd (what the next open() would get). */
static inline int st_lowest_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * Open fds of the caller; with @pidfds_only, those that are pidfds.
 * -1 on error.
 */
static inline int st_fd_count(int pidfds_only)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char p[300], l[64];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		ssize_t k;

		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		if (pidfds_only) {
			snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
			k = readlink(p, l, sizeof(l) - 1);
			if (k <= 0)
				continue;
			l[k] = '\0';
			if (!strstr(l, "pidfd"))
				continue;
		}
		n++;
	}
	closedir(d);
	return n;
}

/* The "Pid:" of a pidfd from /proc/self/fdinfo, or -2 when absent. */
static inline int st_pidfd_pid(int pidfd)
{
	char path[64], buf[4096], *l;
	int fd, pid = -2;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -2;
	buf[r] = '\0';
	l = strstr(buf, "\nPid:");
	if (l)
		pid = atoi(l + 6);
	return pid;
}

/* Pass @fd over a unix socket; 0 or -1. */
static inline int st_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* Receive an fd sent by st_send_fd(), close-on-exec; the fd or -1. */
static inline int st_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- memory, processes, time ---- */

/* An address that is mapped nowhere (a page mapped, then unmapped). */
static inline void *st_unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return (void *)8;
	munmap(p, 4096);
	return p;
}

/*
 * Two pages, the second unmapped: the start of the mapped one; objects
 * placed at its end run into the hole. NULL on failure.
 */
static inline char *st_page_before_hole(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + 4096, 4096);
	return p;
}

/*
 * The number after "key" and one separator character on a line of a /proc
 * file ("VmallocUsed:" in meminfo, "processes " in stat), -1 when missing.
 * The buffer is large for /proc/stat's "intr" line; a line longer still is
 * read in pieces, which all start with a digit or a space, never a key.
 */
static inline long long st_proc_num(const char *path, const char *key,
				    char sep)
{
	char line[4096];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == sep) {
			v = atoll(line + kl + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A "Key: value" number of /proc/meminfo, -1 when missing. */
static inline long long st_meminfo_kb(const char *key)
{
	return st_proc_num("/proc/meminfo", key, ':');
}

static inline double st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- unprivileged users and Landlock ---- */

/* Become uid/gid ST_NOBODY with no supplementary groups, for good; 0/-1. */
static inline int st_drop_to_nobody(void)
{
	if (setgroups(0, NULL))
		return -1;
	if (setresgid(ST_NOBODY, ST_NOBODY, ST_NOBODY))
		return -1;
	return setresuid(ST_NOBODY, ST_NOBODY, ST_NOBODY);
}

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* The Landlock ABI version, or -1 and errno when Landlock is off. */
static inline int st_landlock_abi(void)
{
	return syscall(__NR_landlock_create_ruleset, NULL, 0,
		       LANDLOCK_CREATE_RULESET_VERSION);
}

/*
 * Restrict the calling thread with a ruleset that handles @handled and
 * grants nothing: every handled access is then denied everywhere. 0/-1.
 */
static inline int st_landlock_deny(__u64 handled)
{
	struct landlock_ruleset_attr attr;
	int rfd, ret;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	rfd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0)
		return -1;
	ret = syscall(__NR_landlock_restrict_self, rfd, 0);
	close(rfd);
	return ret;
}

/* ---- template origins ---- */

/*
 * A close-on-exec template of @path by the origin of ST_ORIGIN_VARIANTS():
 * from the path, or from an O_RDONLY fd of it (closed again), for a check
 * whose subject is what comes after: it must be created.
 */
static inline int st_origin_template(struct __test_metadata *_metadata,
				     bool by_fd, const char *path)
{
	int fd, tfd;

	if (!by_fd)
		return st_template(_metadata, path,
				   SPAWN_TEMPLATE_CREATE_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %m", path);
	tfd = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create from an fd of %s: %m", path);
	close(fd);
	return tfd;
}

#ifndef __NR_execveat
#define __NR_execveat 322
#endif

/*
 * What a spawn of an observer check is compared with: a fork()ed child
 * that runs execveat(@fd, "", @argv, @envp, AT_EMPTY_PATH). When the exec
 * fails the child exits 128 + its errno. The child's pid, or -1.
 */
static inline pid_t st_fork_execveat(int fd, char *const *argv,
				     char *const *envp)
{
	pid_t pid = fork();

	if (pid == 0) {
		syscall(__NR_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(128 + (errno & 0x7f));
	}
	return pid;
}

#endif /* SPAWN_TEMPLATE_COMMON_H */
