// SPDX-License-Identifier: GPL-2.0
/*
 * Probe executed by the identity/reuse/lifetime checks (built static).
 *
 *   probe exit N     exit with status N at once
 *   probe report     write what the process is to fd 1, exit 0:
 *                      comm=, exe=, exe_dev=, exe_ino=, execfn=, argc=,
 *                      argv<i>=, env_LIFE_TAG=, then one "fd=N dev=D ino=I"
 *                      line per open fd (listed before anything else is
 *                      opened: the probe opens no fd of its own), "end"
 *   probe sleep S    sleep S seconds, exit 0
 *   probe echo       read one line from fd 0, write it to fd 1, exit 42
 *   (sleep and echo die with their parent: PR_SET_PDEATHSIG SIGKILL)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char out[1 << 16];
static size_t outlen;

static void put(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (outlen >= sizeof(out))
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		outlen += n;
	if (outlen > sizeof(out))
		outlen = sizeof(out);
}

static int flush_out(void)
{
	size_t off = 0;

	while (off < outlen) {
		ssize_t n = write(1, out + off, outlen - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		off += n;
	}
	return 0;
}

static int report(int argc, char **argv)
{
	char comm[17] = "";
	char exe[PATH_MAX];
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	const char *tag = getenv("LIFE_TAG");
	struct rlimit rl;
	struct stat st;
	long max, fd;
	ssize_t n;
	int i;

	/* fds first: nothing below opens one, but be explicit about order. */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > 65536)
		max = 65536;
	else
		max = rl.rlim_cur;
	for (fd = 0; fd < max; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		if (fstat(fd, &st))
			put("fd=%ld dev=? ino=?\n", fd);
		else
			put("fd=%ld dev=%llu ino=%llu\n", fd,
			    (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
	}

	prctl(PR_GET_NAME, comm, 0, 0, 0);
	put("comm=%s\n", comm);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	put("exe=%s\n", exe);
	if (stat("/proc/self/exe", &st) == 0)
		put("exe_dev=%llu\nexe_ino=%llu\n",
		    (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
	put("execfn=%s\n", execfn ? execfn : "(null)");
	put("argc=%d\n", argc);
	for (i = 0; i < argc && i < 16; i++)
		put("argv%d=%s\n", i, argv[i] ? argv[i] : "(null)");
	put("env_LIFE_TAG=%s\n", tag ? tag : "(unset)");
	put("end\n");
	return flush_out();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";

	if (!strcmp(mode, "exit"))
		return argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(mode, "report"))
		return report(argc, argv);
	/* Long-lived modes die with the spawning check if it fails early. */
	if (!strcmp(mode, "sleep") || !strcmp(mode, "echo")) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() == 1)
			return 5;
	}
	if (!strcmp(mode, "sleep")) {
		sleep(argc > 2 ? atoi(argv[2]) : 10);
		return 0;
	}
	if (!strcmp(mode, "echo")) {
		char buf[256];
		ssize_t n = read(0, buf, sizeof(buf));

		if (n <= 0)
			return 3;
		if (write(1, buf, n) != n)
			return 4;
		return 42;
	}
	return 2;
}
