"""Fixtures for host-only tests: tiny kernel-like trees, no VM, no build."""

import subprocess
import tarfile
from pathlib import Path

import pytest

from vm.cache import Cache

DATA = Path(__file__).parent / "data"

MAKEFILE = "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True, capture_output=True, text=True).stdout.strip()


def make_tarball(tree: Path, tmp_path: Path) -> Path:
    """A linux-source-6.12 tarball of @tree, as Debian ships it (no .git)."""
    tarball = tmp_path / "linux-source-6.12.tar.xz"
    with tarfile.open(tarball, "w:xz") as tar:
        tar.add(tree, arcname="linux-source-6.12",
                filter=lambda info: None if "/.git" in info.name else info)
    return tarball


@pytest.fixture
def mini_tree(tmp_path: Path) -> Path:
    """A directory that looks enough like a kernel tree for vm/source."""
    tree = tmp_path / "linux"
    (tree / "fs").mkdir(parents=True)
    (tree / "Makefile").write_text(MAKEFILE)
    (tree / "Kconfig").write_text("config FOO\n\tbool \"foo\"\n")
    (tree / "fs" / "exec.c").write_text("".join(f"line {i}\n" for i in range(1, 21)))
    return tree


@pytest.fixture
def mini_git_tree(mini_tree: Path) -> Path:
    git(mini_tree, "init", "-q")
    git(mini_tree, "add", "-A")
    git(mini_tree, "commit", "-qm", "base")
    return mini_tree


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")
