"""The developer's inner loop, the suite as it was against the suite now,
side by side in one run.

    python3 -m vm.bench loop [--before REF] [--no-fresh]
    python3 -m vm.bench fresh [--before REF]

Each suite is a clean clone under build/bench/loop-*/ (REF, and HEAD),
sharing the developer's XDG cache (warm), each with its own tox envs:

- warm main job: `python3 -m tox -e guest` (the README's main command,
  as each clone's tox.ini has it), after one warm-up run of one check,
  which compiles the check programs of that clone's sources;
- one-line change: the series with one added comment line of a .c hunk
  changed (so a source file recompiles), `python3 -m tox -e guest --
  --series=EDITED`: rebuild, boot, checks, verdict;
- fresh machine (HEAD only, unless --no-fresh): another clone with an
  empty XDG cache, `bash .ci/setup && python3 -m tox -e guest`, against
  the cold builds inside it (the base kernel's, for the selftests, and the
  series' on top of it), read from the run's own summaries.

`fresh` runs the fresh-machine figure alone, for REF and then HEAD.

Then the two warm runs' verdicts check by check, and what more workers
would give: the warm run's per-check durations (junit.xml) scheduled
longest first onto N workers, plus one boot, for N = 1, 2 (to compare with
what was measured) and 4.
"""

import heapq
import json
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from vm.bench.harness.clone import (
    BENCH_DIR,
    clone_env,
    differences,
    log,
    statuses,
    timed,
    totals,
)
from vm.bench.harness.edits import edit_one_c_hunk
from vm.options import DEFAULT_SERIES
from vm.paths import REPO_ROOT

# The suite before one guest per worker, the harness's own tests out of the
# main job and the shorter stress checks.
BEFORE = "12abb70"
# The README's command, whichever Python runs the benchmark.
TOX_GUEST = ["python3", "-m", "tox", "-e", "guest"]


def clone_at(ref: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", ref], check=True)
    return into


def runs(clone: Path) -> list[Path]:
    return sorted(p for p in (clone / "results").glob("2*") if (p / "summary.json").is_file())


def prepare(clone: Path) -> None:
    """The clone's tox env, and what a warm run finds made (one check)."""
    timed([*TOX_GUEST, "--notest"], clone)
    venv = clone / ".tox" / "guest" / "bin"
    # As tox runs it: vng from the env.
    env = {**os.environ, "PATH": f"{venv}:{os.environ['PATH']}"}
    # A check and a selftest program: the check programs compiled, the
    # kernel built and the base kernel's selftest results made for this config.
    timed([str(venv / "python"), "-m", "pytest", "tests/guest/smoke.c", "tests/kselftest",
           "--only", "tests/guest/smoke.c", "--only", "tests/kselftest/exec::null-argv",
           "--kconfig", "lkdtm", "-q", "-p", "no:cacheprovider"], clone, env)


def one_line_change(work: Path) -> Path:
    edited = work / "one-line"
    log(f"one-line change: {edit_one_c_hunk(DEFAULT_SERIES, edited)}")
    return edited


def junit_durations(junit: Path) -> list[float]:
    return [float(case.get("time") or 0) for case in ET.parse(junit).getroot().iter("testcase")]


def makespan(durations: list[float], workers: int) -> float:
    """Longest first onto the least loaded worker (what a balanced run approaches)."""
    loads = [0.0] * workers
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def summary(run: Path) -> dict[str, object]:
    data = json.loads((run / "summary.json").read_text())
    assert isinstance(data, dict)
    return data


def cold_builds(run: Path) -> tuple[float, float]:
    """(the base kernel's build, the series' build) of a run, from the summaries."""
    timings = summary(run)["timings_s"]
    assert isinstance(timings, dict)
    series_build = float(timings.get("build", 0.0))
    base_build = 0.0
    for base in sorted(run.glob("**/base/2*/summary.json")):
        base_timings = json.loads(base.read_text())["timings_s"]
        base_build += float(base_timings.get("build", 0.0))
    return base_build, series_build


def bench_loop(before: str, fresh: bool) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="loop-"))
    edited = one_line_change(work)
    clones = {"before": clone_at(before, work / "before"),
              "after": clone_at("HEAD", work / "after")}
    rows: dict[str, dict[str, str]] = {}
    warm_runs: dict[str, Path] = {}
    for name, clone in clones.items():
        prepare(clone)
        wall, status = timed(TOX_GUEST, clone)
        warm_runs[name] = runs(clone)[-1]
        rows.setdefault("warm main job (`python3 -m tox -e guest`)", {})[name] = (
            f"{wall:.0f} s (exit {status}; {totals(statuses(warm_runs[name]))})")
        wall, status = timed([*TOX_GUEST, "--", f"--series={edited}"], clone)
        rows.setdefault("one-line change to the series, to a full verdict", {})[name] = (
            f"{wall:.0f} s (exit {status})")
    print(f"| figure | before ({before}) | now ({_head()}) |")
    print("|---|---:|---:|")
    for figure, by in rows.items():
        print(f"| {figure} | {by['before']} | {by['after']} |")
    if fresh:
        print(_fresh(work))
    diff = differences(statuses(warm_runs["before"]), statuses(warm_runs["after"]))
    print(f"\nverdicts, warm runs: {len(diff)} differ" + "".join(f"\n- {d}" for d in diff))
    print(_projection(warm_runs["after"]))
    log(f"results: {work}")


def _head() -> str:
    return subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


def fresh_run(ref: str, work: Path) -> tuple[float, int, float, float]:
    """The README's main command at @ref as on a new machine: a clean clone
    and an empty XDG cache (no source, no ccache, no base results).
    (wall, exit status, the base kernel's build, the series' build)."""
    name = f"fresh-{ref}"
    clone = clone_at(ref, work / name)
    env = clone_env(work / f"{name}-cache")
    wall, status = timed(["bash", "-c", f".ci/setup && {' '.join(TOX_GUEST)}"], clone, env)
    base, series = cold_builds(runs(clone)[-1])
    return wall, status, base, series


def fresh_row(label: str, figures: tuple[float, int, float, float]) -> str:
    wall, status, base, series = figures
    cold = base + series
    ratio = f"{wall / cold:.2f}x" if cold else "-"
    return (f"| {label} | {wall:.0f} s (exit {status}) | {base:.0f} s | {series:.0f} s "
            f"| {ratio} |")


FRESH_HEADER = ("| suite | README main command | base kernel build | series build "
                "| wall / builds |\n|---|---:|---:|---:|---:|")


def _fresh(work: Path) -> str:
    return "\n" + FRESH_HEADER + "\n" + fresh_row(_head(), fresh_run("HEAD", work))


def bench_fresh(before: str) -> None:
    """The fresh-machine figure of the suite at @before and at HEAD, one
    after the other (machines of this kind differ in speed: compare ratios)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=BENCH_DIR, prefix="fresh-"))
    rows = [fresh_row(f"before ({before})", fresh_run(before, work)),
            fresh_row(f"now ({_head()})", fresh_run("HEAD", work))]
    print(FRESH_HEADER)
    print("\n".join(rows))
    log(f"results: {work}")


def _projection(run: Path) -> str:
    durations = junit_durations(run / "junit.xml")
    timings = summary(run)["timings_s"]
    assert isinstance(timings, dict)
    count = summary(run).get("workers") or 1
    assert isinstance(count, int)
    boot = float(timings.get("boot", 0.0)) / count
    lines = ["", f"per-check durations of the warm run ({len(durations)} tests, "
             f"{sum(durations):.0f} s in all, longest {max(durations, default=0):.0f} s), "
             f"scheduled longest first, plus one boot ({boot:.0f} s):", "",
             "| workers | checks and boot, s |", "|---:|---:|"]
    for n in (1, 2, 4):
        lines.append(f"| {n} | {boot + makespan(durations, n):.0f} |")
    return "\n".join(lines)
