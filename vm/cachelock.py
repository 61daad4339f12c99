"""One run at a time prepares kernels in the cache."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vm.progress import Progress


@contextmanager
def locked(cache: Path, progress: Progress) -> Iterator[None]:
    """Hold the cache's lock; another run's git am or make would race ours."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"cache: another run holds {cache / 'lock'}; waiting for it")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield
