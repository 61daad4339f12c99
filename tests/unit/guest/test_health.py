"""Splat detection on kernel logs recorded from real guests (LKDTM) and,
for reports LKDTM cannot provoke here, written from the kernel's formats."""

from pathlib import Path

import pytest

from vm.guest import health

from ..conftest import DATA


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_clean_log_has_no_splat() -> None:
    assert health.scan(read("dmesg-clean.log")) == []


def test_recorded_warning() -> None:
    (splat,) = health.scan(read("dmesg-lkdtm-warning.log"))
    assert splat.kind == "WARNING"
    assert "lkdtm_WARNING" in splat.text
    assert splat.text.splitlines()[-1].endswith("---[ end trace 0000000000000000 ]---")


def test_recorded_null_dereference_is_one_oops() -> None:
    splats = health.scan(read("dmesg-lkdtm-exception.log"))
    assert [s.kind for s in splats] == ["Oops"]
    assert "BUG: kernel NULL pointer dereference" in splats[0].text
    assert splats[0].kind in health.FATAL_KINDS


def test_hung_task_and_lockdep_are_separate_reports() -> None:
    kinds = [s.kind for s in health.scan(read("dmesg-hung-task-and-lockdep.log"))]
    assert kinds == ["hung task", "lockdep"]


@pytest.mark.parametrize("line, kind", [
    ("[ 1.0] Kernel panic - not syncing: lkdtm PANIC", "panic"),
    ("[ 1.0] BUG: KASAN: slab-use-after-free in spawn_template_release+0x1/0x2", "KASAN"),
    ("[ 1.0] UBSAN: array-index-out-of-bounds in fs/spawn_template.c:10:5", "UBSAN"),
    ("[ 1.0] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
     "kmemleak"),
    ("[ 1.0] BUG: sleeping function called from invalid context at mm/slab.c:1", "lockdep"),
    ("[ 1.0] kernel BUG at fs/exec.c:123!", "BUG"),
    ("[ 1.0] rcu: INFO: rcu_preempt self-detected stall on CPU", "RCU stall"),
])
def test_each_kind(line: str, kind: str) -> None:
    (splat,) = health.scan(f"[ 0.9] before\n{line}\n[ 1.1] after\n")
    assert splat.kind == kind
    assert splat.text.startswith(line)


def test_ordinary_messages_are_not_splats(tmp_path: Path) -> None:
    text = ("[ 1.0] lkdtm: No crash points registered, enable through debugfs\n"
            "[ 1.1] ACPI: PM: Preparing to enter system sleep state S5\n"
            "[ 1.2] suite: mark suite-00\n")
    assert health.scan(text) == []
