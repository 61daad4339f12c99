"""The base kernel's results: made once, kept in the cache.

The base is the same source without the series, configured with the same
fragments, its tests built against its own headers, run in the same place
by the same runner in a guest of the same size. A run with a series asks
for them before it builds its own kernel (the two share one build tree):
from the cache when they were made from the same base commit, config,
tests and guest; otherwise from a run of the suite itself on the base,
`pytest tests/kselftest --series none`, which writes them where this run
reads them. A warm rerun builds and boots nothing for the base.

Of several workers, one runs the base; the others wait until its kernel
is built and its tests installed (wait_for_base_build()), then build
their own in the shared tree while the base's guest runs from its copy
of the image.
"""

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vm.cache import Cache, held
from vm.errors import HarnessError
from vm.kselftest.outcome import ProgramOutcome, Result, Status
from vm.options import Options
from vm.paths import REPO_ROOT, digest
from vm.progress import Progress

RECORD_OPTION = "--kselftest-base-record"
TESTS_DIR = "tests/kselftest"


@dataclass(frozen=True)
class BaseResults:
    install: Path  # the tests, as built for the base: the revision runs the same
    outcomes: dict[str, ProgramOutcome]  # "target:program" -> what it printed
    run: str  # the base run's results folder


def key(base_commit: str, config_key: str, tests_key: str, options: Options) -> str:
    """What the base's results are made of; the guest's size changes timings."""
    return digest(base_commit, config_key, tests_key, options.guest_memory,
                  str(options.guest_cpus))


def record_path(cache: Cache, results_key: str) -> Path:
    return cache.root / "kselftest" / f"base-{results_key}.json"


def lock_path(record: Path) -> Path:
    return record.with_suffix(".lock")


def built_marker(record: Path) -> Path:
    """Written by the base's run once its kernel is built and its tests are
    installed: from then on it needs nothing of the shared build tree."""
    return record.with_suffix(".built")


def wait_for_base_build(record: Path, progress: Progress, poll: float = 1.0) -> bool:
    """True once another run of the base has built it (this run may build in
    the shared tree now and read the results later); False when no run of
    the base is under way (this run takes the lock and reads or makes them)."""
    said = False
    while held(lock_path(record)):
        if built_marker(record).is_file():
            return True
        if not said:
            progress("kselftest: another run is making the base kernel's results; "
                     "building this run's kernel once the base is built")
            said = True
        time.sleep(poll)
    return False


def save(path: Path, install: Path, outcomes: dict[str, ProgramOutcome], run: Path) -> None:
    data = {"install": str(install), "run": str(run),
            "outcomes": {name: asdict(o) for name, o in outcomes.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def _outcome(data: dict) -> ProgramOutcome:  # type: ignore[type-arg]
    results = tuple(Result(r["number"], r["name"], Status(r["status"]), r["reason"])
                    for r in data["results"])
    return ProgramOutcome(Status(data["status"]), data["detail"], results, data["output"])


def load(path: Path) -> BaseResults | None:
    """The results at @path, if they and the tests they ran are still there."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    install = Path(data["install"])
    if not install.is_dir():
        return None
    return BaseResults(install, {n: _outcome(o) for n, o in data["outcomes"].items()},
                       data["run"])


def run(record: Path, targets: tuple[str, ...], options: Options, results: Path, log: Path,
        progress: Progress) -> BaseResults:
    """The suite on the base kernel, writing its results to @record."""
    cmd = [sys.executable, "-m", "pytest", TESTS_DIR, "--series", "none", RECORD_OPTION,
           str(record), "--results-dir", str(results), "-p", "no:cacheprovider", "-q",
           "--accel", options.accel, "--guest-memory", options.guest_memory,
           "--guest-cpus", str(options.guest_cpus), "--check-timeout", str(options.check_timeout)]
    for target in targets:
        cmd += ["--kselftest", target]
    for fragment in options.kconfigs:
        cmd += ["--kconfig", fragment]
    if options.kernel_tree is not None:
        cmd += ["--kernel-tree", str(options.kernel_tree)]
    progress(f"kselftest: the base kernel's results are not cached: building and running the "
             f"base (no series, same config); log: {log}")
    results.mkdir(parents=True, exist_ok=True)
    # One left by a run that was killed would let a worker build too early.
    built_marker(record).unlink(missing_ok=True)
    try:
        with open(log, "w") as out:
            status = subprocess.run(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL).returncode
    finally:
        built_marker(record).unlink(missing_ok=True)
    found = load(record)
    if found is None:
        tail = "\n  ".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise HarnessError(f"the base kernel's kselftest run (status {status}) left no "
                           f"results in {record} (log: {log}):\n  {tail}")
    return found
