"""The gate's guest runs: the suite's own pytest run, as a CI would start it.

The gate does not drive a guest itself: it runs `pytest tests/guest
tests/kselftest` (the main job's code, unchanged) on the whole series, on a prefix of it, or on
the baseline, and reads the junit.xml back. A prefix is written out as a
series folder of its own, so the run builds exactly that prefix (through
the same cache as the gate's per-patch builds).
"""

import subprocess
import sys
from pathlib import Path

import yaml

from vm.errors import HarnessError
from vm.kernel.series import SERIES_YAML, Series
from vm.paths import REPO_ROOT
from vm.progress import Progress
from vm.results.outcomes import Outcome, read_junit


def write_series(series: Series, folder: Path, revision: str) -> Path:
    """@series as patches/<name>/<rev>/ would hold it; its key is unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, patch in enumerate(series.patches, 1):
        (folder / f"{k:04d}.patch").write_text(patch.text)
    meta = {"name": series.name, "revision": revision, "base": list(series.bases),
            "description": f"{series.title}, patches 1-{len(series.patches)} (written by the gate)"}
    (folder / SERIES_YAML).write_text(yaml.safe_dump(meta, sort_keys=False))
    return folder


def run_suite(cmd: list[str], results: Path, log: Path, what: str, leaves: str) -> Path:
    """Run one of the suite's commands (@cmd, with --results-dir @results)
    with its output in @log; the results folder it made, which must hold
    @leaves. 0 and 1 are verdicts; any other status (an infrastructure
    error, a usage error: vm/results/status.py) says nothing about the revision."""
    results.mkdir(parents=True, exist_ok=True)
    before = set(results.iterdir())
    with open(log, "w") as out:
        status = subprocess.run(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    made = sorted(set(results.iterdir()) - before)
    if status not in (0, 1) or not made or not (made[-1] / leaves).is_file():
        tail = "\n  ".join(log.read_text(errors="replace").strip().splitlines()[-12:])
        raise HarnessError(f"{what} ended with status {status} (log: {log}):\n  {tail}")
    return made[-1]


KSELFTEST_DIR = "tests/kselftest"


def selection(checks: list[str] | None) -> list[str]:
    """pytest's arguments for @checks (node ids; None or none: every guest
    check). A selftest program's id names a folder that does not exist
    (tests/kselftest/<target>::<program>): its folder is collected, with
    its target asked for (a prefix may not touch the files that choose it),
    and --only keeps the ids asked for."""
    if not checks:
        return ["tests/guest", KSELFTEST_DIR]
    selftests = [c for c in checks if c.startswith(KSELFTEST_DIR + "/")]
    if not selftests:
        return list(checks)
    targets = sorted({c[len(KSELFTEST_DIR) + 1:].split("::")[0] for c in selftests})
    paths = sorted({KSELFTEST_DIR if c in selftests else c.split("::")[0] for c in checks})
    return [*paths, *(arg for t in targets for arg in ("--kselftest", t)),
            *(arg for c in checks for arg in ("--only", c))]


def run(series_spec: str, kconfigs: list[str], kernel_tree: Path | None, results: Path,
        checks: list[str] | None, log: Path, progress: Progress,
        extra: tuple[str, ...] = ()) -> tuple[dict[str, Outcome], Path]:
    """pytest on @checks (node ids; None: every guest check). Returns the
    outcomes and the run's results folder."""
    cmd = [sys.executable, "-m", "pytest", *selection(checks),
           "--series", series_spec, "--results-dir", str(results), "-p", "no:cacheprovider",
           "-q", "-o", "junit_duration_report=call", *extra]
    for k in kconfigs:
        cmd += ["--kconfig", k]
    if kernel_tree is not None:
        cmd += ["--kernel-tree", str(kernel_tree)]
    progress(f"gate: guest run on {series_spec} "
             f"({'every check' if checks is None else f'{len(checks)} check(s)'}); log: {log}")
    folder = run_suite(cmd, results, log, f"guest run on {series_spec}", "junit.xml")
    outcomes = read_junit(folder / "junit.xml")
    if not outcomes:
        raise HarnessError(f"guest run on {series_spec}: no check ran (log: {log})")
    return outcomes, folder
