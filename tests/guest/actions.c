// SPDX-License-Identifier: GPL-2.0
/*
 * File and signal actions, as the spawned child sees them: the effect of
 * each of the seven types, array order, the default close of every fd
 * above 2 after the actions, INHERIT_FDS, and that none of it touches the
 * caller. The child is helper_probe, which reports its fds, cwd, mask
 * and ignored signals.
 */
#include "common.h"

static struct st_out o;
static char *argv_probe[] = { "probe", NULL };

/* Open path (not close-on-exec) at exactly fd. */
static int open_at(const char *path, int fd)
{
	int t = open(path, O_RDONLY);

	if (t < 0 || t == fd)
		return t;
	if (dup2(t, fd) != fd)
		return -1;
	close(t);
	return fd;
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* ---- what the probe reported (fd.N.*, blocked=, ignored=) ---- */

/* Did the probe report fd as open? */
static int fd_seen(const struct st_out *out, int fd)
{
	char key[32];

	snprintf(key, sizeof(key), "fd.%d.flags", fd);
	return st_kv(out->buf, key) != NULL;
}

/* Target (readlink) of fd as the probe saw it, "" when not open. */
static const char *fd_target(const struct st_out *out, int fd)
{
	const char *v;
	char key[32];

	snprintf(key, sizeof(key), "fd.%d.target", fd);
	v = st_kv(out->buf, key);
	return v ? v : "";
}

/* Open flags (F_GETFL) of fd as the probe saw it, -1 when not open. */
static int fd_flags(const struct st_out *out, int fd)
{
	const char *v;
	char key[32];

	snprintf(key, sizeof(key), "fd.%d.flags", fd);
	v = st_kv(out->buf, key);
	return v ? (int)strtol(v, NULL, 16) : -1;
}

/*
 * The "blocked" or "ignored" mask, bit (sig - 1); ~0 when missing.
 * strtoull: a full mask does not fit st_kv_num()'s long long.
 */
static unsigned long long mask_of(const struct st_out *out, const char *name)
{
	const char *v = st_kv(out->buf, name);

	return v ? strtoull(v, NULL, 16) : ~0ULL;
}

#define SIGBIT(sig)	(1ULL << ((sig) - 1))

/* What the caller's own fd points to. */
static const char *my_target(int fd)
{
	static char t[PATH_MAX];
	char l[64];
	ssize_t n;

	snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
	n = readlink(l, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	return t;
}

FIXTURE(act) {
	char dir[PATH_MAX];
	char f[PATH_MAX + 8];		/* dir/f, a regular file */
	char sub[PATH_MAX + 8];		/* dir/sub, a directory holding g */
	char g[PATH_MAX + 8];		/* dir/sub/g */
	int dirfd, subfd, tfd;
};

FIXTURE_SETUP(act)
{
	char tmpl[] = "/tmp/abi_act.XXXXXX";
	char link[PATH_MAX + 8];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->dirfd = self->subfd = self->tfd = -1;
	ASSERT_NE(NULL, mkdtemp(tmpl));
	ASSERT_NE(NULL, realpath(tmpl, self->dir));
	snprintf(self->f, sizeof(self->f), "%s/f", self->dir);
	snprintf(self->sub, sizeof(self->sub), "%s/sub", self->dir);
	snprintf(self->g, sizeof(self->g), "%s/sub/g", self->dir);
	st_write_file(_metadata, self->f, "f\n", 2, 0644);
	ASSERT_EQ(0, mkdir(self->sub, 0755));
	st_write_file(_metadata, self->g, "g\n", 2, 0644);
	snprintf(link, sizeof(link), "%s/link", self->dir);
	ASSERT_EQ(0, symlink("f", link));
	self->dirfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dirfd);
	self->subfd = open(self->sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->subfd);
	self->tfd = st_probe_template(_metadata);
	/* A known stdin, so that its fate can be seen. */
	ASSERT_EQ(0, open_at("/dev/null", 0));
}

/*
 * In the parent, after a failed ASSERT too. The fds were the test
 * process's own: they went with it.
 */
FIXTURE_TEARDOWN_PARENT(act)
{
	if (self->dir[0])
		st_rmtree(self->dir);
}

/* Spawn the probe; the child must have exited with code. */
#define RUN(flags, acts, n, code)					\
	do {								\
		ASSERT_LT(0, st_run(self->tfd, (flags), argv_probe, NULL, \
				    (acts), (n), &o))			\
			TH_LOG("spawn: errno %d", errno);		\
		ASSERT_EQ(ST_EXITED(code), o.status)			\
			TH_LOG("probe said:\n%s", o.buf);		\
	} while (0)

#define INHERIT SPAWN_TEMPLATE_SPAWN_INHERIT_FDS

/* ---- CLOSE ---- */

TEST_F(act, close_std)
{
	/* spec: actions: CLOSE closes fd in the child only */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 0, 0, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 0);
	ASSERT_FALSE(fd_seen(&o, 0));
	ASSERT_TRUE(fd_seen(&o, 1));
	ASSERT_TRUE(fd_seen(&o, 2));
	ASSERT_TRUE(fd_open(0));
}

TEST_F(act, close_inherited)
{
	/* spec: actions: CLOSE of an inherited fd (INHERIT_FDS keeps the others) */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 10, 0, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	ASSERT_EQ(11, open_at(self->f, 11));
	RUN(INHERIT, a, 1, 0);
	ASSERT_FALSE(fd_seen(&o, 10));
	ASSERT_STREQ(self->f, fd_target(&o, 11));
	ASSERT_TRUE(fd_open(10));
}

/* ---- DUP2 ---- */

TEST_F(act, dup2_to_std)
{
	/* spec: actions: DUP2 fd onto newfd (replacing an open newfd) */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 0, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 2, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	RUN(0, a, 2, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	ASSERT_STREQ(self->f, fd_target(&o, 2));
	/* The source fd went with the default close. */
	ASSERT_FALSE(fd_seen(&o, 10));
	/* The caller's 0 and 2 are untouched. */
	ASSERT_STREQ("/dev/null", my_target(0));
	ASSERT_STRNE(self->f, my_target(2));
}

TEST_F(act, dup2_cloexec)
{
	/* spec: actions: DUP2 with flags O_CLOEXEC makes newfd close-on-exec */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, O_CLOEXEC, 10, 20, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 21, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	RUN(INHERIT, a, 2, 0);
	ASSERT_FALSE(fd_seen(&o, 20));
	ASSERT_STREQ(self->f, fd_target(&o, 21));
	ASSERT_STREQ(self->f, fd_target(&o, 10));
}

TEST_F(act, dup2_clears_cloexec)
{
	/* spec: actions: DUP2 (no flags) gives a newfd without close-on-exec, as dup2() */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 20, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	ASSERT_EQ(0, fcntl(10, F_SETFD, FD_CLOEXEC));
	RUN(INHERIT, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 20));
	ASSERT_FALSE(fd_seen(&o, 10));
}

TEST_F(act, dup2_same_fd)
{
	/* spec: actions: DUP2 with fd == newfd checks fd is open and clears nothing */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 200, 200, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 201, 201, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(200, open_at(self->f, 200));
	ASSERT_EQ(201, open_at(self->f, 201));
	ASSERT_EQ(0, fcntl(201, F_SETFD, FD_CLOEXEC));
	RUN(INHERIT, a, 2, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 200));
	/* FD_CLOEXEC of 201 was not cleared: exec closed it. */
	ASSERT_FALSE(fd_seen(&o, 201));
	/*
	 * And fd == newfd on a closed fd: EBADF, exit 1. A high fd, so that
	 * the pipe st_run() makes for the probe cannot take its number.
	 */
	close(200);
	RUN(INHERIT, a, 1, 1);
}

/* ---- FCHDIR ---- */

TEST_F(act, fchdir_dir)
{
	/* spec: actions: FCHDIR changes the child's cwd, not the caller's */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_FCHDIR, 0, self->subfd, 0, NULL),
	};
	char before[PATH_MAX], after[PATH_MAX], line[PATH_MAX + 16];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_NE(NULL, getcwd(before, sizeof(before)));
	RUN(0, a, 1, 0);
	snprintf(line, sizeof(line), "cwd=%s", self->sub);
	ASSERT_TRUE(st_has_line(o.buf, line)) TH_LOG("%s", o.buf);
	ASSERT_NE(NULL, getcwd(after, sizeof(after)));
	ASSERT_STREQ(before, after);
}

TEST_F(act, fchdir_not_dir)
{
	/* spec: actions: FCHDIR on a non-directory fails with ENOTDIR: exit status 1 */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_FCHDIR, 0, 10, 0, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	RUN(0, a, 1, 1);
	ASSERT_EQ(0, o.len);
}

/* ---- OPEN ---- */

TEST_F(act, open_rdonly)
{
	/* spec: actions: OPEN opens path at newfd with open_how flags (AT_FDCWD lookup) */
	struct spawn_template_open so = st_open_arg(self->f, O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	ASSERT_EQ(O_RDONLY, fd_flags(&o, 0) & O_ACCMODE);
	/* Not in the caller. */
	ASSERT_STREQ("/dev/null", my_target(0));
}

TEST_F(act, open_creat_mode)
{
	/* spec: actions: OPEN honours open_how flags and mode (openat2 rules) */
	char path[PATH_MAX + 8];
	struct spawn_template_open so;
	struct spawn_template_action a[1];
	struct stat st;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	snprintf(path, sizeof(path), "%s/new", self->dir);
	so = st_open_arg(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0640, 0);
	a[0] = st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so);
	umask(0);
	RUN(0, a, 1, 0);
	ASSERT_STREQ(path, fd_target(&o, 0));
	ASSERT_EQ(O_WRONLY | O_APPEND, fd_flags(&o, 0) & (O_ACCMODE | O_APPEND));
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0640, st.st_mode & 07777);
	/* O_EXCL now finds the file: EEXIST in the child, exit 1. */
	RUN(0, a, 1, 1);
}

TEST_F(act, open_dirfd)
{
	/* spec: actions: OPEN fd is the directory fd for the lookup */
	struct spawn_template_open so = st_open_arg("sub/../f", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, self->dirfd, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	/* Relative to a different directory: "g" exists only in sub. */
	so = st_open_arg("g", O_RDONLY, 0, 0);
	a[0].fd = self->subfd;
	RUN(0, a, 1, 0);
	ASSERT_STREQ(self->g, fd_target(&o, 0));
}

TEST_F(act, open_cloexec)
{
	/* spec: actions: OPEN with O_CLOEXEC in open_how gives a close-on-exec fd */
	struct spawn_template_open so1 = st_open_arg(self->f, O_RDONLY | O_CLOEXEC, 0, 0);
	struct spawn_template_open so2 = st_open_arg(self->f, O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 20, &so1),
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 21, &so2),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(INHERIT, a, 2, 0);
	ASSERT_FALSE(fd_seen(&o, 20));
	ASSERT_STREQ(self->f, fd_target(&o, 21));
}

TEST_F(act, open_beneath)
{
	/* spec: actions: OPEN RESOLVE_BENEATH: inside ok, escaping fails with EXDEV: exit 1 */
	struct spawn_template_open so = st_open_arg("sub/../f", O_RDONLY, 0, RESOLVE_BENEATH);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, self->subfd, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	a[0].fd = self->dirfd;
	RUN(0, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	/* From sub, "../f" escapes. */
	so = st_open_arg("../f", O_RDONLY, 0, RESOLVE_BENEATH);
	a[0].fd = self->subfd;
	RUN(0, a, 1, 1);
	/* An absolute path escapes too. */
	so = st_open_arg(self->f, O_RDONLY, 0, RESOLVE_BENEATH);
	RUN(0, a, 1, 1);
	/* Control: without RESOLVE_BENEATH "../f" is fine. */
	so = st_open_arg("../f", O_RDONLY, 0, 0);
	RUN(0, a, 1, 0);
}

TEST_F(act, open_no_symlinks)
{
	/* spec: actions: OPEN RESOLVE_NO_SYMLINKS on a symlink fails with ELOOP: exit 1 */
	struct spawn_template_open so = st_open_arg("link", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, self->dirfd, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	so = st_open_arg("link", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	RUN(0, a, 1, 1);
	/* O_NOFOLLOW on the last component: ELOOP too. */
	so = st_open_arg("link", O_RDONLY | O_NOFOLLOW, 0, 0);
	RUN(0, a, 1, 1);
}

TEST_F(act, open_missing)
{
	/* spec: after the child exists: OPEN of a missing path (ENOENT): exit 127 */
	struct spawn_template_open so = st_open_arg("nothere", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, self->dirfd, 0, &so),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 127);
	so = st_open_arg("nodir/nothere", O_RDONLY, 0, 0);
	RUN(0, a, 1, 127);
	ASSERT_EQ(0, o.len);
}

/* ---- CLOSE_RANGE ---- */

static void open_10_to_15(struct __test_metadata *_metadata, const char *f)
{
	int i;

	for (i = 10; i <= 15; i++) {
		ASSERT_EQ(i, open_at(f, i));
	}
	ASSERT_EQ(900, open_at(f, 900));
}

TEST_F(act, crange_explicit)
{
	/* spec: actions: CLOSE_RANGE fd..newfd closes exactly that range */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE_RANGE, 0, 11, 13, NULL),
	};
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	open_10_to_15(_metadata, self->f);
	RUN(INHERIT, a, 1, 0);
	for (i = 10; i <= 15; i++) {
		ASSERT_EQ(i < 11 || i > 13, fd_seen(&o, i)) TH_LOG("fd %d", i);
	}
	ASSERT_TRUE(fd_seen(&o, 900));
	for (i = 10; i <= 15; i++) {
		ASSERT_TRUE(fd_open(i));
	}
}

TEST_F(act, crange_to_max)
{
	/* spec: actions: CLOSE_RANGE newfd -1 means to the maximum */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE_RANGE, 0, 12, -1, NULL),
	};
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	open_10_to_15(_metadata, self->f);
	RUN(INHERIT, a, 1, 0);
	for (i = 10; i <= 15; i++) {
		ASSERT_EQ(i < 12, fd_seen(&o, i)) TH_LOG("fd %d", i);
	}
	ASSERT_FALSE(fd_seen(&o, 900));
	ASSERT_TRUE(fd_seen(&o, 1));
	ASSERT_TRUE(fd_open(900));
}

TEST_F(act, crange_cloexec)
{
	/* spec: actions: CLOSE_RANGE_CLOEXEC marks the range close-on-exec; the fds stay open for later actions */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE_RANGE, CLOSE_RANGE_CLOEXEC, 10, 15, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 12, 20, NULL),
	};
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	open_10_to_15(_metadata, self->f);
	RUN(INHERIT, a, 2, 0);
	for (i = 10; i <= 15; i++) {
		ASSERT_FALSE(fd_seen(&o, i)) TH_LOG("fd %d", i);
	}
	ASSERT_STREQ(self->f, fd_target(&o, 20));
	ASSERT_TRUE(fd_seen(&o, 900));
	/* Not in the caller. */
	ASSERT_EQ(0, fcntl(12, F_GETFD) & FD_CLOEXEC);
	/* Control: a plain CLOSE_RANGE really closes; DUP2 of 12 is EBADF: exit 1. */
	a[0].flags = 0;
	RUN(INHERIT, a, 2, 1);
}

TEST_F(act, crange_unshare)
{
	/* spec: actions: CLOSE_RANGE_UNSHARE closes in the child's table, never the caller's */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE_RANGE, CLOSE_RANGE_UNSHARE, 10, -1, NULL),
	};
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	open_10_to_15(_metadata, self->f);
	RUN(INHERIT, a, 1, 0);
	for (i = 10; i <= 15; i++) {
		ASSERT_FALSE(fd_seen(&o, i)) TH_LOG("fd %d", i);
		ASSERT_TRUE(fd_open(i));
	}
	ASSERT_FALSE(fd_seen(&o, 900));
	ASSERT_TRUE(fd_open(900));
	/* Both flags together. */
	a[0].flags = CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC;
	RUN(INHERIT, a, 1, 0);
	ASSERT_FALSE(fd_seen(&o, 12));
	ASSERT_EQ(0, fcntl(12, F_GETFD) & FD_CLOEXEC);
}

/* ---- SIGMASK / SIGDEFAULT ---- */

static sigset_t set_of(int a, int b, int c)
{
	sigset_t s;

	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	if (c)
		sigaddset(&s, c);
	return s;
}

TEST_F(act, sigmask_sets)
{
	/* spec: actions: SIGMASK sets the child's blocked mask; SIGKILL/SIGSTOP silently dropped */
	sigset_t want = set_of(SIGUSR1, SIGKILL, SIGSTOP), mine = set_of(SIGUSR2, 0, 0), now;
	struct spawn_template_sigset ss = { ST_PTR(&want), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &ss),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, &mine, NULL));
	RUN(0, a, 1, 0);
	ASSERT_EQ(SIGBIT(SIGUSR1), mask_of(&o, "blocked"));
	/* Control: without the action, the caller's mask is inherited. */
	RUN(0, NULL, 0, 0);
	ASSERT_EQ(SIGBIT(SIGUSR2), mask_of(&o, "blocked"));
	/* The caller's mask is unchanged. */
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, NULL, &now));
	ASSERT_TRUE(sigismember(&now, SIGUSR2));
	ASSERT_FALSE(sigismember(&now, SIGUSR1));
}

TEST_F(act, sigmask_kill_stop)
{
	/* spec: actions: SIGMASK of only SIGKILL and SIGSTOP: accepted, nothing blocked */
	sigset_t want = set_of(SIGKILL, SIGSTOP, 0);
	struct spawn_template_sigset ss = { ST_PTR(&want), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &ss),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(0, a, 1, 0);
	ASSERT_EQ(0, mask_of(&o, "blocked"));
	/* A full set: everything but SIGKILL and SIGSTOP. */
	sigfillset(&want);
	want.__val[0] = ~0UL;
	RUN(0, a, 1, 0);
	ASSERT_EQ(~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)), mask_of(&o, "blocked"));
}

TEST_F(act, sigdefault_ignored)
{
	/* spec: actions: SIGDEFAULT resets ignored signals to SIG_DFL in the child */
	sigset_t want = set_of(SIGUSR1, 0, 0);
	struct spawn_template_sigset ss = { ST_PTR(&want), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGDEFAULT, 0, 0, 0, &ss),
	};
	struct sigaction sa;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	RUN(0, NULL, 0, 0);
	ASSERT_EQ(SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2),
		  mask_of(&o, "ignored") & (SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2)));
	RUN(0, a, 1, 0);
	ASSERT_EQ(SIGBIT(SIGUSR2),
		  mask_of(&o, "ignored") & (SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2)));
	/* The caller still ignores SIGUSR1. */
	ASSERT_EQ(0, sigaction(SIGUSR1, NULL, &sa));
	ASSERT_EQ(SIG_IGN, sa.sa_handler);
}

static void on_sig(int sig)
{
	(void)sig;
}

TEST_F(act, sigdefault_caught)
{
	/* spec: actions: SIGDEFAULT of a caught signal: SIG_DFL in the child, the caller's handler kept */
	sigset_t want = set_of(SIGTERM, SIGHUP, SIGKILL);
	struct spawn_template_sigset ss = { ST_PTR(&want), 8 };
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_SIGDEFAULT, 0, 0, 0, &ss),
	};
	struct sigaction sa;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	ASSERT_EQ(0, sigaction(SIGTERM, &sa, NULL));
	signal(SIGHUP, SIG_IGN);
	/* SIGKILL in the set is dropped silently: exit 0. */
	RUN(0, a, 1, 0);
	ASSERT_EQ(0, mask_of(&o, "ignored") & (SIGBIT(SIGTERM) | SIGBIT(SIGHUP)));
	ASSERT_EQ(0, sigaction(SIGTERM, NULL, &sa));
	ASSERT_TRUE(sa.sa_handler == on_sig);
	ASSERT_EQ(0, sigaction(SIGHUP, NULL, &sa));
	ASSERT_EQ(SIG_IGN, sa.sa_handler);
}

/* ---- order ---- */

TEST_F(act, order_open_dup_close)
{
	/* spec: actions run in array order: a later action sees an earlier one's effect */
	struct spawn_template_open so = st_open_arg("f", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, self->dirfd, 30, &so),
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 30, 0, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 30, 0, NULL),
	};
	struct spawn_template_action b[] = { a[2], a[0], a[1] };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	RUN(INHERIT, a, 3, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 0));
	ASSERT_FALSE(fd_seen(&o, 30));
	/* CLOSE first: 30 is not open yet: EBADF, exit 1. */
	RUN(INHERIT, b, 3, 1);
}

TEST_F(act, order_fchdir_open)
{
	/* spec: actions run in array order: OPEN after FCHDIR resolves in the new cwd */
	struct spawn_template_open so = st_open_arg("g", O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_FCHDIR, 0, self->subfd, 0, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 0, &so),
	};
	struct spawn_template_action b[] = { a[1], a[0] };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, chdir(self->dir));
	RUN(0, a, 2, 0);
	ASSERT_STREQ(self->g, fd_target(&o, 0));
	/* OPEN first: "g" is not in dir: ENOENT, exit 127. */
	RUN(0, b, 2, 127);
}

/* ---- fds above 2 ---- */

TEST_F(act, default_closes_fds)
{
	/* spec: spawn: unless INHERIT_FDS, every fd above 2 is closed (after the actions) */
	struct spawn_template_open so = st_open_arg(self->f, O_RDONLY, 0, 0);
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 40, NULL),
		st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 41, &so),
	};
	int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	ASSERT_EQ(700, open_at(self->f, 700));
	RUN(0, a, 2, 0);
	for (i = 3; i < 1024; i++) {
		ASSERT_FALSE(fd_seen(&o, i)) TH_LOG("fd %d", i);
	}
	ASSERT_TRUE(fd_seen(&o, 0));
	ASSERT_TRUE(fd_seen(&o, 1));
	ASSERT_TRUE(fd_seen(&o, 2));
	/* The actions ran before the close: they succeeded (exit 0 above). */
	ASSERT_TRUE(fd_open(10));
	ASSERT_TRUE(fd_open(700));
}

TEST_F(act, inherit_fds)
{
	/* spec: spawn: INHERIT_FDS keeps fds above 2 but O_CLOEXEC still closes at exec */
	struct spawn_template_action a[] = {
		st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 40, NULL),
	};

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(10, open_at(self->f, 10));
	ASSERT_EQ(700, open_at(self->f, 700));
	ASSERT_EQ(11, open_at(self->g, 11));
	ASSERT_EQ(0, fcntl(11, F_SETFD, FD_CLOEXEC));
	RUN(INHERIT, a, 1, 0);
	ASSERT_STREQ(self->f, fd_target(&o, 10));
	ASSERT_STREQ(self->f, fd_target(&o, 700));
	ASSERT_STREQ(self->f, fd_target(&o, 40));
	ASSERT_FALSE(fd_seen(&o, 11));
	/* The template fd (close-on-exec) is not passed either. */
	ASSERT_FALSE(fd_seen(&o, self->tfd));
}

TEST_F(act, closed_std_fds)
{
	/* spec: spawn: only fds above 2 are closed by default; fds 0-2 pass as they are */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(2, open_at(self->g, 2));
	close(0);
	RUN(0, NULL, 0, 0);
	ASSERT_FALSE(fd_seen(&o, 0));
	ASSERT_STREQ(self->g, fd_target(&o, 2));
}

TEST_HARNESS_MAIN
