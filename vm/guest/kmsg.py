"""The guest's kernel log: /dev/kmsg records, streamed by the guest into a
file of the shared folder, read on the host as dmesg-style lines.

Reading the file costs no round trip to the guest; each test reads what
the kernel logged since the previous read.
"""

import re
from pathlib import Path

KMSG_FILE = "kmsg.log"  # in the shared folder

_RECORD = re.compile(r"^(\d+),(\d+),(\d+),[^;]*;(.*)$")


def kmsg_to_text(raw: str) -> str:
    """/dev/kmsg records ("pri,seq,usec,flags;msg") to "[sec.usec] msg" lines."""
    out = []
    for line in raw.splitlines():
        m = _RECORD.match(line)
        if m:
            usec = int(m.group(3))
            out.append(f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {m.group(4)}")
        elif line and not line.startswith(" "):
            out.append(line)
    return "\n".join(out)


class KernelLog:
    """One boot's kernel log file, read in order."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0

    def restart(self) -> None:
        """Before a boot: the file of the previous boot is gone."""
        self.path.unlink(missing_ok=True)
        self._offset = 0

    def unread(self) -> str:
        """The raw records not consumed yet, the last one maybe incomplete."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def read_new(self) -> str:
        """What the kernel logged since the last call, as dmesg-style lines."""
        raw = self.unread()
        # Consume complete records only.
        cut = raw.rfind("\n") + 1
        self._offset += len(raw[:cut].encode())
        return kmsg_to_text(raw[:cut])

    def read_all(self) -> str:
        """Everything the kernel logged since this boot."""
        try:
            return kmsg_to_text(self.path.read_text(errors="replace"))
        except FileNotFoundError:
            return ""
