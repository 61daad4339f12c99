"""What else the host ran while a benchmark measured.

Under TCG every guest instruction is host work, so a run measured next
to a compiler (or another guest) is slower in ways that do not scale
alike across methods: such a run is not comparable with one made on an
idle host. This samples the host's busy CPU time (/proc/stat) and that
of our own process tree (the suite, vng, QEMU) before and after; the
difference, averaged over the wall time, is the CPUs the rest of the
host used. Linux only; elsewhere the figure is absent.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# More than this many CPUs of other work, on average, and the run is
# called busy: a shell or an editor stays far below it, a compiler or a
# test run does not.
BUSY_CPUS = 0.2


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    host_busy: int  # clock ticks, all CPUs, not idle or iowait
    tree: int  # clock ticks of our process tree, reaped children included


def host_busy_ticks(proc: Path = PROC) -> int:
    fields = (proc / "stat").read_text().split("\n", 1)[0].split()
    assert fields[0] == "cpu", fields[0]
    # user nice system idle iowait irq softirq steal (guest time is in user)
    ticks = [int(f) for f in fields[1:9]]
    return sum(ticks) - ticks[3] - ticks[4]


def _stat_fields(text: str) -> list[str]:
    # Fields after the command name, which may itself hold spaces or ")".
    return text[text.rindex(")") + 2:].split()


def tree_ticks(root: int, proc: Path = PROC) -> int:
    """utime + stime + cutime + cstime over root and its live descendants:
    a reaped child's time is in its parent's cutime/cstime."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            f = _stat_fields((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # gone meanwhile
        pid = int(entry.name)
        # f[0] is the state, f[1] the ppid; utime is field 14 of stat(5),
        # f[11] here, then stime, cutime, cstime.
        parent[pid] = int(f[1])
        ticks[pid] = sum(int(x) for x in f[11:15])
    total = 0
    for pid, t in ticks.items():
        p = pid
        while p > 1 and p != root:
            p = parent.get(p, 0)
        if p == root:
            total += t
    return total


def sample(root: int | None = None, proc: Path = PROC) -> Sample | None:
    try:
        return Sample(time.monotonic(), host_busy_ticks(proc),
                      tree_ticks(os.getpid() if root is None else root, proc))
    except (OSError, ValueError, AssertionError):
        return None


def other_cpus(start: Sample | None, end: Sample | None,
               hz: int | None = None) -> float | None:
    """CPUs the rest of the host used on average between two samples."""
    if start is None or end is None or end.at <= start.at:
        return None
    hz = hz or os.sysconf("SC_CLK_TCK")
    other = (end.host_busy - start.host_busy) - (end.tree - start.tree)
    return max(0.0, other / hz / (end.at - start.at))
