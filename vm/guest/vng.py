"""One virtme-ng guest, driven through pexpect.

The guest runs `sh` as vng's script, so commands go in over a virtio
serial port; the kernel console never shares a channel with them (it goes
to console.log). A command's output goes to a file in the shared folder,
and only a random token with its exit status comes back over the port, so
no output can be mistaken for the framing. The kernel log
streams from /dev/kmsg into a file in the shared folder (vm/guest/kmsg.py reads it).
"""

import contextlib
import os
import re
import secrets
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pexpect

from vm import preflight
from vm.errors import GuestError
from vm.guest.kmsg import KMSG_FILE, KernelLog

BOOT_TIMEOUT_S = 120.0
CONSOLE_TAIL_LINES = 40


@dataclass(frozen=True)
class GuestSpec:
    bzimage: Path
    accel: str  # "kvm" or "tcg"
    memory: str  # as QEMU takes it: "1G"
    cpus: int
    shared_dir: Path  # read-write in the guest, same path
    console_log: Path  # every boot's console, appended


@dataclass(frozen=True)
class CommandResult:
    status: int
    output: str
    seconds: float


class GuestCrashed(GuestError):
    """The guest died (panic, QEMU exit) or stopped answering."""

    def __init__(self, what: str, console_tail: str):
        super().__init__(f"{what}\n--- console (last lines) ---\n{console_tail}")
        self.console_tail = console_tail


def vng_path() -> str:
    """$SUITE_VNG if set (another virtme-ng, or a test's stand-in); else vng
    next to this Python (a venv's, or pyenv's real one: not its slow shim)."""
    if os.environ.get("SUITE_VNG"):
        return os.environ["SUITE_VNG"]
    beside = Path(sys.executable).parent / "vng"
    return str(beside) if beside.is_file() else "vng"


def vng_command(spec: GuestSpec, ready_token: str) -> list[str]:
    """The vng command line: the guest's script announces itself, then is sh."""
    script = (
        # Kernel log to the shared folder, from the start of the ring buffer.
        f"cat /dev/kmsg > {shlex.quote(str(spec.shared_dir / KMSG_FILE))} 2>/dev/null & "
        f"echo {ready_token}; exec /bin/sh 2>&1"
    )
    # --force-9p: Debian's virtiofsd is not the one vng expects; vng would
    # wait for it to fail before falling back to 9p anyway.
    cmd = [vng_path(), "--run", str(spec.bzimage), "--memory", spec.memory,
           "--cpus", str(spec.cpus), f"--rwdir={spec.shared_dir}", "--force-9p",
           "--verbose", "--exec", script]
    if spec.accel == "tcg":
        cmd.insert(3, "--disable-kvm")
    return cmd


def frame(command: str, token: str, output: Path) -> str:
    """A line for sh: run command with its output to a file, then print the token.

    The output goes to a file in the shared folder, so large output never
    crosses the serial line; only the token and the status do. stdin is
    /dev/null so a command cannot eat the next frame; the kmsg mark tells
    the host when the kernel log has caught up with the command.
    """
    return (f"( {command}\n) </dev/null >{shlex.quote(str(output))} 2>&1; __rc=$?; "
            f"echo '<7>suite: mark {token}' > /dev/kmsg; printf '\\n{token} %d\\n' $__rc\n")


class Guest:
    """A booted guest; `run` one command at a time."""

    def __init__(self, spec: GuestSpec):
        self.spec = spec
        self.child: pexpect.spawn[str] | None = None
        self.boot_seconds = 0.0  # from starting vng to the shell
        self.ready_at = 0.0  # time.monotonic() when the shell answered
        self.kmsg = KernelLog(spec.shared_dir / KMSG_FILE)

    @property
    def boot_console(self) -> Path:
        """This boot's console; QEMU truncates it, so each boot has its own."""
        return self.spec.shared_dir / "console.current"

    def boot(self) -> float:
        """Start QEMU through vng and wait for the guest's shell."""
        preflight.require(preflight.GUEST_TOOLS, "boot the guest")
        self.spec.shared_dir.mkdir(parents=True, exist_ok=True)
        self.kmsg.restart()
        token = "suite-ready-" + secrets.token_hex(8)
        argv = vng_command(self.spec, token)
        # stderr of vng is the kernel console; kill() appends it to console.log.
        shell = f"exec {shlex.join(argv)} 2>{shlex.quote(str(self.boot_console))}"
        start = time.monotonic()
        self.child = pexpect.spawn("/bin/sh", ["-c", shell], encoding="utf-8",
                                   codec_errors="replace", echo=False, timeout=None,
                                   maxread=65536)
        self.child.delaybeforesend = None
        try:
            self.child.expect(re.escape(token) + r"\r?\n", timeout=BOOT_TIMEOUT_S)
        except (pexpect.EOF, pexpect.TIMEOUT) as e:
            what = ("exited" if isinstance(e, pexpect.EOF)
                    else f"gave no shell in {BOOT_TIMEOUT_S:.0f} s")
            tail = self.console_tail()
            self.kill()
            raise GuestCrashed(f"guest boot failed: vng {what}", tail) from None
        self.ready_at = time.monotonic()
        self.boot_seconds = self.ready_at - start
        return self.boot_seconds

    @property
    def alive(self) -> bool:
        return self.child is not None and self.child.isalive()

    def run(self, command: str, timeout: float = 60.0) -> CommandResult:
        """Run a shell command; its status and combined output."""
        if not self.alive:
            raise GuestCrashed("guest is not running", self.console_tail())
        assert self.child is not None
        token = "suite-" + secrets.token_hex(8)
        output_file = self.spec.shared_dir / f"out-{token}"
        start = time.monotonic()
        self.child.send(frame(command, token, output_file))
        try:
            self.child.expect(re.escape(token) + r" (\d+)\r?\n", timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            tail = self.console_tail()
            self.kill()
            what = (f"did not finish {command!r} within {timeout:.0f} s (hang); guest killed"
                    if isinstance(e, pexpect.TIMEOUT) else f"died while running {command!r}")
            raise GuestCrashed(f"guest {what}", tail) from None
        match = self.child.match
        assert isinstance(match, re.Match)
        status = int(match.group(1))
        try:
            output = output_file.read_text(errors="replace")
            output_file.unlink()
        except FileNotFoundError:
            output = ""  # the shell could not even open it: status says why
        self._wait_kmsg(f"suite: mark {token}", start + timeout)
        return CommandResult(status, output, time.monotonic() - start)

    def _wait_kmsg(self, mark: str, deadline: float) -> None:
        """Until the kernel log file has the command's mark (bounded)."""
        limit = min(deadline, time.monotonic() + 5.0)
        while time.monotonic() < limit:
            if mark in self.kmsg.unread():
                return
            time.sleep(0.002)

    def kernel_log(self) -> str:
        """What the kernel logged since the last call, as dmesg-style lines."""
        return self.kmsg.read_new()

    def full_kernel_log(self) -> str:
        """Everything the kernel logged since this guest booted."""
        return self.kmsg.read_all()

    def console_tail(self, lines: int = CONSOLE_TAIL_LINES) -> str:
        try:
            text = self.boot_console.read_text(errors="replace")
        except OSError:
            return "(no console log)"
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """Stop QEMU and vng at once (they share a process group)."""
        if self.child is None:
            return
        if self.child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGKILL)
        self.child.close(force=True)
        self.child = None
        self._keep_console()

    def _keep_console(self) -> None:
        with contextlib.suppress(FileNotFoundError), open(self.spec.console_log, "a") as out:
            out.write(f"===== boot of {self.spec.bzimage} =====\n")
            out.write(self.boot_console.read_text(errors="replace"))
            self.boot_console.unlink()

    def shutdown(self, timeout: float = 20.0) -> None:
        """Power off cleanly; kill if the guest does not go."""
        if self.alive:
            assert self.child is not None
            self.child.send("poweroff -f || echo o > /proc/sysrq-trigger\n")
            with contextlib.suppress(pexpect.TIMEOUT):
                self.child.expect(pexpect.EOF, timeout=timeout)
        self.kill()

