"""Prints a progress line, then waits for whoever reads stdout to have seen it."""

import os
import time
from pathlib import Path

from vm.suite import Suite


def test_progress_line_reaches_the_reader_at_once(suite: Suite) -> None:
    suite.progress("live-progress-marker")
    seen = Path(os.environ["LIVE_PROGRESS_SEEN"])
    deadline = time.monotonic() + 20
    while not seen.exists():
        assert time.monotonic() < deadline, "the reader never saw the progress line"
        time.sleep(0.05)
