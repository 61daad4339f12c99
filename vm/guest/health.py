"""Kernel health: finding splats in what the kernel logged during a test."""

import re
from dataclasses import dataclass

# The first line of each kind of report the kernel prints when it is unwell.
SPLAT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("WARNING", r"WARNING: CPU: \d+ PID: \d+ at |------------\[ cut here \]------------"),
        ("BUG", r"\bBUG: |kernel BUG at "),
        ("Oops", r"Oops: |general protection fault|stack segment: "),
        ("KASAN", r"BUG: KASAN: |KASAN: "),
        ("UBSAN", r"UBSAN: "),
        ("lockdep", r"WARNING: (possible circular locking|possible recursive locking|"
                    r"inconsistent lock state|suspicious RCU usage|lock held when returning)"
                    r"|INFO: possible irq lock inversion|BUG: sleeping function called"),
        ("hung task", r"INFO: task .* blocked for more than \d+ seconds"),
        ("kmemleak", r"kmemleak: \d+ new suspected memory leaks|unreferenced object 0x"),
        ("panic", r"Kernel panic - not syncing"),
        ("RCU stall", r"rcu: INFO: rcu_\w+ (self-)?detected stall"),
    )
)

# One report can carry several markers ("BUG: kernel NULL pointer
# dereference" then "Oops:"; "BUG: KASAN:"): it is named by the most
# specific one.
PRIORITY = ("panic", "KASAN", "UBSAN", "lockdep", "kmemleak", "hung task", "RCU stall",
            "Oops", "BUG", "WARNING")

# Reports after which the guest is not trusted for further tests.
FATAL_KINDS = frozenset({"BUG", "Oops", "KASAN", "panic"})

# Lines kept after the first line of a report, for the failure message.
REPORT_LINES = 40


@dataclass(frozen=True)
class Splat:
    kind: str
    text: str  # the report, first line first

    def __str__(self) -> str:
        return f"kernel {self.kind}:\n{self.text}"


# A report's header: markers this close to its first line belong to it
# ("BUG: kernel NULL pointer dereference" is followed by "Oops:" 4 lines on);
# a marker further on starts the next report.
HEADER_LINES = 6


def _kinds(line: str) -> set[str]:
    return {kind for kind, pattern in SPLAT_PATTERNS if pattern.search(line)}


def scan(log: str) -> list[Splat]:
    """Every report in a stretch of kernel log, each with its following lines."""
    lines = log.splitlines()
    splats: list[Splat] = []
    i = 0
    while i < len(lines):
        kinds = _kinds(lines[i])
        if not kinds:
            i += 1
            continue
        end = min(len(lines), i + REPORT_LINES)
        for j in range(i + 1, end):
            if "---[ end trace" in lines[j]:
                end = j + 1
                break
            more = _kinds(lines[j])
            if more and j - i >= HEADER_LINES:
                end = j
                break
            kinds |= more
        splats.append(Splat(min(kinds, key=PRIORITY.index), "\n".join(lines[i:end])))
        i = end
    return splats
