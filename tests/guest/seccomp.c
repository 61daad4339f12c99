// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp and spawn templates. The exec inside spawn_template_spawn() is
 * not an execve/execveat system call, so a deny-list on those two does not
 * deny a spawn; a filter must name syscall 473 (and 472) to do that. The
 * spawned child inherits the caller's filter like a forked child does.
 */
#include <stddef.h>
#include <sys/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "common.h"

#ifndef __NR_execveat
#define __NR_execveat 322
#endif

/*
 * Deny each syscall of @nrs with SECCOMP_RET_ERRNO(EPERM), allow the rest.
 * Root has CAP_SYS_ADMIN, so no_new_privs is not needed (and not set, so it
 * cannot be what changes an outcome).
 */
static int deny_syscalls(const int *nrs, int n)
{
	struct sock_filter f[32];
	struct sock_fprog prog;
	int i, k = 0;

	if (n > 12)
		return -1;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			AUDIT_ARCH_X86_64, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				nrs[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
				SECCOMP_RET_ERRNO | EPERM);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = k;
	prog.filter = f;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static const int exec_nrs[] = { __NR_execve, __NR_execveat };
static char *const blocked_argv[] = { "probe", "blocked", NULL };
static char *const ids_argv[] = { "probe", "ids", NULL };
static char *const no_env[] = { NULL };

/* Spawn @argv from @tfd and reap it, output in @o; 0, or -1 (o->err). */
static int run(int tfd, char *const *argv, struct st_out *o)
{
	if (st_run(tfd, 0, argv, no_env, NULL, 0, o) < 0 || o->status == -1)
		return -1;
	return 0;
}

TEST(exec_denylist_does_not_deny_spawn)
{
	/* spec: spawn_template_spawn(): the exec runs in the kernel, not as an execve/execveat syscall; a filter denying those two does not deny the spawn */
	static char *const true_argv[] = { "true", NULL };
	static struct st_out o;
	char path[PATH_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, deny_syscalls(exec_nrs, 2));
	/* the filter works: this process cannot execve or execveat */
	ASSERT_EQ(-1, execve("/usr/bin/true", true_argv, true_argv + 1));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, syscall(__NR_execveat, AT_FDCWD, "/usr/bin/true",
			      true_argv, true_argv + 1, 0));
	ASSERT_EQ(EPERM, errno);

	/* create (472) and spawn (473) are not on the list: both work */
	st_helper_path(_metadata, "helper_probe", path, sizeof(path));
	tfd = spawn_template_create_path(path, 0);
	ASSERT_LE(0, tfd) TH_LOG("create: errno %d", errno);
	ASSERT_EQ(0, run(tfd, ids_argv, &o)) TH_LOG("spawn: errno %d", o.err);
	ASSERT_EQ(0, o.status);
	/* the child ran the probe */
	ASSERT_STREQ("0", st_kv_str(o.buf, "ruid")) TH_LOG("out: %s", o.buf);
	ASSERT_STREQ("0", st_kv_str(o.buf, "euid")) TH_LOG("out: %s", o.buf);
	close(tfd);
}

TEST(child_inherits_filter)
{
	/* spec: spawn_template_spawn(): the child is created like vfork() and keeps the caller's seccomp filter across the exec */
	static struct st_out o;
	char path[PATH_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);

	/* control: no filter, the child's execve reaches the VFS (ENOENT) */
	ASSERT_EQ(0, run(tfd, blocked_argv, &o));
	ASSERT_EQ(0, o.status);
	ASSERT_STREQ("ENOENT", st_kv_str(o.buf, "execve")) TH_LOG("out: %s", o.buf);
	ASSERT_EQ(0, run(tfd, ids_argv, &o));
	ASSERT_STREQ("0", st_kv_str(o.buf, "seccomp")) TH_LOG("out: %s", o.buf);

	ASSERT_EQ(0, deny_syscalls(exec_nrs, 2));
	ASSERT_EQ(0, run(tfd, blocked_argv, &o));
	ASSERT_EQ(0, o.status);
	ASSERT_STREQ("EPERM", st_kv_str(o.buf, "execve")) TH_LOG("out: %s", o.buf);
	/* 473 is not on the list: it fails, but not by the filter */
	ASSERT_NE(NULL, st_kv(o.buf, "spawn473")) TH_LOG("out: %s", o.buf);
	ASSERT_STRNE("EPERM", st_kv_str(o.buf, "spawn473")) TH_LOG("out: %s", o.buf);
	ASSERT_EQ(0, run(tfd, ids_argv, &o));
	ASSERT_STREQ("2", st_kv_str(o.buf, "seccomp")) TH_LOG("out: %s", o.buf);
	close(tfd);
}

TEST(spawn_syscall_denied)
{
	/* spec: spawn_template_spawn(): returns -1/errno having created no child (a filter denying 473: EPERM) */
	static const int nrs[] = { __NR_spawn_template_spawn };
	static struct st_out o;
	char path[PATH_MAX];
	int tfd, pidfd = -1;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	/* control: the template works before the filter */
	ASSERT_EQ(0, run(tfd, ids_argv, &o));
	ASSERT_EQ(0, o.status);

	ASSERT_EQ(0, deny_syscalls(nrs, 1));
	ASSERT_EQ(0, st_watch_children(0));
	ASSERT_EQ(-1, st_spawn(tfd, 0, ids_argv, no_env, NULL, 0, &pidfd));
	ASSERT_EQ(EPERM, errno);
	/* no child now, and none came and went (SIGCHLD) */
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("evidence of a child");
	close(tfd);
}

TEST(create_syscall_denied)
{
	/* spec: spawn_template_create(): a filter denying 472 denies template creation (EPERM); templates made before still spawn */
	static const int nrs[] = { __NR_spawn_template_create };
	static struct st_out o;
	char path[PATH_MAX];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = st_probe_template_path(_metadata, path, sizeof(path), 0);
	ASSERT_EQ(0, deny_syscalls(nrs, 1));
	ASSERT_EQ(-1, spawn_template_create_path(path, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(0, run(tfd, ids_argv, &o));
	ASSERT_EQ(0, o.status);
	close(tfd);
}

TEST_HARNESS_MAIN
