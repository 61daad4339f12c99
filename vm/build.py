"""Configure and build the kernel out of tree, skipping what is unchanged.

The build folder lives in the cache, one per source repository, so that a
changed patch only recompiles what it touches. Stamps record the inputs of
the last successful config and build; matching stamps skip the work.
"""

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from vm import kconfig, series
from vm.errors import BuildError, ConfigError
from vm.paths import digest
from vm.progress import Progress
from vm.series import AppliedTree, Series
from vm.source import KernelSource

CONFIG_STAMP = ".suite-config-key"
BUILD_STAMP = ".suite-build-key"
TARGETS = ("bzImage", "headers_install")
PROGRESS_EVERY_S = 15.0


@dataclass(frozen=True)
class Configured:
    build_dir: Path
    wanted: dict[str, str]
    key: str

    @property
    def config_path(self) -> Path:
        return self.build_dir / ".config"


@dataclass(frozen=True)
class Built:
    tree: AppliedTree
    configured: Configured
    skipped: bool
    seconds: float

    @property
    def bzimage(self) -> Path:
        return self.configured.build_dir / "arch" / "x86" / "boot" / "bzImage"

    @property
    def headers(self) -> Path:
        return self.configured.build_dir / "usr" / "include"


def build_dir_for(tree: AppliedTree) -> Path:
    return tree.source.repo.parent / (tree.source.repo.name + ".build")


def make_env() -> dict[str, str]:
    env = dict(os.environ)
    # Fixed build identity: same inputs, same objects, more ccache hits.
    env.update(KBUILD_BUILD_TIMESTAMP="2000-01-01", KBUILD_BUILD_USER="suite",
               KBUILD_BUILD_HOST="suite", LC_ALL="C")
    return env


def make_cmd(tree: AppliedTree, build_dir: Path, *targets: str, jobs: int = 1,
             ccache_dir: Path | None = None) -> list[str]:
    cmd = ["make", "-C", str(tree.path), f"O={build_dir}", f"-j{jobs}"]
    if ccache_dir is not None and shutil.which("ccache"):
        cmd.append("CC=ccache gcc")
    return [*cmd, *targets]


def _make(tree: AppliedTree, build_dir: Path, *targets: str,
          error: type[BuildError] | type[ConfigError] = ConfigError) -> None:
    # -j: the first config target compiles kconfig's own host tools.
    cmd = make_cmd(tree, build_dir, *targets, jobs=os.cpu_count() or 1)
    proc = subprocess.run(cmd, env=make_env(), capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        tail = "\n  ".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise error(f"make {' '.join(targets)} failed:\n  {tail}")


def _kconfig_files(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): p.read_text(errors="replace")
            for p in tree.rglob("Kconfig*") if p.is_file()}


def configure(tree: AppliedTree, fragments: tuple[kconfig.Fragment, ...],
              progress: Progress) -> Configured:
    """tinyconfig + fragments + olddefconfig, verified; skipped if unchanged."""
    build_dir = build_dir_for(tree)
    build_dir.mkdir(parents=True, exist_ok=True)
    wanted = kconfig.merged(fragments)
    key = digest(tree.commit, kconfig.render(wanted))
    stamp = build_dir / CONFIG_STAMP
    configured = Configured(build_dir, wanted, key)
    if stamp.is_file() and stamp.read_text().strip() == key and configured.config_path.is_file():
        return configured
    stamp.unlink(missing_ok=True)
    names = ", ".join(f.path.stem for f in fragments)
    progress(f"config: tinyconfig + {names}, then olddefconfig")
    config = configured.config_path
    _make(tree, build_dir, "tinyconfig")
    config.write_text(kconfig.overlay(config.read_text(), wanted))
    _make(tree, build_dir, "olddefconfig")
    new = config.read_text()
    final = kconfig.as_dict(kconfig.parse(new, str(config)))
    if kconfig.missing(wanted, final):
        # Reading every Kconfig file takes seconds: only to explain a failure.
        kconfig.verify(wanted, final, _kconfig_files(tree.path))
    stamp.write_text(key + "\n")
    return configured


def first_errors(log: str, limit: int = 20) -> str:
    """The first compiler or make errors, with a line of context before each."""
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if re.search(r"\berror\b|Error \d|undefined reference", line):
            if i > 0 and lines[i - 1] not in picked and "In function" in lines[i - 1]:
                picked.append(lines[i - 1])
            picked.append(line)
            if len(picked) >= limit:
                break
    return "\n  ".join(picked) or "\n  ".join(lines[-limit:])


def build(tree: AppliedTree, configured: Configured, log_path: Path, progress: Progress,
          ccache_dir: Path, jobs: int | None = None) -> Built:
    """make bzImage headers_install, unless the same inputs were built last time."""
    key = digest(configured.key, tree.commit)
    stamp = configured.build_dir / BUILD_STAMP
    start = time.monotonic()
    result = Built(tree, configured, skipped=True, seconds=0.0)
    if stamp.is_file() and stamp.read_text().strip() == key and result.bzimage.is_file():
        progress(f"build: unchanged, skipped ({result.bzimage})")
        return result
    stamp.unlink(missing_ok=True)
    jobs = jobs or os.cpu_count() or 1
    env = make_env()
    env["CCACHE_DIR"] = str(ccache_dir)
    # Depend mode: on a miss ccache runs only the compiler and takes the
    # includes from kbuild's -MMD file, instead of preprocessing first.
    # The inode cache keeps each header's hash instead of hashing the same
    # few hundred headers again for every file. docs/benchmarks.md has
    # the figures: with both, a cold build costs about what it costs
    # without ccache; ccache's default mode costs a third more.
    env["CCACHE_DEPEND"] = "1"
    env["CCACHE_INODECACHE"] = "1"
    cmd = make_cmd(tree, configured.build_dir, *TARGETS, jobs=jobs, ccache_dir=ccache_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    progress(f"build: {' '.join(TARGETS)} with -j{jobs}"
             + (" through ccache" if "CC=ccache gcc" in cmd else "")
             + f"; log: {log_path}")
    compiled, last_report = 0, start
    with open(log_path, "w", buffering=1) as log, subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if line.startswith("  CC "):
                compiled += 1
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                progress(f"build: {compiled} files compiled, {now - start:.0f} s")
        status = proc.wait()
    seconds = time.monotonic() - start
    if status != 0:
        raise BuildError(f"kernel build failed after {seconds:.0f} s (full log: {log_path}):\n  "
                         + first_errors(log_path.read_text(errors="replace")))
    stamp.write_text(key + "\n")
    progress(f"build: done in {seconds:.0f} s ({compiled} files compiled)")
    return Built(tree, configured, skipped=False, seconds=seconds)


def build_series(src: KernelSource, chosen: Series, fragments: tuple[kconfig.Fragment, ...],
                 log_path: Path, progress: Progress, ccache_dir: Path) -> Built:
    """The whole way from a source and a series to a kernel, each step cached:
    git am, move the build tree there, configure, build."""
    tree = series.apply(src, chosen, progress)
    series.checkout(tree)
    configured = configure(tree, fragments, progress)
    return build(tree, configured, log_path, progress, ccache_dir=ccache_dir)
