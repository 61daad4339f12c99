"""Running one command or check in the guest and judging it: KTAP result line,
kernel health, crashes."""

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from vm.guest import health, ktap
from vm.guest.vng import Guest, GuestCrashed


class CheckFailed(Exception):
    """A guest check failed; the message is the whole story."""


class Verdict(Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    message: str  # why it failed or was skipped; empty on a pass
    output: str = ""
    splats: tuple[health.Splat, ...] = field(default=())
    crashed: bool = False
    seconds: float = 0.0

    @property
    def needs_reboot(self) -> bool:
        return self.crashed or any(s.kind in health.FATAL_KINDS for s in self.splats)


# Decides a command's verdict and message from its exit status and output.
Judge = Callable[[int, str], tuple["Verdict", str]]


def check_command(binary: Path, name: str) -> str:
    return f"{shlex.quote(str(binary))} -r {shlex.quote(name)}"


def verdict_of(result: ktap.ResultLine, output: str) -> tuple[Verdict, str]:
    """The verdict a check's KTAP result line gives."""
    if result.status is ktap.Status.PASS:
        return Verdict.PASSED, ""
    if result.status is ktap.Status.SKIP:
        return Verdict.SKIPPED, result.reason or "skipped"
    if result.status is ktap.Status.XFAIL:
        return Verdict.SKIPPED, f"expected failure: {result.reason}"
    return Verdict.FAILED, output.strip() or result.reason


def run_command(guest: Guest, command: str, timeout: float,
                judge: Judge | None = None) -> Outcome:
    """Run command in the guest; its status (or `judge`) decides, the kernel log may veto."""
    start = time.monotonic()
    guest.kernel_log()  # what came before this test is not its business
    try:
        result = guest.run(command, timeout=timeout)
    except GuestCrashed as e:
        # Whatever reached the kernel log before the crash says why.
        splats = tuple(health.scan(guest.kernel_log() + "\n" + e.console_tail))
        return Outcome(Verdict.FAILED, str(e) + _splat_text(splats), splats=splats,
                       crashed=True, seconds=time.monotonic() - start)
    if judge is None:
        verdict, message = ((Verdict.PASSED, "") if result.status == 0 else
                            (Verdict.FAILED, f"exit status {result.status}:\n{result.output}"))
    else:
        verdict, message = judge(result.status, result.output)
    splats = tuple(health.scan(guest.kernel_log()))
    if splats:
        verdict = Verdict.FAILED
        message = (message + "\n" if message else "") + _splat_text(splats)
    return Outcome(verdict, message, result.output, splats, seconds=time.monotonic() - start)


def judge_check(name: str) -> Judge:
    """The Judge of the check @name: its KTAP result line decides."""
    def judge(status: int, output: str) -> tuple[Verdict, str]:
        result = ktap.result_line(output, name)
        if result.status is ktap.Status.ERROR:
            return Verdict.FAILED, f"no result (exit status {status}):\n{output}"
        return verdict_of(result, output)

    return judge


def run_check(guest: Guest, binary: Path, name: str, timeout: float) -> Outcome:
    return run_command(guest, check_command(binary, name), timeout, judge_check(name))


def _splat_text(splats: tuple[health.Splat, ...]) -> str:
    if not splats:
        return ""
    return "\n".join(["", f"{len(splats)} kernel report(s) while the test ran:"]
                     + [str(s) for s in splats])
