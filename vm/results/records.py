"""One record per test of a run, in KCIDB's terms: what results.ktap and
kcidb.json are written from, and what shards are merged from (checks.json).

A check is named by its program (the check program, or the host test
module) and its test (the check's name, or the test function's).
"""

import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from vm.errors import HarnessError
from vm.guest.runner import CheckFailed
from vm.results import routing
from vm.results.status import ExitStatus

CHECKS_FILE = "checks.json"


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"  # the check ran and found the kernel faulty (a crash included)
    ERROR = "ERROR"  # the test's own code broke: the kernel's state is unknown
    MISS = "MISS"  # never ran: no kernel (build, boot) or a broken runner
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    program: str
    test: str
    status: Status
    seconds: float
    log: str  # a failure's report, a skip's reason; empty on a pass
    nodeid: str

    @property
    def path(self) -> str:
        """KCIDB's test path, spawn_template.<program>.<test>."""
        return ".".join(["spawn_template", *(path_part(p) for p in (self.program, self.test))])


def path_part(name: str) -> str:
    """A name as KCIDB allows it in a path: [a-zA-Z0-9_-] between dots."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", name).strip(".") or "_"


def status_of(outcome: str, error: BaseException | None) -> Status:
    """A pytest outcome ("passed", "failed", "skipped") and what raised."""
    if outcome == "passed":
        return Status.PASS
    if outcome == "skipped":
        return Status.SKIP
    if isinstance(error, (CheckFailed, AssertionError)):
        return Status.FAIL
    if isinstance(error, HarnessError):
        # A kernel that died while booting is the kernel's failure; no
        # kernel, or no runner, is a check that never ran.
        return Status.FAIL if routing.cause(error) is ExitStatus.FAILED else Status.MISS
    return Status.ERROR


def save(results: list[CheckResult], path: Path) -> None:
    data = [{**asdict(r), "status": r.status.value} for r in results]
    path.write_text(json.dumps(data, indent=1) + "\n")


def load(path: Path) -> list[CheckResult]:
    return [CheckResult(**{**d, "status": Status(d["status"])})
            for d in json.loads(path.read_text())]


def ordered(results: list[CheckResult]) -> list[CheckResult]:
    """By program, then test: the same order however the run was split."""
    return sorted(results, key=lambda r: (r.program, r.test))
