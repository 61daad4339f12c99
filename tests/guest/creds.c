// SPDX-License-Identifier: GPL-2.0
/*
 * Credential binding of spawn templates: a template may only be spawned by
 * a task whose credential object is the one that created it. Threads of the
 * creating process share it; every credential change, a fork, an fd passed
 * over SCM_RIGHTS and an exec leave a task with another object, and the
 * spawn is then refused with EACCES without creating a child.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <linux/capability.h>

#include "common.h"

/*
 * The probe's templates here are path-created and inheritable (flags 0,
 * st_probe_template_path()): some checks pass the fd across an exec.
 */
static char *const probe_argv[] = { "probe", "ids", NULL };
static char *const no_env[] = { NULL };

/* One successful spawn: the template works for this task. */
static int spawn_ok(int tfd, struct st_out *o)
{
	if (st_run(tfd, 0, probe_argv, no_env, NULL, 0, o) < 0)
		return -o->err;
	return o->status;
}

/*
 * st_run_execve() leaves the child fds 0-2 only; the exec check needs the
 * template fd to cross the execve, so fork and exec here without closing.
 */
static void run_execve_keep_fds(const char *path, char *const *argv,
				struct st_out *o)
{
	int p[2];

	st_out_reset(o);
	if (pipe2(p, O_CLOEXEC)) {
		o->err = errno;
		return;
	}
	o->pid = fork();
	if (o->pid == 0) {
		if (dup2(p[1], 1) < 0)
			_exit(1);
		execve(path, argv, no_env);
		_exit(errno == ENOENT ? 127 : errno == EACCES ? 126 : 1);
	}
	o->err = o->pid < 0 ? errno : 0;
	close(p[1]);
	st_out_collect(o, p[0]);
}

TEST(creator_spawns)
{
	/* spec: spawn_template_spawn(): the creating task may spawn; the child runs the file */
	static struct st_out o;
	char path[PATH_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	ASSERT_EQ(0, spawn_ok(tfd, &o));
	ASSERT_STREQ("0", st_kv_str(o.buf, "ruid")) TH_LOG("child: %s", o.buf);
	ASSERT_STREQ("0", st_kv_str(o.buf, "euid")) TH_LOG("child: %s", o.buf);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child is left");
	close(tfd);
}

struct thread_arg {
	int tfd;
	struct st_out o;
};

static void *thread_spawn(void *p)
{
	struct thread_arg *t = p;

	st_run(t->tfd, 0, probe_argv, no_env, NULL, 0, &t->o);
	return NULL;
}

TEST(other_thread_spawns)
{
	/* spec: spawn_template_spawn(): threads of the creating process share the credential object and may spawn */
	static struct thread_arg t;
	char path[PATH_MAX];
	pthread_t th;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	t.tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_spawn, &t));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_LT(0, t.o.pid) TH_LOG("spawn from thread: errno %d", t.o.err);
	ASSERT_EQ(0, t.o.status);
	ASSERT_STREQ("0", st_kv_str(t.o.buf, "ruid")) TH_LOG("child: %s", t.o.buf);
	ASSERT_STREQ("0", st_kv_str(t.o.buf, "euid")) TH_LOG("child: %s", t.o.buf);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child is left");
	close(t.tfd);
}

/*
 * Credential changes. Each one replaces the task's credential object
 * (prepare_creds + commit_creds), including changes to the same value.
 */
static int chg_setuid(void)
{
	return setuid(ST_NOBODY);
}

static int chg_setuid_same(void)
{
	return setuid(0);	/* root stays root: same values, new object */
}

static int chg_setgid(void)
{
	return setgid(ST_NOBODY);
}

static int chg_setgroups(void)
{
	gid_t g = ST_NOBODY;

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
	return st_landlock_deny(LANDLOCK_ACCESS_FS_MAKE_FIFO);
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
	static struct st_out o;
	int pidfd = -1;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	if (variant->needs_landlock && st_landlock_abi() < 0)
		SKIP(return, "Landlock not enabled (errno %d)", errno);
	self->tfd = st_probe_template_path(_metadata, self->path,
					   sizeof(self->path), 0);
	/* control: the template works before the change */
	ASSERT_EQ(0, spawn_ok(self->tfd, &o));

	ASSERT_EQ(0, variant->change());
	ASSERT_EQ(0, st_watch_children(0));
	ASSERT_EQ(-1, st_spawn(self->tfd, 0, probe_argv, no_env, NULL, 0, &pidfd));
	ASSERT_EQ(EACCES, errno);
	/* no child now, and none came and went (SIGCHLD) */
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("evidence of a child");
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
	static struct st_out o;
	char path[PATH_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	ASSERT_EQ(0, spawn_ok(tfd, &o));
	ASSERT_STREQ("0", st_kv_str(o.buf, "nnp")) TH_LOG("child: %s", o.buf);

	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, spawn_ok(tfd, &o));
	ASSERT_STREQ("1", st_kv_str(o.buf, "nnp")) TH_LOG("child: %s", o.buf);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child is left");
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
	int child_evidence;	/* st_child_evidence() after the refusal */
	int own_tfd_errno;	/* 0 if its own create worked */
	int own_errno;		/* 0 if the spawn from it worked */
	int own_status;
};

static void try_and_recreate(int tfd, const char *path, struct report *r)
{
	static struct st_out o;
	int own, pidfd = -1;

	memset(r, 0, sizeof(*r));
	r->spawn_ret = st_spawn(tfd, 0, probe_argv, no_env, NULL, 0, &pidfd);
	r->spawn_errno = errno;
	r->child_evidence = st_child_evidence();
	own = spawn_template_create_path(path, 0);
	if (own < 0) {
		r->own_tfd_errno = errno;
		return;
	}
	st_run(own, 0, probe_argv, no_env, NULL, 0, &o);
	r->own_errno = o.err;
	r->own_status = o.status;
	close(own);
}

TEST(forked_child_refused)
{
	/* spec: spawn_template_spawn(): in a forked child: EACCES, no child; its own template works */
	static struct st_out o;
	char path[PATH_MAX];
	struct report r;
	int p[2], status, tfd;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
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
	ASSERT_EQ(0, r.child_evidence);
	ASSERT_EQ(0, r.own_tfd_errno);
	ASSERT_EQ(0, r.own_errno);
	ASSERT_EQ(0, r.own_status);
	/* the parent, the creator, still may */
	ASSERT_EQ(0, spawn_ok(tfd, &o));
	close(tfd);
}

TEST(scm_rights_receiver_refused)
{
	/* spec: spawn_template_spawn(): another process that received the fd over SCM_RIGHTS: EACCES, no child; its own template for the file works */
	char path[PATH_MAX];
	struct report r;
	int sv[2], status, tfd;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_helper_path(_metadata, "helper_probe", path, sizeof(path));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* the receiver exists before the template does */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/*
		 * Close-on-exec (st_recv_fd()) does not matter: the fd is
		 * only spawned from here, never carried across an exec.
		 */
		int fd = st_recv_fd(sv[1]);

		if (fd < 0)
			_exit(2);
		try_and_recreate(fd, path, &r);
		_exit(write(sv[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	tfd = spawn_template_create_path(path, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, st_send_fd(sv[0], tfd));
	ASSERT_EQ(sizeof(r), read(sv[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(-1, r.spawn_ret);
	ASSERT_EQ(EACCES, r.spawn_errno);
	ASSERT_EQ(0, r.child_evidence);
	ASSERT_EQ(0, r.own_tfd_errno);
	ASSERT_EQ(0, r.own_errno);
	ASSERT_EQ(0, r.own_status);
	close(tfd);
}

TEST(exec_inherited_fd_refused)
{
	/* spec: spawn_template_spawn(): after an exec (the fd inherited across execve): EACCES, no child */
	static struct st_out o;
	char path[PATH_MAX], num[16];
	char *argv[] = { "probe", "spawnfd", num, NULL };
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	snprintf(num, sizeof(num), "%d", tfd);
	run_execve_keep_fds(path, argv, &o);
	ASSERT_LT(0, o.pid) TH_LOG("fork: errno %d", o.err);
	/* the whole output: the refusal and no child */
	ASSERT_STREQ("spawnfd=EACCES\nchildren=none\n", o.buf);
	ASSERT_TRUE(WIFEXITED(o.status));
	ASSERT_EQ(EACCES, WEXITSTATUS(o.status));
	close(tfd);
}

TEST(spawned_child_with_inherited_fd_refused)
{
	/* spec: spawn_template_spawn(): after an exec (the child of a spawn, the fd kept by INHERIT_FDS): EACCES, no child */
	static struct st_out o;
	char path[PATH_MAX], num[16];
	char *argv[] = { "probe", "spawnfd", num, NULL };
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	snprintf(num, sizeof(num), "%d", tfd);
	ASSERT_LT(0, st_run(tfd, SPAWN_TEMPLATE_SPAWN_INHERIT_FDS, argv, no_env,
			    NULL, 0, &o)) TH_LOG("spawn: errno %d", o.err);
	/* the whole output: the refusal and no child */
	ASSERT_STREQ("spawnfd=EACCES\nchildren=none\n", o.buf);
	ASSERT_TRUE(WIFEXITED(o.status));
	ASSERT_EQ(EACCES, WEXITSTATUS(o.status));
	close(tfd);
}

TEST_HARNESS_MAIN
