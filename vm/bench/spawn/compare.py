"""Two runs compared (A, the base, and B, for example v1 and v2 of the
series): per point and method, the ratio B/A of the medians with its 95%
bootstrap interval, recomputed from both runs' samples.

A slowdown is flagged only when the whole interval lies above
1 + threshold (default 5%): slower beyond noise *and* by more than the
threshold. An interval that holds 1.0 is "no measurable difference".

Two runs on one machine also differ by the machine's drift (load, another
boot, TCG's translation cache): every method moves together. So each row
also has the *normalized* B/A, the change of the method's ratio to
posix_spawn, which divides that drift out (but also hides a change that
slows posix_spawn as much). `--flag-on normalized` flags on it instead.

Only points both runs measured are compared: the others are named, not
rowed (a run before the threads sweep followed the guest's CPUs has
threads=8, a later one on the same 2-CPU guest stops at 4).

It also says whether each method's ratio to posix_spawn in B overlaps the
same ratio in A: for two runs of one kernel every one should (the
repeatability check of docs/benchmarks.md); only when both intervals are
of one kind (both over passes, or both pooled).

Runs measured in passes (both, at least stats.MIN_PASSES) are compared
over their passes instead: B/A of the medians of the per-pass medians,
normalized B/A of the medians of the per-pass ratios, each with an
approximate percentile bootstrap over the passes (stats.pass_quotient).
The medians shown are the pooled ones.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vm.bench.spawn import hostload, stats
from vm.bench.spawn.data import MethodResult, PointResult, RunResult
from vm.bench.spawn.points import REFERENCE, Point, Sweep
from vm.bench.spawn.table import environment_lines, us

DEFAULT_THRESHOLD = 0.05

SLOWDOWN = "SLOWDOWN"
SLOWER_WITHIN = "slower, within the threshold"
NOT_COMPARED = "not compared"
IS_REFERENCE = "reference"  # posix_spawn's own row when flagging on normalized ratios

# Environment entries that should match for a comparison to mean something.
SAME_ENVIRONMENT = ("accelerator", "guest_cpus", "guest_memory", "host_cpu")


@dataclass(frozen=True)
class Row:
    point: Point
    method: str
    ratio: stats.Ratio | None  # B / A
    flag: str  # SLOWDOWN, SLOWER_WITHIN, FASTER, NO_DIFFERENCE, NOT_COMPARED, IS_REFERENCE
    why: str = ""  # when not compared
    median_a: float | None = None
    median_b: float | None = None
    reference_overlap: bool | None = None  # ratio-to-posix_spawn intervals overlap
    normalized: stats.Ratio | None = None  # B/A of the method's ratio to posix_spawn


def machine_mismatches(a: RunResult, b: RunResult) -> list[str]:
    """Where the two runs' machines or guests differ."""
    return [f"{k}: A {a.environment.get(k)!r}, B {b.environment.get(k)!r}"
            for k in SAME_ENVIRONMENT if a.environment.get(k) != b.environment.get(k)]


def busy_host(run: RunResult, name: str) -> list[str]:
    """One line when the run's host was busy with other work."""
    other = hostload.busy(run.environment)
    return [] if other is None else [
        f"host_other_cpus: {name}'s host was busy, other work used {other} CPUs on "
        "average while it measured"]


def environment_mismatches(a: RunResult, b: RunResult) -> list[str]:
    """What makes the two runs not comparable: a different machine or
    guest, or a host busy with other work while either measured."""
    return machine_mismatches(a, b) + busy_host(a, "A") + busy_host(b, "B")


def flag_of(r: stats.Ratio, threshold: float) -> str:
    if r.ci.low > 1.0 + threshold:
        return SLOWDOWN
    if r.ci.contains(1.0):
        return stats.NO_DIFFERENCE
    return stats.FASTER if r.ci.high < 1.0 else SLOWER_WITHIN


ABSOLUTE = "absolute"
NORMALIZED = "normalized"


def _in_passes(pa: PointResult, pb: PointResult, method: str) -> bool:
    """Both runs measured the method in enough passes for pass statistics."""
    return all(len(p.method(method).by_pass()) >= stats.MIN_PASSES for p in (pa, pb))


def _pass_medians(m: MethodResult) -> list[float]:
    return [float(statistics.median(x)) for x in m.by_pass() if x]


def _row(a: RunResult, b: RunResult, point: Point, method: str, threshold: float,
         flag_on: str) -> Row:
    pa, pb = a.point(point), b.point(point)
    assert pa is not None and pb is not None  # compare() rows only common points
    ma, mb = pa.method(method), pb.method(method)
    sa, sb = ma.summary(), mb.summary()
    if sa is None or sb is None:
        which, m = ("A", ma) if sa is None else ("B", mb)
        return Row(point, method, None, NOT_COMPARED,
                   f"{which}: {m.status}" + (f" ({m.detail})" if m.detail else ""))
    in_passes = _in_passes(pa, pb, method)
    if in_passes:
        r = stats.pass_quotient(_pass_medians(mb), _pass_medians(ma))
    else:
        r = stats.ratio(mb.samples, ma.samples)
    overlap, normalized = None, None
    ra, rb = pa.ratio(method), pb.ratio(method)
    if method != REFERENCE and ra is not None and rb is not None:
        pass_a, pass_b = pa.pass_ratios(method), pb.pass_ratios(method)
        # Only intervals of one kind: a pass interval is wider than a
        # pooled one, and would make the overlap count say too much.
        if (pass_a is None) == (pass_b is None):
            overlap = ra.ci.overlaps(rb.ci)
        if pass_a is not None and pass_b is not None:
            normalized = stats.pass_quotient(pass_b, pass_a)
        else:
            normalized = stats.normalized_ratio(mb.samples, pb.method(REFERENCE).samples,
                                                ma.samples, pa.method(REFERENCE).samples)
    flagged = normalized if flag_on == NORMALIZED else r
    if flagged is not None:
        flag = flag_of(flagged, threshold)
    else:
        flag = IS_REFERENCE if method == REFERENCE else NOT_COMPARED
    return Row(point, method, r, flag, "", sa.median, sb.median, overlap, normalized)


@dataclass(frozen=True)
class Comparison:
    a: RunResult
    b: RunResult
    threshold: float
    rows: list[Row]
    sweeps: list[Sweep]
    flag_on: str = ABSOLUTE
    only_in_a: list[Point] = field(default_factory=list)
    only_in_b: list[Point] = field(default_factory=list)

    @property
    def slowdowns(self) -> list[Row]:
        return [r for r in self.rows if r.flag == SLOWDOWN]

    def environment_mismatches(self) -> list[str]:
        return environment_mismatches(self.a, self.b)

    def overlap_counts(self) -> tuple[int, int]:
        """(overlapping, compared) ratio-to-posix_spawn intervals."""
        known = [r.reference_overlap for r in self.rows if r.reference_overlap is not None]
        return sum(known), len(known)


def compare(a: RunResult, b: RunResult, threshold: float = DEFAULT_THRESHOLD,
            flag_on: str = ABSOLUTE) -> Comparison:
    if flag_on not in (ABSOLUTE, NORMALIZED):
        raise ValueError(f"flag_on: {flag_on!r}")
    common = [r.point for r in a.points if b.point(r.point) is not None]
    in_both = set(common)
    methods = list(dict.fromkeys(a.methods() + b.methods()))
    rows = [_row(a, b, p, m, threshold, flag_on) for p in common for m in methods]
    # The sweeps of A, with B's added where A lacks them, cut to the common points.
    sweeps = [replace(s, points=tuple(p for p in s.points if p in in_both))
              for s in list(a.sweeps) + [s for s in b.sweeps
                                         if s.name not in {x.name for x in a.sweeps}]]
    return Comparison(a, b, threshold, rows, [s for s in sweeps if s.points], flag_on,
                      [r.point for r in a.points if r.point not in in_both],
                      [r.point for r in b.points if a.point(r.point) is None])


def _cell(ratio: stats.Ratio | None, flag: str) -> str:
    if ratio is None:
        return "-"
    if flag == stats.NO_DIFFERENCE:
        return stats.NO_DIFFERENCE
    text = f"x{ratio.value:.3f} [{ratio.ci.low:.3f}, {ratio.ci.high:.3f}] {flag}"
    return f"**{text}**" if flag == SLOWDOWN else text


def _cells(r: Row, c: "Comparison") -> tuple[str, str]:
    """The absolute and the normalized B/A, the flagged one with its flag."""
    if r.ratio is None:
        return f"{NOT_COMPARED}: {r.why}", "-"
    absolute = _cell(r.ratio, r.flag if c.flag_on == ABSOLUTE else
                     flag_of(r.ratio, c.threshold))
    normalized = "-" if r.normalized is None else _cell(
        r.normalized, r.flag if c.flag_on == NORMALIZED else flag_of(r.normalized, c.threshold))
    return absolute, normalized


def to_markdown(c: Comparison, name_a: str, name_b: str) -> str:
    lines = ["# Spawn benchmark comparison: B / A",
             "",
             f"- A: {name_a}: {c.a.environment.get('series', '-')}",
             f"- B: {name_b}: {c.b.environment.get('series', '-')}",
             f"- threshold: a slowdown is flagged when the 95% interval of the "
             f"{c.flag_on} B/A lies wholly above {1 + c.threshold:.3f}",
             f"- slowdowns flagged: {len(c.slowdowns)}"]
    overlapping, compared = c.overlap_counts()
    if compared:
        lines.append(f"- ratios to {REFERENCE}: {overlapping} of {compared} intervals of B "
                     "overlap A's")
    for which, only in (("A", c.only_in_a), ("B", c.only_in_b)):
        if only:
            lines.append(f"- not compared, measured in {which} only: "
                         + "; ".join(p.key for p in only))
    for m in c.environment_mismatches():
        lines.append(f"- **environments differ**: {m}")
    lines += ["", "A's environment:", "", *environment_lines(c.a)]
    lines += ["", "B's environment:", "", *environment_lines(c.b)]
    lines += ["", f"B / A: of the medians (absolute); of the ratios to {REFERENCE} "
              "(normalized, each run's drift divided out).",
              "", "| point | method | A median (us) | B median (us) | B / A absolute | "
              f"B / A normalized | ratio to {REFERENCE} overlaps |",
              "|---|---|---:|---:|---|---|---|"]
    for r in c.rows:
        ma = "-" if r.median_a is None else us(r.median_a)
        mb = "-" if r.median_b is None else us(r.median_b)
        overlap = {None: "-", True: "yes", False: "**no**"}[r.reference_overlap]
        absolute, normalized = _cells(r, c)
        lines.append(f"| {r.point.key} | {r.method} | {ma} | {mb} | {absolute} | "
                     f"{normalized} | {overlap} |")
    return "\n".join(lines) + "\n"


def to_json(c: Comparison, name_a: str, name_b: str) -> dict[str, Any]:
    overlapping, compared = c.overlap_counts()
    return {
        "format": "spawnbench-comparison/1",
        "a": name_a, "b": name_b,
        "threshold": c.threshold,
        "flag_on": c.flag_on,
        "slowdowns": len(c.slowdowns),
        "reference_overlap": {"overlapping": overlapping, "compared": compared},
        "environment_mismatches": c.environment_mismatches(),
        "only_in_a": [p.key for p in c.only_in_a],
        "only_in_b": [p.key for p in c.only_in_b],
        "rows": [{
            "point": r.point.key, "method": r.method, "flag": r.flag, "why": r.why,
            "median_a_ns": r.median_a, "median_b_ns": r.median_b,
            "ratio": None if r.ratio is None else round(r.ratio.value, 4),
            "ratio_ci": None if r.ratio is None else [round(x, 4) for x in r.ratio.ci.as_list()],
            "normalized": None if r.normalized is None else round(r.normalized.value, 4),
            "normalized_ci": None if r.normalized is None else
            [round(x, 4) for x in r.normalized.ci.as_list()],
            "reference_overlap": r.reference_overlap,
        } for r in c.rows],
    }


def rows_for_plot(c: Comparison) -> Sequence[Row]:
    return [r for r in c.rows if r.ratio is not None]
