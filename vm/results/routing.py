"""Which exit status a run ends with: what failed decides where a CI routes it.

vm/results/status.py says what each status means. A run can meet several causes;
the one that says the most about the revision wins: a series that does not
apply or build (nothing else could be tried), then a failed check or a
kernel that died (a verdict, which retrying elsewhere would not change),
then the runner's own trouble (retry elsewhere).
"""

from collections.abc import Iterable

from vm.errors import BuildError, ConfigError, HarnessError, SeriesError, UsageError
from vm.guest import health
from vm.guest.vng import GuestCrashed
from vm.results.status import ExitStatus

PRECEDENCE = (ExitStatus.REVISION_BROKEN, ExitStatus.FAILED, ExitStatus.INFRASTRUCTURE)


def kernel_died(error: GuestCrashed) -> bool:
    """The kernel started and then panicked, oopsed or hung; not QEMU or vng
    failing to start one."""
    tail = error.console_tail
    return "Linux version" in tail or bool(health.scan(tail))


def cause(error: BaseException) -> ExitStatus:
    """The status one error of a run stands for."""
    if isinstance(error, UsageError):
        return ExitStatus.USAGE
    if isinstance(error, (SeriesError, ConfigError, BuildError)):
        return ExitStatus.REVISION_BROKEN
    if isinstance(error, GuestCrashed) and kernel_died(error):
        return ExitStatus.FAILED  # the series broke boot, or the kernel died under a check
    if isinstance(error, HarnessError):
        return ExitStatus.INFRASTRUCTURE  # a missing tool, QEMU, a stale or damaged cache
    return ExitStatus.FAILED  # a check's verdict, an assertion of a test


def final(pytest_status: int, causes: Iterable[ExitStatus], interrupted: bool = False) -> int:
    """The run's exit status from pytest's and the causes the run met."""
    # Ctrl-C, a bug of the suite and a bad option say more than any verdict.
    if interrupted or pytest_status in (ExitStatus.INTERNAL, ExitStatus.USAGE):
        return pytest_status
    met = set(causes)
    for status in PRECEDENCE:
        if status in met:
            return status
    # 0, 5, or 2 without a cause of ours (a test module that does not import).
    return pytest_status


def combine(statuses: Iterable[int]) -> int:
    """The status of shards taken together: the worst by the same precedence;
    a shard that selected nothing does not make the whole empty."""
    met = set(statuses)
    order = (*PRECEDENCE, ExitStatus.INTERNAL, ExitStatus.USAGE, ExitStatus.INTERRUPTED,
             ExitStatus.OK, ExitStatus.NO_TESTS)
    for status in order:
        if status in met:
            return status
    return max(met, default=ExitStatus.NO_TESTS)
