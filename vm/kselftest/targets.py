"""Which of the kernel's own selftests guard what a series changes.

A target (tools/testing/selftests/<target>/) runs when the series changes a
file that the target exercises. The table below is the one place that says
which; `--kselftest TARGET` adds a target, `--kselftest none` runs none.
"""

from collections.abc import Iterable
from fnmatch import fnmatchcase

from vm.kernel.apply import touched_paths
from vm.kernel.series import Series

NONE = "none"

# A changed file (a glob) and the targets whose tests go through it.
GUARDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fs/exec.c", ("exec",)),
    ("fs/binfmt_*.c", ("exec",)),
    ("include/linux/binfmts.h", ("exec",)),
    ("kernel/fork.c", ("clone3", "pidfd")),
    ("kernel/pid.c", ("clone3", "pidfd")),
)


def for_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """The targets guarding any of @paths, in the table's order."""
    found: list[str] = []
    for path in paths:
        for pattern, targets in GUARDS:
            if fnmatchcase(path, pattern):
                found += [t for t in targets if t not in found]
    return tuple(found)


def for_series(series: Series) -> tuple[str, ...]:
    """The targets a series touches; every target of the table when its
    diffs cannot be read safely (vm/kernel/apply.py)."""
    paths = touched_paths(series)
    if paths is None:
        return for_paths(pattern for pattern, _ in GUARDS)
    return for_paths(paths)


def chosen(series: Series, extra: Iterable[str]) -> tuple[str, ...]:
    """The targets of a run: the series' own, then those asked for."""
    extra = tuple(extra)
    if NONE in extra:
        return ()
    found = list(for_series(series))
    return tuple(found + [t for t in extra if t not in found])
