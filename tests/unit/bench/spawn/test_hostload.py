"""What else the host ran while the benchmark measured
(vm/bench/spawn/hostload.py), on a fake /proc, and what compare makes of
a busy run."""

from pathlib import Path

from vm.bench.spawn import compare, data, hostload

DATA = Path(__file__).parents[2] / "data" / "spawnbench"


def _stat(proc: Path, pid: int, comm: str, ppid: int, utime: int, stime: int,
          cutime: int = 0, cstime: int = 0) -> None:
    d = proc / str(pid)
    d.mkdir(parents=True, exist_ok=True)
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
    # majflt cmajflt utime stime cutime cstime ...
    (d / "stat").write_text(f"{pid} ({comm}) S {ppid} 1 1 0 -1 0 0 0 0 0 "
                            f"{utime} {stime} {cutime} {cstime} 20 0 1 0\n")


def _host(proc: Path, busy: int, idle: int, steal: int = 0) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    (proc / "stat").write_text(f"cpu  {busy} 0 0 {idle} 7 0 0 {steal} 0 0\ncpu0 1 2 3 4\n")


def test_the_tree_counts_descendants_and_reaped_children_only(tmp_path: Path) -> None:
    _stat(tmp_path, 1, "init", 0, 500, 500)
    _stat(tmp_path, 100, "python3", 1, 10, 5, cutime=3, cstime=2)
    _stat(tmp_path, 101, "qemu-system-x86 (tcg) x", 100, 1000, 200)  # odd name
    _stat(tmp_path, 102, "virtiofsd", 101, 7, 3)
    _stat(tmp_path, 200, "cc1", 1, 4000, 100)  # someone else's compiler
    (tmp_path / "self").mkdir()
    (tmp_path / "103").mkdir()  # exited between the listing and the read
    assert hostload.tree_ticks(100, tmp_path) == 20 + 1200 + 10


def test_a_pid_reused_during_the_scan_makes_no_loop(tmp_path: Path) -> None:
    # 300's parent is 301 and 301's is 300: impossible at one instant,
    # possible in a scan that is not atomic.
    _stat(tmp_path, 100, "python3", 1, 1, 1)
    _stat(tmp_path, 300, "a", 301, 5, 0)
    _stat(tmp_path, 301, "b", 300, 7, 0)
    assert hostload.tree_ticks(100, tmp_path) == 2
    assert hostload.tree_ticks(300, tmp_path) == 12


def test_other_cpus_is_the_host_busy_time_outside_the_tree(tmp_path: Path) -> None:
    start = hostload.Sample(at=10.0, host_busy=1000, steal=50, tree=300)
    # 20 s; the host was busy 3000 ticks, the tree 2000 of them: 1000
    # ticks of other work at 100 Hz is 10 s of CPU over 20 s, 0.5 CPUs.
    end = hostload.Sample(at=30.0, host_busy=4000, steal=250, tree=2300)
    assert hostload.other_cpus(start, end, hz=100) == 0.5
    assert hostload.steal_cpus(start, end, hz=100) == 0.1
    # The tree's own work only: nothing else ran.
    assert hostload.other_cpus(start, hostload.Sample(30.0, 3000, 50, 2300), hz=100) == 0.0
    assert hostload.other_cpus(None, end) is None
    assert hostload.other_cpus(end, start) is None


def test_a_sample_from_a_fake_proc(tmp_path: Path) -> None:
    _host(tmp_path, busy=1234, idle=99999, steal=66)
    _stat(tmp_path, 100, "python3", 1, 10, 5)
    s = hostload.sample(100, tmp_path)
    # Steal is the hypervisor's, not this host's busy time.
    assert s is not None and s.host_busy == 1234 and s.steal == 66 and s.tree == 15
    # Without /proc (not Linux), or an unexpected one: no figure, no error.
    assert hostload.sample(100, tmp_path / "missing") is None
    (tmp_path / "stat").write_text("intr 1 2 3\n")
    assert hostload.sample(100, tmp_path) is None


def test_a_busy_run_is_not_comparable() -> None:
    a, b = data.read(DATA / "host-a.json"), data.read(DATA / "host-a.json")
    a.environment["host_other_cpus"] = 0.05
    b.environment["host_other_cpus"] = 0.8
    said = compare.environment_mismatches(a, b)
    assert len(said) == 1 and "B's host was busy" in said[0] and "0.8 CPUs" in said[0]
    b.environment["host_other_cpus"] = 0.1
    assert compare.environment_mismatches(a, b) == []
    # Runs recorded before the figure existed compare as before.
    del a.environment["host_other_cpus"], b.environment["host_other_cpus"]
    assert compare.environment_mismatches(a, b) == []


def test_only_a_busy_cached_baseline_is_unusable() -> None:
    from vm.gate import bench

    cached, revision = data.read(DATA / "host-a.json"), data.read(DATA / "host-a.json")
    revision.environment["host_other_cpus"] = 0.9
    # The revision's busy host does not make an idle cache unusable ...
    assert bench._usable(cached, revision) == ""
    # ... a busy cache is.
    cached.environment["host_other_cpus"] = 0.9
    assert "cached's host was busy" in bench._usable(cached, revision)
