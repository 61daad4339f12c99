"""From a request (source, series, fragments) to a built kernel: the one way.

The suite, the benchmarks and the prefix builder all get their kernels
from build_kernel(). Each step is cached (docs/caches.md): asking again for
the kernel built last time costs seconds. A caller that shares the cache
holds its lock (vm/cache.py) around the call, and for as long as it needs
the build tree to stay as built.
"""

from dataclasses import dataclass
from pathlib import Path

from vm import preflight
from vm.cache import Cache, build_folder
from vm.errors import HarnessError
from vm.kernel import apply, build, kconfig, source
from vm.kernel.build import Built, CacheMode
from vm.kernel.identity import RECORD, BuildRecord
from vm.kernel.series import Series
from vm.paths import digest
from vm.progress import Progress


@dataclass(frozen=True)
class KernelRequest:
    kernel_tree: Path | None  # None: Debian's linux-source tarball
    series: Series
    fragments: tuple[str, ...]  # kconfigs/<name>.config or files, in merge order


def build_kernel(request: KernelRequest, cache: Cache, log_path: Path, progress: Progress,
                 mode: CacheMode = CacheMode.SAFE) -> Built:
    """Source, git am, move the build tree there, configure, build."""
    preflight.require(preflight.BUILD_TOOLS, "build the kernel")
    src = source.resolve(request.kernel_tree, cache, progress)
    fragments = kconfig.load_fragments(request.fragments)
    tree = apply.apply(src, request.series, progress)
    apply.checkout(tree)
    configured = build.configure(tree, fragments, progress)
    return build.build(tree, configured, log_path, progress, cache, mode=mode)


def build_folders(kernel_tree: Path | None, cache: Cache) -> list[Path]:
    """Where a build of this source would be, found without preparing the
    source (vm/kernel/source.py names the repositories the same way)."""
    if kernel_tree is None:
        repos = [cache.source_repo(source.tarball_key(source.find_debian_tarball()))]
    else:
        key = digest(str(kernel_tree.resolve()))
        repos = [cache.source_repo("tree-" + key), cache.source_repo("copy-" + key) / "repo"]
    return [build_folder(r) for r in repos]


def recorded_build(kernel_tree: Path | None, cache: Cache) -> tuple[Path, BuildRecord] | None:
    """The last finished build of this source and its record, if any."""
    found = [(f, r) for f in build_folders(kernel_tree, cache)
             if (r := BuildRecord.read(f)) is not None]
    if not found:
        return None
    return max(found, key=lambda fr: (fr[0] / RECORD).stat().st_mtime)


def last_build(kernel_tree: Path | None, cache: Cache, progress: Progress) -> Built:
    """--no-build: the kernel last built from this source, as it is. What it
    was built from is its record's word (vm/usage.py refuses a --series or
    --kconfig that contradicts it before anything runs)."""
    preflight.require(preflight.BUILD_TOOLS, "build the kernel")
    src = source.resolve(kernel_tree, cache, progress)
    folder = build_folder(src.repo)
    record = BuildRecord.read(folder)
    if record is None:
        raise HarnessError(f"--no-build: no recorded build in {folder} "
                           "(run once without --no-build)")
    # The series by name only: its patches are not needed to boot the build.
    recorded = Series(record.series_name or record.series, record.series_revision, ())
    tree = apply.AppliedTree(src, recorded, src.base)
    configured = build.Configured(folder, "as-is", record.fragments, record.wanted_key)
    built = Built(tree, configured, record)
    if not built.bzimage.is_file():
        raise HarnessError(f"--no-build: no previous build in {folder}")
    progress(f"build: --no-build, using {built.bzimage} as is "
             f"(build {record.identity}: {record.series})")
    return built
