"""python3 -m vm.spawnbench run|compare|report (see docs/benchmarks.md).

    run      build (or reuse) the kernel, boot it once, measure every sweep;
             writes results/<run>/bench/: spawnbench.json, spawnbench.md,
             time_vs_*.png/svg
    compare  A.json B.json: B / A per method and point; writes compare.md,
             compare.json, compare.png/svg; exit status 1 when a slowdown
             beyond the threshold is flagged
    report   RESULTS.json: the table and plots again, from a result file
"""

import argparse
import os
import sys
import time
from pathlib import Path

from vm.bench.spawn import compare, data, plan, plots, points, session, stats, table
from vm.cache import Cache, contain_temporaries
from vm.errors import BuildError, ConfigError, HarnessError, SeriesError
from vm.options import DEFAULT_RESULTS_DIR, DEFAULTS, fragments_with
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir

OUTPUT_DIR = "bench"
RESULT_JSON = "spawnbench.json"


def log(message: str) -> None:
    print(f"[spawnbench] {message}", file=sys.stderr, flush=True)


def write_report(run: data.RunResult, out_dir: Path, with_plots: bool = True) -> list[Path]:
    """JSON, Markdown table and plots of a run into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / RESULT_JSON, out_dir / "spawnbench.md"]
    data.write(run, written[0])
    written[1].write_text(table.to_markdown(run))
    if with_plots:
        try:
            written += plots.plot_run(run, out_dir)
        except RuntimeError as e:
            log(f"no plots: {e}")
    return written


def cmd_run(args: argparse.Namespace) -> int:
    names = tuple(args.sweeps.split(","))
    try:
        points.for_cpus(names, 1)  # the threads sweep waits for the guest's CPU count
    except ValueError as e:
        log(f"--sweeps: {e}")
        return ExitStatus.USAGE
    if args.passes < 1:
        log(f"--passes: {args.passes}: at least 1")
        return ExitStatus.USAGE
    methods = tuple(args.methods.split(","))
    unknown = set(methods) - set(points.METHODS)
    if unknown or points.REFERENCE not in methods:
        log(f"--methods: unknown {sorted(unknown)} or {points.REFERENCE} missing "
            f"(known: {', '.join(points.METHODS)})")
        return ExitStatus.USAGE
    settings = session.Settings(budget_s=args.budget, target=args.target,
                                pilot_samples=args.pilot_samples,
                                min_samples=args.min_samples, max_samples=args.max_samples,
                                methods=methods, passes=args.passes)
    options = session.bench_options(
        kernel_tree=args.kernel_tree, series=args.series,
        kconfigs=fragments_with(args.kconfig), no_build=args.no_build, accel=args.accel,
        guest_memory=args.guest_memory, guest_cpus=args.guest_cpus)
    run_dir = new_run_dir(args.results_dir)
    log(f"results: {run_dir}")
    try:
        if args.on_host:
            run = session.run_on_host(names, settings, log)
        else:
            run = session.run(options, names, settings, run_dir, log)
    except (BuildError, ConfigError, SeriesError) as e:
        log(str(e))
        return ExitStatus.REVISION_BROKEN
    except (HarnessError, RuntimeError, FileNotFoundError) as e:
        log(str(e))
        return ExitStatus.INFRASTRUCTURE
    for path in write_report(run, run_dir / OUTPUT_DIR, not args.no_plots):
        log(f"wrote {path}")
    errors = [r for r in run.points if r.error]
    sys.stdout.write(table.to_markdown(run))
    if errors:
        log(f"{len(errors)} point(s) failed: see the table")
        return ExitStatus.FAILED
    return ExitStatus.OK


def write_comparison(c: compare.Comparison, name_a: str, name_b: str, out_dir: Path,
                     with_plots: bool = True) -> list[Path]:
    """compare.md, compare.json and the plot of a comparison into out_dir
    (the gate's --bench writes its own with this too)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "compare.md", out_dir / "compare.json"]
    written[0].write_text(compare.to_markdown(c, name_a, name_b))
    written[1].write_text(data.dumps(compare.to_json(c, name_a, name_b)))
    if with_plots:
        try:
            written += plots.plot_comparison(
                compare.rows_for_plot(c), c.sweeps, c.threshold,
                f"B / A: {c.b.environment.get('series', '-')} over "
                f"{c.a.environment.get('series', '-')}", out_dir)
        except RuntimeError as e:
            log(f"no plot: {e}")
    return written


def cmd_compare(args: argparse.Namespace) -> int:
    try:
        a, b = data.read(args.a), data.read(args.b)
    except ValueError as e:
        log(str(e))
        return ExitStatus.USAGE
    c = compare.compare(a, b, args.threshold, args.flag_on)
    out_dir = args.output or (DEFAULT_RESULTS_DIR / time.strftime("compare-%Y%m%d-%H%M%S"))
    written = write_comparison(c, str(args.a), str(args.b), out_dir, not args.no_plots)
    sys.stdout.write(written[0].read_text())
    for path in written:
        log(f"wrote {path}")
    if c.slowdowns:
        log(f"{len(c.slowdowns)} slowdown(s) beyond {100 * c.threshold:.1f}%")
        return ExitStatus.FAILED
    return ExitStatus.OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        run = data.read(args.result)
    except ValueError as e:
        log(str(e))
        return ExitStatus.USAGE
    out_dir = args.output or args.result.parent
    written = [out_dir / "spawnbench.md"]
    out_dir.mkdir(parents=True, exist_ok=True)
    written[0].write_text(table.to_markdown(run))
    if not args.no_plots:
        try:
            written += plots.plot_run(run, out_dir)
        except RuntimeError as e:
            log(f"no plots: {e}")
    for path in written:
        log(f"wrote {path}")
    return ExitStatus.OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m vm.spawnbench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="measure in a guest")
    # None: the default series, or with --no-build the last build's (vm/options.py).
    r.add_argument("--series", default=None, metavar="DIR|MBOX|none")
    r.add_argument("--kernel-tree", type=Path, default=None, metavar="PATH")
    r.add_argument("--kconfig", action="append", default=[], metavar="NAME|FILE")
    r.add_argument("--no-build", action="store_true", help="use the last build as is")
    r.add_argument("--accel", choices=("auto", "kvm", "tcg"), default=DEFAULTS.accel)
    r.add_argument("--guest-memory", default="2G")
    r.add_argument("--guest-cpus", type=int, default=DEFAULTS.guest_cpus)
    r.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR, metavar="DIR")
    r.add_argument("--sweeps", default=",".join(points.SWEEP_NAMES),
                   help="comma-separated (default: all: %(default)s)")
    r.add_argument("--methods", default=",".join(points.METHODS),
                   help="comma-separated; must include posix_spawn (default: all)")
    r.add_argument("--budget", type=float, default=session.Settings.budget_s, metavar="S",
                   help="seconds for boot, pilots and points (default: %(default)s)")
    r.add_argument("--target", type=float, default=plan.DEFAULT_TARGET,
                   help="wanted half-width of the median's 95%% interval, relative "
                   "(default: %(default)s)")
    r.add_argument("--pilot-samples", type=int, default=plan.DEFAULT_PILOT)
    r.add_argument("--min-samples", type=int, default=plan.DEFAULT_MIN)
    r.add_argument("--max-samples", type=int, default=plan.DEFAULT_MAX)
    r.add_argument("--passes", type=int, default=stats.MIN_PASSES,
                   help="run the sweep this many times, each point once a pass; the "
                   f"ratios' intervals are over passes from {stats.MIN_PASSES} on "
                   "(default: %(default)s)")
    r.add_argument("--no-plots", action="store_true")
    r.add_argument("--on-host", action="store_true",
                   help="no kernel, no guest: run the program on this machine's kernel "
                   "(to try the harness; the figures are the host's)")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("compare", help="B / A of two result files")
    c.add_argument("a", type=Path, metavar="A.json")
    c.add_argument("b", type=Path, metavar="B.json")
    c.add_argument("--threshold", type=float, default=compare.DEFAULT_THRESHOLD,
                   help="flag a slowdown when B/A's interval lies wholly above "
                   "1 + this (default: %(default)s)")
    c.add_argument("--flag-on", choices=(compare.ABSOLUTE, compare.NORMALIZED),
                   default=compare.ABSOLUTE,
                   help="flag on B/A of the medians (absolute), or of each method's "
                   "ratio to posix_spawn (normalized: the runs' drift divided out) "
                   "(default: %(default)s)")
    c.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="default: results/compare-<time>/")
    c.add_argument("--no-plots", action="store_true")
    c.set_defaults(func=cmd_compare)

    t = sub.add_parser("report", help="table and plots again from a result file")
    t.add_argument("result", type=Path, metavar="RESULTS.json")
    t.add_argument("-o", "--output", type=Path, default=None, metavar="DIR")
    t.add_argument("--no-plots", action="store_true")
    t.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("LC_ALL", "C")
    contain_temporaries(Cache.default())
    status: int = args.func(args)
    return status
