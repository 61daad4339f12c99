"""How long phases report what they are doing."""

from collections.abc import Callable

Progress = Callable[[str], None]


def silent(_message: str) -> None:
    """For callers that want no progress lines (unit tests)."""
