"""Patch series: patches/<series>/<rev>/ or an mbox, loaded as text.

A series is what the suite applies (vm/kernel/apply.py does that): its patches in
order, each with a label for messages, and its key, the digest of their
texts, under which everything made from it is cached.
"""

import hashlib
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from vm.errors import SeriesError
from vm.kernel.git import git
from vm.paths import digest

SERIES_YAML = "series.yaml"
# description: for whoever reads the file; required, so that every revision has one.
YAML_KEYS = {"name": str, "revision": str, "base": list, "description": str}


@dataclass(frozen=True)
class Patch:
    label: str  # how to name it in messages: the file, or the mbox and mail number
    text: str


@dataclass(frozen=True)
class Series:
    name: str
    revision: str
    bases: tuple[str, ...]  # kernel versions it is for ("6.12"); empty: any
    patches: tuple[Patch, ...] = field(default=())

    @property
    def key(self) -> str:
        return digest(*(p.text for p in self.patches)) if self.patches else "none"

    @property
    def patchset_hash(self) -> str:
        """KCIDB's: sha256 over the newline-terminated sha256 of each patch,
        in order; empty without patches."""
        if not self.patches:
            return ""
        each = "".join(hashlib.sha256(p.text.encode()).hexdigest() + "\n" for p in self.patches)
        return hashlib.sha256(each.encode()).hexdigest()

    @property
    def title(self) -> str:
        return "none" if not self.patches else f"{self.name} {self.revision}"


NO_SERIES = Series(name="none", revision="-", bases=())


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
        meta = {"name": directory.parent.name, "revision": directory.name, "base": []}
    patches = tuple(
        Patch(label=p.name, text=p.read_text(errors="replace"))
        for p in sorted(directory.glob("*.patch"))
    )
    patches = tuple(p for p in patches if has_diff(p.text))
    if not patches:
        raise SeriesError(f"{directory}: no *.patch file with a diff in it")
    bases = meta["base"]
    assert isinstance(bases, list)
    return Series(name=str(meta["name"]), revision=str(meta["revision"]),
                  bases=tuple(str(b) for b in bases), patches=patches)


def load_mbox(mbox: Path) -> Series:
    with tempfile.TemporaryDirectory() as tmp:
        git(None, "mailsplit", f"-o{tmp}", str(mbox), error=SeriesError)
        mails = [Path(tmp, m).read_text(errors="replace") for m in sorted(Path(tmp).iterdir())]
    patches = tuple(
        Patch(label=f"{mbox.name} mail {i}", text=t)
        for i, t in enumerate(mails, 1) if has_diff(t)
    )
    if not patches:
        raise SeriesError(f"{mbox}: no mail with a diff in it")
    return Series(name=mbox.stem, revision="mbox", bases=(), patches=patches)


def with_patch(base: Series, patch_file: Path) -> Series:
    """The series plus one patch on top (a revision's one-line edit, a mutant)."""
    extra = Patch(label=patch_file.name, text=patch_file.read_text())
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
