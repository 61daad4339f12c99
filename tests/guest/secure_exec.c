// SPDX-License-Identifier: GPL-2.0
/*
 * Secure exec through a template equals secure exec through execve: the
 * same binary, run by the same unprivileged creator (uid/gid 65534) once
 * through spawn_template_spawn() and once through fork + execve in the same
 * guest, must report the same ids, AT_SECURE, capability sets, dumpable
 * flag and no_new_privs. Each case also pins the expected values, so that
 * an implementation and execve being wrong the same way is caught too.
 *
 * The binaries are copies of the static probe on a tmpfs that the test
 * mounts over /tmp in a private mount namespace (nothing is left behind):
 *   /tmp/plain 0755, /tmp/suid 04755 root:root, /tmp/sgid 02755 root:root,
 *   /tmp/fcap 0755 with security.capability = cap_net_raw permitted,
 *   /tmp/nosuid/{suid,sgid} the same on a tmpfs mounted nosuid.
 */
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <linux/capability.h>

#include "common.h"

static int set_fcap_net_raw(const char *path)
{
	struct vfs_cap_data d;

	memset(&d, 0, sizeof(d));
	d.magic_etc = VFS_CAP_REVISION_2;	/* no VFS_CAP_FLAGS_EFFECTIVE */
	d.data[0].permitted = 1U << CAP_NET_RAW;
	return setxattr(path, "security.capability", &d, XATTR_CAPS_SZ_2, 0);
}

FIXTURE(secure) {
	int suid_dumpable;
};

FIXTURE_VARIANT(secure) {
	const char *file;
	int nnp;
	/* expected: ids and AT_SECURE, space-separated key=value pairs */
	const char *ids;
	int secure_dumpable;	/* dumpable = fs.suid_dumpable, else 1 */
	int caps_full;		/* permitted == bounding set (setuid root) */
	const char *capprm;	/* exact permitted set, or NULL */
	const char *nnp_str;
};

#define NOBODY_IDS "ruid=65534 euid=65534 suid=65534 fsuid=65534 " \
		   "rgid=65534 egid=65534 sgid=65534 fsgid=65534"
#define NO_CAPS "0000000000000000"

FIXTURE_VARIANT_ADD(secure, plain) {
	/* control: no privilege to gain */
	.file = "/tmp/plain", .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, setuid_root) {
	.file = "/tmp/suid",
	.ids = "ruid=65534 euid=0 suid=0 fsuid=0 "
	       "rgid=65534 egid=65534 sgid=65534 fsgid=65534 secure=1",
	.secure_dumpable = 1, .caps_full = 1, .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, setgid_root) {
	.file = "/tmp/sgid",
	.ids = "ruid=65534 euid=65534 suid=65534 fsuid=65534 "
	       "rgid=65534 egid=0 sgid=0 fsgid=0 secure=1",
	.secure_dumpable = 1, .capprm = NO_CAPS, .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, setuid_root_nnp) {
	.file = "/tmp/suid", .nnp = 1, .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "1",
};
FIXTURE_VARIANT_ADD(secure, setgid_root_nnp) {
	.file = "/tmp/sgid", .nnp = 1, .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "1",
};
FIXTURE_VARIANT_ADD(secure, setuid_root_nosuid_mount) {
	.file = "/tmp/nosuid/suid", .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, setgid_root_nosuid_mount) {
	.file = "/tmp/nosuid/sgid", .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, fcap_net_raw) {
	/* permitted gains cap_net_raw: a secure exec, not dumpable */
	.file = "/tmp/fcap", .ids = NOBODY_IDS " secure=1",
	.secure_dumpable = 1, .capprm = "0000000000002000", .nnp_str = "0",
};
FIXTURE_VARIANT_ADD(secure, fcap_net_raw_nnp) {
	.file = "/tmp/fcap", .nnp = 1, .ids = NOBODY_IDS " secure=0",
	.capprm = NO_CAPS, .nnp_str = "1",
};

FIXTURE_SETUP(secure)
{
	char buf[16] = "";
	int fd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	self->suid_dumpable = atoi(buf);

	/* 0755, as before: the unprivileged creator cannot write there */
	ASSERT_LE(0, st_helper_dirfd());
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("sec_tmp", "/tmp", "tmpfs", 0, "mode=0755"));
	st_copy_helper(_metadata, "helper_probe", "/tmp/plain", 0755);
	st_copy_helper(_metadata, "helper_probe", "/tmp/suid", 04755);
	st_copy_helper(_metadata, "helper_probe", "/tmp/sgid", 02755);
	st_copy_helper(_metadata, "helper_probe", "/tmp/fcap", 0755);
	ASSERT_EQ(0, set_fcap_net_raw("/tmp/fcap"));
	ASSERT_EQ(0, mkdir("/tmp/nosuid", 0755));
	ASSERT_EQ(0, mount("sec_nosuid", "/tmp/nosuid", "tmpfs", MS_NOSUID,
			   "mode=0755"));
	st_copy_helper(_metadata, "helper_probe", "/tmp/nosuid/suid", 04755);
	st_copy_helper(_metadata, "helper_probe", "/tmp/nosuid/sgid", 02755);
}

FIXTURE_TEARDOWN(secure)
{
	/* the mounts die with this process's private mount namespace */
}

TEST_F(secure, same_as_execve)
{
	/* spec: spawn_template_spawn(): credential computation, secure-exec and no_new_privs as for execveat(); a secure exec is not dumpable */
	static char *const argv[] = { "probe", "ids", NULL };
	static char *const envp[] = { NULL };
	static struct st_out s, e;
	/* st_kv()'s buffer holds one value: copies to compare two */
	char exp[256], key[64], prm[PATH_MAX], bnd[PATH_MAX];
	const char *p;
	int tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, st_drop_to_nobody());
	if (variant->nnp) {
		ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	}

	tfd = spawn_template_create_path(variant->file, 0);
	ASSERT_LE(0, tfd) TH_LOG("create %s: errno %d", variant->file, errno);
	ASSERT_LT(0, st_run(tfd, 0, argv, envp, NULL, 0, &s))
		TH_LOG("spawn: errno %d", s.err);
	close(tfd);
	ASSERT_LT(0, st_run_execve(variant->file, argv, envp, &e))
		TH_LOG("fork: errno %d", e.err);
	TH_LOG("spawn:\n%s", s.buf);
	TH_LOG("execve:\n%s", e.buf);
	ASSERT_EQ(0, e.status);
	ASSERT_EQ(0, s.status);

	/* identical outcome, every line */
	ASSERT_STREQ(e.buf, s.buf);

	/* and the outcome that execve is documented to give */
	for (p = variant->ids; *p; p += strspn(p, " ")) {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);

		ASSERT_NE(NULL, eq) TH_LOG("bad variant ids: %s", variant->ids);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
		snprintf(exp, sizeof(exp), "%.*s", (int)(p + n - eq - 1), eq + 1);
		ASSERT_STREQ(exp, st_kv_str(s.buf, key)) TH_LOG("key %s", key);
		p += n;
	}
	snprintf(exp, sizeof(exp), "%d",
		 variant->secure_dumpable ? self->suid_dumpable : 1);
	ASSERT_STREQ(exp, st_kv_str(s.buf, "dumpable"));
	snprintf(prm, sizeof(prm), "%s", st_kv_str(s.buf, "capprm"));
	snprintf(bnd, sizeof(bnd), "%s", st_kv_str(s.buf, "capbnd"));
	if (variant->caps_full) {
		ASSERT_STREQ(bnd, prm);
	} else {
		ASSERT_STREQ(variant->capprm, prm);
	}
	ASSERT_STREQ(variant->nnp_str, st_kv_str(s.buf, "nnp"));
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child is left");
}

TEST_HARNESS_MAIN
