from pathlib import Path

import pytest

from vm.errors import ConfigError
from vm.kernel import kconfig, kconfig_explain
from vm.options import DEFAULT_FRAGMENTS
from vm.paths import KCONFIGS_DIR

KCONFIG = """\
config BLOCK
\tbool "Enable the block layer"

config NET_9P
\ttristate "Plan 9 Resource Sharing Support"
\tdepends on NET && VIRTIO

config HIDDEN
\tbool

config PCI
\tbool "PCI"
\tselect HIDDEN
"""


def test_parse_set_and_unset() -> None:
    entries = kconfig.parse("CONFIG_A=y\n# CONFIG_B is not set\n# comment\n\nCONFIG_C=\"x y\"\n")
    assert [str(e) for e in entries] == ["CONFIG_A=y", "# CONFIG_B is not set",
                                         'CONFIG_C="x y"']


def test_parse_rejects_garbage_with_location() -> None:
    with pytest.raises(ConfigError, match=r"frag:2: not a config entry"):
        kconfig.parse("CONFIG_A=y\nA=y\n", "frag")


def test_later_fragment_wins(tmp_path: Path) -> None:
    (tmp_path / "one.config").write_text("CONFIG_A=y\nCONFIG_B=y\n")
    (tmp_path / "two.config").write_text("# CONFIG_A is not set\n")
    frags = kconfig.load_fragments(["one", "two"], tmp_path)
    assert kconfig.merged(frags) == {"CONFIG_A": "n", "CONFIG_B": "y"}


def test_fragment_by_file_path_and_unknown_name(tmp_path: Path) -> None:
    f = tmp_path / "extra.frag"
    f.write_text("CONFIG_X=y\n")
    assert kconfig.resolve_fragment(str(f), tmp_path) == f
    with pytest.raises(ConfigError, match="--kconfig nope: no such fragment"):
        kconfig.resolve_fragment("nope", tmp_path)


def test_overlay_replaces_and_adds() -> None:
    text = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\n"
    out = kconfig.overlay(text, {"CONFIG_B": "y", "CONFIG_D": "n"})
    final = kconfig.as_dict(kconfig.parse(out))
    assert final == {"CONFIG_A": "y", "CONFIG_B": "y", "CONFIG_C": "y", "CONFIG_D": "n"}


def test_verify_passes_when_everything_survived() -> None:
    kconfig_explain.verify({"CONFIG_BLOCK": "y", "CONFIG_X": "n"}, {"CONFIG_BLOCK": "y"},
                   {"Kconfig": KCONFIG})


def test_verify_names_option_and_unmet_dependency() -> None:
    final = {"CONFIG_NET": "y", "CONFIG_BLOCK": "y"}
    with pytest.raises(ConfigError) as e:
        kconfig_explain.verify({"CONFIG_NET_9P": "y"}, final, {"net/9p/Kconfig": KCONFIG})
    msg = str(e.value)
    assert "CONFIG_NET_9P=y" in msg
    assert "net/9p/Kconfig:4" in msg
    assert "depends on NET && VIRTIO [not set: VIRTIO]" in msg


def test_verify_names_undefined_option() -> None:
    with pytest.raises(ConfigError, match="no Kconfig in this tree defines CONFIG_NOPE"):
        kconfig_explain.verify({"CONFIG_NOPE": "y"}, {}, {"Kconfig": KCONFIG})


def test_verify_names_promptless_and_selecting_options() -> None:
    with pytest.raises(ConfigError, match="no prompt"):
        kconfig_explain.verify({"CONFIG_HIDDEN": "y"}, {}, {"Kconfig": KCONFIG})
    with pytest.raises(ConfigError, match="forced on by select from: PCI"):
        kconfig_explain.verify({"CONFIG_HIDDEN": "n"}, {"CONFIG_PCI": "y", "CONFIG_HIDDEN": "y"},
                       {"Kconfig": KCONFIG})


def test_shipped_fragments_parse() -> None:
    names = [p.stem for p in KCONFIGS_DIR.glob("*.config")]
    assert set(DEFAULT_FRAGMENTS) <= set(names)
    for frag in kconfig.load_fragments(names):
        assert frag.entries, frag.path


def test_base_fragment_has_what_virtme_ng_needs() -> None:
    (base,) = kconfig.load_fragments(["base"])
    wanted = kconfig.as_dict(base.entries)
    for option in ("CONFIG_BLOCK", "CONFIG_9P_FS", "CONFIG_NET_9P_VIRTIO", "CONFIG_ACPI",
                   "CONFIG_VIRTIO_CONSOLE", "CONFIG_DEVTMPFS", "CONFIG_BINFMT_ELF"):
        assert wanted.get(option) == "y", option


def test_enclosing_if_counts_as_dependency() -> None:
    text = "menu \"Testing\"\n\nif RUNTIME_TESTING_MENU\n\nconfig LKDTM\n\ttristate \"x\"\n" \
           "\tdepends on DEBUG_FS\n\nendif\nendmenu\n\nconfig AFTER\n\tbool \"y\"\n"
    with pytest.raises(ConfigError, match=r"depends on RUNTIME_TESTING_MENU \[not set: "
                       r"RUNTIME_TESTING_MENU\]"):
        kconfig_explain.verify({"CONFIG_LKDTM": "y"}, {"CONFIG_DEBUG_FS": "y"}, {"lib/K": text})
    (after,) = kconfig_explain.find_definitions({"lib/K": text}, "AFTER")
    assert after.depends == ()


def test_help_text_is_not_read_as_kconfig() -> None:
    text = ("config PERF_EVENTS\n\tbool \"perf\"\n\thelp\n\t  Enable perf.\n\n"
            "\t  if CGROUP_SCHED is set, read this\n\t  select NOTHING\n\n"
            "config NEXT\n\tbool \"n\"\n\tselect PERF_EVENTS\n")
    (perf,) = kconfig_explain.find_definitions({"init/K": text}, "PERF_EVENTS")
    assert perf.depends == ()
    (nxt,) = kconfig_explain.find_definitions({"init/K": text}, "NEXT")
    assert nxt.depends == ()
    assert kconfig_explain.find_selectors({"init/K": text}, "NOTHING") == []
    assert kconfig_explain.find_selectors({"init/K": text}, "PERF_EVENTS") == ["NEXT"]


def test_help_ends_like_the_kconfig_lexer_ends_it() -> None:
    # A tab inside the first help line does not widen the help's indent;
    # an empty help block ends at the next line in column 0.
    text = ("config A\n\tbool \"a\"\n\thelp\n\t  Table:\tcolumns\n"
            "\t  if you say Y here\n\nconfig B\n\tbool \"b\"\n\thelp\n\n"
            "config C\n\tbool \"c\"\n")
    (a,) = kconfig_explain.find_definitions({"K": text}, "A")
    assert a.depends == ()
    assert len(kconfig_explain.find_definitions({"K": text}, "C")) == 1
