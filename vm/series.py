"""Patch series: loading patches/<series>/<rev>/, and applying with git am.

A series is applied in a scratch worktree, so a patch that does not apply
leaves nothing behind. git am runs on a narrow copy of the base that holds
only the files the series touches: setting it up costs a second, not a
checkout of the whole kernel, and only those files' blobs need storing.
What git am changed is then grafted onto the full base, and the build tree
is moved there with git checkout, which rewrites only the files that
differ, so an edit to one patch rebuilds only what that patch touches.
"""

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from vm.errors import SeriesError
from vm.paths import digest
from vm.proc import git, run
from vm.progress import Progress
from vm.source import FIXED_DATES, KernelSource, ensure_blobs, ensure_restorable, tree_entries

SERIES_YAML = "series.yaml"
YAML_KEYS = {"name": str, "revision": str, "base": list, "description": str}


@dataclass(frozen=True)
class Patch:
    path: Path  # the file, or the mbox it came from
    label: str  # how to name it in messages
    text: str


@dataclass(frozen=True)
class Series:
    name: str
    revision: str
    bases: tuple[str, ...]
    description: str
    patches: tuple[Patch, ...] = field(default=())

    @property
    def key(self) -> str:
        return digest(*(p.text for p in self.patches)) if self.patches else "none"

    @property
    def title(self) -> str:
        return "none" if not self.patches else f"{self.name} {self.revision}"


NO_SERIES = Series(name="none", revision="-", bases=(), description="pristine kernel")


def has_diff(text: str) -> bool:
    """A cover letter or an empty mail carries no diff and is not applied."""
    return re.search(r"^(diff --git |--- \S)", text, re.M) is not None


def parse_series_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise SeriesError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise SeriesError(f"{path}: must be a mapping with keys {', '.join(YAML_KEYS)}")
    for key, kind in YAML_KEYS.items():
        if not isinstance(data.get(key), kind):
            raise SeriesError(f"{path}: '{key}' missing or not a {kind.__name__}")
    unknown = set(data) - set(YAML_KEYS)
    if unknown:
        raise SeriesError(f"{path}: unknown keys: {', '.join(sorted(unknown))}")
    return data


def load_dir(directory: Path) -> Series:
    meta_path = directory / SERIES_YAML
    if meta_path.is_file():
        meta = parse_series_yaml(meta_path)
    else:
        meta = {"name": directory.parent.name, "revision": directory.name,
                "base": [], "description": "(no series.yaml)"}
    patches = tuple(
        Patch(path=p, label=p.name, text=p.read_text(errors="replace"))
        for p in sorted(directory.glob("*.patch"))
    )
    patches = tuple(p for p in patches if has_diff(p.text))
    if not patches:
        raise SeriesError(f"{directory}: no *.patch file with a diff in it")
    bases = meta["base"]
    assert isinstance(bases, list)
    return Series(name=str(meta["name"]), revision=str(meta["revision"]),
                  bases=tuple(str(b) for b in bases),
                  description=str(meta["description"]), patches=patches)


def load_mbox(mbox: Path) -> Series:
    with tempfile.TemporaryDirectory() as tmp:
        run(["git", "mailsplit", f"-o{tmp}", str(mbox)], error=SeriesError)
        mails = [Path(tmp, m).read_text(errors="replace") for m in sorted(Path(tmp).iterdir())]
    patches = tuple(
        Patch(path=mbox, label=f"{mbox.name} mail {i}", text=t)
        for i, t in enumerate(mails, 1) if has_diff(t)
    )
    if not patches:
        raise SeriesError(f"{mbox}: no mail with a diff in it")
    return Series(name=mbox.stem, revision="mbox", bases=(), description=str(mbox),
                  patches=patches)


def with_patch(base: Series, patch_file: Path) -> Series:
    """The series plus one patch on top (a revision's one-line edit, a mutant)."""
    extra = Patch(path=patch_file, label=patch_file.name, text=patch_file.read_text())
    return replace(base, revision=f"{base.revision}+{patch_file.stem}",
                   patches=(*base.patches, extra))


def load(spec: str) -> Series:
    """--series DIR|MBOX|none."""
    if spec == "none":
        return NO_SERIES
    path = Path(spec)
    if path.is_dir():
        return load_dir(path)
    if path.is_file():
        return load_mbox(path)
    raise SeriesError(f"--series {spec}: no such directory or mbox file")


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


def _scratch_index(repo: Path, name: str) -> dict[str, str]:
    """An index file of our own, empty; a lock left by a killed run is
    stale, since the cache lock is held."""
    index = repo / ".git" / name
    for stale in (index, index.with_name(name + ".lock")):
        stale.unlink(missing_ok=True)
    return {"GIT_INDEX_FILE": str(index)}


def _narrow_base(source: KernelSource, paths: tuple[str, ...] | None) -> str:
    """A commit holding the base's version of @paths only (the base if None):
    git am needs every blob of the tree it applies to, and storing all
    86,000 of a kernel is what a cold run cannot afford."""
    repo = source.repo
    entries = tree_entries(repo, source.base, paths)
    ensure_blobs(repo, entries)
    if paths is None:
        return source.base
    env = _scratch_index(repo, "suite-narrow-index")
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
    env = _scratch_index(repo, "suite-graft-index")
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
    wt = source.repo.parent / (source.repo.name + ".apply")
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
        proc = run(["git", "-c", "safe.directory=*", "-C", str(wt), "am", "--keep-cr", *files],
                   env=_am_env(), check=False, error=SeriesError)
    head = git(wt, "rev-parse", "HEAD", error=SeriesError) if proc.returncode == 0 else None
    _reset(wt, narrow)
    if head is None:
        return None, proc.stdout + proc.stderr
    return _graft(source, series, narrow, head), ""


def _am_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_COMMITTER_NAME="spawn-template-suite", GIT_COMMITTER_EMAIL="suite@localhost",
               GIT_COMMITTER_DATE=FIXED_DATES["GIT_COMMITTER_DATE"], LC_ALL="C")
    return env


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
