// SPDX-License-Identifier: GPL-2.0
/*
 * Reuse, concurrency and resource lifetime of spawn templates: 840
 * sequential spawns from one template leave fds, pidfds, children, every
 * slab cache's objects and vmalloc pages as they were, and get no slower
 * against posix_spawn() of the same file; threads of the creator spawn
 * from one shared template at the same time (overlap measured and
 * asserted); 1,000+ templates up to RLIMIT_NOFILE end in a clean EMFILE
 * and are released on close. The counts come from measurements, which
 * docs/checks-lifetime.md gives.
 */
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/resource.h>
#include <linux/membarrier.h>

#include "common.h"

#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define SLAB_DIR	"/sys/kernel/slab"
#define PROBE		ST_SCRATCH "/probe"

/*
 * A cache that grew by one object per LEAK_SPAWNS spawns or more leaks (and
 * VmallocUsed by one page per LEAK_SPAWNS spawns): a leak of one object per
 * spawn is LEAK_SPAWNS times that, clean runs move no cache by more than 8.
 */
#define LEAK_SPAWNS		4

/*
 * sequential_steady: SEQ_WARMUP spawns before the first count, then
 * SEQ_SPAWNS spawns between the two counts of every slab cache: SEQ_TIMED
 * timed pairs (a spawn and a posix_spawn()) at either end, SEQ_MIDDLE
 * untimed spawns between them. The late window's spawn over posix_spawn()
 * ratio may exceed the early one's by SEQ_SLOWER_PCT percent.
 */
#define SEQ_WARMUP		40
#define SEQ_TIMED		100
#define SEQ_MIDDLE		600
#define SEQ_SPAWNS		(2 * SEQ_TIMED + SEQ_MIDDLE)
#define SEQ_SLOWER_PCT		50
/* Processes others may create while the check counts (kernel threads). */
#define FOREIGN_MAX		32

/*
 * threads_share_template: THREADS threads of THREAD_SPAWNS spawns each;
 * at least OVERLAP_PCT percent of the spawns must have another thread's
 * spawn in flight.
 */
#define THREADS			8
#define THREAD_SPAWNS		100
#define OVERLAP_PCT		75

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

/* kmemleak ignores objects younger than 5 s: wait, scan twice, nothing found. */
static void kmemleak_check(struct __test_metadata *_metadata)
{
	static char buf[1 << 16];
	int fd;

	sleep(6);
	ASSERT_EQ(0, st_write_str(KMEMLEAK, "scan"));
	sleep(1);
	ASSERT_EQ(0, st_write_str(KMEMLEAK, "scan"));
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, st_read_all(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_STREQ("", buf);
	TH_LOG("kmemleak: nothing unreferenced after two scans");
}

/*
 * ---- counting the objects of every slab cache ----
 *
 * /proc/slabinfo (SLUB with SLUB_DEBUG, which kconfigs/spawn-template.config
 * asks for) gives each cache's objects in use, except that the free
 * objects of the slabs a CPU holds count as used. Writing "1" to
 * /sys/kernel/slab/<cache>/shrink first gives those slabs back (and,
 * under KASAN, frees the cache's objects from the quarantine), so the
 * count is exact to the object. Each count reads /proc/slabinfo once: it
 * allocates nothing in the caches it lists, where the sysfs "objects" file
 * takes a kmalloc-8 slab to print kmalloc-8 (up to 511 objects off). The
 * files stay open for the whole check.
 *
 * Writing a sysfs file allocates its buffer from kmalloc-8, so that
 * cache is shrunk once more after all the others, by the last write.
 *
 * Not counted: vmap_area, whose objects go back in batches at the lazy
 * vmap purge (here +1.2 objects per spawn until one). What it would show
 * of a leaked stack or vmalloc() buffer, VmallocUsed counts exactly.
 */
#define CENSUS_MAX	512
#define SLABINFO_SIZE	(256 << 10)

struct census {
	int n;
	int slabinfo;		/* fd of /proc/slabinfo */
	int last;		/* the cache shrunk last: kmalloc-8 */
	struct {
		char name[48];
		int shrink;	/* fd of /sys/kernel/slab/<name>/shrink */
	} c[CENSUS_MAX];
};

struct counts {
	long long objects[CENSUS_MAX];
	long long vmalloc_kb;
	long long forks;	/* /proc/stat "processes": every task ever created */
};

static char slabinfo[SLABINFO_SIZE];

static void census_close(struct census *cs)
{
	int i;

	for (i = 0; i < cs->n; i++)
		close(cs->c[i].shrink);
	if (cs->slabinfo >= 0)
		close(cs->slabinfo);
	cs->slabinfo = -1;
	cs->n = 0;
}

/* All of /proc/slabinfo into the buffer: 0, or -errno. */
static int slabinfo_read(const struct census *cs)
{
	size_t used = 0;
	ssize_t r;

	do {
		r = pread(cs->slabinfo, slabinfo + used,
			  sizeof(slabinfo) - 1 - used, used);
		if (r < 0)
			return -errno;
		used += r;
	} while (r > 0 && used < sizeof(slabinfo) - 1);
	slabinfo[used] = '\0';
	return used < sizeof(slabinfo) - 1 ? 0 : -E2BIG;
}

/* The next "name active_objs ..." line of /proc/slabinfo at *@s, or 0 at the end. */
static int slabinfo_next(char **s, char *name, long long *active)
{
	while (*s && **s) {
		char *line = *s;
		int ok;

		*s = strchr(line, '\n');
		if (*s)
			*(*s)++ = '\0';
		if (!strncmp(line, "slabinfo", 8) || line[0] == '#')
			continue;
		ok = sscanf(line, "%47s %lld", name, active) == 2;
		if (ok)
			return 1;
	}
	return 0;
}

/* Open what the counts read: 0, or -errno when they are not there. */
static int census_open(struct census *cs)
{
	char name[48], path[PATH_MAX], *s;
	long long active;
	int err;

	cs->n = 0;
	cs->last = -1;
	cs->slabinfo = open("/proc/slabinfo", O_RDONLY | O_CLOEXEC);
	if (cs->slabinfo < 0)
		return -errno;
	/* Also the first read, which allocates the file's buffer. */
	err = slabinfo_read(cs);
	s = slabinfo;
	while (!err && slabinfo_next(&s, name, &active)) {
		int i = cs->n;

		if (!strcmp(name, "vmap_area"))
			continue;
		if (i == CENSUS_MAX) {
			err = -E2BIG;
			break;
		}
		strcpy(cs->c[i].name, name);
		snprintf(path, sizeof(path), SLAB_DIR "/%s/shrink", name);
		cs->c[i].shrink = open(path, O_WRONLY | O_CLOEXEC);
		if (cs->c[i].shrink < 0) {
			err = -errno;
			break;
		}
		if (!strcmp(name, "kmalloc-8"))
			cs->last = i;
		cs->n++;
	}
	if (!err && !cs->n)
		err = -ENOENT;
	if (err)
		census_close(cs);
	return err;
}

/*
 * Let what was freed reach the slabs, then count every cache (when @cs has
 * them: at least one of the three counts must work).
 */
static void census_take(struct __test_metadata *_metadata,
			const struct census *cs, struct counts *n)
{
	char name[48], *s;
	long long active;
	int i, k, done = 0;

	/*
	 * Unused dentries and inodes go, and the kfree_rcu() batches, whose
	 * shrinker this runs too. Twice: the kernel repeats its pass over
	 * the caches only when the first one freed enough, and a dentry used
	 * since the last drop only loses its "referenced" mark in a pass.
	 */
	for (k = 0; k < 2; k++)
		st_write_str("/proc/sys/vm/drop_caches", "2");
	/* Grace periods for what RCU frees (tasks, pids, creds), and time for the callbacks. */
	for (k = 0; k < 3; k++) {
		syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
		usleep(50000);
	}
	for (i = 0; i < cs->n; i++)
		n->objects[i] = LLONG_MAX;
	/*
	 * An allocation between the shrink and the read (another CPU, an
	 * interrupt) can take a slab again, whose free objects then count:
	 * the least of three counts.
	 */
	for (k = 0; k < 3; k++) {
		for (i = 0; i < cs->n; i++) {
			if (pwrite(cs->c[i].shrink, "1", 1, 0) != 1)
				break;
		}
		if (i < cs->n || (cs->last >= 0 &&
				  pwrite(cs->c[cs->last].shrink, "1", 1, 0) != 1))
			continue;
		if (slabinfo_read(cs))
			continue;
		done++;
		s = slabinfo;
		i = 0;
		while (slabinfo_next(&s, name, &active)) {
			/* The same order as when the files were opened, but for new caches. */
			int j = i < cs->n && !strcmp(cs->c[i].name, name) ? i : 0;

			for (; j < cs->n && strcmp(cs->c[j].name, name); j++)
				;
			if (j == cs->n)
				continue;
			if (active < n->objects[j])
				n->objects[j] = active;
			i = j + 1;
		}
	}
	n->vmalloc_kb = st_meminfo_kb("VmallocUsed");
	n->forks = st_proc_num("/proc/stat", "processes", ' ');
	if (cs->n) {
		ASSERT_LT(0, done)
			TH_LOG("no count of the %d slab caches: a shrink write or /proc/slabinfo failed",
			       cs->n);
	}
}

/*
 * The caches that grew by at least one object per LEAK_SPAWNS of @spawns
 * spawns, and VmallocUsed if it grew by a page per LEAK_SPAWNS spawns:
 * each is logged with its figures and named in @names; returns how many.
 */
static int census_leaks(struct __test_metadata *_metadata,
			const struct census *cs, const struct counts *a,
			const struct counts *b, long long spawns,
			char *names, size_t len)
{
	long long g, top[3] = { LLONG_MIN, LLONG_MIN, LLONG_MIN };
	long long vm = b->vmalloc_kb - a->vmalloc_kb;
	int i, k, leaks = 0, at[3] = { -1, -1, -1 };
	size_t used = 0;

	names[0] = '\0';
	for (i = 0; i < cs->n; i++) {
		if (a->objects[i] == LLONG_MAX || b->objects[i] == LLONG_MAX) {
			TH_LOG("slab cache %s: not in both counts (created or destroyed meanwhile)",
			       cs->c[i].name);
			continue;
		}
		g = b->objects[i] - a->objects[i];
		for (k = 0; k < 3; k++) {
			if (g > top[k]) {
				memmove(&top[k + 1], &top[k], (2 - k) * sizeof(top[0]));
				memmove(&at[k + 1], &at[k], (2 - k) * sizeof(at[0]));
				top[k] = g;
				at[k] = i;
				break;
			}
		}
		if (LEAK_SPAWNS * g < spawns)
			continue;
		leaks++;
		TH_LOG("slab cache %s: %lld -> %lld objects (%+lld) over %lld spawns",
		       cs->c[i].name, a->objects[i], b->objects[i], g, spawns);
		if (used < len)
			used += snprintf(names + used, len - used, " %s%+lld",
					 cs->c[i].name, g);
	}
	if (LEAK_SPAWNS * vm * 1024 >= spawns * getpagesize()) {
		leaks++;
		TH_LOG("VmallocUsed: %lld -> %lld kB over %lld spawns",
		       a->vmalloc_kb, b->vmalloc_kb, spawns);
		if (used < len)
			used += snprintf(names + used, len - used,
					 " VmallocUsed%+lldkB", vm);
	}
	if (at[2] >= 0)
		TH_LOG("%d caches over %lld spawns; largest growths %s %+lld, %s %+lld, %s %+lld objects; VmallocUsed %+lld kB",
		       cs->n, spawns, cs->c[at[0]].name, top[0], cs->c[at[1]].name, top[1],
		       cs->c[at[2]].name, top[2], vm);
	return leaks;
}

/* ---- timing ---- */

/* Durations in a window, in seconds: the call, and the call to the reaping. */
struct timed {
	double spawn_call[SEQ_TIMED], spawn_cycle[SEQ_TIMED];
	double ref_call[SEQ_TIMED], ref_cycle[SEQ_TIMED];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * SEQ_TIMED spawns of "exit 0" from @tfd, each paired with a posix_spawn()
 * of the same file, the pair's order alternating: whatever slows the
 * machine down (other guests, builds beside them) slows both.
 */
static void timed_pairs(struct __test_metadata *_metadata, int tfd,
			struct timed *t)
{
	int i, k;

	for (i = 0; i < SEQ_TIMED; i++) {
		for (k = 0; k < 2; k++) {
			double t0 = st_now(), t1;
			int pidfd = -1, status;
			pid_t pid;

			if ((i + k) % 2) {
				ASSERT_EQ(0, posix_spawn(&pid, PROBE, NULL, NULL, exit0, noenv));
				t1 = st_now();
				status = st_wait(pid);
				t->ref_call[i] = t1 - t0;
				t->ref_cycle[i] = st_now() - t0;
			} else {
				pid = st_spawn(tfd, 0, exit0, noenv, NULL, 0, &pidfd);
				t1 = st_now();
				ASSERT_LT(0, pid) TH_LOG("timed spawn %d: %m", i);
				status = st_wait_pidfd(pidfd);
				t->spawn_call[i] = t1 - t0;
				t->spawn_cycle[i] = st_now() - t0;
			}
			ASSERT_EQ(ST_EXITED(0), status) TH_LOG("pair %d, %s", i,
							       (i + k) % 2 ? "posix_spawn" : "spawn");
		}
	}
}

/*
 * Spawn over posix_spawn() in a window: the medians of call to reaping. The
 * calls alone (logged) move more with the scheduler: when the parent runs
 * again after the child's exec.
 */
static double spawn_ratio(struct __test_metadata *_metadata, const char *what,
			  struct timed *t)
{
	double sc = median(t->spawn_call, SEQ_TIMED);
	double rc = median(t->ref_call, SEQ_TIMED);
	double sy = median(t->spawn_cycle, SEQ_TIMED);
	double ry = median(t->ref_cycle, SEQ_TIMED);

	TH_LOG("%s window: median spawn to reaping %.2f ms, posix_spawn %.2f ms: ratio %.3f (calls alone %.2f / %.2f ms: %.3f)",
	       what, sy * 1e3, ry * 1e3, sy / ry, sc * 1e3, rc * 1e3, sc / rc);
	return sy / ry;
}

static struct census census = { .slabinfo = -1 };
static struct timed early, late;

TEST_F_TIMEOUT(reuse, sequential_steady, 1500)
{
	/* spec: spawn_template_spawn(): a template is reused by every spawn; lifetime: sequential spawns leave fds, pidfds, children, slab objects and vmalloc pages as they were, do not slow down against posix_spawn() of the same file, and closing the template releases the pin */
	struct counts c0, c1;
	int fd0, err = 0, status = 0, at, kml, counted, leaks;
	long long foreign;
	double t0, slower;
	char names[1024];

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	kml = kmemleak_start(_metadata);
	counted = census_open(&census);
	if (counted)
		TH_LOG("slab counts unavailable (/proc/slabinfo, %s): %s", SLAB_DIR,
		       strerror(-counted));

	/* Warm-up: slab caches, pid and fd tables reach their steady size. */
	at = spawn_loop(self->tfd, SEQ_WARMUP, &err, &status);
	ASSERT_EQ(-1, at) TH_LOG("warm-up spawn %d: errno %d status %d", at, err, status);

	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	fd0 = st_fd_count(0);
	ASSERT_EQ(0, st_fd_count(1));
	census_take(_metadata, &census, &c0);

	t0 = st_now();
	timed_pairs(_metadata, self->tfd, &early);
	at = spawn_loop(self->tfd, SEQ_MIDDLE, &err, &status);
	ASSERT_EQ(-1, at) TH_LOG("spawn %d: errno %d status %d", SEQ_TIMED + at, err, status);
	timed_pairs(_metadata, self->tfd, &late);
	TH_LOG("%d spawns and %d posix_spawn() in %.1f s", SEQ_SPAWNS, 2 * SEQ_TIMED,
	       st_now() - t0);
	/*
	 * Counted before anything reads /proc/self: the dentries and inodes
	 * that reading it makes are not always freed by the next drop.
	 */
	census_take(_metadata, &census, &c1);

	ASSERT_EQ(fd0, st_fd_count(0));
	ASSERT_EQ(0, st_fd_count(1));
	ASSERT_EQ(0, st_child_count());
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	/*
	 * The counts and the rate are the whole machine's: judged only when
	 * nobody else created processes meanwhile. Beside a stressor (the
	 * soak) they are logged; kmemleak judges leaks there.
	 */
	foreign = c1.forks - c0.forks - SEQ_SPAWNS - 2 * SEQ_TIMED;
	TH_LOG("processes created by others while counting: %lld%s", foreign,
	       foreign > FOREIGN_MAX ? ": slab counts and rate logged, not judged" : "");
	if (!counted) {
		leaks = census_leaks(_metadata, &census, &c0, &c1, SEQ_SPAWNS,
				     names, sizeof(names));
		if (foreign <= FOREIGN_MAX) {
			EXPECT_EQ(0, leaks)
				TH_LOG("grew by one object per %d spawns or more:%s",
				       LEAK_SPAWNS, names);
		}
	}
	slower = spawn_ratio(_metadata, "late", &late) /
		 spawn_ratio(_metadata, "early", &early);
	TH_LOG("late against early: x%.3f (limit x%.2f)", slower, 1 + SEQ_SLOWER_PCT / 100.0);
	if (foreign <= FOREIGN_MAX) {
		EXPECT_GT(100 + SEQ_SLOWER_PCT, (int)(slower * 100))
			TH_LOG("spawns got slower against posix_spawn(): x%.3f", slower);
	}

	/* Each spawn gave back its reference to the template: closing it releases the pin. */
	ASSERT_EQ(ETXTBSY, st_write_errno(PROBE));
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	ASSERT_EQ(0, st_write_errno(PROBE)) TH_LOG("still pinned after the template's close");

	if (kml)
		kmemleak_check(_metadata);
	census_close(&census);
	if (counted && _metadata->exit_code == KSFT_PASS)
		SKIP(return, "slab counts unavailable (%s): the rest passed",
		     strerror(-counted));
}

struct spawner {
	pthread_t th;
	int tfd;
	int ok;
	int overlapped;	/* spawns with another thread's spawn in flight */
	int first_at;
	int first_err;
	int first_status;
	pthread_barrier_t *bar;
};

/* Threads inside spawn_template_spawn() now, and the most at once. */
static int in_flight, in_flight_max;

static void *spawner_fn(void *arg)
{
	struct spawner *s = arg;
	int i;

	pthread_barrier_wait(s->bar);
	s->first_at = -1;
	for (i = 0; i < THREAD_SPAWNS; i++) {
		int pidfd = -1, others, max, st;
		pid_t pid;

		others = __atomic_fetch_add(&in_flight, 1, __ATOMIC_SEQ_CST);
		max = __atomic_load_n(&in_flight_max, __ATOMIC_RELAXED);
		while (others + 1 > max &&
		       !__atomic_compare_exchange_n(&in_flight_max, &max, others + 1, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		pid = st_spawn(s->tfd, 0, exit0, noenv, NULL, 0, &pidfd);
		/* Another spawn was in flight when this one started or ended. */
		others += __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
		if (others)
			s->overlapped++;
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

TEST_F_TIMEOUT(reuse, threads_share_template, 1500)
{
	/* spec: spawn_template_spawn(): threads of the creating process share its credentials and may spawn; 8 threads spawning from one template at the same time (overlap asserted) all succeed and leak no fd, pidfd, child, slab object or template reference */
	struct spawner sp[THREADS];
	pthread_barrier_t bar;
	int i, fd0, counted, leaks, total = 0, overlapped = 0;
	struct counts c0, c1;
	long long foreign;
	char names[1024];
	double t0;

	REQUIRE_SPAWN_TEMPLATE(_metadata);
	counted = census_open(&census);
	if (counted)
		TH_LOG("slab counts unavailable (/proc/slabinfo, %s): %s", SLAB_DIR,
		       strerror(-counted));
	/* One spawn first: the template's first use is not the subject. */
	ASSERT_EQ(ST_EXITED(0), st_spawn_wait(self->tfd, exit0));
	fd0 = st_fd_count(0);
	census_take(_metadata, &census, &c0);

	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, THREADS));
	memset(sp, 0, sizeof(sp));
	t0 = st_now();
	for (i = 0; i < THREADS; i++) {
		sp[i].tfd = self->tfd;
		sp[i].bar = &bar;
		ASSERT_EQ(0, pthread_create(&sp[i].th, NULL, spawner_fn, &sp[i]));
	}
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(sp[i].th, NULL));
	}
	pthread_barrier_destroy(&bar);
	for (i = 0; i < THREADS; i++) {
		EXPECT_EQ(THREAD_SPAWNS, sp[i].ok)
			TH_LOG("thread %d: first failure at %d: errno %d status %d",
			       i, sp[i].first_at, sp[i].first_err, sp[i].first_status);
		total += sp[i].ok;
		overlapped += sp[i].overlapped;
	}
	TH_LOG("%d x %d spawns in %.1f s: %d overlapped another thread's, at most %d in flight at once",
	       THREADS, THREAD_SPAWNS, st_now() - t0, overlapped, in_flight_max);
	/* Before anything reads /proc/self (see sequential_steady). */
	census_take(_metadata, &census, &c1);
	ASSERT_EQ(THREADS * THREAD_SPAWNS, total);
	/* The threads really spawned at the same time, most of the time. */
	ASSERT_LE(THREADS * THREAD_SPAWNS * OVERLAP_PCT / 100, overlapped);
	ASSERT_LE(2, in_flight_max);

	ASSERT_EQ(fd0, st_fd_count(0));
	ASSERT_EQ(0, st_fd_count(1));
	ASSERT_EQ(0, st_child_evidence()) TH_LOG("a child exists");
	/* The spawns and the threads themselves. */
	foreign = c1.forks - c0.forks - THREADS * THREAD_SPAWNS - THREADS;
	TH_LOG("processes created by others while counting: %lld%s", foreign,
	       foreign > FOREIGN_MAX ? ": slab counts logged, not judged" : "");
	if (!counted) {
		leaks = census_leaks(_metadata, &census, &c0, &c1,
				     THREADS * THREAD_SPAWNS, names, sizeof(names));
		if (foreign <= FOREIGN_MAX) {
			EXPECT_EQ(0, leaks)
				TH_LOG("grew by one object per %d spawns or more:%s",
				       LEAK_SPAWNS, names);
		}
	}
	census_close(&census);

	/* Every spawn gave back its reference: closing the template releases the pin. */
	ASSERT_EQ(ETXTBSY, st_write_errno(PROBE));
	ASSERT_EQ(0, close(self->tfd));
	self->tfd = -1;
	ASSERT_EQ(0, st_write_errno(PROBE)) TH_LOG("still pinned after the template's close");
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
