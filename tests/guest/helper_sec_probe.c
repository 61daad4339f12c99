// SPDX-License-Identifier: GPL-2.0
/*
 * Probe for the security checks. Static, so that it can run setuid, setgid
 * or with file capabilities without the dynamic loader's secure mode in the
 * way. Modes (argv[1]):
 *
 *   ids (or none)  one line: real/effective/saved/fs uid and gid,
 *                  getauxval(AT_SECURE), prctl(PR_GET_DUMPABLE), capability
 *                  sets, NoNewPrivs and Seccomp from /proc/self/status.
 *   spawnfd N      spawn_template_spawn() from fd N (argv "ids"); prints
 *                  "spawnfd=<ERRNO|ok> children=<none|some>"; exits 0 on
 *                  success, the errno on refusal, 99 if a refused spawn left
 *                  a child.
 *   blocked        tries execve() of a missing file and syscall 473 with a
 *                  bad fd; prints "execve=<ERRNO> spawn473=<ERRNO>" (EPERM
 *                  means a seccomp filter refused it).
 *   attr           "attr=<contents of /proc/self/attr/current|ERRNO>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

#include "sec_util.h"

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void ids(void)
{
	unsigned int u[4] = { 9, 9, 9, 9 }, g[4] = { 9, 9, 9, 9 };
	char f[7][128];
	static const char *const keys[7] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
		"NoNewPrivs", "Seccomp",
	};
	char line[128];
	int i;

	sec_status_field("Uid", line, sizeof(line));
	sscanf(line, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]);
	sec_status_field("Gid", line, sizeof(line));
	sscanf(line, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]);
	for (i = 0; i < 7; i++)
		sec_status_field(keys[i], f[i], sizeof(f[i]));

	printf("ruid=%u euid=%u suid=%u fsuid=%u rgid=%u egid=%u sgid=%u fsgid=%u "
	       "secure=%lu dumpable=%d capinh=%s capprm=%s capeff=%s capbnd=%s "
	       "capamb=%s nnp=%s seccomp=%s\n",
	       u[0], u[1], u[2], u[3], g[0], g[1], g[2], g[3],
	       getauxval(AT_SECURE), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
	       f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
}

static int spawnfd(int fd)
{
	static char *const argv[] = { "ids", NULL };
	int status;
	pid_t pid;
	int e;

	fflush(stdout);
	pid = sec_spawn(fd, argv, -1, 0);
	e = errno;
	if (pid > 0) {
		waitpid(pid, &status, 0);
		printf("spawnfd=ok children=none\n");
		return 0;
	}
	printf("spawnfd=%s children=%s\n", ename(e),
	       sec_no_children() ? "none" : "some");
	return sec_no_children() ? e : 99;
}

static void blocked(void)
{
	static char *const argv[] = { "x", NULL };
	int e1, e2;

	execve("/nonexistent-sec-probe/x", argv, argv + 1);
	e1 = errno;
	syscall(__NR_spawn_template_spawn, -1, NULL, 0);
	e2 = errno;
	printf("execve=%s spawn473=%s\n", ename(e1), ename(e2));
}

static void attr(void)
{
	char buf[256];
	ssize_t n = -1;
	int fd = open("/proc/self/attr/current", O_RDONLY);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0) {
		printf("attr=%s\n", ename(errno));
		return;
	}
	buf[n] = '\0';
	printf("attr=%.*s\n", (int)strcspn(buf, "\n"), buf);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "ids")) {
		ids();
		return 0;
	}
	if (!strcmp(argv[1], "spawnfd") && argc > 2)
		return spawnfd(atoi(argv[2]));
	if (!strcmp(argv[1], "blocked")) {
		blocked();
		return 0;
	}
	if (!strcmp(argv[1], "attr")) {
		attr();
		return 0;
	}
	fprintf(stderr, "helper_sec_probe: bad mode\n");
	return 2;
}
