"""Mutation testing of the reference series: does each rule's check fail?

    python3 -m vm.mutate [--series DIR] [--mutants DIR] [--only NAME ...]
                         [--kconfig NAME ...] [--kernel-tree PATH] [--hints-only]

For each mutant (vm/mutate/mutants.py, patches/mutants/<rev>/*.yaml) the series
plus the mutant as its last patch is built through the suite's cache
(incremental: one file changes), then the guest checks run through the
suite's own pytest (vm/gate/guest_runs.py), stopping at the first failure:
first the mutant's own `checks:`, then every other check program. Writes
results/mutate-<stamp>/mutants.md and mutants.json (docs/mutation.md).
"""

import argparse
import sys
import time
from pathlib import Path

from vm.cache import Cache, contain_temporaries, locked
from vm.errors import BuildError, HarnessError, SeriesError
from vm.gate import guest_runs
from vm.guest.checks import is_check_program
from vm.kernel import apply, patchcheck, series, source
from vm.kernel.git import run_git
from vm.kernel.request import KernelRequest, build_kernel
from vm.mutate import patch
from vm.mutate.mutants import Mutant, MutantError, load_dir
from vm.mutate.report import MutantResult, Verdict, judge, write
from vm.options import DEFAULT_RESULTS_DIR, fragments_with
from vm.paths import GUEST_CHECKS_DIR, PATCHES_DIR, REPO_ROOT
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir

DEFAULT_MUTANTS = PATCHES_DIR / "mutants" / "v2"
# The revision the bundled mutants are written against.
MUTANTS_SERIES = PATCHES_DIR / "spawn-template" / "v2"


def log(message: str) -> None:
    print(f"[mutate] {message}", file=sys.stderr, flush=True)


def file_at(tree: apply.AppliedTree, path: str) -> str:
    """@path as the applied series leaves it (exact bytes as text)."""
    proc = run_git(tree.path, "show", f"{tree.commit}:{path}", check=False)
    if proc.returncode != 0:
        raise MutantError(f"{path}: not in the tree of {tree.series.title}")
    return proc.stdout


def warnings_on(build_log: Path, path: str) -> list[str]:
    """Warnings the compiler gave on the mutated file (ccache replays them);
    none when the build was skipped (no log)."""
    if not build_log.is_file():
        return []
    return patchcheck.warning_lines(build_log.read_text(errors="replace"), path)


def ordered_programs(hints: tuple[str, ...]) -> list[str]:
    """Every check program, those of the hints first (their likely killers)."""
    first = list(dict.fromkeys(h.split("::", 1)[0] for h in hints))
    rest = sorted(str(p.relative_to(REPO_ROOT)) for p in GUEST_CHECKS_DIR.glob("*.c")
                  if is_check_program(p))
    return first + [p for p in rest if p not in first]


def build_mutant(mutant: Mutant, base: series.Series, args: argparse.Namespace,
                 cache: Cache, out: Path) -> Path:
    """Write the mutated series and build it; its folder. Raises
    MutantError, SeriesError or BuildError when the mutant is broken."""
    fragments = fragments_with(args.kconfig)
    with locked(cache, log):
        src = source.resolve(args.kernel_tree, cache, log)
        before = file_at(apply.apply(src, base, log), mutant.file)
        mail = out / f"{mutant.name}.patch"
        mail.write_text(patch.mail(mutant, before))
        mutated = series.with_patch(base, mail)
        folder = guest_runs.write_series(mutated, out / "series", mutated.revision)
        build_log = out / "build.log"
        build_kernel(KernelRequest(args.kernel_tree, mutated, fragments), cache, build_log, log)
    warnings = warnings_on(build_log, mutant.file)
    if warnings:
        raise BuildError("the compiler warns: " + "; ".join(warnings[:3]))
    return folder


def run_checks(mutant: Mutant, folder: Path, args: argparse.Namespace, out: Path,
               result: MutantResult) -> None:
    """The mutant's own checks, then the others, each run stopping at the first failure."""
    opts = ["-x"] + ([f"--check-timeout={args.check_timeout}"] if args.check_timeout else [])
    if mutant.checks:
        start = time.monotonic()
        outcomes, run = guest_runs.run(str(folder), args.kconfig, args.kernel_tree,
                                       out / "guest", list(mutant.checks), out / "hinted.log",
                                       log, extra=tuple(opts))
        result.phases["hinted"] = time.monotonic() - start
        result.runs.append(str(run))
        if judge(result, outcomes) or args.hints_only:
            return
    start = time.monotonic()
    deselect = [f"--deselect={c}" for c in mutant.checks]
    outcomes, run = guest_runs.run(str(folder), args.kconfig, args.kernel_tree, out / "guest",
                                   ordered_programs(mutant.checks), out / "full.log", log,
                                   extra=(*opts, *deselect))
    result.phases["full"] = time.monotonic() - start
    result.runs.append(str(run))
    judge(result, outcomes)


def run_mutant(mutant: Mutant, base: series.Series, args: argparse.Namespace, cache: Cache,
               run_dir: Path) -> MutantResult:
    result = MutantResult(mutant.name, mutant.rule, mutant.trigger, Verdict.SURVIVED)
    out = run_dir / mutant.name
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        folder = build_mutant(mutant, base, args, cache, out)
        result.phases["build"] = time.monotonic() - start
        run_checks(mutant, folder, args, out, result)
    except MutantError as e:
        result.verdict, result.detail = Verdict.BROKEN, f"does not apply: {e}"
    except SeriesError as e:
        result.verdict, result.detail = Verdict.BROKEN, f"does not apply: {e}"
    except BuildError as e:
        result.verdict, result.detail = Verdict.BROKEN, f"does not compile cleanly: {e}"
    except HarnessError as e:
        result.verdict, result.detail = Verdict.ERROR, str(e)
    result.seconds = time.monotonic() - start
    log(f"{mutant.name}: {result.verdict.value} in {result.seconds:.0f} s"
        + (f" by {result.check}" if result.check else ""))
    return result


def exit_status(results: list[MutantResult]) -> ExitStatus:
    verdicts = {r.verdict for r in results}
    if Verdict.ERROR in verdicts:
        return ExitStatus.INFRASTRUCTURE
    if verdicts & {Verdict.SURVIVED, Verdict.BROKEN}:
        return ExitStatus.FAILED
    return ExitStatus.OK


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m vm.mutate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=str(MUTANTS_SERIES), metavar="DIR|MBOX")
    parser.add_argument("--mutants", type=Path, default=DEFAULT_MUTANTS, metavar="DIR")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument("--kconfig", action="append", default=[], metavar="NAME|FILE")
    parser.add_argument("--kernel-tree", type=Path)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument("--check-timeout", type=float, metavar="S",
                        help="passed to the guest runs (default: the suite's)")
    parser.add_argument("--hints-only", action="store_true",
                        help="run only each mutant's own checks (a quick triage; "
                        "a mutant they miss is reported as survived)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    contain_temporaries(Cache.default())
    try:
        mutants = load_dir(args.mutants, args.only)
        base = series.load(args.series)
    except (MutantError, SeriesError) as e:
        print(f"vm.mutate: error: {e}", file=sys.stderr)
        return ExitStatus.USAGE
    if not base.patches:
        print("vm.mutate: error: --series none: mutants need a series", file=sys.stderr)
        return ExitStatus.USAGE
    run_dir = new_run_dir(args.results_dir, prefix="mutate-")
    log(f"{len(mutants)} mutant(s) of {base.title}; results: {run_dir}")
    started, results = time.monotonic(), []
    meta = {"series": f"{base.title} ({args.series})", "mutants": str(args.mutants),
            "kconfig": ", ".join(fragments_with(args.kconfig)),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": "python3 -m vm.mutate " + " ".join(argv if argv is not None
                                                          else sys.argv[1:])}
    try:
        for k, mutant in enumerate(mutants, 1):
            log(f"mutant {k}/{len(mutants)}: {mutant.name} ({mutant.rule})")
            results.append(run_mutant(mutant, base, args, Cache.default(), run_dir))
            meta["total"] = f"{time.monotonic() - started:.0f} s"
            write(results, run_dir, meta)
    except KeyboardInterrupt:
        print(f"vm.mutate: interrupted; the report so far: {run_dir}", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    write(results, run_dir, meta)
    log(f"report: {run_dir / 'mutants.md'}")
    return int(exit_status(results))
