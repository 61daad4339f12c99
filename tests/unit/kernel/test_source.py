import hashlib
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.errors import SourceError
from vm.kernel import git as vmgit
from vm.kernel import source
from vm.progress import silent

from ..conftest import git, make_tarball


def tree_digest(tree: Path) -> str:
    """Content and mtimes of every file, .git included: any write shows."""
    h = hashlib.sha256()
    for p in sorted(tree.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(tree)).encode())
            h.update(p.read_bytes())
            h.update(str(p.stat().st_mtime_ns).encode())
    return h.hexdigest()


def test_kernel_version() -> None:
    text = "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION = -rc1\n"
    assert source.kernel_version(text) == "6.12.117-rc1"
    with pytest.raises(SourceError, match="not a kernel tree"):
        source.kernel_version("all:\n")


def test_tarball_unpacked_once(mini_tree: Path, cache: Cache, tmp_path: Path) -> None:
    tarball = make_tarball(mini_tree, tmp_path)
    src = source.from_tarball(tarball, cache, silent)
    assert src.version == "6.12.117"
    assert (src.repo / "fs" / "exec.c").is_file()
    assert git(src.repo, "rev-parse", "HEAD") == src.base
    # Second time: the stamp is enough, nothing is unpacked again.
    marker = src.repo / "fs" / "exec.c"
    before = marker.stat().st_mtime_ns
    again = source.from_tarball(tarball, cache, silent)
    assert again == src and marker.stat().st_mtime_ns == before


def test_missing_tarball_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"apt-get install linux-source-6\.12"):
        source.find_debian_tarball(tmp_path)


def test_clean_git_tree_is_never_written(mini_git_tree: Path, cache: Cache) -> None:
    before = tree_digest(mini_git_tree)
    src = source.from_tree(mini_git_tree, cache, silent)
    assert src.base == git(mini_git_tree, "rev-parse", "HEAD")
    assert (src.repo / "fs" / "exec.c").read_text().startswith("line 1")
    source.from_tree(mini_git_tree, cache, silent)
    assert tree_digest(mini_git_tree) == before


def test_dirty_git_tree_is_copied_with_its_changes(mini_git_tree: Path, cache: Cache) -> None:
    (mini_git_tree / "fs" / "exec.c").write_text("changed\n")
    (mini_git_tree / "new.c").write_text("new\n")
    before = tree_digest(mini_git_tree)
    src = source.from_tree(mini_git_tree, cache, silent)
    assert git(src.repo, "show", f"{src.base}:fs/exec.c") == "changed"
    assert git(src.repo, "show", f"{src.base}:new.c") == "new"
    assert tree_digest(mini_git_tree) == before
    # Unchanged on the next run: the same base commit.
    assert source.from_tree(mini_git_tree, cache, silent).base == src.base


def test_plain_tree_copy_and_in_tree_build_refused(mini_tree: Path, cache: Cache) -> None:
    src = source.from_tree(mini_tree, cache, silent)
    assert git(src.repo, "show", f"{src.base}:Makefile").startswith("VERSION = 6")
    (mini_tree / ".config").write_text("CONFIG_X=y\n")
    with pytest.raises(SourceError, match="in-tree build output"):
        source.from_tree(mini_tree, cache, silent)


def test_not_a_kernel_tree(tmp_path: Path, cache: Cache) -> None:
    with pytest.raises(SourceError, match="not a kernel tree"):
        source.from_tree(tmp_path, cache, silent)



def test_unpacked_symlinks_are_stored_as_links(mini_tree: Path, cache: Cache,
                                               tmp_path: Path) -> None:
    (mini_tree / "fs" / "link.c").symlink_to("exec.c")
    tarball = make_tarball(mini_tree, tmp_path)
    src = source.from_tarball(tarball, cache, silent)
    vmgit.ensure_blobs(src.repo, vmgit.tree_entries(src.repo, src.base))
    assert git(src.repo, "cat-file", "-p", f"{src.base}:fs/link.c") == "exec.c"
    git(src.repo, "fsck", "--no-dangling")  # every object of the base is there now
