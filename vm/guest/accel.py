"""Choosing the QEMU accelerator: KVM where it can work, TCG otherwise."""

import os
from pathlib import Path

from vm.errors import GuestError

KVM_DEVICE = Path("/dev/kvm")
CPUINFO = Path("/proc/cpuinfo")


def cpu_has_virtualization(cpuinfo: str) -> bool:
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"vmx", "svm"})
    return False


def kvm_usable(device: Path = KVM_DEVICE, cpuinfo: Path = CPUINFO) -> bool:
    """A /dev/kvm we may open is not enough: the CPU must have vmx or svm."""
    if not device.exists() or not os.access(device, os.R_OK | os.W_OK):
        return False
    try:
        return cpu_has_virtualization(cpuinfo.read_text())
    except OSError:
        return False


def choose(requested: str, usable: bool | None = None) -> str:
    """--accel auto|kvm|tcg to the accelerator to use."""
    usable = kvm_usable() if usable is None else usable
    if requested == "auto":
        return "kvm" if usable else "tcg"
    if requested == "kvm" and not usable:
        raise GuestError("--accel kvm: /dev/kvm is not usable here (missing, no access, "
                         "or the CPU has no vmx/svm); use --accel tcg or auto")
    if requested not in ("kvm", "tcg"):
        raise GuestError(f"--accel {requested}: expected auto, kvm or tcg")
    return requested
