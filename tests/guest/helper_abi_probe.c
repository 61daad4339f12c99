// SPDX-License-Identifier: GPL-2.0
/*
 * Probe for the ABI checks (abi_spawn, actions, child_status, pidfd): it
 * reports on fd 1 what the exec gave it, one fact per line:
 *
 *   pid N / ppid N
 *   argc N
 *   arg I len L [TEXT]        TEXT only when L <= 256
 *   envc N
 *   env I len L [TEXT]
 *   fd N fl 0xFLAGS TARGET    every open fd (F_GETFL, readlink of /proc/self/fd/N)
 *   cwd PATH
 *   blocked 0xMASK            bit (sig - 1) for sig 1..64, from rt_sigprocmask
 *   ignored 0xMASK            signals whose disposition is SIG_IGN
 *   end
 *
 * Modes: "--exit N" exits with status N at once; "--pause" waits for a
 * signal forever. Static (see Makefile), so nothing runs before main that
 * could open fds or change the mask.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static char buf[1 << 20];
static size_t len;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len >= sizeof(buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
}

struct ksigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	unsigned long mask;
};

static void vec(const char *what, int n, char **v)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (l <= 256)
			out("%s %d len %zu %s\n", what, i, l, v[i]);
		else
			out("%s %d len %zu\n", what, i, l);
	}
}

int main(int argc, char **argv, char **envp)
{
	unsigned long long blocked = 0, ignored = 0;
	char path[PATH_MAX], target[PATH_MAX];
	size_t off = 0;
	int i, envc = 0;

	if (argc >= 3 && !strcmp(argv[1], "--exit"))
		return atoi(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "--pause")) {
		for (;;)
			pause();
	}

	out("pid %d\n", (int)getpid());
	out("ppid %d\n", (int)getppid());
	out("argc %d\n", argc);
	vec("arg", argc, argv);
	while (envp && envp[envc])
		envc++;
	out("envc %d\n", envc);
	vec("env", envc, envp);

	for (i = 0; i < 1024; i++) {
		int fl = fcntl(i, F_GETFL);
		ssize_t n;

		if (fl < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		out("fd %d fl 0x%x %s\n", i, fl, target);
	}
	if (getcwd(path, sizeof(path)))
		out("cwd %s\n", path);
	else
		out("cwd ?\n");

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blocked, 8);
	out("blocked 0x%016llx\n", blocked);
	for (i = 1; i <= 64; i++) {
		struct ksigaction ka;

		if (syscall(SYS_rt_sigaction, i, NULL, &ka, 8))
			continue;
		if (ka.handler == (unsigned long)SIG_IGN)
			ignored |= 1ULL << (i - 1);
	}
	out("ignored 0x%016llx\n", ignored);
	out("end\n");

	while (off < len) {
		ssize_t n = write(1, buf + off, len - off);

		if (n <= 0)
			return 2;
		off += n;
	}
	return 0;
}
