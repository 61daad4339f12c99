/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared utilities of the ABI checks (abi_create, abi_spawn, actions,
 * child_status, pidfd): argument builders, a runner that captures what
 * helper_abi_probe reports, scratch space, and the "no child was created"
 * proof used by every refusal check.
 */
#ifndef ABI_UTIL_H
#define ABI_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

#define ABI_PTR(p)	((__u64)(uintptr_t)(p))
#define ABI_NACT(a)	(sizeof(a) / sizeof((a)[0]))
/* MAX_ARG_STRLEN: 32 pages, terminating NUL included. */
#define ABI_MAX_ARG_STRLEN	(32 * 4096)

static inline struct spawn_template_action abi_act(__u32 type, __u32 flags,
						   int fd, int newfd,
						   const void *arg)
{
	struct spawn_template_action a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.flags = flags;
	a.fd = fd;
	a.newfd = newfd;
	a.arg = ABI_PTR(arg);
	return a;
}

/* Path of a helper program built next to the running check binary. */
static inline const char *abi_helper(const char *name)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	slash[1] = '\0';
	if (strlen(self) + strlen(name) >= sizeof(path))
		return NULL;
	strcpy(path, self);
	strcat(path, name);
	return path;
}

/* The probe, as a close-on-exec template; -1/errno on failure. */
static inline int abi_probe_template(void)
{
	const char *p = abi_helper("helper_abi_probe");

	if (!p) {
		errno = ENOENT;
		return -1;
	}
	return spawn_template_create_path(p, SPAWN_TEMPLATE_CREATE_CLOEXEC);
}

static inline void abi_spawn_args(struct spawn_template_spawn_args *a,
				  __u64 flags, char *const *argv,
				  char *const *envp,
				  const struct spawn_template_action *acts,
				  size_t n, int *pidfd)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->pidfd = ABI_PTR(pidfd);
	a->argv = ABI_PTR(argv);
	a->envp = ABI_PTR(envp);
	a->actions = ABI_PTR(acts);
	a->actions_len = n;
}

static inline pid_t abi_spawn(int tfd, __u64 flags, char *const *argv,
			      char *const *envp,
			      const struct spawn_template_action *acts,
			      size_t n, int *pidfd)
{
	struct spawn_template_spawn_args a;

	abi_spawn_args(&a, flags, argv, envp, acts, n, pidfd);
	return sys_spawn_template_spawn(tfd, &a, sizeof(a));
}

/* Raw wait status of pid (reaped), or -1. */
static inline int abi_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, __WALL) != pid)
		return -1;
	return st;
}

/* Wait status that means "exited with code". */
#define ABI_EXIT(code)	(((code) & 0xff) << 8)

struct abi_out {
	char buf[1 << 20];
	size_t len;
	pid_t pid;	/* what the syscall returned */
	int err;	/* errno when pid < 0 */
	int pidfd;	/* stored pidfd (closed by abi_run) */
	int status;	/* raw wait status, -1 if no child */
};

/*
 * Spawn with the child's fd 1 on a pipe (the caller's own fd 1 is swapped
 * for the duration of the call only), collect what it writes, reap it.
 */
static inline pid_t abi_run(int tfd, __u64 flags, char *const *argv,
			    char *const *envp,
			    const struct spawn_template_action *acts, size_t n,
			    struct abi_out *o)
{
	int p[2], saved;

	o->len = 0;
	o->buf[0] = '\0';
	o->status = -1;
	o->pidfd = -1;
	o->err = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	saved = fcntl(1, F_DUPFD_CLOEXEC, 500);
	if (saved < 0 || dup2(p[1], 1) != 1)
		return -1;
	o->pid = abi_spawn(tfd, flags, argv, envp, acts, n, &o->pidfd);
	o->err = o->pid < 0 ? errno : 0;
	dup2(saved, 1);
	close(saved);
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], o->buf + o->len, sizeof(o->buf) - 1 - o->len);

		if (r <= 0)
			break;
		o->len += r;
	}
	o->buf[o->len] = '\0';
	close(p[0]);
	if (o->pid > 0)
		o->status = abi_wait(o->pid);
	if (o->pidfd >= 0)
		close(o->pidfd);
	errno = o->err;
	return o->pid;
}

/*
 * The same capture through fork() + execve(), to compare with what the
 * kernel's own exec path gives for the same vectors.
 */
static inline pid_t abi_run_execve(const char *path, char *const *argv,
				   char *const *envp, struct abi_out *o)
{
	int p[2];

	o->len = 0;
	o->buf[0] = '\0';
	o->status = -1;
	o->pidfd = -1;
	o->err = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	o->pid = fork();
	if (o->pid == 0) {
		int fd;

		dup2(p[1], 1);
		/* Same fd picture as the default spawn: 0-2 only. */
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		syscall(SYS_execve, path, argv, envp);
		_exit(99);
	}
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], o->buf + o->len, sizeof(o->buf) - 1 - o->len);

		if (r <= 0)
			break;
		o->len += r;
	}
	o->buf[o->len] = '\0';
	close(p[0]);
	if (o->pid > 0)
		o->status = abi_wait(o->pid);
	return o->pid;
}

/* Copy the lines of o that start with one of the prefixes into dst. */
static inline void abi_select(const struct abi_out *o, const char *const *pfx,
			      char *dst, size_t size)
{
	const char *s = o->buf;
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

/* Is there a line that starts with prefix? Returns the line or NULL. */
static inline const char *abi_line(const struct abi_out *o, const char *prefix)
{
	const char *s = o->buf;
	size_t pl = strlen(prefix);

	while (s && *s) {
		if (!strncmp(s, prefix, pl))
			return s;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return NULL;
}

/* Is there a line exactly equal to line? */
static inline int abi_has(const struct abi_out *o, const char *line)
{
	const char *s = o->buf;
	size_t l = strlen(line);

	while (s && *s) {
		if (!strncmp(s, line, l) && (s[l] == '\n' || s[l] == '\0'))
			return 1;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return 0;
}

/* Did the probe report fd as open? */
static inline int abi_fd_seen(const struct abi_out *o, int fd)
{
	char pfx[32];

	snprintf(pfx, sizeof(pfx), "fd %d ", fd);
	return abi_line(o, pfx) != NULL;
}

/* Target (readlink) of fd as the probe saw it, "" when not open. */
static inline const char *abi_fd_target(const struct abi_out *o, int fd)
{
	static char t[PATH_MAX];
	const char *l, *sp;
	char pfx[32];
	size_t n;

	t[0] = '\0';
	snprintf(pfx, sizeof(pfx), "fd %d ", fd);
	l = abi_line(o, pfx);
	if (!l)
		return t;
	l += strlen(pfx);		/* "fl 0x... TARGET" */
	sp = strchr(l + 3, ' ');
	if (!sp)
		return t;
	sp++;
	n = strcspn(sp, "\n");
	if (n >= sizeof(t))
		n = sizeof(t) - 1;
	memcpy(t, sp, n);
	t[n] = '\0';
	return t;
}

/* Open flags (F_GETFL) of fd as the probe saw it, -1 when not open. */
static inline int abi_fd_flags(const struct abi_out *o, int fd)
{
	const char *l;
	char pfx[32];

	snprintf(pfx, sizeof(pfx), "fd %d fl ", fd);
	l = abi_line(o, pfx);
	if (!l)
		return -1;
	return (int)strtol(l + strlen(pfx), NULL, 16);
}

/* "blocked" / "ignored" masks; bit (sig - 1). ~0ULL when missing. */
static inline unsigned long long abi_mask(const struct abi_out *o,
					  const char *name)
{
	char pfx[32];
	const char *l;

	snprintf(pfx, sizeof(pfx), "%s ", name);
	l = abi_line(o, pfx);
	if (!l)
		return ~0ULL;
	return strtoull(l + strlen(pfx), NULL, 16);
}

#define ABI_SIGBIT(sig)	(1ULL << ((sig) - 1))

/* The "Pid:" of a pidfd from /proc/self/fdinfo, or -2 when absent. */
static inline int abi_pidfd_pid(int pidfd)
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

/* ---- proof that a refused call created no child ---- */

static volatile sig_atomic_t abi_sigchld_seen;

static void abi_on_sigchld(int sig)
{
	(void)sig;
	abi_sigchld_seen++;
}

/*
 * Start watching: count SIGCHLD, and move future children of this process
 * into a fresh pid namespace, whose first pid is 1. The caller must not
 * create any child between this and abi_nochild_end(), nor after it (the
 * namespace dies with its pid 1: later forks fail with ENOMEM).
 */
static inline int abi_nochild_begin(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = abi_on_sigchld;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL))
		return -errno;
	abi_sigchld_seen = 0;
	if (unshare(CLONE_NEWPID))
		return -errno;
	return 0;
}

/* Number of entries in /proc/self/task/TID/children, -1 on error. */
static inline int abi_children(void)
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

#define ABI_NOCHILD_SIGCHLD	1	/* a SIGCHLD arrived */
#define ABI_NOCHILD_WAITABLE	2	/* waitid(P_ALL) saw a child */
#define ABI_NOCHILD_LISTED	4	/* /proc/.../children not empty */
#define ABI_NOCHILD_PID_USED	8	/* the fresh pid namespace used a pid */

/*
 * 0 when no child was ever created since abi_nochild_begin(), else the
 * ABI_NOCHILD_* bits of the evidence. Can be called once per process.
 */
static inline int abi_nochild_end(void)
{
	siginfo_t si;
	int bits = 0, st;
	pid_t p;

	if (abi_children() != 0)
		bits |= ABI_NOCHILD_LISTED;
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) != -1 ||
	    errno != ECHILD)
		bits |= ABI_NOCHILD_WAITABLE;
	if (abi_sigchld_seen)
		bits |= ABI_NOCHILD_SIGCHLD;
	/* The first child in the fresh namespace must be its pid 1. */
	p = fork();
	if (p == 0)
		_exit(getpid() == 1 ? 0 : 1);
	if (p < 0 || waitpid(p, &st, 0) != p || st != 0)
		bits |= ABI_NOCHILD_PID_USED;
	return bits;
}

/* The lowest free fd (what the next open() would get). */
static inline int abi_lowest_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* ---- scratch space ---- */

static int abi_rm_one(const char *p, const struct stat *sb, int type,
		      struct FTW *ftw)
{
	(void)sb; (void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static inline int abi_rmtree(const char *dir)
{
	return nftw(dir, abi_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int abi_write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* An address that is mapped nowhere (a page we mapped and unmapped). */
static inline void *abi_unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return (void *)8;
	munmap(p, 4096);
	return p;
}

/*
 * Two pages, the second unmapped: returns the start of the mapped page;
 * objects placed at its end run into the hole.
 */
static inline char *abi_page_before_hole(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + 4096, 4096);
	return p;
}

#endif /* ABI_UTIL_H */
