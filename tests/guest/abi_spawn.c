// SPDX-License-Identifier: GPL-2.0
/*
 * spawn_template_spawn(): argument handling. Sizes and extensibility, the
 * template fd, flags, pidfd and reserved fields, the action array and every
 * per-type field rule; each refusal is shown to create no child (no SIGCHLD,
 * nothing waitable, no /proc children entry, no pid used in a fresh pid
 * namespace). Then argv / envp as the child sees them, against execve().
 */
#include "common.h"

static struct st_out o, x;

/*
 * The strong watch: SIGCHLD counted and a fresh pid namespace, so that a
 * child created and reaped inside the kernel still shows (its pid is used).
 */
#define NOCHILD_BEGIN() ASSERT_EQ(0, st_watch_children(1))
#define NOCHILD_END()							\
	do {								\
		int __b = st_child_evidence();				\
		ASSERT_EQ(0, __b) TH_LOG("a child was created (evidence bits 0x%x)", __b); \
	} while (0)

/* spawn must fail with err, store no pidfd, and leave the fd table alone. */
#define SPAWN_REFUSED(tfd, args, size, err)				\
	do {								\
		int __low = st_lowest_fd();				\
		pid_t __r;						\
		int __e;						\
		pidfd = -12345;						\
		__r = sys_spawn_template_spawn((tfd), (args), (size));	\
		__e = errno;						\
		ASSERT_EQ(-1, __r) { if (__r > 0) st_wait(__r); }	\
		ASSERT_EQ((err), __e);					\
		ASSERT_EQ(-12345, pidfd);				\
		ASSERT_EQ(__low, st_lowest_fd());			\
	} while (0)

static char *probe_argv[] = { "probe", "exit", "0", NULL };

/* spawn must succeed with a child that exits 0 (the probe's "exit 0"). */
#define SPAWN_OK(tfd, args, size)					\
	do {								\
		pid_t __r;						\
		pidfd = -1;						\
		__r = sys_spawn_template_spawn((tfd), (args), (size));	\
		ASSERT_LT(0, __r) TH_LOG("errno %d", errno);		\
		ASSERT_LE(0, pidfd);					\
		close(pidfd);						\
		ASSERT_EQ(ST_EXITED(0), st_wait(__r));			\
	} while (0)

static void valid_args(struct spawn_template_spawn_args *a, int *pidfd)
{
	st_spawn_args(a, 0, probe_argv, NULL, NULL, 0, pidfd);
}

TEST(size_below_ver0)
{
	/* spec: spawn_template_spawn: size smaller than VER0 (80): EINVAL, no child */
	struct spawn_template_spawn_args a;
	size_t sizes[] = { 0, 8, 72, 79 };
	int t, pidfd;
	size_t i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	NOCHILD_BEGIN();
	for (i = 0; i < ST_NELEM(sizes); i++) {
		valid_args(&a, &pidfd);
		TH_LOG("size %zu", sizes[i]);
		SPAWN_REFUSED(t, &a, sizes[i], EINVAL);
	}
	NOCHILD_END();
}

TEST(size_ver0)
{
	/* spec: UAPI header: VER0 spawn size is 80 and is accepted */
	struct spawn_template_spawn_args a;
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	valid_args(&a, &pidfd);
	SPAWN_OK(t, &a, 80);
}

TEST(size_zero_tail)
{
	/* spec: spawn_template_spawn: size rules as create: trailing zero bytes accepted */
	static char buf[4096];
	size_t sizes[] = { 81, 88, 4096 };
	int t, pidfd;
	size_t i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	valid_args((void *)buf, &pidfd);
	for (i = 0; i < ST_NELEM(sizes); i++) {
		TH_LOG("size %zu", sizes[i]);
		SPAWN_OK(t, (void *)buf, sizes[i]);
	}
}

TEST(size_nonzero_tail)
{
	/* spec: spawn_template_spawn: size rules as create: non-zero byte past VER0: E2BIG, no child */
	static char buf[4096];
	size_t pos[] = { 80, 87, 4095 };
	int t, pidfd;
	size_t i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	valid_args((void *)buf, &pidfd);
	NOCHILD_BEGIN();
	for (i = 0; i < ST_NELEM(pos); i++) {
		TH_LOG("non-zero byte at %zu", pos[i]);
		buf[pos[i]] = 1;
		SPAWN_REFUSED(t, (void *)buf, 4096, E2BIG);
		buf[pos[i]] = 0;
	}
	buf[80] = (char)0xff;
	SPAWN_REFUSED(t, (void *)buf, 81, E2BIG);
	NOCHILD_END();
}

TEST(size_above_page)
{
	/* spec: spawn_template_spawn: size rules as create: larger than a page: E2BIG, no child */
	static char buf[8192];
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	valid_args((void *)buf, &pidfd);
	NOCHILD_BEGIN();
	SPAWN_REFUSED(t, (void *)buf, 4097, E2BIG);
	SPAWN_REFUSED(t, (void *)buf, 8192, E2BIG);
	SPAWN_REFUSED(t, (void *)buf, (size_t)-1, E2BIG);
	NOCHILD_END();
}

TEST(args_efault)
{
	/* spec: spawn_template_spawn: unreadable args struct: EFAULT, no child */
	char *page = st_page_before_hole();
	struct spawn_template_spawn_args *a;
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_NE(NULL, page);
	t = st_probe_template(_metadata);
	a = (void *)(page + 4096 - sizeof(*a));
	valid_args(a, &pidfd);
	NOCHILD_BEGIN();
	SPAWN_REFUSED(t, NULL, 80, EFAULT);
	SPAWN_REFUSED(t, st_unmapped(), 80, EFAULT);
	/* The struct straddles into the hole. */
	SPAWN_REFUSED(t, (void *)(page + 4096 - 40), 80, EFAULT);
	/* VER0 readable, the zero-checked tail is not. */
	SPAWN_REFUSED(t, a, 88, EFAULT);
	NOCHILD_END();
}

TEST(tfd_not_open)
{
	/* spec: spawn_template_spawn: template_fd not open: EBADF, no child */
	struct spawn_template_spawn_args a;
	int pidfd, closed;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	closed = st_probe_template(_metadata);
	close(closed);
	valid_args(&a, &pidfd);
	NOCHILD_BEGIN();
	SPAWN_REFUSED(closed, &a, sizeof(a), EBADF);
	SPAWN_REFUSED(-1, &a, sizeof(a), EBADF);
	SPAWN_REFUSED(AT_FDCWD, &a, sizeof(a), EBADF);
	SPAWN_REFUSED(1 << 20, &a, sizeof(a), EBADF);
	NOCHILD_END();
}

TEST(tfd_not_template)
{
	/* spec: spawn_template_spawn: template_fd open but not a template: EINVAL, no child */
	struct spawn_template_spawn_args a;
	int fds[5], pidfd, i, p[2];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* The executable itself, opened for reading. */
	fds[2] = open(st_helper("helper_probe"), O_RDONLY | O_CLOEXEC);
	/* Other anonymous inodes: a pidfd, and a pipe. */
	fds[3] = syscall(SYS_pidfd_open, getpid(), 0);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	fds[4] = p[0];
	valid_args(&a, &pidfd);
	NOCHILD_BEGIN();
	for (i = 0; i < 5; i++) {
		ASSERT_LE(0, fds[i]);
		TH_LOG("fd kind %d", i);
		SPAWN_REFUSED(fds[i], &a, sizeof(a), EINVAL);
	}
	NOCHILD_END();
}

TEST(unknown_flags)
{
	/* spec: spawn_template_spawn: unknown flags bits: EINVAL, no child */
	struct spawn_template_spawn_args a;
	int t, pidfd, bit;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	NOCHILD_BEGIN();
	for (bit = 1; bit < 64; bit++) {
		valid_args(&a, &pidfd);
		a.flags = 1ULL << bit;
		TH_LOG("flags bit %d", bit);
		SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
		a.flags |= SPAWN_TEMPLATE_SPAWN_INHERIT_FDS;
		SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	}
	NOCHILD_END();
}

TEST(pidfd_zero)
{
	/* spec: spawn_template_spawn: pidfd == 0: EINVAL, no child */
	struct spawn_template_spawn_args a;
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	valid_args(&a, &pidfd);
	a.pidfd = 0;
	NOCHILD_BEGIN();
	SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	a.flags = SPAWN_TEMPLATE_SPAWN_INHERIT_FDS;
	SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	NOCHILD_END();
}

TEST(reserved)
{
	/* spec: spawn_template_spawn: non-zero reserved[]: EINVAL, no child */
	struct spawn_template_spawn_args a;
	int t, pidfd, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	NOCHILD_BEGIN();
	for (i = 0; i < 4; i++) {
		valid_args(&a, &pidfd);
		a.reserved[i] = 1;
		TH_LOG("reserved[%d]", i);
		SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
		a.reserved[i] = 1ULL << 63;
		SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	}
	NOCHILD_END();
}

static struct spawn_template_action many[300];

TEST(actions_256)
{
	/* spec: spawn_template_spawn: actions_len up to 256 accepted */
	struct spawn_template_spawn_args a;
	int t, pidfd, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	for (i = 0; i < 256; i++)
		many[i] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1, 1, NULL);
	st_spawn_args(&a, 0, probe_argv, NULL, many, 256, &pidfd);
	SPAWN_OK(t, &a, sizeof(a));
}

TEST(actions_257)
{
	/* spec: spawn_template_spawn: actions_len above 256: E2BIG, no child */
	struct spawn_template_spawn_args a;
	__u64 lens[] = { 257, 300, 1ULL << 32, ~0ULL };
	int t, pidfd, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	for (i = 0; i < 300; i++)
		many[i] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1, 1, NULL);
	NOCHILD_BEGIN();
	for (i = 0; i < 4; i++) {
		st_spawn_args(&a, 0, probe_argv, NULL, many, 0, &pidfd);
		a.actions_len = lens[i];
		TH_LOG("actions_len %llu", (unsigned long long)lens[i]);
		SPAWN_REFUSED(t, &a, sizeof(a), E2BIG);
	}
	NOCHILD_END();
}

TEST(actions_null)
{
	/* spec: spawn_template_spawn: actions_len > 0 with actions == 0: EINVAL, no child */
	struct spawn_template_spawn_args a;
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	NOCHILD_BEGIN();
	st_spawn_args(&a, 0, probe_argv, NULL, NULL, 1, &pidfd);
	SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	a.actions_len = 256;
	SPAWN_REFUSED(t, &a, sizeof(a), EINVAL);
	NOCHILD_END();
}

TEST(actions_efault)
{
	/* spec: spawn_template_spawn: unreadable action array: EFAULT, no child */
	struct spawn_template_action *acts;
	struct spawn_template_spawn_args a;
	char *page = st_page_before_hole();
	int t, pidfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_NE(NULL, page);
	t = st_probe_template(_metadata);
	/* Two valid actions, then the array runs into the hole. */
	acts = (void *)(page + 4096 - 2 * sizeof(*acts));
	acts[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1, 1, NULL);
	acts[1] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 1, 1, NULL);
	/* Control (before watching): the readable part alone is fine. */
	st_spawn_args(&a, 0, probe_argv, NULL, acts, 2, &pidfd);
	SPAWN_OK(t, &a, sizeof(a));
	NOCHILD_BEGIN();
	a.actions_len = 3;
	SPAWN_REFUSED(t, &a, sizeof(a), EFAULT);
	a.actions = ST_PTR(st_unmapped());
	a.actions_len = 1;
	SPAWN_REFUSED(t, &a, sizeof(a), EFAULT);
	NOCHILD_END();
}

/*
 * One valid action of each type; the bad_action variants each change one
 * field of one of them.
 */
static sigset_t empty_set;
static struct spawn_template_sigset sigs;
static struct spawn_template_open devnull_open;

static struct spawn_template_action base_action(__u32 type, int dirfd)
{
	sigemptyset(&empty_set);
	sigs.sigset = ST_PTR(&empty_set);
	sigs.sigsetsize = 8;
	memset(&devnull_open, 0, sizeof(devnull_open));
	devnull_open.path = ST_PTR("/dev/null");
	devnull_open.how.flags = O_RDONLY;

	switch (type) {
	case SPAWN_TEMPLATE_ACTION_CLOSE:
		return st_act(type, 0, 0, 0, NULL);
	case SPAWN_TEMPLATE_ACTION_DUP2:
		return st_act(type, 0, 1, 1, NULL);
	case SPAWN_TEMPLATE_ACTION_FCHDIR:
		return st_act(type, 0, dirfd, 0, NULL);
	case SPAWN_TEMPLATE_ACTION_OPEN:
		return st_act(type, 0, AT_FDCWD, 0, &devnull_open);
	case SPAWN_TEMPLATE_ACTION_CLOSE_RANGE:
		return st_act(type, 0, 3, -1, NULL);
	default:	/* SIGMASK, SIGDEFAULT */
		return st_act(type, 0, 0, 0, &sigs);
	}
}

TEST(valid_base_actions)
{
	/* spec: spawn_template_spawn: the per-type field rules accept these (control for bad_action) */
	struct spawn_template_action acts[7];
	struct spawn_template_spawn_args a;
	int t, pidfd, dirfd;
	__u32 type;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	dirfd = open("/", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, dirfd);
	for (type = 0; type < 7; type++) {
		acts[type] = base_action(type, dirfd);
		TH_LOG("base action of type %u alone", type);
		st_spawn_args(&a, 0, probe_argv, NULL, &acts[type], 1, &pidfd);
		SPAWN_OK(t, &a, sizeof(a));
	}
	/* All seven in one array. */
	st_spawn_args(&a, 0, probe_argv, NULL, acts, 7, &pidfd);
	SPAWN_OK(t, &a, sizeof(a));
}

enum { F_TYPE, F_FLAGS, F_FD, F_NEWFD, F_ARG };

FIXTURE(bad_action) {
	int tfd;
	int dirfd;
};

FIXTURE_VARIANT(bad_action) {
	__u32 type;	/* the base action */
	int field;	/* the field changed */
	long long value;
	int prefix;	/* valid actions before the bad one */
};

FIXTURE_SETUP(bad_action)
{
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->tfd = st_probe_template(_metadata);
	self->dirfd = open("/", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->dirfd);
}

FIXTURE_TEARDOWN(bad_action)
{
	close(self->tfd);
	close(self->dirfd);
}

#define BAD(name, t, f, v)						\
	FIXTURE_VARIANT_ADD(bad_action, name) {				\
		.type = SPAWN_TEMPLATE_ACTION_##t, .field = f, .value = v, \
	}

BAD(type_7, CLOSE, F_TYPE, 7);
BAD(type_max, CLOSE, F_TYPE, 0xffffffffLL);
BAD(close_fd_neg, CLOSE, F_FD, -1);
BAD(close_flags, CLOSE, F_FLAGS, O_CLOEXEC);
BAD(close_newfd, CLOSE, F_NEWFD, 1);
BAD(close_arg, CLOSE, F_ARG, 1);
BAD(dup2_fd_neg, DUP2, F_FD, -1);
BAD(dup2_newfd_neg, DUP2, F_NEWFD, -1);
BAD(dup2_flags_nonblock, DUP2, F_FLAGS, O_NONBLOCK);
BAD(dup2_flags_bit0, DUP2, F_FLAGS, 1);
BAD(dup2_flags_cloexec_more, DUP2, F_FLAGS, O_CLOEXEC | O_NONBLOCK);
BAD(dup2_arg, DUP2, F_ARG, 1);
BAD(fchdir_fd_neg, FCHDIR, F_FD, -1);
BAD(fchdir_fd_atcwd, FCHDIR, F_FD, AT_FDCWD);
BAD(fchdir_flags, FCHDIR, F_FLAGS, 1);
BAD(fchdir_newfd, FCHDIR, F_NEWFD, 1);
BAD(fchdir_arg, FCHDIR, F_ARG, 1);
BAD(open_dirfd_below_cwd, OPEN, F_FD, AT_FDCWD - 1);
BAD(open_dirfd_int_min, OPEN, F_FD, INT32_MIN);
BAD(open_newfd_neg, OPEN, F_NEWFD, -1);
BAD(open_flags, OPEN, F_FLAGS, 1);
BAD(open_flags_cloexec, OPEN, F_FLAGS, O_CLOEXEC);
BAD(crange_first_neg, CLOSE_RANGE, F_FD, -1);
BAD(crange_last_neg2, CLOSE_RANGE, F_NEWFD, -2);
BAD(crange_first_gt_last, CLOSE_RANGE, F_NEWFD, 2);
BAD(crange_flags_bit0, CLOSE_RANGE, F_FLAGS, 1);
BAD(crange_flags_bit3, CLOSE_RANGE, F_FLAGS, 1 << 3);
BAD(crange_arg, CLOSE_RANGE, F_ARG, 1);
BAD(sigmask_fd, SIGMASK, F_FD, 1);
BAD(sigmask_newfd, SIGMASK, F_NEWFD, 1);
BAD(sigmask_flags, SIGMASK, F_FLAGS, 1);
BAD(sigdefault_fd, SIGDEFAULT, F_FD, 1);
BAD(sigdefault_newfd, SIGDEFAULT, F_NEWFD, 1);
BAD(sigdefault_flags, SIGDEFAULT, F_FLAGS, 1);

/* The bad action comes last, after valid ones: all are checked up front. */
FIXTURE_VARIANT_ADD(bad_action, last_of_three) {
	.type = SPAWN_TEMPLATE_ACTION_CLOSE, .field = F_ARG, .value = 1,
	.prefix = 2,
};

TEST_F(bad_action, refused)
{
	/* spec: spawn_template_spawn: each action validated before any child exists; bad field: EINVAL */
	struct spawn_template_action acts[3], *bad;
	struct spawn_template_spawn_args a;
	int pidfd, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	for (i = 0; i < variant->prefix; i++)
		acts[i] = base_action(SPAWN_TEMPLATE_ACTION_DUP2, self->dirfd);
	bad = &acts[variant->prefix];
	*bad = base_action(variant->type, self->dirfd);
	/* Control: unchanged, the same array is accepted. */
	st_spawn_args(&a, 0, probe_argv, NULL, acts, variant->prefix + 1, &pidfd);
	SPAWN_OK(self->tfd, &a, sizeof(a));

	switch (variant->field) {
	case F_TYPE:
		bad->type = variant->value;
		break;
	case F_FLAGS:
		bad->flags = variant->value;
		break;
	case F_FD:
		bad->fd = variant->value;
		break;
	case F_NEWFD:
		bad->newfd = variant->value;
		break;
	case F_ARG:
		bad->arg = variant->value;
		break;
	}
	NOCHILD_BEGIN();
	SPAWN_REFUSED(self->tfd, &a, sizeof(a), EINVAL);
	NOCHILD_END();
}

/* ---- argv and envp ---- */

static const char *const argsel[] = { "argc=", "argv.", NULL };
static const char *const envsel[] = { "envc=", "envp.", NULL };
static char sel_a[1 << 16], sel_b[1 << 16];

/*
 * The lines starting with @pfx are the same in what the spawned child (o)
 * and the execve()d one (x) printed; left in sel_a and sel_b.
 */
static void assert_same_as_execve(struct __test_metadata *_metadata,
				  const char *const *pfx)
{
	st_select(o.buf, pfx, sel_a, sizeof(sel_a));
	st_select(x.buf, pfx, sel_b, sizeof(sel_b));
	ASSERT_STREQ(sel_b, sel_a);
}

TEST(argv_empty)
{
	/* spec: spawn_template_spawn: argv read as for execveat: empty argv same as execve on this kernel */
	char *empty[] = { NULL };
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	ASSERT_LT(0, st_run(t, 0, empty, empty, NULL, 0, &o)) TH_LOG("errno %d", errno);
	ASSERT_EQ(ST_EXITED(0), o.status);
	ASSERT_LT(0, st_run_execve(st_helper("helper_probe"), empty, empty, &x));
	ASSERT_EQ(ST_EXITED(0), x.status);
	assert_same_as_execve(_metadata, argsel);
	ASSERT_STRNE("", sel_b);
}

TEST(argv_null_ptr)
{
	/* spec: spawn_template_spawn: argv read as for execveat: argv == NULL same as execve on this kernel */
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	ASSERT_LT(0, st_run(t, 0, NULL, NULL, NULL, 0, &o)) TH_LOG("errno %d", errno);
	ASSERT_EQ(ST_EXITED(0), o.status);
	ASSERT_LT(0, st_run_execve(st_helper("helper_probe"), NULL, NULL, &x));
	ASSERT_EQ(ST_EXITED(0), x.status);
	assert_same_as_execve(_metadata, argsel);
	st_select(o.buf, envsel, sel_a, sizeof(sel_a));
	ASSERT_STREQ("envc=0\n", sel_a);
}

TEST(envp_empty)
{
	/* spec: spawn_template_spawn: envp read from the caller's memory: empty envp gives no environment */
	char *argv[] = { "probe", NULL };
	char *empty[] = { NULL };
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	ASSERT_LT(0, st_run(t, 0, argv, empty, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	st_select(o.buf, envsel, sel_a, sizeof(sel_a));
	ASSERT_STREQ("envc=0\n", sel_a);
	/* The caller's own environment is not passed implicitly. */
	ASSERT_EQ(0, setenv("ABI_SHOULD_NOT_LEAK", "1", 1));
	ASSERT_LT(0, st_run(t, 0, argv, empty, NULL, 0, &o));
	ASSERT_EQ(NULL, strstr(o.buf, "ABI_SHOULD_NOT_LEAK"));
	ASSERT_LT(0, st_run(t, 0, argv, NULL, NULL, 0, &o));
	st_select(o.buf, envsel, sel_a, sizeof(sel_a));
	ASSERT_STREQ("envc=0\n", sel_a);
}

TEST(argv_envp_exact)
{
	/* spec: spawn_template_spawn: argv/envp read from the caller's memory, passed as given */
	/* argv[1] is the probe's mode; the rest are the odd strings. */
	char *argv[] = { "first", "report", "", "with space", "x=y", NULL };
	char *envp[] = { "A=1", "B=", "", "NOEQUALS", NULL };
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	ASSERT_LT(0, st_run(t, 0, argv, envp, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	st_select(o.buf, argsel, sel_a, sizeof(sel_a));
	ASSERT_STREQ("argc=5\n"
		     "argv.0.len=5\nargv.0=first\n"
		     "argv.1.len=6\nargv.1=report\n"
		     "argv.2.len=0\nargv.2=\n"
		     "argv.3.len=10\nargv.3=with space\n"
		     "argv.4.len=3\nargv.4=x=y\n", sel_a);
	st_select(o.buf, envsel, sel_a, sizeof(sel_a));
	ASSERT_STREQ("envc=4\n"
		     "envp.0.len=3\nenvp.0=A=1\n"
		     "envp.1.len=2\nenvp.1=B=\n"
		     "envp.2.len=0\nenvp.2=\n"
		     "envp.3.len=8\nenvp.3=NOEQUALS\n", sel_a);
	/* And the same as execve gives. */
	ASSERT_LT(0, st_run_execve(st_helper("helper_probe"), argv, envp, &x));
	assert_same_as_execve(_metadata, envsel);
}

TEST(long_vectors)
{
	/* spec: spawn_template_spawn: long but valid argv and envp are passed whole */
	enum { N = 3000 };
	static char *argv[N + 1], *envp[N + 1];
	static char store[2 * N][24];
	char line[64];
	int t, i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	for (i = 0; i < N; i++) {
		snprintf(store[i], sizeof(store[i]), "arg%d", i);
		snprintf(store[N + i], sizeof(store[i]), "E%d=v%d", i, i);
		argv[i] = store[i];
		envp[i] = store[N + i];
	}
	/* argv[1] is the probe's mode. */
	argv[1] = "report";
	ASSERT_LT(0, st_run(t, 0, argv, envp, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	snprintf(line, sizeof(line), "argc=%d", N);
	ASSERT_TRUE(st_has_line(o.buf, line));
	snprintf(line, sizeof(line), "envc=%d", N);
	ASSERT_TRUE(st_has_line(o.buf, line));
	ASSERT_TRUE(st_has_line(o.buf, "argv.2999.len=7"));
	ASSERT_TRUE(st_has_line(o.buf, "argv.2999=arg2999"));
	ASSERT_TRUE(st_has_line(o.buf, "envp.2999.len=11"));
	ASSERT_TRUE(st_has_line(o.buf, "envp.2999=E2999=v2999"));
}

TEST(arg_max_strlen)
{
	/* spec: spawn_template_spawn: exec path limits: one argv string of MAX_ARG_STRLEN incl. NUL is accepted */
	static char big[ST_MAX_ARG_STRLEN];
	char *argv[] = { "probe", "report", big, NULL };
	char *envp[] = { big, NULL };
	char *none[] = { NULL };
	int t;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t = st_probe_template(_metadata);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_LT(0, st_run(t, 0, argv, none, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	ASSERT_TRUE(st_has_line(o.buf, "argv.2.len=131071"));
	/* The same limit for an environment string. */
	big[0] = 'B';
	big[1] = '=';
	ASSERT_LT(0, st_run(t, 0, argv, envp, NULL, 0, &o));
	ASSERT_EQ(ST_EXITED(0), o.status);
	ASSERT_TRUE(st_has_line(o.buf, "envp.0.len=131071"));
}

TEST_HARNESS_MAIN
