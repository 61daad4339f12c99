"""The gate's spawn benchmark (`vm.gate --bench`) on recorded results: the
benchmark runs are a fake subprocess that leaves a recorded spawnbench.json
where `vm.spawnbench run` would (no VM, no build)."""

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from vm.bench.spawn import compare, data
from vm.errors import HarnessError
from vm.gate import bench as gate_bench
from vm.gate import cli, guest_runs
from vm.gate.bench_report import BenchReport, from_comparison
from vm.gate.report import GateResult, PatchRow, decide, load, write
from vm.paths import REPO_ROOT
from vm.results.outcomes import Outcome, Status
from vm.results.status import ExitStatus

from ..conftest import DATA

BENCH = DATA / "spawnbench"
# host-a.json and host-b.json: two runs of one kernel; host-a-fork-slower.json:
# host-a with fork_execve 30% slower (tests/unit/data/spawnbench/README.md).
A, B, SLOWER = BENCH / "host-a.json", BENCH / "host-b.json", BENCH / "host-a-fork-slower.json"
PASS = Outcome(Status.PASSED, 1.0, "")


class FakeSpawnbench:
    """subprocess for gate_bench: `vm.spawnbench run --series S` leaves
    results[S] as <results-dir>/<n>/bench/spawnbench.json and exits status."""

    STDOUT = subprocess.STDOUT

    def __init__(self, results: dict[str, Path], status: int = 0):
        self.results = results
        self.status = status
        self.calls: list[list[str]] = []

    def run(self, cmd: list[str], cwd: Path, stdout: object, stderr: object) -> SimpleNamespace:
        self.calls.append(cmd)
        series = cmd[cmd.index("--series") + 1]
        folder = Path(cmd[cmd.index("--results-dir") + 1]) / f"run-{len(self.calls):02d}"
        if series in self.results:
            (folder / "bench").mkdir(parents=True)
            shutil.copyfile(self.results[series], folder / "bench" / "spawnbench.json")
        return SimpleNamespace(returncode=self.status)

    @property
    def series(self) -> list[str]:
        return [c[c.index("--series") + 1] for c in self.calls]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSpawnbench:
    runs = FakeSpawnbench({"v2": SLOWER, "v1": A})
    monkeypatch.setattr(guest_runs, "subprocess", runs)
    return runs


REQUEST = gate_bench.Request(["lkdtm"], None, 300.0, "rss,threads")


def bench(tmp_path: Path, name: str, baseline: gate_bench.Baseline | None) -> BenchReport:
    run_dir = tmp_path / name
    run_dir.mkdir()
    return gate_bench.bench(REQUEST, "v2", tmp_path / "cache" / "gate" / "v2.spawnbench.json",
                            baseline, run_dir, lambda _: None, with_plots=False)


def test_the_revision_and_a_series_baseline_are_run_and_compared(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    store = tmp_path / "cache" / "gate" / "v1.spawnbench.json"
    report = bench(tmp_path, "gate-1", gate_bench.Baseline("v1", store=store))
    # The revision first, then the baseline right after it.
    assert fake.series == ["v2", "v1"]
    cmd = fake.calls[0]
    assert cmd[:4] == [sys.executable, "-m", "vm.spawnbench", "run"]
    assert cmd[cmd.index("--kconfig") + 1] == "lkdtm" and "--no-plots" in cmd
    assert cmd[cmd.index("--budget") + 1] == "300.0"
    assert cmd[cmd.index("--sweeps") + 1] == "rss,threads"
    assert report.baseline_from == "run" and report.flag_on == compare.NORMALIZED
    assert report.slowdowns and {r.method for r in report.slowdowns} == {"fork_execve"}
    assert not report.only_in_revision and not report.only_in_baseline
    # Kept for later gates: in the gate's folder and in the cache, both sides.
    folder = tmp_path / "gate-1" / "bench"
    assert report.revision == str(folder / "spawnbench.json")
    assert data.read(folder / "spawnbench.json").points and store.is_file()
    assert (tmp_path / "cache" / "gate" / "v2.spawnbench.json").is_file()
    written = json.loads((folder / "compare.json").read_text())
    assert written["flag_on"] == "normalized" and written["slowdowns"] == len(report.slowdowns)
    assert "SLOWDOWN" in (folder / "compare.md").read_text()


def test_a_cached_baseline_is_used_when_measured_alike(tmp_path: Path,
                                                       fake: FakeSpawnbench) -> None:
    store = tmp_path / "cache" / "gate" / "v1.spawnbench.json"
    bench(tmp_path, "gate-1", gate_bench.Baseline("v1", store=store))
    report = bench(tmp_path, "gate-2", gate_bench.Baseline("v1", store=store))
    assert fake.series == ["v2", "v1", "v2"] and report.baseline_from == "cache"
    assert report.baseline == str(store)
    # Measured with another accelerator: run again, and kept instead.
    cached = json.loads(store.read_text())
    cached["environment"]["accelerator"] = "kvm"
    store.write_text(json.dumps(cached))
    report = bench(tmp_path, "gate-3", gate_bench.Baseline("v1", store=store))
    assert fake.series[-2:] == ["v2", "v1"] and report.baseline_from == "run"
    assert json.loads(store.read_text())["environment"]["accelerator"] != "kvm"


def test_a_results_folder_baseline_brings_its_result_or_says_it_has_none(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    previous = tmp_path / "gate-previous"
    (previous / "bench").mkdir(parents=True)
    shutil.copyfile(DATA / "gate-v2-vs-v1.json", previous / "gate.json")
    shutil.copyfile(A, previous / "bench" / "spawnbench.json")
    given = cli.Baseline(str(previous))
    assert given.bench == previous / "bench" / "spawnbench.json"
    report = bench(tmp_path, "gate-1", gate_bench.Baseline(given.spec, result=given.bench))
    assert fake.series == ["v2"] and report.baseline_from == "results folder"
    assert {r.method for r in report.slowdowns} == {"fork_execve"}

    (previous / "bench" / "spawnbench.json").unlink()
    given = cli.Baseline(str(previous))
    assert given.bench is None
    report = bench(tmp_path, "gate-2", gate_bench.Baseline(given.spec, result=given.bench))
    assert not report.rows and "has no bench/spawnbench.json" in report.note
    assert report.revision.endswith("spawnbench.json") and not report.slowdowns


def test_a_baseline_result_can_be_given_as_a_results_folder_or_a_file(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    """--bench-baseline: a `vm.spawnbench run`'s results folder (its
    bench/spawnbench.json), or the file itself; nothing of the baseline runs."""
    run = tmp_path / "20261130-140255"
    (run / "bench").mkdir(parents=True)
    shutil.copyfile(A, run / "bench" / "spawnbench.json")
    for spec in (str(run), str(run / "bench" / "spawnbench.json")):
        assert gate_bench.given(spec) == run / "bench" / "spawnbench.json"
    report = bench(tmp_path, "gate-1", gate_bench.Baseline(
        str(run), result=gate_bench.given(str(run)), origin="--bench-baseline"))
    assert fake.series == ["v2"] and report.baseline_from == "--bench-baseline"
    assert {r.method for r in report.slowdowns} == {"fork_execve"}


def test_a_benchmark_run_without_a_result_is_an_infrastructure_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guest_runs, "subprocess", FakeSpawnbench({}, status=11))
    (tmp_path / "gate-1").mkdir()
    with pytest.raises(HarnessError, match="ended with status 11"):
        gate_bench.bench(REQUEST, "v2", tmp_path / "v2.spawnbench.json", None,
                         tmp_path / "gate-1", lambda _: None, with_plots=False)


def test_a_failed_point_leaves_a_result_and_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = json.loads(B.read_text())
    failed["points"][1]["error"] = "1 kernel report(s) while the test ran:\nWARNING: x"
    (tmp_path / "failed.json").write_text(json.dumps(failed))
    # Exit status 1: a point failed; the run still wrote its result.
    monkeypatch.setattr(guest_runs, "subprocess",
                        FakeSpawnbench({"v2": tmp_path / "failed.json"}, status=1))
    report = bench(tmp_path, "gate-1", gate_bench.Baseline("previous", result=B))
    key = failed["points"][1]["key"]
    assert report.failed_points == [f"revision: {key}: 1 kernel report(s) while the test ran:"]
    r = GateResult(series="s v2", series_key="k", kernel="6.12.117 from x", fragments=["base"],
                   rows=[PatchRow(1, "0001-p.patch", "p1", builds=True)], guest={"a": PASS},
                   bench=report)
    decide(r, strict=False)
    assert r.status is ExitStatus.OK
    assert r.warnings == ["spawn benchmark: 1 point(s) of the revision's run failed"]


def gate_with(report: BenchReport) -> GateResult:
    return GateResult(series="s v2", series_key="k", kernel="6.12.117 from x",
                      fragments=["base"], rows=[PatchRow(1, "0001-p.patch", "p1", builds=True)],
                      guest={"a": PASS}, bench=report)


def verdict(r: GateResult, strict: bool) -> ExitStatus:
    decide(r, strict)
    return r.status


def test_slowdowns_are_warnings_and_fail_the_gate_only_with_strict(tmp_path: Path) -> None:
    c = compare.compare(data.read(A), data.read(SLOWER), flag_on=compare.NORMALIZED)
    r = gate_with(from_comparison(c, "rev.json", "base.json", "run"))
    assert verdict(r, strict=False) is ExitStatus.OK and not r.reasons
    assert len(r.warnings) == 1 and "slowdown(s) beyond 5% (normalized)" in r.warnings[0]
    assert "fork_execve" in r.warnings[0]
    assert verdict(r, strict=True) is ExitStatus.FAILED and not r.warnings
    assert r.reasons[0].startswith("spawn benchmark:") and r.reasons[0].endswith("(--strict)")



def test_two_runs_of_one_kernel_flag_only_the_oversubscribed_point() -> None:
    """host-a then host-b, one kernel: the one normalized slowdown is at
    threads=8, 4 threads per CPU of that 2-CPU host (the sweep now stops at
    4 there): a warning, which is why slowdowns fail only with --strict."""
    c = compare.compare(data.read(A), data.read(B), flag_on=compare.NORMALIZED)
    report = from_comparison(c, "rev.json", "base.json", "run")
    assert [(row.point.split()[-1], row.method) for row in report.slowdowns] == [
        ("threads=8", "clone3_execve")]
    r = gate_with(report)
    assert verdict(r, strict=False) is ExitStatus.OK and len(r.warnings) == 1


def test_the_reports_hold_the_comparison_and_read_back(tmp_path: Path) -> None:
    c = compare.compare(data.read(A), data.read(SLOWER), flag_on=compare.NORMALIZED)
    r = gate_with(from_comparison(c, "rev.json", "base.json", "cache"))
    decide(r, strict=False)
    write(r, tmp_path)
    blob = json.loads((tmp_path / "gate.json").read_text())
    assert blob["status"] == "ok" and blob["warnings"] == r.warnings
    bench_json = blob["bench"]
    assert bench_json["baseline_from"] == "cache" and bench_json["flag_on"] == "normalized"
    flagged = [row for row in bench_json["rows"] if row["flag"] == compare.SLOWDOWN]
    assert flagged and all(row["method"] == "fork_execve" for row in flagged)
    value, low, high = flagged[0]["normalized"]
    assert low > 1.05 and low <= value <= high and value == pytest.approx(1.3, rel=0.02)
    md = (tmp_path / "gate.md").read_text()
    assert "# Gate: s v2: PASS" in md and "- warning: spawn benchmark:" in md
    assert "## Spawn benchmark against the baseline" in md
    assert "**x1.3" in md and "SLOWDOWN" in md
    assert "| baseline: unavailable (ENOSYS) |" in md  # spawn_template, on that host
    # One line per point, one column per method but posix_spawn (the reference).
    header = next(line for line in md.splitlines() if line.startswith("| point |"))
    assert "posix_spawn" not in header and "fork_execve" in header
    assert load(tmp_path / "gate.json").guest == r.guest
    # Without --bench: no section, "bench": null.
    plain = gate_with(r.bench or BenchReport(""))
    plain.bench = None
    decide(plain, strict=True)
    write(plain, tmp_path)
    assert json.loads((tmp_path / "gate.json").read_text())["bench"] is None
    assert "Spawn benchmark" not in (tmp_path / "gate.md").read_text()


def test_a_baseline_with_the_old_thread_counts_compares_on_the_common_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """host-a.json has threads=8 on 2 CPUs (before the sweep followed the
    CPUs); a revision measured now stops at 4."""
    new = data.read(B)
    eight = next(r.point for r in new.points if r.point.threads == 8)
    new.points = [r for r in new.points if r.point != eight]
    new.sweeps = [replace(s, points=tuple(p for p in s.points if p != eight))
                  for s in new.sweeps]
    data.write(new, tmp_path / "new.json")
    monkeypatch.setattr(guest_runs, "subprocess", FakeSpawnbench({"v2": tmp_path / "new.json"}))
    report = bench(tmp_path, "gate-1", gate_bench.Baseline("old", result=A))
    assert report.only_in_baseline == [eight.key] and not report.only_in_revision
    assert eight.key not in {r.point for r in report.rows} and not report.slowdowns
    overlapping, compared = report.reference_overlap
    assert compared > 0 and overlapping == compared
    r = gate_with(report)
    decide(r, strict=True)
    write(r, tmp_path)
    assert r.status is ExitStatus.OK
    assert f"measured in the baseline only, not compared: {eight.key}" in \
        (tmp_path / "gate.md").read_text()


def test_bench_options_are_checked_before_any_build(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--results-dir", str(tmp_path / "results")]
    assert cli.main(["--bench", "--bench-sweeps", "rss,numa", *out]) == ExitStatus.USAGE
    assert cli.main(["--bench-budget", "300", *out]) == ExitStatus.USAGE
    assert cli.main(["--bench", "--bench-budget", "0", *out]) == ExitStatus.USAGE
    assert cli.main(["--bench", "--bench-baseline", str(tmp_path), *out]) == ExitStatus.USAGE
    (tmp_path / "not-a-result.json").write_text("{}")
    assert cli.main(["--bench", "--bench-baseline", str(tmp_path / "not-a-result.json"),
                     *out]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert "unknown sweep(s) numa" in err and "go with --bench" in err
    assert "more than 0" in err and "no spawnbench.json" in err
    assert "not a spawn benchmark result" in err
    assert not (tmp_path / "results").exists()
    args = cli.parse_args(["--bench", "--bench-budget", "300", "--bench-sweeps", "rss"])
    assert args.bench and args.bench_budget == 300.0 and args.bench_sweeps == "rss"
    assert not cli.parse_args([]).bench


def test_the_gate_keeps_a_series_bench_next_to_its_guest_outcomes(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    """vm.gate's wiring: the revision's and a series baseline's results go to
    gate/<key>.spawnbench.json beside gate/<key>.json; --bench-baseline wins."""
    from vm.cache import Cache
    from vm.kernel import series

    v1, v2 = (REPO_ROOT / "patches" / "spawn-template" / r for r in ("v1", "v2"))
    fake.results = {str(v2): SLOWER, str(v1): A}
    cache = Cache(tmp_path / "cache")
    args = cli.parse_args(["--series", str(v2), "--baseline", str(v1), "--bench"])
    full, base = series.load(str(v2)), cli.Baseline(str(v1))
    (tmp_path / "gate-1").mkdir()
    report = cli._bench(args, base, cache, "c0ffee", full, tmp_path / "gate-1")
    assert fake.series == [str(v2), str(v1)] and report.baseline_from == "run"
    for s in (full, base.series):
        assert s is not None
        outcomes = cli._stored_run(cache, "c0ffee", s, [])
        assert (outcomes.parent / f"{outcomes.stem}.spawnbench.json").is_file()
    (tmp_path / "gate-2").mkdir()
    report = cli._bench(args, base, cache, "c0ffee", full, tmp_path / "gate-2")
    assert report.baseline_from == "cache" and len(fake.calls) == 3
    args = cli.parse_args(["--series", str(v2), "--baseline", str(v1), "--bench",
                           "--bench-baseline", str(B)])
    (tmp_path / "gate-3").mkdir()
    report = cli._bench(args, base, cache, "c0ffee", full, tmp_path / "gate-3")
    assert report.baseline_from == "--bench-baseline" and report.baseline == str(B)
    assert len(fake.calls) == 4


def test_a_benchmark_that_cannot_run_leaves_the_checks_verdict(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    """The runner's trouble in the opt-in benchmark is a warning: the gate
    still writes its report and exits with the checks' verdict."""
    from vm.cache import Cache
    from vm.kernel import series

    v2 = REPO_ROOT / "patches" / "spawn-template" / "v2"
    fake.results, fake.status = {}, 2
    args = cli.parse_args(["--series", str(v2), "--bench"])
    (tmp_path / "gate-1").mkdir()
    report = cli._bench(args, None, Cache(tmp_path / "cache"), "c0ffee",
                        series.load(str(v2)), tmp_path / "gate-1")
    assert report.error and not report.rows
    r = gate_with(report)
    assert verdict(r, strict=False) is ExitStatus.OK
    assert r.warnings and r.warnings[0].startswith("spawn benchmark did not run:")
    assert verdict(r, strict=True) is ExitStatus.FAILED
    write(r, tmp_path / "gate-1")
    assert "The benchmark did not run" in (tmp_path / "gate-1" / "gate.md").read_text()


def test_a_baseline_series_with_the_revisions_key_is_run_not_taken_from_its_own_result(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    own = tmp_path / "cache" / "gate" / "v2.spawnbench.json"
    report = bench(tmp_path, "gate-1", gate_bench.Baseline("v1", store=own))
    # The revision's result was just stored there: the baseline was run instead.
    assert fake.series == ["v2", "v1"] and report.baseline_from == "run"


def test_a_cached_baseline_with_other_settings_is_run_again(
        tmp_path: Path, fake: FakeSpawnbench) -> None:
    store = tmp_path / "cache" / "gate" / "v1.spawnbench.json"
    store.parent.mkdir(parents=True)
    cached = json.loads(A.read_text())
    cached["settings"]["budget_s"] = 30.0
    store.write_text(json.dumps(cached))
    report = bench(tmp_path, "gate-1", gate_bench.Baseline("v1", store=store))
    assert fake.series == ["v2", "v1"] and report.baseline_from == "run"


def test_slowdowns_against_another_machine_are_not_counted() -> None:
    c = compare.compare(data.read(A), data.read(SLOWER), flag_on=compare.NORMALIZED)
    report = from_comparison(c, "rev.json", "base.json", "--bench-baseline")
    report.environment_mismatches = ["accel: A 'kvm', B 'tcg'"]
    r = gate_with(report)
    assert verdict(r, strict=False) is ExitStatus.OK
    assert len(r.warnings) == 1 and "not counted" in r.warnings[0]
    # Not counted means not counted: --strict does not fail on them either.
    assert verdict(r, strict=True) is ExitStatus.OK
    assert len(r.warnings) == 1 and not r.reasons
