"""Where compiled check programs go: one folder per set of inputs, so that
two runs of different sources (two worktrees) never replace each other's
binaries while a guest executes them."""

import os
from pathlib import Path

from vm.cache import check_programs_dir
from vm.guest import checks


def test_each_set_of_inputs_has_its_own_folder(tmp_path: Path) -> None:
    a = check_programs_dir(tmp_path, "a" * 64)
    b = check_programs_dir(tmp_path, "b" * 64)
    assert a != b
    assert a.parent == b.parent
    assert check_programs_dir(tmp_path, "a" * 64) == a


def test_prune_keeps_the_set_in_use_and_the_newest_others(tmp_path: Path) -> None:
    sets = []
    for i in range(checks.KEEP_OTHER_SETS + 4):
        d = tmp_path / f"set{i:02d}"
        d.mkdir()
        os.utime(d, (1000 + i, 1000 + i))
        sets.append(d)
    in_use = sets[0]  # the oldest: still kept, a run is using it
    checks._prune(tmp_path, in_use)
    kept = sorted(p.name for p in tmp_path.iterdir())
    newest = [d.name for d in sets[-checks.KEEP_OTHER_SETS:]]
    assert kept == sorted([in_use.name, *newest])


def test_helpers_and_benchmark_programs_are_not_check_programs() -> None:
    guest = Path("tests/guest")
    assert checks.is_check_program(guest / "smoke.c")
    assert not checks.is_check_program(guest / "helper_probe.c")
    assert not checks.is_check_program(guest / "bench_spawn.c")
    assert not checks.is_check_program(guest / "bench_true.c")
    assert not checks.is_check_program(guest / "common.h")
