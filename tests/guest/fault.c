// SPDX-License-Identifier: GPL-2.0
/*
 * Every error path of spawn_template_create() and spawn_template_spawn()
 * under the kernel's fault injection (kconfigs/fault.config,
 * docs/fault-injection.md).
 *
 * For each call, n = 1, 2, ... is written to /proc/thread-self/fail-nth
 * just before it, so that the n-th fault site the call reaches fails
 * (an allocation, a page, a user copy), until a call reaches fewer than
 * n sites and succeeds with no fault injected. For every n: the call
 * succeeds or fails with an errno allowed below, and nothing is left
 * behind (fd, pidfd, template, child, zombie, write pin). fail-nth is
 * per task and a new task starts with it clear: the faults hit the
 * caller's part of a spawn (validation, revalidation, the clone), never
 * the child's actions or exec.
 *
 * Skips on a kernel without fault injection, so the default run stays
 * green.
 */
#include "common.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"
#define PROBE		ST_SCRATCH "/probe"
/* A call that still fails at site MAX_SITES never gets through: a bug. */
#define MAX_SITES	4000
#define LONG_ARGC	2000

static char *const exit0[] = { "probe", "exit", "0", NULL };
static char *const noenv[] = { NULL };

/*
 * What an injected fault may turn into. A failed allocation is ENOMEM
 * (EAGAIN from the clone), a failed user copy EFAULT. Nothing else: the
 * inputs are valid and the file did not change, so a refusal such as
 * ESTALE or EACCES under a fault reports a problem that is not there.
 */
static int allowed_create(int e)
{
	return e == ENOMEM || e == EFAULT;
}

static int allowed_spawn(int e)
{
	return e == ENOMEM || e == EFAULT || e == EAGAIN;
}

/*
 * The debugfs knobs: by default failslab and fail_page_alloc leave
 * sleeping allocations (GFP_KERNEL) alone, and every injected fault
 * prints a stack trace. fail-nth overrides probability, interval and
 * times, not these. min-order stays 1: order-0 pages back the caller's
 * own page faults, which must not fail between the write and the call.
 */
static const char *const knob_path[] = {
	DEBUGFS "/failslab/ignore-gfp-wait",
	DEBUGFS "/fail_page_alloc/ignore-gfp-wait",
	DEBUGFS "/failslab/verbose",
	DEBUGFS "/fail_page_alloc/verbose",
	DEBUGFS "/fail_usercopy/verbose",
};
static const char *const knob_value[] = { "N", "N", "0", "0", "0" };
#define NKNOBS	ST_NELEM(knob_path)

struct knobs {
	char old[NKNOBS][16];	/* "" when the knob does not exist */
	int set;
};

/* Mount debugfs in this process's mount namespace if it is not there. */
static int debugfs_reachable(void)
{
	if (!access(DEBUGFS "/failslab", F_OK) || !access(KMEMLEAK, F_OK))
		return 1;
	return !mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
}

static void knobs_set(struct __test_metadata *_metadata, struct knobs *k)
{
	size_t i;
	int fd;
	ssize_t n;

	for (i = 0; i < NKNOBS; i++) {
		k->old[i][0] = '\0';
		fd = open(knob_path[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			TH_LOG("%s: %m: that kind of fault is not tuned", knob_path[i]);
			continue;
		}
		n = read(fd, k->old[i], sizeof(k->old[i]) - 1);
		close(fd);
		k->old[i][n > 0 ? n : 0] = '\0';
		k->old[i][strcspn(k->old[i], "\n")] = '\0';
		ASSERT_EQ(0, st_write_str(knob_path[i], knob_value[i]))
			TH_LOG("cannot set %s", knob_path[i]);
	}
	k->set = 1;
}

/* In the parent: the knobs are global, restore them after any failure. */
static void knobs_restore(struct __test_metadata *_metadata, struct knobs *k)
{
	size_t i;

	if (!k->set)
		return;
	if (access(DEBUGFS "/failslab", F_OK) &&
	    (unshare(CLONE_NEWNS) ||
	     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     mount("debugfs", DEBUGFS, "debugfs", 0, NULL))) {
		TH_LOG("cannot reach debugfs to restore the fault knobs: %m");
		return;
	}
	for (i = 0; i < NKNOBS; i++)
		if (k->old[i][0] && st_write_str(knob_path[i], k->old[i]))
			TH_LOG("cannot restore %s to %s", knob_path[i], k->old[i]);
}

/* ---- fail-nth ---- */

static int fail_nth_arm(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return write(fd, buf, len) == len ? 0 : -1;
}

/*
 * Was the armed fault injected during the call? Reading fail-nth copies
 * out with a user copy, itself a fault site while a fault is pending:
 * EFAULT there means the call left it pending. Then clear it, so that
 * nothing after the call fails; the write may take the pending fault.
 */
static int fail_nth_disarm(int fd)
{
	char buf[16];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	int pending = 1, tries;

	if (r > 0) {
		buf[r] = '\0';
		pending = atoi(buf) != 0;
	}
	for (tries = 0; tries < 4; tries++)
		if (write(fd, "0", 1) == 1)
			break;
	return !pending;
}

/* ---- kmemleak: nothing leaked by the calls swept ---- */

static int kmemleak_start(void)
{
	if (access(KMEMLEAK, R_OK | W_OK))
		return 0;
	st_write_str(KMEMLEAK, "scan");
	return !st_write_str(KMEMLEAK, "clear");
}

/* Leak records whose allocation went through one of the two calls. */
static int kmemleak_ours(char *report, size_t size)
{
	int fd, n = 0;
	char *rec;

	/* kmemleak ignores objects younger than 5 s; scan twice. */
	sleep(6);
	st_write_str(KMEMLEAK, "scan");
	sleep(1);
	st_write_str(KMEMLEAK, "scan");
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	st_read_all(fd, report, size);
	close(fd);
	for (rec = strstr(report, "unreferenced object"); rec;
	     rec = strstr(rec + 1, "unreferenced object")) {
		char *next = strstr(rec + 1, "unreferenced object");
		size_t len = next ? (size_t)(next - rec) : strlen(rec);

		if (memmem(rec, len, "spawn_template", 14))
			n++;
	}
	return n;
}

/* ---- the sweep ---- */

/* One call under test: its own setup, the call, the check of its result. */
struct call {
	const char *name;
	/* Before arming: what the call needs (fds, a template). */
	void (*prepare)(struct __test_metadata *_metadata, void *ctx);
	/* The call itself, nothing else: returns its result, errno kept. */
	long (*call)(void *ctx);
	/* After disarming: check a success, release what the call made. */
	void (*finish)(struct __test_metadata *_metadata, void *ctx, long ret);
	int (*allowed)(int err);
};

struct tally {
	int sites;	/* fault sites the call reached */
	int refused;	/* injected, and the call failed */
	int survived;	/* injected, and the call succeeded all the same */
	int by_errno[256];
};

static void sweep(struct __test_metadata *_metadata, int nth, const struct call *c,
		  void *ctx, struct tally *t)
{
	int n, injected, fds, e;
	long ret;

	memset(t, 0, sizeof(*t));
	for (n = 1; n <= MAX_SITES; n++) {
		fds = st_fd_count(0);
		c->prepare(_metadata, ctx);
		ASSERT_EQ(0, fail_nth_arm(nth, n));
		ret = c->call(ctx);
		e = errno;
		injected = fail_nth_disarm(nth);
		if (ret < 0) {
			ASSERT_TRUE(injected)
				TH_LOG("%s: failed with %s and no fault injected (n=%d)",
				       c->name, strerrorname_np(e), n);
			ASSERT_TRUE(c->allowed(e))
				TH_LOG("%s: fault site %d: %s is not what a failed allocation or user copy may give (ENOMEM, EFAULT%s)",
				       c->name, n, strerrorname_np(e),
				       c->allowed(EAGAIN) ? ", EAGAIN" : "");
			t->refused++;
			t->by_errno[e & 0xff]++;
		} else if (injected) {
			t->survived++;
		}
		c->finish(_metadata, ctx, ret);
		/* Nothing left behind: fds (templates, pidfds), children. */
		ASSERT_EQ(fds, st_fd_count(0))
			TH_LOG("%s: fault site %d (%s): an fd was left behind",
			       c->name, n, ret < 0 ? strerrorname_np(e) : "success");
		ASSERT_EQ(0, st_child_evidence())
			TH_LOG("%s: fault site %d: a child or zombie was left behind",
			       c->name, n);
		if (!injected)
			break;
	}
	ASSERT_LE(n, MAX_SITES) TH_LOG("%s: still failing at site %d", c->name, n);
	t->sites = n - 1;
	TH_LOG("%s: %d fault sites reached; %d refused (ENOMEM %d, EFAULT %d, EAGAIN %d), %d succeeded despite the fault",
	       c->name, t->sites, t->refused, t->by_errno[ENOMEM], t->by_errno[EFAULT],
	       t->by_errno[EAGAIN], t->survived);
}

/* The common setup: a private probe, fail-nth, the knobs, kmemleak. */
struct env {
	struct knobs knobs;
	int nth;
	int kmemleak;
};

static void env_setup(struct __test_metadata *_metadata, struct env *env)
{
	env->nth = -1;
	env->knobs.set = 0;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no %s (kernel without CONFIG_FAULT_INJECTION: --kconfig fault)",
		     FAIL_NTH);
	st_scratch_probe(_metadata, PROBE);
	if (!debugfs_reachable())
		TH_LOG("debugfs not reachable: default fault knobs (sleeping allocations not failed)");
	else
		knobs_set(_metadata, &env->knobs);
	env->kmemleak = kmemleak_start();
	env->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, env->nth) TH_LOG("open %s: %m", FAIL_NTH);
}

static void env_finish(struct __test_metadata *_metadata, struct env *env)
{
	static char report[1 << 16];
	int leaks;

	/* The last template is gone: the file must be writable again. */
	ASSERT_EQ(0, st_write_errno(PROBE)) TH_LOG("a write pin was left behind");
	if (!env->kmemleak) {
		TH_LOG("kmemleak not available: no leak scan");
		return;
	}
	leaks = kmemleak_ours(report, sizeof(report));
	ASSERT_EQ(0, leaks) TH_LOG("kmemleak: %d leak(s) from the calls:\n%.4000s",
				   leaks, report);
}

/* ---- spawn_template_create() ---- */

struct create_ctx {
	bool by_fd;
	int execfd;
};

static void create_prepare(struct __test_metadata *_metadata, void *p)
{
	struct create_ctx *c = p;

	c->execfd = -1;
	if (c->by_fd) {
		c->execfd = open(PROBE, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, c->execfd);
	}
}

static long create_call(void *p)
{
	struct create_ctx *c = p;

	return c->by_fd ? spawn_template_create_fd(c->execfd, SPAWN_TEMPLATE_CREATE_CLOEXEC)
			: spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
}

static void create_finish(struct __test_metadata *_metadata, void *p, long ret)
{
	struct create_ctx *c = p;

	if (c->execfd >= 0)
		close(c->execfd);
	if (ret < 0) {
		/* A refused create holds no pin. */
		ASSERT_EQ(0, st_write_errno(PROBE)) TH_LOG("a refused create left a write pin");
		return;
	}
	/* The template works, and closing it releases the pin. */
	ASSERT_EQ(ETXTBSY, st_write_errno(PROBE));
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait((int)ret, exit0));
	close((int)ret);
	ASSERT_EQ(0, st_write_errno(PROBE)) TH_LOG("the write pin outlived the template");
}

FIXTURE(create) {
	struct env env;
};

ST_ORIGIN_VARIANTS(create);

FIXTURE_SETUP(create)
{
	env_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN_PARENT(create)
{
	knobs_restore(_metadata, &self->env.knobs);
}

TEST_F_TIMEOUT(create, every_fault_site, 900)
{
	/* spec: spawn_template_create(): success or an error, never a half-made template (fd, write pin) */
	struct create_ctx ctx = { .by_fd = variant->by_fd };
	const struct call c = {
		.name = variant->by_fd ? "create(execfd)" : "create(path)",
		.prepare = create_prepare, .call = create_call,
		.finish = create_finish, .allowed = allowed_create,
	};
	struct tally t;

	sweep(_metadata, self->env.nth, &c, &ctx, &t);
	ASSERT_LT(0, t.sites) TH_LOG("no fault site reached: is fail-nth working?");
	env_finish(_metadata, &self->env);
}

/* ---- spawn_template_spawn() ---- */

enum spawn_kind { NO_ACTIONS, CLOSE, DUP2, FCHDIR, OPEN, CLOSE_RANGE, SIGMASK,
		  SIGDEFAULT, INHERIT_FDS, LONG_ARGV };

struct spawn_ctx {
	int tfd;
	__u64 flags;
	struct spawn_template_action act[1];
	size_t nact;
	char *const *argv;
	int pidfd;
};

static void spawn_prepare(struct __test_metadata *_metadata, void *p)
{
	struct spawn_ctx *s = p;

	s->pidfd = -1;
}

static long spawn_call(void *p)
{
	struct spawn_ctx *s = p;

	return st_spawn(s->tfd, s->flags, s->argv, noenv, s->nact ? s->act : NULL, s->nact,
			&s->pidfd);
}

static void spawn_finish(struct __test_metadata *_metadata, void *p, long ret)
{
	struct spawn_ctx *s = p;
	int st;

	if (ret < 0) {
		/* clone3() too may write the number of a pidfd it then drops. */
		if (s->pidfd != -1)
			TH_LOG("a refused spawn wrote %d to args.pidfd (not an open fd: counted)",
			       s->pidfd);
		return;
	}
	ASSERT_LE(0, s->pidfd) TH_LOG("a spawn returned %ld but stored no pidfd", ret);
	st = st_wait_pidfd(s->pidfd);
	/* After the child exists, a failure is only its exit status. */
	ASSERT_TRUE(st == ST_EXITED(0) || st == ST_EXITED(1) || st == ST_EXITED(126) ||
		    st == ST_EXITED(127))
		TH_LOG("child status 0x%x: not exit 0, 1, 126 or 127", st);
	if (st != ST_EXITED(0))
		TH_LOG("child exited %d after a fault in its caller", WEXITSTATUS(st));
}

FIXTURE(spawn) {
	struct env env;
	int fd;		/* an fd for the fd actions (fd 10) */
	int dirfd;
};

FIXTURE_VARIANT(spawn) {
	enum spawn_kind kind;
};

FIXTURE_VARIANT_ADD(spawn, no_actions) { .kind = NO_ACTIONS };
FIXTURE_VARIANT_ADD(spawn, close) { .kind = CLOSE };
FIXTURE_VARIANT_ADD(spawn, dup2) { .kind = DUP2 };
FIXTURE_VARIANT_ADD(spawn, fchdir) { .kind = FCHDIR };
FIXTURE_VARIANT_ADD(spawn, open) { .kind = OPEN };
FIXTURE_VARIANT_ADD(spawn, close_range) { .kind = CLOSE_RANGE };
FIXTURE_VARIANT_ADD(spawn, sigmask) { .kind = SIGMASK };
FIXTURE_VARIANT_ADD(spawn, sigdefault) { .kind = SIGDEFAULT };
FIXTURE_VARIANT_ADD(spawn, inherit_fds) { .kind = INHERIT_FDS };
FIXTURE_VARIANT_ADD(spawn, long_argv) { .kind = LONG_ARGV };

FIXTURE_SETUP(spawn)
{
	self->fd = -1;
	self->dirfd = -1;
	env_setup(_metadata, &self->env);
	if (self->env.nth < 0)
		return;	/* skipped */
	/* fd 10, inherited (not close-on-exec): what the fd actions work on. */
	self->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(10, dup2(self->fd, 10));
	self->dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dirfd);
}

FIXTURE_TEARDOWN_PARENT(spawn)
{
	knobs_restore(_metadata, &self->env.knobs);
}

/* A long but valid argv: LONG_ARGC strings of 63 bytes. */
static char *const *long_argv(void)
{
	static char *argv[LONG_ARGC + 4];
	static char arg[64];
	int i;

	memset(arg, 'a', sizeof(arg) - 1);
	argv[0] = "probe";
	argv[1] = "exit";
	argv[2] = "0";
	for (i = 3; i < LONG_ARGC + 3; i++)
		argv[i] = arg;
	argv[i] = NULL;
	return argv;
}

TEST_F_TIMEOUT(spawn, every_fault_site, 900)
{
	/* spec: spawn_template_spawn(): success, or an error with no child, or a child whose exit status is 1/126/127; nothing left behind */
	static sigset_t set;
	static struct spawn_template_sigset ss = { 0, 8 };
	static struct spawn_template_open so;
	struct spawn_ctx s = { .argv = exit0 };
	const struct call c = {
		.name = "spawn", .prepare = spawn_prepare, .call = spawn_call,
		.finish = spawn_finish, .allowed = allowed_spawn,
	};
	struct tally t;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ss.sigset = ST_PTR(&set);
	so = st_open_arg("/dev/null", O_RDONLY, 0, 0);
	switch (variant->kind) {
	case NO_ACTIONS:
		break;
	case CLOSE:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_CLOSE, 0, 10, 0, NULL);
		break;
	case DUP2:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_DUP2, 0, 10, 11, NULL);
		break;
	case FCHDIR:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_FCHDIR, 0, self->dirfd, 0, NULL);
		break;
	case OPEN:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_OPEN, 0, AT_FDCWD, 12, &so);
		break;
	case CLOSE_RANGE:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_CLOSE_RANGE, 0, 10, -1, NULL);
		break;
	case SIGMASK:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_SIGMASK, 0, 0, 0, &ss);
		break;
	case SIGDEFAULT:
		s.act[0] = st_act(SPAWN_TEMPLATE_ACTION_SIGDEFAULT, 0, 0, 0, &ss);
		break;
	case INHERIT_FDS:
		s.flags = SPAWN_TEMPLATE_SPAWN_INHERIT_FDS;
		break;
	case LONG_ARGV:
		s.argv = long_argv();
		break;
	}
	s.nact = variant->kind >= CLOSE && variant->kind <= SIGDEFAULT;
	s.tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	/* Control, before any fault: this spawn runs and exits 0. */
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(s.tfd, s.argv));

	sweep(_metadata, self->env.nth, &c, &s, &t);
	ASSERT_LT(0, t.sites) TH_LOG("no fault site reached: is fail-nth working?");
	/* The template outlived every failure: it still spawns. */
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(s.tfd, s.argv));
	close(s.tfd);
	close(self->fd);
	close(10);
	env_finish(_metadata, &self->env);
}

TEST_HARNESS_MAIN
