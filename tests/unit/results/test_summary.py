import json
from pathlib import Path

from vm.results.summary import Summary, new_run_dir


def test_summary_counts_per_area(tmp_path: Path) -> None:
    s = Summary(kernel="6.12.117", series="spawn-template v1", accel="tcg",
                timings={"build": 1.0, "boot": 5.5})
    s.add("abi_create", "passed", "a")
    s.add("abi_create", "failed", "tests/guest/abi_create.c::global.x")
    s.add("creds", "skipped", "c")
    md = s.to_markdown()
    assert "| abi_create | 1 | 1 | 0 |" in md
    assert "| **total** | 1 | 1 | 1 |" in md
    assert "- tests/guest/abi_create.c::global.x" in md
    s.write(tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["totals"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert data["accel"] == "tcg"


def test_run_dirs_are_unique(tmp_path: Path) -> None:
    assert new_run_dir(tmp_path) != new_run_dir(tmp_path)
