"""UAPI headers of a tree the suite did not build, installed into the cache.

The check programs are compiled against the UAPI headers of the kernel
under test. A developer's build (--kernel-build) has none installed, and
they must not be installed in it: `make headers_install` writes usr/include
into the build folder, and kbuild refuses `make O=<cache>` on a tree built
in place ("the source tree is not clean"). So the files headers_install
reads are copied out of the tree (its sources only: no objects, host
programs or .cmd files of an in-place build) into the cache, and the
headers are installed from that copy, in place, where only the suite
writes. The same for an in-tree and an O= build; `headers_install` needs
no .config.

    <cache>/kernel-build/<key>/usr/include   the headers
    <cache>/kernel-build/<key>/guest-checks/ the check programs compiled against them

The key is the digest of every file copied: a changed header, syscall
table, version or script gives new headers; a rebuilt kernel that changed
none of them takes the same.
"""

import os
import shutil
from pathlib import Path

from vm import preflight
from vm.cache import Cache
from vm.errors import BuildError
from vm.paths import digest
from vm.proc import run
from vm.progress import Progress

# What `make headers_install` reads on x86 (scripts_unifdef, uapi-asm-generic,
# archheaders, archscripts, then the two uapi folders), relative to the tree;
# "DIR/*": the files of DIR, not of its subfolders (scripts/kconfig/ and
# scripts/mod/ are not read, and an in-tree build generates sources there).
READ = ("Makefile", "scripts/*", "scripts/basic", "scripts/include", "include/uapi",
        "arch/x86/include/uapi", "arch/x86/Makefile", "arch/x86/entry/syscalls",
        "arch/x86/tools", "tools/include")
STAMP = ".suite-headers-key"
# Bumped when how the headers are made changes (READ, the make command).
FORMAT = "2"
KEEP_OTHER_SETS = 8
# Build outputs an in-place build leaves among those sources.
_OUTPUT_SUFFIXES = (".o", ".a", ".so", ".ko", ".mod", ".cmd", ".d", ".tmp")
_ELF = b"\x7fELF"


def _is_output(path: Path, head: bytes) -> bool:
    """Hidden (kbuild's .cmd files), an object, a program, or made by kbuild
    (it keeps the command of each file it makes in .<name>.cmd beside it)."""
    return (path.name.startswith(".") or path.name.endswith(_OUTPUT_SUFFIXES) or head == _ELF
            or path.with_name(f".{path.name}.cmd").is_file())


def sources(tree: Path) -> dict[str, bytes]:
    """{path relative to @tree: content} of the files headers_install reads."""
    found: dict[str, bytes] = {}
    for top in READ:
        start = tree / top.removesuffix("/*")
        paths = [start] if start.is_file() else sorted(
            p for p in (start.glob("*") if top.endswith("/*") else start.rglob("*"))
            if p.is_file() and not p.is_symlink())
        for path in paths:
            data = path.read_bytes()
            if not _is_output(path, data[:4]):
                found[str(path.relative_to(tree))] = data
    return found


def key(files: dict[str, bytes]) -> str:
    return digest(FORMAT, *(part for name in sorted(files) for part in (name, files[name])))


def _env() -> dict[str, str]:
    """The caller's environment without what would send make elsewhere
    (KBUILD_OUTPUT: another output folder) or to another architecture."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KBUILD_OUTPUT", "KBUILD_EXTMOD", "O", "ARCH", "SRCARCH",
                        "CROSS_COMPILE", "INSTALL_HDR_PATH", "MAKEFLAGS")}
    env["LC_ALL"] = "C"
    return env


def install(tree: Path, cache: Cache, progress: Progress) -> Path:
    """The cache folder with usr/include made from @tree's sources; made
    once per key. The caller holds the cache's lock."""
    files = sources(tree)
    if "Makefile" not in files or not any(n.startswith("include/uapi/") for n in files):
        raise BuildError(f"{tree}: no Makefile or include/uapi: not a kernel source tree")
    folder = cache.kernel_build(key(files))
    if (folder / STAMP).is_file():
        folder.touch()  # in use: the last to be pruned
        return folder
    preflight.require(preflight.HEADERS_TOOLS, "install the kernel's UAPI headers")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    copy = partial / "src"
    for name, data in files.items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    for name in files:  # the scripts run from the copy (headers_install.sh, syscall*.sh)
        if os.access(tree / name, os.X_OK):
            os.chmod(copy / name, 0o755)
    progress(f"headers: installing the UAPI headers of {tree} into {folder} "
             f"(from a copy of the {len(files)} files headers_install reads)")
    run(["make", "-s", "-C", str(copy), f"-j{os.cpu_count() or 1}", "ARCH=x86",
         f"INSTALL_HDR_PATH={partial / 'usr'}", "headers_install"], env=_env(), error=BuildError)
    shutil.rmtree(copy)
    (partial / STAMP).write_text(folder.name + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    _prune(folder)
    return folder


def _prune(keep: Path) -> None:
    """Drop the oldest sets of headers (and the programs compiled against them)."""
    others = sorted((d for d in keep.parent.iterdir()
                     if d.is_dir() and d != keep and not d.name.endswith(".partial")),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    for old in others[KEEP_OTHER_SETS:]:
        shutil.rmtree(old, ignore_errors=True)
