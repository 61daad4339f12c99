"""Build once, test anywhere: an exported build (folder or tarball) boots
and runs its checks with --prebuilt, with no source, compiler or cache."""

import os
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.errors import HarnessError
from vm.guest import listing, prebuilt
from vm.guest.checks import STAMP, CheckPrograms
from vm.guest.runner import Verdict
from vm.kernel import identity, series
from vm.options import Options
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir
from vm.suite import Suite

from ..kernel.test_identity import GOOD
from ..pytest_run import run_folder, run_pytest
from ..test_suite_orchestration import FakeGuest, fake_build
from ..test_usage import V1, one_error_line, record_of


def fake_programs(folder: Path) -> CheckPrograms:
    """One executable per check program that lists one check, as -l does."""
    folder.mkdir(parents=True)
    for program in listing.programs():
        script = folder / program.stem
        row = f"{'global':<20} {'':<25} check_{program.stem}"
        script.write_text(f"#!/bin/sh\n[ \"$1\" = -l ] && echo '{row}' >&2\nexit 0\n")
        os.chmod(script, 0o755)
    (folder / STAMP).write_text("key\n")
    return CheckPrograms(folder)


def exported(tmp_path: Path, name: str = "export") -> Path:
    built = fake_build(tmp_path / "build")
    (built.configured.build_dir / ".config").write_text("CONFIG_SPAWN_TEMPLATE=y\n")
    (built.headers / "linux").mkdir(parents=True)
    (built.headers / "linux" / "spawn_template.h").write_text("/* uapi */\n")
    record = record_of(series.load(str(V1)))
    built = type(built)(built.tree, built.configured, record)
    return prebuilt.export(built, fake_programs(tmp_path / "programs"), tmp_path / name)


@pytest.mark.parametrize("name", ["export", "export.tar.gz"])
def test_an_export_loads_as_it_was_built(tmp_path: Path, name: str) -> None:
    path = exported(tmp_path, name)
    assert path.is_file() == name.endswith(".tar.gz")
    assert prebuilt.record_of(path) == record_of(series.load(str(V1)))
    built, programs = prebuilt.load(path, tmp_path / "scratch")
    identity.verify_image(built.bzimage, GOOD)
    assert built.record.series == "spawn-template v1"
    assert (built.headers / "linux" / "spawn_template.h").is_file()
    assert (programs.binary(Path("smoke.c"))).is_file()


def test_a_damaged_export_is_refused(tmp_path: Path) -> None:
    path = exported(tmp_path)
    (path / "guest-checks" / "smoke").write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(HarnessError, match="guest-checks/smoke is missing or damaged"):
        prebuilt.load(path, tmp_path / "scratch")


def test_a_prebuilt_run_needs_no_cache(tmp_path: Path) -> None:
    path = exported(tmp_path)
    cache = Cache(tmp_path / "no-cache")
    guests: list[FakeGuest] = []

    def new_guest(spec: object) -> FakeGuest:
        guests.append(FakeGuest(spec, 1, GOOD))  # type: ignore[arg-type]
        return guests[-1]

    run_dir = new_run_dir(tmp_path / "results")
    suite = Suite(Options(prebuilt=path, accel="tcg"), run_dir, lambda m: None,
                  cache=cache, new_guest=new_guest)
    binary = suite.check_programs().binary(Path("tests/guest/smoke.c"))
    assert binary == path / "guest-checks" / "smoke"
    assert suite.run_check(binary, "global.check_smoke").verdict is Verdict.PASSED
    assert guests[0].spec.bzimage == path / "arch" / "x86" / "boot" / "bzImage"
    assert suite.summary.how == f"--prebuilt {path}"
    assert suite.summary.series == "spawn-template v1"
    assert not cache.root.exists()


def test_collect_only_lists_a_prebuilt_build_with_no_tools(tmp_path: Path) -> None:
    path = exported(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = run_pytest(tmp_path, "tests/guest", f"--prebuilt={path}", "--collect-only", "-q",
                      PATH=str(empty))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "tests/guest/smoke.c::global.check_smoke" in proc.stdout
    assert not (tmp_path / "cache").exists()
    # Its temporaries were in its run folder, and are gone with the run.
    assert not (run_folder(tmp_path) / "tmp").exists()


def test_prebuilt_options_that_contradict_it_are_usage_errors(tmp_path: Path) -> None:
    path = exported(tmp_path)
    proc = run_pytest(tmp_path, "tests/guest", f"--prebuilt={path}", "--series=none",
                      "--collect-only")
    assert proc.returncode == ExitStatus.USAGE
    line = one_error_line(proc.stderr)
    assert "--series none" in line and "spawn-template v1" in line
    proc = run_pytest(tmp_path, "tests/guest", f"--prebuilt={path}", "--no-build")
    assert proc.returncode == ExitStatus.USAGE
    assert "--no-build" in one_error_line(proc.stderr)
    proc = run_pytest(tmp_path, "tests/guest", f"--prebuilt={tmp_path / 'nothing'}")
    assert "no such folder or tarball" in one_error_line(proc.stderr)
