import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vm.cache import Cache, apply_worktree
from vm.errors import SeriesError, SourceError
from vm.kernel import apply, series, source
from vm.progress import silent

from ..conftest import git, make_tarball


def make_patches(tree: Path, out: Path, edits: list[tuple[str, str]]) -> list[Path]:
    """format-patch files for successive edits (path, new content) of tree."""
    work = out.parent / "work"
    subprocess.run(["git", "clone", "-q", str(tree), str(work)], check=True)
    for i, (path, content) in enumerate(edits, 1):
        (work / path).write_text(content)
        git(work, "commit", "-qam", f"patch {i}: edit {path}")
    subprocess.run(["git", "-C", str(work), "format-patch", "-q", "--cover-letter",
                    "-o", str(out), f"HEAD~{len(edits)}"], check=True)
    return sorted(out.glob("*.patch"))


def series_dir(tmp_path: Path, tree: Path, edits: list[tuple[str, str]]) -> Path:
    d = tmp_path / "patches" / "demo" / "v1"
    make_patches(tree, d, edits)
    (d / "series.yaml").write_text(
        "name: demo\nrevision: v1\nbase: ['6.12']\ndescription: a demo series\n")
    return d


def exec_c(replace: dict[int, str]) -> str:
    return "".join(replace.get(i, f"line {i}") + "\n" for i in range(1, 21))


def test_load_dir_reads_yaml_and_skips_cover_letter(tmp_path: Path, mini_git_tree: Path) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    s = series.load(str(d))
    assert (s.name, s.revision, s.bases) == ("demo", "v1", ("6.12",))
    assert [p.label for p in s.patches] == ["0001-patch-1-edit-fs-exec.c.patch"]
    assert s.key != series.NO_SERIES.key
    assert series.load("none") is series.NO_SERIES


@pytest.mark.parametrize("yaml_text, error", [
    ("name: x\n", "'revision' missing"),
    ("- a\n", "must be a mapping"),
    ("name: x\nrevision: v1\nbase: 6.12\ndescription: d\n", "'base' missing or not a list"),
    ("name: x\nrevision: v1\nbase: []\ndescription: d\nextra: 1\n", "unknown keys: extra"),
])
def test_bad_series_yaml(tmp_path: Path, yaml_text: str, error: str) -> None:
    (tmp_path / "series.yaml").write_text(yaml_text)
    with pytest.raises(SeriesError, match=error):
        series.parse_series_yaml(tmp_path / "series.yaml")


def test_missing_series(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="no such directory or mbox"):
        series.load(str(tmp_path / "absent"))


def test_apply_and_reuse(tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"})),
                                             ("Kconfig", "config BAR\n\tbool \"bar\"\n")])
    src = source.from_tree(mini_git_tree, cache, silent)
    applied = apply.apply(src, series.load(str(d)), silent)
    assert applied.commit != src.base
    apply.checkout(applied)
    assert (src.repo / "fs" / "exec.c").read_text().splitlines()[2] == "three"
    # Applied once per (base, series): the second time is a ref lookup.
    assert apply.apply(src, series.load(str(d)), silent).commit == applied.commit


def test_checkout_touches_only_changed_files(tmp_path: Path, mini_git_tree: Path,
                                             cache: Cache) -> None:
    src = source.from_tree(mini_git_tree, cache, silent)
    one = series_dir(tmp_path / "a", mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    apply.checkout(apply.apply(src, series.load(str(one)), silent))
    kconfig_mtime = (src.repo / "Kconfig").stat().st_mtime_ns
    two = series_dir(tmp_path / "b", mini_git_tree, [("fs/exec.c", exec_c({4: "four"}))])
    apply.checkout(apply.apply(src, series.load(str(two)), silent))
    assert (src.repo / "Kconfig").stat().st_mtime_ns == kconfig_mtime
    assert "four" in (src.repo / "fs" / "exec.c").read_text()


def test_broken_patch_names_file_and_hunk_and_leaves_nothing(
        tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"})),
                                             ("fs/exec.c", exec_c({3: "three", 15: "x"}))])
    second = sorted(d.glob("0002-*.patch"))[0]
    second.write_text(second.read_text().replace(" line 14\n", " line fourteen\n"))
    src = source.from_tree(mini_git_tree, cache, silent)
    with pytest.raises(SeriesError) as e:
        apply.apply(src, series.load(str(d)), silent)
    msg = str(e.value)
    assert second.name in msg
    assert "fs/exec.c" in msg
    apply_wt = apply_worktree(src.repo)
    # Back at the base's own version of what the series touches, and clean.
    assert git(apply_wt, "ls-tree", "-r", "--name-only", "HEAD") == "fs/exec.c"
    assert (git(apply_wt, "rev-parse", "HEAD:fs/exec.c")
            == git(src.repo, "rev-parse", f"{src.base}:fs/exec.c"))
    assert git(apply_wt, "status", "--porcelain") == ""
    assert not (apply_wt / ".git").is_file() or not list(
        Path(git(apply_wt, "rev-parse", "--git-dir")).glob("rebase-apply"))
    # The cache stays usable: a good series applies afterwards.
    good = series_dir(tmp_path / "good", mini_git_tree, [("fs/exec.c", exec_c({5: "five"}))])
    assert apply.apply(src, series.load(str(good)), silent).commit != src.base


def test_mbox_series(tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    mbox = tmp_path / "demo.mbox"
    mbox.write_text("".join(p.read_text() for p in sorted(d.glob("*.patch"))))
    s = series.load(str(mbox))
    assert len(s.patches) == 1 and s.patches[0].label == "demo.mbox mail 2"
    src = source.from_tree(mini_git_tree, cache, silent)
    assert apply.apply(src, s, silent).commit != src.base


def test_failure_without_output_still_names_the_first_patch(tmp_path: Path,
                                                             mini_git_tree: Path) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    message = apply.describe_failure(series.load(str(d)), "")
    assert message.startswith("patch 0001-") and "(git am printed nothing)" in message


def test_apply_worktree_holds_only_what_the_series_touches(tmp_path: Path,
                                                           mini_git_tree: Path,
                                                           cache: Cache) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    src = source.from_tree(mini_git_tree, cache, silent)
    loaded = series.load(str(d))
    assert apply.touched_paths(loaded) == ("fs/exec.c",)
    apply.apply(src, loaded, silent)
    wt = apply_worktree(src.repo)
    present = sorted(str(p.relative_to(wt)) for p in wt.rglob("*")
                     if p.is_file() and ".git" not in p.parts)
    assert present == ["fs/exec.c"]


def test_touched_paths_of_plain_and_quoted_diffs() -> None:
    def one(text: str) -> series.Series:
        return series.Series("s", "v", (), (series.Patch("p", text),))

    plain = "--- a/fs/exec.c\t2024-01-01\n+++ b/fs/exec.c\n@@ -1 +1 @@\n-x\n+y\n"
    assert apply.touched_paths(one(plain)) == ("fs/exec.c",)
    created = "--- /dev/null\n+++ b/fs/new.c\n@@ -0,0 +1 @@\n+y\n"
    assert apply.touched_paths(one(created)) == ("fs/new.c",)
    renamed = ("diff --git a/fs/old.c b/fs/new.c\nsimilarity index 90%\n"
               "rename from fs/old.c\nrename to fs/new.c\n")
    assert apply.touched_paths(one(renamed)) == ("fs/new.c", "fs/old.c")
    quoted = 'diff --git "a/fs/a b.c" "b/fs/a b.c"\n--- "a/fs/a b.c"\n'
    assert apply.touched_paths(one(quoted)) is None


def test_a_path_the_diffs_do_not_name_still_applies(
        tmp_path: Path, mini_git_tree: Path, cache: Cache,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # git am on the whole base takes over: a parse gap costs time only.
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    src = source.from_tree(mini_git_tree, cache, silent)
    monkeypatch.setattr(apply, "touched_paths", lambda s: ())
    applied = apply.apply(src, series.load(str(d)), silent)
    apply.checkout(applied)
    assert (src.repo / "fs" / "exec.c").read_text().splitlines()[2] == "three"


def tarball_source(tree: Path, tmp_path: Path, cache: Cache) -> source.KernelSource:
    return source.from_tarball(make_tarball(tree, tmp_path), cache, silent)


def stored(repo: Path, rev: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "cat-file", "-e", rev],
                          capture_output=True).returncode == 0


def test_unpacked_base_stores_only_the_blobs_a_series_reads(
        tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    (mini_git_tree / "fs" / "open.c").write_text("open\n")
    git(mini_git_tree, "add", "fs/open.c")
    git(mini_git_tree, "commit", "-qm", "open.c")
    one = series_dir(tmp_path / "a", mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    two = series_dir(tmp_path / "b", mini_git_tree, [("fs/open.c", "open, patched\n")])
    src = tarball_source(mini_git_tree, tmp_path, cache)
    assert not stored(src.repo, f"{src.base}:fs/exec.c")
    apply.checkout(apply.apply(src, series.load(str(one)), silent))
    assert stored(src.repo, f"{src.base}:fs/exec.c")
    assert not stored(src.repo, f"{src.base}:fs/open.c")
    # Moving from one series to the other restores exec.c from its stored blob.
    apply.checkout(apply.apply(src, series.load(str(two)), silent))
    assert (src.repo / "fs" / "exec.c").read_text() == exec_c({})
    assert (src.repo / "fs" / "open.c").read_text() == "open, patched\n"


def test_a_hand_edited_cache_file_is_named(tmp_path: Path, mini_git_tree: Path,
                                           cache: Cache) -> None:
    d = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    src = tarball_source(mini_git_tree, tmp_path, cache)
    (src.repo / "fs" / "exec.c").write_text("edited by hand\n")
    with pytest.raises(SourceError, match=r"no longer match the pristine.*: fs/exec\.c; delete"):
        apply.apply(src, series.load(str(d)), silent)


def test_a_new_timestamp_on_an_unstored_file_is_not_an_edit(
        tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    one = series_dir(tmp_path / "a", mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    two = series_dir(tmp_path / "b", mini_git_tree, [("fs/exec.c", exec_c({4: "four"}))])
    src = tarball_source(mini_git_tree, tmp_path, cache)
    apply.checkout(apply.apply(src, series.load(str(one)), silent))
    # Kconfig's blob was never stored: checkout must not try to restore it.
    os.utime(src.repo / "Kconfig", (1, 1))
    apply.checkout(apply.apply(src, series.load(str(two)), silent))
    assert (src.repo / "Kconfig").read_text() == (mini_git_tree / "Kconfig").read_text()
    assert git(src.repo, "status", "--porcelain", "--untracked-files=no") == ""


def test_a_file_missing_from_the_base_fails_at_once(
        tmp_path: Path, mini_git_tree: Path, cache: Cache,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A patch made on a tree that has fs/extra.c, which the base lacks.
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(mini_git_tree), str(work)], check=True)
    (work / "fs" / "extra.c").write_text("extra\n")
    git(work, "add", "fs/extra.c")
    git(work, "commit", "-qm", "extra.c")
    (work / "fs" / "extra.c").write_text("extra, patched\n")
    git(work, "commit", "-qam", "patch extra.c")
    d = tmp_path / "patches"
    subprocess.run(["git", "-C", str(work), "format-patch", "-q", "-o", str(d), "HEAD~1"],
                   check=True)
    src = tarball_source(mini_git_tree, tmp_path, cache)
    calls: list[tuple[str, ...] | None] = []
    real = apply._git_am

    def counted(source_: source.KernelSource, series_: series.Series,
                paths: tuple[str, ...] | None) -> tuple[str | None, str]:
        calls.append(paths)
        return real(source_, series_, paths)

    monkeypatch.setattr(apply, "_git_am", counted)
    with pytest.raises(SeriesError, match=r"fs/extra\.c: does not exist in index"):
        apply.apply(src, series.load(str(d)), silent)
    assert calls == [("fs/extra.c",)]  # no second try on the whole base


def test_an_unpacked_again_cache_gets_the_same_base_and_a_working_apply_tree(
        tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    one = series_dir(tmp_path / "a", mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    tarball = make_tarball(mini_git_tree, tmp_path)
    src = source.from_tarball(tarball, cache, silent)
    apply.apply(src, series.load(str(one)), silent)
    shutil.rmtree(src.repo)  # what the damaged-cache error tells the user to do
    again = source.from_tarball(tarball, cache, silent)
    assert again.base == src.base
    applied = apply.apply(again, series.load(str(one)), silent)
    apply.checkout(applied)
    assert (again.repo / "fs" / "exec.c").read_text().splitlines()[2] == "three"


def test_an_edited_unstored_file_in_the_build_tree_is_named(
        tmp_path: Path, mini_git_tree: Path, cache: Cache) -> None:
    one = series_dir(tmp_path, mini_git_tree, [("fs/exec.c", exec_c({3: "three"}))])
    src = tarball_source(mini_git_tree, tmp_path, cache)
    (src.repo / "Kconfig").write_text("edited by hand\n")
    with pytest.raises(SourceError, match=r"no longer match the pristine.*: Kconfig; delete"):
        apply.checkout(apply.apply(src, series.load(str(one)), silent))
