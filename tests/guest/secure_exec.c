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
#include <sys/mount.h>
#include <sys/xattr.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "sec_util.h"

static int set_fcap_net_raw(const char *path)
{
	struct vfs_cap_data d;

	memset(&d, 0, sizeof(d));
	d.magic_etc = VFS_CAP_REVISION_2;	/* no VFS_CAP_FLAGS_EFFECTIVE */
	d.data[0].permitted = 1U << CAP_NET_RAW;
	return setxattr(path, "security.capability", &d, XATTR_CAPS_SZ_2, 0);
}

/* Value of "key=" in a probe line, or "" */
static void field(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	out[0] = '\0';
	p = strstr(line, pat);
	if (!p)
		return;
	p += strlen(pat);
	snprintf(out, len, "%.*s", (int)strcspn(p, " \n"), p);
}

FIXTURE(secure) {
	int suid_dumpable;
};

FIXTURE_VARIANT(secure) {
	const char *file;
	int nnp;
	/* expected: ids and AT_SECURE as one prefix of the probe line */
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
	char helper[PATH_MAX], buf[16] = "";
	int hfd, fd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, sec_helper_path("helper_sec_probe", helper, sizeof(helper)));
	hfd = open(helper, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, hfd);
	fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	self->suid_dumpable = atoi(buf);

	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("sec_tmp", "/tmp", "tmpfs", 0, "mode=0755"));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/plain", 0755));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/suid", 04755));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/sgid", 02755));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/fcap", 0755));
	ASSERT_EQ(0, set_fcap_net_raw("/tmp/fcap"));
	ASSERT_EQ(0, mkdir("/tmp/nosuid", 0755));
	ASSERT_EQ(0, mount("sec_nosuid", "/tmp/nosuid", "tmpfs", MS_NOSUID,
			   "mode=0755"));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/nosuid/suid", 04755));
	ASSERT_EQ(0, sec_copy_file(hfd, "/tmp/nosuid/sgid", 02755));
	close(hfd);
}

FIXTURE_TEARDOWN(secure)
{
	/* the mounts die with this process's private mount namespace */
}

/*
 * gcc 12 warns that the harness's own "child" in the TEST_F wrapper "might
 * be clobbered" by its setjmp (kselftest_harness.h of 6.12, not this file).
 */
#pragma GCC diagnostic ignored "-Wclobbered"
TEST_F(secure, same_as_execve)
{
	/* spec: spawn_template_spawn(): credential computation, secure-exec and no_new_privs as for execveat(); a secure exec is not dumpable */
	static char *const argv[] = { "probe", "ids", NULL };
	char s_out[SEC_OUT_MAX], e_out[SEC_OUT_MAX], exp[256];
	char prm[32], bnd[32], nnp[8];
	int s_status, e_status, tfd;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, sec_drop_to_nobody());
	if (variant->nnp) {
		ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	}

	tfd = spawn_template_create_path(variant->file, 0);
	ASSERT_LE(0, tfd) TH_LOG("create %s: errno %d", variant->file, errno);
	ASSERT_EQ(0, sec_spawn_run(tfd, argv, 0, s_out, sizeof(s_out),
				   &s_status)) TH_LOG("spawn: errno %d", errno);
	close(tfd);
	ASSERT_EQ(0, sec_exec_run(variant->file, argv, e_out, sizeof(e_out),
				  &e_status));
	TH_LOG("spawn:  %.*s", (int)strcspn(s_out, "\n"), s_out);
	TH_LOG("execve: %.*s", (int)strcspn(e_out, "\n"), e_out);
	ASSERT_EQ(0, e_status);
	ASSERT_EQ(0, s_status);

	/* identical outcome */
	ASSERT_STREQ(e_out, s_out);

	/* and the outcome that execve is documented to give */
	ASSERT_EQ(0, strncmp(s_out, variant->ids, strlen(variant->ids)));
	snprintf(exp, sizeof(exp), " dumpable=%d ",
		 variant->secure_dumpable ? self->suid_dumpable : 1);
	ASSERT_NE(NULL, strstr(s_out, exp));
	field(s_out, "capprm", prm, sizeof(prm));
	field(s_out, "capbnd", bnd, sizeof(bnd));
	field(s_out, "nnp", nnp, sizeof(nnp));
	if (variant->caps_full) {
		ASSERT_STREQ(bnd, prm);
	} else {
		ASSERT_STREQ(variant->capprm, prm);
	}
	ASSERT_STREQ(variant->nnp_str, nnp);
	ASSERT_TRUE(sec_no_children());
}

TEST_HARNESS_MAIN
