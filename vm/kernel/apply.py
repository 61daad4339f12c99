"""Applying a series with git am, and moving the build tree to the result.

A series is applied in a scratch worktree, so a patch that does not apply
leaves nothing behind. git am runs on a narrow copy of the base that holds
only the files the series touches: setting it up costs a second, not a
checkout of the whole kernel, and only those files' blobs need storing.
What git am changed is then grafted onto the full base, and the build tree
is moved there with git checkout, which rewrites only the files that
differ, so an edit to one patch rebuilds only what that patch touches.
"""

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vm.cache import apply_worktree
from vm.errors import SeriesError
from vm.kernel.git import (
    FIXED_DATES,
    ensure_blobs,
    ensure_restorable,
    git,
    run_git,
    scratch_index,
    tree_entries,
)
from vm.kernel.series import Series
from vm.kernel.source import KernelSource
from vm.paths import digest
from vm.progress import Progress


@dataclass(frozen=True)
class AppliedTree:
    source: KernelSource
    series: Series
    commit: str

    @property
    def path(self) -> Path:
        return self.source.repo


def _ref(source: KernelSource, series: Series) -> str:
    return f"refs/suite/applied/{digest(source.base, series.key)}"


_GIT_DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)
_PLAIN_DIFF_FILE = re.compile(r"^(?:---|\+\+\+) (\S[^\t\n]*)", re.M)
_NOT_IN_INDEX = re.compile(r"^error: (.+): does not exist in index$", re.M)


def touched_paths(series: Series) -> tuple[str, ...] | None:
    """Every path the series' diffs name, old and new; None when one cannot
    be read safely (a quoted name), so that the whole base is used."""
    paths: set[str] = set()
    for patch in series.patches:
        if '"' in "".join(re.findall(r"^diff --git .*$", patch.text, re.M)):
            return None
        found = _GIT_DIFF_HEADER.findall(patch.text)
        if found:
            paths.update(p for pair in found for p in pair)
            continue
        for name in _PLAIN_DIFF_FILE.findall(patch.text):
            name = name.strip()
            if name.startswith('"'):
                return None
            if name != "/dev/null":
                paths.add(name.split("/", 1)[1] if "/" in name else name)
    return tuple(sorted(paths))


def _narrow_base(source: KernelSource, paths: tuple[str, ...] | None) -> str:
    """A commit holding the base's version of @paths only (the base if None):
    git am needs every blob of the tree it applies to, and storing all
    86,000 of a kernel is what a cold run cannot afford."""
    repo = source.repo
    entries = tree_entries(repo, source.base, paths)
    ensure_blobs(repo, entries)
    if paths is None:
        return source.base
    env = scratch_index(repo, "suite-narrow-index")
    git(repo, "update-index", "-z", "--index-info", extra_env=env, error=SeriesError,
        stdin="".join(f"{e.mode} {e.oid}\t{e.path}\0" for e in entries))
    tree = git(repo, "write-tree", extra_env=env, error=SeriesError)
    return git(repo, "commit-tree", tree, "-m", "base: the files a series touches",
               extra_env=FIXED_DATES, error=SeriesError)


def _graft(source: KernelSource, series: Series, narrow: str, head: str) -> str:
    """The base with what git am changed between @narrow and @head."""
    repo = source.repo
    if narrow == source.base:
        return head
    raw = [f for f in git(repo, "diff-tree", "-r", "-z", "--no-renames", narrow, head,
                          error=SeriesError).split("\0") if f]
    changed, deleted = [], []
    # -z raw output: ":old_mode new_mode old_oid new_oid status", then the path.
    for meta, path in zip(raw[0::2], raw[1::2], strict=True):
        _, new_mode, _, new_oid, status = meta.split()
        if status == "D":
            deleted.append(path + "\0")
        else:
            changed.append(f"{new_mode} {new_oid}\t{path}\0")
    env = scratch_index(repo, "suite-graft-index")
    git(repo, "read-tree", source.base, extra_env=env, error=SeriesError)
    git(repo, "update-index", "-z", "--index-info", stdin="".join(changed), extra_env=env,
        error=SeriesError)
    git(repo, "update-index", "-z", "--force-remove", "--stdin", stdin="".join(deleted),
        extra_env=env, error=SeriesError)
    tree = git(repo, "write-tree", "--missing-ok", extra_env=env, error=SeriesError)
    subjects = git(repo, "log", "--reverse", "--format=* %s", f"{narrow}..{head}",
                   error=SeriesError)
    message = f"{series.title}, applied with git am\n\n{subjects}\n"
    return git(repo, "commit-tree", tree, "-p", source.base, "-m", message,
               extra_env=FIXED_DATES, error=SeriesError)


def _apply_worktree(source: KernelSource) -> Path:
    """The scratch worktree for git am."""
    wt = apply_worktree(source.repo)
    # Its .git file points into the repository: after the repository was
    # deleted and unpacked again, that link is dead and needs a new worktree.
    if not (wt / ".git").exists() or not git(wt, "rev-parse", "--git-dir", check=False):
        shutil.rmtree(wt, ignore_errors=True)
        git(source.repo, "worktree", "prune", error=SeriesError)
        git(source.repo, "worktree", "add", "-q", "--detach", "--no-checkout", str(wt),
            source.base, error=SeriesError)
    return wt


def _reset(wt: Path, start: str) -> None:
    git(wt, "am", "--abort", check=False)
    git(wt, "checkout", "-q", "-f", "--detach", start, error=SeriesError)
    git(wt, "clean", "-q", "-f", "-d", "-x", error=SeriesError)


def describe_failure(series: Series, output: str) -> str:
    """Name the patch file and the first file or hunk that failed."""
    applied = len(re.findall(r"^Applying: ", output, re.M))
    index = max(applied - 1, 0)
    culprit = series.patches[index].label if index < len(series.patches) else "?"
    details = [line for line in output.splitlines()
               if line.startswith(("error:", "fatal:")) or "does not apply" in line]
    last = output.strip().splitlines()[-1:]
    detail = "\n  ".join(details[:6] or last) or "(git am printed nothing)"
    return f"patch {culprit} does not apply:\n  {detail}"


def apply(source: KernelSource, series: Series, progress: Progress) -> AppliedTree:
    """Apply the series onto the pristine base, once per (base, series)."""
    if not series.patches:
        return AppliedTree(source, series, source.base)
    ref = _ref(source, series)
    known = git(source.repo, "rev-parse", "-q", "--verify", ref, check=False)
    if known:
        return AppliedTree(source, series, known)
    if series.bases and source.major_minor not in series.bases:
        progress(f"series: warning: {series.title} is for {', '.join(series.bases)}, "
                 f"the tree is {source.version}")
    progress(f"series: applying {len(series.patches)} patches of {series.title} with git am")
    paths = touched_paths(series)
    commit, output = _git_am(source, series, paths)
    while commit is None and paths is not None:
        # A path the diffs did not name plainly: add it if the base has it.
        missed = [e.path for e in tree_entries(source.repo, source.base,
                                               _NOT_IN_INDEX.findall(output))]
        if not missed or set(missed) <= set(paths):
            break
        paths = tuple(sorted({*paths, *missed}))
        commit, output = _git_am(source, series, paths)
    if commit is None:
        raise SeriesError(f"{series.title}: {describe_failure(series, output)}\n(nothing was "
                          "kept; the next run starts again from the pristine base)")
    git(source.repo, "update-ref", ref, commit, error=SeriesError)
    return AppliedTree(source, series, commit)


def _git_am(source: KernelSource, series: Series,
            paths: tuple[str, ...] | None) -> tuple[str | None, str]:
    """(applied commit, "") or (None, what git am said); the worktree is reset."""
    narrow = _narrow_base(source, paths)
    wt = _apply_worktree(source)
    _reset(wt, narrow)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, patch in enumerate(series.patches):
            f = Path(tmp, f"{i:04d}.patch")
            f.write_text(patch.text)
            files.append(str(f))
        # The author and its date come from each mail; the committer's date is fixed.
        proc = run_git(wt, "am", "--keep-cr", *files, check=False, error=SeriesError,
                       extra_env={"GIT_COMMITTER_DATE": FIXED_DATES["GIT_COMMITTER_DATE"]})
    head = git(wt, "rev-parse", "HEAD", error=SeriesError) if proc.returncode == 0 else None
    _reset(wt, narrow)
    if head is None:
        return None, proc.stdout + proc.stderr
    return _graft(source, series, narrow, head), ""


def checkout(tree: AppliedTree) -> None:
    """Move the build tree to the applied commit, touching only what differs."""
    repo = tree.source.repo
    if (git(repo, "rev-parse", "HEAD", check=False) == tree.commit
            and not git(repo, "status", "--porcelain", "--untracked-files=no", check=False)):
        return
    # A file whose timestamp changed but not its content must not count as
    # changed: checkout would restore it from a blob the base may not store.
    git(repo, "update-index", "-q", "--refresh", check=False)
    edited = git(repo, "diff-files", "--name-only", "-z", error=SeriesError).split("\0")
    ensure_restorable(repo, [p for p in edited if p])
    git(repo, "checkout", "-q", "-f", "--detach", tree.commit, error=SeriesError)
