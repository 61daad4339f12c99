"""python3 -m vm.export: the last build of a source (or a new one, --build)
with its check programs, as one folder or tarball; statuses as a run's."""

from pathlib import Path

import pytest

from vm import export
from vm.cache import Cache
from vm.guest import checks, prebuilt
from vm.guest.checks import CheckPrograms
from vm.kernel import series
from vm.kernel.build import Built
from vm.results.status import ExitStatus

from .guest.test_prebuilt import fake_programs
from .results.test_exit_status import needs_build_tools, series_that_does_not_apply
from .test_usage import V1, record_of, recorded


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cache:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    programs = fake_programs(tmp_path / "programs")

    def compile_all(built: Built, progress: object) -> CheckPrograms:
        return programs  # compiling the real checks needs a real kernel tree

    monkeypatch.setattr(checks, "compile_all", compile_all)
    return Cache.default()


def test_the_last_build_is_exported_with_its_provenance(
        mini_git_tree: Path, xdg: Cache, tmp_path: Path) -> None:
    needs_build_tools()
    folder = recorded(mini_git_tree, xdg, record_of(series.load(str(V1))))
    (folder / "usr" / "include").mkdir(parents=True)
    dest = tmp_path / "export.tar.gz"
    assert export.main(["--kernel-tree", str(mini_git_tree), str(dest)]) == ExitStatus.OK
    assert prebuilt.record_of(dest) == record_of(series.load(str(V1)))
    built, programs = prebuilt.load(dest, tmp_path / "unpacked")
    assert (programs.out_dir / "smoke").is_file() and built.bzimage.is_file()


def test_a_contradicting_series_is_a_usage_error(
        mini_git_tree: Path, xdg: Cache, tmp_path: Path) -> None:
    recorded(mini_git_tree, xdg, record_of(series.load(str(V1))))
    assert export.main(["--kernel-tree", str(mini_git_tree), "--series", "none",
                        str(tmp_path / "x")]) == ExitStatus.USAGE


def test_a_build_of_a_series_that_does_not_apply_is_10(
        mini_git_tree: Path, xdg: Cache, tmp_path: Path) -> None:
    needs_build_tools()
    patches = series_that_does_not_apply(mini_git_tree, tmp_path / "series")
    assert export.main(["--build", "--kernel-tree", str(mini_git_tree), "--series",
                        str(patches), str(tmp_path / "x")]) == ExitStatus.REVISION_BROKEN
    assert not (tmp_path / "x").exists()
