"""Patch series: loading patches/<series>/<rev>/, and applying with git am.

A series is applied in a scratch worktree, so a patch that does not apply
leaves nothing behind. That worktree is sparse: it holds only the files the
series touches, so creating and resetting it costs seconds, not a checkout
of the whole kernel. The applied result is a commit; the build tree is
then moved to it with git checkout, which rewrites only the files that
differ, so an edit to one patch rebuilds only what that patch touches.
"""

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vm.errors import SeriesError
from vm.paths import digest
from vm.proc import git, run
from vm.progress import Progress
from vm.source import KernelSource

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


MAX_SPARSE_PATHS = 1000
_GIT_DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)
_PLAIN_DIFF_FILE = re.compile(r"^(?:---|\+\+\+) (\S[^\t\n]*)", re.M)


def touched_paths(series: Series) -> tuple[str, ...] | None:
    """Every path the series' diffs name, old and new; None when one cannot
    be read safely (a quoted name), so that the whole tree is checked out."""
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
    # Matching is files x patterns: past a few thousand, a full checkout is cheaper.
    return tuple(sorted(paths)) if len(paths) <= MAX_SPARSE_PATHS else None


def _apply_worktree(source: KernelSource, paths: tuple[str, ...] | None) -> Path:
    """A scratch worktree for git am, holding only @paths (all if None)."""
    wt = source.repo.parent / (source.repo.name + ".apply")
    if not (wt / ".git").exists():
        shutil.rmtree(wt, ignore_errors=True)
        git(source.repo, "worktree", "prune", error=SeriesError)
        git(source.repo, "worktree", "add", "-q", "--detach", "--no-checkout", str(wt),
            source.base, error=SeriesError)
    if paths is None:
        git(wt, "sparse-checkout", "disable", error=SeriesError)
    else:
        # Anchored patterns: exactly these files, wherever a name repeats.
        git(wt, "sparse-checkout", "set", "--no-cone", *("/" + p for p in paths),
            error=SeriesError)
    return wt


def _reset(wt: Path, base: str) -> None:
    git(wt, "am", "--abort", check=False)
    git(wt, "checkout", "-q", "-f", "--detach", base, error=SeriesError)
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
    wt = _apply_worktree(source, touched_paths(series))
    _reset(wt, source.base)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, patch in enumerate(series.patches):
            f = Path(tmp, f"{i:04d}.patch")
            f.write_text(patch.text)
            files.append(str(f))
        proc = run(["git", "-c", "safe.directory=*", "-C", str(wt), "am",
                    "--keep-cr", *files],
                   env=_am_env(), check=False, error=SeriesError)
    if proc.returncode != 0:
        message = describe_failure(series, proc.stdout + proc.stderr)
        _reset(wt, source.base)
        raise SeriesError(f"{series.title}: {message}\n(nothing was kept; the next run "
                          "starts again from the pristine base)")
    commit = git(wt, "rev-parse", "HEAD", error=SeriesError)
    git(source.repo, "update-ref", ref, commit, error=SeriesError)
    _reset(wt, source.base)
    return AppliedTree(source, series, commit)


def _am_env() -> dict[str, str]:
    # A fixed committer date: the same series on the same base is the same commit.
    env = dict(os.environ)
    env.update(GIT_COMMITTER_NAME="spawn-template-suite", GIT_COMMITTER_EMAIL="suite@localhost",
               GIT_COMMITTER_DATE="2000-01-01T00:00:00Z", LC_ALL="C")
    return env


def checkout(tree: AppliedTree) -> None:
    """Move the build tree to the applied commit, touching only what differs."""
    repo = tree.source.repo
    if (git(repo, "rev-parse", "HEAD", check=False) == tree.commit
            and not git(repo, "status", "--porcelain", "--untracked-files=no", check=False)):
        return
    git(repo, "checkout", "-q", "-f", "--detach", tree.commit, error=SeriesError)
