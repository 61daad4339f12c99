"""A benchmark run as data: every point's raw samples per method, and the
JSON file (results/<run>/bench/spawnbench.json) that holds them.

The samples are the record; medians, intervals and ratios are computed
from them (stats.py) and written next to them for readers, and computed
again when a file is read, so that a comparison never trusts a summary it
cannot reproduce.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vm.bench.spawn import stats
from vm.bench.spawn.points import METHODS, REFERENCE, Point, Sweep

FORMAT = "spawnbench-results/1"

OK = "ok"
UNAVAILABLE = "unavailable"  # the kernel (or libc) lacks the method: ENOSYS
FAILED = "failed"  # a start failed, or the point's run did not finish
MISSING = "missing"  # the method was not measured at that point


@dataclass
class MethodResult:
    status: str
    detail: str = ""
    samples: list[int] = field(default_factory=list)  # ns per start, threads pooled
    pass_sizes: list[int] = field(default_factory=list)  # samples of each pass, in order

    def summary(self) -> stats.Summary | None:
        if self.status != OK or not self.samples:
            return None
        return stats.summarize(self.samples)

    def by_pass(self) -> list[list[int]]:
        """The samples of each pass (one pass when not measured in passes)."""
        if sum(self.pass_sizes) != len(self.samples) or not self.pass_sizes:
            return [self.samples]
        out, start = [], 0
        for size in self.pass_sizes:
            out.append(self.samples[start:start + size])
            start += size
        return out


@dataclass
class PointResult:
    point: Point
    samples_per_thread: int = 0
    seconds: float = 0.0  # the guest command's wall time
    info: dict[str, str] = field(default_factory=dict)  # what the program reported
    error: str = ""  # why the point has no usable result
    methods: dict[str, MethodResult] = field(default_factory=dict)
    _ratios: dict[str, stats.Ratio | None] = field(default_factory=dict, repr=False)

    def method(self, name: str) -> MethodResult:
        return self.methods.get(name, MethodResult(MISSING))

    def ratio(self, name: str) -> stats.Ratio | None:
        """The method's median over posix_spawn's, when both were measured:
        over passes when there are enough (stats.pass_ratio), else from
        the pooled samples."""
        if name not in self._ratios:
            mine, ref = self.method(name), self.method(REFERENCE)
            r = None
            if mine.summary() and ref.summary():
                r = (stats.pass_ratio(mine.by_pass(), ref.by_pass())
                     or stats.ratio(mine.samples, ref.samples))
            self._ratios[name] = r
        return self._ratios[name]

    def pass_ratios(self, name: str) -> list[float] | None:
        """The method's ratio to posix_spawn in each pass; None when ratio()
        is not taken over passes."""
        mine, ref = self.method(name), self.method(REFERENCE)
        if not (mine.summary() and ref.summary()):
            return None
        return stats.pass_ratios(mine.by_pass(), ref.by_pass())

    @property
    def passes(self) -> int:
        return max((len(m.pass_sizes) for m in self.methods.values()), default=0) or 1


def merge_passes(results: list[PointResult]) -> PointResult:
    """One point measured in several passes, as one result: samples
    concatenated in pass order, pass sizes kept; a method that was not OK
    in some pass takes that pass's status, and a pass that failed (a
    kernel report, a timeout) fails the point, as a one-pass run would."""
    first = results[0]
    merged = PointResult(first.point, sum(r.samples_per_thread for r in results),
                         sum(r.seconds for r in results),
                         dict(next((r.info for r in results if r.info), {})),
                         next((r.error for r in results if r.error), ""))
    for name in first.methods:
        parts = [r.method(name) for r in results]
        bad = next((m for m in parts if m.status != OK), None)
        if bad is not None:
            merged.methods[name] = MethodResult(bad.status, bad.detail)
            continue
        merged.methods[name] = MethodResult(OK, "", [x for m in parts for x in m.samples],
                                            [len(m.samples) for m in parts])
    return merged


@dataclass
class RunResult:
    environment: dict[str, Any]
    settings: dict[str, Any]
    sweeps: list[Sweep]
    points: list[PointResult]

    def point(self, p: Point) -> PointResult | None:
        return next((r for r in self.points if r.point == p), None)

    def methods(self) -> list[str]:
        """Every method any point mentions, in the program's order."""
        seen = {m for r in self.points for m in r.methods}
        return [m for m in METHODS if m in seen] + sorted(seen - set(METHODS))


def _interval(ci: stats.Interval | None) -> list[float] | None:
    return None if ci is None else [round(x, 1) for x in ci.as_list()]


def _method_json(point: PointResult, name: str, m: MethodResult) -> dict[str, Any]:
    out: dict[str, Any] = {"status": m.status}
    if m.detail:
        out["detail"] = m.detail
    s = m.summary()
    if s is not None:
        out.update(n=s.n, median_ns=round(s.median, 1), ci_ns=_interval(s.ci),
                   rel_halfwidth=None if s.rel_halfwidth is None else round(s.rel_halfwidth, 4),
                   mean_ns=round(s.mean, 1), min_ns=s.minimum, max_ns=s.maximum)
        r = point.ratio(name)
        if r is not None and name != REFERENCE:
            out[f"ratio_to_{REFERENCE}"] = round(r.value, 4)
            out["ratio_ci"] = [round(x, 4) for x in r.ci.as_list()]
            out["verdict"] = r.verdict
    out["samples_ns"] = m.samples
    if len(m.pass_sizes) > 1:
        out["pass_sizes"] = m.pass_sizes
    return out


def to_json(run: RunResult) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "environment": run.environment,
        "settings": run.settings,
        "sweeps": [{"name": s.name, "parameter": s.parameter, "label": s.label,
                    "points": [p.key for p in s.points]} for s in run.sweeps],
        "points": [{
            "key": r.point.key,
            "params": r.point.to_json(),
            "samples_per_thread": r.samples_per_thread,
            "seconds": round(r.seconds, 2),
            "info": r.info,
            "error": r.error,
            "methods": {name: _method_json(r, name, m) for name, m in r.methods.items()},
        } for r in run.points],
    }


def from_json(data: dict[str, Any]) -> RunResult:
    if data.get("format") != FORMAT:
        raise ValueError(f"not a spawn benchmark result ({FORMAT}): "
                         f"format {data.get('format')!r}")
    points = []
    by_key: dict[str, Point] = {}
    for p in data["points"]:
        point = Point.from_json(p["params"])
        by_key[p["key"]] = point
        methods = {name: MethodResult(m["status"], m.get("detail", ""),
                                      [int(x) for x in m.get("samples_ns", [])],
                                      [int(x) for x in m.get("pass_sizes", [])])
                   for name, m in p["methods"].items()}
        points.append(PointResult(point, int(p.get("samples_per_thread", 0)),
                                  float(p.get("seconds", 0.0)),
                                  {str(k): str(v) for k, v in p.get("info", {}).items()},
                                  str(p.get("error", "")), methods))
    sweeps = [Sweep(s["name"], s["parameter"], s["label"],
                    tuple(by_key[k] for k in s["points"] if k in by_key))
              for s in data.get("sweeps", [])]
    return RunResult(dict(data.get("environment", {})), dict(data.get("settings", {})),
                     sweeps, points)


# A list of numbers, spread one a line by json's indent.
_NUMBER_LIST = re.compile(r"\[\s*([-+\d.eE,\s]+?)\s*\]")


def dumps(data: dict[str, Any]) -> str:
    """Indented JSON with each list of numbers on one line."""
    text = json.dumps(data, indent=1)
    return _NUMBER_LIST.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def write(run: RunResult, path: Path) -> None:
    path.write_text(dumps(to_json(run)))


def read(path: Path) -> RunResult:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: {e}") from e
    try:
        return from_json(data)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from e
