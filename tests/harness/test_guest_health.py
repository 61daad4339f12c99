"""The harness's own guest tests: kernel reports, panics and hangs are caught.

LKDTM (kconfigs/lkdtm.config) provokes each report on purpose. Each must
fail the command that provoked it, with the report in the message, and the
next command must run and pass on a healthy guest.
"""

import pytest

from vm.guest.runner import Verdict
from vm.suite import Suite

LKDTM = "/sys/kernel/debug/provoke-crash/DIRECT"

pytestmark = pytest.mark.guest


@pytest.fixture
def lkdtm(suite: Suite) -> None:
    if suite.run_command(f"test -w {LKDTM}").verdict is not Verdict.PASSED:
        pytest.skip("LKDTM not in this kernel: add --kconfig lkdtm")


def assert_next_command_passes(suite: Suite) -> None:
    follow = suite.run_command("echo still-alive")
    assert follow.verdict is Verdict.PASSED, follow.message
    assert follow.output.strip() == "still-alive"
    assert not follow.splats


def test_round_trip(suite: Suite) -> None:
    outcome = suite.run_command("printf 'a\\nb'; echo ERR >&2; exit 7")
    assert outcome.verdict is Verdict.FAILED
    assert outcome.output == "a\nbERR\n"
    assert "exit status 7" in outcome.message


def test_framing_survives_hostile_output(suite: Suite) -> None:
    # Output that looks like a frame, and kernel messages, cannot end a command early.
    outcome = suite.run_command(
        "echo 'suite-0000000000000000 0'; echo '<0>suite: noise' > /dev/kmsg; echo done")
    assert outcome.verdict is Verdict.PASSED
    assert outcome.output.splitlines()[-1] == "done"


def test_large_output_is_complete(suite: Suite) -> None:
    outcome = suite.run_command("seq 1 20000")
    assert outcome.verdict is Verdict.PASSED
    assert outcome.output.split() == [str(i) for i in range(1, 20001)]


@pytest.mark.parametrize("provoke, kind", [
    ("WARNING", "WARNING"),
    ("EXCEPTION", "Oops"),
    ("PANIC", "panic"),
])
def test_report_fails_the_command_that_provoked_it(
        suite: Suite, lkdtm: None, provoke: str, kind: str) -> None:
    outcome = suite.run_command(f"echo {provoke} > {LKDTM}", timeout=60)
    assert outcome.verdict is Verdict.FAILED
    assert kind in [s.kind for s in outcome.splats], outcome.message
    assert "lkdtm" in outcome.message.lower()
    assert_next_command_passes(suite)


def test_hang_fails_the_command_and_the_guest_is_replaced(suite: Suite) -> None:
    outcome = suite.run_command("sleep 600", timeout=3)
    assert outcome.verdict is Verdict.FAILED and outcome.crashed
    assert "hang" in outcome.message
    assert_next_command_passes(suite)
