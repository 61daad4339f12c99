"""What else the host ran while a benchmark measured.

Under TCG every guest instruction is host work, so a run measured next
to a compiler (or another guest) is slower in ways that do not scale
alike across methods: such a run is not comparable with one made on an
idle host. This samples the host's busy CPU time (/proc/stat) and that
of our own process tree (the suite, vng, QEMU) before and after; the
difference, averaged over the wall time, is the CPUs the rest of the
host used. Steal time (a hypervisor under this machine running someone
else) is not busy time here: it is recorded on its own. Linux only;
elsewhere the figures are absent.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
# More than this many CPUs of other work, on average, and the run is
# called busy. A threshold chosen, not measured: an idle host here shows
# 0.04-0.06 (kernel threads, a shell), one compiler or test run a whole
# CPU.
BUSY_CPUS = 0.2


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    host_busy: int  # clock ticks, all CPUs: not idle, iowait or steal
    steal: int  # clock ticks taken by the hypervisor for others
    tree: int  # clock ticks of our process tree, reaped children included


def host_ticks(proc: Path = PROC) -> tuple[int, int]:
    """(busy, steal) clock ticks of all CPUs since boot."""
    fields = (proc / "stat").read_text().split("\n", 1)[0].split()
    if fields[:1] != ["cpu"]:
        raise ValueError(f"{proc / 'stat'}: no cpu line first")
    # user nice system idle iowait irq softirq steal (guest time is in user)
    ticks = [int(f) for f in fields[1:9]]
    return sum(ticks) - ticks[3] - ticks[4] - ticks[7], ticks[7]


def _stat_fields(text: str) -> list[str]:
    # Fields after the command name, which may itself hold spaces or ")".
    return text[text.rindex(")") + 2:].split()


def tree_ticks(root: int, proc: Path = PROC) -> int:
    """utime + stime + cutime + cstime over root and its live descendants:
    a reaped child's time is in its parent's cutime/cstime."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            f = _stat_fields((entry / "stat").read_text())
            # f[0] is the state, f[1] the ppid; utime is field 14 of
            # stat(5), f[11] here, then stime, cutime, cstime.
            ppid, t = int(f[1]), sum(int(x) for x in f[11:15])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        pid = int(entry.name)
        children.setdefault(ppid, []).append(pid)
        ticks[pid] = t
    # Down from the root, each pid once: a pid reused during the scan
    # cannot make a loop.
    seen, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return sum(ticks.get(pid, 0) for pid in seen)


def sample(root: int | None = None, proc: Path = PROC) -> Sample | None:
    try:
        busy, steal = host_ticks(proc)
        return Sample(time.monotonic(), busy, steal,
                      tree_ticks(os.getpid() if root is None else root, proc))
    except (OSError, ValueError):
        return None


def other_cpus(start: Sample | None, end: Sample | None,
               hz: int | None = None) -> float | None:
    """CPUs the rest of the host used on average between two samples."""
    if start is None or end is None or end.at <= start.at:
        return None
    hz = hz or os.sysconf("SC_CLK_TCK")
    other = (end.host_busy - start.host_busy) - (end.tree - start.tree)
    return max(0.0, other / hz / (end.at - start.at))


def steal_cpus(start: Sample | None, end: Sample | None,
               hz: int | None = None) -> float | None:
    """CPUs the hypervisor took for others on average between two samples."""
    if start is None or end is None or end.at <= start.at:
        return None
    hz = hz or os.sysconf("SC_CLK_TCK")
    return (end.steal - start.steal) / hz / (end.at - start.at)


def busy(env: dict[str, Any]) -> float | None:
    """The other work of a recorded run when it makes the run busy."""
    other = env.get("host_other_cpus")
    return other if isinstance(other, (int, float)) and other > BUSY_CPUS else None


def figures(start: Sample | None, end: Sample | None) -> dict[str, float]:
    """The environment entries of a measurement between two samples."""
    out = {}
    for key, value in (("host_other_cpus", other_cpus(start, end)),
                       ("host_steal_cpus", steal_cpus(start, end))):
        if value is not None:
            out[key] = round(value, 2)
    return out
