"""The kernel tree to test: Debian's linux-source tarball or a developer's tree.

Either way the suite works on its own git repository in the cache, whose
first commit is the pristine base. The developer's tree is only read.
"""

import os
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from vm.cache import Cache
from vm.errors import SourceError
from vm.kernel.git import FIXED_DATES, ensure_blobs, git, run_git, tree_entries
from vm.paths import digest
from vm.proc import run
from vm.progress import Progress

DEBIAN_TARBALL_GLOB = "linux-source-6.12.tar.*"
DEBIAN_SRC_DIR = Path("/usr/src")
STAMP = ".suite-base"


@dataclass(frozen=True)
class KernelSource:
    """A pristine kernel tree as a commit in a cache repository."""

    repo: Path  # main worktree: where the kernel is built from
    base: str  # commit id of the pristine tree
    version: str  # e.g. "6.12.117"
    origin: str  # what it came from, for messages and the summary

    @property
    def major_minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def kernel_version(makefile_text: str) -> str:
    """VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from a top-level Makefile."""
    fields = {}
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
        m = re.search(rf"^{key}\s*=\s*(\S*)\s*$", makefile_text, re.M)
        fields[key] = m.group(1) if m else ""
    if not fields["VERSION"] or not fields["PATCHLEVEL"]:
        raise SourceError("top-level Makefile has no VERSION/PATCHLEVEL: not a kernel tree")
    version = f"{fields['VERSION']}.{fields['PATCHLEVEL']}.{fields['SUBLEVEL'] or 0}"
    return version + fields["EXTRAVERSION"]


def find_debian_tarball(src_dir: Path = DEBIAN_SRC_DIR) -> Path:
    found = sorted(src_dir.glob(DEBIAN_TARBALL_GLOB))
    if not found:
        raise SourceError(
            f"no {src_dir}/{DEBIAN_TARBALL_GLOB}: install Debian's kernel source "
            "(apt-get install linux-source-6.12) or pass --kernel-tree PATH"
        )
    return found[-1]


def tarball_key(tarball: Path) -> str:
    """Identity of a tarball without reading its 150 MB: name, size, mtime."""
    st = tarball.stat()
    return "deb-" + digest(tarball.name, str(st.st_size), str(st.st_mtime_ns))


def _record_base(repo: Path, message: str) -> str:
    """Commit the unpacked tree as the pristine base without storing it.

    Every file is hashed into the index, but no blob is written: compressing
    86,000 files into loose objects was 37 s of a cold run, and a series only
    ever reads the few files it touches. vm.git.ensure_blobs() stores those. The
    repository is the suite's own: git fsck or gc there reports the missing
    blobs, by design.
    """
    git(repo, "init", "-q", error=SourceError)
    git(repo, "config", "gc.auto", "0", error=SourceError)
    # --others without --exclude-standard: Debian's .gitignore ignores what it ships.
    files = git(repo, "ls-files", "-z", "--others", error=SourceError)
    git(repo, "update-index", "--add", "--info-only", "-z", "--stdin", stdin=files,
        error=SourceError)
    tree = git(repo, "write-tree", "--missing-ok", error=SourceError)
    # Fixed dates: unpacking the same tarball again gives the same base, so
    # the build folder's stamps stay valid.
    base = git(repo, "commit-tree", tree, "-m", message, extra_env=FIXED_DATES,
               error=SourceError)
    git(repo, "update-ref", "HEAD", base, error=SourceError)
    return base


def _finish(repo: Path, base: str, origin: str) -> KernelSource:
    makefile = git(repo, "show", f"{base}:Makefile", error=SourceError)
    return KernelSource(repo=repo, base=base, version=kernel_version(makefile), origin=origin)


def untar_command(tarball: Path) -> list[str]:
    if tarball.name.endswith(".xz") and shutil.which("xz"):
        # Debian's tarball is made of many xz blocks: decompress on every core.
        return ["tar", "-I", "xz -T0", "-xf", str(tarball)]
    return ["tar", "-xf", str(tarball)]


def from_tarball(tarball: Path, cache: Cache, progress: Progress) -> KernelSource:
    """Unpack the tarball once into the cache, keyed by its identity."""
    repo = cache.source_repo(tarball_key(tarball))
    stamp = repo / ".git" / STAMP
    if stamp.is_file():
        return _finish(repo, stamp.read_text().strip(), str(tarball))
    tmp = repo.with_name(repo.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    progress(f"source: unpacking {tarball} (once; about 15 s)")
    try:
        with tarfile.open(tarball) as tar:
            top = tar.next()
        strip = ["--strip-components=1"] if top is not None and top.isdir() else []
        run([*untar_command(tarball), "-C", str(tmp), *strip], error=SourceError)
        progress("source: recording the pristine base in git")
        base = _record_base(tmp, f"base: {tarball.name}")
        ensure_blobs(tmp, tree_entries(tmp, base, ["Makefile"]))
        (tmp / ".git" / STAMP).write_text(base + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(repo, ignore_errors=True)
    tmp.rename(repo)
    # Worktrees record absolute paths; the rename happened before any exists.
    return _finish(repo, base, str(tarball))


def _is_clean_git_tree(tree: Path) -> bool:
    if not (tree / ".git").exists():
        return False
    proc = run_git(tree, "status", "--porcelain", "--untracked-files=normal", check=False,
                   read_only=True)
    return proc.returncode == 0 and proc.stdout.strip() == ""


def from_tree(tree: Path, cache: Cache, progress: Progress) -> KernelSource:
    """Mirror a developer's tree into the cache; the tree itself is only read."""
    tree = tree.resolve()
    if not (tree / "Makefile").is_file() or not (tree / "Kconfig").is_file():
        raise SourceError(f"--kernel-tree {tree}: not a kernel tree (no Makefile/Kconfig)")
    repo = cache.source_repo("tree-" + digest(str(tree)))
    if _is_clean_git_tree(tree):
        # A clean git tree: its HEAD is the base. A shared clone reads the
        # developer's objects through alternates and writes nothing there.
        head = git(tree, "rev-parse", "HEAD", error=SourceError, read_only=True)
        if not (repo / ".git").is_dir():
            progress(f"source: cloning {tree} (shared, read-only)")
            shutil.rmtree(repo, ignore_errors=True)
            repo.parent.mkdir(parents=True, exist_ok=True)
            git(None, "clone", "-q", "--shared", "--no-checkout", str(tree), str(repo),
                error=SourceError)
            git(repo, "config", "gc.auto", "0", error=SourceError)
            git(repo, "checkout", "-q", "--detach", head, error=SourceError)
        else:
            git(repo, "fetch", "-q", str(tree), head, error=SourceError)
        return _finish(repo, head, f"{tree} @ {head[:12]}")
    return _from_copy(tree, cache.source_repo("copy-" + digest(str(tree))), progress)


def _from_copy(tree: Path, top: Path, progress: Progress) -> KernelSource:
    """Not git, or with local changes: mirror what git would track.

    rsync keeps a plain mirror; its content is committed through a separate
    index, so the repository's own checkout (the build tree) is never
    rewritten here and unchanged files keep their timestamps.
    """
    mirror, repo = top / "mirror", top / "repo"
    progress(f"source: copying {tree} into the cache (rsync, incremental)")
    mirror.mkdir(parents=True, exist_ok=True)
    rsync = ["rsync", "-a", "--delete"]
    if (tree / ".git").exists():
        files = run_git(tree, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                        error=SourceError, read_only=True).stdout
        listing = top / "files"
        listing.write_text(files)
        rsync += ["--from0", f"--files-from={listing}"]
    elif (tree / ".config").exists() or (tree / "include" / "config").exists():
        raise SourceError(
            f"--kernel-tree {tree}: has in-tree build output (.config); the suite "
            "builds out of tree and never cleans your tree: pass a clean tree"
        )
    run([*rsync, f"{tree}/", f"{mirror}/"], error=SourceError)
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", error=SourceError)
        git(repo, "config", "gc.auto", "0", error=SourceError)
    env = {"GIT_INDEX_FILE": str(repo / ".git" / "mirror-index"),
           "GIT_WORK_TREE": str(mirror)}
    git(repo, "add", "-f", "-A", error=SourceError, extra_env=env)
    tree_id = git(repo, "write-tree", error=SourceError, extra_env=env)
    previous = git(repo, "rev-parse", "-q", "--verify", "refs/suite/base",
                   check=False, error=SourceError)
    if previous and git(repo, "rev-parse", f"{previous}^{{tree}}", error=SourceError) == tree_id:
        base = previous
    else:
        parent = ["-p", previous] if previous else []
        base = git(repo, "commit-tree", tree_id, *parent, "-m", f"base: copy of {tree}",
                   error=SourceError)
        git(repo, "update-ref", "refs/suite/base", base, error=SourceError)
    return _finish(repo, base, f"{tree} (copy)")


def resolve(kernel_tree: Path | None, cache: Cache, progress: Progress) -> KernelSource:
    if kernel_tree is not None:
        return from_tree(kernel_tree, cache, progress)
    if not os.access(DEBIAN_SRC_DIR, os.R_OK):
        raise SourceError(f"{DEBIAN_SRC_DIR} is not readable")
    return from_tarball(find_debian_tarball(), cache, progress)
