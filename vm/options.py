"""What a run is asked to do, and the default of every option, in one place.

conftest.py's pytest options, the benchmarks and the prefix builder take
their defaults from here; nothing else has any.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vm.paths import PATCHES_DIR, REPO_ROOT

DEFAULT_SERIES = PATCHES_DIR / "spawn-template" / "v3"
DEFAULT_RESULTS_DIR = REPO_ROOT / "results"
# kconfigs/<name>.config merged into every kernel, before any --kconfig.
DEFAULT_FRAGMENTS = ("base", "spawn-template", "lsm", "trace", "audit", "observe")


def fragments_with(extra: Iterable[str]) -> tuple[str, ...]:
    """The default fragments, then those of @extra that are not among them."""
    return DEFAULT_FRAGMENTS + tuple(k for k in extra if k not in DEFAULT_FRAGMENTS)


@dataclass(frozen=True)
class Options:
    kernel_tree: Path | None = None  # None: Debian's linux-source tarball
    # DIR, MBOX or "none"; None: not given (a build takes DEFAULT_SERIES,
    # --no-build and --prebuilt the series of the build they boot).
    series: str | None = None
    kconfigs: tuple[str, ...] = DEFAULT_FRAGMENTS
    no_build: bool = False
    prebuilt: Path | None = None  # an exported build (vm/guest/prebuilt.py), folder or tarball
    # A developer's build folder, booted as it is (vm/kernel/devbuild.py).
    kernel_build: Path | None = None
    accel: str = "auto"
    guest_memory: str = "1G"
    guest_cpus: int = 2
    check_timeout: float = 300.0  # seconds before a check counts as a hang
    # The kernel's own selftests: targets added to those the series touches
    # ("none": no target), and, for the base kernel's own run, where its
    # results go (vm/kselftest/base.py).
    kselftest: tuple[str, ...] = ()
    kselftest_base_record: Path | None = None

    @property
    def series_spec(self) -> str:
        return str(DEFAULT_SERIES) if self.series is None else self.series

    @property
    def kconfigs_given(self) -> bool:
        return self.kconfigs != DEFAULT_FRAGMENTS


DEFAULTS = Options()
