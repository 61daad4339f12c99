// SPDX-License-Identifier: GPL-2.0
/*
 * Executable identity and exec security of spawn templates: noexec mounts,
 * the identity key (ESTALE after chmod/touch/chown/rename/unlink/remount,
 * attributes and inode flags; never after link() or unlink(); attributes
 * read with the kernel's rights for an unprivileged creator; a file system
 * without attributes), ESTALE only for a changed file, the write pin
 * (ETXTBSY through dup, fork and SCM_RIGHTS), execfd kinds that are not
 * regular files, scripts and non-ELF files, memfd execfds and their seals,
 * and what the child sees of itself (comm, /proc/self/exe, AT_EXECFN,
 * argv[0]).
 */
#include <elf.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include "common.h"

/* The probe's copy in the scratch tmpfs: its comm is PROBE_NAME. */
#define PROBE_NAME	"probe"
#define PROBE		ST_SCRATCH "/" PROBE_NAME

static char *const exit0[] = { "probe", "exit", "0", NULL };
static char *const report_argv[] = { "probe", "report", NULL };
static char *const noenv[] = { NULL };

/* The last report of the probe (key=value lines in report.buf). */
static struct st_out report;

/* Spawn @argv (mode "report") with its fd 1 captured: raw status, or -1. */
static int run_report(int tfd, char *const argv[], char *const envp[])
{
	if (st_run(tfd, 0, argv, envp, NULL, 0, &report) < 0)
		return -1;
	return report.status;
}

/* A template of @path, created from the path or from an fd open on it. */
static int create_from(bool by_fd, const char *path)
{
	int fd, tfd, e;

	if (!by_fd)
		return spawn_template_create_path(path, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	tfd = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	e = errno;
	close(fd);
	errno = e;
	return tfd;
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

/* ------------------------------------------------------------------ */
/* noexec at creation                                                  */

TEST(create_on_noexec_mount_eacces)
{
	/* spec: spawn_template_create(): on a mount without noexec, otherwise EACCES */
	int fd, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, MS_NOEXEC);
	st_copy_helper(_metadata, "helper_probe", PROBE, 0755);

	ASSERT_EQ(-1, spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EACCES, errno);
	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EACCES, errno);

	/* Control: the same file on the same mount, now exec: accepted. */
	ASSERT_EQ(0, mount(NULL, ST_SCRATCH, NULL, MS_REMOUNT | MS_BIND, NULL));
	tfd = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create after remount exec: %m");
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));
	close(tfd);
	close(fd);
}

/*
 * A regular, executable file on an exec mount that cannot be mapped: a
 * file of a tracing instance made for the check, chmod 0755, on a tracefs
 * mounted by the check (the system's may be noexec). tracefs is one
 * superblock: the instance is seen everywhere and removed by the parent.
 */
#define SYS_TRACING	"/sys/kernel/tracing"
#define MY_TRACING	ST_SCRATCH "/tracing"

FIXTURE(unmappable) {
	char name[48];
	char inst[128];
	int made;
};

FIXTURE_SETUP(unmappable)
{
	self->made = 0;
	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkdir(MY_TRACING, 0755));
	if (mount("nodev", MY_TRACING, "tracefs", 0, NULL))
		SKIP(return, "tracefs not available (mount: %s)", strerror(errno));
	snprintf(self->name, sizeof(self->name), "st_unmappable_%d", getpid());
	snprintf(self->inst, sizeof(self->inst), MY_TRACING "/instances/%s",
		 self->name);
	if (mkdir(self->inst, 0755))
		SKIP(return, "no tracing instances (mkdir: %s)", strerror(errno));
	self->made = 1;
}

/* In the parent, after a failed ASSERT too (README.md). */
FIXTURE_TEARDOWN_PARENT(unmappable)
{
	char path[128];

	if (!self->made)
		return;
	if (access(SYS_TRACING "/instances", F_OK) &&
	    (unshare(CLONE_NEWNS) ||
	     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     mount("nodev", SYS_TRACING, "tracefs", 0, NULL))) {
		TH_LOG("cannot reach tracefs to remove instance %s: %m", self->name);
		return;
	}
	snprintf(path, sizeof(path), SYS_TRACING "/instances/%s", self->name);
	if (rmdir(path) && errno != ENOENT)
		TH_LOG("rmdir %s: %m", path);
}

TEST_F(unmappable, create_eacces)
{
	/* spec: spawn_template_create(): the file must be a regular file, executable, on a mount without noexec, and mmap-able; otherwise EACCES */
	char path[160];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/trace_marker", self->inst);
	ASSERT_EQ(0, chmod(path, 0755)) TH_LOG("chmod %s: %m", path);
	/* Every other condition holds: only the mapping is missing. */
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, access(path, X_OK));
	ASSERT_EQ(-1, spawn_template_create_path(path, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EACCES, errno)
		TH_LOG("spec: a file that cannot be mapped is EACCES (path): got %s",
		       strerrorname_np(errno));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %m", path);
	ASSERT_EQ(-1, spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EACCES, errno)
		TH_LOG("spec: a file that cannot be mapped is EACCES (execfd): got %s",
		       strerrorname_np(errno));
	ASSERT_EQ(0, close(fd));
	/* The parent removes it if we fail before this. */
	ASSERT_EQ(0, rmdir(self->inst)) TH_LOG("rmdir %s: %m", self->inst);
	self->made = 0;
}

/* ------------------------------------------------------------------ */
/* The identity key: ESTALE after a change, for both origins           */

FIXTURE(stale) {
	int tfd;
	ino_t ino;
};

ST_ORIGIN_VARIANTS(stale);

/*
 * The probe's copy at PROBE in a scratch tmpfs and a template of it, from
 * the path or from an fd: the template runs before any change.
 */
static int probe_origin_template(struct __test_metadata *_metadata,
				 bool by_fd)
{
	int tfd;

	st_scratch_probe(_metadata, PROBE);
	tfd = create_from(by_fd, PROBE);
	ASSERT_LE(0, tfd) TH_LOG("create: %m");
	/* Control: the template runs before the change. */
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));
	return tfd;
}

FIXTURE_SETUP(stale)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->tfd = probe_origin_template(_metadata, variant->by_fd);
	self->ino = ino_of(PROBE);
}

FIXTURE_TEARDOWN(stale)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

/* The template is stale: ESTALE, no child, pidfd slot untouched. */
static void assert_stale(struct __test_metadata *_metadata, int tfd)
{
	int pidfd = -1234;
	int before = st_fd_count(0);

	ASSERT_EQ(-1, st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd));
	ASSERT_EQ(ESTALE, errno);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	ASSERT_EQ(before, st_fd_count(0));
}

/* A fresh template for the path runs the file now at the path. */
static void assert_fresh_runs(struct __test_metadata *_metadata,
			      const FIXTURE_VARIANT(stale) *variant)
{
	int tfd = create_from(variant->by_fd, PROBE);

	ASSERT_LE(0, tfd) TH_LOG("fresh create: %m");
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, report_argv, noenv));
	ASSERT_NE(NULL, st_kv(report.buf, "exe_ino"));
	ASSERT_EQ((unsigned long long)ino_of(PROBE),
		  strtoull(st_kv(report.buf, "exe_ino"), NULL, 10));
	close(tfd);
}

TEST_F(stale, chmod)
{
	/* spec: spawn_template_spawn(): identity key re-checked (mode): chmod -> ESTALE */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, chmod(PROBE, 0700));
	assert_stale(_metadata, self->tfd);
	assert_fresh_runs(_metadata, variant);
}

TEST_F(stale, touch)
{
	/* spec: spawn_template_spawn(): identity key re-checked (mtime): touch -> ESTALE */
	struct timespec ts[2] = { { 1000000, 0 }, { 1000000, 0 } };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, utimensat(AT_FDCWD, PROBE, ts, 0));
	assert_stale(_metadata, self->tfd);
	assert_fresh_runs(_metadata, variant);
}

TEST_F(stale, chown)
{
	/* spec: spawn_template_spawn(): identity key re-checked (uid/gid): chown -> ESTALE */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, chown(PROBE, 65534, 65534));
	assert_stale(_metadata, self->tfd);
	assert_fresh_runs(_metadata, variant);
}

TEST_F(stale, remount_noexec)
{
	/* spec: spawn_template_spawn(): must still be on a mount without noexec: remount noexec -> ESTALE */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, mount(NULL, ST_SCRATCH, NULL,
			   MS_REMOUNT | MS_BIND | MS_NOEXEC, NULL));
	assert_stale(_metadata, self->tfd);
	/* A new template is refused at creation while noexec... */
	ASSERT_EQ(-1, create_from(variant->by_fd, PROBE));
	ASSERT_EQ(EACCES, errno);
	/* ...and accepted again once the mount is exec. */
	ASSERT_EQ(0, mount(NULL, ST_SCRATCH, NULL, MS_REMOUNT | MS_BIND, NULL));
	assert_fresh_runs(_metadata, variant);
}

TEST_F(stale, unlink)
{
	/* spec: spawn_template_spawn(): unlink of a path-created template's file -> ESTALE; an execfd one is not bound to a path and still runs */
	int r, e;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, unlink(PROBE));
	if (!variant->by_fd) {
		assert_stale(_metadata, self->tfd);
		return;
	}
	r = run_report(self->tfd, report_argv, noenv);
	e = errno;
	ASSERT_EQ(ST_EXITED(0), r)
		TH_LOG("spawn of the unlinked execfd template: %s",
		       r == -1 ? strerror(e) : "child failed");
	ASSERT_NE(NULL, st_kv(report.buf, "exe_ino"));
	ASSERT_EQ((unsigned long long)self->ino,
		  strtoull(st_kv(report.buf, "exe_ino"), NULL, 10));
}

/* ------------------------------------------------------------------ */
/* The key and the link count: ctime moves with both                   */

/*
 * Spec 1.1: a ctime change that only comes with a link-count change is
 * not a change; any other change is ESTALE, also when it comes together
 * with a link or an unlink, where ctime cannot tell them apart. Variants:
 * origin x what happens to the link count at the same time. For "unlink"
 * the file has a second name before the template exists, and that name
 * goes: a path-created template keeps a valid path.
 */
enum link_op { LINK_NONE, LINK_ADD, LINK_DROP };
static const char *const link_ops[] = { "unchanged", "link()", "unlink()" };

#define PROBE_LINK	ST_SCRATCH "/probe.link"

FIXTURE(key) {
	int tfd;
};

FIXTURE_VARIANT(key) {
	bool by_fd;
	enum link_op link_op;
};

#define KEY_VARIANT(name, fd, op)					\
	FIXTURE_VARIANT_ADD(key, name) {				\
		.by_fd = fd, .link_op = op,				\
	}
KEY_VARIANT(path, false, LINK_NONE);
KEY_VARIANT(path_link, false, LINK_ADD);
KEY_VARIANT(path_unlink, false, LINK_DROP);
KEY_VARIANT(execfd, true, LINK_NONE);
KEY_VARIANT(execfd_link, true, LINK_ADD);
KEY_VARIANT(execfd_unlink, true, LINK_DROP);

FIXTURE_SETUP(key)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	if (variant->link_op == LINK_DROP)
		ASSERT_EQ(0, link(PROBE, PROBE_LINK));
	self->tfd = create_from(variant->by_fd, PROBE);
	ASSERT_LE(0, self->tfd) TH_LOG("create: %m");
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, exit0));
	/*
	 * ctime has a clock tick's granularity: let one pass, so that a
	 * change below moves ctime for sure and only the rule decides.
	 */
	usleep(20000);
}

/* Inode flags of @path (chattr), through an fd open for reading; 0/errno. */
static int get_iflags(const char *path, int *flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, flags))
		e = errno;
	close(fd);
	return e;
}

/* Set them: an fd open for reading is enough for root. 0/errno. */
static int set_iflags(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
		e = errno;
	close(fd);
	return e;
}

FIXTURE_TEARDOWN(key)
{
	int flags;

	if (self->tfd >= 0)
		close(self->tfd);
	/*
	 * The chattr checks' flags. The scratch tmpfs is the check's own and
	 * goes with its mount namespace, flags and all, also when a failed
	 * ASSERT skips this: clearing them here is only tidiness.
	 */
	if (!get_iflags(PROBE, &flags) &&
	    (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)))
		set_iflags(PROBE, flags & ~(FS_IMMUTABLE_FL | FS_APPEND_FL));
}

/* What happens to the link count, with the change or alone. */
static void link_op(struct __test_metadata *_metadata,
		    const FIXTURE_VARIANT(key) *variant)
{
	if (variant->link_op == LINK_ADD)
		ASSERT_EQ(0, link(PROBE, PROBE_LINK));
	if (variant->link_op == LINK_DROP)
		ASSERT_EQ(0, unlink(PROBE_LINK));
}

/* Spawn exit0 from @tfd: 0 when it ran (reaped), else the spawn's errno. */
static int spawn_result(int tfd)
{
	int pidfd = -1;

	if (st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd) < 0)
		return errno;
	st_wait_pidfd(pidfd);
	return 0;
}

/* After @what: ESTALE, no child, no fd; the message names the rule. */
#define ASSERT_KEY_STALE(what)						\
	do {								\
		int __fds = st_fd_count(0), __e;			\
									\
		__e = spawn_result(self->tfd);				\
		ASSERT_EQ(ESTALE, __e)					\
			TH_LOG("spec 1.2: any change but a link's or an unlink's is ESTALE, also together with one: %s (link count: %s) gave %s", \
			       what, link_ops[variant->link_op],	\
			       __e ? strerrorname_np(__e) : "a spawn"); \
		ASSERT_EQ(0, st_child_evidence());			\
		ASSERT_EQ(__fds, st_fd_count(0));			\
	} while (0)

/* setxattr() that the file system may not offer: a skip, not a pass. */
#define SETXATTR(name, value, len)					\
	do {								\
		if (setxattr(PROBE, name, value, len, 0) && errno == EOPNOTSUPP) \
			SKIP(return, "no %s on tmpfs (CONFIG_TMPFS_XATTR, _POSIX_ACL)", name); \
		ASSERT_EQ(0, setxattr(PROBE, name, value, len, 0))	\
			TH_LOG("setxattr %s: %m", name);		\
	} while (0)

TEST_F(key, link_count_alone_runs)
{
	/* spec: spawn_template_create(): identity key: a ctime change that comes only with a link-count change is not a change */
	link_op(_metadata, variant);
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, exit0))
		TH_LOG("spawn after a link-count change alone: %m");
}

TEST_F(key, user_xattr)
{
	/* spec: spawn_template_create(): identity key: a setxattr() is a change (ESTALE), also with a link or unlink */
	SETXATTR("user.st", "1", 1);
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("setxattr(user.st)");
}

TEST_F(key, acl)
{
	/* spec: spawn_template_create(): identity key: an ACL is a change (ESTALE), also with a link or unlink */
	struct {
		struct posix_acl_xattr_header h;
		struct posix_acl_xattr_entry e[5];
	} acl = {
		.h = { .a_version = POSIX_ACL_XATTR_VERSION },
		/* Mode bits stay 0755: the mask is r-x like the group's. */
		.e = {
			{ ACL_USER_OBJ, 7, ACL_UNDEFINED_ID },
			{ ACL_USER, 5, ST_NOBODY },
			{ ACL_GROUP_OBJ, 5, ACL_UNDEFINED_ID },
			{ ACL_MASK, 5, ACL_UNDEFINED_ID },
			{ ACL_OTHER, 5, ACL_UNDEFINED_ID },
		},
	};
	struct stat before, after;

	ASSERT_EQ(0, stat(PROBE, &before));
	SETXATTR("system.posix_acl_access", &acl, sizeof(acl));
	ASSERT_EQ(0, stat(PROBE, &after));
	ASSERT_EQ(before.st_mode, after.st_mode) TH_LOG("the ACL moved the mode");
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("an ACL");
}

TEST_F(key, setcap)
{
	/* spec: spawn_template_create(): identity key: setcap (security.capability) is a change (ESTALE), also with a link or unlink */
	struct vfs_cap_data cap = {
		.magic_etc = VFS_CAP_REVISION_2,
		.data = { { .permitted = 1U << CAP_NET_RAW } },
	};

	SETXATTR("security.capability", &cap, XATTR_CAPS_SZ_2);
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("setcap");
}

TEST_F(key, mtime)
{
	/* spec: spawn_template_create(): identity key: a new mtime is a change (ESTALE), also with a link or unlink */
	struct timespec ts[2] = { { 2000000, 0 }, { 2000000, 0 } };

	ASSERT_EQ(0, utimensat(AT_FDCWD, PROBE, ts, 0));
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("a new mtime");
}

TEST_F(key, mode)
{
	/* spec: spawn_template_create(): identity key: a new mode is a change (ESTALE), also with a link or unlink */
	ASSERT_EQ(0, chmod(PROBE, 0711));
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("chmod");
}

TEST_F(key, owner)
{
	/* spec: spawn_template_create(): identity key: a new owner is a change (ESTALE), also with a link or unlink */
	ASSERT_EQ(0, chown(PROBE, 0, ST_NOBODY));
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("chown");
}

TEST_F(key, owner_uid)
{
	/* spec: spawn_template_create(): identity key: owner uid/gid: a new owner uid alone is a change (ESTALE), also with a link or unlink */
	ASSERT_EQ(0, chown(PROBE, ST_NOBODY, (gid_t)-1));
	link_op(_metadata, variant);
	ASSERT_KEY_STALE("chown of the owner uid");
}

/*
 * chattr +@flag, together with what the variant does to the link count:
 * that comes first, as an immutable or append-only inode refuses link()
 * and unlink(). Nothing else of the key moves but ctime.
 */
static void chattr_stale(struct __test_metadata *_metadata,
			 FIXTURE_DATA(key) *self,
			 const FIXTURE_VARIANT(key) *variant,
			 int flag, const char *what)
{
	struct stat before, after;
	int flags, e, tfd;

	e = get_iflags(PROBE, &flags);
	if (e == EOPNOTSUPP || e == ENOTTY)
		SKIP(return, "no inode flags on tmpfs (FS_IOC_GETFLAGS: %s)",
		     strerrorname_np(e));
	ASSERT_EQ(0, e) TH_LOG("FS_IOC_GETFLAGS: %s", strerror(e));
	ASSERT_EQ(0, flags & flag) TH_LOG("%s is already set", what);
	link_op(_metadata, variant);
	ASSERT_EQ(0, stat(PROBE, &before));
	e = set_iflags(PROBE, flags | flag);
	if (e == EOPNOTSUPP || e == ENOTTY)
		SKIP(return, "tmpfs cannot set %s (FS_IOC_SETFLAGS: %s)", what,
		     strerrorname_np(e));
	ASSERT_EQ(0, e) TH_LOG("chattr %s: %s", what, strerror(e));
	ASSERT_EQ(0, get_iflags(PROBE, &flags));
	ASSERT_EQ(flag, flags & flag) TH_LOG("%s did not stick", what);
	ASSERT_EQ(0, stat(PROBE, &after));
	ASSERT_EQ(before.st_mode, after.st_mode);
	ASSERT_EQ(before.st_size, after.st_size);
	ASSERT_EQ(before.st_uid, after.st_uid);
	ASSERT_EQ(before.st_gid, after.st_gid);
	ASSERT_TRUE(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
		TH_LOG("chattr moved mtime: only the flags may tell");
	ASSERT_KEY_STALE(what);
	/* Control: the flag is no obstacle to a template made now. */
	tfd = create_from(variant->by_fd, PROBE);
	ASSERT_LE(0, tfd) TH_LOG("create after %s: %m", what);
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0))
		TH_LOG("spawn of a template made after %s: %m", what);
	close(tfd);
}

TEST_F(key, chattr_immutable)
{
	/* spec: spawn_template_create(): identity key: its inode flags: chattr +i (FS_IMMUTABLE_FL) is a change (ESTALE), also with a link or unlink */
	chattr_stale(_metadata, self, variant, FS_IMMUTABLE_FL, "chattr +i");
}

TEST_F(key, chattr_append)
{
	/* spec: spawn_template_create(): identity key: its inode flags: chattr +a (FS_APPEND_FL) is a change (ESTALE), also with a link or unlink */
	chattr_stale(_metadata, self, variant, FS_APPEND_FL, "chattr +a");
}

TEST(rename_replace_path_estale)
{
	/* spec: spawn_template_spawn(): a path-created template re-opens its path, which must name the same executable: replace by rename -> ESTALE */
	int tfd, pidfd = -1;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));

	/* Identical bytes, mode and owner: only the inode differs. */
	st_copy_helper(_metadata, "helper_probe", PROBE ".new", 0755);
	ASSERT_EQ(0, rename(PROBE ".new", PROBE));
	ASSERT_EQ(-1, st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd));
	ASSERT_EQ(ESTALE, errno);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	close(tfd);

	/* A new template for the path runs the new file. */
	tfd = spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, report_argv, noenv));
	ASSERT_EQ((unsigned long long)ino_of(PROBE),
		  strtoull(st_kv(report.buf, "exe_ino") ?: "0", NULL, 10));
	close(tfd);
}

TEST(rename_away_path_estale)
{
	/* spec: spawn_template_spawn(): a path-created template's path must still name the executable: renamed away -> ESTALE */
	int tfd, pidfd = -1;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(tfd, exit0));
	ASSERT_EQ(0, rename(PROBE, ST_SCRATCH "/elsewhere"));
	ASSERT_EQ(-1, st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd));
	ASSERT_EQ(ESTALE, errno);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* Links never count                                                    */

/*
 * Spec 1.2: link() and unlink() never make a template stale, however
 * often they run, whether or not the link count ends where it started
 * (then ctime alone moved), and whichever name goes.
 */
FIXTURE(links) {
	int tfd;
};

ST_ORIGIN_VARIANTS(links);

FIXTURE_SETUP(links)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->tfd = probe_origin_template(_metadata, variant->by_fd);
}

FIXTURE_TEARDOWN(links)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

/* The template still runs after @step (a link() or unlink()). */
static void assert_runs_after(struct __test_metadata *_metadata, int tfd,
			      const char *step)
{
	int r = st_spawn_wait(tfd, exit0), e = errno;

	ASSERT_EQ(ST_EXITED(0), r)
		TH_LOG("spec 1.2: link() and unlink() never make a template stale: after %s: %s",
		       step, r == -1 ? strerrorname_np(e) : "the child failed");
}

TEST_F(links, back_and_forth_never_stale)
{
	/* spec: spawn_template_create(): identity key: link() and unlink() never make a template stale, however often they run and whether or not the link count ends where it started */
	struct stat before, now;
	char step[96];
	int i;

	ASSERT_EQ(0, stat(PROBE, &before));
	for (i = 1; i <= 3; i++) {
		/* A clock tick before each: each one moves ctime for sure. */
		usleep(20000);
		ASSERT_EQ(0, link(PROBE, PROBE_LINK));
		snprintf(step, sizeof(step), "link() %d of 3 (link count 2)", i);
		assert_runs_after(_metadata, self->tfd, step);
		usleep(20000);
		ASSERT_EQ(0, unlink(PROBE_LINK));
		ASSERT_EQ(0, stat(PROBE, &now));
		ASSERT_EQ(before.st_nlink, now.st_nlink);
		ASSERT_FALSE(before.st_ctim.tv_sec == now.st_ctim.tv_sec &&
			     before.st_ctim.tv_nsec == now.st_ctim.tv_nsec)
			TH_LOG("ctime did not move: the round would show nothing");
		snprintf(step, sizeof(step),
			 "unlink() %d of 3 (link count back where it started, ctime moved)",
			 i);
		assert_runs_after(_metadata, self->tfd, step);
	}
}

TEST_F(links, link_then_unlink_original_name)
{
	/* spec: spawn_template_create(): identity key: link() and unlink() never make a template stale, also an unlink of the name it was created from; spawn_template_spawn(): a path-created template then goes stale, as its path no longer names the file */
	ino_t ino = ino_of(PROBE);
	int r, e;

	usleep(20000);
	ASSERT_EQ(0, link(PROBE, PROBE_LINK));
	assert_runs_after(_metadata, self->tfd, "link() to a second name");
	usleep(20000);
	ASSERT_EQ(0, unlink(PROBE));
	if (!variant->by_fd) {
		assert_stale(_metadata, self->tfd);
		return;
	}
	/* The file lives on under its second name, the count where it began. */
	r = run_report(self->tfd, report_argv, noenv);
	e = errno;
	ASSERT_EQ(ST_EXITED(0), r)
		TH_LOG("spec 1.2: link() and unlink() never make a template stale: after the unlink of the original name (link count back to 1): %s",
		       r == -1 ? strerrorname_np(e) : "the child failed");
	ASSERT_EQ((unsigned long long)ino,
		  strtoull(st_kv_str(report.buf, "exe_ino"), NULL, 10));
}

/* ------------------------------------------------------------------ */
/* An unprivileged creator                                              */

/*
 * A template made by uid ST_NOBODY, of a root-owned 0755 copy of the probe
 * in a root-owned 0755 directory. The template is bound to the creator's
 * credential object, so the creator is a child of the check that drops
 * to nobody and creates and spawns on request; the check stays root and
 * changes the file or its directory between requests.
 */
#define NB_DIR		ST_SCRATCH "/dir"
#define NB_PROBE	NB_DIR "/probe"
#define NB_LINK		NB_DIR "/probe.link"

struct nobody_reply {
	int ret;	/* 0, or -1 with err */
	int err;
	int status;	/* a spawn's child: raw wait status */
	int evidence;	/* a refused spawn: st_child_evidence() */
};

/* The creator: 'c' creates the template, 's' spawns exit0 from it. */
static void nobody_main(int sock, bool by_fd)
{
	struct nobody_reply r;
	int tfd = -1, pidfd;
	char cmd;

	if (st_drop_to_nobody())
		_exit(2);
	/* After the drop, which clears it; the end of file stops us too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read(sock, &cmd, 1) == 1) {
		memset(&r, 0, sizeof(r));
		r.status = -1;
		if (cmd == 'c') {
			tfd = create_from(by_fd, NB_PROBE);
			r.ret = tfd < 0 ? -1 : 0;
			r.err = tfd < 0 ? errno : 0;
		} else {
			pidfd = -1;
			if (st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd) < 0) {
				r.ret = -1;
				r.err = errno;
				r.evidence = st_child_evidence();
			} else {
				r.status = st_wait_pidfd(pidfd);
			}
		}
		if (write(sock, &r, sizeof(r)) != sizeof(r))
			_exit(3);
	}
	_exit(0);
}

FIXTURE(nobody) {
	pid_t pid;
	int sock;
};

ST_ORIGIN_VARIANTS(nobody);

FIXTURE_SETUP(nobody)
{
	int sv[2];

	self->pid = -1;
	self->sock = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkdir(NB_DIR, 0755));
	ASSERT_EQ(0, chmod(NB_DIR, 0755));
	st_copy_helper(_metadata, "helper_probe", NB_PROBE, 0755);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		close(sv[0]);
		nobody_main(sv[1], variant->by_fd);
	}
	close(sv[1]);
	self->sock = sv[0];
}

FIXTURE_TEARDOWN(nobody)
{
	if (self->sock >= 0)
		close(self->sock);	/* the creator's end of file */
	if (self->pid > 0)
		st_wait(self->pid);
}

static struct nobody_reply nobody_ask(struct __test_metadata *_metadata,
				      FIXTURE_DATA(nobody) *self, char cmd)
{
	struct nobody_reply r;

	ASSERT_EQ(1, write(self->sock, &cmd, 1));
	ASSERT_EQ((ssize_t)sizeof(r), read(self->sock, &r, sizeof(r)))
		TH_LOG("the unprivileged creator died (could it drop to %d?)",
		       ST_NOBODY);
	return r;
}

/* The unprivileged creator makes its template, which runs. */
static void nobody_create(struct __test_metadata *_metadata,
			  FIXTURE_DATA(nobody) *self)
{
	struct nobody_reply r = nobody_ask(_metadata, self, 'c');

	ASSERT_EQ(0, r.ret)
		TH_LOG("create by uid %d: %s", ST_NOBODY, strerrorname_np(r.err));
	r = nobody_ask(_metadata, self, 's');
	ASSERT_EQ(0, r.ret)
		TH_LOG("spawn by uid %d: %s", ST_NOBODY, strerrorname_np(r.err));
	ASSERT_EQ(ST_EXITED(0), r.status);
	/* A clock tick: what the check changes next moves ctime for sure. */
	usleep(20000);
}

/* Its template still runs. */
static void nobody_runs(struct __test_metadata *_metadata,
			FIXTURE_DATA(nobody) *self, const char *after)
{
	struct nobody_reply r = nobody_ask(_metadata, self, 's');

	ASSERT_EQ(0, r.ret)
		TH_LOG("spawn by uid %d after %s: %s", ST_NOBODY, after,
		       strerrorname_np(r.err));
	ASSERT_EQ(ST_EXITED(0), r.status);
}

/* Its template is refused with @err, and no child exists. */
static void nobody_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(nobody) *self, int err,
			   const char *rule)
{
	struct nobody_reply r = nobody_ask(_metadata, self, 's');

	ASSERT_EQ(-1, r.ret)
		TH_LOG("%s: the unprivileged creator's spawn ran (status 0x%x)",
		       rule, r.status);
	ASSERT_EQ(err, r.err)
		TH_LOG("%s: want %s, got %s", rule, strerrorname_np(err),
		       strerrorname_np(r.err));
	ASSERT_EQ(0, r.evidence) TH_LOG("a child exists (evidence 0x%x)",
					r.evidence);
}

/* Root sets trusted.st on the probe; false (a skip) where tmpfs has none. */
static bool set_trusted(struct __test_metadata *_metadata)
{
	if (setxattr(NB_PROBE, "trusted.st", "1", 1, 0) && errno == EOPNOTSUPP)
		SKIP(return false, "no trusted.* on tmpfs (CONFIG_TMPFS_XATTR)");
	ASSERT_EQ(0, setxattr(NB_PROBE, "trusted.st", "1", 1, 0))
		TH_LOG("setxattr trusted.st: %m");
	return true;
}

#define RULE_TRUSTED "spec 1.2: attributes are read with the kernel's rights: a trusted.* attribute set on an unprivileged creator's file is a change (ESTALE)"

TEST_F(nobody, trusted_xattr)
{
	/* spec: spawn_template_create(): identity key: read with the kernel's rights: an unprivileged creator's template sees trusted.*: setting one is a change (ESTALE) */
	nobody_create(_metadata, self);
	if (!set_trusted(_metadata))
		return;
	nobody_refused(_metadata, self, ESTALE, RULE_TRUSTED);
}

TEST_F(nobody, trusted_xattr_with_link)
{
	/* spec: spawn_template_create(): identity key: read with the kernel's rights: an unprivileged creator's template sees trusted.*: setting one is a change (ESTALE), also together with a link() */
	nobody_create(_metadata, self);
	ASSERT_EQ(0, link(NB_PROBE, NB_LINK));
	if (!set_trusted(_metadata))
		return;
	nobody_refused(_metadata, self, ESTALE,
		       RULE_TRUSTED ", also together with a link()");
}

TEST_F(nobody, create_with_trusted_xattr)
{
	/* spec: spawn_template_create(): identity key: the attributes are read with the kernel's rights: reading them never fails for an unprivileged creator (a file carrying trusted.*) */
	if (!set_trusted(_metadata))
		return;
	nobody_create(_metadata, self);
	nobody_runs(_metadata, self, "a second spawn");
}

TEST_F(nobody, lookup_eacces_is_not_estale)
{
	/* spec: spawn_template_spawn(): ESTALE means only that the file changed: a lookup error other than the path being gone (EACCES, no search permission on its directory) is returned as it is, with no child; an execfd template looks up no path */
	nobody_create(_metadata, self);
	/* Root-owned 0700: uid nobody may no longer search the directory. */
	ASSERT_EQ(0, chmod(NB_DIR, 0700));
	if (variant->by_fd)
		nobody_runs(_metadata, self, "its directory became 0700");
	else
		nobody_refused(_metadata, self, EACCES,
			       "spec 1.2: ESTALE means only that the file changed: the re-lookup of the path failed with EACCES (its directory lost search permission), returned as it is");
	/* The file never changed: with the permission back, it runs. */
	ASSERT_EQ(0, chmod(NB_DIR, 0755));
	nobody_runs(_metadata, self, "its directory became 0755 again");
}

/* ------------------------------------------------------------------ */
/* A file system without extended attributes                            */

/*
 * Spec 1.2: a file system without extended attributes, or one where a
 * security module names a label that the file system cannot store, has
 * none: creation succeeds (never EOPNOTSUPP). ramfs has no xattr
 * handlers; a labelling module (Smack, SELinux) still lists its label on
 * every inode (security_inode_listsecurity()), which ramfs cannot return
 * through the file system's own handlers.
 */
#define RAMFS		ST_SCRATCH "/ramfs"
#define RAM_PROBE	RAMFS "/probe"
#define LSM_LIST	"/sys/kernel/security/lsm"

/* The active security modules (LSM_LIST), mounting securityfs if needed. */
static int active_lsms(char *buf, size_t len)
{
	int fd = open(LSM_LIST, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT &&
	    !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		fd = open(LSM_LIST, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	st_read_all(fd, buf, len);
	close(fd);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Is @name one of the comma-separated @list? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s;

	for (s = list; s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL) {
		if (!strncmp(s, name, n) && (s[n] == ',' || s[n] == '\0'))
			return true;
	}
	return false;
}

FIXTURE(xattrless) {
	int tfd;
};

ST_ORIGIN_VARIANTS(xattrless);

FIXTURE_SETUP(xattrless)
{
	char lsms[256];

	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* The scratch space's private mount namespace holds the ramfs too. */
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, active_lsms(lsms, sizeof(lsms)))
		TH_LOG("cannot read %s: %m", LSM_LIST);
	if (!in_list(lsms, "smack") && !in_list(lsms, "selinux"))
		SKIP(return, "needs --kconfig smack (a security module that labels files); active: %s",
		     lsms);
	ASSERT_EQ(0, mkdir(RAMFS, 0755));
	ASSERT_EQ(0, mount("st", RAMFS, "ramfs", 0, "mode=0755"))
		TH_LOG("mount ramfs: %m");
	st_copy_helper(_metadata, "helper_probe", RAM_PROBE, 0755);
	/* The premise: the file system stores no attribute. */
	ASSERT_EQ(-1, setxattr(RAM_PROBE, "user.st", "1", 1, 0));
	ASSERT_EQ(EOPNOTSUPP, errno);
	TH_LOG("security modules: %s", lsms);
}

FIXTURE_TEARDOWN(xattrless)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

TEST_F(xattrless, create_under_labelling_lsm)
{
	/* spec: spawn_template_create(): identity key: a file system without extended attributes, under a security module that labels files, has none: creation succeeds (never EOPNOTSUPP) */
	int e;

	self->tfd = create_from(variant->by_fd, RAM_PROBE);
	e = errno;
	ASSERT_LE(0, self->tfd)
		TH_LOG("spec 1.2: a file system without extended attributes has none: creation succeeds, never EOPNOTSUPP: got %s",
		       strerrorname_np(e));
	/* The spawn re-reads the key: it must not fail on the label either. */
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv))
		TH_LOG("spawn: %s", strerrorname_np(report.err));
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, exit0))
		TH_LOG("second spawn: %m");
}

/* ------------------------------------------------------------------ */
/* The write pin                                                       */

TEST(create_while_open_for_write_etxtbsy)
{
	/* spec: spawn_template_create(): the file is currently open for writing by anyone: ETXTBSY */
	int w, r, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	w = open(PROBE, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, w);
	r = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, r);
	ASSERT_EQ(-1, spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(-1, spawn_template_create_fd(r, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	close(w);
	tfd = spawn_template_create_fd(r, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create after the writer closed: %m");
	close(tfd);
	close(r);
}

FIXTURE(pin) {
	int tfd;
};

ST_ORIGIN_VARIANTS(pin);

FIXTURE_SETUP(pin)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	/* Control: writable before any template exists. */
	ASSERT_EQ(0, st_write_errno(PROBE));
	/* Not CLOEXEC: irrelevant to fork, and keeps the tests explicit. */
	if (variant->by_fd) {
		int fd = open(PROBE, O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, fd);
		self->tfd = spawn_template_create_fd(fd, 0);
		close(fd);	/* the template is now the only reference */
	} else {
		self->tfd = spawn_template_create_path(PROBE, 0);
	}
	ASSERT_LE(0, self->tfd) TH_LOG("create: %m");
}

FIXTURE_TEARDOWN(pin)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

static void assert_pinned(struct __test_metadata *_metadata)
{
	struct stat st0, st1;

	ASSERT_EQ(0, stat(PROBE, &st0));
	ASSERT_EQ(ETXTBSY, st_write_errno(PROBE));
	ASSERT_EQ(-1, open(PROBE, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(-1, open(PROBE, O_WRONLY | O_TRUNC | O_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(-1, truncate(PROBE, 0));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(0, stat(PROBE, &st1));
	ASSERT_EQ(st0.st_size, st1.st_size);
}

TEST_F(pin, open_and_truncate)
{
	/* spec: spawn_template_create(): while the template fd lives, open(O_WRONLY)/truncate -> ETXTBSY; closing the last reference releases the pin */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	assert_pinned(_metadata);
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	ASSERT_EQ(0, st_write_errno(PROBE));
	ASSERT_EQ(0, truncate(PROBE, 1));
}

TEST_F(pin, dup)
{
	/* spec: spawn_template_create(): the pin lasts until the last reference (a dup) is closed */
	int d1 = dup(self->tfd);
	int d2 = fcntl(self->tfd, F_DUPFD_CLOEXEC, 100);

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_LE(0, d1);
	ASSERT_LE(100, d2);
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	assert_pinned(_metadata);
	ASSERT_EQ(0, close(d1));
	assert_pinned(_metadata);
	ASSERT_EQ(0, close(d2));
	ASSERT_EQ(0, st_write_errno(PROBE));
}

TEST_F(pin, fork_inherited)
{
	/* spec: spawn_template_create(): the pin lasts while a forked child holds the inherited template fd */
	int go[2], ready[2];
	char c;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		/* Holds the inherited template fd until told to go. */
		if (write(ready[1], "r", 1) != 1)
			_exit(10);
		if (read(go[0], &c, 1) != 1)
			_exit(11);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	assert_pinned(_metadata);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(ST_EXITED(0), st_wait(pid));
	ASSERT_EQ(0, st_write_errno(PROBE));
}

TEST_F(pin, scm_rights)
{
	/* spec: spawn_template_create(): the pin lasts while another process holds the template fd received over SCM_RIGHTS */
	int sv[2], fd;
	char c;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Drop the inherited copy: only the received one counts. */
		close(self->tfd);
		close(sv[0]);
		if (write(sv[1], "c", 1) != 1)
			_exit(10);
		fd = st_recv_fd(sv[1]);
		if (fd < 0)
			_exit(11);
		if (write(sv[1], "h", 1) != 1)
			_exit(12);
		if (read(sv[1], &c, 1) != 1)
			_exit(13);
		close(fd);
		if (write(sv[1], "d", 1) != 1)
			_exit(14);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(1, read(sv[0], &c, 1));	/* child dropped its copy */
	ASSERT_EQ('c', c);
	ASSERT_EQ(0, st_send_fd(sv[0], self->tfd));
	ASSERT_EQ(1, read(sv[0], &c, 1));	/* child holds the received fd */
	ASSERT_EQ('h', c);
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	assert_pinned(_metadata);
	ASSERT_EQ(1, write(sv[0], "x", 1));	/* child closes it */
	ASSERT_EQ(1, read(sv[0], &c, 1));
	ASSERT_EQ('d', c);
	ASSERT_EQ(0, st_write_errno(PROBE));
	ASSERT_EQ(ST_EXITED(0), st_wait(pid));
	close(sv[0]);
}

/* ------------------------------------------------------------------ */
/* execfd kinds that are not regular executables                        */

static void assert_create_fd_fails(struct __test_metadata *_metadata, int fd,
				   int err)
{
	ASSERT_LE(0, fd) TH_LOG("setup open: %m");
	ASSERT_EQ(-1, spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(err, errno);
	close(fd);
}

static void assert_create_path_fails(struct __test_metadata *_metadata,
				     const char *path, int err)
{
	ASSERT_EQ(-1, spawn_template_create_path(path, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(err, errno);
}

TEST(execfd_directory_eacces)
{
	/* spec: spawn_template_create(): must be a regular file, otherwise EACCES (directory) */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkdir(ST_SCRATCH "/d", 0777));
	assert_create_fd_fails(_metadata,
			       open(ST_SCRATCH "/d", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			       EACCES);
	assert_create_path_fails(_metadata, ST_SCRATCH "/d", EACCES);
}

TEST(execfd_fifo_eacces)
{
	/* spec: spawn_template_create(): must be a regular file, otherwise EACCES (FIFO, mode 0777) */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkfifo(ST_SCRATCH "/fifo", 0777));
	ASSERT_EQ(0, chmod(ST_SCRATCH "/fifo", 0777));
	assert_create_fd_fails(_metadata,
			       open(ST_SCRATCH "/fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC),
			       EACCES);
	assert_create_path_fails(_metadata, ST_SCRATCH "/fifo", EACCES);
}

TEST(execfd_socket_eacces)
{
	/* spec: spawn_template_create(): must be a regular file, otherwise EACCES (socket) */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	strcpy(sun.sun_path, ST_SCRATCH "/sock");
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&sun, sizeof(sun)));
	ASSERT_EQ(0, chmod(ST_SCRATCH "/sock", 0777));
	assert_create_fd_fails(_metadata, s, EACCES);
	assert_create_path_fails(_metadata, ST_SCRATCH "/sock", EACCES);
}

TEST(execfd_dev_null_eacces)
{
	/* spec: spawn_template_create(): must be a regular file, otherwise EACCES (/dev/null) */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	assert_create_fd_fails(_metadata, open("/dev/null", O_RDONLY | O_CLOEXEC),
			       EACCES);
	assert_create_path_fails(_metadata, "/dev/null", EACCES);
}

TEST(execfd_chrdev_exec_mode_eacces)
{
	/* spec: spawn_template_create(): must be a regular file, otherwise EACCES (char device with mode 0777) */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mknod(ST_SCRATCH "/null", S_IFCHR | 0777, makedev(1, 3)));
	ASSERT_EQ(0, chmod(ST_SCRATCH "/null", 0777));
	assert_create_fd_fails(_metadata,
			       open(ST_SCRATCH "/null", O_RDONLY | O_CLOEXEC), EACCES);
	assert_create_path_fails(_metadata, ST_SCRATCH "/null", EACCES);
}

TEST(execfd_o_path_ebadf)
{
	/* spec: spawn_template_create(): an O_PATH fd counts as not open: EBADF */
	int fd, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	assert_create_fd_fails(_metadata,
			       open(PROBE, O_PATH | O_CLOEXEC), EBADF);
	/* Control: the same file opened for reading is accepted. */
	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	tfd = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd);
	close(tfd);
	close(fd);
}

TEST(not_executable_eacces)
{
	/* spec: spawn_template_create(): must be executable by the caller, otherwise EACCES */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	st_copy_helper(_metadata, "helper_probe", PROBE, 0644);
	assert_create_path_fails(_metadata, PROBE, EACCES);
	assert_create_fd_fails(_metadata, open(PROBE, O_RDONLY | O_CLOEXEC),
			       EACCES);
}

TEST(script_enoexec)
{
	/* spec: spawn_template_create(): only ELF executables; a #! script: ENOEXEC */
	static const char script[] = "#!/bin/sh\nexit 0\n";

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	st_write_file(_metadata, ST_SCRATCH "/script", script,
			sizeof(script) - 1, 0755);
	assert_create_path_fails(_metadata, ST_SCRATCH "/script", ENOEXEC);
	assert_create_fd_fails(_metadata,
			       open(ST_SCRATCH "/script", O_RDONLY | O_CLOEXEC),
			       ENOEXEC);
}

TEST(garbage_enoexec)
{
	/* spec: spawn_template_create(): only ELF executables; garbage: ENOEXEC */
	char junk[4096];
	size_t i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	st_write_file(_metadata, ST_SCRATCH "/junk", junk, sizeof(junk), 0755);
	assert_create_path_fails(_metadata, ST_SCRATCH "/junk", ENOEXEC);
	assert_create_fd_fails(_metadata,
			       open(ST_SCRATCH "/junk", O_RDONLY | O_CLOEXEC), ENOEXEC);
	/* An ELF magic with nothing behind it is still not an executable. */
	st_write_file(_metadata, ST_SCRATCH "/elfmagic", "\177ELF", 4, 0755);
	assert_create_path_fails(_metadata, ST_SCRATCH "/elfmagic", ENOEXEC);
}

/* ------------------------------------------------------------------ */
/* memfd as execfd                                                     */

/*
 * An executable memfd holding a copy of the probe, open read-write;
 * @flags: more memfd_create() flags (MFD_ALLOW_SEALING).
 */
static int probe_memfd(struct __test_metadata *_metadata, unsigned int flags)
{
	char buf[65536];
	int mfd, in;
	ssize_t n;

	ASSERT_LE(0, st_helper_dirfd());
	mfd = memfd_create(PROBE_NAME, MFD_CLOEXEC | MFD_EXEC | flags);
	if (mfd < 0 && errno == EINVAL)	/* kernel before MFD_EXEC */
		mfd = memfd_create(PROBE_NAME, MFD_CLOEXEC | flags);
	if (mfd < 0 && errno == EACCES)
		return -2;	/* vm.memfd_noexec forbids executable memfds */
	ASSERT_LE(0, mfd) TH_LOG("memfd_create: %m");
	in = openat(st_helper_dirfd(), "helper_probe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ASSERT_EQ(n, write(mfd, buf, n));
	}
	close(in);
	return mfd;
}

/*
 * Spec 1.1: the write pin covers counted writers only; a memfd's own fd is
 * not counted, so an unsealed memfd can change under its template. The
 * new content is made from the probe by one bit: PF_X on PT_GNU_STACK,
 * which gives the child an executable stack. The ELF header stays the
 * same byte for byte, so only a loader that reads the program headers
 * of the current content sees the change.
 */
static Elf64_Phdr *gnu_stack_of(char *elf)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_GNU_STACK)
			return &ph[i];
	return NULL;
}

/*
 * A template of an executable memfd, then its content changed through a
 * shared writable mapping of the memfd's own fd, in a way that leaves its
 * mtime alone (see the test): its program headers, or its ELF magic. The
 * variants seal the memfd against writes after the change, before the
 * spawn.
 */
FIXTURE(memfd_change) {
	int mfd, ro, tfd;
};

FIXTURE_VARIANT(memfd_change) {
	bool seal_after;
	bool not_elf;	/* the ELF magic overwritten: no binary handler takes it */
};

FIXTURE_VARIANT_ADD(memfd_change, unsealed) {
	.seal_after = false,
};

FIXTURE_VARIANT_ADD(memfd_change, sealed_after_the_change) {
	.seal_after = true,
};

FIXTURE_VARIANT_ADD(memfd_change, unsealed_not_elf) {
	.not_elf = true,
};

FIXTURE_SETUP(memfd_change)
{
	char path[64];

	self->mfd = self->ro = self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->mfd = probe_memfd(_metadata, MFD_ALLOW_SEALING);
	if (self->mfd == -2)
		SKIP(return, "vm.memfd_noexec forbids executable memfds");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->mfd);
	self->ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ro);
	self->tfd = spawn_template_create_fd(self->ro,
					     SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, self->tfd) TH_LOG("create from a read-only memfd: %m");
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv))
		TH_LOG("spawn: %s", strerrorname_np(report.err));
	ASSERT_STREQ("rw-p", st_kv_str(report.buf, "stack"));
}

FIXTURE_TEARDOWN(memfd_change)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

TEST_F(memfd_change, runs_new_headers_or_fails)
{
	/* spec: spawn_template_create(): a memfd template is only as stable as its seals: content replaced through a writable shared mapping either runs as the new program or fails cleanly, never with the old cached headers (a seal added later changes nothing); spawn_template_spawn(): an exec that fails in the child with ENOEXEC is exit status 126 */
	const char *stack;
	struct stat st, after;
	Elf64_Phdr *ph;
	char *map;
	int r;

	/* The memfd's own fd is still writable: change the content. */
	ASSERT_EQ(0, fstat(self->mfd, &st));
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->mfd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("shared writable mapping: %m");
	/*
	 * Read the page before writing it. shmem asks for no write
	 * notification, so a page first touched by a read is mapped writable
	 * and the write takes no fault and leaves mtime alone: the content
	 * changes under an unchanged identity key, the case this is about. A
	 * first write fault would move mtime (file_update_time()), and the
	 * spawn would be ESTALE without looking at the new content.
	 */
	ASSERT_EQ(0, memcmp(map, ELFMAG, SELFMAG));
	if (variant->not_elf) {
		memcpy(map, "\0BAD", SELFMAG);
	} else {
		ph = gnu_stack_of(map);
		ASSERT_NE(NULL, ph);
		ph->p_flags |= PF_X;
	}
	ASSERT_EQ(0, munmap(map, st.st_size));
	/* The identity key did not move: an ESTALE would say nothing else. */
	ASSERT_EQ(0, fstat(self->mfd, &after));
	ASSERT_EQ(st.st_size, after.st_size);
	ASSERT_TRUE(st.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
		    st.st_ctim.tv_sec == after.st_ctim.tv_sec &&
		    st.st_ctim.tv_nsec == after.st_ctim.tv_nsec)
		TH_LOG("the change moved mtime or ctime: the test would only show staleness");
	if (variant->seal_after)
		ASSERT_EQ(0, fcntl(self->mfd, F_ADD_SEALS, F_SEAL_WRITE));

	r = run_report(self->tfd, report_argv, noenv);
	if (r == -1) {
		ASSERT_EQ(ESTALE, report.err) TH_LOG("refused with %s",
						     strerrorname_np(report.err));
		TH_LOG("refused with ESTALE: the implementation saw the new content");
		return;
	}
	if (variant->not_elf) {
		/* The exec in the child fails: ENOEXEC is exit status 126. */
		ASSERT_EQ(ST_EXITED(126), r)
			TH_LOG("not ELF: ESTALE or exit 126 (ENOEXEC), got wait status 0x%x",
			       r);
		return;
	}
	ASSERT_TRUE(WIFEXITED(r))
		TH_LOG("the child died of signal %d: mapped with stale headers?",
		       WTERMSIG(r));
	if (r != ST_EXITED(0))
		return;	/* a clean failure, an exit status */
	stack = st_kv_str(report.buf, "stack");
	ASSERT_STREQ("rwxp", stack)
		TH_LOG("spec 1.1: a memfd template is only as stable as its seals, never old headers on new content: the child ran the new content with the old program headers (stack %s; the file now asks for an executable stack)",
		       stack);
}

/*
 * Spec 1.2: cached metadata never outlives the content. A memfd that has
 * a writable shared mapping cannot be sealed with F_SEAL_WRITE (EBUSY):
 * F_SEAL_FUTURE_WRITE is the only seal it can get, and it stops new
 * writers only, not that mapping. Its template must then run the content
 * as it is at the spawn: the mapping rewrites the program after the
 * template exists, as memfd_change does (the ELF magic, or PF_X on
 * PT_GNU_STACK), and the spawn is ESTALE or runs the new content.
 */
FIXTURE(memfd_future_write) {
	int mfd, ro, tfd;
	char *map;
	size_t size;
};

FIXTURE_VARIANT(memfd_future_write) {
	bool not_elf;	/* else: PF_X on PT_GNU_STACK */
};

FIXTURE_VARIANT_ADD(memfd_future_write, exec_stack) {
	.not_elf = false,
};

FIXTURE_VARIANT_ADD(memfd_future_write, not_elf) {
	.not_elf = true,
};

FIXTURE_SETUP(memfd_future_write)
{
	char path[64];
	struct stat st;

	self->mfd = self->ro = self->tfd = -1;
	self->map = MAP_FAILED;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->mfd = probe_memfd(_metadata, MFD_ALLOW_SEALING);
	if (self->mfd == -2)
		SKIP(return, "vm.memfd_noexec forbids executable memfds");
	ASSERT_EQ(0, fstat(self->mfd, &st));
	self->size = st.st_size;
	self->map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->mfd, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("shared writable mapping: %m");
	/* The mapping rules out F_SEAL_WRITE... */
	ASSERT_EQ(-1, fcntl(self->mfd, F_ADD_SEALS, F_SEAL_WRITE));
	ASSERT_EQ(EBUSY, errno);
	/* ...but not F_SEAL_FUTURE_WRITE, which refuses new writable mappings. */
	ASSERT_EQ(0, fcntl(self->mfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
		TH_LOG("F_SEAL_FUTURE_WRITE: %m");
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->mfd, 0));
	ASSERT_EQ(EPERM, errno);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->mfd);
	self->ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->ro);
	self->tfd = spawn_template_create_fd(self->ro,
					     SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, self->tfd)
		TH_LOG("create from a F_SEAL_FUTURE_WRITE memfd: %m");
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv))
		TH_LOG("spawn: %s", strerrorname_np(report.err));
	ASSERT_STREQ("rw-p", st_kv_str(report.buf, "stack"));
}

FIXTURE_TEARDOWN(memfd_future_write)
{
	if (self->tfd >= 0)
		close(self->tfd);
	if (self->map != MAP_FAILED)
		munmap(self->map, self->size);
}

TEST_F(memfd_future_write, mapping_rewrites_after_create)
{
	/* spec: spawn_template_create(): whatever the template caches, a spawn executes the file as it is at that spawn (a memfd rewritten through a mapping made before any seal; F_SEAL_FUTURE_WRITE does not qualify): ESTALE or the new content, never the old headers */
	struct stat st, after;
	const char *stack;
	Elf64_Phdr *ph;
	int r;

	ASSERT_EQ(0, fstat(self->mfd, &st));
	/*
	 * Read the page before writing it, so that the write takes no fault
	 * and leaves mtime alone (see memfd_change): the content changes
	 * under an unchanged identity key.
	 */
	ASSERT_EQ(0, memcmp(self->map, ELFMAG, SELFMAG));
	if (variant->not_elf) {
		memcpy(self->map, "\0BAD", SELFMAG);
	} else {
		ph = gnu_stack_of(self->map);
		ASSERT_NE(NULL, ph);
		ph->p_flags |= PF_X;
	}
	ASSERT_EQ(0, fstat(self->mfd, &after));
	ASSERT_EQ(st.st_size, after.st_size);
	ASSERT_TRUE(st.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
		    st.st_ctim.tv_sec == after.st_ctim.tv_sec &&
		    st.st_ctim.tv_nsec == after.st_ctim.tv_nsec)
		TH_LOG("the change moved mtime or ctime: the test would only show staleness");

	r = run_report(self->tfd, report_argv, noenv);
	if (r == -1) {
		ASSERT_EQ(ESTALE, report.err) TH_LOG("refused with %s",
						     strerrorname_np(report.err));
		TH_LOG("refused with ESTALE: the implementation saw the new content");
		return;
	}
	if (variant->not_elf) {
		ASSERT_EQ(ST_EXITED(126), r)
			TH_LOG("spec 1.2: cached metadata never outlives the content: the file is no longer ELF: ESTALE or exit 126 (ENOEXEC), got wait status 0x%x%s",
			       r, r == ST_EXITED(0) ? " (the old program ran)" : "");
		TH_LOG("ran the new content: exit 126 (ENOEXEC)");
		return;
	}
	ASSERT_TRUE(WIFEXITED(r))
		TH_LOG("the child died of signal %d: mapped with stale headers?",
		       WTERMSIG(r));
	if (r != ST_EXITED(0)) {
		TH_LOG("a clean failure: exit status %d", WEXITSTATUS(r));
		return;
	}
	stack = st_kv_str(report.buf, "stack");
	ASSERT_STREQ("rwxp", stack)
		TH_LOG("spec 1.2: cached metadata never outlives the content: a F_SEAL_FUTURE_WRITE memfd rewritten through an earlier mapping ran with the old program headers (stack %s; the file now asks for an executable stack)",
		       stack);
	TH_LOG("ran the new content: an executable stack");
}

TEST(memfd_sealed_is_stable)
{
	/* spec: spawn_template_create(): a memfd sealed with F_SEAL_WRITE cannot change under its template */
	char path[64];
	struct stat st;
	int mfd, ro, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	mfd = probe_memfd(_metadata, MFD_ALLOW_SEALING);
	if (mfd == -2)
		SKIP(return, "vm.memfd_noexec forbids executable memfds");
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	tfd = spawn_template_create_fd(ro, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create from a sealed memfd: %m");

	ASSERT_EQ(0, fstat(mfd, &st));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, st.st_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, mfd, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, report_argv, noenv))
		TH_LOG("spawn: %s", strerrorname_np(report.err));
	ASSERT_STREQ("rw-p", st_kv_str(report.buf, "stack"));

	/*
	 * A write is refused too, but shmem updates mtime before it checks
	 * the seals: the template may then be stale. It must never run
	 * anything but the sealed content.
	 */
	ASSERT_EQ(-1, pwrite(mfd, "x", 1, 0));
	ASSERT_EQ(EPERM, errno);
	if (run_report(tfd, report_argv, noenv) == -1) {
		ASSERT_EQ(ESTALE, report.err);
	} else {
		ASSERT_EQ(ST_EXITED(0), report.status);
		ASSERT_STREQ("rw-p", st_kv_str(report.buf, "stack"));
	}
	close(tfd);
	close(ro);
	close(mfd);
}

TEST(memfd_open_for_write_etxtbsy)
{
	/* spec: spawn_template_create(): the file is currently open for writing by anyone: ETXTBSY (a memfd passed through its own read-write fd) */
	int mfd, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	mfd = probe_memfd(_metadata, 0);
	if (mfd == -2)
		SKIP(return, "vm.memfd_noexec forbids executable memfds");

	tfd = spawn_template_create_fd(mfd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	EXPECT_EQ(-1, tfd) TH_LOG("writable memfd accepted: its fd can still write the pinned file");
	EXPECT_EQ(ETXTBSY, errno);
	if (tfd >= 0)
		close(tfd);
	/*
	 * Not checked: a read-only re-open passed while the read-write memfd
	 * is still open elsewhere. memfd_create() files do not take the
	 * inode's write count in 6.12, so no write pin can see that writer
	 * (execveat() has the same blind spot). See docs/checks-lifetime.md.
	 */
	close(mfd);
}

TEST(memfd_readonly_reopen_execfd_pinned)
{
	/* spec: spawn_template_create(): a read-only re-open of an executable memfd, its writable fd closed, is a valid execfd; while the template lives the memfd cannot be opened for writing (ETXTBSY) */
	char path[64];
	int mfd, ro, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	mfd = probe_memfd(_metadata, 0);
	if (mfd == -2)
		SKIP(return, "vm.memfd_noexec forbids executable memfds");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, close(mfd));

	tfd = spawn_template_create_fd(ro, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create from read-only memfd: %m");
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, report_argv, noenv));
	TH_LOG("memfd child: exe=%s", st_kv(report.buf, "exe") ?: "?");

	/* Pinned: the memfd cannot be re-opened for writing. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
	ASSERT_EQ(ETXTBSY, st_write_errno(path));
	ASSERT_EQ(0, close(tfd));
	ASSERT_EQ(0, st_write_errno(path));
	close(ro);
}

TEST(create_while_mapped_shared_writable_etxtbsy)
{
	/* spec: spawn_template_create(): the write pin covers writable shared mappings made through a writable open: ETXTBSY while one exists */
	struct stat st;
	int w, r, tfd;
	void *map;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	w = open(PROBE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, w);
	ASSERT_EQ(0, fstat(w, &st));
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, w, 0);
	ASSERT_NE(MAP_FAILED, map);
	/* The mapping alone keeps the file open for writing. */
	ASSERT_EQ(0, close(w));
	r = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, r);
	ASSERT_EQ(-1, spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(-1, spawn_template_create_fd(r, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ETXTBSY, errno);
	ASSERT_EQ(0, munmap(map, st.st_size));
	tfd = spawn_template_create_fd(r, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd) TH_LOG("create after the mapping went: %m");
	close(tfd);
	close(r);
}

/* ------------------------------------------------------------------ */
/* A binfmt_misc target is not an ELF executable                        */

#define BINFMT_DIR	"/proc/sys/fs/binfmt_misc"
#define TARGET		ST_SCRATCH "/target"

FIXTURE(binfmt) {
	char name[32];
	int registered;
};

/* binfmt_misc where this process can see it; 0 or -1. */
static int binfmt_mounted(void)
{
	if (!access(BINFMT_DIR "/register", F_OK))
		return 0;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	return mount("binfmt_misc", BINFMT_DIR, "binfmt_misc", 0, NULL);
}

FIXTURE_SETUP(binfmt)
{
	static const char magic[] = "\x7fSTT binfmt_misc target\n";
	char rule[PATH_MAX + 64];
	const char *interp;

	self->registered = 0;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_LE(0, st_helper_dirfd());
	interp = st_helper("helper_probe");
	ASSERT_NE(NULL, interp);
	if (binfmt_mounted())
		SKIP(return, "no binfmt_misc (CONFIG_BINFMT_MISC): %s",
		     strerrorname_np(errno));
	snprintf(self->name, sizeof(self->name), "st_target_%d", getpid());
	/* A magic of 4 bytes that no binary format knows; the probe runs it. */
	snprintf(rule, sizeof(rule), ":%s:M::\\x7fSTT::%s:", self->name, interp);
	ASSERT_EQ(0, st_write_str(BINFMT_DIR "/register", rule));
	self->registered = 1;
	st_scratch(_metadata, 0);
	st_write_file(_metadata, TARGET, magic, sizeof(magic) - 1, 0755);
}

/*
 * In the parent, after a failed ASSERT too: the format is global. The
 * check may have mounted binfmt_misc where only it could see it.
 */
FIXTURE_TEARDOWN_PARENT(binfmt)
{
	char path[PATH_MAX];

	if (!self->registered)
		return;
	snprintf(path, sizeof(path), BINFMT_DIR "/%s", self->name);
	if (binfmt_mounted() || st_write_str(path, "-1"))
		TH_LOG("cannot remove binfmt_misc format %s", self->name);
}

TEST_F(binfmt, target_enoexec)
{
	/* spec: spawn_template_create(): only ELF executables can be templated: a binfmt_misc target is ENOEXEC (execve() runs it) */
	static char *const argv[] = { "target", NULL };
	struct st_out *o = &report;
	int fd;

	/* execve() runs it, through the probe as its interpreter. */
	ASSERT_LT(0, st_run_execve(TARGET, argv, noenv, o));
	ASSERT_TRUE(WIFEXITED(o->status));
	ASSERT_NE(ST_EXITED(126), o->status) TH_LOG("execve() refused the target");
	ASSERT_NE(ST_EXITED(127), o->status) TH_LOG("execve() refused the target");

	ASSERT_EQ(-1, spawn_template_create_path(TARGET, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ENOEXEC, errno);
	fd = open(TARGET, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(ENOEXEC, errno);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* What the child sees of itself                                        */

/*
 * Checks that hold for both origins, one pytest item each: a template of
 * the probe's copy, from its path or from an fd open on it.
 */
FIXTURE(origin) {
	int tfd;
};

ST_ORIGIN_VARIANTS(origin);

FIXTURE_SETUP(origin)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	self->tfd = create_from(variant->by_fd, PROBE);
	ASSERT_LE(0, self->tfd) TH_LOG("create: %m");
}

FIXTURE_TEARDOWN(origin)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

TEST_F(origin, child_comm_is_basename)
{
	/* reference choice: the child's comm is the executable's base name (path and execfd origins) */
	static char *const argv[] = { "not-the-name", "report", NULL };

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, argv, noenv));
	ASSERT_STREQ(PROBE_NAME, st_kv(report.buf, "comm") ?: "(none)");
}

TEST(child_comm_long_name_truncated)
{
	/* reference choice: comm is the base name, truncated to TASK_COMM_LEN-1 (15) bytes as by exec */
	static const char path[] = ST_SCRATCH "/probe_with_a_long_base_name";
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, path);
	tfd = st_template(_metadata, path, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, report_argv, noenv));
	ASSERT_STREQ("probe_with_a_lo", st_kv(report.buf, "comm") ?: "(none)");
	close(tfd);
}

TEST_F(origin, child_exe_is_templated_file)
{
	/* reference choice: /proc/PID/exe of the child is the templated file (path and execfd origins) */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv));
	ASSERT_STREQ(PROBE, st_kv(report.buf, "exe") ?: "(none)");
	ASSERT_EQ((unsigned long long)ino_of(PROBE),
		  strtoull(st_kv(report.buf, "exe_ino") ?: "0", NULL, 10));
}

TEST(child_argv_envp_are_callers)
{
	/* spec: spawn_template_spawn(): argv/envp are read from the caller's memory: argv[0] is what the caller passed */
	static char *const argv[] = { "caller-chosen-argv0", "report", "third", NULL };
	static char *const envp[] = { "ST_TAG=from-caller", NULL };
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_EQ(ST_EXITED(0), run_report(tfd, argv, envp));
	ASSERT_STREQ("3", st_kv(report.buf, "argc") ?: "(none)");
	ASSERT_STREQ("caller-chosen-argv0", st_kv(report.buf, "argv.0") ?: "(none)");
	ASSERT_STREQ("third", st_kv(report.buf, "argv.2") ?: "(none)");
	ASSERT_STREQ("from-caller", st_kv(report.buf, "tag") ?: "(none)");
	close(tfd);
}

TEST_F(origin, child_execfn_present)
{
	/* spec: spawn_template_spawn(): exec through the normal binary handler, so the ELF auxv carries AT_EXECFN; its value is a reference choice (logged) */
	const char *fn;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv));
	fn = st_kv(report.buf, "execfn");
	ASSERT_NE(NULL, fn);
	ASSERT_STRNE("(null)", fn);
	ASSERT_STRNE("", fn);
	TH_LOG("origin %s: AT_EXECFN=%s", variant->by_fd ? "execfd" : "path", fn);
}

TEST_F(origin, child_execfn_is_file_path)
{
	/* reference choice: AT_EXECFN is the templated file's path (the path given, or the execfd's file path), not /dev/fd/N; not in the spec text */
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(ST_EXITED(0), run_report(self->tfd, report_argv, noenv));
	ASSERT_STREQ(PROBE, st_kv(report.buf, "execfn") ?: "(none)");
}

TEST_HARNESS_MAIN
