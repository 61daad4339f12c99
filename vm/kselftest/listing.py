"""The programs of each target, for collection: no kernel is built for them.

The base commit's tests are written out of git into the cache and built
against the host's UAPI headers, once per digest of their sources; their
kselftest-list.txt names the programs. The run builds them again against
the base kernel's headers (install.py); the names are the same.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from vm.cache import Cache
from vm.errors import BuildError
from vm.kernel.git import ensure_blobs, tree_entries
from vm.kselftest import install
from vm.progress import Progress

HOST_HEADERS = Path("/usr/include")
# What a selftest build reads outside its own folders.
OUTSIDE = ("scripts/subarch.include", "tools/include")


def programs(repo: Path, commit: str, targets: tuple[str, ...], cache: Cache,
             progress: Progress) -> dict[str, tuple[str, ...]]:
    """target -> its programs, from the tests at @commit of @repo."""
    key = install.tests_key(repo, commit, targets)
    folder = cache.root / "listing" / f"kselftest-{key}"
    if (folder / "install" / install.LIST).is_file():
        return install.read_list(folder / "install")
    progress(f"listing: building kselftest {' '.join(targets)} once to list its programs")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        paths = [f"{install.SELFTESTS}/{p}" for p in (*targets, *install.SHARED)] + list(OUTSIDE)
        # The cache's repository stores a base blob only once it was needed.
        ensure_blobs(repo, [e for e in tree_entries(repo, commit)
                            if any(e.path == p or e.path.startswith(p + "/") for p in paths)])
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "--", *paths],
                                 capture_output=True)
        if archive.returncode != 0:
            raise BuildError(f"git archive of {commit[:12]} tools/: "
                             f"{archive.stderr.decode(errors='replace')}")
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        scratch = Cache(Path(tmp) / "cache")
        built = install.install(tree, key, targets, HOST_HEADERS, scratch, progress)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        (folder / "install").mkdir()
        shutil.copyfile(built.path / install.LIST, folder / "install" / install.LIST)
        return built.programs
