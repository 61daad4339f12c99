"""Gate a revision of a series as a maintainer's CI would.

    python3 -m vm.gate [--series DIR|MBOX] [--baseline DIR|MBOX|RESULTS_DIR]
                       [--kconfig NAME ...] [--kernel-tree PATH] [--strict]
                       [--bench [--bench-budget S] [--bench-sweeps NAMES]
                                [--bench-baseline RESULTS_DIR|JSON]]

Per patch: applies, checkpatch --strict, builds, new W=1 warnings and new
kernel-doc warnings on what it touches, the UAPI header alone. Then the
guest checks on the whole series, the first bad patch of each failing
check (bisection over prefixes), and the difference to the baseline.
--bench adds the spawn benchmark of the revision against the baseline's.
Writes results/gate-<stamp>/gate.md and gate.json; docs/gate.md has the
verdict rules, the exit statuses and the JSON schema.
"""

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from vm import preflight
from vm.bench.spawn import points
from vm.cache import Cache, contain_temporaries, locked
from vm.errors import HarnessError, SeriesError
from vm.gate import bench, guest_runs
from vm.gate.bench_report import BenchReport
from vm.gate.compare import compare
from vm.gate.first_bad import Probe, bisect
from vm.gate.report import GateResult, PatchRow, decide, load, write
from vm.gate.rows import patch_rows
from vm.guest.checks import tree_digest
from vm.kernel import patchcheck, series, source
from vm.options import DEFAULT_RESULTS_DIR, DEFAULT_SERIES, fragments_with
from vm.paths import GUEST_CHECKS_DIR, digest
from vm.results.outcomes import Outcome, Status, read_junit
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir


def log(message: str) -> None:
    print(f"[gate] {message}", file=sys.stderr, flush=True)


class UsageError(Exception):
    """Bad input, found before any build."""


class Baseline:
    """What the revision is compared with: a series (run, or found in the
    cache) or a previous gate's or run's results folder."""

    def __init__(self, spec: str):
        self.spec = spec
        self.series: series.Series | None = None
        self.report: GateResult | None = None
        self.junit: Path | None = None
        self.bench: Path | None = None  # a results folder's spawn benchmark result
        self.kernel = ""
        path = Path(spec)
        if (path / "gate.json").is_file():
            self.report = _load(path / "gate.json")
            self.kernel = self.report.kernel
            self.bench = bench.in_folder(path)
        elif (path / "junit.xml").is_file():
            self.junit = path / "junit.xml"
            self.kernel = _summary_kernel(path / "summary.json")
            self.bench = bench.in_folder(path)
        elif path.is_dir() or path.is_file():
            try:
                self.series = series.load(spec)
            except SeriesError as e:
                raise UsageError(f"--baseline {spec}: {e}") from None
        else:
            raise UsageError(f"--baseline {spec}: no such series, mbox or results folder")


def _load(path: Path) -> GateResult:
    try:
        return load(path)
    except HarnessError as e:
        raise UsageError(f"--baseline: {e}") from None


def _summary_kernel(path: Path) -> str:
    try:
        return str(json.loads(path.read_text())["kernel"])
    except (OSError, ValueError, KeyError):
        return ""


def _check_bases(full: series.Series, baseline: Baseline | None, kernel: str) -> None:
    if baseline is None:
        return
    if baseline.series is not None and full.bases and baseline.series.bases \
            and not set(full.bases) & set(baseline.series.bases):
        raise UsageError(f"--baseline {baseline.spec} is for {', '.join(baseline.series.bases)}, "
                         f"--series is for {', '.join(full.bases)}: not the same base kernel")
    if baseline.kernel and kernel and baseline.kernel.split()[0] != kernel.split()[0]:
        raise UsageError(f"--baseline {baseline.spec} ran on {baseline.kernel}, this gate "
                         f"runs on {kernel}: not the same base kernel")


# How kept outcomes name their checks (node ids, selftest programs'
# included): a change of it must not compare new names with old ones.
OUTCOMES_FORMAT = "outcomes-2"


def _stored_run(cache: Cache, base_commit: str, chosen: series.Series,
                kconfigs: list[str]) -> Path:
    """Where the guest outcomes of a series are kept: an identical run (same
    source, series, fragments and guest check sources) is not run again."""
    key = digest(OUTCOMES_FORMAT, base_commit, chosen.key, *fragments_with(kconfigs),
                 tree_digest(GUEST_CHECKS_DIR))
    return cache.root / "gate" / f"{key}.json"


def _store(path: Path, outcomes: dict[str, Outcome], folder: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run": str(folder), "outcomes": {
        k: [o.status.value, o.seconds, o.message] for k, o in outcomes.items()}}))


def _baseline_outcomes(baseline: Baseline, args: argparse.Namespace, cache: Cache,
                       base_commit: str, run_dir: Path) -> tuple[dict[str, Outcome], str]:
    if baseline.report is not None:
        return baseline.report.guest, baseline.report.guest_run
    if baseline.junit is not None:
        return read_junit(baseline.junit), str(baseline.junit.parent)
    assert baseline.series is not None
    stored = _stored_run(cache, base_commit, baseline.series, args.kconfig)
    if stored.is_file():
        data = json.loads(stored.read_text())
        log(f"baseline: the guest run of {baseline.spec} from {data['run']} (cached)")
        return ({k: Outcome(Status(v[0]), v[1], v[2]) for k, v in data["outcomes"].items()},
                data["run"])
    outcomes, folder = guest_runs.run(baseline.spec, args.kconfig, args.kernel_tree,
                                      run_dir / "guest", None, run_dir / "baseline.log", log)
    _store(stored, outcomes, folder)
    return outcomes, str(folder)


def _baseline_rows(baseline: Baseline, src: Path) -> list[PatchRow]:
    if baseline.report is not None:
        return baseline.report.rows
    if baseline.series is None:
        return []
    return [PatchRow(number=k, label=p.label, subject=patchcheck.subject(p.text),
                     checkpatch=patchcheck.run_checkpatch(src, p.text))
            for k, p in enumerate(baseline.series.patches, 1)]


def _against_baseline(rows: list[PatchRow], base_rows: list[PatchRow]) -> None:
    by_subject = {r.subject: r for r in base_rows}
    for row in rows:
        match = by_subject.get(row.subject)
        if match is None:
            row.checkpatch_new_errors = list(row.checkpatch.errors)
            continue
        row.baseline_patch = match.label
        row.baseline_counts = {"errors": len(match.checkpatch.errors),
                               "warnings": len(match.checkpatch.warnings),
                               "checks": len(match.checkpatch.checks)}
        row.checkpatch_new_errors = patchcheck.new_findings(match.checkpatch.errors,
                                                            row.checkpatch.errors)


def _bench_options(args: argparse.Namespace) -> None:
    given = (args.bench_budget, args.bench_sweeps, args.bench_baseline)
    if not args.bench and any(x is not None for x in given):
        raise UsageError("--bench-budget, --bench-sweeps and --bench-baseline go with --bench")
    if args.bench_budget is not None and args.bench_budget <= 0:
        raise UsageError(f"--bench-budget {args.bench_budget}: seconds, more than 0")
    try:
        if args.bench_sweeps is not None:
            points.for_cpus(args.bench_sweeps.split(","), 1)
        if args.bench_baseline is not None:
            bench.given(args.bench_baseline)
    except ValueError as e:
        raise UsageError(f"--bench-*: {e}") from None


def _bench(args: argparse.Namespace, baseline: Baseline | None, cache: Cache, base_commit: str,
           full: series.Series, run_dir: Path) -> BenchReport:
    request = bench.Request(args.kconfig, args.kernel_tree, args.bench_budget,
                            args.bench_sweeps)
    given: bench.Baseline | None = None
    if args.bench_baseline is not None:
        given = bench.Baseline(args.bench_baseline,
                               result=bench.given(args.bench_baseline),
                               origin="--bench-baseline")
    elif baseline is not None and baseline.series is not None:
        given = bench.Baseline(baseline.spec, store=bench.stored(
            _stored_run(cache, base_commit, baseline.series, args.kconfig)))
    elif baseline is not None:
        given = bench.Baseline(baseline.spec, result=baseline.bench)
    revision_store = bench.stored(_stored_run(cache, base_commit, full, args.kconfig))
    try:
        return bench.bench(request, args.series, revision_store, given, run_dir, log)
    except HarnessError as e:
        # Opt-in and only ever a warning: it must not hide the checks' verdict.
        log(f"gate: spawn benchmark: {e}")
        return BenchReport("", error=str(e))


def gate(args: argparse.Namespace) -> GateResult:
    _bench_options(args)
    try:
        full = series.load(args.series)
    except SeriesError as e:
        raise UsageError(str(e)) from None
    if not full.patches:
        raise UsageError("--series none: a gate needs a series with patches")
    baseline = Baseline(args.baseline) if args.baseline else None
    # The guest runs come last: a missing tool must stop the gate before its builds.
    preflight.require(preflight.BUILD_TOOLS, "gate a revision (build)")
    preflight.require(preflight.GUEST_TOOLS, "gate a revision (guest runs)")
    cache = Cache.default()
    fragments = fragments_with(args.kconfig)
    started = time.monotonic()
    with locked(cache, log):
        src = source.resolve(args.kernel_tree, cache, log)
        kernel = f"{src.version} from {src.origin}"
        _check_bases(full, baseline, kernel)
        run_dir = new_run_dir(args.results_dir, prefix="gate-")
        log(f"results: {run_dir}")
        result = GateResult(series=full.title, series_key=full.key, kernel=kernel,
                            fragments=list(fragments), baseline=args.baseline or "")
        result.rows = patch_rows(full, args.kernel_tree, fragments, cache, run_dir, log)
        base_rows = _baseline_rows(baseline, src.repo) if baseline else []
    result.seconds["per patch"] = time.monotonic() - started
    _against_baseline(result.rows, base_rows)
    if all(r.builds for r in result.rows):
        t = time.monotonic()
        result.guest, folder = guest_runs.run(args.series, args.kconfig, args.kernel_tree,
                                              run_dir / "guest", None, run_dir / "guest.log", log)
        result.guest_run = str(folder)
        # A later gate with this revision as its baseline takes it from here.
        _store(_stored_run(cache, src.base, full, args.kconfig), result.guest, folder)
        result.seconds["guest"] = time.monotonic() - t
        failing = {c: o for c, o in result.guest.items() if o.status.failing}
        if failing and not args.no_bisect:
            t = time.monotonic()
            result.first_bad, result.probes = bisect(
                failing, len(full.patches), _prefix_probe(full, args, run_dir))
            result.seconds["bisection"] = time.monotonic() - t
        if baseline is not None:
            t = time.monotonic()
            base_outcomes, result.baseline_guest_run = _baseline_outcomes(
                baseline, args, cache, src.base, run_dir)
            result.diff = compare(result.guest, base_outcomes)
            result.seconds["baseline"] = time.monotonic() - t
        if args.bench:
            # Last, the two runs back to back: the machine's drift between
            # them is the smallest it can be.
            t = time.monotonic()
            result.bench = _bench(args, baseline, cache, src.base, full, run_dir)
            result.seconds["bench"] = time.monotonic() - t
    result.seconds["total"] = time.monotonic() - started
    decide(result, args.strict)
    write(result, run_dir)
    log(f"report: {run_dir / 'gate.md'}")
    return result


def _prefix_probe(full: series.Series, args: argparse.Namespace, run_dir: Path) -> Probe:
    def probe(k: int, checks: list[str]) -> dict[str, Outcome]:
        prefix = replace(full, patches=full.patches[:k])
        folder = guest_runs.write_series(prefix, run_dir / "prefixes" / f"{k:02d}",
                                         f"{full.revision}-1..{k}")
        outcomes, _ = guest_runs.run(str(folder), args.kconfig, args.kernel_tree,
                                     run_dir / "guest", checks,
                                     run_dir / f"probe-{k:02d}.log", log)
        return outcomes
    return probe


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m vm.gate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=str(DEFAULT_SERIES), metavar="DIR|MBOX")
    parser.add_argument("--baseline", metavar="DIR|MBOX|RESULTS_DIR",
                        help="the previous revision, or a gate's or run's results folder")
    parser.add_argument("--kconfig", action="append", default=[], metavar="NAME|FILE")
    parser.add_argument("--kernel-tree", type=Path)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument("--strict", action="store_true",
                        help="any failure fails: a check still failing, any checkpatch "
                        "error, a new kernel-doc warning")
    parser.add_argument("--no-bisect", action="store_true",
                        help="do not look for the first bad patch of failing checks")
    parser.add_argument("--bench", action="store_true",
                        help="also run the spawn benchmark on the revision and the baseline "
                        "and compare them; slowdowns are warnings (failures with --strict)")
    parser.add_argument("--bench-budget", type=float, default=None, metavar="S",
                        help="seconds per benchmark run (default: vm.spawnbench's)")
    parser.add_argument("--bench-sweeps", default=None, metavar="NAMES",
                        help=f"comma-separated, of {','.join(points.SWEEP_NAMES)} "
                        "(default: all)")
    parser.add_argument("--bench-baseline", default=None, metavar="RESULTS_DIR|JSON",
                        help="the baseline's spawn benchmark result, instead of running "
                        "it (a vm.spawnbench run's or a gate's results folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    contain_temporaries(Cache.default())
    try:
        result = gate(args)
    except UsageError as e:
        print(f"vm.gate: error: {e}", file=sys.stderr)
        return ExitStatus.USAGE
    except KeyboardInterrupt:
        print("vm.gate: interrupted (the cache stays usable; run again)", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except HarnessError as e:
        print(f"vm.gate: infrastructure error: {e}", file=sys.stderr)
        return ExitStatus.INFRASTRUCTURE
    verdict = "PASS" if result.status is ExitStatus.OK else "FAIL"
    print(f"gate: {verdict} ({result.status.name.lower()}, exit {int(result.status)})")
    for reason in result.reasons:
        print(f"  {reason}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return int(result.status)
