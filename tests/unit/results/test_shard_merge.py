"""--shard I/N splits the selected tests deterministically (balanced by a
junit's durations when given); vm.merge joins the shards' junit, KTAP,
KCIDB and summary into what an unsharded run gives."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vm.errors import UsageError
from vm.results import merge, shard
from vm.results.status import ExitStatus

from ..pytest_run import RUNS, run_folder, run_pytest

MANY = str(RUNS / "test_many.py")


def test_split_is_a_partition_and_does_not_depend_on_order() -> None:
    ids = [f"t.py::test_{i}" for i in range(11)]
    parts = shard.split(ids, 3)
    assert sorted(n for part in parts for n in part) == sorted(ids)
    assert [len(p) for p in parts] == [4, 4, 3]
    assert shard.split(list(reversed(ids)), 3) == parts


def test_split_balances_by_durations() -> None:
    ids = ["t.py::a", "t.py::b", "t.py::c", "t.py::d", "t.py::new"]
    seconds = {"t.a": 10.0, "t.b": 6.0, "t.c": 4.0, "t.d": 1.0}
    parts = shard.split(ids, 2, seconds)
    # Longest first onto the least loaded; the unknown one counts 5.25 (the mean).
    assert parts == [["t.py::a", "t.py::c"], ["t.py::b", "t.py::new", "t.py::d"]]


def test_junit_durations_are_keyed_as_pytest_names_tests(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite><testcase classname="tests.guest.pidfd.c" '
                     'name="global.poll" time="2.5"/></testsuite></testsuites>')
    assert shard.durations(junit) == {"tests.guest.pidfd.c.global.poll": 2.5}
    assert shard.junit_key("tests/guest/pidfd.c::global.poll") in shard.durations(junit)


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1", "a/b"])
def test_a_bad_shard_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match=f"--shard {spec}:"):
        shard.parse(spec)


def run(tmp_path: Path, name: str, *args: str) -> Path:
    where = tmp_path / name
    proc = run_pytest(where, MANY, *args)
    assert proc.returncode in (ExitStatus.OK, ExitStatus.FAILED), proc.stdout + proc.stderr
    return run_folder(where)


def totals(junit: Path) -> dict[str, str]:
    suite = next(ET.parse(junit).getroot().iter("testsuite"))
    return {k: suite.get(k, "") for k in ("tests", "failures", "errors", "skipped")}


def test_two_shards_merged_give_the_unsharded_totals(tmp_path: Path) -> None:
    whole = run(tmp_path, "whole")
    first = run(tmp_path, "one", "--shard", "1/2", f"--shard-durations={whole / 'junit.xml'}")
    second = run(tmp_path, "two", "--shard", "2/2", f"--shard-durations={whole / 'junit.xml'}")
    out = tmp_path / "merged"
    assert merge.main([str(out), str(first), str(second)]) == ExitStatus.FAILED
    assert totals(out / "junit.xml") == totals(whole / "junit.xml") == {
        "tests": "12", "failures": "2", "errors": "0", "skipped": "1"}
    merged, unsharded = (json.loads((d / "summary.json").read_text()) for d in (out, whole))
    assert merged["totals"] == unsharded["totals"] and merged["shards"] == 2
    assert (out / "results.ktap").read_text() == (whole / "results.ktap").read_text()
    kcidb = json.loads((out / "kcidb.json").read_text())
    whole_kcidb = json.loads((whole / "kcidb.json").read_text())
    assert [(t["path"], t["status"]) for t in kcidb["tests"]] == [
        (t["path"], t["status"]) for t in whole_kcidb["tests"]]
    kcidb_io = pytest.importorskip("kcidb_io")
    kcidb_io.schema.V5_3.validate_exactly(kcidb)
    # Parts of one run only: the same shard twice is refused.
    assert merge.main([str(tmp_path / "bad"), str(first), str(first)]) == ExitStatus.USAGE


def test_tests_of_no_measurable_time_still_spread() -> None:
    ids = [f"t.py::{c}" for c in "abcd"]
    parts = shard.split(ids, 2, {f"t.{c}": 0.0 for c in "abcd"})
    assert [len(p) for p in parts] == [2, 2]
