"""Build once, test anywhere, and collection, measured in a clean clone.

    python3 -m vm.bench prebuilt [--kconfig NAME ...]
    python3 -m vm.bench collect

prebuilt: a normal run (build and guest checks), then the build exported,
then, in a clean clone of HEAD with an empty XDG cache, the export tested
with --prebuilt, then with --shard 1/2 and 2/2 and the shards merged. Each
result is compared check by check with the normal run's, and the prebuilt
run's wall time with the normal run's guest part (boot and checks).

collect: `pytest tests/guest --collect-only -q` in a clean clone, with an
empty cache, then with only the harness cached, then with the listing
programs compiled too.

Everything goes under build/bench/ (ignored by git); figures go to stdout
as Markdown, for docs/benchmarks.md.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from vm.paths import REPO_ROOT
from vm.results import records

BENCH_DIR = REPO_ROOT / "build" / "bench"
# Every check, not the harness's own tests (tests/harness): what --prebuilt runs.
GUEST = ["tests/guest", "-q", "-p", "no:cacheprovider"]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    log(f"{cwd}$ {' '.join(cmd)}")
    start = time.monotonic()
    status = subprocess.run(cmd, cwd=cwd, env=env).returncode
    return time.monotonic() - start, status


def only_run(results: Path) -> Path:
    """The one run folder a --results-dir got."""
    runs = [p for p in results.iterdir() if p.is_dir()] if results.is_dir() else []
    if len(runs) != 1:
        raise SystemExit(f"{results}: expected one run folder, found {len(runs)}")
    return runs[0]


def statuses(run: Path) -> dict[str, str]:
    return {r.nodeid: str(r.status) for r in records.load(run / records.CHECKS_FILE)}


def guest_seconds(run: Path) -> float:
    """Boot and checks, as the run's summary timed them."""
    timings = json.loads((run / "summary.json").read_text())["timings_s"]
    return float(timings.get("boot", 0.0)) + float(timings.get("checks", 0.0))


def differences(reference: dict[str, str], other: dict[str, str]) -> list[str]:
    return [f"{node}: {reference.get(node, 'absent')} -> {other.get(node, 'absent')}"
            for node in sorted(reference.keys() | other.keys())
            if reference.get(node) != other.get(node)]


def totals(by_node: dict[str, str]) -> str:
    counts = Counter(by_node.values())
    return ", ".join(f"{counts[s]} {s}" for s in sorted(counts))


def clean_clone(into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(into)], check=True)
    return into


def clone_env(cache: Path) -> dict[str, str]:
    """The clone's own empty XDG cache: no source, no ccache, no builds."""
    cache.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "XDG_CACHE_HOME": str(cache)}


def normal_and_export(work: Path, fragments: list[str]) -> tuple[float, int]:
    py = sys.executable
    wall, status = timed(
        [py, "-m", "pytest", *GUEST, *fragments, f"--results-dir={work / 'normal'}"],
        REPO_ROOT)
    _, export_status = timed([py, "-m", "vm.export", *fragments, str(work / "export.tar.gz")],
                             REPO_ROOT)
    if export_status != 0:
        raise SystemExit(f"vm.export exited {export_status}")
    return wall, status


def bench_prebuilt(kconfigs: list[str], reuse: Path | None = None) -> None:
    """With @reuse, a folder of an earlier bench: its normal run and export
    are kept (no wall time for the normal run then), the clone is made again."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    py, fragments = sys.executable, [a for k in kconfigs for a in ("--kconfig", k)]
    if reuse is None:
        work = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="prebuilt-"))
        normal_wall, normal_status = normal_and_export(work, fragments)
    else:
        work = reuse.resolve()
        if not (work / "normal").is_dir() or not (work / "export.tar.gz").is_file():
            raise SystemExit(f"--reuse {reuse}: no normal/ and export.tar.gz in it "
                             "(a folder an earlier `vm.bench prebuilt` made)")
        for stale in ("clone", "clone-cache", "prebuilt", "shard1", "shard2", "merged"):
            shutil.rmtree(work / stale, ignore_errors=True)
        normal_wall, normal_status = float("nan"), -1  # not run here: see its summary
    normal = only_run(work / "normal")
    export = work / "export.tar.gz"

    clone = clean_clone(work / "clone")
    env = clone_env(work / "clone-cache")
    # Options with "=": pytest reads a separate value of an option that a
    # conftest adds as a path, and would load the conftests above it (this
    # repository's, as the clone is inside it).
    prebuilt_cmd = [py, "-m", "pytest", *GUEST, f"--prebuilt={export}"]
    pre_wall, pre_status = timed([*prebuilt_cmd, f"--results-dir={work / 'prebuilt'}"],
                                 clone, env)
    prebuilt = only_run(work / "prebuilt")
    shard_walls = []
    for i in (1, 2):
        wall, _ = timed([*prebuilt_cmd, f"--shard={i}/2",
                         f"--shard-durations={normal / 'junit.xml'}",
                         f"--results-dir={work / f'shard{i}'}"], clone, env)
        shard_walls.append(wall)
    _, merge_status = timed([py, "-m", "vm.merge", str(work / "merged"),
                             str(only_run(work / "shard1")), str(only_run(work / "shard2"))],
                            clone, env)
    if not (work / "merged" / records.CHECKS_FILE).is_file():
        raise SystemExit(f"vm.merge exited {merge_status} and merged nothing")

    reference = statuses(normal)
    rows = [("normal run (build, then guest)", normal_wall, normal_status, normal),
            ("--prebuilt in a clean clone, empty cache", pre_wall, pre_status, prebuilt)]
    print("| run | wall s | guest part s (boot + checks) | exit | per-check results |")
    print("|---|---:|---:|---:|---|")
    for name, wall, status, run in rows:
        diff = differences(reference, statuses(run))
        same = "the reference" if run is normal else (
            "same as the normal run" if not diff else f"{len(diff)} differ: {'; '.join(diff)}")
        shown = ("-", "-") if status < 0 else (f"{wall:.0f}", str(status))
        print(f"| {name} | {shown[0]} | {guest_seconds(run):.0f} | {shown[1]} | "
              f"{totals(statuses(run))}; {same} |")
    merged = statuses(work / "merged")
    diff = differences(reference, merged)
    print(f"| shards 1/2 + 2/2 (--prebuilt), merged | {shard_walls[0]:.0f} + "
          f"{shard_walls[1]:.0f} | - | {merge_status} | {totals(merged)}; "
          f"{'same as the normal run' if not diff else '; '.join(diff)} |")
    budget = guest_seconds(normal) + 10
    print(f"\nprebuilt wall {pre_wall:.0f} s against the normal run's guest part + 10 s = "
          f"{budget:.0f} s: {'met' if pre_wall <= budget else 'NOT met'}")
    log(f"results: {work}")


def _collect(clone: Path, env: dict[str, str]) -> tuple[float, str]:
    py = sys.executable
    start = time.monotonic()
    proc = subprocess.run([py, "-m", "pytest", "tests/guest", "--collect-only", "-q",
                           "-p", "no:cacheprovider"], cwd=clone, env=env,
                          capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"collection failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return wall, proc.stdout.strip().splitlines()[-1]


def bench_collect() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="collect-"))
    clone = clean_clone(work / "clone")
    cache = work / "cache"
    env = clone_env(cache)
    listing = cache / "spawn-template-suite" / "listing"
    print(f"load average before: {os.getloadavg()[0]:.2f}\n")
    print("| cache | collect-only s (wall) | pytest says |")
    print("|---|---:|---|")
    wall, said = _collect(clone, env)
    print(f"| empty | {wall:.1f} | {said} |")
    # Keep the harness headers, drop the compiled programs.
    if not listing.is_dir():
        raise SystemExit(f"{listing}: the first collection left no listing in the cache")
    for folder in listing.iterdir():
        if not folder.name.startswith("harness-"):
            shutil.rmtree(folder)
    wall, said = _collect(clone, env)
    print("| holds the harness (a kernel source, or the two headers out of the tarball), "
          f"programs not compiled | {wall:.1f} | {said} |")
    wall, said = _collect(clone, env)
    print(f"| the listing programs compiled | {wall:.1f} | {said} |")
    log(f"results: {work}")
