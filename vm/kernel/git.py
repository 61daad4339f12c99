"""git, the one way the suite calls it, and the blob store of its repositories.

Every git command goes through run_git(): the suite's identity and a fixed
environment, so the user's settings never change what a command does, and
any repository is accepted (the cache is the suite's own, a developer's
tree is only read).

The repositories in the cache commit a kernel tree without storing most of
its blobs (vm/kernel/source.py says why); the functions at the end store the
blobs a step is about to read, and name the files that cannot be restored.
"""

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vm.errors import HarnessError, SourceError
from vm.proc import run

NAME, EMAIL = "spawn-template-suite", "suite@localhost"
# Commits the suite makes: the same inputs give the same commit id.
FIXED_DATES = {"GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z"}


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {
        **(extra or {}),
        "GIT_AUTHOR_NAME": NAME,
        "GIT_AUTHOR_EMAIL": EMAIL,
        "GIT_COMMITTER_NAME": NAME,
        "GIT_COMMITTER_EMAIL": EMAIL,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(Path.home()),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LC_ALL": "C",
    }


def run_git(repo: Path | None, *args: str, check: bool = True,
            error: type[HarnessError] = HarnessError,
            extra_env: Mapping[str, str] | None = None, stdin: str | None = None,
            read_only: bool = False) -> subprocess.CompletedProcess[str]:
    """Run git in @repo (None: no repository); @read_only for a developer's
    tree, whose index git must not refresh."""
    cmd = ["git", "-c", "safe.directory=*"]
    if read_only:
        cmd.append("--no-optional-locks")
    if repo is not None:
        cmd += ["-C", str(repo)]
    return run([*cmd, *args], env=_env(extra_env), check=check, error=error, stdin=stdin)


def git(repo: Path | None, *args: str, check: bool = True,
        error: type[HarnessError] = HarnessError,
        extra_env: Mapping[str, str] | None = None, stdin: str | None = None,
        read_only: bool = False) -> str:
    """Run git in @repo and return its stripped stdout."""
    return run_git(repo, *args, check=check, error=error, extra_env=extra_env, stdin=stdin,
                   read_only=read_only).stdout.strip()


def scratch_index(repo: Path, name: str) -> dict[str, str]:
    """The environment for an index file of our own, empty; a lock left by a
    killed run is stale, since the cache lock is held."""
    index = repo / ".git" / name
    for stale in (index, index.with_name(name + ".lock")):
        stale.unlink(missing_ok=True)
    return {"GIT_INDEX_FILE": str(index)}


@dataclass(frozen=True)
class TreeEntry:
    """One file of a tree: what `git ls-tree` says about it."""

    mode: str
    oid: str
    path: str


def tree_entries(repo: Path, commit: str, paths: Iterable[str] | None = None) -> list[TreeEntry]:
    """The files of @commit, or those of them named in @paths."""
    wanted = None if paths is None else set(paths)
    entries = []
    for line in git(repo, "ls-tree", "-r", "-z", "--full-tree", commit,
                    error=SourceError).split("\0"):
        if not line:
            continue
        meta, path = line.split("\t", 1)
        mode, kind, oid = meta.split()
        if kind == "blob" and (wanted is None or path in wanted):
            entries.append(TreeEntry(mode, oid, path))
    return entries


def damaged(repo: Path, paths: Iterable[str]) -> SourceError:
    return SourceError(f"{repo}: these files no longer match the pristine base, whose "
                       f"copies are not stored (was the cache edited by hand?): "
                       f"{', '.join(sorted(paths))}; delete {repo} to unpack it again")


def ensure_blobs(repo: Path, entries: list[TreeEntry]) -> None:
    """Store the blobs of these base @entries that are not stored yet.

    They are hashed from the build tree: a file whose base blob is missing
    was never touched by a series, so it is still pristine there. A file
    that does not hash back to the base means the cache was edited by hand.
    """
    missing_oids = unstored(repo, [e.oid for e in entries])
    missing = [e for e in entries if e.oid in missing_oids]
    gone = [e.path for e in missing if not (repo / e.path).is_symlink()
            and not (repo / e.path).is_file()]
    if gone:
        raise damaged(repo, gone)
    files = [e for e in missing if e.mode != "120000"]
    stored: list[tuple[TreeEntry, str]] = []
    if files:
        out = git(repo, "hash-object", "-w", "--stdin-paths",
                  stdin="".join(e.path + "\n" for e in files), error=SourceError)
        stored += zip(files, out.splitlines(), strict=True)
    for link in (e for e in missing if e.mode == "120000"):
        stored.append((link, git(repo, "hash-object", "-w", "--stdin",
                                 stdin=os.readlink(repo / link.path), error=SourceError)))
    changed = [entry.path for entry, got in stored if got != entry.oid]
    if changed:
        raise damaged(repo, changed)


def ensure_restorable(repo: Path, edited: list[str]) -> None:
    """git checkout puts back files edited in the build tree from their
    blobs in the index: those must be stored."""
    if not edited:
        return
    staged = git(repo, "ls-files", "-s", "-z", "--", *edited, error=SourceError).split("\0")
    # -s: "mode oid stage\tpath" per entry.
    oids = {meta.split()[1]: path for meta, path in (e.split("\t", 1) for e in staged if e)}
    lost = [oids[oid] for oid in unstored(repo, list(oids))]
    if lost:
        raise damaged(repo, lost)


def unstored(repo: Path, oids: list[str]) -> set[str]:
    """Those of @oids that the repository does not store."""
    if not oids:
        return set()
    status = git(repo, "cat-file", "--batch-check=%(objectname)",
                 stdin="".join(oid + "\n" for oid in oids), error=SourceError)
    return {line.split()[0] for line in status.splitlines() if line.endswith(" missing")}
