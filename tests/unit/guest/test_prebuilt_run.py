"""A whole pytest run of tests/guest on an exported build, --prebuilt, with
the guest played by the host: a stand-in for vng runs the guest's shell
in private mount and PID namespaces where /proc/version names the build and
/dev/kmsg is a FIFO. Everything of the suite runs as in a real run but QEMU:
collection from the export's programs, boot and identity checks, each check
in the "guest", KTAP, KCIDB, exit status; then two shards and their merge.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vm.guest import listing, prebuilt
from vm.results import merge
from vm.results.status import ExitStatus

from ..kernel.test_identity import GOOD, PROC_VERSION
from ..pytest_run import run_folder, run_pytest
from .test_prebuilt import exported

# vng --run BZIMAGE ... --exec SCRIPT: only SCRIPT matters here. A PID
# namespace of its own: even a real poweroff would only end the namespace;
# /proc/sysrq-trigger is masked all the same. SCRIPT's shell is not the
# namespace's init (which ignores signals): the stand-in poweroff ends it.
FAKE_VNG = """#!/bin/sh
for script; do :; done
exec unshare --mount --pid --fork --propagation private sh -c '
  mount --bind "$FAKE_PROC_VERSION" /proc/version
  mount --bind /dev/null /proc/sysrq-trigger
  mkfifo "$FAKE_KMSG" && mount --bind "$FAKE_KMSG" /dev/kmsg
  exec 3<>/dev/kmsg
  PATH="$FAKE_BIN:$PATH" sh -c "$1"' sh "$script"
"""
POWEROFF = "#!/bin/sh\nkill -KILL $PPID\n"
# A check program: lists one check, passes it, except pidfd's, which fails.
PROGRAM = """#!/bin/sh
case "$1" in
-l) echo '{row}' >&2 ;;
-r) echo 'TAP version 13'; echo '1..1'
    if [ {stem} = pidfd ]; then echo '# pidfd: expected 0, got 1'; echo "not ok 1 $2"; exit 1; fi
    echo "ok 1 $2" ;;
esac
"""


def can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    proc = subprocess.run(["unshare", "--mount", "--pid", "--fork", "true"], capture_output=True)
    return proc.returncode == 0


pytestmark = pytest.mark.skipif(not can_unshare(), reason="needs root and unshare")


def fake_export(tmp_path: Path) -> Path:
    path = exported(tmp_path)
    for program in listing.programs():
        row = f"{'global':<20} {'':<25} check_{program.stem}"
        script = path / "guest-checks" / program.stem
        script.write_text(PROGRAM.format(row=row, stem=program.stem))
    # The manifest follows the programs this test rewrote.
    manifest = "".join(f"{prebuilt._sha256(p)}  {p.relative_to(path)}\n"
                       for p in prebuilt._files(path))
    (path / prebuilt.MANIFEST).write_text(manifest)
    return path


def fake_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name, text in (("vng", FAKE_VNG), ("poweroff", POWEROFF)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for tool in ("qemu-system-x86_64", "udevadm"):  # preflight only looks them up
        if shutil.which(tool) is None:
            (bin_dir / tool).write_text("#!/bin/sh\nexit 1\n")
            (bin_dir / tool).chmod(0o755)
    proc_version = tmp_path / "proc-version"
    proc_version.write_text(PROC_VERSION.format(GOOD))
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_BIN": str(bin_dir),
            "SUITE_VNG": str(bin_dir / "vng"),
            "FAKE_PROC_VERSION": str(proc_version), "FAKE_KMSG": str(tmp_path / "kmsg")}


def test_a_prebuilt_run_end_to_end_then_two_shards_merged(tmp_path: Path) -> None:
    export = fake_export(tmp_path)
    env = fake_env(tmp_path)
    args = ("tests/guest", f"--prebuilt={export}", "--accel=tcg", "--check-timeout=20")
    whole = tmp_path / "whole"
    proc = run_pytest(whole, *args, env=env)
    assert proc.returncode == ExitStatus.FAILED, proc.stdout + proc.stderr
    run_dir = run_folder(whole)
    summary = json.loads((run_dir / "summary.json").read_text())
    programs = len(listing.programs())
    assert summary["totals"] == {"passed": programs - 1, "failed": 1}
    assert summary["booted"] == GOOD and summary["series"] == "spawn-template v1"
    assert summary["provenance"]["how"] == f"--prebuilt {export}"
    ktap = (run_dir / "results.ktap").read_text()
    # The check's output, its own KTAP lines included, as diagnostic lines.
    assert ("        # global.check_pidfd: FAIL\n        # TAP version 13\n        # 1..1\n"
            "        # # pidfd: expected 0, got 1\n        # not ok 1 global.check_pidfd\n"
            "        not ok 1 global.check_pidfd\n") in ktap
    kcidb = json.loads((run_dir / "kcidb.json").read_text())
    assert {t["status"] for t in kcidb["tests"]} == {"PASS", "FAIL"}

    shards = []
    for i in (1, 2):
        where = tmp_path / f"shard{i}"
        proc = run_pytest(where, *args, f"--shard={i}/2", env=env)
        assert proc.returncode in (ExitStatus.OK, ExitStatus.FAILED), proc.stdout
        shards.append(run_folder(where))
    out = tmp_path / "merged"
    assert merge.main([str(out), *map(str, shards)]) == ExitStatus.FAILED
    merged = json.loads((out / "summary.json").read_text())
    assert merged["totals"] == summary["totals"]
    assert (out / "results.ktap").read_text() == ktap
