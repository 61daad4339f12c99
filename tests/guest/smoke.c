// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke check: the chain from build to guest works and the running kernel
 * has spawn templates. Skips with the reason on a kernel without them.
 */
#include "common.h"

#define TRUE_BIN "/usr/bin/true"

TEST(create_and_spawn_true)
{
	/* spec: spawn_template_create / spawn_template_spawn: a template runs its ELF */
	char *argv[] = { "true", NULL };
	char *envp[] = { NULL };
	int tfd, pidfd = -1;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);

	tfd = spawn_template_create_path(TRUE_BIN, 0);
	ASSERT_LE(0, tfd) TH_LOG("spawn_template_create: %s", strerror(errno));

	pid = st_spawn(tfd, 0, argv, envp, NULL, 0, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn_template_spawn: %s", strerror(errno));
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(ST_EXITED(0), st_wait(pid));
	close(pidfd);
	close(tfd);
}

TEST_HARNESS_MAIN
