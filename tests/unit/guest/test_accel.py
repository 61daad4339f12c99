from pathlib import Path

import pytest

from vm.errors import GuestError
from vm.guest import accel


def test_cpu_flags() -> None:
    assert accel.cpu_has_virtualization("flags\t: fpu vme vmx sse\n")
    assert accel.cpu_has_virtualization("flags\t: fpu svm\n")
    assert not accel.cpu_has_virtualization("flags\t: fpu vme sse hypervisor\n")


def test_kvm_device_without_vmx_is_not_usable(tmp_path: Path) -> None:
    dev = tmp_path / "kvm"
    dev.write_text("")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t: fpu sse hypervisor\n")
    assert not accel.kvm_usable(dev, cpuinfo)
    cpuinfo.write_text("flags\t: fpu vmx\n")
    assert accel.kvm_usable(dev, cpuinfo)
    assert not accel.kvm_usable(tmp_path / "absent", cpuinfo)


def test_choose() -> None:
    assert accel.choose("auto", usable=True) == "kvm"
    assert accel.choose("auto", usable=False) == "tcg"
    assert accel.choose("tcg", usable=True) == "tcg"
    with pytest.raises(GuestError, match="--accel kvm: /dev/kvm is not usable"):
        accel.choose("kvm", usable=False)
