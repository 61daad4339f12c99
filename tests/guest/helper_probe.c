// SPDX-License-Identifier: GPL-2.0
/*
 * The probe the checks spawn: it reports what the exec gave it, as
 * key=value lines on fd 1 (read them with st_kv()). Built static, so that
 * nothing runs before main() that could open an fd or change the signal
 * mask, and so that it runs setuid, setgid or with file capabilities
 * without the dynamic loader's secure mode in the way.
 *
 * Modes (argv[1]):
 *   exit N      exit with status N at once
 *   pause       wait for a signal forever
 *   sleep S     sleep S seconds, exit 0               (dies with its parent)
 *   echo        copy one line from fd 0 to fd 1, exit 42 (dies with its parent)
 *   report      the process picture, exit 0:
 *                 fd.N.flags fd.N.dev fd.N.ino fd.N.target  every open fd,
 *                   listed before the probe opens any fd of its own
 *                 pid ppid comm exe exe_dev exe_ino execfn cwd
 *                 argc argv.I.len argv.I envc envp.I.len envp.I
 *                   (the text only when its length is at most 256)
 *                 tag            $ST_TAG, or "(unset)"
 *                 stack          permissions of the [stack] mapping (rw-p)
 *                 blocked ignored  signal masks, bit (sig - 1), from the
 *                   kernel's own sigprocmask and sigaction
 *                 end=1          the report is complete
 *   ids         credentials: ruid euid suid fsuid rgid egid sgid fsgid
 *               secure (AT_SECURE) dumpable capinh capprm capeff capbnd
 *               capamb nnp seccomp
 *   spawnfd N   spawn_template_spawn() from fd N (argv "ids"): spawnfd=ok
 *               or the errno's name, children=none|some; exits 0 on
 *               success, the errno on refusal, 99 if a refusal left a child
 *   blocked     execve() of a missing file and syscall 473 with a bad fd:
 *               execve= spawn473= (errno names; EPERM is a seccomp refusal)
 *   attr        attr= contents of /proc/self/attr/current, or errno name
 */
#include <stdarg.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common.h"

static char buf[1 << 20];
static size_t len;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len + 1 >= sizeof(buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
}

static int flush_out(void)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(1, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 2;
		off += n;
	}
	len = 0;
	return 0;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void vec(const char *what, int n, char **v)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		out("%s.%d.len=%zu\n", what, i, l);
		if (l <= 256)
			out("%s.%d=%s\n", what, i, v[i]);
	}
}

/* The kernel's struct sigaction, to read dispositions without libc. */
struct ksigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	unsigned long mask;
};

static void fds(void)
{
	char path[64], target[PATH_MAX];
	struct rlimit rl;
	struct stat st;
	long max, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > 65536)
		max = 65536;
	else
		max = rl.rlim_cur;
	for (fd = 0; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFL);
		ssize_t n;

		if (fl < 0)
			continue;
		out("fd.%ld.flags=0x%x\n", fd, fl);
		if (fstat(fd, &st) == 0) {
			out("fd.%ld.dev=%llu\n", fd, (unsigned long long)st.st_dev);
			out("fd.%ld.ino=%llu\n", fd, (unsigned long long)st.st_ino);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		out("fd.%ld.target=%s\n", fd, target);
	}
}

/* The permissions of the main stack's mapping, from /proc/self/maps. */
static void stack_perms(char *perms, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	snprintf(perms, size, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[stack]")) {
			sscanf(line, "%*s %15s", perms);
			break;
		}
	}
	fclose(f);
}

static int report(int argc, char **argv, char **envp)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	const char *tag = getenv("ST_TAG");
	unsigned long long blocked = 0, ignored = 0;
	char comm[17] = "", path[PATH_MAX], perms[16];
	struct stat st;
	int i, envc = 0;
	ssize_t n;

	fds();
	out("pid=%d\n", (int)getpid());
	out("ppid=%d\n", (int)getppid());
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	out("comm=%s\n", comm);
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	out("exe=%s\n", path);
	if (stat("/proc/self/exe", &st) == 0) {
		out("exe_dev=%llu\n", (unsigned long long)st.st_dev);
		out("exe_ino=%llu\n", (unsigned long long)st.st_ino);
	}
	out("execfn=%s\n", execfn ? execfn : "(null)");
	out("cwd=%s\n", getcwd(path, sizeof(path)) ? path : "?");
	out("argc=%d\n", argc);
	vec("argv", argc, argv);
	while (envp && envp[envc])
		envc++;
	out("envc=%d\n", envc);
	vec("envp", envc, envp);
	out("tag=%s\n", tag ? tag : "(unset)");
	stack_perms(perms, sizeof(perms));
	out("stack=%s\n", perms);

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blocked, 8);
	out("blocked=0x%016llx\n", blocked);
	for (i = 1; i <= 64; i++) {
		struct ksigaction ka;

		if (syscall(SYS_rt_sigaction, i, NULL, &ka, 8))
			continue;
		if (ka.handler == (unsigned long)SIG_IGN)
			ignored |= 1ULL << (i - 1);
	}
	out("ignored=0x%016llx\n", ignored);
	out("end=1\n");
	return flush_out();
}

/* Value of a "Key:\tvalue" line of /proc/self/status, or "". */
static void status_field(const char *key, char *val, size_t size)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	val[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, size, "%s", v);
			break;
		}
	}
	fclose(f);
}

static int ids(void)
{
	static const char *const keys[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
		"NoNewPrivs", "Seccomp",
	};
	static const char *const names[] = {
		"capinh", "capprm", "capeff", "capbnd", "capamb",
		"nnp", "seccomp",
	};
	unsigned int u[4] = { 9, 9, 9, 9 }, g[4] = { 9, 9, 9, 9 };
	char line[128];
	size_t i;

	status_field("Uid", line, sizeof(line));
	sscanf(line, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]);
	status_field("Gid", line, sizeof(line));
	sscanf(line, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]);
	out("ruid=%u\neuid=%u\nsuid=%u\nfsuid=%u\n", u[0], u[1], u[2], u[3]);
	out("rgid=%u\negid=%u\nsgid=%u\nfsgid=%u\n", g[0], g[1], g[2], g[3]);
	out("secure=%lu\n", getauxval(AT_SECURE));
	out("dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	for (i = 0; i < ST_NELEM(keys); i++) {
		status_field(keys[i], line, sizeof(line));
		out("%s=%s\n", names[i], line);
	}
	return flush_out();
}

static int spawnfd(int fd)
{
	static char *const argv[] = { "probe", "ids", NULL };
	static char *const envp[] = { NULL };
	int pidfd = -1, e, child;
	pid_t pid;

	flush_out();
	pid = st_spawn(fd, 0, argv, envp, NULL, 0, &pidfd);
	e = errno;
	if (pid > 0) {
		st_wait_pidfd(pidfd);
		out("spawnfd=ok\nchildren=none\n");
		flush_out();
		return 0;
	}
	child = st_child_evidence() != 0;
	out("spawnfd=%s\nchildren=%s\n", ename(e), child ? "some" : "none");
	flush_out();
	return child ? 99 : e;
}

static int blocked(void)
{
	static char *const argv[] = { "x", NULL };
	int e1, e2;

	execve("/nonexistent-st-probe/x", argv, argv + 1);
	e1 = errno;
	syscall(__NR_spawn_template_spawn, -1, NULL, 0);
	e2 = errno;
	out("execve=%s\nspawn473=%s\n", ename(e1), ename(e2));
	return flush_out();
}

static int attr(void)
{
	char val[256];
	ssize_t n = -1;
	int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, val, sizeof(val) - 1);
		if (n < 0)
			n = -errno;
		close(fd);
	} else {
		n = -errno;
	}
	if (n < 0) {
		out("attr=%s\n", ename(-n));
		return flush_out();
	}
	val[n] = '\0';
	out("attr=%.*s\n", (int)strcspn(val, "\n"), val);
	return flush_out();
}

static int echo(void)
{
	char line[256];
	ssize_t n = read(0, line, sizeof(line));

	if (n <= 0)
		return 3;
	if (write(1, line, n) != n)
		return 4;
	return 42;
}

int main(int argc, char **argv, char **envp)
{
	const char *mode = argc > 1 ? argv[1] : "report";
	const char *arg = argc > 2 ? argv[2] : NULL;

	if (!strcmp(mode, "exit"))
		return arg ? atoi(arg) : 0;
	if (!strcmp(mode, "report"))
		return report(argc, argv, envp);
	if (!strcmp(mode, "ids"))
		return ids();
	if (!strcmp(mode, "spawnfd") && arg)
		return spawnfd(atoi(arg));
	if (!strcmp(mode, "blocked"))
		return blocked();
	if (!strcmp(mode, "attr"))
		return attr();
	if (!strcmp(mode, "pause")) {
		for (;;)
			pause();
	}
	/* Long-lived modes die with the spawning check if it fails early. */
	if (!strcmp(mode, "sleep") || !strcmp(mode, "echo")) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() == 1)
			return 5;
	}
	if (!strcmp(mode, "sleep")) {
		sleep(arg ? atoi(arg) : 10);
		return 0;
	}
	if (!strcmp(mode, "echo"))
		return echo();
	fprintf(stderr, "helper_probe: unknown mode %s\n", mode);
	return 2;
}
