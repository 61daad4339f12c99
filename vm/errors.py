"""Errors that stop a run before any test, each naming its culprit."""


class HarnessError(Exception):
    """A problem with the suite's inputs or tools, not with the kernel."""


class SourceError(HarnessError):
    """The kernel tree cannot be found or prepared."""


class SeriesError(HarnessError):
    """The patch series is malformed or does not apply."""


class ConfigError(HarnessError):
    """A requested kernel config option did not survive olddefconfig."""


class BuildError(HarnessError):
    """The kernel or the guest checks failed to build."""


class GuestError(HarnessError):
    """The guest cannot be booted or driven."""
