// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke check: the chain from build to guest works and the running kernel
 * has spawn templates. Skips with the reason on a kernel without them.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "spawn_template_abi.h"

#define TRUE_BIN "/usr/bin/true"

TEST(create_and_spawn_true)
{
	/* spec: spawn_template_create / spawn_template_spawn: a template runs its ELF */
	struct spawn_template_create_args cargs = {
		.execfd = -1,
		.filename = (__u64)(unsigned long)TRUE_BIN,
	};
	char *argv[] = { "true", NULL };
	char *envp[] = { NULL };
	struct spawn_template_spawn_args sargs = {
		.argv = (__u64)(unsigned long)argv,
		.envp = (__u64)(unsigned long)envp,
	};
	int tfd, pidfd = -1, status;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);

	tfd = sys_spawn_template_create(&cargs, sizeof(cargs));
	ASSERT_LE(0, tfd) TH_LOG("spawn_template_create: %s", strerror(errno));

	sargs.pidfd = (__u64)(unsigned long)&pidfd;
	pid = sys_spawn_template_spawn(tfd, &sargs, sizeof(sargs));
	ASSERT_LT(0, pid) TH_LOG("spawn_template_spawn: %s", strerror(errno));
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(pidfd);
	close(tfd);
}

TEST_HARNESS_MAIN
