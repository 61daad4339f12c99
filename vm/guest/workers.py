"""How many guests the host holds at once: `-n auto` (pytest-xdist), one
guest per worker.

Each worker boots its own guest for the session. A guest costs its memory
plus QEMU's own, and under TCG or KVM about one host CPU while a check runs
(most checks are one process; the few threaded ones are short), so the
count is the host's CPUs, capped by what its available memory holds.
"""

import os
import re
from pathlib import Path

MEMINFO = Path("/proc/meminfo")
# QEMU's own resident memory beside the guest's (TCG's translation cache
# included), measured at about 200 MiB here; rounded up.
QEMU_OVERHEAD_MIB = 256

_SIZE = re.compile(r"^(\d+)([KMGT]?)i?B?$", re.I)
_MIB_PER_UNIT = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024, "": 1}


def size_mib(size: str) -> int:
    """A QEMU-style size ("1G", "512M", "2048": MiB) in MiB."""
    m = _SIZE.match(size.strip())
    if m is None:
        raise ValueError(f"not a memory size: {size!r} (expected e.g. 1G or 512M)")
    return int(int(m.group(1)) * _MIB_PER_UNIT[m.group(2).upper()])


def available_mib(meminfo: Path = MEMINFO) -> int:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise ValueError(f"{meminfo}: no MemAvailable line")


def auto_count(cpus: int, free_mib: int, guest_memory: str) -> int:
    """Workers for -n auto: one per CPU, as many as the memory holds, at least one."""
    per_guest = size_mib(guest_memory) + QEMU_OVERHEAD_MIB
    return max(1, min(cpus, free_mib // per_guest))


def host_count(guest_memory: str) -> int:
    return auto_count(len(os.sched_getaffinity(0)), available_mib(), guest_memory)


def guest_cpus(host_cpus: int, count: int, most: int) -> int:
    """vCPUs per guest when @count guests share the host: no more in all
    than the host has, at least one each."""
    return max(1, min(most, host_cpus // count))
