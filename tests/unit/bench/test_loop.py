"""vm.bench loop's arithmetic: the projection for N workers and the cold
builds read back from a run's summaries."""

import json
from pathlib import Path

from vm.bench.harness import loop


def test_makespan_schedules_longest_first_onto_the_least_loaded() -> None:
    durations = [30.0, 10.0, 10.0, 10.0, 5.0, 5.0]
    assert loop.makespan(durations, 1) == 70.0
    assert loop.makespan(durations, 2) == 35.0  # 30+5 | 10+10+10+5
    # No worker can finish before the longest check.
    assert loop.makespan(durations, 4) == 30.0


def test_junit_durations_are_every_test_case(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite><testcase name="a" time="1.5"/>'
                     '<testcase name="b" time="2"/><testcase name="c"/></testsuite></testsuites>')
    assert loop.junit_durations(junit) == [1.5, 2.0, 0.0]


def test_cold_builds_are_the_base_run_and_the_series(tmp_path: Path) -> None:
    run = tmp_path / "20261207-150000"
    base = run / "workers" / "gw0" / "base" / "20261207-150001"
    base.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"timings_s": {"build": 61.0, "boot": 30.0}}))
    (base / "summary.json").write_text(json.dumps({"timings_s": {"build": 540.0}}))
    assert loop.cold_builds(run) == (540.0, 61.0)


def test_a_fresh_row_is_the_wall_time_against_both_builds() -> None:
    row = loop.fresh_row("now (abc)", (816.0, 0, 314.4, 316.4))
    assert row == "| now (abc) | 816 s (exit 0) | 314 s | 316 s | 1.29x |"
    # A run that built nothing (it failed first) has no ratio.
    assert loop.fresh_row("x", (20.0, 2, 0.0, 0.0)).endswith("| - |")
