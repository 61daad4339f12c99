"""Selftest targets built and installed the kselftest way, out of the source tree.

    make -C <tree>/tools/testing/selftests TARGETS="..." O=<out> \\
         KHDR_INCLUDES="-isystem <headers>" INSTALL_PATH=<install> install

O= and INSTALL_PATH= are absolute folders of the cache: a relative O= is
made inside the source tree, which stays untouched. The install holds
run_kselftest.sh, kselftest-list.txt ("target:program" lines) and a folder
per target with its programs and what they need at run time (exec's
installs a denatured copy of execveat, a symlink, a script and a subdir).

The tests are the base kernel's, built against its headers: what the
series must leave as it was is what they check, and the same binaries run
on the base and on the revision. They are named by the git blobs of their
sources, so that they are known before anything is built.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from vm.cache import Cache
from vm.errors import BuildError
from vm.guest.checks import tree_digest
from vm.kernel.build import first_errors
from vm.kernel.git import git
from vm.paths import digest
from vm.proc import run
from vm.progress import Progress

SELFTESTS = "tools/testing/selftests"
LIST = "kselftest-list.txt"
# What every target's build reads besides the target's own folder.
SHARED = ("Makefile", "lib.mk", "kselftest.h", "kselftest_harness.h", "run_kselftest.sh",
          "kselftest")


@dataclass(frozen=True)
class Install:
    path: Path
    programs: dict[str, tuple[str, ...]]  # target -> its programs, as the list names them


def tests_key(repo: Path, commit: str, targets: tuple[str, ...]) -> str:
    """The sources of @targets at @commit, by their git blobs."""
    paths = [f"{SELFTESTS}/{t}" for t in (*targets, *SHARED)]
    listing = git(repo, "ls-tree", "-r", commit, "--", *paths)
    missing = [t for t in targets if f"\t{SELFTESTS}/{t}/" not in listing]
    if missing:
        raise BuildError(f"--kselftest: no {SELFTESTS}/{', '.join(missing)} at {commit[:12]}")
    return digest(" ".join(targets), listing)


def config_fragments(repo: Path, commit: str, targets: tuple[str, ...],
                     cache: Cache) -> tuple[Path, ...]:
    """The targets' own `config` fragments, written out of git into the cache."""
    found = []
    for target in targets:
        blob = git(repo, "rev-parse", "--verify", "-q", f"{commit}:{SELFTESTS}/{target}/config",
                   check=False)
        if not blob:
            continue
        path = cache.root / "kselftest" / "config" / f"{target}-{blob[:16]}.config"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            text = git(repo, "cat-file", "blob", blob)
            path.write_text(f"# {SELFTESTS}/{target}/config\n{text}\n")
        found.append(path)
    return tuple(found)


def read_list(install: Path) -> dict[str, tuple[str, ...]]:
    """kselftest-list.txt: one "target:program" line per program."""
    programs: dict[str, list[str]] = {}
    for line in (install / LIST).read_text().splitlines():
        target, sep, program = line.strip().partition(":")
        if sep:
            programs.setdefault(target, []).append(program)
    return {t: tuple(p) for t, p in programs.items()}


def install(tree: Path, key: str, targets: tuple[str, ...], headers: Path, cache: Cache,
            progress: Progress) -> Install:
    """@targets of @tree (whose tests_key() is @key) built against @headers, in the cache."""
    folder = cache.root / "kselftest" / digest(key, tree_digest(headers))
    dest = folder / "install"
    if (dest / LIST).is_file():
        return Install(dest, read_list(dest))
    progress(f"kselftest: building {' '.join(targets)} with the kselftest build system")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = folder / "build.log"
    proc = run(["make", "-C", str(tree / SELFTESTS), f"TARGETS={' '.join(targets)}",
                f"O={folder / 'out'}", f"KHDR_INCLUDES=-isystem {headers}",
                f"INSTALL_PATH={dest}", "install"], check=False)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (dest / LIST).is_file():
        shutil.rmtree(dest, ignore_errors=True)
        raise BuildError(f"kselftest {' '.join(targets)} did not build (log: {log}):\n  "
                         + first_errors(proc.stdout + proc.stderr))
    found = read_list(dest)
    empty = [t for t in targets if not found.get(t)]
    if empty:
        raise BuildError(f"kselftest: {', '.join(empty)} installed no program (log: {log})")
    return Install(dest, found)
