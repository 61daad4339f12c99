"""--shard I/N: a deterministic part of the selected tests.

Every shard collects and selects the same tests (the same options give the
same listing, vm/guest/listing.py), then keeps its own part: the tests are dealt
longest first to the shard with the least work so far, by the durations
of a previous junit.xml when given (else one unit each; a test the junit
does not know counts as the mean of those it does). Ties go by node id:
the split never depends on the order of collection or on the machine.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from vm.errors import UsageError

MIN_SECONDS = 0.01


def parse(spec: str) -> tuple[int, int]:
    """ "I/N" with 1 <= I <= N."""
    m = re.fullmatch(r"(\d+)/(\d+)", spec.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"--shard {spec}: expected I/N with 1 <= I <= N (e.g. 1/2)")
    return int(m.group(1)), int(m.group(2))


def junit_key(nodeid: str) -> str:
    """A node id as pytest's junit.xml names it: classname.name."""
    names = nodeid.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    return ".".join(names)


def durations(junit: Path) -> dict[str, float]:
    """classname.name -> seconds, from a junit.xml (pytest's or a merge)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as e:
        raise UsageError(f"--shard-durations {junit}: {e}") from None
    return {f"{case.get('classname')}.{case.get('name')}": float(case.get("time") or 0)
            for case in root.iter("testcase")}


def split(nodeids: Sequence[str], shards: int,
          seconds: Mapping[str, float] | None = None) -> list[list[str]]:
    """The node ids of each shard, longest first onto the least loaded."""
    # A floor: tests of no measurable time still spread over the shards.
    known = {n: max(seconds[junit_key(n)], MIN_SECONDS)
             for n in nodeids if seconds and junit_key(n) in seconds}
    default = sum(known.values()) / len(known) if known else 1.0
    weight = {n: known.get(n, default) for n in nodeids}
    loads = [0.0] * shards
    parts: list[list[str]] = [[] for _ in range(shards)]
    for n in sorted(nodeids, key=lambda n: (-weight[n], n)):
        i = min(range(shards), key=lambda i: (loads[i], i))
        parts[i].append(n)
        loads[i] += weight[n]
    return parts
