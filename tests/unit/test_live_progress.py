"""[suite] progress lines reach a pipe (tox, CI) as they happen, not at exit."""

import subprocess
from pathlib import Path

from vm.paths import REPO_ROOT

from .pytest_run import RUNS, pytest_cmd, pytest_env


def test_progress_lines_are_not_held_back_by_a_pipe(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    cmd = pytest_cmd(tmp_path, str(RUNS / "test_live_progress.py"))
    env = pytest_env(tmp_path, LIVE_PROGRESS_SEEN=str(seen))
    with subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "[suite] live-progress-marker" in line:
                seen.touch()  # the test in the child may now finish
        status = proc.wait(timeout=60)
    # The child test fails if the line only came out once it had finished.
    assert status == 0, "".join(lines)
