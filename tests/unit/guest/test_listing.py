"""Listing checks needs no kernel: programs compiled against the contract's
header fallback and the host's UAPI headers, the harness headers found
without preparing a kernel; `pytest --collect-only` builds nothing."""

import shutil
import time
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.guest import checks, listing
from vm.kernel import source
from vm.paths import GUEST_CHECKS_DIR
from vm.progress import silent

from ..conftest import make_tarball
from ..pytest_run import run_pytest

# A stand-in for kselftest_harness.h: enough for a program to answer -l.
FAKE_HARNESS = """#include <stdio.h>
#include <string.h>
#define LISTING "# FIXTURE            VARIANT                   TEST\\n" \\
    "---------------------------------------------------------\\n" \\
    "global                                         %s\\n"
#define PROGRAM(test) int main(int argc, char **argv) { \\
    if (argc > 1 && !strcmp(argv[1], "-l")) fprintf(stderr, LISTING, test); return 0; }
"""


def fake_checks(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(GUEST_CHECKS_DIR / "Makefile", folder)
    (folder / "one.c").write_text('#include "kselftest_harness.h"\nPROGRAM("first")\n')
    (folder / "two.c").write_text('#include "kselftest_harness.h"\nPROGRAM("second")\n')
    (folder / "helper_x.c").write_text("this is not C: helpers are not compiled to list\n")
    return folder


def fake_harness(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "kselftest_harness.h").write_text(FAKE_HARNESS)
    (folder / "kselftest.h").write_text("")
    return folder


def test_programs_are_compiled_once_and_listed(tmp_path: Path, cache: Cache) -> None:
    checks_dir = fake_checks(tmp_path / "guest")
    harness = fake_harness(tmp_path / "harness")
    messages: list[str] = []
    out = listing.compile_for_listing(harness, cache, messages.append, checks_dir)
    one, two = checks_dir / "one.c", checks_dir / "two.c"
    assert sorted(p.name for p in out.out_dir.iterdir() if not p.name.startswith(".")) == sorted(
        [out.binary(one).name, out.binary(two).name])
    assert checks.list_checks(out.binary(one)) == ["global.first"]
    assert messages == ["listing: compiling 2 check program(s) against the contract's header "
                        "(no kernel)"]
    assert listing.compile_for_listing(harness, cache, messages.append, checks_dir) == out
    assert len(messages) == 1  # the second time from the cache
    # An edit recompiles that program alone; the old binary stays for whoever lists it.
    old_two = out.binary(two)
    two.write_text('#include "kselftest_harness.h"\nPROGRAM("third")\n')
    again = listing.compile_for_listing(harness, cache, messages.append, checks_dir)
    assert messages[-1].startswith("listing: compiling 1 check program(s)")
    assert checks.list_checks(again.binary(two)) == ["global.third"]
    assert checks.list_checks(old_two) == ["global.second"]


def test_harness_headers_come_from_the_tree_the_cache_or_the_tarball(
        tmp_path: Path, mini_tree: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    in_tree = fake_harness(mini_tree / listing.SELFTESTS)
    assert listing.harness_dir(mini_tree, cache, silent) == in_tree
    held = fake_harness(cache.root / "src" / "deb-x" / listing.SELFTESTS)
    assert listing.harness_dir(None, cache, silent) == held
    shutil.rmtree(cache.root / "src")
    tarball = make_tarball(mini_tree, tmp_path)
    monkeypatch.setattr(source, "find_debian_tarball", lambda: tarball)
    got = listing.harness_dir(None, cache, silent)
    assert (got / "kselftest_harness.h").read_text() == FAKE_HARNESS
    assert got.is_relative_to(cache.root)


def real_harness(cache: Cache) -> None:
    """The real harness headers into @cache, from the user's cache or the tarball."""
    for found in sorted(Cache.default().root.glob(f"src/*/{listing.SELFTESTS}")):
        if all((found / h).is_file() for h in listing.HARNESS):
            dest = cache.root / "src" / "deb-copy" / listing.SELFTESTS
            dest.mkdir(parents=True)
            for h in listing.HARNESS:
                shutil.copy(found / h, dest)
            return
    try:
        listing.harness_dir(None, cache, silent)
    except Exception as e:  # no kernel source on this host at all
        pytest.skip(f"no kselftest harness headers here: {e}")


def test_collect_only_lists_every_check_and_builds_nothing(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache" / "spawn-template-suite")
    real_harness(cache)
    start = time.monotonic()
    proc = run_pytest(tmp_path, "tests/guest", "--collect-only", "-q")
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = [line for line in proc.stdout.splitlines() if ".c::" in line]
    programs = {line.split("::")[0] for line in items}
    assert programs == {f"tests/guest/{p.name}" for p in listing.programs()}
    assert len(items) > 100
    assert "build:" not in proc.stdout  # no kernel build, no --no-build either
    assert not list(cache.root.glob("src/*.build"))
    # Selecting is listing too; the second time from the cache.
    proc = run_pytest(tmp_path, "tests/guest", "--collect-only", "-q", "-k", "smoke")
    assert proc.returncode == 0, proc.stdout
    selected = [line for line in proc.stdout.splitlines() if ".c::" in line]
    assert selected and all(line.startswith("tests/guest/smoke.c::") for line in selected)
    print(f"collect-only: {seconds:.1f} s the first time")

