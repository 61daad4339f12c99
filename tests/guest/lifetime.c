// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes around a spawn: closing the template under a running child,
 * process limits (RLIMIT_NPROC, pids cgroup), vfork semantics (the caller
 * waits until the child has executed, the child cannot touch the caller's
 * memory, signals right after return, a caller killed mid-spawn), and the
 * child's fd table when stdout/stderr come from a high fd.
 */
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common.h"

#define PROBE		ST_SCRATCH "/probe"

static char *const exit0[] = { "probe", "exit", "0", NULL };
static char *const report_argv[] = { "probe", "report", NULL };
static char *const noenv[] = { NULL };

static char report[1 << 16];

static int pidfd_send_sig(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Wait for pid for up to secs seconds: raw wait status, -2 on timeout. */
static int wait_timeout(pid_t pid, double secs)
{
	double end = st_now() + secs;

	for (;;) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG))
			return errno == EINTR ? -2 : -1;
		if (si.si_pid == pid)
			return st_status_of(&si);
		if (st_now() > end)
			return -2;
		usleep(10000);
	}
}

/* First child pid of process @pid (its main thread), 0 if none. */
static pid_t first_child_of(pid_t pid)
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

/* ------------------------------------------------------------------ */

TEST(close_template_while_child_runs)
{
	/* spec: spawn_template_spawn(): the child is an ordinary process with its own pidfd: closing the last template reference leaves a running child unaffected */
	struct spawn_template_action act[2];
	char *const argv[] = { "probe", "echo", NULL };
	int in[2], out[2], tfd, pidfd = -1;
	char buf[64];
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
	act[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, in[0], 0, NULL);
	act[1] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, out[1], 1, NULL);
	pid = st_spawn(tfd, 0, argv, noenv, act, 2, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	close(in[0]);
	close(out[1]);

	/* The child is blocked reading stdin; drop the template under it. */
	ASSERT_EQ(0, close(tfd));
	usleep(100000);
	ASSERT_EQ(-2, wait_timeout(pid, 0));	/* still running */
	ASSERT_EQ(6, write(in[1], "hello\n", 6));
	ASSERT_EQ(6, st_read_all(out[0], buf, sizeof(buf)));
	ASSERT_STREQ("hello\n", buf);
	ASSERT_EQ(ST_EXITED(42), st_wait_pidfd(pidfd));
	/* Template closed and child gone: the file is writable again. */
	ASSERT_EQ(0, st_write_errno(PROBE));
	close(in[1]);
	close(out[0]);
}

/* ------------------------------------------------------------------ */
/* Process limits                                                      */

TEST(rlimit_nproc_eagain)
{
	/* spec: spawn_template_spawn(): the child is created like vfork(): at RLIMIT_NPROC (unprivileged caller) EAGAIN, no child created */
	struct rlimit rl;
	int tfd, fd0, pidfd = -1234;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	ASSERT_EQ(0, st_drop_to_nobody());
	/* Created by the unprivileged credentials that will spawn. */
	tfd = spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create as 65534: %m");
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));

	ASSERT_EQ(0, getrlimit(RLIMIT_NPROC, &rl));
	rl.rlim_cur = 1;	/* this process alone reaches it */
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));
	/* Control: fork() hits the limit too. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(-1, pid) TH_LOG("fork not limited: other test setup problem");
	ASSERT_EQ(EAGAIN, errno);

	fd0 = st_fd_count(0);
	ASSERT_EQ(-1, st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	ASSERT_EQ(fd0, st_fd_count(0));

	/* The limit was the only obstacle. */
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));
	close(tfd);
}

#define CG_MNT	ST_SCRATCH "/cg"

FIXTURE(pids) {
	char orig[PATH_MAX];
	char name[64];
	char cg[PATH_MAX];
	bool enabled_pids;
	bool made;
	int tfd;
};

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = st_read_all(fd, buf, size);
	close(fd);
	return n < 0 ? -1 : 0;
}

static void move_self(const char *cgdir)
{
	char p[PATH_MAX + 32], s[32];

	snprintf(p, sizeof(p), "%s/cgroup.procs", cgdir);
	snprintf(s, sizeof(s), "%d", getpid());
	st_write_str(p, s);
}

FIXTURE_SETUP(pids)
{
	char buf[4096], p[PATH_MAX + 32];
	char *nl;

	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	self->tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);

	ASSERT_EQ(0, mkdir(CG_MNT, 0755));
	if (mount("cgroup2", CG_MNT, "cgroup2", 0, NULL))
		SKIP(return, "cgroup2 not mountable: %s", strerror(errno));
	ASSERT_EQ(0, read_file(CG_MNT "/cgroup.controllers", buf, sizeof(buf)));
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (!strstr(buf, "pids"))
		SKIP(return, "no pids controller on cgroup2 (controllers: %.200s)", buf);
	ASSERT_EQ(0, read_file("/proc/self/cgroup", buf, sizeof(buf)));
	ASSERT_EQ(0, strncmp(buf, "0::", 3)) TH_LOG("not cgroup2-only: %s", buf);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	ASSERT_LT(strlen(buf + 3), sizeof(self->orig) - sizeof(CG_MNT));
	memcpy(self->orig, CG_MNT, sizeof(CG_MNT) - 1);
	strcpy(self->orig + sizeof(CG_MNT) - 1, buf + 3);
	ASSERT_EQ(0, read_file(CG_MNT "/cgroup.subtree_control", buf, sizeof(buf)));
	if (!strstr(buf, "pids")) {
		ASSERT_EQ(0, st_write_str(CG_MNT "/cgroup.subtree_control", "+pids"));
		self->enabled_pids = true;
	}
	snprintf(self->name, sizeof(self->name), "life_pids_%d", getpid());
	snprintf(self->cg, sizeof(self->cg), "%s/%s", CG_MNT, self->name);
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	self->made = true;
	snprintf(p, sizeof(p), "%s/pids.max", self->cg);
	ASSERT_EQ(0, st_write_str(p, "1"));
	move_self(self->cg);
	snprintf(p, sizeof(p), "%s/pids.current", self->cg);
	ASSERT_EQ(0, read_file(p, buf, sizeof(buf)));
	ASSERT_STREQ("1\n", buf);
}

/*
 * Runs in the parent of the test process, once that process (the only
 * member of the cgroup) is gone; it reaches the hierarchy through a cgroup2
 * mount in a private namespace of its own (this process exits right after).
 */
FIXTURE_TEARDOWN_PARENT(pids)
{
	char p[PATH_MAX];
	int i;

	if (!self->made && !self->enabled_pids)
		return;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("st", ST_SCRATCH, "tmpfs", 0, "mode=0755") ||
	    mkdir(CG_MNT, 0755) ||
	    mount("cgroup2", CG_MNT, "cgroup2", 0, NULL)) {
		TH_LOG("cleanup: cannot reach cgroup2: %m");
		return;
	}
	snprintf(p, sizeof(p), "%s/%s", CG_MNT, self->name);
	for (i = 0; self->made && i < 200; i++) {
		if (!rmdir(p) || errno == ENOENT)
			break;
		usleep(10000);
	}
	if (i == 200)
		TH_LOG("cleanup: rmdir %s: %m", p);
	if (self->enabled_pids)
		st_write_str(CG_MNT "/cgroup.subtree_control", "-pids");
}

TEST_F(pids, at_limit_eagain)
{
	/* spec: spawn_template_spawn(): the child is created like vfork(): a pids cgroup at pids.max gives EAGAIN, no child created */
	char p[PATH_MAX + 32], buf[64];
	int fd0, pidfd = -1234;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* Control: fork() is refused by the same limit. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(-1, pid);
	ASSERT_EQ(EAGAIN, errno);

	fd0 = st_fd_count(0);
	ASSERT_EQ(-1, st_spawn(self->tfd, 0, exit0, noenv, NULL, 0, &pidfd));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	ASSERT_EQ(fd0, st_fd_count(0));
	snprintf(p, sizeof(p), "%s/pids.current", self->cg);
	ASSERT_EQ(0, read_file(p, buf, sizeof(buf)));
	ASSERT_STREQ("1\n", buf);

	snprintf(p, sizeof(p), "%s/pids.max", self->cg);
	ASSERT_EQ(0, st_write_str(p, "max"));
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, exit0));
}

/* ------------------------------------------------------------------ */
/* vfork semantics                                                     */

/*
 * A spawner process S spawns the probe with an OPEN action on a FIFO that
 * has no writer, so the child C blocks inside its actions, before exec.
 * S writes 'R' on `marker` once spawn returned, then the child's raw wait
 * status (an int).
 */
static pid_t start_blocked_spawner(struct __test_metadata *_metadata,
				   int marker_w, int marker_r)
{
	static struct spawn_template_open op;
	struct spawn_template_action act;
	pid_t s;

	op = st_open_arg(ST_SCRATCH "/fifo", O_RDONLY, 0, 0);
	ASSERT_EQ(0, mkfifo(ST_SCRATCH "/fifo", 0600));
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		int tfd, pidfd = -1, st;
		pid_t pid;

		close(marker_r);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		tfd = spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
		if (tfd < 0)
			_exit(10);
		act = st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 5, &op);
		pid = st_spawn(tfd, 0, exit0, noenv, &act, 1, &pidfd);
		if (pid <= 0)
			_exit(11);
		if (write(marker_w, "R", 1) != 1)
			_exit(12);
		/* The child's raw wait status, whole. */
		st = st_wait_pidfd(pidfd);
		if (write(marker_w, &st, sizeof(st)) != sizeof(st))
			_exit(13);
		_exit(0);
	}
	close(marker_w);
	return s;
}

/* Wait until S has a child (it is inside spawn); 0 on timeout. */
static pid_t child_of(pid_t s, double secs)
{
	double end = st_now() + secs;
	pid_t c;

	while (!(c = first_child_of(s)) && st_now() < end)
		usleep(10000);
	return c;
}

static int readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

/*
 * S and C outlive a failed ASSERT unless torn down: C sits in its FIFO open
 * until a writer appears. The teardown kills S and opens the FIFO for
 * writing, so C executes "exit 0".
 */
FIXTURE(blocked) {
	pid_t s, c;
	int m;
};

FIXTURE_SETUP(blocked)
{
	int m[2];

	self->s = self->c = 0;
	self->m = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	st_scratch_probe(_metadata, PROBE);
	ASSERT_EQ(0, pipe2(m, O_CLOEXEC));
	self->m = m[0];
	self->s = start_blocked_spawner(_metadata, m[1], m[0]);
}

/*
 * Runs in the parent of the test process (built at -O2, the 6.12 harness
 * skips a plain FIXTURE_TEARDOWN after a failed ASSERT: the longjmp
 * clobbers its wrapper's "child"), so it reaches the FIFO through C's own
 * root. S dies with the test process (PR_SET_PDEATHSIG).
 */
FIXTURE_TEARDOWN_PARENT(blocked)
{
	char p[96];
	int w;

	if (self->s > 0 && self->c <= 0)
		self->c = first_child_of(self->s);
	if (self->s > 0)
		kill(self->s, SIGKILL);
	if (self->c > 0) {
		snprintf(p, sizeof(p), "/proc/%d/root%s/fifo", self->c, ST_SCRATCH);
		w = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (w >= 0)
			close(w);
	}
}

TEST_F(blocked, vfork_caller_waits_for_exec)
{
	/* spec: spawn_template_spawn(): created like vfork(), the parent waits: no return while the child is still in its actions (blocked FIFO open) */
	char ch;
	int w, st;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->c = child_of(self->s, 10);
	ASSERT_LT(0, self->c) TH_LOG("spawner never got a child");
	/* The child sits in its OPEN action: the caller must not have returned. */
	ASSERT_EQ(0, readable_within(self->m, 700));
	w = open(ST_SCRATCH "/fifo", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, w);
	/* Now the child's open completes, it executes, and the caller returns. */
	ASSERT_EQ(1, readable_within(self->m, 20000));
	ASSERT_EQ(1, read(self->m, &ch, 1));
	ASSERT_EQ('R', ch);
	close(w);
	ASSERT_EQ(1, readable_within(self->m, 20000));
	ASSERT_EQ(sizeof(st), read(self->m, &st, sizeof(st)));
	ASSERT_EQ(ST_EXITED(0), st);	/* the child's status */
	ASSERT_EQ(ST_EXITED(0), wait_timeout(self->s, 20));
	self->s = 0;
	self->c = 0;
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
}

TEST_F(blocked, vfork_caller_killed_no_stuck_child)
{
	/* spec: spawn_template_spawn(): created like vfork(): a caller killed while its child is in the pre-exec phase dies, and the child does not stay stuck */
	int w, st;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->c = child_of(self->s, 10);
	ASSERT_LT(0, self->c);
	ASSERT_EQ(0, readable_within(self->m, 300));

	ASSERT_EQ(0, kill(self->s, SIGKILL));
	st = wait_timeout(self->s, 10);
	ASSERT_EQ(ST_KILLED(SIGKILL), st) TH_LOG("caller not killable while spawning");
	self->s = 0;

	/* The orphan (reparented to us) either proceeds once unblocked or is gone. */
	w = open(ST_SCRATCH "/fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	st = wait_timeout(self->c, 20);
	TH_LOG("orphan child %d: status %#x (FIFO writer open: %s)", self->c, st,
	       w >= 0 ? "yes" : strerror(errno));
	if (w >= 0)
		close(w);
	ASSERT_NE(-2, st) TH_LOG("child %d stuck after its caller was killed", self->c);
	/* exit 0: it executed; 1: its action failed; SIGKILL: killed with it. */
	ASSERT_TRUE(st == ST_EXITED(0) || st == ST_EXITED(1) ||
		    st == ST_KILLED(SIGKILL))
		TH_LOG("unexpected status %#x", st);
	self->c = 0;
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
}

TEST_F(blocked, vfork_orphan_killable_in_actions)
{
	/* spec: spawn_template_spawn(): created like vfork(): after the caller is killed, the child still blocked in its actions is killable (SIGKILL) */
	int st;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->c = child_of(self->s, 10);
	ASSERT_LT(0, self->c);
	ASSERT_EQ(0, kill(self->s, SIGKILL));
	ASSERT_EQ(ST_KILLED(SIGKILL), wait_timeout(self->s, 10));
	self->s = 0;
	usleep(100000);
	/* The orphan may already be gone (ESRCH); if not, SIGKILL must end it. */
	if (kill(self->c, SIGKILL)) {
		ASSERT_EQ(ESRCH, errno);
	}
	st = wait_timeout(self->c, 10);
	ASSERT_NE(-2, st) TH_LOG("child %d not killable in its actions", self->c);
	ASSERT_TRUE(st == ST_EXITED(1) || st == ST_KILLED(SIGKILL))
		TH_LOG("status %#x", st);
	self->c = 0;
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
}

TEST(vfork_argv_unmapped_after_return)
{
	/* spec: spawn_template_spawn(): created like vfork(): when spawn returns, argv/envp/actions in the caller's memory have been consumed; unmapping them at once does not affect the child */
	struct spawn_template_action *act;
	char **argv, **envp, *str;
	int p[2], tfd, pidfd = -1, i;
	char *page;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	for (i = 0; i < 20; i++) {
		page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, page);
		argv = (char **)page;
		envp = argv + 8;
		act = (struct spawn_template_action *)(page + 256);
		str = page + 1024;
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		argv[0] = strcpy(str, "probe");
		argv[1] = strcpy(str + 16, "report");
		argv[2] = strcpy(str + 32, "argument-in-unmapped-page");
		argv[3] = NULL;
		envp[0] = strcpy(str + 128, "ST_TAG=unmapped-env");
		envp[1] = NULL;
		act[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, p[1], 1, NULL);
		pid = st_spawn(tfd, 0, argv, envp, act, 1, &pidfd);
		ASSERT_EQ(0, munmap(page, 8192));
		ASSERT_LT(0, pid) TH_LOG("spawn: %m");
		close(p[1]);
		st_read_all(p[0], report, sizeof(report));
		close(p[0]);
		ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));
		ASSERT_STREQ("argument-in-unmapped-page",
			     st_kv(report, "argv.2") ?: "(none)");
		ASSERT_STREQ("unmapped-env", st_kv(report, "tag") ?: "(none)");
	}
	close(tfd);
}

struct callmem {
	unsigned char head[512];
	struct spawn_template_spawn_args args;
	char *argv[4];
	char *envp[2];
	char strs[256];
	struct spawn_template_action act[4];
	struct spawn_template_open op;
	struct spawn_template_sigset ss;
	__u64 sigset;
	unsigned char tail[512];
};

TEST(vfork_caller_memory_untouched)
{
	/* spec: spawn_template_spawn(): stores only the pidfd at args.pidfd; the child (sharing the mm until exec) writes nothing else of the caller's memory */
	static struct callmem snap;
	struct callmem *cm;
	int p[2], tfd, pidfd = -1;
	pid_t pid;
	size_t i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	cm = mmap(NULL, sizeof(*cm), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cm);
	for (i = 0; i < sizeof(*cm); i++)
		((unsigned char *)cm)[i] = (unsigned char)(i * 131 + 7);

	memset(cm->strs, 0, sizeof(cm->strs));
	cm->argv[0] = strcpy(cm->strs, "probe");
	cm->argv[1] = strcpy(cm->strs + 16, "report");
	cm->argv[2] = NULL;
	cm->argv[3] = NULL;
	cm->envp[0] = strcpy(cm->strs + 32, "ST_TAG=mem");
	cm->envp[1] = NULL;
	strcpy(cm->strs + 64, "/dev/null");
	cm->op = st_open_arg(cm->strs + 64, O_RDONLY, 0, 0);
	cm->sigset = 1ULL << (SIGUSR1 - 1);
	cm->ss.sigset = ST_PTR(&cm->sigset);
	cm->ss.sigsetsize = 8;
	cm->act[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, p[1], 1, NULL);
	cm->act[1] = st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 5, &cm->op);
	cm->act[2] = st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &cm->ss);
	cm->act[3] = st_act(SPAWN_TEMPLATE_ACTION_SIGDEFAULT, 0, 0, 0, &cm->ss);
	memset(&cm->args, 0, sizeof(cm->args));
	cm->args.pidfd = ST_PTR(&pidfd);	/* outside the watched region */
	cm->args.argv = ST_PTR(cm->argv);
	cm->args.envp = ST_PTR(cm->envp);
	cm->args.actions = ST_PTR(cm->act);
	cm->args.actions_len = 4;
	memcpy(&snap, cm, sizeof(snap));

	pid = sys_spawn_template_spawn(tfd, &cm->args, sizeof(cm->args));
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, memcmp(&snap, cm, sizeof(snap)));
	close(p[1]);
	st_read_all(p[0], report, sizeof(report));
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));
	ASSERT_STREQ("mem", st_kv(report, "tag") ?: "(none)");
	ASSERT_EQ(0, memcmp(&snap, cm, sizeof(snap)));
	munmap(cm, sizeof(*cm));
	close(p[0]);
	close(tfd);
}

TEST(signal_child_right_after_return)
{
	/* spec: spawn_template_spawn(): created like vfork(): SIGSTOP/SIGKILL to the child right after return never leaves the caller stuck */
	static char *const argv[] = { "probe", "sleep", "30", NULL };
	int tfd, i;
	double t0 = st_now();

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	for (i = 0; i < 30; i++) {
		int pidfd = -1;
		siginfo_t si;
		pid_t pid = st_spawn(tfd, 0, argv, noenv, NULL, 0, &pidfd);

		ASSERT_LT(0, pid);
		ASSERT_EQ(0, kill(pid, SIGSTOP));
		memset(&si, 0, sizeof(si));
		ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WSTOPPED));
		ASSERT_EQ(CLD_STOPPED, si.si_code);
		/* The caller is not stuck behind a stopped child: spawn again. */
		ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(ST_KILLED(SIGKILL), st_wait_pidfd(pidfd));
	}
	for (i = 0; i < 30; i++) {
		int pidfd = -1;
		pid_t pid = st_spawn(tfd, 0, argv, noenv, NULL, 0, &pidfd);

		ASSERT_LT(0, pid);
		ASSERT_EQ(0, pidfd_send_sig(pidfd, SIGKILL));
		ASSERT_EQ(ST_KILLED(SIGKILL), st_wait_pidfd(pidfd));
	}
	TH_LOG("60 signalled spawns in %.1f s", st_now() - t0);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* The child's fd table                                                */

/*
 * The child's fds from its report: each open fd has an fd.N.flags line.
 * Fds 0-2 go to @mask with their dev/ino, any other is listed in @others.
 */
static void fd_set_from_report(const char *rep, unsigned long long dev[3],
			       unsigned long long ino[3], char *others,
			       size_t olen, int *mask)
{
	const char *s = rep;
	char key[32];

	*mask = 0;
	others[0] = '\0';
	while (s && *s) {
		int fd, n = 0;

		if (sscanf(s, "fd.%d.flags=%n", &fd, &n) == 1 && n > 0) {
			if (fd >= 0 && fd <= 2) {
				*mask |= 1 << fd;
				snprintf(key, sizeof(key), "fd.%d.dev", fd);
				dev[fd] = st_kv_num(rep, key, 0);
				snprintf(key, sizeof(key), "fd.%d.ino", fd);
				ino[fd] = st_kv_num(rep, key, 0);
			} else {
				size_t l = strlen(others);

				snprintf(others + l, olen - l, "%d ", fd);
			}
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
}

TEST(fd_1023_as_stdout_stderr_nothing_else)
{
	/* spec: spawn_template_spawn(): actions in order, then (no INHERIT_FDS) every fd above 2 is closed: DUP2 1023->1, 1023->2 leaves exactly 0 (if open), 1, 2, with 1 and 2 the caller's 1023 */
	struct spawn_template_action act[2];
	unsigned long long dev[3] = {}, ino[3] = {};
	struct stat st1023, c1a, c2a, c1b, c2b;
	char others[512];
	int tfd, f, pidfd = -1, mask, in0;
	struct rlimit rl;
	pid_t pid;
	ssize_t n;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 1024) {
		rl.rlim_cur = 1024;
		if (rl.rlim_max < 1024)
			rl.rlim_max = 1024;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	f = open(ST_SCRATCH "/out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, f);
	ASSERT_EQ(1023, dup2(f, 1023));		/* not CLOEXEC */
	close(f);
	ASSERT_EQ(0, fstat(1023, &st1023));
	/* Inheritable (non-CLOEXEC) fds the child must not get. */
	ASSERT_EQ(1000, dup2(1023, 1000));
	ASSERT_EQ(1022, dup2(1023, 1022));
	ASSERT_LE(3, open("/dev/null", O_RDONLY));
	ASSERT_LE(3, open("/dev/null", O_RDONLY));
	in0 = fcntl(0, F_GETFD) >= 0;
	ASSERT_EQ(0, fstat(1, &c1a));
	ASSERT_EQ(0, fstat(2, &c2a));

	act[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1023, 1, NULL);
	act[1] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1023, 2, NULL);
	pid = st_spawn(tfd, 0, report_argv, noenv, act, 2, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));

	n = pread(1023, report, sizeof(report) - 1, 0);
	ASSERT_LT(0, n);
	report[n] = '\0';
	fd_set_from_report(report, dev, ino, others, sizeof(others), &mask);
	ASSERT_STREQ("", others) TH_LOG("child inherited extra fds");
	ASSERT_EQ(in0 ? 7 : 6, mask) TH_LOG("fds 0-2 in child: mask %d", mask);
	ASSERT_EQ((unsigned long long)st1023.st_dev, dev[1]);
	ASSERT_EQ((unsigned long long)st1023.st_ino, ino[1]);
	ASSERT_EQ((unsigned long long)st1023.st_dev, dev[2]);
	ASSERT_EQ((unsigned long long)st1023.st_ino, ino[2]);
	/* The caller's own table is unchanged. */
	ASSERT_EQ(0, fstat(1, &c1b));
	ASSERT_EQ(0, fstat(2, &c2b));
	ASSERT_EQ(c1a.st_ino, c1b.st_ino);
	ASSERT_EQ(c2a.st_ino, c2b.st_ino);
	ASSERT_LE(0, fcntl(1023, F_GETFD));
	close(tfd);
}

TEST_HARNESS_MAIN
