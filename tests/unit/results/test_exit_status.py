"""Each exit status of vm/results/status.py, produced by forcing its cause through
the suite's own conftest: a failing test, a series that does not apply to a
tiny fake tree, a tree that does not configure, a missing tool, a bad option."""

import json
from pathlib import Path

import pytest

from vm import preflight
from vm.errors import BuildError, ConfigError, GuestError, HarnessError, SeriesError, UsageError
from vm.guest.vng import GuestCrashed
from vm.kernel.identity import StaleKernelError
from vm.paths import REPO_ROOT
from vm.results import routing
from vm.results.status import ExitStatus

from ..conftest import git
from ..pytest_run import RUNS, run_folder, run_pytest
from ..test_suite_orchestration import Harness

OUTCOMES = str(RUNS / "test_outcomes.py")


def summary(tmp_path: Path) -> dict[str, object]:
    data = json.loads((run_folder(tmp_path) / "summary.json").read_text())
    assert isinstance(data, dict)
    return data


def needs_build_tools() -> None:
    try:
        preflight.require(preflight.BUILD_TOOLS, "run this test")
    except HarnessError as e:
        pytest.skip(str(e))


def series_that_does_not_apply(tree: Path, out: Path) -> Path:
    """A patch made on top of a commit the tree does not have."""
    exec_c = tree / "fs" / "exec.c"
    exec_c.write_text(exec_c.read_text().replace("line 5\n", "elsewhere\n"))
    git(tree, "commit", "-qam", "not in the tree")
    exec_c.write_text(exec_c.read_text().replace("elsewhere\n", "changed again\n"))
    git(tree, "commit", "-qam", "exec: a change on top of it")
    git(tree, "format-patch", "-q", "-1", "-o", str(out))
    git(tree, "reset", "-q", "--hard", "HEAD~2")
    return out


def test_all_passed_is_0(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, OUTCOMES)
    assert proc.returncode == ExitStatus.OK, proc.stdout
    assert summary(tmp_path)["exit_status"] == 0


def test_a_failed_check_is_1(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, OUTCOMES, OUTCOME="fail")
    assert proc.returncode == ExitStatus.FAILED, proc.stdout
    assert summary(tmp_path)["exit_meaning"] == "failed"


def test_a_series_that_does_not_apply_is_10(mini_git_tree: Path, tmp_path: Path) -> None:
    needs_build_tools()
    patches = series_that_does_not_apply(mini_git_tree, tmp_path / "series")
    proc = run_pytest(tmp_path, OUTCOMES, f"--kernel-tree={mini_git_tree}",
                      f"--series={patches}", OUTCOME="kernel")
    assert proc.returncode == ExitStatus.REVISION_BROKEN, proc.stdout + proc.stderr
    data = summary(tmp_path)
    assert str(data["exit_reason"]).startswith("SeriesError")
    assert "Exit status 10 (revision broken): SeriesError" in proc.stdout


def test_a_kernel_that_does_not_configure_is_10(mini_git_tree: Path, tmp_path: Path) -> None:
    needs_build_tools()
    # The tiny tree's Makefile has no rules: `make tinyconfig` fails.
    proc = run_pytest(tmp_path, OUTCOMES, f"--kernel-tree={mini_git_tree}", "--series=none",
                      OUTCOME="kernel")
    assert proc.returncode == ExitStatus.REVISION_BROKEN, proc.stdout + proc.stderr
    assert str(summary(tmp_path)["exit_reason"]).startswith("ConfigError")


def test_a_missing_tool_is_11(mini_git_tree: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = run_pytest(tmp_path, OUTCOMES, f"--kernel-tree={mini_git_tree}", "--series=none",
                      OUTCOME="kernel", PATH=str(empty))
    assert proc.returncode == ExitStatus.INFRASTRUCTURE, proc.stdout + proc.stderr
    assert "missing tools to build the kernel" in str(summary(tmp_path)["exit_reason"])


def test_a_bad_option_is_4(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, OUTCOMES, "--kconfig=no-such-fragment")
    assert proc.returncode == ExitStatus.USAGE


def test_a_kernel_that_panics_while_booting_is_1(tmp_path: Path) -> None:
    """The series broke boot: the revision is bad, not the runner."""
    h = Harness(tmp_path, boots=False)
    with pytest.raises(GuestError) as e:
        h.suite.guest()
    # Noted by the tests it fails (conftest.py), not by the suite: a
    # harness test that expects a refused boot must not fail the run.
    assert routing.cause(e.value) is ExitStatus.FAILED
    assert not h.suite.causes


@pytest.mark.parametrize("error, status", [
    (SeriesError("patch 3 does not apply"), ExitStatus.REVISION_BROKEN),
    (BuildError("kernel build failed"), ExitStatus.REVISION_BROKEN),
    (ConfigError("CONFIG_X did not survive"), ExitStatus.REVISION_BROKEN),
    (GuestCrashed("guest boot failed: vng exited", "Linux version 6.12\nKernel panic - not "
                  "syncing: VFS"), ExitStatus.FAILED),
    (GuestCrashed("guest boot failed: vng exited", "qemu: could not open /dev/kvm"),
     ExitStatus.INFRASTRUCTURE),
    (StaleKernelError("not the kernel that was built"), ExitStatus.INFRASTRUCTURE),
    (HarnessError("missing tools to boot the guest: vng"), ExitStatus.INFRASTRUCTURE),
    (UsageError("--series x: no such directory"), ExitStatus.USAGE),
    (AssertionError("a check failed"), ExitStatus.FAILED),
])
def test_each_error_stands_for_one_status(error: BaseException, status: ExitStatus) -> None:
    assert routing.cause(error) is status


def test_the_cause_that_says_most_about_the_revision_wins() -> None:
    every = [ExitStatus.INFRASTRUCTURE, ExitStatus.FAILED, ExitStatus.REVISION_BROKEN]
    assert routing.final(1, every) == ExitStatus.REVISION_BROKEN
    assert routing.final(1, every[:2]) == ExitStatus.FAILED
    assert routing.final(1, every[:1]) == ExitStatus.INFRASTRUCTURE
    assert routing.final(2, every[:1]) == ExitStatus.INFRASTRUCTURE  # collection errors
    assert routing.final(2, every, interrupted=True) == ExitStatus.INTERRUPTED
    assert routing.final(4, every) == ExitStatus.USAGE
    assert routing.final(0, []) == ExitStatus.OK
    assert routing.final(5, []) == ExitStatus.NO_TESTS


def test_statuses_are_distinct_and_documented() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert len({s.value for s in ExitStatus}) == len(ExitStatus)
    for status in ExitStatus:
        assert f"| {status.value} |" in readme, f"README: no row for exit status {status}"
