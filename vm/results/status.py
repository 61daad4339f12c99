"""Exit statuses of the suite's commands, one meaning each.

A CI routes on them: FAILED and REVISION_BROKEN say the revision under
test is bad; INFRASTRUCTURE says the runner is (retry it elsewhere).
0-5 are pytest's own (pytest.ExitCode); the suite adds 10 and 11.
"""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # everything passed
    FAILED = 1  # a check failed, or the kernel did not survive boot or a check
    INTERRUPTED = 2  # Ctrl-C
    INTERNAL = 3  # a bug of the suite
    USAGE = 4  # a bad option or input, named in one line
    NO_TESTS = 5  # nothing was selected
    REVISION_BROKEN = 10  # the series does not apply or the kernel does not build
    INFRASTRUCTURE = 11  # a missing tool, QEMU did not start, a damaged cache

