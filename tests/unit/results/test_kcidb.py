"""kcidb.json: a KCIDB v5 document per run, validated with kcidb-io (the
schema's own package, a test dependency: requirements-test.txt)."""

import json
from pathlib import Path
from typing import Any

import pytest

from vm.kernel import series
from vm.results import kcidb
from vm.results.records import CheckResult, Status
from vm.results.status import ExitStatus

from ..pytest_run import RUNS, run_folder, run_pytest
from ..test_usage import V1, record_of

kcidb_io = pytest.importorskip("kcidb_io")


def validate(doc: dict[str, Any]) -> None:
    kcidb_io.schema.V5_3.validate_exactly(doc)
    assert doc["version"]["major"] == 5


RESULTS = [
    CheckResult("abi_create", "global.create_ok", Status.PASS, 0.25, "", "n1"),
    CheckResult("pidfd", "global.poll", Status.FAIL, 1.5, "Oops: general protection fault\n" * 2000,
                "n2"),
    CheckResult("creds", "setid.variant.x", Status.SKIP, 0.0, "ENOSYS", "n3"),
    CheckResult("smoke", "global.y", Status.MISS, 0.0, "GuestError: vng did not start", "n4"),
    CheckResult("guest_health", "test_report[WARNING-WARNING]", Status.ERROR, 0.1, "KeyError",
                "n5"),
]


def test_a_run_on_a_build_has_its_checkout_build_and_tests() -> None:
    v1 = series.load(str(V1))
    record = record_of(v1, ("debug",))
    doc = kcidb.document(record, v1, {"accelerator": "tcg", "config_hash": "c0ffee"},
                         RESULTS, {ExitStatus.FAILED: "CheckFailed: ..."})
    validate(doc)
    (checkout,) = doc["checkouts"]
    assert checkout["patchset_hash"] == v1.patchset_hash and checkout["valid"] is True
    (build,) = doc["builds"]
    assert build["status"] == "PASS" and build["checkout_id"] == checkout["id"]
    assert build["config_name"].endswith("+debug") and build["misc"]["config_hash"] == "c0ffee"
    assert build["id"] == f"spawn_template:{record.identity}"
    tests = {t["path"]: t for t in doc["tests"]}
    assert sorted(t["status"] for t in tests.values()) == sorted(s.value for s in Status)
    failed = tests["spawn_template.pidfd.global.poll"]
    assert failed["duration"] == 1.5 and len(failed["log_excerpt"]) == kcidb.LOG_EXCERPT_MAX
    # A name KCIDB's path does not allow is made to fit.
    assert "spawn_template.guest_health.test_report_WARNING-WARNING_" in tests


def test_a_series_that_does_not_apply_is_an_invalid_checkout() -> None:
    v1 = series.load(str(V1))
    doc = kcidb.document(None, v1, {}, [], {ExitStatus.REVISION_BROKEN:
                                            "SeriesError: patch 3 does not apply"})
    validate(doc)
    assert doc["checkouts"][0]["valid"] is False
    assert "does not apply" in doc["checkouts"][0]["log_excerpt"]
    assert doc["builds"] == [] and doc["tests"] == []


def test_a_kernel_that_does_not_build_is_a_failed_build() -> None:
    doc = kcidb.document(None, series.NO_SERIES, {}, [], {ExitStatus.REVISION_BROKEN:
                                                          "BuildError: make failed"})
    validate(doc)
    assert doc["builds"][0]["status"] == "FAIL"
    assert doc["builds"][0]["log_excerpt"] == "BuildError: make failed"


def test_every_run_writes_a_valid_document(tmp_path: Path) -> None:
    run_pytest(tmp_path, str(RUNS / "test_outcomes.py"), OUTCOME="fail")
    doc = json.loads((run_folder(tmp_path) / "kcidb.json").read_text())
    validate(doc)
    (test,) = doc["tests"]
    assert test["path"] == "spawn_template.outcomes.test_outcome" and test["status"] == "FAIL"
