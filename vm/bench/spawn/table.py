"""The run's Markdown table (results/<run>/bench/spawnbench.md)."""

from vm.bench.spawn import stats
from vm.bench.spawn.data import OK, PointResult, RunResult
from vm.bench.spawn.points import REFERENCE, Point


def us(ns: float) -> str:
    """ns as microseconds, 3-4 significant digits."""
    v = ns / 1000
    return f"{v:.0f}" if v >= 1000 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def ratio_text(r: stats.Ratio) -> str:
    """A ratio with its interval, or the words when the interval holds 1.0."""
    if r.verdict == stats.NO_DIFFERENCE:
        return stats.NO_DIFFERENCE
    return f"x{r.value:.3f} [{r.ci.low:.3f}, {r.ci.high:.3f}] {r.verdict}"


def environment_lines(run: RunResult) -> list[str]:
    env = run.environment
    keys = [("accelerator", "accelerator"), ("kernel", "kernel"), ("series", "series"),
            ("booted", "build"), ("guest_cpus", "guest CPUs"),
            ("guest_mem_total_kib", "guest MemTotal (KiB)"), ("host_cpu", "host CPU"),
            ("host_cpus", "host CPUs"),
            ("host_other_cpus", "other host work while measuring (CPUs)"),
            ("host_steal_cpus", "steal time while measuring (CPUs)"),
            ("date", "date (UTC)"), ("suite_commit", "suite")]
    lines = [f"- {label}: {env[k]}" for k, label in keys if k in env]
    s = run.settings
    if s:
        lines.append("- settings: " + ", ".join(f"{k} {v}" for k, v in s.items()))
    if str(env.get("accelerator", "")).lower() == "tcg":
        lines.append("- **TCG**: QEMU emulates the CPU; absolute times and the ratios "
                     "between methods are not those of hardware (docs/benchmarks.md)")
    return lines


def _row(point: PointResult, x: str, name: str) -> str:
    m = point.method(name)
    s = m.summary()
    if m.status != OK or s is None:
        what = m.status + (f": {m.detail}" if m.detail else "")
        return f"| {x} | {name} | - | - | - | - | {what} |"
    ci = "-" if s.ci is None else f"{us(s.ci.low)}-{us(s.ci.high)}"
    hw = "-" if s.rel_halfwidth is None else f"{100 * s.rel_halfwidth:.1f}"
    if name == REFERENCE:
        versus = "reference"
    else:
        r = point.ratio(name)
        versus = "-" if r is None else ratio_text(r)
    return f"| {x} | {name} | {s.n} | {us(s.median)} | {ci} | {hw} | {versus} |"


def _value(p: Point, parameter: str) -> str:
    return str(p.to_json()[parameter])


def _ratio_method(run: RunResult) -> str:
    passes = max((r.passes for r in run.points), default=1)
    if passes < stats.MIN_PASSES:
        return "the ratio of medians and its 95% bootstrap interval"
    return (f"measured in {passes} passes over the run, the median of the {passes} pass "
            "ratios (each a ratio of medians) and its order-statistic interval (coverage "
            f"{100 * stats.coverage(passes):.1f}%; [min, max] for 6 to 8 passes)")


def to_markdown(run: RunResult) -> str:
    title = run.environment.get("series", "-")
    lines = [
        f"# Spawn benchmark: {title}", "", *environment_lines(run), "",
        "Time per start: from the start call to the parent's waitpid() return, the child "
        "being bench_true (static, no libc). Median of n samples (threads pooled) and its "
        "95% interval (order statistics); +-% is the interval's larger half over the median. "
        f"Against {REFERENCE}: {_ratio_method(run)}, "
        f"\"{stats.NO_DIFFERENCE}\" when the interval contains 1.0.",
    ]
    methods = run.methods()
    for sweep in run.sweeps:
        lines += ["", f"## {sweep.name}: {sweep.label}", "",
                  f"| {sweep.parameter} | method | n | median (us) | 95% CI (us) | +-% "
                  f"| vs {REFERENCE} |",
                  "|---:|---|---:|---:|---|---:|---|"]
        for p in sweep.points:
            result = run.point(p)
            x = _value(p, sweep.parameter)
            if result is None:
                lines.append(f"| {x} | - | - | - | - | - | not measured |")
                continue
            if result.error:
                lines.append(f"| {x} | - | - | - | - | - | error: "
                             f"{result.error.splitlines()[0][:200]} |")
            lines += [_row(result, x, name) for name in methods]
    return "\n".join(lines) + "\n"
