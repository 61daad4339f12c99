"""--kernel-build DIR: a developer's build found (in-tree or O=), its
.config compared with the fragments (what it lacks skips the checks that
need it), its UAPI headers installed into the cache by what they are made
from, and its tree left as it was. Fake trees and images: no kernel build."""

import hashlib
import os
from pathlib import Path

import pytest

from vm.cache import Cache
from vm.errors import HarnessError
from vm.kernel import devbuild, headers, identity, kconfig
from vm.kernel.kconfig_gaps import gaps, met

from .test_identity import DEV_BANNER, dev_bzimage

# A tree whose Makefile installs its one header as headers_install does.
MAKEFILE = """\
VERSION = 6
PATCHLEVEL = 12
SUBLEVEL = 118
EXTRAVERSION =
headers_install:
\tmkdir -p $(INSTALL_HDR_PATH)/include/linux
\tcp include/uapi/linux/*.h $(INSTALL_HDR_PATH)/include/linux/
"""
KCONFIG = """\
config NET
\tbool "Networking"

config AUDIT
\tbool "Auditing support"
\tdepends on NET

config PRINTK
\tbool "printk"

config NR_CPUS
\tint "CPUs"
"""
# Who needs what, as kconfigs/ says it.
FRAGMENT = """\
# checks: boot
CONFIG_PRINTK=y
# checks: audit.c observe.c::proc_connector.*
CONFIG_AUDIT=y
# checks: none
CONFIG_NR_CPUS=8
"""
DOT_CONFIG = ("CONFIG_PRINTK=y\n# CONFIG_NET is not set\n# CONFIG_AUDIT is not set\n"
              "CONFIG_NR_CPUS=64\n")


def kernel_tree(root: Path) -> Path:
    tree = root / "linux"
    (tree / "include" / "uapi" / "linux").mkdir(parents=True)
    (tree / "Makefile").write_text(MAKEFILE)
    (tree / "Kconfig").write_text(KCONFIG)
    (tree / "include" / "uapi" / "linux" / "spawn_template.h").write_text("#define ST 1\n")
    (tree / "scripts").mkdir()
    (tree / "scripts" / "headers_install.sh").write_text("#!/bin/sh\n")
    return tree


def built_in(folder: Path, build: int = 3) -> Path:
    """What make leaves in its output folder: .config, bzImage, objects."""
    (folder / ".config").write_text(DOT_CONFIG)
    image = folder / devbuild.BZIMAGE
    image.parent.mkdir(parents=True, exist_ok=True)
    dev_bzimage(image, build, build)
    (folder / "scripts" / "basic").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "basic" / "fixdep").write_bytes(b"\x7fELF" + os.urandom(64))
    (folder / "scripts" / "basic" / ".fixdep.cmd").write_text(f"{os.urandom(8).hex()}\n")
    return folder


@pytest.fixture(params=["in-tree", "O="])
def build_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    tree = kernel_tree(tmp_path)
    if request.param == "in-tree":
        return built_in(tree)
    out = tmp_path / "out"
    out.mkdir()
    (out / "source").symlink_to(tree)
    (out / "Makefile").write_text(f"include {tree}/Makefile\n")
    return built_in(out)


@pytest.fixture
def fragment(tmp_path: Path) -> str:
    path = tmp_path / "need.config"
    path.write_text(FRAGMENT)
    return str(path)


def listing(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under @root: mode, mtime, content digest (what
    `find -newer` and sha256sum would tell)."""
    found = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        found[str(path)] = (st.st_mode, st.st_mtime_ns, hashlib.sha256(data).hexdigest())
    return found


def test_what_a_build_folder_must_have(tmp_path: Path) -> None:
    assert devbuild.problem(tmp_path / "nope") == "no such directory"
    tree = kernel_tree(tmp_path)
    assert "no .config" in str(devbuild.problem(tree))
    (tree / ".config").write_text(DOT_CONFIG)
    assert "no arch/x86/boot/bzImage in it (not built yet" in str(devbuild.problem(tree))
    built_in(tree)
    assert devbuild.problem(tree) is None and devbuild.source_tree(tree) == tree
    (tmp_path / "out").mkdir()
    out = built_in(tmp_path / "out")
    assert "no kernel source" in str(devbuild.problem(out))
    (out / "source").symlink_to(tree)
    assert devbuild.problem(out) is None and devbuild.source_tree(out) == tree


def test_a_config_is_compared_entry_by_entry(tmp_path: Path, fragment: str) -> None:
    (loaded,) = kconfig.load_fragments([fragment])
    final = kconfig.as_dict(kconfig.parse(DOT_CONFIG))
    found = gaps((loaded,), final, {"Kconfig": KCONFIG})
    assert [(g.wanted.name, g.have, str(g.need)) for g in found] == [
        ("CONFIG_AUDIT", "n", "audit.c observe.c::proc_connector.*"),
        ("CONFIG_NR_CPUS", "64", "none")]
    audit = found[0]
    assert str(audit).startswith("CONFIG_AUDIT=y (the .config: is not set), from need; ")
    assert "depends on NET [not set: NET]" in audit.why  # the tree's own Kconfig says why
    # Without the tree's Kconfig files, the reason says why there is none.
    assert gaps((loaded,), final, None, "not explained: no tree")[0].why == (
        "not explained: no tree")


def test_a_list_option_is_met_by_every_name_it_lists() -> None:
    wanted = '"landlock,lockdown,yama,apparmor,bpf"'
    assert met("CONFIG_LSM", wanted, '"landlock,lockdown,yama,integrity,apparmor,bpf"')
    assert not met("CONFIG_LSM", wanted, '"landlock,lockdown,yama,integrity,selinux,bpf"')
    assert not met("CONFIG_HZ", "250", "1000")


def test_headers_are_keyed_on_their_sources_not_on_build_outputs(tmp_path: Path) -> None:
    tree = kernel_tree(tmp_path)
    files = headers.sources(tree)
    assert sorted(files) == ["Makefile", "include/uapi/linux/spawn_template.h",
                             "scripts/headers_install.sh"]
    before = headers.key(files)
    built_in(tree)  # objects, a host program and .cmd files among the scripts
    assert headers.key(headers.sources(tree)) == before
    built_in(tree)  # built again: other objects, the same sources
    # What kbuild generates next to the scripts (its .cmd beside it), and
    # the scripts' subfolders that headers_install does not read.
    (tree / "scripts" / "module.lds").write_text("generated\n")
    (tree / "scripts" / ".module.lds.cmd").write_text("cmd_scripts/module.lds := ...\n")
    (tree / "scripts" / "kconfig").mkdir()
    (tree / "scripts" / "kconfig" / "parser.tab.c").write_text("generated\n")
    assert headers.key(headers.sources(tree)) == before
    (tree / "include" / "uapi" / "linux" / "spawn_template.h").write_text("#define ST 2\n")
    assert headers.key(headers.sources(tree)) != before
    (tree / "include" / "uapi" / "linux" / "spawn_template.h").write_text("#define ST 1\n")
    (tree / "Makefile").write_text(MAKEFILE.replace("SUBLEVEL = 118", "SUBLEVEL = 119"))
    assert headers.key(headers.sources(tree)) != before


def test_headers_install_into_the_cache_once_per_key(tmp_path: Path) -> None:
    tree = built_in(kernel_tree(tmp_path))
    cache = Cache(tmp_path / "cache")
    said: list[str] = []
    before = listing(tree)
    folder = headers.install(tree, cache, said.append)
    assert listing(tree) == before  # nothing written in the tree
    assert folder.parent == cache.root / "kernel-build"
    assert (folder / "usr/include/linux/spawn_template.h").read_text() == "#define ST 1\n"
    assert sorted(p.name for p in folder.iterdir()) == [headers.STAMP, "usr"]  # no copy left
    assert headers.install(tree, cache, said.append) == folder
    assert len(said) == 1  # the second time, nothing to install
    (tree / "include" / "uapi" / "linux" / "spawn_template.h").write_text("#define ST 2\n")
    newer = headers.install(tree, cache, said.append)
    assert newer != folder and "ST 2" in (newer / "usr/include/linux/spawn_template.h").read_text()


def test_load_keeps_the_image_compares_the_config_and_writes_nothing_in_the_tree(
        build_dir: Path, fragment: str, tmp_path: Path) -> None:
    tree = devbuild.source_tree(build_dir)
    assert tree is not None
    before = listing(tree) | listing(build_dir)
    said: list[str] = []
    found = devbuild.load(build_dir, (fragment,), Cache(tmp_path / "cache"),
                          tmp_path / "run" / "tmp", said.append)
    assert listing(tree) | listing(build_dir) == before
    # The image and .config booted and compared are copies, in the run's folder.
    assert found.image.parent == found.config.parent == tmp_path / "run" / "tmp"
    assert found.image.read_bytes() == (build_dir / devbuild.BZIMAGE).read_bytes()
    assert found.version.banner == DEV_BANNER.format(3).strip()
    record = found.built.record
    assert record.identity == found.version.identity
    assert record.version_string == found.version.banner
    assert record.source == f"{build_dir} (built by the developer)"
    assert found.built.headers == found.built.configured.build_dir / "usr" / "include"
    assert found.built.tree.path == tree  # the harness of the tree under test
    # What the .config lacks: named, with the tree's reason, and the checks it stops.
    reason = found.skip_reason("audit.c", "exec_rule.path.exe")
    assert reason is not None and "CONFIG_AUDIT=y" in reason and "not set: NET" in reason
    assert found.skip_reason("observe.c", "proc_connector.path.exec_event_per_spawn") == reason
    assert found.skip_reason("observe.c", "fanotify.path.open_exec_per_spawn") is None
    assert found.skip_reason("smoke.c", "global.create_and_spawn_true") is None
    assert any("lacks 1 option(s)" in m for m in said)
    assert any(m.strip().startswith("CONFIG_AUDIT=y") for m in said)
    assert any("1 option(s) differ" in m and "CONFIG_NR_CPUS" in m for m in said)
    report = found.report()
    assert report["missing for boot"] == []
    assert report["differ, no check needs them"] == ["CONFIG_NR_CPUS=8 (has 64)"]


def test_the_image_kept_and_the_kernel_booted_must_be_that_build(
        build_dir: Path, fragment: str, tmp_path: Path) -> None:
    found = devbuild.load(build_dir, (fragment,), Cache(tmp_path / "cache"), tmp_path / "keep",
                          lambda _: None)
    found.verify_image(found.image)
    assert found.verify_booted(DEV_BANNER.format(3)) == found.version.identity
    with pytest.raises(identity.StaleKernelError, match=r"#4 SMP.*#3 SMP"):
        found.verify_booted(DEV_BANNER.format(4))
    # Rebuilt under the run's feet: the copy it boots is still build 3; a
    # kept image that is another build is refused before it boots.
    built_in(build_dir, build=4)
    found.verify_image(found.image)
    with pytest.raises(identity.StaleKernelError, match="not the developer's build"):
        found.verify_image(build_dir / devbuild.BZIMAGE)


def test_a_boot_failure_names_what_the_guest_needs_to_boot(
        build_dir: Path, tmp_path: Path) -> None:
    (build_dir / ".config").write_text(DOT_CONFIG.replace("CONFIG_PRINTK=y", ""))
    path = tmp_path / "boot.config"
    path.write_text(FRAGMENT)
    found = devbuild.load(build_dir, (str(path),), Cache(tmp_path / "cache"), tmp_path / "keep",
                          lambda _: None)
    error = found.explain_boot_failure(HarnessError("guest boot failed: vng exited"))
    assert "lacks what the guest needs to boot" in str(error) and "CONFIG_PRINTK=y" in str(error)
    assert str(error).endswith("guest boot failed: vng exited")
