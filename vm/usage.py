"""A run's options, checked before collection: a bad one is one line naming it.

Without this every check program would report the same error while being
collected (13 of them). Only what is cheap is checked here: files exist and
parse, and a build to boot as is (--no-build) matches what was asked of it.
"""

from pathlib import Path

from vm.cache import Cache
from vm.errors import HarnessError, UsageError
from vm.guest import prebuilt
from vm.kernel import devbuild, kconfig, request, series, source
from vm.kernel.build import wanted_key
from vm.kernel.identity import BuildRecord
from vm.options import Options


def _named(option: str, value: object, error: HarnessError) -> UsageError:
    message = str(error).strip().splitlines()[0]
    prefix = f"{option} {value}"
    return UsageError(message if message.startswith(option) else f"{prefix}: {message}")


def check_kernel_tree(tree: Path | None) -> None:
    if tree is None:
        return
    if not tree.is_dir():
        raise UsageError(f"--kernel-tree {tree}: no such directory")
    makefile = tree / "Makefile"
    if not makefile.is_file() or not (tree / "Kconfig").is_file():
        raise UsageError(f"--kernel-tree {tree}: not a kernel tree (no Makefile or Kconfig)")
    try:
        source.kernel_version(makefile.read_text(errors="replace"))
    except HarnessError as e:
        raise _named("--kernel-tree", tree, e) from None


def check_series(spec: str) -> series.Series:
    try:
        return series.load(spec)
    except HarnessError as e:
        raise _named("--series", spec, e) from None


def check_fragments(names: tuple[str, ...]) -> tuple[kconfig.Fragment, ...]:
    try:
        return kconfig.load_fragments(names)
    except HarnessError as e:
        raise _named("--kconfig", ",".join(names), e) from None


def contradiction(options: Options, record: BuildRecord, where: str) -> str | None:
    """Why the build at @where is not what --series/--kconfig ask for, if it is not."""
    described = f"the build {record.identity} in {where} ({record.series}"
    if options.series is not None:
        wanted = series.load(options.series)
        if wanted.key != record.series_key:
            return (f"--series {options.series} ({wanted.title}) contradicts {described}, "
                    f"series key {record.series_key}); drop --series or rebuild")
    if options.kconfigs_given and record.wanted_key:
        asked = wanted_key(kconfig.merged(kconfig.load_fragments(options.kconfigs)))
        if asked != record.wanted_key:
            return (f"--kconfig {','.join(options.kconfigs)} contradicts {described}, "
                    f"config {','.join(record.fragments)}); drop --kconfig or rebuild")
    return None


def check_no_build(options: Options, cache: Cache) -> None:
    try:
        found = request.recorded_build(options.kernel_tree, cache)
    except HarnessError as e:
        raise _named("--no-build", "", e) from None
    if found is None:
        raise UsageError("--no-build: no finished build of this source in the cache "
                         f"({cache.root}); run once without --no-build")
    folder, record = found
    why = contradiction(options, record, str(folder))
    if why is not None:
        raise UsageError(f"--no-build: {why}")


def check_prebuilt(options: Options) -> None:
    path = options.prebuilt
    assert path is not None
    if options.no_build or options.kernel_tree is not None:
        raise UsageError(f"--prebuilt {path}: boots that build; --no-build and --kernel-tree "
                         "do not go with it")
    if not path.exists():
        raise UsageError(f"--prebuilt {path}: no such folder or tarball")
    record = prebuilt.record_of(path)
    if record is None:
        raise UsageError(f"--prebuilt {path}: not an exported build (no readable "
                         "build record; make one with python3 -m vm.export)")
    why = contradiction(options, record, str(path))
    if why is not None:
        raise UsageError(f"--prebuilt: {why}")


def check_kernel_build(options: Options) -> None:
    path = options.kernel_build
    assert path is not None
    others = {"--kernel-tree": options.kernel_tree is not None,
              "--series": options.series is not None, "--no-build": options.no_build,
              "--prebuilt": options.prebuilt is not None}
    other = next((name for name, given in others.items() if given), None)
    if other is not None:
        raise UsageError(f"--kernel-build {path}: boots the developer's build as it is; "
                         f"{other} does not go with it")
    why = devbuild.problem(path)
    if why is not None:
        raise UsageError(f"--kernel-build {path}: {why}")


def check(options: Options, cache: Cache) -> None:
    """Every option that names an input, in the order they are given."""
    if options.kernel_build is not None:
        # First: an option that does not go with it is named with it.
        check_kernel_build(options)
    check_kernel_tree(options.kernel_tree)
    check_series(options.series_spec)
    check_fragments(options.kconfigs)
    if options.prebuilt is not None:
        check_prebuilt(options)
    elif options.no_build:
        check_no_build(options, cache)
