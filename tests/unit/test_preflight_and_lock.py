import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from vm import preflight
from vm.cache import Cache, contain_temporaries, locked
from vm.errors import HarnessError
from vm.progress import silent


def test_missing_tool_is_named_with_its_package() -> None:
    with pytest.raises(HarnessError, match=r"no-such-tool-x \(from pkg-x\)"):
        preflight.require({"sh": "dash", "no-such-tool-x": "pkg-x"}, "test")
    preflight.require({"sh": "dash"}, "test")


def test_second_run_waits_for_the_cache_lock(tmp_path: Path) -> None:
    messages: list[str] = []
    holder = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).parents[2])!r})
from vm.cache import Cache, locked
with locked(Cache(__import__('pathlib').Path({str(tmp_path)!r})), lambda m: None):
    print('held', flush=True)
    time.sleep(1.5)
"""
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    start = time.monotonic()
    with locked(Cache(tmp_path), messages.append):
        waited = time.monotonic() - start  # we only got it once the holder let go
    assert waited > 0.5
    assert messages and "waiting" in messages[0]
    proc.wait()
    with locked(Cache(tmp_path), silent):
        pass


def test_temporaries_go_to_the_cache_not_tmp(cache: Cache,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", "/tmp")
    monkeypatch.setattr(tempfile, "tempdir", None)
    contain_temporaries(cache)
    assert os.environ["TMPDIR"] == str(cache.tmp)
    with tempfile.NamedTemporaryFile() as f:
        assert Path(f.name).parent == cache.tmp
    # What the suite starts (gcc, git, vng) inherits it.
    out = subprocess.run(["sh", "-c", 'echo "$TMPDIR"'], capture_output=True, text=True)
    assert out.stdout.strip() == str(cache.tmp)
