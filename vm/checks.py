"""Guest checks: compiled on the host, listed with -l, one item per test."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from vm import ktap
from vm.build import Built, first_errors
from vm.errors import BuildError
from vm.paths import GUEST_CHECKS_DIR
from vm.progress import Progress

HELPER_PREFIX = "helper_"


@dataclass(frozen=True)
class CheckBinaries:
    out_dir: Path

    def binary(self, source: Path) -> Path:
        return self.out_dir / source.stem


def is_check_source(path: Path) -> bool:
    return path.suffix == ".c" and not path.name.startswith(HELPER_PREFIX)


def compile_all(built: Built, progress: Progress,
                checks_dir: Path = GUEST_CHECKS_DIR) -> CheckBinaries:
    """make -C tests/guest against the UAPI headers and harness of the tree under test."""
    out_dir = built.configured.build_dir / "guest-checks"
    selftests = built.tree.path / "tools" / "testing" / "selftests"
    if not (selftests / "kselftest_harness.h").is_file():
        raise BuildError(f"{selftests}/kselftest_harness.h missing: not a full kernel tree?")
    cmd = ["make", "-s", "-C", str(checks_dir), f"OUTPUT={out_dir}",
           f"KHDR_INCLUDES=-isystem {built.headers}", f"SELFTESTS={selftests}"]
    progress(f"checks: compiling {checks_dir} against {built.headers}")
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise BuildError("guest checks failed to compile:\n  "
                         + first_errors(proc.stdout + proc.stderr))
    return CheckBinaries(out_dir)


def list_tests(binary: Path) -> list[str]:
    """Names from `binary -l`; listing runs nothing, so it is done on the host."""
    proc = subprocess.run([str(binary), "-l"], capture_output=True, text=True, timeout=30)
    try:
        names = ktap.parse_listing(proc.stderr + proc.stdout)
    except ValueError as e:
        raise BuildError(f"{binary} -l: {e}") from e
    if not names:
        raise BuildError(f"{binary} -l listed no tests:\n{proc.stderr}")
    return names
