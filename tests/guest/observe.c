// SPDX-License-Identifier: GPL-2.0
/*
 * Observers of exec and spawn templates (contract 1.2,
 * spawn_template_spawn(): Observers): everything in the kernel that
 * watches execs sees each spawn as it sees execveat(fd, "", ...,
 * AT_EMPTY_PATH) of the template's file, at each spawn. Each check does
 * NSPAWN spawns and NSPAWN execveat()s of the same file in fork()ed
 * children, in the same guest, and compares what the observer saw:
 *
 * - fanotify FAN_OPEN_EXEC: one event per exec (the mark comes after the
 *   template, so that creation's own open is not what is counted);
 * - fanotify FAN_OPEN_EXEC_PERM: a listener that allows is asked once per
 *   exec and each child runs; one that denies fails execveat() and the
 *   spawn with EPERM, and the spawn leaves no child; with the listener's
 *   group gone the template spawns again;
 * - the sched_process_exec tracepoint (a tracefs instance of our own): one
 *   event per exec, pid= and old_pid= the child's;
 * - the proc connector: one PROC_EVENT_EXEC per exec, process_pid and
 *   process_tgid the child's;
 * - IMA: a BPRM_CHECK measure rule measures the first spawn of a new file
 *   as it measures the first execveat() of a new copy of it (IMA measures
 *   an inode once): same template, same file digest.
 *
 * A facility the kernel lacks is a skip naming the fragment that brings
 * it (kconfigs/observe.config, trace.config, ima.config).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/fanotify.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "common.h"

#define PROBE		ST_SCRATCH "/probe"
#define NSPAWN		3

static char *const run_argv[] = { "probe", "exit", "0", "st-observe", NULL };
static char *const no_env[] = { NULL };

/* @n spawns from @tfd, each reaped before the next: pids in @pids. */
static void spawn_round_n(struct __test_metadata *_metadata, int tfd, int n,
			  pid_t *pids)
{
	int i, pidfd;

	for (i = 0; i < n; i++) {
		pidfd = -1;
		pids[i] = st_spawn(tfd, 0, run_argv, no_env, NULL, 0, &pidfd);
		ASSERT_LT(0, pids[i]) TH_LOG("spawn %d: %m", i);
		ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd))
			TH_LOG("spawned child %d", i);
	}
}

/* @n execveat()s of @fd in fork()ed children: pids in @pids. */
static void execveat_round_n(struct __test_metadata *_metadata, int fd, int n,
			     pid_t *pids)
{
	int i;

	for (i = 0; i < n; i++) {
		pids[i] = st_fork_execveat(fd, run_argv, no_env);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(ST_EXITED(0), st_wait(pids[i]))
			TH_LOG("execveat() child %d", i);
	}
}

/* The common setup: the probe copied to scratch space and templated. */
static void probe_and_template(struct __test_metadata *_metadata,
			       bool by_fd, int *tfd, int *fd)
{
	st_scratch_probe(_metadata, PROBE);
	*tfd = st_origin_template(_metadata, by_fd, PROBE);
	*fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, *fd) TH_LOG("open %s: %m", PROBE);
}

/* ------------------------------------------------------------------ */
/* fanotify                                                            */

/* A read buffer for fanotify events, aligned for their metadata. */
#define FAN_BUF		(8192 / sizeof(struct fanotify_event_metadata))

/*
 * Read what is queued on the non-blocking @fan until 300 ms pass without
 * an event; count the events with a bit of @mask. For notification
 * groups only (permission events are answered by a listener).
 */
static int count_fan_events(int fan, __u64 mask)
{
	static struct fanotify_event_metadata buf[FAN_BUF];
	int n = 0;

	for (;;) {
		struct pollfd p = { .fd = fan, .events = POLLIN };
		struct fanotify_event_metadata *m;
		ssize_t len;

		if (poll(&p, 1, 300) != 1)
			return n;
		len = read(fan, buf, sizeof(buf));
		if (len < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (len <= 0)
			return n;
		for (m = buf; FAN_EVENT_OK(m, len);
		     m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers == FANOTIFY_METADATA_VERSION &&
			    (m->mask & mask))
				n++;
			if (m->fd >= 0)
				close(m->fd);
		}
	}
}

FIXTURE(fanotify) {
	int tfd;
	int fd;
};

ST_ORIGIN_VARIANTS(fanotify);

FIXTURE_SETUP(fanotify)
{
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	probe_and_template(_metadata, variant->by_fd, &self->tfd, &self->fd);
}

FIXTURE_TEARDOWN(fanotify)
{
}

TEST_F(fanotify, open_exec_per_spawn)
{
	/* spec: spawn_template_spawn(): Observers: fanotify: each spawn reports FAN_OPEN_EXEC on the executable, as execveat() does */
	pid_t spawned[NSPAWN], execed[NSPAWN];
	int fan, s, x, i;

	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
			    O_RDONLY | O_CLOEXEC);
	if (fan < 0 && errno == ENOSYS)
		SKIP(return, "no fanotify: needs --kconfig observe (CONFIG_FANOTIFY)");
	ASSERT_LE(0, fan) TH_LOG("fanotify_init: %m");
	/* After the template: creation opened the file for exec too. */
	ASSERT_EQ(0, fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_EXEC, AT_FDCWD,
				   PROBE)) TH_LOG("fanotify_mark: %m");

	/*
	 * Read after each exec: fanotify merges an unread event into a queued
	 * one of the same file and pid (fanotify_should_merge()), and a spawn
	 * may open the file in the caller (the contract lets it ask before the
	 * child exists), so three unread spawns could count as one.
	 */
	for (s = 0, i = 0; i < NSPAWN; i++) {
		spawn_round_n(_metadata, self->tfd, 1, &spawned[i]);
		s += count_fan_events(fan, FAN_OPEN_EXEC);
	}
	for (x = 0, i = 0; i < NSPAWN; i++) {
		execveat_round_n(_metadata, self->fd, 1, &execed[i]);
		x += count_fan_events(fan, FAN_OPEN_EXEC);
	}
	close(fan);

	ASSERT_EQ(NSPAWN, x) TH_LOG("%d execveat() gave %d FAN_OPEN_EXEC events: the mark or the reader is broken",
				    NSPAWN, x);
	ASSERT_EQ(NSPAWN, s) TH_LOG("spec 1.2: fanotify: %d spawns gave %d FAN_OPEN_EXEC events, %d execveat() gave %d: each spawn must be reported as an exec",
				    NSPAWN, s, NSPAWN, x);
}

/*
 * A FAN_OPEN_EXEC_PERM listener: a thread of the check (a spawn blocks
 * until it has answered), answering @answer to each permission event and
 * counting them. It stops when told through @stop.
 */
struct listener {
	int fan;
	int stop[2];
	__u32 answer;
	int asked;		/* atomic */
	int failed;		/* errno of a read or write that failed */
	pthread_t thread;
	bool running;
};

static void *listen_fn(void *arg)
{
	static struct fanotify_event_metadata buf[FAN_BUF];
	struct listener *l = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = l->fan, .events = POLLIN },
			{ .fd = l->stop[0], .events = POLLIN },
		};
		struct fanotify_event_metadata *m;
		ssize_t len;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			l->failed = errno;
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		len = read(l->fan, buf, sizeof(buf));
		if (len < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (len <= 0) {
			l->failed = len ? errno : EIO;
			return NULL;
		}
		for (m = buf; FAN_EVENT_OK(m, len);
		     m = FAN_EVENT_NEXT(m, len)) {
			struct fanotify_response r = {
				.fd = m->fd,
				.response = l->answer,
			};

			if (m->mask & FAN_OPEN_EXEC_PERM) {
				/* Counted before the answer lets the exec go on. */
				__atomic_add_fetch(&l->asked, 1, __ATOMIC_SEQ_CST);
				if (write(l->fan, &r, sizeof(r)) != sizeof(r))
					l->failed = errno;
			}
			if (m->fd >= 0)
				close(m->fd);
		}
	}
}

static int asked(struct listener *l)
{
	return __atomic_load_n(&l->asked, __ATOMIC_SEQ_CST);
}

/* Stop the listener and close its group: every open is allowed again. */
static void listener_stop(struct listener *l)
{
	if (l->running) {
		if (write(l->stop[1], "x", 1) == 1)
			pthread_join(l->thread, NULL);
		l->running = false;
	}
	if (l->fan >= 0)
		close(l->fan);
	l->fan = -1;
}

FIXTURE(fanotify_perm) {
	int tfd;
	int fd;
	struct listener l;
};

ST_ORIGIN_VARIANTS(fanotify_perm);

FIXTURE_SETUP(fanotify_perm)
{
	int r;

	self->l.fan = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	probe_and_template(_metadata, variant->by_fd, &self->tfd, &self->fd);
	self->l.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC,
				    O_RDONLY | O_CLOEXEC);
	if (self->l.fan < 0 && errno == ENOSYS)
		SKIP(return, "no fanotify: needs --kconfig observe (CONFIG_FANOTIFY)");
	if (self->l.fan < 0 && errno == EINVAL)
		SKIP(return, "no permission events: needs --kconfig observe (CONFIG_FANOTIFY_ACCESS_PERMISSIONS)");
	ASSERT_LE(0, self->l.fan) TH_LOG("fanotify_init: %m");
	/* After the template: creation opened the file for exec too. */
	r = fanotify_mark(self->l.fan, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM,
			  AT_FDCWD, PROBE);
	if (r && errno == EINVAL)
		SKIP(return, "FAN_OPEN_EXEC_PERM refused: needs --kconfig observe (CONFIG_FANOTIFY_ACCESS_PERMISSIONS)");
	ASSERT_EQ(0, r) TH_LOG("fanotify_mark: %m");
	ASSERT_EQ(0, pipe2(self->l.stop, O_CLOEXEC));
}

/* The thread dies with the check's process, and the group with it. */
FIXTURE_TEARDOWN(fanotify_perm)
{
	listener_stop(&self->l);
}

static void listener_start(struct __test_metadata *_metadata,
			   struct listener *l, __u32 answer)
{
	l->answer = answer;
	ASSERT_EQ(0, pthread_create(&l->thread, NULL, listen_fn, l));
	l->running = true;
}

TEST_F(fanotify_perm, open_exec_perm_decides_each_spawn)
{
	/* spec: spawn_template_spawn(): Observers: fanotify: a listener holding FAN_OPEN_EXEC_PERM decides each spawn, as each execveat() */
	pid_t spawned[NSPAWN], execed[NSPAWN];
	int s, x;

	listener_start(_metadata, &self->l, FAN_ALLOW);
	spawn_round_n(_metadata, self->tfd, NSPAWN, spawned);
	s = asked(&self->l);
	execveat_round_n(_metadata, self->fd, NSPAWN, execed);
	x = asked(&self->l) - s;
	listener_stop(&self->l);

	ASSERT_EQ(0, self->l.failed) TH_LOG("the listener failed: %s",
					    strerrorname_np(self->l.failed));
	ASSERT_EQ(NSPAWN, x) TH_LOG("%d execveat() asked the FAN_OPEN_EXEC_PERM listener %d times: the mark or the listener is broken",
				    NSPAWN, x);
	ASSERT_EQ(NSPAWN, s) TH_LOG("spec 1.2: fanotify: %d spawns asked the FAN_OPEN_EXEC_PERM listener %d times, %d execveat() %d times: each spawn must be decided by it",
				    NSPAWN, s, NSPAWN, x);
}

TEST_F(fanotify_perm, open_exec_perm_denial_is_eperm_without_child)
{
	/* spec: spawn_template_spawn(): Observers: fanotify: a FAN_OPEN_EXEC_PERM denial fails the spawn with EPERM before any child exists, as it fails execveat() */
	int before, evidence, err, status = -1, pidfd = -1;
	pid_t x, pid;

	listener_start(_metadata, &self->l, FAN_DENY);
	x = st_fork_execveat(self->fd, run_argv, no_env);
	ASSERT_LT(0, x);
	ASSERT_EQ(ST_EXITED(128 + EPERM), st_wait(x))
		TH_LOG("execveat() under a denying listener did not fail with EPERM: the mark or the listener is broken");

	ASSERT_EQ(0, st_watch_children(0));
	before = asked(&self->l);
	pid = st_spawn(self->tfd, 0, run_argv, no_env, NULL, 0, &pidfd);
	err = errno;
	evidence = st_child_evidence();
	if (pid > 0)
		status = st_wait_pidfd(pidfd);
	ASSERT_EQ(-1, pid) TH_LOG("spec 1.2: fanotify: a FAN_OPEN_EXEC_PERM listener that denies did not stop the spawn: child %d ran (wait status 0x%x), the listener was asked %d times",
				  pid, status, asked(&self->l) - before);
	ASSERT_EQ(EPERM, err) TH_LOG("the denied spawn failed with %s, not EPERM",
				     strerrorname_np(err));
	ASSERT_EQ(0, evidence) TH_LOG("the denied spawn left a child (evidence 0x%x)",
				      evidence);
	ASSERT_EQ(1, asked(&self->l) - before)
		TH_LOG("the denied spawn asked the listener %d times",
		       asked(&self->l) - before);

	listener_stop(&self->l);
	ASSERT_EQ(0, self->l.failed) TH_LOG("the listener failed: %s",
					    strerrorname_np(self->l.failed));
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, run_argv))
		TH_LOG("with the denying group closed the template no longer spawns: %m");
}

/* ------------------------------------------------------------------ */
/* The sched_process_exec tracepoint                                   */

#define TRACING		"/sys/kernel/tracing"
#define EXEC_EVENT	"events/sched/sched_process_exec"

FIXTURE(tracepoint) {
	int tfd;
	int fd;
	char inst[128];
	int inst_made;
};

ST_ORIGIN_VARIANTS(tracepoint);

FIXTURE_SETUP(tracepoint)
{
	char path[256];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	/* In the scratch space's private mount namespace from here on. */
	probe_and_template(_metadata, variant->by_fd, &self->tfd, &self->fd);
	if (access(TRACING "/instances", F_OK) &&
	    mount("nodev", TRACING, "tracefs", 0, NULL))
		SKIP(return, "no tracefs (mount: %s): needs --kconfig trace",
		     strerrorname_np(errno));
	if (access(TRACING "/" EXEC_EVENT, F_OK))
		SKIP(return, "no sched_process_exec event: needs --kconfig trace (event tracing)");
	snprintf(self->inst, sizeof(self->inst), TRACING "/instances/st_observe_%d",
		 getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0755)) TH_LOG("mkdir %s: %m", self->inst);
	self->inst_made = 1;
	snprintf(path, sizeof(path), "%s/" EXEC_EVENT "/enable", self->inst);
	ASSERT_EQ(0, st_write_str(path, "1")) TH_LOG("enable %s", path);
}

/*
 * In the parent, after a failed ASSERT too: the instance is global. The
 * check may have mounted tracefs where only it saw it; a child of the
 * parent mounts it again for itself, so the parent's mounts stay as they
 * are.
 */
FIXTURE_TEARDOWN_PARENT(tracepoint)
{
	char path[256];
	pid_t pid;

	if (!self->inst_made)
		return;
	pid = fork();
	if (pid == 0) {
		if (access(TRACING "/instances", F_OK) &&
		    (unshare(CLONE_NEWNS) ||
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		     mount("nodev", TRACING, "tracefs", 0, NULL)))
			_exit(1);
		snprintf(path, sizeof(path), "%s/" EXEC_EVENT "/enable",
			 self->inst);
		st_write_str(path, "0");
		_exit(rmdir(self->inst) ? 2 : 0);
	}
	EXPECT_EQ(ST_EXITED(0), st_wait(pid))
		TH_LOG("cannot remove the trace instance %s", self->inst);
}

/* One sched_process_exec line of the trace. */
struct exec_line {
	pid_t task;	/* the pid in the line's header */
	pid_t pid;
	pid_t old_pid;
	char filename[PATH_MAX];
};

/*
 * Parse "  comm-PID  [cpu] flags  ts: sched_process_exec: filename=F
 * pid=P old_pid=O"; 0 when @line is one.
 */
static int parse_exec_line(const char *line, struct exec_line *e)
{
	const char *ev = strstr(line, ": sched_process_exec: filename=");
	const char *br = strstr(line, " [");
	const char *p, *f, *pp;

	if (!ev || !br || br > ev)
		return -1;
	p = br;
	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == line || p[-1] != '-')
		return -1;
	e->task = atoi(p);
	f = ev + strlen(": sched_process_exec: filename=");
	/* The file name may hold " pid=": the last one is the field. */
	for (pp = strstr(f, " pid="); pp && strstr(pp + 1, " pid=");)
		pp = strstr(pp + 1, " pid=");
	if (!pp || sscanf(pp, " pid=%d old_pid=%d", &e->pid, &e->old_pid) != 2)
		return -1;
	snprintf(e->filename, sizeof(e->filename), "%.*s", (int)(pp - f), f);
	return 0;
}

/*
 * The instance's sched_process_exec events of @pids: for each pid the
 * number of events in @count and the last one in @last. 0, or -errno.
 */
static int read_exec_events(const char *inst, const pid_t *pids, int n,
			    int *count, struct exec_line *last)
{
	char path[256], line[PATH_MAX + 256];
	struct exec_line e;
	FILE *f;
	int i;

	memset(count, 0, sizeof(*count) * n);
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || parse_exec_line(line, &e))
			continue;
		for (i = 0; i < n; i++) {
			if (e.pid == pids[i] || e.task == pids[i]) {
				count[i]++;
				last[i] = e;
			}
		}
	}
	fclose(f);
	return 0;
}

TEST_F(tracepoint, sched_process_exec_per_spawn)
{
	/* spec: spawn_template_spawn(): Observers: the exec tracepoint (sched_process_exec) fires for each spawn with the child's pid and old_pid, as for execveat() */
	static struct exec_line ls[NSPAWN], lx[NSPAWN];
	pid_t spawned[NSPAWN], execed[NSPAWN];
	int cs[NSPAWN], cx[NSPAWN], i;

	spawn_round_n(_metadata, self->tfd, NSPAWN, spawned);
	execveat_round_n(_metadata, self->fd, NSPAWN, execed);
	ASSERT_EQ(0, read_exec_events(self->inst, execed, NSPAWN, cx, lx));
	ASSERT_EQ(0, read_exec_events(self->inst, spawned, NSPAWN, cs, ls));

	for (i = 0; i < NSPAWN; i++) {
		ASSERT_EQ(1, cx[i]) TH_LOG("execveat() child %d (pid %d) has %d sched_process_exec events: the instance or the reader is broken",
					   i, execed[i], cx[i]);
		ASSERT_EQ(execed[i], lx[i].pid);
		ASSERT_EQ(lx[i].pid, lx[i].old_pid);
	}
	for (i = 0; i < NSPAWN; i++) {
		ASSERT_EQ(1, cs[i]) TH_LOG("spec 1.2: sched_process_exec: spawned child %d (pid %d) has %d events, each execveat() child has 1 (filename=%s)",
					   i, spawned[i], cs[i], lx[0].filename);
		EXPECT_EQ(spawned[i], ls[i].pid) TH_LOG("pid= of spawn %d", i);
		EXPECT_EQ(spawned[i], ls[i].task) TH_LOG("the event of spawn %d was not raised by the child", i);
		EXPECT_EQ(ls[i].pid, ls[i].old_pid)
			TH_LOG("spawn %d: old_pid=%d, pid=%d; execveat() has old_pid == pid",
			       i, ls[i].old_pid, ls[i].pid);
		EXPECT_STRNE("", ls[i].filename);
	}
	TH_LOG("filename= spawn: %s, execveat(): %s", ls[0].filename,
	       lx[0].filename);
}

/* ------------------------------------------------------------------ */
/* The proc connector                                                  */

FIXTURE(proc_connector) {
	int tfd;
	int fd;
	int sock;
	__u32 ack;
	bool listening;
};

ST_ORIGIN_VARIANTS(proc_connector);

/*
 * Tell the proc connector to start or stop sending us events; 0/-errno.
 * Its acknowledgement has ack = @ack + 1 (its seq is the connector's own
 * counter, not ours).
 */
static int cn_proc_op(int sock, __u32 ack, enum proc_cn_mcast_op op)
{
	union {
		struct nlmsghdr nh;
		char space[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))];
	} buf;
	struct nlmsghdr *nh = &buf.nh;
	struct cn_msg *cn = NLMSG_DATA(nh);

	memset(&buf, 0, sizeof(buf));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nh->nlmsg_type = NLMSG_DONE;
	nh->nlmsg_pid = 0;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->seq = ack;
	cn->ack = ack;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	return send(sock, &buf, nh->nlmsg_len, 0) < 0 ? -errno : 0;
}

/*
 * Read proc events until @ms milliseconds pass without one (10 s at most):
 * call @fn for each. The count of receive overruns (ENOBUFS) is returned.
 */
static int read_proc_events(int sock, int ms,
			    void (*fn)(const struct cn_msg *,
				       const struct proc_event *, void *),
			    void *arg)
{
	static struct nlmsghdr buf[65536 / sizeof(struct nlmsghdr)];
	double until = st_now() + 10;
	int lost = 0;

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t len;

		if (st_now() > until || poll(&p, 1, ms) != 1)
			return lost;
		len = recv(sock, buf, sizeof(buf), 0);
		if (len < 0 && errno == ENOBUFS) {
			lost++;
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return lost;
		for (nh = buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			const struct cn_msg *cn = NLMSG_DATA(nh);
			struct proc_event ev;

			if (nh->nlmsg_type == NLMSG_ERROR ||
			    nh->nlmsg_type == NLMSG_NOOP ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)) ||
			    cn->id.idx != CN_IDX_PROC ||
			    cn->len < sizeof(ev))
				continue;
			/* cn->data is 4-byte aligned only. */
			memcpy(&ev, cn->data, sizeof(ev));
			fn(cn, &ev, arg);
		}
	}
}

struct ack_wait {
	__u32 ack;
	int acked;
	int err;
};

static void on_ack(const struct cn_msg *cn, const struct proc_event *ev,
		   void *arg)
{
	struct ack_wait *a = arg;

	if (ev->what == PROC_EVENT_NONE && cn->ack == a->ack + 1) {
		a->acked = 1;
		a->err = ev->event_data.ack.err;
	}
}

FIXTURE_SETUP(proc_connector)
{
	struct sockaddr_nl me = {
		.nl_family = AF_NETLINK,
		.nl_groups = CN_IDX_PROC,
	};
	struct ack_wait a = { 0 };
	int size = 4 << 20;

	self->sock = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	probe_and_template(_metadata, variant->by_fd, &self->tfd, &self->fd);
	self->sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			    NETLINK_CONNECTOR);
	if (self->sock < 0 && errno == EPROTONOSUPPORT)
		SKIP(return, "no connector: needs --kconfig observe (CONFIG_CONNECTOR, CONFIG_PROC_EVENTS)");
	ASSERT_LE(0, self->sock) TH_LOG("connector socket: %m");
	if (setsockopt(self->sock, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)))
		setsockopt(self->sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ASSERT_EQ(0, bind(self->sock, (struct sockaddr *)&me, sizeof(me)))
		TH_LOG("bind to CN_IDX_PROC: %m");
	self->ack = getpid();
	ASSERT_EQ(0, cn_proc_op(self->sock, self->ack, PROC_CN_MCAST_LISTEN));
	self->listening = true;
	/* The proc connector acknowledges; without CONFIG_PROC_EVENTS nobody does. */
	a.ack = self->ack;
	read_proc_events(self->sock, 1000, on_ack, &a);
	if (!a.acked)
		SKIP(return, "no answer from the proc connector: needs --kconfig observe (CONFIG_PROC_EVENTS)");
	ASSERT_EQ(0, a.err) TH_LOG("PROC_CN_MCAST_LISTEN: error %d", a.err);
}

FIXTURE_TEARDOWN(proc_connector)
{
	if (self->listening)
		cn_proc_op(self->sock, self->ack, PROC_CN_MCAST_IGNORE);
	if (self->sock >= 0)
		close(self->sock);
}

struct exec_events {
	const pid_t *pids;
	int n;
	int count[2 * NSPAWN];
	int bad_tgid[2 * NSPAWN];
};

static void on_exec(const struct cn_msg *cn, const struct proc_event *ev,
		    void *arg)
{
	struct exec_events *x = arg;
	int i;

	if (ev->what != PROC_EVENT_EXEC)
		return;
	for (i = 0; i < x->n; i++) {
		if (ev->event_data.exec.process_pid == x->pids[i]) {
			x->count[i]++;
			if (ev->event_data.exec.process_tgid != x->pids[i])
				x->bad_tgid[i] = ev->event_data.exec.process_tgid;
		}
	}
}

TEST_F(proc_connector, exec_event_per_spawn)
{
	/* spec: spawn_template_spawn(): Observers: the proc connector's exec event (PROC_EVENT_EXEC) comes for each spawned child, as for execveat() */
	pid_t pids[2 * NSPAWN];
	struct exec_events x = { .pids = pids, .n = 2 * NSPAWN };
	int lost, i;

	spawn_round_n(_metadata, self->tfd, NSPAWN, pids);
	execveat_round_n(_metadata, self->fd, NSPAWN, pids + NSPAWN);
	lost = read_proc_events(self->sock, 500, on_exec, &x);

	for (i = NSPAWN; i < 2 * NSPAWN; i++) {
		ASSERT_EQ(1, x.count[i]) TH_LOG("execveat() child %d (pid %d) has %d PROC_EVENT_EXEC events (%d overruns): the listener is broken",
						i - NSPAWN, pids[i], x.count[i], lost);
		ASSERT_EQ(0, x.bad_tgid[i]);
	}
	for (i = 0; i < NSPAWN; i++) {
		ASSERT_EQ(1, x.count[i]) TH_LOG("spec 1.2: proc connector: spawned child %d (pid %d) has %d PROC_EVENT_EXEC events, each execveat() child has 1 (%d overruns)",
						i, pids[i], x.count[i], lost);
		ASSERT_EQ(0, x.bad_tgid[i]) TH_LOG("spawn %d: process_tgid %d, process_pid %d",
						   i, x.bad_tgid[i], pids[i]);
	}
}

/* ------------------------------------------------------------------ */
/* IMA                                                                 */

#define SECURITYFS	"/sys/kernel/security"
#define IMA_DIR		SECURITYFS "/ima"
#define IMA_LIST	IMA_DIR "/ascii_runtime_measurements"
/*
 * The owner of this check's files, so that the rule it adds (rules stay
 * until reboot) measures nothing but them: tmpfs files owned by IMA_OWNER.
 */
#define IMA_OWNER	4242
#define IMA_RULE	"measure func=BPRM_CHECK mask=MAY_EXEC fsmagic=0x1021994 fowner=4242"

/* Is IMA_RULE, in any order of its words, in the policy text @pol? */
static bool rule_in_policy(const char *pol)
{
	static const char *const words[] = {
		"func=BPRM_CHECK", "mask=MAY_EXEC", "fsmagic=0x1021994",
		"fowner=4242",
	};
	const char *s = pol;

	while (s && *s) {
		size_t n = strcspn(s, "\n");
		char line[512];
		unsigned int i;

		snprintf(line, sizeof(line), "%.*s ", (int)n, s);
		for (i = 0; i < ST_NELEM(words); i++) {
			char w[64];

			snprintf(w, sizeof(w), " %s ", words[i]);
			if (!strstr(line, w))
				break;
		}
		if (!strncmp(line, "measure ", 8) && i == ST_NELEM(words))
			return true;
		s = s[n] ? s + n + 1 : NULL;
	}
	return false;
}

/* The policy's text in @buf; -errno when it cannot be read. */
static int read_policy(char *buf, size_t size)
{
	int fd = open(IMA_DIR "/policy", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = st_read_all(fd, buf, size);
	close(fd);
	return n < 0 ? -EIO : 0;
}

FIXTURE(ima) {
	char spawn_copy[64];
	char exec_copy[64];
};

ST_ORIGIN_VARIANTS(ima);

FIXTURE_SETUP(ima)
{
	static char pol[1 << 16];
	int r, rd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch(_metadata, 0);
	/* Our mount namespace is private now. */
	if (access(IMA_DIR, F_OK))
		mount("securityfs", SECURITYFS, "securityfs", 0, NULL);
	if (access(IMA_DIR, F_OK))
		SKIP(return, "no IMA: needs --kconfig ima (CONFIG_IMA)");
	ASSERT_EQ(0, access(IMA_LIST, R_OK)) TH_LOG("%s: %m", IMA_LIST);

	rd = read_policy(pol, sizeof(pol));
	if (rd || !rule_in_policy(pol)) {
		r = st_write_str(IMA_DIR "/policy", IMA_RULE "\n");
		if (r && !read_policy(pol, sizeof(pol)) && rule_in_policy(pol))
			r = 0;
		if (r)
			SKIP(return, "cannot add the IMA rule \"%s\" (%s; policy %s): needs --kconfig ima (CONFIG_IMA_WRITE_POLICY)",
			     IMA_RULE, strerrorname_np(-r),
			     rd ? "unreadable" : "read");
	}
	/* Fresh files: IMA measures an inode once, and its list stays. */
	snprintf(self->spawn_copy, sizeof(self->spawn_copy),
		 ST_SCRATCH "/ima_spawn_%d", getpid());
	snprintf(self->exec_copy, sizeof(self->exec_copy),
		 ST_SCRATCH "/ima_execveat_%d", getpid());
	st_copy_helper(_metadata, "helper_probe", self->spawn_copy, 0755);
	st_copy_helper(_metadata, "helper_probe", self->exec_copy, 0755);
	ASSERT_EQ(0, chown(self->spawn_copy, IMA_OWNER, IMA_OWNER));
	ASSERT_EQ(0, chown(self->exec_copy, IMA_OWNER, IMA_OWNER));
	ASSERT_EQ(0, chmod(self->spawn_copy, 0755));
	ASSERT_EQ(0, chmod(self->exec_copy, 0755));
}

FIXTURE_TEARDOWN(ima)
{
}

/* One entry of the measurement list: "pcr template-hash template digest name". */
struct ima_entry {
	char pcr[16];
	char template[64];
	char digest[256];
	char name[PATH_MAX];
	int count;	/* entries naming the file */
};

/* The measurement list's entries for @path (by path or base name). */
static int find_measurement(const char *path, struct ima_entry *e)
{
	static char line[PATH_MAX + 1024];
	const char *base = strrchr(path, '/') + 1;
	FILE *f = fopen(IMA_LIST, "re");
	char pcr[16], th[256], tn[64], dg[256], nm[PATH_MAX];

	memset(e, 0, sizeof(*e));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %255s %63s %255s %4095s", pcr, th, tn, dg,
			   nm) != 5)
			continue;
		if (strcmp(nm, path) && strcmp(nm, base))
			continue;
		e->count++;
		snprintf(e->pcr, sizeof(e->pcr), "%s", pcr);
		snprintf(e->template, sizeof(e->template), "%s", tn);
		snprintf(e->digest, sizeof(e->digest), "%s", dg);
		snprintf(e->name, sizeof(e->name), "%s", nm);
	}
	fclose(f);
	return 0;
}

TEST_F(ima, bprm_check_measures_first_spawn)
{
	/* spec: spawn_template_spawn(): Observers: IMA measurement: the first spawn of a new file is measured as the first execveat() of a new file is */
	struct ima_entry es, ex;
	int tfd, fd, pidfd = -1;
	pid_t pid;

	tfd = st_origin_template(_metadata, variant->by_fd, self->spawn_copy);
	ASSERT_EQ(0, find_measurement(self->spawn_copy, &es));
	ASSERT_EQ(0, es.count) TH_LOG("the copy to spawn was measured before any exec: %s",
				      es.name);
	pid = st_spawn(tfd, 0, run_argv, no_env, NULL, 0, &pidfd);
	ASSERT_LT(0, pid) TH_LOG("spawn: %m");
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));

	fd = open(self->exec_copy, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	pid = st_fork_execveat(fd, run_argv, no_env);
	ASSERT_LT(0, pid);
	ASSERT_EQ(ST_EXITED(0), st_wait(pid));

	ASSERT_EQ(0, find_measurement(self->exec_copy, &ex));
	ASSERT_EQ(0, find_measurement(self->spawn_copy, &es));
	ASSERT_EQ(1, ex.count) TH_LOG("the first execveat() of %s has %d measurements: the policy rule \"%s\" does not work here",
				      self->exec_copy, ex.count, IMA_RULE);
	ASSERT_EQ(1, es.count) TH_LOG("spec 1.2: IMA: the first spawn of %s has %d measurements, the first execveat() of a copy has 1 (%s %s %s)",
				      self->spawn_copy, es.count, ex.template,
				      ex.digest, ex.name);
	TH_LOG("spawn: %s %s %s %s; execveat(): %s %s %s %s", es.pcr,
	       es.template, es.digest, es.name, ex.pcr, ex.template, ex.digest,
	       ex.name);
	EXPECT_STREQ(ex.pcr, es.pcr);
	EXPECT_STREQ(ex.template, es.template);
	/* Same content: same algorithm and digest. */
	EXPECT_STREQ(ex.digest, es.digest);
	close(fd);
	close(tfd);
}

TEST_HARNESS_MAIN
