"""Check programs compiled only to list their checks: no kernel build needed.

Collection (`pytest --collect-only`, -k, -m, planning shards) lists each
program's checks with `-l`. The names come from the program's source, not
from the kernel's headers, so the programs are compiled here against the
contract's own header fallback (tests/guest/spawn_template_abi.h, used when
no <linux/spawn_template.h> is installed) and the host's UAPI headers, at
-O0. The run itself compiles them again against the build's UAPI headers
(vm/guest/checks.py); those are the binaries that run in the guest.

The harness headers (kselftest_harness.h, kselftest.h) come from wherever
they are without preparing a kernel: the --kernel-tree, a kernel source the
cache holds, or else the two files out of Debian's tarball (seconds).
"""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vm.cache import Cache
from vm.errors import BuildError, SourceError
from vm.guest import checks
from vm.kernel import source
from vm.kernel.build import first_errors, toolchain
from vm.paths import GUEST_CHECKS_DIR, digest
from vm.progress import Progress

SELFTESTS = Path("tools/testing/selftests")
HARNESS = ("kselftest_harness.h", "kselftest.h")


def _has_harness(folder: Path) -> bool:
    return all((folder / h).is_file() for h in HARNESS)


def _from_tarball(tarball: Path, cache: Cache, progress: Progress) -> Path:
    """The two harness headers out of the tarball, once per tarball."""
    dest = cache.root / "listing" / f"harness-{source.tarball_key(tarball)}"
    if _has_harness(dest):
        return dest
    progress(f"listing: reading the kselftest harness out of {tarball} (once)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        cmd = [*source.untar_command(tarball), "-C", tmp, "--wildcards",
               *(f"*/{SELFTESTS}/{h}" for h in HARNESS)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = {p.name: p for p in Path(tmp).rglob("kselftest*.h")}
        if proc.returncode != 0 or set(found) != set(HARNESS):
            raise SourceError(f"{tarball}: no {SELFTESTS}/{HARNESS[0]} in it: {proc.stderr}")
        staged = Path(tmp) / "harness"
        staged.mkdir()
        for name, path in found.items():
            shutil.move(path, staged / name)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(staged, dest)
    return dest


def harness_dir(kernel_tree: Path | None, cache: Cache, progress: Progress) -> Path:
    """A folder with kselftest_harness.h and kselftest.h."""
    if kernel_tree is not None and _has_harness(kernel_tree / SELFTESTS):
        return kernel_tree / SELFTESTS
    held = sorted(cache.root.glob(f"src/*/{SELFTESTS}")) + sorted(
        cache.root.glob(f"src/*/mirror/{SELFTESTS}"))
    for folder in held:
        if _has_harness(folder):
            return folder
    return _from_tarball(source.find_debian_tarball(), cache, progress)


def programs(checks_dir: Path = GUEST_CHECKS_DIR) -> list[Path]:
    return sorted(p for p in checks_dir.glob("*.c") if checks.is_check_program(p))


@dataclass(frozen=True)
class ListingPrograms(checks.CheckPrograms):
    """One binary per program source: <stem>-<digest of its text>, so that an
    edit recompiles that program alone and two worktrees never share one."""

    def binary(self, source: Path) -> Path:
        return self.out_dir / f"{source.stem}-{digest(source.read_bytes())}"


def compile_for_listing(harness: Path, cache: Cache, progress: Progress,
                        checks_dir: Path = GUEST_CHECKS_DIR) -> ListingPrograms:
    """The check programs (not the helpers) built to be listed, kept in the
    cache; only those whose source changed are compiled again."""
    shared = digest(toolchain(), (checks_dir / "Makefile").read_bytes(),
                    *(h.read_bytes() for h in sorted(checks_dir.glob("*.h"))),
                    *((harness / h).read_bytes() for h in HARNESS))
    listed = ListingPrograms(cache.root / "listing" / shared)
    stale = [p for p in programs(checks_dir) if not listed.binary(p).is_file()]
    if not stale:
        return listed
    progress(f"listing: compiling {len(stale)} check program(s) against the contract's "
             "header (no kernel)")
    listed.out_dir.mkdir(parents=True, exist_ok=True)
    # Built aside, then renamed into place: a binary is there whole or not at all.
    with tempfile.TemporaryDirectory(dir=listed.out_dir, prefix=".tmp-") as tmp:
        cmd = ["make", "-s", f"-j{os.cpu_count() or 1}", "-C", str(checks_dir),
               f"OUTPUT={tmp}", "OPT=-O0", "KHDR_INCLUDES=", f"SELFTESTS={harness}",
               *(f"{tmp}/{p.stem}" for p in stale)]
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            raise BuildError("guest checks failed to compile for listing (against the "
                             "contract's header):\n  " + first_errors(proc.stdout + proc.stderr))
        for program in stale:
            os.replace(Path(tmp) / program.stem, listed.binary(program))
    return listed
