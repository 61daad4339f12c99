// SPDX-License-Identifier: GPL-2.0
/*
 * Credential binding of spawn templates: a template may only be spawned by
 * a task whose credential object is the one that created it. Threads of the
 * creating process share it; every credential change, a fork, an fd passed
 * over SCM_RIGHTS and an exec leave a task with another object, and the
 * spawn is then refused with EACCES without creating a child.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "sec_util.h"

static char *const probe_argv[] = { "probe", "ids", NULL };

/* Create a template of the probe (path-created). */
static int probe_template(struct __test_metadata *_metadata, char *path,
			  size_t len, __u64 flags)
{
	int tfd;

	if (sec_helper_path("helper_sec_probe", path, len))
		return -1;
	tfd = spawn_template_create_path(path, flags);
	return tfd;
}

/* One successful spawn: the template works for this task. */
static int spawn_ok(int tfd, char *out, size_t len)
{
	int status;

	if (sec_spawn_run(tfd, probe_argv, 0, out, len, &status))
		return -errno;
	return status;
}

TEST(creator_spawns)
{
	/* spec: spawn_template_spawn(): the creating task may spawn; the child runs the file */
	char path[PATH_MAX], out[SEC_OUT_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, spawn_ok(tfd, out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "ruid=0 euid=0"));
	ASSERT_TRUE(sec_no_children());
	close(tfd);
}

struct thread_arg {
	int tfd;
	int ret;
	int err;
	int status;
	char out[SEC_OUT_MAX];
};

static void *thread_spawn(void *p)
{
	struct thread_arg *t = p;

	t->ret = sec_spawn_run(t->tfd, probe_argv, 0, t->out, sizeof(t->out),
			       &t->status);
	t->err = errno;
	return NULL;
}

TEST(other_thread_spawns)
{
	/* spec: spawn_template_spawn(): threads of the creating process share the credential object and may spawn */
	char path[PATH_MAX];
	struct thread_arg t;
	pthread_t th;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	memset(&t, 0, sizeof(t));
	t.tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, t.tfd);
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_spawn, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, t.ret) TH_LOG("spawn from thread: errno %d", t.err);
	ASSERT_EQ(0, t.status);
	ASSERT_NE(NULL, strstr(t.out, "ruid=0 euid=0"));
	ASSERT_TRUE(sec_no_children());
	close(t.tfd);
}

/*
 * Credential changes. Each one replaces the task's credential object
 * (prepare_creds + commit_creds), including changes to the same value.
 */
static int chg_setuid(void)
{
	return setuid(SEC_NOBODY);
}

static int chg_setuid_same(void)
{
	return setuid(0);	/* root stays root: same values, new object */
}

static int chg_setgid(void)
{
	return setgid(SEC_NOBODY);
}

static int chg_setgroups(void)
{
	gid_t g = SEC_NOBODY;

	return setgroups(1, &g);
}

static int chg_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	/* drop CAP_NET_RAW from effective and permitted */
	d[0].effective &= ~(1U << CAP_NET_RAW);
	d[0].permitted &= ~(1U << CAP_NET_RAW);
	return syscall(SYS_capset, &h, d);
}

static int chg_landlock(void)
{
	/*
	 * A domain that handles only MAKE_FIFO: execution stays allowed, so a
	 * refusal can only come from the credential binding.
	 */
	return sec_landlock_deny(LANDLOCK_ACCESS_FS_MAKE_FIFO);
}

static int chg_userns(void)
{
	return unshare(CLONE_NEWUSER);
}

FIXTURE(cred_change) {
	int tfd;
	char path[PATH_MAX];
};

FIXTURE_VARIANT(cred_change) {
	int (*change)(void);
	int needs_landlock;
};

FIXTURE_VARIANT_ADD(cred_change, setuid) { .change = chg_setuid };
FIXTURE_VARIANT_ADD(cred_change, setuid_same_value) { .change = chg_setuid_same };
FIXTURE_VARIANT_ADD(cred_change, setgid) { .change = chg_setgid };
FIXTURE_VARIANT_ADD(cred_change, setgroups) { .change = chg_setgroups };
FIXTURE_VARIANT_ADD(cred_change, capset_drop) { .change = chg_capset };
FIXTURE_VARIANT_ADD(cred_change, landlock) {
	.change = chg_landlock, .needs_landlock = 1,
};
FIXTURE_VARIANT_ADD(cred_change, unshare_userns) { .change = chg_userns };

FIXTURE_SETUP(cred_change)
{
	self->tfd = -1;
}

FIXTURE_TEARDOWN(cred_change)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

TEST_F(cred_change, spawn_refused)
{
	/* spec: spawn_template_spawn(): a task whose credential object is not the creator's gets EACCES, no child */
	char out[SEC_OUT_MAX];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	if (variant->needs_landlock && sec_landlock_abi() < 0)
		SKIP(return, "Landlock not enabled (errno %d)", errno);
	self->tfd = probe_template(_metadata, self->path, sizeof(self->path), 0);
	ASSERT_LE(0, self->tfd);
	/* control: the template works before the change */
	ASSERT_EQ(0, spawn_ok(self->tfd, out, sizeof(out)));

	ASSERT_EQ(0, variant->change());
	ASSERT_EQ(0, sec_count_sigchld());
	ASSERT_EQ(-1, sec_spawn(self->tfd, probe_argv, -1, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_TRUE(sec_no_children());
	ASSERT_EQ(0, sec_sigchld_count);
}

TEST(no_new_privs_keeps_binding)
{
	/*
	 * spec: "The template is bound to the creating task's credential
	 * object": PR_SET_NO_NEW_PRIVS sets a task flag and does not replace
	 * the credential object, so the spawn is allowed after it; the child
	 * must then run with no_new_privs (spec: exec path honours
	 * no_new_privs).
	 */
	char path[PATH_MAX], out[SEC_OUT_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, spawn_ok(tfd, out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "nnp=0"));

	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, spawn_ok(tfd, out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "nnp=1")) TH_LOG("child: %s", out);
	ASSERT_TRUE(sec_no_children());
	close(tfd);
}

/*
 * Child reports: the errno of the spawn from the inherited/received fd,
 * whether it left a child, and the status of a spawn from a template it
 * created itself for the same file.
 */
struct report {
	int spawn_ret;
	int spawn_errno;
	int no_children;
	int own_tfd_errno;	/* 0 if its own create worked */
	int own_ret;
	int own_status;
};

static void try_and_recreate(int tfd, const char *path, struct report *r)
{
	char out[SEC_OUT_MAX];
	int own;

	memset(r, 0, sizeof(*r));
	r->spawn_ret = sec_spawn(tfd, probe_argv, -1, 0);
	r->spawn_errno = errno;
	r->no_children = sec_no_children();
	own = spawn_template_create_path(path, 0);
	if (own < 0) {
		r->own_tfd_errno = errno;
		return;
	}
	r->own_ret = sec_spawn_run(own, probe_argv, 0, out, sizeof(out),
				   &r->own_status);
	close(own);
}

TEST(forked_child_refused)
{
	/* spec: spawn_template_spawn(): in a forked child: EACCES, no child; its own template works */
	char path[PATH_MAX], out[SEC_OUT_MAX];
	struct report r;
	int p[2], status, tfd;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		try_and_recreate(tfd, path, &r);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(r), read(p[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(-1, r.spawn_ret);
	ASSERT_EQ(EACCES, r.spawn_errno);
	ASSERT_TRUE(r.no_children);
	ASSERT_EQ(0, r.own_tfd_errno);
	ASSERT_EQ(0, r.own_ret);
	ASSERT_EQ(0, r.own_status);
	/* the parent, the creator, still may */
	ASSERT_EQ(0, spawn_ok(tfd, out, sizeof(out)));
	close(tfd);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b = 'x';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	int fd;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST(scm_rights_receiver_refused)
{
	/* spec: spawn_template_spawn(): another process that received the fd over SCM_RIGHTS: EACCES, no child; its own template for the file works */
	char path[PATH_MAX];
	struct report r;
	int sv[2], status, tfd;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, sec_helper_path("helper_sec_probe", path, sizeof(path)));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* the receiver exists before the template does */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = recv_fd(sv[1]);

		if (fd < 0)
			_exit(2);
		try_and_recreate(fd, path, &r);
		_exit(write(sv[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	tfd = spawn_template_create_path(path, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, send_fd(sv[0], tfd));
	ASSERT_EQ(sizeof(r), read(sv[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(-1, r.spawn_ret);
	ASSERT_EQ(EACCES, r.spawn_errno);
	ASSERT_TRUE(r.no_children);
	ASSERT_EQ(0, r.own_tfd_errno);
	ASSERT_EQ(0, r.own_ret);
	ASSERT_EQ(0, r.own_status);
	close(tfd);
}

TEST(exec_inherited_fd_refused)
{
	/* spec: spawn_template_spawn(): after an exec (the fd inherited across execve): EACCES, no child */
	char path[PATH_MAX], num[16], out[SEC_OUT_MAX];
	char *argv[] = { "probe", "spawnfd", num, NULL };
	int status, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, tfd);
	snprintf(num, sizeof(num), "%d", tfd);
	ASSERT_EQ(0, sec_exec_run(path, argv, out, sizeof(out), &status));
	ASSERT_STREQ("spawnfd=EACCES children=none\n", out);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(EACCES, WEXITSTATUS(status));
	close(tfd);
}

TEST(spawned_child_with_inherited_fd_refused)
{
	/* spec: spawn_template_spawn(): after an exec (the child of a spawn, the fd kept by INHERIT_FDS): EACCES, no child */
	char path[PATH_MAX], num[16], out[SEC_OUT_MAX];
	char *argv[] = { "probe", "spawnfd", num, NULL };
	int status, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = probe_template(_metadata, path, sizeof(path), 0);
	ASSERT_LE(0, tfd);
	snprintf(num, sizeof(num), "%d", tfd);
	ASSERT_EQ(0, sec_spawn_run(tfd, argv, SPAWN_TEMPLATE_SPAWN_INHERIT_FDS,
				   out, sizeof(out), &status));
	ASSERT_STREQ("spawnfd=EACCES children=none\n", out);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(EACCES, WEXITSTATUS(status));
	close(tfd);
}

TEST_HARNESS_MAIN
