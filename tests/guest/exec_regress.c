// SPDX-License-Identifier: GPL-2.0
/*
 * What the series leaves as it was: the exec code that it moves or shares
 * (fs/exec.c: exec_check_nproc(), bprm_execve_user(), exec_opened_file()
 * split out of do_execveat_common() and do_open_execat(); fs/binfmt_elf.c:
 * load_elf_binary() taking cached program headers), checked through
 * execve() and execveat() in fork()ed children and, where a spawn has the
 * same behaviour, through a spawn (or a template creation) of the same file.
 *
 * The execve()/execveat() checks pin what the base kernel does, so they do
 * not start with REQUIRE_SPAWN_TEMPLATE(): on a kernel without the series
 * they run and must pass (as the kernel's own selftests do, see
 * docs/regressions.md); only the spawn and creation variants skip there
 * with ENOSYS.
 *
 * A fork()ed child whose exec fails exits EXEC_FAILED + errno, so that the
 * check sees the exact errno; a spawned child whose exec fails exits with
 * the contract's class of it (127 ENOENT, 126 EACCES or ENOEXEC, 1 else).
 */
#include <elf.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "common.h"

#define PROBE		ST_SCRATCH "/probe"
#define NOEXEC_DIR	ST_SCRATCH "/nx"
#define NOEXEC_PROBE	NOEXEC_DIR "/probe"
#define EXEC_FAILED	128

static char *const exit0_argv[] = { "probe", "exit", "0", NULL };
static char *const report_argv[] = { "probe", "report", NULL };
static char *const no_env[] = { NULL };
static struct st_out out;

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return e == 0 ? "success" : n ? n : "E?";
}

/* How a check runs its file. */
enum route {
	R_EXECVE,	/* execve(path) in a fork()ed child */
	R_EXECVEAT,	/* execveat(fd, name, flags) in a fork()ed child */
	R_SPAWN,	/* spawn_template_spawn() of a template fd */
	R_CREATE_PATH,	/* spawn_template_create() of the path */
	R_CREATE_FD,	/* spawn_template_create() of an O_RDONLY fd */
};

/* Two variants of fixture @f: through execve() and through a spawn. */
#define EXECVE_OR_SPAWN_VARIANTS(f)					\
	FIXTURE_VARIANT(f) {						\
		int how;	/* R_EXECVE or R_SPAWN */		\
	};								\
	FIXTURE_VARIANT_ADD(f, execve) {				\
		.how = R_EXECVE,					\
	};								\
	FIXTURE_VARIANT_ADD(f, spawn) {					\
		.how = R_SPAWN,						\
	}

/*
 * Run by @how (R_EXECVE, R_EXECVEAT or R_SPAWN) with the child's fd 1 on a
 * pipe, collected in @o. @fd is execveat()'s dirfd or the template, @name
 * execve()'s path or execveat()'s name. The raw wait status, or -1 when no
 * child ran (a refused spawn: the errno in o->err).
 */
static int run_exec(int how, int fd, const char *name, int flags,
		    char *const *argv, char *const *envp, struct st_out *o)
{
	int p[2];

	if (how == R_SPAWN)
		return st_run(fd, 0, argv, envp, NULL, 0, o) < 0 ? -1 :
		       o->status;
	st_out_reset(o);
	if (pipe2(p, O_CLOEXEC)) {
		o->err = errno;
		return -1;
	}
	o->pid = fork();
	if (o->pid == 0) {
		if (dup2(p[1], 1) == 1) {
			if (how == R_EXECVE)
				syscall(SYS_execve, name, argv, envp);
			else
				syscall(__NR_execveat, fd, name, argv, envp,
					flags);
		}
		_exit(EXEC_FAILED + (errno & 0x7f));
	}
	o->err = o->pid < 0 ? errno : 0;
	close(p[1]);
	st_out_collect(o, p[0]);
	return o->pid < 0 ? -1 : o->status;
}

/* The wait status of a run by @how whose exec fails with @err. */
static int failed_with(int how, int err)
{
	if (how != R_SPAWN)
		return ST_EXITED(EXEC_FAILED + err);
	switch (err) {
	case ENOENT:
		return ST_EXITED(127);
	case EACCES:
	case ENOEXEC:
		return ST_EXITED(126);
	}
	return ST_EXITED(1);
}

/* A wait status (or a refused spawn) in words, for the logs. */
static const char *status_str(int how, int st, const struct st_out *o)
{
	static char s[96];

	if (st == -1)
		snprintf(s, sizeof(s), "no child: %s", ename(o->err));
	else if (WIFSIGNALED(st))
		snprintf(s, sizeof(s), "killed by signal %d", WTERMSIG(st));
	else if (how != R_SPAWN && WEXITSTATUS(st) > EXEC_FAILED)
		snprintf(s, sizeof(s), "exec failed with %s",
			 ename(WEXITSTATUS(st) - EXEC_FAILED));
	else
		snprintf(s, sizeof(s), "exit %d", WEXITSTATUS(st));
	return s;
}

/*
 * The scratch space of most checks: a tmpfs on /tmp with a copy of the
 * probe at PROBE, and a noexec tmpfs at NOEXEC_DIR with another copy.
 */
static void scratch_setup(struct __test_metadata *_metadata)
{
	st_scratch_probe(_metadata, PROBE);
	ASSERT_EQ(0, mkdir(NOEXEC_DIR, 0755));
	ASSERT_EQ(0, mount("st", NOEXEC_DIR, "tmpfs", MS_NOEXEC, "mode=0755"));
	st_copy_helper(_metadata, "helper_probe", NOEXEC_PROBE, 0755);
}

/* ---- RLIMIT_NPROC: exec_check_nproc() ---- */

/*
 * A user of our own, so that no other process of the guest counts
 * against its RLIMIT_NPROC; NPROC_SLEEPERS processes of it put it over
 * NPROC_LIMIT. The limit leaves room for the runner and one child once
 * the sleepers are gone.
 */
#define NPROC_UID	48813
#define NPROC_UID_STR	"48813"
#define NPROC_SLEEPERS	3
#define NPROC_LIMIT	2

static char *const ids_argv[] = { "probe", "ids", NULL };

/* What the runner saw at one attempt, sent to the check. */
struct nproc_rec {
	int err;		/* the exec's or the spawn's errno; 0: it ran */
	int status;		/* the spawned child's wait status, or -1 */
	int evidence;		/* st_child_evidence() after a refused spawn */
	int bad_flags_err;	/* execveat() with an unknown flag, meanwhile */
	int bad_name_err;	/* execve() of an unreadable file name */
};

static int become(uid_t uid)
{
	if (setgroups(0, NULL))
		return -1;
	if (setresgid(uid, uid, uid))
		return -1;
	return setresuid(uid, uid, uid);
}

/* Keep @cap alone, permitted and effective (after PR_SET_KEEPCAPS). */
static int keep_only_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[CAP_TO_INDEX(cap)].permitted = CAP_TO_MASK(cap);
	d[CAP_TO_INDEX(cap)].effective = CAP_TO_MASK(cap);
	return syscall(SYS_capset, &h, d);
}

FIXTURE(exec_nproc) {
	pid_t sleeper[NPROC_SLEEPERS];
	pid_t runner;
};

FIXTURE_VARIANT(exec_nproc) {
	bool spawn;
};

FIXTURE_VARIANT_ADD(exec_nproc, execve) {
	.spawn = false,
};

FIXTURE_VARIANT_ADD(exec_nproc, spawn) {
	.spawn = true,
};

FIXTURE_SETUP(exec_nproc)
{
	int i, p[2];
	char c;

	memset(self, 0, sizeof(*self));
	if (variant->spawn)
		REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	for (i = 0; i < NPROC_SLEEPERS; i++) {
		pid_t parent = getpid(), pid;

		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		/* The fixture is shared: only the parent writes the pid. */
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (become(NPROC_UID) ||
			    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) ||
			    getppid() != parent || write(p[1], "s", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		self->sleeper[i] = pid;
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("sleeper %d", i);
		close(p[0]);
	}
}

/* What outlives a failed check: the sleepers, the runner. */
FIXTURE_TEARDOWN_PARENT(exec_nproc)
{
	int i;

	for (i = 0; i < NPROC_SLEEPERS; i++) {
		if (self->sleeper[i] > 0)
			kill(self->sleeper[i], SIGKILL);
	}
	if (self->runner > 0)
		kill(self->runner, SIGKILL);
}

static void stop_sleepers(pid_t *sleeper)
{
	int i;

	for (i = 0; i < NPROC_SLEEPERS; i++) {
		if (sleeper[i] <= 0)
			continue;
		kill(sleeper[i], SIGKILL);
		st_wait(sleeper[i]);
		sleeper[i] = 0;
	}
}

/*
 * The exec side of the runner (the runner itself, or its child): an
 * attempt, its record to @ctl, then on a byte from @go a second attempt,
 * which replaces the process or writes a second record.
 */
static void nproc_exec(int ctl, int go)
{
	struct nproc_rec r = { .status = -1 };
	char c;

	/* Not an execveat() flag: the NPROC check comes first. */
	syscall(__NR_execveat, AT_FDCWD, PROBE, ids_argv, no_env, AT_REMOVEDIR);
	r.bad_flags_err = errno;
	/* The file name is copied before it. */
	syscall(SYS_execve, st_unmapped(), ids_argv, no_env);
	r.bad_name_err = errno;
	syscall(SYS_execve, PROBE, ids_argv, no_env);
	r.err = errno;
	if (write(ctl, &r, sizeof(r)) != sizeof(r) || read(go, &c, 1) != 1)
		_exit(80);
	syscall(SYS_execve, PROBE, ids_argv, no_env);
	r.err = errno;
	if (write(ctl, &r, sizeof(r)) != sizeof(r))
		_exit(81);
	_exit(82);
}

static void nproc_spawn(int tfd, struct nproc_rec *r)
{
	int pidfd = -1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	pid = st_spawn(tfd, 0, ids_argv, no_env, NULL, 0, &pidfd);
	if (pid < 0) {
		r->err = errno;
		r->evidence = st_child_evidence();
		return;
	}
	r->status = st_wait_pidfd(pidfd);
}

/*
 * The runner: RLIMIT_NPROC at NPROC_LIMIT, then setresuid() to NPROC_UID,
 * which is over it (PF_NPROC_EXCEEDED). With @priv it keeps
 * CAP_SYS_RESOURCE, with which fork() and spawns pass the limit.
 */
static void nproc_runner(bool spawn, bool priv, int ctl, int go, int out)
{
	struct rlimit rl = { NPROC_LIMIT, NPROC_LIMIT };
	struct nproc_rec r;
	pid_t pid;
	int tfd, st;
	char c;

	if (dup2(out, 1) != 1 || setrlimit(RLIMIT_NPROC, &rl))
		_exit(90);
	if (priv && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		_exit(91);
	if (become(NPROC_UID))
		_exit(92);
	if (priv && keep_only_cap(CAP_SYS_RESOURCE))
		_exit(93);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		_exit(94);
	if (!spawn) {
		if (!priv)
			nproc_exec(ctl, go);
		pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			nproc_exec(ctl, go);
		}
		if (pid < 0)
			_exit(95);
		close(ctl);
		close(go);
		st = st_wait(pid);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 96);
	}
	tfd = spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	if (tfd < 0)
		_exit(97);
	nproc_spawn(tfd, &r);
	if (write(ctl, &r, sizeof(r)) != sizeof(r) || read(go, &c, 1) != 1)
		_exit(98);
	nproc_spawn(tfd, &r);
	if (write(ctl, &r, sizeof(r)) != sizeof(r))
		_exit(99);
	_exit(0);
}

/*
 * The check: @sleeper and @runner are the fixture's, so that its parent
 * teardown can kill what a failed check leaves.
 */
static void nproc_check(struct __test_metadata *_metadata, pid_t *sleeper,
			pid_t *runner, bool spawn, bool priv)
{
	int ctl[2], go[2], o[2], st;
	struct nproc_rec r;
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(o, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ctl[0]);
		close(go[1]);
		close(o[0]);
		nproc_runner(spawn, priv, ctl[1], go[0], o[1]);
	}
	*runner = pid;
	close(ctl[1]);
	close(go[0]);
	close(o[1]);

	/* Over the limit. */
	n = read(ctl[0], &r, sizeof(r));
	if (n != sizeof(r)) {
		st = st_wait(*runner);
		*runner = 0;
		ASSERT_EQ(sizeof(r), n)
			TH_LOG("the runner ended before its first attempt: wait status 0x%x",
			       st);
	}
	if (!spawn) {
		ASSERT_EQ(EAGAIN, r.err)
			TH_LOG("execve() over RLIMIT_NPROC after setuid(): %s",
			       ename(r.err));
		ASSERT_EQ(EAGAIN, r.bad_flags_err)
			TH_LOG("execveat() with a bad flag over the limit: %s (EAGAIN: the NPROC check comes before the flags)",
			       ename(r.bad_flags_err));
		ASSERT_EQ(EFAULT, r.bad_name_err)
			TH_LOG("execve() of an unreadable name over the limit: %s (EFAULT: the name is copied before the NPROC check)",
			       ename(r.bad_name_err));
	} else if (!priv) {
		/* Like vfork(): the limit refuses the child itself. */
		ASSERT_EQ(EAGAIN, r.err)
			TH_LOG("spawn over RLIMIT_NPROC: %s, child status 0x%x",
			       ename(r.err), r.status);
		ASSERT_EQ(0, r.evidence) TH_LOG("the refused spawn left a child");
	} else {
		/* The child passed (CAP_SYS_RESOURCE); its exec is refused. */
		ASSERT_EQ(0, r.err) TH_LOG("spawn with CAP_SYS_RESOURCE: %s",
					   ename(r.err));
		ASSERT_EQ(ST_EXITED(1), r.status)
			TH_LOG("the spawned exec over the limit: wait status 0x%x (EAGAIN is exit 1)",
			       r.status);
	}

	/* Below it again: the exec rechecks and clears the flag. */
	stop_sleepers(sleeper);
	ASSERT_EQ(1, write(go[1], "g", 1));
	n = read(ctl[0], &r, sizeof(r));
	if (!spawn) {
		ASSERT_EQ(0, n) TH_LOG("execve() below the limit again: %s",
				       ename(r.err));
	} else {
		ASSERT_EQ(sizeof(r), n);
		ASSERT_EQ(0, r.err) TH_LOG("spawn below the limit again: %s",
					   ename(r.err));
		ASSERT_EQ(ST_EXITED(0), r.status)
			TH_LOG("spawned child below the limit again: 0x%x",
			       r.status);
	}
	st_read_all(o[0], out.buf, sizeof(out.buf));
	close(o[0]);
	st = st_wait(*runner);
	*runner = 0;
	ASSERT_EQ(ST_EXITED(0), st) TH_LOG("runner: wait status 0x%x", st);
	ASSERT_STREQ(NPROC_UID_STR, st_kv_str(out.buf, "ruid")) TH_LOG("%s", out.buf);
}

TEST_F(exec_nproc, over_limit_then_below)
{
	/* spec: What the series leaves as it was: after setuid() to a user over RLIMIT_NPROC, execve() fails with EAGAIN (checked after the file name, before the flags) and succeeds once the user is below the limit again; a spawn is refused like vfork() (EAGAIN, no child) and then runs */
	nproc_check(_metadata, self->sleeper, &self->runner, variant->spawn,
		    false);
}

TEST_F(exec_nproc, fork_passes_exec_refused)
{
	/* spec: What the series leaves as it was: with CAP_SYS_RESOURCE a child of a user over RLIMIT_NPROC is created, and its exec still fails with EAGAIN (a spawned child's: exit 1) until the user is below the limit */
	nproc_check(_metadata, self->sleeper, &self->runner, variant->spawn,
		    true);
}

/* ---- argv and envp: bprm_execve_user() ---- */

FIXTURE(exec_args) {
	int tfd;
};

EXECVE_OR_SPAWN_VARIANTS(exec_args);

FIXTURE_SETUP(exec_args)
{
	self->tfd = -1;
	if (variant->how == R_SPAWN)
		REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	if (variant->how == R_SPAWN)
		self->tfd = st_template(_metadata, PROBE,
					SPAWN_TEMPLATE_CREATE_CLOEXEC);
}

FIXTURE_TEARDOWN(exec_args)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

static int run_args(int tfd, int how, char *const *argv, char *const *envp)
{
	return run_exec(how, tfd, PROBE, 0, argv, envp, &out);
}

static void set_stack_limit(struct __test_metadata *_metadata, rlim_t bytes)
{
	struct rlimit rl;

	ASSERT_EQ(0, getrlimit(RLIMIT_STACK, &rl));
	rl.rlim_cur = bytes;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		rl.rlim_max = bytes;
	ASSERT_EQ(0, setrlimit(RLIMIT_STACK, &rl));
}

/* A string of @len bytes of @c, NUL-terminated (malloc). */
static char *filled(struct __test_metadata *_metadata, size_t len, char c)
{
	char *s = malloc(len + 1);

	ASSERT_NE(NULL, s);
	memset(s, c, len);
	s[len] = '\0';
	return s;
}

/*
 * The strings' share of the stack: min(3/4 of _STK_LIM, RLIMIT_STACK / 4),
 * at least ARG_MAX (32 pages), less one pointer per string; the file name
 * (AT_EXECFN), the envp and the argv strings with their NULs must fit.
 */
#define STACK_SMALL	(1024 * 1024)
#define SHARE_SMALL	(STACK_SMALL / 4)
#define NPAD		4

TEST_F(exec_args, stack_share_boundary)
{
	/* spec: What the series leaves as it was: strings that fill the RLIMIT_STACK / 4 share exactly run, one byte more fails with E2BIG (a spawned child: exit 1) */
	char *argv[3 + NPAD + 1] = { "p", "exit", "0" };
	size_t budget, fixed, each, i;
	int st;

	set_stack_limit(_metadata, STACK_SMALL);
	budget = SHARE_SMALL - (3 + NPAD) * sizeof(void *);
	fixed = sizeof(PROBE) + 2 + 5 + 2;	/* "/tmp/probe" "p" "exit" "0" */
	each = (budget - fixed) / NPAD;
	for (i = 0; i < NPAD; i++) {
		size_t len = i < NPAD - 1 ? each : budget - fixed - each * i;

		argv[3 + i] = filled(_metadata, len - 1, 'a');
	}
	argv[3 + NPAD] = NULL;
	st = run_args(self->tfd, variant->how, argv, no_env);
	ASSERT_EQ(ST_EXITED(0), st)
		TH_LOG("strings filling the share exactly: %s",
		       status_str(variant->how, st, &out));

	free(argv[3 + NPAD - 1]);
	argv[3 + NPAD - 1] = filled(_metadata,
				    budget - fixed - each * (NPAD - 1), 'a');
	st = run_args(self->tfd, variant->how, argv, no_env);
	ASSERT_EQ(failed_with(variant->how, E2BIG), st)
		TH_LOG("one byte over the share: %s",
		       status_str(variant->how, st, &out));
}

TEST_F(exec_args, pointers_over_stack_share)
{
	/* spec: What the series leaves as it was: argv or envp pointers alone filling the RLIMIT_STACK / 4 share fail with E2BIG (a spawned child: exit 1) */
	size_t n = SHARE_SMALL / sizeof(void *), i;
	char **v = calloc(n + 1, sizeof(char *));
	int st;

	ASSERT_NE(NULL, v);
	set_stack_limit(_metadata, STACK_SMALL);
	v[0] = "p";
	v[1] = "exit";
	v[2] = "0";
	for (i = 3; i < n; i++)
		v[i] = "";
	/* Control: a thousand pointers are fine. */
	v[1000] = NULL;
	st = run_args(self->tfd, variant->how, v, no_env);
	ASSERT_EQ(ST_EXITED(0), st) TH_LOG("1000 argv strings: %s",
					   status_str(variant->how, st, &out));
	v[1000] = "";
	st = run_args(self->tfd, variant->how, v, no_env);
	ASSERT_EQ(failed_with(variant->how, E2BIG), st)
		TH_LOG("%zu argv pointers: %s", n,
		       status_str(variant->how, st, &out));
	st = run_args(self->tfd, variant->how, exit0_argv, v + 3);
	ASSERT_EQ(failed_with(variant->how, E2BIG), st)
		TH_LOG("3 argv and %zu envp pointers: %s", n - 3,
		       status_str(variant->how, st, &out));
	free(v);
}

TEST_F(exec_args, max_arg_strlen_boundary)
{
	/* spec: What the series leaves as it was: one argv or envp string of MAX_ARG_STRLEN (32 pages) with its NUL runs, one byte longer fails with E2BIG (a spawned child: exit 1) */
	char *argv[5], *envp[2];
	char *at = filled(_metadata, ST_MAX_ARG_STRLEN - 1, 'a');
	char *over = filled(_metadata, ST_MAX_ARG_STRLEN, 'a');
	int st;

	set_stack_limit(_metadata, 8 * 1024 * 1024);
	memcpy(argv, exit0_argv, 3 * sizeof(char *));
	argv[3] = at;
	argv[4] = NULL;
	envp[1] = NULL;
	st = run_args(self->tfd, variant->how, argv, no_env);
	ASSERT_EQ(ST_EXITED(0), st) TH_LOG("argv string at the limit: %s",
					   status_str(variant->how, st, &out));
	argv[3] = over;
	st = run_args(self->tfd, variant->how, argv, no_env);
	ASSERT_EQ(failed_with(variant->how, E2BIG), st)
		TH_LOG("argv string over the limit: %s",
		       status_str(variant->how, st, &out));
	at[0] = 'X';
	at[1] = '=';
	envp[0] = at;
	st = run_args(self->tfd, variant->how, exit0_argv, envp);
	ASSERT_EQ(ST_EXITED(0), st) TH_LOG("envp string at the limit: %s",
					   status_str(variant->how, st, &out));
	over[0] = 'X';
	over[1] = '=';
	envp[0] = over;
	st = run_args(self->tfd, variant->how, exit0_argv, envp);
	ASSERT_EQ(failed_with(variant->how, E2BIG), st)
		TH_LOG("envp string over the limit: %s",
		       status_str(variant->how, st, &out));
	free(at);
	free(over);
}

TEST_F(exec_args, unreadable_vectors_efault)
{
	/* spec: What the series leaves as it was: an unreadable argv or envp array, an unreadable string in one, or an array that runs into unmapped memory fails with EFAULT (a spawned child: exit 1) */
	char *hole = st_page_before_hole();
	char *bad = st_unmapped();
	char *argv_bad_str[5], *envp_bad_str[3];
	char **unterminated;
	struct {
		const char *what;
		char *const *argv;
		char *const *envp;
	} c[5];
	size_t i, n;
	int st;

	ASSERT_NE(NULL, hole);
	memcpy(argv_bad_str, exit0_argv, 3 * sizeof(char *));
	argv_bad_str[3] = bad;
	argv_bad_str[4] = NULL;
	envp_bad_str[0] = "A=1";
	envp_bad_str[1] = bad;
	envp_bad_str[2] = NULL;
	/* Pointers up to the hole, none of them NULL. */
	unterminated = (char **)hole;
	n = 4096 / sizeof(char *);
	unterminated[0] = "p";
	unterminated[1] = "exit";
	unterminated[2] = "0";
	for (i = 3; i < n; i++)
		unterminated[i] = "";
	c[0].what = "argv unmapped";
	c[0].argv = (char *const *)bad;
	c[0].envp = no_env;
	c[1].what = "envp unmapped";
	c[1].argv = exit0_argv;
	c[1].envp = (char *const *)bad;
	c[2].what = "an argv string unmapped";
	c[2].argv = argv_bad_str;
	c[2].envp = no_env;
	c[3].what = "an envp string unmapped";
	c[3].argv = exit0_argv;
	c[3].envp = envp_bad_str;
	c[4].what = "argv running into a hole";
	c[4].argv = unterminated;
	c[4].envp = no_env;
	/* Control: a spawn shows any failure as exit 1, EFAULT included. */
	st = run_args(self->tfd, variant->how, exit0_argv, no_env);
	ASSERT_EQ(ST_EXITED(0), st) TH_LOG("readable vectors: %s",
					   status_str(variant->how, st, &out));
	for (i = 0; i < ST_NELEM(c); i++) {
		st = run_args(self->tfd, variant->how, c[i].argv, c[i].envp);
		ASSERT_EQ(failed_with(variant->how, EFAULT), st)
			TH_LOG("%s: %s", c[i].what,
			       status_str(variant->how, st, &out));
	}
}

TEST_F(exec_args, null_argv_gets_empty_argv0)
{
	/* spec: What the series leaves as it was: a NULL or empty argv runs the program with argc 1 and argv[0] "", a NULL envp with no environment */
	static char *const empty[] = { NULL };
	char *const *argvs[] = { NULL, empty };
	size_t i;
	int st;

	for (i = 0; i < ST_NELEM(argvs); i++) {
		st = run_args(self->tfd, variant->how, argvs[i], argvs[i]);
		ASSERT_EQ(ST_EXITED(0), st)
			TH_LOG("%s argv: %s", argvs[i] ? "empty" : "NULL",
			       status_str(variant->how, st, &out));
		ASSERT_STREQ("1", st_kv_str(out.buf, "argc")) TH_LOG("%s", out.buf);
		ASSERT_STREQ("0", st_kv_str(out.buf, "argv.0.len"))
			TH_LOG("%s", out.buf);
		ASSERT_STREQ("0", st_kv_str(out.buf, "envc")) TH_LOG("%s", out.buf);
		ASSERT_STREQ("1", st_kv_str(out.buf, "end")) TH_LOG("%s", out.buf);
	}
}

/* ---- AT_EXECFN, /proc/self/exe, comm ---- */

#define LONG_NAME	"probe-with-a-long-name"
#define LONG_PATH	ST_SCRATCH "/" LONG_NAME
#define LONG_COMM	"probe-with-a-lo"
#define LINK_NAME	"link-to-the-probe"
#define LINK_PATH	ST_SCRATCH "/" LINK_NAME
#define LINK_COMM	"link-to-the-pro"

FIXTURE(exec_names) {
	int fd, tfd;
};

FIXTURE_VARIANT(exec_names) {
	int how;		/* R_EXECVE, R_EXECVEAT or R_SPAWN */
	const char *open;	/* a file or directory to open as fd */
	const char *name;	/* execve()'s path, execveat()'s name */
	int flags;		/* execveat()'s flags */
	bool by_fd;		/* spawn: a template created from fd */
	const char *execfn;	/* expected; %d is fd; NULL: names the file */
	const char *comm;	/* expected */
};

FIXTURE_VARIANT_ADD(exec_names, execve_path) {
	.how = R_EXECVE, .name = LONG_PATH,
	.execfn = LONG_PATH, .comm = LONG_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, execve_symlink) {
	.how = R_EXECVE, .name = LINK_PATH,
	.execfn = LINK_PATH, .comm = LINK_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, execveat_fd) {
	.how = R_EXECVEAT, .open = LONG_PATH, .name = "",
	.flags = AT_EMPTY_PATH, .execfn = "/dev/fd/%d", .comm = LONG_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, execveat_fd_of_symlink) {
	.how = R_EXECVEAT, .open = LINK_PATH, .name = "",
	.flags = AT_EMPTY_PATH, .execfn = "/dev/fd/%d", .comm = LONG_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, execveat_dirfd) {
	.how = R_EXECVEAT, .open = ST_SCRATCH, .name = LONG_NAME,
	.execfn = "/dev/fd/%d/" LONG_NAME, .comm = LONG_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, spawn_path) {
	.how = R_SPAWN, .name = LONG_PATH,
	.execfn = LONG_PATH, .comm = LONG_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, spawn_symlink) {
	.how = R_SPAWN, .name = LINK_PATH,
	.execfn = LINK_PATH, .comm = LINK_COMM,
};

FIXTURE_VARIANT_ADD(exec_names, spawn_execfd) {
	.how = R_SPAWN, .name = LINK_PATH, .by_fd = true,
	.execfn = NULL, .comm = LONG_COMM,
};

FIXTURE_SETUP(exec_names)
{
	self->fd = self->tfd = -1;
	if (variant->how == R_SPAWN)
		REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	st_copy_helper(_metadata, "helper_probe", LONG_PATH, 0755);
	ASSERT_EQ(0, symlink(LONG_NAME, LINK_PATH));
	if (variant->open) {
		self->fd = open(variant->open, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, self->fd) TH_LOG("open %s: %m", variant->open);
	}
	if (variant->how == R_SPAWN)
		self->tfd = st_origin_template(_metadata, variant->by_fd,
					       variant->name);
}

FIXTURE_TEARDOWN(exec_names)
{
	if (self->tfd >= 0)
		close(self->tfd);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(exec_names, execfn_exe_comm)
{
	/* spec: What the series leaves as it was: AT_EXECFN is the name the exec was given (/dev/fd/N[/name] for execveat() of an fd), /proc/self/exe the file, comm the name's base name or, for an AT_EMPTY_PATH exec, the file's own name, cut to 15 bytes */
	/* reference choice: a spawn's AT_EXECFN is the template's path (a path template) or one that names the file (an execfd template) */
	char execfn[64];
	struct stat st, fn;
	int fd = variant->how == R_SPAWN ? self->tfd : self->fd;
	int r;

	r = run_exec(variant->how, fd, variant->name, variant->flags,
		     report_argv, no_env, &out);
	ASSERT_EQ(ST_EXITED(0), r) TH_LOG("%s", status_str(variant->how, r, &out));
	ASSERT_STREQ("1", st_kv_str(out.buf, "end")) TH_LOG("%s", out.buf);
	ASSERT_STREQ(LONG_PATH, st_kv_str(out.buf, "exe"));
	ASSERT_EQ(0, stat(LONG_PATH, &st));
	ASSERT_EQ((long long)st.st_ino, st_kv_num(out.buf, "exe_ino", -1));
	ASSERT_STREQ(variant->comm, st_kv_str(out.buf, "comm"));
	if (variant->execfn) {
		snprintf(execfn, sizeof(execfn), variant->execfn, self->fd);
		ASSERT_STREQ(execfn, st_kv_str(out.buf, "execfn"));
	} else {
		ASSERT_EQ('/', st_kv_str(out.buf, "execfn")[0])
			TH_LOG("execfn %s", st_kv_str(out.buf, "execfn"));
		ASSERT_EQ(0, stat(st_kv_str(out.buf, "execfn"), &fn))
			TH_LOG("execfn %s: %m", st_kv_str(out.buf, "execfn"));
		ASSERT_EQ(st.st_ino, fn.st_ino);
		ASSERT_EQ(st.st_dev, fn.st_dev);
	}
}

/* ---- the open: do_open_execat(), exec_opened_file() ---- */

FIXTURE(exec_open) {
	int wfd;
};

FIXTURE_VARIANT(exec_open) {
	int how;	/* R_EXECVE, R_EXECVEAT, R_CREATE_PATH, R_CREATE_FD */
};

FIXTURE_VARIANT_ADD(exec_open, execve) {
	.how = R_EXECVE,
};

FIXTURE_VARIANT_ADD(exec_open, execveat_fd) {
	.how = R_EXECVEAT,
};

FIXTURE_VARIANT_ADD(exec_open, create_path) {
	.how = R_CREATE_PATH,
};

FIXTURE_VARIANT_ADD(exec_open, create_fd) {
	.how = R_CREATE_FD,
};

FIXTURE_SETUP(exec_open)
{
	self->wfd = -1;
	if (variant->how == R_CREATE_PATH || variant->how == R_CREATE_FD)
		REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	scratch_setup(_metadata);
}

FIXTURE_TEARDOWN(exec_open)
{
	if (self->wfd >= 0)
		close(self->wfd);
}

/*
 * How @path fares when executed (probe "exit 0") or templated by @how:
 * 0, the errno, or -1 for anything else (logged).
 */
static int open_errno(struct __test_metadata *_metadata, int how,
		      const char *path)
{
	int fd = -1, r, st;

	if (how == R_EXECVEAT || how == R_CREATE_FD) {
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			TH_LOG("open %s: %m", path);
			return -1;
		}
	}
	switch (how) {
	case R_CREATE_PATH:
	case R_CREATE_FD:
		if (how == R_CREATE_PATH)
			r = spawn_template_create_path(path, 0);
		else
			r = spawn_template_create_fd(fd, 0);
		if (r >= 0)
			close(r);
		r = r < 0 ? errno : 0;
		break;
	default:
		st = run_exec(how, fd, how == R_EXECVE ? path : "",
			      AT_EMPTY_PATH, exit0_argv, no_env, &out);
		if (st == ST_EXITED(0))
			r = 0;
		else if (WIFEXITED(st) && WEXITSTATUS(st) > EXEC_FAILED)
			r = WEXITSTATUS(st) - EXEC_FAILED;
		else
			r = -1;
		if (r < 0)
			TH_LOG("%s: %s", path, status_str(how, st, &out));
		break;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

#define ASSERT_OPEN_ERRNO(err, path)					\
	do {								\
		int __e = open_errno(_metadata, variant->how, path);	\
		ASSERT_EQ(err, __e) TH_LOG("%s: %s, expected %s", path,	\
					   __e < 0 ? "?" : ename(__e),	\
					   ename(err));			\
	} while (0)

TEST_F(exec_open, regular_file_runs)
{
	/* spec: What the series leaves as it was: an executable regular file on an exec mount is opened for execution (the control of the refusals below) */
	ASSERT_OPEN_ERRNO(0, PROBE);
}

TEST_F(exec_open, directory_eacces)
{
	/* spec: What the series leaves as it was: a directory is refused with EACCES */
	ASSERT_EQ(0, mkdir(ST_SCRATCH "/dir", 0755));
	ASSERT_OPEN_ERRNO(EACCES, ST_SCRATCH "/dir");
}

TEST_F(exec_open, fifo_eacces)
{
	/* spec: What the series leaves as it was: a FIFO, even mode 0755, is refused with EACCES */
	ASSERT_EQ(0, mkfifo(ST_SCRATCH "/fifo", 0755));
	ASSERT_EQ(0, chmod(ST_SCRATCH "/fifo", 0755));
	ASSERT_OPEN_ERRNO(EACCES, ST_SCRATCH "/fifo");
}

TEST_F(exec_open, noexec_mount_eacces)
{
	/* spec: What the series leaves as it was: a file on a noexec mount is refused with EACCES */
	ASSERT_OPEN_ERRNO(EACCES, NOEXEC_PROBE);
}

TEST_F(exec_open, not_executable_eacces)
{
	/* spec: What the series leaves as it was: a file without execute permission is refused with EACCES */
	ASSERT_EQ(0, chmod(PROBE, 0644));
	ASSERT_OPEN_ERRNO(EACCES, PROBE);
}

TEST_F(exec_open, open_for_writing_etxtbsy)
{
	/* spec: What the series leaves as it was: a file open for writing is refused with ETXTBSY */
	self->wfd = open(PROBE, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->wfd);
	ASSERT_OPEN_ERRNO(ETXTBSY, PROBE);
	close(self->wfd);
	self->wfd = -1;
	ASSERT_OPEN_ERRNO(0, PROBE);
}

TEST_F(exec_open, written_and_not_executable_eacces)
{
	/* spec: What the series leaves as it was: a file both not executable and open for writing is refused with EACCES (EACCES before ETXTBSY) */
	ASSERT_EQ(0, chmod(PROBE, 0644));
	self->wfd = open(PROBE, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->wfd);
	ASSERT_OPEN_ERRNO(EACCES, PROBE);
}

/*
 * execveat()'s lookup flags: a template takes none (create's exec_flags
 * must be 0), so these have no spawn variant.
 */
static int execveat_errno(int dfd, const char *name, int flags)
{
	int st = run_exec(R_EXECVEAT, dfd, name, flags, exit0_argv, no_env,
			  &out);

	if (st == ST_EXITED(0))
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) > EXEC_FAILED)
		return WEXITSTATUS(st) - EXEC_FAILED;
	return -1;
}

TEST(execveat_symlink_nofollow_eloop)
{
	/* spec: What the series leaves as it was: execveat() with AT_SYMLINK_NOFOLLOW of a symlink fails with ELOOP; of a regular file it runs */
	st_scratch_probe(_metadata, PROBE);
	ASSERT_EQ(0, symlink("probe", ST_SCRATCH "/link"));
	ASSERT_EQ(ELOOP, execveat_errno(AT_FDCWD, ST_SCRATCH "/link",
					AT_SYMLINK_NOFOLLOW));
	ASSERT_EQ(0, execveat_errno(AT_FDCWD, ST_SCRATCH "/link", 0));
	ASSERT_EQ(0, execveat_errno(AT_FDCWD, PROBE, AT_SYMLINK_NOFOLLOW));
}

TEST(execveat_unknown_flags_einval)
{
	/* spec: What the series leaves as it was: execveat() with a flag other than AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH fails with EINVAL */
	static const int flags[] = {
		AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT,
		AT_EMPTY_PATH | AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
	};
	size_t i;
	int fd;

	st_scratch_probe(_metadata, PROBE);
	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < ST_NELEM(flags); i++) {
		ASSERT_EQ(EINVAL, execveat_errno(AT_FDCWD, PROBE, flags[i]))
			TH_LOG("flags 0x%x by path", flags[i]);
		ASSERT_EQ(EINVAL, execveat_errno(fd, "", flags[i] | AT_EMPTY_PATH))
			TH_LOG("flags 0x%x by fd", flags[i] | AT_EMPTY_PATH);
	}
	close(fd);
}

TEST(execveat_empty_name_needs_flag)
{
	/* spec: What the series leaves as it was: execveat(fd, "") without AT_EMPTY_PATH fails with ENOENT */
	int fd;

	st_scratch_probe(_metadata, PROBE);
	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(ENOENT, execveat_errno(fd, "", 0));
	ASSERT_EQ(0, execveat_errno(fd, "", AT_EMPTY_PATH));
	close(fd);
}

TEST(execve_filename_errors)
{
	/* spec: What the series leaves as it was: execve() of an unreadable name fails with EFAULT, of a name of PATH_MAX bytes or more with ENAMETOOLONG, of "" with ENOENT */
	char *longname = filled(_metadata, PATH_MAX, '/');
	int st;

	st = run_exec(R_EXECVE, -1, st_unmapped(), 0, exit0_argv, no_env, &out);
	ASSERT_EQ(failed_with(R_EXECVE, EFAULT), st)
		TH_LOG("%s", status_str(R_EXECVE, st, &out));
	st = run_exec(R_EXECVE, -1, longname, 0, exit0_argv, no_env, &out);
	ASSERT_EQ(failed_with(R_EXECVE, ENAMETOOLONG), st)
		TH_LOG("%s", status_str(R_EXECVE, st, &out));
	st = run_exec(R_EXECVE, -1, "", 0, exit0_argv, no_env, &out);
	ASSERT_EQ(failed_with(R_EXECVE, ENOENT), st)
		TH_LOG("%s", status_str(R_EXECVE, st, &out));
	free(longname);
}

/* ---- ELF loading: load_elf_binary() ---- */

enum elf_patch {
	E_NONE,
	E_STACK_X,		/* PF_X on PT_GNU_STACK */
	E_STACK_GONE,		/* PT_GNU_STACK made PT_NULL */
	E_PHENTSIZE,		/* e_phentsize one short */
	E_PHNUM_ZERO,		/* e_phnum 0 */
	E_PHNUM_BIG,		/* a table larger than a page */
	E_PHOFF_EOF,		/* the table past the end of the file */
	E_INTERP,		/* PT_GNU_STACK made PT_INTERP, see below */
};

/*
 * A copy of the probe at @dst, mode 0755, patched by @patch. E_INTERP
 * appends @interp_len bytes of @interp (its NUL included if the length
 * covers it) and points a PT_INTERP at them.
 */
static void patched_probe(struct __test_metadata *_metadata, const char *dst,
			  int patch, const char *interp, size_t interp_len)
{
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph, *stack = NULL;
	struct stat st;
	size_t len, off = 0;
	char *buf;
	ssize_t n;
	int fd, i;

	fd = openat(st_helper_dirfd(), "helper_probe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	len = st.st_size;
	buf = calloc(1, len + interp_len + 1);
	ASSERT_NE(NULL, buf);
	while (off < len) {
		n = pread(fd, buf + off, len - off, off);
		ASSERT_LT(0, n);
		off += n;
	}
	close(fd);
	eh = (Elf64_Ehdr *)buf;
	ASSERT_EQ(0, memcmp(eh->e_ident, ELFMAG, SELFMAG));
	ph = (Elf64_Phdr *)(buf + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_GNU_STACK)
			stack = &ph[i];
	}
	ASSERT_NE(NULL, stack) TH_LOG("the probe has no PT_GNU_STACK");
	switch (patch) {
	case E_STACK_X:
		stack->p_flags |= PF_X;
		break;
	case E_STACK_GONE:
		stack->p_type = PT_NULL;
		break;
	case E_PHENTSIZE:
		eh->e_phentsize = sizeof(Elf64_Phdr) - 1;
		break;
	case E_PHNUM_ZERO:
		eh->e_phnum = 0;
		break;
	case E_PHNUM_BIG:
		eh->e_phnum = 4096 / sizeof(Elf64_Phdr) + 1;
		break;
	case E_PHOFF_EOF:
		eh->e_phoff = len + 4096;
		break;
	case E_INTERP:
		memset(buf + len, 'a', interp_len);
		memcpy(buf + len, interp,
		       strlen(interp) + 1 < interp_len ? strlen(interp) + 1 :
		       interp_len);
		stack->p_type = PT_INTERP;
		stack->p_offset = len;
		stack->p_filesz = interp_len;
		stack->p_memsz = interp_len;
		stack->p_flags = PF_R;
		len += interp_len;
		break;
	}
	st_write_file(_metadata, dst, buf, len, 0755);
	free(buf);
}

FIXTURE(exec_elf) {
	int tfd;
};

EXECVE_OR_SPAWN_VARIANTS(exec_elf);

FIXTURE_SETUP(exec_elf)
{
	self->tfd = -1;
	if (variant->how == R_SPAWN)
		REQUIRE_SPAWN_TEMPLATE(_metadata);
	scratch_setup(_metadata);
}

FIXTURE_TEARDOWN(exec_elf)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

/* Run @path (a spawn: of a new template of it, left in @tfd) with @argv. */
static int run_elf(struct __test_metadata *_metadata, int *tfd, int how,
		   const char *path, char *const *argv)
{
	if (how != R_SPAWN)
		return run_exec(how, -1, path, 0, argv, no_env, &out);
	if (*tfd >= 0)
		close(*tfd);
	*tfd = st_template(_metadata, path, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	return run_exec(how, *tfd, NULL, 0, argv, no_env, &out);
}

TEST_F(exec_elf, gnu_stack_decides_stack)
{
	/* spec: What the series leaves as it was: PF_X on PT_GNU_STACK gives an executable stack; without it, or with no PT_GNU_STACK (x86_64), the stack is not executable */
	static const struct {
		int patch;
		const char *stack;
	} c[] = {
		{ E_NONE, "rw-p" },
		{ E_STACK_X, "rwxp" },
		{ E_STACK_GONE, "rw-p" },
	};
	char path[64];
	size_t i;
	int st;

	for (i = 0; i < ST_NELEM(c); i++) {
		snprintf(path, sizeof(path), ST_SCRATCH "/stack%zu", i);
		patched_probe(_metadata, path, c[i].patch, NULL, 0);
		st = run_elf(_metadata, &self->tfd, variant->how, path, report_argv);
		ASSERT_EQ(ST_EXITED(0), st)
			TH_LOG("case %zu: %s", i,
			       status_str(variant->how, st, &out));
		ASSERT_STREQ(c[i].stack, st_kv_str(out.buf, "stack"))
			TH_LOG("case %zu", i);
	}
}

TEST_F(exec_elf, corrupt_phdr_table_enoexec)
{
	/* spec: What the series leaves as it was: a program header table of the wrong entry size, empty, larger than a page or past the end of the file fails with ENOEXEC (a template of it: ENOEXEC at creation) */
	static const struct {
		int patch;
		const char *what;
	} c[] = {
		{ E_PHENTSIZE, "e_phentsize one short" },
		{ E_PHNUM_ZERO, "e_phnum 0" },
		{ E_PHNUM_BIG, "a table over a page" },
		{ E_PHOFF_EOF, "e_phoff past the end" },
	};
	char path[64];
	size_t i;
	int st, tfd;

	for (i = 0; i < ST_NELEM(c); i++) {
		snprintf(path, sizeof(path), ST_SCRATCH "/phdr%zu", i);
		patched_probe(_metadata, path, c[i].patch, NULL, 0);
		if (variant->how == R_SPAWN) {
			tfd = spawn_template_create_path(path, 0);
			ASSERT_EQ(-1, tfd) TH_LOG("%s: created", c[i].what);
			ASSERT_EQ(ENOEXEC, errno)
				TH_LOG("%s: %s", c[i].what, ename(errno));
			continue;
		}
		st = run_elf(_metadata, &self->tfd, variant->how, path, exit0_argv);
		ASSERT_EQ(failed_with(variant->how, ENOEXEC), st)
			TH_LOG("%s: %s", c[i].what,
			       status_str(variant->how, st, &out));
	}
}

TEST_F(exec_elf, interp_errors)
{
	/* spec: What the series leaves as it was: a PT_INTERP that is too short, too long or not NUL-terminated fails with ENOEXEC; one naming a missing file ENOENT, a directory or a file on a noexec mount EACCES, a file shorter than an ELF header EIO, a file that is not ELF ELIBBAD (a spawned child: the exit status of that class) */
	static const char text[] = "#!/bin/sh\n# not an ELF interpreter\n"
				   "echo this file is longer than an ELF header\n";
	static const struct {
		const char *interp;
		size_t len;	/* 0: strlen + 1 */
		int err;
		const char *what;
	} c[] = {
		{ "/", 1, ENOEXEC, "p_filesz 1" },
		{ "/x", PATH_MAX + 1, ENOEXEC, "p_filesz over PATH_MAX" },
		{ ST_SCRATCH "/probe", sizeof(ST_SCRATCH "/probe") - 1,
		  ENOEXEC, "no NUL" },
		{ ST_SCRATCH "/missing", 0, ENOENT, "a missing file" },
		{ ST_SCRATCH, 0, EACCES, "a directory" },
		{ NOEXEC_PROBE, 0, EACCES, "on a noexec mount" },
		{ ST_SCRATCH "/short", 0, EIO, "shorter than an ELF header" },
		{ ST_SCRATCH "/text", 0, ELIBBAD, "not ELF" },
	};
	char path[64];
	size_t i;
	int st;

	st_write_file(_metadata, ST_SCRATCH "/short", "\177ELF", 4, 0755);
	st_write_file(_metadata, ST_SCRATCH "/text", text, sizeof(text) - 1,
		      0755);
	for (i = 0; i < ST_NELEM(c); i++) {
		snprintf(path, sizeof(path), ST_SCRATCH "/interp%zu", i);
		patched_probe(_metadata, path, E_INTERP, c[i].interp,
			      c[i].len ? c[i].len : strlen(c[i].interp) + 1);
		st = run_elf(_metadata, &self->tfd, variant->how, path, exit0_argv);
		ASSERT_EQ(failed_with(variant->how, c[i].err), st)
			TH_LOG("%s: %s, expected %s", c[i].what,
			       status_str(variant->how, st, &out),
			       ename(c[i].err));
	}
}

TEST_HARNESS_MAIN
