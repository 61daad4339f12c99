"""A finished build as one folder (or tarball) that boots anywhere.

    <export>/arch/x86/boot/bzImage   the kernel, at the place Built expects it
    <export>/.config                 its config
    <export>/usr/include/            its UAPI headers
    <export>/.suite-build.json       its record: identity and provenance
    <export>/guest-checks/           the check programs compiled against it
    <export>/MANIFEST.sha256         sha256sum of every file above

`--prebuilt PATH` boots it and runs its checks with no kernel source, no
compiler and no cache (reading the identity of an LZ4 kernel needs lz4).
A file that does not match the manifest is a damaged export: an
infrastructure error, never a verdict.
"""

import hashlib
import shutil
import tarfile
from pathlib import Path

from vm.errors import HarnessError
from vm.guest.checks import CheckPrograms
from vm.kernel.apply import AppliedTree
from vm.kernel.build import Built, Configured, bzimage_in
from vm.kernel.identity import RECORD, BuildRecord
from vm.kernel.series import Series
from vm.kernel.source import KernelSource

MANIFEST = "MANIFEST.sha256"
CHECKS = "guest-checks"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def export(built: Built, programs: CheckPrograms, dest: Path) -> Path:
    """Write the build to @dest: a folder, or a tarball if it ends in .tar[.gz|.xz]."""
    tarball = dest.name.endswith((".tar", ".tar.gz", ".tar.xz"))
    folder = dest.with_name(dest.name + ".partial") if tarball else dest
    if folder.exists():
        shutil.rmtree(folder)
    bzimage = bzimage_in(folder)
    bzimage.parent.mkdir(parents=True)
    shutil.copy2(built.bzimage, bzimage)
    shutil.copy2(built.configured.config_path, folder / ".config")
    shutil.copytree(built.headers, folder / "usr" / "include", symlinks=True)
    shutil.copytree(programs.out_dir, folder / CHECKS, symlinks=True)
    built.record.write(folder)
    (folder / MANIFEST).write_text("".join(
        f"{_sha256(p)}  {p.relative_to(folder)}\n" for p in _files(folder)))
    if not tarball:
        return folder
    # The bzImage is compressed already; gz for the headers and programs.
    with tarfile.open(dest, "w:xz" if dest.suffix == ".xz" else
                      "w:gz" if dest.suffix == ".gz" else "w") as tar:
        tar.add(folder, arcname=".")
    shutil.rmtree(folder)
    return dest


def _unpack(tarball: Path, into: Path) -> Path:
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(into, filter="tar")
    except (tarfile.TarError, OSError) as e:
        raise HarnessError(f"--prebuilt {tarball}: cannot unpack: {e}") from e
    return into


def verify(folder: Path) -> None:
    """Every file as exported, and none missing."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise HarnessError(f"--prebuilt {folder}: no {MANIFEST}: not an export of a build")
    for line in manifest.read_text().splitlines():
        digest, _, name = line.partition("  ")
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise HarnessError(f"--prebuilt {folder}: {name} is missing or damaged "
                               f"(not as exported); export the build again")


def record_of(path: Path) -> BuildRecord | None:
    """The record of an export, folder or tarball, without unpacking it all."""
    if path.is_dir():
        return BuildRecord.read(path)
    try:
        with tarfile.open(path) as tar:
            member = tar.extractfile(f"./{RECORD}")
            return BuildRecord.parse(member.read()) if member is not None else None
    except (tarfile.TarError, OSError, KeyError):
        return None


def load(path: Path, scratch: Path) -> tuple[Built, CheckPrograms]:
    """An export as the suite's Built and its check programs; a tarball is
    unpacked into @scratch (the run's folder: no cache)."""
    folder = _unpack(path, scratch) if path.is_file() else path
    verify(folder)
    record = BuildRecord.read(folder)
    if record is None:
        raise HarnessError(f"--prebuilt {path}: its {RECORD} does not read")
    # No source: the tree is the export itself, named from the record.
    src = KernelSource(repo=folder, base=record.base, version=record.kernel_version,
                       origin=record.kernel_origin)
    tree = AppliedTree(src, Series(record.series_name or record.series,
                                   record.series_revision, ()), record.base)
    configured = Configured(folder, "prebuilt", record.fragments, record.wanted_key)
    return Built(tree, configured, record), CheckPrograms(folder / CHECKS)
