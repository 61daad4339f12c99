"""What vm/kernel/build.py puts into its cache keys besides file contents."""

from pathlib import Path

from vm.kernel import build


def tree(root: Path, *headers: str) -> Path:
    for h in headers:
        (root / h).parent.mkdir(parents=True, exist_ok=True)
        (root / h).write_text("/* header */\n")
    return root


def test_a_new_uapi_header_alone_shadows_nothing(tmp_path: Path) -> None:
    assert build.shadowed_headers(tree(tmp_path, "include/uapi/linux/spawn_template.h",
                                       "include/linux/fs.h")) == ""


def test_kernel_header_next_to_its_uapi_twin(tmp_path: Path) -> None:
    t = tree(tmp_path, "include/uapi/linux/x.h", "include/linux/x.h")
    assert build.shadowed_headers(t) == (
        "linux/x.h: include/linux/x.h include/uapi/linux/x.h\n"
        "x.h: include/linux/x.h include/uapi/linux/x.h\n")


def test_header_next_to_the_includer_shadows_one_found_through_minus_i(tmp_path: Path) -> None:
    # arch/x86/realmode/rm/wakemain.c includes "boot.h", found through
    # -I arch/x86/boot: a new rm/boot.h would be found first.
    t = tree(tmp_path, "arch/x86/boot/boot.h", "arch/x86/realmode/rm/wakemain.c")
    assert build.shadowed_headers(t) == ""
    tree(tmp_path, "arch/x86/realmode/rm/boot.h")
    assert build.shadowed_headers(t) == (
        "boot.h: arch/x86/boot/boot.h arch/x86/realmode/rm/boot.h\n")


def test_other_arches_uml_tools_scripts_and_docs_are_not_read(tmp_path: Path) -> None:
    t = tree(tmp_path, "arch/x86/include/asm/x.h", "arch/arm64/include/asm/x.h",
             "arch/x86/um/asm/x.h", "tools/include/asm/x.h", "scripts/asm/x.h",
             "Documentation/asm/x.h")
    assert build.shadowed_headers(t) == ""


def test_unsafe_files_are_found_relative_to_the_tree(tmp_path: Path) -> None:
    (tmp_path / "arch/x86/boot").mkdir(parents=True)
    (tmp_path / "arch/x86/boot/blob.S").write_text('.incbin "x.bin"\n')
    (tmp_path / "include").mkdir()
    (tmp_path / "include/asm.h").write_text('asm(".include \\"m.s\\"");\n')
    (tmp_path / "include/plain.h").write_text("#include <linux/types.h>\n")
    # As in nospec-branch.h and net/wireless/tests/scan.c: not directives.
    (tmp_path / "include/comment.h").write_text('/* asm(".include <x.h>") */\n')
    (tmp_path / "include/field.h").write_text("struct s x = { .include_oper_class = 1 };\n")
    (tmp_path / "arch/arm/boot").mkdir(parents=True)
    (tmp_path / "arch/arm/boot/piggy.S").write_text('.incbin "x.bin"\n')
    (tmp_path / "Makefile").write_text("include scripts/Makefile.include\n")
    (tmp_path / "include/upper.inc").write_text('.INCBIN "x.bin"\n')
    assert build.unsafe_files(tmp_path) == ["arch/x86/boot/blob.S", "include/asm.h",
                                            "include/upper.inc"]
