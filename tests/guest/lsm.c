// SPDX-License-Identifier: GPL-2.0
/*
 * LSM hooks and spawn templates.
 *
 * - The exec LSM hooks run for every spawn, as often as for an execve:
 *   counted with kprobe events on security_bprm_creds_for_exec,
 *   security_bprm_check and security_bprm_committed_creds, attributed by
 *   pid to the spawned/forked children (and the caller).
 * - Landlock: a domain without the execute right for a file never gets it
 *   executed through a template, whatever the order of restricting,
 *   creating and passing the fd.
 * - AppArmor: a profile transition on exec gives the spawned child the
 *   label execve gives, and an exec the profile denies exits 126.
 */
#include "common.h"

static char *const ids_argv[] = { "probe", "ids", NULL };
static char *const no_env[] = { NULL };

/* ------------------------------------------------------------------ */
/* kprobe events                                                       */

#define TRACING "/sys/kernel/tracing"
#define NSPAWN 3

static const char *const hook_fn[] = {
	"security_bprm_creds_for_exec",
	"security_bprm_check",
	"security_bprm_committed_creds",
};
static const char *const hook_ev[] = { "cfe", "check", "committed" };
#define NHOOK 3

static int write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

FIXTURE(hooks) {
	char group[64];
	char inst[128];
	int nevents;
	int inst_made;
	int enabled;
};

/*
 * Remove what setup made. Called by teardown and by setup itself when it
 * fails half-way (the harness runs no teardown after a failed setup).
 */
static void hooks_cleanup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(hooks) *self)
{
	char line[512];
	int i;

	if (self->enabled) {
		snprintf(line, sizeof(line), "%s/events/%s/enable", self->inst,
			 self->group);
		write_file(line, "0", 0);
		self->enabled = 0;
	}
	if (self->inst_made && !rmdir(self->inst))
		self->inst_made = 0;
	for (i = 0; i < self->nevents; i++) {
		snprintf(line, sizeof(line), "-:%s/%s\n", self->group, hook_ev[i]);
		write_file(TRACING "/kprobe_events", line, O_APPEND);
	}
	self->nevents = 0;
}

FIXTURE_SETUP(hooks)
{
	char line[512];
	int i, e;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	snprintf(self->group, sizeof(self->group), "spawnsec_%d", getpid());
	snprintf(self->inst, sizeof(self->inst), TRACING "/instances/%s",
		 self->group);
	if (access(TRACING "/kprobe_events", F_OK)) {
		/* mount tracefs where nobody else sees it */
		ASSERT_EQ(0, unshare(CLONE_NEWNS));
		ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		if (mount("nodev", TRACING, "tracefs", 0, NULL))
			SKIP(return, "tracefs not available (mount: errno %d)", errno);
		if (access(TRACING "/kprobe_events", F_OK))
			SKIP(return, "kprobe events not available (no kprobe_events)");
	}
	for (i = 0; i < NHOOK; i++) {
		snprintf(line, sizeof(line), "p:%s/%s %s\n", self->group,
			 hook_ev[i], hook_fn[i]);
		if (write_file(TRACING "/kprobe_events", line, O_APPEND)) {
			e = errno;
			hooks_cleanup(_metadata, self);
			SKIP(return, "cannot probe %s (errno %d)", hook_fn[i], e);
		}
		self->nevents++;
	}
	if (mkdir(self->inst, 0755)) {
		e = errno;
		hooks_cleanup(_metadata, self);
		ASSERT_EQ(0, e) TH_LOG("mkdir %s", self->inst);
	}
	self->inst_made = 1;
	snprintf(line, sizeof(line), "%s/events/%s/enable", self->inst,
		 self->group);
	if (write_file(line, "1", 0)) {
		e = errno;
		hooks_cleanup(_metadata, self);
		ASSERT_EQ(0, e) TH_LOG("enable %s", line);
	}
	self->enabled = 1;
}

/*
 * In the parent, so that it runs after a failed ASSERT too (see
 * tests/guest/README.md). The kprobe events are global; if the check
 * mounted tracefs where only it could see it, mount it here again.
 */
FIXTURE_TEARDOWN_PARENT(hooks)
{
	if (self->nevents && access(TRACING "/kprobe_events", F_OK) &&
	    (unshare(CLONE_NEWNS) ||
	     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	     mount("nodev", TRACING, "tracefs", 0, NULL)))
		TH_LOG("cannot reach tracefs to remove kprobe events: %m");
	hooks_cleanup(_metadata, self);
}

static int in_set(pid_t pid, const pid_t *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

/*
 * Count the hook events of the instance's buffer whose pid is in @pids,
 * then clear the buffer. Lines look like
 *   "  comm-1234  [000] d..1.  12.345678: cfe: (security_bprm_...+0x0/0x..)"
 */
static int count_hooks(const char *inst, const pid_t *pids, int n,
		       int counts[NHOOK])
{
	char path[PATH_MAX + 16], line[1024];
	FILE *f;
	int i;

	memset(counts, 0, sizeof(int) * NHOOK);
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *br, *p;
		pid_t pid;

		if (line[0] == '#')
			continue;
		br = strstr(line, " [");
		if (!br)
			continue;
		p = br;
		while (p > line && p[-1] == ' ')
			p--;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		if (p == line || p[-1] != '-')
			continue;
		pid = atoi(p);
		if (!in_set(pid, pids, n))
			continue;
		for (i = 0; i < NHOOK; i++) {
			char pat[32];

			snprintf(pat, sizeof(pat), " %s: (", hook_ev[i]);
			if (strstr(br, pat))
				counts[i]++;
		}
	}
	fclose(f);
	/* clear the buffer for the next round */
	return write_file(path, "", O_TRUNC);
}

TEST_F_TIMEOUT(hooks, same_hooks_as_execve, 60)
{
	/* spec: spawn_template_spawn(): the pinned file is executed through the normal exec path, LSM hooks as for execveat() */
	static struct st_out o;
	char path[PATH_MAX];
	int spawn_counts[NHOOK], exec_counts[NHOOK];
	pid_t pids[NSPAWN + 1] = { 0 };
	int i, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_helper_path(_metadata, "helper_probe", path, sizeof(path));
	tfd = spawn_template_create_path(path, 0);
	ASSERT_LE(0, tfd);

	/* start from an empty buffer */
	ASSERT_EQ(0, count_hooks(self->inst, pids, 0, spawn_counts));

	pids[NSPAWN] = getpid();	/* hooks run in the caller count too */
	for (i = 0; i < NSPAWN; i++) {
		pids[i] = st_run(tfd, 0, ids_argv, no_env, NULL, 0, &o);
		ASSERT_LT(0, pids[i]) TH_LOG("spawn %d: errno %d", i, o.err);
		ASSERT_EQ(0, o.status);
	}
	ASSERT_EQ(0, count_hooks(self->inst, pids, NSPAWN + 1, spawn_counts));

	for (i = 0; i < NSPAWN; i++) {
		pids[i] = st_run_execve(path, ids_argv, environ, &o);
		ASSERT_LT(0, pids[i]) TH_LOG("fork %d: errno %d", i, o.err);
		ASSERT_EQ(0, o.status);
	}
	ASSERT_EQ(0, count_hooks(self->inst, pids, NSPAWN + 1, exec_counts));

	for (i = 0; i < NHOOK; i++) {
		TH_LOG("%s: %d per %d spawns, %d per %d execve", hook_fn[i],
		       spawn_counts[i], NSPAWN, exec_counts[i], NSPAWN);
		/* the probes work: one call per plain execve of a static ELF */
		ASSERT_EQ(NSPAWN, exec_counts[i]);
		ASSERT_EQ(exec_counts[i], spawn_counts[i]);
	}
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* Landlock                                                            */

/*
 * Outcome of trying to get @path executed through a template, as one
 * string: "create=ERRNO", "spawn=ERRNO" (and no child), "child=STATUS"
 * (the child exited without running the probe) or "ran" (the probe ran).
 * @tfd >= 0: use that template; else create one from @path, or from
 * @execfd when that is >= 0.
 */
static void template_outcome_fd(const char *path, int execfd, int tfd,
				char *res, size_t len)
{
	static struct st_out o;
	int own = -1, ev;

	if (tfd < 0) {
		own = tfd = execfd >= 0 ? spawn_template_create_fd(execfd, 0) :
					  spawn_template_create_path(path, 0);
		if (tfd < 0) {
			snprintf(res, len, "create=%s", strerrorname_np(errno));
			return;
		}
	}
	if (st_run(tfd, 0, ids_argv, no_env, NULL, 0, &o) < 0) {
		ev = st_child_evidence();
		if (ev)
			snprintf(res, len, "spawn=%s (child left: 0x%x)",
				 strerrorname_np(o.err), ev);
		else
			snprintf(res, len, "spawn=%s", strerrorname_np(o.err));
	} else if (st_kv(o.buf, "ruid")) {
		snprintf(res, len, "ran");
	} else {
		snprintf(res, len, "child=%d", WIFEXITED(o.status) ?
			 WEXITSTATUS(o.status) : 1000 + WTERMSIG(o.status));
	}
	if (own >= 0)
		close(own);
}

static void template_outcome(const char *path, int tfd, char *res, size_t len)
{
	template_outcome_fd(path, -1, tfd, res, len);
}

/* What execve does with @path in this domain: its exit status class. */
static int execve_status(const char *path)
{
	static struct st_out o;

	if (st_run_execve(path, ids_argv, no_env, &o) < 0 || o.status == -1)
		return -1;
	return WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1;
}

FIXTURE(landlock) {
	char path[PATH_MAX];
};

FIXTURE_SETUP(landlock)
{
	int abi;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	abi = st_landlock_abi();
	if (abi < 0)
		SKIP(return, "Landlock not enabled (errno %d)", errno);
	st_helper_path(_metadata, "helper_probe", self->path, sizeof(self->path));
}

FIXTURE_TEARDOWN(landlock)
{
}

TEST_F(landlock, restrict_then_create)
{
	/* spec: spawn_template_create(): the file must be executable by the caller, otherwise EACCES (a Landlock domain without EXECUTE) */
	char res[64];
	int fd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	template_outcome(self->path, -1, res, sizeof(res));
	ASSERT_STREQ("ran", res);	/* control */

	ASSERT_EQ(0, st_landlock_deny(LANDLOCK_ACCESS_FS_EXECUTE));
	ASSERT_EQ(126, execve_status(self->path));	/* execve: EACCES */

	/* by path */
	template_outcome(self->path, -1, res, sizeof(res));
	ASSERT_STREQ("create=EACCES", res);
	/* by an fd opened for reading (allowed) after the restriction */
	fd = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	template_outcome_fd(self->path, fd, -1, res, sizeof(res));
	ASSERT_STREQ("create=EACCES", res);
	close(fd);
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child is left");
}

TEST_F(landlock, create_then_restrict)
{
	/* spec: spawn_template_spawn(): after a Landlock restriction the credential object differs: EACCES, no child */
	char res[64];
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = spawn_template_create_path(self->path, 0);
	ASSERT_LE(0, tfd);
	template_outcome(self->path, tfd, res, sizeof(res));
	ASSERT_STREQ("ran", res);	/* control */

	ASSERT_EQ(0, st_landlock_deny(LANDLOCK_ACCESS_FS_EXECUTE));
	template_outcome(self->path, tfd, res, sizeof(res));
	ASSERT_STREQ("spawn=EACCES", res);
	close(tfd);
}

TEST_F(landlock, restrict_in_child_with_fd)
{
	/* spec: spawn_template_spawn(): a forked child that restricts itself cannot use the inherited template (EACCES) nor create its own (EACCES) */
	char res[2][64];
	int p[2], status, tfd;
	pid_t pid;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	tfd = spawn_template_create_path(self->path, 0);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(res, 0, sizeof(res));
		if (st_landlock_deny(LANDLOCK_ACCESS_FS_EXECUTE))
			_exit(2);
		template_outcome(self->path, tfd, res[0], sizeof(res[0]));
		template_outcome(self->path, -1, res[1], sizeof(res[1]));
		_exit(write(p[1], res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(res), read(p[0], res, sizeof(res)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_STREQ("spawn=EACCES", res[0]);
	ASSERT_STREQ("create=EACCES", res[1]);
	/* the unrestricted creator still may */
	template_outcome(self->path, tfd, res[0], sizeof(res[0]));
	ASSERT_STREQ("ran", res[0]);
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* AppArmor                                                            */

/*
 * Two profiles, loaded for the test and removed after it. A forked child
 * changes itself to st_caller, creates the templates and runs both probes
 * through a template and through execve:
 *   allowed: st_caller says "px -> st_child": the child must run as st_child;
 *   denied:  st_caller has no x rule for it: exec is refused (EACCES), so
 *            the spawned child exits 126 and execve fails the same way.
 * The probes are two copies of the static probe on a private tmpfs: two
 * exec paths, one per rule, that nothing else on the system shares.
 */
#define AA_DIR "/tmp/st-apparmor"
#define AA_CALLER "st_caller"
#define AA_CHILD "st_child"
#define AA_ALLOWED AA_DIR "/allowed"
#define AA_DENIED AA_DIR "/denied"
#define AA_OUT_MAX 128

static const char aa_policy[] =
	"profile " AA_CALLER " {\n"
	"  /** rwmlk,\n"
	"  " AA_ALLOWED " px -> " AA_CHILD ",\n"
	"  capability, signal, ptrace, unix, mount, umount,\n"
	"}\n"
	"profile " AA_CHILD " {\n"
	"  /** rwmlk,\n"
	"  capability, signal, ptrace, unix,\n"
	"}\n";

static const char *const aa_parsers[] = {
	"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser",
};

/* Load (or with @remove, unload) aa_policy with apparmor_parser. */
static int aa_parser(const char *parser, int remove)
{
	int p[2], status, written;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(p[0], 0) < 0)
			_exit(200);
		execl(parser, parser, remove ? "-R" : "-r", "-K", "-q",
		      (char *)NULL);
		_exit(201);
	}
	close(p[0]);
	/* a parser that died early must fail the load, not SIGPIPE the test */
	signal(SIGPIPE, SIG_IGN);
	written = write(p[1], aa_policy, sizeof(aa_policy) - 1) ==
		  (ssize_t)sizeof(aa_policy) - 1;
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!written)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
}

/* Read this task's AppArmor label, without the trailing newline. */
static int aa_current(char *buf, size_t len)
{
	int fd = open("/proc/self/attr/apparmor/current", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* What the confined caller saw, sent back to the test over a pipe. */
struct aa_report {
	char caller[64];
	int create_allowed, create_denied;	/* 0 or errno */
	int spawn_allowed, spawn_denied;	/* 0 or errno of the spawn */
	int s_status[2], e_status[2];		/* allowed, denied */
	char s_out[2][AA_OUT_MAX], e_out[2][AA_OUT_MAX];
	char caller_after[64];
};

FIXTURE(apparmor) {
	char parser[64];
	int loaded;
};

FIXTURE_SETUP(apparmor)
{
	unsigned int i;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->loaded = 0;
	if (access("/sys/kernel/security/apparmor/profiles", F_OK))
		SKIP(return, "AppArmor not enabled in this kernel (no %s)",
		     "/sys/kernel/security/apparmor/profiles");
	self->parser[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(aa_parsers); i++) {
		if (!access(aa_parsers[i], X_OK)) {
			snprintf(self->parser, sizeof(self->parser), "%s",
				 aa_parsers[i]);
			break;
		}
	}
	if (!self->parser[0])
		SKIP(return, "apparmor_parser not installed (Debian: apparmor)");

	/* the helper directory, reachable whatever the mount below hides */
	ASSERT_LE(0, st_helper_dirfd());
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	if (mkdir(AA_DIR, 0755))
		ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(0, mount("st_apparmor", AA_DIR, "tmpfs", 0, "mode=0755"));
	st_copy_helper(_metadata, "helper_probe", AA_ALLOWED, 0755);
	st_copy_helper(_metadata, "helper_probe", AA_DENIED, 0755);
	ASSERT_EQ(0, aa_parser(self->parser, 0));
	self->loaded = 1;
}

/*
 * In the parent, after a failed ASSERT too: the profiles are global, and
 * apparmor_parser -R needs only the policy text, not the private tmpfs.
 */
FIXTURE_TEARDOWN_PARENT(apparmor)
{
	if (self->loaded)
		EXPECT_EQ(0, aa_parser(self->parser, 1));
}

static void aa_run(int tfd, const char *path, int *spawn_err, int *s_status,
		   char s_out[AA_OUT_MAX], int *e_status, char e_out[AA_OUT_MAX])
{
	static char *const attr_argv[] = { "probe", "attr", NULL };
	static struct st_out o;

	*spawn_err = 0;
	if (tfd < 0) {
		*spawn_err = EBADF;
	} else if (st_run(tfd, 0, attr_argv, no_env, NULL, 0, &o) < 0) {
		*spawn_err = o.err;
	} else {
		*s_status = o.status;
		snprintf(s_out, AA_OUT_MAX, "%.*s", (int)strcspn(o.buf, "\n"),
			 o.buf);
	}
	if (st_run_execve(path, attr_argv, no_env, &o) > 0) {
		*e_status = o.status;
		snprintf(e_out, AA_OUT_MAX, "%.*s", (int)strcspn(o.buf, "\n"),
			 o.buf);
	}
}

/* In a forked child: become st_caller, then template and exec both probes. */
static void aa_confined_caller(struct aa_report *r)
{
	static const char change[] = "changeprofile " AA_CALLER;
	const char *const paths[2] = { AA_ALLOWED, AA_DENIED };
	int *const create[2] = { &r->create_allowed, &r->create_denied };
	int *const spawn[2] = { &r->spawn_allowed, &r->spawn_denied };
	int fd, i, tfd;

	memset(r, 0, sizeof(*r));
	fd = open("/proc/self/attr/apparmor/current", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, change, sizeof(change) - 1) < 0)
		snprintf(r->caller, sizeof(r->caller), "change=%s", strerrorname_np(errno));
	else if (aa_current(r->caller, sizeof(r->caller)))
		snprintf(r->caller, sizeof(r->caller), "read=%s", strerrorname_np(errno));
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 2; i++) {
		tfd = spawn_template_create_path(paths[i], 0);
		*create[i] = tfd < 0 ? errno : 0;
		aa_run(tfd, paths[i], spawn[i], &r->s_status[i], r->s_out[i],
		       &r->e_status[i], r->e_out[i]);
		if (tfd >= 0)
			close(tfd);
	}
	if (aa_current(r->caller_after, sizeof(r->caller_after)))
		snprintf(r->caller_after, sizeof(r->caller_after), "read=%s",
			 strerrorname_np(errno));
}

static void aa_report_from_child(struct __test_metadata *_metadata,
				 struct aa_report *r)
{
	int p[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		aa_confined_caller(r);
		_exit(write(p[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(*r), read(p[0], r, sizeof(*r)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_STREQ(AA_CALLER " (enforce)", r->caller);
}

TEST_F(apparmor, transition_as_execve)
{
	/* spec: spawn_template_spawn(): LSM hooks as for execveat(): an AppArmor "px ->" transition gives the spawned child the same label as execve, and the caller keeps its own */
	struct aa_report r;

	aa_report_from_child(_metadata, &r);
	ASSERT_EQ(0, r.create_allowed);
	ASSERT_EQ(0, r.spawn_allowed);
	ASSERT_EQ(0, r.e_status[0]);
	ASSERT_STREQ("attr=" AA_CHILD " (enforce)", r.e_out[0]);	/* control */
	ASSERT_EQ(0, r.s_status[0]);
	ASSERT_STREQ(r.e_out[0], r.s_out[0]);
	ASSERT_STREQ(AA_CALLER " (enforce)", r.caller_after);
}

TEST_F(apparmor, denied_exec_exits_126)
{
	/* spec: spawn_template_spawn(): an exec the AppArmor profile denies fails in the child with EACCES: exit status 126, as execve's EACCES */
	struct aa_report r;

	aa_report_from_child(_metadata, &r);
	/* creating opens the file for exec, which AppArmor leaves to exec */
	ASSERT_EQ(0, r.create_denied);
	ASSERT_EQ(0, r.spawn_denied);
	ASSERT_TRUE(WIFEXITED(r.e_status[1]));
	ASSERT_EQ(126, WEXITSTATUS(r.e_status[1]));	/* control */
	ASSERT_TRUE(WIFEXITED(r.s_status[1]));
	ASSERT_EQ(126, WEXITSTATUS(r.s_status[1]));
	ASSERT_STREQ("", r.s_out[1]);
}

TEST_HARNESS_MAIN
