"""A bad --series, --kconfig, --kernel-tree or --kernel-build is one usage
error (pytest's status 4) before collection, naming the option and its
value; so is a --series or --kconfig that contradicts the build --no-build
would boot, or an option that chooses the kernel given with --kernel-build."""

import dataclasses
from pathlib import Path

import pytest

from vm import usage
from vm.cache import Cache
from vm.errors import UsageError
from vm.kernel import series
from vm.kernel.build import bzimage_in
from vm.kernel.identity import BuildRecord
from vm.kernel.request import build_folders, recorded_build
from vm.options import Options, fragments_with
from vm.paths import PATCHES_DIR
from vm.results.status import ExitStatus

from .kernel.test_devbuild import built_in, kernel_tree
from .kernel.test_identity import GOOD, fake_bzimage
from .pytest_run import run_folder, run_pytest

V1 = PATCHES_DIR / "spawn-template" / "v1"


def record_of(chosen: series.Series, fragments: tuple[str, ...] = ()) -> BuildRecord:
    """A record as vm/kernel/build.py writes it for a build of @chosen."""
    from vm.kernel import kconfig
    from vm.kernel.build import wanted_key
    names = fragments_with(fragments)
    wanted = kconfig.merged(kconfig.load_fragments(names))
    return BuildRecord(
        identity=GOOD, inputs="0123456789abcdef", source="6.12.117 from a test",
        series=chosen.title, series_key=chosen.key, config_key="k",
        kernel_version="6.12.117", kernel_origin="a test", base="0" * 40,
        series_name=chosen.name, series_revision=chosen.revision,
        patchset_hash=chosen.patchset_hash, fragments=names, wanted_key=wanted_key(wanted),
        config_hash="c0ffee")


def recorded(tree: Path, cache: Cache, record: BuildRecord) -> Path:
    """A finished build of @tree in @cache, as --no-build finds it."""
    folder = build_folders(tree, cache)[0]
    fake_bzimage(_mkparents(bzimage_in(folder)), record.identity, record.identity)
    (folder / ".config").write_text("CONFIG_X=y\n")
    record.write(folder)
    return folder


def _mkparents(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.parametrize("args, named", [
    (["--series", "/no/such/series"], "--series /no/such/series: no such directory"),
    (["--kconfig", "no-such-fragment"], "--kconfig no-such-fragment: no such fragment"),
    (["--kernel-tree", "/no/such/tree"], "--kernel-tree /no/such/tree: no such directory"),
])
def test_a_bad_input_is_one_usage_error_before_collection(
        tmp_path: Path, args: list[str], named: str) -> None:
    proc = run_pytest(tmp_path, "tests/guest", *args)
    assert proc.returncode == ExitStatus.USAGE
    assert named in one_error_line(proc.stderr)
    assert "collect" not in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()  # no run folder for a run that never ran


def test_a_tree_that_is_not_a_kernel_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^--kernel-tree .*: not a kernel tree"):
        usage.check(Options(kernel_tree=tmp_path), Cache(tmp_path / "cache"))


def test_a_malformed_fragment_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.config"
    bad.write_text("CONFIG_A=y\nnot a config line\n")
    with pytest.raises(UsageError, match=r"^--kconfig .*bad.config:2: not a config entry"):
        usage.check(Options(kconfigs=fragments_with([str(bad)])), Cache(tmp_path / "cache"))


def test_no_build_without_a_build_is_a_usage_error(mini_git_tree: Path, cache: Cache) -> None:
    with pytest.raises(UsageError, match="--no-build: no finished build"):
        usage.check(Options(kernel_tree=mini_git_tree, no_build=True), cache)


def test_no_build_with_a_contradicting_series_names_both(
        mini_git_tree: Path, cache: Cache) -> None:
    v1 = series.load(str(V1))
    recorded(mini_git_tree, cache, record_of(v1))
    with pytest.raises(UsageError) as e:
        usage.check(Options(kernel_tree=mini_git_tree, no_build=True, series="none"), cache)
    message = str(e.value)
    assert "\n" not in message
    assert "--series none (none) contradicts the build" in message
    assert "spawn-template v1" in message and v1.key in message
    # The series it was built from, or none given: no contradiction.
    usage.check(Options(kernel_tree=mini_git_tree, no_build=True, series=str(V1)), cache)
    usage.check(Options(kernel_tree=mini_git_tree, no_build=True), cache)


def test_no_build_with_a_contradicting_kconfig_names_both(
        mini_git_tree: Path, cache: Cache) -> None:
    recorded(mini_git_tree, cache, record_of(series.NO_SERIES))
    with pytest.raises(UsageError, match=r"--kconfig .*debug contradicts the build .*"
                       r"config base,spawn-template,lsm,trace,audit,observe\)"):
        usage.check(Options(kernel_tree=mini_git_tree, no_build=True,
                            kconfigs=fragments_with(["debug"])), cache)
    recorded(mini_git_tree, cache, record_of(series.NO_SERIES, ("debug",)))
    usage.check(Options(kernel_tree=mini_git_tree, no_build=True,
                        kconfigs=fragments_with(["debug"])), cache)


def test_an_old_record_without_provenance_still_reads(mini_git_tree: Path, cache: Cache) -> None:
    folder = recorded(mini_git_tree, cache, record_of(series.NO_SERIES))
    old = {f: getattr(record_of(series.NO_SERIES), f) for f in
           ("identity", "inputs", "source", "series", "series_key", "config_key")}
    (folder / ".suite-build.json").write_text(str(old).replace("'", '"'))
    found = recorded_build(mini_git_tree, cache)
    assert found is not None
    assert found[1] == dataclasses.replace(record_of(series.NO_SERIES), kernel_version="",
                                           kernel_origin="", base="", series_name="",
                                           series_revision="", patchset_hash="",
                                           fragments=(), wanted_key="", config_hash="")


def test_no_build_contradiction_through_pytest_is_one_line(
        mini_git_tree: Path, tmp_path: Path) -> None:
    """The issue's case: --series none --no-build after a v1 build."""
    recorded(mini_git_tree, Cache(tmp_path / "cache" / "spawn-template-suite"),
             record_of(series.load(str(V1))))
    proc = run_pytest(tmp_path, "tests/guest", "--kernel-tree", str(mini_git_tree),
                      "--series", "none", "--no-build")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    line = one_error_line(proc.stderr)
    assert "--series none" in line and "spawn-template v1" in line


def test_good_options_pass_and_the_run_goes_on(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, "tests/unit/results/test_summary.py", "--series", str(V1),
                      "--kconfig", "debug")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (run_folder(tmp_path) / "summary.json").is_file()


@pytest.mark.parametrize("given, named", [
    (Options(kernel_tree=Path("/some/tree")), "--kernel-tree"),
    (Options(series="none"), "--series"),
    (Options(no_build=True), "--no-build"),
    (Options(prebuilt=Path("/some/export")), "--prebuilt"),
])
def test_kernel_build_with_an_option_that_chooses_the_kernel_names_both(
        tmp_path: Path, given: Options, named: str) -> None:
    folder = built_in(kernel_tree(tmp_path))
    with pytest.raises(UsageError) as e:
        usage.check(dataclasses.replace(given, kernel_build=folder), Cache(tmp_path / "cache"))
    assert str(e.value) == (f"--kernel-build {folder}: boots the developer's build as it is; "
                            f"{named} does not go with it")


def test_kernel_build_names_what_its_folder_lacks(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    tree = kernel_tree(tmp_path)
    for lacks in ("no such directory", "no .config", "no arch/x86/boot/bzImage"):
        with pytest.raises(UsageError, match=f"^--kernel-build .*: {lacks}"):
            usage.check(Options(kernel_build=tree / "nope" if "directory" in lacks else tree),
                        cache)
        if lacks == "no .config":
            (tree / ".config").write_text("CONFIG_PRINTK=y\n")
    usage.check(Options(kernel_build=built_in(tree), kconfigs=fragments_with(["lkdtm"])), cache)


def test_kernel_build_usage_error_through_pytest_is_one_line(tmp_path: Path) -> None:
    tree = kernel_tree(tmp_path)
    proc = run_pytest(tmp_path, "tests/guest", f"--kernel-build={tree}")
    assert proc.returncode == ExitStatus.USAGE, proc.stdout + proc.stderr
    assert one_error_line(proc.stderr).endswith(
        f"--kernel-build {tree}: no .config in it (not a kernel build folder)")
