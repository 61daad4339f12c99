// SPDX-License-Identifier: GPL-2.0
/*
 * Failures after the child exists: the syscall returns the pid and stores
 * the pidfd; the failure shows only as the child's exit status, 127 for
 * ENOENT, 126 for EACCES/ENOEXEC, 1 for anything else, for each class the
 * contract names (a failing action, a missing OPEN path, argv/envp over the
 * limits or unreadable, a bad sigsetsize, a bad open_how). A successful
 * exec passes the program's own status through.
 */
#include <sys/resource.h>

#include "common.h"

static char *argv_ok[] = { "probe", "exit", "0", NULL };

FIXTURE(st) {
	char dir[PATH_MAX];
	char f[PATH_MAX + 8];	/* dir/f, a regular file */
	int dirfd, tfd;
};

FIXTURE_SETUP(st)
{
	char tmpl[] = "/tmp/abi_st.XXXXXX";

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->dirfd = self->tfd = -1;
	ASSERT_NE(NULL, mkdtemp(tmpl));
	ASSERT_NE(NULL, realpath(tmpl, self->dir));
	snprintf(self->f, sizeof(self->f), "%s/f", self->dir);
	st_write_file(_metadata, self->f, "f\n", 2, 0644);
	self->dirfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dirfd);
	self->tfd = st_probe_template(_metadata);
}

/*
 * In the parent, after a failed ASSERT too: the test may have dropped its
 * privileges. The fds were the test process's own: they went with it.
 */
FIXTURE_TEARDOWN_PARENT(st)
{
	if (self->dir[0])
		st_rmtree(self->dir);
}

/*
 * The call succeeds (pid > 0, a pidfd for that pid stored), and the child
 * exits with code, as seen through the pidfd.
 */
static void expect_exit(struct __test_metadata *_metadata, int tfd, __u64 flags,
			char *const *argv, char *const *envp,
			const struct spawn_template_action *acts, size_t n,
			int code)
{
	int pidfd = -1;
	siginfo_t si;
	pid_t pid;

	pid = st_spawn(tfd, flags, argv, envp, acts, n, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: errno %d", errno);
	ASSERT_LE(0, pidfd) { st_wait(pid); }
	ASSERT_EQ(pid, st_pidfd_pid(pidfd)) { st_wait(pid); }
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PIDFD, pidfd, &si, WEXITED)) TH_LOG("errno %d", errno);
	ASSERT_EQ(pid, si.si_pid);
	ASSERT_EQ(CLD_EXITED, si.si_code) TH_LOG("signal %d", si.si_status);
	ASSERT_EQ(code, si.si_status);
	close(pidfd);
}

#define EXPECT_EXIT(acts, n, code)					\
	expect_exit(_metadata, self->tfd, 0, argv_ok, NULL, (acts), (n), (code))
#define EXPECT_EXIT_V(argv, envp, code)					\
	expect_exit(_metadata, self->tfd, 0, (argv), (envp), NULL, 0, (code))

TEST_F(st, exit_passthrough)
{
	/* spec: spawn: the pinned file is executed; its own exit status is the child's */
	char *a42[] = { "probe", "exit", "42", NULL };
	char *a255[] = { "probe", "exit", "255", NULL };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	EXPECT_EXIT_V(argv_ok, NULL, 0);
	EXPECT_EXIT_V(a42, NULL, 42);
	EXPECT_EXIT_V(a255, NULL, 255);
}

TEST_F(st, close_ebadf)
{
	/* spec: after the child exists: CLOSE of a closed fd (EBADF): exit 1 */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 50, 0, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(-1, fcntl(50, F_GETFD));
	EXPECT_EXIT(a, 1, 1);
}

TEST_F(st, dup2_ebadf)
{
	/* spec: after the child exists: DUP2 of a closed fd (EBADF): exit 1 */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 50, 0, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	EXPECT_EXIT(a, 1, 1);
	a[0].newfd = 50;
	EXPECT_EXIT(a, 1, 1);
}

TEST_F(st, fchdir_errors)
{
	/* spec: after the child exists: FCHDIR ENOTDIR and EBADF: exit 1 */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_FCHDIR, 0, 0, 0, NULL),
	};
	int fd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	fd = open(self->f, O_RDONLY);
	ASSERT_LE(0, fd);
	a[0].fd = fd;
	EXPECT_EXIT(a, 1, 1);
	close(fd);
	EXPECT_EXIT(a, 1, 1);
	/* Control: a directory works. */
	a[0].fd = self->dirfd;
	EXPECT_EXIT(a, 1, 0);
}

TEST_F(st, open_enoent)
{
	/* spec: after the child exists: OPEN of a missing path (ENOENT): exit 127 */
	struct spawn_template_open so = st_open_arg("missing", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, 0, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	a[0].fd = self->dirfd;
	EXPECT_EXIT(a, 1, 127);
	so = st_open_arg("/nonexistent-abi-dir/x", O_RDONLY, 0, 0);
	EXPECT_EXIT(a, 1, 127);
}

TEST_F(st, open_eacces)
{
	/* spec: after the child exists: OPEN denied (EACCES): exit 126 */
	char secret[PATH_MAX + 16];
	struct spawn_template_open so = st_open_arg(secret, O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so),
	};
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* A root-only file, in a directory 65534 owns (so teardown can remove it). */
	snprintf(secret, sizeof(secret), "%s/secret", self->dir);
	st_write_file(_metadata, secret, "s\n", 2, 0600);
	ASSERT_EQ(0, chown(self->dir, ST_NOBODY, ST_NOBODY));
	ASSERT_EQ(0, chmod(self->dir, 0755));
	ASSERT_EQ(0, st_drop_to_nobody());
	/* A template made by these credentials, of a file 65534 may run. */
	t = spawn_template_create_path("/usr/bin/true", SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, t) TH_LOG("template of /usr/bin/true: errno %d", errno);
	ASSERT_EQ(-1, open(secret, O_RDONLY));
	ASSERT_EQ(EACCES, errno);
	expect_exit(_metadata, t, 0, argv_ok, NULL, a, 1, 126);
	/* Control: an allowed path exits 0. */
	so = st_open_arg("/dev/null", O_RDONLY, 0, 0);
	expect_exit(_metadata, t, 0, argv_ok, NULL, a, 1, 0);
	close(t);
}

TEST_F(st, open_exdev)
{
	/* spec: after the child exists: OPEN RESOLVE_BENEATH escape (EXDEV): exit 1 */
	struct spawn_template_open so = st_open_arg("../x", O_RDONLY, 0, RESOLVE_BENEATH);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, 0, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	a[0].fd = self->dirfd;
	/* EXDEV comes before the lookup of a (missing) target: 1, not 127. */
	EXPECT_EXIT(a, 1, 1);
}

TEST_F(st, open_bad_how)
{
	/* spec: after the child exists: an invalid open_how (openat2 rules, EINVAL): exit 1 */
	struct spawn_template_open so;
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* Unknown open flag bit. */
	so = st_open_arg(self->f, O_RDONLY | (1ULL << 40), 0, 0);
	EXPECT_EXIT(a, 1, 1);
	/* A mode without O_CREAT / O_TMPFILE. */
	so = st_open_arg(self->f, O_RDONLY, 0644, 0);
	EXPECT_EXIT(a, 1, 1);
	/* A mode with bits beyond S_IALLUGO. */
	so = st_open_arg(self->f, O_RDONLY | O_CREAT, 0170000, 0);
	EXPECT_EXIT(a, 1, 1);
	/* Unknown resolve bit. */
	so = st_open_arg(self->f, O_RDONLY, 0, 1ULL << 40);
	EXPECT_EXIT(a, 1, 1);
	/* RESOLVE_BENEATH together with RESOLVE_IN_ROOT. */
	so = st_open_arg(self->f, O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
	EXPECT_EXIT(a, 1, 1);
	/* Control: the same path, valid how. */
	so = st_open_arg(self->f, O_RDONLY, 0, 0);
	EXPECT_EXIT(a, 1, 0);
}

TEST_F(st, open_efault)
{
	/* spec: after the child exists: OPEN arg or path unreadable (EFAULT): exit 1 */
	struct spawn_template_open so = st_open_arg(st_unmapped(), O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	EXPECT_EXIT(a, 1, 1);
	a[0].arg = ST_PTR(st_unmapped());
	EXPECT_EXIT(a, 1, 1);
}

TEST_F(st, open_bad_dirfd)
{
	/* spec: actions: OPEN fd >= AT_FDCWD passes validation; a closed dirfd fails in the child (EBADF): exit 1 */
	struct spawn_template_open so = st_open_arg("f", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, -1, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	EXPECT_EXIT(a, 1, 1);
	a[0].fd = 50;
	EXPECT_EXIT(a, 1, 1);
	/* Control: an absolute path ignores the dirfd. */
	so = st_open_arg(self->f, O_RDONLY, 0, 0);
	EXPECT_EXIT(a, 1, 0);
}

TEST_F(st, sigset_bad_size)
{
	/* spec: after the child exists: SIGMASK/SIGDEFAULT sigsetsize != 8: exit 1 */
	static sigset_t set;
	struct spawn_template_sigset ss = { ST_PTR(&set), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &ss),
	};
	__u64 sizes[] = { 0, 4, 16, 128 };
	int type, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	sigemptyset(&set);
	for (type = SPAWN_TEMPLATE_ACTION_SIGMASK;
	     type <= SPAWN_TEMPLATE_ACTION_SIGDEFAULT; type++) {
		a[0].type = type;
		for (i = 0; i < 4; i++) {
			ss.sigsetsize = sizes[i];
			TH_LOG("type %d sigsetsize %llu", type,
			       (unsigned long long)sizes[i]);
			EXPECT_EXIT(a, 1, 1);
		}
		ss.sigsetsize = 8;
		EXPECT_EXIT(a, 1, 0);
	}
}

TEST_F(st, sigset_efault)
{
	/* spec: after the child exists: SIGMASK/SIGDEFAULT arg or sigset unreadable (EFAULT): exit 1 */
	struct spawn_template_sigset ss = { ST_PTR(st_unmapped()), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &ss),
	};
	int type;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	for (type = SPAWN_TEMPLATE_ACTION_SIGMASK;
	     type <= SPAWN_TEMPLATE_ACTION_SIGDEFAULT; type++) {
		a[0].type = type;
		a[0].arg = ST_PTR(&ss);
		EXPECT_EXIT(a, 1, 1);
		a[0].arg = ST_PTR(st_unmapped());
		EXPECT_EXIT(a, 1, 1);
	}
}

TEST_F(st, stops_at_failure)
{
	/* spec: after the child exists: the failing step ends the child; later actions do not run */
	char path[PATH_MAX + 8];
	struct spawn_template_open so;
	struct spawn_template_action a[2];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	snprintf(path, sizeof(path), "%s/created", self->dir);
	so = st_open_arg(path, O_WRONLY | O_CREAT, 0600, 0);
	a[0] = st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 50, 0, NULL);
	a[1] = st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so);
	EXPECT_EXIT(a, 2, 1);
	ASSERT_EQ(-1, access(path, F_OK));
	ASSERT_EQ(ENOENT, errno);
	/* Control: the OPEN alone creates it. */
	EXPECT_EXIT(&a[1], 1, 0);
	ASSERT_EQ(0, access(path, F_OK));
}

/* What execve() of argv/envp gives on this kernel: 0 or the errno. */
static int execve_errno(const char *path, char *const *argv, char *const *envp)
{
	int st;
	pid_t p = fork();

	if (p == 0) {
		syscall(SYS_execve, path, argv, envp);
		_exit(errno);
	}
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static char big[ST_MAX_ARG_STRLEN + 1];

TEST_F(st, argv_strlen_over)
{
	/* spec: after the child exists: an argv string over MAX_ARG_STRLEN (E2BIG): exit 1 */
	char *argv[] = { "probe", "exit", "0", big, NULL };
	char *envp[] = { big, NULL };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* 131072 chars + NUL: one byte over the limit. */
	memset(big, 'a', ST_MAX_ARG_STRLEN);
	big[ST_MAX_ARG_STRLEN] = '\0';
	ASSERT_EQ(E2BIG, execve_errno(st_helper("helper_probe"), argv, NULL));
	EXPECT_EXIT_V(argv, NULL, 1);
	/* The same for an environment string. */
	big[0] = 'B';
	big[1] = '=';
	EXPECT_EXIT_V(argv_ok, envp, 1);
	/* Control: one byte shorter is accepted. */
	big[ST_MAX_ARG_STRLEN - 1] = '\0';
	EXPECT_EXIT_V(argv, envp, 0);
}

TEST_F(st, argv_total_over)
{
	/* spec: after the child exists: argv+envp over the exec size limit (E2BIG): exit 1 */
	struct rlimit rl = { 8 << 20, 8 << 20 };
	static char *argv[40];
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* 8 MiB stack: the strings may use 2 MiB. */
	ASSERT_EQ(0, setrlimit(RLIMIT_STACK, &rl));
	memset(big, 'a', ST_MAX_ARG_STRLEN - 1);
	big[ST_MAX_ARG_STRLEN - 1] = '\0';
	argv[0] = "probe";
	argv[1] = "exit";
	argv[2] = "0";
	for (i = 3; i < 3 + 20; i++)	/* 20 x 128 KiB = 2.5 MiB */
		argv[i] = big;
	argv[i] = NULL;
	ASSERT_EQ(E2BIG, execve_errno(st_helper("helper_probe"), argv, NULL));
	EXPECT_EXIT_V(argv, NULL, 1);
	/* Control: 10 of them (1.25 MiB) fit. */
	argv[3 + 10] = NULL;
	EXPECT_EXIT_V(argv, NULL, 0);
}

TEST_F(st, argv_efault)
{
	/* spec: after the child exists: argv unreadable (EFAULT): exit 1 */
	char *argv[] = { "probe", NULL, NULL };
	char *page = st_page_before_hole();

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_NE(NULL, page);
	/* The array itself. */
	EXPECT_EXIT_V((char **)st_unmapped(), NULL, 1);
	/* A string pointer in it. */
	argv[1] = st_unmapped();
	EXPECT_EXIT_V(argv, NULL, 1);
	/* The array runs into the hole with no NULL terminator. */
	((char **)(page + 4096))[-1] = "probe";
	EXPECT_EXIT_V((char **)(page + 4096 - sizeof(char *)), NULL, 1);
	/* A string runs into the hole with no NUL. */
	memset(page, 'a', 4096);
	argv[1] = page + 4096 - 16;
	EXPECT_EXIT_V(argv, NULL, 1);
}

TEST_F(st, envp_efault)
{
	/* spec: after the child exists: envp unreadable (EFAULT): exit 1 */
	char *envp[] = { "A=1", NULL, NULL };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	EXPECT_EXIT_V(argv_ok, (char **)st_unmapped(), 1);
	envp[1] = st_unmapped();
	EXPECT_EXIT_V(argv_ok, envp, 1);
	/* Control. */
	envp[1] = NULL;
	EXPECT_EXIT_V(argv_ok, envp, 0);
}

TEST_HARNESS_MAIN
