// SPDX-License-Identifier: GPL-2.0
/*
 * spawn_template_create(): argument handling (sizes and extensibility,
 * flags, reserved fields, execfd / filename rules) and the returned fd.
 * Every refusal is checked for its exact errno and for not leaking an fd.
 */
#include "common.h"

static const char *probe(void)
{
	return st_helper("helper_probe");
}

static void valid_args(struct spawn_template_create_args *a)
{
	memset(a, 0, sizeof(*a));
	a->execfd = -1;
	a->filename = ST_PTR(probe());
}

/* create(args, size) must fail with err and leave the fd table alone. */
#define CREATE_REFUSED(args, size, err)					\
	do {								\
		int __low = st_lowest_fd();				\
		int __r = sys_spawn_template_create((void *)(args), (size));	\
		int __e = errno;					\
		ASSERT_EQ(-1, __r) { if (__r >= 0) close(__r); }	\
		ASSERT_EQ((err), __e);					\
		ASSERT_EQ(__low, st_lowest_fd());			\
	} while (0)

#define CREATE_OK(args, size)						\
	do {								\
		int __r = sys_spawn_template_create((void *)(args), (size));	\
		ASSERT_LE(0, __r) TH_LOG("errno %d", errno);		\
		close(__r);						\
	} while (0)

TEST(size_zero)
{
	/* spec: spawn_template_create: size smaller than VER0: EINVAL */
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	CREATE_REFUSED(&a, 0, EINVAL);
}

TEST(size_below_ver0)
{
	/* spec: spawn_template_create: size smaller than VER0: EINVAL */
	struct spawn_template_create_args a;
	size_t sizes[] = { 1, 8, 64, SPAWN_TEMPLATE_CREATE_ARGS_SIZE_VER0 - 1 };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	for (i = 0; i < ST_NELEM(sizes); i++) {
		TH_LOG("size %zu", sizes[i]);
		CREATE_REFUSED(&a, sizes[i], EINVAL);
	}
}

TEST(size_ver0)
{
	/* spec: UAPI header: VER0 create size is 72 and is accepted */
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	CREATE_OK(&a, 72);
}

TEST(size_zero_tail)
{
	/* spec: spawn_template_create: larger than VER0, trailing zero bytes accepted */
	static char buf[4096];
	size_t sizes[] = { 73, 80, 128, 4096 };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args((struct spawn_template_create_args *)buf);
	for (i = 0; i < ST_NELEM(sizes); i++) {
		TH_LOG("size %zu", sizes[i]);
		CREATE_OK(buf, sizes[i]);
	}
}

TEST(size_nonzero_tail)
{
	/* spec: spawn_template_create: non-zero byte past VER0: E2BIG */
	static char buf[4096];
	size_t pos[] = { 72, 79, 4095 };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args((struct spawn_template_create_args *)buf);
	for (i = 0; i < ST_NELEM(pos); i++) {
		TH_LOG("non-zero byte at %zu, size 4096", pos[i]);
		buf[pos[i]] = 1;
		CREATE_REFUSED(buf, 4096, E2BIG);
		buf[pos[i]] = 0;
	}
	buf[72] = (char)0x80;
	CREATE_REFUSED(buf, 73, E2BIG);
	buf[72] = 0;
	CREATE_OK(buf, 4096);
}

TEST(size_above_page)
{
	/* spec: spawn_template_create: size larger than a page: E2BIG */
	static char buf[8192];

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args((struct spawn_template_create_args *)buf);
	CREATE_REFUSED(buf, 4097, E2BIG);
	CREATE_REFUSED(buf, 8192, E2BIG);
	CREATE_REFUSED(buf, (size_t)-1, E2BIG);
}

TEST(args_efault)
{
	/* spec: UAPI/copy_struct_from_user: unreadable args struct: EFAULT */
	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	CREATE_REFUSED(NULL, 72, EFAULT);
	CREATE_REFUSED(st_unmapped(), 72, EFAULT);
}

TEST(args_tail_efault)
{
	/* spec: spawn_template_create: bytes past VER0 are read (zero check); unreadable: EFAULT */
	char *page = st_page_before_hole();
	struct spawn_template_create_args *a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	ASSERT_NE(NULL, page);
	a = (void *)(page + 4096 - sizeof(*a));
	valid_args(a);
	CREATE_OK(a, sizeof(*a));
	CREATE_REFUSED(a, sizeof(*a) + 8, EFAULT);
	munmap(page, 4096);
}

TEST(unknown_flags)
{
	/* spec: spawn_template_create: unknown flags bits: EINVAL */
	struct spawn_template_create_args a;
	int bit;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	for (bit = 1; bit < 64; bit++) {
		valid_args(&a);
		a.flags = 1ULL << bit;
		TH_LOG("flags bit %d", bit);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
		a.flags |= SPAWN_TEMPLATE_CREATE_CLOEXEC;
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
}

TEST(exec_flags)
{
	/* spec: spawn_template_create: non-zero exec_flags: EINVAL */
	struct spawn_template_create_args a;
	int bit;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	for (bit = 0; bit < 32; bit++) {
		valid_args(&a);
		a.exec_flags = 1U << bit;
		TH_LOG("exec_flags bit %d", bit);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
	/* The execveat flags in particular, also with an execfd. */
	valid_args(&a);
	a.filename = 0;
	a.execfd = open(probe(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.execfd);
	a.exec_flags = AT_EMPTY_PATH;
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
	a.exec_flags = AT_SYMLINK_NOFOLLOW;
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
	close(a.execfd);
}

TEST(reserved)
{
	/* spec: spawn_template_create: any non-zero reserved[]: EINVAL */
	struct spawn_template_create_args a;
	int i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	for (i = 0; i < 4; i++) {
		valid_args(&a);
		a.reserved[i] = 1;
		TH_LOG("reserved[%d] = 1", i);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
		a.reserved[i] = 1ULL << 63;
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
}

TEST(create_actions)
{
	/* spec: spawn_template_create: non-zero actions (create-time actions reserved): EINVAL */
	struct spawn_template_action act = st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 3, 0, NULL);
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	a.actions = ST_PTR(&act);
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
	a.actions = 1;
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
}

TEST(create_actions_len)
{
	/* spec: spawn_template_create: non-zero actions_len (create-time actions reserved): EINVAL */
	struct spawn_template_action act = st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 3, 0, NULL);
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	a.actions_len = 1;
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
	a.actions = ST_PTR(&act);
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
}

TEST(neither_source)
{
	/* spec: spawn_template_create: neither execfd >= 0 nor filename: EINVAL */
	struct spawn_template_create_args a;
	int fds[] = { -1, AT_FDCWD, -2, INT32_MIN };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	for (i = 0; i < ST_NELEM(fds); i++) {
		valid_args(&a);
		a.filename = 0;
		a.execfd = fds[i];
		TH_LOG("execfd %d, filename 0", fds[i]);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
}

TEST(both_sources)
{
	/* spec: spawn_template_create: both execfd and filename: EINVAL */
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	a.execfd = open(probe(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.execfd);
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
	/* Also when execfd is 0 (a valid fd number). */
	ASSERT_EQ(0, dup2(a.execfd, 0));
	a.execfd = 0;
	CREATE_REFUSED(&a, sizeof(a), EINVAL);
}

TEST(relative_path)
{
	/* spec: spawn_template_create: filename must be absolute; relative: EINVAL */
	struct spawn_template_create_args a;
	char rel[PATH_MAX];
	const char *paths[] = { "usr/bin/true", "./helper_probe",
				"helper_probe", "", rel };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	/* A relative path that does name the probe from the cwd. */
	snprintf(rel, sizeof(rel), "%s", probe());
	*strrchr(rel, '/') = '\0';
	ASSERT_EQ(0, chdir(rel));
	snprintf(rel, sizeof(rel), "helper_probe");
	for (i = 0; i < ST_NELEM(paths); i++) {
		valid_args(&a);
		a.filename = ST_PTR(paths[i]);
		TH_LOG("filename \"%s\"", paths[i]);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
}

TEST(filename_efault)
{
	/* spec: spawn_template_create: bad filename pointer: EFAULT */
	struct spawn_template_create_args a;
	char *page = st_page_before_hole();

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	ASSERT_NE(NULL, page);
	valid_args(&a);
	a.filename = ST_PTR(st_unmapped());
	CREATE_REFUSED(&a, sizeof(a), EFAULT);
	a.filename = 1;
	CREATE_REFUSED(&a, sizeof(a), EFAULT);
	/* An unterminated string that runs into unmapped memory. */
	memset(page, 'a', 4096);
	page[4096 - 100] = '/';
	a.filename = ST_PTR(page + 4096 - 100);
	CREATE_REFUSED(&a, sizeof(a), EFAULT);
	munmap(page, 4096);
}

TEST(path_too_long)
{
	/* spec: spawn_template_create: filename longer than PATH_MAX: EINVAL */
	static char path[2 * PATH_MAX];
	struct spawn_template_create_args a;
	size_t lens[] = { PATH_MAX + 1, PATH_MAX + 100, sizeof(path) - 1 };
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	for (i = 0; i < ST_NELEM(lens); i++) {
		memset(path, 0, sizeof(path));
		memset(path, 'a', lens[i]);
		path[0] = '/';
		valid_args(&a);
		a.filename = ST_PTR(path);
		TH_LOG("path length %zu", lens[i]);
		CREATE_REFUSED(&a, sizeof(a), EINVAL);
	}
}

TEST(path_max_ok_len)
{
	/* spec: spawn_template_create: a path within PATH_MAX is looked up (missing: ENOENT, not EINVAL) */
	static char path[PATH_MAX];
	struct spawn_template_create_args a;
	size_t i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	/* "/a/a/.../a", PATH_MAX - 1 chars plus the NUL; /a does not exist. */
	for (i = 0; i < PATH_MAX - 1; i++)
		path[i] = (i % 2) ? 'a' : '/';
	path[PATH_MAX - 1] = '\0';
	ASSERT_NE(0, access("/a", F_OK));
	valid_args(&a);
	a.filename = ST_PTR(path);
	CREATE_REFUSED(&a, sizeof(a), ENOENT);
}

TEST(missing_file)
{
	/* spec: spawn_template_create: filename missing: ENOENT */
	struct spawn_template_create_args a;
	char dir[] = "/tmp/abi_create.XXXXXX", path[PATH_MAX];

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	/* A private /tmp: the directory goes with the check, even on failure. */
	st_scratch(_metadata, 0);
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing", dir);
	valid_args(&a);
	a.filename = ST_PTR(path);
	CREATE_REFUSED(&a, sizeof(a), ENOENT);
	snprintf(path, sizeof(path), "%s/nodir/missing", dir);
	CREATE_REFUSED(&a, sizeof(a), ENOENT);
}

TEST(execfd_closed)
{
	/* spec: spawn_template_create: execfd not open: EBADF */
	struct spawn_template_create_args a;
	int fd;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	fd = open(probe(), O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
	valid_args(&a);
	a.filename = 0;
	a.execfd = fd;
	CREATE_REFUSED(&a, sizeof(a), EBADF);
	a.execfd = 1 << 20;
	CREATE_REFUSED(&a, sizeof(a), EBADF);
	a.execfd = INT32_MAX;
	CREATE_REFUSED(&a, sizeof(a), EBADF);
}

TEST(execfd_opath)
{
	/* spec: spawn_template_create: an O_PATH execfd counts as not open: EBADF */
	struct spawn_template_create_args a;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	valid_args(&a);
	a.filename = 0;
	a.execfd = open(probe(), O_PATH | O_CLOEXEC);
	ASSERT_LE(0, a.execfd);
	CREATE_REFUSED(&a, sizeof(a), EBADF);
	close(a.execfd);
}

TEST(execfd_ok)
{
	/* spec: spawn_template_create: exactly one source, execfd >= 0: a template fd */
	struct spawn_template_create_args a;
	int fd, t, st, pidfd = -1;
	char *argv[] = { "probe", "exit", "7", NULL };
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	fd = open(probe(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	valid_args(&a);
	a.filename = 0;
	a.execfd = fd;
	t = sys_spawn_template_create(&a, sizeof(a));
	ASSERT_LE(0, t) TH_LOG("errno %d", errno);
	ASSERT_NE(fd, t);
	/* The template runs the probe: exit status 7 comes from it. */
	pid = st_spawn(t, 0, argv, NULL, NULL, 0, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("errno %d", errno);
	st = st_wait(pid);
	ASSERT_EQ(ST_EXITED(7), st);
	close(pidfd);
	close(t);
	close(fd);
}

TEST(cloexec_set)
{
	/* spec: UAPI header: SPAWN_TEMPLATE_CREATE_CLOEXEC gives a close-on-exec fd */
	int t, fd;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	t = spawn_template_create_path(probe(), SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, t);
	ASSERT_EQ(FD_CLOEXEC, fcntl(t, F_GETFD) & FD_CLOEXEC);
	close(t);
	fd = open(probe(), O_RDONLY);
	ASSERT_LE(0, fd);
	t = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, t);
	ASSERT_EQ(FD_CLOEXEC, fcntl(t, F_GETFD) & FD_CLOEXEC);
	close(t);
	close(fd);
}

TEST(cloexec_unset)
{
	/* spec: UAPI header: without SPAWN_TEMPLATE_CREATE_CLOEXEC the fd is not close-on-exec */
	int t, fd;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	t = spawn_template_create_path(probe(), 0);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, fcntl(t, F_GETFD) & FD_CLOEXEC);
	close(t);
	/* Even when the execfd itself is close-on-exec. */
	fd = open(probe(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	t = spawn_template_create_fd(fd, 0);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, fcntl(t, F_GETFD) & FD_CLOEXEC);
	close(t);
	close(fd);
}

TEST(anon_inode_name)
{
	/* spec: spawn_template_create: returns an anonymous inode named spawn_template */
	char link[64], target[256];
	struct stat st;
	ssize_t n;
	int t, fd, i;

	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	fd = open(probe(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		t = i ? spawn_template_create_fd(fd, 0) : spawn_template_create_path(probe(), 0);
		ASSERT_LE(0, t);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", t);
		n = readlink(link, target, sizeof(target) - 1);
		ASSERT_LT(0, n);
		target[n] = '\0';
		ASSERT_STREQ("anon_inode:spawn_template", target);
		/* Not the executable itself. */
		ASSERT_EQ(0, fstat(t, &st));
		ASSERT_FALSE(S_ISREG(st.st_mode));
		close(t);
	}
	close(fd);
}

TEST_HARNESS_MAIN
