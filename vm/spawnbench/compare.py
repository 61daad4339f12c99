"""Two runs compared (A, the base, and B, for example v1 and v2 of the
series): per point and method, the ratio B/A of the medians with its 95%
bootstrap interval, recomputed from both runs' samples.

A slowdown is flagged only when the whole interval lies above
1 + threshold (default 5%): slower beyond noise *and* by more than the
threshold. An interval that holds 1.0 is "no measurable difference".

It also says whether each method's ratio to posix_spawn in B overlaps the
same ratio in A: for two runs of one kernel every one should (the
repeatability check of docs/benchmarks.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vm.spawnbench import stats
from vm.spawnbench.data import RunResult
from vm.spawnbench.points import REFERENCE, Point, Sweep
from vm.spawnbench.table import environment_lines, us

DEFAULT_THRESHOLD = 0.05

SLOWDOWN = "SLOWDOWN"
SLOWER_WITHIN = "slower, within the threshold"
NOT_COMPARED = "not compared"

# Environment entries that should match for a comparison to mean something.
SAME_ENVIRONMENT = ("accelerator", "guest_cpus", "guest_memory", "host_cpu")


@dataclass(frozen=True)
class Row:
    point: Point
    method: str
    ratio: stats.Ratio | None  # B / A
    flag: str  # SLOWDOWN, SLOWER_WITHIN, stats.FASTER, stats.NO_DIFFERENCE, NOT_COMPARED
    why: str = ""  # when not compared
    median_a: float | None = None
    median_b: float | None = None
    reference_overlap: bool | None = None  # ratio-to-posix_spawn intervals overlap


def flag_of(r: stats.Ratio, threshold: float) -> str:
    if r.ci.low > 1.0 + threshold:
        return SLOWDOWN
    if r.ci.contains(1.0):
        return stats.NO_DIFFERENCE
    return stats.FASTER if r.ci.high < 1.0 else SLOWER_WITHIN


def _row(a: RunResult, b: RunResult, point: Point, method: str, threshold: float) -> Row:
    pa, pb = a.point(point), b.point(point)
    if pa is None or pb is None:
        return Row(point, method, None, NOT_COMPARED,
                   f"point not in {'A' if pa is None else 'B'}")
    ma, mb = pa.method(method), pb.method(method)
    sa, sb = ma.summary(), mb.summary()
    if sa is None or sb is None:
        which, m = ("A", ma) if sa is None else ("B", mb)
        return Row(point, method, None, NOT_COMPARED,
                   f"{which}: {m.status}" + (f" ({m.detail})" if m.detail else ""))
    r = stats.ratio(mb.samples, ma.samples)
    overlap = None
    ra, rb = pa.ratio(method), pb.ratio(method)
    if method != REFERENCE and ra is not None and rb is not None:
        overlap = ra.ci.overlaps(rb.ci)
    return Row(point, method, r, flag_of(r, threshold), "", sa.median, sb.median, overlap)


@dataclass(frozen=True)
class Comparison:
    a: RunResult
    b: RunResult
    threshold: float
    rows: list[Row]
    sweeps: list[Sweep]

    @property
    def slowdowns(self) -> list[Row]:
        return [r for r in self.rows if r.flag == SLOWDOWN]

    def environment_mismatches(self) -> list[str]:
        return [f"{k}: A {self.a.environment.get(k)!r}, B {self.b.environment.get(k)!r}"
                for k in SAME_ENVIRONMENT
                if self.a.environment.get(k) != self.b.environment.get(k)]

    def overlap_counts(self) -> tuple[int, int]:
        """(overlapping, compared) ratio-to-posix_spawn intervals."""
        known = [r.reference_overlap for r in self.rows if r.reference_overlap is not None]
        return sum(known), len(known)


def compare(a: RunResult, b: RunResult, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    points = [r.point for r in a.points] + [r.point for r in b.points
                                            if a.point(r.point) is None]
    methods = list(dict.fromkeys(a.methods() + b.methods()))
    rows = [_row(a, b, p, m, threshold) for p in points for m in methods]
    # The sweeps of A, with B's added where A lacks them.
    sweeps = list(a.sweeps) + [s for s in b.sweeps if s.name not in {x.name for x in a.sweeps}]
    return Comparison(a, b, threshold, rows, sweeps)


def _cell(r: Row) -> str:
    if r.ratio is None:
        return f"{NOT_COMPARED}: {r.why}"
    if r.flag == stats.NO_DIFFERENCE:
        return stats.NO_DIFFERENCE
    text = f"x{r.ratio.value:.3f} [{r.ratio.ci.low:.3f}, {r.ratio.ci.high:.3f}] {r.flag}"
    return f"**{text}**" if r.flag == SLOWDOWN else text


def to_markdown(c: Comparison, name_a: str, name_b: str) -> str:
    lines = ["# Spawn benchmark comparison: B / A",
             "",
             f"- A: {name_a} ({c.a.environment.get('series', '-')})",
             f"- B: {name_b} ({c.b.environment.get('series', '-')})",
             f"- threshold: a slowdown is flagged when the 95% interval of B/A lies "
             f"wholly above {1 + c.threshold:.3f}",
             f"- slowdowns flagged: {len(c.slowdowns)}"]
    overlapping, compared = c.overlap_counts()
    if compared:
        lines.append(f"- ratios to {REFERENCE}: {overlapping} of {compared} intervals of B "
                     "overlap A's")
    for m in c.environment_mismatches():
        lines.append(f"- **environments differ**: {m}")
    lines += ["", "A's environment:", "", *environment_lines(c.a)]
    lines += ["", "B's environment:", "", *environment_lines(c.b)]
    lines += ["", "| point | method | A median (us) | B median (us) | B / A | "
              f"ratio to {REFERENCE} overlaps |", "|---|---|---:|---:|---|---|"]
    for r in c.rows:
        ma = "-" if r.median_a is None else us(r.median_a)
        mb = "-" if r.median_b is None else us(r.median_b)
        overlap = {None: "-", True: "yes", False: "**no**"}[r.reference_overlap]
        lines.append(f"| {r.point.key} | {r.method} | {ma} | {mb} | {_cell(r)} | {overlap} |")
    return "\n".join(lines) + "\n"


def to_json(c: Comparison, name_a: str, name_b: str) -> dict[str, Any]:
    overlapping, compared = c.overlap_counts()
    return {
        "format": "spawnbench-comparison/1",
        "a": name_a, "b": name_b,
        "threshold": c.threshold,
        "slowdowns": len(c.slowdowns),
        "reference_overlap": {"overlapping": overlapping, "compared": compared},
        "environment_mismatches": c.environment_mismatches(),
        "rows": [{
            "point": r.point.key, "method": r.method, "flag": r.flag, "why": r.why,
            "median_a_ns": r.median_a, "median_b_ns": r.median_b,
            "ratio": None if r.ratio is None else round(r.ratio.value, 4),
            "ratio_ci": None if r.ratio is None else [round(x, 4) for x in r.ratio.ci.as_list()],
            "reference_overlap": r.reference_overlap,
        } for r in c.rows],
    }


def rows_for_plot(c: Comparison) -> Sequence[Row]:
    return [r for r in c.rows if r.ratio is not None]
