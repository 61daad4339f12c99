"""Comparing two recorded spawn-benchmark runs (tests/unit/data/spawnbench):
two runs of one kernel, and a copy with fork_execve made 30% slower."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from vm.bench.spawn import compare, data, stats
from vm.bench.spawn.cli import main
from vm.results.status import ExitStatus

DATA = Path(__file__).parents[2] / "data" / "spawnbench"
A, B, SLOWER = DATA / "host-a.json", DATA / "host-b.json", DATA / "host-a-fork-slower.json"


def test_a_run_against_itself_shows_nothing() -> None:
    a = data.read(A)
    c = compare.compare(a, a)
    assert not c.slowdowns
    flags = {r.flag for r in c.rows}
    assert flags == {stats.NO_DIFFERENCE, compare.NOT_COMPARED}
    # Not compared: spawn_template, which this host lacks.
    assert {r.method for r in c.rows if r.flag == compare.NOT_COMPARED} == {"spawn_template"}
    assert all("unavailable (ENOSYS)" in r.why for r in c.rows if r.ratio is None)
    overlapping, compared = c.overlap_counts()
    assert overlapping == compared > 0


def test_a_slowdown_beyond_the_threshold_is_flagged() -> None:
    c = compare.compare(data.read(A), data.read(SLOWER))
    assert c.slowdowns
    assert {r.method for r in c.slowdowns} == {"fork_execve"}
    for r in c.rows:
        if r.method == "fork_execve" and r.ratio is not None:
            assert r.ratio.value == pytest.approx(1.3, rel=0.01)
        elif r.ratio is not None:
            assert r.flag == stats.NO_DIFFERENCE


def test_a_slowdown_within_the_threshold_is_not_flagged() -> None:
    c = compare.compare(data.read(A), data.read(SLOWER), threshold=0.5)
    assert not c.slowdowns
    fork = [r for r in c.rows if r.method == "fork_execve" and r.ratio is not None]
    assert fork and all(r.flag in (compare.SLOWER_WITHIN, stats.NO_DIFFERENCE) for r in fork)


@pytest.mark.parametrize("low, high, threshold, flag", [
    (1.06, 1.2, 0.05, compare.SLOWDOWN),
    (1.04, 1.2, 0.05, compare.SLOWER_WITHIN),  # above 1 but not wholly above 1.05
    (0.98, 1.2, 0.05, stats.NO_DIFFERENCE),
    (0.8, 0.9, 0.05, stats.FASTER),
    (1.11, 1.3, 0.10, compare.SLOWDOWN),
])
def test_flag(low: float, high: float, threshold: float, flag: str) -> None:
    r = stats.Ratio((low + high) / 2, stats.Interval(low, high))
    assert compare.flag_of(r, threshold) == flag


def test_two_runs_of_one_kernel_repeat_their_ratios_to_posix_spawn() -> None:
    """The repeatability check: B's ratio-to-posix_spawn intervals overlap A's
    (absolute times of this busy host drift between the two runs)."""
    c = compare.compare(data.read(A), data.read(B), flag_on=compare.NORMALIZED)
    overlapping, compared = c.overlap_counts()
    assert compared > 0 and overlapping == compared
    posix = [r for r in c.rows if r.method == "posix_spawn"]
    assert all(r.flag == compare.IS_REFERENCE for r in posix)


def test_a_run_with_the_old_thread_counts_compares_on_the_common_points(
        tmp_path: Path) -> None:
    """host-a.json has threads 1, 2, 4, 8 (the fixed sweep before it followed
    the guest's CPUs); a run on the same 2 CPUs now stops at 4."""
    old, new = data.read(A), data.read(B)
    eight = next(r.point for r in new.points if r.point.threads == 8)
    new.points = [r for r in new.points if r.point != eight]
    new.sweeps = [replace(s, points=tuple(p for p in s.points if p != eight))
                  for s in new.sweeps]
    data.write(new, tmp_path / "new.json")
    new = data.read(tmp_path / "new.json")
    for a, b, only_a, only_b in ((old, new, [eight], []), (new, old, [], [eight])):
        c = compare.compare(a, b, flag_on=compare.NORMALIZED)
        assert c.only_in_a == only_a and c.only_in_b == only_b
        assert {r.point for r in c.rows} == {r.point for r in new.points}
        threads = next(s for s in c.sweeps if s.name == "threads")
        assert [p.threads for p in threads.points] == [1, 2, 4]
        assert "measured in " + ("A" if only_a else "B") + " only: " + eight.key \
            in compare.to_markdown(c, "a", "b")
        assert compare.to_json(c, "a", "b")["only_in_" + ("a" if only_a else "b")] == \
            [eight.key]
        overlapping, compared = c.overlap_counts()
        assert compared > 0 and overlapping == compared


def test_compare_command_writes_table_json_and_exit_status(tmp_path: Path) -> None:
    status = main(["compare", str(A), str(SLOWER), "-o", str(tmp_path), "--no-plots"])
    assert status == ExitStatus.FAILED
    md = (tmp_path / "compare.md").read_text()
    assert "**x1.3" in md and "SLOWDOWN" in md
    blob = json.loads((tmp_path / "compare.json").read_text())
    assert blob["slowdowns"] == len([r for r in blob["rows"] if r["flag"] == "SLOWDOWN"]) > 0
    assert main(["compare", str(A), str(A), "-o", str(tmp_path / "same"),
                 "--no-plots"]) == ExitStatus.OK
    assert main(["compare", str(A), str(tmp_path / "missing.json"), "-o",
                 str(tmp_path / "x"), "--no-plots"]) == ExitStatus.USAGE


def test_environment_mismatch_is_said(tmp_path: Path) -> None:
    a, b = data.read(A), data.read(A)
    b.environment["accelerator"] = "kvm"
    c = compare.compare(a, b)
    assert any(m.startswith("accelerator") for m in c.environment_mismatches())
    assert "**environments differ**" in compare.to_markdown(c, "a", "b")


def test_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from vm.bench.spawn import plots

    run = data.read(A)
    written = plots.plot_run(run, tmp_path)
    names = {p.name for p in written}
    assert {"time_vs_rss.png", "time_vs_rss.svg", "time_vs_threads.png"} <= names
    c = compare.compare(run, data.read(SLOWER))
    written = plots.plot_comparison(compare.rows_for_plot(c), c.sweeps, c.threshold,
                                    "t", tmp_path)
    assert all(p.stat().st_size > 1000 for p in written)


def _in_passes(run: data.RunResult, drift: float) -> data.RunResult:
    """A copy of a run as if measured in six passes, fork_execve's passes
    alternately `drift` slower and faster (work of another kind than the
    reference's, moving with the host between passes)."""
    out = data.from_json(data.to_json(run))
    for p in out.points:
        for name, m in p.methods.items():
            if m.status != data.OK or len(m.samples) < 12:
                continue
            size = len(m.samples) // 6
            m.samples = m.samples[:6 * size]
            m.pass_sizes = [size] * 6
            if name == "fork_execve":
                m.samples = [round(x * (1 + drift if (i // size) % 2 else 1 - drift))
                             for i, x in enumerate(m.samples)]
        p._ratios.clear()
    return out


def test_runs_in_passes_compare_over_passes() -> None:
    a = _in_passes(data.read(A), 0.0)
    b = _in_passes(data.read(A), 0.06)
    c = compare.compare(a, b, flag_on=compare.NORMALIZED)
    rows = [r for r in c.rows if r.method == "fork_execve" and r.ratio is not None]
    assert rows
    # The pass-to-pass drift widens B's intervals: still no slowdown, and
    # B's ratios to posix_spawn still overlap A's.
    assert not c.slowdowns
    assert all(r.reference_overlap for r in rows)
    p = b.points[0]
    fork = p.ratio("fork_execve")
    assert fork is not None and fork.ci.high - fork.ci.low > 0.1
    # A real slowdown of every pass is still flagged.
    slower = _in_passes(data.read(A), 0.0)
    for pt in slower.points:
        m = pt.methods.get("fork_execve")
        if m is not None and m.status == data.OK:
            m.samples = [round(x * 1.3) for x in m.samples]
        pt._ratios.clear()
    assert compare.compare(a, slower, flag_on=compare.NORMALIZED).slowdowns


def test_a_run_in_passes_against_an_old_one_compares_pooled_without_overlaps() -> None:
    old, new = data.read(A), _in_passes(data.read(A), 0.0)
    c = compare.compare(old, new, flag_on=compare.NORMALIZED)
    rows = [r for r in c.rows if r.ratio is not None and r.method != "posix_spawn"]
    assert rows and not c.slowdowns
    # A pass interval and a pooled one are not set side by side.
    assert all(r.reference_overlap is None for r in rows)
    assert c.overlap_counts() == (0, 0)
