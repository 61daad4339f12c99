// SPDX-License-Identifier: GPL-2.0
/*
 * The spawn benchmark's guest program: starts bench_true (found next to
 * this binary) over and over with each start method, waiting for each
 * child, and prints the time of every start. The host (vm/spawnbench/)
 * runs it once per point of a sweep and does the statistics.
 *
 *   bench_spawn [-m METHOD,...] [-n SAMPLES] [-w WARMUP] [-r RSS_MIB]
 *               [-f FDS] [-i] [-a ACTIONS] [-A ARGV_KIB] [-t THREADS]
 *               [-x EXE]
 *
 * Methods (-m, default all, in this order):
 *   spawn_template  spawn_template_spawn() of a template created once
 *   posix_spawn     glibc's posix_spawn() (clone(CLONE_VM|CLONE_VFORK))
 *   vfork_execve    vfork() + execve()
 *   fork_execve     fork() + execve()
 *   clone3_execve   clone3(CLONE_VM|CLONE_VFORK) on its own stack + execve()
 *   fork_execveat   fork() + execveat() of an fd opened once (AT_EMPTY_PATH)
 *
 * A sample is one start: from just before the start call to the return of
 * waitpid() for the child (and the close of the spawn's pidfd), in ns.
 *
 * Parameters of a point:
 *   -r RSS_MIB   anonymous memory the parent has touched (4 KiB pages,
 *                MADV_NOHUGEPAGE), which fork() must copy the page tables of
 *   -f FDS       open fds in the parent: 0-2, the benchmark's own (all
 *                close-on-exec, below FIRST_FILLER), and /dev/null dups
 *                from FIRST_FILLER to FDS - 1
 *   -i           the child inherits the fds: spawn with INHERIT_FDS, the
 *                others do nothing. Without -i every child ends up with
 *                fds 0-2 only: the spawn's default closes them, the others
 *                close_range(FIRST_FILLER, ~0U) in the child
 *                (posix_spawn_file_actions_addclosefrom_np() for posix_spawn)
 *   -a ACTIONS   DUP2 actions of /dev/null onto FIRST_FILLER + i in the
 *                child: spawn actions, posix_spawn file actions, dup2() in
 *                the child of the others (at most 256, the spawn's limit)
 *   -A ARGV_KIB  argv and envp of this many KiB together (1 KiB strings,
 *                half in each); 0: argv { path }, envp { "BENCH=1" }
 *   -t THREADS   threads, each starting SAMPLES children per method; the
 *                threads meet at a barrier before each method's turn
 *
 * Methods are interleaved: round r takes one sample of every method,
 * starting with method r mod M, so drift hits all of them alike. WARMUP
 * untimed starts per method come first; they also find out whether the
 * kernel has the method.
 *
 * Output (stdout), one record a line, fields separated by one space:
 *   spawnbench 1                     format and its version
 *   param NAME VALUE                 the point (rss_mib fds fd_mode argv_kib
 *                                    actions threads samples warmup)
 *   info NAME VALUE                  what the process looked like (rss_kib
 *                                    open_fds cpus)
 *   method NAME ok                   measured
 *   method NAME unavailable ERRNO    the kernel or libc lacks it (ENOSYS)
 *   method NAME failed TEXT          a start failed (TEXT says how): no
 *                                    sample of the method is printed
 *   s NAME THREAD NS                 one sample
 *   end WALL_NS                      the run finished (absent: it did not)
 * Exit status 0 when the run finished (methods may be unavailable or have
 * failed: see the records), 2 for a usage or setup error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spawn_template_abi.h"

#define FIRST_FILLER	10	/* the benchmark's own fds are below */
#define MAX_ACTIONS	256	/* spawn_template_spawn()'s limit */
#define MAX_THREADS	64
#define CHILD_STACK	(64 * 1024)

enum method {
	M_SPAWN_TEMPLATE,
	M_POSIX_SPAWN,
	M_VFORK_EXECVE,
	M_FORK_EXECVE,
	M_CLONE3_EXECVE,
	M_FORK_EXECVEAT,
	NR_METHODS,
};

static const char *const method_names[NR_METHODS] = {
	[M_SPAWN_TEMPLATE] = "spawn_template",
	[M_POSIX_SPAWN] = "posix_spawn",
	[M_VFORK_EXECVE] = "vfork_execve",
	[M_FORK_EXECVE] = "fork_execve",
	[M_CLONE3_EXECVE] = "clone3_execve",
	[M_FORK_EXECVEAT] = "fork_execveat",
};

enum method_state {
	S_OFF,		/* not asked for */
	S_OK,
	S_UNAVAILABLE,	/* the kernel or libc lacks it */
	S_FAILED,	/* a start failed */
};

struct bench {
	/* the point */
	unsigned long rss_mib;
	int fds;
	bool inherit;
	int nactions;
	unsigned long argv_kib;
	int threads;
	long samples;
	long warmup;

	/* what every start uses, set up once */
	char exe[PATH_MAX];
	char **argv;
	char **envp;
	int devnull;		/* the dup source of the actions */
	int exefd;		/* fork_execveat's pre-opened executable */
	int template_fd;
	struct spawn_template_action actions[MAX_ACTIONS];
	posix_spawn_file_actions_t file_actions;

	/* per method */
	enum method_state state[NR_METHODS];
	int err[NR_METHODS];	/* errno of an unavailable method */
	char why[NR_METHODS][128];	/* what failed */
	pthread_mutex_t lock;	/* state and why, once threads run */
	pthread_barrier_t barrier;
};

struct worker {
	struct bench *b;
	int id;
	void *stack;		/* clone3's child stack, this thread's own */
	int64_t *ns;		/* [method][sample] */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_spawn: %s: %s\n", what, strerror(errno));
	exit(2);
}

/*
 * The child side of vfork, fork and clone3: the same work the spawn's
 * actions and fd closing do, then the exec. Only raw syscalls: with
 * vfork and CLONE_VM the child runs in the parent's memory.
 */
static void __attribute__((noreturn)) child_exec(const struct bench *b, bool at_fd)
{
	int i;

	for (i = 0; i < b->nactions; i++) {
		if (syscall(SYS_dup2, b->devnull, FIRST_FILLER + i) < 0)
			_exit(125);
	}
	if (!b->inherit && syscall(SYS_close_range, FIRST_FILLER, ~0U, 0) < 0)
		_exit(124);
	if (at_fd)
		syscall(SYS_execveat, b->exefd, "", b->argv, b->envp, AT_EMPTY_PATH);
	else
		syscall(SYS_execve, b->exe, b->argv, b->envp);
	_exit(127);
}

static void clone3_child(void *arg)
{
	child_exec(arg, false);
}

/*
 * clone3(CLONE_VM | CLONE_VFORK) with the child on its own stack: the
 * child cannot return through the parent's frames (it shares them), so it
 * calls fn from the instruction after the syscall, as glibc's own clone
 * does. Returns the pid or -errno.
 */
static long clone3_vfork(void *stack, size_t stack_size, void (*fn)(void *), void *arg)
{
	struct clone_args args = {
		.flags = CLONE_VM | CLONE_VFORK,
		.exit_signal = SIGCHLD,
		.stack = (__u64)(uintptr_t)stack,
		.stack_size = stack_size,
	};
	register void (*r12)(void *) asm("r12") = fn;
	register void *r13 asm("r13") = arg;
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "xor %%ebp, %%ebp\n\t"
		     "mov %%r13, %%rdi\n\t"
		     "call *%%r12\n\t"
		     "mov %[nr_exit], %%eax\n\t"
		     "mov $127, %%edi\n\t"
		     "syscall\n\t"
		     "hlt\n"
		     "1:"
		     : "=a"(ret)
		     : "0"((long)__NR_clone3), "D"(&args), "S"(sizeof(args)),
		       "r"(r12), "r"(r13), [nr_exit] "i"(__NR_exit)
		     : "rcx", "r11", "memory", "cc");
	return ret;
}

/* Start one child; its pid, or -errno when no child was created. */
static long start(struct bench *b, struct worker *w, enum method m, int *pidfd)
{
	struct spawn_template_spawn_args sargs;
	pid_t pid;
	int ret;

	*pidfd = -1;
	switch (m) {
	case M_SPAWN_TEMPLATE:
		memset(&sargs, 0, sizeof(sargs));
		sargs.flags = b->inherit ? SPAWN_TEMPLATE_SPAWN_INHERIT_FDS : 0;
		sargs.pidfd = (__u64)(uintptr_t)pidfd;
		sargs.argv = (__u64)(uintptr_t)b->argv;
		sargs.envp = (__u64)(uintptr_t)b->envp;
		sargs.actions = b->nactions ? (__u64)(uintptr_t)b->actions : 0;
		sargs.actions_len = b->nactions;
		pid = sys_spawn_template_spawn(b->template_fd, &sargs, sizeof(sargs));
		return pid < 0 ? -errno : pid;
	case M_POSIX_SPAWN:
		ret = posix_spawn(&pid, b->exe, &b->file_actions, NULL, b->argv, b->envp);
		return ret ? -ret : pid;
	case M_VFORK_EXECVE:
		pid = vfork();
		if (pid == 0)
			child_exec(b, false);
		return pid < 0 ? -errno : pid;
	case M_FORK_EXECVE:
	case M_FORK_EXECVEAT:
		pid = fork();
		if (pid == 0)
			child_exec(b, m == M_FORK_EXECVEAT);
		return pid < 0 ? -errno : pid;
	case M_CLONE3_EXECVE:
		return clone3_vfork(w->stack, CHILD_STACK, clone3_child, b);
	default:
		return -EINVAL;
	}
}

static void set_state(struct bench *b, enum method m, enum method_state s, int err,
		      const char *why)
{
	pthread_mutex_lock(&b->lock);
	if (b->state[m] == S_OK) {
		b->state[m] = s;
		b->err[m] = err;
		snprintf(b->why[m], sizeof(b->why[m]), "%s", why);
	}
	pthread_mutex_unlock(&b->lock);
}

static bool usable(struct bench *b, enum method m)
{
	bool ok;

	pthread_mutex_lock(&b->lock);
	ok = b->state[m] == S_OK;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

/* One start, waited for; its time in ns, or -1 (the method's state says why). */
static int64_t one(struct bench *b, struct worker *w, enum method m)
{
	char why[128];
	int64_t t0, t1;
	int status, pidfd;
	long pid;

	t0 = now_ns();
	pid = start(b, w, m, &pidfd);
	if (pid < 0) {
		if (pid == -ENOSYS) {
			set_state(b, m, S_UNAVAILABLE, ENOSYS, "");
		} else {
			snprintf(why, sizeof(why), "start: %s", strerrorname_np(-pid));
			set_state(b, m, S_FAILED, -pid, why);
		}
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, sizeof(why), "waitpid: %s", strerrorname_np(errno));
			set_state(b, m, S_FAILED, errno, why);
			return -1;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "child wait status 0x%x", status);
		set_state(b, m, S_FAILED, 0, why);
		return -1;
	}
	return t1 - t0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	enum method order[NR_METHODS];
	int m, k, n = 0;
	long r;

	for (m = 0; m < NR_METHODS; m++) {
		if (b->state[m] != S_OFF)
			order[n++] = m;
	}
	for (r = 0; r < b->samples; r++) {
		for (k = 0; k < n; k++) {
			m = order[(r + k) % n];
			if (b->threads > 1)
				pthread_barrier_wait(&b->barrier);
			w->ns[(long)m * b->samples + r] = usable(b, m) ? one(b, w, m) : -1;
		}
	}
	return NULL;
}

static void warm_up(struct bench *b, struct worker *w)
{
	long i;
	int m;

	for (m = 0; m < NR_METHODS; m++) {
		for (i = 0; i < b->warmup && b->state[m] == S_OK; i++)
			one(b, w, m);
	}
}

static char **strings(int count, size_t len, const char *prefix, const char *first)
{
	char **v = calloc(count + 2, sizeof(*v));
	int i, j = 0;

	if (!v)
		die("calloc");
	if (first)
		v[j++] = (char *)first;
	for (i = 0; i < count; i++) {
		v[j] = malloc(len);
		if (!v[j])
			die("malloc");
		memset(v[j], 'x', len - 1);
		v[j][len - 1] = '\0';
		memcpy(v[j], prefix, strlen(prefix));
		v[j][strlen(prefix)] = '0' + i % 10;
		j++;
	}
	return v;
}

static void setup_args(struct bench *b)
{
	int half = b->argv_kib / 2;

	if (!b->argv_kib) {
		static char *envp[] = { "BENCH=1", NULL };

		b->argv = strings(0, 0, "", b->exe);
		b->envp = envp;
		return;
	}
	b->argv = strings(half, 1024, "a", b->exe);
	b->envp = strings(b->argv_kib - half, 1024, "E=", NULL);
}

static void setup_memory(struct bench *b)
{
	size_t len = b->rss_mib << 20, off;
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	if (!len)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap of the parent's memory");
	madvise(p, len, MADV_NOHUGEPAGE);	/* a kernel without THP: EINVAL, fine */
	for (off = 0; off < len; off += page)
		p[off] = 1;
}

static void setup_fds(struct bench *b)
{
	struct rlimit rl;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur < (rlim_t)b->fds + MAX_ACTIONS + FIRST_FILLER) {
		rl.rlim_cur = b->fds + MAX_ACTIONS + FIRST_FILLER;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit RLIMIT_NOFILE");
	}
	for (fd = FIRST_FILLER; fd < b->fds; fd++) {
		if (dup2(b->devnull, fd) < 0)
			die("dup2 of a filler fd");
	}
}

static void setup_methods(struct bench *b)
{
	int i;

	for (i = 0; i < b->nactions; i++) {
		b->actions[i] = (struct spawn_template_action) {
			.type = SPAWN_TEMPLATE_ACTION_DUP2,
			.fd = b->devnull,
			.newfd = FIRST_FILLER + i,
		};
	}
	if (posix_spawn_file_actions_init(&b->file_actions))
		die("posix_spawn_file_actions_init");
	for (i = 0; i < b->nactions; i++) {
		if (posix_spawn_file_actions_adddup2(&b->file_actions, b->devnull,
						     FIRST_FILLER + i))
			die("posix_spawn_file_actions_adddup2");
	}
	if (!b->inherit &&
	    posix_spawn_file_actions_addclosefrom_np(&b->file_actions, FIRST_FILLER))
		die("posix_spawn_file_actions_addclosefrom_np");

	b->exefd = open(b->exe, O_RDONLY | O_CLOEXEC);
	if (b->exefd < 0)
		die(b->exe);
	b->template_fd = -1;
	if (b->state[M_SPAWN_TEMPLATE] == S_OK) {
		b->template_fd = spawn_template_create_path(b->exe,
							    SPAWN_TEMPLATE_CREATE_CLOEXEC);
		if (b->template_fd < 0) {
			b->state[M_SPAWN_TEMPLATE] = errno == ENOSYS ? S_UNAVAILABLE : S_FAILED;
			b->err[M_SPAWN_TEMPLATE] = errno;
			snprintf(b->why[M_SPAWN_TEMPLATE], sizeof(b->why[0]),
				 "spawn_template_create: %s", strerrorname_np(errno));
		}
	}
	if (b->exefd >= FIRST_FILLER || b->template_fd >= FIRST_FILLER)
		die("the benchmark's own fds must be below FIRST_FILLER");
}

/* Open fds, not counting the directory stream's own. */
static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void select_methods(struct bench *b, char *list)
{
	char *name, *save = NULL;
	int m;

	for (m = 0; m < NR_METHODS; m++)
		b->state[m] = list ? S_OFF : S_OK;
	for (name = list ? strtok_r(list, ",", &save) : NULL; name;
	     name = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < NR_METHODS; m++) {
			if (!strcmp(name, method_names[m]))
				break;
		}
		if (m == NR_METHODS) {
			fprintf(stderr, "bench_spawn: unknown method %s\n", name);
			exit(2);
		}
		b->state[m] = S_OK;
	}
}

static void default_exe(struct bench *b)
{
	ssize_t n = readlink("/proc/self/exe", b->exe, sizeof(b->exe) - 1);
	char *slash;

	if (n < 0)
		die("readlink /proc/self/exe");
	b->exe[n] = '\0';
	slash = strrchr(b->exe, '/');
	if (!slash || snprintf(slash + 1, sizeof(b->exe) - (slash + 1 - b->exe), "%s",
			       "bench_true") >= (int)(sizeof(b->exe) - (slash + 1 - b->exe))) {
		errno = ENAMETOOLONG;
		die(b->exe);
	}
}

static long number(const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "bench_spawn: %s: not a number in [%ld, %ld]\n", arg, min, max);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_spawn [-m METHOD,...] [-n SAMPLES] [-w WARMUP] "
		"[-r RSS_MIB] [-f FDS] [-i] [-a ACTIONS] [-A ARGV_KIB] [-t THREADS] "
		"[-x EXE]\n");
	exit(2);
}

static void print_results(struct bench *b, struct worker *w)
{
	int m, t;
	long r;

	for (m = 0; m < NR_METHODS; m++) {
		switch (b->state[m]) {
		case S_OFF:
			break;
		case S_OK:
			printf("method %s ok\n", method_names[m]);
			break;
		case S_UNAVAILABLE:
			printf("method %s unavailable %s\n", method_names[m],
			       strerrorname_np(b->err[m]));
			break;
		case S_FAILED:
			printf("method %s failed %s\n", method_names[m], b->why[m]);
			break;
		}
	}
	for (m = 0; m < NR_METHODS; m++) {
		if (b->state[m] != S_OK)
			continue;
		for (t = 0; t < b->threads; t++) {
			for (r = 0; r < b->samples; r++) {
				int64_t ns = w[t].ns[(long)m * b->samples + r];

				if (ns >= 0)
					printf("s %s %d %lld\n", method_names[m], t, (long long)ns);
			}
		}
	}
}

int main(int argc, char **argv)
{
	static struct bench bench = {
		.fds = 3, .threads = 1, .samples = 100, .warmup = 3,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct bench *b = &bench;
	struct worker *w;
	pthread_t tids[MAX_THREADS];
	char *methods = NULL;
	int64_t t0;
	int opt, t;

	while ((opt = getopt(argc, argv, "m:n:w:r:f:ia:A:t:x:")) != -1) {
		switch (opt) {
		case 'm':
			methods = optarg;
			break;
		case 'n':
			b->samples = number(optarg, 1, 10000000);
			break;
		case 'w':
			b->warmup = number(optarg, 0, 1000000);
			break;
		case 'r':
			b->rss_mib = number(optarg, 0, 1 << 20);
			break;
		case 'f':
			b->fds = number(optarg, 3, 1 << 20);
			break;
		case 'i':
			b->inherit = true;
			break;
		case 'a':
			b->nactions = number(optarg, 0, MAX_ACTIONS);
			break;
		case 'A':
			b->argv_kib = number(optarg, 0, 1 << 20);
			break;
		case 't':
			b->threads = number(optarg, 1, MAX_THREADS);
			break;
		case 'x':
			if (optarg[0] != '/' ||
			    snprintf(b->exe, sizeof(b->exe), "%s", optarg) >= (int)sizeof(b->exe))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!b->exe[0])
		default_exe(b);
	select_methods(b, methods);

	b->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (b->devnull < 0)
		die("/dev/null");
	setup_methods(b);
	setup_args(b);
	setup_fds(b);
	setup_memory(b);

	w = calloc(b->threads, sizeof(*w));
	if (!w)
		die("calloc");
	for (t = 0; t < b->threads; t++) {
		w[t].b = b;
		w[t].id = t;
		w[t].ns = calloc((size_t)NR_METHODS * b->samples, sizeof(*w[t].ns));
		w[t].stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (!w[t].ns || w[t].stack == MAP_FAILED)
			die("worker memory");
	}

	printf("spawnbench 1\n");
	printf("param rss_mib %lu\nparam fds %d\nparam fd_mode %s\nparam argv_kib %lu\n"
	       "param actions %d\nparam threads %d\nparam samples %ld\nparam warmup %ld\n",
	       b->rss_mib, b->fds, b->inherit ? "inherit" : "close", b->argv_kib,
	       b->nactions, b->threads, b->samples, b->warmup);
	printf("info rss_kib %ld\ninfo open_fds %d\ninfo cpus %ld\n", rss_kib(),
	       count_open_fds(), sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);

	warm_up(b, &w[0]);
	t0 = now_ns();
	if (b->threads == 1) {
		work(&w[0]);
	} else {
		if (pthread_barrier_init(&b->barrier, NULL, b->threads))
			die("pthread_barrier_init");
		for (t = 0; t < b->threads; t++) {
			errno = pthread_create(&tids[t], NULL, work, &w[t]);
			if (errno)
				die("pthread_create");
		}
		for (t = 0; t < b->threads; t++)
			pthread_join(tids[t], NULL);
	}
	print_results(b, w);
	printf("end %lld\n", (long long)(now_ns() - t0));
	return fflush(stdout) ? 2 : 0;
}
