"""The per-check outcomes of a run, read back from its junit.xml.

One name per check, the pytest node id (tests/guest/<program>.c::<check>):
it is what the gate compares between revisions and what it passes back to
pytest to run a few checks again.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from vm.errors import HarnessError


class Status(Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the run could not give a verdict (build, boot, stale kernel)

    @property
    def failing(self) -> bool:
        return self in (Status.FAILED, Status.ERROR)


@dataclass(frozen=True)
class Outcome:
    status: Status
    seconds: float
    message: str  # the failure or skip text, first lines


# Selftest programs are items of a folder, tests/kselftest/<target>, where
# a target may itself be a path (filesystems/binderfs).
KSELFTEST_PARTS = ("tests", "kselftest")


def node_id(classname: str, name: str) -> str:
    """junit's "tests.guest.abi_create.c" + name -> the pytest node id."""
    parts = classname.split(".")
    if tuple(parts[:2]) == KSELFTEST_PARTS and len(parts) > 2:
        path = "/".join(parts)
    elif len(parts) >= 2 and parts[-1] in ("c", "py"):
        path = "/".join([*parts[:-2], f"{parts[-2]}.{parts[-1]}"])
    else:
        path = "/".join(parts) + ".py"
    return f"{path}::{name}"


def _message(element: ET.Element) -> str:
    text = element.get("message") or element.text or ""
    return "\n".join(text.strip().splitlines()[:12])


def read_junit(path: Path) -> dict[str, Outcome]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise HarnessError(f"{path}: cannot read junit results: {e}") from e
    outcomes: dict[str, Outcome] = {}
    for case in root.iter("testcase"):
        status, message = Status.PASSED, ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = {"failure": Status.FAILED, "error": Status.ERROR,
                          "skipped": Status.SKIPPED}[child.tag]
                message = _message(child)
                if status.failing:
                    break
        key = node_id(case.get("classname", ""), case.get("name", ""))
        outcomes[key] = Outcome(status, float(case.get("time") or 0.0), message)
    return outcomes


def not_yet_present(outcome: Outcome | None) -> bool:
    """A check a prefix cannot run yet: its system calls are not wired up
    (the check skips with ENOSYS), or it does not exist."""
    return outcome is None or (outcome.status is Status.SKIPPED
                               and "ENOSYS" in outcome.message)
