"""Errors of the harness, each naming its culprit.

A HarnessError means the run could not get as far as a verdict on a
check. Most are about the suite's inputs or tools (a tree, a series, a
config fragment, a missing program); some are about the kernel under test:
it does not build (BuildError), it is not the kernel just built
(identity.StaleKernelError), or it panics while booting, dies or hangs
(GuestCrashed, a GuestError). A crash during a check is that check's
failure (vm/guest/runner.py); any other HarnessError fails every test that needs
what could not be made, with the same message.
"""


class HarnessError(Exception):
    """The run cannot build, boot or drive the kernel under test."""


class SourceError(HarnessError):
    """The kernel tree cannot be found or prepared."""


class SeriesError(HarnessError):
    """The patch series is malformed or does not apply."""


class ConfigError(HarnessError):
    """A requested kernel config option did not survive olddefconfig."""


class BuildError(HarnessError):
    """The kernel or the check programs failed to build."""


class GuestError(HarnessError):
    """The guest cannot be booted or driven; GuestCrashed when its kernel died."""


class UsageError(HarnessError):
    """A bad option or input, found before anything runs; one line naming it."""
