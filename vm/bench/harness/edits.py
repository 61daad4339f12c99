"""Small edits of a series that the benchmarks rebuild after."""

import re
import shutil
from pathlib import Path


def edit_one_c_hunk(src_dir: Path, dst_dir: Path) -> str:
    """Copy the series and change one added line of C in one patch."""
    shutil.copytree(src_dir, dst_dir)
    for patch in sorted(dst_dir.glob("*.patch")):
        text = patch.read_text()
        # An added comment line in a .c file: changing it keeps the patch valid.
        m = re.search(r"^\+\+\+ b/(\S+\.c)\n(?:(?!^diff ).*\n)*?^\+(\s*\*\s+\S.*)$", text, re.M)
        if m:
            line = m.group(2)
            patch.write_text(text.replace("+" + line, "+" + line + " (bench)", 1))
            return f"{patch.name}: {m.group(1)}"
    raise SystemExit(f"no added C comment line to edit in {src_dir}")
