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


def git(repo: Path, *args: str, check: bool = True,
        error: type[HarnessError] = HarnessError,
        extra_env: Mapping[str, str] | None = None, stdin: str | None = None) -> str:
    """Run a git command in repo and return its stripped stdout."""
    env = {
        **(extra_env or {}),
        "GIT_AUTHOR_NAME": "spawn-template-suite",
        "GIT_AUTHOR_EMAIL": "suite@localhost",
        "GIT_COMMITTER_NAME": "spawn-template-suite",
        "GIT_COMMITTER_EMAIL": "suite@localhost",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(Path.home()),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LC_ALL": "C",
    }
    return run(["git", "-c", "safe.directory=*", "-C", str(repo), *args], env=env, check=check,
               error=error, stdin=stdin).stdout.strip()
