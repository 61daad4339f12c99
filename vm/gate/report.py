"""What a gate found, its verdict, and its two reports: gate.md and gate.json.

gate.md is what a maintainer pastes as a reply to the series; gate.json
holds the same, for a CI (schema: docs/gate.md). A later gate reads a
gate.json back as its baseline (load()).
"""

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vm.errors import HarnessError
from vm.gate import bench_report
from vm.gate.bench_report import BenchReport
from vm.gate.compare import CheckDiff
from vm.gate.first_bad import FirstBad
from vm.kernel.patchcheck import Checkpatch
from vm.results.outcomes import Outcome, Status
from vm.results.status import ExitStatus

SCHEMA = "spawn-template-gate/1"


@dataclass
class PatchRow:
    number: int
    label: str
    subject: str
    applies: bool = True
    builds: bool | None = None  # None: not tried, an earlier patch failed
    problem: str = ""  # why it does not apply or build
    build_seconds: float = 0.0
    checkpatch: Checkpatch = field(default_factory=Checkpatch)
    w1_objects: list[str] = field(default_factory=list)
    w1_new: list[str] = field(default_factory=list)
    kdoc_new: list[str] = field(default_factory=list)
    uapi_headers: list[str] = field(default_factory=list)
    uapi_errors: list[str] = field(default_factory=list)
    # Against the baseline's patch with the same subject, when there is one.
    baseline_patch: str = ""
    baseline_counts: dict[str, int] = field(default_factory=dict)
    checkpatch_new_errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"errors": len(self.checkpatch.errors),
                "warnings": len(self.checkpatch.warnings),
                "checks": len(self.checkpatch.checks),
                "w1_new": len(self.w1_new), "kdoc_new": len(self.kdoc_new)}


@dataclass
class GateResult:
    series: str  # title, "spawn-template v2"
    series_key: str
    kernel: str  # version and source
    fragments: list[str]
    baseline: str = ""  # what the baseline was, as given
    rows: list[PatchRow] = field(default_factory=list)
    guest: dict[str, Outcome] = field(default_factory=dict)
    guest_run: str = ""  # results folder of the guest run on the whole series
    baseline_guest_run: str = ""
    first_bad: list[FirstBad] = field(default_factory=list)
    probes: list[int] = field(default_factory=list)
    diff: CheckDiff | None = None
    status: ExitStatus = ExitStatus.OK
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # said, not failing (but --strict)
    seconds: dict[str, float] = field(default_factory=dict)
    bench: BenchReport | None = None  # --bench

    @property
    def failing(self) -> list[str]:
        return sorted(c for c, o in self.guest.items() if o.status.failing)


def decide(result: GateResult, strict: bool) -> None:
    """The verdict rules (docs/gate.md), into result.status and .reasons."""
    reasons: list[str] = []
    broken = False
    for row in result.rows:
        name = f"patch {row.number} ({row.label})"
        if not row.applies or row.builds is False:
            broken = True
            reasons.append(f"{name} does not {'apply' if not row.applies else 'build'}")
            continue
        errors = row.checkpatch.errors if strict else row.checkpatch_new_errors
        if errors:
            reasons.append(f"{name}: {len(errors)} {'' if strict else 'new '}checkpatch error(s)")
        if row.w1_new:
            reasons.append(f"{name}: {len(row.w1_new)} new W=1 warning(s)")
        if row.uapi_errors:
            reasons.append(f"{name}: a UAPI header does not compile on its own")
        if strict and row.kdoc_new:
            reasons.append(f"{name}: {len(row.kdoc_new)} new kernel-doc warning(s)")
    if result.diff is None:
        if result.failing:
            reasons.append(f"{len(result.failing)} guest check(s) fail (no baseline)")
    else:
        d = result.diff
        for what, checks in (("regressed", d.regressed), ("new and failing", d.new_failing),
                             ("passed on the baseline, skipped now", d.newly_skipped)):
            if checks:
                reasons.append(f"{len(checks)} guest check(s) {what}")
        if strict and d.still_failing:
            reasons.append(f"{len(d.still_failing)} guest check(s) still fail (--strict)")
    # The benchmark's findings are statistics: said, failing only --strict.
    bench = [] if result.bench is None else bench_report.concerns(result.bench)
    notes = [] if result.bench is None else bench_report.notes(result.bench)
    result.warnings = notes + ([] if strict else bench)
    reasons += [f"{c} (--strict)" for c in bench] if strict else []
    result.reasons = reasons
    if broken:
        result.status = ExitStatus.REVISION_BROKEN
    else:
        result.status = ExitStatus.FAILED if reasons else ExitStatus.OK


def _plain(value: object) -> object:
    if isinstance(value, (Status, ExitStatus)):
        return value.name.lower() if isinstance(value, ExitStatus) else value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(result: GateResult) -> dict[str, object]:
    data = _plain(asdict(result))
    assert isinstance(data, dict)
    data["schema"] = SCHEMA
    data["exit_status"] = int(result.status)
    data["failing"] = result.failing
    for row, plain in zip(result.rows, data["rows"], strict=True):
        plain["counts"] = row.counts
    return data


def write(result: GateResult, run_dir: Path) -> None:
    (run_dir / "gate.json").write_text(json.dumps(to_json(result), indent=1) + "\n")
    (run_dir / "gate.md").write_text(to_markdown(result))


def load(path: Path) -> GateResult:
    """A previous gate's gate.json, as a baseline."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise HarnessError(f"{path}: cannot read a gate report: {e}") from e
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HarnessError(f"{path}: not a gate report of schema {SCHEMA}")
    rows = []
    for r in data["rows"]:
        r = dict(r)
        r.pop("counts", None)
        r["checkpatch"] = Checkpatch(**{k: tuple(v) for k, v in r["checkpatch"].items()})
        rows.append(PatchRow(**r))
    # Gates before selftest programs had their own ids named them as files.
    guest = {re.sub(r"^(tests/kselftest/[^:]+)\.py::", r"\1::", k):
             Outcome(Status(v["status"]), v["seconds"], v["message"])
             for k, v in data["guest"].items()}
    return GateResult(series=data["series"], series_key=data["series_key"],
                      kernel=data["kernel"], fragments=data["fragments"], rows=rows,
                      guest=guest, guest_run=data["guest_run"])


def _row_line(row: PatchRow) -> str:
    if not row.applies:
        return f"| {row.number} | {row.subject} | does not apply | | | | |"
    if row.builds is False:
        return f"| {row.number} | {row.subject} | applies | **does not build** | | | |"
    cp = row.checkpatch
    base = row.baseline_counts
    was = (f" (was {base['errors']}/{base['warnings']}/{base['checks']})"
           if base else " (new patch)" if not row.baseline_patch else "")
    uapi = ("-" if not row.uapi_headers else
            "**fails**" if row.uapi_errors else "ok")
    return (f"| {row.number} | {row.subject} | builds ({row.build_seconds:.0f} s) | "
            f"{len(cp.errors)}/{len(cp.warnings)}/{len(cp.checks)}{was} | "
            f"{len(row.w1_new)} new on {len(row.w1_objects)} object(s) | "
            f"{len(row.kdoc_new)} new | {uapi} |")


def _listing(title: str, items: list[str], code: bool = True) -> list[str]:
    """A Markdown list; each item in backticks unless it has its own."""
    if not items:
        return []
    return [f"{title} ({len(items)}):", "", *(f"- `{i}`" if code else f"- {i}" for i in items),
            ""]


# The harness's preamble of a check's output: not what went wrong.
_PREAMBLE = re.compile(r"^(TAP version|1\.\.\d|# Starting \d|#\s+RUN\s)")


def _failure_lines(text: str, limit: int = 6) -> list[str]:
    return [line for line in text.splitlines() if not _PREAMBLE.match(line)][:limit]


def to_markdown(result: GateResult) -> str:
    verdict = "PASS" if result.status is ExitStatus.OK else "FAIL"
    out = [f"# Gate: {result.series}: {verdict}", "",
           f"Kernel {result.kernel}; fragments {', '.join(result.fragments)}; "
           f"baseline {result.baseline or 'none'}.", ""]
    out += [*(f"- {r}" for r in result.reasons), ""] if result.reasons else []
    out += [*(f"- warning: {w}" for w in result.warnings), ""] if result.warnings else []
    out += ["## Per patch", "",
            "| # | patch | build | checkpatch E/W/C | W=1 | kernel-doc | UAPI alone |",
            "|---|---|---|---|---|---|---|", *map(_row_line, result.rows), ""]
    for row in result.rows:
        details = [*(f"checkpatch ERROR {e}" for e in row.checkpatch_new_errors),
                   *(f"W=1 {w}" for w in row.w1_new), *(f"kernel-doc {w}" for w in row.kdoc_new),
                   *(f"UAPI {e}" for e in row.uapi_errors)]
        if row.problem:
            details.insert(0, row.problem)
        if details:
            out += [f"Patch {row.number}:", "", "```", *details, "```", ""]
    out += ["## Guest checks on the whole series", ""]
    if not result.guest:
        out += ["Not run: the series did not apply or build.", ""]
    else:
        counts: dict[str, int] = {}
        for o in result.guest.values():
            counts[o.status.value] = counts.get(o.status.value, 0) + 1
        out += [", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                + f" (results: {result.guest_run})", ""]
    if result.first_bad:
        out += ["## First bad patch", ""]
        for fb in result.first_bad:
            label = result.rows[fb.patch - 1].label if fb.patch <= len(result.rows) else "?"
            before = f"{fb.before} at {fb.patch - 1:04d}" if fb.patch > 1 else fb.before
            out += [f"- `{fb.check}`: first fails with patch {label}; {before}", "",
                    "  ```", *(f"  {line}" for line in _failure_lines(fb.failure)), "  ```", ""]
        out += [f"Prefixes built and booted for this: {result.probes or 'none'}", ""]
    if result.diff is not None:
        d = result.diff
        out += ["## Against the baseline", ""]
        out += _listing("Regressed", d.regressed)
        out += _listing("New and failing", d.new_failing)
        out += _listing("Passed on the baseline, skipped now", d.newly_skipped)
        out += _listing("Fixed", d.fixed)
        out += _listing("Still failing", d.still_failing)
        out += [f"New checks: {len(d.new)}; removed: {len(d.removed)}.", ""]
        moved = [f"`{c}`: {a:.1f} s -> {b:.1f} s" for c, a, b in d.slower + d.faster]
        out += (_listing("Durations beyond the noise", moved, code=False)
                or ["No duration moved beyond the noise.", ""])
    if result.bench is not None:
        out += bench_report.to_markdown(result.bench)
    out += ["Timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items()), ""]
    return "\n".join(out)
