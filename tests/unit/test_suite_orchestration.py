"""The run's orchestration (vm/suite.py) with a fake guest, without QEMU.

As kunit_tool's KUnitMainTest puts a fake in place of the kernel it would
build and run, FakeGuest stands in for vng and QEMU: it answers commands
from a small script and writes kernel log lines as a real kernel would.
What is tested is the suite's own logic around it: a boot per session, a
reboot after a crash, a refused kernel is never retried, and what lands in
the run folder (summary, kernel logs, each check's output).
"""

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.errors import GuestError
from vm.guest.runner import Verdict
from vm.guest.vng import CommandResult, Guest, GuestCrashed, GuestSpec
from vm.kernel.apply import AppliedTree
from vm.kernel.build import Built, Configured, bzimage_in
from vm.kernel.identity import BuildRecord, StaleKernelError
from vm.kernel.series import NO_SERIES
from vm.kernel.source import KernelSource
from vm.options import Options
from vm.results.summary import new_run_dir
from vm.suite import Suite

from .kernel.test_identity import GOOD, OTHER, PROC_VERSION, fake_bzimage

OOPS = ("[    5.000000] Oops: general protection fault, probably for non-canonical address\n"
        "[    5.000001] CPU: 0 PID: 42 Comm: sh Not tainted 6.12.117+ #1\n"
        "[    5.000002] ---[ end trace 0000000000000000 ]---")


class FakeGuest(Guest):
    """A guest that boots at once and runs a script instead of commands:
    "oops" makes the kernel log an Oops, "hang" dies like a hung guest,
    "PROGRAM -r NAME" prints a passing KTAP result line for NAME."""

    def __init__(self, spec: GuestSpec, number: int, booted: str, boots: bool = True):
        super().__init__(spec)
        self.number = number
        self.booted = booted  # the identity its /proc/version reports
        self.boots = boots
        self.commands: list[str] = []
        self._running = False
        self._log: list[str] = []
        self._read = 0

    def boot(self) -> float:
        self._log.append(f"[    0.000000] fake boot {self.number}")
        if not self.boots:
            self._log.append("[    0.100000] Kernel panic - not syncing: VFS: Unable to mount root")
            raise GuestCrashed("guest boot failed: vng exited",
                               "Linux version 6.12.117+\nKernel panic - not syncing: VFS")
        self._running = True
        self.boot_seconds = 0.5
        return self.boot_seconds

    @property
    def alive(self) -> bool:
        return self._running

    def run(self, command: str, timeout: float = 60.0) -> CommandResult:
        if not self._running:
            raise GuestCrashed("guest is not running", "")
        self.commands.append(command)
        if command == "cat /proc/version":
            return CommandResult(0, PROC_VERSION.format(self.booted), 0.01)
        if command == "oops":
            self._log += OOPS.splitlines()
            return CommandResult(139, "Segmentation fault\n", 0.01)
        if command == "hang":
            self._running = False
            raise GuestCrashed(f"guest did not finish {command!r} within {timeout:.0f} s "
                               "(hang); guest killed", "(console)")
        if " -r " in command:
            name = shlex.split(command)[-1]
            return CommandResult(0, f"TAP version 13\n1..1\nok 1 {name}\n", 0.01)
        return CommandResult(0, "", 0.01)

    def kernel_log(self) -> str:
        new, self._read = self._log[self._read:], len(self._log)
        return "\n".join(new)

    def full_kernel_log(self) -> str:
        return "\n".join(self._log)

    def kill(self) -> None:
        self._running = False

    def shutdown(self, timeout: float = 20.0) -> None:
        self._running = False


class Harness:
    """A Suite on a fake build and fake guests, and what it told the user."""

    def __init__(self, tmp_path: Path, booted: str = GOOD, boots: bool = True):
        self.guests: list[FakeGuest] = []
        self.messages: list[str] = []
        self.booted, self.boots = booted, boots
        self.run_dir = new_run_dir(tmp_path / "results")
        self.suite = Suite(Options(accel="tcg"), self.run_dir, self.messages.append,
                           cache=Cache(tmp_path / "cache"), new_guest=self.new_guest)
        self.suite.adopt(fake_build(tmp_path / "build"))

    def new_guest(self, spec: GuestSpec) -> Guest:
        guest = FakeGuest(spec, len(self.guests) + 1, self.booted, self.boots)
        self.guests.append(guest)
        return guest


def fake_build(folder: Path) -> Built:
    """A build of the pristine kernel whose bzImage carries identity GOOD."""
    bzimage = bzimage_in(folder)
    bzimage.parent.mkdir(parents=True)
    fake_bzimage(bzimage, GOOD, GOOD)
    source = KernelSource(repo=folder.parent / "src", base="0" * 40, version="6.12.117",
                          origin="a test")
    record = BuildRecord(identity=GOOD, inputs="0123456789", source="a test", series="none",
                         series_key=NO_SERIES.key, config_key="as-is")
    return Built(AppliedTree(source, NO_SERIES, source.base), Configured(folder, "as-is"),
                 record)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    yield Harness(tmp_path)


def test_one_boot_serves_every_command_and_is_verified(harness: Harness) -> None:
    for _ in range(3):
        assert harness.suite.run_command("true").verdict is Verdict.PASSED
    (guest,) = harness.guests
    assert guest.commands == ["cat /proc/version", "true", "true", "true"]
    assert harness.suite.summary.booted == GOOD
    assert any(m.startswith("guest: booting bzImage with TCG") for m in harness.messages)


def test_an_oops_fails_its_command_and_the_next_one_gets_a_new_guest(harness: Harness) -> None:
    suite = harness.suite
    assert suite.run_command("true").verdict is Verdict.PASSED
    crashed = suite.run_command("oops")
    assert crashed.verdict is Verdict.FAILED
    assert [s.kind for s in crashed.splats] == ["Oops"]
    assert not harness.guests[0].alive  # killed at once: tainted
    after = suite.run_command("true")
    assert after.verdict is Verdict.PASSED and not after.splats
    assert len(harness.guests) == 2
    assert harness.guests[1].commands == ["cat /proc/version", "true"]
    assert "guest: kernel crashed in that test; rebooting for the next" in harness.messages
    assert any(m.startswith("guest: rebooting") for m in harness.messages)


def test_a_hang_fails_its_command_and_the_next_one_gets_a_new_guest(harness: Harness) -> None:
    hung = harness.suite.run_command("hang", timeout=3)
    assert hung.verdict is Verdict.FAILED and hung.crashed
    assert "(hang)" in hung.message
    assert harness.suite.run_command("true").verdict is Verdict.PASSED
    assert len(harness.guests) == 2


def test_a_guest_on_another_kernel_is_refused_and_never_retried(tmp_path: Path) -> None:
    h = Harness(tmp_path, booted=OTHER)
    with pytest.raises(StaleKernelError, match=OTHER):
        h.suite.guest()
    assert not h.guests[0].alive
    with pytest.raises(StaleKernelError):
        h.suite.run_command("true")
    assert len(h.guests) == 1
    assert h.guests[0].commands == ["cat /proc/version"]


def test_a_kernel_that_does_not_boot_fails_every_test_once(tmp_path: Path) -> None:
    h = Harness(tmp_path, boots=False)
    for _ in range(2):
        with pytest.raises(GuestError, match="guest boot failed"):
            h.suite.run_command("true")
    assert len(h.guests) == 1
    h.suite.finish()
    # The panic while booting is kept for whoever reads the results.
    assert "Kernel panic - not syncing" in (h.run_dir / "dmesg.log").read_text()


def test_the_run_folder_holds_summary_kernel_logs_and_check_output(harness: Harness) -> None:
    suite, run_dir = harness.suite, harness.run_dir
    program = Path("/guest-checks/smoke")
    outcome = suite.run_check(program, "global.create_and_spawn_true")
    assert outcome.verdict is Verdict.PASSED
    suite.run_command("oops")
    suite.run_check(program, "global.create_and_spawn_true")
    suite.finish()

    assert harness.guests[-1].alive is False  # shut down at the end
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["build"] == summary["booted"] == GOOD
    assert summary["accel"] == "tcg"
    assert summary["proc_version"] == PROC_VERSION.format(GOOD).strip()
    assert set(summary["timings_s"]) == {"boot", "checks"}
    assert f"- build: {GOOD} (booted: {GOOD})" in (run_dir / "summary.md").read_text()
    # Both boots' kernel logs, the first one with its Oops.
    dmesg = (run_dir / "dmesg.log").read_text()
    assert dmesg.index("fake boot 1") < dmesg.index("Oops:") < dmesg.index("fake boot 2")
    # A check run twice (before and after the reboot): both outputs, each with its header.
    log = (run_dir / "checks" / "smoke.global.create_and_spawn_true.log").read_text()
    assert log.count("# smoke.global.create_and_spawn_true: passed in ") == 2
    assert log.count(f"on build {GOOD}\n") == 2
    assert log.count("ok 1 global.create_and_spawn_true") == 2
