import re
import subprocess
from pathlib import Path

from vm.guest import kmsg, vng


def test_frame_runs_command_and_reports_status_after_token(tmp_path: Path) -> None:
    """Run the frame through a real sh: output to the file, token and status out."""
    output = tmp_path / "out"
    line = vng.frame("echo hello; echo world >&2; exit 3", "tok-123", output)
    line = line.replace("> /dev/kmsg", "> /dev/null")
    out = subprocess.run(["sh"], input=line, capture_output=True, text=True).stdout
    m = re.search(r"tok-123 (\d+)\n", out)
    assert m is not None and m.group(1) == "3"
    assert out.strip() == "tok-123 3"  # nothing of the command crosses the line
    assert output.read_text() == "hello\nworld\n"


def test_frame_command_cannot_read_following_input(tmp_path: Path) -> None:
    line = vng.frame("cat", "tok", tmp_path / "out").replace("> /dev/kmsg", "> /dev/null")
    out = subprocess.run(["sh"], input=line + "echo next\n", capture_output=True,
                         text=True).stdout
    assert "tok 0" in out and out.rstrip().endswith("next")


def test_kmsg_records_become_dmesg_lines() -> None:
    raw = ("6,1,1500000,-;Linux version 6.12\n"
           " SUBSYSTEM=acpi\n"
           "4,2,2000001,-;WARNING: CPU: 0 PID: 1 at fs/exec.c:1 x\n")
    assert kmsg.kmsg_to_text(raw).splitlines() == [
        "[    1.500000] Linux version 6.12",
        "[    2.000001] WARNING: CPU: 0 PID: 1 at fs/exec.c:1 x",
    ]


def test_vng_command_uses_tcg_only_when_asked() -> None:
    def spec(accel: str) -> vng.GuestSpec:
        return vng.GuestSpec(bzimage=Path("/k/bzImage"), accel=accel, memory="1G", cpus=2,
                             shared_dir=Path("/s"), console_log=Path("/c"))

    assert "--disable-kvm" in vng.vng_command(spec("tcg"), "ready")
    assert "--disable-kvm" not in vng.vng_command(spec("kvm"), "ready")
