"""Running host commands with their output kept for error messages."""

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from vm.errors import HarnessError


def run(
    cmd: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    error: type[HarnessError] = HarnessError,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run cmd, capturing output; on failure raise `error` with its stderr."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as e:
        raise error(f"{cmd[0]}: not installed (needed to run: {' '.join(cmd)})") from e
    if check and proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-15:]
        raise error(
            f"'{' '.join(cmd)}' failed with status {proc.returncode}"
            + (f" in {cwd}" if cwd else "")
            + (":\n  " + "\n  ".join(tail) if tail else "")
        )
    return proc

