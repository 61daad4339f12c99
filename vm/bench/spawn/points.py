"""The points the benchmark measures: one sweep per dimension users hit,
each varying one parameter from a common baseline.

A point is one run of the guest program (tests/guest/bench_spawn.c) with
its options; every method is measured at every point, interleaved.
"""

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

# In the guest program's order; the names it prints.
METHODS = ("spawn_template", "posix_spawn", "vfork_execve", "fork_execve",
           "clone3_execve", "fork_execveat")
REFERENCE = "posix_spawn"  # every method's ratio is to this one

FD_MODES = ("close", "inherit")

MAX_THREADS = 64  # bench_spawn.c's MAX_THREADS


@dataclass(frozen=True)
class Point:
    rss_mib: int = 0  # anonymous memory the parent has touched
    fds: int = 3  # open fds in the parent
    fd_mode: str = "close"  # close: children keep 0-2; inherit: all
    argv_kib: int = 0  # argv + envp size; 0: one short string each
    actions: int = 0  # DUP2 actions (spawn) / their equivalents (others)
    threads: int = 1  # threads, each starting children

    @property
    def key(self) -> str:
        """Stable name, for matching points of two runs."""
        return (f"rss={self.rss_mib}M fds={self.fds}/{self.fd_mode} argv={self.argv_kib}K "
                f"actions={self.actions} threads={self.threads}")

    def argv(self, binary: Path, samples: int, warmup: int,
             methods: Sequence[str] = METHODS) -> list[str]:
        """The guest program's command line for this point."""
        args = [str(binary), "-n", str(samples), "-w", str(warmup),
                "-r", str(self.rss_mib), "-f", str(self.fds), "-a", str(self.actions),
                "-A", str(self.argv_kib), "-t", str(self.threads)]
        if self.fd_mode == "inherit":
            args.append("-i")
        if tuple(methods) != METHODS:
            args += ["-m", ",".join(methods)]
        return args

    def command(self, binary: Path, samples: int, warmup: int,
                methods: Sequence[str] = METHODS) -> str:
        return shlex.join(self.argv(binary, samples, warmup, methods))

    def to_json(self) -> dict[str, int | str]:
        return {"rss_mib": self.rss_mib, "fds": self.fds, "fd_mode": self.fd_mode,
                "argv_kib": self.argv_kib, "actions": self.actions, "threads": self.threads}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "Point":
        def num(name: str) -> int:
            value = data[name]
            if not isinstance(value, int):
                raise ValueError(f"point field {name}: {value!r} is not an integer")
            return value

        mode = data.get("fd_mode")
        if mode not in FD_MODES:
            raise ValueError(f"point field fd_mode: {mode!r}")
        return cls(rss_mib=num("rss_mib"), fds=num("fds"), fd_mode=str(mode),
                   argv_kib=num("argv_kib"), actions=num("actions"), threads=num("threads"))


BASELINE = Point()


@dataclass(frozen=True)
class Sweep:
    """One dimension: the parameter it varies (the plot's x axis) and its points."""

    name: str
    parameter: str  # a Point field
    label: str  # the x axis
    points: tuple[Point, ...] = field(default=())


def _vary(name: str, parameter: str, label: str, values: Iterable[int],
          **fixed: int | str) -> Sweep:
    base = replace(BASELINE, **fixed)  # type: ignore[arg-type]
    varied: list[Point] = [replace(base, **{parameter: v}) for v in values]  # type: ignore[arg-type]
    return Sweep(name, parameter, label, tuple(varied))


def thread_counts(cpus: int) -> tuple[int, ...]:
    """The threads sweep for a guest with this many CPUs: 1, CPUs/2, CPUs,
    2 x CPUs (deduplicated, at most MAX_THREADS). On 2 CPUs 1, 2, 4; on 16
    1, 8, 16, 32. It spans one thread alone to the CPUs oversubscribed
    twice, never more: 8 threads on 2 TCG vCPUs was the one point whose
    ratios did not repeat (docs/benchmarks.md)."""
    if cpus < 1:
        raise ValueError(f"{cpus} CPUs")
    wanted = (1, cpus // 2, cpus, 2 * cpus)
    return tuple(sorted({min(n, MAX_THREADS) for n in wanted if n >= 1}))


def default_sweeps(cpus: int) -> tuple[Sweep, ...]:
    """The sizes users hit: RSS 0/64/512 MiB, 3/1,000/10,000 fds closed or
    inherited, argv+envp small/128 KiB, 0/8/64/256 actions; the threads
    scaled to the guest's CPUs (thread_counts)."""
    return (
        _vary("rss", "rss_mib", "parent RSS (MiB, touched)", (0, 64, 512)),
        _vary("fds", "fds", "open fds in the parent, children keep 0-2 (closed)",
              (3, 1000, 10000)),
        _vary("fds-inherit", "fds", "open fds in the parent, children inherit them",
              (3, 1000, 10000), fd_mode="inherit"),
        _vary("argv", "argv_kib", "argv + envp (KiB)", (0, 128)),
        _vary("actions", "actions", "DUP2 actions", (0, 8, 64, 256)),
        _vary("threads", "threads", "threads, each starting children", thread_counts(cpus)),
    )


SWEEP_NAMES = tuple(s.name for s in default_sweeps(1))


def select(sweeps: Sequence[Sweep], names: Iterable[str]) -> tuple[Sweep, ...]:
    wanted = list(names)
    unknown = [n for n in wanted if n not in {s.name for s in sweeps}]
    if unknown:
        raise ValueError(f"unknown sweep(s) {', '.join(unknown)}; "
                         f"known: {', '.join(s.name for s in sweeps)}")
    return tuple(s for s in sweeps if s.name in wanted)


def for_cpus(names: Iterable[str], cpus: int) -> tuple[Sweep, ...]:
    """The named default sweeps for a guest with this many CPUs."""
    return select(default_sweeps(cpus), names)


def unique_points(sweeps: Sequence[Sweep]) -> list[Point]:
    """Every point once (the baseline is in several sweeps), in sweep order."""
    seen: dict[Point, None] = {}
    for sweep in sweeps:
        for p in sweep.points:
            seen.setdefault(p, None)
    return list(seen)
