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
    assert need.needed_by("identity.c", "key.execfd_link.chattr_append")
    assert not need.needed_by("identity.c", "key.execfd_link.link_count_alone_runs")
    assert not need.needed_by("smoke.c", "global.create_and_spawn_true")


# The checks that reach a call, read from the check programs' sources: a
# check's body, its fixture's setup and teardown, and every helper or macro
# they use, of the program or of common.h, followed through. A rough C
# reader (definitions start at column 0 and end at a "}" line), enough for
# tests/guest's style.
_BODY_HEAD = re.compile(r"^(TEST|TEST_F|TEST_F_TIMEOUT|FIXTURE_SETUP|FIXTURE_TEARDOWN"
                        r"|FIXTURE_TEARDOWN_PARENT)\((\w+)(?:,\s*(\w+))?")
_FUNC_HEAD = re.compile(r"^(?:static\s+)?(?:inline\s+)?(?:const\s+)?\w[\w\s*]*?\b(\w+)\(")


def _definitions(text: str) -> list[tuple[str, str, str, str]]:
    """(kind, name, test, text) of each TEST, fixture body, function and macro."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        line, start = lines[i], i
        if m := re.match(r"#define (\w+)", line):
            while lines[i].endswith("\\") and i + 1 < len(lines):
                i += 1
            found.append(("macro", m.group(1), "", "\n".join(lines[start:i + 1])))
        elif (head := _BODY_HEAD.match(line)) or (
                (func := _FUNC_HEAD.match(line)) and not line.endswith(";")):
            while i + 1 < len(lines) and lines[i] != "}":
                i += 1
            body = "\n".join(lines[start:i + 1])
            if head:
                found.append((head.group(1), head.group(2), head.group(3) or "", body))
            elif func:
                found.append(("func", func.group(1), "", body))
        i += 1
    return found


def checks_reaching(program: str, marker: str) -> set[str]:
    """Check names (a variant as "X") of tests/guest/@program that reach @marker."""
    mine = _definitions((GUEST_CHECKS_DIR / program).read_text())
    helpers = {name: body for kind, name, _, body in
               _definitions((GUEST_CHECKS_DIR / "common.h").read_text()) + mine
               if kind in ("func", "macro")}
    memo: dict[str, bool] = {}

    def reaches(body: str, seen: frozenset[str]) -> bool:
        if re.search(marker, body):
            return True
        for name in set(re.findall(r"\b\w+\b", body)) & set(helpers) - seen:
            if name not in memo:
                memo[name] = reaches(helpers[name], seen | {name})
            if memo[name]:
                return True
        return False

    text = (GUEST_CHECKS_DIR / program).read_text()

    def name(fixture: str, test: str) -> str:
        varies = re.search(rf"\b(FIXTURE_VARIANT|FIXTURE_VARIANT_ADD|\w+_VARIANTS)\(\s*{fixture}\b",
                           text)
        return f"{fixture}.X.{test}" if varies else f"{fixture}.{test}"

    tests = [(fixture, test) for kind, fixture, test, _ in mine if kind.startswith("TEST_F")]
    found: set[str] = set()
    for kind, first, test, body in mine:
        if kind == "func" or kind == "macro" or not reaches(body, frozenset()):
            continue
        if kind == "TEST":
            found.add(f"global.{first}")
        elif kind.startswith("TEST_F"):
            found.add(name(first, test))
        else:  # a fixture's setup or teardown: each of its checks
            found |= {name(first, t) for f, t in tests if f == first}
    return found


@pytest.mark.parametrize("option, fragment, marker", [
    # The proof that no child was made (common.h), and lifetime.c's own reading.
    ("CONFIG_PROC_CHILDREN", "spawn-template",
     r"st_child_evidence|st_child_count|first_child_of|/children|children="),
    # NOCHILD_BEGIN(): a fresh pid namespace proves that no pid was used.
    ("CONFIG_PID_NS", "base", r"st_watch_children\(1\)|NOCHILD_BEGIN"),
])
def test_every_check_that_reaches_what_an_option_gives_needs_it(
        option: str, fragment: str, marker: str) -> None:
    need = needs(kconfig.load_fragments([fragment]))[option]
    for program in sorted(p.name for p in GUEST_CHECKS_DIR.glob("*.c")):
        if program.startswith(("helper_", "bench_")):
            continue
        missed = sorted(c for c in checks_reaching(program, marker)
                        if not need.needed_by(program, c))
        assert missed == [], f"{fragment}.config: {option} is not said to be needed by {missed}"


def test_the_reader_finds_what_calls_the_proof_through_helpers() -> None:
    # exec_regress.c: nproc_spawn() calls it, for exec_nproc's runner only.
    found = checks_reaching("exec_regress.c", r"st_child_evidence")
    assert found == {"exec_nproc.X.over_limit_then_below", "exec_nproc.X.fork_passes_exec_refused"}
