"""The spawn benchmark's part of a gate (`vm.gate --bench`): the revision's
run against the baseline's, as gate.json and gate.md hold it.

B is the revision, A the baseline, flagged on the normalized B/A (each
method's ratio to posix_spawn, the machine's drift divided out), as
docs/benchmarks.md recommends for runs that are not back to back on an
idle machine. What it finds is a warning, not a rule of the verdict:
one of some 70 intervals misses by chance, and a noisy point can clear
the threshold; `--strict` makes the warnings fail the gate.
"""

from dataclasses import dataclass, field

from vm.bench.spawn import compare, stats
from vm.bench.spawn.data import RunResult
from vm.bench.spawn.points import REFERENCE

FLAG_ON = compare.NORMALIZED


def _triple(r: stats.Ratio | None) -> list[float] | None:
    return None if r is None else [round(r.value, 4), round(r.ci.low, 4), round(r.ci.high, 4)]


@dataclass
class BenchRow:
    point: str  # Point.key
    method: str
    flag: str  # compare's flag of the normalized B/A
    normalized: list[float] | None = None  # [B/A, low, high] of the ratio to posix_spawn
    absolute: list[float] | None = None  # [B/A, low, high] of the medians
    why: str = ""  # when not compared


@dataclass
class BenchReport:
    revision: str  # the revision's spawnbench.json, in the gate's folder
    revision_run: str = ""  # the results folder of its `vm.spawnbench run`
    baseline: str = ""  # the baseline's spawnbench.json; "": none
    baseline_from: str = ""  # "run", "cache" or "results folder"
    note: str = ""  # why nothing was compared
    error: str = ""  # the benchmark could not run (the runner's trouble)
    threshold: float = compare.DEFAULT_THRESHOLD
    flag_on: str = FLAG_ON
    rows: list[BenchRow] = field(default_factory=list)
    only_in_revision: list[str] = field(default_factory=list)  # point keys
    only_in_baseline: list[str] = field(default_factory=list)
    environment_mismatches: list[str] = field(default_factory=list)
    reference_overlap: list[int] = field(default_factory=list)  # [overlapping, compared]
    failed_points: list[str] = field(default_factory=list)  # "revision: KEY: why"

    @property
    def slowdowns(self) -> list[BenchRow]:
        return [r for r in self.rows if r.flag == compare.SLOWDOWN]


def _sides(why: str) -> str:
    """compare's "A: unavailable (ENOSYS)" in the gate's words."""
    for side, name in (("A: ", "baseline: "), ("B: ", "revision: ")):
        if why.startswith(side):
            return name + why[len(side):]
    return why


def failed_points(run: RunResult, which: str) -> list[str]:
    return [f"{which}: {r.point.key}: {r.error.splitlines()[0][:200]}"
            for r in run.points if r.error]


def from_comparison(c: compare.Comparison, revision: str, baseline: str,
                    baseline_from: str) -> BenchReport:
    """A report of c (A: the baseline, B: the revision)."""
    rows = [BenchRow(r.point.key, r.method, r.flag, _triple(r.normalized), _triple(r.ratio),
                     _sides(r.why)) for r in c.rows]
    return BenchReport(
        revision=revision, baseline=baseline, baseline_from=baseline_from,
        threshold=c.threshold, flag_on=c.flag_on, rows=rows,
        only_in_revision=[p.key for p in c.only_in_b],
        only_in_baseline=[p.key for p in c.only_in_a],
        environment_mismatches=c.environment_mismatches(),
        reference_overlap=list(c.overlap_counts()),
        failed_points=failed_points(c.b, "revision") + failed_points(c.a, "baseline"))


def notes(report: BenchReport) -> list[str]:
    """Warnings that never fail the gate, not even --strict: slowdowns
    that are not counted because the two runs are not comparable."""
    if report.slowdowns and report.environment_mismatches:
        # Another machine's figures, or a busy host's: a ratio is no evidence.
        return [f"spawn benchmark: {len(report.slowdowns)} slowdown(s) not counted, the "
                "runs are not comparable: " + "; ".join(report.environment_mismatches)]
    return []


def concerns(report: BenchReport) -> list[str]:
    """What --strict fails on: a benchmark that did not run, slowdowns
    beyond the threshold between comparable runs, and points of the
    revision's run that failed (a kernel report, a crash)."""
    out = []
    if report.error:
        out.append(f"spawn benchmark did not run: {report.error.splitlines()[0]}")
    if report.slowdowns and not report.environment_mismatches:
        methods = sorted({r.method for r in report.slowdowns})
        out.append(f"spawn benchmark: {len(report.slowdowns)} slowdown(s) beyond "
                   f"{100 * report.threshold:.0f}% ({report.flag_on}) against the baseline: "
                   f"{', '.join(methods)}")
    failed = [f for f in report.failed_points if f.startswith("revision:")]
    if failed:
        out.append(f"spawn benchmark: {len(failed)} point(s) of the revision's run failed")
    return out


def _cell(row: BenchRow) -> str:
    if row.normalized is None:
        return row.why or "-"
    if row.flag == stats.NO_DIFFERENCE:
        return "="
    value, low, high = row.normalized
    text = f"x{value:.3f} [{low:.3f}, {high:.3f}] {row.flag}"
    return f"**{text}**" if row.flag == compare.SLOWDOWN else text


def to_markdown(report: BenchReport) -> list[str]:
    """gate.md's section: the normalized B/A, one line per point, one
    column per method (the full tables: bench/compare.md)."""
    out = ["## Spawn benchmark against the baseline", ""]
    if report.error:
        return [*out, "The benchmark did not run (the verdict above is the checks'):", "",
                *("    " + line for line in report.error.splitlines()), ""]
    out.append(f"Revision: `{report.revision}`"
               + (f" (run: {report.revision_run})" if report.revision_run else "") + "; "
               + (f"baseline: `{report.baseline}` ({report.baseline_from})."
                  if report.baseline else "no baseline result."))
    out.append("")
    if report.note:
        out += [f"Not compared: {report.note}.", ""]
    out += [f"- {f}" for f in report.failed_points]
    out += [f"- **environments differ**: {m}" for m in report.environment_mismatches]
    for which, keys in (("the revision", report.only_in_revision),
                        ("the baseline", report.only_in_baseline)):
        if keys:
            out.append(f"- measured in {which} only, not compared: {'; '.join(keys)}")
    if not report.rows:
        return out + ([""] if out[-1] else [])
    overlapping, compared = report.reference_overlap or [0, 0]
    out += [f"- slowdowns flagged: {len(report.slowdowns)} (95% interval of the "
            f"{report.flag_on} revision / baseline wholly above {1 + report.threshold:.3f})",
            f"- ratios to {REFERENCE}: {overlapping} of {compared} intervals of the revision "
            "overlap the baseline's", ""]
    methods = list(dict.fromkeys(r.method for r in report.rows if r.method != REFERENCE))
    out += [f"Revision / baseline of each method's ratio to {REFERENCE}, median and 95% "
            "interval; `=`: no measurable difference (the interval holds 1.0).", "",
            "| point | " + " | ".join(methods) + " |",
            "|---|" + "---|" * len(methods)]
    by_point: dict[str, dict[str, BenchRow]] = {}
    for r in report.rows:
        by_point.setdefault(r.point, {})[r.method] = r
    for point, cells in by_point.items():
        out.append(f"| {point} | " + " | ".join(
            _cell(cells[m]) if m in cells else "-" for m in methods) + " |")
    return [*out, ""]
