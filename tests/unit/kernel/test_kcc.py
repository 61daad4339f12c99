"""vm/kernel/kcc, the kernel build's compiler wrapper, on small files and a real
ccache: what ccache's depend mode cannot key never comes from the cache."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vm.kernel.build import KCC

pytestmark = pytest.mark.skipif(shutil.which("ccache") is None or shutil.which("gcc") is None,
                                reason="needs ccache and gcc")


def compile_with(cc: list[str], tmp: Path, source: str, unsafe: tuple[str, ...] = ()) -> bytes:
    """Compile as kbuild does (-Wp,-MMD), in depend mode; the object's .data."""
    env = dict(os.environ, CCACHE_DIR=str(tmp / "ccache"), CCACHE_DEPEND="1",
               CCACHE_INODECACHE="1")
    (tmp / "unsafe").write_text("".join(f"{p}\n" for p in unsafe))
    env["KCC_UNSAFE"] = str(tmp / "unsafe")
    subprocess.run([*cc, "-I", str(tmp), "-Wp,-MMD,dep.d", "-c", "-o", "out.o", source],
                   cwd=tmp, env=env, check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".data", "out.o", "data.bin"],
                   cwd=tmp, check=True)
    return (tmp / "data.bin").read_bytes()


def test_incbin_source_is_never_served_from_the_cache(tmp_path: Path) -> None:
    # piggy.S's case: same source text, same size of the included file.
    (tmp_path / "piggy.S").write_text('.data\n.incbin "payload.bin"\n')
    for payload in (b"AAAA", b"BBBB", b"AAAA", b"CCCC"):
        (tmp_path / "payload.bin").write_bytes(payload)
        assert compile_with([str(KCC), "gcc"], tmp_path, "piggy.S") == payload


def test_unsafe_header_is_compiled_again_without_the_cache(tmp_path: Path) -> None:
    # A C file whose header pulls a file in with .incbin: only the list
    # from vm/kernel/build.py's scan of the tree (paths relative to it) knows.
    header = tmp_path / "blob.h"
    header.write_text('asm(".data\\n.incbin \\"payload.bin\\"\\n.text");\n')
    (tmp_path / "user.c").write_text('#include "blob.h"\n')
    for payload in (b"1111", b"2222", b"1111"):
        (tmp_path / "payload.bin").write_bytes(payload)
        got = compile_with([str(KCC), "gcc"], tmp_path, "user.c", unsafe=(header.name,))
        assert got == payload


def test_unsafe_header_reached_through_dot_dot_is_recognised(tmp_path: Path) -> None:
    # The dependency file spells the path as the #include did.
    (tmp_path / "sub" / "x").mkdir(parents=True)
    (tmp_path / "sub" / "blob.h").write_text('asm(".data\\n.incbin \\"payload.bin\\"\\n.text");\n')
    (tmp_path / "user.c").write_text('#include "sub/x/../blob.h"\n')
    for payload in (b"AAAA", b"BBBB"):
        (tmp_path / "payload.bin").write_bytes(payload)
        assert compile_with([str(KCC), "gcc"], tmp_path, "user.c", unsafe=("blob.h",)) == payload


def test_list_names_match_whole_file_names_only(tmp_path: Path) -> None:
    # "blob.h" listed must not keep "myblob.h" users out of the cache.
    (tmp_path / "myblob.h").write_text("int y;\n")
    (tmp_path / "user.c").write_text('#include "myblob.h"\n')
    for _ in range(2):
        compile_with([str(KCC), "gcc"], tmp_path, "user.c", unsafe=("blob.h",))
    assert direct_hits(tmp_path) == 1


def test_missing_list_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "plain.c").write_text("int x = 1;\n")
    env = dict(os.environ, CCACHE_DIR=str(tmp_path / "ccache"), CCACHE_DEPEND="1",
               KCC_UNSAFE=str(tmp_path / "no-such-list"))
    proc = subprocess.run([str(KCC), "gcc", "-Wp,-MMD,dep.d", "-c", "-o", "out.o", "plain.c"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "no-such-list" in proc.stderr


def test_preprocessing_to_stdout_runs_once(tmp_path: Path) -> None:
    (tmp_path / "lds.S").write_text("MARK\n")
    (tmp_path / "unsafe").write_text("lds.S\n")
    env = dict(os.environ, CCACHE_DIR=str(tmp_path / "ccache"), CCACHE_DEPEND="1",
               KCC_UNSAFE=str(tmp_path / "unsafe"))
    out = subprocess.run([str(KCC), "gcc", "-E", "-P", "-Wp,-MMD,dep.d", "lds.S"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["MARK"]


def test_ordinary_sources_still_hit_the_cache(tmp_path: Path) -> None:
    (tmp_path / "plain.c").write_text("int x = 1;\n")
    compile_with([str(KCC), "gcc"], tmp_path, "plain.c")
    compile_with([str(KCC), "gcc"], tmp_path, "plain.c")
    assert direct_hits(tmp_path) == 1


def direct_hits(tmp: Path) -> int:
    stats = subprocess.run(["ccache", "--print-stats"], capture_output=True, text=True,
                           env=dict(os.environ, CCACHE_DIR=str(tmp / "ccache")))
    counters = dict(line.split("\t") for line in stats.stdout.splitlines() if "\t" in line)
    return int(counters.get("direct_cache_hit", "0"))
