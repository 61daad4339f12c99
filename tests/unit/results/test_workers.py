"""-n N (pytest-xdist): one Suite per worker, each in its own folder, merged
by the controller into what a run without workers gives; -n auto sizes N
from the host's CPUs and memory."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vm.guest import workers
from vm.results import records
from vm.results.status import ExitStatus

from ..pytest_run import RUNS, run_folder, run_pytest
from .test_exit_status import needs_build_tools, series_that_does_not_apply

MANY = str(RUNS / "test_many.py")


@pytest.mark.parametrize("size, mib", [("1G", 1024), ("512M", 512), ("2048", 2048),
                                       ("1GiB", 1024), ("4096k", 4)])
def test_sizes_read_as_qemu_reads_them(size: str, mib: int) -> None:
    assert workers.size_mib(size) == mib


def test_a_bad_size_is_refused() -> None:
    with pytest.raises(ValueError, match="not a memory size"):
        workers.size_mib("lots")


@pytest.mark.parametrize("cpus, free_mib, expected", [
    (2, 24000, 2),    # this machine: CPU-bound
    (16, 3000, 2),    # memory-bound: 1 GiB guests plus QEMU's own
    (4, 500, 1),      # never none
])
def test_auto_count_is_cpus_capped_by_memory(cpus: int, free_mib: int, expected: int) -> None:
    assert workers.auto_count(cpus, free_mib, "1G") == expected


def test_available_memory_is_memavailable(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 24000000 kB\nMemFree: 100 kB\nMemAvailable: 2097152 kB\n")
    assert workers.available_mib(meminfo) == 2048


def outcomes(run_dir: Path) -> dict[str, str]:
    return {r.nodeid: r.status.value for r in records.load(run_dir / records.CHECKS_FILE)}


def test_workers_results_merge_into_what_one_process_gives(tmp_path: Path) -> None:
    single = run_pytest(tmp_path / "single", MANY)
    parallel = run_pytest(tmp_path / "parallel", MANY, "-n", "2")
    assert single.returncode == parallel.returncode == ExitStatus.FAILED, parallel.stdout
    one, two = run_folder(tmp_path / "single"), run_folder(tmp_path / "parallel")
    assert sorted(p.name for p in (two / "workers").iterdir()) == ["gw0", "gw1"]
    # Check by check the same verdicts, in checks.json, KTAP and KCIDB.
    assert outcomes(two) == outcomes(one) and len(outcomes(two)) == 12
    assert (two / "results.ktap").read_text() == (one / "results.ktap").read_text()
    tests = {t["path"]: t["status"] for t in json.loads((two / "kcidb.json").read_text())["tests"]}
    assert tests == {t["path"]: t["status"]
                     for t in json.loads((one / "kcidb.json").read_text())["tests"]}
    summary = json.loads((two / "summary.json").read_text())
    assert summary["totals"] == {"passed": 9, "failed": 2, "skipped": 1}
    assert summary["workers"] == 2 and summary["exit_status"] == ExitStatus.FAILED
    suite = next(ET.parse(two / "junit.xml").getroot().iter("testsuite"))
    assert (suite.get("tests"), suite.get("failures")) == ("12", "2")
    assert "spawn-template summary" in parallel.stdout and str(two) in parallel.stdout


def test_what_a_worker_met_decides_the_runs_status(mini_git_tree: Path,
                                                   tmp_path: Path) -> None:
    # A series that does not apply, met by a worker: 10 as in one process,
    # not the 1 of pytest's own count of failed tests.
    needs_build_tools()
    patches = series_that_does_not_apply(mini_git_tree, tmp_path / "series")
    proc = run_pytest(tmp_path, str(RUNS / "test_outcomes.py"), f"--kernel-tree={mini_git_tree}",
                      f"--series={patches}", "-n", "2", OUTCOME="kernel")
    assert proc.returncode == ExitStatus.REVISION_BROKEN, proc.stdout + proc.stderr
    summary = json.loads((run_folder(tmp_path) / "summary.json").read_text())
    assert summary["exit_status"] == ExitStatus.REVISION_BROKEN
    assert str(summary["exit_reason"]).startswith("SeriesError")


@pytest.mark.parametrize("host, count, expected", [(2, 2, 1), (2, 1, 2), (8, 2, 2), (4, 3, 1)])
def test_guests_share_the_hosts_cpus(host: int, count: int, expected: int) -> None:
    assert workers.guest_cpus(host, count, 2) == expected
