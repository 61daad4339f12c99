"""Check programs (tests/guest/*.c): compiled on the host against the build's
UAPI headers, their checks listed with -l (one pytest item per check)."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vm.cache import check_programs_dir
from vm.errors import BuildError
from vm.guest import ktap
from vm.kernel.build import Built, first_errors, toolchain
from vm.paths import GUEST_CHECKS_DIR, digest
from vm.progress import Progress

HELPER_PREFIX = "helper_"
# The spawn benchmark's programs (vm/bench/spawn/): compiled with the checks,
# run by `python3 -m vm.spawnbench`, never collected as checks.
BENCH_PREFIX = "bench_"
STAMP = ".suite-checks-key"


@dataclass(frozen=True)
class CheckPrograms:
    out_dir: Path

    def binary(self, source: Path) -> Path:
        return self.out_dir / source.stem


def is_check_program(path: Path) -> bool:
    return path.suffix == ".c" and not path.name.startswith((HELPER_PREFIX, BENCH_PREFIX))


def tree_digest(*roots: Path) -> str:
    """Every file under the roots, by relative path and content."""
    parts: list[str | bytes] = []
    for root in roots:
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            parts += [str(f.relative_to(root)), f.read_bytes()]
    return digest(*parts)


def checks_key(built: Built, checks_dir: Path, selftests: Path) -> str:
    """Everything the binaries are made from. make alone would miss the
    UAPI headers and the harness: they are not prerequisites in the Makefile."""
    harness = [selftests / "kselftest_harness.h", selftests / "kselftest.h"]
    return digest(tree_digest(checks_dir), tree_digest(built.headers), toolchain(),
                  *(h.read_bytes() for h in harness if h.is_file()))


# Compiled sets kept besides the one in use, for runs of other sources.
KEEP_OTHER_SETS = 8


def _prune(sets: Path, keep: Path) -> None:
    """Drop the oldest compiled sets; a set this old is not in use."""
    others = sorted((d for d in sets.iterdir() if d.is_dir() and d != keep),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    for old in others[KEEP_OTHER_SETS:]:
        shutil.rmtree(old, ignore_errors=True)


def compile_all(built: Built, progress: Progress,
                checks_dir: Path = GUEST_CHECKS_DIR) -> CheckPrograms:
    """make -C tests/guest against the UAPI headers and harness of the tree under test."""
    selftests = built.tree.path / "tools" / "testing" / "selftests"
    if not (selftests / "kselftest_harness.h").is_file():
        raise BuildError(f"{selftests}/kselftest_harness.h missing: not a full kernel tree?")
    key = checks_key(built, checks_dir, selftests)
    out_dir = check_programs_dir(built.configured.build_dir, key)
    stamp = out_dir / STAMP
    if stamp.is_file() and stamp.read_text().strip() == key:
        out_dir.touch()
        return CheckPrograms(out_dir)
    # A set without its stamp is a compile that did not finish.
    shutil.rmtree(out_dir, ignore_errors=True)
    # All CPUs: serially, the 22 programs took 20 s of a fresh run's wall
    # time here, 9 s with two jobs, and the guests wait for them.
    cmd = ["make", "-s", f"-j{os.cpu_count() or 1}", "-C", str(checks_dir), f"OUTPUT={out_dir}",
           f"KHDR_INCLUDES=-isystem {built.headers}", f"SELFTESTS={selftests}"]
    progress(f"checks: compiling {checks_dir} against {built.headers}")
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise BuildError("guest checks failed to compile:\n  "
                         + first_errors(proc.stdout + proc.stderr))
    stamp.write_text(key + "\n")
    _prune(out_dir.parent, out_dir)
    return CheckPrograms(out_dir)


def list_checks(binary: Path) -> list[str]:
    """The checks of a check program, from `program -l`; listing runs
    nothing, so it is done on the host."""
    proc = subprocess.run([str(binary), "-l"], capture_output=True, text=True, timeout=30)
    try:
        names = ktap.parse_listing(proc.stderr + proc.stdout)
    except ValueError as e:
        raise BuildError(f"{binary} -l: {e}") from e
    if not names:
        raise BuildError(f"{binary} -l listed no tests:\n{proc.stderr}")
    return names
