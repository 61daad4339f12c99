"""The suite's cache: where everything it keeps between runs lives, and its lock.

    $XDG_CACHE_HOME/spawn-template-suite/   (default ~/.cache/...)
      lock                        held while a run prepares a kernel
      src/<key>/                  a kernel source repository; its worktree is the build tree
      src/<key>.apply/            the scratch worktree git am runs in
      src/<key>.build/            the build folder (make O=), stamps and build record
      src/<key>.build/guest-checks/<key>/   the compiled check programs, one
                                  folder per set of inputs
      ccache/                     ccache's store and the suite's ccache.conf
      gate/<key>.json             a series' guest outcomes, a gate's baseline (vm/gate/cli.py)
      listing/<key>/              check programs built only to be listed (vm/guest/listing.py)
      listing/harness-<key>/      kselftest_harness.h and kselftest.h out of Debian's tarball
      bin/kcc-<digest>            the compiler wrapper (vm/kernel/kcc)
      kernel-build/<key>/         a developer's build (--kernel-build): its UAPI headers
                                  (usr/include, vm/kernel/headers.py) and the check
                                  programs compiled against them (guest-checks/<key>/)
      tmp/                        $TMPDIR of every run but --prebuilt's (contain_temporaries())

Every path in the cache is named here; docs/caches.md says what each key is.
"""

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vm.progress import Progress


@dataclass(frozen=True)
class Cache:
    root: Path

    @classmethod
    def default(cls) -> "Cache":
        """The suite's folder in the XDG cache ($XDG_CACHE_HOME or ~/.cache)."""
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return cls(Path(base) / "spawn-template-suite")

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    def source_repo(self, key: str) -> Path:
        """A kernel source repository: "deb-...", "tree-..." or "copy-..."."""
        return self.root / "src" / key

    def kernel_build(self, key: str) -> Path:
        """The UAPI headers of a developer's build, by what they are made from."""
        return self.root / "kernel-build" / key

    @property
    def ccache(self) -> Path:
        return self.root / "ccache"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"


def contain_temporaries(where: Cache | Path) -> None:
    """Point $TMPDIR into the cache (or @where, a folder of the suite's,
    for a --prebuilt run, which makes no cache): what a run starts (git,
    gcc under make, vng and its virtiofsd socket) and Python's tempfile
    then write their temporaries there, not in /tmp, which is not the
    suite's."""
    folder = where.tmp if isinstance(where, Cache) else where
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # tempfile reads $TMPDIR again on next use


# Next to a source repository, so that they follow it wherever it is.

def apply_worktree(repo: Path) -> Path:
    return repo.parent / (repo.name + ".apply")


def build_folder(repo: Path) -> Path:
    return repo.parent / (repo.name + ".build")


def check_programs_dir(folder: Path, key: str) -> Path:
    """In the build folder: compiled against that build's UAPI headers.
    One folder per key: a run that compiles other sources (another
    worktree, an edit) must not replace the binaries another run's guest
    is executing."""
    return folder / "guest-checks" / key[:16]


def held(lock: Path) -> bool:
    """Whether another process holds @lock (a lock file of locked()) now."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


@contextmanager
def locked(cache: Cache, progress: Progress, lock: Path | None = None) -> Iterator[None]:
    """Hold the cache's lock (or another lock file in it); another run's git
    am or make would race ours. Not reentrant: take it once, around all the work."""
    path = lock or cache.lock
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"cache: another run holds {path}; waiting for it")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield
