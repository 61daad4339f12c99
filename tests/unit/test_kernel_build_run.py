"""A run on a developer's build (--kernel-build) with a fake guest: the
kernel that boots must be that build (its whole version string), the checks
its .config cannot serve are skipped with the reason, and the results say
what was booted: the folder, the version string, the .config's hash."""

import json
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.guest.runner import Verdict
from vm.guest.vng import CommandResult, Guest, GuestSpec
from vm.kernel import devbuild
from vm.kernel.identity import StaleKernelError
from vm.options import Options
from vm.results.merge import merge_summary
from vm.results.summary import new_run_dir
from vm.suite import Suite

from .kernel.test_devbuild import FRAGMENT, built_in, kernel_tree
from .kernel.test_identity import DEV_BANNER
from .test_suite_orchestration import FakeGuest


class DevGuest(FakeGuest):
    """A fake guest whose /proc/version is a developer's build's."""

    def run(self, command: str, timeout: float = 60.0) -> CommandResult:
        if command == "cat /proc/version":
            self.commands.append(command)
            return CommandResult(0, DEV_BANNER.format(self.booted), 0.01)
        return super().run(command, timeout)


def dev_suite(tmp_path: Path, booted: int) -> tuple[Suite, list[DevGuest], Path]:
    folder = built_in(kernel_tree(tmp_path))  # build 3
    fragment = tmp_path / "need.config"
    fragment.write_text(FRAGMENT)
    guests: list[DevGuest] = []

    def new_guest(spec: GuestSpec) -> Guest:
        guests.append(DevGuest(spec, len(guests) + 1, str(booted)))
        return guests[-1]

    options = Options(kernel_build=folder, kconfigs=(str(fragment),), accel="tcg")
    suite = Suite(options, new_run_dir(tmp_path / "results"), lambda _: None,
                  cache=Cache(tmp_path / "cache"), new_guest=new_guest)
    return suite, guests, folder


def test_the_developers_build_boots_and_what_it_lacks_is_skipped(tmp_path: Path) -> None:
    suite, guests, folder = dev_suite(tmp_path, booted=3)
    skipped = suite.run_check(Path("/checks/audit"), "exec_rule.path.exe")
    assert skipped.verdict is Verdict.SKIPPED and "CONFIG_AUDIT=y" in skipped.message
    assert suite.run_check(Path("/checks/smoke"), "global.create_and_spawn_true").verdict is (
        Verdict.PASSED)
    (guest,) = guests
    # The skipped check never ran; the kernel was checked before the one that did.
    assert guest.commands[0] == "cat /proc/version" and len(guest.commands) == 2
    suite.finish(0)
    summary = json.loads((suite.run_dir / "summary.json").read_text())
    version = DEV_BANNER.format(3).strip()
    assert summary["build"] == summary["booted"] and summary["build"].startswith("dev-")
    assert summary["provenance"]["how"] == devbuild.HOW
    assert summary["provenance"]["version_string"] == version
    assert summary["provenance"]["kernel_source"] == str(folder)
    assert summary["kernel_build"]["missing for checks (skipped)"][0].startswith("CONFIG_AUDIT=y")
    assert summary["kselftest"]["targets"] == devbuild.NO_KSELFTEST
    assert (suite.run_dir / "kernel.config").read_text() == (folder / ".config").read_text()
    build = json.loads((suite.run_dir / "kcidb.json").read_text())["builds"][0]
    assert build["misc"]["version_string"] == version
    assert build["misc"]["config_hash"] == summary["provenance"]["config_hash"]
    assert "CONFIG_AUDIT=y" in (suite.run_dir / "summary.md").read_text()


def test_another_kernel_booted_is_refused_naming_both(tmp_path: Path) -> None:
    suite, guests, _ = dev_suite(tmp_path, booted=4)
    with pytest.raises(StaleKernelError) as e:
        suite.run_check(Path("/checks/smoke"), "global.create_and_spawn_true")
    assert "#4 SMP" in str(e.value) and "#3 SMP" in str(e.value)
    with pytest.raises(StaleKernelError):
        suite.run_command("true")
    assert len(guests) == 1 and not guests[0].alive


def test_workers_merged_keep_what_the_build_lacks(tmp_path: Path) -> None:
    # With -n N each worker compares the same .config; the merged summary says it once.
    suite, _, _ = dev_suite(tmp_path, booted=3)
    suite.run_check(Path("/checks/smoke"), "global.create_and_spawn_true")
    suite.finish(0)
    part = json.loads((suite.run_dir / "summary.json").read_text())
    merged, data = merge_summary([part, part], "workers")
    assert data["kernel_build"] == part["kernel_build"]
    assert "CONFIG_AUDIT=y" in merged.to_markdown()
    assert data["provenance"]["version_string"] == DEV_BANNER.format(3).strip()
