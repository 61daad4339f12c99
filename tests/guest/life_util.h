/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared utilities of the identity, reuse and lifetime checks: a private
 * tmpfs scratch space, copies of helper_life_probe, template create/spawn
 * wrappers, a runner that captures the probe's report, and the "no child
 * was created" proof.
 *
 * Scratch space: the test process (each TEST runs in its own fork) enters a
 * private mount namespace and mounts a tmpfs over LIFE_DIR. Nothing is left
 * behind: the mount dies with the namespace when the test process exits,
 * even after a failed ASSERT. The helper directory is opened (O_PATH) before
 * the mount hides it.
 */
#ifndef LIFE_UTIL_H
#define LIFE_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spawn_template_abi.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define LIFE_DIR	"/tmp"
#define LIFE_PROBE	LIFE_DIR "/lprobe"
#define LIFE_PTR(p)	((__u64)(uintptr_t)(p))

static char *const life_exit0[] = { "lprobe", "exit", "0", NULL };
static char *const life_report_argv[] = { "lprobe", "report", NULL };
static char *const life_noenv[] = { NULL };

static int life_hdfd = -1;

/* Directory of the running check binary (the helpers live there). */
static inline int life_helpers_dfd(void)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (life_hdfd >= 0)
		return life_hdfd;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	life_hdfd = open(self, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return life_hdfd;
}

/* Private mount namespace + tmpfs on LIFE_DIR with the given mount flags. */
static inline void life_scratch(struct __test_metadata *_metadata,
				unsigned long mflags)
{
	ASSERT_LE(0, life_helpers_dfd());
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("life", LIFE_DIR, "tmpfs", mflags,
			   "mode=1777,size=256m"));
}

/* Copy a file from the helper directory (or an absolute path) to dst. */
static inline void life_copy(struct __test_metadata *_metadata,
			     const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = openat(life_helpers_dfd(), src, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in) TH_LOG("open helper %s: %m", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ASSERT_LE(0, out) TH_LOG("create %s: %m", dst);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(out, buf, n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(0, fchmod(out, mode));
	ASSERT_EQ(0, close(out));
	ASSERT_EQ(0, close(in));
}

static inline void life_copy_probe(struct __test_metadata *_metadata,
				   const char *dst, mode_t mode)
{
	life_copy(_metadata, "helper_life_probe", dst, mode);
}

static inline void life_write_file(struct __test_metadata *_metadata,
				   const char *path, const void *data,
				   size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ASSERT_LE(0, fd) TH_LOG("create %s: %m", path);
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
	ASSERT_EQ(0, fchmod(fd, mode));
	ASSERT_EQ(0, close(fd));
}

static inline pid_t life_spawn(int tfd, char *const argv[], char *const envp[],
			       const struct spawn_template_action *acts,
			       size_t nacts, __u64 flags, int *pidfd)
{
	struct spawn_template_spawn_args a;

	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.pidfd = LIFE_PTR(pidfd);
	a.argv = LIFE_PTR(argv);
	a.envp = LIFE_PTR(envp);
	a.actions = LIFE_PTR(acts);
	a.actions_len = nacts;
	return sys_spawn_template_spawn(tfd, &a, sizeof(a));
}

static inline struct spawn_template_action life_act(__u32 type, __u32 flags,
						    int fd, int newfd,
						    const void *arg)
{
	struct spawn_template_action a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.flags = flags;
	a.fd = fd;
	a.newfd = newfd;
	a.arg = LIFE_PTR(arg);
	return a;
}

/*
 * Status of a finished child as one int: the exit code (0..255), or
 * 256 + signal number if it was killed; -1 if waiting failed.
 */
#define LIFE_SIG(s)	(256 + (s))
static inline int life_status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return si->si_status;
	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
		return LIFE_SIG(si->si_status);
	return -1;
}

/* Reap the child behind pidfd and close the pidfd. */
static inline int life_wait_pidfd(int pidfd)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do {
		r = waitid(P_PIDFD, pidfd, &si, WEXITED);
	} while (r < 0 && errno == EINTR);
	close(pidfd);
	return r ? -1 : life_status_of(&si);
}

static inline int life_wait_pid(pid_t pid)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do {
		r = waitid(P_PID, pid, &si, WEXITED);
	} while (r < 0 && errno == EINTR);
	return r ? -1 : life_status_of(&si);
}

/* Spawn argv from tfd with no actions and return its status (or -1). */
static inline int life_run(int tfd, char *const argv[])
{
	int pidfd = -1;
	pid_t pid = life_spawn(tfd, argv, life_noenv, NULL, 0, 0, &pidfd);

	if (pid < 0)
		return -1;
	return life_wait_pidfd(pidfd);
}

/*
 * Proof that a refused spawn created no child: the test process has no
 * child at all (no zombie, no live one). WNOWAIT leaves any child in place
 * for the failure message. Call only where the test has no other child.
 */
#define LIFE_ASSERT_NO_CHILD() do {					\
	siginfo_t __si;							\
	memset(&__si, 0, sizeof(__si));					\
	ASSERT_EQ(-1, waitid(P_ALL, 0, &__si,				\
			     WEXITED | WNOHANG | WNOWAIT))		\
		TH_LOG("a child exists: pid %d", __si.si_pid);		\
	ASSERT_EQ(ECHILD, errno);					\
} while (0)

/* Number of open fds of the calling process. */
static inline int life_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Number of fds of the calling process that are pidfds. */
static inline int life_pidfd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char p[300], l[64];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		ssize_t k;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		k = readlink(p, l, sizeof(l) - 1);
		if (k <= 0)
			continue;
		l[k] = '\0';
		if (strstr(l, "pidfd"))
			n++;
	}
	closedir(d);
	return n;
}

/* Children of the calling (single-threaded) process, from procfs. */
static inline int life_child_count(void)
{
	char p[64], buf[4096];
	int fd, n = 0;
	ssize_t k;
	char *s;

	snprintf(p, sizeof(p), "/proc/self/task/%d/children", getpid());
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k < 0)
		return -1;
	buf[k] = '\0';
	for (s = strtok(buf, " \n"); s; s = strtok(NULL, " \n"))
		n++;
	return n;
}

/* First child pid of process pid (its main thread), 0 if none. */
static inline pid_t life_first_child_of(pid_t pid)
{
	char p[64], buf[256];
	ssize_t k;
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", pid, pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	return atoi(buf);
}

static inline ssize_t life_read_all(int fd, char *buf, size_t size)
{
	size_t off = 0;

	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = '\0';
	return off;
}

/*
 * Spawn the probe from tfd with stdout on a pipe and the given argv/envp
 * (argv[1] should be "report"), collect everything it writes into buf, and
 * return its status; -1 (errno set) if the spawn itself failed.
 */
static inline int life_report(int tfd, char *const argv[], char *const envp[],
			      char *buf, size_t size)
{
	struct spawn_template_action act;
	int p[2], pidfd = -1, e;
	pid_t pid;

	buf[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return -1;
	act = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, p[1], 1, NULL);
	pid = life_spawn(tfd, argv, envp ? envp : life_noenv, &act, 1, 0,
			 &pidfd);
	e = errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		errno = e;
		return -1;
	}
	life_read_all(p[0], buf, size);
	close(p[0]);
	return life_wait_pidfd(pidfd);
}

/* Value of "key=" in a probe report, copied to a static buffer; NULL if absent. */
static inline const char *life_kv(const char *report, const char *key)
{
	static char val[PATH_MAX];
	size_t kl = strlen(key);
	const char *s = report;

	while (s && *s) {
		if (!strncmp(s, key, kl) && s[kl] == '=') {
			const char *e = strchr(s + kl + 1, '\n');
			size_t n = e ? (size_t)(e - s - kl - 1) : strlen(s + kl + 1);

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

/* Can the calling process open path for writing right now? errno or 0. */
static inline int life_write_errno(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static inline long long life_meminfo_kb(const char *key)
{
	char line[256];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = atoll(line + kl + 1);
			break;
		}
	fclose(f);
	return v;
}

static inline int life_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

static inline double life_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* LIFE_UTIL_H */
