"""From a request (source, series, fragments) to a built kernel: the one way.

The suite, the benchmarks and the prefix builder all get their kernels
from build_kernel(). Each step is cached (docs/caches.md): asking again for
the kernel built last time costs seconds. A caller that shares the cache
holds its lock (vm/cache.py) around the call, and for as long as it needs
the build tree to stay as built.
"""

from dataclasses import dataclass
from pathlib import Path

from vm import apply, build, kconfig, preflight, source
from vm.build import Built, CacheMode
from vm.cache import Cache, build_folder
from vm.errors import HarnessError
from vm.identity import BuildRecord
from vm.progress import Progress
from vm.series import Series


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


def last_build(request: KernelRequest, cache: Cache, progress: Progress) -> Built:
    """--no-build: the kernel last built from this source, as it is, if it
    was built from the requested series (its config is not checked)."""
    preflight.require(preflight.BUILD_TOOLS, "build the kernel")
    src = source.resolve(request.kernel_tree, cache, progress)
    chosen = request.series
    tree = apply.AppliedTree(src, chosen, src.base)
    folder = build_folder(src.repo)
    record = BuildRecord.read(folder)
    if record is None:
        raise HarnessError(f"--no-build: no recorded build in {folder} "
                           "(run once without --no-build)")
    if record.series_key != chosen.key:
        raise HarnessError(f"--no-build: the last build in {folder} is of "
                           f"{record.series}, not of {chosen.title} (--series); "
                           "run without --no-build, or with the series it was built from")
    built = Built(tree, build.Configured(folder, "as-is"), record)
    if not built.bzimage.is_file():
        raise HarnessError(f"--no-build: no previous build in {folder}")
    progress(f"build: --no-build, using {built.bzimage} as is "
             f"(build {record.identity}: {record.series})")
    return built
