"""Tools the run needs on the host, checked before the work that needs them."""

import shutil

from vm.errors import HarnessError

# tool -> Debian package that provides it
BUILD_TOOLS = {
    "git": "git", "make": "make", "gcc": "gcc", "flex": "flex", "bison": "bison",
    "bc": "bc", "rsync": "rsync", "tar": "tar", "xz": "xz-utils",
    "lz4": "lz4",  # the base config compresses the kernel with LZ4
}
# make headers_install of a developer's tree (vm/kernel/headers.py).
HEADERS_TOOLS = {"make": "make", "gcc": "gcc", "rsync": "rsync"}
GUEST_TOOLS = {"vng": "virtme-ng (pip)", "qemu-system-x86_64": "qemu-system-x86",
               "udevadm": "udev"}


def require(tools: dict[str, str], purpose: str) -> None:
    missing = {tool: pkg for tool, pkg in tools.items() if shutil.which(tool) is None}
    if missing:
        names = ", ".join(f"{t} (from {p})" for t, p in missing.items())
        raise HarnessError(f"missing tools to {purpose}: {names}; run .ci/setup as root")
