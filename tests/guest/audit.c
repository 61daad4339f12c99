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
 */
#include <poll.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "common.h"

#ifndef __NR_execveat
#define __NR_execveat 322
#endif
#define PROBE		ST_SCRATCH "/probe"
#define EVENT_MAX	16384

FIXTURE(audit) {
	int sock;
	__u32 seq;
	int was_enabled;
	int rule_added;
	/* Inline: the parent's teardown sees only the fixture's own memory. */
	union {
		struct audit_rule_data rule;
		char space[sizeof(struct audit_rule_data) + 32];
	};
	size_t rule_len;
	char key[32];
};

static int nl_send(int sock, __u16 type, __u32 seq, const void *data,
		   size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	char buf[NLMSG_SPACE(sizeof(struct audit_rule_data) + 64)];
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

static int nl_request(FIXTURE_DATA(audit) *self, __u16 type,
		      const void *data, size_t len,
		      struct audit_status *status)
{
	int r = nl_send(self->sock, type, ++self->seq, data, len);

	return r ? r : nl_wait(self->sock, self->seq, status);
}

/* Become (@pid) or stop being (0) the audit daemon; set enabled. */
static int set_daemon(FIXTURE_DATA(audit) *self, __u32 pid, __u32 enabled)
{
	struct audit_status s = {
		.mask = AUDIT_STATUS_PID | AUDIT_STATUS_ENABLED,
		.pid = pid,
		.enabled = enabled,
	};

	return nl_request(self, AUDIT_SET, &s, sizeof(s), NULL);
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
	size_t klen = strlen(self->key);
	unsigned int i;

	memset(self->space, 0, sizeof(self->space));
	self->rule_len = sizeof(*r) + klen;
	r->flags = AUDIT_FILTER_EXIT;
	r->action = AUDIT_ALWAYS;
	for (i = 0; i < ST_NELEM(nrs); i++)
		r->mask[nrs[i] / 32] |= 1U << (nrs[i] % 32);
	r->fields[0] = AUDIT_ARCH;
	r->values[0] = AUDIT_ARCH_X86_64;
	r->fieldflags[0] = AUDIT_EQUAL;
	r->fields[1] = AUDIT_PPID;
	r->values[1] = getpid();
	r->fieldflags[1] = AUDIT_EQUAL;
	r->fields[2] = AUDIT_FILTERKEY;
	r->values[2] = klen;
	r->fieldflags[2] = AUDIT_EQUAL;
	r->field_count = 3;
	r->buflen = klen;
	memcpy(r->buf, self->key, klen);
}

FIXTURE_SETUP(audit)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct audit_status s;
	int r;

	self->sock = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	self->sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (self->sock < 0 && errno == EPROTONOSUPPORT)
		SKIP(return, "no audit in this kernel (CONFIG_AUDIT)");
	ASSERT_LE(0, self->sock) TH_LOG("audit socket: %m");
	ASSERT_EQ(0, bind(self->sock, (struct sockaddr *)&me, sizeof(me)));
	ASSERT_EQ(0, nl_request(self, AUDIT_GET, NULL, 0, &s));
	if (s.pid)
		SKIP(return, "an audit daemon (pid %u) is running", s.pid);
	self->was_enabled = s.enabled;
	st_scratch_probe(_metadata, PROBE);

	snprintf(self->key, sizeof(self->key), "st_audit_%d", getpid());
	make_rule(self);
	r = set_daemon(self, getpid(), 1);
	ASSERT_EQ(0, r) TH_LOG("AUDIT_SET (become the daemon): %s",
			       strerrorname_np(-r));
	r = nl_request(self, AUDIT_ADD_RULE, &self->rule, self->rule_len, NULL);
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
	EXPECT_EQ(0, nl_request(self, AUDIT_DEL_RULE, &self->rule,
				self->rule_len, NULL));
	if (!self->was_enabled) {
		struct audit_status s = {
			.mask = AUDIT_STATUS_ENABLED,
			.enabled = 0,
		};

		nl_request(self, AUDIT_SET, &s, sizeof(s), NULL);
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

/*
 * Read records until the events of both children have ended or 10 s have
 * passed; @ev has room for @max events.
 */
static int read_events(int sock, struct event *ev, int max, int want)
{
	static char buf[65536];
	int n = 0, ended = 0;
	double until = st_now() + 10;

	while (ended < want && st_now() < until) {
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
			ended++;
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

TEST_F(audit, spawn_leaves_the_trail_of_execveat)
{
	/* spec: spawn_template_spawn(): audit: an EXECVE record with the child's argv, a PATH record for the executable and the new pid, as execveat() */
	static char *const argv[] = { "probe", "exit", "0", "st-audit", NULL };
	static char *const envp[] = { NULL };
	static struct event ev[32];
	const struct event *es, *ex;
	char a[256], b[256], ino[32];
	static const char *const sys_fields[] = { "success", "ppid", "exe",
						  "comm", "uid", "auid" };
	static const char *const path_fields[] = { "inode", "dev", "mode",
						   "ouid", "ogid", "nametype" };
	const char *ps, *px;
	struct stat st;
	int tfd, fd, pidfd = -1, n, i;
	pid_t spawned, forked;

	ASSERT_EQ(0, stat(PROBE, &st));
	snprintf(ino, sizeof(ino), " inode=%llu ", (unsigned long long)st.st_ino);

	tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	spawned = st_spawn(tfd, 0, argv, envp, NULL, 0, &pidfd);
	ASSERT_LT(0, spawned) TH_LOG("spawn: %m");
	ASSERT_EQ(ST_EXITED(0), st_wait_pidfd(pidfd));

	fd = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	forked = fork();
	ASSERT_LE(0, forked);
	if (forked == 0) {
		syscall(__NR_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(99);
	}
	ASSERT_EQ(ST_EXITED(0), st_wait(forked));

	n = read_events(self->sock, ev, ST_NELEM(ev), 2);
	ex = event_of(ev, n, forked);
	es = event_of(ev, n, spawned);
	ASSERT_NE(NULL, ex) TH_LOG("no audit event for the execveat() child %d: the rule or the reader is broken (%d events)",
				   forked, n);
	ASSERT_NE(NULL, es) TH_LOG("spec 1.1: a spawn leaves the audit trail of execveat(): no audit event for the spawned child %d, its exec is hidden from the audit log (%d events; execveat's:\n%s)",
				   spawned, n, ex->text);

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

	ps = record(es, AUDIT_PATH, ino);
	px = record(ex, AUDIT_PATH, ino);
	ASSERT_NE(NULL, px) TH_LOG("execveat has no PATH record for inode %llu:\n%s",
				   (unsigned long long)st.st_ino, ex->text);
	ASSERT_NE(NULL, ps) TH_LOG("no PATH record for the spawned file:\n%s", es->text);
	for (i = 0; i < (int)ST_NELEM(path_fields); i++) {
		field(ps, path_fields[i], a, sizeof(a));
		field(px, path_fields[i], b, sizeof(b));
		EXPECT_STREQ(b, a) TH_LOG("PATH %s differs:\nspawn:\n%s\nexecveat:\n%s",
					  path_fields[i], es->text, ex->text);
	}
	ASSERT_EQ(0, set_daemon(self, 0, 1));
	close(fd);
	close(tfd);
}

TEST_HARNESS_MAIN
