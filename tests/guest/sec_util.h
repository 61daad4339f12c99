/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the security checks (creds.c, secure_exec.c, lsm.c,
 * seccomp.c): run a program through a template or through execve and
 * capture what it prints, prove that no child was created, drop to an
 * unprivileged user, raw Landlock wrappers.
 *
 * Everything here reports failures through return values; the checks turn
 * them into exact ASSERTs.
 */
#ifndef SEC_UTIL_H
#define SEC_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/landlock.h>

#include "spawn_template_abi.h"

#define SEC_NOBODY 65534
#define SEC_OUT_MAX 2048

/* Directory of the running check: helpers live next to it. */
static inline int sec_helper_path(const char *name, char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	size_t dir, nlen = strlen(name);
	char *slash;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -1;
	dir = slash + 1 - buf;
	if (dir + nlen + 1 > len)
		return -1;
	memcpy(slash + 1, name, nlen + 1);
	return 0;
}

/*
 * Spawn from @tfd with @argv and an empty environment. When @outfd >= 0 it
 * becomes the child's stdout (DUP2 action). Returns the pid or -1/errno;
 * the pidfd is closed here.
 */
static inline pid_t sec_spawn(int tfd, char *const argv[], int outfd,
			      __u64 flags)
{
	static char *const envp[] = { NULL };
	struct spawn_template_action act;
	struct spawn_template_spawn_args a;
	int pidfd = -1;
	pid_t pid;
	int saved;

	memset(&a, 0, sizeof(a));
	memset(&act, 0, sizeof(act));
	a.flags = flags;
	a.pidfd = (__u64)(unsigned long)&pidfd;
	a.argv = (__u64)(unsigned long)argv;
	a.envp = (__u64)(unsigned long)envp;
	if (outfd >= 0) {
		act.type = SPAWN_TEMPLATE_ACTION_DUP2;
		act.fd = outfd;
		act.newfd = 1;
		a.actions = (__u64)(unsigned long)&act;
		a.actions_len = 1;
	}
	pid = sys_spawn_template_spawn(tfd, &a, sizeof(a));
	saved = errno;
	if (pid > 0 && pidfd >= 0)
		close(pidfd);
	errno = saved;
	return pid;
}

/* Read all of @fd into @out (NUL-terminated), then close it. */
static inline void sec_slurp(int fd, char *out, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		n = read(fd, out + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	out[got] = '\0';
	close(fd);
}

/*
 * Run @argv through template @tfd, capture stdout into @out and the wait
 * status into @status. Returns 0, or -1 with errno of the refused spawn.
 */
static inline int sec_spawn_run(int tfd, char *const argv[], __u64 flags,
				char *out, size_t len, int *status)
{
	int p[2];
	pid_t pid;
	int saved;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = sec_spawn(tfd, argv, p[1], flags);
	saved = errno;
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		errno = saved;
		return -1;
	}
	sec_slurp(p[0], out, len);
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return 0;
}

/* The same through fork + execve. Returns 0, or -1 if fork failed. */
static inline int sec_exec_run(const char *path, char *const argv[],
			       char *out, size_t len, int *status)
{
	static char *const envp[] = { NULL };
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (dup2(p[1], 1) < 0)
			_exit(200);
		execve(path, argv, envp);
		_exit(errno == ENOENT ? 127 : errno == EACCES ? 126 : 1);
	}
	close(p[1]);
	sec_slurp(p[0], out, len);
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return 0;
}

/*
 * Copy the file open at @srcfd to a new root-owned @dst with @mode (set
 * after the chown, which would clear S_ISUID). The writer is closed before
 * anyone templates the copy (ETXTBSY otherwise).
 */
static inline int sec_copy_file(int srcfd, const char *dst, mode_t mode)
{
	struct stat st;
	off_t off = 0;
	int fd;

	if (fstat(srcfd, &st))
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (fd < 0)
		return -1;
	while (off < st.st_size) {
		if (sendfile(fd, srcfd, &off, st.st_size - off) <= 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (chown(dst, 0, 0))
		return -1;
	return chmod(dst, mode);
}

/*
 * True when this process has no child at all, zombie or running: the proof
 * that a refused spawn created none (the checks call it in a process that
 * has no other children).
 */
static inline int sec_no_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 &&
	       errno == ECHILD;
}

/* SIGCHLD counter: a second witness that no child came and went. */
static volatile sig_atomic_t sec_sigchld_count;

static inline void sec_sigchld(int sig)
{
	sec_sigchld_count++;
}

static inline int sec_count_sigchld(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sec_sigchld;
	sa.sa_flags = SA_RESTART;
	sec_sigchld_count = 0;
	return sigaction(SIGCHLD, &sa, NULL);
}

/* Become uid/gid 65534 with no supplementary groups, for good. */
static inline int sec_drop_to_nobody(void)
{
	if (setgroups(0, NULL))
		return -1;
	if (setresgid(SEC_NOBODY, SEC_NOBODY, SEC_NOBODY))
		return -1;
	if (setresuid(SEC_NOBODY, SEC_NOBODY, SEC_NOBODY))
		return -1;
	return 0;
}

/* Value of a "Key:\tvalue" line of /proc/self/status, or "" if absent. */
static inline void sec_status_field(const char *key, char *out, size_t len)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			break;
		}
	}
	fclose(f);
}

/* Landlock through raw syscalls (444, 445, 446). */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

static inline int sec_landlock_abi(void)
{
	return syscall(__NR_landlock_create_ruleset, NULL, 0,
		       LANDLOCK_CREATE_RULESET_VERSION);
}

/*
 * Restrict the calling thread with a ruleset that handles @handled and
 * grants nothing: every handled access is then denied everywhere.
 */
static inline int sec_landlock_deny(__u64 handled)
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

#endif /* SEC_UTIL_H */
