"""Who needs which fragment entry (`# checks:` lines), and that kconfigs/
says it for every entry, naming check programs and fixtures that exist."""

import re
from pathlib import Path

import pytest

from vm.errors import ConfigError
from vm.kernel import kconfig
from vm.kernel.kconfig_needs import Need, needs, parse_needs
from vm.paths import GUEST_CHECKS_DIR, KCONFIGS_DIR

FRAGMENT = """\
# A fragment with three sections.
# checks: boot
CONFIG_A=y
# checks: none
# CONFIG_B is not set
CONFIG_C=8
# Why D: for the fanotify checks, and all of audit.c.
# checks: observe.c::fanotify.* audit.c
CONFIG_D=y
"""


def test_a_checks_line_covers_the_entries_below_it() -> None:
    found = parse_needs(FRAGMENT)
    assert found == {"CONFIG_A": Need(boot=True), "CONFIG_B": Need(), "CONFIG_C": Need(),
                     "CONFIG_D": Need(checks=("observe.c::fanotify.*", "audit.c"))}
    d = found["CONFIG_D"]
    assert d.needed_by("audit.c", "exec_rule.path.exe")
    assert d.needed_by("observe.c", "fanotify.path.open_exec_per_spawn")
    # fanotify.* is the fanotify fixture, not fanotify_perm.
    assert not d.needed_by("observe.c", "fanotify_perm.path.open_exec_perm_decides_each_spawn")
    assert not d.needed_by("lsm.c", "hooks.same_hooks_as_execve")
    assert str(d) == "observe.c::fanotify.* audit.c" and str(Need()) == "none"
    more = d | Need(True, ("observe.c::proc_connector.*",))
    assert more.brief() == "boot, observe.c (2 kinds of checks), audit.c"


@pytest.mark.parametrize("text, error", [
    ("CONFIG_A=y\n", "CONFIG_A=y is under no `# checks:` line"),
    ("# checks:\nCONFIG_A=y\n", "not nothing"),
    ("# checks: none audit.c\nCONFIG_A=y\n", "none .alone."),
    ("# checks: audit\nCONFIG_A=y\n", "`# checks:` audit: not boot"),
])
def test_a_bad_or_missing_checks_line_is_named(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        parse_needs(text, "x.config")


def test_an_entry_of_several_fragments_is_needed_by_all_their_checks(tmp_path: Path) -> None:
    (tmp_path / "one.config").write_text("# checks: boot\nCONFIG_A=y\n")
    (tmp_path / "two.config").write_text("# checks: seccomp.c\nCONFIG_A=y\n")
    fragments = kconfig.load_fragments(["one", "two"], tmp_path)
    assert needs(fragments) == {"CONFIG_A": Need(boot=True, checks=("seccomp.c",))}


def _fixtures(program: Path) -> set[str]:
    """The fixture names a check name can start with: FIXTURE()s, and
    "global" for TEST()s."""
    text = program.read_text()
    found = set(re.findall(r"^FIXTURE\((\w+)\)", text, re.M))
    return found | ({"global"} if re.search(r"^TEST\(", text, re.M) else set())


@pytest.mark.parametrize("fragment", sorted(p.stem for p in KCONFIGS_DIR.glob("*.config")))
def test_every_entry_of_kconfigs_says_who_needs_it(fragment: str) -> None:
    (loaded,) = kconfig.load_fragments([fragment])
    found = needs([loaded])  # raises for an entry under no `# checks:` line
    assert set(found) == {e.name for e in loaded.entries}
    for name, need in found.items():
        for word in need.checks:
            program, _, glob = word.partition("::")
            source = GUEST_CHECKS_DIR / program
            assert source.is_file(), f"{fragment}: {name}: no tests/guest/{program}"
            if glob:
                fixture = glob.split(".", 1)[0]
                assert any(re.fullmatch(fixture.replace("*", r"\w*"), f)
                           for f in _fixtures(source)), f"{fragment}: {name}: {word}: no fixture"


def test_checks_lines_in_a_row_add_up() -> None:
    found = parse_needs("# checks: audit.c\n# A comment between.\n# checks: boot\nCONFIG_A=y\n"
                        "# checks: lsm.c\nCONFIG_B=y\n")
    assert found == {"CONFIG_A": Need(boot=True, checks=("audit.c",)),
                     "CONFIG_B": Need(checks=("lsm.c",))}


def test_what_proves_no_child_was_made_is_needed_by_the_checks_that_prove_it() -> None:
    # st_child_evidence() reads /proc/<pid>/task/<tid>/children: the checks
    # that call it, themselves or through a helper, need CONFIG_PROC_CHILDREN.
    need = needs(kconfig.load_fragments(["spawn-template"]))["CONFIG_PROC_CHILDREN"]
    assert need.needed_by("exec_regress.c", "exec_nproc.spawn.over_limit_then_below")
    assert not need.needed_by("exec_regress.c", "exec_open.execve.regular_file_runs")
    assert need.needed_by("abi_spawn.c", "bad_action.close_bad_fd.refused")
    assert need.needed_by("abi_spawn.c", "global.unknown_flags")
    assert not need.needed_by("abi_spawn.c", "global.argv_empty")
    assert need.needed_by("identity.c", "key.execfd_link.owner")
    assert not need.needed_by("identity.c", "key.execfd_link.chattr_append")
    assert not need.needed_by("smoke.c", "global.create_and_spawn_true")
