"""results.ktap: one nested KTAP v1 stream, suite -> program -> test, a
failure's report as diagnostic lines; saved per run, printed with --ktap."""

from pathlib import Path

from vm.guest import ktap
from vm.results.ktap import render
from vm.results.records import CheckResult, Status

from ..pytest_run import RUNS, run_folder, run_pytest

SPLAT = "guest: kernel report\nOops: general protection fault\nCPU: 0 PID: 42 Comm: sh"


def result(program: str, test: str, status: Status, log: str = "") -> CheckResult:
    return CheckResult(program, test, status, 0.5, log, f"tests/guest/{program}.c::{test}")


def test_nesting_and_verdicts() -> None:
    text = render([
        result("pidfd", "global.b", Status.FAIL, SPLAT),
        result("abi_create", "global.a", Status.PASS),
        result("pidfd", "global.a", Status.SKIP, "ENOSYS: no spawn templates"),
    ])
    assert text.splitlines() == [
        "KTAP version 1",
        "1..1",
        "    KTAP version 1",
        "    # Subtest: spawn_template",
        "    1..2",
        "        KTAP version 1",
        "        # Subtest: abi_create",
        "        1..1",
        "        ok 1 global.a",
        "    # abi_create: pass:1",
        "    ok 1 abi_create",
        "        KTAP version 1",
        "        # Subtest: pidfd",
        "        1..2",
        "        ok 1 global.a # SKIP ENOSYS: no spawn templates",
        "        # global.b: FAIL",
        "        # guest: kernel report",
        "        # Oops: general protection fault",
        "        # CPU: 0 PID: 42 Comm: sh",
        "        not ok 2 global.b",
        "    # pidfd: fail:1 skip:1",
        "    not ok 2 pidfd",
        "not ok 1 spawn_template",
    ]
    # The top level reads as plain KTAP too: the suite as one result.
    (top,) = ktap.parse_result_lines(text)
    assert (top.name, top.status) == ("spawn_template", ktap.Status.FAIL)


def test_a_check_that_never_ran_is_not_ok_and_says_why() -> None:
    text = render([result("smoke", "global.x", Status.MISS, "GuestError: vng did not start")])
    assert "        # global.x: MISS\n        # GuestError: vng did not start\n" in text
    assert text.endswith("    not ok 1 smoke\nnot ok 1 spawn_template\n")


def test_a_run_saves_and_prints_its_stream(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, str(RUNS / "test_outcomes.py"), "--ktap", OUTCOME="fail")
    saved = (run_folder(tmp_path) / "results.ktap").read_text()
    assert "        # E       AssertionError: a check failed" in saved
    assert "        not ok 1 test_outcome" in saved
    assert saved in proc.stdout
