"""What a maintainer's CI checks on each patch, with the kernel's own tools.

checkpatch.pl on the patch, kernel-doc on the files it touches, W=1 on
the objects it touches, and a standalone C and C++ compile of the UAPI
headers it touches. Every finding is normalized (no line numbers, no
absolute paths) so that the same finding before and after a patch, or in
another revision of the same patch, compares equal: a patch is blamed only
for what it adds (new_findings).
"""

import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vm.errors import HarnessError

_DIFF_FILE = re.compile(r"^diff --git a/\S+ b/(\S+)$", re.M)
_CHECKPATCH = re.compile(r"^\S*?:\d+: (ERROR|WARNING|CHECK):(\S+): (.*)$")
_LOCATION = re.compile(r"^(?P<path>[^:\s]+):\d+(?::\d+)?: ")


@dataclass(frozen=True)
class Checkpatch:
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


def touched_files(patch_text: str) -> list[str]:
    """The files a patch leaves behind (new names of renames), in order."""
    return list(dict.fromkeys(_DIFF_FILE.findall(patch_text)))


def subject(patch_text: str) -> str:
    """The subject without "[PATCH vN k/n]": how two revisions' patches match."""
    m = re.search(r"^Subject: (.*(?:\n[ \t].*)*)", patch_text, re.M)
    if not m:
        return ""
    line = " ".join(part.strip() for part in m.group(1).splitlines())
    return re.sub(r"^(\[[^]]*\]\s*)+", "", line)


def run_checkpatch(tree: Path, patch_text: str) -> Checkpatch:
    """checkpatch.pl --strict from @tree on one patch."""
    script = tree / "scripts" / "checkpatch.pl"
    if not script.is_file():
        raise HarnessError(f"{script} missing: not a kernel tree?")
    proc = subprocess.run(
        ["perl", str(script), "--strict", "--terse", "--show-types", "--no-summary",
         "--no-color", "-"], cwd=tree, input=patch_text, capture_output=True, text=True,
        errors="replace")
    found: dict[str, list[str]] = {"ERROR": [], "WARNING": [], "CHECK": []}
    for line in proc.stdout.splitlines():
        m = _CHECKPATCH.match(line)
        if m:
            found[m.group(1)].append(f"{m.group(2)}: {m.group(3)}")
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not found["ERROR"]
                                         and not found["WARNING"] and not found["CHECK"]):
        raise HarnessError(f"checkpatch.pl failed (status {proc.returncode}):\n"
                           f"{(proc.stdout + proc.stderr)[-2000:]}")
    return Checkpatch(tuple(found["ERROR"]), tuple(found["WARNING"]), tuple(found["CHECK"]))


def normalize(line: str, roots: Iterable[Path]) -> str:
    """A compiler or kernel-doc line without its tree and line numbers."""
    for root in roots:
        line = line.replace(f"{root}/", "")
    return _LOCATION.sub(lambda m: f"{m.group('path')}: ", line).strip()


def kernel_doc(tree: Path, files: Iterable[Path], label_root: Path) -> list[str]:
    """scripts/kernel-doc -none warnings on @files, normalized."""
    files = [f for f in files if f.is_file()]
    if not files:
        return []
    proc = subprocess.run(["perl", str(tree / "scripts" / "kernel-doc"), "-none",
                           *map(str, files)], capture_output=True, text=True, errors="replace")
    lines = (proc.stdout + proc.stderr).splitlines()
    return sorted(normalize(line, (label_root,)) for line in lines
                  if "warning:" in line or "error:" in line)


def warning_lines(output: str, path: str | None = None) -> list[str]:
    """The compiler's "warning:" lines in a make run's @output, as they are
    (line numbers kept), in order; with @path, only those on that file."""
    return [line.strip() for line in output.splitlines()
            if ": warning: " in line and (path is None or f"{path}:" in line)]


def compiler_warnings(output: str, roots: Iterable[Path]) -> list[str]:
    """The "warning:" lines of a make run, normalized and sorted."""
    roots = tuple(roots)
    return sorted(normalize(line, roots) for line in warning_lines(output))


def new_findings(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """What @after has that @before has not, counting repeats."""
    return sorted((Counter(after) - Counter(before)).elements())


def uapi_headers(files: Iterable[str]) -> list[str]:
    """The UAPI headers among @files, as <linux/...> include names."""
    return [f.removeprefix("include/uapi/") for f in files
            if f.startswith("include/uapi/") and f.endswith(".h")]


def compile_uapi(installed: Path, header: str) -> list[str]:
    """Compile #include <@header> alone against the installed headers
    (make headers_install), as C90 (the kernel's header test) and C++."""
    errors = []
    for lang, flags in (("c", ["-std=c90", "-Wall", "-Werror=implicit-function-declaration"]),
                        ("c++", ["-std=c++11", "-Wall"])):
        compiler = "gcc" if lang == "c" else "g++"
        proc = subprocess.run(
            [compiler, "-x", lang, *flags, "-fsyntax-only", "-isystem", str(installed), "-"],
            input=f"#include <{header}>\n", capture_output=True, text=True, errors="replace")
        if proc.returncode != 0 or "warning:" in proc.stderr:
            errors += [f"{lang}: {normalize(line, (installed,))}"
                       for line in proc.stderr.splitlines() if "error" in line or "warning" in line]
            if proc.returncode != 0 and not errors:
                errors.append(f"{lang}: {compiler} failed: {proc.stderr.strip()[:300]}")
    return errors
