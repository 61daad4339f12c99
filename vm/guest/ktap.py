"""Reading what a check program prints: its KTAP result lines, and its -l listing."""

import re
from dataclasses import dataclass
from enum import Enum


class Status(Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    XFAIL = "xfail"
    ERROR = "error"  # the program printed no result line at all


@dataclass(frozen=True)
class ResultLine:
    """One KTAP result line: "ok 1 name # SKIP why"."""

    name: str
    status: Status
    reason: str  # SKIP/XFAIL reason, or empty


_RESULT = re.compile(r"^\s*(not ok|ok)\s+\d+\s+(?:-\s+)?([^#]*?)\s*(?:#\s*(\w+)\s*(.*))?$")


def parse_result_lines(output: str) -> list[ResultLine]:
    """Top-level result lines ("ok 1 name # SKIP why") in order."""
    results = []
    for line in output.splitlines():
        m = _RESULT.match(line)
        if not m or line.startswith(" "):
            continue
        ok, name, directive, reason = m.groups()
        directive = (directive or "").upper()
        if directive == "SKIP":
            status = Status.SKIP
        elif directive in ("XFAIL", "TODO"):
            status = Status.XFAIL
        else:
            status = Status.PASS if ok == "ok" else Status.FAIL
        results.append(ResultLine(name.strip(), status, (reason or "").strip()))
    return results


def result_line(output: str, name: str) -> ResultLine:
    """The result line of the check @name, run alone with -r; ERROR if it printed none."""
    for result in parse_result_lines(output):
        if result.name == name:
            return result
    return ResultLine(name, Status.ERROR, "no KTAP result line for this check")


def _listing_columns(line: str) -> tuple[str, str, str]:
    """The three columns of a "%-20s %-25s %s" line. A name longer than
    its column pushes the next ones right: a column ends at the first
    space at or after its width."""
    columns = []
    pos = 0
    for width in (20, 25):
        end = min(pos + width, len(line))
        while end < len(line) and line[end] != " ":
            end += 1
        columns.append(line[pos:end].strip())
        pos = end + 1
    return columns[0], columns[1], line[pos:].strip()


def parse_listing(listing: str) -> list[str]:
    """Check names fixture[.variant].test from `program -l`.

    kselftest_harness prints a table "%-20s %-25s %s" of fixture, variant
    and test columns, one block per fixture; variants and tests are listed
    side by side, and every variant runs every test.
    """
    names: list[str] = []
    blocks: list[tuple[str, list[str], list[str]]] = []
    for line in listing.splitlines():
        if line.startswith("# FIXTURE") or line.startswith("-----") or not line.strip():
            continue
        fixture, variant, test = _listing_columns(line)
        if fixture:
            blocks.append((fixture, [], []))
        if not blocks:
            raise ValueError(f"test listing starts without a fixture: {line!r}")
        if variant:
            blocks[-1][1].append(variant)
        if test:
            blocks[-1][2].append(test)
    for fixture, variants, tests in blocks:
        for variant in variants or [""]:
            for test in tests:
                names.append(".".join(p for p in (fixture, variant, test) if p))
    return names
