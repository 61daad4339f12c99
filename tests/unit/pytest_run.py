"""Running the suite's own pytest (conftest.py and all) in a subprocess,
as a CI would: stdout a pipe, a results folder and a cache of the test's own."""

import os
import subprocess
import sys
from pathlib import Path

from vm.paths import REPO_ROOT

# Small test files that drive the suite's conftest (not collected on their own).
RUNS = Path(__file__).parent / "data" / "pytest_runs"


def pytest_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # tox passes neither: stdout is then block-buffered, as in CI.
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTHONUNBUFFERED", None)
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), **extra)
    return env


def pytest_cmd(tmp_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
            f"--rootdir={REPO_ROOT}", f"--results-dir={tmp_path / 'results'}", *args]


def run_pytest(tmp_path: Path, *args: str, timeout: float = 120,
               env: dict[str, str] | None = None,
               **more_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_cmd(tmp_path, *args), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env=pytest_env(tmp_path, **(env or {}), **more_env))


def run_folder(tmp_path: Path) -> Path:
    """The one results/<run-id>/ a run made."""
    (run_dir,) = (tmp_path / "results").iterdir()
    return run_dir
