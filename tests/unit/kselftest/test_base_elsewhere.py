"""A worker that built while another ran the base kernel's selftests
reads their results later, and never runs the base itself: that would
build the base in the tree the other workers' series build shares."""

from pathlib import Path

import pytest

from vm.cache import Cache
from vm.errors import HarnessError
from vm.kselftest import base
from vm.kselftest.outcome import ProgramOutcome, Status
from vm.options import Options
from vm.progress import silent
from vm.results.summary import new_run_dir
from vm.suite import Suite


def deferred_suite(tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch) -> Suite:
    def no_second_run(*args: object) -> base.BaseResults:
        raise AssertionError("the base was run again by the worker that deferred it")

    monkeypatch.setattr(base, "run", no_second_run)
    suite = Suite(Options(accel="tcg"), new_run_dir(tmp_path / "results"), silent, cache=cache)
    suite._base_record = base.record_path(cache, "k")
    return suite


def test_the_other_workers_results_are_read(
        tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = deferred_suite(tmp_path, cache, monkeypatch)
    install = tmp_path / "install"
    install.mkdir()
    made = ProgramOutcome(Status.PASS, "", (), "ok 1\n")
    assert suite._base_record is not None
    base.save(suite._base_record, install, {"exec:execveat": made}, tmp_path / "gw0-base")
    found = suite.kselftest_base_results()
    assert found.outcomes["exec:execveat"] == made
    assert suite.summary.kselftest["base"] == f"run by another worker: {tmp_path / 'gw0-base'}"


def test_a_base_run_that_left_nothing_fails_the_selftests_only(
        tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its guest did not boot after its build: no results, and no rerun here.
    suite = deferred_suite(tmp_path, cache, monkeypatch)
    with pytest.raises(HarnessError, match="run by another worker left no results"):
        suite.kselftest_base_results()
    with pytest.raises(HarnessError):  # remembered, not retried
        suite.kselftest_base_results()
