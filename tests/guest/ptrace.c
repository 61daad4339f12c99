// SPDX-License-Identifier: GPL-2.0
/*
 * ptrace sees a spawn as it sees vfork() + execve(): a tracer that asked
 * for vfork and exec events (PTRACE_O_TRACEVFORK, PTRACE_O_TRACEEXEC) gets
 * a PTRACE_EVENT_VFORK stop of the spawner naming the new child, the new
 * child auto-attached, and its PTRACE_EVENT_EXEC stop (spec:
 * spawn_template_spawn(): "ptrace exec event ... as for execveat()").
 * The order of the child's first stops may differ: a spawned child execs
 * before it ever returns to user space.
 */
#include <sys/ptrace.h>

#include "common.h"

static char *const exit0[] = { "probe", "exit", "0", NULL };
static char *const noenv[] = { NULL };

/* What the tracer saw. */
struct seen {
	pid_t vfork_child;	/* PTRACE_GETEVENTMSG of the vfork stop */
	pid_t exec_pid;		/* the task that stopped at PTRACE_EVENT_EXEC */
	int child_status;	/* the new child's raw wait status */
	int spawner_status;
};

/* In the tracee: start a child the way @by_spawn says, wait, report. */
static void tracee(int go, bool by_spawn)
{
	const char *probe = st_helper("helper_probe");
	int tfd = -1, pidfd = -1;
	char c;
	pid_t pid;

	if (!probe)
		_exit(20);
	if (by_spawn) {
		tfd = spawn_template_create_path(probe, 0);
		if (tfd < 0)
			_exit(21);
	}
	if (read(go, &c, 1) != 1)
		_exit(22);
	if (by_spawn) {
		pid = st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd);
	} else {
		pid = vfork();
		if (pid == 0) {
			execve(probe, exit0, noenv);
			_exit(23);
		}
	}
	if (pid < 0)
		_exit(24);
	_exit(st_wait(pid) == ST_EXITED(0) ? 0 : 25);
}

/* Trace a tracee until it exits; the events it and its child gave. */
static void trace(struct __test_metadata *_metadata, bool by_spawn,
		  struct seen *seen)
{
	int go[2], status, event;
	pid_t t, w;
	unsigned long msg;

	memset(seen, 0, sizeof(*seen));
	seen->child_status = -1;
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	t = fork();
	ASSERT_LE(0, t);
	if (t == 0) {
		close(go[1]);
		tracee(go[0], by_spawn);
	}
	close(go[0]);
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t, NULL,
			    PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
			    PTRACE_O_EXITKILL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);

	for (;;) {
		w = waitpid(-1, &status, __WALL);
		ASSERT_LT(0, w) TH_LOG("waitpid: %m");
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (w == t) {
				seen->spawner_status = status;
				break;
			}
			if (w == seen->vfork_child)
				seen->child_status = status;
			continue;
		}
		ASSERT_TRUE(WIFSTOPPED(status));
		event = status >> 16;
		if (event == PTRACE_EVENT_VFORK && w == t) {
			ASSERT_EQ(0, ptrace(PTRACE_GETEVENTMSG, w, NULL, &msg));
			seen->vfork_child = msg;
		} else if (event == PTRACE_EVENT_EXEC) {
			seen->exec_pid = w;
		}
		/* Deliver real signals, swallow event and group stops. */
		ASSERT_EQ(0, ptrace(PTRACE_CONT, w, NULL,
				    event || WSTOPSIG(status) == SIGTRAP ||
				    WSTOPSIG(status) == SIGSTOP ? 0 :
				    WSTOPSIG(status)));
	}
}

TEST(spawn_gives_the_vfork_and_exec_events)
{
	/* spec: spawn_template_spawn(): ptrace exec event as for execveat(); the child is created like vfork() */
	struct seen spawn, control;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	trace(_metadata, false, &control);
	ASSERT_EQ(ST_EXITED(0), control.spawner_status)
		TH_LOG("the vfork()+execve() control failed");
	ASSERT_LT(0, control.vfork_child);
	ASSERT_EQ(control.vfork_child, control.exec_pid);

	trace(_metadata, true, &spawn);
	ASSERT_EQ(ST_EXITED(0), spawn.spawner_status)
		TH_LOG("the traced spawner failed (exit %d)",
		       WEXITSTATUS(spawn.spawner_status));
	ASSERT_LT(0, spawn.vfork_child)
		TH_LOG("no PTRACE_EVENT_VFORK for the spawn");
	ASSERT_EQ(spawn.vfork_child, spawn.exec_pid)
		TH_LOG("no PTRACE_EVENT_EXEC stop of the spawned child %d",
		       spawn.vfork_child);
}

TEST_HARNESS_MAIN
