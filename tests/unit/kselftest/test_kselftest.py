"""vm/kselftest: reading what a selftest program printed, judging it
against the base kernel's run, and choosing the targets of a series."""

import fcntl
import threading
from dataclasses import replace
from pathlib import Path

from vm.kernel.series import NO_SERIES, Patch, Series
from vm.kselftest import base, judge, outcome, targets
from vm.kselftest.outcome import ProgramOutcome, Result, Status

DATA = Path(__file__).parents[1] / "data" / "kselftest"


def read(name: str, target: str, program: str) -> ProgramOutcome:
    return outcome.parse((DATA / name).read_text(), target, program)


def test_a_passing_program_recorded_in_a_guest() -> None:
    found = read("null-argv.out", "exec", "null-argv")
    assert found.status is Status.PASS
    assert [r.number for r in found.results] == [1, 2, 3, 4, 5]
    assert found.results[1] == Result(2, "execve(argv[0], NULL, NULL)", Status.PASS)


def test_results_of_a_failing_program_with_a_skip() -> None:
    found = read("non-regular.out", "exec", "non-regular")
    assert (found.status, found.detail) == (Status.FAIL, "exit=1")
    assert found.result(5) == Result(5, "file.S_IFIFO.exec_errno", Status.SKIP, "no FIFOs here")
    assert found.result(6) == Result(6, "sock.exec_errno", Status.FAIL)
    assert "non-regular.c:178" in found.output


def test_a_timeout_and_a_missing_runner_line() -> None:
    found = read("pidfd_poll_test-timeout.out", "pidfd", "pidfd_poll_test")
    assert (found.status, found.detail) == (Status.TIMEOUT, "TIMEOUT 45 seconds")
    assert found.results == ()
    # Another program's line is not this one's.
    assert read("null-argv.out", "exec", "execveat").status is Status.FAIL


def test_a_kselftest_skip_without_a_name() -> None:
    assert outcome.parse_results(["ok 3 # SKIP no /dev/kvm"]) == (
        Result(3, "no /dev/kvm", Status.SKIP, "no /dev/kvm"),)


def program(*results: Result, status: Status = Status.PASS) -> ProgramOutcome:
    return ProgramOutcome(status, "", results, "base output")


OK1, OK2 = Result(1, "one", Status.PASS), Result(2, "two", Status.PASS)
BAD2 = Result(2, "two", Status.FAIL)


def test_passing_on_both_is_passed() -> None:
    assert judge.judge("exec/x", program(OK1, OK2), program(OK1, OK2)).verdict is \
        judge.Verdict.PASSED


def test_failing_where_the_base_passes_is_a_regression_naming_both() -> None:
    found = judge.judge("exec/x", program(OK1, BAD2, status=Status.FAIL), program(OK1, OK2))
    assert found.verdict is judge.Verdict.REGRESSED
    assert "not ok 2 two    (base: ok 2 two)" in found.message
    assert "base output" in found.message


def test_failing_on_both_does_not_gate() -> None:
    both = program(OK1, BAD2, status=Status.FAIL)
    found = judge.judge("exec/x", both, both)
    assert found.verdict is judge.Verdict.BASE_FAILS_TOO
    assert "fails on the base kernel too" in found.message


def test_a_skip_where_the_base_passed_is_a_regression() -> None:
    now = program(OK1, Result(2, "two", Status.SKIP, "gone"))
    assert judge.judge("exec/x", now, program(OK1, OK2)).verdict is judge.Verdict.REGRESSED
    assert judge.judge("exec/x", now, program(OK1)).verdict is judge.Verdict.PASSED


def test_the_programs_own_line_when_no_result_explains_it() -> None:
    timeout = program(status=Status.TIMEOUT)
    assert judge.judge("p/t", timeout, timeout).verdict is judge.Verdict.BASE_FAILS_TOO
    assert judge.judge("p/t", timeout, program()).verdict is judge.Verdict.REGRESSED
    assert judge.judge("p/t", program(OK1, status=Status.FAIL), program(OK1)).verdict is \
        judge.Verdict.REGRESSED


def test_a_program_that_stopped_early_names_the_base_result_it_never_reached() -> None:
    # execveat's exec that should fail with ELOOP succeeded: the program was
    # replaced mid-run and exited 99 after result 1.
    now = ProgramOutcome(Status.FAIL, "exit=99", (OK1,), "")
    found = judge.judge("exec/execveat", now, program(OK1, OK2))
    assert found.verdict is judge.Verdict.REGRESSED
    assert "exec/execveat: not ok (exit=99)    (base: ok)" in found.message
    assert "first result missing: 2 (1 of the base's 2 missing)    (base: ok 2 two)" in \
        found.message


def test_a_program_the_base_never_ran_gates_when_it_fails() -> None:
    assert judge.judge("e/x", program(BAD2, status=Status.FAIL), judge.NOT_RUN).verdict is \
        judge.Verdict.REGRESSED
    assert judge.judge("e/x", program(OK1), judge.NOT_RUN).verdict is judge.Verdict.PASSED


def diff_touching(*paths: str) -> Series:
    text = "".join(f"diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n" for p in paths)
    return replace(NO_SERIES, name="s", patches=(Patch("0001.patch", text),))


def test_targets_follow_the_files_a_series_touches() -> None:
    assert targets.for_series(diff_touching("fs/exec.c", "fs/spawn_template.c")) == ("exec",)
    assert targets.for_series(diff_touching("fs/binfmt_elf.c")) == ("exec",)
    assert targets.for_series(diff_touching("kernel/fork.c")) == ("clone3", "pidfd")
    assert targets.for_series(diff_touching("mm/mmap.c")) == ()
    assert targets.for_series(NO_SERIES) == ()


def test_kselftest_adds_targets_and_none_runs_none() -> None:
    series = diff_touching("fs/exec.c")
    assert targets.chosen(series, ["pidfd"]) == ("exec", "pidfd")
    assert targets.chosen(series, ["exec"]) == ("exec",)
    assert targets.chosen(series, ["none"]) == ()


def test_the_bundled_series_guards_exec() -> None:
    from vm.kernel.series import load_dir
    from vm.paths import PATCHES_DIR
    for rev in ("v2", "v3"):
        assert targets.for_series(load_dir(PATCHES_DIR / "spawn-template" / rev)) == ("exec",)


def test_a_worker_builds_once_the_base_is_built_elsewhere(tmp_path: Path) -> None:
    # Of several workers, one runs the base; another may build in the shared
    # tree once the base's kernel is built (vm/suite.py), not before.
    record = tmp_path / "kselftest" / "base-k.json"
    said: list[str] = []
    assert not base.wait_for_base_build(record, said.append)  # nobody runs it
    with open(base.lock_path(record), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = threading.Timer(0.3, base.built_marker(record).write_text, ("st-x\n",))
        done.start()
        assert base.wait_for_base_build(record, said.append, poll=0.05)
        done.join()
    assert len(said) == 1 and "another run" in said[0]


def test_a_base_run_that_ends_unbuilt_is_not_waited_for(tmp_path: Path) -> None:
    # Its build failed: the lock is released with no marker; the worker then
    # takes the lock itself (and reads or makes the results).
    record = tmp_path / "kselftest" / "base-k.json"
    record.parent.mkdir(parents=True)
    with open(base.lock_path(record), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        release = threading.Timer(0.2, fcntl.flock, (held, fcntl.LOCK_UN))
        release.start()
        assert not base.wait_for_base_build(record, lambda _: None, poll=0.05)
        release.join()
    assert not base.built_marker(record).exists()
