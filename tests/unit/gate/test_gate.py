"""The gate's report and verdict rules, on recorded outcomes (no VM, no build)."""

from pathlib import Path

import pytest

from vm.errors import SeriesError
from vm.gate import cli
from vm.gate.compare import compare, duration_moved
from vm.gate.first_bad import FirstBad, Probe, bisect
from vm.gate.guest_runs import selection
from vm.gate.report import GateResult, PatchRow, decide, load, write
from vm.kernel import patchcheck
from vm.kernel.derive import derive
from vm.kernel.patchcheck import Checkpatch
from vm.paths import REPO_ROOT
from vm.results.outcomes import Outcome, Status, node_id, not_yet_present, read_junit
from vm.results.status import ExitStatus

from ..conftest import DATA

V2 = REPO_ROOT / "patches" / "spawn-template" / "v2"

PASS = Outcome(Status.PASSED, 1.0, "")
FAIL = Outcome(Status.FAILED, 1.0, "abi_create.c:200:reserved:Expected EINVAL")
ENOSYS = Outcome(Status.SKIPPED, 0.1, "ENOSYS: spawn_template syscalls not in this kernel")


def fake_probe(first_bad: dict[str, int], present_from: int, calls: list[int]) -> Probe:
    def probe(k: int, checks: list[str]) -> dict[str, Outcome]:
        calls.append(k)
        return {c: (ENOSYS if k < present_from else FAIL if k >= first_bad[c] else PASS)
                for c in checks}
    return probe


@pytest.mark.parametrize("bad", range(1, 9))
def test_bisection_names_the_first_bad_patch_in_at_most_three_probes(bad: int) -> None:
    calls: list[int] = []
    found, probed = bisect({"c": FAIL}, 8, fake_probe({"c": bad}, 1, calls))
    assert [f.patch for f in found] == [bad]
    assert probed == calls and len(calls) <= 3


def test_bisection_counts_an_enosys_skip_as_not_yet_present() -> None:
    calls: list[int] = []
    found, _ = bisect({"c": FAIL}, 8, fake_probe({"c": 4}, 4, calls))
    assert found[0].patch == 4
    assert found[0].before == "not yet present (ENOSYS skip)"
    assert found[0].failure == FAIL.message


def test_checks_with_the_same_first_bad_patch_share_their_probes() -> None:
    calls: list[int] = []
    found, _ = bisect({"a": FAIL, "b": FAIL}, 8, fake_probe({"a": 5, "b": 5}, 4, calls))
    assert {f.patch for f in found} == {5}
    assert len(calls) == 3


def test_a_check_failing_only_on_the_whole_series_needs_probes_but_no_failing_one() -> None:
    calls: list[int] = []
    found, _ = bisect({"c": FAIL}, 8, fake_probe({"c": 8}, 1, calls))
    assert found[0].patch == 8 and found[0].before == "passed"


def test_compare_sorts_every_check_into_its_kind() -> None:
    before = {"reg": PASS, "fix": FAIL, "still": FAIL, "gone": PASS, "skip": PASS}
    now = {"reg": FAIL, "fix": PASS, "still": FAIL, "new": FAIL, "skip": ENOSYS}
    d = compare(now, before)
    assert d.regressed == ["reg"] and d.fixed == ["fix"] and d.still_failing == ["still"]
    assert d.new == ["new"] and d.new_failing == ["new"] and d.removed == ["gone"]
    assert d.newly_skipped == ["skip"]


def test_durations_within_the_noise_are_not_flagged() -> None:
    assert duration_moved(1.0, 2.5) == 0  # 2.5x, but 1.5 s
    assert duration_moved(10.0, 15.0) == 0  # 5 s, but 1.5x
    assert duration_moved(10.0, 25.0) == 1
    assert duration_moved(25.0, 10.0) == -1


def row(k: int, **kw: object) -> PatchRow:
    r = PatchRow(number=k, label=f"{k:04d}-p.patch", subject=f"p{k}", builds=True)
    for key, value in kw.items():
        setattr(r, key, value)
    return r


def result(rows: list[PatchRow], guest: dict[str, Outcome]) -> GateResult:
    return GateResult(series="s v2", series_key="k", kernel="6.12.117 from x",
                      fragments=["base"], rows=rows, guest=guest)


def verdict(r: GateResult, strict: bool) -> ExitStatus:
    decide(r, strict)
    return r.status


def test_no_baseline_any_failing_check_fails_the_gate() -> None:
    r = result([row(1)], {"a": PASS, "b": FAIL})
    decide(r, strict=False)
    assert r.status is ExitStatus.FAILED and "no baseline" in r.reasons[0]


def test_a_revision_that_fixes_and_breaks_nothing_passes() -> None:
    r = result([row(1)], {"a": PASS, "b": PASS, "c": FAIL})
    r.diff = compare(r.guest, {"a": PASS, "b": FAIL, "c": FAIL})
    assert verdict(r, strict=False) is ExitStatus.OK and r.diff.fixed == ["b"]
    assert verdict(r, strict=True) is ExitStatus.FAILED and "still fail" in r.reasons[0]


def test_a_regression_fails_the_gate() -> None:
    r = result([row(1)], {"a": FAIL})
    r.diff = compare(r.guest, {"a": PASS})
    decide(r, strict=False)
    assert r.status is ExitStatus.FAILED and "regressed" in r.reasons[0]


def test_a_new_failing_check_or_a_newly_skipped_one_fails_the_gate() -> None:
    r = result([row(1)], {"a": PASS, "new": FAIL})
    r.diff = compare(r.guest, {"a": PASS})
    assert verdict(r, strict=False) is ExitStatus.FAILED
    assert r.reasons == ["1 guest check(s) new and failing"]
    r = result([row(1)], {"a": PASS, "skip": ENOSYS})
    r.diff = compare(r.guest, {"a": PASS, "skip": PASS})
    assert verdict(r, strict=False) is ExitStatus.FAILED
    assert r.reasons == ["1 guest check(s) passed on the baseline, skipped now"]


def test_a_patch_that_does_not_build_is_its_own_status() -> None:
    r = result([row(1), row(2, builds=False, problem="error: x")], {})
    decide(r, strict=False)
    assert r.status is ExitStatus.REVISION_BROKEN and "patch 2" in r.reasons[0]
    r = result([row(1, applies=False, builds=None)], {})
    decide(r, strict=False)
    assert r.status is ExitStatus.REVISION_BROKEN and "does not apply" in r.reasons[0]


def test_only_new_checkpatch_errors_and_new_warnings_fail() -> None:
    old = row(1, checkpatch=Checkpatch(errors=("E: old",)), checkpatch_new_errors=[])
    r = result([old], {"a": PASS})
    assert verdict(r, strict=False) is ExitStatus.OK
    assert verdict(r, strict=True) is ExitStatus.FAILED
    r = result([row(1, w1_new=["fs/x.c: warning: w"])], {"a": PASS})
    decide(r, strict=False)
    assert r.status is ExitStatus.FAILED and "W=1" in r.reasons[0]
    r = result([row(1, uapi_headers=["linux/x.h"], uapi_errors=["c: e"])], {"a": PASS})
    decide(r, strict=False)
    assert r.status is ExitStatus.FAILED


def test_the_json_report_reads_back_as_a_baseline(tmp_path: Path) -> None:
    r = result([row(1, checkpatch=Checkpatch(warnings=("W: x",)))], {"a": PASS, "b": FAIL})
    r.diff = compare(r.guest, {"a": PASS, "b": PASS})
    decide(r, strict=False)
    write(r, tmp_path)
    back = load(tmp_path / "gate.json")
    assert back.guest == r.guest and back.rows[0].checkpatch == r.rows[0].checkpatch
    md = (tmp_path / "gate.md").read_text()
    assert "FAIL" in md and "Regressed (1)" in md and "`b`" in md


def test_junit_names_are_the_pytest_node_ids() -> None:
    assert node_id("tests.guest.abi_create.c", "global.x") == "tests/guest/abi_create.c::global.x"
    # A selftest program is an item of its target's folder: the id runs it again.
    assert node_id("tests.kselftest.exec", "execveat") == "tests/kselftest/exec::execveat"
    assert node_id("tests.kselftest.exec", "binfmt_script.py") == \
        "tests/kselftest/exec::binfmt_script.py"
    assert node_id("tests.kselftest.filesystems.binderfs", "binderfs_test") == \
        "tests/kselftest/filesystems/binderfs::binderfs_test"
    assert node_id("tests.harness.test_x", "t") == "tests/harness/test_x.py::t"
    outcomes = read_junit(DATA / "gate-junit.xml")
    assert outcomes["tests/guest/abi_create.c::global.reserved"].status is Status.FAILED
    assert "EINVAL" in outcomes["tests/guest/abi_create.c::global.reserved"].message
    assert not_yet_present(outcomes["tests/guest/abi_spawn.c::global.x"])
    assert outcomes["tests/guest/smoke.c::global.runs"].status is Status.PASSED


def test_patch_subjects_match_across_revisions() -> None:
    text = "From x\nSubject: [PATCH v2 3/8] x86/syscalls: wire up\n spawn_template\n\nbody\n"
    assert patchcheck.subject(text) == "x86/syscalls: wire up spawn_template"
    assert patchcheck.touched_files("diff --git a/a.c b/a.c\ndiff --git a/b.h b/c.h\n") == \
        ["a.c", "c.h"]


def test_findings_compare_without_line_numbers_or_trees() -> None:
    out = "/t/fs/x.c:12:3: warning: unused variable 'i' [-Wunused-variable]\n  CC fs/x.o\n"
    assert patchcheck.compiler_warnings(out, [Path("/t")]) == \
        ["fs/x.c: warning: unused variable 'i' [-Wunused-variable]"]
    # The same lines as they are (vm.mutate's message), on one file or all.
    two = out + "/t/fs/y.c:1:1: warning: w\n"
    assert patchcheck.warning_lines(two, "fs/x.c") == \
        ["/t/fs/x.c:12:3: warning: unused variable 'i' [-Wunused-variable]"]
    assert patchcheck.warning_lines(two) == [*patchcheck.warning_lines(two, "fs/x.c"),
                                             "/t/fs/y.c:1:1: warning: w"]
    assert patchcheck.new_findings(["a", "b"], ["a", "b", "b", "c"]) == ["b", "c"]


def test_a_uapi_header_is_compiled_alone_as_c90_and_cxx(tmp_path: Path) -> None:
    (tmp_path / "linux").mkdir()
    (tmp_path / "linux" / "good.h").write_text("struct good { int a; };\n")
    (tmp_path / "linux" / "bad.h").write_text("static inline int f(void) { return g(); }\n")
    assert patchcheck.compile_uapi(tmp_path, "linux/good.h") == []
    assert patchcheck.compile_uapi(tmp_path, "linux/bad.h")


def test_bad_input_is_a_usage_error_before_any_build(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["--series", str(empty), "--results-dir", str(tmp_path)]) == 4
    assert cli.main(["--baseline", str(tmp_path / "nowhere"),
                     "--results-dir", str(tmp_path)]) == 4
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "gate.json").write_text("{}")
    assert cli.main(["--baseline", str(tmp_path / "broken"), "--results-dir",
                     str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert "no *.patch" in err and "nowhere" in err and "schema" in err
    assert not list(tmp_path.glob("gate-*"))


def test_a_baseline_for_another_kernel_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "0001-x.patch").write_text((V2 / "0003-x86-syscalls-wire-up-spawn_template_create"
                                         "-and-spawn.patch").read_text())
    (other / "series.yaml").write_text("name: s\nrevision: v0\nbase: ['6.6']\n"
                                       "description: d\n")
    from vm.kernel import series
    with pytest.raises(cli.UsageError, match="not the same base kernel"):
        cli._check_bases(series.load(str(V2)), cli.Baseline(str(other)), "6.12.117 x")


def test_a_derived_revision_edits_one_patch_and_keeps_its_hunks(tmp_path: Path) -> None:
    old = "+\t\tif (args.reserved[i])\n"
    new = "+\t\tif (i && args.reserved[i])\n"
    edited = derive(V2, tmp_path / "broken", 4, old, new, "v2-broken")
    assert new in edited.read_text() and edited.name.startswith("0004-")
    assert "revision: v2-broken" in (tmp_path / "broken" / "series.yaml").read_text()
    with pytest.raises(SeriesError, match="not once"):
        derive(V2, tmp_path / "again", 8, old, new, "x")


def test_the_recorded_v2_gate_passes_and_lists_what_v2_fixed() -> None:
    """gate.json of `vm.gate --series v2 --baseline v1` (docs/gate.md): read
    back, the rules give the same verdict, and a revision that breaks one
    of v2's passing checks fails against it."""
    v2 = load(DATA / "gate-v2-vs-v1.json")
    assert len(v2.rows) == 8 and all(r.builds for r in v2.rows)
    assert not v2.failing and len(v2.guest) == 293
    check = "tests/guest/precedence.c::create.eacces_etxtbsy_rdwr_execfd." \
            "refused_with_the_first_error"
    assert v2.guest[check].status is Status.PASSED
    broken = dict(v2.guest)
    broken[check] = FAIL
    r = result(v2.rows, broken)
    r.diff = compare(broken, v2.guest)
    assert verdict(r, strict=False) is ExitStatus.FAILED and r.diff.regressed == [check]


def test_the_first_bad_patch_is_reported_with_the_failure_not_the_preamble(
        tmp_path: Path) -> None:
    r = result([row(k) for k in range(1, 5)], {"c": FAIL})
    text = "TAP version 13\n1..1\n# Starting 1 tests from 1 test cases.\n" \
           "#  RUN           global.reserved ...\n# abi_create.c:198:reserved:Expected -1"
    r.first_bad = [FirstBad("c", 4, text, "not yet present (ENOSYS skip)")]
    decide(r, strict=False)
    write(r, tmp_path)
    md = (tmp_path / "gate.md").read_text()
    assert "first fails with patch 0004-p.patch; not yet present (ENOSYS skip) at 0003" in md
    assert "abi_create.c:198" in md and "TAP version" not in md


def test_a_run_results_folder_is_a_baseline_of_its_checks(tmp_path: Path) -> None:
    run = tmp_path / "20261130-120000"
    run.mkdir()
    (run / "junit.xml").write_text((DATA / "gate-junit.xml").read_text())
    (run / "summary.json").write_text('{"kernel": "6.6.63 from /usr/src/x.tar.xz"}')
    base = cli.Baseline(str(run))
    assert base.junit == run / "junit.xml" and base.series is None
    from vm.kernel import series
    with pytest.raises(cli.UsageError, match=r"ran on 6\.6\.63"):
        cli._check_bases(series.load(str(V2)), base, "6.12.117 from y")
    cli._check_bases(series.load(str(V2)), base, "6.6.63 from y")


def test_a_probe_selects_selftest_programs_by_their_folder_and_only() -> None:
    assert selection(None) == ["tests/guest", "tests/kselftest"]
    assert selection(["tests/guest/a.c::x"]) == ["tests/guest/a.c::x"]
    assert selection([]) == selection(None)
    assert selection(["tests/guest/a.c::x", "tests/kselftest/exec::execveat"]) == [
        "tests/guest/a.c", "tests/kselftest", "--kselftest", "exec",
        "--only", "tests/guest/a.c::x", "--only", "tests/kselftest/exec::execveat"]
