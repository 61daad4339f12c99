"""vm.mutate without a kernel: mutants, their patches, verdicts and the report."""

import argparse
import json
import re
import subprocess
from pathlib import Path

import pytest

from vm.errors import BuildError, SeriesError
from vm.gate import guest_runs
from vm.kernel.series import has_diff
from vm.mutate import cli
from vm.mutate.mutants import Mutant, MutantError, load, load_dir, node_id
from vm.mutate.patch import mail, unified_diff
from vm.mutate.report import MutantResult, Verdict, by_rule, judge, to_markdown, write
from vm.paths import GUEST_CHECKS_DIR, PATCHES_DIR, REPO_ROOT
from vm.results.outcomes import Outcome, Status, read_junit
from vm.results.status import ExitStatus

V2 = PATCHES_DIR / "spawn-template" / "v2"
MUTANTS = PATCHES_DIR / "mutants" / "v2"
ST_FILE = "fs/spawn_template.c"


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], capture_output=True, text=True)


def mutant(old: str = "b\n", new: str = "B\n", file: str = "f.c") -> Mutant:
    return Mutant(name="m", rule="spawn(): a rule", trigger="t", file=file, why="a bug",
                  old=old, new=new, checks=())


def write_yaml(path: Path, **fields: object) -> Path:
    import yaml
    data = {"rule": "r", "trigger": "t", "file": "fs/x.c", "why": "w", "old": "a\n",
            "new": "b\n", **fields}
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}))
    return path


# ---- loading and validation ----

def test_every_v2_mutant_loads_with_a_rule_and_a_unique_name() -> None:
    mutants = load_dir(MUTANTS)
    assert len(mutants) >= 60
    assert len({m.name for m in mutants}) == len(mutants)
    for m in mutants:
        assert m.rule and m.why and m.trigger and m.file.startswith("fs/"), m.name
        assert m.checks, f"{m.name}: no checks to run first"


def _check_names(program: Path) -> set[str]:
    """fixture[.variant].test names a check program can have, from its source."""
    src = program.read_text()
    tests = re.findall(r"^TEST(?:_SIGNAL)?\((\w+)", src, re.M)
    fixtures: dict[str, list[str]] = {}
    for fixture, test in re.findall(r"^TEST_F(?:_TIMEOUT)?\((\w+),\s*(\w+)", src, re.M):
        fixtures.setdefault(fixture, []).append(test)
    variants: dict[str, set[str]] = {}
    for fixture, variant in re.findall(r"FIXTURE_VARIANT_ADD\((\w+),\s*(\w+)\)", src):
        variants.setdefault(fixture, set()).add(variant)
    # Variants made by a macro (common.h's ST_ORIGIN_VARIANTS(f), KEY_VARIANT(name, ...)).
    for fixture in re.findall(r"^ST_ORIGIN_VARIANTS\((\w+)\)", src, re.M):
        variants.setdefault(fixture, set()).update({"path", "execfd"})
    for macro, fixture in re.findall(r"#define (\w+)\(name[^)]*\)\s*\\\s*\n\s*"
                                     r"FIXTURE_VARIANT_ADD\((\w+), name\)", src):
        variants.setdefault(fixture, set()).update(
            re.findall(rf"^{macro}\((\w+)", src, re.M))
    names = {f"global.{t}" for t in tests}
    for fixture, fixture_tests in fixtures.items():
        for test in fixture_tests:
            for variant in variants.get(fixture, set()) or {""}:
                names.add(".".join(p for p in (fixture, variant, test) if p))
    return names


def test_every_check_hint_names_a_check_in_the_sources() -> None:
    known: dict[str, set[str]] = {}
    for m in load_dir(MUTANTS):
        for hint in m.checks:
            path, name = hint.split("::")
            program = REPO_ROOT / path
            assert program.is_file(), f"{m.name}: {hint}: no such program"
            names = known.setdefault(path, _check_names(program))
            assert name in names, f"{m.name}: {hint}: no such check in {path}"


def test_node_id_accepts_the_docs_form_and_node_ids() -> None:
    want = f"{GUEST_CHECKS_DIR.relative_to(REPO_ROOT)}/abi_create.c::global.size_zero"
    assert node_id("abi_create.global.size_zero") == want
    assert node_id("abi_create.c::global.size_zero") == want
    assert node_id(want) == want
    with pytest.raises(MutantError):
        node_id("not a check")


@pytest.mark.parametrize("fields, problem", [
    ({"rule": None}, "missing"),
    ({"colour": "red"}, "unknown keys"),
    ({"new": "a\n"}, "equal"),
    ({"checks": "abi_create.global.x"}, "list"),
])
def test_malformed_mutants_are_refused(tmp_path: Path, fields: dict[str, object],
                                       problem: str) -> None:
    with pytest.raises(MutantError, match=problem):
        load(write_yaml(tmp_path / "bad.yaml", **fields))


def test_only_selects_and_names_unknown_mutants(tmp_path: Path) -> None:
    write_yaml(tmp_path / "one.yaml")
    write_yaml(tmp_path / "two.yaml")
    assert [m.name for m in load_dir(tmp_path, ["two"])] == ["two"]
    with pytest.raises(MutantError, match="three"):
        load_dir(tmp_path, ["three"])


def test_edit_needs_exactly_one_occurrence() -> None:
    assert mutant().edit("a\nb\nc\n") == "a\nB\nc\n"
    with pytest.raises(MutantError, match="2 times"):
        mutant().edit("b\nb\n")
    with pytest.raises(MutantError, match="0 times"):
        mutant().edit("a\n")


# ---- the patch ----

def _apply_check(tmp_path: Path, path: str, content: str, patch: str) -> None:
    repo = tmp_path / "repo"
    (repo / Path(path).parent).mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(content)
    git(repo, "init", "-q")
    (tmp_path / "m.patch").write_text(patch)
    proc = git(repo, "apply", "--check", str(tmp_path / "m.patch"))
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "apply", str(tmp_path / "m.patch")).returncode == 0


def test_the_patch_applies_and_names_the_rule(tmp_path: Path) -> None:
    content = "".join(f"line {i}\n" for i in range(1, 30))
    m = mutant(old="line 14\n", new="line fourteen\nand more\n", file="fs/f.c")
    patch = mail(m, content)
    assert "Subject: [PATCH] MUTANT: m" in patch
    assert "Breaks: spawn(): a rule" in patch
    assert "diff --git a/fs/f.c b/fs/f.c" in patch
    _apply_check(tmp_path, "fs/f.c", content, patch)
    assert (tmp_path / "repo" / "fs/f.c").read_text() == m.edit(content)


def test_the_patch_keeps_a_missing_final_newline(tmp_path: Path) -> None:
    content = "a\nb\nc"
    patch = mail(mutant(old="c", new="C"), content)
    assert "\\ No newline at end of file" in patch
    _apply_check(tmp_path, "f.c", content, patch)
    assert (tmp_path / "repo" / "f.c").read_text() == "a\nb\nC"


def test_no_change_no_diff() -> None:
    assert unified_diff("f.c", "a\n", "a\n") == ""


@pytest.fixture(scope="module")
def spawn_template_c(tmp_path_factory: pytest.TempPathFactory) -> str:
    """fs/spawn_template.c as the whole v2 series leaves it (the series creates it)."""
    repo = tmp_path_factory.mktemp("v2")
    git(repo, "init", "-q")
    for patch in sorted(V2.glob("0*.patch")):
        if not has_diff(patch.read_text()):
            continue
        proc = git(repo, "apply", f"--include={ST_FILE}", str(patch))
        assert proc.returncode == 0, f"{patch.name}: {proc.stderr}"
    return (repo / ST_FILE).read_text()


def test_each_spawn_template_mutant_applies_once_on_v2(spawn_template_c: str,
                                                       tmp_path: Path) -> None:
    mutants = [m for m in load_dir(MUTANTS) if m.file == ST_FILE]
    assert mutants
    repo = tmp_path / "repo"
    (repo / "fs").mkdir(parents=True)
    (repo / ST_FILE).write_text(spawn_template_c)
    git(repo, "init", "-q")
    for m in mutants:
        patch = tmp_path / f"{m.name}.patch"
        patch.write_text(mail(m, spawn_template_c))  # raises unless 'old' occurs once
        proc = git(repo, "apply", "--check", str(patch))
        assert proc.returncode == 0, f"{m.name}: {proc.stderr}"


# ---- verdicts from recorded junit files ----

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>
"""


def junit(tmp_path: Path, *cases: tuple[str, str]) -> dict[str, Outcome]:
    body = []
    for name, status in cases:
        inner = {"passed": "", "failed": '<failure message="x.c:1: expected 22, got 0"/>',
                 "skipped": '<skipped message="ENOSYS"/>',
                 "error": '<error message="stale kernel"/>'}[status]
        body.append(f'<testcase classname="tests.guest.abi_create.c" name="{name}" '
                    f'time="1.0">{inner}</testcase>')
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT.format(cases="".join(body)))
    return read_junit(path)


def result() -> MutantResult:
    return MutantResult("m", "rule A", "t", Verdict.SURVIVED)


def test_first_failing_check_kills(tmp_path: Path) -> None:
    r = result()
    done = judge(r, junit(tmp_path, ("global.a", "passed"), ("global.b", "failed"),
                          ("global.c", "failed")))
    assert done and r.verdict is Verdict.KILLED
    assert r.check == "tests/guest/abi_create.c::global.b"
    assert "expected 22" in r.detail and r.checks_run == 3


def test_passes_and_skips_survive(tmp_path: Path) -> None:
    r = result()
    assert not judge(r, junit(tmp_path, ("global.a", "passed"), ("global.b", "skipped")))
    assert r.verdict is Verdict.SURVIVED
    assert r.skipped == ["tests/guest/abi_create.c::global.b"]


def test_a_harness_error_is_no_kill(tmp_path: Path) -> None:
    r = result()
    assert judge(r, junit(tmp_path, ("global.a", "error")))
    assert r.verdict is Verdict.ERROR


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"kconfig": [], "kernel_tree": None, "check_timeout": None,
                               "hints_only": False}
    return argparse.Namespace(**{**base, **kw})


def test_hinted_checks_run_first_then_the_rest(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str] | None, tuple[str, ...]]] = []
    recorded = [junit(tmp_path, ("global.size_zero", "passed")),
                {"tests/guest/actions.c::act.x": Outcome(Status.FAILED, 1.0, "boom")}]

    def fake_run(spec: str, kconfigs: list[str], tree: Path | None, results: Path,
                 checks: list[str] | None, log: Path, progress: object,
                 extra: tuple[str, ...] = ()) -> tuple[dict[str, Outcome], Path]:
        calls.append((checks, extra))
        return recorded[len(calls) - 1], tmp_path
    monkeypatch.setattr(guest_runs, "run", fake_run)
    m = Mutant("m", "r", "t", "fs/x.c", "w", "a", "b",
               checks=("tests/guest/abi_create.c::global.size_zero",))
    r = result()
    cli.run_checks(m, tmp_path, _args(), tmp_path, r)
    assert r.verdict is Verdict.KILLED and r.check == "tests/guest/actions.c::act.x"
    assert calls[0][0] == ["tests/guest/abi_create.c::global.size_zero"]
    assert "-x" in calls[0][1]
    programs, extra = calls[1]
    assert programs is not None and programs[0] == "tests/guest/abi_create.c"
    assert len(programs) == len(set(programs)) > 1
    assert "--deselect=tests/guest/abi_create.c::global.size_zero" in extra


@pytest.mark.parametrize("error, verdict", [
    (MutantError("old occurs 0 times"), Verdict.BROKEN),
    (SeriesError("patch does not apply"), Verdict.BROKEN),
    (BuildError("error: expected ';'"), Verdict.BROKEN),
])
def test_broken_mutants_are_not_kills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      error: Exception, verdict: Verdict) -> None:
    def fail(*args: object) -> Path:
        raise error
    monkeypatch.setattr(cli, "build_mutant", fail)
    m = load_dir(MUTANTS)[0]
    r = cli.run_mutant(m, None, _args(), None, tmp_path)  # type: ignore[arg-type]
    assert r.verdict is verdict and str(error) in r.detail


def test_compiler_warnings_on_the_mutated_file_only(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("  CC fs/exec.o\n/src/fs/exec.c:9:1: warning: unused\n"
                   "../fs/spawn_template.c:12:3: warning: unused variable 'x'\n")
    assert cli.warnings_on(log, ST_FILE) == [
        "../fs/spawn_template.c:12:3: warning: unused variable 'x'"]
    assert cli.warnings_on(tmp_path / "none.log", ST_FILE) == []


# ---- the report ----

def test_report_per_mutant_and_per_rule(tmp_path: Path) -> None:
    results = [
        MutantResult("a", "rule A", "t1", Verdict.KILLED, check="x.c::t", seconds=61),
        MutantResult("b", "rule A", "t2", Verdict.SURVIVED, skipped=["x.c::s"]),
        MutantResult("c", "rule B", "t", Verdict.BROKEN, detail="does not compile cleanly"),
    ]
    assert by_rule(results)["rule A"] == {"killed": 1, "survived": 1, "broken": 0, "error": 0}
    md = to_markdown(results, {"series": "v2"})
    assert "| `a` | killed | x.c::t | 61 |" in md
    assert "## Per contract rule" in md and "| rule B | 0 | 0 | 1 | 0 |" in md
    assert "`b` (survived; trigger: t2)" in md and "skipped: x.c::s" in md
    write(results, tmp_path, {"series": "v2"})
    data = json.loads((tmp_path / "mutants.json").read_text())
    assert [m["verdict"] for m in data["mutants"]] == ["killed", "survived", "broken"]
    assert (tmp_path / "mutants.md").read_text() == md


def test_exit_status() -> None:
    killed = MutantResult("a", "r", "t", Verdict.KILLED)
    assert cli.exit_status([killed]) is ExitStatus.OK
    assert cli.exit_status([killed, MutantResult("b", "r", "t", Verdict.BROKEN)]) \
        is ExitStatus.FAILED
    assert cli.exit_status([MutantResult("c", "r", "t", Verdict.ERROR)]) \
        is ExitStatus.INFRASTRUCTURE


def test_bad_usage_is_reported(tmp_path: Path) -> None:
    assert cli.main(["--mutants", str(tmp_path), "--results-dir", str(tmp_path)]) \
        == ExitStatus.USAGE
