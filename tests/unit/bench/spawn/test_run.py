"""The spawn benchmark without a guest: the guest program's output parsed,
points run through a fake Execute, the plan, the JSON, the table."""

import json
from pathlib import Path

import pytest

from vm.bench.spawn import data, output, plan, points, stats, table
from vm.bench.spawn.measure import CommandResult, result_of, run_point

DATA = Path(__file__).parents[2] / "data" / "spawnbench"
RECORDED = (DATA / "bench_spawn-host.out").read_text()
BINARY = Path("/cache/checks/bench_spawn")


def test_recorded_output_parses() -> None:
    out = output.parse(RECORDED)
    assert out.complete
    assert out.params["actions"] == "8" and out.params["threads"] == "2"
    assert out.methods["spawn_template"] == output.MethodState("unavailable", "ENOSYS")
    assert out.methods["posix_spawn"] == output.MethodState("ok")
    # 4 samples per thread, 2 threads, pooled.
    assert {m: len(s) for m, s in out.samples.items()} == {
        m: 8 for m in points.METHODS if m != "spawn_template"}


def test_unavailable_method_is_reported_not_measured() -> None:
    result = result_of(points.Point(actions=8, threads=2), 4, output.parse(RECORDED), 1.0)
    st = result.method("spawn_template")
    assert (st.status, st.detail, st.samples) == (data.UNAVAILABLE, "ENOSYS", [])
    assert st.summary() is None
    assert result.ratio("spawn_template") is None
    assert result.method("fork_execve").status == data.OK


def _program_output(samples: dict[str, list[int]], end: bool = True,
                    extra: str = "") -> str:
    lines = ["spawnbench 1", "param rss_mib 0", "info cpus 2"]
    lines += [f"method {m} ok" for m in samples]
    lines += ["method spawn_template failed child wait status 0x100"]
    lines += [f"s {m} 0 {ns}" for m, v in samples.items() for ns in v]
    lines += [extra] if extra else []
    lines += ["end 12345"] if end else []
    return "\n".join(lines) + "\n"


def test_failed_method_and_truncated_run() -> None:
    text = _program_output({"posix_spawn": [10, 11, 12]})
    out = output.parse(text)
    assert out.methods["spawn_template"] == output.MethodState(
        "failed", "child wait status 0x100")
    truncated = output.parse(_program_output({"posix_spawn": [10, 11]}, end=False))
    assert not truncated.complete
    r = result_of(points.Point(), 3, truncated, 1.0)
    assert r.error and r.method("posix_spawn").status == data.FAILED


@pytest.mark.parametrize("text, message", [
    ("hello\n", "expected 'spawnbench 1'"),
    ("", "no 'spawnbench' header"),
    ("spawnbench 1\ns posix_spawn 0 5\n", "not declared ok"),
    ("spawnbench 1\nmethod posix_spawn ok\ns posix_spawn 0 x\n", "not an integer"),
    ("spawnbench 1\nmethod posix_spawn ok\ns posix_spawn 0 -4\n", "negative"),
    ("spawnbench 1\nmethod posix_spawn maybe\n", "unknown method status"),
    ("spawnbench 1\nsurprise 1 2\n", "unknown record"),
    ("spawnbench 1\nend 5\nparam a b\n", "after the end record"),
])
def test_malformed_output_is_refused(text: str, message: str) -> None:
    with pytest.raises(output.OutputError, match=message):
        output.parse(text)


def test_point_command_line() -> None:
    p = points.Point(rss_mib=64, fds=1000, fd_mode="inherit", argv_kib=128, actions=8,
                     threads=4)
    argv = p.argv(BINARY, samples=50, warmup=3)
    assert argv == [str(BINARY), "-n", "50", "-w", "3", "-r", "64", "-f", "1000", "-a", "8",
                    "-A", "128", "-t", "4", "-i"]
    assert "-m" in points.Point().argv(BINARY, 5, 1, ("posix_spawn", "fork_execve"))


def test_default_sweeps_have_the_issues_sizes() -> None:
    sweeps = {s.name: s for s in points.default_sweeps(2)}
    assert [p.rss_mib for p in sweeps["rss"].points] == [0, 64, 512]
    assert [(p.fds, p.fd_mode) for p in sweeps["fds-inherit"].points] == [
        (3, "inherit"), (1000, "inherit"), (10000, "inherit")]
    assert [p.actions for p in sweeps["actions"].points] == [0, 8, 64, 256]
    assert [p.threads for p in sweeps["threads"].points] == [1, 2, 4]
    assert [p.argv_kib for p in sweeps["argv"].points] == [0, 128]
    unique = points.unique_points(points.default_sweeps(2))
    assert len(unique) == 14 and unique[0] == points.BASELINE
    assert len({p.key for p in unique}) == 14
    with pytest.raises(ValueError, match="unknown sweep"):
        points.for_cpus(["rss", "numa"], 2)


@pytest.mark.parametrize("cpus, threads", [
    (1, (1, 2)),
    (2, (1, 2, 4)),  # this machine's TCG guest: at most 2x oversubscribed, not 8 on 2
    (3, (1, 3, 6)),
    (4, (1, 2, 4, 8)),
    (16, (1, 8, 16, 32)),
    (48, (1, 24, 48, 64)),  # bench_spawn.c's MAX_THREADS
])
def test_threads_scale_with_the_guests_cpus(cpus: int, threads: tuple[int, ...]) -> None:
    assert points.thread_counts(cpus) == threads
    sweep = points.for_cpus(["threads"], cpus)[0]
    assert tuple(p.threads for p in sweep.points) == threads
    assert max(threads) <= max(2 * cpus, 1) and threads[0] == 1
    with pytest.raises(ValueError):
        points.thread_counts(0)


def test_an_unknown_sweep_is_a_usage_error(tmp_path: Path) -> None:
    from vm.bench.spawn.cli import main
    from vm.results.status import ExitStatus

    assert main(["run", "--on-host", "--sweeps", "rss,numa",
                 "--results-dir", str(tmp_path)]) == ExitStatus.USAGE
    assert not list(tmp_path.iterdir())


def test_the_threads_follow_the_cpus_the_guest_reports() -> None:
    from vm.bench.spawn import session

    assert session.measured_cpus({"guest_cpus": 16}, 2) == 16
    # nproc's output unreadable, or not asked: the CPUs the guest was given.
    assert session.measured_cpus({"guest_cpus": "?"}, 2) == 2
    assert session.measured_cpus({}, 4) == 4


class FakeGuest:
    """Answers every point with the same samples (ns) per method."""

    def __init__(self, ok: bool = True, text: str | None = None):
        self.commands: list[str] = []
        self.ok = ok
        self.text = text

    def __call__(self, command: str, timeout: float) -> CommandResult:
        self.commands.append(command)
        if not self.ok:
            return CommandResult(False, "", 2.0, "1 kernel report(s) while the test ran:\nWARN")
        text = self.text if self.text is not None else _program_output(
            {"posix_spawn": [100 + i for i in range(30)],
             "vfork_execve": [80 + i for i in range(30)]})
        return CommandResult(True, text, 2.0)


def test_run_point_through_a_fake_guest() -> None:
    guest = FakeGuest()
    r = run_point(guest, BINARY, points.Point(threads=2), 30, 3, 60.0)
    assert guest.commands[0].startswith(f"{BINARY} -n 30 -w 3 ")
    assert r.error == ""
    assert r.method("posix_spawn").summary() is not None
    assert r.method("clone3_execve").status == data.MISSING
    ratio = r.ratio("vfork_execve")
    assert ratio is not None and ratio.verdict == "faster"


def test_a_guest_failure_is_the_points_error() -> None:
    r = run_point(FakeGuest(ok=False), BINARY, points.Point(), 30, 3, 60.0)
    assert "kernel report" in r.error
    assert all(m.status == data.FAILED for m in r.methods.values())
    r = run_point(FakeGuest(text="garbage\n"), BINARY, points.Point(), 30, 3, 60.0)
    assert r.error.startswith("unreadable output")


def test_plan_scales_with_the_pilot_halfwidth() -> None:
    pilot = plan.Pilot(points.Point(), threads=1, rounds=12, seconds=3.0, round_seconds=0.2,
                       worst_halfwidth=0.10)
    assert plan.wanted_samples(pilot, 10, 0.05, 20, 2000) == 40
    threaded = plan.Pilot(points.Point(threads=4), 4, 12, 3.0, 0.2, 0.10)
    assert plan.wanted_samples(threaded, 10, 0.05, 5, 2000) == 40  # 160 pooled
    unknown = plan.Pilot(points.Point(), 1, 12, 3.0, 0.2, None)
    assert plan.wanted_samples(unknown, 10, 0.05, 20, 2000) == 2000
    assert pilot.fixed_seconds == pytest.approx(0.6)
    assert pilot.cost(40, 3) == pytest.approx(0.6 + 43 * 0.2)


def test_plan_fits_the_budget_but_keeps_the_minimum() -> None:
    pilots = [plan.Pilot(points.Point(rss_mib=r), 1, 12, 1.0, 0.05, 0.2) for r in (0, 64)]
    wanted = [1000, 100]
    assert plan.fit(pilots, wanted, 1e9, 3, 20) == wanted
    fitted = plan.fit(pilots, wanted, 30.0, 3, 20)
    assert sum(p.cost(n, 3) for p, n in zip(pilots, fitted, strict=True)) <= 30.0
    assert fitted[0] > fitted[1] >= 20
    assert plan.fit(pilots, wanted, 0.0, 3, 20) == [20, 20]


def test_pilot_of_a_point() -> None:
    r = run_point(FakeGuest(), BINARY, points.Point(), 30, 2, 60.0)
    p = plan.pilot_of(r, warmup=2)
    assert p.rounds == 32
    assert p.round_seconds == pytest.approx((114.5 + 94.5) / 1e9)
    assert p.worst_halfwidth is not None and p.worst_halfwidth < 0.1


def test_json_round_trip_and_table() -> None:
    run = data.read(DATA / "host-a.json")
    again = data.from_json(data.to_json(run))
    assert data.to_json(again) == data.to_json(run)
    md = table.to_markdown(run)
    assert "unavailable: ENOSYS" in md
    assert "| posix_spawn |" in md and "reference" in md
    assert "## rss: parent RSS" in md and "## threads:" in md
    assert "TCG" not in md  # a host run
    run.environment["accelerator"] = "tcg"
    assert "**TCG**" in table.to_markdown(run)


def test_json_keeps_every_sample_and_the_summaries() -> None:
    run = data.read(DATA / "host-a.json")
    blob = data.to_json(run)
    first = blob["points"][0]["methods"]["vfork_execve"]
    assert len(first["samples_ns"]) == first["n"] == 30
    assert first["verdict"] in ("faster", "slower", "no measurable difference")
    assert len(first["ratio_ci"]) == 2 and len(first["ci_ns"]) == 2
    assert "\n" not in data.dumps({"x": [1, 2, 3]}).split('"x": ')[1].split("]")[0]


def test_unknown_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a spawn benchmark result"):
        data.read(bad)


def test_a_whole_run_through_a_fake_guest() -> None:
    from vm.bench.spawn import session

    guest = FakeGuest()
    said: list[str] = []
    settings = session.Settings(budget_s=100.0, methods=("posix_spawn", "vfork_execve"),
                                passes=1)
    sweeps = points.default_sweeps(2)
    results = session.measure(guest, BINARY, sweeps, settings,
                              session.Clock(settings.budget_s), said.append)
    assert len(results) == 14 and len(guest.commands) == 28
    # Pilots first, each with the pilot's sizes, then every point once.
    assert all(" -n 10 -w 2 " in c for c in guest.commands[:14])
    assert all(" -w 3 " in c for c in guest.commands[14:])
    assert all(" -m posix_spawn,vfork_execve" in c for c in guest.commands)
    assert [r.point for r in results] == points.unique_points(sweeps)
    assert any(m.startswith("point 14/14") for m in said)
    run = data.RunResult({"accelerator": "tcg"}, settings.to_json(), list(sweeps), results)
    md = table.to_markdown(run)
    assert md.count("| posix_spawn |") == sum(len(s.points) for s in run.sweeps)


def test_a_run_in_passes_measures_every_point_once_a_pass() -> None:
    """The default: the sweep runs six times; each point's result keeps
    its passes, and its ratio comes from the six pass ratios."""
    from vm.bench.spawn import session

    guest = FakeGuest()
    said: list[str] = []
    settings = session.Settings(budget_s=100.0, methods=("posix_spawn", "vfork_execve"))
    assert settings.passes == stats.MIN_PASSES == 6
    sweeps = points.default_sweeps(2)
    results = session.measure(guest, BINARY, sweeps, settings,
                              session.Clock(settings.budget_s), said.append)
    pts = points.unique_points(sweeps)
    assert len(results) == 14 and len(guest.commands) == 14 + 6 * 14
    # After the pilots, pass by pass: every point, then every point again.
    after = guest.commands[14:]
    assert [c.split(" -m ")[0].split(" -w 3 ")[1] for c in after[:14]] == \
        [c.split(" -m ")[0].split(" -w 3 ")[1] for c in after[14:28]]
    assert any(m.startswith("pass 6/6, point 14/14") for m in said)
    assert [r.point for r in results] == pts
    r = results[0]
    assert r.passes == 6 and r.method("posix_spawn").pass_sizes == [30] * 6
    assert r.method("posix_spawn").by_pass()[5] == [100 + i for i in range(30)]
    # Every pass the same: the pass ratios agree, a zero-width interval.
    ratio = r.ratio("vfork_execve")
    assert ratio is not None and ratio.ci.low == ratio.ci.high == ratio.value
    run = data.RunResult({"accelerator": "tcg"}, settings.to_json(), list(sweeps), results)
    again = data.from_json(json.loads(data.dumps(data.to_json(run))))
    assert again.points[0].method("vfork_execve").pass_sizes == [30] * 6
    assert again.points[0].ratio("vfork_execve") == ratio


def test_merge_passes_keeps_sizes_and_a_failed_pass_fails_the_point() -> None:
    p = points.Point()
    good = [data.PointResult(p, 3, 1.0, {"rss_kib": "1"}, "",
                             {"posix_spawn": data.MethodResult(data.OK, "", [1, 2, 3])})
            for _ in range(2)]
    merged = data.merge_passes(good)
    assert merged.method("posix_spawn").pass_sizes == [3, 3]
    assert merged.method("posix_spawn").by_pass() == [[1, 2, 3], [1, 2, 3]]
    lost = data.MethodResult(data.FAILED, "the point's run failed")
    failed = data.PointResult(p, 3, 1.0, {}, "1 kernel report(s)", {"posix_spawn": lost})
    merged = data.merge_passes([failed, *good])
    assert merged.error == "1 kernel report(s)" and merged.info == {"rss_kib": "1"}
    assert merged.method("posix_spawn").status == data.FAILED


def test_passes_below_one_is_a_usage_error(tmp_path: Path) -> None:
    from vm.bench.spawn.cli import main
    from vm.results.status import ExitStatus

    assert main(["run", "--on-host", "--passes", "0",
                 "--results-dir", str(tmp_path)]) == ExitStatus.USAGE
