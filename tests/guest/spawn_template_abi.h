/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The spawn-template ABI as the checks see it.
 *
 * The UAPI header of the kernel under test is used when headers_install
 * produced one; otherwise (a kernel without the series, --series none) the
 * definitions below, taken from the ABI contract, let the checks build and
 * then skip on ENOSYS. Either way the sizes are pinned against the contract.
 */
#ifndef SPAWN_TEMPLATE_ABI_H
#define SPAWN_TEMPLATE_ABI_H

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/types.h>

#if __has_include(<linux/spawn_template.h>)
#include <linux/spawn_template.h>
#define SPAWN_TEMPLATE_UAPI_HEADER 1
#else
#include <linux/openat2.h>

#define SPAWN_TEMPLATE_CREATE_CLOEXEC		(1ULL << 0)
#define SPAWN_TEMPLATE_SPAWN_INHERIT_FDS	(1ULL << 0)

enum {
	SPAWN_TEMPLATE_ACTION_CLOSE = 0,
	SPAWN_TEMPLATE_ACTION_DUP2 = 1,
	SPAWN_TEMPLATE_ACTION_FCHDIR = 2,
	SPAWN_TEMPLATE_ACTION_OPEN = 3,
	SPAWN_TEMPLATE_ACTION_CLOSE_RANGE = 4,
	SPAWN_TEMPLATE_ACTION_SIGMASK = 5,
	SPAWN_TEMPLATE_ACTION_SIGDEFAULT = 6,
};

struct spawn_template_action {
	__u32 type;
	__u32 flags;
	__s32 fd;
	__s32 newfd;
	__aligned_u64 arg;
};

struct spawn_template_open {
	__aligned_u64 path;
	struct open_how how;
};

struct spawn_template_sigset {
	__aligned_u64 sigset;
	__aligned_u64 sigsetsize;
};

struct spawn_template_create_args {
	__aligned_u64 flags;
	__s32 execfd;
	__u32 exec_flags;
	__aligned_u64 filename;
	__aligned_u64 actions;
	__aligned_u64 actions_len;
	__aligned_u64 reserved[4];
};

struct spawn_template_spawn_args {
	__aligned_u64 flags;
	__aligned_u64 pidfd;
	__aligned_u64 argv;
	__aligned_u64 envp;
	__aligned_u64 actions;
	__aligned_u64 actions_len;
	__aligned_u64 reserved[4];
};

#define SPAWN_TEMPLATE_CREATE_ARGS_SIZE_VER0	72
#define SPAWN_TEMPLATE_SPAWN_ARGS_SIZE_VER0	80
#endif /* __has_include(<linux/spawn_template.h>) */

/* spec: "System calls (x86_64)" */
#ifndef __NR_spawn_template_create
#define __NR_spawn_template_create 472
#endif
#ifndef __NR_spawn_template_spawn
#define __NR_spawn_template_spawn 473
#endif

/* spec: "UAPI header": sizes are part of the ABI. */
static_assert(sizeof(struct spawn_template_action) == 24, "action size");
static_assert(sizeof(struct spawn_template_open) == 32, "open size");
static_assert(sizeof(struct spawn_template_sigset) == 16, "sigset size");
static_assert(sizeof(struct spawn_template_create_args) == 72, "create size");
static_assert(sizeof(struct spawn_template_spawn_args) == 80, "spawn size");
static_assert(SPAWN_TEMPLATE_CREATE_ARGS_SIZE_VER0 == 72, "create VER0");
static_assert(SPAWN_TEMPLATE_SPAWN_ARGS_SIZE_VER0 == 80, "spawn VER0");

static inline int sys_spawn_template_create(struct spawn_template_create_args *args,
					    size_t size)
{
	return syscall(__NR_spawn_template_create, args, size);
}

static inline pid_t sys_spawn_template_spawn(int template_fd,
					     struct spawn_template_spawn_args *args,
					     size_t size)
{
	return syscall(__NR_spawn_template_spawn, template_fd, args, size);
}

/* A template of the file at an absolute path, or of an open fd. */
static inline int spawn_template_create_path(const char *path, __u64 flags)
{
	struct spawn_template_create_args a = {
		.flags = flags,
		.execfd = -1,
		.filename = (__u64)(unsigned long)path,
	};

	return sys_spawn_template_create(&a, sizeof(a));
}

static inline int spawn_template_create_fd(int fd, __u64 flags)
{
	struct spawn_template_create_args a = {
		.flags = flags,
		.execfd = fd,
	};

	return sys_spawn_template_create(&a, sizeof(a));
}

/*
 * True when the running kernel lacks the call. A NULL args pointer with
 * size 0 can only fail; ENOSYS is the one answer that means "absent".
 */
static inline int spawn_template_create_absent(void)
{
	return syscall(__NR_spawn_template_create, NULL, 0) < 0 &&
	       errno == ENOSYS;
}

static inline int spawn_template_spawn_absent(void)
{
	return syscall(__NR_spawn_template_spawn, -1, NULL, 0) < 0 &&
	       errno == ENOSYS;
}

/*
 * Every check starts with one of these: on a kernel without the calls it
 * needs the check is a skip with the reason, never a pass or a failure
 * (tests/guest/README.md). A check that only creates templates needs only
 * spawn_template_create(), so that on a prefix of a series that adds the
 * calls one by one it runs from the patch that adds that call.
 */
#define REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata)			\
	do {								\
		if (spawn_template_create_absent())			\
			SKIP(return, "ENOSYS: spawn_template syscalls not in this kernel"); \
	} while (0)

#define REQUIRE_SPAWN_TEMPLATE(_metadata)				\
	do {								\
		REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);		\
		if (spawn_template_spawn_absent())			\
			SKIP(return, "ENOSYS: spawn_template_spawn not in this kernel"); \
	} while (0)

#endif /* SPAWN_TEMPLATE_ABI_H */
