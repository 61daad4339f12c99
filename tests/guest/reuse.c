// SPDX-License-Identifier: GPL-2.0
/*
 * Reuse, concurrency and resource lifetime of spawn templates: 10,000
 * sequential spawns from one template leak no fd, pidfd, zombie or kernel
 * memory; 8 threads spawn concurrently from one shared template; 1,000+
 * templates up to RLIMIT_NOFILE end in a clean EMFILE and are released on
 * close.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "common.h"

#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define PROBE		ST_SCRATCH "/probe"

static char *const exit0[] = { "probe", "exit", "0", NULL };
static char *const noenv[] = { NULL };

FIXTURE(reuse) {
	int tfd;
};

FIXTURE_SETUP(reuse)
{
	self->tfd = -1;
	REQUIRE_SPAWN_TEMPLATE(_metadata);
	st_scratch_probe(_metadata, PROBE);
	self->tfd = st_template(_metadata, PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC);
}

FIXTURE_TEARDOWN(reuse)
{
	if (self->tfd >= 0)
		close(self->tfd);
}

/* n spawns of "exit 0", each reaped; returns the index of the first failure or -1. */
static int spawn_loop(int tfd, int n, int *err, int *status)
{
	int i;

	for (i = 0; i < n; i++) {
		int pidfd = -1;
		pid_t pid = st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd);

		if (pid <= 0) {
			*err = errno;
			*status = -1;
			return i;
		}
		*status = st_wait_pidfd(pidfd);
		if (*status != ST_EXITED(0)) {
			*err = 0;
			return i;
		}
	}
	return -1;
}

static void drop_caches(void)
{
	sync();
	st_write_str("/proc/sys/vm/drop_caches", "2");
}

/* Returns 1 if kmemleak is usable (and was cleared), 0 with a reason otherwise. */
static int kmemleak_start(struct __test_metadata *_metadata)
{
	int r;

	if (access("/sys/kernel/debug", F_OK) == 0 && access(KMEMLEAK, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(KMEMLEAK, R_OK | W_OK)) {
		TH_LOG("kmemleak part skipped: %s not available (%m)", KMEMLEAK);
		return 0;
	}
	/* Forget what was suspected before this test. */
	st_write_str(KMEMLEAK, "scan");
	r = st_write_str(KMEMLEAK, "clear");
	if (r) {
		TH_LOG("kmemleak part skipped: clear failed (%s)", strerror(-r));
		return 0;
	}
	return 1;
}

static void slab_now(long long *slab, long long *unr)
{
	/* RCU-freed tasks, pids and files settle, then reclaimable slab is dropped. */
	sleep(2);
	drop_caches();
	usleep(500000);
	*slab = st_meminfo_kb("Slab");
	*unr = st_meminfo_kb("SUnreclaim");
}

TEST_F_TIMEOUT(reuse, sequential_10000, 1500)
{
	/* spec: spawn_template_spawn(): a template is reused by every spawn; lifetime: 10,000 spawns leave fds, pidfds, zombies and slab memory as they were */
	long long slab0, slab1, slab2, unr0, unr1, unr2, slack, quarantine;
	int fd0, pidfd0, err = 0, status = 0, at, kml;
	double t0;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	kml = kmemleak_start(_metadata);

	/* Warm-up: slab caches, pid and fd tables reach their steady size. */
	at = spawn_loop(self->tfd, 500, &err, &status);
	ASSERT_EQ(-1, at) TH_LOG("warm-up spawn %d: errno %d status %d", at, err, status);

	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	fd0 = st_fd_count(0);
	pidfd0 = st_fd_count(1);
	ASSERT_EQ(0, pidfd0);
	slab_now(&slab0, &unr0);
	ASSERT_LT(0, slab0);

	t0 = st_now();
	at = spawn_loop(self->tfd, 5000, &err, &status);
	ASSERT_EQ(-1, at) TH_LOG("spawn %d: errno %d status %d", at, err, status);
	slab_now(&slab1, &unr1);
	at = spawn_loop(self->tfd, 5000, &err, &status);
	ASSERT_EQ(-1, at) TH_LOG("spawn %d: errno %d status %d", 5000 + at, err, status);
	TH_LOG("10000 spawns in %.1f s", st_now() - t0);

	ASSERT_EQ(fd0, st_fd_count(0));
	ASSERT_EQ(pidfd0, st_fd_count(1));
	ASSERT_EQ(0, st_child_count());
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");

	slab_now(&slab2, &unr2);
	/*
	 * Noise: 2 MiB or 5% of the baseline, whichever is larger. A debug
	 * kernel's KASAN quarantine keeps freed objects in slab pages, up to
	 * MemTotal/32, so the first window may grow by that much; the second
	 * window (spawns 5,001-10,000) runs with the quarantine full and must
	 * not grow beyond the noise: a leak of ~420 bytes per spawn fails it.
	 */
	slack = slab0 / 20 > 2048 ? slab0 / 20 : 2048;
	quarantine = st_meminfo_kb("MemTotal") / 32;
	TH_LOG("Slab %lld -> %lld -> %lld kB, SUnreclaim %lld -> %lld -> %lld kB, slack %lld kB",
	       slab0, slab1, slab2, unr0, unr1, unr2, slack);
	ASSERT_LE(slab2, slab1 + slack);
	ASSERT_LE(unr2, unr1 + slack);
	ASSERT_LE(slab2, slab0 + quarantine + slack);

	if (kml) {
		static char buf[1 << 16];
		int fd;

		/* kmemleak ignores objects younger than 5 s; scan twice. */
		sleep(6);
		ASSERT_EQ(0, st_write_str(KMEMLEAK, "scan"));
		sleep(1);
		ASSERT_EQ(0, st_write_str(KMEMLEAK, "scan"));
		fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_LE(0, st_read_all(fd, buf, sizeof(buf)));
		close(fd);
		ASSERT_STREQ("", buf);
	}
}

struct spawner {
	pthread_t th;
	int tfd;
	int n;
	int ok;
	int first_err;
	int first_status;
	int first_at;
	pthread_barrier_t *bar;
};

static void *spawner_fn(void *arg)
{
	struct spawner *s = arg;
	int i;

	pthread_barrier_wait(s->bar);
	s->first_at = -1;
	for (i = 0; i < s->n; i++) {
		int pidfd = -1, st;
		pid_t pid = st_spawn(s->tfd, 0, exit0, noenv, NULL, 0, &pidfd);

		if (pid <= 0) {
			if (s->first_at < 0) {
				s->first_at = i;
				s->first_err = errno;
				s->first_status = -1;
			}
			continue;
		}
		st = st_wait_pidfd(pidfd);
		if (st != ST_EXITED(0)) {
			if (s->first_at < 0) {
				s->first_at = i;
				s->first_err = 0;
				s->first_status = st;
			}
			continue;
		}
		s->ok++;
	}
	return NULL;
}

TEST_F_TIMEOUT(reuse, threads_8x1000, 1500)
{
	/* spec: spawn_template_spawn(): threads of the creating process share its credentials and may spawn; 8 threads x 1,000 concurrent spawns from one template all succeed */
	struct spawner sp[8];
	pthread_barrier_t bar;
	int i, fd0, total = 0;
	double t0;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	fd0 = st_fd_count(0);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, 8));
	memset(sp, 0, sizeof(sp));
	t0 = st_now();
	for (i = 0; i < 8; i++) {
		sp[i].tfd = self->tfd;
		sp[i].n = 1000;
		sp[i].bar = &bar;
		ASSERT_EQ(0, pthread_create(&sp[i].th, NULL, spawner_fn, &sp[i]));
	}
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(sp[i].th, NULL));
	}
	TH_LOG("8 x 1000 spawns in %.1f s", st_now() - t0);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(1000, sp[i].ok)
			TH_LOG("thread %d: first failure at %d: errno %d status %d",
			       i, sp[i].first_at, sp[i].first_err, sp[i].first_status);
		total += sp[i].ok;
	}
	ASSERT_EQ(8000, total);
	ASSERT_EQ(fd0, st_fd_count(0));
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	pthread_barrier_destroy(&bar);
}

TEST_F_TIMEOUT(reuse, templates_until_emfile, 300)
{
	/* spec: spawn_template_create(): returns a new fd, so RLIMIT_NOFILE applies: a clean EMFILE; closing all templates releases every fd and the write pin */
	struct rlimit rl = { 1100, 1100 };
	static int fds[1200];
	int n = 0, i, fd0, ro;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	ASSERT_EQ(0, st_write_errno(PROBE));
	ro = open(PROBE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	fd0 = st_fd_count(0);

	for (;;) {
		__u64 fl = SPAWN_TEMPLATE_CREATE_CLOEXEC;
		int fd = (n & 1) ? spawn_template_create_fd(ro, fl)
				 : spawn_template_create_path(PROBE, fl);

		if (fd < 0)
			break;
		ASSERT_LT(n, 1200);
		fds[n++] = fd;
		if (n == 1000) {
			/* 1,000 templates open at once: the oldest and newest work. */
			ASSERT_EQ(ST_EXITED(0), st_spawn_wait(fds[0], exit0));
			ASSERT_EQ(ST_EXITED(0), st_spawn_wait(fds[999], exit0));
			ASSERT_EQ(ETXTBSY, st_write_errno(PROBE));
		}
	}
	ASSERT_EQ(EMFILE, errno) TH_LOG("stopped after %d templates", n);
	ASSERT_LE(1000, n);
	/* Clean: the table really is full (every fd below the limit in use). */
	for (i = 0; i < 1100; i++) {
		ASSERT_LE(0, fcntl(i, F_GETFD)) TH_LOG("fd %d free at EMFILE", i);
	}
	/* Both origins hit the same clean limit. */
	ASSERT_EQ(-1, spawn_template_create_fd(ro, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EMFILE, errno);
	ASSERT_EQ(-1, spawn_template_create_path(PROBE, SPAWN_TEMPLATE_CREATE_CLOEXEC));
	ASSERT_EQ(EMFILE, errno);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, close(fds[i]));
	}
	ASSERT_EQ(fd0, st_fd_count(0));
	ASSERT_EQ(0, st_write_errno(PROBE));
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	close(ro);
}

TEST_HARNESS_MAIN
