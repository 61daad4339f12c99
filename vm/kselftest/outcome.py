"""What one installed selftest program printed in the guest, read back.

It runs the kselftest way, through run_kselftest.sh from a writable copy of
the install (its tests make FIFOs, device nodes and long paths where they
stand), with -p: the runner prints one result line for the program and
writes the program's own KTAP, each line behind "# ", to /tmp/<program>.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

# Where the install is copied in the guest: the guest's own tmpfs.
GUEST_DIR = "/tmp/ks"
LOG_MARK = "@@kselftest-log@@"


class Status(StrEnum):
    PASS = "ok"
    FAIL = "not ok"
    SKIP = "skip"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Result:
    """One result line of the program's own KTAP."""

    number: int
    name: str
    status: Status
    reason: str = ""

    def line(self) -> str:
        text = f"{'not ok' if self.status is Status.FAIL else 'ok'} {self.number} {self.name}"
        return text + (f" # SKIP {self.reason}" if self.status is Status.SKIP else "")


@dataclass(frozen=True)
class ProgramOutcome:
    status: Status  # the runner's line for the whole program
    detail: str  # "exit=1", "TIMEOUT 600 seconds", a skip's reason
    results: tuple[Result, ...]
    output: str  # the program's own output

    def result(self, number: int) -> Result | None:
        return next((r for r in self.results if r.number == number), None)


def command(target: str, program: str, install: str, timeout: int) -> str:
    """The guest command: copy the install once per boot, run one program."""
    return (f"{{ [ -f {GUEST_DIR}/.from ] && [ \"$(cat {GUEST_DIR}/.from)\" = {install} ] || "
            f"{{ rm -rf {GUEST_DIR} && cp -a {install} {GUEST_DIR} && "
            f"echo {install} > {GUEST_DIR}/.from; }}; }} && cd {GUEST_DIR} && "
            f"./run_kselftest.sh -p -o {timeout} -t {target}:{program} 2>&1; "
            f"echo {LOG_MARK}; cat /tmp/{program} 2>/dev/null")


_RUNNER = re.compile(r"^(not ok|ok)\s+\d+\s+selftests:\s*(\S+):\s*(\S+)\s*(?:#\s*(.*))?$")
_RESULT = re.compile(r"^(not ok|ok)\s+(\d+)\b\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(\w+)\b\s*(.*))?$")


def _own_lines(log: str) -> list[str]:
    """The program's lines: the runner's "# " prefix taken off once."""
    return [line[2:] if line.startswith("# ") else line.removeprefix("#")
            for line in log.splitlines()]


def parse_results(lines: list[str]) -> tuple[Result, ...]:
    """Top-level KTAP result lines (nested ones are indented)."""
    found = []
    for line in lines:
        m = _RESULT.match(line)
        if not m:
            continue
        ok, number, name, directive, reason = m.groups()
        directive = (directive or "").upper()
        if directive == "SKIP":
            status = Status.SKIP
        else:
            status = Status.PASS if ok == "ok" else Status.FAIL
            if directive and directive not in ("TODO", "XFAIL"):
                # "# exit=1" and the like: a comment, not a directive.
                name = f"{name} # {directive} {reason}".strip()
                reason = ""
        found.append(Result(int(number), name.strip() or reason.strip(), status,
                            (reason or "").strip()))
    return tuple(found)


def parse(output: str, target: str, program: str) -> ProgramOutcome:
    """The runner's output, then the mark, then the program's log."""
    runner, _, log = output.partition(LOG_MARK)
    status, detail = Status.FAIL, "no result line from run_kselftest.sh"
    for line in runner.splitlines():
        m = _RUNNER.match(line.strip())
        if not m or (m.group(2), m.group(3)) != (target, program):
            continue
        ok, _, _, comment = m.groups()
        comment = (comment or "").strip()
        if comment.upper().startswith("SKIP"):
            status, detail = Status.SKIP, comment[4:].strip()
        elif comment.upper().startswith("TIMEOUT"):
            status, detail = Status.TIMEOUT, comment
        else:
            status, detail = (Status.PASS if ok == "ok" else Status.FAIL), comment
    lines = _own_lines(log.strip("\n"))
    return ProgramOutcome(status, detail, parse_results(lines), "\n".join(lines))
