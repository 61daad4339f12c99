"""Configure and build the kernel out of tree, skipping what is unchanged.

The build folder lives in the cache, one per source repository, so that a
changed patch only recompiles what it touches. Stamps record the inputs of
the last successful config and build (source commit, wanted options, the
toolchain and this module's own build format); matching stamps skip the
work. Every build embeds a new identity (vm/kernel/identity.py) that the suite
checks in the bzImage and in the booted guest.
"""

import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from vm.cache import Cache, build_folder
from vm.errors import BuildError, ConfigError
from vm.kernel import identity, kconfig, kconfig_explain
from vm.kernel.apply import AppliedTree
from vm.paths import digest
from vm.progress import Progress

CONFIG_STAMP = ".suite-config-key"
BUILD_STAMP = ".suite-build-key"
TARGETS = ("bzImage", "headers_install")
PROGRESS_EVERY_S = 15.0
# Bumped whenever how a build is made changes (ccache settings, make
# variables): it is part of every stamp's key and of the wrapper's name,
# which is on every object's command line, so kbuild remakes them all.
BUILD_FORMAT = "2"
KCC = Path(__file__).resolve().with_name("kcc")
# Assembler directives that read a file the dependency output never lists
# (gas takes them in any case).
UNSAFE_DIRECTIVES = r"incbin|\.include\b"
# What the compiler reads, as a source or through #include.
COMPILER_INPUTS = ("c", "h", "S", "s", "inc", "lds")
SHADOW_STAMP = ".suite-shadowed-headers"


@dataclass(frozen=True)
class Configured:
    build_dir: Path
    key: str  # what the .config was made from ("as-is" for --no-build)
    fragments: tuple[str, ...] = ()  # their names, in merge order
    wanted_key: str = ""  # digest of the merged wanted entries

    @property
    def config_path(self) -> Path:
        return self.build_dir / ".config"


@dataclass(frozen=True)
class Built:
    tree: AppliedTree
    configured: Configured
    record: identity.BuildRecord

    @property
    def identity(self) -> str:
        return self.record.identity

    @property
    def bzimage(self) -> Path:
        return bzimage_in(self.configured.build_dir)

    @property
    def headers(self) -> Path:
        return self.configured.build_dir / "usr" / "include"


def bzimage_in(build_dir: Path) -> Path:
    return build_dir / "arch" / "x86" / "boot" / "bzImage"


def make_env() -> dict[str, str]:
    env = dict(os.environ)
    # Fixed date, user and host: same inputs, same objects, more ccache
    # hits. What tells builds apart is KBUILD_BUILD_VERSION (the identity).
    env.update(KBUILD_BUILD_TIMESTAMP="2000-01-01", KBUILD_BUILD_USER="suite",
               KBUILD_BUILD_HOST="suite", LC_ALL="C")
    return env


# Environment variables kbuild or ccache read that change what is built.
# Their values are part of the keys; the user's ccache settings are not
# used at all (the suite sets its own, and its own config file).
_KBUILD_ENV = re.compile(r"^(K(BUILD_\w+|CFLAGS|CPPFLAGS|AFLAGS|RUSTFLAGS)|ARCH|SUBARCH|"
                         r"CROSS_COMPILE|LLVM\w*|(HOST)?(CC|CXX|LD|AS|CFLAGS|CXXFLAGS|LDFLAGS)|"
                         r"INSTALL_\w+|C_INCLUDE_PATH|CPATH|GCC_\w+|SOURCE_DATE_EPOCH)$")


@functools.cache
def toolchain() -> str:
    """What else a build is made from: compiler, binutils, make, libc (the
    guest checks are static), the wrapper, the build format and the
    environment variables that kbuild reads."""
    versions = []
    for tool in ("gcc", "cc", "ld", "make", "ldd"):
        try:
            out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
        except FileNotFoundError:
            out = "missing"
        versions.append(out.split("\n", 1)[0])
    env = sorted(f"{k}={v}" for k, v in os.environ.items() if _KBUILD_ENV.match(k))
    return digest(BUILD_FORMAT, *versions, KCC.read_bytes(), *env)


def installed_kcc(cache: Cache) -> Path:
    """The wrapper under a name that changes with its content and the build
    format (kbuild then rebuilds every object: its command line changed)
    but not with where the clone is."""
    data = KCC.read_bytes()
    dest = cache.bin / f"kcc-{digest(BUILD_FORMAT, data)}"
    if not dest.is_file() or dest.read_bytes() != data:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
            tmp.write(data)
        os.chmod(tmp.name, 0o755)
        os.replace(tmp.name, dest)
    return dest


def make_cmd(tree: AppliedTree, build_dir: Path, *targets: str, jobs: int = 1) -> list[str]:
    return ["make", "-C", str(tree.path), f"O={build_dir}", f"-j{jobs}", *targets]


def _build_dirs(tree: Path) -> list[str]:
    """Top-level entries an x86 build reads: not other arches, tools or docs."""
    skip = {".git", "Documentation", "tools", "scripts", "arch"}
    return [*sorted(p.name for p in tree.iterdir() if p.name not in skip), "arch/x86"]


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)


def unsafe_files(tree: Path) -> list[str]:
    """Files of the tree that use an assembler directive reading another file,
    relative to the tree. A mention in a comment does not count: one in
    nospec-branch.h would keep most of the kernel out of ccache."""
    cmd = ["grep", "-rlZiE", *(f"--include=*.{e}" for e in COMPILER_INPUTS),
           UNSAFE_DIRECTIVES, *_build_dirs(tree)]
    proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, errors="replace")
    if proc.returncode > 1:
        raise BuildError(f"grep for {UNSAFE_DIRECTIVES} in {tree} failed: {proc.stderr}")
    found = [p for p in proc.stdout.split("\0") if p]
    return sorted(p for p in found if re.search(
        UNSAFE_DIRECTIVES, _strip_comments((tree / p).read_text(errors="replace")), re.I))


def _make(tree: AppliedTree, build_dir: Path, *targets: str,
          error: type[BuildError] | type[ConfigError] = ConfigError) -> None:
    # -j: the first config target compiles kconfig's own host tools.
    cmd = make_cmd(tree, build_dir, *targets, jobs=os.cpu_count() or 1)
    proc = subprocess.run(cmd, env=make_env(), capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        tail = "\n  ".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise error(f"make {' '.join(targets)} failed:\n  {tail}")


def configure(tree: AppliedTree, fragments: tuple[kconfig.Fragment, ...],
              progress: Progress) -> Configured:
    """tinyconfig + fragments + olddefconfig, verified; skipped if unchanged."""
    folder = build_folder(tree.source.repo)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = kconfig.merged(fragments)
    # Kconfig asks the compiler what it supports: the toolchain is an input.
    key = digest(tree.commit, kconfig.render(wanted), toolchain())
    stamp = folder / CONFIG_STAMP
    configured = Configured(folder, key, tuple(f.path.stem for f in fragments),
                            wanted_key(wanted))
    if (stamp.is_file() and configured.config_path.is_file()
            and stamp.read_text().split() == [key, config_hash(configured.config_path)]):
        return configured
    stamp.unlink(missing_ok=True)
    names = ", ".join(f.path.stem for f in fragments)
    progress(f"config: tinyconfig + {names}, then olddefconfig")
    config = configured.config_path
    _make(tree, folder, "tinyconfig")
    config.write_text(kconfig.overlay(config.read_text(), wanted))
    _make(tree, folder, "olddefconfig")
    new = config.read_text()
    final = kconfig.as_dict(kconfig.parse(new, str(config)))
    if kconfig.missing(wanted, final):
        # Reading every Kconfig file takes seconds: only to explain a failure.
        kconfig_explain.verify(wanted, final, kconfig_explain.kconfig_files(tree.path))
    # The .config's own hash too: one edited by hand is not the config of the key.
    stamp.write_text(f"{key} {config_hash(config)}\n")
    return configured


def wanted_key(wanted: dict[str, str]) -> str:
    """What a set of fragments asks for, whatever their names or order of lines."""
    return digest(kconfig.render(dict(sorted(wanted.items()))))


def provenance(tree: AppliedTree, configured: Configured) -> dict[str, Any]:
    """The BuildRecord fields that say what a build is made from."""
    src, series = tree.source, tree.series
    return dict(
        source=f"{src.version} from {src.origin} (base {src.base[:12]})",
        series=series.title, series_key=series.key, config_key=configured.key,
        kernel_version=src.version, kernel_origin=src.origin, base=src.base,
        series_name=series.name, series_revision=series.revision,
        patchset_hash=series.patchset_hash, fragments=configured.fragments,
        wanted_key=configured.wanted_key,
        config_hash=config_hash(configured.config_path) if configured.config_path.is_file()
        else "")


def config_hash(config: Path) -> str:
    return digest(config.read_bytes())


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


class CacheMode(Enum):
    """How compiles go through ccache. SAFE is what runs use; the others
    exist so vm.bench can compare them side by side."""

    SAFE = "safe"  # depend mode + inode cache, through vm/kernel/kcc
    LEGACY = "legacy"  # depend mode + inode cache, every compile (unsound: .incbin inputs)
    NONE = "none"  # no ccache


def _includable(tree: Path) -> list[str]:
    """Files an x86 build's compiler can read: not other arches' (nor UML's),
    tools', scripts' (host programs) or docs'."""
    found = []
    for dirpath, dirnames, filenames in os.walk(tree):
        rel = os.path.relpath(dirpath, tree)
        if rel == ".":
            dirnames[:] = [d for d in dirnames
                           if d not in (".git", "tools", "scripts", "Documentation")]
        elif rel == "arch":
            dirnames[:] = [d for d in dirnames if d == "x86"]
        elif rel == "arch/x86":
            dirnames[:] = [d for d in dirnames if d != "um"]
        prefix = "" if rel == "." else rel + "/"
        found += [prefix + f for f in filenames if f.rsplit(".", 1)[-1] in COMPILER_INPUTS]
    return sorted(found)


def shadowed_headers(tree: Path) -> str:
    """Every include name that more than one file of the tree can answer.

    Neither kbuild's dependency files nor ccache's manifests record a
    lookup that found nothing: adding include/linux/x.h next to
    include/uapi/linux/x.h, or rm/boot.h next to a file that found boot.h
    through -I arch/x86/boot, changes what <linux/x.h> or "boot.h" means
    for files whose text and recorded headers are unchanged. A name "a/b.h"
    can only be answered by a file whose path ends in "a/b.h", so every
    path suffix shared by two files is listed, with the files. The list is
    part of every object's key: ccache hashes it, and a build whose list
    differs from the one the build folder's objects were made against
    starts from a clean folder.
    """
    candidates: dict[str, list[str]] = {}
    for path in _includable(tree):
        parts = path.split("/")
        for i in range(len(parts)):
            candidates.setdefault("/".join(parts[i:]), []).append(path)
    return "".join(f"{name}: {' '.join(paths)}\n"
                   for name, paths in sorted(candidates.items()) if len(paths) > 1)


def _scan(tree: AppliedTree, build_dir: Path, name: str, scan: Callable[[], str]) -> str:
    """A scan of the tree, kept per commit: a commit id names its content."""
    kept = build_dir / f".suite-scan-{name}"
    if kept.is_file():
        commit, _, text = kept.read_text().partition("\n")
        if commit == tree.commit:
            return text
    text = scan()
    kept.write_text(f"{tree.commit}\n{text}")
    return text


def _start_clean_if_shadowing_changed(tree: AppliedTree, build_dir: Path, env: dict[str, str],
                                      progress: Progress) -> None:
    """Write this tree's shadowed-header list; `make clean` first if the
    objects in the build folder were made against another list (or an
    unknown one)."""
    stamp = build_dir / SHADOW_STAMP
    now = _scan(tree, build_dir, "shadowed", lambda: shadowed_headers(tree.path))
    before = stamp.read_text() if stamp.is_file() else None
    # No list but objects (a folder from before lists, or a build that
    # stopped early): they were made against an unknown list; clean too.
    if before != now and (before is not None or next(build_dir.rglob("*.o"), None)):
        progress("build: the set of headers that shadow each other changed"
                 + ("" if before is None else f" ({_first_difference(before, now)})")
                 + ": make clean, objects are rebuilt")
        proc = subprocess.run(make_cmd(tree, build_dir, "clean"), env=env,
                              capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            raise BuildError(f"make clean failed:\n  {proc.stderr.strip()[-2000:]}")
    stamp.write_text(now)


def _first_difference(before: str, now: str) -> str:
    a, b = set(before.splitlines()), set(now.splitlines())
    changed = sorted(a ^ b)
    return changed[0].split(":", 1)[0] + (f" and {len(changed) - 1} more" if len(changed) > 1
                                           else "")


def _ccache_env(env: dict[str, str], cache: Cache, tree: AppliedTree, build_dir: Path,
                mode: CacheMode) -> str | None:
    """Set ccache's environment; the CC for make, or None for plain gcc."""
    if mode is CacheMode.NONE or shutil.which("ccache") is None:
        return None
    ccache_dir = cache.ccache
    for name in [k for k in env if k.startswith("CCACHE_")]:
        del env[name]
    env["CCACHE_DIR"] = str(ccache_dir)
    # Not /etc/ccache.conf nor the user's: their sloppiness would be ours.
    config = ccache_dir / "ccache.conf"
    if not config.is_file():
        ccache_dir.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "# The suite's settings come from the environment (vm/kernel/build.py).\n")
    env["CCACHE_CONFIGPATH"] = str(config)
    # Depend mode: on a miss ccache runs only the compiler and takes the
    # includes from kbuild's -MMD file, instead of preprocessing first.
    # The inode cache keeps each header's hash instead of hashing the same
    # few hundred headers again for every file. docs/benchmarks.md has
    # the figures. What depend mode cannot see (.incbin, .include) vm/kernel/kcc
    # keeps out of the cache.
    env["CCACHE_DEPEND"] = "1"
    env["CCACHE_INODECACHE"] = "1"
    if mode is CacheMode.LEGACY:
        return "ccache gcc"
    # Base names: kcc matches them as whole names in the dependency file,
    # however the folders are spelled there (absolute, relative, "..").
    unsafe = build_dir / ".suite-kcc-unsafe"
    unsafe.write_text(_scan(tree, build_dir, "unsafe", lambda: "".join(
        sorted({Path(f).name + "\n" for f in unsafe_files(tree.path)}))))
    env["KCC_UNSAFE"] = str(unsafe)
    env["CCACHE_EXTRAFILES"] = str(build_dir / SHADOW_STAMP)
    return f"{installed_kcc(cache)} gcc"


def build(tree: AppliedTree, configured: Configured, log_path: Path, progress: Progress,
          cache: Cache, jobs: int | None = None,
          mode: CacheMode = CacheMode.SAFE) -> Built:
    """make bzImage headers_install, unless the same inputs were built last time."""
    inputs = digest(configured.key, tree.commit, mode.value)
    build_dir = configured.build_dir
    stamp = build_dir / BUILD_STAMP
    start = time.monotonic()
    last = identity.BuildRecord.read(build_dir)
    bzimage = bzimage_in(build_dir)
    if (last is not None and last.inputs == inputs and stamp.is_file()
            and stamp.read_text().strip() == inputs and bzimage.is_file()):
        progress(f"build: unchanged, skipped ({bzimage}, build {last.identity})")
        # The same inputs; a record from before the provenance fields gets them.
        refreshed = replace(last, **provenance(tree, configured))
        if refreshed != last:
            refreshed.write(build_dir)
        return Built(tree, configured, refreshed)
    stamp.unlink(missing_ok=True)
    (build_dir / identity.RECORD).unlink(missing_ok=True)
    record = identity.BuildRecord(identity=identity.new_identity(inputs), inputs=inputs,
                                  **provenance(tree, configured))
    jobs = jobs or os.cpu_count() or 1
    env = make_env()
    # UTS_VERSION is "#<this> SMP ...": the identity reaches the setup
    # header, the kernel's banner and the guest's /proc/version.
    env["KBUILD_BUILD_VERSION"] = record.identity
    _start_clean_if_shadowing_changed(tree, build_dir, env, progress)
    cc = _ccache_env(env, cache, tree, build_dir, mode)
    cmd = make_cmd(tree, build_dir, *TARGETS, jobs=jobs)
    if cc is not None:
        cmd.insert(-len(TARGETS), f"CC={cc}")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    progress(f"build: {' '.join(TARGETS)} with -j{jobs}"
             + (f" through ccache ({mode.value})" if cc else "")
             + f" as build {record.identity}; log: {log_path}")
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
    # The image must carry the identity just given to it, or a cache lied.
    identity.verify_build(build_dir / "vmlinux", bzimage, record.identity)
    # The .config as it was built (make may have refreshed it).
    record = replace(record, config_hash=config_hash(configured.config_path))
    record.write(build_dir)
    stamp.write_text(inputs + "\n")
    progress(f"build: done in {seconds:.0f} s ({compiled} files compiled), "
             f"build {record.identity}")
    return Built(tree, configured, record)


def make_objects(tree: AppliedTree, configured: Configured, cache: Cache,
                 objects: list[str], *variables: str) -> str:
    """Compile @objects again (W=1 and such) with the build's compiler and
    ccache; make's output, whose warnings are the point. The objects are
    removed first: make would not compile an up-to-date one again, and a
    ccache hit replays the compiler's warnings."""
    if not objects:
        return ""
    build_dir = configured.build_dir
    for obj in objects:
        (build_dir / obj).unlink(missing_ok=True)
    env = make_env()
    cc = _ccache_env(env, cache, tree, build_dir, CacheMode.SAFE)
    cmd = make_cmd(tree, build_dir, *variables, *objects, jobs=os.cpu_count() or 1)
    if cc is not None:
        cmd.insert(-len(variables) - len(objects), f"CC={cc}")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise BuildError(f"make {' '.join(variables)} {' '.join(objects)} failed:\n  "
                         + first_errors(proc.stdout + proc.stderr))
    return proc.stdout + proc.stderr
