"""The soak, opt-in (`tox -e soak`): exec, fork, vfork, clone and
posix_spawn under stress-ng, together with a spawn-template loop, for a
fixed time in the guest of a debug kernel. Nothing may splat, leak
(kmemleak, when the kernel has it) or hang; the figures go to the results.

The spawn-template loop is reuse.c's sequential_steady check, run again and
again beside stress-ng until the time is up: every spawn and posix_spawn()
exits 0, fds, pidfds and children are as before, the template's close
releases its pin, and kmemleak finds nothing. Its per-cache slab counts and
its rate against posix_spawn() are the whole guest's: with stress-ng
creating processes beside it the check logs them without judging them (it
counts the processes others created), and kmemleak, here and after the
soak, judges leaks.
"""

import json
import os
import re
import shutil

import pytest

from vm.guest.runner import Verdict, check_command
from vm.paths import GUEST_CHECKS_DIR
from vm.suite import Suite

pytestmark = pytest.mark.guest

SECONDS = int(os.environ.get("SOAK_SECONDS", "300"))
STRESSORS = ("exec", "fork", "vfork", "clone", "spawn")
KMEMLEAK = "/sys/kernel/debug/kmemleak"
LOOP_CHECK = "reuse.sequential_steady"


# stress-ng skips its exec and spawn stressors when run as root.
UNPRIVILEGED = "setpriv --reuid=65534 --regid=65534 --clear-groups"


def soak_command(reuse: str, seconds: int) -> str:
    """stress-ng in the background (as nobody), the spawn-template loop in
    front (as root, as the check runs); then both results, stress-ng's as
    YAML."""
    stressors = " ".join(f"--{s} 1" for s in STRESSORS)
    return (f"cd /tmp && rm -f /tmp/soak.yaml && {UNPRIVILEGED} stress-ng {stressors} "
            f"--timeout {seconds}s --metrics-brief "
            f"--yaml /tmp/soak.yaml > /tmp/stress-ng.log 2>&1 & pid=$!; "
            f"end=$(( $(date +%s) + {seconds} )); loops=0; failed=0; "
            f"while [ $(date +%s) -lt $end ]; do "
            f"{reuse} > /tmp/loop.log 2>&1 || {{ failed=$((failed+1)); cat /tmp/loop.log; }}; "
            f"loops=$((loops+1)); done; wait $pid; echo stress-ng-status=$?; "
            f"echo template-loops=$loops; echo template-loop-failures=$failed; "
            f"cat /tmp/stress-ng.log /tmp/soak.yaml")


def kmemleak(suite: Suite) -> str:
    """New unreferenced objects since the last clear ("" when none or no kmemleak)."""
    found = suite.run_command(f"test -w {KMEMLEAK} && {{ echo scan > {KMEMLEAK}; sleep 6; "
                              f"echo scan > {KMEMLEAK}; cat {KMEMLEAK}; }} || true")
    return found.output.strip()


def test_soak(suite: Suite) -> None:
    if shutil.which("stress-ng") is None:
        pytest.skip("stress-ng is not installed (Debian's stress-ng; .ci/setup installs it)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed (Debian's util-linux)")
    reuse = check_command(suite.check_programs().binary(GUEST_CHECKS_DIR / "reuse.c"),
                          LOOP_CHECK)
    has_kmemleak = suite.run_command(f"test -w {KMEMLEAK}").verdict is Verdict.PASSED
    if has_kmemleak:
        suite.run_command(f"echo clear > {KMEMLEAK}")
    outcome = suite.run_command(soak_command(reuse, SECONDS), timeout=SECONDS * 3 + 600)
    (suite.run_dir / "soak.log").write_text(outcome.output)
    figures = dict(re.findall(r"^(stress-ng-status|template-loops|template-loop-failures)"
                              r"=(\d+)", outcome.output, re.M))
    bogo_ops = {s: int(n) for s, n in re.findall(r"^\s+- stressor: (\S+)\n\s+bogo-ops: (\d+)",
                                                  outcome.output, re.M)}
    figures_json = {"seconds": SECONDS, "stressors": list(STRESSORS),
                    "kmemleak": has_kmemleak, **{k: int(v) for k, v in figures.items()},
                    "bogo_ops": bogo_ops}
    leaks = kmemleak(suite) if has_kmemleak else ""
    figures_json["kmemleak_objects"] = leaks.count("unreferenced object")
    (suite.run_dir / "soak.json").write_text(json.dumps(figures_json, indent=1) + "\n")
    assert outcome.verdict is Verdict.PASSED, outcome.message
    assert figures.get("stress-ng-status") == "0", outcome.output[-3000:]
    idle = [s for s in STRESSORS if bogo_ops.get(s, 0) == 0]
    assert not idle, f"stressors that did no work: {idle}\n{outcome.output[-3000:]}"
    assert int(figures.get("template-loops", "0")) > 0, outcome.output[-3000:]
    assert figures.get("template-loop-failures") == "0", outcome.output[-3000:]
    assert not leaks, f"kmemleak after the soak:\n{leaks[:4000]}"
