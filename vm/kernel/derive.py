"""Derive a revision of a series by an exact-text edit of one of its patches.

    python3 -m vm.derive SRC_DIR DEST_DIR --patch K --replace OLD NEW [--revision NAME]

How the gate's demonstration makes a broken revision (docs/gate.md): the
edit must match exactly once in patch K and keep every hunk's line count,
so the later patches still apply on top.
"""

import argparse
import shutil
import sys
from pathlib import Path

import yaml

from vm.errors import SeriesError
from vm.kernel.series import SERIES_YAML, has_diff


def derive(src: Path, dest: Path, patch: int, old: str, new: str, revision: str) -> Path:
    patches = [p for p in sorted(src.glob("*.patch")) if has_diff(p.read_text())]
    if not 1 <= patch <= len(patches):
        raise SeriesError(f"{src}: no patch {patch} (it has {len(patches)})")
    if old.count("\n") != new.count("\n"):
        raise SeriesError("--replace: OLD and NEW must have as many lines (hunk sizes)")
    target = patches[patch - 1]
    text = target.read_text()
    if text.count(old) != 1:
        raise SeriesError(f"{target.name}: the text to replace occurs {text.count(old)} "
                          "times, not once")
    if dest.exists():
        raise SeriesError(f"{dest} exists: will not overwrite it")
    shutil.copytree(src, dest)
    (dest / target.name).write_text(text.replace(old, new))
    meta_path = dest / SERIES_YAML
    meta = yaml.safe_load(meta_path.read_text()) if meta_path.is_file() else {
        "name": src.parent.name, "base": [], "description": ""}
    meta["revision"] = revision
    meta["description"] = f"{meta.get('description', '')} [derived: patch {patch} edited]"
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False))
    return dest / target.name


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m vm.derive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--patch", type=int, required=True)
    parser.add_argument("--replace", nargs=2, required=True, metavar=("OLD", "NEW"))
    parser.add_argument("--revision", default="derived")
    args = parser.parse_args()
    try:
        edited = derive(args.src, args.dest, args.patch, args.replace[0], args.replace[1],
                        args.revision)
    except SeriesError as e:
        sys.exit(f"vm.derive: error: {e}")
    print(edited)
