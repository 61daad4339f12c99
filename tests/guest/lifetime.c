// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes around a spawn: closing the template under a running child,
 * process limits (RLIMIT_NPROC, pids cgroup), vfork semantics (the caller
 * waits until the child has executed, the child cannot touch the caller's
 * memory, signals right after return, a caller killed mid-spawn), and the
 * child's fd table when stdout/stderr come from a high fd.
 */
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "life_util.h"

/* 6.12 harness: TEST_F wrappers trip -Wclobbered on "child" (harness code). */
#pragma GCC diagnostic ignored "-Wclobbered"

static char report[1 << 16];

static int pidfd_send_sig(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Wait for pid for up to secs seconds: status as life_status_of, -2 on timeout. */
static int wait_timeout(pid_t pid, double secs)
{
	double end = life_now() + secs;

	for (;;) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG))
			return errno == EINTR ? -2 : -1;
		if (si.si_pid == pid)
			return life_status_of(&si);
		if (life_now() > end)
			return -2;
		usleep(10000);
	}
}

static int setup_probe_template(struct __test_metadata *_metadata)
{
	int tfd;

	life_scratch(_metadata, 0);
	life_copy_probe(_metadata, LIFE_PROBE, 0755);
	tfd = spawn_template_create_path(LIFE_PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	return tfd;
}

/* ------------------------------------------------------------------ */

TEST(close_template_while_child_runs)
{
	/* spec: spawn_template_spawn(): the child is an ordinary process with its own pidfd: closing the last template reference leaves a running child unaffected */
	struct spawn_template_action act[2];
	char *const argv[] = { "lprobe", "echo", NULL };
	int in[2], out[2], tfd, pidfd = -1;
	char buf[64];
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = setup_probe_template(_metadata);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
	act[0] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, in[0], 0, NULL);
	act[1] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, out[1], 1, NULL);
	pid = life_spawn(tfd, argv, life_noenv, act, 2, 0, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	close(in[0]);
	close(out[1]);

	/* The child is blocked reading stdin; drop the template under it. */
	ASSERT_EQ(0, close(tfd));
	usleep(100000);
	ASSERT_EQ(-2, wait_timeout(pid, 0));	/* still running */
	ASSERT_EQ(6, write(in[1], "hello\n", 6));
	ASSERT_EQ(6, life_read_all(out[0], buf, sizeof(buf)));
	ASSERT_STREQ("hello\n", buf);
	ASSERT_EQ(42, life_wait_pidfd(pidfd));
	/* Template closed and child gone: the file is writable again. */
	ASSERT_EQ(0, life_write_errno(LIFE_PROBE));
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
	life_scratch(_metadata, 0);
	life_copy_probe(_metadata, LIFE_PROBE, 0755);
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	/* Created by the unprivileged credentials that will spawn. */
	tfd = spawn_template_create_path(LIFE_PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create as 65534: %m");
	ASSERT_EQ(0, life_run(tfd, life_exit0));

	ASSERT_EQ(0, getrlimit(RLIMIT_NPROC, &rl));
	rl.rlim_cur = 1;	/* this process alone reaches it */
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));
	/* Control: fork() hits the limit too. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(-1, pid) TH_LOG("fork not limited: other test setup problem");
	ASSERT_EQ(EAGAIN, errno);

	fd0 = life_fd_count();
	ASSERT_EQ(-1, life_spawn(tfd, life_exit0, life_noenv, NULL, 0, 0, &pidfd));
	ASSERT_EQ(EAGAIN, errno);
	LIFE_ASSERT_NO_CHILD();
	ASSERT_EQ(fd0, life_fd_count());

	/* The limit was the only obstacle. */
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));
	ASSERT_EQ(0, life_run(tfd, life_exit0));
	close(tfd);
}

#define CG_MNT	LIFE_DIR "/cg"

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
	n = life_read_all(fd, buf, size);
	close(fd);
	return n < 0 ? -1 : 0;
}

static void move_self(const char *cgdir)
{
	char p[PATH_MAX + 32], s[32];

	snprintf(p, sizeof(p), "%s/cgroup.procs", cgdir);
	snprintf(s, sizeof(s), "%d", getpid());
	life_write_str(p, s);
}

FIXTURE_SETUP(pids)
{
	char buf[4096], p[PATH_MAX + 32];
	char *nl;

	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	life_scratch(_metadata, 0);
	life_copy_probe(_metadata, LIFE_PROBE, 0755);
	self->tfd = spawn_template_create_path(LIFE_PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, self->tfd);

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
		ASSERT_EQ(0, life_write_str(CG_MNT "/cgroup.subtree_control", "+pids"));
		self->enabled_pids = true;
	}
	snprintf(self->name, sizeof(self->name), "life_pids_%d", getpid());
	snprintf(self->cg, sizeof(self->cg), "%s/%s", CG_MNT, self->name);
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	self->made = true;
	snprintf(p, sizeof(p), "%s/pids.max", self->cg);
	ASSERT_EQ(0, life_write_str(p, "1"));
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
	    mount("life", LIFE_DIR, "tmpfs", 0, "mode=0755") ||
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
		life_write_str(CG_MNT "/cgroup.subtree_control", "-pids");
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

	fd0 = life_fd_count();
	ASSERT_EQ(-1, life_spawn(self->tfd, life_exit0, life_noenv, NULL, 0, 0, &pidfd));
	ASSERT_EQ(EAGAIN, errno);
	LIFE_ASSERT_NO_CHILD();
	ASSERT_EQ(fd0, life_fd_count());
	snprintf(p, sizeof(p), "%s/pids.current", self->cg);
	ASSERT_EQ(0, read_file(p, buf, sizeof(buf)));
	ASSERT_STREQ("1\n", buf);

	snprintf(p, sizeof(p), "%s/pids.max", self->cg);
	ASSERT_EQ(0, life_write_str(p, "max"));
	ASSERT_EQ(0, life_run(self->tfd, life_exit0));
}

/* ------------------------------------------------------------------ */
/* vfork semantics                                                     */

/*
 * A spawner process S spawns the probe with an OPEN action on a FIFO that
 * has no writer, so the child C blocks inside its actions, before exec.
 * S reports on `marker` once spawn returned, then the child's status.
 */
static pid_t start_blocked_spawner(struct __test_metadata *_metadata,
				   int marker_w, int marker_r)
{
	static struct spawn_template_open op;
	struct spawn_template_action act;
	pid_t s;

	memset(&op, 0, sizeof(op));
	op.path = LIFE_PTR(LIFE_DIR "/fifo");
	op.how.flags = O_RDONLY;
	ASSERT_EQ(0, mkfifo(LIFE_DIR "/fifo", 0600));
	s = fork();
	ASSERT_LE(0, s);
	if (s == 0) {
		int tfd, pidfd = -1, st;
		pid_t pid;
		char c;

		close(marker_r);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		tfd = spawn_template_create_path(LIFE_PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
		if (tfd < 0)
			_exit(10);
		act = life_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 5, &op);
		pid = life_spawn(tfd, life_exit0, life_noenv, &act, 1, 0, &pidfd);
		if (pid <= 0)
			_exit(11);
		if (write(marker_w, "R", 1) != 1)
			_exit(12);
		st = life_wait_pidfd(pidfd);
		c = (char)st;
		if (write(marker_w, &c, 1) != 1)
			_exit(13);
		_exit(0);
	}
	close(marker_w);
	return s;
}

/* Wait until S has a child (it is inside spawn); 0 on timeout. */
static pid_t child_of(pid_t s, double secs)
{
	double end = life_now() + secs;
	pid_t c;

	while (!(c = life_first_child_of(s)) && life_now() < end)
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
	life_scratch(_metadata, 0);
	life_copy_probe(_metadata, LIFE_PROBE, 0755);
	ASSERT_EQ(0, pipe2(m, O_CLOEXEC));
	self->m = m[0];
	self->s = start_blocked_spawner(_metadata, m[1], m[0]);
}

/*
 * Runs in the parent of the test process (the 6.12 harness skips a plain
 * FIXTURE_TEARDOWN after a failed ASSERT), so it reaches the FIFO through
 * C's own root. S dies with the test process (PR_SET_PDEATHSIG).
 */
FIXTURE_TEARDOWN_PARENT(blocked)
{
	char p[96];
	int w;

	if (self->s > 0 && self->c <= 0)
		self->c = life_first_child_of(self->s);
	if (self->s > 0)
		kill(self->s, SIGKILL);
	if (self->c > 0) {
		snprintf(p, sizeof(p), "/proc/%d/root%s/fifo", self->c, LIFE_DIR);
		w = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (w >= 0)
			close(w);
	}
}

TEST_F(blocked, vfork_caller_waits_for_exec)
{
	/* spec: spawn_template_spawn(): created like vfork(), the parent waits: no return while the child is still in its actions (blocked FIFO open) */
	char ch;
	int w;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->c = child_of(self->s, 10);
	ASSERT_LT(0, self->c) TH_LOG("spawner never got a child");
	/* The child sits in its OPEN action: the caller must not have returned. */
	ASSERT_EQ(0, readable_within(self->m, 700));
	w = open(LIFE_DIR "/fifo", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, w);
	/* Now the child's open completes, it executes, and the caller returns. */
	ASSERT_EQ(1, readable_within(self->m, 20000));
	ASSERT_EQ(1, read(self->m, &ch, 1));
	ASSERT_EQ('R', ch);
	close(w);
	ASSERT_EQ(1, readable_within(self->m, 20000));
	ASSERT_EQ(1, read(self->m, &ch, 1));
	ASSERT_EQ(0, ch);	/* child status: exit 0 */
	ASSERT_EQ(0, wait_timeout(self->s, 20));
	self->s = 0;
	self->c = 0;
	LIFE_ASSERT_NO_CHILD();
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
	ASSERT_EQ(LIFE_SIG(SIGKILL), st) TH_LOG("caller not killable while spawning");
	self->s = 0;

	/* The orphan (reparented to us) either proceeds once unblocked or is gone. */
	w = open(LIFE_DIR "/fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	st = wait_timeout(self->c, 20);
	TH_LOG("orphan child %d: status %d (FIFO writer open: %s)", self->c, st,
	       w >= 0 ? "yes" : strerror(errno));
	if (w >= 0)
		close(w);
	ASSERT_NE(-2, st) TH_LOG("child %d stuck after its caller was killed", self->c);
	/* exit 0: it executed; 1: its action failed; SIGKILL: killed with it. */
	ASSERT_TRUE(st == 0 || st == 1 || st == LIFE_SIG(SIGKILL))
		TH_LOG("unexpected status %d", st);
	self->c = 0;
	LIFE_ASSERT_NO_CHILD();
}

TEST_F(blocked, vfork_orphan_killable_in_actions)
{
	/* spec: spawn_template_spawn(): created like vfork(): after the caller is killed, the child still blocked in its actions is killable (SIGKILL) */
	int st;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->c = child_of(self->s, 10);
	ASSERT_LT(0, self->c);
	ASSERT_EQ(0, kill(self->s, SIGKILL));
	ASSERT_EQ(LIFE_SIG(SIGKILL), wait_timeout(self->s, 10));
	self->s = 0;
	usleep(100000);
	/* The orphan may already be gone (ESRCH); if not, SIGKILL must end it. */
	if (kill(self->c, SIGKILL))
		ASSERT_EQ(ESRCH, errno);
	st = wait_timeout(self->c, 10);
	ASSERT_NE(-2, st) TH_LOG("child %d not killable in its actions", self->c);
	ASSERT_TRUE(st == 1 || st == LIFE_SIG(SIGKILL)) TH_LOG("status %d", st);
	self->c = 0;
	LIFE_ASSERT_NO_CHILD();
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
	tfd = setup_probe_template(_metadata);
	ASSERT_LE(0, tfd);
	for (i = 0; i < 20; i++) {
		page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, page);
		argv = (char **)page;
		envp = argv + 8;
		act = (struct spawn_template_action *)(page + 256);
		str = page + 1024;
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		argv[0] = strcpy(str, "lprobe");
		argv[1] = strcpy(str + 16, "report");
		argv[2] = strcpy(str + 32, "argument-in-unmapped-page");
		argv[3] = NULL;
		envp[0] = strcpy(str + 128, "LIFE_TAG=unmapped-env");
		envp[1] = NULL;
		act[0] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, p[1], 1, NULL);
		pid = life_spawn(tfd, argv, envp, act, 1, 0, &pidfd);
		ASSERT_EQ(0, munmap(page, 8192));
		ASSERT_LT(0, pid) TH_LOG("spawn: %m");
		close(p[1]);
		life_read_all(p[0], report, sizeof(report));
		close(p[0]);
		ASSERT_EQ(0, life_wait_pidfd(pidfd));
		ASSERT_STREQ("argument-in-unmapped-page",
			     life_kv(report, "argv2") ?: "(none)");
		ASSERT_STREQ("unmapped-env", life_kv(report, "env_LIFE_TAG") ?: "(none)");
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
	tfd = setup_probe_template(_metadata);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	cm = mmap(NULL, sizeof(*cm), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cm);
	for (i = 0; i < sizeof(*cm); i++)
		((unsigned char *)cm)[i] = (unsigned char)(i * 131 + 7);

	memset(cm->strs, 0, sizeof(cm->strs));
	cm->argv[0] = strcpy(cm->strs, "lprobe");
	cm->argv[1] = strcpy(cm->strs + 16, "report");
	cm->argv[2] = NULL;
	cm->argv[3] = NULL;
	cm->envp[0] = strcpy(cm->strs + 32, "LIFE_TAG=mem");
	cm->envp[1] = NULL;
	strcpy(cm->strs + 64, "/dev/null");
	memset(&cm->op, 0, sizeof(cm->op));
	cm->op.path = LIFE_PTR(cm->strs + 64);
	cm->op.how.flags = O_RDONLY;
	cm->sigset = 1ULL << (SIGUSR1 - 1);
	cm->ss.sigset = LIFE_PTR(&cm->sigset);
	cm->ss.sigsetsize = 8;
	cm->act[0] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, p[1], 1, NULL);
	cm->act[1] = life_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 5, &cm->op);
	cm->act[2] = life_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &cm->ss);
	cm->act[3] = life_act(SPAWN_TEMPLATE_ACTION_SIGDEFAULT, 0, 0, 0, &cm->ss);
	memset(&cm->args, 0, sizeof(cm->args));
	cm->args.pidfd = LIFE_PTR(&pidfd);	/* outside the watched region */
	cm->args.argv = LIFE_PTR(cm->argv);
	cm->args.envp = LIFE_PTR(cm->envp);
	cm->args.actions = LIFE_PTR(cm->act);
	cm->args.actions_len = 4;
	memcpy(&snap, cm, sizeof(snap));

	pid = sys_spawn_template_spawn(tfd, &cm->args, sizeof(cm->args));
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, memcmp(&snap, cm, sizeof(snap)));
	close(p[1]);
	life_read_all(p[0], report, sizeof(report));
	ASSERT_EQ(0, life_wait_pidfd(pidfd));
	ASSERT_STREQ("mem", life_kv(report, "env_LIFE_TAG") ?: "(none)");
	ASSERT_EQ(0, memcmp(&snap, cm, sizeof(snap)));
	munmap(cm, sizeof(*cm));
	close(p[0]);
	close(tfd);
}

TEST(signal_child_right_after_return)
{
	/* spec: spawn_template_spawn(): created like vfork(): SIGSTOP/SIGKILL to the child right after return never leaves the caller stuck */
	static char *const argv[] = { "lprobe", "sleep", "30", NULL };
	int tfd, i;
	double t0 = life_now();

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = setup_probe_template(_metadata);
	ASSERT_LE(0, tfd);
	for (i = 0; i < 30; i++) {
		int pidfd = -1;
		siginfo_t si;
		pid_t pid = life_spawn(tfd, argv, life_noenv, NULL, 0, 0, &pidfd);

		ASSERT_LT(0, pid);
		ASSERT_EQ(0, kill(pid, SIGSTOP));
		memset(&si, 0, sizeof(si));
		ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WSTOPPED));
		ASSERT_EQ(CLD_STOPPED, si.si_code);
		/* The caller is not stuck behind a stopped child: spawn again. */
		ASSERT_EQ(0, life_run(tfd, life_exit0));
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(LIFE_SIG(SIGKILL), life_wait_pidfd(pidfd));
	}
	for (i = 0; i < 30; i++) {
		int pidfd = -1;
		pid_t pid = life_spawn(tfd, argv, life_noenv, NULL, 0, 0, &pidfd);

		ASSERT_LT(0, pid);
		ASSERT_EQ(0, pidfd_send_sig(pidfd, SIGKILL));
		ASSERT_EQ(LIFE_SIG(SIGKILL), life_wait_pidfd(pidfd));
	}
	TH_LOG("60 signalled spawns in %.1f s", life_now() - t0);
	LIFE_ASSERT_NO_CHILD();
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* The child's fd table                                                */

static int fd_set_from_report(const char *rep, unsigned long long dev[3],
			      unsigned long long ino[3], char *others,
			      size_t olen, int *mask)
{
	const char *s = rep;

	*mask = 0;
	others[0] = '\0';
	while (s && *s) {
		int fd;
		unsigned long long d, i;

		if (sscanf(s, "fd=%d dev=%llu ino=%llu", &fd, &d, &i) == 3) {
			if (fd >= 0 && fd <= 2) {
				*mask |= 1 << fd;
				dev[fd] = d;
				ino[fd] = i;
			} else {
				size_t l = strlen(others);

				snprintf(others + l, olen - l, "%d ", fd);
			}
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return 0;
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
	tfd = setup_probe_template(_metadata);
	ASSERT_LE(0, tfd);
	f = open(LIFE_DIR "/out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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

	act[0] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1023, 1, NULL);
	act[1] = life_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1023, 2, NULL);
	pid = life_spawn(tfd, life_report_argv, life_noenv, act, 2, 0, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	ASSERT_EQ(0, life_wait_pidfd(pidfd));

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
