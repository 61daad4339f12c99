"""One benchmark run: the suite's kernel and guest (vm/suite.py: build,
compile, boot, identity checks), a pilot of every point, then the sweep in
passes (every point once a pass) with the number of samples the plan
gives each run, within the time budget.

The budget's clock starts once the kernel is built and the guest
programs are compiled: it covers the boot, the pilots and the points.
"""

import math
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vm.bench.spawn import hostload, plan, stats
from vm.bench.spawn.data import PointResult, RunResult, merge_passes
from vm.bench.spawn.measure import CommandResult, Execute, run_point
from vm.bench.spawn.points import METHODS, Point, Sweep, for_cpus, thread_counts, unique_points
from vm.guest.runner import Verdict
from vm.options import DEFAULTS, Options
from vm.paths import REPO_ROOT
from vm.progress import Progress
from vm.suite import Suite

PROGRAM = "bench_spawn"
PILOT_WARMUP = 2
WARMUP = 3
REPORT_RESERVE_S = 15.0  # kept from the budget for the shutdown


@dataclass(frozen=True)
class Settings:
    budget_s: float = 540.0
    target: float = plan.DEFAULT_TARGET
    pilot_samples: int = plan.DEFAULT_PILOT
    min_samples: int = plan.DEFAULT_MIN
    max_samples: int = plan.DEFAULT_MAX
    methods: tuple[str, ...] = METHODS
    passes: int = stats.MIN_PASSES  # the sweep runs this often, n / passes a point

    def to_json(self) -> dict[str, Any]:
        return {"budget_s": self.budget_s, "target_rel_halfwidth": self.target,
                "pilot_samples": self.pilot_samples, "min_samples": self.min_samples,
                "max_samples": self.max_samples, "warmup": WARMUP, "level": 0.95,
                "passes": self.passes}


@dataclass
class Clock:
    budget_s: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.budget_s - (time.monotonic() - self.start)


def suite_executor(suite: Suite) -> Execute:
    """Commands through the suite: judged for kernel reports, the guest
    rebooted after a crash."""
    def execute(command: str, timeout: float) -> CommandResult:
        outcome = suite.run_command(command, timeout)
        return CommandResult(outcome.verdict is Verdict.PASSED, outcome.output,
                             outcome.seconds, outcome.message)
    return execute


def _timeout(seconds: float) -> float:
    """Generous: a point's timeout only catches a hung guest."""
    return 120.0 + 4 * seconds


def measure(execute: Execute, binary: Path, sweeps: Sequence[Sweep], settings: Settings,
            clock: Clock, progress: Progress) -> list[PointResult]:
    """Pilots, then every point; returns the points' results in order."""
    points = unique_points(sweeps)
    pilots: dict[Point, plan.Pilot] = {}
    for i, p in enumerate(points, 1):
        progress(f"pilot {i}/{len(points)}: {p.key}")
        r = run_point(execute, binary, p, settings.pilot_samples, PILOT_WARMUP,
                      _timeout(60.0), settings.methods)
        if r.error:
            progress(f"pilot {p.key}: {r.error.splitlines()[0]}")
        pilots[p] = plan.pilot_of(r, PILOT_WARMUP)
    # Every point once a pass, so that the host's drift over the run is
    # seen by every point (stats.pass_ratio); each pass gets 1/passes of
    # the samples, re-planned before each run against the time left.
    passes = max(1, settings.passes)
    minimum = max(1, math.ceil(settings.min_samples / passes))
    wanted = {q: math.ceil(plan.wanted_samples(pilots[q], settings.pilot_samples,
                                               settings.target, settings.min_samples,
                                               settings.max_samples) / passes)
              for q in points}
    items = [(k, p) for k in range(passes) for p in points]
    ran: dict[Point, list[PointResult]] = {p: [] for p in points}
    for j, (k, p) in enumerate(items):
        rest = [q for _, q in items[j:]]
        fitted = plan.fit([pilots[q] for q in rest], [wanted[q] for q in rest],
                          clock.left() - REPORT_RESERVE_S, WARMUP, minimum)
        n, expected = fitted[0], pilots[p].cost(fitted[0], WARMUP)
        note = "" if n == wanted[p] else f" (wanted {wanted[p]}: budget)"
        where = f"pass {k + 1}/{passes}, " if passes > 1 else ""
        progress(f"{where}point {points.index(p) + 1}/{len(points)}: {p.key}: {n} samples "
                 f"per thread{note}, about {expected:.0f} s; {clock.left():.0f} s left")
        r = run_point(execute, binary, p, n, WARMUP, _timeout(expected), settings.methods)
        if r.error:
            progress(f"point {p.key}: {r.error.splitlines()[0]}")
        ran[p].append(r)
    return [merge_passes(ran[p]) if passes > 1 else ran[p][0] for p in points]


def measured(execute: Execute, binary: Path, sweeps: Sequence[Sweep], settings: Settings,
             clock: Clock, progress: Progress) -> tuple[list[PointResult], dict[str, Any]]:
    """measure(), and the environment entries of how long it took and
    what else the host ran meanwhile (vm/bench/spawn/hostload.py)."""
    start = hostload.sample()
    results = measure(execute, binary, sweeps, settings, clock, progress)
    entries: dict[str, Any] = {"measured_s": round(time.monotonic() - clock.start, 1)}
    entries.update(hostload.figures(start, hostload.sample()))
    other = hostload.busy(entries)
    if other is not None:
        progress(f"the host was busy: other work used {other:.2f} CPUs on average "
                 "while measuring; this run is not comparable with one on an idle host")
    return results, entries


def _host_cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "-"


def _suite_commit() -> str:
    proc = subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True)
    return proc.stdout.strip() or "-"


def guest_facts(execute: Execute) -> dict[str, Any]:
    """CPUs and memory as the guest sees them."""
    ran = execute("nproc; grep MemTotal /proc/meminfo; uname -r", 60.0)
    lines = ran.output.split("\n") if ran.ok else []
    facts: dict[str, Any] = {}
    if len(lines) >= 3:
        facts["guest_cpus"] = int(lines[0]) if lines[0].strip().isdigit() else lines[0]
        mem = lines[1].split()
        facts["guest_mem_total_kib"] = int(mem[1]) if len(mem) > 1 and mem[1].isdigit() else "-"
        facts["guest_release"] = lines[2].strip()
    return facts


def environment(suite: Suite, execute: Execute) -> dict[str, Any]:
    s = suite.summary
    env: dict[str, Any] = {
        "kernel": s.kernel, "series": s.series, "build": s.build, "booted": s.booted,
        "proc_version": s.proc_version, "accelerator": s.accel,
        "guest_memory": suite.options.guest_memory,
        "host_cpu": _host_cpu(), "host_cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "suite_commit": _suite_commit(),
    }
    env.update(guest_facts(execute))
    return env


def measured_cpus(env: dict[str, Any], fallback: int) -> int:
    """The CPUs the program saw (nproc in the guest), the threads sweep's
    scale; the asked-for count when the guest did not say."""
    cpus = env.get("guest_cpus")
    return cpus if isinstance(cpus, int) and cpus > 0 else fallback


def run(options: Options, names: Sequence[str], settings: Settings, run_dir: Path,
        progress: Progress) -> RunResult:
    """Build (or reuse), boot once, measure the named sweeps, the threads
    scaled to the guest's CPUs; the suite's own files (build.log,
    console.log, dmesg.log, summary) go to run_dir."""
    suite = Suite(options, run_dir, progress)
    try:
        programs = suite.check_programs()
        binary = programs.out_dir / PROGRAM
        if not binary.is_file():
            raise FileNotFoundError(f"{binary}: not compiled (tests/guest/Makefile)")
        clock = Clock(settings.budget_s)
        execute = suite_executor(suite)
        suite.guest()
        env = environment(suite, execute)
        cpus = measured_cpus(env, options.guest_cpus)
        sweeps = for_cpus(names, cpus)
        if "threads" in names:
            progress(f"{cpus} guest CPUs: threads {thread_counts(cpus)}")
        results, entries = measured(execute, binary, sweeps, settings, clock, progress)
        env.update(entries)
    finally:
        suite.finish()
    return RunResult(env, settings.to_json(), list(sweeps), results)


def host_executor() -> Execute:
    """Commands on this machine, for trying the benchmark without a guest."""
    def execute(command: str, timeout: float) -> CommandResult:
        start = time.monotonic()
        try:
            proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                                  errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            return CommandResult(False, "", time.monotonic() - start,
                                 f"timed out after {timeout:.0f} s")
        seconds = time.monotonic() - start
        output = proc.stdout + proc.stderr
        return CommandResult(proc.returncode == 0, output, seconds,
                             "" if proc.returncode == 0 else
                             f"exit status {proc.returncode}:\n{output[-2000:]}")
    return execute


HOST_BUILD_DIR = REPO_ROOT / "build" / "spawnbench-host"


def run_on_host(names: Sequence[str], settings: Settings, progress: Progress) -> RunResult:
    """The benchmark on this machine's kernel: `make bench` against the
    system's headers, no kernel build, no guest. For trying the harness;
    its figures are the host's, and spawn_template is unavailable unless
    the host kernel has the series."""
    proc = subprocess.run(["make", "-s", "-C", str(REPO_ROOT / "tests" / "guest"), "bench",
                           f"OUTPUT={HOST_BUILD_DIR}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"make bench failed:\n{proc.stdout}{proc.stderr}")
    clock = Clock(settings.budget_s)
    execute = host_executor()
    env: dict[str, Any] = {
        "kernel": platform.release(), "series": "(host kernel)", "accelerator": "none (host)",
        "guest_cpus": os.cpu_count(), "host_cpu": _host_cpu(), "host_cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "suite_commit": _suite_commit(),
    }
    sweeps = for_cpus(names, measured_cpus(env, 1))
    results, entries = measured(execute, HOST_BUILD_DIR / PROGRAM, sweeps, settings, clock,
                                progress)
    env.update(entries)
    return RunResult(env, settings.to_json(), list(sweeps), results)


def bench_options(**overrides: Any) -> Options:
    """The suite's options with the benchmark's defaults (2G: the 512 MiB
    parent and its children need room)."""
    values: dict[str, Any] = {"guest_memory": "2G"}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Options(**{**DEFAULTS.__dict__, **values})
