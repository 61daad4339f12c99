"""The gate's spawn benchmark (`vm.gate --bench`): `python3 -m vm.spawnbench
run` on the gated revision and on its baseline, each its own process as
the guest runs are (vm/gate/guest_runs.py), then the two results compared.

The revision's result is kept twice: in the gate's folder
(bench/spawnbench.json, the layout of a `vm.spawnbench run` folder, where
a later gate given this folder as its baseline finds it) and in the cache
next to its guest outcomes (gate/<key>.spawnbench.json, where a later
gate with this series as its baseline finds it). A cached baseline is
used only when it was measured in the revision's environment and has
every point the revision has; otherwise the baseline is run again.
"""

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from vm.bench.spawn import compare, data
from vm.bench.spawn.cli import OUTPUT_DIR, RESULT_JSON, write_comparison
from vm.errors import HarnessError
from vm.gate.bench_report import FLAG_ON, BenchReport, failed_points, from_comparison
from vm.gate.guest_runs import run_suite
from vm.progress import Progress

RUNS = "bench-runs"  # in the gate's folder: each `vm.spawnbench run`'s own folder


@dataclass(frozen=True)
class Request:
    """What every benchmark run of one gate is given."""

    kconfigs: list[str]
    kernel_tree: Path | None = None
    budget: float | None = None  # seconds; None: vm.spawnbench's default
    sweeps: str | None = None  # comma-separated; None: every sweep


@dataclass(frozen=True)
class Baseline:
    """Where the baseline's result comes from: a series is run (or found in
    the cache at @store); a results folder brings its own (or none)."""

    spec: str  # as given to --baseline (or --bench-baseline)
    store: Path | None = None  # a series': its cached result
    result: Path | None = None  # a results folder's bench/spawnbench.json
    origin: str = "results folder"  # where result came from, for the report


def stored(outcomes: Path) -> Path:
    """gate/<key>.spawnbench.json, next to the series' guest outcomes."""
    return outcomes.with_name(outcomes.stem + ".spawnbench.json")


def in_folder(folder: Path) -> Path | None:
    """A gate's or a `vm.spawnbench run`'s results folder's result."""
    path = folder / OUTPUT_DIR / RESULT_JSON
    return path if path.is_file() else None


def given(spec: str) -> Path:
    """--bench-baseline: a spawnbench.json, or a results folder holding one
    (bench/spawnbench.json); ValueError when it is not a readable result."""
    path = Path(spec)
    found = path if path.is_file() else in_folder(path) if path.is_dir() else None
    if found is None:
        raise ValueError(f"{spec}: no {RESULT_JSON}, nor a results folder with "
                         f"{OUTPUT_DIR}/{RESULT_JSON}")
    data.read(found)
    return found


def run(series_spec: str, request: Request, results: Path, log: Path,
        progress: Progress) -> Path:
    """`python3 -m vm.spawnbench run` on @series_spec; its spawnbench.json."""
    cmd = [sys.executable, "-m", "vm.spawnbench", "run", "--series", series_spec,
           "--results-dir", str(results), "--no-plots"]
    for k in request.kconfigs:
        cmd += ["--kconfig", k]
    if request.kernel_tree is not None:
        cmd += ["--kernel-tree", str(request.kernel_tree)]
    if request.budget is not None:
        cmd += ["--budget", str(request.budget)]
    if request.sweeps is not None:
        cmd += ["--sweeps", request.sweeps]
    progress(f"gate: spawn benchmark on {series_spec}; log: {log}")
    # 1 too leaves a result: a point failed, and the result says which.
    folder = run_suite(cmd, results, log, f"spawn benchmark on {series_spec}",
                       f"{OUTPUT_DIR}/{RESULT_JSON}")
    return folder / OUTPUT_DIR / RESULT_JSON


def _read(path: Path) -> data.RunResult | None:
    try:
        return data.read(path)
    except ValueError:
        return None


def _keep(result: Path, where: Path) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result, where)


def _usable(cached: data.RunResult, revision: data.RunResult) -> str:
    """Why a cached baseline cannot stand for a run next to the revision's
    ("" when it can)."""
    # The revision's own busy host is its run's problem, not the cache's.
    differ = compare.machine_mismatches(cached, revision) + compare.busy_host(cached, "cached")
    if differ:
        return "not comparable: " + "; ".join(differ)
    if cached.settings != revision.settings:
        return "measured with other settings (budget, methods, target)"
    missing = [r.point.key for r in revision.points if cached.point(r.point) is None]
    return f"lacks {len(missing)} of the revision's points" if missing else ""


def _baseline(baseline: Baseline, revision: data.RunResult, request: Request, run_dir: Path,
              progress: Progress, own: Path) -> tuple[Path | None, str]:
    """The baseline's result and where it came from, or None and why not.
    @own is where the revision's result was just stored: a baseline series
    with the revision's key would find it there, and compare it with itself."""
    if baseline.store is None:
        if baseline.result is None:
            return None, (f"the baseline {baseline.spec} has no {OUTPUT_DIR}/{RESULT_JSON} "
                          "(made without the benchmark)")
        return baseline.result, baseline.origin
    cached = (_read(baseline.store)
              if baseline.store.is_file() and baseline.store != own else None)
    if cached is not None:
        why = _usable(cached, revision)
        if not why:
            progress(f"gate: spawn benchmark of {baseline.spec} from {baseline.store} (cached)")
            return baseline.store, "cache"
        progress(f"gate: the cached spawn benchmark of {baseline.spec} {why}: run again")
    found = run(baseline.spec, request, run_dir / RUNS, run_dir / "bench-baseline.log",
                progress)
    _keep(found, baseline.store)
    return found, "run"


def bench(request: Request, revision_spec: str, revision_store: Path,
          baseline: Baseline | None, run_dir: Path, progress: Progress,
          with_plots: bool = True) -> BenchReport:
    """The revision's run, the baseline's result, and their comparison
    (bench/compare.md, compare.json, compare.png next to the revision's
    bench/spawnbench.json in the gate's folder)."""
    made = run(revision_spec, request, run_dir / RUNS, run_dir / "bench.log", progress)
    mine = run_dir / OUTPUT_DIR / RESULT_JSON
    _keep(made, mine)
    _keep(made, revision_store)  # the next revision's gate finds its baseline here
    revision = _read(mine)
    if revision is None:
        raise HarnessError(f"{made}: the spawn benchmark's result does not read back")
    run_folder = str(made.parent.parent)
    if baseline is None:
        return BenchReport(str(mine), run_folder, note="no --baseline",
                           failed_points=failed_points(revision, "revision"))
    path, how = _baseline(baseline, revision, request, run_dir, progress, revision_store)
    base = None if path is None else _read(path)
    if path is None or base is None:
        note = how if path is None else f"{path} is not a spawn benchmark result"
        return BenchReport(str(mine), run_folder, note=note,
                           failed_points=failed_points(revision, "revision"))
    c = compare.compare(base, revision, flag_on=FLAG_ON)
    write_comparison(c, f"baseline {path}", f"revision {mine}", run_dir / OUTPUT_DIR,
                     with_plots)
    report = from_comparison(c, str(mine), str(path), how)
    report.revision_run = run_folder
    return report
