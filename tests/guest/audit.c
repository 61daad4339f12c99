// SPDX-License-Identifier: GPL-2.0
/*
 * The audit trail of a spawn, compared with that of execveat() of the
 * same file (spec 1.1, spawn_template_spawn(): audit). The check becomes
 * the audit daemon itself through the audit netlink socket (AUDIT_SET),
 * adds one exit rule for spawn_template_spawn, execve and execveat limited
 * to its own children, and reads the records: no auditd is needed.
 *
 * Records of one event share its serial; an event ends with AUDIT_EOE.
 * For the spawned child and for the execveat() child it looks for the
 * event whose SYSCALL record has the child's pid, then compares:
 *   SYSCALL  success (yes), ppid (the check), exe, comm, uid, auid
 *   EXECVE   the whole record: argc and every argument
 *   PATH     the item for the file: inode, dev, mode, ouid, ogid, nametype
 * They differ, by design, in syscall= and a0..a3 (another system call),
 * exit= (the spawn's child returns from nothing; 0 either way), pid=, and
 * the PATH item's name= (execveat(fd, "") looks up an empty name; the
 * spawn records the pinned file without a lookup).
 *
 * Rules that select execs rather than system calls (spec 1.2,
 * spawn_template_spawn(): Observers), one check each, named after the
 * rule, with the rule built as auditctl builds it (libaudit):
 *   watch_perm_x  auditctl -w FILE -p x: AUDIT_WATCH and AUDIT_PERM on
 *                 every system call, no arch
 *   perm_x_path   -F arch=b64 -S execve,execveat,473 -F perm=x -F path=FILE
 *                 (path= is an AUDIT_WATCH too, here with a syscall list)
 *   perm_x_dir    -F arch=b64 -F perm=x -F dir=DIR (AUDIT_DIR, a tree)
 *   exe           -F arch=b64 -S execve,execveat,473 -F exe=FILE
 * each with -F ppid=<the check> and its own key. The template is made
 * before the rule, so that what fires is the spawn, not the creation.
 * The spawned child must have an event carrying the key, as the
 * execveat() child has, with the same SYSCALL and PATH fields as above.
 * Nothing is asserted of the caller's own spawn_template_spawn() call
 * (pid = the check; the rules leave it out by ppid): an implementation
 * may name the file there as well.
 */
#include <poll.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "common.h"

#define PROBE		ST_SCRATCH "/probe"
#define EVENT_MAX	16384
/* Room for a rule's strings: a path and a key. */
#define RULE_BUF	256

FIXTURE(audit) {
	int sock;
	__u32 seq;
	int was_enabled;
	int rule_added;
	/* Inline: the parent's teardown sees only the fixture's own memory. */
	union {
		struct audit_rule_data rule;
		char space[sizeof(struct audit_rule_data) + RULE_BUF];
	};
	size_t rule_len;
	char key[32];
};

static int nl_send(int sock, __u16 type, __u32 seq, const void *data,
		   size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	char buf[NLMSG_SPACE(sizeof(struct audit_rule_data) + RULE_BUF)];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;

	if (NLMSG_SPACE(len) > sizeof(buf))
		return -E2BIG;
	memset(buf, 0, sizeof(buf));
	nh->nlmsg_len = NLMSG_LENGTH(len);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = seq;
	if (len)
		memcpy(NLMSG_DATA(nh), data, len);
	if (sendto(sock, buf, nh->nlmsg_len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -errno;
	return 0;
}

/*
 * Wait for the kernel's answer to request @seq: 0 or -errno from its
 * NLMSG_ERROR. @status, when not NULL, receives an AUDIT_GET reply.
 */
static int nl_wait(int sock, __u32 seq, struct audit_status *status)
{
	char buf[8192];

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		struct nlmsghdr *nh;
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return -ETIMEDOUT;
		n = recv(sock, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == AUDIT_GET && status) {
				memcpy(status, NLMSG_DATA(nh), sizeof(*status));
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				if (e->error || !status)
					return e->error;
			}
		}
	}
}

/* Send request @type with the next sequence number of @seq; wait for it. */
static int nl_request(int sock, __u32 *seq, __u16 type, const void *data,
		      size_t len, struct audit_status *status)
{
	int r = nl_send(sock, type, ++*seq, data, len);

	return r ? r : nl_wait(sock, *seq, status);
}

/* Become (@pid) or stop being (0) the audit daemon; set enabled. */
static int set_daemon(int sock, __u32 *seq, __u32 pid, __u32 enabled)
{
	struct audit_status s = {
		.mask = AUDIT_STATUS_PID | AUDIT_STATUS_ENABLED,
		.pid = pid,
		.enabled = enabled,
	};

	return nl_request(sock, seq, AUDIT_SET, &s, sizeof(s), NULL);
}

/*
 * Is @pid, which AUDIT_GET names as the audit daemon, a live process?
 * A check that failed before it stopped being the daemon leaves its pid
 * behind until the kernel next fails to reach it; AUDIT_SET replaces
 * such a daemon.
 */
static bool daemon_alive(__u32 pid)
{
	return pid && !(kill(pid, 0) && errno == ESRCH);
}

/*
 * Start an exit rule (AUDIT_ALWAYS) on the system calls @nrs, or on all
 * of them when @nrs is NULL (what auditctl does for a watch or for a rule
 * without -S). The rule lives in a buffer of sizeof(*r) + RULE_BUF bytes.
 */
static void rule_start(struct audit_rule_data *r, const int *nrs, int n)
{
	int i;

	memset(r, 0, sizeof(*r) + RULE_BUF);
	r->flags = AUDIT_FILTER_EXIT;
	r->action = AUDIT_ALWAYS;
	for (i = 0; i < AUDIT_BITMASK_SIZE && !nrs; i++)
		r->mask[i] = ~0U;
	for (i = 0; nrs && i < n; i++)
		r->mask[nrs[i] / 32] |= 1U << (nrs[i] % 32);
}

/* Add "field == val" to @r. */
static void rule_field(struct audit_rule_data *r, __u32 field, __u32 val)
{
	r->fields[r->field_count] = field;
	r->values[r->field_count] = val;
	r->fieldflags[r->field_count++] = AUDIT_EQUAL;
}

/*
 * Add "field == s" for a string field: its value is the length, the text
 * goes into buf after the strings of the fields before it. The rule's
 * size in bytes, or 0 when the strings do not fit.
 */
static size_t rule_string(struct audit_rule_data *r, __u32 field,
			  const char *s)
{
	size_t len = strlen(s);

	if (r->buflen + len > RULE_BUF)
		return 0;
	rule_field(r, field, len);
	memcpy(r->buf + r->buflen, s, len);
	r->buflen += len;
	return sizeof(*r) + r->buflen;
}

/*
 * An exit rule: the three exec-like system calls, x86_64, children of
 * this process only, tagged with our key.
 */
static void make_rule(FIXTURE_DATA(audit) *self)
{
	static const int nrs[] = {
		__NR_execve, __NR_execveat, __NR_spawn_template_spawn,
	};
	struct audit_rule_data *r = &self->rule;

	rule_start(r, nrs, ST_NELEM(nrs));
	rule_field(r, AUDIT_ARCH, AUDIT_ARCH_X86_64);
	rule_field(r, AUDIT_PPID, getpid());
	self->rule_len = rule_string(r, AUDIT_FILTERKEY, self->key);
}

/*
 * Open an audit netlink socket in @sock and read the audit status (enabled
 * or not, in @enabled). NULL, or why the check cannot run here: no audit,
 * or an audit daemon that a check must not displace.
 */
static const char *audit_open(struct __test_metadata *_metadata, int *sock,
			      __u32 *seq, int *enabled)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	static char why[64];
	struct audit_status s;

	*sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (*sock < 0 && errno == EPROTONOSUPPORT)
		return "no audit in this kernel (CONFIG_AUDIT)";
	ASSERT_LE(0, *sock) TH_LOG("audit socket: %m");
	ASSERT_EQ(0, bind(*sock, (struct sockaddr *)&me, sizeof(me)));
	ASSERT_EQ(0, nl_request(*sock, seq, AUDIT_GET, NULL, 0, &s));
	if (daemon_alive(s.pid)) {
		snprintf(why, sizeof(why), "an audit daemon (pid %u) is running",
			 s.pid);
		return why;
	}
	*enabled = s.enabled;
	return NULL;
}

FIXTURE_SETUP(audit)
{
	const char *why;
	int r;

	self->sock = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	why = audit_open(_metadata, &self->sock, &self->seq, &self->was_enabled);
	if (why)
		SKIP(return, "%s", why);
	st_scratch_probe(_metadata, PROBE);

	snprintf(self->key, sizeof(self->key), "st_audit_%d", getpid());
	make_rule(self);
	ASSERT_NE(0, self->rule_len);
	r = set_daemon(self->sock, &self->seq, getpid(), 1);
	ASSERT_EQ(0, r) TH_LOG("AUDIT_SET (become the daemon): %s",
			       strerrorname_np(-r));
	r = nl_request(self->sock, &self->seq, AUDIT_ADD_RULE, &self->rule,
		       self->rule_len, NULL);
	if (r == -EINVAL)
		SKIP(return, "syscall rules refused: no CONFIG_AUDITSYSCALL?");
	ASSERT_EQ(0, r) TH_LOG("AUDIT_ADD_RULE: %s", strerrorname_np(-r));
	self->rule_added = 1;
}

/*
 * In the parent, after a failed ASSERT too: the rule is global and would
 * outlive the check. The daemon registration goes with the check's socket
 * (the kernel drops a daemon it cannot reach).
 */
FIXTURE_TEARDOWN_PARENT(audit)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };

	if (!self->rule_added)
		return;
	self->sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (self->sock < 0 ||
	    bind(self->sock, (struct sockaddr *)&me, sizeof(me))) {
		TH_LOG("cannot remove the audit rule: %m");
		return;
	}
	EXPECT_EQ(0, nl_request(self->sock, &self->seq, AUDIT_DEL_RULE,
				&self->rule, self->rule_len, NULL));
	if (!self->was_enabled) {
		struct audit_status s = {
			.mask = AUDIT_STATUS_ENABLED,
			.enabled = 0,
		};

		nl_request(self->sock, &self->seq, AUDIT_SET, &s, sizeof(s),
			   NULL);
	}
	close(self->sock);
}

/* One audit event: its records, one per line, "TYPE text". */
struct event {
	unsigned int serial;
	char text[EVENT_MAX];
	size_t len;
	bool ended;
};

/* The record of @type in @e ("TYPE audit(...): fields"), or NULL. */
static const char *record(const struct event *e, int type, const char *with)
{
	char pfx[16];
	const char *s = e->text;
	size_t pl;

	pl = snprintf(pfx, sizeof(pfx), "%d ", type);
	while (s && *s) {
		const char *end = strchr(s, '\n');

		if (!strncmp(s, pfx, pl) &&
		    (!with || (strstr(s, with) && (!end || strstr(s, with) < end))))
			return s;
		s = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The event whose SYSCALL record is that of @pid, or NULL. */
static const struct event *event_of(const struct event *ev, int n, pid_t pid)
{
	char pat[32];
	int i;

	snprintf(pat, sizeof(pat), " pid=%d ", pid);
	for (i = 0; i < n; i++)
		if (record(&ev[i], AUDIT_SYSCALL, pat))
			return &ev[i];
	return NULL;
}

/* Has each of @pids an event that has ended? */
static bool all_ended(const struct event *ev, int n, const pid_t *pids,
		      int npids)
{
	int i;

	for (i = 0; i < npids; i++) {
		const struct event *e = event_of(ev, n, pids[i]);

		if (!e || !e->ended)
			return false;
	}
	return true;
}

/*
 * Read records until the events of the processes @pids have ended or 10 s
 * have passed; @ev has room for @max events.
 */
static int read_events(int sock, struct event *ev, int max,
		       const pid_t *pids, int npids)
{
	static char buf[65536];
	int n = 0;
	double until = st_now() + 10;

	while (!all_ended(ev, n, pids, npids) && st_now() < until) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		struct nlmsghdr *nh;
		unsigned int serial;
		const char *data;
		size_t dlen;
		ssize_t len;
		int i;

		if (poll(&p, 1, 500) != 1)
			continue;
		len = recv(sock, buf, sizeof(buf) - 1, 0);
		if (len <= (ssize_t)NLMSG_HDRLEN)
			break;
		buf[len] = '\0';
		/*
		 * One record per message. Its nlmsg_len is not to be trusted:
		 * audit leaves the header out of it (records came 16 bytes
		 * short when it was); the text is what arrived, up to its NUL.
		 */
		nh = (struct nlmsghdr *)buf;
		data = NLMSG_DATA(nh);
		dlen = strnlen(data, len - NLMSG_HDRLEN);
		if (nh->nlmsg_type < AUDIT_FIRST_USER_MSG ||
		    sscanf(data, "audit(%*u.%*u:%u)", &serial) != 1)
			continue;
		for (i = 0; i < n && ev[i].serial != serial; i++)
			;
		if (i == n) {
			if (n == max)
				continue;
			memset(&ev[n], 0, sizeof(ev[n]));
			ev[n++].serial = serial;
		}
		if (nh->nlmsg_type == AUDIT_EOE) {
			ev[i].ended = true;
			continue;
		}
		ev[i].len += snprintf(ev[i].text + ev[i].len,
				      sizeof(ev[i].text) - ev[i].len,
				      "%u %.*s\n", nh->nlmsg_type, (int)dlen, data);
		if (ev[i].len >= sizeof(ev[i].text))
			ev[i].len = sizeof(ev[i].text) - 1;
	}
	return n;
}

/* The value of " field=" in the record line @rec, in @out. */
static const char *field(const char *rec, const char *name, char *out,
			 size_t len)
{
	char pat[32];
	const char *s, *end;
	size_t n;

	out[0] = '\0';
	if (!rec)
		return out;
	end = strchr(rec, '\n');
	snprintf(pat, sizeof(pat), " %s=", name);
	s = strstr(rec, pat);
	if (!s || (end && s > end))
		return out;
	s += strlen(pat);
	n = strcspn(s, " \n");
	snprintf(out, len, "%.*s", (int)n, s);
	return out;
}

/* The fields of the record line @rec, after "audit(...): ", in @out. */
static void fields_of(const char *rec, char *out, size_t len)
{
	const char *s = strstr(rec, "): ");

	out[0] = '\0';
	if (s)
		snprintf(out, len, "%.*s", (int)strcspn(s + 3, "\n"), s + 3);
}

/*
 * The spawned child's event @es names what the execveat() child's @ex
 * names: the SYSCALL record's success (yes), ppid (the check), exe, comm,
 * uid, auid, and the PATH item of the file (inode @ino): inode, dev, mode,
 * ouid, ogid, nametype.
 */
static void same_exec(struct __test_metadata *_metadata,
		      const struct event *es, const struct event *ex,
		      ino_t ino)
{
	static const char *const sys_fields[] = { "success", "ppid", "exe",
						  "comm", "uid", "auid" };
	static const char *const path_fields[] = { "inode", "dev", "mode",
						   "ouid", "ogid", "nametype" };
	char a[256], b[256], pat[32];
	const char *ps, *px;
	int i;

	for (i = 0; i < (int)ST_NELEM(sys_fields); i++) {
		field(record(es, AUDIT_SYSCALL, NULL), sys_fields[i], a, sizeof(a));
		field(record(ex, AUDIT_SYSCALL, NULL), sys_fields[i], b, sizeof(b));
		ASSERT_STRNE("", b) TH_LOG("execveat's SYSCALL has no %s", sys_fields[i]);
		EXPECT_STREQ(b, a) TH_LOG("SYSCALL %s differs:\nspawn:\n%s\nexecveat:\n%s",
					  sys_fields[i], es->text, ex->text);
	}
	field(record(es, AUDIT_SYSCALL, NULL), "ppid", a, sizeof(a));
	ASSERT_EQ(getpid(), atoi(a));
	field(record(es, AUDIT_SYSCALL, NULL), "success", a, sizeof(a));
	ASSERT_STREQ("yes", a);

	snprintf(pat, sizeof(pat), " inode=%llu ", (unsigned long long)ino);
	ps = record(es, AUDIT_PATH, pat);
	px = record(ex, AUDIT_PATH, pat);
	ASSERT_NE(NULL, px) TH_LOG("execveat has no PATH record for inode %llu:\n%s",
				   (unsigned long long)ino, ex->text);
	ASSERT_NE(NULL, ps) TH_LOG("no PATH record for the spawned file:\n%s", es->text);
	for (i = 0; i < (int)ST_NELEM(path_fields); i++) {
		field(ps, path_fields[i], a, sizeof(a));
		field(px, path_fields[i], b, sizeof(b));
		EXPECT_STREQ(b, a) TH_LOG("PATH %s differs:\nspawn:\n%s\nexecveat:\n%s",
					  path_fields[i], es->text, ex->text);
	}
}

TEST_F(audit, spawn_leaves_the_trail_of_execveat)
{
	/* spec: spawn_template_spawn(): audit: an EXECVE record with the child's argv, a PATH record for the executable and the new pid, as execveat() */
	static char *const argv[] = { "probe", "exit", "0", "st-audit", NULL };
	static char *const envp[] = { NULL };
	static struct event ev[32];
	const struct event *es, *ex;
	char a[256], b[256];
	struct stat st;
	int tfd, fd, pidfd = -1, n;
	pid_t spawned, forked;

	ASSERT_EQ(0, stat(PROBE, &st));

	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	spawned = st_spawn(tfd, 0, argv, envp, NULL, 0, &pidfd);
	ASSERT_LT(0, spawned) TH_LOG("spawn: %m");
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));

	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	forked = st_fork_execveat(fd, argv, envp);
	ASSERT_LE(0, forked);
	ASSERT_EQ(ST_EXITED(0), st_wait(forked));

	n = read_events(self->sock, ev, ST_NELEM(ev),
			(pid_t[]){ forked, spawned }, 2);
	ex = event_of(ev, n, forked);
	es = event_of(ev, n, spawned);
	ASSERT_NE(NULL, ex) TH_LOG("no audit event for the execveat() child %d: the rule or the reader is broken (%d events)",
				   forked, n);
	ASSERT_NE(NULL, es) TH_LOG("spec 1.1: a spawn leaves the audit trail of execveat(): no audit event for the spawned child %d, its exec is hidden from the audit log (%d events; execveat's:\n%s)",
				   spawned, n, ex->text);

	same_exec(_metadata, es, ex, st.st_ino);

	ASSERT_NE(NULL, record(ex, AUDIT_EXECVE, NULL))
		TH_LOG("no EXECVE record for execveat():\n%s", ex->text);
	ASSERT_NE(NULL, record(es, AUDIT_EXECVE, NULL))
		TH_LOG("no EXECVE record for the spawned child:\n%s", es->text);
	fields_of(record(es, AUDIT_EXECVE, NULL), a, sizeof(a));
	fields_of(record(ex, AUDIT_EXECVE, NULL), b, sizeof(b));
	ASSERT_STREQ(b, a) TH_LOG("EXECVE differs:\nspawn:\n%s\nexecveat:\n%s",
				  es->text, ex->text);
	field(record(es, AUDIT_EXECVE, NULL), "a3", a, sizeof(a));
	ASSERT_STREQ("\"st-audit\"", a) TH_LOG("the spawned child's records:\n%s",
					       es->text);
	ASSERT_EQ(0, set_daemon(self->sock, &self->seq, 0, 1));
	close(fd);
	close(tfd);
}

/* ------------------------------------------------------------------ */
/* Rules that select execs (contract 1.2)                              */

#define RULE_DIR	ST_SCRATCH "/obs"
#define RULE_FILE	RULE_DIR "/probe"

enum exec_rule_kind { WATCH_PERM_X, PERM_X_PATH, PERM_X_DIR, EXE };

/* The rules as auditctl spells them, for the messages. */
static const char *const exec_rule_text[] = {
	[WATCH_PERM_X] = "-w " RULE_FILE " -p x",
	[PERM_X_PATH] = "-a always,exit -F arch=b64 -S execve,execveat,473 -F perm=x -F path=" RULE_FILE,
	[PERM_X_DIR] = "-a always,exit -F arch=b64 -F perm=x -F dir=" RULE_DIR,
	[EXE] = "-a always,exit -F arch=b64 -S execve,execveat,473 -F exe=" RULE_FILE,
};

FIXTURE(exec_rule) {
	int sock;
	__u32 seq;
	int was_enabled;
	int rule_added;
	/* Inline: the parent's teardown sees only the fixture's own memory. */
	union {
		struct audit_rule_data rule;
		char space[sizeof(struct audit_rule_data) + RULE_BUF];
	};
	size_t rule_len;
	char key[32];
};

ST_ORIGIN_VARIANTS(exec_rule);

FIXTURE_SETUP(exec_rule)
{
	const char *why;
	int r;

	self->sock = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	why = audit_open(_metadata, &self->sock, &self->seq, &self->was_enabled);
	if (why)
		SKIP(return, "%s", why);
	/* The watched file's directory is a real one when the rule comes. */
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkdir(RULE_DIR, 0755));
	st_copy_helper(_metadata, "helper_probe", RULE_FILE, 0755);
	snprintf(self->key, sizeof(self->key), "st_exec_rule_%d", getpid());
	r = set_daemon(self->sock, &self->seq, getpid(), 1);
	ASSERT_EQ(0, r) TH_LOG("AUDIT_SET (become the daemon): %s",
			       strerrorname_np(-r));
}

/*
 * In the parent, after a failed ASSERT too. The kernel removes a watch,
 * dir or exe rule by itself when the file system it names goes (the
 * check's scratch tmpfs goes with its mount namespace): ENOENT is fine.
 */
FIXTURE_TEARDOWN_PARENT(exec_rule)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	int r;

	if (!self->rule_added)
		return;
	self->sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (self->sock < 0 ||
	    bind(self->sock, (struct sockaddr *)&me, sizeof(me))) {
		TH_LOG("cannot remove the audit rule: %m");
		return;
	}
	r = nl_request(self->sock, &self->seq, AUDIT_DEL_RULE, &self->rule,
		       self->rule_len, NULL);
	if (r && r != -ENOENT)
		TH_LOG("AUDIT_DEL_RULE: %s", strerrorname_np(-r));
	EXPECT_TRUE(r == 0 || r == -ENOENT);
	if (!self->was_enabled) {
		struct audit_status s = {
			.mask = AUDIT_STATUS_ENABLED,
			.enabled = 0,
		};

		nl_request(self->sock, &self->seq, AUDIT_SET, &s, sizeof(s),
			   NULL);
	}
	close(self->sock);
}

/* Build the rule @kind as auditctl does, for our children, with our key. */
static void make_exec_rule(FIXTURE_DATA(exec_rule) *self,
			   enum exec_rule_kind kind)
{
	static const int nrs[] = {
		__NR_execve, __NR_execveat, __NR_spawn_template_spawn,
	};
	struct audit_rule_data *r = &self->rule;

	switch (kind) {
	case WATCH_PERM_X:
		/* audit_add_watch() + audit_update_watch_perms(): no arch */
		rule_start(r, NULL, 0);
		rule_string(r, AUDIT_WATCH, RULE_FILE);
		rule_field(r, AUDIT_PERM, AUDIT_PERM_EXEC);
		break;
	case PERM_X_PATH:
		rule_start(r, nrs, ST_NELEM(nrs));
		rule_field(r, AUDIT_ARCH, AUDIT_ARCH_X86_64);
		rule_field(r, AUDIT_PERM, AUDIT_PERM_EXEC);
		rule_string(r, AUDIT_WATCH, RULE_FILE);
		break;
	case PERM_X_DIR:
		rule_start(r, NULL, 0);
		rule_field(r, AUDIT_ARCH, AUDIT_ARCH_X86_64);
		rule_field(r, AUDIT_PERM, AUDIT_PERM_EXEC);
		rule_string(r, AUDIT_DIR, RULE_DIR);
		break;
	case EXE:
		rule_start(r, nrs, ST_NELEM(nrs));
		rule_field(r, AUDIT_ARCH, AUDIT_ARCH_X86_64);
		rule_string(r, AUDIT_EXE, RULE_FILE);
		break;
	}
	rule_field(r, AUDIT_PPID, getpid());
	self->rule_len = rule_string(r, AUDIT_FILTERKEY, self->key);
}

/*
 * Template RULE_FILE, add rule @kind, spawn it and execveat() it: both
 * children must have an event of the rule (its key), naming the same.
 */
static void exec_rule_check(struct __test_metadata *_metadata,
			    FIXTURE_DATA(exec_rule) *self, bool by_fd,
			    enum exec_rule_kind kind)
{
	static char *const argv[] = { "probe", "exit", "0", "st-exec-rule", NULL };
	static char *const envp[] = { NULL };
	static struct event ev[32];
	const char *rule = exec_rule_text[kind];
	const struct event *es, *ex;
	char key[64];
	struct stat st;
	int tfd, fd, pidfd = -1, n, r;
	pid_t spawned, forked;

	ASSERT_EQ(0, stat(RULE_FILE, &st));
	tfd = st_origin_template(_metadata, by_fd, RULE_FILE);
	fd = open(RULE_FILE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);

	make_exec_rule(self, kind);
	ASSERT_NE(0, self->rule_len);
	r = nl_request(self->sock, &self->seq, AUDIT_ADD_RULE, &self->rule,
		       self->rule_len, NULL);
	ASSERT_EQ(0, r) TH_LOG("AUDIT_ADD_RULE %s: %s", rule,
			       strerrorname_np(-r));
	self->rule_added = 1;

	spawned = st_spawn(tfd, 0, argv, envp, NULL, 0, &pidfd);
	ASSERT_LT(0, spawned) TH_LOG("spawn: %m");
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));
	forked = st_fork_execveat(fd, argv, envp);
	ASSERT_LE(0, forked);
	ASSERT_EQ(ST_EXITED(0), st_wait(forked));

	n = read_events(self->sock, ev, ST_NELEM(ev),
			(pid_t[]){ forked, spawned }, 2);
	ex = event_of(ev, n, forked);
	es = event_of(ev, n, spawned);
	ASSERT_NE(NULL, ex) TH_LOG("rule `%s` made no event for the execveat() child %d: the rule or the reader is broken (%d events)",
				   rule, forked, n);
	ASSERT_NE(NULL, es) TH_LOG("spec 1.2: rule `%s` fires for execveat() but not for the spawned child %d: the spawn is an exec this rule cannot see (%d events; execveat's:\n%s)",
				   rule, spawned, n, ex->text);

	snprintf(key, sizeof(key), " key=\"%s\"", self->key);
	ASSERT_NE(NULL, record(ex, AUDIT_SYSCALL, key))
		TH_LOG("execveat's event is not the rule's (no key %s):\n%s",
		       self->key, ex->text);
	ASSERT_NE(NULL, record(es, AUDIT_SYSCALL, key))
		TH_LOG("spec 1.2: the spawned child's event does not carry the key of rule `%s`:\n%s",
		       rule, es->text);
	same_exec(_metadata, es, ex, st.st_ino);

	ASSERT_EQ(0, set_daemon(self->sock, &self->seq, 0, 1));
	close(fd);
	close(tfd);
}

TEST_F(exec_rule, watch_perm_x)
{
	/* spec: spawn_template_spawn(): Observers: audit: a file watch (auditctl -w FILE -p x) fires for each spawn as for execveat() */
	exec_rule_check(_metadata, self, variant->by_fd, WATCH_PERM_X);
}

TEST_F(exec_rule, perm_x_path)
{
	/* spec: spawn_template_spawn(): Observers: audit: -F perm=x -F path=FILE (with -S execve,execveat,473) fires for each spawn as for execveat() */
	exec_rule_check(_metadata, self, variant->by_fd, PERM_X_PATH);
}

TEST_F(exec_rule, perm_x_dir)
{
	/* spec: spawn_template_spawn(): Observers: audit: -F perm=x -F dir=DIR fires for each spawn of a file under DIR as for execveat() */
	exec_rule_check(_metadata, self, variant->by_fd, PERM_X_DIR);
}

TEST_F(exec_rule, exe)
{
	/* spec: spawn_template_spawn(): Observers: audit: -F exe=FILE fires for the spawned child as for the execveat() child */
	exec_rule_check(_metadata, self, variant->by_fd, EXE);
}

TEST_HARNESS_MAIN
