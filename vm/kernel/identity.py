"""Which kernel is this? A build identity, embedded at build, checked at boot.

Every build gets an identity unique to its inputs and to the build itself
and passes it to kbuild as KBUILD_BUILD_VERSION, so it ends up in
UTS_VERSION: in the compressed kernel's banner, in the setup header's
version string and in the booted guest's /proc/version. The suite reads it
from the bzImage before booting (from the compressed payload, which is what
boots, not only from the setup code next to it) and from the guest after
booting; any mismatch is an infrastructure error naming both identities,
never a test verdict.

A kernel the developer built (--kernel-build) carries no identity of the
suite's; its whole version string (release, builder, UTS_VERSION with the
build's number and time) is checked the same way, in the bzImage before
booting and in /proc/version after.
"""

import bz2
import json
import lzma
import re
import secrets
import shutil
import struct
import subprocess
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from vm.errors import GuestError, HarnessError
from vm.paths import digest

RECORD = ".suite-build.json"
PREFIX = "st-"

# Documentation/arch/x86/boot.rst: the real-mode header of a bzImage.
_SETUP_SECTS = 0x1F1
_MAGIC = 0x202
_KERNEL_VERSION = 0x20E
_PAYLOAD = 0x248  # payload_offset, payload_length (protocol 2.08+)

# "Linux version 6.12.48 (suite@suite) (gcc ...) #st-... SMP ..."; both the
# setup header's string and the kernel's banner carry UTS_VERSION after '#'.
_UTS_VERSION = re.compile(rb"\) #(\S+)")
_BANNER = re.compile(rb"Linux version \S+ \([^)\n]*\) \([^\n]*?\) #(\S+)")


class StaleKernelError(HarnessError):
    """The kernel about to boot, or booted, is not the one this run built."""


@dataclass(frozen=True)
class BuildRecord:
    """What one build was made from (its provenance); kept next to it as RECORD.

    The fields after config_key came later: a record from before them reads
    with them empty, and the next run that finds the build unchanged fills
    them in (vm/kernel/build.py).
    """

    identity: str
    inputs: str  # digest of source commit, config and toolchain
    source: str
    series: str  # title: "spawn-template v2" or "none"
    series_key: str  # vm/kernel/series.py Series.key: the digest of the patch texts
    config_key: str
    kernel_version: str = ""  # "6.12.48"
    kernel_origin: str = ""  # the tarball or tree it came from
    base: str = ""  # commit id of the pristine source in the cache repository
    series_name: str = ""
    series_revision: str = ""
    patchset_hash: str = ""  # KCIDB's hash of the patches (Series.patchset_hash)
    fragments: tuple[str, ...] = ()  # config fragments, in merge order
    wanted_key: str = ""  # digest of the merged fragments' entries: what was asked
    config_hash: str = ""  # digest of the final .config
    # A build the suite did not make (--kernel-build): its whole version
    # string (KernelVersion), which stands for the identity it lacks.
    version_string: str = ""

    def write(self, build_dir: Path) -> None:
        (build_dir / RECORD).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, build_dir: Path) -> "BuildRecord | None":
        try:
            return cls.parse((build_dir / RECORD).read_text())
        except OSError:
            return None

    @classmethod
    def parse(cls, text: str | bytes) -> "BuildRecord | None":
        try:
            data = json.loads(text)
            known = {f.name for f in fields(cls)}
            data = {k: tuple(v) if isinstance(v, list) else v
                    for k, v in data.items() if k in known}
            return cls(**data)
        except (ValueError, TypeError, AttributeError):
            return None


def new_identity(inputs: str) -> str:
    """The inputs' digest (which source, series, config) and a per-build nonce
    (which build of them): two builds of the same inputs differ too."""
    return f"{PREFIX}{inputs[:10]}-{secrets.token_hex(3)}"


def _payload(image: bytes, path: Path) -> tuple[str, bytes]:
    """(setup header's version string, compressed payload) of a bzImage."""
    if len(image) < 0x250 or image[_MAGIC:_MAGIC + 4] != b"HdrS":
        raise StaleKernelError(f"{path} is not a bzImage (no HdrS header)")
    setup_sects = image[_SETUP_SECTS] or 4
    version_at = struct.unpack_from("<H", image, _KERNEL_VERSION)[0] + 0x200
    end = image.find(b"\0", version_at)
    offset, length = struct.unpack_from("<II", image, _PAYLOAD)
    start = (setup_sects + 1) * 512 + offset
    if end < 0 or start + length > len(image) or length == 0:
        raise StaleKernelError(f"{path}: truncated or damaged bzImage")
    return image[version_at:end].decode(errors="replace"), image[start:start + length]


def _decompress(payload: bytes, path: Path) -> bytes:
    """The kernel image inside the payload, whichever compressor built it."""
    try:
        return _decompress_any(payload, path)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as e:
        raise StaleKernelError(f"{path}: its compressed kernel does not decompress: {e}") from e


def _decompress_any(payload: bytes, path: Path) -> bytes:
    # Decompressors that stop at the end of their stream: the kernel
    # appends the uncompressed size after some of them.
    if payload.startswith(b"\x1f\x8b"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
    if payload.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor().decompress(payload)
    if payload.startswith(b"\x5d\x00\x00"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(payload)
    if payload.startswith(b"BZh"):
        return bz2.BZ2Decompressor().decompress(payload)
    # LZ4 (legacy frames) and zstd: their tools, which the kernel build needs anyway.
    tools = {b"\x02\x21\x4c\x18": "lz4", b"\x28\xb5\x2f\xfd": "zstd"}
    tool = tools.get(payload[:4])
    if tool is None:
        raise HarnessError(f"{path}: the suite cannot read this kernel compression "
                           f"(magic {payload[:4].hex()}); use gzip, xz, lzma, bzip2, lz4 or zstd")
    if shutil.which(tool) is None:
        raise HarnessError(f"{path}: cannot read its {tool} payload: {tool} is not installed")
    # The kernel appends the uncompressed size (4 bytes); the tools stop at
    # the end of the last frame and complain about the rest, but write it all.
    proc = subprocess.run([tool, "-dc"], input=payload[:-4], capture_output=True)
    if not proc.stdout:
        raise StaleKernelError(f"{path}: {tool} -dc failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


@dataclass(frozen=True)
class ImageIdentity:
    setup: str  # UTS_VERSION's first word in the setup header's string
    kernel: tuple[str, ...]  # the same in every banner of the compressed kernel


def read_bzimage(path: Path) -> ImageIdentity:
    """The identities a bzImage carries, in its setup code and in its kernel."""
    version, payload = _payload(path.read_bytes(), path)
    m = _UTS_VERSION.search(version.encode())
    kernel = _decompress(payload, path)
    banners = tuple(sorted({b.decode(errors="replace") for b in _BANNER.findall(kernel)}))
    return ImageIdentity(m.group(1).decode() if m else "", banners)


def read_vmlinux(path: Path) -> tuple[str, ...]:
    """The identities in the banners of an uncompressed kernel (vmlinux)."""
    return tuple(sorted({b.decode(errors="replace") for b in _BANNER.findall(path.read_bytes())}))


def verify_build(vmlinux: Path, bzimage: Path, expected: str) -> None:
    """After make: vmlinux and the bzImage made from it both carry the new
    identity. Which of them does not says which step a cache got wrong."""
    found = read_vmlinux(vmlinux)
    if found != (expected,):
        raise StaleKernelError(
            f"{vmlinux} is not the kernel just built: its banner carries "
            f"{', '.join(found) or '(none)'}, the build is {expected}")
    verify_image(bzimage, expected)


def from_proc_version(text: str) -> str:
    """The identity in /proc/version (or `uname -v`)."""
    m = _UTS_VERSION.search(text.encode())
    return m.group(1).decode() if m else ""


def verify_image(path: Path, expected: str) -> None:
    """Refuse a bzImage that is not the build recorded for it."""
    found = read_bzimage(path)
    if found.setup == expected and found.kernel == (expected,):
        return
    raise StaleKernelError(
        f"{path} is not the kernel that was built: the build recorded identity {expected}, "
        f"the image carries {found.setup or '(none)'} in its setup header and "
        f"{', '.join(found.kernel) or '(no banner)'} in its compressed kernel. "
        "A stale or replaced bzImage; refusing to boot it (rebuild, or delete the build folder)")


# A kernel the suite did not build (--kernel-build) has no identity of the
# suite's: its whole version string stands for it. The setup header has
# "RELEASE (USER@HOST) UTS_VERSION", the banner and /proc/version
# "Linux version RELEASE (USER@HOST) (COMPILER) UTS_VERSION"; the compiler's
# own text has parentheses, UTS_VERSION ("#1 SMP ... 2026") starts with "#".
_SETUP_STRING = re.compile(r"^(\S+) \(([^()]*)\) (#.*)$")
_BANNER_STRING = re.compile(r"^Linux version (\S+) \(([^()]*)\) \((.*)\) (#.*)$")
_BANNER_LINE = re.compile(rb"Linux version [^\n\0]+")
VERSION_PREFIX = "dev-"


@dataclass(frozen=True)
class KernelVersion:
    """What a kernel says it is: release, who built it where, UTS_VERSION
    (build number and time); the compiler only where the banner has it."""

    release: str
    builder: str  # user@host
    uts_version: str
    compiler: str = ""

    def __str__(self) -> str:
        return f"{self.release} ({self.builder}) {self.uts_version}"

    @property
    def banner(self) -> str:
        """As /proc/version says it (without the compiler if unknown)."""
        compiler = f" ({self.compiler})" if self.compiler else ""
        return f"Linux version {self.release} ({self.builder}){compiler} {self.uts_version}"

    @property
    def identity(self) -> str:
        """A short name for summaries and KCIDB ids, from what the setup
        header and /proc/version both carry."""
        return VERSION_PREFIX + digest(self.release, self.builder, self.uts_version)[:12]

    def same_build(self, other: "KernelVersion") -> bool:
        return (self.release, self.builder, self.uts_version) == (
            other.release, other.builder, other.uts_version) and (
            not self.compiler or not other.compiler or self.compiler == other.compiler)


def parse_version(text: str) -> KernelVersion | None:
    """A setup header's version string, a banner or /proc/version."""
    line = text.strip()
    if m := _BANNER_STRING.match(line):
        return KernelVersion(m.group(1), m.group(2), m.group(4), m.group(3))
    if m := _SETUP_STRING.match(line):
        return KernelVersion(m.group(1), m.group(2), m.group(3))
    return None


def image_version(path: Path) -> KernelVersion:
    """The version a bzImage says it boots: its setup header's, which one
    banner of its compressed kernel must carry too (or they are two builds).
    The kernel keeps a second, earlier banner (init/version.c's, made
    before the build's number and time were known): only one must match."""
    setup, payload = _payload(path.read_bytes(), path)
    kernel = _decompress(payload, path)
    banners = sorted({b.decode(errors="replace") for b in _BANNER_LINE.findall(kernel)})
    found = parse_version(setup)
    parsed = [p for p in map(parse_version, banners) if p is not None and p.compiler]
    same = [p for p in parsed if found is not None and p.same_build(found)]
    if not same:
        raise StaleKernelError(
            f"{path} is not one build: its setup header says {setup!r}, its compressed kernel "
            f"{', '.join(repr(b) for b in banners) or '(no banner)'}. A damaged or half-replaced "
            "bzImage; refusing to boot it (rebuild it)")
    # The banner's, with the compiler the setup header does not name.
    return same[0]


def verify_booted_version(proc_version: str, expected: KernelVersion, bzimage: Path) -> None:
    """Refuse to run checks on a guest whose kernel is not the one in
    @bzimage: release, builder and UTS_VERSION (its build number and time)."""
    if "Linux version" not in proc_version:
        raise GuestError(f"cannot read the booted kernel's version: /proc/version gave "
                         f"{proc_version.strip()!r}")
    booted = parse_version(proc_version)
    if booted is None or not booted.same_build(expected):
        raise StaleKernelError(
            f"the guest booted {proc_version.strip()!r}, not the build in {bzimage}, "
            f"which says {expected.banner!r}. Refusing to run checks on it")


def verify_booted(proc_version: str, expected: str, bzimage: Path) -> None:
    """Refuse to run checks on a guest that booted another kernel."""
    if "Linux version" not in proc_version:
        raise GuestError(f"cannot read the booted kernel's identity: /proc/version gave "
                         f"{proc_version.strip()!r}")
    booted = from_proc_version(proc_version)
    if booted != expected:
        raise StaleKernelError(
            f"the guest booted kernel {booted or '(unknown)'}, not the build {expected} "
            f"({bzimage}); /proc/version: {proc_version.strip()!r}. "
            "Refusing to run checks on it")
