// SPDX-License-Identifier: GPL-2.0
/*
 * The pidfd that spawn_template_spawn() stores: close-on-exec, refers to
 * the returned pid, and works with waitid(P_PIDFD), pidfd_send_signal()
 * and poll(); the child is the caller's, with SIGCHLD as exit signal.
 */
#include <poll.h>

#include "common.h"

static char *argv_pause[] = { "probe", "pause", NULL };
static char *argv_exit42[] = { "probe", "exit", "42", NULL };

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

TEST(pidfd_cloexec)
{
	/* spec: spawn_template_spawn: the stored pidfd is close-on-exec */
	__u64 flags[] = { 0, SPAWN_TEMPLATE_SPAWN_INHERIT_FDS };
	int t, pidfd, i;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	for (i = 0; i < 2; i++) {
		pidfd = -1;
		pid = st_spawn(t, flags[i], argv_exit42, NULL, NULL, 0, &pidfd);
		ASSERT_LT(0, pid) TH_LOG("errno %d", errno);
		ASSERT_LE(0, pidfd);
		ASSERT_EQ(FD_CLOEXEC, fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
		ASSERT_EQ(ST_EXITED(42), st_wait(pid));
		close(pidfd);
	}
}

TEST(pidfd_is_pidfd)
{
	/* spec: spawn_template_spawn: stores a pidfd (anon inode [pidfd]) for the child */
	char link[64], target[64];
	int t, pidfd = -1;
	ssize_t n;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	pid = st_spawn(t, 0, argv_exit42, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	ASSERT_LE(0, pidfd);
	ASSERT_NE(t, pidfd);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", pidfd);
	n = readlink(link, target, sizeof(target) - 1);
	ASSERT_LT(0, n);
	target[n] = '\0';
	ASSERT_STREQ("anon_inode:[pidfd]", target);
	ASSERT_EQ(ST_EXITED(42), st_wait(pid));
	close(pidfd);
}

TEST(pidfd_fdinfo_pid)
{
	/* spec: spawn_template_spawn: the pidfd refers to the returned pid (fdinfo Pid:) */
	static struct st_out o;
	char *argv[] = { "probe", NULL };
	int t, pidfd = -1;
	char line[32];
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	pid = st_spawn(t, 0, argv_pause, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	ASSERT_LE(0, pidfd) kill(pid, SIGKILL);
	ASSERT_EQ(pid, st_pidfd_pid(pidfd)) kill(pid, SIGKILL);
	kill(pid, SIGKILL);
	st_wait(pid);
	close(pidfd);
	/* The pid returned is the pid the child has, and its parent is us. */
	ASSERT_LT(0, st_run(t, 0, argv, NULL, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	snprintf(line, sizeof(line), "pid=%d", o.pid);
	ASSERT_TRUE(st_has_line(o.buf, line)) TH_LOG("%s", o.buf);
	snprintf(line, sizeof(line), "ppid=%d", getpid());
	ASSERT_TRUE(st_has_line(o.buf, line)) TH_LOG("%s", o.buf);
}

TEST(pidfd_waitid)
{
	/* spec: spawn_template_spawn: the pidfd works with waitid(P_PIDFD) */
	int t, pidfd = -1;
	siginfo_t si;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	pid = st_spawn(t, 0, argv_exit42, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	ASSERT_LE(0, pidfd);
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WEXITED));
	ASSERT_EQ(pid, si.si_pid);
	ASSERT_EQ(SIGCHLD, si.si_signo);
	ASSERT_EQ(CLD_EXITED, si.si_code);
	ASSERT_EQ(42, si.si_status);
	ASSERT_EQ(getuid(), si.si_uid);
	/* Reaped: nothing left to wait for. */
	ASSERT_EQ(-1, waitpid(pid, NULL, WNOHANG));
	ASSERT_EQ(ECHILD, errno);
	close(pidfd);
}

TEST(pidfd_send_signal)
{
	/* spec: spawn_template_spawn: the pidfd works with pidfd_send_signal */
	int t, pidfd = -1;
	siginfo_t si;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	pid = st_spawn(t, 0, argv_pause, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	ASSERT_LE(0, pidfd) kill(pid, SIGKILL);
	/* Signal 0: the process is there. */
	ASSERT_EQ(0, sys_pidfd_send_signal(pidfd, 0)) kill(pid, SIGKILL);
	ASSERT_EQ(0, sys_pidfd_send_signal(pidfd, SIGUSR1)) kill(pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WEXITED));
	ASSERT_EQ(pid, si.si_pid);
	ASSERT_EQ(CLD_KILLED, si.si_code);
	ASSERT_EQ(SIGUSR1, si.si_status);
	/* After the child is gone: ESRCH. */
	ASSERT_EQ(-1, sys_pidfd_send_signal(pidfd, SIGKILL));
	ASSERT_EQ(ESRCH, errno);
	close(pidfd);
}

TEST(pidfd_poll)
{
	/* spec: spawn_template_spawn: the pidfd polls readable when the child exits */
	struct pollfd pfd;
	int t, pidfd = -1;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	pid = st_spawn(t, 0, argv_pause, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	ASSERT_LE(0, pidfd) kill(pid, SIGKILL);
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	/* Alive: not readable. */
	ASSERT_EQ(0, poll(&pfd, 1, 100)) kill(pid, SIGKILL);
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	ASSERT_EQ(POLLIN, pfd.revents & POLLIN);
	ASSERT_EQ(SIGTERM, WTERMSIG(st_wait(pid)));
	close(pidfd);
}

static volatile sig_atomic_t chld_pid, chld_code, chld_n;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	chld_pid = si->si_pid;
	chld_code = si->si_code;
	chld_n++;
}

TEST(sigchld_exit_signal)
{
	/* spec: spawn: the child has SIGCHLD as exit signal (plain waitpid sees it), also when it dies before its exec */
	struct spawn_template_action fail[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 50, 0, NULL),
	};
	struct sigaction sa;
	int t, pidfd = -1, st;
	sigset_t set, old, pending;
	siginfo_t si;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGCHLD, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, &old));
	pid = st_spawn(t, 0, argv_exit42, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid);
	/* Wait for the SIGCHLD itself before reaping. */
	while (!chld_n)
		sigsuspend(&old);
	ASSERT_EQ(1, chld_n);
	ASSERT_EQ(pid, chld_pid);
	ASSERT_EQ(CLD_EXITED, chld_code);
	/* waitpid() without __WALL only sees SIGCHLD children. */
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_EQ(ST_EXITED(42), st);
	close(pidfd);

	/*
	 * A successful exec sets the exit signal to SIGCHLD on its own
	 * (de_thread()): only a child that exits before its exec shows the
	 * one it was created with. Its CLOSE of a closed fd fails: exit 1.
	 */
	ASSERT_EQ(-1, fcntl(50, F_GETFD));
	pid = st_spawn(t, 0, argv_exit42, NULL, fail, 1, &pidfd);
	ASSERT_LT(0, pid);
	/* __WALL: wait for it whatever its exit signal, without reaping. */
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WEXITED | WNOWAIT | __WALL));
	ASSERT_EQ(pid, si.si_pid);
	ASSERT_EQ(CLD_EXITED, si.si_code);
	ASSERT_EQ(1, si.si_status);
	ASSERT_EQ(0, sigpending(&pending));
	ASSERT_TRUE(sigismember(&pending, SIGCHLD))
		TH_LOG("no SIGCHLD for a child that failed before its exec");
	sigsuspend(&old);
	ASSERT_EQ(2, chld_n);
	ASSERT_EQ(pid, chld_pid);
	ASSERT_EQ(CLD_EXITED, chld_code);
	ASSERT_EQ(pid, waitpid(pid, &st, 0))
		TH_LOG("a child that failed before its exec is not a SIGCHLD child");
	ASSERT_EQ(ST_EXITED(1), st);
	close(pidfd);
}

TEST(two_spawns)
{
	/* spec: spawn_template_spawn: each call makes its own child and pidfd; the template stays usable */
	int t, p1 = -1, p2 = -1;
	pid_t a, b;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	a = st_spawn(t, 0, argv_exit42, NULL, NULL, 0, &p1);
	ASSERT_LT(0, a);
	b = st_spawn(t, 0, argv_exit42, NULL, NULL, 0, &p2);
	ASSERT_LT(0, b);
	ASSERT_NE(a, b);
	ASSERT_NE(p1, p2);
	ASSERT_EQ(a, st_pidfd_pid(p1));
	ASSERT_EQ(b, st_pidfd_pid(p2));
	ASSERT_EQ(ST_EXITED(42), st_wait(a));
	ASSERT_EQ(ST_EXITED(42), st_wait(b));
	close(p1);
	close(p2);
}

TEST_HARNESS_MAIN
