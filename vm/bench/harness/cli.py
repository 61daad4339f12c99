"""Rerunnable benchmark for the harness's speed targets.

    python3 -m vm.bench build [--modes safe,legacy,none]
                                # cold build, no-change skip, one-hunk rebuild,
                                # and series / series + one constant / series, per ccache mode
    python3 -m vm.bench guest   # boot to first command, round trip, per-test overhead
    python3 -m vm.bench gate    # the main job, then the gate of v2 against v1 and
                                # of a broken revision, side by side
    python3 -m vm.bench prebuilt [--kconfig NAME ...]
                                # a normal run, then its export with --prebuilt and
                                # in two shards merged, in a clean clone (vm/bench/harness/clone.py)
    python3 -m vm.bench collect # --collect-only in a clean clone, cache empty to warm
    python3 -m vm.bench loop [--before REF] [--no-fresh]
                                # the inner loop, the suite at REF against HEAD
                                # (vm/bench/harness/loop.py)
    python3 -m vm.bench fresh [--before REF]
                                # the README's main command on an empty cache,
                                # at REF then HEAD, against the cold builds inside

`build` uses a fresh XDG cache in a temporary folder under the repository's
build/ (ignored by git), so the developer's cache and ccache are untouched.
Figures go to stdout as a Markdown table, for docs/benchmarks.md.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vm.bench.harness import clone, loop
from vm.bench.harness.edits import edit_one_c_hunk
from vm.cache import Cache, contain_temporaries
from vm.guest import checks, health
from vm.guest.vng import Guest
from vm.kernel import build, identity, series
from vm.kernel.derive import derive
from vm.kernel.request import KernelRequest, build_kernel
from vm.options import DEFAULT_FRAGMENTS, DEFAULT_SERIES, Options
from vm.paths import REPO_ROOT
from vm.suite import Suite

BENCH_DIR = REPO_ROOT / "build" / "bench"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def prepare(cache: Cache, chosen: series.Series, run_dir: Path,
            mode: build.CacheMode = build.CacheMode.SAFE) -> build.Built:
    """source -> series -> config -> build, as a run does it."""
    return build_kernel(KernelRequest(None, chosen, DEFAULT_FRAGMENTS), cache,
                        run_dir / "build.log", log, mode=mode)


ONE_CONSTANT_EDIT = REPO_ROOT / "tests" / "harness" / "data" / "default-close-from-fd-4.patch"


def timed_build(fn: Callable[[], build.Built]) -> str:
    """Seconds, or what was wrong with the kernel the build produced."""
    start = time.monotonic()
    try:
        fn()
    except identity.StaleKernelError as e:
        log(f"stale: {e}")
        return f"{time.monotonic() - start:.0f} (**stale kernel**)"
    return f"{time.monotonic() - start:.1f}"


def bench_mode(series_dir: Path, mode: build.CacheMode) -> dict[str, str]:
    """One mode in a fresh cache: cold, no change, one hunk, and the
    back-and-forth that once booted a stale kernel (series + one constant,
    then the series)."""
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
        cache, run_dir = Cache(Path(tmp) / "cache"), Path(tmp) / "run"
        run_dir.mkdir()
        full = series.load(str(series_dir))
        edited = Path(tmp) / "edited"
        what = edit_one_c_hunk(series_dir, edited)
        log(f"{mode.value}: cold build")
        rows = {"cold build (empty cache and ccache, unpack included)":
                timed_build(lambda: prepare(cache, full, run_dir, mode))}
        rows["nothing changed: decide and skip"] = timed_build(
            lambda: prepare(cache, full, run_dir, mode))
        rows[f"rebuild after editing one .c hunk ({what})"] = timed_build(
            lambda: prepare(cache, series.load(str(edited)), run_dir, mode))
        rows["back to the series"] = timed_build(lambda: prepare(cache, full, run_dir, mode))
        rows[f"series + {ONE_CONSTANT_EDIT.name}"] = timed_build(
            lambda: prepare(cache, series.with_patch(full, ONE_CONSTANT_EDIT), run_dir, mode))
        rows["back to the series again"] = timed_build(
            lambda: prepare(cache, full, run_dir, mode))
    return rows


def bench_build(series_dir: Path, modes: list[build.CacheMode]) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = {mode: bench_mode(series_dir, mode) for mode in modes}
    steps = list(next(iter(results.values())))
    print("| step (seconds) | " + " | ".join(m.value for m in modes) + " |")
    print("|---|" + "---:|" * len(modes))
    for step in steps:
        print(f"| {step} | " + " | ".join(results[m][step] for m in modes) + " |")


def _qemu_pid(group: int) -> int | None:
    """QEMU is vng's child, in the process group pexpect gave vng."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()  # fields[2]: process group
            if int(fields[2]) == group and head.split("(", 1)[1].startswith("qemu"):
                return int(stat.parent.name)
    return None


def _seconds_since_start(pid: int) -> float | None:
    """How long ago a process started, from /proc (10 ms resolution)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


def qemu_seconds(guest: Guest) -> float | None:
    """From QEMU's start to the guest's shell: QEMU's age now, less the time
    since the shell answered (vng itself starts QEMU a while after it starts)."""
    if guest.child is None or guest.child.pid is None:
        return None
    pid = _qemu_pid(guest.child.pid)
    age = None if pid is None else _seconds_since_start(pid)
    return None if age is None else age - (time.monotonic() - guest.ready_at)


def bench_guest(rounds: int) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
        suite = Suite(Options(no_build=True), Path(tmp), log)
        built = suite.kernel()
        binaries = checks.compile_all(built, log)
        # Collection: listing every program's tests, per test collected.
        programs = [p for p in sorted((REPO_ROOT / "tests" / "guest").glob("*.c"))
                    if checks.is_check_program(p)]
        start = time.monotonic()
        items = sum(len(checks.list_checks(binaries.binary(p))) for p in programs)
        collect = (time.monotonic() - start) / items
        guest = suite.guest()
        boot, qemu = guest.boot_seconds, qemu_seconds(guest)
        # Framing: a whole round trip of a command that does nothing,
        # including the wait for the kernel log to catch up.
        trips = sorted(guest.run("true").seconds for _ in range(rounds))
        # Kernel log: reading this test's share and scanning it for splats.
        scans = []
        for _ in range(rounds):
            guest.run("echo '<6>bench: a line for the scan' > /dev/kmsg")
            start = time.monotonic()
            health.scan(guest.kernel_log())
            scans.append(time.monotonic() - start)
        suite.finish()
    framing, scan = statistics.median(trips), statistics.median(scans)
    print("| step | figure | target |")
    print("|---|---:|---:|")
    print(f"| vng start to first guest command ({suite.summary.accel}) | {boot:.2f} s | - |")
    if qemu is not None:
        print(f"| QEMU start to first guest command | {qemu:.2f} s | 8 s |")
    print(f"| `guest.run(\"true\")` round trip, median of {rounds} | "
          f"{framing * 1000:.0f} ms | 50 ms |")
    print(f"| harness overhead per guest test: collection {collect * 1000:.1f} ms + "
          f"framing {framing * 1000:.0f} ms + kernel log scan {scan * 1000:.1f} ms | "
          f"{(collect + framing + scan) * 1000:.0f} ms | 100 ms |")


GATE_V1 = REPO_ROOT / "patches" / "spawn-template" / "v1"
# The broken revision of the demonstration: patch 4 ignores reserved[0].
BROKEN_EDIT = ("+\t\tif (args.reserved[i])\n", "+\t\tif (i && args.reserved[i])\n")


def _last_gate(results: Path) -> dict[str, object]:
    report = sorted(results.glob("gate-*/gate.json"))[-1]
    data = json.loads(report.read_text())
    assert isinstance(data, dict)
    return data


def bench_gate(series_dir: Path) -> None:
    """The main job and two gates, one after the other on a warm cache.
    Run once before measuring, so that ccache and the baseline's guest run
    are in the cache (the target is for a warm cache)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="gate-"))
    broken = results / "broken"
    derive(series_dir, broken, 4, *BROKEN_EDIT, revision=f"{series_dir.name}-broken")
    py, kconfig = sys.executable, ["--kconfig", "lkdtm"]
    main_job, _ = clone.timed([py, "-m", "pytest", "tests/guest", "tests/harness", *kconfig,
                               "--results-dir", str(results / "main"), "-q"], REPO_ROOT)
    gate_cmd = [py, "-m", "vm.gate", *kconfig, "--results-dir", str(results)]
    good, good_status = clone.timed([*gate_cmd, "--series", str(series_dir),
                                     "--baseline", str(GATE_V1)], REPO_ROOT)
    good_report = _last_gate(results)
    bad, bad_status = clone.timed([*gate_cmd, "--series", str(broken),
                                   "--baseline", str(series_dir)], REPO_ROOT)
    bad_report = _last_gate(results)
    first_bad = bad_report.get("first_bad") or []
    assert isinstance(first_bad, list)
    named = sorted({f"{fb['check']} -> patch {fb['patch']}" for fb in first_bad})
    print("| run | seconds | vs main job | exit | notes |")
    print("|---|---:|---:|---:|---|")
    print(f"| main job (`pytest tests/guest tests/harness --kconfig lkdtm`) | {main_job:.0f} "
          "| 1.00 | | |")
    print(f"| gate {series_dir.name} against v1 | {good:.0f} | {good / main_job:.2f} | "
          f"{good_status} | seconds per phase {good_report['seconds']} |")
    print(f"| gate {broken.name} against {series_dir.name} | {bad:.0f} | {bad / main_job:.2f} | "
          f"{bad_status} | first bad: {'; '.join(named) or 'none'}; prefixes probed "
          f"{bad_report['probes']}; seconds per phase {bad_report['seconds']} |")
    log(f"results: {results}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m vm.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("build", "guest", "gate", "prebuilt", "collect",
                                         "loop", "fresh"))
    parser.add_argument("--series", type=Path, default=DEFAULT_SERIES)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--modes", default="safe",
                        help="build: ccache modes to compare, each in its own fresh cache "
                        "(safe, legacy, none; comma-separated)")
    parser.add_argument("--kconfig", action="append", default=None,
                        help="prebuilt: fragments of the build (default: lkdtm, the main job's)")
    parser.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                        help="prebuilt: keep DIR's normal run and export, redo the clone's runs")
    parser.add_argument("--before", default=loop.BEFORE, metavar="REF",
                        help="loop, fresh: the suite to compare with (default: %(default)s)")
    parser.add_argument("--no-fresh", action="store_true",
                        help="loop: skip the fresh-machine run (empty cache, cold builds)")
    args = parser.parse_args()
    os.environ.setdefault("LC_ALL", "C")
    contain_temporaries(Cache.default())
    if args.what == "prebuilt":
        clone.bench_prebuilt(args.kconfig or ["lkdtm"], args.reuse)
    elif args.what == "collect":
        clone.bench_collect()
    elif args.what == "build":
        bench_build(args.series, [build.CacheMode(m) for m in args.modes.split(",")])
    elif args.what == "gate":
        bench_gate(args.series)
    elif args.what == "loop":
        loop.bench_loop(args.before, not args.no_fresh)
    elif args.what == "fresh":
        loop.bench_fresh(args.before)
    else:
        bench_guest(args.rounds)
